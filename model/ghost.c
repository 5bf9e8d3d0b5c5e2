// SPDX-License-Identifier: GPL-2.0
/*
 * Ghost instrumentation for the oracles (see model/ghost.h).
 *
 * The sequential reference (docs/verdicts.md: lost-apic-write / wrong-apic-read):
 * every guest APIC access is applied once, in program order, to a standalone
 * xAPIC owned by the vCPU.  A read of a register whose value depends only on
 * the vCPU's own accesses (lapic_reg_is_self_determined) must return what the
 * reference returns; a write that did not reach the vCPU's APIC (the dummy
 * page) is lost; when the program ends, every self-determined register must
 * equal the reference's.
 */
#include <stdio.h>
#include <string.h>

#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

void ghost_vcpu_init(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic *ref = kvm_zalloc(sizeof(*ref));

	kvm_lapic_init_standalone(ref, kvm_apic_id(vcpu->arch.apic), vcpu->vcpu_id == 0);
	vcpu->ghost.ref = ref;
}

static const char *reg_str(u32 off, char *buf, size_t len)
{
	const char *n = lapic_reg_name(off & 0xff0);

	snprintf(buf, len, "%s%s0x%03x", n ? n : "", n ? "@" : "", off);
	return buf;
}

void ghost_apic_access(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 value, int path)
{
	struct kvm_lapic *ref = vcpu->ghost.ref;
	bool write = op->kind == GOP_APIC_WRITE;
	char reg[32];
	u32 want = 0;
	/* Bit 30: the page is not where the guest put its APIC (the reference is this vCPU's alone). */
	bool elsewhere = (op->gpa ^ ref->base_address) & MSR_IA32_APICBASE_BASE;

	kvm_trace(EV_APIC_ACCESS, vcpu->vcpu_idx,
		  op->off | (u64)op->len << 16 | (u64)elsewhere << 30 | (u64)write << 31 |
		  (op->gpa >> PAGE_SHIFT) << 32, value, path);
	if (write) {
		bool claimed = vcpu_mmio_write(ref, op->gpa, op->len, op->val);

		if (path == APIC_PATH_DUMMY)
			KVM_REPORT(F_LOST_APIC_WRITE,
				   "vcpu %d: write of 0x%x to APIC %s landed on the dummy page",
				   vcpu->vcpu_idx, op->val, reg_str(op->off, reg, sizeof(reg)));
		else if (!claimed && path != APIC_PATH_EMULATED)
			KVM_REPORT(F_STRAY_APIC_WRITE,
				   "vcpu %d: write of 0x%x at 0x%llx reached APIC %s, but this vCPU's APIC is at 0x%llx: no APIC is there",
				   vcpu->vcpu_idx, op->val, (unsigned long long)op->gpa, reg_str(op->off, reg, sizeof(reg)),
				   (unsigned long long)(ref->base_address & MSR_IA32_APICBASE_BASE));
		return;
	}
	/* A read outside the reference APIC's page is unclaimed MMIO: all ones. */
	if (!vcpu_mmio_read(ref, op->gpa, op->len, &want)) {
		if (want != value)
			KVM_REPORT(F_WRONG_APIC_READ,
				   "vcpu %d: read at 0x%llx returned 0x%x, but this vCPU's APIC is at 0x%llx: no APIC is there, the reference says 0x%x",
				   vcpu->vcpu_idx, (unsigned long long)op->gpa, value,
				   (unsigned long long)(ref->base_address & MSR_IA32_APICBASE_BASE), want);
		return;
	}
	if (op->len == 4 && !(op->off & 0xf) && lapic_reg_is_self_determined(op->off) && want != value)
		KVM_REPORT(F_WRONG_APIC_READ,
			   "vcpu %d: read of APIC %s returned 0x%x, the reference says 0x%x%s",
			   vcpu->vcpu_idx, reg_str(op->off, reg, sizeof(reg)), value, want,
			   path == APIC_PATH_DUMMY ? " (dummy page)" : "");
}

