/* Item lists as the upstream tool reads them (one id per line, blank lines
 * skipped, surrounding white space stripped) plus the checks it lacked: a
 * BOM and CRLF are tolerated, ids that would break Nomad job id tags are
 * refused, duplicates are reported and kept once. */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itemlist.h"
#include "caps.h"
#include "util.h"

#define MAX_PROBLEMS_SHOWN 50
#define STR_(x) #x
#define STR(x) STR_(x)

void itemlist_init(struct item_list *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->warnings, 1u << 20, "item list warnings");
}

void itemlist_release(struct item_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].name);
	free(l->items);
	buf_release(&l->warnings);
	memset(l, 0, sizeof(*l));
}

/* Length of the valid UTF-8 sequence at p, or 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf && (p[1] & 0xc0) == 0x80)
		return 2;
	if (p[0] >= 0xe0 && p[0] <= 0xef && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))
			return 0;
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80 &&
	    (p[3] & 0xc0) == 0x80) {
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static const char *bad_char_reason(unsigned char c)
{
	switch (c) {
	case '/': return "'/' is not allowed in an item id";
	case '&': return "'&' is not allowed in an item id";
	case ',': return "',' is not allowed in an item id";
	case '[': return "'[' is not allowed in an item id";
	case ']': return "']' is not allowed in an item id";
	case '=': return "'=' is not allowed in an item id";
	default: return "':' is not allowed in an item id";
	}
}

int itemlist_valid_id(const char *s, const char **why)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *reason = NULL;

	if (!*p)
		reason = "the id is empty";
	else if (strlen(s) > AEDB_ITEM_ID_MAX)
		reason = "the id is longer than " STR(AEDB_ITEM_ID_MAX) " bytes";
	while (!reason && *p) {
		size_t n = utf8_len(p);

		if (n == 0)
			reason = "the line is not valid UTF-8";
		else if (*p == ' ')
			reason = "a space is not allowed in an item id";
		else if (*p < 0x20 || *p == 0x7f)
			reason = "control characters are not allowed in an item id";
		else if (n == 1 && strchr("/&,[]=:", *p))
			reason = bad_char_reason(*p);
		p += n ? n : 1;
	}
	if (reason) {
		if (why)
			*why = reason;
		return 0;
	}
	return 1;
}

static void free_nothing(void *p)
{
	(void)p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void add_problem(struct buf *problems, size_t *count, const char *path, int line,
			const char *what)
{
	(*count)++;
	if (*count > MAX_PROBLEMS_SHOWN)
		return;
	buf_printf(problems, NULL, "%sitem list '%s' line %d: %s", problems->len ? "\n" : "",
		   path, line, what);
}

static void trim(char **start, size_t *len)
{
	while (*len > 0 && ((*start)[0] == ' ' || (*start)[0] == '\t')) {
		(*start)++;
		(*len)--;
	}
	while (*len > 0 && ((*start)[*len - 1] == ' ' || (*start)[*len - 1] == '\t' ||
			    (*start)[*len - 1] == '\r'))
		(*len)--;
}

int itemlist_read(const char *path, const char *batch_name, struct item_list *out,
		  struct buf *all_problems, struct aedb_err *err)
{
	struct buf problems, text;
	struct item_list l;
	void *seen = NULL;
	size_t nproblems = 0, cap = 0, off = 0;
	char chunk[65536];
	FILE *f = NULL;
	int line = 0, ret = -1;
	size_t n;

	itemlist_init(&l);
	buf_init(&problems, 1u << 20, "item list problems");
	buf_init(&text, AEDB_ITEM_LIST_BYTES_MAX, "item list file");
	f = fopen(path, "rb");
	if (!f) {
		aedb_err_setk(err, AEDB_E_USAGE, "cannot read item list '%s': %s", path,
			      strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&text, chunk, n, err) < 0) {
			err->kind = AEDB_E_USAGE;
			aedb_err_prefix(err, "item list '%s'", path);
			goto out;
		}
	}
	if (ferror(f)) {
		aedb_err_setk(err, AEDB_E_USAGE, "cannot read item list '%s': %s", path,
			      strerror(errno));
		goto out;
	}
	if (text.len >= 3 && memcmp(text.data, "\xef\xbb\xbf", 3) == 0)
		off = 3;
	while (off < text.len) {
		char *start = text.data + off, *nl = memchr(start, '\n', text.len - off);
		size_t len = nl ? (size_t)(nl - start) : text.len - off;
		const char *why = NULL;
		char *id;

		off += len + (nl ? 1 : 0);
		line++;
		trim(&start, &len);
		if (len == 0)
			continue;
		if (len > AEDB_ITEM_LINE_MAX) {
			add_problem(&problems, &nproblems, path, line, "the line is too long");
			continue;
		}
		id = xstrndup(start, len);
		if (memchr(start, '\0', len)) {
			add_problem(&problems, &nproblems, path, line, "the line holds a NUL byte");
			free(id);
			continue;
		}
		if (!itemlist_valid_id(id, &why)) {
			add_problem(&problems, &nproblems, path, line, why);
			free(id);
			continue;
		}
		if (batch_name && strlen("batch_name=,aoi_name=") + strlen(batch_name) + len >
					  AEDB_TAG_STRING_MAX) {
			char msg[160];

			snprintf(msg, sizeof(msg),
				 "'batch_name=%s,aoi_name=...' would be longer than the %d "
				 "characters Nomad job id tags allow",
				 batch_name, AEDB_TAG_STRING_MAX);
			add_problem(&problems, &nproblems, path, line, msg);
			free(id);
			continue;
		}
		{
			void **found = tfind(id, &seen, cmp_str);

			if (found) {
				size_t i;

				for (i = 0; i < l.n && strcmp(l.items[i].name, id) != 0; i++)
					;
				buf_printf(&l.warnings, NULL, "%sitem list '%s' line %d: '%s' repeats line %d; kept once",
					   l.warnings.len ? "\n" : "", path, line, id,
					   i < l.n ? l.items[i].line : 0);
				l.nwarnings++;
				free(id);
				continue;
			}
		}
		if (l.n == cap) {
			cap = cap ? cap * 2 : 256;
			l.items = xrealloc(l.items, cap * sizeof(*l.items));
		}
		l.items[l.n].name = id;
		l.items[l.n].line = line;
		tsearch(l.items[l.n].name, &seen, cmp_str);
		l.n++;
	}
	if (nproblems == 0 && l.n == 0)
		add_problem(&problems, &nproblems, path, line ? line : 1,
			    "the list holds no item ids");
	if (nproblems) {
		if (nproblems > MAX_PROBLEMS_SHOWN)
			buf_printf(&problems, NULL, "\n... and %zu more problems",
				   nproblems - MAX_PROBLEMS_SHOWN);
		if (all_problems)
			buf_puts(all_problems, buf_str(&problems), NULL);
		if (nproblems == 1)
			aedb_err_setk(err, AEDB_E_USAGE, "%s", buf_str(&problems));
		else
			aedb_err_setk(err, AEDB_E_USAGE, "item list '%s' has %zu problems", path,
				      nproblems);
		goto out;
	}
	*out = l;
	memset(&l, 0, sizeof(l));
	ret = 0;
out:
	if (f)
		fclose(f);
	tdestroy(seen, free_nothing);
	itemlist_release(&l);
	buf_release(&problems);
	buf_release(&text);
	return ret;
}
