/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exploration: a stateful depth-first search over the transitions the
 * checker runtime offers (check/sched.h), from the state the caller set up.
 *
 * Visited states are recognized by a 64-bit fingerprint of the whole model
 * state (hash compaction: a collision could hide a state; the probability is
 * reported), and a state already visited is not explored again.  Deadlocks
 * (some fiber not done, none enabled) and findings end a path.  Looking for a
 * violation, the search does not stop at the first one: it keeps going with
 * a depth bound one below the best counterexample so far, revisiting states
 * reached at a smaller depth, so the counterexample reported has the fewest
 * steps (transitions) the search finds within a shortening budget (a number
 * of transitions after the first violation, so that the same inputs give
 * the same counterexample on any machine under any load; a wall-clock limit
 * only when asked for); when the bounded search ends before the budget,
 * no shorter schedule exists among those the reduced search covers, and the
 * result says so (shortest_complete).  A witness query instead looks
 * for a path on which an event pattern occurs; its automaton state is part
 * of the hashed state.
 */
#ifndef KVMLAB_CHECK_EXPLORE_H
#define KVMLAB_CHECK_EXPLORE_H

#include <signal.h>

#include "check/sched.h"

/*
 * Set (to the signal's number) by a SIGINT/SIGTERM handler: the search stops
 * at its next step and reports what it has (incomplete, or the violation in
 * hand with the shortest counterexample so far).
 */
extern volatile sig_atomic_t explore_stop_signal;

enum witness {
	WITNESS_NONE = -1,
	WITNESS_CASE_1,
	WITNESS_CASE_2A,
	WITNESS_CASE_2B,
	WITNESS_STALE_SNAPSHOT,
	NR_WITNESSES
};

struct witness_info {
	const char *name;
	const char *description;
};
const struct witness_info *witness_info(enum witness w);
int witness_parse(const char *name);

/*
 * A distributed search (mpi/dist_mpi.c): several processes run the DFS
 * from the initial state, each trying the fibers in its own rotated order,
 * and the visited set is partitioned by fingerprint.  A process explores a
 * state only if the state's owner (a process chosen by the fingerprint,
 * possibly itself) grants its claim, so each state is expanded by one
 * process (again only with a smaller sleep set, as locally).  The owner
 * answers from its part of the table with explore_claim_local().  On one
 * machine (kvmlab check --jobs, check/jobs.c) the processes share one
 * table instead, and hand each other frames to explore (work sharing).
 */
enum claim { CLAIM_VISITED, CLAIM_NEW, CLAIM_AGAIN };

struct explore_result;

struct step {
	u8 fiber;
	u8 choice;
};

/*
 * Work sharing (kvmlab check --jobs, check/jobs.c): what is left of a DFS
 * frame, handed from a busy process to an idle one, which reaches the
 * frame's state by replaying its path from the initial state and explores
 * the rest of it there with the sleep set and footprints the first process
 * would have used.
 */
struct explore_work {
	u64 hash;		/* the state's fingerprint, checked after the replay */
	u32 depth;		/* the path's length */
	u32 sleep, done, next_choice;
	int next_pos, rot;
	u8 wstate;
	struct footprint fp[CHK_MAX_FIBERS];	/* of the sleeping and done transitions */
	struct step path[];	/* from the initial state */
};

struct explore_dist {
	int rank, size;
	/* Ask hash's owner; CLAIM_AGAIN narrows *sleep to what is left to explore. */
	enum claim (*claim)(u64 hash, u32 *sleep);
	/* Serve other processes' claims; true when the search must stop everywhere. */
	bool (*poll)(void);
	/* The local DFS ended (early = a finding or a bound): serve until all have ended. */
	void (*finish)(bool early);
	/*
	 * The rest is for processes on one machine sharing one visited table
	 * (check/jobs.c); kvmlab-mpi leaves it zero.  shared_table: claim() is
	 * the whole visited set (no local table; the initial state is claimed
	 * like any other).
	 */
	bool shared_table;
	/*
	 * Every 1024 new states: this process's counts and its own memory
	 * (the undo log) out; the search's memory (the shared table and every
	 * process's own) back, and in *why a reason to stop (the shared table
	 * cannot grow), or NULL.
	 */
	u64 (*publish)(const struct explore_result *r, u64 own, const char **why);
	/* New states over all processes (for --max-states). */
	u64 (*total_states)(void);
	/* Work sharing: whether some process waits for work (cheap: asked every 64 transitions). */
	bool (*hungry)(void);
	/* Hand w over (copied); false when there is no room for it. */
	bool (*offer)(const struct explore_work *w);
	/* This process's work is done: the next frame to explore (malloc'd), or NULL at the end. */
	struct explore_work *(*take)(void);
};