void ghost_cr8_access(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 value, int path)
{
	struct kvm_lapic *ref = vcpu->ghost.ref;
	bool write = op->kind == GOP_CR8_WRITE;
	u32 want;

	kvm_trace(EV_CR8, vcpu->vcpu_idx, value, write, path);
	if (write) {
		/* The register, not the MMIO window: CR8 works in x2APIC mode too. */
		kvm_lapic_reg_write(ref, APIC_TASKPRI, (value & 0xf) << 4);
		return;
	}
	want = kvm_lapic_get_reg(ref, APIC_TASKPRI) >> 4;
	if (value != want)
		KVM_REPORT(F_WRONG_APIC_READ,
			   "vcpu %d: CR8 read returned 0x%x, the reference APIC's TPR says 0x%x",
			   vcpu->vcpu_idx, value, want);
}

void ghost_program_done(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic *apic = vcpu->arch.apic, *ref = vcpu->ghost.ref;
	char reg[32];

	for (u32 off = 0; off < 0x400; off += 0x10) {
		u32 got, want;

		if (!lapic_reg_is_self_determined(off))
			continue;
		got = kvm_lapic_get_reg(apic, off);
		want = kvm_lapic_get_reg(ref, off);
		if (got != want)
			KVM_REPORT(F_LOST_APIC_WRITE,
				   "vcpu %d: at the end APIC %s is 0x%x, the reference says 0x%x",
				   vcpu->vcpu_idx, reg_str(off, reg, sizeof(reg)), got, want);
	}
}

#define WAIT_REQUESTS (BIT(KVM_REQ_APICV_UPDATE & KVM_REQUEST_MASK) | \
		       BIT(KVM_REQ_TLB_FLUSH & KVM_REQUEST_MASK))

void ghost_check_requests(struct kvm_vcpu *vcpu)
{
	unsigned long pending = GHOST_READ(vcpu->requests) & WAIT_REQUESTS;

	/*
	 * A completed kvm_make_all_cpus_request() either saw this vCPU outside
	 * guest mode (then its entry re-check cancels the entry) or moved it to
	 * EXITING_GUEST_MODE and sent an IPI.  Running guest code in
	 * IN_GUEST_MODE with such a request pending, no IPI pending and no
	 * requester still at work means the request was lost.
	 */
	if (pending && GHOST_READ(vcpu->mode) == IN_GUEST_MODE && !GHOST_READ(this_pcpu()->ipi_pending) &&
	    !GHOST_READ(vcpu->kvm->ghost_requesters))
		KVM_REPORT(F_LOST_REQUEST, "vcpu %d runs guest code with requests 0x%lx pending",
			   vcpu->vcpu_idx, pending);
}

/*
 * The memslot of gfn, for ghost bookkeeping.  Memslots are added at setup
 * and vCPU creation; the one deletion (the APIC-access slot, 2008fab34530)
 * only ever removes the last one.
 */
static struct kvm_memory_slot *ghost_slot(struct kvm *kvm, gfn_t gfn)
{
	return __gfn_to_memslot(kvm, GHOST_READ(kvm->nr_memslots), gfn);
}

void ghost_check_accel(struct kvm_vcpu *vcpu)
{
	const struct kvm_memory_slot *slot = ghost_slot(vcpu->kvm, APIC_ACCESS_GFN);

	/* Emulation is the rule once the APIC-access memslot is being deleted (2008fab34530). */
	if (GHOST_READ(vcpu->kvm->arch.apicv_inhibit_reasons) == 0 && vcpu->arch.apicv_active &&
	    slot && !(GHOST_READ(slot->flags) & KVM_MEMSLOT_INVALID) &&
	    !(GHOST_READ(vcpu->requests) & BIT(KVM_REQ_APICV_UPDATE & KVM_REQUEST_MASK)))
		KVM_REPORT(F_ACCEL_LOST,
			   "vcpu %d: APIC access emulated through an MMIO SPTE although APICv is active",
			   vcpu->vcpu_idx);
}

