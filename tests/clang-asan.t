#!/bin/sh
# The checker built by clang with AddressSanitizer (kernel/compiler.h's
# KVMLAB_ASAN under clang): ordinary checks, a trace and its replay, the
# state store's self-checks (KVMLAB_VALIDATE) and the checker's unit test,
# with no ASan report.  Builds build/clang-asan itself; skips when clang or
# its ASan runtime is missing, and outside the release suite (one clang
# build per `make test` is enough).
N=7
echo "1..$N"
. "$(dirname "$0")/tap.sh"
[ "${KVMLAB_BUILD:-release}" = release ] || skip_all "clang ASan runs in the release suite only"
command -v clang >/dev/null 2>&1 || skip_all "clang is not installed (tools/install-deps.sh installs it)"
T=$(mktemp -d /tmp/kvmlab-clang-asan.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'int main(void) { return 0; }\n' >"$T/probe.c"
clang -fsanitize=address -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 ||
	skip_all "clang cannot link ASan programs (libclang-rt-14-dev missing?)"

B=build/clang-asan
K=$B/kvmlab
# Not the parent make's jobserver: this is a build of its own.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j1 BUILD=$B CC=clang OPT=-O1 \
	SAN="-fsanitize=address -fno-omit-frame-pointer" $K $B/tests/test_checker >"$T/build" 2>&1
if [ $? -ne 0 ]; then
	nok "clang ASan build"; sed 's/^/# /' "$T/build" | tail -10
	for i in $(seq 2 $N); do nok "not run: no clang ASan build"; done
	exit 0
fi
ok "clang ASan build ($B)"

# name, want-exit, want-regex, command...: the exit status, a line matching
# the regex, and nothing from the sanitizer (reports or warnings).
run() {
	name=$1 want=$2 re=$3
	shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	why=
	[ $rc -eq "$want" ] || why="exit $rc, want $want"
	grep -q 'Sanitizer\|ASan' "$T/out" && why="${why:+$why, }sanitizer output"
	grep -q '^not ok' "$T/out" && why="${why:+$why, }a failed test"
	grep -Eq "$re" "$T/out" || why="${why:+$why, }no line matching '$re'"
	if [ -n "$why" ]; then
		nok "$name: $why"; sed 's/^/# /' "$T/out" | grep -v '^#  ' | head -12
	else
		ok "$name"
	fi
}
run "check --vcpus 1: verified" 0 '^verdict: verified' $K check --vcpus 1
run "seed patch, --trace: bad-spte" 1 '^verdict: violation \(bad-spte\)' \
	$K check --policy vcpu --vcpus 1 --first --trace "$T/x.sched"
run "replay of that trace" 0 '^reproduced: bad-spte' $K replay "$T/x.sched"
# Stack hygiene must cover clang's ASan frames: a transition redone from a
# restored state reaches the same fingerprint.
export KVMLAB_VALIDATE=1
run "validated: check --vcpus 1" 0 '^verdict: verified' $K check --vcpus 1
run "validated: zap-yield" 0 '^verdict: verified' $K check --scenario zap-yield
unset KVMLAB_VALIDATE
# Its scrubs and copies of fiber stacks must not become intercepted memset/memcpy.
run "test_checker" 0 '^ok 14 ' $B/tests/test_checker
