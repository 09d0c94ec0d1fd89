/* The classifier: turns log lines into findings with the rules of the
 * `rule` table (see classify.h for the matching rules). Patterns are
 * compiled once per classifier with PCRE2 (JIT when available), so the
 * per-line cost is a few anchored-free searches; findings are written with
 * INSERT OR IGNORE so classifying a log twice is harmless. Only this file
 * includes <pcre2.h>. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <cjson/cJSON.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "util.h"

enum { CAT_SUCCESS, CAT_EARLY_EXIT, CAT_FAILED, CAT_JOB_ERROR, CAT_AGR_MOS, CAT_INUNDATE,
       CAT_IGNORABLE, CAT_COUNT };

static const char *const cat_names[CAT_COUNT] = {
	"success", "early_exit", "failed", "job_error", "agr_mos_error", "inundate_error", "ignorable",
};

/* success, early_exit, failed and job_error: one if/elif chain per line */
#define CHAIN_MASK ((1u << CAT_SUCCESS) | (1u << CAT_EARLY_EXIT) | (1u << CAT_FAILED) | \
		    (1u << CAT_JOB_ERROR))

struct crule {
	int64_t id;
	char *name;
	char *job;
	int cat;
	int exclude;
	pcre2_code *re;
};

struct classifier {
	struct aedb_db *db;
	struct crule *rules; /* includes by (priority, id), then excludes */
	size_t nrules;
	pcre2_match_data *md;
	sqlite3_stmt *st_log, *st_ins, *st_done, *st_del;
	/* the rules that apply to the current log's job */
	const struct crule **inc, **exc;
	size_t ninc, nexc;
	char *cur_job;
	struct classify_stats stats;
};

static int cat_index(const char *s)
{
	int i;

	for (i = 0; i < CAT_COUNT; i++) {
		if (strcmp(cat_names[i], s) == 0)
			return i;
	}
	return -1;
}

