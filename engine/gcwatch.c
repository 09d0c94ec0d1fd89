/* The memory watchdog. A GC runs once per crossing of the threshold (not
 * at every reading above it, which would hammer a server whose memory GC
 * cannot bring down), only after the caller's before_gc agreed (the logs
 * of finished allocations are captured), and never again after Nomad
 * refused one with 403: the token will not change while we run. Readings
 * and GCs go to the journal so an operator can see the server's memory
 * next to the batch's history. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "gcwatch.h"
#include "util.h"

#define GCWATCH_AFTER_TRIES 3

struct gcwatch {
	struct gcwatch_config cfg;
	struct nomad *nomad;
	struct gcwatch_state st;
	int64_t due;          /* monotonic ns of the next step; 0: now */
	int pending_after;    /* a GC waits for its "after" reading */
	int after_failures;
	int err_streak;       /* readings failed in a row (journaled once per streak) */
	double before;
	int64_t gc_at;        /* monotonic ns of the last GC */
	int64_t gcs;
	struct gcwatch_report last;
};

void gcwatch_state_init(struct gcwatch_state *s)
{
	s->armed = 1;
	s->refused = 0;
}

enum gcwatch_action gcwatch_decide(struct gcwatch_state *s, double value, uint64_t threshold)
{
	if (value <= (double)threshold) {
		s->armed = 1;
		return value > (double)threshold / 2 ? GCWATCH_NOTE : GCWATCH_OK;
	}
	if (s->armed && !s->refused)
		return GCWATCH_COLLECT;
	return GCWATCH_HOLD;
}

void gcwatch_format_size(double bytes, char *out, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%.0f B", v);
	else
		snprintf(out, size, "%.2f %s", v, units[u]);
}

int gcwatch_new(const struct gcwatch_config *cfg, const struct nomad_config *ncfg,
		struct gcwatch **out, struct aedb_err *err)
{
	struct gcwatch *w;

	if (cfg->threshold == 0)
		return aedb_err_setk(err, AEDB_E_USAGE, "the GC threshold must be more than 0 bytes");
	w = xcalloc(1, sizeof(*w));
	w->cfg = *cfg;
	if (w->cfg.interval_ns <= 0)
		w->cfg.interval_ns = GCWATCH_INTERVAL_NS;
	if (w->cfg.settle_ns == 0)
		w->cfg.settle_ns = GCWATCH_SETTLE_NS;
	if (!w->cfg.gauge)
		w->cfg.gauge = GCWATCH_GAUGE;
	if (w->cfg.rearm_ns == 0)
		w->cfg.rearm_ns = GCWATCH_REARM_NS;
	if (nomad_open(ncfg, &w->nomad, err) < 0) {
		free(w);
		return -1;
	}
	gcwatch_state_init(&w->st);
	w->last.value = -1;
	w->last.threshold = w->cfg.threshold;
	*out = w;
	return 0;
}

void gcwatch_free(struct gcwatch *w)
{
	if (!w)
		return;
	nomad_close(w->nomad);
	free(w);
}

const struct gcwatch_report *gcwatch_last(const struct gcwatch *w)
{
	return &w->last;
}

int64_t gcwatch_due_in_ns(const struct gcwatch *w)
{
	int64_t left = w->due - aedb_mono_ns();

	return left > 0 ? left : 0;
}

int gcwatch_gc_pending(const struct gcwatch *w)
{
	return w->pending_after;
}

static void report(struct gcwatch *w, enum gcwatch_event ev, double value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct gcwatch *w, enum gcwatch_event ev, double value, const char *fmt, ...)
{
	va_list ap;

	w->last.event = ev;
	w->last.value = value;
	w->last.threshold = w->cfg.threshold;
	w->last.gcs = w->gcs;
	va_start(ap, fmt);
	vsnprintf(w->last.msg, sizeof(w->last.msg), fmt, ap);
	va_end(ap);
}

