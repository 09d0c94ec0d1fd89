/* The simulator's HTTP surface: Nomad's /v1 endpoints of reference section
 * 13 (dispatch, jobs, summaries, allocations, stop/purge, client logs,
 * metrics, GC, leader, event stream) with their status codes, texts and
 * headers, plus the /sim control endpoints (truth, stats, faults, reset,
 * scenario). Faults and the ACL check run before routing; every request
 * is counted per endpoint with the bytes it returned. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "httpd.h"
#include "sim.h"
#include "sim_api.h"
#include "sim_filter.h"
#include "sim_json.h"
#include "util.h"

#define TEXT "text/plain; charset=utf-8"

static int str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void respond_jw(struct httpd_req *r, struct jw *w)
{
	size_t len;
	char *body;

	if (w->failed) {
		httpd_respond_text(r, 500, "response too large");
		return;
	}
	if (!w->b.data)
		buf_puts(&w->b, "", &(struct aedb_err)AEDB_ERR_INIT);
	body = buf_detach(&w->b, &len);
	httpd_respond_take(r, 200, "application/json", body, len);
}

static void read_headers(struct httpd_req *r, uint64_t index)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, index);
	httpd_add_header(r, "X-Nomad-Index", tmp);
	httpd_add_header(r, "X-Nomad-KnownLeader", "true");
	httpd_add_header(r, "X-Nomad-LastContact", "0");
}

static void index_header(struct httpd_req *r, uint64_t index)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, index);
	httpd_add_header(r, "X-Nomad-Index", tmp);
}

/* Go's time.ParseDuration for the forms clients send: "300000ms", "30s",
 * "5m", "1h", "1.5s", "1m30s". */
static int parse_go_duration(const char *s, int64_t *out_ns)
{
	double total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		double unit;

		if (end == s)
			return -1;
		s = end;
		if (strncmp(s, "ns", 2) == 0) { unit = 1; s += 2; }
		else if (strncmp(s, "us", 2) == 0) { unit = 1e3; s += 2; }
		else if (strncmp(s, "ms", 2) == 0) { unit = 1e6; s += 2; }
		else if (*s == 's') { unit = 1e9; s++; }
		else if (*s == 'm') { unit = 60e9; s++; }
		else if (*s == 'h') { unit = 3600e9; s++; }
		else return -1;
		total += v * unit;
	}
	*out_ns = (int64_t)total;
	return 0;
}

struct blocking {
	uint64_t index;
	int64_t deadline_mono;
};

/* Parse index/wait. Returns 0, or -1 after answering 400. */
static int blocking_parse(struct httpd_req *r, struct blocking *b)
{
	const char *ix = httpd_req_query(r, "index");
	const char *wt = httpd_req_query(r, "wait");
	int64_t wait_ns = (int64_t)SIM_WAIT_MAX_S * 1000000000;
	int64_t v;

	b->index = 0;
	if (ix && *ix) {
		if (parse_i64(ix, 0, INT64_MAX, &v) != 0) {
			httpd_respond_text(r, 400, "Invalid index");
			return -1;
		}
		b->index = (uint64_t)v;
	}
	if (wt && *wt) {
		if (parse_go_duration(wt, &wait_ns) != 0 || wait_ns < 0) {
			httpd_respond_text(r, 400, "Invalid wait time");
			return -1;
		}
		if (wait_ns > (int64_t)SIM_WAIT_MAX_S * 1000000000)
			wait_ns = (int64_t)SIM_WAIT_MAX_S * 1000000000;
	}
	b->deadline_mono = aedb_mono_ns() + wait_ns;
	return 0;
}

/* With the lock held: wait until cur(s, arg) > b->index or the deadline. */
static uint64_t blocking_wait(struct sim *s, const struct blocking *b,
			      uint64_t (*cur)(struct sim *s, const void *arg), const void *arg)
{
	for (;;) {
		uint64_t c = cur(s, arg);
		int64_t left = b->deadline_mono - aedb_mono_ns();
		struct timespec ts;
		int64_t abs_ns;

		if (b->index == 0 || c > b->index || left <= 0 || s->stopping)
			return c;
		abs_ns = aedb_now_ns() + left;
		ts.tv_sec = (time_t)(abs_ns / 1000000000);
		ts.tv_nsec = (long)(abs_ns % 1000000000);
		pthread_cond_timedwait(&s->changed, &s->lock, &ts);
	}
}

static struct sim_job *find_job(struct sim *s, const char *id)
{
	return sim_index_get(&s->jobs, id);
}

static uint64_t idx_job(struct sim *s, const void *id)
{
	struct sim_job *j = find_job(s, id);

	return j ? j->modify_index : s->jobs_index;
}

static uint64_t idx_summary(struct sim *s, const void *id)
{
	struct sim_job *j = find_job(s, id);

	return j ? j->summary_index : s->jobs_index;
}

static uint64_t idx_jobs(struct sim *s, const void *arg)
{
	return s->jobs_index;
}

static uint64_t idx_allocs(struct sim *s, const void *arg)
{
	return s->allocs_index;
}

static uint64_t idx_alloc(struct sim *s, const void *id)
{
	struct sim_alloc *a = sim_index_get(&s->allocs, id);

	return a ? a->modify_index : s->allocs_index;
}

static int other_namespace(struct httpd_req *r)
{
	const char *ns = httpd_req_query(r, "namespace");

	return ns && *ns && strcmp(ns, "default") != 0 && strcmp(ns, "*") != 0;
}

/* ---------- jobs ---------- */

/* GET of one job's object (the job, its summary): a blocking read on the
 * given index, 404 "job not found" for an unknown job, else render. */
