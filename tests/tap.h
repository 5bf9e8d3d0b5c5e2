/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP producer for kvmlab's C tests (kselftest style): plan, ok/not
 * ok with a name, diagnostics, skips.  Header-only; each test is one program.
 */
#ifndef KVMLAB_TESTS_TAP_H
#define KVMLAB_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n) { printf("1..%d\n", n); fflush(stdout); }

static inline __attribute__((format(printf, 2, 3))) int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline __attribute__((format(printf, 1, 2))) void tap_skip(const char *fmt, ...)
{
	va_list ap;
	printf("ok %d # skip ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static inline __attribute__((format(printf, 1, 2))) void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Compare two integers, printing both on failure (TEST_ASSERT style). */
#define tap_eq(a, b, ...) \
	({ \
		unsigned long long __a = (a), __b = (b); \
		int __r = tap_ok(__a == __b, __VA_ARGS__); \
		if (!__r) \
			tap_diag("  got 0x%llx, want 0x%llx (%s vs %s)", __a, __b, #a, #b); \
		__r; \
	})

static inline int tap_done(void) { return tap_failed ? 1 : 0; }

#endif
