#!/bin/sh
# check --html: one self-contained page that is also a replay input, and, in
# headless Chromium, a page that draws the lanes and the finding: a
# screenshot must hold the lane header's colour and the finding's, and the
# DOM a column per acting actor and the finding's rows.  The Chromium half
# is skipped, saying why, where Chromium is missing or cannot start
# (tools/install-deps.sh installs it).  $KVMLAB is the binary under test.
. "$(dirname "$0")/tap.sh"
N=5
echo "1..$N"
if [ "${KVMLAB_BUILD:-}" = tsan ]; then
	skip_all "the checker is not available under ThreadSanitizer"
fi
T=$(mktemp -d /tmp/kvmlab-html.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$KVMLAB" check --policy vcpu --vcpus 1 --quiet --html "$T/cex.html" >/dev/null 2>&1
rc=$?
if [ $rc -eq 1 ] && head -n 1 "$T/cex.html" | grep -q '^<!DOCTYPE html>' &&
   ! grep -Eq '(src|href)="?(https?:)?//' "$T/cex.html"; then
	ok "--html writes one self-contained page (no external resources)"
else nok "--html: exit $rc, $(head -c 80 "$T/cex.html")"; fi
"$KVMLAB" replay "$T/cex.html" --quiet >"$T/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^reproduced: bad-spte at step' "$T/out"; then ok "the page is a replay input: kvmlab replay reproduces bad-spte"
else nok "replay of the page: exit $rc, $(tail -n 1 "$T/out")"; fi

CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ]; then
	for i in 3 4 5; do skip "Chromium is not installed (tools/install-deps.sh installs it)"; done
	exit 0
fi
# Root needs --no-sandbox; no GPU on these machines.
flags="--headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=$T/profile"
timeout 120 "$CHROMIUM" $flags --window-size=1400,1600 --screenshot="$T/shot.png" "file://$T/cex.html" \
	>"$T/chromium.out" 2>&1
if [ ! -s "$T/shot.png" ]; then
	for i in 3 4 5; do skip "Chromium cannot run here: $(grep -v dbus "$T/chromium.out" | tail -n 1)"; done
	exit 0
fi
ok "headless Chromium renders the page ($(wc -c <"$T/shot.png" | tr -d ' ') bytes of PNG)"
# Pixels: the lanes' header (#1f4e79) and the finding's rows (#c00000) are drawn.
if python3 - "$T/shot.png" >"$T/why" 2>&1 <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype, interlace)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride, prev, counts = zlib.decompress(idat), w * bpp, bytearray(w * bpp), {}
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        pred = [0, a, b, (a + b) // 2, a if pa <= pb and pa <= pc else b if pb <= pc else c][f]
        line[i] = (line[i] + pred) & 0xff
    for x in range(0, stride, bpp):
        rgb = tuple(line[x:x + 3])
        counts[rgb] = counts.get(rgb, 0) + 1
    prev = line
header, finding = counts.get((0x1f, 0x4e, 0x79), 0), counts.get((0xc0, 0x00, 0x00), 0)
print("header pixels", header, "finding pixels", finding)
sys.exit(0 if header > 2000 and finding > 2000 else 1)
EOF
then ok "the screenshot shows the lanes' header and the highlighted finding ($(cat "$T/why"))"
else nok "screenshot colours: $(tail -n 2 "$T/why")"; fi
timeout 120 "$CHROMIUM" $flags --dump-dom "file://$T/cex.html" >"$T/dom.html" 2>"$T/chromium.out"
lanes=$(grep -o '<th class="lane">[^<]*</th>' "$T/dom.html" | sed 's/<[^>]*>//g' | tr '\n' ' ')
findings=$(grep -c '<tr class="ev finding">' "$T/dom.html")
if [ "$lanes" = "vcpu0 actor0 " ] && [ "$findings" -eq 2 ]; then
	ok "the DOM has a lane per acting actor ($lanes) and the finding's rows ($findings)"
else nok "DOM: lanes '$lanes', $findings finding rows"; fi
