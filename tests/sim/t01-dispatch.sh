#!/bin/sh
# Dispatch: id formats, every validation error text and status in order,
# idempotency, ACL tokens, method checks.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"

check "nomad-sim starts and writes its port file" start_sim a --speed 1000 --seed 7
grep_file "it prints one ready line" "^nomad-sim: listening on $U " "$T/a.out"

dispatch_pipeline b1 item-1
check "template dispatch answers 200" test "$code" = 200
check "template id matches <parent>/dispatch-<T>-<unix>-<8 hex>" \
	sh -c "echo '$JOB' | grep -Eq '^pipeline/dispatch-\[batch_name=b1,aoi_name=item-1,collection=ble-collection\]-[0-9]{10}-[0-9a-f]{8}$'"
jcheck "response has EvalID, indexes equal" \
	'(.EvalID|test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")) and .EvalCreateIndex == .JobCreateIndex and .Index == .JobCreateIndex'
check "X-Nomad-Index equals Index" test "$(header X-Nomad-Index)" = "$(jq -r .Index "$T/body")"
now=$(date +%s)
secs=$(echo "$JOB" | sed -E 's/.*-([0-9]+)-[0-9a-f]{8}$/\1/')
check "the id carries simulated unix seconds (near now at speed 1000)" \
	test "$secs" -ge "$((now - 5))" -a "$secs" -le "$((now + 600))"

req PUT /v1/job/hand_inundator/dispatch \
	'{"Meta":{"catchment_data_path":"c","forecast_path":"f","output_path":"o"}}'
nt=$(jq -r .DispatchedJobID "$T/body")
check "no-template id matches <parent>/dispatch-<unix>-<8 hex>" \
	sh -c "echo '$nt' | grep -Eq '^hand_inundator/dispatch-[0-9]+-[0-9a-f]{8}$'"
req POST /v1/job/hand_inundator/dispatch \
	'{"Meta":{"catchment_data_path":"c","forecast_path":"f","output_path":"o"}}'
check "POST works like PUT" test "$code" = 200

# validation, in Nomad's order and texts
expect_req "empty body: 400" 400 "Request body is empty" PUT /v1/job/pipeline/dispatch ""
req PUT /v1/job/pipeline/dispatch '{"Meta":'
check "malformed JSON: 400" test "$code" = 400
expect_req "JobID mismatch: 400" 400 "Job ID does not match" \
	PUT /v1/job/pipeline/dispatch '{"JobID":"other","Meta":{}}'
expect_req "bad base64 payload: 400" 400 "illegal base64 data at input byte 0" \
	PUT /v1/job/pipeline/dispatch '{"Payload":"!!!!"}'
expect_req "unknown parent: 500" 500 "parameterized job not found" \
	PUT /v1/job/nosuch/dispatch '{"Meta":{}}'
expect_req "other namespace: parent not found" 500 "parameterized job not found" \
	PUT "/v1/job/pipeline/dispatch?namespace=other" '{"Meta":{}}'
expect_req "dispatching a child: not parameterized" 500 "Specified job \"$nt\" is not a parameterized job" \
	PUT "/v1/job/$(urlenc "$nt")/dispatch" '{"Meta":{}}'
big=$(head -c 16385 /dev/zero | base64 -w0)
expect_req "payload over 16384: 500" 500 "Payload exceeds maximum size; 16385 > 16384" \
	PUT /v1/job/pipeline/dispatch "{\"Payload\":\"$big\"}"
expect_req "unpermitted meta keys first: 500" 500 "Dispatch request included unpermitted metadata keys: [bogus]" \
	PUT /v1/job/pipeline/dispatch '{"Meta":{"bogus":"1"}}'
expect_req "missing required keys: 500" 500 "Dispatch did not provide required meta keys: [outputs_path hand_index_path nomad_token]" \
	PUT /v1/job/pipeline/dispatch '{"Meta":{"aoi":"a"}}'
expect_req "stage job missing keys: 500" 500 "Dispatch did not provide required meta keys: [raster_paths output_path fim_type]" \
	PUT /v1/job/fim_mosaicker/dispatch '{"Meta":{}}'
expect_req "agreement_maker keys" 500 "Dispatch did not provide required meta keys: [candidate_path benchmark_path output_path fim_type]" \
	PUT /v1/job/agreement_maker/dispatch '{"Meta":{"metrics_path":"m"}}'
meta=$(echo "$PIPELINE_META" | sed 's/ITEM/p/g; s/BATCH/b/g')
expect_req "priority out of range: 500" 500 "dispatch job priority must be between [1, 100]" \
	PUT /v1/job/pipeline/dispatch "{\"Meta\":{$meta},\"Priority\":101}"
expect_req "GET on dispatch: 405" 405 "Invalid method" GET /v1/job/pipeline/dispatch

# idempotency
req PUT "/v1/job/pipeline/dispatch?idempotency_token=tok-1" "{\"Meta\":{$meta}}"
first=$(jq -r .DispatchedJobID "$T/body")
req PUT "/v1/job/pipeline/dispatch?idempotency_token=tok-1" "{\"Meta\":{$meta}}"
jcheck "same token returns the same child with EvalID \"\"" \
	".DispatchedJobID == \"$first\" and .EvalID == \"\" and .EvalCreateIndex == 0"
expect_req "validation still runs before the token check" 500 "Dispatch request included unpermitted metadata keys: [bogus]" \
	PUT "/v1/job/pipeline/dispatch?idempotency_token=tok-1" '{"Meta":{"bogus":"1"}}'
req GET "/v1/job/$(urlenc "$first")"
jcheck "the child carries the token" '.DispatchIdempotencyToken == "tok-1" and .Dispatched == true and .ParentID == "pipeline"'

# stopped parent
req DELETE /v1/job/fim_mosaicker
jcheck "stopping a parent gives EvalID \"\"" '.EvalID == ""'
expect_req "stopped parent: 500" 500 'Specified job "fim_mosaicker" is stopped' \
	PUT /v1/job/fim_mosaicker/dispatch '{"Meta":{}}'

# ACL mode
check "an ACL sim starts" start_sim acl --acl-token secret-1
expect_req "no token: 403" 403 "Permission denied" GET /v1/jobs
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Nomad-Token: secret-1' "$U/v1/jobs")
check "right X-Nomad-Token: 200" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer secret-1' "$U/v1/jobs")
check "Authorization: Bearer works too" test "$code" = 200
expect_req "metrics need no token" 200 "$(curl -s "$U/v1/metrics")" GET /v1/metrics
expect_req "leader needs no token" 200 '"127.0.0.1:4647"' GET /v1/status/leader
expect_req "gc without the management token: 403" 403 "Permission denied" PUT /v1/system/gc
stop_sim "$SIM_PID"
check "SIGTERM exits 0" test $? = 0

done_testing
