// SPDX-License-Identifier: GPL-2.0
/*
 * x86-TSO litmus tests: the checker's memory models (check --memory-model
 * sc|tso, check/sched.h) against the x86-TSO model of Owens, Sarkar and
 * Sewell ("A better x86 memory model: x86-TSO", TPHOLs 2009) and the
 * examples of the Intel SDM vol. 3A section 8.2.3 (9.2.3 in newer editions).
 *
 * Each test is a small program per CPU, run two ways:
 *   - as fibers of the checker, written against the primitive layer
 *     (WRITE_ONCE, READ_ONCE, xchg, smp_mb, spin_lock) exactly as the model
 *     is, explored exhaustively with and without sleep sets;
 *   - by a reference interpreter in this file that knows nothing of the
 *     checker: the paper's abstract machine (a FIFO store buffer per CPU,
 *     store-to-load forwarding, MFENCE and locked instructions waiting for
 *     an empty buffer, any buffer flushing its oldest store at any time),
 *     or plain interleaving for SC.
 * The sets of final outcomes (registers and memory) must be equal, and
 * the outcome each test is about must be allowed or forbidden as the paper
 * and the SDM say.  Run with store buffers of 1 entry too, it shows which
 * tests need 2 (SCHED_SB_DEFAULT).
 */
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "check/sched.h"
#include "kernel/compiler.h"
#include "kernel/prim.h"
#include "tests/tap.h"

enum lop { L_END, L_ST, L_LD, L_MFENCE, L_XCHG, L_LOCK, L_UNLOCK };

/* One instruction: ST loc val, LD reg <- loc, XCHG reg <- loc <- val. */
struct linsn {
	u8 op, loc, val, reg;
};

#define LT_CPUS 4
#define LT_LEN 5
#define LT_LOCS 3	/* x, y, z */
#define LT_REGS 8

struct litmus {
	const char *name;
	const char *source;
	int cpus;
	struct linsn p[LT_CPUS][LT_LEN];
	int nregs;	/* registers r0..r(nregs-1) are in the outcome */
	u8 final_locs;	/* bitmask: memory locations in the outcome */
	/* The outcome the test is about, as outcome_str() prints it, and its verdicts. */
	const char *key;
	bool sc_allowed, tso_allowed;
};

#define ST(l, v) { L_ST, l, v, 0 }
#define LD(r, l) { L_LD, l, 0, r }
#define XCHG(r, l, v) { L_XCHG, l, v, r }
#define MFENCE { L_MFENCE, 0, 0, 0 }
#define LOCK { L_LOCK, 0, 0, 0 }
#define UNLOCK { L_UNLOCK, 0, 0, 0 }
enum { X, Y, Z };

