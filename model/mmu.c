// SPDX-License-Identifier: GPL-2.0
/*
 * The TDP MMU as far as the APIC-access page needs it: a 4-level radix of
 * SPTEs, the direct page-fault path (docs/kvm-protocol.md §1.2), MMIO SPTEs, the
 * mmu_invalidate_seq / in-progress protocol (§2) and kvm_zap_gfn_range (§5).
 *
 * Locking: leaf and non-leaf SPTEs are installed with cmpxchg under the read
 * side of mmu_lock (TDP MMU faults), removed with WRITE_ONCE under the write
 * side (zaps); the simulated hardware walks them locklessly with READ_ONCE.
 * mmu_invalidate_seq is written under the write lock with WRITE_ONCE because
 * faults snapshot it without the lock; in_progress and the range are only
 * read under the lock.
 *
 * Simplifications (each one noted where it happens): one root, never
 * obsolete (memslot deletion zaps the slot's SPTEs instead), 4 KiB pages
 * only, no async page faults, no page tracking, no rmaps, no MMIO cache in
 * the vCPU.  The CPUs' TLBs are the simulated hardware's (model/hw.c).
 */
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

#define INVALID_GPA (~(gpa_t)0)

/* ---- SPTEs (spte.h) -------------------------------------------------------- */

static bool is_shadow_present_pte(u64 spte) { return spte & SPTE_PRESENT; }
static bool is_mmio_spte(u64 spte) { return spte & SPTE_MMIO; }
static kvm_pfn_t spte_to_pfn(u64 spte) { return (spte & SPTE_PFN_MASK) >> SPTE_PFN_SHIFT; }

/* Non-leaf SPTEs hold the child table's address; allocations are 16-byte aligned. */
static struct kvm_mmu_page *spte_to_child_sp(u64 spte)
{
	return (struct kvm_mmu_page *)(uintptr_t)(spte & ~(u64)0xf);
}

/* make_nonleaf_spte(): the child table's address plus present/writable. */
static u64 make_nonleaf_spte(struct kvm_mmu_page *sp)
{
	KVM_ASSERT(!((uintptr_t)sp & 0xf));
	return (u64)(uintptr_t)sp | SPTE_PRESENT | SPTE_WRITABLE;
}

/* make_spte(), spte.c v7.3 (as v5.16), reduced to present/writable/pfn: no A/D bits, no dirty logging. */
static u64 make_spte(kvm_pfn_t pfn, bool writable)
{
	return (pfn << SPTE_PFN_SHIFT) | SPTE_PRESENT | (writable ? SPTE_WRITABLE : 0);
}

/* make_mmio_spte(), spte.c v7.3 (as v5.16): tagged with the memslot generation's low bits (no in-progress bit). */
static u64 make_mmio_spte(struct kvm *kvm, gfn_t gfn)
{
	return SPTE_MMIO | (gfn << SPTE_PFN_SHIFT) |
	       ((memslots_read(kvm->memslots_generation) & 0x3ff) << SPTE_MMIO_GEN_SHIFT);
}

static gfn_t get_mmio_spte_gfn(u64 spte) { return spte_to_pfn(spte) & ((1ull << 40) - 1); }

/*
 * check_mmio_spte(), mmu.c v7.3-rc5 (unchanged since ddfd1730fd82, "Do not
 * cache MMIO accesses while memslots are in flux"): never a hit while an
 * update is in progress; else the generation must match the memslots'.
 */
static bool check_mmio_spte(struct kvm *kvm, u64 spte)
{
	u64 gen = memslots_read(kvm->memslots_generation);

	if (gen & KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS)
		return false;
	return ((spte >> SPTE_MMIO_GEN_SHIFT) & 0x3ff) == (gen & 0x3ff);
}

static int pt_index(gfn_t gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (PT64_ENT_PER_PAGE - 1);
}

/*
 * The hardware page walk (and the TDP MMU iterator's): READ_ONCE of each
 * level; returns the leaf SPTE or 0, with its location for callers that
 * modify it.
 */
u64 kvm_tdp_mmu_walk(struct kvm *kvm, gfn_t gfn, u64 **sptep)
{
	struct kvm_mmu_page *sp = kvm->arch.tdp_root;

	for (int level = PT64_ROOT_LEVEL; level > 1; level--) {
		u64 spte = READ_ONCE(sp->spt[pt_index(gfn, level)]);

		if (!is_shadow_present_pte(spte))
			return 0;
		sp = spte_to_child_sp(spte);
	}
	if (sptep)
		*sptep = &sp->spt[pt_index(gfn, 1)];
	return READ_ONCE(sp->spt[pt_index(gfn, 1)]);
}

/*
 * mmu_topup_memory_caches(), mmu.c v7.3-rc5 (maybe_indirect false): of its
 * caches only the page tables' (mmu_shadow_page_cache), before mmu_lock.
 */
int mmu_topup_memory_caches(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->arch.mmu_page_cache;

	while (mc->nobjs < KVM_MMU_PAGE_CACHE_NR)
		mc->objects[mc->nobjs++] = kvm_zalloc(sizeof(struct kvm_mmu_page));
	return 0;
}

