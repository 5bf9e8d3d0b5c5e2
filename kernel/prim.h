/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The primitive layer: everything the model may use to touch shared memory,
 * order it, block, or tell the outside world something.  The model is written
 * against this header only, the way the kernel is written against
 * READ_ONCE()/spin_lock()/smp_mb(); it never sees which runtime is underneath.
 *
 * One seam (struct rt_ops, selected once per run with rt_set()) chooses the
 * runtime:
 *   - threads (runtime/threads.c): pthreads and C11 atomics, for stress runs;
 *   - checker (check/): every primitive is a scheduling point of a
 *     deterministic scheduler.
 *
 * Contract for model code:
 *   - all model memory comes from kvm_zalloc() (a zeroed arena that the
 *     checker hashes and restores); no static mutable state, no malloc();
 *   - shared memory that is accessed concurrently without a lock is accessed
 *     only through READ_ONCE/WRITE_ONCE/atomics (the checker schedules there
 *     and treats every other shared access as a plain access to race-check);
 *   - invariants are KVM_ASSERT()/KVM_REPORT(), never abort().
 *
 * Memory model: the checker explores sequentially consistent interleavings of
 * the marked operations; the thread runtime maps READ_ONCE to an acquire load
 * and WRITE_ONCE to a release store, which is what x86 (TSO) gives for plain
 * MOVs, and smp_mb() to a full fence.
 */
#ifndef KVMLAB_KERNEL_PRIM_H
#define KVMLAB_KERNEL_PRIM_H

#include <string.h>

#include "kernel/report.h"
#include "kernel/types.h"

/*
 * Write tracking (check/track.c): the compiler's instrumentation marks the
 * model's plain stores, but not what memset/memcpy/memmove write, so the
 * model's calls say it themselves.
 */
#ifdef KVMLAB_TRACK_WRITES
void __tsan_write_range(void *p, unsigned long n);
#define memset(d, c, n) \
	({ void *__md = (d); size_t __mn = (n); __tsan_write_range(__md, __mn); __builtin_memset(__md, (c), __mn); })
#define memcpy(d, s, n) \
	({ void *__md = (d); size_t __mn = (n); __tsan_write_range(__md, __mn); __builtin_memcpy(__md, (s), __mn); })
#define memmove(d, s, n) \
	({ void *__md = (d); size_t __mn = (n); __tsan_write_range(__md, __mn); __builtin_memmove(__md, (s), __mn); })
#endif

/* Up to this many concurrent actors (vCPU threads plus actor threads). */
#define KVMLAB_MAX_ACTORS 16
/*
 * Physical CPUs: actor a's task runs on CPU a, or, once it has migrated
 * (scenario 'preempt migrate'), on its spare CPU KVMLAB_MAX_ACTORS + a, and
 * back.  No two tasks ever share a CPU, so what a migration changes is
 * only which CPU a vCPU's task is on: vcpu->cpu, the AVIC host APIC ID, the
 * target of doorbells, notifications and kicks.
 */
#define KVMLAB_MAX_PCPUS (2 * KVMLAB_MAX_ACTORS)

enum rt_op {
	RT_LOAD,
	RT_STORE,
	RT_XCHG,
	RT_CMPXCHG,	/* a = expected, b = new; returns the old value */
	RT_ADD,		/* returns the old value */
	RT_OR,		/* returns the old value */
	RT_ANDNOT,	/* returns the old value */
};

enum rt_fence { RT_MB, RT_RMB, RT_WMB };

enum rt_lock_kind { LK_SPINLOCK, LK_RWLOCK, LK_RWSEM, LK_MUTEX };
enum rt_lock_mode { LM_EXCL, LM_SHARED };
enum rt_cmp { RT_EQ, RT_NE, RT_CLEAR /* (*p & v) == 0 */ };

/*
 * A lock as the runtimes see it.  'holder' (actor id + 1, 0 = free) and
 * 'readers' (bitmask of actor ids) are bookkeeping for lockdep-style checks
 * and are maintained by the runtime; 'os' is the thread runtime's pthread
 * object and stays zero under the checker.
 */
struct rt_lock {
	u32 kind;
	s32 holder;
	u64 readers;
	const char *name;
	u32 waiters;		/* thread runtime: actors blocked on it */
	u32 pad;
	u64 os[7];
};

/* A trace event: one line of the timeline.  Types are in model/trace.h. */
struct kvm_event {
	u16 type;
	s16 actor;
	u32 seq;	/* filled by the runtime */
	u64 a, b, c, d;
};

