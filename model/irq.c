// SPDX-License-Identifier: GPL-2.0
/*
 * ExtINTs and interrupt windows: the in-kernel PIC's output (i8259.c), the
 * vCPU's view of it (irq.c), the IRQ window KVM opens when the guest cannot
 * take an interrupt now (svm.c: V_IRQ with the VINTR intercept, which the CPU
 * ignores while AVIC is enabled, so opening one inhibits AVIC; vmx.c: the
 * interrupt-window exiting control), and the refcounted IRQWIN inhibit
 * (x86.c kvm_inc_or_dec_irq_window_inhibit()).
 *
 * Sources, read through the search tools: i8259.c as of torvalds
 * b6a8323149c6, whose functions used here are unchanged in v6.15 but for
 * pic_irq_request() (4cad9f87876a, read in its mail); irq.c as of kvm-x86
 * f729851189d5 and torvalds 04c4ca0ae479 (v6.16: the same for the in-kernel
 * PIC); svm.c, vmx.c, lapic.c and x86.c as of kvm-x86/linux 1a27afa0511e,
 * which has 7b402ec851cb, 6563ddadd169 and 5617dddcfa30 (merged for v7.1);
 * for KVM_BUG_IRQWIN_NO_REFCOUNT, torvalds/linux f9d1b541d057, before that
 * series.  The series' mails: "[PATCH v2 0/4] KVM: SVM: Fix IRQ window
 * inhibit handling" (Jan-Mar 2026).
 *
 * The PIC is reduced to what reaches a vCPU (model/kvm.h struct kvm_pic):
 * edge-triggered lines on the master, auto-EOI, no mask; the IOAPIC pin of
 * the same ISA line is left out (masked, as a guest that uses the PIC leaves
 * it).  No GIF (always set: no nested guests), no interrupt shadow, no NMIs.
 */
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

/* ---- i8259.c ----------------------------------------------------------------- */

/* kvm_pic_init() (i8259.c v6.15; no newer full text read, v6.17 diffs change nothing here), the part the model keeps: the lock. */
void kvm_pic_init(struct kvm *kvm)
{
	spin_lock_init(&kvm->arch.vpic.lock);
}

/*
 * pic_get_irq() (i8259.c v6.15) for the master with no IMR and nothing in
 * service (auto-EOI) and priority_add 0: the lowest requested line, or -1.
 */
static int pic_get_irq(struct kvm_pic *s)
{
	for (int irq = 0; irq < 8; irq++)
		if (s->irr & BIT(irq))
			return irq;
	return -1;
}

/*
 * pic_irq_request() (i8259.c v6.15, 4cad9f87876a "Wake vCPU for PIC
 * interrupt injection iff a valid IRQ was found"; before it any update while
 * INTR was low woke the vCPU for nothing): INTR follows the request, and a
 * rising INTR needs a wake-up.  'output' is a plain store in the kernel that
 * vCPUs read without the lock (kvm_cpu_has_extint()); marked here so that
 * the model says so.
 */
static void pic_irq_request(struct kvm *kvm, int level)
{
	struct kvm_pic *s = &kvm->arch.vpic;

	if (!READ_ONCE(s->output) && level)
		s->wakeup_needed = true;
	WRITE_ONCE(s->output, level);
}

/* pic_update_irq() (i8259.c v6.15), master only. */
static void pic_update_irq(struct kvm *kvm)
{
	pic_irq_request(kvm, pic_get_irq(&kvm->arch.vpic) >= 0);
}

/* pic_set_irq1() (i8259.c v6.15), an edge-triggered line: 1 if the request is new. */
static int pic_set_irq1(struct kvm_pic *s, int irq, int level)
{
	u8 mask = (u8)BIT(irq);
	int ret = 1;

	if (level) {
		if ((s->last_irr & mask) == 0) {
			ret = !(s->irr & mask);
			s->irr |= mask;
		}
		s->last_irr |= mask;
	} else {
		s->last_irr &= (u8)~mask;
	}
	return ret;
}

