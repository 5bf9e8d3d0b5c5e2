/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The model's tracepoints, named after KVM's (arch/x86/kvm/trace.h,
 * mmu/mmutrace.h) where one exists.  They are the lines of every timeline
 * kvmlab prints: stress-run thread rings and checker counterexamples share
 * kvm_event_format().  Ghost-only; tracing never changes model state.
 */
#ifndef KVMLAB_MODEL_TRACE_H
#define KVMLAB_MODEL_TRACE_H

#include <stddef.h>

#include "kernel/prim.h"

enum kvm_event_type {
	EV_NONE,
	EV_ENTRY,		/* kvm_entry: a = vcpu, b = rip */
	EV_EXIT,		/* kvm_exit: a = vcpu, b = reason, c = gpa, d = info */
	EV_PAGE_FAULT,		/* kvm_page_fault: a = vcpu, b = gpa, c = error code */
	EV_MMU_SEQ_SNAPSHOT,	/* kvm_mmu_faultin_pfn read mmu_invalidate_seq: a = vcpu, b = seq */
	EV_FAULTIN_APIC,	/* kvm_mmu_faultin_pfn APIC check: a = vcpu, b = policy, c = vm_active | vcpu_active << 1, d = ret | no slot << 8 */
	EV_FAULT_STALE,		/* is_page_fault_stale: a = vcpu, b = snapshot, c = seq, d = gfn << 16 | in_progress << 1 | stale */
	EV_FAULT_RET,		/* page fault result: a = vcpu, b = RET_PF_* */
	EV_SPTE_SET,		/* kvm_mmu_set_spte: a = vcpu, b = gfn, c = new spte, d = old */
	EV_SPTE_ZAP,		/* zap of a present leaf: a = gfn, b = old spte */
	EV_ZAP_GFN_RANGE,	/* kvm_zap_gfn_range: a = start, b = end */
	EV_ZAP_YIELD,		/* mmu_lock yielded mid-zap: a = next gfn, b = the level of the SPTE it was at */
	EV_INVALIDATE_BEGIN,	/* a = in_progress after, b = range start, c = range end */
	EV_INVALIDATE_END,	/* a = old seq, b = new seq, c = in_progress after */
	EV_INHIBIT_CHANGED,	/* kvm_apicv_inhibit_changed: a = reason, b = set, c = old, d = new */
	EV_APICV_UPDATE,	/* kvm_vcpu_update_apicv: a = vcpu, b = old active, c = new active */
	EV_REQUEST,		/* kvm_make_request: a = vcpu, b = request number */
	EV_REQUEST_SERVICE,	/* kvm_check_request true: a = vcpu, b = request number */
	EV_KICK,		/* kvm_vcpu_exiting_guest_mode: a = vcpu, b = old mode, c = ipi needed */
	EV_IPI_WAIT,		/* smp_call_function_many wait done: a = cpu mask */
	EV_MODE,		/* vcpu->mode store: a = vcpu, b = new mode */
	EV_APIC_ACCESS,		/* guest APIC access retired: a = vcpu, b = off|len<<16|write<<31, c = value, d = path */
	EV_MEM_ACCESS,		/* guest RAM access retired: a = vcpu, b = gpa, c = value, d = write */
	EV_MMIO_FAULT,		/* handle_mmio_page_fault: a = vcpu, b = gpa, c = ret */
	EV_HALT,		/* a = vcpu, b = 1 halted / 0 woken */
	EV_VCPU_CREATE,		/* kvm_vm_ioctl_create_vcpu: a = vcpu, b = apicv_active, c = online */
	EV_ACTOR_OP,		/* actor script op: a = actor, b = kind, c, d = operands */
	EV_FINDING,		/* a = enum kvm_finding */
	EV_NOTE,		/* ghost observation for witnesses: a = enum kvm_note, b = vcpu, c = gfn */
	EV_AVIC_RUNNING,	/* physical ID table entry written: a = vcpu, b = IsRunning, c = host id, d = blocking */
	EV_DOORBELL,		/* avic_ring_doorbell (c = 0) / PI notification (c = 1): a = vcpu, b = host APIC id */
	EV_APICV_ACCEPT_IRQ,	/* kvm_apicv_accept_irq: a = vcpu, b = vector, c = target in guest mode */
	EV_AVIC_KICK,		/* avic_kick_target_vcpus: a = source vcpu, b = icrl, c = icrh */
	EV_INTR,		/* the guest takes an interrupt: a = vcpu, b = vector, c = enum intr_path */
	EV_AVIC_IPI,		/* AVIC hardware IPI: a = source vcpu, b = target vcpu, c = vector, d = IsRunning */
	EV_PREEMPT,		/* kvm_sched_out (b = 1) / kvm_sched_in (b = 0): a = vcpu, c = blocking, d = cpu */
	EV_TLB_FLUSH,		/* the vCPU's CPU dropped its cached translations: a = vcpu, b = enum tlb_flush_why, c = entries dropped */
	EV_APIC_BASE,		/* __kvm_apic_set_base: a = vcpu, b = old IA32_APIC_BASE, c = new */
	EV_CR8,			/* guest MOV to/from CR8 retired: a = vcpu, b = value, c = write, d = enum apic_path */
	EV_CR8_INTERCEPT,	/* SVM CR8 write intercept changed: a = vcpu, b = on, c = enum cr8_intercept_by, d = TPR | (IRR + 1) << 8 */
	EV_PIC,			/* the PIC: a = IRQ line, b = level 1/0 (kvm_pic_set_irq) or 2 (INTA), c = INTR after, d = vector (INTA) */
	EV_IRQ_WINDOW,		/* IRQ window: a = vcpu (-1: the VM's count), b = open/inc, c = enum irq_window_by, d = count after */
	EV_RFLAGS_IF,		/* guest cli/sti retired: a = vcpu, b = RFLAGS.IF after */
	EV_MEMSLOT_DELETE,	/* kvm_set_memslot(KVM_MR_DELETE): a = slot id, b = base gfn */
	/*
	 * A primitive operation, logged only by check --verbose's replay:
	 * a = enum prim_kind << 16 | op << 8 | size, b = address (the lock for
	 * a lock), c = value (read, written, waited for), d = the model's pc.
	 */
	EV_PRIM,
	EV_NR_TYPES
};

