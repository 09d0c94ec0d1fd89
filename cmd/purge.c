/* `aedb purge`: remove a finished batch's jobs from Nomad (only that
 * batch's, only once their logs are in the database), or with
 * --all-dispatch every dispatched child as purge_dispatch_jobs.py did. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "batchrun.h"
#include "cmd.h"
#include "engine/batch.h"
#include "engine/purge.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_purge = {
	.name = "purge",
	.summary = "purge one batch's jobs from Nomad (or every dispatched job)",
	.usage = "aedb purge --batch B [--dry-run] [--concurrency N] [--include-running]\n"
		 "                  [--force] [--quiet] [--nomad_addr A] [--nomad_token T] [--db PATH]\n"
		 "       aedb purge --all-dispatch [--job NAME] --yes [--dry-run] [--concurrency N]",
	.help = "With --batch, purges (DELETE /v1/job/<id>?purge=true) the batch's dispatched\n"
		"jobs, pipelines and stage jobs: those the database knows and any other job on\n"
		"Nomad whose id carries the batch's tag ('<parent>/dispatch-[batch_name=B,...'),\n"
		"never another batch's. Before each purge it reads the job:\n"
		"  - gone (404): counted as already gone;\n"
		"  - pending or running: left alone unless --include-running;\n"
		"  - a finished allocation whose logs are not captured in the database (a log\n"
		"    still pending, or no log record at all): left alone and named, unless\n"
		"    --force, because a purge destroys the allocation's logs. Run\n"
		"    'aedb track B' to capture them first.\n"
		"Each purged job gets purged_at (and gone_at, gone_reason 'purged') in the job\n"
		"table, and the summary is journaled. A purge that Nomad answers as for a job\n"
		"it does not have (EvalID \"\", JobModifyIndex 0) counts as already gone.\n"
		"Requests run N at a time, with backoff on 429 and 5xx. Holds the batch's lock,\n"
		"so it does not run while 'aedb submit' or 'aedb track' works on the batch.\n"
		"\n"
		"With --all-dispatch, does what purge_dispatch_jobs.py did: purges every job\n"
		"whose id starts with '<parent>/dispatch-' for pipeline, hand_inundator,\n"
		"fim_mosaicker and agreement_maker (or only --job NAME), of every batch and\n"
		"in any state, for clusters holding jobs aedb never saw. It asks for --yes.\n"
		"\n"
		"Options:\n"
		"  --batch B            the batch whose jobs to purge\n"
		"  --dry-run            list what would happen; change nothing on Nomad or in the\n"
		"                       database (reads only)\n"
		"  --concurrency N      purges in flight at once, 1-64 (default 8; upstream\n"
		"                       --batch-size)\n"
		"  --include-running    purge pending and running jobs too\n"
		"  --force              purge even when logs are not captured (they are lost)\n"
		"  --all-dispatch       every dispatched child of the parent jobs, every batch\n"
		"  --job NAME           with --all-dispatch: only this parent (upstream --job-name)\n"
		"  --yes                confirm --all-dispatch\n"
		"  --quiet              print only skipped and failed jobs and the summary\n"
		"  --nomad_addr A       Nomad API (default: the batch's, else $NOMAD_ADDR, else\n"
		"                       http://localhost:4646)\n"
		"  --nomad_namespace NS namespace (default: the batch's, else $NOMAD_NAMESPACE)\n"
		"  --nomad_token T      ACL token with submit-job or purge-job (default: $NOMAD_TOKEN)\n"
		"  --db PATH            database file (default: $AEDB_DB, else ./aedb.db)\n"
		"\n"
		"Output: one line per job ('purged', 'already gone', 'skipped running',\n"
		"'skipped uncaptured', 'failed', or 'would purge' in a dry run), then\n"
		"'purged N, already gone N, skipped running N, skipped uncaptured N, failed N'.\n"
		"\n"
		"Exit codes: 0 nothing failed (skipped jobs are not failures); 1 some purge\n"
		"failed; 2 usage error; 130 interrupted (run it again: purged jobs read as gone).\n",
	.run = run,
};

enum {
	P_BATCH = 3100, P_DRY, P_CONC, P_RUNNING, P_FORCE, P_ALL, P_JOB, P_YES, P_QUIET, P_ADDR,
	P_NS, P_TOKEN, P_DB,
};

static const struct option options[] = {
	{ "batch", required_argument, NULL, P_BATCH },
	{ "batch_name", required_argument, NULL, P_BATCH },
	{ "batch-name", required_argument, NULL, P_BATCH },
	{ "dry-run", no_argument, NULL, P_DRY },
	{ "dry_run", no_argument, NULL, P_DRY },
	{ "concurrency", required_argument, NULL, P_CONC },
	{ "include-running", no_argument, NULL, P_RUNNING },
	{ "include_running", no_argument, NULL, P_RUNNING },
	{ "force", no_argument, NULL, P_FORCE },
	{ "all-dispatch", no_argument, NULL, P_ALL },
	{ "all_dispatch", no_argument, NULL, P_ALL },
	{ "job", required_argument, NULL, P_JOB },
	{ "job-name", required_argument, NULL, P_JOB },
	{ "job_name", required_argument, NULL, P_JOB },
	{ "yes", no_argument, NULL, P_YES },
	{ "quiet", no_argument, NULL, P_QUIET },
	{ "nomad_addr", required_argument, NULL, P_ADDR },
	{ "nomad-addr", required_argument, NULL, P_ADDR },
	{ "nomad_namespace", required_argument, NULL, P_NS },
	{ "nomad-namespace", required_argument, NULL, P_NS },
	{ "nomad_token", required_argument, NULL, P_TOKEN },
	{ "nomad-token", required_argument, NULL, P_TOKEN },
	{ "db", required_argument, NULL, P_DB },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct out {
	int quiet;
	int dry;
};

static void on_job(void *ctx, const struct purge_job *j)
{
	const struct out *o = ctx;
	int noisy = j->verdict == PURGE_UNCAPTURED || j->verdict == PURGE_FAILED ||
		    j->verdict == PURGE_RUNNING;

	if (o->quiet && !noisy)
		return;
	if (j->why[0])
		printf("%-18s %s: %s\n", purge_verdict_name(j->verdict), j->job_id, j->why);
	else
		printf("%-18s %s\n", purge_verdict_name(j->verdict), j->job_id);
	fflush(stdout);
}

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_purge;
	struct aedb_err err = AEDB_ERR_INIT;
	struct purge_config cfg;
	struct purge_summary sum;
	struct nomad_config ncfg;
	struct aedb_db *db = NULL;
	struct out o = { 0, 0 };
	cJSON *params = NULL;
	const char *batch = NULL, *job = NULL, *db_flag = NULL, *db_path;
	int c, code = AEDB_EXIT_USAGE, conc = PURGE_CONCURRENCY, yes = 0, rc;
	int64_t batch_id;
	struct stat stbuf;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ncfg, 0, sizeof(ncfg));
	while ((c = cmd_getopt(cmd, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case P_BATCH: batch = optarg; break;
		case P_DRY: cfg.dry_run = 1; break;
		case P_CONC:
			if (cmd_parse_int(cmd, "--concurrency", optarg, 1, PURGE_CONCURRENCY_MAX, &conc))
				return AEDB_EXIT_USAGE;
			break;
		case P_RUNNING: cfg.include_running = 1; break;
		case P_FORCE: cfg.force = 1; break;
		case P_ALL: cfg.all_dispatch = 1; break;
		case P_JOB: job = optarg; break;
		case P_YES: yes = 1; break;
		case P_QUIET: o.quiet = 1; break;
		case P_ADDR: ncfg.addr = optarg; break;
		case P_NS: ncfg.ns = optarg; break;
		case P_TOKEN: ncfg.token = optarg; break;
		case P_DB: db_flag = optarg; break;
		default:
			return cmd_usage_error(cmd, "unexpected option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (cfg.all_dispatch) {
		if (batch)
			return cmd_usage_error(cmd, "--batch and --all-dispatch exclude each other");
		if (cfg.include_running || cfg.force)
			return cmd_usage_error(cmd, "--all-dispatch purges every job whatever its state "
						    "or logs; --include-running and --force do not apply");
		if (!yes && !cfg.dry_run)
			return cmd_usage_error(cmd, "--all-dispatch purges the dispatched jobs of every "
						    "batch on the cluster%s%s; add --yes to do it, or "
						    "--dry-run to list them",
					       job ? " of " : "", job ? job : "");
	} else {
		if (!batch)
			return cmd_usage_error(cmd, "which batch? give --batch B (or --all-dispatch)");
		if (job)
			return cmd_usage_error(cmd, "--job applies to --all-dispatch only");
	}
	o.dry = cfg.dry_run;
	db_path = cmd_db_path(ctx, db_flag);
	if (!cfg.all_dispatch) {
		/* the batch's Nomad address and namespace; read only */
		if (db_open(db_path, DB_OPEN_READONLY, &db, &err) < 0 ||
		    batch_load(db, batch, &batch_id, &params, &err) < 0) {
			code = cmd_fail(cmd, &err);
			goto out;
		}
		cmd_nomad_from_batch(params, &ncfg);
		cfg.db_path = db_path;
		db_close(db); /* purge_run opens its own connections */
		db = NULL;
	} else if (stat(db_path, &stbuf) == 0) {
		cfg.db_path = db_path; /* purged jobs it knows get purged_at */
	} else if (errno == ENOENT && !cfg.dry_run && !o.quiet) {
		printf("note: no database at '%s'; nothing will be recorded\n", db_path);
	}
	nomad_config_from_env(&ncfg);
	cfg.batch_name = batch;
	cfg.only_parent = job;
	cfg.nomad = &ncfg;
	cfg.concurrency = conc;
	cfg.stop_flag = install_stop_handlers();
	cfg.report = on_job;
	cfg.report_ctx = &o;
	rc = purge_run(&cfg, &sum, &err);
	if (rc < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	if (sum.jobs == 0)
		printf("no jobs to purge%s%s%s\n", batch ? " for batch '" : "", batch ? batch : "",
		       batch ? "'" : "");
	if (cfg.dry_run)
		printf("dry run: %lld jobs: would purge %lld, already gone %lld, skipped running %lld, "
		       "skipped uncaptured %lld, failed %lld; nothing was changed\n",
		       (long long)sum.jobs, (long long)sum.would, (long long)sum.gone,
		       (long long)sum.running, (long long)sum.uncaptured, (long long)sum.failed);
	else
		printf("%lld jobs: purged %lld, already gone %lld, skipped running %lld, "
		       "skipped uncaptured %lld, failed %lld%s\n",
		       (long long)sum.jobs, (long long)sum.purged, (long long)sum.gone,
		       (long long)sum.running, (long long)sum.uncaptured, (long long)sum.failed,
		       sum.not_tried ? " (some not tried, see above)" : "");
	if (sum.uncaptured)
		fprintf(stderr, "aedb purge: %lld jobs kept because their logs are not captured: "
				"run 'aedb track %s' to capture them, or --force to purge anyway\n",
			(long long)sum.uncaptured, batch ? batch : "B");
	if (sum.refused)
		fprintf(stderr, "aedb purge: Nomad refused a purge (403); the rest were not tried. "
				"Purging needs a token with the submit-job or purge-job capability "
				"(NOMAD_TOKEN or --nomad_token)\n");
	if (rc > 0) {
		fprintf(stderr, "interrupted; run the same command again to continue\n");
		code = AEDB_EXIT_INTERRUPTED;
	} else {
		code = sum.failed || sum.not_tried ? AEDB_EXIT_FAILURE : AEDB_EXIT_OK;
	}
out:
	db_close(db);
	cJSON_Delete(params);
	return code;
}
