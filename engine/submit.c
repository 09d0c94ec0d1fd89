/* The submitter's loop.
 *
 * Exactly once: an attempt is committed as 'dispatching' (with the job id
 * prefix it will get) before the HTTP call, and its job id is committed
 * after. An attempt found 'dispatching' (a crash, or a reply that never
 * came) is reconciled by listing jobs with that exact prefix; it is
 * dispatched again only when Nomad has nothing. The dispatch also carries
 * the prefix as idempotency token, so even a retry Nomad did see cannot make
 * a second job while the first exists.
 *
 * Throttle: before each dispatch the active count is read (the parent's
 * summary for the cluster, a filtered prefix list for the batch) and fed to
 * the hysteresis in throttle.c. While paused, blocking queries wait for the
 * count to change instead of polling on a timer.
 *
 * AOIs are prepared by the pool in aoi.c, a bounded window ahead of the
 * dispatch position; each result is committed as it arrives. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "submit.h"
#include "throttle.h"
#include "util.h"

#include <unistd.h>

#define HEARTBEAT_NS (15LL * 1000000000LL)
#define BACKOFF_MAX_NS (30LL * 1000000000LL)
#define PAUSED_MIN_GAP_NS (1000000000LL)
#define ITEM_PAGE 2048

struct sitem {
	int64_t id;
	char *name;
	int line;
	int aoi; /* 0 pending, 1 ready, 2 failed */
	int queued; /* handed to the AOI pool */
	char *collection;
	char *aoi_path;
	int attempts;
	int64_t attempt_id; /* a 'dispatching' attempt to finish, or 0 */
	int attempt_no;
};

struct run {
	struct aedb_db *db;
	struct nomad *nomad;
	const struct submit_config *cfg;
	int64_t batch_id;
	char *lock_token;
	struct throttle th;
	struct submit_status st;
	struct sitem *items;     /* the current page of pending items */
	size_t n, head, next_queue;
	int last_line;           /* the last line loaded */
	int more;                /* there may be pending items after this page */
	struct aoi_pool *pool;
	int64_t last_beat;
	int64_t started;
	int64_t run_dispatches;
	struct nomad_qmeta count_meta;
	char *batch_prefix; /* "<parent>/dispatch-[batch_name=B," */
};

static int stopping(const struct run *r)
{
	return r->cfg->stop_flag && *r->cfg->stop_flag;
}

