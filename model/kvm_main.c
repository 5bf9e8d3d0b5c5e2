// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU creation, memslots and the request/kick machinery
 * (virt/kvm/kvm_main.c, include/linux/kvm_host.h, v5.16/v5.17).
 *
 * Invariants: a vCPU is visible to kvm_for_each_vcpu() only once
 * online_vcpus covers it (the smp_wmb() before the increment publishes the
 * vcpus[] slot); requests are bits in vcpu->requests set with set_bit() after
 * an smp_wmb(); a WAIT request returns only after every vCPU that was not
 * OUTSIDE_GUEST_MODE when its mode was swapped to EXITING_GUEST_MODE has
 * acknowledged the IPI (re-enabled interrupts).
 */
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"

static kvm_pfn_t kvm_alloc_host_page(struct kvm *kvm)
{
	/* Out of pages: a finding, and no write past the pool (pfn 0 is never valid). */
	if (WARN_ON_ONCE(kvm->nr_host_pages >= ARRAY_SIZE(kvm->host_pages)))
		return 0;
	kvm->host_pages[kvm->nr_host_pages] = kvm_zalloc(PAGE_SIZE);
	return ++kvm->nr_host_pages;	/* pfn 0 is never valid */
}

u8 *kvm_pfn_to_page(struct kvm *kvm, kvm_pfn_t pfn)
{
	if (pfn == 0 || pfn > kvm->nr_host_pages)
		return NULL;
	return kvm->host_pages[pfn - 1];
}

/* __x86_set_memory_region / kvm_set_memory_region, reduced to creation. */
static struct kvm_memory_slot *kvm_add_memslot(struct kvm *kvm, u16 id, gfn_t base, u64 npages)
{
	struct kvm_memory_slot *slot;

	KVM_ASSERT(kvm->nr_memslots < KVM_MODEL_MAX_MEMSLOTS);
	slot = &kvm->memslots[kvm->nr_memslots];
	slot->id = id;
	slot->base_gfn = base;
	slot->npages = npages;
	slot->first_pfn = kvm->nr_host_pages + 1;
	for (u64 i = 0; i < npages; i++)
		kvm_alloc_host_page(kvm);
	slot->backing = kvm_pfn_to_page(kvm, slot->first_pfn);
	slot->ghost_zapped = kvm_zalloc(npages);
	slot->ghost_tlb = kvm_zalloc(npages * sizeof(*slot->ghost_tlb));
	for (u64 i = 0; i < npages; i++)
		kvm_mmu_assign_tables(kvm, base + i);
	/* Publish the slot: faults look it up locklessly (SRCU in the kernel). */
	smp_wmb();
	WRITE_ONCE(kvm->nr_memslots, kvm->nr_memslots + 1);
	kvm->memslots_generation++;
	return slot;
}

/* Host pages of a slot are contiguous pfns; backing is their first page. */
static hva_t slot_gfn_to_hva(struct kvm_memory_slot *slot, gfn_t gfn)
{
	return (hva_t)(uintptr_t)slot->backing + (gfn - slot->base_gfn) * PAGE_SIZE;
}

