#!/bin/sh
# A whole batch through aedb submit against the simulator: throttle limits
# and journal, exactly one pipeline per item, outcomes of every kind tracked
# to the end and equal to the simulator's truth, logs captured.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 30, "mosaic": 60, "agreement": 60},
 "start_delay": 1,
 "defaults": {"outcome": "success", "scenarios": 2, "catchments": 2},
 "items": [
   {"match": "early-*", "outcome": "early_exit"},
   {"match": "fail-*", "outcome": "failed", "message": "RuntimeError: no benchmark data"},
   {"match": "err-*", "outcome": "stage_error", "stage": "inundate"},
   {"match": "oom-*", "outcome": "oom", "stage": "agreement"},
   {"match": "lost-*", "outcome": "lost", "stage": "mosaic"}
 ]}
JSON
start_sim sim --speed 400 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/all.txt" 'ok-*12' 'early-*2' 'fail-*2' 'err-*2' 'oom-*2' 'lost-*2' 'new-1'
grep -v '^new-' "$T/all.txt" >"$T/items.txt"
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# shellcheck disable=SC2046
expect_exit 3 "the batch runs to the end; failed items give exit 3" \
	timeout 150 "$AEDB" submit $(batch_flags b1 "$T/items.txt" 4 2) --jobs 4
grep_file "the summary is printed" "batch 'b1': 22 items, 22 dispatched, 0 failed" "$T/out"

curl -s "$U/sim/truth" >"$T/truth.json"
curl -s "$U/sim/stats" >"$T/stats.json"
check "the simulator never had more than 4 active pipelines" \
	test "$(jq .PeakActivePipelines "$T/stats.json")" -le 4
check "it did reach the stop threshold" test "$(jq .PeakActivePipelines "$T/stats.json")" -eq 4
check "the journal shows pauses" test "$(sq "SELECT count(*) FROM journal WHERE kind = 'pause'")" -ge 1
check "the journal shows resumes" test "$(sq "SELECT count(*) FROM journal WHERE kind = 'resume'")" -ge 1
check "every pause was at >= 4 active" \
	test "$(sq "SELECT count(*) FROM journal WHERE kind = 'pause' AND json_extract(data, '\$.active') < 4")" -eq 0
check "every resume was at <= 2 active" \
	test "$(sq "SELECT count(*) FROM journal WHERE kind = 'resume' AND json_extract(data, '\$.active') > 2")" -eq 0

jq -r '.Jobs[] | select(.ParentID == "pipeline") | .Tags.aoi_name' "$T/truth.json" | sort >"$T/truth-items"
check "every item was dispatched exactly once" test "$(uniq -d "$T/truth-items" | wc -l)" -eq 0
check "no item was left out" test "$(wc -l <"$T/truth-items")" -eq 22
jq -r '.Jobs[] | select(.ParentID == "pipeline") | .ID' "$T/truth.json" | sort >"$T/truth-ids"
sq "SELECT job_id FROM attempt ORDER BY job_id" | sort >"$T/db-ids"
check "the database's job ids are the simulator's" cmp -s "$T/truth-ids" "$T/db-ids"
check "the meta is upstream's" test "$(jq -r '[.Jobs[] | select(.ParentID == "pipeline")][0].Meta | keys | join(",")' "$T/truth.json")" = \
	"aoi,benchmark_sources,hand_index_path,nomad_token,outputs_path,registry_token,tags"
check "outputs_path is <root>/<item>/" test "$(jq -r '[.Jobs[] | select(.Tags.aoi_name == "ok-1" and .ParentID == "pipeline")][0].Meta.outputs_path' "$T/truth.json")" = "$T/outroot/ok-1/"

# outcomes: the simulator's plan against aedb's verdict
jq -r '.Jobs[] | select(.ParentID == "pipeline") | "\(.Tags.aoi_name) \(if .Outcome == "success" or .Outcome == "early_exit" then .Outcome else "failed" end)"' \
	"$T/truth.json" | sort >"$T/want-outcomes"
sq "SELECT item || ' ' || outcome FROM item_outcome" | sort >"$T/got-outcomes"
if cmp -s "$T/want-outcomes" "$T/got-outcomes"; then ok "every item's outcome equals the truth"; else
	not_ok "every item's outcome equals the truth"; diff "$T/want-outcomes" "$T/got-outcomes" | sed 's/^/# /'; fi
check "OOM is told from the task event" \
	test "$(sq "SELECT count(*) FROM item_outcome WHERE item LIKE 'oom-%' AND cause = 'oom_killed'")" -eq 2
check "the lost allocation and its replacement are linked" \
	test "$(sq "SELECT count(*) FROM alloc a JOIN alloc b ON b.alloc_id = a.next_alloc WHERE a.client_status = 'lost'")" -ge 2

# stage jobs tied to their items, tags as columns
check "every stage job is tied to an item" test "$(sq "SELECT count(*) FROM job WHERE item_id IS NULL")" -eq 0
check "stage jobs carry scenario tags" \
	test "$(sq "SELECT count(*) FROM job WHERE parent = 'hand_inundator' AND (scenario IS NULL OR catchment IS NULL OR bench_src IS NULL)")" -eq 0
check "the database holds every job the simulator made" \
	test "$(sq "SELECT count(*) FROM job")" -eq "$(jq '[.Jobs[] | select(.Tags.batch_name == "b1")] | length' "$T/truth.json")"

# logs: captured in the operators' layout, equal to what Nomad serves
f=$(sq "SELECT path FROM log WHERE state = 'captured' AND stream = 'stderr' AND task = 'coordinator' LIMIT 1")
check "logs are captured under logs/<batch>/<job id>/" test -s "$T/logs/$f"
a=$(sq "SELECT a.alloc_id FROM log l JOIN alloc a ON a.id = l.alloc_ref WHERE l.path = '$f'")
curl -s -g "$U/v1/client/fs/logs/$a?task=coordinator&type=stderr&plain=true" >"$T/served"
check "the captured log equals what the simulator serves" cmp -s "$T/served" "$T/logs/$f"
check "no log is pending" test "$(sq "SELECT count(*) FROM log WHERE state = 'pending'")" -eq 0
check "the batch is done" test "$(sq "SELECT state FROM batch")" = done
check "the lock is released" test "$(sq "SELECT count(*) FROM batch_owner")" -eq 0
check "integrity_check is ok" test "$(sq "PRAGMA integrity_check")" = ok

# submitting the same batch again: other parameters are refused, listed;
# new items of the list are added and only they are dispatched
sum=$(sha256sum <"$T/aedb.db")
# shellcheck disable=SC2046
expect_exit 2 "other parameters for an existing batch are refused" \
	"$AEDB" submit $(batch_flags b1 "$T/items.txt" 5 2) --quiet
grep_file "the difference is listed" "stop_threshold: stored 4, given 5" "$T/err"
grep_file "the way on is named" "aedb resume b1" "$T/err"
check "the refused submit changed nothing" test "$(sha256sum <"$T/aedb.db")" = "$sum"
cp "$T/all.txt" "$T/items.txt"
# shellcheck disable=SC2046
expect_exit 3 "the same batch with one more item continues it" \
	timeout 60 "$AEDB" submit $(batch_flags b1 "$T/items.txt" 4 2) --quiet
check "only the new item was dispatched" \
	test "$(curl -s "$U/sim/truth" | jq '[.Jobs[] | select(.ParentID == "pipeline")] | length')" -eq 23
check "the new item succeeded" test "$(sq "SELECT outcome FROM item_outcome WHERE item = 'new-1'")" = success

done_testing
