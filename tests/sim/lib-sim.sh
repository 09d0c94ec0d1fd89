# Helpers for the sim suite: start a private nomad-sim on a free loopback
# port, make requests with curl, and poll with bounded waits. Source after
# tests/cli/lib.sh. Needs curl and jq (skips the test without them).
: "${NOMAD_SIM:?NOMAD_SIM must name the nomad-sim binary}"

for _tool in curl jq; do
	if ! command -v "$_tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $_tool not installed"
		exit 0
	fi
done

SIM_PIDS=""
cleanup_hook() {
	for _p in $SIM_PIDS; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
}

# start_sim NAME ARGS...: starts nomad-sim, waits (<= 5 s) for its port file,
# sets $U to its base URL and SIM_PID to its pid.
start_sim() {
	_name=$1; shift
	rm -f "$T/$_name.port"
	"$NOMAD_SIM" --listen 127.0.0.1:0 --port-file "$T/$_name.port" "$@" \
		>"$T/$_name.out" 2>"$T/$_name.err" &
	SIM_PID=$!
	SIM_PIDS="$SIM_PIDS $SIM_PID"
	_i=0
	while [ ! -s "$T/$_name.port" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	U=$(cat "$T/$_name.port" 2>/dev/null)
	[ -n "$U" ]
}

# stop_sim PID: SIGTERM and wait; returns the exit status
stop_sim() {
	kill "$1" 2>/dev/null
	wait "$1"
}

# req METHOD PATH [BODY]: body in $T/body, headers in $T/hdr, status in $code
req() {
	_m=$1; _p=$2; shift 2
	if [ $# -gt 0 ]; then
		code=$(curl -s -g -m 30 -X "$_m" -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
			--data-binary "$1" "$U$_p")
	else
		code=$(curl -s -g -m 30 -X "$_m" -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$U$_p")
	fi
}

# header NAME: a response header of the last req (case-insensitive)
header() {
	grep -i "^$1:" "$T/hdr" | tail -1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# expect_req DESC STATUS BODY METHOD PATH [DATA]: status and exact body
expect_req() {
	_d=$1; _st=$2; _b=$3; shift 3
	req "$@"
	if [ "$code" = "$_st" ] && [ "$(cat "$T/body")" = "$_b" ]; then
		ok "$_d"
	else
		not_ok "$_d (got $code '$(head -c 300 "$T/body")', expected $_st '$_b')"
	fi
}

# jcheck DESC JQ-EXPR: the last body satisfies a jq boolean expression
jcheck() {
	if jq -e "$2" "$T/body" >/dev/null 2>&1; then ok "$1"; else
		not_ok "$1 ($2)"
		head -c 600 "$T/body" | sed 's/^/# /'; echo
	fi
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s; 0 once it succeeds
wait_until() {
	_limit=$(( $1 * 10 )); shift
	_i=0
	while [ $_i -lt $_limit ]; do
		if "$@"; then return 0; fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# urlenc STRING: percent-encode for a path segment or query value
urlenc() {
	jq -rn --arg s "$1" '$s|@uri'
}

PIPELINE_META='"aoi":"s3://b/AOIs/stac_ITEM.gpkg","outputs_path":"s3://b/out/ITEM/","hand_index_path":"s3://h/idx","nomad_token":"tok","benchmark_sources":"ble-collection","fim_type":"extent","tags":"batch_name=BATCH aoi_name=ITEM"'

# dispatch_pipeline BATCH ITEM: dispatches with the upstream template; id in $JOB
dispatch_pipeline() {
	_meta=$(echo "$PIPELINE_META" | sed "s/ITEM/$2/g; s/BATCH/$1/g")
	req PUT /v1/job/pipeline/dispatch \
		"{\"Meta\":{$_meta},\"IdPrefixTemplate\":\"[batch_name=$1,aoi_name=$2,collection=ble-collection]\"}"
	JOB=$(jq -r .DispatchedJobID "$T/body")
}
