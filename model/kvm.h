/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct kvm and struct kvm_vcpu as far as the APIC-access page and the
 * APICv/AVIC activation protocol need them (docs/kvm-protocol.md §1-§6).
 *
 * Field names follow include/linux/kvm_host.h and arch/x86/include/asm/
 * kvm_host.h of v5.16/v5.17 (mmu_notifier_* is spelled with the v6.1+ names
 * mmu_invalidate_*; the ranges are gfns as in v6.8+, compared in the units the
 * 'zap-yield-range-units' bug knob selects).  Everything lives in the arena
 * (kvm_zalloc); nothing is static.
 *
 * Fields marked "ghost" are not kernel state: they are bookkeeping for the
 * oracles (which fault installed an SPTE from which snapshot, the sequential
 * reference xAPIC, ...).  The model never branches on ghost state.
 */
#ifndef KVMLAB_MODEL_KVM_H
#define KVMLAB_MODEL_KVM_H

#include "kernel/prim.h"
#include "kernel/smp.h"
#include "model/lapic.h"	/* APIC_DEFAULT_PHYS_BASE */
#include "model/program.h"

struct kvm;
struct kvm_lapic;
struct guest_program;

#define KVM_MAX_VCPUS 8
#define KVM_USER_MEM_SLOTS (32767 - 3)		/* SHRT_MAX - 3, v5.15 */
#define APIC_ACCESS_PAGE_PRIVATE_MEMSLOT (KVM_USER_MEM_SLOTS + 1)
#define KVM_MEMSLOT_INVALID (1ul << 16)
/* include/linux/kvm_host.h: the generation of memslots being swapped in (kvm_swap_active_memslots()). */
#define KVM_MEMSLOT_GEN_UPDATE_IN_PROGRESS (1ull << 63)
#define KVM_MODEL_MAX_MEMSLOTS 4
/* Host pages backing the memslots: the most RAM a scenario has, and the APIC-access page. */
#define KVM_MODEL_MAX_HOST_PAGES (SCN_MAX_RAM_PAGES + 1)
#define APIC_ACCESS_GFN (APIC_DEFAULT_PHYS_BASE >> PAGE_SHIFT)

/* ---- knobs ------------------------------------------------------------------ */

enum kvm_policy {
	KVM_POLICY_VM,		/* mainline: kvm_apicv_activated(vcpu->kvm) */
	KVM_POLICY_VCPU,	/* seed patch v2 1/4: kvm_vcpu_apicv_active(vcpu) */
};

enum kvm_vendor { KVM_VENDOR_SVM, KVM_VENDOR_VMX };

/* Preemption of vCPU threads (scenario key 'preempt'). */
enum kvm_preempt {
	KVM_PREEMPT_NO,
	KVM_PREEMPT_YES,	/* preempt notifiers run; the task comes back on its CPU */
	KVM_PREEMPT_MIGRATE,	/* ... or on its other CPU (kernel/prim.h, KVMLAB_MAX_PCPUS) */
};

/* Re-introducible historical bugs (docs/kvm-protocol.md §8); see model/names.c. */
enum kvm_bug {
	KVM_BUG_ZAP_NO_INVALIDATE,	/* reverts edb298c663fc */
	KVM_BUG_UPDATE_BEFORE_KICK,	/* reverts b0a1637f64b0 */
	KVM_BUG_FAULT_CHECKS_REQUEST,	/* the alternative the seed rejects */
	KVM_BUG_ZAP_YIELD_RANGE_UNITS,	/* reverts 6d3085e4d89a */
	KVM_BUG_CREATE_NO_REQUEST,	/* reverts 423ecfea77dd */
	KVM_BUG_APIC_MMIO_SPTE,		/* emulation caches an MMIO SPTE for the APIC page */
	KVM_BUG_AVIC_DELIVER_RACE,	/* reverts 66fa226c131f and 30811174f0db */
	KVM_BUG_DEACTIVATE_NO_EVENT,	/* reverts bca66dbcd28a */
	KVM_BUG_IRR_PENDING_SEARCH,	/* reverts 755c2bf87860 */
	KVM_BUG_UPDATE_APICV_PREEMPT,	/* reverts 66c768d30e64 */
	KVM_BUG_BLOCKING_PREEMPT,	/* reverts 18869f26df1a */
	KVM_BUG_ISR_CACHE_STALE,	/* reverts 97a71c444a14 */
	KVM_BUG_PIR_SYNC_INHIBITED,	/* reverts 37c4dbf337c5 */
	KVM_BUG_PIR_NO_EVENT,		/* reverts 7e1901f6c86c */
	KVM_BUG_SVI_STALE,		/* reverts b2849bec936b */
	KVM_BUG_AVIC_KICK_FAST_INDEX,	/* reverts 603ccef42ce9 */
	KVM_BUG_AVIC_INIT_VM_STATE,	/* reverts 3989a6d036c8 */
	KVM_BUG_ZAP_NO_FLUSH,		/* a mutant: kvm_zap_gfn_range() without kvm_flush_remote_tlbs() */
	KVM_BUG_AVIC_ACTIVATE_NO_FLUSH,	/* reverts 0ccf3e7cb95a */
	KVM_BUG_APIC_ID_NO_INHIBIT,	/* reverts 3743c2f02517 */
	KVM_BUG_X2AVIC_NO_FLUSH,	/* reverts a9e18aa3263f */
	KVM_BUG_CR8_INTERCEPT_STUCK,	/* reverts 87d0f901a9bd */
	KVM_BUG_TPR_NO_SYNC,		/* reverts d02e48830e3f */
	KVM_BUG_ENTER_GUEST_NO_MB,	/* a mutant: no smp_mb() after vcpu->mode = IN_GUEST_MODE (x86-TSO) */
	KVM_BUG_HALT_NO_MB,		/* a mutant: no full barrier (set_current_state(), srcu_read_lock()) before the wake-up check (x86-TSO) */
	KVM_BUG_IRQWIN_NO_REFCOUNT,	/* reverts 6563ddadd169 (and 5617dddcfa30, which builds on it) */
	KVM_BUG_X2APIC_MEMSLOT,		/* reverts 2008fab34530 */
	KVM_BUG_APIC_ID_INHIBIT_STICKY,	/* reverts d471bd853d38 */
	KVM_BUG_TPR_THRESHOLD_STALE,	/* reverts bb365a506b1e */
	KVM_BUG_APIC_BASE_NO_INHIBIT,	/* reverts 3743c2f02517's APIC-base half */
	KVM_NR_BUGS
};

