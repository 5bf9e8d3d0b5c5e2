// SPDX-License-Identifier: GPL-2.0
/*
 * xAPIC register programs: the seeded generator and the corpus parser (the
 * format and the invariants are in apicprog.h).
 *
 * The generator is a small state machine over "moves" (read a register,
 * write one with a boundary or random value, touch a reserved offset, do a
 * sub-dword or unaligned access, software-disable and re-enable the APIC,
 * TPR/PPR, EOI, ID/LDR/DFR, a self-IPI through ICR2/ICR, the timer
 * registers).  It tracks just enough of the APIC's state to aim its moves:
 * the current xAPIC ID and LDR (so self-IPIs often hit), whether SPIV is
 * enabled, and whether the timer may be running (TMCCT is then never read:
 * it depends on time, and a read of it would also leave a time-dependent
 * value in the emulator's read buffer that later stale reads return).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/lapic.h"
#include "oracle/apicprog.h"

#define APIC_DM_SHIFT 8
#define APIC_DM_MASK 0x7
#define APIC_SH_SHIFT 18
#define APIC_SH_ALLBUT 3

/* ------------------------------------------------------------------ */
/* Shared helpers                                                      */

bool apicprog_has_preset(const struct apic_prog *p)
{
	for (int i = 0; i < 8; i++)
		if (p->isr[i] || p->irr[i])
			return true;
	return false;
}

u32 apicprog_nr_reads(const struct apic_prog *p)
{
	u32 n = 0;

	for (u32 i = 0; i < p->n; i++)
		n += p->acc[i].op == APIC_ACC_READ;
	return n;
}

char *apicprog_format_access(const struct apic_access *a, char *buf, size_t len)
{
	const char *w = a->width == 1 ? "8" : a->width == 2 ? "16" : "";

	if (a->op == APIC_ACC_READ)
		snprintf(buf, len, "r%s 0x%03x", w, a->offset);
	else
		snprintf(buf, len, "w%s 0x%03x 0x%x", w, a->offset, a->value);
	return buf;
}

