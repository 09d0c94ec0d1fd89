/* engine/throttle.c: the hysteresis, edge by edge. */
#include "engine/throttle.h"
#include "test.h"

static void test_init_validates(void)
{
	struct throttle t;

	CHECK(throttle_init(&t, 30, 15) == 0);
	CHECK(throttle_init(&t, 1, 0) == 0);
	CHECK(throttle_init(&t, 10, 10) < 0);
	CHECK(throttle_init(&t, 10, 11) < 0);
	CHECK(throttle_init(&t, 10, -1) < 0);
	CHECK(throttle_init(&t, 0, 0) < 0);
}

static void test_pause_and_resume_band(void)
{
	struct throttle t;

	throttle_init(&t, 30, 15);
	CHECK_INT(throttle_decide(&t, 0), THROTTLE_GO);
	CHECK_INT(throttle_decide(&t, 29), THROTTLE_GO);
	CHECK_INT(throttle_decide(&t, 30), THROTTLE_PAUSE); /* >= stop pauses */
	CHECK_INT(t.state, THROTTLE_PAUSED);
	CHECK_INT(throttle_decide(&t, 29), THROTTLE_WAIT);  /* inside the band: still paused */
	CHECK_INT(throttle_decide(&t, 16), THROTTLE_WAIT);
	CHECK_INT(throttle_decide(&t, 40), THROTTLE_WAIT);
	CHECK_INT(throttle_decide(&t, 15), THROTTLE_RESUME); /* <= resume resumes */
	CHECK_INT(t.state, THROTTLE_RUNNING);
	CHECK_INT(throttle_decide(&t, 16), THROTTLE_GO);     /* running again inside the band */
	CHECK_INT(throttle_decide(&t, 29), THROTTLE_GO);
	CHECK_INT(throttle_decide(&t, 31), THROTTLE_PAUSE);  /* jumping over stop */
	CHECK_INT(throttle_decide(&t, 0), THROTTLE_RESUME);  /* jumping under resume */
}

static void test_resume_zero(void)
{
	struct throttle t;

	throttle_init(&t, 1, 0);
	CHECK_INT(throttle_decide(&t, 0), THROTTLE_GO);
	throttle_dispatched(&t);
	CHECK_INT(t.last_active, 1);
	CHECK_INT(throttle_decide(&t, 1), THROTTLE_PAUSE);
	CHECK_INT(throttle_decide(&t, 1), THROTTLE_WAIT);
	CHECK_INT(throttle_decide(&t, 0), THROTTLE_RESUME);
}

static void test_never_exceeds_stop(void)
{
	/* a simulated cluster: each GO adds a job; jobs finish at random.
	 * Deciding before every dispatch with the true count never lets the
	 * count pass stop. */
	struct throttle t;
	unsigned seed = 12345;
	int64_t active = 0, peak = 0;
	int i;

	throttle_init(&t, 30, 15);
	for (i = 0; i < 100000; i++) {
		enum throttle_verdict v = throttle_decide(&t, active);

		if (v == THROTTLE_GO || v == THROTTLE_RESUME)
			active++;
		seed = seed * 1103515245u + 12345u;
		if (active > 0 && (seed >> 16) % 3 == 0)
			active--;
		if (active > peak)
			peak = active;
	}
	CHECK(peak <= 30);
	CHECK(peak >= 29);
}

static void test_pause_wait(void)
{
	CHECK(throttle_pause_wait(0) == 10.0);
	CHECK(throttle_pause_wait(25) == 25.0);
}

int main(void)
{
	RUN(test_init_validates);
	RUN(test_pause_and_resume_band);
	RUN(test_resume_zero);
	RUN(test_never_exceeds_stop);
	RUN(test_pause_wait);
	return test_done();
}
