#!/bin/sh
# kvmlab check --swarm N (check/swarm.c): differently ordered bitstate
# searches.  A violation's report names the member that found it and
# replays; none found is exit 3 and "not a proof"; --max-states bounds each
# member and a later member can then be the one that finds it; 2 and 3
# --jobs give --jobs 1's standard output (but the announcement line) and
# JSON counts; on a small configuration the members reach exactly the
# terminal states of the exhaustive search; usage errors; SIGTERM to a
# --jobs 2 swarm exits 3 and leaves no worker behind.
# $KVMLAB is the binary under test.
T=$(mktemp -d /tmp/kvmlab-swarm.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
N=15
echo "1..$N"
[ "${KVMLAB_BUILD:-}" = tsan ] && skip_all "the checker is not available under ThreadSanitizer"
json() {	# field file: a string or number field's value ("null" stays)
	sed -n "s/^  \"$1\": \"\{0,1\}\([^\"]*\)\"\{0,1\},\$/\1/p" "$2"
}

# The seed patch with 3 vCPUs: member 0 (the usual order) finds bad-spte.
"$KVMLAB" check --policy vcpu --vcpus 3 --swarm 4 --trace "$T/seed.sched" --json "$T/seed.json" \
	--progress never >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 1 ] && grep -q '^swarm member 0: .* a violation$' "$T/out" &&
   ! grep -q '^swarm member 1' "$T/out" && grep -q '^verdict: violation (bad-spte)$' "$T/out" &&
   grep -q 'the first found by swarm member 0: a bitstate search does not shorten it' "$T/out" &&
   grep -q '"found_by": 0,' "$T/seed.json"; then
	ok "seed patch, 3 vCPUs: member 0 finds bad-spte ($(grep -o 'counterexample, [0-9]* steps' "$T/out"))"
else
	nok "seed patch, 3 vCPUs, --swarm 4: exit $rc"; tail -3 "$T/out" "$T/err" | sed 's/^/# /'
fi
"$KVMLAB" replay "$T/seed.sched" >"$T/rep" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^reproduced: bad-spte at step" "$T/rep"; then
	ok "its schedule replays to bad-spte"
else nok "replay of the swarm's schedule: exit $rc"; tail -3 "$T/rep" | sed 's/^/# /'; fi

# Mainline, 2 vCPUs, 1 toggle, 1 access: no violation is not a proof.
SMALL="--vcpus 2 --toggles 1 --accesses 1"
"$KVMLAB" check $SMALL --swarm 3 --swarm-bits 22 --json "$T/small.json" --progress never >"$T/small.out" 2>"$T/err"
rc=$?
if [ $rc -eq 3 ] && [ "$(grep -c '^swarm member [0-2]: .* no violation$' "$T/small.out")" -eq 3 ] &&
   grep -q '^INCOMPLETE: --swarm 3: no violation in 3 bitstate searches of 2^22 bits each; .* not a proof$' \
	"$T/small.out" && grep -q '"found_by": null,' "$T/small.json"; then
	ok "mainline: exit 3, three members, not a proof"
else
	nok "mainline --swarm 3: exit $rc"; tail -3 "$T/small.out" "$T/err" | sed 's/^/# /'
fi
# The members search in different orders: they visit different numbers of states.
m0=$(sed -n 's/^swarm member 0: \([0-9]*\) states.*/\1/p' "$T/small.out")
m1=$(sed -n 's/^swarm member 1: \([0-9]*\) states.*/\1/p' "$T/small.out")
m2=$(sed -n 's/^swarm member 2: \([0-9]*\) states.*/\1/p' "$T/small.out")
if [ -n "$m0" ] && [ "$m0" != "$m1" ] && [ "$m1" != "$m2" ]; then
	ok "the members' orders differ: $m0, $m1 and $m2 states"
else nok "members 0, 1, 2: '$m0' '$m1' '$m2' states"; fi
# With arrays this large for ~10^5 states, no terminal state is lost on it.
"$KVMLAB" check $SMALL --json "$T/exact.json" --progress never >/dev/null 2>&1
want="$(json terminal_states "$T/exact.json") $(json terminal_digest "$T/exact.json")"
got="$(json terminal_states "$T/small.json") $(json terminal_digest "$T/small.json")"
if [ -n "$(json terminal_digest "$T/exact.json")" ] && [ "$got" = "$want" ]; then
	ok "the members' terminal states are the exhaustive search's ($want)"
