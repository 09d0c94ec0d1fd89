/* engine/purge.c: the batch id prefix (b1 never matches b10), verdict
 * names, and the uncaptured-log check from the database. */
#include <stdlib.h>

#include "engine/purge.h"
#include "engine/util.h"
#include "test.h"

static char dir[] = "/tmp/aedb-test-purge-XXXXXX";

static void test_prefix(void)
{
	char *p = purge_batch_prefix("hand_inundator", "b1");

	CHECK_STR(p, "hand_inundator/dispatch-[batch_name=b1,");
	CHECK(str_starts("hand_inundator/dispatch-[batch_name=b1,aoi_name=x,scenario=s]-1-a", p));
	CHECK(!str_starts("hand_inundator/dispatch-[batch_name=b10,aoi_name=x]-1-a", p));
	CHECK(!str_starts("pipeline/dispatch-[batch_name=b1,aoi_name=x]-1-a", p));
	free(p);
}

static void test_parents_and_names(void)
{
	size_t n;

	for (n = 0; purge_default_parents[n]; n++)
		;
	CHECK_INT(n, 4);
	CHECK_STR(purge_default_parents[0], "pipeline");
	CHECK_STR(purge_verdict_name(PURGE_PURGED), "purged");
	CHECK_STR(purge_verdict_name(PURGE_GONE), "already gone");
	CHECK_STR(purge_verdict_name(PURGE_RUNNING), "skipped running");
	CHECK_STR(purge_verdict_name(PURGE_UNCAPTURED), "skipped uncaptured");
	CHECK_STR(purge_verdict_name(PURGE_FAILED), "failed");
	CHECK_STR(purge_verdict_name(PURGE_WOULD), "would purge");
}

static void test_db_uncaptured(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = xasprintf("%s/p.db", dir);
	int64_t pending = -1, missing = -1;

	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	REQUIRE(db_exec(db,
			"INSERT INTO batch (id, name, created_at, updated_at) VALUES (1, 'b1', 0, 0);"
			"INSERT INTO job (id, batch_id, job_id, parent, first_seen_at, last_seen_at) VALUES "
			"(1, 1, 'j-ok', 'pipeline', 0, 0), (2, 1, 'j-pending', 'pipeline', 0, 0),"
			"(3, 1, 'j-nolog', 'pipeline', 0, 0), (4, 1, 'j-unavail', 'pipeline', 0, 0);"
			"INSERT INTO alloc (id, alloc_id, job_ref, client_status, first_seen_at, last_seen_at) "
			"VALUES (1, 'a1', 1, 'complete', 0, 0), (2, 'a2', 2, 'failed', 0, 0),"
			"(3, 'a3', 3, 'lost', 0, 0), (4, 'a4', 3, 'running', 0, 0),"
			"(5, 'a5', 4, 'complete', 0, 0);"
			"INSERT INTO log (batch_id, job_ref, alloc_ref, task, stream, source, state) VALUES "
			"(1, 1, 1, 't', 'stderr', 'captured', 'captured'),"
			"(1, 2, 2, 't', 'stderr', 'captured', 'pending'),"
			"(1, 4, 5, 't', 'stderr', 'captured', 'unavailable');",
			&err) == 0);
	REQUIRE(purge_db_uncaptured(db, "j-ok", &pending, &missing, &err) == 0);
	CHECK_INT(pending, 0);
	CHECK_INT(missing, 0);
	REQUIRE(purge_db_uncaptured(db, "j-pending", &pending, &missing, &err) == 0);
	CHECK_INT(pending, 1);
	CHECK_INT(missing, 0);
	REQUIRE(purge_db_uncaptured(db, "j-nolog", &pending, &missing, &err) == 0);
	CHECK_INT(pending, 0);
	CHECK_INT(missing, 1); /* the lost alloc; the running one does not count */
	/* unavailable is settled: the tracker recorded why */
	REQUIRE(purge_db_uncaptured(db, "j-unavail", &pending, &missing, &err) == 0);
	CHECK_INT(pending + missing, 0);
	/* a job the database does not know */
	REQUIRE(purge_db_uncaptured(db, "j-unknown", &pending, &missing, &err) == 0);
	CHECK_INT(pending + missing, 0);
	db_close(db);
	free(path);
}

static void test_needs_batch_and_db(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct purge_config cfg;
	struct purge_summary sum;
	struct nomad_config ncfg;

	memset(&cfg, 0, sizeof(cfg));
	memset(&ncfg, 0, sizeof(ncfg));
	ncfg.addr = "http://127.0.0.1:1";
	cfg.nomad = &ncfg;
	CHECK(purge_run(&cfg, &sum, &err) < 0);
	CHECK_INT(err.kind, AEDB_E_USAGE);
	CHECK_INT(sum.jobs, 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_prefix);
	RUN(test_parents_and_names);
	RUN(test_db_uncaptured);
	RUN(test_needs_batch_and_db);
	test_rmtree(dir);
	return test_done();
}