struct kvm_bug_info {
	const char *slug;
	const char *commit;		/* the commit the bug reverts, or "-" */
	const char *title;
	const char *scenario;		/* built-in scenario that exposes it */
	const char *expect;		/* expected finding */
	/*
	 * Caught only under x86-TSO (a barrier that orders a store before a
	 * later load): check --bug picks --memory-model tso unless told.
	 */
	bool tso;
	/* Under x86-TSO: the store buffers it needs, if more than the default's (--store-buffer). */
	u8 store_buffer;
};

const struct kvm_bug_info *kvm_bug_info(enum kvm_bug b);
int kvm_bug_parse(const char *slug);	/* enum kvm_bug, or -1 */
const char *kvm_policy_name(enum kvm_policy p);
const char *kvm_vendor_name(enum kvm_vendor v);
int kvm_policy_parse(const char *s);	/* -1 if unknown */
int kvm_vendor_parse(const char *s);	/* -1 if unknown */

/*
 * ---- APICv inhibit reasons (arch/x86/include/asm/kvm_host.h, v5.17's order;
 * X2APIC, gone from mainline, left out; no SEV or ID-aliasing reasons) ----
 */

enum kvm_apicv_inhibit {
	APICV_INHIBIT_REASON_DISABLE,
	APICV_INHIBIT_REASON_HYPERV,
	APICV_INHIBIT_REASON_NESTED,
	APICV_INHIBIT_REASON_IRQWIN,
	APICV_INHIBIT_REASON_PIT_REINJ,
	APICV_INHIBIT_REASON_BLOCKIRQ,
	APICV_INHIBIT_REASON_ABSENT,
	APICV_INHIBIT_REASON_APIC_ID_MODIFIED,		/* v5.19, 3743c2f02517 */
	APICV_INHIBIT_REASON_APIC_BASE_MODIFIED,	/* v5.19, 3743c2f02517 */
	APICV_NR_INHIBITS
};

const char *kvm_inhibit_name(int reason);
int kvm_inhibit_parse(const char *s);	/* -1 if unknown */

/* ---- requests (include/linux/kvm_host.h, arch/x86/include/asm/kvm_host.h) -- */

#define KVM_REQUEST_MASK 0xff
#define KVM_REQUEST_NO_WAKEUP BIT(8)
#define KVM_REQUEST_WAIT BIT(9)
#define KVM_REQ_TLB_FLUSH (0 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
#define KVM_REQ_MMU_RELOAD (1 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)
#define KVM_REQ_UNBLOCK 2
#define KVM_REQ_EVENT 11				/* KVM_ARCH_REQ(3) */
#define KVM_REQ_APICV_UPDATE (33 | KVM_REQUEST_WAIT | KVM_REQUEST_NO_WAKEUP)	/* KVM_ARCH_REQ_FLAGS(25, ...) */
#define KVM_REQ_TLB_FLUSH_CURRENT 34			/* KVM_ARCH_REQ(26) */

enum { OUTSIDE_GUEST_MODE, IN_GUEST_MODE, EXITING_GUEST_MODE, READING_SHADOW_PAGE_TABLES };

/* ---- memslots ----------------------------------------------------------------- */

