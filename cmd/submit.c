/* `aedb submit`: the flags of the upstream submit_stac_batch.py, validated
 * completely before anything is written, then the engine's submitter
 * (engine/submit.c). A batch's parameters are stored as JSON under the
 * upstream flag names; `aedb resume` (cmd/resume.c) rebuilds the same
 * configuration from them, so both commands run one code path (here). */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "batchrun.h"
#include "engine/batch.h"
#include "engine/itemlist.h"
#include "engine/submit.h"
#include "engine/util.h"

static int run_submit(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_submit = {
	.name = "submit",
	.summary = "prepare AOIs and dispatch one pipeline per STAC item, throttled",
	.usage = "aedb submit --batch_name B --item_list F --output_root R --hand_index_path H\n"
		 "                   --benchmark_sources S --stop_threshold N --resume_threshold M\n"
		 "                   [--wait_seconds W] [--stac_api_url U] [--collection C]\n"
		 "                   [--hull auto|always|never] [--nomad_addr A] [--nomad_namespace NS]\n"
		 "                   [--nomad_token T] [--use-local-creds] [--use-local-output]\n"
		 "                   [--aoi_path_map HOST=TASK] [--job NAME] [--count_scope cluster|batch]\n"
		 "                   [--jobs N] [--no-track] [--quiet] [--log-format text|json]\n"
		 "                   [--gc_threshold SIZE] [--gc_interval S] [--db PATH]",
	.help =
		"For every item id in the list: fetch its geometry from the STAC API, write\n"
		"the AOI GeoPackage to <output_root>/AOIs/stac_<item>.gpkg (S3 or a local\n"
		"folder), then dispatch the parameterized job (default 'pipeline') with the\n"
		"upstream meta and the id prefix [batch_name=B,aoi_name=I,collection=C,attempt=n].\n"
		"Every step is committed to the database first: a killed submitter loses\n"
		"nothing, and 'aedb resume B' (or the same command again) continues without\n"
		"dispatching any item twice. Submitting an existing batch adds the new items\n"
		"of the list; other parameters than the stored ones are refused.\n"
		"\n"
		"Batch parameters (stored with the batch; the names of submit_stac_batch.py,\n"
		"and each also spelled with '-' instead of '_'):\n"
		"  --batch_name B              the batch name (tag batch_name=B in every job id)\n"
		"  --item_list F               one STAC item id per line; blank lines skipped\n"
		"  --output_root R             s3://bucket/prefix or, with --use-local-output, a folder;\n"
		"                              outputs go to <R>/<item>/, AOIs to <R>/AOIs/\n"
		"  --hand_index_path H         meta hand_index_path\n"
		"  --benchmark_sources S       meta benchmark_sources (comma-separated collections)\n"
		"  --stop_threshold N          pause while N or more jobs are active\n"
		"  --resume_threshold M        resume when M or fewer are active (0 <= M < N)\n"
		"  --wait_seconds W            pause between dispatches (default 0; 10 or more advised)\n"
		"  --stac_api_url U            STAC API (default: $STAC_API_URL, else http://localhost:8082)\n"
		"  --collection C              restrict the STAC search to collection C\n"
		"  --hull auto|always|never    take the convex hull: auto = for ble-collection,\n"
		"                              nws-fim-collection and usgs-fim-collection (upstream)\n"
		"  --nomad_addr A              Nomad API (default: $NOMAD_ADDR, else http://localhost:4646)\n"
		"  --nomad_namespace NS        namespace (default: $NOMAD_NAMESPACE, else default)\n"
		"  --use-local-creds           copy AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and\n"
		"                              AWS_SESSION_TOKEN into job meta (readable by anyone\n"
		"                              who can read jobs on the cluster)\n"
		"  --use-local-output          write AOIs to a local folder instead of S3\n"
		"  --aoi_path_map HOST=TASK    rewrite a local AOI path's HOST prefix into the path\n"
		"                              the Nomad task sees\n"
		"  --job NAME                  the parameterized job to dispatch (default pipeline)\n"
		"  --count_scope cluster|batch what the thresholds count: active children of the job\n"
		"                              on the whole cluster (default, as upstream) or of this\n"
		"                              batch only\n"
		"  --temp_dir D                where AOI files are built (default $TMPDIR or /tmp)\n"
		"\n"
		"Run options (not stored):\n" RUNTIME_OPTIONS_HELP
		"\n"
		"Environment: NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION, NOMAD_CACERT,\n"
		"NOMAD_CAPATH, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY, NOMAD_SKIP_VERIFY, REGISTRY_TOKEN\n"
		"(meta registry_token), AWS_* (S3 credentials, region and endpoint), AEDB_DB.\n"
		"\n"
		"Exit codes: 0 every item dispatched (and finished, unless --no-track); 3 done,\n"
		"but some items failed before dispatch; 130 interrupted (state committed; run\n"
		"'aedb resume B'); 2 bad input (nothing written); 1 runtime failure.\n",
	.run = run_submit,
};



static const struct option submit_options[] = {
	{ "batch_name", required_argument, NULL, O_BATCH },
	{ "batch-name", required_argument, NULL, O_BATCH },
	{ "item_list", required_argument, NULL, O_LIST },
	{ "item-list", required_argument, NULL, O_LIST },
	{ "output_root", required_argument, NULL, O_ROOT },
	{ "output-root", required_argument, NULL, O_ROOT },
	{ "hand_index_path", required_argument, NULL, O_HAND },
	{ "hand-index-path", required_argument, NULL, O_HAND },
	{ "benchmark_sources", required_argument, NULL, O_BENCH },
	{ "benchmark-sources", required_argument, NULL, O_BENCH },
	{ "stop_threshold", required_argument, NULL, O_STOP },
	{ "stop-threshold", required_argument, NULL, O_STOP },
	{ "resume_threshold", required_argument, NULL, O_RESUME },
	{ "resume-threshold", required_argument, NULL, O_RESUME },
	{ "wait_seconds", required_argument, NULL, O_WAIT },
	{ "wait-seconds", required_argument, NULL, O_WAIT },
	{ "stac_api_url", required_argument, NULL, O_STAC },
	{ "stac-api-url", required_argument, NULL, O_STAC },
	{ "collection", required_argument, NULL, O_COLL },
	{ "hull", required_argument, NULL, O_HULL },
	{ "nomad_addr", required_argument, NULL, O_ADDR },
	{ "nomad-addr", required_argument, NULL, O_ADDR },
	{ "nomad_namespace", required_argument, NULL, O_NS },
	{ "nomad-namespace", required_argument, NULL, O_NS },
	{ "use-local-creds", no_argument, NULL, O_CREDS },
	{ "use_local_creds", no_argument, NULL, O_CREDS },
	{ "use-local-output", no_argument, NULL, O_LOCAL },
	{ "use_local_output", no_argument, NULL, O_LOCAL },
	{ "aoi_path_map", required_argument, NULL, O_MAP },
	{ "aoi-path-map", required_argument, NULL, O_MAP },
	{ "job", required_argument, NULL, O_JOB },
	{ "count_scope", required_argument, NULL, O_SCOPE },
	{ "count-scope", required_argument, NULL, O_SCOPE },
	{ "temp_dir", required_argument, NULL, O_TEMP },
	{ "temp-dir", required_argument, NULL, O_TEMP },
	RUNTIME_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};


static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

volatile sig_atomic_t *install_stop_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &stop_flag;
}

