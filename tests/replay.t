#!/bin/sh
# kvmlab replay: exit 0 only when the schedule's recorded ending (its finding,
# or none, at its last step) is reproduced; exit 1 with a line saying what
# happened instead; exit 2 with "file:line: reason" for every malformed file.
# Also input files that are FIFOs (scenarios and schedules) never hang.
T=$(mktemp -d /tmp/kvmlab-replay.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
echo "1..26"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	for i in $(seq 1 26); do echo "ok $i # skip the checker is not available under ThreadSanitizer"; done
	exit 0
fi
"$KVMLAB" check --vcpus 1 --policy vcpu --first --quiet --trace "$T/s.sched" >/dev/null 2>&1
steps=$(sed -n 's/^steps //p' "$T/s.sched")

# Not reproduced: exit 1, and the last line says what happened instead.
notrepro() {	# name, file, regex of the last line
	"$KVMLAB" replay "$2" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && tail -n 1 "$T/out" | grep -Eq "$3"; then ok "$1: exit 1, $(tail -n 1 "$T/out")"
	else nok "$1: exit $rc, want 1: $(tail -n 2 "$T/out")"; fi
}
# The schedule cut to its first 5 steps.
awk -v keep=5 '/^steps /{print "steps " keep; s=1; next} s && /^[0-9]+ [0-9]+$/{if (k++ < keep) print; next} {print}' \
	"$T/s.sched" >"$T/cut.sched"
notrepro "schedule cut to 5 steps" "$T/cut.sched" "^NOT REPRODUCED: the schedule records bad-spte at step 5; the replay took all 5 steps with no finding"
# The same steps against mainline: the finding is not reached.
sed 's/^policy vcpu$/policy vm/' "$T/s.sched" >"$T/vm.sched"
"$KVMLAB" replay "$T/vm.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] || [ $rc -eq 2 ]; then ok "the counterexample's steps on mainline: not reproduced (exit $rc)"
else nok "steps on mainline: exit $rc"; fi
# A different scenario embedded (the 2-vCPU seed instead of the 1-vCPU one).
"$KVMLAB" check --toggles 1 --accesses 1 --quiet --trace "$T/two.sched" >/dev/null 2>&1
{ sed '/^scenario$/q' "$T/s.sched"; sed '1,/^scenario$/d' "$T/two.sched"; } >"$T/swapped.sched"
"$KVMLAB" replay "$T/swapped.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] || [ $rc -eq 2 ]; then ok "swapped scenario: not reproduced (exit $rc)"; else nok "swapped scenario: exit $rc"; fi
# Recorded ending reproduced: exit 0.
"$KVMLAB" replay --quiet "$T/s.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^reproduced: bad-spte at step $steps" "$T/out"; then ok "full schedule: reproduced, exit 0"
else nok "full schedule: exit $rc"; fi

# Malformed files: exit 2, "file:line: reason" with the right line.
malformed() {	# name, file, expected "file:line: reason" regex
	"$KVMLAB" replay "$2" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -Eq "$3" "$T/err"; then ok "$1: exit 2, $(cat "$T/err")"
	else nok "$1: exit $rc, want 2 and /$3/: $(cat "$T/err" "$T/out" | head -3)"; fi
}
hdr=$(grep -n '^steps ' "$T/s.sched" | cut -d: -f1)
awk '/^scenario$/{print "steps 1"; print "0 0"} {print}' "$T/s.sched" >"$T/twice.sched"
malformed "a second steps section" "$T/twice.sched" "twice.sched:[0-9]+: 'steps' given twice"
sed '1s/.*/kvmlab-schedule 1junk/' "$T/s.sched" >"$T/junk.sched"
malformed "version 1junk" "$T/junk.sched" "junk.sched:1: not a kvmlab-schedule file"
sed '1s/.*/kvmlab-schedule +2/' "$T/s.sched" >"$T/plus.sched"
malformed "version +2" "$T/plus.sched" "plus.sched:1: not a kvmlab-schedule file"
sed 's/^finding .*/finding bad-sptee/' "$T/s.sched" >"$T/finding.sched"
malformed "unknown finding name" "$T/finding.sched" "finding.sched:[0-9]+: unknown finding 'bad-sptee'"
sed 's/^scenario$/scenario nosuch/' "$T/s.sched" >"$T/scn.sched"
malformed "a name after 'scenario'" "$T/scn.sched" "scn.sched:[0-9]+: 'scenario' stands alone"
sed 's/^zap-yield .*/zap-yield maybe/' "$T/s.sched" >"$T/zy.sched"
malformed "zap-yield maybe" "$T/zy.sched" "zy.sched:[0-9]+: zap-yield must be yes or no"
# A NUL byte, and text after it, on the policy line (line 2).
{ head -n 1 "$T/s.sched"; printf 'policy vcpu\000 trailing\n'; tail -n +3 "$T/s.sched"; } >"$T/nul.sched"
malformed "text after a NUL byte" "$T/nul.sched" "nul.sched:2: NUL byte"
# A step line over 511 characters, reported at its own line.
bad=$((hdr + 3))
awk -v L=$bad 'NR == L {printf "%s", $1 " "; for (i = 0; i < 600; i++) printf " "; print $2; next} {print}' "$T/s.sched" >"$T/long.sched"
"$KVMLAB" replay "$T/long.sched" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] || grep -q "long.sched:$bad:" "$T/err"; then ok "a 600-character step line: accepted or reported at line $bad (exit $rc)"
else nok "long step line: exit $rc, $(cat "$T/err")"; fi
awk -v L=$bad 'NR == L {for (i = 0; i < 5000; i++) printf "0"; print ""; next} {print}' "$T/s.sched" >"$T/huge.sched"
malformed "a 5000-character step line" "$T/huge.sched" "huge.sched:$bad: line longer than"
sed "s/^steps .*/steps $((steps + 3))/" "$T/s.sched" >"$T/short.sched"
malformed "fewer steps than announced" "$T/short.sched" "short.sched:[0-9]+: expected a step|steps announced"
sed "$((hdr + 1))s/.*/0x1 0/" "$T/s.sched" >"$T/hex.sched"
malformed "a hex actor number" "$T/hex.sched" "hex.sched:$((hdr + 1)): expected a step"
awk '/^steps /{print; print "bug create-no-request"; next} {print}' "$T/s.sched" >"$T/late.sched"
malformed "a keyword where a step belongs" "$T/late.sched" "late.sched:$((hdr + 1)): expected a step"
# FIFOs with no writer: one line and exit 2, not a hang.
mkfifo "$T/fifo"
timeout 20 "$KVMLAB" replay "$T/fifo" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ]; then ok "replay of a FIFO with no writer: exit 2, $(cat "$T/err")"; else nok "replay of a FIFO: exit $rc"; fi
timeout 20 "$KVMLAB" check --scenario "$T/fifo" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ]; then ok "a scenario FIFO with no writer: exit 2, $(cat "$T/err")"; else nok "scenario FIFO: exit $rc"; fi
# ... and one whose writer is waiting is read (the writer's open waits for a reader).
timeout 60 sh -c 'cat "$1" >"$2"' sh "$(dirname "$0")/scenarios/two-senders.scn" "$T/fifo" &
writer=$!
sleep 1
timeout 60 "$KVMLAB" check --quiet --scenario "$T/fifo" >"$T/out" 2>"$T/err"
rc=$?
wait $writer
if [ $rc -eq 0 ] && grep -q '^verdict: verified' "$T/out"; then ok "a scenario FIFO with a writer is read (verified)"
else nok "scenario FIFO with a writer: exit $rc, $(cat "$T/err")"; fi

