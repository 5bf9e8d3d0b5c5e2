// SPDX-License-Identifier: GPL-2.0
/*
 * Checker output; see check/report.h.
 *
 * Schedule file, version 2 (text; '#' comments):
 *   kvmlab-schedule 2
 *   policy vm|vcpu
 *   vendor svm|vmx
 *   bug SLUG            (zero or more)
 *   granularity merged|movers|fine   (check --no-merge, --fine; version 1 files are "fine")
 *   zap-yield yes|no
 *   tlb yes|no          (the simulated CPUs' TLB; files without the line ran without one)
 *   memory-model sc|tso (check --memory-model; without the line, sc)
 *   store-buffer N      (tso: entries per store buffer; without the line, the default)
 *   finding NAME        (what the schedule ends in, "none" for a witness)
 *   steps N
 *   FIBER CHOICE        (N lines: the actor that moves, and its choice)
 *   scenario            (everything after this line is the scenario, in
 *                        the scenario file format)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check/report.h"
#include "check/sched.h"
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

void (*report_addr_name)(u64 addr, char *buf, size_t len);

/* An EV_PRIM line (check --verbose): the operation, what the address holds, and where in the model. */
static void prim_line(const struct kvm_event *ev, char *buf, size_t len)
{
	char op[128], what[96] = "", where[160];
	unsigned kind = (unsigned)(ev->a >> 16), o = (unsigned)(ev->a >> 8) & 0xff;
	bool lock = kind == PRIM_LOCK || kind == PRIM_UNLOCK ||
		    ((kind == PRIM_SB_STORE || kind == PRIM_SB_FLUSH) && (o & PRIM_SB_UNLOCK));

	kvm_event_format(ev, op, sizeof(op));
	if (report_addr_name && ev->b && !lock && kind != PRIM_FENCE) {
		what[0] = ' ';
		what[1] = '(';
		report_addr_name(ev->b, what + 2, sizeof(what) - 3);
		strcat(what, ")");
	}
	report_symbolize(ev->d, where, sizeof(where));
	snprintf(buf, len, "  . %s%s  @ %s", op, what, where);
}

void report_timeline(FILE *f, const struct kvm_event *ev, size_t n, int nr_vcpus, bool show_setup)
{
	bool setup = true;
	u32 step = ~0u;
	char who[16], line[512];

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
		if (ev[i].type == EV_PRIM)
			prim_line(&ev[i], line, sizeof(line));
		else
			kvm_event_format(&ev[i], line, sizeof(line));
		if (is_setup)
			fprintf(f, "  setup %-7s %s\n", who, line);
		else if (ev[i].seq != step)
			fprintf(f, "  %5u %-7s %s\n", (step = ev[i].seq), who, line);
		else
			fprintf(f, "        %-7s %s\n", who, line);
	}
}

void report_event_text(const struct kvm_event *ev, char *buf, size_t len)
{
	if (ev->type == EV_PRIM)
		prim_line(ev, buf, len);
	else
		kvm_event_format(ev, buf, len);
}

/* Print row (a lanes line) without its trailing blanks. */
static void put_row(FILE *f, char *row)
{
	size_t n = strlen(row);

	while (n && row[n - 1] == ' ')
		row[--n] = 0;
	fprintf(f, "%s\n", row);
}

/* Columns together fit this many characters; a column is never narrower than LANE_MIN. */
#define LANES_WIDTH 150
#define LANE_MIN 24

int report_acting_actors(const struct kvm_event *ev, size_t n, int nr_actors, bool used[KVMLAB_MAX_ACTORS])
{
	int count = 0;

	memset(used, 0, KVMLAB_MAX_ACTORS * sizeof(used[0]));
	for (size_t i = 0; i < n; i++)
		if (ev[i].actor >= 0 && ev[i].actor < nr_actors && !used[ev[i].actor]) {
			used[ev[i].actor] = true;
			count++;
		}
	return count;
}

