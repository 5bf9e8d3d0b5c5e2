#!/bin/sh
# The layer picture of docs/design.md, held: cmd/ -> check/ -> guest/ and
# oracle/ -> model/ -> kernel/; the runtimes (runtime/threads.c,
# check/sched.c) implement kernel/prim.h's rt_ops.  A directory's files include
# headers of their own layer and of the layers below only.
. "$(dirname "$0")/tap.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
echo "1..5"
bad() {	# dir, forbidden include prefixes...
	d=$1; shift
	for p in "$@"; do
		grep -n "^#include \"$p/" "$ROOT/$d"/*.c "$ROOT/$d"/*.h 2>/dev/null
	done
}
check_layer() {	# name, dir, forbidden...
	name=$1; shift
	out=$(bad "$@")
	if [ -z "$out" ]; then ok "$name"; else nok "$name: $(echo "$out" | head -3 | tr '\n' ' ')"; fi
}
check_layer "kernel/ includes nothing above it" kernel model guest check cmd oracle runtime mpi
check_layer "model/ includes no guest/, check/, cmd/, oracle/ or runtime/ header" model guest check cmd oracle runtime mpi
check_layer "guest/ includes no check/ or cmd/ header" guest check cmd oracle runtime mpi
check_layer "check/ includes no cmd/ header" check cmd mpi
check_layer "oracle/ includes no check/ or cmd/ header" oracle check cmd mpi
