// SPDX-License-Identifier: GPL-2.0
/*
 * Happens-before race detection; see check/race.h.
 *
 * Vector clocks, one per fiber; a synchronization object (a vector clock)
 * per lock and per 8-byte word a marked access touched (two marked fields in
 * one word share it: extra ordering, which can hide a race, never invent
 * one); per 4-byte cell of the model heap (its first SHADOW_LIMIT bytes) the
 * epoch (fiber, clock) and byte mask of the last plain write, packed in one
 * word, and its pc, and per fiber the clock and byte mask of its last plain
 * read, packed likewise, and its pc.  Neighbouring bytes written by
 * different fibers keep only the last writer, which can hide a race, never
 * invent one.  Every change goes through set64()/set32() and is logged, so
 * race_undo() can roll it back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check/mem.h"
#include "check/race.h"
#include "check/report.h"
#include "check/sched.h"
#include "check/sched_int.h"

#define NF CHK_MAX_FIBERS
#define SHADOW_LIMIT (8ul << 20)	/* heap bytes with shadow cells */
#define SYNC_SLOTS 8192		/* power of two */
#define EPOCH(f, c) ((u32)((f) + 1) << 24 | (c))
#define EPOCH_FIBER(e) ((int)((e) >> 24) - 1)
#define EPOCH_CLOCK(e) ((e) & 0xffffff)

bool race_on;

struct undo {
	void *p;
	u64 old;
	u32 size;
};

static struct {
	const u8 *heap;
	size_t cells;
	int nf;
	u32 vc[NF][NF];
	u64 *w;			/* [cell]: epoch << 32 | byte mask */
	u64 *wpc;		/* [cell] */
	u64 *r;			/* [cell * nf + fiber]: clock << 32 | byte mask */
	u64 *rpc;		/* [cell * nf + fiber] */
	u64 sync_key[SYNC_SLOTS];
	u32 sync_vc[SYNC_SLOTS][NF];
	struct undo *log;
	size_t log_len, log_cap;
	size_t map_bytes;
	void *map;
	bool reported;		/* one report per transition is enough */
} R;

enum { RE_PLAIN, RE_MARKED, RE_LOCK };

struct revent {
	u8 kind;
	bool write;		/* plain: a store */
	bool acq, rel;		/* marked: acquire/release; lock: acq = acquisition, rel = exclusive */
	u32 n;
	const void *p;
	const void *pc;
};

static struct {
	struct revent *e;
	size_t len, cap;
	bool rec;	/* a fiber's transition is running (race_begin .. race_flush) */
} B;

/* Double an array of *cap elements (4096 to start with). */
static void *grow(void *a, size_t *cap, size_t elem, const char *what)
{
	size_t n = *cap ? *cap * 2 : 4096;

	a = mem_realloc(a, n * elem);
	*cap = n;
	return a;
}

static void log_old(void *p, u64 old, u32 size)
{
	struct undo *u;

	if (R.log_len == R.log_cap)
		R.log = grow(R.log, &R.log_cap, sizeof(*R.log), "log");
	u = &R.log[R.log_len++];
	u->p = p;
	u->old = old;
	u->size = size;
}

static inline void set64(u64 *p, u64 v)
{
	if (*p != v) {
		log_old(p, *p, 8);
		*p = v;
	}
}

static inline void set32(u32 *p, u32 v)
{
	if (*p != v) {
		log_old(p, *p, 4);
		*p = v;
	}
}

size_t race_mark(void)
{
	return R.log_len;
}

void race_undo(size_t mark)
{
	while (R.log_len > mark) {
		struct undo *u = &R.log[--R.log_len];

		if (u->size == 8)
			*(u64 *)u->p = u->old;
		else
			*(u32 *)u->p = (u32)u->old;
	}
	R.reported = false;
}

int race_init(const u8 *heap, size_t heap_size)
{
	size_t cells = (heap_size < SHADOW_LIMIT ? heap_size : SHADOW_LIMIT) / 4;
	size_t bytes = cells * 16 * (1 + NF);
	u8 *m;

	race_fini();
	m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	R.map = m;
	R.map_bytes = bytes;
	R.heap = heap;
	R.cells = cells;
	race_set_fibers(NF);
	for (int f = 0; f < NF; f++)
		R.vc[f][f] = 1;
	B.len = 0;
	race_on = true;
	return 0;
}

/*
 * The shadow arrays, laid out for n fibers: the checks loop over the fibers
 * that exist, and a cell's per-fiber read records stay in one cache line.
 */
void race_set_fibers(int n)
{
	u8 *m = R.map;
	size_t cells = R.cells;

	R.nf = n;
	R.w = (u64 *)m;
	R.wpc = R.w + cells;
	R.r = R.wpc + cells;
	R.rpc = R.r + cells * n;
}

void race_fini(void)
{
	race_on = false;
	if (R.map)
		munmap(R.map, R.map_bytes);
	free(R.log);
	memset(&R, 0, sizeof(R));
	free(B.e);
	memset(&B, 0, sizeof(B));
}