/*
 * Per-actor "physical CPU" state, in the arena (kernel/smp.c).  A multiple
 * of 8 bytes, so no 8-byte word holds two CPUs' state (the checker's
 * location classes are per word).
 */
struct pcpu {
	u32 irqs_disabled;	/* local_irq_disable() nesting: 0 or 1 */
	u32 ipi_pending;	/* senders (bit = actor id) whose function-call IPI is not handled yet */
	u32 doorbell;		/* an AVIC doorbell (SVM) / posted-interrupt notification (VMX) arrived */
	u32 preempt_count;	/* preempt_disable() nesting of the task running here */
	/*
	 * In CPU a's entry (a < KVMLAB_MAX_ACTORS) only: actor a's task runs
	 * on its spare CPU (rt_cpu()).  Written by that task alone.
	 */
	u32 task_on_spare;
	u32 pad;
};
_Static_assert(sizeof(struct pcpu) % 8 == 0, "struct pcpu fills whole 8-byte words");
_Static_assert(KVMLAB_MAX_PCPUS <= 64, "CPU masks are u64");

struct rt_ops {
	const char *name;
	int (*self)(void);			/* current actor id, -1 outside any */
	void *(*zalloc)(size_t size);		/* zeroed, from the arena */
	struct pcpu *(*percpu)(int cpu);		/* 0 <= cpu < KVMLAB_MAX_PCPUS */
	u64 (*access)(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b);
	void (*fence)(enum rt_fence f);
	void (*lock_init)(struct rt_lock *l, enum rt_lock_kind k, const char *name);
	void (*lock)(struct rt_lock *l, enum rt_lock_mode m);
	void (*unlock)(struct rt_lock *l, enum rt_lock_mode m);
	bool (*lock_needbreak)(struct rt_lock *l);
	/* Block until (*p cmp v); a deadlock if it never becomes true. */
	void (*wait)(volatile void *p, unsigned size, enum rt_cmp c, u64 v);
	unsigned (*choose)(unsigned n);		/* nondeterministic in [0, n) */
	void (*relax)(void);			/* pure scheduling point / delay */
	/* A load that is not a scheduling point (hw_load, ghost reads): the checker's
	 * partial-order reduction needs it in the transition's footprint. */
	void (*observe)(const volatile void *p, unsigned size, bool write);
	void (*trace)(const struct kvm_event *ev);
	void (*report)(enum kvm_finding f, const char *file, int line, const char *msg);
	/* Optional: clear the dead stack below the caller (see kvm_stack_hygiene). */
	void (*scrub)(void);
};

/* The runtime in use; set once, before the model runs. */
extern const struct rt_ops *rt;
void rt_set(const struct rt_ops *ops);

static inline int rt_self(void) { return rt->self(); }
/* smp_processor_id(): the CPU the calling actor's task runs on (see KVMLAB_MAX_PCPUS). */
int rt_cpu(void);
static inline void *kvm_zalloc(size_t size) { return rt->zalloc(size); }

/* ---- marked accesses ---------------------------------------------------- */

static inline u64 __rt_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	return rt->access(op, p, size, a, b);
}

#define __RT_VAL(x, raw) (((union { __typeof__(x) __v; u64 __r; }){ .__r = (raw) }).__v)
#define __RT_RAW(x, v) (((union { __typeof__(x) __v; u64 __r; }){ .__v = (v) }).__r)

#define READ_ONCE(x) __RT_VAL(x, __rt_access(RT_LOAD, (volatile void *)&(x), sizeof(x), 0, 0))
#define WRITE_ONCE(x, v) \
	((void)__rt_access(RT_STORE, (volatile void *)&(x), sizeof(x), __RT_RAW(x, v), 0))
#define xchg(p, v) __RT_VAL(*(p), __rt_access(RT_XCHG, (p), sizeof(*(p)), __RT_RAW(*(p), v), 0))
#define cmpxchg(p, o, n) \
	__RT_VAL(*(p), __rt_access(RT_CMPXCHG, (p), sizeof(*(p)), __RT_RAW(*(p), o), __RT_RAW(*(p), n)))
/* x86: a release store / acquire load is a plain MOV under TSO. */
#define smp_store_release(p, v) WRITE_ONCE(*(p), v)
#define smp_load_acquire(p) READ_ONCE(*(p))

/*
 * A load the simulated hardware makes as part of an instruction whose
 * scheduling point was already taken (the rest of a page walk, the
 * interrupt check at the same instruction boundary).  Atomic on real
 * threads; never a scheduling point under the checker: one guest
 * instruction is one step.
 */
