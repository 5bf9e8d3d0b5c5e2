// SPDX-License-Identifier: GPL-2.0
/*
 * xAPIC semantics of model/lapic.c on a standalone APIC (no vCPU, no runtime):
 * docs/kvm-protocol.md §9.2-§9.3 and the values real KVM showed in docs/real-kvm-notes.md
 * §1.  Table-driven: each case starts from a fresh APIC at RESET, runs its
 * steps (MMIO accesses go through apic_mmio_read/apic_mmio_write at the
 * default base, as the emulator's would) and is one TAP test; a failing step prints both values.
 */
#include <errno.h>
#include <string.h>

#include "model/lapic.h"
#include "tests/tap.h"

enum step_op {
	END,
	W,		/* apic_mmio_write(off, len, val) */
	R,		/* apic_mmio_read(off, len) returns 0 and reads val */
	REG,		/* the register page word at off is val (KVM_GET_LAPIC view) */
	RDOK,		/* kvm_lapic_reg_read(off, len) returns 0 and reads val */
	RDFAIL,		/* kvm_lapic_reg_read(off, len) returns 1 */
	WRET,		/* kvm_lapic_reg_write(off, val) returns ret */
	MRC_R,		/* apic_mmio_read(off, len) returns ret */
	MRC_W,		/* apic_mmio_write(off, len, 0) returns ret */
	IRQ,		/* kvm_apic_set_irq_vector(val) */
	ACCEPT,		/* kvm_apic_accept_interrupt() returns ret */
	HAS,		/* kvm_apic_has_interrupt() returns val */
	BASE,		/* apic->base_address is val */
	HWDIS,		/* clear MSR_IA32_APICBASE.EN (WRMSR 0x1B, real-kvm-notes §1) */
	RESET,		/* kvm_lapic_reset(apic, bsp of the case) */
};

struct step {
	u8 op;
	s8 len;
	u16 off;
	u32 val;
	int ret;
};

#define W4(o, v)	{ W, 4, (o), (v), 0 }
#define WL(o, l, v)	{ W, (l), (o), (v), 0 }
#define R4(o, v)	{ R, 4, (o), (v), 0 }
#define RL(o, l, v)	{ R, (l), (o), (v), 0 }
#define REGV(o, v)	{ REG, 4, (o), (v), 0 }
#define RD(o, l, v)	{ RDOK, (l), (o), (v), 0 }
#define RDF(o, l)	{ RDFAIL, (l), (o), 0, 0 }
#define WR(o, v, r)	{ WRET, 4, (o), (v), (r) }
#define MRCR(o, l, r)	{ MRC_R, (l), (o), 0, (r) }
#define MRCW(o, l, r)	{ MRC_W, (l), (o), 0, (r) }
#define IRQV(v)		{ IRQ, 0, 0, (v), 0 }
#define ACC(r)		{ ACCEPT, 0, 0, 0, (r) }
#define HASI(b)		{ HAS, 0, 0, (b), 0 }
#define BASEV(v)	{ BASE, 0, 0, (v), 0 }
#define SWEN		W4(APIC_SPIV, 0x1ff)

#define ISR(i) (APIC_ISR + 0x10 * (i))
#define TMR(i) (APIC_TMR + 0x10 * (i))
#define IRR(i) (APIC_IRR + 0x10 * (i))

#define LVT_MASKED 0x00010000u
#define ICR_SELF 0x40000u
#define ICR_ALLINC 0x80000u
#define ICR_ALLBUT 0xc0000u
#define ICR_LOGICAL 0x800u
#define ICR_LEVEL 0x8000u
#define ICR_ASSERT 0x4000u

struct lapic_case {
	const char *name;
	u32 id;
	bool ap;		/* reset as an application processor (not the BSP) */
	struct step s[26];
};

