/* s3-tool: the aoi suite's view of S3, through engine/s3.c (so every
 * request is signed exactly as aedb signs it), plus a fault proxy.
 *
 *   s3-tool put BUCKET KEY FILE
 *   s3-tool head BUCKET KEY            prints "SIZE ETAG"; exit 4 when missing
 *   s3-tool get BUCKET KEY OUTFILE     exit 4 when missing
 *   s3-tool list BUCKET PREFIX MAXKEYS prints "KEY\tSIZE" lines, "pages N" on stderr
 *   s3-tool proxy UPSTREAM PORTFILE DENY
 *
 * The proxy (tools/httpd) forwards S3 requests to UPSTREAM unchanged, Host
 * and signature headers included, so the signature still verifies; a
 * request whose path contains DENY gets 403 AccessDenied, as a bucket
 * policy would give. Credentials come from the AWS_* variables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/buf.h"
#include "engine/http.h"
#include "engine/s3.h"
#include "engine/util.h"
#include "httpd.h"

static int read_file(const char *path, struct buf *out, struct aedb_err *err)
{
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return aedb_err_set(err, "cannot open '%s'", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n, err) < 0) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

static int print_object(void *ctx, const struct s3_object *o, struct aedb_err *err)
{
	(void)ctx;
	(void)err;
	printf("%s\t%lld\n", o->key, o->size);
	return 0;
}

/* --- proxy --- */

struct proxy {
	const char *upstream;
	const char *deny;
};

static void proxy_handle(struct httpd_req *r, void *ctx)
{
	static const char *const pass[] = { "Host", "Authorization", "X-Amz-Date",
					    "x-amz-content-sha256", "x-amz-security-token",
					    "Content-Type", NULL };
	struct proxy *px = ctx;
	struct aedb_err err = AEDB_ERR_INIT;
	struct http_client *c = NULL;
	struct http_response resp;
	struct http_request req;
	const char *hdrs[16], *v;
	char *lines[16], *url;
	size_t i, n = 0, len;
	const char *body = httpd_req_body(r, &len);

	if (strstr(httpd_req_path(r), px->deny)) {
		httpd_respond(r, 403, "application/xml",
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
			      "<Message>Access Denied</Message></Error>", 104);
		return;
	}
	for (i = 0; pass[i]; i++) {
		v = httpd_req_header(r, pass[i]);
		if (v) {
			lines[n] = xasprintf("%s: %s", pass[i], v);
			hdrs[n] = lines[n];
			n++;
		}
	}
	hdrs[n] = NULL;
	url = xasprintf("%s%s", px->upstream, httpd_req_raw_uri(r));
	memset(&req, 0, sizeof(req));
	req.method = httpd_req_method(r);
	req.url = url;
	req.headers = hdrs;
	req.path_as_is = 1;
	if (strcmp(req.method, "PUT") == 0 || len) {
		req.body = body;
		req.body_len = len;
	}
	http_response_init(&resp);
	if (http_client_new(NULL, &c, &err) < 0 || http_do(c, &req, &resp, &err) < 0) {
		httpd_respond_text(r, 502, err.msg);
	} else {
		v = http_header(&resp, "ETag");
		if (v)
			httpd_add_header(r, "ETag", v);
		v = http_header(&resp, "Content-Type");
		httpd_respond(r, (int)resp.status, v ? v : "application/xml",
			      resp.body.data ? resp.body.data : "", resp.body.len);
	}
	http_response_release(&resp);
	http_client_free(c);
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(url);
}

static int proxy(const char *upstream, const char *port_file, const char *deny)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct proxy px = { upstream, deny };
	struct httpd_opts o = { .port = 0, .handler = proxy_handle, .ctx = &px };
	struct httpd *h;

	h = httpd_start(&o, &err);
	if (!h || httpd_write_port_file(h, port_file, &err) < 0) {
		fprintf(stderr, "s3-tool proxy: %s\n", err.msg);
		return 1;
	}
	httpd_wait_signal();
	httpd_stop(h);
	return 0;
}

int main(int argc, char **argv)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct s3_config cfg;
	struct s3_client s;
	struct http_client *http = NULL;
	struct buf data;
	int rc = 1, pages = 0;

	httpd_block_signals();
	memset(&cfg, 0, sizeof(cfg));
	buf_init(&data, S3_OBJECT_MAX, "object");
	if (argc < 2) {
		fprintf(stderr, "usage: s3-tool put|head|get|list|proxy ARGS\n");
		return 2;
	}
	if (http_global_init(&err) < 0)
		goto fail;
	if (strcmp(argv[1], "proxy") == 0 && argc == 5)
		return proxy(argv[2], argv[3], argv[4]);
	if (s3_config_from_env(&cfg, &err) < 0 || http_client_new(NULL, &http, &err) < 0)
		goto fail;
	memset(&s, 0, sizeof(s));
	s.http = http;
	s.cfg = &cfg;
	if (strcmp(argv[1], "put") == 0 && argc == 5) {
		if (read_file(argv[4], &data, &err) < 0 ||
		    s3_put(&s, argv[2], argv[3], data.data ? data.data : "", data.len, NULL, &err) < 0)
			goto fail;
		rc = 0;
	} else if (strcmp(argv[1], "head") == 0 && argc == 4) {
		struct s3_head_info info;
		int found = s3_head(&s, argv[2], argv[3], &info, &err);

		if (found < 0)
			goto fail;
		if (found)
			printf("%lld %s\n", info.size, info.etag);
		rc = found ? 0 : 4;
	} else if (strcmp(argv[1], "get") == 0 && argc == 5) {
		int found = s3_get(&s, argv[2], argv[3], &data, &err);
		FILE *f;

		if (found < 0)
			goto fail;
		rc = 4;
		if (found) {
			f = fopen(argv[4], "wb");
			if (!f || fwrite(data.data ? data.data : "", 1, data.len, f) != data.len ||
			    fclose(f) != 0) {
				aedb_err_set(&err, "cannot write '%s'", argv[4]);
				goto fail;
			}
			rc = 0;
		}
	} else if (strcmp(argv[1], "list") == 0 && argc == 5) {
		int max_keys = 0;

		if (parse_int(argv[4], 0, 1000, &max_keys) < 0) {
			aedb_err_set(&err, "MAXKEYS '%s' is not 0-1000", argv[4]);
			goto fail;
		}
		if (s3_list(&s, argv[2], argv[3], max_keys, print_object, NULL, &pages, &err) < 0)
			goto fail;
		fprintf(stderr, "pages %d\n", pages);
		rc = 0;
	} else {
		fprintf(stderr, "usage: s3-tool put|head|get|list|proxy ARGS\n");
		rc = 2;
	}
	buf_release(&data);
	http_client_free(http);
	s3_config_release(&cfg);
	http_global_cleanup();
	return rc;
fail:
	fprintf(stderr, "s3-tool: %s\n", err.msg);
	buf_release(&data);
	s3_config_release(&cfg);
	http_client_free(http);
	http_global_cleanup();
	return 1;
}
