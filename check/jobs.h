/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmlab check --jobs N: the search in N worker processes on one machine.
 * They are forked after checker_setup() (the model heap and the fiber
 * stacks are at fixed addresses and the binary is not position-independent,
 * so a state has the same fingerprint in every process), share one visited
 * table in shared memory, and run explore_run() with the hooks of struct
 * explore_dist: each state is expanded by the worker whose claim on it wins
 * (again only with a smaller sleep set), and an idle worker takes a frame
 * a busy one offers (its path from the initial state, replayed).  See
 * check/jobs.c.
 */
#ifndef KVMLAB_CHECK_JOBS_H
#define KVMLAB_CHECK_JOBS_H

#include "check/explore.h"

#define JOBS_MAX 64

struct jobs_worker {
	u64 states, transitions, revisits;
	u64 taken, offered;	/* frames taken from / handed to the others */
	double seconds, idle;	/* its run; of which waiting for work */
	double doubling;	/* ... and in the table's doublings (copying or waiting) */
	enum explore_verdict verdict;
};

struct jobs_report {
	int jobs;
	struct jobs_worker w[JOBS_MAX];
	u64 states, transitions;	/* of the parallel search (when rerun: not the result's) */
	double seconds;			/* of the parallel search */
	u64 table_bytes;		/* the shared table's at the end */
	/*
	 * A worker found a violation (or the witness); the result is then the
	 * search in this process that --jobs 1 runs, which also shortens the
	 * counterexample (rerun, and its seconds), or, when that search ended
	 * without it, the worker's own (rerun_missed says why).
	 */
	bool rerun;
	double rerun_seconds;
	char rerun_missed[300];
	int died;			/* workers that died (the result is then incomplete) */
};

/*
 * Run the search of o in n worker processes forked from this one (after
 * checker_setup()) and combine their results into r as one search's: the
 * counts summed, the deepest depth, the terminal states' union, the peak
 * of the memory in use, the verdict.  A finding is searched for again here
 * with o (the search --jobs 1 runs), so that the counterexample is the one
 * --jobs 1 reports.  SIGINT/SIGTERM (explore_stop_signal) stop the workers;
 * a worker that dies makes the result incomplete.  0, or -errno (nothing
 * was searched).
 */
int jobs_run(const struct explore_opts *o, int n, struct explore_result *r, struct jobs_report *rep);

/*
 * The shared visited table on its own (tests/test_jobs.c: threads may
 * stand in for processes).  init: for 'workers' claimants, growing up to
 * what memory_limit bytes allow (0 = physical memory); 0 or -errno.
 */
int jobs_table_init(int workers, u64 memory_limit);
enum claim jobs_table_claim(int worker, u64 hash, u32 *sleep);
u64 jobs_table_states(void);	/* claims that answered CLAIM_NEW (when no claim is running) */
u64 jobs_table_bytes(void);
bool jobs_table_full(void);	/* it would have had to grow past the bound */
void jobs_table_fini(void);

/* For other process pools (check/swarm.c): write all of p (0, or -1 on an error). */
int jobs_write_all(int fd, const void *p, size_t n);
/* How a child ended ("killed by signal 9 (Killed)", "exited with status 2"). */
void jobs_describe_status(int status, char *buf, size_t len);

#endif
