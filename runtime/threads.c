// SPDX-License-Identifier: GPL-2.0
/*
 * Real-thread runtime (see runtime/threads.h).
 *
 * Marked accesses are GCC __atomic builtins: READ_ONCE is an acquire load and
 * WRITE_ONCE a release store (what a plain MOV is under x86-TSO), RMWs and
 * smp_mb() are sequentially consistent.  Locks are pthread objects stored in
 * the lock's 'os' words; spinlock_t and struct mutex are mutexes, rwlock_t
 * (mmu_lock) and struct rw_semaphore (apicv_update_lock) are writer-preferring
 * rwlocks, as qrwlock and rwsem are.  The holder/readers bookkeeping feeds
 * lockdep_assert_held() and misuse reports.
 *
 * Trace rings are single-writer (the owning actor) and read by whoever dumps
 * them; each slot is published with a release store of its sequence number
 * and read seqlock-style, so dumping while others run is race-free.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/threads.h"

struct ring_slot {
	u64 seq;		/* 0 = empty; published last */
	struct kvm_event ev;
};

struct actor_state {
	u64 rng;
	u64 head;		/* next slot index (owner only) */
	u64 last_seq;		/* the owner's last event number (owner only) */
	u64 ev_count[RT_EVENT_TYPES];	/* single writer, relaxed atomics */
	struct ring_slot ring[RT_RING_SIZE];
};

static struct {
	struct rt_threads_config cfg;
	u8 *arena;
	size_t arena_size;
	size_t arena_used;		/* atomic bump pointer */
	struct pcpu *percpu;
	u64 event_seq;			/* relaxed loads and stores only: see t_trace() */
	int stopping;			/* atomic */
	pthread_mutex_t findings_lock;
	struct rt_threads_stats stats;	/* under findings_lock */
	struct actor_state actors[KVMLAB_MAX_ACTORS];
} thr;

static __thread int thr_self = -1;

static int t_self(void)
{
	return thr_self;
}

static void *t_zalloc(size_t size)
{
	size_t sz = (size + 63) & ~(size_t)63;
	size_t off = __atomic_fetch_add(&thr.arena_used, sz, __ATOMIC_RELAXED);

	if (off + sz > thr.arena_size) {
		fprintf(stderr, "kvmlab: model arena exhausted (%zu bytes)\n", thr.arena_size);
		abort();
	}
	return thr.arena + off;	/* mmap'd memory is zero */
}

static struct pcpu *t_percpu(int cpu)
{
	return &thr.percpu[cpu];
}

static u64 rng_next(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A random delay at a primitive: widens the windows races need. */
static void maybe_delay(void)
{
	struct actor_state *a;
	u64 r;

	if (thr_self < 0 || !thr.cfg.delay_permille)
		return;
	a = &thr.actors[thr_self];
	r = rng_next(&a->rng);
	if (r % 1000 >= thr.cfg.delay_permille)
		return;
	r >>= 10;
	if (r % 8 == 0) {
		sched_yield();
		return;
	}
	for (u64 i = (r >> 3) % (thr.cfg.max_delay_spins + 1); i; i--)
		__builtin_ia32_pause();
}

#define ACCESS_CASES(T)								\
	do {									\
		volatile T *q = (volatile T *)p;				\
		switch (op) {							\
		case RT_LOAD: return __atomic_load_n(q, __ATOMIC_ACQUIRE);	\
		case RT_STORE: __atomic_store_n(q, (T)a, __ATOMIC_RELEASE); return 0;	\
		case RT_XCHG: return __atomic_exchange_n(q, (T)a, __ATOMIC_SEQ_CST);	\
		case RT_CMPXCHG: {						\
			T exp = (T)a;						\
			__atomic_compare_exchange_n(q, &exp, (T)b, false,	\
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
			return exp;						\
		}								\
		case RT_ADD: return __atomic_fetch_add(q, (T)a, __ATOMIC_SEQ_CST);	\
		case RT_OR: return __atomic_fetch_or(q, (T)a, __ATOMIC_SEQ_CST);	\
		case RT_ANDNOT: return __atomic_fetch_and(q, (T)~a, __ATOMIC_SEQ_CST);	\
		}								\
	} while (0)

static u64 t_access(enum rt_op op, volatile void *p, unsigned size, u64 a, u64 b)
{
	maybe_delay();
	switch (size) {
	case 1: ACCESS_CASES(u8); break;
	case 2: ACCESS_CASES(u16); break;
	case 4: ACCESS_CASES(u32); break;
	case 8: ACCESS_CASES(u64); break;
	}
	fprintf(stderr, "kvmlab: bad marked access (op %d, size %u)\n", op, size);
	abort();
}

/*
 * smp_mb(): a locked RMW is a full barrier on x86; on a thread-local word it
 * orders this thread's accesses without creating synchronization between
 * threads that ThreadSanitizer would count as happens-before (TSan does not
 * support atomic_thread_fence at all).
 */
static __thread u64 fence_word;

static void t_fence(enum rt_fence f)
{
	(void)f;
	maybe_delay();
	__atomic_fetch_add(&fence_word, 0, __ATOMIC_SEQ_CST);
}

_Static_assert(sizeof(pthread_rwlock_t) <= sizeof(((struct rt_lock *)0)->os), "rwlock fits");
_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((struct rt_lock *)0)->os), "mutex fits");

