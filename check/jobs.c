// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab check --jobs N: the search in N forked worker processes sharing
 * one visited table; see check/jobs.h.
 *
 * ---- The shared visited table ----
 *
 * Open addressing with linear probing over 16-byte slots: a fingerprint (0
 * stored as 1; 0 = empty slot) and the state's "awake" word: the union of
 * the complements of the sleep sets it has been claimed with, plus
 * AWAKE_SEEN.  A zeroed word thus means "no transition of the state is
 * claimed for exploration", and a claim with sleep set s is
 *
 *   1. find the key: probe from its home slot; an empty slot is taken with a
 *      compare-and-swap 0 -> key (losing it to the same key is finding it,
 *      losing it to another key is probing on);
 *   2. old = fetch_or(awake, ~s | AWAKE_SEEN), and from old alone:
 *      old == 0: NEW, explore with s;
 *      ~s & ~old == 0 (all that s leaves awake is claimed): VISITED;
 *      else AGAIN: explore with ~(~s | old), the intersection of s with
 *      every earlier claim's sleep set.
 *
 * That is explore_claim_local()'s rule (keep the intersection of the sleep
 * sets; explore again with it when it shrinks), with the fetch_or as the
 * claim's linearization point: the read-modify-writes of one awake word are
 * totally ordered, so the answers are those the claims would get one at a
 * time in that order, whatever the interleaving.  Exactly one claim of a
 * state sees 0, so it is counted once; not necessarily the claim whose CAS
 * inserted the key: between an insertion and its fetch_or another claimant
 * may find the key and fetch_or first, and is then the one told NEW (and
 * the inserter VISITED or AGAIN), which is as good.  Nothing needs the key's
 * store ordered with the awake word: a claimant that finds the key before
 * any fetch_or on it is simply first.  A VISITED answer relies on whoever
 * set the bits exploring those transitions, sooner or later (or the search
 * stopping as incomplete), which is what a NEW or AGAIN claimant does; the
 * order in which the workers do it changes which states are explored again
 * (the counts), not what is covered, as for the sequential rule, whose
 * cover does not depend on the order of the claims either.
 *
 * The cycle proviso of the persistent sets stays conservative, as over MPI:
 * a reduced expansion into a state whose claim is not NEW is undone
 * (explore.c).  So a reduced expansion u -> v is kept only when v is first
 * claimed after u (u is claimed before it is expanded): claim order grows
 * along the kept reduced edges, and no cycle is made of them alone.
 *
 * Growing.  Hashing spreads states over the whole table, so a table
 * reserved at the memory bound would have every page touched (resident)
 * once there are a few states per page: 6.4 M states would make a 6 GiB
 * table resident.  So it grows instead, as the local one does: it doubles
 * when 3/4 full, inside two regions of shared memory mapped before the fork
 * (MAP_NORESERVE, each as large as the largest table the bound allows),
 * the new table in the region the old one does not use, whose pages are
 * then given back (MADV_REMOVE).  A doubling past the bound makes the table
 * full, and the search stops as incomplete.  Doubling needs the table to
 * itself: a claim sets its worker's in_claim, then reads `resizing' (both
 * sequentially consistent; the Dekker pattern: either the claim sees
 * resizing set and backs off, or the resizer sees in_claim set and waits
 * for the claim to end), so claims are lock-free except while the table
 * doubles, when they wait.  The copy is one sequential pass: a key's home
 * slot is its top bits, so the keys of slot i go to the slots from 2i on,
 * in order.
 *
 * ---- Work ----
 *
 * Every worker starts the DFS at the initial state, with the fiber order
 * rotated by its rank in the first levels (explore.c, DIST_ROT_DEPTH).  A
 * worker whose DFS ends waits for work (take()); a busy one that sees a
 * waiting worker (hungry(), every 64 transitions) offers the shallowest
 * frame it has with transitions left through a queue in shared memory.
 * The search ends when no worker is busy and the queue is empty: `pending'
 * counts busy workers plus queued frames; a busy worker adds one before it
 * queues a frame and a worker subtracts its own one when its work is done,
 * and taking a frame moves its one to the taker, so pending is never 0
 * while a frame is queued or a worker busy, and once 0 it stays 0 (only a
 * busy worker adds).  A finding or a bound in a worker, a signal to the
 * parent or a worker's death set `stop', which every worker reads at every
 * step.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/jobs.h"
#include "check/mem.h"
#include "check/sched.h"

