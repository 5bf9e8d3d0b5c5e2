// SPDX-License-Identifier: GPL-2.0
/*
 * APICv activation and the vCPU run loop (arch/x86/kvm/x86.c, v5.16/v5.17;
 * docs/kvm-protocol.md §3-§4).
 *
 * The protocol's contract, which the checker verifies rather than assumes:
 * an inhibit change that flips the VM-wide state holds apicv_update_lock for
 * write across (a) kicking every vCPU with KVM_REQ_APICV_UPDATE and waiting
 * for those in guest mode, (b) storing the new reasons and (c) on
 * deactivation zapping the APIC-access gfn; a vCPU services the request under
 * the read side before its next entry, and asserts VM/vCPU agreement at
 * entry.
 */
#include <string.h>

#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

/* kvm_apicv_activated(), x86.c v6.18 (kvm-x86 042007c262e5; the same since v5.17). */
bool kvm_apicv_activated(struct kvm *kvm)
{
	return READ_ONCE(kvm->arch.apicv_inhibit_reasons) == 0;
}

/*
 * kvm_vcpu_apicv_activated(), x86.c v6.18 (kvm-x86 042007c262e5; v6.1's): the
 * VM's reasons and the vendor's per-vCPU ones
 * (avic_vcpu_get_apicv_inhibit_reasons(): only NESTED, and the model has no
 * nested guests; VMX has no per-vCPU reasons).
 */
bool kvm_vcpu_apicv_activated(struct kvm_vcpu *vcpu)
{
	return kvm_apicv_activated(vcpu->kvm);
}

/*
 * kvm_x86_ops.required_apicv_inhibits, which __kvm_set_or_clear_apicv_inhibit()
 * tests first (x86.c v7.1): VMX_REQUIRED_APICV_INHIBITS (vmx/main.c, torvalds
 * 0036b87a95f1) and AVIC_REQUIRED_APICV_INHIBITS (svm/svm.h, linux-next
 * 2024b77552a5), v6.16 or later, without the reasons the model lacks (SEV,
 * PHYSICAL_ID_ALIASED, LOGICAL_ID_ALIASED, PHYSICAL_ID_TOO_BIG).  Until v5.19
 * these were the vendors' check_apicv_inhibit_reasons() callbacks; ABSENT has
 * been required since ef8b4b720368 (v5.16), APIC_ID_MODIFIED and
 * APIC_BASE_MODIFIED since 3743c2f02517 (v5.19).  The X2APIC reason is gone:
 * hybrid AVIC deletes the APIC-access memslot instead (2008fab34530, v6.3).
 */
bool check_apicv_inhibit_reasons(struct kvm *kvm, enum kvm_apicv_inhibit reason)
{
	unsigned long required = BIT(APICV_INHIBIT_REASON_DISABLE) | BIT(APICV_INHIBIT_REASON_ABSENT) |
				 BIT(APICV_INHIBIT_REASON_HYPERV) | BIT(APICV_INHIBIT_REASON_BLOCKIRQ) |
				 BIT(APICV_INHIBIT_REASON_APIC_ID_MODIFIED) |
				 BIT(APICV_INHIBIT_REASON_APIC_BASE_MODIFIED);

	if (kvm->cfg.vendor == KVM_VENDOR_SVM)
		required |= BIT(APICV_INHIBIT_REASON_NESTED) | BIT(APICV_INHIBIT_REASON_IRQWIN) |
			    BIT(APICV_INHIBIT_REASON_PIT_REINJ);
	return required & BIT(reason);
}

/* set_or_clear_apicv_inhibit(), x86.c v7.1 (kvm-x86 042007c262e5 read; the same since v6.1), without the tracepoint. */
static void set_or_clear_apicv_inhibit(unsigned long *inhibits, enum kvm_apicv_inhibit reason, bool set)
{
	if (set)
		*inhibits |= BIT(reason);
	else
		*inhibits &= ~BIT(reason);
}

