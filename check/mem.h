/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checker's allocations, which never end the process.  A search keeps
 * its memory under a bound (explore_opts.memory_limit, by default a part of
 * physical memory: mem_default_limit()); should an allocation fail anyway
 * (ulimit -v, other processes), a reserve set aside at the start is given
 * back, the allocation is retried, and mem_exhausted() tells the search to
 * stop at its next step and report what it has, as incomplete.
 */
#ifndef KVMLAB_CHECK_MEM_H
#define KVMLAB_CHECK_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/types.h"

#define MEM_RESERVE (32u << 20)	/* enough to finish the step and write the reports */

/* Set the reserve aside (again, if it was used); 0 or -ENOMEM. */
int mem_reserve(void);
void *mem_malloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t size);
/* An allocation needed the reserve: the search must stop (read on every step). */
extern bool mem_oom;
static inline bool mem_exhausted(void)
{
	return mem_oom;
}
/* Clear the flag (a new run). */
void mem_reset(void);

/*
 * The default bound for a search: half of physical memory, or less where
 * the address-space or data-size limit (ulimit -v / -d) leaves less room
 * than that beyond what the process already maps (why names the source).
 */
u64 mem_default_limit(const char **why);

#endif
