-- Support query of `aedb report`: the lines behind the operators' JSON
-- message files (job_errors.json, agr_mos_errors.json,
-- inundate_errors.json, ignorable_errors.json): AOI, job id, task, file
-- relative to the batch's log folder, message; in a stable order.
SELECT f.category,
       coalesce(j.aoi_name, i.name) AS aoi,
       j.job_id AS job,
       l.task,
       CASE
         WHEN l.base IS NULL AND substr(l.path, 1, length(b.name) + 1) = b.name || '/'
           THEN substr(l.path, length(b.name) + 2)
         ELSE l.path
       END AS file,
       f.message
FROM finding f
JOIN batch b ON b.id = f.batch_id
JOIN log l ON l.id = f.log_ref
LEFT JOIN job j ON j.id = l.job_ref
LEFT JOIN item i ON i.id = f.item_id
WHERE f.batch_id = :batch AND f.category IN ('job_error', 'agr_mos_error', 'inundate_error', 'ignorable')
ORDER BY f.category, aoi, file, f.line_no, f.id;