# Another configuration on the same schedule: side by side to the first difference.
"$KVMLAB" check --vcpus 1 --policy vcpu --quiet --trace "$T/seed.sched" >/dev/null 2>&1
"$KVMLAB" replay "$T/seed.sched" --policy vm >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^first difference, event' "$T/out" &&
   grep -q '^  as recorded .*kvm_mmu_faultin_pfn: vcpu 0 APIC slot, kvm_vcpu_apicv_active(vcpu) says active .*-> map the APIC-access page$' "$T/out" &&
   grep -q '^  policy vm .*kvm_mmu_faultin_pfn: vcpu 0 APIC slot, kvm_apicv_activated(kvm) says inactive .*-> RET_PF_EMULATE$' "$T/out" &&
   grep -q '^policy vm: all [0-9]* steps, no finding$' "$T/out" && grep -q '^reproduced: bad-spte' "$T/out"; then
	ok "replay --policy vm: the seed's fault emulates under mainline, no finding"
else nok "replay --policy vm: exit $rc, $(grep '^first\|^policy\|^reproduced' "$T/out")"; fi
"$KVMLAB" replay "$T/seed.sched" --policy=vm --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 3 ] && grep -q '^policy vm: all' "$T/out"; then
	ok "replay --policy=vm --quiet: the two outcomes and the verdict"
else nok "replay --policy=vm --quiet: exit $rc, $(cat "$T/out")"; fi
"$KVMLAB" check --bug avic-deliver-race --quiet --trace "$T/bug.sched" >/dev/null 2>&1
"$KVMLAB" replay "$T/bug.sched" --bug none >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^bugs none: all [0-9]* steps, no finding$' "$T/out" &&
   grep -q '^as recorded: lost-interrupt at step' "$T/out"; then
	ok "replay --bug none: the bug's schedule under mainline loses nothing"
else nok "replay --bug none: exit $rc, $(tail -n 3 "$T/out")"; fi
# A preempt scenario's schedule replays (the schedule's scenario sets preempt).
"$KVMLAB" check --bug blocking-preempt --quiet --trace "$T/bp.sched" >/dev/null 2>&1
"$KVMLAB" replay "$T/bp.sched" --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^reproduced: assertion at step' "$T/out"; then ok "a preempt yes schedule (blocking-preempt) replays"
else nok "blocking-preempt schedule: exit $rc, $(cat "$T/out")"; fi
"$KVMLAB" replay "$T/bp.sched" --bug none --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^bugs none: step [0-9]* (actor 1) of the schedule is not possible there; stopped after [0-9]* steps$' "$T/out"; then
	ok "replay --bug none stops where mainline does not allow the schedule's next step"
else nok "blocking-preempt --bug none: exit $rc, $(cat "$T/out")"; fi
"$KVMLAB" replay "$T/seed.sched" --policy maybe >/dev/null 2>"$T/err"
check_rc=$?
if [ $check_rc -eq 2 ] && grep -q "^kvmlab replay: --policy: 'maybe' is not vm or vcpu$" "$T/err"; then ok "replay --policy maybe: exit 2"
else nok "replay --policy maybe: exit $check_rc, $(cat "$T/err")"; fi
"$KVMLAB" replay "$T/seed.sched" --bug >/dev/null 2>"$T/err"
check_rc=$?
if [ $check_rc -eq 2 ] && grep -q "^kvmlab replay: --bug needs a value$" "$T/err"; then ok "replay --bug without a value: exit 2"
else nok "replay --bug without a value: exit $check_rc, $(cat "$T/err")"; fi
