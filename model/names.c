// SPDX-License-Identifier: GPL-2.0
/*
 * Names of the model's knobs: policies, vendors, inhibit reasons, historical
 * bugs (docs/kvm-protocol.md §8) and xAPIC registers.  Pure tables, no state; the
 * CLI, the scenario parser, traces and reports all go through these so a name
 * is spelled one way everywhere.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "model/kvm.h"
#include "model/lapic.h"

static const struct kvm_bug_info bug_table[KVM_NR_BUGS] = {
	[KVM_BUG_ZAP_NO_INVALIDATE] = {
		.slug = "zap-no-invalidate", .commit = "edb298c663fc",
		.title = "kvm_zap_gfn_range() does not bump the invalidation sequence/count",
		.scenario = "seed", .expect = "bad-spte",
	},
	[KVM_BUG_UPDATE_BEFORE_KICK] = {
		.slug = "update-before-kick", .commit = "b0a1637f64b0",
		.title = "inhibit reasons stored before kicking vCPUs; request serviced without apicv_update_lock",
		.scenario = "seed", .expect = "apicv-mismatch",
	},
	[KVM_BUG_FAULT_CHECKS_REQUEST] = {
		.slug = "fault-checks-request", .commit = "-",
		.title = "fault path tests a pending KVM_REQ_APICV_UPDATE instead of relying on mmu_invalidate_seq",
		.scenario = "seed", .expect = "bad-spte",
	},
	[KVM_BUG_ZAP_YIELD_RANGE_UNITS] = {
		.slug = "zap-yield-range-units", .commit = "6d3085e4d89a",
		.title = "zap records its range in gfns but faults compare host addresses; zap yields mmu_lock",
		.scenario = "zap-yield", .expect = "stale-spte",
	},
	[KVM_BUG_CREATE_NO_REQUEST] = {
		.slug = "create-no-request", .commit = "423ecfea77dd",
		.title = "vCPU creation copies the VM's APICv state instead of pending KVM_REQ_APICV_UPDATE",
		.scenario = "create-race", .expect = "apicv-mismatch",
	},
	[KVM_BUG_APIC_MMIO_SPTE] = {
		.slug = "apic-mmio-spte", .commit = "-",
		.title = "emulating an APIC access while APICv is inhibited caches an MMIO SPTE for the APIC page",
		.scenario = "reenable", .expect = "accel-lost",
	},
	[KVM_BUG_AVIC_DELIVER_RACE] = {
		.slug = "avic-deliver-race", .commit = "66fa226c131f",
		.title = "svm_deliver_avic_intr() tests apicv_active before setting IRR and incomplete-IPI exits only wake (v5.17-rc3; 30811174f0db undone too)",
		.scenario = "ipi-hlt", .expect = "lost-interrupt",
	},
	[KVM_BUG_DEACTIVATE_NO_EVENT] = {
		.slug = "deactivate-no-event", .commit = "bca66dbcd28a",
		.title = "kvm_vcpu_update_apicv() raises no KVM_REQ_EVENT when APICv is deactivated",
		.scenario = "ipi-hlt", .expect = "lost-interrupt",
	},
	[KVM_BUG_IRR_PENDING_SEARCH] = {
		.slug = "irr-pending-search", .commit = "755c2bf87860",
		.title = "kvm_apic_update_apicv() recomputes irr_pending from IRR on deactivation, racing with a sender",
		.scenario = "ipi-hlt", .expect = "lost-interrupt",
	},
	[KVM_BUG_UPDATE_APICV_PREEMPT] = {
		.slug = "update-apicv-preempt", .commit = "66c768d30e64",
		.title = "kvm_vcpu_update_apicv() is preemptible between storing apicv_active and refreshing AVIC",
		.scenario = "preempt-toggle", .expect = "assertion",
	},
	[KVM_BUG_BLOCKING_PREEMPT] = {
		.slug = "blocking-preempt", .commit = "18869f26df1a",
		.title = "kvm_vcpu_block() is preemptible between the AVIC blocking hooks and the rcuwait",
		.scenario = "preempt-hlt", .expect = "assertion",
	},
	[KVM_BUG_ISR_CACHE_STALE] = {
		.slug = "isr-cache-stale", .commit = "97a71c444a14",
		.title = "kvm_apic_update_apicv() keeps the highest-ISR cache, stale once APICv handles an EOI",
		.scenario = "isr-cache", .expect = "lost-interrupt",
	},
	[KVM_BUG_PIR_SYNC_INHIBITED] = {
		.slug = "pir-sync-inhibited", .commit = "37c4dbf337c5",
		.title = "PIR is harvested (vcpu_enter_guest, apic_has_interrupt_for_ppr) only while the vCPU's APICv is active",
		.scenario = "pi-hlt", .expect = "lost-interrupt",
	},
	[KVM_BUG_SVI_STALE] = {
		.slug = "svi-stale", .commit = "b2849bec936b",
		.title = "SVI is not set from vISR when APICv is activated: the next virtualized EOI clears nothing",
		.scenario = "svi", .expect = "lost-apic-write",
	},
	[KVM_BUG_AVIC_INIT_VM_STATE] = {
		.slug = "avic-init-vm-state", .commit = "3989a6d036c8",
		.title = "a vCPU created while APICv is inhibited VM-wide gets AVIC off in its VMCB although it starts with apicv_active set",
		.scenario = "create-toggle", .expect = "bad-spte",
	},
	[KVM_BUG_AVIC_KICK_FAST_INDEX] = {
		.slug = "avic-kick-fast-index", .commit = "603ccef42ce9",
		.title = "avic_kick_target_vcpus_fast() kicks the one vCPU the incomplete-IPI exit's index names, even for a broadcast",
		.scenario = "avic-broadcast", .expect = "lost-interrupt",
	},
	[KVM_BUG_ZAP_NO_FLUSH] = {
		.slug = "zap-no-flush", .commit = "-",
		.title = "kvm_zap_gfn_range() zaps SPTEs without kvm_flush_remote_tlbs(): vCPUs keep using the removed translations",
		.scenario = "zap-tlb", .expect = "stale-tlb",
	},
	[KVM_BUG_AVIC_ACTIVATE_NO_FLUSH] = {
		.slug = "avic-activate-no-flush", .commit = "0ccf3e7cb95a",
		.title = "activating AVIC does not flush the current TLB: a translation of the APIC base cached while the APIC was hardware-disabled still bypasses AVIC",
		.scenario = "apic-disable", .expect = "stale-tlb",
	},
	[KVM_BUG_APIC_ID_NO_INHIBIT] = {
		.slug = "apic-id-no-inhibit", .commit = "3743c2f02517",
		.title = "a guest that changes its xAPIC ID does not inhibit AVIC: the hardware still finds the vCPU by its old ID in the physical ID table",
		.scenario = "apic-id", .expect = "expect-failed",
	},
	[KVM_BUG_X2AVIC_NO_FLUSH] = {
		.slug = "x2avic-no-flush", .commit = "a9e18aa3263f",
		.title = "switching a vCPU to x2AVIC does not flush the current TLB: a translation of the APIC base cached with xAVIC still reaches the virtual APIC page in x2APIC mode",
		.scenario = "x2apic", .expect = "stale-tlb",
	},
	[KVM_BUG_X2APIC_MEMSLOT] = {
		.slug = "x2apic-memslot", .commit = "2008fab34530",
		.title = "hybrid AVIC (no x2AVIC) keeps the APIC-access memslot when a vCPU enters x2APIC mode: the CPU still redirects its xAPIC page to the virtual APIC, which the guest reaches by MMIO in x2APIC mode",
		.scenario = "x2apic-hybrid", .expect = "wrong-apic-read",
	},
	[KVM_BUG_APIC_ID_INHIBIT_STICKY] = {
		.slug = "apic-id-inhibit-sticky", .commit = "d471bd853d38",
		.title = "the APIC-ID inhibit is never cleared: a guest that changes its xAPIC ID and then restores it keeps AVIC/APICv off for good (3743c2f02517's kvm_lapic_xapic_id_updated() only set it)",
		.scenario = "apic-id-restore", .expect = "expect-failed",
	},
	[KVM_BUG_CR8_INTERCEPT_STUCK] = {
		.slug = "cr8-intercept-stuck", .commit = "87d0f901a9bd",
		.title = "activating AVIC does not clear the CR8 write intercept that KVM set while AVIC was off: the guest's CR8 writes keep exiting with AVIC on",
		.scenario = "cr8-intercept", .expect = "cr8-intercepted",
	},
	[KVM_BUG_TPR_NO_SYNC] = {
		.slug = "tpr-no-sync", .commit = "d02e48830e3f",
		.title = "sync_lapic_to_cr8() skips V_TPR while AVIC is active: a TPR that KVM changed (an emulated access) never reaches V_TPR, which AVIC and the guest's CR8 use",
		.scenario = "tpr-sync", .expect = "wrong-apic-read",
	},
	[KVM_BUG_ENTER_GUEST_NO_MB] = {
		.slug = "enter-guest-no-mb", .commit = "-",
		.title = "vcpu_enter_guest() has no full barrier between vcpu->mode = IN_GUEST_MODE and its check of vcpu->requests: on x86 the mode store can wait in the store buffer while the check reads no request, and a kicker's cmpxchg still sees OUTSIDE_GUEST_MODE and sends no IPI",
		.scenario = "seed", .expect = "lost-request", .tso = true,
	},
	[KVM_BUG_HALT_NO_MB] = {
		.slug = "halt-no-mb", .commit = "-",
		.title = "kvm_vcpu_halt() has no full barrier between marking the vCPU blocked and checking for a wake-up (neither set_current_state()'s nor the one in kvm_vcpu_check_block()'s srcu_read_lock()): on x86 its IsRunning=0 and halted stores can wait in the store buffer while the check finds nothing, the sender's AVIC still sees it running and rings a doorbell the host drops, and nothing wakes it",
		.scenario = "halt-ipi", .expect = "lost-interrupt", .tso = true,
		/* IsRunning=0, halted and the SRCU reader's count must all wait: three stores. */
		.store_buffer = 3,
	},
	[KVM_BUG_IRQWIN_NO_REFCOUNT] = {
		.slug = "irqwin-no-refcount", .commit = "6563ddadd169",
		.title = "the IRQ window inhibit is one VM-wide bit, not a count: the first vCPU whose IRQ window opens clears it while another vCPU is opening its own for an ExtINT, which then sets V_IRQ with AVIC on (svm_set_vintr()'s WARN) and waits in a window the CPU ignores",
		.scenario = "irq-window", .expect = "irq-window-ignored",
	},
	[KVM_BUG_PIR_NO_EVENT] = {
		.slug = "pir-no-event", .commit = "7e1901f6c86c",
		.title = "vmx_sync_pir_to_irr() raises no KVM_REQ_EVENT for a vector it harvests with APICv inactive",
		.scenario = "pi-hlt", .expect = "lost-interrupt",
	},
	[KVM_BUG_TPR_THRESHOLD_STALE] = {
		.slug = "tpr-threshold-stale", .commit = "bb365a506b1e",
		.title = "a TPR-below-threshold exit that makes no interrupt deliverable leaves TPR_THRESHOLD as it was (apic_update_ppr() only raises KVM_REQ_EVENT): above the guest's new VTPR, with neither APIC-access virtualization nor virtual-interrupt delivery, the next VM entry fails (eb90f3417a0c's shortcut)",
		.scenario = "tpr-threshold", .expect = "vmentry-failed",
	},
	[KVM_BUG_APIC_BASE_NO_INHIBIT] = {
		.slug = "apic-base-no-inhibit", .commit = "3743c2f02517",
		.title = "a guest that moves its APIC base away from 0xfee00000 does not inhibit APICv/AVIC (only pr_warn_once()): the APIC-access page stays mapped at 0xfee00000 and the CPU goes on treating accesses there as APIC accesses, although that vCPU's APIC is elsewhere",
		.scenario = "apic-relocate", .expect = "wrong-apic-read",
	},
};

