/* HTTP client: the only module that talks to libcurl. One struct
 * http_client per thread (it owns a curl easy handle, so connections are
 * kept alive between requests). */
#ifndef AEDB_HTTP_H
#define AEDB_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* What happened to a request that got no HTTP response. */
enum http_failure {
	HTTP_FAIL_NONE = 0,
	HTTP_FAIL_NOT_SENT,   /* never reached the server (refused, DNS): safe to retry */
	HTTP_FAIL_UNKNOWN,    /* sent, then timeout/reset: the server may have acted */
	HTTP_FAIL_LOCAL,      /* our side: bad URL, response over its cap, callback abort */
};

struct http_client;

struct http_client_opts {
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;         /* default per request; 0: 60 s */
	const char *cacert;      /* PEM file (NOMAD_CACERT) */
	const char *capath;      /* directory of PEM files (NOMAD_CAPATH) */
	const char *client_cert; /* PEM (NOMAD_CLIENT_CERT) */
	const char *client_key;  /* PEM (NOMAD_CLIENT_KEY) */
	int skip_verify;         /* NOMAD_SKIP_VERIFY */
	const char *user_agent;  /* NULL: "aedb/VERSION" */
	/* When set and non-zero, an `abortable` request in flight is cut short
	 * (HTTP_FAIL_LOCAL): a signal handler sets it to stop long polls. */
	const volatile sig_atomic_t *abort_flag;
};

struct http_request {
	const char *method;           /* GET, HEAD, POST, PUT, DELETE */
	const char *url;              /* already percent-encoded */
	const char *const *headers;   /* NULL-terminated "Name: value" lines, or NULL */
	const void *body;             /* request body, or NULL */
	size_t body_len;
	long timeout_ms;              /* 0: the client's default; < 0: none */
	long idle_ms;                 /* > 0: end the transfer after this long without a byte */
	size_t max_body;              /* cap on the buffered response; 0: AEDB_HTTP_BODY_MAX */
	/* SigV4 signing by curl (S3): "aws:amz:REGION:s3" plus the key pair.
	 * The secret is handed to curl only; it never enters a message. */
	const char *aws_sigv4;
	const char *aws_key_id;
	const char *aws_secret;
	int path_as_is;               /* do not squash "./" and "../" in the path */
	int abortable;                /* may be cut short by the client's abort_flag */
	/* Called about once a second while the transfer runs (also when no byte
	 * arrives); a non-zero return ends it (HTTP_FAIL_LOCAL). */
	int (*tick)(void *ctx);
	void *tick_ctx;
	/* Stream a 2xx response body here instead of buffering it (an error
	 * body is still buffered, for the message). Return 0 to go on, -1 to
	 * abort the transfer (HTTP_FAIL_LOCAL). */
	int (*sink)(void *ctx, const char *data, size_t len);
	void *sink_ctx;
};

struct http_header {
	char *name;
	char *value;
};

struct http_response {
	long status;                  /* 0 when no response came */
	struct buf body;              /* unless a sink was given */
	struct http_header headers[AEDB_HTTP_HEADERS_MAX];
	size_t nheaders;
	enum http_failure failure;    /* set when http_do returns -1 */
	double seconds;               /* total time of the request */
};

/* Call once at program start, before any thread exists. */
int http_global_init(struct aedb_err *err);
void http_global_cleanup(void);

int http_client_new(const struct http_client_opts *opts, struct http_client **out,
		    struct aedb_err *err);
void http_client_free(struct http_client *c);

void http_response_init(struct http_response *r);
void http_response_release(struct http_response *r);

/* Perform one request. Returns 0 when an HTTP response arrived, whatever its
 * status (resp->status); -1 when none did, with resp->failure and err set.
 * resp must have been http_response_init()ed; it is reset first, so one
 * response may be reused across calls. */
int http_do(struct http_client *c, const struct http_request *req, struct http_response *resp,
	    struct aedb_err *err);

/* A response header by case-insensitive name (the last one if repeated), or NULL. */
const char *http_header(const struct http_response *r, const char *name);

/* Percent-encode s for a URL path segment or query value: keeps
 * A-Z a-z 0-9 - _ . ~ and writes every other byte as %XX (uppercase), the
 * form both Nomad and S3's SigV4 canonical requests accept. With keep_slash
 * a '/' is kept (S3 keys). Appends to out. */
int http_escape(struct buf *out, const char *s, int keep_slash, struct aedb_err *err);
/* Decode %XX sequences (and nothing else); returns a malloc'd string or NULL
 * for a malformed escape. */
char *http_unescape(const char *s);

#endif