static void job_object(struct sim *s, struct httpd_req *r, const char *id,
		       uint64_t (*index)(struct sim *, const void *),
		       void (*render)(struct sim *, struct jw *, const char *,
				      const struct sim_job *))
{
	struct blocking b;
	struct sim_job *j;
	struct jw w;
	uint64_t ix;

	if (blocking_parse(r, &b) != 0)
		return;
	pthread_mutex_lock(&s->lock);
	ix = blocking_wait(s, &b, index, id);
	j = find_job(s, id);
	read_headers(r, ix);
	if (!j || other_namespace(r)) {
		pthread_mutex_unlock(&s->lock);
		httpd_respond_text(r, 404, "job not found");
		return;
	}
	jw_init(&w, SIM_RESPONSE_MAX);
	render(s, &w, NULL, j);
	pthread_mutex_unlock(&s->lock);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_job_get(struct sim *s, struct httpd_req *r, const char *id)
{
	job_object(s, r, id, idx_job, sim_render_job);
}

static void h_summary(struct sim *s, struct httpd_req *r, const char *id)
{
	job_object(s, r, id, idx_summary, sim_render_summary);
}

static void h_job_allocs(struct sim *s, struct httpd_req *r, const char *id)
{
	struct blocking b;
	struct sim_job *j;
	struct sim_alloc *a, *list[64];
	size_t n = 0, i;
	struct jw w;
	uint64_t ix;

	if (blocking_parse(r, &b) != 0)
		return;
	pthread_mutex_lock(&s->lock);
	ix = blocking_wait(s, &b, idx_allocs, NULL);
	j = find_job(s, id);
	read_headers(r, ix);
	jw_init(&w, SIM_RESPONSE_MAX);
	jw_arr(&w, NULL);
	if (j && !other_namespace(r)) {
		/* oldest first, as the state store's job index returns them */
		for (a = j->allocs; a && n < 64; a = a->job_next)
			list[n++] = a;
		for (i = n; i > 0; i--)
			sim_render_alloc(s, &w, NULL, list[i - 1], 0, 1);
	}
	jw_arr_end(&w);
	pthread_mutex_unlock(&s->lock);
	respond_jw(r, &w);
	jw_release(&w);
}

static int job_field(const void *obj, const char *field, const char *key, struct fval *out)
{
	const struct sim_job *j = obj;
	static struct sim_job dummy;

	if (!j)
		j = &dummy;
	out->type = FV_STR;
	if (strcmp(field, "Meta") == 0) {
		if (!key) {
			out->type = FV_MAP;
			out->map = j->meta;
			out->map_len = j->meta_len;
			return 0;
		}
		out->s = obj ? sim_meta_get(j, key) : NULL;
		if (!out->s)
			out->type = FV_MISSING;
		return 0;
	}
	if (key)
		return -1;
	if (strcmp(field, "ID") == 0 || strcmp(field, "Name") == 0)
		out->s = j->id ? j->id : "";
	else if (strcmp(field, "ParentID") == 0)
		out->s = j->parent ? j->parent->id : "";
	else if (strcmp(field, "Status") == 0)
		out->s = sim_job_status_name(j->status);
	else if (strcmp(field, "Type") == 0)
		out->s = "batch";
	else if (strcmp(field, "Namespace") == 0)
		out->s = "default";
	else if (strcmp(field, "NodePool") == 0)
		out->s = "default";
	else if (strcmp(field, "Region") == 0)
		out->s = "global";
	else if (strcmp(field, "StatusDescription") == 0)
		out->s = "";
	else if (strcmp(field, "DispatchIdempotencyToken") == 0)
		out->s = j->idem_token ? strchr(j->idem_token, 1) + 1 : "";
	else if (strcmp(field, "Dispatched") == 0) {
		out->type = FV_BOOL;
		out->i = j->parent != NULL;
	} else if (strcmp(field, "Stop") == 0) {
		out->type = FV_BOOL;
		out->i = j->stop;
	} else if (strcmp(field, "Priority") == 0) {
		out->type = FV_INT;
		out->i = j->priority;
	} else if (strcmp(field, "SubmitTime") == 0) {
		out->type = FV_INT;
		out->i = j->submit_time;
	} else if (strcmp(field, "CreateIndex") == 0 || strcmp(field, "ModifyIndex") == 0 ||
		   strcmp(field, "JobModifyIndex") == 0) {
		out->type = FV_INT;
		out->i = (int64_t)(field[0] == 'C' ? j->create_index : field[0] == 'M'
				   ? j->modify_index : j->job_modify_index);
	} else
		return -1;
	return 0;
}

static const struct sim_filter_target job_target = { job_field, "structs.Job" };

static int alloc_field(const void *obj, const char *field, const char *key, struct fval *out)
{
	const struct sim_alloc *a = obj;

	if (key)
		return -1;
	out->type = FV_STR;
	out->s = "";
	if (strcmp(field, "ID") == 0)
		out->s = a ? a->id : "";
	else if (strcmp(field, "JobID") == 0)
		out->s = a ? a->job->id : "";
	else if (strcmp(field, "ClientStatus") == 0)
		out->s = a ? sim_client_status_name(a->client_status) : "";
	else if (strcmp(field, "DesiredStatus") == 0)
		out->s = a ? (a->desired_status == DS_STOP ? "stop" : "run") : "";
	else if (strcmp(field, "TaskGroup") == 0)
		out->s = a ? sim_kind_task[a->job->kind] : "";
	else if (strcmp(field, "Namespace") == 0)
		out->s = "default";
	else if (strcmp(field, "JobType") == 0)
		out->s = "batch";
	else if (strcmp(field, "NextAllocation") == 0)
		out->s = a && a->next_alloc ? a->next_alloc->id : "";
	else
		return -1;
	return 0;
}

static const struct sim_filter_target alloc_target = { alloc_field, "structs.Allocation" };

static int parse_filter(struct httpd_req *r, const struct sim_filter_target *t,
			struct sim_filter **out)
{
	const char *f = httpd_req_query(r, "filter");
	char err[512], *msg;

	*out = NULL;
	if (!f || !*f)
		return 0;
	if (sim_filter_parse(f, t, out, err, sizeof(err)) != 0) {
		msg = xasprintf("failed to create result paginator: failed to read filter expression: %s",
				err);
		httpd_respond_text(r, 400, msg);
		free(msg);
		return -1;
	}
	return 0;
}

static int parse_per_page(struct httpd_req *r, int64_t *per_page)
{
	const char *pp = httpd_req_query(r, "per_page");

	*per_page = 0;
	if (pp && *pp && parse_i64(pp, INT32_MIN, INT32_MAX, per_page) != 0) {
		httpd_respond_text(r, 400, "Expect a number for `per_page` query string parameter");
		return -1;
	}
	return 0;
}

static int parse_bool_param(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "") == 0 ||
		     strcmp(v, "t") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0);
}

