/* The simulator's JSON writer: commas and nesting tracked in a small
 * stack, strings escaped per RFC 8259, integers printed as integers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim_json.h"

void jw_init(struct jw *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->b, max, "rendered response");
	w->first[0] = 1;
}

void jw_release(struct jw *w)
{
	buf_release(&w->b);
}

static void put(struct jw *w, const char *s, size_t n)
{
	struct aedb_err err = AEDB_ERR_INIT;

	if (w->failed)
		return;
	if (buf_append(&w->b, s, n, &err) != 0)
		w->failed = 1;
}

void jw_quote(struct buf *b, const char *s, size_t n)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char tmp[8];
	size_t i, run = 0;

	buf_putc(b, '"', &err);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				esc = tmp;
			}
		}
		if (esc) {
			if (run)
				buf_append(b, s + i - run, run, &err);
			run = 0;
			buf_puts(b, esc, &err);
		} else {
			run++;
		}
	}
	if (run)
		buf_append(b, s + n - run, run, &err);
	buf_putc(b, '"', &err);
}

static void key(struct jw *w, const char *k)
{
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = 0;
	if (k) {
		if (!w->failed)
			jw_quote(&w->b, k, strlen(k));
		put(w, ":", 1);
	}
}

void jw_obj(struct jw *w, const char *k)
{
	key(w, k);
	put(w, "{", 1);
	if (w->depth + 1 < JW_DEPTH)
		w->first[++w->depth] = 1;
}

void jw_obj_end(struct jw *w)
{
	put(w, "}", 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_arr(struct jw *w, const char *k)
{
	key(w, k);
	put(w, "[", 1);
	if (w->depth + 1 < JW_DEPTH)
		w->first[++w->depth] = 1;
}

void jw_arr_end(struct jw *w)
{
	put(w, "]", 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_strn(struct jw *w, const char *k, const char *v, size_t n)
{
	key(w, k);
	if (!w->failed)
		jw_quote(&w->b, v, n);
	if (w->b.len >= w->b.max)
		w->failed = 1;
}

void jw_str(struct jw *w, const char *k, const char *v)
{
	if (!v) {
		jw_null(w, k);
		return;
	}
	jw_strn(w, k, v, strlen(v));
}

void jw_int(struct jw *w, const char *k, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	key(w, k);
	put(w, tmp, (size_t)n);
}

void jw_uint(struct jw *w, const char *k, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	key(w, k);
	put(w, tmp, (size_t)n);
}

void jw_dbl(struct jw *w, const char *k, double v)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.17g", v);

	key(w, k);
	put(w, tmp, (size_t)n);
}

void jw_bool(struct jw *w, const char *k, int v)
{
	key(w, k);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w, const char *k)
{
	key(w, k);
	put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *k, const char *json)
{
	key(w, k);
	put(w, json, strlen(json));
}

void jw_time(struct jw *w, const char *k, int64_t ns)
{
	char tmp[64];
	struct tm tm;
	time_t t;
	int n;

	if (ns == 0) {
		jw_null(w, k);
		return;
	}
	t = (time_t)(ns / 1000000000);
	gmtime_r(&t, &tm);
	n = snprintf(tmp, sizeof(tmp), "\"%04d-%02d-%02dT%02d:%02d:%02d.%09dZ\"", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(ns % 1000000000));
	key(w, k);
	put(w, tmp, (size_t)n);
}
