// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the scenario parser (guest/scenario.c); see
 * docs/fuzzing.md.  The input, up to its first NUL, is a scenario file's
 * text.  Besides memory safety, leaks and undefined behaviour (ASan, LSan,
 * UBSan), it checks the parser's documented contract and aborts when one
 * fails:
 *   - rejected: -EINVAL, *s untouched, one "NAME:LINE:COL: message" line;
 *   - accepted: scenario_print() writes text that parses back to the same
 *     scenario (tests/scn_equal.h) and prints the same text again.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/scenario.h"
#include "tests/scn_equal.h"

#define NAME "fuzz.scn"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static __noreturn __printf(2, 3) void fail(const char *text, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_scenario: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n---- input (up to its first NUL) ----\n%s\n----\n", text);
	abort();
}

/* scenario_print() into a malloc'd string. */
static char *print_str(const struct scenario *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	scenario_print(f, s);
	if (fclose(f))
		abort();
	return buf;
}

/* A rejection: "fuzz.scn:LINE:COL: message" (or "fuzz.scn: message"), one line. */
static bool one_line_message(const char *err)
{
	return !strncmp(err, NAME ":", strlen(NAME ":")) && err[strlen(NAME ":")] &&
	       !strchr(err, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *s = malloc(sizeof(*s)), *back = malloc(sizeof(*back));
	struct scenario *before = malloc(sizeof(*before));
	char *text = malloc(size + 1), *printed = NULL, *again = NULL;
	char err[512], why[256];
	int ret;

	if (!s || !back || !before || !text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(s, 0xa5, sizeof(*s));
	memcpy(before, s, sizeof(*s));
	ret = scenario_parse_string(NAME, text, s, err, sizeof(err));
	if (ret) {
		if (ret != -EINVAL)
			fail(text, "rejected with %d, not -EINVAL", ret);
		if (memcmp(s, before, sizeof(*s)))
			fail(text, "rejected, but *s was written");
		if (!one_line_message(err))
			fail(text, "rejected without a one-line '" NAME ":...' message: '%s'", err);
		goto out;
	}
	printed = print_str(s);
	ret = scenario_parse_string(NAME, printed, back, err, sizeof(err));
	if (ret)
		fail(text, "scenario_print() wrote text the parser rejects: %s\n---- printed ----\n%s",
		     err, printed);
	if (!scn_equal(s, back, why, sizeof(why)))
		fail(text, "the printed scenario parses back different: %s\n---- printed ----\n%s",
		     why, printed);
	again = print_str(back);
	if (strcmp(printed, again))
		fail(text, "printing the re-parsed scenario gives other text:\n---- first ----\n%s"
			   "---- second ----\n%s", printed, again);
out:
	free(again);
	free(printed);
	free(text);
	free(before);
	free(back);
	free(s);
	return 0;
}
