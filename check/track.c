// SPDX-License-Identifier: GPL-2.0
/*
 * Write tracking for the checker's state store.
 *
 * The model's sources (kernel/, model/) are compiled with GCC's
 * ThreadSanitizer instrumentation (-fsanitize=thread, no function
 * entry/exit hooks) but not linked with libtsan: the hooks the compiler
 * inserts before every plain load and store are the ones below.  Stores into
 * the model heap mark its 64-byte lines dirty, so a snapshot compares,
 * rehashes and logs for undo only the lines a transition wrote instead of
 * comparing the whole heap (check/sched.c).  Loads and stores also go to
 * the race detector when it runs (check/race.h).  memset/memcpy calls,
 * which the instrumentation does not see, are routed through
 * __tsan_write_range by kernel/prim.h.
 *
 * The hooks run on real threads too (stress): with no heap registered
 * (track_base NULL) every address falls outside and nothing is marked.
 *
 * Not built into TSan builds (libtsan defines these symbols and must keep
 * them) and unused in ASan builds (whose model is not instrumented: ASan and
 * TSan instrumentation do not mix); without tracking the state store
 * compares the heap with its shadow copy.
 */
#include "check/race.h"
#include "check/track.h"
#include "kernel/compiler.h"

u8 *track_base;
size_t track_len;
u16 *track_dirty;
u32 *track_list;
void (*track_plain_hook)(const void *p, size_t n);
u32 track_nlist;

/*
 * Inlined into the hooks: they run on the fibers' stacks, so their fast
 * path must not save the model's callee-saved registers there (whatever
 * they leave below the stack pointer can reach a later frame and tell
 * equal states apart).
 */
static void mark_lines(size_t off, size_t n)
{
	if (n > track_len - off)
		n = track_len - off;
	for (size_t l = off / CHK_LINE; l <= (off + n - 1) / CHK_LINE; l++) {
		size_t c = l / CHK_LINES;

		if (!track_dirty[c])
			track_list[track_nlist++] = (u32)c;
		track_dirty[c] |= (u16)(1u << (l % CHK_LINES));
	}
}

static inline __attribute__((always_inline)) void mark(const void *p, size_t n)
{
	size_t off = (size_t)((uintptr_t)p - (uintptr_t)track_base), l = off / CHK_LINE;

	if (off >= track_len || !n)
		return;
	if ((off + n - 1) / CHK_LINE != l || n > track_len - off) {
		mark_lines(off, n);	/* rare: more than one line */
		return;
	}
	if (!track_dirty[l / CHK_LINES])
		track_list[track_nlist++] = (u32)(l / CHK_LINES);
	track_dirty[l / CHK_LINES] |= (u16)(1u << (l % CHK_LINES));
}

void track_mark(const void *p, size_t n)
{
	mark(p, n);
}

#ifndef KVMLAB_TSAN

/*
 * Most instrumented accesses are to the fibers' stacks (locals whose
 * address escapes) and to the scenario: one compare sends them back.
 */
static inline void plain_common(void *p, size_t n, bool write, void *pc)
{
	if (write)
		mark(p, n);
	race_plain(p, n, write, pc);	/* recorded even with detection off: see check/race.c */
}

/*
 * Under x86-TSO: the hook first.  Out of line and reached by a tail call,
 * so the common path keeps its shape: these hooks run on the fiber stacks,
 * and what a push leaves below the stack pointer is model state (the golden
 * counts, issue #10 item 3).
 */
static __attribute__((noinline)) void plain_tso(void *p, size_t n, bool write, void *pc)
{
	track_plain_hook(p, n);
	plain_common(p, n, write, pc);
}

static inline void plain(void *p, size_t n, bool write, void *pc)
{
	if ((uintptr_t)p - (uintptr_t)track_base >= track_len)
		return;
	if (unlikely(track_plain_hook)) {
		plain_tso(p, n, write, pc);
		return;
	}
	plain_common(p, n, write, pc);
}

/* Prototypes for -Wmissing-prototypes; the compiler emits the calls. */
#define TSAN_ACCESS(N)							\
	void __tsan_read##N(void *p);					\
	void __tsan_write##N(void *p);					\
	void __tsan_unaligned_read##N(void *p);				\
	void __tsan_unaligned_write##N(void *p);			\
	void __tsan_read##N(void *p) { plain(p, N, false, __builtin_return_address(0)); } \
	void __tsan_unaligned_read##N(void *p) { plain(p, N, false, __builtin_return_address(0)); } \
	void __tsan_write##N(void *p) { plain(p, N, true, __builtin_return_address(0)); } \
	void __tsan_unaligned_write##N(void *p) { plain(p, N, true, __builtin_return_address(0)); }

TSAN_ACCESS(1)
TSAN_ACCESS(2)
TSAN_ACCESS(4)
TSAN_ACCESS(8)
TSAN_ACCESS(16)

void __tsan_init(void);
void __tsan_read_range(void *p, unsigned long n);
void __tsan_write_range(void *p, unsigned long n);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);

void __tsan_init(void) { }
void __tsan_read_range(void *p, unsigned long n) { plain(p, n, false, __builtin_return_address(0)); }
void __tsan_write_range(void *p, unsigned long n) { plain(p, n, true, __builtin_return_address(0)); }
void __tsan_func_entry(void *pc) { (void)pc; }
void __tsan_func_exit(void) { }

/*
 * Atomic builtins in instrumented code become calls that must perform the
 * operation (the model uses loads and stores: hw_load, the APIC page
 * accessors, lock-holder queries; and fetch-add: ghost counters).
 */
#define TSAN_ATOMIC(N, T)							\
	T __tsan_atomic##N##_load(const volatile T *p, int mo);			\
	void __tsan_atomic##N##_store(volatile T *p, T v, int mo);		\
	T __tsan_atomic##N##_fetch_add(volatile T *p, T v, int mo);		\
	T __tsan_atomic##N##_exchange(volatile T *p, T v, int mo);		\
	T __tsan_atomic##N##_fetch_add(volatile T *p, T v, int mo)		\
	{									\
		(void)mo;							\
		track_mark((const void *)p, N / 8);				\
		return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);		\
	}									\
	T __tsan_atomic##N##_exchange(volatile T *p, T v, int mo)		\
	{									\
		(void)mo;							\
		track_mark((const void *)p, N / 8);				\
		return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);		\
	}									\
	T __tsan_atomic##N##_load(const volatile T *p, int mo)			\
	{									\
		(void)mo;							\
		return __atomic_load_n(p, __ATOMIC_SEQ_CST);			\
	}									\
	void __tsan_atomic##N##_store(volatile T *p, T v, int mo)		\
	{									\
		(void)mo;							\
		track_mark((const void *)p, N / 8);				\
		__atomic_store_n(p, v, __ATOMIC_SEQ_CST);			\
	}

TSAN_ATOMIC(8, u8)
TSAN_ATOMIC(16, u16)
TSAN_ATOMIC(32, u32)
TSAN_ATOMIC(64, u64)

#endif
