/* engine/db.c: opening, pragmas, the migration runner and the schema file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/buf.h"
#include "engine/db.h"
#include "engine/util.h"
#include "test.h"

static char tmpdir[] = "/tmp/aedb-test-db-XXXXXX";
static int counter;

static char *tmp_path(void)
{
	return xasprintf("%s/db%d.sqlite", tmpdir, ++counter);
}

static char *slurp(const char *path, size_t *len)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;
	char chunk[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 64u << 20, "file");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n, &err);
	fclose(f);
	return buf_detach(&b, len);
}

static int same_file(const char *path, const char *content, size_t len)
{
	size_t now_len = 0;
	char *now = slurp(path, &now_len);
	int same = now && now_len == len && memcmp(now, content, len) == 0;

	free(now);
	return same;
}

/* The schema as text: every object's type, name and SQL with white space
 * folded, sorted, so two databases compare by what they contain. */
static char *schema_of(sqlite3 *conn)
{
	struct aedb_err err = AEDB_ERR_INIT;
	sqlite3_stmt *st = NULL;
	struct buf b;

	buf_init(&b, 1u << 22, "schema");
	sqlite3_prepare_v2(conn,
			   "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema "
			   "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
			   -1, &st, NULL);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(st, 3);
		int space = 0;

		buf_printf(&b, &err, "%s %s %s ", sqlite3_column_text(st, 0),
			   sqlite3_column_text(st, 1), sqlite3_column_text(st, 2));
		for (; *sql; sql++) {
			if (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r') {
				space = 1;
				continue;
			}
			if (space)
				buf_putc(&b, ' ', &err);
			space = 0;
			buf_putc(&b, *sql, &err);
		}
		buf_putc(&b, '\n', &err);
	}
	sqlite3_finalize(st);
	return buf_detach(&b, NULL);
}

