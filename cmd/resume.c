/* `aedb resume BATCH`: continue a batch with the parameters `aedb submit`
 * stored, through the same code path (cmd/submit.c). */
#include <stdio.h>

#include "cmd.h"
#include "engine/batch.h"
#include "batchrun.h"

static int run_resume(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_resume = {
	.name = "resume",
	.summary = "continue a batch with its stored parameters",
	.usage = "aedb resume BATCH [--nomad_token T] [--jobs N] [--no-track] [--quiet]\n"
		 "                   [--log-format text|json] [--db PATH]",
	.help = "Continues the batch where it stopped: attempts whose dispatch was in flight\n"
		"are looked up on Nomad and adopted, or dispatched when Nomad has nothing;\n"
		"prepared AOIs are not prepared again. The parameters are those stored by\n"
		"'aedb submit'.\n"
		"\n"
		"Options:\n" RUNTIME_OPTIONS_HELP
		"\n"
		"Exit codes: as 'aedb submit'.\n",
	.run = run_resume,
};

static const struct option resume_options[] = {
	RUNTIME_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int run_resume(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_resume;
	struct aedb_err err = AEDB_ERR_INIT;
	struct run_opts ro;
	struct submit_config cfg;
	struct nomad_config ncfg;
	struct nomad *nomad = NULL;
	struct aedb_db *db = NULL;
	cJSON *params = NULL;
	int64_t batch_id;
	int c, code = AEDB_EXIT_USAGE;

	run_opts_init(&ro);
	while ((c = cmd_getopt(cmd, argc, argv, "h", resume_options, &code)) != -1) {
		if (c == CMD_OPT_EXIT || parse_runtime(cmd, c, optarg, &ro, &code) < 0)
			return code;
	}
	if (argc - optind != 1)
		return cmd_usage_error(cmd, argc - optind ? "give one batch name" : "which batch?");
	if (db_open(cmd_db_path(ctx, ro.db), 0, &db, &err) < 0 ||
	    batch_load(db, argv[optind], &batch_id, &params, &err) < 0 ||
	    config_from_params(params, &ro, db->path, &cfg, &ncfg, &err) < 0 ||
	    aoi_config_check(&cfg.aoi, &err) < 0 ||
	    check_nomad(&ncfg, cfg.parent_job, &nomad, &err) < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	code = run_batch(cmd, db, nomad, &cfg, &ro);
out:
	nomad_close(nomad);
	db_close(db);
	cJSON_Delete(params);
	return code;
}
