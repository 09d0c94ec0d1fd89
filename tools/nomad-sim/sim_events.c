/* The event stream (/v1/event/stream): every write collects its Job and
 * Allocation events into one batch under its raft index; the last
 * event_buffer_size batches are kept in a ring (Nomad's event_buffer_size)
 * so a subscriber can replay from an index. Each subscriber is a streamed
 * response that waits on the model's condition variable and writes
 * newline-delimited JSON, with `{}` first and as heartbeat. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "sim.h"
#include "sim_json.h"
#include "util.h"

static void event_free(struct sim_event *e)
{
	free(e->key);
	free(e->job_id);
	free(e->json);
}

/* The i-th oldest batch of the ring. */
static struct sim_event_batch *ring_at(struct sim *s, size_t i)
{
	return &s->ring[(s->ring_start + i) % s->event_buffer_size];
}

static void batch_free(struct sim_event_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		event_free(&b->ev[i]);
	free(b->ev);
	b->ev = NULL;
	b->n = 0;
}

void sim_events_clear(struct sim *s)
{
	size_t i;

	for (i = 0; i < s->ring_count; i++)
		batch_free(ring_at(s, i));
	s->ring_count = s->ring_start = 0;
	s->ring_evicted = 0;
	for (i = 0; i < s->npending; i++)
		event_free(&s->pending[i]);
	free(s->pending);
	s->pending = NULL;
	s->npending = s->pending_alloc = 0;
}

void sim_events_resize(struct sim *s, size_t n)
{
	sim_events_clear(s);
	free(s->ring);
	s->ring = NULL;
	s->event_buffer_size = n;
}

static void push(struct sim *s, unsigned topic, const char *key, const char *job_id, char *json)
{
	struct sim_event *e;

	if (s->npending == s->pending_alloc) {
		s->pending_alloc = s->pending_alloc ? s->pending_alloc * 2 : 8;
		s->pending = xrealloc(s->pending, s->pending_alloc * sizeof(*s->pending));
	}
	e = &s->pending[s->npending++];
	e->topic = topic;
	e->key = xstrdup(key);
	e->job_id = job_id ? xstrdup(job_id) : NULL;
	e->json = json;
}

static void head(struct jw *w, struct sim *s, const char *topic, const char *type, const char *key,
		 const char *job_id)
{
	jw_obj(w, NULL);
	jw_str(w, "Topic", topic);
	jw_str(w, "Type", type);
	jw_str(w, "Key", key);
	jw_str(w, "Namespace", "default");
	if (job_id) {
		jw_arr(w, "FilterKeys");
		jw_str(w, NULL, job_id);
		jw_str(w, NULL, "");
		jw_arr_end(w);
	} else {
		jw_null(w, "FilterKeys");
	}
	jw_uint(w, "Index", s->index);
	jw_obj(w, "Payload");
}

void sim_event_job(struct sim *s, struct sim_job *j, const char *type, int deleted)
{
	struct jw w;

	if (!s->events_enabled)
		return;
	jw_init(&w, SIM_RESPONSE_MAX);
	head(&w, s, "Job", type, j->id, NULL);
	sim_render_job(s, &w, "Job", j);
	if (deleted)
		jw_bool(&w, "Deleted", 1);
	jw_obj_end(&w);
	jw_obj_end(&w);
	push(s, SIM_TOPIC_JOB, j->id, NULL, buf_detach(&w.b, NULL));
	jw_release(&w);
}

void sim_event_alloc(struct sim *s, struct sim_alloc *a, const char *type)
{
	struct jw w;

	if (!s->events_enabled)
		return;
	jw_init(&w, SIM_RESPONSE_MAX);
	head(&w, s, "Allocation", type, a->id, a->job->id);
	sim_render_alloc(s, &w, "Allocation", a, 0, 1);
	jw_obj_end(&w);
	jw_obj_end(&w);
	push(s, SIM_TOPIC_ALLOC, a->id, a->job->id, buf_detach(&w.b, NULL));
	jw_release(&w);
}

void sim_event_commit(struct sim *s)
{
	struct sim_event_batch *b;

	if (!s->npending)
		return;
	if (!s->ring)
		s->ring = xcalloc(s->event_buffer_size, sizeof(*s->ring));
	if (s->ring_count == s->event_buffer_size) {
		s->ring_evicted = s->ring[s->ring_start].index;
		batch_free(&s->ring[s->ring_start]);
		s->ring_start = (s->ring_start + 1) % s->event_buffer_size;
		s->ring_count--;
	}
	b = ring_at(s, s->ring_count);
	s->ring_count++;
	b->index = s->index;
	b->ev = s->pending;
	b->n = s->npending;
	s->pending = NULL;
	s->npending = s->pending_alloc = 0;
}

/* ---------- subscribers ---------- */

struct topic_sel {
	unsigned topic;     /* SIM_TOPIC_*, 0 = all */
	char *key;          /* NULL or "*" = all */
};

struct subscriber {
	struct sim *s;
	uint64_t next;
	struct topic_sel *sel;
	size_t nsel;
	char *out;          /* pending output */
	size_t out_len, out_pos;
	int64_t last_write_mono;
	int sent_first;
};

static int wants(const struct subscriber *sub, const struct sim_event *e)
{
	size_t i;

	for (i = 0; i < sub->nsel; i++) {
		const struct topic_sel *t = &sub->sel[i];

		if (t->topic && t->topic != e->topic)
			continue;
		if (!t->key || strcmp(t->key, "*") == 0)
			return 1;
		if (strcmp(t->key, e->key) == 0 || (e->job_id && strcmp(t->key, e->job_id) == 0))
			return 1;
	}
	return 0;
}

