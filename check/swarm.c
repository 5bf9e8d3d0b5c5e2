// SPDX-License-Identifier: GPL-2.0
/*
 * kvmlab check --swarm N: N differently ordered bitstate searches; see
 * check/swarm.h.
 *
 * In one process the members run one after the other until one finds a
 * violation.  With --jobs J, J workers forked after checker_setup() (as
 * for --jobs, check/jobs.h: the same fingerprints in every process) take
 * member numbers from a shared counter, lowest first, and send each
 * member's counts and terminal states down a pipe, and a violating member's
 * counterexample.  A member that finds a violation lowers the shared
 * 'lowest'; members numbered above it are not started, and running ones
 * are cancelled.  Members numbered below it are never cancelled, so when
 * the workers are done every member up to the first violating one has run
 * to its end, as in one process, and the first violating member's
 * counterexample is the one this process would have found: a member's
 * search depends on its number alone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check/jobs.h"
#include "check/mem.h"
#include "check/swarm.h"

#define SWARM_MAGIC 0x6b766d7377726d31ull	/* "kvmswrm1" */
#define SWARM_END 0x6b766d7377726d30ull		/* "kvmswrm0": a worker's last word */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Shared by the workers (mapped before the fork). */
struct swarm_shared {
	u32 next;	/* the next member to start */
	u32 lowest;	/* the first member found to have a violation so far (members: none) */
	int stop;	/* a signal or the time limit: start no more, cancel the running ones */
	u32 ended;	/* members that ran to their end (for the progress line) */
	u64 states;	/* ... and their states */
};

static struct swarm_shared *SH;

static bool member_cancelled(void *arg)
{
	u32 i = (u32)(uintptr_t)arg;

	return __atomic_load_n(&SH->stop, __ATOMIC_RELAXED) || __atomic_load_n(&SH->lowest, __ATOMIC_RELAXED) < i;
}

/* Member i's search options; false when the swarm's time is spent. */
static bool member_opts(const struct explore_opts *o, u32 log2, u32 i, double t0, struct explore_opts *mo)
{
	*mo = *o;
	mo->bitstate_log2 = log2;
	mo->swarm_seed = i;	/* 0: the usual order */
	mo->first_only = true;
	mo->dist = NULL;
	if (o->time_limit) {
		double left = o->time_limit - (now() - t0);

		if (left <= 0)
			return false;
		mo->time_limit = left;
	}
	return true;
}

static void member_of(const struct explore_opts *o, const struct explore_result *mr, struct swarm_member *m)
{
	memset(m, 0, sizeof(*m));
	m->states = mr->states;
	m->transitions = mr->transitions;
	m->revisits = mr->revisits;
	m->terminal = mr->terminal;
	m->terminal_distinct = mr->terminal_distinct;
	m->peak_bytes = mr->peak_bytes;
	m->max_depth = mr->max_depth;
	m->seconds = mr->seconds;
	m->verdict = mr->verdict;
	if (mr->verdict == VERDICT_INCOMPLETE) {
		/* The bound, without explore_run()'s ": N open DFS frames ..." tail. */
		size_t n = strcspn(mr->incomplete, ":");

		/* A member's time limit is what was left of the swarm's. */
		if (!strncmp(mr->incomplete, "--time-limit", 12))
			snprintf(m->bound, sizeof(m->bound), "the swarm's --time-limit %.0fs", o->time_limit);
		else
			snprintf(m->bound, sizeof(m->bound), "%.*s", (int)n, mr->incomplete);
	}
	m->done = true;
}

/* Whether the swarm must stop after a member (a signal, or its time is spent). */
static bool swarm_over(const struct explore_opts *o, double t0)
{
	return explore_stop_signal || (o->time_limit && now() - t0 >= o->time_limit);
}

/* ---- in this process ---------------------------------------------------------- */

static void run_here(const struct explore_opts *o, u32 members, u32 log2, double t0, struct explore_result *r,
		     struct swarm_report *rep, u64 **mt)
{
	for (u32 i = 0; i < members; i++) {
		struct explore_opts mo;
		struct explore_result mr;

		if (!member_opts(o, log2, i, t0, &mo))
			break;
		explore_run(&mo, &mr);
		member_of(o, &mr, &rep->m[i]);
		rep->reported = i + 1;
		mt[i] = mr.terminals;
		mr.terminals = NULL;
		if (mr.verdict == VERDICT_VIOLATION) {
			rep->found = (int)i;
			explore_result_take_path(r, &mr);
		}
		explore_result_free(&mr);
		if (rep->found >= 0 || swarm_over(o, t0))
			break;
	}
}

