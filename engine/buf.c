/* Growable buffers: the one place that grows memory for text and bytes, so
 * every cap is checked the same way. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

void buf_init(struct buf *b, size_t max, const char *what)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
	b->what = what ? what : "buffer";
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int grow(struct buf *b, size_t extra, struct aedb_err *err)
{
	size_t need, n;

	if (extra > b->max || b->len > b->max - extra)
		return aedb_err_set(err, "%s is larger than its limit of %zu bytes", b->what, b->max);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > ((size_t)-1) / 2 ? need : n * 2;
	b->data = xrealloc(b->data, n);
	b->alloc = n;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n, struct aedb_err *err)
{
	if (grow(b, n, err) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s, struct aedb_err *err)
{
	return buf_append(b, s, strlen(s), err);
}

int buf_putc(struct buf *b, char c, struct aedb_err *err)
{
	return buf_append(b, &c, 1, err);
}

int buf_printf(struct buf *b, struct aedb_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return aedb_err_set(err, "cannot format text for %s", b->what);
	if (grow(b, (size_t)n, err) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_put_le32(struct buf *b, uint32_t v, struct aedb_err *err)
{
	unsigned char le[4] = { (unsigned char)v, (unsigned char)(v >> 8),
				(unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	return buf_append(b, le, 4, err);
}

int buf_put_le_double(struct buf *b, double d, struct aedb_err *err)
{
	unsigned char le[8];
	uint64_t v;
	int i;

	memcpy(&v, &d, 8);
	for (i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	return buf_append(b, le, 8, err);
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data ? b->data : xstrdup("");

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}
