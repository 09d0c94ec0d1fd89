#!/bin/sh
# Reads: job, summary (parent Children), allocations, lists with prefix,
# percent-encoded ids, pagination, filters, blocking queries (wake-up and
# timeout), purge and stop, metrics, GC, leader, unknown paths.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"

cat >"$T/slow.json" <<'JSON'
{"defaults": {"outcome": "stuck"}, "gc_threshold": -1}
JSON
check "sim starts" start_sim r --speed 1000 --scenario "$T/slow.json"

expect_req "unknown job: 404 job not found" 404 "job not found" GET /v1/job/nosuch
check "404 still carries X-Nomad-Index" test -n "$(header X-Nomad-Index)"
expect_req "unknown job summary: 404" 404 "job not found" GET /v1/job/nosuch/summary
expect_req "unknown job allocations: []" 200 "[]" GET /v1/job/nosuch/allocations
expect_req "unknown alloc: 404" 404 "alloc not found" GET /v1/allocation/00000000-0000-0000-0000-000000000000
expect_req "unknown /v1 path: 404 empty" 404 "" GET /v1/nosuch
expect_req "purge of an unknown job: 200 with zeros" 200 \
	'{"EvalID":"","EvalCreateIndex":0,"JobModifyIndex":0,"VolumeEvalID":"","VolumeEvalIndex":0,"Index":0,"LastContact":0,"KnownLeader":false,"NextToken":""}' \
	DELETE "/v1/job/pipeline%2Fdispatch-1-00000000?purge=true"
check "... and X-Nomad-Index 0" test "$(header X-Nomad-Index)" = 0
req DELETE "/v1/job/nosuch?purge=maybe"
check "bad purge bool: 500" test "$code" = 500

# ids with [ ] = , and the attempt=1]- vs attempt=10]- prefix case
for a in 1 10; do
	meta=$(echo "$PIPELINE_META" | sed 's/ITEM/i1/g; s/BATCH/b1/g')
	req PUT /v1/job/pipeline/dispatch \
		"{\"Meta\":{$meta},\"IdPrefixTemplate\":\"[batch_name=b1,aoi_name=i1,collection=c,attempt=$a]\"}"
	eval "J$a=\$(jq -r .DispatchedJobID \"\$T/body\")"
done
req GET "/v1/jobs?prefix=$(urlenc 'pipeline/dispatch-[batch_name=b1,aoi_name=i1,collection=c,attempt=1]-')"
jcheck "percent-encoded prefix finds exactly attempt=1" "length == 1 and .[0].ID == \"$J1\""
jcheck "stub fields" '.[0] | .ParentID == "pipeline" and .Name == .ID and .Type == "batch" and .ParameterizedJob == false and (.JobSummary.Children|type) == "object" and (.SubmitTime|type) == "number" and (has("Meta")|not)'
req GET "/v1/jobs?prefix=$(urlenc 'pipeline/dispatch-[batch_name=b1')&meta=true"
jcheck "meta=true adds Meta" 'length == 2 and (.[0].Meta.tags == "batch_name=b1 aoi_name=i1")'
req GET "/v1/job/$(urlenc "$J10")"
jcheck "job read by %2F-encoded id" ".ID == \"$J10\" and .Status == \"pending\" and .Dispatched == true and .Meta.aoi != null and (.ParameterizedJob.MetaRequired|index(\"aoi\")) != null and .TaskGroups[0].Name == \"coordinator\""
check "job X-Nomad-Index is its ModifyIndex" test "$(header X-Nomad-Index)" = "$(jq -r .ModifyIndex "$T/body")"
check "reads carry X-Nomad-KnownLeader" test "$(header X-Nomad-KnownLeader)" = true
check "reads carry X-Nomad-LastContact" test "$(header X-Nomad-LastContact)" = 0
code=$(curl -s -g -o "$T/body" -w '%{http_code}' "$U/v1/job/$J10")
check "job read by raw-slash id" test "$code" = 200
req GET "/v1/job/$(urlenc "$J10")/summary"
jcheck "stuck job summary: Queued 1" '.Summary.coordinator.Queued == 1 and .Children.Pending == 0'
req GET /v1/job/pipeline/summary
jcheck "parent summary counts children" '.JobID == "pipeline" and .Children.Pending == 2 and .Children.Running == 0 and .Children.Dead == 0'
req GET /v1/jobs
jcheck "list has the parents with ParameterizedJob true" '[.[] | select(.ParentID == "") | .ParameterizedJob] == [true,true,true,true]'

