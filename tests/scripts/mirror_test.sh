#!/bin/sh
# scripts/lib/mirror.sh: the Debian mirror comes from the host's apt
# configuration only.  Each check points PVBOOT_APT_ETC at a made-up
# configuration (the host names are under .example, which names nothing)
# and prints one line, "ok - ..." or "FAIL - ..."; the exit status is
# non-zero if any check failed.
#
# Usage: tests/scripts/mirror_test.sh   (from anywhere; offline)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$top/build/tests-scratch/mirror.$$
trap 'rm -rf --one-file-system "$scratch"; rmdir "$top/build/tests-scratch" 2>/dev/null' EXIT
trap 'exit 130' INT TERM
mkdir -p "$scratch"

# shellcheck source-path=SCRIPTDIR/../.. source=scripts/lib/mirror.sh
. "$top/scripts/lib/mirror.sh"

failed=0
pass() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	failed=1
}

# etc NAME: a fresh, empty apt configuration directory.
etc() {
	d=$scratch/$1
	mkdir -p "$d/sources.list.d"
	echo "$d"
}

# expect NAME SUITE WANT: apt_source_uri SUITE in $PVBOOT_APT_ETC prints WANT.
expect() {
	got=$(apt_source_uri "$2")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail "$1: got '$got', want '$3'"
	fi
}

# A sources.list in one-line format, with what must not match before the
# right line: comments, deb-src, another suite, another component, options.
PVBOOT_APT_ETC=$(etc list)
export PVBOOT_APT_ETC
cat >"$PVBOOT_APT_ETC/sources.list" <<'EOF'
# deb http://commented.example/debian bookworm main
deb-src http://source.example/debian bookworm main
deb http://other-suite.example/debian trixie main
deb http://other-component.example/apt bookworm stable
deb http://mirror-b.example/debian bookworm-updates main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror-a.example/debian/ bookworm main contrib
deb http://security-a.example/debian-security bookworm-security main
EOF
expect "sources.list: the first deb line for bookworm with main (options, trailing slash)" \
	bookworm http://mirror-a.example/debian
expect "sources.list: bookworm-security" bookworm-security http://security-a.example/debian-security

# Other releases' suites come from the same mirror: a suite the host does
# not list is reached through its source of the same kind (the first
# release suite, past trixie's other component; the first -security one).
expect "bullseye, not listed: the host's release source" bullseye http://other-suite.example/debian
expect "trixie, listed but only with main: that line" trixie http://other-suite.example/debian
expect "bullseye-security, not listed: the host's -security source" bullseye-security \
	http://security-a.example/debian-security
expect "bullseye-updates, not listed: no source of its kind" bullseye-updates ""

PVBOOT_APT_ETC=$(etc list-spaced-options)
cat >"$PVBOOT_APT_ETC/sources.list" <<'EOF'
deb [ arch=amd64 ] https://mirror-c.example/debian bookworm main   # a comment
EOF
expect "sources.list: options with spaces, https, a trailing comment" bookworm https://mirror-c.example/debian

# Debian's cloud images: a mirror+file: list, of which the first http(s)
# mirror counts; a file: URI does not (the dom0's root would not have it).
PVBOOT_APT_ETC=$(etc mirror-list)
cat >"$PVBOOT_APT_ETC/mirrors.list" <<'EOF'
# the mirrors, best first
ftp://old.example/debian	priority:1
http://cloud-mirror.example/debian/	priority:2
EOF
cat >"$PVBOOT_APT_ETC/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: file:///srv/debian
Suites: bookworm
Components: main

Types: deb
URIs: mirror+file:$PVBOOT_APT_ETC/mirrors.list
Suites: bookworm bookworm-updates
Components: main
EOF
expect "deb822: a mirror+file: list's first http mirror; a file: URI skipped" \
	bookworm http://cloud-mirror.example/debian

