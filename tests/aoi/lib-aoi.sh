# Helpers for the aoi suite: start the STAC fixture server (tools/stac-server)
# and the signature-checking S3 server (@20minutes/s3rver, tests/s3), both on
# 127.0.0.1 with a free port, with bounded readiness waits; stop them by PID.
# Source after tests/cli/lib.sh.
: "${STAC_SERVER:?STAC_SERVER must name tools/stac-server}"
: "${S3_TOOL:?S3_TOOL must name tests/aoi/s3-tool}"
PY=/usr/bin/python3   # Debian's python, with gdal/geopandas/shapely (not pyenv's)
DATA="$AEDB_SOURCE_ROOT/tests/data/stac"
_pids=""
cleanup_hook() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

# wait_file FILE SECONDS: wait until FILE is non-empty
wait_file() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt $(($2 * 10)) ]; do sleep 0.1; _i=$((_i + 1)); done
	[ -s "$1" ]
}

# start_stac NAME DIR [stac-server flags...]: sets STAC_URL (and NAME_url)
start_stac() {
	_name=$1; _dir=$2; shift 2
	rm -f "$T/$_name.port"
	"$STAC_SERVER" --dir "$_dir" --listen 127.0.0.1:0 --port-file "$T/$_name.port" --quiet "$@" \
		>"$T/$_name.log" 2>&1 &
	_pids="$_pids $!"
	if ! wait_file "$T/$_name.port" 20; then
		diag "stac-server did not start:"; sed 's/^/# /' "$T/$_name.log"
		return 1
	fi
	STAC_URL=$(cat "$T/$_name.port")
}

# start_s3: the signature-checking S3 server with bucket test-bucket; exports
# the AWS_* variables for it (with a session token). Returns 1 when the npm
# package is not installed (tests/s3: npm ci).
start_s3() {
	_mod="$AEDB_SOURCE_ROOT/tests/s3/node_modules/@20minutes/s3rver/lib/cli.js"
	[ -f "$_mod" ] && command -v node >/dev/null || return 1
	mkdir -p "$T/s3data"
	(cd "$AEDB_SOURCE_ROOT/tests/s3" && NODE_OPTIONS=--openssl-legacy-provider exec node -e \
		"require('@20minutes/s3rver/lib/cli').parseAsync(process.argv.slice(1),{from:'user'})" \
		-- -d "$T/s3data" -a 127.0.0.1 -p 0 -s --configure-bucket test-bucket) \
		>"$T/s3.log" 2>&1 &
	_pids="$_pids $!"
	_i=0
	while ! grep -q 'listening on 127.0.0.1:' "$T/s3.log" 2>/dev/null && [ $_i -lt 300 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	S3_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/s3.log" | head -1)
	if [ -z "$S3_PORT" ]; then
		diag "s3rver did not start:"; sed 's/^/# /' "$T/s3.log" | head -20
		return 2
	fi
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
	export AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLE-session-token/with+chars="
	export AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_PORT"
	unset AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SECURITY_TOKEN
}

# has_gdal: the Debian GDAL/geopandas/shapely stack is there
has_gdal() {
	command -v ogrinfo >/dev/null && [ -x "$PY" ] &&
		[ -f /usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py ] &&
		"$PY" -c 'import geopandas, shapely, osgeo' 2>/dev/null
}

# line_for ID: the output line of the last run_cmd for item ID
line_for() { grep -F "'$1'" "$T/out" | head -1; }

# expect_line DESCRIPTION PATTERN: a line of the last run's stdout matches
expect_line() { grep_file "$1" "$2" "$T/out"; }
