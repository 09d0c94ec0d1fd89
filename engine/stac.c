/* STAC client for one item at a time. The upstream tool asked
 * pystac-client for `search(ids=[id], collections=[c])`, which POSTs to
 * /search; some servers refuse POST, so GET /search and the OGC items path
 * are fallbacks. Reads are idempotent, so 5xx, 429 and transport failures
 * are retried with backoff; every other answer is final. Error bodies are
 * summarised in one line (stac-fastapi's code/description, FastAPI's
 * detail) and never quoted at length. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stac.h"
#include "util.h"

void stac_item_release(struct stac_item *it)
{
	if (!it)
		return;
	free(it->id);
	free(it->collection);
	geom_release(&it->geom);
	memset(it, 0, sizeof(*it));
}

int stac_url_join(const char *root, const char *path, struct buf *out, struct aedb_err *err)
{
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	while (*path == '/')
		path++;
	if (buf_append(out, root, n, err) < 0 || buf_putc(out, '/', err) < 0)
		return -1;
	return buf_puts(out, path, err);
}

/* Copy s into out as one printable line of at most size-1 bytes. */
static void one_line(const char *s, char *out, size_t size)
{
	size_t i = 0;

	for (; *s && i + 1 < size; s++)
		out[i++] = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' :
			   ((unsigned char)*s < 0x20 ? '?' : *s);
	out[i] = '\0';
}

void stac_describe_error(long status, const char *body, char *out, size_t size)
{
	cJSON *j = body && *body ? cJSON_Parse(body) : NULL;
	const cJSON *code, *desc, *detail;
	char text[240];

	code = cJSON_GetObjectItemCaseSensitive(j, "code");
	desc = cJSON_GetObjectItemCaseSensitive(j, "description");
	detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
	if (cJSON_IsString(code)) {
		one_line(cJSON_IsString(desc) ? desc->valuestring : "", text, sizeof(text));
		snprintf(out, size, "%ld %s%s%s", status, code->valuestring, *text ? ": " : "", text);
	} else if (cJSON_IsString(detail)) {
		one_line(detail->valuestring, text, sizeof(text));
		snprintf(out, size, "%ld %s", status, text);
	} else if (body && *body) {
		one_line(body, text, 120);
		snprintf(out, size, "%ld %s", status, text);
	} else {
		snprintf(out, size, "%ld", status);
	}
	cJSON_Delete(j);
}

/* The collection id from a rel=collection link ".../collections/{cid}". */
static char *collection_from_links(const cJSON *feature)
{
	const cJSON *links = cJSON_GetObjectItemCaseSensitive(feature, "links"), *l;

	cJSON_ArrayForEach(l, links) {
		const cJSON *rel = cJSON_GetObjectItemCaseSensitive(l, "rel");
		const cJSON *href = cJSON_GetObjectItemCaseSensitive(l, "href");
		const char *p;
		size_t n;

		if (!cJSON_IsString(rel) || strcmp(rel->valuestring, "collection") != 0 ||
		    !cJSON_IsString(href))
			continue;
		p = strstr(href->valuestring, "/collections/");
		if (!p)
			continue;
		p += strlen("/collections/");
		n = strcspn(p, "/?#");
		if (n > 0 && p[n] != '/') {
			char *raw = xstrndup(p, n), *dec = http_unescape(raw);

			free(raw);
			if (dec)
				return dec;
		}
	}
	return NULL;
}

static int read_feature(const cJSON *f, const char *item_id, struct stac_item *out,
			struct aedb_err *err)
{
	const cJSON *coll = cJSON_GetObjectItemCaseSensitive(f, "collection");
	struct stac_item it;

	memset(&it, 0, sizeof(it));
	if (geom_from_geojson(cJSON_GetObjectItemCaseSensitive(f, "geometry"), &it.geom, err) < 0)
		return -1;
	it.id = xstrdup(item_id);
	if (cJSON_IsString(coll) && *coll->valuestring)
		it.collection = xstrdup(coll->valuestring);
	else
		it.collection = collection_from_links(f);
	*out = it;
	return 0;
}

