/* gen-synthdb: a synthetic batch for report scale tests and benchmarks.
 *
 *   gen-synthdb --db PATH [--items N] [--batch NAME] [--seed S]
 *       writes a batch of N items (default 10000) into the database: per
 *       item one attempt and 61 jobs (a pipeline; per scenario 27
 *       hand_inundator, 2 fim_mosaicker, 1 agreement_maker), one allocation
 *       per job (1 % lost and rescheduled), 3-4 task events per
 *       allocation, a stderr log pointer per job and findings: the
 *       pipeline's outcome line, and for failing items (about 8 %) a dozen
 *       error lines in every stage log. 2 % of items have a stage job
 *       killed for memory, 0.5 % a lost pipeline, 0.5 % an unavailable
 *       pipeline log. Deterministic for a seed.
 *
 *   gen-synthdb --logtree DIR --run-list FILE [--items N] [--batch NAME]
 *       writes an upstream local-logs/<batch> tree instead (DIR is the
 *       batch folder) with the same mix of outcomes as log text, for
 *       `aedb import-logs` benchmarks.
 *
 * A tool, not part of aedb: it writes rows directly with prepared
 * statements in a few large transactions. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/db.h"
#include "engine/util.h"

#define NS 1000000000LL
#define SCENARIOS 2
#define CATCHMENTS 27

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* an integer in [0, n) */
static int64_t rndn(int64_t n)
{
	return (int64_t)(rnd() % (uint64_t)n);
}

static const char *const errors_inundate[] = {
	"ERROR: failed to read catchment raster: HTTP 503 from object store",
	"ERROR: rasterio.errors.RasterioIOError: Read or write failed",
	"WARNING: forecast value out of range for feature",
	"ERROR: no space left on device while writing output",
	"Error: could not open HAND index table",
};
static const char *const errors_agr_mos[] = {
	"ERROR: mosaic input list is empty",
	"ERROR: agreement metrics failed: shapes do not align",
	"WARNING: benchmark raster has a different CRS; reprojecting",
	"ERROR: botocore upload failed after 5 attempts",
	"Error: dask worker died unexpectedly",
};

struct item_plan {
	int fail_text;   /* stage logs carry errors, pipeline FAILED */
	int oom;         /* one stage job killed for memory */
	int lost;        /* the pipeline allocation was lost */
	int log_gone;    /* the pipeline log could not be captured */
	int ignorable;   /* an agreement log says "no valid data" */
	int early;       /* exiting early */
};

static void plan_item(struct item_plan *p)
{
	int64_t r = rndn(1000);

	memset(p, 0, sizeof(*p));
	if (r < 80)
		p->fail_text = 1;
	else if (r < 100)
		p->oom = 1;
	else if (r < 105)
		p->lost = 1;
	else if (r < 110)
		p->log_gone = 1;
	else if (r < 160)
		p->ignorable = 1;
	else if (r < 180)
		p->early = 1;
}

struct job_spec {
	const char *parent;
	char tags[256];
};

/* the jobs of one item, pipeline first */
static int item_jobs(const char *batch, const char *aoi, struct job_spec *js)
{
	int n = 0, s, c;

	js[n].parent = "pipeline";
	snprintf(js[n].tags, sizeof(js[n].tags), "batch_name=%s,aoi_name=%s,collection=ble-collection,attempt=1",
		 batch, aoi);
	n++;
	for (s = 0; s < SCENARIOS; s++) {
		for (c = 0; c < CATCHMENTS; c++) {
			js[n].parent = "hand_inundator";
			snprintf(js[n].tags, sizeof(js[n].tags),
				 "batch_name=%s,aoi_name=%s,bench_src=ble-collection,scenario=s%d,catchment=%07d",
				 batch, aoi, s, 1200000 + c);
			n++;
		}
		js[n].parent = "fim_mosaicker";
		snprintf(js[n].tags, sizeof(js[n].tags), "batch_name=%s,aoi_name=%s,cand_src=hand,scenario=s%d",
			 batch, aoi, s);
		n++;
		js[n].parent = "fim_mosaicker";
		snprintf(js[n].tags, sizeof(js[n].tags),
			 "batch_name=%s,aoi_name=%s,bench_src=ble-collection,scenario=s%d", batch, aoi, s);
		n++;
		js[n].parent = "agreement_maker";
		snprintf(js[n].tags, sizeof(js[n].tags),
			 "batch_name=%s,aoi_name=%s,bench_src=ble-collection,scenario=s%d", batch, aoi, s);
		n++;
	}
	return n;
}

