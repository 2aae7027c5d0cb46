#!/bin/sh
# Every reference in the repository can be followed in the repository
# (docs/README.md): a comment cites a section of docs/ or an upstream
# function.  One line a check, "ok - ..." or "FAIL - ...":
#   - no file cites the design notes that came before docs/ (guest-p2m.md,
#     builder-layout.md, or real-xen.md without docs/);
#   - a "section N" is a section of docs/ (the file named within the
#     sentence before it), never of anything else (an ELF section aside);
#   - every "docs/F.md section N" (or N.M, "sections N and M", "sections N
#     to M", also across a line break) names a file in docs/ with that
#     numbered heading;
#   - every function docs/boot.md section 10 names for a mechanism of the
#     2012 posting is defined in the file that row names.
# Usage: tests/docs/citations_test.sh   (from the repository root)
set -u
failed=0
pass() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	failed=1
}
files=$(git ls-files 2>/dev/null | grep -v '^docs/' | grep -vx 'tests/docs/citations_test.sh' | grep -E '\.(c|h|S|sh|lds)$|^Makefile$|^README.md$|^scripts/' || true)
[ -n "$files" ] || files=$(find src include kernel tests scripts bench Makefile README.md -type f ! -name citations_test.sh)

old=$(grep -nE 'guest-p2m\.md|builder-layout\.md' $files | head -n 5)
old_rx=$(grep -nE '(^|[^/])real-xen\.md' $files | head -n 5)
if [ -z "$old$old_rx" ]; then
	pass "no file cites the notes that came before docs/"
else
	fail "citations of notes outside the repository: $(echo "$old $old_rx" | tr '\n' ' ')"
fi

# Bare "section N": the words before it must name a docs/ file.
bare=$(for f in $files; do
	sed -e 's/^[[:space:]]*\(\*\|#\|\/\/\|;\)[[:space:]]*/ /' "$f" | tr '\n' ' ' | tr -s ' ' |
		awk -v f="$f" '{
			s = $0
			off = 0
			while (match(substr(s, off + 1), /[Ss]ections? [0-9]+/)) {
				at = off + RSTART
				start = at > 120 ? at - 120 : 1
				before = substr(s, start, at - start)
				if (before !~ /docs\/[a-z0-9-]+\.md/ && before !~ /ELF|numbering in $/)
					print f ": ..." substr(before, length(before) > 40 ? length(before) - 40 : 1) substr(s, at, RLENGTH)
				off = at + RLENGTH - 1
			}
		}'
done)
if [ -z "$bare" ]; then
	pass "every section cited is one of docs/"
else
	fail "sections cited without their docs/ file: $(echo "$bare" | head -n 5 | tr '\n' ' ')"
fi

# Join each file's lines (comment leaders dropped) so a citation broken
# across lines reads whole, then pull out "docs/F.md section(s) N ...".
cites=0
bad=""
for f in $files; do
	sed -e 's/^[[:space:]]*\(\*\|#\|\/\/\|;\)[[:space:]]*/ /' "$f" | tr '\n' ' ' | tr -s ' ' |
		grep -oE 'docs/[a-z0-9-]+\.md,? sections? [0-9]+(\.[0-9]+)?((,? (and|to|or) |, )[0-9]+(\.[0-9]+)?)*' |
		sed "s|^|$f: |"
done >citations.tmp.$$
while IFS= read -r line; do
	file=${line%%: *}
	cite=${line#*: }
	doc=$(echo "$cite" | sed 's/^\(docs\/[a-z0-9-]*\.md\).*/\1/')
	nums=$(echo "$cite" | sed 's/^docs\/[a-z0-9-]*\.md,\{0,1\} sections\{0,1\} //' | tr -c '0-9.\n' ' ')
	cites=$((cites + 1))
	if [ ! -f "$doc" ]; then
		bad="$bad $file:$doc"
		continue
	fi
	for n in $nums; do
		if ! grep -qE "^#{2,3} $n[. ]" "$doc"; then
			bad="$bad $file:$doc#$n"
		fi
	done
done <citations.tmp.$$
rm -f citations.tmp.$$
if [ -z "$bad" ]; then
	pass "all $cites citations of docs/ sections name a heading that is there"
else
	fail "citations of sections docs/ does not have:$bad"
fi
# The posting's mechanisms: each row's functions, defined in its files.
rows=0
missing=""
awk '/^## 10\./,/^## 11\./' docs/boot.md | grep '^| ' | tail -n +3 >rows.tmp.$$
while IFS= read -r row; do
	rows=$((rows + 1))
	srcs=$(echo "$row" | grep -oE '`(src|kernel)/[a-z0-9_/]+\.[chS]`' | tr -d '`')
	fns=$(echo "$row" | awk -F'|' '{ print $4 }' | grep -oE '`[a-z_0-9]+\(' | tr -d '`(')
	for fn in $fns; do
		found=""
		for f in $srcs; do
			grep -qE "^[a-z].*[ *]$fn\(" "$f" 2>/dev/null && found=$f
		done
		[ -n "$found" ] || missing="$missing $fn($srcs)"
	done
done <rows.tmp.$$
rm -f rows.tmp.$$
if [ "$rows" -gt 20 ] && [ -z "$missing" ]; then
	pass "docs/boot.md section 10: every function of its $rows rows is defined where the row says"
else
	fail "docs/boot.md section 10 ($rows rows) names what is not there:$missing"
fi
exit $failed
