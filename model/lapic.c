// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC in xAPIC mode: arch/x86/kvm/lapic.c, read in
 * linux-5.15.85 (GitHub Tptogiar/linux-5.15.85) and again, function by
 * function, in v7.0 (torvalds 000d75b0b186: "v7.0" in the comments below),
 * and IPI delivery as in v6.16.1 (GitHub KT0511/linux-6.16.1):
 * kvm_irq_delivery_to_apic()'s APIC-map fast path, then its slow path;
 * docs/kvm-protocol.md §9.
 *
 * Modelled: the register page, every xAPIC MMIO read and write (§9.2-§9.3), PPR,
 * EOI, acceptance of the highest IRR vector into ISR, fixed and lowest-priority
 * IPIs (physical, logical flat/cluster, shorthands; the APIC map's decision,
 * kvm_recalculate_apic_map, recomputed per IPI), and what real KVM shows in
 * docs/real-kvm-notes.md §1, including stale data on invalid MMIO reads.
 * Left out: x2APIC mode, the APIC timer (TMCCT reads 0; LVTT, TMICT and TDCR are
 * only stored, with their masks) and TSC-deadline mode (the guest CPUID is taken
 * to lack TSC_DEADLINE_TIMER), NMI/SMI/INIT/SIPI/ExtINT delivery, IOAPIC and
 * Hyper-V EOI hooks, a stored APIC map (RCU; its dirty flag and lock are here, for
 * the APIC-ID inhibit), the aliasing inhibits, posted interrupts
 * and RVI/SVI updates, TPR-access reporting, PV EOI, static keys, tracepoints.
 *
 * Invariants:
 *  - A standalone APIC (vcpu == NULL) touches nothing but *apic: no primitive of
 *    kernel/prim.h (no runtime needs to be set), no vCPU, no request; its IPIs
 *    reach only itself.
 *  - A vCPU's APIC is private to its vCPU thread except: IRR and TMR bits and
 *    irr_pending, which IPI senders set with atomics/WRITE_ONCE (as
 *    __apic_accept_irq does) and which the owner therefore reads with READ_ONCE
 *    and clears atomically; and ID, LDR, DFR, sw_enabled and base_address, which
 *    senders read with READ_ONCE to match destinations, so the owner writes them
 *    with WRITE_ONCE.  Everything else is accessed plainly.
 *  - There is no APIC map object: an IPI sender rebuilds the map's decision on
 *    its stack from those registers (struct kvm_apic_map), so the map adds no
 *    shared state.
 *  - irr_pending is true whenever an IRR bit is set (set after the bit).
 *  - Without APICv, isr_count is the number of ISR bits and highest_isr_cache is
 *    -1 or the highest ISR vector; with APICv, isr_count == 1 and the cache is -1.
 *  - After every TPR write, EOI, acceptance and PPR read, PPR = TPR if
 *    TPR[7:4] >= ISRV[7:4], else ISRV & 0xf0 (ISRV = highest ISR vector or 0).
 */
#include <errno.h>
#include <string.h>

#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

/* lapic.c / lapic.h / apicdef.h constants not exported by model/lapic.h. */
#define KVM_APIC_LVT_NUM 6
#define APIC_VERSION (0x14u | ((KVM_APIC_LVT_NUM - 1) << 16))
#define APIC_LVR_DIRECTED_EOI BIT(24)
#define LAPIC_MMIO_LENGTH (1u << 12)
#define MAX_APIC_VECTOR 256
#define APIC_VECTORS_PER_REG 32
#define APIC_ISR_NR 8
#define APIC_DM_LOWEST 0x100u
#define APIC_MODE_EXTINT 0x7u
#define SET_APIC_DELIVERY_MODE(x, y) (((x) & ~0x700u) | ((y) << 8))
#define APIC_SEND_PENDING BIT(12)
#define APIC_INPUT_POLARITY BIT(13)
#define APIC_LVT_REMOTE_IRR BIT(14)
#define APIC_LVT_LEVEL_TRIGGER BIT(15)
#define APIC_INT_ASSERT BIT(14)
#define APIC_LVT_TIMER_PERIODIC BIT(17)
#define APIC_SPIV_DIRECTED_EOI BIT(12)
#define APIC_LDR_MASK (0xffu << 24)
#define GET_APIC_LOGICAL_ID(x) (((x) >> 24) & 0xffu)
#define APIC_DFR_CLUSTER 0x0fffffffu
#define APIC_DFR_FLAT 0xffffffffu

#define VEC_POS(v) ((v) & (32 - 1))
#define REG_POS(v) (((v) >> 5) << 4)

#define LVT_MASK (APIC_LVT_MASKED | APIC_SEND_PENDING | APIC_VECTOR_MASK)
#define LINT_MASK \
	(LVT_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY | APIC_LVT_REMOTE_IRR | \
	 APIC_LVT_LEVEL_TRIGGER)

/*
 * lapic_timer.timer_mode_mask as kvm_vcpu_after_set_cpuid() (cpuid.c, v5.15) sets
 * it when guest CPUID.1:ECX lacks TSC_DEADLINE_TIMER (3 << 17 with it).  Without
 * TSC-deadline mode, apic_update_lvtt() only switches the timer between one-shot
 * and periodic and TMICT writes are never ignored, so neither needs modelling.
 */
#define APIC_TIMER_MODE_MASK APIC_LVT_TIMER_PERIODIC

static const u32 apic_lvt_mask[KVM_APIC_LVT_NUM] = {
	LVT_MASK,			/* LVTT: timer mode mask added at write time */
	LVT_MASK | APIC_MODE_MASK,	/* LVTTHMR */
	LVT_MASK | APIC_MODE_MASK,	/* LVTPC */
	LINT_MASK, LINT_MASK,		/* LVT0-1 */
	LVT_MASK			/* LVTERR */
};

/* struct kvm_lapic_irq (arch/x86/include/asm/kvm_host.h), minus msi_redir_hint. */
struct kvm_lapic_irq {
	u32 vector;
	u32 delivery_mode;
	u32 dest_mode;
	bool level;
	u32 trig_mode;
	u32 shorthand;
	u32 dest_id;
};

/* ---- access discipline (see the invariants above) -------------------------- */

/* A vCPU's APIC can be reached by other actors; a standalone one cannot. */
static inline bool apic_is_shared(const struct kvm_lapic *apic)
{
	return apic->vcpu != NULL;
}

#define apic_read_once(apic, x) (apic_is_shared(apic) ? READ_ONCE(x) : (x))
#define apic_write_once(apic, x, v) \
	do { \
		if (apic_is_shared(apic)) \
			WRITE_ONCE(x, v); \
		else \
			(x) = (v); \
	} while (0)

static inline u32 *apic_reg(struct kvm_lapic *apic, u32 reg)
{
	return (u32 *)(apic->regs + reg);
}

/* IRR and TMR are the only register banks other vCPUs write (__apic_accept_irq). */
static inline bool apic_reg_remote_written(u32 reg)
{
	return (reg >= APIC_TMR && reg < APIC_TMR + 0x10 * APIC_ISR_NR) ||
	       (reg >= APIC_IRR && reg < APIC_IRR + 0x10 * APIC_ISR_NR);
}

/* Owner's read of any register: marked only where a remote writer exists. */
static u32 apic_get_reg_local(struct kvm_lapic *apic, u32 reg)
{
	if (apic_reg_remote_written(reg))
		return apic_read_once(apic, *apic_reg(apic, reg));
	return kvm_lapic_get_reg(apic, reg);
}

/* Write of a register that other actors read or write (ID, LDR, DFR, IRR, TMR). */
static void apic_set_reg_shared(struct kvm_lapic *apic, u32 reg, u32 val)
{
	apic_write_once(apic, *apic_reg(apic, reg), val);
}

/* lapic.h kvm_lapic_set_vector(): atomic set_bit() on the register bank, like the kernel. */
static void kvm_lapic_set_vector(struct kvm_lapic *apic, int vec, u32 bank)
{
	u8 *bitmap = apic->regs + bank + REG_POS(vec);

	if (apic_is_shared(apic))
		set_bit(VEC_POS(vec), (unsigned long *)bitmap);
	else
		*(u32 *)bitmap |= 1u << VEC_POS(vec);
}

/* lapic.h kvm_lapic_clear_vector(): atomic clear_bit(), like the kernel. */
static void kvm_lapic_clear_vector(struct kvm_lapic *apic, int vec, u32 bank)
{
	u8 *bitmap = apic->regs + bank + REG_POS(vec);

	if (apic_is_shared(apic))
		clear_bit(VEC_POS(vec), (unsigned long *)bitmap);
	else
		*(u32 *)bitmap &= ~(1u << VEC_POS(vec));
}

/* lapic.c apic_test_vector() for IRR/TMR (test_bit there; a 32-bit READ_ONCE here). */
static bool apic_test_vector(struct kvm_lapic *apic, int vec, u32 bank)
{
	return (apic_get_reg_local(apic, bank + REG_POS(vec)) >> VEC_POS(vec)) & 1;
}

/* lapic.c __apic_test_and_set_vector() on the private ISR (non-atomic, as in the kernel). */
static bool __apic_test_and_set_isr(struct kvm_lapic *apic, int vec)
{
	u32 *reg = apic_reg(apic, APIC_ISR + REG_POS(vec));
	u32 mask = 1u << VEC_POS(vec);
	bool old = *reg & mask;

	*reg |= mask;
	return old;
}

/* lapic.c __apic_test_and_clear_vector() on the private ISR. */
static bool __apic_test_and_clear_isr(struct kvm_lapic *apic, int vec)
{
	u32 *reg = apic_reg(apic, APIC_ISR + REG_POS(vec));
	u32 mask = 1u << VEC_POS(vec);
	bool old = *reg & mask;

	*reg &= ~mask;
	return old;
}

/* apic->apicv_active as lapic.c v7.0 tests it (the flag lives in vcpu->arch here); a standalone APIC has none. */
static inline bool kvm_apicv_active(struct kvm_lapic *apic)
{
	return apic->vcpu && apic->vcpu->arch.apicv_active;
}

/* lapic.h kvm_apic_hw_enabled(), owner's view: MSR_IA32_APICBASE.EN (no static key). */
static inline bool kvm_apic_hw_enabled(struct kvm_lapic *apic)
{
	return apic->base_address & MSR_IA32_APICBASE_ENABLE;
}

/* lapic.h apic_x2apic_mode() (v7.0, as v6.1): IA32_APIC_BASE.EXTD. */
static inline bool apic_x2apic_mode(struct kvm_lapic *apic)
{
	return apic->base_address & X2APIC_ENABLE;
}

