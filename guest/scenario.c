// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios: the text parser, the built-in table and the printer.
 *
 * A scenario file is line oriented: a header of 'key value' lines (vcpus,
 * initial-vcpus, vendor, policy, bug, ram-pages, zap-yield, name), then
 * 'vcpu I' and 'actor I' sections, each followed by its ops, one per line.
 * '#' starts a comment; tokens are separated by blanks; numbers are decimal
 * or 0x hex.  The full reference, with every op and every check, is
 * docs/scenario-format.md; the format is small enough that this file and
 * that page are meant to be read side by side.
 *
 * Invariants the parser guarantees for a scenario it returns (and the model
 * relies on): 1 <= nr_initial_vcpus <= nr_vcpus <= SCN_MAX_VCPUS; every
 * vCPU >= nr_initial_vcpus is created by exactly one AOP_CREATE_VCPU and no
 * other vCPU is; every op's fields are in range (APIC accesses stay inside
 * the APIC page, memory accesses are aligned and inside RAM, zap ranges are
 * non-empty); fields an op does not use are zero.
 *
 * The parser reads its input one byte at a time with O(1) memory (a line of
 * any length, a comment of any length, binary garbage: all end in either a
 * parsed scenario or one "FILE:LINE:COL: message" line).  It never prints and
 * never exits; every error returns -EINVAL and leaves *s untouched.
 *
 * scenario_print() is the inverse: its output parses back to the same
 * struct (all fields but 'description', which files do not carry).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest/scenario.h"
#include "model/kvm.h"
#include "model/lapic.h"

#define SCN_DEFAULT_RAM_PAGES	4
#define SCN_TOK_MAX		128	/* longest token, including the NUL */
#define SCN_LINE_TOKS		8	/* tokens kept per line; no directive has more than 5 */
#define SCN_TOK_SHOW		40	/* longest token quoted in a message */
#define SCN_MAX_GFN		(1ull << 40)	/* 52-bit guest-physical addresses */
#define SCN_APIC_PAGE_SIZE	0x1000u
#define SCN_ICR_VECTOR_MIN	16	/* vectors 0-15 are reserved (SDM 10.5.2) */
#define SCN_ICR_DEST_SHIFT	24	/* ICR2 bits 31:24: physical destination */

/* Quote a token in a message: "'%.40s%s'" with TQ(tok). */
#define TQ(t) SCN_TOK_SHOW, (t), (strlen(t) > SCN_TOK_SHOW ? "..." : "")

/* ---- parser state ------------------------------------------------------------ */

enum scn_section { SEC_HEADER, SEC_VCPU, SEC_ACTOR, SEC_EXPECT };

struct scn_pos {
	long line;
	int col;		/* 0: not seen */
};

struct scn_parser {
	const char *file;	/* file name for messages */
	FILE *f;		/* input: a stream ... */
	const char *str;	/* ... or a NUL-terminated string */
	char *err;
	size_t errlen;

	/* the line being parsed */
	long line;
	int ntok;		/* tokens on the line (may exceed SCN_LINE_TOKS) */
	int col[SCN_LINE_TOKS];
	char tok[SCN_LINE_TOKS][SCN_TOK_MAX];

	struct scenario *s;
	enum scn_section sec;
	int sec_idx;

	/* header keys seen (for duplicates and late checks) */
	struct scn_pos pos_name, pos_vcpus, pos_initial, pos_vendor, pos_policy;
	struct scn_pos pos_ram, pos_zap_yield, pos_apic_enabled, pos_preempt, pos_x2avic;
	struct scn_pos pos_vcpu_sec[SCN_MAX_VCPUS], pos_actor_sec[SCN_MAX_ACTORS];
	struct scn_pos pos_create[SCN_MAX_VCPUS];
	struct scn_pos pos_expect_sec;
};

/*
 * Append 'src' to dst[*n..size) with anything that is not printable ASCII
 * escaped as \xNN, so that a message stays one line whatever the file name.
 */
static void scn_append_escaped(char *dst, size_t size, size_t *n, const char *src)
{
	for (; *src && *n + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;

		if (c >= 0x20 && c < 0x7f) {
			dst[(*n)++] = (char)c;
		} else {
			int w = snprintf(dst + *n, size - *n, "\\x%02x", c);

			if (w < 0 || (size_t)w >= size - *n)
				break;
			*n += (size_t)w;
		}
	}
	dst[*n] = '\0';
}

/* "FILE" + where + ": " + message; where is ":LINE:COL" or "" (line <= 0). */
static __printf(4, 0) void scn_vformat(struct scn_parser *p, long line, int col,
				       const char *fmt, va_list ap)
{
	size_t n = 0;
	int w;

	if (!p->err || !p->errlen)
		return;
	p->err[0] = '\0';
	scn_append_escaped(p->err, p->errlen, &n, p->file);
	if (line > 0)
		w = snprintf(p->err + n, p->errlen - n, ":%ld:%d: ", line, col > 0 ? col : 1);
	else
		w = snprintf(p->err + n, p->errlen - n, ": ");
	if (w < 0 || (size_t)w >= p->errlen - n)
		return;
	n += (size_t)w;
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
}