void run_opts_init(struct run_opts *ro)
{
	memset(ro, 0, sizeof(*ro));
	ro->jobs = 8;
	ro->placement_timeout = (double)(TRACKER_PLACEMENT_TIMEOUT_NS / 1000000000);
	ro->mode = TRACKER_AUTO;
	gc_opts_init(&ro->gc);
}

void tracker_config_from_opts(const struct run_opts *ro, const char *db_path,
			      const char *batch_name, const struct nomad_config *ncfg,
			      struct tracker_config *tc)
{
	static char default_dir[AEDB_PATH_MAX];

	memset(tc, 0, sizeof(*tc));
	tc->batch_name = batch_name;
	tc->db_path = db_path;
	tc->nomad = ncfg;
	tc->mode = ro->mode;
	if (ro->log_dir) {
		tc->log_dir = ro->log_dir;
	} else {
		const char *slash = strrchr(db_path, '/');

		if (slash)
			snprintf(default_dir, sizeof(default_dir), "%.*s/logs", (int)(slash - db_path),
				 db_path);
		else
			snprintf(default_dir, sizeof(default_dir), "logs");
		tc->log_dir = default_dir;
	}
	tc->log_source = ro->cloudwatch ? TRACKER_LOGS_CLOUDWATCH : TRACKER_LOGS_CAPTURE;
	tc->cw_group = ro->cw_group ? ro->cw_group : "/aws/ec2/nomad-client-linux-test";
	tc->placement_timeout_ns = (int64_t)(ro->placement_timeout * 1e9);
	tc->stop_flag = &stop_flag;
}

