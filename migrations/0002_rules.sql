-- 0002_rules: classification rules as data (seeded with the upstream
-- rules of local_reports.py / cloudwatch_reports.py), the indexes reports
-- need, and the views reports are built on (docs/reports.md says why the
-- views live in the schema rather than being made per connection: a
-- read-only connection cannot create even TEMP views, and the sqlite3
-- shell should see them too). Never edit this file once it has landed.

-- Where an imported log's `path` is relative to (an absolute folder); NULL
-- for captured logs, whose path is relative to the batch's log folder.
ALTER TABLE log ADD COLUMN base TEXT;

-- The upstream rules, as Python regular expressions matched with PCRE2,
-- case-insensitive. For one line, the categories success, early_exit,
-- failed and job_error form one chain: the first matching rule by priority
-- wins (upstream: "contains SUCCESS, else exiting early, else FAILED, else
-- a job error"). Every other category is judged on its own. An include
-- rule does not match a line that an enabled exclude rule of the same job
-- and category matches.
INSERT INTO rule (name, job, category, kind, pattern, priority, builtin, note) VALUES
  ('pipeline.success', 'pipeline', 'success', 'include', 'Pipeline SUCCESS', 10, 1,
   'the coordinator finished: k/n scenarios completed'),
  ('pipeline.early_exit', 'pipeline', 'early_exit', 'include', 'Pipeline exiting early', 20, 1,
   'no flow scenarios or catchments for the AOI; counts as success'),
  ('pipeline.failed', 'pipeline', 'failed', 'include', 'Pipeline FAILED', 30, 1,
   'the coordinator gave up'),
  ('pipeline.job_error.oom', 'pipeline', 'job_error', 'include', 'OOM', 40, 1, NULL),
  ('pipeline.job_error.http', 'pipeline', 'job_error', 'include', 'HTTPConnectionPool', 41, 1, NULL),
  ('pipeline.job_error.nomad', 'pipeline', 'job_error', 'include', 'BaseNomadException', 42, 1, NULL),
  ('pipeline.job_error.job_status', 'pipeline', 'job_error', 'include',
   'JobStatus\.(LOST|STOPPED|CANCELLED)', 43, 1, 'a stage job ended lost, stopped or cancelled'),
  ('pipeline.job_error.boto', 'pipeline', 'job_error', 'include',
   'botocore\.exceptions\.ClientError', 44, 1, NULL),

  ('agreement_maker.agr_mos_error', 'agreement_maker', 'agr_mos_error', 'include', 'error|warn', 50, 1, NULL),
  ('fim_mosaicker.agr_mos_error', 'fim_mosaicker', 'agr_mos_error', 'include', 'error|warn', 50, 1, NULL),
  ('agreement_maker.ignorable', 'agreement_maker', 'ignorable', 'include',
   'Agreement map contains no valid data', 60, 1, NULL),
  ('fim_mosaicker.ignorable', 'fim_mosaicker', 'ignorable', 'include',
   'Agreement map contains no valid data', 60, 1, NULL),

  ('hand_inundator.inundate_error', 'hand_inundator', 'inundate_error', 'include', 'error|warn', 50, 1, NULL),
  ('hand_inundator.exclude.no_forecast', 'hand_inundator', 'inundate_error', 'exclude',
   'No matching forecast data', 100, 1, NULL),
  ('hand_inundator.exclude.nonetype', 'hand_inundator', 'inundate_error', 'exclude',
   '''NoneType'' is not iterable', 100, 1, NULL),
  ('hand_inundator.exclude.lakeid', 'hand_inundator', 'inundate_error', 'exclude',
   'No catchments with negative LakeID', 100, 1, NULL);

-- The fifteen agr_mos_error exclusions, for both jobs.
WITH x(n, tag, pattern) AS (VALUES
  (1, 'no_valid_data', 'Agreement map contains no valid data'),
  (2, 'shuffle', 'distributed\.shuffle'),
  (3, 'no_features', 'No features found'),
  (4, 'worker_at', 'Worker is at'),
  (5, 'unmanaged_memory', 'distributed\.worker\.memory - WARNING - Unmanaged memory use is high'),
  (6, 'gc_collect', 'gc\.collect'),
  (7, 'request_failed', 'Warning 1: Request for \d+-\d+ failed with response_code=\d+'),
  (8, 'heartbeat', 'Failed to communicate with scheduler during heartbeat'),
  (9, 'not_georeferenced', 'NotGeoreferencedWarning'),
  (10, 'comm_closed', 'distributed\.comm\.core\.CommClosedError'),
  (11, 'large_graph', 'UserWarning: Sending large graph'),
  (12, 'in_use', 'is already in use'),
  (13, 'warnings_warn', 'warnings\.warn'),
  (14, 'gpkg_application_id', 'has GPKG application_id'),
  (15, 'nanny_alive', 'distributed\.nanny - WARNING - Worker process still alive')),
j(job) AS (VALUES ('agreement_maker'), ('fim_mosaicker'))
INSERT INTO rule (name, job, category, kind, pattern, priority, builtin)
SELECT j.job || '.exclude.' || x.tag, j.job, 'agr_mos_error', 'exclude', x.pattern, 100, 1
FROM j, x ORDER BY j.job DESC, x.n;

-- Reports: findings by batch and category with the item (a covering
-- index for the operators' lists; replaces finding_batch).
DROP INDEX finding_batch;
CREATE INDEX finding_batch_item ON finding (batch_id, category, item_id);
-- Nomad's failure verdicts are rare: partial indexes find them without
-- reading every task event (alloc_status serves allocations).
CREATE INDEX task_event_bad ON task_event (type, alloc_ref)
  WHERE exit_code <> 0 OR oom_killed = 1;
CREATE INDEX job_vanished ON job (item_id) WHERE gone_reason = 'vanished';
CREATE INDEX job_stuck ON job (item_id) WHERE stuck_at IS NOT NULL;
-- Runtimes read every allocation of a batch: cover them.
CREATE INDEX alloc_job_times ON alloc (job_ref, started_at, finished_at);
-- A job's logs by stream (the pipeline's stderr decides the outcome).
CREATE INDEX log_job_stream ON log (job_ref, stream, state);
-- A pipeline job by its attempt (replaces job_attempt, its prefix).
DROP INDEX job_attempt;
CREATE INDEX job_attempt_parent ON job (attempt_id, parent);

-- The latest attempt of each item (the one that decides its outcome).
CREATE VIEW latest_attempt AS
SELECT a.*
FROM attempt a
WHERE NOT EXISTS (SELECT 1 FROM attempt b WHERE b.item_id = a.item_id AND b.number > a.number);

-- Nomad's own failure verdicts, one row per fact: a task terminated with
-- a non-zero exit code or killed for memory (on an allocation that did not
-- end complete), an allocation that ended failed or lost and was not
-- replaced, a job that vanished while live, a job never placed. Keys
-- only; nomad_failure_detail adds the words.
CREATE VIEW nomad_failure AS
SELECT j.batch_id, j.item_id, j.attempt_id, j.id AS job_ref, j.job_id, j.parent,
       CASE WHEN te.oom_killed = 1 THEN 'oom_killed' ELSE 'exit_code' END AS cause,
       te.time AS at, 1 AS rank, te.id AS source_ref
FROM task_event te
JOIN alloc a ON a.id = te.alloc_ref
JOIN job j ON j.id = a.job_ref
WHERE te.type = 'Terminated' AND (te.exit_code <> 0 OR te.oom_killed = 1)
  AND NOT (a.client_status = 'complete' AND coalesce(a.desired_status, 'run') = 'run')
UNION ALL
SELECT j.batch_id, j.item_id, j.attempt_id, j.id, j.job_id, j.parent,
       CASE a.client_status WHEN 'lost' THEN 'alloc_lost' ELSE 'alloc_failed' END,
       coalesce(a.finished_at, a.modify_time, a.last_seen_at), 2, a.id
FROM alloc a
JOIN job j ON j.id = a.job_ref
WHERE a.client_status IN ('failed', 'lost') AND a.next_alloc IS NULL
UNION ALL
SELECT j.batch_id, j.item_id, j.attempt_id, j.id, j.job_id, j.parent, 'vanished', j.gone_at, 3, j.id
FROM job j
WHERE j.gone_reason = 'vanished'
UNION ALL
SELECT j.batch_id, j.item_id, j.attempt_id, j.id, j.job_id, j.parent, 'stuck', j.stuck_at, 4, j.id
FROM job j
WHERE j.stuck_at IS NOT NULL;

-- The words for a Nomad failure (cause, source_ref from nomad_failure).
CREATE VIEW nomad_failure_detail AS
SELECT nf.*,
       CASE
         WHEN nf.cause IN ('oom_killed', 'exit_code') THEN
           (SELECT CASE WHEN te.oom_killed = 1
                        THEN 'task ' || te.task || ' was killed for using too much memory (OOM)'
                        ELSE 'task ' || te.task || ' exited with code ' || te.exit_code END
                   || coalesce(': ' || nullif(te.display_message, ''), '')
            FROM task_event te WHERE te.id = nf.source_ref)
         WHEN nf.cause IN ('alloc_lost', 'alloc_failed') THEN
           (SELECT 'allocation ' || substr(a.alloc_id, 1, 8) || ' ' || a.client_status
                   || coalesce(' on ' || a.node_name, '')
                   || coalesce(': ' || nullif(a.client_description, ''), '')
            FROM alloc a WHERE a.id = nf.source_ref)
         WHEN nf.cause = 'vanished' THEN 'job vanished from Nomad while live'
         ELSE 'job never placed within the placement timeout'
       END AS detail
FROM nomad_failure nf;

-- Runtime of every allocation that started and finished, in seconds.
CREATE VIEW alloc_runtime AS
SELECT j.batch_id, j.item_id, j.id AS job_ref, j.job_id, j.parent, j.scenario, j.catchment,
       a.alloc_id, a.node_name, a.client_status, a.started_at, a.finished_at,
       (a.finished_at - a.started_at) / 1e9 AS seconds
FROM job j
JOIN alloc a ON a.job_ref = j.id
WHERE a.started_at IS NOT NULL AND a.finished_at >= a.started_at;

-- Which AOI each finding belongs to, by name: the item, or the aoi_name
-- tag of the job when the AOI is not an item of the batch (upstream reads
-- every log of the folder, whatever the run list says).
CREATE VIEW aoi_finding AS
SELECT f.batch_id, f.category, i.name AS aoi, f.item_id, f.id AS finding_ref
FROM finding f
JOIN item i ON i.id = f.item_id
UNION ALL
SELECT f.batch_id, f.category, j.aoi_name, NULL, f.id
FROM finding f
JOIN log l ON l.id = f.log_ref
JOIN job j ON j.id = l.job_ref
WHERE f.item_id IS NULL AND j.aoi_name IS NOT NULL;

-- One row per item: its outcome and why. Judged on the item's latest
-- attempt. Nomad's verdicts come first (OOM, exit codes, lost, vanished,
-- stuck), then the pipeline's own lines, then stage errors found in the
-- stage logs; an ignorable message never turns a failure into a success;
-- a log that could not be captured is 'log_missing', not a silent failure.
-- outcome: success, early_exit, failed, silent, log_missing, running,
-- pending, cancelled. cause: a short class of the reason (for grouping).
CREATE VIEW item_outcome AS
WITH
verdict AS MATERIALIZED (
  -- per item, the first failure of its newest attempt that has any; a
  -- stage job's failure before the pipeline's (it is the cause)
  SELECT nf.item_id, nf.attempt_id, nf.parent, nf.job_id, nf.job_ref, nf.cause, nf.source_ref,
         row_number() OVER (PARTITION BY nf.item_id
                            ORDER BY nf.attempt_id DESC,
                                     nf.parent = (SELECT parent_job FROM batch WHERE id = nf.batch_id),
                                     nf.rank, nf.at, nf.job_ref) AS rn
  FROM nomad_failure nf
  WHERE nf.item_id IS NOT NULL
),
base AS (
  SELECT i.id AS item_id, i.batch_id, b.name AS batch, i.name AS item, i.line, i.state AS item_state,
         i.attempts, i.aoi_error, i.last_error,
         la.id AS attempt_ref, la.state AS attempt_state, la.error AS attempt_error,
         coalesce(pj.job_id, la.job_id) AS job_id, pj.id AS pjob_ref, pj.status AS pjob_status,
         pj.gone_at AS pjob_gone_at, b.parent_job,
         coalesce((SELECT l.id FROM log l WHERE l.job_ref = pj.id AND l.stream = 'stderr'
                   AND l.state = 'captured' ORDER BY l.id LIMIT 1),
                  (SELECT l.id FROM log l WHERE l.job_ref = pj.id AND l.stream = 'stderr'
                   ORDER BY l.id LIMIT 1)) AS plog_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category = 'failed' AND (la.number IS NULL OR la.number = 1
                OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                             WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS failed_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category = 'job_error' AND (la.number IS NULL OR la.number = 1
                OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                             WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS job_error_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category IN ('agr_mos_error', 'inundate_error')
            AND (la.number IS NULL OR la.number = 1
                 OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                              WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS stage_error_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category = 'success' AND (la.number IS NULL OR la.number = 1
                OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                             WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS success_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category = 'early_exit' AND (la.number IS NULL OR la.number = 1
                OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                             WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS early_ref,
         (SELECT f.id FROM finding f
          WHERE f.item_id = i.id AND f.category = 'ignorable' AND (la.number IS NULL OR la.number = 1
                OR coalesce((SELECT j.attempt_id FROM log l JOIN job j ON j.id = l.job_ref
                             WHERE l.id = f.log_ref), la.id) = la.id)
          ORDER BY f.id LIMIT 1) AS ignorable_ref
  FROM item i
  JOIN batch b ON b.id = i.batch_id
  LEFT JOIN latest_attempt la ON la.item_id = i.id
  LEFT JOIN job pj ON pj.attempt_id = la.id AND pj.parent = b.parent_job
),
judged AS (
  SELECT base.*, v.parent AS v_parent, v.job_id AS v_job_id, v.job_ref AS v_job_ref,
         v.cause AS v_cause, v.source_ref AS v_source_ref,
         pl.state AS plog_state, pl.reason AS plog_reason,
         CASE
           WHEN item_state = 'cancelled' THEN 'cancelled'
           WHEN item_state = 'failed' AND pjob_ref IS NULL THEN 'failed'
           WHEN attempt_ref IS NULL AND pjob_ref IS NULL AND item_state = 'pending' THEN 'pending'
           WHEN attempt_state IN ('failed', 'abandoned') AND pjob_ref IS NULL THEN 'failed'
           WHEN v.cause IS NOT NULL THEN 'failed'
           WHEN failed_ref IS NOT NULL OR job_error_ref IS NOT NULL OR stage_error_ref IS NOT NULL THEN 'failed'
           WHEN success_ref IS NOT NULL THEN 'success'
           WHEN early_ref IS NOT NULL THEN 'early_exit'
           WHEN pjob_ref IS NULL AND attempt_state IN ('dispatching', 'dispatched') THEN 'running'
           WHEN pjob_ref IS NOT NULL AND pjob_gone_at IS NULL AND coalesce(pjob_status, 'pending') <> 'dead' THEN 'running'
           WHEN pl.state = 'pending' THEN 'running'
           WHEN pl.state = 'captured' AND pl.classified_at IS NULL THEN 'running'
           WHEN pl.state = 'captured' THEN 'silent'
           ELSE 'log_missing'
         END AS outcome
  FROM base
  LEFT JOIN verdict v ON v.item_id = base.item_id AND v.rn = 1
                      AND (v.attempt_id IS NULL OR v.attempt_id = base.attempt_ref)
  LEFT JOIN log pl ON pl.id = base.plog_ref
)
SELECT judged.batch_id, judged.batch, judged.item_id, judged.item, judged.line, judged.outcome,
       CASE
         WHEN outcome IN ('success', 'early_exit', 'running', 'pending', 'cancelled') THEN NULL
         WHEN v_cause IS NOT NULL THEN v_cause
         WHEN outcome = 'failed' AND pjob_ref IS NULL THEN 'submit'
         WHEN failed_ref IS NOT NULL THEN 'pipeline_failed'
         WHEN job_error_ref IS NOT NULL THEN 'job_error'
         WHEN stage_error_ref IS NOT NULL THEN fs.category
         WHEN outcome = 'silent' THEN 'no_outcome_line'
         ELSE 'log_missing'
       END AS cause,
       CASE
         WHEN outcome = 'success' THEN fsu.message
         WHEN outcome = 'early_exit' THEN fee.message
         WHEN outcome IN ('running', 'pending', 'cancelled') THEN NULL
         WHEN v_cause IN ('oom_killed', 'exit_code') THEN
           (SELECT CASE WHEN te.oom_killed = 1
                        THEN 'task ' || te.task || ' was killed for using too much memory (OOM)'
                        ELSE 'task ' || te.task || ' exited with code ' || te.exit_code END
                   || coalesce(': ' || nullif(te.display_message, ''), '')
            FROM task_event te WHERE te.id = v_source_ref)
         WHEN v_cause IN ('alloc_lost', 'alloc_failed') THEN
           (SELECT 'allocation ' || substr(a.alloc_id, 1, 8) || ' ' || a.client_status
                   || coalesce(' on ' || a.node_name, '')
                   || coalesce(': ' || nullif(a.client_description, ''), '')
            FROM alloc a WHERE a.id = v_source_ref)
         WHEN v_cause = 'vanished' THEN 'job vanished from Nomad while live'
         WHEN v_cause = 'stuck' THEN 'job never placed within the placement timeout'
         WHEN outcome = 'failed' AND pjob_ref IS NULL
           THEN coalesce(attempt_error, aoi_error, last_error, 'failed before dispatch')
         WHEN failed_ref IS NOT NULL THEN ff.message
         WHEN job_error_ref IS NOT NULL THEN fj.message
         WHEN stage_error_ref IS NOT NULL THEN fs.message
         WHEN outcome = 'silent' THEN 'the pipeline log has no outcome line'
         WHEN plog_state = 'unavailable' THEN 'pipeline log unavailable: ' || coalesce(plog_reason, 'no reason recorded')
         ELSE 'no pipeline log recorded'
       END AS reason,
       CASE
         WHEN outcome NOT IN ('failed', 'silent', 'log_missing') THEN NULL
         WHEN v_cause IS NOT NULL THEN v_parent
         WHEN pjob_ref IS NULL AND outcome = 'failed' THEN 'submit'
         WHEN failed_ref IS NULL AND job_error_ref IS NULL AND stage_error_ref IS NOT NULL THEN sj.parent
         ELSE judged.parent_job
       END AS stage,
       judged.attempts,
       CASE WHEN v_cause IS NOT NULL THEN v_job_id
            WHEN failed_ref IS NULL AND job_error_ref IS NULL AND stage_error_ref IS NOT NULL
                 AND outcome = 'failed' THEN sj.job_id
            ELSE judged.job_id END AS job_id,
       CASE WHEN outcome = 'failed' AND v_cause IS NULL AND failed_ref IS NULL AND job_error_ref IS NULL
                 AND stage_error_ref IS NOT NULL
            THEN coalesce(sl.base || '/', '') || sl.path
            ELSE coalesce(pl2.base || '/', '') || pl2.path END AS log_file,
       coalesce(plog_state, 'none') AS log_state,
       CASE WHEN ignorable_ref IS NOT NULL THEN 1 ELSE 0 END AS ignorable
FROM judged
LEFT JOIN finding ff ON ff.id = judged.failed_ref
LEFT JOIN finding fj ON fj.id = judged.job_error_ref
LEFT JOIN finding fs ON fs.id = judged.stage_error_ref
LEFT JOIN log sl ON sl.id = fs.log_ref
LEFT JOIN job sj ON sj.id = sl.job_ref
LEFT JOIN finding fsu ON fsu.id = judged.success_ref
LEFT JOIN finding fee ON fee.id = judged.early_ref
LEFT JOIN log pl2 ON pl2.id = judged.plog_ref;