struct kvm_memory_slot *__gfn_to_memslot(struct kvm *kvm, int nr_memslots, gfn_t gfn)
{
	for (int i = 0; i < nr_memslots; i++) {
		struct kvm_memory_slot *s = &kvm->memslots[i];

		if (gfn >= s->base_gfn && gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

/* ____gfn_to_memslot(), kvm_host.h v6.19 (as v5.17): a linear search instead of the rb-tree. */
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn)
{
	return __gfn_to_memslot(kvm, READ_ONCE(kvm->nr_memslots), gfn);
}

/* kvm_is_visible_memslot(), include/linux/kvm_host.h v6.19 (as v5.15). */
bool kvm_is_visible_memslot(struct kvm_memory_slot *slot)
{
	return slot && slot->id < KVM_USER_MEM_SLOTS && !(memslots_read(slot->flags) & KVM_MEMSLOT_INVALID);
}

hva_t kvm_slot_hva(struct kvm_memory_slot *slot, gfn_t gfn)
{
	return slot_gfn_to_hva(slot, gfn);
}

/*
 * kvm_alloc_apic_access_page(), lapic.c v7.0 (one function for both since v6.3):
 * install the private, invisible APIC-access memslot once per VM.  KVM backs
 * it with an anonymous page: the "dummy page" an access reaches when the SPTE
 * is present but the vCPU's APIC virtualization is off.  On SVM the kernel
 * calls it at vCPU creation only while AVIC is enabled and the VM is not
 * inhibited; the model calls it at every creation, as VMX does: an allocation
 * deferred to a later creation would add a memslot while other vCPUs run
 * (generation bump, SRCU grace period), which kvm_add_memslot() does not model.
 */
static void kvm_alloc_apic_access_page(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	/* Not again once a vCPU in x2APIC mode deleted it (2008fab34530, v6.3). */
	if (!kvm->arch.apic_access_memslot_enabled && !kvm->arch.apic_access_memslot_inhibited) {
		kvm_add_memslot(kvm, APIC_ACCESS_PAGE_PRIVATE_MEMSLOT, APIC_ACCESS_GFN, 1);
		/* Before any vCPU runs: the first vCPU's creation does it. */
		kvm->arch.apic_access_memslot_enabled = true;
	}
	mutex_unlock(&kvm->slots_lock);
}

/*
 * kvm_vcpu_srcu_read_lock()/_unlock() (include/linux/kvm_host.h v7.1) on
 * kvm->srcu, reduced to a flag per vCPU thread (the inhibit change's zap
 * is the model's other reader, srcu_read_lock_kvm() below), and the only
 * grace period it needs is the memslot deletion's.  srcu_read_lock() and _unlock() are a per-CPU counter
 * increment and a full barrier (smp_mb() "B" and "C" in srcutree.c): the
 * store is observed (the transition's footprint has it; under x86-TSO it
 * drains the store buffer, the barrier) but is no scheduling point of its
 * own; synchronize_srcu()'s wait is.
 */
static void srcu_reader_set(struct kvm_vcpu *vcpu, u32 inside)
{
	rt->observe(&vcpu->srcu_reader, sizeof(vcpu->srcu_reader), true);
	__atomic_store_n(&vcpu->srcu_reader, inside, __ATOMIC_SEQ_CST);
}

void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu)
{
	srcu_reader_set(vcpu, 1);
}

/*
 * kvm_vcpu_srcu_read_unlock(), include/linux/kvm_host.h v7.1: see above.
 * KVM_BUG_ENTER_GUEST_NO_MB takes its barrier away: the store waits in the
 * store buffer like any other (a scheduling point of its own then).
 */
void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu)
{
	if (kvm_bug(vcpu->kvm, KVM_BUG_ENTER_GUEST_NO_MB)) {
		WRITE_ONCE(vcpu->srcu_reader, 0);
		return;
	}
	srcu_reader_set(vcpu, 0);
}

/*
 * srcu_read_lock(&kvm->srcu) / srcu_read_unlock() (include/linux/srcu.h)
 * outside a vCPU thread's KVM_RUN section, or nested in it: counted in
 * kvm->srcu_readers, with the same observed store and no scheduling point
 * as a vCPU thread's flag.
 */
static void srcu_readers_add(struct kvm *kvm, u32 delta)
{
	rt->observe(&kvm->srcu_readers, sizeof(kvm->srcu_readers), true);
	__atomic_fetch_add(&kvm->srcu_readers, delta, __ATOMIC_SEQ_CST);
}

void srcu_read_lock_kvm(struct kvm *kvm)
{
	srcu_readers_add(kvm, 1);
}

void srcu_read_unlock_kvm(struct kvm *kvm)
{
	srcu_readers_add(kvm, (u32)-1);
}

/*
 * synchronize_srcu(&kvm->srcu) (kernel/rcu/srcutree.c): returns once every
 * read-side section that began before it has ended, and a section that
 * begins later sees the caller's earlier stores (the grace period's full
 * barriers, which the smp_mb()s stand for).  Waiting until each vCPU thread
 * and every other reader is seen outside one is the same, except that it may wait longer: never
 * for good, as KVM_RUN leaves the section in guest mode, to block, and at
 * its end.
 */
static void synchronize_srcu_kvm(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	int i;

	smp_mb();
	kvm_for_each_vcpu(i, vcpu, kvm)
		wait_until_clear(vcpu->srcu_reader, 1);
	wait_until_eq(kvm->srcu_readers, 0);
	smp_mb();
}