/* ---- vector search --------------------------------------------------------- */

/* lapic.c find_highest_vector() (v7.0, as v5.15) over the bank at 'bank'. */
static int find_highest_vector(struct kvm_lapic *apic, u32 bank)
{
	int vec;
	u32 reg;

	for (vec = MAX_APIC_VECTOR - APIC_VECTORS_PER_REG; vec >= 0; vec -= APIC_VECTORS_PER_REG) {
		reg = apic_get_reg_local(apic, bank + REG_POS(vec));
		if (reg)
			return 31 - __builtin_clz(reg) + vec;
	}
	return -1;
}

/* lapic.c count_vectors() (v7.0, as v5.15). */
static int count_vectors(struct kvm_lapic *apic, u32 bank)
{
	int vec, count = 0;

	for (vec = 0; vec < MAX_APIC_VECTOR; vec += APIC_VECTORS_PER_REG)
		count += __builtin_popcount(apic_get_reg_local(apic, bank + REG_POS(vec)));
	return count;
}

/* lapic.c apic_search_irr() (v7.0, as v5.15). */
static int apic_search_irr(struct kvm_lapic *apic)
{
	return find_highest_vector(apic, APIC_IRR);
}

/*
 * lapic.c apic_find_highest_irr() (v7.0, as v5.15); irr_pending is a hint,
 * read marked (remote writers).
 */
static int apic_find_highest_irr(struct kvm_lapic *apic)
{
	if (!apic_read_once(apic, apic->irr_pending))
		return -1;
	return apic_search_irr(apic);
}

/*
 * lapic.h kvm_lapic_set_irr() (v7.0, as v5.15): bit first, then irr_pending
 * (pairs with apic_clear_irr).
 */
void kvm_lapic_set_irr(int vec, struct kvm_lapic *apic)
{
	kvm_lapic_set_vector(apic, vec, APIC_IRR);
	apic_write_once(apic, apic->irr_pending, true);
}

/* lapic.c apic_clear_irr(), v7.1 (no RVI update there any more). */
static void apic_clear_irr(int vec, struct kvm_lapic *apic)
{
	if (kvm_apicv_active(apic)) {
		kvm_lapic_clear_vector(apic, vec, APIC_IRR);
		return;
	}
	apic_write_once(apic, apic->irr_pending, false);
	kvm_lapic_clear_vector(apic, vec, APIC_IRR);
	if (apic_search_irr(apic) != -1)
		apic_write_once(apic, apic->irr_pending, true);
}

/* lapic.c apic_set_isr(), v7.1 (the same in v6.17): with APICv, SVI instead of the caches. */
static void apic_set_isr(int vec, struct kvm_lapic *apic)
{
	if (__apic_test_and_set_isr(apic, vec))
		return;
	if (kvm_apicv_active(apic)) {
		kvm_x86_hwapic_isr_update(apic->vcpu, vec);
		return;
	}
	++apic->isr_count;
	/* The highest vector is injected, so the latest bit set is the highest in ISR. */
	apic->highest_isr_cache = (s16)vec;
}

/* lapic.c apic_find_highest_isr() (v7.0, as v5.15). */
static int apic_find_highest_isr(struct kvm_lapic *apic)
{
	/* isr_count is always 1 and highest_isr_cache always -1 with APICv. */
	if (!apic->isr_count)
		return -1;
	if (likely(apic->highest_isr_cache != -1))
		return apic->highest_isr_cache;
	return find_highest_vector(apic, APIC_ISR);
}

/* lapic.c apic_clear_isr(), v7.1 (the same in v6.17): with APICv, SVI instead of the caches. */
static void apic_clear_isr(int vec, struct kvm_lapic *apic)
{
	if (!__apic_test_and_clear_isr(apic, vec))
		return;
	if (kvm_apicv_active(apic)) {
		kvm_x86_hwapic_isr_update(apic->vcpu, apic_find_highest_isr(apic));
		return;
	}
	--apic->isr_count;
	apic->highest_isr_cache = -1;
}

/* ---- priorities ------------------------------------------------------------ */

/* lapic.h kvm_lapic_enabled() (v7.0, as v6.17), for the APIC's own vCPU. */
bool kvm_lapic_enabled(struct kvm_vcpu *vcpu)
{
	return kvm_apic_hw_enabled(vcpu->arch.apic) && vcpu->arch.apic->sw_enabled;
}

/* lapic.c kvm_lapic_find_highest_irr() (v7.0, as v6.17). */
int kvm_lapic_find_highest_irr(struct kvm_vcpu *vcpu)
{
	return apic_find_highest_irr(vcpu->arch.apic);
}

#define NR_PIR_WORDS 4	/* asm/posted_intr.h: 256 bits in 64-bit words */

/*
 * pi_harvest_pir(), asm/posted_intr.h v7.1: read every PIR word (64 bits),
 * then take each non-empty one with an exchange ("read, read, read, read,
 * xchg, xchg, xchg, xchg").  False if the PIR was empty.
 */
static bool pi_harvest_pir(u64 *pir, u64 *pir_vals)
{
	u64 pending = 0;
	int i;

	for (i = 0; i < NR_PIR_WORDS; i++) {
		pir_vals[i] = READ_ONCE(pir[i]);
		pending |= pir_vals[i];
	}

	if (!pending)
		return false;

	for (i = 0; i < NR_PIR_WORDS; i++) {
		if (!pir_vals[i])
			continue;

		pir_vals[i] = xchg(&pir[i], 0);	/* arch_xchg() */
	}

	return true;
}

/*
 * lapic.c __kvm_apic_update_irr(), v7.1: harvest the whole PIR first, then
 * OR each 32-bit IRR word with its bits (try_cmpxchg, no write when nothing
 * is new); true if the highest IRR vector came from the PIR.  Before
 * "Process the PIR at the natural kernel width" and pi_harvest_pir() (v6.16)
 * each 32-bit PIR word was taken and ORed into IRR in turn.
 */
static bool __kvm_apic_update_irr(u32 *pir, struct kvm_lapic *apic, int *max_irr)
{
	u64 pir_vals[NR_PIR_WORDS];
	u32 *__pir = (u32 *)pir_vals;
	u32 i, vec, irr_val, prev_irr_val;
	int max_new_irr;

	if (!pi_harvest_pir((u64 *)pir, pir_vals)) {
		*max_irr = find_highest_vector(apic, APIC_IRR);	/* apic_find_highest_vector() */
		return false;
	}

	max_new_irr = -1;
	*max_irr = -1;

	for (i = vec = 0; i <= 7; i++, vec += 32) {
		u32 *p_irr = apic_reg(apic, APIC_IRR + i * 0x10);

		irr_val = READ_ONCE(*p_irr);

		if (__pir[i]) {
			prev_irr_val = irr_val;
			for (;;) {	/* do { } while (... && !try_cmpxchg()) */
				u32 seen;

				irr_val = prev_irr_val | __pir[i];
				if (prev_irr_val == irr_val)
					break;
				seen = cmpxchg(p_irr, prev_irr_val, irr_val);
				if (seen == prev_irr_val)
					break;
				prev_irr_val = seen;
			}

			if (prev_irr_val != irr_val)
				max_new_irr = 31 - __builtin_clz(irr_val ^ prev_irr_val) + (int)vec;
		}
		if (irr_val)
			*max_irr = 31 - __builtin_clz(irr_val) + (int)vec;
	}

	return max_new_irr != -1 && max_new_irr == *max_irr;
}

/* lapic.c kvm_apic_update_irr(), v7.1. */
bool kvm_apic_update_irr(struct kvm_vcpu *vcpu, u32 *pir, int *max_irr)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	bool irr_updated = __kvm_apic_update_irr(pir, apic, max_irr);

	if (unlikely(!apic->vcpu->arch.apicv_active && irr_updated))
		apic_write_once(apic, apic->irr_pending, true);
	return irr_updated;
}

/*
 * lapic.c apic_has_interrupt_for_ppr() (v7.0, as v5.16+, 37c4dbf337c5): with a
 * sync_pir_to_irr op (VMX), harvest the PIR first.
 */
static int apic_has_interrupt_for_ppr(struct kvm_lapic *apic, u32 ppr)
{
	int highest_irr;

	if (apic->vcpu && kvm_x86_has_sync_pir_to_irr(apic->vcpu))
		highest_irr = vmx_sync_pir_to_irr(apic->vcpu);
	else
		highest_irr = apic_find_highest_irr(apic);

	if (highest_irr == -1 || (u32)(highest_irr & 0xf0) <= ppr)
		return -1;
	return highest_irr;
}

/* lapic.c __apic_update_ppr() (v7.0, as v5.15): recompute PPR; true if it went down. */
static bool __apic_update_ppr(struct kvm_lapic *apic, u32 *new_ppr)
{
	u32 tpr, isrv, ppr, old_ppr;
	int isr;

	old_ppr = kvm_lapic_get_reg(apic, APIC_PROCPRI);
	tpr = kvm_lapic_get_reg(apic, APIC_TASKPRI);
	isr = apic_find_highest_isr(apic);
	isrv = (isr != -1) ? (u32)isr : 0;

	if ((tpr & 0xf0) >= (isrv & 0xf0))
		ppr = tpr & 0xff;
	else
		ppr = isrv & 0xf0;

	*new_ppr = ppr;
	if (old_ppr != ppr)
		kvm_lapic_set_reg(apic, APIC_PROCPRI, ppr);

	return ppr < old_ppr;
}

/*
 * lapic.c apic_update_ppr() (v7.2, bb365a506b1e: "Unconditionally recompute
 * CR8 intercept on PPR update"): KVM_REQ_EVENT if an interrupt became
 * deliverable, else the CR8 intercept / TPR threshold now, so that a TPR the
 * guest lowered below TPR_THRESHOLD never meets a stale one at the next entry.
 * Before it (KVM_BUG_TPR_THRESHOLD_STALE) only the request.  A standalone APIC
 * does neither.
 */
static void apic_update_ppr(struct kvm_lapic *apic)
{
	u32 ppr;

	if (__apic_update_ppr(apic, &ppr) && apic->vcpu &&
	    apic_has_interrupt_for_ppr(apic, ppr) != -1)
		kvm_make_request(KVM_REQ_EVENT, apic->vcpu);
	else if (apic->vcpu && !kvm_bug(apic->vcpu->kvm, KVM_BUG_TPR_THRESHOLD_STALE))
		kvm_lapic_update_cr8_intercept(apic->vcpu);
}

