/* tools/httpd against a real client (engine/http.c over libcurl): decoded
 * and raw paths and query values, bodies, headers, streams, dropped
 * connections, the port file. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "httpd.h"
#include "tests/unit/test.h"
#include "util.h"

static struct httpd *srv;
static char base[64];
static struct http_client *cli;

static ssize_t stream_fn(void *cls, uint64_t pos, char *buf, size_t max)
{
	int *n = cls;

	if (*n >= 3)
		return HTTPD_STREAM_END;
	(*n)++;
	return snprintf(buf, max, "{\"n\":%d}\n", *n);
}

static void stream_free(void *cls)
{
	free(cls);
}

static void handler(struct httpd_req *r, void *ctx)
{
	const char *path = httpd_req_path(r);

	if (strcmp(path, "/drop") == 0) {
		httpd_drop(r);
	} else if (strcmp(path, "/stream") == 0) {
		httpd_respond_stream(r, 200, "application/json", stream_fn, xcalloc(1, sizeof(int)),
				     stream_free);
	} else if (strcmp(path, "/none") == 0) {
		return;
	} else {
		const char *q = httpd_req_query(r, "prefix");
		char *raw = httpd_req_query_raw(r, "prefix");
		const char *flag = httpd_req_query(r, "flag");
		const char *hdr = httpd_req_header(r, "x-nomad-token");
		size_t blen;
		const char *body = httpd_req_body(r, &blen);
		char *out = xasprintf("%s|%s|%s|%s|%s|%s|%s|%zu", httpd_req_method(r), path,
				      q ? q : "-", raw ? raw : "-", flag ? flag : "-",
				      hdr ? hdr : "-", body, blen);

		httpd_add_header(r, "X-Nomad-Index", "7");
		httpd_respond_text(r, 201, out);
		free(out);
		free(raw);
	}
}

static long get(const char *method, const char *path, const char *body, struct http_response *resp)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *url = xasprintf("%s%s", base, path);
	const char *hdrs[] = { "X-Nomad-Token: tok", NULL };
	struct http_request req = { .method = method, .url = url, .headers = hdrs,
				    .body = body, .body_len = body ? strlen(body) : 0,
				    .timeout_ms = 5000 };

	http_do(cli, &req, resp, &err);
	free(url);
	return resp->status;
}

static void test_echo(void)
{
	struct http_response resp;

	http_response_init(&resp);
	CHECK_INT(get("GET", "/v1/job/pipeline%2Fdispatch-%5Ba%3D1%2Cb%5D-1-abcdef01/summary?prefix=p%2Fd%5Bx%3D1%5D+y&flag",
		      NULL, &resp), 201);
	CHECK_STR(buf_str(&resp.body),
		  "GET|/v1/job/pipeline/dispatch-[a=1,b]-1-abcdef01/summary|p/d[x=1] y|p%2Fd%5Bx%3D1%5D+y||tok||0");
	CHECK_STR(http_header(&resp, "X-Nomad-Index"), "7");
	CHECK_CONTAINS(http_header(&resp, "Content-Type"), "text/plain");
	CHECK_INT(get("PUT", "/b", "{\"Meta\":{}}", &resp), 201);
	CHECK_STR(buf_str(&resp.body), "PUT|/b|-|-|-|tok|{\"Meta\":{}}|11");
	http_response_release(&resp);
}

static void test_stream_drop_none(void)
{
	struct http_response resp;
	struct aedb_err err = AEDB_ERR_INIT;
	char *url = xasprintf("%s/drop", base);
	struct http_request req = { .method = "GET", .url = url, .timeout_ms = 5000 };

	http_response_init(&resp);
	CHECK_INT(get("GET", "/stream", NULL, &resp), 200);
	CHECK_STR(buf_str(&resp.body), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
	CHECK(http_do(cli, &req, &resp, &err) == -1);
	CHECK_INT(get("GET", "/none", NULL, &resp), 500);
	free(url);
	http_response_release(&resp);
}

static void test_port_file(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char path[] = "/tmp/httpd-test-XXXXXX";
	int fd = mkstemp(path);
	char line[128] = "";
	FILE *f;

	REQUIRE(fd >= 0);
	close(fd);
	CHECK_INT(httpd_write_port_file(srv, path, &err), 0);
	f = fopen(path, "r");
	REQUIRE(f);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	fclose(f);
	unlink(path);
	line[strcspn(line, "\n")] = '\0';
	CHECK_STR(line, base);
}

static void test_listen_parse(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct httpd_opts o = { 0 };

	CHECK_INT(httpd_opts_from_listen(&o, "127.0.0.1:4646", &err), 0);
	CHECK_INT(o.port, 4646);
	CHECK_INT(httpd_opts_from_listen(&o, "0.0.0.0:1", &err), -1);
	CHECK_INT(httpd_opts_from_listen(&o, "127.0.0.1:x", &err), -1);
}

int main(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct httpd_opts o = { .port = 0, .handler = handler };

	httpd_block_signals();
	if (http_global_init(&err) != 0 || http_client_new(&(struct http_client_opts){ 0 }, &cli, &err) != 0)
		return 1;
	srv = httpd_start(&o, &err);
	if (!srv) {
		printf("Bail out! %s\n", err.msg);
		return 1;
	}
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", httpd_port(srv));
	RUN(test_echo);
	RUN(test_stream_drop_none);
	RUN(test_port_file);
	RUN(test_listen_parse);
	http_client_free(cli);
	httpd_stop(srv);
	http_global_cleanup();
	return test_done();
}