#define JOBS_PER_ITEM (1 + SCENARIOS * (CATCHMENTS + 3))

static int die_db(struct aedb_db *db, const char *what)
{
	fprintf(stderr, "gen-synthdb: %s: %s\n", what, sqlite3_errmsg(db->conn));
	return 1;
}

static int step(struct aedb_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "gen-synthdb: insert failed: %s\n", sqlite3_errmsg(db->conn));
		exit(1);
	}
	return 0;
}

enum { S_ITEM, S_ATTEMPT, S_JOB, S_ALLOC, S_EVENT, S_LOG, S_FINDING, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
	"INSERT INTO item (id, batch_id, name, line, collection, aoi_state, state, attempts, created_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?1, 'ble-collection', 'ready', 'finished', 1, ?4, ?4)",
	"INSERT INTO attempt (id, item_id, number, state, id_prefix, started_at, dispatched_at, job_id, finished_at, outcome) "
	"VALUES (?1, ?1, 1, 'finished', ?2, ?3, ?3, ?4, ?5, ?6)",
	"INSERT INTO job (id, batch_id, job_id, parent, item_id, attempt_id, aoi_name, collection, bench_src, "
	"cand_src, scenario, catchment, status, submit_time, first_seen_at, last_seen_at, finished_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, 'ble-collection', ?7, ?8, ?9, ?10, 'dead', ?11, ?11, ?12, ?12)",
	"INSERT INTO alloc (id, alloc_id, job_ref, task_group, node_id, node_name, client_status, desired_status, "
	"create_time, started_at, finished_at, next_alloc, first_seen_at, last_seen_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?8, ?9)",
	"INSERT INTO task_event (alloc_ref, task, type, time, exit_code, oom_killed, display_message) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	"INSERT INTO log (id, batch_id, job_ref, alloc_ref, task, stream, source, state, path, size, reason, "
	"captured_at, classified_at) VALUES (?1, ?2, ?3, ?4, ?5, 'stderr', 'captured', ?6, ?7, ?8, ?9, ?10, ?10)",
	"INSERT INTO finding (log_ref, rule_ref, batch_id, item_id, category, line_no, message) "
	"VALUES (?1, (SELECT id FROM rule WHERE name = ?2), ?3, ?4, ?5, ?6, ?7)",
};

static int gen_db(const char *path, const char *batch, int items)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	sqlite3_stmt *st[S_COUNT] = { 0 };
	struct job_spec js[JOBS_PER_ITEM];
	int64_t t0 = 1714564800LL * NS, batch_id, job_id = 0, alloc_id = 0, log_id = 0;
	int i, k, nj;

