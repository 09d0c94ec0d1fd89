/* The filter language of Nomad's list endpoints (go-bexpr), the part the
 * simulator supports: a recursive-descent parser into a small tree, and
 * an evaluator over field getters supplied by the caller. Anything outside
 * the subset is a parse error, which the API turns into Nomad's 400. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_filter.h"
#include "util.h"

enum node_op { N_AND, N_OR, N_NOT, N_EQ, N_NE, N_CONTAINS, N_MATCHES, N_IN, N_EMPTY };

struct fnode {
	enum node_op op;
	int negate;                /* not contains / not matches / not in / is not empty */
	struct fnode *l, *r;
	char *field, *key;         /* selector */
	char *value;               /* literal (string form) */
	int value_is_str;          /* quoted literal */
	regex_t re;
	int has_re;
};

struct sim_filter {
	struct fnode *root;
	const struct sim_filter_target *t;
};

struct parser {
	const char *p;
	char *err;
	size_t errlen;
	int failed;
	const struct sim_filter_target *t;
};

static void fnode_free(struct fnode *n)
{
	if (!n)
		return;
	fnode_free(n->l);
	fnode_free(n->r);
	free(n->field);
	free(n->key);
	free(n->value);
	if (n->has_re)
		regfree(&n->re);
	free(n);
}

static void perr(struct parser *ps, const char *what)
{
	if (ps->failed)
		return;
	ps->failed = 1;
	snprintf(ps->err, ps->errlen, "%s", what);
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
		ps->p++;
}

static int is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Is the next word exactly w (followed by a non-identifier char)? */
static int peek_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	skip_ws(ps);
	return strncmp(ps->p, w, n) == 0 && !is_ident(ps->p[n]);
}

static int eat_word(struct parser *ps, const char *w)
{
	if (!peek_word(ps, w))
		return 0;
	ps->p += strlen(w);
	return 1;
}

static char *parse_string(struct parser *ps)
{
	char q = *ps->p;
	char *out = xmalloc(strlen(ps->p) + 1);
	size_t n = 0;

	ps->p++;
	while (*ps->p && *ps->p != q) {
		if (q == '"' && *ps->p == '\\' && ps->p[1]) {
			char c = ps->p[1];

			ps->p += 2;
			switch (c) {
			case 'n': out[n++] = '\n'; break;
			case 't': out[n++] = '\t'; break;
			case 'r': out[n++] = '\r'; break;
			default: out[n++] = c; break;
			}
			continue;
		}
		out[n++] = *ps->p++;
	}
	if (*ps->p != q) {
		free(out);
		perr(ps, "unterminated string");
		return NULL;
	}
	ps->p++;
	out[n] = '\0';
	return out;
}

/* A literal value: quoted string, number, true/false. */
static char *parse_value(struct parser *ps, int *is_str)
{
	const char *start;

	skip_ws(ps);
	if (*ps->p == '"' || *ps->p == '`') {
		*is_str = 1;
		return parse_string(ps);
	}
	*is_str = 0;
	start = ps->p;
	while (is_ident(*ps->p) || *ps->p == '.')
		ps->p++;
	if (ps->p == start) {
		perr(ps, "no match found, expected a value");
		return NULL;
	}
	return xstrndup(start, (size_t)(ps->p - start));
}

static int parse_selector(struct parser *ps, struct fnode *n)
{
	const char *start;

	skip_ws(ps);
	start = ps->p;
	while (is_ident(*ps->p))
		ps->p++;
	if (ps->p == start) {
		perr(ps, "no match found, expected a selector");
		return -1;
	}
	n->field = xstrndup(start, (size_t)(ps->p - start));
	if (*ps->p == '.') {
		ps->p++;
		start = ps->p;
		while (is_ident(*ps->p))
			ps->p++;
		if (ps->p == start) {
			perr(ps, "no match found, expected a map key");
			return -1;
		}
		n->key = xstrndup(start, (size_t)(ps->p - start));
	} else if (*ps->p == '[') {
		ps->p++;
		skip_ws(ps);
		if (*ps->p != '"' && *ps->p != '`') {
			perr(ps, "no match found, expected a quoted map key");
			return -1;
		}
		n->key = parse_string(ps);
		if (!n->key)
			return -1;
		skip_ws(ps);
		if (*ps->p != ']') {
			perr(ps, "no match found, expected \"]\"");
			return -1;
		}
		ps->p++;
	}
	if (*ps->p == '.' || *ps->p == '[') {
		perr(ps, "nested selectors are not supported by the simulator");
		return -1;
	}
	if (ps->t) {
		struct fval v;
		char msg[256];

		if (ps->t->get(NULL, n->field, n->key, &v) != 0) {
			snprintf(msg, sizeof(msg),
				 "Selector %s is not valid: couldn't find key: struct field with name \"%s\" in %s",
				 n->field, n->field, ps->t->type_name);
			perr(ps, msg);
			return -1;
		}
	}
	return 0;
}

