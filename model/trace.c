// SPDX-License-Identifier: GPL-2.0
/*
 * Formatting of tracepoint events into timeline lines, styled after the
 * kernel's tracepoints (kvm_entry, kvm_exit, kvm_page_fault, ...).
 */
#include <stdio.h>

#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

static const char *const exit_names[] = {
	[EXIT_NONE] = "none",		  [EXIT_NPF] = "NPF",
	[EXIT_MMIO_SPTE] = "MMIO_SPTE",	  [EXIT_APIC_ACCESS] = "APIC_ACCESS",
	[EXIT_APIC_WRITE] = "APIC_WRITE", [EXIT_EXTINT] = "EXTERNAL_INTERRUPT",
	[EXIT_HLT] = "HLT",		  [EXIT_DONE] = "DONE",
	[EXIT_AVIC_INCOMPLETE_IPI] = "AVIC_INCOMPLETE_IPI", [EXIT_WRMSR] = "MSR_WRITE",
	[EXIT_CR8_WRITE] = "CR8_WRITE",	  [EXIT_TPR_BELOW_THRESHOLD] = "TPR_BELOW_THRESHOLD",
	[EXIT_IRQ_WINDOW] = "IRQ_WINDOW",
};

const char *kvm_exit_reason_name(u32 reason)
{
	return reason < ARRAY_SIZE(exit_names) ? exit_names[reason] : "?";
}

const char *kvm_ret_pf_name(int r)
{
	static const char *const n[] = { "RET_PF_RETRY", "RET_PF_EMULATE", "RET_PF_INVALID",
					 "RET_PF_FIXED", "RET_PF_SPURIOUS", "RET_PF_CONTINUE" };

	return r >= 0 && r < (int)ARRAY_SIZE(n) ? n[r] : "error";
}

const char *kvm_mode_name(int mode)
{
	static const char *const n[] = { "OUTSIDE_GUEST_MODE", "IN_GUEST_MODE",
					 "EXITING_GUEST_MODE", "READING_SHADOW_PAGE_TABLES" };

	return mode >= 0 && mode < (int)ARRAY_SIZE(n) ? n[mode] : "?";
}

static const char *req_name(u64 nr)
{
	switch (nr) {
	case KVM_REQ_TLB_FLUSH & KVM_REQUEST_MASK: return "KVM_REQ_TLB_FLUSH";
	case KVM_REQ_MMU_RELOAD & KVM_REQUEST_MASK: return "KVM_REQ_MMU_RELOAD";
	case KVM_REQ_UNBLOCK: return "KVM_REQ_UNBLOCK";
	case KVM_REQ_EVENT: return "KVM_REQ_EVENT";
	case KVM_REQ_APICV_UPDATE & KVM_REQUEST_MASK: return "KVM_REQ_APICV_UPDATE";
	case KVM_REQ_TLB_FLUSH_CURRENT & KVM_REQUEST_MASK: return "KVM_REQ_TLB_FLUSH_CURRENT";
	}
	return "KVM_REQ_?";
}

static const char *const path_names[] = {
	[APIC_PATH_EMULATED] = "emulated", [APIC_PATH_ACCEL] = "accelerated",
	[APIC_PATH_TRAP] = "trap", [APIC_PATH_DUMMY] = "DUMMY PAGE",
	[APIC_PATH_DISABLED] = "APIC disabled: plain memory",
};

static const char *const actor_op_names[] = {
	[AOP_INHIBIT_SET] = "set inhibit", [AOP_INHIBIT_CLEAR] = "clear inhibit",
	[AOP_ZAP] = "zap", [AOP_CREATE_VCPU] = "create vcpu", [AOP_MSI] = "msi",
	[AOP_PIC_IRQ] = "pic irq",
};

static void apic_reg_str(u32 off, char *buf, size_t len)
{
	const char *n = lapic_reg_name(off & 0xff0);

	if (n && !(off & 0xf))
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "0x%03x", off);
}

