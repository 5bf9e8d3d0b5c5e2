// SPDX-License-Identifier: GPL-2.0
/*
 * SVM AVIC: the physical APIC ID table entry of each vCPU (IsRunning, host
 * physical APIC ID), its updates when the vCPU is loaded, put, blocks and
 * unblocks and when AVIC is (de)activated, and the delivery of interrupts to
 * a vCPU whose AVIC may be switching: svm_deliver_interrupt() ->
 * svm_complete_interrupt_delivery() (doorbell, or KVM_REQ_EVENT + kick), and
 * the AVIC_INCOMPLETE_IPI exit the hardware takes when a guest IPI targets a
 * vCPU that is not running.  VMX's deliver_interrupt is here too, because it
 * is the same hook (model/posted_intr.c).
 *
 * Sources: arch/x86/kvm/svm/avic.c and svm.c as of v6.17 (kvm-x86 tree
 * 3cfc1a8ee2b9, read through the search tools), svm_complete_interrupt_delivery
 * and svm_deliver_interrupt as in v6.18.38; the older behaviours behind
 * KVM_BUG_AVIC_DELIVER_RACE are v5.17-rc3's (the code 66fa226c131f and
 * 30811174f0db replaced, as their diffs show it).
 *
 * Left out: the IOMMU (ir_list, GA log, IRTE updates: no assigned devices),
 * x2AVIC, the logical APIC ID table (logical-destination guest IPIs exit as
 * AVIC_IPI_FAILURE_INVALID_INT_TYPE and are emulated), enable_ipiv=false
 * (Zen1/2 erratum 1235: IsRunning is always written to the table here), and
 * the logical half of avic_kick_target_vcpus_fast().
 */
#include <errno.h>

#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

enum avic_vcpu_action {
	AVIC_TOGGLE_ON_OFF = BIT(0),
	AVIC_ACTIVATE = AVIC_TOGGLE_ON_OFF,
	AVIC_DEACTIVATE = AVIC_TOGGLE_ON_OFF,
	AVIC_START_RUNNING = 0,
	AVIC_STOP_RUNNING = 0,
	AVIC_START_BLOCKING = BIT(1),
};

/* avic_init_backing_page() (avic.c v7.2, as v6.17), for a vCPU ID AVIC supports. */
void avic_init_vcpu(struct kvm_vcpu *vcpu)
{
	u64 new_entry;

	if (!vcpu->kvm->cfg.enable_apicv || vcpu->kvm->cfg.vendor != KVM_VENDOR_SVM)
		return;
	/* The backing page is apic->regs; the hardware finds it through the vCPU. */
	new_entry = AVIC_PHYSICAL_ID_ENTRY_VALID_MASK;
	vcpu->arch.avic_physical_id_entry = new_entry;
	WRITE_ONCE(vcpu->avic_physical_id_table_entry, new_entry);
}

/* __avic_vcpu_load() (avic.c v7.2, as v6.17), without the IOMMU affinity update. */
static void __avic_vcpu_load(struct kvm_vcpu *vcpu, int cpu, enum avic_vcpu_action action)
{
	int h_physical_id = kvm_cpu_get_apicid(cpu);
	u64 entry;

	(void)action;	/* only the IOMMU (not modelled) tells the actions apart */
	entry = vcpu->arch.avic_physical_id_entry;
	WARN_ON_ONCE(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK);

	entry &= ~(AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK | AVIC_PHYSICAL_ID_ENTRY_GA_LOG_INTR);
	entry |= ((u64)h_physical_id & AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK);
	entry |= AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK;

	vcpu->arch.avic_physical_id_entry = entry;
	WRITE_ONCE(vcpu->avic_physical_id_table_entry, entry);
	kvm_trace(EV_AVIC_RUNNING, vcpu->vcpu_idx, 1, h_physical_id, 0);
}

