#!/bin/sh
# aedb sql reads only: writes, DDL, ATTACH and PRAGMA writable_schema are
# refused with a message and the database file stays byte-identical.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"

"$AEDB" --db "$T/db" init >/dev/null || exit 1
cp "$T/db" "$T/db.before"
expect_exit 0 "a SELECT runs" "$AEDB" --db "$T/db" sql "SELECT count(*) AS n FROM rule"
grep_file "table output" "^n" "$T/out"
expect_exit 0 "--csv" "$AEDB" --db "$T/db" sql --csv "SELECT name, kind FROM rule WHERE name = 'pipeline.success'"
grep_file "csv row" "^pipeline.success,include" "$T/out"
expect_exit 0 "--json" "$AEDB" --db "$T/db" sql --json "SELECT 1 AS one, 'x' AS s, NULL AS z"
grep_file "json row" '"one": 1, "s": "x", "z": null' "$T/out"
expect_exit 0 "no query lists the views" "$AEDB" --db "$T/db" sql
grep_file "item_outcome listed" "item_outcome: batch_id batch item_id item line outcome cause reason stage" "$T/out"
for q in "DELETE FROM rule" "DROP TABLE rule" "ATTACH DATABASE '$T/other.db' AS o" \
	"PRAGMA writable_schema = ON" "PRAGMA writable_schema=1" "UPDATE rule SET enabled = 0" \
	"CREATE TABLE t (a)" "INSERT INTO journal (at, level, kind, message) VALUES (1, 'info', 'x', 'y')" \
	"BEGIN" "SELECT 1; DELETE FROM rule"; do
	expect_exit 2 "refused: $q" "$AEDB" --db "$T/db" sql "$q"
	grep_file "one-line message for: $q" "aedb sql: " "$T/err"
done
check "ATTACH created no file" test ! -e "$T/other.db"
check "database byte-identical" cmp -s "$T/db" "$T/db.before"
check "rules intact" sh -c "[ \$('$AEDB' --db '$T/db' sql --csv 'SELECT count(*) FROM rule' | tail -1 | tr -d '\r') -eq 46 ]"
expect_exit 2 "two formats" "$AEDB" --db "$T/db" sql --csv --json "SELECT 1"
done_testing
