/* engine/geom.c: GeoJSON parsing, the convex hull against shapely's
 * answers (reference stac-gpkg.md 5.2, 5.3), exact orientation, WKB. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "aoi-fixture.h"
#include "engine/geom.h"
#include "engine/util.h"
#include "test.h"

static int parse(const char *json, struct geom *g, struct aedb_err *err)
{
	cJSON *j = cJSON_Parse(json);
	int rc = geom_from_geojson(j, g, err);

	cJSON_Delete(j);
	return rc;
}

/* hull of a Polygon given as one ring of "x y" pairs; checks it against
 * the expected ring */
static int hull_is(const char *json, const double *want, size_t n)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g, h;
	size_t i;
	int ok = 1;

	if (parse(json, &g, &err) < 0) {
		printf("# parse: %s\n", err.msg);
		return 0;
	}
	if (geom_convex_hull(&g, &h, &err) < 0) {
		printf("# hull: %s\n", err.msg);
		geom_release(&g);
		return 0;
	}
	if (h.type != GEOM_POLYGON || h.npolys != 1 || h.polys[0].nrings != 1 ||
	    h.polys[0].rings[0].n != n) {
		printf("# hull has %zu positions, expected %zu\n", h.polys[0].rings[0].n, n);
		ok = 0;
	}
	for (i = 0; ok && i < n; i++) {
		if (h.polys[0].rings[0].pts[i].x != want[2 * i] ||
		    h.polys[0].rings[0].pts[i].y != want[2 * i + 1]) {
			printf("# position %zu is (%.17g %.17g), expected (%.17g %.17g)\n", i,
			       h.polys[0].rings[0].pts[i].x, h.polys[0].rings[0].pts[i].y,
			       want[2 * i], want[2 * i + 1]);
			ok = 0;
		}
	}
	geom_release(&g);
	geom_release(&h);
	return ok;
}

static void test_parse_polygon(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;

	REQUIRE(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]],"
		      "[[0.2,0.2],[0.2,0.4],[0.4,0.4],[0.2,0.2]]]}", &g, &err) == 0);
	CHECK_INT(g.type, GEOM_POLYGON);
	CHECK_INT(g.npolys, 1);
	CHECK_INT(g.polys[0].nrings, 2);
	CHECK_INT(g.polys[0].rings[0].n, 5);
	CHECK_INT(geom_npoints(&g), 9);
	CHECK_STR(geom_type_name(&g), "POLYGON");
	geom_release(&g);
}

static void test_parse_z_dropped(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;

	REQUIRE(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]]}",
		      &g, &err) == 0);
	CHECK(g.polys[0].rings[0].pts[1].x == 1 && g.polys[0].rings[0].pts[1].y == 0);
	geom_release(&g);
}

static void test_parse_errors(void)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{ "null", "no geometry" },
		{ "{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}", "LineString" },
		{ "{\"type\":\"Point\",\"coordinates\":[0,0]}", "only Polygon and MultiPolygon" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}", "not closed" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[0,0]]]}", "at least 4" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[]}", "no rings" },
		{ "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,\"a\"],[1,1],[0,0]]]}",
		  "position 2 is not a pair" },
		{ "{\"type\":\"Polygon\"}", "not an array" },
		{ "{\"type\":\"MultiPolygon\",\"coordinates\":[]}", "empty MultiPolygon" },
		{ "{\"coordinates\":[]}", "no \"type\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aedb_err err = AEDB_ERR_INIT;
		struct geom g;
		cJSON *j = cJSON_Parse(cases[i].json);

		CHECK(geom_from_geojson(j, &g, &err) == -1);
		CHECK_CONTAINS(err.msg, cases[i].msg);
		cJSON_Delete(j);
	}
}

static void test_hull_shapely_examples(void)
{
	/* reference 5.2, [verified] against shapely 1.8.5 / GEOS 3.11 */
	static const double square[] = { 0, 0, 0, 1, 1, 1, 1, 0, 0, 0 };
	static const double tri[] = { 1, -1, 0, 0, 1, 1, 1, -1 };
	static const double mid[] = { 0, 0, 0, 1, 2, 1, 2, 0, 0, 0 };

	CHECK(hull_is("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}",
		      square, 5));
	CHECK(hull_is("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[1,-1],[0,0]]]}", tri, 4));
	CHECK(hull_is("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[2,0],[2,1],[1,1],[0,1],[0,0]]]}",
		      mid, 5));
}

static void test_hull_degenerate(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g, h;

	REQUIRE(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[2,2],[0,0]]]}", &g,
		      &err) == 0);
	CHECK(geom_convex_hull(&g, &h, &err) == -1);
	CHECK_CONTAINS(err.msg, "line");
	geom_release(&g);
	REQUIRE(parse("{\"type\":\"Polygon\",\"coordinates\":[[[3,3],[3,3],[3,3],[3,3]]]}", &g,
		      &err) == 0);
	CHECK(geom_convex_hull(&g, &h, &err) == -1);
	CHECK_CONTAINS(err.msg, "point");
	geom_release(&g);
}

