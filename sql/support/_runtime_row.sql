-- Support query of `aedb report`: one row of stage_runtimes.csv from the
-- values engine/report.c picked (job, count, median, p90, max), rounded
-- and formatted by SQLite as sql/reports/stage_runtimes.sql does.
SELECT :job AS job, :count AS count, round(:median, 3) AS median_s, round(:p90, 3) AS p90_s,
       round(:max, 3) AS max_s;