static __printf(4, 5) int scn_err(struct scn_parser *p, long line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_vformat(p, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Error at token i of the current line. */
static __printf(3, 4) int scn_err_tok(struct scn_parser *p, int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_vformat(p, p->line, p->col[i < SCN_LINE_TOKS ? i : SCN_LINE_TOKS - 1], fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- tokenizer ----------------------------------------------------------------- */

/* Next input byte, EOF at the end of input or on a read error (see scn_read_line). */
static int scn_getc(struct scn_parser *p)
{
	if (p->f)
		return getc(p->f);
	if (!*p->str)
		return EOF;
	return (unsigned char)*p->str++;
}

static bool scn_is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Read the next line into p->tok/p->col/p->ntok.  Returns 1 if a line was
 * read (possibly with no tokens), 0 at end of input, -EINVAL on error.
 * Tokens past SCN_LINE_TOKS are counted but not stored: every directive
 * takes fewer, so the caller reports the first surplus token it did keep.
 */
static int scn_read_line(struct scn_parser *p)
{
	bool comment = false, any = false;
	int col = 0, len = -1;	/* len < 0: not inside a token */
	int c;

	p->ntok = 0;
	p->line++;
	for (;;) {
		c = scn_getc(p);
		if (c == EOF)
			break;
		any = true;
		if (col < INT_MAX)	/* a 2 GiB line must not overflow the column */
			col++;
		if (c == '\n')
			break;
		if ((c < 0x20 && !scn_is_blank(c)) || c == 0x7f || (c > 0x7f && !comment))
			return scn_err(p, p->line, col, "invalid byte 0x%02x (scenario files are %s)",
				       c, comment ? "text" : "ASCII text outside comments");
		if (comment)
			continue;
		if (c == '#' || scn_is_blank(c)) {
			len = -1;
			comment = c == '#';
			continue;
		}
		if (len < 0) {
			if (p->ntok < SCN_LINE_TOKS)
				p->col[p->ntok] = col;
			if (p->ntok <= SCN_LINE_TOKS)	/* saturate: "more than enough" */
				p->ntok++;
			len = 0;
		}
		if (p->ntok > SCN_LINE_TOKS)
			continue;
		if (len == SCN_TOK_MAX - 1)
			return scn_err(p, p->line, p->col[p->ntok - 1],
				       "token too long (more than %d characters)", SCN_TOK_MAX - 1);
		p->tok[p->ntok - 1][len++] = (char)c;
		p->tok[p->ntok - 1][len] = '\0';
	}
	if (c == EOF && p->f && ferror(p->f))
		return scn_err(p, 0, 0, "read error: %s", strerror(errno ? errno : EIO));
	if (!any) {
		p->line--;
		return 0;
	}
	return 1;
}

/* ---- token helpers ---------------------------------------------------------------- */

static int scn_want_end(struct scn_parser *p, int n)
{
	if (p->ntok > n)
		return scn_err_tok(p, n, "unexpected '%.*s%s' at end of '%s'", TQ(p->tok[n]),
				   p->tok[0]);
	return 0;
}

static int scn_want_args(struct scn_parser *p, int n, const char *usage)
{
	if (p->ntok < n)
		return scn_err(p, p->line, p->col[p->ntok - 1] + (int)strlen(p->tok[p->ntok - 1]),
			       "missing argument: usage: %s", usage);
	return scn_want_end(p, n);
}

int scenario_strtou64(const char *t, bool hex_ok, u64 *out)
{
	unsigned base = 10;
	bool range = true;
	u64 v = 0;

	if (hex_ok && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	}
	if (!*t)
		return -EINVAL;
	for (; *t; t++) {
		unsigned d;

		if (*t >= '0' && *t <= '9')
			d = (unsigned)(*t - '0');
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = (unsigned)(*t - 'a' + 10);
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = (unsigned)(*t - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			range = false;	/* keep scanning: a bad digit later is a syntax error */
		v = v * base + d;
	}
	*out = v;
	return range ? 0 : -ERANGE;
}

/*
 * Token i as a number in [min, max]; 'what' names it in messages, which
 * show the range in the base the token was written in.
 */
static int scn_num(struct scn_parser *p, int i, u64 min, u64 max, const char *what, u64 *out)
{
	const char *t = p->tok[i];
	bool hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
	int ret;
	u64 v = 0;

	ret = scenario_strtou64(t, true, &v);
	if (ret == -EINVAL)
		return scn_err_tok(p, i, "%s: expected a number (decimal or 0x hex), got '%.*s%s'",
				   what, TQ(t));
	if (ret || v < min || v > max)
		return scn_err_tok(p, i, hex ? "%s '%.*s%s' out of range (0x%llx..0x%llx)" :
					       "%s '%.*s%s' out of range (%llu..%llu)",
				   what, TQ(t), (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* A scenario name: 1..SCN_NAME_MAX-1 of [A-Za-z0-9._+-]. */
static bool scn_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '+';
}

static bool scn_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= SCN_NAME_MAX)
		return false;
	for (; *name; name++)
		if (!scn_name_char(*name))
			return false;
	return true;
}

/* Default name: basename of 'path' without ".scn", made a valid name. */
static void scn_default_name(char *name, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n, i;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n >= 4 && !strcmp(base + n - 4, ".scn"))
		n -= 4;
	if (n >= SCN_NAME_MAX)
		n = SCN_NAME_MAX - 1;
	for (i = 0; i < n; i++)
		name[i] = scn_name_char(base[i]) ? base[i] : '_';
	name[i] = '\0';
	if (!i)
		strcpy(name, "scenario");
}

/* ---- header --------------------------------------------------------------------- */

static int scn_once(struct scn_parser *p, struct scn_pos *pos)
{
	if (pos->col)
		return scn_err_tok(p, 0, "duplicate '%s' (first at line %ld)", p->tok[0],
				   pos->line);
	pos->line = p->line;
	pos->col = p->col[0];
	return 0;
}

static int scn_hdr_name(struct scn_parser *p)
{
	int ret;

	ret = scn_want_args(p, 2, "name NAME");
	if (!ret)
		ret = scn_once(p, &p->pos_name);
	if (ret)
		return ret;
	if (!scn_name_valid(p->tok[1]))
		return scn_err_tok(p, 1, "invalid name '%.*s%s': use 1-%d of A-Z a-z 0-9 . _ - +",
				   TQ(p->tok[1]), SCN_NAME_MAX - 1);
	strcpy(p->s->name, p->tok[1]);
	return 0;
}

static int scn_hdr_count(struct scn_parser *p, const char *usage, struct scn_pos *pos,
			 int *field, u64 max)
{
	u64 v = 0;
	int ret;

	ret = scn_want_args(p, 2, usage);
	if (!ret)
		ret = scn_once(p, pos);
	if (!ret)
		ret = scn_num(p, 1, 1, max, p->tok[0], &v);
	if (ret)
		return ret;
	*field = (int)v;
	return 0;
}

static int scn_hdr_vcpus(struct scn_parser *p)
{
	return scn_hdr_count(p, "vcpus N", &p->pos_vcpus, &p->s->nr_vcpus, SCN_MAX_VCPUS);
}

static int scn_hdr_initial_vcpus(struct scn_parser *p)
{
	return scn_hdr_count(p, "initial-vcpus N", &p->pos_initial, &p->s->nr_initial_vcpus,
			     SCN_MAX_VCPUS);
}

static int scn_hdr_ram_pages(struct scn_parser *p)
{
	return scn_hdr_count(p, "ram-pages N", &p->pos_ram, &p->s->ram_pages, SCN_MAX_RAM_PAGES);
}

static int scn_hdr_vendor(struct scn_parser *p)
{
	int ret, v;

	ret = scn_want_args(p, 2, "vendor svm|vmx");
	if (!ret)
		ret = scn_once(p, &p->pos_vendor);
	if (ret)
		return ret;
	v = kvm_vendor_parse(p->tok[1]);
	if (v < 0)
		return scn_err_tok(p, 1, "unknown vendor '%.*s%s' (svm, vmx)", TQ(p->tok[1]));
	p->s->vendor = v;
	return 0;
}

static int scn_hdr_policy(struct scn_parser *p)
{
	int ret, v;

	ret = scn_want_args(p, 2, "policy vm|vcpu");
	if (!ret)
		ret = scn_once(p, &p->pos_policy);
	if (ret)
		return ret;
	v = kvm_policy_parse(p->tok[1]);
	if (v < 0)
		return scn_err_tok(p, 1, "unknown policy '%.*s%s' (vm, vcpu)", TQ(p->tok[1]));
	p->s->policy = v;
	return 0;
}

static int scn_hdr_bug(struct scn_parser *p)
{
	char known[512];
	size_t n = 0;
	int ret, b;

	ret = scn_want_args(p, 2, "bug SLUG");
	if (ret)
		return ret;
	b = kvm_bug_parse(p->tok[1]);
	if (b < 0) {
		known[0] = '\0';
		for (int i = 0; i < KVM_NR_BUGS && n < sizeof(known); i++) {
			int w = snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
					 kvm_bug_info(i)->slug);
			if (w < 0)
				break;
			n += (size_t)w;
		}
		return scn_err_tok(p, 1, "unknown bug '%.*s%s' (%s)", TQ(p->tok[1]), known);
	}
	if (p->s->bugs & BIT_ULL(b))
		return scn_err_tok(p, 1, "bug '%s' given twice", p->tok[1]);
	p->s->bugs |= BIT_ULL(b);
	return 0;
}

/* A header key KEY yes|no, given at most once. */
static int scn_hdr_yes_no(struct scn_parser *p, const char *usage, struct scn_pos *pos, bool *out)
{
	int ret;

	ret = scn_want_args(p, 2, usage);
	if (!ret)
		ret = scn_once(p, pos);
	if (ret)
		return ret;
	if (!strcmp(p->tok[1], "yes"))
		*out = true;
	else if (!strcmp(p->tok[1], "no"))
		*out = false;
	else
		return scn_err_tok(p, 1, "%s: expected yes or no, got '%.*s%s'", p->tok[0],
				   TQ(p->tok[1]));
	return 0;
}

static int scn_hdr_zap_yield(struct scn_parser *p)
{
	return scn_hdr_yes_no(p, "zap-yield yes|no", &p->pos_zap_yield, &p->s->zap_yield);
}

/* 'x2avic yes|no': whether an SVM host CPU has x2AVIC (no: hybrid AVIC). */
static int scn_hdr_x2avic(struct scn_parser *p)
{
	bool yes;
	int r = scn_hdr_yes_no(p, "x2avic yes|no", &p->pos_x2avic, &yes);

	if (!r)
		p->s->no_x2avic = !yes;
	return r;
}

/* 'preempt yes|no|migrate' (enum kvm_preempt). */
static int scn_hdr_preempt(struct scn_parser *p)
{
	static const char *const words[] = {
		[KVM_PREEMPT_NO] = "no", [KVM_PREEMPT_YES] = "yes", [KVM_PREEMPT_MIGRATE] = "migrate",
	};
	int ret = scn_want_args(p, 2, "preempt yes|no|migrate");

	if (!ret)
		ret = scn_once(p, &p->pos_preempt);
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(p->tok[1], words[i])) {
			p->s->preempt = (u8)i;
			return 0;
		}
	return scn_err_tok(p, 1, "preempt: expected yes, no or migrate, got '%.*s%s'", TQ(p->tok[1]));
}

static int scn_hdr_apic_enabled(struct scn_parser *p)
{
	return scn_hdr_yes_no(p, "apic-enabled yes|no", &p->pos_apic_enabled, &p->s->apic_enabled);
}

/*
 * The header ends at the first section (or at the end of the file): check
 * what needs several keys.  'line'/'col' say where the header ended.
 */
static int scn_end_header(struct scn_parser *p, long line, int col, const char *where)
{
	struct scenario *s = p->s;

	if (!p->pos_vcpus.col)
		return scn_err(p, line, col, "missing 'vcpus N'%s", where);
	if (!p->pos_initial.col)
		s->nr_initial_vcpus = s->nr_vcpus;
	else if (s->nr_initial_vcpus > s->nr_vcpus)
		return scn_err(p, p->pos_initial.line, p->pos_initial.col,
			       "initial-vcpus %d exceeds vcpus %d", s->nr_initial_vcpus,
			       s->nr_vcpus);
	return 0;
}

/* ---- sections ------------------------------------------------------------------- */

static int scn_section(struct scn_parser *p, enum scn_section sec, int max, struct scn_pos *seen)
{
	const char *kw = p->tok[0];
	char *idx;
	size_t n;
	u64 v = 0;
	int ret;

	if (p->sec == SEC_HEADER) {
		ret = scn_end_header(p, p->line, p->col[0], " before the first section");
		if (ret)
			return ret;
	}
	if (p->ntok < 2)
		return scn_err(p, p->line, p->col[0] + (int)strlen(kw),
			       "missing argument: usage: %s I", kw);
	/* 'vcpu 0:' or 'vcpu 0 :' */
	idx = p->tok[1];
	n = strlen(idx);
	if (n > 1 && idx[n - 1] == ':') {
		idx[n - 1] = '\0';
		ret = scn_want_end(p, 2);
	} else if (p->ntok > 2 && !strcmp(p->tok[2], ":")) {
		ret = scn_want_end(p, 3);
	} else {
		ret = scn_want_end(p, 2);
	}
	if (!ret)
		ret = scn_num(p, 1, 0, (u64)max - 1, sec == SEC_VCPU ? "vCPU index" : "actor index",
			      &v);
	if (ret)
		return ret;
	if (seen[v].col)
		return scn_err_tok(p, 1, "duplicate section '%s %d' (first at line %ld)", kw,
				   (int)v, seen[v].line);
	seen[v].line = p->line;
	seen[v].col = p->col[0];
	p->sec = sec;
	p->sec_idx = (int)v;
	if (sec == SEC_ACTOR && p->s->nr_actors <= (int)v)
		p->s->nr_actors = (int)v + 1;
	return 0;
}

static int scn_sec_vcpu(struct scn_parser *p)
{
	return scn_section(p, SEC_VCPU, p->s->nr_vcpus, p->pos_vcpu_sec);
}

static int scn_sec_actor(struct scn_parser *p)
{
	return scn_section(p, SEC_ACTOR, SCN_MAX_ACTORS, p->pos_actor_sec);
}

/* ---- vCPU ops --------------------------------------------------------------------- */

/* Room for 'n' more ops in the current section? */
static int scn_room(struct scn_parser *p, int n)
{
	int nr = p->sec == SEC_VCPU ? p->s->vcpu[p->sec_idx].nr_ops :
				      p->s->actor[p->sec_idx].nr_ops;

	if (nr + n > SCN_MAX_OPS)
		return scn_err_tok(p, 0, "too many ops in %s %d (at most %d)",
				   p->sec == SEC_VCPU ? "vcpu" : "actor", p->sec_idx, SCN_MAX_OPS);
	return 0;
}

static struct guest_op *scn_gop(struct scn_parser *p, u8 kind)
{
	struct guest_program *prog = &p->s->vcpu[p->sec_idx];
	struct guest_op *op = &prog->ops[prog->nr_ops++];

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->len = 4;
	return op;
}

/* APIC register token i: a name from lapic_reg_name() or an offset 0..0xfff. */
static int scn_apic_reg(struct scn_parser *p, int i, u16 *off)
{
	int r = lapic_reg_parse(p->tok[i]);
	u64 v = 0;
	int ret;

	if (r >= 0) {
		*off = (u16)r;
		return 0;
	}
	if (!(p->tok[i][0] >= '0' && p->tok[i][0] <= '9'))
		return scn_err_tok(p, i,
				   "unknown APIC register '%.*s%s' (a name such as TPR or an offset such as 0x80)",
				   TQ(p->tok[i]));
	ret = scn_num(p, i, 0, SCN_APIC_PAGE_SIZE - 1, "APIC offset", &v);
	if (ret)
		return ret;
	*off = (u16)v;
	return 0;
}

/*
 * The page vCPU program prog's APIC is at before its op 'upto', as the guest
 * set it: the base of its last 'apic-base' before that op, else the default.
 */
u64 scenario_apic_base(const struct guest_program *prog, int upto)
{
	for (int i = upto - 1; i >= 0; i--)
		if (prog->ops[i].kind == GOP_APIC_BASE)
			return prog->ops[i].gpa;
	return APIC_DEFAULT_PHYS_BASE;
}

/*
 * An APIC base at token i: a page-aligned guest-physical address below
 * 4 GiB and outside RAM (the model's guests keep RAM and the APIC apart).
 */
static int scn_apic_page(struct scn_parser *p, int i, u64 *base)
{
	u64 ram = (u64)p->s->ram_pages * PAGE_SIZE;
	int ret = scn_num(p, i, 0, 0xffffffffull, "APIC base", base);

	if (ret)
		return ret;
	if (*base & (PAGE_SIZE - 1))
		return scn_err_tok(p, i, "APIC base 0x%llx is not 4 KiB aligned", (unsigned long long)*base);
	if (*base < ram)
		return scn_err_tok(p, i, "APIC base 0x%llx is inside RAM (ram-pages %d: 0x0..0x%llx)",
				   (unsigned long long)*base, p->s->ram_pages, (unsigned long long)ram - 1);
	return 0;
}

/*
 * Optional "len 1|2|4" and "at BASE", in either order, from token i on; the
 * access must stay inside the APIC page.  *page: the page the access goes
 * to, by default the one this vCPU's program last moved its APIC to.
 */
static int scn_apic_opts(struct scn_parser *p, int i, u16 off, u8 *len, u64 *page)
{
	bool seen_len = false, seen_at = false;
	u64 v = 0;
	int ret;

	*len = 4;
	*page = scenario_apic_base(&p->s->vcpu[p->sec_idx], p->s->vcpu[p->sec_idx].nr_ops);
	for (; i < p->ntok; i += 2) {
		bool is_len = !strcmp(p->tok[i], "len"), is_at = !strcmp(p->tok[i], "at");

		if ((!is_len && !is_at) || (is_len && seen_len) || (is_at && seen_at))
			return scn_err_tok(p, i, "unexpected '%.*s%s' (expected 'len 1|2|4' or 'at BASE')",
					   TQ(p->tok[i]));
		if (p->ntok == i + 1)
			return scn_err(p, p->line, p->col[i] + (int)strlen(p->tok[i]),
				       "missing argument: usage: %s", is_len ? "len 1|2|4" : "at BASE");
		if (is_at) {
			seen_at = true;
			ret = scn_apic_page(p, i + 1, page);
			if (ret)
				return ret;
			continue;
		}
		seen_len = true;
		ret = scn_num(p, i + 1, 1, 4, "len", &v);
		if (ret)
			return ret;
		if (v == 3)
			return scn_err_tok(p, i + 1, "len must be 1, 2 or 4");
		*len = (u8)v;
	}
	if (off + *len > SCN_APIC_PAGE_SIZE)
		return scn_err_tok(p, 1,
				   "APIC access at 0x%x of %u bytes crosses the end of the APIC page",
				   off, *len);
	return 0;
}

static int scn_op_apic_read(struct scn_parser *p)
{
	struct guest_op *op;
	int ret;
	u16 off = 0;
	u8 len = 4;
	u64 page = 0;

	if (p->ntok < 2)
		return scn_want_args(p, 2, "apic-read REG [len 1|2|4] [at BASE]");
	ret = scn_room(p, 1);
	if (!ret)
		ret = scn_apic_reg(p, 1, &off);
	if (!ret)
		ret = scn_apic_opts(p, 2, off, &len, &page);
	if (ret)
		return ret;
	op = scn_gop(p, GOP_APIC_READ);
	op->off = off;
	op->len = len;
	op->gpa = page + off;
	return 0;
}

static int scn_op_apic_write(struct scn_parser *p)
{
	struct guest_op *op;
	int ret;
	u16 off = 0;
	u64 v = 0, page = 0;
	u8 len = 4;

	if (p->ntok < 3)
		return scn_want_args(p, 3, "apic-write REG VALUE [len 1|2|4] [at BASE]");
	ret = scn_room(p, 1);
	if (!ret)
		ret = scn_apic_reg(p, 1, &off);
	if (!ret)
		ret = scn_apic_opts(p, 3, off, &len, &page);
	if (!ret)
		ret = scn_num(p, 2, 0, (1ull << (8 * len)) - 1, "value", &v);
	if (ret)
		return ret;
	op = scn_gop(p, GOP_APIC_WRITE);
	op->off = off;
	op->len = len;
	op->val = (u32)v;
	op->gpa = page + off;
	return 0;
}

/* A 4-byte write at the page this vCPU's program last moved its APIC to. */
static void scn_apic_write(struct scn_parser *p, u16 off, u32 val)
{
	u64 page = scenario_apic_base(&p->s->vcpu[p->sec_idx], p->s->vcpu[p->sec_idx].nr_ops);
	struct guest_op *op = scn_gop(p, GOP_APIC_WRITE);

	op->off = off;
	op->val = val;
	op->gpa = page + off;
}

static int scn_op_eoi(struct scn_parser *p)
{
	int ret;

	ret = scn_want_end(p, 1);
	if (!ret)
		ret = scn_room(p, 1);
	if (ret)
		return ret;
	scn_apic_write(p, APIC_EOI, 0);
	return 0;
}

static int scn_op_ipi(struct scn_parser *p)
{
	u64 dest = 0, vec = 0;
	int ret;

	ret = scn_want_args(p, 3, "ipi DEST VECTOR");
	if (!ret)
		ret = scn_room(p, 2);
	if (!ret)
		ret = scn_num(p, 1, 0, 255, "destination APIC ID", &dest);
	if (!ret)
		ret = scn_num(p, 2, SCN_ICR_VECTOR_MIN, 255, "vector", &vec);
	if (ret)
		return ret;
	/* Fixed delivery, physical destination mode, no shorthand. */
	scn_apic_write(p, APIC_ICR2, (u32)dest << SCN_ICR_DEST_SHIFT);
	scn_apic_write(p, APIC_ICR, (u32)vec | APIC_DM_FIXED | APIC_DEST_PHYSICAL);
	return 0;
}

static int scn_op_self_ipi(struct scn_parser *p)
{
	int ret;
	u64 vec = 0;

	ret = scn_want_args(p, 2, "self-ipi VECTOR");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, SCN_ICR_VECTOR_MIN, 255, "vector", &vec);
	if (ret)
		return ret;
	scn_apic_write(p, APIC_ICR, (u32)vec | APIC_DEST_SELF);
	return 0;
}

static int scn_gpa(struct scn_parser *p, int i, u64 *gpa)
{
	u64 ram = (u64)p->s->ram_pages * PAGE_SIZE;
	int ret;

	ret = scn_num(p, i, 0, UINT64_MAX, "gpa", gpa);
	if (ret)
		return ret;
	if (*gpa >= ram)
		return scn_err_tok(p, i, "gpa '%.*s%s' is outside RAM (ram-pages %d: 0x0..0x%llx)",
				   TQ(p->tok[i]), p->s->ram_pages, (unsigned long long)ram - 1);
	if (*gpa & 3)
		return scn_err_tok(p, i, "gpa 0x%llx is not 4-byte aligned",
				   (unsigned long long)*gpa);
	return 0;
}

static int scn_op_mem_read(struct scn_parser *p)
{
	struct guest_op *op;
	int ret;
	u64 gpa = 0;

	ret = scn_want_args(p, 2, "mem-read GPA");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_gpa(p, 1, &gpa);
	if (ret)
		return ret;
	op = scn_gop(p, GOP_MEM_READ);
	op->gpa = gpa;
	return 0;
}

/* 'mem-write GPA VALUE' and 'wait-mem GPA VALUE'. */
static int scn_op_mem_gpa_value(struct scn_parser *p, u8 kind, const char *usage)
{
	struct guest_op *op;
	int ret;
	u64 gpa = 0, v = 0;

	ret = scn_want_args(p, 3, usage);
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_gpa(p, 1, &gpa);
	if (!ret)
		ret = scn_num(p, 2, 0, 0xffffffffull, "value", &v);
	if (ret)
		return ret;
	op = scn_gop(p, kind);
	op->gpa = gpa;
	op->val = (u32)v;
	return 0;
}

static int scn_op_mem_write(struct scn_parser *p)
{
	return scn_op_mem_gpa_value(p, GOP_MEM_WRITE, "mem-write GPA VALUE");
}

static int scn_op_wait_mem(struct scn_parser *p)
{
	return scn_op_mem_gpa_value(p, GOP_WAIT_MEM, "wait-mem GPA VALUE");
}

/* An op with no operand: 'hlt', 'cr8-read'. */
static int scn_op_bare(struct scn_parser *p, u8 kind)
{
	int ret;

	ret = scn_want_end(p, 1);
	if (!ret)
		ret = scn_room(p, 1);
	if (ret)
		return ret;
	scn_gop(p, kind)->len = 0;
	return 0;
}

/* An op with one number in [min, max]: 'wait-irq N', 'cr8-write VALUE'. */
static int scn_op_number(struct scn_parser *p, u8 kind, const char *usage, u64 min, u64 max,
			 const char *what)
{
	struct guest_op *op;
	int ret;
	u64 n = 0;

	ret = scn_want_args(p, 2, usage);
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, min, max, what, &n);
	if (ret)
		return ret;
	op = scn_gop(p, kind);
	op->len = 0;
	op->val = (u32)n;
	return 0;
}