const struct kvm_bug_info *kvm_bug_info(enum kvm_bug b)
{
	return (unsigned)b < KVM_NR_BUGS ? &bug_table[b] : NULL;
}

int kvm_bug_parse(const char *slug)
{
	for (int i = 0; i < KVM_NR_BUGS; i++)
		if (!strcmp(bug_table[i].slug, slug))
			return i;
	return -1;
}

static const char *const policy_names[] = { [KVM_POLICY_VM] = "vm", [KVM_POLICY_VCPU] = "vcpu" };
static const char *const vendor_names[] = { [KVM_VENDOR_SVM] = "svm", [KVM_VENDOR_VMX] = "vmx" };

static int parse_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcasecmp(names[i], s))
			return i;
	return -1;
}

const char *kvm_policy_name(enum kvm_policy p) { return policy_names[p]; }
const char *kvm_vendor_name(enum kvm_vendor v) { return vendor_names[v]; }
int kvm_policy_parse(const char *s) { return parse_name(policy_names, ARRAY_SIZE(policy_names), s); }
int kvm_vendor_parse(const char *s) { return parse_name(vendor_names, ARRAY_SIZE(vendor_names), s); }

static const char *const inhibit_names[APICV_NR_INHIBITS] = {
	[APICV_INHIBIT_REASON_DISABLE] = "disable",
	[APICV_INHIBIT_REASON_HYPERV] = "hyperv",
	[APICV_INHIBIT_REASON_NESTED] = "nested",
	[APICV_INHIBIT_REASON_IRQWIN] = "irqwin",
	[APICV_INHIBIT_REASON_PIT_REINJ] = "pit_reinj",
	[APICV_INHIBIT_REASON_BLOCKIRQ] = "blockirq",
	[APICV_INHIBIT_REASON_ABSENT] = "absent",
	[APICV_INHIBIT_REASON_APIC_ID_MODIFIED] = "apic_id_modified",
	[APICV_INHIBIT_REASON_APIC_BASE_MODIFIED] = "apic_base_modified",
};

