/* The Nomad server memory watchdog: reads the server's heap gauge
 * (nomad.runtime.alloc_bytes) from GET /v1/metrics and, above a threshold,
 * triggers a forced GC (PUT /v1/system/gc), once per crossing, after the
 * caller has made sure every finished allocation's logs are captured (a GC
 * destroys them: nomad-api.md sections 10 and 11). Usable three ways: the
 * pure decision (gcwatch_decide), one step from a caller's own loop
 * (gcwatch_tick), or a whole loop (gcwatch_run: `aedb gc-watch`, or a
 * thread of `aedb submit`). */
#ifndef AEDB_GCWATCH_H
#define AEDB_GCWATCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "caps.h"
#include "nomad.h"

#define GCWATCH_GAUGE "nomad.runtime.alloc_bytes"
#define GCWATCH_INTERVAL_NS (120LL * 1000000000)   /* as nomad_memory_monitor.sh */
/* Nomad's metrics endpoint shows the last finished 10 s interval, so the
 * reading that shows a GC's effect comes a little later. */
#define GCWATCH_SETTLE_NS (15LL * 1000000000)
#define GCWATCH_WAIT_LOGS_NS (300LL * 1000000000)
/* A GC that left the gauge above the threshold (the jobs were still live)
 * may run again after this long, so memory cannot stay high forever. */
#define GCWATCH_REARM_NS (1800LL * 1000000000)

/* ---------- the decision, a pure state machine ---------- */

struct gcwatch_state {
	int armed;    /* a GC may run: no GC since the gauge was last at or below the threshold */
	int refused;  /* Nomad answered 403 to a GC: never try again */
};

enum gcwatch_action {
	GCWATCH_OK,       /* at or below half the threshold: nothing to note */
	GCWATCH_NOTE,     /* above half the threshold: journal the reading */
	GCWATCH_COLLECT,  /* above the threshold and armed: GC now */
	GCWATCH_HOLD,     /* above the threshold, but this crossing was collected (or GC refused) */
};

void gcwatch_state_init(struct gcwatch_state *s);
/* Decide on one reading. An at-or-below-threshold reading re-arms. The
 * caller disarms (s->armed = 0) once its GC has run. */
enum gcwatch_action gcwatch_decide(struct gcwatch_state *s, double value, uint64_t threshold);

/* ---------- one watchdog ---------- */

struct gcwatch_config {
	uint64_t threshold;   /* bytes; required (> 0) */
	int64_t interval_ns;  /* between readings; 0: GCWATCH_INTERVAL_NS */
	int64_t settle_ns;    /* from a GC to its "after" reading; 0: GCWATCH_SETTLE_NS; < 0: at once */
	const char *gauge;    /* NULL: GCWATCH_GAUGE */
	int64_t rearm_ns;     /* still above this long after a GC: GC again; 0: GCWATCH_REARM_NS; < 0: never */
};

enum gcwatch_event {
	GCWATCH_IDLE,      /* not due yet: nothing was done */
	GCWATCH_LOW,       /* a reading at or below half the threshold */
	GCWATCH_HIGH,      /* a reading above half the threshold (journaled) */
	GCWATCH_ABOVE,     /* above the threshold; this crossing already collected, or GC refused */
	GCWATCH_GC,        /* a GC was triggered; its "after" reading comes settle_ns later */
	GCWATCH_GC_DONE,   /* the "after" reading of a GC: the GC is journaled with both values */
	GCWATCH_DEFERRED,  /* above the threshold, but before_gc said not yet: next reading tries again */
	GCWATCH_REFUSED,   /* Nomad answered 403 to the GC (reported once; the watchdog goes on) */
	GCWATCH_ERROR,     /* a reading or a GC failed; the watchdog goes on */
};

struct gcwatch_report {
	enum gcwatch_event event;
	double value;          /* this reading, bytes (-1: none) */
	double before, after;  /* GCWATCH_GC (before) and GCWATCH_GC_DONE (both; after -1: unknown) */
	uint64_t threshold;
	int64_t gcs;           /* GCs triggered so far */
	char msg[AEDB_ERR_MAX]; /* one line for people, as journaled */
};

