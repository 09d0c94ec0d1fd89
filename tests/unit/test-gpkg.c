/* engine/gpkg.c: the file GDAL/geopandas would write (reference
 * stac-gpkg.md section 3): header pragmas, tables, SRS rows, the blob
 * bytes, the temp-then-rename write. GDAL's own readers check the result
 * in tests/aoi. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aoi-fixture.h"
#include "engine/gpkg.h"
#include "engine/util.h"
#include "test.h"

static char tmpdir[256];

static void parse(const char *json, struct geom *g)
{
	struct aedb_err err = AEDB_ERR_INIT;
	cJSON *j = cJSON_Parse(json);

	if (geom_from_geojson(j, g, &err) < 0)
		printf("# parse: %s\n", err.msg);
	cJSON_Delete(j);
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -999;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -998;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		v = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void test_blob_unit_square(void)
{
	/* reference 3.4: header 40 B + WKB 93 B */
	static const unsigned char head[] = { 0x47, 0x50, 0x00, 0x03, 0xe6, 0x10, 0x00, 0x00,
					      0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
					      0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
					      0x01, 0x03, 0, 0, 0, 0x01, 0, 0, 0, 0x05, 0, 0, 0 };
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	struct buf b;

	buf_init(&b, 1 << 20, "blob");
	parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}", &g);
	REQUIRE(gpkg_geometry_blob(&g, 4326, &b, &err) == 0);
	CHECK_INT(b.len, 133);
	CHECK(memcmp(b.data, head, sizeof(head)) == 0);
	geom_release(&g);
	buf_release(&b);
}

static void test_blob_fixture_hull(void)
{
	/* the first 40 bytes GDAL wrote for the fixture's hull, then the WKB
	 * polygon header with 21 points (reference 3.4) */
	static const unsigned char head[] = {
		0x47, 0x50, 0x00, 0x03, 0xE6, 0x10, 0x00, 0x00, 0xEE, 0x8F, 0xF7, 0x9B, 0x33, 0x2F,
		0x52, 0xC0, 0x59, 0x65, 0x02, 0x74, 0x8E, 0x2D, 0x52, 0xC0, 0xC2, 0x5D, 0x4F, 0x83,
		0x4D, 0x50, 0x45, 0x40, 0xF7, 0xA5, 0x5A, 0xED, 0xE4, 0x54, 0x45, 0x40, 0x01, 0x03,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00 };
	struct aedb_err err = AEDB_ERR_INIT;
	char *text = fixture_read("stac/01080203-shvm3-usgs.json");
	cJSON *item;
	struct geom g, h;
	struct buf b;

	REQUIRE(text != NULL);
	item = cJSON_Parse(text);
	free(text);
	REQUIRE(geom_from_geojson(cJSON_GetObjectItem(item, "geometry"), &g, &err) == 0);
	cJSON_Delete(item);
	buf_init(&b, 1 << 24, "blob");
	REQUIRE(gpkg_geometry_blob(&g, 4326, &b, &err) == 0);
	CHECK_INT(b.len, 15341); /* the raw MultiPolygon, as GDAL wrote it */
	buf_reset(&b);
	REQUIRE(geom_convex_hull(&g, &h, &err) == 0);
	REQUIRE(gpkg_geometry_blob(&h, 4326, &b, &err) == 0);
	CHECK_INT(b.len, 389);
	CHECK(memcmp(b.data, head, sizeof(head)) == 0);
	geom_release(&g);
	geom_release(&h);
	buf_release(&b);
}

static void test_write_file(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	sqlite3 *db;
	char path[512], *s;
	struct stat stt;

	snprintf(path, sizeof(path), "%s/stac_a-b\"c.gpkg", tmpdir);
	parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}", &g);
	REQUIRE(gpkg_write(path, "stac_a-b\"c", &g, "a-b\"c", "usgs-fim-collection", &err) == 0);
	REQUIRE(stat(path, &stt) == 0);
	CHECK_INT(stt.st_mode & 0777, 0644);
	REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK_INT(query_int(db, "PRAGMA application_id"), 0x47504B47);
	CHECK_INT(query_int(db, "PRAGMA user_version"), 10200);
	s = query_text(db, "PRAGMA journal_mode");
	CHECK_STR(s, "delete");
	free(s);
	CHECK_INT(query_int(db, "SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id IN (-1, 0, 4326)"), 3);
	s = query_text(db, "SELECT organization || ':' || organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = 4326");
	CHECK_STR(s, "EPSG:4326");
	free(s);
	s = query_text(db, "SELECT table_name || '|' || data_type || '|' || identifier || '|' || srs_id || '|' || min_x || '|' || max_y FROM gpkg_contents");
	CHECK_STR(s, "stac_a-b\"c|features|stac_a-b\"c|4326|0.0|1.0");
	free(s);
	s = query_text(db, "SELECT table_name || '|' || column_name || '|' || geometry_type_name || '|' || srs_id || '|' || z || m FROM gpkg_geometry_columns");
	CHECK_STR(s, "stac_a-b\"c|geom|POLYGON|4326|00");
	free(s);
	s = query_text(db, "SELECT group_concat(name, ',') FROM pragma_table_info('stac_a-b\"c')");
	CHECK_STR(s, "fid,geom,item_id,collection");
	free(s);
	s = query_text(db, "SELECT item_id || '|' || collection || '|' || fid || '|' || length(geom) FROM \"stac_a-b\"\"c\"");
	CHECK_STR(s, "a-b\"c|usgs-fim-collection|1|133");
	free(s);
	sqlite3_close(db);
	geom_release(&g);
}

static void test_write_null_collection_and_multi(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	sqlite3 *db;
	char path[512], *s;

	snprintf(path, sizeof(path), "%s/stac_m.gpkg", tmpdir);
	parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],[1,1],[0,0]]],"
	      "[[[5,5],[6,5],[6,6],[5,5]]]]}", &g);
	REQUIRE(gpkg_write(path, "stac_m", &g, "m", NULL, &err) == 0);
	REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	s = query_text(db, "SELECT geometry_type_name FROM gpkg_geometry_columns");
	CHECK_STR(s, "MULTIPOLYGON");
	free(s);
	CHECK_INT(query_int(db, "SELECT collection IS NULL FROM stac_m"), 1);
	sqlite3_close(db);
	geom_release(&g);
}

static void test_write_fails_cleanly(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct geom g;
	char path[512];

	snprintf(path, sizeof(path), "%s/no-such-dir/stac_x.gpkg", tmpdir);
	parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}", &g);
	CHECK(gpkg_write(path, "stac_x", &g, "x", NULL, &err) == -1);
	CHECK_CONTAINS(err.msg, "cannot create");
	/* an existing file is replaced whole, and no temp file is left */
	snprintf(path, sizeof(path), "%s/stac_x.gpkg", tmpdir);
	REQUIRE(gpkg_write(path, "stac_x", &g, "x", NULL, &err) == 0);
	REQUIRE(gpkg_write(path, "stac_x", &g, "x", "c", &err) == 0);
	{
		DIR *d = opendir(tmpdir);
		struct dirent *de;
		int temps = 0;

		REQUIRE(d != NULL);
		while ((de = readdir(d)) != NULL)
			temps += strstr(de->d_name, "tmp") != NULL;
		closedir(d);
		CHECK_INT(temps, 0);
	}
	geom_release(&g);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/aedb-test-gpkg.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_blob_unit_square);
	RUN(test_blob_fixture_hull);
	RUN(test_write_file);
	RUN(test_write_null_collection_and_multi);
	RUN(test_write_fails_cleanly);
	test_rmtree(tmpdir);
	return test_done();
}
