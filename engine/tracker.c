/* Tracking a batch on Nomad.
 *
 * How changes are learned (docs/design.md, "Tracking", has the figures):
 * the event stream (/v1/event/stream, topics Job and Allocation) delivers
 * each job and allocation change once, with the full allocation, so the
 * cost grows with the number of changes, not with jobs times polls. Events
 * of other batches are dropped by id prefix. Each stream connection, once
 * subscribed, runs one catch-up scan (in a thread, while the stream is
 * read) that lists the batch's jobs by id prefix and reads the allocations
 * of those that changed since they were recorded.
 * Without an event stream (disabled, or an old server) the tracker polls:
 * a prefix list filtered to live jobs each interval and the allocations of
 * every job whose ModifyIndex moved; a stage job that starts and ends
 * between two polls is found by listing its item's own prefix when the
 * item's pipeline ends (and now and then while it runs). A full prefix
 * list is taken only at the start and before the batch is declared
 * finished, so the cost follows the changes, not the jobs retained.
 *
 * Recording is idempotent: jobs and allocations are upserted, a state
 * change is recorded only when it differs from the stored state, and task
 * events are unique per (alloc, task, time, type). So a tracker killed at
 * any instant and restarted (from the stored cursor) loses nothing and
 * duplicates nothing.
 *
 * Logs: when an allocation is terminal its tasks' stderr and stdout are
 * fetched (one request per stream) into the batch's log folder, in the
 * operators' layout, and a log row points at them; a log already gone is
 * recorded as unavailable with Nomad's reason. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "buf.h"
#include "classify.h"
#include "tracker.h"
#include "util.h"

#define LIVE_SWEEP_POLLS 30   /* a live pipeline's item is swept every 30 polls */
#define LIVE_SWEEP_BATCH 8    /* live items swept per poll at most */
#define LOG_RETRIES 5
#define STREAM_LINE_MAX (64u << 20)
#define CHECK_EVERY_NS (1000000000LL)
#define STREAM_IDLE_MS 45000

static const char *const default_parents[] = {
	"pipeline", "hand_inundator", "fim_mosaicker", "agreement_maker", NULL,
};

struct tracker {
	const struct tracker_config *cfg;
	struct aedb_db *db;
	struct nomad *stream;   /* the event stream's connection */
	struct nomad *api;      /* everything else */
	struct classifier *classifier; /* captured logs become findings */
	int64_t batch_id;
	char *lock_token;
	const char *const *parents;
	char **prefixes;        /* "<parent>/dispatch-[batch_name=B," */
	size_t nprefixes;
	struct buf line;        /* a partial event-stream line */
	uint64_t last_index;
	int first_batch;        /* no event batch seen yet on this connection */
	int stream_data;        /* this connection delivered something */
	struct log_worker *logs; /* the log capture thread, or NULL */
	struct scan_worker *scan; /* the catch-up scan thread of the stream */
	int scan_state;         /* SCAN_* of the current stream connection */
	int64_t scan_retry_at;  /* monotonic ns: when a failed scan may run again */
	int *quit;              /* a worker's own stop flag, or NULL */
	int done;
	int failed;             /* an error inside the stream sink */
	struct aedb_err sink_err;
	int64_t last_check;
	int64_t last_beat;
	/* polling (see sweep_items) */
	int64_t swept_until;    /* wall ns: items of pipelines ended before are swept */
	int64_t live_cursor;    /* the last pipeline job row swept in this round */
	int64_t live_round_at;  /* monotonic ns: when the next round may start */
	struct tracker_stats st;
};

enum { SCAN_NONE, SCAN_WANTED, SCAN_RUNNING, SCAN_DONE };

static int stopping(const struct tracker *t)
{
	return (t->cfg->stop_flag && *t->cfg->stop_flag) ||
	       (t->quit && __atomic_load_n(t->quit, __ATOMIC_RELAXED));
}

