// SPDX-License-Identifier: GPL-2.0
/*
 * The checker engine against brute force, on small synthetic programs
 * written against the primitive layer:
 *   - two executions that reach the same model state (independent steps in
 *     either order) produce the same state hash, different states differ;
 *   - a restored snapshot resumes exactly (the same continuation);
 *   - the set of terminal states the stateful search reaches (with and
 *     without sleep sets, with lock acquisitions as right movers) equals
 *     that of a naive enumeration of every interleaving at the finest
 *     granularity, which keeps no state cache;
 *   - a finding reachable by brute force is reported as a violation, and a
 *     deadlock as a deadlock;
 *   - with write tracking trusted, KVMLAB_VALIDATE catches a heap write that
 *     was not tracked (this file is not built with tracking, so its plain
 *     stores are exactly that), and the runtime's own writes to the heap
 *     (lock initialization) are tracked.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check/explore.h"
#include "check/sched.h"
#include "kernel/compiler.h"
#include "kernel/prim.h"
#include "tests/tap.h"

struct shared {
	u32 a, b, c, d;
	spinlock_t l;
	spinlock_t m;
	int program;
	u8 pad[128];
	u32 e;		/* in another 64-byte line of the same heap chunk as a */
};

/* Program 0: a small mix of loads, stores, RMW, a lock and a choice. */
static void prog_mix(int fiber, struct shared *sh)
{
	u32 x;

	switch (fiber) {
	case 0:
		x = READ_ONCE(sh->a);
		WRITE_ONCE(sh->b, x + 1);
		spin_lock(&sh->l);
		sh->c += 1 + READ_ONCE(sh->d);	/* joins the acquisition with movers */
		spin_unlock(&sh->l);
		break;
	case 1:
		WRITE_ONCE(sh->a, 5);
		x = READ_ONCE(sh->b);
		spin_lock(&sh->l);
		sh->c += 10 * (x + 1);
		spin_unlock(&sh->l);
		break;
	case 2:
		(void)cmpxchg(&sh->a, 5, 7);
		WRITE_ONCE(sh->d, kvm_choose(3) + 1);
		break;
	}
}

/* Program 1: a finding on some interleavings only. */
static void prog_finding(int fiber, struct shared *sh)
{
	if (fiber == 0) {
		WRITE_ONCE(sh->a, 1);
		WRITE_ONCE(sh->b, 1);
	} else if (READ_ONCE(sh->b) == 1 && READ_ONCE(sh->a) == 0) {
		KVM_REPORT(F_ASSERT, "b before a");	/* impossible under SC */
	} else if (READ_ONCE(sh->a) == 1 && READ_ONCE(sh->b) == 0) {
		KVM_REPORT(F_LOST_REQUEST, "a without b");	/* reachable */
	}
}

/* Program 2: lock-order inversion: deadlocks on some interleavings. */
static void prog_deadlock(int fiber, struct shared *sh)
{
	spinlock_t *first = fiber ? &sh->m : &sh->l, *second = fiber ? &sh->l : &sh->m;

	spin_lock(first);
	spin_lock(second);
	spin_unlock(second);
	spin_unlock(first);
}

/* Program 3: a plain store (untracked here) between marked accesses. */
static void prog_untracked(int fiber, struct shared *sh)
{
	(void)READ_ONCE(sh->a);
	sh->d = 42 + fiber;
	(void)READ_ONCE(sh->b);
}

/* Program 4: a tracked write and an untracked one in another line of the chunk. */
static void prog_untracked_line(int fiber, struct shared *sh)
{
	WRITE_ONCE(sh->a, 1 + fiber);
	sh->e = 7 + fiber;
	(void)READ_ONCE(sh->b);
}

static void entry(int fiber, void *arg)
{
	struct shared *sh = arg;

	switch (sh->program) {
	case 0: prog_mix(fiber, sh); break;
	case 1: prog_finding(fiber, sh); break;
	case 2: prog_deadlock(fiber, sh); break;
	case 3: prog_untracked(fiber, sh); break;
	case 4: prog_untracked_line(fiber, sh); break;
	}
}