#define SLOT_FIBERS ((1u << CHK_MAX_FIBERS) - 1)
#define AWAKE_SEEN (1u << 31)
#define TABLE_MIN_LOG 16
#define LINE 64
/* Longest path a queued frame can have, and the queue's slots per worker. */
#define QUEUE_PATH 8192
#define QUEUE_PER_WORKER 2
/* Slots of the old table a worker copies at a time when the table doubles. */
#define COPY_CHUNK (1ull << 16)

struct slot {
	u64 key;
	u32 awake;
	u32 unused;
};

/* One per worker, a cache line each: written by that worker. */
struct jw {
	int in_claim;
	u64 unflushed;		/* NEW claims not yet added to shared.states */
	double doubling;	/* seconds in table doublings (copying or waiting) */
	u64 states, transitions, own_bytes;	/* published, for progress and the bound */
} __attribute__((aligned(LINE)));

struct shared {
	/* The table's shape: read by every claim, written when it doubles. */
	int resizing __attribute__((aligned(LINE)));
	u32 cap_log;
	int full;
	/* A doubling's copy: its lg and the next chunk to copy; the chunks copied. */
	u64 ticket __attribute__((aligned(LINE)));
	u64 copied;
	u64 states __attribute__((aligned(LINE)));	/* NEW claims, in batches */
	int stop __attribute__((aligned(LINE)));
	/* Work sharing (see above); the queue's head and length under qlock. */
	int pending __attribute__((aligned(LINE)));
	int idle, queued, qlock;
	u32 qhead, qlen;
	struct jw w[JOBS_MAX];
};

/* Set up before the fork, the same in every process. */
static struct shared *H;
static struct slot *region[2];
static u64 region_slots;
static u64 limit;		/* bytes; 0 = none */
static int nworkers;
static u64 batch;
static u8 *queue;
static u32 qcap;
static size_t qslot_bytes;

/* KVMLAB_JOBS_SHARING=0: no work sharing, each worker's DFS from the initial state alone. */
static bool sharing;

/* This worker's. */
static int me;
static struct jobs_worker stats;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waiting for another worker: give the core away (there may be more workers than cores). */
static void relax(unsigned *spins)
{
	if (++*spins < 1000) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
	}
}

static bool stopped(void)
{
	return __atomic_load_n(&H->stop, __ATOMIC_RELAXED);
}

static u64 own_total(void)
{
	u64 t = 0;

	for (int i = 0; i < nworkers; i++)
		t += __atomic_load_n(&H->w[i].own_bytes, __ATOMIC_RELAXED);
	return t;
}

u64 jobs_table_bytes(void)
{
	return (sizeof(struct slot) << __atomic_load_n(&H->cap_log, __ATOMIC_SEQ_CST));
}

bool jobs_table_full(void)
{
	return __atomic_load_n(&H->full, __ATOMIC_SEQ_CST);
}

u64 jobs_table_states(void)
{
	u64 n = __atomic_load_n(&H->states, __ATOMIC_SEQ_CST);

	for (int i = 0; i < nworkers; i++)
		n += H->w[i].unflushed;
	return n;
}

static struct slot *table_of(u32 lg)
{
	return region[(lg - TABLE_MIN_LOG) & 1];	/* each doubling moves to the other region */
}

static u64 nr_chunks(u32 lg)
{
	return ((1ull << lg) + COPY_CHUNK - 1) / COPY_CHUNK;
}

