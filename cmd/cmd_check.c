// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab check: run the unchanged model under every interleaving of a
 * bounded scenario (check/explore.c) and answer: verified, or here is the
 * shortest counterexample found.  kvmlab replay: re-run a schedule file.
 * Exit 0 verified (or witness found), 1 violation (or witness absent),
 * 2 usage/input error, 3 incomplete.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/dist.h"
#include "check/explore.h"
#include "check/harness.h"
#include "check/report.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "kernel/compiler.h"
#include "model/trace.h"
#include "model/vmm.h"

#ifdef KVMLAB_TSAN
/*
 * The checker snapshots and restores fiber stacks; ThreadSanitizer keeps a
 * shadow call stack per fiber that a restore cannot update, so it crashes.
 * The thread runtime (kvmlab stress) is what the TSan build is for.
 */
#define CHECKER_UNAVAILABLE \
	"not available in ThreadSanitizer builds (restoring fiber stacks defeats TSan's shadow call stacks); use the release, asan or ubsan build"
#endif

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
		"  --find WITNESS         search for an execution with an event instead of a\n"
		"                         violation: case-1, case-2a, case-2b, stale-snapshot\n"
		"  --first                stop at the first violation (no shortening)\n"
		"  --shorten SECONDS      look for shorter counterexamples this long (default 20)\n"
		"  --no-por               no sleep-set reduction (on by default for violations; never\n"
		"                         used with --find, whose event patterns order actors)\n"
		"  --no-persistent        no persistent sets (from the actors' future-access summaries)\n"
		"  --fine                 one transition per scheduling point (by default the operation\n"
		"                         after a lock acquisition joins it: acquisitions are right movers)\n"
		"  --no-races             do not check the model's plain accesses for data races\n"
		"  --no-hygiene --no-tracking   switch off dead-stack clearing / trusting write tracking\n"
		"                         (same verdicts; for measuring what each saves)\n"
		"  --max-states N --time-limit SECONDS --memory-limit MIB   bounds (exit 3)\n"
		"  --trace FILE           write the counterexample's schedule (kvmlab replay FILE)\n"
		"  --json FILE            write verdict, counts, timings and the timeline as JSON\n"
		"  --lanes                also draw the counterexample with one column per actor\n"
		"  --quiet                print only the verdict line\n");
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
	fputc('\n', f);
}

