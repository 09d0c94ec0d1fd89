/* stac-server: a STAC API fixture server for tests and benchmarks, on the
 * project's loopback HTTP layer (tools/httpd). It serves a folder of JSON
 * files (STAC Items, FeatureCollections of items, Collections) with the
 * endpoints aedb uses and the answers stac-fastapi-pgstac gives:
 *
 *   GET  /  /conformance  /collections  /collections/{c}  /_mgmt/ping
 *   GET  /collections/{c}/items[?limit&token]   GET /collections/{c}/items/{id}
 *   GET  /search?ids=a,b&collections=c&limit=N&token=next:K
 *   POST /search {"ids":[..],"collections":[..],"limit":N,"token":".."}
 *
 * Pages carry rel=next links (GET: an href with the token; POST: method
 * POST and the body plus the token). Errors are stac-fastapi's
 * {"code","description"} (404 NotFoundError) or FastAPI's {"detail"}.
 * Faults for tests: ids that always answer 500, ids that answer 503 a few
 * times first, ids answering slowly or with a broken body, POST refused,
 * /search missing. GET /_mgmt/stats counts what was asked. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/buf.h"
#include "engine/http.h"
#include "engine/util.h"
#include "httpd.h"

#define STAC_SERVER_FILE_MAX (512u << 20)
#define PAGE_LIMIT_DEFAULT 10
#define PAGE_LIMIT_MAX 10000

struct item {
	char *id;
	char *collection; /* "" when the item has none */
	char *json;       /* the item without "links", unformatted, ends with '}' */
	size_t len;
};

struct coll {
	char *id;
	char *json; /* without "links" */
};

struct idset {
	char **ids;
	size_t n;
};

struct server {
	struct item *items;
	size_t nitems;
	struct coll *colls;
	size_t ncolls;
	struct idset fail, flaky, slow, malformed;
	int flaky_count;
	long delay_ms;
	int no_post, no_search;
	int quiet;

	pthread_mutex_t mu; /* the counters below */
	unsigned long n_post_search, n_get_search, n_item_get, n_items_list, n_faults, n_other;
	unsigned long *flaky_seen; /* per flaky id */
};

static const char usage[] =
	"usage: stac-server --dir DIR [--listen 127.0.0.1:PORT] [--port-file FILE] [faults]\n"
	"\n"
	"Serves the STAC Items, FeatureCollections and Collections in DIR/*.json as a\n"
	"STAC API (item-search and ogcapi-features) on 127.0.0.1.\n"
	"\n"
	"  --dir DIR                folder of .json files (required)\n"
	"  --listen 127.0.0.1:PORT  address to bind; PORT 0 picks a free port (default 8082)\n"
	"  --port-file FILE         write http://127.0.0.1:PORT there once accepting\n"
	"  --quiet                  no startup line on stdout\n"
	"faults:\n"
	"  --fail-ids A,B           any request naming one of these ids answers 500\n"
	"  --flaky-ids A,B          the first N requests naming one of these ids answer 503\n"
	"  --flaky-count N          N for --flaky-ids (default 2)\n"
	"  --slow-ids A,B           requests naming these ids wait --delay-ms first\n"
	"  --delay-ms MS            delay for --slow-ids (default 5000)\n"
	"  --malformed-ids A,B      requests naming these ids get 200 with a broken JSON body\n"
	"  --no-post                POST /search answers 405 (GET /search still works)\n"
	"  --no-search              /search does not exist (404 {\"detail\":\"Not Found\"})\n"
	"  --help                   this text\n"
	"GET /_mgmt/stats returns request counters as JSON.\n";

/* --- loading --- */

static void idset_parse(struct idset *s, const char *csv)
{
	const char *p = csv;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n > 0) {
			s->ids = xrealloc(s->ids, (s->n + 1) * sizeof(*s->ids));
			s->ids[s->n++] = xstrndup(p, n);
		}
		p += n;
		if (*p == ',')
			p++;
	}
}

static long idset_find(const struct idset *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return (long)i;
	return -1;
}

static char *read_whole(const char *path, struct aedb_err *err)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f) {
		aedb_err_set(err, "cannot open '%s'", path);
		return NULL;
	}
	buf_init(&b, STAC_SERVER_FILE_MAX, "STAC fixture file");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n, err) < 0) {
			fclose(f);
			buf_release(&b);
			return NULL;
		}
	fclose(f);
	if (b.len == 0) {
		buf_release(&b);
		return xstrdup("");
	}
	return buf_detach(&b, NULL);
}

