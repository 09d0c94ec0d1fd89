/* The exit codes of every aedb command, in one place. docs/commands.md and
 * `aedb --help` describe them; change all three together. */
#ifndef AEDB_EXITCODE_H
#define AEDB_EXITCODE_H

enum aedb_exit {
	AEDB_EXIT_OK = 0,          /* success: everything asked for was done */
	AEDB_EXIT_FAILURE = 1,     /* runtime failure (I/O, network, database) */
	AEDB_EXIT_USAGE = 2,       /* bad command line or bad input; nothing changed */
	AEDB_EXIT_ITEMS_FAILED = 3, /* the command finished, but some items failed */
	AEDB_EXIT_INTERRUPTED = 130 /* SIGINT/SIGTERM: state committed, resume later */
};

#endif