struct kvm_memory_slot {
	gfn_t base_gfn;
	u64 npages;
	u32 flags;
	u16 id;
	u8 *backing;		/* the host pages ("userspace_addr"), in the arena */
	u32 first_pfn;		/* pfn of backing page 0 (see kvm_pfn_to_page) */
	u8 *ghost_zapped;	/* ghost: per page, zapped at least once */
	/*
	 * ghost, per page and vCPU index: 1 = a zap passed the page since
	 * that vCPU's CPU last cached a translation of it, 2 = and that zap
	 * has completed (with its TLB flush): a cached translation is stale.
	 */
	u8 (*ghost_tlb)[KVM_MAX_VCPUS];
};

/* ---- TDP MMU (arch/x86/kvm/mmu/spte.h, tdp_mmu.c) ------------------------------ */

#define PT64_ENT_PER_PAGE 512
#define PT64_ROOT_LEVEL 4
#define SPTE_PRESENT BIT_ULL(0)		/* model: R */
#define SPTE_WRITABLE BIT_ULL(1)
#define SPTE_MMIO BIT_ULL(62)		/* model: an MMIO SPTE ("reserved bits set") */
#define SPTE_PFN_SHIFT 12
#define SPTE_PFN_MASK (((1ull << 40) - 1) << SPTE_PFN_SHIFT)
#define SPTE_MMIO_GEN_SHIFT 52

struct kvm_mmu_page {
	u64 spt[PT64_ENT_PER_PAGE];
};

#define KVM_MMU_PAGE_CACHE_NR 3	/* one page per level below the root */
struct kvm_mmu_memory_cache {
	int nobjs;
	struct kvm_mmu_page *objects[KVM_MMU_PAGE_CACHE_NR];
};

enum {
	RET_PF_RETRY = 0,
	RET_PF_EMULATE,
	RET_PF_INVALID,
	RET_PF_FIXED,
	RET_PF_SPURIOUS,
	RET_PF_CONTINUE,	/* first in the kernel's enum; last here, so the others keep their values */
};

/* v5.16+ struct kvm_page_fault, with the v6.8 mmu_seq member. */
struct kvm_page_fault {
	gpa_t addr;
	u32 error_code;
	bool write, present, rsvd;
	gfn_t gfn;
	struct kvm_memory_slot *slot;
	unsigned long mmu_seq;
	kvm_pfn_t pfn;
	hva_t hva;
	bool map_writable;
};

#define PFERR_PRESENT_MASK BIT(0)
#define PFERR_WRITE_MASK BIT(1)
#define PFERR_RSVD_MASK BIT(3)
#define KVM_PFN_NOSLOT ((kvm_pfn_t)-1 & ~0xffful)

/* ---- simulated hardware controls (hw/) ------------------------------------------ */

enum kvm_exit_reason {
	EXIT_NONE,
	EXIT_NPF,		/* #NPF / EPT violation: info = gpa, error code */
	EXIT_MMIO_SPTE,		/* EPT misconfig / NPF with RSVD: an MMIO SPTE was hit */
	EXIT_APIC_ACCESS,	/* VMX fault-like APIC-access exit / AVIC unaccelerated fault */
	EXIT_APIC_WRITE,	/* VMX APIC-write exit / AVIC unaccelerated trap */
	EXIT_EXTINT,		/* an IPI arrived while in guest mode */
	EXIT_HLT,
	EXIT_AVIC_INCOMPLETE_IPI,	/* AVIC hardware IPI: info = ICR, failure cause */
	EXIT_WRMSR,		/* an intercepted WRMSR (IA32_APIC_BASE): info = the EN bit it sets */
	EXIT_CR8_WRITE,		/* SVM: an intercepted MOV to CR8: info = the value */
	EXIT_TPR_BELOW_THRESHOLD,	/* VMX: trap-like, VTPR[7:4] fell below TPR_THRESHOLD */
	EXIT_IRQ_WINDOW,	/* SVM_EXIT_VINTR / EXIT_REASON_INTERRUPT_WINDOW: the guest can take an interrupt */
	EXIT_DONE,		/* the guest program has no more instructions */
};

struct kvm_hw_ctrl {
	bool avic_enabled;		/* SVM: AVIC_ENABLE_MASK in vmcb->control.int_ctl */
	bool x2avic;			/* SVM: X2APIC_MODE_MASK in int_ctl (x2AVIC: no xAPIC MMIO redirection) */
	s8 loaded_cpu;			/* SVM: current_vmcb->cpu; VMX: loaded_vmcs->cpu (-1: none) */
	bool virtualize_apic_accesses;	/* VMX: secondary control, never touched by APICv */
	bool apic_register_virt;	/* VMX: APIC-register virtualization */
	bool virtual_intr_delivery;	/* VMX: virtual-interrupt delivery */
	u8 svi;				/* VMX: GUEST_INTR_STATUS.SVI (servicing vector) */
	/*
	 * SVM: V_TPR in vmcb->control.int_ctl, what the guest's CR8 reads and
	 * writes (KVM always sets V_INTR_MASKING) and, with AVIC on, the
	 * priority the hardware's interrupt evaluation uses (d02e48830e3f).
	 */
	u8 v_tpr;
	bool cr8_write_intercept;	/* SVM: INTERCEPT_CR8_WRITE */
	u8 tpr_threshold;		/* VMX: TPR_THRESHOLD (bits 3:0) */
	/*
	 * The IRQ window KVM asked for: SVM, INTERCEPT_VINTR with V_IRQ (and
	 * V_IGN_TPR) in int_ctl (svm_set_vintr()), which the CPU ignores while
	 * AVIC is enabled; VMX, CPU_BASED_INTR_WINDOW_EXITING.
	 */
	bool irq_window;
};

