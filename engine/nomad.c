/* Nomad HTTP client. Every request carries the namespace (and region) as
 * query parameters and the token only as the X-Nomad-Token header, so no
 * secret ever reaches a URL, a message or a log. Replies are classified by
 * status and body text together, because Nomad answers most validation
 * failures of a dispatch with a 500 and a plain-text body
 * (reference: nomad-api.md sections 1.1 and 2.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "caps.h"
#include "nomad.h"
#include "util.h"

struct nomad {
	struct http_client *http;
	char *addr;       /* without a trailing '/' */
	char *ns;
	char *region;
	char *token_header; /* "X-Nomad-Token: ..." or NULL */
	struct http_response resp;
};

static const char *env_or(const char *v, const char *name)
{
	const char *e;

	if (v)
		return v;
	e = getenv(name);
	return e && *e ? e : NULL;
}

static int env_bool(const char *name)
{
	const char *e = getenv(name);

	return e && (strcmp(e, "1") == 0 || strcasecmp(e, "t") == 0 || strcasecmp(e, "true") == 0);
}

void nomad_config_from_env(struct nomad_config *cfg)
{
	cfg->addr = env_or(cfg->addr, "NOMAD_ADDR");
	if (!cfg->addr)
		cfg->addr = "http://localhost:4646";
	cfg->token = env_or(cfg->token, "NOMAD_TOKEN");
	cfg->ns = env_or(cfg->ns, "NOMAD_NAMESPACE");
	if (!cfg->ns)
		cfg->ns = "default";
	cfg->region = env_or(cfg->region, "NOMAD_REGION");
	cfg->http.cacert = env_or(cfg->http.cacert, "NOMAD_CACERT");
	cfg->http.capath = env_or(cfg->http.capath, "NOMAD_CAPATH");
	cfg->http.client_cert = env_or(cfg->http.client_cert, "NOMAD_CLIENT_CERT");
	cfg->http.client_key = env_or(cfg->http.client_key, "NOMAD_CLIENT_KEY");
	if (!cfg->http.skip_verify)
		cfg->http.skip_verify = env_bool("NOMAD_SKIP_VERIFY");
	cfg->tls_server_name = env_or(cfg->tls_server_name, "NOMAD_TLS_SERVER_NAME");
}

int nomad_open(const struct nomad_config *cfg, struct nomad **out, struct aedb_err *err)
{
	struct nomad *n;
	size_t len;

	if (!cfg->addr || !(str_starts(cfg->addr, "http://") || str_starts(cfg->addr, "https://")))
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "Nomad address '%s' must start with http:// or https://",
				     cfg->addr ? cfg->addr : "");
	n = xcalloc(1, sizeof(*n));
	if (http_client_new(&cfg->http, &n->http, err) < 0) {
		free(n);
		return -1;
	}
	n->addr = xstrdup(cfg->addr);
	len = strlen(n->addr);
	while (len > 0 && n->addr[len - 1] == '/')
		n->addr[--len] = '\0';
	n->ns = xstrdup(cfg->ns ? cfg->ns : "default");
	n->region = cfg->region ? xstrdup(cfg->region) : NULL;
	if (cfg->token && *cfg->token)
		n->token_header = xasprintf("X-Nomad-Token: %s", cfg->token);
	http_response_init(&n->resp);
	*out = n;
	return 0;
}

void nomad_close(struct nomad *n)
{
	if (!n)
		return;
	http_client_free(n->http);
	http_response_release(&n->resp);
	free(n->addr);
	free(n->ns);
	free(n->region);
	if (n->token_header) {
		memset(n->token_header, 0, strlen(n->token_header));
		free(n->token_header);
	}
	free(n);
}

const char *nomad_addr(const struct nomad *n)
{
	return n->addr;
}

/* Build addr + path + namespace/region (+ blocking query) into url. */
static int build_url(struct nomad *n, struct buf *url, const char *path,
		     const struct nomad_query *q, struct aedb_err *err)
{
	char sep = strchr(path, '?') ? '&' : '?';

	if (buf_printf(url, err, "%s%s%cnamespace=", n->addr, path, sep) < 0 ||
	    http_escape(url, n->ns, 0, err) < 0)
		return -1;
	if (n->region &&
	    (buf_puts(url, "&region=", err) < 0 || http_escape(url, n->region, 0, err) < 0))
		return -1;
	if (q && q->index > 0 &&
	    buf_printf(url, err, "&index=%llu&wait=%dms", (unsigned long long)q->index,
		       q->wait_ms > 0 ? q->wait_ms : 300000) < 0)
		return -1;
	return 0;
}

