// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario parser, built-ins and printer (guest/scenario.c).
 *
 * What is pinned here: the struct every construct of the format produces
 * (docs/scenario-format.md), the exact "FILE:LINE:COL: message" of every
 * class of error, that the parser survives hostile input (binary garbage,
 * overlong lines, numbers past u64, directories, missing files, random
 * mutations of valid text) and leaves *s untouched on error, and that
 * scenario_print() round-trips: every built-in, every example file and the
 * committed tests/scenarios/<builtin>.scn files, which must be exactly what
 * scenario_print() writes.  After changing a built-in, regenerate them with
 *	SCN_REGEN=1 build/release/tests/test_scenario
 *
 * Runs from the repository root (data files are tests/scenarios/...).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest/scenario.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "tests/scn_equal.h"
#include "tests/tap.h"

#define SCN_DIR "tests/scenarios"
#define BAD_DIR SCN_DIR "/bad"

/* ---- helpers -------------------------------------------------------------------- */

/* scenario_print() into a malloc'ed string. */
static char *print_str(const struct scenario *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	scenario_print(f, s);
	fclose(f);
	return buf;
}

/* A whole file into a malloc'ed string (NULL if unreadable). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* Write 'head', 'n' copies of 'fill', then 'tail' to 'path'. */
static bool write_file(const char *path, const char *head, char fill, int n, const char *tail)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(head, f);
	for (int i = 0; i < n; i++)
		fputc(fill, f);
	fputs(tail, f);
	return fclose(f) == 0;
}

/* print -> parse -> compare; 'why' gets the reason on failure. */
static bool round_trip(const struct scenario *s, char *why, size_t n)
{
	char err[256];
	struct scenario back;
	char *text = print_str(s);
	int ret;

	if (!text) {
		snprintf(why, n, "open_memstream failed");
		return false;
	}
	ret = scenario_parse_string("print.scn", text, &back, err, sizeof(err));
	free(text);
	if (ret) {
		snprintf(why, n, "reparse: %.200s", err);
		return false;
	}
	return scn_equal(s, &back, why, n);
}

static int parse(const char *text, struct scenario *s, char *err, size_t errlen)
{
	return scenario_parse_string("t.scn", text, s, err, errlen);
}

/* ---- built-ins ------------------------------------------------------------------- */

static const char *const builtin_names[] = {
	"seed", "zap-yield", "zap-tlb", "apic-disable", "apic-id", "apic-id-restore", "apic-relocate", "x2apic", "x2apic-hybrid", "cr8-intercept", "tpr-threshold", "tpr-sync", "create-race", "create-toggle", "reenable", "ipi", "ipi-hlt", "pi-hlt",
	"preempt-toggle", "halt-ipi", "preempt-hlt", "migrate-hlt", "isr-cache", "svi", "avic-broadcast", "irq-window", "mixed",
};
#define NR_BUILTINS ((int)ARRAY_SIZE(builtin_names))

static void test_builtin_table(void)
{
	bool ok = true;
	int n = 0;

	while (scenario_builtin_at(n))
		n++;
	tap_ok(n == NR_BUILTINS, "builtin: %d built-ins (have %d)", NR_BUILTINS, n);
	for (int i = 0; i < NR_BUILTINS && i < n; i++) {
		const struct scenario *s = scenario_builtin_at(i);

		ok &= !strcmp(s->name, builtin_names[i]);
		ok &= scenario_builtin(builtin_names[i]) == s;
		ok &= s->description && *s->description && !strchr(s->description, '\n');
	}
	ok &= !scenario_builtin("nope") && !scenario_builtin(NULL) && !scenario_builtin("");
	ok &= !scenario_builtin_at(-1) && !scenario_builtin_at(n);
	tap_ok(ok, "builtin: names in order, lookup by name, one-line descriptions, NULL past the end");

	ok = true;
	for (int b = 0; b < KVM_NR_BUGS; b++)
		if (!scenario_builtin(kvm_bug_info(b)->scenario)) {
			tap_diag("bug %s names unknown scenario '%s'", kvm_bug_info(b)->slug,
				 kvm_bug_info(b)->scenario);
			ok = false;
		}
	tap_ok(ok, "builtin: every bug's exposing scenario (model/names.c) is a built-in");
}

static void test_builtin_contents(void)
{
	const struct scenario *s;
	struct scenario seed;
	char why[256];

	s = scenario_builtin("seed");
	scenario_seed(&seed, 2, 3, 2);
	why[0] = '\0';
	tap_ok(scn_equal(s, &seed, why, sizeof(why)) && seed.description == s->description,
	       "builtin: seed == scenario_seed(s, 2, 3, 2) %s", why);

	s = scenario_builtin("seed");
	tap_ok(s->nr_vcpus == 2 && s->vcpu[1].nr_ops == 2 &&
	       s->vcpu[1].ops[0].kind == GOP_APIC_WRITE && s->vcpu[1].ops[0].off == APIC_TASKPRI &&
	       s->vcpu[1].ops[0].val == 0x20 && s->vcpu[1].ops[1].kind == GOP_APIC_READ &&
	       s->actor[0].nr_ops == 3 && s->actor[0].ops[2].kind == AOP_INHIBIT_SET &&
	       s->actor[0].ops[1].kind == AOP_INHIBIT_CLEAR &&
	       s->actor[0].ops[0].reason == APICV_INHIBIT_REASON_HYPERV,
	       "builtin: seed is TPR write/read on 2 vCPUs against hyperv set, clear, set");

	s = scenario_builtin("zap-yield");
	tap_ok(s->zap_yield && s->ram_pages == 4 && s->nr_actors == 1 &&
	       s->actor[0].nr_ops == 1 && s->actor[0].ops[0].kind == AOP_ZAP &&
	       s->actor[0].ops[0].gfn_start == 0 && s->actor[0].ops[0].gfn_end == 4 &&
	       s->nr_vcpus == 1 && s->vcpu[0].ops[0].kind == GOP_MEM_WRITE &&
	       s->vcpu[0].ops[0].gpa == 0x3000 && s->vcpu[0].ops[1].gpa == 0x0,
	       "builtin: zap-yield maps gfn 3, then faults on gfn 0, while all 4 RAM pages are zapped with zap-yield on");

	s = scenario_builtin("create-race");
	tap_ok(s->nr_vcpus == 2 && s->nr_initial_vcpus == 1 && s->nr_actors == 2 &&
	       s->actor[0].ops[0].kind == AOP_CREATE_VCPU && s->actor[0].ops[0].vcpu == 1 &&
	       s->actor[1].ops[0].kind == AOP_INHIBIT_SET,
	       "builtin: create-race creates vCPU 1 against an inhibit-set");

	s = scenario_builtin("ipi");
	tap_ok(s->vcpu[0].nr_ops == 3 && s->vcpu[0].ops[0].off == APIC_ICR2 &&
	       s->vcpu[0].ops[0].val == 1u << 24 && s->vcpu[0].ops[1].off == APIC_ICR &&
	       s->vcpu[0].ops[1].val == 0x40 && s->vcpu[1].ops[1].off == APIC_EOI &&
	       s->vcpu[1].ops[1].kind == GOP_APIC_WRITE && s->vcpu[1].ops[1].val == 0,
	       "builtin: ipi is ICR2 = 1 << 24, ICR = 0x40, and an EOI write");

	s = scenario_builtin("mixed");
	bool small = s->nr_vcpus == 3 && s->nr_actors == 2;

	for (int v = 0; v < s->nr_vcpus; v++)
		small &= s->vcpu[v].nr_ops >= 1 && s->vcpu[v].nr_ops <= 4;
	tap_ok(small && s->actor[1].ops[0].kind == AOP_ZAP && s->actor[1].ops[0].gfn_end == 2,
	       "builtin: mixed has 3 vCPUs of <= 4 ops, 2 actors, zap [0, 2)");
}

