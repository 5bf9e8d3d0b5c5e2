/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel local APIC in xAPIC mode (arch/x86/kvm/lapic.c, v5.15-v5.17;
 * docs/kvm-protocol.md §9).  One register page per vCPU (apic->regs), which is also
 * the virtual-APIC page (VMX) / AVIC backing page (SVM) the simulated hardware
 * reads and writes directly.
 *
 * A 'standalone' APIC (vcpu == NULL) is the same code with no vCPU behind it:
 * it is the sequential reference the oracles compare against and the model
 * side of `kvmlab oracle`.  A standalone APIC delivers an IPI only to itself
 * (self-IPI by destination ID or shorthand) and never raises requests.
 */
#ifndef KVMLAB_MODEL_LAPIC_H
#define KVMLAB_MODEL_LAPIC_H

#include "kernel/types.h"

struct kvm_vcpu;

#define APIC_ID 0x20
#define APIC_LVR 0x30
#define APIC_TASKPRI 0x80
#define APIC_ARBPRI 0x90
#define APIC_PROCPRI 0xa0
#define APIC_EOI 0xb0
#define APIC_RRR 0xc0
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_SPIV 0xf0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVTCMCI 0x2f0
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVTT 0x320
#define APIC_LVTTHMR 0x330
#define APIC_LVTPC 0x340
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVTERR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0
#define APIC_SELF_IPI 0x3f0

#define APIC_SPIV_APIC_ENABLED BIT(8)
#define APIC_VECTOR_MASK 0xffu
#define APIC_MODE_MASK 0x700u
#define APIC_INT_LEVELTRIG BIT(15)
#define APIC_DEST_MASK 0x800u
#define APIC_DEST_NOSHORT 0x0u
#define GET_APIC_DEST_FIELD(x) (((x) >> 24) & 0xffu)
#define APIC_BROADCAST 0xffu
#define APIC_LVT_MASKED BIT(16)
#define APIC_ICR_BUSY BIT(12)
#define APIC_DEST_PHYSICAL 0x00000
#define APIC_DEST_LOGICAL 0x00800
#define APIC_DM_FIXED 0x00000
#define APIC_SHORT_MASK 0xc0000
#define APIC_DEST_SELF 0x40000
#define APIC_DEST_ALLINC 0x80000
#define APIC_DEST_ALLBUT 0xc0000
#define MSR_IA32_APICBASE_ENABLE BIT(11)
#define MSR_IA32_APICBASE_BSP BIT(8)
/* The kernel's (0xfffff<<12) is an int that sign-extends; the model's bases are below 4 GiB. */
#define MSR_IA32_APICBASE_BASE (0xfffffull << 12)
#define APIC_DEFAULT_PHYS_BASE 0xfee00000ul	/* asm/apicdef.h */
#define X2APIC_ENABLE BIT(10)		/* IA32_APIC_BASE.EXTD */

/*
 * enum lapic_mode (arch/x86/kvm/lapic.h).  x2APIC mode is modelled for what
 * it does to the xAPIC MMIO window (closed: KVM's MMIO hole; plain memory
 * through the APIC SPTE) and to AVIC (x2AVIC does not redirect it); the
 * register file stays in xAPIC form and guests have no x2APIC MSR accesses.
 */
enum lapic_mode {
	LAPIC_MODE_DISABLED = 0,
	LAPIC_MODE_INVALID = X2APIC_ENABLE,
	LAPIC_MODE_XAPIC = MSR_IA32_APICBASE_ENABLE,
	LAPIC_MODE_X2APIC = MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE,
};

struct kvm_lapic {
	struct kvm_vcpu *vcpu;		/* NULL: standalone */
	u64 base_address;		/* MSR_IA32_APICBASE value (0xfee00900 on the BSP) */
	bool sw_enabled;		/* SPIV bit 8 (apic_sw_enabled) */
	bool irr_pending;
	s16 isr_count;
	s16 highest_isr_cache;
	u32 last_mmio_read;		/* value of the previous MMIO read (see apic_mmio_read) */
	u8 regs[4096] __attribute__((aligned(8)));	/* set_bit() works on 8-byte words */
};

/* kvm_create_lapic() for a vCPU (arena memory); kvm_arch_vcpu_create() resets it. */
int kvm_apic_accept_pic_intr(struct kvm_vcpu *vcpu);
int kvm_create_lapic(struct kvm_vcpu *vcpu);
/* A standalone APIC with the given xAPIC ID, in its reset state. */
void kvm_lapic_init_standalone(struct kvm_lapic *apic, u32 apic_id, bool bsp);
void kvm_lapic_reset(struct kvm_lapic *apic, bool bsp);
/* Store IA32_APIC_BASE; on a hardware enable the xAPIC ID becomes id.  Returns the old value. */
u64 kvm_lapic_apply_base(struct kvm_lapic *apic, u64 value, u8 id);
struct kvm;
/* The APICv part of kvm_recalculate_apic_map(): the APIC-ID inhibit, set or cleared. */
void kvm_recalculate_apic_map_inhibits(struct kvm *kvm);
/* __kvm_apic_set_base() (a vCPU's APIC: APICv follows), kvm_lapic_get_base(), kvm_get_apic_mode(). */
void __kvm_apic_set_base(struct kvm_vcpu *vcpu, u64 value);
u64 kvm_lapic_get_base(struct kvm_vcpu *vcpu);
enum lapic_mode kvm_get_apic_mode(struct kvm_vcpu *vcpu);

static inline u32 kvm_lapic_get_reg(struct kvm_lapic *apic, int reg_off)
{
	return *(u32 *)(apic->regs + reg_off);
}
static inline void kvm_lapic_set_reg(struct kvm_lapic *apic, int reg_off, u32 val)
{
	*(u32 *)(apic->regs + reg_off) = val;
}

