// SPDX-License-Identifier: GPL-2.0
/*
 * Simulated hardware: executes the guest program against the SPTEs and the
 * vCPU's virtualization controls, and the vendor exit handlers
 * (docs/kvm-protocol.md §6.2-§6.3, §9.4).
 *
 * One guest op is one instruction.  Before each, a pending function-call IPI
 * causes an external-interrupt exit (that is how a kick takes a vCPU out of
 * the guest).  An access whose gfn has no present SPTE exits with #NPF; one
 * that hits an MMIO SPTE exits as an MMIO/misconfig fault.  Through a present
 * APIC-access SPTE:
 *   SVM, AVIC on:  served from the vCPU's backing page (apic->regs); TPR is
 *                  accelerated, the registers of avic.c's
 *                  is_avic_unaccelerated_access_trap() are written then trap,
 *                  everything else faults to emulation;
 *   SVM, AVIC off: the NPT translation is used as is: the access reaches the
 *                  dummy page behind the private memslot, with no exit
 *                  (finding 'bad-spte'; the write is lost);
 *   VMX:           "virtualize APIC accesses" stays on: with APIC-register
 *                  virtualization reads come from the virtual-APIC page and
 *                  writes are virtualized (TPR) or trap (APIC-write exit);
 *                  without it only TPR (TPR shadow) is virtualized and
 *                  everything else is an APIC-access exit.  Never a dummy page.
 * Interrupts (APM vol. 2 15.29.2-15.29.4, SDM vol. 3 30.2): with AVIC (SVM) or
 * virtual-interrupt delivery (VMX) on, the CPU evaluates the IRR of the
 * backing page at VM entry, and on SVM also when a doorbell reaches this CPU
 * in guest mode; the highest vector above PPR goes to ISR and the guest takes
 * it.  A guest ICR write with AVIC on is an AVIC IPI: fixed, edge, physical
 * unicast, the physical broadcast 0xff or self: each target's IRR is set and,
 * if its physical ID entry says IsRunning, a doorbell goes to the host APIC ID
 * there, otherwise the sender exits with AVIC_INCOMPLETE_IPI (trap-like).
 * Every other ICR value exits with AVIC_IPI_FAILURE_INVALID_INT_TYPE and KVM
 * emulates it (real AVIC also takes logical destinations: not modelled; and a
 * vector below 16 is AVIC_IPI_FAILURE_INVALID_IPI_VECTOR, which KVM drops).
 * The TLB (unless --no-tlb): a walk that finds a present, non-MMIO leaf is
 * cached per vCPU and used until a flush drops it (struct kvm_hw_tlb_entry).
 * What the CPU may cache, and what it does with it:
 *   VMX, SDM vol. 3C 29.4.5 ("Issues Pertaining to Page Size and TLB
 *     Management"): a cached translation that did not lead to the
 *     APIC-access page may be used without an APIC-access VM exit until
 *     INVEPT; the model's APIC SPTE always leads there and "virtualize APIC
 *     accesses" never changes, so only zaps make a VMX entry stale.
 *   SVM: the APM says nothing about AVIC and the TLB; the kernel's reading
 *     (0ccf3e7cb95a, v6.3, and a9e18aa3263f, v7.1: "the CPU is allowed to
 *     cache TLB entries for the APIC base GPA") is that an entry for the
 *     APIC base is tagged with the xAVIC redirection in force when it was
 *     filled: one filled with AVIC off keeps sending accesses to the NPT's
 *     page (the scratch page) after AVIC is enabled, and one filled with
 *     xAVIC on keeps redirecting to the virtual APIC page after a switch to
 *     x2AVIC (which redirects nothing: the xAPIC window is closed).  An entry
 *     filled with xAVIC on while AVIC is now off altogether is dropped and
 *     the walk redone: no commit documents a failure in that direction.
 * Simplifications: no posted-interrupt descriptor, no logical APIC
 * ID table, EOI always traps, interrupts are taken at instruction boundaries
 * and a doorbell is looked at before a pending physical interrupt.
 */
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

enum access_class { AC_ACCEL, AC_TRAP, AC_FAULT };

static void vmx_hw_virtual_eoi(struct kvm_vcpu *vcpu, const struct guest_op *op);

/*
 * Does an access to the APIC base go to the virtual APIC: SVM's xAVIC
 * redirection (AVIC enabled), VMX's "virtualize APIC accesses"?  Otherwise
 * the SPTE's page is used as memory.
 */
static bool hw_apic_virtualized(const struct kvm_vcpu *vcpu)
{
	return vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ?
	       vcpu->arch.ctrl.avic_enabled && !vcpu->arch.ctrl.x2avic :
	       vcpu->arch.ctrl.virtualize_apic_accesses;
}

static bool reg_is_defined_read(u32 reg)
{
	if (reg == APIC_TMCCT || reg == APIC_EOI || reg == APIC_RRR || reg == APIC_SELF_IPI ||
	    reg == APIC_LVTCMCI)
		return false;
	return lapic_reg_name(reg) != NULL;
}

/* is_avic_unaccelerated_access_trap(), avic.c v7.0 (as v5.15). */
static bool is_avic_unaccelerated_access_trap(u32 offset)
{
	switch (offset) {
	case APIC_ID: case APIC_EOI: case APIC_RRR: case APIC_LDR: case APIC_DFR:
	case APIC_SPIV: case APIC_ESR: case APIC_ICR: case APIC_LVTT: case APIC_LVTTHMR:
	case APIC_LVTPC: case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT:
	case APIC_TDCR:
		return true;
	}
	return false;
}

/* What AVIC (SVM) or APICv (VMX) hardware does with an access through the APIC page. */
static enum access_class classify_apic_access(struct kvm_vcpu *vcpu, const struct guest_op *op)
{
	const struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;
	bool write = op->kind == GOP_APIC_WRITE;
	u32 reg = op->off;

