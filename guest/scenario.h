/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest programs and scenarios.
 *
 * A guest program is the per-vCPU script the simulated guest executes, one
 * instruction (one MOV to or from memory, or HLT) per op.  An actor script is
 * what a host-side thread does concurrently: set/clear a named APICv inhibit
 * reason, zap a gfn range (as MTRR or CR0.CD changes do), create a vCPU.
 * A scenario bundles the vCPU count, knobs and scripts; it is plain data,
 * parsed from a text file (scenario_parse_file) or taken from the built-in
 * table (scenario_builtin).  The file format is documented in
 * guest/scenario.c and README.md.
 */
#ifndef KVMLAB_GUEST_SCENARIO_H
#define KVMLAB_GUEST_SCENARIO_H

#include <stdio.h>

#include "kernel/types.h"

#define SCN_MAX_VCPUS 8
#define SCN_MAX_ACTORS 4
#define SCN_MAX_OPS 64
#define SCN_NAME_MAX 64
#define SCN_MAX_RAM_PAGES 64	/* ram-pages; the model backs this many (model/kvm.h) */

enum guest_op_kind {
	GOP_APIC_READ,		/* read 'len' bytes at APIC offset 'off' */
	GOP_APIC_WRITE,		/* write 'val' ('len' bytes) at APIC offset 'off' */
	GOP_MEM_READ,		/* read 4 bytes of RAM at guest-physical 'gpa' */
	GOP_MEM_WRITE,		/* write 'val' (4 bytes) to RAM at 'gpa' */
	GOP_HLT,		/* halt until an interrupt arrives */
	GOP_WAIT_IRQ,		/* "while (taken < val) { sti; hlt; }": wait for the val-th interrupt */
};

struct guest_op {
	u8 kind;		/* enum guest_op_kind */
	u8 len;			/* access size in bytes: 1, 2 or 4 */
	u16 off;		/* APIC register offset (0..0xfff) */
	u32 val;		/* value written */
	u64 gpa;		/* for memory ops */
};

struct guest_program {
	int nr_ops;
	struct guest_op ops[SCN_MAX_OPS];
};

enum actor_op_kind {
	AOP_INHIBIT_SET,	/* kvm_set_apicv_inhibit(kvm, reason) */
	AOP_INHIBIT_CLEAR,	/* kvm_clear_apicv_inhibit(kvm, reason) */
	AOP_ZAP,		/* kvm_zap_gfn_range(kvm, gfn_start, gfn_end) */
	AOP_CREATE_VCPU,	/* kvm_vm_ioctl_create_vcpu(kvm, vcpu) */
	AOP_MSI,		/* KVM_SIGNAL_MSI: fixed vector to physical APIC ID 'vcpu' */
};

struct actor_op {
	u8 kind;		/* enum actor_op_kind */
	u8 reason;		/* enum kvm_apicv_inhibit (model/kvm.h) */
	u16 vcpu;		/* AOP_CREATE_VCPU: index of the vCPU to create; AOP_MSI: APIC ID */
	u8 vector;		/* AOP_MSI: the vector */
	gfn_t gfn_start, gfn_end;	/* for AOP_ZAP: [start, end) */
};

struct actor_script {
	int nr_ops;
	struct actor_op ops[SCN_MAX_OPS];
};

/*
 * What must hold when every vCPU program and actor script has finished (the
 * 'expect' section): checked by the checker at every terminal state, by
 * replay at the end of a schedule, by stress after a single iteration.
 */
#define SCN_MAX_EXPECT 16

enum scn_expect_kind {
	EXP_IRQS,		/* vCPU 'vcpu''s guest took exactly 'val' interrupts */
	EXP_REG,		/* the 32-bit APIC register at 'off' reads 'val' (as KVM_GET_LAPIC) */
	EXP_APICV,		/* vCPU 'vcpu''s APICv/AVIC is active ('val' 1) or not (0) */
};

struct scn_expect {
	u8 kind;		/* enum scn_expect_kind */
	u8 vcpu;
	u16 off;		/* EXP_REG: register offset, 16-byte aligned */
	u32 val;
};

/* Knob values; -1 = not set by the scenario (the default or a flag decides). */
struct scenario {
	char name[SCN_NAME_MAX];
	const char *description;	/* built-ins only; NULL for files */
	int nr_vcpus;			/* total vCPUs, including ones created late */
	int nr_initial_vcpus;		/* created before anything runs */
	int vendor;			/* enum kvm_vendor or -1 */
	int policy;			/* enum kvm_policy or -1 */
	u64 bugs;			/* bitmask of enum kvm_bug */
	int ram_pages;			/* RAM memslot at gpa 0, in 4 KiB pages */
	bool zap_yield;			/* kvm_zap_gfn_range may yield mmu_lock */
	bool apic_enabled;		/* every local APIC starts software-enabled (SPIV 0x1ff) */
	u8 preempt;			/* enum kvm_preempt (model/kvm.h): no, yes, migrate */
	struct guest_program vcpu[SCN_MAX_VCPUS];
	int nr_actors;
	struct actor_script actor[SCN_MAX_ACTORS];
	int nr_expect;
	struct scn_expect expect[SCN_MAX_EXPECT];
};

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
/* One expectation as the scenario file writes it ('irqs 1 1'), in buf. */
const char *scenario_expect_text(const struct scn_expect *e, char *buf, size_t len);
void scenario_print(FILE *f, const struct scenario *s);
/*
 * The one strict number syntax of kvmlab's inputs (scenario files, schedule
 * files, command-line flags): decimal digits, or with hex_ok also 0x/0X and
 * hex digits; no sign, no blanks.  0, -EINVAL for anything else, -ERANGE
 * past 2^64-1.
 */
int scenario_strtou64(const char *t, bool hex_ok, u64 *out);

#endif
