// SPDX-License-Identifier: GPL-2.0
/*
 * The checker's allocations; see check/mem.h.  The classic reserve: memory
 * that is allocated, kept, and freed only when an allocation fails, so the
 * one that failed can succeed on retry and the search can end cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "check/mem.h"

static void *reserve;
bool mem_oom;
/* KVMLAB_FAIL_ALLOC=N: the Nth allocation fails once (tests/bounds.t). */
static unsigned long fail_at, nr_allocs;

int mem_reserve(void)
{
	const char *e = getenv("KVMLAB_FAIL_ALLOC");

	fail_at = e ? strtoul(e, NULL, 10) : 0;
	nr_allocs = 0;
	if (!reserve)
		reserve = malloc(MEM_RESERVE);
	return reserve ? 0 : -ENOMEM;
}

/* Whether this allocation is the one KVMLAB_FAIL_ALLOC asks to fail. */
static bool injected_failure(void)
{
	return fail_at && ++nr_allocs == fail_at;
}

void mem_reset(void)
{
	mem_oom = false;
}

/* After a failed allocation: give the reserve back so that the retry may succeed. */
static bool release_reserve(size_t size)
{
	mem_oom = true;
	if (!reserve) {
		fprintf(stderr, "kvmlab check: out of memory (%zu bytes), with no reserve left\n", size);
		abort();
	}
	free(reserve);
	reserve = NULL;
	return true;
}

void *mem_malloc(size_t size)
{
	void *p = injected_failure() ? NULL : malloc(size);

	if (!p && release_reserve(size))
		p = malloc(size);
	if (!p) {
		fprintf(stderr, "kvmlab check: out of memory (%zu bytes) after the reserve\n", size);
		abort();
	}
	return p;
}

void *mem_calloc(size_t n, size_t size)
{
	void *p = injected_failure() ? NULL : calloc(n, size);

	if (!p && release_reserve(n * size))
		p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "kvmlab check: out of memory (%zu bytes) after the reserve\n", n * size);
		abort();
	}
	return p;
}

void *mem_realloc(void *old, size_t size)
{
	void *p = injected_failure() ? NULL : realloc(old, size);

	if (!p && release_reserve(size))
		p = realloc(old, size);
	if (!p) {
		fprintf(stderr, "kvmlab check: out of memory (%zu bytes) after the reserve\n", size);
		abort();
	}
	return p;
}

/* Bytes this process maps now (VmSize). */
static u64 mapped_now(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (u64)pages * (u64)sysconf(_SC_PAGESIZE);
}

u64 mem_default_limit(const char **why)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	u64 limit = pages > 0 && psize > 0 ? (u64)pages * (u64)psize / 2 : 1ull << 30;
	static const struct { int res; const char *name; } lims[] = {
		{ RLIMIT_AS, "three quarters of what ulimit -v leaves" },
		{ RLIMIT_DATA, "three quarters of what ulimit -d leaves" },
	};

	*why = "half of physical memory";
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		struct rlimit rl;
		u64 used = mapped_now(), room;

		if (getrlimit(lims[i].res, &rl) || rl.rlim_cur == RLIM_INFINITY)
			continue;
		room = rl.rlim_cur > used + MEM_RESERVE ? (rl.rlim_cur - used - MEM_RESERVE) / 4 * 3 : 0;
		if (room < limit) {
			limit = room ? room : 1;
			*why = lims[i].name;
		}
	}
	return limit;
}
