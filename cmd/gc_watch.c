/* `aedb gc-watch`: the Nomad server memory watchdog on its own, as
 * nomad_memory_monitor.sh ran it; and the --gc_threshold/--gc_interval
 * options and thread that batch-running commands share (gc_watch.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "batchrun.h"
#include "cmd.h"
#include "engine/batch.h"
#include "engine/util.h"
#include "gc_watch.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_gc_watch = {
	.name = "gc-watch",
	.summary = "watch the Nomad server's memory and trigger its GC above a threshold",
	.usage = "aedb gc-watch --threshold SIZE [--interval S] [--once] [--batch B]\n"
		 "                  [--settle S] [--wait_logs S] [--quiet] [--nomad_addr A]\n"
		 "                  [--nomad_token T] [--db PATH]",
	.help = "Every S seconds reads the server gauge nomad.runtime.alloc_bytes from\n"
		"GET /v1/metrics. Above SIZE (bytes, or with a unit: 6GiB, 512MiB, 8GB) it\n"
		"triggers a garbage collection (PUT /v1/system/gc), once per crossing: the\n"
		"next GC waits until a reading is back at or below SIZE. Every reading above\n"
		"half of SIZE and every GC, with the value before and after, is journaled.\n"
		"\n"
		"A GC destroys the allocations of finished jobs and their logs. Before one,\n"
		"gc-watch waits (up to --wait_logs seconds) until the database holds the logs\n"
		"of every finished allocation of the batch (--batch), or of every batch not\n"
		"done (without --batch); a GC that cannot wait is deferred to the next\n"
		"reading. Run it next to 'aedb submit' (or use 'aedb submit --gc_threshold').\n"
		"\n"
		"GC needs a management token (NOMAD_TOKEN or --nomad_token). A 403 is\n"
		"reported once; gc-watch then goes on reading memory without GC.\n"
		"\n"
		"Options:\n"
		"  --threshold SIZE   GC above this server memory (upstream: 6GiB, about 25-30 %\n"
		"                     of the server's memory)\n"
		"  --interval S       seconds between readings (default 120, as upstream)\n"
		"  --once             one reading (and its GC), then exit\n"
		"  --batch B          journal under batch B and wait for its logs before a GC;\n"
		"                     its Nomad address is the default\n"
		"  --settle S         seconds from a GC to the reading journaled as its 'after'\n"
		"                     (default 15: the metrics endpoint shows the last 10 s)\n"
		"  --wait_logs S      longest wait for log capture before a GC (default 300)\n"
		"  --quiet            print only GCs and problems\n"
		"  --nomad_addr A     a Nomad server agent (default: $NOMAD_ADDR, else\n"
		"                     http://localhost:4646)\n"
		"  --nomad_token T    management token (default: $NOMAD_TOKEN)\n"
		"  --db PATH          database file (default: $AEDB_DB, else ./aedb.db); without\n"
		"                     a database file nothing is journaled\n"
		"\n"
		"Exit codes: 0 stopped by SIGINT/SIGTERM, or --once done; 1 with --once when the\n"
		"reading or the GC failed (or was refused); 2 usage error.\n",
	.run = run,
};

enum { G_THRESHOLD = 3400, G_INTERVAL, G_ONCE, G_BATCH, G_SETTLE, G_WAIT, G_QUIET, G_ADDR,
       G_NS, G_TOKEN, G_DB };

static const struct option options[] = {
	{ "threshold", required_argument, NULL, G_THRESHOLD },
	{ "interval", required_argument, NULL, G_INTERVAL },
	{ "once", no_argument, NULL, G_ONCE },
	{ "batch", required_argument, NULL, G_BATCH },
	{ "settle", required_argument, NULL, G_SETTLE },
	{ "wait_logs", required_argument, NULL, G_WAIT },
	{ "wait-logs", required_argument, NULL, G_WAIT },
	{ "quiet", no_argument, NULL, G_QUIET },
	{ "nomad_addr", required_argument, NULL, G_ADDR },
	{ "nomad-addr", required_argument, NULL, G_ADDR },
	{ "nomad_namespace", required_argument, NULL, G_NS },
	{ "nomad-namespace", required_argument, NULL, G_NS },
	{ "nomad_token", required_argument, NULL, G_TOKEN },
	{ "nomad-token", required_argument, NULL, G_TOKEN },
	{ "db", required_argument, NULL, G_DB },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *level_of(enum gcwatch_event ev)
{
	switch (ev) {
	case GCWATCH_REFUSED:
		return "error";
	case GCWATCH_ERROR:
	case GCWATCH_DEFERRED:
	case GCWATCH_ABOVE:
		return "warn";
	default:
		return "info";
	}
}

/* ---------- the shared options and thread ---------- */