/*
 * pic_unlock() (i8259.c v6.15): after a wake-up request,
 * KVM_REQ_EVENT and a kick for the first vCPU that accepts PIC interrupts.
 */
static void pic_unlock(struct kvm *kvm)
{
	struct kvm_pic *s = &kvm->arch.vpic;
	bool wakeup = s->wakeup_needed;
	struct kvm_vcpu *vcpu;
	int i;

	s->wakeup_needed = false;

	spin_unlock(&s->lock);

	if (wakeup) {
		kvm_for_each_vcpu(i, vcpu, kvm) {
			if (kvm_apic_accept_pic_intr(vcpu)) {
				kvm_make_request(KVM_REQ_EVENT, vcpu);
				kvm_vcpu_kick(vcpu);
				return;
			}
		}
	}
}

/*
 * kvm_pic_set_irq() (i8259.c v6.15), one source.  The ghost count covers the
 * raiser from INTR's rise to its kick (ghost_check_delivery()).
 */
int kvm_pic_set_irq(struct kvm *kvm, int irq, int level)
{
	struct kvm_pic *s = &kvm->arch.vpic;
	int ret;

	if (level)
		GHOST_ADD(kvm->ghost_pic_raisers, 1);
	spin_lock(&s->lock);
	ret = pic_set_irq1(s, irq, level);
	pic_update_irq(kvm);
	kvm_trace(EV_PIC, irq, level, READ_ONCE(s->output), 0);
	pic_unlock(kvm);
	if (level)
		GHOST_ADD(kvm->ghost_pic_raisers, (u32)-1);
	return ret;
}

/*
 * kvm_pic_read_irq() (i8259.c v6.15), the INTA cycle: the vector of the
 * highest-priority request (an edge: its IRR bit is cleared; auto-EOI: no
 * ISR), or the spurious IRQ 7 if another vCPU took it first.  INTR is
 * dropped before the lock, as in the kernel.
 */
int kvm_pic_read_irq(struct kvm *kvm)
{
	struct kvm_pic *s = &kvm->arch.vpic;
	int irq;

	WRITE_ONCE(s->output, 0);

	spin_lock(&s->lock);
	irq = pic_get_irq(s);
	if (irq >= 0)
		s->irr &= (u8)~BIT(irq);	/* pic_intack(): edge, auto-EOI */
	else
		irq = 7;			/* spurious IRQ on host controller */
	pic_update_irq(kvm);
	kvm_trace(EV_PIC, irq, 2, READ_ONCE(s->output), KVM_PIC_IRQ_BASE + irq);
	pic_unlock(kvm);
	return KVM_PIC_IRQ_BASE + irq;
}

/* ---- irq.c -------------------------------------------------------------------- */

/* kvm_cpu_has_extint() (irq.c v7.2, as v6.16), in-kernel irqchip: the PIC's INTR, if it reaches this vCPU. */
bool kvm_cpu_has_extint(struct kvm_vcpu *v)
{
	if (!kvm_apic_accept_pic_intr(v))
		return false;
	return READ_ONCE(v->kvm->arch.vpic.output);
}

/* kvm_cpu_get_extint() (irq.c v7.2, as v6.16): the PIC's vector, or -1. */
static int kvm_cpu_get_extint(struct kvm_vcpu *v)
{
	if (!kvm_cpu_has_extint(v))
		return -1;
	return kvm_pic_read_irq(v->kvm);	/* PIC */
}

/*
 * kvm_cpu_has_injectable_intr() (irq.c v7.2, as v6.16; no nested guests): with APICv
 * active the CPU delivers LAPIC interrupts itself (virtual interrupt delivery
 * at VM entry), so only an ExtINT is KVM's to inject.
 */
bool kvm_cpu_has_injectable_intr(struct kvm_vcpu *v)
{
	if (kvm_cpu_has_extint(v))
		return true;
	if (kvm_vcpu_apicv_active(v))
		return false;
	return kvm_apic_has_interrupt(v->arch.apic);	/* LAPIC */
}

/*
 * kvm_cpu_get_interrupt() (irq.c v7.2, as v6.16): the PIC's vector first, else the
 * LAPIC's (kvm_get_apic_interrupt(): IRR -> ISR).
 */