void ghost_fault_begin(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	GHOST_WRITE(vcpu->ghost.fault_gfn, gfn);
	GHOST_WRITE(vcpu->ghost.fault_zapped, false);
	GHOST_WRITE(vcpu->ghost.fault_active, true);
}

void ghost_fault_end(struct kvm_vcpu *vcpu)
{
	GHOST_WRITE(vcpu->ghost.fault_active, false);
	GHOST_WRITE(vcpu->ghost.fault_zapped, false);
	GHOST_WRITE(vcpu->ghost.fault_gfn, 0);
}

/*
 * Flags rather than counters, so the ghost state does not keep apart model
 * states that differ only in how many zaps happened before.
 */
void ghost_zap_gfn(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn)
{
	int n = GHOST_READ(kvm->online_vcpus.counter);

	if (slot)
		GHOST_WRITE(slot->ghost_zapped[gfn - slot->base_gfn], 1);
	for (int i = 0; i < n; i++) {
		struct kvm_vcpu *v = GHOST_READ(kvm->vcpus[i]);

		if (!v)
			continue;
		if (GHOST_READ(v->ghost.fault_active) && GHOST_READ(v->ghost.fault_gfn) == gfn)
			GHOST_WRITE(v->ghost.fault_zapped, true);
	}
	/* Translations of gfn that any CPU cached are stale once this zap completes. */
	for (int i = 0; slot && kvm->cfg.tlb && i < n; i++) {
		u8 *t = &slot->ghost_tlb[gfn - slot->base_gfn][i];

		if (!GHOST_READ(*t))
			GHOST_WRITE(*t, 1);
	}
}

void ghost_apic_set_base(struct kvm_vcpu *vcpu, u64 value)
{
	kvm_lapic_apply_base(vcpu->ghost.ref, value, (u8)vcpu->vcpu_id);
}

void ghost_zap_complete(struct kvm *kvm, gfn_t start, gfn_t end)
{
	if (!kvm->cfg.tlb)
		return;
	for (int i = 0; i < kvm->nr_memslots; i++) {
		struct kvm_memory_slot *s = &kvm->memslots[i];
		gfn_t lo = start > s->base_gfn ? start : s->base_gfn;
		gfn_t hi = end < s->base_gfn + s->npages ? end : s->base_gfn + s->npages;

		for (gfn_t g = lo; g < hi; g++)
			for (int v = 0; v < KVM_MAX_VCPUS; v++)
				if (GHOST_READ(s->ghost_tlb[g - s->base_gfn][v]) == 1)
					GHOST_WRITE(s->ghost_tlb[g - s->base_gfn][v], 2);
	}
}

/* The vCPU's ghost TLB mark for gfn (0 none, 1 zapped, 2 zap completed), or NULL outside RAM. */
static u8 *ghost_tlb_mark(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	struct kvm_memory_slot *s = ghost_slot(vcpu->kvm, gfn);

	return s ? &s->ghost_tlb[gfn - s->base_gfn][vcpu->vcpu_idx] : NULL;
}

void ghost_tlb_filled(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	u8 *t = ghost_tlb_mark(vcpu, gfn);

	if (t && GHOST_READ(*t))
		GHOST_WRITE(*t, 0);
}

void ghost_check_tlb(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	u8 *t = ghost_tlb_mark(vcpu, gfn);

	if (t && GHOST_READ(*t) == 2)
		KVM_REPORT(F_STALE_TLB,
			   "vcpu %d: guest access to gfn 0x%llx used a TLB entry whose SPTE a completed kvm_zap_gfn_range() removed (no TLB flush reached this vCPU)",
			   vcpu->vcpu_idx, (unsigned long long)gfn);
}

void ghost_check_install(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
	if (slot && GHOST_READ(vcpu->ghost.fault_zapped))
		KVM_REPORT(F_STALE_SPTE,
			   "SPTE for gfn 0x%llx installed from a fault whose snapshot predates a zap of that gfn",
			   (unsigned long long)gfn);
}

