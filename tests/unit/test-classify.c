/* engine/classify.c: the seeded rules, the if/elif chain of the pipeline
 * categories, exclusions, case, JSON lines, stdout, idempotence, bad and
 * disabled rules, reclassify. */
#include <stdlib.h>
#include <unistd.h>

#include "engine/classify.h"
#include "engine/db.h"
#include "engine/util.h"
#include "test.h"

static char dir[] = "/tmp/aedb-classify.XXXXXX";

static struct aedb_db *open_db(const char *name)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = xasprintf("%s/%s", dir, name);

	if (db_open(path, DB_OPEN_CREATE, &db, &err) < 0)
		printf("# %s\n", err.msg);
	free(path);
	if (db)
		db_exec(db,
			"INSERT INTO batch (id, name, created_at, updated_at) VALUES (1, 'b', 0, 0);"
			"INSERT INTO item (id, batch_id, name, line, created_at, updated_at) VALUES (1, 1, 'a1', 1, 0, 0);"
			"INSERT INTO job (id, batch_id, job_id, parent, item_id, first_seen_at, last_seen_at) VALUES "
			"(1, 1, 'pipeline/dispatch-x', 'pipeline', 1, 0, 0),"
			"(2, 1, 'fim_mosaicker/dispatch-x', 'fim_mosaicker', 1, 0, 0),"
			"(3, 1, 'hand_inundator/dispatch-x', 'hand_inundator', 1, 0, 0);"
			"INSERT INTO log (id, batch_id, job_ref, task, stream, source, state, path) VALUES "
			"(1, 1, 1, 'coordinator', 'stderr', 'captured', 'captured', 'p.stderr.0'),"
			"(2, 1, 2, 'processor', 'stderr', 'captured', 'captured', 'm.stderr.0'),"
			"(3, 1, 3, 'processor', 'stderr', 'captured', 'captured', 'h.stderr.0'),"
			"(4, 1, 1, 'coordinator', 'stdout', 'captured', 'captured', 'p.stdout.0');",
			&err);
	return db;
}

static char *write_log(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

static long long q(struct aedb_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else
		printf("# %s: %s\n", sql, sqlite3_errmsg(db->conn));
	sqlite3_finalize(st);
	return v;
}

static void test_seeded_rules(void)
{
	struct aedb_db *db = open_db("seed.db");

	REQUIRE(db != NULL);
	CHECK_INT(q(db, "SELECT count(*) FROM rule WHERE builtin = 1"), 46);
	CHECK_INT(q(db, "SELECT count(*) FROM rule WHERE job = 'agreement_maker' AND kind = 'exclude'"), 15);
	CHECK_INT(q(db, "SELECT count(*) FROM rule WHERE job = 'hand_inundator' AND kind = 'exclude'"), 3);
	CHECK_INT(q(db, "SELECT count(*) FROM rule WHERE job = 'pipeline' AND category = 'job_error'"), 5);
	db_close(db);
}

static void test_pipeline_chain(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = open_db("chain.db");
	struct classifier *c = NULL;
	char *p = write_log("p.stderr.0",
			    "starting\n"
			    "Pipeline SUCCESS: 2/2 scenarios completed (no OOM)\n" /* 2: success only */
			    "pipeline failed: lower case\n"                      /* 3: failed (any case) */
			    "{\"level\": \"info\", \"message\": \"Pipeline exiting early: none\"}\n" /* 4 */
			    "HTTPConnectionPool(host='x'): timeout\r\n"          /* 5: job_error */
			    "{\"msg\": \"OOM but no message member\"}\n"          /* 6: raw line: job_error */
			    "JobStatus.STOPPED\n"                                /* 7 */
			    "JobStatus.RUNNING\n");                              /* 8: nothing */

	REQUIRE(db != NULL);
	REQUIRE(classify_open(db, &c, &err) == 0);
	CHECK(classify_file(c, 1, p, &err) == 0);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE log_ref = 1"), 6);
	CHECK_INT(q(db, "SELECT line_no FROM finding WHERE category = 'success'"), 2);
	CHECK_INT(q(db, "SELECT line_no FROM finding WHERE category = 'failed'"), 3);
	CHECK_INT(q(db, "SELECT line_no FROM finding WHERE category = 'early_exit'"), 4);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE category = 'job_error' AND line_no IN (5, 6, 7)"), 3);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE message = 'Pipeline exiting early: none'"), 1);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE message LIKE '%\r%'"), 0);
	CHECK_INT(q(db, "SELECT item_id FROM finding WHERE line_no = 2"), 1);
	CHECK_INT(q(db, "SELECT classified_at > 0 FROM log WHERE id = 1"), 1);
	/* again: nothing new */
	CHECK(classify_file(c, 1, p, &err) == 0);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE log_ref = 1"), 6);
	/* stdout is not read (upstream reads stderr only) */
	CHECK(classify_file(c, 4, p, &err) == 0);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE log_ref = 4"), 0);
	CHECK_INT(q(db, "SELECT classified_at > 0 FROM log WHERE id = 4"), 1);
	/* a missing file or log row is an error */
	CHECK(classify_file(c, 1, "/nonexistent/x", &err) < 0);
	CHECK_CONTAINS(err.msg, "cannot open log file");
	CHECK(classify_file(c, 99, p, &err) < 0);
	CHECK_CONTAINS(err.msg, "not in the database");
	classify_free(c);
	free(p);
	db_close(db);
}

