/* A growable byte buffer with a named cap. The contents are always
 * NUL-terminated (the NUL is not counted in len), so text can be used as a
 * C string directly. */
#ifndef AEDB_BUF_H
#define AEDB_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
	char *data;   /* NULL until the first append */
	size_t len;
	size_t alloc;
	size_t max;   /* the cap on len; appending past it is an error */
	const char *what; /* names the buffer in the cap error, e.g. "HTTP response" */
};

void buf_init(struct buf *b, size_t max, const char *what);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, memory kept */
int buf_append(struct buf *b, const void *p, size_t n, struct aedb_err *err);
int buf_puts(struct buf *b, const char *s, struct aedb_err *err);
int buf_putc(struct buf *b, char c, struct aedb_err *err);
int buf_printf(struct buf *b, struct aedb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Little-endian binary: a uint32 and an IEEE double (WKB, GeoPackage blobs). */
int buf_put_le32(struct buf *b, uint32_t v, struct aedb_err *err);
int buf_put_le_double(struct buf *b, double d, struct aedb_err *err);
/* The text; "" for an empty buffer (never NULL). */
const char *buf_str(const struct buf *b);
/* Hand the memory to the caller (free() it); the buffer is reset to empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
