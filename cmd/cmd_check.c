// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab check: run the unchanged model under every interleaving of a
 * bounded scenario (check/explore.c) and answer: verified, or here is the
 * shortest counterexample found.  kvmlab replay: re-run a schedule file.
 * check: exit 0 verified (or witness found), 1 violation (or witness
 * absent), 2 usage/input/output error, 3 incomplete.  replay: exit 0 the
 * schedule's recorded ending reproduced, 1 not, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/dist.h"
#include "check/explore.h"
#include "check/harness.h"
#include "check/jobs.h"
#include "check/mem.h"
#include "check/report.h"
#include "check/swarm.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "kernel/compiler.h"
#include "model/trace.h"
#include "model/vmm.h"

/* The default shortening budget: about 30 s here, enough for every scenario in tests/. */
#define CHECK_SHORTEN_TRANSITIONS 50000000ull

#ifdef KVMLAB_TSAN
/*
 * The checker snapshots and restores fiber stacks; ThreadSanitizer keeps a
 * shadow call stack per fiber that a restore cannot update, so it crashes.
 * The thread runtime (kvmlab stress) is what the TSan build is for.
 */
#define CHECKER_UNAVAILABLE \
	"not available in ThreadSanitizer builds (restoring fiber stacks defeats TSan's shadow call stacks); use the release, asan or ubsan build"

/* Help is still there to read. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}
#endif

static void on_stop_signal(int sig)
{
	explore_stop_signal = sig;
}

/*
 * SIGINT and SIGTERM end the search at its next step, with its report; a
 * second one ends the process.  The handler runs on its own stack, not on a
 * fiber's, whose contents are part of the model state.
 */
static void stop_on_signals(void)
{
	static char altstack[64 << 10];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND | SA_ONSTACK };

	explore_stop_signal = 0;
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: kvmlab check [options]\n"
		"  --scenario NAME|FILE   built-in scenario or scenario file (default: seed, or the\n"
		"                         scenario of the first --bug)\n"
		"  --policy vm|vcpu       fault-path APICv predicate (default vm = mainline)\n"
		"  --vendor svm|vmx       simulated hardware (default svm)\n"
		"  --vcpus N --toggles N --accesses N   shape of the seed scenario (2, 3, 2)\n"
		"  --bug SLUG             re-introduce a historical bug (repeatable; kvmlab list)\n"
		"  --no-tlb               simulated CPUs cache no translations: every guest\n"
		"                         access walks the SPTEs (the hardware before the TLB)\n"
		"  --memory-model sc|tso  sc (default): interleavings only; tso: x86-TSO, each\n"
		"                         CPU's stores wait in a FIFO store buffer that smp_mb(),\n"
		"                         locked instructions and lock acquisitions drain\n"
		"                         (docs/memory-model.md)\n"
		"  --store-buffer N       tso: entries per store buffer (default %d, at most %d)\n"
		"  --find WITNESS         search for an execution with an event instead of a\n"
		"                         violation: case-1, case-2a, case-2b, stale-snapshot\n"
		"  --first                stop at the first violation (no shortening)\n"
		"  --shorten-transitions N   after the first violation, look for shorter ones for\n"
		"                         N more transitions (default 50000000; the same result on\n"
		"                         any machine under any load)\n"
		"  --shorten-seconds S    ... and for at most S seconds (a wall-clock bound, off by\n"
		"                         default: the result then depends on the machine's speed)\n"
		"  --no-por               no sleep-set reduction (on by default for violations; never\n"
		"                         used with --find, whose event patterns order actors)\n"
		"  --no-persistent        no persistent sets (from the actors' future-access summaries)\n"
		"  --no-merge             every marked access is a scheduling point (by default one that\n"
		"                         no other actor can see from there on joins the transition)\n"
		"  --preemptions K        bounded search: schedules with at most 0, 1, ..., K preemptions\n"
		"                         until a violation (the fewest preemptions); none found is\n"
		"                         not a proof (exit 3)\n"
		"  --swarm N              bounded search: N bitstate searches, each trying the actors\n"
		"                         in its own order and hashing states into its own bit array,\n"
		"                         member 0 first, until one finds a violation (with --jobs,\n"
		"                         that many at once; the same result); none found is not a\n"
		"                         proof (exit 3)\n"
		"  --swarm-bits LOG2      each member's bit array: 2^LOG2 bits (default %u, %u..%u);\n"
		"                         --max-states and --memory-limit bound each member,\n"
		"                         --time-limit the whole swarm\n"
		"  --fine                 one transition per scheduling point (by default the operation\n"
		"                         after a lock acquisition joins it: acquisitions are right movers)\n"
		"  --no-races             do not check the model's plain accesses for data races\n"
		"  --no-hygiene --no-tracking   switch off dead-stack clearing / trusting write tracking\n"
		"                         (same verdicts; for measuring what each saves)\n"
		"  --jobs N|auto          search in N worker processes on this machine (default 1;\n"
		"                         0 or auto: one per online CPU); with N > 1 the state and\n"
		"                         transition counts depend on how the workers interleave,\n"
		"                         the verdict and the terminal states do not, and a\n"
		"                         counterexample is searched for again in one process, so\n"
		"                         that it is the one --jobs 1 reports\n"
		"  --max-states N --time-limit SECONDS --memory-limit MIB   bounds (exit 3); memory\n"
		"                         is bounded by default (half of physical memory, less under\n"
		"                         ulimit -v/-d); --memory-limit 0: no bound\n"
		"  --trace FILE           write the counterexample's schedule (kvmlab replay FILE);\n"
		"                         without one, the scenario and an empty schedule\n"
		"  --json FILE            write verdict, counts, timings and the timeline as JSON\n"
		"                         (FILE '-': standard output; the report goes to stderr)\n"
		"  --lanes                also draw the counterexample with one column per actor\n"
		"  --html FILE            write the counterexample as one self-contained page: a lane\n"
		"                         per actor, the finding highlighted, each event's details on\n"
		"                         hover and click; the page is also a schedule (kvmlab replay FILE)\n"
		"  --perfetto FILE        write the counterexample as Chrome trace-event JSON (a track\n"
		"                         per actor, a slice per step) for ui.perfetto.dev or\n"
		"                         chrome://tracing\n"
		"  --verbose              the counterexample with every primitive operation of each\n"
		"                         step (marked accesses with their values, locks, waits,\n"
		"                         fences), what the address holds and the model's\n"
		"                         function and file:line\n"
		"  --quiet                print only the verdict line\n"
		"  --progress auto|always|never   on stderr: a live line on a terminal, else a line\n"
		"                         every 10 s; auto (the default) shows none with --quiet\n",
		SCHED_SB_DEFAULT, SCHED_SB_MAX, SWARM_LOG2_DEFAULT, SWARM_LOG2_MIN, SWARM_LOG2_MAX);
}

/*
 * --preemptions K: CHESS's iterative context bounding.  Searches with at
 * most 0, 1, ..., K preemptions (switching away from an actor that could
 * go on), each exhaustive within its bound, until one finds a violation:
 * the counterexample then has the fewest preemptions there are.  Sleep
 * and persistent sets are off (they would prune schedules within the
 * bound); invisible accesses still merge.  No violation is not a proof.
 */
static void run_bounded(struct explore_opts *eo, struct explore_result *res, u32 kmax, bool quiet)
{
	eo->por = eo->persistent = false;
	eo->bounded = true;
	for (u32 k = 0;; k++) {
		eo->preemptions = k;
		explore_run(eo, res);
		if (res->verdict != VERDICT_VERIFIED)
			return;
		if (!quiet)
			printf("at most %u preemption%s: %llu states, %llu transitions, no violation\n", k,
			       k == 1 ? "" : "s", (unsigned long long)res->states,
			       (unsigned long long)res->transitions);
		if (k == kmax)
			break;
		explore_result_free(res);
	}
	res->verdict = VERDICT_INCOMPLETE;
	snprintf(res->incomplete, sizeof(res->incomplete),
		 "--preemptions %u: no violation in any schedule with at most %u preemption%s; "
		 "the others were not explored, so this is not a proof", kmax, kmax, kmax == 1 ? "" : "s");
}

