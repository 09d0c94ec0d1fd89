/* Purge: decide, job by job, whether a batch's Nomad job may be purged, and
 * purge it with bounded concurrency. The candidates are the union of what
 * the database knows (job rows, attempts' job ids) and what Nomad lists
 * under the batch's id prefixes, so jobs the tracker never saw are not
 * left behind. Each worker thread owns a Nomad client and a database
 * connection. "Already gone" is learned from a read (404) or from the purge
 * answer Nomad gives for a job it does not have (EvalID "" and
 * JobModifyIndex 0), never from a 404 of the DELETE, which only means a
 * wrong route (nomad-api.md section 6). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "purge.h"
#include "tracker.h"
#include "util.h"

const char *const purge_default_parents[] = {
	"pipeline", "hand_inundator", "fim_mosaicker", "agreement_maker", NULL,
};

#define PURGE_BACKOFF_NS (500LL * 1000000)
#define PURGE_BACKOFF_MAX_NS (10LL * 1000000000)
#define PURGE_HEARTBEAT_NS (15LL * 1000000000)

struct cand {
	char *job_id;
	int known; /* a job row exists (else only an attempt, or Nomad's list) */
};

struct purge_ctx {
	const struct purge_config *cfg;
	int64_t batch_id;
	const char *ns;
	struct cand *c;
	size_t n, alloc;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t next;        /* the next candidate to take */
	int live;           /* workers still running */
	struct purge_summary sum;
};

struct worker {
	struct purge_ctx *p;
	struct nomad *nomad;
	struct aedb_db *db; /* NULL without a database */
	pthread_t th;
	int started;
};

const char *purge_verdict_name(enum purge_verdict v)
{
	switch (v) {
	case PURGE_PURGED: return "purged";
	case PURGE_GONE: return "already gone";
	case PURGE_RUNNING: return "skipped running";
	case PURGE_UNCAPTURED: return "skipped uncaptured";
	case PURGE_FAILED: return "failed";
	case PURGE_WOULD: return "would purge";
	case PURGE_NOT_TRIED: return "not tried";
	}
	return "?";
}

char *purge_batch_prefix(const char *parent, const char *batch)
{
	return xasprintf("%s/dispatch-[batch_name=%s,", parent, batch);
}

static int stopped(const struct purge_ctx *p)
{
	return p->cfg->stop_flag && *p->cfg->stop_flag;
}

static void add_cand(struct purge_ctx *p, const char *id, int known)
{
	if (p->n == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 256;
		p->c = xrealloc(p->c, p->alloc * sizeof(*p->c));
	}
	p->c[p->n].job_id = xstrdup(id);
	p->c[p->n].known = known;
	p->n++;
}

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return strcmp(x->job_id, y->job_id);
}

/* Sort and merge duplicates (keeping `known` if any copy has it). */
static void dedupe(struct purge_ctx *p)
{
	size_t i, w = 0;

	if (p->n == 0)
		return;
	qsort(p->c, p->n, sizeof(*p->c), cand_cmp);
	for (i = 1; i < p->n; i++) {
		if (strcmp(p->c[i].job_id, p->c[w].job_id) == 0) {
			p->c[w].known |= p->c[i].known;
			free(p->c[i].job_id);
		} else {
			p->c[++w] = p->c[i];
		}
	}
	p->n = w + 1;
}

/* Sleep before try number `attempt` (1, 2, ...): backoff doubled each time,
 * capped, in short slices so a signal is noticed. -1 when stopped. */
static int backoff(struct purge_ctx *p, int attempt)
{
	int64_t ns = p->cfg->backoff_ns > 0 ? p->cfg->backoff_ns : PURGE_BACKOFF_NS;
	int64_t end;
	int i;

	for (i = 1; i < attempt && ns < PURGE_BACKOFF_MAX_NS; i++)
		ns *= 2;
	if (ns > PURGE_BACKOFF_MAX_NS)
		ns = PURGE_BACKOFF_MAX_NS;
	end = aedb_mono_ns() + ns;
	while (!stopped(p)) {
		int64_t left = end - aedb_mono_ns();

		if (left <= 0)
			return 0;
		aedb_sleep_ns(left < 100000000 ? left : 100000000);
	}
	return -1;
}

static int max_tries(const struct purge_ctx *p)
{
	return p->cfg->max_tries > 0 ? p->cfg->max_tries : 10;
}

/* ---------- candidates ---------- */

struct list_ctx {
	struct purge_ctx *p;
};