static const struct lapic_case cases[] = {
	/* ---- RESET values (real-kvm-notes §1, KVM_GET_LAPIC at reset) ---- */
	{ "reset: VER = 0x00050014 (version 0x14, six LVTs, no directed EOI)",
	  0, false, { R4(APIC_LVR, 0x00050014) } },
	{ "reset BSP: ID 0, APIC base MSR 0xfee00900",
	  0, false, { R4(APIC_ID, 0), BASEV(0xfee00900) } },
	{ "reset AP: ID 3 reads 0x03000000, APIC base MSR 0xfee00800",
	  3, true, { R4(APIC_ID, 0x03000000), BASEV(0xfee00800) } },
	{ "reset: DFR 0xffffffff, SPIV 0xff (software-disabled), LDR 0",
	  0, false, { R4(APIC_DFR, 0xffffffff), R4(APIC_SPIV, 0xff), R4(APIC_LDR, 0) } },
	{ "reset: TPR, PPR, APR, ESR, ICR, ICR2 read 0",
	  0, false, { R4(APIC_TASKPRI, 0), R4(APIC_PROCPRI, 0), R4(APIC_ARBPRI, 0),
		      R4(APIC_ESR, 0), R4(APIC_ICR, 0), R4(APIC_ICR2, 0) } },
	{ "reset: TMICT, TMCCT, TDCR read 0",
	  0, false, { R4(APIC_TMICT, 0), R4(APIC_TMCCT, 0), R4(APIC_TDCR, 0) } },
	{ "reset BSP: LVTs masked (0x00010000), LINT0 = 0x700 (ExtINT)",
	  0, false, { R4(APIC_LVTT, LVT_MASKED), R4(APIC_LVTTHMR, LVT_MASKED),
		      R4(APIC_LVTPC, LVT_MASKED), R4(APIC_LVT0, 0x700),
		      R4(APIC_LVT1, LVT_MASKED), R4(APIC_LVTERR, LVT_MASKED) } },
	{ "reset AP: all six LVTs masked, LINT0 = 0x00010000",
	  1, true, { R4(APIC_LVTT, LVT_MASKED), R4(APIC_LVTTHMR, LVT_MASKED),
		     R4(APIC_LVTPC, LVT_MASKED), R4(APIC_LVT0, LVT_MASKED),
		     R4(APIC_LVT1, LVT_MASKED), R4(APIC_LVTERR, LVT_MASKED) } },
	{ "kvm_lapic_reset restores RESET values (a standalone APIC keeps its ID)",
	  2, false, { SWEN, W4(APIC_TASKPRI, 0x40), W4(APIC_LDR, 0x01000000), W4(APIC_DFR, 0),
		      W4(APIC_LVTT, 0x20), IRQV(0x51), ACC(0x51), IRQV(0x61),
		      { RESET, 0, 0, 0, 0 },
		      R4(APIC_ID, 0x02000000), R4(APIC_SPIV, 0xff), R4(APIC_TASKPRI, 0),
		      R4(APIC_PROCPRI, 0), R4(APIC_LDR, 0), R4(APIC_DFR, 0xffffffff),
		      R4(APIC_LVTT, LVT_MASKED), REGV(ISR(2), 0), REGV(IRR(3), 0), ACC(-1) } },

	/* ---- TPR / PPR ---- */
	{ "TPR write 0x20: TPR = PPR = 0x20",
	  0, false, { W4(APIC_TASKPRI, 0x20), R4(APIC_TASKPRI, 0x20), R4(APIC_PROCPRI, 0x20) } },
	{ "TPR write 0x35: PPR = 0x35 (ISR empty, PPR = TPR)",
	  0, false, { W4(APIC_TASKPRI, 0x35), R4(APIC_TASKPRI, 0x35), R4(APIC_PROCPRI, 0x35) } },
	{ "TPR keeps bits 7:0",
	  0, false, { W4(APIC_TASKPRI, 0xabcdef45), R4(APIC_TASKPRI, 0x45) } },
	{ "byte write 0x77 to TPR is ignored (TPR stays 0x35)",
	  0, false, { W4(APIC_TASKPRI, 0x35), WL(APIC_TASKPRI, 1, 0x77), R4(APIC_TASKPRI, 0x35) } },
	{ "2-byte and 8-byte writes are ignored",
	  0, false, { WL(APIC_TASKPRI, 2, 0x77), WL(APIC_LDR, 8, 0x01000000),
		      R4(APIC_TASKPRI, 0), R4(APIC_LDR, 0) } },
	{ "4-byte writes not 16-byte aligned are ignored",
	  0, false, { W4(APIC_TASKPRI + 4, 0x77), W4(APIC_TASKPRI + 1, 0x77),
		      W4(APIC_LDR + 8, 0x01000000), W4(APIC_TASKPRI + 12, 0x77),
		      R4(APIC_TASKPRI, 0), R4(APIC_LDR, 0) } },
	{ "byte reads: VER+0 = 0x14, VER+2 = 0x05",
	  0, false, { RL(APIC_LVR, 1, 0x14), RL(APIC_LVR + 2, 1, 0x05) } },
	{ "2-byte reads: VER+2 = 0x0005, VER+1 = 0x0500",
	  0, false, { RL(APIC_LVR + 2, 2, 0x0005), RL(APIC_LVR + 1, 2, 0x0500) } },
	{ "kvm_lapic_reg_read fails when offset%16 + len > 4",
	  0, false, { RDF(APIC_LVR + 2, 4), RDF(APIC_LVR + 3, 2), RDF(APIC_LVR + 4, 1),
		      RDF(APIC_LVR + 1, 4), RDF(APIC_LVR + 12, 4), RD(APIC_LVR + 3, 1, 0),
		      RD(APIC_LVR + 2, 2, 0x0005), RD(APIC_LVR, 4, 0x00050014) } },

	/* ---- ID, LDR, DFR, SPIV ---- */
	{ "ID is writable in xAPIC mode: 0x05000000",
	  0, false, { W4(APIC_ID, 0x05000000), R4(APIC_ID, 0x05000000) } },
	{ "ID keeps bits 31:24",
	  0, false, { W4(APIC_ID, 0x05abcdef), R4(APIC_ID, 0x05000000) } },
	{ "LDR keeps bits 31:24",
	  0, false, { W4(APIC_LDR, 0x01000000), R4(APIC_LDR, 0x01000000),
		      W4(APIC_LDR, 0x02ffffff), R4(APIC_LDR, 0x02000000) } },
	{ "DFR reads written value | 0x0fffffff",
	  0, false, { W4(APIC_DFR, 0), R4(APIC_DFR, 0x0fffffff),
		      W4(APIC_DFR, 0x5a5a5a5a), R4(APIC_DFR, 0x5fffffff),
		      W4(APIC_DFR, 0xffffffff), R4(APIC_DFR, 0xffffffff) } },
	{ "SPIV keeps bits 9:0; bit 12 dropped (directed EOI not advertised)",
	  0, false, { W4(APIC_SPIV, 0x1ff), R4(APIC_SPIV, 0x1ff),
		      W4(APIC_SPIV, 0xffffffff), R4(APIC_SPIV, 0x3ff),
		      W4(APIC_SPIV, 0x11ff), R4(APIC_SPIV, 0x1ff) } },

	/* ---- LVTs ---- */
	{ "software disable (SPIV bit 8 clear) masks all six LVTs",
	  0, false, { SWEN, W4(APIC_LVTT, 0x20), W4(APIC_LVTTHMR, 0x21), W4(APIC_LVTPC, 0x400),
		      W4(APIC_LVT1, 0x400), W4(APIC_LVTERR, 0xfe), R4(APIC_LVTT, 0x20),
		      R4(APIC_LVT0, 0x700), W4(APIC_SPIV, 0xff),
		      R4(APIC_LVTT, 0x10020), R4(APIC_LVTTHMR, 0x10021), R4(APIC_LVTPC, 0x10400),
		      R4(APIC_LVT0, 0x10700), R4(APIC_LVT1, 0x10400), R4(APIC_LVTERR, 0x100fe) } },
	{ "LVT writes get bit 16 forced while software-disabled",
	  0, false, { W4(APIC_LVTPC, 0x400), W4(APIC_LVTT, 0x20), W4(APIC_LVT0, 0x700),
		      R4(APIC_LVTPC, 0x10400), R4(APIC_LVTT, 0x10020), R4(APIC_LVT0, 0x10700),
		      SWEN, W4(APIC_LVTT, 0x20), R4(APIC_LVTT, 0x20) } },
	{ "LVT write masks: LVTT 0x310ff, THMR/PC 0x117ff, LINT0/1 0x1f7ff, ERR 0x110ff",
	  0, false, { SWEN, W4(APIC_LVTT, ~0u), W4(APIC_LVTTHMR, ~0u), W4(APIC_LVTPC, ~0u),
		      W4(APIC_LVT0, ~0u), W4(APIC_LVT1, ~0u), W4(APIC_LVTERR, ~0u),
		      R4(APIC_LVTT, 0x310ff), R4(APIC_LVTTHMR, 0x117ff), R4(APIC_LVTPC, 0x117ff),
		      R4(APIC_LVT0, 0x1f7ff), R4(APIC_LVT1, 0x1f7ff), R4(APIC_LVTERR, 0x110ff) } },
	{ "LVTT keeps periodic mode (bit 17), drops bit 18 (no TSC-deadline mode)",
	  0, false, { SWEN, W4(APIC_LVTT, 0x20020), R4(APIC_LVTT, 0x20020),
		      W4(APIC_LVTT, 0x40020), R4(APIC_LVTT, 0x20),
		      W4(APIC_LVTT, 0xffffff20), R4(APIC_LVTT, 0x31020) } },
	{ "LVT CMCI is not emulated: writes return 1, reads fail",
	  0, false, { WR(APIC_LVTCMCI, 0x20, 1), RDF(APIC_LVTCMCI, 4), REGV(APIC_LVTCMCI, 0) } },

	/* ---- read-only and reserved registers ---- */
	{ "read-only registers ignore writes (VER, APR, PPR, ISR, TMR, IRR, TMCCT)",
	  0, false, { W4(APIC_LVR, 0), W4(APIC_ARBPRI, 0xff), W4(APIC_PROCPRI, 0xff),
		      W4(ISR(1), ~0u), W4(TMR(7), ~0u), W4(IRR(2), ~0u), W4(APIC_TMCCT, 0x1234),
		      R4(APIC_LVR, 0x00050014), R4(APIC_ARBPRI, 0), R4(APIC_PROCPRI, 0),
		      R4(ISR(1), 0), R4(TMR(7), 0), R4(IRR(2), 0), R4(APIC_TMCCT, 0),
		      HASI(0) } },
	{ "kvm_lapic_reg_write returns 1 for read-only, reserved and x2APIC-only offsets",
	  0, false, { WR(APIC_LVR, 0, 1), WR(APIC_ARBPRI, 0, 1), WR(APIC_PROCPRI, 0, 1),
		      WR(APIC_RRR, 0, 1), WR(ISR(0), 0, 1), WR(TMR(0), 0, 1), WR(IRR(0), 0, 1),
		      WR(APIC_TMCCT, 0, 1), WR(APIC_SELF_IPI, 0x40, 1), WR(0x10, 0, 1),
		      WR(0x40, 0, 1), WR(0x3e0 - 0x10, 0, 1),
		      WR(APIC_EOI, 0, 0), WR(APIC_ESR, 5, 0), WR(APIC_TASKPRI, 0, 0),
		      REGV(IRR(2), 0) } },
	{ "reserved offsets fail kvm_lapic_reg_read (0x00-0x70, EOI, RRR)",
	  0, false, { RDF(0x00, 4), RDF(0x10, 4), RDF(0x40, 4), RDF(0x50, 4), RDF(0x60, 4),
		      RDF(0x70, 4), RDF(APIC_EOI, 4), RDF(APIC_RRR, 4), RDF(0x10, 1) } },
	{ "reserved offsets fail kvm_lapic_reg_read (0x290-0x2f0, 0x3a0-0x3d0, SELF_IPI, >0x3f0)",
	  0, false, { RDF(0x290, 4), RDF(0x2e0, 4), RDF(APIC_LVTCMCI, 4), RDF(0x3a0, 4),
		      RDF(0x3d0, 4), RDF(APIC_SELF_IPI, 4), RDF(0x400, 4), RDF(0x800, 4),
		      RDF(0xff0, 4) } },
	{ "valid offsets succeed in kvm_lapic_reg_read (APR is valid in xAPIC mode)",
	  0, false, { RD(APIC_ID, 4, 0), RD(APIC_ARBPRI, 4, 0), RD(APIC_PROCPRI, 4, 0),
		      RD(ISR(7), 4, 0), RD(TMR(3), 4, 0), RD(IRR(0), 4, 0), RD(APIC_ESR, 4, 0),
		      RD(APIC_TMCCT, 4, 0), RD(APIC_TDCR, 4, 0), RD(APIC_LVTERR, 4, LVT_MASKED) } },

	/* ---- stale reads (real-kvm-notes §1, Pitfalls 6) ---- */
	{ "stale read: reserved +0x10, +0x800, +0xff0 return the previous read (VER)",
	  0, false, { R4(APIC_LVR, 0x00050014), R4(0x10, 0x00050014), R4(0x800, 0x00050014),
		      R4(0xff0, 0x00050014) } },
	{ "stale read: after reading TPR = 0x10 reserved offsets read 0x10",
	  0, false, { W4(APIC_TASKPRI, 0x10), R4(APIC_TASKPRI, 0x10), R4(0x10, 0x10),
		      R4(0x800, 0x10), R4(0xff0, 0x10) } },
	{ "stale read: write-only EOI, x2APIC-only SELF_IPI and LVT CMCI",
	  0, false, { R4(APIC_LVR, 0x00050014), R4(APIC_EOI, 0x00050014),
		      R4(APIC_SELF_IPI, 0x00050014), R4(APIC_LVTCMCI, 0x00050014) } },
	{ "stale read: misaligned 4-byte read (VER+2) returns the previous read",
	  0, false, { W4(APIC_TASKPRI, 0x10), R4(APIC_TASKPRI, 0x10), R4(APIC_LVR + 2, 0x10) } },
	{ "stale read: a byte read refreshes byte 0 of the emulator buffer only",
	  0, false, { R4(APIC_LVR, 0x00050014), W4(APIC_TASKPRI, 0x35),
		      RL(APIC_TASKPRI, 1, 0x35), R4(0x10, 0x00050035) } },
	{ "first read of a reserved offset returns the zeroed buffer",
	  0, false, { R4(0x10, 0) } },

	/* ---- MMIO range and hardware disable ---- */
	{ "MMIO beyond the 4 KiB APIC page is not handled; bad read length rejected",
	  0, false, { MRCR(0x1000, 4, -EOPNOTSUPP), MRCW(0x1000, 4, -EOPNOTSUPP),
		      MRCR(APIC_LVR, 0, -EINVAL), MRCR(APIC_LVR, 8, -EINVAL),
		      MRCR(APIC_LVR, 3, 0), MRCW(APIC_LVR, 2, 0) } },
	{ "hardware-disabled APIC: MMIO reads all ones, writes dropped",
	  0, false, { { HWDIS, 0, 0, 0, 0 }, R4(APIC_LVR, 0xffffffff), RL(APIC_LVR, 1, 0xff),
		      W4(APIC_TASKPRI, 0x20), REGV(APIC_TASKPRI, 0), R4(0x10, 0xffffffff),
		      ACC(-1), HASI(0) } },

	/* ---- EOI and PPR ---- */
	{ "EOI clears the highest ISR bit and updates PPR",
	  0, false, { SWEN, IRQV(0x31), ACC(0x31), REGV(ISR(1), 0x20000), R4(APIC_PROCPRI, 0x30),
		      IRQV(0x52), ACC(0x52), REGV(ISR(2), 0x40000), R4(APIC_PROCPRI, 0x50),
		      W4(APIC_EOI, 0), REGV(ISR(2), 0), REGV(ISR(1), 0x20000),
		      R4(APIC_PROCPRI, 0x30), W4(APIC_EOI, 0xdeadbeef), REGV(ISR(1), 0),
		      R4(APIC_PROCPRI, 0) } },
	{ "EOI with an empty ISR is a no-op",
	  0, false, { W4(APIC_TASKPRI, 0x20), W4(APIC_EOI, 0), R4(APIC_TASKPRI, 0x20),
		      R4(APIC_PROCPRI, 0x20) } },
	{ "PPR = TPR when TPR[7:4] >= highest ISR[7:4]",
	  0, false, { SWEN, IRQV(0x31), ACC(0x31), W4(APIC_TASKPRI, 0x45), R4(APIC_PROCPRI, 0x45),
		      W4(APIC_TASKPRI, 0x3a), R4(APIC_PROCPRI, 0x3a) } },
	{ "PPR = highest ISR & 0xf0 when TPR[7:4] < highest ISR[7:4]",
	  0, false, { SWEN, IRQV(0x31), ACC(0x31), W4(APIC_TASKPRI, 0x25), R4(APIC_PROCPRI, 0x30),
		      W4(APIC_TASKPRI, 0), R4(APIC_PROCPRI, 0x30), R4(APIC_TASKPRI, 0) } },

	/* ---- ICR and IPIs ---- */
	{ "ICR2 keeps bits 31:24",
	  0, false, { W4(APIC_ICR2, 0x12345678), R4(APIC_ICR2, 0x12000000) } },
	{ "ICR low is stored with bit 12 (delivery status) cleared",
	  0, false, { SWEN, W4(APIC_ICR, ICR_ALLBUT | 0x1000 | 0x45),
		      R4(APIC_ICR, ICR_ALLBUT | 0x45), R4(IRR(2), 0) } },
	{ "fixed self-IPI (self shorthand) sets the IRR bit",
	  0, false, { SWEN, W4(APIC_ICR, ICR_SELF | 0x1000 | 0x40), R4(APIC_ICR, ICR_SELF | 0x40),
		      R4(IRR(2), 0x1), HASI(1) } },
	{ "fixed IPI to the APIC's own physical ID sets the IRR bit",
	  0, false, { SWEN, W4(APIC_ICR2, 0), W4(APIC_ICR, 0x45), R4(IRR(2), 0x20) } },
	{ "fixed IPI follows a rewritten xAPIC ID",
	  0, false, { SWEN, W4(APIC_ID, 0x05000000), W4(APIC_ICR2, 0), W4(APIC_ICR, 0x45),
		      R4(IRR(2), 0), W4(APIC_ICR2, 0x05000000), W4(APIC_ICR, 0x66),
		      R4(IRR(3), 0x40) } },
	{ "fixed IPI to another physical ID is dropped",
	  0, false, { SWEN, W4(APIC_ICR2, 0x01000000), W4(APIC_ICR, 0x45), R4(IRR(2), 0),
		      HASI(0) } },
	{ "physical broadcast (0xff) reaches the APIC itself",
	  4, false, { SWEN, W4(APIC_ICR2, 0xff000000), W4(APIC_ICR, 0x45), R4(IRR(2), 0x20) } },
	{ "all-including-self reaches the APIC; all-but-self is dropped",
	  0, false, { SWEN, W4(APIC_ICR, ICR_ALLBUT | 0x45), R4(IRR(2), 0),
		      W4(APIC_ICR, ICR_ALLINC | 0x46), R4(IRR(2), 0x40) } },
	{ "logical flat: delivered iff LDR[31:24] & destination != 0",
	  0, false, { SWEN, W4(APIC_ICR2, 0x01000000), W4(APIC_ICR, ICR_LOGICAL | 0x45),
		      R4(IRR(2), 0), W4(APIC_LDR, 0x05000000), W4(APIC_ICR, ICR_LOGICAL | 0x46),
		      W4(APIC_ICR2, 0x0a000000), W4(APIC_ICR, ICR_LOGICAL | 0x47),
		      R4(IRR(2), 0x40), W4(APIC_ICR2, 0xff000000),
		      W4(APIC_ICR, ICR_LOGICAL | 0x48), R4(IRR(2), 0x140) } },
	{ "logical cluster: cluster [7:4] equal and member bits [3:0] intersect",
	  0, false, { SWEN, W4(APIC_DFR, 0), W4(APIC_LDR, 0x12000000),
		      W4(APIC_ICR2, 0x13000000), W4(APIC_ICR, ICR_LOGICAL | 0x41),
		      W4(APIC_ICR2, 0x22000000), W4(APIC_ICR, ICR_LOGICAL | 0x42),
		      W4(APIC_ICR2, 0x15000000), W4(APIC_ICR, ICR_LOGICAL | 0x43),
		      R4(IRR(2), 0x2) } },
	{ "software-disabled APIC drops fixed IPIs",
	  0, false, { W4(APIC_ICR, ICR_SELF | 0x45), R4(IRR(2), 0),
		      R4(APIC_ICR, ICR_SELF | 0x45) } },
	{ "level-triggered IPI: deassert dropped, assert sets IRR and TMR; edge clears TMR",
	  0, false, { SWEN, W4(APIC_ICR, ICR_SELF | ICR_LEVEL | 0x45), R4(IRR(2), 0),
		      W4(APIC_ICR, ICR_SELF | ICR_LEVEL | ICR_ASSERT | 0x45), R4(IRR(2), 0x20),
		      R4(TMR(2), 0x20), W4(APIC_ICR, ICR_SELF | 0x45), R4(TMR(2), 0),
		      R4(IRR(2), 0x20) } },
	{ "lowest-priority IPI to the APIC's own ID is delivered",
	  0, false, { SWEN, W4(APIC_ICR2, 0), W4(APIC_ICR, 0x100 | 0x45), R4(IRR(2), 0x20) } },
	/* APIC-map fast path (kvm_irq_delivery_to_apic_fast), then the slow path */
	{ "lowest-priority logical flat: vector % 3 picks MDA bit 4/5/6, dropped off bit 4",
	  0, false, { SWEN, W4(APIC_LDR, 0x10000000), W4(APIC_ICR2, 0x70000000),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x60), R4(IRR(3), 0x1),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x61), R4(IRR(3), 0x1),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x62), R4(IRR(3), 0x1),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x63), R4(IRR(3), 0x9) } },
	{ "lowest-priority logical flat, two-bit LDR: no map, slow path delivers every vector",
	  0, false, { SWEN, W4(APIC_LDR, 0x30000000), W4(APIC_ICR2, 0x70000000),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x60),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x61),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x100 | 0x62), R4(IRR(3), 0x7) } },
	{ "logical IPI, DFR 0xafffffff: the map takes it as cluster (cluster 0, bit 3)",
	  0, false, { SWEN, W4(APIC_LDR, 0x08000000), W4(APIC_DFR, 0xa0000000),
		      R4(APIC_DFR, 0xafffffff), W4(APIC_ICR2, 0x08000000),
		      W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x7a), R4(IRR(3), 0x04000000),
		      W4(APIC_ICR2, 0x18000000), W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x7b),
		      W4(APIC_ICR2, 0x04000000), W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x7c),
		      R4(IRR(3), 0x04000000) } },
	{ "logical IPI, DFR 0xafffffff, two-bit LDR: no map, slow path matches nothing",
	  0, false, { SWEN, W4(APIC_LDR, 0x0c000000), W4(APIC_DFR, 0xa0000000),
		      W4(APIC_ICR2, 0x08000000), W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x7a),
		      R4(IRR(3), 0), W4(APIC_DFR, 0), W4(APIC_ICR, ICR_ASSERT | ICR_LOGICAL | 0x7b),
		      R4(IRR(3), 0x08000000) } },
	{ "NMI, INIT and SIPI IPIs leave IRR alone",
	  0, false, { SWEN, W4(APIC_ICR, ICR_SELF | 0x400 | 0x45),
		      W4(APIC_ICR, ICR_SELF | 0x500 | ICR_ASSERT | 0x45),
		      W4(APIC_ICR, ICR_SELF | 0x600 | 0x45), R4(IRR(2), 0), HASI(0) } },

	/* ---- interrupt acceptance ---- */
	{ "acceptance needs the vector's class above PPR",
	  0, false, { SWEN, W4(APIC_TASKPRI, 0x50), IRQV(0x45), HASI(0), ACC(-1),
		      W4(APIC_TASKPRI, 0x40), ACC(-1), W4(APIC_TASKPRI, 0x3f), HASI(1), ACC(0x45),
		      REGV(IRR(2), 0), REGV(ISR(2), 0x20), R4(APIC_PROCPRI, 0x40) } },
	{ "acceptance takes the highest IRR vector, lower ones wait for EOI",
	  0, false, { SWEN, IRQV(0x31), IRQV(0x61), IRQV(0x45), ACC(0x61), ACC(-1),
		      W4(APIC_EOI, 0), ACC(0x45), W4(APIC_EOI, 0), ACC(0x31), W4(APIC_EOI, 0),
		      ACC(-1), R4(APIC_PROCPRI, 0), REGV(ISR(1), 0), REGV(IRR(1), 0) } },
	{ "nested acceptance: a higher class preempts, EOIs unwind in order",
	  0, false, { SWEN, IRQV(0x61), ACC(0x61), IRQV(0x65), ACC(-1), IRQV(0x71), ACC(0x71),
		      R4(APIC_PROCPRI, 0x70), REGV(ISR(3), 0x20002), W4(APIC_EOI, 0),
		      REGV(ISR(3), 0x2), R4(APIC_PROCPRI, 0x60), ACC(-1), W4(APIC_EOI, 0),
		      ACC(0x65), R4(APIC_PROCPRI, 0x60), W4(APIC_EOI, 0), REGV(ISR(3), 0),
		      R4(APIC_PROCPRI, 0) } },

	/* ---- timer registers, ESR ---- */
	{ "TDCR keeps bits 0, 1 and 3 (mask 0xb)",
	  0, false, { W4(APIC_TDCR, 0xff), R4(APIC_TDCR, 0xb), W4(APIC_TDCR, 0x4),
		      R4(APIC_TDCR, 0) } },
	{ "TMICT is stored; TMCCT reads 0 (countdown not modelled)",
	  0, false, { SWEN, W4(APIC_TMICT, 0x12345678), R4(APIC_TMICT, 0x12345678),
		      R4(APIC_TMCCT, 0) } },
	{ "TMICT is kept across LVTT mode changes and written with bit 18 set",
	  0, false, { W4(APIC_TMICT, 0x1000), W4(APIC_LVTT, LVT_MASKED | 0x20000),
		      R4(APIC_TMICT, 0x1000), W4(APIC_LVTT, LVT_MASKED | 0x40000),
		      R4(APIC_LVTT, LVT_MASKED), R4(APIC_TMICT, 0x1000), W4(APIC_TMICT, 0x2000),
		      R4(APIC_TMICT, 0x2000), R4(APIC_TMCCT, 0) } },
	{ "ESR write is accepted and has no effect",
	  0, false, { W4(APIC_ESR, 0x5), R4(APIC_ESR, 0), REGV(APIC_ESR, 0) } },
};

