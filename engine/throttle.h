/* The dispatch throttle: upstream's hysteresis as a pure state machine.
 * No clock and no I/O here; the scheduler feeds it counts and times. */
#ifndef AEDB_THROTTLE_H
#define AEDB_THROTTLE_H

#include <stdint.h>

enum throttle_state { THROTTLE_RUNNING, THROTTLE_PAUSED };

enum throttle_verdict {
	THROTTLE_GO,     /* dispatch now */
	THROTTLE_PAUSE,  /* just paused: active reached stop (journal it), then wait */
	THROTTLE_WAIT,   /* still paused: wait for the count to change */
	THROTTLE_RESUME, /* just resumed: active fell to resume (journal it), dispatch */
};

struct throttle {
	int64_t stop;      /* pause when active >= stop */
	int64_t resume;    /* resume when active <= resume */
	enum throttle_state state;
	int64_t last_active; /* the count of the last decision */
};

/* 0 <= resume < stop, else -1 (the caller reports the usage error). */
int throttle_init(struct throttle *t, int64_t stop, int64_t resume);

/* Decide with the current number of active jobs. */
enum throttle_verdict throttle_decide(struct throttle *t, int64_t active);

/* After a dispatch the active count is one higher than last read: record it,
 * so a batch without fresh reads still pauses on time. */
void throttle_dispatched(struct throttle *t);

/* Seconds to wait between checks while paused: max(wait_seconds, 10), as
 * upstream re-checked; with blocking queries this is the server-side wait. */
double throttle_pause_wait(double wait_seconds);

const char *throttle_verdict_name(enum throttle_verdict v);

#endif
