// SPDX-License-Identifier: GPL-2.0
/*
 * Stateful DFS; see check/explore.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/dist.h"
#include "check/explore.h"
#include "check/mem.h"
#include "check/race.h"
#include "model/kvm.h"
#include "model/trace.h"

static const struct witness_info witnesses[NR_WITNESSES] = {
	[WITNESS_CASE_1] = { "case-1",
		"APICv globally on, locally off: the APIC fault goes straight to emulation" },
	[WITNESS_CASE_2A] = { "case-2a",
		"a stale APIC SPTE is installed while APICv is inhibited, then zapped before any vCPU enters the guest" },
	[WITNESS_CASE_2B] = { "case-2b",
		"an APIC fault retries because mmu_invalidate_seq moved (the zap won the race for mmu_lock)" },
	[WITNESS_STALE_SNAPSHOT] = { "stale-snapshot",
		"an APIC fault takes its mmu_seq snapshot after the APIC zap while its vCPU still has APICv on" },
};

const char *explore_verdict_name(enum explore_verdict v)
{
	static const char *const n[] = {
		[VERDICT_VERIFIED] = "verified", [VERDICT_VIOLATION] = "violation",
		[VERDICT_WITNESS_FOUND] = "witness found", [VERDICT_WITNESS_ABSENT] = "no such execution",
		[VERDICT_INCOMPLETE] = "incomplete",
	};
	return (unsigned)v < sizeof(n) / sizeof(n[0]) ? n[v] : "?";
}

const struct witness_info *witness_info(enum witness w)
{
	return (unsigned)w < NR_WITNESSES ? &witnesses[w] : NULL;
}

int witness_parse(const char *name)
{
	for (int i = 0; i < NR_WITNESSES; i++)
		if (!strcmp(witnesses[i].name, name))
			return i;
	return -1;
}

/* Witness automata: state 0 = start, WSTATE_FOUND = accepted. */
#define WSTATE_FOUND 0xff

static u8 witness_step(int w, u8 st, const struct kvm_event *ev)
{
	switch (w) {
	case WITNESS_CASE_1:
		if (ev->type == EV_FAULTIN_APIC && (ev->c & 1) && !(ev->c & 2) && ev->d == RET_PF_EMULATE)
			return WSTATE_FOUND;
		break;
	case WITNESS_CASE_2A:
		if (ev->type == EV_NOTE && ev->a == NOTE_APIC_SPTE_WHILE_INHIBITED)
			return 1;
		if (st == 1 && ev->type == EV_ENTRY)
			return 0;
		if (st == 1 && ev->type == EV_SPTE_ZAP && ev->a == APIC_ACCESS_GFN)
			return WSTATE_FOUND;
		break;
	case WITNESS_CASE_2B:
		if (ev->type == EV_FAULT_STALE && (ev->d & 1) && ev->b != ev->c &&
		    (ev->d >> 16) == APIC_ACCESS_GFN)
			return WSTATE_FOUND;
		break;
	case WITNESS_STALE_SNAPSHOT:
		if (ev->type == EV_NOTE && ev->a == NOTE_SNAPSHOT_AFTER_ZAP)
			return WSTATE_FOUND;
		break;
	}
	return st;
}

/* ---- visited set: open addressing, fingerprint -> smallest depth ---------- */

/*
 * 12 bytes a state.  The depth only serves counterexample shortening and
 * saturates at 65535 (the deepest scenario here is a few hundred steps).
 */
struct vslot {
	u64 key;
	u16 depth;
	u16 sleep : 15;		/* sleep set the state was explored with */
	u16 on_stack : 1;	/* the state is on the DFS stack (cycle proviso) */
} __attribute__((packed));

_Static_assert(CHK_MAX_FIBERS <= 15, "a sleep set is 15 bits in the visited table");

static struct {
	struct vslot *t;
	u64 cap, n;
	u64 limit;	/* --memory-limit in bytes, 0 = none */
	bool full;	/* doubling the table would pass the limit: the search stops */
	bool oom;	/* ... or the allocation to double it failed */
} V;

static u64 vkey(u64 h) { return h ? h : 1; }

static void vgrow(void);

/* Returns the slot for h (existing or empty). */
static struct vslot *vfind(u64 h)
{
	u64 k = vkey(h), i = k & (V.cap - 1);

	while (V.t[i].key && V.t[i].key != k)
		i = (i + 1) & (V.cap - 1);
	return &V.t[i];
}

static void vinsert(struct vslot *s, u64 h, u32 depth, u32 sleep)
{
	if (!s->key) {
		s->key = vkey(h);
		V.n++;
	}
	s->depth = (u16)(depth > 0xffff ? 0xffff : depth);
	s->sleep = sleep & 0x7fff;
	if (V.n * 4 > V.cap * 3 && !V.full) {
		/* Doubling holds the old table and the new one at once. */
		if (V.limit && V.cap * 3 * sizeof(*V.t) + sched_snapshot_bytes() > V.limit)
			V.full = true;	/* checked by the search, which stops within 1024 states */
		else
			vgrow();
	}
}

static void vgrow(void)
{
	struct vslot *old = V.t;
	u64 oldcap = V.cap;

	V.cap = oldcap ? oldcap * 2 : 1 << 16;
	/* Not from the reserve (the table is larger): a full table ends the search instead. */
	V.t = calloc(V.cap, sizeof(*V.t));
	if (!V.t && old) {
		V.t = old;
		V.cap = oldcap;
		V.full = V.oom = true;	/* still room for the states until the search stops */
		return;
	}
	if (!V.t)
		V.t = mem_calloc(V.cap, sizeof(*V.t));
	for (u64 i = 0; i < oldcap; i++)
		if (old[i].key) {
			u64 j = old[i].key & (V.cap - 1);

			while (V.t[j].key)
				j = (j + 1) & (V.cap - 1);
			V.t[j] = old[i];
		}
	free(old);
}

enum claim explore_claim_local(u64 hash, u32 *sleep)
{
	struct vslot *slot = vfind(hash);
	enum claim c = CLAIM_NEW;

	if (slot->key) {
		if (!(slot->sleep & ~*sleep))
			return CLAIM_VISITED;
		*sleep &= slot->sleep;	/* explore again with the smaller sleep set */
		c = CLAIM_AGAIN;
	}
	vinsert(slot, hash, 0, *sleep);
	return c;
}

static void vfree(void)
{
	free(V.t);
	memset(&V, 0, sizeof(V));
}

static void vinit(u64 limit)
{
	V.limit = limit;
	V.full = false;
	vgrow();
}

const struct dist_backend *dist_backend;	/* set by mpi/dist_mpi.c in kvmlab-mpi */
volatile sig_atomic_t explore_stop_signal;

/* ---- DFS -------------------------------------------------------------------- */