void ghost_note_snapshot(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault)
{
	struct kvm_memory_slot *slot = fault->slot;

	if (fault->gfn != APIC_ACCESS_GFN || !slot || !vcpu->arch.apicv_active ||
	    !GHOST_READ(vcpu->kvm->arch.apicv_inhibit_reasons))
		return;
	if (GHOST_READ(slot->ghost_zapped[0]))
		kvm_trace(EV_NOTE, NOTE_SNAPSHOT_AFTER_ZAP, vcpu->vcpu_idx, fault->gfn, 0);
}

/* kvm_apic_accept_pic_intr() with ghost reads. */
static bool ghost_accept_pic_intr(struct kvm_vcpu *v)
{
	struct kvm_lapic *apic = v->arch.apic;
	u32 lvt0 = GHOST_READ(*(u32 *)(apic->regs + APIC_LVT0));

	if (!(GHOST_READ(apic->base_address) & MSR_IA32_APICBASE_ENABLE))
		return true;
	return !(lvt0 & APIC_LVT_MASKED) && ((lvt0 >> 8) & 7) == 7;	/* APIC_MODE_EXTINT */
}

/* The vCPU pic_unlock() notifies: the first that accepts PIC interrupts. */
static struct kvm_vcpu *ghost_pic_target(struct kvm *kvm)
{
	int n = GHOST_READ(kvm->online_vcpus.counter);

	for (int i = 0; i < n; i++) {
		struct kvm_vcpu *v = GHOST_READ(kvm->vcpus[i]);

		if (v && ghost_accept_pic_intr(v))
			return v;
	}
	return NULL;
}

/*
 * The PIC's INTR is up for this vCPU and nothing will inject the ExtINT: no
 * raiser is between INTR and its kick, no KVM_REQ_EVENT is pending and no
 * IRQ window the CPU honours is open.
 */
static bool ghost_extint_stuck(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (!GHOST_READ(kvm->arch.vpic.output) || ghost_pic_target(kvm) != vcpu)
		return false;
	smp_mb();
	if (GHOST_READ(kvm->ghost_pic_raisers))
		return false;
	smp_mb();
	return !(GHOST_READ(vcpu->requests) & BIT(KVM_REQ_EVENT)) && !kvm_hw_irq_window_honoured(vcpu);
}

void ghost_check_delivery(struct kvm_vcpu *vcpu)
{
	int vec;

	if (ghost_extint_stuck(vcpu))
		KVM_REPORT(F_LOST_INTERRUPT,
			   "vcpu %d enters the guest with the PIC's INTR up for it, no KVM_REQ_EVENT and %s: nothing will inject the ExtINT",
			   vcpu->vcpu_idx,
			   vcpu->arch.ctrl.irq_window ? "an IRQ window (V_IRQ) that the CPU ignores with AVIC on" :
							"no IRQ window open");
	if (kvm_hw_virtual_intr(vcpu)) {
		u64 entry = GHOST_READ(vcpu->avic_physical_id_table_entry);

		if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM &&
		    (!(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK) ||
		     (entry & AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK) != (u64)kvm_cpu_get_apicid(rt_cpu())))
			KVM_REPORT(F_ISRUNNING_MISMATCH,
				   "vcpu %d enters the guest with AVIC on on cpu %d, but its physical ID entry says IsRunning=%d, host APIC ID %llu",
				   vcpu->vcpu_idx, rt_cpu(),
				   !!(entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK),
				   (unsigned long long)(entry & AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK));
		return;
	}
	/*
	 * IRR first, then the in-flight count, then the request: a sender
	 * counts itself, sets IRR, raises KVM_REQ_EVENT and uncounts itself in
	 * that order, so on real threads (stress) an IRR bit seen here is
	 * covered by one of the two later reads unless it is really lost.
	 */
	/*
	 * IRR only: a vector still in the PIR is harvested at a later entry or
	 * when the vCPU halts (kvm_vcpu_check_block()), and if it never is,
	 * the vCPU ends up halted with it pending (ghost_explain_stuck()).
	 */
	vec = kvm_apic_deliverable_vector(vcpu->arch.apic, NULL);
	smp_mb();
	if (vec < 0 || GHOST_READ(vcpu->ghost.deliveries))
		return;
	smp_mb();
	if (!(GHOST_READ(vcpu->requests) & BIT(KVM_REQ_EVENT)) && !kvm_hw_irq_window_honoured(vcpu))
		KVM_REPORT(F_LOST_INTERRUPT,
			   "vcpu %d enters the guest with vector 0x%x pending in IRR, %s off and no KVM_REQ_EVENT: nothing will deliver it (irr_pending %d, PPR 0x%x)",
			   vcpu->vcpu_idx, vec, vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "APICv",
			   GHOST_READ(vcpu->arch.apic->irr_pending), kvm_lapic_get_reg(vcpu->arch.apic, APIC_PROCPRI));
}

