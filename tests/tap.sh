# Sourced by the shell tests (tests/*.t): TAP lines numbered in order.
# ok/nok/skip DESCRIPTION; skip_all REASON skips all $N tests and exits.
n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n # skip $*"; }
skip_all() {
	for i in $(seq 1 "$N"); do echo "ok $i # skip $1"; done
	exit 0
}
# Whether $KVMLAB can check under x86-TSO (builds without the model's write
# instrumentation, ASan and clang, cannot: docs/memory-model.md).
tso_available() {
	"$KVMLAB" check --memory-model tso --vcpus 1 --toggles 0 --accesses 0 --quiet >/dev/null 2>&1
}
# children PID N: PID's child processes, once it has N of them (or after 10 s).
children() {
	for _ in $(seq 1 100); do
		k=$(pgrep -P "$1" 2>/dev/null | tr '\n' ' ')
		[ "$(echo $k | wc -w)" -ge "$2" ] && break
		sleep 0.1
	done
	echo "$k"
}
# sigterm_workers NAME OUT WANT ARGS...: run $KVMLAB check ARGS (which forks 2
# workers) into OUT, SIGTERM it after 0.5 s; ok when it exits 3 with a line
# matching WANT and neither worker is left.
sigterm_workers() {
	name=$1 out=$2 want=$3
	shift 3
	"$KVMLAB" check "$@" >"$out" 2>&1 &
	pid=$!
	kids=$(children $pid 2)
	sleep 0.5
	kill -TERM $pid
	wait $pid
	rc=$?
	sleep 0.2
	left=
	for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
	if [ $rc -eq 3 ] && grep -q "$want" "$out" && [ -z "$left" ] && [ "$(echo $kids | wc -w)" -eq 2 ]; then
		ok "$name: exit 3, its workers ($kids) gone"
	else
		nok "$name: exit $rc, workers '$kids', left '$left'"; tail -3 "$out" | sed 's/^/# /'
		for k in $left; do kill -KILL "$k"; done
	fi
}