/* cJSON prints a double with 15 digits when that is within an epsilon of
 * the value, which changes coordinates; print every number as its
 * shortest exact round-trip text instead (as pgstac's 20 digits would). */
static void exact_numbers(cJSON *o)
{
	cJSON *c = o ? o->child : NULL, *next;

	for (; c; c = next) {
		next = c->next;
		if (cJSON_IsNumber(c)) {
			char text[40];
			int prec;

			for (prec = 15; prec <= 17; prec++) {
				snprintf(text, sizeof(text), "%.*g", prec, c->valuedouble);
				if (strtod(text, NULL) == c->valuedouble)
					break;
			}
			{
				cJSON *raw = cJSON_CreateRaw(text);

				/* an object member keeps its name */
				if (c->string)
					raw->string = xstrdup(c->string);
				cJSON_ReplaceItemViaPointer(o, c, raw);
			}
		} else {
			exact_numbers(c);
		}
	}
}

static char *print_without_links(cJSON *o)
{
	char *s;

	cJSON_DeleteItemFromObjectCaseSensitive(o, "links");
	exact_numbers(o);
	s = cJSON_PrintUnformatted(o);
	if (!s) {
		fprintf(stderr, "stac-server: out of memory\n");
		abort();
	}
	return s;
}

static void add_item(struct server *sv, cJSON *f, const char *file)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "collection");
	struct item *it;

	if (!cJSON_IsString(id)) {
		fprintf(stderr, "stac-server: %s: a Feature without an id, skipped\n", file);
		return;
	}
	sv->items = xrealloc(sv->items, (sv->nitems + 1) * sizeof(*sv->items));
	it = &sv->items[sv->nitems++];
	it->id = xstrdup(id->valuestring);
	it->collection = xstrdup(cJSON_IsString(c) ? c->valuestring : "");
	it->json = print_without_links(f);
	it->len = strlen(it->json);
}

static void add_coll(struct server *sv, const char *id, char *json)
{
	size_t i;

	for (i = 0; i < sv->ncolls; i++)
		if (strcmp(sv->colls[i].id, id) == 0) {
			free(json);
			return;
		}
	sv->colls = xrealloc(sv->colls, (sv->ncolls + 1) * sizeof(*sv->colls));
	sv->colls[sv->ncolls].id = xstrdup(id);
	sv->colls[sv->ncolls].json = json;
	sv->ncolls++;
}

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->collection, y->collection);

	return c ? c : strcmp(x->id, y->id);
}

static int load_dir(struct server *sv, const char *dir, struct aedb_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t i;

	if (!d)
		return aedb_err_set(err, "cannot open folder '%s'", dir);
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *path, *text;
		cJSON *j;
		const cJSON *type;

		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		text = read_whole(path, err);
		if (!text) {
			free(path);
			closedir(d);
			return -1;
		}
		j = cJSON_Parse(text);
		free(text);
		type = cJSON_GetObjectItemCaseSensitive(j, "type");
		if (!cJSON_IsString(type)) {
			fprintf(stderr, "stac-server: %s: not a STAC JSON object, skipped\n", path);
		} else if (strcmp(type->valuestring, "Feature") == 0) {
			add_item(sv, j, path);
		} else if (strcmp(type->valuestring, "FeatureCollection") == 0) {
			cJSON *f;

			cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(j, "features"))
				add_item(sv, f, path);
		} else if (strcmp(type->valuestring, "Collection") == 0) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");

			if (cJSON_IsString(id)) {
				char *cid = xstrdup(id->valuestring);

				add_coll(sv, cid, print_without_links(j));
				free(cid);
			}
		}
		cJSON_Delete(j);
		free(path);
	}
	closedir(d);
	qsort(sv->items, sv->nitems, sizeof(*sv->items), item_cmp);
	/* a collection named by items but without its own file gets a stub */
	for (i = 0; i < sv->nitems; i++) {
		const char *c = sv->items[i].collection;
		cJSON *o;

		if (!*c)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "Collection");
		cJSON_AddStringToObject(o, "id", c);
		cJSON_AddStringToObject(o, "stac_version", "1.0.0");
		cJSON_AddStringToObject(o, "description", "collection of the fixture items");
		cJSON_AddStringToObject(o, "license", "other");
		add_coll(sv, c, print_without_links(o));
		cJSON_Delete(o);
	}
	return 0;
}

