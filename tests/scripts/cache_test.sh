#!/bin/bash
# The cache that scripts/fetch-debian and scripts/build-dom0 write
# (scripts/lib/cache.sh): two runs at once on an empty cache do the work
# once and agree, and a run killed (SIGKILL, its whole process group) in
# the middle of a download, an unpacking or the dom0's build leaves nothing
# that the next run trusts: that run gives the right result.
#
# Offline and quick: apt-get and apt-cache are stand-ins on $PATH that serve
# two small made-up packages (apt-get download writes the .deb under its
# final name as it arrives, as the real one does, FAKE_APT_SLOW seconds in
# the middle); build-dom0 runs with PVBOOT_TEST_FAKE_BUILD=1, everything but
# debootstrap and the cpio, and PVBOOT_TEST_SLOW=SECONDS holds either
# script inside its lock, before the artifact is complete.  Everything goes
# to build/tests-scratch/cache.<pid>, removed at the end.
#
# Each check prints one line, "ok - ..." or "FAIL - ..."; the exit status is
# non-zero if any check failed.
#
# Usage: tests/scripts/cache_test.sh   (from anywhere; needs dpkg-deb, flock, setsid)
# shellcheck disable=SC2317 # the checks are functions that check() calls
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$top/build/tests-scratch/cache.$$
bg_pids=

finish() {
	# No run of ours may outlive the test (and keep writing into $scratch).
	for p in $bg_pids; do
		kill -KILL -- "-$p" 2>/dev/null
	done
	rm -rf --one-file-system "$scratch"
	rmdir "$top/build/tests-scratch" 2>/dev/null
}
trap finish EXIT
trap 'exit 130' INT TERM

failed=0
pass() { echo "ok - $1"; }
fail() {
	echo "FAIL - $1"
	failed=1
}

# --- two made-up packages, and apt-get and apt-cache that serve them -------

mkdir -p "$scratch/pkgs" "$scratch/bin"
kver=6.1.0-99-amd64
kpkg=linux-image-$kver

# mkdeb NAME VERSION: build $scratch/pkgs/NAME_VERSION_amd64.deb from the
# tree in $scratch/tree-NAME.
mkdeb() {
	mkdir -p "$scratch/tree-$1/DEBIAN"
	printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: pvboot tests <tests@pvboot.example>\nDescription: made up for tests/scripts/cache_test.sh\n' \
		"$1" "$2" >"$scratch/tree-$1/DEBIAN/control"
	dpkg-deb --root-owner-group -Znone --build "$scratch/tree-$1" \
		"$scratch/pkgs/${1}_${2}_amd64.deb" >/dev/null
}
mkdir -p "$scratch/tree-$kpkg/boot"
# 512 KiB that do not compress: half a .deb is visibly half.
head -c 524288 /dev/urandom >"$scratch/tree-$kpkg/boot/vmlinuz-$kver"
mkdeb "$kpkg" 6.1.999-1
mkdir -p "$scratch/tree-xen-utils-4.17/usr/lib/xen-4.17/bin"
printf '#!/bin/sh\necho readnotes stand-in\n' >"$scratch/tree-xen-utils-4.17/usr/lib/xen-4.17/bin/readnotes"
chmod 0755 "$scratch/tree-xen-utils-4.17/usr/lib/xen-4.17/bin/readnotes"
mkdeb xen-utils-4.17 4.17.0-test1
kernel_want=$scratch/tree-$kpkg/boot/vmlinuz-$kver

cat >"$scratch/bin/apt-get" <<'EOF'
#!/bin/sh
# apt-get download PKG as apt does it: into the current directory, under the
# .deb's final name, as the bytes arrive.  Every call is logged.
echo "apt-get $*" >>"$FAKE_APT_LOG"
[ "$1" = update ] && exit 0
[ "$1" = download ] || exit 100
for src in "$FAKE_APT_PKGS/${2}_"*.deb; do
	[ -f "$src" ] || exit 100
	name=${src##*/}
	half=$(($(stat -c %s "$src") / 2))
	head -c "$half" "$src" >"$name"
	sleep "${FAKE_APT_SLOW:-0}"
	tail -c +"$((half + 1))" "$src" >>"$name"
done
EOF
cat >"$scratch/bin/apt-cache" <<EOF
#!/bin/sh
case "\$1 \$2" in
"depends linux-image-amd64") printf 'linux-image-amd64\n  Depends: $kpkg\n' ;;
*) exit 100 ;;
esac
EOF
chmod 0755 "$scratch/bin/apt-get" "$scratch/bin/apt-cache"