static void h_jobs(struct sim *s, struct httpd_req *r)
{
	struct blocking b;
	struct sim_filter *f = NULL;
	const char *prefix = httpd_req_query(r, "prefix");
	const char *token = httpd_req_query(r, "next_token");
	int meta = parse_bool_param(httpd_req_query(r, "meta"));
	int64_t per_page;
	struct sim_index_node *n;
	const char *start;
	struct jw w;
	int64_t count = 0;
	char *next = NULL;
	uint64_t ix;

	if (!prefix)
		prefix = "";
	if (parse_per_page(r, &per_page) != 0 || blocking_parse(r, &b) != 0 ||
	    parse_filter(r, &job_target, &f) != 0)
		return;
	if (token && str_starts(token, "default."))
		token += strlen("default.");
	start = token && strcmp(token, prefix) > 0 ? token : prefix;
	pthread_mutex_lock(&s->lock);
	ix = blocking_wait(s, &b, idx_jobs, NULL);
	read_headers(r, ix);
	jw_init(&w, SIM_RESPONSE_MAX);
	jw_arr(&w, NULL);
	if (!other_namespace(r)) {
		for (n = sim_index_seek(&s->jobs, start); n; n = n->next[0]) {
			struct sim_job *j = n->value;

			if (!str_starts(n->key, prefix))
				break;
			if (f && !sim_filter_match(f, j))
				continue;
			if (per_page > 0 && count == per_page) {
				next = xasprintf("default.%s", j->id);
				break;
			}
			sim_render_job_stub(s, &w, j, meta);
			count++;
		}
	}
	jw_arr_end(&w);
	pthread_mutex_unlock(&s->lock);
	if (next) {
		httpd_add_header(r, "X-Nomad-NextToken", next);
		free(next);
	}
	sim_filter_free(f);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_allocs(struct sim *s, struct httpd_req *r)
{
	struct blocking b;
	struct sim_filter *f = NULL;
	const char *prefix = httpd_req_query(r, "prefix");
	const char *token = httpd_req_query(r, "next_token");
	const char *ts = httpd_req_query(r, "task_states");
	int task_states = !ts || parse_bool_param(ts);
	int64_t per_page, count = 0;
	char *next = NULL;
	struct jw w;
	uint64_t ix;

	if (parse_per_page(r, &per_page) != 0 || blocking_parse(r, &b) != 0 ||
	    parse_filter(r, &alloc_target, &f) != 0)
		return;
	pthread_mutex_lock(&s->lock);
	ix = blocking_wait(s, &b, idx_allocs, NULL);
	read_headers(r, ix);
	jw_init(&w, SIM_RESPONSE_MAX);
	jw_arr(&w, NULL);
	if (other_namespace(r)) {
		/* nothing in other namespaces */
	} else if (prefix && *prefix) {
		struct sim_index_node *n;
		const char *start = token && strcmp(token, prefix) > 0 ? token : prefix;

		for (n = sim_index_seek(&s->allocs, start); n; n = n->next[0]) {
			if (!str_starts(n->key, prefix))
				break;
			if (f && !sim_filter_match(f, n->value))
				continue;
			if (per_page > 0 && count == per_page) {
				next = xstrdup(n->key);
				break;
			}
			sim_render_alloc(s, &w, NULL, n->value, 0, task_states);
			count++;
		}
	} else {
		struct sim_alloc *a;
		uint64_t tok_ix = 0;
		const char *tok_id = "";

		if (token && *token) {
			int64_t v;
			const char *dot = strchr(token, '.');
			char *num = xstrndup(token, dot ? (size_t)(dot - token) : strlen(token));

			if (parse_i64(num, 0, INT64_MAX, &v) == 0)
				tok_ix = (uint64_t)v;
			free(num);
			tok_id = dot ? dot + 1 : "";
		}
		for (a = s->alloc_head; a; a = a->all_next) {
			if (token && *token &&
			    (a->create_index < tok_ix ||
			     (a->create_index == tok_ix && strcmp(a->id, tok_id) < 0)))
				continue;
			if (f && !sim_filter_match(f, a))
				continue;
			if (per_page > 0 && count == per_page) {
				next = xasprintf("%" PRIu64 ".%s", a->create_index, a->id);
				break;
			}
			sim_render_alloc(s, &w, NULL, a, 0, task_states);
			count++;
		}
	}
	jw_arr_end(&w);
	pthread_mutex_unlock(&s->lock);
	if (next) {
		httpd_add_header(r, "X-Nomad-NextToken", next);
		free(next);
	}
	sim_filter_free(f);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_alloc(struct sim *s, struct httpd_req *r, const char *id)
{
	struct blocking b;
	struct sim_alloc *a;
	struct jw w;
	uint64_t ix;

	if (blocking_parse(r, &b) != 0)
		return;
	pthread_mutex_lock(&s->lock);
	ix = blocking_wait(s, &b, idx_alloc, id);
	a = sim_index_get(&s->allocs, id);
	read_headers(r, ix);
	if (!a) {
		pthread_mutex_unlock(&s->lock);
		httpd_respond_text(r, 404, "alloc not found");
		return;
	}
	jw_init(&w, SIM_RESPONSE_MAX);
	sim_render_alloc(s, &w, NULL, a, 1, 1);
	pthread_mutex_unlock(&s->lock);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_delete(struct sim *s, struct httpd_req *r, const char *id)
{
	const char *purge_s = httpd_req_query(r, "purge");
	int purge = 0;
	struct sim_job *j;
	char eval[37] = "";
	struct jw w;
	uint64_t ix = 0;

	if (purge_s && *purge_s) {
		if (strcmp(purge_s, "true") == 0 || strcmp(purge_s, "1") == 0 ||
		    strcmp(purge_s, "t") == 0 || strcmp(purge_s, "T") == 0 ||
		    strcmp(purge_s, "TRUE") == 0 || strcmp(purge_s, "True") == 0) {
			purge = 1;
		} else if (!(strcmp(purge_s, "false") == 0 || strcmp(purge_s, "0") == 0 ||
			     strcmp(purge_s, "f") == 0 || strcmp(purge_s, "F") == 0 ||
			     strcmp(purge_s, "FALSE") == 0 || strcmp(purge_s, "False") == 0)) {
			char *msg = xasprintf("Failed to parse value of \"purge\" (%s) as a bool: strconv.ParseBool: parsing \"%s\": invalid syntax",
					      purge_s, purge_s);

			httpd_respond_text(r, 500, msg);
			free(msg);
			return;
		}
	}
	pthread_mutex_lock(&s->lock);
	j = other_namespace(r) ? NULL : find_job(s, id);
	if (j) {
		if (j->parent)
			sim_uuid(s, eval);
		if (purge)
			sim_purge_job(s, j, 0);
		else
			sim_stop_job(s, j);
		ix = s->index;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	index_header(r, ix);
	jw_init(&w, 4096);
	jw_obj(&w, NULL);
	jw_str(&w, "EvalID", eval);
	jw_uint(&w, "EvalCreateIndex", eval[0] ? ix : 0);
	jw_uint(&w, "JobModifyIndex", ix);
	jw_str(&w, "VolumeEvalID", "");
	jw_uint(&w, "VolumeEvalIndex", 0);
	jw_uint(&w, "Index", ix);
	jw_int(&w, "LastContact", 0);
	jw_bool(&w, "KnownLeader", 0);
	jw_str(&w, "NextToken", "");
	jw_obj_end(&w);
	respond_jw(r, &w);
	jw_release(&w);
}

/* ---------- dispatch ---------- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Standard base64 with padding, as Go's encoding/json decodes []byte.
 * Returns decoded length or -1 with *bad = offending byte offset. */
static long b64decode(const char *in, unsigned char *out, size_t *bad)
{
	size_t n = strlen(in), i, o = 0;

	if (n % 4) {
		*bad = n - n % 4;
		return -1;
	}
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) {
				*bad = i + k;
				return -1;
			}
			v[k] = b64val((unsigned char)in[i + k]);
			if (v[k] < 0) {
				*bad = i + k;
				return -1;
			}
		}
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (pad < 2)
			out[o++] = (unsigned char)((v[1] << 4) | (v[2] >> 2));
		if (pad < 1)
			out[o++] = (unsigned char)((v[2] << 6) | v[3]);
	}
	return (long)o;
}

static int in_list(const char *const *l, const char *k)
{
	for (; l && *l; l++)
		if (strcmp(*l, k) == 0)
			return 1;
	return 0;
}

static void dispatch_response(struct httpd_req *r, const char *id, const char *eval,
			      uint64_t eval_ix, uint64_t job_ix, uint64_t ix)
{
	struct jw w;

	index_header(r, ix);
	jw_init(&w, 65536);
	jw_obj(&w, NULL);
	jw_str(&w, "DispatchedJobID", id);
	jw_str(&w, "EvalID", eval);
	jw_uint(&w, "EvalCreateIndex", eval_ix);
	jw_uint(&w, "JobCreateIndex", job_ix);
	jw_uint(&w, "Index", ix);
	jw_obj_end(&w);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_dispatch(struct sim *s, struct httpd_req *r, const char *parent_id)
{
	size_t blen;
	const char *body = httpd_req_body(r, &blen);
	cJSON *root = NULL;
	const cJSON *meta, *jid, *pl, *tmpl_j, *prio_j, *it;
	unsigned char *payload = NULL;
	long payload_len = 0;
	struct buf bad, missing, packed;
	struct aedb_err err = AEDB_ERR_INIT;
	const char *token = httpd_req_query(r, "idempotency_token");
	struct sim_job *p, *j;
	int priority = 0, drop = 0;
	char eval[37], *msg = NULL;

	buf_init(&bad, 65536, "meta keys");
	buf_init(&missing, 65536, "meta keys");
	buf_init(&packed, SIM_META_MAX, "dispatch meta");
	if (blen == 0) {
		httpd_respond_text(r, 400, "Request body is empty");
		goto out;
	}
	root = cJSON_ParseWithLength(body, blen);
	if (!root) {
		const char *e = cJSON_GetErrorPtr();

		msg = xasprintf("invalid character '%c' looking for beginning of value",
				e && *e ? *e : ' ');
		httpd_respond_text(r, 400, msg);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		httpd_respond_text(r, 400, "json: cannot unmarshal value into Go value of type structs.JobDispatchRequest");
		goto out;
	}
	jid = cJSON_GetObjectItem(root, "JobID");
	if (cJSON_IsString(jid) && *jid->valuestring && strcmp(jid->valuestring, parent_id) != 0) {
		httpd_respond_text(r, 400, "Job ID does not match");
		goto out;
	}
	pl = cJSON_GetObjectItem(root, "Payload");
	if (cJSON_IsString(pl) && *pl->valuestring) {
		size_t badpos = 0;

		payload = xmalloc(strlen(pl->valuestring) + 3);
		payload_len = b64decode(pl->valuestring, payload, &badpos);
		if (payload_len < 0) {
			msg = xasprintf("illegal base64 data at input byte %zu", badpos);
			httpd_respond_text(r, 400, msg);
			goto out;
		}
	}
	meta = cJSON_GetObjectItem(root, "Meta");
	for (it = meta ? meta->child : NULL; it; it = it->next) {
		if (!cJSON_IsString(it)) {
			msg = xasprintf("json: cannot unmarshal %s into Go struct field JobDispatchRequest.Meta of type string",
					cJSON_IsNumber(it) ? "number" : cJSON_IsBool(it) ? "bool" : "object");
			httpd_respond_text(r, 400, msg);
			goto out;
		}
	}
	prio_j = cJSON_GetObjectItem(root, "Priority");
	if (cJSON_IsNumber(prio_j))
		priority = prio_j->valueint;
	tmpl_j = cJSON_GetObjectItem(root, "IdPrefixTemplate");

	pthread_mutex_lock(&s->lock);
	p = other_namespace(r) ? NULL : find_job(s, parent_id);
	if (!p) {
		pthread_mutex_unlock(&s->lock);
		httpd_respond_text(r, 500, "parameterized job not found");
		goto out;
	}
	if (p->parent) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Specified job \"%s\" is not a parameterized job", parent_id);
		httpd_respond_text(r, 500, msg);
		goto out;
	}
	if (p->stop) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Specified job \"%s\" is stopped", parent_id);
		httpd_respond_text(r, 500, msg);
		goto out;
	}
	if (payload_len > SIM_PAYLOAD_MAX) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Payload exceeds maximum size; %ld > %d", payload_len, SIM_PAYLOAD_MAX);
		httpd_respond_text(r, 500, msg);
		goto out;
	}
	for (it = meta ? meta->child : NULL; it; it = it->next) {
		if (!in_list(p->meta_required, it->string) && !in_list(p->meta_optional, it->string))
			buf_printf(&bad, &err, "%s%s", bad.len ? " " : "", it->string);
		buf_append(&packed, it->string, strlen(it->string) + 1, &err);
		buf_append(&packed, it->valuestring, strlen(it->valuestring) + 1, &err);
	}
	if (bad.len) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Dispatch request included unpermitted metadata keys: [%s]",
				buf_str(&bad));
		httpd_respond_text(r, 500, msg);
		goto out;
	}
	for (const char *const *k = p->meta_required; *k; k++)
		if (!cJSON_GetObjectItemCaseSensitive(meta, *k))
			buf_printf(&missing, &err, "%s%s", missing.len ? " " : "", *k);
	if (missing.len) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Dispatch did not provide required meta keys: [%s]",
				buf_str(&missing));
		httpd_respond_text(r, 500, msg);
		goto out;
	}
	if (err.kind != AEDB_E_NONE) {
		pthread_mutex_unlock(&s->lock);
		httpd_respond_text(r, 500, err.msg);
		goto out;
	}
	if (priority != 0 && (priority < 1 || priority > 100)) {
		pthread_mutex_unlock(&s->lock);
		httpd_respond_text(r, 500, "dispatch job priority must be between [1, 100]");
		goto out;
	}
	if (token && *token) {
		char *key = xasprintf("%s\x01%s", p->id, token);

		j = sim_index_get(&s->tokens, key);
		free(key);
		if (j) {
			char *id = xstrdup(j->id);
			uint64_t cix = j->create_index, mix = j->modify_index;

			pthread_mutex_unlock(&s->lock);
			dispatch_response(r, id, "", 0, cix, mix);
			free(id);
			goto out;
		}
	}
	drop = s->faults.p_dispatch_drop > 0 &&
	       (double)(sim_rand(s) >> 11) / 9007199254740992.0 < s->faults.p_dispatch_drop;
	j = sim_dispatch(s, p, packed.data, packed.len, (const char *)payload,
			 payload_len > 0 ? (size_t)payload_len : 0,
			 cJSON_IsString(tmpl_j) ? tmpl_j->valuestring : NULL, token, priority);
	sim_uuid_fmt(j->eval_id, eval);
	{
		char *id = xstrdup(j->id);
		uint64_t ix = j->create_index;

		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		if (drop)
			httpd_drop(r);
		else
			dispatch_response(r, id, eval, ix, ix, ix);
		free(id);
	}