static void say(struct run *r, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct run *r, const char *level, const char *fmt, ...)
{
	char msg[AEDB_ERR_MAX];
	va_list ap;

	if (!r->cfg->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->cfg->report(r->cfg->report_ctx, &r->st, level, msg);
}

static void progress(struct run *r)
{
	double secs = (double)(aedb_mono_ns() - r->started) / 1e9;

	r->st.rate = secs > 0 ? (double)r->run_dispatches / secs : 0;
	if (r->cfg->report)
		r->cfg->report(r->cfg->report_ctx, &r->st, "info", NULL);
}

/* Sleep up to ns, waking early on the stop flag. */
static void nap(struct run *r, int64_t ns)
{
	int64_t end = aedb_mono_ns() + ns;

	while (!stopping(r)) {
		int64_t left = end - aedb_mono_ns();

		if (left <= 0)
			break;
		aedb_sleep_ns(left < 100000000 ? left : 100000000);
	}
}

static int heartbeat(struct run *r, struct aedb_err *err)
{
	int64_t now = aedb_mono_ns();

	if (now - r->last_beat < HEARTBEAT_NS)
		return 0;
	r->last_beat = now;
	return batch_lock_heartbeat(r->db, r->batch_id, r->lock_token, err);
}

static int64_t backoff(int tries)
{
	int64_t ns = 500000000LL << (tries < 6 ? tries : 6);

	return ns < BACKOFF_MAX_NS ? ns : BACKOFF_MAX_NS;
}

static int count_query(struct run *r, const char *sql, int64_t *out, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;

	if (db_prepare(r->db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, r->batch_id);
	*out = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

static int load_counts(struct run *r, struct aedb_err *err)
{
	if (count_query(r, "SELECT count(*) FROM item WHERE batch_id = ?", &r->st.total, err) < 0 ||
	    count_query(r,
			"SELECT count(*) FROM item WHERE batch_id = ? AND state IN "
			"('dispatched', 'finished')",
			&r->st.dispatched, err) < 0 ||
	    count_query(r, "SELECT count(*) FROM item WHERE batch_id = ? AND state = 'failed'",
			&r->st.failed, err) < 0)
		return -1;
	return 0;
}

/* --- store updates (each its own short transaction) --- */

static int mark_adopted(struct run *r, int64_t attempt_id, const char *job_id,
			const char *eval_id, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	int ret = -1;

	if (db_begin(r->db, err) < 0)
		return -1;
	if (db_prepare(r->db,
		       "UPDATE attempt SET state = 'dispatched', job_id = ?2, eval_id = ?3, "
		       "dispatched_at = ?4 WHERE id = ?1",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, attempt_id);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	db_bind_text(st, 3, eval_id && *eval_id ? eval_id : NULL);
	sqlite3_bind_int64(st, 4, now);
	if (db_step_done(r->db, st, err) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(r->db,
		       "UPDATE item SET state = 'dispatched', updated_at = ?2, last_error = NULL "
		       "WHERE id = (SELECT item_id FROM attempt WHERE id = ?1)",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, attempt_id);
	sqlite3_bind_int64(st, 2, now);
	if (db_step_done(r->db, st, err) < 0 || db_commit(r->db, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		db_rollback(r->db);
	sqlite3_finalize(st);
	return ret;
}

static int begin_attempt(struct run *r, struct sitem *it, const char *prefix,
			 struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	int ret = -1;

	if (db_begin(r->db, err) < 0)
		return -1;
	if (db_prepare(r->db,
		       "INSERT INTO attempt (item_id, number, state, id_prefix, started_at) "
		       "VALUES (?1, ?2, 'dispatching', ?3, ?4)",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_int(st, 2, it->attempts + 1);
	sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if (db_step_done(r->db, st, err) < 0)
		goto out;
	it->attempt_id = sqlite3_last_insert_rowid(r->db->conn);
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(r->db, "UPDATE item SET attempts = ?2, updated_at = ?3 WHERE id = ?1", &st,
		       err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_int(st, 2, it->attempts + 1);
	sqlite3_bind_int64(st, 3, now);
	if (db_step_done(r->db, st, err) < 0 || db_commit(r->db, err) < 0)
		goto out;
	it->attempts++;
	it->attempt_no = it->attempts;
	ret = 0;
out:
	if (ret < 0) {
		db_rollback(r->db);
		it->attempt_id = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

static int store_aoi(struct run *r, struct sitem *it, const struct aoi_result *res,
		     struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(r->db,
		       "UPDATE item SET aoi_state = ?2, collection = coalesce(?3, collection), "
		       "aoi_path = ?4, aoi_error = ?5, aoi_at = ?6, updated_at = ?6, "
		       "state = CASE WHEN ?2 = 'failed' THEN 'failed' ELSE state END, "
		       "last_error = CASE WHEN ?2 = 'failed' THEN ?5 ELSE last_error END "
		       "WHERE id = ?1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_text(st, 2, res->error ? "failed" : "ready", -1, SQLITE_STATIC);
	db_bind_text(st, 3, res->collection);
	db_bind_text(st, 4, res->error ? NULL : res->aoi_path);
	db_bind_text(st, 5, res->error);
	sqlite3_bind_int64(st, 6, aedb_now_ns());
	ret = db_step_done(r->db, st, err);
	sqlite3_finalize(st);
	if (ret == 0) {
		it->aoi = res->error ? 2 : 1;
		if (!res->error) {
			free(it->collection);
			free(it->aoi_path);
			it->collection = res->collection ? xstrdup(res->collection) : NULL;
			it->aoi_path = xstrdup(res->aoi_path);
		}
	}
	return ret;
}

static int fail_item(struct run *r, struct sitem *it, const char *why, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(r->db,
		       "UPDATE item SET state = 'failed', last_error = ?2, updated_at = ?3 WHERE id = ?1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, aedb_now_ns());
	ret = db_step_done(r->db, st, err);
	sqlite3_finalize(st);
	return ret;
}

/* --- reconciling attempts whose outcome is unknown --- */

/* Ask Nomad, retrying transient failures with backoff, whether a job with
 * this prefix exists. 1 found (*job_id set), 0 none, -1 error/stop. */
static int lookup_prefix(struct run *r, const char *prefix, char **job_id, struct aedb_err *err)
{
	int tries = 0;

	for (;;) {
		enum nomad_rc rc = nomad_find_prefix(r->nomad, prefix, job_id, err);

		if (rc == NOMAD_OK)
			return *job_id ? 1 : 0;
		if (rc != NOMAD_TRANSIENT)
			return -1;
		if (stopping(r))
			return aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
		if (tries == 0)
			say(r, "warn", "%s; retrying", err->msg);
		nap(r, backoff(tries++));
		if (heartbeat(r, err) < 0)
			return -1;
	}
}

static int reconcile(struct run *r, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t *ids = NULL;
	char **prefixes = NULL;
	size_t n = 0, cap = 0, i;
	int ret = -1;

	if (db_prepare(r->db,
		       "SELECT a.id, a.id_prefix FROM attempt a JOIN item i ON i.id = a.item_id "
		       "WHERE i.batch_id = ? AND a.state = 'dispatching' ORDER BY a.id",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, r->batch_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = xrealloc(ids, cap * sizeof(*ids));
			prefixes = xrealloc(prefixes, cap * sizeof(*prefixes));
		}
		ids[n] = sqlite3_column_int64(st, 0);
		prefixes[n] = xstrdup((const char *)sqlite3_column_text(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		char *job = NULL;
		int found = lookup_prefix(r, prefixes[i], &job, err);

		if (found < 0)
			goto out;
		if (found) {
			if (mark_adopted(r, ids[i], job, NULL, err) < 0) {
				free(job);
				goto out;
			}
			journal_add(r->db, r->batch_id, "info", "adopted", NULL, NULL,
				    "adopted %s: its dispatch had not been recorded", job);
			say(r, "info", "adopted %s (dispatched before the last stop)", job);
			r->st.dispatched++;
			free(job);
		} else {
			journal_add(r->db, r->batch_id, "info", "redispatch", NULL, NULL,
				    "no job with prefix %s exists; it will be dispatched",
				    prefixes[i]);
		}
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(prefixes[i]);
	free(prefixes);
	free(ids);
	return ret;
}

/* --- the pending items --- */

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static void free_items(struct run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->items[i].name);
		free(r->items[i].collection);
		free(r->items[i].aoi_path);
	}
	r->n = 0;
}

/* The next page of pending items, in list order, after the last line
 * loaded: memory stays bounded whatever the batch's size, and a resume
 * reads one page before its first dispatch. */
static int load_page(struct run *r, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;

	free_items(r);
	r->head = r->next_queue = 0;
	if (!r->items)
		r->items = xcalloc(ITEM_PAGE, sizeof(*r->items));
	if (db_prepare(r->db,
		       "SELECT i.id, i.name, i.line, i.aoi_state, i.collection, i.aoi_path, "
		       "i.attempts, a.id, a.number FROM item i "
		       "LEFT JOIN attempt a ON a.item_id = i.id AND a.state = 'dispatching' "
		       "WHERE i.batch_id = ?1 AND i.state = 'pending' AND i.line > ?2 "
		       "ORDER BY i.line LIMIT ?3",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, r->batch_id);
	sqlite3_bind_int(st, 2, r->last_line);
	sqlite3_bind_int(st, 3, ITEM_PAGE);
	while (r->n < ITEM_PAGE && sqlite3_step(st) == SQLITE_ROW) {
		struct sitem *it = &r->items[r->n++];
		const char *aoi = (const char *)sqlite3_column_text(st, 3);

		memset(it, 0, sizeof(*it));
		it->id = sqlite3_column_int64(st, 0);
		it->name = col_dup(st, 1);
		it->line = sqlite3_column_int(st, 2);
		it->aoi = strcmp(aoi, "ready") == 0 ? 1 : strcmp(aoi, "failed") == 0 ? 2 : 0;
		it->collection = col_dup(st, 4);
		it->aoi_path = col_dup(st, 5);
		it->attempts = sqlite3_column_int(st, 6);
		it->attempt_id = sqlite3_column_int64(st, 7);
		it->attempt_no = sqlite3_column_int(st, 8);
		r->last_line = it->line;
	}
	sqlite3_finalize(st);
	r->more = r->n == ITEM_PAGE;
	return 0;
}

/* Keep the AOI pool fed up to the look-ahead window, and commit results. */
static int pump_aoi(struct run *r, int wait_ms, struct aedb_err *err)
{
	size_t limit = r->head + (size_t)(r->cfg->lookahead > 0 ? r->cfg->lookahead : 32);
	struct aoi_result res;
	int got;

	if (limit > r->n)
		limit = r->n;
	if (r->next_queue < r->head)
		r->next_queue = r->head;
	while (r->next_queue < limit) {
		struct sitem *it = &r->items[r->next_queue++];

		if (it->aoi != 0 || it->queued)
			continue;
		if (!r->pool && aoi_pool_new(&r->cfg->aoi, &r->pool, err) < 0)
			return -1;
		if (aoi_pool_submit(r->pool, it->name, err) < 0)
			return -1;
		it->queued = 1;
	}
	if (!r->pool)
		return 0;
	memset(&res, 0, sizeof(res));
	while ((got = aoi_pool_next(r->pool, wait_ms, &res, err)) == 1) {
		size_t i;

		for (i = r->head; i < r->next_queue; i++) {
			struct sitem *it = &r->items[i];

			if (it->queued && it->aoi == 0 && strcmp(it->name, res.item_id) == 0) {
				if (store_aoi(r, it, &res, err) < 0) {
					aoi_result_release(&res);
					return -1;
				}
				if (res.error) {
					r->st.failed++;
					say(r, "warn", "%s", res.error);
				}
				break;
			}
		}
		aoi_result_release(&res);
		wait_ms = 0;
	}
	return got < 0 ? -1 : 0;
}

/* --- throttle --- */

static enum nomad_rc read_active(struct run *r, const struct nomad_query *q, int64_t *active,
				 struct aedb_err *err)
{
	if (r->cfg->scope == SUBMIT_SCOPE_CLUSTER)
		return nomad_children_active(r->nomad, r->cfg->parent_job, q, active, &r->count_meta,
					     err);
	return nomad_count_live(r->nomad, r->batch_prefix, q, active, &r->count_meta, err);
}

/* Read the count, retrying transient errors. */
static int read_active_retry(struct run *r, const struct nomad_query *q, int64_t *active,
			     struct aedb_err *err)
{
	int tries = 0;

	for (;;) {
		enum nomad_rc rc = read_active(r, q, active, err);

		if (rc == NOMAD_OK)
			return 0;
		if (stopping(r))
			return aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
		if (rc != NOMAD_TRANSIENT)
			return -1;
		if (tries == 0) {
			say(r, "warn", "%s; retrying", err->msg);
			journal_add(r->db, r->batch_id, "warn", "api_error", NULL, NULL, "%s",
				    err->msg);
		}
		nap(r, backoff(tries++));
		if (heartbeat(r, err) < 0)
			return -1;
	}
}

/* Returns 0 when a dispatch may go ahead, -1 on error or stop. */
static int throttle_gate(struct run *r, struct aedb_err *err)
{
	struct nomad_query q = { 0, 0 };
	int64_t active = 0, last_req = 0;
	enum throttle_verdict v;

	if (read_active_retry(r, &q, &active, err) < 0)
		return -1;
	for (;;) {
		cJSON *data;

		r->st.active = active;
		v = throttle_decide(&r->th, active);
		if (v == THROTTLE_GO)
			return 0;
		data = cJSON_CreateObject();
		cJSON_AddNumberToObject(data, "active", (double)active);
		cJSON_AddNumberToObject(data, "stop_threshold", (double)r->th.stop);
		cJSON_AddNumberToObject(data, "resume_threshold", (double)r->th.resume);
		if (v == THROTTLE_RESUME) {
			journal_add(r->db, r->batch_id, "info", "resume", data, NULL,
				    "resumed: %lld active <= resume threshold %lld",
				    (long long)active, (long long)r->th.resume);
			cJSON_Delete(data);
			batch_set_state(r->db, r->batch_id, "submitting", NULL);
			r->st.paused = 0;
			say(r, "info", "resumed: %lld active", (long long)active);
			return 0;
		}
		if (v == THROTTLE_PAUSE) {
			journal_add(r->db, r->batch_id, "info", "pause", data, NULL,
				    "paused: %lld active >= stop threshold %lld", (long long)active,
				    (long long)r->th.stop);
			batch_set_state(r->db, r->batch_id, "paused", NULL);
			r->st.paused = 1;
			say(r, "info", "paused: %lld active >= stop threshold %lld",
			    (long long)active, (long long)r->th.stop);
		}
		cJSON_Delete(data);
		progress(r);
		/* wait for the count to change: a blocking query on the index we
		 * last saw, at most throttle_pause_wait() long */
		if (aedb_mono_ns() - last_req < PAUSED_MIN_GAP_NS)
			nap(r, PAUSED_MIN_GAP_NS);
		if (stopping(r))
			return aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
		if (heartbeat(r, err) < 0)
			return -1;
		/* keep preparing AOIs while paused */
		if (pump_aoi(r, 0, err) < 0)
			return -1;
		q.index = r->count_meta.index;
		q.wait_ms = (int)(throttle_pause_wait(r->cfg->wait_seconds) * 1000);
		last_req = aedb_mono_ns();
		if (read_active_retry(r, &q, &active, err) < 0)
			return -1;
	}
}

/* --- dispatch --- */

static int build_meta(struct run *r, const struct sitem *it, const char **kv, char **owned,
		      size_t *nowned)
{
	const char *v;
	size_t k = 0, o = 0;
	size_t rootlen = strlen(r->cfg->output_root);

	while (rootlen > 0 && r->cfg->output_root[rootlen - 1] == '/')
		rootlen--;
	owned[o] = xasprintf("%.*s/%s/", (int)rootlen, r->cfg->output_root, it->name);
	kv[k++] = "aoi";
	kv[k++] = it->aoi_path;
	kv[k++] = "outputs_path";
	kv[k++] = owned[o++];
	kv[k++] = "hand_index_path";
	kv[k++] = r->cfg->hand_index_path;
	if (r->cfg->benchmark_sources && *r->cfg->benchmark_sources) {
		kv[k++] = "benchmark_sources";
		kv[k++] = r->cfg->benchmark_sources;
	}
	owned[o] = xasprintf("batch_name=%s aoi_name=%s", r->cfg->batch_name, it->name);
	kv[k++] = "tags";
	kv[k++] = owned[o++];
	/* as upstream: both tokens always go, empty when unset (the shared
	 * cluster's pipeline job requires nomad_token) */
	kv[k++] = "nomad_token";
	kv[k++] = r->cfg->nomad_token ? r->cfg->nomad_token : "";
	v = getenv("REGISTRY_TOKEN");
	kv[k++] = "registry_token";
	kv[k++] = v ? v : "";
	if (r->cfg->use_local_creds) {
		static const char *const pairs[] = {
			"aws_access_key", "AWS_ACCESS_KEY_ID",
			"aws_secret_key", "AWS_SECRET_ACCESS_KEY",
			"aws_session_token", "AWS_SESSION_TOKEN",
		};
		size_t i;

		for (i = 0; i < 6; i += 2) {
			v = getenv(pairs[i + 1]);
			if (v && *v) {
				kv[k++] = pairs[i];
				kv[k++] = v;
			}
		}
	}
	kv[k] = NULL;
	*nowned = o;
	return 0;
}

static int dispatch_item(struct run *r, struct sitem *it, struct aedb_err *err)
{
	const char *tags[9], *kv[32];
	char *owned[4] = { NULL }, *tmpl = NULL, *prefix = NULL, *job = NULL, *eval = NULL;
	char number[16];
	size_t nowned = 0, i;
	int tries = 0, ret = -1;

	snprintf(number, sizeof(number), "%d", it->attempt_id ? it->attempt_no : it->attempts + 1);
	tags[0] = "batch_name";
	tags[1] = r->cfg->batch_name;
	tags[2] = "aoi_name";
	tags[3] = it->name;
	tags[4] = "collection";
	tags[5] = it->collection && *it->collection ? it->collection : "none";
	tags[6] = "attempt";
	tags[7] = number;
	tags[8] = NULL;
	if (nomad_tag_template(tags, &tmpl, err) < 0) {
		char *why = xasprintf("item '%s': %s", it->name, err->msg);

		say(r, "warn", "%s", why);
		r->st.failed++;
		ret = fail_item(r, it, why, err);
		free(why);
		goto out;
	}
	prefix = xasprintf("%s/dispatch-%s-", r->cfg->parent_job, tmpl);
	if (!it->attempt_id && begin_attempt(r, it, prefix, err) < 0)
		goto out;
	build_meta(r, it, kv, owned, &nowned);

	for (;;) {
		enum nomad_rc rc = nomad_dispatch(r->nomad, r->cfg->parent_job, kv, tmpl, prefix,
						  &job, &eval, err);

		if (rc == NOMAD_OK)
			break;
		if (rc == NOMAD_REFUSED) {
			journal_add(r->db, r->batch_id, "error", "dispatch_refused", NULL, NULL, "%s",
				    err->msg);
			err->kind = AEDB_E_USAGE;
			goto out;
		}
		if (rc == NOMAD_UNKNOWN) {
			int found;

			journal_add(r->db, r->batch_id, "warn", "dispatch_unknown", NULL, NULL,
				    "%s; looking for the job before dispatching again", err->msg);
			found = lookup_prefix(r, prefix, &job, err);
			if (found < 0)
				goto out;
			if (found)
				break;
		} else if (rc != NOMAD_TRANSIENT) {
			goto out;
		}
		if (tries == 0)
			say(r, "warn", "%s; retrying", err->msg);
		if (stopping(r)) {
			aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
			goto out;
		}
		nap(r, backoff(tries++));
		if (heartbeat(r, err) < 0)
			goto out;
	}
	if (mark_adopted(r, it->attempt_id, job, eval, err) < 0)
		goto out;
	it->attempt_id = 0;
	r->st.dispatched++;
	r->run_dispatches++;
	throttle_dispatched(&r->th);
	ret = 0;
out:
	for (i = 0; i < nowned; i++)
		free(owned[i]);
	free(tmpl);
	free(prefix);
	free(job);
	free(eval);
	return ret;
}

/* --- the tracker thread --- */

struct tracker_thread {
	pthread_t thread;
	struct tracker_config cfg;
	volatile sig_atomic_t dispatching;
	struct aedb_err err;
	int rc;
	int started;
};

static void *tracker_main(void *arg)
{
	struct tracker_thread *tt = arg;

	tt->rc = tracker_run(&tt->cfg, &tt->err);
	return NULL;
}

static int start_tracker(struct run *r, struct tracker_thread *tt, struct aedb_err *err)
{
	tt->cfg = r->cfg->tracker;
	tt->cfg.dispatching = &tt->dispatching;
	tt->cfg.stop_flag = r->cfg->stop_flag;
	tt->cfg.hold_lock = 0; /* the submitter holds the batch */
	tt->dispatching = 1;
	if (pthread_create(&tt->thread, NULL, tracker_main, tt) != 0)
		return aedb_err_set(err, "cannot start the tracker thread");
	tt->started = 1;
	return 0;
}

/* Wait for the tracker, keeping the lock's heartbeat going meanwhile. */
static int join_tracker(struct run *r, struct tracker_thread *tt, struct aedb_err *err)
{
	if (!tt->started)
		return 0;
	tt->dispatching = 0;
	r->st.draining = 1;
	progress(r);
	for (;;) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		if (pthread_timedjoin_np(tt->thread, NULL, &ts) == 0)
			break;
		if (heartbeat(r, err) < 0 && !stopping(r)) {
			*r->cfg->stop_flag = 1; /* we lost the batch: make the tracker stop too */
		}
	}
	tt->started = 0;
	if (tt->rc < 0) {
		*err = tt->err;
		return -1;
	}
	if (tt->rc > 0)
		return aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
	return 0;
}

int submit_run(struct aedb_db *db, struct nomad *nomad, const struct submit_config *cfg,
	       struct aedb_err *err)
{
	struct tracker_thread tt;
	struct run r;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	memset(&tt, 0, sizeof(tt));
	r.db = db;
	r.nomad = nomad;
	r.cfg = cfg;
	r.started = aedb_mono_ns();
	r.last_beat = r.started;
	if (throttle_init(&r.th, cfg->stop_threshold, cfg->resume_threshold) < 0)
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "thresholds must satisfy 0 <= resume (%lld) < stop (%lld)",
				     (long long)cfg->resume_threshold, (long long)cfg->stop_threshold);
	r.st.stop = cfg->stop_threshold;
	r.st.resume = cfg->resume_threshold;
	r.batch_prefix = xasprintf("%s/dispatch-[batch_name=%s,", cfg->parent_job, cfg->batch_name);
	if (batch_load(db, cfg->batch_name, &r.batch_id, NULL, err) < 0)
		goto out_free;
	if (batch_lock_acquire(db, r.batch_id, "submit", &r.lock_token, err) < 0)
		goto out_free;
	journal_add(db, r.batch_id, "info", "start", NULL, NULL,
		    "submitter started (pid %ld on %s)", (long)getpid(), aedb_hostname());
	if (batch_set_state(db, r.batch_id, "submitting", err) < 0 || load_counts(&r, err) < 0)
		goto out;
	if (reconcile(&r, err) < 0 || load_page(&r, err) < 0)
		goto out;
	if (cfg->track && start_tracker(&r, &tt, err) < 0)
		goto out;
	progress(&r);

	for (;;) {
		struct sitem *it;

		if (r.head >= r.n) {
			if (!r.more)
				break;
			if (load_page(&r, err) < 0)
				goto out;
			continue;
		}
		it = &r.items[r.head];
		if (stopping(&r)) {
			aedb_err_setk(err, AEDB_E_INTERRUPTED, "interrupted");
			goto out;
		}
		if (heartbeat(&r, err) < 0 || pump_aoi(&r, 0, err) < 0)
			goto out;
		if (it->aoi == 0) {
			if (pump_aoi(&r, 200, err) < 0)
				goto out;
			continue;
		}
		if (it->aoi == 2) {
			r.head++;
			continue;
		}
		if (throttle_gate(&r, err) < 0 || dispatch_item(&r, it, err) < 0)
			goto out;
		r.head++;
		progress(&r);
		if (cfg->wait_seconds > 0 && (r.head < r.n || r.more))
			nap(&r, (int64_t)(cfg->wait_seconds * 1e9));
	}
	aoi_pool_free(r.pool);
	r.pool = NULL;
	journal_add(db, r.batch_id, "info", "dispatched",
		    NULL, NULL, "every item is dispatched or failed (%lld dispatched, %lld failed)",
		    (long long)r.st.dispatched, (long long)r.st.failed);
	batch_set_state(db, r.batch_id, "draining", NULL);
	if (join_tracker(&r, &tt, err) < 0)
		goto out;
	ret = r.st.failed ? SUBMIT_ITEMS_FAILED : SUBMIT_DONE;
	if (cfg->track && ret == SUBMIT_DONE) {
		int64_t bad = 0;

		/* tracked to the end: items whose pipeline failed count too */
		if (count_query(&r,
				"SELECT count(*) FROM item_outcome WHERE batch_id = ? AND outcome IN "
				"('failed', 'silent', 'log_missing')",
				&bad, err) < 0)
			goto out;
		if (bad)
			ret = SUBMIT_ITEMS_FAILED;
	}
out:
	if (ret < 0 && err->kind == AEDB_E_INTERRUPTED) {
		journal_add(db, r.batch_id, "info", "interrupted", NULL, NULL,
			    "submitter stopped by a signal; 'aedb resume %s' continues",
			    cfg->batch_name);
		ret = SUBMIT_INTERRUPTED;
	} else if (ret < 0) {
		journal_add(db, r.batch_id, "error", "stopped", NULL, NULL, "%s", err->msg);
	}
	aoi_pool_free(r.pool);
	if (tt.started) {
		struct aedb_err ignored = AEDB_ERR_INIT;

		/* an error or a signal in the submitter ends the tracker too */
		if (cfg->stop_flag)
			*cfg->stop_flag = 1;
		join_tracker(&r, &tt, &ignored);
	}
	batch_lock_release(db, r.batch_id, r.lock_token);
	free(r.lock_token);
out_free:
	free_items(&r);
	free(r.items);
	free(r.batch_prefix);
	return ret;
}