static int scn_op_cr8_write(struct scn_parser *p)
{
	return scn_op_number(p, GOP_CR8_WRITE, "cr8-write VALUE", 0, 15, "CR8 value");
}

static int scn_op_cr8_read(struct scn_parser *p)
{
	return scn_op_bare(p, GOP_CR8_READ);
}

static int scn_op_cli(struct scn_parser *p)
{
	return scn_op_bare(p, GOP_CLI);
}

static int scn_op_sti(struct scn_parser *p)
{
	return scn_op_bare(p, GOP_STI);
}

static int scn_op_hlt(struct scn_parser *p)
{
	return scn_op_bare(p, GOP_HLT);
}

static int scn_op_wait_irq(struct scn_parser *p)
{
	return scn_op_number(p, GOP_WAIT_IRQ, "wait-irq N", 1, 255, "interrupt count");
}

/* The words of 'apic-base MODE', indexed like their IA32_APIC_BASE bits (enum lapic_mode). */
static const struct { const char *word; u32 mode; } apic_base_modes[] = {
	{ "disable", LAPIC_MODE_DISABLED }, { "enable", LAPIC_MODE_XAPIC }, { "x2apic", LAPIC_MODE_X2APIC },
};

/*
 * 'apic-base enable|disable|x2apic [at BASE]': IA32_APIC_BASE's EN and EXTD
 * bits, and its base (by default the one the program set last).
 */
