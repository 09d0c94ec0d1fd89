/* A client for the parts of Nomad's HTTP API aedb uses: dispatch, job
 * lookups by id prefix, summaries, and blocking queries. Errors are
 * classified so callers can decide: retry, reconcile, or stop the batch. */
#ifndef AEDB_NOMAD_H
#define AEDB_NOMAD_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "err.h"
#include "http.h"

struct nomad_config {
	const char *addr;      /* base URL; NULL: $NOMAD_ADDR, else http://localhost:4646 */
	const char *token;     /* ACL token (X-Nomad-Token), may be NULL; never printed */
	const char *ns;        /* namespace; NULL: $NOMAD_NAMESPACE, else "default" */
	const char *region;    /* may be NULL ($NOMAD_REGION) */
	struct http_client_opts http; /* TLS from NOMAD_CACERT, NOMAD_CLIENT_CERT, ... */
	const char *tls_server_name;  /* NOMAD_TLS_SERVER_NAME */
};

/* Fill every unset field of cfg from the Nomad CLI's environment variables. */
void nomad_config_from_env(struct nomad_config *cfg);

enum nomad_rc {
	NOMAD_OK = 0,
	NOMAD_TRANSIENT,  /* try again later: not sent, 429, 5xx on a read, no leader */
	NOMAD_UNKNOWN,    /* a write whose outcome is unknown: reconcile before retrying */
	NOMAD_REFUSED,    /* configuration: 403, unknown parent, meta not allowed: stop */
	NOMAD_NOT_FOUND,  /* 404 */
	NOMAD_BAD_REPLY,  /* not what Nomad answers (wrong address?) */
};

/* Blocking-query parameters and the answer's metadata. */
struct nomad_query {
	uint64_t index;  /* 0: answer at once */
	int wait_ms;     /* server-side wait when index > 0 (Nomad caps it at 300 s) */
};

struct nomad_qmeta {
	uint64_t index;       /* X-Nomad-Index */
	int known_leader;
	char next_token[512]; /* X-Nomad-NextToken, "" on the last page */
};

struct nomad;

int nomad_open(const struct nomad_config *cfg, struct nomad **out, struct aedb_err *err);
void nomad_close(struct nomad *n);
const char *nomad_addr(const struct nomad *n);

/* GET path (starting with /v1/, query may follow) and parse the JSON reply.
 * On NOMAD_OK *out owns the JSON (cJSON_Delete it). */
enum nomad_rc nomad_get(struct nomad *n, const char *path, const struct nomad_query *q,
			cJSON **out, struct nomad_qmeta *meta, struct aedb_err *err);

/* Is `parent` a registered parameterized job? NOMAD_OK if so; NOMAD_REFUSED
 * with a message if it is missing or not parameterized. */
enum nomad_rc nomad_check_parent(struct nomad *n, const char *parent, struct aedb_err *err);

/* Dispatch `parent` with meta (NULL-terminated key, value, key, value ...),
 * an IdPrefixTemplate and an idempotency token (both may be NULL). On
 * NOMAD_OK, *job_id and *eval_id are malloc'd. */
enum nomad_rc nomad_dispatch(struct nomad *n, const char *parent, const char *const *meta,
			     const char *id_prefix_template, const char *idempotency_token,
			     char **job_id, char **eval_id, struct aedb_err *err);

/* The first job whose id starts with prefix (NULL in *job_id when none). */
enum nomad_rc nomad_find_prefix(struct nomad *n, const char *prefix, char **job_id,
				struct aedb_err *err);

/* Pending + Running children of parent, from its summary (one small reply). */
enum nomad_rc nomad_children_active(struct nomad *n, const char *parent,
				    const struct nomad_query *q, int64_t *active,
				    struct nomad_qmeta *meta, struct aedb_err *err);

/* Number of jobs whose id starts with prefix and whose status is not dead
 * (a prefix list filtered on the server; pages followed). */
enum nomad_rc nomad_count_live(struct nomad *n, const char *prefix, const struct nomad_query *q,
			       int64_t *count, struct nomad_qmeta *meta, struct aedb_err *err);

/* GET /v1/job/<job><suffix> (suffix "", "/summary", "/allocations"). */
enum nomad_rc nomad_get_job(struct nomad *n, const char *job, const char *suffix,
			    const struct nomad_query *q, cJSON **out, struct nomad_qmeta *meta,
			    struct aedb_err *err);

/* GET path and hand the 2xx body to sink as it arrives (the event stream).
 * timeout_ms (0: none) bounds the whole request, idle_ms (0: none) the time
 * without any byte; either ends it with NOMAD_TRANSIENT. NOMAD_OK when the
 * server ended the stream; the sink returning -1, or tick (called about
 * once a second, may be NULL) returning non-zero, ends it too (the call
 * then returns NOMAD_TRANSIENT; the caller knows why). A
 * non-2xx reply is classified as for nomad_get. The request is abortable. */
enum nomad_rc nomad_stream(struct nomad *n, const char *path,
			   int (*sink)(void *ctx, const char *data, size_t len),
			   int (*tick)(void *ctx), void *ctx, long timeout_ms, long idle_ms,
			   struct aedb_err *err);

/* A task's log stream (type "stdout" or "stderr") of an allocation, plain
 * text from the start, into sink. NOMAD_NOT_FOUND (with Nomad's text in
 * err) when the allocation or its logs are gone or the task never started. */
enum nomad_rc nomad_logs(struct nomad *n, const char *alloc_id, const char *task,
			 const char *type, int (*sink)(void *ctx, const char *data, size_t len),
			 void *ctx, struct aedb_err *err);

/* The IdPrefixTemplate for tags, as upstream: "[k1=v1,k2=v2]". Keys and
 * values must not contain space, '/', '&', ',', '[', ']', '=' or ':' (checked). */
int nomad_tag_template(const char *const *kv, char **out, struct aedb_err *err);

/* Every job whose id starts with prefix (a paged prefix list, pages
 * followed), each stub handed to each(); each returning -1 stops the walk
 * (the call then returns NOMAD_OK). Stubs whose ID does not start with
 * prefix are skipped. */
enum nomad_rc nomad_list_jobs(struct nomad *n, const char *prefix,
			      int (*each)(void *ctx, const cJSON *stub), void *ctx,
			      struct aedb_err *err);

/* DELETE /v1/job/<job>?purge=true. On NOMAD_OK *gone is 1 when Nomad
 * answered as it does for a job it does not have (EvalID "" and
 * JobModifyIndex 0, Nomad 1.5.1+), else 0. A purge is idempotent, so
 * NOMAD_TRANSIENT (429, 5xx, not sent) and NOMAD_UNKNOWN (sent, no answer)
 * may both be retried. A 404 is a wrong route, never "already gone"
 * (NOMAD_BAD_REPLY); 403 is NOMAD_REFUSED. */
enum nomad_rc nomad_purge(struct nomad *n, const char *job, int *gone, struct aedb_err *err);

/* The value of gauge `name` (e.g. "nomad.runtime.alloc_bytes") in the last
 * finished interval of GET /v1/metrics, matched on Name only (the host is
 * a label). NOMAD_NOT_FOUND when the agent does not report it; a 500
 * before the first interval is NOMAD_TRANSIENT. */
enum nomad_rc nomad_metrics_gauge(struct nomad *n, const char *name, double *value,
				  struct aedb_err *err);

/* PUT /v1/system/gc: ask the leader for a forced garbage collection
 * (asynchronous on a real server). NOMAD_REFUSED on 403: it needs a
 * management token. */
enum nomad_rc nomad_system_gc(struct nomad *n, struct aedb_err *err);

#endif
