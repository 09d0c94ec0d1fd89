#!/bin/sh
# Tracking against a server that keeps almost no event history: with an
# event buffer of two batches, every reconnect of the stream resumes past
# events the server no longer holds (Nomad then starts silently at the
# oldest batch it has), and a reader that falls behind loses its
# subscription. Nothing may be missed: the database must end exactly as
# the simulator's truth, job by job and allocation by allocation.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 10, "inundate": 20, "mosaic": 20, "agreement": 20},
 "gc_threshold": -1,
 "defaults": {"outcome": "success", "scenarios": 2, "catchments": 2},
 "items": [{"match": "?-1*", "outcome": "stage_error", "stage": "mosaic"},
           {"match": "?-2*", "outcome": "lost", "stage": "inundate"}]}
JSON
start_sim sim --speed 120 --event-buffer-size 2 --scenario "$T/scenario.json" ||
	{ echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 's-*30'
make_items "$T/items2.txt" 'r-*30'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }

# compare BATCH DB WHAT: the database holds every job and allocation of the
# batch in the simulator's last state
compare() {
	curl -s -m 10 "$U/sim/truth" >"$T/truth.json"
	jq -r --arg b "$1" '.Jobs[] | select(.Tags.batch_name == $b) | "\(.ID)|\(.Status)"' \
		"$T/truth.json" | sort >"$T/truth-jobs.txt"
	jq -r --arg b "$1" '.Jobs[] | select(.Tags.batch_name == $b) | .ID as $j | .Allocations[] |
		"\($j)|\(.ID)|\(.ClientStatus)"' "$T/truth.json" | sort >"$T/truth-allocs.txt"
	sqlite3 "$2" "SELECT job_id || '|' || status FROM job" | sort >"$T/db-jobs.txt"
	sqlite3 "$2" "SELECT j.job_id || '|' || a.alloc_id || '|' || a.client_status FROM alloc a
	    JOIN job j ON j.id = a.job_ref" | sort >"$T/db-allocs.txt"
	check "$3: the truth has stage jobs" test "$(wc -l <"$T/truth-jobs.txt")" -ge 150
	for what in jobs allocs; do
		if cmp -s "$T/truth-$what.txt" "$T/db-$what.txt"; then
			ok "$3: every one of the $what is recorded in its last state"
		else
			not_ok "$3: every one of the $what is recorded in its last state"
			diff "$T/truth-$what.txt" "$T/db-$what.txt" | head -10 | sed 's/^/# /'
		fi
	done
	check "$3: no log is left pending" \
		test "$(sqlite3 "$2" "SELECT count(*) FROM log WHERE state = 'pending'")" -eq 0
}

# 1. the submitter's own tracker follows the batch from its start
# shellcheck disable=SC2046
expect_exit 3 "the batch runs to its end (exit 3: failed items)" \
	timeout 150 "$AEDB" submit $(batch_flags sb "$T/items.txt" 30 0) --quiet
check "the simulator has finished every pipeline" \
	test "$(curl -s -m 10 "$U/sim/stats" | jq .ActivePipelines)" -eq 0
compare sb "$T/aedb.db" "followed"
check "the stream was lost and resumed" \
	test "$(curl -s -m 10 "$U/sim/stats" | jq '.Endpoints["GET /v1/event/stream"].Count')" -ge 2

# 2. a tracker killed again and again: each restart resumes from an index
# the server has long dropped, so the events of a job and of its
# allocations are apart (an allocation lost and replaced does not move its
# job's ModifyIndex)
# shellcheck disable=SC2046
expect_exit 0 "a second batch is dispatched without tracking" \
	"$AEDB" submit $(batch_flags rb "$T/items2.txt" 30 0) --no-track --quiet --db "$T/r.db"
for ms in 300 150 450 200 350 250; do
	"$AEDB" track rb --db "$T/r.db" --quiet --log_dir "$T/rlogs" >/dev/null 2>>"$T/track.err" &
	pid=$!
	sleep "0.$ms"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	sleep 0.8 # changes pile up with nobody listening
done
expect_exit 3 "the last tracker runs to the end (exit 3: failed items)" \
	timeout 120 "$AEDB" track rb --db "$T/r.db" --quiet --log_dir "$T/rlogs"
compare rb "$T/r.db" "killed"

# 3. what a lost event leaves behind: allocations that were lost and
# replaced without their job's ModifyIndex moving. A tracker started over
# that database must notice from the job summary's counts and read them.
lost=$(sqlite3 "$T/r.db" "SELECT count(*) FROM alloc WHERE client_status = 'lost'")
check "the batch has lost allocations" test "$lost" -ge 1
sqlite3 "$T/r.db" "PRAGMA foreign_keys = ON; DELETE FROM alloc WHERE client_status = 'lost'"
expect_exit 3 "a tracker started again runs to the end" \
	timeout 120 "$AEDB" track rb --db "$T/r.db" --quiet --log_dir "$T/rlogs"
compare rb "$T/r.db" "restarted"

done_testing