static int feature_has_id(const cJSON *f, const char *item_id)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");

	return cJSON_IsString(id) && strcmp(id->valuestring, item_id) == 0;
}

int stac_parse_item(const char *body, const char *item_id, struct stac_item *out,
		    struct aedb_err *err)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *type, *features, *f;
	int ret = -1, n;

	if (!j)
		return aedb_err_set(err, "the STAC API answered with a body that is not JSON");
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	if (!cJSON_IsString(type)) {
		aedb_err_set(err, "the STAC API answered with JSON that is neither a Feature nor a FeatureCollection");
		goto out;
	}
	if (strcmp(type->valuestring, "Feature") == 0) {
		if (!feature_has_id(j, item_id)) {
			aedb_err_set(err, "the STAC API answered with another item than the one asked for");
			goto out;
		}
		ret = read_feature(j, item_id, out, err);
		goto out;
	}
	if (strcmp(type->valuestring, "FeatureCollection") != 0) {
		aedb_err_set(err, "the STAC API answered with a '%.40s' where a FeatureCollection was expected",
			     type->valuestring);
		goto out;
	}
	features = cJSON_GetObjectItemCaseSensitive(j, "features");
	if (!cJSON_IsArray(features)) {
		aedb_err_set(err, "the STAC API answered with a FeatureCollection without \"features\"");
		goto out;
	}
	n = cJSON_GetArraySize(features);
	if (n == 0) {
		aedb_err_set(err, "no STAC item found with this id");
		goto out;
	}
	cJSON_ArrayForEach(f, features) {
		if (feature_has_id(f, item_id)) {
			ret = read_feature(f, item_id, out, err);
			goto out;
		}
	}
	aedb_err_set(err, "the search returned %d item(s), none with this id", n);
out:
	cJSON_Delete(j);
	return ret;
}

/* --- requests --- */

struct attempt {
	struct buf url;
	char *body;
	int missing_route; /* the route itself is refused: move to the next method */
};

static int build_request(const struct stac_client *s, enum stac_method m, const char *item_id,
			 const char *collection, struct attempt *a, struct aedb_err *err)
{
	buf_reset(&a->url);
	free(a->body);
	a->body = NULL;
	if (m == STAC_POST_SEARCH) {
		cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "ids");

		cJSON_AddItemToArray(ids, cJSON_CreateString(item_id));
		if (collection)
			cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "collections"),
					     cJSON_CreateString(collection));
		a->body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!a->body)
			return aedb_err_set(err, "out of memory building a STAC search");
		return stac_url_join(s->api_url, "search", &a->url, err);
	}
	if (m == STAC_GET_SEARCH) {
		if (strchr(item_id, ',') || (collection && strchr(collection, ',')))
			return aedb_err_set(err, "an id with ',' cannot be searched with GET /search (the server refused POST)");
		if (stac_url_join(s->api_url, "search?ids=", &a->url, err) < 0 ||
		    http_escape(&a->url, item_id, 0, err) < 0)
			return -1;
		if (collection && (buf_puts(&a->url, "&collections=", err) < 0 ||
				   http_escape(&a->url, collection, 0, err) < 0))
			return -1;
		return 0;
	}
	if (stac_url_join(s->api_url, "collections/", &a->url, err) < 0 ||
	    http_escape(&a->url, collection, 0, err) < 0 || buf_puts(&a->url, "/items/", err) < 0)
		return -1;
	return http_escape(&a->url, item_id, 0, err);
}

static int retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* A 404 that is FastAPI's "no such route" rather than a NotFoundError, or
 * a 405/501: the server does not offer this way of asking. */
static int route_refused(long status, const char *body)
{
	cJSON *j;
	int ret;

	if (status == 405 || status == 501)
		return 1;
	if (status != 404)
		return 0;
	j = cJSON_Parse(body);
	ret = j && !cJSON_GetObjectItemCaseSensitive(j, "code") &&
	      cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "detail"));
	cJSON_Delete(j);
	return ret;
}