/* Ghost observations the witnesses of the seed's case analysis look for. */
enum kvm_note {
	NOTE_APIC_SPTE_WHILE_INHIBITED,	/* an APIC SPTE installed while the VM is inhibited */
	NOTE_SNAPSHOT_AFTER_ZAP,	/* an APIC fault snapshots mmu_seq after the APIC zap, vCPU still active */
};

/* How an APIC access was served (EV_APIC_ACCESS d). */
enum apic_path {
	APIC_PATH_EMULATED,	/* x86_emulate_instruction -> apic_mmio_* */
	APIC_PATH_ACCEL,	/* served by AVIC / APICv hardware from the register page */
	APIC_PATH_TRAP,		/* hardware wrote the page, then an APIC-write/trap exit */
	APIC_PATH_DUMMY,	/* went through the SPTE to the dummy page: the hazard */
	APIC_PATH_DISABLED,	/* APIC hardware-disabled: the SPTE's page as plain memory, no APIC access */
};

/* How the guest took an interrupt (EV_INTR c). */
enum intr_path {
	INTR_INJECTED,		/* KVM injected it (kvm_check_and_inject_events) */
	INTR_VMRUN,		/* AVIC / APICv evaluated the IRR at VM entry */
	INTR_DOORBELL,		/* AVIC evaluated the IRR on a doorbell while in the guest */
	INTR_EOI,		/* VMX evaluated the IRR after a virtualized EOI */
	INTR_TPR,		/* AVIC / APICv evaluated the IRR after the guest lowered its TPR */
	INTR_STI,		/* AVIC / APICv evaluated the IRR when the guest set RFLAGS.IF */
};

/* What changed an IRQ window (EV_IRQ_WINDOW c). */
enum irq_window_by {
	IRQWIN_VINTR,		/* SVM: svm_set_vintr() / svm_clear_vintr() */
	IRQWIN_VMX,		/* VMX: CPU_BASED_INTR_WINDOW_EXITING set / cleared */
	IRQWIN_COUNT,		/* kvm_inc_or_dec_irq_window_inhibit(), under the write side */
	IRQWIN_COUNT_LAZY,	/* ... under the read side: another reason inhibits (5617dddcfa30) */
};

/* Why a TLB was flushed (EV_TLB_FLUSH b). */
enum tlb_flush_why {
	TLB_FLUSH_INVEPT,	/* VMX: INVEPT (vmx_flush_tlb_all / _current) */
	TLB_FLUSH_VMRUN,	/* SVM: tlb_ctl = TLB_CONTROL_FLUSH_ASID (done when KVM asks: kvm_x86_flush_tlb_all()) */
	TLB_FLUSH_NEW_ASID,	/* SVM: VMRUN on another pCPU: pre_svm_run() assigned a new ASID */
};

/* EV_PRIM's kinds. */
/*
 * PRIM_SB_STORE / PRIM_SB_FLUSH (--memory-model tso, logged in every
 * timeline): a store (op RT_STORE) or a lock release (op 0x80 | mode)
 * entering the store buffer, and leaving it for memory; b = address,
 * c = value, d = the pc of the store.  PRIM_SB_LOAD: a marked load made
 * while the CPU's buffer holds stores (op: how many; 0x80 set when one of
 * them forwards to it), the reordering x86-TSO allows.
 */
enum prim_kind {
	PRIM_ACCESS = 1, PRIM_LOCK, PRIM_UNLOCK, PRIM_WAIT, PRIM_FENCE, PRIM_SB_STORE, PRIM_SB_FLUSH, PRIM_SB_LOAD
};
#define PRIM_SB_UNLOCK 0x80

void kvm_event_format(const struct kvm_event *ev, char *buf, size_t len);
/*
 * The event's name: the kernel tracepoint or function it stands for
 * ("kvm_exit", "kvm_mmu_faultin_pfn"), or the model's ("guest_intr", "finding").
 */
const char *kvm_event_name(u16 type);
const char *kvm_exit_reason_name(u32 reason);
const char *kvm_ret_pf_name(int r);
const char *kvm_mode_name(int mode);

#endif