#define hw_load(x) (rt->observe(&(x), sizeof(x), false), __atomic_load_n(&(x), __ATOMIC_ACQUIRE))

/* ---- barriers ------------------------------------------------------------ */

static inline void smp_mb(void) { rt->fence(RT_MB); }
static inline void smp_rmb(void) { rt->fence(RT_RMB); }
static inline void smp_wmb(void) { rt->fence(RT_WMB); }
/* x86: atomic RMW instructions are full barriers; these only stop the compiler. */
static inline void smp_mb__before_atomic(void) { }
static inline void smp_mb__after_atomic(void) { }
#define smp_store_mb(x, v) do { (void)xchg(&(x), v); } while (0)

/* ---- atomic bit operations and counters ---------------------------------- */

/*
 * On the byte that holds the bit, as x86's set_bit()/clear_bit() with a
 * constant bit number do ("lock orb"/"lock andb", arch/x86/include/asm/
 * bitops.h); a test reads only its bit.  The checker's footprints keep the
 * bits (check/sched.c pending_bits()), so operations on different bits of a
 * word (vcpu->requests) are independent, which they are: neither can change
 * what the other reads or writes.
 */
#define __BIT_BYTE(nr, addr) ((volatile u8 *)(addr) + (nr) / 8)
#define __BIT_MASK(nr) ((u8)(1u << ((nr) % 8)))

static inline void set_bit(long nr, volatile unsigned long *addr)
{
	__rt_access(RT_OR, __BIT_BYTE(nr, addr), 1, __BIT_MASK(nr), 0);
}

static inline void clear_bit(long nr, volatile unsigned long *addr)
{
	__rt_access(RT_ANDNOT, __BIT_BYTE(nr, addr), 1, __BIT_MASK(nr), 0);
}

/* The mask rides in the load's unused operand: the checker's footprint keeps only that bit. */
static inline bool test_bit(long nr, const volatile unsigned long *addr)
{
	return __rt_access(RT_LOAD, (volatile void *)__BIT_BYTE(nr, addr), 1, __BIT_MASK(nr), 0) & __BIT_MASK(nr);
}

static inline bool test_and_set_bit(long nr, volatile unsigned long *addr)
{
	return __rt_access(RT_OR, __BIT_BYTE(nr, addr), 1, __BIT_MASK(nr), 0) & __BIT_MASK(nr);
}

static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{
	return __rt_access(RT_ANDNOT, __BIT_BYTE(nr, addr), 1, __BIT_MASK(nr), 0) & __BIT_MASK(nr);
}

typedef struct { s32 counter; } atomic_t;
typedef struct { s64 counter; } atomic_long_t;

static inline int atomic_read(const atomic_t *v) { return READ_ONCE(v->counter); }
static inline void atomic_set(atomic_t *v, int i) { WRITE_ONCE(v->counter, i); }
static inline int atomic_cmpxchg(atomic_t *v, int old, int new) { return cmpxchg(&v->counter, old, new); }
static inline int atomic_fetch_add(int i, atomic_t *v)
{
	return (int)__rt_access(RT_ADD, &v->counter, 4, (u64)(u32)i, 0);
}
static inline int atomic_add_return(int i, atomic_t *v) { return atomic_fetch_add(i, v) + i; }
static inline void atomic_add(int i, atomic_t *v) { atomic_fetch_add(i, v); }
static inline void atomic_inc(atomic_t *v) { atomic_fetch_add(1, v); }
static inline void atomic_dec(atomic_t *v) { atomic_fetch_add(-1, v); }
static inline bool atomic_dec_and_test(atomic_t *v) { return atomic_fetch_add(-1, v) == 1; }

/* ---- blocking and scheduling --------------------------------------------- */

/* Block until the naturally aligned word at p compares (c) with v. */
#define wait_until_eq(x, v) rt->wait(&(x), sizeof(x), RT_EQ, __RT_RAW(x, v))
#define wait_until_ne(x, v) rt->wait(&(x), sizeof(x), RT_NE, __RT_RAW(x, v))
/* Block until the bits of 'mask' are all clear in x. */
#define wait_until_clear(x, mask) rt->wait(&(x), sizeof(x), RT_CLEAR, __RT_RAW(x, mask))

/* A nondeterministic choice the checker branches on (threads: random). */
static inline unsigned kvm_choose(unsigned n) { return n > 1 ? rt->choose(n) : 0; }
static inline void cpu_relax(void) { rt->relax(); }
/* Whether the scheduler wants the CPU back: a nondeterministic choice. */
static inline bool need_resched(void) { return kvm_choose(2); }

