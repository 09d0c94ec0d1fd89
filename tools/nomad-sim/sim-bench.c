/* sim-bench: the simulator's scale benchmark (not a test). It starts a
 * nomad-sim on a free loopback port, dispatches N pipelines through the
 * HTTP API (each fans out scenarios x (catchments + 3) stage jobs), waits
 * until every pipeline is dead, then reports the simulator's peak RSS and
 * the latency of a prefix list and of summaries at that size.
 *
 *   sim-bench NOMAD_SIM [PIPELINES [SPEED [CATCHMENTS]]]
 *
 * Defaults: 10000 pipelines, speed 1000, 2 scenarios x 28 catchments
 * (62 stage jobs per pipeline). */
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "util.h"

extern char **environ;

static struct http_client *cli;
static char base[128];

static long get(const char *path, struct http_response *resp, const char *method,
		const char *body)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char *url = xasprintf("%s%s", base, path);
	struct http_request req = { .method = method, .url = url, .body = body,
				    .body_len = body ? strlen(body) : 0, .timeout_ms = 120000,
				    .max_body = 1u << 30 };

	if (http_do(cli, &req, resp, &err) != 0)
		fprintf(stderr, "sim-bench: %s %s: %s\n", method, path, err.msg);
	free(url);
	return resp->status;
}

static int64_t proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	FILE *f;
	int64_t v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0) {
			char *p = line + strlen(field);

			while (*p == ' ' || *p == '\t' || *p == ':')
				p++;
			v = strtoll(p, NULL, 10);
		}
	fclose(f);
	return v;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and max latency in ms of reps GETs of path; *items = array length. */
static void time_get(const char *what, const char *path, int reps)
{
	struct http_response resp;
	double t[64];
	int i, items = -1;
	size_t bytes = 0;

	http_response_init(&resp);
	for (i = 0; i < reps && i < 64; i++) {
		int64_t t0 = aedb_mono_ns();

		get(path, &resp, "GET", NULL);
		t[i] = (double)(aedb_mono_ns() - t0) / 1e6;
		bytes = resp.body.len;
	}
	{
		cJSON *j = cJSON_Parse(buf_str(&resp.body));

		if (cJSON_IsArray(j))
			items = cJSON_GetArraySize(j);
		cJSON_Delete(j);
	}
	qsort(t, (size_t)reps, sizeof(t[0]), cmp_d);
	printf("%-34s status %ld, %d items, %zu bytes: median %.2f ms, max %.2f ms (%d runs)\n",
	       what, resp.status, items, bytes, t[reps / 2], t[reps - 1], reps);
	http_response_release(&resp);
}

