// SPDX-License-Identifier: GPL-2.0
/*
 * The checker runtime and state store; see check/sched.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check/mem.h"
#include "check/race.h"
#include "check/sched.h"
#include "check/sched_int.h"
#include "kernel/compiler.h"
#include "model/trace.h"

#ifdef KVMLAB_ASAN
#include <sanitizer/asan_interface.h>
#endif

struct heap_header {
	u64 used;		/* bump pointer, including this header */
	u64 pad[7];
};

static struct {
	u8 *heap;
	size_t heap_cap;
	struct pcpu *percpu;
	int nr_fibers;
	struct chk_fiber f[CHK_MAX_FIBERS];
	struct fiber_ctx main;
	int cur;			/* running fiber, -1 in the scheduler or setup */
	sched_entry_fn entry;
	void *entry_arg;
	bool has_finding;
	struct sched_finding finding;
	struct kvm_event *log;
	size_t log_len, log_cap;
	u32 step;
	/*
	 * The state store (see sched.h): the heap and each fiber as of the
	 * last snapshot (shadow), the fingerprint's terms for them, and the
	 * undo log that leads back to older snapshots.
	 */
	u8 *shadow;			/* the heap as of the last snapshot */
	u64 *line_h;			/* each heap line's term (0 for a zero line) */
	u64 heap_h;			/* their sum */
	struct {
		struct sstack *stack;	/* NULL once the fiber is done */
		void *sp;
		struct pending pend;
		u64 h;			/* the fiber's term of the fingerprint */
		bool ran;		/* it ran since the last snapshot */
	} sh[CHK_MAX_FIBERS];
	struct ulog *ulog;
	size_t ulog_len, ulog_cap;
	u64 snapshot_bytes;
	struct footprint fp;		/* of the running transition */
	bool movers;			/* lock acquisitions are right movers (default) */
	bool track;			/* the model's writes mark chunks (check/track.c) */
	bool validate;			/* check what tracking and stack sharing assume */
	u32 validate_n;			/* snapshots and restores so far, for validate_now() */
	bool merge;			/* the running fiber just acquired a lock */
	sched_invisible_fn invisible;	/* sched_set_invisible() */
	u32 merged;			/* accesses the running transition merged */
	bool hygiene;			/* kvm_stack_hygiene() clears (default) */
	bool verbose;			/* sched_set_verbose() */
	/* x86-TSO (sched_set_tso()); sb_cap 0 = sequential consistency. */
	u32 sb_cap;
	struct sbuf *sb;		/* one per fiber, in the heap: state */
	struct pending flush_pend[CHK_MAX_FIBERS];	/* sched_pending() of the flushers */
} S;

static void fp_add_bits(u64 addr, unsigned size, enum fp_kind kind, u8 bits)
{
	struct footprint *fp = &S.fp;

	for (int i = 0; i < fp->n; i++)
		if (fp->e[i].addr == addr && fp->e[i].size == size) {
			if (kind > fp->e[i].kind)
				fp->e[i].kind = kind;
			fp->e[i].bits |= bits;
			return;
		}
	if (fp->n == FP_MAX) {
		fp->overflow = true;
		return;
	}
	fp->e[fp->n].addr = addr;
	fp->e[fp->n].size = (u8)size;
	fp->e[fp->n].kind = kind;
	fp->e[fp->n].bits = size == 1 ? bits : 0xff;
	fp->n++;
}

static void fp_add(u64 addr, unsigned size, enum fp_kind kind)
{
	fp_add_bits(addr, size, kind, 0xff);
}

/*
 * The bits a one-byte bit operation touches: the mask of set_bit/clear_bit
 * (RT_OR/RT_ANDNOT) and of test_bit, which passes it in 'a' of its RT_LOAD
 * (kernel/prim.h); every bit for anything else.
 */
static u8 pending_bits(const struct pending *p)
{
	if (p->size == 1 && (p->op == RT_OR || p->op == RT_ANDNOT || p->op == RT_LOAD) && (u8)p->a)
		return (u8)p->a;
	return 0xff;
}

static bool access_writes(const struct pending *p);

/* The footprint entry of a fiber's pending operation, before it executes. */
static void fp_add_pending(const struct pending *p)
{
	switch (p->kind) {
	case PK_ACCESS:
		fp_add_bits(p->addr, p->size, access_writes(p) ? FP_WRITE : FP_READ, pending_bits(p));
		break;
	case PK_WAIT:
		fp_add(p->addr, p->size, FP_READ);
		break;
	case PK_LOCK:
		fp_add(p->addr, 8, p->op == LM_EXCL ? FP_LOCK_EXCL : FP_LOCK_SHARED);
		break;
	}
}

bool footprint_independent(const struct footprint *a, const struct footprint *b)
{
	if (a->overflow || b->overflow)
		return false;
	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < b->n; j++)
			if (fp_entry_conflict(&a->e[i], &b->e[j]))
				return false;
	return true;
}

void footprint_union(struct footprint *into, const struct footprint *from)
{
	struct footprint save = S.fp;

	S.fp = *into;
	for (int i = 0; i < from->n; i++)
		fp_add_bits(from->e[i].addr, from->e[i].size, from->e[i].kind, from->e[i].bits);
	S.fp.overflow |= from->overflow;
	*into = S.fp;
	S.fp = save;
}

void footprint_copy(struct footprint *dst, const struct footprint *src)
{
	dst->n = src->n;
	dst->overflow = src->overflow;
	memcpy(dst->e, src->e, src->n * sizeof(src->e[0]));
}

const struct footprint *sched_last_footprint(void)
{
	return &S.fp;
}

static void c_observe(const volatile void *p, unsigned size, bool write)
{
	if (S.cur >= 0)
		fp_add((u64)(uintptr_t)p, size, write ? FP_WRITE : FP_READ);
}

static struct heap_header *hdr(void) { return (struct heap_header *)S.heap; }

/* ---- hashing ----------------------------------------------------------- */

static inline u64 hash_round(u64 h, u64 w)
{
	h ^= w * 0x87c37b91114253d5ull;
	return ((h << 31) | (h >> 33)) * 0x4cf5ad432745937full;
}

/* The 128-bit product's halves folded (wyhash's "mum"). */
static inline u64 mum(u64 a, u64 b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (u64)r ^ (u64)(r >> 64);
}

/*
 * 16 bytes a step, each step keyed by its position and independent of the
 * others (a sum of keyed multiplies, as in UMAC's NH), so the multiplies
 * overlap; the sum is mixed at the end.  Fingerprints need a well-spread
 * 64-bit value, not resistance to an adversary.
 */
typedef u64 __attribute__((aligned(1), may_alias)) u64_unaligned;

