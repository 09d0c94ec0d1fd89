-- Which items of the batch should be submitted again, and why? Every item
-- whose latest attempt failed, ended without an outcome line, or whose
-- pipeline log is missing.
SELECT item, outcome, cause, stage, reason, attempts
FROM item_outcome
WHERE batch_id = :batch AND outcome IN ('failed', 'silent', 'log_missing')
ORDER BY line, item;
