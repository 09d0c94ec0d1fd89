-- The whole current schema of an aedb database, for readers. Generated from
-- migrations/ by tools/schema-dump; tests/unit/test-db.c fails when it
-- differs from what the migrations make.

CREATE TABLE batch (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 120),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  params        TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  state         TEXT    NOT NULL DEFAULT 'submitting'
                CHECK (state IN ('submitting', 'paused', 'draining', 'done', 'cancelled')),
  item_list     TEXT,
  nomad_addr    TEXT,
  namespace     TEXT    NOT NULL DEFAULT 'default',
  parent_job    TEXT    NOT NULL DEFAULT 'pipeline'
);
CREATE TABLE batch_owner (
  batch_id      INTEGER PRIMARY KEY REFERENCES batch(id) ON DELETE CASCADE,
  pid           INTEGER NOT NULL,
  host          TEXT    NOT NULL,
  command       TEXT    NOT NULL,
  token         TEXT    NOT NULL,
  acquired_at   INTEGER NOT NULL,
  heartbeat_at  INTEGER NOT NULL
);
CREATE TABLE item (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
  name          TEXT    NOT NULL CHECK (length(name) >= 1),
  line          INTEGER NOT NULL CHECK (line >= 1),
  collection    TEXT,
  aoi_state     TEXT    NOT NULL DEFAULT 'pending'
                CHECK (aoi_state IN ('pending', 'ready', 'failed')),
  aoi_path      TEXT,
  aoi_error     TEXT,
  aoi_at        INTEGER,
  state         TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'dispatched', 'finished', 'failed', 'cancelled')),
  attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  last_error    TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (batch_id, name)
);
CREATE INDEX item_batch_state ON item (batch_id, state, line);
CREATE INDEX item_name ON item (name);
CREATE TABLE attempt (
  id            INTEGER PRIMARY KEY,
  item_id       INTEGER NOT NULL REFERENCES item(id) ON DELETE CASCADE,
  number        INTEGER NOT NULL CHECK (number >= 1),
  state         TEXT    NOT NULL DEFAULT 'dispatching'
                CHECK (state IN ('dispatching', 'dispatched', 'finished', 'failed', 'abandoned')),
  id_prefix     TEXT    NOT NULL,
  started_at    INTEGER NOT NULL,
  dispatched_at INTEGER,
  job_id        TEXT,
  eval_id       TEXT,
  finished_at   INTEGER,
  outcome       TEXT
                CHECK (outcome IS NULL OR outcome IN ('success', 'early_exit', 'failed', 'unknown')),
  error         TEXT,
  UNIQUE (item_id, number)
);
CREATE UNIQUE INDEX attempt_job ON attempt (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX attempt_state ON attempt (state);
CREATE TABLE job (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
  namespace     TEXT    NOT NULL DEFAULT 'default',
  job_id        TEXT    NOT NULL,
  parent        TEXT    NOT NULL,
  item_id       INTEGER REFERENCES item(id) ON DELETE SET NULL,
  attempt_id    INTEGER REFERENCES attempt(id) ON DELETE SET NULL,
  aoi_name      TEXT,
  collection    TEXT,
  bench_src     TEXT,
  cand_src      TEXT,
  scenario      TEXT,
  catchment     TEXT,
  tags          TEXT    CHECK (tags IS NULL OR json_valid(tags)),
  status        TEXT    CHECK (status IS NULL OR status IN ('pending', 'running', 'dead')),
  submit_time   INTEGER,
  modify_index  INTEGER,
  first_seen_at INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  finished_at   INTEGER,
  gone_at       INTEGER,
  gone_reason   TEXT    CHECK (gone_reason IS NULL OR gone_reason IN ('purged', 'collected', 'vanished')),
  stuck_at      INTEGER,
  purged_at     INTEGER,
  UNIQUE (namespace, job_id)
);
CREATE INDEX job_batch_parent ON job (batch_id, parent, status);
CREATE INDEX job_item ON job (item_id, parent);
CREATE TABLE tracker_cursor (
  batch_id      INTEGER PRIMARY KEY REFERENCES batch(id) ON DELETE CASCADE,
  mode          TEXT    NOT NULL CHECK (mode IN ('events', 'poll')),
  last_index    INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER NOT NULL
);
CREATE TABLE alloc (
  id                  INTEGER PRIMARY KEY,
  alloc_id            TEXT    NOT NULL UNIQUE,
  job_ref             INTEGER NOT NULL REFERENCES job(id) ON DELETE CASCADE,
  name                TEXT,
  task_group          TEXT,
  node_id             TEXT,
  node_name           TEXT,
  client_status       TEXT    NOT NULL
                      CHECK (client_status IN ('pending', 'running', 'complete', 'failed', 'lost', 'unknown')),
  desired_status      TEXT
                      CHECK (desired_status IS NULL OR desired_status IN ('run', 'stop', 'evict')),
  client_description  TEXT,
  desired_description TEXT,
  create_time         INTEGER,
  modify_time         INTEGER,
  started_at          INTEGER,
  finished_at         INTEGER,
  previous_alloc      TEXT,
  next_alloc          TEXT,
  modify_index        INTEGER,
  first_seen_at       INTEGER NOT NULL,
  last_seen_at        INTEGER NOT NULL,
  gone_at             INTEGER
);
CREATE INDEX alloc_job ON alloc (job_ref);
CREATE INDEX alloc_status ON alloc (client_status);
CREATE TABLE alloc_change (
  id             INTEGER PRIMARY KEY,
  alloc_ref      INTEGER NOT NULL REFERENCES alloc(id) ON DELETE CASCADE,
  at             INTEGER NOT NULL,
  client_status  TEXT    NOT NULL,
  desired_status TEXT,
  description    TEXT
);
CREATE INDEX alloc_change_alloc ON alloc_change (alloc_ref, at);
CREATE TABLE task_event (
  id              INTEGER PRIMARY KEY,
  alloc_ref       INTEGER NOT NULL REFERENCES alloc(id) ON DELETE CASCADE,
  task            TEXT    NOT NULL,
  type            TEXT    NOT NULL,
  time            INTEGER NOT NULL,
  exit_code       INTEGER,
  signal          INTEGER,
  message         TEXT,
  display_message TEXT,
  oom_killed      INTEGER CHECK (oom_killed IS NULL OR oom_killed IN (0, 1)),
  fails_task      INTEGER CHECK (fails_task IS NULL OR fails_task IN (0, 1)),
  details         TEXT    CHECK (details IS NULL OR json_valid(details)),
  UNIQUE (alloc_ref, task, time, type)
);
CREATE INDEX task_event_type ON task_event (type, alloc_ref);
CREATE TABLE log (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
  job_ref       INTEGER REFERENCES job(id) ON DELETE CASCADE,
  alloc_ref     INTEGER REFERENCES alloc(id) ON DELETE CASCADE,
  task          TEXT    NOT NULL,
  stream        TEXT    NOT NULL CHECK (stream IN ('stdout', 'stderr')),
  source        TEXT    NOT NULL CHECK (source IN ('captured', 'imported', 'cloudwatch')),
  state         TEXT    NOT NULL CHECK (state IN ('pending', 'captured', 'unavailable')),
  path          TEXT,
  cw_group      TEXT,
  cw_stream     TEXT,
  size          INTEGER CHECK (size IS NULL OR size >= 0),
  truncated     INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
  reason        TEXT,
  captured_at   INTEGER,
  classified_at INTEGER
, base TEXT);
CREATE UNIQUE INDEX log_alloc_stream ON log (alloc_ref, task, stream) WHERE alloc_ref IS NOT NULL;
CREATE UNIQUE INDEX log_path ON log (batch_id, path) WHERE path IS NOT NULL;
CREATE INDEX log_job ON log (job_ref);
CREATE TABLE rule (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  job           TEXT    NOT NULL,
  category      TEXT    NOT NULL
                CHECK (category IN ('success', 'early_exit', 'failed', 'job_error',
                                    'agr_mos_error', 'inundate_error', 'ignorable')),
  kind          TEXT    NOT NULL DEFAULT 'include' CHECK (kind IN ('include', 'exclude')),
  pattern       TEXT    NOT NULL,
  priority      INTEGER NOT NULL DEFAULT 100,
  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  builtin       INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
  note          TEXT
);
CREATE INDEX rule_job ON rule (job, enabled);
CREATE TABLE finding (
  id            INTEGER PRIMARY KEY,
  log_ref       INTEGER NOT NULL REFERENCES log(id) ON DELETE CASCADE,
  rule_ref      INTEGER NOT NULL REFERENCES rule(id) ON DELETE CASCADE,
  batch_id      INTEGER NOT NULL REFERENCES batch(id) ON DELETE CASCADE,
  item_id       INTEGER REFERENCES item(id) ON DELETE SET NULL,
  category      TEXT    NOT NULL,
  line_no       INTEGER NOT NULL CHECK (line_no >= 1),
  message       TEXT    NOT NULL,
  UNIQUE (log_ref, rule_ref, line_no)
);
CREATE INDEX finding_item ON finding (item_id, category);
CREATE TABLE journal (
  id            INTEGER PRIMARY KEY,
  batch_id      INTEGER REFERENCES batch(id) ON DELETE CASCADE,
  at            INTEGER NOT NULL,
  level         TEXT    NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  kind          TEXT    NOT NULL,
  message       TEXT    NOT NULL,
  data          TEXT    CHECK (data IS NULL OR json_valid(data))
);
CREATE INDEX journal_batch ON journal (batch_id, at);
CREATE INDEX finding_batch_item ON finding (batch_id, category, item_id);
CREATE INDEX task_event_bad ON task_event (type, alloc_ref)
  WHERE exit_code <> 0 OR oom_killed = 1;
CREATE INDEX job_vanished ON job (item_id) WHERE gone_reason = 'vanished';
CREATE INDEX job_stuck ON job (item_id) WHERE stuck_at IS NOT NULL;
CREATE INDEX alloc_job_times ON alloc (job_ref, started_at, finished_at);
CREATE INDEX log_job_stream ON log (job_ref, stream, state);
CREATE INDEX job_attempt_parent ON job (attempt_id, parent);
CREATE VIEW latest_attempt AS
SELECT a.*
FROM attempt a
WHERE NOT EXISTS (SELECT 1 FROM attempt b WHERE b.item_id = a.item_id AND b.number > a.number)
;
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
WHERE j.stuck_at IS NOT NULL
;
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
FROM nomad_failure nf
;
CREATE VIEW alloc_runtime AS
SELECT j.batch_id, j.item_id, j.id AS job_ref, j.job_id, j.parent, j.scenario, j.catchment,
       a.alloc_id, a.node_name, a.client_status, a.started_at, a.finished_at,
       (a.finished_at - a.started_at) / 1e9 AS seconds
FROM job j
JOIN alloc a ON a.job_ref = j.id
WHERE a.started_at IS NOT NULL AND a.finished_at >= a.started_at
;
CREATE VIEW aoi_finding AS
SELECT f.batch_id, f.category, i.name AS aoi, f.item_id, f.id AS finding_ref
FROM finding f
JOIN item i ON i.id = f.item_id
UNION ALL
SELECT f.batch_id, f.category, j.aoi_name, NULL, f.id
FROM finding f
JOIN log l ON l.id = f.log_ref
JOIN job j ON j.id = l.job_ref
WHERE f.item_id IS NULL AND j.aoi_name IS NOT NULL
;
CREATE INDEX alloc_fail ON alloc (client_status, next_alloc, job_ref, finished_at, modify_time,
                                  last_seen_at)
  WHERE client_status IN ('failed', 'lost') AND next_alloc IS NULL;
CREATE INDEX finding_batch_log ON finding (batch_id, category, log_ref, item_id, line_no);
CREATE INDEX finding_batch_message ON finding (batch_id, category, message, item_id);
CREATE VIEW item_class AS
WITH
verdict_attempt AS MATERIALIZED (
  SELECT nf.item_id, max(nf.attempt_id) AS attempt_id
  FROM nomad_failure nf
  WHERE nf.item_id IS NOT NULL
  GROUP BY nf.item_id
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
)
SELECT base.*,
       CASE WHEN va.item_id IS NOT NULL THEN 1 ELSE 0 END AS nomad_verdict,
       (SELECT pl.state FROM log pl WHERE pl.id = base.plog_ref) AS plog_state,
       (SELECT pl.reason FROM log pl WHERE pl.id = base.plog_ref) AS plog_reason,
       CASE
         WHEN item_state = 'cancelled' THEN 'cancelled'
         WHEN item_state = 'failed' AND pjob_ref IS NULL THEN 'failed'
         WHEN attempt_ref IS NULL AND pjob_ref IS NULL AND item_state = 'pending' THEN 'pending'
         WHEN attempt_state IN ('failed', 'abandoned') AND pjob_ref IS NULL THEN 'failed'
         WHEN va.item_id IS NOT NULL THEN 'failed'
         WHEN failed_ref IS NOT NULL OR job_error_ref IS NOT NULL OR stage_error_ref IS NOT NULL THEN 'failed'
         WHEN success_ref IS NOT NULL THEN 'success'
         WHEN early_ref IS NOT NULL THEN 'early_exit'
         WHEN pjob_ref IS NULL AND attempt_state IN ('dispatching', 'dispatched') THEN 'running'
         WHEN pjob_ref IS NOT NULL AND pjob_gone_at IS NULL AND coalesce(pjob_status, 'pending') <> 'dead' THEN 'running'
         ELSE coalesce((SELECT CASE
                                 WHEN pl.state = 'pending' THEN 'running'
                                 WHEN pl.state = 'captured' AND pl.classified_at IS NULL THEN 'running'
                                 WHEN pl.state = 'captured' THEN 'silent'
                                 ELSE 'log_missing'
                               END
                        FROM log pl WHERE pl.id = base.plog_ref), 'log_missing')
       END AS outcome
FROM base
LEFT JOIN verdict_attempt va ON va.item_id = base.item_id
                             AND (va.attempt_id IS NULL OR va.attempt_id = base.attempt_ref)
;
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
judged AS (
  SELECT c.*, v.parent AS v_parent, v.job_id AS v_job_id, v.job_ref AS v_job_ref,
         v.cause AS v_cause, v.source_ref AS v_source_ref
  FROM item_class c
  LEFT JOIN verdict v ON c.nomad_verdict = 1 AND v.item_id = c.item_id AND v.rn = 1
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
LEFT JOIN log pl2 ON pl2.id = judged.plog_ref
;
CREATE INDEX log_pending ON log (batch_id, id) WHERE state = 'pending';
CREATE INDEX job_live ON job (batch_id)
  WHERE gone_at IS NULL AND stuck_at IS NULL AND coalesce(status, 'pending') != 'dead';

PRAGMA user_version = 4;