/* The owner's answer to a claim of a state in its part of the visited set. */
enum claim explore_claim_local(u64 hash, u32 *sleep);

/*
 * The persistent-set rule's fibers that can move while g is held still
 * (check/explore.c), from a state's live and enabled fibers, their
 * summaries and what each disabled one waits for (a class it reads, else
 * the fibers holding the lock it wants).  Also used by tools/por-oracle.
 */
u32 explore_movable_without(u32 live, u32 enabled, const struct locmask *fut, const u64 *blk_wait,
			    const u32 *blk_lock, int g);

enum explore_progress {
	PROGRESS_NONE,
	PROGRESS_TERMINAL,	/* one line rewritten twice a second */
	PROGRESS_LINES,		/* a line every 10 s (a log, not a terminal) */
};

struct explore_opts {
	u64 max_states;		/* 0 = unbounded */
	double time_limit;	/* seconds, 0 = unbounded */
	u64 memory_limit;	/* bytes, 0 = unbounded */
	int witness;		/* enum witness */
	enum explore_progress progress;	/* on stderr */
	bool first_only;	/* stop at the first violation (no shortening) */
	/*
	 * Preemption bounding (CHESS): only schedules that switch away from an
	 * actor that could go on at most 'preemptions' times (implies
	 * first_only; use without por).  Not a proof: the rest is not explored.
	 */
	bool bounded;
	u32 preemptions;
	u64 shorten_transitions;	/* shortening budget: transitions after the first violation */
	double shorten_seconds;	/* and wall-clock seconds after it; 0 = no time bound */
	bool por;		/* sleep sets (experimental, see independent()) */
	/*
	 * Future-access summaries (NULL: none, so no persistent sets and no
	 * merging): fut_summary(g) says which location classes fiber g may
	 * still touch from the live state, a superset of every access in the
	 * rest of its run from its current program point; fp_mask gives a
	 * footprint's classes.  A transition whose footprint conflicts with no
	 * other live fiber's summary is explored alone from its state
	 * (persistent set, with the cycle proviso); with merge_invisible, a
	 * marked access that conflicts with none joins the running transition
	 * instead of being a scheduling point.  Every executed transition is
	 * checked against its own fiber's summary (abort if it breaks it).
	 */
	void (*fut_summary)(int g, struct locmask *out, void *arg);
	/*
	 * Optional: the summaries invisible-step merging asks instead (wider
	 * ones: a narrower summary of one fiber makes more of the others'
	 * accesses merge, which need not shrink the search).  NULL: fut_summary's.
	 */
	void (*fut_summary_merge)(int g, struct locmask *out, void *arg);
	/*
	 * Optional (NULL: none): for each pair of live fibers g != h, in
	 * held[g * nf + h] (zeroed by the caller; nf = sched_nr_actors()), what
	 * fiber h does not do in any run from the live state in which fiber g
	 * never moves, for g as the seed of a persistent set (g is held still
	 * while the others run): .r, classes of fut_summary(h) it touches no
	 * more; .w, classes it still reads but writes no more.
	 */
	void (*fut_held)(u32 live, struct locmask *held, void *arg);
	struct locmask (*fp_mask)(const struct footprint *fp, void *arg);
	/* Names a class (for the message when a summary is broken). */
	const char *(*class_name)(int c, char *buf, size_t len, void *arg);
	void *fut_arg;
	/* Called with fut_arg before each transition, on the scheduler's stack (NULL: none). */
	void (*before_step)(void *arg);
	bool persistent;	/* persistent sets (needs por) */
	bool merge_invisible;	/* invisible-step merging */
	/*
	 * A swarm member (kvmlab check --swarm, Holzmann's swarm verification):
	 * bitstate_log2 > 0 replaces the visited table by an array of
	 * 2^bitstate_log2 bits, three of them set per state at positions drawn
	 * from the fingerprint and swarm_seed (a state whose three bits are all
	 * set is taken as visited, so states are left out when the array fills,
	 * and a state is never explored again with a smaller sleep set; the
	 * cycle proviso takes every revisit as closing a cycle); swarm_seed != 0
	 * also tries the fibers of each state in a pseudo-random order drawn
	 * from the seed and the state's fingerprint (0: the usual order).
	 * Implies first_only; not a proof.  Not with dist.
	 */
	u32 bitstate_log2;
	u64 swarm_seed;
	/* Asked every 1024 new states (NULL: never): true ends the search as incomplete. */
	bool (*cancelled)(void *arg);
	void *cancel_arg;
	/* Distributed search (first_only is implied); NULL = this process alone. */
	const struct explore_dist *dist;
	/*
	 * When no actor can make progress: which finding that is (F_DEADLOCK
	 * or a more precise one), what to say and which actor it is about
	 * (-1: none), on the stuck live state.  NULL: a plain deadlock.
	 */
	int (*explain_stuck)(char *msg, size_t len, int *actor, void *arg);
	/* Names fiber g in messages ("vcpu0", "actor1"); NULL: "fiber g". */
	void (*actor_name)(int g, char *buf, size_t len);
	/*
	 * On a state where every actor is done: a finding (F_NONE: none) with
	 * its message and actor, e.g. a final-state expectation that does not
	 * hold.  Such a state is a counterexample, not a terminal state.
	 */
	int (*check_final)(char *msg, size_t len, int *actor, void *arg);
	/* Called for every terminal state (all actors done) the search reaches. */
	void (*on_terminal)(u64 hash, void *arg);
	void *terminal_arg;
};