/* The first line of a plain-text error body, for messages. */
static void body_line(const struct http_response *r, char *out, size_t size)
{
	const char *b = buf_str(&r->body);
	size_t n = strcspn(b, "\r\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

static void read_meta(const struct http_response *r, struct nomad_qmeta *meta)
{
	const char *v;

	if (!meta)
		return;
	memset(meta, 0, sizeof(*meta));
	v = http_header(r, "X-Nomad-Index");
	if (v)
		meta->index = strtoull(v, NULL, 10);
	v = http_header(r, "X-Nomad-KnownLeader");
	meta->known_leader = v && strcmp(v, "true") == 0;
	v = http_header(r, "X-Nomad-NextToken");
	if (v)
		snprintf(meta->next_token, sizeof(meta->next_token), "%s", v);
}

/* Map a non-2xx reply of a read to a return code and message. */
static enum nomad_rc read_failure(struct nomad *n, const char *what, struct aedb_err *err)
{
	char line[300];
	long st = n->resp.status;

	body_line(&n->resp, line, sizeof(line));
	if (st == 404) {
		aedb_err_set(err, "Nomad at %s: %s: not found (%s)", n->addr, what,
			     line[0] ? line : "404");
		return NOMAD_NOT_FOUND;
	}
	if (st == 403) {
		aedb_err_set(err, "Nomad at %s refused %s: %s (check NOMAD_TOKEN or --nomad_token)",
			     n->addr, what, line[0] ? line : "403");
		return NOMAD_REFUSED;
	}
	if (st == 429 || st >= 500) {
		aedb_err_set(err, "Nomad at %s: %s: HTTP %ld %s", n->addr, what, st, line);
		return NOMAD_TRANSIENT;
	}
	aedb_err_set(err, "Nomad at %s: %s: HTTP %ld %s", n->addr, what, st, line);
	return NOMAD_BAD_REPLY;
}

static int do_request2(struct nomad *n, const char *method, const char *url, const char *body,
		       long timeout_ms, int abortable, struct aedb_err *err);

static int do_request(struct nomad *n, const char *method, const char *url, const char *body,
		      long timeout_ms, struct aedb_err *err)
{
	return do_request2(n, method, url, body, timeout_ms, 0, err);
}

static int do_request2(struct nomad *n, const char *method, const char *url, const char *body,
		       long timeout_ms, int abortable, struct aedb_err *err)
{
	const char *headers[3] = { NULL, NULL, NULL };
	struct http_request req = { 0 };
	int h = 0;

	if (n->token_header)
		headers[h++] = n->token_header;
	if (body)
		headers[h++] = "Content-Type: application/json";
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = timeout_ms;
	req.abortable = abortable;
	return http_do(n->http, &req, &n->resp, err);
}

enum nomad_rc nomad_get(struct nomad *n, const char *path, const struct nomad_query *q,
			cJSON **out, struct nomad_qmeta *meta, struct aedb_err *err)
{
	struct buf url;
	cJSON *json;
	long timeout = 0;
	enum nomad_rc rc;

	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	if (build_url(n, &url, path, q, err) < 0) {
		buf_release(&url);
		return NOMAD_BAD_REPLY;
	}
	/* a blocking query may legitimately take wait * 17/16 (server jitter) */
	if (q && q->index > 0)
		timeout = (long)(q->wait_ms > 0 ? q->wait_ms : 300000) * 17 / 16 + 15000;
	/* reads are safe to abort: a signal cuts a long poll short */
	if (do_request2(n, "GET", buf_str(&url), NULL, timeout, 1, err) < 0) {
		aedb_err_prefix(err, "Nomad at %s", n->addr);
		buf_release(&url);
		return NOMAD_TRANSIENT;
	}
	buf_release(&url);
	if (n->resp.status < 200 || n->resp.status > 299)
		return read_failure(n, path, err);
	json = cJSON_ParseWithLength(buf_str(&n->resp.body), n->resp.body.len);
	if (!json) {
		aedb_err_set(err, "Nomad at %s: %s: the reply is not JSON (is this a Nomad address?)",
			     n->addr, path);
		return NOMAD_BAD_REPLY;
	}
	read_meta(&n->resp, meta);
	*out = json;
	rc = NOMAD_OK;
	return rc;
}

static enum nomad_rc get_job_path(struct nomad *n, const char *job, const char *suffix,
				  const struct nomad_query *q, cJSON **out,
				  struct nomad_qmeta *meta, struct aedb_err *err);

enum nomad_rc nomad_get_job(struct nomad *n, const char *job, const char *suffix,
			    const struct nomad_query *q, cJSON **out, struct nomad_qmeta *meta,
			    struct aedb_err *err)
{
	return get_job_path(n, job, suffix, q, out, meta, err);
}

static enum nomad_rc get_job_path(struct nomad *n, const char *job, const char *suffix,
				  const struct nomad_query *q, cJSON **out,
				  struct nomad_qmeta *meta, struct aedb_err *err)
{
	struct buf path;
	enum nomad_rc rc;

	buf_init(&path, AEDB_URL_MAX, "Nomad path");
	if (buf_puts(&path, "/v1/job/", err) < 0 || http_escape(&path, job, 0, err) < 0 ||
	    buf_puts(&path, suffix, err) < 0) {
		buf_release(&path);
		return NOMAD_BAD_REPLY;
	}
	rc = nomad_get(n, buf_str(&path), q, out, meta, err);
	buf_release(&path);
	return rc;
}

enum nomad_rc nomad_check_parent(struct nomad *n, const char *parent, struct aedb_err *err)
{
	cJSON *job = NULL, *pj;
	enum nomad_rc rc;

	rc = get_job_path(n, parent, "", NULL, &job, NULL, err);
	if (rc == NOMAD_NOT_FOUND)
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "Nomad at %s has no job '%s' in namespace '%s'; register the "
				     "parameterized job first or check --job and --nomad_namespace",
				     n->addr, parent, n->ns),
		       NOMAD_REFUSED;
	if (rc != NOMAD_OK)
		return rc;
	pj = cJSON_GetObjectItemCaseSensitive(job, "ParameterizedJob");
	if (!cJSON_IsObject(pj)) {
		cJSON_Delete(job);
		aedb_err_setk(err, AEDB_E_USAGE,
			      "Nomad job '%s' at %s is not a parameterized job; aedb dispatches "
			      "parameterized batch jobs",
			      parent, n->addr);
		return NOMAD_REFUSED;
	}
	cJSON_Delete(job);
	return NOMAD_OK;
}

/* Dispatch failures that are the batch's configuration, not luck
 * (nomad-api.md 2.3): retrying cannot help, so the batch stops. */
static int is_config_error(const char *body)
{
	static const char *const texts[] = {
		"parameterized job not found",
		"is not a parameterized job",
		"is stopped",
		"Payload is not provided but required",
		"Payload provided but forbidden",
		"Payload exceeds maximum size",
		"unpermitted metadata keys",
		"did not provide required meta keys",
		"dispatch job priority must be between",
		"Permission denied",
		"ACL token not found",
		"are disabled by the scheduler configuration",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (strstr(body, texts[i]))
			return 1;
	}
	return 0;
}

enum nomad_rc nomad_dispatch(struct nomad *n, const char *parent, const char *const *meta,
			     const char *id_prefix_template, const char *idempotency_token,
			     char **job_id, char **eval_id, struct aedb_err *err)
{
	cJSON *body = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(body, "Meta");
	cJSON *reply = NULL, *jid, *eid;
	struct buf url;
	char *text = NULL, line[400];
	enum nomad_rc rc = NOMAD_BAD_REPLY;
	size_t i;

	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	for (i = 0; meta && meta[i] && meta[i + 1]; i += 2)
		cJSON_AddStringToObject(m, meta[i], meta[i + 1]);
	if (id_prefix_template)
		cJSON_AddStringToObject(body, "IdPrefixTemplate", id_prefix_template);
	text = cJSON_PrintUnformatted(body);
	if (buf_puts(&url, n->addr, err) < 0 || buf_puts(&url, "/v1/job/", err) < 0 ||
	    http_escape(&url, parent, 0, err) < 0 ||
	    buf_printf(&url, err, "/dispatch?namespace=") < 0 || http_escape(&url, n->ns, 0, err) < 0)
		goto out;
	if (idempotency_token && (buf_puts(&url, "&idempotency_token=", err) < 0 ||
				  http_escape(&url, idempotency_token, 0, err) < 0))
		goto out;
	if (n->region &&
	    (buf_puts(&url, "&region=", err) < 0 || http_escape(&url, n->region, 0, err) < 0))
		goto out;
	if (do_request(n, "POST", buf_str(&url), text, 0, err) < 0) {
		aedb_err_prefix(err, "dispatch of '%s' to Nomad at %s", parent, n->addr);
		rc = n->resp.failure == HTTP_FAIL_NOT_SENT ? NOMAD_TRANSIENT : NOMAD_UNKNOWN;
		goto out;
	}
	body_line(&n->resp, line, sizeof(line));
	if (n->resp.status == 403 || (n->resp.status >= 400 && is_config_error(line))) {
		aedb_err_setk(err, AEDB_E_USAGE, "Nomad at %s refused to dispatch '%s': %s", n->addr,
			      parent, line[0] ? line : "HTTP 403");
		rc = NOMAD_REFUSED;
		goto out;
	}
	if (n->resp.status == 400) {
		aedb_err_set(err, "Nomad at %s refused the dispatch request for '%s': %s", n->addr,
			     parent, line);
		rc = NOMAD_REFUSED;
		goto out;
	}
	if (n->resp.status != 200) {
		/* 429, 5xx: the write may or may not have happened */
		aedb_err_set(err, "dispatch of '%s' to Nomad at %s: HTTP %ld %s", parent, n->addr,
			     n->resp.status, line);
		rc = NOMAD_UNKNOWN;
		goto out;
	}
	reply = cJSON_ParseWithLength(buf_str(&n->resp.body), n->resp.body.len);
	jid = cJSON_GetObjectItemCaseSensitive(reply, "DispatchedJobID");
	eid = cJSON_GetObjectItemCaseSensitive(reply, "EvalID");
	if (!cJSON_IsString(jid) || !*jid->valuestring) {
		aedb_err_set(err, "dispatch of '%s' to Nomad at %s: the reply has no DispatchedJobID",
			     parent, n->addr);
		rc = NOMAD_UNKNOWN;
		goto out;
	}
	*job_id = xstrdup(jid->valuestring);
	*eval_id = xstrdup(cJSON_IsString(eid) ? eid->valuestring : "");
	rc = NOMAD_OK;
out:
	cJSON_Delete(reply);
	cJSON_Delete(body);
	free(text);
	buf_release(&url);
	return rc;
}

static int list_path(struct buf *path, const char *prefix, const char *filter, int per_page,
		     const char *next_token, struct aedb_err *err)
{
	if (buf_puts(path, "/v1/jobs?prefix=", err) < 0 || http_escape(path, prefix, 0, err) < 0)
		return -1;
	if (filter && (buf_puts(path, "&filter=", err) < 0 || http_escape(path, filter, 0, err) < 0))
		return -1;
	if (per_page > 0 && buf_printf(path, err, "&per_page=%d", per_page) < 0)
		return -1;
	if (next_token && *next_token &&
	    (buf_puts(path, "&next_token=", err) < 0 || http_escape(path, next_token, 0, err) < 0))
		return -1;
	return 0;
}

enum nomad_rc nomad_find_prefix(struct nomad *n, const char *prefix, char **job_id,
				struct aedb_err *err)
{
	struct buf path;
	cJSON *list = NULL, *first, *id;
	enum nomad_rc rc;

	buf_init(&path, AEDB_URL_MAX, "Nomad path");
	if (list_path(&path, prefix, NULL, 1, NULL, err) < 0) {
		buf_release(&path);
		return NOMAD_BAD_REPLY;
	}
	rc = nomad_get(n, buf_str(&path), NULL, &list, NULL, err);
	buf_release(&path);
	if (rc != NOMAD_OK)
		return rc;
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		aedb_err_set(err, "Nomad at %s: the job list is not a JSON array", n->addr);
		return NOMAD_BAD_REPLY;
	}
	first = cJSON_GetArrayItem(list, 0);
	id = cJSON_GetObjectItemCaseSensitive(first, "ID");
	*job_id = cJSON_IsString(id) && str_starts(id->valuestring, prefix)
			  ? xstrdup(id->valuestring)
			  : NULL;
	cJSON_Delete(list);
	return NOMAD_OK;
}

