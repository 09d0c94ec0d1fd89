-- Support query of `aedb report`: which AOIs of the batch have findings of
-- which category, by name (the raw sets of the upstream reports). AOIs of
-- the item list by item; AOIs only named in job ids by their aoi_name tag.
SELECT i.name AS aoi, c.category
FROM (SELECT DISTINCT category, item_id FROM finding
      WHERE batch_id = :batch AND item_id IS NOT NULL) c
JOIN item i ON i.id = c.item_id
UNION
SELECT j.aoi_name, f.category
FROM finding f
JOIN log l ON l.id = f.log_ref
JOIN job j ON j.id = l.job_ref
WHERE f.batch_id = :batch
  AND f.category IN ('success', 'early_exit', 'failed', 'job_error', 'agr_mos_error',
                     'inundate_error', 'ignorable')
  AND f.item_id IS NULL AND j.aoi_name IS NOT NULL;