/* avic_vcpu_load() (avic.c v7.2, as v6.17). */
void avic_vcpu_load(struct kvm_vcpu *vcpu, int cpu)
{
	/*
	 * No need to update anything if the vCPU is blocking, i.e. if the vCPU
	 * is being scheduled in after being preempted.
	 */
	if (kvm_vcpu_is_blocking(vcpu))
		return;
	__avic_vcpu_load(vcpu, cpu, AVIC_START_RUNNING);
}

/* __avic_vcpu_put() (avic.c v7.2, as v6.17), without the IOMMU affinity update. */
static void __avic_vcpu_put(struct kvm_vcpu *vcpu, enum avic_vcpu_action action)
{
	u64 entry = vcpu->arch.avic_physical_id_entry;

	WARN_ON_ONCE(entry & AVIC_PHYSICAL_ID_ENTRY_GA_LOG_INTR);

	/* Keep the previous APIC ID in the entry. */
	entry &= ~AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK;
	WRITE_ONCE(vcpu->avic_physical_id_table_entry, entry);	/* enable_ipiv */
	kvm_trace(EV_AVIC_RUNNING, vcpu->vcpu_idx, 0, entry & AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK,
		  !!(action & AVIC_START_BLOCKING));

	/* A synthetic flag, never written to the table. */
	if (action & AVIC_START_BLOCKING)
		entry |= AVIC_PHYSICAL_ID_ENTRY_GA_LOG_INTR;
	vcpu->arch.avic_physical_id_entry = entry;
}

/* avic_vcpu_put() (avic.c v7.2, as v6.17). */
void avic_vcpu_put(struct kvm_vcpu *vcpu)
{
	u64 entry = vcpu->arch.avic_physical_id_entry;

	/*
	 * Nothing to do if IsRunning == '0' due to vCPU blocking, i.e. if the
	 * vCPU is preempted while its in the process of blocking.
	 */
	if (!(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK)) {
		if (WARN_ON_ONCE(!kvm_vcpu_is_blocking(vcpu)))
			return;
		if (!(WARN_ON_ONCE(!(entry & AVIC_PHYSICAL_ID_ENTRY_GA_LOG_INTR))))
			return;
	}
	__avic_vcpu_put(vcpu, kvm_vcpu_is_blocking(vcpu) ? AVIC_START_BLOCKING : AVIC_STOP_RUNNING);
}

/*
 * svm_set/clr_intercept(svm, INTERCEPT_CR8_WRITE) (svm.h v7.0, as v6.1;
 * svm_mark_intercepts_dirty() is not modelled), traced when it changes.
 * svm_update_cr8_intercept() does the same inline: a call there changes
 * kvm_lapic_update_cr8_intercept()'s frame, and with it the checker's states.
 */
static void svm_set_cr8_intercept(struct kvm_vcpu *vcpu, bool on, enum cr8_intercept_by by)
{
	if (vcpu->arch.ctrl.cr8_write_intercept != on)
		kvm_trace(EV_CR8_INTERCEPT, vcpu->vcpu_idx, on, by, 0);
	vcpu->arch.ctrl.cr8_write_intercept = on;
}

/*
 * avic_activate_vmcb() (avic.c v7.1, a9e18aa3263f): the AVIC enable bit,
 * x2AVIC mode for an APIC in x2APIC mode if the CPU has x2AVIC (without it,
 * "hybrid" AVIC: xAVIC mode, and "KVM disables the APIC access page (deletes
 * the memslot) if any vCPU has x2APIC enabled, thus enabling AVIC in hybrid
 * mode activates only the doorbell mechanism"), and the flush of the current TLB, "when enabling (x2)AVIC
 * and when transitioning between xAVIC and x2AVIC, as the CPU may have
 * inserted a TLB entry for the 'wrong' mapping".  0ccf3e7cb95a (v6.3) added
 * the flush for xAVIC only (KVM_BUG_X2AVIC_NO_FLUSH); before it there was none
 * (KVM_BUG_AVIC_ACTIVATE_NO_FLUSH).  The MSR intercepts are not modelled.
 */
