/* AOI preparation, item by item, on a pool of threads: STAC item ->
 * (convex hull) -> stac_<item>.gpkg -> <output_root>/AOIs/ on S3 or in a
 * local folder. Upstream did this sequentially (hours for a large batch);
 * here `jobs` workers, each with its own HTTP client, take ids from a
 * bounded queue and post results to a list the caller drains, so memory
 * stays bounded whatever the length of the item list.
 *
 * A per-item problem (unknown id, STAC errors after retries, a geometry
 * the pipeline cannot use, an S3 refusal) is a result with an error, never
 * a reason to stop the pool. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aoi.h"
#include "buf.h"
#include "geom.h"
#include "gpkg.h"
#include "http.h"
#include "caps.h"
#include "s3.h"
#include "stac.h"
#include "util.h"

#define AOI_FILE_MAX (512u << 20) /* a built .gpkg read back for upload */

static const char *const hull_collections[] = { "ble-collection", "nws-fim-collection",
						"usgs-fim-collection", NULL };

int aoi_hull_collection(const char *collection)
{
	size_t i;

	for (i = 0; collection && hull_collections[i]; i++)
		if (strcmp(collection, hull_collections[i]) == 0)
			return 1;
	return 0;
}

/* --- configuration and targets --- */

/* An absolute version of a local path, without trailing '/'. */
static char *abs_path(const char *p)
{
	char cwd[AEDB_PATH_MAX];
	char *r;
	size_t n;

	if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		r = xstrdup(p);
	else if (strcmp(p, ".") == 0)
		r = xstrdup(cwd);
	else
		r = xasprintf("%s/%s", cwd, str_starts(p, "./") ? p + 2 : p);
	n = strlen(r);
	while (n > 1 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

static char *strip_slashes(const char *p)
{
	char *r = xstrdup(p);
	size_t n = strlen(r);

	while (n > 1 && r[n - 1] == '/')
		r[--n] = '\0';
	return r;
}

/* Is path equal to prefix or below it (on a '/' boundary)? */
static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return path[0] == '/';
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int aoi_config_check(const struct aoi_config *cfg, struct aedb_err *err)
{
	const char *u = cfg->stac_api_url;

	if (!u || !*u)
		return aedb_err_setk(err, AEDB_E_USAGE, "--stac_api_url is required");
	if (!str_starts(u, "http://") && !str_starts(u, "https://"))
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "--stac_api_url '%s' must start with http:// or https://", u);
	if (strpbrk(u, "?#"))
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "--stac_api_url '%s' must be the API root, without a query", u);
	if (strlen(u) > 2048)
		return aedb_err_setk(err, AEDB_E_USAGE, "--stac_api_url is longer than 2048 bytes");
	if (cfg->collection && (!*cfg->collection || strlen(cfg->collection) > AEDB_ITEM_ID_MAX))
		return aedb_err_setk(err, AEDB_E_USAGE, "--collection '%s' is not a collection id",
				     cfg->collection);
	if (cfg->hull != AOI_HULL_AUTO && cfg->hull != AOI_HULL_ALWAYS && cfg->hull != AOI_HULL_NEVER)
		return aedb_err_setk(err, AEDB_E_USAGE, "--hull must be auto, always or never");
	if (cfg->jobs < 0 || cfg->jobs > AOI_JOBS_MAX)
		return aedb_err_setk(err, AEDB_E_USAGE, "--jobs must be between 1 and %d",
				     AOI_JOBS_MAX);
	if (!cfg->output_root || !*cfg->output_root)
		return aedb_err_setk(err, AEDB_E_USAGE, "--output_root is required");
	if (!cfg->path_map_host != !cfg->path_map_task)
		return aedb_err_setk(err, AEDB_E_USAGE, "--aoi_path_map needs HOST_PREFIX=TASK_PREFIX");
	if (cfg->use_local_output) {
		char *root;
		int ok = 1;

		if (str_starts(cfg->output_root, "s3://"))
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "--output_root '%s' is an S3 URL but --use-local-output asks for a local folder",
					     cfg->output_root);
		if (strlen(cfg->output_root) > AEDB_PATH_MAX - 300)
			return aedb_err_setk(err, AEDB_E_USAGE, "--output_root is too long");
		if (cfg->path_map_host) {
			char *host = strip_slashes(cfg->path_map_host);

			if (host[0] != '/' || cfg->path_map_task[0] == '\0') {
				free(host);
				return aedb_err_setk(err, AEDB_E_USAGE,
						     "--aoi_path_map '%s=%s': HOST_PREFIX must be an absolute path and TASK_PREFIX not empty",
						     cfg->path_map_host, cfg->path_map_task);
			}
			root = abs_path(cfg->output_root);
			ok = under(root, host);
			free(host);
			if (!ok) {
				aedb_err_setk(err, AEDB_E_USAGE,
					      "--aoi_path_map: the output folder '%s' is not under HOST_PREFIX '%s', so the task path cannot be derived",
					      root, cfg->path_map_host);
				free(root);
				return -1;
			}
			free(root);
		}
		return 0;
	}
	if (!str_starts(cfg->output_root, "s3://"))
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "--output_root '%s' is not an s3:// URL; add --use-local-output to write to a local folder",
				     cfg->output_root);
	if (cfg->path_map_host)
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "--aoi_path_map applies to a local output folder (--use-local-output) only");
	{
		char *bucket = NULL, *key = NULL;
		struct s3_config s3;

		if (s3_parse_url(cfg->output_root, &bucket, &key, err) < 0) {
			aedb_err_prefix(err, "--output_root");
			return -1;
		}
		free(bucket);
		free(key);
		if (s3_config_from_env(&s3, err) < 0)
			return -1;
		s3_config_release(&s3);
	}
	return 0;
}