static void test_stage_rules(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = open_db("stage.db");
	struct classifier *c = NULL;
	char *m = write_log("m.stderr.0",
			    "ERROR: mosaic failed\n"                                   /* 1 agr_mos */
			    "Warning 1: Request for 12-345 failed with response_code=503\n" /* excluded */
			    "Warning 1: Request for ab-345 failed with response_code=503\n" /* \\d: agr_mos */
			    "error: Agreement map contains no valid data\n"            /* 4 ignorable */
			    "WaRn: distributed.shuffle x\n"                           /* excluded */
			    "nothing here\n");
	char *h = write_log("h.stderr.0",
			    "WARNING: No matching forecast data\n" /* excluded */
			    "Warn: raster nodata\n"                /* 2 inundate */
			    "ERROR: 'NoneType' is not iterable\n"  /* excluded */
			    "an eRRor\n");                         /* 4 inundate */

	REQUIRE(db != NULL);
	REQUIRE(classify_open(db, &c, &err) == 0);
	CHECK(classify_file(c, 2, m, &err) == 0);
	CHECK(classify_file(c, 3, h, &err) == 0);
	CHECK_INT(q(db, "SELECT group_concat(line_no) FROM (SELECT line_no FROM finding WHERE category = 'agr_mos_error' ORDER BY line_no)"), 1);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE category = 'agr_mos_error'"), 2);
	CHECK_INT(q(db, "SELECT max(line_no) FROM finding WHERE category = 'agr_mos_error'"), 3);
	CHECK_INT(q(db, "SELECT line_no FROM finding WHERE category = 'ignorable'"), 4);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE category = 'inundate_error'"), 2);
	CHECK_INT(q(db, "SELECT sum(line_no) FROM finding WHERE category = 'inundate_error'"), 6);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE log_ref = 3 AND category <> 'inundate_error'"), 0);
	classify_free(c);
	c = NULL;

	/* disable a rule, add one of the user's, reclassify the batch */
	CHECK(db_exec(db, "UPDATE rule SET enabled = 0 WHERE name = 'hand_inundator.inundate_error';"
			  "INSERT INTO rule (name, job, category, pattern) VALUES ('mine', '*', 'failed', 'nothing here');",
		      &err) == 0);
	REQUIRE(classify_open(db, &c, &err) == 0);
	CHECK(classify_reclassify_batch(c, 1, dir, &err) == 0);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE category = 'inundate_error'"), 0);
	CHECK_INT(q(db, "SELECT count(*) FROM finding WHERE rule_ref = (SELECT id FROM rule WHERE name = 'mine')"), 1);
	CHECK_INT(classify_stats(c)->missing, 1); /* p.stderr.0 was never written here */
	classify_free(c);
	free(m);
	free(h);
	db_close(db);
}

static void test_bad_rule(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = open_db("bad.db");
	struct classifier *c = NULL;

	REQUIRE(db != NULL);
	CHECK(db_exec(db, "INSERT INTO rule (name, job, category, pattern) VALUES ('broken', '*', 'failed', 'a(b');",
		      &err) == 0);
	CHECK(classify_open(db, &c, &err) < 0);
	CHECK(c == NULL);
	CHECK_CONTAINS(err.msg, "rule 'broken'");
	CHECK_CONTAINS(err.msg, "enabled = 0");
	db_close(db);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(dir))
		return 1;
	RUN(test_seeded_rules);
	RUN(test_pipeline_chain);
	RUN(test_stage_rules);
	RUN(test_bad_rule);
	snprintf(cmd, sizeof(cmd), "%s", dir);
	test_rmtree(cmd);
	return test_done();
}