static const char *const op_names[] = {
	[END] = "end", [W] = "write", [R] = "read", [REG] = "register", [RDOK] = "reg_read",
	[RDFAIL] = "reg_read(fail)", [WRET] = "reg_write", [MRC_R] = "mmio_read rc",
	[MRC_W] = "mmio_write rc", [IRQ] = "set_irq", [ACCEPT] = "accept", [HAS] = "has_interrupt",
	[BASE] = "apic base", [HWDIS] = "hw disable", [RESET] = "reset",
};

/* Run one step; on mismatch fill *got / *want and return false. */
static bool run_step(struct kvm_lapic *apic, const struct lapic_case *c, const struct step *s,
		     unsigned long long *got, unsigned long long *want)
{
	u32 v = 0;
	int rc;

	switch (s->op) {
	case W:
		rc = apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + s->off, s->len, s->val);
		*got = (unsigned)rc;
		*want = 0;
		return rc == 0;
	case R:
		rc = apic_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + s->off, s->len, &v);
		*got = rc ? 0xbad00000000ull | (unsigned)rc : v;
		*want = s->val;
		return rc == 0 && v == s->val;
	case REG:
		*got = kvm_lapic_get_reg(apic, s->off);
		*want = s->val;
		return *got == *want;
	case RDOK:
		rc = kvm_lapic_reg_read(apic, s->off, s->len, &v);
		*got = rc ? 0xbad00000000ull | (unsigned)rc : v;
		*want = s->val;
		return rc == 0 && v == s->val;
	case RDFAIL:
		*got = (unsigned)kvm_lapic_reg_read(apic, s->off, s->len, &v);
		*want = 1;
		return *got == *want;
	case WRET:
		rc = kvm_lapic_reg_write(apic, s->off, s->val);
		*got = (unsigned)rc;
		*want = (unsigned)s->ret;
		return rc == s->ret;
	case MRC_R:
		rc = apic_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + s->off, s->len, &v);
		*got = (unsigned)rc;
		*want = (unsigned)s->ret;
		return rc == s->ret;
	case MRC_W:
		rc = apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + s->off, s->len, 0);
		*got = (unsigned)rc;
		*want = (unsigned)s->ret;
		return rc == s->ret;
	case IRQ:
		kvm_apic_set_irq_vector(apic, (int)s->val);
		return true;
	case ACCEPT:
		rc = kvm_apic_accept_interrupt(apic);
		*got = (unsigned)rc;
		*want = (unsigned)s->ret;
		return rc == s->ret;
	case HAS:
		*got = kvm_apic_has_interrupt(apic);
		*want = s->val;
		return *got == *want;
	case BASE:
		*got = apic->base_address;
		*want = s->val;
		return *got == *want;
	case HWDIS:
		apic->base_address &= ~(u64)MSR_IA32_APICBASE_ENABLE;
		return true;
	case RESET:
		kvm_lapic_reset(apic, !c->ap);
		return true;
	}
	*got = s->op;
	*want = END;
	return false;
}

