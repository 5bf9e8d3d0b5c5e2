// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab stress: run a scenario on real threads (one per vCPU and per actor)
 * for --seconds or --iterations, repeating the scripts with randomized delays
 * from --seed, with every oracle armed.  Prints throughput and each finding
 * with the last events of every thread.  Exit 0 no finding, 1 finding,
 * 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/report.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "model/ghost.h"
#include "model/kvm.h"
#include "model/trace.h"
#include "model/vmm.h"
#include "runtime/threads.h"

struct stress {
	struct scenario scn;
	struct kvm_config cfg;
	struct vmm *vmm;
	u64 max_iterations;		/* 0 = until time is up */
	double seconds;
	u64 seed;
	unsigned delay;
	int nr_threads;
	pthread_t tid[KVMLAB_MAX_ACTORS];
	int done[KVMLAB_MAX_ACTORS];	/* atomic */
	u64 iterations[KVMLAB_MAX_ACTORS];	/* atomic */
};

struct thread_arg {
	struct stress *st;
	int actor;
};

static bool keep_going(struct stress *st, int actor)
{
	u64 it = __atomic_load_n(&st->iterations[actor], __ATOMIC_RELAXED);

	return !rt_threads_stopping() && (!st->max_iterations || it < st->max_iterations);
}

static void bump_iterations(struct stress *st, int actor)
{
	__atomic_fetch_add(&st->iterations[actor], 1, __ATOMIC_RELAXED);
}

