#!/bin/sh
# Scenario outcomes end to end: each outcome's allocation states, task
# events, exit codes and coordinator/stage log lines; placement order;
# logs before and after GC; automatic GC; /sim/truth against what was
# dispatched.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"

cat >"$T/sc.json" <<'JSON'
{
  "nodes": 16,
  "durations": {"pipeline": 10, "inundate": 20, "mosaic": 30, "agreement": 30},
  "start_delay": 1, "restart_delay": 5,
  "gc_threshold": -1,
  "defaults": {"outcome": "success", "scenarios": 2, "catchments": 3},
  "items": [
    {"match": "early-*", "outcome": "early_exit"},
    {"match": "fail-*", "outcome": "failed", "message": "RuntimeError: no benchmark data"},
    {"match": "stage-*", "outcome": "stage_error", "stage": "inundate"},
    {"match": "oom-*", "outcome": "oom", "stage": "agreement"},
    {"match": "poom-*", "outcome": "oom", "stage": "pipeline"},
    {"match": "lost-*", "outcome": "lost", "stage": "mosaic"},
    {"match": "stuck-*", "outcome": "stuck"},
    {"match": "big-*", "scenarios": 3, "catchments": 5}
  ]
}
JSON
check "sim starts with a scenario" start_sim s --speed 1000 --seed 3 --scenario "$T/sc.json"

: >"$T/ids"
for item in ok-1 early-1 fail-1 stage-1 oom-1 poom-1 lost-1 stuck-1 big-1; do
	dispatch_pipeline sc "$item"
	echo "$item $JOB" >>"$T/ids"
done
id_of() { awk -v i="$1" '$1 == i { print $2 }' "$T/ids"; }

settled() {
	curl -s "$U/v1/jobs?filter=$(urlenc 'Status != "dead"')" >"$T/live"
	# only the 4 parents and the stuck pipeline stay live
	[ "$(jq length "$T/live")" = 5 ]
}
check "every non-stuck pipeline finishes (<= 30 s)" wait_until 30 settled

# alloc_of JOB: the job's newest allocation stub into $T/alloc
alloc_of() {
	curl -s "$U/v1/job/$(urlenc "$1")/allocations" | jq '.[-1]' >"$T/alloc"
}
stderr_of() { # ALLOC TASK
	curl -s "$U/v1/client/fs/logs/$1?task=$2&type=stderr&plain=true" >"$T/log"
}
acheck() {
	if jq -e "$2" "$T/alloc" >/dev/null 2>&1; then ok "$1"; else
		not_ok "$1 ($2)"; head -c 1500 "$T/alloc" | sed 's/^/# /'; echo; fi
}
events_of() { jq -c '[.TaskStates[].Events[].Type]' "$T/alloc"; }

# success
alloc_of "$(id_of ok-1)"
acheck "success: pipeline alloc complete, exit 0" \
	'.ClientStatus == "complete" and .DesiredStatus == "run" and .TaskStates.coordinator.State == "dead" and .TaskStates.coordinator.Failed == false and (.TaskStates.coordinator.Events[-1] | .Type == "Terminated" and .Details.exit_code == "0")'
check "success: events Received, Task Setup, Started, Terminated" \
	test "$(events_of)" = '["Received","Task Setup","Started","Terminated"]'
acheck "success: StartedAt/FinishedAt RFC 3339, times in ns" \
	'(.TaskStates.coordinator.StartedAt|test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")) and (.TaskStates.coordinator.FinishedAt|type) == "string" and .TaskStates.coordinator.LastRestart == null and (.TaskStates.coordinator.Events[0].Time > 1000000000000000000)'
A=$(jq -r .ID "$T/alloc")
stderr_of "$A" coordinator
grep_file "success: coordinator writes the SUCCESS line" "Pipeline SUCCESS: 2/2 scenarios completed" "$T/log"
grep_file "success: coordinator logs each stage" "Stage agreement: dispatched 2 agreement_maker jobs" "$T/log"
curl -s "$U/sim/truth?prefix=hand_inundator" | jq '[.Jobs[] | select(.Tags.aoi_name == "ok-1")]' >"$T/body"
jcheck "success: 2 scenarios x 3 catchments inundate jobs" 'length == 6'
jcheck "inundate tags follow the upstream format" \
	'all(.[]; .Template|test("^\\[batch_name=sc,aoi_name=ok-1,bench_src=ble-collection,scenario=[0-9a-z]+,catchment=[0-9]{7}\\]$"))'
