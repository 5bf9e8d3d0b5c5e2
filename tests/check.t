#!/bin/sh
# The checker's verdict corpus (docs/verdicts.md) on configurations small enough
# for the suite: expected verdict, expected finding and, for exhaustive runs,
# the exact number of states and transitions explored (a change in the
# engine or the model shows up here as a diff).  The counts are golden for
# the release build only: a state includes the fibers' live stack frames,
# whose layout depends on code generation (sanitizer builds differ).  Plus witnesses, replay and
# input errors.  $KVMLAB is the binary under test.
T=$(mktemp -d /tmp/kvmlab-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
TSO=no
tso_available && TSO=yes
texpect() {	# expect under x86-TSO, where this build can (tests/tap.sh)
	if [ $TSO = yes ]; then expect "$@"; else skip "$1: --memory-model tso needs the instrumented build"; fi
}
expect() {	# name, want-exit, want-verdict-regex, [want "states transitions"], args...
	name=$1 want=$2 verdict=$3 counts=$4
	shift 4
	"$KVMLAB" check "$@" >"$T/out" 2>&1
	rc=$?
	got=$(sed -n 's/^explored \([0-9]*\) states, \([0-9]*\) transitions.*/\1 \2/p' "$T/out")
	if [ "$rc" -ne "$want" ]; then
		nok "$name: exit $rc, want $want"; sed 's/^/# /' "$T/out" | tail -5
	elif ! grep -Eq "^verdict: $verdict" "$T/out"; then
		nok "$name: verdict '$(grep '^verdict' "$T/out")', want '$verdict'"
	elif [ -n "$counts" ] && [ "${KVMLAB_BUILD:-release}" = release ] && [ "$got" != "$counts" ]; then
		nok "$name: explored '$got', golden '$counts'"
	else
		ok "$name ($(grep '^verdict' "$T/out"), $got)"
	fi
}
PLAN=139
echo "1..$PLAN"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	for i in $(seq 1 $PLAN); do echo "ok $i # skip the checker is not available under ThreadSanitizer"; done
	exit 0
fi
# Mainline and the seed patch, one vCPU against an actor toggling 3 times, 2 APIC accesses.
expect "mainline svm verified" 0 "verified" "14463 18194" --vcpus 1 --policy vm --vendor svm
expect "mainline vmx verified" 0 "verified" "10842 13710" --vcpus 1 --policy vm --vendor vmx
expect "seed patch svm: bad-spte" 1 "violation \(bad-spte\)" "" --vcpus 1 --policy vcpu --vendor svm --first
expect "seed patch vmx loses no write" 0 "verified" "11462 14459" --vcpus 1 --policy vcpu --vendor vmx
expect "mainline svm without reduction: same verdict" 0 "verified" "24544 45453" --vcpus 1 --policy vm --no-por
# Scheduling granularity: every scheduling point its own transition.
expect "mainline svm, --fine: same verdict" 0 "verified" "20375 24353" --vcpus 1 --policy vm --fine
# Two vCPUs against one inhibit change, exhaustively.
expect "mainline svm, 2 vCPUs, 1 toggle, 1 access" 0 "verified" "101809 143374" --policy vm --toggles 1 --accesses 1
expect "... with --no-races: the same states (the detector leaves nothing on the fiber stacks)" 0 "verified" "101809 143374" --policy vm --toggles 1 --accesses 1 --no-races
# Persistent sets: two vCPUs with no inhibit change (the actor's kicks touch every vCPU).
expect "2 vCPUs, no toggles, persistent sets" 0 "verified" "155 220" --policy vm --toggles 0
expect "2 vCPUs, no toggles, no persistent sets" 0 "verified" "155 220" --policy vm --toggles 0 --no-persistent
expect "2 vCPUs, no toggles, sleep sets only" 0 "verified" "2283 2550" --policy vm --toggles 0 --no-persistent --no-merge
expect "seed patch svm, 2 vCPUs: bad-spte" 1 "violation \(bad-spte\)" "" --policy vcpu --first
# Preemption bounding: the seed patch's bug needs one preemption with 3 vCPUs; a bounded
# search without a violation says it is not a proof (exit 3).
"$KVMLAB" check --policy vcpu --vcpus 3 --preemptions 3 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^at most 0 preemptions: .* no violation$' "$T/out" &&
   grep -q 'counterexample, [0-9]* steps (the first found with 1 preemption, the fewest' "$T/out"; then
	ok "--preemptions: the seed patch's bad-spte with the fewest preemptions (1)"
else nok "--preemptions on the seed patch: exit $rc"; fi
"$KVMLAB" check --vcpus 2 --toggles 1 --accesses 1 --preemptions 1 >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: --preemptions 1: no violation .* not a proof$' "$T/out"; then
	ok "--preemptions without a violation: exit 3, not a proof"
else nok "--preemptions on mainline: exit $rc"; fi
# The state store's shortcuts, checked on every snapshot: a chunk no tracked
# write touched is unchanged, and so is the stack of a fiber that did not run.
export KVMLAB_VALIDATE=1
expect "validated: 2 vCPUs, 1 toggle, 1 access" 0 "verified" "" --policy vm --toggles 1 --accesses 1
expect "validated: zap-yield" 0 "verified" "" --scenario zap-yield
expect "validated: create-race" 0 "verified" "" --scenario create-race
# ... and while shortening a counterexample (a state's first transition, re-executed, must
# not merge past the finding the first run raised).
expect "validated: the seed patch's shortest counterexample" 1 "violation \(bad-spte\)" "" --policy vcpu --vcpus 1
# The most RAM the scenario format allows (ram-pages 64), its last word
# touched: the model backs every page (it overflowed its host pages past 15).
printf 'vcpus 1\nram-pages 64\n\nvcpu 0\n\tmem-write 0x3fffc 7\n\tmem-read 0x3fffc\n\tapic-read TPR\n\nactor 0\n\tzap 0x20 0x40\n' >"$T/ram64.scn"
expect "validated: ram-pages 64" 0 "verified" "" --scenario "$T/ram64.scn"
unset KVMLAB_VALIDATE
# Fingerprints do not depend on the process (fixed heap and stack addresses,
# no position-independent code, no lazy binding): two runs report the same
# terminal states.
d1=$("$KVMLAB" check --policy vm --toggles 1 --accesses 1 --quiet --json "$T/d1.json" >/dev/null 2>&1; sed -n 's/.*"terminal_digest": "\(.*\)".*/\1/p' "$T/d1.json")
d2=$("$KVMLAB" check --policy vm --toggles 1 --accesses 1 --quiet --json "$T/d2.json" >/dev/null 2>&1; sed -n 's/.*"terminal_digest": "\(.*\)".*/\1/p' "$T/d2.json")
if [ -n "$d1" ] && [ "$d1" = "$d2" ]; then ok "same fingerprints in two processes ($d1)"; else nok "terminal digests differ between processes: '$d1' '$d2'"; fi
# Historical bugs on the scenario kvmlab list names for each.
expect "zap-no-invalidate" 1 "violation" "" --bug zap-no-invalidate --first
expect "update-before-kick" 1 "violation" "" --bug update-before-kick --first
expect "fault-checks-request" 1 "violation" "" --bug fault-checks-request --first
expect "zap-yield-range-units" 1 "violation \(stale-spte\)" "" --bug zap-yield-range-units --first
expect "zap-yield scenario, mainline" 0 "verified" "" --scenario zap-yield
expect "create-no-request" 1 "violation \(apicv-mismatch\)" "" --bug create-no-request --first
expect "create-toggle, mainline svm" 0 "verified" "384512 492374" --scenario create-toggle --vendor svm
expect "create-toggle, mainline vmx" 0 "verified" "300885 385001" --scenario create-toggle --vendor vmx
expect "avic-init-vm-state (3989a6d036c8)" 1 "violation \(bad-spte\)" "59967 114994" --bug avic-init-vm-state
# The TLB (docs/design.md, "The TLB"): a zap without its flush, AVIC activation without one.
expect "zap-tlb, mainline svm" 0 "verified" "1278 1841" --scenario zap-tlb --vendor svm
expect "zap-tlb, mainline vmx" 0 "verified" "1277 1840" --scenario zap-tlb --vendor vmx
expect "zap-no-flush (a mutant), svm" 1 "violation \(stale-tlb\)" "153 294" --bug zap-no-flush
expect "zap-no-flush (a mutant), vmx" 1 "violation \(stale-tlb\)" "152 293" --bug zap-no-flush --vendor vmx
expect "zap-no-flush with --no-tlb: nothing is cached, nothing goes stale" 0 "verified" "238 310" --bug zap-no-flush --no-tlb
expect "apic-disable, mainline svm" 0 "verified" "6753 8479" --scenario apic-disable --vendor svm
expect "apic-disable, mainline vmx" 0 "verified" "5919 7407" --scenario apic-disable --vendor vmx
expect "avic-activate-no-flush (0ccf3e7cb95a)" 1 "violation \(stale-tlb\)" "1938 3570" --bug avic-activate-no-flush
expect "avic-activate-no-flush with --no-tlb" 0 "verified" "5991 7536" --bug avic-activate-no-flush --no-tlb
expect "x2apic, mainline svm" 0 "verified" "5313 6640" --scenario x2apic --vendor svm
expect "x2apic, mainline vmx" 0 "verified" "5304 6631" --scenario x2apic --vendor vmx
expect "x2avic-no-flush (a9e18aa3263f)" 1 "violation \(stale-tlb\)" "1431 2622" --bug x2avic-no-flush
expect "x2avic-no-flush with --no-tlb" 0 "verified" "4940 6194" --bug x2avic-no-flush --no-tlb
expect "x2apic-hybrid, mainline svm (hybrid AVIC deletes the APIC-access memslot)" 0 "verified" "5337 6390" --scenario x2apic-hybrid
expect "x2apic-hybrid, mainline vmx" 0 "verified" "466 673" --scenario x2apic-hybrid --vendor vmx
expect "x2apic-memslot (2008fab34530)" 1 "violation \(wrong-apic-read\)" "302 335" --bug x2apic-memslot
# CR8 and V_TPR: the CR8 write intercept (87d0f901a9bd) and the V_TPR sync (d02e48830e3f).
expect "cr8-intercept, mainline svm" 0 "verified" "8198 10064" --scenario cr8-intercept
expect "cr8-intercept, mainline vmx" 0 "verified" "8018 9677" --scenario cr8-intercept --vendor vmx
expect "cr8-intercept-stuck (87d0f901a9bd)" 1 "violation \(cr8-intercepted\)" "6969 20651" --bug cr8-intercept-stuck
expect "tpr-sync, mainline svm" 0 "verified" "2637 3314" --scenario tpr-sync
expect "tpr-sync, mainline vmx" 0 "verified" "2384 2995" --scenario tpr-sync --vendor vmx
expect "tpr-no-sync (d02e48830e3f)" 1 "violation \(wrong-apic-read\)" "2573 9183" --bug tpr-no-sync
# A TPR-below-threshold exit that unblocks nothing must still lower TPR_THRESHOLD (bb365a506b1e).
expect "tpr-threshold, mainline vmx" 0 "verified" "95005 119869" --scenario tpr-threshold
expect "tpr-threshold, mainline svm" 0 "verified" "82724 107558" --scenario tpr-threshold --vendor svm
expect "tpr-threshold-stale (bb365a506b1e)" 1 "violation \(vmentry-failed\)" "64624 256200" --bug tpr-threshold-stale
# x86-TSO (docs/memory-model.md): barrier bugs caught under tso, verified under sc; mainline verifies under tso.
texpect "enter-guest-no-mb, tso (its default)" 1 "violation \(lost-request\)" "136694 349356" --bug enter-guest-no-mb
texpect "enter-guest-no-mb, tso, 1 toggle, 1 access" 1 "violation \(lost-request\)" "13885 28854" --bug enter-guest-no-mb --toggles 1 --accesses 1
expect "enter-guest-no-mb, sc: verified (smp_mb() orders nothing there)" 0 "verified" "101809 143374" --bug enter-guest-no-mb --toggles 1 --accesses 1 --memory-model sc
texpect "mainline, tso, 1 toggle, 1 access" 0 "verified" "329862 724464" --toggles 1 --accesses 1 --memory-model tso
texpect "halt-no-mb, tso (its default)" 1 "violation \(lost-interrupt\)" "5685 11686" --bug halt-no-mb
expect "halt-no-mb, sc: verified" 0 "verified" "1064 1150" --bug halt-no-mb --memory-model sc
texpect "halt-ipi, mainline, tso" 0 "verified" "4790 10686" --scenario halt-ipi --memory-model tso
texpect "x2apic-hybrid, mainline, tso: synchronize_srcu() publishes the INVALID mark" 0 "verified" "20322 42521" --scenario x2apic-hybrid --memory-model tso
texpect "halt-ipi, mainline, tso, store buffers of 3" 0 "verified" "4790 10686" --scenario halt-ipi --memory-model tso --store-buffer 3
# CR8 in x2APIC mode: the reference APIC takes it through its register, not the closed xAPIC window.
expect "cr8-x2apic, mainline svm" 0 "verified" "1582 1928" --scenario tests/scenarios/cr8-x2apic.scn
expect "cr8-x2apic, mainline vmx" 0 "verified" "1351 1649" --scenario tests/scenarios/cr8-x2apic.scn --vendor vmx
# Mainline SVM: sync_cr8_to_lapic() writes V_TPR back with TPR[3:0] cleared; VMX keeps them.
expect "TPR 0x11 on svm: TPR[3:0] lost at the next exit" 1 "violation \(wrong-apic-read\)" "496 766" --vcpus 1 --toggles 1 --accesses 4
expect "TPR 0x11 on vmx: kept" 0 "verified" "1237 1554" --vcpus 1 --toggles 1 --accesses 4 --vendor vmx
expect "mainline svm, --no-tlb" 0 "verified" "13214 16691" --vcpus 1 --policy vm --vendor svm --no-tlb
# An inhibit a vCPU raises on its own thread: the APIC ID change (3743c2f02517).
expect "apic-id, mainline svm" 0 "verified" "38328 40766" --scenario apic-id --vendor svm
expect "apic-id, mainline vmx" 0 "verified" "41093 42646" --scenario apic-id --vendor vmx
expect "apic-id-no-inhibit (3743c2f02517)" 1 "violation \(expect-failed\)" "8557 16902" --bug apic-id-no-inhibit
expect "apic-id-restore, mainline svm: the APIC-ID inhibit is cleared with the ID back" 0 "verified" "6125 7505" --scenario apic-id-restore --vendor svm
expect "apic-id-restore, mainline vmx" 0 "verified" "5843 7155" --scenario apic-id-restore --vendor vmx
expect "apic-id-inhibit-sticky (d471bd853d38)" 1 "violation \(expect-failed\)" "1869 3272" --bug apic-id-inhibit-sticky
# An inhibit a vCPU raises on its own thread: an APIC base moved away from 0xfee00000 (3743c2f02517).
expect "apic-relocate, mainline svm" 0 "verified" "4861 5632" --scenario apic-relocate --vendor svm
expect "apic-relocate, mainline vmx" 0 "verified" "4297 5065" --scenario apic-relocate --vendor vmx
expect "apic-base-no-inhibit (3743c2f02517)" 1 "violation \(wrong-apic-read\)" "121 137" --bug apic-base-no-inhibit
expect "apic-base-no-inhibit on vmx" 1 "violation \(wrong-apic-read\)" "121 137" --bug apic-base-no-inhibit --vendor vmx
expect "apic-stray-write, mainline: the write at the old base is lost" 0 "verified" "2 1" --scenario tests/scenarios/apic-stray-write.scn
expect "apic-stray-write, apic-base-no-inhibit" 1 "violation \(stray-apic-write\)" "" --scenario tests/scenarios/apic-stray-write.scn --bug apic-base-no-inhibit
expect "apic-mmio-spte" 1 "violation \(accel-lost\)" "" --bug apic-mmio-spte --first
expect "reenable scenario, mainline" 0 "verified" "" --scenario reenable
# Interrupt delivery while AVIC/APICv is inhibited: vCPU 1 waits for vCPU 0's IPI.
expect "ipi-hlt, mainline svm" 0 "verified" "419452 540081" --scenario ipi-hlt --vendor svm
expect "ipi-hlt, mainline vmx" 0 "verified" "505776 627285" --scenario ipi-hlt --vendor vmx
expect "avic-deliver-race (66fa226c131f)" 1 "violation \(lost-interrupt\)" "282324 576366" --bug avic-deliver-race
expect "deactivate-no-event (bca66dbcd28a)" 1 "violation \(lost-interrupt\)" "88476 169491" --bug deactivate-no-event
expect "irr-pending-search (755c2bf87860)" 1 "violation \(lost-interrupt\)" "401743 732684" --bug irr-pending-search
expect "pi-hlt, mainline vmx" 0 "verified" "505776 627285" --scenario pi-hlt
expect "pir-sync-inhibited (37c4dbf337c5)" 1 "violation \(lost-interrupt\)" "137895 263557" --bug pir-sync-inhibited
expect "pir-no-event (7e1901f6c86c)" 1 "violation \(lost-interrupt\)" "414367 646321" --bug pir-no-event
expect "svi, mainline vmx" 0 "verified" "1263388 2032085" --scenario svi
expect "svi-stale (b2849bec936b)" 1 "violation \(lost-apic-write\)" "471298 948459" --bug svi-stale
expect "avic-broadcast, mainline svm" 0 "verified" "568990 680615" --scenario avic-broadcast --vendor svm
expect "avic-broadcast, mainline vmx" 0 "verified" "242559 252553" --scenario avic-broadcast --vendor vmx
expect "avic-kick-fast-index (603ccef42ce9)" 1 "violation \(lost-interrupt\)" "117329 143413" --bug avic-kick-fast-index
expect "isr-cache, mainline svm" 0 "verified" "997611 1631063" --scenario isr-cache --vendor svm
expect "isr-cache, mainline vmx" 0 "verified" "1263388 2032085" --scenario isr-cache --vendor vmx
expect "isr-cache-stale (97a71c444a14)" 1 "violation \(lost-interrupt\)" "992337 8599706" --bug isr-cache-stale
# IRQ windows and ExtINTs: the refcounted IRQWIN inhibit (6563ddadd169) against the one bit before it.
expect "irq-window, mainline svm" 0 "verified" "2220885 3842693" --scenario irq-window --vendor svm
expect "irq-window, mainline vmx" 0 "verified" "560319 731320" --scenario irq-window --vendor vmx
expect "irqwin-no-refcount (6563ddadd169)" 1 "violation \(irq-window-ignored\)" "786991 2050542" --bug irqwin-no-refcount
# 5617dddcfa30: with hyperv set the window is only counted; clearing hyperv folds the count into IRQWIN.
expect "irq-window-lazy, mainline svm" 0 "verified" "294095 466703" --scenario tests/scenarios/irq-window-lazy.scn
expect "irq-window-lazy, mainline vmx" 0 "verified" "228944 360597" --scenario tests/scenarios/irq-window-lazy.scn --vendor vmx
# Preemption of vCPU threads (preempt notifiers: vcpu_put/vcpu_load) where the kernel allows it.
expect "preempt-toggle, mainline svm" 0 "verified" "4807 6151" --scenario preempt-toggle --vendor svm
expect "preempt-toggle, mainline vmx" 0 "verified" "4061 5166" --scenario preempt-toggle --vendor vmx
expect "preempt-hlt, mainline svm" 0 "verified" "4318 4827" --scenario preempt-hlt --vendor svm
expect "preempt-hlt, mainline vmx" 0 "verified" "2715 2852" --scenario preempt-hlt --vendor vmx
expect "update-apicv-preempt (66c768d30e64)" 1 "violation \(assertion\)" "4427 14193" --bug update-apicv-preempt
expect "blocking-preempt (18869f26df1a)" 1 "violation \(assertion\)" "2090 2416" --bug blocking-preempt
# Preemption with migration: the task may come back on its other pCPU.
expect "migrate-hlt, mainline svm" 0 "verified" "31444 35456" --scenario migrate-hlt --vendor svm
expect "migrate-hlt, mainline vmx" 0 "verified" "25457 27187" --scenario migrate-hlt --vendor vmx
expect "blocking-preempt (18869f26df1a) with migration" 1 "violation \(assertion\)" "5797 6813" --bug blocking-preempt --scenario migrate-hlt
"$KVMLAB" check --bug blocking-preempt >"$T/out" 2>&1
if grep -q '^VIOLATION assertion .*WARN_ON(!kvm_vcpu_is_blocking(vcpu))' "$T/out" &&
   grep -q 'kvm_sched_out: vcpu 1 preempted' "$T/out"; then
	ok "blocking-preempt: the WARN in avic_vcpu_put() after a preemption between the hooks"
else nok "blocking-preempt: $(grep '^VIOLATION' "$T/out")"; fi
# --verbose: every primitive operation, with its value and the model's function and line.
"$KVMLAB" check --policy vcpu --vcpus 1 --verbose >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^ *[0-9]* *actor0 *\. lock &kvm->mmu_lock (exclusive)  @ kvm_zap_gfn_range (mmu\.c:[0-9]*)$' "$T/out" &&
   grep -q "\. andnot 1 \[0x[0-9a-f]*\] = 0x2 (vCPU 0's shared fields .*)  @ kvm_check_request (kvm_main\.c:[0-9]*)$" "$T/out" &&
   grep -q '\. load 8 \[0x[0-9a-f]*\] -> 0x2 (apicv_inhibit_reasons)  @ kvm_apicv_activated (x86\.c:[0-9]*)$' "$T/out" &&
   grep -q '^verdict: violation (bad-spte)$' "$T/out"; then
	ok "--verbose: locks, marked accesses with values, the address's class and the model's line"
else nok "--verbose: exit $rc, $(grep -c ' \. ' "$T/out") primitive lines"; fi
# --perfetto: Chrome trace-event JSON, a track per actor, a slice per step, the finding marked.
"$KVMLAB" check --policy vcpu --vcpus 1 --perfetto "$T/p.json" --quiet >/dev/null 2>&1
rc=$?
if [ $rc -eq 1 ] && python3 - "$T/p.json" >"$T/why" 2>&1 <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["traceEvents"]
names = {e["args"]["name"] for e in t if e.get("name") == "thread_name"}
steps = [e for e in t if e.get("ph") == "X"]
findings = [e for e in t if e.get("cat") == "finding"]
assert {"vcpu0", "actor0"} <= names, names
assert steps and all(e["dur"] >= 1 and e["tid"] in (0, 1) for e in steps), steps[:2]
assert findings and findings[0]["name"] == "bad-spte" and findings[0]["cname"] == "terrible", findings
assert all(e["ts"] >= 0 for e in t if e.get("ph") in ("X", "i"))
EOF
then ok "--perfetto: tracks for vcpu0 and actor0, a slice per step, the finding (bad-spte) marked"
else nok "--perfetto: exit $rc, $(tail -2 "$T/why")"; fi
# --lanes: a column per actor that has events, every event's whole text.
"$KVMLAB" check --policy vcpu --vcpus 1 --lanes >"$T/out" 2>&1
if grep -q '^   step | vcpu0 *| actor0 *$' "$T/out" && grep -q 'OUTSIDE_GUEST_MODE' "$T/out" &&
   grep -q 'kvm_exit: vcpu 0 reason NPF gpa 0xfee00080 info 0x2' "$T/out"; then
	ok "--lanes: one column per acting actor, arguments and names kept"
else nok "--lanes: $(grep -c '|' "$T/out") lane rows"; fi
# Lost interrupts at the final state: vCPU 1 has no HLT to expose them.
expect "ipi-late, mainline svm" 0 "verified" "163583 208143" --scenario "$(dirname "$0")/scenarios/ipi-late.scn" --vendor svm
expect "ipi-late, mainline vmx" 0 "verified" "269617 332565" --scenario "$(dirname "$0")/scenarios/ipi-late.scn" --vendor vmx
"$KVMLAB" check --scenario ipi --bug avic-deliver-race --first >"$T/out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^VIOLATION lost-interrupt (vcpu1, final state): at the end of the run vcpu 1 has vector 0x40 pending in IRR with AVIC off and no KVM_REQ_EVENT' "$T/out"; then
	ok "avic-deliver-race on ipi (no HLT), --first: the interrupt is lost at the final state"
else nok "avic-deliver-race on ipi --first: exit $rc, $(grep '^VIOLATION' "$T/out")"; fi
# Final-state expectations (the expect section): a wrong one is a counterexample that replays.
expect "expect-wrong: a wrong expectation fails at the final state (svm)" 1 "violation \(expect-failed\)" "107 124" --scenario "$(dirname "$0")/scenarios/expect-wrong.scn" --vendor svm
expect "expect-wrong: ... and on vmx" 1 "violation \(expect-failed\)" "212 231" --scenario "$(dirname "$0")/scenarios/expect-wrong.scn" --vendor vmx
"$KVMLAB" check --scenario "$(dirname "$0")/scenarios/expect-wrong.scn" --trace "$T/exp.sched" >"$T/out" 2>&1
"$KVMLAB" replay "$T/exp.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "^VIOLATION expect-failed (final state): expect 'irqs 1 2': vCPU 1's guest took 1 interrupt" "$T/out" &&
   grep -q '^reproduced: expect-failed at step [0-9]*, as the schedule records' "$T/out"; then
	ok "replay checks the expectations at the end of the schedule"
else nok "replay of expect-wrong: exit $rc, $(grep '^VIOLATION\|^reproduced' "$T/out")"; fi
# Two actors kick one vCPU and each waits for its own acknowledgement (model regression).
expect "two senders, mainline" 0 "verified" "54709 96264" --scenario "$(dirname "$0")/scenarios/two-senders.scn"
# Witnesses of the seed's case analysis (seed patch, where all are reachable).
for w in case-1 case-2a case-2b stale-snapshot; do
	expect "witness $w" 0 "witness found" "" --policy vcpu --find $w
done
# Schedule files.
"$KVMLAB" check --vcpus 1 --policy vcpu --first --trace "$T/s.sched" >/dev/null 2>&1
"$KVMLAB" replay "$T/s.sched" >"$T/replay" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^VIOLATION bad-spte' "$T/replay" && grep -q '^reproduced: bad-spte' "$T/replay"; then ok "replay reproduces bad-spte (exit 0)"; else nok "replay: exit $rc"; fi
# The shortest counterexample is trimmed (vCPU 0's run, which the search scheduled
# first, is not needed for vCPU 1's finding: vCPU 0 never enters the guest) and
# what is left replays.
"$KVMLAB" check --policy vcpu --trace "$T/t.sched" --json "$T/t.json" >"$T/out" 2>/dev/null
"$KVMLAB" replay "$T/t.sched" >"$T/replay" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^counterexample, [0-9]* steps, trimmed from the search' "$T/out" &&
   grep -q '"untrimmed_steps": [0-9]' "$T/t.json" && ! grep -q '^ *[0-9]* *vcpu0 .*kvm_entry' "$T/out"; then
	ok "the seed patch's counterexample is trimmed to vCPU 1 and the actor, and replays"
else nok "trimmed counterexample: replay exit $rc"; fi
# A version 1 file (before movers) replays at the fine granularity it was taken with.
"$KVMLAB" check --vcpus 1 --policy vcpu --first --fine --trace "$T/f.sched" >/dev/null 2>&1
sed -e 's/^kvmlab-schedule 2$/kvmlab-schedule 1/' -e '/^granularity /d' "$T/f.sched" >"$T/v1.sched"
"$KVMLAB" replay "$T/v1.sched" >"$T/replay" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^VIOLATION bad-spte' "$T/replay" && grep -q '^granularity fine' "$T/f.sched"; then
	ok "a version 1 schedule replays at fine granularity"
else
	nok "version 1 replay: exit $rc"
fi
printf 'kvmlab-schedule 1\nsteps x\n' >"$T/bad.sched"
"$KVMLAB" replay "$T/bad.sched" >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'bad.sched:2:' "$T/err"; then ok "malformed schedule: exit 2 with file:line"; else nok "malformed schedule: exit $rc"; fi
sed 's/^\([0-9]*\) 0$/9 0/' "$T/s.sched" >"$T/wrong.sched"
"$KVMLAB" replay "$T/wrong.sched" >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "schedule that does not match: exit 2"; else nok "mismatched schedule: exit $rc"; fi
"$KVMLAB" check --find nosuch >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "unknown witness: exit 2"; else nok "unknown witness: exit $rc"; fi
"$KVMLAB" check --store-buffer 3 >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q 'store-buffer is for --memory-model tso' "$T/err"; then ok "--store-buffer without tso: exit 2"; else nok "--store-buffer without tso: exit $rc"; fi
"$KVMLAB" check --memory-model pso >/dev/null 2>"$T/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "'pso' is not sc or tso" "$T/err"; then ok "--memory-model pso: exit 2"; else nok "--memory-model pso: exit $rc"; fi
# A TSO counterexample replays: the schedule records the memory model and the buffers' size.
if [ $TSO = no ]; then
	skip "a tso counterexample replays: --memory-model tso needs the instrumented build"
else
"$KVMLAB" check --bug halt-no-mb --quiet --trace "$T/tso.sched" >/dev/null 2>&1
"$KVMLAB" replay "$T/tso.sched" >"$T/out" 2>&1
rc=$?
if grep -q "^memory-model tso$" "$T/tso.sched" && grep -q "^store-buffer 3$" "$T/tso.sched" && [ $rc -eq 0 ] &&
   grep -q '^reproduced: lost-interrupt' "$T/out" && grep -q 'store buffer -> memory' "$T/out"; then
	ok "a tso counterexample replays, buffered stores and flushes in its timeline"
else
	nok "tso replay: exit $rc"; tail -5 "$T/out" | sed 's/^/# /'
fi
fi
"$KVMLAB" check --max-states 10 --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: --max-states 10' "$T/out"; then ok "bounded run: exit 3, says what it did not cover"; else nok "bounded run: exit $rc"; fi
# The memory bound stops the search before the visited table would double past it.
"$KVMLAB" check --memory-limit 10 --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep -q '^INCOMPLETE: --memory-limit 10 MiB reached' "$T/out"; then ok "memory bound: exit 3 before the table outgrows it"; else nok "memory bound: exit $rc"; fi
# A verified run states the hash-compaction bound (n(n+1)/2^65: 9448 states -> 2.4e-12).
"$KVMLAB" check --vcpus 1 --policy vm >"$T/out" 2>&1
if grep -q '^states are kept as 64-bit fingerprints: the chance that a collision hid one is at most [0-9.]*e-1[0-9]$' "$T/out"; then
	ok "verified run states the collision bound"
else
	nok "collision bound: $(grep fingerprints "$T/out")"
fi
