// SPDX-License-Identifier: GPL-2.0
/*
 * The checker's reductions on the real model: for small scenarios, the set
 * of terminal states (every actor done) and the verdict are the same with
 * every reduction on (sleep and persistent sets, lock movers, stack
 * hygiene, write tracking) as with none of them, one transition per
 * scheduling point.  Partial-order reduction and Lipton movers preserve the
 * states in which all actors have finished; hygiene and tracking touch no
 * model state at all.  Both runs happen in this process with the heap at the
 * same address, so the terminal fingerprints are comparable.  The same again
 * under x86-TSO (--memory-model tso), where the store buffers' flushers are
 * actors with summaries of their own.
 */
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "check/harness.h"
#include "check/sched.h"
#include "guest/scenario.h"
#include "kernel/compiler.h"
#include "model/vmm.h"
#include "tests/tap.h"

struct outcome {
	enum explore_verdict verdict;
	u64 states, terminal, digest;
};

/* Which reductions a run uses: none, each alone, and all of them. */
enum mode { NONE, SLEEP, PERSISTENT, MERGE, ALL, NR_MODES };
static const char *const mode_name[] = {
	[SLEEP] = "sleep sets", [PERSISTENT] = "sleep + persistent sets", [MERGE] = "invisible-step merging",
	[ALL] = "every reduction",
};

/* Entries per store buffer: 0 = sequential consistency. */
static unsigned store_buffer;

static struct outcome run(const struct scenario *s, int policy, int vendor, enum mode m)
{
	struct explore_opts eo = { .witness = WITNESS_NONE, .por = m == SLEEP || m == PERSISTENT || m == ALL };
	struct explore_result r;
	struct kvm_config cfg;
	struct outcome o;

	vmm_config(s, policy, vendor, 0, &cfg);
	cfg.store_buffer = (u8)store_buffer;
	if (checker_setup(s, &cfg, m == ALL))
		abort();
	if (m != ALL) {
		sched_set_hygiene(false);
		sched_set_tracking(false);
	}
	/* The summaries are always checked against every transition (explore_run aborts). */
	checker_reduction(&eo);
	eo.persistent = m == PERSISTENT || m == ALL;
	eo.merge_invisible = m == MERGE || m == ALL;
	explore_run(&eo, &r);
	o = (struct outcome){ r.verdict, r.states, r.terminal_distinct, r.terminal_digest };
	explore_result_free(&r);
	checker_teardown();
	return o;
}

static void compare(const char *what, const struct scenario *s, int policy, int vendor)
{
	struct outcome full = run(s, policy, vendor, NONE);

	for (int m = SLEEP; m < NR_MODES; m++) {
		struct outcome red = run(s, policy, vendor, m);

		tap_ok(full.verdict == red.verdict && full.terminal == red.terminal && full.digest == red.digest,
		       "%s: %llu terminal states with %s (%llu states) and with none (%llu states)",
		       what, (unsigned long long)red.terminal, mode_name[m], (unsigned long long)red.states,
		       (unsigned long long)full.states);
		if (full.digest != red.digest)
			tap_diag("digests %016llx (none) vs %016llx; verdicts %d vs %d",
				 (unsigned long long)full.digest, (unsigned long long)red.digest, full.verdict,
				 red.verdict);
	}
}

static void compare_file(const char *path, struct scenario *s)
{
	char err[512];

	if (scenario_parse_file(path, s, err, sizeof(err))) {
		for (int m = SLEEP; m < NR_MODES; m++)
			tap_ok(false, "%s: %s", path, err);
		return;
	}
	compare(path, s, KVM_POLICY_VM, KVM_VENDOR_SVM);
}

/* A built-in scenario, mainline, on one vendor. */
static void compare_builtin(const char *name, struct scenario *s, int vendor)
{
	char what[64];

	memcpy(s, scenario_builtin(name), sizeof(*s));
	snprintf(what, sizeof(what), "%s, mainline%s%s", name, vendor == KVM_VENDOR_VMX ? " vmx" : "",
		 store_buffer ? ", x86-TSO" : "");
	compare(what, s, KVM_POLICY_VM, vendor);
}

int main(void)
{
	struct scenario *s = calloc(1, sizeof(*s));

#ifdef KVMLAB_TSAN
	tap_plan(1);
	tap_skip("the checker does not run under ThreadSanitizer (fiber stacks are restored)");
	return 0;
#endif
	tap_plan(29 * (NR_MODES - 1));
	scenario_seed(s, 1, 3, 2);
	compare("seed, 1 vCPU, 3 toggles, 2 accesses, mainline", s, KVM_POLICY_VM, KVM_VENDOR_SVM);
	compare("seed, 1 vCPU, 3 toggles, 2 accesses, seed patch on VMX", s, KVM_POLICY_VCPU, KVM_VENDOR_VMX);
	scenario_seed(s, 2, 1, 1);
	compare("seed, 2 vCPUs, 1 toggle, 1 access, mainline", s, KVM_POLICY_VM, KVM_VENDOR_SVM);
	compare_builtin("zap-yield", s, KVM_VENDOR_SVM);
	compare_builtin("reenable", s, KVM_VENDOR_SVM);
	compare_builtin("zap-tlb", s, KVM_VENDOR_SVM);
	compare_builtin("apic-disable", s, KVM_VENDOR_VMX);
	compare_builtin("x2apic", s, KVM_VENDOR_SVM);
	compare_builtin("x2apic-hybrid", s, KVM_VENDOR_SVM);
	compare_builtin("cr8-intercept", s, KVM_VENDOR_SVM);
	compare_builtin("tpr-sync", s, KVM_VENDOR_SVM);
	compare_builtin("tpr-threshold", s, KVM_VENDOR_VMX);
	compare_builtin("apic-id", s, KVM_VENDOR_SVM);
	compare_builtin("apic-id-restore", s, KVM_VENDOR_SVM);
	compare_builtin("apic-relocate", s, KVM_VENDOR_VMX);
	compare_builtin("create-race", s, KVM_VENDOR_SVM);
	compare_file("tests/scenarios/two-senders.scn", s);
	compare_file("tests/scenarios/ipi-small.scn", s);
	compare_file("tests/scenarios/ipi-self.scn", s);
	compare_file("tests/scenarios/irq-window-lazy.scn", s);
	if (checker_tso_unavailable()) {
		for (int i = 0; i < 9 * (NR_MODES - 1); i++)
			tap_skip("x86-TSO: %s", checker_tso_unavailable());
		free(s);
		return tap_done();
	}
	store_buffer = SCHED_SB_DEFAULT;
	scenario_seed(s, 1, 3, 2);
	compare("seed, 1 vCPU, 3 toggles, 2 accesses, mainline, x86-TSO", s, KVM_POLICY_VM, KVM_VENDOR_SVM);
	compare_builtin("halt-ipi", s, KVM_VENDOR_SVM);
	compare_builtin("zap-yield", s, KVM_VENDOR_SVM);
	compare_builtin("cr8-intercept", s, KVM_VENDOR_VMX);
	compare_builtin("tpr-sync", s, KVM_VENDOR_SVM);
	compare_builtin("tpr-threshold", s, KVM_VENDOR_VMX);
	compare_builtin("apic-id", s, KVM_VENDOR_SVM);
	compare_builtin("x2apic-hybrid", s, KVM_VENDOR_SVM);
	compare_builtin("apic-relocate", s, KVM_VENDOR_SVM);
	free(s);
	return tap_done();
}
