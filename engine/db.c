/* The store. A database is one SQLite file in WAL mode so that one writer
 * (the submitter) and any number of readers (status, report, the sqlite3
 * shell) work at the same time. Files are created 0600 because job meta and
 * logs may mention paths and names that are not for everyone; SQLite gives
 * the -wal and -shm files the same mode.
 *
 * Migrations are compiled in (the files in migrations/); the database's
 * PRAGMA user_version says how many have been applied. Each runs in its own
 * IMMEDIATE transaction together with the user_version bump, so a failure
 * leaves the database exactly at the previous version. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aedb-config.h"
#include "db.h"
#include "caps.h"
#include "util.h"

const char *db_default_path(const char *flag_value)
{
	const char *env;

	if (flag_value && *flag_value)
		return flag_value;
	env = getenv("AEDB_DB");
	if (env && *env)
		return env;
	return "./aedb.db";
}

int db_binary_version(void)
{
	return (int)aedb_migrations_count;
}

int db_err(struct aedb_db *db, struct aedb_err *err, const char *context)
{
	return aedb_err_set(err, "%s: database '%s': %s", context, db->path,
			    sqlite3_errmsg(db->conn));
}

int db_exec(struct aedb_db *db, const char *sql, struct aedb_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
		aedb_err_set(err, "database '%s': %s", db->path,
			     msg ? msg : sqlite3_errmsg(db->conn));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int db_prepare(struct aedb_db *db, const char *sql, sqlite3_stmt **out, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &st, NULL) != SQLITE_OK) {
		aedb_err_set(err, "database '%s': cannot prepare statement: %s", db->path,
			     sqlite3_errmsg(db->conn));
		sqlite3_finalize(st);
		return -1;
	}
	*out = st;
	return 0;
}

int db_step_done(struct aedb_db *db, sqlite3_stmt *st, struct aedb_err *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(db, err, "write failed");
	return 0;
}

int db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int db_begin(struct aedb_db *db, struct aedb_err *err)
{
	return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_commit(struct aedb_db *db, struct aedb_err *err)
{
	return db_exec(db, "COMMIT", err);
}

void db_rollback(struct aedb_db *db)
{
	if (!sqlite3_get_autocommit(db->conn))
		sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
}

int db_version(struct aedb_db *db, int *out, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "PRAGMA user_version", &st, err) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_err(db, err, "cannot read the schema version");
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int apply_one(struct aedb_db *db, const struct aedb_sqlfile *mig, int version,
		     struct aedb_err *err)
{
	char pragma[64];
	int now;

	if (db_begin(db, err) < 0)
		return -1;
	/* another process may have migrated while we waited for the lock */
	if (db_version(db, &now, err) < 0)
		goto fail;
	if (now >= version) {
		db_rollback(db);
		return 0;
	}
	if (db_exec(db, mig->text, err) < 0) {
		aedb_err_prefix(err, "migration %s failed (the database stays at version %d)",
				mig->name, now);
		goto fail;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", version);
	if (db_exec(db, pragma, err) < 0 || db_commit(db, err) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return -1;
}

int db_migrate(struct aedb_db *db, const struct aedb_sqlfile *migs, size_t n,
	       int *from, int *to, struct aedb_err *err)
{
	int v, start;
	size_t i;

	if (db_version(db, &start, err) < 0)
		return -1;
	if (start > (int)n)
		return aedb_err_set(err,
				    "database '%s' is at schema version %d, newer than this aedb "
				    "(%s) knows (version %zu); use a newer aedb",
				    db->path, start, AEDB_VERSION, n);
	for (i = (size_t)start; i < n; i++) {
		if (apply_one(db, &migs[i], (int)i + 1, err) < 0)
			return -1;
	}
	if (db_version(db, &v, err) < 0)
		return -1;
	if (from)
		*from = start;
	if (to)
		*to = v;
	return 0;
}

/* Create the file with mode 0600 ourselves, so SQLite never creates it with
 * the umask's mode. O_EXCL: if it appeared meanwhile we just use it. */
static int create_file(const char *path, struct aedb_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		return aedb_err_set(err, "cannot create database '%s': %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

static int set_pragmas(struct aedb_db *db, struct aedb_err *err)
{
	sqlite3_busy_timeout(db->conn, AEDB_BUSY_TIMEOUT_MS);
	if (db_exec(db, "PRAGMA foreign_keys=ON", err) < 0)
		return -1;
	if (db->readonly)
		return db_exec(db, "PRAGMA query_only=ON", err);
	return 0;
}

/* Called only once the version check passed, so a database we refuse is
 * never changed. WAL: readers never block the writer. synchronous=FULL: a
 * commit survives power loss, which exactly-once dispatch relies on. */
static int set_write_pragmas(struct aedb_db *db, int relaxed, struct aedb_err *err)
{
	if (db->readonly)
		return 0;
	if (db_exec(db, "PRAGMA journal_mode=WAL", err) < 0)
		return -1;
	return db_exec(db, relaxed ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", err);
}

int db_open(const char *path, unsigned flags, struct aedb_db **out, struct aedb_err *err)
{
	struct aedb_db *db = NULL;
	struct stat stbuf;
	int oflags, version, rc;

	if (!path || !*path)
		return aedb_err_setk(err, AEDB_E_USAGE, "no database path given");
	if (stat(path, &stbuf) < 0) {
		if (errno != ENOENT)
			return aedb_err_set(err, "cannot open database '%s': %s", path,
					    strerror(errno));
		if (!(flags & DB_OPEN_CREATE))
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "database '%s' does not exist; run 'aedb init' "
					     "or give the right path with --db",
					     path);
		if (flags & DB_OPEN_READONLY)
			return aedb_err_setk(err, AEDB_E_USAGE, "database '%s' does not exist", path);
		if (create_file(path, err) < 0)
			return -1;
	} else if (S_ISDIR(stbuf.st_mode)) {
		return aedb_err_setk(err, AEDB_E_USAGE, "database '%s' is a directory", path);
	}

	db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	db->readonly = !!(flags & DB_OPEN_READONLY);
	oflags = SQLITE_OPEN_NOMUTEX | (db->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
	rc = sqlite3_open_v2(path, &db->conn, oflags, NULL);
	if (rc != SQLITE_OK) {
		aedb_err_set(err, "cannot open database '%s': %s", path,
			     db->conn ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->conn, 1);
	/* SQLite quietly opens a write-protected file read-only; say so now
	 * rather than fail on the first write */
	if (!db->readonly && sqlite3_db_readonly(db->conn, "main") == 1) {
		aedb_err_set(err, "database '%s' is read-only (check its permissions and its folder's)",
			     path);
		goto fail;
	}
	if (set_pragmas(db, err) < 0)
		goto fail;
	if (db_version(db, &version, err) < 0)
		goto fail;
	if (version > db_binary_version()) {
		aedb_err_set(err,
			     "database '%s' is at schema version %d, newer than this aedb (%s, "
			     "schema version %d) knows; use a newer aedb",
			     path, version, AEDB_VERSION, db_binary_version());
		goto fail;
	}
	if (set_write_pragmas(db, !!(flags & DB_OPEN_RELAXED), err) < 0)
		goto fail;
	if (!(flags & DB_OPEN_NO_MIGRATE) && version < db_binary_version()) {
		if (db->readonly) {
			aedb_err_set(err,
				     "database '%s' is at schema version %d and this aedb needs "
				     "version %d; run 'aedb init --db %s' to migrate it",
				     path, version, db_binary_version(), path);
			goto fail;
		}
		if (db_migrate(db, aedb_migrations, aedb_migrations_count, NULL, NULL, err) < 0)
			goto fail;
	}
	*out = db;
	return 0;
fail:
	db_close(db);
	return -1;
}

void db_close(struct aedb_db *db)
{
	if (!db)
		return;
	sqlite3_close_v2(db->conn);
	free(db->path);
	free(db);
}