/* --- answers --- */

static void count(struct server *sv, unsigned long *c)
{
	pthread_mutex_lock(&sv->mu);
	(*c)++;
	pthread_mutex_unlock(&sv->mu);
}

static char *base_url(struct httpd_req *r)
{
	const char *host = httpd_req_header(r, "Host");

	return xasprintf("http://%s", host && *host ? host : "127.0.0.1");
}

static void not_found(struct httpd_req *r, const char *fmt, const char *a, const char *b)
{
	cJSON *o = cJSON_CreateObject();
	char desc[1024], *s;

	snprintf(desc, sizeof(desc), fmt, a, b ? b : "");
	cJSON_AddStringToObject(o, "code", "NotFoundError");
	cJSON_AddStringToObject(o, "description", desc);
	s = cJSON_PrintUnformatted(o);
	httpd_respond_json(r, 404, s);
	free(s);
	cJSON_Delete(o);
}

static void no_route(struct httpd_req *r)
{
	httpd_respond_json(r, 404, "{\"detail\":\"Not Found\"}");
}

static void bad_request(struct httpd_req *r, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "code", "InvalidQueryParameter");
	cJSON_AddStringToObject(o, "description", msg);
	s = cJSON_PrintUnformatted(o);
	httpd_respond_json(r, 400, s);
	free(s);
	cJSON_Delete(o);
}

/* Apply the fault knobs for a request naming these ids. Returns 1 when it
 * answered the request. */