curl -s "$U/sim/truth?prefix=fim_mosaicker" | jq '[.Jobs[] | select(.Tags.aoi_name == "ok-1") | .Template]' >"$T/body"
jcheck "mosaic tags: one cand_src=hand and one bench_src per scenario" \
	'length == 4 and ([.[] | select(test("cand_src=hand,scenario="))] | length) == 2 and ([.[] | select(test("bench_src=ble-collection,scenario="))] | length) == 2'
curl -s "$U/sim/truth?prefix=agreement_maker" | jq '[.Jobs[] | select(.Tags.aoi_name == "ok-1")]' >"$T/body"
jcheck "agreement: one per scenario, complete" 'length == 2 and all(.[]; .Allocations[0].ClientStatus == "complete")'
req GET "/v1/jobs?prefix=$(urlenc 'hand_inundator/dispatch-[batch_name=sc,aoi_name=ok-1,')"
I=$(jq -r '.[0].ID' "$T/body")
alloc_of "$I"
stderr_of "$(jq -r .ID "$T/alloc")" processor
grep_file "stage stderr has an excluded warning" "No matching forecast data" "$T/log"
req GET "/v1/job/$(urlenc "$I")"
jcheck "stage job meta has the required keys" '.Meta.catchment_data_path != null and .Meta.forecast_path != null and .Meta.output_path != null and .ParentID == "hand_inundator"'

# big: scenario and catchment counts
curl -s "$U/sim/truth?prefix=hand_inundator" | jq '[.Jobs[] | select(.Tags.aoi_name == "big-1")] | length' >"$T/body"
jcheck "per-item counts: 3 scenarios x 5 catchments" '. == 15'

# early exit
alloc_of "$(id_of early-1)"
acheck "early_exit: alloc complete" '.ClientStatus == "complete"'
stderr_of "$(jq -r .ID "$T/alloc")" coordinator
grep_file "early_exit: the exiting early line" "Pipeline exiting early: no flow scenarios found for AOI early-1" "$T/log"
curl -s "$U/sim/truth" | jq '[.Jobs[] | select(.Tags.aoi_name == "early-1")] | length' >"$T/body"
jcheck "early_exit: no stage jobs" '. == 1'

# failed: FAILED line, exit 0
alloc_of "$(id_of fail-1)"
acheck "failed: the coordinator still exits 0 (complete)" '.ClientStatus == "complete" and .TaskStates.coordinator.Events[-1].ExitCode == 0'
stderr_of "$(jq -r .ID "$T/alloc")" coordinator
grep_file "failed: the FAILED line with the message" "Pipeline FAILED: RuntimeError: no benchmark data" "$T/log"

# stage_error in inundate
alloc_of "$(id_of stage-1)"
acheck "stage_error: pipeline complete (exit 0)" '.ClientStatus == "complete"'
stderr_of "$(jq -r .ID "$T/alloc")" coordinator
grep_file "stage_error: FAILED names the stage" "Pipeline FAILED: stage inundate failed: job hand_inundator/dispatch-" "$T/log"
curl -s "$U/sim/truth?prefix=hand_inundator" | jq '[.Jobs[] | select(.Tags.aoi_name == "stage-1") | .Allocations[0] | select(.ClientStatus == "failed")]' >"$T/body"
jcheck "stage_error: one stage alloc failed with exit 1" 'length == 1 and .[0].ExitCode == 1'
curl -s "$U/v1/allocation/$(jq -r '.[0].ID' "$T/body")" >"$T/alloc"
acheck "stage_error: Terminated exit 1 then Not Restarting (Policy allows no restarts)" \
	'.TaskStates.processor.Failed == true and .TaskStates.processor.Events[-2].Details.exit_code == "1" and (.TaskStates.processor.Events[-1] | .Type == "Not Restarting" and .FailsTask == true and .Details.restart_reason == "Policy allows no restarts") and .ClientDescription == "Failed tasks"'
stderr_of "$(jq -r .ID "$T/alloc")" processor
grep_file "stage_error: the stage writes an ERROR line" "ERROR Inundation failed" "$T/log"
curl -s "$U/sim/truth" | jq '[.Jobs[] | select(.Tags.aoi_name == "stage-1" and (.ID|startswith("fim_")))] | length' >"$T/body"
jcheck "stage_error: no later stage was dispatched" '. == 0'