out:
	free(msg);
	free(payload);
	buf_release(&bad);
	buf_release(&missing);
	buf_release(&packed);
	cJSON_Delete(root);
}

/* ---------- logs ---------- */

static void h_logs(struct sim *s, struct httpd_req *r, const char *alloc_id)
{
	const char *task = httpd_req_query(r, "task");
	const char *type = httpd_req_query(r, "type");
	const char *origin = httpd_req_query(r, "origin");
	const char *offset_s = httpd_req_query(r, "offset");
	const char *plain_s = httpd_req_query(r, "plain");
	int64_t offset = 0;
	int plain = 0;
	struct sim_alloc *a;
	char *text = NULL, *msg = NULL;
	size_t len = 0, start;

	if (!task || !*task) {
		httpd_respond_text(r, 400, "must provide task name");
		return;
	}
	if (!type || (strcmp(type, "stdout") != 0 && strcmp(type, "stderr") != 0)) {
		httpd_respond_text(r, 400, "must provide log type (stdout/stderr)");
		return;
	}
	if (origin && *origin && strcmp(origin, "start") != 0 && strcmp(origin, "end") != 0) {
		httpd_respond_text(r, 400, "origin must be start or end");
		return;
	}
	if (offset_s && *offset_s && parse_i64(offset_s, INT64_MIN, INT64_MAX, &offset) != 0) {
		msg = xasprintf("error parsing offset: strconv.ParseInt: parsing \"%s\": invalid syntax",
				offset_s);
		httpd_respond_text(r, 400, msg);
		free(msg);
		return;
	}
	if (plain_s && *plain_s) {
		if (strcmp(plain_s, "true") == 0 || strcmp(plain_s, "1") == 0)
			plain = 1;
		else if (strcmp(plain_s, "false") != 0 && strcmp(plain_s, "0") != 0) {
			msg = xasprintf("failed to parse plain field to boolean: strconv.ParseBool: parsing \"%s\": invalid syntax",
					plain_s);
			httpd_respond_text(r, 400, msg);
			free(msg);
			return;
		}
	}
	pthread_mutex_lock(&s->lock);
	a = sim_index_get(&s->allocs, alloc_id);
	if (!a) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("Unknown allocation \"%s\"", alloc_id);
		httpd_respond_text(r, 404, msg);
		free(msg);
		return;
	}
	if (a->logs_gone || (s->faults.p_log_404 > 0 &&
			     (double)(sim_rand(s) >> 11) / 9007199254740992.0 < s->faults.p_log_404)) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("state for allocation %s not found on client", alloc_id);
		httpd_respond_text(r, 404, msg);
		free(msg);
		return;
	}
	if (strcmp(task, sim_kind_task[a->job->kind]) != 0) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("unknown task name \"%s\"", task);
		httpd_respond_text(r, 400, msg);
		free(msg);
		return;
	}
	if (a->started_at == 0) {
		pthread_mutex_unlock(&s->lock);
		msg = xasprintf("task \"%s\" not started yet. No logs available", task);
		httpd_respond_text(r, 404, msg);
		free(msg);
		return;
	}
	text = sim_render_log(s, a, strcmp(type, "stderr") == 0, &len);
	pthread_mutex_unlock(&s->lock);
	if (origin && strcmp(origin, "end") == 0)
		start = offset >= (int64_t)len ? 0 : len - (size_t)(offset < 0 ? 0 : offset);
	else
		start = offset <= 0 ? 0 : offset >= (int64_t)len ? len : (size_t)offset;
	if (plain) {
		httpd_respond(r, 200, TEXT, text + start, len - start);
	} else {
		struct buf out;
		struct aedb_err err = AEDB_ERR_INIT;
		size_t pos = start;

		buf_init(&out, SIM_RESPONSE_MAX, "log frames");
		while (pos < len) {
			size_t n = len - pos > 65536 ? 65536 : len - pos;
			static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
			const unsigned char *in = (const unsigned char *)text + pos;
			size_t i;

			buf_printf(&out, &err, "{\"Offset\":%zu,\"Data\":\"", pos + n);
			for (i = 0; i + 2 < n; i += 3) {
				char q[4] = { tbl[in[i] >> 2], tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)],
					      tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)],
					      tbl[in[i + 2] & 63] };

				buf_append(&out, q, 4, &err);
			}
			if (n - i == 1) {
				char q[4] = { tbl[in[i] >> 2], tbl[(in[i] & 3) << 4], '=', '=' };

				buf_append(&out, q, 4, &err);
			} else if (n - i == 2) {
				char q[4] = { tbl[in[i] >> 2], tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)],
					      tbl[(in[i + 1] & 15) << 2], '=' };

				buf_append(&out, q, 4, &err);
			}
			buf_printf(&out, &err, "\",\"File\":\"alloc/logs/%s.%s.0\"}", task, type);
			pos += n;
		}
		if (!out.data)
			buf_puts(&out, "", &err);
		len = out.len;
		httpd_respond_take(r, 200, "application/json", buf_detach(&out, NULL), len);
	}
	free(text);
}

