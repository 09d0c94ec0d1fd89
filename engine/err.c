/* Error messages: fixed-size, so reporting an error never fails for want of
 * memory. A message that does not fit is cut with "..." (the only place a cut
 * is allowed, because the alternative is losing the error). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "exitcode.h"

static void mark_cut(char *msg, size_t size, int n)
{
	if (n >= 0 && (size_t)n >= size && size > 4)
		memcpy(msg + size - 4, "...", 4);
}

static void vset(struct aedb_err *err, enum aedb_err_kind kind, const char *fmt, va_list ap)
{
	int n;

	if (!err)
		return;
	err->kind = kind;
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	mark_cut(err->msg, sizeof(err->msg), n);
}

int aedb_err_set(struct aedb_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, AEDB_E_RUNTIME, fmt, ap);
	va_end(ap);
	return -1;
}

int aedb_err_setk(struct aedb_err *err, enum aedb_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

void aedb_err_prefix(struct aedb_err *err, const char *fmt, ...)
{
	char old[AEDB_ERR_MAX];
	char ctx[AEDB_ERR_MAX];
	va_list ap;
	int n;

	if (!err)
		return;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	n = snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old);
	mark_cut(err->msg, sizeof(err->msg), n);
	if (err->kind == AEDB_E_NONE)
		err->kind = AEDB_E_RUNTIME;
}

void aedb_err_clear(struct aedb_err *err)
{
	if (!err)
		return;
	err->kind = AEDB_E_NONE;
	err->msg[0] = '\0';
}

int aedb_err_exit_code(const struct aedb_err *err)
{
	switch (err->kind) {
	case AEDB_E_NONE:
		return AEDB_EXIT_OK;
	case AEDB_E_USAGE:
		return AEDB_EXIT_USAGE;
	case AEDB_E_INTERRUPTED:
		return AEDB_EXIT_INTERRUPTED;
	case AEDB_E_RUNTIME:
	default:
		return AEDB_EXIT_FAILURE;
	}
}