static int compile_rule(struct crule *r, const char *pattern, struct aedb_err *err)
{
	int code = 0;
	PCRE2_SIZE off = 0;
	PCRE2_UCHAR msg[256];

	r->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code,
			      &off, NULL);
	if (!r->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return aedb_err_setk(err, AEDB_E_USAGE,
				     "rule '%s' (id %lld): pattern '%s' does not compile at offset %zu: "
				     "%s; fix or disable it with 'UPDATE rule SET enabled = 0 WHERE id = %lld'",
				     r->name, (long long)r->id, pattern, (size_t)off, (const char *)msg,
				     (long long)r->id);
	}
	/* JIT is an optimisation: without it pcre2_match interprets */
	(void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

int classify_open(struct aedb_db *db, struct classifier **out, struct aedb_err *err)
{
	struct classifier *c = xcalloc(1, sizeof(*c));
	sqlite3_stmt *st = NULL;
	size_t alloc = 0;
	int rc;

	c->db = db;
	if (db_prepare(db,
		       "SELECT id, name, job, category, kind = 'exclude', pattern FROM rule "
		       "WHERE enabled = 1 ORDER BY kind = 'exclude', priority, id",
		       &st, err) < 0)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct crule *r;

		if (c->nrules == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			c->rules = xrealloc(c->rules, alloc * sizeof(*c->rules));
		}
		r = &c->rules[c->nrules];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->name = xstrdup((const char *)sqlite3_column_text(st, 1));
		r->job = xstrdup((const char *)sqlite3_column_text(st, 2));
		r->cat = cat_index((const char *)sqlite3_column_text(st, 3));
		r->exclude = sqlite3_column_int(st, 4);
		c->nrules++;
		if (r->cat < 0) {
			aedb_err_set(err, "rule '%s': unknown category", r->name);
			goto fail;
		}
		if (compile_rule(r, (const char *)sqlite3_column_text(st, 5), err) < 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the rules");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	c->md = pcre2_match_data_create(1, NULL);
	c->inc = xcalloc(c->nrules + 1, sizeof(*c->inc));
	c->exc = xcalloc(c->nrules + 1, sizeof(*c->exc));
	if (db_prepare(db,
		       "SELECT l.batch_id, j.parent, j.item_id, l.stream FROM log l "
		       "LEFT JOIN job j ON j.id = l.job_ref WHERE l.id = ?1",
		       &c->st_log, err) < 0 ||
	    db_prepare(db,
		       "INSERT OR IGNORE INTO finding (log_ref, rule_ref, batch_id, item_id, category, "
		       "line_no, message) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7)",
		       &c->st_ins, err) < 0 ||
	    db_prepare(db, "UPDATE log SET classified_at = ?2 WHERE id = ?1", &c->st_done, err) < 0 ||
	    db_prepare(db, "DELETE FROM finding WHERE log_ref = ?1", &c->st_del, err) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	sqlite3_finalize(st);
	classify_free(c);
	return -1;
}

void classify_free(struct classifier *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nrules; i++) {
		free(c->rules[i].name);
		free(c->rules[i].job);
		pcre2_code_free(c->rules[i].re);
	}
	free(c->rules);
	free(c->inc);
	free(c->exc);
	free(c->cur_job);
	pcre2_match_data_free(c->md);
	sqlite3_finalize(c->st_log);
	sqlite3_finalize(c->st_ins);
	sqlite3_finalize(c->st_done);
	sqlite3_finalize(c->st_del);
	free(c);
}

const struct classify_stats *classify_stats(const struct classifier *c)
{
	return &c->stats;
}

/* Pick the rules of job (NULL: a log of no known job gets only '*' rules). */
static void select_rules(struct classifier *c, const char *job)
{
	size_t i;

	if (c->cur_job && job && strcmp(c->cur_job, job) == 0)
		return;
	free(c->cur_job);
	c->cur_job = job ? xstrdup(job) : NULL;
	c->ninc = c->nexc = 0;
	for (i = 0; i < c->nrules; i++) {
		const struct crule *r = &c->rules[i];

		if (strcmp(r->job, "*") != 0 && !(job && strcmp(r->job, job) == 0))
			continue;
		if (r->exclude)
			c->exc[c->nexc++] = r;
		else
			c->inc[c->ninc++] = r;
	}
}

static int matches(struct classifier *c, const struct crule *r, const char *s, size_t n)
{
	return pcre2_match(r->re, (PCRE2_SPTR)s, n, 0, 0, c->md, NULL) >= 0;
}

static int excluded(struct classifier *c, int cat, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < c->nexc; i++) {
		if (c->exc[i]->cat == cat && matches(c, c->exc[i], s, n))
			return 1;
	}
	return 0;
}

struct logctx {
	int64_t log_id, batch_id, item_id;
};

static int add_finding(struct classifier *c, const struct logctx *lc, const struct crule *r,
		       int64_t line_no, const char *s, size_t n, struct aedb_err *err)
{
	sqlite3_stmt *st = c->st_ins;

	sqlite3_bind_int64(st, 1, lc->log_id);
	sqlite3_bind_int64(st, 2, r->id);
	sqlite3_bind_int64(st, 3, lc->batch_id);
	sqlite3_bind_int64(st, 4, lc->item_id);
	sqlite3_bind_text(st, 5, cat_names[r->cat], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, line_no);
	sqlite3_bind_text(st, 7, s, (int)n, SQLITE_STATIC);
	if (db_step_done(c->db, st, err) < 0)
		return -1;
	c->stats.findings += sqlite3_changes(c->db->conn);
	return 0;
}

/* Judge one line (already stripped of its end of line). */
static int classify_line(struct classifier *c, const struct logctx *lc, int64_t line_no,
			 const char *s, size_t n, struct aedb_err *err)
{
	unsigned done = 0, checked = 0, excl = 0;
	cJSON *json = NULL;
	size_t i;
	int ret = -1;

	if (c->ninc == 0)
		return 0;
	for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i < n && s[i] == '{') {
		json = cJSON_ParseWithLength(s, n);
		if (json && cJSON_IsObject(json)) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(json, "message");

			if (cJSON_IsString(m) && m->valuestring) {
				s = m->valuestring;
				n = strlen(s);
			}
		}
	}
	for (i = 0; i < c->ninc; i++) {
		const struct crule *r = c->inc[i];
		unsigned bit = 1u << r->cat;

		if ((done & bit) || ((bit & CHAIN_MASK) && (done & CHAIN_MASK)))
			continue;
		if (!matches(c, r, s, n))
			continue;
		if (!(checked & bit)) {
			checked |= bit;
			if (excluded(c, r->cat, s, n))
				excl |= bit;
		}
		if (excl & bit)
			continue;
		if (add_finding(c, lc, r, line_no, s, n, err) < 0)
			goto out;
		done |= bit;
	}
	ret = 0;
out:
	cJSON_Delete(json);
	return ret;
}