static void avic_activate_vmcb(struct kvm_vcpu *vcpu)
{
	bool x2 = vcpu->kvm->cfg.x2avic && kvm_get_apic_mode(vcpu) == LAPIC_MODE_X2APIC;

	vcpu->arch.ctrl.avic_enabled = true;
	/* 87d0f901a9bd (v7.0): AVIC virtualizes the TPR; CR8 writes need no exit. */
	if (!kvm_bug(vcpu->kvm, KVM_BUG_CR8_INTERCEPT_STUCK))
		svm_set_cr8_intercept(vcpu, false, CR8_BY_ACTIVATE);	/* svm_clr_intercept(INTERCEPT_CR8_WRITE) */
	vcpu->arch.ctrl.x2avic = x2;
	if (!kvm_bug(vcpu->kvm, KVM_BUG_AVIC_ACTIVATE_NO_FLUSH) &&
	    !(x2 && kvm_bug(vcpu->kvm, KVM_BUG_X2AVIC_NO_FLUSH)))
		kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
}

/*
 * avic_deactivate_vmcb() (avic.c v7.1): the AVIC enable and x2APIC mode bits
 * and, since 87d0f901a9bd (v7.0), the CR8 write intercept
 * (kvm_lapic_update_cr8_intercept() narrows it again); no flush.
 */
static void avic_deactivate_vmcb(struct kvm_vcpu *vcpu)
{
	vcpu->arch.ctrl.avic_enabled = false;
	vcpu->arch.ctrl.x2avic = false;
	if (!kvm_bug(vcpu->kvm, KVM_BUG_CR8_INTERCEPT_STUCK))
		svm_set_cr8_intercept(vcpu, true, CR8_BY_DEACTIVATE);	/* svm_set_intercept(INTERCEPT_CR8_WRITE) */
}

/*
 * init_vmcb() (svm.c v7.0) at vCPU creation: INTERCEPT_CR8_WRITE, then
 * avic_init_vmcb() activates or deactivates AVIC by the vCPU's flag (since
 * 3989a6d036c8; before it, by the VM's state: KVM_BUG_AVIC_INIT_VM_STATE).
 * Before 87d0f901a9bd init_vmcb() set the intercept only if APICv was not
 * active and avic_(de)activate_vmcb() left it alone.  The TLB flush request
 * of avic_activate_vmcb() is left out here: the new vCPU's TLB is empty.
 */
void svm_init_vmcb_avic(struct kvm_vcpu *vcpu)
{
	struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	if (kvm_bug(vcpu->kvm, KVM_BUG_AVIC_INIT_VM_STATE))
		c->avic_enabled = kvm_apicv_activated(vcpu->kvm);
	else
		c->avic_enabled = kvm_vcpu_apicv_active(vcpu);
	if (kvm_bug(vcpu->kvm, KVM_BUG_CR8_INTERCEPT_STUCK))
		c->cr8_write_intercept = !kvm_vcpu_apicv_active(vcpu);
	else	/* set by init_vmcb(), cleared by avic_activate_vmcb() */
		c->cr8_write_intercept = !c->avic_enabled;
}

/* avic_refresh_virtual_apic_mode() (avic.c v7.2, as v6.17), without the logical ID table. */
void avic_refresh_virtual_apic_mode(struct kvm_vcpu *vcpu)
{
	if (kvm_vcpu_apicv_active(vcpu))
		avic_activate_vmcb(vcpu);
	else
		avic_deactivate_vmcb(vcpu);
}

/*
 * avic_refresh_apicv_exec_ctrl() (avic.c v7.2, as v6.17): the VMCB's AVIC state, then
 * IsRunning follows it.
 */
void avic_refresh_apicv_exec_ctrl(struct kvm_vcpu *vcpu)
{
	if (!vcpu->kvm->cfg.enable_apicv)
		return;

	/* APICv should only be toggled on/off while the vCPU is running. */
	WARN_ON_ONCE(kvm_vcpu_is_blocking(vcpu));

	avic_refresh_virtual_apic_mode(vcpu);

	if (kvm_vcpu_apicv_active(vcpu))
		__avic_vcpu_load(vcpu, vcpu->cpu, AVIC_ACTIVATE);
	else
		__avic_vcpu_put(vcpu, AVIC_DEACTIVATE);
}