/* --- output --- */


static void clear_line(struct out_state *o);

void out_init(struct out_state *o, const struct run_opts *ro, const char *batch)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	o->tty = isatty(STDERR_FILENO) && !ro->json;
	o->quiet = ro->quiet;
	o->json = ro->json;
	o->batch = batch;
}

void out_clear(struct out_state *o)
{
	pthread_mutex_lock(&o->lock);
	clear_line(o);
	pthread_mutex_unlock(&o->lock);
}

static void clear_line(struct out_state *o)
{
	if (o->line_open) {
		fputs("\r\033[K", stderr);
		o->line_open = 0;
	}
}

static void log_line(struct out_state *o, const char *level, const char *msg)
{
	char when[40];

	aedb_format_time(aedb_now_ns(), when, sizeof(when));
	if (o->json) {
		cJSON *j = cJSON_CreateObject();
		char *text;

		cJSON_AddStringToObject(j, "time", when);
		cJSON_AddStringToObject(j, "level", level);
		cJSON_AddStringToObject(j, "batch", o->batch);
		cJSON_AddStringToObject(j, "message", msg);
		text = cJSON_PrintUnformatted(j);
		fprintf(stderr, "%s\n", text);
		free(text);
		cJSON_Delete(j);
		return;
	}
	clear_line(o);
	if (o->tty)
		fprintf(stderr, "%s%s\n", strcmp(level, "info") ? "warning: " : "", msg);
	else
		fprintf(stderr, "%s %s %s\n", when, level, msg);
}

static void status_text(const struct submit_status *st, char *out, size_t size)
{
	if (st->draining)
		snprintf(out, size, "%lld/%lld dispatched, %lld failed; waiting for the pipelines",
			 (long long)st->dispatched, (long long)st->total, (long long)st->failed);
	else {
		int64_t left = st->total - st->dispatched - st->failed;
		char eta[64] = "";

		if (st->rate > 0 && left > 0) {
			int64_t secs = (int64_t)((double)left / st->rate);

			snprintf(eta, sizeof(eta), ", ETA %lldh%02lldm%02llds", (long long)(secs / 3600),
				 (long long)(secs / 60 % 60), (long long)(secs % 60));
		}
		snprintf(out, size,
			 "%lld/%lld dispatched, %lld failed, %lld active, %s (stop %lld, resume "
			 "%lld), %.1f/s%s",
			 (long long)st->dispatched, (long long)st->total, (long long)st->failed,
			 (long long)st->active, st->paused ? "paused" : "running",
			 (long long)st->stop, (long long)st->resume, st->rate, eta);
	}
}

static void report_locked(struct out_state *o, const char *text, const char *level,
			  const char *msg);

static void report(void *ctx, const struct submit_status *st, const char *level, const char *msg)
{
	struct out_state *o = ctx;
	char text[320];

	if (!msg)
		status_text(st, text, sizeof(text));
	pthread_mutex_lock(&o->lock);
	if (st->draining)
		o->tracker_line = 1;
	if (msg || !o->tracker_line)
		report_locked(o, msg ? NULL : text, level, msg);
	pthread_mutex_unlock(&o->lock);
}