/* lapic.c apic_set_tpr() (v7.0, as v5.15). */
static void apic_set_tpr(struct kvm_lapic *apic, u32 tpr)
{
	kvm_lapic_set_reg(apic, APIC_TASKPRI, tpr);
	apic_update_ppr(apic);
}

/* lapic.c kvm_apic_update_ppr() (v7.2: apic_update_ppr() of bb365a506b1e; the same since v6.1). */
void kvm_apic_update_ppr(struct kvm_vcpu *vcpu)
{
	apic_update_ppr(vcpu->arch.apic);
}

/* lapic.c kvm_lapic_set_tpr() (v7.0, as v6.1): TPR[3:0] is cleared. */
void kvm_lapic_set_tpr(struct kvm_vcpu *vcpu, unsigned long cr8)
{
	apic_set_tpr(vcpu->arch.apic, (u32)(cr8 & 0x0f) << 4);
}

/* lapic.c kvm_lapic_get_cr8() (v7.0, as v6.1). */
u64 kvm_lapic_get_cr8(struct kvm_vcpu *vcpu)
{
	u64 tpr = kvm_lapic_get_reg(vcpu->arch.apic, APIC_TASKPRI);

	return (tpr & 0xf0) >> 4;
}

/* ---- register setters with side effects ------------------------------------ */

/*
 * atomic_set_release(&kvm->arch.apic_map_dirty, DIRTY), which each setter
 * below does after its register store (lapic.c v7.0); a standalone
 * (reference) APIC has no VM.
 */
static void apic_map_mark_dirty(struct kvm_lapic *apic)
{
	if (apic->vcpu)
		atomic_set(&apic->vcpu->kvm->arch.apic_map_dirty, KVM_APIC_MAP_DIRTY);
}

/*
 * lapic.c apic_set_spiv() (v7.0, torvalds 000d75b0b186; the same steps since
 * v5.15): the map is dirty when the software enable changes; leaves out the
 * apic_sw_disabled static key, KVM_REQ_APF_READY and the Xen upcall.
 */
static void apic_set_spiv(struct kvm_lapic *apic, u32 val)
{
	bool enabled = val & APIC_SPIV_APIC_ENABLED;

	kvm_lapic_set_reg(apic, APIC_SPIV, val);
	if (enabled != apic->sw_enabled) {
		apic_write_once(apic, apic->sw_enabled, enabled);
		apic_map_mark_dirty(apic);
	}
}

/* lapic.c kvm_apic_set_xapic_id() (v7.0, as v5.15): the ID, then the map is dirty. */
static void kvm_apic_set_xapic_id(struct kvm_lapic *apic, u8 id)
{
	apic_set_reg_shared(apic, APIC_ID, (u32)id << 24);
	apic_map_mark_dirty(apic);
}

/* lapic.c kvm_apic_set_ldr() (v7.0, as v5.15). */
static void kvm_apic_set_ldr(struct kvm_lapic *apic, u32 id)
{
	apic_set_reg_shared(apic, APIC_LDR, id);
	apic_map_mark_dirty(apic);
}

/* lapic.c kvm_apic_set_dfr() (v7.0, as v5.15). */
static void kvm_apic_set_dfr(struct kvm_lapic *apic, u32 val)
{
	apic_set_reg_shared(apic, APIC_DFR, val);
	apic_map_mark_dirty(apic);
}

/*
 * lapic.c kvm_apic_set_version() (v7.0, as v5.15): directed EOI (bit 24) is advertised only
 * with x2APIC in guest CPUID and a userspace IOAPIC; the model has an in-kernel
 * irqchip, so never (real-kvm-notes §1: VER = 0x00050014).
 */
static void kvm_apic_set_version(struct kvm_lapic *apic)
{
	kvm_lapic_set_reg(apic, APIC_LVR, APIC_VERSION);
}

/*
 * The APIC half of lapic.c __kvm_apic_set_base() (v7.1), which a standalone
 * (reference) APIC shares: store the MSR (the kernel's vcpu->arch.apic_base
 * and apic->base_address, its MSR_IA32_APICBASE_BASE bits; the model keeps
 * the MSR in one field, masked where the base is used); a hardware enable
 * resets the xAPIC ID to 'id' (which marks the map dirty), a disable marks
 * it dirty, and so does entering x2APIC mode (kvm_apic_set_x2apic_id(): the
 * model keeps no x2APIC ID or LDR, x2APIC mode only closes the xAPIC window
 * here).  No apic_hw_disabled static key.
 * Returns the old value.
 */
u64 kvm_lapic_apply_base(struct kvm_lapic *apic, u64 value, u8 id)
{
	u64 old_value = apic->base_address;

	apic_write_once(apic, apic->base_address, value);
	if ((old_value ^ value) & MSR_IA32_APICBASE_ENABLE) {
		if (value & MSR_IA32_APICBASE_ENABLE)
			kvm_apic_set_xapic_id(apic, id);
		else
			apic_map_mark_dirty(apic);
	}
	if ((old_value ^ value) & X2APIC_ENABLE) {
		if (value & X2APIC_ENABLE)
			apic_map_mark_dirty(apic);	/* kvm_apic_set_x2apic_id() */
		else if (value & MSR_IA32_APICBASE_ENABLE)
			kvm_apic_set_xapic_id(apic, id);
	}
	return old_value;
}

/*
 * __kvm_apic_set_base(), lapic.c v7.1 (kvm_lapic_set_base() before): a
 * change of the enable or x2APIC bit asks for KVM_REQ_APICV_UPDATE, which
 * the vCPU services on its own thread before its next entry
 * (kvm_vcpu_update_apicv() leaves APICv off while the APIC is disabled),
 * then sets the vendor's virtual APIC mode.  Until 1459f5c6b8b8 (v6.3,
 * "Handle APICv updates for APIC 'mode' changes via request") it called
 * kvm_vcpu_update_apicv() right here; the request is what lets the update
 * also reach the APIC memslot (2008fab34530), and nothing needs the update
 * before the next VM entry.  An enabled APIC away from 0xfee00000 inhibits
 * APICv/AVIC VM-wide for good (3743c2f02517, v5.19: the APIC-access page
 * stays at 0xfee00000), raised on this vCPU's own thread; before, KVM only
 * warned once (KVM_BUG_APIC_BASE_NO_INHIBIT).
 */
void __kvm_apic_set_base(struct kvm_vcpu *vcpu, u64 value)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	u64 old_value = kvm_lapic_apply_base(apic, value, (u8)vcpu->vcpu_id);

	kvm_trace(EV_APIC_BASE, vcpu->vcpu_idx, old_value, value, 0);
	if ((old_value ^ value) & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)) {
		kvm_make_request(KVM_REQ_APICV_UPDATE, vcpu);
		kvm_x86_set_virtual_apic_mode(vcpu);
	}
	if ((value & MSR_IA32_APICBASE_ENABLE) &&
	    (value & MSR_IA32_APICBASE_BASE) != APIC_DEFAULT_PHYS_BASE &&
	    !kvm_bug(vcpu->kvm, KVM_BUG_APIC_BASE_NO_INHIBIT))
		kvm_set_apicv_inhibit(vcpu->kvm, APICV_INHIBIT_REASON_APIC_BASE_MODIFIED);
}

/* kvm_get_apic_mode() (lapic.h v7.0) and vcpu->arch.apic_base, which callers read directly since v6.13. */
u64 kvm_lapic_get_base(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.apic->base_address;
}

enum lapic_mode kvm_get_apic_mode(struct kvm_vcpu *vcpu)
{
	return (enum lapic_mode)(kvm_lapic_get_base(vcpu) & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE));
}

/* ---- EOI --------------------------------------------------------------------- */

/*
 * lapic.c apic_set_eoi() (v7.0, as v5.15); leaves out the Hyper-V SynIC EOI and
 * kvm_ioapic_send_eoi (no IOAPIC).
 */
static int apic_set_eoi(struct kvm_lapic *apic)
{
	int vector = apic_find_highest_isr(apic);

	/* Not every EOI write has a corresponding ISR bit. */
	if (vector == -1)
		return vector;

	apic_clear_isr(vector, apic);
	apic_update_ppr(apic);

	if (apic->vcpu)
		kvm_make_request(KVM_REQ_EVENT, apic->vcpu);
	return vector;
}

/* lapic.c kvm_lapic_set_eoi() (v7.0, as v5.15). */
void kvm_lapic_set_eoi(struct kvm_vcpu *vcpu)
{
	kvm_lapic_reg_write(vcpu->arch.apic, APIC_EOI, 0);
}

/*
 * lapic.c kvm_apic_set_eoi_accelerated() (v7.0, as v5.15): trap-like EOI exit, vISR/vPPR
 * already updated by hardware; leaves out the trace and kvm_ioapic_send_eoi.
 */
void kvm_apic_set_eoi_accelerated(struct kvm_vcpu *vcpu, int vector)
{
	kvm_make_request(KVM_REQ_EVENT, vcpu);
}

/* ---- interrupt delivery ------------------------------------------------------- */

/* lapic.h kvm_xapic_id() (v7.0, as v5.15): the 8-bit xAPIC ID, read marked (senders read it). */
u32 kvm_apic_id(struct kvm_lapic *apic)
{
	return apic_read_once(apic, *apic_reg(apic, APIC_ID)) >> 24;
}

/* lapic.c apic_enabled() (v7.0, as v5.15) as seen by an IPI sender: HW and SW enabled. */
static bool apic_enabled(struct kvm_lapic *apic)
{
	return apic_read_once(apic, apic->sw_enabled) &&
	       (apic_read_once(apic, apic->base_address) & MSR_IA32_APICBASE_ENABLE);
}

/* lapic.h kvm_apic_present() (v7.0, as v5.15) for an APIC that may belong to another vCPU. */
static bool kvm_apic_present(struct kvm_lapic *apic)
{
	return apic && (apic_read_once(apic, apic->base_address) & MSR_IA32_APICBASE_ENABLE);
}

/*
 * lapic.c kvm_apic_accept_pic_intr() (v7.1): does the PIC's
 * INTR reach this vCPU?  Yes if its APIC is hardware-disabled, or if LVT0 is
 * unmasked in ExtINT mode (the BSP's reset value, KVM_X86_QUIRK_LINT0_REENABLED).
 * Plain reads, as in the kernel, also when pic_unlock() asks on the PIC's
 * thread: a scenario that changes a vCPU's APIC base or LVT0 while the PIC
 * raises a line would show that race (none here does).
 */
