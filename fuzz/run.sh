#!/bin/sh
# Runs the libFuzzer harnesses (docs/fuzzing.md):
#	sh fuzz/run.sh BUILD SECONDS SCRATCH [NAME...]
# Harness BUILD/fuzz_NAME (default: every NAME with a fuzz/fuzz_NAME.c) runs
# for SECONDS from its seed corpus fuzz/corpus/NAME and its regression inputs
# tests/fuzz-regressions/NAME, with dictionary fuzz/NAME.dict.  New inputs go
# to SCRATCH/NAME (never into the committed corpora), libFuzzer's log to
# SCRATCH/NAME.log, a crashing input to SCRATCH/crashes/.  LeakSanitizer
# ignores the leaks fuzz/lsan.supp lists (bugs found, not fixed yet).
# Prints one line per harness; exits 1 if any harness failed.
# Runs from the repository root.
BUILD=$1 SECONDS_EACH=$2 SCRATCH=$3
if [ -z "$BUILD" ] || [ -z "$SECONDS_EACH" ] || [ -z "$SCRATCH" ]; then
	echo "usage: sh fuzz/run.sh BUILD SECONDS SCRATCH [NAME...]" >&2
	exit 2
fi
shift 3
names=$*
[ -n "$names" ] || names=$(for f in fuzz/fuzz_*.c; do f=${f#fuzz/fuzz_}; echo "${f%.c}"; done)
mkdir -p "$SCRATCH/crashes" || exit 2
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$(pwd)/fuzz/lsan.supp"
status=0
for name in $names; do
	bin=$BUILD/fuzz_$name log=$SCRATCH/$name.log
	mkdir -p "$SCRATCH/$name"
	set -- "$SCRATCH/$name" "fuzz/corpus/$name"
	[ -d "tests/fuzz-regressions/$name" ] && set -- "$@" "tests/fuzz-regressions/$name"
	"$bin" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -dict="fuzz/$name.dict" \
		-artifact_prefix="$SCRATCH/crashes/$name-" "$@" >"$log" 2>&1
	rc=$?
	# "#N DONE cov: C ft: F corp: K/SIZE ..." and "stat::average_exec_per_sec: E"
	done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/.*/cov \1, ft \2, corpus \3/p')
	if [ $rc -eq 0 ]; then
		echo "fuzz_$name: ${runs:-?} runs in $SECONDS_EACH s (${rate:-?} exec/s), ${cov:-no coverage line}: no crash"
	else
		status=1
		echo "fuzz_$name: FAILED (exit $rc) after ${runs:-?} runs; log $log"
		grep -E 'ERROR|SUMMARY|^fuzz_|#[0-9]+ 0x[0-9a-f]+ in ' "$log" | head -n 20 | sed 's/^/  /'
		unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		if [ -n "$unit" ] && [ -f "$unit" ]; then
			echo "  input $unit ($(wc -c <"$unit" | tr -d ' ') bytes), hex:"
			od -An -tx1 -v "$unit" | tr -d ' \n' | fold -w 64 | sed 's/^/  /'
			echo
		fi
	fi
done
exit $status