/* avic_vcpu_blocking() (avic.c v7.2, as v6.17). */
void avic_vcpu_blocking(struct kvm_vcpu *vcpu)
{
	if (!kvm_vcpu_apicv_active(vcpu))
		return;
	/*
	 * Unload the AVIC when the vCPU is about to block, _before_ the vCPU
	 * actually blocks.  IRQs that arrive before IsRunning=0 are caught by
	 * kvm_vcpu_check_block() checking vIRR one last time.
	 */
	__avic_vcpu_put(vcpu, AVIC_START_BLOCKING);
}

/* avic_vcpu_unblocking() (avic.c v7.2, as v6.17). */
void avic_vcpu_unblocking(struct kvm_vcpu *vcpu)
{
	if (!kvm_vcpu_apicv_active(vcpu))
		return;
	avic_vcpu_load(vcpu, vcpu->cpu);
}

/*
 * avic_ring_doorbell() (avic.c v7.2, as v6.17): wrmsr(MSR_AMD64_SVM_AVIC_DOORBELL) to
 * the pCPU the vCPU was last loaded on, unless that is this CPU.
 */
static void avic_ring_doorbell(struct kvm_vcpu *vcpu)
{
	int cpu = READ_ONCE(vcpu->cpu);

	if (cpu != rt_cpu()) {
		smp_send_guest_notification(cpu);
		kvm_trace(EV_DOORBELL, vcpu->vcpu_idx, kvm_cpu_get_apicid(cpu), 0, 0);
	}
}

/* svm_complete_interrupt_delivery() (svm.c v6.18). */
static void svm_complete_interrupt_delivery(struct kvm_vcpu *vcpu, int delivery_mode, int trig_mode,
					    int vector)
{
	/*
	 * apic->apicv_active must be read after vcpu->mode.
	 * Pairs with smp_store_release in vcpu_enter_guest.
	 */
	bool in_guest_mode = (smp_load_acquire(&vcpu->mode) == IN_GUEST_MODE);

	(void)delivery_mode;
	(void)trig_mode;
	/* Note, this is called iff the local APIC is in-kernel. */
	if (!READ_ONCE(vcpu->arch.apicv_active)) {
		/* Process the interrupt via kvm_check_and_inject_events(). */
		kvm_make_request(KVM_REQ_EVENT, vcpu);
		kvm_vcpu_kick(vcpu);
		return;
	}

	kvm_trace(EV_APICV_ACCEPT_IRQ, vcpu->vcpu_idx, vector, in_guest_mode, 0);
	if (in_guest_mode) {
		/*
		 * Signal the doorbell to tell hardware to inject the IRQ.  If
		 * the vCPU exits the guest before the doorbell chimes, hardware
		 * will automatically process AVIC interrupts at the next VMRUN.
		 */
		avic_ring_doorbell(vcpu);
	} else {
		/*
		 * Wake the vCPU if it was blocking.  KVM will then detect the
		 * pending IRQ when checking if the vCPU has a wake event.
		 */
		kvm_vcpu_wake_up(vcpu);
	}
}

/*
 * svm_deliver_avic_intr() of v5.17-rc3 (avic.c), which 66fa226c131f and
 * 30811174f0db replaced: apicv_active is tested first (plain read), IRR is
 * set only on the AVIC path, and vcpu->mode is read plain afterwards.
 */
static int svm_deliver_avic_intr_v517(struct kvm_vcpu *vcpu, int vec)
{
	if (!READ_ONCE(vcpu->arch.apicv_active))
		return -1;

	kvm_lapic_set_irr(vec, vcpu->arch.apic);

	/*
	 * Pairs with the smp_mb_*() after setting vcpu->guest_mode in
	 * vcpu_enter_guest() to ensure the write to the vIRR is ordered before
	 * the read of guest_mode.
	 */
	smp_mb__after_atomic();

	if (READ_ONCE(vcpu->mode) == IN_GUEST_MODE)
		avic_ring_doorbell(vcpu);
	else
		kvm_vcpu_wake_up(vcpu);
	return 0;
}

