/* `aedb retry BATCH`: another attempt for the items that failed (or for
 * the items of a list), keeping the history of earlier attempts, then
 * dispatching them with the batch's throttle like `aedb resume`. */
#include <stdio.h>
#include <string.h>

#include "batchrun.h"
#include "cmd.h"
#include "engine/batch.h"
#include "engine/retry.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_retry = {
	.name = "retry",
	.summary = "make new attempts for failed items and dispatch them",
	.usage = "aedb retry BATCH [--failed | --items F] [--dry-run] [--no-dispatch]\n"
		 "                  [run options of 'aedb resume'] [--db PATH]",
	.help = "Selects the batch's items whose outcome is failed, silent (no outcome line)\n"
		"or log_missing (the default, --failed), or the items listed in F (--items,\n"
		"one id per line, any finished or failed item of the batch), and makes them\n"
		"pending again: the next dispatch is attempt n+1 with its own job id, and\n"
		"every earlier attempt, job, allocation and log stays recorded. Then it\n"
		"dispatches them with the batch's stored parameters and throttle, exactly as\n"
		"'aedb resume' does, unless --no-dispatch (then 'aedb resume BATCH' later).\n"
		"\n"
		"Options:\n"
		"  --failed                    retry the failed items (default)\n"
		"  --items F                   retry the items listed in F\n"
		"  --dry-run                   list what would be retried; change nothing\n"
		"  --no-dispatch               reset the items, dispatch later with 'aedb resume'\n"
		RUNTIME_OPTIONS_HELP
		"\n"
		"Exit codes: as 'aedb submit'; with --dry-run or --no-dispatch 0.\n",
	.run = run,
};

enum { O_FAILED = 2000, O_ITEMS, O_DRY, O_NODISPATCH };

static const struct option options[] = {
	{ "failed", no_argument, NULL, O_FAILED },
	{ "items", required_argument, NULL, O_ITEMS },
	{ "dry-run", no_argument, NULL, O_DRY },
	{ "dry_run", no_argument, NULL, O_DRY },
	{ "no-dispatch", no_argument, NULL, O_NODISPATCH },
	{ "no_dispatch", no_argument, NULL, O_NODISPATCH },
	RUNTIME_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_retry;
	struct aedb_err err = AEDB_ERR_INIT;
	struct retry_result res;
	struct item_list list;
	struct run_opts ro;
	struct submit_config cfg;
	struct nomad_config ncfg;
	struct nomad *nomad = NULL;
	struct aedb_db *db = NULL;
	const char *items = NULL;
	cJSON *params = NULL;
	int64_t batch_id;
	int c, code = AEDB_EXIT_USAGE, failed = 0, dry = 0, nodispatch = 0, have_list = 0;

	run_opts_init(&ro);
	itemlist_init(&list);
	retry_result_init(&res);
	while ((c = cmd_getopt(cmd, argc, argv, "h", options, &code)) != -1) {
		if (c == CMD_OPT_EXIT)
			goto out;
		if (c == O_FAILED)
			failed = 1;
		else if (c == O_ITEMS)
			items = optarg;
		else if (c == O_DRY)
			dry = 1;
		else if (c == O_NODISPATCH)
			nodispatch = 1;
		else if (parse_runtime(cmd, c, optarg, &ro, &code) <= 0)
			goto out;
	}
	code = AEDB_EXIT_USAGE;
	if (argc - optind != 1) {
		code = cmd_usage_error(cmd, argc - optind ? "give one batch name" : "which batch?");
		goto out;
	}
	if (failed && items) {
		code = cmd_usage_error(cmd, "--failed and --items exclude each other");
		goto out;
	}
	if (items) {
		if (itemlist_read(items, NULL, &list, NULL, &err) < 0) {
			code = cmd_fail(cmd, &err);
			goto out;
		}
		have_list = 1;
	}
	if (db_open(cmd_db_path(ctx, ro.db), 0, &db, &err) < 0 ||
	    batch_load(db, argv[optind], &batch_id, &params, &err) < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	if (!dry && !nodispatch &&
	    (config_from_params(params, &ro, db->path, &cfg, &ncfg, &err) < 0 ||
	     aoi_config_check(&cfg.aoi, &err) < 0 || check_nomad(&ncfg, cfg.parent_job, &nomad, &err) < 0)) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	if (retry_items(db, batch_id, have_list ? &list : NULL, dry, &res, &err) < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	fputs(buf_str(&res.lines), stdout);
	printf("%lld items %s for another attempt%s\n", (long long)res.selected,
	       dry ? "would be reset" : "reset", res.skipped ? " (some skipped, see above)" : "");
	if (dry || nodispatch || res.selected == 0) {
		if (nodispatch && res.selected)
			printf("dispatch them with: aedb resume %s\n", argv[optind]);
		code = AEDB_EXIT_OK;
		goto out;
	}
	code = run_batch(cmd, db, nomad, &cfg, &ro);
out:
	nomad_close(nomad);
	db_close(db);
	cJSON_Delete(params);
	itemlist_release(&list);
	retry_result_release(&res);
	return code;
}