/* the fixture's golden hull (reference 5.3), parsed from shapely's repr */
static const char fixture_hull_wkt[] =
	"-72.73710832711579 42.62736550689034, -72.73734632847297 42.62740887164929, "
	"-72.7375249784088 42.62799472285644, -72.73743599842669 42.628992896848615, "
	"-72.73737664422752 42.62953538483588, -72.73684155493561 42.631097803068926, "
	"-72.73621716140988 42.63255173801755, -72.73464115468603 42.63604553106937, "
	"-72.71857471006642 42.66225982875173, -72.71842589108417 42.66232492888302, "
	"-72.71583640579318 42.66323630262553, -72.71547923946542 42.663171193094335, "
	"-72.71538995265212 42.6630626896306, -72.71402099238107 42.6604152241144, "
	"-72.71181965097402 42.64950003926706, -72.7118792223422 42.6489575476795, "
	"-72.71190898908597 42.64887075014771, -72.71601587025096 42.642057207001685, "
	"-72.71664074921102 42.641341133770084, -72.73672159926375 42.62738725950704, "
	"-72.73710832711579 42.62736550689034";

static void test_hull_fixture(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *text = fixture_read("stac/01080203-shvm3-usgs.json");
	cJSON *item;
	struct geom g, h;
	struct geom_env env;
	double want[42];
	const char *p = fixture_hull_wkt;
	char *end;
	size_t i;

	REQUIRE(text != NULL);
	item = cJSON_Parse(text);
	free(text);
	REQUIRE(item != NULL);
	REQUIRE(geom_from_geojson(cJSON_GetObjectItem(item, "geometry"), &g, &err) == 0);
	cJSON_Delete(item);
	CHECK_INT(g.type, GEOM_MULTIPOLYGON);
	CHECK_INT(g.npolys, 8);
	CHECK_INT(geom_npoints(&g), 949);
	CHECK_INT(g.polys[2].nrings, 2);
	for (i = 0; i < 42; i++) {
		want[i] = strtod(p, &end);
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	REQUIRE(geom_convex_hull(&g, &h, &err) == 0);
	REQUIRE(h.polys[0].rings[0].n == 21);
	for (i = 0; i < 21; i++) {
		CHECK(h.polys[0].rings[0].pts[i].x == want[2 * i]);
		CHECK(h.polys[0].rings[0].pts[i].y == want[2 * i + 1]);
	}
	geom_envelope(&h, &env);
	CHECK(env.minx == -72.7375249784088 && env.maxx == -72.71181965097402);
	CHECK(env.miny == 42.62736550689034 && env.maxy == 42.66323630262553);
	geom_release(&g);
	geom_release(&h);
}

static void test_orient_exact(void)
{
	struct geom_pt a = { 0, 0 }, b = { 1, 1 }, c = { 2, 2 };
	struct geom_pt d = { 0.1, 0.1 }, e = { 0.3, 0.3 };
	struct geom_pt f = { 1e15, 1e15 + 1 };

	CHECK_INT(geom_orient(a, b, c), 0);
	CHECK_INT(geom_orient(a, (struct geom_pt){ 1, 0 }, b), 1);
	CHECK_INT(geom_orient(a, b, (struct geom_pt){ 1, 0 }), -1);
	/* 0.1, 0.2 and 0.3 are not exactly collinear as doubles: the sign must
	 * be the true one, consistent under rotation of the arguments */
	{
		struct geom_pt m = { 0.2, 0.2 };
		int s = geom_orient(d, m, e);

		CHECK_INT(geom_orient(m, e, d), s);
		CHECK_INT(geom_orient(e, d, m), s);
		CHECK_INT(geom_orient(d, e, m), -s);
	}
	/* large coordinates where the naive product loses the 1 */
	CHECK_INT(geom_orient(a, (struct geom_pt){ 1e15, 1e15 }, f), 1);
}

static void test_wkb_unit_square(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	struct buf b;
	static const unsigned char head[] = { 1, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0 };
	double x;

	buf_init(&b, 1 << 20, "wkb");
	REQUIRE(parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}",
		      &g, &err) == 0);
	REQUIRE(geom_to_wkb(&g, &b, &err) == 0);
	CHECK_INT(b.len, 93);
	CHECK(memcmp(b.data, head, sizeof(head)) == 0);
	memcpy(&x, b.data + 13 + 16, 8); /* second point x, little-endian host */
	CHECK(x == 1.0);
	geom_release(&g);
	buf_release(&b);
}

static void test_wkb_multi(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	struct buf b;

	buf_init(&b, 1 << 20, "wkb");
	REQUIRE(parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
		      "[[[5,5],[6,5],[6,6],[5,5]]]]}", &g, &err) == 0);
	CHECK_STR(geom_type_name(&g), "MULTIPOLYGON");
	REQUIRE(geom_to_wkb(&g, &b, &err) == 0);
	/* 9 + 2 * (9 + 4 + 4 * 16) */
	CHECK_INT(b.len, 9 + 2 * 77);
	CHECK_INT((unsigned char)b.data[1], 6);
	CHECK_INT((unsigned char)b.data[9 + 1], 3);
	geom_simplify_single(&g); /* two parts: unchanged */
	CHECK_INT(g.type, GEOM_MULTIPOLYGON);
	geom_release(&g);
	buf_release(&b);
}

int main(void)
{
	RUN(test_parse_polygon);
	RUN(test_parse_z_dropped);
	RUN(test_parse_errors);
	RUN(test_hull_shapely_examples);
	RUN(test_hull_degenerate);
	RUN(test_hull_fixture);
	RUN(test_orient_exact);
	RUN(test_wkb_unit_square);
	RUN(test_wkb_multi);
	return test_done();
}
