/* httpd: the project's tiny HTTP server layer for test servers, over
 * libmicrohttpd. It exists so the Nomad simulator and the STAC fixture
 * server share one careful piece of socket code: loopback-only binding,
 * free-port selection with an atomically written port file, one thread per
 * connection (handlers may block for blocking queries and streams), whole
 * request bodies with a cap, and signal-driven shutdown. HTTP parsing is
 * libmicrohttpd's; this file only adapts its callbacks to one handler. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "httpd.h"
#include "util.h"

struct httpd {
	struct MHD_Daemon *daemon;
	int listen_fd;
	int port;
	void (*handler)(struct httpd_req *r, void *ctx);
	void *ctx;
	size_t body_max;
};

enum resp_kind {
	RESP_NONE = 0,
	RESP_BUFFER,
	RESP_STREAM,
	RESP_DROP,
};

struct httpd_header_kv {
	char *name;
	char *value;
};

struct httpd_req {
	struct httpd *server;
	struct MHD_Connection *conn;
	char *raw_uri;
	const char *method;
	const char *path;
	int started;
	int too_big;
	char *body;
	size_t body_len;
	size_t body_alloc;

	enum resp_kind kind;
	int status;
	char *content_type;
	char *resp_body;
	size_t resp_len;
	ssize_t (*stream_fn)(void *cls, uint64_t pos, char *buf, size_t max);
	void *stream_cls;
	void (*stream_free)(void *cls);
	struct httpd_header_kv headers[HTTPD_EXTRA_HEADERS_MAX];
	size_t nheaders;
	size_t sent_bytes;
};

/* libmicrohttpd's own error log, minus the line it writes for every
 * deliberately dropped connection (httpd_drop()). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	if (strstr(fmt, "Application reported internal error"))
		return;
	fputs("httpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static void req_free(struct httpd_req *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->raw_uri);
	free(r->body);
	free(r->content_type);
	free(r->resp_body);
	free(r);
}

/* libmicrohttpd hands us the request target before decoding it: keep it,
 * it becomes the per-request context. */
static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct httpd_req *r = xcalloc(1, sizeof(*r));

	r->server = cls;
	r->conn = conn;
	r->raw_uri = xstrdup(uri ? uri : "");
	return r;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct httpd_req *r = *req_cls;

	req_free(r);
	*req_cls = NULL;
}

static enum MHD_Result send_response(struct httpd_req *r)
{
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	size_t i;

	switch (r->kind) {
	case RESP_DROP:
		return MHD_NO;
	case RESP_STREAM:
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
							 r->stream_fn, r->stream_cls,
							 r->stream_free);
		break;
	case RESP_BUFFER:
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body,
						       MHD_RESPMEM_MUST_FREE);
		if (resp)
			r->resp_body = NULL; /* libmicrohttpd free()s it now */
		break;
	case RESP_NONE:
		r->status = 500;
		free(r->content_type);
		r->content_type = xstrdup("text/plain; charset=utf-8");
		resp = MHD_create_response_from_buffer(strlen("handler sent no response"),
						       (void *)"handler sent no response",
						       MHD_RESPMEM_PERSISTENT);
		break;
	}
	if (!resp) {
		if (r->kind == RESP_STREAM && r->stream_free)
			r->stream_free(r->stream_cls);
		return MHD_NO;
	}
	if (r->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size,
				 void **req_cls)
{
	struct httpd *h = cls;
	struct httpd_req *r = *req_cls;

	if (!r) { /* no URI log call (should not happen): make one */
		r = uri_log_cb(h, url, conn);
		*req_cls = r;
	}
	if (!r->started) {
		r->started = 1;
		r->method = method;
		r->path = url;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (!r->too_big && r->body_len + n > h->body_max)
			r->too_big = 1;
		if (!r->too_big) {
			if (r->body_len + n + 1 > r->body_alloc) {
				r->body_alloc = (r->body_len + n + 1) * 2;
				r->body = xrealloc(r->body, r->body_alloc);
			}
			memcpy(r->body + r->body_len, upload_data, n);
			r->body_len += n;
			r->body[r->body_len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		httpd_respond_text(r, 413, "request body too large");
	else
		h->handler(r, h->ctx);
	return send_response(r);
}

int httpd_opts_from_listen(struct httpd_opts *o, const char *listen, struct aedb_err *err)
{
	const char *colon = strrchr(listen, ':');
	const char *port = colon ? colon + 1 : listen;
	int p;

	if (colon) {
		size_t hl = (size_t)(colon - listen);

		if (!((hl == 9 && strncmp(listen, "127.0.0.1", 9) == 0) ||
		      (hl == 9 && strncmp(listen, "localhost", 9) == 0)))
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "--listen '%s': only 127.0.0.1 is allowed", listen);
	}
	if (parse_int(port, 0, 65535, &p) != 0)
		return aedb_err_setk(err, AEDB_E_USAGE, "--listen '%s': bad port", listen);
	o->port = p;
	return 0;
}

static void signal_set(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGINT);
}

void httpd_block_signals(void)
{
	sigset_t s;

	signal_set(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

int httpd_wait_signal(void)
{
	sigset_t s;
	int sig = 0;

	signal_set(&s);
	while (sigwait(&s, &sig) != 0)
		;
	return sig;
}

struct httpd *httpd_start(const struct httpd_opts *o, struct aedb_err *err)
{
	struct httpd *h = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	int fd = -1, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		aedb_err_set(err, "socket: %s", strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		aedb_err_set(err, "cannot bind 127.0.0.1:%d: %s", o->port, strerror(errno));
		goto fail;
	}
	if (listen(fd, 1024) != 0 || getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		aedb_err_set(err, "listen: %s", strerror(errno));
		goto fail;
	}
	h = xcalloc(1, sizeof(*h));
	h->listen_fd = fd;
	h->port = ntohs(sa.sin_port);
	h->handler = o->handler;
	h->ctx = o->ctx;
	h->body_max = o->body_max ? o->body_max : HTTPD_BODY_MAX_DEFAULT;
	h->daemon = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
			MHD_USE_ERROR_LOG,
		0, NULL, NULL, access_cb, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)(o->connection_timeout_s ? o->connection_timeout_s : 600),
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(o->connection_limit ? o->connection_limit : 4096),
		MHD_OPTION_END);
	if (!h->daemon) {
		aedb_err_set(err, "cannot start the HTTP server on 127.0.0.1:%d", h->port);
		goto fail;
	}
	return h;
fail:
	if (fd >= 0)
		close(fd);
	free(h);
	return NULL;
}

int httpd_port(const struct httpd *h)
{
	return h->port;
}

int httpd_write_port_file(const struct httpd *h, const char *path, struct aedb_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = NULL;
	int ret = -1;

	f = fopen(tmp, "w");
	if (!f) {
		aedb_err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fprintf(f, "http://127.0.0.1:%d\n", h->port);
	if (fclose(f) != 0) {
		f = NULL;
		aedb_err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0) {
		aedb_err_set(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (ret != 0)
		unlink(tmp);
	free(tmp);
	return ret;
}

void httpd_stop(struct httpd *h)
{
	MHD_socket fd;

	if (!h)
		return;
	fd = MHD_quiesce_daemon(h->daemon);
	MHD_stop_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(h);
}

const char *httpd_req_method(const struct httpd_req *r)
{
	return r->method;
}

const char *httpd_req_path(const struct httpd_req *r)
{
	return r->path;
}

const char *httpd_req_raw_uri(const struct httpd_req *r)
{
	return r->raw_uri;
}

const char *httpd_req_query(const struct httpd_req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	if (v)
		return v;
	/* "?name" with no '=' is stored with a NULL value: tell it from absent */
	if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
					  &v, NULL) == MHD_YES)
		return v ? v : "";
	return NULL;
}

char *httpd_req_query_raw(const struct httpd_req *r, const char *name)
{
	const char *q = strchr(r->raw_uri, '?');
	size_t nl = strlen(name);

	if (!q)
		return NULL;
	q++;
	while (*q) {
		const char *end = strchr(q, '&');
		const char *eq;

		if (!end)
			end = q + strlen(q);
		eq = memchr(q, '=', (size_t)(end - q));
		if ((size_t)((eq ? eq : end) - q) == nl && memcmp(q, name, nl) == 0)
			return eq ? xstrndup(eq + 1, (size_t)(end - eq - 1)) : xstrdup("");
		q = *end ? end + 1 : end;
	}
	return NULL;
}

struct each_ctx {
	void (*fn)(void *cls, const char *name, const char *value);
	void *cls;
};

static enum MHD_Result each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct each_ctx *e = cls;

	e->fn(e->cls, key, value ? value : "");
	return MHD_YES;
}

void httpd_req_query_each(const struct httpd_req *r,
			  void (*fn)(void *cls, const char *name, const char *value), void *cls)
{
	struct each_ctx e = { fn, cls };

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_cb, &e);
}