static int scn_op_apic_base(struct scn_parser *p)
{
	struct guest_op *op;
	u64 base = scenario_apic_base(&p->s->vcpu[p->sec_idx], p->s->vcpu[p->sec_idx].nr_ops);
	int ret = 0;

	if (p->ntok < 2)
		return scn_want_args(p, 2, "apic-base enable|disable|x2apic [at BASE]");
	if (p->ntok > 2 && strcmp(p->tok[2], "at"))
		return scn_err_tok(p, 2, "unexpected '%.*s%s' (expected 'at BASE')", TQ(p->tok[2]));
	if (p->ntok == 3)
		return scn_err(p, p->line, p->col[2] + 2, "missing argument: usage: at BASE");
	if (p->ntok > 3) {
		ret = scn_want_end(p, 4);
		if (!ret)
			ret = scn_apic_page(p, 3, &base);
	}
	if (!ret)
		ret = scn_room(p, 1);
	if (ret)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(apic_base_modes); i++)
		if (!strcmp(p->tok[1], apic_base_modes[i].word)) {
			op = scn_gop(p, GOP_APIC_BASE);
			op->len = 0;
			op->val = apic_base_modes[i].mode;
			op->gpa = base;
			return 0;
		}
	return scn_err_tok(p, 1, "apic-base: expected enable, disable or x2apic, got '%.*s%s'", TQ(p->tok[1]));
}

/* ---- actor ops -------------------------------------------------------------------- */

static struct actor_op *scn_aop(struct scn_parser *p, u8 kind)
{
	struct actor_script *a = &p->s->actor[p->sec_idx];
	struct actor_op *op = &a->ops[a->nr_ops++];

	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static int scn_reason(struct scn_parser *p, int i, u8 *reason)
{
	char known[128];
	size_t n = 0;
	int r = kvm_inhibit_parse(p->tok[i]);

	if (r >= 0) {
		*reason = (u8)r;
		return 0;
	}
	known[0] = '\0';
	for (int k = 0; k < APICV_NR_INHIBITS && n < sizeof(known); k++) {
		int w = snprintf(known + n, sizeof(known) - n, "%s%s", k ? ", " : "",
				 kvm_inhibit_name(k));
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return scn_err_tok(p, i, "unknown inhibit reason '%.*s%s' (%s)", TQ(p->tok[i]), known);
}

static int scn_op_inhibit(struct scn_parser *p)
{
	bool set = !strcmp(p->tok[0], "inhibit-set");
	int ret;
	u8 reason = 0;

	ret = scn_want_args(p, 2, set ? "inhibit-set REASON" : "inhibit-clear REASON");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_reason(p, 1, &reason);
	if (ret)
		return ret;
	scn_aop(p, set ? AOP_INHIBIT_SET : AOP_INHIBIT_CLEAR)->reason = reason;
	return 0;
}

static int scn_op_toggle(struct scn_parser *p)
{
	int room = SCN_MAX_OPS - p->s->actor[p->sec_idx].nr_ops;
	u8 reason = 0;
	int ret;
	u64 n = 0;

	ret = scn_want_args(p, 3, "toggle REASON N");
	if (!ret)
		ret = scn_reason(p, 1, &reason);
	if (!ret)
		ret = scn_num(p, 2, 1, SCN_MAX_OPS, "toggle count", &n);
	if (ret)
		return ret;
	if ((int)n > room)
		return scn_err_tok(p, 2,
				   "too many ops in actor %d: toggle needs %d, only %d left (at most %d)",
				   p->sec_idx, (int)n, room, SCN_MAX_OPS);
	for (u64 k = 0; k < n; k++)
		scn_aop(p, k % 2 ? AOP_INHIBIT_CLEAR : AOP_INHIBIT_SET)->reason = reason;
	return 0;
}

static int scn_zap(struct scn_parser *p, gfn_t start, gfn_t end)
{
	struct actor_op *op = scn_aop(p, AOP_ZAP);

	op->gfn_start = start;
	op->gfn_end = end;
	return 0;
}

static int scn_op_zap(struct scn_parser *p)
{
	u64 start = 0, end = 0;
	int ret;

	ret = scn_want_args(p, 3, "zap GFN_START GFN_END");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, 0, SCN_MAX_GFN - 1, "gfn_start", &start);
	if (!ret)
		ret = scn_num(p, 2, 0, SCN_MAX_GFN, "gfn_end", &end);
	if (ret)
		return ret;
	if (end <= start)
		return scn_err_tok(p, 2, "empty zap range: gfn_end 0x%llx <= gfn_start 0x%llx",
				   (unsigned long long)end, (unsigned long long)start);
	return scn_zap(p, start, end);
}

static int scn_op_zap_apic(struct scn_parser *p)
{
	int ret;

	ret = scn_want_end(p, 1);
	if (!ret)
		ret = scn_room(p, 1);
	if (ret)
		return ret;
	return scn_zap(p, APIC_ACCESS_GFN, APIC_ACCESS_GFN + 1);
}

static int scn_op_create_vcpu(struct scn_parser *p)
{
	struct scenario *s = p->s;
	int ret;
	u64 v = 0;

	ret = scn_want_args(p, 2, "create-vcpu I");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, 0, (u64)s->nr_vcpus - 1, "vCPU index", &v);
	if (ret)
		return ret;
	if ((int)v < s->nr_initial_vcpus)
		return scn_err_tok(p, 1,
				   "create-vcpu %d: vCPU %d exists from the start (initial-vcpus %d)",
				   (int)v, (int)v, s->nr_initial_vcpus);
	if (p->pos_create[v].col)
		return scn_err_tok(p, 1, "vCPU %d is already created at line %ld", (int)v,
				   p->pos_create[v].line);
	p->pos_create[v].line = p->line;
	p->pos_create[v].col = p->col[0];
	scn_aop(p, AOP_CREATE_VCPU)->vcpu = (u16)v;
	return 0;
}

static int scn_op_msi(struct scn_parser *p)
{
	struct actor_op *op;
	int ret;
	u64 dest = 0, vec = 0;

	ret = scn_want_args(p, 3, "msi DEST VECTOR");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, 0, 254, "destination APIC ID", &dest);
	if (!ret)
		ret = scn_num(p, 2, SCN_ICR_VECTOR_MIN, 255, "vector", &vec);
	if (ret)
		return ret;
	op = scn_aop(p, AOP_MSI);
	op->vcpu = (u16)dest;
	op->vector = (u8)vec;
	return 0;
}

/* 'pic-irq IRQ': an edge on the in-kernel PIC's line IRQ (the master's 0..7). */
static int scn_op_pic_irq(struct scn_parser *p)
{
	int ret;
	u64 irq = 0;

	ret = scn_want_args(p, 2, "pic-irq IRQ");
	if (!ret)
		ret = scn_room(p, 1);
	if (!ret)
		ret = scn_num(p, 1, 0, 7, "PIC line (the master's 0..7)", &irq);
	if (ret)
		return ret;
	scn_aop(p, AOP_PIC_IRQ)->vector = (u8)irq;
	return 0;
}

/* ---- directives ------------------------------------------------------------------- */

struct scn_directive {
	const char *kw;
	enum scn_section where;	/* SEC_HEADER: header only; else: ops of that section */
	int (*fn)(struct scn_parser *p);
};

/* ---- the expect section ------------------------------------------------------------ */

/* 'expect' or 'expect:': the final-state assertions. */
static int scn_sec_expect(struct scn_parser *p)
{
	int ret;

	if (p->sec == SEC_HEADER) {
		ret = scn_end_header(p, p->line, p->col[0], " before the first section");
		if (ret)
			return ret;
	}
	if (!strcmp(p->tok[0], "expect:") || (p->ntok > 1 && !strcmp(p->tok[1], ":")))
		ret = scn_want_end(p, !strcmp(p->tok[0], "expect:") ? 1 : 2);
	else
		ret = scn_want_end(p, 1);
	if (ret)
		return ret;
	if (p->pos_expect_sec.col)
		return scn_err_tok(p, 0, "duplicate section 'expect' (first at line %ld)",
				   p->pos_expect_sec.line);
	p->pos_expect_sec.line = p->line;
	p->pos_expect_sec.col = p->col[0];
	p->sec = SEC_EXPECT;
	p->sec_idx = 0;
	return 0;
}

/* A new assertion about vCPU token 1, after 'want' tokens in all. */
static int scn_expect(struct scn_parser *p, int want, const char *usage, u8 kind,
		      struct scn_expect **out)
{
	u64 v = 0;
	int ret = scn_want_args(p, want, usage);

	if (!ret && p->s->nr_expect >= SCN_MAX_EXPECT)
		ret = scn_err_tok(p, 0, "too many expectations (at most %d)", SCN_MAX_EXPECT);
	if (!ret)
		ret = scn_num(p, 1, 0, (u64)p->s->nr_vcpus - 1, "vCPU index", &v);
	if (ret)
		return ret;
	*out = &p->s->expect[p->s->nr_expect++];
	memset(*out, 0, sizeof(**out));
	(*out)->kind = kind;
	(*out)->vcpu = (u8)v;
	return 0;
}

static int scn_exp_irqs(struct scn_parser *p)
{
	struct scn_expect *e;
	u64 n = 0;
	int ret = scn_expect(p, 3, "irqs V N", EXP_IRQS, &e);

	if (ret)
		return ret;
	ret = scn_num(p, 2, 0, 255, "interrupt count", &n);
	if (ret) {
		p->s->nr_expect--;
		return ret;
	}
	e->val = (u32)n;
	return 0;
}

static int scn_exp_reg(struct scn_parser *p)
{
	struct scn_expect *e;
	u64 v = 0;
	u16 off = 0;
	int ret = scn_expect(p, 4, "reg V REG VALUE", EXP_REG, &e);

	if (ret)
		return ret;
	ret = scn_apic_reg(p, 2, &off);
	if (!ret && (off & 0xf))
		ret = scn_err_tok(p, 2, "register offset 0x%x is not 16-byte aligned (expect compares 32-bit registers)", off);
	if (!ret)
		ret = scn_num(p, 3, 0, 0xffffffffull, "register value", &v);
	if (ret) {
		p->s->nr_expect--;
		return ret;
	}
	e->off = off;
	e->val = (u32)v;
	return 0;
}

