# Helpers for tests that run whole batches: the STAC fixture server, item
# generation, and the flags of a local-output batch. Source after
# tests/cli/lib.sh and tests/sim/lib-sim.sh.
: "${STAC_SERVER:?STAC_SERVER must name the stac-server binary}"

# start_stac DIR: serves DIR's JSON files; sets $STAC to its base URL
start_stac() {
	rm -f "$T/stac.port"
	"$STAC_SERVER" --dir "$1" --listen 127.0.0.1:0 --port-file "$T/stac.port" --quiet \
		>"$T/stac.out" 2>"$T/stac.err" &
	SIM_PIDS="$SIM_PIDS $!"
	_i=0
	while [ ! -s "$T/stac.port" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	STAC=$(cat "$T/stac.port" 2>/dev/null)
	[ -n "$STAC" ]
}

# make_items LIST ID...: items copied from a small usgs-fim-collection item
# into $T/stac/items-N.json (one FeatureCollection per call), ids in LIST
_mk=0
make_items() {
	_list=$1; shift
	_mk=$((_mk + 1))
	mkdir -p "$T/stac"
	python3 "$AEDB_SOURCE_ROOT/tests/cli/make-items.py" \
		"$AEDB_SOURCE_ROOT/tests/data/stac/multi-two.json" "$T/stac/items-$_mk.json" "$_list" "$@"
}

# batch_flags NAME LIST STOP RESUME: the flags of a local-output batch
batch_flags() {
	mkdir -p "$T/outroot"
	echo --batch_name "$1" --item_list "$2" --output_root "$T/outroot" --use-local-output \
		--hand_index_path s3://hand/index --benchmark_sources usgs-fim-collection \
		--stop_threshold "$3" --resume_threshold "$4" --stac_api_url "$STAC" \
		--nomad_addr "$U" --db "$T/aedb.db" --hull always
}

# sq SQL: one value from the test database
sq() {
	sqlite3 "$T/aedb.db" "$1"
}