/*
 * One translation the simulated CPU has cached for the vCPU's ASID/VPID (the
 * model's TLB is per vCPU: a context that is flushed, as the kernel flushes
 * it, when the vCPU moves to another pCPU).  Filled on a walk that finds a
 * present, non-MMIO leaf; used until flushed; never evicted (the worst case
 * a CPU may show).  Not-present and MMIO translations are never cached.
 */
#define KVM_HW_TLB_ENTRIES 8
struct kvm_hw_tlb_entry {
	gfn_t gfn;
	u64 spte;		/* the leaf the walk found (pfn and permissions) */
	bool valid;
	/*
	 * SVM, the APIC base gfn: cached with xAVIC on, i.e. the access is
	 * redirected to the vCPU's AVIC backing page; off: the NPT's pfn is
	 * used verbatim (the scratch page behind the private memslot).
	 */
	bool avic;
};

struct kvm_exit_info {
	u32 reason;		/* enum kvm_exit_reason */
	u32 error_code;
	gpa_t gpa;
	u32 apic_offset;
	u32 icrl, icrh;		/* EXIT_AVIC_INCOMPLETE_IPI: exit_info_1 */
	u32 index;		/* EXIT_AVIC_INCOMPLETE_IPI: exit_info_2[7:0] */
	u32 ghost_targets;	/* ghost: vCPUs whose IRR the hardware set, left to the exit */
};

/* AVIC physical APIC ID table entry (arch/x86/include/asm/svm.h). */
#define AVIC_PHYSICAL_ID_ENTRY_HOST_PHYSICAL_ID_MASK 0xffull
#define AVIC_PHYSICAL_ID_ENTRY_IS_RUNNING_MASK BIT_ULL(62)
#define AVIC_PHYSICAL_ID_ENTRY_VALID_MASK BIT_ULL(63)
/* Synthetic flag in svm->avic_physical_id_entry only (avic.c v6.17). */
#define AVIC_PHYSICAL_ID_ENTRY_GA_LOG_INTR BIT_ULL(61)

enum avic_ipi_failure_cause {
	AVIC_IPI_FAILURE_INVALID_INT_TYPE,
	AVIC_IPI_FAILURE_TARGET_NOT_RUNNING,
	AVIC_IPI_FAILURE_INVALID_TARGET,
	AVIC_IPI_FAILURE_INVALID_BACKING_PAGE,
};

/* ---- vCPU -------------------------------------------------------------------------- */

struct kvm_vcpu_arch {
	bool apicv_active;		/* v5.16: vcpu->arch.apicv_active */
	struct kvm_lapic *apic;
	struct kvm_mmu_memory_cache mmu_page_cache;
	struct kvm_hw_ctrl ctrl;
	struct kvm_hw_tlb_entry tlb[KVM_HW_TLB_ENTRIES];	/* the CPU's, not KVM's */
	struct kvm_exit_info exit;
	u64 avic_physical_id_entry;	/* SVM: svm->avic_physical_id_entry, KVM's copy */
	u64 rip;			/* index of the guest op being executed */
	u32 guest_irqs;			/* guest state: interrupts the guest has taken */
	bool rflags_if;			/* guest state: RFLAGS.IF (cli/sti); set at creation */
	bool avic_irq_window;		/* SVM: svm->avic_irq_window (6563ddadd169) */
	/*
	 * Guest memory the VMM may write: a stop request that ends a wait-irq
	 * early (only stress's wind-down sets it; the checker never does).
	 */
	u32 guest_stop;
};

/* Ghost state of a vCPU for the oracles (model/ghost.c). */
struct kvm_vcpu_ghost {
	struct kvm_lapic *ref;		/* sequential reference xAPIC */
	/* The fault in progress (from its mmu_seq snapshot to its return). */
	bool fault_active;
	bool fault_zapped;		/* a zap passed fault_gfn since the snapshot */
	gfn_t fault_gfn;
	/* Interrupt deliveries to this vCPU that have set IRR but not yet notified it. */
	u32 deliveries;
};

