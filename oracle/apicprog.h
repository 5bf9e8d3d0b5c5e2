/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xAPIC register programs for `kvmlab oracle`: a program is a straight-line
 * sequence of guest accesses to the APIC MMIO page (offset 0..0xfff from
 * 0xfee00000, width 1, 2 or 4, any alignment), plus optional ISR/IRR bits
 * preset through KVM_SET_LAPIC before the first access.  The same program is
 * run by the real in-kernel LAPIC (oracle/realkvm.c) and by the model
 * (model/lapic.c) and every value read is compared.
 *
 * Programs come from a seeded generator (apicprog_generate: the same seed and
 * index always give the same program) or from corpus files
 * (apicprog_parse_file), one access per line:
 *
 *   # comment                       (also after an access)
 *   r   OFF        r8 / r16 / r32 OFF       read  (r = r32)
 *   w   OFF VAL    w8 / w16 / w32 OFF VAL   write (w = w32)
 *   isr VEC                                 preset ISR bit VEC (before accesses)
 *   irr VEC                                 preset IRR bit VEC (before accesses)
 *
 * OFF is a number (0x.. or decimal) or a register name of lapic_reg_name()
 * ("TPR", "ISR1", "LVTT"...) optionally followed by +N (e.g. "r8 LVR+2").
 *
 * Invariants every program satisfies (checked by the parser, respected by the
 * generator), because they keep the real guest deterministic and alive:
 *   - offset + width <= 0x1000 (an access never leaves the APIC page);
 *   - a value fits its width;
 *   - an aligned dword ICR write uses delivery mode fixed or lowest-priority
 *     (or the all-excluding-self shorthand): NMI/INIT/SIPI/SMI/ExtINT to
 *     itself would reset or kill the single vCPU;
 *   - an aligned dword LVTT write keeps the mask bit (16) set: an unmasked
 *     timer would make IRR depend on wall-clock time.
 */
#ifndef KVMLAB_ORACLE_APICPROG_H
#define KVMLAB_ORACLE_APICPROG_H

#include <stddef.h>

#include "kernel/types.h"

#define APIC_PAGE_BYTES 0x1000
#define APIC_PROG_MAX_ACCESSES 1024
#define APIC_PROG_NAME_MAX 256

enum apic_acc_op {
	APIC_ACC_READ,
	APIC_ACC_WRITE,
};

struct apic_access {
	u8 op;			/* enum apic_acc_op */
	u8 width;		/* 1, 2 or 4 bytes */
	u16 offset;		/* from the APIC base; offset + width <= 0x1000 */
	u32 value;		/* value written (writes only) */
	u32 line;		/* corpus line, 0 for generated programs */
};

struct apic_prog {
	char name[APIC_PROG_NAME_MAX];	/* "seed 1 program 17" or the file path */
	u64 seed;			/* generator seed (generated programs) */
	u32 index;			/* program index within the seed */
	bool generated;
	u32 isr[8];			/* preset ISR bits, ISR0..ISR7 */
	u32 irr[8];			/* preset IRR bits, IRR0..IRR7 */
	u32 n;				/* number of accesses */
	struct apic_access acc[APIC_PROG_MAX_ACCESSES];
};

/* Where a corpus file is wrong: file:line:col: msg (line 0: whole file). */
struct apicprog_error {
	u32 line;
	u32 col;
	char msg[160];
};

/* Fill @p with program @index of @seed (deterministic, platform-independent). */
void apicprog_generate(struct apic_prog *p, u64 seed, u32 index);

/* Parse corpus text (@len bytes, need not be NUL-terminated) named @name. */
int apicprog_parse(const char *name, const char *text, size_t len,
		   struct apic_prog *p, struct apicprog_error *err);
/* Read and parse the corpus file @path.  0, -EINVAL (see @err) or -errno. */
int apicprog_parse_file(const char *path, struct apic_prog *p, struct apicprog_error *err);

/* True if @p presets any ISR or IRR bit. */
bool apicprog_has_preset(const struct apic_prog *p);
/* Number of reads in @p (the number of values the guest reports). */
u32 apicprog_nr_reads(const struct apic_prog *p);
/* "r8 0x032" / "w 0x080 0x20" in corpus syntax; returns @buf. */
char *apicprog_format_access(const struct apic_access *a, char *buf, size_t len);

/* Checks one access against the invariants above; NULL if fine, else why. */
const char *apicprog_check_access(const struct apic_access *a);

#endif
