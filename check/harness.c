// SPDX-License-Identifier: GPL-2.0
/*
 * See check/harness.h.  Fiber i < nr_vcpus runs vCPU i's guest program once
 * (KVM_RUN until the program's end); fiber nr_vcpus + j runs actor script j.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "check/harness.h"
#include "check/mem.h"
#include "check/race.h"
#include "check/report.h"
#include "check/sched.h"
#include "model/ghost.h"
#include "model/lapic.h"
#include "model/vmm.h"

#define CHECK_HEAP_SIZE (64ul << 20)

static void checker_entry(int fiber, void *arg)
{
	struct vmm *vmm = arg;
	const struct scenario *s = vmm->scn;

	if (fiber < s->nr_vcpus) {
		vmm_vcpu_run_program(vmm, fiber);
		return;
	}
	for (int i = 0; i < s->actor[fiber - s->nr_vcpus].nr_ops; i++) {
		/* Not a model access: the reduction's bookkeeping (fut_summary). */
		vmm->actor_op[fiber - s->nr_vcpus] = (u32)i;
		track_mark(&vmm->actor_op[fiber - s->nr_vcpus], sizeof(u32));
		kvm_stack_hygiene();
		vmm_actor_op(vmm, fiber, &s->actor[fiber - s->nr_vcpus].ops[i]);
	}
}

static struct vmm *checker_vmm;
/*
 * vCPU i's program, from its op k on, sends IPIs, writes its APIC ID or
 * moves its APIC base (an inhibit it raises itself), or anywhere switches its
 * APIC to x2APIC mode on a host without x2AVIC (it deletes the APIC-access
 * memslot: slots_lock, SRCU, a zap), or the vCPU may open an IRQ window that
 * reaches the VM (see scenario_irq_windows()); fixed per run.
 */
static bool checker_reaches_others[SCN_MAX_VCPUS][SCN_MAX_OPS + 1];
/* fut_summary_merge(): summaries for invisible-step merging, a vCPU's reach over its whole program. */
static bool checker_whole_life;
static bool checker_irq_windows[SCN_MAX_VCPUS];	/* scenario_irq_windows(), a subset */
/*
 * vCPU i may run the APICv part of kvm_recalculate_apic_map() (it moves its
 * APIC in the map, or writes an APIC register while the map may be dirty,
 * scenario_dirties_apic_map()): apicv_update_lock for write, the inhibit
 * reasons, the map's flag and lock, and reads of every vCPU's APIC.  If a
 * vCPU of the scenario writes its APIC ID, that recalculation may also change
 * the inhibit and kick every vCPU (checker_recalc_kicks).  apic_map_settled()
 * says when no recalculation can happen any more.  Fixed per run, as are the
 * last op of each vCPU that moves its APIC in the map and the last vCPU
 * creation of each actor (-1: none).
 */
static bool checker_recalc[SCN_MAX_VCPUS];
static bool checker_recalc_kicks;
static int checker_last_map_op[SCN_MAX_VCPUS];
static int checker_last_create[SCN_MAX_ACTORS];
/*
 * Script actor j from its op k on, fixed per run (actor_summaries()): its
 * future-access summary, and whether ops k..end are all inhibit changes and
 * zaps (fut_held()).
 */
static struct locmask checker_actor_fut[SCN_MAX_ACTORS][SCN_MAX_OPS + 1];
static bool checker_kick_only[SCN_MAX_ACTORS][SCN_MAX_OPS + 1];

/* Whether vCPU program p writes an APIC register (kvm_lapic_reg_write()) or the APIC base. */
static bool program_writes_apic(const struct guest_program *p)
{
	for (int i = 0; i < p->nr_ops; i++)
		if (p->ops[i].kind == GOP_APIC_WRITE || p->ops[i].kind == GOP_APIC_BASE)
			return true;
	return false;
}

/*
 * Whether guest op o moves its APIC in the map (an APIC ID, LDR, DFR or SPIV
 * write, an APIC base change), after which kvm_recalculate_apic_map() sets or
 * clears a VM-wide inhibit.
 */
static bool op_moves_apic_map(const struct guest_op *o)
{
	u32 reg = o->off & ~0xfu;

	return (o->kind == GOP_APIC_WRITE &&
		(reg == APIC_ID || reg == APIC_LDR || reg == APIC_DFR || reg == APIC_SPIV)) ||
	       o->kind == GOP_APIC_BASE;
}

/* The index of the last op of p that moves its APIC in the map, -1 if none. */
static int program_last_map_op(const struct guest_program *p)
{
	int last = -1;

	for (int i = 0; i < p->nr_ops; i++)
		if (op_moves_apic_map(&p->ops[i]))
			last = i;
	return last;
}

/*
 * Whether vCPU program p, from its op 'from' on, sends IPIs, writes its APIC
 * ID (the APIC-ID inhibit) or moves its enabled APIC away from 0xfee00000
 * (the APIC-base inhibit); or, anywhere, enters x2APIC mode on a hybrid-AVIC
 * host (the APIC-access memslot's deletion, which any later
 * KVM_REQ_APICV_UPDATE of the vCPU may run).  All of these reach other vCPUs
 * from the op's exit handler at the latest (kicks, IPIs, inhibits), with
 * the vCPU outside guest mode and its rip at most one op further.
 */
