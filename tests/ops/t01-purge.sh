#!/bin/sh
# aedb purge on the simulator with two batches whose names are prefixes of
# each other (b1, b10): only b1's jobs are purged, running jobs and jobs
# with uncaptured logs are skipped (then purged with --include-running and
# --force), --dry-run changes nothing on Nomad or in the database, a
# second purge finds everything already gone, 429/500 are retried, and
# --all-dispatch does the upstream tool's job.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/ops/lib-ops.sh"

check "sim starts" start_sim s --speed 1000 --seed 8 --scenario "$T/ops-scenario.json"
expect_exit 0 "aedb init" "$AEDB" --db "$DB" init
seed_batch b1
seed_batch b10
dispatch_item b1 a1
dispatch_item b1 a2
P2=$JOB
dispatch_item b10 a1
dispatch_item b10 a2
check "every pipeline and stage job finishes (<= 20 s)" wait_until 20 settled 0
expect_exit 0 "aedb track b1 records the batch" "$AEDB" --db "$DB" track b1 --quiet
expect_exit 0 "aedb track b10 records the batch" "$AEDB" --db "$DB" track b10 --quiet
check "b1: 12 jobs recorded, every log captured" \
	test "$(sql "SELECT count(*) FROM job j JOIN batch b ON b.id = j.batch_id WHERE b.name = 'b1';
	             SELECT count(*) FROM log WHERE state != 'captured';" | tr '\n' ' ')" = "12 0 "

# a pipeline never placed (pending), dispatched after tracking: aedb finds it by prefix
dispatch_raw b1 stuck-1
STUCK=$JOB
check "the stuck pipeline stays pending" wait_until 5 settled 1
# one job whose logs are not captured yet
sql "UPDATE log SET state = 'pending' WHERE stream = 'stderr'
     AND job_ref = (SELECT id FROM job WHERE job_id = '$P2');"
truth_of b10 >"$T/b10.before"
check "b10 has 12 jobs on the simulator" test "$(wc -l <"$T/b10.before")" -eq 12

# usage
expect_exit 2 "purge without --batch is a usage error" "$AEDB" --db "$DB" purge
expect_exit 2 "purge of an unknown batch is refused" "$AEDB" --db "$DB" purge --batch nope
grep_file "unknown batch named" "no batch named 'nope'" "$T/err"
expect_exit 2 "--all-dispatch without --yes is refused" "$AEDB" --db "$DB" purge --all-dispatch
grep_file "--yes asked for" "add --yes" "$T/err"
expect_exit 2 "--batch with --all-dispatch is refused" \
	"$AEDB" --db "$DB" purge --batch b1 --all-dispatch --yes
expect_exit 2 "--concurrency 0 is refused" "$AEDB" --db "$DB" purge --batch b1 --concurrency 0

# dry run: reads only
dbsum() { cat "$DB" "$DB-wal" 2>/dev/null | md5sum; }
before=$(dbsum)
deletes=$(stats_count "DELETE /v1/job/:id")
expect_exit 0 "purge --dry-run" "$AEDB" --db "$DB" purge --batch b1 --dry-run
grep_file "dry run summary" "dry run: 13 jobs: would purge 11, already gone 0, skipped running 1, skipped uncaptured 1, failed 0" "$T/out"
grep_file "dry run names the running job" "skipped running .*stuck-1.*status pending" "$T/out"
check "dry run names the uncaptured job and why" \
	grep -qF "skipped uncaptured $P2: 1 log stream not captured" "$T/out"
check "dry run: no DELETE reached the simulator" test "$(stats_count "DELETE /v1/job/:id")" = "$deletes"
check "dry run: the database file is byte-identical" test "$(dbsum)" = "$before"
check "dry run: no b1 job purged on the simulator" \
	test "$(truth_of b1 | grep -c '"Purged":true')" = 0

# the purge
expect_exit 0 "purge b1" "$AEDB" --db "$DB" purge --batch b1 --concurrency 3
grep_file "purge summary" "^13 jobs: purged 11, already gone 0, skipped running 1, skipped uncaptured 1, failed 0" "$T/out"
grep_file "the uncaptured job is named" "skipped uncaptured .*aoi_name=a2,collection" "$T/out"
grep_file "the hint says how to capture" "run 'aedb track b1'" "$T/err"
check "11 b1 jobs purged on the simulator" test "$(truth_of b1 | grep -c '"Purged":true')" = 11
check "the stuck pipeline is not purged" \
	test "$(truth_of b1 | grep -F "$STUCK" | grep -c '"Purged":false')" = 1