/*
 * kvm_swap_active_memslots() (kvm_main.c v7.3-rc5, torvalds 8264c0d73f07):
 * the new memslots carry the generation marked
 * KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS while SRCU readers drain (an MMIO SPTE
 * hit then takes the slow path, and one made meanwhile keeps the old
 * generation), then the next one (+ kvm_arch_nr_memslot_as_ids(): one
 * address space).  The model changes the slots in place, before this.
 */
static void kvm_swap_active_memslots(struct kvm *kvm)
{
	u64 gen = kvm->memslots_generation;

	WRITE_ONCE(kvm->memslots_generation, gen | KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS);
	synchronize_srcu_kvm(kvm);
	WRITE_ONCE(kvm->memslots_generation, gen + 1);
}

/*
 * __x86_set_memory_region(kvm, id, 0, 0) -> kvm_set_memslot(KVM_MR_DELETE)
 * (kvm_main.c v7.1): kvm_invalidate_memslot() publishes the slot marked
 * KVM_MEMSLOT_INVALID (a fault that finds it retries) and waits for SRCU
 * readers, kvm_arch_flush_shadow_memslot() zaps its SPTEs, and
 * kvm_delete_memslot() removes it and waits again.  The kernel swaps
 * whole copies of the memslots; the model changes the slot's flags in
 * place and drops it from the end of the array, at the same points.
 */
static void kvm_delete_memslot(struct kvm *kvm, u16 id)
{
	int n = kvm->nr_memslots;
	struct kvm_memory_slot *slot = &kvm->memslots[n - 1];

	/* The private APIC slot is allocated after the RAM slot: it is the last one. */
	if (WARN_ON_ONCE(!n || slot->id != id))
		return;
	kvm_trace(EV_MEMSLOT_DELETE, id, slot->base_gfn, 0, 0);
	WRITE_ONCE(slot->flags, slot->flags | KVM_MEMSLOT_INVALID);
	kvm_swap_active_memslots(kvm);
	kvm_arch_flush_shadow_memslot(kvm, slot);
	WRITE_ONCE(kvm->nr_memslots, n - 1);
	kvm_swap_active_memslots(kvm);
}

/*
 * kvm_inhibit_apic_access_page(), lapic.c v7.1 (2008fab34530, v6.3): on a
 * vCPU's own thread, from kvm_vcpu_update_apicv(); the flag is read
 * without slots_lock ("false positives are ok as the flag is rechecked";
 * plain in the kernel, marked here as it is written concurrently).
 */
void kvm_inhibit_apic_access_page(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (!READ_ONCE(kvm->arch.apic_access_memslot_enabled))
		return;

	kvm_vcpu_srcu_read_unlock(vcpu);

	mutex_lock(&kvm->slots_lock);

	if (kvm->arch.apic_access_memslot_enabled) {
		kvm_delete_memslot(kvm, APIC_ACCESS_PAGE_PRIVATE_MEMSLOT);
		/*
		 * Clear "enabled" after the memslot is deleted so that a
		 * different vCPU doesn't get a false negative when checking
		 * the flag out of slots_lock.
		 */
		WRITE_ONCE(kvm->arch.apic_access_memslot_enabled, false);
		/* Mark the memslot as inhibited to prevent reallocating it. */
		kvm->arch.apic_access_memslot_inhibited = true;
	}

	mutex_unlock(&kvm->slots_lock);

	kvm_vcpu_srcu_read_lock(vcpu);
}

/* kvm_apicv_init(), x86.c v6.18: ABSENT set, then cleared by KVM_CREATE_IRQCHIP, folded here. */
static void kvm_apicv_init(struct kvm *kvm)
{
	init_rwsem(&kvm->arch.apicv_update_lock);
	kvm->arch.apicv_inhibit_reasons = kvm->cfg.enable_apicv ? 0 : BIT(APICV_INHIBIT_REASON_DISABLE);
}

/*
 * kvm_create_vm() + kvm_arch_init_vm() + KVM_CREATE_IRQCHIP + one RAM memslot
 * at gpa 0.  The TDP root is allocated here rather than at the first
 * kvm_mmu_load(); roots are never invalidated (no memslot updates are
 * modelled), so is_obsolete_sp() is always false.
 */
struct kvm *kvm_create_vm(const struct kvm_config *cfg, int ram_pages)
{
	struct kvm *kvm = kvm_zalloc(sizeof(*kvm));