static int id_usable(const char *id, struct aedb_err *err)
{
	const unsigned char *p;

	if (!*id)
		return aedb_err_set(err, "empty item id");
	if (strlen(id) > AEDB_ITEM_ID_MAX)
		return aedb_err_set(err, "item id is longer than %d bytes", AEDB_ITEM_ID_MAX);
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strchr(id, '/'))
		return aedb_err_set(err, "the item id cannot be part of a file name ('/', '.' and '..' are not allowed)");
	for (p = (const unsigned char *)id; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return aedb_err_set(err, "the item id holds a control character");
	return 0;
}

int aoi_target(const struct aoi_config *cfg, const char *item_id, char **store, char **task_path,
	       struct aedb_err *err)
{
	char *s = NULL, *t = NULL;

	if (id_usable(item_id, err) < 0)
		return -1;
	if (cfg->use_local_output) {
		char *root = abs_path(cfg->output_root);

		s = xasprintf("%s/AOIs/stac_%s.gpkg", root, item_id);
		free(root);
		if (cfg->path_map_host) {
			char *host = strip_slashes(cfg->path_map_host);
			char *task = strip_slashes(cfg->path_map_task);
			const char *rest = s + (strcmp(host, "/") == 0 ? 0 : strlen(host));

			if (!under(s, host)) {
				aedb_err_set(err, "'%s' is not under --aoi_path_map's HOST_PREFIX", s);
				free(host);
				free(task);
				free(s);
				return -1;
			}
			t = xasprintf("%s%s", strcmp(task, "/") == 0 ? "" : task, rest);
			free(host);
			free(task);
		} else {
			t = xstrdup(s);
		}
	} else {
		char *root = strip_slashes(cfg->output_root);
		size_t n = strlen(root);

		/* "s3://b/" and "s3://b" both mean the bucket root */
		while (n > 5 && root[n - 1] == '/')
			root[--n] = '\0';
		s = xasprintf("%s/AOIs/stac_%s.gpkg", root, item_id);
		t = xstrdup(s);
		free(root);
	}
	if (store)
		*store = s;
	else
		free(s);
	if (task_path)
		*task_path = t;
	else
		free(t);
	return 0;
}

/* --- the pool --- */

struct job {
	char *id;
	struct job *next;
};

struct done {
	struct aoi_result r;
	struct done *next;
};

struct worker {
	struct aoi_pool *pool;
	pthread_t thread;
	int started;
	int index;
	struct http_client *http;
	struct stac_client stac;
	struct s3_client s3;
	char *scratch; /* this worker's build file (S3 output) */
};

