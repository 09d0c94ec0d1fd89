/* `aedb aoi`: prepare the AOI GeoPackages of an item list without
 * dispatching anything (the old extract_stac_geometries.py, plus the
 * upload step of submit_stac_batch.py). The work is done by the engine's
 * AOI pool, the same one `aedb submit` uses; this file reads the list,
 * feeds the pool and prints one line per item. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine/aoi.h"
#include "engine/caps.h"
#include "engine/util.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_aoi = {
	.name = "aoi",
	.summary = "prepare AOI GeoPackages from STAC items (no dispatch)",
	.usage = "aedb aoi --item_list FILE --stac_api_url URL --output_root ROOT [options]",
	.help = "For every STAC item id in FILE: fetch the item from the STAC API, take the\n"
		"convex hull of its geometry when asked, write the one-feature GeoPackage\n"
		"stac_<item>.gpkg (EPSG:4326, columns item_id and collection) and store it at\n"
		"ROOT/AOIs/stac_<item>.gpkg, on S3 or in a local folder. Nothing is\n"
		"dispatched and no database is used. Prints one line per item as it\n"
		"finishes ('prepared ...' or 'failed ...'), then 'K prepared, M failed'.\n"
		"A failed item does not stop the others.\n"
		"\n"
		"Options:\n"
		"  --item_list FILE      one STAC item id per line; blank lines are skipped,\n"
		"                        CRLF line ends and a UTF-8 BOM are accepted\n"
		"  --stac_api_url URL    root of the STAC API, e.g. http://localhost:8082/\n"
		"  --output_root ROOT    s3://bucket/prefix, or a local folder with\n"
		"                        --use-local-output; files go to ROOT/AOIs/\n"
		"  --collection C        only look for the items in STAC collection C\n"
		"  --hull auto|always|never\n"
		"                        take the convex hull of the item's geometry: auto (the\n"
		"                        default) does it for ble-collection, nws-fim-collection\n"
		"                        and usgs-fim-collection, as the upstream tool did. The\n"
		"                        pipeline needs one Polygon, so a MultiPolygon item\n"
		"                        without a hull fails (use --hull always for it)\n"
		"  --use-local-output    ROOT is a local folder (created if missing), not S3\n"
		"  --aoi_path_map HOST=TASK\n"
		"                        with --use-local-output: report each file's path with\n"
		"                        the folder prefix HOST replaced by TASK, the path the\n"
		"                        Nomad task sees (e.g. /data/batches=/local-batches)\n"
		"  --jobs N              prepare N items at a time (1-64, default 8)\n"
		"  --temp_dir DIR        where files are built before upload to S3\n"
		"                        (default $TMPDIR, else /tmp)\n"
		"\n"
		"Environment (S3 output): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
		"AWS_SESSION_TOKEN (temporary credentials), AWS_REGION or AWS_DEFAULT_REGION\n"
		"(default us-east-1), AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (a custom\n"
		"endpoint, addressed path-style). Secrets are never printed.\n"
		"\n"
		"Exit codes: 3 when the run finished but some items failed.\n",
	.run = run,
};

static const struct option options[] = {
	{ "item_list", required_argument, NULL, 'i' },
	{ "stac_api_url", required_argument, NULL, 'u' },
	{ "output_root", required_argument, NULL, 'o' },
	{ "collection", required_argument, NULL, 'c' },
	{ "hull", required_argument, NULL, 'H' },
	{ "use-local-output", no_argument, NULL, 'L' },
	{ "aoi_path_map", required_argument, NULL, 'm' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "temp_dir", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct tally {
	unsigned long prepared, failed;
};

static void print_result(const struct aoi_result *r, struct tally *t)
{
	if (r->error) {
		printf("failed   %s\n", r->error);
		t->failed++;
	} else {
		printf("prepared '%s' (%s) -> %s\n", r->item_id,
		       r->collection ? r->collection : "no collection", r->aoi_path);
		t->prepared++;
	}
	fflush(stdout);
}

/* Next id from the list: 1 with *id set (points into line), 0 at the end,
 * -1 with err. Skips blank lines; strips CR, surrounding blanks, a BOM. */
