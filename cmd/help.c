/* `aedb help [COMMAND]`: the same text as --help, from the command table. */
#include <stdio.h>

#include "cmd.h"

static int run(int argc, char **argv, const struct aedb_ctx *ctx);

const struct aedb_cmd cmd_help = {
	.name = "help",
	.summary = "show the commands, or one command's help",
	.usage = "aedb help [COMMAND]",
	.help = "With no COMMAND, lists every command. 'aedb help NAME' is the same as\n"
		"'aedb NAME --help'.\n",
	.run = run,
};

static const struct option options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run(int argc, char **argv, const struct aedb_ctx *ctx)
{
	const struct aedb_cmd *cmd;
	int c, code = 0;

	(void)ctx;
	while ((c = cmd_getopt(&cmd_help, argc, argv, "h", options, &code)) != -1) {
		if (c == CMD_OPT_EXIT)
			return code;
	}
	if (optind >= argc) {
		cmd_print_main_usage(stdout);
		return AEDB_EXIT_OK;
	}
	if (argc - optind > 1)
		return cmd_usage_error(&cmd_help, "give one command name");
	cmd = cmd_find(argv[optind]);
	if (!cmd)
		return cmd_usage_error(&cmd_help, "unknown command '%s'", argv[optind]);
	cmd_print_help(cmd, stdout);
	return AEDB_EXIT_OK;
}
