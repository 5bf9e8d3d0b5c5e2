// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM side of a scenario; see model/vmm.h.
 */
#include <stdio.h>

#include "model/ghost.h"
#include "model/kvm.h"
#include "model/lapic.h"
#include "model/trace.h"
#include "model/vmm.h"

void vmm_config(const struct scenario *s, int policy, int vendor, u64 extra_bugs,
		struct kvm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));	/* padding too: kvm->cfg is model state */
	cfg->policy = policy >= 0 ? policy : s->policy >= 0 ? s->policy : KVM_POLICY_VM;
	cfg->vendor = vendor >= 0 ? vendor : s->vendor >= 0 ? s->vendor : KVM_VENDOR_SVM;
	cfg->bugs = s->bugs | extra_bugs;
	cfg->zap_can_yield = s->zap_yield;
	cfg->preempt = s->preempt;
	cfg->x2avic = !s->no_x2avic;
	cfg->enable_apicv = true;
	cfg->tlb = true;
}

/*
 * KVM_CREATE_VCPU, then, with 'apic-enabled yes', the VMM's KVM_SET_LAPIC of a
 * software-enabled APIC (SPIV 0x1ff), as after a firmware that enabled it;
 * the sequential reference APIC gets the same write.
 */
static struct kvm_vcpu *vmm_create_vcpu(struct vmm *vmm, int i)
{
	struct kvm_vcpu *vcpu = kvm_vm_ioctl_create_vcpu(vmm->kvm, i, &vmm->scn->vcpu[i]);

	if (vcpu && vmm->scn->apic_enabled) {
		kvm_lapic_reg_write(vcpu->arch.apic, APIC_SPIV, 0x1ff);
		kvm_lapic_reg_write(vcpu->ghost.ref, APIC_SPIV, 0x1ff);
	}
	return vcpu;
}

struct vmm *vmm_create(const struct scenario *s, const struct kvm_config *cfg)
{
	struct vmm *vmm = kvm_zalloc(sizeof(*vmm));

	vmm->scn = s;
	vmm->nr_vcpus = s->nr_vcpus;
	vmm->kvm = kvm_create_vm(cfg, s->ram_pages);
	for (int i = 0; i < s->nr_initial_vcpus; i++) {
		vmm->vcpus[i] = vmm_create_vcpu(vmm, i);
		vmm->created[i] = 1;
	}
	return vmm;
}

int vmm_vcpu_run_program(struct vmm *vmm, int idx)
{
	struct kvm_vcpu *vcpu;

	if (idx < vmm->scn->nr_initial_vcpus) {
		vcpu = vmm->vcpus[idx];	/* created before any actor ran */
	} else {
		wait_until_ne(vmm->created[idx], 0);	/* KVM_CREATE_VCPU by an actor */
		vcpu = READ_ONCE(vmm->vcpus[idx]);
	}
	/* The guest program starts over: its first instruction, no interrupt taken yet. */
	vcpu->arch.rip = 0;
	vcpu->arch.guest_irqs = 0;
	__atomic_store_n(&vcpu->arch.guest_stop, 0, __ATOMIC_RELAXED);
	return vcpu_run(vcpu);	/* KVM_RUN until the program's "userspace exit" */
}