enum nomad_rc nomad_children_active(struct nomad *n, const char *parent,
				    const struct nomad_query *q, int64_t *active,
				    struct nomad_qmeta *meta, struct aedb_err *err)
{
	cJSON *sum = NULL, *children, *p, *r;
	enum nomad_rc rc;

	rc = get_job_path(n, parent, "/summary", q, &sum, meta, err);
	if (rc != NOMAD_OK)
		return rc;
	children = cJSON_GetObjectItemCaseSensitive(sum, "Children");
	p = cJSON_GetObjectItemCaseSensitive(children, "Pending");
	r = cJSON_GetObjectItemCaseSensitive(children, "Running");
	if (!cJSON_IsNumber(p) || !cJSON_IsNumber(r)) {
		cJSON_Delete(sum);
		aedb_err_set(err, "Nomad at %s: the summary of '%s' has no Children counts", n->addr,
			     parent);
		return NOMAD_BAD_REPLY;
	}
	*active = (int64_t)p->valuedouble + (int64_t)r->valuedouble;
	cJSON_Delete(sum);
	return NOMAD_OK;
}

enum nomad_rc nomad_count_live(struct nomad *n, const char *prefix, const struct nomad_query *q,
			       int64_t *count, struct nomad_qmeta *meta, struct aedb_err *err)
{
	char token[512] = "";
	int64_t total = 0;
	int pages = 0;

	do {
		struct nomad_qmeta m;
		struct buf path;
		cJSON *list = NULL;
		enum nomad_rc rc;

		buf_init(&path, AEDB_URL_MAX, "Nomad path");
		if (list_path(&path, prefix, "Status != \"dead\"", 500, token, err) < 0) {
			buf_release(&path);
			return NOMAD_BAD_REPLY;
		}
		/* only the first page blocks; the rest are read at once */
		rc = nomad_get(n, buf_str(&path), pages == 0 ? q : NULL, &list, &m, err);
		buf_release(&path);
		if (rc != NOMAD_OK)
			return rc;
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(list);
			aedb_err_set(err, "Nomad at %s: the job list is not a JSON array", n->addr);
			return NOMAD_BAD_REPLY;
		}
		total += cJSON_GetArraySize(list);
		cJSON_Delete(list);
		if (pages == 0 && meta)
			*meta = m;
		snprintf(token, sizeof(token), "%s", m.next_token);
		pages++;
	} while (token[0] && pages < 10000);
	*count = total;
	return NOMAD_OK;
}