	if (db_open(path, DB_OPEN_CREATE, &db, &err) < 0) {
		fprintf(stderr, "gen-synthdb: %s\n", err.msg);
		return 1;
	}
	if (db_exec(db, "BEGIN", &err) < 0)
		goto fail;
	{
		sqlite3_stmt *b = NULL;

		if (db_prepare(db,
			       "INSERT INTO batch (name, created_at, updated_at, params, state, nomad_addr) "
			       "VALUES (?1, ?2, ?2, '{\"synthetic\":true}', 'done', 'http://127.0.0.1:4646') RETURNING id",
			       &b, &err) < 0)
			goto fail;
		sqlite3_bind_text(b, 1, batch, -1, SQLITE_STATIC);
		sqlite3_bind_int64(b, 2, t0);
		if (sqlite3_step(b) != SQLITE_ROW)
			return die_db(db, "batch");
		batch_id = sqlite3_column_int64(b, 0);
		sqlite3_finalize(b);
	}
	for (k = 0; k < S_COUNT; k++) {
		if (db_prepare(db, stmt_sql[k], &st[k], &err) < 0)
			goto fail;
	}
	for (i = 1; i <= items; i++) {
		struct item_plan p;
		char aoi[64], pjid[400];
		int64_t start = t0 + (int64_t)i * 20 * NS + rndn(10 * NS);
		int64_t pend = start + 1800 * NS + rndn(3600 * NS);
		int oom_job = 1 + (int)rndn(JOBS_PER_ITEM - 1);

		plan_item(&p);
		snprintf(aoi, sizeof(aoi), "aoi-%06d", i);
		nj = item_jobs(batch, aoi, js);
		snprintf(pjid, sizeof(pjid), "pipeline/dispatch-[%s]-%lld-%08llx", js[0].tags,
			 (long long)(start / NS), (unsigned long long)(rnd() & 0xffffffffu));
		sqlite3_bind_int64(st[S_ITEM], 1, i);
		sqlite3_bind_int64(st[S_ITEM], 2, batch_id);
		sqlite3_bind_text(st[S_ITEM], 3, aoi, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[S_ITEM], 4, start);
		step(db, st[S_ITEM]);
		sqlite3_bind_int64(st[S_ATTEMPT], 1, i);
		sqlite3_bind_text(st[S_ATTEMPT], 2, pjid, (int)(strchr(pjid, ']') - pjid + 2), SQLITE_STATIC);
		sqlite3_bind_int64(st[S_ATTEMPT], 3, start);
		sqlite3_bind_text(st[S_ATTEMPT], 4, pjid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st[S_ATTEMPT], 5, pend);
		sqlite3_bind_text(st[S_ATTEMPT], 6, p.fail_text || p.oom || p.lost ? "failed" : "success", -1,
				  SQLITE_STATIC);
		step(db, st[S_ATTEMPT]);

		for (k = 0; k < nj; k++) {
			char jid[400], aid[64], lpath[600], msg[200];
			const char *task = k == 0 ? "coordinator" : "processor";
			int pipeline = k == 0, lost_resched = !pipeline && rndn(100) == 0;
			int64_t js0 = pipeline ? start : start + 60 * NS + (pend - start) * k / (nj + 1);
			int64_t je = pipeline ? pend : js0 + 20 * NS + rndn(600 * NS);
			int oom = p.oom && k == oom_job, lost = pipeline && p.lost;
			int failed = oom || (p.fail_text && !pipeline && rndn(4) == 0);
			int ea, nalloc = lost_resched ? 2 : 1, l;

			if (pipeline)
				snprintf(jid, sizeof(jid), "%s", pjid);
			else
				snprintf(jid, sizeof(jid), "%s/dispatch-[%s]-%lld-%08llx", js[k].parent,
					 js[k].tags, (long long)(js0 / NS), (unsigned long long)(rnd() & 0xffffffffu));
			job_id++;
			sqlite3_bind_int64(st[S_JOB], 1, job_id);
			sqlite3_bind_int64(st[S_JOB], 2, batch_id);
			sqlite3_bind_text(st[S_JOB], 3, jid, -1, SQLITE_STATIC);
			sqlite3_bind_text(st[S_JOB], 4, js[k].parent, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st[S_JOB], 5, i);
			sqlite3_bind_text(st[S_JOB], 6, aoi, -1, SQLITE_STATIC);
			{
				const char *t = js[k].tags;
				const char *bs = strstr(t, "bench_src="), *cs = strstr(t, "cand_src=");
				const char *sc = strstr(t, "scenario="), *ca = strstr(t, "catchment=");

				if (bs)
					sqlite3_bind_text(st[S_JOB], 7, "ble-collection", -1, SQLITE_STATIC);
				else
					sqlite3_bind_null(st[S_JOB], 7);
				if (cs)
					sqlite3_bind_text(st[S_JOB], 8, "hand", -1, SQLITE_STATIC);
				else
					sqlite3_bind_null(st[S_JOB], 8);
				if (sc)
					sqlite3_bind_text(st[S_JOB], 9, sc + 9, 2, SQLITE_TRANSIENT);
				else
					sqlite3_bind_null(st[S_JOB], 9);
				if (ca)
					sqlite3_bind_text(st[S_JOB], 10, ca + 10, 7, SQLITE_TRANSIENT);
				else
					sqlite3_bind_null(st[S_JOB], 10);
			}
			sqlite3_bind_int64(st[S_JOB], 11, js0);
			sqlite3_bind_int64(st[S_JOB], 12, je);
			step(db, st[S_JOB]);

			for (ea = 0; ea < nalloc; ea++) {
				int last = ea == nalloc - 1;
				const char *status = !last ? "lost" : lost ? "lost" : failed ? "failed" : "complete";
				char next[64];

				alloc_id++;
				snprintf(aid, sizeof(aid), "%08llx-0000-4000-8000-%012llx",
					 (unsigned long long)alloc_id, (unsigned long long)job_id);
				snprintf(next, sizeof(next), "%08llx-0000-4000-8000-%012llx",
					 (unsigned long long)alloc_id + 1, (unsigned long long)job_id);
				sqlite3_bind_int64(st[S_ALLOC], 1, alloc_id);
				sqlite3_bind_text(st[S_ALLOC], 2, aid, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st[S_ALLOC], 3, job_id);
				sqlite3_bind_text(st[S_ALLOC], 4, js[k].parent, -1, SQLITE_STATIC);
				snprintf(msg, sizeof(msg), "node-%02d", (int)rndn(40));
				sqlite3_bind_text(st[S_ALLOC], 5, msg, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st[S_ALLOC], 6, status, -1, SQLITE_STATIC);
				sqlite3_bind_text(st[S_ALLOC], 7, last ? "run" : "stop", -1, SQLITE_STATIC);
				sqlite3_bind_int64(st[S_ALLOC], 8, js0 + ea * 5 * NS);
				sqlite3_bind_int64(st[S_ALLOC], 9, last ? je : js0 + ea * 5 * NS + 3 * NS);
				if (last)
					sqlite3_bind_null(st[S_ALLOC], 10);
				else
					sqlite3_bind_text(st[S_ALLOC], 10, next, -1, SQLITE_TRANSIENT);
				step(db, st[S_ALLOC]);
				/* Received, Started, Terminated (+ Task Setup for a third) */
				for (l = 0; l < 4; l++) {
					static const char *const types[] = { "Received", "Task Setup", "Started",
									     "Terminated" };
					int64_t at = js0 + ea * 5 * NS + l * NS;

					if (l == 1 && rndn(3) != 0)
						continue;
					if (l == 3 && !last)
						continue;
					if (l == 3)
						at = je;
					sqlite3_bind_int64(st[S_EVENT], 1, alloc_id);
					sqlite3_bind_text(st[S_EVENT], 2, task, -1, SQLITE_STATIC);
					sqlite3_bind_text(st[S_EVENT], 3, types[l], -1, SQLITE_STATIC);
					sqlite3_bind_int64(st[S_EVENT], 4, at);
					if (l == 3) {
						sqlite3_bind_int(st[S_EVENT], 5, oom ? 137 : failed ? 1 : 0);
						sqlite3_bind_int(st[S_EVENT], 6, oom);
						sqlite3_bind_text(st[S_EVENT], 7,
								  oom ? "OOM Killed" : failed ? "Exit Code: 1" : "Exit Code: 0", -1,
								  SQLITE_STATIC);
					} else {
						sqlite3_bind_null(st[S_EVENT], 5);
						sqlite3_bind_null(st[S_EVENT], 6);
						sqlite3_bind_null(st[S_EVENT], 7);
					}
					step(db, st[S_EVENT]);
				}
			}

			/* the log of the last allocation, and its findings */
			log_id++;
			snprintf(lpath, sizeof(lpath), "%s/%s/%s.stderr.0", batch, jid, task);
			sqlite3_bind_int64(st[S_LOG], 1, log_id);
			sqlite3_bind_int64(st[S_LOG], 2, batch_id);
			sqlite3_bind_int64(st[S_LOG], 3, job_id);
			sqlite3_bind_int64(st[S_LOG], 4, alloc_id);
			sqlite3_bind_text(st[S_LOG], 5, task, -1, SQLITE_STATIC);
			if (pipeline && p.log_gone) {
				sqlite3_bind_text(st[S_LOG], 6, "unavailable", -1, SQLITE_STATIC);
				sqlite3_bind_null(st[S_LOG], 7);
				sqlite3_bind_null(st[S_LOG], 8);
				sqlite3_bind_text(st[S_LOG], 9, "allocation garbage-collected before capture", -1,
						  SQLITE_STATIC);
			} else {
				sqlite3_bind_text(st[S_LOG], 6, "captured", -1, SQLITE_STATIC);
				sqlite3_bind_text(st[S_LOG], 7, lpath, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st[S_LOG], 8, 2000 + rndn(50000));
				sqlite3_bind_null(st[S_LOG], 9);
			}
			sqlite3_bind_int64(st[S_LOG], 10, je);
			step(db, st[S_LOG]);

#define FINDING(rule, cat, line, text) do { \
		sqlite3_bind_int64(st[S_FINDING], 1, log_id); \
		sqlite3_bind_text(st[S_FINDING], 2, (rule), -1, SQLITE_STATIC); \
		sqlite3_bind_int64(st[S_FINDING], 3, batch_id); \
		sqlite3_bind_int64(st[S_FINDING], 4, i); \
		sqlite3_bind_text(st[S_FINDING], 5, (cat), -1, SQLITE_STATIC); \
		sqlite3_bind_int64(st[S_FINDING], 6, (line)); \
		sqlite3_bind_text(st[S_FINDING], 7, (text), -1, SQLITE_TRANSIENT); \
		step(db, st[S_FINDING]); \
	} while (0)
			if (pipeline && !p.log_gone) {
				if (p.fail_text)
					FINDING("pipeline.failed", "failed", 40,
						"Pipeline FAILED: stage inundate failed for 3 of 54 jobs");
				else if (p.oom)
					FINDING("pipeline.job_error.job_status", "job_error", 38,
						"stage job ended with JobStatus.LOST");
				else if (p.early)
					FINDING("pipeline.early_exit", "early_exit", 12,
						"Pipeline exiting early: no flow scenarios for this AOI");
				else if (!p.lost)
					FINDING("pipeline.success", "success", 55,
						"Pipeline SUCCESS: 2/2 scenarios completed");
			} else if (!pipeline && p.fail_text) {
				int inund = strcmp(js[k].parent, "hand_inundator") == 0;

				for (l = 0; l < 12; l++) {
					int e = (int)rndn(5);

					snprintf(msg, sizeof(msg), "%s", inund ? errors_inundate[e] : errors_agr_mos[e]);
					if (inund)
						FINDING("hand_inundator.inundate_error", "inundate_error", 10 + l * 3, msg);
					else if (strcmp(js[k].parent, "agreement_maker") == 0)
						FINDING("agreement_maker.agr_mos_error", "agr_mos_error", 10 + l * 3, msg);
					else
						FINDING("fim_mosaicker.agr_mos_error", "agr_mos_error", 10 + l * 3, msg);
				}
			} else if (p.ignorable && strcmp(js[k].parent, "agreement_maker") == 0) {
				FINDING("agreement_maker.ignorable", "ignorable", 7,
					"Agreement map contains no valid data");
			}
		}
		if (i % 1000 == 0) {
			if (db_exec(db, "COMMIT; BEGIN", &err) < 0)
				goto fail;
		}
	}
	if (db_exec(db, "COMMIT", &err) < 0)
		goto fail;
	for (k = 0; k < S_COUNT; k++)
		sqlite3_finalize(st[k]);
	if (db_exec(db, "ANALYZE", &err) < 0)
		goto fail;
	db_close(db);
	return 0;
