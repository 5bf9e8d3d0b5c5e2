#!/bin/sh
# kvmlab check --jobs N (check/jobs.c): on the verdict corpus of tests/check.t,
# 2 and 3 workers give the exit status, verdict, finding and terminal states
# (distinct count and digest) of --jobs 1, and a violation's or witness's
# report is the one --jobs 1 prints (standard output but the two --jobs
# lines); KVMLAB_VALIDATE on replayed frames; bounds; SIGTERM to the parent
# exits 3 and leaves no worker behind; a killed worker fails the run.
# $KVMLAB is the binary under test.
T=$(mktemp -d /tmp/kvmlab-jobs.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
N=39
echo "1..$N"
[ "${KVMLAB_BUILD:-}" = tsan ] &&
	skip_all "the checker is not available under ThreadSanitizer (tests/test_jobs.c checks the shared table there, with threads)"
SCN=$(dirname "$0")/scenarios
json() {	# field file: a string or number field's value ("null" stays)
	sed -n "s/^  \"$1\": \"\{0,1\}\([^\"]*\)\"\{0,1\},\$/\1/p" "$2"
}
kind() {	# file: the finding's kind, or null
	sed -n -e 's/^  "finding": {"kind": "\([^"]*\)".*/\1/p' -e 's/^  "finding": null,$/null/p' "$1"
}
summary() {	# file
	echo "$(json verdict "$1") $(kind "$1") $(json terminal_states "$1") $(json terminal_digest "$1")"
}

# The same question with 1, 2 and 3 workers.
same() {	# name, args...
	name=$1
	shift
	"$KVMLAB" check --progress never --json "$T/1.json" "$@" >"$T/1.out" 2>"$T/1.err"
	rc1=$?
	want="$rc1 $(summary "$T/1.json")"
	why=
	for j in 2 3; do
		"$KVMLAB" check --progress never --jobs $j --json "$T/$j.json" "$@" >"$T/$j.out" 2>"$T/$j.err"
		rc=$?
		got="$rc $(summary "$T/$j.json")"
		if [ "$got" != "$want" ]; then
			why="$why --jobs $j: '$got', --jobs 1: '$want';"
		elif ! grep -q "^  \"jobs\": $j,\$" "$T/$j.json"; then
			why="$why --jobs $j: no \"jobs\": $j in the JSON;"
		elif grep -Eq '^(VIOLATION|witness .* found)' "$T/1.out" &&
		     ! grep -Ev '^(jobs|parallel search): ' "$T/$j.out" | cmp -s - "$T/1.out"; then
			why="$why --jobs $j: the report differs from --jobs 1's;"
			grep -Ev '^(jobs|parallel search): ' "$T/$j.out" | diff "$T/1.out" - | head -5 | sed 's/^/# /'
		fi
	done
	if [ -z "$why" ] && [ -n "$(json terminal_digest "$T/1.json")" ]; then
		ok "$name: $want"
	else
		nok "$name:${why:- no JSON}"
		tail -n 3 "$T/1.err" "$T/2.err" | sed 's/^/# /'
	fi
}
same "mainline svm, 1 vCPU" --vcpus 1 --policy vm --vendor svm
same "mainline vmx, 1 vCPU" --vcpus 1 --policy vm --vendor vmx
same "seed patch svm, 1 vCPU, --first" --vcpus 1 --policy vcpu --vendor svm --first
same "seed patch svm, 1 vCPU, shortened counterexample" --vcpus 1 --policy vcpu --vendor svm
same "seed patch vmx, 1 vCPU" --vcpus 1 --policy vcpu --vendor vmx
same "mainline, --no-por" --vcpus 1 --policy vm --no-por
same "mainline, --fine" --vcpus 1 --policy vm --fine
same "2 vCPUs, 1 toggle, 1 access" --policy vm --toggles 1 --accesses 1
same "2 vCPUs, no toggles, persistent sets" --policy vm --toggles 0
same "2 vCPUs, no toggles, sleep sets only" --policy vm --toggles 0 --no-persistent
same "seed patch, 2 vCPUs, --first" --policy vcpu --first
same "zap-yield" --scenario zap-yield
same "create-race" --scenario create-race
same "reenable" --scenario reenable
same "two senders" --scenario "$SCN/two-senders.scn"
for b in zap-no-invalidate update-before-kick fault-checks-request zap-yield-range-units create-no-request apic-mmio-spte; do
	same "bug $b, shortened" --bug $b
done
same "bug create-no-request, --first" --bug create-no-request --first
for w in case-1 case-2a case-2b stale-snapshot; do
	same "witness $w" --policy vcpu --find $w
done
same "witness case-1 absent on mainline" --vcpus 1 --policy vm --find case-1
# x86-TSO: the store buffers' flushers are actors like the others.
if tso_available; then
	same "x86-TSO, create-race" --scenario create-race --memory-model tso
	same "x86-TSO, cr8-intercept" --scenario cr8-intercept --memory-model tso
	same "x86-TSO, bug halt-no-mb, shortened" --bug halt-no-mb
else
	for i in 1 2 3; do skip "x86-TSO: --memory-model tso needs the instrumented build"; done
fi

# Frames handed between workers are replayed: the state store's shortcuts and
# the replay's fingerprint checked on every snapshot.
for a in "--policy vm --toggles 1 --accesses 1" "--scenario create-race"; do
	# shellcheck disable=SC2086
	KVMLAB_VALIDATE=1 "$KVMLAB" check --jobs 3 --progress never $a >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: verified' "$T/out"; then
		ok "validated, --jobs 3: $a ($(grep -c 'frames taken' "$T/out") workers)"
	else
		nok "validated, --jobs 3, $a: exit $rc"; tail -3 "$T/out" | sed 's/^/# /'
	fi
done

# Bounds: exit 3 with the reason.
"$KVMLAB" check --jobs 2 --max-states 2000 --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: --max-states 2000 reached' "$T/out"; then ok "--max-states, --jobs 2: exit 3"; else nok "--max-states, --jobs 2: exit $rc"; fi
"$KVMLAB" check --jobs 2 --memory-limit 10 --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: --memory-limit 10 MiB reached' "$T/out"; then
	ok "--memory-limit 10, --jobs 2: exit 3 when the shared table cannot double"
else
	nok "--memory-limit, --jobs 2: exit $rc"; sed 's/^/# /' "$T/out"
fi

# Option syntax.
"$KVMLAB" check --jobs auto --vcpus 1 --policy vm --quiet >"$T/out" 2>&1
rc1=$?
"$KVMLAB" check --jobs 0 --vcpus 1 --policy vm --json "$T/0.json" --quiet >/dev/null 2>&1
rc2=$?
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "^  \"jobs\": $cpus,\$" "$T/0.json"; then
	ok "--jobs auto and --jobs 0: one worker per online CPU ($cpus)"
else
	nok "--jobs auto/0: exits $rc1 $rc2, $(grep '"jobs"' "$T/0.json")"
fi
"$KVMLAB" check --jobs -1 >/dev/null 2>&1
rc1=$?
"$KVMLAB" check --jobs 65 >/dev/null 2>&1
rc2=$?
if [ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && "$KVMLAB" check -h | grep -q -- '--jobs N|auto'; then
	ok "--jobs -1 and 65: exit 2; -h describes --jobs"
else
	nok "bad --jobs: exits $rc1 $rc2"
fi

# Signals and deaths.  The default question runs for seconds: long enough.
if ! command -v pgrep >/dev/null 2>&1; then
	skip "no pgrep"; skip "no pgrep"
else
	sigterm_workers "SIGTERM to a --jobs 2 run" "$T/out" '^INCOMPLETE: interrupted by SIGTERM' \
		--jobs 2 --progress never

	"$KVMLAB" check --jobs 2 --progress never >"$T/out" 2>&1 &
	pid=$!
	kids=$(children $pid 2)
	victim=$(echo $kids | cut -d' ' -f2)
	sleep 0.5
	[ -n "$victim" ] && kill -KILL "$victim"
	wait $pid
	rc=$?
	if [ -n "$victim" ] && [ $rc -ne 0 ] && ! grep -q '^verdict: verified' "$T/out" &&
	   grep -q "^kvmlab check: worker [0-9]* (pid $victim) killed by signal 9" "$T/out"; then
		ok "a killed worker fails the run (exit $rc): $(grep '^INCOMPLETE' "$T/out")"
	else
		nok "killed worker $victim: exit $rc"; tail -3 "$T/out" | sed 's/^/# /'
	fi
fi

# kvmlab-mpi spreads the search over MPI processes instead.
MPI=$(dirname "$KVMLAB")/kvmlab-mpi
if [ -x "$MPI" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$MPI" check --jobs 2 >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q 'kvmlab-mpi spreads the search over MPI' "$T/out"; then
		ok "kvmlab-mpi check --jobs 2: exit 2"
	else
		nok "kvmlab-mpi --jobs: exit $rc"; sed 's/^/# /' "$T/out"
	fi
else
	skip "no kvmlab-mpi"
fi