static gfn_t table_base(gfn_t gfn, int level)
{
	return gfn & ~((1ull << (9 * level)) - 1);
}

static struct kvm_mmu_page *pt_pool_find(struct kvm *kvm, int level, gfn_t gfn)
{
	for (int i = 0; i < kvm->arch.nr_pt_pool; i++)
		if (kvm->arch.pt_pool[i].level == level &&
		    kvm->arch.pt_pool[i].base == table_base(gfn, level))
			return kvm->arch.pt_pool[i].sp;
	return NULL;
}

/* Model: assign the tables that will map gfn (see struct kvm_pt_pool_entry). */
void kvm_mmu_assign_tables(struct kvm *kvm, gfn_t gfn)
{
	for (int level = PT64_ROOT_LEVEL - 1; level >= 1; level--) {
		struct kvm_pt_pool_entry *e;

		if (pt_pool_find(kvm, level, gfn) || kvm->arch.nr_pt_pool == KVM_MODEL_PT_POOL)
			continue;
		e = &kvm->arch.pt_pool[kvm->arch.nr_pt_pool++];
		e->level = (u8)level;
		e->base = table_base(gfn, level);
		e->sp = kvm_zalloc(sizeof(struct kvm_mmu_page));
	}
}

/*
 * tdp_mmu_alloc_sp() + tdp_mmu_init_sp(), tdp_mmu.c v7.3 (split since v5.18;
 * v5.16's alloc_tdp_mmu_page()): the table that will map gfn at 'level' (from
 * the assigned pool, else the vCPU's cache); tdp_mmu_free_sp() gives back one
 * that lost the race to be linked (still all zero; the kernel frees it).
 */
static struct kvm_mmu_page *tdp_mmu_alloc_sp(struct kvm_vcpu *vcpu, int level, gfn_t gfn)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->arch.mmu_page_cache;
	struct kvm_mmu_page *sp = pt_pool_find(vcpu->kvm, level, gfn);

	if (sp)
		return sp;
	KVM_ASSERT(mc->nobjs > 0);
	return mc->objects[--mc->nobjs];
}

static void tdp_mmu_free_sp(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp, int level, gfn_t gfn)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->arch.mmu_page_cache;

	if (sp != pt_pool_find(vcpu->kvm, level, gfn))
		mc->objects[mc->nobjs++] = sp;
}

/*
 * tdp_mmu_set_spte_atomic() -> __tdp_mmu_set_spte_atomic(), tdp_mmu.c
 * v7.3-rc5 (no mirror SPTEs, so no freezing; the changed-SPTE bookkeeping has
 * nothing to do for a leaf or a new table): a cmpxchg, which fails if a
 * different task modified the SPTE.
 */
static bool tdp_mmu_set_spte_atomic(u64 *sptep, u64 old_spte, u64 new_spte)
{
	return cmpxchg(sptep, old_spte, new_spte) == old_spte;
}

/*
 * tdp_mmu_map_handle_target_level(), tdp_mmu.c v7.3-rc5 (4 KiB, no
 * write-protection, no permission faults, no A/D bits): a present leaf is a
 * spurious fault; otherwise the new SPTE is installed with a cmpxchg (the old
 * one is never present here, so no flush follows).
 */
static int tdp_mmu_map_handle_target_level(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
					   u64 *sptep, u64 old_spte)
{
	int ret = RET_PF_FIXED;
	u64 new_spte;

	if (is_shadow_present_pte(old_spte))
		return RET_PF_SPURIOUS;	/* WARN_ON_ONCE(fault->pfn != spte_to_pfn(old_spte)) */

	if (unlikely(!fault->slot))
		new_spte = make_mmio_spte(vcpu->kvm, fault->gfn);
	else
		new_spte = make_spte(fault->pfn, fault->map_writable);

	if (new_spte == old_spte)
		ret = RET_PF_SPURIOUS;
	else if (!tdp_mmu_set_spte_atomic(sptep, old_spte, new_spte))
		return RET_PF_RETRY;

	if (ret != RET_PF_SPURIOUS) {
		ghost_check_install(vcpu, fault->slot, fault->gfn);
		if (fault->gfn == APIC_ACCESS_GFN &&
		    GHOST_READ(vcpu->kvm->arch.apicv_inhibit_reasons))
			kvm_trace(EV_NOTE, NOTE_APIC_SPTE_WHILE_INHIBITED, vcpu->vcpu_idx, fault->gfn, 0);
		kvm_trace(EV_SPTE_SET, vcpu->vcpu_idx, fault->gfn, new_spte, old_spte);
	}
	/* If an MMIO SPTE is installed, the MMIO will need to be emulated. */
	if (unlikely(is_mmio_spte(new_spte)))
		ret = RET_PF_EMULATE;
	return ret;
}

/*
 * kvm_tdp_mmu_map(), tdp_mmu.c v7.3-rc5 (4 KiB target level only, no huge
 * pages to split, no frozen SPTEs): step down through present tables, link
 * a new one with a cmpxchg where none is, and retry the fault if that fails.
 */