/*
 * __kvm_set_or_clear_apicv_inhibit(), x86.c v7.1 (kvm-x86 042007c262e5 read,
 * v6.18 cycle; __kvm_request_apicv_update() in v5.17), with IRQWIN folded
 * from the count of open IRQ windows as 5617dddcfa30 does (not before
 * 6563ddadd169: KVM_BUG_IRQWIN_NO_REFCOUNT), and the zap inside an SRCU
 * read-side section.  Caller holds apicv_update_lock for write.  (The kernel
 * reads and stores the reasons plainly under the lock; the stores are marked
 * here as vCPUs read them locklessly.)
 */
void __kvm_set_or_clear_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason, bool set)
{
	unsigned long old, new;

	lockdep_assert_held_write(&kvm->arch.apicv_update_lock);

	if (!check_apicv_inhibit_reasons(kvm, reason))
		return;

	old = new = kvm->arch.apicv_inhibit_reasons;
	if (kvm_bug(kvm, KVM_BUG_IRQWIN_NO_REFCOUNT)) {
		set_or_clear_apicv_inhibit(&new, reason, set);
	} else {
		if (reason != APICV_INHIBIT_REASON_IRQWIN)
			set_or_clear_apicv_inhibit(&new, reason, set);
		set_or_clear_apicv_inhibit(&new, APICV_INHIBIT_REASON_IRQWIN,
					   atomic_read(&kvm->arch.apicv_nr_irq_window_req));
	}

	if (!!old != !!new) {
		kvm_trace(EV_INHIBIT_CHANGED, reason, set, old, new);
		/*
		 * Kick all vCPUs before setting apicv_inhibit_reasons to avoid
		 * false positives in the sanity check WARN in vcpu_enter_guest().
		 * This task will wait for all vCPUs to ack the kick IRQ before
		 * updating apicv_inhibit_reasons, and all other vCPUs will
		 * block on acquiring apicv_update_lock so that vCPUs can't
		 * redo the entry without seeing the new inhibit state.
		 */
		kvm_make_all_cpus_request(kvm, KVM_REQ_APICV_UPDATE);
		WRITE_ONCE(kvm->arch.apicv_inhibit_reasons, new);
		if (new) {
			unsigned long gfn = gpa_to_gfn(APIC_DEFAULT_PHYS_BASE);

			srcu_read_lock_kvm(kvm);	/* idx = srcu_read_lock(&kvm->srcu) */
			kvm_zap_gfn_range(kvm, gfn, gfn + 1);
			srcu_read_unlock_kvm(kvm);
		}
	} else {
		WRITE_ONCE(kvm->arch.apicv_inhibit_reasons, new);
	}
}

/*
 * kvm_request_apicv_update(), x86.c v5.14 (before b0a1637f64b0), with the
 * v5.15-rc zap of 36222b117e36 in place of the memslot toggle: the reasons
 * are updated with a lockless cmpxchg, the APIC gfn is zapped, and only then
 * are the vCPUs asked to update; no apicv_update_lock anywhere.
 */
static void kvm_request_apicv_update_v514(struct kvm *kvm, enum kvm_apicv_inhibit reason, bool set)
{
	unsigned long old, new, expected;

	if (!check_apicv_inhibit_reasons(kvm, reason))
		return;

	old = READ_ONCE(kvm->arch.apicv_inhibit_reasons);
	do {
		expected = new = old;
		if (set)
			new |= BIT(reason);
		else
			new &= ~BIT(reason);
		if (new == old)
			break;
		old = cmpxchg(&kvm->arch.apicv_inhibit_reasons, expected, new);
	} while (old != expected);

	if (!!old == !!new)
		return;

	kvm_trace(EV_INHIBIT_CHANGED, reason, set, old, new);
	/* svm_pre_update_apicv_exec_ctrl(), as of 36222b117e36: zap instead of a memslot toggle. */
	if (new) {
		unsigned long gfn = gpa_to_gfn(APIC_DEFAULT_PHYS_BASE);

		kvm_zap_gfn_range(kvm, gfn, gfn + 1);
	}
	kvm_make_all_cpus_request(kvm, KVM_REQ_APICV_UPDATE);
}

/*
 * kvm_set_or_clear_apicv_inhibit(), x86.c v7.1 (as in kvm-x86 042007c262e5;
 * kvm_request_apicv_update() in v5.17): the wrapper taking the write side.
 */
