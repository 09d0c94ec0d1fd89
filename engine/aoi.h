/* AOI preparation: for each STAC item id, fetch the item, take its convex
 * hull when asked, write the one-feature GeoPackage stac_<item>.gpkg and
 * put it where the pipeline reads it: <output_root>/AOIs/ on S3 or in a
 * local folder. A bounded pool of worker threads does the work; callers
 * (`aedb aoi`, `aedb submit`) feed it ids and collect one result per id. */
#ifndef AEDB_AOI_H
#define AEDB_AOI_H

#include "err.h"

#define AOI_JOBS_DEFAULT 8
#define AOI_JOBS_MAX 64
#define AOI_QUEUE_PER_JOB 4 /* queued ids per worker before aoi_pool_submit blocks */

enum aoi_hull {
	AOI_HULL_AUTO,   /* hull for ble-, nws-fim- and usgs-fim-collection, as upstream */
	AOI_HULL_ALWAYS,
	AOI_HULL_NEVER,
};

struct aoi_config {
	const char *stac_api_url;
	const char *collection;     /* restrict the STAC search; may be NULL */
	enum aoi_hull hull;
	const char *output_root;    /* s3://bucket/prefix, or a local folder */
	int use_local_output;       /* --use-local-output */
	const char *path_map_host;  /* --aoi_path_map HOST=TASK; both NULL for none */
	const char *path_map_task;
	const char *temp_dir;       /* where .gpkg files are built for S3; NULL: $TMPDIR or /tmp */
	int jobs;                   /* worker threads; 0: AOI_JOBS_DEFAULT */
	/* tuning, mostly for tests and benchmarks; 0 means the default */
	long stac_timeout_ms;       /* per STAC request (default 30 s) */
	int max_attempts;           /* per STAC or S3 request (default 3) */
	long backoff_ms;            /* first retry delay (STAC 250 ms, S3 200 ms) */
};

struct aoi_result {
	char *item_id;
	char *collection; /* the item's collection; NULL when it names none or on failure */
	char *aoi_path;   /* what the Nomad task reads: s3://... or the (mapped) local path */
	char *error;      /* NULL on success, else one line naming the item */
};

/* Check cfg without touching the network: the STAC URL, the output root
 * (s3:// unless use_local_output), the path map (needs use_local_output
 * and an output root under HOST), S3 credentials in the environment, the
 * jobs count. Usage errors (AEDB_E_USAGE) say which flag to fix. */
int aoi_config_check(const struct aoi_config *cfg, struct aedb_err *err);

/* Where the AOI of item_id goes: the storage location (s3:// URL or local
 * file path) and the path the Nomad task sees (after the path map). Both
 * malloc'd; either out pointer may be NULL. cfg must pass
 * aoi_config_check. The item id must be usable as a file name (no '/',
 * not "." or "..", no control characters). */
int aoi_target(const struct aoi_config *cfg, const char *item_id, char **store, char **task_path,
	       struct aedb_err *err);

struct aoi_pool;

/* Check cfg, read the S3 settings, create the local output folder, start
 * cfg->jobs workers (each with its own HTTP client). cfg's strings are
 * copied. http_global_init() must have run. */
int aoi_pool_new(const struct aoi_config *cfg, struct aoi_pool **out, struct aedb_err *err);

/* Queue one item id (copied). Blocks while the queue is full (jobs *
 * AOI_QUEUE_PER_JOB ids waiting); workers drain it on their own, so this
 * never deadlocks. Results wait until read: call aoi_pool_next now and
 * then (timeout 0 is fine) to keep memory bounded. -1 only when the pool
 * is stopping. */
int aoi_pool_submit(struct aoi_pool *p, const char *item_id, struct aedb_err *err);

/* The next finished item, in completion order. timeout_ms < 0 waits
 * without limit. Returns 1 with *out filled (release it with
 * aoi_result_release), 0 when none finished in time or none is pending,
 * -1 with err on a pool failure. Per-item failures are results with
 * error set, not -1. */
int aoi_pool_next(struct aoi_pool *p, int timeout_ms, struct aoi_result *out,
		  struct aedb_err *err);

/* Ids submitted whose result has not been returned by aoi_pool_next yet. */
unsigned long aoi_pool_pending(struct aoi_pool *p);

void aoi_result_release(struct aoi_result *r);

/* Stop the workers (the items they are preparing finish first), drop
 * queued ids and unread results, free everything. NULL is fine. */
void aoi_pool_free(struct aoi_pool *p);

/* Does the collection get a hull under AOI_HULL_AUTO? */
int aoi_hull_collection(const char *collection);

#endif