static int scn_exp_apicv(struct scn_parser *p)
{
	struct scn_expect *e;
	int ret = scn_expect(p, 3, "apicv V on|off", EXP_APICV, &e);

	if (ret)
		return ret;
	if (strcmp(p->tok[2], "on") && strcmp(p->tok[2], "off")) {
		p->s->nr_expect--;
		return scn_err_tok(p, 2, "apicv: expected 'on' or 'off', not '%.*s%s'", TQ(p->tok[2]));
	}
	e->val = !strcmp(p->tok[2], "on");
	return 0;
}

/*
 * 'inhibits none' or 'inhibits REASON...' (up to SCN_LINE_TOKS - 2 reasons): the VM's
 * APICv inhibit reasons at the end, exactly.
 */
static int scn_exp_inhibits(struct scn_parser *p)
{
	struct scn_expect *e;
	u32 mask = 0;
	int ret;

	if (p->ntok < 2)
		return scn_want_args(p, 2, "inhibits none|REASON...");
	ret = scn_want_end(p, SCN_LINE_TOKS - 1);
	if (ret)
		return ret;
	if (p->s->nr_expect >= SCN_MAX_EXPECT)
		return scn_err_tok(p, 0, "too many expectations (at most %d)", SCN_MAX_EXPECT);
	if (!strcmp(p->tok[1], "none")) {
		ret = scn_want_end(p, 2);
	} else {
		for (int i = 1; !ret && i < p->ntok; i++) {
			u8 r = 0;

			ret = scn_reason(p, i, &r);
			if (!ret && (mask & BIT(r)))
				ret = scn_err_tok(p, i, "inhibit reason '%s' given twice", p->tok[i]);
			mask |= BIT(r);
		}
	}
	if (ret)
		return ret;
	e = &p->s->expect[p->s->nr_expect++];
	memset(e, 0, sizeof(*e));
	e->kind = EXP_INHIBITS;
	e->val = mask;
	return 0;
}

static const struct scn_directive scn_directives[] = {
	{ "name",		SEC_HEADER,	scn_hdr_name },
	{ "vcpus",		SEC_HEADER,	scn_hdr_vcpus },
	{ "initial-vcpus",	SEC_HEADER,	scn_hdr_initial_vcpus },
	{ "vendor",		SEC_HEADER,	scn_hdr_vendor },
	{ "policy",		SEC_HEADER,	scn_hdr_policy },
	{ "bug",		SEC_HEADER,	scn_hdr_bug },
	{ "ram-pages",		SEC_HEADER,	scn_hdr_ram_pages },
	{ "zap-yield",		SEC_HEADER,	scn_hdr_zap_yield },
	{ "x2avic",		SEC_HEADER,	scn_hdr_x2avic },
	{ "apic-enabled",	SEC_HEADER,	scn_hdr_apic_enabled },
	{ "preempt",		SEC_HEADER,	scn_hdr_preempt },
	{ "apic-read",		SEC_VCPU,	scn_op_apic_read },
	{ "apic-write",		SEC_VCPU,	scn_op_apic_write },
	{ "eoi",		SEC_VCPU,	scn_op_eoi },
	{ "ipi",		SEC_VCPU,	scn_op_ipi },
	{ "self-ipi",		SEC_VCPU,	scn_op_self_ipi },
	{ "mem-read",		SEC_VCPU,	scn_op_mem_read },
	{ "mem-write",		SEC_VCPU,	scn_op_mem_write },
	{ "hlt",		SEC_VCPU,	scn_op_hlt },
	{ "wait-irq",		SEC_VCPU,	scn_op_wait_irq },
	{ "apic-base",		SEC_VCPU,	scn_op_apic_base },
	{ "wait-mem",		SEC_VCPU,	scn_op_wait_mem },
	{ "cr8-write",		SEC_VCPU,	scn_op_cr8_write },
	{ "cr8-read",		SEC_VCPU,	scn_op_cr8_read },
	{ "cli",		SEC_VCPU,	scn_op_cli },
	{ "sti",		SEC_VCPU,	scn_op_sti },
	{ "inhibit-set",	SEC_ACTOR,	scn_op_inhibit },
	{ "inhibit-clear",	SEC_ACTOR,	scn_op_inhibit },
	{ "toggle",		SEC_ACTOR,	scn_op_toggle },
	{ "zap",		SEC_ACTOR,	scn_op_zap },
	{ "zap-apic",		SEC_ACTOR,	scn_op_zap_apic },
	{ "create-vcpu",	SEC_ACTOR,	scn_op_create_vcpu },
	{ "msi",		SEC_ACTOR,	scn_op_msi },
	{ "pic-irq",		SEC_ACTOR,	scn_op_pic_irq },
	{ "irqs",		SEC_EXPECT,	scn_exp_irqs },
	{ "reg",		SEC_EXPECT,	scn_exp_reg },
	{ "apicv",		SEC_EXPECT,	scn_exp_apicv },
	{ "inhibits",		SEC_EXPECT,	scn_exp_inhibits },
};

static const char *scn_section_name(enum scn_section sec)
{
	return sec == SEC_VCPU ? "vcpu" : sec == SEC_ACTOR ? "actor" : "expect";
}

static int scn_line(struct scn_parser *p)
{
	const struct scn_directive *d = NULL;
	const char *kw = p->tok[0];

	if (!strcmp(kw, "vcpu"))
		return scn_sec_vcpu(p);
	if (!strcmp(kw, "actor"))
		return scn_sec_actor(p);
	if (!strcmp(kw, "expect") || !strcmp(kw, "expect:"))
		return scn_sec_expect(p);
	for (size_t i = 0; i < ARRAY_SIZE(scn_directives); i++) {
		if (!strcmp(scn_directives[i].kw, kw)) {
			d = &scn_directives[i];
			break;
		}
	}
	if (!d)
		return scn_err_tok(p, 0, "unknown keyword '%.*s%s'", TQ(kw));
	if (d->where == SEC_HEADER && p->sec != SEC_HEADER)
		return scn_err_tok(p, 0,
				   "'%s' must come before the first 'vcpu' or 'actor' section", kw);
	if (d->where != SEC_HEADER && d->where != p->sec) {
		const char *want = d->where == SEC_VCPU ? "vcpu ops go after a 'vcpu I' line" :
				   d->where == SEC_ACTOR ? "actor ops go after an 'actor I' line" :
							   "expectations go after an 'expect' line";

		if (p->sec == SEC_HEADER)
			return scn_err_tok(p, 0, "'%s' outside a section (%s)", kw, want);
		if (p->sec == SEC_EXPECT)
			return scn_err_tok(p, 0, "'%s' is not allowed in expect (%s)", kw, want);
		return scn_err_tok(p, 0, "'%s' is not allowed in %s %d (%s)", kw,
				   scn_section_name(p->sec), p->sec_idx, want);
	}
	return d->fn(p);
}

/* After the last line: every late vCPU must be created by an actor. */
static int scn_end(struct scn_parser *p)
{
	struct scenario *s = p->s;
	long line = p->line > 0 ? p->line : 1;
	int ret;

	if (p->sec == SEC_HEADER) {
		ret = scn_end_header(p, line, 1, "");
		if (ret)
			return ret;
	}
	for (int v = s->nr_initial_vcpus; v < s->nr_vcpus; v++)
		if (!p->pos_create[v].col)
			return scn_err(p, p->pos_initial.line, p->pos_initial.col,
				       "vCPU %d is never created: initial-vcpus %d needs a 'create-vcpu %d' actor op",
				       v, s->nr_initial_vcpus, v);
	return 0;
}

static void scn_init(struct scenario *s, const char *file)
{
	memset(s, 0, sizeof(*s));
	scn_default_name(s->name, file);
	s->vendor = -1;
	s->policy = -1;
	s->ram_pages = SCN_DEFAULT_RAM_PAGES;
}

static int scn_parse(struct scn_parser *p, struct scenario *out)
{
	struct scenario s;
	int ret;

	scn_init(&s, p->file);
	p->s = &s;
	p->sec = SEC_HEADER;
	while ((ret = scn_read_line(p)) > 0) {
		if (!p->ntok)
			continue;
		ret = scn_line(p);
		if (ret)
			return ret;
	}
	if (!ret)
		ret = scn_end(p);
	if (!ret)
		*out = s;
	return ret;
}

/* The entry points' common start: p names its input (have_input says whether there is one). */
static int scn_parse_input(struct scn_parser *p, bool have_input, struct scenario *s)
{
	if (p->err && p->errlen)
		p->err[0] = '\0';
	if (!have_input || !s)
		return scn_err(p, 0, 0, "no scenario text");
	errno = 0;
	return scn_parse(p, s);
}

int scenario_parse_string(const char *name, const char *text, struct scenario *s,
			  char *err, size_t errlen)
{
	struct scn_parser p = {
		.file = name ? name : "<string>",
		.str = text,
		.err = err,
		.errlen = errlen,
	};

	return scn_parse_input(&p, text, s);
}

int scenario_fopen(const char *path, FILE **out)
{
	struct stat st;
	int fd, flags, e;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		e = errno;
		goto out_close;
	}
	if (S_ISDIR(st.st_mode)) {
		e = EISDIR;
		goto out_close;
	}
	/*
	 * Opened without waiting for a FIFO's writer; reads block again, and a
	 * FIFO with no writer reads as empty instead of hanging.
	 */
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		e = errno;
		goto out_close;
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		e = errno;
		goto out_close;
	}
	return 0;
out_close:
	close(fd);
	return -e;
}

int scenario_parse_stream(const char *name, FILE *f, long lines_before, struct scenario *s,
			  char *err, size_t errlen)
{
	struct scn_parser p = {
		.file = name ? name : "<stream>",
		.f = f,
		.line = lines_before,
		.err = err,
		.errlen = errlen,
	};

	return scn_parse_input(&p, f, s);
}

int scenario_parse_file(const char *path, struct scenario *s, char *err, size_t errlen)
{
	struct scn_parser p = {
		.file = path ? path : "<null>",
		.err = err,
		.errlen = errlen,
	};
	FILE *f;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !s)
		return scn_err(&p, 0, 0, "cannot open: %s", strerror(EINVAL));
	ret = scenario_fopen(path, &f);
	if (ret)
		return scn_err(&p, 0, 0, "cannot open: %s", strerror(-ret));
	ret = scenario_parse_stream(path, f, 0, s, err, errlen);
	fclose(f);
	return ret;
}

/* ---- built-ins -------------------------------------------------------------------- */

#define GOP_APIC_R(reg)		{ .kind = GOP_APIC_READ, .len = 4, .off = (reg), .gpa = APIC_DEFAULT_PHYS_BASE + (reg) }
#define GOP_APIC_W(reg, v)	{ .kind = GOP_APIC_WRITE, .len = 4, .off = (reg), .val = (v), \
				  .gpa = APIC_DEFAULT_PHYS_BASE + (reg) }
