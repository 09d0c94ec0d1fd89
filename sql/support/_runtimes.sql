-- Support query of `aedb report`: every allocation runtime of the batch
-- (the alloc_runtime view), grouped by job in index order. engine/report.c
-- sorts each job's runtimes and writes stage_runtimes.csv from them: the
-- result of sql/reports/stage_runtimes.sql (which stays the definition,
-- for `aedb sql`; tests/sql/t03 checks that the two agree) without a
-- window sort of every allocation.
SELECT parent, seconds
FROM alloc_runtime
WHERE batch_id = :batch
ORDER BY parent;
