/* The SQLite store: opening, connection settings, migrations and small
 * helpers around prepared statements. Only db.c knows the pragmas. Each
 * thread opens its own connection (struct aedb_db is not shared). */
#ifndef AEDB_DB_H
#define AEDB_DB_H

#include <sqlite3.h>

#include "err.h"
#include "sqlfile.h"

struct aedb_db {
	sqlite3 *conn;
	char *path;
	int readonly;
};

enum db_open_flags {
	DB_OPEN_CREATE = 1 << 0,     /* create the file (mode 0600) if missing */
	DB_OPEN_READONLY = 1 << 1,   /* SQLITE_OPEN_READONLY; never migrates */
	DB_OPEN_NO_MIGRATE = 1 << 2, /* open as is (tests of the migration runner) */
	DB_OPEN_RELAXED = 1 << 3,    /* synchronous=NORMAL: a commit may be lost to a power
				      * failure (never half-applied); for writers whose
				      * state can be rebuilt, like the tracker */
};

/* The database path to use: the flag's value, else $AEDB_DB, else ./aedb.db. */
const char *db_default_path(const char *flag_value);

/* Open path. Unless DB_OPEN_NO_MIGRATE or DB_OPEN_READONLY, migrates the
 * database forward to the binary's version (aedb_migrations_count). A
 * database newer than the binary is refused; a read-only open of an older
 * database is refused with a hint to run `aedb init`. On success *out owns
 * the connection (db_close it). */
int db_open(const char *path, unsigned flags, struct aedb_db **out, struct aedb_err *err);
void db_close(struct aedb_db *db);

/* The schema version the binary carries (= number of migrations). */
int db_binary_version(void);
/* PRAGMA user_version of the open database. */
int db_version(struct aedb_db *db, int *out, struct aedb_err *err);

/* Apply migs[v..n-1] where v is the database's version, each in its own
 * BEGIN IMMEDIATE ... PRAGMA user_version=i+1; COMMIT. On failure the failing
 * migration is rolled back (earlier ones stay) and err names it.
 * *from and *to (may be NULL) receive the versions before and after. */
int db_migrate(struct aedb_db *db, const struct aedb_sqlfile *migs, size_t n,
	       int *from, int *to, struct aedb_err *err);

/* Run SQL with no results (may hold several statements). */
int db_exec(struct aedb_db *db, const char *sql, struct aedb_err *err);
/* Prepare one statement; *out must be sqlite3_finalize()d. */
int db_prepare(struct aedb_db *db, const char *sql, sqlite3_stmt **out, struct aedb_err *err);
/* Step a statement that returns no row (INSERT/UPDATE/DELETE) and reset it. */
int db_step_done(struct aedb_db *db, sqlite3_stmt *st, struct aedb_err *err);

int db_begin(struct aedb_db *db, struct aedb_err *err);   /* BEGIN IMMEDIATE */
int db_commit(struct aedb_db *db, struct aedb_err *err);
void db_rollback(struct aedb_db *db);                      /* never fails the caller */

/* Set err from the connection's last error, with a context. Returns -1. */
int db_err(struct aedb_db *db, struct aedb_err *err, const char *context);

/* Bind helpers: NULL strings bind SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);

#endif