struct kvm_vcpu {
	struct kvm *kvm;
	int vcpu_id;
	int vcpu_idx;
	int cpu;			/* actor id of the thread running it */
	int mode;
	unsigned long requests;
	/*
	 * SVM: this vCPU's entry of the AVIC physical APIC ID table
	 * (kvm_svm->avic_physical_id_table[vcpu_id]), which the hardware reads
	 * on other CPUs.  The kernel keeps the table in one page per VM; the
	 * model stores each entry with its vCPU's shared fields (the layout is
	 * invisible to the protocol) and reaches it by vcpu_id only.
	 */
	u64 avic_physical_id_table_entry;
	/*
	 * VMX: the posted-interrupt descriptor (asm/posted_intr.h struct
	 * pi_desc: PIR, and ON in 'control'; SN, NV and NDST are for hardware
	 * senders, which the model does not have).
	 */
	struct pi_desc {
		u32 pir[8];
		u32 control;
		u32 rsvd;
	} __attribute__((aligned(8))) pi_desc;	/* bitops work on 8-byte words (kernel: 64) */
	u64 wakeup_seq;			/* rcuwait stand-in: bumped by kvm_vcpu_wake_up() */
	bool halted;
	const struct guest_program *program;
	struct kvm_vcpu_arch arch;
	/*
	 * kvm->srcu, reduced to this vCPU's read side: 1 while its thread is
	 * inside kvm_vcpu_srcu_read_lock() .. _unlock() (all of KVM_RUN but
	 * guest mode and blocking).  synchronize_srcu() waits for it.  After
	 * .arch: only the vCPU's own thread writes it and only a memslot
	 * deletion reads it (check/harness.c's classes: the vCPU's own state).
	 */
	u32 srcu_reader;
	struct kvm_vcpu_ghost ghost;
};

/* ---- VM ---------------------------------------------------------------------------- */

/*
 * Model: the page-table pages for the gfns of the memslots are assigned at
 * memslot creation, one per (level, range), so which vCPU's fault links a
 * table does not change the table's address.  The kernel takes them from
 * the faulting vCPU's cache; the choice of physical page is invisible to
 * the protocol, and this keeps equal states equal for the checker.
 */
#define KVM_MODEL_PT_POOL 16
struct kvm_pt_pool_entry {
	u8 level;			/* level of the table (3 = PDPT ... 1 = PT) */
	gfn_t base;			/* first gfn it maps */
	struct kvm_mmu_page *sp;
};

/*
 * The in-kernel PIC (arch/x86/kvm/i8259.c, struct kvm_pic), reduced to what
 * reaches a vCPU: the master 8259's edge-triggered request register, in
 * auto-EOI mode with no line masked and ICW2 as Linux programs it
 * (ISA_IRQ_VECTOR(0) = 0x30), and its INTR output.  No slave, no IMR, no
 * ELCR: the model's guests program none of them (model/irq.c).
 */
#define KVM_PIC_IRQ_BASE 0x30
struct kvm_pic {
	spinlock_t lock;
	u8 irr;				/* pics[0].irr */
	u8 last_irr;			/* pics[0].last_irr: the line levels, for edge detection */
	bool output;			/* INTR: read without the lock by kvm_cpu_has_extint() */
	bool wakeup_needed;
};

/* kvm->arch.apic_map_dirty (lapic.c's CLEAN, UPDATE_IN_PROGRESS, DIRTY). */
enum { KVM_APIC_MAP_CLEAN, KVM_APIC_MAP_UPDATE_IN_PROGRESS, KVM_APIC_MAP_DIRTY };

struct kvm_arch {
	unsigned long apicv_inhibit_reasons;
	struct rw_semaphore apicv_update_lock;
	bool apic_access_memslot_enabled;
	bool apic_access_memslot_inhibited;	/* 2008fab34530: deleted for good (hybrid AVIC, x2APIC) */
	/*
	 * kvm_recalculate_apic_map()'s protocol (lapic.c v7.0): a register
	 * change that moves an APIC in the map marks it DIRTY; a recalculation
	 * takes apic_map_lock, moves it to UPDATE_IN_PROGRESS and, unless
	 * another change came in meanwhile, to CLEAN.
	 */
	atomic_t apic_map_dirty;	/* KVM_APIC_MAP_* */
	struct mutex apic_map_lock;
	/*
	 * vCPUs with an IRQ window open (6563ddadd169); written under
	 * apicv_update_lock, for write or (5617dddcfa30) for read.  (The
	 * kernel keeps it next to the lock; here it is after the fields the
	 * checker's location classes split off, check/harness.c.)
	 */
	atomic_t apicv_nr_irq_window_req;
	struct kvm_pic vpic;
	struct kvm_mmu_page *tdp_root;
	int nr_pt_pool;
	struct kvm_pt_pool_entry pt_pool[KVM_MODEL_PT_POOL];
};

struct kvm_config {
	enum kvm_policy policy;
	enum kvm_vendor vendor;
	u64 bugs;			/* bitmask of enum kvm_bug */
	bool zap_can_yield;		/* kvm_zap_gfn_range yields mmu_lock mid-way */
	u8 preempt;			/* enum kvm_preempt */
	bool enable_apicv;
	bool tlb;			/* the simulated CPUs cache translations (--no-tlb: they walk every time) */
	/*
	 * SVM: the host CPU has x2AVIC (X86_FEATURE_X2AVIC).  Without it KVM runs
	 * "hybrid" AVIC: AVIC stays on for an APIC in x2APIC mode (the doorbell
	 * delivers interrupts; KVM emulates the x2APIC MSRs), the CPU still
	 * redirects the xAPIC page, and kvm_x86_ops.allow_apicv_in_x2apic_
	 * without_x2apic_virtualization is set (avic_hardware_setup(), v7.1).
	 */
	bool x2avic;
	/*
	 * The checker's memory model: 0 = sequentially consistent, N = x86-TSO
	 * with a store buffer of N entries per CPU (check --memory-model tso,
	 * --store-buffer N; check/sched.h).  The thread runtime runs on the
	 * real CPU's model whatever this says.
	 */
	u8 store_buffer;
};

