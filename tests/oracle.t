#!/bin/sh
# TAP test of `kvmlab oracle` (the model's xAPIC against the kernel's in-kernel
# LAPIC on /dev/kvm).  Gets $KVMLAB, the binary under test.  Input checks and
# the skip path run everywhere; the comparisons against real KVM are reported
# as skips where /dev/kvm cannot host the oracle.
KVMLAB=${KVMLAB:-./kvmlab}
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=$root/tests/oracle-corpus
tmp=$(mktemp -d /tmp/kvmlab-oracle.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

. "$(dirname "$0")/tap.sh"
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { # check COND-EXIT-STATUS DESCRIPTION [DIAGNOSTIC-FILE]
	if [ "$1" -eq 0 ]; then ok "$2"; else
		not_ok "$2"
		[ -n "$3" ] && sed 's/^/# /' "$3" | head -n 20
	fi
}

echo "1..9"

# 1: a hidden device is a skip, exit 0
KVMLAB_KVM_DEV=/nonexistent "$KVMLAB" oracle --programs 5 >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^skipped: .*/nonexistent' "$tmp/out"
check $? "KVMLAB_KVM_DEV=/nonexistent prints a skip line and exits 0 (rc=$rc)" "$tmp/out"

# 2: a malformed corpus file is bad input: exit 2, file:line:col
printf '# ok\nr TPR\nw 0x80\n' >"$tmp/bad.apic"
"$KVMLAB" oracle --programs 0 --corpus "$tmp/bad.apic" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "$tmp/bad.apic:3:[0-9][0-9]*: " "$tmp/out"
check $? "malformed corpus: exit 2 and file:line:col (rc=$rc)" "$tmp/out"

# 3: input is validated before KVM is probed (bad input wins over a skip)
printf 'r8 0xfff\nr16 0xfff\n' >"$tmp/past.apic"
KVMLAB_KVM_DEV=/nonexistent "$KVMLAB" oracle --corpus "$tmp/past.apic" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "past.apic:2:1: .*end of the APIC page" "$tmp/out"
check $? "access past the APIC page: exit 2 even without KVM (rc=$rc)" "$tmp/out"

# 4: bad flags name the flag
"$KVMLAB" oracle --programs many >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q -- '--programs' "$tmp/out"
check $? "--programs many: exit 2 naming the flag (rc=$rc)" "$tmp/out"

# 5: a missing corpus path names the path
"$KVMLAB" oracle --corpus "$tmp/nope" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "$tmp/nope" "$tmp/out"
check $? "missing --corpus path: exit 2 naming it (rc=$rc)" "$tmp/out"

# Can this machine run the oracle at all?
"$KVMLAB" oracle --programs 0 >"$tmp/probe" 2>&1
reason=$(sed -n 's/^skipped: //p' "$tmp/probe" | head -n 1)

if [ -n "$reason" ]; then
	skip "real KVM unusable: $reason"
	skip "real KVM unusable: $reason"
	skip "real KVM unusable: $reason"
	skip "real KVM unusable: $reason"
	exit 0
fi

# 6: the fixed seed and the hand-written corpus agree with the kernel
"$KVMLAB" oracle --programs 50 --seed 1 --corpus "$corpus" --json "$tmp/r.json" >"$tmp/out" 2>&1
rc=$?
grep '^MISMATCH\|^FAILED' "$tmp/out" >"$tmp/mm"
check $rc "oracle --programs 50 --seed 1 --corpus tests/oracle-corpus exits 0 (rc=$rc)" "$tmp/mm"

# 7: the JSON report exists and says the same
nprog=$((50 + $(ls "$corpus"/*.apic | wc -l)))
grep -q '"mismatches": 0,' "$tmp/r.json" 2>/dev/null &&
	grep -q "\"programs_run\": $nprog," "$tmp/r.json" && ! ls "$tmp"/r.json.tmp.* >/dev/null 2>&1
check $? "--json report written (renamed, 0 mismatches, $nprog programs)" "$tmp/r.json"

# 8: the generator is deterministic: same seed, same table
"$KVMLAB" oracle --programs 20 --seed 7 2>&1 | grep -v 'wall' >"$tmp/a"
"$KVMLAB" oracle --programs 20 --seed 7 2>&1 | grep -v 'wall' >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && [ -s "$tmp/a" ]
check $? "same seed gives the same programs and results"

# 9: issue 4's acceptance run: 500 generated programs agree with the kernel
"$KVMLAB" oracle --programs 500 --seed 1 >"$tmp/out" 2>&1
rc=$?
grep '^MISMATCH\|^FAILED' "$tmp/out" >"$tmp/mm"
check $rc "oracle --programs 500 --seed 1: every read and final register agrees (rc=$rc)" "$tmp/mm"