/* Render the first wanted batch at or after sub->next; 1 if one was found. */
static int next_batch(struct subscriber *sub)
{
	struct sim *s = sub->s;
	size_t i, k, lo = 0, hi = s->ring_count;

	/* the ring's indexes increase: the first batch at or after the
	 * subscriber's next index by bisection (the lock is held; a linear walk
	 * of a large buffer for every batch stalled the whole server) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring_at(s, mid)->index < sub->next)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < s->ring_count; i++) {
		struct sim_event_batch *b = ring_at(s, i);
		struct buf out;
		struct aedb_err err = AEDB_ERR_INIT;
		int any = 0;

		sub->next = b->index + 1;
		buf_init(&out, SIM_RESPONSE_MAX, "event batch");
		buf_printf(&out, &err, "{\"Index\":%" PRIu64 ",\"Events\":[", b->index);
		for (k = 0; k < b->n; k++) {
			if (!wants(sub, &b->ev[k]))
				continue;
			if (any)
				buf_putc(&out, ',', &err);
			buf_puts(&out, b->ev[k].json, &err);
			any = 1;
		}
		buf_puts(&out, "]}\n", &err);
		if (!any) {
			buf_release(&out);
			continue;
		}
		sub->out = buf_detach(&out, &sub->out_len);
		sub->out_pos = 0;
		return 1;
	}
	return 0;
}

static ssize_t sub_read(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct subscriber *sub = cls;
	struct sim *s = sub->s;
	size_t n;

	if (!sub->out) {
		pthread_mutex_lock(&s->lock);
		for (;;) {
			int64_t hb_due;
			struct timespec ts;
			int64_t abs_ns;

			if (s->stopping) {
				pthread_mutex_unlock(&s->lock);
				return HTTPD_STREAM_END;
			}
			/* as Nomad: a reader so slow that the buffer dropped an
			 * event it had not read yet loses its subscription
			 * ("event dropped from buffer"); the stream ends */
			if (s->ring_evicted && s->ring_evicted >= sub->next) {
				pthread_mutex_unlock(&s->lock);
				return HTTPD_STREAM_END;
			}
			if (!sub->sent_first) {
				sub->sent_first = 1;
				sub->out = xstrdup("{}\n");
				sub->out_len = 3;
				break;
			}
			if (next_batch(sub))
				break;
			hb_due = sub->last_write_mono + (int64_t)(s->heartbeat_s * 1e9);
			if (aedb_mono_ns() >= hb_due) {
				sub->out = xstrdup("{}\n");
				sub->out_len = 3;
				break;
			}
			abs_ns = aedb_now_ns() + (hb_due - aedb_mono_ns());
			ts.tv_sec = (time_t)(abs_ns / 1000000000);
			ts.tv_nsec = (long)(abs_ns % 1000000000);
			pthread_cond_timedwait(&s->changed, &s->lock, &ts);
		}
		pthread_mutex_unlock(&s->lock);
		sub->out_pos = 0;
	}
	n = sub->out_len - sub->out_pos;
	if (n > max)
		n = max;
	memcpy(dst, sub->out + sub->out_pos, n);
	sub->out_pos += n;
	sim_stats_bytes(s, "GET /v1/event/stream", n);
	if (sub->out_pos == sub->out_len) {
		free(sub->out);
		sub->out = NULL;
		sub->last_write_mono = aedb_mono_ns();
	}
	return (ssize_t)n;
}

static void sub_free(void *cls)
{
	struct subscriber *sub = cls;
	size_t i;

	for (i = 0; i < sub->nsel; i++)
		free(sub->sel[i].key);
	free(sub->sel);
	free(sub->out);
	free(sub);
}

void sim_events_serve(struct sim *s, struct httpd_req *r, uint64_t index, char **topics,
		      size_t ntopics)
{
	struct subscriber *sub = xcalloc(1, sizeof(*sub));
	size_t i;

	sub->s = s;
	sub->last_write_mono = aedb_mono_ns();
	if (ntopics == 0) {
		sub->sel = xcalloc(1, sizeof(*sub->sel));
		sub->nsel = 1;
	} else {
		sub->sel = xcalloc(ntopics, sizeof(*sub->sel));
		for (i = 0; i < ntopics; i++) {
			char *colon = strchr(topics[i], ':');
			size_t tl = colon ? (size_t)(colon - topics[i]) : strlen(topics[i]);

			if (tl == 3 && strncmp(topics[i], "Job", 3) == 0)
				sub->sel[sub->nsel].topic = SIM_TOPIC_JOB;
			else if (tl == 10 && strncmp(topics[i], "Allocation", 10) == 0)
				sub->sel[sub->nsel].topic = SIM_TOPIC_ALLOC;
			else if (tl == 1 && topics[i][0] == '*')
				sub->sel[sub->nsel].topic = 0;
			else
				continue; /* a topic the simulator never publishes */
			sub->sel[sub->nsel].key = colon ? xstrdup(colon + 1) : NULL;
			sub->nsel++;
		}
	}
	/* replay from the first batch >= index (the oldest one still
	 * buffered when index is older); past the newest, the newest */
	if (s->ring_count) {
		uint64_t newest = ring_at(s, s->ring_count - 1)->index;
		uint64_t oldest = ring_at(s, 0)->index;

		sub->next = index > newest ? newest : index < oldest ? oldest : index;
	} else {
		sub->next = index;
	}
	httpd_add_header(r, "X-Nomad-Index", "0");
	httpd_respond_stream(r, 200, "application/json", sub_read, sub, sub_free);
}