int kvm_cpu_get_interrupt(struct kvm_vcpu *v)
{
	int vector = kvm_cpu_get_extint(v);

	if (vector != -1)
		return vector;			/* PIC */
	return kvm_apic_accept_interrupt(v->arch.apic);	/* APIC */
}

/* ---- x86.c: the IRQWIN inhibit --------------------------------------------------- */

/*
 * kvm_inc_or_dec_irq_window_inhibit() (x86.c v7.1: 6563ddadd169 with
 * 5617dddcfa30): count the vCPUs with an IRQ window open.  If another
 * reason already inhibits APICv, only the count changes, under the read
 * side: __kvm_set_or_clear_apicv_inhibit() folds the count into
 * IRQWIN whenever it runs.  Otherwise the 0 <-> 1 transitions set or clear
 * IRQWIN under the write side.
 */
void kvm_inc_or_dec_irq_window_inhibit(struct kvm *kvm, bool inc)
{
	int add = inc ? 1 : -1;

	if (!kvm->cfg.enable_apicv)
		return;

	if (READ_ONCE(kvm->arch.apicv_inhibit_reasons) & ~BIT(APICV_INHIBIT_REASON_IRQWIN)) {
		down_read(&kvm->arch.apicv_update_lock);
		if (READ_ONCE(kvm->arch.apicv_inhibit_reasons) & ~BIT(APICV_INHIBIT_REASON_IRQWIN)) {
			atomic_add(add, &kvm->arch.apicv_nr_irq_window_req);
			kvm_trace(EV_IRQ_WINDOW, (u64)-1, inc, IRQWIN_COUNT_LAZY,
				  (u64)atomic_read(&kvm->arch.apicv_nr_irq_window_req));
			up_read(&kvm->arch.apicv_update_lock);
			return;
		}
		up_read(&kvm->arch.apicv_update_lock);
	}

	down_write(&kvm->arch.apicv_update_lock);
	if (atomic_add_return(add, &kvm->arch.apicv_nr_irq_window_req) == (int)inc)
		__kvm_set_or_clear_apicv_inhibit(kvm, APICV_INHIBIT_REASON_IRQWIN, inc);
	kvm_trace(EV_IRQ_WINDOW, (u64)-1, inc, IRQWIN_COUNT,
		  (u64)atomic_read(&kvm->arch.apicv_nr_irq_window_req));
	up_write(&kvm->arch.apicv_update_lock);
}

/* ---- svm.c -------------------------------------------------------------------------- */

/*
 * svm_set_vintr() (svm.c v7.1): the dummy V_IRQ whose
 * intercept is the window.  Its WARN_ON(kvm_vcpu_apicv_activated()) is the
 * 'irq-window-ignored' finding: "The following fields are ignored when AVIC
 * is enabled".
 */
static void svm_set_vintr(struct kvm_vcpu *vcpu)
{
	if (kvm_vcpu_apicv_activated(vcpu))
		KVM_REPORT(F_IRQ_WINDOW_IGNORED,
			   "vcpu %d: svm_set_vintr()'s WARN_ON(kvm_vcpu_apicv_activated()): it opens an IRQ window "
			   "(V_IRQ) with no inhibit in force, and with AVIC on the CPU ignores V_IRQ",
			   vcpu->vcpu_idx);
	vcpu->arch.ctrl.irq_window = true;	/* INTERCEPT_VINTR, V_IRQ | V_IGN_TPR */
	kvm_trace(EV_IRQ_WINDOW, vcpu->vcpu_idx, 1, IRQWIN_VINTR, 0);
}

/* svm_clear_vintr() (svm.c v7.1; no nested guests). */
static void svm_clear_vintr(struct kvm_vcpu *vcpu)
{
	vcpu->arch.ctrl.irq_window = false;
	kvm_trace(EV_IRQ_WINDOW, vcpu->vcpu_idx, 0, IRQWIN_VINTR, 0);
}

