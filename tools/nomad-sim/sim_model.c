/* The simulator's state machine: the clock (real time x speed), the raft
 * index, dispatch, the memory-based placement queue, allocation lifecycles
 * with task events, the pipeline coordinator that fans out stage jobs
 * stage by stage, stop/purge/GC, and the timer heap the clock thread runs.
 * Everything here runs with sim.lock held. */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "sim_json.h"
#include "util.h"

const char *const sim_kind_parent[K_COUNT] = { "pipeline", "hand_inundator", "fim_mosaicker",
					       "agreement_maker" };
const char *const sim_kind_task[K_COUNT] = { "coordinator", "processor", "processor", "processor" };
const char *const sim_outcome_name[O_COUNT] = { "success", "early_exit", "failed", "stage_error",
						"oom", "lost", "stuck" };

static const char *const pipeline_required[] = { "aoi", "outputs_path", "hand_index_path",
						 "nomad_token", NULL };
static const char *const pipeline_optional[] = { "benchmark_sources", "fim_type", "registry_token",
						 "aws_access_key", "aws_secret_key",
						 "aws_session_token", "stac_datetime_filter", "tags",
						 NULL };
static const char *const inundate_required[] = { "catchment_data_path", "forecast_path",
						 "output_path", NULL };
static const char *const inundate_optional[] = { "fim_type", "registry_token", "aws_access_key",
						 "aws_secret_key", "aws_session_token", NULL };
static const char *const mosaic_required[] = { "raster_paths", "output_path", "fim_type", NULL };
static const char *const mosaic_optional[] = { "registry_token", "aws_access_key",
					       "aws_secret_key", "aws_session_token",
					       "clip_geometry_path", NULL };
static const char *const agreement_required[] = { "candidate_path", "benchmark_path",
						  "output_path", "fim_type", NULL };
static const char *const agreement_optional[] = { "metrics_path", "clip_geoms", "registry_token",
						  "aws_access_key", "aws_secret_key",
						  "aws_session_token", NULL };

/* restart attempts per kind, as the upstream job files set them */
static const int restart_attempts[K_COUNT] = { 0, 0, 3, 3 };

/* what the metrics gauge charges per retained object: a real server keeps
 * job, eval, summary and alloc structs with full task states */
#define GAUGE_BASE (64ll << 20)
#define GAUGE_PER_JOB 24576ll
#define GAUGE_PER_ALLOC 16384ll

/* ---------- clock, randomness, ids ---------- */

int64_t sim_now(const struct sim *s)
{
	return s->wall0_ns + (int64_t)((double)(aedb_mono_ns() - s->mono0_ns) * s->speed);
}

static int64_t sim_to_mono(const struct sim *s, int64_t sim_ns)
{
	return s->mono0_ns + (int64_t)((double)(sim_ns - s->wall0_ns) / s->speed);
}

