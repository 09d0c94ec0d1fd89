#!/bin/sh
# aedb import-logs + aedb report on a small upstream log tree with known
# content (tests/data/sql/make-tree.sh): the operators' lists, JSON files
# and named reports, for --compat and the default, against expected files
# written by hand from the rules and the upstream set logic.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
D="$AEDB_SOURCE_ROOT/tests/data/sql"

mkdir -p logs/b1
sh "$D/make-tree.sh" "$T/logs/b1"
expect_exit 0 "import-logs reads the tree" \
	"$AEDB" --db "$T/db" import-logs --batch b1 --run_list "$D/run-list.txt" --log_dir "$T/logs/b1"
grep_file "import counts" "8 items (8 new), 14 jobs, 28 log files" "$T/out"
expect_exit 0 "importing again adds nothing" \
	"$AEDB" --db "$T/db" import-logs --batch b1 --run_list "$D/run-list.txt" --log_dir "$T/logs/b1"
grep_file "second import" "0 new), 14 jobs, 0 log files, 0 findings" "$T/out"
python3 - "$T/db" "$D/nomad-facts.sql" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read()); c.commit()
PY

expect_exit 0 "report --compat" "$AEDB" --db "$T/db" report b1 --out "$T/c" --compat
grep_file "compat summary: input" "^Input AOIs:      8$" "$T/out"
grep_file "compat summary: success" "^Successful AOIs: 4$" "$T/out"
grep_file "compat summary: failed" "^Failed AOIs:     5$" "$T/out"
grep_file "compat summary: mismatch (a9 is not in the run list)" "does not match output count (9)" "$T/out"
expect_exit 0 "report (default)" "$AEDB" --db "$T/db" report b1 --out "$T/d"
grep_file "default summary: all accounted" "All AOIs accounted for" "$T/out"

for mode in compat default; do
	out=c; [ "$mode" = default ] && out=d
	for f in "$D/expected/$mode"/*; do
		name=$(basename "$f")
		sed "s|$T|T|g" "$T/$out/$name" >"$T/got" 2>/dev/null
		if [ -f "$T/$out/$name" ] && cmp -s "$f" "$T/got"; then
			ok "$mode $name"
		else
			not_ok "$mode $name"
			diff "$f" "$T/got" | head -10 | sed 's/^/# /'
		fi
	done
done
check "default: no missing_aois.txt when counts agree" test ! -e "$T/d/missing_aois.txt"
check "compat: no log_missing_aois.txt" test ! -e "$T/c/log_missing_aois.txt"
check "default: no early_exit message file (none found)" test ! -e "$T/d/early_exit.json"
check "CSV lines end with CRLF" sh -c "head -1 '$T/d/item_outcomes.csv' | od -c | grep -q '\\\\r  \\\\n'"

# reclassify after disabling a rule: a2's job errors go away
python3 - "$T/db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE rule SET enabled = 0 WHERE name = 'pipeline.job_error.boto'"); c.commit()
PY
before=$("$AEDB" --db "$T/db" sql --csv "SELECT count(*) FROM finding WHERE category = 'job_error'" | tail -1 | tr -d '\r')
expect_exit 0 "reclassify" "$AEDB" --db "$T/db" reclassify b1
after=$("$AEDB" --db "$T/db" sql --csv "SELECT count(*) FROM finding WHERE category = 'job_error'" | tail -1 | tr -d '\r')
check "a disabled rule's findings are gone after reclassify ($before -> $after)" test "$after" -eq $((before - 1))
expect_exit 2 "report of an unknown batch" "$AEDB" --db "$T/db" report nope --out "$T/x"
expect_exit 2 "report without --out" "$AEDB" --db "$T/db" report b1
expect_exit 2 "import-logs without --log_dir" "$AEDB" --db "$T/db" import-logs --batch b1 --run_list x
done_testing