static int classify_stream(struct classifier *c, int64_t log_id, FILE *f, int replace,
			   struct aedb_err *err)
{
	sqlite3_stmt *st = c->st_log;
	struct logctx lc = { log_id, 0, 0 };
	char *line = NULL, *job = NULL;
	size_t cap = 0;
	ssize_t got;
	int64_t line_no = 0;
	int stderr_stream, ret = -1;

	sqlite3_bind_int64(st, 1, log_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return aedb_err_set(err, "log %lld is not in the database", (long long)log_id);
	}
	lc.batch_id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		job = xstrdup((const char *)sqlite3_column_text(st, 1));
	lc.item_id = sqlite3_column_int64(st, 2);
	stderr_stream = strcmp((const char *)sqlite3_column_text(st, 3), "stderr") == 0;
	sqlite3_reset(st);
	select_rules(c, job);
	c->stats.logs++;

	if (replace) {
		sqlite3_bind_int64(c->st_del, 1, log_id);
		if (db_step_done(c->db, c->st_del, err) < 0)
			goto out;
	}
	while (stderr_stream && (got = getline(&line, &cap, f)) >= 0) {
		size_t n = (size_t)got;

		line_no++;
		c->stats.lines++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n > CLASSIFY_LINE_MAX)
			n = CLASSIFY_LINE_MAX;
		if (classify_line(c, &lc, line_no, line, n, err) < 0)
			goto out;
	}
	if (ferror(f)) {
		aedb_err_set(err, "cannot read log %lld: %s", (long long)log_id, strerror(errno));
		goto out;
	}
	sqlite3_bind_int64(c->st_done, 1, log_id);
	sqlite3_bind_int64(c->st_done, 2, aedb_now_ns());
	if (db_step_done(c->db, c->st_done, err) < 0)
		goto out;
	ret = 0;
out:
	free(line);
	free(job);
	return ret;
}

/* Our own transaction, or a savepoint inside the caller's. */
static int tx_begin(struct classifier *c, int *own, struct aedb_err *err)
{
	*own = sqlite3_get_autocommit(c->db->conn) != 0;
	return db_exec(c->db, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT classify", err);
}

static int tx_end(struct classifier *c, int own, int ok, struct aedb_err *err)
{
	if (ok)
		return db_exec(c->db, own ? "COMMIT" : "RELEASE classify", err);
	if (own)
		db_rollback(c->db);
	else
		sqlite3_exec(c->db->conn, "ROLLBACK TO classify; RELEASE classify", NULL, NULL, NULL);
	return -1;
}

int classify_file(struct classifier *c, int64_t log_id, const char *path, struct aedb_err *err)
{
	FILE *f = fopen(path, "rb");
	int own = 0, rc;

	if (!f)
		return aedb_err_set(err, "cannot open log file '%s': %s", path, strerror(errno));
	if (tx_begin(c, &own, err) < 0) {
		fclose(f);
		return -1;
	}
	rc = classify_stream(c, log_id, f, 0, err);
	fclose(f);
	if (rc < 0) {
		aedb_err_prefix(err, "log file '%s'", path);
		return tx_end(c, own, 0, err);
	}
	return tx_end(c, own, 1, err);
}

int classify_reclassify_batch(struct classifier *c, int64_t batch_id, const char *log_dir,
			      struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	int own = 0, rc, ok = 0;

	if (tx_begin(c, &own, err) < 0)
		return -1;
	if (db_prepare(c->db,
		       "SELECT id, base, path FROM log WHERE batch_id = ?1 AND state = 'captured' "
		       "AND source IN ('captured', 'imported') AND path IS NOT NULL ORDER BY id",
		       &st, err) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, batch_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *base = (const char *)sqlite3_column_text(st, 1);
		const char *rel = (const char *)sqlite3_column_text(st, 2);
		char *full = rel[0] == '/' ? xstrdup(rel)
					   : xasprintf("%s/%s", base ? base : log_dir, rel);
		FILE *f = fopen(full, "rb");

		if (!f) {
			c->stats.missing++;
			free(full);
			continue;
		}
		rc = classify_stream(c, sqlite3_column_int64(st, 0), f, 1, err);
		fclose(f);
		if (rc < 0) {
			aedb_err_prefix(err, "log file '%s'", full);
			free(full);
			goto out;
		}
		free(full);
	}
	if (rc != SQLITE_DONE) {
		db_err(c->db, err, "cannot list the batch's logs");
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	return tx_end(c, own, ok, err);
}
