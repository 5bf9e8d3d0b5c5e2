// SPDX-License-Identifier: GPL-2.0
/*
 * VMX posted interrupts: a sender sets the vector in the target's
 * posted-interrupt descriptor (PIR) and ON, then sends the notification
 * vector to the target's pCPU if it is in guest mode, or wakes it; the CPU,
 * in guest mode with the posted-interrupt pin control on, moves PIR to the
 * virtual IRR itself; otherwise KVM does, in vmx_sync_pir_to_irr(), before
 * every VM entry (APICv active or not, since 37c4dbf337c5) and when it asks
 * whether the vCPU has an interrupt (apic_has_interrupt_for_ppr()).
 *
 * Sources (read through the search tools, see docs/bugs.md):
 * vmx_deliver_interrupt(), vmx_deliver_posted_interrupt(), vmx_sync_pir_to_irr()
 * from kvm-x86 vmx.c at 09c6f74ecb86 (newer than v7.0);
 * kvm_vcpu_trigger_posted_interrupt() and __vt_deliver_posted_interrupt()
 * from vmx/common.h at the same commit; kvm_apic_update_irr() from lapic.c at
 * 000d75b0b186 (v7.0 merge window).  Left out: nested posted interrupts,
 * assigned devices (IRTE posting, SN/NV/NDST, the wakeup vector and
 * pi_wakeup_handler()), IPI virtualization, and the SVI/RVI registers (the
 * VM entry's evaluation of the whole IRR stands in for RVI; EOIs always exit).
 */
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

/* pi_test_and_set_pir(), asm/posted_intr.h v7.1 (pir is unsigned long[4] there, u32[8] here: the same bits). */
static bool pi_test_and_set_pir(int vector, struct pi_desc *pi_desc)
{
	return test_and_set_bit(vector, (unsigned long *)pi_desc->pir);
}

/* pi_test_and_set_on(), asm/posted_intr.h v7.1. */
static bool pi_test_and_set_on(struct pi_desc *pi_desc)
{
	return test_and_set_bit(POSTED_INTR_ON, (unsigned long *)&pi_desc->control);
}

/* pi_test_on(), asm/posted_intr.h v7.1. */
static bool pi_test_on(struct pi_desc *pi_desc)
{
	return test_bit(POSTED_INTR_ON, (unsigned long *)&pi_desc->control);
}

/* pi_clear_on(), asm/posted_intr.h v7.1. */
static void pi_clear_on(struct pi_desc *pi_desc)
{
	clear_bit(POSTED_INTR_ON, (unsigned long *)&pi_desc->control);
}

/* kvm_vcpu_trigger_posted_interrupt(), vmx/common.h v7.1 (the same in kvm-x86 09c6f74ecb86): always POSTED_INTR_VECTOR (no nested guests). */
static void kvm_vcpu_trigger_posted_interrupt(struct kvm_vcpu *vcpu)
{
	if (READ_ONCE(vcpu->mode) == IN_GUEST_MODE) {
		/* The sender is never the running vCPU here: no fastpath exits. */
		int cpu = READ_ONCE(vcpu->cpu);

		smp_send_guest_notification(cpu);	/* __apic_send_IPI_mask(POSTED_INTR_VECTOR) */
		kvm_trace(EV_DOORBELL, vcpu->vcpu_idx, cpu, 1, 0);
		return;
	}
	/*
	 * The vCPU isn't in the guest; wake the vCPU in case it is blocking,
	 * otherwise do nothing as KVM will grab the highest priority pending
	 * IRQ via ->sync_pir_to_irr() in vcpu_enter_guest().
	 */
	kvm_vcpu_wake_up(vcpu);
}

/* __vt_deliver_posted_interrupt(), vmx/common.h v7.1, where it is named __vmx_deliver_posted_interrupt() (renamed, same body, by kvm-x86 09c6f74ecb86). */
static void __vt_deliver_posted_interrupt(struct kvm_vcpu *vcpu, struct pi_desc *pi_desc, int vector)
{
	if (pi_test_and_set_pir(vector, pi_desc))
		return;

	/* If a previous notification has sent the IPI, nothing to do.  */
	if (pi_test_and_set_on(pi_desc))
		return;

	/*
	 * The implied barrier in pi_test_and_set_on() pairs with the smp_mb_*()
	 * after setting vcpu->mode in vcpu_enter_guest(), thus the vCPU is
	 * guaranteed to see PID.ON=1 and sync the PIR to IRR if triggering a
	 * posted interrupt "fails" because vcpu->mode != IN_GUEST_MODE.
	 */
	kvm_vcpu_trigger_posted_interrupt(vcpu);
}