void kvm_set_or_clear_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason, bool set)
{
	if (!kvm->cfg.enable_apicv)
		return;
	if (kvm_bug(kvm, KVM_BUG_UPDATE_BEFORE_KICK)) {
		kvm_request_apicv_update_v514(kvm, reason, set);
		return;
	}
	down_write(&kvm->arch.apicv_update_lock);
	__kvm_set_or_clear_apicv_inhibit(kvm, reason, set);
	up_write(&kvm->arch.apicv_update_lock);
}

/*
 * kvm_x86_ops.set_virtual_apic_mode: avic_refresh_virtual_apic_mode() (SVM,
 * avic.c v7.0) or vmx_set_virtual_apic_mode() (vmx.c v7.0, non-nested as v6.1; for
 * the modes the model has: "virtualize APIC accesses" only in xAPIC mode, and
 * on the way back "Flush the TLB, ... the guest may have inserted a non-APIC
 * mapping into the TLB while the APIC was disabled."  Its
 * KVM_REQ_APIC_PAGE_RELOAD is left out: the APIC-access page never moves in
 * the model, so its handler would change nothing.
 */
void kvm_x86_set_virtual_apic_mode(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM) {
		if (vcpu->kvm->cfg.enable_apicv)
			avic_refresh_virtual_apic_mode(vcpu);
		return;
	}
	/* LAPIC_MODE_X2APIC: SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE (no x2APIC MSRs in the model). */
	vcpu->arch.ctrl.virtualize_apic_accesses = false;
	if (kvm_get_apic_mode(vcpu) == LAPIC_MODE_XAPIC) {
		vcpu->arch.ctrl.virtualize_apic_accesses = true;
		kvm_make_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
	}
}

/*
 * kvm_apic_set_base(), lapic.c v7.1 (x86.c's kvm_set_apic_base() in v6.1),
 * for the values the model's guests write (a page-aligned base below 4 GiB,
 * so never reserved bits; never host-initiated), then
 * kvm_recalculate_apic_map()'s APICv part (the map itself is recomputed per
 * IPI): 1 for a transition the architecture forbids (x2APIC -> xAPIC,
 * disabled -> x2APIC), which makes the WRMSR #GP.  An unchanged value
 * returns at once (v7.1; v6.1 stored it again).
 */
static int kvm_apic_set_base(struct kvm_vcpu *vcpu, u64 data)
{
	enum lapic_mode old_mode = kvm_get_apic_mode(vcpu);
	enum lapic_mode new_mode = (enum lapic_mode)(data & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE));

	if (kvm_lapic_get_base(vcpu) == data)
		return 0;
	if (new_mode == LAPIC_MODE_INVALID)
		return 1;
	if (old_mode == LAPIC_MODE_X2APIC && new_mode == LAPIC_MODE_XAPIC)
		return 1;
	if (old_mode == LAPIC_MODE_DISABLED && new_mode == LAPIC_MODE_X2APIC)
		return 1;
	__kvm_apic_set_base(vcpu, data);
	kvm_recalculate_apic_map_inhibits(vcpu->kvm);	/* kvm_recalculate_apic_map() */
	return 0;
}

/*
 * WRMSR(IA32_APIC_BASE) exits (svm: msr_interception; vmx: handle_wrmsr) ->
 * kvm_emulate_wrmsr() -> kvm_set_msr_common() -> kvm_apic_set_base(), then
 * the instruction is skipped.  The guest's rdmsr/and/or/wrmsr is one op
 * here: 'mode' is LAPIC_MODE_DISABLED, _XAPIC or _X2APIC, 'base' the page
 * the APIC is to be at (EDX:EAX, which the model's op holds).  The model's
 * guests have no #GP handler: a forbidden transition is the scenario's error.
 */
