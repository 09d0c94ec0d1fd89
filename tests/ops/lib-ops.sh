# Helpers for the ops suite (purge, gc-watch): batches made the way aedb
# makes them, without a STAC server: pipelines dispatched over HTTP with
# aedb's id template, the batch, items and attempts seeded with SQL, and
# `aedb track` recording jobs, allocations and logs. Source after
# tests/cli/lib.sh and tests/sim/lib-sim.sh.
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP sqlite3 not installed"; exit 0; }

DB="$T/aedb.db"

# a scenario where everything finishes within milliseconds at --speed 1000
cat >"$T/ops-scenario.json" <<'JSON'
{
  "nodes": 16,
  "durations": {"pipeline": 2, "inundate": 2, "mosaic": 2, "agreement": 2},
  "start_delay": 1, "restart_delay": 1,
  "gc_threshold": -1,
  "defaults": {"outcome": "success", "scenarios": 1, "catchments": 2},
  "items": [
    {"match": "stuck-*", "outcome": "stuck"},
    {"match": "early-*", "outcome": "early_exit"}
  ]
}
JSON

sql() { sqlite3 -batch "$DB" "$@"; }

# seed_batch NAME: a batch row whose parameters point at the simulator
seed_batch() {
	_now=$(date +%s%N)
	sql "INSERT INTO batch (name, created_at, updated_at, params, nomad_addr)
	     VALUES ('$1', $_now, $_now, json_object('nomad_addr', '$U'), '$U');"
}

# dispatch_item BATCH ITEM: dispatch as aedb does (id template with attempt=1),
# record item and attempt in the database; the job id in $JOB
dispatch_item() {
	_meta=$(echo "$PIPELINE_META" | sed "s/ITEM/$2/g; s/BATCH/$1/g")
	req PUT /v1/job/pipeline/dispatch \
		"{\"Meta\":{$_meta},\"IdPrefixTemplate\":\"[batch_name=$1,aoi_name=$2,collection=ble-collection,attempt=1]\"}"
	JOB=$(jq -r .DispatchedJobID "$T/body")
	_now=$(date +%s%N)
	sql "INSERT INTO item (batch_id, name, line, state, attempts, created_at, updated_at)
	     SELECT id, '$2', (SELECT count(*) + 1 FROM item WHERE batch_id = batch.id),
	            'dispatched', 1, $_now, $_now FROM batch WHERE name = '$1';
	     INSERT INTO attempt (item_id, number, state, id_prefix, started_at, dispatched_at, job_id)
	     SELECT i.id, 1, 'dispatched',
	            'pipeline/dispatch-[batch_name=$1,aoi_name=$2,collection=ble-collection,attempt=1]-',
	            $_now, $_now, '$JOB'
	     FROM item i JOIN batch b ON b.id = i.batch_id WHERE b.name = '$1' AND i.name = '$2';"
}

# dispatch_raw BATCH ITEM: dispatch only (a job the database never saw)
dispatch_raw() {
	_meta=$(echo "$PIPELINE_META" | sed "s/ITEM/$2/g; s/BATCH/$1/g")
	req PUT /v1/job/pipeline/dispatch \
		"{\"Meta\":{$_meta},\"IdPrefixTemplate\":\"[batch_name=$1,aoi_name=$2,collection=ble-collection,attempt=1]\"}"
	JOB=$(jq -r .DispatchedJobID "$T/body")
}

# live_children: dispatched jobs not dead (stuck ones included)
live_children() {
	curl -s "$U/v1/jobs" | jq '[.[] | select(.ParentID != "" and .Status != "dead")] | length'
}

# settled N: exactly N dispatched jobs are not dead
settled() { [ "$(live_children)" = "$1" ]; }

# stats_count ENDPOINT: requests the simulator counted for an endpoint
stats_count() {
	curl -s "$U/sim/stats" | jq --arg e "$1" '.Endpoints[$e].Count // 0'
}

# truth_of BATCH: what the simulator knows of a batch's jobs, one line each
truth_of() {
	curl -s "$U/sim/truth" | jq -c --arg b "$1" \
		'.Jobs[] | select(.Tags.batch_name == $b) | {ID, Status, Stopped, Purged, GCd}' | sort
}