void vmm_actor_op(struct vmm *vmm, int actor, const struct actor_op *op)
{
	struct kvm *kvm = vmm->kvm;

	switch (op->kind) {
	case AOP_INHIBIT_SET:
	case AOP_INHIBIT_CLEAR:
		kvm_trace(EV_ACTOR_OP, actor, op->kind, op->reason, 0);
		kvm_set_or_clear_apicv_inhibit(kvm, op->reason, op->kind == AOP_INHIBIT_SET);
		break;
	case AOP_ZAP:
		kvm_trace(EV_ACTOR_OP, actor, op->kind, op->gfn_start, op->gfn_end);
		kvm_zap_gfn_range(kvm, op->gfn_start, op->gfn_end);
		break;
	case AOP_MSI:
		kvm_trace(EV_ACTOR_OP, actor, op->kind, op->vcpu, op->vector);
		kvm_set_msi(kvm, op->vcpu, op->vector);
		break;
	case AOP_PIC_IRQ:	/* KVM_IRQ_LINE -> kvm_set_irq() -> kvm_set_pic_irq(): an edge */
		kvm_trace(EV_ACTOR_OP, actor, op->kind, op->vector, 0);
		kvm_pic_set_irq(kvm, op->vector, 1);
		kvm_pic_set_irq(kvm, op->vector, 0);
		break;
	case AOP_CREATE_VCPU:
		kvm_trace(EV_ACTOR_OP, actor, op->kind, op->vcpu, 0);
		if (READ_ONCE(vmm->created[op->vcpu]))
			break;	/* repeated stress iterations create it once */
		WRITE_ONCE(vmm->vcpus[op->vcpu], vmm_create_vcpu(vmm, op->vcpu));
		WRITE_ONCE(vmm->created[op->vcpu], 1);
		break;
	}
}

/*
 * A register as KVM_GET_LAPIC returns it: kvm_apic_get_state() syncs PIR into
 * IRR first (vmx_sync_pir_to_irr()), so a posted vector counts as requested.
 */
static u32 vmm_final_reg(struct kvm_vcpu *vcpu, u16 off)
{
	u32 v = kvm_lapic_get_reg(vcpu->arch.apic, off);

	if (off >= APIC_IRR && off < APIC_IRR + 0x80 && vcpu->kvm->cfg.vendor == KVM_VENDOR_VMX)
		v |= vcpu->pi_desc.pir[(off - APIC_IRR) / 0x10];
	return v;
}

enum kvm_finding vmm_check_expect(const struct vmm *vmm, char *msg, size_t len, int *vcpu)
{
	const struct scenario *s = vmm->scn;

	for (int i = 0; i < s->nr_expect; i++) {
		const struct scn_expect *e = &s->expect[i];
		struct kvm_vcpu *v = vmm->created[e->vcpu] ? vmm->vcpus[e->vcpu] : NULL;
		char want[64];
		u32 got;

		scn_expect_text(e, want, sizeof(want));
		*vcpu = e->vcpu;
		if (e->kind == EXP_INHIBITS) {
			unsigned long got_r = vmm->kvm->arch.apicv_inhibit_reasons;

			if (got_r != e->val) {
				struct scn_expect have = { .kind = EXP_INHIBITS, .val = (u32)got_r };
				char h[128];

				snprintf(msg, len, "expect '%s': the VM ends with '%s'", want,
					 scn_expect_text(&have, h, sizeof(h)));
				return F_EXPECT_FAILED;
			}
			continue;
		}
		if (!v) {
			snprintf(msg, len, "expect '%s': vCPU %u was never created", want, e->vcpu);
			return F_EXPECT_FAILED;
		}
		switch (e->kind) {
		case EXP_IRQS:
			got = v->arch.guest_irqs;
			if (got != e->val) {
				snprintf(msg, len, "expect '%s': vCPU %u's guest took %u interrupt%s",
					 want, e->vcpu, got, got == 1 ? "" : "s");
				return F_EXPECT_FAILED;
			}
			break;
		case EXP_REG:
			got = vmm_final_reg(v, e->off);
			if (got != e->val) {
				snprintf(msg, len, "expect '%s': vCPU %u's register reads 0x%x", want,
					 e->vcpu, got);
				return F_EXPECT_FAILED;
			}
			break;
		case EXP_APICV:
			if (v->arch.apicv_active != !!e->val) {
				snprintf(msg, len, "expect '%s': vCPU %u ends with %s %s", want, e->vcpu,
					 vmm->kvm->cfg.vendor == KVM_VENDOR_SVM ? "AVIC" : "APICv",
					 v->arch.apicv_active ? "on" : "off");
				return F_EXPECT_FAILED;
			}
			break;
		}
	}
	return F_NONE;
}
