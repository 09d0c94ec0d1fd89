-- Nomad's verdict for a7: its inundator allocation failed, killed for
-- memory (the log text says nothing). Applied after the import.
INSERT INTO alloc (alloc_id, job_ref, client_status, desired_status, started_at, finished_at,
                   node_name, first_seen_at, last_seen_at)
SELECT 'a7a7a7a7-0000-4000-8000-000000000007', id, 'failed', 'run',
       1700000300000000000, 1700000360000000000, 'node-1', 1, 1
FROM job WHERE aoi_name = 'a7' AND parent = 'hand_inundator';
INSERT INTO task_event (alloc_ref, task, type, time, exit_code, oom_killed, display_message)
SELECT id, 'processor', 'Terminated', 1700000360000000000, 137, 1, 'OOM Killed'
FROM alloc WHERE alloc_id = 'a7a7a7a7-0000-4000-8000-000000000007';
-- Two pipeline allocations that ran (for the runtime and timeline reports).
INSERT INTO alloc (alloc_id, job_ref, client_status, desired_status, started_at, finished_at,
                   first_seen_at, last_seen_at)
SELECT 'a1a1a1a1-0000-4000-8000-000000000001', id, 'complete', 'run',
       1700000000000000000, 1700000600000000000, 1, 1
FROM job WHERE aoi_name = 'a1' AND parent = 'pipeline';
INSERT INTO alloc (alloc_id, job_ref, client_status, desired_status, started_at, finished_at,
                   first_seen_at, last_seen_at)
SELECT 'a7a7a7a7-0000-4000-8000-000000000070', id, 'complete', 'run',
       1700000030000000000, 1700000400000000000, 1, 1
FROM job WHERE aoi_name = 'a7' AND parent = 'pipeline';
