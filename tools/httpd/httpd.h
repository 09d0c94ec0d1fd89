/* httpd: a small HTTP server library over libmicrohttpd, shared by the
 * project's test servers (tools/nomad-sim, tools/stac-server). It binds
 * 127.0.0.1 only, runs one thread per connection (so a handler may block:
 * blocking queries, long polls, slow streams), hands each request to one
 * callback with the whole body already read, and never parses HTTP itself.
 *
 * Usage:
 *
 *   static void handle(struct httpd_req *r, void *ctx)
 *   {
 *           if (strcmp(httpd_req_method(r), "GET") != 0) {
 *                   httpd_respond_text(r, 405, "Invalid method");
 *                   return;
 *           }
 *           httpd_add_header(r, "X-Thing", "1");
 *           httpd_respond_json(r, 200, "{\"ok\":true}");
 *   }
 *
 *   struct httpd_opts o = { .handler = handle, .ctx = NULL };
 *   httpd_opts_from_listen(&o, "127.0.0.1:0", err);      // --listen
 *   struct httpd *h = httpd_start(&o, err);
 *   httpd_write_port_file(h, "port.txt", err);           // --port-file
 *   int sig = httpd_wait_signal();                         // SIGTERM/SIGINT
 *   httpd_stop(h);
 *
 * Call httpd_block_signals() first thing in main() (before any thread is
 * created) so every thread inherits a mask with SIGTERM/SIGINT blocked and
 * httpd_wait_signal() can sigwait() for them.
 *
 * A handler must answer exactly once with one of httpd_respond*(),
 * httpd_respond_stream() or httpd_drop(); a handler that returns without
 * answering gets a 500 "handler sent no response". */
#ifndef AEDB_TOOLS_HTTPD_H
#define AEDB_TOOLS_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define HTTPD_BODY_MAX_DEFAULT (16u << 20) /* request bodies above this get 413 */
#define HTTPD_EXTRA_HEADERS_MAX 16         /* httpd_add_header() calls per response */

struct httpd;
struct httpd_req;

/* A streamed body: called repeatedly (on the connection's thread, so it may
 * block waiting for data) to fill buf with up to max bytes. Return the
 * number of bytes written (0 is allowed: "nothing yet", it is called again),
 * HTTPD_STREAM_END to finish the body, HTTPD_STREAM_ERROR to cut the
 * connection. pos is the number of bytes sent so far. */
#define HTTPD_STREAM_END ((ssize_t)-1)
#define HTTPD_STREAM_ERROR ((ssize_t)-2)
/* free_fn(cls) is called once when the stream is over (finished, failed,
 * client gone). */

struct httpd_opts {
	int port;                  /* 0: a free port */
	/* The one request callback. Runs on the connection's own thread; it
	 * may block (sleep, wait on a condition variable) as long as it likes. */
	void (*handler)(struct httpd_req *r, void *ctx);
	void *ctx;                 /* passed to handler */
	size_t body_max;           /* 0: HTTPD_BODY_MAX_DEFAULT */
	unsigned connection_timeout_s; /* idle keep-alive connections; 0: 600 */
	unsigned connection_limit; /* 0: 4096 */
};

/* Parse a --listen value "127.0.0.1:PORT" (or just "PORT") into o->port.
 * Any host other than 127.0.0.1/localhost is refused: these servers are
 * loopback only. Returns 0 or -1 with err set. */
int httpd_opts_from_listen(struct httpd_opts *o, const char *listen, struct aedb_err *err);

/* Block SIGTERM, SIGINT and SIGPIPE in the calling thread; call in main()
 * before any thread exists so all threads inherit the mask. */
void httpd_block_signals(void);
/* Wait for SIGTERM or SIGINT (blocked by httpd_block_signals()); returns it. */
int httpd_wait_signal(void);

/* Bind 127.0.0.1:o->port, start accepting. Returns the server (free with
 * httpd_stop()) or NULL with err set. */
struct httpd *httpd_start(const struct httpd_opts *o, struct aedb_err *err);
/* The bound port (useful after port 0). */
int httpd_port(const struct httpd *h);
/* Write "http://127.0.0.1:PORT\n" to path atomically (temp file + rename),
 * so a reader never sees a partial line. The server is already accepting
 * when httpd_start() returns, so a test may connect as soon as the file
 * exists. Returns 0 or -1 with err set. */
int httpd_write_port_file(const struct httpd *h, const char *path, struct aedb_err *err);
/* Stop accepting, close connections, wait for handler threads, free. A
 * handler blocked in a wait must be woken by the application first (e.g.
 * set a "stopping" flag and broadcast its condition variable). */
void httpd_stop(struct httpd *h);

/* --- the request (valid only inside the handler call) --- */

const char *httpd_req_method(const struct httpd_req *r);
/* The path, percent-decoded by libmicrohttpd ("%2F" becomes "/"), no query. */
const char *httpd_req_path(const struct httpd_req *r);
/* The request target exactly as sent (path and query, still encoded). */
const char *httpd_req_raw_uri(const struct httpd_req *r);
/* A query argument, decoded ("+" is a space, %XX decoded); NULL when absent,
 * "" for "?name" or "?name=". The first one if repeated. */
const char *httpd_req_query(const struct httpd_req *r, const char *name);
/* The same argument as sent, still percent-encoded; a malloc'd string the
 * caller frees, or NULL when absent. */
char *httpd_req_query_raw(const struct httpd_req *r, const char *name);
/* Call fn for every query argument in order (decoded); repeated names
 * (topic=a&topic=b) each get a call. */
void httpd_req_query_each(const struct httpd_req *r,
			  void (*fn)(void *cls, const char *name, const char *value), void *cls);
/* A request header by case-insensitive name, or NULL. */
const char *httpd_req_header(const struct httpd_req *r, const char *name);
/* The whole request body (NUL-terminated; the NUL is not counted). */
const char *httpd_req_body(const struct httpd_req *r, size_t *len);

/* --- the response --- */

/* Add a header to the response about to be sent (copied). At most
 * HTTPD_EXTRA_HEADERS_MAX; more are dropped with a message on stderr. */
void httpd_add_header(struct httpd_req *r, const char *name, const char *value);
/* Send status, a Content-Type and a body (copied). */
void httpd_respond(struct httpd_req *r, int status, const char *content_type,
		   const void *body, size_t len);
/* application/json body from a C string. */
void httpd_respond_json(struct httpd_req *r, int status, const char *json);
/* text/plain; charset=utf-8 body from a C string (errors, Nomad-style). */
void httpd_respond_text(struct httpd_req *r, int status, const char *text);
/* Like httpd_respond but takes ownership of a malloc'd body (no copy). */
void httpd_respond_take(struct httpd_req *r, int status, const char *content_type,
			char *body, size_t len);
/* A streamed (chunked) body produced by fn; free_fn(cls) runs at the end. */
void httpd_respond_stream(struct httpd_req *r, int status, const char *content_type,
			  ssize_t (*fn)(void *cls, uint64_t pos, char *buf, size_t max),
			  void *cls, void (*free_fn)(void *cls));
/* Close the connection without any response (fault injection). */
void httpd_drop(struct httpd_req *r);
/* Bytes of the body sent by the respond call (0 for streams and drops):
 * for per-endpoint byte counters. */
size_t httpd_req_response_bytes(const struct httpd_req *r);

#endif
