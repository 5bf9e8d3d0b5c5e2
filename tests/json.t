#!/bin/sh
# Every kind of JSON report check and stress write validates against its
# schema (schemas/kvmlab.check-1.schema.json, kvmlab.stress-1.schema.json;
# docs/json.md): verified, violation, witness found, no such execution,
# incomplete, --jobs 2, a preemption bound, a swarm (with and without a
# violation), an expectation that fails, and
# stress with and without a finding.  Needs python3's jsonschema
# (tools/install-deps.sh installs python3-jsonschema).  $KVMLAB is the binary
# under test.
. "$(dirname "$0")/tap.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=14
echo "1..$N"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	skip_all "the checker is not available under ThreadSanitizer"
fi
if ! python3 -c 'import jsonschema' 2>/dev/null; then
	skip_all "python3's jsonschema is missing (tools/install-deps.sh installs python3-jsonschema)"
fi
T=$(mktemp -d /tmp/kvmlab-json.XXXXXX)
trap 'rm -rf "$T"' EXIT

validate() {	# name, schema, report
	if python3 - "$ROOT/schemas/$2" "$3" >"$T/why" 2>&1 <<'EOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
report = json.load(open(sys.argv[2]))
errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(report), key=str)
for e in errors[:3]:
    print("/".join(str(p) for p in e.absolute_path) or "(top)", ":", e.message)
sys.exit(1 if errors else 0)
EOF
	then ok "$1"
	else nok "$1: $(head -3 "$T/why" | tr '\n' ' ')"; fi
}
check_report() {	# name, args...
	name=$1; shift
	"$KVMLAB" check --quiet --progress never --json "$T/r.json" "$@" >/dev/null 2>&1
	validate "check $name" kvmlab.check-1.schema.json "$T/r.json"
}
check_report "verified" --vcpus 1
check_report "violation (counterexample, trimmed)" --vcpus 1 --policy vcpu
check_report "witness found" --vcpus 1 --policy vcpu --find case-2b
check_report "no such execution" --vcpus 1 --policy vm --find case-1
check_report "incomplete (--max-states)" --max-states 100
check_report "--jobs 2 (the parallel object)" --vcpus 1 --jobs 2
check_report "--preemptions" --vcpus 3 --policy vcpu --preemptions 1
check_report "--swarm, a violation (the swarm object)" --vcpus 3 --policy vcpu --swarm 2 --jobs 2
check_report "--swarm, none found (incomplete)" --vcpus 1 --swarm 2 --swarm-bits 16
check_report "expect-failed at the final state" --scenario "$ROOT/tests/scenarios/expect-wrong.scn"
printf 'vcpus 2\napic-enabled yes\nvcpu 1\n\thlt\n' >"$T/dl.scn"	# nothing will wake vCPU 1
check_report "a deadlock (stuck state)" --scenario "$T/dl.scn"
stress_report() {	# name, args...
	name=$1; shift
	"$KVMLAB" stress --quiet --json "$T/s.json" "$@" >/dev/null 2>&1
	validate "stress $name" kvmlab.stress-1.schema.json "$T/s.json"
}
stress_report "no finding" --iterations 50
stress_report "a finding at the final state" --iterations 1 --scenario "$ROOT/tests/scenarios/expect-wrong.scn"
# A report that breaks the schema is rejected (the validation can fail).
sed 's/"schema": "kvmlab.check\/1"/"schema": "kvmlab.check\/2"/' "$T/r.json" >"$T/bad.json"
if python3 - "$ROOT/schemas/kvmlab.check-1.schema.json" "$T/bad.json" >/dev/null 2>&1 <<'EOF'
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])),
                    cls=jsonschema.Draft202012Validator)
EOF
then nok "a report with another schema version still validated"
else ok "a report with another schema version does not validate"; fi