	kvm->cfg = *cfg;
	rwlock_init(&kvm->mmu_lock);
	mutex_init(&kvm->slots_lock);
	mutex_init(&kvm->lock);
	mutex_init(&kvm->arch.apic_map_lock);	/* kvm_arch_init_vm() */
	kvm_apicv_init(kvm);
	kvm_pic_init(kvm);
	kvm->arch.tdp_root = kvm_zalloc(sizeof(struct kvm_mmu_page));
	if (ram_pages > 0)
		kvm_add_memslot(kvm, 0, 0, ram_pages);
	return kvm;
}

/*
 * svm_vcpu_create/init_vmcb -> avic_init_vmcb() (AVIC bit; init_vmcb calls it
 * whenever enable_apicv && irqchip_in_kernel(), since 3989a6d036c8, v7.0),
 * and vmx_vcpu_create (secondary controls), v5.15.
 */
static void kvm_x86_vcpu_create(struct kvm_vcpu *vcpu)
{
	struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	kvm_alloc_apic_access_page(vcpu->kvm);
	/*
	 * svm: current_vmcb->cpu, vmx: loaded_vmcs->cpu (-1 in the kernel, so
	 * the first VMRUN takes a new ASID and the first load requests a
	 * flush).  Model: the vCPU's home pCPU (its thread's), as if it had
	 * run there: the TLB is empty until the first VMRUN, so those first
	 * flushes drop nothing, and leaving them out keeps a state before the
	 * first entry equal to the same state after an entry that retired
	 * nothing.
	 */
	c->loaded_cpu = (s8)vcpu->vcpu_id;	/* vmm.c: vCPU i runs on actor i's thread */
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM) {
		avic_init_vcpu(vcpu);
		/*
		 * avic_init_vmcb(): activate by the vCPU's flag.  Before
		 * 3989a6d036c8 it asked the VM's state, which an inhibit set
		 * during creation makes "off" while the new vCPU's apicv_active
		 * is already true; if the inhibit is gone again before its
		 * KVM_REQ_APICV_UPDATE is serviced, kvm_vcpu_update_apicv()
		 * sees no change and the VMCB keeps AVIC off.
		 */
		svm_init_vmcb_avic(vcpu);
	} else {
		/* vmx_set_virtual_apic_mode: xAPIC mode with flexpriority. */
		c->virtualize_apic_accesses = true;
		c->apic_register_virt = kvm_vcpu_apicv_active(vcpu);
		c->virtual_intr_delivery = kvm_vcpu_apicv_active(vcpu);
	}
}

/*
 * kvm_arch_vcpu_create(), x86.c v6.18 (kvm-x86 042007c262e5): kvm_create_lapic()
 * (the APICv flag and request), the vendor's vcpu_create, then kvm_vcpu_reset(),
 * whose kvm_lapic_reset() comes before the vendor's reset (init_vmcb() ->
 * avic_init_vmcb()); the model runs the LAPIC reset before kvm_x86_vcpu_create(),
 * which holds both vendor parts: the new vCPU is visible to no other thread
 * yet, so only that relative order matters.
 */
static int kvm_arch_vcpu_create(struct kvm_vcpu *vcpu)
{
	int r = kvm_create_lapic(vcpu);

	if (r)
		return r;
	kvm_lapic_reset(vcpu->arch.apic, vcpu->vcpu_id == 0);	/* kvm_vcpu_reset(vcpu, false) */
	kvm_x86_vcpu_create(vcpu);
	/* Model: fill the MMU cache now, so faults allocate only after using it. */
	mmu_topup_memory_caches(vcpu);
	return 0;
}

/* kvm_vm_ioctl_create_vcpu(), kvm_main.c v6.19 (no fd, no preempt notifiers, no vcpu->mutex). */
struct kvm_vcpu *kvm_vm_ioctl_create_vcpu(struct kvm *kvm, int id, const struct guest_program *prog)
{
	struct kvm_vcpu *vcpu;
	int online;

	mutex_lock(&kvm->lock);
	if (kvm->created_vcpus >= KVM_MAX_VCPUS) {
		mutex_unlock(&kvm->lock);
		return NULL;
	}
	kvm->created_vcpus++;
	mutex_unlock(&kvm->lock);

