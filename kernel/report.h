/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The closed set of findings (docs/verdicts.md).  Every violation the model, the
 * simulated hardware, the oracles or a runtime can detect is one of these; the
 * model raises them through KVM_REPORT()/KVM_ASSERT() (kernel/prim.h), which
 * hands them to the runtime: the thread runtime logs them with the last events
 * of every thread, the checker turns them into a counterexample.
 */
#ifndef KVMLAB_KERNEL_REPORT_H
#define KVMLAB_KERNEL_REPORT_H

enum kvm_finding {
	F_NONE = 0,
	F_BAD_SPTE,		/* guest access through a present APIC SPTE with AVIC off (SVM) */
	F_STALE_SPTE,		/* SPTE installed from a snapshot that predates a zap of its gfn */
	F_LOST_APIC_WRITE,	/* an APIC write never reached the vCPU's APIC */
	F_WRONG_APIC_READ,	/* an APIC read returned something the reference did not */
	F_APICV_MISMATCH,	/* VM vs vCPU APICv state differ at VM entry */
	F_LOST_REQUEST,		/* a vCPU runs guest code with a kicked request pending */
	F_ACCEL_LOST,		/* APIC access still emulated after APICv came back */
	F_DEADLOCK,		/* every live actor is blocked */
	F_LOCK_MISUSE,		/* unlock of an unheld lock, recursion, wrong mode */
	F_ASSERT,		/* a model assertion (KVM_ASSERT / lockdep) failed */
	F_DATA_RACE,		/* unordered plain accesses to shared memory */
	F_LOST_INTERRUPT,	/* an accepted interrupt that nothing will deliver to the guest */
	F_ISRUNNING_MISMATCH,	/* AVIC IsRunning/host APIC ID disagree with where the vCPU is */
	F_EXPECT_FAILED,	/* a scenario's final-state expectation does not hold */
	F_STALE_TLB,		/* a guest access used a TLB entry a completed zap or an AVIC change should have removed */
	F_CR8_INTERCEPTED,	/* SVM: a guest CR8 write exited while AVIC was on (87d0f901a9bd's WARN) */
	F_IRQ_WINDOW_IGNORED,	/* SVM: an IRQ window (V_IRQ) opened with AVIC activated (svm_set_vintr()'s WARN) */
	F_VMENTRY_FAILED,	/* VMX: a VM entry that fails the checks on its control fields (SDM 28.2.1.1) */
	F_STRAY_APIC_WRITE,	/* an APIC write took effect at an address where the vCPU's APIC is not */
	F_NR_FINDINGS
};

/* Stable, user-visible slugs ("bad-spte", ...), indexed by enum kvm_finding. */
const char *kvm_finding_name(enum kvm_finding f);
/* Inverse of kvm_finding_name(); F_NONE if unknown. */
enum kvm_finding kvm_finding_parse(const char *name);

#endif
