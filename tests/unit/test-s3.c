/* engine/s3.c without a network: the canonical URL curl 7.88 must be
 * given (reference s3.md sections 3 and 6), settings from the AWS_*
 * variables, s3:// URLs, SHA-256, XML. The signed requests themselves are
 * tested against the signature-checking s3rver in tests/aoi. */
#include <stdlib.h>
#include <string.h>

#include "engine/s3.h"
#include "engine/util.h"
#include "test.h"

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", NULL,
};

static void clear_env(void)
{
	size_t i;

	for (i = 0; aws_vars[i]; i++)
		unsetenv(aws_vars[i]);
}

static void test_config_env(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct s3_config c;

	clear_env();
	CHECK(s3_config_from_env(&c, &err) == -1);
	CHECK_INT(err.kind, AEDB_E_USAGE);
	CHECK_CONTAINS(err.msg, "AWS_ACCESS_KEY_ID");
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value", 1);
	REQUIRE(s3_config_from_env(&c, &err) == 0);
	CHECK_STR(c.region, "us-east-1");
	CHECK_STR(c.endpoint, "https://s3.us-east-1.amazonaws.com");
	CHECK_INT(c.path_style, 0);
	CHECK(c.token == NULL);
	s3_config_release(&c);

	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	setenv("AWS_SECURITY_TOKEN", "old-name-token", 1);
	REQUIRE(s3_config_from_env(&c, &err) == 0);
	CHECK_STR(c.region, "eu-west-1");
	CHECK_STR(c.token, "old-name-token");
	s3_config_release(&c);

	setenv("AWS_REGION", "us-west-2", 1);
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
	REQUIRE(s3_config_from_env(&c, &err) == 0);
	CHECK_STR(c.region, "us-west-2");
	CHECK_STR(c.token, "tok");
	CHECK_STR(c.endpoint, "http://127.0.0.1:9000");
	CHECK_INT(c.path_style, 1);
	s3_config_release(&c);

	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4568/prefix", 1);
	REQUIRE(s3_config_from_env(&c, &err) == 0);
	CHECK_STR(c.endpoint, "http://127.0.0.1:4568/prefix");
	s3_config_release(&c);

	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	REQUIRE(s3_config_from_env(&c, &err) == 0);
	CHECK_STR(c.endpoint, "https://s3.us-west-2.amazonaws.com");
	s3_config_release(&c);
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	setenv("AWS_ENDPOINT_URL_S3", "127.0.0.1:4568", 1);
	CHECK(s3_config_from_env(&c, &err) == -1);
	CHECK_CONTAINS(err.msg, "http://");
	/* no message ever holds the secret */
	CHECK(strstr(err.msg, "very-secret-value") == NULL);
	unsetenv("AWS_ENDPOINT_URL_S3");

	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	setenv("AWS_ACCESS_KEY_ID", "ASIATEMPORARY", 1);
	CHECK(s3_config_from_env(&c, &err) == -1);
	CHECK_CONTAINS(err.msg, "AWS_SESSION_TOKEN");
	clear_env();
}

static void test_parse_url(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *b = NULL, *k = NULL;

	REQUIRE(s3_parse_url("s3://my-bucket/a/b c/", &b, &k, &err) == 0);
	CHECK_STR(b, "my-bucket");
	CHECK_STR(k, "a/b c/");
	free(b);
	free(k);
	REQUIRE(s3_parse_url("s3://my.bucket", &b, &k, &err) == 0);
	CHECK_STR(b, "my.bucket");
	CHECK_STR(k, "");
	free(b);
	free(k);
	CHECK(s3_parse_url("s3://Bad_Bucket/x", &b, &k, &err) == -1);
	CHECK_CONTAINS(err.msg, "bucket name");
	CHECK(s3_parse_url("s3://ab/x", &b, &k, &err) == -1);
	CHECK(s3_parse_url("https://bucket/x", &b, &k, &err) == -1);
	CHECK_CONTAINS(err.msg, "not an s3:// URL");
}

