#!/bin/sh
# The event stream: `{}` first, Job and Allocation batches with indexes,
# replay from an index, topic filters, and the switch that turns it off.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/sim/lib-sim.sh"

cat >"$T/ev.json" <<'JSON'
{"durations": {"pipeline": 10, "inundate": 10, "mosaic": 10, "agreement": 10},
 "defaults": {"scenarios": 1, "catchments": 1}, "gc_threshold": -1, "event_buffer_size": 1000}
JSON
check "sim starts" start_sim e --speed 1000 --scenario "$T/ev.json"
dispatch_pipeline ev item-e
done_() { curl -s "$U/v1/job/$(urlenc "$JOB")" | jq -e '.Status == "dead"' >/dev/null; }
check "the pipeline finishes" wait_until 20 done_

curl -s -m 1 "$U/v1/event/stream?index=1&topic=Job&topic=Allocation" >"$T/stream"
check "the stream starts with {}" test "$(head -1 "$T/stream")" = "{}"
tail -n +2 "$T/stream" | grep -v '^{}$' >"$T/batches"
check "batches are one JSON object a line" jq -e '.Index > 0 and (.Events|length) > 0' "$T/batches"
check "a JobRegistered event for the pipeline" \
	jq -se "any(.[].Events[]; .Topic == \"Job\" and .Type == \"JobRegistered\" and .Key == \"$JOB\" and .Payload.Job.ParentID == \"pipeline\")" "$T/batches"
check "Allocation PlanResult with FilterKeys [job, \"\"]" \
	jq -se "any(.[].Events[]; .Topic == \"Allocation\" and .Type == \"PlanResult\" and .FilterKeys == [\"$JOB\", \"\"])" "$T/batches"
check "the job's dead status arrives as a Job event" \
	jq -se "any(.[].Events[]; .Topic == \"Job\" and .Key == \"$JOB\" and .Payload.Job.Status == \"dead\")" "$T/batches"
check "batch indexes increase" jq -se '[.[].Index] as $i | $i == ($i|sort) and ($i|unique|length) == ($i|length)' "$T/batches"
mid=$(jq -s '.[length/2|floor].Index' "$T/batches")
curl -s -m 1 "$U/v1/event/stream?index=$mid&topic=Job" | grep -v '^{}$' >"$T/b2"
check "replay from an index starts there" jq -se "(.[0].Index >= $mid) and all(.[].Events[]; .Topic == \"Job\")" "$T/b2"
curl -s -m 1 "$U/v1/event/stream?index=1&topic=$(urlenc "Job:$JOB")" | grep -v '^{}$' >"$T/b3"
check "Job:<id> selects only that job" jq -se "length > 0 and all(.[].Events[]; .Key == \"$JOB\")" "$T/b3"
expect_req "bad index: 400" 400 'Unable to parse index: strconv.Atoi: parsing "x": invalid syntax' GET "/v1/event/stream?index=x"

# live delivery: a dispatch shows up on an open stream
curl -s -m 2 "$U/v1/event/stream?topic=Job" >"$T/live" &
bg=$!
sleep 0.5
dispatch_pipeline ev item-live
wait $bg
check "a live subscriber sees the new dispatch" grep -qF "$JOB" "$T/live"

check "a sim without the event stream starts" start_sim off --no-event-stream
expect_req "the event stream is 404 when disabled" 404 "" GET /v1/event/stream
stop_sim "$SIM_PID"
check "it exits 0 on SIGTERM" test $? = 0

done_testing
