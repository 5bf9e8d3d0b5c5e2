#!/bin/sh
# Install the Debian 12 packages kvmlab needs to build, test and benchmark
# (python3 only formats bench/run.sh's table; MPICH builds and runs
# kvmlab-mpi, the distributed search); idempotent.
set -e
need=""
for p in gcc make libc6-dev perl git python3 mpich libmpich-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
# Sanitizer runtimes come with gcc-12 on Debian 12, but a minimal image may lack them.
for p in libasan8 libubsan1 libtsan2; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
# clang and its sanitizer and libFuzzer runtimes (compiler-rt) for
# tests/clang-asan.t, tests/fuzz.t and make fuzz; libclang-rt-14-dev is only a
# Recommends of clang.
for p in clang libclang-rt-14-dev; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
# man-db (with groff-base) renders kvmlab.1 for tests/man.t, bash runs the
# completion there; python3-jsonschema validates the JSON reports (tests/json.t);
# headless chromium draws check --html's page for tests/html.t.
for p in man-db groff-base bash python3-jsonschema chromium; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	echo "install-deps: installing$need"
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
else
	echo "install-deps: nothing to install"
fi
