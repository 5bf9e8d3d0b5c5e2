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

#endif
