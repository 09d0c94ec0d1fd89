/* `aedb report`: the named reports of sql/reports/ as CSV, and the
 * operators' files (AOI lists, JSON message files) computed with the
 * upstream set logic (compat) or from the item_outcome view (default).
 * The set logic is written here, line for line like local_reports.py,
 * over sorted string sets, so the two modes can be read side by side. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "report.h"
#include "sqlfile.h"
#include "util.h"

int report_batch_id(struct aedb_db *db, const char *name, int64_t *id, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "SELECT id FROM batch WHERE name = ?1", &st, err) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot look the batch up");
	return aedb_err_setk(err, AEDB_E_USAGE,
			     "no batch '%s' in database '%s' (see 'aedb status' for the batches)", name,
			     db->path);
}

static const char *sqlfile(const char *name)
{
	size_t i;

	for (i = 0; i < aedb_sqlfiles_count; i++) {
		if (strcmp(aedb_sqlfiles[i].name, name) == 0)
			return aedb_sqlfiles[i].text;
	}
	return NULL;
}

static int prepare_batch(struct aedb_db *db, const char *sql, int64_t batch_id, sqlite3_stmt **out,
			 struct aedb_err *err)
{
	int idx;

	if (db_prepare(db, sql, out, err) < 0)
		return -1;
	idx = sqlite3_bind_parameter_index(*out, ":batch");
	if (idx > 0)
		sqlite3_bind_int64(*out, idx, batch_id);
	return 0;
}

/* --- CSV --- */

static void csv_field(FILE *out, const char *s)
{
	const char *p;

	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (p = s; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

int report_csv_stmt(struct aedb_db *db, sqlite3_stmt *st, FILE *out, struct aedb_err *err)
{
	int n = sqlite3_column_count(st), i, rc;

	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, sqlite3_column_name(st, i));
	}
	fputs("\r\n", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			csv_field(out, (const char *)sqlite3_column_text(st, i));
		}
		fputs("\r\n", out);
	}
	if (rc != SQLITE_DONE)
		return db_err(db, err, "query failed");
	return 0;
}

int report_csv(struct aedb_db *db, const char *sql, int64_t batch_id, FILE *out,
	       struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int ret;

	if (prepare_batch(db, sql, batch_id, &st, err) < 0)
		return -1;
	ret = report_csv_stmt(db, st, out, err);
	sqlite3_finalize(st);
	return ret;
}

/* --- sorted string sets --- */

struct sset {
	char **v;
	size_t n, alloc;
};