static __no_sanitize_address u64 hash_bytes(const u8 *p, size_t n, u64 seed)
{
	u64 h = seed ^ (n * 0x9e3779b97f4a7c15ull), k = h;

	/* Loads, not memcpy: ASan builds would call its checked memcpy. */
	for (; n >= 16; n -= 16, p += 16) {
		u64 w0 = *(const u64_unaligned *)p, w1 = *(const u64_unaligned *)(p + 8);

		k += 0x9e3779b97f4a7c15ull;
		h += mum(w0 ^ k ^ 0xa0761d6478bd642full, w1 ^ k ^ 0xe7037ed1a0b428dbull);
	}
	if (n >= 8) {
		h = hash_round(h, *(const u64_unaligned *)p);
		p += 8;
		n -= 8;
	}
	for (; n; n--, p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return mix64(h);
}

/*
 * Bytes below a fiber's stack pointer cleared after a transition and by
 * c_scrub(): at least how far below its final stack pointer a transition's
 * dead frames reach.  ASan frames carry redzones that nothing writes, so
 * they are larger and leftovers there are read back as the state: clang's
 * reach past 1 KiB (KVMLAB_VALIDATE: "transition from a restored state
 * reached ..., not ...").
 */
#ifdef KVMLAB_ASAN
#define STACK_SCRUB 4096
#else
#define STACK_SCRUB 1024
#endif

static void scrub_below_sp(struct chk_fiber *f);
static bool invisible_pending(const struct pending *p);
static bool lock_available(const struct rt_lock *l, enum rt_lock_mode m);
static bool wait_holds(const struct pending *p);

/* ---- runtime ops ------------------------------------------------------- */

static void yield_to_scheduler(void)
{
	struct chk_fiber *f = &S.f[S.cur];

	fiber_switch(&f->ctx, &S.main);
}

/*
 * A transition merges at most this many invisible accesses, then yields
 * (a loop over accesses nobody else sees still ends its transition).
 */
#define SCHED_MERGE_MAX 256

/*
 * Scheduling point for the running fiber's pending operation.  Lock
 * acquisition is a right mover (Lipton): whatever other fibers do between
 * an acquisition and the holder's next operation, they could have done
 * before the acquisition, since none of them can touch the lock meanwhile
 * (the checker's lock_needbreak is always false).  So with movers on, a
 * marked access right after an acquisition runs in the same transition.
 * Only an access: it never blocks, so no deadlock can sit inside the joined
 * transition; joining a second acquisition or a wait would hide the
 * deadlocks in which another fiber takes that lock (or owes that wake-up)
 * in between.  A choice is a branch of the search and always yields.
 * An access the explorer calls invisible (sched_set_invisible) joins the
 * running transition too.
 */
static void schedule_pending(struct chk_fiber *f)
{
	if (S.merge && f->pend.kind == PK_ACCESS) {
		S.merge = false;
		fp_add_pending(&f->pend);
		return;
	}
	S.merge = false;
	/* After a finding the transition ends at its next scheduling point, merged or not. */
	if (S.invisible && S.merged < SCHED_MERGE_MAX && !S.has_finding && invisible_pending(&f->pend)) {
		S.merged++;
		return;	/* no footprint entry: no other fiber's transition depends on it */
	}
	yield_to_scheduler();
}

/*
 * Whether the running fiber's pending operation can join its transition:
 * an access no other fiber can see; a lock that is free and that no other
 * fiber takes in a conflicting mode from here on (so it cannot block, and
 * no deadlock can involve it); a wait that holds and whose location no
 * other fiber writes from here on (so it keeps holding).
 */
static bool invisible_pending(const struct pending *p)
{
	switch (p->kind) {
	case PK_ACCESS:
		return S.invisible(S.cur, p->addr, p->size, access_writes(p));
	case PK_LOCK:
		return lock_available((const struct rt_lock *)(uintptr_t)p->addr, p->op) &&
		       S.invisible(S.cur, p->addr, 8, p->op == LM_EXCL);
	case PK_WAIT:
		return wait_holds(p) && S.invisible(S.cur, p->addr, p->size, false);
	}
	return false;
}

void sched_set_invisible(sched_invisible_fn fn)
{
	S.invisible = fn;
}

static u64 size_mask(unsigned size)
{
	return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static u64 load_sized(const volatile void *p, unsigned size)
{
	switch (size) {
	case 1: return *(const volatile u8 *)p;
	case 2: return *(const volatile u16 *)p;
	case 4: return *(const volatile u32 *)p;
	case 8: return *(const volatile u64 *)p;
	}
	fprintf(stderr, "kvmlab check: bad access size %u\n", size);
	abort();
}

/* What a marked access does to a location holding 'old': false if it stores nothing. */
static bool op_result(enum rt_op op, unsigned size, u64 old, u64 a, u64 b, u64 *new)
{
	switch (op) {
	case RT_LOAD: return false;
	case RT_STORE: *new = a; break;
	case RT_XCHG: *new = a; break;
	case RT_CMPXCHG:
		if (old != (a & size_mask(size)))
			return false;
		*new = b;
		break;
	case RT_ADD: *new = old + a; break;
	case RT_OR: *new = old | a; break;
	case RT_ANDNOT: *new = old & ~a; break;
	default: abort();
	}
	return true;
}

/*
 * Whether a marked access about to execute changes memory: a failed
 * cmpxchg, setting bits already set, clearing bits already clear or
 * storing the value already there only reads.  In this state it then
 * commutes with other readers, and the sleep sets may treat it so: it stays
 * a read as long as nothing writes the location, which is a conflict.
 */
static bool access_writes(const struct pending *p)
{
	const volatile void *q = (const volatile void *)(uintptr_t)p->addr;
	u64 old = load_sized(q, p->size), new;

	return op_result(p->op, p->size, old, p->a, p->b, &new) && (new & size_mask(p->size)) != old;
}

/*
 * Performs what op_result() describes.  Kept as its own code rather than
 * calling load_sized() and op_result(): it runs on the fiber stacks, whose
 * contents are model state, and that reshaping measurably changes which
 * dead values stay in frames (the golden counts: 10 446 -> 10 729 states
 * with one vCPU), not the behaviour.
 */
static u64 do_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	u64 old = 0, new;

	switch (size) {
	case 1: old = *(volatile u8 *)p; break;
	case 2: old = *(volatile u16 *)p; break;
	case 4: old = *(volatile u32 *)p; break;
	case 8: old = *(volatile u64 *)p; break;
	default:
		fprintf(stderr, "kvmlab check: bad access size %u\n", size);
		abort();
	}
	switch (op) {
	case RT_LOAD: return old;
	case RT_STORE: new = a; break;
	case RT_XCHG: new = a; break;
	case RT_CMPXCHG:
		if (old != (a & (size == 8 ? ~0ull : (1ull << (size * 8)) - 1)))
			return old;
		new = b;
		break;
	case RT_ADD: new = old + a; break;
	case RT_OR: new = old | a; break;
	case RT_ANDNOT: new = old & ~a; break;
	default: abort();
	}
	track_mark((const void *)p, size);
	switch (size) {
	case 1: *(volatile u8 *)p = (u8)new; break;
	case 2: *(volatile u16 *)p = (u16)new; break;
	case 4: *(volatile u32 *)p = (u32)new; break;
	case 8: *(volatile u64 *)p = new; break;
	}
	return old;
}

static int c_self(void)
{
	return S.cur >= 0 ? S.cur : CHK_HARNESS_ACTOR;
}

static void *c_zalloc(size_t size)
{
	u64 off = (hdr()->used + 15) & ~15ull;

	if (off + size > S.heap_cap) {
		fprintf(stderr, "kvmlab check: model heap exhausted (%zu bytes)\n", S.heap_cap);
		abort();
	}
	hdr()->used = off + size;
	track_mark(hdr(), sizeof(*hdr()));
	return S.heap + off;	/* zero: restore() clears everything past 'used' */
}

static struct pcpu *c_percpu(int cpu)
{
	return &S.percpu[cpu];
}

static u64 c_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	struct chk_fiber *f;

	if (S.cur < 0)
		return do_access(op, p, size, a, b);
	f = &S.f[S.cur];
	f->pend = (struct pending){ .kind = PK_ACCESS, .op = op, .size = size,
				    .addr = (u64)(uintptr_t)p, .a = a, .b = b };
	schedule_pending(f);
	race_marked(S.cur, (const void *)p, size, op != RT_STORE, op != RT_LOAD,
			    __builtin_return_address(0));
	return do_access(op, p, size, a, b);
}

static void c_fence(enum rt_fence fe)
{
	(void)fe;	/* interleavings are sequentially consistent */
}

/* Writes the model's heap from uninstrumented code: marked, as c_lock() marks. */
static void c_lock_init(struct rt_lock *l, enum rt_lock_kind k, const char *name)
{
	l->kind = k;
	l->name = name;
	track_mark(l, sizeof(*l));
}

static void c_report(enum kvm_finding f, const char *file, int line, const char *msg);

/*
 * Same report as rt_lock_misuse(); kept local because this code runs on the
 * fiber stacks, whose contents are model state: reshaping it changes the
 * golden state counts, not the behaviour.
 */
static void misuse(const struct rt_lock *l, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s on %s", what, l->name ? l->name : "lock");
	c_report(F_LOCK_MISUSE, __FILE__, __LINE__, msg);
}

static bool lock_available(const struct rt_lock *l, enum rt_lock_mode m)
{
	return m == LM_EXCL ? !l->holder && !l->readers : !l->holder;
}

static void c_lock(struct rt_lock *l, enum rt_lock_mode m)
{
	int self = c_self();

	if (l->holder == self + 1 || (m == LM_EXCL && (l->readers >> self) & 1)) {
		misuse(l, "recursive acquisition");
		return;
	}
	if (S.cur >= 0) {
		struct chk_fiber *f = &S.f[S.cur];

		f->pend = (struct pending){ .kind = PK_LOCK, .op = m, .addr = (u64)(uintptr_t)l };
		schedule_pending(f);
		S.merge = S.movers;
	} else if (!lock_available(l, m)) {
		fprintf(stderr, "kvmlab check: setup code blocked on %s\n", l->name);
		abort();
	}
	if (m == LM_EXCL)
		l->holder = self + 1;
	else
		l->readers |= 1ull << self;
	track_mark(l, sizeof(*l));
	if (S.cur >= 0)
		race_lock(S.cur, l, m == LM_EXCL, true);
}

