/* Scenario files and fault knobs: JSON read with cJSON into the simulator's
 * configuration. A scenario sets the cluster (nodes, memory), durations,
 * GC, the event stream switch, default outcomes and per-item overrides
 * matched by glob on the pipeline's item (aoi_name); faults set the
 * probabilities of injected HTTP failures. docs/nomad-sim.md has the
 * format. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"
#include "util.h"

static int kind_key(const char *k)
{
	static const char *const short_names[K_COUNT] = { "pipeline", "inundate", "mosaic",
							  "agreement" };
	int i;

	for (i = 0; i < K_COUNT; i++)
		if (strcmp(k, short_names[i]) == 0 || strcmp(k, sim_kind_parent[i]) == 0)
			return i;
	return -1;
}

static int get_num(const cJSON *o, const char *name, double *out, struct aedb_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v))
		return aedb_err_setk(err, AEDB_E_USAGE, "scenario: '%s' must be a number", name);
	*out = v->valuedouble;
	return 1;
}

static int get_size(const cJSON *v, const char *name, uint64_t *out, struct aedb_err *err)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
		*out = (uint64_t)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && parse_size(v->valuestring, out) == 0)
		return 0;
	return aedb_err_setk(err, AEDB_E_USAGE, "scenario: '%s' must be a byte size like \"3GB\"",
			     name);
}

/* Outcome fields of "defaults" or one "items" entry. */
static int parse_plan(const cJSON *o, struct sim_rule *r, const char *where, struct aedb_err *err)
{
	const cJSON *v;
	double d = 0;

	v = cJSON_GetObjectItemCaseSensitive(o, "outcome");
	if (v) {
		int oc = cJSON_IsString(v) ? sim_outcome_parse(v->valuestring) : -1;

		if (oc < 0)
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "scenario %s: outcome must be one of success, early_exit, failed, stage_error, oom, lost, stuck",
					     where);
		r->plan.outcome = (uint8_t)oc;
		r->has_outcome = 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "stage");
	if (v) {
		int st;

		if (!cJSON_IsString(v) || sim_stage_parse(v->valuestring, &st) != 0)
			return aedb_err_setk(err, AEDB_E_USAGE,
					     "scenario %s: stage must be pipeline, inundate, mosaic or agreement",
					     where);
		r->plan.stage = (int8_t)st;
		r->has_stage = 1;
	}
	switch (get_num(o, "scenarios", &d, err)) {
	case -1: return -1;
	case 1:
		if (d < 0 || d > 64)
			return aedb_err_setk(err, AEDB_E_USAGE, "scenario %s: scenarios must be 0..64", where);
		r->plan.scenarios = (uint16_t)d;
		r->has_scen = 1;
	}
	switch (get_num(o, "catchments", &d, err)) {
	case -1: return -1;
	case 1:
		if (d < 0 || d > 10000)
			return aedb_err_setk(err, AEDB_E_USAGE, "scenario %s: catchments must be 0..10000", where);
		r->plan.catchments = (uint16_t)d;
		r->has_catch = 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "message");
	if (cJSON_IsString(v))
		r->plan.message = xstrdup(v->valuestring);
	return 0;
}

static int default_stage(int outcome)
{
	switch (outcome) {
	case O_LOST: return ST_INUNDATE;
	case O_FAILED: return ST_MOSAIC;
	case O_STUCK: return ST_PIPELINE;
	default: return ST_AGREEMENT;
	}
}

#define STAGE_AUTO (-2)

struct sim_plan sim_plan_for_item(const struct sim *s, const char *item)
{
	struct sim_plan p = s->defaults;
	size_t i;

	for (i = 0; i < s->nrules; i++) {
		const struct sim_rule *r = &s->rules[i];

		if (fnmatch(r->glob, item, 0) != 0)
			continue;
		if (r->has_outcome) {
			p.outcome = r->plan.outcome;
			p.stage = STAGE_AUTO;
		}
		if (r->has_stage)
			p.stage = r->plan.stage;
		if (r->has_scen)
			p.scenarios = r->plan.scenarios;
		if (r->has_catch)
			p.catchments = r->plan.catchments;
		if (r->plan.message)
			p.message = r->plan.message;
		break;
	}
	if (p.stage == STAGE_AUTO)
		p.stage = (int8_t)default_stage(p.outcome);
	return p;
}

