# kvmlab list --functions (Makefile: $(BUILD)/gen/functions.inc): the
# model's functions with the kernel release their comment names, as C
# initializers { "FILE", LINE, "NAME", "RELEASE" } ("" when it names none).
# A definition is a line at column 0 that opens a parameter list, not a
# declaration, followed by a line holding only "{"; its comment is the
# /* ... */ block that ends on the line just above it.
function flush_def(   rel, m) {
	rel = ""
	if (match(cmt, /v[0-9]+\.[0-9]+(\.[0-9]+)?(-rc[0-9]+)?/))
		rel = substr(cmt, RSTART, RLENGTH)
	printf "{ \"%s\", %d, \"%s\", \"%s\" },\n", FILENAME, defline, defname, rel
}
# Drop every __attribute__((...)), parentheses balanced.
function strip_attributes(s,   i, depth, out, c) {
	while ((i = index(s, "__attribute__")) > 0) {
		out = substr(s, 1, i - 1)
		s = substr(s, i + 13)
		depth = 0
		while (length(s) > 0) {
			c = substr(s, 1, 1)
			s = substr(s, 2)
			if (c == "(")
				depth++
			else if (c == ")" && --depth == 0)
				break
		}
		s = out s
	}
	return s
}
FNR == 1 { incmt = 0; cmt = ""; lastcmt = ""; lastcmt_end = -1; pending = 0 }
{
	line = $0
	if (pending) {
		if (line == "{")
			flush_def()
		pending = 0
	}
	if (!incmt && line ~ /^\/\*/) {
		incmt = 1
		cmt = ""
	}
	if (incmt) {
		cmt = cmt " " line
		if (line ~ /\*\//) {
			incmt = 0
			lastcmt = cmt
			lastcmt_end = FNR
		}
		next
	}
	if (line ~ /^[A-Za-z_][^;]*[A-Za-z_0-9]\(/ && line !~ /;[ \t]*$/ && line !~ /^(if|for|while|switch|return)/) {
		s = strip_attributes(line)
		sub(/\(.*/, "", s)
		n = split(s, w, /[ \t*]+/)
		defname = w[n]
		defline = FNR
		cmt = (lastcmt_end == FNR - 1) ? lastcmt : ""
		pending = 1
	}
}
