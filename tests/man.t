#!/bin/sh
# The man page (kvmlab.1), make install/uninstall and the bash completion:
# the page renders without warnings, documents exactly the options each
# command's --help lists, and installs with the binary and the completion;
# the completion offers the binary's own options, scenarios and bug slugs.
# $KVMLAB is the binary under test.
. "$(dirname "$0")/tap.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MAN="$ROOT/kvmlab.1"
N=9
echo "1..$N"
T=$(mktemp -d /tmp/kvmlab-man.XXXXXX)
trap 'rm -rf "$T"' EXIT

if command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1; then
	MANWIDTH=80 man -l "$MAN" >"$T/page" 2>"$T/err"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/err" ] && grep -q '^NAME' "$T/page" && grep -q '^EXIT STATUS' "$T/page"; then
		ok "man -l kvmlab.1 renders (NAME ... EXIT STATUS)"
	else nok "man -l kvmlab.1: exit $rc, $(head -3 "$T/err")"; fi
	groff -ww -z -man "$MAN" >"$T/warn" 2>&1
	if [ -s "$T/warn" ]; then nok "groff -ww: $(head -3 "$T/warn")"; else ok "groff -ww finds nothing to warn about"; fi
else
	skip "man or groff is not installed (tools/install-deps.sh installs man-db)"
	skip "man or groff is not installed"
fi

# Each command's options: the man page's section against --help.
for cmd in check replay stress oracle; do
	sed -n "/^\.SS $cmd\$/,/^\.S[SH] /p" "$MAN" | sed 's/\\-/-/g' | grep -o -- '--[a-z][a-z-]*' |
		sort -u >"$T/man.$cmd"
	"$KVMLAB" "$cmd" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | grep -v '^--help$' | sort -u >"$T/help.$cmd"
	if [ -s "$T/help.$cmd" ] && cmp -s "$T/man.$cmd" "$T/help.$cmd"; then
		ok "$cmd: the man page documents the $(wc -l <"$T/help.$cmd" | tr -d ' ') options of --help"
	else
		nok "$cmd: man page and --help differ: $(diff "$T/man.$cmd" "$T/help.$cmd" | grep '^[<>]' | tr '\n' ' ')"
	fi
done

# make install / uninstall into a scratch DESTDIR (the release build: other
# builds' flags would make make rebuild).
if [ "${KVMLAB_BUILD:-release}" = release ]; then
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" install DESTDIR="$T/root" PREFIX=/usr \
		>"$T/install" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && [ -x "$T/root/usr/bin/kvmlab" ] && [ -f "$T/root/usr/share/man/man1/kvmlab.1" ] &&
	   [ -f "$T/root/usr/share/bash-completion/completions/kvmlab" ] &&
	   "$T/root/usr/bin/kvmlab" --version | grep -q '^kvmlab '; then
		ok "make install DESTDIR=... PREFIX=/usr: binary, man page, completion"
	else nok "make install: exit $rc, $(tail -3 "$T/install")"; fi
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" uninstall DESTDIR="$T/root" PREFIX=/usr \
		>"$T/uninstall" 2>&1
	rc=$?
	left=$(find "$T/root" -type f 2>/dev/null | wc -l | tr -d ' ')
	if [ $rc -eq 0 ] && [ -d "$T/root/usr/bin" ] && [ "$left" -eq 0 ]; then ok "make uninstall removes every file it installed"
	else nok "make uninstall: exit $rc, $left files left"; fi
else
	skip "make install is tested in the release suite"
	skip "make uninstall is tested in the release suite"
fi

# The completion, from the binary under test.
if command -v bash >/dev/null 2>&1; then
	got=$(KVMLAB="$KVMLAB" bash -c '. "$1/completion/kvmlab.bash"
		COMP_WORDS=("$KVMLAB" check --no-p); COMP_CWORD=2; _kvmlab; echo "${COMPREPLY[*]}"
		COMP_WORDS=("$KVMLAB" check --bug avic-d); COMP_CWORD=3; _kvmlab; echo "${COMPREPLY[*]}"
		COMP_WORDS=("$KVMLAB" replay --bug no); COMP_CWORD=3; _kvmlab; echo "${COMPREPLY[*]}"
		COMP_WORDS=("$KVMLAB" stress --scenario migr); COMP_CWORD=3; _kvmlab; echo "${COMPREPLY[*]}"' sh "$ROOT")
	want="--no-persistent --no-por
avic-deliver-race
none
migrate-hlt"
	if [ "$got" = "$want" ]; then ok "bash completion: options, bug slugs, replay's 'none', scenarios"
	else nok "bash completion gave: $(echo "$got" | tr '\n' '|')"; fi
else
	skip "bash is not installed"
fi
