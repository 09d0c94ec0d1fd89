/* Small helpers every module needs: memory that cannot fail silently, strict
 * number parsing (instead of atoi), clocks and sizes. */
#ifndef AEDB_UTIL_H
#define AEDB_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Allocation failure is not recoverable for a command-line tool: these print
 * one line and abort, so callers never handle NULL from them. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a whole decimal integer in [min, max]; whitespace, signs out of
 * range or trailing text are errors. *out is written only on success. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_int(const char *s, int min, int max, int *out);
/* Parse a non-negative decimal number of seconds ("10", "2.5"). */
int parse_seconds(const char *s, double max, double *out);
/* Parse a byte size: "123", "6GiB", "512MiB", "1.5GB", "64k"; binary units
 * for KiB/MiB/GiB/TiB and K/M/G/T, decimal for KB/MB/GB/TB. */
int parse_size(const char *s, uint64_t *out);

/* Wall clock as Unix nanoseconds: the unit of every time in the database. */
int64_t aedb_now_ns(void);
/* Monotonic clock in nanoseconds, for timeouts and rates. */
int64_t aedb_mono_ns(void);
/* Sleep; returns early (with the remaining time unslept) on a signal. */
void aedb_sleep_ns(int64_t ns);
/* Format a Unix-ns time as RFC 3339 UTC with milliseconds into out. */
void aedb_format_time(int64_t ns, char *out, size_t size);

/* The host name, for lock rows and journal entries. */
const char *aedb_hostname(void);

/* Does s start with prefix? */
int str_starts(const char *s, const char *prefix);

#endif