static const char *method_name(enum stac_method m)
{
	return m == STAC_POST_SEARCH ? "POST /search" :
	       m == STAC_GET_SEARCH ? "GET /search" : "GET /collections/{c}/items/{id}";
}

int stac_get_item(struct stac_client *s, const char *item_id, const char *collection,
		  struct stac_item *out, struct aedb_err *err)
{
	static const char *const json_hdr[] = { "Content-Type: application/json",
						"Accept: application/geo+json, application/json", NULL };
	static const char *const get_hdr[] = { "Accept: application/geo+json, application/json",
					       NULL };
	struct http_response resp;
	struct attempt a;
	struct aedb_err herr = AEDB_ERR_INIT;
	int max = s->max_attempts > 0 ? s->max_attempts : STAC_MAX_ATTEMPTS;
	long delay = s->backoff_ms > 0 ? s->backoff_ms : 250;
	unsigned seed = (unsigned)aedb_mono_ns();
	char what[400];
	int attempt, ret = -1;

	memset(&a, 0, sizeof(a));
	buf_init(&a.url, AEDB_URL_MAX, "STAC URL");
	http_response_init(&resp);
	for (;;) {
		enum stac_method m = s->method;
		struct http_request req;

		if (m == STAC_ITEMS_PATH && !collection) {
			aedb_err_set(err, "the STAC API at %s refuses POST and GET /search, and without --collection the item cannot be fetched from /collections/{c}/items/{id}",
				     s->api_url);
			goto out;
		}
		if (build_request(s, m, item_id, collection, &a, err) < 0)
			goto out;
		memset(&req, 0, sizeof(req));
		req.method = m == STAC_POST_SEARCH ? "POST" : "GET";
		req.url = buf_str(&a.url);
		req.headers = m == STAC_POST_SEARCH ? json_hdr : get_hdr;
		req.body = a.body;
		req.body_len = a.body ? strlen(a.body) : 0;
		req.timeout_ms = s->timeout_ms;
		req.max_body = STAC_BODY_MAX;
		for (attempt = 1;; attempt++) {
			aedb_err_clear(&herr);
			if (http_do(s->http, &req, &resp, &herr) == 0 && !retryable(resp.status))
				break;
			if (attempt >= max) {
				if (resp.failure != HTTP_FAIL_NONE) {
					aedb_err_set(err, "STAC API: %s (%d attempts)", herr.msg, attempt);
				} else {
					stac_describe_error(resp.status, buf_str(&resp.body), what,
							    sizeof(what));
					aedb_err_set(err, "STAC API %s answered %s (%d attempts)",
						     method_name(m), what, attempt);
				}
				goto out;
			}
			if (resp.failure == HTTP_FAIL_LOCAL) {
				aedb_err_set(err, "STAC API: %s", herr.msg);
				goto out;
			}
			aedb_sleep_ns((int64_t)(delay + rand_r(&seed) % (delay / 2 + 1)) * 1000000);
			delay *= 2;
		}
		if (resp.status >= 200 && resp.status <= 299) {
			ret = stac_parse_item(buf_str(&resp.body), item_id, out, err);
			if (ret < 0 && strstr(err->msg, "no STAC item found"))
				aedb_err_set(err, "no STAC item found with this id%s%s%s at %s",
					     collection ? " in collection '" : "",
					     collection ? collection : "", collection ? "'" : "",
					     s->api_url);
			goto out;
		}
		if (route_refused(resp.status, buf_str(&resp.body)) && m != STAC_ITEMS_PATH) {
			s->method = m + 1;
			continue;
		}
		stac_describe_error(resp.status, buf_str(&resp.body), what, sizeof(what));
		if (resp.status == 404)
			aedb_err_set(err, "not found (%s)", what);
		else
			aedb_err_set(err, "STAC API %s answered %s", method_name(m), what);
		goto out;
	}
out:
	http_response_release(&resp);
	buf_release(&a.url);
	free(a.body);
	return ret;
}
