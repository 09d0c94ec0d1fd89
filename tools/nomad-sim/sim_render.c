/* Rendering the model as Nomad's JSON: full jobs, list stubs, summaries,
 * allocation stubs and full allocations with task states and events, the
 * ground-truth view, and the text of task logs. Field names, types and
 * null-versus-empty choices follow reference/nomad-api.md sections 1-7. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_json.h"
#include "util.h"

static const int restart_attempts[K_COUNT] = { 0, 0, 3, 3 };

static void render_meta(struct jw *w, const char *key, const struct sim_job *j)
{
	const char *p = j->meta, *end = j->meta + j->meta_len;

	if (!j->meta_len) {
		jw_null(w, key);
		return;
	}
	jw_obj(w, key);
	while (p < end) {
		const char *v = p + strlen(p) + 1;

		jw_str(w, p, v);
		p = v + strlen(v) + 1;
	}
	jw_obj_end(w);
}

static void str_list(struct jw *w, const char *key, const char *const *l)
{
	jw_arr(w, key);
	while (l && *l)
		jw_str(w, NULL, *l++);
	jw_arr_end(w);
}

static const struct sim_job *parent_of(const struct sim_job *j)
{
	return j->parent ? j->parent : j;
}

static void base64(struct buf *out, const unsigned char *in, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct aedb_err err = AEDB_ERR_INIT;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		char q[4] = { tbl[in[i] >> 2], tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)],
			      tbl[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)], tbl[in[i + 2] & 63] };

		buf_append(out, q, 4, &err);
	}
	if (n - i == 1) {
		char q[4] = { tbl[in[i] >> 2], tbl[(in[i] & 3) << 4], '=', '=' };

		buf_append(out, q, 4, &err);
	} else if (n - i == 2) {
		char q[4] = { tbl[in[i] >> 2], tbl[((in[i] & 3) << 4) | (in[i + 1] >> 4)],
			      tbl[(in[i + 1] & 15) << 2], '=' };

		buf_append(out, q, 4, &err);
	}
}

void sim_render_job(struct sim *s, struct jw *w, const char *key, const struct sim_job *j)
{
	const struct sim_job *p = parent_of(j);
	char eval[37];

	jw_obj(w, key);
	jw_null(w, "Affinities");
	jw_bool(w, "AllAtOnce", 0);
	jw_null(w, "Constraints");
	jw_uint(w, "CreateIndex", j->create_index);
	jw_arr(w, "Datacenters");
	jw_str(w, NULL, "dc1");
	jw_arr_end(w);
	jw_str(w, "DispatchIdempotencyToken", j->idem_token ? strchr(j->idem_token, 1) + 1 : "");
	jw_bool(w, "Dispatched", j->parent != NULL);
	jw_str(w, "ID", j->id);
	jw_uint(w, "JobModifyIndex", j->job_modify_index);
	render_meta(w, "Meta", j);
	jw_uint(w, "ModifyIndex", j->modify_index);
	jw_null(w, "Multiregion");
	jw_str(w, "Name", j->id);
	jw_str(w, "Namespace", "default");
	jw_str(w, "NodePool", "default");
	jw_obj(w, "ParameterizedJob");
	str_list(w, "MetaOptional", p->meta_optional);
	str_list(w, "MetaRequired", p->meta_required);
	jw_str(w, "Payload", "optional");
	jw_obj_end(w);
	jw_str(w, "ParentID", j->parent ? j->parent->id : "");
	if (j->payload_len) {
		struct buf b;

		buf_init(&b, SIM_PAYLOAD_MAX * 2, "payload");
		base64(&b, (const unsigned char *)j->payload, j->payload_len);
		jw_str(w, "Payload", buf_str(&b));
		buf_release(&b);
	} else {
		jw_null(w, "Payload");
	}
	jw_null(w, "Periodic");
	jw_int(w, "Priority", j->priority);
	jw_str(w, "Region", "global");
	jw_bool(w, "Stable", 0);
	jw_str(w, "Status", sim_job_status_name(j->status));
	jw_str(w, "StatusDescription", "");
	jw_bool(w, "Stop", j->stop);
	jw_int(w, "SubmitTime", j->submit_time);
	jw_arr(w, "TaskGroups");
	jw_obj(w, NULL);
	jw_int(w, "Count", 1);
	jw_str(w, "Name", sim_kind_task[j->kind]);
	jw_obj(w, "ReschedulePolicy");
	jw_int(w, "Attempts", 0);
	jw_int(w, "Interval", 0);
	jw_int(w, "Delay", 5000000000ll);
	jw_str(w, "DelayFunction", "constant");
	jw_int(w, "MaxDelay", 0);
	jw_bool(w, "Unlimited", 0);
	jw_obj_end(w);
	jw_obj(w, "RestartPolicy");
	jw_int(w, "Attempts", restart_attempts[j->kind]);
	jw_int(w, "Delay", 15000000000ll);
	jw_int(w, "Interval", 86400000000000ll);
	jw_str(w, "Mode", "fail");
	jw_bool(w, "RenderTemplates", 0);
	jw_obj_end(w);
	jw_arr(w, "Tasks");
	jw_obj(w, NULL);
	jw_str(w, "Driver", "docker");
	jw_str(w, "Name", sim_kind_task[j->kind]);
	jw_obj(w, "Resources");
	jw_int(w, "CPU", 1000);
	jw_int(w, "MemoryMB", (int64_t)(s->mem[j->kind] >> 20));
	jw_obj_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_str(w, "Type", "batch");
	jw_uint(w, "Version", 0);
	(void)eval;
	jw_obj_end(w);
}

struct tg_counts {
	int64_t queued, complete, failed, running, starting, lost;
};

static struct tg_counts counts(const struct sim_job *j)
{
	struct tg_counts c = { 0 };
	const struct sim_alloc *a;

	if (j->queued && !j->stop)
		c.queued = 1;
	for (a = j->allocs; a; a = a->job_next) {
		switch (a->client_status) {
		case CS_PENDING: c.starting++; break;
		case CS_RUNNING: c.running++; break;
		case CS_COMPLETE: c.complete++; break;
		case CS_FAILED: c.failed++; break;
		case CS_LOST: c.lost++; break;
		}
	}
	return c;
}

void sim_render_summary(struct sim *s, struct jw *w, const char *key, const struct sim_job *j)
{
	struct tg_counts c = j->parent ? counts(j) : (struct tg_counts){ 0 };

	jw_obj(w, key);
	jw_str(w, "JobID", j->id);
	jw_str(w, "Namespace", "default");
	jw_obj(w, "Summary");
	jw_obj(w, sim_kind_task[j->kind]);
	jw_int(w, "Queued", c.queued);
	jw_int(w, "Complete", c.complete);
	jw_int(w, "Failed", c.failed);
	jw_int(w, "Running", c.running);
	jw_int(w, "Starting", c.starting);
	jw_int(w, "Lost", c.lost);
	jw_int(w, "Unknown", 0);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj(w, "Children");
	jw_int(w, "Pending", j->children[0]);
	jw_int(w, "Running", j->children[1]);
	jw_int(w, "Dead", j->children[2]);
	jw_obj_end(w);
	jw_uint(w, "CreateIndex", j->create_index);
	jw_uint(w, "ModifyIndex", j->summary_index);
	jw_obj_end(w);
}

void sim_render_job_stub(struct sim *s, struct jw *w, const struct sim_job *j, int meta)
{
	jw_obj(w, NULL);
	jw_str(w, "ID", j->id);
	jw_str(w, "ParentID", j->parent ? j->parent->id : "");
	jw_str(w, "Name", j->id);
	jw_str(w, "Namespace", "default");
	jw_arr(w, "Datacenters");
	jw_str(w, NULL, "dc1");
	jw_arr_end(w);
	jw_str(w, "NodePool", "default");
	jw_null(w, "Multiregion");
	jw_str(w, "Type", "batch");
	jw_int(w, "Priority", j->priority);
	jw_bool(w, "Periodic", 0);
	jw_bool(w, "ParameterizedJob", j->parent == NULL);
	jw_bool(w, "Stop", j->stop);
	jw_str(w, "Status", sim_job_status_name(j->status));
	jw_str(w, "StatusDescription", "");
	sim_render_summary(s, w, "JobSummary", j);
	jw_uint(w, "CreateIndex", j->create_index);
	jw_uint(w, "ModifyIndex", j->modify_index);
	jw_uint(w, "JobModifyIndex", j->job_modify_index);
	jw_int(w, "SubmitTime", j->submit_time);
	if (meta && j->meta_len)
		render_meta(w, "Meta", j);
	jw_obj_end(w);
}

static const char *const ev_type_name[] = { "Received", "Task Setup", "Started", "Terminated",
					    "Restarting", "Not Restarting", "Killing", "Killed" };

static void render_event(struct jw *w, const struct sim_task_event *e)
{
	char code[16], disp[128], reason[128];
	const char *msg = "", *display = "";
	int fails = 0;
	int64_t kill_timeout = 0, start_delay = 0;

	snprintf(code, sizeof(code), "%d", e->exit_code);
	reason[0] = '\0';
	switch (e->type) {
	case EV_RECEIVED: display = "Task received by client"; break;
	case EV_TASK_SETUP: msg = display = "Building Task Directory"; break;
	case EV_STARTED: display = "Task started by client"; break;
	case EV_TERMINATED:
		if (e->flags & SIM_EVF_OOM) {
			msg = "OOM Killed";
			snprintf(disp, sizeof(disp), "Exit Code: %d, Exit Message: \"OOM Killed\"",
				 e->exit_code);
		} else {
			snprintf(disp, sizeof(disp), "Exit Code: %d", e->exit_code);
		}
		display = disp;
		break;
	case EV_RESTARTING:
		snprintf(reason, sizeof(reason), "%s", "Restart within policy");
		start_delay = 15000000000ll;
		display = "Restart within policy - Task restarting in 15s";
		break;
	case EV_NOT_RESTARTING:
		fails = 1;
		snprintf(reason, sizeof(reason), "%s",
			 (e->flags & SIM_EVF_NO_RESTARTS)
				 ? "Policy allows no restarts"
				 : "Exceeded allowed attempts 3 in interval 24h0m0s and mode is \"fail\"");
		display = reason;
		break;
	case EV_KILLING:
		kill_timeout = 5000000000ll;
		display = "Sent interrupt. Waiting 5s before force killing";
		break;
	case EV_KILLED: display = "Task successfully killed"; break;
	}
	jw_obj(w, NULL);
	jw_str(w, "Type", ev_type_name[e->type]);
	jw_int(w, "Time", e->time);
	jw_str(w, "Message", msg);
	jw_str(w, "DisplayMessage", display);
	jw_obj(w, "Details");
	switch (e->type) {
	case EV_TASK_SETUP: jw_str(w, "message", msg); break;
	case EV_TERMINATED:
		jw_str(w, "exit_code", code);
		jw_str(w, "signal", "0");
		jw_str(w, "oom_killed", (e->flags & SIM_EVF_OOM) ? "true" : "false");
		if (e->flags & SIM_EVF_OOM)
			jw_str(w, "exit_message", "OOM Killed");
		break;
	case EV_RESTARTING:
		jw_str(w, "restart_reason", reason);
		jw_str(w, "start_delay", "15000000000");
		break;
	case EV_NOT_RESTARTING:
		jw_str(w, "fails_task", "true");
		jw_str(w, "restart_reason", reason);
		break;
	case EV_KILLING: jw_str(w, "kill_timeout", "5000000000"); break;
	default: break;
	}
	jw_obj_end(w);
	jw_bool(w, "FailsTask", fails);
	jw_str(w, "RestartReason", reason);
	jw_str(w, "SetupError", "");
	jw_str(w, "DriverError", "");
	jw_int(w, "ExitCode", e->type == EV_TERMINATED ? e->exit_code : 0);
	jw_int(w, "Signal", 0);
	jw_int(w, "KillTimeout", kill_timeout);
	jw_str(w, "KillError", "");
	jw_str(w, "KillReason", "");
	jw_int(w, "StartDelay", start_delay);
	jw_str(w, "DownloadError", "");
	jw_str(w, "ValidationError", "");
	jw_int(w, "DiskLimit", 0);
	jw_str(w, "FailedSibling", "");
	jw_str(w, "VaultError", "");
	jw_str(w, "TaskSignalReason", "");
	jw_str(w, "TaskSignal", "");
	jw_str(w, "DriverMessage", "");
	jw_str(w, "GenericSource", "");
	jw_obj_end(w);
}

static void node_id(const struct sim *s, int node, char out[37])
{
	unsigned char b[16];
	uint64_t x = s->seed * 0x9e3779b97f4a7c15ull + (uint64_t)node * 0xbf58476d1ce4e5b9ull + 1;
	int i;

	for (i = 0; i < 16; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (unsigned char)x;
	}
	sim_uuid_fmt(b, out);
}

static const char *const desired_desc[] = { "", "alloc not needed due to job update",
					    "alloc is lost since its node is down" };

static const char *client_desc(const struct sim_alloc *a)
{
	switch (a->client_status) {
	case CS_PENDING: return "No tasks have started";
	case CS_RUNNING: return "Tasks are running";
	case CS_COMPLETE: return "All tasks have completed";
	case CS_FAILED: return "Failed tasks";
	default: return "";
	}
}

void sim_render_alloc(struct sim *s, struct jw *w, const char *key, const struct sim_alloc *a,
		      int full, int task_states)
{
	const struct sim_job *j = a->job;
	char nid[37], eval[37], name[64];
	size_t i;

	node_id(s, a->node, nid);
	sim_uuid_fmt(j->eval_id, eval);
	snprintf(name, sizeof(name), "sim-node-%d", a->node);
	jw_obj(w, key);
	jw_str(w, "ID", a->id);
	jw_str(w, "EvalID", eval);
	{
		char *n = xasprintf("%s.%s[0]", j->id, sim_kind_task[j->kind]);

		jw_str(w, "Name", n);
		free(n);
	}
	jw_str(w, "Namespace", "default");
	jw_str(w, "NodeID", nid);
	jw_str(w, "NodeName", name);
	jw_str(w, "JobID", j->id);
	jw_str(w, "JobType", "batch");
	jw_uint(w, "JobVersion", 0);
	jw_str(w, "TaskGroup", sim_kind_task[j->kind]);
	jw_str(w, "DesiredStatus", a->desired_status == DS_STOP ? "stop" : "run");
	jw_str(w, "DesiredDescription", desired_desc[a->desired_desc]);
	jw_str(w, "ClientStatus", sim_client_status_name(a->client_status));
	jw_str(w, "ClientDescription", client_desc(a));
	jw_obj(w, "DesiredTransition");
	jw_null(w, "Migrate");
	jw_null(w, "Reschedule");
	jw_null(w, "ForceReschedule");
	jw_null(w, "NoShutdownDelay");
	jw_null(w, "MigrateDisablePlacement");
	jw_obj_end(w);
	if (task_states) {
		jw_obj(w, "TaskStates");
		jw_obj(w, sim_kind_task[j->kind]);
		jw_str(w, "State", a->task_state == TS_PENDING ? "pending"
				   : a->task_state == TS_RUNNING ? "running" : "dead");
		jw_bool(w, "Failed", a->task_failed);
		jw_uint(w, "Restarts", a->restarts);
		if (a->restarts) {
			int64_t last = 0;

			for (i = 0; i < a->nevents; i++)
				if (a->ev[i].type == EV_RESTARTING)
					last = a->ev[i].time;
			jw_time(w, "LastRestart", last);
		} else {
			jw_null(w, "LastRestart");
		}
		jw_time(w, "StartedAt", a->started_at);
		jw_time(w, "FinishedAt", a->task_state == TS_DEAD ? a->finished_at : 0);
		jw_arr(w, "Events");
		for (i = 0; i < a->nevents; i++)
			render_event(w, &a->ev[i]);
		jw_arr_end(w);
		jw_str(w, "Paused", "");
		jw_obj_end(w);
		jw_obj_end(w);
	} else {
		jw_null(w, "TaskStates");
	}
	jw_null(w, "DeploymentStatus");
	jw_str(w, "FollowupEvalID", "");
	jw_str(w, "NextAllocation", a->next_alloc ? a->next_alloc->id : "");
	jw_null(w, "RescheduleTracker");
	jw_null(w, "PreemptedAllocations");
	jw_str(w, "PreemptedByAllocation", "");
	jw_uint(w, "CreateIndex", a->create_index);
	jw_uint(w, "ModifyIndex", a->modify_index);
	jw_int(w, "CreateTime", a->create_time);
	jw_int(w, "ModifyTime", a->modify_time);
	if (full) {
		jw_str(w, "PreviousAllocation", a->prev_alloc ? a->prev_alloc->id : "");
		sim_render_job(s, w, "Job", j);
		jw_obj(w, "AllocatedResources");
		jw_obj(w, "Tasks");
		jw_obj(w, sim_kind_task[j->kind]);
		jw_obj(w, "Memory");
		jw_int(w, "MemoryMB", (int64_t)(s->mem[j->kind] >> 20));
		jw_obj_end(w);
		jw_obj_end(w);
		jw_obj_end(w);
		jw_obj_end(w);
		jw_uint(w, "AllocModifyIndex", a->create_index);
	}
	jw_obj_end(w);
}

int sim_tags_from_id(const char *id, char *out, size_t size)
{
	const char *d = strstr(id, "/dispatch-");
	const char *end;
	int dashes = 0;

	out[0] = '\0';
	if (!d)
		return -1;
	d += strlen("/dispatch-");
	end = d + strlen(d);
	/* drop "-<unix>-<hex>" from the end */
	while (end > d && dashes < 2) {
		end--;
		if (*end == '-')
			dashes++;
	}
	if (dashes < 2 || end <= d) /* no template */
		return 0;
	snprintf(out, size, "%.*s", (int)(end - d), d);
	return 0;
}

