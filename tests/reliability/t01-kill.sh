#!/bin/sh
# Exactly once across kill -9: a 300-item batch against a simulator that
# drops 5 % of dispatch responses (after creating the job) and answers 5 %
# of requests with 500 "No cluster leader". The submitter is killed with
# SIGKILL at random instants, at least 50 times, and restarted each time;
# then it runs to the end. /sim/truth must show every item dispatched
# exactly once, the database must agree, and integrity_check must pass.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

KILLS=${AEDB_KILLS:-50}
cat >"$T/scenario.json" <<'JSON'
{"defaults": {"outcome": "early_exit"},
 "faults": {"dispatch_drop_response": 0.05, "no_leader": 0.05}}
JSON
start_sim sim --speed 1000 --seed 7 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'it-*300'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }
flags=$(batch_flags rel "$T/items.txt" 100000 0)

# shellcheck disable=SC2086
"$AEDB" submit $flags --no-track --quiet --wait_seconds 0.01 >/dev/null 2>"$T/first.err" &
pid=$!
# the first kill once the batch is recorded (validation may take a while
# under the sanitizers, with 5 % of Nomad's answers failing)
i=0
while [ "$(sq "SELECT count(*) FROM item" 2>/dev/null || echo 0)" -eq 0 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.2
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
kills=1
seed=12345
while [ $kills -lt "$KILLS" ]; do
	# a pseudo-random instant between 20 and 400 ms
	seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
	ms=$(( 20 + seed % 380 ))
	"$AEDB" resume rel --db "$T/aedb.db" --no-track --quiet >/dev/null 2>>"$T/runs.err" &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	kills=$((kills + 1))
done
ok "killed the submitter $kills times"
diag "$(sq "SELECT count(*) FROM item WHERE state = 'dispatched'") of 300 dispatched before the last run"

expect_exit 0 "the last run completes the batch" timeout 120 "$AEDB" resume rel --db "$T/aedb.db" --no-track --quiet
curl -s "$U/sim/truth" >"$T/truth.json"
jq -r '.Jobs[] | select(.ParentID == "pipeline") | .Tags.aoi_name' "$T/truth.json" | sort >"$T/dispatched"
check "300 pipelines exist on Nomad" test "$(wc -l <"$T/dispatched")" -eq 300
dups=$(uniq -d "$T/dispatched" | wc -l)
check "no item was dispatched twice ($dups duplicates)" test "$dups" -eq 0
check "every item of the list was dispatched" test "$(sort -u "$T/items.txt" | comm -3 - "$T/dispatched" | wc -l)" -eq 0
jq -r '.Jobs[] | select(.ParentID == "pipeline") | .ID' "$T/truth.json" | sort >"$T/truth-ids"
sq "SELECT job_id FROM attempt WHERE state = 'dispatched'" | sort >"$T/db-ids"
check "the database's dispatched job ids are exactly the simulator's" cmp -s "$T/truth-ids" "$T/db-ids"
check "no attempt is left dispatching" test "$(sq "SELECT count(*) FROM attempt WHERE state = 'dispatching'")" -eq 0
check "one attempt per item" test "$(sq "SELECT count(*) FROM attempt")" -eq 300
check "integrity_check is ok" test "$(sq "PRAGMA integrity_check")" = ok
check "faults happened: unknown dispatch outcomes were reconciled" \
	test "$(sq "SELECT count(*) FROM journal WHERE kind IN ('dispatch_unknown', 'adopted')")" -ge 1
check "stale locks of killed submitters were taken over" \
	test "$(sq "SELECT count(*) FROM journal WHERE kind = 'lock_takeover'")" -ge 1

done_testing
