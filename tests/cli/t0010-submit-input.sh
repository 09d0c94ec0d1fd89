#!/bin/sh
# aedb submit refuses bad input before writing anything: every problem is
# reported together, exit 2, and the database is absent or byte-identical.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"

start_sim sim --speed 100 || { echo "Bail out! nomad-sim did not start"; exit 1; }
mkdir -p "$T/outroot"
printf 'good-1\ngood-2\n' >"$T/items.txt"

# the flags every case shares; each case overrides one
base() {
	echo --batch_name b1 --item_list "$T/items.txt" --output_root "$T/outroot" \
		--use-local-output --hand_index_path s3://hand/index \
		--benchmark_sources usgs-fim-collection --stop_threshold 10 --resume_threshold 5 \
		--stac_api_url http://127.0.0.1:9 --nomad_addr "$U" --db "$T/a.db"
}

expect_exit 2 "no flags at all" "$AEDB" submit --db "$T/a.db"
for f in --batch_name --item_list --output_root --hand_index_path --benchmark_sources \
	--stop_threshold --resume_threshold; do
	grep_file "missing $f is reported" "$f is required" "$T/err"
done
grep_file "nothing was written is said" "nothing was written" "$T/err"
check "no database was created" test ! -e "$T/a.db"

# shellcheck disable=SC2046
expect_exit 2 "resume >= stop" "$AEDB" submit $(base) --resume_threshold 10
grep_file "the threshold rule is named" "resume_threshold (10) must be below --stop_threshold (10)" "$T/err"
# shellcheck disable=SC2046
expect_exit 2 "a negative threshold" "$AEDB" submit $(base) --resume_threshold -1
# shellcheck disable=SC2046
expect_exit 2 "a bad --hull" "$AEDB" submit $(base) --hull sometimes
grep_file "--hull is explained" "hull takes auto, always or never" "$T/err"
# shellcheck disable=SC2046
expect_exit 2 "a bad --count_scope" "$AEDB" submit $(base) --count_scope galaxy
# shellcheck disable=SC2046
expect_exit 2 "a bad --wait_seconds" "$AEDB" submit $(base) --wait_seconds soon

printf 'ok-1\r\nbad id\r\n\r\nx/y\nok-1\nq[1]\nz=1\n' >"$T/bad.txt"
# shellcheck disable=SC2046
expect_exit 2 "an item list with bad ids" "$AEDB" submit $(base) --item_list "$T/bad.txt" --stop_threshold 0
grep_file "line 2: a space" "line 2: a space is not allowed" "$T/err"
grep_file "line 4: a slash" "line 4: '/' is not allowed" "$T/err"
grep_file "line 6: a bracket" "line 6: '\[' is not allowed" "$T/err"
grep_file "line 7: an equals sign" "line 7: '=' is not allowed" "$T/err"
grep_file "and the bad threshold, together" "stop_threshold takes a whole number" "$T/err"
check "still no database" test ! -e "$T/a.db"

# shellcheck disable=SC2046
expect_exit 2 "a missing item list" "$AEDB" submit $(base) --item_list "$T/none.txt"
grep_file "the missing file is named" "cannot read item list '$T/none.txt'" "$T/err"

# shellcheck disable=SC2046
expect_exit 2 "a batch name with a comma" "$AEDB" submit $(base) --batch_name "a,b"

# shellcheck disable=SC2046
expect_exit 2 "Nomad that does not answer" "$AEDB" submit $(base) --nomad_addr http://127.0.0.1:9
grep_file "the address is named" "127.0.0.1:9" "$T/err"
# shellcheck disable=SC2046
expect_exit 2 "a job that is not registered" "$AEDB" submit $(base) --job nope
grep_file "the job is named" "no job 'nope'" "$T/err"
check "still no database after Nomad problems" test ! -e "$T/a.db"

# an existing database stays byte-identical
"$AEDB" init --db "$T/a.db" >/dev/null
sum=$(sha256sum <"$T/a.db")
# shellcheck disable=SC2046
expect_exit 2 "bad input with an existing database" "$AEDB" submit $(base) --item_list "$T/bad.txt"
check "the database is byte-identical" test "$(sha256sum <"$T/a.db")" = "$sum"
check "no request reached the dispatch endpoint" \
	test "$(curl -s "$U/sim/stats" | jq '[.Endpoints | to_entries[] | select(.key | test("dispatch")) | .value.Count] | add // 0')" = 0

done_testing