/* ---- reporting ------------------------------------------------------------ */

static void default_name(int fiber, char *buf, size_t len)
{
	snprintf(buf, len, "actor %d", fiber);
}

void (*race_actor_name)(int fiber, char *buf, size_t len) = default_name;

static void report(int g, bool gwrite, u64 gpc, bool marked, int f, bool fwrite, u64 fpc, size_t cell)
{
	char a[200], b[200], who[32], msg[600];

	(void)g;
	if (R.reported)
		return;
	R.reported = true;
	report_symbolize(gpc, a, sizeof(a));
	report_symbolize(fpc, b, sizeof(b));
	race_actor_name(f, who, sizeof(who));
	snprintf(msg, sizeof(msg),
		 "%s %s of heap+%#zx in %s is not ordered after %s's plain %s in %s",
		 marked ? "marked" : "plain", gwrite ? "write" : "read", cell * 4, a, who,
		 fwrite ? "write" : "read", b);
	sched_report_race(msg);
}

/* ---- checks --------------------------------------------------------------- */

static bool ordered(int g, int f, u32 clock)
{
	return clock <= R.vc[g][f];
}

/* Check cell c (bytes 'm') against the other fibers' plain accesses; record a plain one. */
static void access_cell(int g, size_t c, u8 m, bool write, bool marked, u64 pc)
{
	u64 w = R.w[c];
	u32 e = (u32)(w >> 32);

	if (e && EPOCH_FIBER(e) != g && (w & m) && !ordered(g, EPOCH_FIBER(e), EPOCH_CLOCK(e)))
		report(g, write, pc, marked, EPOCH_FIBER(e), true, R.wpc[c], c);
	if (write)
		for (int f = 0; f < R.nf; f++) {
			u64 r = R.r[c * R.nf + f];
			u32 rc = (u32)(r >> 32);

			if (f != g && rc && (r & m) && !ordered(g, f, rc))
				report(g, true, pc, marked, f, false, R.rpc[c * R.nf + f], c);
		}
	if (marked)
		return;
	/*
	 * Record it; an access in the same epoch to bytes already recorded
	 * changes nothing (the first one's pc stays: either names the race).
	 */
	if (write) {
		u32 ne = EPOCH(g, R.vc[g][g]);

		if (e == ne && !(m & ~w))
			return;
		set64(&R.w[c], (u64)ne << 32 | (e == ne ? (u8)(w | m) : m));
		set64(&R.wpc[c], pc);
	} else {
		size_t i = c * R.nf + g;
		u64 r = R.r[i];
		bool same = (u32)(r >> 32) == R.vc[g][g];

		if (same && !(m & ~r))
			return;
		set64(&R.r[i], (u64)R.vc[g][g] << 32 | (same ? (u8)(r | m) : m));
		set64(&R.rpc[i], pc);
	}
}

static void access_range(int g, const void *p, size_t n, bool write, bool marked, u64 pc)
{
	size_t off = (size_t)((const u8 *)p - R.heap), end;

	if (off >= R.cells * 4 || !n)
		return;
	end = off + n < R.cells * 4 ? off + n : R.cells * 4;
	for (size_t c = off / 4; c * 4 < end; c++) {
		size_t lo = c * 4 > off ? c * 4 : off, hi = c * 4 + 4 < end ? c * 4 + 4 : end;
		u8 m = (u8)(((1u << (hi - lo)) - 1) << (lo - c * 4));

		access_cell(g, c, m, write, marked, pc);
	}
}

/* ---- synchronization ------------------------------------------------------ */

static u32 *sync_vc(u64 key)
{
	u64 i = (key * 0x9e3779b97f4a7c15ull) >> 51;	/* 13 bits */

	for (u32 probes = 0; probes < SYNC_SLOTS; probes++, i = (i + 1) & (SYNC_SLOTS - 1)) {
		if (R.sync_key[i] == key)
			return R.sync_vc[i];
		if (!R.sync_key[i]) {
			set64(&R.sync_key[i], key);
			return R.sync_vc[i];
		}
	}
	fprintf(stderr, "kvmlab check: the race detector's synchronization table is full\n");
	abort();
}

static void acquire(int g, u64 key)
{
	const u32 *s = sync_vc(key);

	for (int f = 0; f < R.nf; f++)
		if (s[f] > R.vc[g][f])
			set32(&R.vc[g][f], s[f]);
}

static void release(int g, u64 key, bool join)
{
	u32 *s = sync_vc(key);

	for (int f = 0; f < R.nf; f++) {
		u32 v = join && s[f] > R.vc[g][f] ? s[f] : R.vc[g][f];

		set32(&s[f], v);
	}
	set32(&R.vc[g][g], R.vc[g][g] + 1);
}

static void do_marked(int fiber, const void *p, size_t n, bool acq, bool rel, const void *pc)
{
	u64 key = (u64)(uintptr_t)p & ~7ull;

	access_range(fiber, p, n, rel, true, (u64)(uintptr_t)pc);
	if (acq)
		acquire(fiber, key);
	if (rel)
		release(fiber, key, acq);	/* a read-modify-write continues the release sequence */
}