static struct fnode *parse_or(struct parser *ps);

static struct fnode *parse_match(struct parser *ps)
{
	struct fnode *n = xcalloc(1, sizeof(*n));

	skip_ws(ps);
	if (*ps->p == '"' || *ps->p == '`' || (*ps->p >= '0' && *ps->p <= '9')) {
		/* "v" [not] in Selector */
		n->value = parse_value(ps, &n->value_is_str);
		if (!n->value)
			goto fail;
		if (eat_word(ps, "not"))
			n->negate = 1;
		if (!eat_word(ps, "in")) {
			perr(ps, "no match found, expected \"in\" or \"not in\"");
			goto fail;
		}
		n->op = N_IN;
		if (parse_selector(ps, n) != 0)
			goto fail;
		return n;
	}
	if (parse_selector(ps, n) != 0)
		goto fail;
	skip_ws(ps);
	if (strncmp(ps->p, "==", 2) == 0 || strncmp(ps->p, "!=", 2) == 0) {
		n->op = ps->p[0] == '=' ? N_EQ : N_NE;
		ps->p += 2;
		n->value = parse_value(ps, &n->value_is_str);
		if (!n->value)
			goto fail;
		return n;
	}
	if (eat_word(ps, "is")) {
		n->op = N_EMPTY;
		if (eat_word(ps, "not"))
			n->negate = 1;
		if (!eat_word(ps, "empty")) {
			perr(ps, "no match found, expected \"empty\"");
			goto fail;
		}
		return n;
	}
	if (eat_word(ps, "not"))
		n->negate = 1;
	if (eat_word(ps, "contains")) {
		n->op = N_CONTAINS;
	} else if (eat_word(ps, "matches")) {
		n->op = N_MATCHES;
	} else {
		perr(ps, "no match found, expected one of \"!=\", \"==\", \"contains\", \"is\", \"matches\", \"not\"");
		goto fail;
	}
	n->value = parse_value(ps, &n->value_is_str);
	if (!n->value)
		goto fail;
	if (n->op == N_MATCHES) {
		char msg[256];
		int rc = regcomp(&n->re, n->value, REG_EXTENDED | REG_NOSUB);

		if (rc != 0) {
			char rerr[128];

			regerror(rc, &n->re, rerr, sizeof(rerr));
			snprintf(msg, sizeof(msg), "error parsing regexp: %s: `%s`", rerr, n->value);
			perr(ps, msg);
			goto fail;
		}
		n->has_re = 1;
	}
	return n;
fail:
	fnode_free(n);
	return NULL;
}

static struct fnode *parse_unary(struct parser *ps)
{
	skip_ws(ps);
	if (*ps->p == '(') {
		struct fnode *n;

		ps->p++;
		n = parse_or(ps);
		if (!n)
			return NULL;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, "no match found, expected \")\"");
			fnode_free(n);
			return NULL;
		}
		ps->p++;
		return n;
	}
	if (peek_word(ps, "not")) {
		const char *save = ps->p;
		struct fnode *n;

		ps->p += 3;
		skip_ws(ps);
		/* "not" as a prefix operator; a selector named "not..." is not ours */
		n = xcalloc(1, sizeof(*n));
		n->op = N_NOT;
		n->l = parse_unary(ps);
		if (!n->l) {
			fnode_free(n);
			ps->p = save;
			return NULL;
		}
		return n;
	}
	return parse_match(ps);
}

static struct fnode *parse_and(struct parser *ps)
{
	struct fnode *l = parse_unary(ps);