static int faults(struct server *sv, struct httpd_req *r, char *const *ids, size_t n)
{
	size_t i;
	long k;

	for (i = 0; i < n; i++) {
		if (idset_find(&sv->slow, ids[i]) >= 0) {
			struct timespec ts = { sv->delay_ms / 1000, (sv->delay_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
		if (idset_find(&sv->fail, ids[i]) >= 0) {
			count(sv, &sv->n_faults);
			httpd_respond_json(r, 500, "{\"code\":\"DatabaseError\",\"description\":\"injected fault: the database is unavailable\"}");
			return 1;
		}
		k = idset_find(&sv->flaky, ids[i]);
		if (k >= 0) {
			int hit;

			pthread_mutex_lock(&sv->mu);
			hit = sv->flaky_seen[k] < (unsigned long)sv->flaky_count;
			sv->flaky_seen[k]++;
			if (hit)
				sv->n_faults++;
			pthread_mutex_unlock(&sv->mu);
			if (hit) {
				httpd_respond_json(r, 503, "{\"detail\":\"injected fault: service unavailable\"}");
				return 1;
			}
		}
		if (idset_find(&sv->malformed, ids[i]) >= 0) {
			count(sv, &sv->n_faults);
			httpd_respond_json(r, 200, "{\"type\":\"FeatureCollection\",\"features\":[{\"id\":");
			return 1;
		}
	}
	return 0;
}

/* Append one item with API links to out. */
static void put_item(struct buf *out, const struct item *it, const char *base)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf enc;

	buf_init(&enc, 1 << 16, "id");
	http_escape(&enc, it->collection, 0, &err);
	buf_append(out, it->json, it->len - 1, &err);
	buf_printf(out, &err, ",\"links\":[{\"rel\":\"root\",\"href\":\"%s/\",\"type\":\"application/json\"}",
		   base);
	if (*it->collection) {
		buf_printf(out, &err, ",{\"rel\":\"collection\",\"href\":\"%s/collections/%s\",\"type\":\"application/json\"}"
			   ",{\"rel\":\"parent\",\"href\":\"%s/collections/%s\",\"type\":\"application/json\"}",
			   base, buf_str(&enc), base, buf_str(&enc));
		buf_reset(&enc);
		http_escape(&enc, it->collection, 0, &err);
		buf_printf(out, &err, ",{\"rel\":\"self\",\"href\":\"%s/collections/%s/items/", base,
			   buf_str(&enc));
		buf_reset(&enc);
		http_escape(&enc, it->id, 0, &err);
		buf_printf(out, &err, "%s\",\"type\":\"application/geo+json\"}", buf_str(&enc));
	}
	buf_puts(out, "]}", &err);
	buf_release(&enc);
}

struct query {
	char **ids;
	size_t nids;
	char **colls;
	size_t ncolls;
	long limit;
	long offset;
};

static void query_release(struct query *q)
{
	size_t i;

	for (i = 0; i < q->nids; i++)
		free(q->ids[i]);
	for (i = 0; i < q->ncolls; i++)
		free(q->colls[i]);
	free(q->ids);
	free(q->colls);
}

static void split_csv(const char *csv, char ***out, size_t *n)
{
	struct idset s = { NULL, 0 };

	idset_parse(&s, csv);
	*out = s.ids;
	*n = s.n;
}

static int in_list(char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* Parse "next:K" (our token form, like pgstac's "next:<opaque>"). */
static int parse_token(const char *t, long *offset)
{
	int64_t v;

	if (!t || !*t) {
		*offset = 0;
		return 0;
	}
	if (!str_starts(t, "next:") || parse_i64(t + 5, 0, INT32_MAX, &v) != 0)
		return -1;
	*offset = (long)v;
	return 0;
}

/* Answer one page of matching items. self_query: the GET query without
 * token (for the next href); post_body: the POST body (for the next link). */
static void answer_page(struct server *sv, struct httpd_req *r, const struct query *q,
			const char *path, const char *self_query, cJSON *post_body)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf out;
	char *base = base_url(r);
	long matched = 0, returned = 0;
	size_t i;

	buf_init(&out, STAC_SERVER_FILE_MAX, "search response");
	buf_puts(&out, "{\"type\":\"FeatureCollection\",\"features\":[", &err);
	for (i = 0; i < sv->nitems; i++) {
		const struct item *it = &sv->items[i];

		if (q->nids && !in_list(q->ids, q->nids, it->id))
			continue;
		if (q->ncolls && !in_list(q->colls, q->ncolls, it->collection))
			continue;
		matched++;
		if (matched <= q->offset || returned >= q->limit)
			continue;
		if (returned++)
			buf_putc(&out, ',', &err);
		put_item(&out, it, base);
	}
	buf_printf(&out, &err, "],\"numberMatched\":%ld,\"numberReturned\":%ld,\"links\":["
		   "{\"rel\":\"root\",\"href\":\"%s/\",\"type\":\"application/json\"}",
		   matched, returned, base);
	if (q->offset + returned < matched) {
		long next = q->offset + returned;

		if (post_body) {
			cJSON *body = cJSON_Duplicate(post_body, 1);
			char tok[40], *s;

			snprintf(tok, sizeof(tok), "next:%ld", next);
			cJSON_DeleteItemFromObjectCaseSensitive(body, "token");
			cJSON_AddStringToObject(body, "token", tok);
			s = cJSON_PrintUnformatted(body);
			buf_printf(&out, &err, ",{\"rel\":\"next\",\"href\":\"%s%s\",\"type\":\"application/geo+json\","
				   "\"method\":\"POST\",\"body\":%s}", base, path, s);
			free(s);
			cJSON_Delete(body);
		} else {
			buf_printf(&out, &err, ",{\"rel\":\"next\",\"href\":\"%s%s?%s%stoken=next:%ld\","
				   "\"type\":\"application/geo+json\",\"method\":\"GET\"}",
				   base, path, self_query, *self_query ? "&" : "", next);
		}
	}
	buf_puts(&out, "]}", &err);
	if (err.kind != AEDB_E_NONE) {
		httpd_respond_json(r, 500, "{\"code\":\"InternalError\",\"description\":\"response too large\"}");
	} else {
		size_t len;
		char *body = buf_detach(&out, &len);

		httpd_respond_take(r, 200, "application/geo+json", body, len);
	}
	buf_release(&out);
	free(base);
}

/* The GET query string minus token, re-encoded, for next links. */
static void self_query_add(struct buf *b, const char *name, const char *value)
{
	struct aedb_err err = AEDB_ERR_INIT;

	if (!value)
		return;
	if (b->len)
		buf_putc(b, '&', &err);
	buf_printf(b, &err, "%s=", name);
	http_escape(b, value, 0, &err);
}

static void search_get(struct server *sv, struct httpd_req *r, const char *path,
		       const char *coll_from_path)
{
	struct query q;
	const char *ids = httpd_req_query(r, "ids"), *colls = httpd_req_query(r, "collections");
	const char *limit = httpd_req_query(r, "limit"), *token = httpd_req_query(r, "token");
	struct buf self;
	int64_t lim = PAGE_LIMIT_DEFAULT;

	memset(&q, 0, sizeof(q));
	if (limit && parse_i64(limit, 1, PAGE_LIMIT_MAX, &lim) != 0) {
		bad_request(r, "limit must be an integer between 1 and 10000");
		return;
	}
	q.limit = (long)lim;
	if (parse_token(token, &q.offset) != 0) {
		bad_request(r, "invalid paging token");
		return;
	}
	if (ids)
		split_csv(ids, &q.ids, &q.nids);
	if (coll_from_path) {
		q.colls = xcalloc(1, sizeof(*q.colls));
		q.colls[0] = xstrdup(coll_from_path);
		q.ncolls = 1;
	} else if (colls) {
		split_csv(colls, &q.colls, &q.ncolls);
	}
	if (faults(sv, r, q.ids, q.nids)) {
		query_release(&q);
		return;
	}
	buf_init(&self, 1 << 20, "query");
	self_query_add(&self, "ids", ids);
	if (!coll_from_path)
		self_query_add(&self, "collections", colls);
	self_query_add(&self, "limit", limit);
	answer_page(sv, r, &q, path, buf_str(&self), NULL);
	buf_release(&self);
	query_release(&q);
}

static int json_strings(const cJSON *a, char ***out, size_t *n)
{
	const cJSON *e;

	*out = NULL;
	*n = 0;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return -1;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e))
			return -1;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = xstrdup(e->valuestring);
	}
	return 0;
}