static bool program_reaches_others(const struct guest_program *p, const struct kvm_config *cfg, int from)
{
	for (int i = 0; i < p->nr_ops; i++) {
		u32 reg = p->ops[i].off & ~0xfu;

		if (p->ops[i].kind == GOP_APIC_BASE && (p->ops[i].val & X2APIC_ENABLE) &&
		    kvm_allow_apicv_in_x2apic_without_x2apic_virtualization(cfg))
			return true;
		if (i < from)
			continue;
		if (p->ops[i].kind == GOP_APIC_WRITE &&
		    (reg == APIC_ICR || reg == APIC_SELF_IPI || reg == APIC_ID))
			return true;
		/* An enabled APIC away from the default base: the APIC_BASE_MODIFIED inhibit. */
		if (p->ops[i].kind == GOP_APIC_BASE && (p->ops[i].val & MSR_IA32_APICBASE_ENABLE) &&
		    p->ops[i].gpa != APIC_DEFAULT_PHYS_BASE)
			return true;
	}
	return false;
}

/*
 * Whether anything in the scenario marks the APIC map dirty after setup: a
 * vCPU's write that moves its APIC in the map, or a vCPU's creation by an
 * actor (kvm_lapic_reset()).  While the map is dirty, any vCPU's APIC
 * register write may be the one that runs kvm_recalculate_apic_map() and
 * sets or clears the APIC-ID inhibit.
 */
static bool scenario_dirties_apic_map(const struct scenario *s)
{
	for (int i = 0; i < s->nr_vcpus; i++)
		if (program_last_map_op(&s->vcpu[i]) >= 0)
			return true;
	for (int j = 0; j < s->nr_actors; j++)
		for (int k = 0; k < s->actor[j].nr_ops; k++)
			if (s->actor[j].ops[k].kind == AOP_CREATE_VCPU)
				return true;
	return false;
}


/*
 * In the live state: the APIC map is clean and nothing can dirty it again.
 * Every vCPU is past its last map-moving op (an op's recalculation ends
 * before its rip moves on, except a trapped APIC write, whose rip the CPU
 * advanced before the exit: its exit must be handled too) and no actor has
 * a vCPU creation left.
 */
static bool apic_map_settled(const struct vmm *vmm)
{
	const struct scenario *s = vmm->scn;

	if (vmm->kvm->arch.apic_map_dirty.counter != KVM_APIC_MAP_CLEAN)
		return false;
	for (int h = 0; h < s->nr_vcpus; h++) {
		const struct kvm_vcpu *v = vmm->created[h] ? vmm->vcpus[h] : NULL;

		if (checker_last_map_op[h] < 0)
			continue;
		if (!v || (s64)v->arch.rip <= checker_last_map_op[h] ||
		    ((s64)v->arch.rip == checker_last_map_op[h] + 1 && v->arch.exit.reason != EXIT_NONE))
			return false;
	}
	for (int j = 0; j < s->nr_actors; j++)
		if ((int)vmm->actor_op[j] <= checker_last_create[j])
			return false;
	return true;
}

/*
 * Whether vCPU i may do more than its own state when it opens an IRQ window
 * (model/irq.c) or takes an ExtINT: the PIC's state and lock, and on SVM the
 * IRQWIN inhibit (apicv_update_lock for write, the count, every vCPU's
 * requests).  KVM opens a window when an interrupt is injectable and the
 * guest cannot take it (RFLAGS.IF clear: the program has cli), when an
 * ExtINT may be pending (the scenario raises PIC lines: any vCPU may accept
 * them), and, with RFLAGS.IF set, when a vector of a higher priority class
 * arrives between the injection of one and the check after it (SVM only, and
 * only with two classes among the vectors the scenario sends).
 */
static bool scenario_irq_windows(const struct scenario *s, int i, enum kvm_vendor vendor)
{
	u32 classes = 0;

	for (int a = 0; a < s->nr_actors; a++)
		for (int k = 0; k < s->actor[a].nr_ops; k++) {
			const struct actor_op *op = &s->actor[a].ops[k];

			if (op->kind == AOP_PIC_IRQ)
				return true;
			if (op->kind == AOP_MSI)
				classes |= BIT(op->vector >> 4);
		}
	for (int v = 0; v < s->nr_vcpus; v++)
		for (int k = 0; k < s->vcpu[v].nr_ops; k++) {
			const struct guest_op *op = &s->vcpu[v].ops[k];

			if (v == i && op->kind == GOP_CLI)
				return true;
			if (op->kind == GOP_APIC_WRITE &&
			    ((op->off & ~0xfu) == APIC_ICR || (op->off & ~0xfu) == APIC_SELF_IPI))
				classes |= BIT((op->val & 0xff) >> 4);
		}
	return vendor == KVM_VENDOR_SVM && (classes & (classes - 1));
}

static bool in(u64 a, const void *base, size_t size)
{
	return base && a >= (u64)(uintptr_t)base && a < (u64)(uintptr_t)base + size;
}

