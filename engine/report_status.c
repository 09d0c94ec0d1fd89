/* `aedb status`: where each batch stands, as one JSON document that the
 * command prints as text or as is. Every number comes from one read
 * transaction, so the counts agree with each other even while a submitter
 * writes (WAL readers see a snapshot). */
#include <string.h>

#include "report.h"
#include "sqlfile.h"
#include "util.h"

static const char *sqlfile(const char *name)
{
	size_t i;

	for (i = 0; i < aedb_sqlfiles_count; i++) {
		if (strcmp(aedb_sqlfiles[i].name, name) == 0)
			return aedb_sqlfiles[i].text;
	}
	return NULL;
}

/* rows of (key, count) into an object */
static int counts(struct aedb_db *db, const char *sql, int64_t batch_id, cJSON *obj,
		  struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, sql, &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, batch_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cJSON_AddNumberToObject(obj, (const char *)sqlite3_column_text(st, 0),
					(double)sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot count");
	return 0;
}

static int journal(struct aedb_db *db, int64_t batch_id, int n, cJSON *arr, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db,
		       "SELECT at, level, kind, message FROM (SELECT id, at, level, kind, message "
		       "FROM journal WHERE batch_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2) "
		       "ORDER BY at, id",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, batch_id);
	sqlite3_bind_int(st, 2, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		char when[64];

		aedb_format_time(sqlite3_column_int64(st, 0), when, sizeof(when));
		cJSON_AddStringToObject(e, "at", when);
		cJSON_AddStringToObject(e, "level", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(e, "kind", (const char *)sqlite3_column_text(st, 2));
		cJSON_AddStringToObject(e, "message", (const char *)sqlite3_column_text(st, 3));
		cJSON_AddItemToArray(arr, e);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the journal");
	return 0;
}

int report_status(struct aedb_db *db, const char *name, int journal_n, cJSON **out,
		  struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = cJSON_CreateArray();
	int64_t batch_id = 0;
	int rc, ret = -1;

	if (name && report_batch_id(db, name, &batch_id, err) < 0)
		goto out;
	if (db_exec(db, "BEGIN", err) < 0)
		goto out;
	if (db_prepare(db, sqlfile("_status.sql"), &st, err) < 0)
		goto out;
	if (name)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":batch"), batch_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *b = cJSON_CreateObject(), *states, *outcomes, *j;
		int64_t id = sqlite3_column_int64(st, 0);
		const char *state = (const char *)sqlite3_column_text(st, 2);
		char when[64];

		cJSON_AddItemToArray(arr, b);
		cJSON_AddStringToObject(b, "batch", (const char *)sqlite3_column_text(st, 1));
		cJSON_AddStringToObject(b, "state", state);
		cJSON_AddStringToObject(b, "dispatching",
					strcmp(state, "paused") == 0       ? "paused"
					: strcmp(state, "submitting") == 0 ? "running"
									   : "no");
		aedb_format_time(sqlite3_column_int64(st, 3), when, sizeof(when));
		cJSON_AddStringToObject(b, "created_at", when);
		aedb_format_time(sqlite3_column_int64(st, 4), when, sizeof(when));
		cJSON_AddStringToObject(b, "updated_at", when);
		cJSON_AddNumberToObject(b, "items", (double)sqlite3_column_int64(st, 5));
		cJSON_AddNumberToObject(b, "active_pipelines", (double)sqlite3_column_int64(st, 6));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			cJSON_AddStringToObject(b, "owner", (const char *)sqlite3_column_text(st, 7));
		else
			cJSON_AddNullToObject(b, "owner");
		states = cJSON_AddObjectToObject(b, "item_states");
		outcomes = cJSON_AddObjectToObject(b, "outcomes");
		j = cJSON_AddArrayToObject(b, "journal");
		if (counts(db, "SELECT state, count(*) FROM item WHERE batch_id = ?1 GROUP BY state "
			       "ORDER BY state", id, states, err) < 0 ||
		    counts(db, "SELECT outcome, count(*) FROM item_class WHERE batch_id = ?1 "
			       "GROUP BY outcome ORDER BY outcome", id, outcomes, err) < 0 ||
		    journal(db, id, journal_n, j, err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the batches");
		goto out;
	}
	*out = arr;
	arr = NULL;
	ret = 0;
out:
	sqlite3_finalize(st);
	db_rollback(db);
	cJSON_Delete(arr);
	return ret;
}