void report_lanes(FILE *f, const struct kvm_event *ev, size_t n, int nr_actors, int nr_vcpus)
{
	bool used[KVMLAB_MAX_ACTORS];
	int cols = report_acting_actors(ev, n, nr_actors, used), w;
	char who[16], text[512], row[KVMLAB_MAX_ACTORS * (LANE_MIN + 3) + LANES_WIDTH + 16];
	size_t n_row;

	if (!cols)
		return;
	w = LANES_WIDTH / cols - 3;
	if (w < LANE_MIN)
		w = LANE_MIN;
	n_row = (size_t)snprintf(row, sizeof(row), "  %5s", "step");
	for (int a = 0; a < nr_actors; a++)
		if (used[a]) {
			report_actor_name(a, nr_vcpus, who, sizeof(who));
			n_row += (size_t)snprintf(row + n_row, sizeof(row) - n_row, " | %-*s", w, who);
		}
	put_row(f, row);
	for (size_t i = 0; i < n; i++) {
		int a = ev[i].actor;
		size_t len, off = 0;

		if (a < 0 || a >= nr_actors)
			continue;	/* setup */
		report_event_text(&ev[i], text, sizeof(text));
		len = strlen(text);
		/* The whole text, wrapped in its column: nothing is cut. */
		do {
			if (off)
				n_row = (size_t)snprintf(row, sizeof(row), "  %5s", "");
			else
				n_row = (size_t)snprintf(row, sizeof(row), "  %5u", ev[i].seq);
			for (int c = 0; c < nr_actors && n_row < sizeof(row); c++)
				if (used[c])
					n_row += (size_t)snprintf(row + n_row, sizeof(row) - n_row, " | %-*.*s", w,
								  c == a ? w : 0, c == a ? text + off : "");
			put_row(f, row);
			off += (size_t)w;
		} while (off < len);
	}
}

const char *granularity_name(enum granularity g)
{
	return g == GRAN_MERGED ? "merged" : g == GRAN_MOVERS ? "movers" : "fine";
}

void schedule_write(FILE *f, const struct scenario *s, const struct kvm_config *cfg, enum granularity g,
		    enum kvm_finding finding, const struct step *steps, u32 n)
{
	fprintf(f, "%s %d\n", SCHEDULE_MAGIC, SCHEDULE_VERSION);
	fprintf(f, "policy %s\nvendor %s\n", kvm_policy_name(cfg->policy), kvm_vendor_name(cfg->vendor));
	for (int i = 0; i < KVM_NR_BUGS; i++)
		if (cfg->bugs & BIT_ULL(i))
			fprintf(f, "bug %s\n", kvm_bug_info(i)->slug);
	fprintf(f, "granularity %s\n", granularity_name(g));
	fprintf(f, "zap-yield %s\ntlb %s\n", cfg->zap_can_yield ? "yes" : "no", cfg->tlb ? "yes" : "no");
	if (cfg->store_buffer)
		fprintf(f, "memory-model tso\nstore-buffer %u\n", cfg->store_buffer);
	fprintf(f, "finding %s\nsteps %u\n", kvm_finding_name(finding), n);
	for (u32 i = 0; i < n; i++)
		fprintf(f, "%u %u\n", steps[i].fiber, steps[i].choice);
	fprintf(f, "scenario\n");
	scenario_print(f, s);
}