struct frame {
	struct snapshot *snap;
	size_t log_len;		/* trace length when this state was reached */
	size_t rmark;		/* the race detector's undo mark for this state */
	int next_pos;		/* position (see fiber_at()) of the next fiber to try */
	int rot;
	u32 next_choice;
	bool any;		/* some transition was enabled */
	u32 sleep;		/* sleep set: fibers whose transition need not be explored */
	u32 done;		/* fibers whose transitions were explored from here */
	bool tried;		/* a transition was executed from here */
	bool ample;		/* a persistent set was found: no further fiber is tried */
	struct footprint fp[CHK_MAX_FIBERS];	/* of the sleeping and done transitions */
	/* Future-access summaries of the fibers in this state (o->fut_summary). */
	u32 live;		/* fibers not done */
	u32 enabled;		/* ... and of those, the ones that can move */
	bool cycle;		/* a transition from here reached a state on the stack */
	struct locmask fut[CHK_MAX_FIBERS];
	struct locmask fut_merge[CHK_MAX_FIBERS];	/* o->fut_summary_merge's, if set */
	struct locmask fpm;	/* the classes of the last fiber's transitions from here */
	/* A disabled fiber waits for a lock held by these fibers, or for a write to this class. */
	u32 blk_lock[CHK_MAX_FIBERS];
	u64 blk_wait[CHK_MAX_FIBERS];
	struct locmask held[CHK_MAX_FIBERS * CHK_MAX_FIBERS];	/* explore_summaries() */
	u8 wstate;
	bool perm;		/* o->swarm_seed: the fibers are tried in the order order[] */
	u8 order[CHK_MAX_FIBERS];
	u64 path_hash;		/* o->swarm_seed: of the seed and the steps that led here */
	struct step in;		/* the transition that led here */
	u8 last;		/* its fiber (NO_FIBER at the root): o->bounded */
	u8 pre;			/* preemptions on the path here: o->bounded */
	/* KVMLAB_VALIDATE: the first transition taken from here and where it led. */
	bool vset;
	struct step vt;
	u64 vhash;
};

void explore_summaries(const struct explore_opts *o, u32 *live, u32 *enabled, struct locmask *fut,
		       u64 *blk_wait, u32 *blk_lock, struct locmask *held)
{
	int nf = sched_nr_actors();

	*live = *enabled = 0;
	for (int g = 0; g < nf; g++) {
		const struct pending *p = sched_pending(g);

		if (p->kind == PK_DONE)
			continue;
		*live |= 1u << g;
		o->fut_summary(g, &fut[g], o->fut_arg);
		if (sched_enabled(g)) {
			*enabled |= 1u << g;
		} else if (p->kind == PK_WAIT) {
			struct footprint one = { .n = 1 };

			one.e[0].addr = p->addr;
			one.e[0].size = p->size;
			one.e[0].kind = FP_READ;
			one.e[0].bits = 0xff;
			blk_wait[g] = o->fp_mask(&one, o->fut_arg).r;
			blk_lock[g] = 0;
		} else {
			blk_wait[g] = 0;
			blk_lock[g] = sched_lock_blockers(g);
		}
	}
	memset(held, 0, (size_t)nf * nf * sizeof(*held));
	if (o->fut_held)
		o->fut_held(*live, held, o->fut_arg);
}

/* The live state's summaries, into f (the state must be f's). */
static void summarize(const struct explore_opts *o, struct frame *f)
{
	f->live = f->enabled = 0;
	f->cycle = false;
	if (o->fut_summary)
		explore_summaries(o, &f->live, &f->enabled, f->fut, f->blk_wait, f->blk_lock, f->held);
	/* Only merging asks the wider summaries: none without it. */
	if (o->fut_summary_merge && o->merge_invisible)
		for (int g = 0; f->live >> g; g++)
			if ((f->live >> g) & 1)
				o->fut_summary_merge(g, &f->fut_merge[g], o->fut_arg);
}

/*
 * The fibers that can move in some run from a state in which g does not:
 * the enabled ones, and, to a fixpoint, a disabled one whose lock some
 * fiber other than g holds, or whose waited-for location one of those may
 * write.  A fiber waiting for a lock g holds, or for a write only g could
 * make, stays where it is while g is held still.
 */
u32 explore_movable_without(u32 live, u32 enabled, const struct locmask *fut, const u64 *blk_wait,
			    const u32 *blk_lock, int g)
{
	u32 act = enabled & ~(1u << g), blocked = live & ~enabled & ~(1u << g);
	bool changed = true;

	while (changed && blocked) {
		u64 w = 0;

		changed = false;
		for (int k = 0; act >> k; k++)
			if ((act >> k) & 1)
				w |= fut[k].w;
		for (int h = 0; blocked >> h; h++) {
			if (!((blocked >> h) & 1))
				continue;
			if (blk_wait[h] ? (blk_wait[h] & w) : !(blk_lock[h] & (1u << g))) {
				act |= 1u << h;
				blocked &= ~(1u << h);
				changed = true;
			}
		}
	}
	return act;
}

static u32 movable_without(const struct frame *f, int g)
{
	return explore_movable_without(f->live, f->enabled, f->fut, f->blk_wait, f->blk_lock, g);
}

/* Whether m conflicts with the summary of a fiber that can move while g does not. */
static bool conflicts_others(const struct frame *f, int g, struct locmask m)
{
	u32 others = movable_without(f, g);
	int nf = sched_nr_actors();

	for (int h = 0; others >> h; h++)
		if ((others >> h) & 1 && locmask_conflict(m, explore_held_summary(f->fut, f->held, nf, g, h)))
			return true;
	return false;
}

/*
 * Invisible-step merging: the summaries of the state whose transition is
 * running (set before each sched_step) answer the scheduler's question.
 */
static struct {
	const struct explore_opts *o;
	const struct locmask *fut;
	u32 live;
} M;

static bool invisible(int fiber, u64 addr, unsigned size, bool write)
{
	struct footprint one = { .n = 1 };
	struct locmask m;
	u32 others = M.live & ~(1u << fiber);

	one.e[0].addr = addr;
	one.e[0].size = (u8)size;
	one.e[0].kind = write ? FP_WRITE : FP_READ;
	one.e[0].bits = 0xff;
	m = M.o->fp_mask(&one, M.o->fut_arg);
	if (!locmask_within(m, M.fut[fiber]))
		return false;	/* not merged: check_summary() reports it */
	for (int h = 0; others >> h; h++)
		if ((others >> h) & 1 && locmask_conflict(m, M.fut[h]))
			return false;
	return true;
}

/* No actor can make progress in the live state: a deadlock, or what the model calls it. */
static void stuck_finding(const struct explore_opts *o, struct sched_finding *out)
{
	char why[sizeof(out->msg) - 32] = "";

	out->actor = -1;
	snprintf(out->where, sizeof(out->where), "every actor blocked or done");
	out->kind = o->explain_stuck ? o->explain_stuck(why, sizeof(why), &out->actor, o->fut_arg) :
				       F_DEADLOCK;
	if (out->kind == F_DEADLOCK)
		sched_describe_lock_waits(why, sizeof(why), o->actor_name);	/* who waits for whom */
	if (out->kind == F_DEADLOCK)
		snprintf(out->msg, sizeof(out->msg), "no actor can make progress%s%s", *why ? ": " : "", why);
	else
		snprintf(out->msg, sizeof(out->msg), "%s", why);
}

