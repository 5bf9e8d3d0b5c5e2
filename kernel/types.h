/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Basic types and helpers shared by every layer of kvmlab, spelled the way the
 * kernel spells them (u8..u64, gfn_t, gpa_t, BIT()) so that model code reads
 * like arch/x86/kvm.  Nothing here has state.
 */
#ifndef KVMLAB_KERNEL_TYPES_H
#define KVMLAB_KERNEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

typedef u64 gpa_t;
typedef u64 gfn_t;
typedef u64 hva_t;
typedef u64 kvm_pfn_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define BIT(n) (1ul << (n))
#define BIT_ULL(n) (1ull << (n))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BITS_PER_LONG 64

#define gpa_to_gfn(gpa) ((gfn_t)((gpa) >> PAGE_SHIFT))
#define gfn_to_gpa(gfn) ((gpa_t)(gfn) << PAGE_SHIFT)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))

#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))

#endif