/*
 * svm_enable_irq_window() (svm.c v7.1; GIF always set, no
 * nested guests).  Before 6563ddadd169 (KVM_BUG_IRQWIN_NO_REFCOUNT) every
 * window set the VM-wide IRQWIN reason, which the first window exit on any
 * vCPU cleared.
 */
static void svm_enable_irq_window(struct kvm_vcpu *vcpu)
{
	if (kvm_bug(vcpu->kvm, KVM_BUG_IRQWIN_NO_REFCOUNT)) {
		kvm_set_apicv_inhibit(vcpu->kvm, APICV_INHIBIT_REASON_IRQWIN);
	} else if (vcpu->kvm->cfg.enable_apicv && !vcpu->arch.avic_irq_window) {
		vcpu->arch.avic_irq_window = true;
		kvm_inc_or_dec_irq_window_inhibit(vcpu->kvm, true);	/* kvm_inc_apicv_irq_window_req() */
	}
	svm_set_vintr(vcpu);
}

/*
 * svm_inject_irq() (svm.c v7.1), the IRQ window part: the
 * window has served its purpose once nothing else is injectable.
 */
static void svm_inject_irq(struct kvm_vcpu *vcpu)
{
	if (kvm_bug(vcpu->kvm, KVM_BUG_IRQWIN_NO_REFCOUNT))
		return;
	if (vcpu->arch.avic_irq_window && !kvm_cpu_has_injectable_intr(vcpu)) {
		vcpu->arch.avic_irq_window = false;
		kvm_inc_or_dec_irq_window_inhibit(vcpu->kvm, false);	/* kvm_dec_apicv_irq_window_req() */
	}
}

/*
 * interrupt_window_interception() (svm.c v7.1).  Before
 * 7b402ec851cb it also cleared IRQWIN here, "for AVIC, the only reason to
 * end up here is ExtINTs" (torvalds f9d1b541d057, KVM_BUG_IRQWIN_NO_REFCOUNT).
 */
static int interrupt_window_interception(struct kvm_vcpu *vcpu)
{
	kvm_make_request(KVM_REQ_EVENT, vcpu);
	svm_clear_vintr(vcpu);
	if (kvm_bug(vcpu->kvm, KVM_BUG_IRQWIN_NO_REFCOUNT))
		kvm_clear_apicv_inhibit(vcpu->kvm, APICV_INHIBIT_REASON_IRQWIN);
	return 1;
}

/* ---- vmx.c -------------------------------------------------------------------------- */

/* vmx_enable_irq_window() (vmx.c v7.1). */
static void vmx_enable_irq_window(struct kvm_vcpu *vcpu)
{
	vcpu->arch.ctrl.irq_window = true;	/* CPU_BASED_INTR_WINDOW_EXITING */
	kvm_trace(EV_IRQ_WINDOW, vcpu->vcpu_idx, 1, IRQWIN_VMX, 0);
}

/* handle_interrupt_window() (vmx.c v7.1). */
static int handle_interrupt_window(struct kvm_vcpu *vcpu)
{
	vcpu->arch.ctrl.irq_window = false;
	kvm_trace(EV_IRQ_WINDOW, vcpu->vcpu_idx, 0, IRQWIN_VMX, 0);
	kvm_make_request(KVM_REQ_EVENT, vcpu);
	return 1;
}

/* ---- the kvm_x86_ops hooks ----------------------------------------------------------- */

/*
 * kvm_x86_ops.interrupt_allowed (svm_interrupt_allowed() / vmx_interrupt_allowed(),
 * v7.1): RFLAGS.IF; GIF is always set and there is no interrupt shadow or
 * nested guest in the model.
 */
bool kvm_x86_interrupt_allowed(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.rflags_if;
}

void kvm_x86_enable_irq_window(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		svm_enable_irq_window(vcpu);
	else
		vmx_enable_irq_window(vcpu);
}

void kvm_x86_inject_irq(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		svm_inject_irq(vcpu);
}

int kvm_x86_irq_window_exit(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		return interrupt_window_interception(vcpu);
	return handle_interrupt_window(vcpu);
}