static struct kvm_lapic apic_storage;

static void run_case(const struct lapic_case *c)
{
	struct kvm_lapic *apic = &apic_storage;
	unsigned long long got = 0, want = 0;
	size_t i;

	kvm_lapic_init_standalone(apic, c->id, !c->ap);
	for (i = 0; i < ARRAY_SIZE(c->s) && c->s[i].op != END; i++) {
		const struct step *s = &c->s[i];

		if (!run_step(apic, c, s, &got, &want)) {
			tap_ok(0, "%s", c->name);
			tap_diag("  step %zu: %s off 0x%x len %d: got 0x%llx, want 0x%llx", i + 1,
				 op_names[s->op], s->off, s->len, got, want);
			return;
		}
	}
	tap_ok(1, "%s", c->name);
}

/* The nonzero words of a register page, as KVM_GET_LAPIC prints them. */
struct page_word {
	u16 off;
	u32 val;
};

/* Compare the whole register page with the given nonzero words; all others must be 0. */
static bool page_equals(struct kvm_lapic *apic, const struct page_word *w, size_t n)
{
	bool ok = true;

	for (u32 off = 0; off < 0x1000; off += 4) {
		u32 want = 0, got = kvm_lapic_get_reg(apic, off);

		for (size_t i = 0; i < n; i++)
			if (w[i].off == off)
				want = w[i].val;
		if (got != want) {
			tap_diag("  [%03x] = %08x, want %08x", off, got, want);
			ok = false;
		}
	}
	return ok;
}