/* svm_deliver_interrupt() (svm.c v6.18; v5.17-rc3 under KVM_BUG_AVIC_DELIVER_RACE). */
static void svm_deliver_interrupt(struct kvm_lapic *apic, int delivery_mode, int trig_mode, int vector)
{
	struct kvm_vcpu *vcpu = apic->vcpu;

	if (kvm_bug(vcpu->kvm, KVM_BUG_AVIC_DELIVER_RACE)) {
		if (svm_deliver_avic_intr_v517(vcpu, vector)) {
			kvm_lapic_set_irr(vector, apic);
			kvm_make_request(KVM_REQ_EVENT, vcpu);
			kvm_vcpu_kick(vcpu);
		} else {
			kvm_trace(EV_APICV_ACCEPT_IRQ, vcpu->vcpu_idx, vector, 0, 0);
		}
		return;
	}

	kvm_lapic_set_irr(vector, apic);

	/*
	 * Pairs with the smp_mb_*() after setting vcpu->guest_mode in
	 * vcpu_enter_guest() to ensure the write to the vIRR is ordered before
	 * the read of guest_mode.  This guarantees that either VMRUN will see
	 * and process the new vIRR entry, or that svm_complete_interrupt_delivery
	 * will signal the doorbell if the CPU has already entered the guest.
	 */
	smp_mb__after_atomic();
	svm_complete_interrupt_delivery(vcpu, delivery_mode, trig_mode, vector);
}

/*
 * kvm_x86_call(deliver_interrupt) from __apic_accept_irq(), lapic.c v7.1:
 * svm_deliver_interrupt() or vt_deliver_interrupt() -> vmx_deliver_interrupt().
 */
void kvm_x86_deliver_interrupt(struct kvm_lapic *apic, int delivery_mode, int trig_mode, int vector)
{
	struct kvm_vcpu *vcpu = apic->vcpu;

	/* Ghost: from the IRR write to the notification, the delivery is in flight. */
	GHOST_ADD(vcpu->ghost.deliveries, 1);
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		svm_deliver_interrupt(apic, delivery_mode, trig_mode, vector);
	else
		vmx_deliver_interrupt(apic, delivery_mode, trig_mode, vector);
	GHOST_ADD(vcpu->ghost.deliveries, (u32)-1);
}

/* avic_kick_vcpu() (avic.c v7.2, as v6.17): the hardware has set IRR already. */
static void avic_kick_vcpu(struct kvm_vcpu *vcpu, u32 icrl)
{
	/* Plain store in the kernel; marked here: the target reads it on its CPU. */
	WRITE_ONCE(vcpu->arch.apic->irr_pending, true);
	svm_complete_interrupt_delivery(vcpu, (int)(icrl & APIC_MODE_MASK), (int)(icrl & APIC_INT_LEVELTRIG),
					(int)(icrl & APIC_VECTOR_MASK));
}

/*
 * avic_kick_target_vcpus_fast() (avic.c v6.17) for xAPIC physical
 * destinations: a unicast goes straight to the vCPU with that ID; the
 * broadcast and logical destinations (not sent by the model's hardware)
 * take the slow path.  With KVM_BUG_AVIC_KICK_FAST_INDEX, the v5.18 body
 * before 603ccef42ce9: the exit's index names the vCPU, which is kicked if
 * it matches the destination, so a broadcast kicks one vCPU only.
 */
