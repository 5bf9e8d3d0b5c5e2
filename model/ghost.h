/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ghost instrumentation: the oracles' bookkeeping inside the model (the
 * sequential reference xAPIC per vCPU, the zap generations behind
 * 'stale-spte', the in-flight requester count behind 'lost-request').
 *
 * Ghost accesses are not kernel accesses: they use the compiler's atomics
 * directly, so they are never scheduling points for the checker and never
 * data races for the thread runtime, and the model never branches on them
 * except to report a finding.
 */
#ifndef KVMLAB_MODEL_GHOST_H
#define KVMLAB_MODEL_GHOST_H

#include "model/kvm.h"

#define GHOST_READ(x) (rt->observe(&(x), sizeof(x), false), __atomic_load_n(&(x), __ATOMIC_RELAXED))
#define GHOST_WRITE(x, v) (rt->observe(&(x), sizeof(x), true), __atomic_store_n(&(x), (v), __ATOMIC_RELAXED))
#define GHOST_ADD(x, v) (rt->observe(&(x), sizeof(x), true), __atomic_fetch_add(&(x), (v), __ATOMIC_RELAXED))

struct guest_op;

void ghost_vcpu_init(struct kvm_vcpu *vcpu);
/* A guest APIC access retired: check it against the reference, then apply it there. */
void ghost_apic_access(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 value, int path);
/*
 * A guest MOV to/from CR8 retired with 'value' (enum apic_path 'path'): a
 * write sets the reference APIC's TPR to value << 4 (SDM vol. 3A 10.8.6.1:
 * CR8 is TPR[7:4], TPR[3:0] cleared); a read that is not its TPR[7:4] is
 * 'wrong-apic-read'.
 */
void ghost_cr8_access(struct kvm_vcpu *vcpu, const struct guest_op *op, u32 value, int path);
/* The guest wrote IA32_APIC_BASE: the reference APIC follows. */
void ghost_apic_set_base(struct kvm_vcpu *vcpu, u64 value);
/* The guest program finished: the APIC must equal the reference. */
void ghost_program_done(struct kvm_vcpu *vcpu);
/* Before every guest instruction: no kicked WAIT request may be pending. */
void ghost_check_requests(struct kvm_vcpu *vcpu);
/* An APIC access hit an MMIO SPTE: it must not while APICv is fully active. */
void ghost_check_accel(struct kvm_vcpu *vcpu);
/* A fault took its mmu_seq snapshot for gfn / returned. */
void ghost_fault_begin(struct kvm_vcpu *vcpu, gfn_t gfn);
void ghost_fault_end(struct kvm_vcpu *vcpu);
/* A zap passed gfn (present or not). */
void ghost_zap_gfn(struct kvm *kvm, struct kvm_memory_slot *slot, gfn_t gfn);
/*
 * A zap (and the TLB flush it owes) is complete: the TLB entries it found
 * for the gfns it passed must not be used any more (kvm_zap_gfn_range()'s
 * end, and a yield, which flushes first).
 */
void ghost_zap_complete(struct kvm *kvm, gfn_t start, gfn_t end);
/* The vCPU's CPU cached a translation of gfn (it is current: no zap since). */
void ghost_tlb_filled(struct kvm_vcpu *vcpu, gfn_t gfn);
/* A guest access is about to use the TLB's translation of gfn: 'stale-tlb' if a completed zap removed its SPTE. */
void ghost_check_tlb(struct kvm_vcpu *vcpu, gfn_t gfn);
/* The fault in progress is installing an SPTE for its gfn. */
void ghost_check_install(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn);

/*
 * At VM entry: an interrupt the guest could take is pending in IRR, but the
 * hardware will not deliver it (AVIC / APICv off), KVM_REQ_EVENT is not
 * pending and no delivery to this vCPU is in flight: 'lost-interrupt'.  With
 * AVIC on, IsRunning and the host APIC ID must name this CPU:
 * 'isrunning-mismatch'.
 */
void ghost_check_delivery(struct kvm_vcpu *vcpu);
/* The vCPU is about to sleep in kvm_vcpu_block(): IsRunning must be clear. */
void ghost_check_block(struct kvm_vcpu *vcpu);
/*
 * No actor can make progress: if a halted vCPU has an interrupt it could take
 * pending, that is 'lost-interrupt'; otherwise say who waits for what (a
 * 'deadlock' message).  Called outside the actors, on the stuck state.
 */
enum kvm_finding ghost_explain_stuck(struct kvm *kvm, char *msg, size_t len, int *vcpu_idx);
/*
 * Every actor is done: an interrupt the guest could take that is pending in
 * IRR of a vCPU with AVIC/APICv off and no KVM_REQ_EVENT pending is
 * 'lost-interrupt' (its next KVM_RUN enters without delivering it).  PIR
 * alone is not: the next entry's vmx_sync_pir_to_irr() harvests it.  Called
 * outside the actors, on the final state.
 */
enum kvm_finding ghost_check_final(struct kvm *kvm, char *msg, size_t len, int *vcpu_idx);

/* Witness note: an APIC fault snapshots mmu_seq after the APIC zap with a stale vCPU flag. */
void ghost_note_snapshot(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault);

#endif