# build-dom0 reads the host's mirror before anything else: a made-up one.
mkdir -p "$scratch/apt/sources.list.d"
echo "deb http://mirror.example/debian bookworm main" >"$scratch/apt/sources.list"

export PATH="$scratch/bin:$PATH" FAKE_APT_PKGS="$scratch/pkgs" PVBOOT_APT_ETC="$scratch/apt"
unset PVBOOT_TEST_SLOW PVBOOT_TEST_FAKE_BUILD FAKE_APT_SLOW

# xen_fetched CACHE VERSION: what `pvboot run` leaves in CACHE/xen-hypervisor
# once it fetched Xen (src/harness/xen.c): the hypervisor's .deb and the
# stamp that names it, from which build-dom0 takes the Xen version.
xen_fetched() {
	local d=$1/xen-hypervisor deb=xen-hypervisor-4.17-amd64_${2}_amd64.deb
	[ -f "$scratch/pkgs/$deb" ] || mkdeb xen-hypervisor-4.17-amd64 "$2"
	mkdir -p "$d"
	cp "$scratch/pkgs/$deb" "$d/"
	echo "$deb" >"$d/.pvboot-xen-4.17-done"
}

# --- running the scripts --------------------------------------------------

# start NAME CACHE SCRIPT [VAR=VALUE...]: run scripts/SCRIPT in the
# background, in a process group of its own (so that all of it can be
# killed), its output in $scratch/NAME.{out,err,rc}, with PVBOOT_CACHE=CACHE
# and FAKE_APT_LOG=CACHE.apt-log (outside the cache).
start() {
	local name=$1 cache=$2 script=$3
	shift 3
	rm -f "$scratch/$name".*
	# (The subshell's own stderr, where bash reports "Killed", is not wanted.)
	(
		cd "$top" &&
			env PVBOOT_CACHE="$cache" FAKE_APT_LOG="$cache.apt-log" "$@" \
				setsid sh "scripts/$script" >"$scratch/$name.out" 2>"$scratch/$name.err"
		echo $? >"$scratch/$name.rc"
	) 2>/dev/null &
	# The subshell's one child is the run: its pid is its process group.
	pid=
	wait_for 10 eval 'pid=$(pgrep -P $! | head -n 1); [ -n "$pid" ]'
	bg_pids="$bg_pids $pid"
	eval "pid_$name=$pid"
}

# run NAME CACHE SCRIPT [VAR=VALUE...]: the same, in the foreground.
run() {
	start "$@"
	finished "$1" 60
}