/*
 * ---- Location classes and future-access summaries (the reduction) --------
 *
 * Every address the footprints name falls in one of these classes.  Per
 * vCPU: the fields other threads touch (struct kvm_vcpu up to .arch:
 * cpu, mode, requests, ...; and the ghost fault record, which a zap
 * marks), the vCPU's own state (the rest of struct kvm_vcpu, its local
 * APIC and reference APIC), its AVIC physical ID table entry (only its own
 * thread writes it, only IPI senders' hardware reads it), the request bits
 * only it raises (VREQ_SELF_MASK), its KVM_REQ_APICV_UPDATE bit, and per
 * actor its pCPU (actors 8 and up share one class: only vCPUs' pCPUs are
 * touched by other actors, and vCPUs are actors 0-7).  Then the parts of
 * struct kvm, struct vmm, and the rest of the heap (SPTEs, page tables,
 * guest RAM).
 */
enum {
	LC_VSHARED = 0,		/* + vCPU index */
	LC_VPRIV = 8,		/* + vCPU index */
	LC_PCPU = 16,		/* + actor id below 8; LC_PCPU + 8: the actors from 8 up */
	LC_MMU_LOCK = LC_PCPU + 9,
	LC_KVM_MUTEX,		/* slots_lock, lock */
	LC_MMU_SEQ,		/* mmu_invalidate_* */
	LC_MEMSLOTS,
	LC_VCPUS,		/* online_vcpus, created_vcpus, vcpus[] */
	LC_INHIBIT,		/* kvm->arch.apicv_inhibit_reasons */
	LC_APICV_LOCK,		/* kvm->arch.apicv_update_lock */
	LC_KVM_ARCH,		/* the rest of struct kvm_arch */
	LC_GHOST_REQ,		/* kvm->ghost_requesters */
	LC_KVM,			/* the rest of struct kvm (its configuration) */
	LC_VMM,
	LC_HEAP,		/* everything else */
	LC_AVIC,		/* + vCPU index: its AVIC physical ID table entry */
	LC_VREQ_SELF = LC_AVIC + 8,	/* + vCPU index: request bits only the vCPU itself raises */
	LC_VREQ_APICV = LC_VREQ_SELF + 8,	/* + vCPU index: its KVM_REQ_APICV_UPDATE bit */
	LC_PIC = LC_VREQ_APICV + 8,	/* kvm->arch.vpic and apicv_nr_irq_window_req (model/irq.c) */
	LC_SRCU,		/* kvm->srcu_readers */
	LC_NR
};

/*
 * The bits of vcpu->requests that only the vCPU's own thread sets, clears
 * or tests: KVM_REQ_TLB_FLUSH_CURRENT (raised by its own AVIC/APICv
 * activation) and KVM_REQ_UNBLOCK (which nothing in the model raises;
 * vcpu_run() clears it after every entry, kvm_vcpu_check_block() tests it).
 * A one-byte bit operation on those alone is in LC_VREQ_SELF; a whole-word
 * read of the requests is in both classes.
 */
#define VREQ_SELF_MASK (BIT_ULL(KVM_REQ_TLB_FLUSH_CURRENT & KVM_REQUEST_MASK) | \
			BIT_ULL(KVM_REQ_UNBLOCK & KVM_REQUEST_MASK))
/*
 * KVM_REQ_APICV_UPDATE on its own (LC_VREQ_APICV): a vCPU that tests or
 * clears it touches nothing an inhibit change's set_bit() of a bit that is
 * already set writes (fut_held()), nor the TLB flush request a zap makes.
 */
#define VREQ_APICV_MASK BIT_ULL(KVM_REQ_APICV_UPDATE & KVM_REQUEST_MASK)
#define LC_PCPUS (0x1ffull << LC_PCPU)
_Static_assert(KVM_MAX_VCPUS <= 8 && KVMLAB_MAX_ACTORS <= 16 && LC_NR <= 64, "classes fit a u64");

#define LC(c) (1ull << (c))
#define LC_ALL (~0ull)

static int kvm_class(u64 off)
{
	static const struct { size_t end; int c; } kvm_parts[] = {
		{ offsetof(struct kvm, mmu_lock), LC_KVM },
		{ offsetof(struct kvm, slots_lock), LC_MMU_LOCK },
		{ offsetof(struct kvm, srcu_readers), LC_KVM_MUTEX },
		{ offsetof(struct kvm, mmu_invalidate_seq), LC_SRCU },
		{ offsetof(struct kvm, nr_memslots), LC_MMU_SEQ },
		{ offsetof(struct kvm, online_vcpus), LC_MEMSLOTS },
		{ offsetof(struct kvm, arch), LC_VCPUS },
		{ offsetof(struct kvm, arch.apicv_update_lock), LC_INHIBIT },
		{ offsetof(struct kvm, arch.apic_access_memslot_enabled), LC_APICV_LOCK },
		{ offsetof(struct kvm, arch.apicv_nr_irq_window_req), LC_KVM_ARCH },
		{ offsetof(struct kvm, arch.tdp_root), LC_PIC },
		{ offsetof(struct kvm, ghost_requesters), LC_KVM_ARCH },
		{ offsetof(struct kvm, ghost_requesters) + sizeof(u32), LC_GHOST_REQ },
	};

	for (size_t i = 0; i < sizeof(kvm_parts) / sizeof(kvm_parts[0]); i++)
		if (off < kvm_parts[i].end)
			return kvm_parts[i].c;
	return LC_KVM;
}