static const struct litmus tests[] = {
	{ "SB", "x86-TSO paper; SDM 8.2.3.4 (loads may be reordered with older stores)", 2,
	  { { ST(X, 1), LD(0, Y) }, { ST(Y, 1), LD(1, X) } }, 2, 0, "r0=0 r1=0", false, true },
	{ "SB+mfences", "SDM 8.2.3.4 with MFENCE (smp_mb())", 2,
	  { { ST(X, 1), MFENCE, LD(0, Y) }, { ST(Y, 1), MFENCE, LD(1, X) } }, 2, 0, "r0=0 r1=0", false, false },
	{ "SB+xchgs", "SDM 8.2.3.9 (loads and stores are not reordered with locked instructions)", 2,
	  { { XCHG(2, X, 1), LD(0, Y) }, { XCHG(3, Y, 1), LD(1, X) } }, 2, 0, "r0=0 r1=0", false, false },
	{ "MP", "SDM 8.2.3.2 (stores are not reordered with other stores, loads not with loads)", 2,
	  { { ST(X, 1), ST(Y, 1) }, { LD(0, Y), LD(1, X) } }, 2, 0, "r0=1 r1=0", false, false },
	{ "LB", "SDM 8.2.3.3 (stores are not reordered with older loads)", 2,
	  { { LD(0, X), ST(Y, 1) }, { LD(1, Y), ST(X, 1) } }, 2, 0, "r0=1 r1=1", false, false },
	{ "IRIW", "SDM 8.2.3.7 (stores are seen in a consistent order by other processors)", 4,
	  { { ST(X, 1) }, { ST(Y, 1) }, { LD(0, X), LD(1, Y) }, { LD(2, Y), LD(3, X) } },
	  4, 0, "r0=1 r1=0 r2=1 r3=0", false, false },
	{ "IRIW+xchgs", "SDM 8.2.3.8 (locked instructions have a total order)", 4,
	  { { XCHG(4, X, 1) }, { XCHG(5, Y, 1) }, { LD(0, X), LD(1, Y) }, { LD(2, Y), LD(3, X) } },
	  4, 0, "r0=1 r1=0 r2=1 r3=0", false, false },
	{ "n6", "x86-TSO paper, test n6 (forwarding and a store seen late)", 2,
	  { { ST(X, 1), LD(0, X), LD(1, Y) }, { ST(Y, 2), ST(X, 2) } }, 2, 1u << X, "r0=1 r1=0 x=1", false, true },
	{ "SB+forwarding", "SDM 8.2.3.5 (intra-processor forwarding is allowed)", 2,
	  { { ST(X, 1), LD(0, X), LD(1, Y) }, { ST(Y, 1), LD(2, Y), LD(3, X) } },
	  4, 0, "r0=1 r1=0 r2=1 r3=0", false, true },
	{ "WRC", "SDM 8.2.3.6 (stores are transitively visible)", 3,
	  { { ST(X, 1) }, { LD(0, X), ST(Y, 1) }, { LD(1, Y), LD(2, X) } },
	  3, 0, "r0=1 r1=1 r2=0", false, false },
	{ "SB+unlock", "spin_unlock() is a plain store on x86: a later load passes it", 2,
	  { { LOCK, ST(X, 1), UNLOCK, LD(0, Y) }, { ST(Y, 1), MFENCE, LD(1, X) } },
	  2, 0, "r0=0 r1=0", false, true },
	{ "SB+lock", "spin_lock() is a locked instruction: an earlier store is visible first", 2,
	  { { ST(X, 1), LOCK, LD(0, Y), UNLOCK }, { ST(Y, 1), MFENCE, LD(1, X) } },
	  2, 0, "r0=0 r1=0", false, false },
};

static const char *const loc_names = "xyz";

/* The outcome as text: "r0=1 r1=0 x=1". */
static void outcome_str(const struct litmus *t, const u8 *regs, const u8 *mem, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int r = 0; r < t->nregs; r++)
		n += (size_t)snprintf(buf + n, len - n, "%sr%d=%u", n ? " " : "", r, regs[r]);
	for (int l = 0; l < LT_LOCS; l++)
		if (t->final_locs & (1u << l))
			n += (size_t)snprintf(buf + n, len - n, " %c=%u", loc_names[l], mem[l]);
}

/* ---- a set of outcome strings ---------------------------------------------- */

struct oset {
	char s[64][48];
	int n;
};

static void oset_add(struct oset *o, const char *s)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->s[i], s))
			return;
	if (o->n < 64)
		snprintf(o->s[o->n++], sizeof(o->s[0]), "%s", s);
}

static bool oset_has(const struct oset *o, const char *s)
{
	for (int i = 0; i < o->n; i++)
		if (!strcmp(o->s[i], s))
			return true;
	return false;
}

static bool oset_eq(const struct oset *a, const struct oset *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (!oset_has(b, a->s[i]))
			return false;
	return true;
}