void sim_render_truth_job(struct sim *s, struct jw *w, const struct sim_job *j)
{
	char tmpl[1024];
	const struct sim_alloc *a;
	size_t i;

	jw_obj(w, NULL);
	jw_str(w, "ID", j->id);
	jw_str(w, "ParentID", j->parent ? j->parent->id : "");
	render_meta(w, "Meta", j);
	sim_tags_from_id(j->id, tmpl, sizeof(tmpl));
	jw_str(w, "Template", tmpl);
	jw_obj(w, "Tags");
	if (tmpl[0] == '[') {
		char *p = tmpl + 1;
		size_t n = strlen(p);

		if (n && p[n - 1] == ']')
			p[n - 1] = '\0';
		while (*p) {
			char *comma = strchr(p, ',');
			char *eq;

			if (comma)
				*comma = '\0';
			eq = strchr(p, '=');
			if (eq) {
				*eq = '\0';
				jw_str(w, p, eq + 1);
			}
			if (!comma)
				break;
			p = comma + 1;
		}
	}
	jw_obj_end(w);
	jw_int(w, "SubmitTime", j->submit_time);
	jw_str(w, "Status", sim_job_status_name(j->status));
	jw_str(w, "Outcome", sim_outcome_name[j->plan.outcome]);
	if (j->kind == K_PIPELINE)
		jw_str(w, "OutcomeStage", sim_stage_name(j->plan.stage));
	jw_bool(w, "Stopped", j->stop);
	jw_bool(w, "Purged", j->purged);
	jw_bool(w, "GCd", j->gcd);
	jw_arr(w, "Allocations");
	for (a = j->allocs; a; a = a->job_next) {
		jw_obj(w, NULL);
		jw_str(w, "ID", a->id);
		jw_str(w, "ClientStatus", sim_client_status_name(a->client_status));
		jw_str(w, "DesiredStatus", a->desired_status == DS_STOP ? "stop" : "run");
		if (a->exit_code >= 0)
			jw_int(w, "ExitCode", a->exit_code);
		else
			jw_null(w, "ExitCode");
		jw_bool(w, "OOMKilled", a->nevents && a->exit_code == 137);
		jw_uint(w, "Restarts", a->restarts);
		jw_bool(w, "Removed", a->removed);
		jw_arr(w, "Events");
		for (i = 0; i < a->nevents; i++)
			jw_str(w, NULL, ev_type_name[a->ev[i].type]);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

/* ---------- logs ---------- */

static void logf_line(struct buf *b, int64_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_line(struct buf *b, int64_t t, const char *fmt, ...)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char stamp[40], line[1024];
	va_list ap;

	aedb_format_time(t, stamp, sizeof(stamp));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(b, &err, "%s %s\n", stamp, line);
}

/* Stage task output: a plausible story for the job's kind and fate,
 * rebuilt from its state on every call (nothing is stored per task). It
 * includes warnings the upstream report rules exclude, and on failure the
 * error lines they match. */
static void stage_log(const struct sim_alloc *a, int err_log, struct buf *b)
{
	const struct sim_job *j = a->job;
	int64_t t = a->started_at;
	int dead = a->task_state == TS_DEAD;
	const char *out = sim_meta_get(j, "output_path");
	int fail = dead && a->task_failed;
	int oom = fail && a->exit_code == 137;

	if (!out)
		out = "";
	if (!err_log) {
		logf_line(b, t, "starting %s %s", sim_kind_parent[j->kind], j->id);
		if (dead && !fail)
			logf_line(b, a->finished_at, "done: %s", out);
		return;
	}
	switch (j->kind) {
	case K_INUNDATE:
		logf_line(b, t, "INFO Reading catchment %s",
			  sim_meta_get(j, "catchment_data_path") ? sim_meta_get(j, "catchment_data_path") : "");
		logf_line(b, t + 1000000, "WARNING No matching forecast data for 2 reaches, skipping them");
		if (fail && !oom)
			logf_line(b, a->finished_at,
				  "ERROR Inundation failed: rasterio.errors.RasterioIOError: %s: No such file or directory",
				  sim_meta_get(j, "forecast_path") ? sim_meta_get(j, "forecast_path") : "");
		else if (dead && !fail)
			logf_line(b, a->finished_at, "INFO Wrote %s", out);
		break;
	case K_MOSAIC:
		logf_line(b, t, "INFO Mosaicking rasters from %s",
			  sim_meta_get(j, "raster_paths") ? sim_meta_get(j, "raster_paths") : "");
		logf_line(b, t + 2000000, "distributed.worker.memory - WARNING - Unmanaged memory use is high. This may indicate a memory leak");
		logf_line(b, t + 3000000, "rasterio._env - WARNING - NotGeoreferencedWarning: Dataset has no geotransform");
		if (fail && !oom)
			logf_line(b, a->finished_at, "ERROR Mosaic failed: ValueError: no valid input rasters for %s", out);
		else if (dead && !fail)
			logf_line(b, a->finished_at, "INFO Wrote mosaic %s", out);
		break;
	case K_AGREEMENT:
		logf_line(b, t, "INFO Computing agreement of %s and %s",
			  sim_meta_get(j, "candidate_path") ? sim_meta_get(j, "candidate_path") : "",
			  sim_meta_get(j, "benchmark_path") ? sim_meta_get(j, "benchmark_path") : "");
		logf_line(b, t + 2000000, "UserWarning: Sending large graph of size 12.3 MiB. warnings.warn(");
		if (fail && !oom)
			logf_line(b, a->finished_at, "ERROR Agreement failed: botocore.exceptions.ClientError: An error occurred (403) when calling the PutObject operation: Forbidden");
		else if (dead && !fail)
			logf_line(b, a->finished_at, "INFO Wrote agreement %s and metrics", out);
		break;
	default:
		break;
	}
	if (oom)
		logf_line(b, a->finished_at - 1000000, "INFO Processing tile 17/40");
}

char *sim_render_log(struct sim *s, const struct sim_alloc *a, int err_log, size_t *len)
{
	struct buf b;

	buf_init(&b, SIM_LOG_MAX * 2, "log");
	if (a->job->kind == K_PIPELINE) {
		if (err_log) {
			struct aedb_err err = AEDB_ERR_INIT;

			buf_append(&b, a->log ? a->log : "", a->log_len, &err);
			if (a->task_failed && a->exit_code == 137)
				logf_line(&b, a->finished_at, "%s", "Killed");
		} else {
			logf_line(&b, a->started_at, "coordinator %s starting", a->job->id);
		}
	} else {
		stage_log(a, err_log, &b);
	}
	if (!b.data) {
		struct aedb_err err = AEDB_ERR_INIT;

		buf_puts(&b, "", &err);
	}
	return buf_detach(&b, len);
}