void ghost_check_block(struct kvm_vcpu *vcpu)
{
	u64 entry = GHOST_READ(vcpu->avic_physical_id_table_entry);

	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM && (entry & AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK))
		KVM_REPORT(F_ISRUNNING_MISMATCH,
			   "vcpu %d blocks with IsRunning=1 in its physical ID entry: AVIC IPIs to it ring a doorbell instead of exiting, and nothing wakes it",
			   vcpu->vcpu_idx);
}

enum kvm_finding ghost_explain_stuck(struct kvm *kvm, char *msg, size_t len, int *vcpu_idx)
{
	int n = kvm->online_vcpus.counter, off = 0;

	for (int i = 0; i < n; i++) {
		struct kvm_vcpu *v = kvm->vcpus[i];
		int vec;

		if (!v || !v->halted)
			continue;
		if (v->arch.rflags_if && ghost_extint_stuck(v)) {
			snprintf(msg, len, "vcpu %d is halted with the PIC's INTR up for it (an ExtINT, no KVM_REQ_EVENT) and nothing will wake it",
				 i);
			*vcpu_idx = i;
			return F_LOST_INTERRUPT;
		}
		vec = kvm_apic_deliverable_vector(v->arch.apic, v->pi_desc.pir);
		if (vec >= 0) {
			snprintf(msg, len,
				 "vcpu %d is halted with vector 0x%x pending in IRR or PIR (%s %s, no KVM_REQ_EVENT%s) and nothing will wake it",
				 i, vec, kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "APICv",
				 v->arch.apicv_active ? "on" : "off",
				 v->requests & BIT(KVM_REQ_EVENT) ? " (but one is pending)" : "");
			*vcpu_idx = i;
			return F_LOST_INTERRUPT;
		}
	}
	for (int i = 0; i < n && off < (int)len; i++) {
		struct kvm_vcpu *v = kvm->vcpus[i];

		if (v && v->halted && *vcpu_idx < 0)
			*vcpu_idx = i;
		if (v && v->halted)
			off += snprintf(msg + off, len - (size_t)off, "%svcpu %d is halted with no interrupt it can take (taken %u so far)",
					off ? "; " : "", i, v->arch.guest_irqs);
	}
	return F_DEADLOCK;
}

enum kvm_finding ghost_check_final(struct kvm *kvm, char *msg, size_t len, int *vcpu_idx)
{
	int n = kvm->online_vcpus.counter;

	for (int i = 0; i < n; i++) {
		struct kvm_vcpu *v = kvm->vcpus[i];
		int vec;

		if (!v || v->arch.apicv_active || (v->requests & BIT(KVM_REQ_EVENT)))
			continue;
		vec = kvm_apic_deliverable_vector(v->arch.apic, NULL);
		if (vec >= 0) {
			snprintf(msg, len,
				 "at the end of the run vcpu %d has vector 0x%x pending in IRR with %s off and no KVM_REQ_EVENT: its next KVM_RUN enters without delivering it",
				 i, vec, kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "APICv");
			*vcpu_idx = i;
			return F_LOST_INTERRUPT;
		}
	}
	return F_NONE;
}
