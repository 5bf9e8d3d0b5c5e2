// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab list: built-in scenarios, re-introducible bugs with the commits they
 * revert and the scenario that exposes each, and the findings; --functions:
 * the model's functions with the kernel release each follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "check/explore.h"
#include "guest/scenario.h"
#include "model/kvm.h"

/* The model's functions (tools/gen-functions.awk, generated at build time). */
static const struct model_function {
	const char *file;
	int line;
	const char *name;
	const char *release;	/* "" = the comment names none */
} model_functions[] = {
#include "functions.inc"
};

/* "v6.17" -> 6017, "v5.17-rc3" -> 5016.03 (ordered before v5.17), "" -> 0. */
static double release_key(const char *r)
{
	int major = 0, minor = 0, rc = 0;

	if (sscanf(r, "v%d.%d", &major, &minor) < 2)
		return 0;
	if (strstr(r, "-rc"))
		sscanf(strstr(r, "-rc") + 3, "%d", &rc);
	return major * 1000.0 + minor - (rc ? 1.0 - rc / 100.0 : 0);
}

static int by_release(const void *a, const void *b)
{
	const struct model_function *x = a, *y = b;
	double kx = release_key(x->release), ky = release_key(y->release);
	int c = strcmp(x->file, y->file);

	if (kx != ky)
		return kx < ky ? -1 : 1;
	return c ? c : x->line - y->line;
}

static int list_functions(void)
{
	size_t n = sizeof(model_functions) / sizeof(model_functions[0]), none = 0;
	struct model_function *f = malloc(sizeof(model_functions));
	char where[96];

	if (!f)
		return cmd_usage_error("list", "out of memory");
	memcpy(f, model_functions, sizeof(model_functions));
	qsort(f, n, sizeof(*f), by_release);
	for (size_t i = 0; i < n; i++)
		none += !*f[i].release;
	printf("model functions that follow a kernel release (%zu; the release their comment names):\n", n - none);
	for (size_t i = none; i < n; i++) {
		snprintf(where, sizeof(where), "%s:%d", f[i].file, f[i].line);
		printf("  %-10s %-40s %s\n", f[i].release, f[i].name, where);
	}
	printf("\nreleases:");
	for (size_t i = none; i < n;) {
		size_t j = i;

		while (j < n && !strcmp(f[j].release, f[i].release))
			j++;
		printf(" %s %zu%s", f[i].release, j - i, j < n ? "," : "\n");
		i = j;
	}
	printf("\nmodel functions that name no release (%zu): the simulated hardware, the oracles' ghost\n"
	       "code and helpers of the model; a kernel function among them is a gap in its comment:\n", none);
	for (size_t i = 0; i < none; i++) {
		snprintf(where, sizeof(where), "%s:%d", f[i].file, f[i].line);
		printf("  %-51s %s\n", f[i].name, where);
	}
	free(f);
	return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	const struct scenario *s;
	int wname = 0, wslug = 0, wscn = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: kvmlab list [--functions]\n"
		       "Built-in scenarios, bugs, witnesses, findings, policies and vendors.\n"
		       "  --functions            the model's functions, each with the kernel release\n"
		       "                         the comment above it names (model/*.c)\n");
		return EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--functions"))
		return list_functions();
	if (argc > 1)
		return cmd_usage_error("list", "unexpected argument '%s'", argv[1]);

	/* Columns as wide as their longest entry. */
	for (int i = 0; (s = scenario_builtin_at(i)); i++)
		wname = max_t(int, wname, (int)strlen(s->name));
	for (int i = 0; i < KVM_NR_BUGS; i++) {
		wslug = max_t(int, wslug, (int)strlen(kvm_bug_info(i)->slug));
		wscn = max_t(int, wscn, (int)strlen(kvm_bug_info(i)->scenario));
	}
	printf("scenarios:\n");
	for (int i = 0; (s = scenario_builtin_at(i)); i++)
		printf("  %-*s %d vCPU%s, %d actor%s  %s\n", wname, s->name, s->nr_vcpus,
		       s->nr_vcpus == 1 ? "" : "s", s->nr_actors, s->nr_actors == 1 ? "" : "s",
		       s->description ? s->description : "");
	printf("\nbugs (--bug SLUG; without --scenario it runs the scenario named here):\n");
	for (int i = 0; i < KVM_NR_BUGS; i++) {
		const struct kvm_bug_info *b = kvm_bug_info(i);

		printf("  %-*s reverts %-12s scenario %-*s expect %-15s%s\n      %s\n", wslug, b->slug,
		       b->commit, wscn, b->scenario, b->expect,
		       b->tso ? " under x86-TSO (--memory-model tso)" : "", b->title);
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
