/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Physical-CPU pieces the request/kick machinery needs: the local interrupt
 * flag and function-call IPIs that are acknowledged when the target runs the
 * (empty) handler, i.e. when it next has interrupts enabled.  One actor (one
 * thread or fiber) is one pCPU.  This is the part of smp_call_function_many()
 * (kernel/smp.c) that kvm_make_vcpus_request_mask() relies on with
 * KVM_REQUEST_WAIT: the caller returns only after every targeted CPU has
 * re-enabled interrupts.  A CPU is a KVMLAB_MAX_PCPUS index (kernel/prim.h);
 * the acknowledgement bit of a sender is its actor id.
 */
#ifndef KVMLAB_KERNEL_SMP_H
#define KVMLAB_KERNEL_SMP_H

#include "kernel/prim.h"

static inline struct pcpu *this_pcpu(void) { return rt->percpu(rt_cpu()); }

/*
 * preempt_disable()/preempt_enable(): the nesting count of the task on this
 * CPU (one task per actor).  Only the model's preemption points look at it.
 */
static inline void preempt_disable(void) { this_pcpu()->preempt_count++; }
static inline void preempt_enable(void) { this_pcpu()->preempt_count--; }
/* preemptible(): preemption and interrupts enabled. */
static inline bool preemptible(void)
{
	return !this_pcpu()->preempt_count && !this_pcpu()->irqs_disabled;
}

void local_irq_disable(void);
/* Re-enable interrupts; a pending function-call IPI is handled here. */
void local_irq_enable(void);
/* True if a function-call IPI is pending on this CPU (it forces a VM exit). */
bool local_ipi_pending(void);
/*
 * An AVIC doorbell (SVM) or posted-interrupt notification vector (VMX) to
 * 'cpu': only a CPU in guest mode acts on it; one that has interrupts
 * disabled (about to enter the guest) keeps it pending, one in the host with
 * interrupts enabled takes it at once (and ignores it).
 */
void smp_send_guest_notification(int cpu);
/* Send the function-call IPI to every actor in 'mask'; if 'wait', wait for each ack. */
void smp_call_function_many(u64 mask, bool wait);

#endif
