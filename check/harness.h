/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Setting a scenario up under the checker runtime: the VM and its initial
 * vCPUs are built in setup mode (no scheduling), then one fiber per vCPU and
 * per actor script is started and run to its first scheduling point.  That
 * state is the root of the exploration and of every replay.
 */
#ifndef KVMLAB_CHECK_HARNESS_H
#define KVMLAB_CHECK_HARNESS_H

#include "guest/scenario.h"
#include "model/kvm.h"

struct explore_opts;
struct vmm;

/*
 * movers: lock acquisitions are right movers (the default granularity);
 * false = one transition per scheduling point ("fine", schedule files v1).
 * -EOPNOTSUPP: cfg asks for x86-TSO and this build has no write tracking
 * (checker_tso_unavailable()).
 */
int checker_setup(const struct scenario *s, const struct kvm_config *cfg, bool movers);
/*
 * Why --memory-model tso cannot run in this build, or NULL when it can.
 * The model reads some locations it stores with WRITE_ONCE through plain
 * loads, which must see the fiber's own buffered stores; only the
 * write-tracking instrumentation (not in ASan, TSan or clang builds) shows
 * the checker those loads.
 */
const char *checker_tso_unavailable(void);
/*
 * Call before checker_setup(): detect data races (default on where the model
 * is built with tracking, see check/race.h).
 */
void checker_set_races(bool on);
/* Whether this run checks data races. */
bool checker_races(void);
/* Install the model's future-access summaries (persistent sets) into o. */
void checker_reduction(struct explore_opts *o);
/* The VM checker_setup() built (in the checker's heap): tools name addresses with it. */
struct vmm *checker_model(void);
void checker_teardown(void);

struct schedule;
struct explore_opts;
/*
 * checker_setup() for replaying a schedule file at the granularity it was
 * taken with, and the options explore_replay() then needs (the reduction's
 * summaries decide what merges); 0 or -errno.
 */
int checker_setup_schedule(const struct schedule *sch, struct explore_opts *o);

#endif