/* The memory watchdog's lines, from its thread. */
static void say_gc(void *ctx, const char *level, const char *msg)
{
	struct out_state *o = ctx;

	pthread_mutex_lock(&o->lock);
	if (!o->quiet || strcmp(level, "info") != 0)
		log_line(o, level, msg);
	pthread_mutex_unlock(&o->lock);
}

void report_tracker(void *ctx, const struct tracker_stats *st, const char *level, const char *msg)
{
	struct out_state *o = ctx;
	char text[320];

	if (!msg)
		snprintf(text, sizeof(text),
			 "tracking%s: %lld pipelines and %lld jobs running, %lld jobs, %lld allocations, "
			 "%lld logs",
			 st->polling ? " (polling)" : "", (long long)st->live_pipelines,
			 (long long)st->live_jobs, (long long)st->jobs, (long long)st->allocs,
			 (long long)st->logs);
	pthread_mutex_lock(&o->lock);
	if (msg || o->tracker_line)
		report_locked(o, msg ? NULL : text, level, msg);
	pthread_mutex_unlock(&o->lock);
}

static void report_locked(struct out_state *o, const char *text, const char *level,
			  const char *msg)
{
	int64_t now = aedb_mono_ns();

	if (msg) {
		if (!o->quiet || strcmp(level, "info") != 0)
			log_line(o, level, msg);
		return;
	}
	if (o->quiet)
		return;
	if (o->tty && !o->json) {
		if (now - o->last_draw < 200000000LL)
			return;
		o->last_draw = now;
		fprintf(stderr, "\r\033[K%s: %.*s", o->batch, 150, text);
		o->line_open = 1;
		return;
	}
	if (now - o->last_log < 10000000000LL && o->last_log)
		return;
	o->last_log = now;
	log_line(o, "info", text);
}

/* --- parameters --- */

static int add_str(cJSON *p, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(p, key, v);
	return 0;
}

static const char *pstr(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double pnum(const cJSON *p, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int pbool(const cJSON *p, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, key));
}

/* Build the engine's configuration from stored parameters. The strings
 * point into params, which must outlive cfg. */
int config_from_params(const cJSON *params, const struct run_opts *ro, const char *db_path,
		       struct submit_config *cfg, struct nomad_config *ncfg, struct aedb_err *err)
{
	const char *hull = pstr(params, "hull"), *map = pstr(params, "aoi_path_map");
	const char *scope = pstr(params, "count_scope");
	static char map_host[AEDB_PATH_MAX], map_task[AEDB_PATH_MAX];

