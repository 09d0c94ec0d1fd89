#!/bin/sh
# Benchmark (not a test) of issue 7's scale targets: `aedb report B --out
# DIR` (target under 2 s) and `aedb status B` (under 100 ms) on a synthetic
# batch of 10,000 items made by tools/gen-synthdb (610,000 jobs, 2 million
# task events, 610,000 logs, 570,000 findings). Each command runs RUNS
# times after one warm-up run (the database in the page cache, as on an
# operator's machine after the tracker wrote it); prints the best and the
# median wall time, one line per command, for the benchmark driver:
#
#   report <best_s> <median_s> target 2.000 <met|MISSED>
#   status <best_s> <median_s> target 0.100 <met|MISSED>
#
#   tools/bench/report-scale.sh BUILD_DIR [ITEMS] [RUNS]   (default 10000, 5)
# AEDB_BENCH_DB=PATH reuses (or keeps) the generated database.
set -eu
build=${1:?usage: report-scale.sh BUILD_DIR [ITEMS] [RUNS]}
items=${2:-10000}
runs=${3:-5}
aedb="$build/cmd/aedb"
gen="$build/tools/gen-synthdb/gen-synthdb"
w=$(mktemp -d "${TMPDIR:-/tmp}/aedb-scale.XXXXXX")
trap 'rm -rf "$w"' EXIT
db=${AEDB_BENCH_DB:-"$w/db"}

if [ ! -s "$db" ]; then
	"$gen" --db "$db" --items "$items" --batch B >/dev/null
fi
"$aedb" --db "$db" init >/dev/null # migrate a kept database to this build's schema

now() { date +%s.%N; }
# NAME TARGET COMMAND...: RUNS timed runs after a warm-up
measure() {
	name=$1 target=$2
	shift 2
	"$@" >/dev/null
	: >"$w/times"
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		echo "$t1 - $t0" | bc >>"$w/times"
		i=$((i + 1))
	done
	sort -n "$w/times" | awk -v name="$name" -v target="$target" '
		{ t[NR] = $1 }
		END {
			med = t[int((NR + 1) / 2)]
			printf "%s %.3f %.3f target %.3f %s\n", name, t[1], med, target,
				med < target ? "met" : "MISSED"
		}'
}

echo "items $items, runs $runs ($(nproc) cores)"
measure report 2.0 "$aedb" --db "$db" report B --out "$w/report"
measure status 0.1 "$aedb" --db "$db" status B