static int next_id(FILE *f, const char *path, char **line, size_t *cap, long *lineno,
		   char **id, struct aedb_err *err)
{
	ssize_t n;

	while ((n = getline(line, cap, f)) >= 0) {
		char *s = *line, *e;

		(*lineno)++;
		if (*lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		e = s + strlen(s);
		while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			continue;
		if (e - s > AEDB_ITEM_LINE_MAX)
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "item list '%s' line %ld is longer than %d bytes", path,
					     *lineno, AEDB_ITEM_LINE_MAX);
		*id = s;
		return 1;
	}
	if (ferror(f))
		return aedb_err_set(err, "cannot read item list '%s': %s", path, strerror(errno));
	return 0;
}

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aoi_config cfg;
	struct aoi_pool *pool = NULL;
	struct aoi_result res;
	struct tally t = { 0, 0 };
	const char *list = NULL;
	char *map = NULL, *line = NULL, *id = NULL;
	size_t cap = 0;
	long lineno = 0;
	FILE *f = NULL;
	int c, code = 0, rc, ret = AEDB_EXIT_FAILURE;

	(void)ctx;
	memset(&cfg, 0, sizeof(cfg));
	cfg.hull = AOI_HULL_AUTO;
	cfg.jobs = AOI_JOBS_DEFAULT;
	while ((c = cmd_getopt(&cmd_aoi, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'i':
			list = optarg;
			break;
		case 'u':
			cfg.stac_api_url = optarg;
			break;
		case 'o':
			cfg.output_root = optarg;
			break;
		case 'c':
			cfg.collection = optarg;
			break;
		case 'H':
			if (strcmp(optarg, "auto") == 0)
				cfg.hull = AOI_HULL_AUTO;
			else if (strcmp(optarg, "always") == 0)
				cfg.hull = AOI_HULL_ALWAYS;
			else if (strcmp(optarg, "never") == 0)
				cfg.hull = AOI_HULL_NEVER;
			else
				return cmd_usage_error(&cmd_aoi, "--hull takes auto, always or never, not '%s'",
						       optarg);
			break;
		case 'L':
			cfg.use_local_output = 1;
			break;
		case 'm':
			map = optarg;
			break;
		case 'j':
			if (cmd_parse_int(&cmd_aoi, "--jobs", optarg, 1, AOI_JOBS_MAX, &cfg.jobs) != 0)
				return AEDB_EXIT_USAGE;
			break;
		case 't':
			cfg.temp_dir = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_aoi, "unexpected option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_aoi, "unexpected argument '%s'", argv[optind]);
	if (!list)
		return cmd_usage_error(&cmd_aoi, "--item_list is required");
	if (!cfg.stac_api_url)
		return cmd_usage_error(&cmd_aoi, "--stac_api_url is required");
	if (!cfg.output_root)
		return cmd_usage_error(&cmd_aoi, "--output_root is required");
	if (map) {
		char *eq = strchr(map, '=');

		if (!eq || eq == map || !eq[1])
			return cmd_usage_error(&cmd_aoi, "--aoi_path_map takes HOST_PREFIX=TASK_PREFIX, not '%s'",
					       map);
		*eq = '\0';
		cfg.path_map_host = map;
		cfg.path_map_task = eq + 1;
	}
	if (aoi_config_check(&cfg, &err) < 0)
		return cmd_fail(&cmd_aoi, &err);

	f = fopen(list, "r");
	if (!f) {
		aedb_err_setk(&err, AEDB_E_USAGE, "cannot open item list '%s': %s", list,
			      strerror(errno));
		return cmd_fail(&cmd_aoi, &err);
	}
	rc = next_id(f, list, &line, &cap, &lineno, &id, &err);
	if (rc == 0)
		aedb_err_setk(&err, AEDB_E_USAGE, "item list '%s' holds no item ids", list);
	if (rc <= 0) {
		ret = cmd_fail(&cmd_aoi, &err);
		goto out;
	}
	if (aoi_pool_new(&cfg, &pool, &err) < 0) {
		ret = cmd_fail(&cmd_aoi, &err);
		goto out;
	}
	/* feed the pool, printing results as they come, so only a bounded
	 * window of the list is in memory */
	for (; rc == 1; rc = next_id(f, list, &line, &cap, &lineno, &id, &err)) {
		if (aoi_pool_submit(pool, id, &err) < 0) {
			ret = cmd_fail(&cmd_aoi, &err);
			goto out;
		}
		while (aoi_pool_next(pool, 0, &res, &err) == 1) {
			print_result(&res, &t);
			aoi_result_release(&res);
		}
	}
	if (rc < 0) {
		/* stop reading, but report the items already handed out */
		while (aoi_pool_next(pool, -1, &res, &err) == 1) {
			print_result(&res, &t);
			aoi_result_release(&res);
		}
		ret = cmd_fail(&cmd_aoi, &err);
		goto out;
	}
	while (aoi_pool_next(pool, -1, &res, &err) == 1) {
		print_result(&res, &t);
		aoi_result_release(&res);
	}
	printf("%lu prepared, %lu failed\n", t.prepared, t.failed);
	ret = t.failed ? AEDB_EXIT_ITEMS_FAILED : AEDB_EXIT_OK;
out:
	aoi_pool_free(pool);
	free(line);
	if (f)
		fclose(f);
	return ret;
}
