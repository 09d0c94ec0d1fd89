-- The whole current schema of an aedb database, for readers. Generated from
-- migrations/ (see docs/development.md); tests/unit/test-db.c fails when it
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
CREATE INDEX job_attempt ON job (attempt_id);
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
);
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
CREATE INDEX finding_batch ON finding (batch_id, category);
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

PRAGMA user_version = 1;
