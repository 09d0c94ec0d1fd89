#!/bin/sh
# aedb init: a 0600 WAL database at the latest version; idempotent.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"

latest=$("$AEDB" --version | sed -n 's/.*schema version \([0-9]*\).*/\1/p')

expect_exit 0 "init creates a database" "$AEDB" init --db "$T/a.db"
grep_file "init says it created it" "created database '$T/a.db' at schema version $latest" "$T/out"
check "the file is mode 0600" test "$(stat -c %a "$T/a.db")" = 600
check "the journal is WAL" test "$(sqlite3 "$T/a.db" 'PRAGMA journal_mode')" = wal
check "user_version is the latest" test "$(sqlite3 "$T/a.db" 'PRAGMA user_version')" = "$latest"

sum1=$(sha256sum <"$T/a.db")
expect_exit 0 "a second init succeeds" "$AEDB" init --db "$T/a.db"
grep_file "the second init says up to date" "up to date" "$T/out"
check "the second init changes nothing" test "$(sha256sum <"$T/a.db")" = "$sum1"

expect_exit 0 "global --db works" "$AEDB" --db "$T/b.db" init
check "global --db created the file" test -f "$T/b.db"

AEDB_DB="$T/c.db" expect_exit 0 "AEDB_DB works" env AEDB_DB="$T/c.db" "$AEDB" init
check "AEDB_DB created the file" test -f "$T/c.db"

expect_exit 0 "the default is ./aedb.db" "$AEDB" init
check "./aedb.db exists" test -f "$T/aedb.db"

sqlite3 "$T/a.db" "PRAGMA user_version=$((latest + 1))"
sum2=$(sha256sum <"$T/a.db")
expect_exit 1 "a newer database is refused" "$AEDB" init --db "$T/a.db"
grep_file "the refusal names both versions" "schema version $((latest + 1)), newer than this aedb .*schema version $latest" "$T/err"
check "the refused database is unchanged" test "$(sha256sum <"$T/a.db")" = "$sum2"

mkdir "$T/dir.db"
expect_exit 2 "a directory is refused" "$AEDB" init --db "$T/dir.db"

expect_exit 1 "a missing folder is a clear error" "$AEDB" init --db "$T/no/such/dir/x.db"
grep_file "the error names the path" "cannot create database '$T/no/such/dir/x.db'" "$T/err"

done_testing