static void c_unlock(struct rt_lock *l, enum rt_lock_mode m)
{
	int self = c_self();

	if (m == LM_EXCL ? l->holder != self + 1 : !((l->readers >> self) & 1)) {
		misuse(l, m == LM_EXCL ? "unlock of a lock not held" : "read-unlock of a lock not read-held");
		return;
	}
	if (m == LM_EXCL)
		l->holder = 0;
	else
		l->readers &= ~(1ull << self);
	track_mark(l, sizeof(*l));
	if (S.cur >= 0)
		race_lock(S.cur, l, m == LM_EXCL, false);
	if (S.cur >= 0)
		fp_add((u64)(uintptr_t)l, 8, m == LM_EXCL ? FP_LOCK_EXCL : FP_LOCK_SHARED);
}

static bool c_lock_needbreak(struct rt_lock *l)
{
	(void)l;
	return false;	/* need_resched() is already a nondeterministic choice */
}

/* Whether a wait's condition holds for the value v its location holds. */
static bool wait_holds_value(const struct pending *p, u64 v)
{
	return p->op == RT_EQ ? v == p->a : p->op == RT_NE ? v != p->a : !(v & p->a);
}

static bool wait_holds(const struct pending *p)
{
	return wait_holds_value(p, do_access(RT_LOAD, (volatile void *)(uintptr_t)p->addr, p->size, 0, 0));
}

static void c_wait(volatile void *p, unsigned size, enum rt_cmp c, u64 v)
{
	struct chk_fiber *f;

	if (S.cur < 0) {
		struct pending pd = { .kind = PK_WAIT, .op = c, .size = size, .addr = (u64)(uintptr_t)p, .a = v };

		if (!wait_holds(&pd)) {
			fprintf(stderr, "kvmlab check: setup code would block\n");
			abort();
		}
		return;
	}
	f = &S.f[S.cur];
	f->pend = (struct pending){ .kind = PK_WAIT, .op = c, .size = size,
				    .addr = (u64)(uintptr_t)p, .a = v };
	schedule_pending(f);
	race_marked(S.cur, (const void *)p, size, true, false, __builtin_return_address(0));
}

static unsigned c_choose(unsigned n)
{
	struct chk_fiber *f;

	if (S.cur < 0)
		return 0;
	f = &S.f[S.cur];
	f->pend = (struct pending){ .kind = PK_CHOOSE, .n = n };
	schedule_pending(f);
	return (unsigned)f->result;
}

static void c_relax(void)
{
}

/* Zero the STACK_SCRUB bytes below the stack pointer: dead, whatever the caller had there. */
static __no_sanitize_address __attribute__((noinline)) void c_scrub(void)
{
	u8 *sp, *lo;
	u64 n;

	if (S.cur < 0 || !S.hygiene)
		return;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	lo = sp - STACK_SCRUB;
	if (lo < S.f[S.cur].ctx.stack_lo)
		lo = S.f[S.cur].ctx.stack_lo;
	lo = (u8 *)((uintptr_t)lo & ~(uintptr_t)7);
	n = (u64)(sp - lo) / 8;
	/* rep stos: no stack of its own, so nothing below sp is live meanwhile. */
	__asm__ volatile("rep stosq" : "+D"(lo), "+c"(n) : "a"(0ull) : "memory");
}

static void log_grow(void)
{
	size_t cap = S.log_cap ? S.log_cap * 2 : 4096;

	S.log = mem_realloc(S.log, cap * sizeof(*S.log));
	S.log_cap = cap;
}

/*
 * Room for a transition's events, made before it runs (as race_begin()
 * does): a realloc in a fiber would leave its frames as dead bytes on the
 * fiber's stack, there in one of two schedules that reach the same state
 * and not in the other.
 */
#define LOG_RESERVE 1024

static void log_reserve(void)
{
	while (S.log_cap - S.log_len < LOG_RESERVE)
		log_grow();
}

static void c_trace(const struct kvm_event *ev)
{
	if (S.log_len == S.log_cap)
		log_grow();	/* only a transition with more than LOG_RESERVE events */
	S.log[S.log_len] = *ev;
	S.log[S.log_len].actor = (s16)c_self();
	S.log[S.log_len].seq = S.step;
	S.log_len++;
}

static void c_report(enum kvm_finding f, const char *file, int line, const char *msg)
{
	struct kvm_event ev = { .type = EV_FINDING, .a = f };

	c_trace(&ev);
	if (S.has_finding)
		return;
	S.has_finding = true;
	S.finding.kind = f;
	S.finding.actor = c_self();
	snprintf(S.finding.where, sizeof(S.finding.where), "%s:%d", file, line);
	snprintf(S.finding.msg, sizeof(S.finding.msg), "%s", msg);
}

/* ---- x86-TSO store buffers (sched_set_tso()) ------------------------------- */

enum sb_kind { SB_STORE = 1, SB_UNLOCK };

struct sb_entry {
	u64 addr;
	u64 val;	/* SB_UNLOCK: the enum rt_lock_mode */
	u64 pc;		/* where the model stored it, for the timeline */
	u8 size;
	u8 kind;	/* enum sb_kind */
	u8 pad[6];
};

/*
 * A fiber's store buffer, in the model heap, so that the state store hashes
 * and restores it with everything else: entries [0, n), oldest first; the
 * rest zero, so equal buffers are equal bytes.
 */
struct sbuf {
	u32 n;
	u32 pad;
	struct sb_entry e[SCHED_SB_MAX];
};

/*
 * check --verbose: the model's pc for the store buffer's lines, which
 * v_access() and v_unlock() set around the call (NULL in the search).
 */
static void *verbose_pc;

static u64 model_pc(void *ret)
{
	return (u64)(uintptr_t)(verbose_pc ? verbose_pc : ret);
}

static struct sbuf *sb_of(int g)
{
	return &S.sb[g];
}

static void store_sized(volatile void *p, unsigned size, u64 v)
{
	track_mark((const void *)p, size);
	switch (size) {
	case 1: *(volatile u8 *)p = (u8)v; break;
	case 2: *(volatile u16 *)p = (u16)v; break;
	case 4: *(volatile u32 *)p = (u32)v; break;
	case 8: *(volatile u64 *)p = v; break;
	}
}

/* A PRIM_SB_STORE or PRIM_SB_FLUSH line of fiber g's timeline. */
static void sb_log(unsigned kind, int g, const struct sb_entry *e)
{
	unsigned op = e->kind == SB_UNLOCK ? PRIM_SB_UNLOCK | (unsigned)e->val : RT_STORE;
	struct kvm_event ev = { .type = EV_PRIM, .actor = (s16)g, .seq = S.step,
				.a = (u64)kind << 16 | (u64)op << 8 | e->size, .b = e->addr,
				.c = e->kind == SB_UNLOCK ? 0 : e->val, .d = e->pc };

	if (S.log_len == S.log_cap)
		log_grow();
	S.log[S.log_len++] = ev;
}

static void sb_push(int g, const struct sb_entry *e)
{
	struct sbuf *b = sb_of(g);

	b->e[b->n++] = *e;
	track_mark(b, sizeof(*b));
	fp_add((u64)(uintptr_t)b, 8, FP_WRITE);
	sb_log(PRIM_SB_STORE, g, e);
}

static bool overlaps(u64 a, unsigned an, u64 b, unsigned bn)
{
	return a < b + bn && b < a + an;
}

/*
 * Move fiber g's oldest entry to memory, in the running transition (its
 * footprint: the location and the buffer).  A buffered unlock releases
 * the lock now, which is when other CPUs can see it free.
 */
