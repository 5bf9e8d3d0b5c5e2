/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the subcommands: scenario and knob flags, output files
 * (check/outfile.h) opened before the work, JSON strings, timing.
 */
#ifndef KVMLAB_CMD_COMMON_H
#define KVMLAB_CMD_COMMON_H

#include <stdio.h>

#include "check/outfile.h"
#include "guest/scenario.h"
#include "kernel/types.h"

struct kvm_config;

/* Knob flags common to check and stress. */
struct knob_opts {
	const char *scenario;		/* name or file; NULL = default */
	int policy, vendor;		/* -1 = scenario/default */
	u64 bugs;
	int vcpus, toggles, accesses;	/* seed builder; -1 = unset */
	bool no_tlb;			/* --no-tlb: the simulated CPUs cache no translations */
};

void knob_opts_init(struct knob_opts *k);
/* The getopt_long entries of the knob flags (val 0: knob_opt_parse() takes them by name). */
#define KNOB_OPTIONS \
	{ "scenario", required_argument, NULL, 0 }, { "policy", required_argument, NULL, 0 }, \
	{ "vendor", required_argument, NULL, 0 },   { "bug", required_argument, NULL, 0 }, \
	{ "vcpus", required_argument, NULL, 0 },    { "toggles", required_argument, NULL, 0 }, \
	{ "accesses", required_argument, NULL, 0 }, { "no-tlb", no_argument, NULL, 0 }
/* Parse one knob flag (by getopt long name) into k; returns 0, or EXIT_USAGE after printing. */
int knob_opt_parse(const char *cmd, struct knob_opts *k, const char *name, const char *arg);
/* The model configuration of scenario s under the knobs (vmm_config(), then --no-tlb). */
void knob_config(const struct knob_opts *k, const struct scenario *s, struct kvm_config *cfg);
/* Load the scenario the knobs select into s; returns 0 or EXIT_USAGE after printing. */
int knob_load_scenario(const char *cmd, const struct knob_opts *k, struct scenario *s);
/* --memory-model's argument into *tso ("sc" or "tso"); 0 or EXIT_USAGE after printing. */
int memory_model_parse(const char *cmd, const char *arg, bool *tso);
/*
 * The memory model into cfg (store_buffer: 0 for sc, --store-buffer's N or
 * the default for tso), after checking it against --store-buffer, this
 * build and scenario s's actors; 0 or EXIT_USAGE after printing.
 */
int memory_model_config(const char *cmd, bool tso, u64 store_buffer, const struct scenario *s,
			struct kvm_config *cfg);
/* Parse an unsigned number for flag 'flag'; returns 0 or EXIT_USAGE after printing. */
int parse_u64_flag(const char *cmd, const char *flag, const char *arg, u64 min, u64 max, u64 *out);

double now_seconds(void);

/*
 * Open an output file named by --FLAG (check/outfile.h) before any work is
 * done; a bad one is one line "kvmlab CMD: --FLAG NAME: reason" and
 * EXIT_USAGE.  When it is standard output ("-"), the command's own report
 * moves to standard error so that standard output holds only the file.
 */
int cmd_output_open(const char *cmd, const char *flag, const char *name, struct outfile *o);
/* Finish it (outfile_close()); 0, or -errno after printing one line. */
int cmd_output_close(const char *cmd, const char *flag, struct outfile *o);
void json_str(FILE *f, const char *s);
/* json_str(), or null for NULL and "". */
void json_str_or_null(FILE *f, const char *s);
struct kvm_event;
/*
 * One event of a timeline (docs/json.md): {"<step_key>": step, "actor":
 * "vcpu0", "event": "kvm_exit", "fields": {"a": ..., "d": ...}, "text": "..."}.
 */
void json_event(FILE *f, const struct kvm_event *ev, int nr_vcpus, const char *step_key, long step);
/* A finding (docs/json.md): {"kind", "actor" (a name or null), "where", "message"}. */
void json_finding(FILE *f, int kind, int actor, int nr_vcpus, const char *where, const char *msg);

#endif
