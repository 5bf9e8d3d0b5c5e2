/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlab check --swarm N: swarm verification (Holzmann, Joshi and Groce,
 * "Swarm Verification Techniques", IEEE TSE 37(6), 2011).  N bitstate
 * searches of one question, each trying a state's actors in its own
 * pseudo-random order and hashing states into its own bit array with its
 * own hash functions (explore_opts.bitstate_log2 and swarm_seed), so that
 * where one member skips states (its array says they were visited) or
 * spends its time deep in one part of the graph, another covers them.
 * Members are numbered from 0 (member 0 keeps the usual order) and run in
 * that order; with --jobs J, J forked worker processes take them in that
 * order.  The result is that of the first member, by number, that finds a
 * violation, with the counts of it and the members before it: the same for
 * every J, since a member's search depends on its number alone.  No member
 * finding one is not a proof.
 */
#ifndef KVMLAB_CHECK_SWARM_H
#define KVMLAB_CHECK_SWARM_H

#include "check/explore.h"

#define SWARM_MAX 4096
#define SWARM_LOG2_MIN 16
#define SWARM_LOG2_MAX 36
#define SWARM_LOG2_DEFAULT 20	/* 128 KiB of bits a member */

struct swarm_member {
	u64 states, transitions, revisits;
	u64 terminal, terminal_distinct;	/* terminal states reached (visits), distinct ones */
	u64 peak_bytes;
	u32 max_depth;
	double seconds;
	/* VIOLATION, VERIFIED (its search ended) or INCOMPLETE (one of the bounds; which in bound) */
	enum explore_verdict verdict;
	char bound[120];
	bool done;		/* ran to its end (not cancelled, not lost with its worker) */
};

struct swarm_report {
	u32 members, log2;
	int jobs;
	int found;		/* the first member with a violation, or -1 */
	u32 reported;		/* members 0 .. reported - 1 make up the result */
	struct swarm_member *m;	/* malloc'd: one per member */
	double seconds;		/* the whole swarm, wall clock */
};

/*
 * Run the swarm of o's question (first_only is implied, dist must be NULL)
 * with 'members' members of 2^log2 bits each, in 'jobs' processes (1: this
 * one), and put the result in r: the first member's (by number) violation,
 * else VERDICT_INCOMPLETE saying that no member found one; the counts
 * summed over the members reported, the terminal states their union.
 * o->time_limit bounds the whole swarm; o->max_states and o->memory_limit
 * each member.  0, or -errno (the workers could not start).
 */
int swarm_run(const struct explore_opts *o, u32 members, u32 log2, int jobs, struct explore_result *r,
	      struct swarm_report *rep);
void swarm_report_free(struct swarm_report *rep);

#endif