	vcpu = kvm_zalloc(sizeof(*vcpu));
	vcpu->kvm = kvm;
	vcpu->vcpu_id = id;
	vcpu->cpu = -1;
	vcpu->program = prog;
	vcpu->arch.rflags_if = true;	/* the model's guests start with interrupts on */
	if (kvm_arch_vcpu_create(vcpu))
		return NULL;
	ghost_vcpu_init(vcpu);

	mutex_lock(&kvm->lock);
	online = atomic_read(&kvm->online_vcpus);
	vcpu->vcpu_idx = online;
	WRITE_ONCE(kvm->vcpus[online], vcpu);
	/* Fill the vcpus[] slot before making it visible; pairs with kvm_get_vcpu() users. */
	smp_wmb();
	atomic_inc(&kvm->online_vcpus);
	mutex_unlock(&kvm->lock);
	kvm_trace(EV_VCPU_CREATE, vcpu->vcpu_idx, vcpu->arch.apicv_active, online + 1, 0);
	return vcpu;
}

/* ---- requests ------------------------------------------------------------ */

/* kvm_make_request(), kvm_host.h v6.19 cycle (linux-next a66ec810c5cc), as v5.15. */
void kvm_make_request(int req, struct kvm_vcpu *vcpu)
{
	kvm_trace(EV_REQUEST, vcpu->vcpu_idx, req & KVM_REQUEST_MASK, 0, 0);
	/*
	 * Ensure the rest of the request is published to kvm_check_request's
	 * caller.  Paired with the smp_mb__after_atomic in kvm_check_request.
	 */
	smp_wmb();
	set_bit(req & KVM_REQUEST_MASK, (void *)&vcpu->requests);
}

/* kvm_request_pending(), include/linux/kvm_host.h v7.1. */
bool kvm_request_pending(struct kvm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->requests);
}

/* kvm_test_request(), include/linux/kvm_host.h v7.1. */
bool kvm_test_request(int req, struct kvm_vcpu *vcpu)
{
	return test_bit(req & KVM_REQUEST_MASK, (void *)&vcpu->requests);
}

/* kvm_clear_request(), kvm_host.h v6.19 cycle (linux-next a66ec810c5cc), as v5.15. */
void kvm_clear_request(int req, struct kvm_vcpu *vcpu)
{
	clear_bit(req & KVM_REQUEST_MASK, (void *)&vcpu->requests);
}

/* kvm_check_request(), kvm_host.h v6.19 cycle (linux-next a66ec810c5cc), as v5.15. */
bool kvm_check_request(int req, struct kvm_vcpu *vcpu)
{
	if (kvm_test_request(req, vcpu)) {
		clear_bit(req & KVM_REQUEST_MASK, (void *)&vcpu->requests);
		/* Ensure the rest of the request is visible; pairs with kvm_make_request's smp_wmb. */
		smp_mb__after_atomic();
		kvm_trace(EV_REQUEST_SERVICE, vcpu->vcpu_idx, req & KVM_REQUEST_MASK, 0, 0);
		return true;
	}
	return false;
}

/* kvm_vcpu_exiting_guest_mode(), kvm_host.h v6.19 cycle (linux-next a66ec810c5cc), as v5.15. */
static int kvm_vcpu_exiting_guest_mode(struct kvm_vcpu *vcpu)
{
	/*
	 * The memory barrier ensures a previous write to vcpu->requests cannot
	 * be reordered with the read of vcpu->mode.  It pairs with the general
	 * memory barrier following the write of vcpu->mode in VCPU RUN.
	 */
	smp_mb__before_atomic();
	return cmpxchg(&vcpu->mode, IN_GUEST_MODE, EXITING_GUEST_MODE);
}

/* kvm_request_needs_ipi(), kvm_main.c v6.19 cycle (linux-next 03b9d3141510), as v5.16. */
static bool kvm_request_needs_ipi(struct kvm_vcpu *vcpu, unsigned int req)
{
	int mode = kvm_vcpu_exiting_guest_mode(vcpu);
	bool ipi;

	/* We need to wait for the vCPU to re-enable interrupts. */
	if (req & KVM_REQUEST_WAIT)
		ipi = mode != OUTSIDE_GUEST_MODE;
	else
		/* Need to kick a running vCPU, but otherwise there is nothing to do. */
		ipi = mode == IN_GUEST_MODE;
	kvm_trace(EV_KICK, vcpu->vcpu_idx, mode, ipi, 0);
	return ipi;
}

