// SPDX-License-Identifier: GPL-2.0
/*
 * `kvmlab oracle`: the model's xAPIC against the kernel's in-kernel LAPIC.
 *
 * Every program (corpus files first, then --programs generated ones) runs
 * twice: in a real KVM guest on /dev/kvm (oracle/realkvm.c) and in a
 * standalone model APIC (model/lapic.c, apic_mmio_read/apic_mmio_write with
 * the same offsets, widths and values).  Compared:
 *   - every value read, masked to the access width (stale reads of invalid
 *     offsets included: the model keeps the emulator's read buffer);
 *   - the final register page: the first dword of every 16-byte slot
 *     0x000..0x3f0 of KVM_GET_LAPIC against the model's apic.regs, except
 *     TMCCT (KVM_GET_LAPIC computes it from the hrtimer at the time of the
 *     ioctl; the model has no timer).
 * Exit: 0 all agree, 1 any mismatch, 2 bad input, 3 a real-side run failed
 * (timeout, unexpected exit) with no mismatch; `skipped: <reason>` and 0
 * where /dev/kvm (or $KVMLAB_KVM_DEV) cannot host the oracle.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "model/lapic.h"
#include "oracle/apicprog.h"
#include "oracle/realkvm.h"

#define ORACLE "oracle"
#define ORACLE_MAX_PROGRAMS 1000000u
#define ORACLE_SLOTS (REALKVM_APIC_REGS / 16)	/* 64 register slots below 0x400 */
#define ROW_BEYOND ORACLE_SLOTS			/* accesses at 0x400..0xfff */
#define ORACLE_ROWS (ORACLE_SLOTS + 1)
#define JSON_MAX_MISMATCHES 1000

enum { TSCD_AUTO, TSCD_ON, TSCD_OFF };

struct oracle_opts {
	u64 seed;
	u32 programs;
	bool verbose;
	int tsc_deadline;	/* TSCD_AUTO/ON/OFF: TSC-deadline in the real guest's CPUID */
	const char *json;
	char **corpus;		/* --corpus arguments */
	int nr_corpus;
};

struct row_stats {
	u32 read_ok, read_bad, final_ok, final_bad;
};

struct mismatch {
	char prog[APIC_PROG_NAME_MAX];
	int access;		/* -1: final register page */
	struct apic_access acc;
	u32 reg;		/* slot offset (final) */
	u32 model, kernel;
};

struct oracle {
	struct oracle_opts o;
	struct realkvm *rk;
	struct apic_prog **progs;	/* parsed corpus programs */
	u32 nr_progs;
	struct apic_prog *gen;		/* scratch for generated programs */
	struct realkvm_result *res;
	struct kvm_lapic *apic;
	u32 *model_reads;		/* the model's value of each read */
	struct row_stats rows[ORACLE_ROWS];
	u32 nr_run, nr_failed, nr_mismatch, nr_bad_programs;
	u64 nr_reads, nr_finals;
	u64 kernel_ns;
	struct mismatch *mm;		/* first JSON_MAX_MISMATCHES, for --json */
	u32 nr_mm;
	struct outfile json;		/* --json, opened before the run */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kvmlab oracle [--seed S] [--programs N] [--corpus DIR|FILE]... [--verbose]\n"
		"                     [--json FILE] [--tsc-deadline auto|on|off]\n"
		"Runs xAPIC register programs in a real KVM guest (in-kernel LAPIC) and in the\n"
		"model's xAPIC, and compares every value read and the final register page.\n"
		"  --seed S          generator seed (default 1)\n"
		"  --programs N      generated programs (default 100)\n"
		"  --corpus PATH     a .apic file, or a directory of them (repeatable)\n"
		"  --verbose         one line per program; list each mismatching program\n"
		"  --json FILE       also write the results as JSON (-: standard output)\n"
		"  --tsc-deadline M  TSC-deadline in the real guest's CPUID: auto (default: as\n"
		"                    the model assumes, probed through its LVTT), on or off\n"
		"Environment: KVMLAB_KVM_DEV (default /dev/kvm).\n"
		"Exit: 0 all agree, 1 mismatch, 2 bad input, 3 a real-side run failed;\n"
		"prints 'skipped: <reason>' and exits 0 where KVM is unusable.\n");
}