else nok "terminal states: swarm '$got', exhaustive '$want'"; fi

# --max-states bounds each member: member 0 stops at 1200 states, a later one finds bad-spte within them.
"$KVMLAB" check --policy vcpu --vcpus 3 --swarm 8 --max-states 1200 --json "$T/b1.json" --progress never \
	>"$T/b1.out" 2>"$T/err"
rc=$?
k=$(sed -n 's/^swarm member \([0-9]*\): .* a violation$/\1/p' "$T/b1.out")
if [ $rc -eq 1 ] && grep -q '^swarm member 0: 1200 states, .* no violation, stopped by --max-states 1200 reached$' \
	"$T/b1.out" && [ -n "$k" ] && [ "$k" -gt 0 ] && ! grep -q "^swarm member $((k + 1))" "$T/b1.out" &&
   grep -q "\"found_by\": $k," "$T/b1.json"; then
	ok "--max-states 1200 a member: member $k finds it"
else nok "--max-states 1200 --swarm 8: exit $rc"; grep '^swarm\|^verdict' "$T/b1.out" | sed 's/^/# /'; fi

# --jobs: the same report and counts as --jobs 1.
same() {	# name, base output (jobs 1), its JSON, args...
	name=$1 base=$2 bjson=$3
	shift 3
	why=
	for j in 2 3; do
		"$KVMLAB" check --jobs $j --json "$T/j.json" --progress never "$@" >"$T/j.out" 2>"$T/j.err"
		if ! grep -v '^swarm: ' "$T/j.out" | cmp -s - "$base.nojobs"; then
			why="$why --jobs $j: the report differs;"
			grep -v '^swarm: ' "$T/j.out" | diff "$base.nojobs" - | head -4 | sed 's/^/# /'
		fi
		for f in states transitions terminal_states terminal_digest verdict steps; do
			[ "$(json $f "$T/j.json")" = "$(json $f "$bjson")" ] || why="$why --jobs $j: $f;"
		done
		grep -q '"found_by": ' "$T/j.json" || why="$why --jobs $j: no swarm object;"
	done
	if [ -z "$why" ]; then ok "$name: --jobs 2 and 3 report what --jobs 1 does"
	else nok "$name:$why"; tail -3 "$T/j.err" | sed 's/^/# /'; fi
}
grep -v '^swarm: ' "$T/b1.out" >"$T/b1.out.nojobs"
same "member $k's violation" "$T/b1.out" "$T/b1.json" --policy vcpu --vcpus 3 --swarm 8 --max-states 1200
grep -v '^swarm: ' "$T/small.out" >"$T/small.out.nojobs"
same "mainline, no violation" "$T/small.out" "$T/small.json" $SMALL --swarm 3 --swarm-bits 22

# Usage errors (exit 2) before anything is searched.
usage() {	# name, expected message part, args...
	name=$1 want=$2
	shift 2
	"$KVMLAB" check "$@" >"$T/u.out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$want" "$T/u.out"; then ok "usage: $name"
	else nok "usage: $name: exit $rc, $(head -2 "$T/u.out")"; fi
}
usage "--swarm 0" "swarm" --swarm 0
usage "--swarm-bits alone" "--swarm-bits sizes the members of a --swarm search" --swarm-bits 20
usage "--swarm-bits 40" "swarm-bits" --swarm 2 --swarm-bits 40
usage "--swarm with --find" "not with --find" --swarm 2 --find case-1
usage "--swarm with --preemptions" "not with --preemptions" --swarm 2 --preemptions 1
usage "--swarm-bits past the memory bound" "2 members of 1024 MiB of bits at once do not fit the memory bound of 1500 MiB" \
	--swarm 2 --swarm-bits 33 --jobs 2 --memory-limit 1500

# SIGTERM to a --jobs 2 swarm: exit 3, no worker left.
if ! command -v pgrep >/dev/null 2>&1; then
	skip "no pgrep"
else
	sigterm_workers "SIGTERM to a --jobs 2 swarm" "$T/out" '^INCOMPLETE: --swarm 100: .*interrupted by SIGTERM' \
		--swarm 100 --jobs 2 --progress never
fi
