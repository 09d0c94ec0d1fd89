/* main() and the command table: nothing else lives here. Global options
 * (--db, --version, --help) come before the command name. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "aedb-config.h"
#include "cmd.h"
#include "engine/db.h"
#include "engine/http.h"

extern const struct aedb_cmd cmd_help, cmd_init, cmd_submit, cmd_resume, cmd_track, cmd_retry, cmd_aoi;
extern const struct aedb_cmd cmd_purge, cmd_gc_watch;
extern const struct aedb_cmd cmd_status, cmd_report, cmd_sql, cmd_import_logs, cmd_reclassify;

const struct aedb_cmd *const aedb_commands[] = {
	&cmd_init,
	&cmd_submit,
	&cmd_resume,
	&cmd_track,
	&cmd_retry,
	&cmd_aoi,
	&cmd_status,
	&cmd_report,
	&cmd_sql,
	&cmd_import_logs,
	&cmd_reclassify,
	&cmd_purge,
	&cmd_gc_watch,
	&cmd_help,
	NULL,
};

int main(int argc, char **argv)
{
	struct aedb_ctx ctx = { NULL };
	const struct aedb_cmd *cmd;
	struct aedb_err err = AEDB_ERR_INIT;
	int i, rc;

	setlocale(LC_CTYPE, "C.UTF-8");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0) {
			printf("aedb %s (schema version %d, SQLite %s)\n", AEDB_VERSION,
			       db_binary_version(), sqlite3_libversion());
			return AEDB_EXIT_OK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cmd_print_main_usage(stdout);
			return AEDB_EXIT_OK;
		} else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
			ctx.db_flag = argv[++i];
		} else if (strncmp(a, "--db=", 5) == 0) {
			ctx.db_flag = a + 5;
		} else {
			fprintf(stderr, "aedb: unknown option '%s'\n", a);
			cmd_print_main_usage(stderr);
			return AEDB_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "aedb: no command given\n");
		cmd_print_main_usage(stderr);
		return AEDB_EXIT_USAGE;
	}
	cmd = cmd_find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "aedb: unknown command '%s'\n", argv[i]);
		cmd_print_main_usage(stderr);
		return AEDB_EXIT_USAGE;
	}
	if (http_global_init(&err) < 0)
		return cmd_fail(cmd, &err);
	cmd_opt_reset();
	rc = cmd->run(argc - i, argv + i, &ctx);
	http_global_cleanup();
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "aedb %s: cannot write to standard output\n", cmd->name);
		return rc ? rc : AEDB_EXIT_FAILURE;
	}
	return rc;
}