static int loc_class(const struct vmm *vmm, u64 a)
{
	for (int i = 0; i < vmm->nr_vcpus; i++) {
		const struct kvm_vcpu *v = vmm->created[i] ? vmm->vcpus[i] : NULL;

		if (!v)
			continue;
		if (in(a, &v->avic_physical_id_table_entry, sizeof(v->avic_physical_id_table_entry)))
			return LC_AVIC + i;
		if (in(a, v, offsetof(struct kvm_vcpu, arch)) ||
		    in(a, &v->ghost.fault_active, sizeof(*v) - offsetof(struct kvm_vcpu, ghost.fault_active)))
			return LC_VSHARED + i;	/* ghost.fault_*: a zap marks the faults it races with */
		if (in(a, v, sizeof(*v)) || in(a, v->arch.apic, sizeof(*v->arch.apic)) ||
		    in(a, v->ghost.ref, sizeof(*v->ghost.ref)))
			return LC_VPRIV + i;
	}
	/* Actor i's two CPUs, its own and its spare, are one class. */
	if (in(a, rt->percpu(0), KVMLAB_MAX_PCPUS * sizeof(struct pcpu))) {
		int actor = (int)((a - (u64)(uintptr_t)rt->percpu(0)) / sizeof(struct pcpu)) % KVMLAB_MAX_ACTORS;

		return LC_PCPU + (actor < 8 ? actor : 8);
	}
	if (in(a, vmm->kvm, sizeof(*vmm->kvm)))
		return kvm_class(a - (u64)(uintptr_t)vmm->kvm);
	if (in(a, vmm, sizeof(*vmm)))
		return LC_VMM;
	return LC_HEAP;
}

static const char *class_name(int c, char *buf, size_t len, void *arg)
{
	static const char *const global[] = {
		[LC_MMU_LOCK - LC_MMU_LOCK] = "kvm->mmu_lock", [LC_KVM_MUTEX - LC_MMU_LOCK] = "kvm's mutexes",
		[LC_MMU_SEQ - LC_MMU_LOCK] = "kvm->mmu_invalidate_*", [LC_MEMSLOTS - LC_MMU_LOCK] = "memslots",
		[LC_VCPUS - LC_MMU_LOCK] = "kvm->vcpus, online_vcpus",
		[LC_INHIBIT - LC_MMU_LOCK] = "apicv_inhibit_reasons",
		[LC_APICV_LOCK - LC_MMU_LOCK] = "apicv_update_lock", [LC_KVM_ARCH - LC_MMU_LOCK] = "kvm->arch",
		[LC_GHOST_REQ - LC_MMU_LOCK] = "kvm->ghost_requesters", [LC_KVM - LC_MMU_LOCK] = "struct kvm",
		[LC_VMM - LC_MMU_LOCK] = "struct vmm", [LC_HEAP - LC_MMU_LOCK] = "heap (SPTEs, page tables, RAM)",
	};

	(void)arg;
	if (c < LC_VPRIV)
		snprintf(buf, len, "vCPU %d's shared fields (cpu, mode, requests, ...)", c - LC_VSHARED);
	else if (c < LC_PCPU)
		snprintf(buf, len, "vCPU %d's own state and APIC", c - LC_VPRIV);
	else if (c < LC_PCPU + 8)
		snprintf(buf, len, "actor %d's pCPU", c - LC_PCPU);
	else if (c < LC_MMU_LOCK)
		snprintf(buf, len, "the pCPUs of actors 8 and up");
	else if (c < LC_AVIC)
		snprintf(buf, len, "%s", global[c - LC_MMU_LOCK]);
	else if (c < LC_VREQ_SELF)
		snprintf(buf, len, "vCPU %d's AVIC physical ID table entry", c - LC_AVIC);
	else if (c < LC_VREQ_APICV)
		snprintf(buf, len, "vCPU %d's own requests (KVM_REQ_TLB_FLUSH_CURRENT, _UNBLOCK)", c - LC_VREQ_SELF);
	else if (c < LC_PIC)
		snprintf(buf, len, "vCPU %d's KVM_REQ_APICV_UPDATE", c - LC_VREQ_APICV);
	else if (c == LC_PIC)
		snprintf(buf, len, "the PIC and apicv_nr_irq_window_req");
	else if (c == LC_SRCU)
		snprintf(buf, len, "kvm->srcu's readers other than vCPUs");
	else
		snprintf(buf, len, "class %d", c);
	return buf;
}

/*
 * loc_class() per 8-byte heap word, cached (every class boundary is
 * 8-byte aligned): class + 1, 0 = not filled.  The classes of a vCPU's
 * objects change when it is created (or, on backtracking, no longer is),
 * so the cache holds one vmm->created[]/vcpus[] key and is refilled when
 * that differs.
 *
 * It is filled only on the scheduler's side, before each transition
 * (class_cache_prepare()): a fill inside a transition would happen on the
 * fiber's stack the first time the search passes by and not the next, and
 * its frames, left there as dead bytes, would split one state into two
 * fingerprints (KVMLAB_VALIDATE: "transition from a restored state
 * reached ...").  A transition reads the cache only below the heap's use
 * at its start and while the key holds; it computes any other word's class
 * each time, so what it executes depends on its state alone.
 */
