/* Classification as data: the enabled rows of the `rule` table, compiled
 * once per run with PCRE2, turn the lines of a log into `finding` rows.
 *
 * Which rules apply to which log: the rules whose `job` is the log's job's
 * parent name (log.job_ref -> job.parent), plus the rules whose job is '*'.
 * The seeded upstream rules (migrations/0002_rules.sql, builtin = 1) are:
 *
 *   pipeline         success    'Pipeline SUCCESS'
 *                    early_exit 'Pipeline exiting early'
 *                    failed     'Pipeline FAILED'
 *                    job_error  'OOM', 'HTTPConnectionPool', 'BaseNomadException',
 *                               'JobStatus\.(LOST|STOPPED|CANCELLED)',
 *                               'botocore\.exceptions\.ClientError'
 *   agreement_maker, agr_mos_error 'error|warn' minus fifteen exclusions
 *   fim_mosaicker    ignorable     'Agreement map contains no valid data'
 *   hand_inundator   inundate_error 'error|warn' minus three exclusions
 *
 * Matching: every pattern is a Python-style regular expression compiled
 * with PCRE2 as UTF with Unicode properties, case-insensitive (as the
 * upstream reports match). A line is tested as is, or, when it is a JSON
 * object with a string `message` member, that member is tested. For one
 * line the categories success, early_exit, failed and job_error form one
 * chain in which the first matching include rule (by priority, then id)
 * wins, as upstream tests them with if/elif; every other category is
 * judged on its own (at most one finding per category per line). An
 * include rule does not count when an enabled exclude rule of the same job
 * and category matches the line. Only stderr logs are classified, as
 * upstream reads only `.stderr.N` files; stdout logs are marked classified
 * with no findings. */
#ifndef AEDB_CLASSIFY_H
#define AEDB_CLASSIFY_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/* Lines longer than this are classified on their first CLASSIFY_LINE_MAX
 * bytes; the finding keeps those bytes. */
#define CLASSIFY_LINE_MAX (1u << 20)

struct classifier;

struct classify_stats {
	int64_t logs;      /* log files read */
	int64_t lines;     /* lines read */
	int64_t findings;  /* finding rows inserted (not counting ones already there) */
	int64_t missing;   /* logs whose file could not be opened (reclassify) */
};

/* Compile the enabled rules of db. Fails (kind usage) naming the rule when
 * a pattern does not compile. The classifier keeps using db, which must
 * outlive it. On success *out owns it (classify_free). */
int classify_open(struct aedb_db *db, struct classifier **out, struct aedb_err *err);

/* Classify the log file at path as log row log_id: insert one finding per
 * matching line and rule (INSERT OR IGNORE on (log_ref, rule_ref, line_no),
 * so running it again adds nothing) and set log.classified_at. Runs in its
 * own transaction, or in a savepoint of the caller's. Returns 0, or -1 when
 * the log row does not exist, the file cannot be read or a write fails
 * (nothing of this log is then written). */
int classify_file(struct classifier *c, int64_t log_id, const char *path, struct aedb_err *err);

/* Counters since classify_open (may be read at any time). */
const struct classify_stats *classify_stats(const struct classifier *c);

/* Re-apply the current rules to every captured or imported log of a batch
 * whose file is readable, in one transaction: each log's findings are
 * deleted and made again. Imported logs are read at base/path; captured
 * logs at log_dir/path. A log whose file is gone keeps its findings and is
 * counted in stats->missing. */
int classify_reclassify_batch(struct classifier *c, int64_t batch_id, const char *log_dir,
			      struct aedb_err *err);

void classify_free(struct classifier *c);

#endif