static void test_builtin_round_trip(void)
{
	char why[256] = "";

	for (int i = 0; i < NR_BUILTINS; i++) {
		const struct scenario *s = scenario_builtin(builtin_names[i]);

		tap_ok(s && round_trip(s, why, sizeof(why)), "round-trip: built-in %s%s%s",
		       builtin_names[i], *why ? ": " : "", why);
		why[0] = '\0';
	}
}

/* tests/scenarios/<builtin>.scn is exactly scenario_print(<builtin>) and parses back to it. */
static void test_builtin_files(void)
{
	for (int i = 0; i < NR_BUILTINS; i++) {
		const struct scenario *s = scenario_builtin(builtin_names[i]);
		char path[256], err[256] = "", why[256] = "";
		char *want = s ? print_str(s) : NULL, *have;
		struct scenario f;
		int ret;

		snprintf(path, sizeof(path), SCN_DIR "/%s.scn", builtin_names[i]);
		if (getenv("SCN_REGEN") && want) {
			FILE *out = fopen(path, "w");

			if (out) {
				fputs(want, out);
				fclose(out);
			}
		}
		have = slurp(path);
		tap_ok(want && have && !strcmp(want, have),
		       "file: %s is scenario_print(builtin %s)", path, builtin_names[i]);
		ret = scenario_parse_file(path, &f, err, sizeof(err));
		tap_ok(!ret && s && scn_equal(s, &f, why, sizeof(why)) && !f.description,
		       "file: %s parses to the built-in %s%s", path, err, why);
		free(want);
		free(have);
	}
}

static void test_seed_builder(void)
{
	struct scenario s;
	char why[256] = "";
	bool ok;

	scenario_seed(&s, 3, 4, 5);
	ok = !strcmp(s.name, "seed") && s.nr_vcpus == 3 && s.nr_initial_vcpus == 3 &&
	     s.vendor == -1 && s.policy == -1 && !s.bugs && s.ram_pages == 4 && !s.zap_yield &&
	     s.nr_actors == 1 && s.actor[0].nr_ops == 4;
	for (int k = 0; k < 4; k++)
		ok &= s.actor[0].ops[k].kind == (k % 2 ? AOP_INHIBIT_CLEAR : AOP_INHIBIT_SET) &&
		      s.actor[0].ops[k].reason == APICV_INHIBIT_REASON_HYPERV;
	for (int v = 0; v < 3; v++) {
		ok &= s.vcpu[v].nr_ops == 5;
		for (int a = 0; a < 5; a++) {
			const struct guest_op *op = &s.vcpu[v].ops[a];

			ok &= op->off == APIC_TASKPRI && op->len == 4 &&
			      op->kind == (a % 2 ? GOP_APIC_READ : GOP_APIC_WRITE) &&
			      op->val == (a % 2 ? 0u : 0x10u * (v + 1) + a / 2);
		}
	}
	ok &= s.vcpu[2].ops[4].val == 0x32;
	tap_ok(ok, "seed(3, 4, 5): 3 vCPUs of W 0x10*(i+1)+k / R TPR, hyperv set, clear, set, clear");

	scenario_seed(&s, 0, -1, 1000);
	tap_ok(s.nr_vcpus == 1 && s.actor[0].nr_ops == 0 && s.vcpu[0].nr_ops == SCN_MAX_OPS &&
	       s.nr_actors == 1, "seed(0, -1, 1000): clamped to 1 vCPU, 0 toggles, %d accesses",
	       SCN_MAX_OPS);

	scenario_seed(&s, SCN_MAX_VCPUS, SCN_MAX_OPS, SCN_MAX_OPS);
	tap_ok(round_trip(&s, why, sizeof(why)), "seed(%d, %d, %d) round-trips %s", SCN_MAX_VCPUS,
	       SCN_MAX_OPS, SCN_MAX_OPS, why);
}

/* ---- parsing valid text ---------------------------------------------------------------- */

static const char full_text[] =
	"# every construct\n"
	"name full-1\n"
	"vcpus 3\n"
	"initial-vcpus 2\n"
	"vendor VMX\n"
	"policy vcpu\n"
	"bug zap-no-invalidate\n"
	"bug create-no-request\n"
	"ram-pages 0x10\n"
	"zap-yield yes\n"
	"vcpu 1:\n"
	"  apic-read TPR\n"
	"  apic-read 0x81 len 1\n"
	"  apic-write spiv 0x1ff len 2\n"
	"  apic-write 0x300 0X40041\n"
	"  eoi\n"
	"  ipi 255 0xff\n"
	"  self-ipi 16\n"
	"  mem-read 0xfffc\n"
	"  mem-write 4 4294967295\n"
	"  hlt\n"
	"actor 2 :\n"
	"  toggle nested 3\n"
	"  inhibit-clear absent\n"
	"  zap 0 0x10000000000\n"
	"  zap-apic\n"
	"  create-vcpu 2\n"
	"vcpu 0\n";