static struct {
	u8 *cls;
	const u8 *heap;
	size_t words;
	size_t ready;		/* words [0, ready) are filled for the key */
	size_t safe;		/* words a transition may look up: [0, heap use at its start) */
	u32 created[KVM_MAX_VCPUS];
	const void *vcpus[KVM_MAX_VCPUS];
} CC;

static bool class_key_holds(const struct vmm *vmm)
{
	for (int i = 0; i < KVM_MAX_VCPUS; i++)
		if (CC.created[i] != vmm->created[i])
			return false;
	return true;
}

/* key: class_key_holds(vmm), asked once per footprint. */
static int word_class(const struct vmm *vmm, u64 a, bool key)
{
	u64 w = (a - (u64)(uintptr_t)CC.heap) / 8;

	if (key && a >= (u64)(uintptr_t)CC.heap && w < CC.safe)
		return CC.cls[w] - 1;
	return loc_class(vmm, a);
}

/* Before each transition, on the scheduler's stack. */
static void class_cache_prepare(void *arg)
{
	const struct vmm *vmm = arg;
	size_t used = (sched_heap_used() + 7) / 8;
	bool same = class_key_holds(vmm);

	for (int i = 0; same && i < KVM_MAX_VCPUS; i++)
		same = CC.vcpus[i] == (const void *)vmm->vcpus[i];
	if (!same) {
		memset(CC.cls, 0, CC.ready);
		CC.ready = 0;
		for (int i = 0; i < KVM_MAX_VCPUS; i++) {
			CC.created[i] = vmm->created[i];
			CC.vcpus[i] = vmm->vcpus[i];
		}
	}
	if (used > CC.words)
		used = CC.words;
	for (; CC.ready < used; CC.ready++)
		CC.cls[CC.ready] = (u8)(loc_class(vmm, (u64)(uintptr_t)(CC.heap + CC.ready * 8)) + 1);
	CC.safe = used;
}

static void class_cache_init(void)
{
	size_t cap;

	free(CC.cls);
	memset(&CC, 0, sizeof(CC));
	CC.heap = sched_heap(&cap);
	CC.words = cap / 8;
	CC.cls = mem_calloc(CC.words, 1);
}

/* The classes of footprint entry e in vCPU v's shared fields: requests bits split off (LC_VREQ_SELF). */
static u64 vreq_class(const struct vmm *vmm, int v, const struct fp_entry *e)
{
	const struct kvm_vcpu *vcpu = vmm->vcpus[v];
	u64 req = (u64)(uintptr_t)&vcpu->requests, bits;

	if (e->addr < req || e->addr >= req + sizeof(vcpu->requests))
		return LC(LC_VSHARED + v);
	bits = e->size == 1 ? (u64)e->bits << 8 * (e->addr - req) : ~0ull;
	return (bits & VREQ_SELF_MASK ? LC(LC_VREQ_SELF + v) : 0) |
	       (bits & VREQ_APICV_MASK ? LC(LC_VREQ_APICV + v) : 0) |
	       (bits & ~(VREQ_SELF_MASK | VREQ_APICV_MASK) ? LC(LC_VSHARED + v) : 0);
}

static struct locmask fp_mask(const struct footprint *fp, void *arg)
{
	const struct vmm *vmm = arg;
	struct locmask m = { 0, 0 };
	bool key, tso = sched_store_buffer();

	if (fp->overflow)
		return (struct locmask){ LC_ALL, LC_ALL };
	key = class_key_holds(vmm);
	for (int i = 0; i < fp->n; i++) {
		int wc;
		u64 c;

		if (tso && sched_sb_addr(fp->e[i].addr))
			continue;	/* x86-TSO: a store buffer, shared by a fiber and its flusher only */
		wc = word_class(vmm, fp->e[i].addr, key);
		c = LC(wc);

		if (wc >= LC_VSHARED && wc < LC_VSHARED + KVM_MAX_VCPUS)
			c = vreq_class(vmm, wc - LC_VSHARED, &fp->e[i]);

		if (fp->e[i].kind == FP_READ || fp->e[i].kind == FP_LOCK_SHARED)
			m.r |= c;
		else
			m.w |= c;
	}
	return m;
}