int kvm_apic_accept_pic_intr(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic *apic = vcpu->arch.apic;
	u32 lvt0 = kvm_lapic_get_reg(apic, APIC_LVT0);

	if (!kvm_apic_hw_enabled(apic))
		return 1;
	if ((lvt0 & APIC_LVT_MASKED) == 0 && ((lvt0 >> 8) & 7) == APIC_MODE_EXTINT)
		return 1;
	return 0;
}

/*
 * lapic.c __apic_accept_irq() (v5.15; the deliver_interrupt hook as in v6.17),
 * fixed and lowest-priority modes only; NMI, SMI, INIT, SIPI, ExtINT and RemRd
 * are dropped; apic_arb_prio and dest_map are left out.
 */
static int __apic_accept_irq(struct kvm_lapic *apic, u32 delivery_mode, int vector, bool level,
			     u32 trig_mode)
{
	int result = 0;

	switch (delivery_mode) {
	case APIC_DM_LOWEST:
		/* vcpu->arch.apic_arb_prio++: only used without vector hashing. */
	case APIC_DM_FIXED:
		if (unlikely(trig_mode && !level))
			break;
		if (unlikely(!apic_enabled(apic)))
			break;

		result = 1;

		if (apic_test_vector(apic, vector, APIC_TMR) != !!trig_mode) {
			if (trig_mode)
				kvm_lapic_set_vector(apic, vector, APIC_TMR);
			else
				kvm_lapic_clear_vector(apic, vector, APIC_TMR);
		}
		if (apic->vcpu)
			kvm_x86_deliver_interrupt(apic, (int)delivery_mode, (int)trig_mode, vector);
		else
			kvm_lapic_set_irr(vector, apic);
		break;
	default:
		break;
	}
	return result;
}

/*
 * The non-APICv tail of __apic_accept_irq() for a fixed interrupt (v7.0's
 * vmx_deliver_interrupt() fallback, as v5.15): kvm_lapic_set_irr, then
 * KVM_REQ_EVENT and a kick of the target (vCPU-backed APICs only).
 */
void kvm_apic_set_irq_vector(struct kvm_lapic *apic, int vec)
{
	struct kvm_vcpu *vcpu = apic->vcpu;

	kvm_lapic_set_irr(vec & APIC_VECTOR_MASK, apic);
	if (!vcpu)
		return;
	kvm_make_request(KVM_REQ_EVENT, vcpu);
	kvm_vcpu_kick(vcpu);
}

/* lapic.c kvm_apic_set_irq() (v7.0, as v5.15), without dest_map. */
static int kvm_apic_set_irq(struct kvm_lapic *apic, struct kvm_lapic_irq *irq)
{
	return __apic_accept_irq(apic, irq->delivery_mode, (int)irq->vector, irq->level,
				 irq->trig_mode);
}

/* lapic.c kvm_apic_match_physical_addr() (v7.0, as v5.15), xAPIC only (no x2APIC hotplug hack). */
static bool kvm_apic_match_physical_addr(struct kvm_lapic *apic, u32 mda)
{
	if (mda == APIC_BROADCAST)
		return true;
	return mda == kvm_apic_id(apic);
}

/* lapic.c kvm_apic_match_logical_addr() (v7.0, as v5.15), xAPIC flat and cluster models. */
static bool kvm_apic_match_logical_addr(struct kvm_lapic *apic, u32 mda)
{
	u32 logical_id;

	if (mda == APIC_BROADCAST)
		return true;

	logical_id = GET_APIC_LOGICAL_ID(apic_read_once(apic, *apic_reg(apic, APIC_LDR)));

	switch (apic_read_once(apic, *apic_reg(apic, APIC_DFR))) {
	case APIC_DFR_FLAT:
		return (logical_id & mda) != 0;
	case APIC_DFR_CLUSTER:
		return ((logical_id >> 4) == (mda >> 4)) && (logical_id & mda & 0xf) != 0;
	default:
		return false;
	}
}

/* lapic.c kvm_apic_match_dest() (v5.15); the MDA is the destination (IPIs only). */
bool kvm_apic_match_dest(struct kvm_lapic *target, struct kvm_lapic *source,
				u32 shorthand, u32 dest, u32 dest_mode)
{
	switch (shorthand) {
	case APIC_DEST_NOSHORT:
		if (dest_mode == APIC_DEST_PHYSICAL)
			return kvm_apic_match_physical_addr(target, dest);
		return kvm_apic_match_logical_addr(target, dest);
	case APIC_DEST_SELF:
		return target == source;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return target != source;
	default:
		return false;
	}
}

/* lapic.h kvm_lowest_prio_delivery() (v7.0, as v5.15), without msi_redir_hint (IPIs only). */
static inline bool kvm_lowest_prio_delivery(struct kvm_lapic_irq *irq)
{
	return irq->delivery_mode == APIC_DM_LOWEST;
}

/*
 * One iteration of kvm_irq_delivery_to_apic()'s kvm_for_each_vcpu loop (v6.16.1):
 * deliver a fixed interrupt, or record a lowest-priority candidate in
 * lowest[*dest_vcpus] (the dest_vcpu_bitmap).  No early exit: the slow path
 * reaches every matching APIC (the fast path covers unique destinations).
 */
static void irq_delivery_one(struct kvm_lapic *target, struct kvm_lapic *src,
			     struct kvm_lapic_irq *irq, int *r, struct kvm_lapic **lowest,
			     int *dest_vcpus)
{
	if (!kvm_apic_present(target))
		return;
	if (!kvm_apic_match_dest(target, src, irq->shorthand, irq->dest_id, irq->dest_mode))
		return;

	if (!kvm_lowest_prio_delivery(irq)) {
		if (*r < 0)
			*r = 0;
		*r += kvm_apic_set_irq(target, irq);
	} else if (apic_read_once(target, target->sw_enabled) && *dest_vcpus < KVM_MAX_VCPUS) {
		lowest[(*dest_vcpus)++] = target;
	}
}

/* ---- the APIC map, recomputed per IPI ------------------------------------------- */

/* lapic.h enum kvm_apic_logical_mode (v6.16.1), without KVM_APIC_MODE_X2APIC. */
enum kvm_apic_logical_mode {
	KVM_APIC_MODE_SW_DISABLED,	/* no software-enabled APIC with a non-zero LDR */
	KVM_APIC_MODE_XAPIC_CLUSTER,
	KVM_APIC_MODE_XAPIC_FLAT,
	KVM_APIC_MODE_MAP_DISABLED,	/* mixed modes or aliased logical IDs: slow path */
};

/*
 * The part of kvm_host.h struct kvm_apic_map (v6.16.1) an xAPIC IPI consults.
 * The kernel keeps one map per VM, rebuilt under apic_map_lock when ID, LDR,
 * DFR, SPIV or APICBASE change; the model never stores it: the sender rebuilds
 * it on its stack from the registers (read with READ_ONCE) for each IPI that
 * needs it, so there is no shared map state and no apic_map_dirty.  Of
 * phys_map it keeps only which xAPIC IDs are taken (aliasing) and the entry of
 * the IPI's destination.
 */
struct kvm_apic_map {
	enum kvm_apic_logical_mode logical_mode;
	u32 phys_taken[256 / 32];		/* phys_map[id] != NULL */
	struct kvm_lapic *phys_dest;		/* phys_map[irq->dest_id] */
	struct kvm_lapic *xapic_flat_map[8];
	struct kvm_lapic *xapic_cluster_map[16][4];
};

/*
 * lapic.c kvm_apic_map_get_logical_dest() (v6.16.1), xAPIC modes only (no
 * x2APIC cluster through phys_map).
 */
static bool kvm_apic_map_get_logical_dest(struct kvm_apic_map *map, u32 dest_id,
					  struct kvm_lapic ***cluster, u16 *mask)
{
	switch (map->logical_mode) {
	case KVM_APIC_MODE_SW_DISABLED:
		/* Arbitrarily use the flat map so that @cluster isn't NULL. */
		*cluster = map->xapic_flat_map;
		*mask = 0;
		return true;
	case KVM_APIC_MODE_XAPIC_FLAT:
		*cluster = map->xapic_flat_map;
		*mask = dest_id & 0xff;
		return true;
	case KVM_APIC_MODE_XAPIC_CLUSTER:
		*cluster = map->xapic_cluster_map[(dest_id >> 4) & 0xf];
		*mask = dest_id & 0xf;
		return true;
	case KVM_APIC_MODE_MAP_DISABLED:
	default:
		return false;
	}
}

/*
 * lapic.c kvm_recalculate_phys_map() (v6.16.1), xAPIC IDs only; x2apic_format
 * (KVM_CAP_X2APIC_API 32-bit IDs) off, as it is by default, so an xAPIC ID
 * already taken by an earlier present APIC fails the whole map (-EINVAL: every
 * IPI then takes the slow path, which delivers to all APICs with that ID).
 * Leaves out max_apic_id/-E2BIG (xAPIC IDs never exceed 255) and the
 * xapic_id_mismatch APICv inhibit.
 */
static int kvm_recalculate_phys_map(struct kvm_apic_map *new, struct kvm_lapic *apic,
				    u32 dest_id)
{
	u32 xapic_id = kvm_apic_id(apic);

	if (new->phys_taken[xapic_id / 32] & (1u << (xapic_id % 32)))
		return -EINVAL;
	new->phys_taken[xapic_id / 32] |= 1u << (xapic_id % 32);
	if (xapic_id == dest_id)
		new->phys_dest = apic;
	return 0;
}

/*
 * lapic.c kvm_recalculate_logical_map() (v7.0, as v6.16.1), xAPIC only.  Every DFR other
 * than APIC_DFR_FLAT counts as cluster (unlike kvm_apic_match_logical_addr,
 * which matches nothing for a DFR that is neither flat nor cluster); an LDR
 * with several logical ID bits, or two APICs at one bit, disables the map.
 */