	memset(cfg, 0, sizeof(*cfg));
	cfg->batch_name = pstr(params, "batch_name");
	cfg->parent_job = pstr(params, "job");
	cfg->scope = scope && strcmp(scope, "batch") == 0 ? SUBMIT_SCOPE_BATCH : SUBMIT_SCOPE_CLUSTER;
	cfg->stop_threshold = (int64_t)pnum(params, "stop_threshold", 0);
	cfg->resume_threshold = (int64_t)pnum(params, "resume_threshold", 0);
	cfg->wait_seconds = pnum(params, "wait_seconds", 0);
	cfg->output_root = pstr(params, "output_root");
	cfg->hand_index_path = pstr(params, "hand_index_path");
	cfg->benchmark_sources = pstr(params, "benchmark_sources");
	cfg->use_local_creds = pbool(params, "use_local_creds");
	cfg->aoi.stac_api_url = pstr(params, "stac_api_url");
	cfg->aoi.collection = pstr(params, "collection");
	cfg->aoi.hull = !hull || strcmp(hull, "auto") == 0 ? AOI_HULL_AUTO
			: strcmp(hull, "always") == 0      ? AOI_HULL_ALWAYS
							   : AOI_HULL_NEVER;
	cfg->aoi.output_root = cfg->output_root;
	cfg->aoi.use_local_output = pbool(params, "use_local_output");
	cfg->aoi.temp_dir = pstr(params, "temp_dir");
	cfg->aoi.jobs = ro->jobs;
	if (map) {
		const char *eq = strchr(map, '=');

		if (!eq || eq == map || (size_t)(eq - map) >= sizeof(map_host) ||
		    strlen(eq + 1) >= sizeof(map_task))
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "--aoi_path_map takes HOST_PREFIX=TASK_PREFIX, not '%s'", map);
		snprintf(map_host, sizeof(map_host), "%.*s", (int)(eq - map), map);
		snprintf(map_task, sizeof(map_task), "%s", eq + 1);
		cfg->aoi.path_map_host = map_host;
		cfg->aoi.path_map_task = map_task;
	}
	cfg->track = !ro->no_track;
	tracker_config_from_opts(ro, db_path, cfg->batch_name, ncfg, &cfg->tracker);
	cfg->lookahead = ro->jobs * 4;
	cfg->stop_flag = &stop_flag;
	memset(ncfg, 0, sizeof(*ncfg));
	cmd_nomad_from_batch(params, ncfg);
	ncfg->token = ro->token;
	nomad_config_from_env(ncfg);
	ncfg->http.abort_flag = &stop_flag;
	(void)db_path;
	cfg->nomad_token = ncfg->token;
	if (!cfg->batch_name || !cfg->parent_job || !cfg->output_root || !cfg->hand_index_path)
		return aedb_err_set(err, "the stored parameters of the batch are incomplete");
	return 0;
}

/* Check Nomad answers and has the parameterized job (one cheap call). */
int check_nomad(const struct nomad_config *ncfg, const char *parent, struct nomad **out,
		       struct aedb_err *err)
{
	struct nomad *n = NULL;
	enum nomad_rc rc;
	int tries;