/* checker_actor_fut[][] and checker_kick_only[][] (fiber_summary()'s actor scripts, below). */
static void actor_summaries(const struct scenario *s)
{
	const u64 zap = LC(LC_MMU_LOCK) | LC(LC_MMU_SEQ) | LC(LC_HEAP) | LC(LC_GHOST_REQ) |
			(0xffull << LC_VSHARED) | LC_PCPUS;

	for (int j = 0; j < s->nr_actors; j++) {
		const struct actor_script *a = &s->actor[j];
		struct locmask f = { ~((0xffull << LC_VPRIV) | (0xffull << LC_AVIC) | (0xffull << LC_VREQ_SELF)), 0 };
		bool kick = true;

		checker_actor_fut[j][a->nr_ops] = f;
		checker_kick_only[j][a->nr_ops] = kick;
		for (int k = a->nr_ops - 1; k >= 0; k--) {
			switch (a->ops[k].kind) {
			case AOP_INHIBIT_SET:
			case AOP_INHIBIT_CLEAR:
				f.w |= zap | LC(LC_APICV_LOCK) | LC(LC_INHIBIT) | (0xffull << LC_VREQ_APICV) |
				       LC(LC_SRCU);
				break;
			case AOP_ZAP:
				f.w |= zap;
				break;
			case AOP_MSI:
				f.w |= ~LC(LC_PIC);	/* anything but the PIC and the window count */
				kick = false;
				break;
			default:
				f.w = LC_ALL;
				kick = false;
				break;
			}
			checker_actor_fut[j][k] = f;
			checker_kick_only[j][k] = kick;
		}
	}
}

/*
 * What fiber g may still touch, from its program point in the live state.
 *
 * - An actor script running op k: the union over ops k..end (computed once
 *   per run, actor_summaries()).  A vCPU
 *   creation may touch anything.  An inhibit change takes
 *   apicv_update_lock and mmu_lock exclusively, writes the inhibit reasons
 *   and mmu_invalidate_*, zaps SPTEs (the heap) inside an SRCU read-side
 *   section (kvm->srcu_readers), makes requests of every
 *   vCPU and kicks it (its shared fields and KVM_REQ_APICV_UPDATE bit,
 *   its pCPU's IPI state) and counts itself in ghost_requesters; a zap
 *   does the same without the APICv part (its request is
 *   KVM_REQ_TLB_FLUSH).  Neither touches a vCPU's own state, AVIC table
 *   entry or own requests nor writes the memslots or the vCPU array; both
 *   may read anything else.  fut_held() narrows this while a vCPU is held.
 * - A vCPU that is not created yet, or whose program sends IPIs or writes
 *   its APIC ID (which raises a VM-wide inhibit): anything.
 * - Otherwise a vCPU at guest op k (arch.rip) touches no other vCPU's
 *   objects, AVIC entry or pCPU and takes locks only shared; it writes its
 *   own objects, AVIC entry, requests and pCPU, and SPTEs (the heap) only
 *   while an APIC or memory access is left in ops k..end (a fault installs
 *   them).
 *
 * Hand-written from the model's code; explore_run() checks every executed
 * transition against its fiber's summary and stops with an internal error
 * if one breaks it.
 */
static void fiber_summary(int g, struct locmask *out, void *arg)
{
	const struct vmm *vmm = arg;
	const struct scenario *s = vmm->scn;
	const struct kvm_vcpu *v;
	bool recalc;

	if (g >= s->nr_vcpus) {
		*out = checker_actor_fut[g - s->nr_vcpus][vmm->actor_op[g - s->nr_vcpus]];
		return;
	}
	*out = (struct locmask){ LC_ALL, LC_ALL };
	v = vmm->created[g] ? vmm->vcpus[g] : NULL;
	if (!v)
		return;
	/* It may still run kvm_recalculate_apic_map()'s APICv part. */
	recalc = checker_recalc[g] && !apic_map_settled(vmm);
	/*
	 * From the op before rip on: rip has passed an op whose exit handler
	 * may not have run yet (a trap-like APIC write, a WRMSR), never two.
	 */
	if (checker_reaches_others[g][checker_whole_life || !v->arch.rip ? 0 : v->arch.rip - 1] ||
	    (recalc && checker_recalc_kicks)) {
		/* Only a vCPU that may open an IRQ window or take an ExtINT writes the PIC's class. */
		if (!checker_irq_windows[g])
			out->w &= ~LC(LC_PIC);
		return;
	}
	out->w = LC(LC_VSHARED + g) | LC(LC_VPRIV + g) | LC(LC_PCPU + g) | LC(LC_AVIC + g) |
		 LC(LC_VREQ_SELF + g) | LC(LC_VREQ_APICV + g);
	out->r = ~((0xffull << LC_VSHARED) | (0xffull << LC_VPRIV) | LC_PCPUS | (0xffull << LC_AVIC) |
		   (0xffull << LC_VREQ_SELF) | (0xffull << LC_VREQ_APICV)) | out->w;
	for (u64 k = v->arch.rip; k < (u64)s->vcpu[g].nr_ops; k++)
		if (s->vcpu[g].ops[k].kind != GOP_HLT) {
			out->w |= LC(LC_HEAP);
			out->r |= LC(LC_HEAP);
			break;
		}
	/*
	 * kvm_recalculate_apic_map()'s APICv part, which here changes no
	 * inhibit (!checker_recalc_kicks): the map's flag and lock, the write
	 * side of apicv_update_lock, the reasons stored again unchanged, and
	 * every vCPU's APIC base and ID read.
	 */
	if (recalc) {
		out->w |= LC(LC_KVM_ARCH) | LC(LC_APICV_LOCK) | LC(LC_INHIBIT);
		out->r |= out->w | (0xffull << LC_VPRIV);
	}
}