static void sb_flush_one(int g)
{
	struct sbuf *b = sb_of(g);
	struct sb_entry e = b->e[0];

	if (e.kind == SB_UNLOCK) {
		struct rt_lock *l = (struct rt_lock *)(uintptr_t)e.addr;

		if (e.val == LM_EXCL)
			l->holder = 0;
		else
			l->readers &= ~(1ull << g);
		track_mark(l, sizeof(*l));
		fp_add(e.addr, 8, e.val == LM_EXCL ? FP_LOCK_EXCL : FP_LOCK_SHARED);
	} else {
		store_sized((volatile void *)(uintptr_t)e.addr, e.size, e.val);
		fp_add(e.addr, e.size, FP_WRITE);
	}
	b->n--;
	memmove(&b->e[0], &b->e[1], b->n * sizeof(b->e[0]));
	memset(&b->e[b->n], 0, sizeof(b->e[0]));
	track_mark(b, sizeof(*b));
	fp_add((u64)(uintptr_t)b, 8, FP_WRITE);
	sb_log(PRIM_SB_FLUSH, g, &e);
}

static void sb_drain(int g)
{
	while (sb_of(g)->n)
		sb_flush_one(g);
}

/* The youngest of fiber g's buffered stores that overlaps [addr, addr + size), or -1. */
static int sb_youngest(int g, u64 addr, unsigned size)
{
	const struct sbuf *b = sb_of(g);

	for (int i = (int)b->n - 1; i >= 0; i--)
		if (b->e[i].kind == SB_STORE && overlaps(b->e[i].addr, b->e[i].size, addr, size))
			return i;
	return -1;
}

/* Flush fiber g's buffer up to and including its youngest store that overlaps the range. */
static void sb_flush_through(int g, u64 addr, unsigned size)
{
	for (int i = sb_youngest(g, addr, size); i >= 0; i--)
		sb_flush_one(g);
}

/*
 * What fiber g reads at [addr, addr + size) (x86-TSO): memory, overlaid
 * byte by byte with its buffered stores from oldest to newest, so a load
 * sees its own CPU's newest store first (store-to-load forwarding).
 */
static u64 sb_read(int g, u64 addr, unsigned size, bool *forwarded)
{
	const struct sbuf *b = sb_of(g);
	u64 v = load_sized((const volatile void *)(uintptr_t)addr, size);

	*forwarded = false;
	for (u32 i = 0; i < b->n; i++) {
		const struct sb_entry *e = &b->e[i];

		if (e->kind != SB_STORE || !overlaps(e->addr, e->size, addr, size))
			continue;
		*forwarded = true;
		for (u64 x = addr; x < addr + size; x++)
			if (x >= e->addr && x < e->addr + e->size) {
				u64 byte = (e->val >> (8 * (x - e->addr))) & 0xff;

				v &= ~(0xffull << (8 * (x - addr)));
				v |= byte << (8 * (x - addr));
			}
	}
	return v;
}

/* Whether fiber g's wait holds, as g reads the location (forwarding included). */
static bool sb_wait_holds(int g, const struct pending *p)
{
	bool fwd;

	return wait_holds_value(p, sb_read(g, p->addr, p->size, &fwd));
}

/*
 * The footprint of fiber g's pending operation under TSO, before it runs:
 * a store only touches g's buffer; a load or wait reads its location, and
 * the buffer when a buffered store forwards to it; a read-modify-write,
 * lock or drain also empties the buffer, whose entries sb_flush_one() adds
 * as it goes.
 */
static void fp_add_pending_tso(int g, const struct pending *p)
{
	const struct sbuf *b = sb_of(g);

	switch (p->kind) {
	case PK_ACCESS:
		if (p->op == RT_STORE) {
			fp_add((u64)(uintptr_t)b, 8, FP_WRITE);
			return;
		}
		if (p->op == RT_LOAD) {
			fp_add_bits(p->addr, p->size, FP_READ, pending_bits(p));
			if (sb_youngest(g, p->addr, p->size) >= 0)
				fp_add((u64)(uintptr_t)b, 8, FP_READ);
			return;
		}
		fp_add_bits(p->addr, p->size, b->n || access_writes(p) ? FP_WRITE : FP_READ, pending_bits(p));
		return;
	case PK_WAIT:
		fp_add(p->addr, p->size, FP_READ);
		if (sb_youngest(g, p->addr, p->size) >= 0)
			fp_add((u64)(uintptr_t)b, 8, FP_READ);
		return;
	default:
		fp_add_pending(p);
	}
}

/* The running fiber stops until the scheduler runs it again, then empties its buffer. */
static void drain_point(void)
{
	struct chk_fiber *f = &S.f[S.cur];

	f->pend = (struct pending){ .kind = PK_DRAIN };
	schedule_pending(f);
	sb_drain(S.cur);
}

/*
 * c_access() under x86-TSO.  Its first lines repeat c_access()'s on purpose:
 * both run on the fiber stacks, whose dead bytes are model state, and a
 * shared helper would reshape c_access()'s frame and move every golden
 * count of sequential consistency (issue #10 item 3).  t_lock() repeats
 * c_lock() for the same reason.
 */
static u64 t_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	struct chk_fiber *f;
	bool fwd;

	if (S.cur < 0)
		return do_access(op, p, size, a, b);
	f = &S.f[S.cur];
	f->pend = (struct pending){ .kind = PK_ACCESS, .op = op, .size = size,
				    .addr = (u64)(uintptr_t)p, .a = a, .b = b };
	schedule_pending(f);
	race_marked(S.cur, (const void *)p, size, op != RT_STORE, op != RT_LOAD,
		    __builtin_return_address(0));
	switch (op) {
	case RT_STORE: {
		struct sb_entry e = { .addr = (u64)(uintptr_t)p, .val = a & size_mask(size),
				      .pc = model_pc(__builtin_return_address(0)),
				      .size = (u8)size, .kind = SB_STORE };

		sb_push(S.cur, &e);
		return 0;
	}
	case RT_LOAD: {
		u64 v = sb_read(S.cur, (u64)(uintptr_t)p, size, &fwd);
		u32 n = sb_of(S.cur)->n;

		if (n) {
			struct kvm_event ev = { .type = EV_PRIM, .actor = (s16)S.cur, .seq = S.step,
						.a = (u64)PRIM_SB_LOAD << 16 |
						     (u64)(n | (fwd ? PRIM_SB_UNLOCK : 0)) << 8 | size,
						.b = (u64)(uintptr_t)p, .c = v,
						.d = model_pc(__builtin_return_address(0)) };

			if (S.log_len == S.log_cap)
				log_grow();
			S.log[S.log_len++] = ev;
		}
		return v;
	}
	default:	/* a locked instruction: the buffer drains first */
		sb_drain(S.cur);
		return do_access(op, p, size, a, b);
	}
}

static void t_fence(enum rt_fence fe)
{
	/* smp_rmb() and smp_wmb() are compiler barriers on x86 (barrier()). */
	if (fe == RT_MB && S.cur >= 0 && sb_of(S.cur)->n)
		drain_point();
}

/* Whether fiber g's buffer holds the release of l (then l is not g's to release again). */
static bool sb_releases(int g, const struct rt_lock *l)
{
	const struct sbuf *b = sb_of(g);

	for (u32 i = 0; i < b->n; i++)
		if (b->e[i].kind == SB_UNLOCK && b->e[i].addr == (u64)(uintptr_t)l)
			return true;
	return false;
}

/*
 * Every lock acquisition is a locked instruction on x86: once scheduled,
 * the buffer drains first.  A release of the same lock still in the
 * buffer is not a recursion: the acquisition waits until it is flushed.
 */
static void t_lock(struct rt_lock *l, enum rt_lock_mode m)
{
	int self = c_self();
	struct chk_fiber *f;

	if (S.cur < 0 || !sb_of(S.cur)->n) {
		c_lock(l, m);
		return;
	}
	if (!sb_releases(S.cur, l) && (l->holder == self + 1 || (m == LM_EXCL && (l->readers >> self) & 1))) {
		misuse(l, "recursive acquisition");
		return;
	}
	f = &S.f[S.cur];
	f->pend = (struct pending){ .kind = PK_LOCK, .op = m, .addr = (u64)(uintptr_t)l };
	schedule_pending(f);
	S.merge = S.movers;
	sb_drain(S.cur);
	if (m == LM_EXCL)
		l->holder = self + 1;
	else
		l->readers |= 1ull << self;
	track_mark(l, sizeof(*l));
	race_lock(S.cur, l, m == LM_EXCL, true);
}

/*
 * spin_unlock() and write_unlock() are a release store on x86 (a MOV,
 * queued_spin_unlock() and queued_write_unlock()): buffered like a store;
 * read_unlock(), up_read(), up_write() and mutex_unlock() are locked
 * instructions and drain the buffer first.  A full buffer drains too (a
 * legal TSO execution, one of fewer).
 */
