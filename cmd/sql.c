/* `aedb sql`: ad hoc read-only queries over the database and its views. */
#include <stdio.h>

#include "cmd.h"
#include "engine/db.h"
#include "engine/report.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_sql = {
	.name = "sql",
	.summary = "run a read-only SQL query; without one, list the views",
	.usage = "aedb sql [--table|--csv|--json] [--db PATH] [\"SELECT ...\"]",
	.help = "Runs one SQL statement on a read-only connection and prints its rows. Anything\n"
		"that would change the database is refused before it runs, with a message:\n"
		"INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, ATTACH, DETACH, transactions and\n"
		"PRAGMAs that set a value (PRAGMA writable_schema = ON, ...). The file is left\n"
		"exactly as it was. Without a query, lists the views and their columns.\n"
		"\n"
		"Examples:\n"
		"  aedb sql \"SELECT outcome, count(*) FROM item_outcome WHERE batch = 'b1' GROUP BY 1\"\n"
		"  aedb sql --csv \"SELECT * FROM item_outcome WHERE outcome = 'failed'\" > failed.csv\n"
		"\n"
		"Options:\n"
		"  --table     aligned columns (the default)\n"
		"  --csv       RFC 4180 CSV with a header row\n"
		"  --json      a JSON array of objects\n"
		"  --db PATH   database file (default: $AEDB_DB, else ./aedb.db)\n",
	.run = run,
};

static const struct option options[] = {
	{ "table", no_argument, NULL, 't' },
	{ "csv", no_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	enum report_fmt fmt = REPORT_FMT_TABLE;
	const char *db_flag = NULL;
	int c, code = 0, nfmt = 0, rc;

	while ((c = cmd_getopt(&cmd_sql, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 't':
			fmt = REPORT_FMT_TABLE;
			nfmt++;
			break;
		case 'c':
			fmt = REPORT_FMT_CSV;
			nfmt++;
			break;
		case 'j':
			fmt = REPORT_FMT_JSON;
			nfmt++;
			break;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_sql, "unexpected option");
		}
	}
	if (nfmt > 1)
		return cmd_usage_error(&cmd_sql, "give one of --table, --csv, --json");
	if (optind + 1 < argc)
		return cmd_usage_error(&cmd_sql, "give the query as one argument (quote it)");
	if (db_open(cmd_db_path(ctx, db_flag), DB_OPEN_READONLY, &db, &err) < 0)
		return cmd_fail(&cmd_sql, &err);
	if (optind < argc)
		rc = report_sql_run(db, argv[optind], fmt, stdout, &err);
	else
		rc = report_sql_describe(db, stdout, &err);
	db_close(db);
	if (rc < 0)
		return cmd_fail(&cmd_sql, &err);
	return AEDB_EXIT_OK;
}