/*
 * kvm_vcpu_wake_up() -> __kvm_vcpu_wake_up() -> rcuwait_wake_up() on
 * vcpu->wait, kvm_main.c v6.19 cycle (linux-next 03b9d3141510; the same since
 * v5.17): the wakeup sequence is bumped unconditionally so that a vCPU about
 * to block cannot miss it; returns whether the vCPU was blocked.  The
 * directed-yield hint (vcpu->ready) and the stats are left out.
 */
bool kvm_vcpu_wake_up(struct kvm_vcpu *vcpu)
{
	__rt_access(RT_ADD, &vcpu->wakeup_seq, 8, 1, 0);
	return READ_ONCE(vcpu->halted);
}

/*
 * kvm_make_vcpu_request(), kvm_main.c v6.19 cycle (linux-next 03b9d3141510;
 * as in v5.16): kvm_make_request() is __kvm_make_request() and a WARN for
 * KVM_REQUEST_NO_ACTION requests, which the model has none of.
 */
static void kvm_make_vcpu_request(struct kvm_vcpu *vcpu, unsigned int req, u64 *mask, int me)
{
	int cpu;

	kvm_make_request(req, vcpu);
	if (!(req & KVM_REQUEST_NO_WAKEUP) && kvm_vcpu_wake_up(vcpu))
		return;
	if (kvm_request_needs_ipi(vcpu, req)) {
		cpu = READ_ONCE(vcpu->cpu);
		if (cpu != -1 && cpu != me)
			*mask |= BIT_ULL(cpu);
	}
}

/*
 * kvm_make_all_cpus_request(), kvm_main.c v6.19 cycle (linux-next
 * 03b9d3141510; v7.1's is the same): every vCPU's request, then
 * kvm_kick_many_cpus() with the CPUs that need the IPI, all inside
 * get_cpu()/put_cpu() (the model has no preemption point in it, and no
 * KVM_REQUEST_NO_ACTION requests).  v5.16's kvm_make_all_cpus_request_except(),
 * which the model followed before, is this loop with except == NULL.
 */
bool kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req)
{
	struct kvm_vcpu *vcpu;
	u64 cpus = 0;
	int i, me = rt_cpu();

	GHOST_ADD(kvm->ghost_requesters, 1);
	kvm_for_each_vcpu(i, vcpu, kvm)
		kvm_make_vcpu_request(vcpu, req, &cpus, me);
	/* kvm_kick_many_cpus() */
	if (cpus) {
		smp_call_function_many(cpus, req & KVM_REQUEST_WAIT);
		if (req & KVM_REQUEST_WAIT)
			kvm_trace(EV_IPI_WAIT, cpus, 0, 0, 0);
	}
	GHOST_ADD(kvm->ghost_requesters, (u32)-1);
	return cpus != 0;
}

/*
 * kvm_vcpu_kick() -> __kvm_vcpu_kick(vcpu, false), kvm_main.c v6.19 cycle
 * (linux-next 03b9d3141510; the steps are 85b640450ddc's, v5.15): the
 * cmpxchg of the mode first, then the CPU to send the reschedule IPI to.
 * "vcpu == __this_cpu_read(kvm_running_vcpu)" is true only on the vCPU's
 * own thread, which alone runs on the CPU in vcpu->cpu (each model task has
 * CPUs of its own): an observed load of vcpu->cpu compared with this CPU,
 * no scheduling point, as the kernel's per-CPU read is none.
 */
void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	int me, cpu;

	if (kvm_vcpu_wake_up(vcpu))
		return;

	me = rt_cpu();	/* get_cpu() */
	/*
	 * The only state change done outside the vcpu mutex is IN_GUEST_MODE
	 * to EXITING_GUEST_MODE.  Therefore the moderately expensive "should
	 * kick" check does not need atomic operations if kvm_vcpu_kick is used
	 * within the vCPU thread itself.
	 */
	if (hw_load(vcpu->cpu) == me) {
		if (READ_ONCE(vcpu->mode) == IN_GUEST_MODE)
			WRITE_ONCE(vcpu->mode, EXITING_GUEST_MODE);
		return;
	}

	/*
	 * Note, the vCPU could get migrated to a different pCPU at any point
	 * after kvm_arch_vcpu_should_kick(), which could result in sending an
	 * IPI to the previous pCPU.  But, that's ok because the purpose of the
	 * IPI is to force the vCPU to leave IN_GUEST_MODE, and migrating the
	 * vCPU also requires it to leave IN_GUEST_MODE.
	 */
	if (kvm_vcpu_exiting_guest_mode(vcpu) == IN_GUEST_MODE) {	/* kvm_arch_vcpu_should_kick() */
		cpu = READ_ONCE(vcpu->cpu);
		if (cpu != me && cpu != -1)
			smp_call_function_many(BIT_ULL(cpu), false);	/* smp_send_reschedule() */
	}
}

