// SPDX-License-Identifier: GPL-2.0
/*
 * See check/harness.h.  Fiber i < nr_vcpus runs vCPU i's guest program once
 * (KVM_RUN until the program's end); fiber nr_vcpus + j runs actor script j.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "check/explore.h"
#include "check/harness.h"
#include "check/race.h"
#include "check/report.h"
#include "check/sched.h"
#include "model/lapic.h"
#include "model/vmm.h"

#define CHECK_HEAP_SIZE (64ul << 20)

static void checker_entry(int fiber, void *arg)
{
	struct vmm *vmm = arg;
	const struct scenario *s = vmm->scn;

	if (fiber < s->nr_vcpus) {
		vmm_vcpu_run_program(vmm, fiber);
		return;
	}
	for (int i = 0; i < s->actor[fiber - s->nr_vcpus].nr_ops; i++) {
		kvm_stack_hygiene();
		vmm_actor_op(vmm, fiber, &s->actor[fiber - s->nr_vcpus].ops[i]);
	}
}

static struct vmm *checker_vmm;
static bool checker_ipis[SCN_MAX_VCPUS];	/* vCPU i's program sends IPIs (fixed per run) */

static bool program_sends_ipis(const struct guest_program *p)
{
	for (int i = 0; i < p->nr_ops; i++)
		if (p->ops[i].kind == GOP_APIC_WRITE &&
		    ((p->ops[i].off & ~0xfu) == APIC_ICR || (p->ops[i].off & ~0xfu) == APIC_SELF_IPI))
			return true;
	return false;
}

static bool in(u64 a, const void *base, size_t size)
{
	return base && a >= (u64)(uintptr_t)base && a < (u64)(uintptr_t)base + size;
}

/* The vCPU whose private objects contain addr, or -1. */
static int private_owner(const struct vmm *vmm, u64 addr)
{
	for (int i = 0; i < vmm->nr_vcpus; i++) {
		const struct kvm_vcpu *v = vmm->created[i] ? vmm->vcpus[i] : NULL;

		if (!v)
			continue;
		if (in(addr, v, sizeof(*v)) || in(addr, v->arch.apic, sizeof(*v->arch.apic)) ||
		    in(addr, v->ghost.ref, sizeof(*v->ghost.ref)) ||
		    in(addr, rt->percpu(i), sizeof(struct pcpu))) {
			return i;
		}
	}
	return -1;
}

/*
 * Future-access summary for persistent sets (what actor g may still do).
 * An actor script may touch anything.  A vCPU fiber (whose program sends no
 * IPI) writes only its own objects (vCPU, APIC, reference APIC, pCPU) and
 * SPTE tables, takes mmu_lock and apicv_update_lock only for read, and
 * otherwise only reads struct kvm and struct vmm; with IPIs it may touch
 * anything.  A vCPU not created yet is treated as an actor.  So an entry of
 * a transition's footprint conflicts with vCPU g's future if it is in g's
 * objects, or is an exclusive lock operation, or is a write outside another
 * vCPU's objects (an SPTE: g's walks read it), or is a read of anything but
 * struct kvm / struct vmm (g may write SPTEs).
 */
static bool in_vm_structs(const struct vmm *vmm, u64 addr)
{
	return in(addr, vmm, sizeof(*vmm)) || in(addr, vmm->kvm, sizeof(*vmm->kvm));
}

static bool fut_conflict(int g, const struct footprint *fp, void *arg)
{
	const struct vmm *vmm = arg;

	if (g >= vmm->nr_vcpus || !vmm->created[g] || fp->overflow)
		return true;
	if (checker_ipis[g])
		return true;
	for (int i = 0; i < fp->n; i++) {
		u64 a = fp->e[i].addr;
		int owner = private_owner(vmm, a);

		if (owner == g)
			return true;
		if (owner >= 0)
			continue;	/* another vCPU's objects: g never touches them */
		switch (fp->e[i].kind) {
		case FP_LOCK_SHARED:
			continue;	/* g takes locks only for read: read acquisitions commute */
		case FP_LOCK_EXCL:
			return true;
		case FP_WRITE:
			if (in_vm_structs(vmm, a))
				continue;	/* g only reads struct kvm / struct vmm */
			return true;
		case FP_READ:
			if (in_vm_structs(vmm, a))
				continue;
			return true;	/* maybe an SPTE, which g may install */
		}
		return true;
	}
	return false;
}

/* The summary's claims, checked on every transition a vCPU fiber executes. */
static bool fut_validate(int g, const struct footprint *fp, void *arg)
{
	const struct vmm *vmm = arg;

	if (g >= vmm->nr_vcpus || checker_ipis[g])
		return true;
	for (int i = 0; i < fp->n; i++) {
		int owner = private_owner(vmm, fp->e[i].addr);
		bool bad = (owner >= 0 && owner != g) || fp->e[i].kind == FP_LOCK_EXCL ||
			   (fp->e[i].kind == FP_WRITE && owner < 0 &&
			    in_vm_structs(vmm, fp->e[i].addr));

		if (bad) {
			fprintf(stderr, "kvmlab check: vCPU fiber %d: %s of %#llx (%u bytes) breaks the summary\n",
				g, fp->e[i].kind == FP_READ ? "read" : fp->e[i].kind == FP_WRITE ? "write" :
				"lock", (unsigned long long)fp->e[i].addr, fp->e[i].size);
			return false;
		}
	}
	return true;
}

void checker_reduction(struct explore_opts *o)
{
	o->fut_conflict = fut_conflict;
	o->fut_validate = fut_validate;
	o->fut_arg = checker_vmm;
}

struct vmm *checker_model(void)
{
	return checker_vmm;
}

static bool want_races = true;
static int harness_vcpus;

static void harness_actor_name(int fiber, char *buf, size_t len)
{
	report_actor_name(fiber, harness_vcpus, buf, len);
}

void checker_set_races(bool on)
{
	want_races = on;
}

bool checker_races(void)
{
	return sched_races();
}

/*
 * The model keeps pointers to the scenario (vmm->scn, vcpu->program): a copy
 * at a fixed address (this binary is not position-independent) keeps them,
 * and so the fingerprints, the same in every process.
 */
static struct scenario checker_scn;

int checker_setup(const struct scenario *s, const struct kvm_config *cfg, bool movers)
{
	int r = sched_init(CHECK_HEAP_SIZE);

	if (r)
		return r;
	sched_set_movers(movers);
	sched_set_tracking(rt_write_tracking);
	/* The model's plain accesses are seen only where it is instrumented. */
	if (want_races && rt_write_tracking) {
		if (sched_enable_races())
			return -ENOMEM;
		harness_vcpus = s->nr_vcpus;
		race_actor_name = harness_actor_name;
	}
	checker_scn = *s;
	s = &checker_scn;
	checker_vmm = vmm_create(s, cfg);
	for (int i = 0; i < s->nr_vcpus; i++)
		checker_ipis[i] = program_sends_ipis(&s->vcpu[i]);
	return sched_start(s->nr_vcpus + s->nr_actors, checker_entry, checker_vmm);
}

void checker_teardown(void)
{
	sched_fini();
}
