/* What every command shares: help and usage printing from the command table,
 * uniform option errors, and the database path rule. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aedb-config.h"
#include "cmd.h"
#include "engine/db.h"
#include "engine/util.h"

static const struct {
	int code;
	const char *meaning;
} exit_codes[] = {
	{ AEDB_EXIT_OK, "success" },
	{ AEDB_EXIT_FAILURE, "runtime failure (network, file system, database)" },
	{ AEDB_EXIT_USAGE, "usage error or bad input; nothing was changed" },
	{ AEDB_EXIT_ITEMS_FAILED, "finished, but some items failed" },
	{ AEDB_EXIT_INTERRUPTED, "interrupted; state is committed, 'aedb resume' continues" },
};

const struct aedb_cmd *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; aedb_commands[i]; i++) {
		if (strcmp(aedb_commands[i]->name, name) == 0)
			return aedb_commands[i];
	}
	return NULL;
}

void cmd_print_main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: aedb [--db PATH] COMMAND [ARGS]\n"
		   "       aedb --version | --help | help [COMMAND]\n\n"
		   "Run batches of flood-map evaluation pipelines on Nomad and keep every\n"
		   "fact about them in SQLite.\n\nCommands:\n");
	for (i = 0; aedb_commands[i]; i++)
		fprintf(f, "  %-12s %s\n", aedb_commands[i]->name, aedb_commands[i]->summary);
	fprintf(f, "\nGlobal options:\n"
		   "  --db PATH    database file (default: $AEDB_DB, else ./aedb.db)\n"
		   "  --version    print the version and the schema version\n"
		   "  --help       this text; 'aedb COMMAND --help' for one command\n"
		   "\nExit codes:\n");
	for (i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++)
		fprintf(f, "  %-4d %s\n", exit_codes[i].code, exit_codes[i].meaning);
}

void cmd_print_help(const struct aedb_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(f, "\n%s", cmd->help);
	fprintf(f, "\nExit codes: 0 success, 1 runtime failure, 2 usage error; see 'aedb --help'.\n");
}

int cmd_usage_error(const struct aedb_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aedb %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", cmd->usage);
	return AEDB_EXIT_USAGE;
}

int cmd_fail(const struct aedb_cmd *cmd, const struct aedb_err *err)
{
	fprintf(stderr, "aedb %s: %s\n", cmd->name, err->msg[0] ? err->msg : "failed");
	return aedb_err_exit_code(err) ? aedb_err_exit_code(err) : AEDB_EXIT_FAILURE;
}

void cmd_opt_reset(void)
{
	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
}

int cmd_getopt(const struct aedb_cmd *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *exit_code)
{
	char opts[128];
	const char *bad;
	int idx = -1;
	int c;

	/* a leading ':' makes getopt tell a missing value (':') from an unknown option ('?') */
	snprintf(opts, sizeof(opts), ":%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, &idx);
	if (c == 'h') {
		cmd_print_help(cmd, stdout);
		*exit_code = AEDB_EXIT_OK;
		return CMD_OPT_EXIT;
	}
	if (c != '?' && c != ':')
		return c;
	bad = optind > 0 && optind <= argc ? argv[optind - 1] : NULL;
	if (c == ':') {
		if (bad && bad[0] == '-' && bad[1] == '-')
			*exit_code = cmd_usage_error(cmd, "option '%s' needs a value", bad);
		else
			*exit_code = cmd_usage_error(cmd, "option '-%c' needs a value", optopt);
	} else if (optopt && !(bad && bad[0] == '-' && bad[1] == '-')) {
		*exit_code = cmd_usage_error(cmd, "unknown option '-%c'", optopt);
	} else {
		char name[128];
		size_t n = bad ? strcspn(bad, "=") : 0;

		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
			 bad ? bad : "?");
		if (optopt)
			*exit_code = cmd_usage_error(cmd, "option '%s' takes no value", name);
		else
			*exit_code = cmd_usage_error(cmd, "unknown option '%s'", name);
	}
	return CMD_OPT_EXIT;
}

const char *cmd_db_path(const struct aedb_ctx *ctx, const char *own_flag)
{
	return db_default_path(own_flag ? own_flag : ctx->db_flag);
}

void cmd_nomad_from_batch(const cJSON *params, struct nomad_config *ncfg)
{
	const cJSON *addr = cJSON_GetObjectItemCaseSensitive(params, "nomad_addr");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(params, "nomad_namespace");

	if (!ncfg->addr && cJSON_IsString(addr) && *addr->valuestring)
		ncfg->addr = addr->valuestring;
	if (!ncfg->ns && cJSON_IsString(ns) && *ns->valuestring)
		ncfg->ns = ns->valuestring;
}

int cmd_parse_int(const struct aedb_cmd *cmd, const char *flag, const char *value, int min,
		  int max, int *out)
{
	if (parse_int(value, min, max, out) < 0)
		return cmd_usage_error(cmd, "%s takes a whole number from %d to %d, not '%s'", flag,
				       min, max, value);
	return 0;
}