static void *vcpu_thread(void *p)
{
	struct thread_arg *a = p;
	struct stress *st = a->st;

	rt_threads_set_self(a->actor);
	while (keep_going(st, a->actor)) {
		vmm_vcpu_run_program(st->vmm, a->actor);
		bump_iterations(st, a->actor);
	}
	__atomic_store_n(&st->done[a->actor], 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *actor_thread(void *p)
{
	struct thread_arg *a = p;
	struct stress *st = a->st;
	const struct actor_script *script = &st->scn.actor[a->actor - st->scn.nr_vcpus];

	rt_threads_set_self(a->actor);
	while (keep_going(st, a->actor)) {
		for (int i = 0; i < script->nr_ops && !rt_threads_stopping(); i++) {
			vmm_actor_op(st->vmm, a->actor, &script->ops[i]);
			cpu_relax();
		}
		bump_iterations(st, a->actor);
	}
	__atomic_store_n(&st->done[a->actor], 1, __ATOMIC_RELEASE);
	return NULL;
}

static void stress_usage(FILE *f)
{
	fprintf(f,
		"usage: kvmlab stress [options]\n"
		"  --scenario NAME|FILE   built-in scenario or scenario file (default: seed)\n"
		"  --policy vm|vcpu       fault-path APICv predicate (default: scenario, else vm)\n"
		"  --vendor svm|vmx       simulated hardware (default: scenario, else svm)\n"
		"  --bug SLUG             re-introduce a historical bug (repeatable; see kvmlab list)\n"
		"  --no-tlb               simulated CPUs cache no translations (as for check)\n"
		"  --vcpus N --toggles N --accesses N   shape of the seed scenario\n"
		"  --seconds S            run for S seconds (default 10)\n"
		"  --iterations N         run each script N times instead\n"
		"  --seed N               random delays seed (default 1)\n"
		"  --delay PERMILLE       chance of a delay at each primitive (default 20)\n"
		"  --json FILE            write the report as JSON (-: standard output)\n"
		"  --quiet                print only the verdict line\n");
}

/* The vCPU of scenario index i if it is created and halted, else NULL. */
static struct kvm_vcpu *halted_vcpu(struct stress *st, int i)
{
	struct kvm_vcpu *vcpu;

	if (!__atomic_load_n(&st->vmm->created[i], __ATOMIC_ACQUIRE))
		return NULL;
	vcpu = __atomic_load_n(&st->vmm->vcpus[i], __ATOMIC_ACQUIRE);
	return __atomic_load_n(&vcpu->halted, __ATOMIC_ACQUIRE) ? vcpu : NULL;
}

/*
 * Wake halted vCPUs so every thread can wind down: KVM_REQ_UNBLOCK + kick;
 * with 'release', the guest's stop flag is set first, so that a guest waiting
 * for interrupts (wait-irq) that no other thread will send any more goes on.
 */
static void unblock_vcpus(struct stress *st, bool release)
{
	for (int i = 0; i < st->scn.nr_vcpus; i++) {
		struct kvm_vcpu *vcpu = halted_vcpu(st, i);

		if (!vcpu)
			continue;
		if (release)
			__atomic_store_n(&vcpu->arch.guest_stop, 1, __ATOMIC_RELEASE);
		kvm_make_request(KVM_REQ_UNBLOCK, vcpu);
		kvm_vcpu_kick(vcpu);
	}
}

/* The throughput table: its line, and its key in the JSON report's per_second. */
static const struct { int type; const char *name, *key; } rates[] = {
	{ EV_APIC_ACCESS, "guest APIC accesses", "guest_apic_accesses" },
	{ EV_MEM_ACCESS, "guest RAM accesses", "guest_ram_accesses" },
	{ EV_EXIT, "VM exits", "vm_exits" },
	{ EV_PAGE_FAULT, "page faults", "page_faults" },
	{ EV_SPTE_SET, "SPTEs installed", "sptes_installed" },
	{ EV_SPTE_ZAP, "SPTEs zapped", "sptes_zapped" },
	{ EV_INHIBIT_CHANGED, "APICv inhibit changes", "apicv_inhibit_changes" },
	{ EV_APICV_UPDATE, "vCPU APICv updates", "vcpu_apicv_updates" },
	{ EV_KICK, "kicks", "kicks" },
	{ EV_INTR, "guest interrupts taken", "guest_interrupts_taken" },
	{ EV_AVIC_IPI, "AVIC IPIs (hardware)", "avic_hw_ipis" },
	{ EV_DOORBELL, "AVIC/PI notifications", "guest_notifications" },
	{ EV_PREEMPT, "sched out + sched in", "sched_out_in" },
};

static int event_fmt_vcpus;	/* actor ids below this are vCPU threads */

static void event_fmt(const struct kvm_event *ev, char *buf, size_t len)
{
	char inner[200];

	kvm_event_format(ev, inner, sizeof(inner));
	if (ev->actor == RT_HARNESS_ACTOR)
		snprintf(buf, len, "[vmm   ] %s", inner);
	else if (ev->actor < event_fmt_vcpus)
		snprintf(buf, len, "[vcpu%d ] %s", ev->actor, inner);
	else
		snprintf(buf, len, "[actor%d] %s", ev->actor - event_fmt_vcpus, inner);
}

/* The report as JSON into j (opened before the run), which is closed; 0 or -errno. */
enum stress_expect { EXPECT_NONE, EXPECT_SKIPPED, EXPECT_CHECKED };

/*
 * The scenario's expectations, after a run of one iteration that ended on
 * its own (every thread done, no finding): a failure joins the findings.
 */
static void stress_final_finding(struct rt_threads_stats *stats, const struct rt_threads_finding *f)
{
	stats->nr_findings[f->kind]++;
	if (stats->nr_recorded < RT_MAX_FINDINGS)
		stats->recorded[stats->nr_recorded++] = *f;
}

/*
 * After a run of one iteration that ended on its own (every thread done, no
 * finding): the final state's checks, as check makes them at a terminal
 * state (an interrupt left behind, then the scenario's expectations).
 */
static enum stress_expect stress_expect(struct stress *st, bool stuck, struct rt_threads_stats *stats)
{
	struct rt_threads_finding f = { .where = "final state" };
	bool final = st->max_iterations == 1 && !stuck && !stats->nr_recorded;

	if (final) {
		f.kind = ghost_check_final(st->vmm->kvm, f.msg, sizeof(f.msg), &f.actor);
		if (f.kind != F_NONE) {
			stress_final_finding(stats, &f);
			final = false;
		}
	}
	if (!st->scn.nr_expect)
		return EXPECT_NONE;
	if (!final)
		return EXPECT_SKIPPED;
	f.kind = vmm_check_expect(st->vmm, f.msg, sizeof(f.msg), &f.actor);
	if (f.kind != F_NONE)
		stress_final_finding(stats, &f);
	return EXPECT_CHECKED;
}

static const char *const expect_json[] = { "null", "false", "true" };

static int write_json(struct stress *st, struct outfile *j, double elapsed, u64 totals[RT_EVENT_TYPES],
		      const struct rt_threads_stats *stats, bool stuck, enum stress_expect expect)
{
	struct kvm_event evs[KVMLAB_MAX_ACTORS * RT_RING_SIZE];
	int n;

	fprintf(j->f, "{\n  \"schema\": \"kvmlab.stress/1\",\n  \"command\": \"stress\",\n  \"scenario\": ");
	json_str(j->f, st->scn.name);
	fprintf(j->f, ",\n  \"policy\": \"%s\",\n  \"vendor\": \"%s\",\n  \"bugs\": [",
		kvm_policy_name(st->cfg.policy), kvm_vendor_name(st->cfg.vendor));
	for (int i = 0, first = 1; i < KVM_NR_BUGS; i++)
		if (st->cfg.bugs & BIT_ULL(i)) {
			fprintf(j->f, "%s\"%s\"", first ? "" : ", ", kvm_bug_info(i)->slug);
			first = 0;
		}
	fprintf(j->f, "],\n  \"seed\": %llu,\n  \"seconds\": %.3f,\n  \"deadlock\": %s,\n",
		(unsigned long long)st->seed, elapsed, stuck ? "true" : "false");
	fprintf(j->f, "  \"expectations_checked\": %s,\n", expect_json[expect]);
	fprintf(j->f, "  \"per_second\": {");
	for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
		fprintf(j->f, "%s\n    \"%s\": %.1f", i ? "," : "", rates[i].key, totals[rates[i].type] / elapsed);
	}
	fprintf(j->f, "\n  },\n  \"findings\": {");
	for (int f = 1, first = 1; f < F_NR_FINDINGS; f++)
		if (stats->nr_findings[f]) {
			fprintf(j->f, "%s\"%s\": %llu", first ? "" : ", ", kvm_finding_name(f),
				(unsigned long long)stats->nr_findings[f]);
			first = 0;
		}
	fprintf(j->f, "},\n  \"reports\": [");
	for (int i = 0; i < stats->nr_recorded; i++) {
		const struct rt_threads_finding *r2 = &stats->recorded[i];

		fprintf(j->f, "%s\n    ", i ? "," : "");
		json_finding(j->f, r2->kind, r2->actor, st->scn.nr_vcpus, r2->where, r2->msg);
	}
	fprintf(j->f, "\n  ],\n  \"last_events\": [");
	n = rt_threads_collect_events(evs, ARRAY_SIZE(evs), 16);
	for (int i = 0; i < n; i++) {
		fprintf(j->f, "%s\n    ", i ? "," : "");
		json_event(j->f, &evs[i], st->scn.nr_vcpus, "seq", (long)evs[i].seq);
	}
	fprintf(j->f, "\n  ],\n  \"verdict\": \"%s\"\n}\n",
		stats->nr_recorded || stuck ? "finding" : "no finding");
	return cmd_output_close("stress", "json", j);
}

int cmd_stress(int argc, char **argv)
{
	static const struct option opts[] = {
		KNOB_OPTIONS,				    { "seconds", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' }, { "seed", required_argument, NULL, 'S' },
		{ "delay", required_argument, NULL, 'd' },  { "json", required_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },	    { "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct stress *st = calloc(1, sizeof(*st));
	struct thread_arg args[KVMLAB_MAX_ACTORS];
	struct rt_threads_config rcfg = { 0 };
	struct rt_threads_stats stats;
	enum stress_expect expect;
	struct knob_opts k;
	struct outfile jout = { 0 };
	const char *json = NULL;
	bool quiet = false, stuck = false;
	u64 v, totals[RT_EVENT_TYPES] = { 0 }, last_seq = 0;
	double t0, elapsed, last_progress;
	int c, idx, r = EXIT_OK;

	if (!st)
		return cmd_usage_error("stress", "out of memory");
	knob_opts_init(&k);
	st->seconds = 10;
	st->seed = 1;
	st->delay = 20;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		switch (c) {
		case 0:
			r = knob_opt_parse("stress", &k, opts[idx].name, optarg);
			break;
		case 's':
			r = parse_u64_flag("stress", "seconds", optarg, 1, 86400, &v);
			st->seconds = (double)v;
			break;
		case 'n':
			r = parse_u64_flag("stress", "iterations", optarg, 1, 1ull << 40, &st->max_iterations);
			break;
		case 'S':
			r = parse_u64_flag("stress", "seed", optarg, 0, ~0ull, &st->seed);
			break;
		case 'd':
			r = parse_u64_flag("stress", "delay", optarg, 0, 1000, &v);
			st->delay = (unsigned)v;
			break;
		case 'j':
			json = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			stress_usage(stdout);
			free(st);
			return EXIT_OK;
		default:
			r = cmd_usage_error("stress", "unknown or incomplete option '%s'", argv[optind - 1]);
		}
		if (r)
			goto out_free;
	}
	if (optind < argc) {
		r = cmd_usage_error("stress", "unexpected argument '%s'", argv[optind]);
		goto out_free;
	}
	r = knob_load_scenario("stress", &k, &st->scn);
	if (r)
		goto out_free;
	/* A bad output path is input: nothing runs. */
	if (json && (r = cmd_output_open("stress", "json", json, &jout)))
		goto out_free;
	knob_config(&k, &st->scn, &st->cfg);

	rcfg.seed = st->seed;
	rcfg.delay_permille = st->delay;
	rcfg.max_delay_spins = 2000;
	if (rt_threads_init(&rcfg)) {
		r = cmd_usage_error("stress", "cannot map the model arena");
		goto out_free;
	}
	st->vmm = vmm_create(&st->scn, &st->cfg);
	st->nr_threads = st->scn.nr_vcpus + st->scn.nr_actors;
	event_fmt_vcpus = st->scn.nr_vcpus;

	if (!quiet) {
		printf("kvmlab stress: scenario %s, policy %s, vendor %s, bugs", st->scn.name,
		       kvm_policy_name(st->cfg.policy), kvm_vendor_name(st->cfg.vendor));
		if (!st->cfg.bugs)
			printf(" none");
		for (int i = 0; i < KVM_NR_BUGS; i++)
			if (st->cfg.bugs & BIT_ULL(i))
				printf(" %s", kvm_bug_info(i)->slug);
		printf(", %d vCPU threads + %d actor threads, seed %llu, delay %u/1000\n",
		       st->scn.nr_vcpus, st->scn.nr_actors, (unsigned long long)st->seed, st->delay);
		fflush(stdout);
	}

	t0 = last_progress = now_seconds();
	for (int i = 0; i < st->nr_threads; i++) {
		args[i] = (struct thread_arg){ .st = st, .actor = i };
		pthread_create(&st->tid[i], NULL, i < st->scn.nr_vcpus ? vcpu_thread : actor_thread,
			       &args[i]);
	}
	for (;;) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		int ndone = 0;
		double now;
		u64 seq;

		nanosleep(&ts, NULL);
		now = now_seconds();
		for (int i = 0; i < st->nr_threads; i++)
			ndone += __atomic_load_n(&st->done[i], __ATOMIC_ACQUIRE);
		if (ndone == st->nr_threads)
			break;
		if (!st->max_iterations && now - t0 >= st->seconds)
			rt_threads_request_stop();
		/*
		 * Actors done but vCPUs halted, or stopping: wake them; interrupt
		 * them if nothing else can (stopping, or every other thread done).
		 */
		if (rt_threads_stopping() || ndone >= st->scn.nr_actors) {
			int nhalted = 0;

			for (int i = 0; i < st->scn.nr_vcpus; i++)
				nhalted += halted_vcpu(st, i) != NULL;
			unblock_vcpus(st, rt_threads_stopping() || ndone + nhalted >= st->nr_threads);
		}
		seq = rt_threads_event_seq();
		if (seq != last_seq) {
			last_seq = seq;
			last_progress = now;
		} else if (now - last_progress > 5.0) {
			stuck = true;
			break;
		}
	}
	elapsed = now_seconds() - t0;

	for (int a = 0; a < KVMLAB_MAX_ACTORS; a++) {
		u64 cnt[RT_EVENT_TYPES];

		rt_threads_event_counts(cnt, a);
		for (int t = 0; t < RT_EVENT_TYPES; t++)
			totals[t] += cnt[t];
	}
	rt_threads_get_stats(&stats);
	expect = stress_expect(st, stuck, &stats);

	if (!quiet) {
		printf("ran %.2f s:", elapsed);
		for (int i = 0; i < st->nr_threads; i++)
			printf(" %s%d %llu iterations%s", i < st->scn.nr_vcpus ? "vcpu" : "actor",
			       i < st->scn.nr_vcpus ? i : i - st->scn.nr_vcpus,
			       (unsigned long long)__atomic_load_n(&st->iterations[i], __ATOMIC_RELAXED),
			       i + 1 < st->nr_threads ? "," : "");
		printf("\nthroughput per second:\n");
		for (size_t i = 0; i < ARRAY_SIZE(rates); i++)
			printf("  %-24s %12.0f\n", rates[i].name, totals[rates[i].type] / elapsed);
	}
	if (expect == EXPECT_SKIPPED && !quiet)
		printf("expectations: not checked (with more than one iteration the scripts have no common end state; --iterations 1 checks them)\n");
	if (stuck) {
		printf("FINDING deadlock: no thread made progress for 5 s; last events:\n");
		rt_threads_dump_rings(stdout, 12, event_fmt);
	}
	for (int i = 0; i < stats.nr_recorded; i++) {
		const struct rt_threads_finding *f = &stats.recorded[i];
		char who[16];

		report_actor_name(f->actor, st->scn.nr_vcpus, who, sizeof(who));
		printf("FINDING %s (%s, %s): %s\n", kvm_finding_name(f->kind), who, f->where, f->msg);
		if (i == 0 && !quiet) {
			printf("last events of every thread (global order):\n");
			rt_threads_dump_rings(stdout, 16, event_fmt);
		}
	}
	if (stats.nr_recorded || stuck) {
		printf("verdict: finding (");
		for (int f = 1, first = 1; f < F_NR_FINDINGS; f++)
			if (stats.nr_findings[f]) {
				printf("%s%s x%llu", first ? "" : ", ", kvm_finding_name(f),
				       (unsigned long long)stats.nr_findings[f]);
				first = 0;
			}
		printf("%s)\n", stuck ? (stats.nr_recorded ? ", deadlock" : "deadlock") : "");
		r = EXIT_VIOLATION;
	} else {
		printf("verdict: no finding\n");
	}
	if (jout.f && write_json(st, &jout, elapsed, totals, &stats, stuck, expect))
		r = EXIT_USAGE;
	fflush(stdout);
	if (stuck)
		_exit(r);	/* blocked threads cannot be joined */
	for (int i = 0; i < st->nr_threads; i++)
		pthread_join(st->tid[i], NULL);
	rt_threads_fini();
out_free:
	outfile_abort(&jout);
	free(st);
	return r;
}