static void setup(int program, int fibers, bool movers)
{
	struct shared *sh;

	if (sched_init(1 << 20))
		abort();
	sched_set_movers(movers);
	sh = kvm_zalloc(sizeof(*sh));
	spin_lock_init(&sh->l);
	spin_lock_init(&sh->m);
	sh->program = program;
	if (sched_start(fibers, entry, sh))
		abort();
}

/* ---- a set of u64 ---------------------------------------------------------- */

struct hset {
	u64 v[4096];
	int n;
};

static void hset_add(struct hset *s, u64 h)
{
	for (int i = 0; i < s->n; i++)
		if (s->v[i] == h)
			return;
	if (s->n < (int)ARRAY_SIZE(s->v))
		s->v[s->n++] = h;
}

static bool hset_eq(const struct hset *x, const struct hset *y)
{
	if (x->n != y->n)
		return false;
	for (int i = 0; i < x->n; i++) {
		bool found = false;

		for (int j = 0; j < y->n && !found; j++)
			found = x->v[i] == y->v[j];
		if (!found)
			return false;
	}
	return true;
}

static void on_terminal(u64 h, void *arg)
{
	hset_add(arg, h);
}

/* ---- naive enumeration: every interleaving, no state cache ---------------- */

struct naive {
	struct hset terminals;
	u32 findings;		/* bitmask of enum kvm_finding */
	u64 executions;
};

static void naive_dfs(struct naive *nv, struct snapshot *s)
{
	bool any = false, all_done = true;

	for (int f = 0; f < sched_nr_fibers(); f++) {
		const struct pending *p;
		u32 nchoices;

		sched_restore(s);
		p = sched_pending(f);
		if (p->kind != PK_DONE)
			all_done = false;
		if (!sched_enabled(f))
			continue;
		any = true;
		nchoices = p->kind == PK_CHOOSE ? p->n : 1;
		for (u32 c = 0; c < nchoices; c++) {
			struct snapshot *child;

			sched_restore(s);
			sched_clear_finding();
			sched_step(f, c);
			if (sched_has_finding()) {
				nv->findings |= 1u << sched_finding()->kind;
				nv->executions++;
				continue;
			}
			child = sched_snapshot(0);
			naive_dfs(nv, child);
			sched_snapshot_free(child);
		}
	}
	if (!any) {
		nv->executions++;
		if (all_done)
			hset_add(&nv->terminals, s->hash);
		else
			nv->findings |= 1u << F_DEADLOCK;
	}
}

static void naive_run(int program, int fibers, struct naive *nv)
{
	struct snapshot *root;

	memset(nv, 0, sizeof(*nv));
	setup(program, fibers, false);
	root = sched_snapshot(0);
	naive_dfs(nv, root);
	sched_snapshot_free(root);
	sched_fini();
}

static void explore_terminals(int program, int fibers, bool por, struct hset *out,
			      struct explore_result *r)
{
	struct explore_opts o = { .witness = WITNESS_NONE, .por = por, .first_only = true,
				  .on_terminal = on_terminal, .terminal_arg = out };

	memset(out, 0, sizeof(*out));
	setup(program, fibers, true);
	explore_run(&o, r);
	sched_fini();
}

/*
 * A search stopped by --max-states, then a whole one from where it left
 * the model (explore_run() puts the initial state back however it ends),
 * or (bitstate_log2 > 0) a swarm member's: seed 'seed', a bit array of
 * 2^bitstate_log2 bits.
 */
static void explore_after_stop(int program, int fibers, u32 bitstate_log2, u64 seed, struct hset *out,
			       struct explore_result *r)
{
	struct explore_opts o = { .witness = WITNESS_NONE, .por = true, .first_only = true, .max_states = 3 };