static int kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_mmu_page *sp = vcpu->kvm->arch.tdp_root;
	u64 *sptep;

	for (int level = PT64_ROOT_LEVEL; level > 1; level--) {
		sptep = &sp->spt[pt_index(fault->gfn, level)];
		u64 old_spte = READ_ONCE(*sptep);

		if (!is_shadow_present_pte(old_spte)) {
			struct kvm_mmu_page *child = tdp_mmu_alloc_sp(vcpu, level - 1, fault->gfn);

			if (!tdp_mmu_set_spte_atomic(sptep, old_spte, make_nonleaf_spte(child))) {
				tdp_mmu_free_sp(vcpu, child, level - 1, fault->gfn);
				return RET_PF_RETRY;
			}
			old_spte = make_nonleaf_spte(child);
		}
		sp = spte_to_child_sp(old_spte);
	}
	sptep = &sp->spt[pt_index(fault->gfn, 1)];
	return tdp_mmu_map_handle_target_level(vcpu, fault, sptep,
					       READ_ONCE(*sptep));
}

/* ---- invalidation (virt/kvm/kvm_main.c v7.3-rc5) --------------------------------- */

/*
 * Model: a store of the invalidation range.  Plain in the kernel, under
 * mmu_lock for write, and read without the lock by
 * mmu_invalidate_retry_gfn_unsafe(): a race the kernel accepts ("Don't force
 * loads for start+end"; KCSAN's CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC).
 * Here a relaxed atomic store, so that the real-thread runtime has no C data
 * race: observed, no scheduling point, as the kernel's store is none.  Under
 * x86-TSO it is not buffered, which only lets the lockless pre-check see it
 * sooner (the locked readers are ordered by mmu_lock either way).
 */
static void mmu_invalidate_range_store(gfn_t *p, gfn_t v)
{
	rt->observe(p, sizeof(*p), true);
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * kvm_mmu_invalidate_start(), kvm_main.c v7.3-rc5 (kvm_mmu_invalidate_begin()
 * in v6.8).  The count is a plain ++ in the kernel, read locklessly by the
 * faults' pre-checks since v6.10 (READ_ONCE); marked here as KCSAN's default
 * CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC treats an aligned plain store.
 */
void kvm_mmu_invalidate_start(struct kvm *kvm)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	/*
	 * The count increase must become visible at unlock time as no
	 * spte can be established without taking the mmu_lock and
	 * count is also read inside the mmu_lock critical section.
	 */
	WRITE_ONCE(kvm->mmu_invalidate_in_progress, kvm->mmu_invalidate_in_progress + 1);
	if (likely(kvm->mmu_invalidate_in_progress == 1)) {
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_start, INVALID_GPA);
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_end, INVALID_GPA);
	}
}

/* kvm_mmu_invalidate_range_add(), kvm_main.c v7.3-rc5 (as v6.8): ranges only grow until in_progress drops to 0. */
void kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end)
{
	lockdep_assert_held_write(&kvm->mmu_lock);
	WARN_ON_ONCE(!kvm->mmu_invalidate_in_progress);
	if (likely(kvm->mmu_invalidate_range_start == INVALID_GPA)) {
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_start, start);
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_end, end);
	} else {
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_start,
					   min_t(gfn_t, kvm->mmu_invalidate_range_start, start));
		mmu_invalidate_range_store(&kvm->mmu_invalidate_range_end,
					   max_t(gfn_t, kvm->mmu_invalidate_range_end, end));
	}
	kvm_trace(EV_INVALIDATE_BEGIN, kvm->mmu_invalidate_in_progress,
		  kvm->mmu_invalidate_range_start, kvm->mmu_invalidate_range_end, 0);
}

/* kvm_mmu_invalidate_end(), kvm_main.c v7.3-rc5 (as v6.8; the seq store marked, see above). */
void kvm_mmu_invalidate_end(struct kvm *kvm)
{
	unsigned long seq = kvm->mmu_invalidate_seq;

	lockdep_assert_held_write(&kvm->mmu_lock);
	/*
	 * This sequence increase will notify the kvm page fault that
	 * the page that is going to be mapped in the spte could have
	 * been freed.
	 */
	WRITE_ONCE(kvm->mmu_invalidate_seq, seq + 1);
	/*
	 * The above sequence increase must be visible before the
	 * below count decrease, which is ensured by the smp_wmb above
	 * in conjunction with the smp_rmb in mmu_invalidate_retry().
	 */
	smp_wmb();
	WRITE_ONCE(kvm->mmu_invalidate_in_progress, kvm->mmu_invalidate_in_progress - 1);
	kvm_trace(EV_INVALIDATE_END, seq, seq + 1, kvm->mmu_invalidate_in_progress, 0);
	WARN_ON_ONCE(kvm->mmu_invalidate_in_progress < 0);
	WARN_ON_ONCE(kvm->mmu_invalidate_range_start == INVALID_GPA);
}