static int tag_ok(const char *s)
{
	const unsigned char *p;

	if (!*s)
		return 0;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("/&,[]=:", *p))
			return 0;
	}
	return 1;
}

int nomad_tag_template(const char *const *kv, char **out, struct aedb_err *err)
{
	struct buf b;
	size_t i;

	buf_init(&b, AEDB_TAG_STRING_MAX + 2, "the tag string");
	for (i = 0; kv[i] && kv[i + 1]; i += 2) {
		if (!tag_ok(kv[i]) || !tag_ok(kv[i + 1])) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "tag %s='%s' is empty or contains one of: space / & , [ ] = :",
				      kv[i], kv[i + 1]);
			goto fail;
		}
		if (buf_printf(&b, NULL, "%s%s=%s", i ? "," : "[", kv[i], kv[i + 1]) < 0) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "the joined tags are longer than %d characters "
				      "(Nomad job id tags, as upstream)",
				      AEDB_TAG_STRING_MAX);
			goto fail;
		}
	}
	if (b.len - 1 > AEDB_TAG_STRING_MAX) {
		aedb_err_setk(err, AEDB_E_USAGE,
			      "the joined tags are longer than %d characters (Nomad job id tags, "
			      "as upstream)",
			      AEDB_TAG_STRING_MAX);
		goto fail;
	}
	if (buf_putc(&b, ']', NULL) < 0) {
		aedb_err_setk(err, AEDB_E_USAGE, "the joined tags are longer than %d characters",
			      AEDB_TAG_STRING_MAX);
		goto fail;
	}
	*out = buf_detach(&b, NULL);
	return 0;
