/* A parser and evaluator for the subset of go-bexpr filter expressions a
 * Nomad client uses on /v1/jobs and /v1/allocations: ==, !=, contains,
 * not contains, matches, not matches (POSIX extended regex), in, not in,
 * is empty, is not empty, and, or, not, parentheses; selectors are field
 * names, map keys as Meta.key or Meta["key"]. */
#ifndef SIM_FILTER_H
#define SIM_FILTER_H

#include <stddef.h>
#include <stdint.h>

enum fv_type { FV_MISSING, FV_STR, FV_BOOL, FV_INT, FV_MAP };

struct fval {
	enum fv_type type;
	const char *s;          /* FV_STR */
	int64_t i;              /* FV_BOOL, FV_INT */
	const char *map;        /* FV_MAP: packed "k\0v\0" pairs */
	size_t map_len;
};

/* Resolve a selector on an object: field "Meta" with key NULL is the map,
 * with key "k" the value (FV_MISSING when absent). Return -1 for a field
 * the object does not have (the filter is then refused). */
struct sim_filter_target {
	int (*get)(const void *obj, const char *field, const char *key, struct fval *out);
	const char *type_name;  /* for error texts: "structs.Job" */
};

struct sim_filter;

/* Parse text. On error returns -1 and writes a message into err. The
 * target is used to check selectors against a sample object. */
int sim_filter_parse(const char *text, const struct sim_filter_target *t,
		     struct sim_filter **out, char *err, size_t errlen);
int sim_filter_match(const struct sim_filter *f, const void *obj);
void sim_filter_free(struct sim_filter *f);

#endif
