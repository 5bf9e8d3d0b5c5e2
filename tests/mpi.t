#!/bin/sh
# The distributed search (kvmlab-mpi under mpiexec): the same verdicts and the
# same terminal states as one process of the same binary, a counterexample
# that replays, witnesses, bounds, and processes that do not agree.
# $KVMLAB is the binary under test; kvmlab-mpi sits next to it.
MPI=$(dirname "$KVMLAB")/kvmlab-mpi
T=$(mktemp -d /tmp/kvmlab-mpi.XXXXXX)
trap 'rm -rf "$T"' EXIT
N=12
echo "1..$N"
. "$(dirname "$0")/tap.sh"
[ "${KVMLAB_BUILD:-}" = tsan ] && skip_all "the checker is not available under ThreadSanitizer"
[ -x "$MPI" ] || skip_all "no kvmlab-mpi (mpicc was not found at build time; tools/install-deps.sh installs MPICH)"
command -v mpiexec >/dev/null 2>&1 || skip_all "no mpiexec (tools/install-deps.sh installs MPICH)"
# MPI's own allocations are not ours to report under ASan.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
digest() { sed -n 's/.*"terminal_digest": "\(.*\)".*/\1/p' "$1"; }
verdict() { sed -n 's/.*"verdict": "\(.*\)".*/\1/p' "$1"; }

# The same question, one process and two: same verdict, same terminal states.
same() {	# name, processes, args...
	name=$1 np=$2
	shift 2
	"$MPI" check --quiet --json "$T/one.json" "$@" >/dev/null 2>&1
	mpiexec -n "$np" "$MPI" check --json "$T/many.json" "$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ "$(verdict "$T/one.json")" = verified ] &&
	   [ "$(verdict "$T/many.json")" = verified ] && [ -n "$(digest "$T/one.json")" ] &&
	   [ "$(digest "$T/one.json")" = "$(digest "$T/many.json")" ] &&
	   grep -q "^distributed: $np processes" "$T/out" && grep -q "\"processes\": $np" "$T/many.json"; then
		ok "$name: verified, same terminal states as one process ($(digest "$T/many.json"))"
	else
		nok "$name: exit $rc, digests '$(digest "$T/one.json")' '$(digest "$T/many.json")'"
		sed 's/^/# /' "$T/out" | tail -5
	fi
}
same "2 processes, 2 vCPUs, 1 toggle, 1 access" 2 --policy vm --toggles 1 --accesses 1
same "3 processes (more than cores), zap-yield" 3 --scenario zap-yield
same "2 processes, create-race" 2 --scenario create-race
if tso_available; then
	same "2 processes, x86-TSO, halt-ipi" 2 --scenario halt-ipi --memory-model tso
else
	skip "2 processes, x86-TSO: --memory-model tso needs the instrumented build"
fi

# The seed patch: a counterexample from whichever process found it, printed by rank 0.
mpiexec -n 2 "$MPI" check --policy vcpu --trace "$T/s.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION bad-spte' "$T/out" &&
   grep -q 'the first found: a distributed search does not shorten it' "$T/out"; then
	ok "seed patch, 2 processes: bad-spte"
else
	nok "seed patch, 2 processes: exit $rc"; sed 's/^/# /' "$T/out" | tail -5
fi
"$KVMLAB" replay "$T/s.sched" >"$T/replay" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^reproduced: bad-spte' "$T/replay"; then
	ok "its schedule replays in one process"
else
	nok "replay of the distributed counterexample: exit $rc"
fi
# Only rank 0 prints.
if [ "$(grep -c '^kvmlab check: scenario' "$T/out")" -eq 1 ]; then ok "one report for two processes"; else nok "reports: $(grep -c '^kvmlab check: scenario' "$T/out")"; fi

mpiexec -n 2 "$MPI" check --policy vcpu --find stale-snapshot >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^witness stale-snapshot found' "$T/out"; then ok "witness stale-snapshot, 2 processes"; else nok "witness: exit $rc"; fi

mpiexec -n 2 "$MPI" check --policy vm --max-states 2000 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: process [01]: --max-states' "$T/out"; then
	ok "bounded, 2 processes: exit 3, says which process stopped and why"
else
	nok "bounded: exit $rc"; sed 's/^/# /' "$T/out" | tail -3
fi

# Processes that do not start from the same state are refused.
mpiexec -n 1 "$MPI" check --toggles 1 : -n 1 "$MPI" check --toggles 2 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'do not start from the same fingerprint' "$T/out"; then
	ok "different scenarios in the processes: exit 2"
else
	nok "different scenarios: exit $rc"; sed 's/^/# /' "$T/out" | tail -3
fi

# The initial state does not depend on how the dynamic linker binds: lazily,
# the first call through a PLT entry from a fiber (under ASan,
# __sanitizer_finish_switch_fiber()) left the resolver's saved registers in
# unwritten stack slots of the initial state, and ranks whose registers held
# different values were refused (the binaries are linked with -z now).
mpiexec -n 1 "$MPI" check --max-states 2000 : -n 1 env LD_BIND_NOW=1 "$MPI" check --max-states 2000 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && ! grep -q 'do not start from the same fingerprint' "$T/out"; then
	ok "a process bound at load time (LD_BIND_NOW) starts from the same fingerprint"
else
	nok "LD_BIND_NOW in one process: exit $rc"; sed 's/^/# /' "$T/out" | tail -3
fi

# A bad output path (only rank 0 writes files) stops every process before the search.
timeout 120 mpiexec -n 2 "$MPI" check --json "$T/nonexistent/x.json" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q 'cannot create a file' "$T/out"; then
	ok "bad --json path, 2 processes: exit 2, one line, nothing explored"
else
	nok "bad --json path, 2 processes: exit $rc"; sed 's/^/# /' "$T/out" | tail -3
fi
