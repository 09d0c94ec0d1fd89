#!/bin/sh
# The key report and tracker queries use indexes: EXPLAIN QUERY PLAN on a generated
# batch shows no full scan of task_event, finding or job where an index
# serves; status and report run on it; the report's C shortcuts (message
# files, stage_runtimes) give what their SQL definitions give.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
GEN="$AEDB_BUILD_ROOT/tools/gen-synthdb/gen-synthdb"

expect_exit 0 "generate a 200-item batch" "$GEN" --db "$T/db" --items 200 --batch s
plan() { # NAME QUERY
	# CSV lines end in CRLF (RFC 4180): drop the CR so $ matches
	"$AEDB" --db "$T/db" sql --csv "EXPLAIN QUERY PLAN $2" 2>&1 | tr -d '\r' >"$T/plan"
	if grep -Eq 'SCAN (task_event|finding|job|te|f|j|pj|sj|a|alloc|log|l)(,|"|$)' "$T/plan" ||
		grep -q "Error\|aedb sql:" "$T/plan"; then
		not_ok "$1 uses indexes"
		sed 's/^/# /' "$T/plan"
	else
		ok "$1 uses indexes"
	fi
}
plan "item_outcome of a batch" "SELECT * FROM item_outcome WHERE batch_id = 1"
plan "outcome counts (status)" "SELECT outcome, count(*) FROM item_outcome WHERE batch_id = 1 GROUP BY outcome"
plan "Nomad verdicts" "SELECT * FROM nomad_failure"
plan "aoi sets" "SELECT i.name, c.category FROM (SELECT DISTINCT category, item_id FROM finding WHERE batch_id = 1 AND item_id IS NOT NULL) c JOIN item i ON i.id = c.item_id"
plan "runtimes" "SELECT parent, count(*) FROM alloc_runtime WHERE batch_id = 1 GROUP BY parent"
plan "top errors" "SELECT category, message, count(*) FROM finding WHERE batch_id = 1 AND category IN ('failed', 'job_error') GROUP BY 1, 2"
plan "outcome classes (status)" "SELECT outcome, count(*) FROM item_class WHERE batch_id = 1 GROUP BY outcome"
# what the tracker asks many times a second (engine/tracker.c: the log
# thread's next pending logs, the end-of-batch check)
plan "tracker: next pending logs" "SELECT l.alloc_ref, l.job_ref, a.alloc_id, j.job_id, l.task, l.stream FROM log l JOIN alloc a ON a.id = l.alloc_ref JOIN job j ON j.id = l.job_ref WHERE l.batch_id = 1 AND l.state = 'pending' ORDER BY l.id LIMIT 64"
plan "tracker: jobs not finished" "SELECT count(*) FROM job WHERE batch_id = 1 AND gone_at IS NULL AND stuck_at IS NULL AND coalesce(status, 'pending') != 'dead'"
plan "tracker: logs not captured" "SELECT count(*) FROM log WHERE batch_id = 1 AND state = 'pending'"
q() { grep -v '^--' "$AEDB_SOURCE_ROOT/sql/$1" | sed "s/:batch/1/g; s/:category/'inundate_error'/; s/:log/1/; s/:item/1/"; }
plan "message files: logs" "$(q support/_message_logs.sql)"
plan "message files: a log's lines" "$(q support/_message_lines.sql)"
plan "runtimes in job order" "$(q support/_runtimes.sql)"
plan "top_errors report" "$(q reports/top_errors.sql)"
"$AEDB" --db "$T/db" sql --csv "EXPLAIN QUERY PLAN $(q support/_message_lines.sql)" >"$T/plan"
check "a log's lines need no sort" sh -c "! grep -q 'TEMP B-TREE' '$T/plan'"
"$AEDB" --db "$T/db" sql --csv "EXPLAIN QUERY PLAN $(q reports/top_errors.sql)" >"$T/plan"
check "top_errors groups in index order" sh -c "! grep -q 'TEMP B-TREE FOR GROUP BY' '$T/plan'"
expect_exit 0 "status" "$AEDB" --db "$T/db" status s
grep_file "status shows outcomes" "outcomes:.*success" "$T/out"
expect_exit 0 "status --json" "$AEDB" --db "$T/db" status --json
grep_file "json status" '"active_pipelines"' "$T/out"
expect_exit 0 "report" "$AEDB" --db "$T/db" report s --out "$T/r"
"$AEDB" --db "$T/db" sql --csv "$(q reports/stage_runtimes.sql)" >"$T/runtimes.csv"
check "stage_runtimes.csv (computed in C) equals its SQL definition" cmp -s "$T/runtimes.csv" "$T/r/stage_runtimes.csv"
"$AEDB" --db "$T/db" sql --csv "SELECT outcome, count(*) FROM item_outcome WHERE batch_id = 1 GROUP BY 1 ORDER BY 1" >"$T/o1"
"$AEDB" --db "$T/db" sql --csv "SELECT outcome, count(*) FROM item_class WHERE batch_id = 1 GROUP BY 1 ORDER BY 1" >"$T/o2"
check "item_class and item_outcome agree" cmp -s "$T/o1" "$T/o2"
check "every named report written" test -s "$T/r/item_outcomes.csv" -a -s "$T/r/stage_runtimes.csv" \
	-a -s "$T/r/timeline.csv" -a -s "$T/r/top_errors.csv" -a -s "$T/r/failures_by_stage.csv" -a -s "$T/r/retry_list.csv"
done_testing