static int fail(char *err, size_t len, const char *path, long line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(char *err, size_t len, const char *path, long line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, len, "%s:%ld: ", path, line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < len)
		vsnprintf(err + n, len - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define SCHED_LINE_MAX 4096	/* a header or step line; longer is malformed */

/*
 * The next line into *buf (getline(3)); its length, 0 at the end, or
 * -EINVAL with err set for a line that is too long or holds a NUL byte.
 */
static ssize_t next_line(FILE *f, char **buf, size_t *cap, const char *path, long lineno,
			 char *err, size_t errlen)
{
	ssize_t n;

	errno = 0;
	n = getline(buf, cap, f);
	if (n < 0)
		return errno == ENOMEM ? fail(err, errlen, path, lineno, "out of memory") : 0;
	if (n > SCHED_LINE_MAX)
		return fail(err, errlen, path, lineno, "line longer than %d bytes", SCHED_LINE_MAX);
	if ((ssize_t)strlen(*buf) != n)
		return fail(err, errlen, path, lineno, "NUL byte");
	return n;
}

/* Split line into at most max blank-separated words; their number (max + 1 if more). */
static int split_words(char *line, char **w, int max)
{
	int n = 0;

	for (char *t = strtok(line, " \t\r\n"); t; t = strtok(NULL, " \t\r\n")) {
		if (n == max)
			return max + 1;
		w[n++] = t;
	}
	return n;
}

/* Schedule header keywords; each may appear once (bug once per slug). */
enum sched_kw {
	KW_POLICY, KW_VENDOR, KW_GRANULARITY, KW_ZAP_YIELD, KW_TLB, KW_FINDING, KW_STEPS, KW_BUG, KW_MEMORY_MODEL,
	KW_STORE_BUFFER, KW_NR
};
static const char *const sched_kw_names[KW_NR] = {
	"policy", "vendor", "granularity", "zap-yield", "tlb", "finding", "steps", "bug", "memory-model",
	"store-buffer",
};

/*
 * One header line "KEYWORD ARG" into out; the steps that follow 'steps N'
 * are read here too.  0 or -EINVAL with err set.
 */
static int read_keyword(FILE *f, const char *path, long *lineno, char **w, struct schedule *out,
			unsigned *seen, char **buf, size_t *cap, char *err, size_t errlen)
{
	int kw, v;
	u64 n;

	for (kw = 0; kw < KW_NR; kw++)
		if (!strcmp(w[0], sched_kw_names[kw]))
			break;
	if (kw == KW_NR)
		return fail(err, errlen, path, *lineno, "unknown keyword '%.64s'", w[0]);
	if (kw != KW_BUG && (*seen & (1u << kw)))
		return fail(err, errlen, path, *lineno, "'%s' given twice", w[0]);
	*seen |= 1u << kw;
	switch (kw) {
	case KW_POLICY:
		if ((v = kvm_policy_parse(w[1])) < 0)
			return fail(err, errlen, path, *lineno, "unknown policy '%.64s' (vm, vcpu)", w[1]);
		out->cfg.policy = v;
		break;
	case KW_VENDOR:
		if ((v = kvm_vendor_parse(w[1])) < 0)
			return fail(err, errlen, path, *lineno, "unknown vendor '%.64s' (svm, vmx)", w[1]);
		out->cfg.vendor = v;
		break;
	case KW_BUG:
		if ((v = kvm_bug_parse(w[1])) < 0)
			return fail(err, errlen, path, *lineno, "unknown bug '%.64s' (kvmlab list)", w[1]);
		if (out->cfg.bugs & BIT_ULL(v))
			return fail(err, errlen, path, *lineno, "bug '%s' given twice", w[1]);
		out->cfg.bugs |= BIT_ULL(v);
		break;
	case KW_GRANULARITY:
		if (!strcmp(w[1], "merged"))
			out->granularity = GRAN_MERGED;
		else if (!strcmp(w[1], "movers"))
			out->granularity = GRAN_MOVERS;
		else if (!strcmp(w[1], "fine"))
			out->granularity = GRAN_FINE;
		else
			return fail(err, errlen, path, *lineno, "granularity must be merged, movers or fine");
		break;
	case KW_ZAP_YIELD:
		if (strcmp(w[1], "yes") && strcmp(w[1], "no"))
			return fail(err, errlen, path, *lineno, "zap-yield must be yes or no");
		out->cfg.zap_can_yield = !strcmp(w[1], "yes");
		break;
	case KW_TLB:
		if (strcmp(w[1], "yes") && strcmp(w[1], "no"))
			return fail(err, errlen, path, *lineno, "tlb must be yes or no");
		out->cfg.tlb = !strcmp(w[1], "yes");
		break;
	case KW_MEMORY_MODEL:
		if (strcmp(w[1], "sc") && strcmp(w[1], "tso"))
			return fail(err, errlen, path, *lineno, "memory-model must be sc or tso");
		out->tso = !strcmp(w[1], "tso");
		break;
	case KW_STORE_BUFFER:
		if (scenario_strtou64(w[1], false, &n) || n < 1 || n > SCHED_SB_MAX)
			return fail(err, errlen, path, *lineno, "store-buffer must be a number in [1, %d]", SCHED_SB_MAX);
		out->cfg.store_buffer = (u8)n;
		break;
	case KW_FINDING:
		out->finding = kvm_finding_parse(w[1]);
		if (out->finding == F_NONE && strcmp(w[1], "none"))
			return fail(err, errlen, path, *lineno, "unknown finding '%.64s' (kvmlab list)", w[1]);
		break;
	case KW_STEPS:
		if (scenario_strtou64(w[1], false, &n) || n > SCHEDULE_MAX_STEPS)
			return fail(err, errlen, path, *lineno, "bad step count '%.64s' (0..%u)", w[1],
				    SCHEDULE_MAX_STEPS);
		out->steps = calloc(n + 1, sizeof(*out->steps));
		if (!out->steps)
			return fail(err, errlen, path, *lineno, "out of memory for %llu steps",
				    (unsigned long long)n);
		for (u32 i = 0; i < n; i++) {
			char *sw[3];
			ssize_t len;
			u64 fi, ch;

			++*lineno;
			len = next_line(f, buf, cap, path, *lineno, err, errlen);
			if (len < 0)
				return (int)len;
			if (!len)
				return fail(err, errlen, path, *lineno, "%llu steps announced, %u found",
					    (unsigned long long)n, i);
			if (split_words(*buf, sw, 2) != 2 || scenario_strtou64(sw[0], false, &fi) ||
			    scenario_strtou64(sw[1], false, &ch) || fi >= KVMLAB_MAX_ACTORS || ch > 255)
				return fail(err, errlen, path, *lineno,
					    "expected a step 'ACTOR CHOICE' (decimal, actor < %d, choice < 256)",
					    KVMLAB_MAX_ACTORS);
			out->steps[i].fiber = (u8)fi;
			out->steps[i].choice = (u8)ch;
		}
		out->nr_steps = (u32)n;
		break;
	}
	return 0;
}

int schedule_read(const char *path, struct schedule *out, char *err, size_t errlen)
{
	char *line = NULL, *w[3];
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	unsigned seen = 0;
	bool header = false, scenario = false, html = false, in_html_schedule = false;
	FILE *f;
	int r = 0, nw;

	memset(out, 0, sizeof(*out));
	out->cfg.policy = KVM_POLICY_VM;
	out->cfg.vendor = KVM_VENDOR_SVM;
	out->cfg.enable_apicv = true;
	r = scenario_fopen(path, &f);
	if (r) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return -EINVAL;
	}
	while (!scenario && (len = next_line(f, &line, &cap, path, lineno + 1, err, errlen)) != 0) {
		lineno++;
		if (len < 0) {
			r = (int)len;
			goto out;
		}
		if (line[0] == '#')
			continue;
		/* check --html: the page's schedule follows the line that opens SCHEDULE_HTML_MARK. */
		if (!header && lineno == 1 && !strncasecmp(line, "<!DOCTYPE html", 14)) {
			html = true;
			continue;
		}
		if (html && !header && !in_html_schedule) {
			in_html_schedule = !strncmp(line, SCHEDULE_HTML_MARK, strlen(SCHEDULE_HTML_MARK));
			continue;
		}
		nw = split_words(line, w, 2);
		if (!nw)
			continue;
		if (!header) {
			u64 version;

			if (nw != 2 || strcmp(w[0], SCHEDULE_MAGIC) ||
			    scenario_strtou64(w[1], false, &version) || version < 1 ||
			    version > SCHEDULE_VERSION) {
				r = fail(err, errlen, path, lineno,
					 "not a kvmlab-schedule file (its first line is '%s N', N 1..%d)",
					 SCHEDULE_MAGIC, SCHEDULE_VERSION);
				goto out;
			}
			/* version 1 predates movers; without the keyword, movers */
			out->granularity = version >= 2 ? GRAN_MOVERS : GRAN_FINE;
			header = true;
		} else if (nw == 1 && !strcmp(w[0], "scenario")) {
			scenario = true;
		} else if (!strcmp(w[0], "scenario")) {
			r = fail(err, errlen, path, lineno, "'scenario' stands alone on its line; the scenario follows it");
			goto out;
		} else if (nw != 2) {
			r = fail(err, errlen, path, lineno, "expected 'KEYWORD VALUE'");
			goto out;
		} else if ((r = read_keyword(f, path, &lineno, w, out, &seen, &line, &cap, err, errlen))) {
			goto out;
		}
	}
	if (ferror(f)) {
		r = fail(err, errlen, path, lineno, "read error: %s", strerror(errno));
		goto out;
	}
	if (!header) {
		r = fail(err, errlen, path, lineno, html ? "an HTML page without a kvmlab schedule (check --html writes one)"
							 : "not a kvmlab-schedule file (empty)");
		goto out;
	}
	if (out->tso && !out->cfg.store_buffer)
		out->cfg.store_buffer = SCHED_SB_DEFAULT;
	if (!out->tso && out->cfg.store_buffer) {
		r = fail(err, errlen, path, lineno, "store-buffer without 'memory-model tso'");
		goto out;
	}
	if (!(seen & (1u << KW_STEPS)) || !scenario) {
		r = fail(err, errlen, path, lineno, "missing the '%s' section",
			 !(seen & (1u << KW_STEPS)) ? "steps" : "scenario");
		goto out;
	}
	r = scenario_parse_stream(path, f, lineno, &out->scn, err, errlen);
	if (r)
		goto out;
	out->cfg.zap_can_yield = out->cfg.zap_can_yield || out->scn.zap_yield;
	out->cfg.preempt = out->scn.preempt;	/* vmm_config()'s: the scenario's key */
	out->cfg.x2avic = !out->scn.no_x2avic;
out:
	free(line);
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