static int on_stub(void *ctx, const cJSON *stub)
{
	struct list_ctx *l = ctx;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(stub, "ID");

	if (cJSON_IsString(id))
		add_cand(l->p, id->valuestring, 0);
	return 0;
}

static int list_prefix(struct purge_ctx *p, struct nomad *n, const char *prefix,
		       struct aedb_err *err)
{
	struct list_ctx l = { p };
	int attempt = 0;

	for (;;) {
		enum nomad_rc rc;
		size_t before = p->n;

		rc = nomad_list_jobs(n, prefix, on_stub, &l, err);
		if (rc == NOMAD_OK)
			return 0;
		/* a page failed: forget this prefix's partial result and list again */
		while (p->n > before)
			free(p->c[--p->n].job_id);
		if ((rc != NOMAD_TRANSIENT && rc != NOMAD_UNKNOWN) || ++attempt >= max_tries(p) ||
		    backoff(p, attempt) < 0) {
			aedb_err_prefix(err, "cannot list the jobs '%s...'", prefix);
			return -1;
		}
	}
}

static int add_parent(const char ***parents, size_t *np, const char *name)
{
	size_t i;

	for (i = 0; i < *np; i++) {
		if (strcmp((*parents)[i], name) == 0)
			return 0;
	}
	*parents = xrealloc(*parents, (*np + 1) * sizeof(**parents));
	(*parents)[(*np)++] = name;
	return 1;
}

