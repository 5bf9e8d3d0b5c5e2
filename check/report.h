/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checker output: the counterexample timeline (one line per event, KVM
 * tracepoint style, grouped by transition), versioned schedule files for
 * `kvmlab replay`, and the JSON report.
 */
#ifndef KVMLAB_CHECK_REPORT_H
#define KVMLAB_CHECK_REPORT_H

#include <stdio.h>

#include "check/explore.h"
#include "guest/scenario.h"
#include "model/kvm.h"

#define SCHEDULE_MAGIC "kvmlab-schedule"
#define SCHEDULE_VERSION 2
#define SCHEDULE_MAX_STEPS 1000000
/*
 * check --html ends its page with a line that starts with this (opening an
 * HTML comment that runs to the end of the file) and the schedule: replay
 * reads such a page as a schedule file.
 */
#define SCHEDULE_HTML_MARK "<!-- kvmlab-schedule"

/*
 * Where a schedule's steps switch actors: at every scheduling point (fine),
 * with the access after a lock acquisition joined to it (movers), and
 * with invisible accesses joined too (merged, the default of check).
 */
enum granularity { GRAN_FINE, GRAN_MOVERS, GRAN_MERGED };
const char *granularity_name(enum granularity g);

struct schedule {
	struct scenario scn;
	struct kvm_config cfg;
	enum kvm_finding finding;
	enum granularity granularity;	/* the steps were taken with */
	bool tso;			/* 'memory-model tso' (cfg.store_buffer holds the size) */
	u32 nr_steps;
	struct step *steps;		/* malloc'd */
};

/*
 * "function (file:line)" for a code address, from addr2line when it is
 * installed (binutils); the innermost function that is not a primitive
 * (kernel/prim.h), so a READ_ONCE names the kernel function that made it.
 * Cached; "pc 0x..." when it cannot say.
 */
void report_symbolize(u64 pc, char *buf, size_t len);
/* Names what lives at a model address ("vCPU 0's shared fields"), set by the harness; may be NULL. */
extern void (*report_addr_name)(u64 addr, char *buf, size_t len);
/* An event's text as the timeline prints it (EV_PRIM with its class and model line). */
void report_event_text(const struct kvm_event *ev, char *buf, size_t len);
/* Actor label for an actor id ("vcpu0", "actor1", "vmm"). */
void report_actor_name(int actor, int nr_vcpus, char *buf, size_t len);
/* Print the timeline of events[0..n) (events before step 0 are setup). */
void report_timeline(FILE *f, const struct kvm_event *ev, size_t n, int nr_vcpus, bool show_setup);

/*
 * The same timeline as a picture of the interleaving: one column per actor,
 * one row per event, showing the tracepoint name (and the finding), so the
 * hand-offs between actors stand out.
 */
/* Which of the first nr_actors actors have an event in ev[0..n) (used[]); how many. */
int report_acting_actors(const struct kvm_event *ev, size_t n, int nr_actors, bool used[KVMLAB_MAX_ACTORS]);
void report_lanes(FILE *f, const struct kvm_event *ev, size_t n, int nr_actors, int nr_vcpus);

/* Write a schedule file's text to f (the caller opens and closes it). */
void schedule_write(FILE *f, const struct scenario *s, const struct kvm_config *cfg, enum granularity g,
		    enum kvm_finding finding, const struct step *steps, u32 n);
/* Parse a schedule file; on error -EINVAL and one "file:line: message" in err. */
int schedule_read(const char *path, struct schedule *out, char *err, size_t errlen);
void schedule_free(struct schedule *s);

#endif
