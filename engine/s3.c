/* S3 over libcurl's SigV4 signer (curl 7.88 and later). What curl 7.88
 * gets wrong or leaves out is done here (s3.md section 2): the
 * x-amz-content-sha256 header, the session token header, a path encoded
 * the AWS way and sent as is, and a query already sorted and encoded.
 *
 * Retries follow the AWS SDKs' standard mode: transient statuses and
 * throttling codes, a few attempts, exponential backoff with jitter, each
 * attempt freshly signed. Credential problems are never retried; their
 * message says what to do. The secret and the token go to curl only. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caps.h"
#include "s3.h"
#include "util.h"

static const char empty_sha256[] =
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? xstrdup(v) : NULL;
}

void s3_config_release(struct s3_config *c)
{
	if (!c)
		return;
	free(c->endpoint);
	free(c->region);
	free(c->key_id);
	free(c->secret);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

int s3_config_from_env(struct s3_config *out, struct aedb_err *err)
{
	struct s3_config c;
	const char *ign = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	size_t n;

	memset(&c, 0, sizeof(c));
	c.key_id = env_dup("AWS_ACCESS_KEY_ID");
	c.secret = env_dup("AWS_SECRET_ACCESS_KEY");
	if (!c.key_id || !c.secret) {
		aedb_err_setk(err, AEDB_E_USAGE,
			      "S3 credentials are not set: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
			      "(and AWS_SESSION_TOKEN for temporary keys; `aws configure export-credentials --format env` prints them)");
		goto fail;
	}
	c.token = env_dup("AWS_SESSION_TOKEN");
	if (!c.token)
		c.token = env_dup("AWS_SECURITY_TOKEN");
	if (!c.token && str_starts(c.key_id, "ASIA")) {
		aedb_err_setk(err, AEDB_E_USAGE,
			      "AWS_ACCESS_KEY_ID is a temporary key (ASIA...) but AWS_SESSION_TOKEN is not set: export the session token too");
		goto fail;
	}
	c.region = env_dup("AWS_REGION");
	if (!c.region)
		c.region = env_dup("AWS_DEFAULT_REGION");
	if (!c.region)
		c.region = xstrdup("us-east-1");
	if (strspn(c.region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(c.region)) {
		aedb_err_setk(err, AEDB_E_USAGE, "AWS region '%s' is not a region name", c.region);
		goto fail;
	}
	if (!(ign && strcasecmp(ign, "true") == 0)) {
		c.endpoint = env_dup("AWS_ENDPOINT_URL_S3");
		if (!c.endpoint)
			c.endpoint = env_dup("AWS_ENDPOINT_URL");
	}
	if (c.endpoint) {
		if (!str_starts(c.endpoint, "http://") && !str_starts(c.endpoint, "https://")) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "S3 endpoint '%s' (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) must start with http:// or https://",
				      c.endpoint);
			goto fail;
		}
		if (strpbrk(c.endpoint, "?#")) {
			aedb_err_setk(err, AEDB_E_USAGE, "S3 endpoint '%s' must not hold a query",
				      c.endpoint);
			goto fail;
		}
		n = strlen(c.endpoint);
		while (n > 0 && c.endpoint[n - 1] == '/')
			c.endpoint[--n] = '\0';
		c.path_style = 1;
	} else {
		c.endpoint = xasprintf("https://s3.%s.amazonaws.com", c.region);
	}
	*out = c;
	return 0;
fail:
	s3_config_release(&c);
	return -1;
}

static int bucket_ok(const char *b)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63 || strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
		return 0;
	return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

int s3_parse_url(const char *url, char **bucket, char **key, struct aedb_err *err)
{
	const char *p, *slash;
	char *b;

	if (!str_starts(url, "s3://"))
		return aedb_err_setk(err, AEDB_E_USAGE, "'%s' is not an s3:// URL", url);
	p = url + 5;
	slash = strchr(p, '/');
	b = slash ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
	if (!bucket_ok(b)) {
		free(b);
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "'%s': the bucket name must be 3-63 characters of a-z 0-9 . - "
				     "starting and ending with a letter or digit", url);
	}
	if (slash && strlen(slash + 1) > 1024) {
		free(b);
		return aedb_err_setk(err, AEDB_E_USAGE, "'%s': an S3 key is at most 1024 bytes", url);
	}
	*bucket = b;
	*key = xstrdup(slash ? slash + 1 : "");
	return 0;
}

static int param_cmp(const void *a, const void *b)
{
	return strcmp(((const struct s3_param *)a)->name, ((const struct s3_param *)b)->name);
}

int s3_request_url(const struct s3_config *c, const char *bucket, const char *key,
		   const struct s3_param *params, size_t nparams, struct buf *out,
		   struct aedb_err *err)
{
	struct s3_param *sorted = NULL;
	const char *host = c->endpoint + (str_starts(c->endpoint, "https://") ? 8 : 7);
	size_t i;
	int ret = -1;

	/* virtual-hosted: https://bucket.s3.region.amazonaws.com/key; dotted
	 * bucket names break the TLS wildcard, so they go in the path */
	if (!c->path_style && !strchr(bucket, '.')) {
		if (buf_append(out, c->endpoint, (size_t)(host - c->endpoint), err) < 0 ||
		    buf_printf(out, err, "%s.%s", bucket, host) < 0)
			return -1;
	} else {
		if (buf_puts(out, c->endpoint, err) < 0 || buf_putc(out, '/', err) < 0 ||
		    http_escape(out, bucket, 0, err) < 0)
			return -1;
	}
	if (*key && (buf_putc(out, '/', err) < 0 || http_escape(out, key, 1, err) < 0))
		return -1;
	if (!*key && !c->path_style && !strchr(bucket, '.') && buf_putc(out, '/', err) < 0)
		return -1;
	if (nparams == 0)
		return 0;
	sorted = xmalloc(nparams * sizeof(*sorted));
	memcpy(sorted, params, nparams * sizeof(*sorted));
	qsort(sorted, nparams, sizeof(*sorted), param_cmp);
	for (i = 0; i < nparams; i++) {
		if (buf_putc(out, i ? '&' : '?', err) < 0 || http_escape(out, sorted[i].name, 0, err) < 0 ||
		    buf_putc(out, '=', err) < 0 || http_escape(out, sorted[i].value, 0, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(sorted);
	return ret;
}

void s3_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* --- XML --- */

static void xml_decode(char *s)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		     { "&apos;", '\'' } };
	char *r = s, *w = s;
	size_t i;

	while (*r) {
		if (*r == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++)
				if (str_starts(r, ents[i].ent))
					break;
			if (i < sizeof(ents) / sizeof(ents[0])) {
				*w++ = ents[i].c;
				r += strlen(ents[i].ent);
				continue;
			}
			if (r[1] == '#') {
				char *end;
				long cp = r[2] == 'x' ? strtol(r + 3, &end, 16) : strtol(r + 2, &end, 10);

				if (*end == ';' && cp > 0 && cp < 0x80) {
					*w++ = (char)cp;
					r = end + 1;
					continue;
				}
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

char *s3_xml_text(const char *xml, const char *tag)
{
	char open[64], close[64];
	const char *a, *b;
	char *s;

	if (!xml || strlen(tag) > 40)
		return NULL;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(xml, open);
	if (!a)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (!b)
		return NULL;
	s = xstrndup(a, (size_t)(b - a));
	xml_decode(s);
	return s;
}

/* --- requests --- */

struct s3_call {
	const char *op;        /* "upload", "check", "read", "list" */
	const char *method;
	const char *bucket;
	const char *key;
	const struct s3_param *params;
	size_t nparams;
	const void *body;
	size_t len;
	const char *content_type;
	size_t max_body;
};

static int retry_code(const char *code)
{
	static const char *const codes[] = { "SlowDown", "InternalError", "ServiceUnavailable",
					     "RequestTimeout", "Throttling", "ThrottlingException",
					     "RequestLimitExceeded", "RequestThrottled",
					     "BandwidthLimitExceeded", "TooManyRequestsException",
					     NULL };
	size_t i;

	for (i = 0; code && codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

static int retry_status(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

/* Make the message for a final error response. */
static void describe(struct s3_client *s, const struct s3_call *c,
		     const struct http_response *resp, struct aedb_err *err)
{
	const char *body = buf_str(&resp->body);
	char *code = s3_xml_text(body, "Code"), *msg = s3_xml_text(body, "Message");
	char *region = s3_xml_text(body, "Region");
	const char *hregion = http_header(resp, "x-amz-bucket-region");
	char where[1200];

	snprintf(where, sizeof(where), "%s s3://%s/%s", c->op, c->bucket, c->key ? c->key : "");
	if (!region && hregion)
		region = xstrdup(hregion);
	if (code && (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidToken") == 0 ||
		     strcmp(code, "TokenRefreshRequired") == 0 ||
		     strcmp(code, "InvalidAccessKeyId") == 0 ||
		     strcmp(code, "SignatureDoesNotMatch") == 0))
		s->credentials_refused = 1;
	if (!code && resp->status == 403)
		aedb_err_set(err, "%s: S3 refused the request (403 without details): the credentials were refused "
			     "or may not access this bucket; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
			     where);
	else if (!code && resp->status == 301 && region)
		aedb_err_set(err, "%s: the bucket is in region '%s', not '%s': set AWS_REGION=%s", where,
			     region, s->cfg->region, region);
	else if (!code)
		aedb_err_set(err, "%s: S3 answered HTTP %ld", where, resp->status);
	else if (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "InvalidToken") == 0 ||
		 strcmp(code, "TokenRefreshRequired") == 0)
		aedb_err_set(err, "%s: S3 refused the session token (%s): the credentials have expired or are invalid; "
			     "log in again (e.g. `aws sso login`) and export fresh AWS_ACCESS_KEY_ID, "
			     "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN", where, code);
	else if (strcmp(code, "InvalidAccessKeyId") == 0)
		aedb_err_set(err, "%s: S3 refused the credentials (InvalidAccessKeyId): the access key id in "
			     "AWS_ACCESS_KEY_ID is not known to %s", where, s->cfg->endpoint);
	else if (strcmp(code, "SignatureDoesNotMatch") == 0)
		aedb_err_set(err, "%s: S3 refused the credentials (SignatureDoesNotMatch): the request signed with "
			     "AWS_SECRET_ACCESS_KEY did not match; check the secret key for AWS_ACCESS_KEY_ID "
			     "and AWS_REGION", where);
	else if (strcmp(code, "AccessDenied") == 0)
		aedb_err_set(err, "%s: S3 denied access (AccessDenied): these credentials may not do this; "
			     "ask for write access to the prefix or use another --output_root", where);
	else if (strcmp(code, "NoSuchBucket") == 0)
		aedb_err_set(err, "%s: bucket '%s' does not exist (NoSuchBucket): check --output_root and the endpoint",
			     where, c->bucket);
	else if (strcmp(code, "RequestTimeTooSkewed") == 0)
		aedb_err_set(err, "%s: this machine's clock is off by more than 15 minutes (RequestTimeTooSkewed): fix the clock",
			     where);
	else if ((strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
		  strcmp(code, "PermanentRedirect") == 0) && region && strcmp(region, s->cfg->region) != 0)
		aedb_err_set(err, "%s: the bucket is in region '%s', not '%s' (%s): set AWS_REGION=%s", where,
			     region, s->cfg->region, code, region);
	else
		aedb_err_set(err, "%s: S3 answered %ld %s%s%.200s", where, resp->status, code,
			     msg ? ": " : "", msg ? msg : "");
	free(code);
	free(msg);
	free(region);
}

/* Perform c with retries. Returns 0 with the final response in resp
 * (any status), or -1 with err when no response came. */
static int s3_call(struct s3_client *s, const struct s3_call *c, struct http_response *resp,
		   struct aedb_err *err)
{
	const struct s3_config *cfg = s->cfg;
	struct buf url;
	struct http_request req;
	struct aedb_err herr = AEDB_ERR_INIT;
	char sha[65], sigv4[128];
	char *h_sha = NULL, *h_tok = NULL, *h_ct = NULL;
	const char *hdrs[4];
	size_t nh = 0;
	int max = s->max_attempts > 0 ? s->max_attempts : S3_MAX_ATTEMPTS;
	long delay = s->backoff_ms > 0 ? s->backoff_ms : 200;
	unsigned seed = (unsigned)aedb_mono_ns();
	int attempt, ret = -1;

	buf_init(&url, AEDB_URL_MAX, "S3 URL");
	if (s3_request_url(cfg, c->bucket, c->key ? c->key : "", c->params, c->nparams, &url,
			   err) < 0)
		goto out;
	if (c->body)
		s3_sha256_hex(c->body, c->len, sha);
	else
		memcpy(sha, empty_sha256, sizeof(sha));
	h_sha = xasprintf("x-amz-content-sha256: %s", sha);
	hdrs[nh++] = h_sha;
	if (cfg->token) {
		h_tok = xasprintf("x-amz-security-token: %s", cfg->token);
		hdrs[nh++] = h_tok;
	}
	if (c->content_type) {
		h_ct = xasprintf("Content-Type: %s", c->content_type);
		hdrs[nh++] = h_ct;
	}
	hdrs[nh] = NULL;
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", cfg->region);

	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.url = buf_str(&url);
	req.headers = hdrs;
	req.body = c->body;
	req.body_len = c->len;
	req.max_body = c->max_body;
	req.aws_sigv4 = sigv4;
	req.aws_key_id = cfg->key_id;
	req.aws_secret = cfg->secret;
	req.path_as_is = 1;
	for (attempt = 1;; attempt++) {
		char *code = NULL;
		int again;

		aedb_err_clear(&herr);
		if (http_do(s->http, &req, resp, &herr) == 0) {
			code = s3_xml_text(buf_str(&resp->body), "Code");
			again = retry_status(resp->status) || retry_code(code);
			free(code);
			if (!again) {
				ret = 0;
				goto out;
			}
		} else if (resp->failure == HTTP_FAIL_LOCAL) {
			aedb_err_set(err, "%s s3://%s/%s: %s", c->op, c->bucket, c->key ? c->key : "",
				     herr.msg);
			goto out;
		}
		if (attempt >= max) {
			if (resp->failure == HTTP_FAIL_NONE) {
				describe(s, c, resp, err);
				aedb_err_prefix(err, "after %d attempts", attempt);
			} else {
				aedb_err_set(err, "%s s3://%s/%s: %s (%d attempts)", c->op, c->bucket,
					     c->key ? c->key : "", herr.msg, attempt);
			}
			goto out;
		}
		aedb_sleep_ns((int64_t)(delay + rand_r(&seed) % (delay / 2 + 1)) * 1000000);
		if (delay < 20000)
			delay *= 2;
	}
out:
	free(h_sha);
	free(h_tok);
	free(h_ct);
	buf_release(&url);
	return ret;
}

int s3_put(struct s3_client *s, const char *bucket, const char *key, const void *data, size_t len,
	   const char *content_type, struct aedb_err *err)
{
	struct s3_call c = { "upload to", "PUT", bucket, key, NULL, 0, data ? data : "", len,
			     content_type ? content_type : "application/octet-stream", 64 << 10 };
	struct http_response resp;
	int ret = -1;

	http_response_init(&resp);
	if (s3_call(s, &c, &resp, err) < 0)
		goto out;
	if (resp.status < 200 || resp.status > 299) {
		describe(s, &c, &resp, err);
		goto out;
	}
	ret = 0;
out:
	http_response_release(&resp);
	return ret;
}

int s3_head(struct s3_client *s, const char *bucket, const char *key, struct s3_head_info *info,
	    struct aedb_err *err)
{
	struct s3_call c = { "check", "HEAD", bucket, key, NULL, 0, NULL, 0, NULL, 64 << 10 };
	struct http_response resp;
	const char *v;
	int ret = -1;

	http_response_init(&resp);
	if (s3_call(s, &c, &resp, err) < 0)
		goto out;
	if (resp.status == 404) {
		ret = 0;
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		describe(s, &c, &resp, err);
		goto out;
	}
	if (info) {
		memset(info, 0, sizeof(*info));
		v = http_header(&resp, "Content-Length");
		info->size = v ? strtoll(v, NULL, 10) : -1;
		v = http_header(&resp, "ETag");
		snprintf(info->etag, sizeof(info->etag), "%s", v ? v : "");
	}
	ret = 1;
out:
	http_response_release(&resp);
	return ret;
}

int s3_get(struct s3_client *s, const char *bucket, const char *key, struct buf *out,
	   struct aedb_err *err)
{
	struct s3_call c = { "read", "GET", bucket, key, NULL, 0, NULL, 0, NULL, S3_OBJECT_MAX };
	struct http_response resp;
	char *code = NULL;
	int ret = -1;

	http_response_init(&resp);
	if (s3_call(s, &c, &resp, err) < 0)
		goto out;
	code = s3_xml_text(buf_str(&resp.body), "Code");
	if (resp.status == 404 && code && strcmp(code, "NoSuchKey") == 0) {
		ret = 0;
		goto out;
	}
	if (resp.status < 200 || resp.status > 299) {
		describe(s, &c, &resp, err);
		goto out;
	}
	if (buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len, err) < 0)
		goto out;
	ret = 1;
out:
	free(code);
	http_response_release(&resp);
	return ret;
}

int s3_list(struct s3_client *s, const char *bucket, const char *prefix, int max_keys,
	    int (*fn)(void *ctx, const struct s3_object *o, struct aedb_err *err), void *ctx,
	    int *pages, struct aedb_err *err)
{
	struct http_response resp;
	struct s3_param params[4];
	char mk[32];
	char *token = NULL;
	int npages = 0, ret = -1;

	http_response_init(&resp);
	snprintf(mk, sizeof(mk), "%d", max_keys);
	for (;;) {
		struct s3_call c = { "list", "GET", bucket, "", params, 0, NULL, 0, NULL,
				     S3_LIST_PAGE_MAX };
		const char *p, *end;
		char *trunc;
		int more;

		if (token)
			params[c.nparams++] = (struct s3_param){ "continuation-token", token };
		params[c.nparams++] = (struct s3_param){ "list-type", "2" };
		if (max_keys > 0)
			params[c.nparams++] = (struct s3_param){ "max-keys", mk };
		params[c.nparams++] = (struct s3_param){ "prefix", prefix ? prefix : "" };
		if (s3_call(s, &c, &resp, err) < 0)
			goto out;
		if (resp.status != 200) {
			describe(s, &c, &resp, err);
			goto out;
		}
		npages++;
		p = buf_str(&resp.body);
		while ((p = strstr(p, "<Contents>")) != NULL) {
			struct s3_object o;
			char *block, *key, *size, *etag;
			int rc;

			end = strstr(p, "</Contents>");
			if (!end)
				break;
			block = xstrndup(p, (size_t)(end - p));
			key = s3_xml_text(block, "Key");
			size = s3_xml_text(block, "Size");
			etag = s3_xml_text(block, "ETag");
			o.key = key ? key : "";
			o.size = size ? strtoll(size, NULL, 10) : -1;
			o.etag = etag ? etag : "";
			rc = fn(ctx, &o, err);
			free(block);
			free(key);
			free(size);
			free(etag);
			if (rc < 0)
				goto out;
			p = end;
		}
		trunc = s3_xml_text(buf_str(&resp.body), "IsTruncated");
		more = trunc && strcmp(trunc, "true") == 0;
		free(trunc);
		free(token);
		token = more ? s3_xml_text(buf_str(&resp.body), "NextContinuationToken") : NULL;
		if (!more)
			break;
		if (!token || !*token) {
			aedb_err_set(err, "list s3://%s/%s: S3 said the listing is truncated but gave no continuation token",
				     bucket, prefix ? prefix : "");
			goto out;
		}
	}
	ret = 0;
out:
	if (pages)
		*pages = npages;
	free(token);
	http_response_release(&resp);
	return ret;
}