# pagination
for i in 1 2 3 4 5; do
	req PUT /v1/job/hand_inundator/dispatch \
		"{\"Meta\":{\"catchment_data_path\":\"c$i\",\"forecast_path\":\"f\",\"output_path\":\"o\"},\"IdPrefixTemplate\":\"[batch_name=p,aoi_name=a$i]\"}"
done
req GET "/v1/jobs?prefix=hand_inundator%2F&per_page=2"
jcheck "page 1 has 2" 'length == 2'
tok=$(header X-Nomad-NextToken)
check "X-Nomad-NextToken is <ns>.<id>" sh -c "echo '$tok' | grep -q '^default\.hand_inundator/dispatch-'"
p1=$(jq -r '.[].ID' "$T/body")
req GET "/v1/jobs?prefix=hand_inundator%2F&per_page=2&next_token=$(urlenc "$tok")"
jcheck "page 2 starts at the token" "length == 2 and (\"default.\" + .[0].ID) == \"$tok\""
p2=$(jq -r '.[].ID' "$T/body")
tok=$(header X-Nomad-NextToken)
req GET "/v1/jobs?prefix=hand_inundator%2F&per_page=2&next_token=$(urlenc "$tok")"
jcheck "page 3 has the last one" 'length == 1'
check "the last page has no X-Nomad-NextToken" test -z "$(header X-Nomad-NextToken)"
p3=$(jq -r '.[].ID' "$T/body")
check "pages cover all 5, sorted, no repeats" \
	test "$(printf '%s\n%s\n%s\n' "$p1" "$p2" "$p3" | sort -u | wc -l)" = 5
expect_req "bad per_page: 400" 400 'Expect a number for `per_page` query string parameter' \
	GET "/v1/jobs?per_page=x"

# filters
f() { req GET "/v1/jobs?filter=$(urlenc "$1")"; }
f 'ParentID == "hand_inundator"'
jcheck "ParentID ==" 'length == 5'
f 'ParentID == "pipeline" and Status != "dead"'
jcheck "and, !=" 'length == 2'
f 'ID matches "^pipeline/dispatch-\\[batch_name=b1,.*attempt=10\\]"'
jcheck "matches with escaped brackets" "length == 1 and .[0].ID == \"$J10\""
f 'Meta["catchment_data_path"] == "c3" or Meta.catchment_data_path == "c4"'
jcheck "Meta[\"k\"] and Meta.k, or" 'length == 2'
f '"tags" in Meta and not (Dispatched == false)'
jcheck "in, not, parentheses, bool" 'length == 2'
f 'ID contains "attempt=1]" and Meta.missing is empty'
jcheck "contains, is empty on a missing key" 'length == 1'
f 'Status =='
check "a bad filter is 400" test "$code" = 400
grep_file "... with Nomad's prefix" "^failed to create result paginator: failed to read filter expression: " "$T/body"
f 'Bogus == "x"'
check "an unknown selector is 400" test "$code" = 400

# blocking queries
req GET "/v1/job/$(urlenc "$J1")"
ix=$(header X-Nomad-Index)
start=$(date +%s%N)
req GET "/v1/job/$(urlenc "$J1")?index=$ix&wait=300ms"
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "blocking read times out after wait with the same index (${el} ms)" \
	test "$el" -ge 250 -a "$(header X-Nomad-Index)" = "$ix" -a "$code" = 200
