// SPDX-License-Identifier: GPL-2.0
/*
 * por-oracle: how few states could a single-actor persistent-set reduction
 * visit?  For a small configuration, the tool enumerates the model's whole
 * state graph (no reduction), decides exactly at every state which actors
 * form a valid single-actor persistent set there, and counts the states a
 * search that takes such an actor wherever one exists would visit.  It
 * prints that next to the full graph and to what the checker's own search
 * (kvmlab check: sleep sets, summary-based persistent sets, movers)
 * explores, and checks that the reduced graph keeps the full graph's
 * terminal states, deadlocks and findings.  docs/design.md, "The
 * persistent-set oracle", has the definitions and measured numbers.
 *
 * The graph: states are fingerprints (sched_snapshot() hashes, as the
 * checker's visited set keeps them); an edge is one transition (sched_step()
 * of one fiber with one choice) with its footprint as executed from its
 * source.  A transition that raises a finding ends its path (as in
 * check/explore.c) and leads to a sink, one per distinct finding (kind,
 * actor, source location).  Enumerated by a depth-first search, because
 * snapshots nest (only an ancestor or the latest can be restored).
 *
 * The oracle.  R_g(s) is the set of footprint entries of every edge e of an
 * actor other than g that lies on a path from s taking no edge of g (e's own
 * source included: the edges leaving s count).  Actor g qualifies at s when
 * it has an edge at s and no edge of g at s is dependent
 * (!footprint_independent()) with any edge contributing to R_g(s).  Since g
 * does not move along such a path, its transition stays the one it has at s,
 * so this is the persistent-set condition with the footprints as executed at
 * s; a transition that would disable g (a lock it wants, a location it waits
 * on) conflicts with it by footprint.  R_g is computed per actor over the
 * strongly connected components of the graph without g's edges (Tarjan, in
 * reverse topological order), so cycles are exact.  Footprint entries are a
 * dictionary of distinct (addr, size, kind) entries; sets of them are
 * interned bitsets; conflicts between entries are precomputed.  Two pseudo
 * entries keep footprint_independent()'s overflow rule exact: OVF (the
 * footprint overflowed) conflicts with everything, ANY (every edge has it)
 * only with OVF.
 *
 * The reduced counts: a DFS from the initial state on the stored graph that
 * expands, at each state, only the edges of the first qualifying actor in
 * fiber order (every enabled actor is a candidate), or every edge if none
 * qualifies; with the cycle proviso (the checker's): if an edge of that
 * actor leads to a state on the DFS stack, the state is expanded fully
 * (or, in the second variant, the next qualifying actor whose edges do not
 * close a cycle is tried first).  Without the proviso the count is sound
 * only if the graph is acyclic (then the proviso never acts); the tool says
 * which it is.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check/explore.h"
#include "check/harness.h"
#include "check/mem.h"
#include "check/race.h"
#include "check/sched.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "kernel/compiler.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/vmm.h"

#define TOOL "por-oracle"
#define NONE ((u32)-1)

int cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, TOOL ": out of memory (%zu bytes)\n", n);
		exit(EXIT_INCOMPLETE);
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, TOOL ": out of memory (%zu bytes)\n", n * size);
		exit(EXIT_INCOMPLETE);
	}
	return p;
}

/* p with room for 'need' elements of 'size' bytes (capacity *cap, doubled as needed). */
static void *grow(void *p, u64 *cap, u64 need, size_t size)
{
	u64 c = *cap ? *cap : 1024;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(p, c * size);
}

