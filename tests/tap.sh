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
