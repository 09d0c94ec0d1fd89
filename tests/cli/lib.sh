# Shared helpers for the cli tests: a private temp folder, TAP output, and
# assertions. Source it first: `. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"`.
set -u

: "${AEDB:?AEDB must name the aedb binary}"
: "${AEDB_SOURCE_ROOT:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/aedb-cli.XXXXXX")
trap 'cleanup_hook 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
unset AEDB_DB NOMAD_ADDR NOMAD_TOKEN NOMAD_NAMESPACE

cleanup_hook() { :; }

# every request of a test ends in bounded time (a later -m of the caller wins)
curl() { command curl --max-time 60 "$@"; }

# wait_pid PID SECONDS: waits for a background job and gives its status;
# one still running after SECONDS is killed (status 124)
wait_pid() {
	_w=0
	while kill -0 "$1" 2>/dev/null && [ $_w -lt $(($2 * 10)) ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

_n=0
_failed=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0 (its output goes
# to stderr, so it cannot be taken for TAP)
check() {
	_d=$1; shift
	if "$@" >&2; then ok "$_d"; else not_ok "$_d"; fi
}

# run_cmd CMD...: runs, keeping stdout in $T/out, stderr in $T/err, status in $rc
run_cmd() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# expect_exit CODE DESCRIPTION CMD...
expect_exit() {
	_want=$1; _d=$2; shift 2
	run_cmd "$@"
	if [ "$rc" -eq "$_want" ]; then
		ok "$_d"
	else
		not_ok "$_d (exit $rc, expected $_want)"
		sed 's/^/# out: /' "$T/out" | head -20
		sed 's/^/# err: /' "$T/err" | head -20
	fi
}

# grep_file DESCRIPTION PATTERN FILE
grep_file() {
	if grep -q -e "$2" "$3"; then ok "$1"; else
		not_ok "$1 ('$2' not in $(basename "$3"))"
		sed 's/^/# /' "$3" | head -20
	fi
}

done_testing() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}