/* kvm_flush_remote_tlbs(), kvm_main.c v7.3-rc5 (as v5.15, no stats): each vCPU flushes before it enters again. */
void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
}

/*
 * kvm_vcpu_check_block(), kvm_main.c v6.19 cycle (linux-next 03b9d3141510;
 * the same steps since v5.17): -EINTR means "do not block".  Its SRCU
 * read-side section is the vCPU thread's own flag: the thread left its
 * KVM_RUN section before halting (vcpu_block()).  kvm_arch_vcpu_runnable()
 * -> kvm_vcpu_has_events() (x86.c v7.1) is reduced to interrupts: one the
 * guest can take (RFLAGS.IF) from the LAPIC or the PIC; no timers, no
 * signals.
 */
static int kvm_vcpu_check_block(struct kvm_vcpu *vcpu)
{
	int ret = -4;	/* -EINTR */

	/*
	 * idx = srcu_read_lock(&vcpu->kvm->srcu): its smp_mb() ("B") is a
	 * second full barrier before the wake-up checks, after
	 * set_current_state()'s; KVM_BUG_HALT_NO_MB takes both away.
	 */
	if (kvm_bug(vcpu->kvm, KVM_BUG_HALT_NO_MB))
		WRITE_ONCE(vcpu->srcu_reader, 1);
	else
		kvm_vcpu_srcu_read_lock(vcpu);

	if (kvm_x86_interrupt_allowed(vcpu) &&
	    (kvm_cpu_has_extint(vcpu) || kvm_apic_has_interrupt(vcpu->arch.apic)))
		goto out;
	if (kvm_check_request(KVM_REQ_UNBLOCK, vcpu))
		goto out;

	ret = 0;
out:
	kvm_vcpu_srcu_read_unlock(vcpu);
	return ret;
}

/* kvm_get_vcpu_by_id(), include/linux/kvm_host.h v6.19, as v6.17 (vcpu_id == index fast path omitted). */
struct kvm_vcpu *kvm_get_vcpu_by_id(struct kvm *kvm, int id)
{
	struct kvm_vcpu *vcpu;
	int i;

	kvm_for_each_vcpu(i, vcpu, kvm)
		if (vcpu->vcpu_id == id)
			return vcpu;
	return NULL;
}

/*
 * kvm_vcpu_is_blocking() (kvm_host.h v6.19, as v6.17): rcuwait_active() on the vCPU's
 * wait; 'halted' is that rcuwait's task pointer here.  Only the vCPU's own
 * thread asks.
 */
bool kvm_vcpu_is_blocking(struct kvm_vcpu *vcpu)
{
	return vcpu->halted;
}

/*
 * kvm_arch_vcpu_blocking(), asm/kvm_host.h v7.1: kvm_x86_call(vcpu_blocking),
 * avic_vcpu_blocking() on SVM (which returns at once without APICv), none on VMX.
 */
static void kvm_arch_vcpu_blocking(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		avic_vcpu_blocking(vcpu);
}

/* kvm_arch_vcpu_unblocking(), asm/kvm_host.h v7.1: avic_vcpu_unblocking() on SVM. */
static void kvm_arch_vcpu_unblocking(struct kvm_vcpu *vcpu)
{
	if (vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM)
		avic_vcpu_unblocking(vcpu);
}

/* kvm_sched_out() (kvm_main.c v6.19, as v6.17): the preempt notifier when the vCPU task leaves its CPU. */
void kvm_sched_out(struct kvm_vcpu *vcpu)
{
	kvm_trace(EV_PREEMPT, vcpu->vcpu_idx, 1, kvm_vcpu_is_blocking(vcpu), 0);
	kvm_arch_vcpu_put(vcpu);
}

