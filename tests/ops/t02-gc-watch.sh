#!/bin/sh
# aedb gc-watch on the simulator: the memory gauge crosses the threshold
# twice; each crossing gives exactly one GC, only after every finished
# allocation's logs are captured, journaled with the values before and
# after; readings above half the threshold are journaled.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/ops/lib-ops.sh"

check "sim starts" start_sim s --speed 1000 --seed 9 --scenario "$T/ops-scenario.json"
expect_exit 0 "aedb init" "$AEDB" --db "$DB" init
seed_batch g1
dispatch_item g1 a1
dispatch_item g1 a2
check "the pipelines finish (<= 20 s)" wait_until 20 settled 0
expect_exit 0 "aedb track g1 captures the logs" "$AEDB" --db "$DB" track g1 --quiet

gauge() { curl -s "$U/sim/stats" | jq '.AllocBytesGauge'; }
# the simulator's gauge: 64 MiB plus 40 KiB per retained job with its allocation
BASE=67108864
THRESHOLD=$((BASE + 240 * 1024))
check "the gauge is above the threshold (12 jobs retained)" test "$(gauge)" -gt "$THRESHOLD"
jcount() { sql "SELECT count(*) FROM journal WHERE kind = '$1'"; }
has_kind() { [ "$(jcount "$1")" -ge "$2" ]; }
gcs() { stats_count "PUT /v1/system/gc"; }

expect_exit 2 "gc-watch without --threshold is a usage error" "$AEDB" --db "$DB" gc-watch
expect_exit 2 "gc-watch --threshold 6XB is a usage error" "$AEDB" --db "$DB" gc-watch --threshold 6XB

# round 1: a log still pending holds the GC back
sql "UPDATE log SET state = 'pending' WHERE id = (SELECT min(id) FROM log)"
timeout 120 "$AEDB" --db "$DB" gc-watch --batch g1 --threshold "$THRESHOLD" --interval 0.1 --settle 0.1 \
	--wait_logs 30 >"$T/watch.out" 2>"$T/watch.err" &
WATCH=$!
check "the watchdog waits for the pending log (journal gc_wait)" wait_until 10 has_kind gc_wait 1
sleep 0.5
check "no GC while a log is pending" test "$(gcs)" = 0
sql "UPDATE log SET state = 'captured' WHERE state = 'pending'"
check "one GC once the log is captured" wait_until 10 has_kind gc 1
check "the simulator saw exactly one GC" test "$(gcs)" = 1
check "the GC came after the wait" \
	test "$(sql "SELECT (SELECT min(id) FROM journal WHERE kind = 'gc_wait') < (SELECT min(id) FROM journal WHERE kind = 'gc')")" = 1
row1=$(sql "SELECT json_extract(data, '$.before') > $THRESHOLD, json_extract(data, '$.after') < $THRESHOLD,
            batch_id = (SELECT id FROM batch WHERE name = 'g1') FROM journal WHERE kind = 'gc' ORDER BY id LIMIT 1")
check "GC 1 journaled under g1: before above, after below the threshold ($row1)" test "$row1" = "1|1|1"
check "the GC collected g1's dead jobs" \
	test "$(curl -s "$U/sim/truth" | jq '[.Jobs[] | select(.GCd)] | length')" = 12
sleep 1
check "still one GC after 10 more readings" test "$(gcs)" = 1
check "readings above half the threshold are journaled" has_kind memory 5

# round 2: the gauge crosses again with 8 more pipelines
sql "UPDATE log SET state = 'pending' WHERE id = (SELECT min(id) FROM log)"
for i in 1 2 3 4 5 6 7 8; do dispatch_raw g1 "early-$i"; done
check "the early pipelines finish" wait_until 20 settled 0
check "the gauge crossed again" test "$(gauge)" -gt "$THRESHOLD"
check "the watchdog waits again" wait_until 10 has_kind gc_wait 2
check "no second GC while a log is pending" test "$(gcs)" = 1
sql "UPDATE log SET state = 'captured' WHERE state = 'pending'"
check "a second GC" wait_until 10 has_kind gc 2
row2=$(sql "SELECT json_extract(data, '$.before') > $THRESHOLD, json_extract(data, '$.after') < $THRESHOLD
            FROM journal WHERE kind = 'gc' ORDER BY id DESC LIMIT 1")
check "GC 2: before above, after below ($row2)" test "$row2" = "1|1"
sleep 1
check "exactly two GCs for two crossings" test "$(gcs)" = 2

kill -TERM "$WATCH"
wait "$WATCH"
check "gc-watch exits 0 on SIGTERM" test $? = 0
check "gc-watch printed both GCs" test "$(grep -c 'Nomad GC: .* before, .* after' "$T/watch.out")" = 2
check "nothing went wrong" test ! -s "$T/watch.err"

done_testing