# oom in agreement (restart attempts 3: events capped at 10)
curl -s "$U/sim/truth?prefix=agreement_maker" | jq '[.Jobs[] | select(.Tags.aoi_name == "oom-1") | .Allocations[0] | select(.ClientStatus == "failed")]' >"$T/body"
jcheck "oom: one agreement alloc failed, exit 137" 'length == 1 and .[0].ExitCode == 137 and .[0].Restarts == 3'
curl -s "$U/v1/allocation/$(jq -r '.[0].ID' "$T/body")" >"$T/alloc"
acheck "oom: Terminated has OOM Killed and oom_killed true" \
	'[.TaskStates.processor.Events[] | select(.Type == "Terminated")][-1] | .Message == "OOM Killed" and .Details.oom_killed == "true" and .Details.exit_code == "137" and .DisplayMessage == "Exit Code: 137, Exit Message: \"OOM Killed\""'
acheck "oom: at most 10 events, 3 restarts, LastRestart set" \
	'(.TaskStates.processor.Events|length) == 10 and .TaskStates.processor.Restarts == 3 and (.TaskStates.processor.LastRestart|type) == "string" and .TaskStates.processor.Events[-1].Type == "Not Restarting"'
acheck "full alloc has Job and PreviousAllocation" '.Job.ID != null and has("PreviousAllocation")'
alloc_of "$(id_of oom-1)"
stderr_of "$(jq -r .ID "$T/alloc")" coordinator
grep_file "oom: the pipeline FAILED line says OOM" "Pipeline FAILED: stage agreement failed: .*OOM Killed, exit 137" "$T/log"

# oom of the pipeline itself
alloc_of "$(id_of poom-1)"
acheck "pipeline oom: alloc failed, exit 137" '.ClientStatus == "failed" and .TaskStates.coordinator.Events[-2].ExitCode == 137'

# lost stage alloc: replacement with the same job id
curl -s "$U/sim/truth?prefix=fim_mosaicker" | jq '[.Jobs[] | select(.Tags.aoi_name == "lost-1" and (.Allocations|length) == 2)]' >"$T/body"
jcheck "lost: one mosaic job has two allocs" 'length == 1'
LJ=$(jq -r '.[0].ID' "$T/body")
curl -s "$U/v1/job/$(urlenc "$LJ")/allocations" >"$T/body"
jcheck "lost: old alloc lost/stop with NextAllocation, replacement complete" \
	'.[0].ClientStatus == "lost" and .[0].DesiredStatus == "stop" and .[0].DesiredDescription == "alloc is lost since its node is down" and .[0].NextAllocation == .[1].ID and .[1].ClientStatus == "complete"'
curl -s "$U/v1/allocation/$(jq -r '.[1].ID' "$T/body")" >"$T/alloc"
acheck "lost: the replacement has PreviousAllocation" ".PreviousAllocation == \"$(jq -r '.[0].ID' "$T/body")\""
curl -s "$U/v1/job/$(urlenc "$LJ")/summary" >"$T/body"
jcheck "lost: summary counts Lost 1, Complete 1" '.Summary.processor.Lost == 1 and .Summary.processor.Complete == 1'
alloc_of "$(id_of lost-1)"
stderr_of "$(jq -r .ID "$T/alloc")" coordinator
grep_file "lost: the coordinator logs JobStatus.LOST" "JobStatus.LOST" "$T/log"

# stuck
req GET "/v1/job/$(urlenc "$(id_of stuck-1)")/summary"
jcheck "stuck: pending with Queued 1" '.Summary.coordinator.Queued == 1'
expect_req "stuck: no allocations" 200 "[]" GET "/v1/job/$(urlenc "$(id_of stuck-1)")/allocations"
expect_req "stuck: no logs (unknown allocation)" 404 'Unknown allocation "0"' GET "/v1/client/fs/logs/0?task=coordinator&type=stderr"

# logs API details, before GC
alloc_of "$(id_of ok-1)"
A=$(jq -r .ID "$T/alloc")
req GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr&plain=true"
full=$(cat "$T/body")
check "plain logs are text/plain" sh -c "grep -qi '^content-type: text/plain' '$T/hdr'"
req GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr&plain=true&origin=end&offset=10"
check "origin=end&offset=10 is the last 10 bytes" test "$(cat "$T/body")" = "$(printf '%s\n' "$full" | tail -c 10)"
req GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr"
jcheck "framed logs: Offset, base64 Data, File" '.File == "alloc/logs/coordinator.stderr.0" and (.Data|@base64d|test("Pipeline SUCCESS"))'
expect_req "logs: missing task 400" 400 "must provide task name" GET "/v1/client/fs/logs/$A?type=stderr"
expect_req "logs: bad type 400" 400 "must provide log type (stdout/stderr)" GET "/v1/client/fs/logs/$A?task=coordinator&type=x"
expect_req "logs: bad origin 400" 400 "origin must be start or end" GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr&origin=mid"
expect_req "logs: unknown task 400" 400 'unknown task name "nope"' GET "/v1/client/fs/logs/$A?task=nope&type=stderr"
req PUT /sim/faults '{"log_404": 1}'
expect_req "fault: logs 404 while the alloc exists" 404 "state for allocation $A not found on client" \
	GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr"
