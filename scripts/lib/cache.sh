# shellcheck shell=sh
# How the scripts write into the cache ($PVBOOT_CACHE), sourced by
# scripts/fetch-debian and scripts/build-dom0.
#
# Several runs may share one cache (make check's stages, pvboot run, a user
# in another terminal), and any of them may be killed half-way.  So each
# artifact (an unpacked package, a downloaded .deb, the dom0) is made so:
#
#   1. under an exclusive lock, flock(1) on <artifact>.lock next to it: a
#      second run waits, then finds the artifact done;
#   2. once the lock is held, a temporary a killed run left (<artifact>.part
#      and the like) is removed: nobody else is writing it;
#   3. the artifact is made under its temporary name in the same directory,
#      its stamp (what says "complete") written last, into the temporary;
#   4. the temporary is renamed into place, which is atomic.
#
# A run killed at any point leaves at most a temporary, which no run trusts,
# or an artifact that is complete.  So without the lock, a stamp that is
# there may be trusted: that is each script's fast path.  A killed run's
# lock is released with its last process (flock locks die with their file
# descriptors), and a lock file left behind means nothing by itself.

# cache_lock FILE: wait for, then hold, an exclusive lock on FILE (created if
# missing) on file descriptor 9, until cache_unlock or the end of the script.
# Opened for reading: a lock file that root made (build-dom0 through sudo)
# can still be locked by the user who runs the script next.
cache_lock() {
	[ -e "$1" ] || : >"$1"
	exec 9<"$1"
	flock 9
}

cache_unlock() {
	exec 9<&-
}

# cache_test_pause WHAT: with PVBOOT_TEST_SLOW=SECONDS, sleep that long in the
# middle of making an artifact, after its temporary exists and before it is
# complete, so that tests/scripts/cache_test.sh can kill a run there or run
# a second one against it.  The line it prints is what that test waits for.
cache_test_pause() {
	[ -n "${PVBOOT_TEST_SLOW:-}" ] || return 0
	echo "pvboot: test: pausing ${PVBOOT_TEST_SLOW} s $1" >&2
	sleep "$PVBOOT_TEST_SLOW"
}
