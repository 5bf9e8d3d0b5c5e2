/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The distributed search's backend: kvmlab-mpi links mpi/dist_mpi.c, which
 * registers itself here; kvmlab has none (dist_backend is NULL).  The search
 * itself is explore_run() with a struct explore_dist (check/explore.h).
 */
#ifndef KVMLAB_CHECK_DIST_H
#define KVMLAB_CHECK_DIST_H

#include "check/explore.h"

struct dist_backend {
	const char *name;
	/* Join the other processes; this one's rank and their number; 0 or -errno. */
	int (*join)(int *rank, int *size);
	/* Whether every process says ok (a collective: every process calls it). */
	bool (*agree)(bool ok);
	/*
	 * Check that every process starts from the same state, scenario and
	 * options (root_hash covers them); the search hooks, or NULL with a
	 * message in err.
	 */
	const struct explore_dist *(*start)(u64 root_hash, char *err, size_t errlen);
	/*
	 * Merge every process's result into rank 0's r: counts summed (peak
	 * memory too), the deepest depth, the longest time, the terminal states
	 * as a union, and the finding (path and timeline) of the lowest rank
	 * that has one.  Every process must call it.
	 */
	void (*combine)(struct explore_result *r);
	void (*leave)(void);
};

extern const struct dist_backend *dist_backend;

#endif
