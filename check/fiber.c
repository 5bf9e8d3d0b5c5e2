// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 System V fibers; see check/fiber.h.
 *
 * Stack layout of a fresh fiber (top 16-byte aligned, sp = top - 56):
 *   sp+0  r15   sp+8  r14   sp+16 r13   sp+24 r12 = arg   sp+32 rbx = fn
 *   sp+40 rbp   sp+48 return address = fiber_trampoline
 * After the first switch pops the registers and returns into the trampoline,
 * rsp == top (16-byte aligned), so its call leaves fn's entry rsp 8 mod 16,
 * as the ABI requires.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "check/fiber.h"
#include "kernel/compiler.h"

#ifdef KVMLAB_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef KVMLAB_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if !defined(__x86_64__)
#error "kvmlab's checker fibers need x86-64"
#endif

void kvmlab_fiber_switch(void **save_sp, void *to_sp);
void kvmlab_fiber_trampoline(void);

__asm__(".text\n"
	".globl kvmlab_fiber_switch\n"
	".type kvmlab_fiber_switch,@function\n"
	"kvmlab_fiber_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size kvmlab_fiber_switch, .-kvmlab_fiber_switch\n"
	".globl kvmlab_fiber_trampoline\n"
	".type kvmlab_fiber_trampoline,@function\n"
	"kvmlab_fiber_trampoline:\n"
	"	movq %r12, %rdi\n"
	"	callq *%rbx\n"
	"	ud2\n"
	".size kvmlab_fiber_trampoline, .-kvmlab_fiber_trampoline\n");

void fiber_reset(struct fiber_ctx *ctx)
{
	uint64_t *sp = (uint64_t *)(((uintptr_t)ctx->stack_hi & ~(uintptr_t)15) - 56);

	memset(sp, 0, 56);
	sp[3] = (uint64_t)(uintptr_t)ctx->arg;
	sp[4] = (uint64_t)(uintptr_t)ctx->fn;
	sp[6] = (uint64_t)(uintptr_t)kvmlab_fiber_trampoline;
	ctx->sp = sp;
}

void *fiber_map(void *at, size_t size)
{
	void *p = MAP_FAILED;

#ifdef MAP_FIXED_NOREPLACE
	if (at)
		p = mmap(at, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
#endif
	if (p == MAP_FAILED)
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p;
}

int fiber_init(struct fiber_ctx *ctx, void *at, size_t stack_size, void (*fn)(void *), void *arg)
{
	void *p = fiber_map(at, stack_size);

	if (p == MAP_FAILED)
		return -errno;
	memset(ctx, 0, sizeof(*ctx));
#ifdef KVMLAB_ASAN
	/*
	 * munmap() leaves ASan's shadow as it was: a stack mapped where an
	 * earlier checker run's fibers stopped mid-frame (check --verbose and
	 * replay --policy set the checker up twice) still carries their
	 * redzones' poison.
	 */
	ASAN_UNPOISON_MEMORY_REGION(p, stack_size);
#endif
	ctx->stack_lo = p;
	ctx->stack_hi = (u8 *)p + stack_size;
	ctx->fn = fn;
	ctx->arg = arg;
	ctx->asan_stack_lo = p;
	ctx->asan_stack_size = stack_size;
#ifdef KVMLAB_TSAN
	ctx->tsan_fiber = __tsan_create_fiber(0);
#endif
	fiber_reset(ctx);
	return 0;
}

void fiber_destroy(struct fiber_ctx *ctx)
{
#ifdef KVMLAB_TSAN
	if (ctx->tsan_fiber)
		__tsan_destroy_fiber(ctx->tsan_fiber);
#endif
	if (ctx->stack_lo)
		munmap(ctx->stack_lo, (size_t)(ctx->stack_hi - ctx->stack_lo));
	memset(ctx, 0, sizeof(*ctx));
}

void fiber_entered(void)
{
#ifdef KVMLAB_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

void fiber_init_main(struct fiber_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
#ifdef KVMLAB_ASAN
	{
		/* ASan must be told the thread's own stack when a fiber switches back to it. */
		pthread_attr_t a;
		void *lo;
		size_t size;

		if (!pthread_getattr_np(pthread_self(), &a)) {
			if (!pthread_attr_getstack(&a, &lo, &size)) {
				ctx->asan_stack_lo = lo;
				ctx->asan_stack_size = size;
			}
			pthread_attr_destroy(&a);
		}
	}
#endif
#ifdef KVMLAB_TSAN
	ctx->tsan_fiber = __tsan_get_current_fiber();
#endif
}

void fiber_switch(struct fiber_ctx *from, struct fiber_ctx *to)
{
#ifdef KVMLAB_ASAN
	void *fake = NULL;

	__sanitizer_start_switch_fiber(&fake, to->asan_stack_lo, to->asan_stack_size);
#endif
#ifdef KVMLAB_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
	kvmlab_fiber_switch(&from->sp, to->sp);
#ifdef KVMLAB_ASAN
	/*
	 * The bounds this could return are those of the stack that switched
	 * back to us, not ours: each context keeps its own from its start.
	 */
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}