int kvm_emulate_wrmsr_apic_base(struct kvm_vcpu *vcpu, u32 mode)
{
	const struct guest_op *op = &vcpu->program->ops[vcpu->arch.rip];
	u64 data = kvm_lapic_get_base(vcpu) &
		   ~(u64)(MSR_IA32_APICBASE_BASE | MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);

	data |= (op->gpa & MSR_IA32_APICBASE_BASE) | (mode & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE));
	if (kvm_apic_set_base(vcpu, data))
		KVM_REPORT(F_ASSERT, "vcpu %d: the scenario's apic-base makes WRMSR(IA32_APIC_BASE, 0x%llx) #GP "
			   "(x2APIC -> xAPIC and disabled -> x2APIC are not allowed)",
			   vcpu->vcpu_idx, (unsigned long long)data);
	else
		ghost_apic_set_base(vcpu, data);
	vcpu->arch.rip++;	/* kvm_skip_emulated_instruction() */
	return 1;
}

/*
 * kvm_x86_ops.refresh_apicv_exec_ctrl: avic_refresh_apicv_exec_ctrl() (SVM,
 * model/avic.c, v7.2, as v6.17) / vmx_refresh_apicv_exec_ctrl() (v5.15): APIC-register
 * virtualization and virtual-interrupt delivery on VMX ("virtualize APIC
 * accesses" is never touched; the posted-interrupt pin control is not modelled).
 */
void kvm_hw_refresh_apicv_exec_ctrl(struct kvm_vcpu *vcpu)
{
	struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;
	bool active = kvm_vcpu_apicv_active(vcpu);

	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM) {
		avic_refresh_apicv_exec_ctrl(vcpu);
	} else {
		c->apic_register_virt = active;
		c->virtual_intr_delivery = active;
	}
}

/*
 * __kvm_vcpu_update_apicv(), x86.c v6.18 (kvm-x86 042007c262e5; the same
 * since v6.3), step for step; the older behaviours are switches: no
 * apicv_update_lock before b0a1637f64b0 (update-before-kick), no
 * preempt_disable() before 66c768d30e64 (v5.19, update-apicv-preempt: a
 * preemption between the apicv_active store and the refresh would run
 * svm_vcpu_put()/svm_vcpu_load() with the new flag and the old AVIC state),
 * no KVM_REQ_EVENT on deactivation before bca66dbcd28a
 * (deactivate-no-event).  (kvm_vcpu_update_apicv() until 2008fab34530, v6.3.)
 */
void __kvm_vcpu_update_apicv(struct kvm_vcpu *vcpu)
{
	bool lock = !kvm_bug(vcpu->kvm, KVM_BUG_UPDATE_BEFORE_KICK);
	bool nopreempt = !kvm_bug(vcpu->kvm, KVM_BUG_UPDATE_APICV_PREEMPT);
	bool activate;

	if (!vcpu->arch.apic)
		return;

	if (lock)
		down_read(&vcpu->kvm->arch.apicv_update_lock);
	if (nopreempt)
		preempt_disable();

	/* Do not activate APICV when APIC is disabled (v6.0, the x2AVIC series) */
	activate = kvm_vcpu_apicv_activated(vcpu) && kvm_get_apic_mode(vcpu) != LAPIC_MODE_DISABLED;
	if (vcpu->arch.apicv_active == activate)
		goto out;

	kvm_trace(EV_APICV_UPDATE, vcpu->vcpu_idx, vcpu->arch.apicv_active, activate, 0);
	/*
	 * A plain store in the kernel; marked here because interrupt senders
	 * read it locklessly (svm_complete_interrupt_delivery()'s READ_ONCE).
	 */
	WRITE_ONCE(vcpu->arch.apicv_active, activate);
	kvm_preempt_point(vcpu);	/* none with 66c768d30e64 */
	kvm_apic_update_apicv(vcpu);
	kvm_hw_refresh_apicv_exec_ctrl(vcpu);

	/*
	 * When APICv gets disabled, we may still have injected interrupts
	 * pending.  At the same time, KVM_REQ_EVENT may not be set as APICv was
	 * still active when the interrupt got accepted.  Make sure
	 * inject_pending_event() is called to check for that.
	 */
	if (!vcpu->arch.apicv_active && !kvm_bug(vcpu->kvm, KVM_BUG_DEACTIVATE_NO_EVENT))
		kvm_make_request(KVM_REQ_EVENT, vcpu);
out:
	if (nopreempt)
		preempt_enable();
	if (lock)
		up_read(&vcpu->kvm->arch.apicv_update_lock);
}

