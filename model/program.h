/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plain data a scenario hands the model: guest programs (one op per
 * guest instruction), actor scripts (host-side actions), the knobs and the
 * final-state expectations.  Types only, plus one pure formatter: the model
 * includes this; guest/scenario.h (the parser, printer and built-ins, a
 * layer above the model) builds these values.
 */
#ifndef KVMLAB_MODEL_PROGRAM_H
#define KVMLAB_MODEL_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/types.h"

#define SCN_MAX_VCPUS 8
#define SCN_MAX_ACTORS 4
#define SCN_MAX_OPS 64
#define SCN_NAME_MAX 64
#define SCN_MAX_RAM_PAGES 64	/* ram-pages; the model backs this many (model/kvm.h) */

enum guest_op_kind {
	GOP_APIC_READ,		/* read 'len' bytes at APIC offset 'off' of the page at 'gpa' - 'off' */
	GOP_APIC_WRITE,		/* write 'val' ('len' bytes) at APIC offset 'off' of that page */
	GOP_MEM_READ,		/* read 4 bytes of RAM at guest-physical 'gpa' */
	GOP_MEM_WRITE,		/* write 'val' (4 bytes) to RAM at 'gpa' */
	GOP_HLT,		/* halt until an interrupt arrives */
	GOP_WAIT_IRQ,		/* "while (taken < val) { sti; hlt; }": wait for the val-th interrupt */
	GOP_APIC_BASE,		/* rdmsr/wrmsr IA32_APIC_BASE: val = the mode's EN|EXTD bits (0, 0x800, 0xc00), gpa the base */
	GOP_WAIT_MEM,		/* "while (*gpa != val) pause;": spin on 4 bytes of RAM until they read 'val' */
	GOP_CR8_WRITE,		/* mov 'val' (0..15) to CR8: TPR[7:4] */
	GOP_CR8_READ,		/* mov from CR8: checked against the reference APIC's TPR[7:4] */
	GOP_CLI,		/* cli: RFLAGS.IF = 0 */
	GOP_STI,		/* sti: RFLAGS.IF = 1 (no interrupt shadow) */
};

struct guest_op {
	u8 kind;		/* enum guest_op_kind */
	u8 len;			/* access size in bytes: 1, 2 or 4 */
	u16 off;		/* APIC register offset (0..0xfff) */
	u32 val;		/* value written */
	u64 gpa;		/* memory and APIC ops: the address; apic-base: the base */
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
	AOP_PIC_IRQ,		/* KVM_IRQ_LINE: an edge (1 then 0) on the PIC's line 'vector' (0..7) */
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
	EXP_INHIBITS,		/* the VM's APICv inhibit reasons are exactly 'val' (a mask of enum kvm_apicv_inhibit) */
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
	bool no_x2avic;			/* SVM: the CPU has AVIC but not x2AVIC (hybrid AVIC) */
	u8 preempt;			/* enum kvm_preempt (model/kvm.h): no, yes, migrate */
	struct guest_program vcpu[SCN_MAX_VCPUS];
	int nr_actors;
	struct actor_script actor[SCN_MAX_ACTORS];
	int nr_expect;
	struct scn_expect expect[SCN_MAX_EXPECT];
};

/* One expectation as the scenario file writes it ('irqs 1 1'), in buf (model/names.c). */
const char *scn_expect_text(const struct scn_expect *e, char *buf, size_t len);

#endif