/* real-kvm-notes §1, KVM_GET_LAPIC at reset (BSP). */
static void test_reset_page(void)
{
	static const struct page_word want[] = {
		{ 0x030, 0x00050014 }, { 0x0e0, 0xffffffff }, { 0x0f0, 0x000000ff },
		{ 0x320, 0x00010000 }, { 0x330, 0x00010000 }, { 0x340, 0x00010000 },
		{ 0x350, 0x00000700 }, { 0x360, 0x00010000 }, { 0x370, 0x00010000 },
	};
	struct kvm_lapic *apic = &apic_storage;

	kvm_lapic_init_standalone(apic, 0, true);
	tap_ok(page_equals(apic, want, ARRAY_SIZE(want)),
	       "reset BSP: register page equals real KVM_GET_LAPIC (nonzero words only)");
}

/*
 * The guest program of real-kvm-notes §1, replayed through MMIO: every read
 * gives what the real guest read, and the final page equals KVM_GET_LAPIC after
 * the run.
 */
static void test_real_kvm_replay(void)
{
	static const struct step prog[] = {
		R4(APIC_ID, 0), R4(APIC_LVR, 0x00050014), R4(0x10, 0x00050014),
		R4(APIC_TASKPRI, 0), W4(APIC_TASKPRI, 0x20), R4(APIC_TASKPRI, 0x20),
		R4(APIC_PROCPRI, 0x20), W4(APIC_TASKPRI, 0x35), R4(APIC_TASKPRI, 0x35),
		R4(APIC_PROCPRI, 0x35), R4(APIC_SPIV, 0xff), W4(APIC_SPIV, 0x1ff),
		R4(APIC_SPIV, 0x1ff), R4(APIC_LDR, 0), R4(APIC_DFR, 0xffffffff),
		R4(APIC_LVTT, 0x00010000), R4(APIC_TMCCT, 0), RL(APIC_LVR, 1, 0x14),
		RL(APIC_LVR + 2, 1, 0x05), WL(APIC_TASKPRI, 1, 0x77), R4(APIC_TASKPRI, 0x35),
		W4(APIC_LDR, 0x01000000), R4(APIC_LDR, 0x01000000), W4(APIC_ID, 0x05000000),
		R4(APIC_ID, 0x05000000), W4(APIC_TASKPRI, 0x10), R4(APIC_TASKPRI, 0x10),
		R4(0x10, 0x10), R4(0x800, 0x10), R4(0xff0, 0x10),
	};
	static const struct page_word want[] = {
		{ 0x020, 0x05000000 }, { 0x030, 0x00050014 }, { 0x080, 0x00000010 },
		{ 0x0a0, 0x00000010 }, { 0x0d0, 0x01000000 }, { 0x0e0, 0xffffffff },
		{ 0x0f0, 0x000001ff }, { 0x320, 0x00010000 }, { 0x330, 0x00010000 },
		{ 0x340, 0x00010000 }, { 0x350, 0x00000700 }, { 0x360, 0x00010000 },
		{ 0x370, 0x00010000 },
	};
	static const struct lapic_case c = { .name = "replay" };
	struct kvm_lapic *apic = &apic_storage;
	unsigned long long got = 0, want_v = 0;
	bool ok = true;

	kvm_lapic_init_standalone(apic, 0, true);
	for (size_t i = 0; i < ARRAY_SIZE(prog) && ok; i++) {
		if (!run_step(apic, &c, &prog[i], &got, &want_v)) {
			tap_diag("  step %zu: %s off 0x%x: got 0x%llx, want 0x%llx", i + 1,
				 op_names[prog[i].op], prog[i].off, got, want_v);
			ok = false;
		}
	}
	ok = ok && page_equals(apic, want, ARRAY_SIZE(want));
	tap_ok(ok, "real-KVM program of real-kvm-notes §1: reads and final KVM_GET_LAPIC match");
}

