/* Purging the Nomad jobs of one batch (or, as the upstream tool did, every
 * dispatched child of the parent jobs), so the next batch starts on a
 * clean server. Only jobs whose logs the database holds are purged unless
 * forced, because a purge destroys a job's allocations and their logs at
 * once (nomad-api.md section 6). */
#ifndef AEDB_PURGE_H
#define AEDB_PURGE_H

#include <signal.h>
#include <stdint.h>

#include "db.h"
#include "nomad.h"

enum purge_verdict {
	PURGE_PURGED,      /* purged now */
	PURGE_GONE,        /* Nomad no longer has it (a read said 404, or the purge answer) */
	PURGE_RUNNING,     /* pending or running: left alone without include_running */
	PURGE_UNCAPTURED,  /* finished allocations whose logs are not captured: left alone */
	PURGE_FAILED,      /* the purge (or the read before it) failed; why says how */
	PURGE_WOULD,       /* dry run: would be purged */
	PURGE_NOT_TRIED,   /* stopped (signal, or Nomad refused an earlier purge) before it */
};

/* One job's outcome, handed to the report callback as it is decided. */
struct purge_job {
	const char *job_id;
	const char *status;   /* Nomad's status when read ("" when not read) */
	enum purge_verdict verdict;
	const char *why;      /* for RUNNING, UNCAPTURED, FAILED, NOT_TRIED; else "" */
};

struct purge_summary {
	int64_t jobs;         /* candidates considered */
	int64_t purged, gone, running, uncaptured, failed, would, not_tried;
	int refused;          /* Nomad answered 403: the rest were not tried */
};

struct purge_config {
	const char *batch_name;        /* the batch (batch mode); NULL with all_dispatch */
	int all_dispatch;              /* every "<parent>/dispatch-" child, as upstream */
	const char *only_parent;       /* with all_dispatch: one parent; NULL: the four */
	const char *db_path;           /* NULL: no database (all_dispatch only) */
	const struct nomad_config *nomad;
	int dry_run;                   /* read only: nothing changes on Nomad or in the database */
	int include_running;           /* purge pending and running jobs too */
	int force;                     /* purge even when logs are not captured */
	int concurrency;               /* parallel requests; 0: PURGE_CONCURRENCY */
	int max_tries;                 /* tries per request on 429/5xx/no answer; 0: 10 */
	int64_t backoff_ns;            /* first wait after a 429/5xx, doubled each try; 0: 500 ms */
	const volatile sig_atomic_t *stop_flag; /* set by a signal: finish what is in flight */
	/* Called for every job once decided, from worker threads, one call at a time. */
	void (*report)(void *ctx, const struct purge_job *job);
	void *report_ctx;
};

#define PURGE_CONCURRENCY 8
#define PURGE_CONCURRENCY_MAX 64

/* The parents whose children carry a batch's tags. */
extern const char *const purge_default_parents[];

/* The id prefix of batch's children of parent: "<parent>/dispatch-[batch_name=B,"
 * (the comma keeps batch b1 from matching b10). Returns malloc'd text. */
char *purge_batch_prefix(const char *parent, const char *batch);

/* Purge (or, dry run, list) the jobs: in batch mode those the database
 * knows for the batch (the job table and the attempts' job ids) and every
 * job on Nomad whose id carries the batch's tags; with all_dispatch every
 * dispatched child of the parents. Holds the batch lock while purging (not
 * in a dry run). Records purged_at (gone_at, gone_reason 'purged') for each
 * purged job and journals a summary. *sum is filled even when -1 is
 * returned after work began. Returns 0 when every job was decided (failures
 * are counted in sum->failed), 1 when stopped by the flag, -1 when nothing
 * could be done (err says why). */
int purge_run(const struct purge_config *cfg, struct purge_summary *sum, struct aedb_err *err);

/* The uncaptured-log check for one job, from the database alone: how many
 * of its log rows are pending and how many of its terminal allocations
 * have no log row. Exposed for tests. */
int purge_db_uncaptured(struct aedb_db *db, const char *job_id, int64_t *pending,
			int64_t *missing, struct aedb_err *err);

const char *purge_verdict_name(enum purge_verdict v);

#endif