static int avic_kick_target_vcpus_fast(struct kvm *kvm, struct kvm_lapic *source, u32 icrl, u32 icrh,
				       u32 index)
{
	int dest_mode = icrl & APIC_DEST_MASK;
	int shorthand = icrl & APIC_SHORT_MASK;
	u32 dest = GET_APIC_DEST_FIELD(icrh);
	struct kvm_vcpu *target_vcpu;

	if (shorthand != APIC_DEST_NOSHORT || dest_mode != APIC_DEST_PHYSICAL)
		return -EINVAL;

	if (kvm_bug(kvm, KVM_BUG_AVIC_KICK_FAST_INDEX)) {
		/* The AVIC incomplete IPI #vmexit info provides index into the physical APIC ID table. */
		target_vcpu = kvm_get_vcpu_by_id(kvm, (int)index);
		if (!target_vcpu)
			return -EINVAL;
		if (kvm_apic_match_dest(target_vcpu->arch.apic, source, (u32)shorthand, dest,
					(u32)dest_mode)) {
			avic_kick_vcpu(target_vcpu, icrl);
			return 0;
		}
		return -EINVAL;
	}

	/* broadcast destination, use slow path */
	if (dest == APIC_BROADCAST)
		return -EINVAL;
	if (WARN_ON_ONCE(dest != index))
		return -EINVAL;
	/* avic_kick_vcpu_by_physical_id() */
	target_vcpu = kvm_get_vcpu_by_id(kvm, (int)dest);
	if (unlikely(!target_vcpu))
		return 0;
	avic_kick_vcpu(target_vcpu, icrl);
	return 0;
}

/*
 * avic_kick_target_vcpus() (avic.c v6.17): the fast path, else every
 * matching vCPU is treated as avic_kick_vcpu() does.  v5.17-rc3
 * (KVM_BUG_AVIC_DELIVER_RACE) had no fast path and only woke them:
 * kvm_vcpu_wake_up().
 */
static void avic_kick_target_vcpus(struct kvm *kvm, struct kvm_lapic *source, u32 icrl, u32 icrh,
				   u32 index)
{
	u32 dest = GET_APIC_DEST_FIELD(icrh);
	struct kvm_vcpu *vcpu;
	int i;

	kvm_trace(EV_AVIC_KICK, source->vcpu->vcpu_idx, icrl, icrh, index);
	if (!kvm_bug(kvm, KVM_BUG_AVIC_DELIVER_RACE) &&
	    !avic_kick_target_vcpus_fast(kvm, source, icrl, icrh, index))
		return;

	kvm_for_each_vcpu(i, vcpu, kvm) {
		if (!kvm_apic_match_dest(vcpu->arch.apic, source, icrl & APIC_SHORT_MASK, dest,
					 icrl & APIC_DEST_MASK))
			continue;
		if (kvm_bug(kvm, KVM_BUG_AVIC_DELIVER_RACE))
			kvm_vcpu_wake_up(vcpu);
		else
			avic_kick_vcpu(vcpu, icrl);
	}
}

/* avic_incomplete_ipi_interception() (avic.c v7.2, as v6.17). */
int avic_incomplete_ipi_interception(struct kvm_vcpu *vcpu)
{
	struct kvm_exit_info *e = &vcpu->arch.exit;
	struct kvm_lapic *apic = vcpu->arch.apic;
	u32 icrh = e->icrh, icrl = e->icrl, id = e->error_code;

	switch (id) {
	case AVIC_IPI_FAILURE_INVALID_TARGET:
	case AVIC_IPI_FAILURE_INVALID_INT_TYPE:
		/*
		 * Emulate IPIs that are not handled by AVIC hardware.  The exit
		 * is a trap: ICR holds the value and RIP has been advanced.
		 */
		if (icrl & APIC_ICR_BUSY)
			kvm_apic_write_nodecode(vcpu, APIC_ICR);
		else
			kvm_apic_send_ipi(apic, icrl, icrh);
		break;
	case AVIC_IPI_FAILURE_TARGET_NOT_RUNNING:
		/*
		 * At this point, we expect that the AVIC HW has already set the
		 * appropriate IRR bits on the valid target vcpus.  So, we just
		 * need to kick the appropriate vcpu.
		 */
		avic_kick_target_vcpus(vcpu->kvm, apic, icrl, icrh, e->index);
		break;
	default:
		KVM_ASSERT(!"unknown AVIC IPI failure cause");
	}
	return 1;
}
