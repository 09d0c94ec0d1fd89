#!/bin/sh
# Benchmark (not a test): `aedb import-logs` + `aedb report --compat` on an
# upstream log tree, against a straightforward single pass over the same
# tree that applies the upstream rules with grep -E -i (what
# local_reports.py does: read every stderr line of every job, test the
# patterns). Prints both times and their ratio.
#
#   tools/bench/report-bench.sh BUILD_DIR [ITEMS]   (default 500 items, ~30,000 files)
set -eu
build=${1:?usage: report-bench.sh BUILD_DIR [ITEMS]}
items=${2:-500}
aedb="$build/cmd/aedb"
gen="$build/tools/gen-synthdb/gen-synthdb"
w=$(mktemp -d "${TMPDIR:-/tmp}/aedb-bench.XXXXXX")
trap 'rm -rf "$w"' EXIT

"$gen" --logtree "$w/logs/bench" --run-list "$w/run.txt" --items "$items" --batch bench
files=$(find "$w/logs/bench" -name '*.stderr.*' | wc -l)
sync

now() { date +%s.%N; }

# the straightforward reader: one pass per job kind over its stderr files
naive() {
	out=$1
	mkdir -p "$out"
	aoi() { sed -n 's/.*aoi_name=\([^,]*\).*/\1/p' | sort -u; }
	find "$w/logs/bench/pipeline" -name '*.stderr.*' -print0 |
		xargs -0 grep -l -i 'Pipeline SUCCESS' 2>/dev/null | aoi >"$out/success"
	find "$w/logs/bench/pipeline" -name '*.stderr.*' -print0 |
		xargs -0 grep -l -i 'Pipeline FAILED' 2>/dev/null | aoi >"$out/failed"
	find "$w/logs/bench/pipeline" -name '*.stderr.*' -print0 |
		xargs -0 grep -l -E -i 'OOM|HTTPConnectionPool|BaseNomadException|JobStatus\.(LOST|STOPPED|CANCELLED)|botocore\.exceptions\.ClientError' 2>/dev/null |
		aoi >"$out/job_errors"
	for p in agreement_maker fim_mosaicker; do
		[ -d "$w/logs/bench/$p" ] || continue
		find "$w/logs/bench/$p" -name '*.stderr.*' -print0 | xargs -0 grep -H -E -i 'error|warn' 2>/dev/null |
			grep -v -E -i 'Agreement map contains no valid data|distributed\.shuffle|No features found|Worker is at|distributed\.worker\.memory - WARNING - Unmanaged memory use is high|gc\.collect|Warning 1: Request for [0-9]+-[0-9]+ failed with response_code=[0-9]+|Failed to communicate with scheduler during heartbeat|NotGeoreferencedWarning|distributed\.comm\.core\.CommClosedError|UserWarning: Sending large graph|is already in use|warnings\.warn|has GPKG application_id|distributed\.nanny - WARNING - Worker process still alive' |
			cut -d: -f1 | aoi
	done | sort -u >"$out/agr_mos"
	find "$w/logs/bench/hand_inundator" -name '*.stderr.*' -print0 | xargs -0 grep -H -E -i 'error|warn' 2>/dev/null |
		grep -v -E -i "No matching forecast data|'NoneType' is not iterable|No catchments with negative LakeID" |
		cut -d: -f1 | aoi >"$out/inundate"
}

t0=$(now)
"$aedb" --db "$w/db" import-logs --batch bench --run_list "$w/run.txt" --log_dir "$w/logs/bench" >/dev/null
t1=$(now)
"$aedb" --db "$w/db" report bench --out "$w/report" --compat >/dev/null
t2=$(now)
naive "$w/naive"
t3=$(now)
"$aedb" --db "$w/db" report bench --out "$w/report2" --compat >/dev/null
t4=$(now)

cmp -s "$w/naive/inundate" "$w/report/inundate_errors_aois.txt" && same=yes || same=NO
awk -v f="$files" -v n="$items" -v imp="$(echo "$t1 - $t0" | bc)" -v rep="$(echo "$t2 - $t1" | bc)" \
	-v nv="$(echo "$t3 - $t2" | bc)" -v rep2="$(echo "$t4 - $t3" | bc)" -v same="$same" 'BEGIN {
	printf "items %d, stderr files %d\n", n, f
	printf "aedb import-logs          %7.2f s\n", imp
	printf "aedb report --compat      %7.2f s\n", rep
	printf "aedb import + report      %7.2f s\n", imp + rep
	printf "naive grep pass           %7.2f s\n", nv
	printf "ratio (aedb / naive)      %7.2f\n", (imp + rep) / nv
	printf "a later report (no import) %6.2f s, ratio %.2f\n", rep2, rep2 / nv
	printf "inundate lists agree: %s\n", same
}'