#define GOP_MEM_R(a)		{ .kind = GOP_MEM_READ, .len = 4, .gpa = (a) }
#define GOP_MEM_W(a, v)		{ .kind = GOP_MEM_WRITE, .len = 4, .gpa = (a), .val = (v) }
#define GOP_WAIT(n)		{ .kind = GOP_WAIT_IRQ, .val = (n) }
#define GOP_APIC_BASE_SET(mode)	{ .kind = GOP_APIC_BASE, .val = (mode), .gpa = APIC_DEFAULT_PHYS_BASE }
/* The same at another page: an APIC base, an access 'at' a page. */
#define GOP_APIC_BASE_AT(mode, b) { .kind = GOP_APIC_BASE, .val = (mode), .gpa = (b) }
#define GOP_APIC_R_AT(reg, pg)	{ .kind = GOP_APIC_READ, .len = 4, .off = (reg), .gpa = (pg) + (reg) }
#define GOP_WAIT_MEM_EQ(g, v)	{ .kind = GOP_WAIT_MEM, .len = 4, .gpa = (g), .val = (v) }
#define GOP_CR8_W(v)		{ .kind = GOP_CR8_WRITE, .val = (v) }
#define GOP_CR8_R		{ .kind = GOP_CR8_READ }
#define GOP_CLI_OP		{ .kind = GOP_CLI }
#define GOP_STI_OP		{ .kind = GOP_STI }
#define GOP_IPI(dest, vec)	GOP_APIC_W(APIC_ICR2, (u32)(dest) << SCN_ICR_DEST_SHIFT), \
				GOP_APIC_W(APIC_ICR, (vec) | APIC_DM_FIXED | APIC_DEST_PHYSICAL)
#define AOP_SET(r)		{ .kind = AOP_INHIBIT_SET, .reason = APICV_INHIBIT_REASON_##r }
#define AOP_CLEAR(r)		{ .kind = AOP_INHIBIT_CLEAR, .reason = APICV_INHIBIT_REASON_##r }
#define AOP_ZAP_RANGE(s, e)	{ .kind = AOP_ZAP, .gfn_start = (s), .gfn_end = (e) }
#define AOP_CREATE(v)		{ .kind = AOP_CREATE_VCPU, .vcpu = (v) }
#define AOP_SEND_MSI(d, v)	{ .kind = AOP_MSI, .vcpu = (d), .vector = (v) }
#define AOP_PIC(irq)		{ .kind = AOP_PIC_IRQ, .vector = (irq) }
#define PROG(...)		{ .nr_ops = ARRAY_SIZE(((struct guest_op[]){ __VA_ARGS__ })), \
				  .ops = { __VA_ARGS__ } }
#define SCRIPT(...)		{ .nr_ops = ARRAY_SIZE(((struct actor_op[]){ __VA_ARGS__ })), \
				  .ops = { __VA_ARGS__ } }
#define SCN_DEFAULTS		.vendor = -1, .policy = -1, .ram_pages = SCN_DEFAULT_RAM_PAGES
#define EXP_IRQS_OF(v, n)	{ .kind = EXP_IRQS, .vcpu = (v), .val = (n) }
#define EXP_REG_OF(v, r, x)	{ .kind = EXP_REG, .vcpu = (v), .off = (r), .val = (x) }
#define EXPECTS(...)		.nr_expect = ARRAY_SIZE(((struct scn_expect[]){ __VA_ARGS__ })), \
				.expect = { __VA_ARGS__ }
/* vCPU 0 sends vector 0x40 to vCPU 1, which waits for it and EOIs it (ipi-hlt and its variants). */
#define IPI_WAIT_PROGS		{ PROG(GOP_IPI(1, 0x40)), PROG(GOP_WAIT(1), GOP_APIC_W(APIC_EOI, 0)) }
/* ... and what must hold after it: taken once, retired (vector 0x40 is in ISR2/IRR2). */
#define EXP_WAITED_0X40(v)	EXP_IRQS_OF(v, 1), EXP_REG_OF(v, APIC_ISR + 0x20, 0)

