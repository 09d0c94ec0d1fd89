/* The memory watchdog's options and thread for the commands that run a
 * batch: `aedb submit --gc_threshold SIZE [--gc_interval S]` (and resume,
 * retry) add GC_LONG_OPTIONS to their options, hand each option to
 * gc_opts_parse, and bracket the run with gc_opts_start / gc_opts_stop.
 * The watchdog then runs as its own thread with its own Nomad client and
 * database connection, and before any GC waits until the tracker has
 * captured the logs of every finished allocation of the batch. */
#ifndef AEDB_CMD_GC_WATCH_H
#define AEDB_CMD_GC_WATCH_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "cmd.h"
#include "engine/gcwatch.h"
#include "engine/nomad.h"

enum { O_GC_THRESHOLD = 3300, O_GC_INTERVAL };

#define GC_LONG_OPTIONS                                                                        \
	{ "gc_threshold", required_argument, NULL, O_GC_THRESHOLD },                           \
	{ "gc-threshold", required_argument, NULL, O_GC_THRESHOLD },                           \
	{ "gc_interval", required_argument, NULL, O_GC_INTERVAL },                             \
	{ "gc-interval", required_argument, NULL, O_GC_INTERVAL }

#define GC_OPTIONS_HELP                                                                        \
	"  --gc_threshold SIZE         above this Nomad server memory (nomad.runtime.alloc_bytes,\n" \
	"                              e.g. 6GiB) trigger a Nomad GC, once per crossing, after\n" \
	"                              the logs of every finished allocation are captured\n"     \
	"                              (default: no watchdog; needs a management token)\n"       \
	"  --gc_interval S             seconds between memory readings (default 120)\n"

struct gc_opts {
	uint64_t threshold;     /* 0: no watchdog */
	double interval;        /* seconds; 0: GCWATCH_INTERVAL_NS */
	/* Optional: where the watchdog's lines go (from its thread); level is
	 * "info", "warn" or "error". NULL: nothing printed (all is journaled). */
	void (*say)(void *ctx, const char *level, const char *msg);
	void *say_ctx;
	/* private */
	struct nomad_config ncfg;
	struct gcwatch_run_config rc;
	pthread_t th;
	int running;
	volatile sig_atomic_t stop;
	struct aedb_err err;
};

void gc_opts_init(struct gc_opts *g);
/* Take option c if it is a watchdog option: 1 taken, 0 not one, -1 bad
 * value (a usage error was printed and *code set). */
int gc_opts_parse(const struct aedb_cmd *cmd, int c, const char *arg, struct gc_opts *g,
		  int *code);
/* Start the watchdog thread when a threshold was given (else do nothing
 * and return 0). ncfg is copied (its strings must outlive the thread);
 * abort_flag (the signal flag, may be NULL) stops it too. */
int gc_opts_start(struct gc_opts *g, const struct nomad_config *ncfg, const char *db_path,
		  int64_t batch_id, const volatile sig_atomic_t *abort_flag, struct aedb_err *err);
/* Stop and join the thread (records a GC still waiting for its "after"
 * reading). Safe to call when it was never started. */
void gc_opts_stop(struct gc_opts *g);

#endif
