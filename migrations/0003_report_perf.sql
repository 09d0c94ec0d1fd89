-- 0003_report_perf: what `aedb report` and `aedb status` need to stay fast on
-- a 10,000-item batch (docs/reports.md, "Scale"): a covering partial index
-- for Nomad's allocation verdicts, finding indexes that hand the operators'
-- message files their lines log by log and top_errors its groups, and the
-- outcome judgement split in two views: item_class (the outcome of every
-- item and the references behind it, what `aedb status` counts) and
-- item_outcome on top of it (the words), so the two can never disagree.
-- Results are those of 0002's item_outcome, row for row. Never edit this
-- file once it has landed.

-- nomad_failure's allocation branch (failed or lost, not replaced) without
-- reading the allocation rows.
CREATE INDEX alloc_fail ON alloc (client_status, next_alloc, job_ref, finished_at, modify_time,
                                  last_seen_at)
  WHERE client_status IN ('failed', 'lost') AND next_alloc IS NULL;
-- The message files: a batch's findings of one category log by log, in
-- line order (engine/report.c reads the logs' keys, sorts them, then each
-- log's lines).
CREATE INDEX finding_batch_log ON finding (batch_id, category, log_ref, item_id, line_no);
-- top_errors: a batch's messages grouped by category and text in index
-- order (no sort of every error line).
CREATE INDEX finding_batch_message ON finding (batch_id, category, message, item_id);

-- One row per item: its outcome and the references that decide it (the
-- latest attempt, the pipeline job and log, the first finding of each kind
-- of the latest attempt) and whether a Nomad verdict applies. The judgement
-- of 0002's item_outcome, unchanged; item_outcome adds the words.
-- nomad_verdict is 1 when the item has Nomad failure facts and the newest
-- attempt among them (the one item_outcome's verdict is taken from) is the
-- latest attempt, or none of them names an attempt.
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
                             AND (va.attempt_id IS NULL OR va.attempt_id = base.attempt_ref);

-- item_outcome (0002) on top of item_class: the same columns and rows.
DROP VIEW item_outcome;
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
LEFT JOIN log pl2 ON pl2.id = judged.plog_ref;