	while (l && eat_word(ps, "and")) {
		struct fnode *n = xcalloc(1, sizeof(*n));

		n->op = N_AND;
		n->l = l;
		n->r = parse_unary(ps);
		if (!n->r) {
			fnode_free(n);
			return NULL;
		}
		l = n;
	}
	return l;
}

static struct fnode *parse_or(struct parser *ps)
{
	struct fnode *l = parse_and(ps);

	while (l && eat_word(ps, "or")) {
		struct fnode *n = xcalloc(1, sizeof(*n));

		n->op = N_OR;
		n->l = l;
		n->r = parse_and(ps);
		if (!n->r) {
			fnode_free(n);
			return NULL;
		}
		l = n;
	}
	return l;
}

int sim_filter_parse(const char *text, const struct sim_filter_target *t, struct sim_filter **out,
		     char *err, size_t errlen)
{
	struct parser ps = { .p = text, .err = err, .errlen = errlen, .t = t };
	struct fnode *root = parse_or(&ps);
	struct sim_filter *f;

	if (root) {
		skip_ws(&ps);
		if (*ps.p) {
			perr(&ps, "no match found, expected end of input, \"and\" or \"or\"");
			fnode_free(root);
			root = NULL;
		}
	}
	if (!root) {
		if (!ps.failed)
			perr(&ps, "empty expression");
		/* position of the failure, as go-bexpr's PEG parser reports it */
		{
			char tmp[512];
			int col = (int)(ps.p - text) + 1;

			snprintf(tmp, sizeof(tmp), "1:%d (%d): %s", col, col - 1, err);
			snprintf(err, errlen, "%s", tmp);
		}
		return -1;
	}
	f = xcalloc(1, sizeof(*f));
	f->root = root;
	f->t = t;
	*out = f;
	return 0;
}

static int map_has(const struct fval *m, const char *key)
{
	const char *p = m->map, *end = m->map + m->map_len;

	while (p && p < end) {
		const char *v = p + strlen(p) + 1;

		if (strcmp(p, key) == 0)
			return 1;
		p = v + strlen(v) + 1;
	}
	return 0;
}

static int value_equals(const struct fnode *n, const struct fval *v)
{
	switch (v->type) {
	case FV_STR:
		return strcmp(v->s, n->value) == 0;
	case FV_BOOL:
		if (strcmp(n->value, "true") == 0)
			return v->i == 1;
		if (strcmp(n->value, "false") == 0)
			return v->i == 0;
		return 0;
	case FV_INT: {
		int64_t x;

		return parse_i64(n->value, INT64_MIN, INT64_MAX, &x) == 0 && x == v->i;
	}
	default:
		return 0;
	}
}

static int eval(const struct sim_filter *f, const struct fnode *n, const void *obj)
{
	struct fval v = { FV_MISSING, NULL, 0, NULL, 0 };
	int r = 0;

	switch (n->op) {
	case N_AND:
		return eval(f, n->l, obj) && eval(f, n->r, obj);
	case N_OR:
		return eval(f, n->l, obj) || eval(f, n->r, obj);
	case N_NOT:
		return !eval(f, n->l, obj);
	default:
		break;
	}
	if (f->t->get(obj, n->field, n->key, &v) != 0)
		return 0;
	switch (n->op) {
	case N_EQ:
		r = value_equals(n, &v);
		break;
	case N_NE:
		r = !value_equals(n, &v);
		break;
	case N_CONTAINS:
	case N_IN:
		if (v.type == FV_STR)
			r = strstr(v.s, n->value) != NULL;
		else if (v.type == FV_MAP)
			r = map_has(&v, n->value);
		break;
	case N_MATCHES:
		r = v.type == FV_STR && regexec(&n->re, v.s, 0, NULL, 0) == 0;
		break;
	case N_EMPTY:
		if (v.type == FV_STR)
			r = v.s[0] == '\0';
		else if (v.type == FV_MAP)
			r = v.map_len == 0;
		else
			r = v.type == FV_MISSING;
		break;
	default:
		break;
	}
	return n->negate ? !r : r;
}

int sim_filter_match(const struct sim_filter *f, const void *obj)
{
	return eval(f, f->root, obj);
}

void sim_filter_free(struct sim_filter *f)
{
	if (!f)
		return;
	fnode_free(f->root);
	free(f);
}