	if (op->len != 4 || (op->off & 0xf))
		return AC_FAULT;
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM) {
		if (!write)
			return reg_is_defined_read(reg) ? AC_ACCEL : AC_FAULT;
		if (reg == APIC_TASKPRI)
			return AC_ACCEL;
		return is_avic_unaccelerated_access_trap(reg) ? AC_TRAP : AC_FAULT;
	}
	/* VMX: TPR shadow virtualizes TPR with or without APICv. */
	if (reg == APIC_TASKPRI)
		return AC_ACCEL;
	if (!c->apic_register_virt)
		return AC_FAULT;
	if (!write)
		return reg_is_defined_read(reg) ? AC_ACCEL : AC_FAULT;
	switch (reg) {
	case APIC_EOI: case APIC_ICR: case APIC_ID: case APIC_LDR: case APIC_DFR: case APIC_SPIV:
	case APIC_ESR: case APIC_ICR2: case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC:
	case APIC_LVT0: case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT: case APIC_TDCR:
		return AC_TRAP;
	}
	return AC_FAULT;
}

static void set_exit(struct kvm_vcpu *vcpu, u32 reason, gpa_t gpa, u32 info)
{
	vcpu->arch.exit.reason = reason;
	vcpu->arch.exit.gpa = gpa;
	vcpu->arch.exit.error_code = info;
	vcpu->arch.exit.apic_offset = reason == EXIT_APIC_WRITE || reason == EXIT_APIC_ACCESS ?
				      (u32)(gpa & 0xfff) : 0;
}

/*
 * Guest memory: another vCPU's guest may read what this one writes
 * (wait-mem), so the checker's reduction sees these accesses (observe).
 */
static u32 page_read(u8 *page, u32 off)
{
	u32 *p = (u32 *)(page + (off & 0xffc));

	rt->observe(p, 4, false);
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void page_write(u8 *page, u32 off, u32 val)
{
	u32 *p = (u32 *)(page + (off & 0xffc));

	rt->observe(p, 4, true);
	__atomic_store_n(p, val, __ATOMIC_RELAXED);
}

/* The vCPU whose xAPIC ID is 'id', as the AVIC physical ID table indexes them. */
static struct kvm_vcpu *hw_vcpu_by_apic_id(struct kvm *kvm, u32 id)
{
	int n = (int)hw_load(kvm->online_vcpus.counter);

	for (int i = 0; i < n; i++) {
		struct kvm_vcpu *v = hw_load(kvm->vcpus[i]);

		if (v && (u32)v->vcpu_id == id)
			return v;
	}
	return NULL;
}

/* AVIC_INCOMPLETE_IPI is trap-like: the ICR write has retired. */
static bool avic_incomplete_ipi(struct kvm_vcpu *vcpu, u32 icrl, u32 icrh, u32 cause, u32 index,
				u32 targets)
{
	vcpu->arch.rip++;
	set_exit(vcpu, EXIT_AVIC_INCOMPLETE_IPI, 0, cause);
	vcpu->arch.exit.icrl = icrl;
	vcpu->arch.exit.icrh = icrh;
	vcpu->arch.exit.index = index;	/* exit_info_2[7:0]: the physical ID table index */
	vcpu->arch.exit.ghost_targets = targets;
	return false;
}

/*
 * One target of an AVIC IPI.  IRR first, then IsRunning: the order
 * avic_vcpu_blocking() (avic.c v7.2, as v6.17) relies on ("The processor needs a
 * matching memory barrier on interrupt delivery between writing IRR and
 * reading IsRunning"), so a target that cleared IsRunning either sees the IRR
 * bit before it sleeps or makes this IPI exit.  True if it was running.
 */
static bool avic_hw_ipi_one(struct kvm_vcpu *vcpu, struct kvm_vcpu *target, u32 vec)
{
	u64 entry;

	GHOST_ADD(target->ghost.deliveries, 1);
	set_bit(vec & 31, (unsigned long *)(target->arch.apic->regs + APIC_IRR + (vec >> 5) * 0x10));
	entry = hw_load(target->avic_physical_id_table_entry);
	kvm_trace(EV_AVIC_IPI, vcpu->vcpu_idx, target->vcpu_idx, vec,
		  !!(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK));
	if (!(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK))
		return false;	/* in flight until the exit's handler has kicked it */
	GHOST_ADD(target->ghost.deliveries, (u32)-1);
	smp_send_guest_notification((int)(entry & AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK));
	return true;
}

/*
 * A guest write to ICR with AVIC on (APM vol. 2 15.29.4.3?).  The write lands
 * in the backing page and RIP advances (the exits are trap-like).  The
 * model's hardware sends fixed, edge-triggered IPIs to one physical
 * destination, to self, and to the physical broadcast 0xff (every vCPU with
 * a valid entry, self included; invalid entries are skipped, as the comment
 * in avic_init_backing_page() says); anything else exits as
 * INVALID_INT_TYPE.  If targets were not running, the exit reports the
 * lowest one's index (the model's choice: the APM names one index).
 */
static bool avic_hw_icr_write(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 icrl, gpa_t gpa)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	u32 icrh = kvm_lapic_get_reg(apic, APIC_ICR2), vec = icrl & APIC_VECTOR_MASK;
	u32 shorthand = icrl & APIC_SHORT_MASK, dest = GET_APIC_DEST_FIELD(icrh), missed = 0;
	int index = -1;

	(void)gpa;
	kvm_lapic_set_reg(apic, APIC_ICR, icrl & ~APIC_ICR_BUSY);
	ghost_apic_access(vcpu, op, icrl, APIC_PATH_ACCEL);
	if ((icrl & APIC_MODE_MASK) != APIC_DM_FIXED || (icrl & APIC_INT_LEVELTRIG) || vec < 16 ||
	    (shorthand != APIC_DEST_NOSHORT && shorthand != APIC_DEST_SELF) ||
	    (shorthand == APIC_DEST_NOSHORT && (icrl & APIC_DEST_MASK) != APIC_DEST_PHYSICAL))
		return avic_incomplete_ipi(vcpu, icrl, icrh, AVIC_IPI_FAILURE_INVALID_INT_TYPE, 0, 0);
	if (shorthand == APIC_DEST_NOSHORT && dest == APIC_BROADCAST) {
		int n = (int)hw_load(vcpu->kvm->online_vcpus.counter);

		for (int i = 0; i < n; i++) {
			struct kvm_vcpu *t = hw_load(vcpu->kvm->vcpus[i]);

			if (!t || !(hw_load(t->avic_physical_id_table_entry) & AVIC_PHYSICAL_ID_ENTRY_VALID_MASK))
				continue;
			if (!avic_hw_ipi_one(vcpu, t, vec)) {
				missed |= BIT(t->vcpu_idx);
				if (index < 0)
					index = t->vcpu_id;
			}
		}
	} else {
		struct kvm_vcpu *t = shorthand == APIC_DEST_SELF ? vcpu : hw_vcpu_by_apic_id(vcpu->kvm, dest);

		if (!t || !(hw_load(t->avic_physical_id_table_entry) & AVIC_PHYSICAL_ID_ENTRY_VALID_MASK))
			return avic_incomplete_ipi(vcpu, icrl, icrh, AVIC_IPI_FAILURE_INVALID_TARGET, 0, 0);
		if (!avic_hw_ipi_one(vcpu, t, vec)) {
			missed = BIT(t->vcpu_idx);
			index = t->vcpu_id;
		}
	}
	if (missed)
		return avic_incomplete_ipi(vcpu, icrl, icrh, AVIC_IPI_FAILURE_TARGET_NOT_RUNNING,
					   (u32)index, missed);
	return true;
}