static void test_parse_full(void)
{
	char err[256] = "";
	struct scenario s;
	const struct guest_op *g;
	const struct actor_op *a;
	int ret;

	ret = parse(full_text, &s, err, sizeof(err));
	tap_ok(!ret && !err[0], "parse: every construct: ret %d %s", ret, err);
	if (ret)
		memset(&s, 0, sizeof(s));
	tap_ok(!strcmp(s.name, "full-1") && s.nr_vcpus == 3 && s.nr_initial_vcpus == 2 &&
	       s.vendor == KVM_VENDOR_VMX && s.policy == KVM_POLICY_VCPU &&
	       s.bugs == (BIT_ULL(KVM_BUG_ZAP_NO_INVALIDATE) |
			  BIT_ULL(KVM_BUG_CREATE_NO_REQUEST)) &&
	       s.ram_pages == 16 && s.zap_yield && !s.description,
	       "parse: header fields");
	tap_ok(s.vcpu[0].nr_ops == 0 && s.vcpu[2].nr_ops == 0 && s.vcpu[1].nr_ops == 11,
	       "parse: vcpu 1 has 11 ops (ipi is 2), empty vcpu 0 and vcpu 2");
	g = s.vcpu[1].ops;
	tap_ok(g[0].kind == GOP_APIC_READ && g[0].off == APIC_TASKPRI && g[0].len == 4 &&
	       g[1].kind == GOP_APIC_READ && g[1].off == 0x81 && g[1].len == 1 &&
	       g[2].kind == GOP_APIC_WRITE && g[2].off == APIC_SPIV && g[2].len == 2 &&
	       g[2].val == 0x1ff && g[3].kind == GOP_APIC_WRITE && g[3].off == APIC_ICR &&
	       g[3].val == 0x40041 && g[3].len == 4,
	       "parse: apic-read/apic-write by name, offset, case-insensitive, with len");
	tap_ok(g[4].kind == GOP_APIC_WRITE && g[4].off == APIC_EOI && g[4].val == 0 &&
	       g[4].len == 4 &&
	       g[5].off == APIC_ICR2 && g[5].val == 0xff000000u && g[6].off == APIC_ICR &&
	       g[6].val == 0xff && g[7].off == APIC_ICR && g[7].val == (16 | APIC_DEST_SELF),
	       "parse: eoi, ipi (ICR2 then ICR), self-ipi expand to APIC writes");
	tap_ok(g[8].kind == GOP_MEM_READ && g[8].gpa == 0xfffc && g[8].len == 4 && g[8].val == 0 &&
	       g[9].kind == GOP_MEM_WRITE && g[9].gpa == 4 && g[9].val == 0xffffffffu &&
	       g[10].kind == GOP_HLT && g[10].len == 0 && g[10].off == 0 && g[10].gpa == 0,
	       "parse: mem-read, mem-write, hlt");
	a = s.actor[2].ops;
	tap_ok(s.nr_actors == 3 && s.actor[0].nr_ops == 0 && s.actor[1].nr_ops == 0 &&
	       s.actor[2].nr_ops == 7 && a[0].kind == AOP_INHIBIT_SET &&
	       a[1].kind == AOP_INHIBIT_CLEAR && a[2].kind == AOP_INHIBIT_SET &&
	       a[0].reason == APICV_INHIBIT_REASON_NESTED && a[2].reason == a[0].reason &&
	       a[3].kind == AOP_INHIBIT_CLEAR && a[3].reason == APICV_INHIBIT_REASON_ABSENT,
	       "parse: actor 2 only -> nr_actors 3; toggle 3 = set, clear, set");
	tap_ok(a[4].kind == AOP_ZAP && a[4].gfn_start == 0 && a[4].gfn_end == 1ull << 40 &&
	       a[5].kind == AOP_ZAP && a[5].gfn_start == 0xfee00 && a[5].gfn_end == 0xfee01 &&
	       a[6].kind == AOP_CREATE_VCPU && a[6].vcpu == 2 && a[6].reason == 0,
	       "parse: zap, zap-apic, create-vcpu");

	char why[256] = "";

	tap_ok(!ret && round_trip(&s, why, sizeof(why)), "round-trip: every construct %s", why);
}

static void test_parse_defaults(void)
{
	char err[256] = "";
	struct scenario s;
	int ret;

	ret = scenario_parse_string("dir/sub/my.test.scn", "vcpus 1\n", &s, err, sizeof(err));
	tap_ok(!ret && !strcmp(s.name, "my.test") && s.nr_vcpus == 1 && s.nr_initial_vcpus == 1 &&
	       s.vendor == -1 && s.policy == -1 && s.bugs == 0 && s.ram_pages == 4 &&
	       !s.zap_yield && s.nr_actors == 0 && s.vcpu[0].nr_ops == 0 && !s.description,
	       "parse: defaults (name from the file, vendor/policy -1, ram-pages 4) %s", err);

	ret = scenario_parse_string("odd name!.txt", "vcpus 1", &s, err, sizeof(err));
	tap_ok(!ret && !strcmp(s.name, "odd_name_.txt"), "parse: default name made valid: '%s'",
	       s.name);

	ret = scenario_parse_string(".scn", "vcpus 1", &s, err, sizeof(err));
	tap_ok(!ret && !strcmp(s.name, "scenario"), "parse: empty default name becomes 'scenario'");

	char longname[200];

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ret = scenario_parse_string(longname, "vcpus 1", &s, err, sizeof(err));
	tap_ok(!ret && strlen(s.name) == SCN_NAME_MAX - 1, "parse: long default name truncated");
}

static void test_parse_lexical(void)
{
	char err[256] = "";
	struct scenario s;
	int ret;

	/* CRLF, tabs, comments glued to tokens, no final newline, UTF-8 in comments. */
	ret = parse("\t# caf\xc3\xa9\r\nvcpus 2#two\r\n\r\nvcpu 1 :  \t# x\r\n\tmem-read 0X1C\t\r\n"
		    "vcpu 0:\r\nhlt", &s, err, sizeof(err));
	tap_ok(!ret && s.nr_vcpus == 2 && s.vcpu[1].nr_ops == 1 && s.vcpu[1].ops[0].gpa == 0x1c &&
	       s.vcpu[0].nr_ops == 1 && s.vcpu[0].ops[0].kind == GOP_HLT,
	       "parse: CRLF, tabs, trailing comments, 'vcpu I :' and 'vcpu I:', no final newline %s",
	       err);

	ret = parse("vcpus 1\nvcpu 0\n\twait-mem 0x10 7\n", &s, err, sizeof(err));
	tap_ok(!ret && s.vcpu[0].nr_ops == 1 && s.vcpu[0].ops[0].kind == GOP_WAIT_MEM &&
	       s.vcpu[0].ops[0].gpa == 0x10 && s.vcpu[0].ops[0].val == 7 && s.vcpu[0].ops[0].len == 4,
	       "parse: wait-mem %s", err);

	ret = parse("vcpus 1\nvcpu 0\n\tapic-base disable\n\tapic-base enable\n", &s, err, sizeof(err));
	tap_ok(!ret && s.vcpu[0].nr_ops == 2 && s.vcpu[0].ops[0].kind == GOP_APIC_BASE &&
	       s.vcpu[0].ops[0].val == 0 && s.vcpu[0].ops[0].len == 0 &&
	       s.vcpu[0].ops[1].kind == GOP_APIC_BASE && s.vcpu[0].ops[1].val == LAPIC_MODE_XAPIC,
	       "parse: apic-base disable/enable %s", err);

	ret = parse("vcpus 1\nvcpu 0\n\tcr8-write 0xf\n\tcr8-read\n", &s, err, sizeof(err));
	tap_ok(!ret && s.vcpu[0].nr_ops == 2 && s.vcpu[0].ops[0].kind == GOP_CR8_WRITE &&
	       s.vcpu[0].ops[0].val == 15 && s.vcpu[0].ops[1].kind == GOP_CR8_READ,
	       "parse: cr8-write 0xf, cr8-read %s", err);

	ret = parse("vcpus 0x0000000000000000000000000000000001\nvcpu 00\n", &s, err, sizeof(err));
	tap_ok(!ret && s.nr_vcpus == 1, "parse: leading zeros are fine %s", err);

	/* Lines longer than any buffer: a 1 MiB comment and a 1 MiB run of blanks. */
	size_t big = 1 << 20;
	char *text = malloc(3 * big);

	if (text) {
		size_t n = 0;

		n += (size_t)sprintf(text + n, "vcpus 1 #");
		memset(text + n, 'x', big);
		n += big;
		n += (size_t)sprintf(text + n, "\nvcpu");
		memset(text + n, ' ', big);
		n += big;
		n += (size_t)sprintf(text + n, "0\nhlt\n");
		ret = parse(text, &s, err, sizeof(err));
		tap_ok(!ret && s.vcpu[0].nr_ops == 1, "parse: 1 MiB comment and 1 MiB of blanks %s",
		       err);
		free(text);
	} else {
		tap_skip("out of memory");
	}
}