/* ---------- metrics, gc, leader ---------- */

static void h_metrics(struct sim *s, struct httpd_req *r)
{
	const char *fmt = httpd_req_query(r, "format");
	struct jw w;
	char stamp[64];
	time_t t = (time_t)(sim_now(s) / 1000000000);
	struct tm tm;
	int64_t gauge, jobs, allocs;

	if (fmt && strcmp(fmt, "prometheus") == 0) {
		httpd_respond_text(r, 415, "Prometheus is not enabled");
		return;
	}
	t -= t % 10; /* the last finished 10 s interval */
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	pthread_mutex_lock(&s->lock);
	gauge = sim_gauge_alloc_bytes(s);
	jobs = (int64_t)s->jobs.count;
	allocs = (int64_t)s->allocs.count;
	pthread_mutex_unlock(&s->lock);
	jw_init(&w, 65536);
	jw_obj(&w, NULL);
	jw_str(&w, "Timestamp", stamp);
	jw_arr(&w, "Gauges");
	{
		struct { const char *name; double v; } g[] = {
			{ "nomad.runtime.alloc_bytes", (double)gauge },
			{ "nomad.runtime.sys_bytes", (double)gauge * 1.5 },
			{ "nomad.runtime.heap_objects", (double)(jobs * 40 + allocs * 60 + 100000) },
			{ "nomad.runtime.num_goroutines", 200.0 },
			{ "nomad.nomad.job_summary.running", 0.0 },
		};
		size_t i;

		for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
			jw_obj(&w, NULL);
			jw_str(&w, "Name", g[i].name);
			jw_dbl(&w, "Value", (double)(float)g[i].v);
			jw_obj(&w, "Labels");
			jw_str(&w, "host", "nomad-sim");
			jw_obj_end(&w);
			jw_obj_end(&w);
		}
	}
	jw_arr_end(&w);
	jw_arr(&w, "Points");
	jw_arr_end(&w);
	jw_arr(&w, "Counters");
	jw_arr_end(&w);
	jw_arr(&w, "Samples");
	jw_arr_end(&w);
	jw_obj_end(&w);
	respond_jw(r, &w);
	jw_release(&w);
}

