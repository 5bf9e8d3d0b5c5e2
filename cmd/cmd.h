/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlab subcommands (kvmtool's builtin-*.c style): one file per command,
 * each exporting cmd_<name>(argc, argv) that returns the process exit code:
 * 0 verified/passed, 1 violation/mismatch, 2 usage or input error,
 * 3 incomplete.  Only cmd/ prints usage errors and only main() exits.
 */
#ifndef KVMLAB_CMD_CMD_H
#define KVMLAB_CMD_CMD_H

enum { EXIT_OK = 0, EXIT_VIOLATION = 1, EXIT_USAGE = 2, EXIT_INCOMPLETE = 3 };

int cmd_check(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_oracle(int argc, char **argv);

/* Print "kvmlab <cmd>: <message>" on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