# deb822 .sources files in sources.list.d, as Debian 12 installs them, next
# to other vendors' sources.
PVBOOT_APT_ETC=$(etc deb822)
cat >"$PVBOOT_APT_ETC/sources.list.d/debian.sources" <<'EOF'
# Disabled, and source packages only: neither counts.
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://source.example/debian
Suites: bookworm
Components: main

Types: deb deb-src
URIs: mirror+file:/etc/apt/mirrors.txt
 http://mirror-d.example/debian/
Suites: bookworm bookworm-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security-d.example/debian-security
Suites: bookworm-security
Components: main
EOF
cat >"$PVBOOT_APT_ETC/sources.list.d/vendor.sources" <<'EOF'
Types: deb
URIs: https://vendor.example/node
Suites: nodistro
Components: main
EOF
cat >"$PVBOOT_APT_ETC/sources.list.d/another.list" <<'EOF'
deb https://another.example/apt another-bookworm main
EOF
expect "deb822 .sources: enabled, binary, usable URI (folded field), past other vendors'" \
	bookworm http://mirror-d.example/debian
expect "deb822 .sources: bookworm-security" bookworm-security http://security-d.example/debian-security

# A .list in sources.list.d, after a sources.list with nothing for bookworm.
PVBOOT_APT_ETC=$(etc list-d)
echo "deb http://old.example/debian bullseye main" >"$PVBOOT_APT_ETC/sources.list"
echo "deb http://mirror-e.example/debian bookworm main" >"$PVBOOT_APT_ETC/sources.list.d/debian.list"
echo "deb http://ignored.example/debian bookworm main" >"$PVBOOT_APT_ETC/sources.list.d/debian.list.disabled"
expect "sources.list.d/*.list (and not *.list.disabled)" bookworm http://mirror-e.example/debian

# The host's order: sources.list first, then sources.list.d by name.
PVBOOT_APT_ETC=$(etc order)
echo "deb http://second.example/debian bookworm main" >"$PVBOOT_APT_ETC/sources.list.d/b.list"
printf 'Types: deb\nURIs: http://first.example/debian\nSuites: bookworm\nComponents: main\n' \
	>"$PVBOOT_APT_ETC/sources.list.d/a.sources"
expect "sources.list.d in name order, .list and .sources alike" bookworm http://first.example/debian

# None: scripts/build-dom0 stops at once with one line and a non-zero status.
# (A scratch cache, though it must not get as far as writing anything.)
for case in empty vendors-only; do
	PVBOOT_APT_ETC=$(etc "none-$case")
	[ "$case" = vendors-only ] &&
		echo "deb https://vendor.example/apt bookworm stable" >"$PVBOOT_APT_ETC/sources.list"
	err=$(PVBOOT_CACHE=$scratch/cache sh "$top/scripts/build-dom0" 2>&1 >/dev/null)
	rc=$?
	want="pvboot: build-dom0: no Debian mirror in the host's apt configuration ($PVBOOT_APT_ETC/sources.list, $PVBOOT_APT_ETC/sources.list.d)"
	if [ "$rc" != 0 ] && [ "$err" = "$want" ] && [ ! -e "$scratch/cache" ]; then
		pass "no mirror ($case): build-dom0 exits $rc with the one error line, before writing anything"
	else
		fail "no mirror ($case): build-dom0 exited $rc, wrote '$err'$([ -e "$scratch/cache" ] && echo ', and made a cache')"
	fi
done

# Nothing in the repository names a mirror of its own: the host's it is.
# (The pattern is built so that this file does not match itself.)
pattern="deb\\.debian\\.""org|ftp\\.[a-z.]*debian\\.""org|security\\.debian\\.""org"
hits=$(cd "$top" && grep -rnIE "$pattern" scripts tests)
if [ -z "$hits" ]; then
	pass "no Debian mirror host name in scripts/ or tests/"
else
	fail "a Debian mirror host name in the repository: $hits"
fi

exit "$failed"