const char *kvm_inhibit_name(int reason)
{
	return (unsigned)reason < APICV_NR_INHIBITS ? inhibit_names[reason] : "?";
}

int kvm_inhibit_parse(const char *s)
{
	return parse_name(inhibit_names, APICV_NR_INHIBITS, s);
}

static const char *const finding_names[F_NR_FINDINGS] = {
	[F_NONE] = "none",
	[F_BAD_SPTE] = "bad-spte",
	[F_STALE_SPTE] = "stale-spte",
	[F_LOST_APIC_WRITE] = "lost-apic-write",
	[F_WRONG_APIC_READ] = "wrong-apic-read",
	[F_APICV_MISMATCH] = "apicv-mismatch",
	[F_LOST_REQUEST] = "lost-request",
	[F_ACCEL_LOST] = "accel-lost",
	[F_DEADLOCK] = "deadlock",
	[F_LOCK_MISUSE] = "lock-misuse",
	[F_ASSERT] = "assertion",
	[F_DATA_RACE] = "data-race",
	[F_STALE_TLB] = "stale-tlb",
	[F_CR8_INTERCEPTED] = "cr8-intercepted",
	[F_IRQ_WINDOW_IGNORED] = "irq-window-ignored",
	[F_VMENTRY_FAILED] = "vmentry-failed",
	[F_STRAY_APIC_WRITE] = "stray-apic-write",
	[F_LOST_INTERRUPT] = "lost-interrupt",
	[F_ISRUNNING_MISMATCH] = "isrunning-mismatch",
	[F_EXPECT_FAILED] = "expect-failed",
};