fail:
	buf_release(&b);
	return -1;
}

static enum nomad_rc stream_url(struct nomad *n, const char *url, const char *what,
				int (*sink)(void *ctx, const char *data, size_t len),
				int (*tick)(void *ctx), void *ctx, long timeout_ms, long idle_ms,
				int abortable, struct aedb_err *err)
{
	const char *headers[2] = { n->token_header, NULL };
	struct http_request req = { 0 };

	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.timeout_ms = timeout_ms ? timeout_ms : -1;
	req.idle_ms = idle_ms;
	req.sink = sink;
	req.sink_ctx = ctx;
	req.tick = tick;
	req.tick_ctx = ctx;
	req.abortable = abortable;
	if (http_do(n->http, &req, &n->resp, err) < 0) {
		aedb_err_prefix(err, "Nomad at %s", n->addr);
		return NOMAD_TRANSIENT;
	}
	if (n->resp.status < 200 || n->resp.status > 299)
		return read_failure(n, what, err);
	return NOMAD_OK;
}

enum nomad_rc nomad_stream(struct nomad *n, const char *path,
			   int (*sink)(void *ctx, const char *data, size_t len),
			   int (*tick)(void *ctx), void *ctx, long timeout_ms, long idle_ms,
			   struct aedb_err *err)
{
	struct buf url;
	enum nomad_rc rc = NOMAD_BAD_REPLY;

	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	if (build_url(n, &url, path, NULL, err) == 0)
		rc = stream_url(n, buf_str(&url), path, sink, tick, ctx, timeout_ms, idle_ms, 1, err);
	buf_release(&url);
	return rc;
}