static void journal(struct gcwatch *w, struct aedb_db *db, int64_t batch_id, const char *level,
		    const char *kind)
{
	cJSON *d;

	if (!db)
		return;
	d = cJSON_CreateObject();
	if (w->last.value >= 0)
		cJSON_AddNumberToObject(d, "alloc_bytes", w->last.value);
	if (strcmp(kind, "gc") == 0) {
		cJSON_AddNumberToObject(d, "before", w->last.before);
		if (w->last.after >= 0)
			cJSON_AddNumberToObject(d, "after", w->last.after);
		else
			cJSON_AddNullToObject(d, "after");
	}
	cJSON_AddNumberToObject(d, "threshold", (double)w->cfg.threshold);
	cJSON_AddStringToObject(d, "gauge", w->cfg.gauge);
	journal_add(db, batch_id, level, kind, d, NULL, "%s", w->last.msg);
	cJSON_Delete(d);
}

/* Read the gauge; on failure journal the first failure of a streak. */
static int read_gauge(struct gcwatch *w, struct aedb_db *db, int64_t batch_id, double *value,
		      struct aedb_err *err)
{
	enum nomad_rc rc = nomad_metrics_gauge(w->nomad, w->cfg.gauge, value, err);

	if (rc == NOMAD_OK) {
		w->err_streak = 0;
		return 0;
	}
	report(w, GCWATCH_ERROR, -1, "cannot read the server's memory: %s", err->msg);
	if (w->err_streak++ == 0)
		journal(w, db, batch_id, "warn", "gc_error");
	return -1;
}

/* The "after" reading of a GC: journal the GC with both values. */
static int after_reading(struct gcwatch *w, struct aedb_db *db, int64_t batch_id, int force,
			 struct aedb_err *err)
{
	char b[32], a[32], t[32];
	double v = -1;
	int r = read_gauge(w, db, batch_id, &v, err);

	if (r < 0 && !force && ++w->after_failures < GCWATCH_AFTER_TRIES)
		return -1;
	w->pending_after = 0;
	w->after_failures = 0;
	gcwatch_format_size(w->before, b, sizeof(b));
	gcwatch_format_size(v, a, sizeof(a));
	gcwatch_format_size((double)w->cfg.threshold, t, sizeof(t));
	if (r == 0)
		report(w, GCWATCH_GC_DONE, v, "Nomad GC: %s before, %s after (threshold %s)", b, a, t);
	else
		report(w, GCWATCH_GC_DONE, -1, "Nomad GC: %s before, after unknown (threshold %s)",
		       b, t);
	w->last.before = w->before;
	w->last.after = r == 0 ? v : -1;
	journal(w, db, batch_id, "info", "gc");
	if (r == 0)
		gcwatch_decide(&w->st, v, w->cfg.threshold); /* re-arms when it is below */
	return r;
}

int gcwatch_finish(struct gcwatch *w, struct aedb_db *db, int64_t batch_id, struct aedb_err *err)
{
	if (!w || !w->pending_after)
		return 0;
	return after_reading(w, db, batch_id, 1, err);
}

