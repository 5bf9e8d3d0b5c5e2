// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime seam (one pointer, set once per run) and the runtime-neutral
 * parts of the primitive layer: formatted findings and lock-holder queries.
 */
#include <stdarg.h>
#include <stdio.h>

#include "kernel/prim.h"

const struct rt_ops *rt;

/* Whether this (and every model) object was built with write tracking. */
#ifdef KVMLAB_TRACK_WRITES
const bool rt_write_tracking = true;
#else
const bool rt_write_tracking = false;
#endif

void rt_set(const struct rt_ops *ops)
{
	rt = ops;
}

void kvm_report(enum kvm_finding f, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rt->report(f, file, line, msg);
}

/* Both runtimes report lock misuse the same way. */
void rt_lock_misuse(const struct rt_lock *l, const char *what)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s on %s", what, l->name ? l->name : "lock");
	rt->report(F_LOCK_MISUSE, __FILE__, __LINE__, msg);
}

/*
 * Whether the current actor holds 'l' in mode 'm'.  The bookkeeping fields
 * are written by the runtime only while the lock is held by the writer
 * itself, so a racy read can only return "not mine" for another actor's hold.
 */
bool rt_lock_held(const struct rt_lock *l, enum rt_lock_mode m)
{
	int self = rt_self();

	if (m == LM_EXCL)
		return __atomic_load_n(&l->holder, __ATOMIC_RELAXED) == self + 1;
	return (__atomic_load_n(&l->readers, __ATOMIC_RELAXED) >> self) & 1;
}

/* The CPU the calling actor's task is on (kernel/prim.h, KVMLAB_MAX_PCPUS). */
int rt_cpu(void)
{
	int self = rt_self();

	return self + (rt->percpu(self)->task_on_spare ? KVMLAB_MAX_ACTORS : 0);
}