/*
 * kvm_vcpu_update_apicv(), x86.c v7.1 (2008fab34530, v6.3): "Due to sharing
 * page tables across vCPUs, the xAPIC memslot must be deleted if any vCPU
 * has xAPIC virtualization and x2APIC enabled, but hardware doesn't support
 * x2APIC virtualization.  E.g. some AMD CPUs support AVIC but not x2APIC.
 * KVM still allows enabling AVIC in this case so that KVM can use the AVIC
 * doorbell to inject interrupts to running vCPUs, but KVM must not create
 * SPTEs for the APIC base as the vCPU would incorrectly be able to access
 * the vAPIC page via MMIO despite being in x2APIC mode.  For simplicity,
 * inhibiting the APIC access page is sticky."
 */
void kvm_vcpu_update_apicv(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (!vcpu->arch.apic)
		return;

	if (kvm_get_apic_mode(vcpu) == LAPIC_MODE_X2APIC &&
	    kvm_allow_apicv_in_x2apic_without_x2apic_virtualization(&kvm->cfg) &&
	    !kvm_bug(kvm, KVM_BUG_X2APIC_MEMSLOT))
		kvm_inhibit_apic_access_page(vcpu);

	__kvm_vcpu_update_apicv(vcpu);
}

/*
 * kvm_vcpu_flush_tlb_all(), x86.c v6.18 (kvm-x86 042007c262e5; without the
 * stat): the clear of KVM_REQ_TLB_FLUSH_CURRENT moved here from
 * vcpu_enter_guest() in v6.3.
 */
static void kvm_vcpu_flush_tlb_all(struct kvm_vcpu *vcpu)
{
	kvm_x86_flush_tlb_all(vcpu);

	/* Flushing all ASIDs flushes the current ASID... */
	kvm_clear_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu);
}

/* kvm_service_local_tlb_flush_requests(), x86.c v6.18 (kvm-x86 042007c262e5), without KVM_REQ_TLB_FLUSH_GUEST (no guest TLB flushes). */
static void kvm_service_local_tlb_flush_requests(struct kvm_vcpu *vcpu)
{
	if (kvm_check_request(KVM_REQ_TLB_FLUSH_CURRENT, vcpu))
		kvm_x86_flush_tlb_current(vcpu);	/* kvm_vcpu_flush_tlb_current() */
}

/*
 * svm_flush_tlb_all/_current -> svm_flush_tlb_asid() (svm.c v7.2, as v6.1,
 * with FLUSHBYASID): tlb_ctl = TLB_CONTROL_FLUSH_ASID, acted on by the next
 * VMRUN; vmx_flush_tlb_all/_current (vmx.c, EPT, as v6.1): INVEPT now.  One TLB
 * context per vCPU, so all = current.  Model: SVM's flush happens here too.
 * No guest instruction runs between this and the next VMRUN (a cancelled
 * entry only loops back to the requests), so no access can tell the two
 * apart, and a VMCB field that lives from here to the VMRUN would only
 * multiply states.
 */
void kvm_x86_flush_tlb_all(struct kvm_vcpu *vcpu)
{
	kvm_hw_tlb_flush(vcpu);	/* TLB_CONTROL_FLUSH_ASID at VMRUN / ept_sync_global() */
}

void kvm_x86_flush_tlb_current(struct kvm_vcpu *vcpu)
{
	kvm_x86_flush_tlb_all(vcpu);
}

/*
 * kvm_check_and_inject_events(), x86.c v7.1 (inject_pending_event() until
 * v6.0), the interrupt part (no exceptions, NMIs, SMIs or nested guests): if
 * the guest can take an interrupt now, the PIC's or the LAPIC's highest is
 * acknowledged and injected (the guest takes it at once here: the model's
 * guests have no handler to run); if one is still injectable, an IRQ window
 * is opened.  Not inlined: its locals must die with its frame, or the
 * checker, which keeps the live frames of the fibers' stacks in each state,
 * would tell states apart by them.
 */