/*
 * The TPR the CPU's virtual-interrupt evaluation uses: SVM's V_TPR ("it is
 * the V_TPR that is actually used by the AVIC to decide whether to issue
 * pending interrupts (not TPR in TASKPRI)", d02e48830e3f), VMX's VTPR in the
 * virtual-APIC page (SDM vol. 3 29.1.1).
 */
static u32 hw_tpr(const struct kvm_vcpu *vcpu)
{
	return vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? (u32)vcpu->arch.ctrl.v_tpr << 4 :
	       kvm_lapic_get_reg(vcpu->arch.apic, APIC_TASKPRI);
}

static void hw_eval_pending(struct kvm_vcpu *vcpu, enum intr_path path);

/*
 * A guest write of the TPR that the CPU virtualizes: an accelerated TPR MMIO
 * write ('tpr' is the byte) or a MOV to CR8 that is not intercepted
 * (tpr = CR8 << 4).  False if the guest exits.
 *   SVM: V_TPR takes TPR[7:4].  With AVIC on the backing page's TPR follows:
 *     "AVIC does automatically sync between these two fields, however it
 *     does so only on explicit guest writes to one of these fields, not on
 *     a bare VMRUN" (d02e48830e3f); and the CPU evaluates pending
 *     interrupts against the new priority, as VMX does (the APM does not
 *     say when AVIC re-evaluates: the model takes the earliest moment).
 *     With AVIC off only V_TPR changes; KVM copies it to the LAPIC after
 *     the exit (sync_cr8_to_lapic()).
 *   VMX, TPR shadow (SDM vol. 3 29.1.2, "TPR virtualization"): VTPR is
 *     written; with virtual-interrupt delivery the CPU virtualizes PPR and
 *     evaluates pending virtual interrupts, without it a VTPR[7:4] below
 *     TPR_THRESHOLD[3:0] is a trap-like VM exit.
 */
static bool hw_tpr_write(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 tpr)
{
	struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;
	struct kvm_lapic *apic = vcpu->arch.apic;
	bool svm = vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM;

	if (svm)
		c->v_tpr = (u8)((tpr >> 4) & 0xf);
	if (!svm || c->avic_enabled)
		kvm_lapic_set_reg(apic, APIC_TASKPRI, tpr);
	if (op->kind == GOP_CR8_WRITE)
		ghost_cr8_access(vcpu, op, op->val, APIC_PATH_ACCEL);
	else
		ghost_apic_access(vcpu, op, op->val, APIC_PATH_ACCEL);
	if (svm ? c->avic_enabled : c->virtual_intr_delivery) {
		hw_eval_pending(vcpu, INTR_TPR);
	} else if (!svm && (tpr >> 4) < c->tpr_threshold) {
		vcpu->arch.rip++;
		set_exit(vcpu, EXIT_TPR_BELOW_THRESHOLD, 0, 0);
		return false;
	}
	return true;
}

/*
 * MOV to CR8 (KVM sets V_INTR_MASKING on SVM; VMX uses the TPR shadow):
 * intercepted on SVM while INTERCEPT_CR8_WRITE is set, which KVM must
 * never leave set with AVIC on (87d0f901a9bd: "KVM should never enter the
 * guest with AVIC enabled and CR8 writes intercepted"; it WARNs in
 * cr8_write_interception(), the model reports it here).
 */
static bool hw_cr8_write(struct kvm_vcpu *vcpu, const struct guest_op *op)
{
	const struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM && c->cr8_write_intercept) {
		if (c->avic_enabled)
			KVM_REPORT(F_CR8_INTERCEPTED,
				   "vcpu %d: the guest's CR8 write exits although AVIC is on: KVM entered the guest with AVIC on and CR8 writes intercepted",
				   vcpu->vcpu_idx);
		set_exit(vcpu, EXIT_CR8_WRITE, 0, op->val & 0xf);
		return false;
	}
	return hw_tpr_write(vcpu, op, (op->val & 0xf) << 4);
}