struct kvm {
	struct kvm_config cfg;
	rwlock_t mmu_lock;
	struct mutex slots_lock;
	struct mutex lock;
	/*
	 * kvm->srcu's read-side sections other than a vCPU thread's KVM_RUN
	 * one (vcpu->srcu_reader): the inhibit change's zap, on any thread.
	 */
	u32 srcu_readers;

	unsigned long mmu_invalidate_seq;
	long mmu_invalidate_in_progress;
	gfn_t mmu_invalidate_range_start;
	gfn_t mmu_invalidate_range_end;

	int nr_memslots;
	u64 memslots_generation;
	struct kvm_memory_slot memslots[KVM_MODEL_MAX_MEMSLOTS];
	u32 nr_host_pages;		/* pfn allocator: pfn i is host_pages[i] */
	u8 *host_pages[KVM_MODEL_MAX_HOST_PAGES];

	atomic_t online_vcpus;
	int created_vcpus;
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	struct kvm_arch arch;

	/* ghost */
	u32 ghost_requesters;		/* kvm_make_all_cpus_request calls in flight */
	u32 ghost_pic_raisers;		/* kvm_pic_set_irq calls between raising INTR and their kick */
};

static inline bool kvm_bug(const struct kvm *kvm, enum kvm_bug b)
{
	return kvm->cfg.bugs & BIT_ULL(b);
}

/* ---- kvm_main.c: VM, vCPUs, requests --------------------------------------------------- */

struct kvm *kvm_create_vm(const struct kvm_config *cfg, int ram_pages);
struct kvm_vcpu *kvm_vm_ioctl_create_vcpu(struct kvm *kvm, int id, const struct guest_program *prog);
static inline struct kvm_vcpu *kvm_get_vcpu(struct kvm *kvm, int i) { return READ_ONCE(kvm->vcpus[i]); }
struct kvm_memory_slot *gfn_to_memslot(struct kvm *kvm, gfn_t gfn);
/* The search itself, over the first nr_memslots slots (ghost code passes a plain count). */
struct kvm_memory_slot *__gfn_to_memslot(struct kvm *kvm, int nr_memslots, gfn_t gfn);
bool kvm_is_visible_memslot(struct kvm_memory_slot *slot);
u8 *kvm_pfn_to_page(struct kvm *kvm, kvm_pfn_t pfn);
hva_t kvm_slot_hva(struct kvm_memory_slot *slot, gfn_t gfn);

void kvm_make_request(int req, struct kvm_vcpu *vcpu);
bool kvm_check_request(int req, struct kvm_vcpu *vcpu);
void kvm_clear_request(int req, struct kvm_vcpu *vcpu);
bool kvm_test_request(int req, struct kvm_vcpu *vcpu);
bool kvm_request_pending(struct kvm_vcpu *vcpu);
bool kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req);
void kvm_vcpu_kick(struct kvm_vcpu *vcpu);
bool kvm_vcpu_wake_up(struct kvm_vcpu *vcpu);
void kvm_vcpu_halt(struct kvm_vcpu *vcpu);
bool kvm_vcpu_is_blocking(struct kvm_vcpu *vcpu);
/* A point where the vCPU thread may be preempted (scenario 'preempt yes'). */
void kvm_preempt_point(struct kvm_vcpu *vcpu);
void kvm_sched_out(struct kvm_vcpu *vcpu);
void kvm_sched_in(struct kvm_vcpu *vcpu, int cpu);
struct kvm_vcpu *kvm_get_vcpu_by_id(struct kvm *kvm, int id);
void kvm_flush_remote_tlbs(struct kvm *kvm);

/*
 * kvm_for_each_vcpu(), include/linux/kvm_host.h v5.16+: an xa_for_each_range()
 * over [0, online_vcpus - 1], the bound read once (5.15 re-read it on every
 * iteration).  'idx' must be an int lvalue; '__n' is private to the macro.
 */
#define kvm_for_each_vcpu(idx, vcpup, kvm) \
	for (int __n = ((idx) = 0, atomic_read(&(kvm)->online_vcpus)); \
	     (idx) < __n && ((vcpup) = kvm_get_vcpu(kvm, idx)) != NULL; (idx)++)

/* ---- mmu.c ---------------------------------------------------------------------------- */

