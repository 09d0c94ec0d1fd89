/* Reading and validating an item list: one STAC item id per line. Every
 * problem is collected with its line number so the user fixes them all in
 * one go; nothing is written anywhere while reading. */
#ifndef AEDB_ITEMLIST_H
#define AEDB_ITEMLIST_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct item_entry {
	char *name;
	int line; /* 1-based line number in the file */
};

struct item_list {
	struct item_entry *items; /* unique ids, in file order */
	size_t n;
	struct buf warnings;      /* one line each: duplicates, kept once */
	size_t nwarnings;
};

void itemlist_init(struct item_list *l);
void itemlist_release(struct item_list *l);

/* Read path. batch_name (may be NULL) is used to check the tag-length
 * limit of "batch_name=B,aoi_name=I". Returns 0 when the list is usable;
 * -1 with err (kind AEDB_E_USAGE) when not: every problem is appended to
 * all_problems (if not NULL), one per line, "item list 'F' line N: ...",
 * and err holds the only problem or a count. An empty list is a problem. */
int itemlist_read(const char *path, const char *batch_name, struct item_list *out,
		  struct buf *all_problems, struct aedb_err *err);

/* Is s a valid item id (non-empty, no space / & , [ ] = : or control
 * characters, valid UTF-8, at most AEDB_ITEM_ID_MAX bytes)? If not, and why
 * is not NULL, *why says what is wrong. */
int itemlist_valid_id(const char *s, const char **why);

#endif