enum nomad_rc nomad_logs(struct nomad *n, const char *alloc_id, const char *task,
			 const char *type, int (*sink)(void *ctx, const char *data, size_t len),
			 void *ctx, struct aedb_err *err)
{
	struct buf url;
	enum nomad_rc rc = NOMAD_BAD_REPLY;

	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	if (buf_printf(&url, err, "%s/v1/client/fs/logs/", n->addr) == 0 &&
	    http_escape(&url, alloc_id, 0, err) == 0 && buf_puts(&url, "?task=", err) == 0 &&
	    http_escape(&url, task, 0, err) == 0 &&
	    buf_printf(&url, err, "&type=%s&plain=true&origin=start&offset=0&namespace=", type) == 0 &&
	    http_escape(&url, n->ns, 0, err) == 0)
		rc = stream_url(n, buf_str(&url), "logs", sink, NULL, ctx, 120000, 0, 0, err);
	buf_release(&url);
	return rc;
}

enum nomad_rc nomad_list_jobs(struct nomad *n, const char *prefix,
			      int (*each)(void *ctx, const cJSON *stub), void *ctx,
			      struct aedb_err *err)
{
	char token[512] = "";
	int pages = 0;

	do {
		struct nomad_qmeta m;
		struct buf path;
		cJSON *list = NULL;
		const cJSON *stub;
		enum nomad_rc rc;
		int stop = 0;

		buf_init(&path, AEDB_URL_MAX, "Nomad path");
		if (list_path(&path, prefix, NULL, 500, token, err) < 0) {
			buf_release(&path);
			return NOMAD_BAD_REPLY;
		}
		rc = nomad_get(n, buf_str(&path), NULL, &list, &m, err);
		buf_release(&path);
		if (rc != NOMAD_OK)
			return rc;
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(list);
			aedb_err_set(err, "Nomad at %s: the job list is not a JSON array", n->addr);
			return NOMAD_BAD_REPLY;
		}
		cJSON_ArrayForEach(stub, list) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(stub, "ID");

			if (!cJSON_IsString(id) || !str_starts(id->valuestring, prefix))
				continue;
			if (each(ctx, stub) < 0) {
				stop = 1;
				break;
			}
		}
		cJSON_Delete(list);
		if (stop)
			return NOMAD_OK;
		snprintf(token, sizeof(token), "%s", m.next_token);
		pages++;
	} while (token[0] && pages < 100000);
	return NOMAD_OK;
}

/* Classify the reply to a write that is safe to repeat (purge, GC). */
static enum nomad_rc idempotent_failure(struct nomad *n, const char *what, const char *hint,
					struct aedb_err *err)
{
	char line[300];
	long st = n->resp.status;

	body_line(&n->resp, line, sizeof(line));
	if (st == 403) {
		aedb_err_set(err, "Nomad at %s refused %s: %s%s", n->addr, what,
			     line[0] ? line : "HTTP 403", hint);
		return NOMAD_REFUSED;
	}
	if (st == 429 || st >= 500) {
		aedb_err_set(err, "Nomad at %s: %s: HTTP %ld %s", n->addr, what, st, line);
		return NOMAD_TRANSIENT;
	}
	aedb_err_set(err, "Nomad at %s: %s: HTTP %ld %s%s", n->addr, what, st, line,
		     st == 404 ? " (a wrong route: is this a Nomad address?)" : "");
	return NOMAD_BAD_REPLY;
}