/* ---- errors ------------------------------------------------------------------------ */

struct bad_case {
	const char *text;
	const char *msg;	/* without the "t.scn:" prefix */
};

#define V1 "vcpus 1\nvcpu 0\n"	/* a vCPU section on line 2; the op is on line 3 */
#define A1 "vcpus 1\nactor 0\n"

static const struct bad_case bad_cases[] = {
	/* structure */
	{ "", "1:1: missing 'vcpus N'" },
	{ "# only a comment\n\n", "2:1: missing 'vcpus N'" },
	{ "vcpu 0\n", "1:1: missing 'vcpus N' before the first section" },
	{ "vcpus 1\nhlt\n", "2:1: 'hlt' outside a section (vcpu ops go after a 'vcpu I' line)" },
	{ "vcpus 1\nzap-apic\n", "2:1: 'zap-apic' outside a section (actor ops go after an 'actor I' line)" },
	{ V1 "  zap 1 2\n", "3:3: 'zap' is not allowed in vcpu 0 (actor ops go after an 'actor I' line)" },
	{ A1 "eoi\n", "3:1: 'eoi' is not allowed in actor 0 (vcpu ops go after a 'vcpu I' line)" },
	{ "vcpus 1\nfrobnicate 3\n", "2:1: unknown keyword 'frobnicate'" },
	{ "Vcpus 1\n", "1:1: unknown keyword 'Vcpus'" },
	{ "vcpus 1\nan_unknown_keyword_that_is_much_longer_than_forty_characters\n",
	  "2:1: unknown keyword 'an_unknown_keyword_that_is_much_longer_t...'" },
	{ V1 "hlt\nvendor svm\n", "4:1: 'vendor' must come before the first 'vcpu' or 'actor' section" },
	{ "vcpus 2\nvcpu 0\nhlt\nvcpu 0\n", "4:6: duplicate section 'vcpu 0' (first at line 2)" },
	{ "vcpus 1\nactor 1:\nactor 1\n", "3:7: duplicate section 'actor 1' (first at line 2)" },
	{ "vcpus 2\nvcpu 2\n", "2:6: vCPU index '2' out of range (0..1)" },
	{ "vcpus 1\nactor 4\n", "2:7: actor index '4' out of range (0..3)" },
	{ "vcpus 1\nvcpu\n", "2:5: missing argument: usage: vcpu I" },
	{ "vcpus 1\nvcpu 0 1\n", "2:8: unexpected '1' at end of 'vcpu'" },
	{ "vcpus 1\nvcpu 0: x\n", "2:9: unexpected 'x' at end of 'vcpu'" },
	{ "vcpus 1\nvcpu 0 : x\n", "2:10: unexpected 'x' at end of 'vcpu'" },
	{ "vcpus 1\nvcpu 0::\n", "2:6: vCPU index: expected a number (decimal or 0x hex), got '0:'" },
	{ "vcpus 1\nvcpu :\n", "2:6: vCPU index: expected a number (decimal or 0x hex), got ':'" },
	{ "vcpus 1\npreempt maybe\n", "2:9: preempt: expected yes, no or migrate, got 'maybe'" },
	{ "vcpus 1\npreempt\n", "2:8: missing argument: usage: preempt yes|no|migrate" },
	{ "vcpus 1\npreempt migrate\npreempt yes\n", "3:1: duplicate 'preempt' (first at line 2)" },
	/* the expect section */
	{ "vcpus 1\nirqs 0 1\n", "2:1: 'irqs' outside a section (expectations go after an 'expect' line)" },
	{ V1 "irqs 0 1\n", "3:1: 'irqs' is not allowed in vcpu 0 (expectations go after an 'expect' line)" },
	{ "vcpus 1\nexpect\nhlt\n", "3:1: 'hlt' is not allowed in expect (vcpu ops go after a 'vcpu I' line)" },
	{ "vcpus 1\nexpect\nexpect:\n", "3:1: duplicate section 'expect' (first at line 2)" },
	{ "vcpus 1\nexpect 0\n", "2:8: unexpected '0' at end of 'expect'" },
	{ "vcpus 2\nexpect\nirqs 2 1\n", "3:6: vCPU index '2' out of range (0..1)" },
	{ "vcpus 1\nexpect\nirqs 0\n", "3:7: missing argument: usage: irqs V N" },
	{ "vcpus 1\nexpect\nirqs 0 256\n", "3:8: interrupt count '256' out of range (0..255)" },
	{ "vcpus 1\nexpect\nreg 0 0x81 0\n", "3:7: register offset 0x81 is not 16-byte aligned (expect compares 32-bit registers)" },
	{ "vcpus 1\nexpect\nreg 0 TPR 0x100000000\n", "3:11: register value '0x100000000' out of range (0x0..0xffffffff)" },
	{ "vcpus 1\nexpect\napicv 0 maybe\n", "3:9: apicv: expected 'on' or 'off', not 'maybe'" },
	{ "vcpus 1\nexpect\n" "irqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\n"
	  "irqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\nirqs 0 1\n",
	  "19:1: too many expectations (at most 16)" },
	/* numbers */
	{ "vcpus two\n", "1:7: vcpus: expected a number (decimal or 0x hex), got 'two'" },
	{ "vcpus -1\n", "1:7: vcpus: expected a number (decimal or 0x hex), got '-1'" },
	{ "vcpus +1\n", "1:7: vcpus: expected a number (decimal or 0x hex), got '+1'" },
	{ "vcpus 0x\n", "1:7: vcpus: expected a number (decimal or 0x hex), got '0x'" },
	{ "vcpus 1a\n", "1:7: vcpus: expected a number (decimal or 0x hex), got '1a'" },
	{ "vcpus 0x1g\n", "1:7: vcpus: expected a number (decimal or 0x hex), got '0x1g'" },
	{ "vcpus 0\n", "1:7: vcpus '0' out of range (1..8)" },
	{ "vcpus 9\n", "1:7: vcpus '9' out of range (1..8)" },
	{ "vcpus 18446744073709551615\n", "1:7: vcpus '18446744073709551615' out of range (1..8)" },
	{ "vcpus 18446744073709551616\n", "1:7: vcpus '18446744073709551616' out of range (1..8)" },
	{ "vcpus 0x10000000000000001\n", "1:7: vcpus '0x10000000000000001' out of range (0x1..0x8)" },
	{ "vcpus 99999999999999999999999x\n",
	  "1:7: vcpus: expected a number (decimal or 0x hex), got '99999999999999999999999x'" },
	/* header */
	{ "vcpus\n", "1:6: missing argument: usage: vcpus N" },
	{ "vcpus 1 2\n", "1:9: unexpected '2' at end of 'vcpus'" },
	{ "vcpus 1\nvcpus 2\n", "2:1: duplicate 'vcpus' (first at line 1)" },
	{ "vcpus 1\nname a\nname b\n", "3:1: duplicate 'name' (first at line 2)" },
	{ "vcpus 1\nname has/slash\n", "2:6: invalid name 'has/slash': use 1-63 of A-Z a-z 0-9 . _ - +" },
	{ "vcpus 1\nname aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "2:6: invalid name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': use 1-63 of A-Z a-z 0-9 . _ - +" },
	{ "vcpus 1\nvendor arm\n", "2:8: unknown vendor 'arm' (svm, vmx)" },
	{ "vcpus 1\nvendor svm\nvendor vmx\n", "3:1: duplicate 'vendor' (first at line 2)" },
	{ "vcpus 1\npolicy none\n", "2:8: unknown policy 'none' (vm, vcpu)" },
	{ "vcpus 1\nbug nope\n",
	  "2:5: unknown bug 'nope' (zap-no-invalidate, update-before-kick, fault-checks-request, "
	  "zap-yield-range-units, create-no-request, apic-mmio-spte, avic-deliver-race, "
	  "deactivate-no-event, irr-pending-search, update-apicv-preempt, blocking-preempt, "
	  "isr-cache-stale, pir-sync-inhibited, pir-no-event, svi-stale, avic-kick-fast-index, "
	  "avic-init-vm-state, zap-no-flush, avic-activate-no-flush, apic-id-no-inhibit, x2avic-no-flush, "
	  "cr8-intercept-stuck, tpr-no-sync, enter-guest-no-mb, halt-no-mb, irqwin-no-refcount)" },
	{ "vcpus 1\nbug apic-mmio-spte\nbug apic-mmio-spte\n", "3:5: bug 'apic-mmio-spte' given twice" },
	{ "vcpus 1\nvcpu 0\n\twait-irq 0\n", "3:11: interrupt count '0' out of range (1..255)" },
	{ "vcpus 1\nvcpu 0\n\twait-irq\n", "3:10: missing argument: usage: wait-irq N" },
	{ "vcpus 1\nvcpu 0\n\tcli 1\n", "3:6: unexpected '1' at end of 'cli'" },
	{ "vcpus 1\nactor 0\n\tpic-irq 8\n", "3:10: PIC line (the master's 0..7) '8' out of range (0..7)" },
	{ "vcpus 1\nactor 0\n\tpic-irq\n", "3:9: missing argument: usage: pic-irq IRQ" },
	{ "vcpus 1\nexpect\n\tinhibits\n", "3:10: missing argument: usage: inhibits none|REASON..." },
	{ "vcpus 1\nexpect\n\tinhibits none hyperv\n", "3:16: unexpected 'hyperv' at end of 'inhibits'" },
	{ "vcpus 1\nexpect\n\tinhibits hyperv hyperv\n", "3:18: inhibit reason 'hyperv' given twice" },
	{ "vcpus 1\nexpect\n\tinhibits bogus\n", "3:11: unknown inhibit reason 'bogus' (disable, hyperv, nested, irqwin, pit_reinj, blockirq, absent, apic_id_modified, apic_base_modified)" },
	{ "vcpus 1\nvcpu 0\n\tapic-base on\n", "3:12: apic-base: expected enable, disable or x2apic, got 'on'" },
	{ "vcpus 1\nvcpu 0\n\tapic-base\n", "3:11: missing argument: usage: apic-base enable|disable|x2apic [at BASE]" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable 0xfed00000\n", "3:19: unexpected '0xfed00000' (expected 'at BASE')" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable at\n", "3:21: missing argument: usage: at BASE" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable at 0xfed00800\n", "3:22: APIC base 0xfed00800 is not 4 KiB aligned" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable at 0x1000\n", "3:22: APIC base 0x1000 is inside RAM (ram-pages 4: 0x0..0x3fff)" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable at 0x100000000\n", "3:22: APIC base '0x100000000' out of range (0x0..0xffffffff)" },
	{ "vcpus 1\nvcpu 0\n\tapic-base enable at 0xfed00000 x\n", "3:33: unexpected 'x' at end of 'apic-base'" },
	{ "vcpus 1\nvcpu 0\n\twait-mem 0x0\n", "3:14: missing argument: usage: wait-mem GPA VALUE" },
	{ "vcpus 1\nvcpu 0\n\tcr8-write 16\n", "3:12: CR8 value '16' out of range (0..15)" },
	{ "vcpus 1\nvcpu 0\n\tcr8-read 1\n", "3:11: unexpected '1' at end of 'cr8-read'" },
	{ "vcpus 1\napic-enabled maybe\n", "2:14: apic-enabled: expected yes or no, got 'maybe'" },
	{ "vcpus 1\nactor 0\n\tmsi 255 0x30\n", "3:6: destination APIC ID '255' out of range (0..254)" },
	{ "vcpus 1\nactor 0\n\tmsi 0 15\n", "3:8: vector '15' out of range (16..255)" },
	{ "vcpus 1\nram-pages 65\n", "2:11: ram-pages '65' out of range (1..64)" },
	{ "vcpus 1\nram-pages 0\n", "2:11: ram-pages '0' out of range (1..64)" },
	{ "vcpus 1\nzap-yield maybe\n", "2:11: zap-yield: expected yes or no, got 'maybe'" },
	{ "vcpus 1\nzap-yield\n", "2:10: missing argument: usage: zap-yield yes|no" },
	{ "vcpus 2\ninitial-vcpus 3\n", "2:1: initial-vcpus 3 exceeds vcpus 2" },
	{ "initial-vcpus 3\nvcpus 2\nvcpu 0\n", "1:1: initial-vcpus 3 exceeds vcpus 2" },
	{ "vcpus 2\ninitial-vcpus 0\n", "2:15: initial-vcpus '0' out of range (1..8)" },
	/* late vCPUs */
	{ "vcpus 2\ninitial-vcpus 1\n",
	  "2:1: vCPU 1 is never created: initial-vcpus 1 needs a 'create-vcpu 1' actor op" },
	{ "vcpus 3\ninitial-vcpus 1\nactor 0\ncreate-vcpu 1\n",
	  "2:1: vCPU 2 is never created: initial-vcpus 1 needs a 'create-vcpu 2' actor op" },
	{ "vcpus 2\ninitial-vcpus 1\nactor 0\ncreate-vcpu 1\nactor 1\ncreate-vcpu 1\n",
	  "6:13: vCPU 1 is already created at line 4" },
	{ "vcpus 2\nactor 0\ncreate-vcpu 1\n",
	  "3:13: create-vcpu 1: vCPU 1 exists from the start (initial-vcpus 2)" },
	{ "vcpus 2\ninitial-vcpus 1\nactor 0\ncreate-vcpu 2\n", "4:13: vCPU index '2' out of range (0..1)" },
	{ A1 "create-vcpu\n", "3:12: missing argument: usage: create-vcpu I" },
	/* vCPU ops */
	{ V1 "apic-read FOO\n",
	  "3:11: unknown APIC register 'FOO' (a name such as TPR or an offset such as 0x80)" },
	{ V1 "apic-read\n", "3:10: missing argument: usage: apic-read REG [len 1|2|4] [at BASE]" },
	{ V1 "apic-read 0x1000\n", "3:11: APIC offset '0x1000' out of range (0x0..0xfff)" },
	{ V1 "apic-read 0ffe\n", "3:11: APIC offset: expected a number (decimal or 0x hex), got '0ffe'" },
	{ V1 "apic-read 0xffe\n", "3:11: APIC access at 0xffe of 4 bytes crosses the end of the APIC page" },
	{ V1 "apic-read 0xfff len 2\n", "3:11: APIC access at 0xfff of 2 bytes crosses the end of the APIC page" },
	{ V1 "apic-read TPR len 3\n", "3:19: len must be 1, 2 or 4" },
	{ V1 "apic-read TPR len 8\n", "3:19: len '8' out of range (1..4)" },
	{ V1 "apic-read TPR size 4\n", "3:15: unexpected 'size' (expected 'len 1|2|4' or 'at BASE')" },
	{ V1 "apic-read TPR len 4 len 4\n", "3:21: unexpected 'len' (expected 'len 1|2|4' or 'at BASE')" },
	{ V1 "apic-read TPR at 0xfed00004\n", "3:18: APIC base 0xfed00004 is not 4 KiB aligned" },
	{ V1 "apic-read TPR at\n", "3:17: missing argument: usage: at BASE" },
	{ V1 "apic-read TPR len\n", "3:18: missing argument: usage: len 1|2|4" },
	{ V1 "apic-read TPR len 4 x\n", "3:21: unexpected 'x' (expected 'len 1|2|4' or 'at BASE')" },
	{ V1 "apic-write TPR\n", "3:15: missing argument: usage: apic-write REG VALUE [len 1|2|4] [at BASE]" },
	{ V1 "apic-write TPR 0x100 len 1\n", "3:16: value '0x100' out of range (0x0..0xff)" },
	{ V1 "apic-write TPR 65536 len 2\n", "3:16: value '65536' out of range (0..65535)" },
	{ V1 "apic-write TPR 0x100000000\n", "3:16: value '0x100000000' out of range (0x0..0xffffffff)" },
	{ V1 "eoi 0\n", "3:5: unexpected '0' at end of 'eoi'" },
	{ V1 "ipi 1\n", "3:6: missing argument: usage: ipi DEST VECTOR" },
	{ V1 "ipi 256 0x40\n", "3:5: destination APIC ID '256' out of range (0..255)" },
	{ V1 "ipi 1 15\n", "3:7: vector '15' out of range (16..255)" },
	{ V1 "self-ipi 0x100\n", "3:10: vector '0x100' out of range (0x10..0xff)" },
	{ V1 "mem-read 0x4000\n", "3:10: gpa '0x4000' is outside RAM (ram-pages 4: 0x0..0x3fff)" },
	{ V1 "mem-read 0x3ffe\n", "3:10: gpa 0x3ffe is not 4-byte aligned" },
	{ V1 "mem-read 0xfee00000\n", "3:10: gpa '0xfee00000' is outside RAM (ram-pages 4: 0x0..0x3fff)" },
	{ V1 "mem-read 99999999999999999999\n", "3:10: gpa '99999999999999999999' out of range (0..18446744073709551615)" },
	{ V1 "mem-write 0x0\n", "3:14: missing argument: usage: mem-write GPA VALUE" },
	{ V1 "mem-write 0x0 -1\n", "3:15: value: expected a number (decimal or 0x hex), got '-1'" },
	{ V1 "hlt now\n", "3:5: unexpected 'now' at end of 'hlt'" },
	/* actor ops */
	{ A1 "inhibit-set foo\n",
	  "3:13: unknown inhibit reason 'foo' (disable, hyperv, nested, irqwin, pit_reinj, blockirq, absent, apic_id_modified, apic_base_modified)" },
	{ A1 "inhibit-clear\n", "3:14: missing argument: usage: inhibit-clear REASON" },
	{ A1 "toggle hyperv\n", "3:14: missing argument: usage: toggle REASON N" },
	{ A1 "toggle hyperv 0\n", "3:15: toggle count '0' out of range (1..64)" },
	{ A1 "toggle hyperv 65\n", "3:15: toggle count '65' out of range (1..64)" },
	{ A1 "toggle hyperv 60\ntoggle hyperv 5\n",
	  "4:15: too many ops in actor 0: toggle needs 5, only 4 left (at most 64)" },
	{ A1 "zap 4 4\n", "3:7: empty zap range: gfn_end 0x4 <= gfn_start 0x4" },
	{ A1 "zap 5 4\n", "3:7: empty zap range: gfn_end 0x4 <= gfn_start 0x5" },
	{ A1 "zap 0 0x10000000001\n", "3:7: gfn_end '0x10000000001' out of range (0x0..0x10000000000)" },
	{ A1 "zap 0x10000000000 0x10000000000\n",
	  "3:5: gfn_start '0x10000000000' out of range (0x0..0xffffffffff)" },
	{ A1 "zap-apic 1\n", "3:10: unexpected '1' at end of 'zap-apic'" },
	/* bytes */
	{ "vcpus 1\x01\n", "1:8: invalid byte 0x01 (scenario files are ASCII text outside comments)" },
	{ "vcpus\xff 1\n", "1:6: invalid byte 0xff (scenario files are ASCII text outside comments)" },
	{ "vcpus 1 # \x1b[31m\n", "1:11: invalid byte 0x1b (scenario files are text)" },
	{ "vcpus 1 # \x7f\n", "1:11: invalid byte 0x7f (scenario files are text)" },
};

static void test_bad_cases(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		char err[512], want[512];
		struct scenario s;
		int ret;

		memset(err, 'Z', sizeof(err));
		snprintf(want, sizeof(want), "t.scn:%s", bad_cases[i].msg);
		ret = parse(bad_cases[i].text, &s, err, sizeof(err));
		if (!tap_ok(ret == -EINVAL && !strcmp(err, want), "error: %s", want))
			tap_diag("  got %d '%s'", ret, ret ? err : "");
	}
}

/* Generated inputs too big to list: ops past SCN_MAX_OPS, tokens past the buffer. */
static void test_bad_generated(void)
{
	char err[256], want[256];
	struct scenario s;
	char *text = malloc(1 << 21);
	size_t n;
	int ret;

	if (!text) {
		for (int i = 0; i < 5; i++)
			tap_skip("out of memory");
		return;
	}

	n = (size_t)sprintf(text, "vcpus 1\nvcpu 0\n");
	for (int i = 0; i < SCN_MAX_OPS; i++)
		n += (size_t)sprintf(text + n, "hlt\n");
	strcpy(text + n, "hlt\n");
	ret = parse(text, &s, err, sizeof(err));
	snprintf(want, sizeof(want), "t.scn:%d:1: too many ops in vcpu 0 (at most %d)",
		 SCN_MAX_OPS + 3, SCN_MAX_OPS);
	tap_ok(ret == -EINVAL && !strcmp(err, want), "error: op %d: %s", SCN_MAX_OPS + 1, err);

	/* an 'ipi' needs two slots */
	n = (size_t)sprintf(text, "vcpus 1\nvcpu 0\n");
	for (int i = 0; i < SCN_MAX_OPS - 1; i++)
		n += (size_t)sprintf(text + n, "hlt\n");
	strcpy(text + n, "ipi 0 0x40\n");
	ret = parse(text, &s, err, sizeof(err));
	snprintf(want, sizeof(want), "t.scn:%d:1: too many ops in vcpu 0 (at most %d)",
		 SCN_MAX_OPS + 2, SCN_MAX_OPS);
	tap_ok(ret == -EINVAL && !strcmp(err, want), "error: ipi in the last slot: %s", err);

	/* a 1 MiB token */
	n = (size_t)sprintf(text, "vcpus 1\nname ");
	memset(text + n, 'a', 1 << 20);
	text[n + (1 << 20)] = '\0';
	ret = parse(text, &s, err, sizeof(err));
	tap_ok(ret == -EINVAL &&
	       !strcmp(err, "t.scn:2:6: token too long (more than 127 characters)"),
	       "error: 1 MiB token: %s", err);

	/* a 128-character number (leading zeros) is a token too long; 127 is fine */
	n = (size_t)sprintf(text, "vcpus ");
	memset(text + n, '0', 126);
	strcpy(text + n + 126, "1\n");
	ret = parse(text, &s, err, sizeof(err));
	tap_ok(!ret, "parse: 127-character token %s", ret ? err : "");

	/* 100000 tokens on one line */
	n = (size_t)sprintf(text, "vcpus 1\nvcpu 0\nhlt");
	for (int i = 0; i < 100000; i++)
		n += (size_t)sprintf(text + n, " x");
	strcpy(text + n, "\n");
	ret = parse(text, &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !strcmp(err, "t.scn:3:5: unexpected 'x' at end of 'hlt'"),
	       "error: 100000 tokens on a line: %s", err);
	free(text);
}

/* The caller's buffer and struct: truncation, NULL, untouched on error, one line. */
static void test_error_contract(void)
{
	char err[256], small[8];
	struct scenario s, before;
	int ret;

	memset(&s, 0xa5, sizeof(s));
	memcpy(&before, &s, sizeof(s));
	ret = parse("vcpus 1\nvcpu 0\nhlt\nbogus\n", &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !memcmp(&s, &before, sizeof(s)),
	       "contract: *s untouched on error");

	ret = parse("bogus", &s, small, sizeof(small));
	tap_ok(ret == -EINVAL && !strcmp(small, "t.scn:1"),
	       "contract: message truncated to the buffer: '%s'", small);

	ret = parse("bogus", &s, NULL, 0);
	tap_ok(ret == -EINVAL, "contract: NULL message buffer");
	ret = parse("bogus", &s, small, 0);
	tap_ok(ret == -EINVAL && small[0] == 't', "contract: errlen 0 writes nothing");

	ret = scenario_parse_string("a\nb\x01.scn", "bogus", &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !strcmp(err, "a\\x0ab\\x01.scn:1:1: unknown keyword 'bogus'"),
	       "contract: the file name is escaped: one line: %s", err);

	ret = scenario_parse_string(NULL, NULL, &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !strcmp(err, "<string>: no scenario text"),
	       "contract: NULL text: %s", err);

	ret = scenario_parse_file(NULL, &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !strcmp(err, "<null>: cannot open: Invalid argument"),
	       "contract: NULL path: %s", err);

	ret = parse("vcpus 1\n", &s, err, sizeof(err));
	tap_ok(!ret && err[0] == '\0', "contract: success clears the message buffer");
}

/* ---- files ------------------------------------------------------------------------- */

struct bad_file {
	const char *file;	/* in tests/scenarios/bad */
	const char *msg;	/* after "FILE:" */
};

static const struct bad_file bad_files[] = {
	{ "empty.scn", "1:1: missing 'vcpus N'" },
	{ "comments-only.scn", "3:1: missing 'vcpus N'" },
	{ "binary.scn", "1:1: invalid byte 0x7f (scenario files are ASCII text outside comments)" },
	{ "nul-in-comment.scn", "2:24: invalid byte 0x00 (scenario files are text)" },
	{ "op-outside-section.scn", "2:1: 'hlt' outside a section (vcpu ops go after a 'vcpu I' line)" },
	{ "op-in-wrong-section.scn",
	  "5:2: 'apic-read' is not allowed in actor 0 (vcpu ops go after a 'vcpu I' line)" },
	{ "unknown-keyword.scn", "4:2: unknown keyword 'frobnicate'" },
	{ "bad-number.scn", "1:7: vcpus: expected a number (decimal or 0x hex), got 'two'" },
	{ "overflow.scn", "3:16: value '99999999999999999999999' out of range (0..4294967295)" },
	{ "duplicate-section.scn", "6:6: duplicate section 'vcpu 0' (first at line 2)" },
	{ "too-many-ops.scn", "67:2: too many ops in vcpu 0 (at most 64)" },
	{ "missing-create.scn",
	  "3:1: vCPU 1 is never created: initial-vcpus 1 needs a 'create-vcpu 1' actor op" },
	{ "vcpu-out-of-range.scn", "2:6: vCPU index '2' out of range (0..1)" },
	{ "header-after-section.scn",
	  "4:1: 'vendor' must come before the first 'vcpu' or 'actor' section" },
	{ "mem-outside-ram.scn", "4:11: gpa '0x2000' is outside RAM (ram-pages 2: 0x0..0x1fff)" },
	{ "empty-zap.scn", "3:11: empty zap range: gfn_end 0x10 <= gfn_start 0x10" },
};

/* Valid files that are not built-ins. */
static const char *const example_files[] = { "example.scn", "seed-vcpu-svm.scn", "two-senders.scn", "ipi-small.scn",
						"ipi-self.scn", "expect-wrong.scn", "ipi-late.scn", "cr8-x2apic.scn",
						"irq-window-lazy.scn", "apic-stray-write.scn" };

static bool listed(const char *name, bool bad)
{
	if (bad) {
		for (size_t i = 0; i < ARRAY_SIZE(bad_files); i++)
			if (!strcmp(bad_files[i].file, name))
				return true;
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(example_files); i++)
		if (!strcmp(example_files[i], name))
			return true;
	for (int i = 0; i < NR_BUILTINS; i++) {
		size_t n = strlen(builtin_names[i]);

		if (!strncmp(name, builtin_names[i], n) && !strcmp(name + n, ".scn"))
			return true;
	}
	return false;
}

/* Every *.scn in 'dir' is listed in this test (so none is silently skipped). */
static void test_dir_listed(const char *dir, bool bad)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = d != NULL;
	int n = 0;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 4 || strcmp(e->d_name + len - 4, ".scn"))
			continue;
		n++;
		if (!listed(e->d_name, bad)) {
			tap_diag("%s/%s is not listed in tests/test_scenario.c", dir, e->d_name);
			ok = false;
		}
	}
	if (d)
		closedir(d);
	tap_ok(ok && n > 0, "files: every %s/*.scn (%d) is listed in this test", dir, n);
}

