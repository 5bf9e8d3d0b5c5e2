// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the subcommands; see cmd/common.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "check/harness.h"
#include "check/report.h"
#include "check/sched.h"
#include "model/kvm.h"
#include "model/trace.h"
#include "model/vmm.h"

void knob_opts_init(struct knob_opts *k)
{
	memset(k, 0, sizeof(*k));
	k->policy = k->vendor = -1;
	k->vcpus = k->toggles = k->accesses = -1;
}

int parse_u64_flag(const char *cmd, const char *flag, const char *arg, u64 min, u64 max, u64 *out)
{
	u64 v;

	if (scenario_strtou64(arg, false, &v) || v < min || v > max)
		return cmd_usage_error(cmd, "--%s: '%s' is not a decimal number in [%llu, %llu]", flag, arg,
				       (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

int memory_model_parse(const char *cmd, const char *arg, bool *tso)
{
	if (strcmp(arg, "sc") && strcmp(arg, "tso"))
		return cmd_usage_error(cmd, "--memory-model: '%s' is not sc or tso", arg);
	*tso = !strcmp(arg, "tso");
	return 0;
}

int memory_model_config(const char *cmd, bool tso, u64 store_buffer, const struct scenario *s,
			struct kvm_config *cfg)
{
	if (store_buffer && !tso)
		return cmd_usage_error(cmd, "--store-buffer is for --memory-model tso");
	if (tso && checker_tso_unavailable())
		return cmd_usage_error(cmd, "%s", checker_tso_unavailable());
	if (tso && 2 * (s->nr_vcpus + s->nr_actors) > CHK_MAX_FIBERS)
		return cmd_usage_error(cmd, "%d vCPUs + %d actors and their store buffers exceed the checker's %d actors",
				       s->nr_vcpus, s->nr_actors, CHK_MAX_FIBERS);
	cfg->store_buffer = tso ? (u8)(store_buffer ? store_buffer : SCHED_SB_DEFAULT) : 0;
	return 0;
}

int knob_opt_parse(const char *cmd, struct knob_opts *k, const char *name, const char *arg)
{
	u64 v = 0;
	int r;

	if (!strcmp(name, "scenario")) {
		k->scenario = arg;
	} else if (!strcmp(name, "policy")) {
		if ((k->policy = kvm_policy_parse(arg)) < 0)
			return cmd_usage_error(cmd, "--policy: '%s' is not vm or vcpu", arg);
	} else if (!strcmp(name, "vendor")) {
		if ((k->vendor = kvm_vendor_parse(arg)) < 0)
			return cmd_usage_error(cmd, "--vendor: '%s' is not svm or vmx", arg);
	} else if (!strcmp(name, "bug")) {
		int b = kvm_bug_parse(arg);

		if (b < 0)
			return cmd_usage_error(cmd, "--bug: unknown bug '%s' (see 'kvmlab list')", arg);
		k->bugs |= BIT_ULL(b);
	} else if (!strcmp(name, "vcpus") || !strcmp(name, "toggles") || !strcmp(name, "accesses")) {
		u64 max = !strcmp(name, "vcpus") ? SCN_MAX_VCPUS : SCN_MAX_OPS / 2;

		r = parse_u64_flag(cmd, name, arg, !strcmp(name, "vcpus") ? 1 : 0, max, &v);
		if (r)
			return r;
		if (!strcmp(name, "vcpus"))
			k->vcpus = (int)v;
		else if (!strcmp(name, "toggles"))
			k->toggles = (int)v;
		else
			k->accesses = (int)v;
	} else if (!strcmp(name, "no-tlb")) {
		k->no_tlb = true;
	} else {
		return cmd_usage_error(cmd, "internal: unknown knob --%s", name);
	}
	return 0;
}

void knob_config(const struct knob_opts *k, const struct scenario *s, struct kvm_config *cfg)
{
	vmm_config(s, k->policy, k->vendor, k->bugs, cfg);
	cfg->tlb = !k->no_tlb;
}

int knob_load_scenario(const char *cmd, const struct knob_opts *k, struct scenario *s)
{
	const char *name = k->scenario;
	const struct scenario *b;
	char err[512];

	if (!name) {
		/* --bug SLUG alone runs the scenario that exposes it. */
		name = "seed";
		for (int i = 0; i < KVM_NR_BUGS; i++)
			if (k->bugs & BIT_ULL(i)) {
				name = kvm_bug_info(i)->scenario;
				break;
			}
	}
	b = scenario_builtin(name);
	if (b) {
		*s = *b;
	} else if (strchr(name, '/') || strchr(name, '.') || access(name, F_OK) == 0) {
		if (scenario_parse_file(name, s, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return EXIT_USAGE;
		}
	} else {
		return cmd_usage_error(cmd, "--scenario: no built-in scenario or file named '%s'", name);
	}
	if (k->vcpus >= 0 || k->toggles >= 0 || k->accesses >= 0) {
		if (strcmp(s->name, "seed"))
			return cmd_usage_error(cmd, "--vcpus/--toggles/--accesses apply to the seed scenario only");
		scenario_seed(s, k->vcpus >= 0 ? k->vcpus : 2, k->toggles >= 0 ? k->toggles : 3,
			      k->accesses >= 0 ? k->accesses : 2);
	}
	return 0;
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_output_open(const char *cmd, const char *flag, const char *name, struct outfile *o)
{
	static bool stdout_taken;	/* by an earlier output */
	char err[PATH_MAX + 64];

	if (!strcmp(name, "-") && stdout_taken)
		return cmd_usage_error(cmd, "--%s -: standard output already holds another output", flag);
	if (outfile_open(o, name, err, sizeof(err)))
		return cmd_usage_error(cmd, "--%s %s", flag, err);
	if (o->std) {
		stdout_taken = true;
		/* From here on printf() reaches the terminal's other stream. */
		fflush(stdout);
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			outfile_abort(o);
			return cmd_usage_error(cmd, "--%s -: cannot move the report to standard error: %s",
					       flag, strerror(errno));
		}
	}
	return 0;
}

int cmd_output_close(const char *cmd, const char *flag, struct outfile *o)
{
	char err[PATH_MAX + 64];
	int r = outfile_close(o, err, sizeof(err));

	if (r)
		fprintf(stderr, "kvmlab %s: --%s %s\n", cmd, flag, err);
	return r;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_str_or_null(FILE *f, const char *s)
{
	if (s && *s)
		json_str(f, s);
	else
		fputs("null", f);
}

void json_event(FILE *f, const struct kvm_event *ev, int nr_vcpus, const char *step_key, long step)
{
	char who[16], line[256];

	report_actor_name(ev->actor, nr_vcpus, who, sizeof(who));
	kvm_event_format(ev, line, sizeof(line));
	fprintf(f, "{\"%s\": %ld, \"actor\": \"%s\", \"event\": \"%s\", \"fields\": "
		   "{\"a\": %llu, \"b\": %llu, \"c\": %llu, \"d\": %llu}, \"text\": ",
		step_key, step, who, kvm_event_name(ev->type), (unsigned long long)ev->a,
		(unsigned long long)ev->b, (unsigned long long)ev->c, (unsigned long long)ev->d);
	json_str(f, line);
	fputc('}', f);
}

void json_finding(FILE *f, int kind, int actor, int nr_vcpus, const char *where, const char *msg)
{
	char who[16];

	fprintf(f, "{\"kind\": \"%s\", \"actor\": ", kvm_finding_name((enum kvm_finding)kind));
	if (actor >= 0) {
		report_actor_name(actor, nr_vcpus, who, sizeof(who));
		fprintf(f, "\"%s\"", who);
	} else {
		fputs("null", f);
	}
	fputs(", \"where\": ", f);
	json_str_or_null(f, where);
	fputs(", \"message\": ", f);
	json_str(f, msg);
	fputc('}', f);
}