static const struct scenario scn_builtins[] = {
	{
		/* Must equal scenario_seed(s, 2, 3, 2) (tested). */
		.name = "seed",
		.description = "the seed patch's situation: each vCPU writes and reads TPR "
			       "while actor 0 toggles the hyperv inhibit (set, clear, set, ...)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_APIC_R(APIC_TASKPRI)),
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x20), GOP_APIC_R(APIC_TASKPRI)),
		},
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV), AOP_SET(HYPERV)) },
	},
	{
		.name = "zap-yield",
		.description = "a yielding zap of all RAM (as MTRR/CR0.CD changes do) races "
			       "with a fault on gfn 0 after gfn 3 is mapped; exposes "
			       "zap-yield-range-units (6d3085e4d89a)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS, .zap_yield = true,
		.vcpu = {
			PROG(GOP_MEM_W(0x3000, 1), GOP_MEM_W(0x0, 2), GOP_MEM_R(0x0)),
		},
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_ZAP_RANGE(0x0, 0x4)) },
	},
	{
		.name = "zap-tlb",
		.description = "the guest writes and reads a RAM page while a zap removes its SPTE: "
			       "the translation its CPU cached must be gone before the next access; "
			       "exposes zap-no-flush",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { PROG(GOP_MEM_W(0x0, 1), GOP_MEM_R(0x0), GOP_MEM_R(0x0)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_ZAP_RANGE(0x0, 0x1)) },
	},
	{
		.name = "apic-disable",
		.description = "the guest hardware-disables its APIC, reads the APIC page (plain "
			       "memory then), enables the APIC again and writes and reads TPR, "
			       "while the hyperv inhibit is set and cleared; exposes "
			       "avic-activate-no-flush (0ccf3e7cb95a)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { PROG(GOP_APIC_BASE_SET(LAPIC_MODE_DISABLED), GOP_APIC_R(APIC_TASKPRI),
			       GOP_APIC_BASE_SET(LAPIC_MODE_XAPIC),
			       GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_APIC_R(APIC_TASKPRI)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "apic-id",
		.description = "vCPU 1 changes its xAPIC ID from 1 to 3 and sets a flag in RAM; vCPU 0 "
			       "waits for the flag, then sends an IPI to ID 1 (nobody: dropped) and one "
			       "to ID 3 (vCPU 1); exposes apic-id-no-inhibit (3743c2f02517)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = {
			PROG(GOP_WAIT_MEM_EQ(0x0, 1), GOP_IPI(1, 0x40), GOP_IPI(3, 0x60)),
			PROG(GOP_APIC_W(APIC_ID, 0x03000000), GOP_MEM_W(0x0, 1), GOP_WAIT(1)),
		},
		EXPECTS(EXP_IRQS_OF(1, 1), EXP_REG_OF(1, APIC_IRR + 0x20, 0), EXP_REG_OF(1, APIC_ISR + 0x20, 0)),
	},
	{
		.name = "apic-id-restore",
		.description = "the guest changes its xAPIC ID from 0 to 3, then back to 0, and reads "
			       "TPR, while the hyperv inhibit is set and cleared; in the end no inhibit "
			       "may remain; exposes apic-id-inhibit-sticky (d471bd853d38)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { PROG(GOP_APIC_W(APIC_ID, 0x03000000), GOP_APIC_W(APIC_ID, 0),
			       GOP_APIC_R(APIC_TASKPRI)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
		EXPECTS({ .kind = EXP_INHIBITS, .val = 0 }),
	},
	{
		.name = "apic-relocate",
		.description = "vCPU 0 writes TPR, moves its APIC from 0xfee00000 to 0xfed00000, "
			       "reads TPR at the old base (no APIC is there any more: all ones) and "
			       "at the new one; vCPU 1 keeps its APIC at 0xfee00000 and writes and "
			       "reads TPR meanwhile; exposes apic-base-no-inhibit (3743c2f02517)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_APIC_BASE_AT(LAPIC_MODE_XAPIC, 0xfed00000),
			     GOP_APIC_R_AT(APIC_TASKPRI, APIC_DEFAULT_PHYS_BASE),
			     GOP_APIC_R_AT(APIC_TASKPRI, 0xfed00000)),
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x20), GOP_APIC_R(APIC_TASKPRI)),
		},
		EXPECTS(EXP_REG_OF(0, APIC_TASKPRI, 0x10), EXP_REG_OF(1, APIC_TASKPRI, 0x20),
			{ .kind = EXP_INHIBITS, .val = BIT(APICV_INHIBIT_REASON_APIC_BASE_MODIFIED) }),
	},
	{
		.name = "x2apic",
		.description = "the guest reads TPR through the xAPIC page, switches its APIC to "
			       "x2APIC mode (the xAPIC window closes) and writes and reads the page "
			       "again, while the hyperv inhibit is set and cleared; exposes "
			       "x2avic-no-flush (a9e18aa3263f)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { PROG(GOP_APIC_R(APIC_TASKPRI), GOP_APIC_BASE_SET(LAPIC_MODE_X2APIC),
			       GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_APIC_R(APIC_TASKPRI)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "x2apic-hybrid",
		.description = "an AVIC host without x2AVIC (\"hybrid\" AVIC).  vCPU 0 reads TPR "
			       "through the xAPIC page, switches its APIC to x2APIC mode and writes "
			       "TPR through the closed xAPIC window, then reads CR8; vCPU 1 stays in "
			       "xAPIC mode and uses its APIC page meanwhile; exposes x2apic-memslot "
			       "(2008fab34530)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, .vendor = KVM_VENDOR_SVM, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES, .no_x2avic = true,
		.vcpu = {
			PROG(GOP_APIC_R(APIC_TASKPRI), GOP_APIC_BASE_SET(LAPIC_MODE_X2APIC),
			     GOP_APIC_W(APIC_TASKPRI, 0x50), GOP_CR8_R),
			PROG(GOP_APIC_R(APIC_TASKPRI), GOP_APIC_W(APIC_TASKPRI, 0x20)),
		},
	},
	{
		.name = "cr8-intercept",
		.description = "the guest raises TPR to 0x50 and sends itself vector 0x40, which waits "
			       "behind it, then lowers CR8 to 0 and reads it back, while the hyperv "
			       "inhibit is set and cleared; exposes cr8-intercept-stuck (87d0f901a9bd), "
			       "with tpr-no-sync (d02e48830e3f) a stale CR8",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, .vendor = KVM_VENDOR_SVM, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES, .apic_enabled = true,
		.vcpu = { PROG(GOP_APIC_W(APIC_TASKPRI, 0x50), GOP_APIC_W(APIC_ICR, 0x40 | APIC_DEST_SELF),
			       GOP_CR8_W(0), GOP_CR8_R, GOP_WAIT(1), GOP_APIC_W(APIC_EOI, 0)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
		EXPECTS(EXP_IRQS_OF(0, 1)),
	},
	{
		.name = "tpr-threshold",
		.description = "VMX with APICv inhibited (hyperv) and the guest's APIC in x2APIC mode "
			       "(no APIC-access virtualization): the guest takes MSI vector 0x60 and "
			       "keeps it in service, raises CR8 to 7, reads RAM (where a kick can make it "
			       "exit), then lowers CR8 to 4 while MSI vector 0x50 waits behind the "
			       "in-service one; exposes tpr-threshold-stale (bb365a506b1e)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, .vendor = KVM_VENDOR_VMX, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES, .apic_enabled = true,
		.vcpu = { PROG(GOP_APIC_BASE_SET(LAPIC_MODE_X2APIC), GOP_WAIT(1), GOP_CR8_W(7), GOP_MEM_R(0),
			       GOP_CR8_W(4)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_SEND_MSI(0, 0x60), AOP_SEND_MSI(0, 0x50)) },
	},
	{
		.name = "tpr-sync",
		.description = "the guest writes TPR and reads CR8 while the hyperv inhibit is set "
			       "and cleared: a TPR write KVM emulates must reach V_TPR; exposes "
			       "tpr-no-sync (d02e48830e3f)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, .vendor = KVM_VENDOR_SVM, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES,
		.vcpu = { PROG(GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_CR8_R) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "create-race",
		.description = "vCPU 1 is created while the hyperv inhibit is being set; "
			       "exposes create-no-request (423ecfea77dd)",
		.nr_vcpus = 2, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_APIC_R(APIC_TASKPRI)),
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x20), GOP_APIC_R(APIC_TASKPRI)),
		},
		.nr_actors = 2,
		.actor = { SCRIPT(AOP_CREATE(1)), SCRIPT(AOP_SET(HYPERV)) },
	},
	{
		.name = "create-toggle",
		.description = "vCPU 1 is created while the hyperv inhibit is set and cleared again, "
			       "then writes and reads TPR; exposes avic-init-vm-state (3989a6d036c8)",
		.nr_vcpus = 2, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { [1] = PROG(GOP_APIC_W(APIC_TASKPRI, 0x20), GOP_APIC_R(APIC_TASKPRI)) },
		.nr_actors = 2,
		.actor = { SCRIPT(AOP_CREATE(1)), SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "reenable",
		.description = "APIC reads across setting and clearing the hyperv inhibit; exposes "
			       "apic-mmio-spte (an APIC access emulated while inhibited must not "
			       "leave an MMIO SPTE behind)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS,
		.vcpu = { PROG(GOP_APIC_R(APIC_LVR), GOP_APIC_R(APIC_LVR), GOP_APIC_R(APIC_LVR)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "ipi",
		.description = "a fixed physical IPI from vCPU 0 to vCPU 1, and an EOI, across "
			       "setting and clearing the hyperv inhibit",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS,
		.vcpu = {
			PROG(GOP_IPI(1, 0x40), GOP_APIC_R(APIC_TASKPRI)),
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x20), GOP_APIC_W(APIC_EOI, 0)),
		},
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "ipi-hlt",
		.description = "vCPU 1 waits for an interrupt (wait-irq) that vCPU 0 sends while "
			       "actor 0 sets the hyperv inhibit; exposes avic-deliver-race "
			       "(66fa226c131f), deactivate-no-event (bca66dbcd28a) and "
			       "irr-pending-search (755c2bf87860)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = IPI_WAIT_PROGS,
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV)) },
		EXPECTS(EXP_WAITED_0X40(1), EXP_REG_OF(1, APIC_IRR + 0x20, 0)),
	},
	{
		.name = "pi-hlt",
		.description = "ipi-hlt on VMX: vCPU 1 waits for the interrupt vCPU 0 posts while "
			       "actor 0 sets the hyperv inhibit; exposes pir-sync-inhibited "
			       "(37c4dbf337c5) and pir-no-event (7e1901f6c86c)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, .vendor = KVM_VENDOR_VMX, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES, .apic_enabled = true,
		.vcpu = IPI_WAIT_PROGS,
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV)) },
		EXPECTS(EXP_WAITED_0X40(1), EXP_REG_OF(1, APIC_IRR + 0x20, 0)),
	},
	{
		.name = "preempt-toggle",
		.description = "vCPU 0 reads TPR while actor 0 sets and clears the hyperv inhibit "
			       "and the vCPU thread may be preempted; exposes update-apicv-preempt "
			       "(66c768d30e64)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS, .preempt = KVM_PREEMPT_YES,
		.vcpu = { PROG(GOP_APIC_R(APIC_TASKPRI)) },
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)) },
	},
	{
		.name = "halt-ipi",
		.description = "vCPU 1 halts until vCPU 0's IPI arrives; exposes halt-no-mb under "
			       "--memory-model tso",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = IPI_WAIT_PROGS,
		EXPECTS(EXP_WAITED_0X40(1)),
	},
	{
		.name = "preempt-hlt",
		.description = "vCPU 1 halts until vCPU 0's IPI arrives and both vCPU threads may "
			       "be preempted; exposes blocking-preempt (18869f26df1a)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.preempt = KVM_PREEMPT_YES,
		.vcpu = IPI_WAIT_PROGS,
		EXPECTS(EXP_WAITED_0X40(1)),
	},
	{
		.name = "migrate-hlt",
		.description = "preempt-hlt where a preempted vCPU task may come back on another pCPU: "
			       "vcpu->cpu, the AVIC host APIC ID and the target of doorbells and kicks "
			       "change under the senders",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.preempt = KVM_PREEMPT_MIGRATE,
		.vcpu = IPI_WAIT_PROGS,
		EXPECTS(EXP_WAITED_0X40(1)),
	},
	{
		.name = "isr-cache",
		.description = "vCPU 0 sends itself vector 0x40 and EOIs it while actor 0 sets and "
			       "clears hyperv, then halts for the MSI (vector 0x30) actor 1 sends; "
			       "exposes isr-cache-stale (97a71c444a14)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_ICR, 0x40 | APIC_DEST_SELF), GOP_APIC_W(APIC_EOI, 0),
			     GOP_WAIT(2)),
		},
		.nr_actors = 2,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)), SCRIPT(AOP_SEND_MSI(0, 0x30)) },
		EXPECTS(EXP_IRQS_OF(0, 2)),
	},
	{
		.name = "svi",
		.description = "isr-cache on VMX: vCPU 0's EOI of a vector KVM injected while "
			       "hyperv was set runs once APICv is back; exposes svi-stale "
			       "(b2849bec936b)",
		.nr_vcpus = 1, .nr_initial_vcpus = 1, .vendor = KVM_VENDOR_VMX, .policy = -1,
		.ram_pages = SCN_DEFAULT_RAM_PAGES, .apic_enabled = true,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_ICR, 0x40 | APIC_DEST_SELF), GOP_APIC_W(APIC_EOI, 0),
			     GOP_WAIT(2)),
		},
		.nr_actors = 2,
		.actor = { SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)), SCRIPT(AOP_SEND_MSI(0, 0x30)) },
		EXPECTS(EXP_IRQS_OF(0, 2)),
	},
	{
		.name = "avic-broadcast",
		.description = "vCPU 0 sends a physical broadcast (destination 0xff) while vCPUs 1 "
			       "and 2 wait for it; exposes avic-kick-fast-index (603ccef42ce9)",
		.nr_vcpus = 3, .nr_initial_vcpus = 3, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = {
			PROG(GOP_IPI(0xff, 0x40)),
			PROG(GOP_WAIT(1), GOP_APIC_W(APIC_EOI, 0)),
			PROG(GOP_WAIT(1), GOP_APIC_W(APIC_EOI, 0)),
		},
		EXPECTS(EXP_IRQS_OF(1, 1), EXP_IRQS_OF(2, 1), EXP_REG_OF(1, APIC_ISR + 0x20, 0), EXP_REG_OF(2, APIC_ISR + 0x20, 0)),
	},
	{
		.name = "irq-window",
		.description = "vCPU 1 has interrupts off (cli) when an MSI (vector 0x40) arrives, "
			       "vCPU 0 when the PIC raises IRQ 0, an ExtINT for it, which it then waits "
			       "for: each needs an IRQ window, which on SVM inhibits AVIC; exposes "
			       "irqwin-no-refcount (6563ddadd169)",
		.nr_vcpus = 2, .nr_initial_vcpus = 2, SCN_DEFAULTS, .apic_enabled = true,
		.vcpu = {
			PROG(GOP_CLI_OP, GOP_STI_OP, GOP_WAIT(1)),
			PROG(GOP_CLI_OP, GOP_STI_OP),
		},
		.nr_actors = 1,
		.actor = { SCRIPT(AOP_SEND_MSI(1, 0x40), AOP_PIC(0)) },
		EXPECTS(EXP_IRQS_OF(0, 1)),
	},
	{
		.name = "mixed",
		.description = "3 vCPUs mix APIC and RAM accesses while actor 0 sets and clears "
			       "hyperv and actor 1 zaps RAM gfns 0-1",
		.nr_vcpus = 3, .nr_initial_vcpus = 3, SCN_DEFAULTS,
		.vcpu = {
			PROG(GOP_APIC_W(APIC_TASKPRI, 0x10), GOP_MEM_W(0x0, 1),
			     GOP_APIC_R(APIC_TASKPRI), GOP_MEM_R(0x1000)),
			PROG(GOP_MEM_W(0x1000, 2), GOP_APIC_W(APIC_TASKPRI, 0x20),
			     GOP_MEM_R(0x0), GOP_APIC_R(APIC_TASKPRI)),
			PROG(GOP_APIC_R(APIC_LVR), GOP_MEM_R(0x0),
			     GOP_APIC_W(APIC_TASKPRI, 0x30), GOP_APIC_R(APIC_TASKPRI)),
		},
		.nr_actors = 2,
		.actor = {
			SCRIPT(AOP_SET(HYPERV), AOP_CLEAR(HYPERV)),
			SCRIPT(AOP_ZAP_RANGE(0x0, 0x2)),
		},
	},
};

const struct scenario *scenario_builtin_at(int i)
{
	if (i < 0 || (size_t)i >= ARRAY_SIZE(scn_builtins))
		return NULL;
	return &scn_builtins[i];
}

const struct scenario *scenario_builtin(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(scn_builtins); i++)
		if (!strcmp(scn_builtins[i].name, name))
			return &scn_builtins[i];
	return NULL;
}

