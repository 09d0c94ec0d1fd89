/* The Nomad simulator's model: parameterized parents, dispatched children,
 * allocations with task states and events, a memory-based cluster, the
 * pipeline coordinator, scenarios, faults, counters and the event buffer.
 * One mutex (sim.lock) guards all of it; HTTP handlers and the clock thread
 * take it for every read or write. Objects are never freed while the
 * simulator runs (purged and GC'd jobs stay as ground truth), so pointers
 * held by timers and coordinators stay valid; /sim/reset frees everything
 * at once under the lock. */
#ifndef SIM_H
#define SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sim_index.h"

#define SIM_MAX_EVENTS 10              /* task events kept per task, as Nomad */
#define SIM_RESPONSE_MAX (1024u << 20) /* one rendered response */
#define SIM_META_MAX (64u << 10)       /* packed dispatch meta of one job */
#define SIM_PAYLOAD_MAX 16384          /* Nomad's DispatchPayloadSizeLimit */
#define SIM_LOG_MAX (1u << 20)         /* coordinator stderr of one alloc */
#define SIM_RULES_MAX 256              /* per-item scenario overrides */
#define SIM_EVENT_BUFFER_MAX 100000    /* --event-buffer-size cap */
#define SIM_NODES_MAX 100000
#define SIM_WAIT_MAX_S 300             /* blocking query cap, as Nomad */
#define SIM_ENDPOINTS 32

enum sim_kind { K_PIPELINE, K_INUNDATE, K_MOSAIC, K_AGREEMENT, K_COUNT };
enum sim_job_status { JS_PENDING, JS_RUNNING, JS_DEAD };
enum sim_client_status { CS_PENDING, CS_RUNNING, CS_COMPLETE, CS_FAILED, CS_LOST };
enum sim_desired { DS_RUN, DS_STOP };
enum sim_desired_desc { DD_NONE, DD_JOB_UPDATE, DD_LOST };
enum sim_task_state { TS_PENDING, TS_RUNNING, TS_DEAD };
enum sim_outcome { O_SUCCESS, O_EARLY_EXIT, O_FAILED, O_STAGE_ERROR, O_OOM, O_LOST, O_STUCK,
		   O_COUNT };
enum sim_stage { ST_PIPELINE = -1, ST_INUNDATE = 0, ST_MOSAIC = 1, ST_AGREEMENT = 2, ST_DONE = 3 };
enum sim_ev_type { EV_RECEIVED, EV_TASK_SETUP, EV_STARTED, EV_TERMINATED, EV_RESTARTING,
		   EV_NOT_RESTARTING, EV_KILLING, EV_KILLED };

struct sim_task_event {
	int64_t time;          /* sim unix ns */
	int16_t exit_code;
	uint8_t type;          /* enum sim_ev_type */
	uint8_t flags;         /* SIM_EVF_* */
};
#define SIM_EVF_OOM 1
#define SIM_EVF_NO_RESTARTS 2  /* Not Restarting: "Policy allows no restarts" */

struct sim_job;

struct sim_alloc {
	char id[37];
	struct sim_job *job;
	struct sim_alloc *job_next;      /* the job's allocs, newest first */
	struct sim_alloc *all_prev, *all_next; /* every live alloc, creation order */
	struct sim_alloc *prev_alloc, *next_alloc; /* lost-node replacement chain */
	int node;
	uint32_t gen;                    /* bumps on every transition: stale timers skip */
	uint8_t client_status, desired_status, desired_desc, task_state, task_failed;
	uint8_t nevents, removed, logs_gone, fault_done, restarts, holds_mem;
	int16_t exit_code;               /* last exit code, -1 none */
	int64_t started_at, finished_at; /* sim unix ns, 0 = null */
	uint64_t create_index, modify_index;
	int64_t create_time, modify_time;
	struct sim_task_event ev[SIM_MAX_EVENTS];
	/* pipeline coordinator state (pipeline allocs only) */
	int8_t stage;
	uint8_t coord_done, stage_failed;
	int32_t outstanding;
	int32_t scen_ok;
	char *log;                       /* coordinator stderr so far (pipeline) */
	size_t log_len;
	char *stage_fail_note;           /* first stage failure, for the FAILED line */
};

/* What a pipeline (and its stage jobs) will do: resolved from the scenario
 * when the pipeline is dispatched. */
