/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the subcommands: scenario and knob flags, JSON output
 * written atomically (temporary file, then rename), timing.
 */
#ifndef KVMLAB_CMD_COMMON_H
#define KVMLAB_CMD_COMMON_H

#include <stdio.h>

#include "guest/scenario.h"
#include "kernel/types.h"

/* Knob flags common to check and stress. */
struct knob_opts {
	const char *scenario;		/* name or file; NULL = default */
	int policy, vendor;		/* -1 = scenario/default */
	u64 bugs;
	int vcpus, toggles, accesses;	/* seed builder; -1 = unset */
};

void knob_opts_init(struct knob_opts *k);
/* Parse one knob flag (by getopt long name) into k; returns 0, or EXIT_USAGE after printing. */
int knob_opt_parse(const char *cmd, struct knob_opts *k, const char *name, const char *arg);
/* Load the scenario the knobs select into s; returns 0 or EXIT_USAGE after printing. */
int knob_load_scenario(const char *cmd, const struct knob_opts *k, struct scenario *s);
/* Parse an unsigned number for flag 'flag'; returns 0 or EXIT_USAGE after printing. */
int parse_u64_flag(const char *cmd, const char *flag, const char *arg, u64 min, u64 max, u64 *out);

double now_seconds(void);

/* JSON output to a temporary file that replaces 'path' on json_close(). */
struct json_out {
	FILE *f;
	char path[4096];
	char tmp[4096];
};

int json_open(struct json_out *j, const char *path);
int json_close(struct json_out *j);	/* 0, or -errno (temporary removed) */
void json_abort(struct json_out *j);	/* close and remove the temporary */
void json_str(FILE *f, const char *s);

#endif
