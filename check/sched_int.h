/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checker internals shared between the scheduler (check/sched.c) and the
 * race detector (check/race.c); not part of the scheduler's interface.
 */
#ifndef KVMLAB_CHECK_SCHED_INT_H
#define KVMLAB_CHECK_SCHED_INT_H

/* The fiber running a transition, -1 in the scheduler or in setup code. */
int sched_current(void);
/* Raise a data-race finding for the running transition. */
void sched_report_race(const char *msg);

#endif