static const char *verdict_name(enum explore_verdict v)
{
	static const char *const n[] = {
		[VERDICT_VERIFIED] = "verified", [VERDICT_VIOLATION] = "violation",
		[VERDICT_WITNESS_FOUND] = "witness found", [VERDICT_WITNESS_ABSENT] = "no such execution",
		[VERDICT_INCOMPLETE] = "incomplete",
	};
	return n[v];
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

static void write_json(const char *path, const struct scenario *s, const struct kvm_config *cfg,
		       const struct explore_result *r, int witness, int nproc)
{
	struct json_out j;
	char who[16], line[256];
	int e = json_open(&j, path);

	if (e) {
		fprintf(stderr, "kvmlab check: --json %s: %s\n", path, strerror(-e));
		return;
	}
	fprintf(j.f, "{\n  \"command\": \"check\",\n  \"scenario\": ");
	json_str(j.f, s->name);
	fprintf(j.f, ",\n  \"policy\": \"%s\",\n  \"vendor\": \"%s\",\n  \"bugs\": [",
		kvm_policy_name(cfg->policy), kvm_vendor_name(cfg->vendor));
	for (int i = 0, first = 1; i < KVM_NR_BUGS; i++)
		if (cfg->bugs & BIT_ULL(i)) {
			fprintf(j.f, "%s\"%s\"", first ? "" : ", ", kvm_bug_info(i)->slug);
			first = 0;
		}
	fprintf(j.f, "],\n  \"witness\": %s%s%s,\n", witness >= 0 ? "\"" : "",
		witness >= 0 ? witness_info(witness)->name : "null", witness >= 0 ? "\"" : "");
	fprintf(j.f, "  \"granularity\": \"%s\",\n", sched_movers() ? "movers" : "fine");
	fprintf(j.f, "  \"races_checked\": %s,\n", checker_races() ? "true" : "false");
	fprintf(j.f, "  \"processes\": %d,\n", nproc);
	fprintf(j.f, "  \"verdict\": \"%s\",\n", verdict_name(r->verdict));
	fprintf(j.f, "  \"finding\": %s%s%s,\n", r->finding.kind ? "\"" : "",
		r->finding.kind ? kvm_finding_name(r->finding.kind) : "null", r->finding.kind ? "\"" : "");
	fprintf(j.f, "  \"message\": ");
	json_str(j.f, r->finding.msg);
	fprintf(j.f, ",\n  \"states\": %llu,\n  \"transitions\": %llu,\n  \"revisits\": %llu,\n"
		     "  \"max_depth\": %u,\n  \"seconds\": %.6f,\n  \"peak_bytes\": %llu,\n",
		(unsigned long long)r->states, (unsigned long long)r->transitions,
		(unsigned long long)r->revisits, r->max_depth, r->seconds,
		(unsigned long long)r->peak_bytes);
	fprintf(j.f, "  \"shortest_complete\": %s,\n", r->shortest_complete ? "true" : "false");
	fprintf(j.f, "  \"collision_probability_bound\": %.3e,\n", collision_bound(r->states));
	fprintf(j.f, "  \"terminal_states\": %llu,\n  \"terminal_digest\": \"%016llx\",\n",
		(unsigned long long)r->terminal_distinct, (unsigned long long)r->terminal_digest);
	fprintf(j.f, "  \"incomplete\": ");
	json_str(j.f, r->incomplete);
	fprintf(j.f, ",\n  \"steps\": %u,\n  \"schedule\": [", r->path_len);
	for (u32 i = 0; i < r->path_len; i++)
		fprintf(j.f, "%s[%u, %u]", i ? ", " : "", r->path[i].fiber, r->path[i].choice);
	fprintf(j.f, "],\n  \"timeline\": [");
	for (size_t i = 0; i < r->nr_events; i++) {
		report_actor_name(r->events[i].actor, s->nr_vcpus, who, sizeof(who));
		kvm_event_format(&r->events[i], line, sizeof(line));
		fprintf(j.f, "%s\n    {\"step\": %d, \"actor\": \"%s\", \"event\": ", i ? "," : "",
			r->events[i].actor == KVMLAB_MAX_ACTORS - 1 && i == 0 ? -1 : (int)r->events[i].seq,
			who);
		json_str(j.f, line);
		fprintf(j.f, "}");
	}
	fprintf(j.f, "\n  ]\n}\n");
	e = json_close(&j);
	if (e)
		fprintf(stderr, "kvmlab check: --json %s: %s\n", path, strerror(-e));
}

static u64 fnv1a(const void *p, size_t n, u64 h)
{
	const u8 *b = p;

	h ^= 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void print_result(const struct scenario *s, const struct explore_result *r, int witness,
			 bool quiet, const char *unshortened)
{
	double rate = r->seconds > 0 ? r->transitions / r->seconds : 0;

	if (!quiet)
		printf("explored %llu states, %llu transitions (%llu revisits), max depth %u, "
		       "%llu terminal states, in %.3f s (%.0f transitions/s), peak %.1f MiB\n",
		       (unsigned long long)r->states, (unsigned long long)r->transitions,
		       (unsigned long long)r->revisits, r->max_depth, (unsigned long long)r->terminal,
		       r->seconds, rate, r->peak_bytes / 1048576.0);
	if (r->verdict == VERDICT_VIOLATION) {
		char who[32];

		report_actor_name(r->finding.actor, s->nr_vcpus, who, sizeof(who));
		printf("VIOLATION %s (%s, %s): %s\n", kvm_finding_name(r->finding.kind),
		       who, r->finding.where, r->finding.msg);
		if (!quiet) {
			printf("counterexample, %u steps (%s), one line per event:\n", r->path_len,
			       unshortened ? unshortened :
			       r->shortest_complete ? "the fewest: no shorter schedule among those the reduced search covers" :
			       "the fewest found within the shortening budget, see --shorten");
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
	printf("verdict: %s", verdict_name(r->verdict));
	if (r->verdict == VERDICT_VIOLATION)
		printf(" (%s)", kvm_finding_name(r->finding.kind));
	if (witness >= 0)
		printf(" [%s]", witness_info(witness)->name);
	printf("\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 0 }, { "policy", required_argument, NULL, 0 },
		{ "vendor", required_argument, NULL, 0 },   { "bug", required_argument, NULL, 0 },
		{ "vcpus", required_argument, NULL, 0 },    { "toggles", required_argument, NULL, 0 },
		{ "accesses", required_argument, NULL, 0 }, { "find", required_argument, NULL, 'f' },
		{ "json", required_argument, NULL, 'j' },   { "trace", required_argument, NULL, 't' },
		{ "max-states", required_argument, NULL, 'm' },
		{ "time-limit", required_argument, NULL, 'T' },
		{ "memory-limit", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },	    { "first", no_argument, NULL, '1' },
		{ "no-por", no_argument, NULL, 'P' },
		{ "no-persistent", no_argument, NULL, 'A' },
		{ "fine", no_argument, NULL, 'F' },
		{ "no-hygiene", no_argument, NULL, 'H' },
		{ "no-races", no_argument, NULL, 'R' },
		{ "no-tracking", no_argument, NULL, 'W' },
		{ "lanes", no_argument, NULL, 'L' },
		{ "shorten", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },	    { 0 }
	};
	struct explore_opts eo = { .witness = WITNESS_NONE, .por = true, .shorten_seconds = 20 };
	struct explore_result res;
	struct kvm_config cfg;
	struct knob_opts k;
	struct scenario *s = calloc(1, sizeof(*s));
	const char *json = NULL, *trace = NULL;
	bool quiet = false, no_persistent = false, lanes = false, movers = true;
	bool no_hygiene = false, no_tracking = false;
	int c, idx, r = 0, rank = 0, nproc = 1;
	u64 v;

	if (!s)
		return cmd_usage_error("check", "out of memory");
#ifdef CHECKER_UNAVAILABLE
	free(s);
	return cmd_usage_error("check", CHECKER_UNAVAILABLE);
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
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
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
		case 'm':
			r = parse_u64_flag("check", "max-states", optarg, 1, ~0ull, &eo.max_states);
			break;
		case 'T':
			r = parse_u64_flag("check", "time-limit", optarg, 1, 1u << 30, &v);
			eo.time_limit = (double)v;
			break;
		case 'M':
			r = parse_u64_flag("check", "memory-limit", optarg, 1, 1u << 30, &v);
			eo.memory_limit = v << 20;
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
		case 'L':
			lanes = true;
			break;
		case 'F':
			movers = false;
			break;
		case 'S':
			r = parse_u64_flag("check", "shorten", optarg, 0, 1u << 20, &v);
			eo.shorten_seconds = (double)v;
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
	r = knob_load_scenario("check", &k, s);
	if (r)
		goto out;
	if (s->nr_vcpus + s->nr_actors > CHK_MAX_FIBERS) {
		r = cmd_usage_error("check", "%d vCPUs + %d actors exceed the checker's %d actors",
				    s->nr_vcpus, s->nr_actors, CHK_MAX_FIBERS);
		goto out;
	}
	vmm_config(s, k.policy, k.vendor, k.bugs, &cfg);
	eo.progress = !quiet && isatty(STDERR_FILENO);
	if (eo.witness != WITNESS_NONE)
		eo.por = false;	/* a witness pattern orders events of different actors */
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
	if (eo.por && !no_persistent)
		checker_reduction(&eo);
	if (!quiet)
		printf("data races: %s\n", checker_races() ? "checked along the explored paths (happens-before)" :
		       rt_write_tracking ? "not checked (--no-races)" :
		       "not checked (this build's model has no access instrumentation)");
	if (nproc > 1) {
		struct snapshot *root = sched_snapshot(0);
		/* Same initial state, same scenario, same search in every process. */
		u64 flags[] = { movers, eo.por, no_persistent, no_hygiene, no_tracking, checker_races(),
				(u64)eo.witness, root->hash };
		u64 h = fnv1a(s, sizeof(*s), fnv1a(&cfg, sizeof(cfg), fnv1a(flags, sizeof(flags), 0)));
		char err[300];

		sched_snapshot_free(root);
		eo.dist = dist_backend->start(h, err, sizeof(err));
		if (!eo.dist) {
			checker_teardown();
			r = cmd_usage_error("check", "%s", err);
			goto out;
		}
		eo.progress = eo.progress && rank == 0;
		if (eo.max_states)
			eo.max_states = max_t(u64, 1, eo.max_states / nproc);
		if (!quiet)
			printf("distributed: %d processes (%s), states partitioned by fingerprint; "
			       "the first counterexample found is reported, not shortened\n", nproc,
			       dist_backend->name);
	}
	explore_run(&eo, &res);
	if (nproc > 1)
		dist_backend->combine(&res);
	print_result(s, &res, eo.witness, quiet,
		     eo.first_only ? "the first found: --first does not shorten it" :
		     nproc > 1 ? "the first found: a distributed search does not shorten it" : NULL);
	if (lanes && res.nr_events && !quiet) {
		printf("the interleaving, one column per actor:\n");
		report_lanes(stdout, res.events, res.nr_events, s->nr_vcpus + s->nr_actors, s->nr_vcpus);
	}
	if (trace && rank == 0 && res.path_len && (res.verdict == VERDICT_VIOLATION || res.verdict == VERDICT_WITNESS_FOUND)) {
		int e = schedule_write(trace, s, &cfg, movers, res.finding.kind, res.path, res.path_len);

		if (e)
			fprintf(stderr, "kvmlab check: --trace %s: %s\n", trace, strerror(-e));
		else if (!quiet)
			printf("schedule written to %s (kvmlab replay %s)\n", trace, trace);
	}
	if (json && rank == 0)
		write_json(json, s, &cfg, &res, eo.witness, nproc);
	r = verdict_exit(res.verdict);
	explore_result_free(&res);
	checker_teardown();
out:
	if (dist_backend)
		dist_backend->leave();
	free(s);
	return r;
}

int cmd_replay(int argc, char **argv)
{
	struct explore_result res;
	struct schedule sch;
	char err[600];
	bool quiet = false;
	const char *path = NULL;
	int r;

#ifdef CHECKER_UNAVAILABLE
	return cmd_usage_error("replay", CHECKER_UNAVAILABLE);
#endif
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: kvmlab replay [--quiet] SCHEDULE-FILE\n");
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
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
	if (!quiet) {
		printf("kvmlab replay: ");
		print_config(stdout, &sch.scn, &sch.cfg);
	}
	r = checker_setup(&sch.scn, &sch.cfg, sch.movers);
	if (r) {
		schedule_free(&sch);
		return cmd_usage_error("replay", "cannot set up the checker: %s", strerror(-r));
	}
	r = explore_replay(sch.steps, sch.nr_steps, &res);
	if (r < 0) {
		fprintf(stderr, "%s: step %d (actor %u) is not possible in this scenario: the schedule does not match it\n",
			path, -r, sch.steps[-r - 1].fiber);
		explore_result_free(&res);
		checker_teardown();
		schedule_free(&sch);
		return EXIT_USAGE;
	}
	if (!quiet)
		report_timeline(stdout, res.events, res.nr_events, sch.scn.nr_vcpus, false);
	if (res.verdict == VERDICT_VIOLATION) {
		printf("VIOLATION %s (%s): %s\n", kvm_finding_name(res.finding.kind), res.finding.where,
		       res.finding.msg);
		r = EXIT_VIOLATION;
	} else {
		printf("replayed %u steps: no finding\n", res.path_len);
		r = EXIT_OK;
	}
	if (sch.finding && res.finding.kind != sch.finding)
		printf("note: the schedule file records finding %s, the replay ended in %s\n",
		       kvm_finding_name(sch.finding), res.finding.kind ? kvm_finding_name(res.finding.kind) : "none");
	explore_result_free(&res);
	checker_teardown();
	schedule_free(&sch);
	return r;
}
