/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which sanitizer instruments this translation unit, asked one way for GCC
 * and clang (the kernel's include/linux/compiler-{gcc,clang}.h split, folded
 * into one file).  GCC defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__;
 * clang 14 does not, and answers __has_feature(address_sanitizer) /
 * __has_feature(thread_sanitizer) instead.  Code that must behave
 * differently under a sanitizer (the checker's fiber switches and stack
 * copies, the write-tracking hooks that libtsan owns) tests KVMLAB_ASAN and
 * KVMLAB_TSAN, never the compiler's macros.  No state, no code.
 */
#ifndef KVMLAB_KERNEL_COMPILER_H
#define KVMLAB_KERNEL_COMPILER_H

#if defined(__SANITIZE_ADDRESS__)
#define KVMLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KVMLAB_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define KVMLAB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KVMLAB_TSAN 1
#endif
#endif

/*
 * For the few functions that must read and write memory ASan poisons (the
 * checker's copies of fiber stacks): no checks, and under clang no loop
 * turned into a memset/memcpy/memcmp call either, since ASan intercepts
 * those and checks them all the same.  Empty outside ASan builds, so that
 * other builds' code generation (and the golden state counts) does not
 * depend on it.
 */
#ifndef KVMLAB_ASAN
#define __no_sanitize_address
#elif defined(__clang__)
#define __no_sanitize_address __attribute__((no_sanitize("address"), no_builtin))
#else
#define __no_sanitize_address __attribute__((no_sanitize_address))
#endif

#endif