struct aoi_pool {
	struct aoi_config cfg;   /* strings below are owned copies */
	char *s_url, *s_coll, *s_root, *s_host, *s_task, *s_temp;
	struct s3_config s3;
	int have_s3;
	char *tmpdir;            /* our private build folder (S3 output) */

	pthread_mutex_t mu;
	pthread_cond_t work;     /* a job was queued, or stopping */
	pthread_cond_t space;    /* the queue has room */
	pthread_cond_t done_cv;  /* a result was posted */
	struct job *qhead, *qtail;
	size_t qlen, qcap;
	struct done *dhead, *dtail;
	unsigned long pending;
	int stopping;
	char *refused;           /* S3 refused the credentials: this message, for every later item */

	struct worker *workers;
	int nworkers;
};

void aoi_result_release(struct aoi_result *r)
{
	if (!r)
		return;
	free(r->item_id);
	free(r->collection);
	free(r->aoi_path);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

static int read_file(const char *path, struct buf *out, struct aedb_err *err)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return aedb_err_set(err, "cannot open '%s': %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			aedb_err_set(err, "cannot read '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (buf_append(out, chunk, (size_t)n, err) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* Upload the built file to its s3:// target. */
static int upload(struct worker *w, const char *file, const char *target, struct aedb_err *err)
{
	struct buf data;
	char *bucket = NULL, *key = NULL;
	int ret = -1;

	buf_init(&data, AOI_FILE_MAX, "AOI file");
	if (read_file(file, &data, err) < 0)
		goto out;
	if (s3_parse_url(target, &bucket, &key, err) < 0)
		goto out;
	ret = s3_put(&w->s3, bucket, key, data.data ? data.data : "", data.len,
		     "application/geopackage+sqlite3", err);
out:
	free(bucket);
	free(key);
	buf_release(&data);
	return ret;
}

/* Once S3 has refused the credentials, every item would fail the same
 * way after a STAC fetch and a build: fail them at once instead. */
static void note_refusal(struct aoi_pool *p, const char *msg)
{
	pthread_mutex_lock(&p->mu);
	if (!p->refused)
		p->refused = xstrdup(msg);
	pthread_mutex_unlock(&p->mu);
}

static int refused_message(struct aoi_pool *p, struct aedb_err *err)
{
	int ret = 0;

	pthread_mutex_lock(&p->mu);
	if (p->refused) {
		aedb_err_set(err, "not prepared, S3 refused the credentials earlier in this run (%s)",
			     p->refused);
		ret = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return ret;
}

static void prepare(struct worker *w, const char *id, struct aoi_result *res)
{
	const struct aoi_config *cfg = &w->pool->cfg;
	struct aedb_err err = AEDB_ERR_INIT;
	struct stac_item item;
	struct geom hull;
	const struct geom *g;
	char *store = NULL, *task = NULL, *table = NULL;
	int use_hull;

	memset(&item, 0, sizeof(item));
	memset(&hull, 0, sizeof(hull));
	res->item_id = xstrdup(id);
	if (aoi_target(cfg, id, &store, &task, &err) < 0)
		goto fail;
	if (refused_message(w->pool, &err))
		goto fail;
	if (stac_get_item(&w->stac, id, cfg->collection, &item, &err) < 0)
		goto fail;
	use_hull = cfg->hull == AOI_HULL_ALWAYS ||
		   (cfg->hull == AOI_HULL_AUTO && aoi_hull_collection(item.collection));
	if (use_hull) {
		if (geom_convex_hull(&item.geom, &hull, &err) < 0)
			goto fail;
		g = &hull;
	} else {
		geom_simplify_single(&item.geom);
		if (item.geom.type != GEOM_POLYGON) {
			aedb_err_set(&err, "the geometry is a MultiPolygon of %zu parts and the pipeline accepts only a single Polygon; "
				     "use --hull always to take its convex hull%s%s%s",
				     item.geom.npolys,
				     cfg->hull == AOI_HULL_AUTO ? " (auto takes it only for " : "",
				     cfg->hull == AOI_HULL_AUTO ? "ble-collection, nws-fim-collection and usgs-fim-collection" : "",
				     cfg->hull == AOI_HULL_AUTO ? ")" : "");
			goto fail;
		}
		g = &item.geom;
	}
	table = xasprintf("stac_%s", id);
	if (cfg->use_local_output) {
		if (gpkg_write(store, table, g, id, item.collection, &err) < 0)
			goto fail;
	} else {
		int rc;

		if (gpkg_write(w->scratch, table, g, id, item.collection, &err) < 0)
			goto fail;
		rc = upload(w, w->scratch, store, &err);
		unlink(w->scratch);
		if (rc < 0) {
			if (w->s3.credentials_refused)
				note_refusal(w->pool, err.msg);
			goto fail;
		}
	}
	res->collection = item.collection;
	item.collection = NULL;
	res->aoi_path = task;
	task = NULL;
	goto out;
fail:
	res->error = xasprintf("item '%s': %s", id, err.msg);
out:
	stac_item_release(&item);
	geom_release(&hull);
	free(store);
	free(task);
	free(table);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct aoi_pool *p = w->pool;

	for (;;) {
		struct job *j;
		struct done *d;

		pthread_mutex_lock(&p->mu);
		while (!p->stopping && !p->qhead)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stopping) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->qhead;
		p->qhead = j->next;
		if (!p->qhead)
			p->qtail = NULL;
		p->qlen--;
		pthread_cond_signal(&p->space);
		pthread_mutex_unlock(&p->mu);

		d = xcalloc(1, sizeof(*d));
		prepare(w, j->id, &d->r);
		free(j->id);
		free(j);

		pthread_mutex_lock(&p->mu);
		if (p->dtail)
			p->dtail->next = d;
		else
			p->dhead = d;
		p->dtail = d;
		pthread_cond_broadcast(&p->done_cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void rm_tmpdir(struct aoi_pool *p)
{
	int i;

	if (!p->tmpdir)
		return;
	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i].scratch)
			unlink(p->workers[i].scratch);
	rmdir(p->tmpdir);
}

static int mkdirs(const char *path, struct aedb_err *err)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			ret = -1;
		*s = '/';
		if (ret < 0)
			break;
	}
	if (ret == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
		ret = -1;
	if (ret < 0)
		aedb_err_set(err, "cannot create folder '%s': %s", p, strerror(errno));
	free(p);
	return ret;
}

int aoi_pool_new(const struct aoi_config *cfg, struct aoi_pool **out, struct aedb_err *err)
{
	struct aoi_pool *p;
	pthread_condattr_t ca;
	int i;

	if (aoi_config_check(cfg, err) < 0)
		return -1;
	p = xcalloc(1, sizeof(*p));
	p->cfg = *cfg;
	p->cfg.stac_api_url = p->s_url = xstrdup(cfg->stac_api_url);
	p->cfg.collection = p->s_coll = dup_or_null(cfg->collection);
	p->cfg.output_root = p->s_root = xstrdup(cfg->output_root);
	p->cfg.path_map_host = p->s_host = dup_or_null(cfg->path_map_host);
	p->cfg.path_map_task = p->s_task = dup_or_null(cfg->path_map_task);
	p->cfg.temp_dir = p->s_temp = dup_or_null(cfg->temp_dir);
	if (p->cfg.jobs <= 0)
		p->cfg.jobs = AOI_JOBS_DEFAULT;
	p->qcap = (size_t)p->cfg.jobs * AOI_QUEUE_PER_JOB;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->work, &ca);
	pthread_cond_init(&p->space, &ca);
	pthread_cond_init(&p->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->workers = xcalloc((size_t)p->cfg.jobs, sizeof(*p->workers));
	p->nworkers = p->cfg.jobs;

	if (cfg->use_local_output) {
		char *root = abs_path(cfg->output_root), *aois = xasprintf("%s/AOIs", root);
		int rc = mkdirs(aois, err);

		free(root);
		free(aois);
		if (rc < 0)
			goto fail;
	} else {
		const char *base = p->cfg.temp_dir;

		if (!base)
			base = getenv("TMPDIR");
		if (!base || !*base)
			base = "/tmp";
		if (s3_config_from_env(&p->s3, err) < 0)
			goto fail;
		p->have_s3 = 1;
		p->tmpdir = xasprintf("%s/aedb-aoi.XXXXXX", base);
		if (!mkdtemp(p->tmpdir)) {
			aedb_err_set(err, "cannot create a temporary folder in '%s': %s", base,
				     strerror(errno));
			free(p->tmpdir);
			p->tmpdir = NULL;
			goto fail;
		}
	}
	for (i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];
		struct http_client_opts o;

		memset(&o, 0, sizeof(o));
		w->pool = p;
		w->index = i;
		if (http_client_new(&o, &w->http, err) < 0)
			goto fail;
		w->stac.http = w->http;
		w->stac.api_url = p->cfg.stac_api_url;
		w->stac.timeout_ms = p->cfg.stac_timeout_ms > 0 ? p->cfg.stac_timeout_ms : 30000;
		w->stac.max_attempts = p->cfg.max_attempts;
		w->stac.backoff_ms = p->cfg.backoff_ms;
		w->s3.http = w->http;
		w->s3.cfg = &p->s3;
		w->s3.max_attempts = p->cfg.max_attempts;
		w->s3.backoff_ms = p->cfg.backoff_ms;
		if (p->tmpdir)
			w->scratch = xasprintf("%s/worker-%d.gpkg", p->tmpdir, i);
	}
	for (i = 0; i < p->nworkers; i++) {
		int rc = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);

		if (rc != 0) {
			aedb_err_set(err, "cannot start an AOI worker thread: %s", strerror(rc));
			goto fail;
		}
		p->workers[i].started = 1;
	}
	*out = p;
	return 0;
fail:
	aoi_pool_free(p);
	return -1;
}