int main(int argc, char **argv)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct http_response resp;
	const char *sim = argc > 1 ? argv[1] : NULL;
	int64_t n = 10000, catchments = 28;
	double speed = 1000;
	char dir[] = "/tmp/sim-bench-XXXXXX", scen[256], portf[256], speed_s[32];
	pid_t pid;
	int64_t i, t0, expected, dispatched = 0, active = 1, last_print = 0;
	FILE *f;

	if (!sim || (argc > 2 && parse_i64(argv[2], 1, 1000000, &n) != 0) ||
	    (argc > 3 && parse_seconds(argv[3], 1e7, &speed) != 0) ||
	    (argc > 4 && parse_i64(argv[4], 0, 10000, &catchments) != 0)) {
		fprintf(stderr, "usage: sim-bench NOMAD_SIM [PIPELINES [SPEED [CATCHMENTS]]]\n");
		return 2;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(scen, sizeof(scen), "%s/scenario.json", dir);
	snprintf(portf, sizeof(portf), "%s/port", dir);
	snprintf(speed_s, sizeof(speed_s), "%g", speed);
	f = fopen(scen, "w");
	if (!f)
		return 1;
	/* enough memory that nothing queues: this measures the server, not
	 * the scheduler's patience; GC off so every object stays retained */
	fprintf(f, "{\"nodes\": 20000, \"gc_threshold\": -1, \"event_buffer_size\": 100,\n"
		   " \"defaults\": {\"scenarios\": 2, \"catchments\": %" PRId64 "}}\n", catchments);
	fclose(f);
	{
		char *args[] = { (char *)sim, "--listen", "127.0.0.1:0", "--port-file", portf,
				 "--speed", speed_s, "--scenario", scen, NULL };

		if (posix_spawn(&pid, sim, NULL, NULL, args, environ) != 0) {
			fprintf(stderr, "sim-bench: cannot start %s\n", sim);
			return 1;
		}
	}
	for (i = 0; i < 100 && access(portf, R_OK) != 0; i++)
		aedb_sleep_ns(50000000);
	f = fopen(portf, "r");
	if (!f || !fgets(base, sizeof(base), f)) {
		fprintf(stderr, "sim-bench: no port file\n");
		kill(pid, SIGTERM);
		return 1;
	}
	fclose(f);
	base[strcspn(base, "\n")] = '\0';
	if (http_global_init(&err) != 0 || http_client_new(&(struct http_client_opts){ 0 }, &cli, &err) != 0)
		return 1;
	http_response_init(&resp);
	printf("sim-bench: %" PRId64 " pipelines x (2 scenarios x (%" PRId64
	       " catchments + 3)) stage jobs at speed %g\n", n, catchments, speed);
	t0 = aedb_mono_ns();
	for (i = 0; i < n; i++) {
		char *body = xasprintf(
			"{\"Meta\":{\"aoi\":\"s3://b/AOIs/stac_item-%05" PRId64 ".gpkg\","
			"\"outputs_path\":\"s3://b/out/item-%05" PRId64 "/\",\"hand_index_path\":\"s3://h/idx\","
			"\"nomad_token\":\"t\",\"benchmark_sources\":\"ble-collection\",\"fim_type\":\"extent\","
			"\"tags\":\"batch_name=bench aoi_name=item-%05" PRId64 "\"},"
			"\"IdPrefixTemplate\":\"[batch_name=bench,aoi_name=item-%05" PRId64 ",collection=ble-collection]\"}",
			i, i, i, i);

		if (get("/v1/job/pipeline/dispatch", &resp, "PUT", body) != 200) {
			fprintf(stderr, "sim-bench: dispatch %" PRId64 " failed: %ld\n", i, resp.status);
			free(body);
			goto stop;
		}
		free(body);
	}
	printf("dispatched %" PRId64 " pipelines in %.1f s\n", n, (double)(aedb_mono_ns() - t0) / 1e9);
	expected = n * (1 + 2 * (catchments + 3));
	while (aedb_mono_ns() - t0 < 1800 * 1000000000ll) {
		cJSON *j;

		get("/sim/stats", &resp, "GET", NULL);
		j = cJSON_Parse(buf_str(&resp.body));
		dispatched = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "Dispatched"));
		active = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "ActivePipelines"));
		cJSON_Delete(j);
		if (aedb_mono_ns() - last_print > 10 * 1000000000ll) {
			printf("  %.0f s: %" PRId64 "/%" PRId64 " jobs dispatched, %" PRId64
			       " pipelines active, RSS %" PRId64 " MiB\n",
			       (double)(aedb_mono_ns() - t0) / 1e9, dispatched, expected, active,
			       proc_kb(pid, "VmRSS") / 1024);
			fflush(stdout);
			last_print = aedb_mono_ns();
		}
		if (dispatched >= expected && active == 0)
			break;
		aedb_sleep_ns(500000000);
	}
	printf("all done after %.1f s: %" PRId64 " jobs in the server\n",
	       (double)(aedb_mono_ns() - t0) / 1e9, dispatched);
	printf("peak RSS (VmHWM) %" PRId64 " MiB, RSS now %" PRId64 " MiB\n",
	       proc_kb(pid, "VmHWM") / 1024, proc_kb(pid, "VmRSS") / 1024);
	time_get("prefix list (one AOI's inundate)",
		 "/v1/jobs?prefix=hand_inundator%2Fdispatch-%5Bbatch_name%3Dbench%2Caoi_name%3Ditem-05000%2C",
		 21);
	time_get("prefix list (one pipeline)",
		 "/v1/jobs?prefix=pipeline%2Fdispatch-%5Bbatch_name%3Dbench%2Caoi_name%3Ditem-07777%2C", 21);
	time_get("summary pipeline", "/v1/job/pipeline/summary", 21);
	time_get("summary hand_inundator", "/v1/job/hand_inundator/summary", 21);
	time_get("first page per_page=100", "/v1/jobs?per_page=100", 11);
	get("/v1/metrics", &resp, "GET", NULL);
	printf("metrics: %s\n", buf_str(&resp.body));
stop:
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(scen);
	unlink(portf);
	rmdir(dir);
	http_response_release(&resp);
	http_client_free(cli);
	http_global_cleanup();
	return 0;
}