struct gcwatch;

/* A watchdog with its own Nomad client (use it from one thread). */
int gcwatch_new(const struct gcwatch_config *cfg, const struct nomad_config *ncfg,
		struct gcwatch **out, struct aedb_err *err);
void gcwatch_free(struct gcwatch *w);

/* One step, cheap when not due (returns 0 at once). When due: read the
 * gauge; journal it in db under batch_id (0: no batch; db may be NULL: no
 * journal) when above half the threshold; above the threshold and armed,
 * call before_gc(ctx) (may be NULL) and GC when it returns 0 (non-zero:
 * not yet, the next reading tries again). Journal kinds: memory, gc (with
 * before and after), gc_deferred, gc_refused (once), gc_error. Returns 0,
 * or -1 when a reading or the GC failed (err says why; the watchdog goes on
 * at the next step). What happened is in gcwatch_last(). */
int gcwatch_tick(struct gcwatch *w, struct aedb_db *db, int64_t batch_id,
		 int (*before_gc)(void *ctx), void *ctx, struct aedb_err *err);
/* Nanoseconds until gcwatch_tick will do something (0: now). */
int64_t gcwatch_due_in_ns(const struct gcwatch *w);
/* 1 while a GC waits for its "after" reading. */
int gcwatch_gc_pending(const struct gcwatch *w);
/* Before stopping: if a GC waits for its "after" reading, read it now and
 * journal the GC. */
int gcwatch_finish(struct gcwatch *w, struct aedb_db *db, int64_t batch_id, struct aedb_err *err);
const struct gcwatch_report *gcwatch_last(const struct gcwatch *w);

/* ---------- waiting for logs (a before_gc callback) ---------- */

/* Uncaptured logs: log rows still pending, and terminal allocations (of
 * jobs and allocations not gone) without any log row; of batch_id, or with
 * 0 of every batch not done or cancelled. */
int gcwatch_uncaptured(struct aedb_db *db, int64_t batch_id, int64_t *pending, int64_t *missing,
		       struct aedb_err *err);

struct gcwatch_logs_wait {
	struct aedb_db *db;      /* a connection of the calling thread */
	int64_t batch_id;        /* as gcwatch_uncaptured */
	int64_t timeout_ns;      /* give up after; 0: GCWATCH_WAIT_LOGS_NS */
	int64_t poll_ns;         /* 0: 200 ms */
	const volatile sig_atomic_t *stop_flag;  /* may be NULL */
	const volatile sig_atomic_t *stop_flag2; /* may be NULL */
	int64_t pending, missing; /* out: what was left at the last check */
};

/* A before_gc callback (ctx: struct gcwatch_logs_wait): returns 0 once
 * nothing is uncaptured, 1 when it gave up (timeout, stop flag, database
 * error). Journals 'gc_wait' when it had to wait. */
int gcwatch_wait_logs(void *ctx);

/* ---------- the loop ---------- */

struct gcwatch_run_config {
	struct gcwatch_config watch;
	const struct nomad_config *nomad;
	const char *db_path;         /* NULL: no journal and no log wait */
	int64_t batch_id;            /* journal under it (0: none); whose logs to wait for */
	int wait_logs;               /* before a GC, wait until the logs are captured */
	int64_t wait_timeout_ns;     /* 0: GCWATCH_WAIT_LOGS_NS */
	int once;                    /* one reading (and its GC, with the after reading), then return */
	const volatile sig_atomic_t *stop_flag;  /* either set: return (may be NULL) */
	const volatile sig_atomic_t *stop_flag2;
	/* Called after every step that did something (not GCWATCH_IDLE). */
	void (*report)(void *ctx, const struct gcwatch_report *r);
	void *report_ctx;
};

/* Watch until a stop flag is set (or one round with once). Returns 0, or
 * -1 when it could not start, or with once when the reading failed. */
int gcwatch_run(const struct gcwatch_run_config *cfg, struct aedb_err *err);

/* "6.00 GiB": a byte count for messages. */
void gcwatch_format_size(double bytes, char *out, size_t size);

#endif
