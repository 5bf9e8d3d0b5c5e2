#!/bin/sh
# Bounds, signals, determinism and numbers (issue #15): --max-states is exact;
# memory is bounded by default and running out ends the run as incomplete
# with its report; SIGINT/SIGTERM end the search with the verdict so far;
# the same inputs print the same output under load; flags take strict
# decimal numbers.
T=$(mktemp -d /tmp/kvmlab-bounds.XXXXXX)
hog=
trap '[ -n "$hog" ] && kill $hog 2>/dev/null; rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
N=18
echo "1..$N"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	for i in $(seq 1 $N); do echo "ok $i # skip the checker is not available under ThreadSanitizer"; done
	exit 0
fi
explored() { sed -n 's/^explored \([0-9]*\) states.*/\1/p' "$1"; }

# --max-states N explores exactly N states.
for m in 10 1000; do
	"$KVMLAB" check --max-states $m >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 3 ] && [ "$(explored "$T/out")" = $m ] && grep -q "^INCOMPLETE: --max-states $m reached" "$T/out"; then
		ok "--max-states $m: exactly $m states, exit 3"
	else nok "--max-states $m: exit $rc, explored '$(explored "$T/out")'"; fi
done

# Memory: bounded by default (and the bound is shown); an address-space
# limit lowers it, and the run ends as incomplete with its report and JSON.
"$KVMLAB" check --vcpus 1 >"$T/out" 2>&1
if grep -q '^memory bound: [0-9.]* GiB (half of physical memory' "$T/out"; then ok "default memory bound shown: $(grep '^memory bound' "$T/out")"
else nok "no default memory bound line"; fi
if [ "${KVMLAB_BUILD:-release}" = asan ]; then
	skip "ulimit -v cannot hold AddressSanitizer's shadow"
	skip "ulimit -v cannot hold AddressSanitizer's shadow"
else
	(ulimit -v 900000 && exec "$KVMLAB" check --vcpus 3 --toggles 1 --accesses 1 --json "$T/m.json") >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 3 ] && grep -q '^memory bound: .*ulimit -v' "$T/out" && grep -q '^INCOMPLETE: --memory-limit' "$T/out" &&
	   grep -q '"verdict": "incomplete"' "$T/m.json"; then
		ok "under ulimit -v: the default bound stops the run, exit 3, JSON written"
	else nok "under ulimit -v: exit $rc: $(grep -E '^(memory|INCOMPLETE|verdict)' "$T/out" | tr '\n' ' ')"; fi
	# With no bound, an allocation fails: the reserve lets the run end with its report.
	(ulimit -v 900000 && exec "$KVMLAB" check --vcpus 3 --toggles 1 --accesses 1 --memory-limit 0 --json "$T/m.json") >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: out of memory' "$T/out" && grep -q '"incomplete": "out of memory' "$T/m.json"; then
		ok "allocation failure (--memory-limit 0 under ulimit -v): exit 3 with report and JSON, no abort"
	else nok "allocation failure: exit $rc: $(tail -n 3 "$T/out" | tr '\n' ' ')"; fi
fi

# Any other failed allocation (injected: the 100th) draws on the reserve and ends the run cleanly.
KVMLAB_FAIL_ALLOC=100 "$KVMLAB" check --vcpus 3 --toggles 1 --accesses 1 --json "$T/f.json" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: out of memory: an allocation failed' "$T/out" && grep -q '"verdict": "incomplete"' "$T/f.json"; then
	ok "an allocation that fails (injected): exit 3 with report and JSON"
else nok "injected allocation failure: exit $rc: $(tail -n 2 "$T/out" | tr '\n' ' ')"; fi

# Signals: the search ends within a second with what it has.
"$KVMLAB" check --vcpus 3 --json "$T/s.json" >"$T/out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
t0=$(date +%s%N)
wait $pid
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 3 ] && [ $ms -lt 1000 ] && grep -q '^INCOMPLETE: interrupted by SIGINT' "$T/out" &&
   grep -q '"incomplete": "interrupted by SIGINT"' "$T/s.json"; then
	ok "SIGINT: exit 3 after $ms ms, verdict and JSON written"