check "b10 untouched" cmp -s "$T/b10.before" "$(truth_of b10 >"$T/b10.now"; echo "$T/b10.now")"
check "11 job rows have purged_at, gone_reason purged" \
	test "$(sql "SELECT count(*) FROM job WHERE purged_at IS NOT NULL AND gone_reason = 'purged' AND gone_at IS NOT NULL")" = 11
check "no b10 row touched" \
	test "$(sql "SELECT count(*) FROM job j JOIN batch b ON b.id = j.batch_id WHERE b.name = 'b10' AND (purged_at IS NOT NULL OR gone_at IS NOT NULL)")" = 0
check "the purge is journaled with its counts" \
	test "$(sql "SELECT json_extract(data, '$.purged') || ' ' || json_extract(data, '$.skipped_uncaptured') FROM journal WHERE kind = 'purge' ORDER BY id DESC LIMIT 1")" = "11 1"
check "the batch lock was released" test "$(sql "SELECT count(*) FROM batch_owner")" = 0

# --force purges the uncaptured job; the others read as gone
expect_exit 0 "purge --force" "$AEDB" --db "$DB" purge --batch b1 --force
grep_file "force summary" "^13 jobs: purged 1, already gone 11, skipped running 1, skipped uncaptured 0, failed 0" "$T/out"
# --include-running purges the pending pipeline
expect_exit 0 "purge --include-running" "$AEDB" --db "$DB" purge --batch b1 --include-running
grep_file "include-running summary" "^13 jobs: purged 1, already gone 12, skipped running 0" "$T/out"
check "the stuck pipeline is purged now, and recorded" \
	test "$(sql "SELECT count(*) FROM job WHERE job_id = '$STUCK' AND purged_at IS NOT NULL AND parent = 'pipeline' AND aoi_name = 'stuck-1'")" = 1
# a second purge: everything already gone
expect_exit 0 "purge again" "$AEDB" --db "$DB" purge --batch b1
grep_file "everything already gone" "^13 jobs: purged 0, already gone 13, skipped running 0, skipped uncaptured 0, failed 0" "$T/out"
check "b10 still untouched" cmp -s "$T/b10.before" "$(truth_of b10 >"$T/b10.now"; echo "$T/b10.now")"

# 429 and 500 are retried with backoff
req PUT /sim/faults '{"too_many_requests": 0.2, "no_leader": 0.1}'
expect_exit 0 "purge b10 through 429s and 500s" "$AEDB" --db "$DB" purge --batch b10 --quiet
grep_file "b10 summary" "^12 jobs: purged 12, already gone 0, skipped running 0, skipped uncaptured 0, failed 0" "$T/out"
req PUT /sim/faults '{}'
check "the simulator answered 429s or 500s" \
	test $(($(stats_count "fault: 429") + $(stats_count "fault: no leader"))) -gt 0
check "all 12 b10 jobs purged" test "$(truth_of b10 | grep -c '"Purged":true')" = 12

# --all-dispatch: every dispatched child of one parent, any batch
dispatch_raw other x1
dispatch_raw other x2
check "the other batch finishes" wait_until 20 settled 0
expect_exit 0 "--all-dispatch --job pipeline --dry-run" \
	"$AEDB" --db "$DB" purge --all-dispatch --job pipeline --dry-run --nomad_addr "$U"
grep_file "all-dispatch dry run lists the 2 pipelines left" "would purge 2," "$T/out"
expect_exit 0 "--all-dispatch --job pipeline --yes" \
	"$AEDB" --db "$DB" purge --all-dispatch --job pipeline --yes --nomad_addr "$U"
grep_file "all-dispatch purges them" "^2 jobs: purged 2, already gone 0" "$T/out"
check "other's pipelines are purged, its stage jobs are not" \
	test "$(truth_of other | grep '"Purged":true' | grep -c '^{"ID":"pipeline/')" = 2 -a \
	     "$(truth_of other | grep -c '"Purged":false')" = 10

done_testing
