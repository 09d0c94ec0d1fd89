/* HTTP over libcurl. Everything that knows curl lives here: handles, options,
 * TLS settings, SigV4, and the mapping of curl's errors to what a caller
 * must decide (retry safely, or treat the outcome as unknown).
 *
 * A response body is buffered up to a cap, or streamed to a sink (log
 * capture). Headers are kept so callers can read X-Nomad-Index and friends. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aedb-config.h"
#include "http.h"
#include "caps.h"
#include "util.h"

struct http_client {
	CURL *curl;
	struct http_client_opts opts;
	char *user_agent;
};

struct xfer {
	CURL *curl;
	const volatile sig_atomic_t *abort_flag; /* when the request is abortable */
	int ticked_out;
	const struct http_request *req;
	struct http_response *resp;
	struct aedb_err cap_err;
	int capped;
	int sink_failed;
	const char *upload;
	size_t upload_len;
	size_t upload_pos;
};

int http_global_init(struct aedb_err *err)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		return aedb_err_set(err, "cannot initialise libcurl: %s", curl_easy_strerror(rc));
	return 0;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

int http_client_new(const struct http_client_opts *opts, struct http_client **out,
		    struct aedb_err *err)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	if (opts)
		c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = 10000;
	if (!c->opts.timeout_ms)
		c->opts.timeout_ms = 60000;
	c->user_agent = xstrdup(c->opts.user_agent ? c->opts.user_agent : "aedb/" AEDB_VERSION);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c->user_agent);
		free(c);
		return aedb_err_set(err, "cannot create an HTTP handle (libcurl)");
	}
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c->user_agent);
	free(c);
}

void http_response_init(struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, AEDB_HTTP_BODY_MAX, "HTTP response body");
}

static void clear_headers(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
}

void http_response_release(struct http_response *r)
{
	clear_headers(r);
	buf_release(&r->body);
}

const char *http_header(const struct http_response *r, const char *name)
{
	size_t i = r->nheaders;

	while (i-- > 0) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	}
	return NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;

	if (x->req->sink) {
		long code = 0;

		/* only a success body goes to the sink; an error body is kept for
		 * the message (a 404 text must not become a log file's content) */
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299) {
			if (buf_append(&x->resp->body, ptr, n, &x->cap_err) < 0) {
				x->capped = 1;
				return 0;
			}
			return n;
		}
		if (x->req->sink(x->req->sink_ctx, ptr, n) < 0) {
			x->sink_failed = 1;
			return 0;
		}
		return n;
	}
	if (buf_append(&x->resp->body, ptr, n, &x->cap_err) < 0) {
		x->capped = 1;
		return 0;
	}
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct http_response *r = x->resp;
	size_t n = size * nmemb, len = n;
	const char *colon;
	char *value;
	size_t vlen;

	/* a new status line (redirects are off, but 100-continue happens):
	 * forget headers of the interim response */
	if (len >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		clear_headers(r);
		return n;
	}
	while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
		len--;
	if (len == 0 || len > AEDB_HTTP_HEADER_LEN_MAX)
		return n;
	colon = memchr(ptr, ':', len);
	if (!colon || r->nheaders >= AEDB_HTTP_HEADERS_MAX)
		return n;
	value = (char *)colon + 1;
	vlen = len - (size_t)(value - ptr);
	while (vlen > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		vlen--;
	}
	r->headers[r->nheaders].name = xstrndup(ptr, (size_t)(colon - ptr));
	r->headers[r->nheaders].value = xstrndup(value, vlen);
	r->nheaders++;
	return n;
}

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct xfer *x = userdata;
	size_t room = size * nitems, left = x->upload_len - x->upload_pos;
	size_t n = left < room ? left : room;

	memcpy(buffer, x->upload + x->upload_pos, n);
	x->upload_pos += n;
	return n;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
	struct xfer *x = userdata;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->upload_len)
		return CURL_SEEKFUNC_FAIL;
	x->upload_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = userdata;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->abort_flag && *x->abort_flag)
		return 1;
	if (x->req->tick && x->req->tick(x->req->tick_ctx)) {
		x->ticked_out = 1;
		return 1;
	}
	return 0;
}

