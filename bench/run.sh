#!/bin/sh
# The checker benchmark (make bench): see bench/bench.py for what it measures.
# KVMLAB=binary, BENCH_TIME_LIMIT=seconds per capped row (300), BENCH_QUICK=1
# to skip the 3-vCPU default row and the callgrind section.
exec python3 "$(dirname "$0")/bench.py" "$@"
