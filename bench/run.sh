#!/bin/sh
# Checker benchmark: for each configuration, wall time, states, transitions,
# transitions per second, bytes per stored state and peak memory; for the
# default 2-vCPU question, the same run with each reduction switched off in
# turn (what each technique gives, measured in this run).  Figures are
# measured here, never hard-coded.  The whole script takes about 12 minutes;
# runs that cannot finish (3 and 4 vCPUs with inhibit changes) are bounded by
# BENCH_TIME_LIMIT (default 60 s; 300 s, the target, for 4 vCPUs) and
# reported as incomplete.  It ends with the issue's targets against this run.
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
	[ -n "$TAG" ] && cp "$T/r.json" "$T/$TAG.json" && echo "$end $start" >"$T/$TAG.wall"
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
trow() {	# tag (the row's JSON is kept for the targets), label, args...
	TAG=$1
	shift
	row "$@"
	TAG=
}
printf '%-44s %-11s %9s %10s %9s %8s %8s %7s\n' configuration verdict states transitions trans/s B/state peakMiB wall_s
trow cex "seed patch svm, 2 vCPUs, first cex" --policy vcpu --first
row "seed patch svm, 2 vCPUs, shortened cex" --policy vcpu
row "seed patch svm, 1 vCPU, first cex" --vcpus 1 --policy vcpu --first
row "mainline svm, 1 vCPU (verify)" --vcpus 1 --policy vm
row "seed patch vmx, 1 vCPU (verify)" --vcpus 1 --policy vcpu --vendor vmx
trow two "mainline svm, 2 vCPUs (verify)" --policy vm --time-limit 600
row "  same, --no-persistent (sleep sets only)" --policy vm --no-persistent --time-limit 600
row "  same, --no-por (no sleep or persistent sets)" --policy vm --no-por
row "  same, --fine (no lock movers)" --policy vm --fine --time-limit 600
row "  same, --no-hygiene (dead stack kept)" --policy vm --no-hygiene
row "  same, --no-tracking (compare with a copy)" --policy vm --no-tracking --time-limit 600
# The distributed search (kvmlab-mpi next to kvmlab), when built and mpiexec exists.
KMPI=$(dirname "$K")/kvmlab-mpi
if [ -x "$KMPI" ] && command -v mpiexec >/dev/null 2>&1; then
	RUN="$KMPI"
	row "  same, kvmlab-mpi, one process" --policy vm --time-limit 600
	RUN="mpiexec -n 2 $KMPI"
	row "  same, kvmlab-mpi, 2 MPI processes" --policy vm --time-limit 600
	RUN=
else
	echo "(no kvmlab-mpi or mpiexec: distributed rows skipped)"
fi
row "mainline svm, 2 vCPUs, 1 toggle 1 access" --policy vm --toggles 1 --accesses 1
row "mainline svm, 3 vCPUs, no toggle (verify)" --policy vm --vcpus 3 --toggles 0
row "mainline svm, 3 vCPUs, 1 toggle 1 access" --policy vm --vcpus 3 --toggles 1 --accesses 1
trow three "mainline svm, 3 vCPUs (${LIMIT}s cap)" --policy vm --vcpus 3
# 4 vCPUs run up to their target, so the bench can say whether it is met.
trow four "mainline svm, 4 vCPUs (300s cap)" --policy vm --vcpus 4 --time-limit 300
# The issue's targets (one core), against this run's rows: wall time over
# the target (below 1 means met).  A capped row that did not finish only
# gives a lower bound.
echo
python3 - "$T" "$LIMIT" <<'PY'
import json, os, sys
d, limit = sys.argv[1], float(sys.argv[2])
targets = [("cex", "seed patch's first counterexample", 0.1, None),
           ("two", "mainline, 2 vCPUs, verified", 0.5, None),
           ("three", "mainline, 3 vCPUs, verified", 10.0, 1024),
           ("four", "mainline, 4 vCPUs, verified", 300.0, None)]
print("%-36s %9s %12s %9s  %s" % ("target", "target_s", "measured_s", "ratio", "verdict"))
for tag, what, secs, mib in targets:
    p = os.path.join(d, tag + ".json")
    if not os.path.exists(p):
        continue
    r = json.load(open(p))
    end, start = map(float, open(os.path.join(d, tag + ".wall")).read().split())
    wall = end - start
    done = r["verdict"] in ("verified", "violation")
    if done:
        ok = wall < secs and (mib is None or r["peak_bytes"] / 1048576.0 < mib)
        print("%-36s %9.1f %12.2f %9.2f  %s" % (what, secs, wall, wall / secs, "met" if ok else "not met"))
    elif wall >= secs:
        print("%-36s %9.1f %12s %9s  not met (incomplete after %.0f s: %d states)" %
              (what, secs, ">%.0f" % wall, ">%.1f" % (wall / secs), wall, r["states"]))
    else:
        print("%-36s %9.1f %12s %9s  not decided (stopped at %.0f s, below the target)" %
              (what, secs, ">%.0f" % wall, "-", wall))
PY