	if (nomad_open(ncfg, &n, err) < 0)
		return -1;
	/* a leader election or a 429 is not a reason to refuse: retry for a
	 * few seconds before reporting that Nomad does not answer */
	for (tries = 0;; tries++) {
		rc = nomad_check_parent(n, parent, err);
		if (rc != NOMAD_TRANSIENT || tries >= 5 || stop_flag)
			break;
		aedb_sleep_ns(250000000LL << tries);
	}
	if (rc != NOMAD_OK) {
		if (rc == NOMAD_TRANSIENT || rc == NOMAD_BAD_REPLY)
			err->kind = AEDB_E_USAGE;
		nomad_close(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int finish(const struct aedb_cmd *cmd, struct out_state *o, struct aedb_db *db,
		  const char *batch, int rc, struct aedb_err *err)
{
	struct submit_status st;
	int64_t id = 0;

	clear_line(o);
	memset(&st, 0, sizeof(st));
	if (db && batch_load(db, batch, &id, NULL, err) == 0) {
		sqlite3_stmt *q = NULL;

		if (db_prepare(db,
			       "SELECT count(*), sum(state IN ('dispatched','finished')), "
			       "sum(state = 'failed'), sum(state = 'pending') FROM item WHERE batch_id = ?",
			       &q, err) == 0) {
			sqlite3_bind_int64(q, 1, id);
			if (sqlite3_step(q) == SQLITE_ROW)
				printf("batch '%s': %lld items, %lld dispatched, %lld failed, %lld "
				       "not yet dispatched\n",
				       batch, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
				       sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3));
			sqlite3_finalize(q);
		}
	}
	if (rc == SUBMIT_INTERRUPTED) {
		fprintf(stderr, "interrupted; everything so far is committed. Continue with:\n"
				"  aedb resume %s\n", batch);
		return AEDB_EXIT_INTERRUPTED;
	}
	if (rc < 0) {
		int code = cmd_fail(cmd, err);

		fprintf(stderr, "the batch is saved; after fixing the cause, continue with: aedb resume %s\n",
			batch);
		return code;
	}
	return rc == SUBMIT_ITEMS_FAILED ? AEDB_EXIT_ITEMS_FAILED : AEDB_EXIT_OK;
}

int run_batch(const struct aedb_cmd *cmd, struct aedb_db *db, struct nomad *nomad,
		     struct submit_config *cfg, const struct run_opts *ro)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct gc_opts gc = ro->gc;
	volatile sig_atomic_t *stop;
	struct out_state o;
	int64_t bid = 0;
	int rc;

	out_init(&o, ro, cfg->batch_name);
	cfg->report = report;
	cfg->report_ctx = &o;
	stop = install_stop_handlers();
	cfg->tracker.report = report_tracker;
	cfg->tracker.report_ctx = &o;
	if (gc.threshold && !cfg->track) {
		pthread_mutex_destroy(&o.lock);
		return cmd_usage_error(cmd, "--gc_threshold needs tracking: a GC waits until the "
					    "tracker has captured every finished allocation's logs, "
					    "so it cannot go with --no-track");
	}
	gc.say = say_gc;
	gc.say_ctx = &o;
	if (gc.threshold && (batch_load(db, cfg->batch_name, &bid, NULL, &err) < 0 ||
			     gc_opts_start(&gc, cfg->tracker.nomad, cfg->tracker.db_path, bid,
					   stop, &err) < 0)) {
		pthread_mutex_destroy(&o.lock);
		return cmd_fail(cmd, &err);
	}
	rc = submit_run(db, nomad, cfg, &err);
	gc_opts_stop(&gc);
	rc = finish(cmd, &o, db, cfg->batch_name, rc, &err);
	pthread_mutex_destroy(&o.lock);
	return rc;
}

int parse_runtime(const struct aedb_cmd *cmd, int c, const char *arg, struct run_opts *ro,
		  int *code)
{
	int g = gc_opts_parse(cmd, c, arg, &ro->gc, code);

	if (g)
		return g;
	switch (c) {
	case O_DB:
		ro->db = arg;
		return 1;
	case O_TOKEN:
		ro->token = arg;
		return 1;
	case O_JOBS:
		if (cmd_parse_int(cmd, "--jobs", arg, 1, 256, &ro->jobs) != 0) {
			*code = AEDB_EXIT_USAGE;
			return -1;
		}
		return 1;
	case O_NOTRACK:
		ro->no_track = 1;
		return 1;
	case O_QUIET:
		ro->quiet = 1;
		return 1;
	case O_LOGDIR:
		ro->log_dir = arg;
		return 1;
	case O_LOGSRC:
		if (strcmp(arg, "cloudwatch") == 0) {
			ro->cloudwatch = 1;
		} else if (strcmp(arg, "capture") != 0) {
			*code = cmd_usage_error(cmd, "--log_source takes capture or cloudwatch, not '%s'", arg);
			return -1;
		}
		return 1;
	case O_CWGROUP:
		ro->cw_group = arg;
		return 1;
	case O_PLACEMENT:
		if (parse_seconds(arg, 30.0 * 86400, &ro->placement_timeout) < 0 ||
		    ro->placement_timeout <= 0) {
			*code = cmd_usage_error(cmd, "--placement_timeout takes seconds (more than 0), not '%s'",
						arg);
			return -1;
		}
		return 1;
	case O_TRACKMODE:
		if (strcmp(arg, "auto") == 0) {
			ro->mode = TRACKER_AUTO;
		} else if (strcmp(arg, "events") == 0) {
			ro->mode = TRACKER_EVENTS;
		} else if (strcmp(arg, "poll") == 0) {
			ro->mode = TRACKER_POLL;
		} else {
			*code = cmd_usage_error(cmd, "--track_mode takes auto, events or poll, not '%s'", arg);
			return -1;
		}
		return 1;
	case O_LOGFMT:
		if (strcmp(arg, "json") == 0) {
			ro->json = 1;
		} else if (strcmp(arg, "text") != 0) {
			*code = cmd_usage_error(cmd, "--log-format takes text or json, not '%s'", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

static int run_submit(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd = &cmd_submit;
	struct aedb_err err = AEDB_ERR_INIT;
	struct run_opts ro;
	struct item_list items;
	struct submit_config cfg;
	struct nomad_config ncfg;
	struct nomad *nomad = NULL;
	struct aedb_db *db = NULL;
	struct buf problems;
	cJSON *params = cJSON_CreateObject();
	const char *opt[O_TEMP + 1] = { NULL };
	char *abs_list = NULL;
	int c, code = AEDB_EXIT_USAGE, flags[O_TEMP + 1] = { 0 };
	int64_t batch_id = 0, added = 0;
	int stop = 0, resume = 0;
	double wait = 0;

	run_opts_init(&ro);
	itemlist_init(&items);
	buf_init(&problems, 1u << 20, "problems");
	while ((c = cmd_getopt(cmd, argc, argv, "h", submit_options, &code)) != -1) {
		int r;

		if (c == CMD_OPT_EXIT)
			goto out;
		r = parse_runtime(cmd, c, optarg, &ro, &code);
		if (r < 0)
			goto out;
		if (r > 0)
			continue;
		if (c == O_CREDS || c == O_LOCAL)
			flags[c] = 1;
		else if (c >= O_BATCH && c <= O_TEMP)
			opt[c] = optarg;
	}
	code = AEDB_EXIT_USAGE;
	if (optind < argc) {
		code = cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		goto out;
	}

	/* every problem with the flags, reported together */
	{
		static const struct {
			int id;
			const char *name;
		} required[] = {
			{ O_BATCH, "--batch_name" }, { O_LIST, "--item_list" },
			{ O_ROOT, "--output_root" }, { O_HAND, "--hand_index_path" },
			{ O_BENCH, "--benchmark_sources" }, { O_STOP, "--stop_threshold" },
			{ O_RESUME, "--resume_threshold" },
		};
		size_t i;

		for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
			if (!opt[required[i].id] || !*opt[required[i].id])
				buf_printf(&problems, NULL, "\n  %s is required", required[i].name);
		}
	}
	if (opt[O_STOP] && parse_int(opt[O_STOP], 1, 1000000, &stop) < 0)
		buf_printf(&problems, NULL, "\n  --stop_threshold takes a whole number >= 1, not '%s'",
			   opt[O_STOP]);
	if (opt[O_RESUME] && parse_int(opt[O_RESUME], 0, 1000000, &resume) < 0)
		buf_printf(&problems, NULL, "\n  --resume_threshold takes a whole number >= 0, not '%s'",
			   opt[O_RESUME]);
	else if (opt[O_STOP] && opt[O_RESUME] && stop > 0 && resume >= stop)
		buf_printf(&problems, NULL,
			   "\n  --resume_threshold (%d) must be below --stop_threshold (%d)", resume,
			   stop);
	if (opt[O_WAIT] && parse_seconds(opt[O_WAIT], 86400, &wait) < 0)
		buf_printf(&problems, NULL, "\n  --wait_seconds takes seconds from 0 to 86400, not '%s'",
			   opt[O_WAIT]);
	if (opt[O_HULL] && strcmp(opt[O_HULL], "auto") && strcmp(opt[O_HULL], "always") &&
	    strcmp(opt[O_HULL], "never"))
		buf_printf(&problems, NULL, "\n  --hull takes auto, always or never, not '%s'",
			   opt[O_HULL]);
	if (opt[O_SCOPE] && strcmp(opt[O_SCOPE], "cluster") && strcmp(opt[O_SCOPE], "batch"))
		buf_printf(&problems, NULL, "\n  --count_scope takes cluster or batch, not '%s'",
			   opt[O_SCOPE]);
	if (opt[O_BATCH]) {
		const char *why = NULL;

		if (!itemlist_valid_id(opt[O_BATCH], &why))
			buf_printf(&problems, NULL, "\n  --batch_name '%s': %s", opt[O_BATCH],
				   strstr(why, "item id") ? "it may not contain space / & , [ ] = : "
							    "or control characters"
							  : why);
	}
	if (opt[O_LIST] && itemlist_read(opt[O_LIST], opt[O_BATCH], &items, &problems, &err) < 0 &&
	    !strstr(buf_str(&problems), err.msg))
		buf_printf(&problems, NULL, "\n  %s", err.msg);
	if (opt[O_LIST] && !(abs_list = realpath(opt[O_LIST], NULL)))
		abs_list = xstrdup(opt[O_LIST]);

	/* the stored parameters: the upstream names, no secrets */
	add_str(params, "batch_name", opt[O_BATCH]);
	add_str(params, "item_list", opt[O_LIST] ? abs_list : NULL);
	add_str(params, "output_root", opt[O_ROOT]);
	add_str(params, "hand_index_path", opt[O_HAND]);
	add_str(params, "benchmark_sources", opt[O_BENCH]);
	cJSON_AddNumberToObject(params, "stop_threshold", stop);
	cJSON_AddNumberToObject(params, "resume_threshold", resume);
	cJSON_AddNumberToObject(params, "wait_seconds", wait);
	add_str(params, "stac_api_url",
		opt[O_STAC] ? opt[O_STAC]
			    : (getenv("STAC_API_URL") ? getenv("STAC_API_URL") : "http://localhost:8082"));
	add_str(params, "collection", opt[O_COLL]);
	add_str(params, "hull", opt[O_HULL] ? opt[O_HULL] : "auto");
	{
		struct nomad_config env = { 0 };

		env.addr = opt[O_ADDR];
		env.ns = opt[O_NS];
		nomad_config_from_env(&env);
		add_str(params, "nomad_addr", env.addr);
		add_str(params, "nomad_namespace", env.ns);
	}
	cJSON_AddBoolToObject(params, "use_local_creds", flags[O_CREDS]);
	cJSON_AddBoolToObject(params, "use_local_output", flags[O_LOCAL]);
	add_str(params, "aoi_path_map", opt[O_MAP]);
	add_str(params, "job", opt[O_JOB] ? opt[O_JOB] : "pipeline");
	add_str(params, "count_scope", opt[O_SCOPE] ? opt[O_SCOPE] : "cluster");
	add_str(params, "temp_dir", opt[O_TEMP]);

	if (problems.len == 0) {
		if (config_from_params(params, &ro, cmd_db_path(ctx, ro.db), &cfg, &ncfg, &err) < 0 ||
		    aoi_config_check(&cfg.aoi, &err) < 0)
			buf_printf(&problems, NULL, "\n  %s", err.msg);
	}
	if (ro.gc.threshold && ro.no_track)
		buf_printf(&problems, NULL,
			   "\n  --gc_threshold needs tracking: a GC waits until the tracker has "
			   "captured every finished allocation's logs, so it cannot go with --no-track");
	if (problems.len == 0 && check_nomad(&ncfg, cfg.parent_job, &nomad, &err) < 0)
		buf_printf(&problems, NULL, "\n  %s", err.msg);
	if (problems.len) {
		fprintf(stderr, "aedb submit: nothing was written, because:%s\nusage: %s\n",
			buf_str(&problems), cmd->usage);
		code = AEDB_EXIT_USAGE;
		goto out;
	}
	if (flags[O_CREDS] && !ro.quiet)
		fprintf(stderr, "warning: --use-local-creds puts your AWS keys into job meta, which "
				"anyone with read access to the cluster's jobs can see\n");
	if (items.nwarnings && !ro.quiet)
		fprintf(stderr, "%s\n", buf_str(&items.warnings));

	if (db_open(cmd_db_path(ctx, ro.db), DB_OPEN_CREATE, &db, &err) < 0 ||
	    batch_upsert(db, opt[O_BATCH], params, &items, &batch_id, &added, &err) < 0) {
		code = cmd_fail(cmd, &err);
		goto out;
	}
	if (!ro.quiet)
		fprintf(stderr, "batch '%s': %lld new items recorded in '%s'\n", opt[O_BATCH],
			(long long)added, db->path);
	code = run_batch(cmd, db, nomad, &cfg, &ro);
out:
	nomad_close(nomad);
	db_close(db);
	itemlist_release(&items);
	buf_release(&problems);
	cJSON_Delete(params);
	free(abs_list);
	return code;
}

