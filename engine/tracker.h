/* The tracker: follows every job of a batch (the pipelines and the stage
 * jobs they dispatch), records each allocation, state change and task
 * event, and captures the logs of finished allocations before Nomad
 * collects them. Runs as a thread of `aedb submit` or as `aedb track`. */
#ifndef AEDB_TRACKER_H
#define AEDB_TRACKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "nomad.h"

enum tracker_mode {
	TRACKER_AUTO,   /* the event stream, falling back to polling without it */
	TRACKER_EVENTS, /* the event stream only */
	TRACKER_POLL,   /* blocking list queries only */
};

enum tracker_log_source { TRACKER_LOGS_CAPTURE, TRACKER_LOGS_CLOUDWATCH };

struct tracker_stats {
	int64_t jobs, allocs, events, logs, logs_unavailable;
	int64_t live_jobs;      /* jobs of the batch not finished yet */
	int64_t live_pipelines; /* dispatched pipelines not finished yet */
	int polling;            /* 1 when running without the event stream */
};

struct tracker_config {
	const char *batch_name;
	const char *db_path;           /* the tracker opens its own connection */
	const struct nomad_config *nomad;
	const char *const *parents;    /* NULL: pipeline, hand_inundator, fim_mosaicker, agreement_maker */
	enum tracker_mode mode;
	const char *log_dir;           /* logs go to <log_dir>/<batch>/<job id>/<task>.<stream>.0 */
	size_t log_cap;                /* bytes kept per stream; 0: TRACKER_LOG_CAP */
	enum tracker_log_source log_source;
	const char *cw_group;          /* CloudWatch log group, with TRACKER_LOGS_CLOUDWATCH */
	int64_t placement_timeout_ns;  /* never placed for this long: stuck (failed) */
	int64_t poll_interval_ns;      /* floor between polls without events; 0: 2 s */
	/* end when every dispatched job has finished; while *dispatching is
	 * set (by the submitter) more pipelines may still come */
	const volatile sig_atomic_t *dispatching;
	volatile sig_atomic_t *stop_flag;
	int hold_lock;                 /* take the batch lock (standalone `aedb track`) */
	void (*report)(void *ctx, const struct tracker_stats *st, const char *level,
		       const char *msg);
	void *report_ctx;
};

#define TRACKER_LOG_CAP (16u << 20)
#define TRACKER_PLACEMENT_TIMEOUT_NS (8LL * 3600 * 1000000000LL)

/* Track until every job of the batch has finished (or the stop flag).
 * Returns 0 when done, 1 when stopped by the flag, -1 on error. */
int tracker_run(const struct tracker_config *cfg, struct aedb_err *err);

/* Parse the tags of a dispatched job id "<parent>/dispatch-[k=v,...]-<t>-<hex>"
 * into a JSON object; NULL when the id carries no tags. */
struct cJSON *tracker_parse_tags(const char *job_id);

#endif
