/* engine/stac.c without a network: URL joining, reading search and item
 * responses (the real fixture item included), error summaries. The
 * requests themselves are tested against tools/stac-server in tests/aoi. */
#include <string.h>

#include "aoi-fixture.h"
#include "engine/stac.h"
#include "engine/util.h"
#include "test.h"

static void test_url_join(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;

	buf_init(&b, 4096, "url");
	REQUIRE(stac_url_join("http://localhost:8082/", "search", &b, &err) == 0);
	CHECK_STR(buf_str(&b), "http://localhost:8082/search");
	buf_reset(&b);
	REQUIRE(stac_url_join("http://h:8000", "/search", &b, &err) == 0);
	CHECK_STR(buf_str(&b), "http://h:8000/search");
	buf_reset(&b);
	REQUIRE(stac_url_join("http://h/stac//", "collections/c", &b, &err) == 0);
	CHECK_STR(buf_str(&b), "http://h/stac/collections/c");
	buf_release(&b);
}

static void test_parse_fixture_search(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *item = fixture_read("stac/01080203-shvm3-usgs.json");
	char *body;
	struct stac_item it;

	REQUIRE(item != NULL);
	body = xasprintf("{\"type\":\"FeatureCollection\",\"features\":[%s],\"links\":[]}", item);
	REQUIRE(stac_parse_item(body, "01080203-shvm3-usgs", &it, &err) == 0);
	CHECK_STR(it.id, "01080203-shvm3-usgs");
	CHECK_STR(it.collection, "usgs-fim-collection");
	CHECK_INT(it.geom.type, GEOM_MULTIPOLYGON);
	CHECK_INT(geom_npoints(&it.geom), 949);
	stac_item_release(&it);
	/* the single Feature of /collections/{c}/items/{id} */
	REQUIRE(stac_parse_item(item, "01080203-shvm3-usgs", &it, &err) == 0);
	CHECK_STR(it.collection, "usgs-fim-collection");
	stac_item_release(&it);
	free(body);
	free(item);
}

static void test_parse_picks_matching_id(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct stac_item it;
	static const char body[] =
		"{\"type\":\"FeatureCollection\",\"features\":["
		"{\"type\":\"Feature\",\"id\":\"other\",\"collection\":\"c1\",\"geometry\":null},"
		"{\"type\":\"Feature\",\"id\":\"x\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
		"[[[0,0],[1,0],[1,1],[0,0]]]},\"links\":[{\"rel\":\"collection\","
		"\"href\":\"http://h/collections/my%20coll\"}]}]}";

	REQUIRE(stac_parse_item(body, "x", &it, &err) == 0);
	/* no "collection" field: taken from the rel=collection link */
	CHECK_STR(it.collection, "my coll");
	stac_item_release(&it);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *body, *msg;
	} cases[] = {
		{ "{\"type\":\"FeatureCollection\",\"features\":[]}", "no STAC item found" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"y\"}]}",
		  "none with this id" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"x\",\"geometry\":null}]}",
		  "no geometry" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"x\","
		  "\"geometry\":{\"type\":\"Point\",\"coordinates\":[0,0]}}]}", "Point" },
		{ "{\"type\":\"FeatureCollection\"}", "without \"features\"" },
		{ "{\"type\":\"FeatureCollection\",\"features\":[{\"id\":", "not JSON" },
		{ "<html>", "not JSON" },
		{ "{\"type\":\"Catalog\"}", "'Catalog'" },
		{ "{\"type\":\"Feature\",\"id\":\"y\"}", "another item" },
		{ "[1,2]", "neither a Feature" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aedb_err err = AEDB_ERR_INIT;
		struct stac_item it;

		CHECK(stac_parse_item(cases[i].body, "x", &it, &err) == -1);
		CHECK_CONTAINS(err.msg, cases[i].msg);
	}
}

static void test_describe_error(void)
{
	char out[400];

	stac_describe_error(404, "{\"code\":\"NotFoundError\",\"description\":\"Item y in Collection c does not exist.\"}",
			    out, sizeof(out));
	CHECK_STR(out, "404 NotFoundError: Item y in Collection c does not exist.");
	stac_describe_error(404, "{\"detail\":\"Not Found\"}", out, sizeof(out));
	CHECK_STR(out, "404 Not Found");
	stac_describe_error(502, "<html>\nbad gateway\n</html>", out, sizeof(out));
	CHECK_STR(out, "502 <html> bad gateway </html>");
	stac_describe_error(500, "", out, sizeof(out));
	CHECK_STR(out, "500");
}

int main(void)
{
	RUN(test_url_join);
	RUN(test_parse_fixture_search);
	RUN(test_parse_picks_matching_id);
	RUN(test_parse_errors);
	RUN(test_describe_error);
	return test_done();
}