static void print_config(FILE *f, const struct scenario *s, const struct kvm_config *cfg)
{
	fprintf(f, "scenario %s (%d vCPU%s, %d actor%s), policy %s, vendor %s, bugs", s->name,
		s->nr_vcpus, s->nr_vcpus == 1 ? "" : "s", s->nr_actors, s->nr_actors == 1 ? "" : "s",
		kvm_policy_name(cfg->policy), kvm_vendor_name(cfg->vendor));
	if (!cfg->bugs)
		fprintf(f, " none");
	for (int i = 0; i < KVM_NR_BUGS; i++)
		if (cfg->bugs & BIT_ULL(i))
			fprintf(f, " %s", kvm_bug_info(i)->slug);
	if (!cfg->tlb)
		fprintf(f, ", no TLB");
	if (cfg->store_buffer)
		fprintf(f, ", x86-TSO (store buffers of %u)", cfg->store_buffer);
	fputc('\n', f);
}

static int verdict_exit(enum explore_verdict v)
{
	switch (v) {
	case VERDICT_VERIFIED:
	case VERDICT_WITNESS_FOUND:
		return EXIT_OK;
	case VERDICT_VIOLATION:
	case VERDICT_WITNESS_ABSENT:
		return EXIT_VIOLATION;
	default:
		return EXIT_INCOMPLETE;
	}
}

/*
 * Visited states are 64-bit fingerprints (hash compaction): a state whose
 * fingerprint equals an explored one's is taken as explored.  With n states
 * the chance that any two collided is at most n(n+1)/2^65 (union bound over
 * pairs, plus the fingerprints 0 and 1 sharing a slot key).
 */
static double collision_bound(u64 n)
{
	return (double)n * ((double)n + 1) / 36893488147419103232.0;	/* 2^65 */
}

/* The report as JSON into j (opened before the search), which is closed; 0 or -errno. */
static enum granularity granularity(bool movers, bool merged)
{
	return !movers ? GRAN_FINE : merged ? GRAN_MERGED : GRAN_MOVERS;
}

static int write_json(struct outfile *j, const struct scenario *s, const struct kvm_config *cfg,
		       const struct explore_result *r, int witness, int nproc, enum granularity gran,
		       bool bounded, u32 preemptions, const struct jobs_report *jr, const struct swarm_report *sr)
{
	fprintf(j->f, "{\n  \"schema\": \"kvmlab.check/1\",\n  \"command\": \"check\",\n  \"scenario\": ");
	json_str(j->f, s->name);
	fprintf(j->f, ",\n  \"policy\": \"%s\",\n  \"vendor\": \"%s\",\n  \"bugs\": [",
		kvm_policy_name(cfg->policy), kvm_vendor_name(cfg->vendor));
	for (int i = 0, first = 1; i < KVM_NR_BUGS; i++)
		if (cfg->bugs & BIT_ULL(i)) {
			fprintf(j->f, "%s\"%s\"", first ? "" : ", ", kvm_bug_info(i)->slug);
			first = 0;
		}
	fprintf(j->f, "],\n  \"witness\": %s%s%s,\n", witness >= 0 ? "\"" : "",
		witness >= 0 ? witness_info(witness)->name : "null", witness >= 0 ? "\"" : "");
	fprintf(j->f, "  \"granularity\": \"%s\",\n", granularity_name(gran));
	fprintf(j->f, "  \"memory_model\": \"%s\",\n  \"store_buffer\": %u,\n", cfg->store_buffer ? "tso" : "sc",
		cfg->store_buffer);
	fprintf(j->f, "  \"races_checked\": %s,\n", checker_races() ? "true" : "false");
	fprintf(j->f, "  \"processes\": %d,\n", nproc);
	if (bounded)
		fprintf(j->f, "  \"preemption_bound\": %u,\n", preemptions);
	else
		fprintf(j->f, "  \"preemption_bound\": null,\n");
	fprintf(j->f, "  \"jobs\": %d,\n", jr ? jr->jobs : sr ? sr->jobs : 1);
	if (sr) {
		fprintf(j->f, "  \"swarm\": {\"members\": %u, \"bits_log2\": %u, \"found_by\": ", sr->members,
			sr->log2);
		if (sr->found >= 0)
			fprintf(j->f, "%d", sr->found);
		else
			fputs("null", j->f);
		fprintf(j->f, ", \"seconds\": %.6f, \"reported\": [", sr->seconds);
		for (u32 i = 0; i < sr->reported; i++) {
			const struct swarm_member *m = &sr->m[i];

			fprintf(j->f, "%s\n    {\"member\": %u, \"verdict\": \"%s\", \"states\": %llu, "
				     "\"transitions\": %llu, \"revisits\": %llu, \"max_depth\": %u, "
				     "\"terminal_states\": %llu, \"seconds\": %.6f, \"bound\": ", i ? "," : "", i,
				explore_verdict_name(m->verdict), (unsigned long long)m->states,
				(unsigned long long)m->transitions, (unsigned long long)m->revisits, m->max_depth,
				(unsigned long long)m->terminal_distinct, m->seconds);
			json_str_or_null(j->f, m->bound);
			fputc('}', j->f);
		}
		fprintf(j->f, "\n  ]},\n");
	}
	if (jr) {
		/* The parallel search's own counts (the result's, unless a finding was searched for again). */
		fprintf(j->f, "  \"parallel\": {\"states\": %llu, \"transitions\": %llu, \"seconds\": %.6f, "
			     "\"table_bytes\": %llu, \"rerun\": %s, \"rerun_seconds\": %.6f, \"workers\": [",
			(unsigned long long)jr->states, (unsigned long long)jr->transitions, jr->seconds,
			(unsigned long long)jr->table_bytes, jr->rerun ? "true" : "false", jr->rerun_seconds);
		for (int i = 0; i < jr->jobs; i++)
			fprintf(j->f, "%s\n    {\"states\": %llu, \"transitions\": %llu, \"revisits\": %llu, "
				     "\"frames_taken\": %llu, \"frames_offered\": %llu, \"seconds\": %.6f, "
				     "\"idle_seconds\": %.6f, \"doubling_seconds\": %.6f}", i ? "," : "",
				(unsigned long long)jr->w[i].states, (unsigned long long)jr->w[i].transitions,
				(unsigned long long)jr->w[i].revisits, (unsigned long long)jr->w[i].taken,
				(unsigned long long)jr->w[i].offered, jr->w[i].seconds, jr->w[i].idle,
				jr->w[i].doubling);
		fprintf(j->f, "\n  ]},\n");
	}
	fprintf(j->f, "  \"verdict\": \"%s\",\n", explore_verdict_name(r->verdict));
	fprintf(j->f, "  \"finding\": ");
	if (r->finding.kind)
		json_finding(j->f, r->finding.kind, r->finding.actor, s->nr_vcpus, r->finding.where,
			     r->finding.msg);
	else
		fputs("null", j->f);
	fprintf(j->f, ",\n  \"states\": %llu,\n  \"transitions\": %llu,\n  \"revisits\": %llu,\n"
		     "  \"max_depth\": %u,\n  \"seconds\": %.6f,\n  \"peak_bytes\": %llu,\n",
		(unsigned long long)r->states, (unsigned long long)r->transitions,
		(unsigned long long)r->revisits, r->max_depth, r->seconds,
		(unsigned long long)r->peak_bytes);
	fprintf(j->f, "  \"shortest_complete\": %s,\n", r->shortest_complete ? "true" : "false");
	if (r->untrimmed_len)
		fprintf(j->f, "  \"untrimmed_steps\": %u,\n", r->untrimmed_len);
	else
		fprintf(j->f, "  \"untrimmed_steps\": null,\n");
	fprintf(j->f, "  \"collision_probability_bound\": %.3e,\n", collision_bound(r->states));
	fprintf(j->f, "  \"terminal_states\": %llu,\n  \"terminal_digest\": \"%016llx\",\n",
		(unsigned long long)r->terminal_distinct, (unsigned long long)r->terminal_digest);
	fprintf(j->f, "  \"incomplete\": ");
	json_str_or_null(j->f, r->incomplete);
	fprintf(j->f, ",\n  \"steps\": %u,\n  \"schedule\": [", r->path_len);
	for (u32 i = 0; i < r->path_len; i++)
		fprintf(j->f, "%s[%u, %u]", i ? ", " : "", r->path[i].fiber, r->path[i].choice);
	fprintf(j->f, "],\n  \"timeline\": [");
	for (size_t i = 0; i < r->nr_events; i++) {
		fprintf(j->f, "%s\n    ", i ? "," : "");
		json_event(j->f, &r->events[i], s->nr_vcpus, "step",
			   r->events[i].actor == KVMLAB_MAX_ACTORS - 1 && i == 0 ? -1 : (long)r->events[i].seq);
	}
	fprintf(j->f, "\n  ]\n}\n");
	return cmd_output_close("check", "json", j);
}

