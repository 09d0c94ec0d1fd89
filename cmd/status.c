/* `aedb status`: where batches stand, as text or JSON, once or every few
 * seconds. A reader: it works while a submitter writes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "engine/db.h"
#include "engine/report.h"
#include "engine/util.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_status = {
	.name = "status",
	.summary = "show where batches stand: items, outcomes, active pipelines",
	.usage = "aedb status [BATCH] [--watch [SECONDS]] [--json] [--journal N] [--db PATH]",
	.help = "For one batch, or every batch: its state (submitting, paused, draining, done,\n"
		"cancelled) and whether dispatching is running or paused, the process holding\n"
		"it, items per state, items per outcome (the item_outcome view: success,\n"
		"early_exit, failed, silent, log_missing, running, pending, cancelled), active\n"
		"pipelines, and the last journal entries. Reads one snapshot; safe while\n"
		"'aedb submit' runs.\n"
		"\n"
		"Options:\n"
		"  --watch [S]   print again every S seconds (default 5) until interrupted\n"
		"  --json        one JSON array of batch objects instead of text\n"
		"  --journal N   journal entries to show per batch (default 5, 0 for none)\n"
		"  --db PATH     database file (default: $AEDB_DB, else ./aedb.db)\n",
	.run = run,
};

static const struct option options[] = {
	{ "watch", optional_argument, NULL, 'w' },
	{ "json", no_argument, NULL, 'j' },
	{ "journal", required_argument, NULL, 'n' },
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void print_counts(const cJSON *obj)
{
	const cJSON *e;
	int first = 1;

	cJSON_ArrayForEach(e, obj) {
		printf("%s%s %.0f", first ? "" : ", ", e->string, e->valuedouble);
		first = 0;
	}
	printf("%s\n", first ? "none" : "");
}

static void print_text(const cJSON *arr)
{
	const cJSON *b, *e;

	if (cJSON_GetArraySize(arr) == 0)
		printf("no batches yet\n");
	cJSON_ArrayForEach(b, arr) {
		const cJSON *owner = cJSON_GetObjectItem(b, "owner");

		printf("batch %s: %s (dispatching: %s)\n", cJSON_GetObjectItem(b, "batch")->valuestring,
		       cJSON_GetObjectItem(b, "state")->valuestring,
		       cJSON_GetObjectItem(b, "dispatching")->valuestring);
		printf("  owner:            %s\n", cJSON_IsString(owner) ? owner->valuestring : "none");
		printf("  items:            %.0f\n", cJSON_GetObjectItem(b, "items")->valuedouble);
		printf("  item states:      ");
		print_counts(cJSON_GetObjectItem(b, "item_states"));
		printf("  outcomes:         ");
		print_counts(cJSON_GetObjectItem(b, "outcomes"));
		printf("  active pipelines: %.0f\n",
		       cJSON_GetObjectItem(b, "active_pipelines")->valuedouble);
		if (cJSON_GetArraySize(cJSON_GetObjectItem(b, "journal")) > 0)
			printf("  journal:\n");
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(b, "journal")) {
			printf("    %s %-5s %-12s %s\n", cJSON_GetObjectItem(e, "at")->valuestring,
			       cJSON_GetObjectItem(e, "level")->valuestring,
			       cJSON_GetObjectItem(e, "kind")->valuestring,
			       cJSON_GetObjectItem(e, "message")->valuestring);
		}
	}
}

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	const char *db_flag = NULL, *batch = NULL;
	int c, code = 0, json = 0, watch = 0, every = 5, journal_n = 5;

	while ((c = cmd_getopt(&cmd_status, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'w':
			watch = 1;
			if (optarg && cmd_parse_int(&cmd_status, "--watch", optarg, 1, 3600, &every))
				return AEDB_EXIT_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			if (cmd_parse_int(&cmd_status, "--journal", optarg, 0, 1000, &journal_n))
				return AEDB_EXIT_USAGE;
			break;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_status, "unexpected option");
		}
	}
	if (optind < argc)
		batch = argv[optind++];
	if (optind < argc)
		return cmd_usage_error(&cmd_status, "unexpected argument '%s'", argv[optind]);
	if (db_open(cmd_db_path(ctx, db_flag), DB_OPEN_READONLY, &db, &err) < 0)
		return cmd_fail(&cmd_status, &err);
	if (watch) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
	}
	do {
		cJSON *arr = NULL;

		if (report_status(db, batch, journal_n, &arr, &err) < 0) {
			db_close(db);
			return cmd_fail(&cmd_status, &err);
		}
		if (json) {
			char *t = cJSON_Print(arr);

			printf("%s\n", t);
			free(t);
		} else {
			if (watch) {
				char when[64];

				aedb_format_time(aedb_now_ns(), when, sizeof(when));
				printf("--- %s\n", when);
			}
			print_text(arr);
		}
		fflush(stdout);
		cJSON_Delete(arr);
		if (watch && !stop)
			aedb_sleep_ns((int64_t)every * 1000000000LL);
	} while (watch && !stop);
	db_close(db);
	return watch && stop ? AEDB_EXIT_OK : AEDB_EXIT_OK;
}