const char *kvm_finding_name(enum kvm_finding f)
{
	return (unsigned)f < F_NR_FINDINGS ? finding_names[f] : "?";
}

enum kvm_finding kvm_finding_parse(const char *name)
{
	int i = parse_name(finding_names, F_NR_FINDINGS, name);
	return i < 0 ? F_NONE : (enum kvm_finding)i;
}

/* xAPIC register names (docs/kvm-protocol.md §9.1), by 16-byte-aligned offset. */
static const struct { u16 off; const char *name; } lapic_regs[] = {
	{ APIC_ID, "ID" },	    { APIC_LVR, "LVR" },	  { APIC_TASKPRI, "TPR" },
	{ APIC_ARBPRI, "APR" },	    { APIC_PROCPRI, "PPR" },	  { APIC_EOI, "EOI" },
	{ APIC_RRR, "RRR" },	    { APIC_LDR, "LDR" },	  { APIC_DFR, "DFR" },
	{ APIC_SPIV, "SPIV" },	    { APIC_ISR + 0x00, "ISR0" },  { APIC_ISR + 0x10, "ISR1" },
	{ APIC_ISR + 0x20, "ISR2" }, { APIC_ISR + 0x30, "ISR3" }, { APIC_ISR + 0x40, "ISR4" },
	{ APIC_ISR + 0x50, "ISR5" }, { APIC_ISR + 0x60, "ISR6" }, { APIC_ISR + 0x70, "ISR7" },
	{ APIC_TMR + 0x00, "TMR0" }, { APIC_TMR + 0x10, "TMR1" }, { APIC_TMR + 0x20, "TMR2" },
	{ APIC_TMR + 0x30, "TMR3" }, { APIC_TMR + 0x40, "TMR4" }, { APIC_TMR + 0x50, "TMR5" },
	{ APIC_TMR + 0x60, "TMR6" }, { APIC_TMR + 0x70, "TMR7" }, { APIC_IRR + 0x00, "IRR0" },
	{ APIC_IRR + 0x10, "IRR1" }, { APIC_IRR + 0x20, "IRR2" }, { APIC_IRR + 0x30, "IRR3" },
	{ APIC_IRR + 0x40, "IRR4" }, { APIC_IRR + 0x50, "IRR5" }, { APIC_IRR + 0x60, "IRR6" },
	{ APIC_IRR + 0x70, "IRR7" }, { APIC_ESR, "ESR" },	  { APIC_LVTCMCI, "LVTCMCI" },
	{ APIC_ICR, "ICR" },	    { APIC_ICR2, "ICR2" },	  { APIC_LVTT, "LVTT" },
	{ APIC_LVTTHMR, "LVTTHMR" }, { APIC_LVTPC, "LVTPC" },	  { APIC_LVT0, "LVT0" },
	{ APIC_LVT1, "LVT1" },	    { APIC_LVTERR, "LVTERR" },	  { APIC_TMICT, "TMICT" },
	{ APIC_TMCCT, "TMCCT" },    { APIC_TDCR, "TDCR" },	  { APIC_SELF_IPI, "SELF_IPI" },
};