static void say(struct tracker *t, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct tracker *t, const char *level, const char *fmt, ...)
{
	char msg[AEDB_ERR_MAX];
	va_list ap;

	if (!t->cfg->report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->cfg->report(t->cfg->report_ctx, &t->st, level, msg);
}

static void nap(struct tracker *t, int64_t ns)
{
	int64_t end = aedb_mono_ns() + ns;

	while (!stopping(t)) {
		int64_t left = end - aedb_mono_ns();

		if (left <= 0)
			break;
		aedb_sleep_ns(left < 100000000 ? left : 100000000);
	}
}

/* --- small JSON helpers --- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Integers beyond 2^53 (ns times, indexes) lose precision in cJSON's
 * double: read them from the number's text instead. */
static int64_t jint(const cJSON *o, const char *k, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		return dflt;
	return (int64_t)v->valuedouble;
}

/* RFC 3339 with optional fraction, UTC "Z" or an offset; null or the zero
 * time ("0001-01-01T00:00:00Z") is unset (0). */
static int64_t parse_rfc3339(const char *s)
{
	struct tm tm;
	int64_t ns = 0, frac = 0, scale = 1000000000;
	const char *p;
	time_t secs;

	if (!s || strncmp(s, "0001-", 5) == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	secs = timegm(&tm);
	ns = (int64_t)secs * 1000000000 + frac;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;

		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
			ns -= (*p == '+' ? 1 : -1) * ((int64_t)hh * 3600 + mm * 60) * 1000000000;
	}
	return ns;
}

cJSON *tracker_parse_tags(const char *job_id)
{
	const char *open = strstr(job_id, "/dispatch-[");
	const char *p, *close;
	cJSON *tags;

	if (!open)
		return NULL;
	p = open + strlen("/dispatch-[");
	close = strstr(p, "]-");
	if (!close)
		return NULL;
	tags = cJSON_CreateObject();
	while (p < close) {
		const char *comma = memchr(p, ',', (size_t)(close - p));
		const char *end = comma ? comma : close;
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (eq) {
			char *k = xstrndup(p, (size_t)(eq - p)), *v = xstrndup(eq + 1, (size_t)(end - eq - 1));

			if (!cJSON_GetObjectItemCaseSensitive(tags, k))
				cJSON_AddStringToObject(tags, k, v);
			free(k);
			free(v);
		}
		p = end + 1;
	}
	return tags;
}

static int ours(const struct tracker *t, const char *job_id)
{
	size_t i;

	if (!job_id)
		return 0;
	for (i = 0; i < t->nprefixes; i++) {
		if (str_starts(job_id, t->prefixes[i]))
			return 1;
	}
	return 0;
}

static char *parent_of(const char *job_id)
{
	const char *d = strstr(job_id, "/dispatch-");

	return d ? xstrndup(job_id, (size_t)(d - job_id)) : xstrdup(job_id);
}

/* --- recording --- */

static int64_t lookup_item(struct tracker *t, const char *name)
{
	sqlite3_stmt *st = NULL;
	int64_t id = 0;

	if (db_prepare(t->db, "SELECT id FROM item WHERE batch_id = ?1 AND name = ?2", &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* The attempt a job belongs to: the pipeline's own, or for a stage job
 * the item's latest dispatched attempt (stage ids carry no attempt tag; an
 * item has one live attempt at a time). */
static int64_t lookup_attempt(struct tracker *t, int64_t item, const char *job_id, int pipeline)
{
	sqlite3_stmt *st = NULL;
	int64_t id = 0;

	if (db_prepare(t->db,
		       pipeline ? "SELECT id FROM attempt WHERE job_id = ?2 AND item_id = ?1"
				: "SELECT id FROM attempt WHERE item_id = ?1 AND ?2 IS NOT NULL AND "
				  "job_id IS NOT NULL ORDER BY number DESC LIMIT 1",
		       &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, item);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* A pipeline job has ended (dead, gone or stuck): its attempt and item are
 * finished; the outcome is judged by the item_outcome view. */
static int finish_pipeline(struct tracker *t, const char *job_id, struct aedb_err *err)
{
	static const char *const sql[] = {
		"UPDATE attempt SET state = 'finished', finished_at = ?2 "
		"WHERE job_id = ?1 AND state IN ('dispatching', 'dispatched')",
		"UPDATE item SET state = 'finished', updated_at = ?2 WHERE state = 'dispatched' "
		"AND id = (SELECT item_id FROM attempt WHERE job_id = ?1)",
	};
	int64_t now = aedb_now_ns();
	size_t i;

	for (i = 0; i < 2; i++) {
		sqlite3_stmt *st = NULL;
		int ret;

		if (db_prepare(t->db, sql[i], &st, err) < 0)
			return -1;
		sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		ret = db_step_done(t->db, st, err);
		sqlite3_finalize(st);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/* Upsert a job from a full job, a list stub or just an id (status NULL).
 * *job_ref gets the row id; *changed is set when its ModifyIndex moved. */
static int record_job(struct tracker *t, const char *id, const char *status, int64_t submit_time,
		      int64_t modify_index, int64_t *job_ref, int *changed, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *tags = tracker_parse_tags(id);
	char *parent = parent_of(id), *tags_text = tags ? cJSON_PrintUnformatted(tags) : NULL;
	const char *aoi = tags ? jstr(tags, "aoi_name") : NULL;
	int64_t now = aedb_now_ns(), item = 0, attempt = 0, old_index = -1, ref = 0;
	int existed = 0, ret = -1;

	/* what we knew before */
	if (db_prepare(t->db, "SELECT id, coalesce(modify_index, -1) FROM job WHERE namespace = ?1 AND job_id = ?2",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, "default", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		existed = 1;
		ref = sqlite3_column_int64(st, 0);
		old_index = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	st = NULL;
	if (existed && (modify_index <= old_index || !status)) {
		/* nothing newer: just note we saw it */
		*job_ref = ref;
		*changed = 0;
		ret = 0;
		goto out;
	}
	if (aoi)
		item = lookup_item(t, aoi);
	if (item)
		attempt = lookup_attempt(t, item, id, strcmp(parent, t->parents[0]) == 0);
	if (db_prepare(t->db,
		       "INSERT INTO job (batch_id, namespace, job_id, parent, item_id, attempt_id, "
		       "aoi_name, collection, bench_src, cand_src, scenario, catchment, tags, status, "
		       "submit_time, modify_index, first_seen_at, last_seen_at, finished_at) "
		       "VALUES (?1, 'default', ?2, ?3, nullif(?4, 0), nullif(?5, 0), ?6, ?7, ?8, ?9, "
		       "?10, ?11, ?12, ?13, nullif(?14, 0), ?15, ?16, ?16, "
		       "CASE WHEN ?13 = 'dead' THEN ?16 END) "
		       "ON CONFLICT (namespace, job_id) DO UPDATE SET "
		       "status = coalesce(excluded.status, job.status), "
		       "submit_time = coalesce(job.submit_time, excluded.submit_time), "
		       "modify_index = excluded.modify_index, last_seen_at = excluded.last_seen_at, "
		       "item_id = coalesce(job.item_id, excluded.item_id), "
		       "attempt_id = coalesce(job.attempt_id, excluded.attempt_id), "
		       "finished_at = coalesce(job.finished_at, excluded.finished_at) "
		       "RETURNING id",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, item);
	sqlite3_bind_int64(st, 5, attempt);
	db_bind_text(st, 6, aoi);
	db_bind_text(st, 7, tags ? jstr(tags, "collection") : NULL);
	db_bind_text(st, 8, tags ? jstr(tags, "bench_src") : NULL);
	db_bind_text(st, 9, tags ? jstr(tags, "cand_src") : NULL);
	db_bind_text(st, 10, tags ? jstr(tags, "scenario") : NULL);
	db_bind_text(st, 11, tags ? jstr(tags, "catchment") : NULL);
	db_bind_text(st, 12, tags_text);
	db_bind_text(st, 13, status);
	sqlite3_bind_int64(st, 14, submit_time);
	sqlite3_bind_int64(st, 15, modify_index);
	sqlite3_bind_int64(st, 16, now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_err(t->db, err, "cannot record job");
		goto out;
	}
	ref = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!existed)
		t->st.jobs++;
	/* a finished pipeline finishes its attempt and item */
	if (status && strcmp(status, "dead") == 0 && strcmp(parent, t->parents[0]) == 0 &&
	    finish_pipeline(t, id, err) < 0)
		goto out;
	*job_ref = ref;
	*changed = 1;
	ret = 0;
out:
	sqlite3_finalize(st);
	cJSON_Delete(tags);
	free(tags_text);
	free(parent);
	return ret;
}

static int is_terminal(const char *client, const char *desired)
{
	if (!client)
		return 0;
	if (!strcmp(client, "complete") || !strcmp(client, "failed") || !strcmp(client, "lost"))
		return 1;
	(void)desired;
	return 0;
}

static int record_events(struct tracker *t, int64_t alloc_ref, const char *task,
			 const cJSON *events, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	const cJSON *ev;
	int ret = 0;

	if (!cJSON_IsArray(events))
		return 0;
	if (db_prepare(t->db,
		       "INSERT OR IGNORE INTO task_event (alloc_ref, task, type, time, exit_code, "
		       "signal, message, display_message, oom_killed, fails_task, details) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		       &st, err) < 0)
		return -1;
	cJSON_ArrayForEach(ev, events) {
		const cJSON *details = cJSON_GetObjectItemCaseSensitive(ev, "Details");
		const char *type = jstr(ev, "Type"), *v;
		char *dtext = cJSON_IsObject(details) ? cJSON_PrintUnformatted(details) : NULL;
		int64_t code;

		if (!type) {
			free(dtext);
			continue;
		}
		sqlite3_bind_int64(st, 1, alloc_ref);
		sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, jint(ev, "Time", 0));
		v = jstr(details, "exit_code");
		if (v && parse_i64(v, INT32_MIN, INT32_MAX, &code) == 0)
			sqlite3_bind_int64(st, 5, code);
		else if (!strcmp(type, "Terminated"))
			sqlite3_bind_int64(st, 5, jint(ev, "ExitCode", 0));
		else
			sqlite3_bind_null(st, 5);
		v = jstr(details, "signal");
		if (v && parse_i64(v, INT32_MIN, INT32_MAX, &code) == 0)
			sqlite3_bind_int64(st, 6, code);
		else if (jint(ev, "Signal", 0))
			sqlite3_bind_int64(st, 6, jint(ev, "Signal", 0));
		else
			sqlite3_bind_null(st, 6);
		db_bind_text(st, 7, jstr(ev, "Message"));
		db_bind_text(st, 8, jstr(ev, "DisplayMessage"));
		v = jstr(details, "oom_killed");
		if (v)
			sqlite3_bind_int(st, 9, strcmp(v, "true") == 0);
		else
			sqlite3_bind_null(st, 9);
		v = jstr(details, "fails_task");
		if (v)
			sqlite3_bind_int(st, 10, strcmp(v, "true") == 0);
		else if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(ev, "FailsTask")))
			sqlite3_bind_int(st, 10, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "FailsTask")));
		else
			sqlite3_bind_null(st, 10);
		db_bind_text(st, 11, dtext);
		free(dtext);
		if (db_step_done(t->db, st, err) < 0) {
			ret = -1;
			break;
		}
		t->st.events += sqlite3_changes(t->db->conn);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	return ret;
}

static int queue_logs(struct tracker *t, int64_t alloc_ref, int64_t job_ref, const char *job_id,
		      const cJSON *task_states, struct aedb_err *err);

static int record_alloc(struct tracker *t, const cJSON *a, struct aedb_err *err)
{
	const char *id = jstr(a, "ID"), *job_id = jstr(a, "JobID");
	const char *client = jstr(a, "ClientStatus"), *desired = jstr(a, "DesiredStatus");
	const cJSON *states = cJSON_GetObjectItemCaseSensitive(a, "TaskStates"), *ts;
	sqlite3_stmt *st = NULL;
	char *old_client = NULL, *old_desired = NULL;
	int64_t job_ref = 0, alloc_ref = 0, started = 0, finished = 0, now = aedb_now_ns();
	int changed = 0, existed = 0, ret = -1;

	if (!id || !job_id || !client || !ours(t, job_id))
		return 0;
	if (record_job(t, job_id, NULL, 0, -1, &job_ref, &changed, err) < 0)
		return -1;
	cJSON_ArrayForEach(ts, states) {
		int64_t s = parse_rfc3339(jstr(ts, "StartedAt")), f = parse_rfc3339(jstr(ts, "FinishedAt"));

		if (s && (!started || s < started))
			started = s;
		if (f && f > finished)
			finished = f;
	}
	if (db_prepare(t->db, "SELECT id, client_status, desired_status FROM alloc WHERE alloc_id = ?",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		existed = 1;
		alloc_ref = sqlite3_column_int64(st, 0);
		old_client = xstrdup((const char *)sqlite3_column_text(st, 1));
		old_desired = sqlite3_column_text(st, 2) ? xstrdup((const char *)sqlite3_column_text(st, 2)) : NULL;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(t->db,
		       "INSERT INTO alloc (alloc_id, job_ref, name, task_group, node_id, node_name, "
		       "client_status, desired_status, client_description, desired_description, "
		       "create_time, modify_time, started_at, finished_at, previous_alloc, next_alloc, "
		       "modify_index, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		       "?8, ?9, ?10, nullif(?11, 0), nullif(?12, 0), nullif(?13, 0), nullif(?14, 0), "
		       "nullif(?15, ''), nullif(?16, ''), ?17, ?18, ?18) "
		       "ON CONFLICT (alloc_id) DO UPDATE SET "
		       "client_status = excluded.client_status, desired_status = excluded.desired_status, "
		       "client_description = excluded.client_description, "
		       "desired_description = excluded.desired_description, "
		       "node_id = coalesce(excluded.node_id, alloc.node_id), "
		       "node_name = coalesce(excluded.node_name, alloc.node_name), "
		       "modify_time = coalesce(excluded.modify_time, alloc.modify_time), "
		       "started_at = coalesce(alloc.started_at, excluded.started_at), "
		       "finished_at = coalesce(excluded.finished_at, alloc.finished_at), "
		       "previous_alloc = coalesce(alloc.previous_alloc, excluded.previous_alloc), "
		       "next_alloc = coalesce(excluded.next_alloc, alloc.next_alloc), "
		       "modify_index = excluded.modify_index, last_seen_at = excluded.last_seen_at "
		       "WHERE excluded.modify_index >= coalesce(alloc.modify_index, 0) "
		       "RETURNING id",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_ref);
	db_bind_text(st, 3, jstr(a, "Name"));
	db_bind_text(st, 4, jstr(a, "TaskGroup"));
	db_bind_text(st, 5, jstr(a, "NodeID"));
	db_bind_text(st, 6, jstr(a, "NodeName"));
	sqlite3_bind_text(st, 7, client, -1, SQLITE_STATIC);
	db_bind_text(st, 8, desired && *desired ? desired : NULL);
	db_bind_text(st, 9, jstr(a, "ClientDescription"));
	db_bind_text(st, 10, jstr(a, "DesiredDescription"));
	sqlite3_bind_int64(st, 11, jint(a, "CreateTime", 0));
	sqlite3_bind_int64(st, 12, jint(a, "ModifyTime", 0));
	sqlite3_bind_int64(st, 13, started);
	sqlite3_bind_int64(st, 14, is_terminal(client, desired) ? finished : 0);
	db_bind_text(st, 15, jstr(a, "PreviousAllocation") ? jstr(a, "PreviousAllocation") : "");
	db_bind_text(st, 16, jstr(a, "NextAllocation") ? jstr(a, "NextAllocation") : "");
	sqlite3_bind_int64(st, 17, jint(a, "ModifyIndex", 0));
	sqlite3_bind_int64(st, 18, now);
	if (sqlite3_step(st) != SQLITE_ROW) {
		/* an older copy than what we hold: nothing to do */
		ret = 0;
		goto out;
	}
	alloc_ref = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!existed)
		t->st.allocs++;
	if (!existed || strcmp(old_client, client) != 0 ||
	    (old_desired ? !desired || strcmp(old_desired, desired) != 0 : desired && *desired)) {
		if (db_prepare(t->db,
			       "INSERT INTO alloc_change (alloc_ref, at, client_status, desired_status, "
			       "description) VALUES (?1, ?2, ?3, ?4, ?5)",
			       &st, err) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, alloc_ref);
		sqlite3_bind_int64(st, 2, jint(a, "ModifyTime", 0) ? jint(a, "ModifyTime", 0) : now);
		sqlite3_bind_text(st, 3, client, -1, SQLITE_STATIC);
		db_bind_text(st, 4, desired && *desired ? desired : NULL);
		{
			const char *dd = jstr(a, "DesiredDescription");

			db_bind_text(st, 5, dd && *dd ? dd : jstr(a, "ClientDescription"));
		}
		if (db_step_done(t->db, st, err) < 0)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	cJSON_ArrayForEach(ts, states) {
		if (record_events(t, alloc_ref, ts->string,
				  cJSON_GetObjectItemCaseSensitive(ts, "Events"), err) < 0)
			goto out;
	}
	if (is_terminal(client, desired) && queue_logs(t, alloc_ref, job_ref, job_id, states, err) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(old_client);
	free(old_desired);
	return ret;
}

/* --- logs --- */

struct log_sink {
	FILE *f;
	size_t written, cap;
	int truncated;
};

static int log_write(void *ctx, const char *data, size_t len)
{
	struct log_sink *s = ctx;
	size_t room = s->cap - s->written;

	if (len > room) {
		if (room)
			fwrite(data, 1, room, s->f);
		s->written += room;
		s->truncated = 1;
		return -1; /* enough: stop the transfer */
	}
	if (fwrite(data, 1, len, s->f) != len)
		return -1;
	s->written += len;
	return 0;
}

static int mkdirs(const char *path)
{
	char *p, *s;
	int ret = 0;

	/* the parent usually exists (the batch's folder, the job's folder for
	 * its second stream): one system call, not one per path component */
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	p = xstrdup(path);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		ret = -1;
	free(p);
	return ret;
}

static int log_row(struct tracker *t, int64_t alloc_ref, int64_t job_ref, const char *task,
		   const char *stream, const char *source, const char *state, const char *path,
		   int64_t size, int truncated, const char *reason, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(t->db,
		       "INSERT INTO log (batch_id, job_ref, alloc_ref, task, stream, source, state, "
		       "path, cw_group, cw_stream, size, truncated, reason, captured_at) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
		       "ON CONFLICT (alloc_ref, task, stream) WHERE alloc_ref IS NOT NULL DO UPDATE SET "
		       "state = excluded.state, path = excluded.path, size = excluded.size, "
		       "truncated = excluded.truncated, reason = excluded.reason, "
		       "captured_at = excluded.captured_at",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_int64(st, 2, job_ref);
	sqlite3_bind_int64(st, 3, alloc_ref);
	sqlite3_bind_text(st, 4, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, stream, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, state, -1, SQLITE_STATIC);
	db_bind_text(st, 8, path);
	db_bind_text(st, 9, strcmp(source, "cloudwatch") == 0 ? t->cfg->cw_group : NULL);
	if (strcmp(source, "cloudwatch") == 0)
		sqlite3_bind_text(st, 10, reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 10);
	if (size >= 0)
		sqlite3_bind_int64(st, 11, size);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_int(st, 12, truncated);
	db_bind_text(st, 13, strcmp(source, "cloudwatch") == 0 ? NULL : reason);
	sqlite3_bind_int64(st, 14, aedb_now_ns());
	ret = db_step_done(t->db, st, err);
	sqlite3_finalize(st);
	return ret;
}

/* Does another allocation's log already live at rel? */
static int path_taken(struct tracker *t, const char *rel, int64_t alloc_ref)
{
	sqlite3_stmt *st = NULL;
	int taken = 0;

	if (db_prepare(t->db, "SELECT 1 FROM log WHERE batch_id = ?1 AND path = ?2 AND alloc_ref IS NOT ?3",
		       &st, NULL) < 0)
		return 0;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, rel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, alloc_ref);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return taken;
}

/* Turn a captured log's lines into findings with the rule table. */
static int classify_captured(struct tracker *t, int64_t alloc_ref, const char *task,
			     const char *stream, const char *path, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t log_id = 0;

	if (db_prepare(t->db, "SELECT id FROM log WHERE alloc_ref = ?1 AND task = ?2 AND stream = ?3",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, alloc_ref);
	sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, stream, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		log_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (!log_id)
		return 0;
	return classify_file(t->classifier, log_id, path, err);
}

/* One pending log: where it goes, and what fetching it gave. */
struct log_job {
	int64_t alloc_ref, job_ref;
	char *alloc_id, *job_id, *task, *stream;
	char *rel;          /* path under log_dir once captured, else NULL */
	char *reason;       /* why it is unavailable, else NULL */
	int64_t size;
	int truncated;
	int fetched;        /* 0: not tried (stopping), leave it pending */
};

/* Fetch one log into its file (no database writes: the caller records the
 * whole batch in one transaction). rels_taken: paths given to earlier logs
 * of the same batch. Returns -1 only for local failures (file system). */
static int fetch_log(struct tracker *t, struct log_job *lj, char **rels_taken, size_t ntaken,
		     struct aedb_err *err)
{
	struct aedb_err lerr = AEDB_ERR_INIT;
	struct log_sink sink = { NULL, 0, 0, 0 };
	char *full = NULL, *tmp = NULL, *dir = NULL;
	enum nomad_rc rc;
	size_t i;
	int ret = -1, tries, taken;

	lj->rel = xasprintf("%s/%s/%s.%s.0", t->cfg->batch_name, lj->job_id, lj->task, lj->stream);
	taken = path_taken(t, lj->rel, lj->alloc_ref);
	for (i = 0; i < ntaken && !taken; i++)
		taken = rels_taken[i] && strcmp(rels_taken[i], lj->rel) == 0;
	if (taken) {
		/* a rescheduled job's second allocation: the operators' layout has
		 * one folder per job, so later allocations get a folder of their own */
		free(lj->rel);
		lj->rel = xasprintf("%s/%s/%s/%s.%s.0", t->cfg->batch_name, lj->job_id, lj->alloc_id,
				    lj->task, lj->stream);
	}
	full = xasprintf("%s/%s", t->cfg->log_dir, lj->rel);
	tmp = xasprintf("%s.tmp", full);
	dir = xstrdup(full);
	*strrchr(dir, '/') = '\0';
	if (mkdirs(dir) < 0) {
		aedb_err_set(err, "cannot create log folder '%s': %s", dir, strerror(errno));
		goto out;
	}
	for (tries = 0;; tries++) {
		sink.f = fopen(tmp, "wb");
		if (!sink.f) {
			aedb_err_set(err, "cannot write log file '%s': %s", tmp, strerror(errno));
			goto out;
		}
		fchmod(fileno(sink.f), 0600);
		sink.written = 0;
		sink.truncated = 0;
		sink.cap = t->cfg->log_cap ? t->cfg->log_cap : TRACKER_LOG_CAP;
		rc = nomad_logs(t->api, lj->alloc_id, lj->task, lj->stream, log_write, &sink, &lerr);
		if (fclose(sink.f) != 0 && rc == NOMAD_OK)
			rc = NOMAD_BAD_REPLY;
		if (rc == NOMAD_OK || sink.truncated)
			break;
		if (rc == NOMAD_NOT_FOUND || rc == NOMAD_REFUSED || tries + 1 >= LOG_RETRIES ||
		    stopping(t)) {
			unlink(tmp);
			free(lj->rel);
			lj->rel = NULL;
			lj->reason = xstrdup(lerr.msg);
			lj->fetched = 1;
			ret = 0;
			goto out;
		}
		nap(t, 200000000LL << tries);
	}
	if (rename(tmp, full) < 0) {
		aedb_err_set(err, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	lj->size = (int64_t)sink.written;
	lj->truncated = sink.truncated;
	lj->fetched = 1;
	ret = 0;
out:
	free(full);
	free(tmp);
	free(dir);
	return ret;
}

/* Record a fetched log (inside the caller's transaction) and classify it. */
static int record_log(struct tracker *t, const struct log_job *lj, struct aedb_err *err)
{
	char *full;
	int ret;

	if (!lj->rel) {
		t->st.logs_unavailable++;
		return log_row(t, lj->alloc_ref, lj->job_ref, lj->task, lj->stream, "captured",
			       "unavailable", NULL, -1, 0, lj->reason, err);
	}
	t->st.logs++;
	ret = log_row(t, lj->alloc_ref, lj->job_ref, lj->task, lj->stream, "captured", "captured",
		      lj->rel, lj->size, lj->truncated, NULL, err);
	if (ret < 0)
		return -1;
	full = xasprintf("%s/%s", t->cfg->log_dir, lj->rel);
	ret = classify_captured(t, lj->alloc_ref, lj->task, lj->stream, full, err);
	free(full);
	return ret;
}

/* An allocation is terminal: note a pending log row per task and stream
 * (inside the caller's transaction; no network here). capture_pending()
 * fetches them after the commit, so a crash in between loses nothing. */
static int queue_logs(struct tracker *t, int64_t alloc_ref, int64_t job_ref, const char *job_id,
		      const cJSON *task_states, struct aedb_err *err)
{
	static const char *const streams[] = { "stderr", "stdout" };
	const int cw = t->cfg->log_source == TRACKER_LOGS_CLOUDWATCH;
	sqlite3_stmt *st = NULL;
	const cJSON *ts;
	int ret = 0;

	if (db_prepare(t->db,
		       "INSERT INTO log (batch_id, job_ref, alloc_ref, task, stream, source, state, "
		       "cw_group, cw_stream, captured_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
		       "ON CONFLICT (alloc_ref, task, stream) WHERE alloc_ref IS NOT NULL DO NOTHING",
		       &st, err) < 0)
		return -1;
	cJSON_ArrayForEach(ts, task_states) {
		size_t i;

		for (i = 0; i < 2 && ret == 0; i++) {
			sqlite3_bind_int64(st, 1, t->batch_id);
			sqlite3_bind_int64(st, 2, job_ref);
			sqlite3_bind_int64(st, 3, alloc_ref);
			sqlite3_bind_text(st, 4, ts->string, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, streams[i], -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, cw ? "cloudwatch" : "captured", -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 7, cw ? "captured" : "pending", -1, SQLITE_STATIC);
			db_bind_text(st, 8, cw ? t->cfg->cw_group : NULL);
			db_bind_text(st, 9, cw ? job_id : NULL);
			if (cw)
				sqlite3_bind_int64(st, 10, aedb_now_ns());
			else
				sqlite3_bind_null(st, 10);
			ret = db_step_done(t->db, st, err);
			if (ret == 0 && cw)
				t->st.logs += sqlite3_changes(t->db->conn);
		}
	}
	sqlite3_finalize(st);
	return ret;
}

#define LOG_BATCH 64

/* Fetch every pending log of the batch: a batch of logs is fetched into
 * files outside any transaction, then recorded and classified in one
 * transaction (few commits, so the tracker's other connection rarely waits).
 * Returns the number of logs recorded, or -1. */
static int capture_pending(struct tracker *t, struct aedb_err *err)
{
	int done = 0;

	for (;;) {
		struct log_job jobs[LOG_BATCH];
		char *rels[LOG_BATCH];
		sqlite3_stmt *st = NULL;
		size_t n = 0, i;
		int ret = 0;

		if (db_prepare(t->db,
			       "SELECT l.alloc_ref, l.job_ref, a.alloc_id, j.job_id, l.task, l.stream "
			       "FROM log l JOIN alloc a ON a.id = l.alloc_ref JOIN job j ON j.id = l.job_ref "
			       "WHERE l.batch_id = ?1 AND l.state = 'pending' ORDER BY l.id LIMIT 64",
			       &st, err) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, t->batch_id);
		while (n < LOG_BATCH && sqlite3_step(st) == SQLITE_ROW) {
			memset(&jobs[n], 0, sizeof(jobs[n]));
			jobs[n].alloc_ref = sqlite3_column_int64(st, 0);
			jobs[n].job_ref = sqlite3_column_int64(st, 1);
			jobs[n].alloc_id = xstrdup((const char *)sqlite3_column_text(st, 2));
			jobs[n].job_id = xstrdup((const char *)sqlite3_column_text(st, 3));
			jobs[n].task = xstrdup((const char *)sqlite3_column_text(st, 4));
			jobs[n].stream = xstrdup((const char *)sqlite3_column_text(st, 5));
			n++;
		}
		sqlite3_finalize(st);
		for (i = 0; i < n && ret == 0 && !stopping(t); i++) {
			ret = fetch_log(t, &jobs[i], rels, i, err);
			rels[i] = jobs[i].rel;
		}
		for (; i < n; i++)
			rels[i] = NULL;
		if (ret == 0 && n > 0) {
			ret = db_begin(t->db, err);
			for (i = 0; i < n && ret == 0; i++) {
				if (jobs[i].fetched) {
					ret = record_log(t, &jobs[i], err);
					done++;
				}
			}
			if (ret == 0)
				ret = db_commit(t->db, err);
			if (ret < 0)
				db_rollback(t->db);
		}
		for (i = 0; i < n; i++) {
			free(jobs[i].alloc_id);
			free(jobs[i].job_id);
			free(jobs[i].task);
			free(jobs[i].stream);
			free(jobs[i].rel);
			free(jobs[i].reason);
		}
		if (ret < 0)
			return -1;
		if (n < LOG_BATCH || stopping(t))
			return done;
	}
}

/* --- the log worker ---
 *
 * Log capture runs in a thread of its own, with its own connection, HTTP
 * handle and classifier, so fetching and classifying logs never holds up
 * the reading of the event stream (a reader that falls too far behind
 * loses its subscription). It works through the pending log rows until
 * the tracker says it is done and none is left. */

struct log_worker {
	pthread_t thread;
	struct tracker lt;      /* the worker's own connection, client, classifier */
	volatile int quit;      /* set by the tracker when it is done */
	int started;
	int rc;
	struct aedb_err err;
};

static void *log_worker_main(void *arg)
{
	struct log_worker *w = arg;

	while (!stopping(&w->lt)) {
		int n = capture_pending(&w->lt, &w->err);

		if (n < 0) {
			w->rc = -1;
			break;
		}
		if (n == 0) {
			if (w->quit)
				break;
			aedb_sleep_ns(50000000);
		}
	}
	return NULL;
}

static int log_worker_start(struct tracker *t, struct log_worker *w, struct aedb_err *err)
{
	memset(w, 0, sizeof(*w));
	w->lt.cfg = t->cfg;
	w->lt.batch_id = t->batch_id;
	if (db_open(t->cfg->db_path, DB_OPEN_RELAXED, &w->lt.db, err) < 0 ||
	    nomad_open(t->cfg->nomad, &w->lt.api, err) < 0 ||
	    classify_open(w->lt.db, &w->lt.classifier, err) < 0)
		return -1;
	if (pthread_create(&w->thread, NULL, log_worker_main, w) != 0)
		return aedb_err_set(err, "cannot start the log capture thread");
	w->started = 1;
	return 0;
}

/* Stop the worker (it finishes the logs pending now unless stopping) and
 * release it; -1 with err when it failed. */
static int log_worker_stop(struct log_worker *w, struct aedb_err *err)
{
	int rc = 0;

	if (w->started) {
		w->quit = 1;
		pthread_join(w->thread, NULL);
		if (w->rc < 0) {
			*err = w->err;
			rc = -1;
		}
	}
	classify_free(w->lt.classifier);
	nomad_close(w->lt.api);
	db_close(w->lt.db);
	memset(w, 0, sizeof(*w));
	return rc;
}

/* --- reading from Nomad --- */

/* Note that a listing showed the job. */
static int touch_job(struct tracker *t, int64_t ref, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(t->db, "UPDATE job SET last_seen_at = ?2 WHERE id = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, ref);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	ret = db_step_done(t->db, st, err);
	sqlite3_finalize(st);
	return ret;
}

/* Must a listed job be read again? When its ModifyIndex moved, when it is
 * dead while what we hold of its allocations is not final (a tracker
 * stopped between a job's event and its allocation's), or when its summary
 * (a list stub's JobSummary; NULL for none) counts other allocations by
 * client status than we hold. */
static int needs_sync(struct tracker *t, const char *job_id, const char *status,
		      int64_t modify_index, const cJSON *summary)
{
	/* the job summary's allocation counts, in the order of the query */
	static const char *const keys[] = { "Starting", "Running", "Complete", "Failed", "Lost",
					    "Unknown" };
	int64_t want[6] = { 0 };
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(summary, "Summary"), *g;
	sqlite3_stmt *st = NULL;
	int need = 1;
	size_t k;

	cJSON_ArrayForEach(g, groups) {
		for (k = 0; k < 6; k++)
			want[k] += jint(g, keys[k], 0);
	}
	if (db_prepare(t->db,
		       "SELECT coalesce(j.modify_index, -1), count(a.id), "
		       "count(a.id) FILTER (WHERE a.client_status IN ('pending', 'running', 'unknown')), "
		       "count(a.id) FILTER (WHERE a.client_status = 'pending'), "
		       "count(a.id) FILTER (WHERE a.client_status = 'running'), "
		       "count(a.id) FILTER (WHERE a.client_status = 'complete'), "
		       "count(a.id) FILTER (WHERE a.client_status = 'failed'), "
		       "count(a.id) FILTER (WHERE a.client_status = 'lost'), "
		       "count(a.id) FILTER (WHERE a.client_status = 'unknown') "
		       "FROM job j LEFT JOIN alloc a ON a.job_ref = j.id "
		       "WHERE j.namespace = 'default' AND j.job_id = ? GROUP BY j.id",
		       &st, NULL) < 0)
		return 1;
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int dead = status && strcmp(status, "dead") == 0;

		need = sqlite3_column_int64(st, 0) < modify_index ||
		       (dead && (sqlite3_column_int64(st, 1) == 0 || sqlite3_column_int64(st, 2) > 0));
		/* an allocation can change (lost, replaced) without moving the
		 * job's ModifyIndex; the summary counts them by client status */
		for (k = 0; k < 6 && !need && groups; k++)
			need = sqlite3_column_int64(st, 3 + (int)k) != want[k];
	}
	sqlite3_finalize(st);
	return need;
}

/* Record a job and its allocations together: the allocations are read
 * first (one request), then the job and every allocation are written in
 * one transaction. So a job is never recorded as up to date (its
 * ModifyIndex) while its allocations are not: a tracker killed between the
 * two would otherwise never read them again. status NULL: only the
 * allocations (the job's own row is not advanced). */
static int sync_job(struct tracker *t, const char *job_id, const char *status, int64_t submit_time,
		    int64_t modify_index, struct aedb_err *err)
{
	cJSON *list = NULL, *a;
	enum nomad_rc rc;
	int64_t ref = 0;
	int tries = 0, changed = 0, ret = 0;

	for (;;) {
		rc = nomad_get_job(t->api, job_id, "/allocations", NULL, &list, NULL, err);
		if (rc == NOMAD_OK || rc == NOMAD_NOT_FOUND)
			break;
		if (rc != NOMAD_TRANSIENT)
			return -1;
		if (stopping(t))
			return 1;
		nap(t, 250000000LL << (tries < 6 ? tries++ : 6));
	}
	if (db_begin(t->db, err) < 0) {
		cJSON_Delete(list);
		return -1;
	}
	if (status)
		ret = record_job(t, job_id, status, submit_time, modify_index, &ref, &changed, err);
	if (ret == 0 && status)
		ret = touch_job(t, ref, err);
	cJSON_ArrayForEach(a, list) {
		if (ret < 0 || (ret = record_alloc(t, a, err)) < 0)
			break;
	}
	cJSON_Delete(list);
	if (ret == 0)
		return db_commit(t->db, err);
	db_rollback(t->db);
	return -1;
}

/* Record that a job is gone from Nomad: finished then collected, purged by
 * aedb, or vanished while live. A pipeline that is gone ends its attempt. */
static int mark_gone(struct tracker *t, int64_t job_ref, const char *job_id, const char *status,
		     int64_t purged_at, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *reason;
	int ret;

	reason = purged_at ? "purged" : status && strcmp(status, "dead") == 0 ? "collected" : "vanished";
	if (db_prepare(t->db,
		       "UPDATE job SET gone_at = ?2, gone_reason = ?3, "
		       "finished_at = coalesce(finished_at, ?2) WHERE id = ?1 AND gone_at IS NULL",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, job_ref);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	ret = db_step_done(t->db, st, err);
	sqlite3_finalize(st);
	if (ret < 0 || sqlite3_changes(t->db->conn) == 0)
		return ret;
	if (strcmp(reason, "vanished") == 0)
		journal_add(t->db, t->batch_id, "warn", "job_gone", NULL, NULL,
			    "job %s vanished from Nomad while %s; its outcome is unknown", job_id,
			    status ? status : "not yet seen running");
	if (!str_starts(job_id, t->prefixes[0]))
		return 0;
	return finish_pipeline(t, job_id, err);
}

/* A known job no longer listed: ask Nomad whether it is gone. */
static int check_gone(struct tracker *t, int64_t job_ref, const char *job_id, const char *status,
		      int64_t purged_at, struct aedb_err *err)
{
	cJSON *job = NULL;
	enum nomad_rc rc = nomad_get_job(t->api, job_id, "", NULL, &job, NULL, err);
	int ret;

	if (rc == NOMAD_OK) {
		ret = 0;
		if (needs_sync(t, job_id, jstr(job, "Status"), jint(job, "ModifyIndex", 0), NULL))
			ret = sync_job(t, job_id, jstr(job, "Status"), jint(job, "SubmitTime", 0),
				       jint(job, "ModifyIndex", 0), err);
		cJSON_Delete(job);
		return ret < 0 ? -1 : 0;
	}
	if (rc != NOMAD_NOT_FOUND)
		return rc == NOMAD_TRANSIENT ? 0 : -1;
	/* its last allocations may hold news (and logs) we have not seen */
	if (status && strcmp(status, "dead") != 0 && sync_job(t, job_id, NULL, 0, 0, err) < 0)
		return -1;
	return mark_gone(t, job_ref, job_id, status, purged_at, err);
}

#define SCAN_PAGE 1000

static int scan_prefix(struct tracker *t, const char *prefix, int live_only, struct aedb_err *err)
{
	char token[512] = "";
	int pages = 0, ret = 0;

	do {
		struct nomad_qmeta meta;
		struct buf path;
		cJSON *list = NULL, *stub;
		enum nomad_rc rc;

		buf_init(&path, AEDB_URL_MAX, "Nomad path");
		buf_printf(&path, NULL, "/v1/jobs?per_page=%d&prefix=", SCAN_PAGE);
		http_escape(&path, prefix, 0, NULL);
		if (live_only) {
			buf_puts(&path, "&filter=", NULL);
			http_escape(&path, "Status != \"dead\"", 0, NULL);
		}
		if (token[0]) {
			buf_puts(&path, "&next_token=", NULL);
			http_escape(&path, token, 0, NULL);
		}
		rc = nomad_get(t->api, buf_str(&path), NULL, &list, &meta, err);
		buf_release(&path);
		if (rc != NOMAD_OK)
			return rc == NOMAD_TRANSIENT ? 1 : -1;
		/* what changed is read and recorded job by job (allocations with
		 * their job); what did not is only noted as seen, in one go */
		cJSON_ArrayForEach(stub, list) {
			const char *id = jstr(stub, "ID");

			if (!id || !ours(t, id))
				continue;
			if (needs_sync(t, id, jstr(stub, "Status"), jint(stub, "ModifyIndex", 0),
				       cJSON_GetObjectItemCaseSensitive(stub, "JobSummary"))) {
				int r = sync_job(t, id, jstr(stub, "Status"), jint(stub, "SubmitTime", 0),
						 jint(stub, "ModifyIndex", 0), err);

				if (r != 0) {
					cJSON_Delete(list);
					return r;
				}
			}
		}
		if (db_begin(t->db, err) < 0) {
			cJSON_Delete(list);
			return -1;
		}
		cJSON_ArrayForEach(stub, list) {
			const char *id = jstr(stub, "ID");
			int64_t ref = 0;
			int changed = 0;

			if (!id || !ours(t, id))
				continue;
			if (record_job(t, id, jstr(stub, "Status"), jint(stub, "SubmitTime", 0),
				       jint(stub, "ModifyIndex", 0), &ref, &changed, err) < 0 ||
			    touch_job(t, ref, err) < 0) {
				ret = -1;
				break;
			}
		}
		cJSON_Delete(list);
		if (ret < 0) {
			db_rollback(t->db);
			return -1;
		}
		if (db_commit(t->db, err) < 0)
			return -1;
		snprintf(token, sizeof(token), "%s", meta.next_token);
		pages++;
	} while (token[0] && pages < 100000 && !stopping(t));
	return 0;
}

/* Jobs we believe live (or dead but with unrecorded allocations) that the
 * last scan did not list: ask Nomad about each. */
static int check_unlisted(struct tracker *t, int64_t scan_started, int live_only,
			  struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	struct {
		int64_t ref, purged;
		char *id, *status;
	} *rows = NULL;
	size_t n = 0, cap = 0, i;
	int ret = 0;

	if (db_prepare(t->db,
		       "SELECT id, job_id, status, coalesce(purged_at, 0) FROM job WHERE batch_id = ?1 "
		       "AND gone_at IS NULL AND last_seen_at < ?2 AND (?3 = 0 OR status IS NULL OR "
		       "status != 'dead')",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_int64(st, 2, scan_started);
	sqlite3_bind_int(st, 3, live_only);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		rows[n].ref = sqlite3_column_int64(st, 0);
		rows[n].id = xstrdup((const char *)sqlite3_column_text(st, 1));
		rows[n].status = sqlite3_column_text(st, 2) ? xstrdup((const char *)sqlite3_column_text(st, 2)) : NULL;
		rows[n].purged = sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n && ret == 0 && !stopping(t); i++)
		ret = check_gone(t, rows[i].ref, rows[i].id, rows[i].status, rows[i].purged, err);
	for (i = 0; i < n; i++) {
		free(rows[i].id);
		free(rows[i].status);
	}
	free(rows);
	return ret;
}

/* A dispatched pipeline the tracker has never seen (it may have finished
 * and been collected while nobody tracked) gets a job row that was never
 * seen, so the scan either finds it or asks Nomad about it. */
static int adopt_dispatched(struct tracker *t, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(t->db,
		       "INSERT INTO job (batch_id, namespace, job_id, parent, item_id, attempt_id, "
		       "aoi_name, first_seen_at, last_seen_at) "
		       "SELECT i.batch_id, 'default', a.job_id, ?2, i.id, a.id, i.name, ?3, 0 "
		       "FROM attempt a JOIN item i ON i.id = a.item_id WHERE i.batch_id = ?1 AND "
		       "a.state = 'dispatched' AND a.job_id IS NOT NULL AND NOT EXISTS "
		       "(SELECT 1 FROM job j WHERE j.namespace = 'default' AND j.job_id = a.job_id)",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, t->parents[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, aedb_now_ns());
	ret = db_step_done(t->db, st, err);
	sqlite3_finalize(st);
	return ret;
}

static int full_scan(struct tracker *t, int live_only, struct aedb_err *err)
{
	int64_t started = aedb_now_ns();
	size_t i;

	if (adopt_dispatched(t, err) < 0)
		return -1;
	for (i = 0; i < t->nprefixes; i++) {
		int rc = scan_prefix(t, t->prefixes[i], live_only, err);

		if (rc != 0)
			return rc;
	}
	return check_unlisted(t, started, live_only, err) < 0 ? -1 : 0;
}

/* --- item sweeps (polling) ---
 *
 * A live list shows only the jobs live at that instant: a stage job that
 * is dispatched and ends between two polls is in none. Stage job ids carry
 * the item as their second tag, so the stage jobs of one item are listed
 * by "<stage>/dispatch-[batch_name=B,aoi_name=I," (item names cannot hold
 * a comma, so the prefix matches that item only). An item is swept when its
 * pipeline is seen ending (its stage jobs have all ended by then), and
 * while its pipeline runs, once every LIVE_SWEEP_POLLS polls, at most
 * LIVE_SWEEP_BATCH items per poll: a stage job that failed at once is then
 * recorded (and its logs captured) while the pipeline waits, long before
 * Nomad collects it. The cost follows the pipelines, never the jobs the
 * server retains. */

static int sweep_item(struct tracker *t, const char *aoi, struct aedb_err *err)
{
	size_t i;

	for (i = 1; i < t->nprefixes; i++) {
		char *prefix = xasprintf("%saoi_name=%s,", t->prefixes[i], aoi);
		int rc = scan_prefix(t, prefix, 0, err);

		free(prefix);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Sweep the items whose pipeline was recorded ending (finished_at, set
 * when it is first seen dead or gone) since the last sweep. */
static int sweep_ended(struct tracker *t, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	/* the names first: no read stays open while the sweeps write */
	if (db_prepare(t->db,
		       "SELECT DISTINCT aoi_name FROM job WHERE batch_id = ?1 AND parent = ?2 "
		       "AND finished_at >= ?3 AND aoi_name IS NOT NULL",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, t->parents[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t->swept_until);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		if (rc == 0 && !stopping(t))
			rc = sweep_item(t, names[i], err);
		free(names[i]);
	}
	free(names);
	if (rc == 0 && !stopping(t))
		t->swept_until = now;
	return rc;
}

/* Sweep the items whose pipeline ended, then a few items of live pipelines
 * (a round through them at most every LIVE_SWEEP_POLLS polls). */
static int sweep_items(struct tracker *t, int64_t interval, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	char *names[LIVE_SWEEP_BATCH];
	size_t n = 0, i;
	int rc = sweep_ended(t, err);

	if (rc != 0 || stopping(t) || aedb_mono_ns() < t->live_round_at)
		return rc;
	if (db_prepare(t->db,
		       "SELECT id, aoi_name FROM job WHERE batch_id = ?1 AND parent = ?2 AND id > ?3 "
		       "AND gone_at IS NULL AND coalesce(status, 'pending') != 'dead' "
		       "AND aoi_name IS NOT NULL ORDER BY id LIMIT ?4",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, t->parents[0], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t->live_cursor);
	sqlite3_bind_int(st, 4, LIVE_SWEEP_BATCH);
	while (n < LIVE_SWEEP_BATCH && sqlite3_step(st) == SQLITE_ROW) {
		t->live_cursor = sqlite3_column_int64(st, 0);
		names[n++] = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (n < LIVE_SWEEP_BATCH) {
		/* the round is over: the next one starts LIVE_SWEEP_POLLS polls later */
		t->live_cursor = 0;
		t->live_round_at = aedb_mono_ns() + LIVE_SWEEP_POLLS * interval;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && !stopping(t))
			rc = sweep_item(t, names[i], err);
		free(names[i]);
	}
	return rc;
}

/* --- the catch-up scan of a stream connection ---
 *
 * What happened while nobody listened is learned by a full scan. It starts
 * only once the stream has answered (Nomad writes {} right after it
 * subscribes): from then on every change reaches the stream, or the server
 * ends a reader that fell behind and the next connection scans again. So
 * a change is either older than the scan (the scan sees it) or newer than
 * the subscription (the stream delivers it). A scan taken before
 * subscribing would leave a window in neither: a reconnect whose index has
 * left the server's buffer silently resumes at the oldest batch it still
 * holds. The scan runs in a thread with its own connection and HTTP handle
 * so the stream is read meanwhile; both writers record idempotently and
 * never replace a newer ModifyIndex with an older one. */

struct scan_worker {
	pthread_t thread;
	struct tracker lt;      /* the worker's own connection and client */
	int quit;               /* set by the tracker to end the scan early */
	int finished;           /* set by the worker when it returns */
	int started;
	int rc;                 /* full_scan's result */
	struct aedb_err err;
};

static void *scan_worker_main(void *arg)
{
	struct scan_worker *w = arg;

	w->rc = full_scan(&w->lt, 0, &w->err);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int scan_worker_start(struct tracker *t, struct scan_worker *w, struct aedb_err *err)
{
	memset(w, 0, sizeof(*w));
	w->lt.cfg = t->cfg;
	w->lt.batch_id = t->batch_id;
	w->lt.parents = t->parents;
	w->lt.prefixes = t->prefixes;
	w->lt.nprefixes = t->nprefixes;
	w->lt.quit = &w->quit;
	if (db_open(t->cfg->db_path, DB_OPEN_RELAXED, &w->lt.db, err) < 0 ||
	    nomad_open(t->cfg->nomad, &w->lt.api, err) < 0) {
		nomad_close(w->lt.api);
		db_close(w->lt.db);
		memset(w, 0, sizeof(*w));
		return -1;
	}
	if (pthread_create(&w->thread, NULL, scan_worker_main, w) != 0) {
		nomad_close(w->lt.api);
		db_close(w->lt.db);
		memset(w, 0, sizeof(*w));
		return aedb_err_set(err, "cannot start the catch-up scan thread");
	}
	w->started = 1;
	return 0;
}

/* Join the worker (asking it to end first when it has not finished) and
 * release it. Returns full_scan's result (0 done, 1 transient failure, -1
 * error with err), or 1 when it was ended early. The jobs and allocations
 * it found are added to the tracker's counts. */
static int scan_worker_stop(struct tracker *t, struct scan_worker *w, struct aedb_err *err)
{
	int rc = 1;

	if (!w->started)
		return 1;
	if (!__atomic_load_n(&w->finished, __ATOMIC_ACQUIRE))
		__atomic_store_n(&w->quit, 1, __ATOMIC_RELAXED);
	pthread_join(w->thread, NULL);
	if (!w->quit) {
		rc = w->rc;
		if (rc != 0)
			*err = w->err;
	}
	t->st.jobs += w->lt.st.jobs;
	t->st.allocs += w->lt.st.allocs;
	t->st.events += w->lt.st.events;
	nomad_close(w->lt.api);
	db_close(w->lt.db);
	memset(w, 0, sizeof(*w));
	return rc;
}

/* Drive the scan of the current connection: start it once the stream has
 * delivered its first line, collect it when it has finished, and retry a
 * scan that failed transiently after a pause. -1 on error. */
static int scan_tick(struct tracker *t, struct aedb_err *err)
{
	int64_t now = aedb_mono_ns();

	if (!t->scan)
		return 0;
	if (t->scan_state == SCAN_RUNNING && __atomic_load_n(&t->scan->finished, __ATOMIC_ACQUIRE)) {
		int rc = scan_worker_stop(t, t->scan, err);

		if (rc < 0)
			return -1;
		if (rc > 0) {
			say(t, "warn", "catch-up scan: %s; retrying", err->msg);
			t->scan_state = SCAN_WANTED;
			t->scan_retry_at = now + 2000000000LL;
		} else {
			t->scan_state = SCAN_DONE;
		}
	}
	if (t->scan_state == SCAN_WANTED && t->stream_data && now >= t->scan_retry_at) {
		if (scan_worker_start(t, t->scan, err) < 0)
			return -1;
		t->scan_state = SCAN_RUNNING;
	}
	return 0;
}

/* --- ending --- */

static int save_cursor(struct tracker *t, const char *mode, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(t->db,
		       "INSERT INTO tracker_cursor (batch_id, mode, last_index, updated_at) VALUES "
		       "(?1, ?2, ?3, ?4) ON CONFLICT (batch_id) DO UPDATE SET mode = excluded.mode, "
		       "last_index = excluded.last_index, updated_at = excluded.updated_at",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_text(st, 2, mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)t->last_index);
	sqlite3_bind_int64(st, 4, aedb_now_ns());
	ret = db_step_done(t->db, st, err);
	sqlite3_finalize(st);
	return ret;
}

/* Jobs never placed for longer than the placement timeout are stuck. */
static int mark_stuck(struct tracker *t, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	int n, ret;

	if (db_prepare(t->db,
		       "UPDATE job SET stuck_at = ?2 WHERE batch_id = ?1 AND stuck_at IS NULL AND "
		       "gone_at IS NULL AND coalesce(status, 'pending') != 'dead' AND " /* job_live */
		       "coalesce(status, 'pending') = 'pending' AND "
		       "first_seen_at < ?3 AND NOT EXISTS (SELECT 1 FROM alloc a WHERE a.job_ref = job.id "
		       "AND a.client_status != 'pending')",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now - t->cfg->placement_timeout_ns);
	ret = db_step_done(t->db, st, err);
	n = sqlite3_changes(t->db->conn);
	sqlite3_finalize(st);
	if (ret == 0 && n > 0) {
		journal_add(t->db, t->batch_id, "warn", "stuck", NULL, NULL,
			    "%d jobs were never placed within the placement timeout (%llds); they "
			    "count as failed",
			    n, (long long)(t->cfg->placement_timeout_ns / 1000000000));
		say(t, "warn", "%d jobs never placed within the placement timeout: stuck", n);
		if (db_prepare(t->db,
			       "UPDATE attempt SET state = 'finished', finished_at = ?2 WHERE state = "
			       "'dispatched' AND job_id IN (SELECT job_id FROM job WHERE batch_id = ?1 "
			       "AND stuck_at IS NOT NULL)",
			       &st, err) == 0) {
			sqlite3_bind_int64(st, 1, t->batch_id);
			sqlite3_bind_int64(st, 2, now);
			db_step_done(t->db, st, err);
			sqlite3_finalize(st);
		}
		if (db_prepare(t->db,
			       "UPDATE item SET state = 'finished' WHERE batch_id = ?1 AND state = "
			       "'dispatched' AND id IN (SELECT item_id FROM attempt WHERE state = "
			       "'finished')",
			       &st, err) == 0) {
			sqlite3_bind_int64(st, 1, t->batch_id);
			db_step_done(t->db, st, err);
			sqlite3_finalize(st);
		}
	}
	return ret;
}

/* Done when nothing more can come: no dispatch in progress, every
 * dispatched pipeline finished, every known job finished, every log of a
 * finished allocation recorded. */
static int check_done(struct tracker *t, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int done = 0;

	if (mark_stuck(t, err) < 0)
		return -1;
	if (db_prepare(t->db,
		       "SELECT "
		       "(SELECT count(*) FROM attempt a JOIN item i ON i.id = a.item_id "
		       "  WHERE i.batch_id = ?1 AND a.state = 'dispatched'), "
		       "(SELECT count(*) FROM job WHERE batch_id = ?1 AND gone_at IS NULL AND "
		       "  stuck_at IS NULL AND coalesce(status, 'pending') != 'dead'), "
		       "(SELECT count(*) FROM log WHERE batch_id = ?1 AND state = 'pending')",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->st.live_pipelines = sqlite3_column_int64(st, 0);
		t->st.live_jobs = sqlite3_column_int64(st, 1);
		done = t->st.live_pipelines == 0 && t->st.live_jobs == 0 &&
		       sqlite3_column_int64(st, 2) == 0 &&
		       !(t->cfg->dispatching && *t->cfg->dispatching);
	}
	sqlite3_finalize(st);
	if (t->cfg->report)
		t->cfg->report(t->cfg->report_ctx, &t->st, "info", NULL);
	return done;
}

static int periodic(struct tracker *t, struct aedb_err *err)
{
	int64_t now = aedb_mono_ns();
	int d;

	if (now - t->last_check < CHECK_EVERY_NS)
		return 0;
	t->last_check = now;
	if (t->lock_token && now - t->last_beat > 15000000000LL) {
		t->last_beat = now;
		if (batch_lock_heartbeat(t->db, t->batch_id, t->lock_token, err) < 0)
			return -1;
	}
	if (t->logs && t->logs->rc < 0) {
		*err = t->logs->err;
		return -1;
	}
	if (t->logs) {
		t->st.logs = __atomic_load_n(&t->logs->lt.st.logs, __ATOMIC_RELAXED);
		t->st.logs_unavailable = __atomic_load_n(&t->logs->lt.st.logs_unavailable,
							 __ATOMIC_RELAXED);
	}
	d = check_done(t, err);
	if (d < 0)
		return -1;
	/* not before this connection's catch-up scan has run: it may find
	 * what the stream cannot tell */
	t->done = d && (t->scan_state == SCAN_NONE || t->scan_state == SCAN_DONE);
	return 0;
}

/* --- the event stream --- */

/* One line of the stream: a heartbeat or an event batch, recorded in the
 * caller's transaction. */
static int handle_line(struct tracker *t, const char *text, size_t len, struct aedb_err *err)
{
	cJSON *msg = cJSON_ParseWithLength(text, len), *events, *ev;
	uint64_t index;
	int ret = 0;

	if (!msg)
		return 0; /* not ours to judge: skip a malformed line */
	events = cJSON_GetObjectItemCaseSensitive(msg, "Events");
	if (!cJSON_IsArray(events)) {
		cJSON_Delete(msg); /* heartbeat {} */
		return 0;
	}
	index = (uint64_t)jint(msg, "Index", 0);
	if (t->first_batch && index && index < t->last_index) {
		/* the server's index went backwards (restart, snapshot restore):
		 * start over from here; the scan at connect covered the gap */
		journal_add(t->db, t->batch_id, "warn", "index_reset", NULL, NULL,
			    "Nomad's event index went back from %llu to %llu; following from there",
			    (unsigned long long)t->last_index, (unsigned long long)index);
		t->last_index = 0;
	}
	if (index)
		t->first_batch = 0;
	if (index && index <= t->last_index) {
		cJSON_Delete(msg); /* replayed after a reconnect */
		return 0;
	}
	cJSON_ArrayForEach(ev, events) {
		const char *topic = jstr(ev, "Topic");
		const cJSON *payload = cJSON_GetObjectItemCaseSensitive(ev, "Payload");

		if (topic && strcmp(topic, "Job") == 0) {
			const cJSON *job = cJSON_GetObjectItemCaseSensitive(payload, "Job");
			const char *id = jstr(job, "ID");
			int64_t ref = 0;
			int changed = 0;

			if (!ours(t, id))
				continue;
			ret = record_job(t, id, jstr(job, "Status"), jint(job, "SubmitTime", 0),
					 jint(job, "ModifyIndex", 0), &ref, &changed, err);
			if (ret == 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(payload, "Deleted")))
				ret = mark_gone(t, ref, id, jstr(job, "Status"), 0, err);
		} else if (topic && strcmp(topic, "Allocation") == 0) {
			ret = record_alloc(t, cJSON_GetObjectItemCaseSensitive(payload, "Allocation"), err);
		}
		if (ret < 0)
			break;
	}
	if (ret == 0 && index) {
		t->last_index = index;
		ret = save_cursor(t, "events", err);
	}
	cJSON_Delete(msg);
	return ret;
}

/* The stream's bytes as they arrive: every complete line of this chunk is
 * recorded in one transaction (with the cursor), so a busy stream costs
 * few commits. */
static int on_stream(void *ctx, const char *data, size_t len)
{
	struct tracker *t = ctx;
	size_t i, start = 0;
	int in_tx = 0;

	t->stream_data = 1;
	for (i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if ((!in_tx && db_begin(t->db, &t->sink_err) < 0) ||
		    buf_append(&t->line, data + start, i - start, &t->sink_err) < 0 ||
		    (in_tx = 1, handle_line(t, buf_str(&t->line), t->line.len, &t->sink_err) < 0)) {
			if (in_tx)
				db_rollback(t->db);
			t->failed = 1;
			return -1;
		}
		buf_reset(&t->line);
		start = i + 1;
	}
	if (in_tx && db_commit(t->db, &t->sink_err) < 0) {
		db_rollback(t->db);
		t->failed = 1;
		return -1;
	}
	if (start < len && buf_append(&t->line, data + start, len - start, &t->sink_err) < 0) {
		t->failed = 1;
		return -1;
	}
	if (scan_tick(t, &t->sink_err) < 0 || periodic(t, &t->sink_err) < 0) {
		t->failed = 1;
		return -1;
	}
	if (t->done || stopping(t))
		return -1;
	return 0;
}

/* Every second of a stream, data or not: the periodic checks, and whether
 * to end the stream (the batch is done, a signal, or an error). */
static int on_tick(void *ctx)
{
	struct tracker *t = ctx;

	if (scan_tick(t, &t->sink_err) < 0 || periodic(t, &t->sink_err) < 0) {
		t->failed = 1;
		return 1;
	}
	return t->done || stopping(t);
}

/* Where a tracker with no cursor yet subscribes: at the index of the
 * server's job list (one small request), not at the oldest batch it still
 * holds, so it does not replay the whole buffer. Nothing depends on it for
 * completeness: the connection's scan covers whatever came before. */
static uint64_t start_index(struct tracker *t)
{
	struct aedb_err ignored = AEDB_ERR_INIT;
	struct nomad_qmeta meta;
	struct buf path;
	cJSON *list = NULL;
	enum nomad_rc rc;

	buf_init(&path, AEDB_URL_MAX, "Nomad path");
	buf_puts(&path, "/v1/jobs?per_page=1&prefix=", NULL);
	http_escape(&path, t->prefixes[0], 0, NULL);
	memset(&meta, 0, sizeof(meta));
	rc = nomad_get(t->api, buf_str(&path), NULL, &list, &meta, &ignored);
	buf_release(&path);
	cJSON_Delete(list);
	return rc == NOMAD_OK && meta.index ? meta.index : 1;
}

/* 1 when the server has no usable event stream (fall back), 0 when the
 * stream ended or was ended by us, -1 on error. */
static int run_stream(struct tracker *t, struct aedb_err *err)
{
	char path[128];
	enum nomad_rc rc;

	snprintf(path, sizeof(path), "/v1/event/stream?topic=Job&topic=Allocation&index=%llu",
		 (unsigned long long)(t->last_index ? t->last_index + 1 : start_index(t)));
	buf_reset(&t->line);
	t->failed = 0;
	t->first_batch = 1;
	t->stream_data = 0;
	t->scan_state = SCAN_WANTED;
	t->scan_retry_at = 0;
	/* One connection for as long as it works: Nomad keeps the events an
	 * attached reader has not read yet (up to its buffer), while a
	 * reconnect could land past them. on_tick checks for the end of the
	 * batch every second, events or not; a connection silent for longer
	 * than Nomad's 30 s heartbeat is stalled and is replaced. */
	rc = nomad_stream(t->stream, path, on_stream, on_tick, t, 0, STREAM_IDLE_MS, err);
	/* a scan still running belongs to a connection that is gone: the next
	 * one scans again */
	if (t->scan_state == SCAN_RUNNING) {
		struct aedb_err ignored = AEDB_ERR_INIT;

		scan_worker_stop(t, t->scan, &ignored);
	}
	t->scan_state = SCAN_NONE;
	if (t->failed) {
		*err = t->sink_err;
		return -1;
	}
	if (t->done || stopping(t))
		return 0;
	if (rc == NOMAD_NOT_FOUND || rc == NOMAD_BAD_REPLY ||
	    (rc == NOMAD_TRANSIENT && strstr(err->msg, "HTTP 501")))
		return 1;
	if (rc == NOMAD_REFUSED)
		return 1; /* no permission for the topics: poll instead */
	return 0;
}

static int run_poll(struct tracker *t, int64_t until_ns, struct aedb_err *err)
{
	int64_t interval = t->cfg->poll_interval_ns ? t->cfg->poll_interval_ns : 2000000000LL;
	int polls = 0;

	t->live_round_at = aedb_mono_ns() + LIVE_SWEEP_POLLS * interval;
	while (!stopping(t) && !t->done) {
		int64_t started = aedb_mono_ns();
		/* the first poll lists everything: what happened while nobody
		 * tracked; later ones list live jobs and sweep items */
		int rc = full_scan(t, polls > 0, err);

		if (rc == 0 && polls == 0)
			t->swept_until = aedb_now_ns(); /* its listing covered them */
		else if (rc == 0)
			rc = sweep_items(t, interval, err);
		if (rc < 0)
			return -1;
		if (rc > 0)
			say(t, "warn", "%s; retrying", err->msg);
		polls++;
		t->last_check = 0;
		if (periodic(t, err) < 0)
			return -1;
		if (t->done || (until_ns && aedb_mono_ns() >= until_ns))
			break;
		nap(t, interval - (aedb_mono_ns() - started));
	}
	return 0;
}

static int setup(struct tracker *t, const struct tracker_config *cfg, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	t->cfg = cfg;
	t->parents = cfg->parents ? cfg->parents : default_parents;
	buf_init(&t->line, STREAM_LINE_MAX, "event stream line");
	for (i = 0; t->parents[i]; i++)
		;
	t->prefixes = xcalloc(i, sizeof(char *));
	for (i = 0; t->parents[i]; i++)
		t->prefixes[i] = xasprintf("%s/dispatch-[batch_name=%s,", t->parents[i], cfg->batch_name);
	t->nprefixes = i;
	/* relaxed durability: what a power loss could take back is recorded
	 * again from Nomad on the next start (the cursor commits with it) */
	if (db_open(cfg->db_path, DB_OPEN_RELAXED, &t->db, err) < 0 ||
	    batch_load(t->db, cfg->batch_name, &t->batch_id, NULL, err) < 0)
		return -1;
	if (cfg->hold_lock && batch_lock_acquire(t->db, t->batch_id, "track", &t->lock_token, err) < 0)
		return -1;
	if (nomad_open(cfg->nomad, &t->stream, err) < 0 || nomad_open(cfg->nomad, &t->api, err) < 0 ||
	    classify_open(t->db, &t->classifier, err) < 0)
		return -1;
	if (db_prepare(t->db, "SELECT last_index FROM tracker_cursor WHERE batch_id = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, t->batch_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		t->last_index = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	t->last_beat = aedb_mono_ns();
	return 0;
}

static void teardown(struct tracker *t)
{
	size_t i;

	if (t->lock_token)
		batch_lock_release(t->db, t->batch_id, t->lock_token);
	free(t->lock_token);
	for (i = 0; i < t->nprefixes; i++)
		free(t->prefixes[i]);
	free(t->prefixes);
	buf_release(&t->line);
	classify_free(t->classifier);
	nomad_close(t->stream);
	nomad_close(t->api);
	db_close(t->db);
}

int tracker_run(const struct tracker_config *cfg, struct aedb_err *err)
{
	struct aedb_err ignored = AEDB_ERR_INIT;
	struct log_worker logs;
	struct tracker t;
	struct scan_worker scan;
	int ret = -1, reconnects = 0;
	int polling = cfg->mode == TRACKER_POLL;

	memset(&t, 0, sizeof(t));
	memset(&logs, 0, sizeof(logs));
	memset(&scan, 0, sizeof(scan));
	t.scan = &scan;
	if (setup(&t, cfg, err) < 0 || log_worker_start(&t, &logs, err) < 0)
		goto out;
	t.logs = &logs;
	journal_add(t.db, t.batch_id, "info", "track_start", NULL, NULL,
		    "tracker started (%s, from index %llu)", polling ? "polling" : "event stream",
		    (unsigned long long)t.last_index);
	while (!stopping(&t)) {
		int rc;

		if (t.done) {
			/* one last full scan: nothing may have slipped between polls
			 * or past a lost event */
			t.done = 0;
			rc = full_scan(&t, 0, err);
			if (rc < 0)
				goto out;
			if (rc > 0) {
				say(&t, "warn", "%s; retrying", err->msg);
				nap(&t, 500000000LL << (reconnects < 5 ? reconnects : 5));
				reconnects++;
				t.done = 1;
				continue;
			}
			t.last_check = 0;
			if (periodic(&t, err) < 0)
				goto out;
			if (t.done)
				break;
			continue;
		}
		if (polling) {
			t.st.polling = 1;
			if (run_poll(&t, 0, err) < 0)
				goto out;
			continue;
		}
		/* each connection catches up with a scan once it is subscribed
		 * (run_stream) */
		rc = run_stream(&t, err);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			if (cfg->mode == TRACKER_EVENTS)
				goto out;
			journal_add(t.db, t.batch_id, "warn", "no_event_stream", NULL, NULL,
				    "the event stream is not available (%s); tracking by polling, "
				    "which costs the server more",
				    err->msg);
			say(&t, "warn", "no event stream (%s): tracking by polling", err->msg);
			polling = 1;
			continue;
		}
		/* reconnect from the index: at once after a connection that worked
		 * (the server ends the subscription of a reader that fell behind
		 * its buffer), after a growing pause when none could be made */
		if (!t.stream_data && !t.done && !stopping(&t)) {
			nap(&t, 500000000LL << (reconnects < 5 ? reconnects : 5));
			reconnects++;
		} else {
			reconnects = 0;
		}
		t.last_check = 0;
		if (periodic(&t, err) < 0)
			goto out;
	}
	ret = stopping(&t) && !t.done ? 1 : 0;
	if (ret == 0) {
		journal_add(t.db, t.batch_id, "info", "track_done", NULL, NULL,
			    "tracking finished: every job of the batch has finished");
		if (batch_set_state(t.db, t.batch_id, "done", err) < 0) {
			ret = -1;
			goto out;
		}
	}
out:
	if (log_worker_stop(&logs, ret < 0 ? &ignored : err) < 0 && ret >= 0)
		ret = -1;
	if (ret < 0 && t.db)
		journal_add(t.db, t.batch_id, "error", "track_error", NULL, NULL, "%s", err->msg);
	teardown(&t);
	return ret;
}