/*
 * Stack hygiene, no effect on behaviour: under the checker a fiber's live
 * stack is model state, and a frame's not-yet-written slots still hold
 * whatever earlier calls in the same transition left there (the gpa of a
 * page fault handled before the next vcpu_enter_guest, say), which keeps
 * equal states apart.  Called by an outer loop before it calls into code
 * with scheduling points, it clears everything below the caller's frame.
 */
static inline void kvm_stack_hygiene(void)
{
	if (rt->scrub)
		rt->scrub();
}

/* ---- locks --------------------------------------------------------------- */

typedef struct { struct rt_lock l; } spinlock_t;
typedef struct { struct rt_lock l; } rwlock_t;
struct rw_semaphore { struct rt_lock l; };
struct mutex { struct rt_lock l; };

#define spin_lock_init(x) rt->lock_init(&(x)->l, LK_SPINLOCK, #x)
#define rwlock_init(x) rt->lock_init(&(x)->l, LK_RWLOCK, #x)
#define init_rwsem(x) rt->lock_init(&(x)->l, LK_RWSEM, #x)
#define mutex_init(x) rt->lock_init(&(x)->l, LK_MUTEX, #x)

static inline void spin_lock(spinlock_t *s) { rt->lock(&s->l, LM_EXCL); }
static inline void spin_unlock(spinlock_t *s) { rt->unlock(&s->l, LM_EXCL); }
static inline void read_lock(rwlock_t *s) { rt->lock(&s->l, LM_SHARED); }
static inline void read_unlock(rwlock_t *s) { rt->unlock(&s->l, LM_SHARED); }
static inline void write_lock(rwlock_t *s) { rt->lock(&s->l, LM_EXCL); }
static inline void write_unlock(rwlock_t *s) { rt->unlock(&s->l, LM_EXCL); }
static inline void down_read(struct rw_semaphore *s) { rt->lock(&s->l, LM_SHARED); }
static inline void up_read(struct rw_semaphore *s) { rt->unlock(&s->l, LM_SHARED); }
static inline void down_write(struct rw_semaphore *s) { rt->lock(&s->l, LM_EXCL); }
static inline void up_write(struct rw_semaphore *s) { rt->unlock(&s->l, LM_EXCL); }
static inline void mutex_lock(struct mutex *s) { rt->lock(&s->l, LM_EXCL); }
static inline void mutex_unlock(struct mutex *s) { rt->unlock(&s->l, LM_EXCL); }
static inline bool rwlock_needbreak(rwlock_t *s) { return rt->lock_needbreak(&s->l); }

/* ---- findings, assertions, lockdep ---------------------------------------- */

void kvm_report(enum kvm_finding f, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);

#define KVM_REPORT(f, ...) kvm_report(f, __FILE__, __LINE__, __VA_ARGS__)
#define KVM_ASSERT(e) \
	do { if (unlikely(!(e))) KVM_REPORT(F_ASSERT, "assertion failed: %s", #e); } while (0)
#define WARN_ON_ONCE(e) \
	({ bool __w = !!(e); if (unlikely(__w)) KVM_REPORT(F_ASSERT, "WARN_ON(%s)", #e); __w; })

bool rt_lock_held(const struct rt_lock *l, enum rt_lock_mode m);
/* Report an unlock of an unheld lock, a recursion, a wrong mode (runtime use). */
void rt_lock_misuse(const struct rt_lock *l, const char *what);

/* Called with the lock held, in any mode (exclusive: by this actor). */
#define lockdep_assert_held(x) \
	do { if (!rt_lock_held(&(x)->l, LM_SHARED) && !rt_lock_held(&(x)->l, LM_EXCL)) \
		KVM_REPORT(F_LOCK_MISUSE, "lockdep: %s not held", #x); } while (0)
#define lockdep_assert_held_write(x) \
	do { if (!rt_lock_held(&(x)->l, LM_EXCL)) \
		KVM_REPORT(F_LOCK_MISUSE, "lockdep: %s not held for write", #x); } while (0)
#define lockdep_assert_held_read(x) \
	do { if (!rt_lock_held(&(x)->l, LM_SHARED)) \
		KVM_REPORT(F_LOCK_MISUSE, "lockdep: %s not held for read", #x); } while (0)

/* ---- tracepoints ----------------------------------------------------------- */

static inline void kvm_trace(u16 type, u64 a, u64 b, u64 c, u64 d)
{
	struct kvm_event ev = { .type = type, .actor = (s16)rt_self(), .a = a, .b = b, .c = c, .d = d };
	rt->trace(&ev);
}

#endif
