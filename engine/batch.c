/* The batch's durable state. Parameters are compared as JSON objects so a
 * resubmission with other flags is refused with every difference named. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "batch.h"
#include "util.h"

static char *json_text(const cJSON *v)
{
	if (!v)
		return xstrdup("(unset)");
	if (cJSON_IsString(v))
		return xasprintf("'%s'", v->valuestring);
	return cJSON_PrintUnformatted(v);
}

/* Every key whose value differs between a and b, one per line. */
static void params_diff(const cJSON *stored, const cJSON *given, struct buf *out)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, stored) {
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(given, e->string);

		if (!g || !cJSON_Compare(e, g, 1)) {
			char *a = json_text(e), *b = json_text(g);

			buf_printf(out, NULL, "\n  %s: stored %s, given %s", e->string, a, b);
			free(a);
			free(b);
		}
	}
	cJSON_ArrayForEach(e, given) {
		if (!cJSON_GetObjectItemCaseSensitive(stored, e->string)) {
			char *b = json_text(e);

			buf_printf(out, NULL, "\n  %s: stored (unset), given %s", e->string, b);
			free(b);
		}
	}
}

int batch_load(struct aedb_db *db, const char *name, int64_t *batch_id, cJSON **params,
	       struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "SELECT id, params FROM batch WHERE name = ?", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return aedb_err_setk(err, AEDB_E_USAGE, "no batch named '%s' in database '%s'", name,
				     db->path);
	}
	if (rc != SQLITE_ROW) {
		db_err(db, err, "cannot read batch");
		sqlite3_finalize(st);
		return -1;
	}
	if (params) {
		*params = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
		if (!*params)
			*params = cJSON_CreateObject();
	}
	*batch_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int insert_items(struct aedb_db *db, int64_t batch_id, const struct item_list *items,
			int64_t now, int64_t *added, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	*added = 0;
	if (db_prepare(db,
		       "INSERT INTO item (batch_id, name, line, created_at, updated_at) "
		       "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (batch_id, name) DO NOTHING",
		       &st, err) < 0)
		return -1;
	for (i = 0; i < items->n; i++) {
		sqlite3_bind_int64(st, 1, batch_id);
		sqlite3_bind_text(st, 2, items->items[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, items->items[i].line);
		sqlite3_bind_int64(st, 4, now);
		if (db_step_done(db, st, err) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		*added += sqlite3_changes(db->conn);
	}
	sqlite3_finalize(st);
	return 0;
}

int batch_upsert(struct aedb_db *db, const char *name, const cJSON *params,
		 const struct item_list *items, int64_t *batch_id, int64_t *added,
		 struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *stored = NULL;
	char *text = NULL;
	int64_t id = 0, now = aedb_now_ns(), n = 0;
	int ret = -1;

	if (db_begin(db, err) < 0)
		return -1;
	if (batch_load(db, name, &id, &stored, err) == 0) {
		struct buf diff;

		buf_init(&diff, 1u << 16, "parameter differences");
		params_diff(stored, params, &diff);
		if (diff.len) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "batch '%s' exists with other parameters:%s\nuse the stored "
				      "ones with 'aedb resume %s', or choose a new batch name",
				      name, buf_str(&diff), name);
			buf_release(&diff);
			goto out;
		}
		buf_release(&diff);
	} else if (err->kind == AEDB_E_USAGE) {
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(params, "item_list");
		const cJSON *addr = cJSON_GetObjectItemCaseSensitive(params, "nomad_addr");
		const cJSON *ns = cJSON_GetObjectItemCaseSensitive(params, "nomad_namespace");
		const cJSON *job = cJSON_GetObjectItemCaseSensitive(params, "job");

		text = cJSON_PrintUnformatted(params);
		if (db_prepare(db,
			       "INSERT INTO batch (name, created_at, updated_at, params, item_list, "
			       "nomad_addr, namespace, parent_job) VALUES (?1, ?2, ?2, ?3, ?4, ?5, "
			       "coalesce(?6, 'default'), coalesce(?7, 'pipeline'))",
			       &st, err) < 0)
			goto out;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		db_bind_text(st, 4, cJSON_IsString(list) ? list->valuestring : NULL);
		db_bind_text(st, 5, cJSON_IsString(addr) ? addr->valuestring : NULL);
		db_bind_text(st, 6, cJSON_IsString(ns) ? ns->valuestring : NULL);
		db_bind_text(st, 7, cJSON_IsString(job) ? job->valuestring : NULL);
		if (db_step_done(db, st, err) < 0)
			goto out;
		id = sqlite3_last_insert_rowid(db->conn);
	} else {
		goto out;
	}
	if (insert_items(db, id, items, now, &n, err) < 0)
		goto out;
	if (db_commit(db, err) < 0)
		goto out;
	*batch_id = id;
	*added = n;
	ret = 0;
out:
	if (ret < 0)
		db_rollback(db);
	sqlite3_finalize(st);
	cJSON_Delete(stored);
	free(text);
	return ret;
}