static void search_post(struct server *sv, struct httpd_req *r)
{
	size_t len;
	const char *text = httpd_req_body(r, &len);
	cJSON *body = cJSON_ParseWithLength(text, len);
	const cJSON *limit, *token;
	struct query q;

	memset(&q, 0, sizeof(q));
	if (!cJSON_IsObject(body)) {
		httpd_respond_json(r, 400, "{\"detail\":[{\"type\":\"json_invalid\",\"msg\":\"JSON decode error\"}]}");
		goto out;
	}
	if (json_strings(cJSON_GetObjectItemCaseSensitive(body, "ids"), &q.ids, &q.nids) < 0 ||
	    json_strings(cJSON_GetObjectItemCaseSensitive(body, "collections"), &q.colls,
			 &q.ncolls) < 0) {
		httpd_respond_json(r, 400, "{\"detail\":[{\"type\":\"list_type\",\"msg\":\"ids and collections must be lists of strings\"}]}");
		goto out;
	}
	limit = cJSON_GetObjectItemCaseSensitive(body, "limit");
	q.limit = PAGE_LIMIT_DEFAULT;
	if (limit) {
		if (!cJSON_IsNumber(limit) || limit->valuedouble < 1 || limit->valuedouble > PAGE_LIMIT_MAX) {
			bad_request(r, "limit must be an integer between 1 and 10000");
			goto out;
		}
		q.limit = (long)limit->valuedouble;
	}
	token = cJSON_GetObjectItemCaseSensitive(body, "token");
	if (parse_token(cJSON_IsString(token) ? token->valuestring : NULL, &q.offset) != 0) {
		bad_request(r, "invalid paging token");
		goto out;
	}
	if (faults(sv, r, q.ids, q.nids))
		goto out;
	answer_page(sv, r, &q, "/search", "", body);
out:
	query_release(&q);
	cJSON_Delete(body);
}

static const struct coll *find_coll(const struct server *sv, const char *id)
{
	size_t i;

	for (i = 0; i < sv->ncolls; i++)
		if (strcmp(sv->colls[i].id, id) == 0)
			return &sv->colls[i];
	return NULL;
}

static void get_item(struct server *sv, struct httpd_req *r, const char *coll, const char *id)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *ids[1] = { (char *)id };
	struct buf out;
	char *base;
	size_t i;

	if (faults(sv, r, ids, 1))
		return;
	if (!find_coll(sv, coll)) {
		not_found(r, "Collection %s does not exist.", coll, NULL);
		return;
	}
	for (i = 0; i < sv->nitems; i++) {
		if (strcmp(sv->items[i].collection, coll) != 0 || strcmp(sv->items[i].id, id) != 0)
			continue;
		base = base_url(r);
		buf_init(&out, STAC_SERVER_FILE_MAX, "item");
		put_item(&out, &sv->items[i], base);
		if (err.kind == AEDB_E_NONE) {
			size_t len;
			char *body = buf_detach(&out, &len);

			httpd_respond_take(r, 200, "application/geo+json", body, len);
		}
		buf_release(&out);
		free(base);
		return;
	}
	not_found(r, "Item %s in Collection %s does not exist.", id, coll);
}