int aoi_pool_submit(struct aoi_pool *p, const char *item_id, struct aedb_err *err)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->id = xstrdup(item_id);
	pthread_mutex_lock(&p->mu);
	while (!p->stopping && p->qlen >= p->qcap)
		pthread_cond_wait(&p->space, &p->mu);
	if (p->stopping) {
		pthread_mutex_unlock(&p->mu);
		free(j->id);
		free(j);
		return aedb_err_set(err, "the AOI pool is stopping");
	}
	if (p->qtail)
		p->qtail->next = j;
	else
		p->qhead = j;
	p->qtail = j;
	p->qlen++;
	p->pending++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

int aoi_pool_next(struct aoi_pool *p, int timeout_ms, struct aoi_result *out,
		  struct aedb_err *err)
{
	struct timespec dl;
	struct done *d;

	(void)err;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (timeout_ms > 0) {
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&p->mu);
	while (!p->dhead && p->pending > 0 && timeout_ms != 0) {
		int rc = timeout_ms < 0 ? pthread_cond_wait(&p->done_cv, &p->mu) :
					  pthread_cond_timedwait(&p->done_cv, &p->mu, &dl);

		if (rc != 0)
			break;
	}
	d = p->dhead;
	if (!d) {
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	p->dhead = d->next;
	if (!p->dhead)
		p->dtail = NULL;
	p->pending--;
	pthread_mutex_unlock(&p->mu);
	*out = d->r;
	free(d);
	return 1;
}

unsigned long aoi_pool_pending(struct aoi_pool *p)
{
	unsigned long n;

	pthread_mutex_lock(&p->mu);
	n = p->pending;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void aoi_pool_free(struct aoi_pool *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->space);
	pthread_cond_broadcast(&p->done_cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nworkers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	while (p->qhead) {
		struct job *j = p->qhead;

		p->qhead = j->next;
		free(j->id);
		free(j);
	}
	while (p->dhead) {
		struct done *d = p->dhead;

		p->dhead = d->next;
		aoi_result_release(&d->r);
		free(d);
	}
	rm_tmpdir(p);
	for (i = 0; i < p->nworkers; i++) {
		http_client_free(p->workers[i].http);
		free(p->workers[i].scratch);
	}
	free(p->workers);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->space);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	if (p->have_s3)
		s3_config_release(&p->s3);
	free(p->tmpdir);
	free(p->refused);
	free(p->s_url);
	free(p->s_coll);
	free(p->s_root);
	free(p->s_host);
	free(p->s_task);
	free(p->s_temp);
	free(p);
}
