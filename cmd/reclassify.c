/* `aedb reclassify`: apply the current rules again to a batch's captured
 * and imported logs (after rules were added, changed or disabled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/classify.h"
#include "engine/db.h"
#include "engine/report.h"
#include "engine/util.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_reclassify = {
	.name = "reclassify",
	.summary = "apply the classification rules again to a batch's logs",
	.usage = "aedb reclassify BATCH [--log_dir DIR] [--db PATH]",
	.help = "Reads every captured or imported log of the batch again and replaces its\n"
		"findings with what the enabled rules of the `rule` table find now, all in one\n"
		"transaction (readers see the old findings or the new ones, never a mix).\n"
		"Add or disable rules with SQL first, e.g.\n"
		"  sqlite3 aedb.db \"UPDATE rule SET enabled = 0 WHERE name = 'pipeline.job_error.oom'\"\n"
		"A log whose file is gone keeps its findings and is counted as missing.\n"
		"\n"
		"Options:\n"
		"  --log_dir DIR  where captured logs live (default: the folder 'logs' next to\n"
		"                 the database, as aedb submit uses); imported logs are read\n"
		"                 where they were imported from\n"
		"  --db PATH      database file (default: $AEDB_DB, else ./aedb.db)\n",
	.run = run,
};

static const struct option options[] = {
	{ "log_dir", required_argument, NULL, 'l' },
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	struct classifier *cl = NULL;
	const char *db_flag = NULL, *log_dir = NULL, *path;
	char *default_dir = NULL;
	int c, code = 0;
	int64_t batch_id;

	while ((c = cmd_getopt(&cmd_reclassify, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'l':
			log_dir = optarg;
			break;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_reclassify, "unexpected option");
		}
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_reclassify, "no batch given");
	if (optind + 1 < argc)
		return cmd_usage_error(&cmd_reclassify, "unexpected argument '%s'", argv[optind + 1]);
	path = cmd_db_path(ctx, db_flag);
	if (!log_dir) {
		const char *slash = strrchr(path, '/');

		default_dir = slash ? xasprintf("%.*s/logs", (int)(slash - path), path) : xstrdup("logs");
		log_dir = default_dir;
	}
	if (db_open(path, 0, &db, &err) < 0 || report_batch_id(db, argv[optind], &batch_id, &err) < 0 ||
	    classify_open(db, &cl, &err) < 0 ||
	    classify_reclassify_batch(cl, batch_id, log_dir, &err) < 0) {
		classify_free(cl);
		db_close(db);
		free(default_dir);
		return cmd_fail(&cmd_reclassify, &err);
	}
	printf("reclassified %lld logs of batch '%s': %lld lines, %lld findings",
	       (long long)classify_stats(cl)->logs, argv[optind], (long long)classify_stats(cl)->lines,
	       (long long)classify_stats(cl)->findings);
	if (classify_stats(cl)->missing)
		printf("; %lld log files are gone (their findings were kept)",
		       (long long)classify_stats(cl)->missing);
	printf("\n");
	classify_free(cl);
	db_close(db);
	free(default_dir);
	return AEDB_EXIT_OK;
}