else nok "SIGINT: exit $rc after $ms ms: $(tail -n 2 "$T/out" | tr '\n' ' ')"; fi
# SIGTERM while shortening: the violation in hand, with its best counterexample, exit 1.
"$KVMLAB" check --policy vcpu --vcpus 3 --json "$T/v.json" --trace "$T/v.sched" >"$T/out" 2>&1 &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION bad-spte' "$T/out" && grep -q 'before SIGTERM ended the search' "$T/out" &&
   grep -q '"verdict": "violation"' "$T/v.json" && "$KVMLAB" replay --quiet "$T/v.sched" >/dev/null 2>&1; then
	ok "SIGTERM while shortening: exit 1, the counterexample so far, JSON and a trace that replays"
else nok "SIGTERM while shortening: exit $rc: $(grep -E '^(VIOLATION|counterexample|verdict)' "$T/out" | tr '\n' ' ')"; fi

# Determinism: the same question prints the same output, with another process loading the CPUs.
sh -c 'while :; do :; done' &
hog=$!
for i in 1 2 3; do
	"$KVMLAB" check --policy vcpu --vcpus 1 >"$T/d$i" 2>/dev/null
done
"$KVMLAB" check --policy vcpu --shorten-transitions 3000 >"$T/e1" 2>/dev/null
"$KVMLAB" check --policy vcpu --shorten-transitions 3000 >"$T/e2" 2>/dev/null
kill $hog
hog=
if cmp -s "$T/d1" "$T/d2" && cmp -s "$T/d1" "$T/d3" && grep -q '^VIOLATION' "$T/d1"; then
	ok "3 runs under load: byte-identical output ($(wc -l <"$T/d1") lines)"
else nok "outputs differ under load: $(diff "$T/d1" "$T/d2" | head -3)"; fi
if cmp -s "$T/e1" "$T/e2" && grep -q 'before --shorten-transitions ended' "$T/e1"; then
	ok "a shortening budget cut short: the same counterexample twice"
else nok "--shorten-transitions 3000: outputs differ or not cut: $(grep '^counterexample' "$T/e1" "$T/e2")"; fi
"$KVMLAB" check --shorten 20 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'shorten-transitions' "$T/out"; then ok "--shorten (seconds, removed): exit 2 naming its replacements"
else nok "--shorten: exit $rc"; fi

# Progress on a log (stderr not a terminal): a line every 10 s, saying why there is no ETA.
"$KVMLAB" check --vcpus 3 --time-limit 12 --quiet --progress always >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && grep -q '^progress (no ETA' "$T/err" && grep -Eq '^[0-9]+ states, [0-9]+ transitions' "$T/err"; then
	ok "--progress always on a log: $(grep -Ec '^[0-9]+ states' "$T/err") line(s) in 12 s"
else nok "--progress always: exit $rc, stderr: $(head -c 200 "$T/err")"; fi

# Numbers: decimal only, no sign, no blanks, in range.
num() {	# name, args...
	name=$1
	shift
	"$KVMLAB" check "$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q 'is not a decimal number' "$T/out"; then ok "$name: exit 2"
	else nok "$name: exit $rc: $(head -n 2 "$T/out")"; fi
}
num "--vcpus ' 1'" --vcpus " 1"
num "--vcpus +2" --vcpus +2
num "--vcpus 0x2" --vcpus 0x2
num "--max-states -1" --max-states -1
num "--vcpus 99" --vcpus 99
"$KVMLAB" check --vcpus 01 --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && "$KVMLAB" check --vcpus 01 2>&1 | grep -q '(1 vCPU,'; then ok "--vcpus 01 is decimal 1"; else nok "--vcpus 01: exit $rc"; fi