	memset(out, 0, sizeof(*out));
	setup(program, fibers, true);
	explore_run(&o, r);
	explore_result_free(r);
	o.max_states = 0;
	o.bitstate_log2 = bitstate_log2;
	o.swarm_seed = seed;
	o.on_terminal = on_terminal;
	o.terminal_arg = out;
	explore_run(&o, r);
	sched_fini();
}

/* Whether a one-fiber run of 'program', validated with tracking trusted, aborts. */
static bool validation_aborts(int program)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct explore_opts o = { .witness = WITNESS_NONE, .first_only = true };
		struct explore_result r;

		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		setenv("KVMLAB_VALIDATE", "1", 1);
		setup(program, 1, true);
		sched_set_tracking(true);
		explore_run(&o, &r);
		_exit(0);	/* not caught */
	}
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/*
 * Whether initializing a lock that shares its 64-byte line with nothing else
 * the setup writes, then taking a validated snapshot with tracking trusted,
 * aborts: it must not, the runtime marks the lock it writes.
 */
static bool lock_init_untracked(void)
{
	pid_t pid;
	int status = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct lone_lock {
			u8 before[128];		/* lines nothing writes */
			spinlock_t l;
		} *p;

		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		setenv("KVMLAB_VALIDATE", "1", 1);
		if (sched_init(1 << 20))
			_exit(1);
		sched_set_tracking(true);
		p = kvm_zalloc(sizeof(*p));
		spin_lock_init(&p->l);
		sched_snapshot(0);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return !WIFEXITED(status) || WEXITSTATUS(status);
}