/* mmu_invalidate_retry_gfn(), include/linux/kvm_host.h v7.3-rc5 (as v6.8). */
bool mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	lockdep_assert_held(&kvm->mmu_lock);
	if (unlikely(kvm->mmu_invalidate_in_progress)) {
		/* Dropping mmu_lock after begin but before adding the range is a KVM bug. */
		if (WARN_ON_ONCE(kvm->mmu_invalidate_range_start == INVALID_GPA ||
				 kvm->mmu_invalidate_range_end == INVALID_GPA))
			return true;
		if (gfn >= kvm->mmu_invalidate_range_start && gfn < kvm->mmu_invalidate_range_end)
			return true;
	}
	return kvm->mmu_invalidate_seq != mmu_seq;
}

/*
 * mmu_invalidate_retry_gfn_unsafe(), include/linux/kvm_host.h v7.3-rc5:
 * "This lockless version of the range-based retry check *must* be paired
 * with a call to the locked version after acquiring mmu_lock ... This
 * version *will* get false negatives and false positives."  In-progress and
 * the sequence count are READ_ONCE(); "Don't force loads for start+end":
 * the kernel reads them with plain, deliberately racy loads, which the model
 * makes unchecked observed loads (hw_load(), no scheduling point of their
 * own: they are read in the same step as in-progress).
 */
static bool mmu_invalidate_retry_gfn_unsafe(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn)
{
	if (unlikely(READ_ONCE(kvm->mmu_invalidate_in_progress)) &&
	    gfn >= hw_load(kvm->mmu_invalidate_range_start) &&
	    gfn < hw_load(kvm->mmu_invalidate_range_end))
		return true;

	return READ_ONCE(kvm->mmu_invalidate_seq) != mmu_seq;
}

/*
 * mmu_invalidate_retry_hva(), include/linux/kvm_host.h v6.7 (its last release:
 * 8569992d64b8 removed it in v6.8; mmu_notifier_retry_hva() in v5.15-v6.0):
 * the range is compared with a host virtual address.  Only the
 * 'zap-yield-range-units' bug uses it, against a range kvm_zap_gfn_range()
 * recorded in gfns.
 */
bool mmu_invalidate_retry_hva(struct kvm *kvm, unsigned long mmu_seq, unsigned long hva)
{
	lockdep_assert_held(&kvm->mmu_lock);
	if (unlikely(kvm->mmu_invalidate_in_progress) &&
	    hva >= kvm->mmu_invalidate_range_start && hva < kvm->mmu_invalidate_range_end)
		return true;
	return kvm->mmu_invalidate_seq != mmu_seq;
}

/* ---- the fault path (arch/x86/kvm/mmu/mmu.c) ---------------------------------- */

/*
 * The fault path follows v7.3-rc5 (torvalds eff8d2791c08, read function by
 * function): kvm_mmu_page_fault() -> kvm_mmu_do_page_fault() ->
 * kvm_tdp_page_fault() -> kvm_tdp_mmu_page_fault() -> kvm_mmu_faultin_pfn()
 * (the mmu_seq snapshot, the slot checks with the APIC-access slot's, the
 * lockless pre-checks) -> is_page_fault_stale() and kvm_tdp_mmu_map() under
 * the read side of mmu_lock.  v5.17 had the same order in direct_page_fault()
 * and kvm_faultin_pfn(); what changed in between is said where it happens.
 */

/*
 * fast_page_fault(), mmu.c v7.3-rc5: it only fixes write-protection and
 * access tracking on present SPTEs, neither of which the model has, so it
 * always sends the fault to the slow path.
 */
static int fast_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	(void)vcpu;
	(void)fault;
	return RET_PF_INVALID;
}

/*
 * kvm_handle_noslot_fault(), mmu.c v7.3-rc5, TDP, MMIO caching enabled, no
 * private memory: the fault goes on to install an MMIO SPTE (the vCPU's
 * MMIO-info cache is not modelled).
 */
static int kvm_handle_noslot_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	(void)vcpu;
	fault->slot = NULL;
	fault->pfn = KVM_PFN_NOSLOT;
	fault->map_writable = false;
	return RET_PF_CONTINUE;
}

/*
 * __kvm_mmu_faultin_pfn(), mmu.c v7.3-rc5, for a slot of pinned anonymous
 * memory (no guest_memfd, no async #PF: __kvm_faultin_pfn() never needs I/O):
 * the slot's pages are the model's arena pages.
 */
static int __kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_memory_slot *slot = fault->slot;

	(void)vcpu;
	fault->pfn = slot->first_pfn + (fault->gfn - slot->base_gfn);
	fault->hva = kvm_slot_hva(slot, fault->gfn);
	fault->map_writable = true;
	return RET_PF_CONTINUE;
}

/*
 * Model: the APIC-access slot's check of kvm_mmu_faultin_pfn() (below; the
 * same test was in kvm_faultin_pfn() before): "If the APIC access page exists
 * but is disabled, go directly to emulation without caching the MMIO access
 * or creating a MMIO SPTE."  The seed patch (v2 1/4) asks the vCPU instead
 * (--policy vcpu); 'fault-checks-request' and 'apic-mmio-spte' change it.
 * No L2 (is_guest_mode() is never true).
 */