struct sim_plan {
	uint8_t outcome;       /* enum sim_outcome */
	int8_t stage;          /* enum sim_stage the outcome applies to */
	uint16_t scenarios, catchments;
	const char *message;   /* failed: the error text; owned by the scenario */
};

struct sim_job {
	char *id;
	struct sim_job *parent;          /* NULL for the four parameterized parents */
	struct sim_job *truth_next;      /* every dispatched job, dispatch order */
	struct sim_job *queue_prev, *queue_next; /* placement queue of its kind */
	struct sim_alloc *allocs;
	struct sim_alloc *waiter;        /* the pipeline alloc awaiting this stage job */
	char *meta;                      /* packed "k\0v\0" pairs */
	uint32_t meta_len;
	char *payload;                   /* decoded bytes or NULL */
	uint32_t payload_len;
	char *idem_token;                /* "<parent>\x01<token>": the tokens index key */
	uint8_t kind, status, stop, removed, purged, gcd, queued, ever_placed, has_eval;
	int8_t scen_no;                  /* stage jobs: scenario number, -1 none */
	struct sim_plan plan;
	int priority;
	int64_t submit_time;             /* sim unix ns */
	int64_t dead_time;
	uint64_t create_index, modify_index, job_modify_index, summary_index;
	unsigned char eval_id[16];
	int64_t children[3];             /* parents: Pending, Running, Dead */
	/* parents only */
	const char *const *meta_required;
	const char *const *meta_optional;
};

struct sim_rule {
	char *glob;
	struct sim_plan plan;
	int has_outcome, has_stage, has_scen, has_catch;
};

struct sim_faults {
	double p_no_leader, p_429, p_drop, p_dispatch_drop, p_log_404;
	int64_t latency_ms;          /* added to every API call */
	double p_latency;            /* probability of adding it (1 when only latency_ms given) */
};

struct sim_stat {
	const char *name;
	uint64_t count, bytes;
};

struct sim_event {
	unsigned topic;        /* SIM_TOPIC_* */
	char *key;             /* job or alloc id */
	char *job_id;          /* FilterKeys[0] for allocations */
	char *json;            /* the rendered event object */
};
#define SIM_TOPIC_JOB 1
#define SIM_TOPIC_ALLOC 2

struct sim_event_batch {
	uint64_t index;
	struct sim_event *ev;
	size_t n;
};

struct sim_timer {
	int64_t at;            /* sim ns */
	uint64_t seq;
	struct sim_alloc *alloc;
	uint32_t gen;
	uint8_t what;          /* enum sim_timer_kind */
};

enum sim_timer_kind { T_START, T_FINISH, T_RESTART, T_LOST, T_COORD, T_GC };

struct sim {
	pthread_mutex_t lock;
	pthread_cond_t changed;          /* broadcast after every write batch */
	pthread_cond_t tick;             /* wakes the clock thread */
	int stopping;

	/* clock */
	double speed;
	int64_t wall0_ns, mono0_ns;

	uint64_t rng;
	uint64_t seed;

	/* configuration (flags, then scenario) */
	char *acl_token;
	int nnodes;
	uint64_t node_mem;
	uint64_t mem[K_COUNT];
	double dur[K_COUNT];            /* seconds of simulated work per kind */
	double start_delay;             /* placement -> Started, sim s */
	double restart_delay;           /* Restarting delay, sim s */
	double gc_threshold;            /* sim s; <0 never */
	double gc_interval;             /* sim s */
	struct sim_plan defaults;
	struct sim_rule rules[SIM_RULES_MAX];
	size_t nrules;
	struct sim_faults faults;
	int events_enabled;
	size_t event_buffer_size;
	int gc_immediate;               /* PUT /v1/system/gc collects before answering */

	/* state */
	uint64_t index;                 /* raft index */
	uint64_t jobs_index, allocs_index;
	struct sim_index jobs;
	struct sim_index allocs;
	struct sim_index tokens;        /* "<parent>\x01<token>" -> child */
	struct sim_job *parents[K_COUNT];
	struct sim_job *truth_head, *truth_tail;
	uint64_t ndispatched;
	struct sim_alloc *alloc_head, *alloc_tail;
	struct sim_job *queue_head[K_COUNT], *queue_tail[K_COUNT];
	uint64_t *node_free;            /* per node */
	uint64_t *seg;                  /* segment tree: max free per range */
	int segn;
	int64_t live_bytes;             /* estimate of retained objects */
	int64_t active_pipelines, peak_active_pipelines;

