// SPDX-License-Identifier: GPL-2.0
/*
 * Checker output; see check/report.h.
 *
 * Schedule file, version 2 (text; '#' comments):
 *   kvmlab-schedule 2
 *   policy vm|vcpu
 *   vendor svm|vmx
 *   bug SLUG            (zero or more)
 *   granularity movers|fine   (check --fine; version 1 files are "fine")
 *   zap-yield yes|no
 *   finding NAME        (what the schedule ends in, "none" for a witness)
 *   steps N
 *   FIBER CHOICE        (N lines: the actor that moves, and its choice)
 *   scenario            (everything after this line is the scenario, in
 *                        the scenario file format)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/report.h"
#include "model/trace.h"

void report_actor_name(int actor, int nr_vcpus, char *buf, size_t len)
{
	if (actor < 0 || actor >= KVMLAB_MAX_ACTORS - 1)
		snprintf(buf, len, "vmm");
	else if (actor < nr_vcpus)
		snprintf(buf, len, "vcpu%d", actor);
	else
		snprintf(buf, len, "actor%d", actor - nr_vcpus);
}

void report_timeline(FILE *f, const struct kvm_event *ev, size_t n, int nr_vcpus, bool show_setup)
{
	bool setup = true;
	u32 step = ~0u;
	char who[16], line[256];

	for (size_t i = 0; i < n; i++) {
		bool is_setup = ev[i].actor == KVMLAB_MAX_ACTORS - 1;

		if (is_setup && !setup && ev[i].type != EV_FINDING)
			is_setup = false;
		if (is_setup && setup) {
			if (!show_setup)
				continue;
		} else {
			setup = false;
		}
		report_actor_name(ev[i].actor, nr_vcpus, who, sizeof(who));
		kvm_event_format(&ev[i], line, sizeof(line));
		if (is_setup)
			fprintf(f, "  setup %-7s %s\n", who, line);
		else if (ev[i].seq != step)
			fprintf(f, "  %5u %-7s %s\n", (step = ev[i].seq), who, line);
		else
			fprintf(f, "        %-7s %s\n", who, line);
	}
}

/* "kvm_page_fault: vcpu 0 gpa ..." -> "kvm_page_fault"; findings keep their name. */
static void short_event(const struct kvm_event *ev, char *buf, size_t len)
{
	char line[256], *colon;

	kvm_event_format(ev, line, sizeof(line));
	colon = strchr(line, ':');
	if (ev->type == EV_ACTOR_OP && colon)
		memmove(line, colon + 2, strlen(colon + 2) + 1);	/* "set inhibit hyperv" */
	else if (colon && ev->type != EV_FINDING && ev->type != EV_NOTE)
		*colon = 0;
	if (ev->type == EV_NOTE)
		snprintf(line, sizeof(line), "%s", ev->a == NOTE_APIC_SPTE_WHILE_INHIBITED ?
			 "(APIC SPTE while inhibited)" : "(snapshot after zap)");
	line[len - 1 < sizeof(line) ? len - 1 : sizeof(line) - 1] = 0;
	memcpy(buf, line, strlen(line) + 1);
}

void report_lanes(FILE *f, const struct kvm_event *ev, size_t n, int nr_actors, int nr_vcpus)
{
	const int w = 30;
	char who[16], cell[64];

	fprintf(f, "  %5s", "step");
	for (int a = 0; a < nr_actors; a++) {
		report_actor_name(a, nr_vcpus, who, sizeof(who));
		fprintf(f, " | %-*s", w, who);
	}
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		int a = ev[i].actor;

		if (a < 0 || a >= nr_actors)
			continue;	/* setup */
		short_event(&ev[i], cell, sizeof(cell));
		fprintf(f, "  %5u", ev[i].seq);
		for (int c = 0; c < nr_actors; c++)
			fprintf(f, " | %-*.*s", w, w, c == a ? cell : "");
		fputc('\n', f);
	}
}

void schedule_write(FILE *f, const struct scenario *s, const struct kvm_config *cfg, bool movers,
		    enum kvm_finding finding, const struct step *steps, u32 n)
{
	fprintf(f, "%s %d\n", SCHEDULE_MAGIC, SCHEDULE_VERSION);
	fprintf(f, "policy %s\nvendor %s\n", kvm_policy_name(cfg->policy), kvm_vendor_name(cfg->vendor));
	for (int i = 0; i < KVM_NR_BUGS; i++)
		if (cfg->bugs & BIT_ULL(i))
			fprintf(f, "bug %s\n", kvm_bug_info(i)->slug);
	fprintf(f, "granularity %s\n", movers ? "movers" : "fine");
	fprintf(f, "zap-yield %s\nfinding %s\nsteps %u\n", cfg->zap_can_yield ? "yes" : "no",
		kvm_finding_name(finding), n);
	for (u32 i = 0; i < n; i++)
		fprintf(f, "%u %u\n", steps[i].fiber, steps[i].choice);
	fprintf(f, "scenario\n");
	scenario_print(f, s);
}

