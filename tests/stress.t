#!/bin/sh
# Stress smoke runs: every vendor x policy on the seed scenario for a fixed
# number of iterations (mainline must find nothing), plus the CLI's input
# errors.  $KVMLAB is the binary under test.
. "$(dirname "$0")/tap.sh"
check() { if [ "$1" -eq "$2" ]; then ok "$3"; else nok "$3 (exit $1, want $2)"; fi; }
echo "1..51"
for vendor in svm vmx; do
	"$KVMLAB" stress --scenario seed --policy vm --vendor $vendor --iterations 2000 --quiet >/tmp/kvmlab-stress.$$ 2>&1
	check $? 0 "mainline ($vendor) stress finds nothing"
	grep -q 'verdict: no finding' /tmp/kvmlab-stress.$$ && ok "mainline ($vendor) verdict line" || nok "mainline ($vendor) verdict line"
done
"$KVMLAB" stress --scenario seed --policy vcpu --vendor vmx --iterations 2000 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "seed patch on vmx loses nothing under stress"
"$KVMLAB" stress --scenario mixed --iterations 500 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "mixed scenario, mainline, no finding"
# Interrupt delivery, doorbells, AVIC IPIs, blocking and preemption on real threads.
for scn in ipi-hlt pi-hlt isr-cache svi avic-broadcast preempt-hlt migrate-hlt preempt-toggle; do
	for vendor in svm vmx; do
		"$KVMLAB" stress --scenario $scn --vendor $vendor --iterations 300 --quiet >/tmp/kvmlab-stress.$$ 2>&1
		check $? 0 "$scn ($vendor), mainline, no finding"
	done
done
# The TLB, per-vCPU APICv, an inhibit a vCPU raises, x2APIC mode, CR8 and V_TPR.
for scn in zap-tlb apic-disable apic-id apic-relocate x2apic cr8-intercept tpr-sync; do
	for vendor in svm vmx; do
		"$KVMLAB" stress --scenario $scn --vendor $vendor --iterations 300 --quiet >/tmp/kvmlab-stress.$$ 2>&1
		check $? 0 "$scn ($vendor), mainline, no finding"
	done
done
"$KVMLAB" stress --scenario apic-id --iterations 1 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "apic-id's expectations hold after one iteration (the IPI to the old ID is dropped)"
"$KVMLAB" stress --scenario apic-relocate --iterations 1 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "apic-relocate's expectations hold after one iteration (both TPRs, apic_base_modified set)"
"$KVMLAB" stress --bug apic-base-no-inhibit --iterations 50 --quiet >/tmp/kvmlab-stress.$$ 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'wrong-apic-read' /tmp/kvmlab-stress.$$; then ok "apic-base-no-inhibit (3743c2f02517): stress finds wrong-apic-read"; else nok "apic-base-no-inhibit: exit $rc"; fi
"$KVMLAB" stress --scenario cr8-intercept --iterations 1 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "cr8-intercept's expectations hold after one iteration (vector 0x40 taken once CR8 drops)"
"$KVMLAB" stress --bug cr8-intercept-stuck --iterations 5000 --quiet >/tmp/kvmlab-stress.$$ 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'cr8-intercepted' /tmp/kvmlab-stress.$$; then ok "cr8-intercept-stuck (87d0f901a9bd): stress finds cr8-intercepted"; else nok "cr8-intercept-stuck: exit $rc"; fi
# Expectations: checked after one iteration, not after several.
"$KVMLAB" stress --scenario ipi-hlt --iterations 1 --quiet >/tmp/kvmlab-stress.$$ 2>&1
check $? 0 "ipi-hlt's expectations hold after one iteration"
expect_wrong() {	# name, iterations, want-exit, want-line
	"$KVMLAB" stress --scenario tests/scenarios/expect-wrong.scn --iterations "$2" >/tmp/kvmlab-stress.$$ 2>&1
	rc=$?
	if [ $rc -eq "$3" ] && grep -qF "$4" /tmp/kvmlab-stress.$$; then ok "$1"; else nok "$1: exit $rc"; fi
}
expect_wrong "a wrong expectation is a finding after one iteration" 1 1 \
	"FINDING expect-failed (vcpu1, final state): expect 'irqs 1 2': vCPU 1's guest took 1 interrupt"
expect_wrong "with several iterations expectations are not checked, and stress says so" 5 0 \
	"expectations: not checked"
"$KVMLAB" stress --scenario preempt-hlt --bug blocking-preempt --seconds 10 --quiet >/tmp/kvmlab-stress.$$ 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'FINDING assertion .*avic_vcpu_put\|FINDING assertion .*WARN_ON' /tmp/kvmlab-stress.$$; then
	ok "blocking-preempt (18869f26df1a): stress finds the WARN"
else
	nok "blocking-preempt under stress: exit $rc"
fi
"$KVMLAB" stress --scenario nosuch >/dev/null 2>/tmp/kvmlab-stress.$$
check $? 2 "unknown scenario is a usage error"
"$KVMLAB" stress --seconds 0 >/dev/null 2>&1
check $? 2 "--seconds 0 is rejected"
"$KVMLAB" stress --policy maybe >/dev/null 2>&1
check $? 2 "bad --policy is rejected"
"$KVMLAB" stress --bogus >/dev/null 2>&1
check $? 2 "unknown flag is rejected"
rm -f /tmp/kvmlab-stress.$$
"$KVMLAB" stress --scenario tests/scenarios/bad/bad-number.scn >/dev/null 2>/tmp/kvmlab-stress.$$
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l </tmp/kvmlab-stress.$$)" -eq 1 ] && grep -q '^tests/scenarios/bad/bad-number.scn:1:7: ' /tmp/kvmlab-stress.$$; then
	ok "malformed scenario file: one file:line:col line, exit 2"
else
	nok "malformed scenario file: exit $rc"
fi
"$KVMLAB" stress --scenario seed --iterations 50 --quiet --json /tmp/kvmlab-stress.$$.json >/dev/null 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '"verdict": "no finding"' /tmp/kvmlab-stress.$$.json && ! ls /tmp/kvmlab-stress.$$.json.tmp.* >/dev/null 2>&1; then
	ok "--json report written atomically"
else
	nok "--json report: exit $rc"
fi
rm -f /tmp/kvmlab-stress.$$ /tmp/kvmlab-stress.$$.json
