#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
kvmlab's checker benchmark (make bench): every figure is measured in this run,
never copied.  Sections:

  1. what each technique gives: the default question (2 vCPUs) and 3 vCPUs with
     one inhibit change and one access, with each reduction switched off in
     turn: states, transitions, CPU seconds, peak memory;
  2. instructions per transition (callgrind, when valgrind is installed) on a
     small configuration, with and without each technique;
  3. the checker against the exact single-actor persistent-set oracle
     (build/.../por-oracle) on every configuration it can enumerate;
  4. parallel runs: check --jobs 1/2 (when this kvmlab has --jobs) and
     kvmlab-mpi with 1 and 2 processes (when built and mpiexec exists);
  5. the targets of issue #10 against this run, as ratios (below 1 = met);
  6. what the simulated CPUs' TLB costs (issue #12): the same questions with the
     TLB and with --no-tlb, states and CPU time as ratios;
  7. what x86-TSO costs (issue #13): --memory-model tso against sc, states and
     CPU time as ratios;
  8. finding bugs in bigger configurations: the first counterexample of one
     depth-first search (--first) against --preemptions and --swarm (with
     --jobs 1 and 2), on the seed patch with 4 vCPUs and two bugs on the
     3-vCPU, 2-actor 'mixed' scenario.

Environment: KVMLAB (the binary), BENCH_TIME_LIMIT (seconds per capped row,
default 300), BENCH_QUICK=1 (skip the 3-vCPU default row and callgrind).
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

K = os.environ.get("KVMLAB", "./kvmlab")
KDIR = os.path.dirname(K) or "."
LIMIT = int(os.environ.get("BENCH_TIME_LIMIT", "300"))
QUICK = os.environ.get("BENCH_QUICK") == "1"
TMP = tempfile.mkdtemp(prefix="kvmlab-bench.")


def run(args, cmd=None, limit=LIMIT):
    """One check run: (json result, wall s, cpu s of the child processes)."""
    out = os.path.join(TMP, "r.json")
    if os.path.exists(out):
        os.unlink(out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run((cmd or [K]) + ["check", "--quiet", "--progress", "never", "--time-limit", str(limit),
                                   "--json", out] + args,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        r = json.load(open(out))
    except (OSError, ValueError):
        r = {"verdict": "error", "states": 0, "transitions": 0, "peak_bytes": 0}
    return r, wall, cpu


def table(title, rows):
    print("\n" + title)
    print("%-46s %-11s %10s %11s %8s %8s %8s" %
          ("configuration", "verdict", "states", "transitions", "cpu_s", "wall_s", "peakMiB"))
    res = {}
    for label, args in rows:
        r, wall, cpu = run(args)
        res[label] = (r, wall, cpu)
        print("%-46s %-11s %10d %11d %8.2f %8.2f %8.1f" %
              (label, r["verdict"], r["states"], r["transitions"], cpu, wall, r["peak_bytes"] / 1048576.0))
        sys.stdout.flush()
    return res


TECHNIQUES = [
    ("every reduction (the default)", []),
    ("  --no-merge (no invisible-step merging)", ["--no-merge"]),
    ("  --no-persistent (no persistent sets)", ["--no-persistent"]),
    ("  --no-persistent --no-merge (sleep sets)", ["--no-persistent", "--no-merge"]),
    ("  --no-por (none of the three)", ["--no-por"]),
    ("  --fine (no lock movers, no merging)", ["--fine"]),
    ("  --no-hygiene (dead stack kept)", ["--no-hygiene"]),
    ("  --no-tracking (compare with a copy)", ["--no-tracking"]),
    ("  --no-races (no race detection)", ["--no-races"]),
]


def techniques(title, base):
    return table(title, [(l, base + a) for l, a in TECHNIQUES])


def callgrind(args):
    """Instructions per transition of 'kvmlab check args' under callgrind."""
    out = os.path.join(TMP, "cg.out")
    js = os.path.join(TMP, "cg.json")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, K, "check",
                        "--quiet", "--progress", "never", "--json", js] + args,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ir = None
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            ir = int(line.split(":")[1].strip())
    tr = json.load(open(js))["transitions"]
    return ir, tr


def oracle(args):
    por = os.path.join(KDIR, "por-oracle")
    p = subprocess.run([por, "--top", "0"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("summary: "):
            w = line.split()
            d = dict(zip(w[1::2], w[2::2]))
            return d
    return None


TLB_ROWS = [
    ("the default question", []),
    ("ipi-hlt, svm", ["--scenario", "ipi-hlt"]),
    ("isr-cache, vmx", ["--scenario", "isr-cache", "--vendor", "vmx"]),
    ("apic-disable, svm", ["--scenario", "apic-disable"]),
]


def cost(title, rows, with_args, without_args, with_name, without_name):
    """Each row run two ways: states, CPU seconds, and the ratios with / without."""
    print(title)
    print("%-34s %-9s %10s %10s %8s %8s %7s %7s" %
          ("configuration", "verdict", with_name, without_name, with_name + "_s", without_name + "_s",
           "states", "cpu"))
    for label, args in rows:
        r, _, cpu = run(args + with_args)
        r0, _, cpu0 = run(args + without_args)
        print("%-34s %-9s %10d %10d %8.2f %8.2f %7.2f %7.2f" %
              (label, r["verdict"], r["states"], r0["states"], cpu, cpu0,
               r["states"] / max(r0["states"], 1), cpu / max(cpu0, 1e-9)))
        sys.stdout.flush()


def tlb():
    cost("\n6. the TLB's cost (issue #12): with it / --no-tlb, in this run", TLB_ROWS,
         [], ["--no-tlb"], "tlb", "no-tlb")


TSO_ROWS = [
    ("the default question (%d s cap)" % LIMIT, []),
    ("2 vCPUs, 1 toggle, 1 access", ["--toggles", "1", "--accesses", "1"]),
    ("halt-ipi", ["--scenario", "halt-ipi"]),
    ("cr8-intercept", ["--scenario", "cr8-intercept"]),
    ("apic-id", ["--scenario", "apic-id"]),
]


def tso():
    cost("\n7. x86-TSO's cost (issue #13): --memory-model tso / sc, every reduction on, in this run",
         TSO_ROWS, ["--memory-model", "tso"], [], "tso", "sc")


def bounded():
    print("\n8. finding bugs: one depth-first search (--first) against the bounded searches")
    rows = []
    for what, base in [("seed patch, 4 vCPUs", ["--policy", "vcpu", "--vcpus", "4"]),
                       ("zap-no-invalidate on mixed", ["--scenario", "mixed", "--bug", "zap-no-invalidate"]),
                       ("enter-guest-no-mb on mixed (tso)", ["--scenario", "mixed", "--bug", "enter-guest-no-mb"])]:
        swarm = ["--swarm", "64"] if "mixed" in what else ["--swarm", "8"]
        variants = [("--first", ["--first"]), ("--preemptions 2", ["--preemptions", "2"]),
                    (" ".join(swarm), swarm), (" ".join(swarm) + " --jobs 2", swarm + ["--jobs", "2"])]
        if QUICK and "mixed" in what:
            variants = variants[2:]    # the depth-first search runs into the cap there
        rows += [("%s, %s" % (what, v), base + a) for v, a in variants]
    table("first counterexample (verdict incomplete: none within the bound or the %d s cap)" % LIMIT, rows)


def main():
    print("kvmlab bench: %s, %d CPUs, load %s" % (K, os.cpu_count(), open("/proc/loadavg").read().split()[0]))
    res = {}
    res.update(techniques("1a. the default question (mainline, 2 vCPUs, 3 toggles, 2 accesses)", []))
    three = techniques("1b. mainline, 3 vCPUs, 1 toggle, 1 access",
                       ["--vcpus", "3", "--toggles", "1", "--accesses", "1"])
    other = table("1c. other rows", [
        ("seed patch, 2 vCPUs, first counterexample", ["--policy", "vcpu", "--first"]),
        ("seed patch, 2 vCPUs, shortest counterexample", ["--policy", "vcpu"]),
        ("seed patch, 3 vCPUs, first counterexample", ["--policy", "vcpu", "--vcpus", "3", "--first"]),
        ("seed patch, 4 vCPUs, first counterexample", ["--policy", "vcpu", "--vcpus", "4", "--first"]),
        ("seed patch, 4 vCPUs, --preemptions 2", ["--policy", "vcpu", "--vcpus", "4", "--preemptions", "2"]),
    ] + ([] if QUICK else [("mainline, 3 vCPUs, default (%d s cap)" % LIMIT, ["--vcpus", "3"])]))

    if not QUICK and shutil.which("valgrind"):
        print("\n2. instructions per transition (callgrind; mainline, 2 vCPUs, 1 toggle, 1 access)")
        print("%-46s %12s %11s %10s" % ("configuration", "instructions", "transitions", "per_trans"))
        for label, a in TECHNIQUES:
            ir, tr = callgrind(["--toggles", "1", "--accesses", "1"] + a)
            print("%-46s %12d %11d %10.0f" % (label, ir or 0, tr, (ir or 0) / max(tr, 1)))
            sys.stdout.flush()
    else:
        print("\n2. instructions per transition: skipped (%s)" % ("BENCH_QUICK" if QUICK else "no valgrind"))

    print("\n3. the checker against the exact single-actor persistent-set oracle (tools/por-oracle)")
    print("%-36s %10s %10s %12s %10s %8s %8s" %
          ("configuration", "full", "oracle", "no-merge", "checker", "nm/orc", "chk/orc"))
    worst = 0.0
    for label, a in [("1 vCPU, 3 toggles, 2 accesses", ["--vcpus", "1"]),
                     ("2 vCPUs, 1 toggle, 1 access", ["--toggles", "1", "--accesses", "1"]),
                     ("2 vCPUs, 2 toggles, 1 access", ["--toggles", "2", "--accesses", "1"]),
                     ("2 vCPUs, 3 toggles, 2 accesses", []),
                     ("zap-yield", ["--scenario", "zap-yield"]),
                     ("create-race", ["--scenario", "create-race"]),
                     ("ipi", ["--scenario", "ipi"])]:
        d = oracle(a)
        if not d:
            print("%-36s (por-oracle failed or is not built)" % label)
            continue
        full, orc, nm, chk = (int(d[k]) for k in ("full", "proviso", "checker-no-merge", "checker"))
        worst = max(worst, chk / orc)
        print("%-36s %10d %10d %12d %10d %8.2f %8.2f" % (label, full, orc, nm, chk, nm / orc, chk / orc))
        sys.stdout.flush()

    print("\n4. parallel runs (the default question)")
    help_text = subprocess.run([K, "check", "--help"], stdout=subprocess.PIPE, text=True).stdout
    jobs = {}
    if "--jobs" in help_text:
        for n in (1, 2):
            r, wall, cpu = run(["--jobs", str(n)])
            jobs[n] = wall
            print("check --jobs %d: %s, %d states, %.2f s wall, %.2f s cpu" % (n, r["verdict"], r["states"], wall, cpu))
        print("speed-up of --jobs 2 over --jobs 1: %.2f" % (jobs[1] / jobs[2]))
    else:
        print("(this kvmlab has no --jobs)")
    kmpi = os.path.join(KDIR, "kvmlab-mpi")
    mpi = {}
    if os.access(kmpi, os.X_OK) and shutil.which("mpiexec"):
        for n in (1, 2):
            r, wall, cpu = run([], cmd=["mpiexec", "-n", str(n), kmpi])
            mpi[n] = wall
            print("kvmlab-mpi, %d process%s: %s, %d states, %.2f s wall" %
                  (n, "" if n == 1 else "es", r["verdict"], r["states"], wall))
    else:
        print("(no kvmlab-mpi or mpiexec)")

    tlb()
    tso()
    bounded()

    print("\n5. targets (issue #10) against this run: ratio = measured / target, below 1 is met")
    d = res["every reduction (the default)"]
    rows = [("default question, CPU s on one core", d[2], 1.2),
            ("default question, states (millions)", d[0]["states"] / 1e6, 2.0),
            ("checker states / oracle states (worst row above)", worst, 1.5),
            ("seed patch, 3 vCPUs, first cex, wall s", other["seed patch, 3 vCPUs, first counterexample"][1], 1.0),
            ("seed patch, 4 vCPUs, first cex, wall s", other["seed patch, 4 vCPUs, first counterexample"][1], 1.0),
            ("seed patch, 2 vCPUs, shortest cex, wall s", other["seed patch, 2 vCPUs, shortest counterexample"][1], 1.0)]
    if jobs:
        rows.append(("default question, --jobs 2 wall s", jobs[2], 0.7))
        rows.append(("--jobs 1 / --jobs 2 wall (target >= 1.7)", 1.7 / (jobs[1] / jobs[2]), 1.0))
    if mpi:
        rows.append(("kvmlab-mpi 2 processes / 1 process, wall", mpi[2] / mpi[1], 1.0))
    if not QUICK:
        v3 = other["mainline, 3 vCPUs, default (%d s cap)" % LIMIT]
        done = v3[0]["verdict"] == "verified"
        rows.append(("3 vCPUs default, wall s (%s)" % ("verified" if done else
                     "not finished: %d states" % v3[0]["states"]), v3[1] if done else float("inf"), 200.0))
    print("%-52s %10s %8s %8s" % ("target", "measured", "target", "ratio"))
    for what, m, t in rows:
        print("%-52s %10.2f %8.2f %8.2f  %s" % (what, m, t, m / t, "met" if m <= t else "not met"))
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
