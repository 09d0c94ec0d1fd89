#!/bin/sh
# The command frame: --version, help, unknown commands and flags.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"

expect_exit 0 "--version exits 0" "$AEDB" --version
grep_file "--version names the schema version" "schema version [0-9]" "$T/out"

expect_exit 0 "--help exits 0" "$AEDB" --help
grep_file "--help lists init" "^  init " "$T/out"
grep_file "--help documents exit code 130" "^  130 " "$T/out"
grep_file "--help documents exit code 2" "^  2 .*usage" "$T/out"

expect_exit 0 "help exits 0" "$AEDB" help
grep_file "help lists help" "^  help " "$T/out"

expect_exit 0 "help init exits 0" "$AEDB" help init
grep_file "help init shows its usage" "^usage: aedb init" "$T/out"

expect_exit 2 "no command is a usage error" "$AEDB"
grep_file "no command says so" "no command given" "$T/err"

expect_exit 2 "an unknown command is a usage error" "$AEDB" submt
grep_file "unknown command is named" "unknown command 'submt'" "$T/err"
grep_file "unknown command prints the usage" "^usage: aedb" "$T/err"

expect_exit 2 "a prefix of a command is not guessed" "$AEDB" ini

expect_exit 2 "an unknown flag is a usage error" "$AEDB" init --frobnicate
grep_file "unknown flag is named" "unknown option '--frobnicate'" "$T/err"
grep_file "unknown flag prints the command usage" "^usage: aedb init" "$T/err"
[ "$(wc -l <"$T/err")" -eq 2 ] && ok "unknown flag: one error line plus usage" || not_ok "unknown flag: one error line plus usage"

expect_exit 2 "a missing flag value is a usage error" "$AEDB" init --db
grep_file "missing value is named" "needs a value" "$T/err"

expect_exit 2 "an unknown global flag is a usage error" "$AEDB" --nope init

expect_exit 2 "help for an unknown command" "$AEDB" help nope

done_testing