static void oset_print(const char *what, const struct oset *o)
{
	char line[1024];
	size_t n = 0;

	for (int i = 0; i < o->n && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s{%s}", i ? " " : "", o->s[i]);
	tap_diag("%s: %s", what, o->n ? line : "(none)");
}

/* ---- the reference: the x86-TSO abstract machine, or interleaving (SC) ---- */

struct ref_state {
	u8 pc[LT_CPUS];
	u8 regs[LT_REGS];
	u8 mem[LT_LOCS];
	s8 lock;		/* holder, -1 free */
	/* Each CPU's FIFO: (loc, val) pairs; loc LT_LOCS = the lock's release. */
	u8 nb[LT_CPUS];
	u8 bl[LT_CPUS][LT_LEN], bv[LT_CPUS][LT_LEN];
};

static void ref_flush(struct ref_state *s, int c)
{
	if (s->bl[c][0] == LT_LOCS)
		s->lock = -1;
	else
		s->mem[s->bl[c][0]] = s->bv[c][0];
	memmove(s->bl[c], s->bl[c] + 1, LT_LEN - 1);
	memmove(s->bv[c], s->bv[c] + 1, LT_LEN - 1);
	s->nb[c]--;
}

static void ref_dfs(const struct litmus *t, bool tso, const struct ref_state *s, struct oset *out)
{
	bool done = true;

	for (int c = 0; c < t->cpus; c++) {
		const struct linsn *i = &t->p[c][s->pc[c]];
		struct ref_state n = *s;
		bool ok = true;

		if (s->nb[c]) {		/* the buffer flushes its oldest entry */
			done = false;
			ref_flush(&n, c);
			ref_dfs(t, tso, &n, out);
			n = *s;
		}
		if (s->pc[c] >= LT_LEN || i->op == L_END)
			continue;
		done = false;
		switch (i->op) {
		case L_ST:
			if (tso) {
				n.bl[c][n.nb[c]] = i->loc;
				n.bv[c][n.nb[c]++] = i->val;
			} else {
				n.mem[i->loc] = i->val;
			}
			break;
		case L_LD:
			n.regs[i->reg] = s->mem[i->loc];
			for (int k = 0; k < s->nb[c]; k++)	/* the newest buffered store forwards */
				if (s->bl[c][k] == i->loc)
					n.regs[i->reg] = s->bv[c][k];
			break;
		case L_MFENCE:
			ok = !s->nb[c];
			break;
		case L_XCHG:
			ok = !s->nb[c];
			n.regs[i->reg] = s->mem[i->loc];
			n.mem[i->loc] = i->val;
			break;
		case L_LOCK:
			ok = !s->nb[c] && s->lock < 0;
			n.lock = (s8)c;
			break;
		case L_UNLOCK:
			if (tso) {
				n.bl[c][n.nb[c]++] = LT_LOCS;
			} else {
				n.lock = -1;
			}
			break;
		}
		if (!ok)
			continue;
		n.pc[c]++;
		ref_dfs(t, tso, &n, out);
	}
	if (done) {
		char o[48];

		outcome_str(t, s->regs, s->mem, o, sizeof(o));
		oset_add(out, o);
	}
}

static void ref_outcomes(const struct litmus *t, bool tso, struct oset *out)
{
	struct ref_state s;

	memset(&s, 0, sizeof(s));
	s.lock = -1;
	out->n = 0;
	ref_dfs(t, tso, &s, out);
}

/* ---- the checker: the same programs as fibers on the primitive layer ---- */

struct lt_shared {
	u32 loc[LT_LOCS];
	u32 pad[13];		/* the locations in one line, the rest apart */
	spinlock_t lock;
	u8 regs[LT_REGS];	/* written by plain stores: each fiber its own */
};

static const struct litmus *cur_test;

static void lt_entry(int fiber, void *arg)
{
	struct lt_shared *sh = arg;

	for (const struct linsn *i = cur_test->p[fiber]; i < cur_test->p[fiber] + LT_LEN && i->op != L_END; i++)
		switch (i->op) {
		case L_ST:
			WRITE_ONCE(sh->loc[i->loc], i->val);
			break;
		case L_LD:
			sh->regs[i->reg] = (u8)READ_ONCE(sh->loc[i->loc]);
			break;
		case L_MFENCE:
			smp_mb();
			break;
		case L_XCHG:
			sh->regs[i->reg] = (u8)xchg(&sh->loc[i->loc], i->val);
			break;
		case L_LOCK:
			spin_lock(&sh->lock);
			break;
		case L_UNLOCK:
			spin_unlock(&sh->lock);
			break;
		}
}

static struct lt_shared *lt_sh;

static int lt_final(char *msg, size_t len, int *actor, void *arg)
{
	struct oset *out = arg;
	u8 mem[LT_LOCS];
	char o[48];

	for (int l = 0; l < LT_LOCS; l++)
		mem[l] = (u8)lt_sh->loc[l];
	outcome_str(cur_test, lt_sh->regs, mem, o, sizeof(o));
	oset_add(out, o);
	return F_NONE;
}

static void checker_outcomes(const struct litmus *t, unsigned store_buffer, bool por, struct oset *out,
			     struct explore_result *r)
{
	struct explore_opts o = { .witness = WITNESS_NONE, .por = por, .check_final = lt_final, .fut_arg = out };

	out->n = 0;
	cur_test = t;
	if (sched_init(1 << 20) || sched_set_tso(store_buffer))
		abort();
	lt_sh = kvm_zalloc(sizeof(*lt_sh));
	spin_lock_init(&lt_sh->lock);
	if (sched_start(t->cpus, lt_entry, lt_sh))
		abort();
	explore_run(&o, r);
	sched_fini();
}

int main(void)
{
	int nt = (int)ARRAY_SIZE(tests);
	struct explore_result r;
	struct oset ref, chk;
	char need_two[256] = "";

#ifdef KVMLAB_TSAN
	tap_plan(1);
	tap_skip("the checker does not run under ThreadSanitizer (fiber stacks are restored)");
	return 0;
#endif
	tap_plan(nt * 5 + 1);
	for (int i = 0; i < nt; i++) {
		const struct litmus *t = &tests[i];

		tap_diag("%s: %s", t->name, t->source);
		for (int tso = 0; tso <= 1; tso++) {
			const char *mm = tso ? "tso" : "sc";
			bool allowed;

			ref_outcomes(t, tso, &ref);
			allowed = oset_has(&ref, t->key);
			tap_ok(allowed == (tso ? t->tso_allowed : t->sc_allowed),
			       "%s, reference %s: {%s} is %s", t->name, mm, t->key, allowed ? "allowed" : "forbidden");
			checker_outcomes(t, tso ? SCHED_SB_DEFAULT : 0, true, &chk, &r);
			if (!tap_ok(oset_eq(&chk, &ref) && r.verdict == VERDICT_VERIFIED,
				    "%s, checker %s: the reference's %d outcomes (%llu states)", t->name, mm, ref.n,
				    (unsigned long long)r.states)) {
				oset_print("reference", &ref);
				oset_print("checker", &chk);
			}
			explore_result_free(&r);
		}
		/* Without sleep sets: the reduction keeps every outcome. */
		checker_outcomes(t, SCHED_SB_DEFAULT, false, &chk, &r);
		tap_ok(oset_eq(&chk, &ref), "%s, checker tso without sleep sets: the same %d outcomes", t->name, chk.n);
		explore_result_free(&r);
		/* Store buffers of one entry: which tests need more. */
		checker_outcomes(t, 1, true, &chk, &r);
		if (!oset_eq(&chk, &ref))
			snprintf(need_two + strlen(need_two), sizeof(need_two) - strlen(need_two), " %s", t->name);
		explore_result_free(&r);
	}
	tap_diag("with store buffers of 1 entry, outcomes are missing from:%s", need_two[0] ? need_two : " none");
	tap_ok(need_two[0] != 0, "some test needs store buffers of %d entries (the default)", SCHED_SB_DEFAULT);
	return tap_failed ? 1 : 0;
}