/* Every fixed vector 16..255 lands in IRR register vec/32, bit vec%32, and is accepted. */
static void test_all_vectors(void)
{
	struct kvm_lapic *apic = &apic_storage;
	bool ok = true;

	for (int vec = 16; vec < 256 && ok; vec++) {
		u32 icr = ICR_SELF | (u32)vec;

		kvm_lapic_init_standalone(apic, 0, true);
		apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_SPIV, 4, 0x1ff);
		apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_ICR, 4, icr);
		for (int i = 0; i < 8; i++) {
			u32 want = i == vec / 32 ? 1u << (vec % 32) : 0;

			if (kvm_lapic_get_reg(apic, IRR(i)) != want) {
				tap_diag("  vector 0x%x: IRR%d = %08x, want %08x", vec, i,
					 kvm_lapic_get_reg(apic, IRR(i)), want);
				ok = false;
			}
		}
		if (ok && kvm_apic_accept_interrupt(apic) != vec) {
			tap_diag("  vector 0x%x not accepted", vec);
			ok = false;
		}
		if (ok && kvm_lapic_get_reg(apic, ISR(vec / 32)) != 1u << (vec % 32)) {
			tap_diag("  vector 0x%x: ISR%d = %08x", vec, vec / 32,
				 kvm_lapic_get_reg(apic, ISR(vec / 32)));
			ok = false;
		}
		if (ok && kvm_lapic_get_reg(apic, APIC_PROCPRI) != ((u32)vec & 0xf0)) {
			tap_diag("  vector 0x%x: PPR = %02x", vec,
				 kvm_lapic_get_reg(apic, APIC_PROCPRI));
			ok = false;
		}
	}
	tap_ok(ok, "fixed self-IPI of every vector 16-255: IRR/ISR bit position and PPR");
}