static void url_is(const struct s3_config *c, const char *bucket, const char *key,
		   const struct s3_param *p, size_t n, const char *want)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;

	buf_init(&b, 8192, "url");
	CHECK(s3_request_url(c, bucket, key, p, n, &b, &err) == 0);
	CHECK_STR(buf_str(&b), want);
	buf_release(&b);
}

static void test_request_url(void)
{
	struct s3_config path = { "http://127.0.0.1:4568", "us-east-1", "k", "s", NULL, 1 };
	struct s3_config aws = { "https://s3.us-east-1.amazonaws.com", "us-east-1", "k", "s", NULL, 0 };
	struct s3_param list[] = { { "prefix", "dir one/" }, { "list-type", "2" } };
	struct s3_param paged[] = { { "prefix", "p/" }, { "max-keys", "1" }, { "list-type", "2" },
				    { "continuation-token", "1J+vKk2/El==" } };
	struct s3_param flag[] = { { "acl", "" } };

	/* s3.md 3: the tested unicode/reserved key, AWS encoding, uppercase hex */
	url_is(&path, "test-bucket", "\xc3\xbcn\xc3\xaf c\xc3\xb6" "d\xc3\xa9/!*'()~ & ?#%.txt", NULL, 0,
	       "http://127.0.0.1:4568/test-bucket/%C3%BCn%C3%AF%20c%C3%B6d%C3%A9/%21%2A%27%28%29~%20%26%20%3F%23%25.txt");
	/* dot segments are kept (curl gets CURLOPT_PATH_AS_IS) */
	url_is(&path, "test-bucket", "a/../b.txt", NULL, 0, "http://127.0.0.1:4568/test-bucket/a/../b.txt");
	/* query sorted by name, '/' and ' ' encoded */
	url_is(&path, "test-bucket", "", list, 2,
	       "http://127.0.0.1:4568/test-bucket?list-type=2&prefix=dir%20one%2F");
	url_is(&path, "test-bucket", "", paged, 4,
	       "http://127.0.0.1:4568/test-bucket?continuation-token=1J%2BvKk2%2FEl%3D%3D&list-type=2&max-keys=1&prefix=p%2F");
	/* a valueless parameter is written name= */
	url_is(&path, "b-1", "k", flag, 1, "http://127.0.0.1:4568/b-1/k?acl=");
	/* AWS: virtual-hosted, except for dotted bucket names */
	url_is(&aws, "my-bucket", "AOIs/stac_x.gpkg", NULL, 0,
	       "https://my-bucket.s3.us-east-1.amazonaws.com/AOIs/stac_x.gpkg");
	url_is(&aws, "my-bucket", "", list, 2,
	       "https://my-bucket.s3.us-east-1.amazonaws.com/?list-type=2&prefix=dir%20one%2F");
	url_is(&aws, "my.bucket", "k", NULL, 0, "https://s3.us-east-1.amazonaws.com/my.bucket/k");
}

static void test_sha256(void)
{
	char hex[65];

	s3_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	s3_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_xml(void)
{
	static const char err_body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
		"<Message>The request signature we calculated does not match &amp; so on</Message></Error>";
	char *s;

	s = s3_xml_text(err_body, "Code");
	CHECK_STR(s, "SignatureDoesNotMatch");
	free(s);
	s = s3_xml_text(err_body, "Message");
	CHECK_STR(s, "The request signature we calculated does not match & so on");
	free(s);
	CHECK(s3_xml_text(err_body, "Region") == NULL);
	CHECK(s3_xml_text(NULL, "Code") == NULL);
	s = s3_xml_text("<Key>a&lt;b&#39;c&quot;</Key>", "Key");
	CHECK_STR(s, "a<b'c\"");
	free(s);
}

int main(void)
{
	RUN(test_config_env);
	RUN(test_parse_url);
	RUN(test_request_url);
	RUN(test_sha256);
	RUN(test_xml);
	return test_done();
}
