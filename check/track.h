/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Write tracking for the checker's state store; see check/track.c.
 * sched_init() registers the heap (track_base, track_len), a dirty mask of
 * 64-byte lines per CHK_CHUNK bytes and a list of the chunks whose mask is
 * not empty; the state store clears the marks it has consumed.
 */
#ifndef KVMLAB_CHECK_TRACK_H
#define KVMLAB_CHECK_TRACK_H

#include <stddef.h>

#include "kernel/types.h"

#define CHK_CHUNK 1024
#define CHK_LINE 64		/* the unit of the state store's hashing and undo */
#define CHK_LINES (CHK_CHUNK / CHK_LINE)

_Static_assert(CHK_LINES == 16, "a chunk's dirty lines are a u16");

extern u8 *track_base;
extern size_t track_len;
extern u16 *track_dirty;	/* per chunk: bit k = its line k was written */
extern u32 *track_list;		/* the chunks whose track_dirty is not 0 */
extern u32 track_nlist;

/*
 * Set by the checker under x86-TSO (check/sched.c): called before each
 * plain access to the heap, so that the running fiber sees its own
 * buffered stores.  NULL otherwise.
 */
extern void (*track_plain_hook)(const void *p, size_t n);

/* Mark the lines [p, p + n) overlaps dirty, if it is in the heap. */
void track_mark(const void *p, size_t n);

/* Whether the model was compiled with write tracking (kernel/prim.c). */
extern const bool rt_write_tracking;

#endif