/* MOV from CR8, never intercepted: V_TPR (SVM), VTPR[7:4] (VMX). */
static void hw_cr8_read(struct kvm_vcpu *vcpu, const struct guest_op *op)
{
	ghost_cr8_access(vcpu, op, hw_tpr(vcpu) >> 4, APIC_PATH_ACCEL);
}

/*
 * The guest's sti (or the one in wait-irq's loop): RFLAGS.IF = 1, and a
 * pending virtual interrupt is delivered now (no interrupt shadow here).
 */
static void hw_sti(struct kvm_vcpu *vcpu)
{
	vcpu->arch.rflags_if = true;
	kvm_trace(EV_RFLAGS_IF, vcpu->vcpu_idx, 1, 0, 0);
	hw_eval_pending(vcpu, INTR_STI);
}

/*
 * An instruction without a memory operand, after its boundary: WRMSR to
 * IA32_APIC_BASE (intercepted on both vendors), a CR8 access, cli or sti.
 * False if it exits.
 */
static bool hw_register_insn(struct kvm_vcpu *vcpu, const struct guest_op *op)
{
	switch (op->kind) {
	case GOP_CLI:
		vcpu->arch.rflags_if = false;
		kvm_trace(EV_RFLAGS_IF, vcpu->vcpu_idx, 0, 0, 0);
		return true;
	case GOP_STI:
		hw_sti(vcpu);
		return true;
	case GOP_CR8_READ:
		hw_cr8_read(vcpu, op);
		return true;
	case GOP_CR8_WRITE:
		return hw_cr8_write(vcpu, op);
	default:	/* GOP_APIC_BASE */
		set_exit(vcpu, EXIT_WRMSR, 0, op->val);
		return false;
	}
}

/*
 * An APIC access through a present SPTE; false if it exits.  'redirect':
 * SVM's xAVIC redirection applies (AVIC on at the walk, or in the TLB
 * entry's tag).
 */
static bool hw_apic_access(struct kvm_vcpu *vcpu, const struct guest_op *op, u64 spte, gpa_t gpa,
			   bool redirect)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	bool write = op->kind == GOP_APIC_WRITE;
	u32 val = op->val;

	if (!redirect) {
		/*
		 * The translation is used as is: the access reaches the page the
		 * SPTE maps (SVM: the scratch page behind the private memslot;
		 * VMX: the APIC-access page) as memory.  Right while the APIC is
		 * hardware-disabled (its MMIO window is plain memory then); with
		 * APIC virtualization on now, the translation was cached while it
		 * was off; with AVIC off for an enabled APIC, the SPTE should not
		 * be there.
		 */
		u8 *dummy = kvm_pfn_to_page(vcpu->kvm, (spte & SPTE_PFN_MASK) >> SPTE_PFN_SHIFT);
		/* The xAPIC window is closed: APIC hardware-disabled or in x2APIC mode. */
		bool hw_disabled = kvm_get_apic_mode(vcpu) != LAPIC_MODE_XAPIC;

		if (hw_apic_virtualized(vcpu))
			KVM_REPORT(F_STALE_TLB,
				   "vcpu %d: APIC %s at 0x%x used a TLB entry cached while %s was off: it reached the %s as memory although %s is on now",
				   vcpu->vcpu_idx, write ? "write" : "read", op->off,
				   vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "APIC-access virtualization",
				   vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? "dummy page" : "APIC-access page",
				   vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "it");
		else if (!hw_disabled)
			KVM_REPORT(F_BAD_SPTE,
				   "vcpu %d: APIC %s at 0x%x goes through a present APIC-access SPTE with AVIC off (dummy page)",
				   vcpu->vcpu_idx, write ? "write" : "read", op->off);
		if (write)
			page_write(dummy, op->off, val);
		else
			val = page_read(dummy, op->off);
		if (hw_disabled && !hw_apic_virtualized(vcpu))
			/* Not an APIC access: the reference APIC (disabled too) does not see it. */
			kvm_trace(EV_APIC_ACCESS, vcpu->vcpu_idx,
				  op->off | (u64)op->len << 16 | (u64)write << 31 | (op->gpa >> PAGE_SHIFT) << 32,
				  val, APIC_PATH_DISABLED);
		else
			ghost_apic_access(vcpu, op, val, APIC_PATH_DUMMY);
		return true;
	}
	if (!hw_apic_virtualized(vcpu))
		KVM_REPORT(F_STALE_TLB,
			   "vcpu %d: APIC %s at 0x%x used a TLB entry cached with xAVIC on: in x2AVIC mode it still reached the virtual APIC page",
			   vcpu->vcpu_idx, write ? "write" : "read", op->off);
	switch (classify_apic_access(vcpu, op)) {
	case AC_ACCEL:
		if (write)	/* only TPR is accelerated */
			return hw_tpr_write(vcpu, op, val & 0xff);
		val = kvm_lapic_get_reg(apic, op->off);
		ghost_apic_access(vcpu, op, val, APIC_PATH_ACCEL);
		return true;
	case AC_TRAP:
		if (write && op->off == APIC_ICR && vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
			return avic_hw_icr_write(vcpu, op, val, gpa);
		if (write && op->off == APIC_EOI && vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX &&
		    vcpu->arch.ctrl.virtual_intr_delivery) {
			vmx_hw_virtual_eoi(vcpu, op);
			return true;
		}
		/*
		 * Trap-like: the write is already in the register page.  ID, LDR
		 * and DFR are read by IPI senders on other CPUs, hence marked.
		 */
		if (op->off == APIC_ID || op->off == APIC_LDR || op->off == APIC_DFR)
			WRITE_ONCE(*(u32 *)(apic->regs + op->off), val);
		else
			kvm_lapic_set_reg(apic, op->off, val);
		ghost_apic_access(vcpu, op, val, APIC_PATH_TRAP);
		vcpu->arch.rip++;
		set_exit(vcpu, EXIT_APIC_WRITE, gpa, op->off);
		return false;
	case AC_FAULT:
		set_exit(vcpu, EXIT_APIC_ACCESS, gpa, op->off);
		return false;
	}
	return false;
}

