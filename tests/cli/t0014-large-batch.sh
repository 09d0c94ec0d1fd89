#!/bin/sh
# A batch larger than the submitter's page of pending items (2,048): every
# item is dispatched exactly once, in list order, across page boundaries,
# also when the run is interrupted in the middle and resumed.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"
. "$AEDB_SOURCE_ROOT/tests/cli/lib-batch.sh"

cat >"$T/scenario.json" <<'JSON'
{"defaults": {"outcome": "early_exit"}}
JSON
start_sim sim --speed 1000 --scenario "$T/scenario.json" || { echo "Bail out! no simulator"; exit 1; }
make_items "$T/items.txt" 'big-*4500'
start_stac "$T/stac" || { echo "Bail out! no STAC server"; exit 1; }
flags=$(batch_flags big "$T/items.txt" 100000 0)

# shellcheck disable=SC2086
timeout 300 "$AEDB" submit $flags --no-track --quiet --jobs 8 >/dev/null 2>"$T/first.err" &
pid=$!
i=0
while [ "$(sq "SELECT count(*) FROM item WHERE state = 'dispatched'" 2>/dev/null || echo 0)" -lt 2500 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -INT $pid
wait $pid
check "the first run was interrupted (exit 130) past the first page" test $? -eq 130
expect_exit 0 "resume finishes the batch" timeout 120 "$AEDB" resume big --db "$T/aedb.db" --no-track --quiet
curl -s "$U/sim/truth" >"$T/truth.json"
check "4,500 pipelines on Nomad" \
	test "$(jq '[.Jobs[] | select(.ParentID == "pipeline")] | length' "$T/truth.json")" -eq 4500
check "no item twice" \
	test "$(jq -r '.Jobs[] | select(.ParentID == "pipeline") | .Tags.aoi_name' "$T/truth.json" | sort | uniq -d | wc -l)" -eq 0
check "every item dispatched" test "$(sq "SELECT count(*) FROM item WHERE state = 'dispatched'")" -eq 4500
check "dispatched in list order" test "$(sq "
	SELECT count(*) FROM attempt a JOIN item i ON i.id = a.item_id
	JOIN attempt b JOIN item j ON j.id = b.item_id
	WHERE i.line < j.line AND a.id > b.id")" -eq 0

done_testing