/*
 * The live state's persistent-set inputs (o->fut_summary must be set): the
 * live and enabled fibers, each live fiber's summary, what a disabled one
 * waits for (the classes of the location it waits on, or the fibers
 * holding the lock it wants), and in held[g * nf + h] (nf =
 * sched_nr_actors()) what o->fut_held removes from h's summary while g is
 * held (0 for pairs that are not both live).  Also used by tools/por-oracle.
 */
void explore_summaries(const struct explore_opts *o, u32 *live, u32 *enabled, struct locmask *fut,
		       u64 *blk_wait, u32 *blk_lock, struct locmask *held);

/*
 * Fiber h's summary (fut[h]) narrowed by what fut_held() says while the seed g
 * is held still (held[g * nf + h], explore_summaries()).
 */
static inline struct locmask explore_held_summary(const struct locmask *fut, const struct locmask *held,
						  int nf, int g, int h)
{
	struct locmask m = fut[h], d = held[g * nf + h];

	return (struct locmask){ (m.r | (m.w & d.w)) & ~d.r, m.w & ~(d.r | d.w) };
}

enum explore_verdict {
	VERDICT_VERIFIED,
	VERDICT_VIOLATION,
	VERDICT_WITNESS_FOUND,
	VERDICT_WITNESS_ABSENT,
	VERDICT_INCOMPLETE,
};

/* "verified", "violation", "witness found", "no such execution", "incomplete". */
const char *explore_verdict_name(enum explore_verdict v);

struct explore_result {
	enum explore_verdict verdict;
	u64 states, transitions, revisits, terminal;
	u64 ample;		/* states expanded through a single-fiber persistent set */
	/*
	 * The distinct terminal states (all actors done) and an order-free
	 * digest of their fingerprints: the same for every sound reduction of
	 * one scenario, so runs with and without a reduction can be compared.
	 */
	u64 terminal_distinct, terminal_digest;
	u64 *terminals;		/* malloc'd: their fingerprints, sorted (terminal_distinct) */
	u32 max_depth;
	double seconds;
	u64 peak_bytes;
	u64 table_bytes;
	struct sched_finding finding;
	u32 path_len;
	u32 untrimmed_len;	/* the search's counterexample before trimming (0: not trimmed) */
	struct step *path;		/* malloc'd */
	struct kvm_event *events;	/* malloc'd: the path's timeline */
	size_t nr_events;
	bool incomplete_after_violation;
	bool shortest_complete;	/* every shorter schedule was explored (see above) */
	const char *shorten_stop;	/* what ended shortening early (a flag or a signal), or NULL */
	char incomplete[256];
	bool stopped_by_peer;	/* distributed: another process ended the search, not a bound here */
};

int explore_run(const struct explore_opts *o, struct explore_result *r);
/*
 * The terminal-state digest of explore_result over n fingerprints; sorts h,
 * keeps its distinct values first and returns their number.
 */
size_t explore_terminal_digest(u64 *h, size_t n, u64 *digest);
void explore_result_free(struct explore_result *r);
/* The finding, path and timeline of 'from' move into 'to' (from keeps its counts, loses the arrays). */
void explore_result_take_path(struct explore_result *to, struct explore_result *from);

/*
 * Re-execute a schedule from the current (initial) state: 0, or -(k + 1)
 * when step k is not possible there (not enabled, or a choice out of range);
 * either way r holds the events and path_len of the steps taken.
 */
int explore_replay(const struct explore_opts *o, const struct step *path, u32 n, struct explore_result *r);

#endif