int batch_set_state(struct aedb_db *db, int64_t batch_id, const char *state,
		    struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(db, "UPDATE batch SET state = ?1, updated_at = ?2 WHERE id = ?3", &st,
		       err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	sqlite3_bind_int64(st, 3, batch_id);
	ret = db_step_done(db, st, err);
	sqlite3_finalize(st);
	return ret;
}

static int pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int batch_lock_acquire(struct aedb_db *db, int64_t batch_id, const char *command, char **token,
		       struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t now = aedb_now_ns();
	char *tok = xasprintf("%s:%ld:%lld", aedb_hostname(), (long)getpid(), (long long)now);
	int rc, ret = -1;

	if (db_begin(db, err) < 0)
		goto out;
	if (db_prepare(db,
		       "SELECT pid, host, command, heartbeat_at FROM batch_owner WHERE batch_id = ?",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, batch_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long pid = (long)sqlite3_column_int64(st, 0);
		char *host = xstrdup((const char *)sqlite3_column_text(st, 1));
		char *cmd = xstrdup((const char *)sqlite3_column_text(st, 2));
		int64_t beat = sqlite3_column_int64(st, 3);
		int same_host = strcmp(host, aedb_hostname()) == 0;
		int stale = (same_host && !pid_alive(pid)) || now - beat > BATCH_LOCK_STALE_NS;

		if (same_host && pid == (long)getpid())
			stale = 1; /* our own earlier lock in this process */
		if (!stale) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "batch is being worked on by 'aedb %s' (pid %ld on host %s, "
				      "last heartbeat %llds ago); stop it first, or wait %llds after "
				      "it died",
				      cmd, pid, host, (long long)((now - beat) / 1000000000),
				      (long long)(BATCH_LOCK_STALE_NS / 1000000000));
			free(host);
			free(cmd);
			goto out;
		}
		sqlite3_finalize(st);
		st = NULL;
		journal_add(db, batch_id, "warn", "lock_takeover", NULL, NULL,
			    "took over the batch from 'aedb %s' (pid %ld on host %s, %s)", cmd, pid,
			    host, same_host && !pid_alive(pid) ? "process gone" : "no heartbeat");
		free(host);
		free(cmd);
	} else if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the batch lock");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (db_prepare(db,
		       "INSERT OR REPLACE INTO batch_owner (batch_id, pid, host, command, token, "
		       "acquired_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, batch_id);
	sqlite3_bind_int64(st, 2, (long)getpid());
	sqlite3_bind_text(st, 3, aedb_hostname(), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, tok, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (db_step_done(db, st, err) < 0 || db_commit(db, err) < 0)
		goto out;
	*token = tok;
	tok = NULL;
	ret = 0;
out:
	if (ret < 0)
		db_rollback(db);
	sqlite3_finalize(st);
	free(tok);
	return ret;
}

int batch_lock_heartbeat(struct aedb_db *db, int64_t batch_id, const char *token,
			 struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (db_prepare(db, "UPDATE batch_owner SET heartbeat_at = ?1 WHERE batch_id = ?2 AND token = ?3",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, aedb_now_ns());
	sqlite3_bind_int64(st, 2, batch_id);
	sqlite3_bind_text(st, 3, token, -1, SQLITE_STATIC);
	if (db_step_done(db, st, err) == 0) {
		if (sqlite3_changes(db->conn) == 1)
			ret = 0;
		else
			aedb_err_set(err, "another process took this batch over (its lock is gone); "
					  "stopping");
	}
	sqlite3_finalize(st);
	return ret;
}

void batch_lock_release(struct aedb_db *db, int64_t batch_id, const char *token)
{
	sqlite3_stmt *st = NULL;

	if (db_prepare(db, "DELETE FROM batch_owner WHERE batch_id = ?1 AND token = ?2", &st, NULL) < 0)
		return;
	sqlite3_bind_int64(st, 1, batch_id);
	sqlite3_bind_text(st, 2, token, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

int journal_add(struct aedb_db *db, int64_t batch_id, const char *level, const char *kind,
		const cJSON *data, struct aedb_err *err, const char *fmt, ...)
{
	sqlite3_stmt *st = NULL;
	char *msg, *text = data ? cJSON_PrintUnformatted(data) : NULL;
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(text);
		return aedb_err_set(err, "out of memory writing the journal");
	}
	if (db_prepare(db,
		       "INSERT INTO journal (batch_id, at, level, kind, message, data) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		       &st, err) < 0) {
		free(msg);
		free(text);
		return -1;
	}
	if (batch_id)
		sqlite3_bind_int64(st, 1, batch_id);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	sqlite3_bind_text(st, 3, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, msg, -1, SQLITE_STATIC);
	db_bind_text(st, 6, text);
	ret = db_step_done(db, st, err);
	sqlite3_finalize(st);
	free(msg);
	free(text);
	return ret;
}