static void t_unlock(struct rt_lock *l, enum rt_lock_mode m)
{
	struct sbuf *b;

	if (S.cur < 0) {
		c_unlock(l, m);
		return;
	}
	b = sb_of(S.cur);
	if (sb_releases(S.cur, l)) {
		misuse(l, "unlock of a lock not held");
		return;
	}
	if ((l->kind == LK_SPINLOCK || (l->kind == LK_RWLOCK && m == LM_EXCL)) && b->n < S.sb_cap &&
	    (m == LM_EXCL ? l->holder == S.cur + 1 : (l->readers >> S.cur) & 1)) {
		struct sb_entry e = { .addr = (u64)(uintptr_t)l, .val = m,
				      .pc = model_pc(__builtin_return_address(0)), .kind = SB_UNLOCK };

		race_lock(S.cur, l, m == LM_EXCL, false);
		sb_push(S.cur, &e);
		return;
	}
	if (b->n)
		drain_point();
	c_unlock(l, m);
}

static void t_wait(volatile void *p, unsigned size, enum rt_cmp c, u64 v)
{
	c_wait(p, size, c, v);
}

/*
 * The simulated hardware's own loads and stores (hw_load, guest memory)
 * and the ghost checks go straight to memory.  A load of bytes this CPU
 * still holds in its buffer flushes the buffer through that store first,
 * and a store flushes all of it (so stores reach memory in order): both are
 * legal TSO executions, one of fewer.
 */
static void t_observe(const volatile void *p, unsigned size, bool write)
{
	if (S.cur >= 0 && sb_of(S.cur)->n) {
		if (write)
			sb_drain(S.cur);
		else
			sb_flush_through(S.cur, (u64)(uintptr_t)p, size);
	}
	c_observe(p, size, write);
}

/*
 * A plain access of the running fiber (write tracking, check/track.c).
 * The model's plain accesses are data-race free (the race detector checks
 * it), so a plain store may go straight to memory: no other CPU can read it
 * without synchronizing with a later release of this one, which leaves the
 * buffer after every older store.  Only this CPU's own view has to stay
 * right: a plain access to bytes it holds in its buffer flushes the buffer
 * through that store first.
 */
static void t_plain(const void *p, size_t n)
{
	if (S.cur >= 0 && sb_of(S.cur)->n)
		sb_flush_through(S.cur, (u64)(uintptr_t)p, (unsigned)n);
}

static const struct rt_ops checker_ops = {
	.name = "checker",
	.self = c_self,
	.zalloc = c_zalloc,
	.percpu = c_percpu,
	.access = c_access,
	.fence = c_fence,
	.lock_init = c_lock_init,
	.lock = c_lock,
	.unlock = c_unlock,
	.lock_needbreak = c_lock_needbreak,
	.wait = c_wait,
	.choose = c_choose,
	.relax = c_relax,
	.observe = c_observe,
	.trace = c_trace,
	.report = c_report,
	.scrub = c_scrub,
};

static const struct rt_ops tso_ops = {
	.name = "checker (x86-TSO)",
	.self = c_self,
	.zalloc = c_zalloc,
	.percpu = c_percpu,
	.access = t_access,
	.fence = t_fence,
	.lock_init = c_lock_init,
	.lock = t_lock,
	.unlock = t_unlock,
	.lock_needbreak = c_lock_needbreak,
	.wait = t_wait,
	.choose = c_choose,
	.relax = c_relax,
	.observe = t_observe,
	.trace = c_trace,
	.report = c_report,
	.scrub = c_scrub,
};

static const struct rt_ops *base_ops(void)
{
	return S.sb_cap ? &tso_ops : &checker_ops;
}

/*
 * check --verbose: the same operations, each also logged as an EV_PRIM event
 * with the model's pc (the caller of the rt_ops entry), for the replay that
 * prints a counterexample.  Never used by the search: these wrappers' frames
 * would change the state counts.
 */
static void prim_trace(unsigned kind, unsigned op, unsigned size, const volatile void *p, u64 v, void *pc)
{
	struct kvm_event ev = { .type = EV_PRIM, .a = (u64)kind << 16 | (u64)op << 8 | size,
				.b = (u64)(uintptr_t)p, .c = v, .d = (u64)(uintptr_t)pc };

	if (S.cur >= 0)
		c_trace(&ev);
}

static u64 v_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	u64 r;

	verbose_pc = __builtin_return_address(0);
	r = base_ops()->access(op, p, size, a, b);
	verbose_pc = NULL;

	prim_trace(PRIM_ACCESS, op, size, p, op == RT_LOAD ? r : op == RT_CMPXCHG ? b : a,
		   __builtin_return_address(0));
	return r;
}

static void v_fence(enum rt_fence fe)
{
	base_ops()->fence(fe);
	prim_trace(PRIM_FENCE, fe, 0, NULL, 0, __builtin_return_address(0));
}

static void v_lock(struct rt_lock *l, enum rt_lock_mode m)
{
	base_ops()->lock(l, m);
	prim_trace(PRIM_LOCK, m, 0, l, 0, __builtin_return_address(0));
}

static void v_unlock(struct rt_lock *l, enum rt_lock_mode m)
{
	prim_trace(PRIM_UNLOCK, m, 0, l, 0, __builtin_return_address(0));
	verbose_pc = __builtin_return_address(0);
	base_ops()->unlock(l, m);
	verbose_pc = NULL;
}

static void v_wait(volatile void *p, unsigned size, enum rt_cmp c, u64 v)
{
	base_ops()->wait(p, size, c, v);
	prim_trace(PRIM_WAIT, c, size, p, v, __builtin_return_address(0));
}

static struct rt_ops verbose_ops;

static void install_ops(void)
{
	verbose_ops = *base_ops();
	verbose_ops.access = v_access;
	verbose_ops.fence = v_fence;
	verbose_ops.lock = v_lock;
	verbose_ops.unlock = v_unlock;
	verbose_ops.wait = v_wait;
	rt_set(S.verbose ? &verbose_ops : base_ops());
}

void sched_set_verbose(bool on)
{
	S.verbose = on;
	install_ops();
}

int sched_set_tso(unsigned store_buffer)
{
	if (store_buffer > SCHED_SB_MAX)
		return -EINVAL;
	S.sb_cap = store_buffer;
	track_plain_hook = store_buffer ? t_plain : NULL;
	install_ops();
	return 0;
}

unsigned sched_store_buffer(void) { return S.sb_cap; }

int sched_nr_actors(void) { return S.sb_cap ? 2 * S.nr_fibers : S.nr_fibers; }

void sched_sb_footprint(int g, struct footprint *out)
{
	const struct sbuf *b = sb_of(g);

	out->n = 0;
	out->overflow = false;
	for (u32 i = 0; i < b->n && out->n < FP_MAX; i++) {
		struct fp_entry *e = &out->e[out->n++];

		e->addr = b->e[i].addr;
		e->size = b->e[i].kind == SB_UNLOCK ? 8 : b->e[i].size;
		e->kind = b->e[i].kind == SB_STORE ? FP_WRITE : b->e[i].val == LM_EXCL ? FP_LOCK_EXCL : FP_LOCK_SHARED;
		e->bits = 0xff;
	}
}

bool sched_sb_addr(u64 addr)
{
	u64 lo = (u64)(uintptr_t)S.sb;

	return S.sb_cap && addr >= lo && addr < lo + (u64)S.nr_fibers * sizeof(*S.sb);
}

/* ---- scheduler ----------------------------------------------------------- */

/*
 * The heap and the fibers' stacks are mapped at the same addresses every
 * time when those are free, so pointers into them (model state) and
 * therefore fingerprints do not depend on where a previous run's heap was,
 * nor on the process: two runs in one process can compare terminal states
 * (tests/test_reductions.c), and so can two processes (the binary is not
 * position-independent, so code addresses on the stacks are fixed too), which
 * the distributed search (mpi/dist_mpi.c) relies on.  It is also bound at load
 * time (-z now, see the Makefile): a lazily bound first call from a fiber runs
 * the dynamic linker's resolver on the fiber's stack, which saves the vector
 * registers there, and what they held (anything the process did before) stays
 * in slots no frame writes, such as ASan's redzones.
 */
#define CHK_HEAP_ADDR ((void *)0x6b766d000000ul)
#define CHK_STACK_ADDR(i) ((void *)(0x6b7700000000ul + (u64)(i) * CHK_STACK_SPAN))
#define CHK_STACK_SIZE (256u << 10)
#define CHK_STACK_SPAN (1ul << 20)

