#!/bin/sh
# A cluster with ACLs: GC without a management token answers 403. gc-watch
# reports it once, clearly, and keeps reading memory; with the token it
# collects. purge without a token fails with a hint; the token is never
# written to the database.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/ops/lib-ops.sh"

TOKEN=s3cret-mgmt-token
check "sim starts in ACL mode" start_sim s --speed 1000 --acl-token "$TOKEN" \
	--scenario "$T/ops-scenario.json"
expect_exit 0 "aedb init" "$AEDB" --db "$DB" init
jcount() { sql "SELECT count(*) FROM journal WHERE kind = '$1'"; }
memory_after_refusal() {
	[ "$(sql "SELECT count(*) FROM journal WHERE kind = 'memory'
	          AND id > (SELECT min(id) FROM journal WHERE kind = 'gc_refused')")" -ge "$1" ]
}

# no token: every reading is above the threshold, the GC is refused
timeout 120 "$AEDB" --db "$DB" gc-watch --threshold 1KiB --interval 0.1 --nomad_addr "$U" \
	>"$T/watch.out" 2>"$T/watch.err" &
WATCH=$!
check "readings go on after the 403" wait_until 10 memory_after_refusal 5
kill -TERM "$WATCH"
wait "$WATCH"
check "gc-watch survived and exits 0 on SIGTERM" test $? = 0
check "the 403 is journaled once" test "$(jcount gc_refused)" = 1
check "the 403 is reported once" test "$(grep -c 'GC refused' "$T/watch.err")" = 1
grep_file "the report says a management token is needed" \
	"it needs a management token (NOMAD_TOKEN or --nomad_token)" "$T/watch.err"
grep_file "the report carries Nomad's text" "Permission denied" "$T/watch.err"
check "no GC happened" test "$(stats_count "PUT /v1/system/gc")" = 0
check "the simulator denied it" test "$(stats_count "acl: denied")" -ge 1

expect_exit 1 "gc-watch --once without a token exits 1" \
	"$AEDB" --db "$DB" gc-watch --once --threshold 1KiB --settle 0 --nomad_addr "$U"
grep_file "--once reports the 403" "needs a management token" "$T/err"

# with the token
expect_exit 0 "gc-watch --once --nomad_token collects" \
	"$AEDB" --db "$DB" gc-watch --once --threshold 1KiB --settle 0.1 --nomad_addr "$U" \
	--nomad_token "$TOKEN"
grep_file "it prints the GC" "Nomad GC: .* before, .* after" "$T/out"
check "one GC on the simulator" test "$(stats_count "PUT /v1/system/gc")" = 1
expect_exit 0 "NOMAD_TOKEN works too" \
	env NOMAD_TOKEN="$TOKEN" "$AEDB" --db "$DB" gc-watch --once --threshold 1KiB --settle 0 \
	--nomad_addr "$U"
check "two GCs on the simulator" test "$(stats_count "PUT /v1/system/gc")" = 2
check "each GC is journaled with before and after" \
	test "$(sql "SELECT count(*) FROM journal WHERE kind = 'gc' AND json_extract(data, '$.before') > 0 AND json_extract(data, '$.after') > 0")" = 2
mem=$(jcount memory)
expect_exit 0 "gc-watch --once under half the threshold" \
	"$AEDB" --db "$DB" gc-watch --once --threshold 1TiB --nomad_addr "$U"
grep_file "it prints the reading" "Nomad server memory .* (threshold 1.00 TiB)" "$T/out"
check "a reading under half the threshold is not journaled" test "$(jcount memory)" = "$mem"

# purge without the token fails, with a hint
seed_batch acl1
expect_exit 1 "purge without a token exits 1" "$AEDB" --db "$DB" purge --batch acl1
grep_file "purge names the token" "NOMAD_TOKEN" "$T/err"
expect_exit 0 "purge with the token" "$AEDB" --db "$DB" purge --batch acl1 --nomad_token "$TOKEN"
grep_file "nothing to purge" "no jobs to purge for batch 'acl1'" "$T/out"
check "the token is nowhere in the database" sh -c "! cat '$DB' '$DB-wal' 2>/dev/null | grep -qa '$TOKEN'"

done_testing