req GET "/v1/allocation/$A"
check "... and the alloc is still there" test "$code" = 200
req PUT /sim/faults '{}'

# truth against what was dispatched
curl -s "$U/sim/truth?prefix=pipeline/" >"$T/body"
for item in ok-1 stage-1 stuck-1; do
	jcheck "truth has $item with its meta and tags" \
		"any(.Jobs[]; .ID == \"$(id_of "$item")\" and .Meta.tags == \"batch_name=sc aoi_name=$item\" and .Tags.aoi_name == \"$item\" and .Tags.collection == \"ble-collection\")"
done
jcheck "truth has exactly the 9 pipelines dispatched" '(.Jobs|length) == 9'
jcheck "truth records planned outcomes" 'any(.Jobs[]; .Tags.aoi_name == "oom-1" and .Outcome == "oom" and .OutcomeStage == "agreement")'

# GC: logs and jobs go away
expect_req "forced GC" 200 "" PUT /v1/system/gc
expect_req "after GC: job 404" 404 "job not found" GET "/v1/job/$(urlenc "$(id_of ok-1)")"
expect_req "after GC: logs 404 Unknown allocation" 404 "Unknown allocation \"$A\"" \
	GET "/v1/client/fs/logs/$A?task=coordinator&type=stderr&plain=true"
expect_req "after GC: alloc 404" 404 "alloc not found" GET "/v1/allocation/$A"
req GET /v1/job/pipeline/summary
jcheck "after GC: parent Dead still counts them" '.Children.Dead == 8 and .Children.Pending == 1'
req GET "/v1/job/$(urlenc "$(id_of stuck-1)")"
check "GC keeps the live stuck job" test "$code" = 200
curl -s "$U/sim/truth?prefix=pipeline/" >"$T/body"
jcheck "truth marks GC'd jobs" 'any(.Jobs[]; .GCd == true) and any(.Jobs[]; .Tags.aoi_name == "stuck-1" and .GCd == false)'
req GET /sim/stats
jcheck "peak active pipelines recorded" '.PeakActivePipelines >= 2 and .ActivePipelines == 1'

# placement: a small job goes ahead of a big one that does not fit
cat >"$T/place.json" <<'JSON'
{"nodes": 1, "node_memory": "12GiB",
 "memory": {"hand_inundator": "2GiB", "agreement_maker": "12GiB"},
 "durations": {"inundate": 1000000, "agreement": 10}, "gc_threshold": 5, "gc_interval": 1}
JSON
check "a one-node sim starts" start_sim p --speed 1000 --scenario "$T/place.json"
inund() {
	req PUT /v1/job/hand_inundator/dispatch \
		"{\"Meta\":{\"catchment_data_path\":\"$1\",\"forecast_path\":\"f\",\"output_path\":\"o\"}}"
	JOB=$(jq -r .DispatchedJobID "$T/body")
}
inund first; I1=$JOB
req PUT /v1/job/agreement_maker/dispatch '{"Meta":{"candidate_path":"c","benchmark_path":"b","output_path":"o","fim_type":"extent"}}'
AG=$(jq -r .DispatchedJobID "$T/body")
inund second; I2=$JOB
running() { curl -s "$U/v1/job/$(urlenc "$1")" | jq -e '.Status == "running"' >/dev/null; }
check "the small job dispatched after the big one is placed" wait_until 5 running "$I2"
req GET "/v1/job/$(urlenc "$AG")/summary"
jcheck "the big job waits with Queued 1" '.Summary.processor.Queued == 1 and .Summary.processor.Running == 0'
req DELETE "/v1/job/$(urlenc "$I1")?purge=true"
req DELETE "/v1/job/$(urlenc "$I2")?purge=true"
gone() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/job/$(urlenc "$1")")" = 404 ]; }
check "once memory frees, the big job runs, finishes and is GC'd after the threshold" wait_until 10 gone "$AG"

done_testing