static bool all_done(void)
{
	for (int i = 0; i < sched_nr_actors(); i++)
		if (sched_pending(i)->kind != PK_DONE)
			return false;
	return true;
}

/*
 * A state with no transition: a finding when actors are left (stuck), or
 * when all are done and check_final() reports one; false for a terminal
 * state.
 */
static bool end_finding(const struct explore_opts *o, struct sched_finding *out)
{
	char why[sizeof(out->msg)] = "";
	int kind;

	if (!all_done()) {
		stuck_finding(o, out);
		snprintf(out->where, sizeof(out->where), "stuck state");
		return true;
	}
	if (!o->check_final)
		return false;
	kind = o->check_final(why, sizeof(why), &out->actor, o->fut_arg);
	if (kind == F_NONE)
		return false;
	out->kind = kind;
	snprintf(out->msg, sizeof(out->msg), "%s", why);
	snprintf(out->where, sizeof(out->where), "final state");
	return true;
}

/* Execute fiber's transition from f's (live) state. */
static void step_from(const struct frame *f, int fiber, u32 choice)
{
	M.fut = M.o && M.o->fut_summary_merge && M.o->merge_invisible ? f->fut_merge : f->fut;
	M.live = f->live;
	if (M.o && M.o->before_step)
		M.o->before_step(M.o->fut_arg);
	sched_step(fiber, choice);
}

static void merging(const struct explore_opts *o, bool on)
{
	M.o = o;
	sched_set_invisible(on && o->merge_invisible && o->fut_summary ? invisible : NULL);
}

/* Every transition stays within its fiber's summary, or the reduction is unsound. */
static void check_summary(const struct explore_opts *o, const struct frame *f, int g,
			  const struct footprint *fp, struct locmask m)
{
	struct locmask s = f->fut[g];
	u64 bad = (m.r & ~(s.r | s.w)) | (m.w & ~s.w);
	char buf[96];

	if (!bad || fp->overflow)
		return;	/* an overflowed footprint conflicts with everything anyway */
	fprintf(stderr, "kvmlab check: internal error: actor %d %s %s, which its future-access summary "
			"rules out; rerun with --no-persistent --no-merge and report this\n", g,
		(m.w & ~s.w) ? "wrote" : "read", o->class_name(__builtin_ctzll(bad), buf, sizeof(buf), o->fut_arg));
	abort();
}

/*
 * KVMLAB_VALIDATE: the narrowings of o->fut_held hold on the path.  For each
 * state on the DFS stack from which fiber g has not moved since, fiber h's
 * transition (classes m) must stay out of what fut_held(h, g) removed there.
 */
static void check_held(const struct explore_opts *o, const struct frame *stack, size_t depth, int h,
		       const struct footprint *fp, struct locmask m)
{
	int nf = sched_nr_actors();
	u32 moved = 1u << h;
	char buf[96];

	if (fp->overflow)
		return;
	for (size_t k = depth + 1; k-- > 0;) {
		for (int g = 0; g < nf; g++) {
			struct locmask d = stack[k].held[g * nf + h];
			u64 bad = ((m.r | m.w) & d.r) | (m.w & d.w);

			if ((moved >> g) & 1 || !bad)
				continue;
			fprintf(stderr, "kvmlab check: internal error: actor %d %s %s, which its summary "
					"leaves out while actor %d is held still (%zu steps back); rerun with "
					"--no-persistent and report this\n", h, (m.w & (d.r | d.w)) ? "wrote" : "read",
				o->class_name(__builtin_ctzll(bad), buf, sizeof(buf), o->fut_arg), g, depth - k);
			abort();
		}
		if (k)
			moved |= 1u << stack[k].in.fiber;
		if (moved == (1u << nf) - 1)
			return;
	}
}

/*
 * KVMLAB_VALIDATE: leaving a state, execute its first transition again from
 * the restored state; it must reach the same fingerprint as it did before
 * the search went through the subtrees (a state that did not capture
 * something, or a history the restore did not undo, shows up here).
 */
/* Make f's state the live one: the model's memory and the race detector's clocks. */
static void restore_frame(const struct frame *f)
{
	sched_restore(f->snap);
	race_undo(f->rmark);
}

