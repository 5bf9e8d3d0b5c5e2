#!/bin/sh
# The README's main job on the built-in default scenario (seed: 2 vCPUs,
# 3 inhibit changes, 2 APIC accesses each): the checker on mainline and on
# the seed patch side by side, then a stress run on real threads.  Exits
# non-zero if a verdict is not the expected one.
K=${KVMLAB:-./kvmlab}
status=0
echo "=== mainline (policy vm), SVM, default scenario: expect verified"
"$K" check --scenario seed --policy vm --vendor svm || status=1
echo
echo "=== seed patch (policy vcpu), SVM, default scenario: expect a counterexample"
"$K" check --scenario seed --policy vcpu --vendor svm
[ $? -eq 1 ] || status=1
echo
echo "=== stress: mainline on real threads, 2 vCPUs, 5 s"
"$K" stress --scenario seed --policy vm --vendor svm --seconds 5 || status=1
exit $status