/*
 * What script actor h does not do while vCPU g is held still (fut_held()), for
 * an actor whose remaining operations are inhibit changes and zaps: all it
 * does to a vCPU is kvm_make_vcpu_request() with KVM_REQ_APICV_UPDATE or
 * KVM_REQ_TLB_FLUSH (both KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP, so no
 * wakeup), the IPIs that follow, and a zap's mark of a fault in flight.
 *
 * - Its pCPU: kvm_request_needs_ipi() puts the vCPU's CPU in the IPI mask
 *   only if the cmpxchg of vcpu->mode found anything but
 *   OUTSIDE_GUEST_MODE.  Held still in OUTSIDE_GUEST_MODE, it stays there,
 *   so no request from here targets its pCPU, unless a request loop is in
 *   flight (its mask may hold the CPU from before the vCPU left the guest):
 *   kvm->ghost_requesters counts those.
 * - Writes of its shared fields: set_bit() of a request bit that is set
 *   writes nothing, nor does the cmpxchg of a mode that is not
 *   IN_GUEST_MODE, nor the zap's mark without a fault in flight; the held
 *   vCPU clears no bit, leaves no mode and starts no fault.
 *
 * Under x86-TSO the vCPU's buffered stores can still land while it is
 * held: no narrowing there.
 */
static struct locmask held_by_vcpu(const struct vmm *vmm, int h, int g)
{
	const u64 flush = BIT_ULL(KVM_REQ_TLB_FLUSH & KVM_REQUEST_MASK);
	const struct kvm_vcpu *v = vmm->vcpus[g];
	struct locmask d = { 0, 0 };

	if (!checker_kick_only[h - vmm->scn->nr_vcpus][vmm->actor_op[h - vmm->scn->nr_vcpus]])
		return d;
	if (v->mode == OUTSIDE_GUEST_MODE && !vmm->kvm->ghost_requesters)
		d.r |= LC(LC_PCPU + g);
	if (v->mode != IN_GUEST_MODE && (v->requests & flush) && !v->ghost.fault_active)
		d.w |= LC(LC_VSHARED + g);
	if (v->requests & VREQ_APICV_MASK)
		d.w |= LC(LC_VREQ_APICV + g);
	return d;
}

/* Every live (vCPU g, script actor h) pair: held_by_vcpu(). */
static void fut_held(u32 live, struct locmask *held, void *arg)
{
	const struct vmm *vmm = arg;
	int nv = vmm->scn->nr_vcpus, nf = sched_nr_actors();

	if (sched_store_buffer())
		return;
	for (int g = 0; g < nv; g++)
		if ((live >> g & 1) && vmm->created[g])
			for (int h = nv; h < sched_nr_fibers(); h++)
				if (live >> h & 1)
					held[g * nf + h] = held_by_vcpu(vmm, h, g);
}

/* x86-TSO: the classes fiber g's buffered entries write when they leave its store buffer. */
static u64 sb_classes(int g, void *arg)
{
	struct footprint fp;
	struct locmask m;

	sched_sb_footprint(g, &fp);
	m = fp_mask(&fp, arg);
	return m.r | m.w;
}

/*
 * Under x86-TSO a fiber's future also drains what its buffer holds (an
 * RMW, a lock, smp_mb()), and the flusher of fiber k writes what k's buffer
 * holds and whatever k stores from here on.
 */
static void fut_summary(int g, struct locmask *out, void *arg)
{
	int nf = sched_nr_fibers();

	if (g < nf) {
		fiber_summary(g, out, arg);
		if (sched_store_buffer())
			out->w |= sb_classes(g, arg);
		return;
	}
	*out = (struct locmask){ 0, 0 };
	if (sched_pending(g - nf)->kind != PK_DONE)
		fiber_summary(g - nf, out, arg);
	out->r = 0;
	out->w |= sb_classes(g - nf, arg);
}

/* What invisible-step merging asks: a vCPU's reach over its whole program. */
static void fut_summary_merge(int g, struct locmask *out, void *arg)
{
	checker_whole_life = true;
	fut_summary(g, out, arg);
	checker_whole_life = false;
}

/* report_addr_name: the location class of a model address (check --verbose). */
static void addr_name(u64 a, char *buf, size_t len)
{
	class_name(loc_class(checker_vmm, a), buf, len, NULL);
}

static int explain_stuck(char *msg, size_t len, int *actor, void *arg)
{
	const struct vmm *vmm = arg;

	return ghost_explain_stuck(vmm->kvm, msg, len, actor);
}

/* A final state: lost interrupts first (a protocol finding), then the scenario's expectations. */
static int check_final(char *msg, size_t len, int *actor, void *arg)
{
	const struct vmm *vmm = arg;
	int f = ghost_check_final(vmm->kvm, msg, len, actor);

	return f != F_NONE ? f : (int)vmm_check_expect(vmm, msg, len, actor);
}

static void harness_actor_name(int fiber, char *buf, size_t len);

void checker_reduction(struct explore_opts *o)
{
	o->explain_stuck = explain_stuck;
	o->check_final = check_final;
	o->actor_name = harness_actor_name;
	o->fut_arg = checker_vmm;
	o->fut_summary = fut_summary;
	o->fut_summary_merge = fut_summary_merge;
	o->fut_held = fut_held;
	o->fp_mask = fp_mask;
	o->before_step = class_cache_prepare;
	o->class_name = class_name;
	o->fut_arg = checker_vmm;
}

