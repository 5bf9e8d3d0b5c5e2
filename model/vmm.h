/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM side of a scenario (what kvmtool or QEMU would do): build the VM
 * and its initial vCPUs, run a vCPU's guest program with KVM_RUN, and execute
 * actor ops (inhibit changes, zaps, vCPU creation) as host-side threads.
 * Runtime-neutral: the stress harness calls these from pthreads, the checker
 * from fibers.  Actor ids: vCPU i is actor i; actor script j is actor
 * nr_vcpus + j.  All state lives in the arena.
 */
#ifndef KVMLAB_MODEL_VMM_H
#define KVMLAB_MODEL_VMM_H

#include "model/program.h"
#include "model/kvm.h"

struct vmm {
	struct kvm *kvm;
	const struct scenario *scn;
	int nr_vcpus;
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];	/* by scenario vCPU index */
	u32 created[KVM_MAX_VCPUS];		/* set once vcpus[i] is usable */
	/*
	 * The op each actor script is executing (the checker's harness keeps
	 * it: the reduction's summaries depend on what is left of a script).
	 */
	u32 actor_op[SCN_MAX_ACTORS];
};

/* Resolve the knobs: scenario values win over defaults, explicit flags over both. */
void vmm_config(const struct scenario *s, int policy, int vendor, u64 extra_bugs,
		struct kvm_config *cfg);
/* Create the VM and the initial vCPUs (call before any actor runs). */
struct vmm *vmm_create(const struct scenario *s, const struct kvm_config *cfg);
/* vCPU thread body: wait for the vCPU to exist, run its program once; returns vcpu_run's r. */
int vmm_vcpu_run_program(struct vmm *vmm, int idx);
/* Actor thread: one op of its script. */
void vmm_actor_op(struct vmm *vmm, int actor, const struct actor_op *op);
/*
 * The scenario's expectations, on a finished run (every program and script
 * done, called outside the actors): F_NONE, or F_EXPECT_FAILED with the
 * first one that does not hold in msg and its vCPU in *vcpu.
 */
enum kvm_finding vmm_check_expect(const struct vmm *vmm, char *msg, size_t len, int *vcpu);
/* Actor id of actor script j. */
static inline int vmm_actor_id(const struct vmm *vmm, int j) { return vmm->nr_vcpus + j; }

#endif