int sched_init(size_t heap_size)
{
	void *p = fiber_map(CHK_HEAP_ADDR, heap_size);

	if (p == MAP_FAILED)
		return -errno;
	memset(&S, 0, sizeof(S));
	track_plain_hook = NULL;
	S.heap = p;
	S.heap_cap = heap_size;
	S.cur = -1;
	S.movers = true;
	S.hygiene = true;
#ifdef KVMLAB_VALIDATE
	S.validate = true;
#else
	S.validate = getenv("KVMLAB_VALIDATE") != NULL;
#endif
	S.shadow = mmap(NULL, heap_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (S.shadow == MAP_FAILED)
		goto err_heap;
	S.line_h = mmap(NULL, heap_size / CHK_LINE * sizeof(u64), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (S.line_h == MAP_FAILED)
		goto err_shadow;
	track_dirty = calloc(heap_size / CHK_CHUNK + 1, sizeof(*track_dirty));
	track_list = calloc(heap_size / CHK_CHUNK + 1, sizeof(*track_list));
	if (!track_dirty || !track_list)
		goto err_track;
	track_base = p;
	track_len = heap_size;
	hdr()->used = sizeof(struct heap_header);
	fiber_init_main(&S.main);
	rt_set(&checker_ops);
	S.percpu = c_zalloc(sizeof(struct pcpu) * KVMLAB_MAX_PCPUS);
	return 0;

err_track:
	free(track_dirty);
	free(track_list);
	track_dirty = NULL;
	track_list = NULL;
	munmap(S.line_h, heap_size / CHK_LINE * sizeof(u64));
err_shadow:
	munmap(S.shadow, heap_size);
err_heap:
	munmap(p, heap_size);
	memset(&S, 0, sizeof(S));
	S.cur = -1;
	return -ENOMEM;
}

/*
 * Free lists: a DFS allocates and frees stack copies and snapshot structs
 * at the same rate (malloc/free were 8 % of the time).  The first word of a
 * free object links the list.
 */
static void *free_snaps;

/* Stack copies by size class of STACK_CLASS bytes; larger ones use malloc. */
#define STACK_CLASS 512
#define STACK_CLASSES 32
static void *free_stacks[STACK_CLASSES + 1];

static u32 stack_class(u32 len)
{
	return (len + STACK_CLASS - 1) / STACK_CLASS;
}

static void *pop_free(void **list, size_t size)
{
	void *p = *list;

	if (p) {
		*list = *(void **)p;
		return p;
	}
	return mem_malloc(size);
}

static void push_free(void **list, void *p)
{
	*(void **)p = *list;
	*list = p;
}

static void drain_free(void **list)
{
	while (*list) {
		void *p = *list;

		*list = *(void **)p;
		free(p);
	}
}

static struct sstack *sstack_alloc(u32 len)
{
	u32 c = stack_class(len);
	struct sstack *st;

	if (c <= STACK_CLASSES)
		st = pop_free(&free_stacks[c], sizeof(*st) + (size_t)c * STACK_CLASS);
	else
		st = mem_malloc(sizeof(*st) + len);
	st->len = len;
	S.snapshot_bytes += sizeof(*st) + len;
	return st;
}

static void sstack_free(struct sstack *st)
{
	u32 c;

	if (!st)
		return;
	c = stack_class(st->len);
	S.snapshot_bytes -= sizeof(*st) + st->len;
	if (c <= STACK_CLASSES)
		push_free(&free_stacks[c], st);
	else
		free(st);
}

/* One undo record: a heap line's previous contents, or a fiber's previous stack. */
enum { UL_LINE, UL_FIBER };

struct ulog {
	u8 kind;
	u8 fiber;
	u32 line;
	u64 old_h;			/* the line's or fiber's previous term */
	union {
		u8 data[CHK_LINE];
		struct {
			struct sstack *stack;
			void *sp;
			struct pending pend;
		} f;
	};
};

void sched_fini(void)
{
	for (int i = 0; i < S.nr_fibers; i++)
		fiber_destroy(&S.f[i].ctx);
	for (size_t i = 0; i < S.ulog_len; i++)
		if (S.ulog[i].kind == UL_FIBER)
			sstack_free(S.ulog[i].f.stack);
	for (int i = 0; i < CHK_MAX_FIBERS; i++)
		sstack_free(S.sh[i].stack);
	free(S.ulog);
	drain_free(&free_snaps);
	for (int c = 0; c <= STACK_CLASSES; c++)
		drain_free(&free_stacks[c]);
	free(S.log);
	if (S.heap) {
		munmap(S.heap, S.heap_cap);
		munmap(S.shadow, S.heap_cap);
		munmap(S.line_h, S.heap_cap / CHK_LINE * sizeof(u64));
	}
	race_fini();
	free(track_dirty);
	free(track_list);
	track_dirty = NULL;
	track_list = NULL;
	track_nlist = 0;
	track_base = NULL;
	track_len = 0;
	track_plain_hook = NULL;
	memset(&S, 0, sizeof(S));
	S.cur = -1;
}

static void fiber_body(void *arg)
{
	int id = (int)(uintptr_t)arg;

	fiber_entered();
	S.entry(id, S.entry_arg);
	S.f[id].pend = (struct pending){ .kind = PK_DONE };
	for (;;)
		yield_to_scheduler();	/* never resumed */
}

int sched_start(int n, sched_entry_fn entry, void *arg)
{
	if (n > CHK_MAX_FIBERS || (S.sb_cap && 2 * n > CHK_MAX_FIBERS))
		return -E2BIG;
	if (S.sb_cap)
		S.sb = c_zalloc(sizeof(*S.sb) * (size_t)n);
	S.entry = entry;
	S.entry_arg = arg;
	S.nr_fibers = n;
	if (race_on)
		race_set_fibers(n);
	for (int i = 0; i < n; i++) {
		int r = fiber_init(&S.f[i].ctx, CHK_STACK_ADDR(i), CHK_STACK_SIZE, fiber_body, (void *)(uintptr_t)i);

		if (r)
			return r;
	}
	/* Run each fiber up to its first scheduling point: local code only. */
	for (int i = 0; i < n; i++) {
		S.cur = i;
		log_reserve();
		race_begin();
		fiber_switch(&S.main, &S.f[i].ctx);
		race_flush(i);
		S.cur = -1;
		scrub_below_sp(&S.f[i]);
		S.sh[i].ran = true;
	}
	return 0;
}

int sched_nr_fibers(void) { return S.nr_fibers; }
void sched_set_movers(bool on) { S.movers = on; }
void sched_set_tracking(bool on) { S.track = on; }
void sched_set_hygiene(bool on) { S.hygiene = on; }
int sched_enable_races(void) { return race_init(S.heap, S.heap_cap); }
bool sched_races(void) { return race_on; }
int sched_current(void) { return S.cur; }

void sched_report_race(const char *msg)
{
	c_report(F_DATA_RACE, __FILE__, __LINE__, msg);
}
bool sched_movers(void) { return S.movers; }
/* A flusher's pending operation: a store of its fiber's oldest entry, or done while the buffer is empty. */
const struct pending *sched_pending(int fiber)
{
	const struct sbuf *b;

	if (fiber < S.nr_fibers)
		return &S.f[fiber].pend;
	b = sb_of(fiber - S.nr_fibers);
	S.flush_pend[fiber - S.nr_fibers] = b->n ?
		(struct pending){ .kind = PK_ACCESS, .op = RT_STORE, .size = b->e[0].size, .addr = b->e[0].addr } :
		(struct pending){ .kind = PK_DONE };
	return &S.flush_pend[fiber - S.nr_fibers];
}

u32 sched_lock_blockers(int fiber)
{
	const struct pending *p = sched_pending(fiber);
	const struct rt_lock *l = (const struct rt_lock *)(uintptr_t)p->addr;
	u32 m = 0;

	if (fiber >= S.nr_fibers)	/* an empty store buffer: only its fiber can fill it */
		return 1u << (fiber - S.nr_fibers);
	if (p->kind != PK_LOCK)
		return 0;
	if (l->holder)
		m |= 1u << (l->holder - 1);
	if (p->op == LM_EXCL)
		m |= (u32)l->readers;
	return m;
}

bool sched_enabled(int fiber)
{
	const struct pending *p;

	if (fiber >= S.nr_fibers)
		return sb_of(fiber - S.nr_fibers)->n > 0;
	p = &S.f[fiber].pend;
	if (S.sb_cap) {
		if (p->kind == PK_ACCESS && p->op == RT_STORE)
			return sb_of(fiber)->n < S.sb_cap;	/* a full buffer holds the store */
		if (p->kind == PK_WAIT)
			return sb_wait_holds(fiber, p);
		if (p->kind == PK_DRAIN)
			return true;
	}
	switch (p->kind) {
	case PK_ACCESS:
	case PK_CHOOSE:
		return true;
	case PK_LOCK:
		return lock_available((struct rt_lock *)(uintptr_t)p->addr, p->op);
	case PK_WAIT:
		return wait_holds(p);
	default:
		return false;
	}
}

/*
 * Stack hygiene: dead bytes below the stack pointer become the uninitialized
 * slots of frames pushed later, and those would keep equal model states apart.
 * Clear what the transition may have used below the final stack pointer.
 */

/* Clear [lo, hi) of f's stack (clipped to the stack). */
static __no_sanitize_address void scrub_range(struct chk_fiber *f, u8 *lo, u8 *hi)
{
	if (lo < f->ctx.stack_lo)
		lo = f->ctx.stack_lo;
	/* Word stores (the stack pointer is 8-byte aligned); memset would be checked by ASan. */
	for (u64 *p = (u64 *)((uintptr_t)lo & ~(uintptr_t)7); p < (u64 *)hi; p++)
		*p = 0;
}

/*
 * Invariant: the STACK_SCRUB bytes below a live fiber's stack pointer are
 * zero, so the frames a transition pushes start from zeros whatever the
 * search did before.  A transition restores it on its way out.
 */
static void scrub_below_sp(struct chk_fiber *f)
{
	scrub_range(f, (u8 *)f->ctx.sp - STACK_SCRUB, f->ctx.sp);
}

/*
 * After a restore moved f's stack pointer from prev to sp (the stack above
 * sp copied in): restore the invariant, knowing it held below prev.
 */
static void scrub_restored(struct chk_fiber *f, u8 *prev)
{
	u8 *sp = f->ctx.sp;

	if (sp > prev)
		scrub_range(f, prev, sp);	/* the frames of the state that was live */
	else if (sp < prev)	/* [prev - STACK_SCRUB, prev) was zero; nothing from sp up is dead */
		scrub_range(f, sp - STACK_SCRUB, prev - STACK_SCRUB < sp ? prev - STACK_SCRUB : sp);
}

void sched_step(int fiber, u32 choice)
{
	const struct pending *p;

	S.fp.n = 0;
	S.fp.overflow = false;
	S.merged = 0;
	if (fiber >= S.nr_fibers) {	/* TSO: a store leaves the buffer */
		log_reserve();
		sb_flush_one(fiber - S.nr_fibers);
		return;
	}
	p = &S.f[fiber].pend;
	if (S.sb_cap)
		fp_add_pending_tso(fiber, p);
	else
		fp_add_pending(p);
	S.f[fiber].result = choice;
	S.sh[fiber].ran = true;
	S.cur = fiber;
	log_reserve();
	race_begin();
	fiber_switch(&S.main, &S.f[fiber].ctx);
	race_flush(fiber);
	S.cur = -1;
	S.merge = false;
	scrub_below_sp(&S.f[fiber]);
}

bool sched_has_finding(void) { return S.has_finding; }
const struct sched_finding *sched_finding(void) { return &S.finding; }
void sched_clear_finding(void) { S.has_finding = false; }
size_t sched_log_len(void) { return S.log_len; }
const struct kvm_event *sched_log(void) { return S.log; }
void sched_log_truncate(size_t len) { S.log_len = len; }
void sched_set_step(u32 step) { S.step = step; }
size_t sched_heap_used(void) { return hdr()->used; }
const u8 *sched_heap(size_t *cap)
{
	*cap = S.heap_cap;
	return S.heap;
}
bool sched_validating(void) { return S.validate; }
u64 sched_snapshot_bytes(void) { return S.snapshot_bytes; }

/* ---- state store ----------------------------------------------------------- */

/*
 * Stack copies and compares, by words where they can (fiber stacks are
 * 8-byte aligned from sp up); not instrumented, since ASan poisons parts of
 * the fiber stacks.
 */
static __no_sanitize_address void copy_in(void *dst, const void *src, size_t n)
{
#ifdef KVMLAB_ASAN
	const u8 *s = src;
	u8 *d = dst;

	if (!(((uintptr_t)s | (uintptr_t)d | n) & 7)) {
		const u64 *sw = src;
		u64 *dw = dst;

		for (n /= 8; n; n--)
			*dw++ = *sw++;
		return;
	}
	while (n--)
		*d++ = *s++;
#else
	memcpy(dst, src, n);	/* ASan would check it against the stacks' poisoning */
#endif
}

static __no_sanitize_address bool same_bytes(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	if (!(((uintptr_t)x | (uintptr_t)y | n) & 7)) {
		const u64 *xw = a, *yw = b;

		for (n /= 8; n; n--)
			if (*xw++ != *yw++)
				return false;
		return true;
	}
	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}

/*
 * A heap line's term of the fingerprint, keyed by its position; 0 for an
 * all-zero line, so memory past the allocation pointer (zero) adds nothing.
 */
static __no_sanitize_address u64 line_term(const u8 *line, u32 l)
{
	const u64 *w = (const u64 *)line;	/* lines are 64-byte aligned */
	u64 any = 0;

	for (u32 k = 0; k < CHK_LINE / 8; k++)
		any |= w[k];
	return any ? mix64(hash_bytes(line, CHK_LINE, l)) : 0;
}

/* Lines are copied by words: memcpy would be intercepted under ASan. */
static __no_sanitize_address void copy_line(u8 *dst, const u8 *src)
{
	u64 *d = (u64 *)dst;
	const u64 *s = (const u64 *)src;

	for (u32 k = 0; k < CHK_LINE / 8; k++)
		d[k] = s[k];
}

/* Fiber i's term of the fingerprint: its pending operation and, unless done, its live stack. */
static u64 fiber_term(int i)
{
	const struct chk_fiber *f = &S.f[i];
	u64 h = mix64(hash_bytes((const u8 *)&f->pend, sizeof(f->pend), (u64)i + 77));

	if (f->pend.kind != PK_DONE)
		h += mix64(hash_bytes(f->ctx.sp, (size_t)(f->ctx.stack_hi - (u8 *)f->ctx.sp),
				      (u64)(uintptr_t)f->ctx.sp));
	return h;
}

static struct ulog *ulog_push(u8 kind)
{
	struct ulog *u;

	if (S.ulog_len == S.ulog_cap) {
		size_t cap = S.ulog_cap ? S.ulog_cap * 2 : 4096;
		struct ulog *n = mem_realloc(S.ulog, cap * sizeof(*n));

		S.snapshot_bytes += (cap - S.ulog_cap) * sizeof(*n);
		S.ulog = n;
		S.ulog_cap = cap;
	}
	u = &S.ulog[S.ulog_len++];
	u->kind = kind;
	return u;
}

static u32 heap_lines(void)
{
	return (u32)((hdr()->used + CHK_LINE - 1) / CHK_LINE);
}

/* Line l may differ from the shadow: log the shadow's contents and take the live ones. */
static void commit_line(u32 l)
{
	u8 *live = S.heap + (size_t)l * CHK_LINE, *sh = S.shadow + (size_t)l * CHK_LINE;
	struct ulog *u;
	u64 h;

	if (same_bytes(live, sh, CHK_LINE))
		return;		/* written with the value it had */
	u = ulog_push(UL_LINE);
	u->line = l;
	u->old_h = S.line_h[l];
	copy_line(u->data, sh);
	copy_line(sh, live);
	h = line_term(live, l);
	S.heap_h += h - S.line_h[l];
	S.line_h[l] = h;
}

/* Calls fn on every line that may differ from the shadow, clearing the marks. */
static void for_dirty_lines(void (*fn)(u32 l))
{
	if (!S.track) {
		/* Compare with the shadow by chunks (memcmp outside ASan, which would check it), then by lines. */
		u32 n = heap_lines();

		for (u32 c = 0; c * CHK_LINES < n; c++) {
			size_t off = (size_t)c * CHK_CHUNK;

#ifdef KVMLAB_ASAN
			if (same_bytes(S.heap + off, S.shadow + off, CHK_CHUNK))
#else
			if (!memcmp(S.heap + off, S.shadow + off, CHK_CHUNK))
#endif
				continue;
			for (u32 l = c * CHK_LINES; l < (c + 1) * CHK_LINES && l < n; l++)
				if (!same_bytes(S.heap + (size_t)l * CHK_LINE, S.shadow + (size_t)l * CHK_LINE, CHK_LINE))
					fn(l);
		}
		return;
	}
	for (u32 i = 0; i < track_nlist; i++) {
		u32 c = track_list[i];
		u16 m = track_dirty[c];

		track_dirty[c] = 0;
		for (; m; m &= (u16)(m - 1))
			fn(c * CHK_LINES + (u32)__builtin_ctz(m));
	}
	track_nlist = 0;
}

static void revert_line(u32 l)
{
	copy_line(S.heap + (size_t)l * CHK_LINE, S.shadow + (size_t)l * CHK_LINE);
}

/* The fingerprint from scratch (KVMLAB_VALIDATE), to check the incremental one. */
static u64 full_hash(u64 extra)
{
	u64 h = mix64(extra + 0x1234567);
	u32 n = heap_lines();

	for (u32 l = 0; l < n; l++)
		h += line_term(S.heap + (size_t)l * CHK_LINE, l);
	for (int i = 0; i < S.nr_fibers; i++)
		h += fiber_term(i);
	return h;
}

/*
 * KVMLAB_VALIDATE recomputes the fingerprint from scratch at one snapshot
 * and one restore in VALIDATE_EVERY (the whole heap each time; the other
 * checks are per line and run every time).
 */
#define VALIDATE_EVERY 256

static bool validate_now(void)
{
	return S.validate && ++S.validate_n % VALIDATE_EVERY == 0;
}

static void internal_error(const char *fmt, int a)
{
	fprintf(stderr, "kvmlab check: internal error: ");
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	abort();
}

struct snapshot *sched_snapshot(u64 extra)
{
	struct snapshot *s = pop_free(&free_snaps, sizeof(*s));
	u64 h = mix64(extra + 0x1234567);

	if (S.validate && S.track) {
		/* Every line no tracked write touched must equal the shadow. */
		u32 n = heap_lines();

		for (u32 l = 0; l < n; l++)
			if (!((track_dirty[l / CHK_LINES] >> (l % CHK_LINES)) & 1) &&
			    !same_bytes(S.heap + (size_t)l * CHK_LINE, S.shadow + (size_t)l * CHK_LINE, CHK_LINE))
				internal_error("heap line %d changed without a tracked write", (int)l);
	}
	for_dirty_lines(commit_line);
	h += S.heap_h;
	for (int i = 0; i < S.nr_fibers; i++) {
		struct chk_fiber *f = &S.f[i];

		if (!S.sh[i].ran) {
			if (S.validate && (S.sh[i].pend.kind != f->pend.kind ||
					   (f->pend.kind != PK_DONE &&
					    (S.sh[i].sp != f->ctx.sp ||
					     !same_bytes(S.sh[i].stack->data, f->ctx.sp, S.sh[i].stack->len)))))
				internal_error("fiber %d's stack or pending operation changed while it did not run", i);
			h += S.sh[i].h;
			continue;
		}
		{
			struct ulog *u = ulog_push(UL_FIBER);

			u->fiber = (u8)i;
			u->old_h = S.sh[i].h;
			u->f.stack = S.sh[i].stack;
			u->f.sp = S.sh[i].sp;
			u->f.pend = S.sh[i].pend;
		}
		S.sh[i].ran = false;
		S.sh[i].pend = f->pend;
		S.sh[i].stack = NULL;
		if (f->pend.kind != PK_DONE) {
			u32 len = (u32)(f->ctx.stack_hi - (u8 *)f->ctx.sp);

			S.sh[i].stack = sstack_alloc(len);
			S.sh[i].sp = f->ctx.sp;
			copy_in(S.sh[i].stack->data, f->ctx.sp, len);
		}
		S.sh[i].h = fiber_term(i);
		h += S.sh[i].h;
	}
	if (validate_now() && full_hash(extra) != h)
		internal_error("the incremental fingerprint of snapshot %d is wrong", (int)S.ulog_len);
	s->hash = h;
	s->extra = extra;
	s->mark = S.ulog_len;
	return s;
}

void sched_restore(const struct snapshot *s)
{
	bool stale[CHK_MAX_FIBERS];

	if (s->mark > S.ulog_len)
		internal_error("restoring a snapshot that an older restore undid (log mark %d)", (int)s->mark);
	/* What changed since the last snapshot goes back to the shadow ... */
	for_dirty_lines(revert_line);
	for (int i = 0; i < S.nr_fibers; i++) {
		stale[i] = S.sh[i].ran;
		S.sh[i].ran = false;
	}
	/* ... and the log takes the shadow back to s. */
	while (S.ulog_len > s->mark) {
		struct ulog *u = &S.ulog[--S.ulog_len];

		if (u->kind == UL_LINE) {
			copy_line(S.heap + (size_t)u->line * CHK_LINE, u->data);
			copy_line(S.shadow + (size_t)u->line * CHK_LINE, u->data);
			S.heap_h += u->old_h - S.line_h[u->line];
			S.line_h[u->line] = u->old_h;
		} else {
			int i = u->fiber;

			sstack_free(S.sh[i].stack);
			S.sh[i].stack = u->f.stack;
			S.sh[i].sp = u->f.sp;
			S.sh[i].pend = u->f.pend;
			S.sh[i].h = u->old_h;
			stale[i] = true;
		}
	}
	for (int i = 0; i < S.nr_fibers; i++) {
		struct chk_fiber *f = &S.f[i];
		u8 *prev = f->ctx.sp;

		if (!stale[i])
			continue;
		f->pend = S.sh[i].pend;
		if (f->pend.kind == PK_DONE)
			continue;
		f->ctx.sp = S.sh[i].sp;
#ifdef KVMLAB_ASAN
		ASAN_UNPOISON_MEMORY_REGION(f->ctx.stack_lo, (size_t)(f->ctx.stack_hi - f->ctx.stack_lo));
#endif
		copy_in(f->ctx.sp, S.sh[i].stack->data, S.sh[i].stack->len);
		/*
		 * Below the restored stack pointer may lie the frames of the
		 * state that was live: clear them as the transition that made
		 * this state left them, or the next transition's uninitialized
		 * slots would depend on the search's history.
		 */
		scrub_restored(f, prev);
	}
	if (validate_now() && full_hash(s->extra) != s->hash)
		internal_error("restoring the snapshot at log mark %d did not reproduce its fingerprint", (int)s->mark);
}

void sched_snapshot_free(struct snapshot *s)
{
	if (s)
		push_free(&free_snaps, s);
}

static void fiber_name(void (*name)(int, char *, size_t), int i, char *buf, size_t len)
{
	if (name)
		name(i, buf, len);
	else
		snprintf(buf, len, "fiber %d", i);
}

int sched_describe_lock_waits(char *buf, size_t len, void (*name)(int fiber, char *buf, size_t len))
{
	size_t n = strlen(buf);
	int count = 0;

	for (int i = 0; i < S.nr_fibers && n + 1 < len; i++) {
		const struct pending *p = &S.f[i].pend;
		const struct rt_lock *l;
		char who[32], holder[32];

		if (p->kind != PK_LOCK)
			continue;
		l = (const struct rt_lock *)(uintptr_t)p->addr;
		fiber_name(name, i, who, sizeof(who));
		n += (size_t)snprintf(buf + n, len - n, "%s%s waits for %s (%s)", n ? "; " : "", who,
				      l->name ? l->name : "a lock", p->op == LM_EXCL ? "exclusive" : "shared");
		if (l->holder > 0 && n + 1 < len) {
			fiber_name(name, l->holder - 1, holder, sizeof(holder));
			n += (size_t)snprintf(buf + n, len - n, ", held by %s", holder);
		}
		for (int r = 0, first = 1; r < 64 && n + 1 < len; r++)
			if (l->readers & BIT_ULL(r)) {
				fiber_name(name, r, holder, sizeof(holder));
				n += (size_t)snprintf(buf + n, len - n, "%s%s", first ? ", held shared by " : " and ",
						      holder);
				first = 0;
			}
		count++;
	}
	return count;
}
