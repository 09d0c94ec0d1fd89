#!/bin/sh
# Writes the small upstream log tree the sql tests import: DIR/<parent>/
# dispatch-[...]-<t>-<hex>/<task>.stderr.0. The cases (docs/reports.md,
# "What the tests cover"): a1 success with only excluded inundator
# warnings; a2 FAILED plus a job error; a3 success plus a real agreement
# error and every agr/mos exclusion; a4 FAILED plus an ignorable message;
# a5 no logs at all; a6 run twice (FAILED, then SUCCESS); a7 success text
# (Nomad's OOM verdict is added by nomad-facts.sql); a8 JSON lines and a
# mixed-case inundator warning; a9 a log of an AOI not in the run list.
set -eu
d=$1
job() { # PARENT TAGS T HEX TASK LINES...
	p=$1 tags=$2 t=$3 hex=$4 task=$5; shift 5
	dir="$d/$p/dispatch-[batch_name=b1,$tags]-$t-$hex"
	mkdir -p "$dir"
	: >"$dir/$task.stderr.0"
	for l in "$@"; do printf '%s\n' "$l" >>"$dir/$task.stderr.0"; done
	printf 'stdout: ERROR never read\n' >"$dir/$task.stdout.0"
	printf 'job_id: %s\n' "$p/dispatch-[batch_name=b1,$tags]-$t-$hex" >"$dir/run_metadata.txt"
}
pl() { job pipeline "aoi_name=$1,collection=c" "$2" "$3" coordinator "$4" "$5"; }
pl a1 1700000001 0000000a "INFO starting" "Pipeline SUCCESS: 2/2 scenarios completed"
job hand_inundator "aoi_name=a1,bench_src=ble,scenario=s1,catchment=1234567" 1700000011 0000001a processor \
	"WARNING: No matching forecast data for reach 7" "error: 'NoneType' is not iterable" \
	"warn: No catchments with negative LakeID"
job pipeline "aoi_name=a2,collection=c" 1700000002 0000000b coordinator \
	"botocore.exceptions.ClientError: AccessDenied" "HTTPConnectionPool(host='stac', port=80): timeout" \
	"BaseNomadException: 500" "stage job ended JobStatus.CANCELLED" "process killed: oom" \
	"Pipeline FAILED: no benchmark" "Pipeline FAILED: OOM in stage (chain: counted as failed only)"
pl a3 1700000003 0000000c "INFO" "Pipeline SUCCESS: 1/1 scenarios completed"
job agreement_maker "aoi_name=a3,bench_src=ble,scenario=s1" 1700000013 0000001c processor \
	"ERROR: agreement metrics failed" \
	"ERROR Agreement map contains no valid data" \
	"error in distributed.shuffle" "warning: No features found" "Worker is at 90% memory, warn" \
	"distributed.worker.memory - WARNING - Unmanaged memory use is high. leak?" \
	"error gc.collect took 3s" "Warning 1: Request for 12-34 failed with response_code=404" \
	"ERROR Failed to communicate with scheduler during heartbeat" "NotGeoreferencedWarning: x" \
	"distributed.comm.core.CommClosedError: error" "UserWarning: Sending large graph of size 9" \
	"error: port is already in use" "warnings.warn(x)" "Warning: x has GPKG application_id 1" \
	"distributed.nanny - WARNING - Worker process still alive"
pl a4 1700000004 0000000d "INFO" "Pipeline FAILED: empty agreement"
job fim_mosaicker "aoi_name=a4,cand_src=hand,scenario=s1" 1700000014 0000001d processor \
	"Agreement map contains no valid data"
pl a6 1700000006 0000000f "INFO" "Pipeline FAILED: flaky node"
pl a6 1700000106 0000010f "INFO" "Pipeline SUCCESS: 2/2 scenarios completed"
pl a7 1700000007 00000010 "INFO" "Pipeline SUCCESS: 2/2 scenarios completed"
job hand_inundator "aoi_name=a7,bench_src=ble,scenario=s1,catchment=7654321" 1700000017 00000020 processor "INFO ok"
pl a8 1700000008 00000011 '{"level": "info", "msg": "no message member, an error here is not read"}' \
	'{"level": "INFO", "message": "Pipeline SUCCESS: 1/1 scenarios completed"}'
job hand_inundator "aoi_name=a8,bench_src=ble,scenario=s1,catchment=1111111" 1700000018 00000021 processor \
	'{"level": "WARNING", "message": "Raster Warn: nodata value missing"}' "ErRoR: mixed case"
pl a9 1700000009 00000012 "INFO" "Pipeline SUCCESS: 2/2 scenarios completed"