	/* timers: a binary heap */
	struct sim_timer *heap;
	size_t nheap, heap_alloc;
	uint64_t timer_seq;

	/* event stream ring */
	struct sim_event_batch *ring;
	size_t ring_start, ring_count;
	uint64_t ring_evicted;          /* index of the last batch pushed out of the ring */
	struct sim_event *pending;      /* events of the write in progress */
	size_t npending, pending_alloc;
	uint64_t pending_index;
	double heartbeat_s;             /* event stream heartbeat, real seconds */

	/* request counters */
	pthread_mutex_t stats_lock;
	struct sim_stat stats[SIM_ENDPOINTS];
	size_t nstats;
	uint64_t requests_total;
};

extern const char *const sim_kind_parent[K_COUNT];
extern const char *const sim_kind_task[K_COUNT];
extern const char *const sim_outcome_name[O_COUNT];

/* sim_model.c */
void sim_init(struct sim *s, uint64_t seed, double speed);
void sim_release_state(struct sim *s);
void sim_reset(struct sim *s);                 /* under lock */
int64_t sim_now(const struct sim *s);          /* sim unix ns */
uint64_t sim_rand(struct sim *s);
void sim_uuid(struct sim *s, char out[37]);
void sim_uuid_fmt(const unsigned char b[16], char out[37]);
int sim_setup_cluster(struct sim *s, struct aedb_err *err);
void sim_register_parents(struct sim *s);
void *sim_clock_thread(void *arg);
void sim_wake(struct sim *s);                   /* broadcast "changed" + tick */
int sim_kind_of(const char *parent_id);
const char *sim_meta_get(const struct sim_job *j, const char *key);
int sim_outcome_parse(const char *s);
int sim_stage_parse(const char *s, int *out);
const char *sim_stage_name(int stage);

/* Dispatch a child of parent (validation done by the caller). meta is
 * packed; tmpl may be NULL. Returns the new job. */
struct sim_job *sim_dispatch(struct sim *s, struct sim_job *parent, const char *meta,
			     size_t meta_len, const char *payload, size_t payload_len,
			     const char *tmpl, const char *token, int priority);
void sim_stop_job(struct sim *s, struct sim_job *j);
void sim_purge_job(struct sim *s, struct sim_job *j, int gc);
int sim_gc(struct sim *s, int force);           /* returns jobs collected */
const char *sim_job_status_name(int st);
const char *sim_client_status_name(int cs);

/* Add streamed response bytes to an endpoint's counter (streams are sent
 * after the handler returns, so the router cannot count them). */
void sim_stats_bytes(struct sim *s, const char *name, size_t bytes);

/* events (sim_events.c) */
void sim_event_job(struct sim *s, struct sim_job *j, const char *type, int deleted);
void sim_event_alloc(struct sim *s, struct sim_alloc *a, const char *type);
void sim_event_commit(struct sim *s);
void sim_events_resize(struct sim *s, size_t n);
void sim_events_clear(struct sim *s);
/* The event stream response for one subscriber (sim_api.c calls it). */
struct httpd_req;
void sim_events_serve(struct sim *s, struct httpd_req *r, uint64_t index, char **topics,
		      size_t ntopics);
int64_t sim_gauge_alloc_bytes(const struct sim *s);

/* scenario (sim_scenario.c) */
int sim_scenario_load(struct sim *s, const char *text, struct aedb_err *err);
int sim_faults_apply(struct sim *s, const char *json, struct aedb_err *err);
struct sim_plan sim_plan_for_item(const struct sim *s, const char *item);

/* sim_render.c */
struct jw;
/* Each writes one JSON object, under key (NULL in arrays / at the top). */
void sim_render_job(struct sim *s, struct jw *w, const char *key, const struct sim_job *j);
void sim_render_job_stub(struct sim *s, struct jw *w, const struct sim_job *j, int meta);
void sim_render_summary(struct sim *s, struct jw *w, const char *key, const struct sim_job *j);
void sim_render_alloc(struct sim *s, struct jw *w, const char *key, const struct sim_alloc *a,
		      int full, int task_states);
void sim_render_truth_job(struct sim *s, struct jw *w, const struct sim_job *j);
/* The task's log text (stdout or stderr) as of now; malloc'd. */
char *sim_render_log(struct sim *s, const struct sim_alloc *a, int stderr_log, size_t *len);
int sim_tags_from_id(const char *id, char *out, size_t size); /* the [..] template part */

#endif
