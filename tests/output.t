#!/bin/sh
# Output files (--json, --trace; check/outfile.h): what is written where, and
# that a bad path is an input error before anything runs.  Devices are
# exercised on a private node made with mknod (as root) or skipped: the
# suite never writes to the machine's own /dev entries.
T=$(mktemp -d /tmp/kvmlab-output.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/tap.sh"
# Each check below runs the smallest question (1 vCPU): a second or less.
small="--vcpus 1 --toggles 1 --accesses 1"
echo "1..19"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	for i in $(seq 1 19); do echo "ok $i # skip the checker is not available under ThreadSanitizer"; done
	exit 0
fi
leftovers() { ls -A "$1" | grep -c '^\..*\.[A-Za-z0-9]\{6\}$'; }

# 1. A character device is written in place, never replaced.
if [ "$(id -u)" -eq 0 ] && mknod "$T/null" c 1 3 2>/dev/null; then
	"$KVMLAB" check $small --quiet --json "$T/null" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ -c "$T/null" ]; then ok "--json to a character device: still a device (exit $rc)"
	else nok "--json to a character device: exit $rc, $(ls -l "$T/null")"; fi
	"$KVMLAB" check $small --quiet --trace "$T/null" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ -c "$T/null" ]; then ok "--trace to a character device: still a device"
	else nok "--trace to a character device: exit $rc, $(ls -l "$T/null")"; fi
else
	skip "mknod needs root"
	skip "mknod needs root"
fi
# 3. A write error on a device is reported, exit 2.
if [ "$(id -u)" -eq 0 ] && mknod "$T/full" c 1 7 2>/dev/null; then
	"$KVMLAB" check $small --quiet --trace "$T/full" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q "No space left on device" "$T/out" && [ -c "$T/full" ]; then
		ok "--trace to a full device: exit 2, ENOSPC reported"
	else nok "--trace to a full device: exit $rc: $(cat "$T/out")"; fi
else
	skip "mknod needs root"
fi
# 4. A FIFO is opened and written, not replaced.
mkfifo "$T/fifo"
timeout 60 cat "$T/fifo" >"$T/fromfifo" &	# bounded: a binary that replaces the FIFO leaves it waiting
reader=$!
timeout 60 "$KVMLAB" check $small --quiet --json "$T/fifo" >/dev/null 2>&1
rc=$?
wait $reader
if [ $rc -eq 0 ] && [ -p "$T/fifo" ] && grep -q '"verdict": "verified"' "$T/fromfifo"; then
	ok "--json to a FIFO: the reader gets the report, the FIFO stays"
else nok "--json to a FIFO: exit $rc, $(ls -l "$T/fifo")"; fi
# 5. A symlink is followed: the link stays, its target is replaced.
echo stale >"$T/target.json"
ln -s target.json "$T/link.json"
"$KVMLAB" check $small --quiet --json "$T/link.json" >/dev/null 2>&1
if [ -L "$T/link.json" ] && grep -q '"verdict": "verified"' "$T/target.json"; then
	ok "--json through a symlink: link kept, target written"
else nok "--json through a symlink: $(ls -l "$T")"; fi
# 6. A new file gets the mode fopen() gives under the umask.
(umask 027; "$KVMLAB" check $small --quiet --json "$T/new.json" >/dev/null 2>&1)
m=$(stat -c %a "$T/new.json" 2>/dev/null)
if [ "$m" = 640 ]; then ok "new file under umask 027: mode $m"; else nok "new file under umask 027: mode '$m', want 640"; fi
# 7. An existing file keeps its mode.
echo old >"$T/kept.json"
chmod 604 "$T/kept.json"
"$KVMLAB" check $small --quiet --json "$T/kept.json" >/dev/null 2>&1
m=$(stat -c %a "$T/kept.json")
if [ "$m" = 604 ] && grep -q verdict "$T/kept.json"; then ok "existing file rewritten, mode $m kept"
else nok "existing file: mode '$m', want 604"; fi
# 8. A file with another hard link is written in place: both names see it.
echo old >"$T/h1.json"
ln "$T/h1.json" "$T/h2.json"
"$KVMLAB" check $small --quiet --json "$T/h1.json" >/dev/null 2>&1
if grep -q verdict "$T/h2.json" && [ "$(stat -c %h "$T/h1.json")" = 2 ]; then ok "hard-linked file written in place"
else nok "hard-linked file: $(ls -li "$T"/h?.json)"; fi
# 9-13. Bad paths: exit 2, one line, nothing explored, nothing left behind.
bad() {	# name, args...
	name=$1
	shift
	"$KVMLAB" "$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$T/out")" -eq 1 ] && ! grep -q '^explored\|^kvmlab check: scenario' "$T/out"; then
		ok "$name: exit 2, $(cat "$T/out")"
	else nok "$name: exit $rc: $(head -3 "$T/out")"; fi
}
bad "--json in a missing directory" check $small --json "$T/nonexistent/x.json"
bad "--json naming a directory" check $small --json "$T"
bad "--json with an empty name" check $small --json ""
bad "--trace in a missing directory" check $small --trace "$T/nonexistent/x.sched"
bad "stress --json naming a directory" stress --iterations 5 --json "$T"
if [ "$(leftovers "$T")" -eq 0 ]; then ok "no temporary files left behind"; else nok "temporaries left: $(ls -A "$T")"; fi
# 15. --json - is standard output, and holds only the JSON; the report goes to stderr.
"$KVMLAB" check $small --json - >"$T/stdout.json" 2>"$T/stderr"
rc=$?
if [ $rc -eq 0 ] && python3 -m json.tool "$T/stdout.json" >/dev/null 2>&1 && grep -q '^verdict: verified' "$T/stderr"; then
	ok "--json -: standard output is the JSON, the report is on standard error"
else nok "--json -: exit $rc, stdout $(head -c 80 "$T/stdout.json")"; fi
bad "--json - and --trace - together" check $small --json - --trace -
# 17. A verified run with --trace replaces an earlier trace with an empty schedule.
"$KVMLAB" check --vcpus 1 --policy vcpu --first --quiet --trace "$T/t.sched" >/dev/null 2>&1
"$KVMLAB" check $small --trace "$T/t.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^finding none' "$T/t.sched" && grep -q '^steps 0' "$T/t.sched" &&
   grep -q 'empty schedule' "$T/out"; then
	ok "verified run: --trace holds the scenario and an empty schedule, and says so"
else nok "verified run with --trace: exit $rc, $(grep -E '^(finding|steps)' "$T/t.sched" | tr '\n' ' ')"; fi
"$KVMLAB" replay "$T/t.sched" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then ok "the empty schedule replays (exit 0)"; else nok "empty schedule: replay exit $rc: $(tail -2 "$T/out")"; fi
# 19. oracle --json: a bad path before /dev/kvm is even looked at.
"$KVMLAB" oracle --json "$T" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'is a directory' "$T/out"; then ok "oracle --json naming a directory: exit 2"
else nok "oracle --json naming a directory: exit $rc: $(cat "$T/out")"; fi
