// SPDX-License-Identifier: GPL-2.0
/*
 * Distributed search over MPI (linked into kvmlab-mpi only).
 *
 * Every process runs the DFS of explore_run() from the initial state, trying
 * the fibers in an order rotated by its rank.  The visited set is
 * partitioned: the state with fingerprint h belongs to process
 * owner_of(h).  Before exploring a new state a process claims it from its
 * owner (a message and its reply, or a local lookup when it owns it), so
 * each state is expanded by one process; the state itself never travels,
 * because the process that claims it already holds it.  Fingerprints are
 * the same in every process (fixed heap and stack addresses, no
 * position-independent code, no lazy binding), which start() checks on the
 * initial state.
 *
 * A process waiting for a reply, or done with its own DFS, keeps answering
 * the others' claims.  A finding or a bound stops every process (STOP), and
 * the search ends when every process has said DONE; then combine() merges
 * the results on rank 0, which prints them.
 */
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/dist.h"

enum { TAG_CLAIM = 1, TAG_REPLY, TAG_STOP, TAG_DONE, TAG_RESULT };

static struct {
	int rank, size;
	bool stop;		/* some process asked everyone to stop */
	bool stop_sent;
	int done;		/* processes (other than this one) whose DFS ended */
	u64 claims_sent, claims_served;
	double wait;		/* seconds spent waiting for replies */
	bool joined_here;	/* this file called MPI_Init */
} M;

static int owner_of(u64 h)
{
	/* Not the low bits: they index the owner's table. */
	return (int)((h >> 40) % (u64)M.size);
}

static void send_all(int tag)
{
	u64 none = 0;

	for (int p = 0; p < M.size; p++)
		if (p != M.rank)
			MPI_Send(&none, 1, MPI_UINT64_T, p, tag, MPI_COMM_WORLD);
}