int sim_faults_apply(struct sim *s, const char *json, struct aedb_err *err)
{
	cJSON *root = cJSON_Parse(json);
	struct sim_faults f = { 0 };
	const cJSON *v;
	int ret = -1;
	struct {
		const char *name;
		double *p;
	} probs[] = {
		{ "no_leader", &f.p_no_leader },
		{ "too_many_requests", &f.p_429 },
		{ "drop_connection", &f.p_drop },
		{ "dispatch_drop_response", &f.p_dispatch_drop },
		{ "log_404", &f.p_log_404 },
		{ "latency_probability", &f.p_latency },
	};
	size_t i;
	double d = 0;

	if (!cJSON_IsObject(root)) {
		aedb_err_setk(err, AEDB_E_USAGE, "faults: body must be a JSON object");
		goto out;
	}
	for (v = root->child; v; v = v->next) {
		int known = strcmp(v->string, "latency_ms") == 0 || strcmp(v->string, "gc_now") == 0;

		for (i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
			if (strcmp(v->string, probs[i].name) == 0)
				known = 1;
		if (!known) {
			aedb_err_setk(err, AEDB_E_USAGE, "faults: unknown key '%s'", v->string);
			goto out;
		}
	}
	for (i = 0; i < sizeof(probs) / sizeof(probs[0]); i++) {
		int r = get_num(root, probs[i].name, &d, err);

		if (r < 0)
			goto out;
		if (r == 1) {
			if (d < 0 || d > 1) {
				aedb_err_setk(err, AEDB_E_USAGE, "faults: '%s' must be a probability 0..1",
					      probs[i].name);
				goto out;
			}
			*probs[i].p = d;
		}
	}
	if (get_num(root, "latency_ms", &d, err) < 0)
		goto out;
	f.latency_ms = (int64_t)d;
	if (f.latency_ms && !cJSON_GetObjectItemCaseSensitive(root, "latency_probability"))
		f.p_latency = 1;
	s->faults = f;
	v = cJSON_GetObjectItemCaseSensitive(root, "gc_now");
	if (cJSON_IsTrue(v))
		sim_gc(s, 1);
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

int sim_scenario_load(struct sim *s, const char *text, struct aedb_err *err)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *v, *it;
	struct sim_rule def = { 0 };
	double d = 0;
	int ret = -1, k;

	if (!cJSON_IsObject(root)) {
		aedb_err_setk(err, AEDB_E_USAGE, "scenario: not a JSON object");
		goto out;
	}
	if (get_num(root, "nodes", &d, err) < 0)
		goto out;
	else if (cJSON_GetObjectItemCaseSensitive(root, "nodes"))
		s->nnodes = (int)d;
	v = cJSON_GetObjectItemCaseSensitive(root, "node_memory");
	if (v && get_size(v, "node_memory", &s->node_mem, err) != 0)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(root, "memory");
	for (it = v ? v->child : NULL; it; it = it->next) {
		k = kind_key(it->string);
		if (k < 0) {
			aedb_err_setk(err, AEDB_E_USAGE, "scenario: memory: unknown job '%s'", it->string);
			goto out;
		}
		if (get_size(it, it->string, &s->mem[k], err) != 0)
			goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "durations");
	for (it = v ? v->child : NULL; it; it = it->next) {
		k = kind_key(it->string);
		if (k < 0 || !cJSON_IsNumber(it) || it->valuedouble < 0) {
			aedb_err_setk(err, AEDB_E_USAGE,
				      "scenario: durations: '%s' must be a job (pipeline, inundate, mosaic, agreement) with seconds",
				      it->string);
			goto out;
		}
		s->dur[k] = it->valuedouble;
	}
	if (get_num(root, "start_delay", &s->start_delay, err) < 0 ||
	    get_num(root, "restart_delay", &s->restart_delay, err) < 0 ||
	    get_num(root, "gc_threshold", &s->gc_threshold, err) < 0 ||
	    get_num(root, "gc_interval", &s->gc_interval, err) < 0)
		goto out;
	if (s->gc_interval < 1)
		s->gc_interval = 1;
	v = cJSON_GetObjectItemCaseSensitive(root, "event_stream");
	if (v)
		s->events_enabled = cJSON_IsTrue(v);
	if (get_num(root, "event_buffer_size", &d, err) < 0)
		goto out;
	else if (cJSON_GetObjectItemCaseSensitive(root, "event_buffer_size")) {
		if (d < 1 || d > SIM_EVENT_BUFFER_MAX) {
			aedb_err_setk(err, AEDB_E_USAGE, "scenario: event_buffer_size must be 1..%d",
				      SIM_EVENT_BUFFER_MAX);
			goto out;
		}
		sim_events_resize(s, (size_t)d);
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "defaults");
	if (v) {
		def.plan = s->defaults;
		def.plan.message = NULL;
		if (parse_plan(v, &def, "defaults", err) != 0)
			goto out;
		if (def.plan.message) {
			free((char *)s->defaults.message);
		} else {
			def.plan.message = s->defaults.message;
		}
		if (!def.has_stage)
			def.plan.stage = STAGE_AUTO;
		s->defaults = def.plan;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "items");
	for (it = v ? v->child : NULL; it; it = it->next) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "match");
		struct sim_rule r = { 0 };

		if (!cJSON_IsString(m)) {
			aedb_err_setk(err, AEDB_E_USAGE, "scenario: every items entry needs a \"match\" glob");
			goto out;
		}
		if (s->nrules >= SIM_RULES_MAX) {
			aedb_err_setk(err, AEDB_E_USAGE, "scenario: more than %d items entries",
				      SIM_RULES_MAX);
			goto out;
		}
		if (parse_plan(it, &r, m->valuestring, err) != 0)
			goto out;
		r.glob = xstrdup(m->valuestring);
		s->rules[s->nrules++] = r;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "faults");
	if (v) {
		char *f = cJSON_PrintUnformatted(v);
		int r = sim_faults_apply(s, f, err);

		free(f);
		if (r != 0)
			goto out;
	}
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}