static void landing(struct httpd_req *r)
{
	char *base = base_url(r);
	char *s = xasprintf(
		"{\"type\":\"Catalog\",\"id\":\"stac-server\",\"stac_version\":\"1.0.0\","
		"\"description\":\"aedb STAC fixture server\",\"conformsTo\":["
		"\"https://api.stacspec.org/v1.0.0/core\",\"https://api.stacspec.org/v1.0.0/item-search\","
		"\"https://api.stacspec.org/v1.0.0/ogcapi-features\",\"https://api.stacspec.org/v1.0.0/collections\","
		"\"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core\","
		"\"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson\"],"
		"\"links\":[{\"rel\":\"self\",\"href\":\"%s/\"},{\"rel\":\"root\",\"href\":\"%s/\"},"
		"{\"rel\":\"data\",\"href\":\"%s/collections\"},"
		"{\"rel\":\"search\",\"href\":\"%s/search\",\"type\":\"application/geo+json\",\"method\":\"GET\"},"
		"{\"rel\":\"search\",\"href\":\"%s/search\",\"type\":\"application/geo+json\",\"method\":\"POST\"}]}",
		base, base, base, base, base);

	httpd_respond_json(r, 200, s);
	free(s);
	free(base);
}

static void collections(struct server *sv, struct httpd_req *r)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf out;
	size_t i, len;
	char *body;

	buf_init(&out, STAC_SERVER_FILE_MAX, "collections");
	buf_puts(&out, "{\"collections\":[", &err);
	for (i = 0; i < sv->ncolls; i++) {
		if (i)
			buf_putc(&out, ',', &err);
		buf_puts(&out, sv->colls[i].json, &err);
	}
	buf_puts(&out, "],\"links\":[]}", &err);
	body = buf_detach(&out, &len);
	httpd_respond_take(r, 200, "application/json", body, len);
}

static void stats(struct server *sv, struct httpd_req *r)
{
	char *s;

	pthread_mutex_lock(&sv->mu);
	s = xasprintf("{\"post_search\":%lu,\"get_search\":%lu,\"item_get\":%lu,\"items_list\":%lu,"
		      "\"faults\":%lu,\"other\":%lu,\"items\":%zu,\"collections\":%zu}",
		      sv->n_post_search, sv->n_get_search, sv->n_item_get, sv->n_items_list,
		      sv->n_faults, sv->n_other, sv->nitems, sv->ncolls);
	pthread_mutex_unlock(&sv->mu);
	httpd_respond_json(r, 200, s);
	free(s);
}