static __attribute__((noinline)) void inject_pending_event(struct kvm_vcpu *vcpu)
{
	if (kvm_cpu_has_injectable_intr(vcpu)) {
		if (kvm_x86_interrupt_allowed(vcpu)) {
			int irq = kvm_cpu_get_interrupt(vcpu);

			if (irq != -1) {
				/* kvm_queue_interrupt(vcpu, irq, false) */
				kvm_x86_inject_irq(vcpu);
				kvm_hw_guest_takes(vcpu, irq, INTR_INJECTED);
			}
		}
		if (kvm_cpu_has_injectable_intr(vcpu))
			kvm_x86_enable_irq_window(vcpu);
	}
}

/* kvm_set_cr8() (regs.c v7.2, x86.c's until then; as v6.1), with the in-kernel LAPIC. */
int kvm_set_cr8(struct kvm_vcpu *vcpu, unsigned long cr8)
{
	if (cr8 & ~0xfUL)	/* CR8_RESERVED_BITS */
		return 1;
	kvm_lapic_set_tpr(vcpu, cr8);
	return 0;
}

/* kvm_get_cr8() (regs.c v7.2, x86.c's until then; as v6.1), with the in-kernel LAPIC. */
unsigned long kvm_get_cr8(struct kvm_vcpu *vcpu)
{
	return (unsigned long)kvm_lapic_get_cr8(vcpu);
}

/*
 * svm_update_cr8_intercept() (svm.c v7.2, as v6.1; no SEV-ES, no nested): intercept
 * CR8 writes only while an interrupt waits behind the TPR, so that lowering
 * it exits and KVM injects.
 */
static void svm_update_cr8_intercept(struct kvm_vcpu *vcpu, int tpr, int irr)
{
	bool on = irr != -1 && tpr >= irr;

	if (vcpu->arch.ctrl.cr8_write_intercept != on)
		kvm_trace(EV_CR8_INTERCEPT, vcpu->vcpu_idx, on, CR8_BY_UPDATE, (u64)tpr | (u64)(irr + 1) << 8);
	vcpu->arch.ctrl.cr8_write_intercept = on;
}

/* vmx_update_cr8_intercept() (vmx.c v7.2 with 7ef78d71ca71, non-nested as v6.1): the TPR threshold. */
static void vmx_update_cr8_intercept(struct kvm_vcpu *vcpu, int tpr, int irr)
{
	vcpu->arch.ctrl.tpr_threshold = (u8)((irr == -1 || tpr < irr) ? 0 : irr);
}

/*
 * kvm_lapic_update_cr8_intercept() (lapic.c v7.2; x86.c's
 * update_cr8_intercept() until c7722e5e1dae, same body as v6.1; no vAPIC
 * address, which only userspace's KVM_SET_VAPIC_ADDR sets): nothing while
 * APICv is active, the CPU then delivers by itself.  Called before entry after
 * KVM_REQ_EVENT and, since bb365a506b1e, by apic_update_ppr().  Not inlined,
 * like inject_pending_event().
 */
__attribute__((noinline)) void kvm_lapic_update_cr8_intercept(struct kvm_vcpu *vcpu)
{
	int max_irr, tpr;

	if (kvm_vcpu_apicv_active(vcpu))	/* vcpu->arch.apic->apicv_active before v6.1 */
		return;
	max_irr = kvm_lapic_find_highest_irr(vcpu);
	if (max_irr != -1)
		max_irr >>= 4;
	tpr = (int)kvm_lapic_get_cr8(vcpu);
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		svm_update_cr8_intercept(vcpu, tpr, max_irr);
	else
		vmx_update_cr8_intercept(vcpu, tpr, max_irr);
}

/* kvm_vcpu_exit_request(), x86.c v6.18 (kvm-x86 042007c262e5; no task work: xfer_to_guest_mode_work_pending()). */
static bool kvm_vcpu_exit_request(struct kvm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->mode) == EXITING_GUEST_MODE || kvm_request_pending(vcpu);
}