/* EV_PRIM: "load 4 [0x...] -> 0x1", "lock kvm->mmu_lock (exclusive)", "wait until [0x...] != 0x3". */
static void kvm_prim_format(const struct kvm_event *ev, char *buf, size_t len)
{
	static const char *const ops[] = { "load", "store", "xchg", "cmpxchg", "add", "or", "andnot" };
	static const char *const cmps[] = { "==", "!=", "& (clear)" };
	static const char *const fences[] = { "smp_mb", "smp_rmb", "smp_wmb" };
	unsigned kind = (unsigned)(ev->a >> 16), op = (unsigned)(ev->a >> 8) & 0xff, size = (unsigned)ev->a & 0xff;
	const struct rt_lock *l = (const struct rt_lock *)(uintptr_t)ev->b;

	switch (kind) {
	case PRIM_ACCESS:
		snprintf(buf, len, "%s %u [%#llx] %s %#llx", op < ARRAY_SIZE(ops) ? ops[op] : "?", size,
			 (unsigned long long)ev->b, op == RT_LOAD ? "->" : "=", (unsigned long long)ev->c);
		break;
	case PRIM_LOCK:
	case PRIM_UNLOCK:
		snprintf(buf, len, "%s %s (%s)", kind == PRIM_LOCK ? "lock" : "unlock",
			 l && l->name ? l->name : "a lock", op == LM_EXCL ? "exclusive" : "shared");
		break;
	case PRIM_WAIT:
		snprintf(buf, len, "wait until %u [%#llx] %s %#llx", size, (unsigned long long)ev->b,
			 op < ARRAY_SIZE(cmps) ? cmps[op] : "?", (unsigned long long)ev->c);
		break;
	case PRIM_FENCE:
		snprintf(buf, len, "%s", op < ARRAY_SIZE(fences) ? fences[op] : "fence");
		break;
	case PRIM_SB_LOAD:
		snprintf(buf, len, "load %u [%#llx] -> %#llx %s %u buffered store%s", size,
			 (unsigned long long)ev->b, (unsigned long long)ev->c,
			 (op & PRIM_SB_UNLOCK) ? "forwarded from its" : "ahead of its", op & 0x7f,
			 (op & 0x7f) == 1 ? "" : "s");
		break;
	case PRIM_SB_STORE:
	case PRIM_SB_FLUSH:
		if (op & PRIM_SB_UNLOCK)
			snprintf(buf, len, "%s unlock %s (%s)",
				 kind == PRIM_SB_STORE ? "store buffer <-" : "store buffer -> memory:",
				 l && l->name ? l->name : "a lock", (op & 1) == LM_EXCL ? "exclusive" : "shared");
		else
			snprintf(buf, len, "%s store %u [%#llx] = %#llx",
				 kind == PRIM_SB_STORE ? "store buffer <-" : "store buffer -> memory:", size,
				 (unsigned long long)ev->b, (unsigned long long)ev->c);
		break;
	default:
		snprintf(buf, len, "primitive %u", kind);
	}
}

