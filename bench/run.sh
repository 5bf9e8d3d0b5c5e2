#!/bin/sh
# Checker benchmark: for each configuration, wall time, states, transitions,
# transitions per second, bytes per stored state and peak memory; for the
# default 2-vCPU question, the same run with each reduction switched off in
# turn (what each technique gives, measured in this run).  Figures are
# measured here, never hard-coded.  The whole script takes about 6 minutes;
# runs that cannot finish (3 and 4 vCPUs with inhibit changes) are bounded by
# BENCH_TIME_LIMIT (default 60 s) and reported as incomplete.
K=${KVMLAB:-./kvmlab}
LIMIT=${BENCH_TIME_LIMIT:-60}
T=$(mktemp -d /tmp/kvmlab-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
row() {	# label, args...
	label=$1
	shift
	start=$(date +%s.%N)
	${RUN:-$K} check --quiet --time-limit "$LIMIT" --json "$T/r.json" "$@" >/dev/null 2>&1
	end=$(date +%s.%N)
	python3 - "$T/r.json" "$label" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
wall = float(sys.argv[4]) - float(sys.argv[3])
st, tr = r["states"], r["transitions"]
print("%-44s %-11s %9d %10d %9.0f %8.1f %8.1f %7.2f" % (sys.argv[2], r["verdict"], st, tr,
      tr / r["seconds"] if r["seconds"] else 0, r["peak_bytes"] / max(st, 1),
      r["peak_bytes"] / 1048576.0, wall))
PY
}
printf '%-44s %-11s %9s %10s %9s %8s %8s %7s\n' configuration verdict states transitions trans/s B/state peakMiB wall_s
row "seed patch svm, 2 vCPUs, first cex" --policy vcpu --first
row "seed patch svm, 2 vCPUs, shortened cex" --policy vcpu
row "seed patch svm, 1 vCPU, first cex" --vcpus 1 --policy vcpu --first
row "mainline svm, 1 vCPU (verify)" --vcpus 1 --policy vm
row "seed patch vmx, 1 vCPU (verify)" --vcpus 1 --policy vcpu --vendor vmx
row "mainline svm, 2 vCPUs (verify)" --policy vm --time-limit 600
row "  same, --no-persistent (sleep sets only)" --policy vm --no-persistent --time-limit 600
row "  same, --no-por (no sleep or persistent sets)" --policy vm --no-por
row "  same, --fine (no lock movers)" --policy vm --fine --time-limit 600
row "  same, --no-hygiene (dead stack kept)" --policy vm --no-hygiene
row "  same, --no-tracking (memcmp every chunk)" --policy vm --no-tracking --time-limit 600
# The distributed search (kvmlab-mpi next to kvmlab), when built and mpiexec exists.
KMPI=$(dirname "$K")/kvmlab-mpi
if [ -x "$KMPI" ] && command -v mpiexec >/dev/null 2>&1; then
	RUN="$KMPI" row "  same, kvmlab-mpi, one process" --policy vm --time-limit 600
	RUN="mpiexec -n 2 $KMPI" row "  same, kvmlab-mpi, 2 MPI processes" --policy vm --time-limit 600
else
	echo "(no kvmlab-mpi or mpiexec: distributed rows skipped)"
fi
row "mainline svm, 2 vCPUs, 1 toggle 1 access" --policy vm --toggles 1 --accesses 1
row "mainline svm, 3 vCPUs, no toggle (verify)" --policy vm --vcpus 3 --toggles 0
row "mainline svm, 3 vCPUs, 1 toggle 1 access" --policy vm --vcpus 3 --toggles 1 --accesses 1
row "mainline svm, 3 vCPUs (${LIMIT}s cap)" --policy vm --vcpus 3
row "mainline svm, 4 vCPUs (${LIMIT}s cap)" --policy vm --vcpus 4
