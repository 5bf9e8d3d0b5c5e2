#!/bin/sh
# Runs every TAP test of the suite: the C test programs built into
# $BUILD/tests/ and the shell tests tests/*.t (which get $KVMLAB, the binary
# under test).  Prints each test's TAP lines, then one summary line
# "N passed, N failed, N skipped"; exits non-zero if anything failed or a test
# program died without finishing its plan.
BUILD=${1:-build/release}
KVMLAB=$(pwd)/$BUILD/kvmlab
KVMLAB_BUILD=$(basename "$BUILD")
export KVMLAB KVMLAB_BUILD
pass=0 fail=0 skip=0
tmp=$(mktemp /tmp/kvmlab-run.XXXXXX)
trap 'rm -f "$tmp"' EXIT
for t in "$BUILD"/tests/test_* tests/*.t; do
	[ -f "$t" ] || continue
	case "$t" in *.d) continue ;; esac
	echo "# $t"
	if [ "${t%.t}" != "$t" ]; then sh "$t" >"$tmp" 2>&1; else "$t" >"$tmp" 2>&1; fi
	rc=$?
	cat "$tmp"
	p=$(grep -c '^ok ' "$tmp" | tr -d ' ')
	s=$(grep -ci '^ok .*# *skip' "$tmp" | tr -d ' ')
	f=$(grep -c '^not ok ' "$tmp" | tr -d ' ')
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tmp" | head -n 1)
	pass=$((pass + p - s)); skip=$((skip + s)); fail=$((fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $t exited with status $rc"
		fail=$((fail + 1))
	elif [ -z "$plan" ] || [ "$plan" -ne $((p + f)) ]; then
		echo "not ok - $t: plan '${plan:-none}' but $((p + f)) results"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
