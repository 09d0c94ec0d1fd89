#!/bin/sh
# Tracking through trouble: a pipeline never placed (stuck) is failed after
# the placement timeout so the batch ends; logs the client has already
# collected are recorded unavailable with Nomad's reason, and their items
# are log_missing, never a success or a silent failure; 500s and 429s on
# reads are survived; every job is recorded.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 30, "mosaic": 30, "agreement": 30},
 "defaults": {"outcome": "success", "scenarios": 1, "catchments": 2},
 "items": [{"match": "stuck-*", "outcome": "stuck"}]}
JSON
start_sim sim --speed 60 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'ok-*6' 'stuck-1'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# the client has already collected every allocation's logs: each log
# request answers 404 "state for allocation ... not found on client"; and
# reads fail with 500 or 429 now and then
curl -s -X PUT "$U/sim/faults" -d '{"log_404": 1, "no_leader": 0.03, "too_many_requests": 0.03}' >/dev/null
# shellcheck disable=SC2046
expect_exit 3 "the batch ends despite a stuck pipeline (exit 3: failed items)" \
	timeout 150 "$AEDB" submit $(batch_flags f1 "$T/items.txt" 10 2) --placement_timeout 4 --quiet
check "the stuck pipeline's job is marked stuck" \
	test "$(sq "SELECT count(*) FROM job WHERE parent = 'pipeline' AND stuck_at IS NOT NULL")" -eq 1
check "the stuck item failed with cause stuck" \
	test "$(sq "SELECT outcome || ' ' || cause FROM item_outcome WHERE item = 'stuck-1'")" = "failed stuck"
check "the journal says so" test "$(sq "SELECT count(*) FROM journal WHERE kind = 'stuck'")" -ge 1
check "every log is recorded unavailable" \
	test "$(sq "SELECT count(*) FROM log WHERE state <> 'unavailable'")" -eq 0
check "with Nomad's reason" \
	test "$(sq "SELECT count(*) FROM log WHERE reason NOT LIKE '%not found on client%'")" -eq 0
check "there are logs: two streams per task of every finished allocation" \
	test "$(sq "SELECT count(*) FROM log")" -eq "$(sq "SELECT 2 * count(*) FROM alloc WHERE client_status IN ('complete', 'failed', 'lost')")"
check "no item is called a success or a silent failure without its log" \
	test "$(sq "SELECT count(*) FROM item_outcome WHERE outcome IN ('success', 'silent')")" -eq 0
check "the six pipelines that ran are log_missing, with the reason" \
	test "$(sq "SELECT count(*) FROM item_outcome WHERE item LIKE 'ok-%' AND outcome = 'log_missing' AND reason LIKE 'pipeline log unavailable%'")" -eq 6
curl -s "$U/sim/truth" >"$T/truth.json"
check "every job of the truth is recorded" \
	test "$(sq "SELECT count(*) FROM job")" -eq "$(jq '[.Jobs[] | select(.Tags.batch_name == "f1")] | length' "$T/truth.json")"

done_testing