static void kvm_recalculate_logical_map(struct kvm_apic_map *new, struct kvm_lapic *apic)
{
	enum kvm_apic_logical_mode logical_mode;
	struct kvm_lapic **cluster;
	u16 mask;
	u32 ldr;

	if (new->logical_mode == KVM_APIC_MODE_MAP_DISABLED)
		return;

	if (!apic_read_once(apic, apic->sw_enabled))
		return;

	ldr = apic_read_once(apic, *apic_reg(apic, APIC_LDR));
	if (!ldr)
		return;

	ldr = GET_APIC_LOGICAL_ID(ldr);
	if (apic_read_once(apic, *apic_reg(apic, APIC_DFR)) == APIC_DFR_FLAT)
		logical_mode = KVM_APIC_MODE_XAPIC_FLAT;
	else
		logical_mode = KVM_APIC_MODE_XAPIC_CLUSTER;

	/* To optimize logical mode delivery, all software-enabled APICs must use one mode. */
	if (new->logical_mode == KVM_APIC_MODE_SW_DISABLED) {
		new->logical_mode = logical_mode;
	} else if (new->logical_mode != logical_mode) {
		new->logical_mode = KVM_APIC_MODE_MAP_DISABLED;
		return;
	}

	if (!kvm_apic_map_get_logical_dest(new, ldr, &cluster, &mask)) {
		new->logical_mode = KVM_APIC_MODE_MAP_DISABLED;
		return;
	}

	if (!mask)
		return;

	ldr = (u32)__builtin_ctz(mask);		/* ffs(mask) - 1 */
	if ((mask & (mask - 1)) || cluster[ldr])	/* !is_power_of_2(mask) */
		new->logical_mode = KVM_APIC_MODE_MAP_DISABLED;
	else
		cluster[ldr] = apic;
}

/* The body of kvm_recalculate_apic_map()'s kvm_for_each_vcpu loop (v6.16.1), for one IPI. */
static int kvm_recalculate_apic_map_one(struct kvm_apic_map *new, struct kvm_lapic *apic,
					struct kvm_lapic_irq *irq)
{
	int r;

	if (!kvm_apic_present(apic))
		return 0;
	r = kvm_recalculate_phys_map(new, apic, irq->dest_id);
	if (r)
		return r;
	if (irq->dest_mode != APIC_DEST_PHYSICAL)
		kvm_recalculate_logical_map(new, apic);
	return 0;
}

/*
 * lapic.c kvm_recalculate_apic_map() (v6.16.1), computed for one IPI: the same
 * walk over the present APICs in vCPU order (a standalone APIC: itself), with
 * the logical part only for a logical IPI (a physical one never looks at it).
 * Returns false where the kernel's map would be NULL.  Leaves out the
 * apic_map_dirty/apic_map_lock/RCU protocol and the APICv inhibits: the model
 * reads the registers at the IPI, the kernel's map reflects them as of the last
 * recalculation (the same for the sender's own writes, which recalculate before
 * the next instruction).
 */
static bool kvm_recalculate_apic_map(struct kvm_lapic *src, struct kvm_lapic_irq *irq,
				     struct kvm_apic_map *new)
{
	struct kvm_vcpu *vcpu;
	int i;

	memset(new, 0, sizeof(*new));
	new->logical_mode = KVM_APIC_MODE_SW_DISABLED;

	if (!src->vcpu)
		return !kvm_recalculate_apic_map_one(new, src, irq);

	kvm_for_each_vcpu(i, vcpu, src->vcpu->kvm)
		if (kvm_recalculate_apic_map_one(new, vcpu->arch.apic, irq))
			return false;
	return true;
}

/*
 * lapic.c kvm_vector_to_index() (v7.0, as v6.16.1) over a 16-bit bitmap: the
 * (vector % dest_vcpus)-th set bit.
 */
static int kvm_vector_to_index(u32 vector, u32 dest_vcpus, u32 bitmap)
{
	u32 mod = vector % dest_vcpus;
	int idx = -1;
	u32 i;

	for (i = 0; i <= mod; i++)
		idx = __builtin_ctz(bitmap & (~0u << (idx + 1)));	/* find_next_bit */
	return idx;
}

/* lapic.c kvm_apic_disabled_lapic_found() (v7.0, as v6.16.1): only a pr_info, once per VM. */
static void kvm_apic_disabled_lapic_found(struct kvm_lapic *src)
{
	(void)src;
}

/*
 * lapic.c kvm_apic_is_broadcast_dest() (v7.0, as v6.16.1), xAPIC sender with the
 * x2APIC broadcast quirk enabled (the default): destination 0xff.
 */
static bool kvm_apic_is_broadcast_dest(struct kvm_lapic_irq *irq)
{
	return irq->dest_id == APIC_BROADCAST;
}

/*
 * lapic.c kvm_apic_map_get_dest_lapic() (v6.16.1), vector hashing on (its
 * default; no apic_arb_prio arbitration), xAPIC only.  The APIC_DEST_SELF branch
 * is left out: kvm_irq_delivery_to_apic_fast() never reaches it.  True with
 * *bitmap == 0 means: drop the interrupt.
 */
static bool kvm_apic_map_get_dest_lapic(struct kvm_lapic *src, struct kvm_lapic_irq *irq,
					struct kvm_apic_map *map, struct kvm_lapic ***dst,
					u16 *bitmap)
{
	int lowest;

	if (irq->shorthand)
		return false;

	if (!map || kvm_apic_is_broadcast_dest(irq))
		return false;

	if (irq->dest_mode == APIC_DEST_PHYSICAL) {
		/* An xAPIC destination never exceeds max_apic_id (>= 255). */
		*dst = &map->phys_dest;
		*bitmap = 1;
		return true;
	}

	*bitmap = 0;
	if (!kvm_apic_map_get_logical_dest(map, irq->dest_id, dst, bitmap))
		return false;

	if (!kvm_lowest_prio_delivery(irq))
		return true;

	if (!*bitmap)
		return true;

	lowest = kvm_vector_to_index(irq->vector, (u32)__builtin_popcount(*bitmap), *bitmap);

	if (!(*dst)[lowest]) {
		kvm_apic_disabled_lapic_found(src);
		*bitmap = 0;
		return true;
	}

	*bitmap = (u16)(1u << lowest);
	return true;
}

/*
 * lapic.c kvm_irq_delivery_to_apic_fast() (v6.16.1), without dest_map and RCU.
 * The map is only built for an IPI that consults it (a destination, not a
 * shorthand or broadcast).
 */
static bool kvm_irq_delivery_to_apic_fast(struct kvm_lapic *src, struct kvm_lapic_irq *irq,
					  int *r)
{
	struct kvm_apic_map map_storage, *map = NULL;
	struct kvm_lapic **dst = NULL;
	u16 bitmap = 0;
	int i;

	*r = -1;

	if (irq->shorthand == APIC_DEST_SELF) {
		*r = kvm_apic_set_irq(src, irq);
		return true;
	}

	if (!irq->shorthand && !kvm_apic_is_broadcast_dest(irq) &&
	    kvm_recalculate_apic_map(src, irq, &map_storage))
		map = &map_storage;

	if (!kvm_apic_map_get_dest_lapic(src, irq, map, &dst, &bitmap))
		return false;

	*r = 0;
	for (i = 0; i < 16; i++) {
		if (!(bitmap & (1u << i)) || !dst[i])
			continue;
		*r += kvm_apic_set_irq(dst[i], irq);
	}
	return true;
}

/*
 * kvm_irq_delivery_to_apic() -> __kvm_irq_delivery_to_apic() (lapic.c v7.0, as
 * irq_comm.c's in v6.16.1 and v5.15): the APIC-map fast path first, then the slow path
 * (kvm_apic_match_dest over every present APIC), lowest priority by vector
 * hashing (kvm_vector_to_index; vector_hashing defaults to on).  A standalone
 * APIC is the only APIC: the map and the slow path see itself alone.
 */
static int kvm_irq_delivery_to_apic(struct kvm_lapic *src, struct kvm_lapic_irq *irq)
{
	struct kvm_lapic *lowest[KVM_MAX_VCPUS];
	int i, r = -1, dest_vcpus = 0;
	struct kvm_vcpu *vcpu;

	if (kvm_irq_delivery_to_apic_fast(src, irq, &r))
		return r;

	if (irq->dest_mode == APIC_DEST_PHYSICAL && irq->dest_id == APIC_BROADCAST &&
	    kvm_lowest_prio_delivery(irq))
		irq->delivery_mode = APIC_DM_FIXED;

	if (!src->vcpu) {
		irq_delivery_one(src, src, irq, &r, lowest, &dest_vcpus);
	} else {
		kvm_for_each_vcpu(i, vcpu, src->vcpu->kvm)
			irq_delivery_one(vcpu->arch.apic, src, irq, &r, lowest, &dest_vcpus);
	}

	/* kvm_vector_to_index(): the (vector % dest_vcpus)-th candidate in vCPU order. */
	if (dest_vcpus)
		r = kvm_apic_set_irq(lowest[irq->vector % (u32)dest_vcpus], irq);
	return r;
}

/*
 * kvm_set_msi() -> kvm_irq_delivery_to_apic(kvm, NULL, &irq) (irq.c v7.2, as
 * irq_comm.c's in v6.17) for what KVM_SIGNAL_MSI or an irqfd injects from the host: a fixed,
 * edge-triggered MSI to one physical APIC ID, through the slow path's loop
 * (the APIC-map fast path picks the same single APIC).
 */
int kvm_set_msi(struct kvm *kvm, u32 dest_id, int vector)
{
	struct kvm_lapic_irq irq = {
		.vector = (u32)vector, .delivery_mode = APIC_DM_FIXED,
		.dest_mode = APIC_DEST_PHYSICAL, .level = true, .trig_mode = 0,
		.shorthand = APIC_DEST_NOSHORT, .dest_id = dest_id,
	};
	struct kvm_lapic *lowest[KVM_MAX_VCPUS];
	int i, r = -1, dest_vcpus = 0;
	struct kvm_vcpu *vcpu;

	kvm_for_each_vcpu(i, vcpu, kvm)
		irq_delivery_one(vcpu->arch.apic, NULL, &irq, &r, lowest, &dest_vcpus);
	return r;
}

/* lapic.c kvm_apic_send_ipi() (v7.0, as v5.15), xAPIC destination field; no trace. */
void kvm_apic_send_ipi(struct kvm_lapic *apic, u32 icr_low, u32 icr_high)
{
	struct kvm_lapic_irq irq;

	irq.vector = icr_low & APIC_VECTOR_MASK;
	irq.delivery_mode = icr_low & APIC_MODE_MASK;
	irq.dest_mode = icr_low & APIC_DEST_MASK;
	irq.level = (icr_low & APIC_INT_ASSERT) != 0;
	irq.trig_mode = icr_low & APIC_INT_LEVELTRIG;
	irq.shorthand = icr_low & APIC_SHORT_MASK;
	irq.dest_id = GET_APIC_DEST_FIELD(icr_high);

	kvm_irq_delivery_to_apic(apic, &irq);
}

/* ---- register reads ------------------------------------------------------------ */

