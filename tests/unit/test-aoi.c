/* engine/aoi.c without a network: configuration checks, where each AOI
 * goes (S3 key, local file, the path map), the hull collections, and a
 * pool whose items all fail before any request (bad ids). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/aoi.h"
#include "engine/http.h"
#include "engine/util.h"
#include "test.h"

static struct aoi_config base(void)
{
	struct aoi_config c;

	memset(&c, 0, sizeof(c));
	c.stac_api_url = "http://127.0.0.1:1/";
	c.output_root = "/data/batches/b1";
	c.use_local_output = 1;
	c.hull = AOI_HULL_AUTO;
	return c;
}

static void check_fails(const struct aoi_config *c, const char *msg)
{
	struct aedb_err err = AEDB_ERR_INIT;

	CHECK(aoi_config_check(c, &err) == -1);
	CHECK_INT(err.kind, AEDB_E_USAGE);
	CHECK_CONTAINS(err.msg, msg);
}

static void test_config_check(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aoi_config c = base();

	CHECK(aoi_config_check(&c, &err) == 0);
	c.stac_api_url = "localhost:8082";
	check_fails(&c, "http://");
	c.stac_api_url = "http://h/?x=1";
	check_fails(&c, "without a query");
	c = base();
	c.output_root = "s3://bucket/x";
	check_fails(&c, "--use-local-output asks for a local folder");
	c = base();
	c.use_local_output = 0;
	check_fails(&c, "add --use-local-output");
	c = base();
	c.jobs = 65;
	check_fails(&c, "--jobs");
	c = base();
	c.path_map_host = "/data";
	c.path_map_task = "/local-batches";
	CHECK(aoi_config_check(&c, &err) == 0);
	c.path_map_host = "/elsewhere";
	check_fails(&c, "not under HOST_PREFIX");
	c.path_map_host = "/dat"; /* a prefix of the name is not a folder prefix */
	check_fails(&c, "not under HOST_PREFIX");
	c.path_map_host = "relative";
	check_fails(&c, "absolute");
	c = base();
	c.use_local_output = 0;
	c.output_root = "s3://bucket/x";
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	check_fails(&c, "AWS_ACCESS_KEY_ID");
	setenv("AWS_ACCESS_KEY_ID", "AKIAX", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret-words", 1);
	CHECK(aoi_config_check(&c, &err) == 0);
	c.path_map_host = "/a";
	c.path_map_task = "/b";
	check_fails(&c, "--use-local-output");
	c.path_map_host = c.path_map_task = NULL;
	c.output_root = "s3://B/x";
	check_fails(&c, "bucket name");
}

static void target_is(const struct aoi_config *c, const char *id, const char *store,
		      const char *task)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *s = NULL, *t = NULL;

	if (!CHECK(aoi_target(c, id, &s, &t, &err) == 0)) {
		printf("# %s\n", err.msg);
		return;
	}
	CHECK_STR(s, store);
	CHECK_STR(t, task);
	free(s);
	free(t);
}

static void test_targets(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aoi_config c = base();
	char cwd[1024], want[1200];

	target_is(&c, "01080203-shvm3-usgs", "/data/batches/b1/AOIs/stac_01080203-shvm3-usgs.gpkg",
		  "/data/batches/b1/AOIs/stac_01080203-shvm3-usgs.gpkg");
	c.path_map_host = "/data/batches/";
	c.path_map_task = "/local-batches";
	target_is(&c, "x", "/data/batches/b1/AOIs/stac_x.gpkg", "/local-batches/b1/AOIs/stac_x.gpkg");
	c.output_root = "/data/batches/";
	target_is(&c, "x", "/data/batches/AOIs/stac_x.gpkg", "/local-batches/AOIs/stac_x.gpkg");
	c = base();
	c.output_root = "rel/out/";
	REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/rel/out/AOIs/stac_x.gpkg", cwd);
	target_is(&c, "x", want, want);
	c = base();
	c.use_local_output = 0;
	c.output_root = "s3://bucket/batches/b1/";
	target_is(&c, "a b", "s3://bucket/batches/b1/AOIs/stac_a b.gpkg",
		  "s3://bucket/batches/b1/AOIs/stac_a b.gpkg");
	c.output_root = "s3://bucket/";
	target_is(&c, "x", "s3://bucket/AOIs/stac_x.gpkg", "s3://bucket/AOIs/stac_x.gpkg");
	c.output_root = "s3://bucket";
	target_is(&c, "x", "s3://bucket/AOIs/stac_x.gpkg", "s3://bucket/AOIs/stac_x.gpkg");
	CHECK(aoi_target(&c, "a/b", NULL, NULL, &err) == -1);
	CHECK_CONTAINS(err.msg, "file name");
	CHECK(aoi_target(&c, "..", NULL, NULL, &err) == -1);
	CHECK(aoi_target(&c, "a\tb", NULL, NULL, &err) == -1);
	CHECK(aoi_target(&c, "", NULL, NULL, &err) == -1);
}

static void test_hull_collections(void)
{
	CHECK(aoi_hull_collection("ble-collection"));
	CHECK(aoi_hull_collection("nws-fim-collection"));
	CHECK(aoi_hull_collection("usgs-fim-collection"));
	CHECK(!aoi_hull_collection("ripple-fim-collection"));
	CHECK(!aoi_hull_collection(NULL));
}

/* Every id is refused before any request, so the pool's queueing, result
 * order and shutdown are exercised without servers. */
static void test_pool_bad_ids(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aoi_config c = base();
	struct aoi_pool *p = NULL;
	struct aoi_result r;
	char dir[256], id[32];
	int i, got = 0, failed = 0;

	snprintf(dir, sizeof(dir), "%s/aedb-test-aoi.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL);
	c.output_root = dir;
	c.jobs = 3;
	REQUIRE(aoi_pool_new(&c, &p, &err) == 0);
	for (i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "bad/%d", i);
		REQUIRE(aoi_pool_submit(p, id, &err) == 0);
		while (aoi_pool_next(p, 0, &r, &err) == 1) {
			got++;
			failed += r.error != NULL && strstr(r.error, "file name") != NULL &&
				  strncmp(r.error, "item 'bad/", 10) == 0;
			aoi_result_release(&r);
		}
	}
	while (aoi_pool_next(p, 5000, &r, &err) == 1) {
		got++;
		failed += r.error != NULL;
		aoi_result_release(&r);
	}
	CHECK_INT(got, 200);
	CHECK_INT(failed, 200);
	CHECK_INT(aoi_pool_pending(p), 0);
	CHECK_INT(aoi_pool_next(p, 10, &r, &err), 0);
	/* items still queued at free time are dropped without a leak */
	for (i = 0; i < 5; i++)
		REQUIRE(aoi_pool_submit(p, "bad/x", &err) == 0);
	aoi_pool_free(p);
	test_rmtree(dir);
}

int main(void)
{
	struct aedb_err err = AEDB_ERR_INIT;

	if (http_global_init(&err) < 0)
		return 1;
	RUN(test_config_check);
	RUN(test_targets);
	RUN(test_hull_collections);
	RUN(test_pool_bad_ids);
	http_global_cleanup();
	return test_done();
}
