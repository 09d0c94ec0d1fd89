/* `aedb sql`: the user's own query on a read-only connection. The
 * connection is opened read-only (query_only) by db.c; on top of that an
 * authorizer refuses, before anything runs, every statement that would
 * change the file or reach another one (writes, DDL, ATTACH/DETACH,
 * PRAGMAs that set a value such as writable_schema), so the user gets a
 * clear message rather than SQLite's "attempt to write a readonly
 * database". This is the only place aedb runs SQL it did not write. */
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "buf.h"
#include "report.h"
#include "util.h"

/* PRAGMAs that only read, allowed with an argument (a table name). */
static const char *const read_pragmas[] = {
	"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
	"foreign_key_check", "integrity_check", "quick_check", NULL,
};

struct authz {
	char why[256];
};

static int authorizer(void *ctx, int action, const char *a1, const char *a2, const char *db,
		      const char *trigger)
{
	struct authz *z = ctx;
	size_t i;

	(void)db;
	(void)trigger;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_FUNCTION:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		if (!a2)
			return SQLITE_OK; /* reading a setting */
		for (i = 0; read_pragmas[i]; i++) {
			if (strcasecmp(a1, read_pragmas[i]) == 0)
				return SQLITE_OK;
		}
		snprintf(z->why, sizeof(z->why), "PRAGMA %s = %s would change the database", a1, a2);
		return SQLITE_DENY;
	case SQLITE_ATTACH:
		snprintf(z->why, sizeof(z->why), "ATTACH is not allowed: aedb sql reads only this database");
		return SQLITE_DENY;
	case SQLITE_DETACH:
		snprintf(z->why, sizeof(z->why), "DETACH is not allowed");
		return SQLITE_DENY;
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		snprintf(z->why, sizeof(z->why), "transactions are not needed: each query runs on its own");
		return SQLITE_DENY;
	default:
		snprintf(z->why, sizeof(z->why),
			 "this statement would change the database (action %d%s%s)", action,
			 a1 ? " on " : "", a1 ? a1 : "");
		return SQLITE_DENY;
	}
}

static int only_space(const char *s)
{
	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
		} else if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
		} else if (s[0] == ';') {
			s++;
		} else {
			return 0;
		}
	}
	return 1;
}

static void json_text(struct buf *b, const char *s)
{
	cJSON *j = cJSON_CreateString(s);
	char *t = cJSON_PrintUnformatted(j);

	buf_puts(b, t, NULL);
	free(t);
	cJSON_Delete(j);
}

static int rows_json(struct aedb_db *db, sqlite3_stmt *st, FILE *out, struct aedb_err *err)
{
	int n = sqlite3_column_count(st), i, rc, first = 1;
	struct buf b;

	buf_init(&b, (size_t)-1, "JSON row");
	fputc('[', out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		buf_reset(&b);
		buf_puts(&b, first ? "\n  {" : ",\n  {", NULL);
		first = 0;
		for (i = 0; i < n; i++) {
			if (i)
				buf_puts(&b, ", ", NULL);
			json_text(&b, sqlite3_column_name(st, i));
			buf_puts(&b, ": ", NULL);
			switch (sqlite3_column_type(st, i)) {
			case SQLITE_NULL:
				buf_puts(&b, "null", NULL);
				break;
			case SQLITE_INTEGER:
				buf_printf(&b, NULL, "%lld", (long long)sqlite3_column_int64(st, i));
				break;
			case SQLITE_FLOAT:
				buf_printf(&b, NULL, "%.17g", sqlite3_column_double(st, i));
				break;
			default:
				json_text(&b, (const char *)sqlite3_column_text(st, i));
			}
		}
		buf_puts(&b, "}", NULL);
		fputs(buf_str(&b), out);
	}
	fputs(first ? "]\n" : "\n]\n", out);
	buf_release(&b);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "query failed");
	return 0;
}

/* A table for people: columns padded to the widest cell (cells over 60
 * characters are shown whole; the table just gets wide). */
