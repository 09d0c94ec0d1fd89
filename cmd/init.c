/* `aedb init`: create the database, or migrate an existing one to this
 * binary's schema version, and say where it stands. */
#include <stdio.h>

#include "cmd.h"
#include "engine/db.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_init = {
	.name = "init",
	.summary = "create or migrate the database",
	.usage = "aedb init [--db PATH]",
	.help = "Creates the database file (mode 0600, WAL journal) if it does not exist,\n"
		"then applies every migration it has not seen, each in its own transaction.\n"
		"Running it again changes nothing. A database made by a newer aedb is\n"
		"refused and left untouched.\n"
		"\n"
		"Options:\n"
		"  --db PATH   database file (default: $AEDB_DB, else ./aedb.db)\n",
	.run = run,
};

static const struct option options[] = {
	{ "db", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct aedb_db *db = NULL;
	const char *db_flag = NULL;
	int c, code = 0, from = 0, to = 0;

	while ((c = cmd_getopt(&cmd_init, argc, argv, "h", options, &code)) != -1) {
		switch (c) {
		case CMD_OPT_EXIT:
			return code;
		case 'd':
			db_flag = optarg;
			break;
		default:
			return cmd_usage_error(&cmd_init, "unexpected option");
		}
	}
	if (optind < argc)
		return cmd_usage_error(&cmd_init, "unexpected argument '%s'", argv[optind]);

	if (db_open(cmd_db_path(ctx, db_flag), DB_OPEN_CREATE | DB_OPEN_NO_MIGRATE, &db, &err) < 0)
		return cmd_fail(&cmd_init, &err);
	if (db_migrate(db, aedb_migrations, aedb_migrations_count, &from, &to, &err) < 0) {
		db_close(db);
		return cmd_fail(&cmd_init, &err);
	}
	if (from == to)
		printf("database '%s' is at schema version %d (up to date)\n", db->path, to);
	else if (from == 0)
		printf("created database '%s' at schema version %d\n", db->path, to);
	else
		printf("migrated database '%s' from schema version %d to %d\n", db->path, from, to);
	db_close(db);
	return AEDB_EXIT_OK;
}
