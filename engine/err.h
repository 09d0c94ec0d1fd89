/* Errors returned by engine functions: a status plus a message a user can
 * act on. The engine never prints; cmd/ does. */
#ifndef AEDB_ERR_H
#define AEDB_ERR_H

#include "caps.h"

enum aedb_err_kind {
	AEDB_E_NONE = 0,
	AEDB_E_RUNTIME,     /* I/O, network, database: exit 1 */
	AEDB_E_USAGE,       /* the user's input is wrong: exit 2 */
	AEDB_E_INTERRUPTED, /* a signal asked us to stop: exit 130 */
};

struct aedb_err {
	enum aedb_err_kind kind;
	char msg[AEDB_ERR_MAX];
};

#define AEDB_ERR_INIT { AEDB_E_NONE, { 0 } }

/* Set a runtime error. Always returns -1 so callers can `return aedb_err_set(...)`. */
int aedb_err_set(struct aedb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, with an explicit kind. */
int aedb_err_setk(struct aedb_err *err, enum aedb_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put context in front of an existing message: "ctx: old message". */
void aedb_err_prefix(struct aedb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void aedb_err_clear(struct aedb_err *err);
/* The exit code (engine/exitcode.h) that fits this error. */
int aedb_err_exit_code(const struct aedb_err *err);

#endif
