-- Support query of `aedb status`: per batch (all, or :batch when not
-- NULL) its state and counts; the command adds outcomes and the journal.
SELECT b.id, b.name, b.state, b.created_at, b.updated_at,
       (SELECT count(*) FROM item i WHERE i.batch_id = b.id) AS items,
       (SELECT count(*) FROM job j WHERE j.batch_id = b.id AND j.parent = b.parent_job
          AND j.status IN ('pending', 'running') AND j.gone_at IS NULL) AS active_pipelines,
       (SELECT pid || '@' || host || ' (' || command || ')' FROM batch_owner o
          WHERE o.batch_id = b.id) AS owner
FROM batch b
WHERE :batch IS NULL OR b.id = :batch
ORDER BY b.id;