static u64 fnv1a(const void *p, size_t n, u64 h)
{
	const u8 *b = p;

	h ^= 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/*
 * --swarm N: each member reported (0 up to the first that found a
 * violation), in order, on standard output (their counts depend only on
 * the inputs); the times go to standard error.
 */
static void print_swarm(const struct swarm_report *sr, bool quiet)
{
	if (quiet)
		return;
	for (u32 i = 0; i < sr->reported; i++) {
		const struct swarm_member *m = &sr->m[i];

		printf("swarm member %u: %llu states, %llu transitions, max depth %u, %llu terminal states, %s%s%s\n",
		       i, (unsigned long long)m->states, (unsigned long long)m->transitions, m->max_depth,
		       (unsigned long long)m->terminal_distinct,
		       m->verdict == VERDICT_VIOLATION ? "a violation" : "no violation",
		       m->bound[0] ? ", stopped by " : "", m->bound);
	}
	fflush(stdout);
	fprintf(stderr, "time: swarm %.3f s\n", sr->seconds);
}

/*
 * --jobs N: what the parallel search did.  Its split goes to standard
 * error with the times (it depends on the run); a finding's second search
 * is announced on standard output, before the report it produces.
 */
static void print_jobs(const struct jobs_report *jr, const struct explore_result *r, bool quiet)
{
	if (quiet)
		return;
	for (int i = 0; i < jr->jobs; i++)
		fprintf(stderr, "worker %d: %llu states, %llu transitions, %llu frames taken, %llu offered, "
			"%.3f s (%.3f s waiting for work, %.3f s in table doublings)\n", i,
			(unsigned long long)jr->w[i].states, (unsigned long long)jr->w[i].transitions,
			(unsigned long long)jr->w[i].taken, (unsigned long long)jr->w[i].offered,
			jr->w[i].seconds, jr->w[i].idle, jr->w[i].doubling);
	if (jr->rerun) {
		printf("parallel search: %s after %llu states, %llu transitions; %s\n",
		       r->verdict == VERDICT_WITNESS_FOUND ? "witness found" : "violation found",
		       (unsigned long long)jr->states, (unsigned long long)jr->transitions,
		       jr->rerun_missed[0] ? "the search in one process did not reach it, so the worker's "
		       "counterexample follows" : "the report below is the search in one process");
		fflush(stdout);
		fprintf(stderr, "time: parallel search %.3f s, then the search in one process %.3f s\n",
			jr->seconds, jr->rerun_seconds);
	}
}

/* Text for an HTML element or attribute. */
static void html_str(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

/*
 * --html: the counterexample (or witness) as one self-contained page, a lane
 * per actor that acts, one row per event, the finding's rows highlighted,
 * each event's step, tracepoint and fields on hover (title) and click; then
 * the schedule in an HTML comment that runs to the end of the file, which
 * makes the page a schedule file too (kvmlab replay PAGE).
 */
static int write_html(struct outfile *o, const struct scenario *s, const struct kvm_config *cfg,
		      enum granularity g, const struct explore_result *r, int witness)
{
	FILE *f = o->f, *m;
	char who[16], text[512], title[256], *sched = NULL, *p;
	size_t sched_len = 0;
	bool used[KVMLAB_MAX_ACTORS];
	bool path = r->verdict == VERDICT_VIOLATION || r->verdict == VERDICT_WITNESS_FOUND;
	int nr = s->nr_vcpus + s->nr_actors;

	report_acting_actors(r->events, r->nr_events, nr, used);	/* a lane for each */
	if (r->verdict == VERDICT_VIOLATION)
		snprintf(title, sizeof(title), "kvmlab: %s on %s", kvm_finding_name(r->finding.kind), s->name);
	else
		snprintf(title, sizeof(title), "kvmlab: %s on %s", explore_verdict_name(r->verdict), s->name);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", f);
	html_str(f, title);
	fputs("</title>\n<style>\n"
	      "body { font: 13px/1.35 monospace; margin: 16px; color: #111; background: #fff; }\n"
	      "h1 { font-size: 16px; } .finding-line { color: #b00000; font-weight: bold; }\n"
	      "table.lanes { border-collapse: collapse; }\n"
	      "table.lanes th { background: #1f4e79; color: #fff; padding: 4px 8px; text-align: left; }\n"
	      "table.lanes td { border-left: 1px solid #ccc; padding: 1px 8px; vertical-align: top; max-width: 60ch; }\n"
	      "table.lanes td.step { color: #666; text-align: right; }\n"
	      "tr.ev td.on { background: #eef3f8; cursor: pointer; }\n"
	      "tr.finding td.on { background: #c00000; color: #fff; font-weight: bold; }\n"
	      "tr.detail td { background: #fffbe6; color: #333; }\n"
	      "</style></head><body>\n<h1>", f);
	html_str(f, title);
	fputs("</h1>\n<p>", f);
	snprintf(text, sizeof(text), "scenario %s, policy %s, vendor %s", s->name, kvm_policy_name(cfg->policy),
		 kvm_vendor_name(cfg->vendor));
	html_str(f, text);
	for (int b = 0; b < KVM_NR_BUGS; b++)
		if (cfg->bugs & BIT_ULL(b))
			fprintf(f, ", bug %s", kvm_bug_info(b)->slug);
	fputs("</p>\n", f);
	if (r->verdict == VERDICT_VIOLATION) {
		report_actor_name(r->finding.actor, s->nr_vcpus, who, sizeof(who));
		snprintf(text, sizeof(text), "VIOLATION %s (%s, %s): %s", kvm_finding_name(r->finding.kind), who,
			 r->finding.where, r->finding.msg);
		fputs("<p class=\"finding-line\" id=\"finding\">", f);
		html_str(f, text);
		fputs("</p>\n", f);
	} else if (witness >= 0 && path) {
		fprintf(f, "<p>witness %s, %u steps</p>\n", witness_info(witness)->name, r->path_len);
	}
	fprintf(f, "<p>%u steps, %zu events; hover an event for its details, click it to show them "
		   "below it. <code>kvmlab replay</code> reads this page.</p>\n", r->path_len, r->nr_events);
	fputs("<table class=\"lanes\" id=\"lanes\"><thead><tr><th>step</th>", f);
	for (int a = 0; a < nr; a++)
		if (used[a]) {
			report_actor_name(a, s->nr_vcpus, who, sizeof(who));
			fprintf(f, "<th class=\"lane\">%s</th>", who);
		}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < r->nr_events; i++) {
		const struct kvm_event *ev = &r->events[i];

		if (ev->actor < 0 || ev->actor >= nr)
			continue;	/* setup */
		report_event_text(ev, text, sizeof(text));
		fprintf(f, "<tr class=\"ev%s\"><td class=\"step\">%u</td>", ev->type == EV_FINDING ? " finding" : "",
			ev->seq);
		for (int a = 0; a < nr; a++) {
			if (!used[a])
				continue;
			if (a != ev->actor) {
				fputs("<td></td>", f);
				continue;
			}
			fprintf(f, "<td class=\"on\" title=\"step %u, %s, a=%#llx b=%#llx c=%#llx d=%#llx\">", ev->seq,
				kvm_event_name(ev->type), (unsigned long long)ev->a, (unsigned long long)ev->b,
				(unsigned long long)ev->c, (unsigned long long)ev->d);
			html_str(f, text);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table>\n<script>\n"
	      "document.getElementById('lanes').addEventListener('click', function (e) {\n"
	      "  var td = e.target.closest('td.on'); if (!td) return;\n"
	      "  var tr = td.parentNode, next = tr.nextElementSibling;\n"
	      "  if (next && next.classList.contains('detail')) { next.remove(); return; }\n"
	      "  var d = document.createElement('tr'); d.className = 'detail';\n"
	      "  var c = document.createElement('td'); c.colSpan = tr.children.length;\n"
	      "  c.textContent = td.title + ': ' + td.textContent; d.appendChild(c);\n"
	      "  tr.parentNode.insertBefore(d, next);\n"
	      "});\n</script>\n</body></html>\n", f);
	/* The schedule, for kvmlab replay; "-->" cannot occur in it but a comment line could hold it. */
	m = open_memstream(&sched, &sched_len);
	if (!m)
		return cmd_usage_error("check", "--html: out of memory");
	schedule_write(m, s, cfg, g, path ? r->finding.kind : F_NONE, r->path, path ? r->path_len : 0);
	fclose(m);
	while ((p = strstr(sched, "-->")))
		p[1] = ' ';
	fprintf(f, "%s: this page is also a schedule file, kvmlab replay PAGE reads from here\n%s",
		SCHEDULE_HTML_MARK, sched);
	free(sched);
	return cmd_output_close("check", "html", o);
}

/*
 * --perfetto: the counterexample (or witness) as Chrome trace-event JSON,
 * which ui.perfetto.dev and chrome://tracing open: one track per actor, a
 * slice per step on the actor that took it, each event an instant in it
 * (findings red), with its text, step and fields as arguments.  Time is the
 * event's index in microseconds: the order is real, the durations are not.
 */
static int write_perfetto(struct outfile *o, const struct scenario *s, const struct explore_result *r)
{
	FILE *f = o->f;
	char who[16], text[512];
	int nr = s->nr_vcpus + s->nr_actors;

	fprintf(f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
	fprintf(f, "  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"args\": {\"name\": ");
	snprintf(text, sizeof(text), "kvmlab check: %s", s->name);
	json_str(f, text);
	fprintf(f, "}}");
	for (int a = 0; a <= nr; a++) {
		report_actor_name(a == nr ? -1 : a, s->nr_vcpus, who, sizeof(who));
		fprintf(f, ",\n  {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": %d, "
			   "\"args\": {\"name\": \"%s\"}}", a, who);
	}
	for (size_t i = 0; i < r->nr_events; i++) {
		const struct kvm_event *ev = &r->events[i];
		int tid = ev->actor >= 0 && ev->actor < nr ? ev->actor : nr;
		size_t end = i;

		/* A step's slice: from its first event to its last, on its actor's track. */
		if (tid < nr && (i == 0 || r->events[i - 1].seq != ev->seq || r->events[i - 1].actor != ev->actor)) {
			while (end + 1 < r->nr_events && r->events[end + 1].seq == ev->seq &&
			       r->events[end + 1].actor == ev->actor)
				end++;
			fprintf(f, ",\n  {\"name\": \"step %u\", \"cat\": \"step\", \"ph\": \"X\", \"pid\": 1, "
				   "\"tid\": %d, \"ts\": %zu, \"dur\": %zu}", ev->seq, tid, i, end - i + 1);
		}
		report_event_text(ev, text, sizeof(text));
		fprintf(f, ",\n  {\"name\": \"%s\", \"cat\": \"%s\", \"ph\": \"i\", \"s\": \"t\", \"pid\": 1, "
			   "\"tid\": %d, \"ts\": %zu,%s \"args\": {\"step\": %u, \"text\": ",
			ev->type == EV_FINDING ? kvm_finding_name((enum kvm_finding)ev->a) : kvm_event_name(ev->type),
			ev->type == EV_FINDING ? "finding" : "event", tid, i,
			ev->type == EV_FINDING ? " \"cname\": \"terrible\"," : "", ev->seq);
		json_str(f, text);
		fprintf(f, ", \"a\": %llu, \"b\": %llu, \"c\": %llu, \"d\": %llu}}", (unsigned long long)ev->a,
			(unsigned long long)ev->b, (unsigned long long)ev->c, (unsigned long long)ev->d);
	}
	fprintf(f, "\n]}\n");
	return cmd_output_close("check", "perfetto", o);
}

/*
 * --verbose: replay the counterexample (or witness) with every primitive
 * operation logged (sched_set_verbose()), and print that timeline instead.
 * The checker is set up again for it, and stays set up.
 */
static void replay_verbose(const struct scenario *s, const struct kvm_config *cfg, enum granularity g,
			   struct explore_result *res)
{
	struct schedule vs = { .scn = *s, .cfg = *cfg, .granularity = g, .steps = res->path,
			       .nr_steps = res->path_len };
	struct explore_opts vo;
	struct explore_result vr;

	checker_teardown();
	if (checker_setup_schedule(&vs, &vo)) {
		fprintf(stderr, "kvmlab check: --verbose: cannot set the checker up again; the timeline is not verbose\n");
		return;
	}
	sched_set_verbose(true);
	if (explore_replay(&vo, res->path, res->path_len, &vr) == 0) {
		free(res->events);
		res->events = vr.events;
		res->nr_events = vr.nr_events;
		vr.events = NULL;
	}
	explore_result_free(&vr);
}

static void print_result(const struct scenario *s, const struct explore_result *r, int witness,
			 bool quiet, const char *unshortened)
{
	double rate = r->seconds > 0 ? r->transitions / r->seconds : 0;

	/* Standard output depends only on the inputs; times go to standard error. */
	if (!quiet) {
		printf("explored %llu states, %llu transitions (%llu revisits), max depth %u, "
		       "%llu terminal states, peak %.1f MiB\n",
		       (unsigned long long)r->states, (unsigned long long)r->transitions,
		       (unsigned long long)r->revisits, r->max_depth, (unsigned long long)r->terminal,
		       r->peak_bytes / 1048576.0);
		fflush(stdout);
		fprintf(stderr, "time: %.3f s (%.0f transitions/s)\n", r->seconds, rate);
	}
	if (r->verdict == VERDICT_VIOLATION) {
		char who[32], short_why[128];

		snprintf(short_why, sizeof(short_why), "the fewest found before %s ended the search for shorter ones",
			 r->shorten_stop ? r->shorten_stop : "a bound");

		report_actor_name(r->finding.actor, s->nr_vcpus, who, sizeof(who));
		printf("VIOLATION %s (%s, %s): %s\n", kvm_finding_name(r->finding.kind),
		       who, r->finding.where, r->finding.msg);
		if (!quiet) {
			const char *why = unshortened ? unshortened :
					  r->shortest_complete ? "the fewest: no shorter schedule among those the "
								 "reduced search covers" : short_why;

			if (r->untrimmed_len && r->path_len > r->untrimmed_len)
				printf("counterexample, %u steps, trimmed from the search's %u to fewer events (%s): the "
				       "steps the finding does not need were dropped, the finding's actor ran a few more "
				       "of its own, and the rest replayed; one line per event:\n",
				       r->path_len, r->untrimmed_len, why);
			else if (r->untrimmed_len)
				printf("counterexample, %u steps, trimmed from the search's %u (%s): the steps the "
				       "finding does not need were dropped and the rest replayed; one line per event:\n",
				       r->path_len, r->untrimmed_len, why);
			else
				printf("counterexample, %u steps (%s), one line per event:\n", r->path_len, why);
			report_timeline(stdout, r->events, r->nr_events, s->nr_vcpus, false);
		}
	} else if (r->verdict == VERDICT_WITNESS_FOUND && !quiet) {
		printf("witness %s found in %u steps:\n", witness_info(witness)->name, r->path_len);
		report_timeline(stdout, r->events, r->nr_events, s->nr_vcpus, false);
	}
	if (r->verdict == VERDICT_INCOMPLETE)
		printf("INCOMPLETE: %s\n", r->incomplete);
	if (!quiet && (r->verdict == VERDICT_VERIFIED || r->verdict == VERDICT_WITNESS_ABSENT))
		printf("states are kept as 64-bit fingerprints: the chance that a collision hid one is at most %.1e\n",
		       collision_bound(r->states));
	printf("verdict: %s", explore_verdict_name(r->verdict));
	if (r->verdict == VERDICT_VIOLATION)
		printf(" (%s)", kvm_finding_name(r->finding.kind));
	if (witness >= 0)
		printf(" [%s]", witness_info(witness)->name);
	printf("\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		KNOB_OPTIONS,				    { "find", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },   { "trace", required_argument, NULL, 't' },
		{ "max-states", required_argument, NULL, 'm' },
		{ "time-limit", required_argument, NULL, 'T' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },	    { "first", no_argument, NULL, '1' },
		{ "no-por", no_argument, NULL, 'P' },
		{ "no-persistent", no_argument, NULL, 'A' },
		{ "no-merge", no_argument, NULL, 'G' },
		{ "preemptions", required_argument, NULL, 'K' },
		{ "swarm", required_argument, NULL, 'Z' },
		{ "swarm-bits", required_argument, NULL, 'z' },
		{ "fine", no_argument, NULL, 'F' },
		{ "no-hygiene", no_argument, NULL, 'H' },
		{ "no-races", no_argument, NULL, 'R' },
		{ "no-tracking", no_argument, NULL, 'W' },
		{ "lanes", no_argument, NULL, 'L' },	    { "verbose", no_argument, NULL, 'v' },
		{ "perfetto", required_argument, NULL, 'e' }, { "html", required_argument, NULL, 'w' },
		{ "progress", required_argument, NULL, 'p' },
		{ "shorten-transitions", required_argument, NULL, 'S' },
		{ "shorten-seconds", required_argument, NULL, 's' },
		{ "shorten", required_argument, NULL, 'O' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "memory-model", required_argument, NULL, 'X' },
		{ "store-buffer", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },	    { 0 }
	};
	struct explore_opts eo = { .witness = WITNESS_NONE, .por = true,
				   .shorten_transitions = CHECK_SHORTEN_TRANSITIONS };
	struct explore_result res;
	struct kvm_config cfg;
	struct knob_opts k;
	struct outfile jout = { 0 }, tout = { 0 }, pout = { 0 }, hout = { 0 };
	struct scenario *s = calloc(1, sizeof(*s));
	const char *json = NULL, *trace = NULL, *perfetto = NULL, *html = NULL;
	bool quiet = false, no_persistent = false, lanes = false, movers = true, no_merge = false, verbose = false;
	int preempt_max = -1;	/* --preemptions */
	u64 swarm = 0, swarm_log2 = SWARM_LOG2_DEFAULT;	/* --swarm, --swarm-bits */
	bool swarm_bits_set = false;
	struct swarm_report sr = { .found = -1 };
	char swarm_note[160];
	char bounded_note[96];
	bool no_hygiene = false, no_tracking = false, memory_set = false;
	enum { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER } progress_mode = PROGRESS_AUTO;
	const char *memory_why = "--memory-limit";
	int c, idx, r = 0, rank = 0, nproc = 1, jobs = 1;
	bool tso = false, tso_set = false;
	u64 store_buffer = 0;	/* --store-buffer; 0 = the default */
	u64 need_sb = 0;	/* the deepest store buffers a --bug needs */
	struct jobs_report jr;
	char missed[400];
	u64 v;

	if (!s)
		return cmd_usage_error("check", "out of memory");
#ifdef CHECKER_UNAVAILABLE
	if (!wants_help(argc, argv)) {
		free(s);
		return cmd_usage_error("check", CHECKER_UNAVAILABLE);
	}
#endif
	/* kvmlab-mpi: one of several processes; only rank 0 prints and writes files. */
	if (dist_backend) {
		r = dist_backend->join(&rank, &nproc);
		if (r) {
			free(s);
			return cmd_usage_error("check", "cannot join the %s processes: %s", dist_backend->name,
					       strerror(-r));
		}
		if (rank && !freopen("/dev/null", "w", stdout)) {
			free(s);
			return cmd_usage_error("check", "/dev/null: %s", strerror(errno));
		}
	}
	knob_opts_init(&k);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (c) {
		case 0:
			r = knob_opt_parse("check", &k, opts[idx].name, optarg);
			break;
		case 'f':
			eo.witness = witness_parse(optarg);
			if (eo.witness < 0)
				r = cmd_usage_error("check", "--find: unknown witness '%s' (case-1, case-2a, case-2b, stale-snapshot)",
						    optarg);
			break;
		case 'j':
			json = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case 'e':
			perfetto = optarg;
			break;
		case 'w':
			html = optarg;
			break;
		case 'm':
			r = parse_u64_flag("check", "max-states", optarg, 1, ~0ull, &eo.max_states);
			break;
		case 'T':
			r = parse_u64_flag("check", "time-limit", optarg, 1, 1u << 30, &v);
			eo.time_limit = (double)v;
			break;
		case 'M':
			r = parse_u64_flag("check", "memory-limit", optarg, 0, 1u << 30, &v);
			eo.memory_limit = v << 20;
			memory_set = true;
			break;
		case 'q':
			quiet = true;
			break;
		case '1':
			eo.first_only = true;
			break;
		case 'P':
			eo.por = false;
			break;
		case 'A':
			no_persistent = true;
			break;
		case 'G':
			no_merge = true;
			break;
		case 'K':
			r = parse_u64_flag("check", "preemptions", optarg, 0, 200, &v);
			preempt_max = (int)v;
			break;
		case 'Z':
			r = parse_u64_flag("check", "swarm", optarg, 1, SWARM_MAX, &swarm);
			break;
		case 'z':
			r = parse_u64_flag("check", "swarm-bits", optarg, SWARM_LOG2_MIN, SWARM_LOG2_MAX, &swarm_log2);
			swarm_bits_set = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'L':
			lanes = true;
			break;
		case 'p':
			if (!strcmp(optarg, "auto"))
				progress_mode = PROGRESS_AUTO;
			else if (!strcmp(optarg, "always"))
				progress_mode = PROGRESS_ALWAYS;
			else if (!strcmp(optarg, "never"))
				progress_mode = PROGRESS_NEVER;
			else
				r = cmd_usage_error("check", "--progress: '%s' is not auto, always or never", optarg);
			break;
		case 'F':
			movers = false;
			break;
		case 'S':
			r = parse_u64_flag("check", "shorten-transitions", optarg, 0, ~0ull, &eo.shorten_transitions);
			break;
		case 's':
			r = parse_u64_flag("check", "shorten-seconds", optarg, 1, 1u << 20, &v);
			eo.shorten_seconds = (double)v;
			break;
		case 'O':
			r = cmd_usage_error("check", "--shorten is now --shorten-transitions N (a budget the same on "
					    "every machine) or --shorten-seconds S (wall-clock)");
			break;
		case 'J':
			if (!strcmp(optarg, "auto")) {
				v = 0;
			} else {
				r = parse_u64_flag("check", "jobs", optarg, 0, JOBS_MAX, &v);
				if (r)
					break;
			}
			if (!v) {
				long cpus = sysconf(_SC_NPROCESSORS_ONLN);

				v = cpus < 1 ? 1 : cpus > JOBS_MAX ? JOBS_MAX : (u64)cpus;
			}
			jobs = (int)v;
			break;
		case 'X':
			r = memory_model_parse("check", optarg, &tso);
			tso_set = true;
			break;
		case 'B':
			r = parse_u64_flag("check", "store-buffer", optarg, 1, SCHED_SB_MAX, &store_buffer);
			break;
		case 'H':
			no_hygiene = true;
			break;
		case 'W':
			no_tracking = true;
			break;
		case 'R':
			checker_set_races(false);
			break;
		case 'h':
			check_usage(stdout);
			if (dist_backend)
				dist_backend->leave();
			free(s);
			return EXIT_OK;
		default:
			r = cmd_usage_error("check", "unknown or incomplete option '%s'", argv[optind - 1]);
		}
		if (r)
			goto out;
	}
	if (optind < argc) {
		r = cmd_usage_error("check", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (jobs > 1 && dist_backend) {
		r = cmd_usage_error("check", "--jobs is for kvmlab: kvmlab-mpi spreads the search over MPI "
				    "processes instead");
		goto out;
	}
	r = knob_load_scenario("check", &k, s);
	if (r)
		goto out;
	if (s->nr_vcpus + s->nr_actors > CHK_MAX_FIBERS) {
		r = cmd_usage_error("check", "%d vCPUs + %d actors exceed the checker's %d actors",
				    s->nr_vcpus, s->nr_actors, CHK_MAX_FIBERS);
		goto out;
	}
	knob_config(&k, s, &cfg);
	/* A barrier bug (--bug or the scenario's) shows only under x86-TSO: it picks tso unless told. */
	/* ... and, unless --store-buffer says, store buffers as deep as it needs. */
	for (int b = 0; b < KVM_NR_BUGS; b++) {
		const struct kvm_bug_info *bi = kvm_bug_info(b);

		if (!(cfg.bugs & BIT_ULL(b)))
			continue;
		if (bi->tso && !tso_set)
			tso = true;
		if (bi->store_buffer > need_sb)
			need_sb = bi->store_buffer;
	}
	if (tso && !store_buffer)
		store_buffer = need_sb;
	r = memory_model_config("check", tso, store_buffer, s, &cfg);
	if (r)
		goto out;
	/* Output paths are input: a bad one ends the run before anything is explored. */
	if (rank == 0 && json)
		r = cmd_output_open("check", "json", json, &jout);
	if (rank == 0 && trace && !r)
		r = cmd_output_open("check", "trace", trace, &tout);
	if (rank == 0 && perfetto && !r)
		r = cmd_output_open("check", "perfetto", perfetto, &pout);
	if (rank == 0 && html && !r)
		r = cmd_output_open("check", "html", html, &hout);
	if (dist_backend && !dist_backend->agree(!r))
		r = EXIT_USAGE;	/* rank 0 said why */
	if (r)
		goto out;
	if (progress_mode == PROGRESS_AUTO && quiet)
		eo.progress = PROGRESS_NONE;
	else if (progress_mode != PROGRESS_NEVER)
		eo.progress = isatty(STDERR_FILENO) ? PROGRESS_TERMINAL : PROGRESS_LINES;
	if (eo.witness != WITNESS_NONE)
		eo.por = false;	/* a witness pattern orders events of different actors */
	if (preempt_max >= 0 && (eo.witness != WITNESS_NONE || nproc > 1 || jobs > 1)) {
		r = cmd_usage_error("check", "--preemptions is a bounded search for violations, by one process");
		goto out;
	}
	if (swarm_bits_set && !swarm) {
		r = cmd_usage_error("check", "--swarm-bits sizes the members of a --swarm search");
		goto out;
	}
	if (swarm && (eo.witness != WITNESS_NONE || nproc > 1 || preempt_max >= 0)) {
		r = cmd_usage_error("check", "--swarm is a bounded search for violations, on one machine (--jobs), "
				    "not with %s", eo.witness != WITNESS_NONE ? "--find" :
				    preempt_max >= 0 ? "--preemptions" : "kvmlab-mpi");
		goto out;
	}
	if (!quiet) {
		printf("kvmlab check: ");
		print_config(stdout, s, &cfg);
		fflush(stdout);
	}
	r = checker_setup(s, &cfg, movers);
	if (r) {
		r = cmd_usage_error("check", "cannot set up the checker: %s", strerror(-r));
		goto out;
	}
	if (no_hygiene)
		sched_set_hygiene(false);
	if (no_tracking)
		sched_set_tracking(false);
	checker_reduction(&eo);
	eo.persistent = eo.por && !no_persistent;
	/* Merged with por only: --no-por is the unreduced reference search. */
	eo.merge_invisible = eo.por && !no_merge && movers;	/* --fine: every point */
	if (!quiet)
		printf("data races: %s\n", checker_races() ? "checked along the explored paths (happens-before)" :
		       rt_write_tracking ? "not checked (--no-races)" :
		       "not checked (this build's model has no access instrumentation)");
	/* After setup: the default bound counts what the process maps by now. */
	if (!memory_set)
		eo.memory_limit = mem_default_limit(&memory_why);
	if (mem_reserve()) {
		checker_teardown();
		r = cmd_usage_error("check", "cannot set aside the %u MiB memory reserve", MEM_RESERVE >> 20);
		goto out;
	}
	/* --jobs J: J members, each with its array, at once. */
	if (swarm && eo.memory_limit && (u64)jobs * ((1ull << swarm_log2) / 8) >= eo.memory_limit) {
		checker_teardown();
		r = cmd_usage_error("check", "--swarm-bits %llu: %d member%s of %llu MiB of bits at once do%s not fit "
				    "the memory bound of %llu MiB", (unsigned long long)swarm_log2, jobs,
				    jobs == 1 ? "" : "s", (unsigned long long)((1ull << swarm_log2) >> 23),
				    jobs == 1 ? "es" : "", (unsigned long long)(eo.memory_limit >> 20));
		goto out;
	}
	if (!quiet && eo.memory_limit)
		printf("memory bound: %.1f GiB (%s; --memory-limit MIB changes it)\n",
		       eo.memory_limit / 1073741824.0, memory_why);
	else if (!quiet)
		printf("memory bound: none (--memory-limit 0)\n");
	stop_on_signals();
	if (nproc > 1) {
		struct snapshot *root = sched_snapshot(0);
		/* Same initial state, same scenario, same search in every process. */
		u64 flags[] = { movers, eo.por, no_persistent, no_merge, no_hygiene, no_tracking, checker_races(),
				(u64)eo.witness, root->hash };
		u64 h = fnv1a(s, sizeof(*s), fnv1a(&cfg, sizeof(cfg), fnv1a(flags, sizeof(flags), 0)));
		char err[512];

		sched_snapshot_free(root);
		eo.dist = dist_backend->start(h, err, sizeof(err));
		if (!eo.dist) {
			checker_teardown();
			r = cmd_usage_error("check", "%s", err);
			goto out;
		}
		if (rank)
			eo.progress = PROGRESS_NONE;
		if (eo.max_states)
			eo.max_states = max_t(u64, 1, eo.max_states / nproc);
		if (!quiet)
			printf("distributed: %d processes (%s), states partitioned by fingerprint; "
			       "the first counterexample found is reported, not shortened\n", nproc,
			       dist_backend->name);
	}
	if (swarm && !quiet)
		printf("swarm: %llu bitstate searches of 2^%llu bits (%.1f MiB) each, member 0 in the usual actor "
		       "order, the others each in its own, until one finds a violation%s\n",
		       (unsigned long long)swarm, (unsigned long long)swarm_log2,
		       (double)(1ull << swarm_log2) / 8 / 1048576.0,
		       jobs > 1 ? "; several at once in the --jobs worker processes (the result is the one "
				  "--jobs 1 gives)" : "");
	if (jobs > 1 && !quiet && !swarm)
		printf("jobs: %d worker processes share one visited table; the state and transition counts "
		       "depend on how they interleave, the verdict and the terminal states do not; a "
		       "counterexample is searched for again in one process, so that it is the one "
		       "--jobs 1 reports\n", jobs);
	if (swarm) {
		int e = swarm_run(&eo, (u32)swarm, (u32)swarm_log2, jobs, &res, &sr);

		if (e) {
			checker_teardown();
			r = cmd_usage_error("check", "cannot start the %d swarm workers: %s", jobs, strerror(-e));
			goto out;
		}
		print_swarm(&sr, quiet);
		if (sr.found >= 0)
			snprintf(swarm_note, sizeof(swarm_note),
				 "the first found by swarm member %d: a bitstate search does not shorten it", sr.found);
	} else if (jobs > 1) {
		int e = jobs_run(&eo, jobs, &res, &jr);

		if (e) {
			checker_teardown();
			r = cmd_usage_error("check", "cannot start the %d workers: %s", jobs, strerror(-e));
			goto out;
		}
		print_jobs(&jr, &res, quiet);
		if (jr.rerun_missed[0])
			snprintf(missed, sizeof(missed), "the first found by a worker, not shortened: %s",
				 jr.rerun_missed);
	} else if (preempt_max >= 0) {
		run_bounded(&eo, &res, (u32)preempt_max, quiet);
	} else {
		explore_run(&eo, &res);
	}
	if (nproc > 1)
		dist_backend->combine(&res);
	if (verbose && rank == 0 && res.path_len &&
	    (res.verdict == VERDICT_VIOLATION || res.verdict == VERDICT_WITNESS_FOUND))
		replay_verbose(s, &cfg, granularity(movers, eo.merge_invisible), &res);
	if (preempt_max >= 0)
		snprintf(bounded_note, sizeof(bounded_note),
			 "the first found with %u preemption%s, the fewest any counterexample needs",
			 eo.preemptions, eo.preemptions == 1 ? "" : "s");
	print_result(s, &res, eo.witness, quiet,
		     preempt_max >= 0 ? bounded_note :
		     swarm && sr.found >= 0 ? swarm_note :
		     jobs > 1 && !swarm && jr.rerun_missed[0] ? missed :
		     eo.first_only ? "the first found: --first does not shorten it" :
		     nproc > 1 ? "the first found: a distributed search does not shorten it" : NULL);
	if (lanes && res.nr_events && !quiet) {
		printf("the interleaving, one column per actor:\n");
		report_lanes(stdout, res.events, res.nr_events, s->nr_vcpus + s->nr_actors, s->nr_vcpus);
	}
	r = verdict_exit(res.verdict);
	if (tout.f) {
		/* Always written, so no trace of an earlier run is left behind. */
		bool path = res.verdict == VERDICT_VIOLATION || res.verdict == VERDICT_WITNESS_FOUND;

		schedule_write(tout.f, s, &cfg, granularity(movers, eo.merge_invisible),
			       path ? res.finding.kind : F_NONE, res.path,
			       path ? res.path_len : 0);
		if (cmd_output_close("check", "trace", &tout))
			r = EXIT_USAGE;
		else if (!quiet && path)
			printf("schedule written to %s (kvmlab replay %s)\n", trace, trace);
		else if (!quiet)
			printf("no schedule to record: %s holds the scenario and an empty schedule\n", trace);
	}
	if (pout.f && write_perfetto(&pout, s, &res))
		r = EXIT_USAGE;
	if (hout.f && write_html(&hout, s, &cfg, granularity(movers, eo.merge_invisible), &res, eo.witness))
		r = EXIT_USAGE;
	if (jout.f && write_json(&jout, s, &cfg, &res, eo.witness, nproc, granularity(movers, eo.merge_invisible),
				 eo.bounded, eo.preemptions, jobs > 1 && !swarm ? &jr : NULL, swarm ? &sr : NULL))
		r = EXIT_USAGE;
	swarm_report_free(&sr);
	explore_result_free(&res);
	checker_teardown();
out:
	outfile_abort(&jout);
	outfile_abort(&tout);
	outfile_abort(&pout);
	outfile_abort(&hout);
	if (dist_backend)
		dist_backend->leave();
	free(s);
	return r;
}

/* ---- replay under another configuration ------------------------------------- */

/* One timeline row: "STEP ACTOR EVENT" (setup events are not shown). */
struct tl_row {
	char text[300];
};

static size_t timeline_rows(const struct kvm_event *ev, size_t n, int nr_vcpus, struct tl_row **out)
{
	struct tl_row *rows = malloc(sizeof(*rows) * (n + 1));
	bool setup = true;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		char who[16], line[256];

		if (ev[i].actor == KVMLAB_MAX_ACTORS - 1 && setup && ev[i].type != EV_FINDING)
			continue;
		setup = false;
		report_actor_name(ev[i].actor, nr_vcpus, who, sizeof(who));
		kvm_event_format(&ev[i], line, sizeof(line));
		snprintf(rows[k++].text, sizeof(rows[0].text), "%5u %-7s %s", ev[i].seq, who, line);
	}
	*out = rows;
	return k;
}

/* What differs between two configurations, as "policy vm, bugs none". */
static void config_diff(const struct kvm_config *a, const struct kvm_config *b, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (a->policy != b->policy)
		n += (size_t)snprintf(buf + n, len - n, "policy %s", kvm_policy_name(b->policy));
	if (a->vendor != b->vendor && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%svendor %s", n ? ", " : "", kvm_vendor_name(b->vendor));
	if (a->bugs != b->bugs && n < len) {
		n += (size_t)snprintf(buf + n, len - n, "%sbugs", n ? ", " : "");
		if (!b->bugs && n < len)
			n += (size_t)snprintf(buf + n, len - n, " none");
		for (int i = 0; i < KVM_NR_BUGS && n < len; i++)
			if (b->bugs & BIT_ULL(i))
				n += (size_t)snprintf(buf + n, len - n, " %s", kvm_bug_info(i)->slug);
	}
	if (a->tlb != b->tlb && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", b->tlb ? "TLB" : "no TLB");
	if (a->store_buffer != b->store_buffer && n < len) {
		if (b->store_buffer)
			n += (size_t)snprintf(buf + n, len - n, "%sx86-TSO (store buffers of %u)", n ? ", " : "",
					      b->store_buffer);
		else
			n += (size_t)snprintf(buf + n, len - n, "%ssequential consistency", n ? ", " : "");
	}
	if (!buf[0])
		snprintf(buf, len, "the same configuration");
}

/* Print cells a and b side by side, each wrapped at w columns. */
static void print_side_by_side(const char *a, const char *b, int w)
{
	size_t la = strlen(a), lb = strlen(b);

	for (size_t off = 0; off < la || off < lb || off == 0; off += (size_t)w) {
		int na = off < la ? (int)(la - off < (size_t)w ? la - off : (size_t)w) : 0;
		int nb = off < lb ? (int)(lb - off < (size_t)w ? lb - off : (size_t)w) : 0;

		printf("  %-*.*s | %.*s\n", w, na, off < la ? a + off : "", nb, off < lb ? b + off : "");
		if (off + (size_t)w >= la && off + (size_t)w >= lb)
			break;
	}
}

static void print_outcome(const char *label, const struct explore_result *r, int rr,
			  const struct schedule *sch)
{
	if (rr < 0)
		printf("%s: step %d (actor %u) of the schedule is not possible there; stopped after %u steps%s%s\n",
		       label, -rr, sch->steps[-rr - 1].fiber, r->path_len,
		       r->verdict == VERDICT_VIOLATION ? ", in " : "",
		       r->verdict == VERDICT_VIOLATION ? kvm_finding_name(r->finding.kind) : "");
	else if (r->verdict == VERDICT_VIOLATION)
		printf("%s: %s at step %u (%s): %s\n", label, kvm_finding_name(r->finding.kind), r->path_len,
		       r->finding.where, r->finding.msg);
	else
		printf("%s: all %u steps, no finding\n", label, r->path_len);
}

#define SIDE_WIDTH 72
#define SIDE_AFTER 3	/* events shown after the first difference */

/*
 * The schedule under its own configuration (a) and under another (b), as far
 * as it stays possible there: both timelines side by side up to the first
 * event that differs and a few after, that event in full, and each outcome.
 */
static void replay_compare(const struct schedule *sch, const struct kvm_config *other,
			   const struct explore_result *a, int ra, const struct explore_result *b, int rb)
{
	struct tl_row *ta, *tb;
	size_t na = timeline_rows(a->events, a->nr_events, sch->scn.nr_vcpus, &ta);
	size_t nb = timeline_rows(b->events, b->nr_events, sch->scn.nr_vcpus, &tb);
	size_t d = 0, end;
	char la[160], lb[160];

	snprintf(la, sizeof(la), "as recorded");
	config_diff(&sch->cfg, other, lb, sizeof(lb));
	while (d < na && d < nb && !strcmp(ta[d].text, tb[d].text))
		d++;
	end = d + SIDE_AFTER + 1;
	printf("side by side, %s | %s:\n", la, lb);
	for (size_t i = 0; i < end && (i < na || i < nb); i++)
		print_side_by_side(i < na ? ta[i].text : "", i < nb ? tb[i].text : "", SIDE_WIDTH);
	if (d == na && d == nb) {
		printf("no difference: the same %zu events under both\n", na);
	} else {
		printf("first difference, event %zu:\n", d + 1);
		printf("  %-12s %s\n", la, d < na ? ta[d].text : "(no more events)");
		printf("  %-12s %s\n", lb, d < nb ? tb[d].text : "(no more events)");
	}
	print_outcome(la, a, ra, sch);
	print_outcome(lb, b, rb, sch);
	free(ta);
	free(tb);
}

/* replay's --policy/--vendor/--bug VALUE or --flag=VALUE at argv[*i]: its value, else NULL. */
static const char *replay_flag(int argc, char **argv, int *i, const char *flag)
{
	size_t n = strlen(flag);

	if (strncmp(argv[*i], flag, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

int cmd_replay(int argc, char **argv)
{
	struct explore_opts ro;
	struct explore_result res, res2;
	struct schedule sch;
	struct knob_opts k;
	struct kvm_config other;
	char err[600];
	bool quiet = false, compare = false, bugs_given = false;
	const char *path = NULL, *v;
	int r, r2;

#ifdef CHECKER_UNAVAILABLE
	if (!wants_help(argc, argv))
		return cmd_usage_error("replay", CHECKER_UNAVAILABLE);
#endif
	knob_opts_init(&k);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: kvmlab replay [--quiet] [--policy vm|vcpu] [--vendor svm|vmx] [--bug SLUG|none]... SCHEDULE-FILE\n"
			       "Re-runs a schedule written by check --trace (or a page written by check --html).\n"
			       "Exit 0 when the replay ends in the finding the file records (or none) at the\n"
			       "step it records, 1 when it does not (the last line says what happened\n"
			       "instead), 2 for a malformed file or a step that is not possible in its\n"
			       "scenario.\n"
			       "  --policy, --vendor, --bug   also run the schedule under this configuration\n"
			       "                         (--bug replaces the recorded bugs; 'none' = mainline),\n"
			       "                         as far as its steps stay possible there, and print both\n"
			       "                         timelines side by side up to the first event that\n"
			       "                         differs, that event, and both outcomes; the exit code\n"
			       "                         is still the recorded configuration's\n"
			       "  --quiet                print only the verdict lines\n");
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else if ((!strcmp(argv[i], "--policy") || !strcmp(argv[i], "--vendor") ||
			    !strcmp(argv[i], "--bug")) && i + 1 >= argc) {
			return cmd_usage_error("replay", "%s needs a value", argv[i]);
		} else if ((v = replay_flag(argc, argv, &i, "--policy"))) {
			if (knob_opt_parse("replay", &k, "policy", v))
				return EXIT_USAGE;
			compare = true;
		} else if ((v = replay_flag(argc, argv, &i, "--vendor"))) {
			if (knob_opt_parse("replay", &k, "vendor", v))
				return EXIT_USAGE;
			compare = true;
		} else if ((v = replay_flag(argc, argv, &i, "--bug"))) {
			if (strcmp(v, "none") && knob_opt_parse("replay", &k, "bug", v))
				return EXIT_USAGE;
			compare = bugs_given = true;
		} else if (argv[i][0] == '-' || path) {
			return cmd_usage_error("replay", "unexpected argument '%s'", argv[i]);
		} else {
			path = argv[i];
		}
	}
	if (!path)
		return cmd_usage_error("replay", "missing schedule file");
	if (schedule_read(path, &sch, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (sch.scn.nr_vcpus + sch.scn.nr_actors > CHK_MAX_FIBERS) {
		schedule_free(&sch);
		return cmd_usage_error("replay", "%s: too many actors", path);
	}
	other = sch.cfg;
	if (k.policy >= 0)
		other.policy = k.policy;
	if (k.vendor >= 0)
		other.vendor = k.vendor;
	if (bugs_given)
		other.bugs = k.bugs;
	if (!quiet) {
		printf("kvmlab replay: ");
		print_config(stdout, &sch.scn, &sch.cfg);
		if (compare) {
			printf("      against: ");
			print_config(stdout, &sch.scn, &other);
		}
	}
	if (sch.cfg.store_buffer && checker_tso_unavailable()) {
		schedule_free(&sch);
		return cmd_usage_error("replay", "%s: %s", path, checker_tso_unavailable());
	}
	r = checker_setup_schedule(&sch, &ro);
	if (r) {
		schedule_free(&sch);
		return cmd_usage_error("replay", "cannot set up the checker: %s", strerror(-r));
	}
	r = explore_replay(&ro, sch.steps, sch.nr_steps, &res);
	/* Before the teardown: the timeline names model addresses (check --verbose, x86-TSO buffers). */
	if (r >= 0 && !compare && !quiet)
		report_timeline(stdout, res.events, res.nr_events, sch.scn.nr_vcpus, false);
	checker_teardown();
	if (r < 0) {
		fprintf(stderr, "%s: step %d (actor %u) is not possible in this scenario: the schedule does not match it\n",
			path, -r, sch.steps[-r - 1].fiber);
		explore_result_free(&res);
		schedule_free(&sch);
		return EXIT_USAGE;
	}
	if (compare) {
		struct schedule sch2 = sch;

		sch2.cfg = other;
		r2 = checker_setup_schedule(&sch2, &ro);
		if (r2) {
			explore_result_free(&res);
			schedule_free(&sch);
			return cmd_usage_error("replay", "cannot set up the checker: %s", strerror(-r2));
		}
		r2 = explore_replay(&ro, sch.steps, sch.nr_steps, &res2);
		checker_teardown();
		if (quiet) {
			char lb[160];

			config_diff(&sch.cfg, &other, lb, sizeof(lb));
			print_outcome("as recorded", &res, 0, &sch);
			print_outcome(lb, &res2, r2, &sch);
		} else {
			replay_compare(&sch, &other, &res, 0, &res2, r2);
		}
		explore_result_free(&res2);
	} else {
		if (res.verdict == VERDICT_VIOLATION)
			printf("VIOLATION %s (%s): %s\n", kvm_finding_name(res.finding.kind), res.finding.where,
			       res.finding.msg);
	}
	/* Reproduced: the recorded finding (or none) after exactly the recorded steps. */
	if (res.finding.kind == sch.finding && res.path_len == sch.nr_steps) {
		if (sch.finding)
			printf("reproduced: %s at step %u, as the schedule records\n",
			       kvm_finding_name(sch.finding), sch.nr_steps);
		else
			printf("reproduced: %u steps and no finding, as the schedule records\n", sch.nr_steps);
		r = EXIT_OK;
	} else {
		char got[96];

		if (res.finding.kind)
			snprintf(got, sizeof(got), "ended in %s at step %u", kvm_finding_name(res.finding.kind),
				 res.path_len);
		else
			snprintf(got, sizeof(got), "took all %u steps with no finding", res.path_len);
		printf("NOT REPRODUCED: the schedule records %s at step %u; the replay %s\n",
		       kvm_finding_name(sch.finding), sch.nr_steps, got);
		r = EXIT_VIOLATION;
	}
	explore_result_free(&res);
	schedule_free(&sch);
	return r;
}