static int kvm_mmu_faultin_apic_slot(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	int policy = kvm_bug(kvm, KVM_BUG_FAULT_CHECKS_REQUEST) ? KVM_POLICY_VCPU : kvm->cfg.policy;
	bool active;
	int r;

	if (kvm_bug(kvm, KVM_BUG_FAULT_CHECKS_REQUEST) && kvm_test_request(KVM_REQ_APICV_UPDATE, vcpu)) {
		/* Sean's alternative: retry while an update is pending. */
		r = RET_PF_RETRY;
		goto out;
	}
	if (policy == KVM_POLICY_VCPU)
		active = kvm_vcpu_apicv_active(vcpu);	/* seed patch v2 1/4 */
	else
		active = kvm_apicv_activated(kvm);	/* mainline */
	r = RET_PF_CONTINUE;
	if (!active) {
		r = RET_PF_EMULATE;
		/* Treat the page as MMIO: an MMIO SPTE gets cached. */
		if (kvm_bug(kvm, KVM_BUG_APIC_MMIO_SPTE))
			r = kvm_handle_noslot_fault(vcpu, fault);
	}
out:
	kvm_trace(EV_FAULTIN_APIC, vcpu->vcpu_idx, policy,
		  (GHOST_READ(kvm->arch.apicv_inhibit_reasons) == 0) | (u64)kvm_vcpu_apicv_active(vcpu) << 1,
		  (u64)r | (u64)(fault->slot == NULL) << 8);
	return r;
}

/*
 * kvm_mmu_faultin_pfn(), mmu.c v7.3-rc5 (no private memory, no gfn aliases,
 * no prefetch, no L2).  The snapshot is a plain load in the kernel; marked
 * here like the zap's store of mmu_invalidate_seq.  The two lockless
 * pre-checks (mmu_invalidate_retry_gfn_unsafe(), before and after resolving
 * the pfn) are v6.10's; before them the first look at an invalidation was
 * is_page_fault_stale(), under mmu_lock.
 */
static int kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_memory_slot *slot = fault->slot;
	struct kvm *kvm = vcpu->kvm;
	int ret;

	fault->mmu_seq = READ_ONCE(vcpu->kvm->mmu_invalidate_seq);
	ghost_fault_begin(vcpu, fault->gfn);
	kvm_trace(EV_MMU_SEQ_SNAPSHOT, vcpu->vcpu_idx, fault->mmu_seq, 0, 0);
	ghost_note_snapshot(vcpu, fault);
	/* Pairs with the smp_wmb() in kvm_mmu_invalidate_end(). */
	smp_rmb();

	if (unlikely(!slot))
		return kvm_handle_noslot_fault(vcpu, fault);

	/*
	 * Retry the page fault if the gfn hit a memslot that is being deleted
	 * or moved.  This ensures any existing SPTEs for the old memslot will
	 * be zapped before KVM inserts a new MMIO SPTE for the gfn.
	 */
	if (memslots_read(slot->flags) & KVM_MEMSLOT_INVALID)
		return RET_PF_RETRY;

	if (slot->id == APIC_ACCESS_PAGE_PRIVATE_MEMSLOT) {
		ret = kvm_mmu_faultin_apic_slot(vcpu, fault);
		if (ret != RET_PF_CONTINUE || !fault->slot)
			return ret;
	}

	/*
	 * Check for a relevant mmu_notifier invalidation event before getting
	 * the pfn from the primary MMU, and before acquiring mmu_lock.
	 */
	if (mmu_invalidate_retry_gfn_unsafe(kvm, fault->mmu_seq, fault->gfn))
		return RET_PF_RETRY;

	ret = __kvm_mmu_faultin_pfn(vcpu, fault);
	if (ret != RET_PF_CONTINUE)
		return ret;

	/*
	 * Check again for a relevant mmu_notifier invalidation event purely to
	 * avoid contending mmu_lock.  (kvm_mmu_finish_page_fault() releases a
	 * refcounted page; the model's pages are pinned.)
	 */
	if (mmu_invalidate_retry_gfn_unsafe(kvm, fault->mmu_seq, fault->gfn))
		return RET_PF_RETRY;

	return RET_PF_CONTINUE;
}

/*
 * is_page_fault_stale(), mmu.c v7.3-rc5.  Roots are never obsolete here and
 * there is no KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, so only the invalidation
 * check remains: "one last time now that mmu_lock is held, as the 'unsafe'
 * checks performed without holding mmu_lock can get false negatives."
 */
bool is_page_fault_stale(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	bool stale;

	if (!fault->slot)
		return false;
	if (kvm_bug(kvm, KVM_BUG_FAULT_CHECKS_REQUEST) &&
	    fault->slot->id == APIC_ACCESS_PAGE_PRIVATE_MEMSLOT)
		return false;	/* the bug relies on the request check instead */
	if (kvm_bug(kvm, KVM_BUG_ZAP_YIELD_RANGE_UNITS))
		stale = mmu_invalidate_retry_hva(kvm, fault->mmu_seq, fault->hva);
	else
		stale = mmu_invalidate_retry_gfn(kvm, fault->mmu_seq, fault->gfn);
	kvm_trace(EV_FAULT_STALE, vcpu->vcpu_idx, fault->mmu_seq, kvm->mmu_invalidate_seq,
		  fault->gfn << 16 | (u64)(kvm->mmu_invalidate_in_progress & 0x7fff) << 1 | stale);
	return stale;
}

