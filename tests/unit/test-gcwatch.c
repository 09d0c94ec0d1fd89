/* engine/gcwatch.c: the once-per-crossing decision, size formatting, and
 * the count of uncaptured logs a GC waits for. */
#include <stdlib.h>

#include "engine/gcwatch.h"
#include "engine/util.h"
#include "test.h"

#define GIB (1024.0 * 1024 * 1024)

static char dir[] = "/tmp/aedb-test-gcwatch-XXXXXX";

static void test_decide_once_per_crossing(void)
{
	struct gcwatch_state s;
	uint64_t t = 6ull << 30;

	gcwatch_state_init(&s);
	CHECK_INT(gcwatch_decide(&s, 1 * GIB, t), GCWATCH_OK);
	CHECK_INT(gcwatch_decide(&s, 3 * GIB, t), GCWATCH_OK);    /* exactly half: not above */
	CHECK_INT(gcwatch_decide(&s, 3.1 * GIB, t), GCWATCH_NOTE);
	CHECK_INT(gcwatch_decide(&s, 6 * GIB, t), GCWATCH_NOTE);  /* at the threshold: no GC */
	CHECK_INT(gcwatch_decide(&s, 6.5 * GIB, t), GCWATCH_COLLECT);
	s.armed = 0;                                              /* the caller ran its GC */
	CHECK_INT(gcwatch_decide(&s, 6.4 * GIB, t), GCWATCH_HOLD);
	CHECK_INT(gcwatch_decide(&s, 9 * GIB, t), GCWATCH_HOLD);  /* same crossing */
	CHECK_INT(gcwatch_decide(&s, 5 * GIB, t), GCWATCH_NOTE);  /* back below: re-armed */
	CHECK_INT(s.armed, 1);
	CHECK_INT(gcwatch_decide(&s, 7 * GIB, t), GCWATCH_COLLECT); /* a new crossing */
}

static void test_decide_refused(void)
{
	struct gcwatch_state s;

	gcwatch_state_init(&s);
	s.refused = 1;
	CHECK_INT(gcwatch_decide(&s, 7 * GIB, 6ull << 30), GCWATCH_HOLD);
	CHECK_INT(gcwatch_decide(&s, 1 * GIB, 6ull << 30), GCWATCH_OK);
	CHECK_INT(gcwatch_decide(&s, 7 * GIB, 6ull << 30), GCWATCH_HOLD); /* never again */
}

static void test_format_size(void)
{
	char b[32];

	gcwatch_format_size(512, b, sizeof(b));
	CHECK_STR(b, "512 B");
	gcwatch_format_size(6 * GIB, b, sizeof(b));
	CHECK_STR(b, "6.00 GiB");
	gcwatch_format_size(1536.0 * 1024 * 1024, b, sizeof(b));
	CHECK_STR(b, "1.50 GiB");
	gcwatch_format_size(64.0 * 1024 * 1024, b, sizeof(b));
	CHECK_STR(b, "64.00 MiB");
}

static void test_new_refuses_zero(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct gcwatch_config cfg = { 0 };
	struct nomad_config ncfg = { 0 };
	struct gcwatch *w = NULL;

	ncfg.addr = "http://127.0.0.1:1";
	CHECK(gcwatch_new(&cfg, &ncfg, &w, &err) < 0);
	CHECK_CONTAINS(err.msg, "more than 0");
	cfg.threshold = 1;
	REQUIRE(gcwatch_new(&cfg, &ncfg, &w, &err) == 0);
	CHECK_INT(gcwatch_due_in_ns(w), 0);
	CHECK_INT(gcwatch_gc_pending(w), 0);
	CHECK_INT(gcwatch_last(w)->event, GCWATCH_IDLE);
	gcwatch_free(w);
}

static void test_uncaptured(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = xasprintf("%s/g.db", dir);
	int64_t pending = -1, missing = -1;
	struct gcwatch_logs_wait wl;

	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	REQUIRE(db_exec(db,
			"INSERT INTO batch (id, name, created_at, updated_at) VALUES (1, 'a', 0, 0), "
			"(2, 'b', 0, 0), (3, 'old', 0, 0);"
			"UPDATE batch SET state = 'done' WHERE id = 3;"
			"INSERT INTO job (id, batch_id, job_id, parent, first_seen_at, last_seen_at) VALUES "
			"(1, 1, 'pipeline/dispatch-[batch_name=a,]-1-x', 'pipeline', 0, 0),"
			"(2, 2, 'pipeline/dispatch-[batch_name=b,]-1-x', 'pipeline', 0, 0),"
			"(3, 3, 'pipeline/dispatch-[batch_name=old,]-1-x', 'pipeline', 0, 0);"
			"INSERT INTO alloc (id, alloc_id, job_ref, client_status, first_seen_at, last_seen_at) "
			"VALUES (1, 'a1', 1, 'complete', 0, 0), (2, 'a2', 1, 'running', 0, 0),"
			"(3, 'b1', 2, 'failed', 0, 0), (4, 'o1', 3, 'complete', 0, 0),"
			"(5, 'b2', 2, 'lost', 0, 0);"
			"UPDATE alloc SET gone_at = 1 WHERE id = 5;"
			"INSERT INTO log (batch_id, job_ref, alloc_ref, task, stream, source, state) VALUES "
			"(1, 1, 1, 'coordinator', 'stderr', 'captured', 'pending'),"
			"(1, 1, 1, 'coordinator', 'stdout', 'captured', 'captured');",
			&err) == 0);
	/* batch a: one pending stream; its running alloc does not count */
	REQUIRE(gcwatch_uncaptured(db, 1, &pending, &missing, &err) == 0);
	CHECK_INT(pending, 1);
	CHECK_INT(missing, 0);
	/* batch b: a failed alloc without logs; the gone (lost) one does not count */
	REQUIRE(gcwatch_uncaptured(db, 2, &pending, &missing, &err) == 0);
	CHECK_INT(pending, 0);
	CHECK_INT(missing, 1);
	/* every batch not done: a and b, not old */
	REQUIRE(gcwatch_uncaptured(db, 0, &pending, &missing, &err) == 0);
	CHECK_INT(pending, 1);
	CHECK_INT(missing, 1);
	/* the wait gives up after its timeout and says what is left */
	memset(&wl, 0, sizeof(wl));
	wl.db = db;
	wl.batch_id = 1;
	wl.timeout_ns = 50000000;
	wl.poll_ns = 10000000;
	CHECK_INT(gcwatch_wait_logs(&wl), 1);
	CHECK_INT(wl.pending, 1);
	/* captured: it returns at once */
	REQUIRE(db_exec(db, "UPDATE log SET state = 'captured'", &err) == 0);
	CHECK_INT(gcwatch_wait_logs(&wl), 0);
	CHECK_INT(wl.pending, 0);
	REQUIRE(gcwatch_uncaptured(db, 0, &pending, &missing, &err) == 0);
	db_close(db);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_decide_once_per_crossing);
	RUN(test_decide_refused);
	RUN(test_format_size);
	RUN(test_new_refuses_zero);
	RUN(test_uncaptured);
	test_rmtree(dir);
	return test_done();
}
