/* `aedb track BATCH`: follow a batch's jobs until every one has finished,
 * for a batch whose submitter was stopped or ran with --no-track. It takes
 * the batch's lock, resumes from the stored cursor, and records the same
 * facts the tracker thread of `aedb submit` records. */
#include <stdio.h>
#include <string.h>

#include "batchrun.h"
#include "cmd.h"
#include "engine/batch.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_track = {
	.name = "track",
	.summary = "follow a batch's jobs, allocations and logs until all have finished",
	.usage = "aedb track BATCH [--log_dir D] [--log_source capture|cloudwatch]\n"
		 "                  [--placement_timeout S] [--track_mode auto|events|poll]\n"
		 "                  [--nomad_token T] [--quiet] [--log-format text|json] [--db PATH]",
	.help = "Follows the pipeline jobs of the batch and the stage jobs they dispatch\n"
		"(hand_inundator, fim_mosaicker, agreement_maker), tied to items by the tags\n"
		"in their ids; records every allocation, state change and task event, and\n"
		"captures the stderr and stdout of each finished allocation before Nomad\n"
		"collects them. Resumes where the last tracker of the batch stopped and\n"
		"ends when every dispatched job has finished (or is stuck: never placed\n"
		"within the placement timeout). Items not dispatched yet are left for\n"
		"'aedb resume'.\n"
		"\n"
		"Options:\n" RUNTIME_OPTIONS_HELP
		"\n"
		"Exit codes: 0 every job finished and no item failed; 3 every job finished,\n"
		"some items failed ('aedb report' says which and why); 130 interrupted (run\n"
		"it again to continue); 1 runtime failure; 2 usage error.\n",
	.run = run,
};

static const struct option options[] = {
	RUNTIME_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_track;
	struct aedb_err err = AEDB_ERR_INIT;
	struct tracker_config tc;
	struct nomad_config ncfg;
	struct out_state o;
	struct run_opts ro;
	struct aedb_db *db = NULL;
	cJSON *params = NULL;
	int64_t batch_id;
	int c, code = AEDB_EXIT_USAGE, rc;

	run_opts_init(&ro);
	while ((c = cmd_getopt(cmd, argc, argv, "h", options, &code)) != -1) {
		int r;

		if (c == CMD_OPT_EXIT)
			return code;
		r = parse_runtime(cmd, c, optarg, &ro, &code);
		if (r < 0)
			return code;
		if (r == 0 || c == O_JOBS || c == O_NOTRACK)
			return cmd_usage_error(cmd, "option '%s' does not apply to track", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind ? "give one batch name" : "which batch?");
	if (db_open(cmd_db_path(ctx, ro.db), 0, &db, &err) < 0 ||
	    batch_load(db, argv[optind], &batch_id, &params, &err) < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	memset(&ncfg, 0, sizeof(ncfg));
	cmd_nomad_from_batch(params, &ncfg);
	ncfg.token = ro.token;
	nomad_config_from_env(&ncfg);
	ncfg.http.abort_flag = install_stop_handlers();
	tracker_config_from_opts(&ro, db->path, argv[optind], &ncfg, &tc);
	tc.hold_lock = 1;
	out_init(&o, &ro, argv[optind]);
	o.tracker_line = 1;
	tc.report = report_tracker;
	tc.report_ctx = &o;
	ro.gc.say_ctx = NULL;
	if (ro.gc.threshold &&
	    gc_opts_start(&ro.gc, &ncfg, db->path, batch_id, ncfg.http.abort_flag, &err) < 0) {
		pthread_mutex_destroy(&o.lock);
		code = cmd_fail(cmd, &err);
		goto out;
	}
	rc = tracker_run(&tc, &err);
	gc_opts_stop(&ro.gc);
	out_clear(&o);
	if (rc < 0) {
		code = cmd_fail(cmd, &err);
	} else if (rc > 0) {
		fprintf(stderr, "interrupted; everything so far is committed. Continue with:\n"
				"  aedb track %s\n", argv[optind]);
		code = AEDB_EXIT_INTERRUPTED;
	} else {
		sqlite3_stmt *st = NULL;
		int64_t failed = 0;

		if (db_prepare(db,
			       "SELECT count(*) FROM item_outcome WHERE batch_id = ? AND outcome IN "
			       "('failed', 'silent', 'log_missing')",
			       &st, &err) == 0) {
			sqlite3_bind_int64(st, 1, batch_id);
			if (sqlite3_step(st) == SQLITE_ROW)
				failed = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		printf("batch '%s': every job has finished; %lld items failed\n", argv[optind],
		       (long long)failed);
		code = failed ? AEDB_EXIT_ITEMS_FAILED : AEDB_EXIT_OK;
	}
	pthread_mutex_destroy(&o.lock);
out:
	db_close(db);
	cJSON_Delete(params);
	return code;
}
