// SPDX-License-Identifier: GPL-2.0
/*
 * Function-call IPIs with acknowledgement (kernel/smp.c
 * smp_call_function_many_cond, v5.15), reduced to what KVM's request
 * machinery observes: an IPI to a CPU with interrupts enabled is handled at
 * once; to a CPU with interrupts disabled it stays pending until that CPU
 * re-enables them (or, in guest mode, until the VM exit it causes is followed
 * by local_irq_enable()).  With 'wait' the sender returns only after every
 * target has handled it.  The handler KVM uses (ack_kick) is empty.
 *
 * Ordering: sender "set my pending bit; smp_mb(); read irqs_disabled"
 * against target "irqs_disabled = 0; smp_mb(); read pending" (a Dekker
 * pair), so either the sender sees interrupts enabled and acks on the
 * target's behalf, or the target sees the pending IPI; both clearing it is
 * harmless.
 *
 * Each sender has its own pending bit (the kernel's per-sender
 * call_single_data): with one shared flag, a sender that saw interrupts
 * enabled and acked late cleared another sender's IPI, sent after the target
 * had disabled interrupts again, and that sender's wait returned while the
 * target was still entering the guest (found by the checker on the 'mixed'
 * scenario, a false apicv-mismatch against mainline).
 */
#include "kernel/smp.h"

void local_irq_disable(void)
{
	WRITE_ONCE(this_pcpu()->irqs_disabled, 1);
}

static void handle_ipi(struct pcpu *c)
{
	/* The handlers of all pending IPIs run; they are empty (ack_kick). */
	(void)xchg(&c->ipi_pending, 0);
}

void local_irq_enable(void)
{
	struct pcpu *c = this_pcpu();

	WRITE_ONCE(c->irqs_disabled, 0);
	smp_mb();	/* pairs with smp_mb() in smp_call_function_many() */
	if (READ_ONCE(c->ipi_pending))
		handle_ipi(c);
	/*
	 * A guest notification that found the CPU in the host is taken now
	 * and ignored (the interrupt controller, not kernel code: hw_load).
	 */
	if (hw_load(c->doorbell))
		(void)xchg(&c->doorbell, 0);
}

void smp_send_guest_notification(int cpu)
{
	struct pcpu *c = rt->percpu(cpu);

	(void)__rt_access(RT_OR, &c->doorbell, sizeof(c->doorbell), 1, 0);
	smp_mb();	/* pairs with smp_mb() in local_irq_enable() */
	if (!hw_load(c->irqs_disabled))	/* taken by the host at once */
		(void)__rt_access(RT_ANDNOT, &c->doorbell, sizeof(c->doorbell), 1, 0);
}

bool local_ipi_pending(void)
{
	return READ_ONCE(this_pcpu()->ipi_pending);
}

void smp_call_function_many(u64 mask, bool wait)
{
	int self = rt_self(), me = rt_cpu();

	for (int cpu = 0; cpu < KVMLAB_MAX_PCPUS; cpu++) {
		struct pcpu *c;

		if (!(mask & BIT_ULL(cpu)) || cpu == me)
			continue;
		c = rt->percpu(cpu);
		(void)__rt_access(RT_OR, &c->ipi_pending, sizeof(c->ipi_pending), BIT(self), 0);
		smp_mb();	/* pairs with smp_mb() in local_irq_enable() */
		if (!READ_ONCE(c->irqs_disabled))	/* handled at once */
			(void)__rt_access(RT_ANDNOT, &c->ipi_pending, sizeof(c->ipi_pending), BIT(self), 0);
	}
	if (!wait)
		return;
	for (int cpu = 0; cpu < KVMLAB_MAX_PCPUS; cpu++)
		if ((mask & BIT_ULL(cpu)) && cpu != me)
			wait_until_clear(rt->percpu(cpu)->ipi_pending, BIT(self));
}