int gcwatch_tick(struct gcwatch *w, struct aedb_db *db, int64_t batch_id,
		 int (*before_gc)(void *ctx), void *ctx, struct aedb_err *err)
{
	int64_t now = aedb_mono_ns();
	char v[32], t[32];
	double value = -1;
	enum nomad_rc rc;
	int r;

	w->last.event = GCWATCH_IDLE;
	if (w->due && now < w->due)
		return 0;
	w->last.before = w->last.after = -1;
	if (w->pending_after) {
		r = after_reading(w, db, batch_id, 0, err);
		w->due = now + w->cfg.interval_ns;
		return r;
	}
	w->due = now + w->cfg.interval_ns;
	if (read_gauge(w, db, batch_id, &value, err) < 0)
		return -1;
	if (!w->st.armed && w->cfg.rearm_ns > 0 && now - w->gc_at >= w->cfg.rearm_ns)
		w->st.armed = 1; /* high ever since the last GC: allow another */
	gcwatch_format_size(value, v, sizeof(v));
	gcwatch_format_size((double)w->cfg.threshold, t, sizeof(t));
	switch (gcwatch_decide(&w->st, value, w->cfg.threshold)) {
	case GCWATCH_OK:
		report(w, GCWATCH_LOW, value, "Nomad server memory %s (threshold %s)", v, t);
		return 0;
	case GCWATCH_NOTE:
		report(w, GCWATCH_HIGH, value, "Nomad server memory %s, above half the threshold %s",
		       v, t);
		journal(w, db, batch_id, "info", "memory");
		return 0;
	case GCWATCH_HOLD:
		report(w, GCWATCH_HIGH, value, "Nomad server memory %s, above the threshold %s", v, t);
		journal(w, db, batch_id, "warn", "memory");
		w->last.event = GCWATCH_ABOVE;
		return 0;
	case GCWATCH_COLLECT:
		break;
	}
	report(w, GCWATCH_HIGH, value, "Nomad server memory %s, above the threshold %s", v, t);
	journal(w, db, batch_id, "warn", "memory");
	if (before_gc && before_gc(ctx) != 0) {
		report(w, GCWATCH_DEFERRED, value,
		       "GC deferred at %s: the logs of finished allocations are not all captured "
		       "yet; trying again at the next reading",
		       v);
		journal(w, db, batch_id, "warn", "gc_deferred");
		return 0;
	}
	rc = nomad_system_gc(w->nomad, err);
	if (rc == NOMAD_REFUSED) {
		w->st.refused = 1;
		report(w, GCWATCH_REFUSED, value,
		       "GC refused at %s: %s. Memory is still watched, but no GC will be tried "
		       "again",
		       v, err->msg);
		journal(w, db, batch_id, "error", "gc_refused");
		return 0;
	}
	if (rc != NOMAD_OK) {
		report(w, GCWATCH_ERROR, value, "the GC at %s failed: %s; trying again at the next "
		       "reading", v, err->msg);
		journal(w, db, batch_id, "warn", "gc_error");
		return -1;
	}
	w->st.armed = 0;
	w->gc_at = now;
	w->gcs++;
	w->before = value;
	w->pending_after = 1;
	report(w, GCWATCH_GC, value, "Nomad GC triggered at %s (threshold %s)", v, t);
	w->last.before = value;
	if (w->cfg.settle_ns < 0)
		return after_reading(w, db, batch_id, 1, err);
	w->due = now + w->cfg.settle_ns;
	return 0;
}

/* ---------- waiting for logs ---------- */

int gcwatch_uncaptured(struct aedb_db *db, int64_t batch_id, int64_t *pending, int64_t *missing,
		       struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db,
		       "WITH b AS (SELECT id FROM batch WHERE CASE WHEN ?1 = 0 "
		       "           THEN state NOT IN ('done', 'cancelled') ELSE id = ?1 END) "
		       "SELECT (SELECT count(*) FROM log WHERE state = 'pending' "
		       "        AND batch_id IN (SELECT id FROM b)), "
		       "       (SELECT count(*) FROM alloc a JOIN job j ON j.id = a.job_ref "
		       "        WHERE j.batch_id IN (SELECT id FROM b) "
		       "        AND a.client_status IN ('complete', 'failed', 'lost') "
		       "        AND a.gone_at IS NULL AND j.gone_at IS NULL "
		       "        AND NOT EXISTS (SELECT 1 FROM log l WHERE l.alloc_ref = a.id))",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, batch_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_err(db, err, "cannot count uncaptured logs");
		sqlite3_finalize(st);
		return -1;
	}
	*pending = sqlite3_column_int64(st, 0);
	*missing = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return 0;
}

static int flag_set(const volatile sig_atomic_t *f)
{
	return f && *f;
}

