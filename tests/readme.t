#!/bin/sh
# The README's commands, so that the guide cannot rot: every line of every
# ```sh block after the first is run (the first block, install-deps + make
# run and make test, is what CI itself runs), in a scratch directory that
# holds ./kvmlab and tests/, and must exit with the code its comment names
# ("exit N"; 0 when it names none).  Every ```text block is output of the
# ```sh block just before it: each of its lines must appear in that output
# (a line with "..." up to the "...").  Release build only: the commands
# include the default 2-vCPU question, about 6 s there.  $KVMLAB is the
# binary under test.
README="$(dirname "$0")/../README.md"
if [ "${KVMLAB_BUILD:-release}" != release ]; then
	echo "1..0 # skip the README's commands run in the release suite only"
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # skip python3 is missing (tools/install-deps.sh installs it)"
	exit 0
fi
T=$(mktemp -d /tmp/kvmlab-readme.XXXXXX)
trap 'rm -rf "$T"' EXIT
ln -s "$(cd "$(dirname "$KVMLAB")" && pwd)/$(basename "$KVMLAB")" "$T/kvmlab"
ln -s "$(cd "$(dirname "$0")" && pwd)" "$T/tests"
python3 - "$README" "$T" <<'EOF'
import re, subprocess, sys

readme, tmp = sys.argv[1], sys.argv[2]
blocks, cur, lang = [], None, None
for line in open(readme):
    line = line.rstrip("\n")
    if cur is None:
        m = re.match(r"^```(\w+)$", line)
        if m:
            cur, lang = [], m.group(1)
    elif line == "```":
        blocks.append((lang, cur))
        cur = None
    else:
        cur.append(line)

results = []        # (ok, name, diagnostics)
sh_seen = 0
last_output = None
for lang, lines in blocks:
    if lang == "sh":
        sh_seen += 1
        if sh_seen == 1:
            continue            # install + make run / make test: what CI runs
        last_output = ""
        for cmd in lines:
            if not cmd.strip() or cmd.lstrip().startswith("#"):
                continue
            m = re.search(r"\s#\s.*$", cmd)
            comment = m.group(0) if m else ""
            code = cmd[:m.start()] if m else cmd
            want = re.search(r"\bexit (\d)\b", comment)
            want = int(want.group(1)) if want else 0
            p = subprocess.run(["sh", "-c", code], cwd=tmp, capture_output=True, text=True,
                               timeout=600)
            out = p.stdout + p.stderr
            last_output += out
            diag = "" if p.returncode == want else "\n".join(out.splitlines()[-5:])
            results.append((p.returncode == want,
                            "%s (exit %d, want %d)" % (code.strip(), p.returncode, want), diag))
    elif lang == "text" and last_output is not None:
        have = last_output.splitlines()
        missing = []
        for l in lines:
            if "..." in l:
                pre = l.split("...")[0]
                if not any(h.startswith(pre) for h in have):
                    missing.append(l)
            elif l not in have:
                missing.append(l)
        results.append((not missing, "output block of %d lines is real output" % len(lines),
                        "\n".join("not in the output: " + x for x in missing[:5])))

print("1..%d" % len(results))
for i, (ok, name, diag) in enumerate(results, 1):
    print("%s %d - README: %s" % ("ok" if ok else "not ok", i, name))
    if not ok and diag:
        for d in diag.splitlines():
            print("# " + d)
EOF
