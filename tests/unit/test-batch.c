/* engine/batch.c: batch creation and continuation, parameter checks, the
 * owner lock and the journal. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/batch.h"
#include "engine/util.h"
#include "test.h"

static char dir[] = "/tmp/aedb-test-batch-XXXXXX";
static int counter;

static struct aedb_db *fresh_db(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = xasprintf("%s/b%d.db", dir, ++counter);

	if (db_open(path, DB_OPEN_CREATE, &db, &err) < 0)
		printf("# %s\n", err.msg);
	free(path);
	return db;
}

static void make_list(struct item_list *l, const char *const *names)
{
	size_t i;

	itemlist_init(l);
	for (i = 0; names[i]; i++)
		;
	l->items = xcalloc(i, sizeof(*l->items));
	for (i = 0; names[i]; i++) {
		l->items[i].name = xstrdup(names[i]);
		l->items[i].line = (int)i + 1;
	}
	l->n = i;
}

static int64_t scalar(struct aedb_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static cJSON *params(int stop)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "batch_name", "b1");
	cJSON_AddStringToObject(p, "job", "pipeline");
	cJSON_AddNumberToObject(p, "stop_threshold", stop);
	return p;
}

static void test_create_then_continue(void)
{
	static const char *const first[] = { "a", "b", "c", NULL };
	static const char *const second[] = { "a", "b", "c", "d", "e", NULL };
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = fresh_db();
	struct item_list l1, l2;
	cJSON *p = params(30);
	int64_t id = 0, id2 = 0, added = 0;

	REQUIRE(db != NULL);
	make_list(&l1, first);
	make_list(&l2, second);
	CHECK(batch_upsert(db, "b1", p, &l1, &id, &added, &err) == 0);
	CHECK_INT(added, 3);
	CHECK(id > 0);
	CHECK(batch_upsert(db, "b1", p, &l2, &id2, &added, &err) == 0);
	CHECK_INT(id2, id);
	CHECK_INT(added, 2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM item"), 5);
	CHECK_INT(scalar(db, "SELECT line FROM item WHERE name = 'e'"), 5);
	CHECK_INT(scalar(db, "SELECT count(*) FROM batch"), 1);
	itemlist_release(&l1);
	itemlist_release(&l2);
	cJSON_Delete(p);
	db_close(db);
}

static void test_changed_params_refused(void)
{
	static const char *const names[] = { "a", NULL };
	static const char *const more[] = { "a", "z", NULL };
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = fresh_db();
	struct item_list l, l2;
	cJSON *p = params(30), *q = params(20);
	int64_t id = 0, added = 0;

	REQUIRE(db != NULL);
	make_list(&l, names);
	make_list(&l2, more);
	cJSON_AddStringToObject(q, "collection", "ble-collection");
	CHECK(batch_upsert(db, "b1", p, &l, &id, &added, &err) == 0);
	CHECK(batch_upsert(db, "b1", q, &l2, &id, &added, &err) < 0);
	CHECK_INT(err.kind, AEDB_E_USAGE);
	CHECK_CONTAINS(err.msg, "stop_threshold: stored 30, given 20");
	CHECK_CONTAINS(err.msg, "collection: stored (unset), given 'ble-collection'");
	CHECK_CONTAINS(err.msg, "aedb resume b1");
	CHECK_INT(scalar(db, "SELECT count(*) FROM item"), 1); /* nothing added */
	CHECK(sqlite3_get_autocommit(db->conn));
	itemlist_release(&l);
	itemlist_release(&l2);
	cJSON_Delete(p);
	cJSON_Delete(q);
	db_close(db);
}

static void test_lock(void)
{
	static const char *const names[] = { "a", NULL };
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = fresh_db();
	struct item_list l;
	cJSON *p = params(30);
	int64_t id = 0, added = 0;
	char *tok = NULL, *tok2 = NULL;
	pid_t child;

	REQUIRE(db != NULL);
	make_list(&l, names);
	REQUIRE(batch_upsert(db, "b1", p, &l, &id, &added, &err) == 0);

	/* a live owner (our parent's child, still running) blocks us */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	REQUIRE(db_exec(db, "INSERT INTO batch_owner VALUES (1, 0, '', 'submit', 't', 0, 0)", &err) == 0);
	{
		sqlite3_stmt *st = NULL;

		sqlite3_prepare_v2(db->conn, "UPDATE batch_owner SET pid = ?1, host = ?2, heartbeat_at = ?3",
				   -1, &st, NULL);
		sqlite3_bind_int64(st, 1, child);
		sqlite3_bind_text(st, 2, aedb_hostname(), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, aedb_now_ns());
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	CHECK(batch_lock_acquire(db, id, "submit", &tok, &err) < 0);
	CHECK_CONTAINS(err.msg, "is being worked on by 'aedb submit'");
	CHECK(tok == NULL);

	/* the owner dies: its lock is stale and taken over, with a journal entry */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(batch_lock_acquire(db, id, "submit", &tok, &err) == 0);
	CHECK(tok != NULL);
	CHECK_INT(scalar(db, "SELECT count(*) FROM journal WHERE kind = 'lock_takeover'"), 1);
	CHECK(batch_lock_heartbeat(db, id, tok, &err) == 0);

	/* an owner silent for more than two minutes on another host is stale too */
	REQUIRE(db_exec(db, "UPDATE batch_owner SET host = 'elsewhere', pid = 1, heartbeat_at = 0", &err) == 0);
	CHECK(batch_lock_acquire(db, id, "track", &tok2, &err) == 0);
	/* the first owner's heartbeat now fails: it must stop */
	CHECK(batch_lock_heartbeat(db, id, tok, &err) < 0);
	CHECK_CONTAINS(err.msg, "took this batch over");
	batch_lock_release(db, id, tok2);
	CHECK_INT(scalar(db, "SELECT count(*) FROM batch_owner"), 0);
	free(tok);
	free(tok2);
	itemlist_release(&l);
	cJSON_Delete(p);
	db_close(db);
}

static void test_journal(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = fresh_db();
	cJSON *d = cJSON_CreateObject();

	REQUIRE(db != NULL);
	cJSON_AddNumberToObject(d, "active", 31);
	CHECK(journal_add(db, 0, "info", "pause", d, &err, "paused at %d", 31) == 0);
	CHECK_INT(scalar(db, "SELECT json_extract(data, '$.active') FROM journal"), 31);
	CHECK(journal_add(db, 0, "bogus", "x", NULL, &err, "x") < 0); /* CHECK constraint */
	cJSON_Delete(d);
	db_close(db);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_create_then_continue);
	RUN(test_changed_params_refused);
	RUN(test_lock);
	RUN(test_journal);
	test_rmtree(dir);
	return test_done();
}
