/* Reports are SQL: the named reports of sql/reports/ written as CSV, the
 * operators' AOI lists and message files, read-only ad hoc queries
 * (`aedb sql`), the status of batches, and importing an upstream log tree.
 * Nothing here prints: results go to files or to a stream the caller
 * passes. docs/reports.md describes every output. */
#ifndef AEDB_REPORT_H
#define AEDB_REPORT_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "err.h"

/* Look a batch up by name (kind usage when it does not exist). */
int report_batch_id(struct aedb_db *db, const char *name, int64_t *id, struct aedb_err *err);

/* The upstream summary block's numbers. */
struct report_summary {
	int64_t input;      /* AOIs in the run list (the batch's items) */
	int64_t success;    /* unique_success_aoi_names.txt */
	int64_t failed;     /* unique_fail_aoi_names.txt */
	int64_t total;      /* success + failed */
	int64_t missing;    /* lines of missing_aois.txt, when written */
	int files;          /* files written */
};

/* Write every named report as <out_dir>/NAME.csv (RFC 4180, header row,
 * CRLF, UTF-8), the operators' lists (one AOI a line, sorted by code
 * point) and, when non-empty, the JSON message files. compat: the
 * upstream set logic exactly; otherwise the item_outcome view decides
 * (docs/reports.md, "--compat and the default"). out_dir is created if
 * missing; files are replaced. */
int report_write(struct aedb_db *db, int64_t batch_id, const char *out_dir, int compat,
		 struct report_summary *sum, struct aedb_err *err);

/* Run one query (binding :batch to batch_id when it has that parameter)
 * and write the result as CSV with a header row to out. */
int report_csv(struct aedb_db *db, const char *sql, int64_t batch_id, FILE *out,
	       struct aedb_err *err);

/* The same for a prepared statement (stepped to the end; not finalized). */
int report_csv_stmt(struct aedb_db *db, sqlite3_stmt *st, FILE *out, struct aedb_err *err);

/* --- aedb sql --- */

enum report_fmt { REPORT_FMT_TABLE, REPORT_FMT_CSV, REPORT_FMT_JSON };

/* Run the user's one statement on a read-only connection and write the
 * rows to out. Statements that would change anything (writes, DDL,
 * ATTACH/DETACH, PRAGMAs that set a value) are refused with kind usage
 * before they run, and so is more than one statement. */
int report_sql_run(struct aedb_db *db, const char *sql, enum report_fmt fmt, FILE *out,
		   struct aedb_err *err);
/* List the views and their columns (what to query) to out. */
int report_sql_describe(struct aedb_db *db, FILE *out, struct aedb_err *err);

/* --- aedb status --- */

/* The status of one batch (by name) or of every batch (name NULL) as a
 * JSON array of objects: name, state, owner, items, item states,
 * outcomes, active pipelines and the last `journal_n` journal entries.
 * *out is the caller's (cJSON_Delete). */
int report_status(struct aedb_db *db, const char *name, int journal_n, cJSON **out,
		  struct aedb_err *err);

/* --- aedb import-logs --- */

struct report_import_stats {
	int64_t items;     /* items in the run list */
	int64_t new_items; /* of which were not in the database yet */
	int64_t jobs;      /* job folders read */
	int64_t logs;      /* log files recorded */
	int64_t findings;  /* findings made */
	int64_t skipped;   /* entries that are not the upstream layout */
};

/* Read an upstream local-logs/<batch> tree (log_dir is that folder):
 * <parent>/dispatch-[tags]-<unix s>-<hex>/<task>.stderr.N and .stdout.N.
 * Creates the batch (state done) and the run list's items when missing,
 * one job per dispatch folder with the tags of its id, an attempt per
 * pipeline job, a log pointer (source 'imported') per file, and classifies
 * the stderr files. One transaction; importing the same tree again adds
 * nothing. */
int report_import_logs(struct aedb_db *db, const char *batch, const char *run_list,
		       const char *log_dir, struct report_import_stats *st, struct aedb_err *err);

#endif