/* lapic.c __apic_read() (v7.0, as v5.15); TMCCT reads 0 (no timer countdown); no TPR reporting. */
static u32 __apic_read(struct kvm_lapic *apic, u32 offset)
{
	u32 val = 0;

	if (offset >= LAPIC_MMIO_LENGTH)
		return 0;

	switch (offset) {
	case APIC_ARBPRI:
		break;
	case APIC_TMCCT:	/* Timer CCR */
		/* No TSC-deadline mode; the hrtimer countdown (apic_get_tmcct) is not modelled. */
		break;
	case APIC_PROCPRI:
		apic_update_ppr(apic);
		val = kvm_lapic_get_reg(apic, offset);
		break;
	default:
		val = apic_get_reg_local(apic, offset);
		break;
	}
	return val;
}

#define APIC_REG_MASK(reg) (1ull << ((reg) >> 4))
#define APIC_REGS_MASK(first, count) (APIC_REG_MASK(first) * ((1ull << (count)) - 1))

/* lapic.c kvm_lapic_reg_read() (v7.0, as v5.15), xAPIC mode (APR valid); no trace. */
int kvm_lapic_reg_read(struct kvm_lapic *apic, u32 offset, int len, void *data)
{
	unsigned char alignment = offset & 0xf;
	u32 result;
	/* This bitmask has a bit cleared for each reserved register. */
	u64 valid_reg_mask =
		APIC_REG_MASK(APIC_ID) |
		APIC_REG_MASK(APIC_LVR) |
		APIC_REG_MASK(APIC_TASKPRI) |
		APIC_REG_MASK(APIC_PROCPRI) |
		APIC_REG_MASK(APIC_LDR) |
		APIC_REG_MASK(APIC_DFR) |
		APIC_REG_MASK(APIC_SPIV) |
		APIC_REGS_MASK(APIC_ISR, APIC_ISR_NR) |
		APIC_REGS_MASK(APIC_TMR, APIC_ISR_NR) |
		APIC_REGS_MASK(APIC_IRR, APIC_ISR_NR) |
		APIC_REG_MASK(APIC_ESR) |
		APIC_REG_MASK(APIC_ICR) |
		APIC_REG_MASK(APIC_ICR2) |
		APIC_REG_MASK(APIC_LVTT) |
		APIC_REG_MASK(APIC_LVTTHMR) |
		APIC_REG_MASK(APIC_LVTPC) |
		APIC_REG_MASK(APIC_LVT0) |
		APIC_REG_MASK(APIC_LVT1) |
		APIC_REG_MASK(APIC_LVTERR) |
		APIC_REG_MASK(APIC_TMICT) |
		APIC_REG_MASK(APIC_TMCCT) |
		APIC_REG_MASK(APIC_TDCR);

	/* ARBPRI is not valid on x2APIC; the model is always in xAPIC mode. */
	valid_reg_mask |= APIC_REG_MASK(APIC_ARBPRI);

	if (alignment + len > 4)
		return 1;

	if (offset > 0x3f0 || !(valid_reg_mask & APIC_REG_MASK(offset)))
		return 1;

	result = __apic_read(apic, offset & ~0xfu);

	switch (len) {
	case 1:
	case 2:
	case 4:
		memcpy(data, (char *)&result + alignment, len);
		break;
	default:
		/* The kernel only logs "Local APIC read with len = %x". */
		break;
	}
	return 0;
}

/*
 * lapic.c apic_mmio_in_range() (v7.0, as v5.15): the page at the APIC's base.  The
 * model keeps the whole IA32_APIC_BASE in base_address; the kernel's field
 * holds only its MSR_IA32_APICBASE_BASE bits.
 */
static bool apic_mmio_in_range(struct kvm_lapic *apic, gpa_t addr)
{
	gpa_t base = apic->base_address & MSR_IA32_APICBASE_BASE;

	return addr >= base && addr < base + LAPIC_MMIO_LENGTH;
}

/*
 * lapic.c apic_mmio_read() (v7.0, as v5.15) plus the emulator buffer it fills.  The kernel
 * ignores kvm_lapic_reg_read()'s failure and returns 0, so for a reserved or
 * write-only offset, a misaligned or oversized read, the guest gets whatever the
 * emulator's read buffer (ctxt->mem_read.data, reused by every emulated read of
 * the vCPU) held: the previous read's bytes (real-kvm-notes §1, Pitfalls 6).
 * last_mmio_read is that buffer's first 4 bytes; a successful len-byte read
 * overwrites its first len bytes.  The hardware-disabled and x2APIC cases use
 * the LAPIC_MMIO_HOLE quirk (on by default): all ones.  -EOPNOTSUPP: the
 * address is not this APIC's page (vcpu_mmio_read() looks further).
 */
int apic_mmio_read(struct kvm_lapic *apic, gpa_t address, int len, u32 *val)
{
	u8 *data = (u8 *)&apic->last_mmio_read;
	u32 offset = (u32)(address - (apic->base_address & MSR_IA32_APICBASE_BASE));

	if (!apic_mmio_in_range(apic, address))
		return -EOPNOTSUPP;
	/* The model's guest accesses are at most 4 bytes. */
	if (len < 1 || len > 4)
		return -EINVAL;

	if (!kvm_apic_hw_enabled(apic) || apic_x2apic_mode(apic))
		memset(data, 0xff, len);
	else
		kvm_lapic_reg_read(apic, offset, len, data);

	*val = 0;
	memcpy(val, data, len);
	return 0;
}

/* ---- register writes ---------------------------------------------------------------- */

/*
 * lapic.c kvm_lapic_xapic_id_updated() (v6.1: 3743c2f02517 with a58a66afc464
 * and f651a0089548), the APIC-ID inhibit before d471bd853d38 (v6.3), which
 * KVM_BUG_APIC_ID_INHIBIT_STICKY brings back: an xAPIC ID that is not the
 * vCPU ID inhibits APICv/AVIC VM-wide, raised on the vCPU's own thread
 * (kvm_make_all_cpus_request() then sets the request on this vCPU without an
 * IPI: cpu == me), and nothing ever clears it.  AVIC's physical ID table is
 * indexed by vCPU ID, so the hardware would go on delivering IPIs to the old
 * ID.
 */
static void kvm_lapic_xapic_id_updated(struct kvm_lapic *apic)
{
	struct kvm_vcpu *vcpu = apic->vcpu;

	if (!vcpu || !kvm_apic_hw_enabled(apic))
		return;
	/* Deliberately truncate the vCPU ID (f651a0089548). */
	if (kvm_apic_id(apic) == (u8)vcpu->vcpu_id)
		return;
	kvm_set_apicv_inhibit(vcpu->kvm, APICV_INHIBIT_REASON_APIC_ID_MODIFIED);
}

/*
 * The APICv part of lapic.c kvm_recalculate_apic_map() (v7.0, torvalds
 * 000d75b0b186; d471bd853d38, v6.3, folded the APIC-ID inhibit in here so
 * that it is cleared once every ID is back): once per change that dirtied the
 * map, under apic_map_lock, every present APIC is checked for an xAPIC ID
 * other than its (truncated) vCPU ID, and APICV_INHIBIT_REASON_APIC_ID_MODIFIED
 * is set or cleared to match, on the thread that made the change.  The map
 * itself the model recomputes per IPI (kvm_recalculate_apic_map() above), so
 * the -E2BIG retry (x2APIC IDs) has no counterpart here, and the two
 * aliasing inhibits a map that cannot be built raises
 * (PHYSICAL_ID_ALIASED, LOGICAL_ID_ALIASED) are not modelled: no scenario
 * aliases IDs.  Before 3743c2f02517 there was no inhibit at all
 * (KVM_BUG_APIC_ID_NO_INHIBIT); from it to d471bd853d38, the one in
 * kvm_lapic_xapic_id_updated().
 */
void kvm_recalculate_apic_map_inhibits(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	bool xapic_id_mismatch;
	int i;

	/* Read kvm->arch.apic_map_dirty before kvm->arch.apic_map (atomic_read_acquire). */
	if (atomic_read(&kvm->arch.apic_map_dirty) == KVM_APIC_MAP_CLEAN)
		return;

	mutex_lock(&kvm->arch.apic_map_lock);

	/* atomic_cmpxchg_acquire(): someone else may have updated the map. */
	if (atomic_cmpxchg(&kvm->arch.apic_map_dirty, KVM_APIC_MAP_DIRTY,
			   KVM_APIC_MAP_UPDATE_IN_PROGRESS) == KVM_APIC_MAP_CLEAN) {
		mutex_unlock(&kvm->arch.apic_map_lock);
		return;
	}

	xapic_id_mismatch = false;
	kvm_for_each_vcpu(i, vcpu, kvm) {
		struct kvm_lapic *apic = vcpu->arch.apic;

		if (!kvm_apic_present(apic))
			continue;
		/* kvm_recalculate_phys_map(): deliberately truncate the vCPU ID. */
		if (!(apic_read_once(apic, apic->base_address) & X2APIC_ENABLE) &&
		    kvm_apic_id(apic) != (u8)vcpu->vcpu_id)
			xapic_id_mismatch = true;
	}

	if (!kvm_bug(kvm, KVM_BUG_APIC_ID_NO_INHIBIT) && !kvm_bug(kvm, KVM_BUG_APIC_ID_INHIBIT_STICKY)) {
		if (xapic_id_mismatch)
			kvm_set_apicv_inhibit(kvm, APICV_INHIBIT_REASON_APIC_ID_MODIFIED);
		else
			kvm_clear_apicv_inhibit(kvm, APICV_INHIBIT_REASON_APIC_ID_MODIFIED);
	}

	/* atomic_cmpxchg_release(): if another update has come in, leave it DIRTY. */
	atomic_cmpxchg(&kvm->arch.apic_map_dirty, KVM_APIC_MAP_UPDATE_IN_PROGRESS, KVM_APIC_MAP_CLEAN);
	mutex_unlock(&kvm->arch.apic_map_lock);
}

/*
 * lapic.c kvm_lapic_reg_write() (v7.0, torvalds 000d75b0b186; the xAPIC cases
 * as in v5.15), xAPIC mode.  Left out: TPR-access reporting, the NMI-watchdog
 * count on LVT0, the timer (apic_update_lvtt and (re)arming on TMICT/TDCR
 * writes, see APIC_TIMER_MODE_MASK), LVTCMCI.  The map's APICv inhibit is
 * recalculated after every write (a no-op unless the write dirtied the map);
 * the map itself is recomputed per IPI.
 */
