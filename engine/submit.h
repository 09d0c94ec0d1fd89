/* The submitter: prepares AOIs ahead of dispatch, dispatches each item's
 * pipeline exactly once through the throttle, and waits for the batch's
 * pipelines to finish. All state lives in the database, so a run may be
 * killed at any instant and `aedb resume` continues it. */
#ifndef AEDB_SUBMIT_H
#define AEDB_SUBMIT_H

#include <signal.h>
#include <stdint.h>

#include "aoi.h"
#include "db.h"
#include "nomad.h"
#include "tracker.h"

enum submit_scope { SUBMIT_SCOPE_CLUSTER, SUBMIT_SCOPE_BATCH };

struct submit_status {
	int64_t total;       /* items in the batch */
	int64_t dispatched;  /* items with a dispatched pipeline */
	int64_t failed;      /* items that failed before dispatch (AOI) */
	int64_t active;      /* last count read for the throttle */
	int paused;
	int64_t stop, resume;
	double rate;         /* dispatches per second over this run */
	int draining;        /* every item is dispatched; waiting for pipelines */
};

struct submit_config {
	const char *batch_name;
	const char *parent_job;         /* "pipeline" */
	enum submit_scope scope;
	int64_t stop_threshold, resume_threshold;
	double wait_seconds;
	const char *output_root;        /* outputs_path = <output_root>/<item>/ */
	const char *hand_index_path;
	const char *benchmark_sources;
	const char *nomad_token;        /* passed as meta nomad_token when set */
	int use_local_creds;            /* AWS keys from the environment into meta */
	struct aoi_config aoi;
	int track;                      /* wait until every pipeline has finished */
	struct tracker_config tracker;  /* with track: the tracker thread's setup (its
					 * dispatching and stop_flag are set by submit_run) */
	int lookahead;                  /* AOIs prepared ahead of dispatch */
	volatile sig_atomic_t *stop_flag; /* set by a signal handler */
	/* progress and log lines; msg is NULL for a progress-only update */
	void (*report)(void *ctx, const struct submit_status *st, const char *level,
		       const char *msg);
	void *report_ctx;
};

enum submit_result {
	SUBMIT_DONE = 0,          /* everything dispatched (and finished, when tracking) */
	SUBMIT_ITEMS_FAILED = 3,  /* done, but some items failed */
	SUBMIT_INTERRUPTED = 130, /* stop_flag: state committed */
};

/* Run the batch `cfg->batch_name`, which must exist in db (batch_upsert).
 * Returns a submit_result, or -1 with err (a configuration refusal from
 * Nomad has kind AEDB_E_USAGE; the batch is left resumable). */
int submit_run(struct aedb_db *db, struct nomad *nomad, const struct submit_config *cfg,
	       struct aedb_err *err);

#endif
