#!/bin/sh
# Regenerates the committed seed corpora (docs/fuzzing.md):
#   fuzz/corpus/scenario/  tests/scenarios/*.scn, and tests/scenarios/bad/*.scn as bad_*.scn;
#   fuzz/corpus/replay/    schedule files written by `kvmlab check --first --trace`
#                          (and --find) on a few scenarios, plus one version 1 file.
# Run from the repository root after `make`; KVMLAB overrides the binary.
# Rerun when the scenario or schedule file format changes.
set -e
K=${KVMLAB:-./kvmlab}
S=fuzz/corpus/scenario
R=fuzz/corpus/replay
rm -rf "$S" "$R"
mkdir -p "$S" "$R"
cp tests/scenarios/*.scn "$S"/
for f in tests/scenarios/bad/*.scn; do
	cp "$f" "$S/bad_$(basename "$f")"
done
trace() {	# name, check arguments...
	name=$1
	shift
	"$K" check --quiet --first --trace "$R/$name.sched" "$@" >/dev/null || [ -s "$R/$name.sched" ]
}
trace seed-vcpu --policy vcpu
trace seed-vcpu-fine --policy vcpu --vcpus 1 --fine
trace ipi --scenario tests/scenarios/ipi.scn --policy vcpu
trace two-senders --scenario tests/scenarios/two-senders.scn --policy vcpu
trace zap-yield --bug zap-yield-range-units
trace create-race --bug create-no-request
trace witness-case-2b --policy vcpu --vcpus 1 --find case-2b
trace apic-relocate --bug apic-base-no-inhibit
# Version 1 (before movers): the fine schedule without its granularity line.
sed -e 's/^kvmlab-schedule 2$/kvmlab-schedule 1/' -e '/^granularity /d' \
	"$R/seed-vcpu-fine.sched" >"$R/seed-vcpu-v1.sched"
chmod 644 "$R"/*.sched
echo "seed-corpus: $(ls "$S" | wc -l) scenario inputs, $(ls "$R" | wc -l) schedules"