/*
 * kvm_tdp_mmu_page_fault(), mmu.c v7.3-rc5 (no write tracking, so
 * page_fault_handle_page_track() is always false; kvm_mmu_finish_page_fault()
 * has no page to release).
 */
static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = fast_page_fault(vcpu, fault);
	if (r != RET_PF_INVALID)
		return r;

	r = mmu_topup_memory_caches(vcpu);
	if (r)
		return r;

	r = kvm_mmu_faultin_pfn(vcpu, fault);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = kvm_tdp_mmu_map(vcpu, fault);

out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	return r;
}

/*
 * kvm_mmu_do_page_fault() -> kvm_tdp_page_fault(), mmu.c v7.3-rc5: a direct
 * (TDP) MMU, so the gfn and its memslot are looked up here (since v6.8, in
 * kvm_tdp_page_fault()'s callers; v5.17's direct_page_fault() did it).
 */
static int kvm_mmu_do_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 err)
{
	struct kvm_page_fault fault = {
		.addr = cr2_or_gpa,
		.error_code = (u32)err,
		.write = err & PFERR_WRITE_MASK,
		.present = err & PFERR_PRESENT_MASK,
		.rsvd = err & PFERR_RSVD_MASK,
	};
	int r;

	fault.gfn = gpa_to_gfn(fault.addr);
	fault.slot = gfn_to_memslot(vcpu->kvm, fault.gfn);	/* kvm_vcpu_gfn_to_memslot() */

	r = kvm_tdp_mmu_page_fault(vcpu, &fault);	/* kvm_tdp_page_fault(), tdp_mmu_enabled */
	ghost_fault_end(vcpu);
	return r;
}

/* handle_mmio_page_fault(), mmu.c v7.3-rc5 (no vCPU MMIO cache). */
static int handle_mmio_page_fault(struct kvm_vcpu *vcpu, u64 addr)
{
	gfn_t gfn = addr >> PAGE_SHIFT;
	u64 spte = kvm_tdp_mmu_walk(vcpu->kvm, gfn, NULL);
	int r = RET_PF_RETRY;

	if (is_mmio_spte(spte)) {
		if (!check_mmio_spte(vcpu->kvm, spte))
			r = RET_PF_INVALID;
		else
			r = RET_PF_EMULATE;
		if (r == RET_PF_EMULATE && get_mmio_spte_gfn(spte) == APIC_ACCESS_GFN)
			ghost_check_accel(vcpu);
	}
	kvm_trace(EV_MMIO_FAULT, vcpu->vcpu_idx, addr, r, 0);
	return r;
}

/* kvm_mmu_page_fault(), mmu.c v7.3-rc5 (no L2, no private memory, no write-protected gfns). */
int kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 error_code)
{
	int r;

	kvm_trace(EV_PAGE_FAULT, vcpu->vcpu_idx, cr2_or_gpa, error_code, 0);
	r = RET_PF_INVALID;
	if (unlikely(error_code & PFERR_RSVD_MASK)) {
		r = handle_mmio_page_fault(vcpu, cr2_or_gpa);
		if (r == RET_PF_EMULATE)
			goto emulate;
	}

	if (r == RET_PF_INVALID) {
		r = kvm_mmu_do_page_fault(vcpu, cr2_or_gpa, error_code);
		if (WARN_ON_ONCE(r == RET_PF_INVALID))
			return -5;	/* -EIO: KVM_BUG_ON */
	}
	kvm_trace(EV_FAULT_RET, vcpu->vcpu_idx, r, 0, 0);
	if (r < 0)
		return r;
	WARN_ON_ONCE(r == RET_PF_CONTINUE);
	if (r != RET_PF_EMULATE)
		return 1;
emulate:
	return x86_emulate_instruction(vcpu, cr2_or_gpa);
}

/* ---- zapping (tdp_mmu.c, tdp_iter.c v7.3; mmu.c v7.3-rc5) ---------------------- */

struct zap_iter {
	struct kvm *kvm;
	gfn_t start, end;
	bool can_yield;
	bool flush;
};

/*
 * struct tdp_iter (tdp_iter.h v7.3) for the model's one 4-level root: no
 * gfn_bits, no address-space id.  Its SPTE reads (kvm_tdp_mmu_read_spte(),
 * READ_ONCE) are plain here, as zap_leaf()'s: every writer holds mmu_lock for
 * write or, for a fault's install, for read while the zap holds it for write.
 */
struct tdp_iter {
	gfn_t next_last_level_gfn;	/* the gfn the walk is heading for */
	/*
	 * The kernel keeps yielded_gfn, next_last_level_gfn when the walk last
	 * (re)started, and yields only if the two differ.  next_last_level_gfn
	 * moves only forward, in try_step_side(), so the model keeps just
	 * whether it moved since: the old gfn itself would only tell apart
	 * states that behave the same (one per earlier yield point).
	 */
	bool stepped_side;
	struct kvm_mmu_page *pt_path[PT64_ROOT_LEVEL];
	u64 *sptep;
	gfn_t gfn;
	int level;
	bool valid;
	bool yielded;
};

