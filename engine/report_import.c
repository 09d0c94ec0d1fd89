/* `aedb import-logs`: an upstream local-logs/<batch> tree into the
 * database, so batches run before aedb (or by the Python tools) get the
 * same reports. The layout is the one the poststop task writes:
 * <parent job>/dispatch-[tags]-<unix seconds>-<8 hex>/<task>.stderr.N,
 * <task>.stdout.N and run_metadata.txt. Job ids are rebuilt from the two
 * folder names; their tags tie each job to its AOI. Everything happens in
 * one transaction, so an interrupted import leaves nothing behind, and
 * already-known jobs and files are skipped, so importing again is a no-op. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classify.h"
#include "caps.h"
#include "report.h"
#include "tracker.h"
#include "util.h"

struct pending_log {
	int64_t id;
	char *path;
};

struct importer {
	struct aedb_db *db;
	int64_t batch_id, now;
	const char *batch;
	char *root; /* absolute log_dir */
	sqlite3_stmt *st_job, *st_job_id, *st_item, *st_log;
	struct pending_log *todo;
	size_t ntodo, atodo;
	struct report_import_stats *stats;
};

static int read_run_list(struct importer *im, const char *path, struct aedb_err *err)
{
	FILE *f = fopen(path, "r");
	sqlite3_stmt *st = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int64_t line_no = 0;
	int ret = -1;

	if (!f)
		return aedb_err_setk(err, AEDB_E_USAGE, "cannot open run list '%s': %s", path,
				     strerror(errno));
	if (db_prepare(im->db,
		       "INSERT INTO item (batch_id, name, line, state, created_at, updated_at) "
		       "VALUES (?1, ?2, ?3, 'finished', ?4, ?4) ON CONFLICT (batch_id, name) DO NOTHING",
		       &st, err) < 0)
		goto out;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s = line, *e = line + n;

		line_no++;
		/* Python's str.strip(): the upstream tools read the list that way */
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' || *s == '\v'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
				 e[-1] == '\f' || e[-1] == '\v'))
			e--;
		if (s == e)
			continue;
		if ((size_t)(e - s) > AEDB_ITEM_ID_MAX) {
			aedb_err_setk(err, AEDB_E_USAGE, "run list '%s' line %lld: item id longer than %d bytes",
				      path, (long long)line_no, AEDB_ITEM_ID_MAX);
			goto out;
		}
		sqlite3_bind_int64(st, 1, im->batch_id);
		sqlite3_bind_text(st, 2, s, (int)(e - s), SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, line_no);
		sqlite3_bind_int64(st, 4, im->now);
		if (db_step_done(im->db, st, err) < 0)
			goto out;
		im->stats->items++;
		im->stats->new_items += sqlite3_changes(im->db->conn);
	}
	if (ferror(f)) {
		aedb_err_set(err, "cannot read run list '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(line);
	sqlite3_finalize(st);
	fclose(f);
	return ret;
}

static int ensure_batch(struct importer *im, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(im->db,
		       "INSERT INTO batch (name, created_at, updated_at, params, state) "
		       "VALUES (?1, ?2, ?2, json_object('imported_from', ?3), 'done') "
		       "ON CONFLICT (name) DO UPDATE SET updated_at = excluded.updated_at RETURNING id",
		       &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, im->batch, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, im->now);
	sqlite3_bind_text(st, 3, im->root, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		im->batch_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(im->db, err, "cannot create the batch");
	return 0;
}

/* "<t>-<hex>" at the end of a dispatch id: the dispatch time in ns, or 0 */
static int64_t id_time(const char *job_id)
{
	const char *close = strrchr(job_id, ']');
	const char *p = close ? close + 2 : strstr(job_id, "/dispatch-");
	char digits[24];
	size_t n;
	int64_t t;

	if (!close && p)
		p += strlen("/dispatch-");
	if (!p || p > job_id + strlen(job_id))
		return 0;
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(digits) || p[n] != '-')
		return 0;
	memcpy(digits, p, n);
	digits[n] = '\0';
	if (parse_i64(digits, 0, INT64_MAX / 1000000000LL, &t) < 0)
		return 0;
	return t * 1000000000LL;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int add_job(struct importer *im, const char *parent, const char *job_id, int64_t *ref,
		   struct aedb_err *err)
{
	cJSON *tags = tracker_parse_tags(job_id);
	char *tags_text = tags ? cJSON_PrintUnformatted(tags) : NULL;
	const char *aoi = tags ? jstr(tags, "aoi_name") : NULL;
	sqlite3_stmt *st = im->st_job;
	int64_t t = id_time(job_id), item = 0;
	int ret = -1, rc;

	if (aoi) {
		sqlite3_bind_int64(im->st_item, 1, im->batch_id);
		sqlite3_bind_text(im->st_item, 2, aoi, -1, SQLITE_STATIC);
		if (sqlite3_step(im->st_item) == SQLITE_ROW)
			item = sqlite3_column_int64(im->st_item, 0);
		sqlite3_reset(im->st_item);
	}
	sqlite3_bind_int64(st, 1, im->batch_id);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, item);
	db_bind_text(st, 5, aoi);
	db_bind_text(st, 6, tags ? jstr(tags, "collection") : NULL);
	db_bind_text(st, 7, tags ? jstr(tags, "bench_src") : NULL);
	db_bind_text(st, 8, tags ? jstr(tags, "cand_src") : NULL);
	db_bind_text(st, 9, tags ? jstr(tags, "scenario") : NULL);
	db_bind_text(st, 10, tags ? jstr(tags, "catchment") : NULL);
	db_bind_text(st, 11, tags_text);
	sqlite3_bind_int64(st, 12, t);
	sqlite3_bind_int64(st, 13, im->now);
	if (db_step_done(im->db, st, err) < 0)
		goto out;
	sqlite3_bind_text(im->st_job_id, 1, job_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(im->st_job_id);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(im->st_job_id);
		db_err(im->db, err, "cannot record job");
		goto out;
	}
	*ref = sqlite3_column_int64(im->st_job_id, 0);
	sqlite3_reset(im->st_job_id);
	im->stats->jobs++;
	ret = 0;
out:
	free(tags_text);
	cJSON_Delete(tags);
	return ret;
}

/* "<task>.stderr.N" / "<task>.stdout.N": the task and stream, or 0 */
static int log_name(const char *name, char *task, size_t tsize, const char **stream)
{
	const char *dot = NULL, *p;
	size_t n;

	for (p = name; (p = strstr(p, ".std")) != NULL; p++)
		dot = p;
	if (!dot || dot == name)
		return 0;
	if (str_starts(dot, ".stderr."))
		*stream = "stderr";
	else if (str_starts(dot, ".stdout."))
		*stream = "stdout";
	else
		return 0;
	p = dot + 8;
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return 0;
	n = (size_t)(dot - name);
	if (n >= tsize)
		return 0;
	memcpy(task, name, n);
	task[n] = '\0';
	return 1;
}

static int add_log(struct importer *im, int64_t job_ref, const char *rel, const char *task,
		   const char *stream, int64_t size, struct aedb_err *err)
{
	sqlite3_stmt *st = im->st_log;

	sqlite3_bind_int64(st, 1, im->batch_id);
	sqlite3_bind_int64(st, 2, job_ref);
	sqlite3_bind_text(st, 3, task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, stream, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, rel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, im->root, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, size);
	sqlite3_bind_int64(st, 8, im->now);
	if (db_step_done(im->db, st, err) < 0)
		return -1;
	if (sqlite3_changes(im->db->conn) == 0)
		return 0; /* imported before */
	im->stats->logs++;
	if (strcmp(stream, "stderr") == 0) {
		if (im->ntodo == im->atodo) {
			im->atodo = im->atodo ? im->atodo * 2 : 256;
			im->todo = xrealloc(im->todo, im->atodo * sizeof(*im->todo));
		}
		im->todo[im->ntodo].id = sqlite3_last_insert_rowid(im->db->conn);
		im->todo[im->ntodo].path = xasprintf("%s/%s", im->root, rel);
		im->ntodo++;
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int walk_job(struct importer *im, const char *parent, const char *entry,
		    struct aedb_err *err)
{
	char *job_id = xasprintf("%s/%s", parent, entry);
	char *dir = xasprintf("%s/%s", im->root, job_id);
	struct dirent **names = NULL;
	int64_t ref = 0;
	int n, i, ret = -1;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		aedb_err_set(err, "cannot read folder '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (add_job(im, parent, job_id, &ref, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char task[256], *rel, *full;
		const char *stream = NULL;
		struct stat sb;

		if (name[0] == '.' || strcmp(name, "run_metadata.txt") == 0)
			continue;
		rel = xasprintf("%s/%s", job_id, name);
		full = xasprintf("%s/%s", im->root, rel);
		if (!log_name(name, task, sizeof(task), &stream) || stat(full, &sb) < 0 ||
		    !S_ISREG(sb.st_mode)) {
			im->stats->skipped++;
		} else if (add_log(im, ref, rel, task, stream, (int64_t)sb.st_size, err) < 0) {
			free(rel);
			free(full);
			goto out;
		}
		free(rel);
		free(full);
	}
	ret = 0;
out:
	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(job_id);
	free(dir);
	return ret;
}

static int walk(struct importer *im, struct aedb_err *err)
{
	struct dirent **parents = NULL, **jobs = NULL;
	int np, nj = 0, i, k, ret = -1;

	np = scandir(im->root, &parents, NULL, alphasort);
	if (np < 0)
		return aedb_err_setk(err, AEDB_E_USAGE, "cannot read log folder '%s': %s", im->root,
				     strerror(errno));
	for (i = 0; i < np; i++) {
		const char *p = parents[i]->d_name;
		char *pdir;

		if (p[0] == '.')
			continue;
		pdir = xasprintf("%s/%s", im->root, p);
		if (!is_dir(pdir)) {
			im->stats->skipped++;
			free(pdir);
			continue;
		}
		nj = scandir(pdir, &jobs, NULL, alphasort);
		if (nj < 0) {
			aedb_err_set(err, "cannot read folder '%s': %s", pdir, strerror(errno));
			free(pdir);
			goto out;
		}
		for (k = 0; k < nj; k++) {
			const char *e = jobs[k]->d_name;
			char *jdir;

			if (e[0] == '.')
				continue;
			jdir = xasprintf("%s/%s", pdir, e);
			if (!str_starts(e, "dispatch-") || !is_dir(jdir)) {
				im->stats->skipped++;
			} else if (walk_job(im, p, e, err) < 0) {
				free(jdir);
				free(pdir);
				goto out;
			}
			free(jdir);
		}
		for (k = 0; k < nj; k++)
			free(jobs[k]);
		free(jobs);
		jobs = NULL;
		nj = 0;
		free(pdir);
	}
	ret = 0;
out:
	for (k = 0; jobs && k < nj; k++)
		free(jobs[k]);
	free(jobs);
	for (i = 0; i < np; i++)
		free(parents[i]);
	free(parents);
	return ret;
}

/* Attempts for pipeline jobs (in dispatch time order per item), then every
 * stage job tied to the attempt that was running when it was dispatched. */
static const char link_sql[] =
	"INSERT INTO attempt (item_id, number, state, id_prefix, started_at, dispatched_at, job_id) "
	"SELECT j.item_id, "
	"       coalesce((SELECT max(number) FROM attempt a WHERE a.item_id = j.item_id), 0) "
	"         + row_number() OVER (PARTITION BY j.item_id ORDER BY j.submit_time, j.job_id), "
	"       'finished', substr(j.job_id, 1, instr(j.job_id, ']-') + 1), j.submit_time, j.submit_time, "
	"       j.job_id "
	"FROM job j JOIN batch b ON b.id = j.batch_id "
	"WHERE j.batch_id = ?1 AND j.parent = b.parent_job AND j.item_id IS NOT NULL "
	"  AND j.attempt_id IS NULL AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.job_id = j.job_id);"
	"UPDATE job SET attempt_id = (SELECT a.id FROM attempt a WHERE a.job_id = job.job_id) "
	"WHERE batch_id = ?1 AND attempt_id IS NULL AND item_id IS NOT NULL "
	"  AND parent = (SELECT parent_job FROM batch WHERE id = ?1);"
	"UPDATE job SET attempt_id = coalesce("
	"    (SELECT a.id FROM attempt a WHERE a.item_id = job.item_id AND a.started_at <= job.submit_time "
	"     ORDER BY a.started_at DESC, a.number DESC LIMIT 1),"
	"    (SELECT a.id FROM attempt a WHERE a.item_id = job.item_id ORDER BY a.number LIMIT 1)) "
	"WHERE batch_id = ?1 AND attempt_id IS NULL AND item_id IS NOT NULL;"
	"UPDATE item SET attempts = max(attempts, (SELECT count(*) FROM attempt a WHERE a.item_id = item.id)) "
	"WHERE batch_id = ?1;";

static int link_attempts(struct importer *im, struct aedb_err *err)
{
	const char *sql = link_sql, *tail = NULL;

	while (sql && *sql) {
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(im->db->conn, sql, -1, &st, &tail) != SQLITE_OK)
			return db_err(im->db, err, "cannot tie jobs to attempts");
		if (!st)
			break;
		sqlite3_bind_int64(st, 1, im->batch_id);
		if (db_step_done(im->db, st, err) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		sql = tail;
	}
	return 0;
}

int report_import_logs(struct aedb_db *db, const char *batch, const char *run_list,
		       const char *log_dir, struct report_import_stats *stats, struct aedb_err *err)
{
	struct importer im;
	struct report_import_stats st = { 0 };
	struct classifier *c = NULL;
	int ret = -1;
	size_t i;

	memset(&im, 0, sizeof(im));
	im.db = db;
	im.batch = batch;
	im.now = aedb_now_ns();
	im.stats = &st;
	im.root = realpath(log_dir, NULL);
	if (!im.root || !is_dir(im.root)) {
		aedb_err_setk(err, AEDB_E_USAGE, "log folder '%s' %s", log_dir,
			      im.root ? "is not a folder" : strerror(errno));
		goto out;
	}
	if (db_begin(db, err) < 0)
		goto out;
	if (ensure_batch(&im, err) < 0 || read_run_list(&im, run_list, err) < 0)
		goto fail;
	if (db_prepare(db,
		       "INSERT INTO job (batch_id, job_id, parent, item_id, aoi_name, collection, bench_src, "
		       "cand_src, scenario, catchment, tags, status, submit_time, first_seen_at, last_seen_at) "
		       "VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'dead', nullif(?12, 0), "
		       "?13, ?13) ON CONFLICT (namespace, job_id) DO NOTHING",
		       &im.st_job, err) < 0 ||
	    db_prepare(db, "SELECT id FROM job WHERE namespace = 'default' AND job_id = ?1", &im.st_job_id,
		       err) < 0 ||
	    db_prepare(db, "SELECT id FROM item WHERE batch_id = ?1 AND name = ?2", &im.st_item, err) < 0 ||
	    db_prepare(db,
		       "INSERT INTO log (batch_id, job_ref, task, stream, source, state, path, base, size, "
		       "captured_at) VALUES (?1, ?2, ?3, ?4, 'imported', 'captured', ?5, ?6, ?7, ?8) "
		       "ON CONFLICT (batch_id, path) WHERE path IS NOT NULL DO NOTHING",
		       &im.st_log, err) < 0)
		goto fail;
	if (walk(&im, err) < 0 || link_attempts(&im, err) < 0)
		goto fail;
	if (classify_open(db, &c, err) < 0)
		goto fail;
	for (i = 0; i < im.ntodo; i++) {
		if (classify_file(c, im.todo[i].id, im.todo[i].path, err) < 0)
			goto fail;
	}
	st.findings = classify_stats(c)->findings;
	if (db_commit(db, err) < 0)
		goto fail;
	*stats = st;
	ret = 0;
	goto out;
fail:
	db_rollback(db);
out:
	classify_free(c);
	sqlite3_finalize(im.st_job);
	sqlite3_finalize(im.st_job_id);
	sqlite3_finalize(im.st_item);
	sqlite3_finalize(im.st_log);
	for (i = 0; i < im.ntodo; i++)
		free(im.todo[i].path);
	free(im.todo);
	free(im.root);
	return ret;
}