/* kvm_sched_in() (kvm_main.c v6.19, as v6.17): ... and when it runs again, on 'cpu'. */
void kvm_sched_in(struct kvm_vcpu *vcpu, int cpu)
{
	kvm_trace(EV_PREEMPT, vcpu->vcpu_idx, 0, kvm_vcpu_is_blocking(vcpu), cpu);
	kvm_arch_vcpu_load(vcpu, cpu);
}

/*
 * The scheduler puts the task back on a CPU after kvm_sched_out(): with
 * 'preempt migrate', the checker explores both the same CPU and the task's
 * other one (kernel/prim.h, KVMLAB_MAX_PCPUS), stress flips a coin; with
 * 'preempt yes' it is always the same.  Returns the CPU it runs on now.
 */
static int kvm_sched_pick_cpu(struct kvm *kvm)
{
	if (kvm->cfg.preempt == KVM_PREEMPT_MIGRATE && kvm_choose(2)) {
		struct pcpu *own = rt->percpu(rt_self());

		own->task_on_spare = !own->task_on_spare;
	}
	return rt_cpu();
}

/*
 * A preemption of the vCPU thread where the kernel leaves preemption enabled
 * (preempt_schedule() with the preempt notifiers), if the scenario says
 * 'preempt yes' or 'preempt migrate': the checker explores both outcomes,
 * stress flips a coin.
 */
void kvm_preempt_point(struct kvm_vcpu *vcpu)
{
	if (!vcpu->kvm->cfg.preempt || !preemptible() || !kvm_choose(2))
		return;
	kvm_sched_out(vcpu);
	kvm_sched_in(vcpu, kvm_sched_pick_cpu(vcpu->kvm));
}

/*
 * kvm_vcpu_halt() -> kvm_vcpu_block(), kvm_main.c v6.19 cycle (linux-next
 * 03b9d3141510; the order since v6.17) with halt polling off: the arch
 * blocking hook and prepare_to_rcuwait() with preemption disabled
 * (18869f26df1a, v5.19), the check/schedule loop, finish_rcuwait() and the
 * unblocking hook, again with preemption disabled; no halt polling.  rcuwait
 * is a wakeup sequence: snapshot, check, sleep until it moves.  With
 * 'preempt yes' the sleep in schedule() runs the preempt notifiers.
 */
void kvm_vcpu_halt(struct kvm_vcpu *vcpu)
{
	bool nopreempt = !kvm_bug(vcpu->kvm, KVM_BUG_BLOCKING_PREEMPT);

	if (nopreempt)
		preempt_disable();
	kvm_arch_vcpu_blocking(vcpu);
	kvm_preempt_point(vcpu);	/* none with 18869f26df1a */
	WRITE_ONCE(vcpu->halted, true);	/* prepare_to_rcuwait() */
	if (nopreempt)
		preempt_enable();
	kvm_trace(EV_HALT, vcpu->vcpu_idx, 1, 0, 0);
	for (;;) {
		u64 seq;

		/*
		 * set_current_state() is smp_store_mb(): on x86 an xchg, a full
		 * barrier between the task state store and the wake-up checks
		 * (KVM_BUG_HALT_NO_MB, x86-TSO).
		 */
		if (!kvm_bug(vcpu->kvm, KVM_BUG_HALT_NO_MB))
			smp_mb();	/* set_current_state(): pairs with the RMW in kvm_vcpu_wake_up() */
		seq = READ_ONCE(vcpu->wakeup_seq);
		if (kvm_vcpu_check_block(vcpu) < 0)
			break;
		ghost_check_block(vcpu);
		if (vcpu->kvm->cfg.preempt)
			kvm_sched_out(vcpu);	/* schedule() */
		wait_until_ne(vcpu->wakeup_seq, seq);
		if (vcpu->kvm->cfg.preempt)
			kvm_sched_in(vcpu, kvm_sched_pick_cpu(vcpu->kvm));
	}
	if (nopreempt)
		preempt_disable();
	WRITE_ONCE(vcpu->halted, false);	/* finish_rcuwait() */
	kvm_trace(EV_HALT, vcpu->vcpu_idx, 0, 0, 0);
	kvm_preempt_point(vcpu);	/* none with 18869f26df1a */
	kvm_arch_vcpu_unblocking(vcpu);
	if (nopreempt)
		preempt_enable();
}