static gfn_t gfn_round_for_level(gfn_t gfn, int level)
{
	return gfn & ~((1ull << (9 * (level - 1))) - 1);
}

/*
 * tdp_iter_refresh_sptep(), tdp_iter.c v7.3, without iter->old_spte: the
 * model reads the SPTE where it uses it (try_step_down(), zap_leaf()), so no
 * copy taken before a yield stays on the actor's stack to tell states apart.
 */
static void tdp_iter_refresh_sptep(struct tdp_iter *iter)
{
	iter->sptep = &iter->pt_path[iter->level - 1]->spt[pt_index(iter->gfn, iter->level)];
}

/* tdp_iter_restart(), tdp_iter.c v7.3: back to the root, towards next_last_level_gfn. */
static void tdp_iter_restart(struct tdp_iter *iter)
{
	iter->yielded = false;
	iter->stepped_side = false;	/* yielded_gfn = next_last_level_gfn */
	iter->level = PT64_ROOT_LEVEL;
	iter->gfn = gfn_round_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	iter->valid = true;
}

/* tdp_iter_start(), tdp_iter.c v7.3, min_level PG_LEVEL_4K. */
static void tdp_iter_start(struct tdp_iter *iter, struct kvm_mmu_page *root, gfn_t next_last_level_gfn)
{
	iter->next_last_level_gfn = next_last_level_gfn;
	iter->pt_path[PT64_ROOT_LEVEL - 1] = root;
	tdp_iter_restart(iter);
}

/*
 * try_step_down(), tdp_iter.c v7.3: "Reread the SPTE before stepping down to
 * avoid traversing into page tables that are no longer linked"; only into a
 * present non-leaf SPTE (the model has no huge pages).
 */
static bool try_step_down(struct tdp_iter *iter)
{
	u64 spte;

	if (iter->level == 1)
		return false;
	spte = *iter->sptep;
	if (!is_shadow_present_pte(spte))
		return false;
	iter->level--;
	iter->pt_path[iter->level - 1] = spte_to_child_sp(spte);
	iter->gfn = gfn_round_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return true;
}

/* try_step_side(), tdp_iter.c v7.3: the one step that moves next_last_level_gfn. */
static bool try_step_side(struct tdp_iter *iter)
{
	if (pt_index(iter->gfn, iter->level) == PT64_ENT_PER_PAGE - 1)
		return false;
	iter->gfn += 1ull << (9 * (iter->level - 1));
	iter->next_last_level_gfn = iter->gfn;
	iter->stepped_side = true;
	iter->sptep++;
	return true;
}