struct vmm *checker_model(void)
{
	return checker_vmm;
}

static bool want_races = true;
static int harness_vcpus;

static void harness_actor_name(int fiber, char *buf, size_t len)
{
	int nf = sched_nr_fibers();

	if (fiber >= nf) {	/* x86-TSO: a fiber's store-buffer flusher */
		char who[16];

		report_actor_name(fiber - nf, harness_vcpus, who, sizeof(who));
		snprintf(buf, len, "%s's store buffer", who);
		return;
	}
	report_actor_name(fiber, harness_vcpus, buf, len);
}

void checker_set_races(bool on)
{
	want_races = on;
}

bool checker_races(void)
{
	return sched_races();
}

/*
 * The model keeps pointers to the scenario (vmm->scn, vcpu->program): a copy
 * at a fixed address (this binary is not position-independent) keeps them,
 * and so the fingerprints, the same in every process.
 */
static struct scenario checker_scn;

const char *checker_tso_unavailable(void)
{
	return rt_write_tracking ? NULL :
	       "--memory-model tso needs the model's access instrumentation, which this build "
	       "(ASan, TSan or clang) does not have: the model's plain loads of what it stored with "
	       "WRITE_ONCE must see the CPU's own buffered stores";
}

int checker_setup(const struct scenario *s, const struct kvm_config *cfg, bool movers)
{
	int r;

	if (cfg->store_buffer && checker_tso_unavailable())
		return -EOPNOTSUPP;
	r = sched_init(CHECK_HEAP_SIZE);
	if (r)
		return r;
	r = sched_set_tso(cfg->store_buffer);
	if (r)
		return r;
	sched_set_movers(movers);
	sched_set_tracking(rt_write_tracking);
	harness_vcpus = s->nr_vcpus;	/* harness_actor_name(): deadlocks, races */
	/* The model's plain accesses are seen only where it is instrumented. */
	if (want_races && rt_write_tracking) {
		if (sched_enable_races())
			return -ENOMEM;
		race_actor_name = harness_actor_name;
	}
	report_addr_name = addr_name;
	checker_scn = *s;
	s = &checker_scn;
	checker_vmm = vmm_create(s, cfg);
	class_cache_init();
	actor_summaries(s);
	for (int i = 0; i < s->nr_vcpus; i++) {
		checker_irq_windows[i] = scenario_irq_windows(s, i, cfg->vendor);
		for (int k = 0; k <= s->vcpu[i].nr_ops; k++)
			checker_reaches_others[i][k] = program_reaches_others(&s->vcpu[i], cfg, k) ||
						       checker_irq_windows[i];
		checker_last_map_op[i] = program_last_map_op(&s->vcpu[i]);
		checker_recalc[i] = checker_last_map_op[i] >= 0 ||
				    (program_writes_apic(&s->vcpu[i]) && scenario_dirties_apic_map(s));
	}
	/*
	 * A recalculation changes an inhibit only if an xAPIC ID can differ from
	 * its vCPU ID (an APIC ID write), if a script sets or clears
	 * APIC_ID_MODIFIED itself, or if the IRQWIN bit it folds in from the
	 * window count can be stale (IRQ windows).
	 */
	checker_recalc_kicks = false;
	for (int i = 0; i < s->nr_vcpus; i++) {
		checker_recalc_kicks |= checker_irq_windows[i];
		for (int k = 0; k < s->vcpu[i].nr_ops; k++)
			if (s->vcpu[i].ops[k].kind == GOP_APIC_WRITE && (s->vcpu[i].ops[k].off & ~0xfu) == APIC_ID)
				checker_recalc_kicks = true;
	}
	for (int j = 0; j < s->nr_actors; j++)
		for (int k = 0; k < s->actor[j].nr_ops; k++)
			if ((s->actor[j].ops[k].kind == AOP_INHIBIT_SET || s->actor[j].ops[k].kind == AOP_INHIBIT_CLEAR) &&
			    s->actor[j].ops[k].reason == APICV_INHIBIT_REASON_APIC_ID_MODIFIED)
				checker_recalc_kicks = true;
	for (int j = 0; j < s->nr_actors; j++) {
		checker_last_create[j] = -1;
		for (int k = 0; k < s->actor[j].nr_ops; k++)
			if (s->actor[j].ops[k].kind == AOP_CREATE_VCPU)
				checker_last_create[j] = k;
	}
	return sched_start(s->nr_vcpus + s->nr_actors, checker_entry, checker_vmm);
}

int checker_setup_schedule(const struct schedule *sch, struct explore_opts *o)
{
	int r = checker_setup(&sch->scn, &sch->cfg, sch->granularity != GRAN_FINE);

	if (r)
		return r;
	*o = (struct explore_opts){ .witness = WITNESS_NONE };
	checker_reduction(o);
	o->merge_invisible = sch->granularity == GRAN_MERGED;
	return 0;
}

void checker_teardown(void)
{
	report_addr_name = NULL;	/* it reads the model, which goes now */
	sched_fini();
}