static int fail(char *err, size_t len, const char *path, int line, const char *msg)
{
	snprintf(err, len, "%s:%d: %s", path, line, msg);
	return -EINVAL;
}

int schedule_read(const char *path, struct schedule *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512], word[64], arg[256];
	int lineno = 0, version = 0, r = 0;
	bool have_steps = false;
	char *text = NULL;
	size_t tlen = 0;

	memset(out, 0, sizeof(*out));
	out->cfg.policy = KVM_POLICY_VM;
	out->cfg.vendor = KVM_VENDOR_SVM;
	out->cfg.enable_apicv = true;
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			r = fail(err, errlen, path, lineno, "line too long");
			goto out;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		arg[0] = 0;
		if (sscanf(line, "%63s %255s", word, arg) < 1)
			continue;
		if (lineno == 1 || !version) {
			version = atoi(arg);
			if (strcmp(word, SCHEDULE_MAGIC) || version < 1 || version > SCHEDULE_VERSION) {
				r = fail(err, errlen, path, lineno, "not a kvmlab-schedule file (version 1 or 2)");
				version = 0;
				goto out;
			}
			out->movers = version >= 2;	/* version 1 predates movers */
		} else if (!strcmp(word, "granularity")) {
			if (strcmp(arg, "movers") && strcmp(arg, "fine")) {
				r = fail(err, errlen, path, lineno, "granularity must be movers or fine");
				goto out;
			}
			out->movers = !strcmp(arg, "movers");
		} else if (!strcmp(word, "policy")) {
			int p = kvm_policy_parse(arg);

			if (p < 0) {
				r = fail(err, errlen, path, lineno, "unknown policy");
				goto out;
			}
			out->cfg.policy = p;
		} else if (!strcmp(word, "vendor")) {
			int v = kvm_vendor_parse(arg);

			if (v < 0) {
				r = fail(err, errlen, path, lineno, "unknown vendor");
				goto out;
			}
			out->cfg.vendor = v;
		} else if (!strcmp(word, "bug")) {
			int b = kvm_bug_parse(arg);

			if (b < 0) {
				r = fail(err, errlen, path, lineno, "unknown bug slug");
				goto out;
			}
			out->cfg.bugs |= BIT_ULL(b);
		} else if (!strcmp(word, "zap-yield")) {
			out->cfg.zap_can_yield = !strcmp(arg, "yes");
		} else if (!strcmp(word, "finding")) {
			out->finding = kvm_finding_parse(arg);
		} else if (!strcmp(word, "steps")) {
			char *end;
			unsigned long n = strtoul(arg, &end, 10);

			if (*end || !arg[0] || n > 1000000) {
				r = fail(err, errlen, path, lineno, "bad step count");
				goto out;
			}
			out->nr_steps = (u32)n;
			out->steps = calloc(n + 1, sizeof(*out->steps));
			for (u32 i = 0; i < n; i++) {
				unsigned fi, ch;
				char extra;

				lineno++;
				if (!fgets(line, sizeof(line), f) ||
				    sscanf(line, "%u %u %c", &fi, &ch, &extra) != 2 || fi >= KVMLAB_MAX_ACTORS ||
				    ch > 255) {
					r = fail(err, errlen, path, lineno, "expected a step 'FIBER CHOICE'");
					goto out;
				}
				out->steps[i].fiber = (u8)fi;
				out->steps[i].choice = (u8)ch;
			}
			have_steps = true;
		} else if (!strcmp(word, "scenario")) {
			size_t cap = 4096;
			size_t n;

			text = malloc(cap);
			while ((n = fread(text + tlen, 1, cap - tlen - 1, f)) > 0) {
				tlen += n;
				if (tlen + 1 == cap)
					text = realloc(text, cap *= 2);
			}
			text[tlen] = 0;
			break;
		} else {
			r = fail(err, errlen, path, lineno, "unknown keyword");
			goto out;
		}
	}
	if (!version) {
		r = fail(err, errlen, path, lineno, "not a kvmlab-schedule file (version 1 or 2)");
		goto out;
	}
	if (!have_steps || !text) {
		r = fail(err, errlen, path, lineno, "missing 'steps' or 'scenario' section");
		goto out;
	}
	{
		char serr[512];

		if (scenario_parse_string(path, text, &out->scn, serr, sizeof(serr))) {
			snprintf(err, errlen, "%s (in the scenario section)", serr);
			r = -EINVAL;
			goto out;
		}
	}
	out->cfg.zap_can_yield = out->cfg.zap_can_yield || out->scn.zap_yield;
out:
	free(text);
	fclose(f);
	if (r)
		schedule_free(out);
	return r;
}

void schedule_free(struct schedule *s)
{
	free(s->steps);
	s->steps = NULL;
}
