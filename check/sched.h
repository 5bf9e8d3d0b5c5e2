/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker runtime: the primitive layer (struct rt_ops) on fibers driven
 * by a deterministic scheduler, plus the state store (capture, hash, restore).
 *
 * Every marked access, lock acquisition, wait and nondeterministic choice is a
 * scheduling point: the fiber publishes its pending operation and switches to
 * the scheduler, which later resumes it to perform exactly that operation.  A
 * transition is therefore "perform the pending operation, then run local
 * code up to the next scheduling point".  Unlocks, fences, tracepoints and
 * allocation do not yield (an unlock's effect is only observable through a
 * later scheduling point of another fiber).
 *
 * Model state = the model heap (a bump arena whose allocation pointer lives
 * in its own first bytes, so it is state too) + each live fiber's stack from
 * its saved stack pointer up + each fiber's pending operation.  The store
 * keeps the live state's fingerprint up to date incrementally (a sum of
 * position-keyed 64-byte line hashes for the heap, one term per fiber) and
 * an undo log: a snapshot logs the previous contents of the heap lines that
 * changed since the last one, and the previous stack of each fiber that
 * ran, and is itself just a position in that log.  Which lines changed is
 * known from write tracking (check/track.c) or, without it, by comparing
 * the heap with a shadow copy of it as of the last snapshot.
 */
#ifndef KVMLAB_CHECK_SCHED_H
#define KVMLAB_CHECK_SCHED_H

#include "check/fiber.h"
#include "check/track.h"
#include "kernel/prim.h"

#define CHK_MAX_FIBERS (KVMLAB_MAX_ACTORS - 1)
#define CHK_HARNESS_ACTOR (KVMLAB_MAX_ACTORS - 1)

/*
 * PK_DRAIN (x86-TSO only, appended so the other values stay what the
 * golden state counts hashed): an smp_mb() or a locked unlock with stores
 * in the fiber's store buffer; it drains the buffer when it runs.
 */
enum pend_kind { PK_NONE, PK_ACCESS, PK_LOCK, PK_WAIT, PK_CHOOSE, PK_DONE, PK_DRAIN };

struct pending {
	u8 kind;		/* enum pend_kind */
	u8 op;			/* enum rt_op, enum rt_lock_mode, enum rt_cmp */
	u8 size;
	u8 pad;
	u32 n;			/* PK_CHOOSE: number of alternatives */
	u64 addr;
	u64 a, b;
};

struct chk_fiber {
	struct fiber_ctx ctx;
	struct pending pend;
	u64 result;		/* the choice handed to a resumed PK_CHOOSE */
};

/* A fiber's live stack (from its stack pointer up) as of a snapshot. */
struct sstack {
	u32 len;
	u8 data[];
};

/*
 * A point the live state can be rolled back to: the undo log's length and
 * the fingerprint of the state then.  Snapshots nest: restoring one undoes
 * everything logged after it, so only a snapshot taken on the way to the
 * live state (an ancestor, or the latest) can be restored.
 */
struct snapshot {
	u64 hash;
	u64 extra;
	size_t mark;
};

/*
 * What one transition touched, for the partial-order reduction: its
 * scheduled operation, the non-scheduled loads it observed (hardware walk,
 * ghost checks), ghost writes and lock releases.  Plain accesses are not
 * recorded (the reduction assumes they are race-free).
 */
#define FP_MAX 24
enum fp_kind { FP_READ, FP_WRITE, FP_LOCK_SHARED, FP_LOCK_EXCL };

/* One location a transition touched. */
struct fp_entry {
	u64 addr;
	u8 size;
	u8 kind;	/* enum fp_kind */
	/*
	 * A one-byte access: the bits it reads or changes (test_bit,
	 * set_bit, clear_bit); two such accesses to one byte with
	 * disjoint bits are independent.  0xff otherwise.
	 */
	u8 bits;
};

struct footprint {
	u8 n;
	bool overflow;		/* too many entries: dependent with everything */
	struct fp_entry e[FP_MAX];
};

/*
 * Whether two entries conflict: they overlap, share a bit, and are not two
 * reads or two shared lock acquisitions (which commute).
 */
static inline bool fp_entry_conflict(const struct fp_entry *a, const struct fp_entry *b)
{
	if (!(a->addr < b->addr + b->size && b->addr < a->addr + a->size) || !(a->bits & b->bits))
		return false;
	if (a->kind == FP_READ && b->kind == FP_READ)
		return false;
	return !(a->kind == FP_LOCK_SHARED && b->kind == FP_LOCK_SHARED);
}

bool footprint_independent(const struct footprint *a, const struct footprint *b);

