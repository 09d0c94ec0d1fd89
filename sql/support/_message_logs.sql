-- Support query of `aedb report`: the logs behind the operators' JSON
-- message files (job_errors.json, agr_mos_errors.json,
-- inundate_errors.json, ignorable_errors.json), one row per category, log
-- and item with such findings: AOI, job id, task, file relative to the
-- batch's log folder. engine/report.c sorts these rows by category, AOI
-- and file, then reads each log's lines with _message_lines.sql: the lines
-- come out ordered by category, AOI, file, line number and finding id
-- without sorting every line in SQL.
SELECT k.category,
       coalesce(j.aoi_name, i.name) AS aoi,
       j.job_id AS job,
       l.task,
       CASE
         WHEN l.base IS NULL AND substr(l.path, 1, length(b.name) + 1) = b.name || '/'
           THEN substr(l.path, length(b.name) + 2)
         ELSE l.path
       END AS file,
       k.log_ref,
       k.item_id
FROM (SELECT DISTINCT batch_id, category, log_ref, item_id FROM finding
      WHERE batch_id = :batch
        AND category IN ('job_error', 'agr_mos_error', 'inundate_error', 'ignorable')) k
JOIN batch b ON b.id = k.batch_id
JOIN log l ON l.id = k.log_ref
LEFT JOIN job j ON j.id = l.job_ref
LEFT JOIN item i ON i.id = k.item_id;