static int scn_clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void scenario_seed(struct scenario *s, int nr_vcpus, int toggles, int accesses)
{
	nr_vcpus = scn_clamp(nr_vcpus, 1, SCN_MAX_VCPUS);
	toggles = scn_clamp(toggles, 0, SCN_MAX_OPS);
	accesses = scn_clamp(accesses, 0, SCN_MAX_OPS);

	scn_init(s, "seed");
	s->description = scn_builtins[0].description;
	s->nr_vcpus = nr_vcpus;
	s->nr_initial_vcpus = nr_vcpus;
	for (int i = 0; i < nr_vcpus; i++) {
		struct guest_program *prog = &s->vcpu[i];

		for (int a = 0; a < accesses; a++) {
			struct guest_op *op = &prog->ops[prog->nr_ops++];

			op->len = 4;
			op->off = APIC_TASKPRI;
			op->gpa = APIC_DEFAULT_PHYS_BASE + APIC_TASKPRI;
			if (a % 2) {
				op->kind = GOP_APIC_READ;
			} else {
				op->kind = GOP_APIC_WRITE;
				op->val = 0x10 * (i + 1) + a / 2;
			}
		}
	}
	s->nr_actors = 1;
	for (int k = 0; k < toggles; k++) {
		struct actor_op *op = &s->actor[0].ops[s->actor[0].nr_ops++];

		op->kind = k % 2 ? AOP_INHIBIT_CLEAR : AOP_INHIBIT_SET;
		op->reason = APICV_INHIBIT_REASON_HYPERV;
	}
}

/* ---- printer ---------------------------------------------------------------------- */

static void scn_print_reg(FILE *f, u16 off)
{
	const char *name = lapic_reg_name(off);

	if (name)
		fprintf(f, "%s", name);
	else
		fprintf(f, "0x%x", off);
}

static bool scn_is_icr_write(const struct guest_op *op)
{
	return op->kind == GOP_APIC_WRITE && op->off == APIC_ICR && op->len == 4;
}

/* Prints guest op i (and i+1 for an 'ipi'); returns the number of ops printed. */
static int scn_print_gop(FILE *f, const struct guest_program *prog, int nr, int i)
{
	const struct guest_op *op = &prog->ops[i];
	const struct guest_op *next = i + 1 < nr ? &prog->ops[i + 1] : NULL;
	/* The page the guest's APIC is at: an access elsewhere says 'at'. */
	u64 page = scenario_apic_base(prog, i);
	bool here = op->gpa == page + op->off;

	switch (op->kind) {
	case GOP_APIC_READ:
		fprintf(f, "\tapic-read ");
		scn_print_reg(f, op->off);
		break;
	case GOP_APIC_WRITE:
		if (!here)
			goto apic_write;
		if (op->off == APIC_EOI && op->len == 4 && op->val == 0) {
			fprintf(f, "\teoi\n");
			return 1;
		}
		if (op->off == APIC_ICR2 && op->len == 4 && !(op->val & 0x00ffffff) &&
		    next && scn_is_icr_write(next) && next->gpa == page + APIC_ICR &&
		    next->val >= SCN_ICR_VECTOR_MIN && next->val <= 255) {
			fprintf(f, "\tipi %u 0x%x\n", op->val >> SCN_ICR_DEST_SHIFT, next->val);
			return 2;
		}
		if (scn_is_icr_write(op) && (op->val & ~0xffu) == APIC_DEST_SELF &&
		    (op->val & 0xff) >= SCN_ICR_VECTOR_MIN) {
			fprintf(f, "\tself-ipi 0x%x\n", op->val & 0xff);
			return 1;
		}
apic_write:
		fprintf(f, "\tapic-write ");
		scn_print_reg(f, op->off);
		fprintf(f, " 0x%x", op->val);
		break;
	case GOP_MEM_READ:
		fprintf(f, "\tmem-read 0x%llx\n", (unsigned long long)op->gpa);
		return 1;
	case GOP_MEM_WRITE:
		fprintf(f, "\tmem-write 0x%llx 0x%x\n", (unsigned long long)op->gpa, op->val);
		return 1;
	case GOP_HLT:
		fprintf(f, "\thlt\n");
		return 1;
	case GOP_WAIT_IRQ:
		fprintf(f, "\twait-irq %u\n", op->val);
		return 1;
	case GOP_APIC_BASE:
		for (size_t m = 0; m < ARRAY_SIZE(apic_base_modes); m++)
			if (op->val == apic_base_modes[m].mode) {
				fprintf(f, "\tapic-base %s", apic_base_modes[m].word);
				if (op->gpa != page)
					fprintf(f, " at 0x%llx", (unsigned long long)op->gpa);
				fprintf(f, "\n");
				return 1;
			}
		fprintf(f, "\tinvalid-apic-base 0x%x\n", op->val);
		return 1;
	case GOP_WAIT_MEM:
		fprintf(f, "\twait-mem 0x%llx 0x%x\n", (unsigned long long)op->gpa, op->val);
		return 1;
	case GOP_CR8_WRITE:
		fprintf(f, "\tcr8-write 0x%x\n", op->val);
		return 1;
	case GOP_CR8_READ:
		fprintf(f, "\tcr8-read\n");
		return 1;
	case GOP_CLI:
		fprintf(f, "\tcli\n");
		return 1;
	case GOP_STI:
		fprintf(f, "\tsti\n");
		return 1;
	default:
		/* Not representable: print something the parser rejects. */
		fprintf(f, "\tinvalid-guest-op %u\n", op->kind);
		return 1;
	}
	if (op->len != 4)
		fprintf(f, " len %u", op->len);
	if (!here)
		fprintf(f, " at 0x%llx", (unsigned long long)(op->gpa - op->off));
	fprintf(f, "\n");
	return 1;
}

/* Prints actor op i (a run of them for 'toggle'); returns the number printed. */
static int scn_print_aop(FILE *f, const struct actor_script *a, int nr, int i)
{
	const struct actor_op *op = &a->ops[i];
	int n;

	switch (op->kind) {
	case AOP_INHIBIT_SET:
		/* set, clear, set, ... of one reason: 'toggle' from 3 on. */
		for (n = 1; i + n < nr; n++) {
			const struct actor_op *o = &a->ops[i + n];

			if (o->reason != op->reason ||
			    o->kind != (n % 2 ? AOP_INHIBIT_CLEAR : AOP_INHIBIT_SET))
				break;
		}
		if (n >= 3) {
			fprintf(f, "\ttoggle %s %d\n", kvm_inhibit_name(op->reason), n);
			return n;
		}
		fprintf(f, "\tinhibit-set %s\n", kvm_inhibit_name(op->reason));
		return 1;
	case AOP_INHIBIT_CLEAR:
		fprintf(f, "\tinhibit-clear %s\n", kvm_inhibit_name(op->reason));
		return 1;
	case AOP_ZAP:
		if (op->gfn_start == APIC_ACCESS_GFN && op->gfn_end == APIC_ACCESS_GFN + 1)
			fprintf(f, "\tzap-apic\n");
		else
			fprintf(f, "\tzap 0x%llx 0x%llx\n", (unsigned long long)op->gfn_start,
				(unsigned long long)op->gfn_end);
		return 1;
	case AOP_CREATE_VCPU:
		fprintf(f, "\tcreate-vcpu %u\n", op->vcpu);
		return 1;
	case AOP_MSI:
		fprintf(f, "\tmsi %u 0x%x\n", op->vcpu, op->vector);
		return 1;
	case AOP_PIC_IRQ:
		fprintf(f, "\tpic-irq %u\n", op->vector);
		return 1;
	default:
		fprintf(f, "\tinvalid-actor-op %u\n", op->kind);
		return 1;
	}
}

void scenario_print(FILE *f, const struct scenario *s)
{
	int nr_vcpus = scn_clamp(s->nr_vcpus, 0, SCN_MAX_VCPUS);
	int nr_actors = scn_clamp(s->nr_actors, 0, SCN_MAX_ACTORS);

	if (s->description)
		fprintf(f, "# %s: %s\n", s->name, s->description);
	if (scn_name_valid(s->name))
		fprintf(f, "name %s\n", s->name);
	fprintf(f, "vcpus %d\n", s->nr_vcpus);
	if (s->nr_initial_vcpus != s->nr_vcpus)
		fprintf(f, "initial-vcpus %d\n", s->nr_initial_vcpus);
	if (s->vendor == KVM_VENDOR_SVM || s->vendor == KVM_VENDOR_VMX)
		fprintf(f, "vendor %s\n", kvm_vendor_name(s->vendor));
	if (s->policy == KVM_POLICY_VM || s->policy == KVM_POLICY_VCPU)
		fprintf(f, "policy %s\n", kvm_policy_name(s->policy));
	for (int b = 0; b < KVM_NR_BUGS; b++)
		if (s->bugs & BIT_ULL(b))
			fprintf(f, "bug %s\n", kvm_bug_info(b)->slug);
	if (s->ram_pages != SCN_DEFAULT_RAM_PAGES)
		fprintf(f, "ram-pages %d\n", s->ram_pages);
	if (s->zap_yield)
		fprintf(f, "zap-yield yes\n");
	if (s->apic_enabled)
		fprintf(f, "apic-enabled yes\n");
	if (s->no_x2avic)
		fprintf(f, "x2avic no\n");
	if (s->preempt == KVM_PREEMPT_YES)
		fprintf(f, "preempt yes\n");
	else if (s->preempt == KVM_PREEMPT_MIGRATE)
		fprintf(f, "preempt migrate\n");

	for (int v = 0; v < nr_vcpus; v++) {
		const struct guest_program *prog = &s->vcpu[v];
		int nr = scn_clamp(prog->nr_ops, 0, SCN_MAX_OPS);

		if (!nr)
			continue;
		fprintf(f, "\nvcpu %d\n", v);
		for (int i = 0; i < nr;)
			i += scn_print_gop(f, prog, nr, i);
	}
	/* Every actor up to nr_actors, empty ones too: nr_actors round-trips. */
	for (int a = 0; a < nr_actors; a++) {
		const struct actor_script *script = &s->actor[a];
		int nr = scn_clamp(script->nr_ops, 0, SCN_MAX_OPS);

		fprintf(f, "\nactor %d\n", a);
		for (int i = 0; i < nr;)
			i += scn_print_aop(f, script, nr, i);
	}
	if (s->nr_expect > 0)
		fprintf(f, "\nexpect\n");
	for (int i = 0; i < scn_clamp(s->nr_expect, 0, SCN_MAX_EXPECT); i++) {
		char buf[64];

		fprintf(f, "\t%s\n", scn_expect_text(&s->expect[i], buf, sizeof(buf)));
	}
}