/*
 * The hardware's page walk for one access: the leaf SPTE is the scheduled
 * load (it is what zaps and faults race on); the upper levels only ever go
 * from not-present to present, so reading them in the same step loses no
 * outcome (a missing level is an #NPF either way).
 */
static u64 hw_walk(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_mmu_page *sp = kvm->arch.tdp_root;

	for (int level = PT64_ROOT_LEVEL; level > 1; level--) {
		u64 spte = hw_load(sp->spt[(gfn >> (9 * (level - 1))) & (PT64_ENT_PER_PAGE - 1)]);

		if (!(spte & SPTE_PRESENT))
			return 0;
		sp = (struct kvm_mmu_page *)(uintptr_t)(spte & ~(u64)0xf);
	}
	return READ_ONCE(sp->spt[gfn & (PT64_ENT_PER_PAGE - 1)]);
}

/* ---- the TLB ------------------------------------------------------------------- */

static void hw_tlb_flush(struct kvm_vcpu *vcpu, enum tlb_flush_why why)
{
	u32 n = 0;

	/* Zeroed, not just invalidated: equal TLBs are equal states for the checker. */
	for (int i = 0; i < KVM_HW_TLB_ENTRIES && vcpu->arch.tlb[i].valid; i++, n++)
		memset(&vcpu->arch.tlb[i], 0, sizeof(vcpu->arch.tlb[i]));
	kvm_trace(EV_TLB_FLUSH, vcpu->vcpu_idx, why, n, 0);
}

/* INVEPT (VMX), or the flush a VMRUN with TLB_CONTROL_FLUSH_ASID does (SVM; see kvm_x86_flush_tlb_all()). */
void kvm_hw_tlb_flush(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.tlb)
		hw_tlb_flush(vcpu, vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? TLB_FLUSH_VMRUN : TLB_FLUSH_INVEPT);
}

static void hw_tlb_remove(struct kvm_vcpu *vcpu, int i)
{
	struct kvm_hw_tlb_entry *t = vcpu->arch.tlb;

	for (; i < KVM_HW_TLB_ENTRIES - 1; i++)
		t[i] = t[i + 1];
	memset(&t[KVM_HW_TLB_ENTRIES - 1], 0, sizeof(*t));
}

/* The cached translation of gfn, or NULL. */
static struct kvm_hw_tlb_entry *hw_tlb_lookup(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_hw_tlb_entry *t = vcpu->arch.tlb;

	if (!vcpu->kvm->cfg.tlb)
		return NULL;
	for (int i = 0; i < KVM_HW_TLB_ENTRIES && t[i].valid; i++) {
		if (t[i].gfn != gfn)
			continue;
		/*
		 * Tagged APIC-virtualized, virtualization now off: x2AVIC uses the
		 * entry as it is (a9e18aa3263f); otherwise see the header: walk again.
		 */
		if (t[i].avic && !hw_apic_virtualized(vcpu) &&
		    !(vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM && vcpu->arch.ctrl.x2avic)) {
			hw_tlb_remove(vcpu, i);
			return NULL;
		}
		return &t[i];
	}
	return NULL;
}

/* Cache a walk's present, non-MMIO leaf; entries stay sorted by gfn (one state per TLB content). */
static void hw_tlb_fill(struct kvm_vcpu *vcpu, gfn_t gfn, u64 spte)
{
	struct kvm_hw_tlb_entry *t = vcpu->arch.tlb, e = {
		.gfn = gfn, .spte = spte, .valid = true,
		.avic = gfn == APIC_ACCESS_GFN && hw_apic_virtualized(vcpu),
	};
	int i;

	if (!vcpu->kvm->cfg.tlb || !(spte & SPTE_PRESENT) || (spte & SPTE_MMIO))
		return;
	if (t[KVM_HW_TLB_ENTRIES - 1].valid)
		return;		/* full: not cached (no scenario has this many pages) */
	for (i = 0; i < KVM_HW_TLB_ENTRIES - 1 && t[i].valid && t[i].gfn < gfn; i++)
		;
	for (int j = KVM_HW_TLB_ENTRIES - 1; j > i; j--)
		t[j] = t[j - 1];
	t[i] = e;
	ghost_tlb_filled(vcpu, gfn);
}

/*
 * pre_svm_run() (svm.c v7.2, non-SEV steps as v6.1): a vmcb last run on
 * another pCPU gets a new ASID, for which this CPU has nothing cached.
 */
static __attribute__((noinline)) void pre_svm_run(struct kvm_vcpu *vcpu)
{
	struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	if (c->loaded_cpu != vcpu->cpu) {
		c->loaded_cpu = (s8)vcpu->cpu;
		if (vcpu->kvm->cfg.tlb)
			hw_tlb_flush(vcpu, TLB_FLUSH_NEW_ASID);
	}
}

static bool hw_interrupt_boundary(struct kvm_vcpu *vcpu);

/* hw_translate()'s results besides an SPTE (bits no SPTE of the model has). */
#define HW_INTERRUPTED (~0ull)		/* an interrupt was recognized first: the guest exits */
#define HW_SPTE_XAVIC BIT_ULL(61)	/* the access to the APIC base is virtualized (hw_apic_virtualized()) */

/*
 * The translation of one guest access: the TLB's, else the walk's (which
 * is then cached); then the instruction boundary, where a kick wins.  Not
 * inlined: its locals (which entry, the xAVIC tag) must not stay in
 * kvm_hw_run()'s frame, where the checker would tell states apart by them.
 */
