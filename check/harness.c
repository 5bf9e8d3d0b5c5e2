// SPDX-License-Identifier: GPL-2.0
/*
 * See check/harness.h.  Fiber i < nr_vcpus runs vCPU i's guest program once
 * (KVM_RUN until the program's end); fiber nr_vcpus + j runs actor script j.
 */
#include "check/harness.h"
#include "check/sched.h"
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
	for (int i = 0; i < s->actor[fiber - s->nr_vcpus].nr_ops; i++)
		vmm_actor_op(vmm, fiber, &s->actor[fiber - s->nr_vcpus].ops[i]);
}

int checker_setup(const struct scenario *s, const struct kvm_config *cfg)
{
	struct vmm *vmm;
	int r = sched_init(CHECK_HEAP_SIZE);

	if (r)
		return r;
	vmm = vmm_create(s, cfg);
	return sched_start(s->nr_vcpus + s->nr_actors, checker_entry, vmm);
}

void checker_teardown(void)
{
	sched_fini();
}