const char *lapic_reg_name(u32 reg)
{
	for (size_t i = 0; i < ARRAY_SIZE(lapic_regs); i++)
		if (lapic_regs[i].off == reg)
			return lapic_regs[i].name;
	return NULL;
}

int lapic_reg_parse(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(lapic_regs); i++)
		if (!strcasecmp(lapic_regs[i].name, name))
			return lapic_regs[i].off;
	return -1;
}

const char *scn_expect_text(const struct scn_expect *e, char *buf, size_t len)
{
	const char *reg = lapic_reg_name(e->off);

	switch (e->kind) {
	case EXP_IRQS:
		snprintf(buf, len, "irqs %u %u", e->vcpu, e->val);
		break;
	case EXP_REG:
		if (reg)
			snprintf(buf, len, "reg %u %s 0x%x", e->vcpu, reg, e->val);
		else
			snprintf(buf, len, "reg %u 0x%x 0x%x", e->vcpu, e->off, e->val);
		break;
	case EXP_APICV:
		snprintf(buf, len, "apicv %u %s", e->vcpu, e->val ? "on" : "off");
		break;
	case EXP_INHIBITS: {
		size_t n = (size_t)snprintf(buf, len, "inhibits%s", e->val ? "" : " none");

		for (int r = 0; r < 32 && n < len; r++)
			if (e->val & BIT(r))
				n += (size_t)snprintf(buf + n, len - n, " %s", kvm_inhibit_name(r));
		break;
	}
	default:
		snprintf(buf, len, "expectation kind %u", e->kind);
	}
	return buf;
}