int gcwatch_wait_logs(void *ctx)
{
	struct gcwatch_logs_wait *wl = ctx;
	struct aedb_err err = AEDB_ERR_INIT;
	int64_t start = aedb_mono_ns();
	int64_t timeout = wl->timeout_ns > 0 ? wl->timeout_ns : GCWATCH_WAIT_LOGS_NS;
	int64_t poll = wl->poll_ns > 0 ? wl->poll_ns : 200000000;
	int journaled = 0;

	for (;;) {
		if (gcwatch_uncaptured(wl->db, wl->batch_id, &wl->pending, &wl->missing, &err) < 0)
			return 1;
		if (wl->pending == 0 && wl->missing == 0) {
			if (journaled)
				journal_add(wl->db, wl->batch_id, "info", "gc_wait", NULL, NULL,
					    "every finished allocation's logs are captured after %.1f s; "
					    "the GC may run",
					    (double)(aedb_mono_ns() - start) / 1e9);
			return 0;
		}
		if (!journaled) {
			cJSON *d = cJSON_CreateObject();

			cJSON_AddNumberToObject(d, "pending_logs", (double)wl->pending);
			cJSON_AddNumberToObject(d, "allocs_without_logs", (double)wl->missing);
			journal_add(wl->db, wl->batch_id, "info", "gc_wait", d, NULL,
				    "GC waits for logs: %lld log streams pending, %lld finished "
				    "allocations without logs",
				    (long long)wl->pending, (long long)wl->missing);
			cJSON_Delete(d);
			journaled = 1;
		}
		if (aedb_mono_ns() - start >= timeout || flag_set(wl->stop_flag) ||
		    flag_set(wl->stop_flag2))
			return 1;
		aedb_sleep_ns(poll);
	}
}

/* ---------- the loop ---------- */

static int stop_requested(const struct gcwatch_run_config *cfg)
{
	return flag_set(cfg->stop_flag) || flag_set(cfg->stop_flag2);
}

int gcwatch_run(const struct gcwatch_run_config *cfg, struct aedb_err *err)
{
	struct gcwatch *w = NULL;
	struct aedb_db *db = NULL;
	struct gcwatch_logs_wait wl;
	int ret = -1, read_once = 0;

	if (gcwatch_new(&cfg->watch, cfg->nomad, &w, err) < 0)
		return -1;
	if (cfg->db_path && db_open(cfg->db_path, 0, &db, err) < 0)
		goto out;
	memset(&wl, 0, sizeof(wl));
	wl.db = db;
	wl.batch_id = cfg->batch_id;
	wl.timeout_ns = cfg->wait_timeout_ns;
	wl.stop_flag = cfg->stop_flag;
	wl.stop_flag2 = cfg->stop_flag2;
	ret = 0;
	while (!stop_requested(cfg)) {
		struct aedb_err terr = AEDB_ERR_INIT;
		int r = gcwatch_tick(w, db, cfg->batch_id,
				     db && cfg->wait_logs ? gcwatch_wait_logs : NULL, &wl, &terr);
		const struct gcwatch_report *rep = gcwatch_last(w);

		if (rep->event != GCWATCH_IDLE) {
			if (cfg->report)
				cfg->report(cfg->report_ctx, rep);
			read_once = 1;
		}
		if (cfg->once && read_once && !gcwatch_gc_pending(w)) {
			if (r < 0) {
				*err = terr;
				ret = -1;
			}
			break;
		}
		while (!stop_requested(cfg)) {
			int64_t left = gcwatch_due_in_ns(w);

			if (left <= 0)
				break;
			aedb_sleep_ns(left < 100000000 ? left : 100000000);
		}
	}
	if (gcwatch_gc_pending(w)) {
		struct aedb_err ferr = AEDB_ERR_INIT;

		gcwatch_finish(w, db, cfg->batch_id, &ferr);
		if (cfg->report)
			cfg->report(cfg->report_ctx, gcwatch_last(w));
	}
out:
	db_close(db);
	gcwatch_free(w);
	return ret;
}