static enum http_failure classify(CURLcode rc, CURL *curl)
{
	long sent = 0;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return HTTP_FAIL_NOT_SENT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_OUT_OF_MEMORY:
		return HTTP_FAIL_LOCAL;
	default:
		break;
	}
	/* a timeout before the request left counts as not sent */
	if (curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0)
		return HTTP_FAIL_NOT_SENT;
	return HTTP_FAIL_UNKNOWN;
}

/* The host part of a URL, for messages (never the query: it may hold secrets). */
static void url_for_message(const char *url, char *out, size_t size)
{
	const char *q = strpbrk(url, "?#");
	size_t n = q ? (size_t)(q - url) : strlen(url);

	if (n >= size)
		n = size - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

static void setup(struct http_client *c, const struct http_request *req, struct xfer *x,
		  struct curl_slist *hdrs)
{
	CURL *h = c->curl;
	const char *m = req->method ? req->method : "GET";

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms < 0 ? 0L : req->timeout_ms ? req->timeout_ms : c->opts.timeout_ms);
	if (req->idle_ms > 0) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (req->idle_ms + 999) / 1000);
	}
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	if (c->opts.cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->opts.cacert);
	if (c->opts.capath)
		curl_easy_setopt(h, CURLOPT_CAPATH, c->opts.capath);
	if (c->opts.client_cert)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->opts.client_cert);
	if (c->opts.client_key)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->opts.client_key);
	if (c->opts.skip_verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->path_as_is)
		curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	x->abort_flag = req->abortable ? c->opts.abort_flag : NULL;
	if (x->abort_flag || req->tick) {
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	}
	if (req->aws_sigv4) {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->aws_key_id ? req->aws_key_id : "");
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->aws_secret ? req->aws_secret : "");
	}

	if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "PUT") == 0) {
		/* upload mode, so curl can rewind the body on its own retries */
		x->upload = req->body ? req->body : "";
		x->upload_len = req->body ? req->body_len : 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, x);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->upload_len);
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
	} else if (strcmp(m, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
		if (req->body) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
	}
}

int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp,
	    struct aedb_err *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	struct xfer x;
	char where[256];
	CURLcode rc;
	size_t i;
	int ret = -1;

	memset(&x, 0, sizeof(x));
	x.curl = c->curl;
	x.req = req;
	x.resp = resp;
	clear_headers(resp);
	buf_reset(&resp->body);
	resp->body.max = req->max_body ? req->max_body : AEDB_HTTP_BODY_MAX;
	resp->status = 0;
	resp->failure = HTTP_FAIL_NONE;
	resp->seconds = 0;
	url_for_message(req->url, where, sizeof(where));

	if (strlen(req->url) > AEDB_URL_MAX) {
		resp->failure = HTTP_FAIL_LOCAL;
		return aedb_err_set(err, "URL for %s is longer than %d bytes", where, AEDB_URL_MAX);
	}
	for (i = 0; req->headers && req->headers[i]; i++) {
		tmp = curl_slist_append(hdrs, req->headers[i]);
		if (!tmp) {
			resp->failure = HTTP_FAIL_LOCAL;
			aedb_err_set(err, "out of memory building request headers");
			goto out;
		}
		hdrs = tmp;
	}
	setup(c, req, &x, hdrs);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME, &resp->seconds);
	if (rc != CURLE_OK) {
		if (x.capped) {
			resp->failure = HTTP_FAIL_LOCAL;
			aedb_err_set(err, "%s %s: %s", req->method ? req->method : "GET", where,
				     x.cap_err.msg);
		} else if (x.sink_failed) {
			resp->failure = HTTP_FAIL_LOCAL;
			aedb_err_set(err, "%s %s: the response could not be stored",
				     req->method ? req->method : "GET", where);
		} else {
			resp->failure = classify(rc, c->curl);
			aedb_err_set(err, "%s %s: %s", req->method ? req->method : "GET", where,
				     curl_easy_strerror(rc));
		}
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	return ret;
}

int http_escape(struct buf *out, const char *s, int keep_slash, struct aedb_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char enc[3];

	for (p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' ||
		    (keep_slash && *p == '/')) {
			if (buf_putc(out, (char)*p, err) < 0)
				return -1;
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 15];
		if (buf_append(out, enc, 3, err) < 0)
			return -1;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *http_unescape(const char *s)
{
	size_t n = strlen(s), i, j = 0;
	char *out = xmalloc(n + 1);

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			hi = hexval(s[i + 1]);
			lo = hi < 0 ? -1 : hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	out[j] = '\0';
	return out;
}
