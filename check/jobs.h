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

#include <sys/types.h>

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

/*
 * A pool of worker processes forked from this one, each sending what it
 * has to say down a pipe (the search's workers here, --swarm's in
 * check/swarm.c).
 */
struct jobs_child {
	pid_t pid;		/* 0: not started */
	int fd, status;
	u8 *p;			/* what it wrote (malloc'd; the caller frees it) */
	size_t n, cap;
	bool exited_ok;		/* exited with status 0 */
};

/*
 * Fork n children (c[i] zeroed by the caller), then read their pipes to the
 * end.  Child i closes the pipes of the ones before it, dies with the
 * parent (PR_SET_PDEATHSIG) and runs body(i, fd, arg), which must end with
 * _exit().  tick(arg) runs every 100 ms or sooner while the parent waits;
 * failed(arg) when a child ends without exiting 0, or when not all could
 * start.  Returns how many started; *err: 0, or -errno of the pipe or fork
 * that failed.
 */
int jobs_pool_run(struct jobs_child **c, int n, void (*body)(int i, int fd, void *arg),
		  void (*tick)(void *arg), void (*failed)(void *arg), void *arg, int *err);
/* For other process pools (check/swarm.c): write all of p (0, or -1 on an error). */
int jobs_write_all(int fd, const void *p, size_t n);
/* How a child ended ("killed by signal 9 (Killed)", "exited with status 2"). */
void jobs_describe_status(int status, char *buf, size_t len);

#endif
