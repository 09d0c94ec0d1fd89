#!/bin/sh
# The tracker killed at random instants: 20 kill -9 of `aedb track` while a
# batch runs, then a run to completion, must leave the same rows as an
# uninterrupted tracker following an identical batch in the same simulator
# at the same time: no job, allocation, task event, log or finding missing
# and none duplicated (ids differ between the batches, so rows are compared
# by what they are: item, stage tags, allocation order, event order).
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 30, "mosaic": 40, "agreement": 40},
 "gc_threshold": -1,
 "defaults": {"outcome": "success", "scenarios": 2, "catchments": 2},
 "items": [{"match": "?-1*", "outcome": "stage_error", "stage": "mosaic"},
           {"match": "?-2*", "outcome": "lost", "stage": "inundate"}]}
JSON
start_sim sim --speed 60 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'k-*24'
make_items "$T/calm-items.txt" 'c-*24'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# two identical batches, dispatched without tracking
# shellcheck disable=SC2046
expect_exit 0 "the batch is dispatched" "$AEDB" submit $(batch_flags kb "$T/items.txt" 1000 0) --no-track --quiet
# shellcheck disable=SC2046
expect_exit 0 "an identical batch is dispatched" "$AEDB" submit $(batch_flags cb "$T/calm-items.txt" 1000 0) \
	--no-track --quiet --db "$T/calm.db"
timeout 150 "$AEDB" track cb --db "$T/calm.db" --quiet --log_dir "$T/calm-logs" >/dev/null 2>"$T/calm.err" &
calm=$!

kills=0
seed=4242
while [ $kills -lt 20 ]; do
	seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
	ms=$(( 150 + seed % 600 ))
	"$AEDB" track kb --db "$T/aedb.db" --quiet --log_dir "$T/logs" >/dev/null 2>>"$T/track.err" &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	kills=$((kills + 1))
done
ok "killed the tracker $kills times"
expect_exit 3 "the last tracker runs to the end (its failed items give exit 3)" timeout 120 "$AEDB" track kb --db "$T/aedb.db" --quiet --log_dir "$T/logs"
check "the simulator has finished every pipeline" test "$(curl -s -m 10 "$U/sim/stats" | jq .ActivePipelines)" -eq 0

wait $calm
check "the uninterrupted tracker finished (exit 3: failed items)" test $? -eq 3

# rows by what they are: jobs by item and stage tags, allocations by their
# order within the job, events by their order within the allocation. Nomad
# keeps the last 10 events of a task: those are compared; earlier ones
# reach only a reader that was attached when they happened.
dump() {
	sqlite3 "$1" "
	  CREATE TEMP VIEW jk AS SELECT j.id, substr(j.aoi_name, 3) || '/' || j.parent || '/' ||
	    coalesce(j.scenario, '') || '/' || coalesce(j.catchment, '') || '/' ||
	    coalesce(j.cand_src, '') || coalesce(j.bench_src, '') AS k, j.status, j.gone_reason FROM job j;
	  CREATE TEMP VIEW ak AS SELECT a.id, jk.k || '#' || row_number() OVER
	    (PARTITION BY a.job_ref ORDER BY a.create_time, a.alloc_id) AS k, a.client_status,
	    a.desired_status, a.next_alloc IS NOT NULL AS has_next FROM alloc a JOIN jk ON jk.id = a.job_ref;
	  SELECT 'job', k, status, coalesce(gone_reason, '') FROM jk ORDER BY 2;
	  SELECT 'alloc', k, client_status, coalesce(desired_status, ''), has_next FROM ak ORDER BY 2;
	  SELECT 'event', k, task, n, type, exit_code, oom FROM (SELECT ak.k, e.task,
	    row_number() OVER (PARTITION BY e.alloc_ref, e.task ORDER BY e.time DESC, e.id DESC) AS n,
	    e.type, coalesce(e.exit_code, '') AS exit_code, coalesce(e.oom_killed, '') AS oom
	    FROM task_event e JOIN ak ON ak.id = e.alloc_ref) WHERE n <= 10 ORDER BY 2, 3, 4;
	  SELECT 'log', ak.k, l.task, l.stream, l.state FROM log l JOIN ak ON ak.id = l.alloc_ref ORDER BY 2, 3, 4;
	  SELECT 'finding', ak.k, l.stream, f.line_no, f.category
	    FROM finding f JOIN log l ON l.id = f.log_ref JOIN ak ON ak.id = l.alloc_ref ORDER BY 2, 3, 4, 5;
	  SELECT 'outcome', substr(item, 3), outcome FROM item_outcome ORDER BY 2;"
}
dump "$T/aedb.db" >"$T/killed.txt"
dump "$T/calm.db" >"$T/calm.txt"
check "the tracker recorded jobs" test "$(grep -c '^job' "$T/killed.txt")" -ge 100
if cmp -s "$T/killed.txt" "$T/calm.txt"; then ok "killed and uninterrupted trackers recorded the same rows"; else
	not_ok "killed and uninterrupted trackers recorded the same rows"
	diff "$T/calm.txt" "$T/killed.txt" | head -20 | sed 's/^/# /'
fi
check "no state change is recorded twice in a row" test "$(sq "
	SELECT count(*) FROM alloc_change c JOIN alloc_change p ON p.alloc_ref = c.alloc_ref
	 AND p.id = (SELECT max(id) FROM alloc_change q WHERE q.alloc_ref = c.alloc_ref AND q.id < c.id)
	 WHERE p.client_status = c.client_status AND p.desired_status IS c.desired_status")" -eq 0
check "as many log files were captured" \
	test "$(find "$T/logs" -type f | wc -l)" -eq "$(find "$T/calm-logs" -type f | wc -l)"
check "integrity_check is ok" test "$(sq "PRAGMA integrity_check")" = ok

done_testing
