-- How long did each kind of job run in the batch? Per parent job name:
-- allocations that started and finished, and the median (nearest rank,
-- lower), 90th percentile (nearest rank) and longest run in seconds.
WITH r AS (
  SELECT parent, seconds,
         row_number() OVER (PARTITION BY parent ORDER BY seconds) AS rn,
         count(*) OVER (PARTITION BY parent) AS n
  FROM alloc_runtime
  WHERE batch_id = :batch
)
SELECT parent AS job, n AS count,
       round(max(CASE WHEN rn = (n + 1) / 2 THEN seconds END), 3) AS median_s,
       round(max(CASE WHEN rn = (9 * n + 9) / 10 THEN seconds END), 3) AS p90_s,
       round(max(seconds), 3) AS max_s
FROM r
GROUP BY parent, n
ORDER BY parent;
