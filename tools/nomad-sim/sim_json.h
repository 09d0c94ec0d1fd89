/* A streaming JSON writer into a struct buf: the simulator renders every
 * response on demand from its compact structs (no cJSON trees), and writes
 * 64-bit integers exactly (nanosecond times exceed a double's 2^53). */
#ifndef SIM_JSON_H
#define SIM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JW_DEPTH 32

struct jw {
	struct buf b;
	int depth;
	int first[JW_DEPTH];
	int failed;           /* a cap was hit: the caller answers 500 */
};

void jw_init(struct jw *w, size_t max);
void jw_release(struct jw *w);
/* key may be NULL inside arrays or at the top. */
void jw_obj(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v); /* NULL -> null */
void jw_strn(struct jw *w, const char *key, const char *v, size_t n);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
void jw_dbl(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, int v);
void jw_null(struct jw *w, const char *key);
/* A pre-rendered JSON value. */
void jw_raw(struct jw *w, const char *key, const char *json);
/* RFC 3339 with nanoseconds, or null when ns == 0 (Go's zero time.Time). */
void jw_time(struct jw *w, const char *key, int64_t ns);
/* Append s as a JSON string literal (quotes included) to b. */
void jw_quote(struct buf *b, const char *s, size_t n);

#endif
