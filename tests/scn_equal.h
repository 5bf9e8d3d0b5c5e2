/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether two scenarios are the same, for the scenario tests and the
 * scenario fuzzer (fuzz/fuzz_scenario.c), which both check that
 * scenario_print() round-trips through the parser.  Header-only, like tap.h.
 */
#ifndef KVMLAB_TESTS_SCN_EQUAL_H
#define KVMLAB_TESTS_SCN_EQUAL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "guest/scenario.h"

/*
 * Field-by-field comparison of everything but 'description' (files do not
 * carry one).  Ops past nr_ops are not compared.  Writes the first
 * difference into 'why'.
 */
static inline bool scn_equal(const struct scenario *a, const struct scenario *b, char *why, size_t n)
{
#define DIFF(cond, ...) do { if (cond) { snprintf(why, n, __VA_ARGS__); return false; } } while (0)
	DIFF(strcmp(a->name, b->name), "name '%s' vs '%s'", a->name, b->name);
	DIFF(a->nr_vcpus != b->nr_vcpus, "nr_vcpus %d vs %d", a->nr_vcpus, b->nr_vcpus);
	DIFF(a->nr_initial_vcpus != b->nr_initial_vcpus, "nr_initial_vcpus %d vs %d",
	     a->nr_initial_vcpus, b->nr_initial_vcpus);
	DIFF(a->vendor != b->vendor, "vendor %d vs %d", a->vendor, b->vendor);
	DIFF(a->policy != b->policy, "policy %d vs %d", a->policy, b->policy);
	DIFF(a->bugs != b->bugs, "bugs %#llx vs %#llx", (unsigned long long)a->bugs,
	     (unsigned long long)b->bugs);
	DIFF(a->ram_pages != b->ram_pages, "ram_pages %d vs %d", a->ram_pages, b->ram_pages);
	DIFF(a->zap_yield != b->zap_yield, "zap_yield %d vs %d", a->zap_yield, b->zap_yield);
	DIFF(a->no_x2avic != b->no_x2avic, "no_x2avic %d vs %d", a->no_x2avic, b->no_x2avic);
	DIFF(a->apic_enabled != b->apic_enabled, "apic_enabled %d vs %d", a->apic_enabled,
	     b->apic_enabled);
	DIFF(a->preempt != b->preempt, "preempt %d vs %d", a->preempt, b->preempt);
	for (int v = 0; v < SCN_MAX_VCPUS; v++) {
		const struct guest_program *pa = &a->vcpu[v], *pb = &b->vcpu[v];

		DIFF(pa->nr_ops != pb->nr_ops, "vcpu %d: nr_ops %d vs %d", v, pa->nr_ops,
		     pb->nr_ops);
		for (int i = 0; i < pa->nr_ops && i < SCN_MAX_OPS; i++) {
			const struct guest_op *x = &pa->ops[i], *y = &pb->ops[i];

			DIFF(x->kind != y->kind || x->len != y->len || x->off != y->off ||
			     x->val != y->val || x->gpa != y->gpa,
			     "vcpu %d op %d: {%u,%u,%#x,%#x,%#llx} vs {%u,%u,%#x,%#x,%#llx}", v, i,
			     x->kind, x->len, x->off, x->val, (unsigned long long)x->gpa,
			     y->kind, y->len, y->off, y->val, (unsigned long long)y->gpa);
		}
	}
	DIFF(a->nr_actors != b->nr_actors, "nr_actors %d vs %d", a->nr_actors, b->nr_actors);
	for (int k = 0; k < SCN_MAX_ACTORS; k++) {
		const struct actor_script *sa = &a->actor[k], *sb = &b->actor[k];

		DIFF(sa->nr_ops != sb->nr_ops, "actor %d: nr_ops %d vs %d", k, sa->nr_ops,
		     sb->nr_ops);
		for (int i = 0; i < sa->nr_ops && i < SCN_MAX_OPS; i++) {
			const struct actor_op *x = &sa->ops[i], *y = &sb->ops[i];

			DIFF(x->kind != y->kind || x->reason != y->reason || x->vcpu != y->vcpu ||
			     x->vector != y->vector || x->gfn_start != y->gfn_start ||
			     x->gfn_end != y->gfn_end,
			     "actor %d op %d: {%u,%u,%u,%u,%#llx,%#llx} vs {%u,%u,%u,%u,%#llx,%#llx}",
			     k, i, x->kind, x->reason, x->vcpu, x->vector,
			     (unsigned long long)x->gfn_start, (unsigned long long)x->gfn_end, y->kind,
			     y->reason, y->vcpu, y->vector, (unsigned long long)y->gfn_start,
			     (unsigned long long)y->gfn_end);
		}
	}
	DIFF(a->nr_expect != b->nr_expect, "nr_expect %d vs %d", a->nr_expect, b->nr_expect);
	for (int i = 0; i < a->nr_expect && i < SCN_MAX_EXPECT; i++) {
		const struct scn_expect *x = &a->expect[i], *y = &b->expect[i];

		DIFF(x->kind != y->kind || x->vcpu != y->vcpu || x->off != y->off || x->val != y->val,
		     "expect %d: {%u,%u,%#x,%#x} vs {%u,%u,%#x,%#x}", i, x->kind, x->vcpu, x->off,
		     x->val, y->kind, y->vcpu, y->off, y->val);
	}
#undef DIFF
	return true;
}

#endif