/* Copy chunk c of the table of 2^lg slots into the next one. */
static void copy_chunk(u32 lg, u64 c)
{
	struct slot *old = table_of(lg), *nt = table_of(lg + 1);
	u64 ncap = 2ull << lg, lo = c * COPY_CHUNK, hi = lo + COPY_CHUNK;

	if (hi > 1ull << lg)
		hi = 1ull << lg;
	/*
	 * Fault the slots its keys go to in with one call: page faults one by
	 * one cost twice as much here, more in a virtual machine.
	 */
	madvise(nt + 2 * lo, 2 * (hi - lo) * sizeof(*nt), MADV_POPULATE_WRITE);
	for (u64 j = lo; j < hi; j++) {
		u64 k = __atomic_load_n(&old[j].key, __ATOMIC_RELAXED), i, e;

		if (!k)
			continue;
		/* Keys near the chunk's end may land among the next chunk's, copied at the same time. */
		for (i = k >> (63 - lg);; i = (i + 1) & (ncap - 1)) {
			e = 0;
			if (__atomic_compare_exchange_n(&nt[i].key, &e, k, false, __ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
				break;
		}
		__atomic_store_n(&nt[i].awake, __atomic_load_n(&old[j].awake, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	}
}

/*
 * Copy chunks of the table of 2^lg slots while its doubling hands them
 * out.  A ticket names the doubling (the old table's lg) and the next
 * chunk; taking one is a compare-and-swap, so that a worker that read lg
 * before another doubling began takes nothing from that one.
 */
static void help_copy(u32 lg)
{
	for (;;) {
		u64 t = __atomic_load_n(&H->ticket, __ATOMIC_SEQ_CST);

		if (t >> 32 != lg || (t & 0xffffffff) >= nr_chunks(lg))
			return;
		if (!__atomic_compare_exchange_n(&H->ticket, &t, t + 1, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_SEQ_CST))
			continue;
		copy_chunk(lg, t & 0xffffffff);
		__atomic_fetch_add(&H->copied, 1, __ATOMIC_SEQ_CST);
	}
}

/* Double the table of 2^lg slots (see above), unless another worker does or the bound forbids it. */
static void grow(int worker, u32 lg)
{
	u64 cap = 1ull << lg, ncap = cap * 2;
	unsigned spins = 0;
	int zero = 0;
	double t0;

	if (!__atomic_compare_exchange_n(&H->resizing, &zero, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;		/* another worker is at it */
	t0 = now();
	if (__atomic_load_n(&H->cap_log, __ATOMIC_SEQ_CST) != lg || __atomic_load_n(&H->full, __ATOMIC_SEQ_CST))
		goto out;	/* it has grown already, or cannot */
	/* Doubling holds the old table and the new one at once. */
	if (ncap > region_slots || (limit && (cap + ncap) * sizeof(struct slot) + own_total() > limit)) {
		__atomic_store_n(&H->full, 1, __ATOMIC_SEQ_CST);
		goto out;
	}
	for (int i = 0; i < nworkers; i++)
		while (__atomic_load_n(&H->w[i].in_claim, __ATOMIC_SEQ_CST)) {
			if (stopped())
				goto out;	/* a worker died in a claim: the search is over */
			relax(&spins);
		}
	/* The workers waiting for the table help (jobs_table_claim()). */
	__atomic_store_n(&H->copied, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&H->ticket, (u64)lg << 32, __ATOMIC_SEQ_CST);
	help_copy(lg);
	while (__atomic_load_n(&H->copied, __ATOMIC_SEQ_CST) < nr_chunks(lg)) {
		if (stopped())
			return;	/* a helper died: the table stays as it is to the end */
		relax(&spins);
	}
	__atomic_store_n(&H->cap_log, lg + 1, __ATOMIC_SEQ_CST);
	/* The old table's pages go back, and read as zeros when the region is used again. */
	if (madvise(table_of(lg), cap * sizeof(struct slot), MADV_REMOVE))
		memset(table_of(lg), 0, cap * sizeof(struct slot));
out:
	__atomic_store_n(&H->resizing, 0, __ATOMIC_SEQ_CST);	/* publishes the new table */
	H->w[worker].doubling += now() - t0;
}

enum claim jobs_table_claim(int worker, u64 hash, u32 *sleep)
{
	struct jw *w = &H->w[worker];
	u64 k = hash ? hash : 1, cap, i, probes = 0;
	u32 mine = (~*sleep & SLOT_FIBERS) | AWAKE_SEEN, old, lg;
	unsigned spins = 0;
	struct slot *t;
	double t0;

	for (;;) {
		__atomic_store_n(&w->in_claim, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&H->resizing, __ATOMIC_SEQ_CST))
			break;
		__atomic_store_n(&w->in_claim, 0, __ATOMIC_RELEASE);
		t0 = now();
		while (__atomic_load_n(&H->resizing, __ATOMIC_SEQ_CST)) {
			if (stopped())
				return CLAIM_VISITED;	/* the search ends unfinished anyway */
			help_copy(__atomic_load_n(&H->cap_log, __ATOMIC_SEQ_CST));
			relax(&spins);
		}
		w->doubling += now() - t0;
	}
	lg = __atomic_load_n(&H->cap_log, __ATOMIC_RELAXED);
	t = table_of(lg);
	cap = 1ull << lg;
	for (i = k >> (64 - lg);; i = (i + 1) & (cap - 1)) {
		u64 cur = __atomic_load_n(&t[i].key, __ATOMIC_RELAXED);

		if (!cur && __atomic_compare_exchange_n(&t[i].key, &cur, k, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			break;
		if (cur == k)
			break;
		if (++probes == cap) {
			/* Full to the last slot: the search stops (publish() says why). */
			__atomic_store_n(&H->full, 1, __ATOMIC_SEQ_CST);
			__atomic_store_n(&w->in_claim, 0, __ATOMIC_RELEASE);
			return CLAIM_VISITED;
		}
	}
	old = __atomic_fetch_or(&t[i].awake, mine, __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->in_claim, 0, __ATOMIC_RELEASE);
	if (old) {
		if (!(mine & ~old))
			return CLAIM_VISITED;
		*sleep = ~(mine | old) & SLOT_FIBERS;
		return CLAIM_AGAIN;
	}
	if (++w->unflushed >= batch) {
		u64 n = __atomic_fetch_add(&H->states, w->unflushed, __ATOMIC_SEQ_CST) + w->unflushed;

		w->unflushed = 0;
		if (n * 4 > cap * 3)
			grow(worker, lg);
	}
	return CLAIM_NEW;
}

static void *map_shared(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int jobs_table_init(int workers, u64 memory_limit)
{
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	u64 room = memory_limit ? memory_limit : pages > 0 && psize > 0 ? (u64)pages * (u64)psize : 1ull << 32;

	if (workers < 1 || workers > JOBS_MAX)
		return -EINVAL;
	nworkers = workers;
	limit = memory_limit;
	batch = 64;
	H = map_shared(sizeof(*H));
	if (!H)
		return -errno;
	/* The largest table: doubling to it holds 3/2 of it. */
	region_slots = 1ull << TABLE_MIN_LOG;
	while (region_slots * 2 * sizeof(struct slot) / 2 * 3 <= room)
		region_slots *= 2;
	for (;;) {
		region[0] = map_shared(region_slots * sizeof(struct slot));
		region[1] = region[0] ? map_shared(region_slots * sizeof(struct slot)) : NULL;
		if (region[1] || region_slots == 1ull << TABLE_MIN_LOG)
			break;
		if (region[0])
			munmap(region[0], region_slots * sizeof(struct slot));
		region_slots /= 2;	/* not that much address space: a smaller bound */
	}
	if (!region[1]) {
		int e = errno;

		jobs_table_fini();
		return -e;
	}
	__atomic_store_n(&H->cap_log, TABLE_MIN_LOG, __ATOMIC_SEQ_CST);
	return 0;
}

void jobs_table_fini(void)
{
	for (int i = 0; i < 2; i++)
		if (region[i])
			munmap(region[i], region_slots * sizeof(struct slot));
	if (H)
		munmap(H, sizeof(*H));
	if (queue)
		munmap(queue, (size_t)qcap * qslot_bytes);
	region[0] = region[1] = NULL;
	H = NULL;
	queue = NULL;
}

/* ---- the hooks explore_run() calls in a worker -------------------------------- */

static void set_stop(void)
{
	__atomic_store_n(&H->stop, 1, __ATOMIC_SEQ_CST);
}

static enum claim hook_claim(u64 hash, u32 *sleep)
{
	return jobs_table_claim(me, hash, sleep);
}

static bool hook_poll(void)
{
	return stopped();
}

static void hook_finish(bool early)
{
	if (early)
		set_stop();
}

static u64 hook_publish(const struct explore_result *r, u64 own, const char **why)
{
	static char msg[200];
	struct jw *w = &H->w[me];
	u64 table = jobs_table_bytes();

	__atomic_store_n(&w->states, r->states, __ATOMIC_RELAXED);
	__atomic_store_n(&w->transitions, r->transitions, __ATOMIC_RELAXED);
	__atomic_store_n(&w->own_bytes, own, __ATOMIC_RELAXED);
	*why = NULL;
	if (jobs_table_full()) {
		if (limit)
			snprintf(msg, sizeof(msg), "--memory-limit %llu MiB reached (the shared visited table "
				 "of %llu MiB cannot double)", (unsigned long long)(limit >> 20),
				 (unsigned long long)(table >> 20));
		else
			snprintf(msg, sizeof(msg), "the shared visited table of %llu MiB is full: physical "
				 "memory does not hold it doubled", (unsigned long long)(table >> 20));
		*why = msg;
	}
	return table + own_total();
}

static u64 hook_total_states(void)
{
	return __atomic_load_n(&H->states, __ATOMIC_RELAXED) + H->w[me].unflushed;
}

static bool hook_hungry(void)
{
	return __atomic_load_n(&H->idle, __ATOMIC_RELAXED) >
	       __atomic_load_n(&H->queued, __ATOMIC_RELAXED);
}

static bool lock_queue(void)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&H->qlock, 1, __ATOMIC_ACQUIRE)) {
		if (stopped())
			return false;	/* its holder may have died */
		relax(&spins);
	}
	return true;
}

static void unlock_queue(void)
{
	__atomic_store_n(&H->qlock, 0, __ATOMIC_RELEASE);
}

static bool hook_offer(const struct explore_work *wk)
{
	size_t bytes = sizeof(*wk) + wk->depth * sizeof(wk->path[0]);
	bool ok = false;

	if (bytes > qslot_bytes || !lock_queue())
		return false;
	if (H->qlen < qcap) {
		__atomic_fetch_add(&H->pending, 1, __ATOMIC_SEQ_CST);	/* before anyone can take it */
		memcpy(queue + (size_t)((H->qhead + H->qlen) % qcap) * qslot_bytes, wk, bytes);
		H->qlen++;
		__atomic_fetch_add(&H->queued, 1, __ATOMIC_SEQ_CST);
		ok = true;
	}
	unlock_queue();
	stats.offered += ok;
	return ok;
}

static struct explore_work *pop_work(void)
{
	struct explore_work *wk = NULL;
	const struct explore_work *q;
	size_t bytes;

	if (!lock_queue())
		return NULL;
	if (H->qlen) {
		q = (const struct explore_work *)(queue + (size_t)H->qhead * qslot_bytes);
		bytes = sizeof(*q) + q->depth * sizeof(q->path[0]);
		wk = mem_malloc(bytes);
		memcpy(wk, q, bytes);
		H->qhead = (H->qhead + 1) % qcap;
		H->qlen--;
		__atomic_fetch_sub(&H->queued, 1, __ATOMIC_SEQ_CST);
	}
	unlock_queue();
	return wk;
}

static struct explore_work *hook_take(void)
{
	struct explore_work *wk = NULL;
	double t0 = now();
	unsigned spins = 0;

	__atomic_fetch_sub(&H->pending, 1, __ATOMIC_SEQ_CST);	/* this worker's work is done */
	__atomic_fetch_add(&H->idle, 1, __ATOMIC_SEQ_CST);
	while (!stopped()) {
		if (__atomic_load_n(&H->queued, __ATOMIC_SEQ_CST) && (wk = pop_work()))
			break;		/* its count in pending is now this worker's */
		if (!__atomic_load_n(&H->pending, __ATOMIC_SEQ_CST))
			break;		/* nobody busy, nothing queued: the end */
		relax(&spins);
	}
	__atomic_fetch_sub(&H->idle, 1, __ATOMIC_SEQ_CST);
	stats.idle += now() - t0;
	stats.taken += wk != NULL;
	return wk;
}

/* ---- workers and their results ---------------------------------------------- */

#define RESULT_MAGIC 0x6b766d6a6f627331ull	/* "kvmjobs1" */

int jobs_write_all(int fd, const void *p, size_t n)
{
	const u8 *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * A worker: the search with the shared hooks, its result down the pipe
 * (the result struct, then its terminal states, path and timeline), exit.
 * Nothing else: no stdio flushing, no atexit handlers (_exit).
 */
static __attribute__((noreturn)) void worker(int rank, const struct explore_opts *o, int fd)
{
	struct explore_dist hooks = {
		.rank = rank, .size = nworkers,
		.claim = hook_claim, .poll = hook_poll, .finish = hook_finish,
		.shared_table = true, .publish = hook_publish, .total_states = hook_total_states,
		.hungry = hook_hungry, .offer = hook_offer, .take = hook_take,
	};
	struct explore_opts wo = *o;
	struct explore_result res;
	u64 magic = RESULT_MAGIC;
	double t0 = now();
	int bad;

	me = rank;
	if (!sharing)
		hooks.hungry = NULL, hooks.offer = NULL, hooks.take = NULL;
	wo.dist = &hooks;
	wo.progress = PROGRESS_NONE;
	explore_run(&wo, &res);
	stats.states = res.states;
	stats.transitions = res.transitions;
	stats.revisits = res.revisits;
	stats.verdict = res.verdict;
	stats.seconds = now() - t0;
	stats.doubling = H->w[me].doubling;
	bad = jobs_write_all(fd, &magic, sizeof(magic)) || jobs_write_all(fd, &res, sizeof(res)) ||
	      jobs_write_all(fd, &stats, sizeof(stats)) ||
	      jobs_write_all(fd, res.terminals, res.terminal_distinct * sizeof(*res.terminals)) ||
	      jobs_write_all(fd, res.path, res.path_len * sizeof(*res.path)) ||
	      jobs_write_all(fd, res.events, res.nr_events * sizeof(*res.events)) ||
	      jobs_write_all(fd, &magic, sizeof(magic));
	_exit(bad ? 2 : 0);
}

struct wbuf {
	struct jobs_child c;
	bool ok;		/* exited 0 with a whole result */
	struct explore_result res;
};

/* Read what child b wrote; false at the end of its pipe. */
static bool read_some(struct jobs_child *b)
{
	ssize_t n;

	if (b->cap - b->n < 65536) {
		b->cap = b->cap ? b->cap * 2 : 1 << 17;
		b->p = mem_realloc(b->p, b->cap);
	}
	n = read(b->fd, b->p + b->n, b->cap - b->n);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	b->n += (size_t)n;
	return true;
}

/* Unpack worker b's result into b->res (arrays malloc'd) and stats; false if it is not whole. */
static bool parse_result(struct wbuf *b, struct jobs_worker *st)
{
	const u8 *p = b->c.p;
	size_t need = 2 * sizeof(u64) + sizeof(b->res) + sizeof(*st);
	u64 magic;

	if (b->c.n < need)
		return false;
	memcpy(&magic, p, sizeof(magic));
	memcpy(&b->res, p + sizeof(magic), sizeof(b->res));
	memcpy(st, p + sizeof(magic) + sizeof(b->res), sizeof(*st));
	need += b->res.terminal_distinct * sizeof(u64) + b->res.path_len * sizeof(struct step) +
		b->res.nr_events * sizeof(struct kvm_event);
	if (magic != RESULT_MAGIC || b->c.n != need)
		return false;
	p += sizeof(magic) + sizeof(b->res) + sizeof(*st);
	b->res.terminals = mem_malloc(b->res.terminal_distinct * sizeof(u64) + 1);
	memcpy(b->res.terminals, p, b->res.terminal_distinct * sizeof(u64));
	p += b->res.terminal_distinct * sizeof(u64);
	b->res.path = mem_malloc(b->res.path_len * sizeof(struct step) + 1);
	memcpy(b->res.path, p, b->res.path_len * sizeof(struct step));
	p += b->res.path_len * sizeof(struct step);
	b->res.events = mem_malloc(b->res.nr_events * sizeof(struct kvm_event) + 1);
	memcpy(b->res.events, p, b->res.nr_events * sizeof(struct kvm_event));
	b->res.shorten_stop = NULL;
	return true;
}

void jobs_describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(buf, len, "exited without a whole result");
}

static void progress_line(const struct explore_opts *o, double t0, bool first)
{
	u64 states = 0, transitions = 0;
	double el = now() - t0;

	for (int i = 0; i < nworkers; i++) {
		states += __atomic_load_n(&H->w[i].states, __ATOMIC_RELAXED);
		transitions += __atomic_load_n(&H->w[i].transitions, __ATOMIC_RELAXED);
	}
	if (first)
		fprintf(stderr, "progress (no ETA: the number of states left is not known until they are explored)\n");
	fprintf(stderr, "%s%llu states, %llu transitions, %.0f/s, %d workers (%d waiting for work), "
		"%.1f MiB, %.0f s%s", o->progress == PROGRESS_TERMINAL ? "\r" : "",
		(unsigned long long)states, (unsigned long long)transitions, el > 0 ? transitions / el : 0.0,
		nworkers, __atomic_load_n(&H->idle, __ATOMIC_SEQ_CST), (jobs_table_bytes() + own_total()) / 1048576.0, el,
		o->progress == PROGRESS_TERMINAL ? "   " : "\n");
}

static bool found_verdict(enum explore_verdict v)
{
	return v == VERDICT_VIOLATION || v == VERDICT_WITNESS_FOUND;
}

/*
 * The workers' results as one search's (see jobs_run()); b[i].res move
 * into r or are freed.
 */
static void combine(struct wbuf *b, int n, struct explore_result *r, struct jobs_report *rep)
{
	int first = -1, bounded = -1, died = -1;
	size_t total = 0, at = 0;
	u64 *all;

	for (int i = 0; i < n; i++)
		total += b[i].ok ? b[i].res.terminal_distinct : 0;
	all = mem_malloc((total + 1) * sizeof(*all));
	for (int i = 0; i < n; i++) {
		const struct explore_result *w = &b[i].res;

		if (!b[i].c.pid)
			continue;	/* never started (jobs_run() says so) */
		if (!b[i].ok) {
			rep->died++;
			if (died < 0)
				died = i;
			continue;
		}
		r->states += w->states;
		r->transitions += w->transitions;
		r->revisits += w->revisits;
		r->terminal += w->terminal;
		r->ample += w->ample;
		if (w->max_depth > r->max_depth)
			r->max_depth = w->max_depth;
		if (w->peak_bytes > r->peak_bytes)
			r->peak_bytes = w->peak_bytes;	/* each saw the whole search's memory */
		memcpy(all + at, w->terminals, w->terminal_distinct * sizeof(*all));
		at += w->terminal_distinct;
		if (found_verdict(w->verdict) && first < 0)
			first = i;
		if (w->verdict == VERDICT_INCOMPLETE && !w->stopped_by_peer && bounded < 0)
			bounded = i;
	}
	r->terminal_distinct = explore_terminal_digest(all, total, &r->terminal_digest);
	r->terminals = all;
	r->table_bytes = jobs_table_bytes();
	if (r->table_bytes + own_total() > r->peak_bytes)
		r->peak_bytes = r->table_bytes + own_total();
	rep->states = r->states;
	rep->transitions = r->transitions;
	rep->table_bytes = r->table_bytes;
	if (died >= 0) {
		char why[96];

		jobs_describe_status(b[died].c.status, why, sizeof(why));
		fprintf(stderr, "kvmlab check: worker %d (pid %d) %s: the search is not complete\n", died,
			(int)b[died].c.pid, why);
		r->verdict = VERDICT_INCOMPLETE;
		snprintf(r->incomplete, sizeof(r->incomplete), "worker %d (pid %d) %s; %d of %d workers died",
			 died, (int)b[died].c.pid, why, rep->died, n);
	} else if (first >= 0) {
		struct explore_result *w = &b[first].res;

		r->verdict = w->verdict;
		explore_result_take_path(r, w);
	} else if (bounded >= 0) {
		r->verdict = VERDICT_INCOMPLETE;
		snprintf(r->incomplete, sizeof(r->incomplete), "%.200s (worker %d)", b[bounded].res.incomplete,
			 bounded);
	} else if (explore_stop_signal) {
		r->verdict = VERDICT_INCOMPLETE;
		snprintf(r->incomplete, sizeof(r->incomplete), "interrupted by %s: %d workers stopped",
			 explore_stop_signal == SIGINT ? "SIGINT" :
			 explore_stop_signal == SIGTERM ? "SIGTERM" : "a signal", n);
	} else {
		r->verdict = b[0].res.verdict;
		for (int i = 0; i < n; i++)
			if (b[i].res.verdict != r->verdict) {
				r->verdict = VERDICT_INCOMPLETE;
				snprintf(r->incomplete, sizeof(r->incomplete),
					 "worker %d ended with another verdict than worker 0", i);
			}
	}
	for (int i = 0; i < n; i++)
		if (b[i].ok)
			explore_result_free(&b[i].res);
}

int jobs_pool_run(struct jobs_child **c, int n, void (*body)(int i, int fd, void *arg),
		  void (*tick)(void *arg), void (*failed)(void *arg), void *arg, int *err)
{
	pid_t parent = getpid();
	struct pollfd pfd[JOBS_MAX];
	int started = 0, open;

	*err = 0;
	fflush(stdout);
	fflush(stderr);
	for (; started < n; started++) {
		int p[2];
		pid_t pid;

		if (pipe(p)) {
			*err = -errno;
			break;
		}
		pid = fork();
		if (pid < 0) {
			*err = -errno;
			close(p[0]);
			close(p[1]);
			break;
		}
		if (!pid) {
			close(p[0]);
			for (int j = 0; j < started; j++)
				close(c[j]->fd);
			/* No orphans: a child dies with the parent. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(2);
			body(started, p[1], arg);
			_exit(2);	/* body() must not return */
		}
		close(p[1]);
		c[started]->pid = pid;
		c[started]->fd = p[0];
	}
	if (*err && started)
		failed(arg);	/* the ones that did start end: the run fails */
	open = started;
	while (open) {
		int k = 0, rc;

		for (int i = 0; i < started; i++)
			if (c[i]->fd >= 0)
				pfd[k++] = (struct pollfd){ .fd = c[i]->fd, .events = POLLIN };
		rc = poll(pfd, (nfds_t)k, 100);
		for (int i = 0, j = 0; rc > 0 && i < started; i++) {
			if (c[i]->fd < 0)
				continue;
			if (pfd[j++].revents && !read_some(c[i])) {
				close(c[i]->fd);
				c[i]->fd = -1;
				open--;
				while (waitpid(c[i]->pid, &c[i]->status, 0) < 0 && errno == EINTR)
					;
				c[i]->exited_ok = WIFEXITED(c[i]->status) && !WEXITSTATUS(c[i]->status);
				if (!c[i]->exited_ok)
					failed(arg);	/* the others end: the run fails */
			}
		}
		tick(arg);
	}
	return started;
}

struct run_ctx {
	const struct explore_opts *o;
	double t0, last;
	bool progressed;
};

static void search_body(int i, int fd, void *arg)
{
	worker(i, ((struct run_ctx *)arg)->o, fd);
}

static void search_tick(void *arg)
{
	struct run_ctx *x = arg;

	if (explore_stop_signal && !stopped())
		set_stop();
	if (x->o->progress && now() - x->last >= (x->o->progress == PROGRESS_TERMINAL ? 0.5 : 10)) {
		progress_line(x->o, x->t0, !x->progressed);
		x->progressed = true;
		x->last = now();
	}
}

static void search_failed(void *arg)
{
	set_stop();
}

/* Fork the workers, collect their results; 0 or -errno (none could start). */
static int run_workers(const struct explore_opts *o, int n, struct wbuf *b, double *seconds)
{
	struct run_ctx x = { .o = o, .t0 = now() };
	struct jobs_child *c[JOBS_MAX];
	int started, err;

	x.last = x.t0;
	for (int i = 0; i < n; i++)
		c[i] = &b[i].c;
	started = jobs_pool_run(c, n, search_body, search_tick, search_failed, &x, &err);
	if (err && !started) {
		set_stop();
		return err;
	}
	if (err)
		fprintf(stderr, "kvmlab check: could only start %d of %d workers: %s\n", started, n,
			strerror(-err));
	for (int i = 0; i < started; i++)
		b[i].ok = b[i].c.exited_ok;
	if (o->progress == PROGRESS_TERMINAL && x.progressed)
		fprintf(stderr, "\r%*s\r", 100, "");
	*seconds = now() - x.t0;
	return started < n ? err : 0;
}

int jobs_run(const struct explore_opts *o, int n, struct explore_result *r, struct jobs_report *rep)
{
	struct wbuf b[JOBS_MAX];
	int err;

	memset(rep, 0, sizeof(*rep));
	memset(r, 0, sizeof(*r));
	memset(b, 0, sizeof(b));
	rep->jobs = n;
	err = jobs_table_init(n, o->memory_limit);
	if (err)
		return err;
	if (o->max_states)
		batch = 1;	/* --max-states counts every state at once */
	sharing = !getenv("KVMLAB_JOBS_SHARING") || strcmp(getenv("KVMLAB_JOBS_SHARING"), "0");
	qcap = (u32)(QUEUE_PER_WORKER * n);
	qslot_bytes = sizeof(struct explore_work) + QUEUE_PATH * sizeof(struct step);
	qslot_bytes = (qslot_bytes + LINE - 1) / LINE * LINE;
	queue = map_shared((size_t)qcap * qslot_bytes);
	if (!queue) {
		err = -errno;
		jobs_table_fini();
		return err;
	}
	__atomic_store_n(&H->pending, n, __ATOMIC_SEQ_CST);	/* every worker starts busy, at the initial state */
	err = run_workers(o, n, b, &rep->seconds);
	if (err && !b[0].c.pid) {
		jobs_table_fini();
		return err;
	}
	for (int i = 0; i < n; i++) {
		if (b[i].ok && !parse_result(&b[i], &rep->w[i]))
			b[i].ok = false;
		free(b[i].c.p);
	}
	combine(b, n, r, rep);
	r->seconds = rep->seconds;
	jobs_table_fini();
	if (err && !rep->died && !found_verdict(r->verdict)) {
		r->verdict = VERDICT_INCOMPLETE;
		snprintf(r->incomplete, sizeof(r->incomplete), "not every worker could start: %s", strerror(-err));
	}
	/*
	 * The counterexample --jobs 1 reports: that search, here.  Not after a
	 * signal (it would stop at once): the worker's is reported.
	 */
	if (found_verdict(r->verdict) && explore_stop_signal) {
		snprintf(rep->rerun_missed, sizeof(rep->rerun_missed),
			 "interrupted by %s before the search in one process",
			 explore_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	} else if (found_verdict(r->verdict)) {
		struct explore_opts so = *o;
		struct explore_result seq;

		if (o->time_limit)
			so.time_limit = o->time_limit > rep->seconds + 1 ? o->time_limit - rep->seconds : 1;
		rep->rerun = true;
		explore_run(&so, &seq);
		rep->rerun_seconds = seq.seconds;
		if (seq.verdict == r->verdict) {
			explore_result_free(r);
			*r = seq;
		} else {
			snprintf(rep->rerun_missed, sizeof(rep->rerun_missed),
				 "the search in one process ended %s%.200s",
				 seq.verdict == VERDICT_INCOMPLETE ? "incomplete: " : "without it",
				 seq.verdict == VERDICT_INCOMPLETE ? seq.incomplete : "");
			explore_result_free(&seq);
		}
	}
	return 0;
}