int main(void)
{
	struct explore_result r;
	struct snapshot *root, *ab, *ba, *a_only;
	struct naive nv;
	struct hset hs, hp;

#ifdef KVMLAB_TSAN
	tap_plan(1);
	tap_skip("the checker does not run under ThreadSanitizer (fiber stacks are restored)");
	return 0;
#endif
	tap_plan(20);

	/* Same state by two schedules: the deadlock program's first steps take two
	 * different locks, so either order reaches the same state. */
	setup(2, 2, false);
	root = sched_snapshot(0);
	sched_step(0, 0);
	sched_step(1, 0);
	ab = sched_snapshot(0);
	sched_restore(root);
	sched_step(1, 0);
	sched_step(0, 0);
	ba = sched_snapshot(0);
	sched_restore(root);
	sched_step(0, 0);
	a_only = sched_snapshot(0);
	tap_eq(ab->hash, ba->hash, "two schedules reaching the same state give the same hash");
	tap_ok(ab->hash != a_only->hash && root->hash != a_only->hash,
	       "different states give different hashes");
	/* Restoring resumes the same continuation: re-running from a_only reaches ab again. */
	sched_restore(a_only);
	sched_step(1, 0);
	sched_snapshot_free(ba);
	ba = sched_snapshot(0);
	tap_eq(ba->hash, ab->hash, "a restored state resumes exactly");
	sched_snapshot_free(root);
	sched_snapshot_free(ab);
	sched_snapshot_free(ba);
	sched_snapshot_free(a_only);
	sched_fini();

	/* Terminal states: stateful search (with and without sleep sets) vs brute force. */
	naive_run(0, 3, &nv);
	tap_diag("program 0: brute force %llu executions, %d terminal states",
		 (unsigned long long)nv.executions, nv.terminals.n);
	explore_terminals(0, 3, false, &hs, &r);
	tap_ok(r.verdict == VERDICT_VERIFIED, "program 0 verified by the stateful search");
	tap_ok(hset_eq(&hs, &nv.terminals), "stateful search reaches exactly the brute-force terminal states (%d vs %d)",
	       hs.n, nv.terminals.n);
	explore_result_free(&r);
	explore_terminals(0, 3, true, &hp, &r);
	tap_ok(hset_eq(&hp, &nv.terminals), "with sleep sets too (%d vs %d)", hp.n, nv.terminals.n);
	tap_ok(nv.terminals.n > 4, "the program has several outcomes (%d)", nv.terminals.n);
	explore_result_free(&r);

	/* A stopped search leaves the initial state for the next one (a swarm's members). */
	naive_run(0, 3, &nv);
	explore_after_stop(0, 3, 0, 0, &hs, &r);
	tap_ok(r.verdict == VERDICT_VERIFIED && hset_eq(&hs, &nv.terminals),
	       "after a search stopped by --max-states, the next reaches the brute-force terminal states (%d vs %d)",
	       hs.n, nv.terminals.n);
	explore_result_free(&r);
	/* Swarm members: bitstate searches in their own orders, no state lost with 2^20 bits here. */
	{
		bool all = true;

		for (u64 seed = 0; seed < 4; seed++) {
			explore_after_stop(0, 3, 20, seed, &hs, &r);
			all &= r.verdict == VERDICT_VERIFIED && hset_eq(&hs, &nv.terminals);
			explore_result_free(&r);
		}
		tap_ok(all, "bitstate members 0-3 reach the brute-force terminal states (%d)", nv.terminals.n);
	}
	naive_run(1, 2, &nv);
	{
		bool all = true;

		for (u64 seed = 0; seed < 4; seed++) {
			explore_after_stop(1, 2, 20, seed, &hs, &r);
			all &= r.verdict == VERDICT_VIOLATION && r.finding.kind == F_LOST_REQUEST;
			explore_result_free(&r);
		}
		tap_ok(all, "bitstate members 0-3 each report the reachable finding");
	}
	/* A member with a tiny array takes states for visited: it explores fewer than the exact search. */
	explore_terminals(0, 3, true, &hp, &r);
	{
		u64 exact = r.states;

		explore_result_free(&r);
		explore_after_stop(0, 3, 3, 1, &hs, &r);
		tap_ok(r.states < exact, "a member of 2^3 bits visits fewer states than the exact search (%llu < %llu)",
		       (unsigned long long)r.states, (unsigned long long)exact);
		explore_result_free(&r);
	}

	/* Findings. */
	naive_run(1, 2, &nv);
	tap_ok((nv.findings & (1u << F_LOST_REQUEST)) && !(nv.findings & (1u << F_ASSERT)),
	       "brute force: 'a without b' reachable, 'b before a' not");
	explore_terminals(1, 2, false, &hs, &r);
	tap_ok(r.verdict == VERDICT_VIOLATION && r.finding.kind == F_LOST_REQUEST,
	       "stateful search reports the reachable finding");
	explore_result_free(&r);

	/* Deadlock. */
	naive_run(2, 2, &nv);
	tap_ok(nv.findings & (1u << F_DEADLOCK), "brute force: the lock inversion deadlocks");
	explore_terminals(2, 2, false, &hs, &r);
	tap_ok(r.verdict == VERDICT_VIOLATION && r.finding.kind == F_DEADLOCK,
	       "stateful search reports the deadlock");
	tap_ok(strstr(r.finding.msg, "fiber 0 waits for &sh->m (exclusive), held by fiber 1") &&
	       strstr(r.finding.msg, "fiber 1 waits for &sh->l (exclusive), held by fiber 0"),
	       "the deadlock names who waits for which lock and who holds it: %s", r.finding.msg);
	tap_ok(hset_eq(&hs, &nv.terminals), "and the same terminal states (%d)", hs.n);
	explore_result_free(&r);

	/* Validation: an untracked write with tracking trusted aborts the run. */
	tap_ok(validation_aborts(3), "KVMLAB_VALIDATE catches a heap write that tracking missed");
	/* Same, when tracking saw another write to the chunk (only lines are rehashed). */
	tap_ok(validation_aborts(4), "KVMLAB_VALIDATE catches a write outside the chunk's tracked lines");
	/* The runtime's own heap writes are tracked: spin_lock_init() in setup. */
	tap_ok(!lock_init_untracked(), "a lock initialized alone in its line is a tracked write");
	return tap_done();
}