/* try_step_up(), tdp_iter.c v7.3. */
static bool try_step_up(struct tdp_iter *iter)
{
	if (iter->level == PT64_ROOT_LEVEL)
		return false;
	iter->level++;
	iter->gfn = gfn_round_for_level(iter->gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return true;
}

/* tdp_iter_next(), tdp_iter.c v7.3: a pre-order walk; after a yield, from the root again. */
static void tdp_iter_next(struct tdp_iter *iter)
{
	if (iter->yielded) {
		tdp_iter_restart(iter);
		return;
	}
	if (try_step_down(iter))
		return;
	do {
		if (try_step_side(iter))
			return;
	} while (try_step_up(iter));
	iter->valid = false;
}

/*
 * tdp_mmu_iter_need_resched() + tdp_mmu_iter_cond_resched(), tdp_mmu.c v7.3
 * (torvalds abad8c4cb926), shared == false: yield only if the walk moved
 * sideways since it last (re)started, flush first if a leaf was zapped since
 * mmu_lock was taken (fcb93eb6d09d, v5.17), then cond_resched_rwlock_write()
 * and mark the iterator yielded, so that tdp_iter_next() restarts from the
 * root.  The kernel asks need_resched() before the progress test; both are
 * reads, and this order spares the model a choice that cannot yield.
 */
static bool tdp_mmu_iter_cond_resched(struct zap_iter *it, struct tdp_iter *iter)
{
	struct kvm *kvm = it->kvm;

	KVM_ASSERT(!iter->yielded);
	/* Ensure forward progress has been made before yielding (next_last_level_gfn != yielded_gfn). */
	if (!iter->stepped_side)
		return false;
	if (!need_resched() && !rwlock_needbreak(&kvm->mmu_lock))
		return false;
	if (it->flush)
		kvm_flush_remote_tlbs(kvm);
	ghost_zap_complete(kvm, it->start, it->end);
	it->flush = false;	/* the caller's "flush = false" */
	kvm_trace(EV_ZAP_YIELD, iter->next_last_level_gfn, iter->level, 0, 0);
	/* cond_resched_rwlock_write() */
	write_unlock(&kvm->mmu_lock);
	write_lock(&kvm->mmu_lock);
	iter->yielded = true;
	return true;
}

/*
 * One leaf of tdp_mmu_zap_leafs(), tdp_mmu.c v7.3-rc5: "if
 * (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(...)) continue;"
 * so an MMIO SPTE stays (the memslot generation in it retires it), then
 * tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE) ->
 * kvm_tdp_mmu_write_spte(): an atomic exchange, as for A/D-disabled SPTEs
 * (spte_needs_atomic_update(); with A/D bits on, writable SPTEs are created
 * Dirty since cc7ed3358e41, v6.13, and the kernel stores plainly: under
 * x86-TSO the locked set_bit() of the flush request drains either before a
 * vCPU can see it).  (The model used to zap MMIO SPTEs too, which no kernel
 * since v5.15 does, with a plain store.)
 */
static void zap_leaf(struct zap_iter *it, u64 *sptep, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(it->kvm, gfn);
	u64 old = *sptep;	/* plain: writers hold mmu_lock for write */

	if (slot)
		ghost_zap_gfn(it->kvm, slot, gfn);
	if (!is_shadow_present_pte(old))
		return;
	old = xchg(sptep, 0);	/* kvm_tdp_mmu_write_spte_atomic() */
	it->flush = true;
	kvm_trace(EV_SPTE_ZAP, gfn, old, 0, 0);
}

/*
 * tdp_mmu_zap_leafs(), tdp_mmu.c v7.3 (torvalds abad8c4cb926; leaf-only since
 * f47e5bbbc92f, v5.18), for the model's one root: a pre-order walk of
 * [start, end) over every SPTE at every level, which may yield before any of
 * them (not only before a leaf, as v5.16's zap_gfn_range() did); the 4-KiB
 * entries go to zap_leaf().
 */
static void tdp_mmu_zap_leafs(struct zap_iter *it)
{
	struct tdp_iter iter;

	for (tdp_iter_start(&iter, it->kvm->arch.tdp_root, it->start); iter.valid && iter.gfn < it->end;
	     tdp_iter_next(&iter)) {
		if (it->can_yield && tdp_mmu_iter_cond_resched(it, &iter))
			continue;
		if (iter.level == 1)
			zap_leaf(it, iter.sptep, iter.gfn);
	}
}

/*
 * The zap proper, mmu_lock held for write: the range's leaf SPTEs, then the
 * remote TLB flush if one was zapped and 'flush' allows it (zap-no-flush
 * drops it).  Inlined: its callers' frames stay as they were.
 */
static inline __attribute__((always_inline)) void zap_and_flush(struct zap_iter *it, bool flush)
{
	tdp_mmu_zap_leafs(it);
	if (it->flush && flush)
		kvm_flush_remote_tlbs(it->kvm);
}

/*
 * kvm_arch_flush_shadow_memslot() -> kvm_mmu_zap_memslot(), mmu.c v7.1, for
 * a VM without KVM_X86_QUIRK_SLOT_ZAP_ALL (the quirk, on by default for
 * default VMs, zaps every root with kvm_mmu_zap_all_fast(): the model has no
 * root invalidation): the slot's leaf SPTEs under mmu_lock for write, and a
 * remote TLB flush.  No mmu_invalidate_seq: memslot changes rely on SRCU.
 */
void kvm_arch_flush_shadow_memslot(struct kvm *kvm, struct kvm_memory_slot *slot)
{
	struct zap_iter it = { .kvm = kvm, .start = slot->base_gfn, .end = slot->base_gfn + slot->npages,
			       .can_yield = kvm->cfg.zap_can_yield };

	write_lock(&kvm->mmu_lock);
	zap_and_flush(&it, true);
	write_unlock(&kvm->mmu_lock);
	ghost_zap_complete(kvm, it.start, it.end);
}

/*
 * kvm_zap_gfn_range(), mmu.c v7.3-rc5 (the same since v6.8; TDP MMU only, so
 * kvm_rmap_zap_gfn_range() finds no rmaps; the flush, under mmu_lock and
 * before kvm_mmu_invalidate_end(), as since v6.1).
 */
void kvm_zap_gfn_range(struct kvm *kvm, gfn_t gfn_start, gfn_t gfn_end)
{
	struct zap_iter it = { .kvm = kvm, .start = gfn_start, .end = gfn_end,
			       .can_yield = kvm->cfg.zap_can_yield };
	bool invalidate = !kvm_bug(kvm, KVM_BUG_ZAP_NO_INVALIDATE);

	if (WARN_ON_ONCE(gfn_end <= gfn_start))
		return;
	kvm_trace(EV_ZAP_GFN_RANGE, gfn_start, gfn_end, 0, 0);

	write_lock(&kvm->mmu_lock);

	if (invalidate) {
		kvm_mmu_invalidate_start(kvm);
		/*
		 * 6d3085e4d89a blocked all faults (v6.1: range 0..~0 in hva
		 * units); v6.8 records the gfn range and compares gfns.  The
		 * bug records gfns while faults compare hvas.
		 */
		kvm_mmu_invalidate_range_add(kvm, gfn_start, gfn_end);
	}

	/* zap-no-flush: a mutant that drops the flush. */
	zap_and_flush(&it, !kvm_bug(kvm, KVM_BUG_ZAP_NO_FLUSH));

	if (invalidate)
		kvm_mmu_invalidate_end(kvm);

	write_unlock(&kvm->mmu_lock);
	ghost_zap_complete(kvm, gfn_start, gfn_end);	/* returned: no CPU may use what it zapped */
}