int kvm_lapic_reg_write(struct kvm_lapic *apic, u32 reg, u32 val)
{
	int ret = 0;

	switch (reg) {
	case APIC_ID:		/* Local APIC ID */
		kvm_apic_set_xapic_id(apic, val >> 24);
		if (apic->vcpu && kvm_bug(apic->vcpu->kvm, KVM_BUG_APIC_ID_INHIBIT_STICKY))
			kvm_lapic_xapic_id_updated(apic);
		break;

	case APIC_TASKPRI:
		apic_set_tpr(apic, val & 0xff);
		break;

	case APIC_EOI:
		apic_set_eoi(apic);
		break;

	case APIC_LDR:
		kvm_apic_set_ldr(apic, val & APIC_LDR_MASK);
		break;

	case APIC_DFR:
		kvm_apic_set_dfr(apic, val | 0x0fffffff);
		break;

	case APIC_SPIV: {
		u32 mask = 0x3ff;

		if (kvm_lapic_get_reg(apic, APIC_LVR) & APIC_LVR_DIRECTED_EOI)
			mask |= APIC_SPIV_DIRECTED_EOI;
		apic_set_spiv(apic, val & mask);
		if (!(val & APIC_SPIV_APIC_ENABLED)) {
			int i;
			u32 lvt_val;

			for (i = 0; i < KVM_APIC_LVT_NUM; i++) {
				lvt_val = kvm_lapic_get_reg(apic, APIC_LVTT + 0x10 * i);
				kvm_lapic_set_reg(apic, APIC_LVTT + 0x10 * i,
						  lvt_val | APIC_LVT_MASKED);
			}
			/* apic_update_lvtt() and lapic_timer.pending = 0: no timer. */
		}
		break;
	}
	case APIC_ICR:
		/* No delay here, so we always clear the pending bit. */
		val &= ~APIC_ICR_BUSY;
		kvm_apic_send_ipi(apic, val, kvm_lapic_get_reg(apic, APIC_ICR2));
		kvm_lapic_set_reg(apic, APIC_ICR, val);
		break;

	case APIC_ICR2:
		val &= 0xff000000;
		kvm_lapic_set_reg(apic, APIC_ICR2, val);
		break;

	case APIC_LVT0:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT1:
	case APIC_LVTERR: {
		u32 index = (reg - APIC_LVTT) >> 4;

		if (!apic->sw_enabled)
			val |= APIC_LVT_MASKED;
		val &= apic_lvt_mask[index];
		kvm_lapic_set_reg(apic, reg, val);
		break;
	}

	case APIC_LVTT:
		if (!apic->sw_enabled)
			val |= APIC_LVT_MASKED;
		val &= (apic_lvt_mask[0] | APIC_TIMER_MODE_MASK);
		kvm_lapic_set_reg(apic, APIC_LVTT, val);
		/* apic_update_lvtt(): no timer. */
		break;

	case APIC_TMICT:
		/* Never in TSC-deadline mode; cancel/start_apic_timer(): no timer. */
		kvm_lapic_set_reg(apic, APIC_TMICT, val);
		break;

	case APIC_TDCR:
		kvm_lapic_set_reg(apic, APIC_TDCR, val & 0xb);
		break;

	case APIC_ESR:
		/* xAPIC: accepted, no effect (ESR latching is not emulated). */
		break;

	case APIC_SELF_IPI:
		/* x2APIC only. */
		ret = 1;
		break;

	default:
		ret = 1;
		break;
	}

	/*
	 * Recalculate APIC maps if necessary, e.g. if the software enable bit
	 * was toggled, the APIC ID changed, etc...   The maps are marked dirty
	 * on relevant changes, i.e. this is a nop for most writes.
	 */
	if (apic->vcpu)
		kvm_recalculate_apic_map_inhibits(apic->vcpu->kvm);
	return ret;
}

/*
 * lapic.c apic_mmio_write() (v7.0, as v5.15): only 4-byte accesses to 16-byte aligned
 * offsets reach the register (SDM 10.4.1); the rest, and every write while the
 * APIC is hardware-disabled (LAPIC_MMIO_HOLE quirk), is dropped; the result of
 * kvm_lapic_reg_write() is ignored.  -EOPNOTSUPP: not this APIC's page.
 */
int apic_mmio_write(struct kvm_lapic *apic, gpa_t address, int len, u32 val)
{
	u32 offset;

	if (!apic_mmio_in_range(apic, address))
		return -EOPNOTSUPP;

	if (!kvm_apic_hw_enabled(apic) || apic_x2apic_mode(apic))
		return 0;

	offset = (u32)(address - (apic->base_address & MSR_IA32_APICBASE_BASE));
	if (len != 4 || (offset & 0xf))
		return 0;

	kvm_lapic_reg_write(apic, offset & 0xff0, val);
	return 0;
}

/*
 * vcpu_mmio_read(), x86.c v6.18 (gregkh v6.18.38, as v5.15), for the model's
 * one MMIO device, the vCPU's own in-kernel LAPIC (no device is on the
 * KVM_MMIO_BUS): what the LAPIC does not claim exits to userspace, which the
 * model completes as a VMM does for MMIO no device claims: a read returns all
 * ones, which land in the emulator's read buffer; a write is dropped.  Both
 * take the LAPIC, not the vCPU, so that the reference APIC shares them.
 * True if the LAPIC claimed the access.
 */
bool vcpu_mmio_read(struct kvm_lapic *apic, gpa_t addr, int len, u32 *val)
{
	if (!apic_mmio_read(apic, addr, len, val))
		return true;
	memset(&apic->last_mmio_read, 0xff, len);
	*val = len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
	return false;
}

/* vcpu_mmio_write(), x86.c v6.18 (as v5.15): the write side; unclaimed, it is dropped. */
bool vcpu_mmio_write(struct kvm_lapic *apic, gpa_t addr, int len, u32 val)
{
	return !apic_mmio_write(apic, addr, len, val);
}

/*
 * lapic.c kvm_apic_write_nodecode() (v7.0, xAPIC): replay a register hardware
 * already wrote, with the raw value in the page (v5.18's "Use "raw" APIC
 * register read for handling APIC-write VM-Exit"; v5.15 went through
 * kvm_lapic_reg_read(), which for EOI and RRR, not readable, passed 0 instead:
 * both writes ignore it).  The offset's masking moved to VMX's
 * handle_apic_write() then; the model's exits pass an aligned offset.
 */
void kvm_apic_write_nodecode(struct kvm_vcpu *vcpu, u32 offset)
{
	kvm_lapic_reg_write(vcpu->arch.apic, offset & 0xff0, kvm_lapic_get_reg(vcpu->arch.apic, offset & 0xff0));
}

/* ---- interrupt acceptance ------------------------------------------------------------ */

/* lapic.c kvm_apic_has_interrupt() (v7.0, as v5.15; no TDX): the deliverable vector or -1. */
static int __kvm_apic_has_interrupt(struct kvm_lapic *apic)
{
	u32 ppr;

	if (!kvm_apic_hw_enabled(apic))
		return -1;

	__apic_update_ppr(apic, &ppr);
	return apic_has_interrupt_for_ppr(apic, ppr);
}

/* lapic.c kvm_apic_has_interrupt() (v7.0, as v5.15), as a predicate. */
bool kvm_apic_has_interrupt(struct kvm_lapic *apic)
{
	return __kvm_apic_has_interrupt(apic) != -1;
}

/*
 * lapic.c kvm_apic_has_interrupt() then kvm_apic_ack_interrupt() (v7.0, as
 * kvm_cpu_get_interrupt() calls them since a194a3a13ce0 and aa9477966aab,
 * v6.12; kvm_get_apic_interrupt() until then, the same steps): move the highest IRR
 * vector above PPR into ISR; no Hyper-V auto-EOI.
 */
int kvm_apic_accept_interrupt(struct kvm_lapic *apic)
{
	int vector = __kvm_apic_has_interrupt(apic);
	u32 ppr;

	if (vector == -1)
		return -1;

	apic_clear_irr(vector, apic);
	/*
	 * PPR has been raised and there cannot be a higher-priority pending
	 * interrupt, except after a concurrent injection, which raised KVM_REQ_EVENT.
	 */
	apic_set_isr(vector, apic);
	__apic_update_ppr(apic, &ppr);
	return vector;
}

/*
 * The oracles' view: the vector the guest could take now (what
 * kvm_apic_has_interrupt() would answer), read without
 * scheduling points (ghost reads) so that checking does not change what is
 * explored.  PPR is recomputed from TPR and ISR as __apic_update_ppr() does.
 */