uint64_t sim_rand(struct sim *s)
{
	/* splitmix64 */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double sim_unit(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

void sim_uuid_fmt(const unsigned char b[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

static void rand_bytes(struct sim *s, unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 8) {
		uint64_t r = sim_rand(s);

		memcpy(b + i, &r, n - i < 8 ? n - i : 8);
	}
}

void sim_uuid(struct sim *s, char out[37])
{
	unsigned char b[16];

	rand_bytes(s, b, 16);
	sim_uuid_fmt(b, out);
}

/* ---------- setup ---------- */

void sim_init(struct sim *s, uint64_t seed, double speed)
{
	int k;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->stats_lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	pthread_cond_init(&s->tick, NULL);
	s->speed = speed;
	s->seed = seed;
	s->rng = seed;
	s->wall0_ns = aedb_now_ns();
	s->mono0_ns = aedb_mono_ns();
	s->nnodes = 8;
	s->node_mem = 64ull << 30;
	s->mem[K_PIPELINE] = 3000ull << 20;
	s->mem[K_INUNDATE] = 2000ull << 20;
	s->mem[K_MOSAIC] = 10000ull << 20;
	s->mem[K_AGREEMENT] = 12000ull << 20;
	s->dur[K_PIPELINE] = 20;
	s->dur[K_INUNDATE] = 60;
	s->dur[K_MOSAIC] = 300;
	s->dur[K_AGREEMENT] = 600;
	s->start_delay = 2;
	s->restart_delay = 15;
	s->gc_threshold = 4 * 3600;
	s->gc_interval = 300;
	s->defaults.outcome = O_SUCCESS;
	s->defaults.stage = -2; /* chosen by outcome */
	s->defaults.scenarios = 2;
	s->defaults.catchments = 3;
	s->events_enabled = 1;
	s->event_buffer_size = 100;
	for (k = 0; k < K_COUNT; k++)
		s->parents[k] = NULL;
	s->heartbeat_s = 30;
	sim_index_init(&s->jobs, seed ^ 0x1234);
	sim_index_init(&s->allocs, seed ^ 0x5678);
	sim_index_init(&s->tokens, seed ^ 0x9abc);
}

int sim_setup_cluster(struct sim *s, struct aedb_err *err)
{
	int n = 1, i;

	if (s->nnodes < 1 || s->nnodes > SIM_NODES_MAX)
		return aedb_err_setk(err, AEDB_E_USAGE, "nodes must be 1..%d", SIM_NODES_MAX);
	while (n < s->nnodes)
		n *= 2;
	free(s->node_free);
	free(s->seg);
	s->segn = n;
	s->node_free = xcalloc((size_t)s->nnodes, sizeof(uint64_t));
	s->seg = xcalloc((size_t)(2 * n), sizeof(uint64_t));
	for (i = 0; i < s->nnodes; i++) {
		s->node_free[i] = s->node_mem;
		s->seg[n + i] = s->node_mem;
	}
	for (i = n - 1; i >= 1; i--)
		s->seg[i] = s->seg[2 * i] > s->seg[2 * i + 1] ? s->seg[2 * i] : s->seg[2 * i + 1];
	return 0;
}

static void node_set(struct sim *s, int node, uint64_t free_mem)
{
	int i = s->segn + node;

	s->node_free[node] = free_mem;
	s->seg[i] = free_mem;
	for (i /= 2; i >= 1; i /= 2)
		s->seg[i] = s->seg[2 * i] > s->seg[2 * i + 1] ? s->seg[2 * i] : s->seg[2 * i + 1];
}

/* First node with at least mem free, or -1: a descent of the max tree. */
static int node_find(struct sim *s, uint64_t mem)
{
	int i = 1;

	if (s->seg[1] < mem)
		return -1;
	while (i < s->segn)
		i = s->seg[2 * i] >= mem ? 2 * i : 2 * i + 1;
	return i - s->segn;
}

int sim_kind_of(const char *parent_id)
{
	int k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(parent_id, sim_kind_parent[k]) == 0)
			return k;
	return -1;
}

static void bump_job(struct sim *s, struct sim_job *j)
{
	j->modify_index = s->index;
	s->jobs_index = s->index;
}

static void bump_summary(struct sim *s, struct sim_job *j)
{
	j->summary_index = s->index;
	s->jobs_index = s->index;
}

/* Start a write: one raft index for everything it changes. */
static void w_begin(struct sim *s)
{
	s->index++;
}

static void w_end(struct sim *s)
{
	sim_event_commit(s);
}

void sim_register_parents(struct sim *s)
{
	static const char *const *req[K_COUNT] = { pipeline_required, inundate_required,
						   mosaic_required, agreement_required };
	static const char *const *opt[K_COUNT] = { pipeline_optional, inundate_optional,
						   mosaic_optional, agreement_optional };
	int k;

	for (k = 0; k < K_COUNT; k++) {
		struct sim_job *j = xcalloc(1, sizeof(*j));

		w_begin(s);
		j->id = xstrdup(sim_kind_parent[k]);
		j->kind = (uint8_t)k;
		j->status = JS_RUNNING;
		j->priority = 50;
		j->scen_no = -1;
		j->submit_time = sim_now(s);
		j->create_index = j->modify_index = j->job_modify_index = j->summary_index = s->index;
		j->meta_required = req[k];
		j->meta_optional = opt[k];
		sim_index_insert(&s->jobs, j->id, j);
		s->parents[k] = j;
		s->jobs_index = s->index;
		sim_event_job(s, j, "JobRegistered", 0);
		w_end(s);
	}
}

const char *sim_meta_get(const struct sim_job *j, const char *key)
{
	const char *p = j->meta, *end = j->meta + j->meta_len;

	while (p && p < end) {
		const char *v = p + strlen(p) + 1;

		if (strcmp(p, key) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

const char *sim_job_status_name(int st)
{
	static const char *const n[] = { "pending", "running", "dead" };

	return n[st];
}

const char *sim_client_status_name(int cs)
{
	static const char *const n[] = { "pending", "running", "complete", "failed", "lost" };

	return n[cs];
}

int sim_outcome_parse(const char *str)
{
	int i;

	for (i = 0; i < O_COUNT; i++)
		if (strcmp(str, sim_outcome_name[i]) == 0)
			return i;
	return -1;
}

int sim_stage_parse(const char *str, int *out)
{
	static const char *const names[] = { "inundate", "mosaic", "agreement" };
	int i;

	if (strcmp(str, "pipeline") == 0) {
		*out = ST_PIPELINE;
		return 0;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(str, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

const char *sim_stage_name(int stage)
{
	static const char *const names[] = { "inundate", "mosaic", "agreement", "done" };

	return stage < 0 ? "pipeline" : names[stage];
}

/* ---------- timers ---------- */

static int timer_less(const struct sim_timer *a, const struct sim_timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void timer_add(struct sim *s, int64_t at, struct sim_alloc *a, int what)
{
	struct sim_timer t = { at, ++s->timer_seq, a, a ? a->gen : 0, (uint8_t)what };
	size_t i;

	if (s->nheap == s->heap_alloc) {
		s->heap_alloc = s->heap_alloc ? s->heap_alloc * 2 : 1024;
		s->heap = xrealloc(s->heap, s->heap_alloc * sizeof(*s->heap));
	}
	i = s->nheap++;
	while (i > 0 && timer_less(&t, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = t;
	if (i == 0)
		pthread_cond_signal(&s->tick);
}

static struct sim_timer timer_pop(struct sim *s)
{
	struct sim_timer top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && timer_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!timer_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

static int64_t secs(double x)
{
	return (int64_t)(x * 1e9);
}

/* A duration with +-20 % jitter, so fan-outs do not finish in lockstep. */
static int64_t jitter(struct sim *s, double seconds)
{
	return secs(seconds * (0.8 + 0.4 * sim_unit(s)));
}

/* ---------- job status and counters ---------- */

static int alloc_terminal(const struct sim_alloc *a)
{
	return a->desired_status == DS_STOP || a->client_status >= CS_COMPLETE;
}

static void children_move(struct sim *s, struct sim_job *j, int from, int to)
{
	struct sim_job *p = j->parent;

	if (!p || from == to)
		return;
	if (from >= 0)
		p->children[from]--;
	p->children[to]++;
	bump_summary(s, p);
	if (j->kind == K_PIPELINE) {
		if (from < 0 || from == JS_DEAD)
			s->active_pipelines++;
		if (to == JS_DEAD)
			s->active_pipelines--;
		if (s->active_pipelines > s->peak_active_pipelines)
			s->peak_active_pipelines = s->active_pipelines;
	}
}

static void job_recompute(struct sim *s, struct sim_job *j)
{
	struct sim_alloc *a;
	int st = JS_DEAD, old = j->status;

	for (a = j->allocs; a; a = a->job_next)
		if (!alloc_terminal(a)) {
			st = JS_RUNNING;
			break;
		}
	if (st != JS_RUNNING && j->queued && !j->stop)
		st = JS_PENDING;
	bump_summary(s, j);
	if (st == old)
		return;
	j->status = (uint8_t)st;
	if (st == JS_DEAD)
		j->dead_time = sim_now(s);
	bump_job(s, j);
	children_move(s, j, old, st);
	sim_event_job(s, j, "AllocationUpdated", 0);
}

/* ---------- the placement queue ---------- */

static void queue_push(struct sim *s, struct sim_job *j)
{
	int k = j->kind;

	j->queued = 1;
	if (j->plan.outcome == O_STUCK && (j->kind != K_PIPELINE || j->plan.stage == ST_PIPELINE))
		return; /* never placed: Queued stays 1, the eval stays blocked */
	j->queue_prev = s->queue_tail[k];
	j->queue_next = NULL;
	if (s->queue_tail[k])
		s->queue_tail[k]->queue_next = j;
	else
		s->queue_head[k] = j;
	s->queue_tail[k] = j;
}

static void queue_remove(struct sim *s, struct sim_job *j)
{
	int k = j->kind;

	if (!j->queued)
		return;
	j->queued = 0;
	if (j->queue_prev)
		j->queue_prev->queue_next = j->queue_next;
	else if (s->queue_head[k] == j)
		s->queue_head[k] = j->queue_next;
	if (j->queue_next)
		j->queue_next->queue_prev = j->queue_prev;
	else if (s->queue_tail[k] == j)
		s->queue_tail[k] = j->queue_prev;
	j->queue_prev = j->queue_next = NULL;
}

static void add_event(struct sim_alloc *a, int type, int64_t t, int exit_code, int flags)
{
	if (a->nevents == SIM_MAX_EVENTS) {
		memmove(&a->ev[0], &a->ev[1], sizeof(a->ev[0]) * (SIM_MAX_EVENTS - 1));
		a->nevents--;
	}
	a->ev[a->nevents].time = t;
	a->ev[a->nevents].type = (uint8_t)type;
	a->ev[a->nevents].exit_code = (int16_t)exit_code;
	a->ev[a->nevents].flags = (uint8_t)flags;
	a->nevents++;
}

static void alloc_touch(struct sim *s, struct sim_alloc *a)
{
	a->modify_index = s->index;
	a->modify_time = sim_now(s);
	a->gen++;
	s->allocs_index = s->index;
}

static void alloc_list_unlink(struct sim *s, struct sim_alloc *a)
{
	if (a->all_prev)
		a->all_prev->all_next = a->all_next;
	else
		s->alloc_head = a->all_next;
	if (a->all_next)
		a->all_next->all_prev = a->all_prev;
	else
		s->alloc_tail = a->all_prev;
	a->all_prev = a->all_next = NULL;
}

static struct sim_alloc *place(struct sim *s, struct sim_job *j, int node)
{
	struct sim_alloc *a = xcalloc(1, sizeof(*a));
	int64_t now = sim_now(s);

	w_begin(s);
	do
		sim_uuid(s, a->id);
	while (sim_index_get(&s->allocs, a->id));
	a->job = j;
	a->node = node;
	a->exit_code = -1;
	a->stage = ST_PIPELINE;
	a->prev_alloc = j->allocs && j->allocs->client_status == CS_LOST ? j->allocs : NULL;
	if (a->prev_alloc)
		a->prev_alloc->next_alloc = a;
	a->job_next = j->allocs;
	j->allocs = a;
	a->all_prev = s->alloc_tail;
	if (s->alloc_tail)
		s->alloc_tail->all_next = a;
	else
		s->alloc_head = a;
	s->alloc_tail = a;
	sim_index_insert(&s->allocs, a->id, a);
	s->live_bytes += GAUGE_PER_ALLOC;
	a->create_index = s->index;
	a->create_time = now;
	node_set(s, node, s->node_free[node] - s->mem[j->kind]);
	a->holds_mem = 1;
	add_event(a, EV_RECEIVED, now, 0, 0);
	add_event(a, EV_TASK_SETUP, now, 0, 0);
	alloc_touch(s, a);
	queue_remove(s, j);
	j->ever_placed = 1;
	if (a->prev_alloc) {
		a->prev_alloc->modify_index = s->index;
		sim_event_alloc(s, a->prev_alloc, "PlanResult");
	}
	job_recompute(s, j);
	sim_event_alloc(s, a, "PlanResult");
	timer_add(s, now + secs(s->start_delay), a, T_START);
	w_end(s);
	return a;
}

/* Place every queued job that fits. Among the heads of the per-kind queues
 * the highest priority, then the oldest, goes first; a head that does not
 * fit blocks only its own kind, so smaller jobs behind a big one still get
 * placed (Nomad's blocked evals behave the same way). */
static void schedule(struct sim *s)
{
	int blocked[K_COUNT] = { 0 };

	for (;;) {
		struct sim_job *best = NULL;
		int k, node;

		for (k = 0; k < K_COUNT; k++) {
			struct sim_job *h = s->queue_head[k];

			if (!h || blocked[k])
				continue;
			if (!best || h->priority > best->priority ||
			    (h->priority == best->priority && h->create_index < best->create_index))
				best = h;
		}
		if (!best)
			return;
		node = node_find(s, s->mem[best->kind]);
		if (node < 0) {
			blocked[best->kind] = 1;
			continue;
		}
		place(s, best, node);
	}
}

static void free_node(struct sim *s, struct sim_alloc *a)
{
	if (a->holds_mem) {
		node_set(s, a->node, s->node_free[a->node] + s->mem[a->job->kind]);
		a->holds_mem = 0;
	}
}

/* ---------- coordinator ---------- */

static void coord_log(struct sim *s, struct sim_alloc *a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void coord_log(struct sim *s, struct sim_alloc *a, const char *fmt, ...)
{
	char line[1024], stamp[40];
	va_list ap;
	int64_t now = sim_now(s);
	size_t n;
	int h;

	aedb_format_time(now, stamp, sizeof(stamp));
	h = snprintf(line, sizeof(line), "%s ", stamp);
	va_start(ap, fmt);
	vsnprintf(line + h, sizeof(line) - (size_t)h - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (a->log_len + n > SIM_LOG_MAX)
		return;
	a->log = xrealloc(a->log, a->log_len + n + 1);
	memcpy(a->log + a->log_len, line, n);
	a->log_len += n;
	a->log[a->log_len] = '\0';
}

/* The tag value of key in a pipeline's meta `tags` ("k=v k=v"), or NULL;
 * writes into out. */
static const char *tag_value(const struct sim_job *j, const char *key, char *out, size_t size)
{
	const char *tags = sim_meta_get(j, "tags");
	size_t kl = strlen(key);

	while (tags && *tags) {
		const char *end = strchr(tags, ' ');
		size_t len = end ? (size_t)(end - tags) : strlen(tags);

		if (len > kl && strncmp(tags, key, kl) == 0 && tags[kl] == '=') {
			snprintf(out, size, "%.*s", (int)(len - kl - 1), tags + kl + 1);
			return out;
		}
		tags = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Item name of a pipeline: aoi_name from its tags, else from its id. */
static void pipeline_item(const struct sim_job *j, char *out, size_t size)
{
	const char *p;

	if (tag_value(j, "aoi_name", out, size))
		return;
	p = strstr(j->id, "aoi_name=");
	if (p) {
		size_t n = strcspn(p + 9, ",]");

		snprintf(out, size, "%.*s", (int)n, p + 9);
		return;
	}
	snprintf(out, size, "%s", "");
}

static void scenario_name(int i, char *out, size_t size)
{
	static const char *const names[] = { "100yr", "500yr", "25yr", "50yr", "10yr", "5yr" };

	if (i < 6)
		snprintf(out, size, "%s", names[i]);
	else
		snprintf(out, size, "s%d", i);
}

struct packer {
	char *p;
	size_t len;
};

static void pack(struct packer *pk, const char *k, const char *v)
{
	size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

	pk->p = xrealloc(pk->p, pk->len + kl + vl);
	memcpy(pk->p + pk->len, k, kl);
	memcpy(pk->p + pk->len + kl, v, vl);
	pk->len += kl + vl;
}

static void dispatch_stage(struct sim *s, struct sim_alloc *a, int stage)
{
	struct sim_job *pj = a->job;
	const char *outp = sim_meta_get(pj, "outputs_path");
	const char *hand = sim_meta_get(pj, "hand_index_path");
	const char *fim = sim_meta_get(pj, "fim_type");
	const char *bsrc = sim_meta_get(pj, "benchmark_sources");
	char batch[128], aoi[128], bench[128], scen[32], tmpl[512];
	int nscen = pj->plan.scenarios, ncatch = pj->plan.catchments, si, ci, count = 0;
	int fault_placed = 0;

	if (!tag_value(pj, "batch_name", batch, sizeof(batch)))
		snprintf(batch, sizeof(batch), "%s", "batch");
	pipeline_item(pj, aoi, sizeof(aoi));
	snprintf(bench, sizeof(bench), "%.*s", (int)strcspn(bsrc && *bsrc ? bsrc : "ble-collection", ","),
		 bsrc && *bsrc ? bsrc : "ble-collection");
	if (!outp)
		outp = "/out/";
	if (!hand)
		hand = "/hand";
	if (!fim)
		fim = "extent";
	for (si = 0; si < nscen; si++) {
		scenario_name(si, scen, sizeof(scen));
		for (ci = 0; ci < (stage == ST_INUNDATE ? ncatch : stage == ST_MOSAIC ? 2 : 1); ci++) {
			struct packer pk = { NULL, 0 };
			struct sim_job *c;
			char v1[1024], v2[1024], v3[1024];
			int kind;

			if (stage == ST_INUNDATE) {
				char catch[16];

				kind = K_INUNDATE;
				snprintf(catch, sizeof(catch), "%07d", 1200000 + ci * 37);
				snprintf(tmpl, sizeof(tmpl),
					 "[batch_name=%s,aoi_name=%s,bench_src=%s,scenario=%s,catchment=%.7s]",
					 batch, aoi, bench, scen, catch);
				snprintf(v1, sizeof(v1), "%s/catchments/%s.json", hand, catch);
				snprintf(v2, sizeof(v2), "%sflows/%s/%s.csv", outp, bench, scen);
				snprintf(v3, sizeof(v3), "%sinundate/%s/%s.tif", outp, scen, catch);
				pack(&pk, "catchment_data_path", v1);
				pack(&pk, "forecast_path", v2);
				pack(&pk, "output_path", v3);
				pack(&pk, "fim_type", fim);
			} else if (stage == ST_MOSAIC) {
				kind = K_MOSAIC;
				if (ci == 0)
					snprintf(tmpl, sizeof(tmpl),
						 "[batch_name=%s,aoi_name=%s,cand_src=hand,scenario=%s]",
						 batch, aoi, scen);
				else
					snprintf(tmpl, sizeof(tmpl),
						 "[batch_name=%s,aoi_name=%s,bench_src=%s,scenario=%s]",
						 batch, aoi, bench, scen);
				snprintf(v1, sizeof(v1), "%s%s/%s/rasters.txt", outp,
					 ci == 0 ? "inundate" : "benchmark", scen);
				snprintf(v2, sizeof(v2), "%smosaic/%s_%s.tif", outp, scen,
					 ci == 0 ? "candidate" : "benchmark");
				pack(&pk, "raster_paths", v1);
				pack(&pk, "output_path", v2);
				pack(&pk, "fim_type", fim);
				pack(&pk, "clip_geometry_path", sim_meta_get(pj, "aoi") ? sim_meta_get(pj, "aoi") : "");
			} else {
				kind = K_AGREEMENT;
				snprintf(tmpl, sizeof(tmpl),
					 "[batch_name=%s,aoi_name=%s,bench_src=%s,scenario=%s]", batch,
					 aoi, bench, scen);
				snprintf(v1, sizeof(v1), "%smosaic/%s_candidate.tif", outp, scen);
				snprintf(v2, sizeof(v2), "%smosaic/%s_benchmark.tif", outp, scen);
				snprintf(v3, sizeof(v3), "%sagreement/%s.tif", outp, scen);
				pack(&pk, "candidate_path", v1);
				pack(&pk, "benchmark_path", v2);
				pack(&pk, "output_path", v3);
				pack(&pk, "fim_type", fim);
				snprintf(v3, sizeof(v3), "%sagreement/%s_metrics.csv", outp, scen);
				pack(&pk, "metrics_path", v3);
			}
			for (char *q = tmpl; *q; q++)
				if (*q == ':')
					*q = '-';
			c = sim_dispatch(s, s->parents[kind], pk.p, pk.len, NULL, 0, tmpl, NULL, 0);
			free(pk.p);
			c->scen_no = (int8_t)si;
			c->waiter = a;
			/* the scenario's fault hits the first job of its stage */
			if (!fault_placed && pj->plan.stage == stage &&
			    (pj->plan.outcome == O_STAGE_ERROR || pj->plan.outcome == O_OOM ||
			     pj->plan.outcome == O_LOST || pj->plan.outcome == O_STUCK)) {
				c->plan.outcome = pj->plan.outcome;
				fault_placed = 1;
				if (c->plan.outcome == O_STUCK) {
					queue_remove(s, c);
					c->queued = 1;
				}
			}
			count++;
		}
	}
	a->stage = (int8_t)stage;
	a->outstanding = count;
	coord_log(s, a, "INFO Stage %s: dispatched %d %s jobs", sim_stage_name(stage), count,
		  sim_kind_parent[stage + 1]);
}

static void coord_finish(struct sim *s, struct sim_alloc *a, const char *line)
{
	coord_log(s, a, "%s", line);
	a->coord_done = 1;
	timer_add(s, sim_now(s) + jitter(s, s->dur[K_PIPELINE] / 2), a, T_FINISH);
}

static void coord_step(struct sim *s, struct sim_alloc *a)
{
	struct sim_job *pj = a->job;
	char item[128], line[1024];
	int next;

	if (a->client_status != CS_RUNNING || a->coord_done)
		return;
	pipeline_item(pj, item, sizeof(item));
	if (a->stage == ST_PIPELINE && a->outstanding == 0 && !a->stage_failed &&
	    a->log_len == 0) {
		coord_log(s, a, "INFO Starting pipeline for AOI %s (%s)", item, pj->id);
		if (pj->plan.outcome == O_EARLY_EXIT) {
			snprintf(line, sizeof(line),
				 "Pipeline exiting early: no flow scenarios found for AOI %s", item);
			coord_finish(s, a, line);
			return;
		}
		next = ST_INUNDATE;
	} else {
		if (a->stage_failed) {
			snprintf(line, sizeof(line), "Pipeline FAILED: %s",
				 a->stage_fail_note ? a->stage_fail_note : "stage failed");
			coord_finish(s, a, line);
			return;
		}
		coord_log(s, a, "INFO Stage %s complete", sim_stage_name(a->stage));
		next = a->stage + 1;
	}
	if (pj->plan.outcome == O_FAILED && pj->plan.stage <= next) {
		snprintf(line, sizeof(line), "Pipeline FAILED: %s",
			 pj->plan.message ? pj->plan.message
					  : "RuntimeError: benchmark data query failed");
		coord_finish(s, a, line);
		return;
	}
	if (next == ST_DONE) {
		snprintf(line, sizeof(line), "Pipeline SUCCESS: %d/%d scenarios completed",
			 pj->plan.scenarios, pj->plan.scenarios);
		coord_finish(s, a, line);
		return;
	}
	dispatch_stage(s, a, next);
	if (a->outstanding == 0)
		timer_add(s, sim_now(s) + secs(1), a, T_COORD);
}

/* A stage job ended (dead) or its allocation was lost: tell its pipeline. */
static void coord_child_done(struct sim *s, struct sim_job *c, const char *failure)
{
	struct sim_alloc *a = c->waiter;

	if (!a)
		return;
	c->waiter = NULL;
	if (a->client_status != CS_RUNNING || a->coord_done || a->stage != c->kind - 1)
		return;
	if (failure) {
		char note[1024];

		coord_log(s, a, "ERROR Stage %s job %s failed: %s", sim_stage_name(a->stage), c->id,
			  failure);
		if (!a->stage_failed) {
			snprintf(note, sizeof(note), "stage %s failed: job %s ended with %s",
				 sim_stage_name(a->stage), c->id, failure);
			a->stage_fail_note = xstrdup(note);
		}
		a->stage_failed = 1;
	}
	if (--a->outstanding <= 0)
		timer_add(s, sim_now(s) + secs(1), a, T_COORD); /* the coordinator polls */
}

/* ---------- allocation lifecycle ---------- */

static int plan_hits_self(const struct sim_job *j, int outcome)
{
	if (j->plan.outcome != outcome)
		return 0;
	if (j->kind == K_PIPELINE)
		return j->plan.stage == ST_PIPELINE;
	return 1;
}

static void alloc_start(struct sim *s, struct sim_alloc *a)
{
	int64_t now = sim_now(s);
	struct sim_job *j = a->job;

	w_begin(s);
	a->client_status = CS_RUNNING;
	a->task_state = TS_RUNNING;
	a->started_at = now;
	add_event(a, EV_STARTED, now, 0, 0);
	alloc_touch(s, a);
	job_recompute(s, j);
	sim_event_alloc(s, a, "AllocationUpdated");
	if (plan_hits_self(j, O_LOST) && !a->fault_done && !a->prev_alloc) {
		timer_add(s, now + jitter(s, s->dur[j->kind] / 2), a, T_LOST);
	} else if (j->kind == K_PIPELINE && !plan_hits_self(j, O_OOM)) {
		if (a->restarts == 0)
			timer_add(s, now + jitter(s, s->dur[K_PIPELINE] / 2), a, T_COORD);
	} else {
		timer_add(s, now + jitter(s, s->dur[j->kind]), a, T_FINISH);
	}
	w_end(s);
}

static void alloc_end(struct sim *s, struct sim_alloc *a, int exit_code, int oom)
{
	int64_t now = sim_now(s);
	struct sim_job *j = a->job;
	int failed = exit_code != 0;

	w_begin(s);
	add_event(a, EV_TERMINATED, now, exit_code, oom ? SIM_EVF_OOM : 0);
	a->exit_code = (int16_t)exit_code;
	if (failed && a->restarts < restart_attempts[j->kind]) {
		a->restarts++;
		add_event(a, EV_RESTARTING, now, 0, 0);
		alloc_touch(s, a);
		sim_event_alloc(s, a, "AllocationUpdated");
		timer_add(s, now + secs(s->restart_delay), a, T_RESTART);
		w_end(s);
		return;
	}
	if (failed)
		add_event(a, EV_NOT_RESTARTING, now, 0,
			  restart_attempts[j->kind] ? 0 : SIM_EVF_NO_RESTARTS);
	a->task_state = TS_DEAD;
	a->task_failed = (uint8_t)failed;
	a->finished_at = now;
	a->client_status = failed ? CS_FAILED : CS_COMPLETE;
	free_node(s, a);
	alloc_touch(s, a);
	job_recompute(s, j);
	sim_event_alloc(s, a, "AllocationUpdated");
	if (j->status == JS_DEAD && j->waiter) {
		char why[64];

		if (failed) {
			snprintf(why, sizeof(why), oom ? "JobStatus.FAILED (OOM Killed, exit %d)"
						     : "JobStatus.FAILED (exit %d)",
				 exit_code);
			coord_child_done(s, j, why);
		} else {
			coord_child_done(s, j, NULL);
		}
	}
	w_end(s);
}

static void alloc_lost(struct sim *s, struct sim_alloc *a)
{
	struct sim_job *j = a->job;

	w_begin(s);
	a->client_status = CS_LOST;
	a->desired_status = DS_STOP;
	a->desired_desc = DD_LOST;
	a->fault_done = 1;
	free_node(s, a);
	alloc_touch(s, a);
	sim_event_alloc(s, a, "AllocationUpdated");
	j->plan.outcome = O_SUCCESS; /* the replacement runs normally */
	if (!j->stop)
		queue_push(s, j);
	job_recompute(s, j);
	if (j->waiter)
		coord_child_done(s, j, "JobStatus.LOST");
	w_end(s);
}

static void alloc_kill(struct sim *s, struct sim_alloc *a)
{
	int64_t now = sim_now(s);

	if (alloc_terminal(a))
		return;
	a->desired_status = DS_STOP;
	a->desired_desc = DD_JOB_UPDATE;
	if (a->task_state == TS_RUNNING) {
		add_event(a, EV_KILLING, now, 0, 0);
		add_event(a, EV_KILLED, now, 0, 0);
		a->finished_at = now;
	}
	a->task_state = TS_DEAD;
	a->client_status = CS_COMPLETE;
	free_node(s, a);
	alloc_touch(s, a);
	sim_event_alloc(s, a, "AllocationUpdateDesiredStatus");
}

static void run_timer(struct sim *s, const struct sim_timer *t)
{
	struct sim_alloc *a = t->alloc;

	if (t->what == T_GC) {
		sim_gc(s, 0);
		timer_add(s, sim_now(s) + secs(s->gc_interval), NULL, T_GC);
		return;
	}
	if (!a || a->gen != t->gen || a->removed || alloc_terminal(a))
		return;
	switch (t->what) {
	case T_START:
		alloc_start(s, a);
		break;
	case T_RESTART:
		w_begin(s);
		add_event(a, EV_STARTED, sim_now(s), 0, 0);
		a->started_at = sim_now(s);
		alloc_touch(s, a);
		sim_event_alloc(s, a, "AllocationUpdated");
		timer_add(s, sim_now(s) + jitter(s, s->dur[a->job->kind]), a, T_FINISH);
		w_end(s);
		break;
	case T_FINISH: {
		struct sim_job *j = a->job;

		if (plan_hits_self(j, O_OOM))
			alloc_end(s, a, 137, 1);
		else if (plan_hits_self(j, O_STAGE_ERROR) && j->kind != K_PIPELINE)
			alloc_end(s, a, 1, 0);
		else
			alloc_end(s, a, 0, 0);
		break;
	}
	case T_LOST:
		alloc_lost(s, a);
		break;
	case T_COORD:
		w_begin(s);
		coord_step(s, a);
		w_end(s);
		break;
	default:
		break;
	}
}

void sim_wake(struct sim *s)
{
	pthread_cond_broadcast(&s->changed);
	pthread_cond_signal(&s->tick);
}

void *sim_clock_thread(void *arg)
{
	struct sim *s = arg;

	pthread_mutex_lock(&s->lock);
	timer_add(s, sim_now(s) + secs(s->gc_interval), NULL, T_GC);
	while (!s->stopping) {
		int64_t now = sim_now(s), wake_mono;
		struct timespec ts;
		int did = 0;

		while (s->nheap && s->heap[0].at <= now && did < 20000) {
			struct sim_timer t = timer_pop(s);

			run_timer(s, &t);
			did++;
		}
		schedule(s);
		if (did)
			pthread_cond_broadcast(&s->changed);
		if (did >= 20000) {
			/* let the HTTP threads have the lock between big batches */
			pthread_mutex_unlock(&s->lock);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		wake_mono = aedb_mono_ns() + 50000000; /* 50 ms at most */
		if (s->nheap) {
			int64_t m = sim_to_mono(s, s->heap[0].at);

			if (m < wake_mono)
				wake_mono = m;
		}
		{
			/* condition variables wait on CLOCK_REALTIME: convert */
			int64_t d = wake_mono - aedb_mono_ns();
			int64_t abs_ns = aedb_now_ns() + (d > 0 ? d : 0);

			ts.tv_sec = (time_t)(abs_ns / 1000000000);
			ts.tv_nsec = (long)(abs_ns % 1000000000);
		}
		if (wake_mono > aedb_mono_ns())
			pthread_cond_timedwait(&s->tick, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---------- dispatch, stop, purge, gc ---------- */

struct sim_job *sim_dispatch(struct sim *s, struct sim_job *parent, const char *meta,
			     size_t meta_len, const char *payload, size_t payload_len,
			     const char *tmpl, const char *token, int priority)
{
	struct sim_job *j = xcalloc(1, sizeof(*j));
	int64_t now = sim_now(s);
	char hex[9], *id;

	w_begin(s);
	do {
		snprintf(hex, sizeof(hex), "%08x", (unsigned)(sim_rand(s) & 0xffffffffu));
		if (tmpl && *tmpl)
			id = xasprintf("%s/dispatch-%s-%" PRId64 "-%s", parent->id, tmpl,
				       now / 1000000000, hex);
		else
			id = xasprintf("%s/dispatch-%" PRId64 "-%s", parent->id, now / 1000000000,
				       hex);
		if (!sim_index_get(&s->jobs, id))
			break;
		free(id);
	} while (1);
	j->id = id;
	j->parent = parent;
	j->kind = parent->kind;
	j->scen_no = -1;
	if (meta_len) {
		j->meta = xmalloc(meta_len);
		memcpy(j->meta, meta, meta_len);
		j->meta_len = (uint32_t)meta_len;
	}
	if (payload_len) {
		j->payload = xmalloc(payload_len);
		memcpy(j->payload, payload, payload_len);
		j->payload_len = (uint32_t)payload_len;
	}
	if (token && *token) {
		j->idem_token = xasprintf("%s\x01%s", parent->id, token);
		sim_index_insert(&s->tokens, j->idem_token, j);
	}
	j->priority = priority ? priority : parent->priority;
	j->submit_time = now;
	j->has_eval = 1;
	rand_bytes(s, j->eval_id, 16);
	j->create_index = j->modify_index = j->job_modify_index = j->summary_index = s->index;
	s->jobs_index = s->index;
	j->status = JS_PENDING;
	sim_index_insert(&s->jobs, j->id, j);
	s->live_bytes += GAUGE_PER_JOB;
	if (s->truth_tail)
		s->truth_tail->truth_next = j;
	else
		s->truth_head = j;
	s->truth_tail = j;
	s->ndispatched++;
	if (j->kind == K_PIPELINE) {
		char item[128];

		pipeline_item(j, item, sizeof(item));
		j->plan = sim_plan_for_item(s, item);
	} else {
		j->plan.outcome = O_SUCCESS;
	}
	children_move(s, j, -1, JS_PENDING);
	sim_event_job(s, j, "JobRegistered", 0);
	queue_push(s, j);
	w_end(s);
	pthread_cond_signal(&s->tick);
	return j;
}

void sim_stop_job(struct sim *s, struct sim_job *j)
{
	struct sim_alloc *a;

	w_begin(s);
	j->stop = 1;
	j->job_modify_index = s->index;
	queue_remove(s, j);
	for (a = j->allocs; a; a = a->job_next)
		alloc_kill(s, a);
	bump_job(s, j);
	job_recompute(s, j);
	sim_event_job(s, j, "JobDeregistered", 0);
	if (j->waiter && j->status == JS_DEAD)
		coord_child_done(s, j, "JobStatus.STOPPED");
	w_end(s);
	pthread_cond_signal(&s->tick);
}

void sim_purge_job(struct sim *s, struct sim_job *j, int gc)
{
	struct sim_alloc *a;

	w_begin(s);
	queue_remove(s, j);
	for (a = j->allocs; a; a = a->job_next) {
		if (!alloc_terminal(a))
			alloc_kill(s, a);
		a->removed = 1;
		a->logs_gone = 1;
		sim_index_remove(&s->allocs, a->id);
		alloc_list_unlink(s, a);
		s->live_bytes -= GAUGE_PER_ALLOC;
		s->allocs_index = s->index;
	}
	if (j->status != JS_DEAD) {
		children_move(s, j, j->status, JS_DEAD);
		j->status = JS_DEAD;
	}
	if (j->waiter)
		coord_child_done(s, j, "JobStatus.CANCELLED");
	sim_index_remove(&s->jobs, j->id);
	if (j->idem_token)
		sim_index_remove(&s->tokens, j->idem_token);
	s->live_bytes -= GAUGE_PER_JOB;
	j->removed = 1;
	if (gc)
		j->gcd = 1;
	else
		j->purged = 1;
	s->jobs_index = s->index;
	sim_event_job(s, j, gc ? "JobBatchDeregistered" : "JobDeregistered", 1);
	w_end(s);
	pthread_cond_signal(&s->tick);
}

int sim_gc(struct sim *s, int force)
{
	struct sim_job *j;
	int64_t cutoff = sim_now(s) - secs(s->gc_threshold);
	int n = 0;

	if (!force && s->gc_threshold < 0)
		return 0;
	for (j = s->truth_head; j; j = j->truth_next) {
		if (j->removed || j->status != JS_DEAD)
			continue;
		if (!force && (j->submit_time > cutoff || j->dead_time > cutoff))
			continue;
		sim_purge_job(s, j, 1);
		n++;
	}
	return n;
}

static void free_all(struct sim *s)
{
	struct sim_job *j, *next;
	int k;

	for (j = s->truth_head; j; j = next) {
		struct sim_alloc *a, *an;

		next = j->truth_next;
		for (a = j->allocs; a; a = an) {
			an = a->job_next;
			free(a->log);
			free(a->stage_fail_note);
			free(a);
		}
		free(j->id);
		free(j->meta);
		free(j->payload);
		free(j->idem_token);
		free(j);
	}
	for (k = 0; k < K_COUNT; k++) {
		if (!s->parents[k])
			continue;
		free(s->parents[k]->id);
		free(s->parents[k]);
		s->parents[k] = NULL;
	}
	s->truth_head = s->truth_tail = NULL;
	sim_index_release(&s->jobs);
	sim_index_release(&s->allocs);
	sim_index_release(&s->tokens);
	free(s->heap);
	s->heap = NULL;
	s->nheap = s->heap_alloc = 0;
	sim_events_clear(s);
}

void sim_release_state(struct sim *s)
{
	size_t i;

	free_all(s);
	free(s->ring);
	s->ring = NULL;
	free(s->node_free);
	free(s->seg);
	free(s->acl_token);
	for (i = 0; i < s->nrules; i++) {
		free(s->rules[i].glob);
		free((char *)s->rules[i].plan.message);
	}
	free((char *)s->defaults.message);
}

/* Back to a fresh cluster: every job, alloc, timer and event is dropped;
 * configuration (scenario, faults) stays. */
void sim_reset(struct sim *s)
{
	struct aedb_err err = AEDB_ERR_INIT;

	free_all(s);
	s->alloc_head = s->alloc_tail = NULL;
	memset(s->queue_head, 0, sizeof(s->queue_head));
	memset(s->queue_tail, 0, sizeof(s->queue_tail));
	s->live_bytes = 0;
	s->active_pipelines = s->peak_active_pipelines = 0;
	s->ndispatched = 0;
	sim_index_init(&s->jobs, s->seed ^ 0x1234);
	sim_index_init(&s->allocs, s->seed ^ 0x5678);
	sim_index_init(&s->tokens, s->seed ^ 0x9abc);
	sim_setup_cluster(s, &err);
	sim_register_parents(s);
	timer_add(s, sim_now(s) + secs(s->gc_interval), NULL, T_GC);
	pthread_mutex_lock(&s->stats_lock);
	for (size_t i = 0; i < s->nstats; i++)
		s->stats[i].count = s->stats[i].bytes = 0;
	s->requests_total = 0;
	pthread_mutex_unlock(&s->stats_lock);
	sim_wake(s);
}

int64_t sim_gauge_alloc_bytes(const struct sim *s)
{
	return GAUGE_BASE + s->live_bytes + (int64_t)s->jobs.bytes + (int64_t)s->allocs.bytes;
}