static int rows_table(struct aedb_db *db, sqlite3_stmt *st, FILE *out, struct aedb_err *err)
{
	int n = sqlite3_column_count(st), i, rc;
	char **cells = NULL;
	size_t rows = 0, alloc = 0, r, *w = xcalloc((size_t)n + 1, sizeof(*w));

	for (i = 0; i < n; i++)
		w[i] = strlen(sqlite3_column_name(st, i));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (rows == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			cells = xrealloc(cells, alloc * (size_t)n * sizeof(*cells));
		}
		for (i = 0; i < n; i++) {
			const char *t = (const char *)sqlite3_column_text(st, i);
			char *c = xstrdup(t ? t : "NULL");

			cells[rows * (size_t)n + (size_t)i] = c;
			if (strlen(c) > w[i])
				w[i] = strlen(c);
		}
		rows++;
	}
	if (rc == SQLITE_DONE) {
		for (i = 0; i < n; i++)
			fprintf(out, "%s%-*s", i ? "  " : "", (int)w[i], sqlite3_column_name(st, i));
		fputc('\n', out);
		for (i = 0; i < n; i++) {
			size_t k;

			fputs(i ? "  " : "", out);
			for (k = 0; k < w[i]; k++)
				fputc('-', out);
		}
		fputc('\n', out);
		for (r = 0; r < rows; r++) {
			for (i = 0; i < n; i++)
				fprintf(out, "%s%-*s", i ? "  " : "", i == n - 1 ? 0 : (int)w[i],
					cells[r * (size_t)n + (size_t)i]);
			fputc('\n', out);
		}
		fprintf(out, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
	}
	for (r = 0; r < rows * (size_t)n; r++)
		free(cells[r]);
	free(cells);
	free(w);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "query failed");
	return 0;
}

int report_sql_run(struct aedb_db *db, const char *sql, enum report_fmt fmt, FILE *out,
		   struct aedb_err *err)
{
	struct authz z = { { 0 } };
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc, ret = -1;

	if (only_space(sql))
		return aedb_err_setk(err, AEDB_E_USAGE, "the query is empty");
	sqlite3_set_authorizer(db->conn, authorizer, &z);
	rc = sqlite3_prepare_v2(db->conn, sql, -1, &st, &tail);
	sqlite3_set_authorizer(db->conn, NULL, NULL);
	if (rc != SQLITE_OK) {
		if (z.why[0])
			aedb_err_setk(err, AEDB_E_USAGE, "refused: %s; aedb sql only reads", z.why);
		else
			aedb_err_setk(err, AEDB_E_USAGE, "%s", sqlite3_errmsg(db->conn));
		goto out;
	}
	if (!st) {
		aedb_err_setk(err, AEDB_E_USAGE, "the query is empty");
		goto out;
	}
	if (tail && !only_space(tail)) {
		aedb_err_setk(err, AEDB_E_USAGE, "give one statement at a time (more text follows the first ';')");
		goto out;
	}
	if (!sqlite3_stmt_readonly(st)) {
		aedb_err_setk(err, AEDB_E_USAGE, "refused: the statement would change the database; "
						 "aedb sql only reads");
		goto out;
	}
	if (fmt == REPORT_FMT_CSV)
		ret = report_csv_stmt(db, st, out, err);
	else if (fmt == REPORT_FMT_JSON)
		ret = rows_json(db, st, out, err);
	else
		ret = rows_table(db, st, out, err);
out:
	sqlite3_finalize(st);
	return ret;
}

int report_sql_describe(struct aedb_db *db, FILE *out, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;
	char *last = NULL;

	if (db_prepare(db,
		       "SELECT v.name, c.name, coalesce(nullif(c.type, ''), '') FROM sqlite_schema v "
		       "JOIN pragma_table_info(v.name) c WHERE v.type = 'view' ORDER BY v.name, c.cid",
		       &st, err) < 0)
		return -1;
	fputs("Views (query them with: aedb sql \"SELECT ... FROM VIEW WHERE batch = '...'\"):\n", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (!last || strcmp(last, v) != 0) {
			fprintf(out, "%s\n  %s", last ? "\n" : "\n", v);
			free(last);
			last = xstrdup(v);
			fputs(":", out);
		}
		fprintf(out, " %s", (const char *)sqlite3_column_text(st, 1));
	}
	fputs("\n\nTables: batch, item, attempt, job, alloc, alloc_change, task_event, log, rule,\n"
	      "finding, journal (docs/schema.md). Times are Unix nanoseconds.\n", out);
	free(last);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot list the views");
	return 0;
}