/* ---------- control endpoints ---------- */

static void h_truth(struct sim *s, struct httpd_req *r)
{
	const char *prefix = httpd_req_query(r, "prefix");
	struct sim_job *j;
	struct jw w;

	jw_init(&w, SIM_RESPONSE_MAX);
	pthread_mutex_lock(&s->lock);
	jw_obj(&w, NULL);
	jw_uint(&w, "Dispatched", s->ndispatched);
	jw_int(&w, "SimTime", sim_now(s));
	jw_arr(&w, "Jobs");
	for (j = s->truth_head; j; j = j->truth_next)
		if (!prefix || str_starts(j->id, prefix))
			sim_render_truth_job(s, &w, j);
	jw_arr_end(&w);
	jw_obj_end(&w);
	pthread_mutex_unlock(&s->lock);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_stats(struct sim *s, struct httpd_req *r)
{
	struct jw w;
	size_t i;

	jw_init(&w, 1 << 20);
	jw_obj(&w, NULL);
	pthread_mutex_lock(&s->stats_lock);
	jw_uint(&w, "Requests", s->requests_total);
	jw_obj(&w, "Endpoints");
	for (i = 0; i < s->nstats; i++) {
		jw_obj(&w, s->stats[i].name);
		jw_uint(&w, "Count", s->stats[i].count);
		jw_uint(&w, "Bytes", s->stats[i].bytes);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	pthread_mutex_unlock(&s->stats_lock);
	pthread_mutex_lock(&s->lock);
	jw_int(&w, "ActivePipelines", s->active_pipelines);
	jw_int(&w, "PeakActivePipelines", s->peak_active_pipelines);
	jw_uint(&w, "Jobs", s->jobs.count);
	jw_uint(&w, "Allocations", s->allocs.count);
	jw_uint(&w, "Dispatched", s->ndispatched);
	jw_uint(&w, "Index", s->index);
	jw_int(&w, "SimTime", sim_now(s));
	jw_int(&w, "AllocBytesGauge", sim_gauge_alloc_bytes(s));
	{
		int64_t used = 0;
		int k;

		for (k = 0; k < s->nnodes; k++)
			used += (int64_t)(s->node_mem - s->node_free[k]);
		jw_int(&w, "ClusterMemoryUsed", used);
		jw_int(&w, "ClusterMemory", (int64_t)s->node_mem * s->nnodes);
		for (k = 0, used = 0; k < K_COUNT; k++) {
			struct sim_job *q;

			for (q = s->queue_head[k]; q; q = q->queue_next)
				used++;
		}
		jw_int(&w, "Queued", used);
	}
	pthread_mutex_unlock(&s->lock);
	jw_obj_end(&w);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_faults(struct sim *s, struct httpd_req *r)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct jw w;

	if (strcmp(httpd_req_method(r), "PUT") == 0 || strcmp(httpd_req_method(r), "POST") == 0) {
		int rc;

		pthread_mutex_lock(&s->lock);
		rc = sim_faults_apply(s, httpd_req_body(r, NULL), &err);
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		if (rc != 0) {
			httpd_respond_text(r, 400, err.msg);
			return;
		}
	} else if (strcmp(httpd_req_method(r), "GET") != 0) {
		httpd_respond_text(r, 405, "Invalid method");
		return;
	}
	jw_init(&w, 65536);
	pthread_mutex_lock(&s->lock);
	jw_obj(&w, NULL);
	jw_dbl(&w, "no_leader", s->faults.p_no_leader);
	jw_dbl(&w, "too_many_requests", s->faults.p_429);
	jw_dbl(&w, "drop_connection", s->faults.p_drop);
	jw_dbl(&w, "dispatch_drop_response", s->faults.p_dispatch_drop);
	jw_dbl(&w, "log_404", s->faults.p_log_404);
	jw_int(&w, "latency_ms", s->faults.latency_ms);
	jw_dbl(&w, "latency_probability", s->faults.p_latency);
	jw_obj_end(&w);
	pthread_mutex_unlock(&s->lock);
	respond_jw(r, &w);
	jw_release(&w);
}

static void h_scenario(struct sim *s, struct httpd_req *r)
{
	struct aedb_err err = AEDB_ERR_INIT;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = sim_scenario_load(s, httpd_req_body(r, NULL), &err);
	if (rc == 0)
		sim_reset(s);
	pthread_mutex_unlock(&s->lock);
	if (rc != 0)
		httpd_respond_text(r, 400, err.msg);
	else
		httpd_respond_json(r, 200, "{}");
}

/* ---------- routing ---------- */

/* The sub-resources of /v1/job/:id, by path suffix. */
struct job_route {
	const char *suffix;
	const char *method;
	int post_too; /* POST is accepted as well (dispatch, like Nomad) */
	void (*handler)(struct sim *s, struct httpd_req *r, const char *id);
	const char *name; /* the /sim/stats endpoint name */
};

static void h_dispatch(struct sim *s, struct httpd_req *r, const char *id);
static void h_job_allocs(struct sim *s, struct httpd_req *r, const char *id);

static const struct job_route job_routes[] = {
	{ "/dispatch", "PUT", 1, h_dispatch, "PUT /v1/job/:id/dispatch" },
	{ "/summary", "GET", 0, h_summary, "GET /v1/job/:id/summary" },
	{ "/allocations", "GET", 0, h_job_allocs, "GET /v1/job/:id/allocations" },
};

void sim_stats_bytes(struct sim *s, const char *name, size_t bytes)
{
	size_t i;

	pthread_mutex_lock(&s->stats_lock);
	for (i = 0; i < s->nstats; i++)
		if (strcmp(s->stats[i].name, name) == 0)
			break;
	if (i == s->nstats && s->nstats < SIM_ENDPOINTS) {
		s->stats[s->nstats].name = name;
		s->stats[s->nstats].count = 0;
		s->stats[s->nstats++].bytes = 0;
	}
	if (i < s->nstats)
		s->stats[i].bytes += bytes;
	pthread_mutex_unlock(&s->stats_lock);
}

static void count(struct sim *s, const char *name, size_t bytes)
{
	size_t i;

	pthread_mutex_lock(&s->stats_lock);
	s->requests_total++;
	for (i = 0; i < s->nstats; i++)
		if (strcmp(s->stats[i].name, name) == 0)
			break;
	if (i == s->nstats && s->nstats < SIM_ENDPOINTS)
		s->stats[s->nstats++].name = name;
	if (i < s->nstats) {
		s->stats[i].count++;
		s->stats[i].bytes += bytes;
	}
	pthread_mutex_unlock(&s->stats_lock);
}

static int roll(struct sim *s, double p)
{
	int hit;

	if (p <= 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	hit = (double)(sim_rand(s) >> 11) / 9007199254740992.0 < p;
	pthread_mutex_unlock(&s->lock);
	return hit;
}

static const char *token_of(struct httpd_req *r)
{
	const char *t = httpd_req_header(r, "X-Nomad-Token");
	const char *a;

	if (t)
		return t;
	a = httpd_req_header(r, "Authorization");
	if (a && strncmp(a, "Bearer ", 7) == 0)
		return a + 7;
	return NULL;
}

static void events_route(struct sim *s, struct httpd_req *r);

static const char *route(struct sim *s, struct httpd_req *r)
{
	const char *m = httpd_req_method(r);
	const char *path = httpd_req_path(r);
	int get = strcmp(m, "GET") == 0;

	if (str_starts(path, "/sim/")) {
		if (strcmp(path, "/sim/truth") == 0 && get)
			h_truth(s, r);
		else if (strcmp(path, "/sim/stats") == 0 && get)
			h_stats(s, r);
		else if (strcmp(path, "/sim/faults") == 0)
			h_faults(s, r);
		else if (strcmp(path, "/sim/reset") == 0 && strcmp(m, "POST") == 0) {
			pthread_mutex_lock(&s->lock);
			sim_reset(s);
			pthread_mutex_unlock(&s->lock);
			httpd_respond_json(r, 200, "{}");
		} else if (strcmp(path, "/sim/scenario") == 0 && strcmp(m, "PUT") == 0)
			h_scenario(s, r);
		else
			httpd_respond_text(r, 404, "no such control endpoint");
		return "sim control";
	}
	{
		/* faults, then ACLs, as a request would meet them */
		struct sim_faults f;

		pthread_mutex_lock(&s->lock);
		f = s->faults;
		pthread_mutex_unlock(&s->lock);
		if (f.latency_ms > 0 && roll(s, f.p_latency))
			aedb_sleep_ns(f.latency_ms * 1000000);
		if (roll(s, f.p_drop)) {
			httpd_drop(r);
			return "fault: dropped";
		}
		if (roll(s, f.p_429)) {
			httpd_respond(r, 429, "text/plain",
				      "Your IP is issuing too many concurrent connections, please rate limit your calls",
				      strlen("Your IP is issuing too many concurrent connections, please rate limit your calls"));
			return "fault: 429";
		}
		if (roll(s, f.p_no_leader)) {
			httpd_respond_text(r, 500, "No cluster leader");
			return "fault: no leader";
		}
	}
	if (s->acl_token && strcmp(path, "/v1/metrics") != 0 &&
	    strcmp(path, "/v1/status/leader") != 0) {
		const char *t = token_of(r);

		if (!t || strcmp(t, s->acl_token) != 0) {
			httpd_respond_text(r, 403, "Permission denied");
			return "acl: denied";
		}
	}
	if (strcmp(path, "/v1/jobs") == 0) {
		if (!get) {
			httpd_respond_text(r, 405, "Invalid method");
			return "other";
		}
		h_jobs(s, r);
		return "GET /v1/jobs";
	}
	if (str_starts(path, "/v1/job/")) {
		const char *rest = path + strlen("/v1/job/");
		char *id;

		size_t i;

		/* Nomad routes on the decoded path and strips a known suffix */
		for (i = 0; i < sizeof(job_routes) / sizeof(job_routes[0]); i++) {
			const struct job_route *jr = &job_routes[i];

			if (!str_ends(rest, jr->suffix))
				continue;
			id = xstrndup(rest, strlen(rest) - strlen(jr->suffix));
			if (strcmp(m, jr->method) == 0 || (jr->post_too && strcmp(m, "POST") == 0))
				jr->handler(s, r, id);
			else
				httpd_respond_text(r, 405, "Invalid method");
			free(id);
			return jr->name;
		}
		if (get) {
			h_job_get(s, r, rest);
			return "GET /v1/job/:id";
		}
		if (strcmp(m, "DELETE") == 0) {
			h_delete(s, r, rest);
			return "DELETE /v1/job/:id";
		}
		httpd_respond_text(r, 405, "Invalid method");
		return "other";
	}
	if (strcmp(path, "/v1/allocations") == 0 && get) {
		h_allocs(s, r);
		return "GET /v1/allocations";
	}
	if (str_starts(path, "/v1/allocation/") && get) {
		h_alloc(s, r, path + strlen("/v1/allocation/"));
		return "GET /v1/allocation/:id";
	}
	if (str_starts(path, "/v1/client/fs/logs/") && get) {
		h_logs(s, r, path + strlen("/v1/client/fs/logs/"));
		return "GET /v1/client/fs/logs/:alloc";
	}
	if (strcmp(path, "/v1/metrics") == 0 && get) {
		h_metrics(s, r);
		return "GET /v1/metrics";
	}
	if (strcmp(path, "/v1/system/gc") == 0) {
		if (strcmp(m, "PUT") != 0) {
			httpd_respond_text(r, 405, "Invalid method");
		} else {
			pthread_mutex_lock(&s->lock);
			sim_gc(s, 1);
			pthread_cond_broadcast(&s->changed);
			pthread_mutex_unlock(&s->lock);
			httpd_respond(r, 200, NULL, "", 0);
		}
		return "PUT /v1/system/gc";
	}
	if (strcmp(path, "/v1/status/leader") == 0 && get) {
		httpd_respond_json(r, 200, "\"127.0.0.1:4647\"");
		return "GET /v1/status/leader";
	}
	if (strcmp(path, "/v1/status/peers") == 0 && get) {
		httpd_respond_json(r, 200, "[\"127.0.0.1:4647\"]");
		return "GET /v1/status/peers";
	}
	if (strcmp(path, "/v1/event/stream") == 0 && get) {
		events_route(s, r);
		return "GET /v1/event/stream";
	}
	httpd_respond(r, 404, TEXT, "", 0);
	return "other";
}

struct topics {
	char **v;
	size_t n;
	int bad;
};

static void topic_cb(void *cls, const char *name, const char *value)
{
	struct topics *t = cls;

	if (strcmp(name, "topic") != 0)
		return;
	if (strchr(value, ':') != strrchr(value, ':') || !*value) {
		t->bad = 1;
		return;
	}
	t->v = xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
	t->v[t->n++] = xstrdup(value);
}

static void events_route(struct sim *s, struct httpd_req *r)
{
	const char *ix = httpd_req_query(r, "index");
	int64_t index = 0;
	struct topics t = { NULL, 0, 0 };
	size_t i;
	int enabled;

	pthread_mutex_lock(&s->lock);
	enabled = s->events_enabled;
	pthread_mutex_unlock(&s->lock);
	if (!enabled) {
		/* an agent built or configured without the event stream */
		httpd_respond(r, 404, TEXT, "", 0);
		return;
	}
	if (ix && *ix && parse_i64(ix, 0, INT64_MAX, &index) != 0) {
		char *msg = xasprintf("Unable to parse index: strconv.Atoi: parsing \"%s\": invalid syntax", ix);

		httpd_respond_text(r, 400, msg);
		free(msg);
		return;
	}
	httpd_req_query_each(r, topic_cb, &t);
	if (t.bad) {
		httpd_respond_text(r, 400, "Invalid topic query: topic format must be Topic:FilterKey");
	} else {
		pthread_mutex_lock(&s->lock);
		sim_events_serve(s, r, (uint64_t)index, t.v, t.n);
		pthread_mutex_unlock(&s->lock);
	}
	for (i = 0; i < t.n; i++)
		free(t.v[i]);
	free(t.v);
}

void sim_api_handle(struct httpd_req *r, void *ctx)
{
	struct sim *s = ctx;
	const char *name = route(s, r);

	count(s, name, httpd_req_response_bytes(r));
}
