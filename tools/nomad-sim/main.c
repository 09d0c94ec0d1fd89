/* nomad-sim: a Nomad HTTP API simulator for aedb's tests, demos and
 * benchmarks. main() reads the flags and the scenario, registers the four
 * upstream parameterized jobs, starts the clock thread and the HTTP
 * server (tools/httpd), prints one ready line, and waits for SIGTERM or
 * SIGINT. docs/nomad-sim.md describes flags, scenarios and endpoints. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "sim.h"
#include "sim_api.h"
#include "util.h"

#define SCENARIO_MAX (16u << 20)

static const char usage[] =
	"usage: nomad-sim [--listen 127.0.0.1:PORT] [--port-file FILE] [--speed X]\n"
	"                 [--seed N] [--scenario FILE] [--acl-token T] [--nodes N]\n"
	"                 [--node-memory SIZE] [--event-buffer-size N] [--no-event-stream]\n"
	"\n"
	"A simulated Nomad cluster on loopback with the four parameterized jobs\n"
	"pipeline, hand_inundator, fim_mosaicker and agreement_maker.\n"
	"\n"
	"  --listen 127.0.0.1:PORT  address to bind; PORT 0 picks a free port (default 4646)\n"
	"  --port-file FILE         write http://127.0.0.1:PORT there once accepting\n"
	"  --speed X                simulated seconds per real second (default 1)\n"
	"  --seed N                 random seed for ids and faults (default 1)\n"
	"  --scenario FILE          JSON scenario (docs/nomad-sim.md)\n"
	"  --acl-token T            require X-Nomad-Token T (403 Permission denied otherwise)\n"
	"  --nodes N                client nodes (default 8)\n"
	"  --node-memory SIZE       memory per node (default 64GiB)\n"
	"  --event-buffer-size N    event batches kept for replay (default 100)\n"
	"  --no-event-stream        answer /v1/event/stream with 404, like an agent without it\n";

static char *read_file(const char *path, struct aedb_err *err)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0;

	if (!f) {
		aedb_err_setk(err, AEDB_E_USAGE, "cannot read scenario '%s': %s", path, strerror(errno));
		return NULL;
	}
	data = xmalloc(SCENARIO_MAX + 1);
	n = fread(data, 1, SCENARIO_MAX + 1, f);
	fclose(f);
	if (n > SCENARIO_MAX) {
		free(data);
		aedb_err_setk(err, AEDB_E_USAGE, "scenario '%s' is over %u bytes", path, SCENARIO_MAX);
		return NULL;
	}
	data[n] = '\0';
	return data;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "speed", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "scenario", required_argument, NULL, 'c' },
		{ "acl-token", required_argument, NULL, 'a' },
		{ "nodes", required_argument, NULL, 'n' },
		{ "node-memory", required_argument, NULL, 'm' },
		{ "event-buffer-size", required_argument, NULL, 'e' },
		{ "no-event-stream", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct aedb_err err = AEDB_ERR_INIT;
	struct httpd_opts ho = { .port = 4646 };
	struct httpd *h = NULL;
	static struct sim sim;
	const char *port_file = NULL, *scenario = NULL, *acl = NULL;
	double speed = 1;
	int64_t seed = 1, nodes = 0, ebuf = 0;
	uint64_t node_mem = 0;
	int no_events = 0, c, ret = 1, sig;
	pthread_t clock;
	char *text = NULL;

	httpd_block_signals();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (httpd_opts_from_listen(&ho, optarg, &err) != 0)
				goto usage_err;
			break;
		case 'p': port_file = optarg; break;
		case 's': {
			char *end;

			speed = strtod(optarg, &end);
			if (*end || !(speed > 0) || speed > 1e7) {
				aedb_err_setk(&err, AEDB_E_USAGE, "--speed '%s': must be a number > 0", optarg);
				goto usage_err;
			}
			break;
		}
		case 'S':
			if (parse_i64(optarg, 0, INT64_MAX, &seed) != 0) {
				aedb_err_setk(&err, AEDB_E_USAGE, "--seed '%s': not a number", optarg);
				goto usage_err;
			}
			break;
		case 'c': scenario = optarg; break;
		case 'a': acl = optarg; break;
		case 'n':
			if (parse_i64(optarg, 1, SIM_NODES_MAX, &nodes) != 0) {
				aedb_err_setk(&err, AEDB_E_USAGE, "--nodes '%s': must be 1..%d", optarg, SIM_NODES_MAX);
				goto usage_err;
			}
			break;
		case 'm':
			if (parse_size(optarg, &node_mem) != 0 || node_mem == 0) {
				aedb_err_setk(&err, AEDB_E_USAGE, "--node-memory '%s': not a size", optarg);
				goto usage_err;
			}
			break;
		case 'e':
			if (parse_i64(optarg, 1, SIM_EVENT_BUFFER_MAX, &ebuf) != 0) {
				aedb_err_setk(&err, AEDB_E_USAGE, "--event-buffer-size '%s': must be 1..%d", optarg, SIM_EVENT_BUFFER_MAX);
				goto usage_err;
			}
			break;
		case 'E': no_events = 1; break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		aedb_err_setk(&err, AEDB_E_USAGE, "unexpected argument '%s'", argv[optind]);
		goto usage_err;
	}
	sim_init(&sim, (uint64_t)seed, speed);
	if (scenario) {
		text = read_file(scenario, &err);
		if (!text || sim_scenario_load(&sim, text, &err) != 0) {
			aedb_err_prefix(&err, "scenario '%s'", scenario);
			goto fail;
		}
	}
	/* flags win over the scenario */
	if (nodes)
		sim.nnodes = (int)nodes;
	if (node_mem)
		sim.node_mem = node_mem;
	if (ebuf)
		sim_events_resize(&sim, (size_t)ebuf);
	if (no_events)
		sim.events_enabled = 0;
	if (acl)
		sim.acl_token = xstrdup(acl);
	if (sim_setup_cluster(&sim, &err) != 0)
		goto fail;
	pthread_mutex_lock(&sim.lock);
	sim_register_parents(&sim);
	pthread_mutex_unlock(&sim.lock);
	if (pthread_create(&clock, NULL, sim_clock_thread, &sim) != 0) {
		aedb_err_set(&err, "cannot start the clock thread");
		goto fail;
	}
	ho.handler = sim_api_handle;
	ho.ctx = &sim;
	h = httpd_start(&ho, &err);
	if (!h || (port_file && httpd_write_port_file(h, port_file, &err) != 0)) {
		pthread_mutex_lock(&sim.lock);
		sim.stopping = 1;
		sim_wake(&sim);
		pthread_mutex_unlock(&sim.lock);
		pthread_join(clock, NULL);
		goto fail;
	}
	printf("nomad-sim: listening on http://127.0.0.1:%d (speed %g, seed %" PRId64 ", %d nodes)\n",
	       httpd_port(h), speed, seed, sim.nnodes);
	fflush(stdout);
	sig = httpd_wait_signal();
	fprintf(stderr, "nomad-sim: signal %d, stopping\n", sig);
	pthread_mutex_lock(&sim.lock);
	sim.stopping = 1;
	sim_wake(&sim);
	pthread_mutex_unlock(&sim.lock);
	httpd_stop(h);
	pthread_join(clock, NULL);
	ret = 0;
fail:
	if (ret != 0)
		fprintf(stderr, "nomad-sim: %s\n", err.msg);
	sim_release_state(&sim);
	free(text);
	return ret;
usage_err:
	fprintf(stderr, "nomad-sim: %s\n", err.msg);
	return 2;
}
