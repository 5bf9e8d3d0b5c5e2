#!/bin/sh
# The libFuzzer harnesses (fuzz/, docs/fuzzing.md): builds build/fuzz with
# clang, runs every input under tests/fuzz-regressions/NAME once through
# harness NAME, then fuzzes each harness for KVMLAB_FUZZ_SECONDS (default 60)
# from its committed corpus into a scratch directory (fuzz/run.sh).  An input
# listed in tests/fuzz-regressions/known is a bug found and not fixed yet: it
# is reported as skipped while it still fails.  Skips when clang or libFuzzer
# is missing, and outside the release suite (the harnesses carry their own
# sanitizers; running them again under make asan/ubsan/debug adds nothing).
SECS=${KVMLAB_FUZZ_SECONDS:-60}
R=tests/fuzz-regressions
NAMES=$(for f in fuzz/fuzz_*.c; do f=${f#fuzz/fuzz_}; echo "${f%.c}"; done)
nreg=0
for h in $NAMES; do
	for f in "$R/$h"/*; do [ -f "$f" ] && nreg=$((nreg + 1)); done
done
N=$((1 + nreg + $(echo "$NAMES" | wc -w)))
echo "1..$N"
. "$(dirname "$0")/tap.sh"
[ "${KVMLAB_BUILD:-release}" = release ] || skip_all "the fuzzers run in the release suite only"
command -v clang >/dev/null 2>&1 || skip_all "clang is not installed (tools/install-deps.sh installs it)"
T=$(mktemp -d /tmp/kvmlab-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$T/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 ||
	skip_all "clang cannot link libFuzzer programs (libclang-rt-14-dev missing?)"

# Not the parent make's jobserver: this is a build of its own.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j1 fuzz-build >"$T/build" 2>&1
if [ $? -ne 0 ]; then
	nok "build the harnesses (make fuzz-build)"; sed 's/^/# /' "$T/build" | tail -10
	for i in $(seq 2 $N); do nok "not run: the harnesses did not build"; done
	exit 0
fi
ok "build the harnesses into build/fuzz (clang, libFuzzer, ASan, UBSan)"

# Regression inputs: each runs once, without fuzz/lsan.supp.
for h in $NAMES; do
	for f in "$R/$h"/*; do
		[ -f "$f" ] || continue
		known=$(sed -n "s|^$h/$(basename "$f")[[:space:]]\{1,\}||p" "$R/known" 2>/dev/null)
		build/fuzz/fuzz_$h "$f" >"$T/out" 2>&1
		rc=$?
		if [ -n "$known" ] && [ $rc -ne 0 ]; then
			echo "ok $((n += 1)) # skip known bug, not fixed yet: $f: $known"
		elif [ -n "$known" ]; then
			ok "$f passes now: its bug is fixed, drop it from $R/known and fuzz/lsan.supp"
		elif [ $rc -eq 0 ]; then
			ok "regression input $f"
		else
			nok "regression input $f: exit $rc"
			grep -E 'ERROR|SUMMARY|^fuzz_|#[0-9]+ 0x[0-9a-f]+ in ' "$T/out" | head -n 12 | sed 's/^/# /'
		fi
	done
done

# Fuzzing: SECS seconds each; a crash keeps its input under build/fuzz/crashes.
for h in $NAMES; do
	sh fuzz/run.sh build/fuzz "$SECS" "$T/scratch" "$h" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$(head -n 1 "$T/out")"
	else
		mkdir -p build/fuzz/crashes
		cp "$T"/scratch/crashes/* build/fuzz/crashes/ 2>/dev/null
		nok "$(head -n 1 "$T/out")"
		tail -n +2 "$T/out" | sed 's/^/# /'
		echo "# the crashing input is kept in build/fuzz/crashes/"
	fi
done