/* The batch's jobs the database knows, and the parents to list. */
static int db_candidates(struct purge_ctx *p, struct aedb_db *db, char ***owned, size_t *nowned,
			 struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db,
		       "SELECT job_id, 1 FROM job WHERE batch_id = ?1 "
		       "UNION ALL SELECT a.job_id, 0 FROM attempt a JOIN item i ON i.id = a.item_id "
		       "WHERE i.batch_id = ?1 AND a.job_id IS NOT NULL",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, p->batch_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		add_cand(p, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the batch's jobs");
	/* parents: the batch's own parameterized job and every parent seen */
	if (db_prepare(db,
		       "SELECT parent_job FROM batch WHERE id = ?1 "
		       "UNION SELECT DISTINCT parent FROM job WHERE batch_id = ?1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, p->batch_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*owned = xrealloc(*owned, (*nowned + 1) * sizeof(**owned));
		(*owned)[(*nowned)++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the batch's parent jobs");
	return 0;
}

static int collect(struct purge_ctx *p, struct aedb_db *db, struct nomad *n, struct aedb_err *err)
{
	const char **parents = NULL;
	char **owned = NULL;
	size_t np = 0, nowned = 0, i;
	int ret = -1;

	if (p->cfg->all_dispatch && p->cfg->only_parent) {
		add_parent(&parents, &np, p->cfg->only_parent);
	} else {
		for (i = 0; purge_default_parents[i]; i++)
			add_parent(&parents, &np, purge_default_parents[i]);
	}
	if (!p->cfg->all_dispatch) {
		if (db_candidates(p, db, &owned, &nowned, err) < 0)
			goto out;
		for (i = 0; i < nowned; i++)
			add_parent(&parents, &np, owned[i]);
	}
	for (i = 0; i < np; i++) {
		char *prefix = p->cfg->all_dispatch ? xasprintf("%s/dispatch-", parents[i])
						    : purge_batch_prefix(parents[i], p->cfg->batch_name);
		int r = list_prefix(p, n, prefix, err);

		free(prefix);
		if (r < 0)
			goto out;
	}
	dedupe(p);
	ret = 0;
out:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(parents);
	return ret;
}

/* ---------- the checks before a purge ---------- */

int purge_db_uncaptured(struct aedb_db *db, const char *job_id, int64_t *pending,
			int64_t *missing, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db,
		       "SELECT (SELECT count(*) FROM log l JOIN job j ON j.id = l.job_ref "
		       "        WHERE j.job_id = ?1 AND l.state = 'pending'), "
		       "       (SELECT count(*) FROM alloc a JOIN job j ON j.id = a.job_ref "
		       "        WHERE j.job_id = ?1 AND a.client_status IN ('complete', 'failed', 'lost') "
		       "        AND NOT EXISTS (SELECT 1 FROM log l WHERE l.alloc_ref = a.id))",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_err(db, err, "cannot check the job's logs");
		sqlite3_finalize(st);
		return -1;
	}
	*pending = sqlite3_column_int64(st, 0);
	*missing = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return 0;
}

/* Does the database hold settled logs (captured or recorded unavailable)
 * for allocation alloc_id? 1 yes, 0 no, -1 error. */
static int alloc_logs_settled(struct aedb_db *db, const char *alloc_id, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, ok;

	if (db_prepare(db,
		       "SELECT count(*), coalesce(sum(l.state = 'pending'), 0) "
		       "FROM alloc a JOIN log l ON l.alloc_ref = a.id WHERE a.alloc_id = ?1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, alloc_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_err(db, err, "cannot check an allocation's logs");
		sqlite3_finalize(st);
		return -1;
	}
	ok = sqlite3_column_int64(st, 0) > 0 && sqlite3_column_int64(st, 1) == 0;
	sqlite3_finalize(st);
	return ok;
}

/* GET with retries on 429/5xx/no answer. */
static enum nomad_rc get_job_retry(struct purge_ctx *p, struct nomad *n, const char *id,
				   const char *suffix, cJSON **out, struct aedb_err *err)
{
	int attempt = 0;

	for (;;) {
		enum nomad_rc rc = nomad_get_job(n, id, suffix, NULL, out, NULL, err);

		if (rc != NOMAD_TRANSIENT && rc != NOMAD_UNKNOWN)
			return rc;
		if (++attempt >= max_tries(p) || backoff(p, attempt) < 0)
			return rc;
	}
}

static int terminal(const char *client_status)
{
	return strcmp(client_status, "complete") == 0 || strcmp(client_status, "failed") == 0 ||
	       strcmp(client_status, "lost") == 0;
}

/* 1 when some finished allocation's logs are not captured (why says
 * which), 0 when all are, -1 on error. */
static int uncaptured(struct purge_ctx *p, struct nomad *n, struct aedb_db *db, const char *id,
		      char *why, size_t size, struct aedb_err *err)
{
	int64_t pending = 0, missing = 0;
	cJSON *allocs = NULL;
	const cJSON *a;
	enum nomad_rc rc;
	int ret = 0;

	if (purge_db_uncaptured(db, id, &pending, &missing, err) < 0)
		return -1;
	if (pending > 0) {
		snprintf(why, size, "%lld log stream%s not captured yet", (long long)pending,
			 pending == 1 ? "" : "s");
		return 1;
	}
	if (missing > 0) {
		snprintf(why, size, "%lld finished allocation%s without a log record",
			 (long long)missing, missing == 1 ? "" : "s");
		return 1;
	}
	/* allocations the tracker has not recorded (or a job it never saw) */
	rc = get_job_retry(p, n, id, "/allocations", &allocs, err);
	if (rc == NOMAD_NOT_FOUND)
		return 0;
	if (rc != NOMAD_OK)
		return -1;
	cJSON_ArrayForEach(a, allocs) {
		const cJSON *aid = cJSON_GetObjectItemCaseSensitive(a, "ID");
		const cJSON *cs = cJSON_GetObjectItemCaseSensitive(a, "ClientStatus");
		int s;

		if (!cJSON_IsString(aid) || !cJSON_IsString(cs) || !terminal(cs->valuestring))
			continue;
		s = alloc_logs_settled(db, aid->valuestring, err);
		if (s < 0) {
			ret = -1;
			break;
		}
		if (s == 0) {
			snprintf(why, size, "allocation %.8s (%s) has no captured logs", aid->valuestring,
				 cs->valuestring);
			ret = 1;
			break;
		}
	}
	cJSON_Delete(allocs);
	return ret;
}

/* ---------- recording ---------- */

static const char *tag(const cJSON *tags, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(tags, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int valid_status(const char *s)
{
	return s && (strcmp(s, "pending") == 0 || strcmp(s, "running") == 0 ||
		     strcmp(s, "dead") == 0);
}

/* A purged job: set purged_at (and gone_at/gone_reason unless it was
 * already recorded gone) on its row, or add a row for a job the tracker
 * never saw (batch mode), tied to its item and attempt. */
static int record_purged(struct purge_ctx *p, struct aedb_db *db, const char *id,
			 const char *status, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	cJSON *tags = NULL;
	char *parent = NULL, *tags_text = NULL;
	const char *slash;
	int ret = -1;

	if (db_prepare(db,
		       "UPDATE job SET purged_at = ?2, last_seen_at = max(last_seen_at, ?2), "
		       "gone_reason = CASE WHEN gone_at IS NULL THEN 'purged' ELSE gone_reason END, "
		       "gone_at = coalesce(gone_at, ?2) "
		       "WHERE job_id = ?1 AND (?3 = 0 OR batch_id = ?3)",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, p->batch_id);
	if (db_step_done(db, st, err) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_changes(db->conn) > 0 || p->batch_id == 0) {
		ret = 0;
		goto out;
	}
	tags = tracker_parse_tags(id);
	tags_text = tags ? cJSON_PrintUnformatted(tags) : NULL;
	slash = strchr(id, '/');
	parent = slash ? xstrndup(id, (size_t)(slash - id)) : xstrdup(id);
	if (db_prepare(db,
		       "INSERT INTO job (batch_id, namespace, job_id, parent, item_id, attempt_id, "
		       "aoi_name, collection, bench_src, cand_src, scenario, catchment, tags, status, "
		       "first_seen_at, last_seen_at, gone_at, gone_reason, purged_at) VALUES "
		       "(?1, ?2, ?3, ?4, "
		       " coalesce((SELECT item_id FROM attempt WHERE job_id = ?3), "
		       "          (SELECT id FROM item WHERE batch_id = ?1 AND name = ?5)), "
		       " (SELECT id FROM attempt WHERE job_id = ?3), "
		       " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?13, 'purged', ?13) "
		       "ON CONFLICT (namespace, job_id) DO NOTHING",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, p->batch_id);
	sqlite3_bind_text(st, 2, p->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
	db_bind_text(st, 5, tag(tags, "aoi_name"));
	db_bind_text(st, 6, tag(tags, "collection"));
	db_bind_text(st, 7, tag(tags, "bench_src"));
	db_bind_text(st, 8, tag(tags, "cand_src"));
	db_bind_text(st, 9, tag(tags, "scenario"));
	db_bind_text(st, 10, tag(tags, "catchment"));
	db_bind_text(st, 11, tags_text);
	db_bind_text(st, 12, valid_status(status) ? status : NULL);
	sqlite3_bind_int64(st, 13, now);
	if (db_step_done(db, st, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		aedb_err_prefix(err, "purged '%s' but could not record it", id);
	sqlite3_finalize(st);
	cJSON_Delete(tags);
	free(tags_text);
	free(parent);
	return ret;
}

/* A job Nomad no longer has: note when we learned it, if nothing has. */
static int record_gone(struct purge_ctx *p, struct aedb_db *db, const char *id,
		       struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;

	if (db_prepare(db,
		       "UPDATE job SET gone_at = coalesce(gone_at, ?2), gone_reason = "
		       "coalesce(gone_reason, CASE WHEN status = 'dead' THEN 'collected' "
		       "ELSE 'vanished' END) WHERE job_id = ?1 AND gone_at IS NULL "
		       "AND (?3 = 0 OR batch_id = ?3)",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	sqlite3_bind_int64(st, 3, p->batch_id);
	if (db_step_done(db, st, err) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---------- one job ---------- */

static enum purge_verdict do_purge(struct purge_ctx *p, struct nomad *n, const char *id,
				   char *why, size_t size, int *refused)
{
	struct aedb_err err = AEDB_ERR_INIT;
	int attempt = 0, uncertain = 0;

	for (;;) {
		int gone = 0;
		enum nomad_rc rc = nomad_purge(n, id, &gone, &err);

		if (rc == NOMAD_OK)
			/* a retried purge answering "no such job" most likely
			 * found our own earlier, unanswered purge done */
			return gone && !uncertain ? PURGE_GONE : PURGE_PURGED;
		if (rc == NOMAD_REFUSED)
			*refused = 1;
		if ((rc == NOMAD_TRANSIENT || rc == NOMAD_UNKNOWN) && ++attempt < max_tries(p) &&
		    backoff(p, attempt) == 0) {
			uncertain = 1;
			continue;
		}
		snprintf(why, size, "%s", err.msg);
		return PURGE_FAILED;
	}
}

static void decide(struct worker *w, const char *id)
{
	struct purge_ctx *p = w->p;
	const struct purge_config *cfg = p->cfg;
	struct aedb_err err = AEDB_ERR_INIT;
	struct purge_job r;
	char why[AEDB_ERR_MAX + 64] = "", status[16] = "";
	enum purge_verdict v = PURGE_WOULD;
	int refused = 0, decided = 0;

	if (!cfg->all_dispatch) {
		cJSON *job = NULL;
		enum nomad_rc rc = get_job_retry(p, w->nomad, id, "", &job, &err);

		if (rc == NOMAD_NOT_FOUND) {
			v = PURGE_GONE;
			decided = 1;
		} else if (rc != NOMAD_OK) {
			refused = rc == NOMAD_REFUSED;
			snprintf(why, sizeof(why), "%s", err.msg);
			v = PURGE_FAILED;
			decided = 1;
		} else {
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(job, "Status");

			snprintf(status, sizeof(status), "%s", cJSON_IsString(s) ? s->valuestring : "");
			if (strcmp(status, "dead") != 0 && !cfg->include_running) {
				snprintf(why, sizeof(why), "status %s (--include-running purges it)",
					 status[0] ? status : "unknown");
				v = PURGE_RUNNING;
				decided = 1;
			}
		}
		cJSON_Delete(job);
		if (!decided && !cfg->force) {
			int u = uncaptured(p, w->nomad, w->db, id, why, sizeof(why), &err);

			if (u < 0) {
				snprintf(why, sizeof(why), "cannot check its logs: %s", err.msg);
				v = PURGE_FAILED;
				decided = 1;
			} else if (u > 0) {
				v = PURGE_UNCAPTURED;
				decided = 1;
			}
		}
	}
	if (!decided && !cfg->dry_run)
		v = do_purge(p, w->nomad, id, why, sizeof(why), &refused);
	if (!cfg->dry_run && w->db) {
		int rec = 0;

		if (v == PURGE_PURGED)
			rec = record_purged(p, w->db, id, status, &err);
		else if (v == PURGE_GONE)
			rec = record_gone(p, w->db, id, &err);
		if (rec < 0) {
			snprintf(why, sizeof(why), "%s", err.msg);
			v = PURGE_FAILED;
		}
	}
	r.job_id = id;
	r.status = status;
	r.verdict = v;
	r.why = why;
	pthread_mutex_lock(&p->lock);
	switch (v) {
	case PURGE_PURGED: p->sum.purged++; break;
	case PURGE_GONE: p->sum.gone++; break;
	case PURGE_RUNNING: p->sum.running++; break;
	case PURGE_UNCAPTURED: p->sum.uncaptured++; break;
	case PURGE_FAILED: p->sum.failed++; break;
	case PURGE_WOULD: p->sum.would++; break;
	case PURGE_NOT_TRIED: p->sum.not_tried++; break;
	}
	if (refused)
		p->sum.refused = 1;
	if (cfg->report)
		cfg->report(cfg->report_ctx, &r);
	pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct purge_ctx *p = w->p;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		if (p->next >= p->n || p->sum.refused || stopped(p)) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);
		decide(w, p->c[i].job_id);
	}
	pthread_mutex_lock(&p->lock);
	p->live--;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---------- the run ---------- */

static void journal_summary(struct purge_ctx *p, struct aedb_db *db, int interrupted)
{
	const struct purge_summary *s = &p->sum;
	cJSON *d = cJSON_CreateObject();

	cJSON_AddNumberToObject(d, "jobs", (double)s->jobs);
	cJSON_AddNumberToObject(d, "purged", (double)s->purged);
	cJSON_AddNumberToObject(d, "already_gone", (double)s->gone);
	cJSON_AddNumberToObject(d, "skipped_running", (double)s->running);
	cJSON_AddNumberToObject(d, "skipped_uncaptured", (double)s->uncaptured);
	cJSON_AddNumberToObject(d, "failed", (double)s->failed);
	cJSON_AddNumberToObject(d, "not_tried", (double)s->not_tried);
	cJSON_AddBoolToObject(d, "all_dispatch", p->cfg->all_dispatch);
	cJSON_AddBoolToObject(d, "include_running", p->cfg->include_running);
	cJSON_AddBoolToObject(d, "force", p->cfg->force);
	journal_add(db, p->batch_id, s->failed || interrupted ? "warn" : "info", "purge", d, NULL,
		    "%s%lld jobs: %lld purged, %lld already gone, %lld skipped running, %lld "
		    "skipped uncaptured, %lld failed%s",
		    p->cfg->all_dispatch ? "purge --all-dispatch: " : "purge: ", (long long)s->jobs,
		    (long long)s->purged, (long long)s->gone, (long long)s->running,
		    (long long)s->uncaptured, (long long)s->failed,
		    interrupted ? " (interrupted)" : s->refused ? " (Nomad refused)" : "");
	cJSON_Delete(d);
}

int purge_run(const struct purge_config *cfg, struct purge_summary *sum, struct aedb_err *err)
{
	struct purge_ctx p;
	struct worker *w = NULL;
	struct aedb_db *db = NULL;
	struct nomad *lister = NULL;
	char *lock_token = NULL;
	unsigned dbflags = cfg->dry_run ? DB_OPEN_READONLY : 0;
	int nw = cfg->concurrency > 0 ? cfg->concurrency : PURGE_CONCURRENCY;
	int i, ret = -1, started = 0;
	int64_t beat;
	size_t k;

	memset(&p, 0, sizeof(p));
	memset(sum, 0, sizeof(*sum));
	p.cfg = cfg;
	p.ns = cfg->nomad->ns ? cfg->nomad->ns : "default";
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	if (nw > PURGE_CONCURRENCY_MAX)
		nw = PURGE_CONCURRENCY_MAX;
	if (!cfg->all_dispatch && (!cfg->batch_name || !cfg->db_path)) {
		aedb_err_setk(err, AEDB_E_USAGE, "purge of a batch needs its name and the database");
		goto out;
	}
	if (cfg->db_path) {
		if (db_open(cfg->db_path, dbflags, &db, err) < 0)
			goto out;
		if (!cfg->all_dispatch && batch_load(db, cfg->batch_name, &p.batch_id, NULL, err) < 0)
			goto out;
	}
	if (nomad_open(cfg->nomad, &lister, err) < 0)
		goto out;
	if (!cfg->dry_run && p.batch_id &&
	    batch_lock_acquire(db, p.batch_id, "purge", &lock_token, err) < 0) {
		aedb_err_prefix(err, "batch '%s'", cfg->batch_name);
		goto out;
	}
	if (collect(&p, db, lister, err) < 0)
		goto out;
	sum->jobs = p.sum.jobs = (int64_t)p.n;
	if ((size_t)nw > p.n)
		nw = p.n ? (int)p.n : 1;
	w = xcalloc((size_t)nw, sizeof(*w));
	for (i = 0; i < nw; i++) {
		w[i].p = &p;
		if (nomad_open(cfg->nomad, &w[i].nomad, err) < 0 ||
		    (cfg->db_path && db_open(cfg->db_path, dbflags, &w[i].db, err) < 0))
			goto out;
	}
	p.live = nw;
	for (i = 0; i < nw; i++) {
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) {
			pthread_mutex_lock(&p.lock);
			p.live -= nw - i;
			p.sum.refused = 1; /* makes the started workers stop taking jobs */
			pthread_mutex_unlock(&p.lock);
			aedb_err_set(err, "cannot start a purge thread");
			break;
		}
		w[i].started = 1;
		started++;
	}
	/* keep the batch lock fresh while the workers run */
	beat = aedb_mono_ns();
	pthread_mutex_lock(&p.lock);
	while (p.live > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&p.cond, &p.lock, &ts);
		if (lock_token && aedb_mono_ns() - beat > PURGE_HEARTBEAT_NS) {
			pthread_mutex_unlock(&p.lock);
			batch_lock_heartbeat(db, p.batch_id, lock_token, NULL);
			beat = aedb_mono_ns();
			pthread_mutex_lock(&p.lock);
		}
	}
	pthread_mutex_unlock(&p.lock);
	for (i = 0; i < nw; i++) {
		if (w[i].started)
			pthread_join(w[i].th, NULL);
	}
	if (started < nw) {
		*sum = p.sum;
		goto out;
	}
	/* what the workers did not reach (stopped, or Nomad refused) */
	for (k = p.next; k < p.n; k++) {
		struct purge_job r = { p.c[k].job_id, "", PURGE_NOT_TRIED,
				       stopped(&p) ? "interrupted" : "Nomad refused an earlier purge" };

		p.sum.not_tried++;
		if (cfg->report)
			cfg->report(cfg->report_ctx, &r);
	}
	if (!cfg->dry_run && db)
		journal_summary(&p, db, stopped(&p));
	*sum = p.sum;
	ret = stopped(&p) ? 1 : 0;
out:
	if (w) {
		for (i = 0; i < nw; i++) {
			nomad_close(w[i].nomad);
			db_close(w[i].db);
		}
		free(w);
	}
	if (lock_token)
		batch_lock_release(db, p.batch_id, lock_token);
	free(lock_token);
	nomad_close(lister);
	db_close(db);
	for (k = 0; k < p.n; k++)
		free(p.c[k].job_id);
	free(p.c);
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.cond);
	return ret;
}
