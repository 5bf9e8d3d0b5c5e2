/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scenarios: the parser, the printer and the built-in table.
 *
 * A guest program is the per-vCPU script the simulated guest executes, one
 * instruction (one MOV to or from memory, or HLT) per op.  An actor script is
 * what a host-side thread does concurrently: set/clear a named APICv inhibit
 * reason, zap a gfn range (as MTRR or CR0.CD changes do), create a vCPU.
 * A scenario bundles the vCPU count, knobs, scripts and expectations; it is
 * plain data (the types are model/program.h, below this layer), parsed from
 * a text file (scenario_parse_file) or taken from the built-in table
 * (scenario_builtin).  The file format: docs/scenario-format.md.
 */
#ifndef KVMLAB_GUEST_SCENARIO_H
#define KVMLAB_GUEST_SCENARIO_H

#include <stdio.h>

#include "kernel/types.h"
#include "model/program.h"

/*
 * Parse a scenario from 'path'.  On error returns -EINVAL and writes one line
 * "file:line:col: message" into 'err' (never prints, never exits).
 */
int scenario_parse_file(const char *path, struct scenario *s, char *err, size_t errlen);
/* Same, from a stream; line numbers in messages start after lines_before. */
int scenario_parse_stream(const char *name, FILE *f, long lines_before, struct scenario *s,
			  char *err, size_t errlen);
/*
 * Open an input file for reading (scenarios, schedules): 0 or -errno; a
 * directory is -EISDIR, and a FIFO with no writer reads as empty instead of
 * blocking the open.
 */
int scenario_fopen(const char *path, FILE **out);
/* Same, from a string; 'name' is used as the file name in messages. */
int scenario_parse_string(const char *name, const char *text, struct scenario *s,
			  char *err, size_t errlen);

/* Built-in scenarios by name; NULL if none. */
const struct scenario *scenario_builtin(const char *name);
/* Iterate built-ins: returns the i-th or NULL past the end. */
const struct scenario *scenario_builtin_at(int i);
/*
 * The built-in "seed", generalized: 'nr_vcpus' vCPUs (1..SCN_MAX_VCPUS), each
 * doing 'accesses' APIC accesses alternating apic-write TPR (0x10*(i+1) + k
 * for vCPU i's k-th write) and apic-read TPR, starting with a write; actor 0
 * toggles the hyperv inhibit 'toggles' times (set, clear, set, ...).  The name
 * stays "seed"; scenario_seed(s, 2, 3, 2) equals scenario_builtin("seed").
 * Arguments out of range are clamped (toggles and accesses to 0..SCN_MAX_OPS).
 */
void scenario_seed(struct scenario *s, int nr_vcpus, int toggles, int accesses);

/* Pretty-print a scenario in the file format (round-trips through the parser). */
void scenario_print(FILE *f, const struct scenario *s);
/* The page a vCPU program's APIC is at before its op 'upto' (its last apic-base's, else 0xfee00000). */
u64 scenario_apic_base(const struct guest_program *prog, int upto);
/*
 * The one strict number syntax of kvmlab's inputs (scenario files, schedule
 * files, command-line flags): decimal digits, or with hex_ok also 0x/0X and
 * hex digits; no sign, no blanks.  0, -EINVAL for anything else, -ERANGE
 * past 2^64-1.
 */
int scenario_strtou64(const char *t, bool hex_ok, u64 *out);

#endif
