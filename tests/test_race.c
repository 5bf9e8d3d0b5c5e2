// SPDX-License-Identifier: GPL-2.0
/*
 * The checker's data-race detector (check/race.c) on small programs written
 * against the primitive layer.  This file is compiled with the model's
 * instrumentation (Makefile: TRACK_CFLAGS), so its plain accesses reach the
 * detector exactly as the model's do.  Each program is explored
 * exhaustively; the detector must report a race exactly where two plain
 * accesses (or a plain and a marked one) are unordered by locks or by a
 * marked write read by a marked read.
 */
#include <stdlib.h>
#include <string.h>

#include "check/explore.h"
#include "check/sched.h"
#include "kernel/prim.h"
#include "tests/tap.h"

struct shared {
	u32 x;
	u32 data;
	u32 flag;
	u32 lo, hi;		/* neighbours in one 8-byte word */
	u32 out[2];		/* what each fiber read (keeps the reads) */
	spinlock_t l;
	rwlock_t rw;
	int program;
};

static void entry(int fiber, void *arg)
{
	struct shared *sh = arg;
	u32 v = 0;

	(void)READ_ONCE(sh->flag);	/* the accesses below are transitions, not setup */
	switch (sh->program) {
	case 0:	/* unordered plain write and plain read */
		if (fiber == 0)
			sh->x = 1;
		else
			v = sh->x;
		break;
	case 1:	/* the same under a lock */
		spin_lock(&sh->l);
		if (fiber == 0)
			sh->x = 1;
		else
			v = sh->x;
		spin_unlock(&sh->l);
		break;
	case 2:	/* message passing: the data is read only after the flag */
		if (fiber == 0) {
			sh->data = 42;
			WRITE_ONCE(sh->flag, 1);
		} else if (READ_ONCE(sh->flag)) {
			v = sh->data;
		}
		break;
	case 3:	/* message passing, data read before the flag */
		if (fiber == 0) {
			sh->data = 42;
			WRITE_ONCE(sh->flag, 1);
		} else {
			v = sh->data;
			(void)READ_ONCE(sh->flag);
		}
		break;
	case 4:	/* a marked read of a plainly written word */
		if (fiber == 0)
			sh->x = 1;
		else
			v = READ_ONCE(sh->x);
		break;
	case 5:	/* neighbouring fields, one writer each */
		if (fiber == 0)
			sh->lo = 1;
		else
			sh->hi = 2;
		(void)READ_ONCE(sh->flag);
		break;
	case 6:	/* a plain write under the read side of an rwlock */
		read_lock(&sh->rw);
		if (fiber == 0)
			sh->x = 1;
		else
			v = sh->x;
		read_unlock(&sh->rw);
		break;
	case 7:	/* the same under the write side */
		write_lock(&sh->rw);
		if (fiber == 0)
			sh->x = 1;
		else
			v = sh->x;
		write_unlock(&sh->rw);
		break;
	}
	(void)READ_ONCE(sh->flag);	/* a scheduling point after the accesses */
	sh->out[fiber] = v;
}

static struct explore_result run(int program)
{
	struct explore_opts o = { .witness = WITNESS_NONE, .por = true, .first_only = true };
	struct explore_result r;
	struct shared *sh;

	if (sched_init(1 << 20))
		abort();
	sched_set_tracking(true);
	if (sched_enable_races())
		abort();
	sh = kvm_zalloc(sizeof(*sh));
	spin_lock_init(&sh->l);
	rwlock_init(&sh->rw);
	sh->program = program;
	if (sched_start(2, entry, sh))
		abort();
	explore_run(&o, &r);
	sched_fini();
	return r;
}

static void expect(int program, bool race, const char *what)
{
	struct explore_result r = run(program);
	bool got = r.verdict == VERDICT_VIOLATION && r.finding.kind == F_DATA_RACE;

	/* Both accesses are named by function and line (addr2line, from binutils, is there with gcc). */
	bool named = !race || !got || system("command -v addr2line >/dev/null 2>&1") ||
		     (strstr(r.finding.msg, "(test_race.c:") && !strstr(r.finding.msg, " pc 0x"));

	if (!tap_ok(got == race && (race || r.verdict == VERDICT_VERIFIED) && named, "%s: %s", what,
		    race ? "data race reported, both accesses named" : "no race"))
		tap_diag("verdict %d, finding %d: %s", r.verdict, r.finding.kind, r.finding.msg);
	else if (race)
		tap_diag("%s", r.finding.msg);
	explore_result_free(&r);
}

int main(void)
{
#if !defined(KVMLAB_TRACK_WRITES)
	tap_plan(1);
	tap_skip("race detection needs the model's instrumentation (not in ASan or TSan builds)");
	return 0;
#endif
	tap_plan(8);
	expect(0, true, "plain write vs plain read");
	expect(1, false, "both under a spinlock");
	expect(2, false, "message passing through WRITE_ONCE/READ_ONCE");
	expect(3, true, "data read before the flag");
	expect(4, true, "READ_ONCE of a plainly written word");
	expect(5, false, "neighbouring 4-byte fields");
	expect(6, true, "plain write under a read lock");
	expect(7, false, "both under the write lock");
	return tap_done();
}