int kvm_mmu_page_fault(struct kvm_vcpu *vcpu, gpa_t cr2_or_gpa, u64 error_code);
bool is_page_fault_stale(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
void kvm_zap_gfn_range(struct kvm *kvm, gfn_t gfn_start, gfn_t gfn_end);
void kvm_mmu_invalidate_start(struct kvm *kvm);
void kvm_mmu_invalidate_range_add(struct kvm *kvm, gfn_t start, gfn_t end);
void kvm_mmu_invalidate_end(struct kvm *kvm);
bool mmu_invalidate_retry_gfn(struct kvm *kvm, unsigned long mmu_seq, gfn_t gfn);
bool mmu_invalidate_retry_hva(struct kvm *kvm, unsigned long mmu_seq, unsigned long hva);
/* Hardware page walk: the leaf SPTE for gfn, 0 if none (READ_ONCE at each level). */
u64 kvm_tdp_mmu_walk(struct kvm *kvm, gfn_t gfn, u64 **sptep);
int mmu_topup_memory_caches(struct kvm_vcpu *vcpu);
void kvm_mmu_assign_tables(struct kvm *kvm, gfn_t gfn);

/* kvm_cpu_get_apicid(): a pCPU's APIC ID is its index (kernel/prim.h, KVMLAB_MAX_PCPUS). */
static inline int kvm_cpu_get_apicid(int cpu)
{
	return cpu;
}

/* ---- x86.c: APICv and the run loop --------------------------------------------------- */

bool kvm_apicv_activated(struct kvm *kvm);
bool kvm_vcpu_apicv_activated(struct kvm_vcpu *vcpu);
/* kvm_x86_ops.set_virtual_apic_mode (x86.c dispatches to SVM or VMX). */
void kvm_x86_set_virtual_apic_mode(struct kvm_vcpu *vcpu);
/* A guest WRMSR to IA32_APIC_BASE that sets the mode (enum lapic_mode: EN and EXTD), then the skip. */
int kvm_emulate_wrmsr_apic_base(struct kvm_vcpu *vcpu, u32 mode);
static inline bool kvm_vcpu_apicv_active(struct kvm_vcpu *vcpu)
{
	return vcpu->arch.apic && vcpu->arch.apicv_active;
}
void kvm_set_or_clear_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason, bool set);
static inline void kvm_set_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason)
{
	kvm_set_or_clear_apicv_inhibit(kvm, reason, true);
}
static inline void kvm_clear_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason)
{
	kvm_set_or_clear_apicv_inhibit(kvm, reason, false);
}
void __kvm_set_or_clear_apicv_inhibit(struct kvm *kvm, enum kvm_apicv_inhibit reason, bool set);
void kvm_vcpu_update_apicv(struct kvm_vcpu *vcpu);
void __kvm_vcpu_update_apicv(struct kvm_vcpu *vcpu);
void kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu);
void srcu_read_lock_kvm(struct kvm *kvm);
void srcu_read_unlock_kvm(struct kvm *kvm);
void kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu);
void kvm_inhibit_apic_access_page(struct kvm_vcpu *vcpu);
void kvm_arch_flush_shadow_memslot(struct kvm *kvm, struct kvm_memory_slot *slot);
/*
 * A field the kernel reads from an RCU-published copy that is never written
 * again (memslot flags, the memslots' generation), which the model updates
 * in place: observed, so the reduction sees it, but no scheduling point of
 * its own, the load hw_load() already is.  The writer changes it only at a
 * scheduling point of its own and waits for SRCU readers where the kernel does.
 */
#define memslots_read(x) hw_load(x)
/*
 * kvm_x86_ops.allow_apicv_in_x2apic_without_x2apic_virtualization, which
 * avic_hardware_setup() (v7.1) sets on an AVIC host without x2AVIC.
 */
static inline bool kvm_allow_apicv_in_x2apic_without_x2apic_virtualization(const struct kvm_config *cfg)
{
	return cfg->vendor == KVM_VENDOR_SVM && !cfg->x2avic;
}
bool check_apicv_inhibit_reasons(struct kvm *kvm, enum kvm_apicv_inhibit reason);
int vcpu_enter_guest(struct kvm_vcpu *vcpu);
int vcpu_run(struct kvm_vcpu *vcpu);
/* kvm_set_cr8() / kvm_get_cr8() (x86.c v6.1), with the in-kernel LAPIC. */
#define V_TPR_MASK 0x0f
int kvm_set_cr8(struct kvm_vcpu *vcpu, unsigned long cr8);
unsigned long kvm_get_cr8(struct kvm_vcpu *vcpu);
int x86_emulate_instruction(struct kvm_vcpu *vcpu, gpa_t gpa);
void kvm_arch_vcpu_load(struct kvm_vcpu *vcpu, int cpu);
void kvm_arch_vcpu_put(struct kvm_vcpu *vcpu);

/* ---- irq.c: the PIC's INTR, ExtINTs and IRQ windows ------------------------------------ */

