/* STAC API client: find one item by id and read its collection and
 * geometry, the way the upstream extract tool does (pystac-client's
 * POST /search), with GET /search and /collections/{c}/items/{id} for
 * servers that refuse POST. One struct stac_client per thread. */
#ifndef AEDB_STAC_H
#define AEDB_STAC_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "geom.h"
#include "http.h"

#define STAC_BODY_MAX (256u << 20)   /* one STAC response held in memory */
#define STAC_MAX_ATTEMPTS 3          /* requests per item on 5xx/429/timeouts */

enum stac_method {
	STAC_POST_SEARCH = 0, /* POST /search {"ids":[..],"collections":[..]} (upstream) */
	STAC_GET_SEARCH,      /* GET /search?ids=..&collections=.. */
	STAC_ITEMS_PATH,      /* GET /collections/{c}/items/{id}: needs the collection */
};

struct stac_client {
	struct http_client *http; /* borrowed; one per thread */
	const char *api_url;      /* the API root, e.g. http://localhost:8082/ */
	int max_attempts;         /* 0: STAC_MAX_ATTEMPTS */
	long backoff_ms;          /* first retry delay, doubled each time; 0: 250 */
	long timeout_ms;          /* per request; 0: the http client's default */
	enum stac_method method;  /* where to start; moves on when a route is refused */
};

struct stac_item {
	char *id;
	char *collection; /* NULL when the item names no collection */
	struct geom geom;
};

void stac_item_release(struct stac_item *it);

/* Fetch the item `item_id`, restricted to `collection` when not NULL.
 * Returns 0 with *out filled, or -1 with err holding a one-line reason
 * that does not repeat the item id (the caller names the item): not
 * found, a 404 NotFoundError, a 5xx after retries, a timeout, a malformed
 * body, or a geometry that is missing or not a (Multi)Polygon. When POST
 * /search is refused (405/501, or no such route) s->method moves to GET,
 * then to the items path, and stays there for later calls. */
int stac_get_item(struct stac_client *s, const char *item_id, const char *collection,
		  struct stac_item *out, struct aedb_err *err);

/* --- pieces, exported for tests --- */

/* root + "/" + path with exactly one slash between them. */
int stac_url_join(const char *root, const char *path, struct buf *out, struct aedb_err *err);

/* Read a 200 body: an ItemCollection (search) or a single Feature (items
 * path). Picks the feature whose id is item_id. Same contract as
 * stac_get_item for *out and err. */
int stac_parse_item(const char *body, const char *item_id, struct stac_item *out,
		    struct aedb_err *err);

/* Describe an error response in one line: stac-fastapi's
 * {"code","description"}, FastAPI's {"detail"}, or the start of the text. */
void stac_describe_error(long status, const char *body, char *out, size_t size);

#endif