/* lapic_reg_is_self_determined() over every 16-byte offset of the page. */
static void test_self_determined(void)
{
	static const u16 self[] = {
		APIC_ID, APIC_LVR, APIC_TASKPRI, APIC_ARBPRI, APIC_LDR, APIC_DFR, APIC_SPIV,
		APIC_ESR, APIC_ICR, APIC_ICR2, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0,
		APIC_LVT1, APIC_LVTERR, APIC_TMICT, APIC_TDCR,
	};
	bool ok = true;

	for (u32 reg = 0; reg < 0x1000; reg += 0x10) {
		bool want = false;

		for (size_t i = 0; i < ARRAY_SIZE(self); i++)
			want |= self[i] == reg;
		if (lapic_reg_is_self_determined(reg) != want) {
			tap_diag("  0x%03x (%s): got %d, want %d", reg,
				 lapic_reg_name(reg) ? lapic_reg_name(reg) : "reserved",
				 !want, want);
			ok = false;
		}
	}
	tap_ok(ok, "lapic_reg_is_self_determined: exactly the 18 registers only own accesses set");
}

/*
 * A relocated APIC (kvm_lapic_apply_base() with another base): its MMIO
 * device claims the new page only; vcpu_mmio_read() completes what it does
 * not claim as unclaimed MMIO (all ones, into the emulator's buffer) and
 * vcpu_mmio_write() drops it.
 */
