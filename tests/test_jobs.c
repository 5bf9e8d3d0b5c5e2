// SPDX-License-Identifier: GPL-2.0
/*
 * The shared visited table of kvmlab check --jobs (check/jobs.c), with
 * threads standing in for the worker processes (so that ThreadSanitizer
 * sees the claims race): a claim's answers one at a time, then several
 * threads claiming the same states with different sleep sets while the
 * table doubles under them: every state is NEW exactly once, and every
 * transition some claim leaves awake is explored by a claim told NEW or
 * AGAIN.  Then a table that the memory bound keeps from growing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check/jobs.h"
#include "check/sched.h"
#include "tests/tap.h"

#define FIBERS ((1u << CHK_MAX_FIBERS) - 1)
#define THREADS 4
#define KEYS 300000

static u64 key_of(u32 i)
{
	return mix64(i + 1);
}

/* The sleep set thread t claims key i with: often all asleep but a few. */
static u32 sleep_of(int t, u32 i)
{
	u64 h = mix64(((u64)t << 32) | i);

	return (u32)(h & FIBERS) | ((h >> 20) & 1 ? FIBERS & ~(7u << (h % 13)) : 0);
}

static struct {
	u8 answer[THREADS][KEYS];
	u32 explored[THREADS][KEYS];	/* the sleep set explored with (NEW, AGAIN) */
} R;

static void *claimer(void *arg)
{
	int t = (int)(long)arg;

	/* Each thread goes through the keys in its own order. */
	for (u32 n = 0; n < KEYS; n++) {
		u32 i = (u32)((n * 7919ull + (u64)t * (KEYS / THREADS)) % KEYS), s = sleep_of(t, i);

		R.answer[t][i] = (u8)jobs_table_claim(t, key_of(i), &s);
		R.explored[t][i] = s;
	}
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];
	u32 s, bad_new = 0, bad_cover = 0, again = 0, visited = 0, full_at;
	bool ok = true;
	enum claim c;

	tap_plan(8);
	if (jobs_table_init(THREADS, 0)) {
		tap_ok(0, "jobs_table_init");
		return 1;
	}
	/* One claimant: explore_claim_local()'s rule. */
	s = 0x3;
	c = jobs_table_claim(0, 42, &s);
	tap_ok(c == CLAIM_NEW && s == 0x3, "first claim: NEW with its own sleep set");
	s = 0x3;
	c = jobs_table_claim(0, 42, &s);
	tap_ok(c == CLAIM_VISITED, "the same sleep set again: VISITED");
	s = 0x7;
	c = jobs_table_claim(0, 42, &s);
	tap_ok(c == CLAIM_VISITED, "a larger sleep set: VISITED");
	s = 0x1;
	c = jobs_table_claim(0, 42, &s);
	tap_ok(c == CLAIM_AGAIN && s == 0x1, "a smaller one: AGAIN with the intersection (%#x)", s);
	s = 0x2;
	c = jobs_table_claim(0, 0, &s);
	tap_ok(c == CLAIM_NEW, "fingerprint 0 is a key like any other");
	jobs_table_fini();

	/* Several claimants, the table doubling under them (2^16 -> 2^19 slots). */
	if (jobs_table_init(THREADS, 0)) {
		tap_ok(0, "jobs_table_init");
		return 1;
	}
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, claimer, (void *)t);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (u32 i = 0; i < KEYS; i++) {
		u32 need = 0, covered = 0, news = 0;

		for (int t = 0; t < THREADS; t++) {
			need |= ~sleep_of(t, i) & FIBERS;
			news += R.answer[t][i] == CLAIM_NEW;
			again += R.answer[t][i] == CLAIM_AGAIN;
			visited += R.answer[t][i] == CLAIM_VISITED;
			if (R.answer[t][i] != CLAIM_VISITED)
				covered |= ~R.explored[t][i] & FIBERS;
		}
		bad_new += news != 1;
		bad_cover += (need & ~covered) != 0;
	}
	tap_ok(!bad_new, "%d threads, %d states: each NEW exactly once (%u are not)", THREADS, KEYS, bad_new);
	tap_ok(!bad_cover && jobs_table_states() == KEYS,
	       "every transition a claim left awake is explored by a NEW or AGAIN claim (%u not; "
	       "%u AGAIN, %u VISITED; %llu states counted, table %llu KiB)", bad_cover, again, visited,
	       (unsigned long long)jobs_table_states(), (unsigned long long)(jobs_table_bytes() >> 10));
	jobs_table_fini();

	/* A bound the table cannot double under: it says so, and claims still end. */
	if (jobs_table_init(1, 2u << 20)) {
		tap_ok(0, "jobs_table_init");
		return 1;
	}
	for (full_at = 0; full_at < 200000 && !jobs_table_full(); full_at++) {
		s = 0;
		jobs_table_claim(0, key_of(full_at), &s);
	}
	for (u32 i = 0; i < 1000; i++) {	/* the search stops soon after; these must not hang */
		s = 0;
		ok &= jobs_table_claim(0, key_of(full_at + i), &s) == CLAIM_NEW;
	}
	tap_ok(jobs_table_full() && jobs_table_bytes() == 1u << 20 && full_at >= 49152 &&
	       full_at <= 49152 + 64 && ok,
	       "a 2 MiB bound keeps the table at 1 MiB, full (cannot double) at 3/4 (after %u states)", full_at);
	jobs_table_fini();
	return tap_failed ? 1 : 0;
}