void kvm_event_format(const struct kvm_event *ev, char *buf, size_t len)
{
	char reg[16], at[48];

	switch (ev->type) {
	case EV_ENTRY:
		snprintf(buf, len, "kvm_entry: vcpu %llu rip %llu", (unsigned long long)ev->a,
			 (unsigned long long)ev->b);
		break;
	case EV_EXIT:
		snprintf(buf, len, "kvm_exit: vcpu %llu reason %s gpa 0x%llx info 0x%llx",
			 (unsigned long long)ev->a, kvm_exit_reason_name(ev->b),
			 (unsigned long long)ev->c, (unsigned long long)ev->d);
		break;
	case EV_PAGE_FAULT:
		snprintf(buf, len, "kvm_page_fault: vcpu %llu gpa 0x%llx error_code 0x%llx",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c);
		break;
	case EV_MMU_SEQ_SNAPSHOT:
		snprintf(buf, len, "kvm_mmu_faultin_pfn: vcpu %llu mmu_seq = mmu_invalidate_seq (%llu)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b);
		break;
	case EV_FAULTIN_APIC:
		snprintf(buf, len,
			 "kvm_mmu_faultin_pfn: vcpu %llu APIC slot, %s says %s (VM %s, vCPU %s) -> %s",
			 (unsigned long long)ev->a,
			 ev->b == KVM_POLICY_VM ? "kvm_apicv_activated(kvm)" : "kvm_vcpu_apicv_active(vcpu)",
			 ((ev->b == KVM_POLICY_VM ? ev->c : ev->c >> 1) & 1) ? "active" : "inactive",
			 (ev->c & 1) ? "active" : "inhibited", (ev->c & 2) ? "active" : "inactive",
			 (ev->d >> 8) ? "kvm_handle_noslot_fault(): an MMIO SPTE" :
			 ev->d == RET_PF_CONTINUE ? "map the APIC-access page" : kvm_ret_pf_name((int)ev->d));
		break;
	case EV_FAULT_STALE:
		snprintf(buf, len,
			 "is_page_fault_stale: vcpu %llu gfn 0x%llx mmu_seq %llu vs mmu_invalidate_seq %llu, in_progress %llu -> %s",
			 (unsigned long long)ev->a, (unsigned long long)(ev->d >> 16),
			 (unsigned long long)ev->b, (unsigned long long)ev->c,
			 (unsigned long long)((ev->d >> 1) & 0x7fff),
			 (ev->d & 1) ? "stale, RET_PF_RETRY" : "not stale");
		break;
	case EV_FAULT_RET:
		snprintf(buf, len, "kvm_mmu_page_fault: vcpu %llu -> %s", (unsigned long long)ev->a,
			 kvm_ret_pf_name((int)ev->b));
		break;
	case EV_SPTE_SET:
		snprintf(buf, len, "kvm_mmu_set_spte: vcpu %llu gfn 0x%llx spte 0x%llx (was 0x%llx)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c, (unsigned long long)ev->d);
		break;
	case EV_SPTE_ZAP:
		snprintf(buf, len, "kvm_tdp_mmu_spte_changed: gfn 0x%llx spte 0x%llx -> 0 (zapped)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b);
		break;
	case EV_ZAP_GFN_RANGE:
		snprintf(buf, len, "kvm_zap_gfn_range: [0x%llx, 0x%llx)", (unsigned long long)ev->a,
			 (unsigned long long)ev->b);
		break;
	case EV_ZAP_YIELD:
		snprintf(buf, len, "tdp_mmu_iter_cond_resched: yield mmu_lock before gfn 0x%llx (level %llu)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b);
		break;
	case EV_INVALIDATE_BEGIN:
		snprintf(buf, len, "kvm_mmu_invalidate_start: in_progress %llu range [0x%llx, 0x%llx)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c);
		break;
	case EV_INVALIDATE_END:
		snprintf(buf, len, "kvm_mmu_invalidate_end: mmu_invalidate_seq %llu -> %llu, in_progress %llu",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c);
		break;
	case EV_INHIBIT_CHANGED:
		snprintf(buf, len, "kvm_apicv_inhibit_changed: reason %s %s, inhibits 0x%llx -> 0x%llx",
			 kvm_inhibit_name((int)ev->a), ev->b ? "set" : "cleared",
			 (unsigned long long)ev->c, (unsigned long long)ev->d);
		break;
	case EV_APICV_UPDATE:
		snprintf(buf, len, "kvm_vcpu_update_apicv: vcpu %llu apicv_active %llu -> %llu",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c);
		break;
	case EV_REQUEST:
		snprintf(buf, len, "kvm_make_request: vcpu %llu %s", (unsigned long long)ev->a,
			 req_name(ev->b));
		break;
	case EV_REQUEST_SERVICE:
		snprintf(buf, len, "kvm_check_request: vcpu %llu services %s",
			 (unsigned long long)ev->a, req_name(ev->b));
		break;
	case EV_KICK:
		snprintf(buf, len, "kvm_vcpu_exiting_guest_mode: vcpu %llu was %s%s",
			 (unsigned long long)ev->a, kvm_mode_name((int)ev->b),
			 ev->c ? ", IPI" : ", no IPI");
		break;
	case EV_IPI_WAIT:
		snprintf(buf, len, "smp_call_function_many: acknowledged by cpus 0x%llx",
			 (unsigned long long)ev->a);
		break;
	case EV_MODE:
		snprintf(buf, len, "vcpu %llu mode = %s", (unsigned long long)ev->a,
			 kvm_mode_name((int)ev->b));
		break;
	case EV_APIC_ACCESS:
		apic_reg_str(ev->b & 0xfff, reg, sizeof(reg));
		/*
		 * b: offset, length << 16, "not at the vCPU's APIC base" << 30,
		 * write << 31, the page's gfn << 32.  The address is shown for
		 * an access away from the default base or from the APIC.
		 */
		at[0] = 0;
		if ((ev->b >> 30 & 1) || ((ev->b >> 32) && (ev->b >> 32) != APIC_DEFAULT_PHYS_BASE >> PAGE_SHIFT))
			snprintf(at, sizeof(at), " at 0x%llx%s",
				 (unsigned long long)((ev->b >> 32) << PAGE_SHIFT | (ev->b & 0xfff)),
				 (ev->b >> 30 & 1) ? " (no APIC there)" : "");
		snprintf(buf, len, "kvm_apic: vcpu %llu apic_%s %s%s%s 0x%llx (%s)",
			 (unsigned long long)ev->a, (ev->b >> 31 & 1) ? "write" : "read", reg,
			 ((ev->b >> 16) & 0xff) != 4 ? "/byte" : "", at, (unsigned long long)ev->c,
			 ev->d < ARRAY_SIZE(path_names) ? path_names[ev->d] : "?");
		break;
	case EV_MEM_ACCESS:
		snprintf(buf, len, "guest: vcpu %llu mem_%s gpa 0x%llx value 0x%llx",
			 (unsigned long long)ev->a, ev->d ? "write" : "read",
			 (unsigned long long)ev->b, (unsigned long long)ev->c);
		break;
	case EV_MMIO_FAULT:
		snprintf(buf, len, "handle_mmio_page_fault: vcpu %llu gpa 0x%llx -> %s",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 kvm_ret_pf_name((int)ev->c));
		break;
	case EV_HALT:
		snprintf(buf, len, "kvm_vcpu_%s: vcpu %llu", ev->b ? "block" : "wakeup",
			 (unsigned long long)ev->a);
		break;
	case EV_VCPU_CREATE:
		snprintf(buf, len, "kvm_vm_ioctl_create_vcpu: vcpu %llu apicv_active %llu online %llu",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c);
		break;
	case EV_ACTOR_OP:
		if (ev->b == AOP_INHIBIT_SET || ev->b == AOP_INHIBIT_CLEAR)
			snprintf(buf, len, "vmm: %s %s", actor_op_names[ev->b],
				 kvm_inhibit_name((int)ev->c));
		else if (ev->b == AOP_MSI)
			snprintf(buf, len, "vmm: KVM_SIGNAL_MSI vector 0x%llx to APIC ID %llu",
				 (unsigned long long)ev->d, (unsigned long long)ev->c);
		else if (ev->b == AOP_PIC_IRQ)
			snprintf(buf, len, "vmm: KVM_IRQ_LINE ISA IRQ %llu, an edge (1, then 0)",
				 (unsigned long long)ev->c);
		else if (ev->b == AOP_ZAP)
			snprintf(buf, len, "vmm: zap gfns [0x%llx, 0x%llx)", (unsigned long long)ev->c,
				 (unsigned long long)ev->d);
		else
			snprintf(buf, len, "vmm: %s %llu",
				 ev->b < ARRAY_SIZE(actor_op_names) ? actor_op_names[ev->b] : "?",
				 (unsigned long long)ev->c);
		break;
	case EV_NOTE:
		snprintf(buf, len, "note: vcpu %llu %s", (unsigned long long)ev->b,
			 ev->a == NOTE_APIC_SPTE_WHILE_INHIBITED ?
			 "installed the APIC SPTE while APICv is inhibited VM-wide" :
			 "took its mmu_seq snapshot after the APIC zap, its apicv_active still set");
		break;
	case EV_AVIC_RUNNING:
		snprintf(buf, len, "avic: vcpu %llu IsRunning=%llu host apic id %llu%s",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 (unsigned long long)ev->c, ev->d ? " (blocking)" : "");
		break;
	case EV_DOORBELL:
		snprintf(buf, len, "%s: vcpu %llu host apic id %llu",
			 ev->c ? "posted-interrupt notification" : "kvm_avic_doorbell",
			 (unsigned long long)ev->a, (unsigned long long)ev->b);
		break;
	case EV_APICV_ACCEPT_IRQ:
		snprintf(buf, len, "kvm_apicv_accept_irq: vcpu %llu vector 0x%llx%s",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 ev->c ? " (in guest mode)" : "");
		break;
	case EV_AVIC_KICK:
		snprintf(buf, len, "avic_kick_target_vcpus: from vcpu %llu icr 0x%llx:%08llx",
			 (unsigned long long)ev->a, (unsigned long long)ev->c,
			 (unsigned long long)ev->b);
		break;
	case EV_INTR:
		snprintf(buf, len, "guest: vcpu %llu takes vector 0x%llx (%s)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b,
			 ev->c == INTR_INJECTED ? "injected by KVM" :
			 ev->c == INTR_VMRUN ? "virtual interrupt at VM entry" :
			 ev->c == INTR_EOI ? "virtual interrupt after a virtual EOI" :
			 ev->c == INTR_TPR ? "virtual interrupt after a TPR write" :
			 ev->c == INTR_STI ? "virtual interrupt after sti" :
			 "virtual interrupt on doorbell");
		break;
	case EV_AVIC_IPI:
		snprintf(buf, len, "avic: vcpu %llu IPI vector 0x%llx to vcpu %llu: IRR set, %s",
			 (unsigned long long)ev->a, (unsigned long long)ev->c,
			 (unsigned long long)ev->b, ev->d ? "running, doorbell" : "not running");
		break;
	case EV_PREEMPT:
		if (ev->b)
			snprintf(buf, len, "kvm_sched_out: vcpu %llu preempted%s", (unsigned long long)ev->a,
				 ev->c ? " (blocking)" : "");
		else
			snprintf(buf, len, "kvm_sched_in: vcpu %llu on cpu %llu%s", (unsigned long long)ev->a,
				 (unsigned long long)ev->d, ev->c ? " (blocking)" : "");
		break;
	case EV_TLB_FLUSH:
		snprintf(buf, len, "tlb: vcpu %llu flushed by %s, %llu translation%s dropped",
			 (unsigned long long)ev->a,
			 ev->b == TLB_FLUSH_INVEPT ? "INVEPT" :
			 ev->b == TLB_FLUSH_VMRUN ? "VMRUN (TLB_CONTROL_FLUSH_ASID)" : "VMRUN (new ASID)",
			 (unsigned long long)ev->c, ev->c == 1 ? "" : "s");
		break;
	case EV_CR8_INTERCEPT: {
		static const char *const who[] = {
			[CR8_BY_UPDATE] = "svm_update_cr8_intercept",
			[CR8_BY_ACTIVATE] = "avic_activate_vmcb",
			[CR8_BY_DEACTIVATE] = "avic_deactivate_vmcb",
		};
		int n = snprintf(buf, len, "%s: vcpu %llu CR8 write intercept %s",
				 ev->c < ARRAY_SIZE(who) ? who[ev->c] : "?", (unsigned long long)ev->a,
				 ev->b ? "on" : "off");

		if (ev->c == CR8_BY_UPDATE && n >= 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, " (TPR class 0x%llx, highest IRR class %lld)",
				 (unsigned long long)(ev->d & 0xff), (long long)(ev->d >> 8) - 1);
		break;
	}
	case EV_PIC:
		if (ev->b == 2)
			snprintf(buf, len, "kvm_pic_read_irq: INTA, IRQ %llu, vector 0x%llx%s, INTR %s",
				 (unsigned long long)ev->a, (unsigned long long)ev->d,
				 ev->d == KVM_PIC_IRQ_BASE + 7 ? " (spurious)" : "", ev->c ? "high" : "low");
		else
			snprintf(buf, len, "kvm_pic_set_irq: IRQ %llu level %llu, INTR %s",
				 (unsigned long long)ev->a, (unsigned long long)ev->b, ev->c ? "high" : "low");
		break;
	case EV_IRQ_WINDOW:
		if (ev->c == IRQWIN_COUNT || ev->c == IRQWIN_COUNT_LAZY)
			snprintf(buf, len, "kvm_%s_apicv_irq_window_req: apicv_nr_irq_window_req %llu%s",
				 ev->b ? "inc" : "dec", (unsigned long long)ev->d,
				 ev->c == IRQWIN_COUNT_LAZY ? " (another reason inhibits: count only, read side)" : "");
		else if (ev->c == IRQWIN_VINTR)
			snprintf(buf, len, "%s: vcpu %llu IRQ window %s (V_IRQ, VINTR intercept)",
				 ev->b ? "svm_set_vintr" : "svm_clear_vintr", (unsigned long long)ev->a,
				 ev->b ? "open" : "closed");
		else
			snprintf(buf, len, "vmx: vcpu %llu interrupt-window exiting %s", (unsigned long long)ev->a,
				 ev->b ? "on" : "off");
		break;
	case EV_RFLAGS_IF:
		snprintf(buf, len, "guest: vcpu %llu %s", (unsigned long long)ev->a, ev->b ? "sti" : "cli");
		break;
	case EV_MEMSLOT_DELETE:
		snprintf(buf, len, "kvm_set_memslot: delete memslot %llu (gfn 0x%llx): invalidate, wait for SRCU readers, zap, remove",
			 (unsigned long long)ev->a, (unsigned long long)ev->b);
		break;
	case EV_CR8:
		snprintf(buf, len, "guest: vcpu %llu %s 0x%llx (%s)",
			 (unsigned long long)ev->a, ev->c ? "mov cr8 <-" : "mov cr8 ->",
			 (unsigned long long)ev->b, ev->d < ARRAY_SIZE(path_names) ? path_names[ev->d] : "?");
		break;
	case EV_APIC_BASE: {
		static const char *const modes[] = { "disabled", "invalid", "xAPIC", "x2APIC" };

		snprintf(buf, len, "__kvm_apic_set_base: vcpu %llu IA32_APIC_BASE 0x%llx -> 0x%llx (%s -> %s)",
			 (unsigned long long)ev->a, (unsigned long long)ev->b, (unsigned long long)ev->c,
			 modes[(ev->b >> 10) & 3], modes[(ev->c >> 10) & 3]);
		break;
	}
	case EV_PRIM:
		kvm_prim_format(ev, buf, len);
		break;
	case EV_FINDING:
		snprintf(buf, len, "FINDING %s", kvm_finding_name((enum kvm_finding)ev->a));
		break;
	default:
		snprintf(buf, len, "event %u", ev->type);
	}
}

const char *kvm_event_name(u16 type)
{
	static const char *const names[] = {
		[EV_NONE] = "none",
		[EV_ENTRY] = "kvm_entry",
		[EV_EXIT] = "kvm_exit",
		[EV_PAGE_FAULT] = "kvm_page_fault",
		[EV_MMU_SEQ_SNAPSHOT] = "kvm_mmu_faultin_pfn",
		[EV_FAULTIN_APIC] = "kvm_mmu_faultin_pfn",
		[EV_FAULT_STALE] = "is_page_fault_stale",
		[EV_FAULT_RET] = "kvm_mmu_page_fault",
		[EV_SPTE_SET] = "kvm_mmu_set_spte",
		[EV_SPTE_ZAP] = "kvm_tdp_mmu_zap_spte",
		[EV_ZAP_GFN_RANGE] = "kvm_zap_gfn_range",
		[EV_ZAP_YIELD] = "kvm_zap_yield",
		[EV_INVALIDATE_BEGIN] = "kvm_mmu_invalidate_start",
		[EV_INVALIDATE_END] = "kvm_mmu_invalidate_end",
		[EV_INHIBIT_CHANGED] = "kvm_apicv_inhibit_changed",
		[EV_APICV_UPDATE] = "kvm_vcpu_update_apicv",
		[EV_REQUEST] = "kvm_make_request",
		[EV_REQUEST_SERVICE] = "kvm_check_request",
		[EV_KICK] = "kvm_vcpu_exiting_guest_mode",
		[EV_IPI_WAIT] = "smp_call_function_many",
		[EV_MODE] = "vcpu_mode",
		[EV_APIC_ACCESS] = "kvm_apic",
		[EV_MEM_ACCESS] = "guest_mem",
		[EV_MMIO_FAULT] = "handle_mmio_page_fault",
		[EV_HALT] = "kvm_vcpu_halt",
		[EV_VCPU_CREATE] = "kvm_vm_ioctl_create_vcpu",
		[EV_ACTOR_OP] = "vmm",
		[EV_FINDING] = "finding",
		[EV_NOTE] = "note",
		[EV_AVIC_RUNNING] = "avic_physical_id_entry",
		[EV_DOORBELL] = "guest_notification",
		[EV_APICV_ACCEPT_IRQ] = "kvm_apicv_accept_irq",
		[EV_AVIC_KICK] = "avic_kick_target_vcpus",
		[EV_INTR] = "guest_intr",
		[EV_AVIC_IPI] = "avic_hw_ipi",
		[EV_PREEMPT] = "kvm_sched",
		[EV_TLB_FLUSH] = "tlb_flush",
		[EV_APIC_BASE] = "kvm_apic_set_base",
		[EV_CR8] = "guest_cr8",
		[EV_CR8_INTERCEPT] = "cr8_intercept",
		[EV_PIC] = "kvm_pic",
		[EV_IRQ_WINDOW] = "irq_window",
		[EV_RFLAGS_IF] = "guest_rflags_if",
		[EV_MEMSLOT_DELETE] = "kvm_set_memslot",
		[EV_PRIM] = "primitive",
	};
	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "?";
}