/*
 * Locks: writers release into the lock's clock, readers into a second one
 * (key + 1), so a shared acquisition orders after writers only and readers
 * stay unordered among themselves; an exclusive acquisition orders after
 * both.
 */
static void do_lock(int fiber, const void *lock, bool excl, bool acq)
{
	u64 key = (u64)(uintptr_t)lock;

	if (acq) {
		acquire(fiber, key);
		if (excl)
			acquire(fiber, key + 1);
	} else {
		release(fiber, excl ? key : key + 1, !excl);
	}
}

/* ---- the event buffer ------------------------------------------------------ */

/*
 * The hooks run on the fiber stacks, which are model state: anything the
 * detector left below the stack pointer (clocks, shadow pointers, all
 * history) would reach frames the model pushes later in the transition and
 * keep equal states apart.  So they only append to a buffer, and the
 * scheduler runs the detector on its own stack when the transition ends
 * (race_flush), in the same order.
 *
 * They record whether or not detection is on (race_flush then discards the
 * buffer): the fibers run the same code either way, so a run with
 * --no-races leaves the same bytes on the stacks and reaches the same
 * states, only without the checks.
 */

/* Room for one transition's events (more only if a transition needs it). */
#define RACE_BUF_MIN 16384

/* Out of line: the hooks' fast path must not need callee-saved registers. */
static __attribute__((noinline, cold)) void push_grow(void)
{
	B.e = grow(B.e, &B.cap, sizeof(*B.e), "buffer");
}

static inline void push(u8 kind, const void *p, size_t n, bool write, bool acq, bool rel, const void *pc)
{
	if (!B.rec)
		return;	/* setup code, outside any fiber's transition */
	if (B.len == B.cap)
		push_grow();
	B.e[B.len++] = (struct revent){ .kind = kind, .write = write, .acq = acq, .rel = rel,
					.n = (u32)n, .p = p, .pc = pc };
}

void race_plain(const void *p, size_t n, bool write, const void *pc)
{
	push(RE_PLAIN, p, n, write, false, false, pc);
}

void race_marked(int fiber, const void *p, size_t n, bool acq, bool rel, const void *pc)
{
	(void)fiber;
	push(RE_MARKED, p, n, false, acq, rel, pc);
}

void race_lock(int fiber, const void *lock, bool excl, bool acq)
{
	(void)fiber;
	push(RE_LOCK, lock, 0, false, acq, excl, NULL);
}

void race_begin(void)
{
	/*
	 * Grown here, on the scheduler's stack: a realloc in the middle of a
	 * transition would leave its frames on the fiber's stack, in one of
	 * two schedules that reach the same state and not in the other.
	 */
	while (B.cap - B.len < RACE_BUF_MIN)
		B.e = grow(B.e, &B.cap, sizeof(*B.e), "buffer");
	B.rec = true;
}

/*
 * A transition repeats many plain accesses (about 40 % of them on the
 * default scenario: the same field read again and again).  Applying one
 * again changes nothing and reports nothing new as long as the fiber has
 * not released since: only this fiber runs, so the other fibers' shadow
 * records are as they were, its own record already covers the bytes in its
 * epoch, and an acquisition in between only orders more.  A release starts
 * a new epoch, so the table of accesses applied (direct-mapped, by
 * address) is emptied then, and at every flush.
 */
#define SEEN_SLOTS 64

static struct {
	const void *p[SEEN_SLOTS];
	u32 n[SEEN_SLOTS];
	u8 write[SEEN_SLOTS];
	u32 gen[SEEN_SLOTS];
	u32 cur;
} SEEN;

static bool seen_before(const struct revent *e)
{
	u32 i = (u32)(((uintptr_t)e->p * 0x9e3779b97f4a7c15ull) >> 58);

	if (SEEN.gen[i] == SEEN.cur && SEEN.p[i] == e->p && SEEN.n[i] == e->n && SEEN.write[i] == e->write)
		return true;
	SEEN.gen[i] = SEEN.cur;
	SEEN.p[i] = e->p;
	SEEN.n[i] = e->n;
	SEEN.write[i] = e->write;
	return false;
}

void race_flush(int fiber)
{
	B.rec = false;
	if (!race_on) {
		B.len = 0;	/* recorded all the same: see above */
		return;
	}
	SEEN.cur++;
	for (size_t i = 0; i < B.len; i++) {
		const struct revent *e = &B.e[i];

		switch (e->kind) {
		case RE_PLAIN:
			if (!seen_before(e))
				access_range(fiber, e->p, e->n, e->write, false, (u64)(uintptr_t)e->pc);
			break;
		case RE_MARKED:
			do_marked(fiber, e->p, e->n, e->acq, e->rel, e->pc);
			SEEN.cur += e->rel;
			break;
		case RE_LOCK:
			do_lock(fiber, e->p, e->rel, e->acq);
			SEEN.cur += !e->acq;
			break;
		}
	}
	B.len = 0;
}
