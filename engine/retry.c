/* Retry: new attempts for items that did not succeed. The selection is a
 * query over item_outcome, so "failed" means the same thing here as in
 * every report. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "retry.h"
#include "util.h"

void retry_result_init(struct retry_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->lines, 64u << 20, "retry list");
}

void retry_result_release(struct retry_result *r)
{
	buf_release(&r->lines);
}

static int reset_item(struct aedb_db *db, int64_t item_id, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (db_prepare(db,
		       "UPDATE item SET state = 'pending', last_error = NULL, updated_at = ?2, "
		       "aoi_state = CASE aoi_state WHEN 'failed' THEN 'pending' ELSE aoi_state END, "
		       "aoi_error = CASE aoi_state WHEN 'failed' THEN NULL ELSE aoi_error END "
		       "WHERE id = ?1",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, item_id);
	sqlite3_bind_int64(st, 2, aedb_now_ns());
	ret = db_step_done(db, st, err);
	sqlite3_finalize(st);
	return ret;
}

/* One item: judge it, note it, and reset it unless dry_run. */
static int consider(struct aedb_db *db, sqlite3_stmt *q, int named, int dry_run,
		    struct retry_result *out, struct aedb_err *err)
{
	int64_t id = sqlite3_column_int64(q, 0);
	const char *name = (const char *)sqlite3_column_text(q, 1);
	const char *outcome = (const char *)sqlite3_column_text(q, 2);
	const char *reason = (const char *)sqlite3_column_text(q, 3);
	const char *state = (const char *)sqlite3_column_text(q, 4);

	if (strcmp(state, "pending") == 0 || strcmp(state, "dispatched") == 0) {
		if (named) {
			out->skipped++;
			buf_printf(&out->lines, NULL, "skip\t%s\tstill %s\n", name, state);
		}
		return 0;
	}
	if (!named && strcmp(outcome, "failed") != 0 && strcmp(outcome, "silent") != 0 &&
	    strcmp(outcome, "log_missing") != 0)
		return 0;
	out->selected++;
	buf_printf(&out->lines, NULL, "%s\t%s\t%s\n", name, outcome, reason ? reason : "");
	return dry_run ? 0 : reset_item(db, id, err);
}

int retry_items(struct aedb_db *db, int64_t batch_id, const struct item_list *list, int dry_run,
		struct retry_result *out, struct aedb_err *err)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	int ret = -1;

	if (!dry_run && db_begin(db, err) < 0)
		return -1;
	if (db_prepare(db,
		       "SELECT i.id, i.name, o.outcome, o.reason, i.state FROM item i "
		       "JOIN item_outcome o ON o.item_id = i.id "
		       "WHERE i.batch_id = ?1 AND (?2 IS NULL OR i.name = ?2) ORDER BY i.line",
		       &q, err) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, batch_id);
	if (!list) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			if (consider(db, q, 0, dry_run, out, err) < 0)
				goto out;
		}
	} else {
		for (i = 0; i < list->n; i++) {
			sqlite3_reset(q);
			sqlite3_bind_text(q, 2, list->items[i].name, -1, SQLITE_STATIC);
			if (sqlite3_step(q) != SQLITE_ROW) {
				out->skipped++;
				buf_printf(&out->lines, NULL, "skip\t%s\tnot in the batch\n",
					   list->items[i].name);
				continue;
			}
			if (consider(db, q, 1, dry_run, out, err) < 0)
				goto out;
		}
	}
	if (!dry_run) {
		if (out->selected &&
		    journal_add(db, batch_id, "info", "retry", NULL, err,
				"%lld items reset for another attempt", (long long)out->selected) < 0)
			goto out;
		if (db_commit(db, err) < 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(q);
	if (ret < 0 && !dry_run)
		db_rollback(db);
	return ret;
}
