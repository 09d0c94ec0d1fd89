/* `aedb report`: the named reports of sql/reports/ as CSV, and the
 * operators' files (AOI lists, JSON message files) computed with the
 * upstream set logic (compat) or from the item_outcome view (default).
 * The set logic is written here, line for line like local_reports.py,
 * over sorted string sets, so the two modes can be read side by side. */
#include <errno.h>
#include <fcntl.h>
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

static void csv_header(FILE *out, sqlite3_stmt *st)
{
	int n = sqlite3_column_count(st), i;

	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, sqlite3_column_name(st, i));
	}
	fputs("\r\n", out);
}

static void csv_row(FILE *out, sqlite3_stmt *st)
{
	int n = sqlite3_column_count(st), i;

	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		csv_field(out, (const char *)sqlite3_column_text(st, i));
	}
	fputs("\r\n", out);
}

int report_csv_stmt(struct aedb_db *db, sqlite3_stmt *st, FILE *out, struct aedb_err *err)
{
	int rc;

	csv_header(out, st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		csv_row(out, st);
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

/* --- the JSON message files: large buffered writes --- */

/* An output file written with write(2) in large blocks (the message files
 * of a big batch are hundreds of megabytes). Errors are remembered and
 * reported by ofile_close. */
struct ofile {
	int fd;
	int bad;        /* errno of the first failed write, or 0 */
	char *buf;
	size_t len;
	char *path;     /* owned */
};

#define OFILE_BUF ((size_t)1 << 20)

static int ofile_open(struct ofile *o, char *path, struct aedb_err *err)
{
	memset(o, 0, sizeof(*o));
	o->path = path;
	o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (o->fd < 0) {
		aedb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
		free(path);
		o->path = NULL;
		return -1;
	}
	o->buf = xmalloc(OFILE_BUF);
	return 0;
}

static void ofile_flush(struct ofile *o)
{
	size_t off = 0;

	while (off < o->len && !o->bad) {
		ssize_t w = write(o->fd, o->buf + off, o->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->bad = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	o->len = 0;
}

static void ofile_put(struct ofile *o, const char *p, size_t n)
{
	if (o->len + n > OFILE_BUF) {
		ofile_flush(o);
		if (n > OFILE_BUF) { /* larger than the buffer: straight through */
			o->len = 0;
			while (n > 0 && !o->bad) {
				size_t k = n < OFILE_BUF ? n : OFILE_BUF;

				memcpy(o->buf, p, k);
				o->len = k;
				ofile_flush(o);
				p += k;
				n -= k;
			}
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void ofile_puts(struct ofile *o, const char *s)
{
	ofile_put(o, s, strlen(s));
}

/* Flush and close; 0, or -1 with err set. Always releases o. */
static int ofile_close(struct ofile *o, struct aedb_err *err)
{
	int ret = 0;

	if (o->fd < 0)
		return 0;
	ofile_flush(o);
	if (close(o->fd) != 0 && !o->bad)
		o->bad = errno;
	if (o->bad)
		ret = aedb_err_set(err, "cannot write '%s': %s", o->path, strerror(o->bad));
	free(o->buf);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	return ret;
}

/* the JSON escape of each byte: 0 (as is), a letter (\x), or 'u' (\u00XX) */
static char json_escape(unsigned char c)
{
	switch (c) {
	case '"': return '"';
	case '\\': return '\\';
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	case '\b': return 'b';
	case '\f': return 'f';
	default: return c < 0x20 ? 'u' : 0;
	}
}

/* a JSON string (NULL as ""), escaped as before: runs of plain bytes are
 * copied at once */
static void json_str(struct ofile *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

	ofile_put(o, "\"", 1);
	for (; *p; p++) {
		char e = (*p < 0x20 || *p == '"' || *p == '\\') ? json_escape(*p) : 0;
		char u[6] = { '\\', 'u', '0', '0', 0, 0 };

		if (!e)
			continue;
		ofile_put(o, (const char *)run, (size_t)(p - run));
		run = p + 1;
		if (e == 'u') {
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 15];
			ofile_put(o, u, sizeof(u));
		} else {
			u[1] = e;
			ofile_put(o, u, 2);
		}
	}
	ofile_put(o, (const char *)run, (size_t)(p - run));
	ofile_put(o, "\"", 1);
}

/* one row of _message_logs.sql: a log's lines of one category and item */
struct msg_log {
	char *cat, *aoi, *job, *task, *file; /* aoi, job, task, file may be NULL */
	size_t aoi_n, file_n;
	int64_t log_ref, item_id;
	int item_null;
};

/* one line of a group of logs that sort equal (rare: merged by line, id) */
struct msg_line {
	int64_t line_no, id;
	char *message;
	const struct msg_log *log;
};

static char *col_dup(sqlite3_stmt *st, int i, size_t *n)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	size_t len = (size_t)sqlite3_column_bytes(st, i);
	char *r;

	if (n)
		*n = len;
	if (!t)
		return NULL;
	r = xmalloc(len + 1);
	memcpy(r, t, len);
	r[len] = '\0';
	return r;
}

/* SQLite's BINARY collation, NULL first */
static int cmp_bin(const char *a, size_t an, const char *b, size_t bn)
{
	int c;

	if (!a || !b)
		return (a != NULL) - (b != NULL);
	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int cmp_msg_key(const struct msg_log *a, const struct msg_log *b)
{
	int c = strcmp(a->cat, b->cat);

	if (!c)
		c = cmp_bin(a->aoi, a->aoi_n, b->aoi, b->aoi_n);
	if (!c)
		c = cmp_bin(a->file, a->file_n, b->file, b->file_n);
	return c;
}

static int cmp_msg_log(const void *pa, const void *pb)
{
	const struct msg_log *a = pa, *b = pb;
	int c = cmp_msg_key(a, b);

	if (!c)
		c = (a->log_ref > b->log_ref) - (a->log_ref < b->log_ref);
	if (!c)
		c = (a->item_id > b->item_id) - (a->item_id < b->item_id);
	return c;
}

static int cmp_msg_line(const void *pa, const void *pb)
{
	const struct msg_line *a = pa, *b = pb;

	if (a->line_no != b->line_no)
		return a->line_no < b->line_no ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static void msg_entry(struct ofile *o, int *first, const struct msg_log *g, const char *message)
{
	ofile_puts(o, *first ? "\n  {" : ",\n  {");
	*first = 0;
	ofile_puts(o, "\"aoi\": ");
	json_str(o, g->aoi);
	ofile_puts(o, ", \"job\": ");
	json_str(o, g->job);
	ofile_puts(o, ", \"task\": ");
	json_str(o, g->task);
	ofile_puts(o, ", \"file\": ");
	json_str(o, g->file);
	ofile_puts(o, ", \"message\": ");
	json_str(o, message);
	ofile_puts(o, "}");
}

static void bind_msg_log(sqlite3_stmt *lines, const struct msg_log *g)
{
	sqlite3_reset(lines);
	sqlite3_bind_text(lines, sqlite3_bind_parameter_index(lines, ":category"), g->cat, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(lines, sqlite3_bind_parameter_index(lines, ":log"), g->log_ref);
	if (g->item_null)
		sqlite3_bind_null(lines, sqlite3_bind_parameter_index(lines, ":item"));
	else
		sqlite3_bind_int64(lines, sqlite3_bind_parameter_index(lines, ":item"), g->item_id);
}

/* job_errors.json and friends: written only when they have entries, in the
 * order category, AOI, file, line number, finding id. The logs are sorted
 * here (a few per item), then each log's lines come in line order from
 * the finding_batch_log index: no sort of every line. */
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
	sqlite3_stmt *st = NULL, *lines = NULL;
	struct msg_log *logs = NULL;
	struct msg_line *merged = NULL;
	size_t nlogs = 0, alloc = 0, nmerged = 0, amerged = 0, i, j, g, k;
	struct ofile o = { .fd = -1 };
	const char *cur = NULL;
	int rc, ret = -1, first = 1, open_file = 0;

	if (prepare_batch(db, sqlfile("_message_logs.sql"), batch_id, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct msg_log *m;

		if (nlogs == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			logs = xrealloc(logs, alloc * sizeof(*logs));
		}
		m = &logs[nlogs++];
		m->cat = col_dup(st, 0, NULL);
		m->aoi = col_dup(st, 1, &m->aoi_n);
		m->job = col_dup(st, 2, NULL);
		m->task = col_dup(st, 3, NULL);
		m->file = col_dup(st, 4, &m->file_n);
		m->log_ref = sqlite3_column_int64(st, 5);
		m->item_null = sqlite3_column_type(st, 6) == SQLITE_NULL;
		m->item_id = sqlite3_column_int64(st, 6);
		if (!m->cat)
			m->cat = xstrdup("");
	}
	if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the findings");
		goto out;
	}
	if (nlogs)
		qsort(logs, nlogs, sizeof(*logs), cmp_msg_log);
	if (prepare_batch(db, sqlfile("_message_lines.sql"), batch_id, &lines, err) < 0)
		goto out;

	for (g = 0; g < nlogs; g = j) {
		for (j = g + 1; j < nlogs && cmp_msg_key(&logs[g], &logs[j]) == 0; j++)
			;
		if (!cur || strcmp(cur, logs[g].cat) != 0) {
			if (open_file) {
				ofile_puts(&o, "\n]\n");
				open_file = 0;
				if (ofile_close(&o, err) < 0)
					goto out;
				(*files)++;
			}
			cur = logs[g].cat;
			for (k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
				if (strcmp(map[k].category, cur) == 0) {
					if (ofile_open(&o, out_path(dir, map[k].file), err) < 0)
						goto out;
					open_file = 1;
					ofile_puts(&o, "[");
					first = 1;
				}
			}
		}
		if (!open_file)
			continue;
		if (j == g + 1) {
			/* the usual case: one log, its lines in order */
			bind_msg_log(lines, &logs[g]);
			while ((rc = sqlite3_step(lines)) == SQLITE_ROW)
				msg_entry(&o, &first, &logs[g], (const char *)sqlite3_column_text(lines, 2));
			if (rc != SQLITE_DONE) {
				db_err(db, err, "cannot read the findings");
				goto out;
			}
			continue;
		}
		/* logs with the same AOI and file: their lines merged by line, id */
		nmerged = 0;
		for (i = g; i < j; i++) {
			bind_msg_log(lines, &logs[i]);
			while ((rc = sqlite3_step(lines)) == SQLITE_ROW) {
				if (nmerged == amerged) {
					amerged = amerged ? amerged * 2 : 64;
					merged = xrealloc(merged, amerged * sizeof(*merged));
				}
				merged[nmerged].line_no = sqlite3_column_int64(lines, 0);
				merged[nmerged].id = sqlite3_column_int64(lines, 1);
				merged[nmerged].message = col_dup(lines, 2, NULL);
				merged[nmerged].log = &logs[i];
				nmerged++;
			}
			if (rc != SQLITE_DONE) {
				db_err(db, err, "cannot read the findings");
				goto out;
			}
		}
		qsort(merged, nmerged, sizeof(*merged), cmp_msg_line);
		for (i = 0; i < nmerged; i++) {
			msg_entry(&o, &first, merged[i].log, merged[i].message);
			free(merged[i].message);
			merged[i].message = NULL;
		}
		nmerged = 0;
	}
	if (open_file) {
		ofile_puts(&o, "\n]\n");
		open_file = 0;
		if (ofile_close(&o, err) < 0)
			goto out;
		(*files)++;
	}
	ret = 0;
out:
	if (o.fd >= 0) {
		struct aedb_err ignore = AEDB_ERR_INIT;

		ofile_close(&o, &ignore);
	}
	for (i = 0; i < nmerged; i++)
		free(merged[i].message);
	free(merged);
	for (i = 0; i < nlogs; i++) {
		free(logs[i].cat);
		free(logs[i].aoi);
		free(logs[i].job);
		free(logs[i].task);
		free(logs[i].file);
	}
	free(logs);
	sqlite3_finalize(lines);
	sqlite3_finalize(st);
	return ret;
}

/* --- stage_runtimes.csv --- */

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

static int runtime_row(struct aedb_db *db, sqlite3_stmt *row, const char *job, double *v,
		       int64_t n, FILE *out, struct aedb_err *err)
{
	int rc;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	sqlite3_reset(row);
	sqlite3_bind_text(row, sqlite3_bind_parameter_index(row, ":job"), job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(row, sqlite3_bind_parameter_index(row, ":count"), n);
	/* nearest rank: the median is the lower one, rank (n + 1) / 2 */
	sqlite3_bind_double(row, sqlite3_bind_parameter_index(row, ":median"), v[(n + 1) / 2 - 1]);
	sqlite3_bind_double(row, sqlite3_bind_parameter_index(row, ":p90"), v[(9 * n + 9) / 10 - 1]);
	sqlite3_bind_double(row, sqlite3_bind_parameter_index(row, ":max"), v[n - 1]);
	rc = sqlite3_step(row);
	if (rc != SQLITE_ROW)
		return db_err(db, err, "cannot format the runtimes");
	csv_row(out, row);
	return 0;
}

/* stage_runtimes.csv: the result of sql/reports/stage_runtimes.sql (the
 * definition), computed from the runtimes read in job order: each job's
 * runtimes sorted here rather than a window sort of every allocation in
 * SQL. SQLite still rounds and formats the numbers. */
static int write_runtimes(struct aedb_db *db, int64_t batch_id, FILE *out, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL, *row = NULL;
	double *v = NULL;
	size_t alloc = 0;
	int64_t n = 0;
	char *job = NULL;
	int rc, ret = -1;

	if (db_prepare(db, sqlfile("_runtime_row.sql"), &row, err) < 0)
		return -1;
	csv_header(out, row);
	if (prepare_batch(db, sqlfile("_runtimes.sql"), batch_id, &st, err) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *parent = (const char *)sqlite3_column_text(st, 0);

		if (!parent)
			parent = "";
		if (job && strcmp(job, parent) != 0) {
			if (runtime_row(db, row, job, v, n, out, err) < 0)
				goto out;
			n = 0;
		}
		if (!job || n == 0) {
			free(job);
			job = xstrdup(parent);
		}
		if ((size_t)n == alloc) {
			alloc = alloc ? alloc * 2 : 4096;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n++] = sqlite3_column_double(st, 1);
	}
	if (rc != SQLITE_DONE) {
		db_err(db, err, "cannot read the runtimes");
		goto out;
	}
	if (n > 0 && runtime_row(db, row, job, v, n, out, err) < 0)
		goto out;
	ret = 0;
out:
	free(job);
	free(v);
	sqlite3_finalize(st);
	sqlite3_finalize(row);
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

/* The default: the item_outcome view decides (its outcome column, from
 * item_class, which is all the lists need); the run list is the items. */
static int judge_default(struct aedb_db *db, int64_t batch_id, const struct lists *L,
			 struct final_sets *F, struct aedb_err *err)
{
	sqlite3_stmt *st = NULL;
	struct sset real_errors = { 0 };
	int rc;

	if (prepare_batch(db, "SELECT item, outcome FROM item_class WHERE batch_id = :batch",
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
		if ((strcmp(name, "stage_runtimes.sql") == 0
			     ? write_runtimes(db, batch_id, f, err)
			     : report_csv(db, aedb_sqlfiles[i].text, batch_id, f, err)) < 0) {
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