const char *httpd_req_header(const struct httpd_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *httpd_req_body(const struct httpd_req *r, size_t *len)
{
	if (len)
		*len = r->body_len;
	return r->body ? r->body : "";
}

void httpd_add_header(struct httpd_req *r, const char *name, const char *value)
{
	if (r->nheaders >= HTTPD_EXTRA_HEADERS_MAX) {
		fprintf(stderr, "httpd: too many response headers, '%s' dropped\n", name);
		return;
	}
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}

static int already_answered(struct httpd_req *r)
{
	if (r->kind == RESP_NONE)
		return 0;
	fprintf(stderr, "httpd: %s %s answered twice; second answer ignored\n", r->method,
		r->path);
	return 1;
}

void httpd_respond_take(struct httpd_req *r, int status, const char *content_type, char *body,
			size_t len)
{
	if (already_answered(r)) {
		free(body);
		return;
	}
	r->kind = RESP_BUFFER;
	r->status = status;
	r->content_type = content_type ? xstrdup(content_type) : NULL;
	r->resp_body = body ? body : xstrdup("");
	r->resp_len = body ? len : 0;
	r->sent_bytes = r->resp_len;
}

void httpd_respond(struct httpd_req *r, int status, const char *content_type, const void *body,
		   size_t len)
{
	char *copy = xmalloc(len + 1);

	if (len)
		memcpy(copy, body, len);
	copy[len] = '\0';
	httpd_respond_take(r, status, content_type, copy, len);
}

void httpd_respond_json(struct httpd_req *r, int status, const char *json)
{
	httpd_respond(r, status, "application/json", json, strlen(json));
}

void httpd_respond_text(struct httpd_req *r, int status, const char *text)
{
	httpd_respond(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

void httpd_respond_stream(struct httpd_req *r, int status, const char *content_type,
			  ssize_t (*fn)(void *cls, uint64_t pos, char *buf, size_t max),
			  void *cls, void (*free_fn)(void *cls))
{
	if (already_answered(r)) {
		if (free_fn)
			free_fn(cls);
		return;
	}
	r->kind = RESP_STREAM;
	r->status = status;
	r->content_type = content_type ? xstrdup(content_type) : NULL;
	r->stream_fn = fn;
	r->stream_cls = cls;
	r->stream_free = free_fn;
}

void httpd_drop(struct httpd_req *r)
{
	if (already_answered(r))
		return;
	r->kind = RESP_DROP;
}

size_t httpd_req_response_bytes(const struct httpd_req *r)
{
	return r->sent_bytes;
}
