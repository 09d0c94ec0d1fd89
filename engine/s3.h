/* S3 client: PutObject, HeadObject, GetObject and ListObjectsV2, signed
 * with SigV4 by libcurl (CURLOPT_AWS_SIGV4, through engine/http.c). curl
 * 7.88 signs what it is given without canonicalising it, so this module
 * writes the canonical form itself: AWS-encoded path, sorted and encoded
 * query, an x-amz-content-sha256 header on every request, and the session
 * token header (reference: s3.md section 3). Credentials, region and
 * endpoint come from the usual AWS_* variables. Secrets never enter a
 * message. One struct s3_client per thread; the config may be shared. */
#ifndef AEDB_S3_H
#define AEDB_S3_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "http.h"

#define S3_MAX_ATTEMPTS 3             /* tries of one request on 5xx/429/throttling */
#define S3_OBJECT_MAX (256u << 20)    /* an object read with s3_get */
#define S3_LIST_PAGE_MAX (16u << 20)  /* one ListObjectsV2 response */

struct s3_config {
	char *endpoint;  /* scheme://host[:port][/path] without a trailing '/' */
	char *region;
	char *key_id;
	char *secret;
	char *token;     /* NULL without a session token */
	int path_style;  /* bucket in the path (custom endpoints); else virtual-hosted */
};

/* Read AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or the
 * old AWS_SECURITY_TOKEN), AWS_REGION / AWS_DEFAULT_REGION (default
 * us-east-1), AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (ignored when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true; path-style when set). Missing
 * keys or a malformed endpoint are usage errors. *c is filled only on
 * success; release with s3_config_release. */
int s3_config_from_env(struct s3_config *c, struct aedb_err *err);
void s3_config_release(struct s3_config *c);

/* Split "s3://bucket/key..." into a malloc'd bucket and key ("" for the
 * bucket root; the key is taken literally). Checks the bucket name rules. */
int s3_parse_url(const char *url, char **bucket, char **key, struct aedb_err *err);

struct s3_param {
	const char *name;
	const char *value; /* "" for a parameter without a value */
};

/* The request URL for bucket/key with the query params in canonical form:
 * path encoded per segment, params sorted by name, names and values
 * encoded with uppercase hex, every param written as name=value. */
int s3_request_url(const struct s3_config *c, const char *bucket, const char *key,
		   const struct s3_param *params, size_t nparams, struct buf *out,
		   struct aedb_err *err);

/* Lowercase hex SHA-256 of data (65 bytes with the NUL). */
void s3_sha256_hex(const void *data, size_t len, char out[65]);

struct s3_client {
	struct http_client *http;     /* borrowed; one per thread */
	const struct s3_config *cfg;  /* borrowed */
	int max_attempts;             /* 0: S3_MAX_ATTEMPTS */
	long backoff_ms;              /* first retry delay, doubled; 0: 200 */
	/* Set by a call that failed because S3 refused the credentials
	 * themselves (SignatureDoesNotMatch, InvalidAccessKeyId, ExpiredToken,
	 * InvalidToken): every later request would fail the same way. */
	int credentials_refused;
};

/* PutObject from memory. Returns 0, or -1 with err. */
int s3_put(struct s3_client *s, const char *bucket, const char *key, const void *data, size_t len,
	   const char *content_type, struct aedb_err *err);

struct s3_head_info {
	long long size;
	char etag[80];
};

/* HeadObject: 1 when the object exists (info filled when not NULL), 0
 * when it does not, -1 with err. */
int s3_head(struct s3_client *s, const char *bucket, const char *key, struct s3_head_info *info,
	    struct aedb_err *err);

/* GetObject into out: 1 found, 0 no such key, -1 with err. */
int s3_get(struct s3_client *s, const char *bucket, const char *key, struct buf *out,
	   struct aedb_err *err);

struct s3_object {
	const char *key;
	long long size;
	const char *etag;
};

/* ListObjectsV2 of every key under prefix, page by page (max_keys per
 * page, 0 for the server's default), calling fn for each object in order;
 * fn returns 0 to go on, -1 to stop with its own err. *pages (may be NULL)
 * gets the number of pages read. */
int s3_list(struct s3_client *s, const char *bucket, const char *prefix, int max_keys,
	    int (*fn)(void *ctx, const struct s3_object *o, struct aedb_err *err), void *ctx,
	    int *pages, struct aedb_err *err);

/* The text of the first <tag>...</tag> in xml, entities decoded; a
 * malloc'd string or NULL. For error bodies and listings. */
char *s3_xml_text(const char *xml, const char *tag);

#endif
