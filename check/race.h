/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Data-race detection for the checker: happens-before (vector clocks) over
 * the model's plain accesses to the model heap, which the write-tracking
 * instrumentation (check/track.c) reports, against the synchronization the
 * checker runtime performs: lock release -> acquire, and marked accesses
 * (WRITE_ONCE/RMW release, READ_ONCE/RMW/wait acquire, as x86 gives for
 * MOVs and locked instructions).  A plain access that is not ordered after a
 * conflicting plain access of another fiber, or a marked access that
 * conflicts with an unordered plain one, is a data race (F_DATA_RACE): the
 * partial-order reduction's footprints assume plain accesses are race-free,
 * so the checker reports them instead of interleaving them.
 *
 * Ghost accesses and the simulated hardware's loads (__atomic builtins) are
 * neither checked nor synchronizing: they are the checker's instruments.
 *
 * The clocks and shadow words are not part of the hashed state: they are
 * history.  They follow the depth-first search through an undo log (the
 * explorer marks it per stack frame and rolls back on backtracking).  So a
 * reported race is real on the printed path, but a race whose two accesses
 * are only reachable through a state the search had already visited by
 * another path can go unreported.
 */
#ifndef KVMLAB_CHECK_RACE_H
#define KVMLAB_CHECK_RACE_H

#include <stddef.h>

#include "kernel/types.h"

/* Set by race_init() when detection runs: the instrumentation hooks test it. */
extern bool race_on;
/* Names a fiber in reports ("actor N" unless the harness sets it). */
extern void (*race_actor_name)(int fiber, char *buf, size_t len);

int race_init(const u8 *heap, size_t heap_size);
void race_fini(void);
/* Before the first access: the number of fibers (at most CHK_MAX_FIBERS). */
void race_set_fibers(int n);

/* The undo log: race_undo(race_mark()) restores the detector's state. */
size_t race_mark(void);
void race_undo(size_t mark);

/* A plain access by the running fiber (from the instrumentation hooks). */
void race_plain(const void *p, size_t n, bool write, const void *pc);
/* A marked access by 'fiber' at 'pc': checked against plain accesses, then synchronizes. */
void race_marked(int fiber, const void *p, size_t n, bool acquire, bool release, const void *pc);
/* Lock acquisition (acq) or release by 'fiber', exclusive or shared. */
void race_lock(int fiber, const void *lock, bool excl, bool acq);
/*
 * The three calls above only record, between race_begin() and race_flush()
 * (a fiber's transition); the scheduler runs the checks on its own stack
 * when the transition ends.
 */
void race_begin(void);
void race_flush(int fiber);

#endif