fail:
	fprintf(stderr, "gen-synthdb: %s\n", err.msg);
	for (k = 0; k < S_COUNT; k++)
		sqlite3_finalize(st[k]);
	db_close(db);
	return 1;
}

/* --- the log tree --- */

static int mkdirs(char *path)
{
	char *s;

	for (s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "gen-synthdb: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const noise[] = {
	"INFO: reading catchment data",
	"distributed.worker.memory - WARNING - Unmanaged memory use is high. This may indicate a memory leak",
	"INFO: writing output raster",
	"NotGeoreferencedWarning: Dataset has no geotransform",
	"INFO: done in 12.3 s",
	"WARNING: No matching forecast data for reach 1234",
};

static int gen_tree(const char *dir, const char *run_list, const char *batch, int items)
{
	struct job_spec js[JOBS_PER_ITEM];
	FILE *rl = fopen(run_list, "w");
	char *body = xmalloc(1 << 16);
	int i, k, l, nj;

	if (!rl) {
		fprintf(stderr, "gen-synthdb: cannot write '%s': %s\n", run_list, strerror(errno));
		return 1;
	}
	for (i = 1; i <= items; i++) {
		struct item_plan p;
		char aoi[64];
		long long ts = 1714564800LL + i * 20;

		plan_item(&p);
		snprintf(aoi, sizeof(aoi), "aoi-%06d", i);
		fprintf(rl, "%s\n", aoi);
		nj = item_jobs(batch, aoi, js);
		for (k = 0; k < nj; k++) {
			char d[1024], f[1100];
			const char *task = k == 0 ? "coordinator" : "processor";
			size_t n = 0;

			if (k == 0 && p.log_gone)
				continue;
			snprintf(d, sizeof(d), "%s/%s/dispatch-[%s]-%lld-%08llx", dir, js[k].parent, js[k].tags,
				 ts + k, (unsigned long long)(rnd() & 0xffffffffu));
			if (mkdirs(d) < 0) {
				fprintf(stderr, "gen-synthdb: cannot create '%s': %s\n", d, strerror(errno));
				return 1;
			}
			body[0] = '\0';
			for (l = 0; l < 40; l++) {
				const char *line = noise[rndn(6)];
				int inund = strcmp(js[k].parent, "hand_inundator") == 0;

				/* warnings each job's rules exclude, as real logs have */
				if (inund && (strstr(line, "Unmanaged") || strstr(line, "Georeferenced")))
					line = noise[5];
				else if (!inund && strstr(line, "forecast"))
					line = noise[0];
				n += (size_t)snprintf(body + n, 65536 - n, "%s\n", line);
			}
			if (k == 0) {
				const char *last = p.fail_text ? "Pipeline FAILED: stage inundate failed"
					: p.oom ? "stage job ended with JobStatus.LOST"
					: p.early ? "Pipeline exiting early: no flow scenarios"
					: p.lost ? "INFO: waiting for stage jobs"
					: "Pipeline SUCCESS: 2/2 scenarios completed";
				n += (size_t)snprintf(body + n, 65536 - n, "%s\n", last);
			} else if (p.fail_text && rndn(4) == 0) {
				n += (size_t)snprintf(body + n, 65536 - n, "%s\n",
						      strcmp(js[k].parent, "hand_inundator") == 0
							      ? errors_inundate[rndn(5)] : errors_agr_mos[rndn(5)]);
			} else if (p.ignorable && strcmp(js[k].parent, "agreement_maker") == 0) {
				n += (size_t)snprintf(body + n, 65536 - n,
						      "{\"level\": \"ERROR\", \"message\": \"Agreement map contains no valid data\"}\n");
			}
			snprintf(f, sizeof(f), "%s/%s.stderr.0", d, task);
			if (write_file(f, body) < 0)
				return 1;
			snprintf(f, sizeof(f), "%s/%s.stdout.0", d, task);
			if (write_file(f, "starting\n") < 0)
				return 1;
		}
	}
	free(body);
	return fclose(rl) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "items", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "logtree", required_argument, NULL, 't' },
		{ "run-list", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *db = NULL, *batch = "synth", *tree = NULL, *run_list = NULL;
	int items = 10000, c;
	int64_t seed = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'b': batch = optarg; break;
		case 't': tree = optarg; break;
		case 'r': run_list = optarg; break;
		case 'n':
			if (parse_int(optarg, 1, 1000000, &items) < 0) {
				fprintf(stderr, "gen-synthdb: --items takes 1 to 1000000\n");
				return 2;
			}
			break;
		case 's':
			if (parse_i64(optarg, 0, INT64_MAX, &seed) < 0) {
				fprintf(stderr, "gen-synthdb: --seed takes a whole number\n");
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: gen-synthdb --db PATH | --logtree DIR --run-list FILE "
					"[--items N] [--batch NAME] [--seed S]\n");
			return 2;
		}
	}
	if (seed)
		rng_state ^= (uint64_t)seed * 0x9e3779b97f4a7c15ULL;
	if (tree && run_list)
		return gen_tree(tree, run_list, batch, items);
	if (db)
		return gen_db(db, batch, items);
	fprintf(stderr, "usage: gen-synthdb --db PATH | --logtree DIR --run-list FILE [--items N] "
			"[--batch NAME] [--seed S]\n");
	return 2;
}