static u64 hash_words(const void *p, size_t n, u64 seed)
{
	const u8 *b = p;
	u64 h = seed ^ (n * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return mix64(h);
}

/* ---- id tables: open addressing from a hash to an id of some array ------------ */

struct idtab {
	u32 *slot;		/* id + 1; 0 = empty */
	u64 cap, n;
	u64 (*hash_of)(u32 id);
};

static void idtab_init(struct idtab *t, u64 (*hash_of)(u32 id))
{
	t->cap = 1 << 12;
	t->n = 0;
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	t->hash_of = hash_of;
}

static void idtab_free(struct idtab *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* The slot holding the id that eq() accepts for key, or the empty slot where it would go. */
static u32 *idtab_find(struct idtab *t, u64 h, bool (*eq)(u32 id, const void *key), const void *key)
{
	u64 i = h & (t->cap - 1);

	while (t->slot[i] && !eq(t->slot[i] - 1, key))
		i = (i + 1) & (t->cap - 1);
	return &t->slot[i];
}

/* Put id in the empty slot idtab_find() returned (which may move: do not keep it). */
static void idtab_insert(struct idtab *t, u32 *slot, u32 id)
{
	u32 *old = t->slot;
	u64 oldcap = t->cap;

	*slot = id + 1;
	if (++t->n * 4 <= t->cap * 3)
		return;
	t->cap *= 2;
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	for (u64 i = 0; i < oldcap; i++)
		if (old[i]) {
			u64 j = t->hash_of(old[i] - 1) & (t->cap - 1);

			while (t->slot[j])
				j = (j + 1) & (t->cap - 1);
			t->slot[j] = old[i];
		}
	free(old);
}

/* ---- footprint entries ------------------------------------------------------------ */

/* Entry 0: every edge has it; entry 1: the footprint overflowed (see above). */
enum { ENT_ANY, ENT_OVF, ENT_FIRST };

static struct {
	struct fp_entry *e;
	u64 n, cap;
	struct idtab t;
} D;

static u64 fent_hash(const struct fp_entry *e)
{
	return mix64(e->addr ^ ((u64)e->size << 56) ^ ((u64)e->kind << 48) ^ ((u64)e->bits << 40));
}

static u64 fent_hash_id(u32 id) { return fent_hash(&D.e[id]); }

static bool fent_eq(u32 id, const void *key)
{
	const struct fp_entry *k = key;

	return D.e[id].addr == k->addr && D.e[id].size == k->size && D.e[id].kind == k->kind &&
	       D.e[id].bits == k->bits;
}

static void entry_classes(u32 id, const struct fp_entry *e);

static u32 fent_intern(u64 addr, u8 size, u8 kind, u8 bits)
{
	struct fp_entry k = { .addr = addr, .size = size, .kind = kind, .bits = bits };
	u32 *slot = idtab_find(&D.t, fent_hash(&k), fent_eq, &k);

	if (*slot)
		return *slot - 1;
	D.e = grow(D.e, &D.cap, D.n + 1, sizeof(*D.e));
	D.e[D.n] = k;
	entry_classes((u32)D.n, &k);
	idtab_insert(&D.t, slot, (u32)D.n);
	return (u32)D.n++;
}

/* Whether entries a and b conflict, as footprint_independent() decides. */
static bool fent_conflict(u32 a, u32 b)
{
	const struct fp_entry *x = &D.e[a], *y = &D.e[b];

	if (a == ENT_OVF || b == ENT_OVF)
		return true;
	if (a == ENT_ANY || b == ENT_ANY)
		return false;
	return fp_entry_conflict(x, y);
}

/* ---- footprints: sorted lists of entry ids (ANY left out), interned ---------------- */

static struct {
	u32 *start;		/* into pool */
	u8 *len;
	u64 n, cap;
	u32 *pool;
	u64 pool_n, pool_cap;
	struct idtab t;
} F;

struct fkey {
	const u32 *ids;
	u32 n;
};

static u64 fp_hash_id(u32 id) { return hash_words(F.pool + F.start[id], F.len[id] * sizeof(u32), 7); }

static bool fp_eq(u32 id, const void *key)
{
	const struct fkey *k = key;

	return F.len[id] == k->n && !memcmp(F.pool + F.start[id], k->ids, k->n * sizeof(u32));
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static u32 fp_intern(const struct footprint *fp)
{
	u32 ids[FP_MAX + 1];
	struct fkey k = { .ids = ids, .n = 0 };
	u32 *slot;

	for (int i = 0; i < fp->n; i++)
		ids[k.n++] = fent_intern(fp->e[i].addr, fp->e[i].size, fp->e[i].kind, fp->e[i].bits);
	if (fp->overflow)
		ids[k.n++] = ENT_OVF;
	qsort(ids, k.n, sizeof(ids[0]), cmp_u32);
	slot = idtab_find(&F.t, hash_words(ids, k.n * sizeof(u32), 7), fp_eq, &k);
	if (*slot)
		return *slot - 1;
	if (F.n == F.cap) {
		F.start = grow(F.start, &F.cap, F.n + 1, sizeof(*F.start));
		F.len = xrealloc(F.len, F.cap);
	}
	F.pool = grow(F.pool, &F.pool_cap, F.pool_n + k.n, sizeof(*F.pool));
	F.start[F.n] = (u32)F.pool_n;
	F.len[F.n] = (u8)k.n;
	memcpy(F.pool + F.pool_n, ids, k.n * sizeof(u32));
	F.pool_n += k.n;
	idtab_insert(&F.t, slot, (u32)F.n);
	return (u32)F.n++;
}

/* The footprint interned as fp, rebuilt (for the brute-force validation). */
static void fp_rebuild(u32 fp, struct footprint *out)
{
	memset(out, 0, sizeof(*out));
	for (u32 i = 0; i < F.len[fp]; i++) {
		u32 id = F.pool[F.start[fp] + i];

		if (id == ENT_OVF) {
			out->overflow = true;
			continue;
		}
		out->e[out->n].addr = D.e[id].addr;
		out->e[out->n].size = D.e[id].size;
		out->e[out->n].kind = D.e[id].kind;
		out->e[out->n].bits = D.e[id].bits;
		out->n++;
	}
}

/* ---- the state graph ------------------------------------------------------------------ */

enum { SF_TERMINAL = 1, SF_DEADLOCK = 2, SF_SINK = 4 };

static struct {
	int nf;			/* fibers */
	u64 n, cap;		/* states, sinks included */
	u64 *hash;		/* fingerprint; a sink: its index in sinks[] */
	u8 *flags;
	u64 states;		/* not sinks */
	struct idtab t;		/* fingerprint -> state */
	/* Edges while enumerating, then by source (CSR). */
	struct redge {
		u32 src, dst, fp;
		u8 fiber;
	} *re;
	u64 ne, recap;
	u32 *off;		/* edges of s: [off[s], off[s + 1]) */
	u32 *dst, *fp;
	u8 *fiber;
	struct sched_finding *sinks;
	u32 *sink_node;		/* the node of each */
	u64 nsinks, sinkcap;
	u64 sink_edges;
} G;

static u64 state_hash_id(u32 id) { return mix64(G.hash[id]); }

static bool state_eq(u32 id, const void *key)
{
	return G.hash[id] == *(const u64 *)key;
}

static u32 node_add(u64 hash, u8 flags)
{
	if (G.n == G.cap) {
		G.hash = grow(G.hash, &G.cap, G.n + 1, sizeof(*G.hash));
		G.flags = xrealloc(G.flags, G.cap);
	}
	G.hash[G.n] = hash;
	G.flags[G.n] = flags;
	if (G.n >= NONE - 1) {
		fprintf(stderr, TOOL ": more than 2^32 states\n");
		exit(EXIT_INCOMPLETE);
	}
	return (u32)G.n++;
}

static void edge_add(u32 src, u32 dst, u32 fp, int fiber)
{
	G.re = grow(G.re, &G.recap, G.ne + 1, sizeof(*G.re));
	G.re[G.ne++] = (struct redge){ .src = src, .dst = dst, .fp = fp, .fiber = (u8)fiber };
}

/* The sink of finding f (kind, actor and where identify it; the message may carry values). */
static u32 sink_for(const struct sched_finding *f)
{
	for (u64 i = 0; i < G.nsinks; i++)
		if (G.sinks[i].kind == f->kind && G.sinks[i].actor == f->actor &&
		    !strcmp(G.sinks[i].where, f->where))
			return G.sink_node[i];
	if (G.nsinks == G.sinkcap) {
		G.sinks = grow(G.sinks, &G.sinkcap, G.nsinks + 1, sizeof(*G.sinks));
		G.sink_node = xrealloc(G.sink_node, G.sinkcap * sizeof(*G.sink_node));
	}
	G.sinks[G.nsinks] = *f;
	G.sink_node[G.nsinks] = node_add(G.nsinks, SF_SINK);
	return G.sink_node[G.nsinks++];
}

/* The live state: terminal (every fiber done), deadlocked (none enabled) or neither. */
static u8 classify(void)
{
	bool done = true;

	for (int i = 0; i < sched_nr_actors(); i++) {
		if (sched_enabled(i))
			return 0;
		if (sched_pending(i)->kind != PK_DONE)
			done = false;
	}
	return done ? SF_TERMINAL : SF_DEADLOCK;
}

static void note_vcpus(void);

/*
 * --summaries: what kvmlab check's own persistent-set rule decides at each
 * state, from the same future-access summaries and location classes
 * (check/harness.c) the checker uses.  Per state and actor: its summary,
 * whether it is live and enabled, and what a disabled one waits for; per
 * edge: the classes its footprint touches.
 */
static struct {
	bool on;
	struct explore_opts o;
	struct sstate {
		u32 live, enabled;
		struct locmask fut[CHK_MAX_FIBERS];
		u64 blk_wait[CHK_MAX_FIBERS];
		u32 blk_lock[CHK_MAX_FIBERS];
		struct pending pend[CHK_MAX_FIBERS];
		/* Script actors: where each stands, without and with the vCPUs' modes (point_key()). */
		u64 point[2][CHK_MAX_FIBERS];
	} *st;
	u64 cap, n;		/* st[0, n) are filled (zeros for sinks) */
	struct locmask *em;	/* per edge, while enumerating (G.re order), then CSR order */
	u64 emcap;
} S;

/* --summaries: each footprint entry's classes, taken in the live state when it is first met. */
static struct locmask *ecls;
static u64 eclscap;

static void entry_classes(u32 id, const struct fp_entry *e)
{
	struct footprint one = { .n = 1 };

	if (!S.on)
		return;
	ecls = grow(ecls, &eclscap, (u64)id + 1, sizeof(*ecls));
	one.e[0] = *e;
	ecls[id] = S.o.fp_mask(&one, S.o.fut_arg);
}

/*
 * The program point of script actor g (a fiber past the vCPUs) in the live
 * state, as far as the state shows it: the script's op, whether g holds
 * apicv_update_lock and mmu_lock, the requests in flight
 * (ghost_requesters), the inhibit reasons, mmu_invalidate_in_progress and
 * g's next step (its kind and address).  With 'modes', every vCPU's mode
 * too.  The keyed bounds of --summaries give an actor, at each state, the
 * union of its exact futures over every state with the same key: the best a
 * summary written per program point (and per vCPU mode) could do.
 */
static u64 point_key(int g, const struct pending *pd, bool modes)
{
	const struct vmm *vmm = checker_model();
	const struct kvm *kvm = vmm->kvm;
	int nv = vmm->scn->nr_vcpus;
	u64 k = vmm->actor_op[g - nv];

	k = k * 31 + (kvm->arch.apicv_update_lock.l.holder == g + 1);
	k = k * 31 + (kvm->mmu_lock.l.holder == g + 1);
	k = k * 31 + kvm->ghost_requesters;
	k = k * 31 + kvm->arch.apicv_inhibit_reasons;
	k = k * 31 + (u64)kvm->mmu_invalidate_in_progress;
	k = mix64(k * 131 + pd->kind) ^ pd->addr;
	for (int v = 0; modes && v < nv; v++)
		k = k * 31 + (vmm->created[v] ? (u64)vmm->vcpus[v]->mode + 1 : 0);
	return mix64(k);
}

/* Per recorded state, explore_summaries()'s held[] (sched_nr_actors() squared entries). */
static struct locmask *held_tab;
static u64 held_cap;

static struct locmask *held_of(u64 id)
{
	u64 nf = (u64)sched_nr_actors();

	held_tab = grow(held_tab, &held_cap, (id + 1) * nf * nf, sizeof(*held_tab));
	return held_tab + id * nf * nf;
}

/* The live state's summaries, as check/explore.c's summarize() takes them, for state id. */
static void summaries_record(u32 id)
{
	struct sstate *x;

	if (!S.on)
		return;
	S.st = grow(S.st, &S.cap, (u64)id + 1, sizeof(*S.st));
	if (S.n < (u64)id + 1) {
		memset(S.st + S.n, 0, ((u64)id + 1 - S.n) * sizeof(*S.st));
		S.n = (u64)id + 1;
	}
	x = &S.st[id];
	for (int g = 0; g < sched_nr_actors(); g++)
		x->pend[g] = *sched_pending(g);
	explore_summaries(&S.o, &x->live, &x->enabled, x->fut, x->blk_wait, x->blk_lock, held_of(id));
	for (int g = checker_model()->scn->nr_vcpus; g < sched_nr_fibers(); g++)
		for (int m = 0; m < 2; m++)
			x->point[m][g] = point_key(g, &x->pend[g], m);
}

struct eframe {
	struct snapshot *snap;
	size_t log_len, rmark;
	u32 id;
	int next_fiber;
	u32 next_choice;
};

/* The next transition (fiber, choice) from f's state, which must be live. */
static bool next_step(struct eframe *f, int *g, u32 *c)
{
	for (; f->next_fiber < sched_nr_actors(); f->next_fiber++, f->next_choice = 0) {
		const struct pending *p = sched_pending(f->next_fiber);

		if (!sched_enabled(f->next_fiber))
			continue;
		if (p->kind == PK_CHOOSE ? f->next_choice >= p->n : f->next_choice > 0)
			continue;
		*g = f->next_fiber;
		*c = f->next_choice++;
		return true;
	}
	return false;
}

/*
 * Every state reachable from the live (initial) state, with no reduction:
 * a stateful DFS like check/explore.c's with the sleep sets and the bound
 * left out.  Returns false if --max-states (or memory) stopped it.
 */
static bool enumerate(u64 max_states, const char **why)
{
	u64 cap = 256, depth = 1;
	struct eframe *st = xcalloc(cap, sizeof(*st));
	const struct snapshot *live;
	bool complete = true;
	u32 *slot;

	G.nf = sched_nr_actors();
	idtab_init(&G.t, state_hash_id);
	st[0].snap = sched_snapshot(0);
	st[0].log_len = sched_log_len();
	st[0].rmark = race_mark();
	st[0].id = node_add(st[0].snap->hash, classify());
	note_vcpus();
	summaries_record(st[0].id);
	slot = idtab_find(&G.t, mix64(st[0].snap->hash), state_eq, &st[0].snap->hash);
	idtab_insert(&G.t, slot, st[0].id);
	G.states = 1;
	live = st[0].snap;
	if (sched_has_finding()) {
		*why = "a finding before the first scheduling point";
		complete = false;
		depth = 0;
		sched_snapshot_free(st[0].snap);
	}
	while (depth) {
		struct eframe *f = &st[depth - 1];
		struct snapshot *child;
		u32 fp, id;
		int g;
		u32 c;

		if (live != f->snap) {
			sched_restore(f->snap);
			race_undo(f->rmark);
			live = f->snap;
		}
		sched_log_truncate(f->log_len);
		if (!next_step(f, &g, &c)) {
			sched_snapshot_free(f->snap);
			depth--;
			continue;
		}
		sched_clear_finding();
		if (S.on && S.o.before_step)
			S.o.before_step(S.o.fut_arg);
		sched_step(g, c);
		live = NULL;
		fp = fp_intern(sched_last_footprint());
		if (S.on) {
			S.em = grow(S.em, &S.emcap, G.ne + 1, sizeof(*S.em));
			S.em[G.ne] = S.o.fp_mask(sched_last_footprint(), S.o.fut_arg);
		}
		if (mem_exhausted()) {
			*why = "out of memory in the checker's store";
			complete = false;
			break;
		}
		if (sched_has_finding()) {
			edge_add(f->id, sink_for(sched_finding()), fp, g);
			G.sink_edges++;
			continue;	/* the path ends at a finding */
		}
		child = sched_snapshot(0);
		slot = idtab_find(&G.t, mix64(child->hash), state_eq, &child->hash);
		if (*slot) {
			edge_add(f->id, *slot - 1, fp, g);
			sched_snapshot_free(child);
			continue;
		}
		id = node_add(child->hash, classify());
		idtab_insert(&G.t, slot, id);
		note_vcpus();
		summaries_record(id);
		G.states++;
		edge_add(f->id, id, fp, g);
		if (max_states && G.states >= max_states) {
			*why = "--max-states reached";
			complete = false;
			sched_snapshot_free(child);
			break;
		}
		st = grow(st, &cap, depth + 1, sizeof(*st));
		st[depth] = (struct eframe){ .snap = child, .log_len = sched_log_len(), .rmark = race_mark(),
					     .id = id };
		depth++;
		live = child;
	}
	for (u64 i = 0; i < depth; i++)
		sched_snapshot_free(st[i].snap);
	free(st);
	idtab_free(&G.t);
	return complete;
}

/* Edges by source, in the order they were found (fiber, then choice). */
static void build_csr(void)
{
	u32 *pos;
	struct locmask *pos_em = S.on ? xcalloc(G.ne, sizeof(*pos_em)) : NULL;

	if (G.ne >= NONE) {
		fprintf(stderr, TOOL ": more than 2^32 edges\n");
		exit(EXIT_INCOMPLETE);
	}
	G.off = xcalloc(G.n + 1, sizeof(*G.off));
	G.dst = xcalloc(G.ne, sizeof(*G.dst));
	G.fp = xcalloc(G.ne, sizeof(*G.fp));
	G.fiber = xcalloc(G.ne, sizeof(*G.fiber));
	for (u64 i = 0; i < G.ne; i++)
		G.off[G.re[i].src + 1]++;
	for (u64 s = 0; s < G.n; s++)
		G.off[s + 1] += G.off[s];
	pos = xcalloc(G.n, sizeof(*pos));
	memcpy(pos, G.off, G.n * sizeof(*pos));
	for (u64 i = 0; i < G.ne; i++) {
		u32 p = pos[G.re[i].src]++;

		G.dst[p] = G.re[i].dst;
		G.fp[p] = G.re[i].fp;
		G.fiber[p] = G.re[i].fiber;
		if (S.on)
			pos_em[p] = S.em[i];
	}
	if (S.on) {
		free(S.em);
		S.em = pos_em;
		S.st = grow(S.st, &S.cap, G.n, sizeof(*S.st));
		if (G.n > S.n)
			memset(S.st + S.n, 0, (G.n - S.n) * sizeof(*S.st));
	}
	free(pos);
	free(G.re);
	G.re = NULL;
}

/* ---- sets of entries: interned bitsets of W words ------------------------------------ */

static u32 W;

static struct {
	u64 *w;
	u64 n, cap;
	struct idtab t;
} B;

static u64 *setw(u32 id) { return B.w + (u64)id * W; }
static u64 set_hash_id(u32 id) { return hash_words(setw(id), W * sizeof(u64), 3); }

static bool set_eq(u32 id, const void *key)
{
	return !memcmp(setw(id), key, W * sizeof(u64));
}

static u32 set_intern(const u64 *bits)
{
	u32 *slot = idtab_find(&B.t, hash_words(bits, W * sizeof(u64), 3), set_eq, bits);

	if (*slot)
		return *slot - 1;
	B.w = grow(B.w, &B.cap, (B.n + 1) * W, sizeof(*B.w));
	memcpy(B.w + B.n * W, bits, W * sizeof(u64));
	idtab_insert(&B.t, slot, (u32)B.n);
	return (u32)B.n++;
}

static void set_add(u64 *bits, u32 i) { bits[i / 64] |= 1ull << (i % 64); }

static void set_or(u64 *into, const u64 *from)
{
	for (u32 i = 0; i < W; i++)
		into[i] |= from[i];
}

static bool set_meets(const u64 *a, const u64 *b)
{
	for (u32 i = 0; i < W; i++)
		if (a[i] & b[i])
			return true;
	return false;
}

/* Per footprint: its entries (ANY included) and the entries that conflict with one of them. */
static u32 *fp_ents, *fp_confl;
static u64 *conf_row;		/* D.n rows of W words: entry x conflicts with ... */

/* The set store, with the empty set as set 0, and each footprint's entries. */
static void build_sets(void)
{
	u64 *b = xcalloc(W, sizeof(*b));

	idtab_init(&B.t, set_hash_id);
	set_intern(b);
	fp_ents = xcalloc(F.n, sizeof(*fp_ents));
	fp_confl = xcalloc(F.n, sizeof(*fp_confl));
	conf_row = xcalloc(D.n * W, sizeof(*conf_row));
	for (u64 f = 0; f < F.n; f++) {
		memset(b, 0, W * sizeof(*b));
		set_add(b, ENT_ANY);
		for (u32 i = 0; i < F.len[f]; i++)
			set_add(b, F.pool[F.start[f] + i]);
		fp_ents[f] = set_intern(b);
	}
	free(b);
}

/*
 * Which entries conflict, and each footprint's conflict set; entry 'ignore'
 * (NONE: none) is taken to conflict with nothing, for the what-if runs.
 */
static void build_conflicts(u32 ignore)
{
	u64 *b = xcalloc(W, sizeof(*b));

	memset(conf_row, 0, D.n * W * sizeof(*conf_row));
	for (u32 x = 0; x < D.n; x++)
		for (u32 y = 0; y < D.n; y++)
			if (x != ignore && y != ignore && fent_conflict(x, y))
				set_add(conf_row + (u64)x * W, y);
	for (u64 f = 0; f < F.n; f++) {
		memset(b, 0, W * sizeof(*b));
		set_or(b, conf_row + (u64)ENT_ANY * W);
		for (u32 i = 0; i < F.len[f]; i++)
			set_or(b, conf_row + (u64)F.pool[F.start[f] + i] * W);
		fp_confl[f] = set_intern(b);
	}
	free(b);
}

/* ---- the oracle ------------------------------------------------------------------------ */

static u16 *qual;		/* per state: the actors that qualify there */
/*
 * The same with g's footprint taken at each state of the path rather than
 * at s (g has not moved, but what its transition touches may depend on the
 * memory: a cmpxchg that would fail only reads): g qualifies at s iff at
 * no state reachable without g's edges does an edge of another actor
 * conflict with g's edges there.  Commutation is needed at those states, so
 * this is the other natural reading of the definition; the tool reports
 * where the two differ.
 */
static u16 *qual_local;
static u64 local_differs[2];	/* (state, actor) pairs qualifying by one reading only: [0] local, [1] at s */
static u64 nontrivial_sccs, cyclic_states;
static u64 *hist_other, *hist_own;	/* per entry and actor: blocked (state, actor) pairs */
/* Per entry: the blocked pairs in which it is the only conflicting entry of its side. */
static u64 *alone_other, *alone_own;
static u64 enabled_at[CHK_MAX_FIBERS], qualifies_at[CHK_MAX_FIBERS];
static u64 max_sets;

/*
 * Tarjan's algorithm on the graph without g's edges (g = -1: all edges),
 * iteratively.  With R, each state's R_g (an interned set) is stored there:
 * the union, over the component's edges, of their entries and of the set of
 * the state they lead to outside the component (components complete in
 * reverse topological order); and bad[s], which holds on entry whether s
 * itself is bad, becomes whether a bad state is reachable from s.  Without
 * R, it counts the cycles.
 */
static int tarjan_only = -1;	/* with R: only this actor's edges' entries count (-1: all) */

static void tarjan(int g, u32 *R, u8 *bad)
{
	u32 *idx = xcalloc(G.n, sizeof(*idx)), *low = xcalloc(G.n, sizeof(*low));
	u32 *stk = xcalloc(G.n, sizeof(*stk)), *comp = R ? R : xcalloc(G.n, sizeof(*comp));
	struct cframe {
		u32 v, e;
	} *cs = xcalloc(G.n, sizeof(*cs));
	u64 *acc = xcalloc(W ? W : 1, sizeof(*acc));
	u32 next = 1, sp = 0, csp = 0;

	for (u64 s = 0; s < G.n; s++)
		comp[s] = NONE;
	for (u64 root = 0; root < G.n; root++) {
		if (idx[root])
			continue;
		idx[root] = low[root] = next++;
		stk[sp++] = (u32)root;
		cs[csp++] = (struct cframe){ (u32)root, G.off[root] };
		while (csp) {
			struct cframe *c = &cs[csp - 1];
			u32 v = c->v, end = G.off[v + 1];

			while (c->e < end && (int)G.fiber[c->e] == g)
				c->e++;
			if (c->e < end) {
				u32 w = G.dst[c->e++];

				if (!idx[w]) {
					idx[w] = low[w] = next++;
					stk[sp++] = w;
					cs[csp++] = (struct cframe){ w, G.off[w] };
				} else if (comp[w] == NONE && idx[w] < low[v]) {
					low[v] = idx[w];	/* w is on the stack */
				}
				continue;
			}
			csp--;
			if (csp && low[v] < low[cs[csp - 1].v])
				low[cs[csp - 1].v] = low[v];
			if (low[v] != idx[v])
				continue;
			/* v roots a component: stk[top .. v]. */
			{
				u32 first = sp, n, id = 0;
				bool self = false, anybad = false;

				do
					first--;
				while (stk[first] != v);
				n = sp - first;
				if (R)
					memset(acc, 0, W * sizeof(*acc));
				for (u32 i = first; i < sp; i++) {
					u32 u = stk[i];

					if (bad && bad[u])
						anybad = true;
					for (u32 e = G.off[u]; e < G.off[u + 1]; e++) {
						u32 w = G.dst[e];

						if ((int)G.fiber[e] == g)
							continue;
						if (w == u)
							self = true;
						if (!R)
							continue;
						if (tarjan_only < 0 || (int)G.fiber[e] == tarjan_only)
							set_or(acc, setw(fp_ents[G.fp[e]]));
						if (comp[w] != NONE) {
							set_or(acc, setw(comp[w]));
							anybad |= bad && bad[w];
						}
					}
				}
				if (R)
					id = set_intern(acc);
				else if (n > 1 || self) {
					nontrivial_sccs++;
					cyclic_states += n;
				}
				for (u32 i = first; i < sp; i++) {
					comp[stk[i]] = id;
					if (bad)
						bad[stk[i]] = anybad;
				}
				sp = first;
			}
		}
	}
	free(idx);
	free(low);
	free(stk);
	free(cs);
	free(acc);
	if (!R)
		free(comp);
}

/* The conflict set of g's edges at s, into c; false if g has none. */
static bool actor_conflicts(int g, u64 s, u64 *c)
{
	bool any = false;

	memset(c, 0, W * sizeof(*c));
	for (u32 e = G.off[s]; e < G.off[s + 1]; e++)
		if (G.fiber[e] == g) {
			any = true;
			set_or(c, setw(fp_confl[G.fp[e]]));
		}
	return any;
}

/*
 * qual for every state (into q); with stats, also qual_local, the per-actor
 * counts and the blocking histograms.
 */
static void oracle(u16 *q, bool stats)
{
	u32 *R = xcalloc(G.n, sizeof(*R));
	u64 *gconf = xcalloc(W, sizeof(*gconf)), *gents = xcalloc(W, sizeof(*gents));
	u8 *bad = stats ? xcalloc(G.n, sizeof(*bad)) : NULL;

	memset(q, 0, G.n * sizeof(*q));
	if (stats) {
		qual_local = xcalloc(G.n, sizeof(*qual_local));
		hist_other = xcalloc(D.n * G.nf, sizeof(*hist_other));
		hist_own = xcalloc(D.n * G.nf, sizeof(*hist_own));
		alone_other = xcalloc(D.n, sizeof(*alone_other));
		alone_own = xcalloc(D.n, sizeof(*alone_own));
	}
	for (int g = 0; g < G.nf; g++) {
		/* The local reading: bad where another actor's edge conflicts with g's there. */
		for (u64 s = 0; s < G.n && stats; s++) {
			bad[s] = 0;
			if (!actor_conflicts(g, s, gconf))
				continue;
			for (u32 e = G.off[s]; e < G.off[s + 1] && !bad[s]; e++)
				if (G.fiber[e] != g && set_meets(gconf, setw(fp_ents[G.fp[e]])))
					bad[s] = 1;
		}
		tarjan(g, R, bad);
		if (B.n > max_sets)
			max_sets = B.n;
		for (u64 s = 0; s < G.n; s++) {
			const u64 *r = setw(R[s]);
			bool any = false;

			memset(gconf, 0, W * sizeof(*gconf));
			memset(gents, 0, W * sizeof(*gents));
			for (u32 e = G.off[s]; e < G.off[s + 1]; e++)
				if (G.fiber[e] == g) {
					any = true;
					set_or(gconf, setw(fp_confl[G.fp[e]]));
					set_or(gents, setw(fp_ents[G.fp[e]]));
				}
			if (!any)
				continue;
			if (!stats) {
				if (!set_meets(gconf, r))
					q[s] |= 1u << g;
				continue;
			}
			enabled_at[g]++;
			if (!bad[s])
				qual_local[s] |= 1u << g;
			if (set_meets(gconf, r) == !bad[s])
				local_differs[bad[s]]++;
			if (!set_meets(gconf, r)) {
				q[s] |= 1u << g;
				qualifies_at[g]++;
				continue;
			}
			/* Blocked: which entries of the others, and of g's own, conflict. */
			{
				u64 no = 0, nown = 0, last_o = 0, last_own = 0;

				for (u32 i = 0; i < W; i++) {
					for (u64 m = r[i] & gconf[i]; m; m &= m - 1) {
						last_o = (u64)i * 64 + __builtin_ctzll(m);
						hist_other[last_o * G.nf + g]++;
						no++;
					}
					for (u64 m = gents[i]; m; m &= m - 1) {
						u64 x = (u64)i * 64 + __builtin_ctzll(m);

						if (set_meets(conf_row + x * W, r)) {
							hist_own[x * G.nf + g]++;
							last_own = x;
							nown++;
						}
					}
				}
				if (no == 1)
					alone_other[last_o]++;
				if (nown == 1)
					alone_own[last_own]++;
			}
		}
	}
	free(R);
	free(gconf);
	free(gents);
	free(bad);
}

/*
 * The oracle's answer at n sampled states, recomputed by brute force: a
 * search of everything reachable without g's edges, each edge's footprint
 * compared with footprint_independent() against each of g's edges at s.
 * Returns the number of disagreements.
 */
static u64 validate(u64 samples)
{
	u32 *seen = xcalloc(G.n, sizeof(*seen)), *queue = xcalloc(G.n, sizeof(*queue)), epoch = 0;
	u64 bad = 0, x = 0x9e3779b97f4a7c15ull, most = 1;
	struct footprint *mine, other;

	for (u64 s = 0; s < G.n; s++)
		if (G.off[s + 1] - G.off[s] > most)
			most = G.off[s + 1] - G.off[s];
	mine = xcalloc(most, sizeof(*mine));

	for (u64 k = 0; k < samples && G.n; k++) {
		u32 s;

		x = mix64(x + k);
		s = (u32)(x % G.n);
		for (int g = 0; g < G.nf; g++) {
			u32 nm = 0, head = 0, tail = 0;
			bool ok = true;

			for (u32 e = G.off[s]; e < G.off[s + 1]; e++)
				if (G.fiber[e] == g)
					fp_rebuild(G.fp[e], &mine[nm++]);
			if (!nm)
				continue;
			epoch++;
			seen[s] = epoch;
			queue[tail++] = s;
			while (head < tail && ok) {
				u32 u = queue[head++];

				for (u32 e = G.off[u]; e < G.off[u + 1] && ok; e++) {
					if (G.fiber[e] == g)
						continue;
					fp_rebuild(G.fp[e], &other);
					for (u32 i = 0; i < nm; i++)
						if (!footprint_independent(&mine[i], &other))
							ok = false;
					if (seen[G.dst[e]] != epoch) {
						seen[G.dst[e]] = epoch;
						queue[tail++] = G.dst[e];
					}
				}
			}
			if (ok != !!(qual[s] & (1u << g))) {
				fprintf(stderr, TOOL ": validation: state %u, actor %d: oracle says %s, brute force %s\n",
					s, g, (qual[s] >> g) & 1 ? "qualifies" : "blocked", ok ? "qualifies" : "blocked");
				bad++;
			}
		}
	}
	free(seen);
	free(queue);
	free(mine);
	return bad;
}

/* ---- reduced searches on the stored graph ---------------------------------------------- */

enum rmode { RM_PLAIN, RM_PROVISO, RM_PROVISO_NEXT, NR_RMODES };

static const char *const rmode_name[NR_RMODES] = {
	[RM_PLAIN] = "oracle, no proviso",
	[RM_PROVISO] = "oracle + proviso (full)",
	[RM_PROVISO_NEXT] = "oracle + proviso (next)",
};

struct rresult {
	u64 states, edges, sinks, terminal, deadlock;
	u64 seeded[CHK_MAX_FIBERS];	/* states expanded through actor g alone */
	u64 none;			/* no actor qualified: expanded fully */
	u64 proviso;			/* one qualified, the proviso expanded fully */
	u64 missed_terminal, missed_deadlock, missed_sinks;
	double seconds;
};

static bool bit(const u8 *b, u64 i) { return (b[i / 8] >> (i % 8)) & 1; }
static void bset(u8 *b, u64 i) { b[i / 8] |= (u8)(1u << (i % 8)); }
static void bclr(u8 *b, u64 i) { b[i / 8] &= (u8)~(1u << (i % 8)); }

struct rframe {
	u32 s, e;
	int only;		/* the one actor expanded here, or -1 */
};

/*
 * Which actor state s (just pushed, on the stack) expands alone, or -1;
 * candidates in the order order[0], order[1], ...
 */
static int choose_seed(enum rmode m, const int *order, u32 s, const u8 *on, struct rresult *r)
{
	u16 q = qual[s];

	for (int i = 0; i < G.nf; i++) {
		int g = order[i];
		bool hits = false;

		if (!((q >> g) & 1))
			continue;
		if (m != RM_PLAIN)
			for (u32 e = G.off[s]; e < G.off[s + 1] && !hits; e++)
				if (G.fiber[e] == g && bit(on, G.dst[e]))
					hits = true;
		if (!hits) {
			r->seeded[g]++;
			return g;
		}
		if (m == RM_PROVISO)
			break;
	}
	if (q)
		r->proviso++;
	else
		r->none++;
	return -1;
}

static void reduce(enum rmode m, const int *order, struct rresult *r)
{
	u8 *vis = xcalloc(G.n / 8 + 1, 1), *on = xcalloc(G.n / 8 + 1, 1);
	struct rframe *stk = NULL;
	u64 cap = 0, sp = 0;
	double t0 = now_seconds();

	memset(r, 0, sizeof(*r));
	stk = grow(stk, &cap, 1, sizeof(*stk));
	bset(vis, 0);
	bset(on, 0);
	r->states = 1;
	stk[sp++] = (struct rframe){ 0, G.off[0], choose_seed(m, order, 0, on, r) };
	while (sp) {
		struct rframe *f = &stk[sp - 1];
		u32 end = G.off[f->s + 1], w;

		while (f->e < end && f->only >= 0 && G.fiber[f->e] != f->only)
			f->e++;
		if (f->e == end) {
			bclr(on, f->s);
			sp--;
			continue;
		}
		w = G.dst[f->e++];
		r->edges++;
		if (bit(vis, w))
			continue;
		bset(vis, w);
		if (G.flags[w] & SF_SINK) {
			r->sinks++;
			continue;
		}
		r->states++;
		bset(on, w);
		stk = grow(stk, &cap, sp + 1, sizeof(*stk));
		stk[sp] = (struct rframe){ w, G.off[w], -1 };
		stk[sp].only = choose_seed(m, order, w, on, r);
		sp++;
	}
	for (u64 s = 0; s < G.n; s++) {
		bool v = bit(vis, s);

		if (G.flags[s] & SF_TERMINAL) {
			r->terminal += v;
			r->missed_terminal += !v;
		} else if (G.flags[s] & SF_DEADLOCK) {
			r->deadlock += v;
			r->missed_deadlock += !v;
		} else if (G.flags[s] & SF_SINK) {
			r->missed_sinks += !v;
		}
	}
	free(vis);
	free(on);
	free(stk);
	r->seconds = now_seconds() - t0;
}

/* The next permutation of o[0..n) in lexicographic order; false after the last. */
static bool next_order(int *o, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && o[i] >= o[i + 1])
		i--;
	if (i < 0)
		return false;
	while (o[j] <= o[i])
		j--;
	t = o[i], o[i] = o[j], o[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = o[i], o[i] = o[j], o[j] = t;
	return true;
}

static void actor_name(const struct scenario *s, int g, char *buf, size_t len)
{
	int nf = s->nr_vcpus + s->nr_actors;

	if (g >= nf) {	/* x86-TSO: fiber g - nf's store buffer */
		char who[12];

		actor_name(s, g - nf, who, sizeof(who));
		snprintf(buf, len, "sb:%s", who);
	} else if (g < s->nr_vcpus)
		snprintf(buf, len, "vcpu%d", g);
	else
		snprintf(buf, len, "actor%d", g - s->nr_vcpus);
}

/*
 * The proviso search with the candidates tried in every order of the
 * actors (a fixed priority instead of fiber order); returns the fewest
 * states and whether every order kept the terminal states, deadlocks and
 * findings.
 */
static bool all_orders(const struct scenario *s, u64 *best)
{
	int o[CHK_MAX_FIBERS];
	struct rresult r;
	bool same = true;
	char who[16];

	*best = ~0ull;
	for (int i = 0; i < G.nf; i++)
		o[i] = i;
	printf("the proviso search (full) with the actors tried in each order:\n");
	do {
		reduce(RM_PROVISO, o, &r);
		printf(" ");
		for (int i = 0; i < G.nf; i++) {
			actor_name(s, o[i], who, sizeof(who));
			printf(" %s", who);
		}
		printf(": %llu states\n", (unsigned long long)r.states);
		if (r.states < *best)
			*best = r.states;
		same &= !r.missed_terminal && !r.missed_deadlock && !r.missed_sinks;
	} while (next_order(o, G.nf));
	return same;
}

/* ---- naming footprint entries ------------------------------------------------------------ */

struct field {
	const char *name;
	size_t off, size, esize;	/* esize: an array's element size, 0 for a scalar */
};

#define FLD(type, m) { #m, offsetof(type, m), sizeof(((type *)0)->m), 0 }
#define ARR(type, m) { #m, offsetof(type, m), sizeof(((type *)0)->m), sizeof(((type *)0)->m[0]) }

static const struct field kvm_fields[] = {
	FLD(struct kvm, cfg), FLD(struct kvm, mmu_lock), FLD(struct kvm, slots_lock), FLD(struct kvm, lock),
	FLD(struct kvm, mmu_invalidate_seq), FLD(struct kvm, mmu_invalidate_in_progress),
	FLD(struct kvm, mmu_invalidate_range_start), FLD(struct kvm, mmu_invalidate_range_end),
	FLD(struct kvm, nr_memslots), FLD(struct kvm, memslots_generation), ARR(struct kvm, memslots),
	FLD(struct kvm, nr_host_pages), ARR(struct kvm, host_pages), FLD(struct kvm, online_vcpus),
	FLD(struct kvm, created_vcpus), ARR(struct kvm, vcpus), FLD(struct kvm, arch.apicv_inhibit_reasons),
	FLD(struct kvm, arch.apicv_update_lock), FLD(struct kvm, arch.apic_access_memslot_enabled),
	FLD(struct kvm, arch.tdp_root), FLD(struct kvm, arch.nr_pt_pool), ARR(struct kvm, arch.pt_pool),
	FLD(struct kvm, ghost_requesters), { NULL, 0, 0, 0 }
};

static const struct field vcpu_fields[] = {
	FLD(struct kvm_vcpu, kvm), FLD(struct kvm_vcpu, vcpu_id), FLD(struct kvm_vcpu, vcpu_idx),
	FLD(struct kvm_vcpu, cpu), FLD(struct kvm_vcpu, mode), FLD(struct kvm_vcpu, requests),
	FLD(struct kvm_vcpu, wakeup_seq), FLD(struct kvm_vcpu, halted), FLD(struct kvm_vcpu, program),
	FLD(struct kvm_vcpu, arch.apicv_active), FLD(struct kvm_vcpu, arch.apic),
	FLD(struct kvm_vcpu, arch.mmu_page_cache), FLD(struct kvm_vcpu, arch.ctrl),
	FLD(struct kvm_vcpu, arch.exit), FLD(struct kvm_vcpu, arch.rip), FLD(struct kvm_vcpu, ghost.ref),
	FLD(struct kvm_vcpu, ghost.fault_active), FLD(struct kvm_vcpu, ghost.fault_zapped),
	FLD(struct kvm_vcpu, ghost.fault_gfn), { NULL, 0, 0, 0 }
};

static const struct field lapic_fields[] = {
	FLD(struct kvm_lapic, vcpu), FLD(struct kvm_lapic, base_address), FLD(struct kvm_lapic, sw_enabled),
	FLD(struct kvm_lapic, irr_pending), FLD(struct kvm_lapic, isr_count),
	FLD(struct kvm_lapic, highest_isr_cache), FLD(struct kvm_lapic, last_mmio_read), { NULL, 0, 0, 0 }
};

static const struct field pcpu_fields[] = {
	FLD(struct pcpu, irqs_disabled), FLD(struct pcpu, ipi_pending), { NULL, 0, 0, 0 }
};

static const struct field vmm_fields[] = {
	FLD(struct vmm, kvm), FLD(struct vmm, scn), FLD(struct vmm, nr_vcpus), ARR(struct vmm, vcpus),
	ARR(struct vmm, created), { NULL, 0, 0, 0 }
};

/*
 * Each vCPU's objects as some state has them: a vCPU an actor creates exists
 * only in later states, not in the initial one that is live at the end.
 */
static struct vcpu_objs {
	int idx;
	const struct kvm_vcpu *vcpu;
	const struct kvm_lapic *apic, *ref;
} vobj[2 * KVM_MAX_VCPUS];
static int nr_vobj;

/* Called in every new state: record the objects of the vCPUs created there. */
static void note_vcpus(void)
{
	const struct vmm *vmm = checker_model();

	for (int i = 0; i < vmm->nr_vcpus; i++) {
		const struct kvm_vcpu *v = vmm->created[i] ? vmm->vcpus[i] : NULL;
		bool known = false;

		for (int j = 0; j < nr_vobj && !known; j++)
			known = vobj[j].idx == i && vobj[j].vcpu == v;
		if (!v || known || nr_vobj == ARRAY_SIZE(vobj))
			continue;
		vobj[nr_vobj++] = (struct vcpu_objs){ i, v, v->arch.apic, v->ghost.ref };
	}
}

static bool within(u64 a, const void *base, size_t size)
{
	return base && a >= (u64)(uintptr_t)base && a < (u64)(uintptr_t)base + size;
}

static void name_field(char *buf, size_t len, const char *obj, const struct field *fl, u64 off)
{
	for (; fl->name; fl++) {
		if (off < fl->off || off >= fl->off + fl->size)
			continue;
		off -= fl->off;
		if (fl->esize && off % fl->esize)
			snprintf(buf, len, "%s.%s[%llu]+%llu", obj, fl->name, (unsigned long long)(off / fl->esize),
				 (unsigned long long)(off % fl->esize));
		else if (fl->esize)
			snprintf(buf, len, "%s.%s[%llu]", obj, fl->name, (unsigned long long)(off / fl->esize));
		else if (off)
			snprintf(buf, len, "%s.%s+%llu", obj, fl->name, (unsigned long long)off);
		else
			snprintf(buf, len, "%s.%s", obj, fl->name);
		return;
	}
	snprintf(buf, len, "%s+%#llx", obj, (unsigned long long)off);
}

/* The object of the model (vmm, kvm, a vCPU's, an SPTE table) holding a, and a's name in it. */
static bool name_object(u64 a, char *buf, size_t len)
{
	const struct vmm *vmm = checker_model();
	const struct kvm *kvm = vmm->kvm;
	char obj[32];

	if (within(a, vmm, sizeof(*vmm))) {
		name_field(buf, len, "vmm", vmm_fields, a - (u64)(uintptr_t)vmm);
		return true;
	}
	if (within(a, kvm, sizeof(*kvm))) {
		name_field(buf, len, "kvm", kvm_fields, a - (u64)(uintptr_t)kvm);
		return true;
	}
	for (int j = 0; j < nr_vobj; j++) {
		const struct kvm_vcpu *v = vobj[j].vcpu;
		const struct kvm_lapic *apic = vobj[j].apic, *ref = vobj[j].ref;
		int i = vobj[j].idx;

		snprintf(obj, sizeof(obj), "vcpu%d", i);
		if (within(a, v, sizeof(*v))) {
			name_field(buf, len, obj, vcpu_fields, a - (u64)(uintptr_t)v);
			return true;
		}
		snprintf(obj, sizeof(obj), "apic%d", i);
		if (within(a, apic, sizeof(*apic))) {
			u64 off = a - (u64)(uintptr_t)apic, r = off - offsetof(struct kvm_lapic, regs);
			const char *reg = lapic_reg_name((u32)(r & ~0xfull));

			if (off < offsetof(struct kvm_lapic, regs))
				name_field(buf, len, obj, lapic_fields, off);
			else if (reg && !(r & 0xf))
				snprintf(buf, len, "%s.%s", obj, reg);
			else
				snprintf(buf, len, "%s.regs+%#llx", obj, (unsigned long long)r);
			return true;
		}
		if (within(a, ref, sizeof(*ref))) {
			snprintf(buf, len, "refapic%d+%#llx", i, (unsigned long long)(a - (u64)(uintptr_t)ref));
			return true;
		}
	}
	for (int i = 0; i < KVMLAB_MAX_ACTORS; i++) {
		const struct pcpu *p = rt->percpu(i);

		snprintf(obj, sizeof(obj), "pcpu%d", i);
		if (within(a, p, sizeof(*p))) {
			name_field(buf, len, obj, pcpu_fields, a - (u64)(uintptr_t)p);
			return true;
		}
	}
	if (within(a, kvm->arch.tdp_root, sizeof(*kvm->arch.tdp_root))) {
		snprintf(buf, len, "spt.root[%llu]",
			 (unsigned long long)((a - (u64)(uintptr_t)kvm->arch.tdp_root) / 8));
		return true;
	}
	for (int i = 0; i < kvm->arch.nr_pt_pool; i++) {
		const struct kvm_pt_pool_entry *pe = &kvm->arch.pt_pool[i];

		if (within(a, pe->sp, sizeof(*pe->sp))) {
			snprintf(buf, len, "spt.L%d(gfn %#llx)[%llu]", pe->level, (unsigned long long)pe->base,
				 (unsigned long long)((a - (u64)(uintptr_t)pe->sp) / 8));
			return true;
		}
	}
	for (int i = 0; i < kvm->nr_memslots; i++) {
		const struct kvm_memory_slot *ms = &kvm->memslots[i];

		if (within(a, ms->ghost_zapped, ms->npages)) {
			snprintf(buf, len, "memslot%d.ghost_zapped[%llu]", i,
				 (unsigned long long)(a - (u64)(uintptr_t)ms->ghost_zapped));
			return true;
		}
	}
	for (u32 i = 0; i < kvm->nr_host_pages; i++)
		if (within(a, kvm->host_pages[i], 4096)) {
			snprintf(buf, len, "page%u+%#llx", i,
				 (unsigned long long)(a - (u64)(uintptr_t)kvm->host_pages[i]));
			return true;
		}
	return false;
}

/* A model address by object and field, as the model's layout (the live state's) says. */
static void name_addr(u64 a, char *buf, size_t len)
{
	if (!checker_model() || !name_object(a, buf, len))
		snprintf(buf, len, "%#llx", (unsigned long long)a);
}

static const char *kind_name(u8 k)
{
	static const char *const n[] = { [FP_READ] = "read", [FP_WRITE] = "write",
					 [FP_LOCK_SHARED] = "lock-shared", [FP_LOCK_EXCL] = "lock-excl" };

	return k < ARRAY_SIZE(n) ? n[k] : "?";
}

static void entry_name(u32 x, char *buf, size_t len)
{
	char where[96];

	if (x == ENT_OVF) {
		snprintf(buf, len, "(footprint overflow)");
		return;
	}
	name_addr(D.e[x].addr, where, sizeof(where));
	snprintf(buf, len, "%s %s/%u", kind_name(D.e[x].kind), where, D.e[x].size);
}

static const u64 *hist_sort_base;
static int hist_nf;

static u64 hist_total(u32 x)
{
	u64 t = 0;

	for (int g = 0; g < hist_nf; g++)
		t += hist_sort_base[(u64)x * hist_nf + g];
	return t;
}

static int cmp_hist(const void *a, const void *b)
{
	u64 x = hist_total(*(const u32 *)a), y = hist_total(*(const u32 *)b);

	return x > y ? -1 : x < y ? 1 : cmp_u32(a, b);
}

/* The entries by their count in h (summed over the actors), most first; malloc'd. */
static u32 *by_count(const u64 *h)
{
	u32 *ord = xcalloc(D.n, sizeof(*ord));

	for (u32 x = 0; x < D.n; x++)
		ord[x] = x;
	hist_sort_base = h;
	hist_nf = G.nf;
	qsort(ord, D.n, sizeof(*ord), cmp_hist);
	return ord;
}

static void print_hist(const char *title, const u64 *h, const u64 *alone, int top, const struct scenario *s)
{
	u32 *ord = by_count(h);
	char name[160], who[16];

	printf("%s\n  %-52s %10s %9s", title, "entry (kind object.field/size)", "total", "alone");
	for (int g = 0; g < G.nf; g++) {
		actor_name(s, g, who, sizeof(who));
		printf(" %9s", who);
	}
	printf("\n");
	for (int i = 0; i < top && i < (int)D.n; i++) {
		u32 x = ord[i];

		if (!hist_total(x))
			break;
		entry_name(x, name, sizeof(name));
		printf("  %-52s %10llu %9llu", name, (unsigned long long)hist_total(x), (unsigned long long)alone[x]);
		for (int g = 0; g < G.nf; g++)
			printf(" %9llu", (unsigned long long)h[(u64)x * G.nf + g]);
		printf("\n");
	}
	free(ord);
}

/* ---- the checker's own searches ------------------------------------------------------------ */

struct check_run {
	enum explore_verdict verdict;
	u64 states, transitions, terminal;
	u64 *terminals;		/* sorted, distinct */
	double seconds;
};

/* As kvmlab check runs: por with persistent sets, merge with invisible-step merging. */
static int run_checker(const struct scenario *s, const struct kvm_config *cfg, bool movers, bool por,
		       bool merge, struct check_run *out)
{
	struct explore_opts eo = { .witness = WITNESS_NONE, .por = por };
	struct explore_result r;
	int e = checker_setup(s, cfg, movers);

	if (e)
		return e;
	checker_reduction(&eo);
	eo.persistent = por;
	eo.merge_invisible = merge;
	explore_run(&eo, &r);
	*out = (struct check_run){ r.verdict, r.states, r.transitions, r.terminal_distinct, r.terminals,
				   r.seconds };
	r.terminals = NULL;
	explore_result_free(&r);
	checker_teardown();
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static double peak_mib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0;
}

/* What one run of the tool computed, for the report. */
struct report {
	const struct scenario *s;
	bool checker;			/* the checker's searches ran */
	/* kvmlab check, kvmlab check --no-merge (the oracle's granularity), --no-por */
	struct check_run chk, nomerge, nopor;
	struct rresult rr[NR_RMODES];
	int order[CHK_MAX_FIBERS];	/* fiber order */
	u64 *term;			/* the full graph's terminal states, sorted */
	u64 nterm, ndeadlock;
	u64 best_order;			/* the proviso search's fewest states over actor orders */
	u64 top, samples, what_if;
};

static void print_counts(const struct report *p)
{
	const struct check_run *runs[] = { &p->nopor, &p->nomerge, &p->chk };
	const char *names[] = { "kvmlab check --no-por", "kvmlab check --no-merge", "kvmlab check (default)" };

	printf("full graph: %llu states, %llu edges (%llu into findings), %llu footprint entries, "
	       "%llu distinct footprints, %s (%llu states in %llu cycles)\n",
	       (unsigned long long)G.states, (unsigned long long)G.ne, (unsigned long long)G.sink_edges,
	       (unsigned long long)(D.n - ENT_FIRST), (unsigned long long)F.n,
	       nontrivial_sccs ? "cyclic" : "acyclic", (unsigned long long)cyclic_states,
	       (unsigned long long)nontrivial_sccs);
	printf("\n%-32s %10s %10s %9s %9s %9s\n", "search", "states", "edges", "terminal", "deadlock",
	       "findings");
	printf("%-32s %10llu %10llu %9llu %9llu %9llu\n", "full graph", (unsigned long long)G.states,
	       (unsigned long long)G.ne, (unsigned long long)p->nterm, (unsigned long long)p->ndeadlock,
	       (unsigned long long)G.nsinks);
	for (int i = 0; i < 3 && p->checker; i++)
		printf("%-32s %10llu %10llu %9llu %9s %9s  %s\n", names[i], (unsigned long long)runs[i]->states,
		       (unsigned long long)runs[i]->transitions, (unsigned long long)runs[i]->terminal, "", "",
		       explore_verdict_name(runs[i]->verdict));
	for (int m = 0; m < NR_RMODES; m++)
		printf("%-32s %10llu %10llu %9llu %9llu %9llu\n", rmode_name[m],
		       (unsigned long long)p->rr[m].states, (unsigned long long)p->rr[m].edges,
		       (unsigned long long)p->rr[m].terminal, (unsigned long long)p->rr[m].deadlock,
		       (unsigned long long)p->rr[m].sinks);
}

static void print_actors(const struct report *p)
{
	const struct rresult *r = &p->rr[RM_PROVISO];
	char who[16];

	printf("\nactors (states where enabled / where a valid single-actor persistent set / "
	       "expanded alone by the proviso search):\n");
	for (int g = 0; g < G.nf; g++) {
		actor_name(p->s, g, who, sizeof(who));
		printf("  %-8s %10llu %10llu %10llu\n", who, (unsigned long long)enabled_at[g],
		       (unsigned long long)qualifies_at[g], (unsigned long long)r->seeded[g]);
	}
	printf("  proviso search: %llu states expanded fully with no actor qualifying, %llu by the proviso\n",
	       (unsigned long long)r->none, (unsigned long long)r->proviso);
	for (u64 i = 0; i < G.nsinks; i++) {
		snprintf(who, sizeof(who), "harness");
		if (G.sinks[i].actor >= 0 && G.sinks[i].actor < G.nf)
			actor_name(p->s, G.sinks[i].actor, who, sizeof(who));
		printf("  finding: %s (%s, %s): %s\n", kvm_finding_name(G.sinks[i].kind), who, G.sinks[i].where,
		       G.sinks[i].msg);
	}
	if (p->top) {
		printf("\n");
		print_hist("what blocks an actor: others' entries reachable without it that conflict with its "
			   "transition\n((state, actor) pairs; alone: the only such entry)", hist_other, alone_other,
			   (int)p->top, p->s);
		print_hist("and the actor's own entries that they conflict with", hist_own, alone_own, (int)p->top,
			   p->s);
	}
}

static bool kept_all(const struct rresult *r)
{
	return !r->missed_terminal && !r->missed_deadlock && !r->missed_sinks;
}

/*
 * What if one entry conflicted with nothing: the oracle recomputed so and
 * the proviso search's states, for the n entries that block the most
 * (state, actor) pairs.  Not a sound reduction: a bound on what a finer
 * footprint or summary of that entry could give; losing terminal states
 * says that entry's conflicts matter.
 */
static void what_if(const struct report *p, u64 n)
{
	u32 *ord = by_count(hist_other);
	u16 *q = xcalloc(G.n, sizeof(*q)), *at_s = qual;
	char name[160];
	struct rresult r;

	printf("\nwhat if one entry conflicted with nothing (not sound: a bound on what a finer footprint of "
	       "it could give);\nthe proviso search's states (%llu as it is):\n",
	       (unsigned long long)p->rr[RM_PROVISO].states);
	qual = q;
	for (u64 i = 0; i < n && i < D.n; i++) {
		u32 x = ord[i];

		if (!hist_total(x))
			break;
		build_conflicts(x);
		oracle(q, false);
		reduce(RM_PROVISO, p->order, &r);
		entry_name(x, name, sizeof(name));
		printf("  %-52s %10llu%s\n", name, (unsigned long long)r.states,
		       kept_all(&r) ? "" : "  (loses terminal states, deadlocks or findings)");
	}
	qual = at_s;
	build_conflicts(NONE);
	free(q);
	free(ord);
}

/* The other actor orders, and the other reading of the definition; false if one loses a state it must keep. */
static bool print_variants(struct report *p)
{
	bool ok = true;

	if (G.nf <= 4) {
		printf("\n");
		ok &= all_orders(p->s, &p->best_order);
	}
	printf("\ng's footprint taken at each state of the path instead of at s: %llu (state, actor) pairs "
	       "qualify only that way, %llu only the other way\n", (unsigned long long)local_differs[0],
	       (unsigned long long)local_differs[1]);
	if (local_differs[0] || local_differs[1]) {
		u16 *at_s = qual;
		struct rresult lr;

		qual = qual_local;
		reduce(RM_PROVISO, p->order, &lr);
		qual = at_s;
		printf("  the proviso search (full) with that reading: %llu states, terminal states, deadlocks "
		       "and findings %s\n", (unsigned long long)lr.states, kept_all(&lr) ? "kept" : "NOT ALL KEPT");
		ok &= kept_all(&lr);
	}
	return ok;
}

/*
 * --summaries: at every state, which actors kvmlab check's rule (the
 * actor's transitions there conflict with no summary of an actor that can
 * move while it is held) accepts as a single-actor persistent set; the
 * proviso search with that rule in place of the oracle's; and, where the
 * oracle accepts an actor and the rule does not, which other actor's
 * summary stood in the way, by location class.  The rule is sound, so it
 * never accepts an actor the oracle rejects (checked).
 */
static struct where {
	char key[120];
	u64 n;
} *wh;
static u64 nwh, whcap;

/* Counts a rejected pair by the seed, the actor in the way and where that one stands. */
static void where_count(int g, int h, const struct pending *pd, bool enabled)
{
	char a[64], key[120];
	static const char *const kinds[] = { "none", "access", "lock", "wait", "choose", "done", "drain" };

	if (pd->kind == PK_ACCESS || pd->kind == PK_LOCK || pd->kind == PK_WAIT)
		name_addr(pd->addr, a, sizeof(a));
	else
		a[0] = 0;
	snprintf(key, sizeof(key), "%d %d %s%s %s", g, h, enabled ? "" : "blocked ",
		 pd->kind < 7 ? kinds[pd->kind] : "?", a);
	for (u64 i = 0; i < nwh; i++)
		if (!strcmp(wh[i].key, key)) {
			wh[i].n++;
			return;
		}
	wh = grow(wh, &whcap, nwh + 1, sizeof(*wh));
	snprintf(wh[nwh].key, sizeof(wh[nwh].key), "%s", key);
	wh[nwh++].n = 1;
}

/*
 * Entries the checker's location classes leave out on purpose: the
 * overflow pseudo-entries (an overflowed footprint conflicts with
 * everything here, and only its real accesses matter to the checker's
 * rule) and, under x86-TSO, a fiber's store-buffer slots, which only the
 * fiber (appending) and its flusher (taking the oldest) touch, and which
 * commute.
 */
static u64 *ignored;

static void ignored_build(void)
{
	ignored = xcalloc(W, sizeof(*ignored));
	set_add(ignored, ENT_ANY);
	set_add(ignored, ENT_OVF);
	for (u32 x = ENT_FIRST; x < D.n; x++)
		if (sched_sb_addr(D.e[x].addr))
			set_add(ignored, x);
}

/*
 * Whether an edge reachable from s0 without g's conflicts with one of g's
 * edges at s0 through entries other than the ignored ones; with 'print',
 * describes the first such edge.
 */
static bool real_conflict(u64 s0, int g, bool print)
{
	u64 *gconf = xcalloc(W, sizeof(*gconf)), *ents = xcalloc(W, sizeof(*ents));
	u8 *seen = xcalloc(G.n, 1);
	u32 *q = xcalloc(G.n, sizeof(*q));
	u64 qh = 0, qt = 0;
	bool found = false;
	char buf[128];

	for (u32 e = G.off[s0]; e < G.off[s0 + 1]; e++)
		if ((int)G.fiber[e] == g) {
			const u64 *ge = setw(fp_ents[G.fp[e]]);

			for (u32 i = 0; i < W; i++)
				for (u64 m = ge[i] & ~ignored[i]; m; m &= m - 1)
					set_or(gconf, conf_row + ((u64)i * 64 + __builtin_ctzll(m)) * W);
		}
	q[qt++] = (u32)s0;
	seen[s0] = 1;
	while (qh < qt && !found) {
		u32 u = q[qh++];

		for (u32 e = G.off[u]; e < G.off[u + 1] && !found; e++) {
			const u64 *fe = setw(fp_ents[G.fp[e]]);

			if ((int)G.fiber[e] == g)
				continue;
			for (u32 i = 0; i < W; i++)
				ents[i] = fe[i] & ~ignored[i];
			if (set_meets(gconf, ents)) {
				found = true;
				if (!print)
					break;
				printf("  e.g. at state %llu the rule accepts actor %d; actor %d's edge from state %u conflicts with it:\n",
				       (unsigned long long)s0, g, G.fiber[e], u);
				for (u32 i = 0; i < W; i++)
					for (u64 m = ents[i] & gconf[i]; m; m &= m - 1) {
						entry_name((u32)(i * 64 + __builtin_ctzll(m)), buf, sizeof(buf));
						printf("    %s\n", buf);
					}
				break;
			}
			if (!seen[G.dst[e]] && !(G.flags[G.dst[e]] & SF_SINK)) {
				seen[G.dst[e]] = 1;
				q[qt++] = G.dst[e];
			}
		}
	}
	free(gconf);
	free(ents);
	free(seen);
	free(q);
	return found;
}

/* The classes of g's edges at s, into *m; false if g has none there. */
static bool edges_mask(u64 s, int g, struct locmask *m)
{
	bool any = false;

	*m = (struct locmask){ 0, 0 };
	for (u32 e = G.off[s]; e < G.off[s + 1]; e++)
		if (G.fiber[e] == g) {
			any = true;
			m->r |= S.em[e].r;
			m->w |= S.em[e].w;
		}
	return any;
}

/* The classes of entry set id (memoized per set in memo/have). */
static struct locmask set_classes(u32 id, struct locmask *memo, u8 *have)
{
	if (!have[id]) {
		const u64 *r = setw(id);
		struct locmask f = { 0, 0 };

		for (u32 i = 0; i < W; i++)
			for (u64 b = r[i]; b; b &= b - 1) {
				u64 x = (u64)i * 64 + __builtin_ctzll(b);

				if (x < ENT_FIRST || !sched_sb_addr(D.e[x].addr)) {
					f.r |= ecls[x].r;
					f.w |= ecls[x].w;
				}
			}
		memo[id] = f;
		have[id] = 1;
	}
	return memo[id];
}

/* class_bound()'s keyed bounds: one actor's distinct point keys, and per key the union of its exact futures. */
static struct {
	u64 *key;
	struct locmask *m;
	u64 n, kcap, mcap;
} PK;

static u64 pk_hash(u32 id) { return PK.key[id]; }	/* point_key() is a hash already */
static bool pk_eq(u32 id, const void *key) { return PK.key[id] == *(const u64 *)key; }

static u32 pk_id(struct idtab *t, u64 key)
{
	u32 *slot = idtab_find(t, key, pk_eq, &key);

	if (*slot)
		return *slot - 1;
	PK.key = grow(PK.key, &PK.kcap, PK.n + 1, sizeof(*PK.key));
	PK.m = grow(PK.m, &PK.mcap, PK.n + 1, sizeof(*PK.m));
	PK.key[PK.n] = key;
	PK.m[PK.n] = (struct locmask){ 0, 0 };
	idtab_insert(t, slot, (u32)PK.n);
	return (u32)PK.n++;
}

/*
 * The checker's rule with the actors in 'exact' given their exact future
 * (the oracle's, per actor: what h may touch while g is held, mapped to the
 * location classes) in place of their summaries; the others keep theirs.
 * With every actor exact it is the best any summary over today's classes
 * could do.  Overflow and store-buffer entries count for nothing here, as
 * in the checker.  With key 1 or 2 (only script actors in 'exact'), an
 * actor gets the union of its exact futures over the states where it
 * stands at the same point (point_key(), without or with the vCPUs'
 * modes), and counts only where it can move while g is held (as its
 * summary would).  Returns the proviso search's states.
 */
static u64 class_bound(const struct report *p, u32 exact, int key, bool *kept)
{
	u32 *R = xcalloc((u64)G.n * G.nf, sizeof(*R));
	struct locmask *keyed = key ? xcalloc((u64)G.n * G.nf, sizeof(*keyed)) : NULL;
	u16 *cq = xcalloc(G.n, sizeof(*cq)), *oq = qual;
	struct locmask *memo = NULL;
	u8 *have = NULL;
	u64 memocap = 0, havecap = 0;
	struct rresult rr;

	for (u32 x = 0; x < ENT_FIRST; x++)
		ecls[x] = (struct locmask){ 0, 0 };
	for (int g = 0; g < G.nf; g++) {
		for (int h = 0; h < G.nf; h++) {
			if (h == g || !((exact >> h) & 1))
				continue;
			tarjan_only = h;
			tarjan(g, R + (u64)h * G.n, NULL);
		}
		tarjan_only = -1;
		memo = grow(memo, &memocap, B.n, sizeof(*memo));
		have = grow(have, &havecap, B.n, 1);
		memset(have, 0, B.n);
		for (int h = 0; key && h < G.nf; h++) {
			struct idtab t;

			if (h == g || !((exact >> h) & 1))
				continue;
			idtab_init(&t, pk_hash);
			PK.n = 0;
			for (int pass = 0; pass < 2; pass++)
				for (u64 s = 0; s < G.n; s++) {
					u32 id;

					if (G.flags[s] & SF_SINK)
						continue;
					id = pk_id(&t, S.st[s].point[key - 1][h]);
					if (pass == 0) {
						struct locmask e = set_classes(R[(u64)h * G.n + s], memo, have);

						PK.m[id].r |= e.r;
						PK.m[id].w |= e.w;
					} else {
						keyed[(u64)h * G.n + s] = PK.m[id];
					}
				}
			idtab_free(&t);
		}
		for (u64 s = 0; s < G.n; s++) {
			const struct sstate *x = &S.st[s];
			struct locmask m;
			bool conflict = false;
			u32 others;

			if ((G.flags[s] & SF_SINK) || !edges_mask(s, g, &m))
				continue;
			others = explore_movable_without(x->live, x->enabled, x->fut, x->blk_wait, x->blk_lock, g);
			for (int h = 0; h < G.nf && !conflict; h++) {
				if (h == g)
					continue;
				if ((exact >> h) & 1 && key) {
					conflict = ((others >> h) & 1) && locmask_conflict(m, keyed[(u64)h * G.n + s]);
				}
				else if ((exact >> h) & 1)
					conflict = locmask_conflict(m, set_classes(R[(u64)h * G.n + s], memo, have));
				else
					conflict = ((others >> h) & 1) &&
						   locmask_conflict(m, explore_held_summary(x->fut, held_of(s), G.nf, g, h));
			}
			if (!conflict)
				cq[s] |= (u16)(1u << g);
		}
	}
	qual = cq;
	reduce(RM_PROVISO, p->order, &rr);
	qual = oq;
	*kept = kept_all(&rr);
	free(R);
	free(keyed);
	free(cq);
	free(memo);
	free(have);
	return rr.states;
}

/*
 * class_bound() with every actor, only the vCPUs, and only the other actors
 * exact; then the script actors' best per-point summaries (point_key()).
 */
static void class_bounds(const struct report *p)
{
	u32 all = (1u << G.nf) - 1, vcpus = (1u << p->s->nr_vcpus) - 1;
	u32 scripts = ((1u << sched_nr_fibers()) - 1) & ~vcpus;
	static const char *const what[] = {
		"every actor's exact future at class granularity in place of its summary",
		"... only the vCPUs' (the other actors keep their summaries)",
		"... only the other actors' (the vCPUs keep their summaries)",
		"the script actors' best summary per program point (op, locks held, requests in flight, "
		"inhibit reasons, invalidation in progress, next step)",
		"... per program point and the vCPUs' modes",
	};
	u32 masks[] = { all, vcpus, all & ~vcpus, scripts, scripts };

	printf("\n");
	for (int i = 0; i < 5; i++) {
		bool kept;
		u64 n = class_bound(p, masks[i], i < 3 ? 0 : i - 2, &kept);

		printf("with %s: %llu states, terminal states, deadlocks and findings %s\n", what[i],
		       (unsigned long long)n, kept ? "kept" : "NOT ALL KEPT");
	}
}

static bool summary_gap(const struct report *p)
{
	u64 *hist = xcalloc((u64)G.nf * G.nf * 64, sizeof(*hist));
	u64 both = 0, gap = 0, unsound = 0, excused = 0, rule_states;
	u16 *squal = xcalloc(G.n, sizeof(*squal)), *oq = qual;
	struct rresult rr;

	ignored_build();
	for (u64 s = 0; s < G.n; s++) {
		const struct sstate *x = &S.st[s];

		if (G.flags[s] & SF_SINK)
			continue;
		for (int g = 0; g < G.nf; g++) {
			struct locmask m;
			bool conflict = false;
			u32 others;

			if (!edges_mask(s, g, &m))
				continue;
			others = explore_movable_without(x->live, x->enabled, x->fut, x->blk_wait, x->blk_lock, g);
			for (int h = 0; h < G.nf; h++) {
				struct locmask fh = explore_held_summary(x->fut, held_of(s), G.nf, g, h);
				u64 cls;

				if (!((others >> h) & 1) || !locmask_conflict(m, fh))
					continue;
				conflict = true;
				if (!((qual[s] >> g) & 1))
					continue;
				cls = (m.w & (fh.r | fh.w)) | (m.r & fh.w);
				where_count(g, h, &x->pend[h], (x->enabled >> h) & 1);
				for (; cls; cls &= cls - 1)
					hist[((u64)g * G.nf + h) * 64 + __builtin_ctzll(cls)]++;
			}
			if (!conflict)
				squal[s] |= (u16)(1u << g);
			if ((qual[s] >> g) & 1) {
				if (conflict)
					gap++;
				else
					both++;
			} else if (!conflict) {
				if (real_conflict(s, g, !unsound))
					unsound++;
				else
					excused++;
			}
		}
	}
	qual = squal;
	reduce(RM_PROVISO, p->order, &rr);
	qual = oq;
	rule_states = rr.states;
	class_bounds(p);
	printf("\nkvmlab check's rule (its summaries, at every state, seeds in fiber order, with the proviso): "
	       "%llu states, terminal states, deadlocks and findings %s\n", (unsigned long long)rule_states,
	       kept_all(&rr) ? "kept" : "NOT ALL KEPT");
	printf("(state, actor) pairs the oracle accepts: %llu the rule accepts too, %llu it rejects; "
	       "the rule accepts %llu the oracle rejects%s\n", (unsigned long long)both,
	       (unsigned long long)gap, (unsigned long long)unsound, unsound ? " (UNSOUND)" : "");
	printf("(and %llu the oracle rejects only through an overflowed footprint or a store buffer's slots, "
	       "which the checker's classes leave out)\n", (unsigned long long)excused);
	printf("where the rule rejects what the oracle accepts: the summary in the way, by class\n"
	       "  (state, actor) pairs  actor  summary of  class\n");
	for (u64 n = 0; n < p->top; n++) {
		u64 best = 0, bi = 0;
		char ga[16], ha[16], cn[96];

		for (u64 i = 0; i < (u64)G.nf * G.nf * 64; i++)
			if (hist[i] > best) {
				best = hist[i];
				bi = i;
			}
		if (!best)
			break;
		actor_name(p->s, (int)(bi / 64 / G.nf), ga, sizeof(ga));
		actor_name(p->s, (int)(bi / 64 % G.nf), ha, sizeof(ha));
		printf("  %20llu  %-6s %-10s  %s\n", (unsigned long long)best, ga, ha,
		       S.o.class_name((int)(bi % 64), cn, sizeof(cn), S.o.fut_arg));
		hist[bi] = 0;
	}
	printf("  ... by where the actor in the way stands (seed, actor in the way, its next step)\n");
	for (u64 n = 0; n < p->top; n++) {
		u64 best = 0, bi = 0;

		for (u64 i = 0; i < nwh; i++)
			if (wh[i].n > best) {
				best = wh[i].n;
				bi = i;
			}
		if (!best)
			break;
		printf("  %20llu  %s\n", (unsigned long long)best, wh[bi].key);
		wh[bi].n = 0;
	}
	free(wh);
	free(hist);
	free(squal);
	free(ignored);
	return kept_all(&rr) && !unsound;
}

/* A run of the checker found the full graph's terminal states. */
static bool same_terminals(const struct report *p, const struct check_run *c)
{
	return c->terminal == p->nterm && !memcmp(c->terminals, p->term, p->nterm * sizeof(*p->term));
}

/* The reduced graphs keep what they must, and the checker's searches agree with the enumeration. */
static bool checks(const struct report *p)
{
	const struct rresult *plain = &p->rr[RM_PLAIN];
	bool ok = true;

	printf("\n");
	for (int m = RM_PROVISO; m < NR_RMODES; m++) {
		const struct rresult *r = &p->rr[m];

		printf("%s: terminal states %s, deadlocks %s, findings %s\n", rmode_name[m],
		       r->missed_terminal ? "MISSING SOME" : "the same",
		       r->missed_deadlock ? "MISSING SOME" : "the same", r->missed_sinks ? "MISSING SOME" : "the same");
		ok &= kept_all(r);
	}
	if (!kept_all(plain)) {
		printf("%s: misses %llu terminal states, %llu deadlocks, %llu findings%s\n", rmode_name[RM_PLAIN],
		       (unsigned long long)plain->missed_terminal, (unsigned long long)plain->missed_deadlock,
		       (unsigned long long)plain->missed_sinks,
		       nontrivial_sccs ? " (the graph has cycles: the ignoring problem)" : "");
		ok &= nontrivial_sccs != 0;
	}
	if (p->checker && p->nopor.verdict == VERDICT_VERIFIED) {
		bool same = p->nopor.states == G.states && same_terminals(p, &p->nopor);

		printf("kvmlab check --no-por: %llu states, the enumeration %llu; terminal states %s\n",
		       (unsigned long long)p->nopor.states, (unsigned long long)G.states,
		       same ? "the same" : "DIFFERENT");
		ok &= same;
	}
	for (int i = 0; i < 2 && p->checker; i++) {
		const struct check_run *c = i ? &p->nomerge : &p->chk;
		bool same = same_terminals(p, c);

		if (c->verdict != VERDICT_VERIFIED)
			continue;
		printf("kvmlab check%s's terminal states: %s\n", i ? " --no-merge" : "",
		       same ? "the same set as the full graph's" : "DIFFERENT from the full graph's");
		ok &= same;
	}
	if (p->samples) {
		u64 bad = validate(p->samples);

		printf("validation: the oracle agrees with a brute-force search at %llu sampled states%s\n",
		       (unsigned long long)p->samples, bad ? ": NO" : "");
		if (bad)
			printf("validation: %llu disagreements\n", (unsigned long long)bad);
		ok &= !bad;
	}
	return ok;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: por-oracle [options]\n"
		"Enumerates the full state graph of a small configuration and computes how many\n"
		"states the best single-actor persistent-set reduction (with the checker's cycle\n"
		"proviso) visits, next to kvmlab check's own count.  Exit 0: the reduced graphs keep\n"
		"the full graph's terminal states, deadlocks and findings and the cross-checks\n"
		"agree; 1: they do not; 2: usage; 3: a bound stopped the enumeration.\n"
		"  --scenario NAME|FILE   built-in scenario or scenario file (default seed)\n"
		"  --policy vm|vcpu --vendor svm|vmx --bug SLUG   as for kvmlab check\n"
		"  --vcpus N --toggles N --accesses N   shape of the seed scenario (2, 3, 2)\n"
		"  --fine                 one transition per scheduling point (default: movers, as check)\n"
		"  --memory-model sc|tso --store-buffer N   as for kvmlab check (the store buffers'\n"
		"                         flushers are actors of their own under tso)\n"
		"  --no-races             no race detection (check's default is on; it changes the\n"
		"                         state space: see docs/design.md)\n"
		"  --max-states N         stop the enumeration after N states (exit 3)\n"
		"  --no-checker           do not run kvmlab check's searches for comparison\n"
		"  --validate N           recompute the oracle by brute force at N sampled states\n"
		"  --top N                rows of the blocking histograms (default 12, 0: none)\n"
		"  --what-if N            for the N entries that block the most, the states if that\n"
		"                         entry conflicted with nothing (a bound, not a sound reduction)\n"
		"  --summaries            kvmlab check's persistent-set rule (its future-access\n"
		"                         summaries, narrowed while the seed is held) at every state,\n"
		"                         next to the oracle, and which summaries keep it from\n"
		"                         accepting what the oracle accepts; with bounds from exact\n"
		"                         futures per actor and per script actor's program point\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		KNOB_OPTIONS,				    { "fine", no_argument, NULL, 'F' },
		{ "no-races", no_argument, NULL, 'R' },	    { "max-states", required_argument, NULL, 'm' },
		{ "no-checker", no_argument, NULL, 'C' },   { "validate", required_argument, NULL, 'V' },
		{ "top", required_argument, NULL, 't' },    { "what-if", required_argument, NULL, 'w' },
		{ "summaries", no_argument, NULL, 'S' },
		{ "memory-model", required_argument, NULL, 'X' },
		{ "store-buffer", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct scenario *s = xcalloc(1, sizeof(*s));
	struct report rep = { .s = s, .checker = true, .top = 12 };
	struct knob_opts k;
	struct kvm_config cfg;
	bool movers = true, races = true, ok;
	u64 max_states = 0, store_buffer = 0;
	bool tso = false;
	const char *why = "";
	double t0, t_enum, t_oracle, t_reduce;
	int c, idx, r = 0;

#ifdef KVMLAB_TSAN
	fprintf(stderr, TOOL ": not available in ThreadSanitizer builds (the checker restores fiber stacks)\n");
	free(s);
	return EXIT_USAGE;
#endif
	knob_opts_init(&k);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (c) {
		case 0:
			r = knob_opt_parse(TOOL, &k, opts[idx].name, optarg);
			break;
		case 'F':
			movers = false;
			break;
		case 'R':
			races = false;
			break;
		case 'C':
			rep.checker = false;
			break;
		case 'S':
			S.on = true;
			break;
		case 'X':
			r = memory_model_parse(TOOL, optarg, &tso);
			break;
		case 'B':
			r = parse_u64_flag(TOOL, "store-buffer", optarg, 1, SCHED_SB_MAX, &store_buffer);
			break;
		case 'm':
			r = parse_u64_flag(TOOL, "max-states", optarg, 1, NONE - 2, &max_states);
			break;
		case 'V':
			r = parse_u64_flag(TOOL, "validate", optarg, 0, 1u << 30, &rep.samples);
			break;
		case 't':
			r = parse_u64_flag(TOOL, "top", optarg, 0, 1u << 20, &rep.top);
			break;
		case 'w':
			r = parse_u64_flag(TOOL, "what-if", optarg, 0, 1u << 20, &rep.what_if);
			break;
		case 'h':
			usage(stdout);
			goto out;
		default:
			r = cmd_usage_error(TOOL, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
		if (r)
			goto out;
	}
	if (optind < argc)
		r = cmd_usage_error(TOOL, "unexpected argument '%s'", argv[optind]);
	else
		r = knob_load_scenario(TOOL, &k, s);
	if (!r && s->nr_vcpus + s->nr_actors > CHK_MAX_FIBERS)
		r = cmd_usage_error(TOOL, "%d vCPUs + %d actors exceed the checker's %d actors", s->nr_vcpus,
				    s->nr_actors, CHK_MAX_FIBERS);
	if (r)
		goto out;
	knob_config(&k, s, &cfg);
	r = memory_model_config(TOOL, tso, store_buffer, s, &cfg);
	if (r)
		goto out;
	printf("por-oracle: scenario %s (%d vCPU%s, %d actor%s), policy %s, vendor %s, bugs", s->name,
	       s->nr_vcpus, s->nr_vcpus == 1 ? "" : "s", s->nr_actors, s->nr_actors == 1 ? "" : "s",
	       kvm_policy_name(cfg.policy), kvm_vendor_name(cfg.vendor));
	if (!cfg.bugs)
		printf(" none");
	for (int i = 0; i < KVM_NR_BUGS; i++)
		if (cfg.bugs & BIT_ULL(i))
			printf(" %s", kvm_bug_info(i)->slug);
	printf(", %s, races %s", movers ? "movers" : "fine", races ? "checked" : "off");
	if (cfg.store_buffer)
		printf(", x86-TSO (store buffers of %u)", cfg.store_buffer);
	printf("\n");
	fflush(stdout);
	checker_set_races(races);

	/* The checker's own searches first, each from a fresh setup, as kvmlab check runs them. */
	if ((rep.checker && (run_checker(s, &cfg, movers, true, movers, &rep.chk) ||
			     run_checker(s, &cfg, movers, true, false, &rep.nomerge) ||
			     run_checker(s, &cfg, movers, false, false, &rep.nopor))) ||
	    checker_setup(s, &cfg, movers)) {
		r = cmd_usage_error(TOOL, "cannot set up the checker");
		goto out;
	}
	checker_reduction(&S.o);
	t0 = now_seconds();
	idtab_init(&D.t, fent_hash_id);
	D.e = grow(D.e, &D.cap, ENT_FIRST, sizeof(*D.e));
	memset(D.e, 0, ENT_FIRST * sizeof(*D.e));
	D.n = ENT_FIRST;	/* ANY and OVF: never looked up */
	idtab_init(&F.t, fp_hash_id);
	if (!enumerate(max_states, &why)) {
		printf("INCOMPLETE: %s after %llu states, %llu edges\n", why, (unsigned long long)G.states,
		       (unsigned long long)G.ne);
		checker_teardown();
		r = EXIT_INCOMPLETE;
		goto out;
	}
	t_enum = now_seconds() - t0;
	build_csr();
	W = (u32)((D.n + 63) / 64);
	t0 = now_seconds();
	build_sets();
	build_conflicts(NONE);
	qual = xcalloc(G.n, sizeof(*qual));
	oracle(qual, true);
	tarjan(-1, NULL, NULL);
	t_oracle = now_seconds() - t0;
	for (int i = 0; i < G.nf; i++)
		rep.order[i] = i;
	t0 = now_seconds();
	for (int m = 0; m < NR_RMODES; m++)
		reduce(m, rep.order, &rep.rr[m]);
	t_reduce = now_seconds() - t0;

	rep.term = xcalloc(G.n, sizeof(*rep.term));
	for (u64 i = 0; i < G.n; i++) {
		if (G.flags[i] & SF_TERMINAL)
			rep.term[rep.nterm++] = G.hash[i];
		rep.ndeadlock += !!(G.flags[i] & SF_DEADLOCK);
	}
	qsort(rep.term, rep.nterm, sizeof(*rep.term), cmp_u64);

	print_counts(&rep);
	print_actors(&rep);
	ok = print_variants(&rep);
	if (rep.what_if)
		what_if(&rep, rep.what_if);
	if (S.on)
		ok &= summary_gap(&rep);
	ok &= checks(&rep);
	printf("\nsummary: full %llu checker %llu checker-no-merge %llu oracle %llu proviso %llu proviso-next %llu "
	       "acyclic %s best-order %llu checks %s\n", (unsigned long long)G.states,
	       (unsigned long long)rep.chk.states, (unsigned long long)rep.nomerge.states,
	       (unsigned long long)rep.rr[RM_PLAIN].states, (unsigned long long)rep.rr[RM_PROVISO].states,
	       (unsigned long long)rep.rr[RM_PROVISO_NEXT].states, nontrivial_sccs ? "no" : "yes",
	       (unsigned long long)rep.best_order, ok ? "ok" : "FAILED");
	fflush(stdout);
	fprintf(stderr, "time: enumeration %.2f s, oracle %.2f s, 3 reduced searches %.2f s, check %.2f s, "
			"check --no-por %.2f s; %llu entry sets; peak RSS %.0f MiB\n",
		t_enum, t_oracle, t_reduce, rep.chk.seconds, rep.nopor.seconds, (unsigned long long)max_sets,
		peak_mib());
	checker_teardown();
	r = ok ? EXIT_OK : EXIT_VIOLATION;
out:
	free(rep.term);
	free(rep.chk.terminals);
	free(rep.nomerge.terminals);
	free(rep.nopor.terminals);
	free(s);
	return r;
}