static void test_bad_files(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_files); i++) {
		char path[256], want[512], err[512] = "";
		struct scenario s;
		int ret;

		snprintf(path, sizeof(path), BAD_DIR "/%s", bad_files[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, bad_files[i].msg);
		ret = scenario_parse_file(path, &s, err, sizeof(err));
		if (!tap_ok(ret == -EINVAL && !strcmp(err, want), "error: %s", want))
			tap_diag("  got %d '%s'", ret, err);
	}
	test_dir_listed(BAD_DIR, true);
}

static void test_example_files(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(example_files); i++) {
		char path[256], err[256] = "", why[256] = "";
		struct scenario s;
		int ret;

		snprintf(path, sizeof(path), SCN_DIR "/%s", example_files[i]);
		ret = scenario_parse_file(path, &s, err, sizeof(err));
		tap_ok(!ret && round_trip(&s, why, sizeof(why)),
		       "file: %s parses and round-trips %s%s", path, err, why);
	}
	test_dir_listed(SCN_DIR, false);
}

static void test_file_errors(void)
{
	char err[512], want[512], path[] = "/tmp/kvmlab-scn-XXXXXX";
	struct scenario s;
	int ret, fd;

	ret = scenario_parse_file(BAD_DIR "/does-not-exist.scn", &s, err, sizeof(err));
	tap_ok(ret == -EINVAL &&
	       !strcmp(err, BAD_DIR "/does-not-exist.scn: cannot open: No such file or directory"),
	       "file: missing file: %s", err);

	ret = scenario_parse_file(BAD_DIR, &s, err, sizeof(err));
	tap_ok(ret == -EINVAL && !strcmp(err, BAD_DIR ": cannot open: Is a directory"),
	       "file: directory: %s", err);

	/* A 4 MiB line (comment) then a valid scenario, from a real file. */
	fd = mkstemp(path);
	if (fd < 0) {
		tap_skip("mkstemp: %s", strerror(errno));
		tap_skip("mkstemp");
		return;
	}
	close(fd);
	ret = -1;
	if (write_file(path, "vcpus 1\n#", 'y', 4 << 20, "\nvcpu 0\n\thlt\n"))
		ret = scenario_parse_file(path, &s, err, sizeof(err));
	tap_ok(!ret && s.vcpu[0].nr_ops == 1 && !strncmp(s.name, "kvmlab-scn-", 11),
	       "file: 4 MiB line, name from the file name %s", ret ? err : s.name);

	ret = -1;
	if (write_file(path, "vcpus 1\nvcpu 0\n\thlt ", 'z', 4 << 20, ""))
		ret = scenario_parse_file(path, &s, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:3:6: token too long (more than 127 characters)", path);
	tap_ok(ret == -EINVAL && !strcmp(err, want), "file: 4 MiB token: %s", err);
	unlink(path);
}

/* ---- fuzz ---------------------------------------------------------------------------- */

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Does 'err' look like "fuzz.scn:LINE:COL: something" on one line? */
static bool one_line_located(const char *err)
{
	long line;
	int col, n = 0;

	if (sscanf(err, "fuzz.scn:%ld:%d: %n", &line, &col, &n) != 2 || !n)
		return false;
	return line >= 1 && col >= 1 && err[n] && !strchr(err, '\n');
}

/*
 * Mutate the text of built-ins and examples (flip, insert, delete bytes,
 * splice lines) and require: -EINVAL with a located one-line message, or
 * success and a scenario that round-trips.  Under ASan/UBSan this is the
 * memory-safety test of the parser.
 */
static void test_fuzz(void)
{
	static const char *const alphabet[] = {
		" ", "\t", "\n", "#", ":", "0", "1", "0x", "ffff", "99999999999999999999", "len",
		"vcpu", "actor", "vcpus", "hlt", "zap", "toggle", "ipi", "create-vcpu", "TPR",
		"initial-vcpus", "-", "\x80", "\x01",
	};
	int bad = 0, good = 0, fails = 0;
	char *seeds[NR_BUILTINS + 1];
	int nseeds = 0;

	for (int i = 0; i < NR_BUILTINS; i++)
		seeds[nseeds++] = print_str(scenario_builtin(builtin_names[i]));
	seeds[nseeds++] = slurp(SCN_DIR "/example.scn");

	for (int iter = 0; iter < 20000; iter++) {
		const char *src = seeds[rng() % nseeds];
		size_t len = src ? strlen(src) : 0;
		size_t cap = len + 256;
		char *buf = malloc(cap), err[512];
		struct scenario s;
		int ret;

		if (!buf || !src) {
			free(buf);
			fails++;
			continue;
		}
		memcpy(buf, src, len + 1);
		for (int m = 0, nm = 1 + (int)(rng() % 4); m < nm; m++) {
			size_t pos = len ? rng() % len : 0;
			const char *ins = alphabet[rng() % ARRAY_SIZE(alphabet)];
			size_t il = strlen(ins);

			switch (rng() % 3) {
			case 0:		/* replace a byte */
				if (len && rng() % 2)
					buf[pos] = ins[0];
				else if (len)
					buf[pos] = (char)(1 + rng() % 255);
				break;
			case 1:		/* insert a token */
				if (len + il + 1 <= cap) {
					memmove(buf + pos + il, buf + pos, len - pos + 1);
					memcpy(buf + pos, ins, il);
					len += il;
				}
				break;
			default:	/* delete a few bytes */
				if (len) {
					size_t dl = 1 + rng() % 8;

					if (dl > len - pos)
						dl = len - pos;
					memmove(buf + pos, buf + pos + dl, len - pos - dl + 1);
					len -= dl;
				}
				break;
			}
		}
		ret = scenario_parse_string("fuzz.scn", buf, &s, err, sizeof(err));
		if (ret == -EINVAL && one_line_located(err)) {
			bad++;
		} else if (!ret) {
			char why[256];

			if (round_trip(&s, why, sizeof(why))) {
				good++;
			} else {
				if (fails++ < 3)
					tap_diag("fuzz: round trip failed: %s\n%s", why, buf);
			}
		} else {
			if (fails++ < 3)
				tap_diag("fuzz: ret %d, err '%s' for:\n%s", ret, err, buf);
		}
		free(buf);
	}
	for (int i = 0; i < nseeds; i++)
		free(seeds[i]);
	tap_ok(!fails && bad > 0 && good > 0,
	       "fuzz: 20000 mutated inputs: %d rejected with a located message, %d accepted and round-tripped",
	       bad, good);
}

int main(void)
{
	tap_plan(3 + 6 + NR_BUILTINS + 2 * NR_BUILTINS + 3 +	/* built-ins */
		 9 + 4 + 6 +					/* valid text */
		 (int)ARRAY_SIZE(bad_cases) + 5 + 8 +		/* errors */
		 (int)ARRAY_SIZE(bad_files) + 1 +		/* bad files */
		 (int)ARRAY_SIZE(example_files) + 1 + 4 +	/* files */
		 1);						/* fuzz */
	test_builtin_table();
	test_builtin_contents();
	test_builtin_round_trip();
	test_builtin_files();
	test_seed_builder();
	test_parse_full();
	test_parse_defaults();
	test_parse_lexical();
	test_bad_cases();
	test_bad_generated();
	test_error_contract();
	test_bad_files();
	test_example_files();
	test_file_errors();
	test_fuzz();
	return tap_done();
}
