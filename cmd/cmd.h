/* The command table's types and the helpers every command uses to parse
 * flags, print help and report errors. Commands are data: one
 * `const struct aedb_cmd cmd_NAME` per cmd/NAME.c, listed once in aedb.c. */
#ifndef AEDB_CMD_H
#define AEDB_CMD_H

#include <getopt.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "engine/err.h"
#include "engine/exitcode.h"
#include "engine/nomad.h"

struct aedb_ctx {
	const char *db_flag; /* the global --db value, or NULL */
};

struct aedb_cmd {
	const char *name;
	const char *summary; /* one line for `aedb help` */
	const char *usage;   /* "aedb NAME [options] ARGS", may hold several lines */
	const char *help;    /* description and options, printed by `aedb NAME --help` */
	int (*run)(int argc, char **argv, const struct aedb_ctx *ctx);
};

/* NULL-terminated, in the order `aedb help` lists them (defined in aedb.c). */
extern const struct aedb_cmd *const aedb_commands[];

const struct aedb_cmd *cmd_find(const char *name);

/* Print the main usage (all commands) to f. */
void cmd_print_main_usage(FILE *f);
/* Print one command's full help to f. */
void cmd_print_help(const struct aedb_cmd *cmd, FILE *f);

/* "aedb NAME: <msg>" + the command's usage on stderr; returns AEDB_EXIT_USAGE. */
int cmd_usage_error(const struct aedb_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "aedb NAME: <err->msg>" on stderr; returns the exit code that fits err. */
int cmd_fail(const struct aedb_cmd *cmd, const struct aedb_err *err);

/* getopt_long with the conventions of every command: --help/-h prints the
 * help and returns CMD_OPT_EXIT with *exit_code 0; an unknown option or a
 * missing argument prints a one-line error and the usage and returns
 * CMD_OPT_EXIT with *exit_code 2. Otherwise as getopt_long. Call with
 * optind = 0 the first time (cmd_opt_reset). */
#define CMD_OPT_EXIT (-2)
void cmd_opt_reset(void);
int cmd_getopt(const struct aedb_cmd *cmd, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, int *exit_code);

/* The database path for this command: its own --db, the global one,
 * $AEDB_DB, ./aedb.db. */
const char *cmd_db_path(const struct aedb_ctx *ctx, const char *own_flag);

/* Fill the address and namespace of ncfg that are still unset from a
 * batch's stored parameters (the strings point into params). */
void cmd_nomad_from_batch(const cJSON *params, struct nomad_config *ncfg);

/* Strict numeric flag parsing with a usage error naming the flag. */
int cmd_parse_int(const struct aedb_cmd *cmd, const char *flag, const char *value, int min,
		  int max, int *out);

#endif
