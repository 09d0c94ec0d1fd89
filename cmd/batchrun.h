/* What `aedb submit` and `aedb resume` share: the run-time options and
 * the path from stored batch parameters to a running submitter. */
#ifndef AEDB_CMD_BATCHRUN_H
#define AEDB_CMD_BATCHRUN_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>

#include "cmd.h"
#include "gc_watch.h"
#include "engine/nomad.h"
#include "engine/submit.h"
#include "engine/tracker.h"

enum {
	O_BATCH = 1000, O_LIST, O_ROOT, O_HAND, O_BENCH, O_STOP, O_RESUME, O_WAIT, O_STAC,
	O_COLL, O_HULL, O_ADDR, O_NS, O_TOKEN, O_CREDS, O_LOCAL, O_MAP, O_JOB, O_SCOPE, O_JOBS,
	O_NOTRACK, O_QUIET, O_LOGFMT, O_DB, O_TEMP, O_LOGDIR, O_LOGSRC, O_CWGROUP, O_PLACEMENT,
	O_TRACKMODE,
};

/* Options that change how this run behaves, never what the batch is. */
struct run_opts {
	const char *db;
	const char *token;
	int jobs;
	int no_track;
	int quiet;
	int json;
	const char *log_dir;     /* NULL: "logs" next to the database */
	int cloudwatch;          /* --log_source cloudwatch */
	const char *cw_group;
	double placement_timeout; /* seconds */
	enum tracker_mode mode;
	struct gc_opts gc;       /* --gc_threshold, --gc_interval */
};

/* The long options every batch-running command takes (submit, resume, track). */
#define RUNTIME_LONG_OPTIONS                                                                    \
	{ "nomad_token", required_argument, NULL, O_TOKEN },                                    \
	{ "nomad-token", required_argument, NULL, O_TOKEN },                                    \
	{ "jobs", required_argument, NULL, O_JOBS },                                            \
	{ "no-track", no_argument, NULL, O_NOTRACK },                                           \
	{ "no_track", no_argument, NULL, O_NOTRACK },                                           \
	{ "quiet", no_argument, NULL, O_QUIET },                                                \
	{ "log-format", required_argument, NULL, O_LOGFMT },                                    \
	{ "log_format", required_argument, NULL, O_LOGFMT },                                    \
	{ "log_dir", required_argument, NULL, O_LOGDIR },                                       \
	{ "log-dir", required_argument, NULL, O_LOGDIR },                                       \
	{ "log_source", required_argument, NULL, O_LOGSRC },                                    \
	{ "log-source", required_argument, NULL, O_LOGSRC },                                    \
	{ "cloudwatch_log_group", required_argument, NULL, O_CWGROUP },                         \
	{ "placement_timeout", required_argument, NULL, O_PLACEMENT },                          \
	{ "placement-timeout", required_argument, NULL, O_PLACEMENT },                          \
	{ "track_mode", required_argument, NULL, O_TRACKMODE },                                 \
	{ "track-mode", required_argument, NULL, O_TRACKMODE },                                 \
	{ "db", required_argument, NULL, O_DB },                                                \
	GC_LONG_OPTIONS,                                                                        \
	{ "help", no_argument, NULL, 'h' }

#define RUNTIME_OPTIONS_HELP                                                                    \
	"  --db PATH                   database file (default: $AEDB_DB, else ./aedb.db)\n"        \
	"  --nomad_token T             ACL token (default: $NOMAD_TOKEN); never stored\n"          \
	"  --jobs N                    AOIs prepared in parallel (default 8)\n"                    \
	"  --no-track                  stop after the last dispatch instead of waiting for\n"      \
	"                              every pipeline to finish\n"                                 \
	"  --quiet                     print only problems and the final summary\n"                \
	"  --log-format text|json      the format of log lines when not on a terminal\n"        \
	"  --log_dir D                 captured logs go to D/<batch>/<job id>/<task>.stderr.0\n"  \
	"                              (default: 'logs' next to the database)\n"                 \
	"  --log_source capture|cloudwatch  fetch logs from Nomad (default), or record\n"       \
	"                              CloudWatch pointers (stream = job id) instead\n"          \
	"  --cloudwatch_log_group G    the log group (default /aws/ec2/nomad-client-linux-test)\n" \
	"  --placement_timeout S       a job never placed for S seconds is stuck and counts\n"  \
	"                              as failed (default 28800, 8 hours, as the coordinator)\n" \
	"  --track_mode auto|events|poll  how jobs are followed: Nomad's event stream,\n"      \
	"                              falling back to polling without it (default auto)\n"    \
	GC_OPTIONS_HELP

/* Parse one run-time option: 1 taken, 0 not one, -1 bad (then *code is set). */
int parse_runtime(const struct aedb_cmd *cmd, int c, const char *arg, struct run_opts *ro,
		  int *code);
/* Build the engine's configuration from stored parameters (strings point
 * into params, which must outlive cfg). */
int config_from_params(const cJSON *params, const struct run_opts *ro, const char *db_path,
		       struct submit_config *cfg, struct nomad_config *ncfg, struct aedb_err *err);
/* Nomad answers and has the parameterized job (one cheap call). */
int check_nomad(const struct nomad_config *ncfg, const char *parent, struct nomad **out,
		struct aedb_err *err);
/* Progress and log output shared by the submitter and the tracker thread:
 * a live status line on a terminal, timestamped lines (or JSON) otherwise. */
struct out_state {
	pthread_mutex_t lock; /* the submitter and the tracker thread both report */
	int tty;
	int quiet;
	int json;
	int line_open;
	int64_t last_draw;
	int64_t last_log;
	const char *batch;
	int tracker_line;     /* show the tracker's progress on the status line */
};

void out_init(struct out_state *o, const struct run_opts *ro, const char *batch);
void out_clear(struct out_state *o);
/* A tracker report callback (ctx is a struct out_state). */
void report_tracker(void *ctx, const struct tracker_stats *st, const char *level, const char *msg);

/* Defaults for run_opts. */
void run_opts_init(struct run_opts *ro);
/* Fill a tracker configuration from the run options (db_path and nomad
 * config must outlive it). */
void tracker_config_from_opts(const struct run_opts *ro, const char *db_path,
			      const char *batch_name, const struct nomad_config *ncfg,
			      struct tracker_config *tc);
/* Install SIGINT/SIGTERM handlers that set the flag commands pass on. */
volatile sig_atomic_t *install_stop_handlers(void);

/* Run the submitter with progress output and signal handling; returns the exit code. */
int run_batch(const struct aedb_cmd *cmd, struct aedb_db *db, struct nomad *nomad,
	      struct submit_config *cfg, const struct run_opts *ro);

#endif
