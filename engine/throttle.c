/* Hysteresis: pause at stop_threshold, resume at resume_threshold. Kept
 * pure so every edge (exact thresholds, counts jumping over the band, a
 * resume of 0) is unit-tested without a server. */
#include "throttle.h"

int throttle_init(struct throttle *t, int64_t stop, int64_t resume)
{
	if (resume < 0 || stop <= resume)
		return -1;
	t->stop = stop;
	t->resume = resume;
	t->state = THROTTLE_RUNNING;
	t->last_active = 0;
	return 0;
}

enum throttle_verdict throttle_decide(struct throttle *t, int64_t active)
{
	t->last_active = active;
	if (t->state == THROTTLE_RUNNING) {
		if (active >= t->stop) {
			t->state = THROTTLE_PAUSED;
			return THROTTLE_PAUSE;
		}
		return THROTTLE_GO;
	}
	if (active <= t->resume) {
		t->state = THROTTLE_RUNNING;
		return THROTTLE_RESUME;
	}
	return THROTTLE_WAIT;
}

void throttle_dispatched(struct throttle *t)
{
	t->last_active++;
}

double throttle_pause_wait(double wait_seconds)
{
	return wait_seconds > 10.0 ? wait_seconds : 10.0;
}

const char *throttle_verdict_name(enum throttle_verdict v)
{
	switch (v) {
	case THROTTLE_GO:
		return "go";
	case THROTTLE_PAUSE:
		return "pause";
	case THROTTLE_WAIT:
		return "wait";
	case THROTTLE_RESUME:
		return "resume";
	}
	return "?";
}
