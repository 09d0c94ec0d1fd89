/* `aedb import-logs`: read an upstream local-logs/<batch> tree into the
 * database so the batch can be reported like one aedb ran. */
#include <stdio.h>

#include "cmd.h"
#include "engine/db.h"
#include "engine/report.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_import_logs = {
	.name = "import-logs",
	.summary = "import an upstream local-logs/<batch> tree for reporting",
	.usage = "aedb import-logs --batch B --run_list F --log_dir DIR [--db PATH]",
	.help = "Reads the log folder of one batch as the upstream poststop task writes it:\n"
		"  DIR/<parent job>/dispatch-[batch_name=B,aoi_name=I,...]-<unix s>-<hex>/\n"
		"      <task>.stderr.N, <task>.stdout.N, run_metadata.txt\n"
		"Creates the batch (state done) and the run list's items when missing, one job\n"
		"per dispatch folder with the tags of its id, an attempt per pipeline job (in\n"
		"dispatch time order), a log pointer per file (source 'imported'), and\n"
		"classifies the stderr files with the enabled rules. One transaction; importing\n"
		"the same tree again adds nothing. Then 'aedb report B --out D --compat' gives\n"
		"the lists local_reports.py gives.\n"
		"\n"
		"Options:\n"
		"  --batch B      the batch name (created if the database does not have it)\n"
		"  --run_list F   the item list the batch was submitted with (one AOI a line)\n"
		"  --log_dir DIR  the batch's log folder (local-logs/<batch>)\n"
		"  --db PATH      database file (default: $AEDB_DB, else ./aedb.db; created)\n",
	.run = run,
};

static const struct option options[] = {
	{ "batch", required_argument, NULL, 'b' },
	{ "run_list", required_argument, NULL, 'r' },
	{ "log_dir", required_argument, NULL, 'l' },
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	struct report_import_stats st;
	const char *db_flag = NULL, *batch = NULL, *run_list = NULL, *log_dir = NULL;
	int c, code = 0;

	while ((c = cmd_getopt(&cmd_import_logs, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'b':
			batch = optarg;
			break;
		case 'r':
			run_list = optarg;
			break;
		case 'l':
			log_dir = optarg;
			break;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_import_logs, "unexpected option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_import_logs, "unexpected argument '%s'", argv[optind]);
	if (!batch || !*batch)
		return cmd_usage_error(&cmd_import_logs, "--batch B is required");
	if (!run_list || !*run_list)
		return cmd_usage_error(&cmd_import_logs, "--run_list F is required");
	if (!log_dir || !*log_dir)
		return cmd_usage_error(&cmd_import_logs, "--log_dir DIR is required");
	if (db_open(cmd_db_path(ctx, db_flag), DB_OPEN_CREATE, &db, &err) < 0 ||
	    report_import_logs(db, batch, run_list, log_dir, &st, &err) < 0) {
		db_close(db);
		return cmd_fail(&cmd_import_logs, &err);
	}
	db_close(db);
	printf("imported batch '%s': %lld items (%lld new), %lld jobs, %lld log files, %lld findings",
	       batch, (long long)st.items, (long long)st.new_items, (long long)st.jobs,
	       (long long)st.logs, (long long)st.findings);
	if (st.skipped)
		printf("; %lld entries skipped (not the upstream layout)", (long long)st.skipped);
	printf("\n");
	return AEDB_EXIT_OK;
}
