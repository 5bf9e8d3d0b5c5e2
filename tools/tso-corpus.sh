#!/bin/sh
# The verdict corpus under x86-TSO with store buffers of 2 and 3 entries
# (docs/memory-model.md, "The store buffer's size"): one line per run,
# "label | arguments | N=n | verdict finding states seconds".  About 10
# minutes on one core.  $KVMLAB: the binary (default ./kvmlab).
cd "$(dirname "$0")/.."
K=$(realpath "${KVMLAB:-./kvmlab}")
run() {	# label args...
	label=$1; shift
	for n in 2 3; do
		r=$($K check --quiet --progress never --time-limit 900 --memory-model tso --store-buffer $n --json - "$@" 2>/dev/null |
			python3 -c "import json,sys;d=json.load(sys.stdin);print(d['verdict'], (d.get('finding') or {}).get('kind', '-'), d['states'], '%.1f' % d['seconds'])" 2>/dev/null)
		printf '%s | %s | N=%s | %s\n' "$label" "$*" "$n" "${r:-error}"
	done
}
while read -r args; do
	[ -n "$args" ] && eval "run mainline $args"
done <<'LIST'
--vcpus 1 --policy vm --vendor svm
--vcpus 1 --policy vm --vendor vmx
--vcpus 1 --policy vcpu --vendor vmx
--policy vm --toggles 0
--scenario zap-yield
--scenario zap-tlb --vendor svm
--scenario zap-tlb --vendor vmx
--scenario apic-disable --vendor svm
--scenario apic-disable --vendor vmx
--scenario apic-id --vendor svm
--scenario apic-id --vendor vmx
--scenario x2apic --vendor svm
--scenario x2apic --vendor vmx
--scenario cr8-intercept
--scenario cr8-intercept --vendor vmx
--scenario tpr-sync
--scenario tpr-sync --vendor vmx
--scenario tests/scenarios/cr8-x2apic.scn
--scenario tests/scenarios/cr8-x2apic.scn --vendor vmx
--scenario reenable
--scenario create-race
--scenario create-toggle --vendor svm
--scenario create-toggle --vendor vmx
--scenario halt-ipi
--scenario preempt-toggle --vendor svm
--scenario preempt-toggle --vendor vmx
--scenario preempt-hlt --vendor svm
--scenario preempt-hlt --vendor vmx
--scenario isr-cache --vendor svm
--scenario isr-cache --vendor vmx
--scenario svi
--scenario ipi-hlt --vendor svm
--scenario ipi-hlt --vendor vmx
--scenario pi-hlt
--scenario migrate-hlt --vendor svm
--scenario migrate-hlt --vendor vmx
--scenario avic-broadcast --vendor svm
--scenario avic-broadcast --vendor vmx
--scenario tests/scenarios/two-senders.scn
LIST
for b in $($K list | sed -n '/^bugs/,/^$/s/^  \([a-z][^ ]*\) .*/\1/p'); do
	run "bug $b" --bug $b
done
