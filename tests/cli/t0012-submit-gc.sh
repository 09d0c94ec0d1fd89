#!/bin/sh
# aedb submit --gc_threshold: the memory watchdog runs beside the tracker;
# its GC waits until every finished allocation's logs are captured, and
# is journaled with the memory before and after. It needs tracking.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 30, "mosaic": 30, "agreement": 30},
 "gc_threshold": -1,
 "defaults": {"outcome": "success", "scenarios": 1, "catchments": 2}}
JSON
start_sim sim --speed 50 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'g-*6'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# shellcheck disable=SC2046
expect_exit 2 "--gc_threshold with --no-track is refused" \
	"$AEDB" submit $(batch_flags g1 "$T/items.txt" 3 1) --no-track --gc_threshold 1KiB
grep_file "the refusal says why" "needs tracking" "$T/err"
# shellcheck disable=SC2046
expect_exit 2 "a bad size is refused" "$AEDB" submit $(batch_flags g1 "$T/items.txt" 3 1) --gc_threshold lots

# shellcheck disable=SC2046
expect_exit 0 "a batch with the watchdog on runs to the end" \
	timeout 120 "$AEDB" submit $(batch_flags g1 "$T/items.txt" 3 1) --gc_threshold 1KiB --gc_interval 1 --quiet
check "the watchdog triggered a GC" test "$(sq "SELECT count(*) FROM journal WHERE kind = 'gc'")" -ge 1
check "the GC is journaled with the memory before" \
	test "$(sq "SELECT count(*) FROM journal WHERE kind = 'gc' AND json_extract(data, '\$.before') > 1024")" -ge 1
check "no log was left pending" test "$(sq "SELECT count(*) FROM log WHERE state = 'pending'")" -eq 0
check "every finished allocation's logs were captured" \
	test "$(sq "SELECT count(*) FROM alloc a WHERE a.client_status IN ('complete', 'failed') AND NOT EXISTS (SELECT 1 FROM log l WHERE l.alloc_ref = a.id AND l.state = 'captured')")" -eq 0
check "the simulator did run a GC" test "$(curl -s "$U/sim/stats" | jq '.Endpoints["PUT /v1/system/gc"].Count // 0')" -ge 1

done_testing