/* A 64-bit finalizer (MurmurHash3's fmix64): fingerprints, table slots, test keys. */
static inline u64 mix64(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/*
 * The reduction's coarser currency: the harness maps every address to one
 * of 64 location classes (struct fields, per-vCPU objects, the rest of the
 * heap); a locmask is the classes read (or taken shared) and written (or
 * taken exclusively).  An actor's future-access summary is a locmask.
 */
struct locmask {
	u64 r, w;
};

static inline bool locmask_conflict(struct locmask a, struct locmask b)
{
	return (a.w & (b.r | b.w)) || (a.r & b.w);
}

/* Whether everything in a is allowed by summary s. */
static inline bool locmask_within(struct locmask a, struct locmask s)
{
	return !(a.r & ~(s.r | s.w)) && !(a.w & ~s.w);
}
void footprint_union(struct footprint *into, const struct footprint *from);
/* *dst = *src, copying only the entries in use. */
void footprint_copy(struct footprint *dst, const struct footprint *src);
/* The footprint of the transition sched_step() last executed. */
const struct footprint *sched_last_footprint(void);

typedef void (*sched_entry_fn)(int fiber, void *arg);

struct sched_finding {
	enum kvm_finding kind;
	int actor;
	char where[96];
	char msg[256];
};

/* Map the heap and install the checker runtime (rt_set). */
int sched_init(size_t heap_size);
void sched_fini(void);
/* Create n fibers running entry(i, arg) and run each to its first scheduling point. */
int sched_start(int n, sched_entry_fn entry, void *arg);
int sched_nr_fibers(void);
/*
 * x86-TSO (kvmlab check --memory-model tso; docs/memory-model.md).  Call
 * between sched_init() and sched_start(): 'store_buffer' > 0 gives every
 * fiber a FIFO store buffer of that many entries (at most SCHED_SB_MAX),
 * 0 keeps sequential consistency (the default).  Under TSO a marked store
 * (WRITE_ONCE, smp_store_release) and the release of a spinlock or of a
 * write-held rwlock (a plain MOV on x86) enter the buffer; a marked load
 * reads the newest buffered store to its bytes, else memory; an atomic
 * read-modify-write, a lock acquisition, smp_mb() and the other unlocks
 * (locked instructions on x86) drain it first; smp_rmb()/smp_wmb() do
 * nothing.  Moving the oldest entry to memory is a transition of its own,
 * of actor nr_fibers + g (sched_nr_actors()), which the search schedules
 * like any other.  A full buffer blocks the next store.
 */
#define SCHED_SB_MAX 8
#define SCHED_SB_DEFAULT 2	/* the litmus tests' need (tests/test_litmus.c) */
int sched_set_tso(unsigned store_buffer);
unsigned sched_store_buffer(void);	/* 0: sequential consistency */
/* What the search schedules: the fibers, then (TSO) one store-buffer flusher per fiber. */
int sched_nr_actors(void);
/*
 * For the reduction's summaries under TSO: what fiber g's buffered entries
 * write when they leave (FP_WRITE, or FP_LOCK_* for a release), and
 * whether an address is in the buffers themselves (private to a fiber and
 * its flusher, which are dependent through them by construction).
 */
void sched_sb_footprint(int g, struct footprint *out);
bool sched_sb_addr(u64 addr);
/*
 * Scheduling granularity: with movers on (the default, set before
 * sched_start), the operation following a lock acquisition joins the
 * acquisition's transition (see schedule_pending() in sched.c).
 */
void sched_set_movers(bool on);
/*
 * Trust write tracking (check/track.c): a chunk no tracked write touched is
 * not compared.  Only for code built with tracking (rt_write_tracking);
 * off by default.  KVMLAB_VALIDATE=1 in the environment makes every
 * snapshot check it (and that a fiber that did not run kept its stack).
 */
void sched_set_tracking(bool on);
/* Whether kvm_stack_hygiene() clears the dead stack (default on; off to measure it). */
void sched_set_hygiene(bool on);
/* Happens-before race detection on the model's plain accesses (check/race.h). */
int sched_enable_races(void);
bool sched_races(void);

bool sched_movers(void);
/*
 * Invisible-step merging: fn(fiber, addr, size, write) is asked at each
 * scheduling point of a marked access; true = no other fiber can observe
 * the access or be affected by it from here on, so it joins the running
 * transition instead of yielding.  NULL (the default) = never.
 */
typedef bool (*sched_invisible_fn)(int fiber, u64 addr, unsigned size, bool write);
void sched_set_invisible(sched_invisible_fn fn);
/* KVMLAB_VALIDATE: the store's shortcuts and the search's determinism are checked. */
bool sched_validating(void);
/*
 * Append to buf (NUL-terminated, len bytes in all) one clause per fiber
 * blocked on a lock: "NAME waits for LOCK (exclusive), held by NAME"; name()
 * names a fiber (NULL: "fiber N").  Returns how many it described.
 */
/* check --verbose: log every primitive operation as an EV_PRIM event (until the next sched_init). */
void sched_set_verbose(bool on);
int sched_describe_lock_waits(char *buf, size_t len, void (*name)(int fiber, char *buf, size_t len));
const struct pending *sched_pending(int fiber);
bool sched_enabled(int fiber);
/* For a fiber waiting to acquire a lock: the fibers whose hold on it keeps it waiting. */
u32 sched_lock_blockers(int fiber);
/*
 * Execute one transition of 'fiber' (with 'choice' for a PK_CHOOSE); an
 * actor from sched_nr_fibers() on moves that fiber's oldest buffered store
 * to memory.
 */
void sched_step(int fiber, u32 choice);

/* Findings raised since the last sched_clear_finding(). */
bool sched_has_finding(void);
const struct sched_finding *sched_finding(void);
void sched_clear_finding(void);

/* The trace of the current execution: events appended by tracepoints. */
size_t sched_log_len(void);
const struct kvm_event *sched_log(void);
void sched_log_truncate(size_t len);
/* Index of the transition each event belongs to (set by the explorer). */
void sched_set_step(u32 step);

/*
 * State store.  A snapshot of the live state ('extra' is hashed with it);
 * restoring it undoes every change since (see struct snapshot); freeing it
 * only returns the struct: the log shrinks when an older one is restored.
 */
struct snapshot *sched_snapshot(u64 extra);
void sched_restore(const struct snapshot *s);
void sched_snapshot_free(struct snapshot *s);
size_t sched_heap_used(void);
const u8 *sched_heap(size_t *cap);	/* the model heap's mapping */
u64 sched_snapshot_bytes(void);	/* bytes held by the undo log */

#endif
