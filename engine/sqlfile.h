/* SQL text compiled into the binary by tools/embed.py (see meson.build in
 * migrations/ and sql/). */
#ifndef AEDB_SQLFILE_H
#define AEDB_SQLFILE_H

#include <stddef.h>

struct aedb_sqlfile {
	const char *name; /* base name, e.g. "0001_init.sql" */
	const char *text;
};

/* migrations/NNNN_*.sql in order; entry i brings a database to version i+1 */
extern const struct aedb_sqlfile aedb_migrations[];
extern const size_t aedb_migrations_count;

/* sql/ views and named reports, in the order listed in sql/meson.build */
extern const struct aedb_sqlfile aedb_sqlfiles[];
extern const size_t aedb_sqlfiles_count;

#endif