static u32 apic_peek(struct kvm_lapic *apic, u32 reg)
{
	u32 *p = apic_reg(apic, reg);

	if (apic_is_shared(apic))
		rt->observe(p, sizeof(*p), false);
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int apic_peek_highest(struct kvm_lapic *apic, u32 bank)
{
	for (int vec = MAX_APIC_VECTOR - APIC_VECTORS_PER_REG; vec >= 0; vec -= APIC_VECTORS_PER_REG) {
		u32 reg = apic_peek(apic, bank + REG_POS(vec));

		if (reg)
			return 31 - __builtin_clz(reg) + vec;
	}
	return -1;
}

/* PPR from TPR and the highest ISR vector, as __apic_update_ppr() computes it. */
static u32 apic_ppr_of(u32 tpr, int isr)
{
	u32 isrv = isr < 0 ? 0 : (u32)isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr & 0xff : isrv & 0xf0;
}

int kvm_apic_deliverable_vector(struct kvm_lapic *apic, const u32 *pir)
{
	int irr, isr;
	u32 tpr, ppr;

	/* As kvm_apic_has_interrupt(): the APIC must be hardware-enabled; SPIV is not looked at. */
	if (!(apic->base_address & MSR_IA32_APICBASE_ENABLE))
		return -1;
	irr = apic_peek_highest(apic, APIC_IRR);
	for (int i = 7; pir && i >= 0; i--) {
		u32 w;

		rt->observe(&pir[i], sizeof(u32), false);
		w = __atomic_load_n(&pir[i], __ATOMIC_RELAXED);
		if (w) {
			if (31 - __builtin_clz(w) + i * 32 > irr)
				irr = 31 - __builtin_clz(w) + i * 32;
			break;
		}
	}
	if (irr < 0)
		return -1;
	isr = apic_peek_highest(apic, APIC_ISR);
	tpr = apic_peek(apic, APIC_TASKPRI) & 0xff;
	ppr = apic_ppr_of(tpr, isr);
	return ((u32)irr & 0xf0) > (ppr & 0xf0) ? irr : -1;
}

/*
 * What the CPU does when it evaluates pending virtual interrupts (AVIC: at
 * VMRUN and on a doorbell, APM vol. 2 15.29.2; VMX virtual-interrupt
 * delivery: at VM entry, SDM vol. 3 30.2.2 with RVI = the highest IRR): the
 * highest vector in the backing page's IRR, if its priority class is above
 * PPR's, is cleared from IRR (atomically: other CPUs set IRR bits), set in ISR
 * and PPR is raised to its class.  KVM's software caches (irr_pending,
 * isr_count, highest_isr_cache) are untouched: they are fixed while APICv is
 * active and recomputed when it is deactivated.
 */
int kvm_apic_hw_deliver(struct kvm_lapic *apic, u32 tpr)
{
	int vec = -1;
	u32 ppr;

	for (int v = MAX_APIC_VECTOR - APIC_VECTORS_PER_REG; v >= 0; v -= APIC_VECTORS_PER_REG) {
		u32 reg = hw_load(*apic_reg(apic, APIC_IRR + REG_POS(v)));

		if (reg) {
			vec = 31 - __builtin_clz(reg) + v;
			break;
		}
	}
	if (vec < 0)
		return -1;
	ppr = apic_ppr_of(tpr, find_highest_vector(apic, APIC_ISR));
	if (((u32)vec & 0xf0) <= (ppr & 0xf0))
		return -1;
	kvm_lapic_clear_vector(apic, vec, APIC_IRR);
	__apic_test_and_set_isr(apic, vec);
	kvm_lapic_set_reg(apic, APIC_PROCPRI, (u32)vec & 0xf0);
	return vec;
}

/*
 * VMX EOI virtualization (SDM vol. 3 30.1.4), for an EOI whose vector is not
 * in the EOI-exit bitmap: the vISR bit of SVI is cleared, SVI becomes the
 * highest remaining vISR vector (0 if none) and vPPR follows.  Returns the
 * new SVI.
 */
int kvm_apic_hw_virtual_eoi(struct kvm_lapic *apic, int svi)
{
	int isr;

	__apic_test_and_clear_isr(apic, svi);
	isr = find_highest_vector(apic, APIC_ISR);
	kvm_lapic_set_reg(apic, APIC_PROCPRI, apic_ppr_of(kvm_lapic_get_reg(apic, APIC_TASKPRI), isr));
	return isr < 0 ? 0 : isr;
}

/* The highest vector in ISR, or -1 (what the guest's next EOI should retire). */
int kvm_apic_highest_isr(struct kvm_lapic *apic)
{
	return find_highest_vector(apic, APIC_ISR);
}

/* ---- APICv, reset, creation ------------------------------------------------------------ */

/*
 * lapic.c kvm_apic_update_apicv() (v7.0, 000d75b0b186): irr_pending is set
 * unconditionally (d3ddef46f22e), because other CPUs and devices may still set
 * IRR bits as if APICv were on; on activation SVI is set from vISR
 * (b2849bec936b); the highest_isr_cache purge is 97a71c444a14.
 * 'search_irr' is the v5.15-v5.17 body that 755c2bf87860 changed: on
 * deactivation irr_pending is recomputed from the IRR, which races with a
 * sender that sets an IRR bit and irr_pending meanwhile.
 */
static void __kvm_apic_update_apicv(struct kvm_lapic *apic, bool apicv_active, bool search_irr,
				    bool keep_isr_cache)
{
	if (search_irr) {
		if (apicv_active) {
			/* irr_pending is always true when APICv is activated. */
			apic_write_once(apic, apic->irr_pending, true);
			apic->isr_count = 1;
		} else {
			apic_write_once(apic, apic->irr_pending, apic_search_irr(apic) != -1);
			apic->isr_count = (s16)count_vectors(apic, APIC_ISR);
		}
		if (!keep_isr_cache)
			apic->highest_isr_cache = -1;
		return;
	}
	apic_write_once(apic, apic->irr_pending, true);
	if (apicv_active) {
		apic->isr_count = 1;
		/* b2849bec936b: SVI reflects vISR once APICv is on (000d75b0b186's place). */
		if (apic->vcpu && !kvm_bug(apic->vcpu->kvm, KVM_BUG_SVI_STALE))
			kvm_x86_hwapic_isr_update(apic->vcpu, apic_find_highest_isr(apic));
	} else {
		apic->isr_count = (s16)count_vectors(apic, APIC_ISR);
	}
	if (!keep_isr_cache)	/* 97a71c444a14 */
		apic->highest_isr_cache = -1;
}

/* lapic.c kvm_apic_update_apicv() (see __kvm_apic_update_apicv). */
void kvm_apic_update_apicv(struct kvm_vcpu *vcpu)
{
	__kvm_apic_update_apicv(vcpu->arch.apic, vcpu->arch.apicv_active,
				kvm_bug(vcpu->kvm, KVM_BUG_IRR_PENDING_SEARCH),
				kvm_bug(vcpu->kvm, KVM_BUG_ISR_CACHE_STALE));
}

/*
 * lapic.c kvm_lapic_reset(vcpu, init_event=false) (v7.0, torvalds
 * 000d75b0b186, with v7.2's apic_update_ppr(); the register values as v5.15,
 * the map recalculation at its end).  Left out: apicv_pre_state_restore()
 * first (VMX clears PIR, 9cfec6d097c6), which matters only for a reset after
 * creation: none here; the timer (hrtimer_cancel, apic_update_lvtt,
 * update_divide_count), NMI watchdog, PV EOI, apic_arb_prio/apic_attention,
 * and the APICv RVI/SVI refresh.  A standalone APIC has no vcpu_id: its xAPIC
 * ID is left as is.  LINT0 = ExtINT on the BSP assumes the LINT0_REENABLED
 * quirk (on by default).
 */
void kvm_lapic_reset(struct kvm_lapic *apic, bool bsp)
{
	struct kvm_vcpu *vcpu = apic->vcpu;
	u64 msr_val;
	int i;

	msr_val = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE;
	if (bsp)
		msr_val |= MSR_IA32_APICBASE_BSP;
	apic_write_once(apic, apic->base_address, msr_val);	/* __kvm_apic_set_base(): the ID follows */

	/* The xAPIC ID is set at RESET even if the APIC was already enabled. */
	if (vcpu)
		kvm_apic_set_xapic_id(apic, (u8)vcpu->vcpu_id);
	kvm_apic_set_version(apic);

	for (i = 0; i < KVM_APIC_LVT_NUM; i++)
		kvm_lapic_set_reg(apic, APIC_LVTT + 0x10 * i, APIC_LVT_MASKED);
	if (bsp)
		kvm_lapic_set_reg(apic, APIC_LVT0, SET_APIC_DELIVERY_MODE(0, APIC_MODE_EXTINT));

	kvm_apic_set_dfr(apic, 0xffffffffu);
	apic_set_spiv(apic, 0xff);
	kvm_lapic_set_reg(apic, APIC_TASKPRI, 0);
	kvm_apic_set_ldr(apic, 0);
	kvm_lapic_set_reg(apic, APIC_ESR, 0);
	kvm_lapic_set_reg(apic, APIC_ICR, 0);
	kvm_lapic_set_reg(apic, APIC_ICR2, 0);
	kvm_lapic_set_reg(apic, APIC_TDCR, 0);
	kvm_lapic_set_reg(apic, APIC_TMICT, 0);
	for (i = 0; i < APIC_ISR_NR; i++) {
		apic_set_reg_shared(apic, APIC_IRR + 0x10 * i, 0);
		kvm_lapic_set_reg(apic, APIC_ISR + 0x10 * i, 0);
		apic_set_reg_shared(apic, APIC_TMR + 0x10 * i, 0);
	}
	__kvm_apic_update_apicv(apic, kvm_apicv_active(apic),
				apic->vcpu && kvm_bug(apic->vcpu->kvm, KVM_BUG_IRR_PENDING_SEARCH), false);
	apic->highest_isr_cache = -1;
	apic_update_ppr(apic);
	/* kvm_recalculate_apic_map(vcpu->kvm), as v7.0 ends the reset. */
	if (vcpu)
		kvm_recalculate_apic_map_inhibits(vcpu->kvm);
}

/* A standalone APIC: kvm_create_lapic + kvm_lapic_reset without a vCPU. */
void kvm_lapic_init_standalone(struct kvm_lapic *apic, u32 apic_id, bool bsp)
{
	memset(apic, 0, sizeof(*apic));
	kvm_apic_set_xapic_id(apic, (u8)apic_id);
	kvm_lapic_reset(apic, bsp);
}

/*
 * lapic.c kvm_create_lapic() (v7.0, torvalds 000d75b0b186; the shape of
 * a78d9046696b, v6.9): the APIC-base ENABLE bit stuffed, and with
 * enable_apicv the vCPU marked APICv-active with a KVM_REQ_APICV_UPDATE that
 * reconciles it with the VM's inhibits before its first entry (423ecfea77dd:
 * the vCPU gets no notification of inhibit changes until it is online).
 * Before 423ecfea77dd (KVM_BUG_CREATE_NO_REQUEST, then in
 * kvm_arch_vcpu_create()) the flag copied the VM's state, which may be stale
 * by entry.  No reset here: kvm_vcpu_reset() runs later.  No hrtimer, no MMIO
 * device registration (the model's emulator calls apic_mmio_*).
 */
int kvm_create_lapic(struct kvm_vcpu *vcpu)
{
	struct kvm_lapic *apic;

	apic = kvm_zalloc(sizeof(*apic));
	if (!apic)
		return -ENOMEM;

	vcpu->arch.apic = apic;
	apic->vcpu = vcpu;
	/* Stuff the APIC ENABLE bit in lieu of temporary static_key */
	apic->base_address = MSR_IA32_APICBASE_ENABLE;
	if (kvm_bug(vcpu->kvm, KVM_BUG_CREATE_NO_REQUEST)) {
		if (kvm_apicv_activated(vcpu->kvm))
			vcpu->arch.apicv_active = true;
	} else if (vcpu->kvm->cfg.enable_apicv) {
		vcpu->arch.apicv_active = true;
		kvm_make_request(KVM_REQ_APICV_UPDATE, vcpu);
	}
	return 0;
}

/* ---- model queries ------------------------------------------------------------------------ */

/* Registers only the APIC's own accesses determine (see model/lapic.h). */
bool lapic_reg_is_self_determined(u32 reg)
{
	switch (reg) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_TASKPRI:
	case APIC_ARBPRI:
	case APIC_LDR:
	case APIC_DFR:
	case APIC_SPIV:
	case APIC_ESR:
	case APIC_ICR:		/* stored with bit 12 (delivery status) cleared */
	case APIC_ICR2:
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
	case APIC_TMICT:
	case APIC_TDCR:
		return true;
	default:
		return false;
	}
}
