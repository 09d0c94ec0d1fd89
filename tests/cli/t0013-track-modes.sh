#!/bin/sh
# aedb track on its own: against a server without an event stream it falls
# back to polling and says so once in the journal; --track_mode poll and
# --log_source cloudwatch; every job recorded as in /sim/truth.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 30, "mosaic": 30, "agreement": 30},
 "gc_threshold": -1,
 "defaults": {"outcome": "success", "scenarios": 1, "catchments": 3},
 "items": [{"match": "*-3", "outcome": "oom", "stage": "inundate"}]}
JSON
start_sim sim --speed 50 --scenario "$T/scenario.json" --no-event-stream || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/a.txt" 'a-*4'
make_items "$T/b.txt" 'b-*4'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# shellcheck disable=SC2046
expect_exit 0 "batch a is dispatched without tracking" "$AEDB" submit $(batch_flags a "$T/a.txt" 100 0) --no-track --quiet
check "a --no-track batch is left draining" test "$(sq "SELECT state FROM batch WHERE name = 'a'")" = draining
expect_exit 3 "aedb track follows it to the end without an event stream" \
	timeout 120 "$AEDB" track a --db "$T/aedb.db" --quiet --log_dir "$T/logs"
check "the fallback is journaled once" \
	test "$(sq "SELECT count(*) FROM journal j JOIN batch b ON b.id = j.batch_id WHERE b.name = 'a' AND kind = 'no_event_stream'")" -eq 1
check "batch a is done" test "$(sq "SELECT state FROM batch WHERE name = 'a'")" = done
curl -s "$U/sim/truth" >"$T/truth.json"
check "every job of batch a is recorded" \
	test "$(sq "SELECT count(*) FROM job j JOIN batch b ON b.id = j.batch_id WHERE b.name = 'a'")" -eq \
	"$(jq '[.Jobs[] | select(.Tags.batch_name == "a")] | length' "$T/truth.json")"
check "the OOM item is failed, the others succeeded" \
	test "$(sq "SELECT group_concat(item || '=' || outcome, ' ') FROM (SELECT item, outcome FROM item_outcome WHERE batch = 'a' ORDER BY item)")" = \
	"a-1=success a-2=success a-3=failed a-4=success"
check "logs were captured" test "$(sq "SELECT count(*) FROM log l JOIN batch b ON b.id = l.batch_id WHERE b.name = 'a' AND l.state = 'captured'")" -ge 10

# shellcheck disable=SC2046
expect_exit 0 "batch b is dispatched without tracking" "$AEDB" submit $(batch_flags b "$T/b.txt" 100 0) --no-track --quiet
expect_exit 3 "--track_mode poll with CloudWatch pointers" \
	timeout 120 "$AEDB" track b --db "$T/aedb.db" --quiet --track_mode poll --log_source cloudwatch \
	--cloudwatch_log_group /aws/test-group
check "no fallback entry when polling was asked for" \
	test "$(sq "SELECT count(*) FROM journal j JOIN batch b ON b.id = j.batch_id WHERE b.name = 'b' AND kind = 'no_event_stream'")" -eq 0
check "log rows point at CloudWatch: group and stream = job id" \
	test "$(sq "SELECT count(*) FROM log l JOIN job j ON j.id = l.job_ref JOIN batch b ON b.id = l.batch_id WHERE b.name = 'b' AND l.source = 'cloudwatch' AND l.cw_group = '/aws/test-group' AND l.cw_stream = j.job_id AND l.path IS NULL")" -ge 10
check "no log was fetched for batch b" test ! -e "$T/logs/b"
check "Nomad's OOM verdict decides without the log" \
	test "$(sq "SELECT outcome || ' ' || cause FROM item_outcome WHERE item = 'b-3'")" = "failed oom_killed"

done_testing
