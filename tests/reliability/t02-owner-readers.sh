#!/bin/sh
# One owner per batch, and readers never disturb the writer: a second
# submitter of a running batch is refused; sqlite3 readers in a loop during
# a submit never make it fail (the readers wait up to 5 s for a lock, as
# any SQLite reader should: a WAL checkpoint may hold one briefly).
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"durations": {"pipeline": 20, "inundate": 20, "mosaic": 20, "agreement": 20},
 "defaults": {"outcome": "success", "scenarios": 1, "catchments": 2}}
JSON
start_sim sim --speed 100 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'r-*60'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }
flags=$(batch_flags own "$T/items.txt" 5 2)

# shellcheck disable=SC2086
"$AEDB" submit $flags --quiet >"$T/first.out" 2>"$T/first.err" &
first=$!
i=0
while [ "$(sq "SELECT count(*) FROM batch_owner" 2>/dev/null)" != 1 ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
# shellcheck disable=SC2086
expect_exit 2 "a second submitter of the same batch is refused" "$AEDB" submit $flags --quiet
grep_file "the refusal names the owner" "being worked on by 'aedb submit' (pid $first" "$T/err"
expect_exit 2 "aedb resume is refused too" "$AEDB" resume own --db "$T/aedb.db" --quiet
expect_exit 2 "aedb track is refused too" "$AEDB" track own --db "$T/aedb.db" --quiet

# readers in a loop while it runs (bounded: at most 60 s)
reads=0
fails=0
end=$(( $(date +%s) + 60 ))
while kill -0 $first 2>/dev/null && [ "$(date +%s)" -lt $end ]; do
	sqlite3 -cmd '.timeout 5000' "$T/aedb.db" "SELECT count(*) FROM item; SELECT count(*) FROM job; SELECT * FROM journal ORDER BY id DESC LIMIT 3;" \
		>/dev/null 2>>"$T/reader.err" || fails=$((fails + 1))
	reads=$((reads + 1))
done
wait_pid $first 240
rc=$?
check "the submitter finished with exit 0 despite $reads reads" test $rc -eq 0
check "no reader failed" test $fails -eq 0
[ -s "$T/reader.err" ] && sed 's/^/# reader: /' "$T/reader.err" | head -5
check "the batch is done" test "$(sq "SELECT state FROM batch")" = done

done_testing
