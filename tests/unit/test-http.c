/* engine/http.c: URL encoding (requests against real servers are tested in
 * the suites that start those servers). */
#include <stdlib.h>

#include "engine/http.h"
#include "test.h"

static void test_escape(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;

	buf_init(&b, 4096, "url");
	CHECK(http_escape(&b, "pipeline/dispatch-[batch_name=b1,aoi_name=a 1]-", 0, &err) == 0);
	CHECK_STR(buf_str(&b), "pipeline%2Fdispatch-%5Bbatch_name%3Db1%2Caoi_name%3Da%201%5D-");
	buf_reset(&b);
	CHECK(http_escape(&b, "AOIs/stac_x.gpkg", 1, &err) == 0);
	CHECK_STR(buf_str(&b), "AOIs/stac_x.gpkg");
	buf_reset(&b);
	/* the AWS example from reference/s3.md */
	CHECK(http_escape(&b, "\xc3\xbcn\xc3\xaf c\xc3\xb6" "d\xc3\xa9/!*'()~ & ?#%.txt", 1, &err) == 0);
	CHECK_STR(buf_str(&b), "%C3%BCn%C3%AF%20c%C3%B6d%C3%A9/%21%2A%27%28%29~%20%26%20%3F%23%25.txt");
	buf_release(&b);
}

static void test_unescape(void)
{
	char *s;

	s = http_unescape("pipeline%2Fdispatch-%5Bb%3D1%5D");
	CHECK_STR(s, "pipeline/dispatch-[b=1]");
	free(s);
	s = http_unescape("plain");
	CHECK_STR(s, "plain");
	free(s);
	CHECK(http_unescape("bad%2") == NULL);
	CHECK(http_unescape("bad%zz") == NULL);
	CHECK(http_unescape("%") == NULL);
}

static void test_connection_refused_is_not_sent(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct http_client *c = NULL;
	struct http_response r;
	struct http_request req = { .method = "GET", .url = "http://127.0.0.1:1/v1/status/leader" };

	REQUIRE(http_global_init(&err) == 0);
	REQUIRE(http_client_new(NULL, &c, &err) == 0);
	http_response_init(&r);
	CHECK(http_do(c, &req, &r, &err) < 0);
	CHECK_INT(r.failure, HTTP_FAIL_NOT_SENT);
	CHECK_CONTAINS(err.msg, "GET http://127.0.0.1:1/v1/status/leader");
	http_response_release(&r);
	http_client_free(c);
	http_global_cleanup();
}

int main(void)
{
	RUN(test_escape);
	RUN(test_unescape);
	RUN(test_connection_refused_is_not_sent);
	return test_done();
}