# finished NAME SECONDS: wait for NAME's run to end; false after SECONDS.
finished() {
	wait_for "$2" test -f "$scratch/$1.rc"
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s; false after SECONDS.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# kill_run NAME: SIGKILL to all of NAME's run, and wait for it to be gone.
kill_run() {
	local pid
	eval "pid=\$pid_$1"
	[ -n "$pid" ] && [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ] ||
		{ echo "cache_test: $1 is not in a process group of its own" >&2; return 1; }
	kill -KILL -- "-$pid"
	finished "$1" 10
}

rc_of() { cat "$scratch/$1.rc" 2>/dev/null || echo none; }

# downloads CACHE PKG: how many times apt-get download PKG ran for CACHE.
downloads() { grep -c "^apt-get download $2\$" "$1.apt-log" 2>/dev/null; }

# leftovers CACHE: temporaries in CACHE (none may be left after a good run).
leftovers() { find "$1" \( -name '*.part' -o -name '*.old' -o -name '*.work' \) -print; }

# fetch_ok NAME CACHE: NAME's fetch-debian run exited 0 and printed the
# kernel and readnotes of the made-up packages, whole, and the cache holds
# the two .debs, whole, and no temporaries.  Else false, saying why.
fetch_ok() {
	local out=$scratch/$1.out cache=$2 kernel readnotes
	kernel=$(sed -n 's/^kernel=//p' "$out")
	readnotes=$(sed -n 's/^readnotes=//p' "$out")
	why=
	if [ "$(rc_of "$1")" != 0 ]; then
		why="exit status $(rc_of "$1"): $(tail -n 3 "$scratch/$1.err" | tr '\n' ' ')"
	elif [ "$kernel" != "$cache/debian/linux/boot/vmlinuz-$kver" ] || ! cmp -s "$kernel" "$kernel_want"; then
		why="kernel '$kernel' is not the package's"
	elif [ "$readnotes" != "$cache/debian/xen/usr/lib/xen-4.17/bin/readnotes" ] || [ ! -x "$readnotes" ]; then
		why="no readnotes at '$readnotes'"
	elif ! cmp -s "$cache/debian/debs/${kpkg}_6.1.999-1_amd64.deb" "$scratch/pkgs/${kpkg}_6.1.999-1_amd64.deb"; then
		why="the cached kernel .deb is not the package"
	elif [ -n "$(leftovers "$cache")" ]; then
		why="temporaries left: $(leftovers "$cache" | tr '\n' ' ')"
	fi
	[ -z "$why" ]
}

# check NAME CONDITION-COMMAND...: ok or FAIL with $why.
check() {
	local name=$1
	shift
	why=
	if "$@"; then
		pass "$name"
	else
		fail "$name${why:+: $why}"
	fi
}

# --- scripts/fetch-debian -------------------------------------------------

# Two runs at once on an empty cache: the second waits for the first's
# lock, then finds the packages unpacked; each is downloaded once.
c=$scratch/c-fetch-two
start a "$c" fetch-debian FAKE_APT_SLOW=1
wait_for 10 compgen -G "$c/debian/debs/*.part/*.deb" >/dev/null
start b "$c" fetch-debian FAKE_APT_SLOW=1
finished a 60
finished b 60
two_runs_agree() {
	fetch_ok a "$c" || return 1
	fetch_ok b "$c" || { why="second run: $why"; return 1; }
	cmp -s "$scratch/a.out" "$scratch/b.out" || { why="the two runs printed different paths"; return 1; }
	[ "$(downloads "$c" "$kpkg")" = 1 ] && [ "$(downloads "$c" xen-utils-4.17)" = 1 ] ||
		{ why="downloads: $kpkg $(downloads "$c" "$kpkg"), xen-utils-4.17 $(downloads "$c" xen-utils-4.17)"; return 1; }
}
check "fetch-debian: two concurrent runs on an empty cache agree, one download per package" two_runs_agree

# Killed in the middle of apt-get download: half a .deb exists, under the
# name it will have; it must not be taken for the package.
c=$scratch/c-fetch-kill-download
start a "$c" fetch-debian FAKE_APT_SLOW=30
killed_in_download() {
	wait_for 10 compgen -G "$c/debian/debs/*.part/${kpkg}_*.deb" >/dev/null ||
		{ why="the download never started"; return 1; }
	kill_run a || { why="could not kill it"; return 1; }
	[ -z "$(find "$c/debian/debs" -maxdepth 1 -name '*.deb')" ] ||
		{ why="a .deb in debs/ after the kill"; return 1; }
	run b "$c" fetch-debian
	fetch_ok b "$c"
}
check "fetch-debian: killed mid-download (half a .deb), the next run fetches it whole" killed_in_download

# Killed in the middle of unpacking (the .deb whole, the tree half-made):
# the next run unpacks again, from the cached .deb.
c=$scratch/c-fetch-kill-unpack
start a "$c" fetch-debian PVBOOT_TEST_SLOW=30
killed_in_unpack() {
	wait_for 10 grep -q "pvboot: test: pausing" "$scratch/a.err" ||
		{ why="never reached the pause: $(tail -n 3 "$scratch/a.err" | tr '\n' ' ')"; return 1; }
	kill_run a || { why="could not kill it"; return 1; }
	[ -d "$c/debian/linux.part" ] && [ ! -e "$c/debian/linux" ] ||
		{ why="expected linux.part and no linux/ after the kill"; return 1; }
	run b "$c" fetch-debian
	fetch_ok b "$c" || return 1
	[ "$(downloads "$c" "$kpkg")" = 1 ] || { why="the whole .deb was downloaded again"; return 1; }
}
check "fetch-debian: killed mid-unpack, the next run unpacks again from the cached .deb" killed_in_unpack

# A half .deb in debs/ itself, as fetch-debian before this cache scheme left
# it when killed: dpkg -x refuses it, and it is fetched again.
c=$scratch/c-fetch-old-half
mkdir -p "$c/debian/debs"
deb=$scratch/pkgs/${kpkg}_6.1.999-1_amd64.deb
head -c $(($(stat -c %s "$deb") / 2)) "$deb" >"$c/debian/debs/${deb##*/}"
run a "$c" fetch-debian
old_half() {
	fetch_ok a "$c" || return 1
	[ "$(downloads "$c" "$kpkg")" = 1 ] || { why="downloads: $(downloads "$c" "$kpkg")"; return 1; }
}
check "fetch-debian: a half .deb an older version left in debs/ is fetched again" old_half

# --- scripts/build-dom0 (PVBOOT_TEST_FAKE_BUILD) ---------------------------

# dom0_ok NAME CACHE [XEN_VERSION]: NAME's build-dom0 run exited 0 and
# printed the dom0's paths; the dom0 is complete (stamp, stand-in cpio for
# XEN_VERSION, kernel) and no temporaries are left.
dom0_ok() {
	local out=$scratch/$1.out cache=$2 xen=${3:-4.17.0-test1}
	why=
	if [ "$(rc_of "$1")" != 0 ]; then
		why="exit status $(rc_of "$1"): $(tail -n 3 "$scratch/$1.err" | tr '\n' ' ')"
	elif [ "$(cat "$out")" != "kernel=$cache/dom0/vmlinuz
initrd=$cache/dom0/dom0.cpio" ]; then
		why="printed '$(tr '\n' ' ' <"$out")'"
	elif ! cmp -s "$cache/dom0/vmlinuz" "$kernel_want"; then
		why="dom0/vmlinuz is not the kernel"
	elif ! grep -qx "xen $xen" "$cache/dom0/stamp" || ! cmp -s "$cache/dom0/stamp" "$cache/dom0/dom0.cpio"; then
		why="dom0/stamp or dom0/dom0.cpio is not for Xen $xen"
	elif [ -n "$(leftovers "$cache")" ]; then
		why="temporaries left: $(leftovers "$cache" | tr '\n' ' ')"
	fi
	[ -z "$why" ]
}

builds() { cat "$scratch"/*.err | grep -c "test: a stand-in for the dom0"; }

# The pause inside build-dom0's lock (fetch-debian, which it runs first,
# would pause too: the build tests start with the packages fetched).
paused_in_build() { grep -q "pvboot: test: pausing .*before the dom0 is complete" "$scratch/$1.err"; }
prefetch() { xen_fetched "$1" 4.17.0-test1 && run prefetch "$1" fetch-debian && [ "$(rc_of prefetch)" = 0 ]; }

# Two builds at once on an empty cache: one builds, the other waits, then
# finds the dom0 up to date.
c=$scratch/c-dom0-two
prefetch "$c"
start a "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1 PVBOOT_TEST_SLOW=2
wait_for 20 paused_in_build a
start b "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1 PVBOOT_TEST_SLOW=2
finished a 60
finished b 60
two_builds() {
	dom0_ok a "$c" || return 1
	dom0_ok b "$c" || { why="second run: $why"; return 1; }
	[ "$(builds)" = 1 ] || { why="$(builds) builds, not 1"; return 1; }
}
check "build-dom0: two concurrent builds on an empty cache agree, one build" two_builds

# Killed in the middle of the build: no dom0/ (nothing to trust), the next
# run clears dom0.work and builds.
c=$scratch/c-dom0-kill
prefetch "$c"
start a "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1 PVBOOT_TEST_SLOW=30
killed_in_build() {
	wait_for 20 paused_in_build a ||
		{ why="never reached the pause: $(tail -n 3 "$scratch/a.err" | tr '\n' ' ')"; return 1; }
	kill_run a || { why="could not kill it"; return 1; }
	[ -d "$c/dom0.work/out" ] && [ ! -e "$c/dom0" ] ||
		{ why="expected dom0.work/out and no dom0/ after the kill"; return 1; }
	run b "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1
	dom0_ok b "$c"
}
check "build-dom0: killed mid-build, the next run builds a complete dom0" killed_in_build

# Killed in the middle of a rebuild (the Xen version changed): the dom0 in
# place stays the old one, whole, until the new one replaces it.
rebuild_killed() {
	cp "$c/dom0/stamp" "$scratch/old-stamp"
	xen_fetched "$c" 4.17.0-test2
	start a "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1 PVBOOT_TEST_SLOW=30
	wait_for 20 paused_in_build a ||
		{ why="never reached the pause: $(tail -n 3 "$scratch/a.err" | tr '\n' ' ')"; return 1; }
	kill_run a || { why="could not kill it"; return 1; }
	cmp -s "$c/dom0/stamp" "$scratch/old-stamp" && cmp -s "$c/dom0/dom0.cpio" "$scratch/old-stamp" ||
		{ why="dom0/ is not the old one, whole, after the kill"; return 1; }
	run b "$c" build-dom0 PVBOOT_TEST_FAKE_BUILD=1
	dom0_ok b "$c" 4.17.0-test2
}
check "build-dom0: killed mid-rebuild, the old dom0 stays whole; the next run replaces it" rebuild_killed

exit "$failed"