static void validate_redo(struct frame *f)
{
	struct snapshot *s;

	restore_frame(f);
	sched_log_truncate(f->log_len);
	sched_clear_finding();	/* as when it ran first: a finding ends merging */
	step_from(f, f->vt.fiber, f->vt.choice);
	s = sched_snapshot(f->wstate);
	if (s->hash != f->vhash) {
		fprintf(stderr, "kvmlab check: internal error: actor %d's transition from a restored state reached "
				"%016llx, not %016llx as it did the first time\n", f->vt.fiber,
			(unsigned long long)s->hash, (unsigned long long)f->vhash);
		abort();
	}
	sched_snapshot_free(s);
	restore_frame(f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A frame tries the fibers in the order rot, rot + 1, ... (mod their
 * number): rot is 0 except in the first DIST_ROT_DEPTH levels of a
 * distributed search, where each process uses its rank, so that the
 * processes start in different parts of the graph; below, they share one
 * order, so the same state gets the same sleep sets from either.  Measured
 * on 2 processes (2 vCPUs, 2 toggles): rotating at every level costs 1.5x
 * the transitions of one process (the sleep sets disagree), rotating at the
 * initial state only leaves one process 0.4 % of the states, and 8 levels
 * split them 49/51 with 1 % more transitions than one process.
 */
#define DIST_ROT_DEPTH 8
static int fiber_at(const struct frame *f, int pos)
{
	int n = sched_nr_actors();

	return f->perm ? f->order[pos] : (pos + f->rot) % n;
}

static int pos_of(const struct frame *f, int fiber)
{
	int n = sched_nr_actors();

	if (f->perm) {
		for (int i = 0; i < n; i++)
			if (f->order[i] == fiber)
				return i;
	}
	return (fiber - f->rot % n + n) % n;
}

#define NO_FIBER 0xff

/* Whether running fiber g from f's (live) state switches away from one that could go on. */
static bool preempts(const struct frame *f, int g)
{
	return f->last != NO_FIBER && g != f->last && sched_enabled(f->last);
}

/* The next enabled transition of the (live) state of f, or false. */
static bool next_transition(const struct explore_opts *o, struct frame *f, struct step *t)
{
	int n = sched_nr_actors();

	for (; f->next_pos < n; f->next_pos++, f->next_choice = 0) {
		int g = fiber_at(f, f->next_pos);
		const struct pending *p = sched_pending(g);

		if (!sched_enabled(g))
			continue;
		f->any = true;
		if (f->sleep & (1u << g))
			continue;
		if (p->kind == PK_CHOOSE && f->next_choice >= p->n)
			continue;
		if (o->bounded && f->pre >= o->preemptions && preempts(f, g))
			continue;	/* over the preemption bound */
		t->fiber = (u8)g;
		t->choice = (u8)f->next_choice;
		if (p->kind == PK_CHOOSE && f->next_choice + 1 < p->n) {
			f->next_choice++;
		} else {
			f->next_pos++;
			f->next_choice = 0;
		}
		return true;
	}
	return false;
}

/*
 * The sleep set of the child reached from f by the transition of 'fa' whose
 * footprint is 'fp': the sleeping and already explored transitions of other
 * fibers that commute with it (by footprint; plain accesses are assumed
 * race-free), with their footprints.
 */
static u32 child_sleep(const struct frame *f, int fa, const struct footprint *fp, struct frame *child)
{
	u32 cand = (f->sleep | f->done) & ~(1u << fa), out = 0;

	for (int g = 0; cand >> g; g++)
		if ((cand >> g) & 1 && footprint_independent(fp, &f->fp[g])) {
			out |= 1u << g;
			footprint_copy(&child->fp[g], &f->fp[g]);
		}
	return out;
}

static u64 mix_digest(u64 x);

/*
 * A swarm member's fiber order at a state (o->swarm_seed): a permutation
 * (Fisher-Yates) drawn from f->path_hash, a hash of the member's seed and
 * the steps that led to the state.  Not from the state's fingerprint:
 * fingerprints cover return addresses, so any change to the binary would
 * change every member's orders; a path's steps do not depend on the build.
 */
static void swarm_order(struct frame *f)
{
	int n = sched_nr_actors();
	u64 x = f->path_hash;

	for (int i = 0; i < n; i++)
		f->order[i] = (u8)i;
	for (int i = n - 1; i > 0; i--) {
		int j;
		u8 t;

		x = mix_digest(x + 0x9e3779b97f4a7c15ull);
		j = (int)(x % (u64)(i + 1));
		t = f->order[i];
		f->order[i] = f->order[j];
		f->order[j] = t;
	}
	f->perm = true;
}

/*
 * A swarm member's visited set (o->bitstate_log2): 2^log2 bits, three set
 * per state (double hashing from the fingerprint mixed with the member's
 * seed, so that members lose different states to the array's collisions).
 */
static struct {
	u64 *bits;
	u64 mask;	/* the number of bits - 1 */
	u64 seed;
	u64 bytes;
} BS;

static void bits_init(u32 log2, u64 seed)
{
	u64 words = (1ull << log2) / 64 ? (1ull << log2) / 64 : 1;

	BS.bytes = words * sizeof(u64);
	BS.bits = mem_calloc(words, sizeof(u64));
	BS.mask = (1ull << log2) - 1;
	BS.seed = mix_digest(seed + 0x6a09e667f3bcc909ull);
}

static void bits_free(void)
{
	free(BS.bits);
	memset(&BS, 0, sizeof(BS));
}

/* Sets the state's three bits; whether all three were set already (taken as visited). */
static bool bits_test_set(u64 h)
{
	u64 a = mix_digest(h ^ BS.seed), b = mix_digest(a + 0x9e3779b97f4a7c15ull) | 1;
	bool seen = true;

	for (int i = 0; i < 3; i++) {
		u64 pos = (a + (u64)i * b) & BS.mask, m = 1ull << (pos & 63);

		seen &= (BS.bits[pos >> 6] & m) != 0;
		BS.bits[pos >> 6] |= m;
	}
	return seen;
}

static u64 mix_digest(u64 x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	return x;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Terminal fingerprints seen, for terminal_distinct/terminal_digest. */
static struct {
	u64 *h;
	size_t n, cap;
} T;

static void terminal_add(u64 h)
{
	if (T.n == T.cap) {
		size_t cap = T.cap ? T.cap * 2 : 64;
		u64 *n = mem_realloc(T.h, cap * sizeof(*n));

		T.h = n;
		T.cap = cap;
	}
	T.h[T.n++] = h;
}

size_t explore_terminal_digest(u64 *h, size_t n, u64 *digest)
{
	size_t d = 0;

	*digest = 0;
	if (n)
		qsort(h, n, sizeof(*h), cmp_u64);
	for (size_t i = 0; i < n; i++)
		if (!i || h[i] != h[i - 1]) {
			h[d++] = h[i];
			*digest += mix_digest(h[i]);
		}
	return d;
}

/* The terminal states move into r, distinct and sorted. */
static void terminal_digest(struct explore_result *r)
{
	r->terminal_distinct = explore_terminal_digest(T.h, T.n, &r->terminal_digest);
	r->terminals = T.h;
	memset(&T, 0, sizeof(T));
}

static void record(struct explore_result *r, struct frame *stack, u32 depth, const struct step *last,
		   const struct sched_finding *f)
{
	u32 n = depth + (last ? 1 : 0);

	free(r->path);
	free(r->events);
	r->path = mem_malloc(sizeof(*r->path) * (n + 1));
	r->path_len = n;
	for (u32 i = 1; i <= depth; i++)
		r->path[i - 1] = stack[i].in;
	if (last)
		r->path[n - 1] = *last;
	r->nr_events = sched_log_len();
	r->events = mem_malloc(sizeof(*r->events) * (r->nr_events + 1));
	if (r->nr_events)
		memcpy(r->events, sched_log(), sizeof(*r->events) * r->nr_events);
	if (f)
		r->finding = *f;
}

/*
 * Where the search is.  No ETA: how many states remain is not known until
 * they are explored (the DFS's position in the fiber order says nothing
 * reliable about it), and the first line says so.
 */
static void progress(const struct explore_opts *o, const struct explore_result *r, double t0, u32 depth,
		     bool first)
{
	double el = now() - t0;

	if (first)
		fprintf(stderr, "progress (no ETA: the number of states left is not known until they are explored)\n");
	fprintf(stderr, "%s%llu states, %llu transitions, %.0f/s, depth %u, %.1f MiB, %.0f s%s",
		o->progress == PROGRESS_TERMINAL ? "\r" : "", (unsigned long long)r->states,
		(unsigned long long)r->transitions, el > 0 ? r->transitions / el : 0.0, depth,
		(V.cap * sizeof(struct vslot) + sched_snapshot_bytes()) / 1048576.0, el,
		o->progress == PROGRESS_TERMINAL ? "   " : "\n");
}

/* The first violation: the shortening budget starts now. */
static void shorten_start(const struct explore_opts *o, const struct explore_result *r,
			  double *deadline, u64 *end)
{
	*deadline = now() + o->shorten_seconds;
	*end = o->shorten_transitions > ~0ull - r->transitions ? ~0ull :
	       r->transitions + o->shorten_transitions;
}

/* A signal or exhausted memory ends the search: say so in r->incomplete. */
static void stop_early(struct explore_result *r, bool found)
{
	int sig = explore_stop_signal;

	if (sig)
		snprintf(r->incomplete, sizeof(r->incomplete), "interrupted by %s%s",
			 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal",
			 found ? " while shortening the counterexample" : "");
	else
		snprintf(r->incomplete, sizeof(r->incomplete),
			 "out of memory: an allocation failed%s (--memory-limit bounds the search below that)",
			 found ? " while shortening the counterexample" : "");
}

static bool same_finding(const struct sched_finding *a, const struct sched_finding *b)
{
	return a->kind == b->kind && a->actor == b->actor && !strcmp(a->where, b->where);
}

/*
 * Run path[0..n) from the initial state (root, with the race detector's
 * mark and the trace length then), then, if no finding yet, up to 'extra'
 * more steps of the last step's actor; the number of steps at which a
 * finding like 'want' is raised (by the last one, none before), else 0.
 * The steps taken are left in path (room for n + extra).
 */
static u32 replay_finds(const struct explore_opts *o, const struct snapshot *root, size_t rmark, size_t log0,
			struct step *path, u32 n, u32 extra, const struct sched_finding *want,
			struct frame *scratch)
{
	sched_restore(root);
	race_undo(rmark);
	sched_log_truncate(log0);
	for (u32 i = 0; i < n + extra; i++) {
		const struct pending *p;

		if (i >= n) {
			path[i] = path[n - 1];
			path[i].choice = 0;
		}
		if (path[i].fiber >= sched_nr_actors() || !sched_enabled(path[i].fiber))
			return 0;
		p = sched_pending(path[i].fiber);
		if (p->kind == PK_CHOOSE ? path[i].choice >= p->n : path[i].choice != 0)
			return 0;
		sched_clear_finding();
		sched_set_step(i);
		summarize(o, scratch);
		step_from(scratch, path[i].fiber, path[i].choice);
		if (sched_has_finding())
			return i >= n - 1 && same_finding(sched_finding(), want) ? i + 1 : 0;
	}
	return 0;
}

/* Steps the trimmed schedule may add, running the finding's actor further. */
#define TRIM_EXTRA 64

/*
 * Trim the counterexample in r: drop, from the end back, each step without
 * which the same finding is still raised (by the last step's actor, which
 * may then run a few more steps of its own), when that leaves fewer events
 * to read; replayed from the initial state every time.  The reduced search
 * chooses one order of independent steps, and a step it scheduled first
 * can be one the finding does not need (with merging, a vCPU's whole
 * remaining run).  What is left is replayed once more for the timeline.
 */
static void trim(const struct explore_opts *o, struct explore_result *r, const struct snapshot *root,
		 size_t rmark, size_t log0)
{
	struct frame *scratch = mem_calloc(1, sizeof(*scratch));
	u32 cap = r->path_len + TRIM_EXTRA + 1;
	struct step *p = mem_malloc(sizeof(*p) * cap);
	struct step *c = mem_malloc(sizeof(*c) * cap);
	struct sched_finding want = r->finding;
	u32 n = r->path_len, m;
	size_t events = r->nr_events;
	bool changed = false;

	memcpy(p, r->path, sizeof(*p) * n);
	for (int i = (int)n - 2; i >= 0; i--) {
		if ((u32)i >= n - 1)
			continue;
		memcpy(c, p, sizeof(*c) * i);
		memcpy(c + i, p + i + 1, sizeof(*c) * (n - i - 1));
		m = replay_finds(o, root, rmark, log0, c, n - 1, TRIM_EXTRA, &want, scratch);
		if (m && sched_log_len() - log0 < events) {
			memcpy(p, c, sizeof(*p) * m);
			n = m;
			events = sched_log_len() - log0;
			changed = true;
			if (n + TRIM_EXTRA + 1 > cap) {
				cap = 2 * (n + TRIM_EXTRA + 1);
				p = mem_realloc(p, sizeof(*p) * cap);
				c = mem_realloc(c, sizeof(*c) * cap);
			}
		}
	}
	if (changed && replay_finds(o, root, rmark, log0, p, n, 0, &want, scratch) == n) {
		r->untrimmed_len = r->path_len;
		r->path_len = n;
		free(r->path);
		r->path = mem_malloc(sizeof(*r->path) * (n + 1));
		memcpy(r->path, p, sizeof(*p) * n);
		r->finding = *sched_finding();
		free(r->events);
		r->nr_events = sched_log_len();
		r->events = mem_malloc(sizeof(*r->events) * (r->nr_events + 1));
		if (r->nr_events)
			memcpy(r->events, sched_log(), sizeof(*r->events) * r->nr_events);
	}
	free(c);
	free(p);
	free(scratch);
}

/*
 * The search's memory: the visited table and the undo log here, or, with a
 * shared table (check/jobs.c), that table and every process's undo log;
 * *why is set when the shared table cannot grow.
 */
static u64 memory_now(const struct explore_dist *D, const struct explore_result *r, const char **why)
{
	*why = NULL;
	if (D && D->publish)
		return D->publish(r, sched_snapshot_bytes(), why);
	return V.cap * sizeof(struct vslot) + BS.bytes + sched_snapshot_bytes();
}

/*
 * Work sharing: an idle process asks for work; hand it the shallowest frame
 * below the top that has transitions left (the largest part of the search
 * as far as a DFS can tell), which this process then leaves alone.  The
 * receiver explores the rest of the frame as this process would have: the
 * same sleep set, done set and footprints, the same fiber order.
 */
static void offer_work(const struct explore_dist *D, struct frame *stack, u32 base, u32 depth)
{
	int n = sched_nr_actors();

	for (u32 i = base; i < depth; i++) {
		struct frame *f = &stack[i];
		struct explore_work *w;
		bool left = false;

		for (int p = f->next_pos; p < n && !left; p++)
			left = !(f->sleep & (1u << fiber_at(f, p)));
		if (!left)
			continue;
		w = mem_malloc(sizeof(*w) + i * sizeof(w->path[0]));
		w->hash = f->snap->hash;
		w->depth = i;
		w->sleep = f->sleep;
		w->done = f->done;
		w->next_pos = f->next_pos;
		w->next_choice = f->next_choice;
		w->rot = f->rot;
		w->wstate = f->wstate;
		for (int g = 0; g < n; g++)
			footprint_copy(&w->fp[g], &f->fp[g]);
		for (u32 k = 1; k <= i; k++)
			w->path[k - 1] = stack[k].in;
		if (D->offer(w)) {
			f->next_pos = n;
			f->next_choice = 0;
		}
		free(w);
		return;
	}
}

static void internal_error(const char *what, u32 step)
{
	fprintf(stderr, "kvmlab check: internal error: replaying a frame another process handed over: %s "
			"(step %u)\n", what, step);
	abort();
}

/*
 * Work sharing: make w the base frame of this process's search.  Its state
 * is reached again by replaying w's path from the initial state (stack[0]),
 * which must give the fingerprint the other process saw.  Frames between
 * hold only the path (for a counterexample) and their states' summaries
 * (for check_held()); the search never returns below the base.
 */
static struct frame *start_work(const struct explore_opts *o, struct frame *stack, u32 *cap,
				const struct explore_work *w)
{
	u32 d = w->depth;
	struct frame *f;

	while (d + 1 >= *cap) {
		*cap *= 2;
		stack = mem_realloc(stack, *cap * sizeof(*stack));
	}
	restore_frame(&stack[0]);
	sched_log_truncate(stack[0].log_len);
	for (u32 i = 0; i < d; i++) {
		const struct step *t = &w->path[i];
		const struct pending *p;

		if (t->fiber >= sched_nr_actors() || !sched_enabled(t->fiber))
			internal_error("a step is not enabled", i);
		p = sched_pending(t->fiber);
		if (p->kind == PK_CHOOSE ? t->choice >= p->n : t->choice != 0)
			internal_error("a choice is out of range", i);
		sched_clear_finding();
		sched_set_step(i);
		summarize(o, &stack[i]);	/* state i's summaries (KVMLAB_VALIDATE: check_held()) */
		step_from(&stack[i], t->fiber, t->choice);
		if (sched_has_finding())
			internal_error("a finding on the way", i);
		stack[i + 1].in = *t;
		stack[i + 1].snap = NULL;
	}
	f = &stack[d];
	f->snap = sched_snapshot(w->wstate);
	if (f->snap->hash != w->hash)
		internal_error("the state's fingerprint differs", d);
	f->log_len = sched_log_len();
	f->rmark = race_mark();
	f->wstate = w->wstate;
	f->sleep = w->sleep;
	f->done = w->done;
	f->next_pos = w->next_pos;
	f->next_choice = w->next_choice;
	f->rot = w->rot;
	f->any = f->tried = true;	/* a transition was taken from here */
	f->ample = false;
	f->vset = false;
	for (int g = 0; g < sched_nr_actors(); g++)
		footprint_copy(&f->fp[g], &w->fp[g]);
	summarize(o, f);
	/*
	 * No persistent set here: the other process explored some of this
	 * state's transitions, and their classes did not come along.
	 */
	f->cycle = true;
	f->last = NO_FIBER;
	return stack;
}

/*
 * A transition from f reached a state that may be on a DFS stack: no
 * persistent set at f any more (cycle proviso: a reduced expansion must not
 * close a cycle); one already taken is undone, the fibers after 'fiber' tried.
 */
static void closes_cycle(struct frame *f, int fiber, struct explore_result *r)
{
	f->cycle = true;
	if (f->ample) {
		f->ample = false;
		f->next_pos = pos_of(f, fiber) + 1;
		r->ample--;
	}
}

int explore_run(const struct explore_opts *o, struct explore_result *r)
{

	u32 cap = 1024, depth = 0, bound = ~0u, base = 0;
	struct frame *stack = mem_calloc(cap, sizeof(*stack));
	const struct snapshot *live;
	bool found = false, stop = false;
	double t0 = now(), last_progress = t0;
	bool progressed = false;
	u64 ticks = 0;
	double shorten_deadline = 0;
	u64 shorten_end = 0;	/* r->transitions at which shortening stops */
	bool shorten_cut = false;
	const struct explore_dist *D = o->dist;
	bool bitstate = o->bitstate_log2 && !D;
	bool first_only = o->first_only || D || o->bounded || bitstate;

	struct snapshot *root;
	size_t root_rmark, root_log;

	memset(r, 0, sizeof(*r));
	mem_reset();
	root = sched_snapshot(0);	/* for trim(): outlives the search's own snapshots */
	root_rmark = race_mark();
	root_log = sched_log_len();
	stack[0].rot = D ? D->rank : 0;
	stack[0].last = NO_FIBER;
	if (bitstate)
		bits_init(o->bitstate_log2, o->swarm_seed);
	else if (!D || !D->shared_table)
		vinit(o->memory_limit);
	stack[0].snap = sched_snapshot(0);
	stack[0].log_len = sched_log_len();
	stack[0].rmark = race_mark();
	stack[0].perm = false;
	if (o->swarm_seed && !D) {
		stack[0].path_hash = mix_digest(o->swarm_seed);
		swarm_order(&stack[0]);
	}
	summarize(o, &stack[0]);
	merging(o, true);
	live = stack[0].snap;
	if (bitstate) {
		bits_test_set(stack[0].snap->hash);
	} else if (!D) {
		vinsert(vfind(stack[0].snap->hash), stack[0].snap->hash, 0, 0);
		vfind(stack[0].snap->hash)->on_stack = 1;
	}
	if (D && D->shared_table) {
		u32 all = 0;	/* explored with no sleep set: every process starts from it */

		r->states = D->claim(stack[0].snap->hash, &all) == CLAIM_NEW;
	} else {
		r->states = !D || D->rank == 0;	/* every process starts from it; one counts it */
	}
	if (sched_has_finding() && o->witness == WITNESS_NONE) {
		/* Raised by the fibers' code before their first scheduling point. */
		record(r, stack, 0, NULL, sched_finding());
		found = stop = true;
	}

	while (!stop) {
		struct frame *f = &stack[depth];
		struct snapshot *child;
		struct vslot *slot;
		struct step t;
		u32 csleep;
		u8 ws, cpre;
		bool seen;	/* the child was explored before: nothing to do */

		if (D && D->hungry && !(r->transitions & 63) && D->hungry())
			offer_work(D, stack, base, depth);
		if (live != f->snap) {
			restore_frame(f);
			live = f->snap;
		}
		sched_log_truncate(f->log_len);
		if (!next_transition(o, f, &t)) {
			struct sched_finding dl = { .actor = -1 };

			if (f->vset)
				validate_redo(f);
			if (!f->any && depth <= bound && end_finding(o, &dl)) {
				record(r, stack, depth, NULL, &dl);
				if (!found)
					shorten_start(o, r, &shorten_deadline, &shorten_end);
				found = true;
				bound = depth ? depth - 1 : 0;
				if (first_only || o->witness != WITNESS_NONE)
					break;
			} else if (!f->any) {
				r->terminal++;
				terminal_add(f->snap->hash);
				if (o->on_terminal)
					o->on_terminal(f->snap->hash, o->terminal_arg);
			}
			if (!D && !bitstate)
				vfind(f->snap->hash)->on_stack = 0;
			if (depth) {	/* the initial state's stays: work taken starts from it */
				sched_snapshot_free(f->snap);
				f->snap = NULL;
			}
			if (depth == base) {
				struct explore_work *w = D && D->take ? D->take() : NULL;

				if (!w) {
					if (D && D->take && D->poll()) {
						snprintf(r->incomplete, sizeof(r->incomplete),
							 "another process ended the search early");
						r->stopped_by_peer = true;
						stop = true;
					}
					break;
				}
				stack = start_work(o, stack, &cap, w);
				depth = base = w->depth;
				free(w);
				live = stack[depth].snap;
				if (depth > r->max_depth)
					r->max_depth = depth;
				continue;
			}
			depth--;
			continue;
		}
		f->tried = true;
		cpre = f->pre + (o->bounded && preempts(f, t.fiber));	/* before the step: in f's state */
		sched_clear_finding();
		sched_set_step(depth);
		step_from(f, t.fiber, t.choice);
		r->transitions++;
		live = NULL;
		if (explore_stop_signal || mem_exhausted()) {
			stop_early(r, found);
			stop = true;
			break;
		}
		if (found && r->transitions >= shorten_end) {
			shorten_cut = true;
			r->shorten_stop = "--shorten-transitions";
			break;	/* shortening budget spent: report the best so far */
		}
		if (D && D->poll()) {
			snprintf(r->incomplete, sizeof(r->incomplete),
				 "another process ended the search early");
			r->stopped_by_peer = true;
			stop = true;
			break;
		}

		if (depth + 1 >= cap) {
			cap *= 2;
			stack = mem_realloc(stack, cap * sizeof(*stack));
			f = &stack[depth];
		}
		csleep = 0;
		if (o->por) {
			const struct footprint *fp = sched_last_footprint();

			csleep = child_sleep(f, t.fiber, fp, &stack[depth + 1]);
			if (t.choice == 0)
				footprint_copy(&f->fp[t.fiber], fp);
			else
				footprint_union(&f->fp[t.fiber], fp);
		}
		if (f->next_pos > pos_of(f, t.fiber))	/* all of this fiber's choices are taken */
			f->done |= 1u << t.fiber;
		if (o->fut_summary) {
			struct locmask m = o->fp_mask(sched_last_footprint(), o->fut_arg);

			check_summary(o, f, t.fiber, sched_last_footprint(), m);
			if (o->fut_held && sched_validating())
				check_held(o, stack, depth, t.fiber, sched_last_footprint(), m);
			if (t.choice) {	/* a choice's transitions together */
				f->fpm.r |= m.r;
				f->fpm.w |= m.w;
			} else {
				f->fpm = m;
			}
		}
		/*
		 * Persistent sets: once all of this fiber's transitions from here
		 * are explored (every choice of a PK_CHOOSE), if together they
		 * conflict with no other live fiber's future, they form a
		 * persistent set and the remaining fibers need not be tried.
		 * Any fiber can be the seed: the ones tried before it only add
		 * transitions (a superset of a persistent set is explored).
		 */
		if (o->persistent && o->por && o->fut_summary && !f->cycle && !f->ample &&
		    (f->done >> t.fiber & 1) && !conflicts_others(f, t.fiber, f->fpm)) {
			r->ample++;
			f->ample = true;
			f->next_pos = sched_nr_actors();	/* nothing else from here */
		}

		ws = f->wstate;
		if (o->witness != WITNESS_NONE)
			for (size_t i = f->log_len; i < sched_log_len() && ws != WSTATE_FOUND; i++)
				ws = witness_step(o->witness, ws, &sched_log()[i]);
		if (o->witness != WITNESS_NONE && ws == WSTATE_FOUND) {
			record(r, stack, depth, &t, NULL);
			found = true;
			break;
		}
		if (sched_has_finding() && o->witness == WITNESS_NONE) {
			if (depth + 1 <= bound) {
				record(r, stack, depth, &t, sched_finding());
				if (!found)
					shorten_start(o, r, &shorten_deadline, &shorten_end);
				found = true;
				bound = depth;	/* look for strictly shorter ones */
			}
			if (first_only)
				break;
			continue;	/* the path ends at a finding */
		}
		/* A state at depth k only leads to counterexamples of k + 1 steps or more. */
		if (found && depth + 2 > bound)
			continue;

		child = sched_snapshot(ws);
		live = child;
		if (!f->vset && sched_validating()) {
			f->vset = true;
			f->vt = t;
			f->vhash = child->hash;
		}
		if (D) {
			enum claim c = D->claim(child->hash, &csleep);

			/*
			 * Cycle proviso, conservatively: a state visited before may
			 * be on some process's DFS stack.
			 */
			if (c != CLAIM_NEW)
				closes_cycle(f, t.fiber, r);
			seen = c == CLAIM_VISITED;
			r->states += c == CLAIM_NEW;
		} else if (bitstate) {
			/* The bits cannot say whether the state is on the stack: any revisit may close a cycle. */
			seen = bits_test_set(child->hash);
			if (seen)
				closes_cycle(f, t.fiber, r);
			else
				r->states++;
		} else if (o->bounded) {
			/*
			 * A state is the model's state and the fiber that ran last
			 * (it decides what a preemption is); one reached before with
			 * no more preemptions covers this visit.
			 */
			u64 key = child->hash ^ mix_digest(t.fiber + 1);

			slot = vfind(key);
			seen = slot->key && slot->depth <= cpre;
			if (!seen) {
				r->states += !slot->key;
				vinsert(slot, key, cpre, 0);
			}
		} else {
			slot = vfind(child->hash);
			if (slot->key && slot->on_stack)
				closes_cycle(f, t.fiber, r);
			seen = slot->key && (!found || slot->depth <= depth + 1) && !(slot->sleep & ~csleep);
			if (!seen) {
				if (!slot->key)
					r->states++;
				else
					csleep &= slot->sleep;	/* explore again with the smaller sleep set */
				vinsert(slot, child->hash, depth + 1, csleep);
				vfind(child->hash)->on_stack = 1;	/* vinsert may have moved the slot */
			}
		}
		if (seen) {
			r->revisits++;
			sched_snapshot_free(child);
			live = NULL;
			continue;
		}
		depth++;
		if (depth > r->max_depth)
			r->max_depth = depth;
		{
			struct frame *c = &stack[depth];

			c->snap = child;
			c->log_len = sched_log_len();
			c->rmark = race_mark();
			c->wstate = ws;
			c->in = t;
			c->last = t.fiber;
			c->pre = cpre;
			c->sleep = csleep;
			c->next_pos = 0;
			c->rot = depth < DIST_ROT_DEPTH ? f->rot : 0;
			c->perm = false;
			if (o->swarm_seed && !D) {
				c->path_hash = mix_digest(f->path_hash ^ ((u64)t.fiber << 8 | t.choice));
				swarm_order(c);
			}
			c->next_choice = 0;
			c->any = false;
			c->done = 0;
			c->tried = false;
			c->ample = false;
			c->vset = false;
			summarize(o, c);	/* the child's state is the live one */
		}

		/*
		 * --max-states is exact: checked at every new state (with a shared
		 * table, against every process's, so the others may add a state each
		 * before they see the stop).
		 */
		if (o->max_states && (D && D->total_states ? D->total_states() : r->states) >= o->max_states)
			snprintf(r->incomplete, sizeof(r->incomplete), "--max-states %llu reached",
				 (unsigned long long)o->max_states);
		if ((++ticks & 1023) == 0) {
			double el = now();
			const char *full;
			u64 mem = memory_now(D, r, &full);

			if (mem > r->peak_bytes)
				r->peak_bytes = mem;
			if (o->progress && el - last_progress >= (o->progress == PROGRESS_TERMINAL ? 0.5 : 10)) {
				progress(o, r, t0, depth, !progressed);
				progressed = true;
				last_progress = el;
			}
			if (found && o->shorten_seconds && el >= shorten_deadline) {
				shorten_cut = true;
				r->shorten_stop = "--shorten-seconds";
				break;	/* the wall-clock budget asked for is spent: report the best so far */
			}
			if (r->incomplete[0])
				;	/* --max-states, above */
			else if (o->time_limit && el - t0 >= o->time_limit)
				snprintf(r->incomplete, sizeof(r->incomplete), "--time-limit %.0fs reached",
					 o->time_limit);
			else if (o->memory_limit && mem >= o->memory_limit)
				snprintf(r->incomplete, sizeof(r->incomplete), "--memory-limit %llu MiB reached",
					 (unsigned long long)(o->memory_limit >> 20));
			else if (full)
				snprintf(r->incomplete, sizeof(r->incomplete), "%s", full);
			else if (o->cancelled && o->cancelled(o->cancel_arg))
				snprintf(r->incomplete, sizeof(r->incomplete), "cancelled");
			else if (V.oom)
				snprintf(r->incomplete, sizeof(r->incomplete),
					 "out of memory: the visited table of %llu MiB could not double "
					 "(--memory-limit bounds the search below that)",
					 (unsigned long long)(V.cap * sizeof(*V.t) >> 20));
			else if (V.full)
				snprintf(r->incomplete, sizeof(r->incomplete),
					 "--memory-limit %llu MiB reached (the visited table of %llu MiB cannot double)",
					 (unsigned long long)(o->memory_limit >> 20),
					 (unsigned long long)(V.cap * sizeof(*V.t) >> 20));
		}
		if (r->incomplete[0]) {
			u64 frontier = 0;

			for (u32 i = 0; i <= depth; i++)
				frontier += stack[i].next_pos < sched_nr_actors();
			snprintf(r->incomplete + strlen(r->incomplete),
				 sizeof(r->incomplete) - strlen(r->incomplete),
				 ": %u open DFS frames (%llu with unexplored transitions) not covered",
				 depth + 1, (unsigned long long)frontier);
			stop = true;
		}
	}
	if (found && !stop && !D && !o->bounded && o->witness == WITNESS_NONE && r->finding.kind != F_DEADLOCK)
		trim(o, r, root, root_rmark, root_log);
	merging(o, false);
	if (D)
		D->finish(stop || found);	/* serves the others' claims until all are done */
	{
		const char *full;
		u64 mem = memory_now(D, r, &full);

		if (mem > r->peak_bytes)
			r->peak_bytes = mem;
	}
	r->table_bytes = V.cap * sizeof(struct vslot) + BS.bytes;
	terminal_digest(r);
	/* Free whatever is left on the stack (stopped early) and the initial state. */
	for (u32 i = 0; i <= depth; i++)
		if (stack[i].snap)
			sched_snapshot_free(stack[i].snap);
	free(stack);
	/* Back to the initial state, however the search ended: the next search starts there. */
	sched_restore(root);
	race_undo(root_rmark);
	sched_log_truncate(root_log);
	sched_snapshot_free(root);
	vfree();
	bits_free();
	if (o->progress == PROGRESS_TERMINAL && progressed)
		fprintf(stderr, "\r%*s\r", 100, "");
	r->seconds = now() - t0;

	if (o->witness != WITNESS_NONE)
		r->verdict = found ? VERDICT_WITNESS_FOUND : stop ? VERDICT_INCOMPLETE : VERDICT_WITNESS_ABSENT;
	else if (found)
		r->verdict = VERDICT_VIOLATION;
	else
		r->verdict = stop ? VERDICT_INCOMPLETE : VERDICT_VERIFIED;
	r->incomplete_after_violation = found && stop;
	r->shortest_complete = found && !stop && !shorten_cut && !first_only;
	if (found && stop && explore_stop_signal && !r->shorten_stop)
		r->shorten_stop = explore_stop_signal == SIGINT ? "SIGINT" : "SIGTERM";
	return 0;
}

static void replay_events(struct explore_result *r)
{
	r->nr_events = sched_log_len();
	r->events = malloc(sizeof(*r->events) * (r->nr_events + 1));
	if (r->nr_events)
		memcpy(r->events, sched_log(), sizeof(*r->events) * r->nr_events);
}

int explore_replay(const struct explore_opts *o, const struct step *path, u32 n, struct explore_result *r)
{
	struct frame *f = mem_calloc(1, sizeof(*f));

	memset(r, 0, sizeof(*r));
	merging(o, true);
	for (u32 i = 0; i < n; i++) {
		const struct pending *p;

		if (path[i].fiber >= sched_nr_actors() || !sched_enabled(path[i].fiber))
			goto bad;
		p = sched_pending(path[i].fiber);
		if (p->kind == PK_CHOOSE ? path[i].choice >= p->n : path[i].choice != 0)
			goto bad;
		sched_clear_finding();
		sched_set_step(i);
		summarize(o, f);
		step_from(f, path[i].fiber, path[i].choice);
		r->transitions++;
		if (sched_has_finding()) {
			r->finding = *sched_finding();
			r->verdict = VERDICT_VIOLATION;
			r->path_len = i + 1;
			break;
		}
	}
	if (r->verdict != VERDICT_VIOLATION) {
		bool end = true;

		for (int g = 0; g < sched_nr_actors() && end; g++)
			if (sched_enabled(g))
				end = false;
		if (end && end_finding(o, &r->finding))
			r->verdict = VERDICT_VIOLATION;
		r->path_len = n;
	}
	replay_events(r);
	merging(o, false);
	free(f);
	return 0;
bad:
	r->path_len = (u32)r->transitions;
	replay_events(r);
	merging(o, false);
	free(f);
	return -(int)r->transitions - 1;
}

void explore_result_take_path(struct explore_result *to, struct explore_result *from)
{
	to->finding = from->finding;
	to->path = from->path;
	to->path_len = from->path_len;
	to->untrimmed_len = from->untrimmed_len;
	to->events = from->events;
	to->nr_events = from->nr_events;
	from->path = NULL;
	from->events = NULL;
}

void explore_result_free(struct explore_result *r)
{
	free(r->path);
	free(r->events);
	free(r->terminals);
	r->path = NULL;
	r->events = NULL;
	r->terminals = NULL;
}