/* 0 = handled; 1 = not handled (invalid offset/length: see apic_mmio_read). */
int kvm_lapic_reg_read(struct kvm_lapic *apic, u32 offset, int len, void *data);
/* 0 = valid write; 1 = invalid (ignored through MMIO). */
int kvm_lapic_reg_write(struct kvm_lapic *apic, u32 reg, u32 val);
/* The LAPIC's MMIO handlers: 0, or -EOPNOTSUPP outside its page (at its base). */
int apic_mmio_read(struct kvm_lapic *apic, gpa_t address, int len, u32 *val);
int apic_mmio_write(struct kvm_lapic *apic, gpa_t address, int len, u32 val);
/* The emulator's MMIO: the LAPIC's page, else unclaimed (reads all ones); true if the LAPIC claimed it. */
bool vcpu_mmio_read(struct kvm_lapic *apic, gpa_t addr, int len, u32 *val);
bool vcpu_mmio_write(struct kvm_lapic *apic, gpa_t addr, int len, u32 val);
/* VMX APIC-write / AVIC trap: the value is already in regs; replay it. */
void kvm_apic_write_nodecode(struct kvm_vcpu *vcpu, u32 offset);
/* Accept the highest pending IRR vector above PPR into ISR (interrupt injection). */
int kvm_apic_accept_interrupt(struct kvm_lapic *apic);
bool kvm_apic_has_interrupt(struct kvm_lapic *apic);
void kvm_apic_update_apicv(struct kvm_vcpu *vcpu);
void kvm_apic_set_irq_vector(struct kvm_lapic *apic, int vec);	/* set IRR bit + wake */
u32 kvm_apic_id(struct kvm_lapic *apic);
/* EOI by register write (VMX APIC-access fast path, handle_apic_access). */
void kvm_lapic_set_eoi(struct kvm_vcpu *vcpu);
/* Trap-like EOI exit, ISR/PPR already updated by hardware (VMX EOI-induced exit). */
void kvm_apic_set_eoi_accelerated(struct kvm_vcpu *vcpu, int vector);
/* lapic.h kvm_lapic_set_irr(): set the IRR bit (atomic) and irr_pending. */
void kvm_lapic_set_irr(int vec, struct kvm_lapic *apic);
/* Does 'target' match an IPI's destination (shorthand, xAPIC MDA, dest mode)? */
bool kvm_apic_match_dest(struct kvm_lapic *target, struct kvm_lapic *source, u32 shorthand,
			 u32 dest, u32 dest_mode);
/*
 * The highest IRR vector (or PIR vector, if 'pir') the guest can take now
 * (above PPR, APIC hardware-enabled: what kvm_apic_has_interrupt() answers
 * once the PIR is harvested), or -1; reads only, no side effects.
 */
int kvm_apic_deliverable_vector(struct kvm_lapic *apic, const u32 *pir);
/* lapic.c kvm_apic_update_irr(): harvest a PIR into IRR; true if the highest IRR is new. */
bool kvm_apic_update_irr(struct kvm_vcpu *vcpu, u32 *pir, int *max_irr);
int kvm_lapic_find_highest_irr(struct kvm_vcpu *vcpu);
bool kvm_lapic_enabled(struct kvm_vcpu *vcpu);
/*
 * Simulated hardware: AVIC / APICv virtual-interrupt delivery over the
 * backing page: the highest IRR vector above the priority that 'tpr' (the
 * TPR the CPU uses: SVM's V_TPR, VMX's VTPR) and ISR make moves to ISR and
 * PPR is raised.  Returns the vector or -1.
 */
int kvm_apic_hw_deliver(struct kvm_lapic *apic, u32 tpr);
/* lapic.c kvm_lapic_set_tpr() / kvm_lapic_get_cr8() (v6.1): CR8 is TPR[7:4]. */
void kvm_lapic_set_tpr(struct kvm_vcpu *vcpu, unsigned long cr8);
u64 kvm_lapic_get_cr8(struct kvm_vcpu *vcpu);
/* lapic.c kvm_apic_update_ppr() (v7.2): apic_update_ppr(). */
void kvm_apic_update_ppr(struct kvm_vcpu *vcpu);
/* lapic.c kvm_lapic_update_cr8_intercept() (v7.2, c7722e5e1dae; model/x86.c). */
void kvm_lapic_update_cr8_intercept(struct kvm_vcpu *vcpu);
/* Simulated hardware: VMX EOI virtualization with servicing vector 'svi'; returns the new SVI. */
int kvm_apic_hw_virtual_eoi(struct kvm_lapic *apic, int svi);
int kvm_apic_highest_isr(struct kvm_lapic *apic);
struct kvm;
/* A fixed MSI from the host (KVM_SIGNAL_MSI) to physical APIC ID dest_id. */
int kvm_set_msi(struct kvm *kvm, u32 dest_id, int vector);
/* Send the IPI an ICR write describes (xAPIC destination in icr_high[31:24]). */
void kvm_apic_send_ipi(struct kvm_lapic *apic, u32 icr_low, u32 icr_high);

/*
 * Registers whose value depends only on the accesses of the APIC's own vCPU
 * (no IPIs from others, no interrupt acceptance, no time): the ones the
 * sequential reference can predict.
 */
bool lapic_reg_is_self_determined(u32 reg);
/* Human name of a register offset ("TPR", "ISR1", "LVTT"...), or NULL. */
const char *lapic_reg_name(u32 reg);
/* Inverse of lapic_reg_name() (case-insensitive); -1 if unknown. */
int lapic_reg_parse(const char *name);

#endif