static __attribute__((noinline)) u64 hw_translate(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_hw_tlb_entry *tlb = hw_tlb_lookup(vcpu, gfn);
	bool redirect;
	u64 spte;

	if (tlb) {
		/*
		 * The instruction's scheduling point: the walk's leaf load on a
		 * miss; on a hit, the interrupt check at the boundary (what
		 * other CPUs can change between two guest instructions).
		 */
		(void)READ_ONCE(this_pcpu()->ipi_pending);
		spte = tlb->spte;
		redirect = tlb->avic;
	} else {
		spte = hw_walk(vcpu->kvm, gfn);
		redirect = hw_apic_virtualized(vcpu);
		hw_tlb_fill(vcpu, gfn, spte);
	}
	/* Interrupts are recognized at the instruction boundary: a kick wins. */
	if (hw_interrupt_boundary(vcpu))
		return HW_INTERRUPTED;
	ghost_check_requests(vcpu);
	if (tlb)
		ghost_check_tlb(vcpu, gfn);
	return spte | (redirect ? HW_SPTE_XAVIC : 0);
}

__attribute__((noinline)) void kvm_hw_guest_takes(struct kvm_vcpu *vcpu, int vector, int path)
{
	if (vector < 0)
		return;
	vcpu->arch.guest_irqs++;
	kvm_trace(EV_INTR, vcpu->vcpu_idx, vector, path, 0);
}

/*
 * Evaluate pending virtual interrupts: the guest takes the highest deliverable
 * one.  This and kvm_hw_guest_takes() are not inlined, so that their locals
 * do not stay in kvm_hw_run()'s frame (see inject_pending_event()).
 */
static __attribute__((noinline)) void hw_eval_pending(struct kvm_vcpu *vcpu, enum intr_path path)
{
	int vec;

	/* V_INTR_MASKING / virtual-interrupt delivery: masked by the guest's RFLAGS.IF. */
	if (!vcpu->arch.rflags_if || !kvm_hw_virtual_intr(vcpu))
		return;
	vec = kvm_apic_hw_deliver(vcpu->arch.apic, hw_tpr(vcpu));
	if (vec >= 0 && vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX)
		vcpu->arch.ctrl.svi = (u8)vec;	/* SDM 30.2.2: SVI <- vector */
	kvm_hw_guest_takes(vcpu, vec, path);
}

/*
 * A guest EOI with VMX virtual-interrupt delivery on: virtualized, no exit
 * (no vector is in the EOI-exit bitmap: the model has no level-triggered
 * interrupts).  The guest meant to retire its highest in-service vector;
 * if SVI did not name it, the EOI was lost.
 */
static void vmx_hw_virtual_eoi(struct kvm_vcpu *vcpu, const struct guest_op *op)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	int want = kvm_apic_highest_isr(apic), svi = vcpu->arch.ctrl.svi;

	vcpu->arch.ctrl.svi = (u8)kvm_apic_hw_virtual_eoi(apic, svi);
	ghost_apic_access(vcpu, op, 0, APIC_PATH_ACCEL);
	if (want >= 0 && want != svi)
		KVM_REPORT(F_LOST_APIC_WRITE,
			   "vcpu %d: the guest's EOI, virtualized with SVI 0x%x, left vector 0x%x in service",
			   vcpu->vcpu_idx, svi, want);
	hw_eval_pending(vcpu, INTR_EOI);
}

/* Take a doorbell sent to this CPU, if any: evaluated in guest mode, moot otherwise. */
static bool hw_take_doorbell(void)
{
	struct pcpu *c = this_pcpu();

	return hw_load(c->doorbell) && xchg(&c->doorbell, 0);
}

/*
 * At an instruction boundary: a doorbell is evaluated (SVM); a posted-
 * interrupt notification is processed with the posted-interrupt pin control
 * on, or else exits like any external interrupt (VMX); a pending physical
 * interrupt (a kick) exits.  True if the guest exits.
 */
static bool hw_interrupt_boundary(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM) {
		if (hw_take_doorbell())
			hw_eval_pending(vcpu, INTR_DOORBELL);
	} else if (hw_load(this_pcpu()->doorbell)) {
		if (!kvm_hw_virtual_intr(vcpu)) {
			set_exit(vcpu, EXIT_EXTINT, 0, 0);	/* handled in the host */
			return true;
		}
		hw_take_doorbell();
		kvm_hw_process_posted_interrupts(vcpu);
		hw_eval_pending(vcpu, INTR_DOORBELL);
	}
	if (hw_load(this_pcpu()->ipi_pending)) {
		set_exit(vcpu, EXIT_EXTINT, 0, 0);
		return true;
	}
	return false;
}

/*
 * sync_lapic_to_cr8() (svm.c v7.2, as v6.17: d02e48830e3f): V_TPR from the LAPIC's
 * TPR before every VMRUN.  Before d02e48830e3f it was skipped while AVIC was
 * active (KVM_BUG_TPR_NO_SYNC), on the belief that AVIC keeps the two in sync.
 */
static void sync_lapic_to_cr8(struct kvm_vcpu *vcpu)
{
	if (kvm_bug(vcpu->kvm, KVM_BUG_TPR_NO_SYNC) && kvm_vcpu_apicv_active(vcpu))
		return;
	vcpu->arch.ctrl.v_tpr = (u8)(kvm_get_cr8(vcpu) & V_TPR_MASK);
}

/* sync_cr8_to_lapic() (svm.c v7.2, as v6.1; no nested): the guest's CR8 back to the LAPIC after the exit. */
static void sync_cr8_to_lapic(struct kvm_vcpu *vcpu)
{
	if (!vcpu->arch.ctrl.cr8_write_intercept)
		kvm_set_cr8(vcpu, vcpu->arch.ctrl.v_tpr & V_TPR_MASK);
}

static void hw_run_guest(struct kvm_vcpu *vcpu);

/*
 * svm_vcpu_run() / vmx_vcpu_run(): KVM's side around the VMRUN / VM entry,
 * then the simulated CPU until something exits.
 */
