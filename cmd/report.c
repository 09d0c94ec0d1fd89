/* `aedb report`: write a batch's named reports (CSV) and the operators'
 * files into a folder, and print the upstream summary block. */
#include <stdio.h>

#include "cmd.h"
#include "engine/db.h"
#include "engine/report.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_report = {
	.name = "report",
	.summary = "write a batch's reports and the operators' AOI lists",
	.usage = "aedb report BATCH --out DIR [--compat] [--db PATH]",
	.help = "Writes into DIR (created if missing; files are replaced):\n"
		"  - every named report as NAME.csv (RFC 4180, header row, UTF-8):\n"
		"    item_outcomes, failures_by_stage, top_errors, stage_runtimes, timeline,\n"
		"    retry_list (docs/reports.md describes their columns);\n"
		"  - the operators' lists, one AOI a line, sorted: unique_success_aoi_names.txt,\n"
		"    unique_fail_aoi_names.txt, silent_failures.txt, sorted-run-list.txt,\n"
		"    success_aois.txt, failed_aois.txt, early_exit_aois.txt, job_errors_aois.txt,\n"
		"    agr_mos_errors_aois.txt, inundate_errors_aois.txt, ignorable_errors_aois.txt,\n"
		"    and missing_aois.txt only when the counts disagree;\n"
		"  - job_errors.json, agr_mos_errors.json, inundate_errors.json and\n"
		"    ignorable_errors.json (aoi, job, task, file, message) only when non-empty.\n"
		"Then prints the upstream summary block (input, successful, failed, total).\n"
		"\n"
		"By default each item's outcome comes from the item_outcome view: its latest\n"
		"attempt, Nomad's verdicts (OOM, exit codes, lost) before log text, an\n"
		"ignorable message never turning a failure into a success, and a missing log\n"
		"listed in log_missing_aois.txt rather than as a silent failure.\n"
		"\n"
		"Options:\n"
		"  --out DIR   the report folder (required)\n"
		"  --compat    the upstream set logic of local_reports.py exactly, including its\n"
		"              rule that moves AOIs with an ignorable message to success\n"
		"  --db PATH   database file (default: $AEDB_DB, else ./aedb.db)\n",
	.run = run,
};

static const struct option options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "compat", no_argument, NULL, 'c' },
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	struct report_summary sum;
	const char *db_flag = NULL, *out = NULL, *batch;
	int c, code = 0, compat = 0;
	int64_t batch_id;

	while ((c = cmd_getopt(&cmd_report, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'o':
			out = optarg;
			break;
		case 'c':
			compat = 1;
			break;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_report, "unexpected option");
		}
	}
	if (optind >= argc)
		return cmd_usage_error(&cmd_report, "no batch given");
	batch = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(&cmd_report, "unexpected argument '%s'", argv[optind]);
	if (!out || !*out)
		return cmd_usage_error(&cmd_report, "--out DIR is required");

	if (db_open(cmd_db_path(ctx, db_flag), DB_OPEN_READONLY, &db, &err) < 0)
		return cmd_fail(&cmd_report, &err);
	if (report_batch_id(db, batch, &batch_id, &err) < 0 ||
	    report_write(db, batch_id, out, compat, &sum, &err) < 0) {
		db_close(db);
		return cmd_fail(&cmd_report, &err);
	}
	db_close(db);
	printf("\n========== SUMMARY ==========\n");
	printf("Batch:           %s%s\n", batch, compat ? " (--compat: upstream set logic)" : "");
	printf("Input AOIs:      %lld\n", (long long)sum.input);
	printf("Successful AOIs: %lld\n", (long long)sum.success);
	printf("Failed AOIs:     %lld\n", (long long)sum.failed);
	printf("Total processed: %lld\n\n", (long long)sum.total);
	if (sum.input != sum.total) {
		printf("WARNING: Input count (%lld) does not match output count (%lld)!\n",
		       (long long)sum.input, (long long)sum.total);
		printf("Missing AOIs: %lld\n", (long long)sum.missing);
	} else {
		printf("All AOIs accounted for!\n");
	}
	printf("\n%d files written to '%s'\n", sum.files, out);
	return AEDB_EXIT_OK;
}