const char *apicprog_check_access(const struct apic_access *a)
{
	if (a->width != 1 && a->width != 2 && a->width != 4)
		return "width must be 1, 2 or 4 bytes";
	if ((u32)a->offset + a->width > APIC_PAGE_BYTES)
		return "access runs past the end of the APIC page (offset + width > 0x1000)";
	if (a->op != APIC_ACC_WRITE)
		return NULL;
	if (a->width < 4 && (a->value >> (8 * a->width)))
		return a->width == 1 ? "value does not fit in 8 bits" : "value does not fit in 16 bits";
	/* Only aligned dword writes reach kvm_lapic_reg_write() (apic_mmio_write). */
	if (a->width != 4)
		return NULL;
	if (a->offset == APIC_ICR) {
		u32 dm = (a->value >> APIC_DM_SHIFT) & APIC_DM_MASK;
		u32 sh = (a->value >> APIC_SH_SHIFT) & 3;

		if (dm > 1 && sh != APIC_SH_ALLBUT)
			return "ICR delivery mode other than fixed (0) or lowest-priority (1) would "
			       "change the single vCPU's state (NMI/INIT/SIPI/SMI/ExtINT)";
	}
	if (a->offset == APIC_LVTT && !(a->value & APIC_LVT_MASKED))
		return "LVTT writes must keep the mask bit (0x10000) set: an unmasked timer "
		       "makes IRR depend on time";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Generator                                                           */

struct gen {
	u64 s;			/* splitmix64 state */
	struct apic_prog *p;
	u32 max;		/* accesses to generate */
	u8 id;			/* current xAPIC ID (ID bits 31:24) */
	u8 ldr;			/* current logical ID (LDR bits 31:24) */
	bool sw_enabled;	/* SPIV bit 8 */
	bool timer_running;	/* TMICT may be counting: never read TMCCT */
};

/* The splitmix64 output function (a bijective 64-bit mixer). */
static u64 mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static u64 gen_next(struct gen *g)
{
	return mix64(g->s += 0x9e3779b97f4a7c15ull);
}

static u32 gen_below(struct gen *g, u32 n)
{
	return (u32)(gen_next(g) % n);
}

static bool gen_chance(struct gen *g, u32 percent)
{
	return gen_below(g, 100) < percent;
}

static bool gen_full(const struct gen *g)
{
	return g->p->n >= g->max;
}

/* Every register of docs/kvm-protocol.md §9.1, by aligned offset. */
static const u16 named_regs[] = {
	APIC_ID, APIC_LVR, APIC_TASKPRI, APIC_ARBPRI, APIC_PROCPRI, APIC_EOI, APIC_RRR,
	APIC_LDR, APIC_DFR, APIC_SPIV,
	APIC_ISR, APIC_ISR + 0x10, APIC_ISR + 0x20, APIC_ISR + 0x30,
	APIC_ISR + 0x40, APIC_ISR + 0x50, APIC_ISR + 0x60, APIC_ISR + 0x70,
	APIC_TMR, APIC_TMR + 0x10, APIC_TMR + 0x20, APIC_TMR + 0x30,
	APIC_TMR + 0x40, APIC_TMR + 0x50, APIC_TMR + 0x60, APIC_TMR + 0x70,
	APIC_IRR, APIC_IRR + 0x10, APIC_IRR + 0x20, APIC_IRR + 0x30,
	APIC_IRR + 0x40, APIC_IRR + 0x50, APIC_IRR + 0x60, APIC_IRR + 0x70,
	APIC_ESR, APIC_LVTCMCI, APIC_ICR, APIC_ICR2, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC,
	APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_TMICT, APIC_TMCCT, APIC_TDCR, APIC_SELF_IPI,
};

/* 16-byte slots below 0x400 that are no register at all. */
static const u16 reserved_regs[] = {
	0x000, 0x010, 0x040, 0x050, 0x060, 0x070, 0x290, 0x2a0, 0x2b0, 0x2c0, 0x2d0, 0x2e0,
	0x3a0, 0x3b0, 0x3c0, 0x3d0,
};

static const u16 lvt_regs[] = {
	APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_LVTCMCI,
};

static u16 gen_named(struct gen *g)
{
	return named_regs[gen_below(g, ARRAY_SIZE(named_regs))];
}

static u16 gen_reserved(struct gen *g)
{
	if (gen_chance(g, 60))
		return reserved_regs[gen_below(g, ARRAY_SIZE(reserved_regs))];
	return 0x400 + 0x10 * gen_below(g, (APIC_PAGE_BYTES - 0x400) / 0x10);
}

/* Boundary values and values with reserved bits set. */
static u32 gen_value(struct gen *g)
{
	static const u32 edge[] = {
		0, 0xffffffff, 0x80000000, 0x7fffffff, 0xff, 0x100, 0x1ff, 0xff00,
		0x10000, 0xffff0000, 0x0fffffff, 0xf0000000, 0x1, 0xfffffffe, 0xff000000,
		0x00ffffff,
	};

	switch (gen_below(g, 4)) {
	case 0:
		return edge[gen_below(g, ARRAY_SIZE(edge))];
	case 1:
		return gen_below(g, 0x100);
	case 2:
		return (u32)gen_next(g) & (0xffu << (8 * gen_below(g, 4)));
	default:
		return (u32)gen_next(g);
	}
}

static void gen_emit(struct gen *g, u8 op, u8 width, u32 off, u32 val)
{
	struct apic_access *a;

	if (gen_full(g))
		return;
	if (width < 4)
		val &= (1u << (8 * width)) - 1;
	a = &g->p->acc[g->p->n];
	*a = (struct apic_access){ .op = op, .width = width, .offset = (u16)off, .value = val };
	/* The generator's own rules (see the callers) keep every access valid. */
	if (apicprog_check_access(a))
		return;
	g->p->n++;
}

/* A read at @off, unless it could observe the running timer. */
static void gen_read(struct gen *g, u8 width, u32 off)
{
	if (g->timer_running && (off & 0xff0) == APIC_TMCCT)
		off = APIC_TMICT | (off & 0xf);
	gen_emit(g, APIC_ACC_READ, width, off, 0);
}

static void gen_read_reg(struct gen *g, u32 reg)
{
	gen_read(g, 4, reg);
}

/* Bookkeeping for an aligned dword write that reaches kvm_lapic_reg_write(). */
static void gen_track_write(struct gen *g, u32 reg, u32 val)
{
	switch (reg) {
	case APIC_ID:
		g->id = val >> 24;
		break;
	case APIC_LDR:
		g->ldr = val >> 24;
		break;
	case APIC_SPIV:
		g->sw_enabled = val & APIC_SPIV_APIC_ENABLED;
		break;
	case APIC_TMICT:
		/*
		 * Conservative whatever the guest's CPUID says: a non-zero TMICT
		 * may start the timer; after a zero write TMICT is 0 (or, in
		 * TSC-deadline mode, ignored while TMCCT reads 0 anyway).
		 */
		g->timer_running = val != 0;
		break;
	default:
		break;
	}
}

static void gen_write_reg(struct gen *g, u32 reg, u32 val)
{
	if (reg == APIC_LVTT)
		val |= APIC_LVT_MASKED;
	if (reg == APIC_ICR) {
		u32 dm = (val >> APIC_DM_SHIFT) & APIC_DM_MASK;

		if (dm > 1 && ((val >> APIC_SH_SHIFT) & 3) != APIC_SH_ALLBUT)
			val &= ~(0x6u << APIC_DM_SHIFT);	/* keep fixed/lowest */
	}
	if (gen_full(g))
		return;
	gen_emit(g, APIC_ACC_WRITE, 4, reg, val);
	gen_track_write(g, reg, val);
}

static u32 gen_lvt_value(struct gen *g)
{
	u32 v = gen_below(g, 0x100);			/* vector */

	if (gen_chance(g, 50))
		v |= gen_below(g, 8) << 8;		/* delivery mode */
	if (gen_chance(g, 30))
		v |= (u32)gen_next(g) & 0xfffe000;	/* polarity/remote IRR/trigger/mode/reserved */
	if (gen_chance(g, 20))
		v |= APIC_ICR_BUSY;			/* delivery status is read-only */
	if (gen_chance(g, 50))
		v |= APIC_LVT_MASKED;
	if (gen_chance(g, 10))
		v = gen_value(g);
	return v;
}

static void move_read_named(struct gen *g)
{
	gen_read_reg(g, gen_named(g));
}

static void move_write_named(struct gen *g)
{
	u32 reg = gen_named(g);
	u32 val = gen_value(g);

	for (size_t i = 0; i < ARRAY_SIZE(lvt_regs); i++)
		if (reg == lvt_regs[i] && gen_chance(g, 60))
			val = gen_lvt_value(g);
	gen_write_reg(g, reg, val);
	if (gen_chance(g, 80))
		gen_read_reg(g, reg);
}

static void move_reserved(struct gen *g)
{
	u32 off = gen_reserved(g);

	if (gen_chance(g, 30))
		gen_emit(g, APIC_ACC_WRITE, 4, off, gen_value(g));
	/* A valid read first makes the stale value that follows recognisable. */
	if (gen_chance(g, 60))
		gen_read_reg(g, gen_chance(g, 50) ? APIC_LVR : gen_named(g));
	gen_read(g, gen_chance(g, 80) ? 4 : 1 + gen_below(g, 2), off);
}

static void move_narrow(struct gen *g)
{
	u32 reg = gen_named(g);
	u8 width = gen_chance(g, 50) ? 1 : gen_chance(g, 60) ? 2 : 4;
	u32 k = width == 4 ? 1 + gen_below(g, 15) : gen_below(g, gen_chance(g, 80) ? 4 : 16);

	if (reg + k + width > APIC_PAGE_BYTES)
		k = 0;
	if (gen_chance(g, 60)) {
		gen_read(g, width, reg + k);
	} else {
		gen_emit(g, APIC_ACC_WRITE, width, reg + k, gen_value(g));
		gen_read_reg(g, reg);
	}
}

static void move_spiv(struct gen *g)
{
	static const u16 lvts[] = { APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1,
				    APIC_LVTERR };
	u32 lvt = lvts[gen_below(g, ARRAY_SIZE(lvts))];
	u32 vec = gen_chance(g, 70) ? 0xff : gen_below(g, 0x100);
	u32 extra = gen_chance(g, 30) ? ((u32)gen_next(g) & 0xfffffc00) : 0;

	gen_write_reg(g, APIC_SPIV, vec | extra | (gen_chance(g, 20) ? 0x200 : 0));
	gen_read_reg(g, APIC_SPIV);
	gen_read_reg(g, lvt);
	gen_write_reg(g, lvt, gen_below(g, 0x100) | (gen_below(g, 8) << 8));
	gen_read_reg(g, lvt);
	if (gen_chance(g, 75)) {
		gen_write_reg(g, APIC_SPIV, APIC_SPIV_APIC_ENABLED | vec | extra);
		gen_read_reg(g, APIC_SPIV);
		gen_read_reg(g, lvt);
		gen_write_reg(g, lvt, gen_lvt_value(g) & ~(lvt == APIC_LVTT ? 0 : APIC_LVT_MASKED));
		gen_read_reg(g, lvt);
	}
}

static void move_tpr(struct gen *g)
{
	u32 v = gen_chance(g, 70) ? gen_below(g, 0x100) : gen_value(g);

	gen_write_reg(g, APIC_TASKPRI, v);
	if (gen_chance(g, 70))
		gen_read_reg(g, APIC_TASKPRI);
	gen_read_reg(g, APIC_PROCPRI);
}

static int highest_bit(const u32 *bank)
{
	for (int i = 7; i >= 0; i--)
		if (bank[i])
			return i * 32 + 31 - __builtin_clz(bank[i]);
	return -1;
}

static void move_eoi(struct gen *g)
{
	int vec = highest_bit(g->p->isr);
	u32 bank = vec >= 0 ? (u32)vec / 32 : gen_below(g, 8);

	if (gen_chance(g, 30))
		gen_read_reg(g, APIC_PROCPRI);
	gen_write_reg(g, APIC_EOI, gen_chance(g, 70) ? 0 : gen_value(g));
	gen_read_reg(g, APIC_ISR + 0x10 * bank);
	gen_read_reg(g, APIC_PROCPRI);
}

static void move_id(struct gen *g)
{
	switch (gen_below(g, 3)) {
	case 0:
		gen_write_reg(g, APIC_ID, gen_chance(g, 50) ? gen_value(g) : gen_below(g, 16) << 24);
		gen_read_reg(g, APIC_ID);
		break;
	case 1:
		gen_write_reg(g, APIC_LDR, gen_chance(g, 50) ? gen_value(g) : 1u << (24 + gen_below(g, 8)));
		gen_read_reg(g, APIC_LDR);
		break;
	default:
		gen_write_reg(g, APIC_DFR, gen_chance(g, 40) ? 0x0fffffff :
				       gen_chance(g, 50) ? 0xffffffff : gen_value(g));
		gen_read_reg(g, APIC_DFR);
		break;
	}
}

/* A self-IPI (or a near miss) through ICR2/ICR; IF=0 keeps it in IRR. */
static void move_ipi(struct gen *g)
{
	u32 vec = gen_chance(g, 90) ? 16 + gen_below(g, 240) : gen_below(g, 16);
	u32 sh = gen_chance(g, 50) ? 0 : gen_below(g, 4);
	bool logical = gen_chance(g, 35);
	u32 dest, icr, junk;

	if (!g->sw_enabled && gen_chance(g, 70))
		gen_write_reg(g, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	if (logical && gen_chance(g, 50) && !g->ldr) {
		g->ldr = 1u << gen_below(g, 8);
		gen_write_reg(g, APIC_LDR, (u32)g->ldr << 24);
	}
	if (gen_chance(g, 70))
		dest = logical ? g->ldr : g->id;
	else
		dest = gen_chance(g, 50) ? 0xff : gen_below(g, 0x100);
	junk = gen_chance(g, 20) ? (u32)gen_next(g) & 0xffffff : 0;	/* reserved ICR2 bits */
	gen_write_reg(g, APIC_ICR2, (dest << 24) | junk);

	icr = vec | (gen_below(g, 2) << APIC_DM_SHIFT) | (sh << APIC_SH_SHIFT);
	if (logical)
		icr |= APIC_DEST_LOGICAL;
	if (gen_chance(g, 80))
		icr |= 1u << 14;		/* level: assert */
	if (gen_chance(g, 20))
		icr |= 1u << 15;		/* trigger: level */
	if (gen_chance(g, 15))
		icr |= APIC_ICR_BUSY;
	if (gen_chance(g, 15))
		icr |= (u32)gen_next(g) & 0xfff32000;	/* reserved bits */
	gen_write_reg(g, APIC_ICR, icr);
	if (gen_chance(g, 60))
		gen_read_reg(g, APIC_ICR);
	gen_read_reg(g, APIC_IRR + 0x10 * (vec / 32));
	if (gen_chance(g, 40))
		gen_read_reg(g, APIC_TMR + 0x10 * (vec / 32));
	if (gen_chance(g, 25))
		gen_read_reg(g, APIC_PROCPRI);
}

static void move_timer(struct gen *g)
{
	switch (gen_below(g, 3)) {
	case 0:
		gen_write_reg(g, APIC_TDCR, gen_value(g));
		gen_read_reg(g, APIC_TDCR);
		break;
	case 1:
		gen_write_reg(g, APIC_LVTT, gen_lvt_value(g) | ((u32)gen_below(g, 4) << 17));
		gen_read_reg(g, APIC_LVTT);
		gen_read_reg(g, APIC_TMICT);
		break;
	default:
		gen_write_reg(g, APIC_TMICT, gen_chance(g, 30) ? 0 : gen_value(g));
		gen_read_reg(g, APIC_TMICT);
		gen_read_reg(g, APIC_TMCCT);	/* becomes TMICT if the timer may run */
		break;
	}
}

static void gen_preset(struct gen *g)
{
	if (gen_chance(g, 35)) {
		u32 n = 1 + gen_below(g, 3);

		for (u32 i = 0; i < n; i++) {
			u32 v = 16 + gen_below(g, 240);

			g->p->isr[v / 32] |= 1u << (v % 32);
		}
	}
	if (gen_chance(g, 15)) {
		u32 v = 16 + gen_below(g, 240);

		g->p->irr[v / 32] |= 1u << (v % 32);
	}
}

void apicprog_generate(struct apic_prog *p, u64 seed, u32 index)
{
	static void (*const moves[])(struct gen *) = {
		move_read_named, move_read_named, move_read_named, move_read_named,
		move_write_named, move_write_named, move_write_named, move_write_named,
		move_reserved, move_reserved, move_narrow, move_narrow, move_narrow,
		move_spiv, move_spiv, move_tpr, move_tpr, move_eoi, move_id, move_id,
		move_ipi, move_ipi, move_timer,
	};
	struct gen g = {
		/* Hash (seed, index): program i+1 must not be program i shifted by one draw. */
		.s = mix64(mix64(seed) ^ mix64(((u64)index << 1) | 1)),
		.p = p,
	};

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "seed %llu program %u", (unsigned long long)seed, index);
	p->seed = seed;
	p->index = index;
	p->generated = true;
	gen_next(&g);
	g.max = 10 + gen_below(&g, 31);
	gen_preset(&g);
	if (gen_chance(&g, 50))
		gen_write_reg(&g, APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	while (!gen_full(&g))
		moves[gen_below(&g, ARRAY_SIZE(moves))](&g);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */

struct lexer {
	const char *text;
	size_t len;
	size_t pos;		/* current position in the line being parsed */
	size_t line_start;
	u32 line;
	struct apicprog_error *err;
};

static __printf(3, 4) int lex_error(struct lexer *lx, size_t at, const char *fmt, ...)
{
	va_list ap;

	lx->err->line = lx->line;
	lx->err->col = (u32)(at - lx->line_start + 1);
	va_start(ap, fmt);
	vsnprintf(lx->err->msg, sizeof(lx->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool at_eol(const struct lexer *lx)
{
	return lx->pos >= lx->len || lx->text[lx->pos] == '\n' || lx->text[lx->pos] == '#';
}

static void skip_blanks(struct lexer *lx)
{
	while (lx->pos < lx->len && (lx->text[lx->pos] == ' ' || lx->text[lx->pos] == '\t' ||
				     lx->text[lx->pos] == '\r'))
		lx->pos++;
}

/* Next whitespace-delimited token into @tok (truncated to fit); its start, or -1 at EOL. */
static long next_token(struct lexer *lx, char *tok, size_t toklen)
{
	size_t start, n = 0;

	skip_blanks(lx);
	if (at_eol(lx))
		return -1;
	start = lx->pos;
	while (lx->pos < lx->len && !isspace((unsigned char)lx->text[lx->pos]) &&
	       lx->text[lx->pos] != '#') {
		if (n + 1 < toklen)
			tok[n++] = lx->text[lx->pos];
		lx->pos++;
	}
	tok[n] = '\0';
	return (long)start;
}

static bool parse_u32(const char *s, u32 *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > 0xffffffffull)
		return false;
	*out = (u32)v;
	return true;
}

/* "0x80", "128", "TPR", "LVR+2", "isr1+0x3". */
static bool parse_offset(const char *s, u32 *out)
{
	char name[32];
	const char *plus = strchr(s, '+');
	size_t n = plus ? (size_t)(plus - s) : strlen(s);
	u32 add = 0;
	int reg;

	if (parse_u32(s, out))
		return true;
	if (!n || n >= sizeof(name))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	reg = lapic_reg_parse(name);
	if (reg < 0)
		return false;
	if (plus && !parse_u32(plus + 1, &add))
		return false;
	if (add > APIC_PAGE_BYTES)
		return false;
	*out = (u32)reg + add;
	return true;
}

static int parse_line(struct lexer *lx, struct apic_prog *p, bool *seen_access)
{
	char op[16], arg1[48], arg2[48], extra[48];
	long op_at, a1_at, a2_at, x_at;
	struct apic_access a = { .line = lx->line };
	const char *why;
	u32 off, val = 0;
	bool is_write;

	op_at = next_token(lx, op, sizeof(op));
	if (op_at < 0)
		return 0;			/* blank or comment-only line */

	if (!strcmp(op, "isr") || !strcmp(op, "irr")) {
		a1_at = next_token(lx, arg1, sizeof(arg1));
		if (a1_at < 0)
			return lex_error(lx, lx->pos, "'%s' needs a vector (0..255)", op);
		if (!parse_u32(arg1, &val) || val > 255)
			return lex_error(lx, a1_at, "bad vector '%s' (expected 0..255)", arg1);
		x_at = next_token(lx, extra, sizeof(extra));
		if (x_at >= 0)
			return lex_error(lx, x_at, "unexpected '%s' after the vector", extra);
		if (*seen_access)
			return lex_error(lx, op_at, "'%s' presets the LAPIC before the program runs: "
				       "put it before the first access", op);
		(op[1] == 's' ? p->isr : p->irr)[val / 32] |= 1u << (val % 32);
		return 0;
	}

	if (op[0] == 'r')
		is_write = false;
	else if (op[0] == 'w')
		is_write = true;
	else
		return lex_error(lx, op_at, "unknown operation '%s' (expected r, r8, r16, r32, w, "
			       "w8, w16, w32, isr or irr)", op);
	if (!strcmp(op + 1, "") || !strcmp(op + 1, "32"))
		a.width = 4;
	else if (!strcmp(op + 1, "16"))
		a.width = 2;
	else if (!strcmp(op + 1, "8"))
		a.width = 1;
	else
		return lex_error(lx, op_at, "unknown operation '%s' (expected r, r8, r16, r32, w, "
			       "w8, w16, w32, isr or irr)", op);
	a.op = is_write ? APIC_ACC_WRITE : APIC_ACC_READ;

	a1_at = next_token(lx, arg1, sizeof(arg1));
	if (a1_at < 0)
		return lex_error(lx, lx->pos, "'%s' needs an offset (0x000..0xfff or a register name)", op);
	if (!parse_offset(arg1, &off) || off >= APIC_PAGE_BYTES)
		return lex_error(lx, a1_at, "bad offset '%s' (expected 0x000..0xfff or a register "
			       "name such as TPR or LVR+2)", arg1);
	a.offset = (u16)off;

	if (is_write) {
		a2_at = next_token(lx, arg2, sizeof(arg2));
		if (a2_at < 0)
			return lex_error(lx, lx->pos, "'%s' needs a value", op);
		if (!parse_u32(arg2, &val))
			return lex_error(lx, a2_at, "bad value '%s' (expected a 32-bit number)", arg2);
		a.value = val;
	} else {
		a2_at = a1_at;
	}
	x_at = next_token(lx, extra, sizeof(extra));
	if (x_at >= 0)
		return lex_error(lx, x_at, "unexpected '%s' at the end of the access", extra);

	why = apicprog_check_access(&a);
	if (why)
		return lex_error(lx, is_write && strstr(why, "value") == why ? a2_at : op_at,
				 "%s", why);
	if (p->n >= APIC_PROG_MAX_ACCESSES)
		return lex_error(lx, op_at, "too many accesses (max %d per program)",
				 APIC_PROG_MAX_ACCESSES);
	p->acc[p->n++] = a;
	*seen_access = true;
	return 0;
}

int apicprog_parse(const char *name, const char *text, size_t len, struct apic_prog *p,
		   struct apicprog_error *err)
{
	struct lexer lx = { .text = text, .len = len, .err = err };
	bool seen_access = false;
	int r;

	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	snprintf(p->name, sizeof(p->name), "%s", name);

	while (lx.pos < len) {
		lx.line++;
		lx.line_start = lx.pos;
		for (size_t i = lx.pos; i < len && text[i] != '\n'; i++)
			if (text[i] == '\0')
				return lex_error(&lx, i, "NUL byte in corpus file");
		r = parse_line(&lx, p, &seen_access);
		if (r)
			return r;
		while (lx.pos < len && text[lx.pos] != '\n')	/* the rest is a comment */
			lx.pos++;
		lx.pos++;					/* the newline */
	}
	return 0;
}

int apicprog_parse_file(const char *path, struct apic_prog *p, struct apicprog_error *err)
{
	size_t cap = 4096, len = 0;
	char *buf = NULL, *nbuf;
	FILE *f;
	int r;

	memset(err, 0, sizeof(*err));
	f = fopen(path, "r");
	if (!f) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		return r;
	}
	for (;;) {
		size_t got;

		nbuf = realloc(buf, cap);
		if (!nbuf) {
			r = -ENOMEM;
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			goto out_free;
		}
		buf = nbuf;
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len < cap)
			break;
		if (cap >= (1u << 24)) {
			r = -EFBIG;
			snprintf(err->msg, sizeof(err->msg), "file larger than 16 MiB");
			goto out_free;
		}
		cap *= 2;
	}
	if (ferror(f)) {
		r = -EIO;
		snprintf(err->msg, sizeof(err->msg), "read error");
		goto out_free;
	}
	r = apicprog_parse(path, buf, len, p, err);

out_free:
	free(buf);
	fclose(f);
	return r;
}
