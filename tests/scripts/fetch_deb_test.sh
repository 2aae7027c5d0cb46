#!/bin/sh
# scripts/fetch-deb against a made-up Debian mirror served on this host
# (python3's http.server on 127.0.0.1): a suite the host's configuration does
# not list, the higher of the suite's and its -security suite's versions,
# a SHA256 that does not match, a package in no index, an index gone stale.
# Each check prints one line, "ok - ..." or "FAIL - ..."; the exit status is
# non-zero if any check failed.
#
# Usage: tests/scripts/fetch_deb_test.sh   (from anywhere; offline)
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$top/build/tests-scratch/fetch-deb.$$
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf --one-file-system "$scratch"
	rmdir "$top/build/tests-scratch" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$scratch"

failed=0
pass() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	failed=1
}

www=$scratch/www
# deb ARCHIVE SUITE PACKAGE VERSION [SHA]: a tiny "package" in ARCHIVE's pool
# and its paragraph in SUITE's index (SHA: what the index claims instead).
deb() {
	f=pool/main/$3_$4_amd64.deb
	mkdir -p "$www/$1/pool/main" "$www/$1/dists/$2/main/binary-amd64"
	echo "$3 $4" >"$www/$1/$f"
	sha=${5:-$(sha256sum <"$www/$1/$f" | cut -d' ' -f1)}
	printf 'Package: %s\nVersion: %s\nFilename: %s\nSHA256: %s\n\n' "$3" "$4" "$f" "$sha" \
		>>"$www/$1/dists/$2/main/binary-amd64/Packages"
}
deb debian bullseye xen-a 4.14.6-1
deb debian-security bullseye-security xen-a 4.14.5+94-1
deb debian bullseye xen-b 1.0-1
deb debian-security bullseye-security xen-b 1.0-1+deb11u1
deb debian bullseye xen-bad 1.0 0000000000000000000000000000000000000000000000000000000000000000
for p in "$www"/*/dists/*/main/binary-amd64/Packages; do
	xz -k "$p"
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server -b 127.0.0.1 -d "$www" "$port" >/dev/null 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
	sleep 0.3
done

# The host lists only bookworm: bullseye comes through its sources' kinds.
etc=$scratch/etc
mkdir -p "$etc/sources.list.d"
cat >"$etc/sources.list" <<EOF
deb http://127.0.0.1:$port/debian bookworm main
deb http://127.0.0.1:$port/debian-security bookworm-security main
EOF
export PVBOOT_APT_ETC="$etc" PVBOOT_CACHE="$scratch/cache"

out=$(sh "$top/scripts/fetch-deb" bullseye xen-a xen-b 2>"$scratch/err")
rc=$?
want_a="xen-a=$scratch/cache/debian-archive/debs/xen-a_4.14.6-1_amd64.deb"
want_b="xen-b=$scratch/cache/debian-archive/debs/xen-b_1.0-1+deb11u1_amd64.deb"
if [ $rc = 0 ] && [ "$out" = "$want_a
$want_b" ] && [ "$(cat "$scratch/cache/debian-archive/debs/xen-b_1.0-1+deb11u1_amd64.deb")" = "xen-b 1.0-1+deb11u1" ]; then
	pass "the higher version of the suite's and its -security's, downloaded whole"
else
	fail "two packages: exit $rc, got '$out': $(cat "$scratch/err")"
fi

out=$(sh "$top/scripts/fetch-deb" bullseye xen-bad 2>"$scratch/err")
rc=$?
if [ $rc != 0 ] && [ -z "$out" ] && grep -q "SHA256 is not the index's" "$scratch/err" &&
	! ls "$scratch/cache/debian-archive/debs/" | grep -q xen-bad; then
	pass "a download whose SHA256 differs is not kept, exit $rc"
else
	fail "bad SHA256: exit $rc, '$out', $(ls "$scratch/cache/debian-archive/debs/")"
fi

out=$(sh "$top/scripts/fetch-deb" bullseye no-such 2>"$scratch/err")
rc=$?
if [ $rc != 0 ] && [ "$(wc -l <"$scratch/err")" = 1 ] &&
	grep -q "no-such is in no package index of bullseye or bullseye-security" "$scratch/err"; then
	pass "a package in no index: one line, exit $rc"
else
	fail "missing package: exit $rc: $(cat "$scratch/err")"
fi

# The mirror moves on: xen-a 4.14.6-2 replaces 4.14.6-1, whose .deb is gone.
rm -f "$scratch/cache/debian-archive/debs/xen-a_"*
rm -f "$www/debian/pool/main/xen-a_4.14.6-1_amd64.deb"
rm -f "$www"/debian/dists/bullseye/main/binary-amd64/Packages*
deb debian bullseye xen-a 4.14.6-2
deb debian bullseye xen-b 1.0-1
xz -k "$www/debian/dists/bullseye/main/binary-amd64/Packages"
out=$(sh "$top/scripts/fetch-deb" bullseye xen-a 2>"$scratch/err")
rc=$?
if [ $rc = 0 ] && [ "$out" = "xen-a=$scratch/cache/debian-archive/debs/xen-a_4.14.6-2_amd64.deb" ] &&
	grep -q "reading the indexes again" "$scratch/err"; then
	pass "a stale index is read again when its .deb is gone"
else
	fail "stale index: exit $rc, '$out': $(cat "$scratch/err")"
fi

for bad in "bull seye" "-x" "Trixie"; do
	sh "$top/scripts/fetch-deb" "$bad" xen-a >/dev/null 2>"$scratch/err"
	rc=$?
	if [ $rc != 0 ] && grep -q "is not a Debian suite name" "$scratch/err"; then
		pass "suite '$bad' refused in one line"
	else
		fail "suite '$bad': exit $rc: $(cat "$scratch/err")"
	fi
done

exit $failed
