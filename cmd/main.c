// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab: the command table (kvmtool builtin-*.c style).  Each subcommand
 * returns its exit code; only this file exits.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "check", cmd_check, "explore every interleaving of a bounded scenario: verified or a counterexample" },
	{ "replay", cmd_replay, "re-run a schedule file written by check --trace and print its timeline" },
	{ "stress", cmd_stress, "run a scenario on real threads and check the oracles as it runs" },
	{ "oracle", cmd_oracle, "compare the model's xAPIC with KVM's in-kernel LAPIC on /dev/kvm" },
	{ "list", cmd_list, "list built-in scenarios, bugs (with commits) and findings" },
};

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kvmlab %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

#ifndef KVMLAB_VERSION
#define KVMLAB_VERSION "unknown (built outside a git checkout)"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: kvmlab <command> [options]   (kvmlab help <command>, kvmlab --version)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nexit codes: 0 verified/passed, 1 violation or mismatch, 2 usage or input error,\n"
		   "3 incomplete (a bound or time limit was hit)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("kvmlab %s\n", KVMLAB_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help") && argc > 2) {
		/* kvmlab help CMD is kvmlab CMD --help. */
		char *args[] = { argv[2], "--help", NULL };

		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[2], commands[i].name))
				return commands[i].fn(2, args);
		fprintf(stderr, "kvmlab help: unknown command '%s'\n", argv[2]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "kvmlab: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