void gc_opts_init(struct gc_opts *g)
{
	memset(g, 0, sizeof(*g));
}

int gc_opts_parse(const struct aedb_cmd *cmd, int c, const char *arg, struct gc_opts *g,
		  int *code)
{
	if (c == O_GC_THRESHOLD) {
		if (parse_size(arg, &g->threshold) < 0 || g->threshold == 0) {
			*code = cmd_usage_error(cmd, "--gc_threshold takes a size such as 6GiB or "
						     "6442450944, not '%s'", arg);
			return -1;
		}
		return 1;
	}
	if (c == O_GC_INTERVAL) {
		if (parse_seconds(arg, 86400, &g->interval) < 0 || g->interval < 0.01) {
			*code = cmd_usage_error(cmd, "--gc_interval takes seconds (0.01 to 86400), "
						     "not '%s'", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

static void say_report(void *ctx, const struct gcwatch_report *r)
{
	struct gc_opts *g = ctx;

	if (g->say && r->event != GCWATCH_LOW)
		g->say(g->say_ctx, level_of(r->event), r->msg);
}

static void *gc_thread(void *arg)
{
	struct gc_opts *g = arg;

	if (gcwatch_run(&g->rc, &g->err) < 0 && g->say)
		g->say(g->say_ctx, "error", g->err.msg);
	return NULL;
}

int gc_opts_start(struct gc_opts *g, const struct nomad_config *ncfg, const char *db_path,
		  int64_t batch_id, const volatile sig_atomic_t *abort_flag, struct aedb_err *err)
{
	if (g->threshold == 0 || g->running)
		return 0;
	g->ncfg = *ncfg;
	g->ncfg.http.abort_flag = NULL; /* it stops between requests, on its flags */
	memset(&g->rc, 0, sizeof(g->rc));
	g->rc.watch.threshold = g->threshold;
	g->rc.watch.interval_ns = (int64_t)(g->interval * 1e9);
	g->rc.nomad = &g->ncfg;
	g->rc.db_path = db_path;
	g->rc.batch_id = batch_id;
	g->rc.wait_logs = 1;
	g->rc.stop_flag = &g->stop;
	g->rc.stop_flag2 = abort_flag;
	g->rc.report = say_report;
	g->rc.report_ctx = g;
	g->stop = 0;
	if (pthread_create(&g->th, NULL, gc_thread, g) != 0)
		return aedb_err_set(err, "cannot start the memory watchdog thread");
	g->running = 1;
	return 0;
}

void gc_opts_stop(struct gc_opts *g)
{
	if (!g->running)
		return;
	g->stop = 1;
	pthread_join(g->th, NULL);
	g->running = 0;
}

/* ---------- aedb gc-watch ---------- */

struct watch_out {
	int quiet;
	int failed;   /* a reading or GC failed, or GC was refused */
};

static void print_report(void *ctx, const struct gcwatch_report *r)
{
	struct watch_out *o = ctx;
	char when[40];
	const char *level = level_of(r->event);

	if (r->event == GCWATCH_ERROR || r->event == GCWATCH_REFUSED)
		o->failed = 1;
	if (o->quiet && strcmp(level, "info") == 0 && r->event != GCWATCH_GC &&
	    r->event != GCWATCH_GC_DONE)
		return;
	aedb_format_time(aedb_now_ns(), when, sizeof(when));
	fprintf(strcmp(level, "info") == 0 ? stdout : stderr, "%s %s %s\n", when, level, r->msg);
	fflush(stdout);
}

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_gc_watch;
	struct aedb_err err = AEDB_ERR_INIT;
	struct gcwatch_run_config rc;
	struct nomad_config ncfg;
	struct watch_out o = { 0, 0 };
	struct aedb_db *db = NULL;
	cJSON *params = NULL;
	const char *batch = NULL, *db_flag = NULL, *db_path;
	double interval = 120, settle = 15, wait = 300;
	uint64_t threshold = 0;
	int c, code = AEDB_EXIT_USAGE, once = 0;
	struct stat stbuf;

	memset(&ncfg, 0, sizeof(ncfg));
	while ((c = cmd_getopt(cmd, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case G_THRESHOLD:
			if (parse_size(optarg, &threshold) < 0 || threshold == 0)
				return cmd_usage_error(cmd, "--threshold takes a size such as 6GiB or "
							    "6442450944, not '%s'", optarg);
			break;
		case G_INTERVAL:
			if (parse_seconds(optarg, 86400, &interval) < 0 || interval < 0.01)
				return cmd_usage_error(cmd, "--interval takes seconds (0.01 to 86400), "
							    "not '%s'", optarg);
			break;
		case G_SETTLE:
			if (parse_seconds(optarg, 3600, &settle) < 0)
				return cmd_usage_error(cmd, "--settle takes seconds (0 to 3600), not '%s'",
						       optarg);
			break;
		case G_WAIT:
			if (parse_seconds(optarg, 86400, &wait) < 0)
				return cmd_usage_error(cmd, "--wait_logs takes seconds, not '%s'", optarg);
			break;
		case G_ONCE: once = 1; break;
		case G_BATCH: batch = optarg; break;
		case G_QUIET: o.quiet = 1; break;
		case G_ADDR: ncfg.addr = optarg; break;
		case G_NS: ncfg.ns = optarg; break;
		case G_TOKEN: ncfg.token = optarg; break;
		case G_DB: db_flag = optarg; break;
		default:
			return cmd_usage_error(cmd, "unexpected option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (threshold == 0)
		return cmd_usage_error(cmd, "give --threshold SIZE (e.g. 6GiB)");
	memset(&rc, 0, sizeof(rc));
	db_path = cmd_db_path(ctx, db_flag);
	if (batch) {
		if (db_open(db_path, DB_OPEN_READONLY, &db, &err) < 0 ||
		    batch_load(db, batch, &rc.batch_id, &params, &err) < 0) {
			code = cmd_fail(cmd, &err);
			goto out;
		}
		cmd_nomad_from_batch(params, &ncfg);
		db_close(db);
		db = NULL;
		rc.db_path = db_path;
	} else if (stat(db_path, &stbuf) == 0) {
		rc.db_path = db_path;
	} else if (errno == ENOENT) {
		fprintf(stderr, "aedb gc-watch: no database at '%s': nothing is journaled and no "
				"logs are waited for\n", db_path);
	}
	nomad_config_from_env(&ncfg);
	rc.watch.threshold = threshold;
	rc.watch.interval_ns = (int64_t)(interval * 1e9);
	rc.watch.settle_ns = settle > 0 ? (int64_t)(settle * 1e9) : -1;
	rc.nomad = &ncfg;
	rc.wait_logs = 1;
	rc.wait_timeout_ns = wait > 0 ? (int64_t)(wait * 1e9) : 1;
	rc.once = once;
	rc.stop_flag = install_stop_handlers();
	rc.report = print_report;
	rc.report_ctx = &o;
	if (gcwatch_run(&rc, &err) < 0) {
		code = once && o.failed ? AEDB_EXIT_FAILURE : cmd_fail(cmd, &err);
		goto out;
	}
	code = once && o.failed ? AEDB_EXIT_FAILURE : AEDB_EXIT_OK;
out:
	db_close(db);
	cJSON_Delete(params);
	return code;
}
