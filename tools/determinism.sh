#!/bin/sh
# Same inputs, same output, whatever the load (issue #15): runs the seed
# patch's shortest-counterexample question RUNS times (default 100) while a
# parallel build of kvmlab loops in a scratch copy of the tree, and compares
# every run's standard output byte for byte with the first.  Prints the
# number of distinct outputs (1 is the promise) and exits 1 otherwise.
# Usage: sh tools/determinism.sh [RUNS] [check arguments...]
K=${KVMLAB:-./kvmlab}
RUNS=${1:-100}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- --policy vcpu
T=$(mktemp -d /tmp/kvmlab-determinism.XXXXXX)
load=
trap '[ -n "$load" ] && kill $load 2>/dev/null; rm -rf "$T"' EXIT
cp "$K" "$T/kvmlab"	# one binary for every run, whatever is rebuilt meanwhile
K=$T/kvmlab
mkdir "$T/src"
git archive HEAD 2>/dev/null | tar -x -C "$T/src" 2>/dev/null || cp -r Makefile cmd check kernel model guest oracle runtime tests "$T/src/"
(cd "$T/src" && while :; do make -s -j2 BUILD=build/load >/dev/null 2>&1; rm -rf build/load; done) &
load=$!
echo "determinism: $RUNS runs of 'kvmlab check $*' under a looping 'make -j2'"
start=$(date +%s)
for i in $(seq 1 "$RUNS"); do
	"$K" check "$@" >"$T/out.$i" 2>/dev/null
	echo $? >>"$T/rcs"
done
kill $load 2>/dev/null
load=
distinct=$(md5sum "$T"/out.* | awk '{print $1}' | sort -u | wc -l)
echo "exit codes: $(sort "$T/rcs" | uniq -c | awk '{printf "%s x%s ", $2, $1}')"
echo "distinct outputs: $distinct of $RUNS runs ($(wc -l <"$T/out.1") lines each), $(($(date +%s) - start)) s"
[ "$distinct" -eq 1 ]