enum nomad_rc nomad_purge(struct nomad *n, const char *job, int *gone, struct aedb_err *err)
{
	struct buf path, url;
	cJSON *reply = NULL;
	const cJSON *eid, *jmi;
	enum nomad_rc rc = NOMAD_BAD_REPLY;

	buf_init(&path, AEDB_URL_MAX, "Nomad path");
	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	if (buf_puts(&path, "/v1/job/", err) < 0 || http_escape(&path, job, 0, err) < 0 ||
	    buf_puts(&path, "?purge=true", err) < 0 || build_url(n, &url, buf_str(&path), NULL, err) < 0)
		goto out;
	if (do_request(n, "DELETE", buf_str(&url), NULL, 0, err) < 0) {
		aedb_err_prefix(err, "purge of '%s' at Nomad %s", job, n->addr);
		rc = n->resp.failure == HTTP_FAIL_NOT_SENT ? NOMAD_TRANSIENT : NOMAD_UNKNOWN;
		goto out;
	}
	if (n->resp.status < 200 || n->resp.status > 299) {
		rc = idempotent_failure(n, "the purge", " (purging needs the submit-job or purge-job "
					"capability: check NOMAD_TOKEN)", err);
		aedb_err_prefix(err, "'%s'", job);
		goto out;
	}
	reply = cJSON_ParseWithLength(buf_str(&n->resp.body), n->resp.body.len);
	eid = cJSON_GetObjectItemCaseSensitive(reply, "EvalID");
	jmi = cJSON_GetObjectItemCaseSensitive(reply, "JobModifyIndex");
	if (!cJSON_IsObject(reply) || !cJSON_IsString(eid) || !cJSON_IsNumber(jmi)) {
		aedb_err_set(err, "Nomad at %s: the answer to the purge of '%s' has no EvalID and "
			     "JobModifyIndex", n->addr, job);
		goto out;
	}
	*gone = eid->valuestring[0] == '\0' && jmi->valuedouble == 0;
	rc = NOMAD_OK;
out:
	cJSON_Delete(reply);
	buf_release(&path);
	buf_release(&url);
	return rc;
}

enum nomad_rc nomad_metrics_gauge(struct nomad *n, const char *name, double *value,
				  struct aedb_err *err)
{
	cJSON *m = NULL;
	const cJSON *g, *gauges;
	enum nomad_rc rc;

	rc = nomad_get(n, "/v1/metrics", NULL, &m, NULL, err);
	if (rc != NOMAD_OK)
		return rc;
	gauges = cJSON_GetObjectItemCaseSensitive(m, "Gauges");
	cJSON_ArrayForEach(g, gauges) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(g, "Name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, "Value");

		if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsNumber(v)) {
			*value = v->valuedouble;
			cJSON_Delete(m);
			return NOMAD_OK;
		}
	}
	cJSON_Delete(m);
	aedb_err_set(err, "Nomad at %s reports no gauge '%s' in /v1/metrics (ask a server agent)",
		     n->addr, name);
	return NOMAD_NOT_FOUND;
}

enum nomad_rc nomad_system_gc(struct nomad *n, struct aedb_err *err)
{
	struct buf url;
	enum nomad_rc rc = NOMAD_BAD_REPLY;

	buf_init(&url, AEDB_URL_MAX, "Nomad URL");
	if (build_url(n, &url, "/v1/system/gc", NULL, err) < 0)
		goto out;
	if (do_request(n, "PUT", buf_str(&url), NULL, 0, err) < 0) {
		aedb_err_prefix(err, "garbage collection at Nomad %s", n->addr);
		rc = n->resp.failure == HTTP_FAIL_NOT_SENT ? NOMAD_TRANSIENT : NOMAD_UNKNOWN;
		goto out;
	}
	if (n->resp.status < 200 || n->resp.status > 299) {
		rc = idempotent_failure(n, "a garbage collection (PUT /v1/system/gc)",
					"; it needs a management token (NOMAD_TOKEN or --nomad_token)",
					err);
		goto out;
	}
	rc = NOMAD_OK;
out:
	buf_release(&url);
	return rc;
}