/* Handle one message that is not a reply (a reply is only awaited in claim()). */
static void handle(const MPI_Status *st)
{
	u64 m[2];

	MPI_Recv(m, 2, MPI_UINT64_T, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	switch (st->MPI_TAG) {
	case TAG_CLAIM: {
		u32 sleep = (u32)m[1];
		u64 r[2];

		r[0] = explore_claim_local(m[0], &sleep);
		r[1] = sleep;
		MPI_Send(r, 2, MPI_UINT64_T, st->MPI_SOURCE, TAG_REPLY, MPI_COMM_WORLD);
		M.claims_served++;
		break;
	}
	case TAG_STOP:
		M.stop = true;
		break;
	case TAG_DONE:
		M.done++;
		break;
	default:
		fprintf(stderr, "kvmlab check: MPI rank %d: unexpected message tag %d from %d\n",
			M.rank, st->MPI_TAG, st->MPI_SOURCE);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
}

static bool dist_poll(void)
{
	MPI_Status st;
	int flag;

	for (;;) {
		MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (!flag)
			break;
		handle(&st);
	}
	return M.stop;
}

static enum claim dist_claim(u64 hash, u32 *sleep)
{
	int owner = owner_of(hash);
	u64 m[2] = { hash, *sleep };

	if (owner == M.rank)
		return explore_claim_local(hash, sleep);
	double t0 = MPI_Wtime();

	M.claims_sent++;
	MPI_Send(m, 2, MPI_UINT64_T, owner, TAG_CLAIM, MPI_COMM_WORLD);
	for (;;) {
		MPI_Status st;
		int flag;

		MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (!flag)
			continue;
		if (st.MPI_TAG == TAG_REPLY && st.MPI_SOURCE == owner) {
			MPI_Recv(m, 2, MPI_UINT64_T, owner, TAG_REPLY, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			*sleep = (u32)m[1];
			M.wait += MPI_Wtime() - t0;
			return (enum claim)m[0];
		}
		handle(&st);
	}
}

static void dist_finish(bool early)
{
	if (early && !M.stop && !M.stop_sent) {
		send_all(TAG_STOP);
		M.stop_sent = true;
	}
	send_all(TAG_DONE);
	while (M.done < M.size - 1) {
		MPI_Status st;

		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		handle(&st);
	}
}

static const struct explore_dist hooks_template = {
	.claim = dist_claim,
	.poll = dist_poll,
	.finish = dist_finish,
};
static struct explore_dist hooks;

static int dist_join(int *rank, int *size)
{
	int inited = 0;

	MPI_Initialized(&inited);
	if (!inited) {
		if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
			return -EIO;
		M.joined_here = true;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &M.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &M.size);
	*rank = M.rank;
	*size = M.size;
	return 0;
}

static bool dist_agree(bool ok)
{
	int mine = ok, all = 0;

	MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	return all;
}

static const struct explore_dist *dist_start(u64 root_hash, char *err, size_t errlen)
{
	u64 lo, hi;

	MPI_Allreduce(&root_hash, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
	MPI_Allreduce(&root_hash, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	if (lo != hi) {
		snprintf(err, errlen, "the %d processes do not start from the same fingerprint "
			 "(%016llx here, %016llx..%016llx overall): are they the same binary, "
			 "with the same scenario and options?", M.size, (unsigned long long)root_hash,
			 (unsigned long long)lo, (unsigned long long)hi);
		return NULL;
	}
	hooks = hooks_template;
	hooks.rank = M.rank;
	hooks.size = M.size;
	return &hooks;
}

static void sum_u64(u64 *v)
{
	u64 t;

	MPI_Allreduce(v, &t, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
	*v = t;
}

/* The terminal fingerprints of every process, on rank 0. */
static void combine_terminals(struct explore_result *r)
{
	int n = (int)r->terminal_distinct, *counts = NULL, *displs = NULL;
	u64 *all = NULL;
	size_t total = 0;

	if (M.rank == 0) {
		counts = calloc(M.size, sizeof(*counts));
		displs = calloc(M.size, sizeof(*displs));
	}
	MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
	if (M.rank == 0) {
		for (int p = 0; p < M.size; p++) {
			displs[p] = (int)total;
			total += counts[p];
		}
		all = malloc((total + 1) * sizeof(*all));
	}
	MPI_Gatherv(r->terminals, n, MPI_UINT64_T, all, counts, displs, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (M.rank == 0) {
		r->terminal_distinct = explore_terminal_digest(all, total, &r->terminal_digest);
		free(r->terminals);
		r->terminals = all;
		all = NULL;
	}
	free(all);
	free(counts);
	free(displs);
}

/* Rank 0 receives the finding of process 'from' (its path and timeline). */
static void move_finding(struct explore_result *r, int from)
{
	u64 n[2];

	if (from == 0)
		return;
	if (M.rank == from) {
		n[0] = r->path_len;
		n[1] = r->nr_events;
		MPI_Send(n, 2, MPI_UINT64_T, 0, TAG_RESULT, MPI_COMM_WORLD);
		MPI_Send(&r->finding, sizeof(r->finding), MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
		MPI_Send(r->path, (int)(n[0] * sizeof(*r->path)), MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
		MPI_Send(r->events, (int)(n[1] * sizeof(*r->events)), MPI_BYTE, 0, TAG_RESULT,
			 MPI_COMM_WORLD);
	} else if (M.rank == 0) {
		MPI_Recv(n, 2, MPI_UINT64_T, from, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		free(r->path);
		free(r->events);
		r->path_len = (u32)n[0];
		r->nr_events = n[1];
		r->path = malloc(n[0] * sizeof(*r->path) + 1);
		r->events = malloc(n[1] * sizeof(*r->events) + 1);
		if (!r->path || !r->events) {
			fprintf(stderr, "kvmlab check: out of memory for the counterexample\n");
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
		MPI_Recv(&r->finding, sizeof(r->finding), MPI_BYTE, from, TAG_RESULT, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		MPI_Recv(r->path, (int)(n[0] * sizeof(*r->path)), MPI_BYTE, from, TAG_RESULT,
			 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		MPI_Recv(r->events, (int)(n[1] * sizeof(*r->events)), MPI_BYTE, from, TAG_RESULT,
			 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	}
}

static void dist_combine(struct explore_result *r)
{
	if (getenv("KVMLAB_MPI_STATS"))
		fprintf(stderr, "kvmlab check: MPI rank %d: %llu states, %llu transitions, %llu revisits, "
			"%llu claims sent (%.3f s waiting for replies), %llu served, %.3f s\n",
			M.rank, (unsigned long long)r->states, (unsigned long long)r->transitions,
			(unsigned long long)r->revisits, (unsigned long long)M.claims_sent, M.wait,
			(unsigned long long)M.claims_served, r->seconds);
	int found = r->verdict == VERDICT_VIOLATION || r->verdict == VERDICT_WITNESS_FOUND;
	/*
	 * A bound hit here, not a stop another process asked for.  Both may
	 * hold (two processes reaching their bounds at once tell each other to
	 * stop): what ended this search decides.
	 */
	int bounded = r->verdict == VERDICT_INCOMPLETE && !r->stopped_by_peer;
	int who = found ? M.rank : M.size, first, any_bounded, verdict = r->verdict;
	u64 depth = r->max_depth, t;
	double secs;
	char why[sizeof(r->incomplete)];

	sum_u64(&r->states);
	sum_u64(&r->transitions);
	sum_u64(&r->revisits);
	sum_u64(&r->terminal);
	sum_u64(&r->ample);
	sum_u64(&r->peak_bytes);
	sum_u64(&r->table_bytes);
	MPI_Allreduce(&depth, &t, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	r->max_depth = (u32)t;
	MPI_Allreduce(&r->seconds, &secs, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
	r->seconds = secs;
	combine_terminals(r);
	MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (first < M.size) {
		MPI_Bcast(&verdict, 1, MPI_INT, first, MPI_COMM_WORLD);
		move_finding(r, first);
		r->verdict = verdict;
		r->incomplete[0] = 0;
		r->incomplete_after_violation = false;
		r->shortest_complete = false;
		return;
	}
	/* No finding: incomplete if a bound stopped some process, with its reason. */
	who = bounded ? M.rank : M.size;
	MPI_Allreduce(&who, &any_bounded, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (any_bounded < M.size) {
		memcpy(why, r->incomplete, sizeof(why));
		MPI_Bcast(why, sizeof(why), MPI_CHAR, any_bounded, MPI_COMM_WORLD);
		if (M.rank == 0) {
			snprintf(r->incomplete, sizeof(r->incomplete), "process %d: %.220s", any_bounded, why);
			r->verdict = VERDICT_INCOMPLETE;
		}
	}
}

static void dist_leave(void)
{
	if (M.joined_here)
		MPI_Finalize();
}

static const struct dist_backend mpi_backend = {
	.name = "MPI",
	.join = dist_join,
	.agree = dist_agree,
	.start = dist_start,
	.combine = dist_combine,
	.leave = dist_leave,
};

__attribute__((constructor)) static void dist_mpi_register(void)
{
	dist_backend = &mpi_backend;
}
