/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fibers for the checker: one per actor, switched only at primitive
 * operations.  A hand-written x86-64 context switch saves the callee-saved
 * registers on the fiber's own stack, so a fiber's whole execution context is
 * its stack from the saved stack pointer up: copying that range back and
 * restoring the pointer restores the fiber exactly (which the state store
 * relies on).  ASan and TSan builds are told about every switch.
 */
#ifndef KVMLAB_CHECK_FIBER_H
#define KVMLAB_CHECK_FIBER_H

#include <stddef.h>

#include "kernel/types.h"

struct fiber_ctx {
	void *sp;		/* saved stack pointer while switched out */
	u8 *stack_lo, *stack_hi;
	void *tsan_fiber;
	const void *asan_stack_lo;
	size_t asan_stack_size;
	void (*fn)(void *arg);
	void *arg;
};

/* Map size bytes of zeroed memory at 'at' when that range is free, else anywhere (at may be NULL). */
void *fiber_map(void *at, size_t size);
/*
 * Map a stack (with fiber_map()) and prepare ctx to start fn(arg) on its
 * first switch; 0 or -errno.
 */
int fiber_init(struct fiber_ctx *ctx, void *at, size_t stack_size, void (*fn)(void *), void *arg);
/* Re-arm ctx to start fn(arg) from scratch on the same stack. */
void fiber_reset(struct fiber_ctx *ctx);
void fiber_destroy(struct fiber_ctx *ctx);
/* The context of the calling thread's original stack. */
void fiber_init_main(struct fiber_ctx *ctx);
/* First thing a fiber's entry function calls (completes the switch for ASan). */
void fiber_entered(void);
/* Save the current context into 'from' and resume 'to'. */
void fiber_switch(struct fiber_ctx *from, struct fiber_ctx *to);

#endif
