-- 0004_tracker_perf: what the tracker asks over and over stays proportional
-- to the work left, not to the size of the batch. The log capture thread
-- takes the next 64 pending logs (and the end-of-batch check counts them)
-- many times a second; the end-of-batch check counts the jobs not finished
-- every second. Without these indexes both walked every log or job row of
-- the batch: at 2,000 pipelines (244,000 logs) the log thread spent most
-- of its time there and fell behind Nomad's garbage collector. Never edit
-- this file once it has landed.

CREATE INDEX log_pending ON log (batch_id, id) WHERE state = 'pending';
CREATE INDEX job_live ON job (batch_id)
  WHERE gone_at IS NULL AND stuck_at IS NULL AND coalesce(status, 'pending') != 'dead';