/*
 * VM entry, checks on the VM-execution control fields (SDM vol. 3 28.2.1.1):
 * "The following check is performed if the "use TPR shadow" VM-execution
 * control is 1 and the "virtualize APIC accesses" and "virtual-interrupt
 * delivery" VM-execution controls are both 0: the value of bits 3:0 of the TPR
 * threshold VM-execution control field should not be greater than the value
 * of bits 7:4 of VTPR."  KVM always uses the TPR shadow; a failed check is a
 * VM-entry failure (KVM_EXIT_FAIL_ENTRY, hardware error 0x7).  The model
 * reports it and lets the entry go on.
 */
static void vmx_check_vmentry_tpr_threshold(struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;
	u32 vtpr = kvm_lapic_get_reg(vcpu->arch.apic, APIC_TASKPRI);

	if (!c->virtualize_apic_accesses && !c->virtual_intr_delivery && c->tpr_threshold > (vtpr >> 4))
		KVM_REPORT(F_VMENTRY_FAILED,
			   "vcpu %d: VM entry fails: TPR_THRESHOLD %u is above VTPR[7:4] %u with neither "
			   "APIC-access virtualization nor virtual-interrupt delivery (SDM 28.2.1.1)",
			   vcpu->vcpu_idx, c->tpr_threshold, vtpr >> 4);
}

void kvm_hw_run(struct kvm_vcpu *vcpu)
{
	bool svm = vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM;

	/*
	 * VMRUN / VM entry: IRR is evaluated (RVI on VMX); on SVM an earlier
	 * doorbell adds nothing, on VMX a notification sent while interrupts
	 * were disabled is recognized at the first instruction boundary.
	 */
	if (svm) {
		pre_svm_run(vcpu);
		sync_lapic_to_cr8(vcpu);
		hw_take_doorbell();
	} else {
		vmx_check_vmentry_tpr_threshold(vcpu);
	}
	hw_eval_pending(vcpu, INTR_VMRUN);
	hw_run_guest(vcpu);
	if (svm)
		sync_cr8_to_lapic(vcpu);
}

/* The IRQ window KVM asked for is open: the CPU honours it and RFLAGS.IF is set. */
static bool hw_irq_window_open(const struct kvm_vcpu *vcpu)
{
	return kvm_hw_irq_window_honoured(vcpu) && vcpu->arch.rflags_if;
}

/* The simulated CPU in guest mode: one guest op per instruction until an exit. */
static void hw_run_guest(struct kvm_vcpu *vcpu)
{
	const struct guest_program *prog = vcpu->program;

	for (;;) {
		const struct guest_op *op;
		gpa_t gpa;
		u64 spte;
		bool redirect;

		if (hw_irq_window_open(vcpu)) {
			set_exit(vcpu, EXIT_IRQ_WINDOW, 0, 0);	/* SVM_EXIT_VINTR / EXIT_REASON_INTERRUPT_WINDOW */
			return;
		}
		if (vcpu->arch.rip >= (u64)prog->nr_ops) {
			set_exit(vcpu, EXIT_DONE, 0, 0);
			return;
		}
		op = &prog->ops[vcpu->arch.rip];
		if (op->kind == GOP_HLT || op->kind == GOP_WAIT_IRQ) {
			if (hw_interrupt_boundary(vcpu))
				return;
			if (op->kind == GOP_WAIT_IRQ && !vcpu->arch.rflags_if) {
				hw_sti(vcpu);	/* the loop's sti */
				continue;
			}
			/* wait-irq N: "while (taken < N) { sti; hlt; }", HLT intercepted. */
			if (op->kind == GOP_WAIT_IRQ &&
			    (vcpu->arch.guest_irqs >= op->val || hw_load(vcpu->arch.guest_stop))) {
				vcpu->arch.rip++;
				continue;
			}
			set_exit(vcpu, EXIT_HLT, 0, 0);
			return;
		}
		if (op->kind == GOP_APIC_BASE || op->kind == GOP_CR8_WRITE || op->kind == GOP_CR8_READ ||
		    op->kind == GOP_CLI || op->kind == GOP_STI) {
			/*
			 * cli and sti get a scheduling point of their own, like a
			 * memory access (hw_translate()): what other CPUs do
			 * between them is what an interrupt window is about.
			 */
			if (op->kind == GOP_CLI || op->kind == GOP_STI)
				(void)READ_ONCE(this_pcpu()->ipi_pending);
			if (hw_interrupt_boundary(vcpu) || !hw_register_insn(vcpu, op))
				return;
			vcpu->arch.rip++;
			continue;
		}
		gpa = op->gpa;
		spte = hw_translate(vcpu, gpa >> PAGE_SHIFT);
		if (spte == HW_INTERRUPTED)
			return;
		redirect = spte & HW_SPTE_XAVIC;
		if (spte & SPTE_MMIO) {
			set_exit(vcpu, EXIT_MMIO_SPTE, gpa, PFERR_RSVD_MASK);
			return;
		}
		if (!(spte & SPTE_PRESENT)) {
			bool write = op->kind == GOP_APIC_WRITE || op->kind == GOP_MEM_WRITE;

			set_exit(vcpu, EXIT_NPF, gpa, write ? PFERR_WRITE_MASK : 0);
			return;
		}
		if (op->kind == GOP_APIC_READ || op->kind == GOP_APIC_WRITE) {
			if (!hw_apic_access(vcpu, op, spte, gpa, redirect))
				return;
		} else {
			u8 *page = kvm_pfn_to_page(vcpu->kvm, (spte & SPTE_PFN_MASK) >> SPTE_PFN_SHIFT);
			u32 val = op->val;

			if (op->kind == GOP_MEM_WRITE)
				page_write(page, gpa & 0xfff, val);
			else
				val = page_read(page, gpa & 0xfff);
			kvm_trace(EV_MEM_ACCESS, vcpu->vcpu_idx, gpa, val, op->kind == GOP_MEM_WRITE);
			/* wait-mem: "while (*gpa != val) pause;" spins (stress's wind-down ends it). */
			if (op->kind == GOP_WAIT_MEM && val != op->val && !hw_load(vcpu->arch.guest_stop))
				continue;
		}
		vcpu->arch.rip++;
	}
}

