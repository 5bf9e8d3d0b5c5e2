#!/bin/sh
# tools/por-oracle.c on ten small configurations: the full state graph, the
# exact single-actor persistent-set oracle and the checker's own search, side
# by side.  Each run must pass the tool's checks (the reduced graphs keep every
# terminal state, deadlock and finding; the enumeration has kvmlab check
# --no-por's states and terminal states; the oracle agrees with a brute-force
# search at sampled states) and, with --summaries, the checker's own
# persistent-set rule (its hand-written future-access summaries, narrowed while
# the seed is held) accepts no actor at any state that the exact oracle
# rejects; the class-level bounds keep the terminal states; and the counts must
# be ordered: oracle <= oracle with the cycle proviso <= the full graph's, and
# the checker <= the checker without merging <= the full graph's.  The checker
# is not bounded below by the oracle: its sleep sets prune states that no
# persistent-set reduction alone does (zap-yield: 15 148 states without merging,
# the oracle 15 285).  $KVMLAB is the binary under test; the tool is built next
# to it.
T=$(mktemp -d /tmp/kvmlab-por-oracle.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
POR=$(dirname "${KVMLAB:-build/release/kvmlab}")/por-oracle
N=43
echo "1..$N"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	skip_all "the checker is not available under ThreadSanitizer"
fi

# name, args...: the checks pass and the counts are ordered (see above).
oracle() {
	name=$1
	shift
	"$POR" --top 0 --validate 200 --summaries "$@" >"$T/out" 2>&1
	rc=$?
	set -- $(sed -n 's/^summary: full \([0-9]*\) checker \([0-9]*\) checker-no-merge \([0-9]*\) oracle \([0-9]*\) proviso \([0-9]*\) .* checks \([a-zA-Z]*\)$/\1 \3 \4 \5 \6 \2/p' "$T/out")
	if [ "$rc" -ne 0 ] || [ "$5" != ok ]; then
		nok "$name: exit $rc, checks '${5:-none}'"
		grep -E 'MISSING|DIFFERENT|NO$|disagree|INCOMPLETE|error' "$T/out" | sed 's/^/# /'
	else
		ok "$name: reductions keep terminal states, deadlocks and findings"
	fi
	if [ -n "$4" ] && [ "$4" -le "$1" ] && [ "$2" -le "$1" ] && [ "$3" -le "$4" ] && [ "$6" -le "$2" ]; then
		ok "$name: oracle $3 <= with proviso $4 <= full $1; checker $6 <= checker --no-merge $2 <= full $1"
	else
		nok "$name: counts full '$1' checker '$6' checker --no-merge '$2' oracle '$3' proviso '$4' not ordered"
	fi
	proviso=$4
	bounds=$(grep -c '^with .*: [0-9]* states, terminal states, deadlocks and findings kept$' "$T/out")
	if [ "$bounds" = 5 ] && ! grep -q 'NOT ALL KEPT' "$T/out"; then
		ok "$name: the five class-level bounds (exact futures, per-point summaries) keep terminal states"
	else
		nok "$name: $bounds of 5 class-level bounds keep terminal states"
	fi
	set -- $(sed -n "s/^kvmlab check's rule .*: \([0-9]*\) states, terminal states, deadlocks and findings \(.*\)$/\1 \2/p" "$T/out")
	unsound=$(sed -n 's/.*; the rule accepts \([0-9]*\) the oracle rejects.*/\1/p' "$T/out")
	if [ "$unsound" = 0 ] && [ "${2:-}" = kept ] && [ -n "$proviso" ] && [ "$1" -ge "$proviso" ]; then
		ok "$name: the checker's summaries accept no actor the oracle rejects (its rule: $1 states)"
	else
		nok "$name: the checker's rule: '${1:-}' states, terminal states '${2:-}', accepted against the oracle '${unsound:-}'"
	fi
}

oracle "1 vCPU, 3 toggles, 2 accesses" --vcpus 1
oracle "2 vCPUs, 1 toggle, 1 access" --vcpus 2 --toggles 1 --accesses 1
oracle "zap-yield (cyclic graph)" --scenario zap-yield
oracle "create-race" --scenario create-race
# IPIs from a vCPU and an inhibit change: the held-still narrowing next to senders.
oracle "ipi-hlt" --scenario ipi-hlt
oracle "two-senders.scn" --scenario "$(dirname "$0")/scenarios/two-senders.scn"
oracle "x2apic-hybrid (memslot deletion, SRCU)" --scenario x2apic-hybrid
# An inhibit a vCPU raises on its own thread: the relocated APIC base.
oracle "apic-relocate" --scenario apic-relocate
if tso_available; then
	oracle "x86-TSO, halt-ipi (store buffers as actors)" --scenario halt-ipi --memory-model tso
	oracle "x86-TSO, 1 vCPU, 3 toggles, 2 accesses" --vcpus 1 --memory-model tso
else
	for i in 1 2 3 4 5 6 7 8; do skip "x86-TSO: --memory-model tso needs the instrumented build"; done
fi

# A finding: the reduced graphs reach it too (the checker stops shortening
# there, so only the checks apply).
"$POR" --top 0 --bug apic-mmio-spte >"$T/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^  finding: accel-lost' "$T/out" && grep -q 'findings the same' "$T/out"; then
	ok "apic-mmio-spte: the oracle's reduced graph reaches the finding"
else
	nok "apic-mmio-spte: exit $rc"
	sed 's/^/# /' "$T/out" | tail -5
fi

# Bounds and usage.
"$POR" --vcpus 1 --max-states 100 --no-checker >"$T/out" 2>&1
rc=$?
if [ "$rc" -eq 3 ] && grep -q '^INCOMPLETE: --max-states reached after 100 states' "$T/out"; then
	ok "--max-states: incomplete, exit 3"
else
	nok "--max-states: exit $rc"
fi
"$POR" --vcpus 1 --frobnicate >"$T/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown or incomplete option '--frobnicate'" "$T/out"; then
	ok "an unknown option: usage error, exit 2"
else
	nok "an unknown option: exit $rc"
fi