/*
 * vcpu_enter_guest(), x86.c v6.18 (kvm-x86 042007c262e5), in its order;
 * requests the model does not raise are omitted, and so are INIT/SIPI
 * (kvm_apic_accept_events()), the immediate-exit flag, debug registers and
 * the FPU.  No exit takes the fastpath (EXIT_FASTPATH_REENTER_GUEST comes from
 * x2APIC ICR and TSC-deadline MSR writes, which the guests do not make), so
 * the kernel's inner re-entry loop runs once: the APICv consistency check,
 * then the vendor's run.
 */
int vcpu_enter_guest(struct kvm_vcpu *vcpu)
{
	int r;

	if (kvm_request_pending(vcpu)) {
		/*
		 * Note, the order matters here, as flushing "all" TLB entries
		 * also flushes the "current" TLB entries, i.e. servicing the
		 * flush "all" will clear any request to flush "current".
		 */
		if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
			kvm_vcpu_flush_tlb_all(vcpu);

		kvm_service_local_tlb_flush_requests(vcpu);
		if (kvm_check_request(KVM_REQ_APICV_UPDATE, vcpu))
			kvm_vcpu_update_apicv(vcpu);
	}

	if (kvm_check_request(KVM_REQ_EVENT, vcpu)) {
		inject_pending_event(vcpu);
		/* kvm_lapic_sync_to_vapic() is left out: no vAPIC address (KVM_SET_VAPIC_ADDR). */
		if (kvm_lapic_enabled(vcpu))
			kvm_lapic_update_cr8_intercept(vcpu);
	}

	/* preempt_disable(); prepare_guest_switch() */
	local_irq_disable();

	/* Store vcpu->apicv_active before vcpu->mode. */
	smp_store_release(&vcpu->mode, IN_GUEST_MODE);
	kvm_trace(EV_MODE, vcpu->vcpu_idx, IN_GUEST_MODE, 0, 0);

	kvm_vcpu_srcu_read_unlock(vcpu);

	/*
	 * 1) We should set ->mode before checking ->requests.  Please see
	 * the comment in kvm_vcpu_exiting_guest_mode().
	 *
	 * 2) For APICv, we should set ->mode before checking PID.ON.
	 *
	 * The kernel's full barrier is the smp_mb() inside the
	 * kvm_vcpu_srcu_read_unlock() just before (__srcu_read_unlock()), which
	 * is why smp_mb__after_srcu_read_unlock() is empty.  A store followed
	 * by a load: x86 needs it too (KVM_BUG_ENTER_GUEST_NO_MB, x86-TSO).
	 */
	if (!kvm_bug(vcpu->kvm, KVM_BUG_ENTER_GUEST_NO_MB))
		smp_mb();	/* smp_mb__after_srcu_read_unlock() */

	/*
	 * Process pending posted interrupts to handle the case where the
	 * notification IRQ arrived in the host, or was never sent (because the
	 * target vCPU wasn't running).  Do this regardless of the vCPU's APICv
	 * status (37c4dbf337c5).  (x86.c v6.16+)
	 */
	if (kvm_lapic_enabled(vcpu) && kvm_x86_has_sync_pir_to_irr(vcpu))
		vmx_sync_pir_to_irr(vcpu);

	if (kvm_vcpu_exit_request(vcpu)) {
		WRITE_ONCE(vcpu->mode, OUTSIDE_GUEST_MODE);
		kvm_trace(EV_MODE, vcpu->vcpu_idx, OUTSIDE_GUEST_MODE, 0, 0);
		smp_wmb();
		local_irq_enable();
		kvm_vcpu_srcu_read_lock(vcpu);
		return 1;	/* cancel_injection */
	}

	/*
	 * Assert that vCPU vs. VM APICv state is consistent.  An APICv
	 * update must kick and wait for all vCPUs before toggling the
	 * per-VM state, and responding vCPUs must wait for the update
	 * to complete before servicing KVM_REQ_APICV_UPDATE.
	 */
	if (kvm_vcpu_apicv_activated(vcpu) != kvm_vcpu_apicv_active(vcpu) &&
	    kvm_get_apic_mode(vcpu) != LAPIC_MODE_DISABLED)
		KVM_REPORT(F_APICV_MISMATCH,
			   "vcpu %d enters with apicv_active=%d but the VM's inhibits say %s",
			   vcpu->vcpu_idx, kvm_vcpu_apicv_active(vcpu),
			   kvm_apicv_activated(vcpu->kvm) ? "active" : "inhibited");

	ghost_check_delivery(vcpu);

	kvm_trace(EV_ENTRY, vcpu->vcpu_idx, vcpu->arch.rip, 0, 0);
	kvm_hw_run(vcpu);	/* static_call(kvm_x86_run)(vcpu) */
	kvm_trace(EV_EXIT, vcpu->vcpu_idx, vcpu->arch.exit.reason, vcpu->arch.exit.gpa,
		  vcpu->arch.exit.error_code);

	WRITE_ONCE(vcpu->mode, OUTSIDE_GUEST_MODE);
	kvm_trace(EV_MODE, vcpu->vcpu_idx, OUTSIDE_GUEST_MODE, 0, 0);
	smp_wmb();

	/*
	 * Consume any pending interrupts, including the possible source of
	 * VM-Exit: a kick IPI is acknowledged here.
	 */
	local_irq_enable();

	kvm_vcpu_srcu_read_lock(vcpu);

	r = kvm_hw_handle_exit(vcpu);	/* static_call(kvm_x86_handle_exit) */
	/* Model: the exit information is dead once handled; keep equal states equal. */
	memset(&vcpu->arch.exit, 0, sizeof(vcpu->arch.exit));
	return r;
}