/* ------------------------------------------------------------------ */
/* Input                                                               */

static int parse_u64(const char *s, u64 max, u64 *out)
{
	u64 v;

	if (scenario_strtou64(s, false, &v) || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct oracle_opts *o)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "programs", required_argument, NULL, 'n' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", required_argument, NULL, 'j' },
		{ "tsc-deadline", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	u64 v;
	int c;

	o->seed = 1;
	o->programs = 100;
	optind = 0;		/* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:n:c:vj:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_u64(optarg, UINT64_MAX, &o->seed))
				return cmd_usage_error(ORACLE, "--seed '%s': expected a decimal unsigned 64-bit number",
						       optarg);
			break;
		case 'n':
			if (parse_u64(optarg, ORACLE_MAX_PROGRAMS, &v))
				return cmd_usage_error(ORACLE, "--programs '%s': expected 0..%u", optarg,
						       ORACLE_MAX_PROGRAMS);
			o->programs = (u32)v;
			break;
		case 'c':
			o->corpus[o->nr_corpus++] = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "auto"))
				o->tsc_deadline = TSCD_AUTO;
			else if (!strcmp(optarg, "on"))
				o->tsc_deadline = TSCD_ON;
			else if (!strcmp(optarg, "off"))
				o->tsc_deadline = TSCD_OFF;
			else
				return cmd_usage_error(ORACLE, "--tsc-deadline '%s': expected auto, on or off",
						       optarg);
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			return cmd_usage_error(ORACLE, "%s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return cmd_usage_error(ORACLE, "unknown option '-%c' (see --help)", optopt);
			return cmd_usage_error(ORACLE, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(ORACLE, "unexpected argument '%s' (see --help)", argv[optind]);
	return 0;
}

static int has_apic_suffix(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && !strcmp(d->d_name + n - 5, ".apic") && d->d_name[0] != '.';
}

static int load_one(struct oracle *or, const char *path)
{
	struct apicprog_error err;
	struct apic_prog *p, **np;
	int r;

	p = malloc(sizeof(*p));
	np = realloc(or->progs, (or->nr_progs + 1) * sizeof(*np));
	if (!p || !np) {
		free(p);
		if (np)
			or->progs = np;
		return cmd_usage_error(ORACLE, "out of memory loading %s", path);
	}
	or->progs = np;
	r = apicprog_parse_file(path, p, &err);
	if (r) {
		free(p);
		if (r == -EINVAL && err.line)
			return cmd_usage_error(ORACLE, "%s:%u:%u: %s", path, err.line, err.col, err.msg);
		return cmd_usage_error(ORACLE, "--corpus %s: %s", path, err.msg);
	}
	or->progs[or->nr_progs++] = p;
	return 0;
}

/* Load a --corpus argument: one file, or every *.apic of a directory (sorted). */
static int load_corpus(struct oracle *or, const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n, r = 0;

	if (stat(path, &st))
		return cmd_usage_error(ORACLE, "--corpus %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return load_one(or, path);

	n = scandir(path, &ents, has_apic_suffix, alphasort);
	if (n < 0)
		return cmd_usage_error(ORACLE, "--corpus %s: %s", path, strerror(errno));
	if (n == 0)
		r = cmd_usage_error(ORACLE, "--corpus %s: no *.apic files", path);
	for (int i = 0; i < n; i++) {
		if (!r) {
			size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
			char *full = malloc(len);

			if (!full) {
				r = cmd_usage_error(ORACLE, "out of memory");
			} else {
				snprintf(full, len, "%s/%s", path, ents[i]->d_name);
				r = load_one(or, full);
				free(full);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

/* ------------------------------------------------------------------ */
/* The model side                                                      */

/*
 * Apply the program's ISR/IRR preset the way KVM_SET_LAPIC leaves the kernel's
 * APIC by the time the guest runs: kvm_apic_set_state() copies the page, and
 * kvm_apic_update_apicv() recounts isr_count, drops highest_isr_cache and
 * recomputes irr_pending; the KVM_REQ_EVENT it raises makes the next entry
 * call kvm_apic_has_interrupt(), whose __apic_update_ppr() rewrites PPR.  The
 * model exports no set_state, so this writes the same fields directly and
 * recomputes PPR through a PPR read (apic_update_ppr in __apic_read).
 */
static void model_preset(struct kvm_lapic *apic, const struct apic_prog *p)
{
	int isr_count = 0;
	bool irr = false;
	u32 ppr;

	for (int i = 0; i < 8; i++) {
		u32 isr_v = kvm_lapic_get_reg(apic, APIC_ISR + 0x10 * i) | p->isr[i];
		u32 irr_v = kvm_lapic_get_reg(apic, APIC_IRR + 0x10 * i) | p->irr[i];

		kvm_lapic_set_reg(apic, APIC_ISR + 0x10 * i, isr_v);
		kvm_lapic_set_reg(apic, APIC_IRR + 0x10 * i, irr_v);
		isr_count += __builtin_popcount(isr_v);
		irr |= irr_v != 0;
	}
	apic->isr_count = (s16)isr_count;
	apic->highest_isr_cache = -1;
	apic->irr_pending = irr;
	kvm_lapic_reg_read(apic, APIC_PROCPRI, 4, &ppr);
}

/*
 * Does the model take the guest CPUID to have TSC-deadline?  The kernel's LVTT
 * timer-mode mask is 3 << 17 with it and 1 << 17 without (the mask
 * kvm_vcpu_after_set_cpuid() picks), so an LVTT write selecting TSC-deadline
 * mode keeps bit 18 exactly when the model assumes it.  The real guest is
 * then given the same CPUID: it is VM configuration, not LAPIC behaviour.
 */
static bool model_has_tsc_deadline(struct kvm_lapic *apic)
{
	u32 v = 0;

	kvm_lapic_init_standalone(apic, 0, true);
	apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_SPIV, 4, APIC_SPIV_APIC_ENABLED | 0xff);
	apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_LVTT, 4, APIC_LVT_MASKED | (2u << 17));
	apic_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + APIC_LVTT, 4, &v);
	return v & (2u << 17);
}

/* Run @p on a fresh standalone model APIC; reads[] gets each value read. */
static void model_run(struct kvm_lapic *apic, const struct apic_prog *p, u32 *reads)
{
	u32 nr = 0;

	kvm_lapic_init_standalone(apic, 0, true);
	if (apicprog_has_preset(p))
		model_preset(apic, p);
	for (u32 i = 0; i < p->n; i++) {
		const struct apic_access *a = &p->acc[i];
		u32 v = 0;

		if (a->op == APIC_ACC_READ) {
			apic_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + a->offset, a->width, &v);
			reads[nr++] = v;
		} else {
			apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + a->offset, a->width, a->value);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Comparison                                                          */

static u32 row_of(u32 offset)
{
	return offset >= REALKVM_APIC_REGS ? ROW_BEYOND : offset >> 4;
}

static const char *row_name(u32 row, char *buf, size_t len)
{
	const char *n;

	if (row == ROW_BEYOND)
		return "0x400-0xfff";
	n = lapic_reg_name(row << 4);
	if (n)
		return n;
	snprintf(buf, len, "rsvd 0x%03x", row << 4);
	return buf;
}

static u32 width_mask(u8 width)
{
	return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
}

static void record_mismatch(struct oracle *or, const struct apic_prog *p, int access,
			    const struct apic_access *a, u32 reg, u32 model, u32 kernel)
{
	struct mismatch *m;

	or->nr_mismatch++;
	if (!or->mm || or->nr_mm >= JSON_MAX_MISMATCHES)
		return;
	m = &or->mm[or->nr_mm++];
	snprintf(m->prog, sizeof(m->prog), "%s", p->name);
	m->access = access;
	if (a)
		m->acc = *a;
	m->reg = reg;
	m->model = model;
	m->kernel = kernel;
}

static void print_where(const struct apic_prog *p, const struct apic_access *a, u32 idx)
{
	if (p->generated)
		printf("%s, access %u", p->name, idx);
	else
		printf("%s:%u, access %u", p->name, a->line, idx);
}

/* Compare one program's reads and final page; returns the number of mismatches. */
static u32 compare(struct oracle *or, const struct apic_prog *p, const u32 *model_reads)
{
	const struct realkvm_result *res = or->res;
	u32 bad = 0, ri = 0;
	char buf[64], nb[24];

	for (u32 i = 0; i < p->n; i++) {
		const struct apic_access *a = &p->acc[i];
		struct row_stats *rs = &or->rows[row_of(a->offset)];
		u32 m, k;

		if (a->op != APIC_ACC_READ)
			continue;
		m = model_reads[ri] & width_mask(a->width);
		k = res->reads[ri] & width_mask(a->width);
		ri++;
		or->nr_reads++;
		if (m == k) {
			rs->read_ok++;
			continue;
		}
		rs->read_bad++;
		bad++;
		record_mismatch(or, p, (int)i, a, a->offset & 0xff0, m, k);
		printf("MISMATCH ");
		print_where(p, a, i);
		printf(" `%s` (%s): model 0x%0*x kernel 0x%0*x\n",
		       apicprog_format_access(a, buf, sizeof(buf)),
		       row_name(row_of(a->offset), nb, sizeof(nb)), 2 * a->width, m, 2 * a->width, k);
	}

	for (u32 reg = 0; reg < REALKVM_APIC_REGS; reg += 16) {
		struct row_stats *rs = &or->rows[row_of(reg)];
		u32 m, k;

		if (reg == APIC_TMCCT)
			continue;	/* timer-dependent; not modelled */
		m = kvm_lapic_get_reg(or->apic, (int)reg);
		memcpy(&k, res->regs + reg, 4);
		or->nr_finals++;
		if (m == k) {
			rs->final_ok++;
			continue;
		}
		rs->final_bad++;
		bad++;
		record_mismatch(or, p, -1, NULL, reg, m, k);
		printf("MISMATCH %s, final %s [0x%03x]: model 0x%08x kernel 0x%08x\n", p->name,
		       row_name(row_of(reg), nb, sizeof(nb)), reg, m, k);
	}
	return bad;
}

static void print_program(const struct apic_prog *p)
{
	char buf[64];

	printf("# %s\n", p->name);
	for (int v = 0; v < 256; v++) {
		if (p->isr[v / 32] & (1u << (v % 32)))
			printf("isr 0x%02x\n", v);
		if (p->irr[v / 32] & (1u << (v % 32)))
			printf("irr 0x%02x\n", v);
	}
	for (u32 i = 0; i < p->n; i++)
		printf("%s\n", apicprog_format_access(&p->acc[i], buf, sizeof(buf)));
}

/* Run one program on both sides and compare. */
static void run_one(struct oracle *or, const struct apic_prog *p)
{
	u32 bad;
	int r;

	or->nr_run++;
	r = realkvm_run(or->rk, p, or->res);
	if (r) {
		or->nr_failed++;
		printf("FAILED %s: real KVM: %s\n", p->name, realkvm_last_error(or->rk));
		return;
	}
	or->kernel_ns += or->res->run_ns;
	model_run(or->apic, p, or->model_reads);
	bad = compare(or, p, or->model_reads);
	if (bad)
		or->nr_bad_programs++;
	if (or->o.verbose) {
		printf("%s %s: %u accesses, %u reads, %u mismatches, kernel %.2f ms\n",
		       bad ? "BAD" : "ok", p->name, p->n, or->res->nr_reads, bad,
		       or->res->run_ns / 1e6);
		if (bad)
			print_program(p);
	}
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */

static void print_table(const struct oracle *or)
{
	char nb[24];

	printf("\n%-12s %9s %9s %9s %9s\n", "register", "read-ok", "read-bad", "final-ok", "final-bad");
	for (u32 row = 0; row < ORACLE_ROWS; row++) {
		const struct row_stats *rs = &or->rows[row];

		if (!rs->read_ok && !rs->read_bad && !rs->final_ok && !rs->final_bad &&
		    row != (APIC_TMCCT >> 4))
			continue;
		printf("%-12s %9u %9u %9u %9u%s\n", row_name(row, nb, sizeof(nb)), rs->read_ok,
		       rs->read_bad, rs->final_ok, rs->final_bad,
		       row == (APIC_TMCCT >> 4) ? "   (final value not compared: timer)" : "");
	}
}

static int write_json(struct oracle *or, double wall)
{
	FILE *f = or->json.f;
	char nb[24], buf[64];
	int r = 0;

	fprintf(f, "{\n  \"seed\": %llu,\n  \"programs_generated\": %u,\n  \"corpus_programs\": %u,\n",
		(unsigned long long)or->o.seed, or->o.programs, or->nr_progs);
	fprintf(f, "  \"programs_run\": %u,\n  \"programs_failed\": %u,\n", or->nr_run,
		or->nr_failed);
	fprintf(f, "  \"programs_mismatching\": %u,\n", or->nr_bad_programs);
	fprintf(f, "  \"reads_compared\": %llu,\n  \"final_registers_compared\": %llu,\n",
		(unsigned long long)or->nr_reads, (unsigned long long)or->nr_finals);
	fprintf(f, "  \"mismatches\": %u,\n  \"wall_seconds\": %.3f,\n  \"registers\": [\n",
		or->nr_mismatch, wall);
	for (u32 row = 0, first = 1; row < ORACLE_ROWS; row++) {
		const struct row_stats *rs = &or->rows[row];

		if (!rs->read_ok && !rs->read_bad && !rs->final_ok && !rs->final_bad)
			continue;
		fprintf(f, "%s    {\"name\": ", first ? "" : ",\n");
		json_str(f, row_name(row, nb, sizeof(nb)));
		fprintf(f, ", \"read_ok\": %u, \"read_bad\": %u, \"final_ok\": %u, \"final_bad\": %u}",
			rs->read_ok, rs->read_bad, rs->final_ok, rs->final_bad);
		first = 0;
	}
	fprintf(f, "\n  ],\n  \"mismatch_list\": [\n");
	for (u32 i = 0; i < or->nr_mm; i++) {
		const struct mismatch *m = &or->mm[i];

		fprintf(f, "    {\"program\": ");
		json_str(f, m->prog);
		if (m->access >= 0) {
			fprintf(f, ", \"access\": %d, \"op\": ", m->access);
			json_str(f, apicprog_format_access(&m->acc, buf, sizeof(buf)));
		} else {
			fprintf(f, ", \"final\": ");
			json_str(f, row_name(row_of(m->reg), nb, sizeof(nb)));
		}
		fprintf(f, ", \"model\": %u, \"kernel\": %u}%s\n", m->model, m->kernel,
			i + 1 < or->nr_mm ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	r = cmd_output_close(ORACLE, "json", &or->json);
	return r;
}

static void oracle_free(struct oracle *or)
{
	for (u32 i = 0; i < or->nr_progs; i++)
		free(or->progs[i]);
	free(or->progs);
	free(or->gen);
	free(or->res);
	free(or->apic);
	free(or->mm);
	free(or->model_reads);
	free(or->o.corpus);
	outfile_abort(&or->json);
	realkvm_close(or->rk);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_oracle(int argc, char **argv)
{
	struct oracle or = { 0 };
	const char *dev = getenv("KVMLAB_KVM_DEV");
	char reason[256];
	double t0 = now_s(), wall;
	bool tscd;
	int r, ret;

	or.o.corpus = calloc(argc > 0 ? argc : 1, sizeof(*or.o.corpus));
	if (!or.o.corpus)
		return cmd_usage_error(ORACLE, "out of memory");
	r = parse_opts(argc, argv, &or.o);
	if (r) {
		ret = r < 0 ? EXIT_OK : r;	/* --help */
		goto out;
	}
	for (int i = 0; i < or.o.nr_corpus; i++) {
		ret = load_corpus(&or, or.o.corpus[i]);
		if (ret)
			goto out;
	}
	or.gen = malloc(sizeof(*or.gen));
	or.res = malloc(sizeof(*or.res));
	or.apic = calloc(1, sizeof(*or.apic));
	or.mm = calloc(JSON_MAX_MISMATCHES, sizeof(*or.mm));
	or.model_reads = calloc(APIC_PROG_MAX_ACCESSES, sizeof(*or.model_reads));
	if (!or.gen || !or.res || !or.apic || !or.mm || !or.model_reads) {
		ret = cmd_usage_error(ORACLE, "out of memory");
		goto out;
	}
	if (or.o.json) {
		/* Opened now, so a bad path is bad input, not a late failure. */
		ret = cmd_output_open(ORACLE, "json", or.o.json, &or.json);
		if (ret)
			goto out;
	}

	if (!dev || !*dev)
		dev = REALKVM_DEFAULT_DEV;
	r = realkvm_open(dev, &or.rk, reason, sizeof(reason));
	if (r == -REALKVM_EUNAVAIL) {
		printf("skipped: %s\n", reason);
		ret = EXIT_OK;
		goto out;
	}
	if (r) {
		fprintf(stderr, "kvmlab oracle: %s: %s\n", dev, strerror(-r));
		ret = EXIT_INCOMPLETE;
		goto out;
	}

	if (or.o.tsc_deadline == TSCD_AUTO)
		tscd = model_has_tsc_deadline(or.apic);
	else
		tscd = or.o.tsc_deadline == TSCD_ON;
	realkvm_set_tsc_deadline(or.rk, tscd);
	if (tscd && !realkvm_has_tsc_deadline(or.rk))
		printf("note: the host's KVM_GET_SUPPORTED_CPUID has no TSC-deadline\n");

	for (u32 i = 0; i < or.nr_progs; i++)
		run_one(&or, or.progs[i]);
	for (u32 i = 0; i < or.o.programs; i++) {
		apicprog_generate(or.gen, or.o.seed, i);
		run_one(&or, or.gen);
	}
	wall = now_s() - t0;

	print_table(&or);
	printf("\n%u programs (%u corpus, %u generated, seed %llu, guest TSC-deadline %s): %llu "
	       "reads and %llu final registers compared, %u mismatches in %u programs, "
	       "%u failed runs; wall %.2f s (kernel side %.2f s)\n",
	       or.nr_run, or.nr_progs, or.o.programs, (unsigned long long)or.o.seed,
	       tscd ? "on" : "off",
	       (unsigned long long)or.nr_reads, (unsigned long long)or.nr_finals, or.nr_mismatch,
	       or.nr_bad_programs, or.nr_failed, wall, or.kernel_ns / 1e9);

	ret = or.nr_mismatch ? EXIT_VIOLATION : or.nr_failed ? EXIT_INCOMPLETE : EXIT_OK;
	if (or.json.f) {
		r = write_json(&or, wall);
		if (r && ret == EXIT_OK)
			ret = EXIT_INCOMPLETE;
	}
out:
	oracle_free(&or);
	return ret;
}