static int user_version(sqlite3 *conn)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	sqlite3_prepare_v2(conn, "PRAGMA user_version", -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *pragma_text(sqlite3 *conn, const char *pragma)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	sqlite3_prepare_v2(conn, pragma, -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void test_fresh_database(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path(), *mode = NULL, *fk = NULL;
	struct stat st;

	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(user_version(db->conn), db_binary_version());
	CHECK(db_binary_version() >= 1);
	mode = pragma_text(db->conn, "PRAGMA journal_mode");
	fk = pragma_text(db->conn, "PRAGMA foreign_keys");
	CHECK_STR(mode, "wal");
	CHECK_STR(fk, "1");
	db_close(db);
	free(mode);
	free(fk);
	free(path);
}

static void test_missing_without_create(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path();

	CHECK(db_open(path, 0, &db, &err) < 0);
	CHECK_CONTAINS(err.msg, "does not exist");
	CHECK_CONTAINS(err.msg, "aedb init");
	CHECK(access(path, F_OK) < 0);
	free(path);
}

static void test_schema_file_matches_migrations(void)
{
	const char *schema_path = getenv("AEDB_SCHEMA_FILE");
	sqlite3 *mem = NULL, *mig = NULL;
	char *text = NULL, *a = NULL, *b = NULL, *msg = NULL;
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path();

	REQUIRE(schema_path != NULL);
	text = slurp(schema_path, NULL);
	REQUIRE(text != NULL);
	REQUIRE(sqlite3_open(":memory:", &mem) == SQLITE_OK);
	if (sqlite3_exec(mem, text, NULL, NULL, &msg) != SQLITE_OK)
		printf("# schema/aedb.sql does not run: %s\n", msg);
	CHECK(msg == NULL);
	sqlite3_free(msg);
	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	a = schema_of(mem);
	b = schema_of(db->conn);
	if (strcmp(a, b) != 0)
		printf("# schema/aedb.sql differs from the migrations; regenerate it "
		       "(docs/development.md)\n# file:\n%s\n# migrations:\n%s\n", a, b);
	CHECK(strcmp(a, b) == 0);
	CHECK_INT(user_version(mem), db_binary_version());
	(void)mig;
	db_close(db);
	sqlite3_close(mem);
	free(a);
	free(b);
	free(text);
	free(path);
}

static void test_upgrade_from_every_version(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *ref = NULL;
	char *ref_path = tmp_path(), *want;
	int v;

	REQUIRE(db_open(ref_path, DB_OPEN_CREATE, &ref, &err) == 0);
	want = schema_of(ref->conn);
	for (v = 0; v < db_binary_version(); v++) {
		struct aedb_db *db = NULL;
		char *path = tmp_path(), *got;
		int from = -1, to = -1;

		REQUIRE(db_open(path, DB_OPEN_CREATE | DB_OPEN_NO_MIGRATE, &db, &err) == 0);
		CHECK(db_migrate(db, aedb_migrations, (size_t)v, &from, &to, &err) == 0);
		CHECK_INT(to, v);
		db_close(db);
		db = NULL;
		/* a normal open migrates it the rest of the way */
		CHECK(db_open(path, 0, &db, &err) == 0);
		if (!db) {
			printf("# %s\n", err.msg);
			free(path);
			continue;
		}
		CHECK_INT(user_version(db->conn), db_binary_version());
		got = schema_of(db->conn);
		CHECK(strcmp(got, want) == 0);
		free(got);
		db_close(db);
		free(path);
	}
	db_close(ref);
	free(want);
	free(ref_path);
}

static void test_newer_database_refused(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path(), *before, *expect;
	char pragma[64];
	size_t len;

	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", db_binary_version() + 5);
	REQUIRE(db_exec(db, pragma, &err) == 0);
	REQUIRE(db_exec(db, "PRAGMA journal_mode=DELETE", &err) == 0);
	db_close(db);
	db = NULL;
	before = slurp(path, &len);
	REQUIRE(before != NULL);

	CHECK(db_open(path, 0, &db, &err) < 0);
	expect = xasprintf("schema version %d", db_binary_version() + 5);
	CHECK_CONTAINS(err.msg, expect);
	free(expect);
	expect = xasprintf("schema version %d) knows", db_binary_version());
	CHECK_CONTAINS(err.msg, expect);
	free(expect);
	CHECK(db_open(path, DB_OPEN_NO_MIGRATE, &db, &err) < 0);
	CHECK(db_open(path, DB_OPEN_READONLY, &db, &err) < 0);
	CHECK(same_file(path, before, len));
	free(before);
	free(path);
}

static const struct aedb_sqlfile good_then_bad[] = {
	{ "0001_good.sql", "CREATE TABLE a (x INTEGER);" },
	{ "0002_bad.sql", "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); "
			  "INSERT INTO no_such_table VALUES (1);" },
	{ "0003_never.sql", "CREATE TABLE c (x INTEGER);" },
};

static int table_exists(sqlite3 *conn, const char *name)
{
	sqlite3_stmt *st = NULL;
	int found;

	sqlite3_prepare_v2(conn, "SELECT 1 FROM sqlite_schema WHERE name = ?", -1, &st, NULL);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static void test_failing_migration_rolls_back(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path();
	sqlite3_stmt *st = NULL;

	REQUIRE(db_open(path, DB_OPEN_CREATE | DB_OPEN_NO_MIGRATE, &db, &err) == 0);
	CHECK(db_migrate(db, good_then_bad, 3, NULL, NULL, &err) < 0);
	CHECK_CONTAINS(err.msg, "migration 0002_bad.sql failed");
	CHECK_CONTAINS(err.msg, "stays at version 1");
	CHECK_CONTAINS(err.msg, "no_such_table");
	CHECK_INT(user_version(db->conn), 1);
	CHECK(table_exists(db->conn, "a"));
	CHECK(!table_exists(db->conn, "b"));
	CHECK(!table_exists(db->conn, "c"));
	sqlite3_prepare_v2(db->conn, "SELECT count(*) FROM a", -1, &st, NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
	sqlite3_finalize(st);
	CHECK(sqlite3_get_autocommit(db->conn)); /* no transaction left open */
	db_close(db);
	free(path);
}

static void test_readonly_open_never_migrates(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path(), *before;
	size_t len;

	REQUIRE(db_open(path, DB_OPEN_CREATE | DB_OPEN_NO_MIGRATE, &db, &err) == 0);
	db_close(db);
	db = NULL;
	before = slurp(path, &len);
	CHECK(db_open(path, DB_OPEN_READONLY, &db, &err) < 0);
	CHECK_CONTAINS(err.msg, "aedb init");
	CHECK(same_file(path, before, len));
	free(before);
	free(path);
}

/* A write-protected file must give a clear error. Root ignores file modes,
 * so as root the check runs in a child that drops to 'nobody'. */
static void test_write_protected_file(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	char *path = tmp_path();
	pid_t pid;
	int status = 0;

	REQUIRE(db_open(path, DB_OPEN_CREATE, &db, &err) == 0);
	db_close(db);
	db = NULL;
	REQUIRE(chmod(path, 0444) == 0);
	REQUIRE(chmod(tmpdir, 0755) == 0);
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		if (db_open(path, 0, &db, &err) == 0)
			_exit(1);
		_exit(strstr(err.msg, "read-only") ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_fresh_database);
	RUN(test_missing_without_create);
	RUN(test_schema_file_matches_migrations);
	RUN(test_upgrade_from_every_version);
	RUN(test_newer_database_refused);
	RUN(test_failing_migration_rolls_back);
	RUN(test_readonly_open_never_migrates);
	RUN(test_write_protected_file);
	test_rmtree(tmpdir);
	return test_done();
}
