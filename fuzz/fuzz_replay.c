// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for `kvmlab replay`; see docs/fuzzing.md.  The input is
 * a schedule file (check/report.c's format): schedule_read() parses it, and
 * a schedule it accepts is replayed as cmd_replay() does: checker_setup(),
 * explore_replay(), teardown.  Everything is freed each run, so
 * LeakSanitizer sees what one input leaks; ASan and UBSan watch the reader,
 * the scenario parser it calls, the checker runtime and the model.  A
 * finding of the model (a violation, a deadlock) or a schedule that does
 * not fit its scenario is an answer, not a failure.
 *
 * schedule_read() takes a path: the input goes into a memfd, read back
 * through /proc/self/fd/N (no file system, nothing left behind).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check/explore.h"
#include "check/harness.h"
#include "check/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int input_fd = -1;
static char input_path[64];

/* The input as a file: the memfd, truncated and rewritten. */
static void input_write(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (input_fd < 0) {
		input_fd = memfd_create("kvmlab-fuzz-schedule", MFD_CLOEXEC);
		if (input_fd < 0) {
			perror("fuzz_replay: memfd_create");
			abort();
		}
		snprintf(input_path, sizeof(input_path), "/proc/self/fd/%d", input_fd);
	}
	if (ftruncate(input_fd, 0)) {
		perror("fuzz_replay: ftruncate");
		abort();
	}
	while (done < size) {
		ssize_t n = pwrite(input_fd, data + done, size - done, (off_t)done);

		if (n <= 0) {
			perror("fuzz_replay: pwrite");
			abort();
		}
		done += (size_t)n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct explore_opts ro;
	struct explore_result res;
	struct schedule sch;
	char err[600];
	int r;

	input_write(data, size);
	if (schedule_read(input_path, &sch, err, sizeof(err)))
		return 0;
	if (sch.scn.nr_vcpus + sch.scn.nr_actors > CHK_MAX_FIBERS) {
		schedule_free(&sch);	/* refused by cmd_replay() too */
		return 0;
	}
	r = checker_setup_schedule(&sch, &ro);
	if (r) {
		fprintf(stderr, "fuzz_replay: checker_setup: %s\n", strerror(-r));
		abort();
	}
	explore_replay(&ro, sch.steps, sch.nr_steps, &res);
	explore_result_free(&res);
	checker_teardown();
	schedule_free(&sch);
	return 0;
}