static bool is_rw(const struct rt_lock *l)
{
	return l->kind == LK_RWLOCK || l->kind == LK_RWSEM;
}

static void t_lock_init(struct rt_lock *l, enum rt_lock_kind k, const char *name)
{
	l->kind = k;
	l->name = name;
	if (is_rw(l)) {
		pthread_rwlockattr_t at;

		pthread_rwlockattr_init(&at);
		pthread_rwlockattr_setkind_np(&at, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init((pthread_rwlock_t *)l->os, &at);
		pthread_rwlockattr_destroy(&at);
	} else {
		pthread_mutex_init((pthread_mutex_t *)l->os, NULL);
	}
}


static void t_lock(struct rt_lock *l, enum rt_lock_mode m)
{
	u64 me = 1ull << thr_self;

	maybe_delay();
	if (rt_lock_held(l, LM_EXCL) || (m == LM_EXCL && rt_lock_held(l, LM_SHARED))) {
		rt_lock_misuse(l, "recursive acquisition");
		return;
	}
	if (m == LM_SHARED && !is_rw(l)) {
		rt_lock_misuse(l, "shared acquisition of an exclusive lock");
		return;
	}
	__atomic_fetch_add(&l->waiters, 1, __ATOMIC_RELAXED);
	if (!is_rw(l))
		pthread_mutex_lock((pthread_mutex_t *)l->os);
	else if (m == LM_EXCL)
		pthread_rwlock_wrlock((pthread_rwlock_t *)l->os);
	else
		pthread_rwlock_rdlock((pthread_rwlock_t *)l->os);
	__atomic_fetch_sub(&l->waiters, 1, __ATOMIC_RELAXED);
	if (m == LM_EXCL)
		__atomic_store_n(&l->holder, thr_self + 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or(&l->readers, me, __ATOMIC_RELAXED);
}

static void t_unlock(struct rt_lock *l, enum rt_lock_mode m)
{
	if (!rt_lock_held(l, m)) {
		rt_lock_misuse(l, m == LM_EXCL ? "unlock of a lock not held" : "read-unlock of a lock not read-held");
		return;
	}
	if (m == LM_EXCL)
		__atomic_store_n(&l->holder, 0, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&l->readers, ~(1ull << thr_self), __ATOMIC_RELAXED);
	if (!is_rw(l))
		pthread_mutex_unlock((pthread_mutex_t *)l->os);
	else
		pthread_rwlock_unlock((pthread_rwlock_t *)l->os);
	maybe_delay();
}

static bool t_lock_needbreak(struct rt_lock *l)
{
	return __atomic_load_n(&l->waiters, __ATOMIC_RELAXED) != 0;
}

static bool cmp_holds(volatile void *p, unsigned size, enum rt_cmp c, u64 v)
{
	u64 x = t_access(RT_LOAD, p, size, 0, 0);

	return c == RT_EQ ? x == v : c == RT_NE ? x != v : !(x & v);
}

/* Poll with backoff; a run that never satisfies it is caught by the stress watchdog. */
static void t_wait(volatile void *p, unsigned size, enum rt_cmp c, u64 v)
{
	for (unsigned spins = 0; !cmp_holds(p, size, c, v); spins++) {
		if (spins < 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

static unsigned t_choose(unsigned n)
{
	if (thr_self < 0)
		return 0;
	return (unsigned)(rng_next(&thr.actors[thr_self].rng) >> 11) % n;
}

static void t_relax(void)
{
	maybe_delay();
}

static void t_observe(const volatile void *p, unsigned size, bool write)
{
	(void)p;
	(void)size;
	(void)write;
}

static void t_trace(const struct kvm_event *ev)
{
	struct actor_state *a;
	struct ring_slot *s;
	u64 seq;

	if (thr_self < 0)
		return;
	a = &thr.actors[thr_self];
	seq = __atomic_load_n(&a->head, __ATOMIC_RELAXED);
	__atomic_store_n(&a->head, seq + 1, __ATOMIC_RELAXED);
	s = &a->ring[seq % RT_RING_SIZE];
	if (ev->type < RT_EVENT_TYPES)
		__atomic_store_n(&a->ev_count[ev->type],
				 __atomic_load_n(&a->ev_count[ev->type], __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
	/*
	 * The merged timeline's order, without a locked instruction: an atomic
	 * increment (lock xadd) would be a full barrier between the caller's
	 * model accesses (a tracepoint sits between vcpu->mode = IN_GUEST_MODE
	 * and the request check), and would hide the store->load reordering
	 * that a missing smp_mb() allows on x86 (check --memory-model tso).
	 * A relaxed load and store are plain MOVs: each actor's numbers still
	 * increase; across actors, two events may share a number or come out
	 * in an order a few events off the real one.
	 */
	seq = __atomic_load_n(&thr.event_seq, __ATOMIC_RELAXED) + 1;
	if (seq <= a->last_seq)
		seq = a->last_seq + 1;
	a->last_seq = seq;
	__atomic_store_n(&thr.event_seq, seq, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->ev.type, ev->type, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.actor, (s16)thr_self, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.seq, (u32)seq, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.a, ev->a, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.b, ev->b, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.c, ev->c, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ev.d, ev->d, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, seq, __ATOMIC_RELEASE);
}

static bool read_slot(struct ring_slot *s, struct kvm_event *ev, u64 *seq)
{
	u64 s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

	if (!s1)
		return false;
	ev->type = __atomic_load_n(&s->ev.type, __ATOMIC_RELAXED);
	ev->actor = __atomic_load_n(&s->ev.actor, __ATOMIC_RELAXED);
	ev->seq = __atomic_load_n(&s->ev.seq, __ATOMIC_RELAXED);
	ev->a = __atomic_load_n(&s->ev.a, __ATOMIC_RELAXED);
	ev->b = __atomic_load_n(&s->ev.b, __ATOMIC_RELAXED);
	ev->c = __atomic_load_n(&s->ev.c, __ATOMIC_RELAXED);
	ev->d = __atomic_load_n(&s->ev.d, __ATOMIC_ACQUIRE);
	*seq = s1;
	return __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == s1;
}

static void t_report(enum kvm_finding f, const char *file, int line, const char *msg)
{
	struct rt_threads_stats *st = &thr.stats;

	pthread_mutex_lock(&thr.findings_lock);
	st->nr_findings[f]++;
	if (st->nr_recorded < RT_MAX_FINDINGS) {
		struct rt_threads_finding *r = &st->recorded[st->nr_recorded++];

		r->kind = f;
		r->actor = thr_self;
		snprintf(r->where, sizeof(r->where), "%s:%d", file, line);
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
		r->seq = __atomic_load_n(&thr.event_seq, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&thr.findings_lock);
	__atomic_store_n(&thr.stopping, 1, __ATOMIC_RELEASE);
}

static const struct rt_ops threads_ops = {
	.name = "threads",
	.self = t_self,
	.zalloc = t_zalloc,
	.percpu = t_percpu,
	.access = t_access,
	.fence = t_fence,
	.lock_init = t_lock_init,
	.lock = t_lock,
	.unlock = t_unlock,
	.lock_needbreak = t_lock_needbreak,
	.wait = t_wait,
	.choose = t_choose,
	.relax = t_relax,
	.observe = t_observe,
	.trace = t_trace,
	.report = t_report,
};

int rt_threads_init(const struct rt_threads_config *cfg)
{
	size_t size = cfg->arena_size ? cfg->arena_size : (64u << 20);
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	memset(&thr.stats, 0, sizeof(thr.stats));
	memset(thr.actors, 0, sizeof(thr.actors));
	thr.cfg = *cfg;
	thr.arena = p;
	thr.arena_size = size;
	thr.arena_used = 0;
	thr.event_seq = 0;
	thr.stopping = 0;
	pthread_mutex_init(&thr.findings_lock, NULL);
	for (int i = 0; i < KVMLAB_MAX_ACTORS; i++)
		thr.actors[i].rng = (cfg->seed + 1) * 0x9e3779b97f4a7c15ull ^ ((u64)(i + 1) << 32) ^ 1;
	rt_set(&threads_ops);
	thr.percpu = t_zalloc(sizeof(struct pcpu) * KVMLAB_MAX_PCPUS);
	rt_threads_set_self(RT_HARNESS_ACTOR);
	return 0;
}

void rt_threads_fini(void)
{
	if (thr.arena)
		munmap(thr.arena, thr.arena_size);
	thr.arena = NULL;
	pthread_mutex_destroy(&thr.findings_lock);
}

void rt_threads_set_self(int id)
{
	thr_self = id;
}

bool rt_threads_stopping(void)
{
	return __atomic_load_n(&thr.stopping, __ATOMIC_ACQUIRE);
}

void rt_threads_request_stop(void)
{
	__atomic_store_n(&thr.stopping, 1, __ATOMIC_RELEASE);
}

void rt_threads_get_stats(struct rt_threads_stats *st)
{
	pthread_mutex_lock(&thr.findings_lock);
	*st = thr.stats;
	pthread_mutex_unlock(&thr.findings_lock);
	st->arena_used = __atomic_load_n(&thr.arena_used, __ATOMIC_RELAXED);
}

void rt_threads_event_counts(u64 counts[RT_EVENT_TYPES], int actor)
{
	for (int t = 0; t < RT_EVENT_TYPES; t++)
		counts[t] = __atomic_load_n(&thr.actors[actor].ev_count[t], __ATOMIC_RELAXED);
}

u64 rt_threads_event_seq(void)
{
	return __atomic_load_n(&thr.event_seq, __ATOMIC_RELAXED);
}

static int cmp_event(const void *x, const void *y)
{
	const struct kvm_event *a = x, *b = y;

	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return (a->actor > b->actor) - (a->actor < b->actor);	/* two actors took one number */
}

int rt_threads_collect_events(struct kvm_event *out, int max, int per_actor)
{
	int n = 0;

	for (int i = 0; i < KVMLAB_MAX_ACTORS; i++) {
		struct actor_state *a = &thr.actors[i];

		for (int k = per_actor; k >= 1 && n < max; k--) {
			/* Slot order is by age; read newest-k .. newest. */
			struct ring_slot *s = &a->ring[(RT_RING_SIZE * 4 + k * -1 +
							__atomic_load_n(&a->head, __ATOMIC_RELAXED)) %
						       RT_RING_SIZE];
			u64 seq;

			if (k > RT_RING_SIZE)
				continue;
			if (read_slot(s, &out[n], &seq))
				n++;
		}
	}
	qsort(out, n, sizeof(*out), cmp_event);
	return n;
}

void rt_threads_dump_rings(FILE *f, int n, rt_event_fmt_fn fmt)
{
	struct kvm_event evs[KVMLAB_MAX_ACTORS * RT_RING_SIZE];
	int cnt = rt_threads_collect_events(evs, ARRAY_SIZE(evs), n);
	char buf[256];

	for (int i = 0; i < cnt; i++) {
		fmt(&evs[i], buf, sizeof(buf));
		fprintf(f, "  %8u  %s\n", evs[i].seq, buf);
	}
}