/* vmx_deliver_posted_interrupt(), vmx.c v7.1 (the same in kvm-x86 09c6f74ecb86), without the nested part. */
static int vmx_deliver_posted_interrupt(struct kvm_vcpu *vcpu, int vector)
{
	/* Note, this is called iff the local APIC is in-kernel. */
	if (!READ_ONCE(vcpu->arch.apicv_active))
		return -1;

	__vt_deliver_posted_interrupt(vcpu, &vcpu->pi_desc, vector);
	return 0;
}

/* vmx_deliver_interrupt(), vmx.c v7.1 (the same in kvm-x86 09c6f74ecb86). */
void vmx_deliver_interrupt(struct kvm_lapic *apic, int delivery_mode, int trig_mode, int vector)
{
	struct kvm_vcpu *vcpu = apic->vcpu;

	if (vmx_deliver_posted_interrupt(vcpu, vector)) {
		kvm_lapic_set_irr(vector, apic);
		kvm_make_request(KVM_REQ_EVENT, vcpu);
		kvm_vcpu_kick(vcpu);
	} else {
		kvm_trace(EV_APICV_ACCEPT_IRQ, vcpu->vcpu_idx, vector, delivery_mode, trig_mode);
	}
}

/*
 * kvm_x86_ops.sync_pir_to_irr is set on VMX with enable_apicv; before
 * 37c4dbf337c5 its callers also required the vCPU's APICv to be active.
 */
bool kvm_x86_has_sync_pir_to_irr(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (kvm->cfg.vendor != KVM_VENDOR_VMX || !kvm->cfg.enable_apicv)
		return false;
	return !kvm_bug(kvm, KVM_BUG_PIR_SYNC_INHIBITED) || vcpu->arch.apicv_active;
}

/*
 * vmx_sync_pir_to_irr(), vmx.c v7.1 (the same in kvm-x86 09c6f74ecb86): harvest PIR into IRR;
 * with APICv active the VM entry delivers (RVI), otherwise an interrupt that
 * came from PIR needs KVM_REQ_EVENT (7e1901f6c86c; before it, RVI was set
 * whether or not virtual-interrupt delivery was on, and no request raised).
 */
int vmx_sync_pir_to_irr(struct kvm_vcpu *vcpu)
{
	struct pi_desc *pi_desc = &vcpu->pi_desc;
	bool max_irr_is_from_pir;
	int max_irr;

	if (pi_test_on(pi_desc)) {
		pi_clear_on(pi_desc);
		/* IOMMU can write to PID.ON, so the barrier matters even on UP. */
		smp_mb__after_atomic();
		max_irr_is_from_pir = kvm_apic_update_irr(vcpu, pi_desc->pir, &max_irr);
	} else {
		max_irr = kvm_lapic_find_highest_irr(vcpu);
		max_irr_is_from_pir = false;
	}

	if (kvm_vcpu_apicv_active(vcpu) || kvm_bug(vcpu->kvm, KVM_BUG_PIR_NO_EVENT))
		; /* vmx_set_rvi(max_irr): the VM entry evaluates IRR */
	else if (max_irr_is_from_pir)
		kvm_make_request(KVM_REQ_EVENT, vcpu);

	return max_irr;
}

/* vmx_hwapic_isr_update(), vmx.c v7.1 (the same in kvm-x86 09c6f74ecb86), without the nested part. */
static void vmx_hwapic_isr_update(struct kvm_vcpu *vcpu, int max_isr)
{
	if (max_isr == -1)
		max_isr = 0;
	vcpu->arch.ctrl.svi = (u8)max_isr;
}

/* kvm_x86_call(hwapic_isr_update), lapic.c v7.1: VMX only (SVM has no such hook). */
void kvm_x86_hwapic_isr_update(struct kvm_vcpu *vcpu, int max_isr)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX)
		vmx_hwapic_isr_update(vcpu, max_isr);
}

/*
 * What the CPU does on the posted-interrupt notification vector in guest
 * mode with the "process posted interrupts" pin control on (SDM vol. 3
 * 30.6): clear ON, OR the PIR into the virtual IRR (each PIR word read and
 * cleared atomically), then evaluate pending virtual interrupts.
 */
void kvm_hw_process_posted_interrupts(struct kvm_vcpu *vcpu)
{
	struct pi_desc *pi_desc = &vcpu->pi_desc;
	struct kvm_lapic *apic = vcpu->arch.apic;

	clear_bit(POSTED_INTR_ON, (unsigned long *)&pi_desc->control);
	for (int i = 0; i < 8; i++) {
		u32 pir = hw_load(pi_desc->pir[i]);

		if (pir)
			__rt_access(RT_OR, apic->regs + APIC_IRR + i * 0x10, sizeof(u32),
				    __rt_access(RT_XCHG, &pi_desc->pir[i], sizeof(u32), 0, 0), 0);
	}
}
