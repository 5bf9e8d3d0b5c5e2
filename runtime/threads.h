/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The real-thread runtime: the primitive layer on pthreads and C11 atomics,
 * for stress runs.  One pthread is one actor (a vCPU thread or a host-side
 * actor); the harness thread that builds the VM is actor RT_HARNESS_ACTOR.
 *
 * Besides implementing struct rt_ops it keeps, per actor, a ring of the last
 * trace events (so a finding can be shown with what every thread did just
 * before), the findings reported so far, and randomized delays at marked
 * accesses that widen race windows (seeded, per actor).
 */
#ifndef KVMLAB_RUNTIME_THREADS_H
#define KVMLAB_RUNTIME_THREADS_H

#include <stdio.h>

#include "kernel/prim.h"

#define RT_HARNESS_ACTOR (KVMLAB_MAX_ACTORS - 1)
#define RT_RING_SIZE 64
#define RT_MAX_FINDINGS 8
#define RT_EVENT_TYPES 64

struct rt_threads_config {
	u64 seed;
	unsigned delay_permille;	/* chance of a random delay at each primitive */
	unsigned max_delay_spins;	/* upper bound of one delay, in pause loops */
	size_t arena_size;
};

struct rt_threads_finding {
	enum kvm_finding kind;
	int actor;
	char where[96];
	char msg[256];
	u64 seq;			/* global event sequence number at the report */
};

struct rt_threads_stats {
	u64 nr_findings[F_NR_FINDINGS];
	int nr_recorded;
	struct rt_threads_finding recorded[RT_MAX_FINDINGS];
	u64 arena_used;
};

/* Map the arena and make this runtime current (rt_set); the caller is the harness. */
int rt_threads_init(const struct rt_threads_config *cfg);
void rt_threads_fini(void);
/* Make the calling thread actor 'id' (0 <= id < KVMLAB_MAX_ACTORS). */
void rt_threads_set_self(int id);
/* Set once a finding is reported (or by the harness); actors poll it to wind down. */
bool rt_threads_stopping(void);
void rt_threads_request_stop(void);
void rt_threads_get_stats(struct rt_threads_stats *st);

typedef void (*rt_event_fmt_fn)(const struct kvm_event *ev, char *buf, size_t len);
/* Print the last 'n' events of every actor, merged in global order. */
void rt_threads_dump_rings(FILE *f, int n, rt_event_fmt_fn fmt);
/* Per-type trace event counts of one actor (throughput figures). */
void rt_threads_event_counts(u64 counts[RT_EVENT_TYPES], int actor);
/* Global count of trace events so far (progress watchdog). */
u64 rt_threads_event_seq(void);
/* Copy the last events of all actors (merged, oldest first); returns the count. */
int rt_threads_collect_events(struct kvm_event *out, int max, int per_actor);

#endif