static void handle(struct httpd_req *r, void *ctx)
{
	struct server *sv = ctx;
	const char *m = httpd_req_method(r), *path = httpd_req_path(r);
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;

	if (strcmp(path, "/search") == 0) {
		if (sv->no_search) {
			count(sv, &sv->n_other);
			no_route(r);
		} else if (get) {
			count(sv, &sv->n_get_search);
			search_get(sv, r, "/search", NULL);
		} else if (strcmp(m, "POST") == 0) {
			count(sv, &sv->n_post_search);
			if (sv->no_post)
				httpd_respond_json(r, 405, "{\"detail\":\"Method Not Allowed\"}");
			else
				search_post(sv, r);
		} else {
			httpd_respond_json(r, 405, "{\"detail\":\"Method Not Allowed\"}");
		}
		return;
	}
	if (!get) {
		count(sv, &sv->n_other);
		httpd_respond_json(r, 405, "{\"detail\":\"Method Not Allowed\"}");
		return;
	}
	if (strcmp(path, "/") == 0) {
		count(sv, &sv->n_other);
		landing(r);
	} else if (strcmp(path, "/conformance") == 0) {
		count(sv, &sv->n_other);
		httpd_respond_json(r, 200, "{\"conformsTo\":[\"https://api.stacspec.org/v1.0.0/core\","
				   "\"https://api.stacspec.org/v1.0.0/item-search\","
				   "\"https://api.stacspec.org/v1.0.0/ogcapi-features\"]}");
	} else if (strcmp(path, "/_mgmt/ping") == 0) {
		httpd_respond_json(r, 200, "{\"message\":\"PONG\"}");
	} else if (strcmp(path, "/_mgmt/stats") == 0) {
		stats(sv, r);
	} else if (strcmp(path, "/collections") == 0) {
		count(sv, &sv->n_other);
		collections(sv, r);
	} else if (str_starts(path, "/collections/")) {
		const char *rest = path + strlen("/collections/");
		const char *slash = strchr(rest, '/');
		char *cid = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);

		if (!slash) {
			const struct coll *c = find_coll(sv, cid);

			count(sv, &sv->n_other);
			if (c)
				httpd_respond_json(r, 200, c->json);
			else
				not_found(r, "Collection %s does not exist.", cid, NULL);
		} else if (strcmp(slash, "/items") == 0) {
			count(sv, &sv->n_items_list);
			if (!find_coll(sv, cid))
				not_found(r, "Collection %s does not exist.", cid, NULL);
			else
				search_get(sv, r, path, cid);
		} else if (str_starts(slash, "/items/") && slash[7]) {
			count(sv, &sv->n_item_get);
			get_item(sv, r, cid, slash + 7);
		} else {
			count(sv, &sv->n_other);
			no_route(r);
		}
		free(cid);
	} else {
		count(sv, &sv->n_other);
		no_route(r);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "fail-ids", required_argument, NULL, 'F' },
		{ "flaky-ids", required_argument, NULL, 'K' },
		{ "flaky-count", required_argument, NULL, 'k' },
		{ "slow-ids", required_argument, NULL, 'S' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "malformed-ids", required_argument, NULL, 'M' },
		{ "no-post", no_argument, NULL, 'P' },
		{ "no-search", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct server sv;
	struct aedb_err err = AEDB_ERR_INIT;
	struct httpd_opts ho = { .port = 8082 };
	struct httpd *h = NULL;
	const char *dir = NULL, *port_file = NULL;
	int64_t v;
	int c, sig;

	httpd_block_signals();
	sv.flaky_count = 2;
	sv.delay_ms = 5000;
	pthread_mutex_init(&sv.mu, NULL);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l':
			if (httpd_opts_from_listen(&ho, optarg, &err) != 0)
				goto usage_err;
			break;
		case 'p': port_file = optarg; break;
		case 'F': idset_parse(&sv.fail, optarg); break;
		case 'K': idset_parse(&sv.flaky, optarg); break;
		case 'S': idset_parse(&sv.slow, optarg); break;
		case 'M': idset_parse(&sv.malformed, optarg); break;
		case 'k':
			if (parse_i64(optarg, 0, 1000000, &v) != 0) {
				aedb_err_set(&err, "--flaky-count '%s': not a count", optarg);
				goto usage_err;
			}
			sv.flaky_count = (int)v;
			break;
		case 'D':
			if (parse_i64(optarg, 0, 3600000, &v) != 0) {
				aedb_err_set(&err, "--delay-ms '%s': not a number of milliseconds", optarg);
				goto usage_err;
			}
			sv.delay_ms = (long)v;
			break;
		case 'P': sv.no_post = 1; break;
		case 'N': sv.no_search = 1; break;
		case 'q': sv.quiet = 1; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		aedb_err_set(&err, "unexpected argument '%s'", argv[optind]);
		goto usage_err;
	}
	if (!dir) {
		aedb_err_set(&err, "--dir is required");
		goto usage_err;
	}
	sv.flaky_seen = xcalloc(sv.flaky.n + 1, sizeof(*sv.flaky_seen));
	if (load_dir(&sv, dir, &err) != 0) {
		fprintf(stderr, "stac-server: %s\n", err.msg);
		return 1;
	}
	ho.handler = handle;
	ho.ctx = &sv;
	h = httpd_start(&ho, &err);
	if (!h || (port_file && httpd_write_port_file(h, port_file, &err) != 0)) {
		fprintf(stderr, "stac-server: %s\n", err.msg);
		if (h)
			httpd_stop(h);
		return 1;
	}
	if (!sv.quiet) {
		printf("stac-server: listening on http://127.0.0.1:%d (%zu items, %zu collections)\n",
		       httpd_port(h), sv.nitems, sv.ncolls);
		fflush(stdout);
	}
	sig = httpd_wait_signal();
	(void)sig;
	httpd_stop(h);
	return 0;
usage_err:
	fprintf(stderr, "stac-server: %s\n%s", err.msg, usage);
	return 2;
}
