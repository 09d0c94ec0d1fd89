-- How many pipelines of the batch were running over time? One row per
-- minute (UTC) in which a pipeline allocation started or finished: how
-- many started, how many finished, and how many were active at its end.
WITH p AS (
  SELECT a.started_at AS s, a.finished_at AS e
  FROM job j
  JOIN batch b ON b.id = j.batch_id
  JOIN alloc a ON a.job_ref = j.id
  WHERE j.batch_id = :batch AND j.parent = b.parent_job AND a.started_at IS NOT NULL
),
ev AS (
  SELECT s / 60000000000 AS m, 1 AS started, 0 AS finished FROM p
  UNION ALL
  SELECT e / 60000000000, 0, 1 FROM p WHERE e IS NOT NULL
),
per AS (
  SELECT m, sum(started) AS started, sum(finished) AS finished FROM ev GROUP BY m
)
SELECT strftime('%Y-%m-%dT%H:%M:00Z', m * 60, 'unixepoch') AS minute, started, finished,
       sum(started - finished) OVER (ORDER BY m) AS active
FROM per
ORDER BY m;
