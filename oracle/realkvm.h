/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal KVM host (no external VMM) that runs one xAPIC register program
 * (oracle/apicprog.h) against the kernel's own in-kernel LAPIC: a fresh VM
 * with KVM_CREATE_IRQCHIP, one vCPU in flat 32-bit protected mode set up
 * through KVM_SET_SREGS alone, guest code generated from the program, a hard
 * time limit on every run, and the final register page from KVM_GET_LAPIC.
 *
 * Errors: every function returns 0 or a negative errno; the failing ioctl's
 * name and errno are kept in the handle (realkvm_last_error()).  Nothing here
 * prints.  -REALKVM_EUNAVAIL from realkvm_open() means "this machine cannot
 * run the oracle" (no device, no VM, no in-kernel irqchip): the caller
 * reports a skip with the reason string, it is not a failure.
 */
#ifndef KVMLAB_ORACLE_REALKVM_H
#define KVMLAB_ORACLE_REALKVM_H

#include <errno.h>
#include <stddef.h>

#include "kernel/types.h"
#include "oracle/apicprog.h"

#define REALKVM_DEFAULT_DEV "/dev/kvm"
#define REALKVM_EUNAVAIL ENODEV		/* returned negated by realkvm_open() */
#define REALKVM_APIC_REGS 0x400		/* struct kvm_lapic_state: regs[1024] */
#define REALKVM_TIMEOUT_MS 500		/* hard limit for one program's guest */

struct realkvm;

struct realkvm_result {
	u32 nr_reads;			/* values the guest reported */
	u32 reads[APIC_PROG_MAX_ACCESSES];	/* value of each read, in order */
	u8 regs[REALKVM_APIC_REGS];	/* KVM_GET_LAPIC after the last access */
	u64 run_ns;			/* wall time of VM creation..KVM_GET_LAPIC */
	u32 kvm_runs;			/* KVM_RUN calls */
};

/*
 * Open @dev (e.g. "/dev/kvm") and check it can host the oracle: API version
 * 12, in-kernel irqchip, a trial VM with KVM_CREATE_IRQCHIP.  On
 * -REALKVM_EUNAVAIL, @reason (if not NULL) says why.
 */
int realkvm_open(const char *dev, struct realkvm **out, char *reason, size_t reason_len);
void realkvm_close(struct realkvm *rk);

/*
 * Whether the guest's CPUID keeps TSC-deadline (CPUID.01H:ECX[24]) from
 * KVM_GET_SUPPORTED_CPUID (default: yes; without it the kernel's LVTT drops
 * bit 18 and never enters TSC-deadline mode).  Set it the way the model
 * under comparison assumes.
 */
void realkvm_set_tsc_deadline(struct realkvm *rk, bool expose);
/* Whether the host's KVM_GET_SUPPORTED_CPUID offers TSC-deadline at all. */
bool realkvm_has_tsc_deadline(const struct realkvm *rk);

/*
 * Run @p in a fresh VM.  0 on success; -ETIMEDOUT if the guest did not finish
 * within REALKVM_TIMEOUT_MS; -EPROTO on an unexpected exit (shutdown,
 * emulation failure, stray I/O or MMIO); -errno of a failed ioctl.  The
 * description is in realkvm_last_error().
 */
int realkvm_run(struct realkvm *rk, const struct apic_prog *p, struct realkvm_result *res);

/* "KVM_CREATE_VCPU: Cannot allocate memory" etc.; "" if no error yet. */
const char *realkvm_last_error(const struct realkvm *rk);

/* Size in bytes of the guest code generated for @p (for tests). */
size_t realkvm_code_size(const struct apic_prog *p);

#endif