/*
 * x86_emulate_instruction(), x86.c v6.18 (as v5.17), for the instruction at
 * rip: its access goes to vcpu_mmio_read/write, i.e. to the in-kernel LAPIC's
 * MMIO device if the address is in the page at this vCPU's APIC base, else
 * to userspace as MMIO no device claims (reads all ones).  An APIC access the
 * guest makes at an old base after a relocation is such an access.
 */
int x86_emulate_instruction(struct kvm_vcpu *vcpu, gpa_t gpa)
{
	const struct guest_program *prog = vcpu->program;
	const struct guest_op *op;
	struct kvm_lapic *apic = vcpu->arch.apic;
	u32 val = 0;

	if (vcpu->arch.rip >= (u64)prog->nr_ops)
		return 1;
	op = &prog->ops[vcpu->arch.rip];
	KVM_ASSERT(gpa >> PAGE_SHIFT == op->gpa >> PAGE_SHIFT);
	if (op->kind == GOP_APIC_READ || op->kind == GOP_APIC_WRITE) {
		if (op->kind == GOP_APIC_WRITE) {
			val = op->val;
			vcpu_mmio_write(apic, op->gpa, op->len, val);
		} else {
			vcpu_mmio_read(apic, op->gpa, op->len, &val);
		}
		ghost_apic_access(vcpu, op, val, APIC_PATH_EMULATED);
	} else if (op->kind == GOP_MEM_READ) {
		vcpu_mmio_read(apic, gpa, 4, &val);
		kvm_trace(EV_MEM_ACCESS, vcpu->vcpu_idx, gpa, val, 0);
	} else if (op->kind == GOP_MEM_WRITE) {
		vcpu_mmio_write(apic, gpa, 4, op->val);
		kvm_trace(EV_MEM_ACCESS, vcpu->vcpu_idx, gpa, op->val, 1);
	}
	vcpu->arch.rip++;
	return 1;
}

/*
 * cr8_write_interception() (svm.c v7.0, 87d0f901a9bd) with the in-kernel
 * LAPIC: cr_interception() -> kvm_set_cr8(), then the skip.  Its
 * WARN_ON_ONCE(kvm_vcpu_apicv_active(vcpu)) is the 'cr8-intercepted' check
 * that hw_cr8_write() makes when the write exits.
 */
static int cr8_write_interception(struct kvm_vcpu *vcpu, u32 cr8)
{
	const struct guest_op *op = &vcpu->program->ops[vcpu->arch.rip];

	kvm_set_cr8(vcpu, cr8);
	ghost_cr8_access(vcpu, op, cr8, APIC_PATH_EMULATED);
	vcpu->arch.rip++;	/* kvm_complete_insn_gp() */
	return 1;
}

/* svm_handle_exit() / vmx_handle_exit() (avic.c v7.0, vmx.c v6.12; no fasteoi) for the model's exits. */
int kvm_hw_handle_exit(struct kvm_vcpu *vcpu)
{
	struct kvm_exit_info *e = &vcpu->arch.exit;

	switch (e->reason) {
	case EXIT_NPF:		/* npf_interception / handle_ept_violation */
		return kvm_mmu_page_fault(vcpu, e->gpa, e->error_code);
	case EXIT_MMIO_SPTE:	/* handle_ept_misconfig / npf with PFERR_RSVD */
		return kvm_mmu_page_fault(vcpu, e->gpa, PFERR_RSVD_MASK);
	case EXIT_APIC_ACCESS:	/* handle_apic_access / avic_unaccelerated_access (fault) */
		return x86_emulate_instruction(vcpu, e->gpa);
	case EXIT_APIC_WRITE:	/* handle_apic_write / avic_unaccel_trap_write */
		kvm_apic_write_nodecode(vcpu, e->apic_offset);
		return 1;
	case EXIT_EXTINT:
		return 1;
	case EXIT_WRMSR:
		return kvm_emulate_wrmsr_apic_base(vcpu, e->error_code);	/* the mode's bits */
	case EXIT_CR8_WRITE:
		return cr8_write_interception(vcpu, e->error_code);	/* the value */
	case EXIT_IRQ_WINDOW:	/* interrupt_window_interception / handle_interrupt_window */
		return kvm_x86_irq_window_exit(vcpu);
	case EXIT_TPR_BELOW_THRESHOLD:	/* handle_tpr_below_threshold(), vmx.c v6.1 */
		kvm_apic_update_ppr(vcpu);
		return 1;
	case EXIT_HLT:		/* kvm_emulate_halt(): skip the instruction, then block */
		/* wait-irq's loop jumps back to its test: the op stays current. */
		if (vcpu->program->ops[vcpu->arch.rip].kind == GOP_HLT)
			vcpu->arch.rip++;
		kvm_vcpu_srcu_read_unlock(vcpu);	/* vcpu_block(), x86.c v7.1 */
		kvm_vcpu_halt(vcpu);
		kvm_vcpu_srcu_read_lock(vcpu);
		return 1;
	case EXIT_AVIC_INCOMPLETE_IPI: {	/* avic_incomplete_ipi_interception */
		int r = avic_incomplete_ipi_interception(vcpu);

		for (int i = 0; i < KVM_MAX_VCPUS; i++)
			if (e->ghost_targets & BIT(i))
				GHOST_ADD(vcpu->kvm->vcpus[i]->ghost.deliveries, (u32)-1);
		return r;
	}
	case EXIT_DONE:
		ghost_program_done(vcpu);
		return 0;
	}
	KVM_ASSERT(!"unknown exit reason");
	return 0;
}