/*
 * kvm_arch_vcpu_load() (x86.c v7.2, as v6.17): the vendor's load first (svm_vcpu_load():
 * the AVIC part; vmx_vcpu_load(): the TLB flush of vmx_vcpu_load_vmcs() on a
 * new pCPU), then vcpu->cpu = cpu when the CPU changed (the TSC, clock and
 * timer requests it raises there are not modelled).
 */
void kvm_arch_vcpu_load(struct kvm_vcpu *vcpu, int cpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM && kvm_vcpu_apicv_active(vcpu))
		avic_vcpu_load(vcpu, cpu);
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX && vcpu->arch.ctrl.loaded_cpu != cpu) {
		/*
		 * vmx_vcpu_load_vmcs() (vmx.c v6.1): "Flush all EPTP/VPID
		 * contexts, the new pCPU may have stale TLB entries from its
		 * previous association with the vCPU."
		 */
		kvm_make_request(KVM_REQ_TLB_FLUSH, vcpu);
		vcpu->arch.ctrl.loaded_cpu = (s8)cpu;
	}
	if (unlikely(vcpu->cpu != cpu))
		WRITE_ONCE(vcpu->cpu, cpu);
}

/* kvm_arch_vcpu_put() (x86.c v7.2, as v6.17) -> svm_vcpu_put(): the AVIC part. */
void kvm_arch_vcpu_put(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM && kvm_vcpu_apicv_active(vcpu))
		avic_vcpu_put(vcpu);
}

/*
 * KVM_RUN: vcpu_load(), vcpu_run() (x86.c v6.18, kvm-x86 042007c262e5) until
 * the guest program is done (the "userspace exit"), vcpu_put().  A halted
 * vCPU blocks from its HLT exit (model/hw.c, vcpu_block()'s part) instead of
 * from this loop through mp_state; no timers, Xen events or userspace IRQ
 * windows.
 */
int vcpu_run(struct kvm_vcpu *vcpu)
{
	int r;

	kvm_arch_vcpu_load(vcpu, rt_cpu());	/* vcpu_load(): cpu = get_cpu() */
	kvm_vcpu_srcu_read_lock(vcpu);		/* kvm_arch_vcpu_ioctl_run() */
	for (;;) {
		kvm_stack_hygiene();
		kvm_preempt_point(vcpu);	/* vcpu_run(): preemptible between entries */
		r = vcpu_enter_guest(vcpu);
		if (r <= 0)
			break;

		kvm_clear_request(KVM_REQ_UNBLOCK, vcpu);
	}
	kvm_vcpu_srcu_read_unlock(vcpu);
	kvm_arch_vcpu_put(vcpu);	/* vcpu_put() */
	return r;
}
