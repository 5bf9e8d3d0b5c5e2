#!/bin/sh
# Command-line conventions: --version, -h/--help on every subcommand,
# `kvmlab help CMD`; and `kvmlab list` tells the truth: each bug's expected
# finding is the one `kvmlab check --bug SLUG` reports.
T=$(mktemp -d /tmp/kvmlab-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
cmds="check replay stress oracle list"
bugs=$("$KVMLAB" list | awk '/^bugs/ {b = 1; next} /^$/ {b = 0} b && /reverts/ {print $1}')
echo "1..$((2 + 3 * 5 + 3 + $(echo $bugs | wc -w)))"
"$KVMLAB" --version >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -Eq '^kvmlab [^ ]+' "$T/out" && [ "$(wc -l <"$T/out")" -eq 1 ]; then ok "--version: $(cat "$T/out")"
else nok "--version: exit $rc: $(head -2 "$T/out")"; fi
"$KVMLAB" help nosuch >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "help of an unknown command: exit 2"; else nok "help nosuch: exit $rc"; fi
for c in $cmds; do
	for h in -h --help; do
		"$KVMLAB" $c $h >"$T/$c$h" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && grep -q "^usage: kvmlab $c" "$T/$c$h"; then ok "$c $h: usage, exit 0"
		else nok "$c $h: exit $rc: $(head -1 "$T/$c$h")"; fi
	done
	"$KVMLAB" help $c >"$T/help" 2>&1
	if cmp -s "$T/help" "$T/$c--help"; then ok "kvmlab help $c is $c --help"; else nok "kvmlab help $c differs from $c --help"; fi
done
# list --functions: the model's functions with the release their comment names,
# each pointing at its definition (run from the repository root).
"$KVMLAB" list --functions >"$T/fn" 2>&1
rc=$?
nfn=$(awk '/^model functions that follow/ {r = 1; next} /^$/ {r = 0} r && /^  v[0-9]/' "$T/fn" | wc -l)
if [ $rc -eq 0 ] && [ "$nfn" -ge 100 ] && grep -Eq '^  v7\.3-rc5 +kvm_zap_gfn_range +model/mmu\.c:[0-9]+$' "$T/fn" &&
   grep -Eq '^  v7\.1 +__kvm_apic_set_base +model/lapic\.c:[0-9]+$' "$T/fn" &&
   grep -Eq '^  v7\.1 +avic_activate_vmcb +model/avic\.c:[0-9]+$' "$T/fn" && grep -q '^releases: v5\.' "$T/fn"; then
	ok "list --functions: $nfn functions with the kernel release each follows"
else nok "list --functions: exit $rc, $nfn functions"; fi
bad=$(awk '/^  / {print $NF, $(NF - 1)}' "$T/fn" | while read -r where name; do
	f=${where%:*} l=${where##*:}
	sed -n "${l}p" "$f" 2>/dev/null | grep -q "$name(" || echo "$name $where"
done | head -3)
if [ -z "$bad" ]; then ok "list --functions: every FILE:LINE is the function's definition"
else nok "list --functions: not at its line: $bad"; fi
"$KVMLAB" list --frobnicate >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "list with an unknown argument: exit 2"; else nok "list --frobnicate: exit $rc"; fi
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	for b in $bugs; do skip "the checker is not available under ThreadSanitizer"; done
	exit 0
fi
TSO=no
tso_available && TSO=yes
for b in $bugs; do
	if [ $TSO = no ] && "$KVMLAB" list | grep -q "^  $b .*under x86-TSO"; then
		skip "--bug $b: --memory-model tso needs the instrumented build"
		continue
	fi
	want=$("$KVMLAB" list | awk -v b=$b '$1 == b {for (i = 1; i < NF; i++) if ($i == "expect") print $(i + 1)}')
	got=$("$KVMLAB" check --bug $b --quiet 2>/dev/null | sed -n 's/^verdict: violation (\(.*\))$/\1/p')
	if [ -n "$want" ] && [ "$want" = "$got" ]; then ok "list says --bug $b yields $want; check reports $got"
	else nok "list says --bug $b yields '$want'; check reports '$got'"; fi
done