static void sset_add(struct sset *s, const char *x)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 64;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(x);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sort by bytes (= code points for UTF-8, as Python's sorted) and unique */
static void sset_norm(struct sset *s)
{
	size_t i, o = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (i = 0; i < s->n; i++) {
		if (o && strcmp(s->v[o - 1], s->v[i]) == 0) {
			free(s->v[i]);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
}

static void sset_release(struct sset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int sset_has(const struct sset *s, const char *x)
{
	const char *key = x;

	return s->n && bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

/* a op= b, where op is union (1) or difference (0) */
static void sset_apply(struct sset *a, const struct sset *b, int add)
{
	struct sset r = { 0 };
	size_t i;

	if (add) {
		for (i = 0; i < a->n; i++)
			sset_add(&r, a->v[i]);
		for (i = 0; i < b->n; i++)
			sset_add(&r, b->v[i]);
	} else {
		for (i = 0; i < a->n; i++) {
			if (!sset_has(b, a->v[i]))
				sset_add(&r, a->v[i]);
		}
	}
	sset_norm(&r);
	sset_release(a);
	*a = r;
}

static void sset_copy(struct sset *dst, const struct sset *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n; i++)
		sset_add(dst, src->v[i]);
}

/* --- files --- */

static char *out_path(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int close_checked(FILE *f, const char *path, struct aedb_err *err)
{
	if (ferror(f)) {
		fclose(f);
		return aedb_err_set(err, "cannot write '%s'", path);
	}
	if (fclose(f) != 0)
		return aedb_err_set(err, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static int write_list(const char *dir, const char *name, const struct sset *s, int *files,
		      struct aedb_err *err)
{
	char *path = out_path(dir, name);
	FILE *f = fopen(path, "w");
	size_t i;
	int ret;

	if (!f) {
		aedb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		fprintf(f, "%s\n", s->v[i]);
	ret = close_checked(f, path, err);
	free(path);
	if (ret == 0)
		(*files)++;
	return ret;
}

static void json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* job_errors.json and friends: written only when they have entries */
static int write_messages(struct aedb_db *db, int64_t batch_id, const char *dir, int *files,
			  struct aedb_err *err)
{
	static const struct {
		const char *category, *file;
	} map[] = {
		{ "job_error", "job_errors.json" },
		{ "agr_mos_error", "agr_mos_errors.json" },
		{ "inundate_error", "inundate_errors.json" },
		{ "ignorable", "ignorable_errors.json" },
	};
	sqlite3_stmt *st = NULL;
	FILE *f = NULL;
	char *path = NULL, *cur = NULL;
	int rc, ret = -1, first = 1;
	size_t k;

	if (prepare_batch(db, sqlfile("_messages.sql"), batch_id, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(st, 0);

		if (!cur || strcmp(cur, cat) != 0) {
			if (f) {
				fputs("\n]\n", f);
				if (close_checked(f, path, err) < 0) {
					f = NULL;
					goto out;
				}
				(*files)++;
				f = NULL;
			}
			free(cur);
			free(path);
			cur = xstrdup(cat);
			path = NULL;
			for (k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
				if (strcmp(map[k].category, cat) == 0)
					path = out_path(dir, map[k].file);
			}
			if (!path)
				continue;
			f = fopen(path, "w");
			if (!f) {
				aedb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
				goto out;
			}
			fputs("[", f);
			first = 1;
		}
		fputs(first ? "\n  {" : ",\n  {", f);
		first = 0;
		fputs("\"aoi\": ", f);
		json_str(f, (const char *)sqlite3_column_text(st, 1));
		fputs(", \"job\": ", f);
		json_str(f, (const char *)sqlite3_column_text(st, 2));
		fputs(", \"task\": ", f);
		json_str(f, (const char *)sqlite3_column_text(st, 3));
		fputs(", \"file\": ", f);
		json_str(f, (const char *)sqlite3_column_text(st, 4));
		fputs(", \"message\": ", f);
		json_str(f, (const char *)sqlite3_column_text(st, 5));
		fputs("}", f);
	}
	if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the findings");
		goto out;
	}
	if (f) {
		fputs("\n]\n", f);
		rc = close_checked(f, path, err);
		f = NULL;
		if (rc < 0)
			goto out;
		(*files)++;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	free(path);
	free(cur);
	sqlite3_finalize(st);
	return ret;
}

/* --- the operators' lists --- */

enum { R_SUCCESS, R_EARLY, R_FAILED, R_JOB, R_AGR, R_INUND, R_IGN, R_COUNT };
static const char *const raw_cat[R_COUNT] = {
	"success", "early_exit", "failed", "job_error", "agr_mos_error", "inundate_error", "ignorable",
};

struct lists {
	struct sset run;          /* the run list: the batch's items */
	struct sset raw[R_COUNT]; /* AOIs with findings of each category */
};

static int load_lists(struct aedb_db *db, int64_t batch_id, struct lists *L, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, k;

	if (prepare_batch(db, "SELECT name FROM item WHERE batch_id = :batch", batch_id, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sset_add(&L->run, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the items");
	sset_norm(&L->run);
	if (prepare_batch(db, sqlfile("_aoi_sets.sql"), batch_id, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cat = (const char *)sqlite3_column_text(st, 1);

		for (k = 0; k < R_COUNT; k++) {
			if (strcmp(cat, raw_cat[k]) == 0)
				sset_add(&L->raw[k], (const char *)sqlite3_column_text(st, 0));
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the findings");
	for (k = 0; k < R_COUNT; k++)
		sset_norm(&L->raw[k]);
	return 0;
}

struct final_sets {
	struct sset success, failed, silent, ignorable, log_missing, missing;
	int write_missing;
};

/* The upstream set logic, exactly (upstream-batch-tools.md, "Judging a batch"). */
static void judge_compat(const struct lists *L, struct final_sets *F)
{
	struct sset found = { 0 }, real_errors = { 0 };

	sset_copy(&F->success, &L->raw[R_SUCCESS]);
	sset_apply(&F->success, &L->raw[R_EARLY], 1);            /* success |= early_exit */
	sset_copy(&F->failed, &L->raw[R_FAILED]);
	sset_copy(&found, &F->success);
	sset_apply(&found, &F->failed, 1);
	sset_copy(&F->silent, &L->run);
	sset_apply(&F->silent, &found, 0);                        /* silent = run - (success | failed) */
	sset_apply(&F->failed, &F->silent, 1);
	sset_apply(&F->failed, &L->raw[R_JOB], 1);
	sset_apply(&F->failed, &L->raw[R_AGR], 1);
	sset_apply(&F->failed, &L->raw[R_INUND], 1);
	sset_apply(&F->success, &F->failed, 0);                   /* success -= failed */
	sset_copy(&real_errors, &L->raw[R_AGR]);
	sset_apply(&real_errors, &L->raw[R_INUND], 1);
	sset_copy(&F->ignorable, &L->raw[R_IGN]);
	sset_apply(&F->ignorable, &real_errors, 0);               /* truly ignorable */
	sset_apply(&F->success, &F->ignorable, 1);                /* the upstream bug, kept */
	sset_apply(&F->failed, &F->ignorable, 0);
	sset_release(&found);
	sset_release(&real_errors);
}

/* The default: the item_outcome view decides; the run list is the items. */
static int judge_default(struct aedb_db *db, int64_t batch_id, const struct lists *L,
			 struct final_sets *F, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	struct sset real_errors = { 0 };
	int rc;

	if (prepare_batch(db, "SELECT item, outcome FROM item_outcome WHERE batch_id = :batch",
			  batch_id, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *item = (const char *)sqlite3_column_text(st, 0);
		const char *o = (const char *)sqlite3_column_text(st, 1);

		if (strcmp(o, "success") == 0 || strcmp(o, "early_exit") == 0) {
			sset_add(&F->success, item);
		} else if (strcmp(o, "failed") == 0 || strcmp(o, "silent") == 0 ||
			   strcmp(o, "log_missing") == 0) {
			sset_add(&F->failed, item);
			if (strcmp(o, "silent") == 0)
				sset_add(&F->silent, item);
			if (strcmp(o, "log_missing") == 0)
				sset_add(&F->log_missing, item);
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(db, err, "cannot read the outcomes");
	sset_norm(&F->success);
	sset_norm(&F->failed);
	sset_norm(&F->silent);
	sset_norm(&F->log_missing);
	/* AOIs with an ignorable message and no real stage error (listed, never moved) */
	sset_copy(&real_errors, &L->raw[R_AGR]);
	sset_apply(&real_errors, &L->raw[R_INUND], 1);
	sset_copy(&F->ignorable, &L->raw[R_IGN]);
	sset_apply(&F->ignorable, &real_errors, 0);
	sset_release(&real_errors);
	return 0;
}

/* Only items of the run list count in the default mode. */
static void restrict_to(struct sset *s, const struct sset *run)
{
	struct sset r = { 0 };
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (sset_has(run, s->v[i]))
			sset_add(&r, s->v[i]);
	}
	sset_release(s);
	*s = r;
}

static int make_dir(const char *dir, struct aedb_err *err)
{
	struct stat sb;

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	return aedb_err_set(err, "cannot create the report folder '%s': %s", dir,
			    errno == EEXIST ? "a file of that name exists" : strerror(errno));
}

int report_write(struct aedb_db *db, int64_t batch_id, const char *out_dir, int compat,
		 struct report_summary *sum, struct aedb_err *err)
{
	struct lists L;
	struct final_sets F;
	struct report_summary s = { 0 };
	int ret = -1, k;
	size_t i;

	memset(&L, 0, sizeof(L));
	memset(&F, 0, sizeof(F));
	if (make_dir(out_dir, err) < 0)
		return -1;
	/* one read transaction: every file sees the same database */
	if (db_exec(db, "BEGIN", err) < 0)
		return -1;
	for (i = 0; i < aedb_sqlfiles_count; i++) {
		const char *name = aedb_sqlfiles[i].name;
		size_t n = strlen(name);
		char *csv, *path;
		FILE *f;

		if (name[0] == '_' || n < 5 || strcmp(name + n - 4, ".sql") != 0)
			continue;
		csv = xasprintf("%.*s.csv", (int)(n - 4), name);
		path = out_path(out_dir, csv);
		free(csv);
		f = fopen(path, "w");
		if (!f) {
			aedb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
			free(path);
			goto out;
		}
		if (report_csv(db, aedb_sqlfiles[i].text, batch_id, f, err) < 0) {
			aedb_err_prefix(err, "report %s", name);
			fclose(f);
			free(path);
			goto out;
		}
		k = close_checked(f, path, err);
		free(path);
		if (k < 0)
			goto out;
		s.files++;
	}

	if (load_lists(db, batch_id, &L, err) < 0)
		goto out;
	if (compat) {
		judge_compat(&L, &F);
	} else {
		if (judge_default(db, batch_id, &L, &F, err) < 0)
			goto out;
		for (k = 0; k < R_COUNT; k++)
			restrict_to(&L.raw[k], &L.run);
		restrict_to(&F.ignorable, &L.run);
	}
	s.input = (int64_t)L.run.n;
	s.success = (int64_t)F.success.n;
	s.failed = (int64_t)F.failed.n;
	s.total = s.success + s.failed;
	if (s.input != s.total) {
		sset_copy(&F.missing, &L.run);
		sset_apply(&F.missing, &F.success, 0);
		sset_apply(&F.missing, &F.failed, 0);
		F.write_missing = 1;
		s.missing = (int64_t)F.missing.n;
	}
	{
		const struct {
			const char *name;
			const struct sset *set;
		} files[] = {
			{ "unique_success_aoi_names.txt", &F.success },
			{ "unique_fail_aoi_names.txt", &F.failed },
			{ "silent_failures.txt", &F.silent },
			{ "sorted-run-list.txt", &L.run },
			{ "success_aois.txt", &L.raw[R_SUCCESS] },
			{ "failed_aois.txt", &L.raw[R_FAILED] },
			{ "early_exit_aois.txt", &L.raw[R_EARLY] },
			{ "job_errors_aois.txt", &L.raw[R_JOB] },
			{ "agr_mos_errors_aois.txt", &L.raw[R_AGR] },
			{ "inundate_errors_aois.txt", &L.raw[R_INUND] },
			{ "ignorable_errors_aois.txt", &F.ignorable },
		};

		for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			if (write_list(out_dir, files[i].name, files[i].set, &s.files, err) < 0)
				goto out;
		}
	}
	if (!compat && write_list(out_dir, "log_missing_aois.txt", &F.log_missing, &s.files, err) < 0)
		goto out;
	{
		char *mp = out_path(out_dir, "missing_aois.txt");

		if (F.write_missing)
			k = write_list(out_dir, "missing_aois.txt", &F.missing, &s.files, err);
		else
			k = (unlink(mp) == 0 || errno == ENOENT) ? 0 : -1; /* no stale list from an earlier run */
		free(mp);
		if (k < 0)
			goto out;
	}
	{
		static const char *const json_files[] = { "job_errors.json", "agr_mos_errors.json",
							  "inundate_errors.json", "ignorable_errors.json" };

		for (i = 0; i < sizeof(json_files) / sizeof(json_files[0]); i++) {
			char *jp = out_path(out_dir, json_files[i]);

			unlink(jp); /* written again below only when non-empty */
			free(jp);
		}
	}
	if (write_messages(db, batch_id, out_dir, &s.files, err) < 0)
		goto out;
	*sum = s;
	ret = 0;
out:
	db_rollback(db);
	sset_release(&L.run);
	for (k = 0; k < R_COUNT; k++)
		sset_release(&L.raw[k]);
	sset_release(&F.success);
	sset_release(&F.failed);
	sset_release(&F.silent);
	sset_release(&F.ignorable);
	sset_release(&F.log_missing);
	sset_release(&F.missing);
	return ret;
}
