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
