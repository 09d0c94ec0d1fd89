-- At which stage, and for what kind of reason, did the batch's items fail?
-- One row per (stage, cause) with the number of items and up to five
-- example items.
WITH f AS (
  SELECT stage, cause, item,
         row_number() OVER (PARTITION BY stage, cause ORDER BY line, item) AS rn
  FROM item_outcome
  WHERE batch_id = :batch AND outcome IN ('failed', 'silent', 'log_missing')
)
SELECT stage, cause, count(*) AS items,
       group_concat(CASE WHEN rn <= 5 THEN item END, ' ') AS example_items
FROM f
GROUP BY stage, cause
ORDER BY items DESC, stage, cause;
