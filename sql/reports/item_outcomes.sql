-- Which items of the batch succeeded or failed, and why? One row per item
-- in item-list order: outcome, cause (a class for grouping), reason (the
-- words), failing stage, attempts, the job id and log file to look at.
SELECT item, outcome, cause, reason, stage, attempts, job_id, log_file, log_state, ignorable
FROM item_outcome
WHERE batch_id = :batch
ORDER BY line, item;