void kvm_pic_init(struct kvm *kvm);
int kvm_pic_set_irq(struct kvm *kvm, int irq, int level);
int kvm_pic_read_irq(struct kvm *kvm);
bool kvm_cpu_has_extint(struct kvm_vcpu *v);
bool kvm_cpu_has_injectable_intr(struct kvm_vcpu *v);
int kvm_cpu_get_interrupt(struct kvm_vcpu *v);
void kvm_inc_or_dec_irq_window_inhibit(struct kvm *kvm, bool inc);
/* kvm_x86_ops.interrupt_allowed, .enable_irq_window, .inject_irq (its IRQ window part), and the window's exit handler. */
bool kvm_x86_interrupt_allowed(struct kvm_vcpu *vcpu);
void kvm_x86_enable_irq_window(struct kvm_vcpu *vcpu);
void kvm_x86_inject_irq(struct kvm_vcpu *vcpu);
int kvm_x86_irq_window_exit(struct kvm_vcpu *vcpu);

/* ---- avic.c: SVM AVIC and interrupt delivery ------------------------------------------ */

void avic_init_vcpu(struct kvm_vcpu *vcpu);
void avic_vcpu_load(struct kvm_vcpu *vcpu, int cpu);
void avic_vcpu_put(struct kvm_vcpu *vcpu);
void avic_vcpu_blocking(struct kvm_vcpu *vcpu);
void avic_vcpu_unblocking(struct kvm_vcpu *vcpu);
void avic_refresh_apicv_exec_ctrl(struct kvm_vcpu *vcpu);
void avic_refresh_virtual_apic_mode(struct kvm_vcpu *vcpu);
/* init_vmcb()'s CR8 write intercept and avic_init_vmcb(), at vCPU creation. */
void svm_init_vmcb_avic(struct kvm_vcpu *vcpu);
/* Who changed the SVM CR8 write intercept (EV_CR8_INTERCEPT c). */
enum cr8_intercept_by { CR8_BY_UPDATE, CR8_BY_ACTIVATE, CR8_BY_DEACTIVATE };

int avic_incomplete_ipi_interception(struct kvm_vcpu *vcpu);
u64 *avic_get_physical_id_entry(struct kvm *kvm, u32 index);
/* posted_intr.c: VMX posted interrupts. */
#define POSTED_INTR_ON 0
void vmx_deliver_interrupt(struct kvm_lapic *apic, int delivery_mode, int trig_mode, int vector);
int vmx_sync_pir_to_irr(struct kvm_vcpu *vcpu);
/* kvm_x86_ops.hwapic_isr_update: SVI on VMX, nothing on SVM. */
void kvm_x86_hwapic_isr_update(struct kvm_vcpu *vcpu, int max_isr);
/* kvm_x86_ops.sync_pir_to_irr exists (VMX with enable_apicv), and the vCPU may call it. */
bool kvm_x86_has_sync_pir_to_irr(struct kvm_vcpu *vcpu);
/* The simulated CPU's posted-interrupt processing on a notification (SDM 30.6). */
void kvm_hw_process_posted_interrupts(struct kvm_vcpu *vcpu);
/* kvm_x86_ops.deliver_interrupt: the tail of __apic_accept_irq() for a fixed interrupt. */
void kvm_x86_deliver_interrupt(struct kvm_lapic *apic, int delivery_mode, int trig_mode, int vector);

/* ---- hw.c: simulated SVM AVIC / VMX APICv -------------------------------------------- */

void kvm_hw_run(struct kvm_vcpu *vcpu);		/* runs guest ops until an exit */
/* INVEPT/INVVPID or the VMRUN flush: drop every translation the vCPU's CPU cached. */
void kvm_hw_tlb_flush(struct kvm_vcpu *vcpu);
/* kvm_x86_ops.flush_tlb_all / flush_tlb_current (svm.c / vmx.c). */
void kvm_x86_flush_tlb_all(struct kvm_vcpu *vcpu);
void kvm_x86_flush_tlb_current(struct kvm_vcpu *vcpu);
void kvm_hw_refresh_apicv_exec_ctrl(struct kvm_vcpu *vcpu);
/* Does the CPU deliver virtual interrupts for this vCPU (AVIC, VMX virtual-interrupt delivery)? */
static inline bool kvm_hw_virtual_intr(const struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	return vcpu->kvm->cfg.vendor == KVM_VENDOR_SVM ? c->avic_enabled : c->virtual_intr_delivery;
}
/*
 * Does the CPU honour the IRQ window KVM asked for (once RFLAGS.IF allows)?
 * SVM ignores V_IRQ while AVIC is enabled (APM vol. 2, 15.29; KVM: "V_IRQ is
 * ignored by hardware when AVIC is enabled", svm_enable_irq_window()); VMX's
 * interrupt-window exiting works whatever APICv does (SDM 26.7.5).
 */
static inline bool kvm_hw_irq_window_honoured(const struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ctrl *c = &vcpu->arch.ctrl;

	return c->irq_window && (vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX || !c->avic_enabled);
}
/* The guest takes 'vector' (>= 0; -1: nothing): it runs its handler, the count grows. */
void kvm_hw_guest_takes(struct kvm_vcpu *vcpu, int vector, int path);
int kvm_hw_handle_exit(struct kvm_vcpu *vcpu);

#endif
