// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab list: built-in scenarios, re-introducible bugs with the commits they
 * revert and the scenario that exposes each, and the findings.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "check/explore.h"
#include "guest/scenario.h"
#include "model/kvm.h"

int cmd_list(int argc, char **argv)
{
	const struct scenario *s;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kvmlab list\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return cmd_usage_error("list", "unexpected argument '%s'", argv[1]);

	printf("scenarios:\n");
	for (int i = 0; (s = scenario_builtin_at(i)); i++)
		printf("  %-12s %d vCPU%s, %d actor%s  %s\n", s->name, s->nr_vcpus,
		       s->nr_vcpus == 1 ? "" : "s", s->nr_actors, s->nr_actors == 1 ? "" : "s",
		       s->description ? s->description : "");
	printf("\nbugs (--bug SLUG; without --scenario it runs the scenario named here):\n");
	for (int i = 0; i < KVM_NR_BUGS; i++) {
		const struct kvm_bug_info *b = kvm_bug_info(i);

		printf("  %-22s reverts %-12s scenario %-11s expect %-15s\n      %s\n", b->slug,
		       b->commit, b->scenario, b->expect, b->title);
	}
	printf("\nwitnesses (kvmlab check --find NAME):\n");
	for (int w = 0; w < NR_WITNESSES; w++)
		printf("  %-15s %s\n", witness_info(w)->name, witness_info(w)->description);
	printf("\nfindings:\n ");
	for (int f = 1; f < F_NR_FINDINGS; f++)
		printf(" %s", kvm_finding_name(f));
	printf("\n\npolicies: vm (mainline kvm_apicv_activated), vcpu (seed patch kvm_vcpu_apicv_active)\n");
	printf("vendors: svm (AVIC), vmx (APICv)\n");
	return EXIT_OK;
}