/* ---- in J worker processes ---------------------------------------------------- */

static __attribute__((noreturn)) void worker(const struct explore_opts *o, u32 members, u32 log2, double t0,
					    int fd)
{
	u64 end = SWARM_END;
	int bad = 0;

	for (;;) {
		u32 i = __atomic_fetch_add(&SH->next, 1, __ATOMIC_SEQ_CST);
		struct explore_opts mo;
		struct explore_result mr;
		struct swarm_member m;
		u64 magic = SWARM_MAGIC;

		if (i >= members || member_cancelled((void *)(uintptr_t)i) || !member_opts(o, log2, i, t0, &mo))
			break;
		mo.progress = PROGRESS_NONE;
		mo.cancelled = member_cancelled;
		mo.cancel_arg = (void *)(uintptr_t)i;
		explore_run(&mo, &mr);
		if (mr.verdict == VERDICT_VIOLATION) {
			u32 low = __atomic_load_n(&SH->lowest, __ATOMIC_SEQ_CST);

			while (i < low && !__atomic_compare_exchange_n(&SH->lowest, &low, i, false, __ATOMIC_SEQ_CST,
								       __ATOMIC_SEQ_CST))
				;
		}
		if (mr.verdict == VERDICT_INCOMPLETE && member_cancelled((void *)(uintptr_t)i)) {
			explore_result_free(&mr);
			break;	/* cut short: not one of the members reported */
		}
		member_of(o, &mr, &m);
		__atomic_fetch_add(&SH->states, mr.states, __ATOMIC_RELAXED);
		__atomic_fetch_add(&SH->ended, 1, __ATOMIC_RELAXED);
		bad = jobs_write_all(fd, &magic, sizeof(magic)) || jobs_write_all(fd, &i, sizeof(i)) ||
		      jobs_write_all(fd, &m, sizeof(m)) || jobs_write_all(fd, &mr, sizeof(mr)) ||
		      jobs_write_all(fd, mr.terminals, mr.terminal_distinct * sizeof(u64)) ||
		      jobs_write_all(fd, mr.path, mr.path_len * sizeof(*mr.path)) ||
		      jobs_write_all(fd, mr.events, mr.nr_events * sizeof(*mr.events));
		explore_result_free(&mr);
		if (bad)
			break;
		if (swarm_over(o, t0)) {
			__atomic_store_n(&SH->stop, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	bad = bad || jobs_write_all(fd, &end, sizeof(end));
	_exit(bad ? 2 : 0);
}

/* Take n bytes at *at of b's output into dst (malloc'd when dst is NULL); false if there are not n. */
static bool take(const struct jobs_child *b, size_t *at, void *dst, size_t n)
{
	if (b->n - *at < n)
		return false;
	memcpy(dst, b->p + *at, n);
	*at += n;
	return true;
}

/*
 * Worker b's records into rep, mt (each member's terminal states) and cex
 * (a violating member's result: its finding, path and timeline); false if
 * they are not whole.
 */
static bool parse_records(const struct jobs_child *b, u32 members, struct swarm_report *rep, u64 **mt,
			  struct explore_result *cex)
{
	size_t at = 0;

	for (;;) {
		struct explore_result mr;
		u64 magic;
		u32 i;

		if (!take(b, &at, &magic, sizeof(magic)))
			return false;
		if (magic == SWARM_END)
			return at == b->n;
		if (magic != SWARM_MAGIC || !take(b, &at, &i, sizeof(i)) || i >= members || mt[i] ||
		    !take(b, &at, &rep->m[i], sizeof(rep->m[i])) || !take(b, &at, &mr, sizeof(mr)) ||
		    mr.terminal_distinct != rep->m[i].terminal_distinct ||
		    (b->n - at) / sizeof(u64) < mr.terminal_distinct)
			return false;
		mt[i] = mem_malloc((mr.terminal_distinct + 1) * sizeof(u64));
		take(b, &at, mt[i], mr.terminal_distinct * sizeof(u64));
		if ((b->n - at) / sizeof(*mr.path) < mr.path_len)
			return false;
		mr.path = mem_malloc((mr.path_len + 1) * sizeof(*mr.path));
		take(b, &at, mr.path, mr.path_len * sizeof(*mr.path));
		mr.events = NULL;
		mr.terminals = NULL;
		if ((b->n - at) / sizeof(*mr.events) < mr.nr_events) {
			free(mr.path);
			return false;
		}
		mr.events = mem_malloc((mr.nr_events + 1) * sizeof(*mr.events));
		take(b, &at, mr.events, mr.nr_events * sizeof(*mr.events));
		mr.shorten_stop = NULL;
		if (mr.verdict == VERDICT_VIOLATION)
			cex[i] = mr;
		else
			explore_result_free(&mr);
	}
}

struct pool_ctx {
	const struct explore_opts *o;
	u32 members, log2;
	double t0, last;	/* the swarm's start, the last progress line */
	bool progressed;
};

static void pool_body(int i, int fd, void *arg)
{
	const struct pool_ctx *x = arg;

	worker(x->o, x->members, x->log2, x->t0, fd);
}

static void pool_tick(void *arg)
{
	struct pool_ctx *x = arg;
	bool tty = x->o->progress == PROGRESS_TERMINAL;

	if (explore_stop_signal)
		__atomic_store_n(&SH->stop, 1, __ATOMIC_SEQ_CST);
	if (x->o->progress && now() - x->last >= (tty ? 0.5 : 10)) {
		fprintf(stderr, "%sswarm: %u of %u members ended, %llu states, %.0f s%s", tty ? "\r" : "",
			__atomic_load_n(&SH->ended, __ATOMIC_RELAXED), x->members,
			(unsigned long long)__atomic_load_n(&SH->states, __ATOMIC_RELAXED), now() - x->t0,
			tty ? "   " : "\n");
		x->progressed = true;
		x->last = now();
	}
}

static void pool_failed(void *arg)
{
	__atomic_store_n(&SH->stop, 1, __ATOMIC_SEQ_CST);	/* the run fails */
}

/* Fork the workers and collect their records; 0 or -errno.  *lost: a worker died or said too little. */
static int run_workers(const struct explore_opts *o, u32 members, u32 log2, int jobs, double t0,
		       struct swarm_report *rep, u64 **mt, struct explore_result *cex, char *lost, size_t lostlen)
{
	struct pool_ctx x = { .o = o, .members = members, .log2 = log2, .t0 = t0, .last = t0 };
	struct jobs_child b[JOBS_MAX], *c[JOBS_MAX];
	int started, err;

	memset(b, 0, sizeof(b));
	for (int i = 0; i < jobs; i++)
		c[i] = &b[i];
	SH = mmap(NULL, sizeof(*SH), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (SH == MAP_FAILED) {
		SH = NULL;
		return -errno;
	}
	memset(SH, 0, sizeof(*SH));
	SH->lowest = members;
	started = jobs_pool_run(c, jobs, pool_body, pool_tick, pool_failed, &x, &err);
	if (o->progress == PROGRESS_TERMINAL && x.progressed)
		fprintf(stderr, "\r%*s\r", 100, "");
	if (err && !started) {
		munmap(SH, sizeof(*SH));
		SH = NULL;
		return err;
	}
	if (err)
		snprintf(lost, lostlen, "could only start %d of %d swarm workers: %s", started, jobs, strerror(-err));
	for (int i = 0; i < started; i++) {
		bool ok = b[i].exited_ok && parse_records(&b[i], members, rep, mt, cex);

		if (!ok && !lost[0]) {
			char why[96];

			jobs_describe_status(b[i].status, why, sizeof(why));
			snprintf(lost, lostlen, "swarm worker %d (pid %d) %s", i, (int)b[i].pid, why);
		}
		free(b[i].p);
	}
	munmap(SH, sizeof(*SH));
	SH = NULL;
	return 0;
}

int swarm_run(const struct explore_opts *o, u32 members, u32 log2, int jobs, struct explore_result *r,
	      struct swarm_report *rep)
{
	double t0 = now();
	u64 **mt = mem_calloc(members, sizeof(*mt));	/* each member's terminal states */
	u64 *terms;
	size_t nterms = 0;
	char lost[160] = "";

	memset(r, 0, sizeof(*r));
	memset(rep, 0, sizeof(*rep));
	rep->members = members;
	rep->log2 = log2;
	rep->jobs = jobs;
	rep->found = -1;
	rep->m = mem_calloc(members, sizeof(*rep->m));
	if (jobs <= 1) {
		run_here(o, members, log2, t0, r, rep, mt);
	} else {
		struct explore_result *cex = mem_calloc(members, sizeof(*cex));	/* violating members' */
		int err = run_workers(o, members, log2, jobs, t0, rep, mt, cex, lost, sizeof(lost));

		/* The members reported: 0 up to the first violation, all of them done. */
		for (u32 i = 0; !err && i < members && rep->m[i].done; i++) {
			rep->reported = i + 1;
			if (rep->m[i].verdict == VERDICT_VIOLATION) {
				rep->found = (int)i;
				explore_result_take_path(r, &cex[i]);	/* what this process would have found */
				break;
			}
		}
		for (u32 i = 0; i < members; i++)
			explore_result_free(&cex[i]);
		free(cex);
		if (err) {
			for (u32 i = 0; i < members; i++)
				free(mt[i]);
			free(mt);
			swarm_report_free(rep);
			return err;
		}
	}
	/*
	 * Counts over the members reported (a worker may have run later ones
	 * before it learnt of a violation: not counted, as in one process).
	 */
	for (u32 i = 0; i < rep->reported; i++) {
		const struct swarm_member *m = &rep->m[i];

		r->states += m->states;
		r->transitions += m->transitions;
		r->revisits += m->revisits;
		r->terminal += m->terminal;
		if (m->max_depth > r->max_depth)
			r->max_depth = m->max_depth;
		if (m->peak_bytes > r->peak_bytes)
			r->peak_bytes = m->peak_bytes;
	}
	r->table_bytes = (1ull << log2) / 8;
	/* The terminal states of the members reported only: the same union for every --jobs. */
	for (u32 i = 0; i < rep->reported; i++)
		nterms += rep->m[i].terminal_distinct;
	terms = mem_malloc((nterms + 1) * sizeof(u64));
	nterms = 0;
	for (u32 i = 0; i < members; i++) {
		if (i < rep->reported && mt[i]) {
			memcpy(terms + nterms, mt[i], rep->m[i].terminal_distinct * sizeof(u64));
			nterms += rep->m[i].terminal_distinct;
		}
		free(mt[i]);
	}
	free(mt);
	r->terminals = terms;
	r->terminal_distinct = explore_terminal_digest(terms, nterms, &r->terminal_digest);
	rep->seconds = now() - t0;
	r->seconds = rep->seconds;
	if (lost[0]) {
		r->verdict = VERDICT_INCOMPLETE;
		snprintf(r->incomplete, sizeof(r->incomplete), "%s", lost);
	} else if (rep->found >= 0) {
		r->verdict = VERDICT_VIOLATION;
	} else {
		const char *why = explore_stop_signal == SIGINT ? "interrupted by SIGINT" :
				  explore_stop_signal == SIGTERM ? "interrupted by SIGTERM" :
				  explore_stop_signal ? "interrupted by a signal" :
				  rep->reported < members ? "--time-limit reached" : NULL;

		r->verdict = VERDICT_INCOMPLETE;
		if (!rep->reported)
			snprintf(r->incomplete, sizeof(r->incomplete), "--swarm %u: %s before any member's search ended",
				 members, why ? why : "stopped");
		else
			snprintf(r->incomplete, sizeof(r->incomplete),
				 "--swarm %u: no violation in %s%u bitstate search%s of 2^%u bits each%s%s; bitstate "
				 "hashing leaves states out, so this is not a proof", members,
				 rep->reported < members ? "the first " : "", rep->reported,
				 rep->reported == 1 ? "" : "es", log2, why ? ", " : "", why ? why : "");
	}
	return 0;
}

void swarm_report_free(struct swarm_report *rep)
{
	free(rep->m);
	rep->m = NULL;
}
