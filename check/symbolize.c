// SPDX-License-Identifier: GPL-2.0
/*
 * Code addresses to "function (file:line)" for the checker's messages (data
 * races, verbose counterexamples): check/report.h.  Apart from report.c
 * because <elf.h>'s EV_* constants collide with model/trace.h's events.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/types.h"

void report_symbolize(u64 pc, char *buf, size_t len);

/*
 * "function (file:line)" for a code address, from addr2line when it is
 * installed (binutils): the innermost function that is not a primitive
 * (kernel/prim.h), so a READ_ONCE names the kernel function that made it.
 */
static void symbolize_uncached(u64 pc, char *buf, size_t len)
{
	/* The ELF header is mapped at the start of the executable. */
	extern char __executable_start[];
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)__executable_start;
	/* addr2line takes link-time addresses: the pc itself unless the binary is PIE. */
	u64 load = eh->e_type == ET_DYN ? (u64)(uintptr_t)__executable_start : 0;
	char cmd[128], fn[96], loc[96];
	FILE *p;

	snprintf(buf, len, "pc %#llx", (unsigned long long)pc);
	if (!pc)
		return;
	snprintf(cmd, sizeof(cmd), "addr2line -f -i -e /proc/%d/exe %#llx 2>/dev/null", (int)getpid(),
		 (unsigned long long)(pc - 1 - load));
	p = popen(cmd, "r");
	if (!p)
		return;
	while (fgets(fn, sizeof(fn), p) && fgets(loc, sizeof(loc), p)) {
		const char *base;

		if (fn[0] == '?')
			break;
		fn[strcspn(fn, "\n")] = 0;
		loc[strcspn(loc, "\n")] = 0;
		loc[strcspn(loc, " ")] = 0;	/* " (discriminator N)" */
		base = strrchr(loc, '/');
		snprintf(buf, len, "%s (%s)", fn, base ? base + 1 : loc);
		if (!strstr(loc, "prim.h"))
			break;
	}
	pclose(p);
}

/* A few hundred code addresses, each asked of addr2line once. */
#define SYM_CACHE 512

void report_symbolize(u64 pc, char *buf, size_t len)
{
	static struct {
		u64 pc;
		char s[256];
	} cache[SYM_CACHE];
	size_t h = (size_t)(pc * 0x9e3779b97f4a7c15ull >> 55) % SYM_CACHE;

	if (!pc || cache[h].pc != pc) {
		symbolize_uncached(pc, cache[h].s, sizeof(cache[h].s));
		cache[h].pc = pc;
	}
	snprintf(buf, len, "%s", cache[h].s);
}