( sleep 0.3; curl -s -X DELETE "$U/v1/job/$(urlenc "$J1")" >/dev/null ) &
bg=$!
start=$(date +%s%N)
req GET "/v1/job/$(urlenc "$J1")?index=$ix&wait=10s"
el=$(( ($(date +%s%N) - start) / 1000000 ))
wait $bg
check "blocking read wakes on change (${el} ms)" test "$el" -lt 5000 -a "$(header X-Nomad-Index)" -gt "$ix"
jcheck "... and shows the stop" '.Stop == true and .Status == "dead"'
req GET /v1/job/pipeline/summary
jcheck "stopping a pending child moves it to Dead" '.Children.Pending == 1 and .Children.Dead == 1'
sx=$(header X-Nomad-Index)
( sleep 0.3; curl -s -X DELETE "$U/v1/job/$(urlenc "$J10")?purge=true" >/dev/null ) &
bg=$!
req GET "/v1/job/pipeline/summary?index=$sx&wait=10s"
wait $bg
jcheck "blocking summary wakes on a child change" '.Children.Pending == 0 and .Children.Dead == 2'
req GET "/v1/jobs?index=$(header X-Nomad-Index)&wait=200ms"
check "blocking list times out" test "$code" = 200
expect_req "bad index: 400" 400 "Invalid index" GET "/v1/jobs?index=x"
expect_req "bad wait: 400" 400 "Invalid wait time" GET "/v1/jobs?index=1&wait=soon"
expect_req "purged job: 404" 404 "job not found" GET "/v1/job/$(urlenc "$J10")"
expect_req "purged job allocations: []" 200 "[]" GET "/v1/job/$(urlenc "$J10")/allocations"

# metrics, gc, leader
req GET /v1/metrics
g1=$(jq '.Gauges[] | select(.Name == "nomad.runtime.alloc_bytes") | .Value' "$T/body")
jcheck "metrics shape" '(.Gauges|type) == "array" and (.Gauges[] | select(.Name == "nomad.runtime.alloc_bytes") | .Labels.host) != null and .Counters == [] and .Samples == []'
for i in 1 2 3 4 5 6 7 8 9 10; do
	req PUT /v1/job/hand_inundator/dispatch \
		"{\"Meta\":{\"catchment_data_path\":\"m$i\",\"forecast_path\":\"f\",\"output_path\":\"o\"}}"
done
req GET /v1/metrics
g2=$(jq '.Gauges[] | select(.Name == "nomad.runtime.alloc_bytes") | .Value' "$T/body")
check "alloc_bytes grows with retained jobs ($g1 -> $g2)" \
	python3 -c "import sys; sys.exit(0 if float('$g2') > float('$g1') else 1)"
expect_req "prometheus format: 415" 415 "Prometheus is not enabled" GET "/v1/metrics?format=prometheus"
expect_req "POST gc: 405" 405 "Invalid method" POST /v1/system/gc
expect_req "PUT gc: 200 empty" 200 "" PUT /v1/system/gc
check "gc answers without X-Nomad-Index" test -z "$(header X-Nomad-Index)"
expect_req "gc removed the stopped child" 404 "job not found" GET "/v1/job/$(urlenc "$J1")"
expect_req "leader" 200 '"127.0.0.1:4647"' GET /v1/status/leader

# faults
req PUT /sim/faults '{"no_leader": 1}'
expect_req "fault: 500 No cluster leader" 500 "No cluster leader" GET /v1/status/leader
req PUT /sim/faults '{"too_many_requests": 1}'
req GET /v1/jobs
check "fault: 429" test "$code" = 429
req PUT /sim/faults '{"drop_connection": 1}'
req GET /v1/jobs
check "fault: connection dropped (no status)" test "$code" = 000
req PUT /sim/faults '{"latency_ms": 300}'
start=$(date +%s%N)
req GET /v1/status/leader
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "fault: added latency (${el} ms)" test "$el" -ge 280
req PUT /sim/faults '{"dispatch_drop_response": 1}'
n0=$(curl -s "$U/sim/truth" | jq .Dispatched)
req PUT /v1/job/hand_inundator/dispatch '{"Meta":{"catchment_data_path":"drop","forecast_path":"f","output_path":"o"}}'
check "fault: dispatch response dropped" test "$code" = 000
req PUT /sim/faults '{}'
req GET "/v1/jobs?filter=$(urlenc 'Meta.catchment_data_path == "drop"')"
jcheck "... but the child exists" 'length == 1'
expect_req "unknown fault key: 400" 400 "faults: unknown key 'nope'" PUT /sim/faults '{"nope": 1}'
req GET /sim/stats
jcheck "stats count requests and bytes per endpoint" '.Endpoints["GET /v1/jobs"].Count > 5 and .Endpoints["GET /v1/jobs"].Bytes > 1000 and .Requests > 50'

done_testing