static void test_relocation(void)
{
	struct kvm_lapic *apic = &apic_storage;
	const gpa_t moved = 0xfed00000;
	u32 v = 0;
	bool ok;

	kvm_lapic_init_standalone(apic, 0, true);
	kvm_lapic_apply_base(apic, moved | MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_BSP, 0);
	ok = apic_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + APIC_LVR, 4, &v) == -EOPNOTSUPP &&
	     apic_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_TASKPRI, 4, 0x20) == -EOPNOTSUPP &&
	     apic_mmio_read(apic, moved - 4, 4, &v) == -EOPNOTSUPP &&
	     apic_mmio_read(apic, moved + PAGE_SIZE, 4, &v) == -EOPNOTSUPP;
	ok = ok && apic_mmio_write(apic, moved + APIC_TASKPRI, 4, 0x30) == 0 &&
	     kvm_lapic_get_reg(apic, APIC_TASKPRI) == 0x30 &&
	     apic_mmio_read(apic, moved + APIC_LVR, 4, &v) == 0 && v == 0x50014;
	ok = ok && !vcpu_mmio_write(apic, APIC_DEFAULT_PHYS_BASE + APIC_TASKPRI, 4, 0x40) &&
	     kvm_lapic_get_reg(apic, APIC_TASKPRI) == 0x30 &&
	     !vcpu_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + APIC_TASKPRI, 4, &v) && v == 0xffffffffu &&
	     apic->last_mmio_read == 0xffffffffu &&
	     !vcpu_mmio_read(apic, APIC_DEFAULT_PHYS_BASE + APIC_TASKPRI, 1, &v) && v == 0xff &&
	     vcpu_mmio_read(apic, moved + APIC_TASKPRI, 4, &v) && v == 0x30;
	tap_ok(ok, "relocated APIC: only the new page is claimed; elsewhere reads all ones, writes dropped");
}

int main(void)
{
	size_t i;

	tap_plan((int)ARRAY_SIZE(cases) + 5);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	test_reset_page();
	test_real_kvm_replay();
	test_all_vectors();
	test_self_determined();
	test_relocation();
	return tap_done();
}
