/*
 * pvboot run's cache (docs/harness.md, "The cache"): two runs started at
 * once on an empty cache, and runs killed while Xen is downloaded, while
 * it is unpacked and while the pattern ramdisk is written, then run again.
 * Stand-ins for curl (under scripts/fetch-deb, which runs for real), dpkg
 * and QEMU, first in $PATH, and a made-up apt configuration, make it fast
 * and offline; they can hang at a step after leaving half of its work
 * behind, so that the kill lands there.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "run_log.h"
#include "util/run.h"

#define ARGS "--memory 512M --ramdisk-size 1117726 --mode revector"

static const char *pvboot(void)
{
	return getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
}

/* A path in the scratch directory, its own for the test's life. */
static const char *scratch(const char *name)
{
	static char path[32][700];
	static unsigned next;
	char *p = path[next++ % 32];

	snprintf(p, sizeof(path[0]), "%s/%s", scratch_dir(), name);
	return p;
}

static void write_script(const char *dir, const char *name, const char *body)
{
	char path[800];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	chmod(path, 0755);
}

/*
 * The stand-ins.  curl serves bookworm's package index, and the .deb in two
 * seconds (so two runs overlap); with FAKE_HANG=download it leaves half the
 * .deb and hangs.  dpkg -x, with FAKE_HANG=unpack, leaves half a tree and
 * hangs.  QEMU plays the log of a good 512 MiB revector boot of the kernel.
 */
static const char *fakes(const char *kernel)
{
	static char dir[700];
	char body[2048];

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s", scratch("bin"));
	mkdir(dir, 0755);
	write_script(dir, "curl",
		     "out=; url=\n"
		     "while [ $# -gt 0 ]; do case $1 in -o) out=$2; shift 2 ;; -*) shift ;; "
		     "*) url=$1; shift ;; esac; done\n"
		     "echo \"curl $url\" >> \"$FAKE_DIR/calls\"\n"
		     "case $url in\n"
		     "*/dists/bookworm/main/binary-amd64/Packages.xz)\n"
		     "  printf 'Package: xen-hypervisor-4.17-amd64\\nVersion: 4.17.7+13\\n"
		     "Filename: pool/main/x/xen/xen-hypervisor-4.17-amd64_4.17.7+13_amd64.deb\\n"
		     "SHA256: %s\\n\\n' \"$(echo whole | sha256sum | cut -d' ' -f1)\" | xz > \"$out\" ;;\n"
		     "*.deb)\n"
		     "  if [ \"$FAKE_HANG\" = download ]; then\n"
		     "    echo half > \"$out\"; : > \"$FAKE_DIR/hung\"; exec sleep 100\n"
		     "  fi\n"
		     "  sleep 2; echo whole > \"$out\" ;;\n"
		     "*) exit 22 ;;\n"
		     "esac\n");
	write_script(dir, "dpkg",
		     "echo \"dpkg $*\" >> \"$FAKE_DIR/calls\"\n"
		     "grep -qx whole \"$2\" || { echo \"dpkg-deb: error: $2 is truncated\" >&2; exit 2; }\n"
		     "mkdir -p \"$3/boot\"\n"
		     "if [ \"$FAKE_HANG\" = unpack ]; then\n"
		     "  echo half > \"$3/boot/xen-4.17-amd64.gz\"; : > \"$FAKE_DIR/hung\"; exec sleep 100\n"
		     "fi\n"
		     "printf '\\177ELF stand-in' | gzip > \"$3/boot/xen-4.17-amd64.gz\"\n");
	snprintf(body, sizeof(body),
		 "sed -e 's/^\\[[^]]*\\] //' -e '/^pvboot-run: /d' '%s'\nexit 33\n",
		 run_log_write(scratch("good.log"), kernel, "--memory 512M --ramdisk-size 1117726",
			       "revector", 33));
	write_script(dir, "qemu-system-x86_64", body);
	return dir;
}

static const char *kernel(void)
{
	static char path[700];

	if (!path[0]) {
		snprintf(path, sizeof(path), "%s", scratch("minipv.elf"));
		minipv_write(path, 0);
	}
	return path;
}

/* "export ...;" for a run on cache @cache with the stand-ins. */
static const char *env(const char *cache)
{
	static char buf[6 * PATH_MAX + 2000];
	char dir[PATH_MAX], scripts[PATH_MAX];

	/* Absolute: the stand-ins run in the download directory. */
	assert_non_null(realpath(scratch_dir(), dir));
	/* The repository's scripts: the sanitizer build's pvboot is not beside them. */
	assert_non_null(realpath("scripts", scripts));
	snprintf(buf, sizeof(buf),
		 "mkdir -p '%s/apt' && echo 'deb http://mirror.example/debian bookworm main' > "
		 "'%s/apt/sources.list'; "
		 "FAKE_DIR='%s' PVBOOT_CACHE='%s' PVBOOT_APT_ETC='%s/apt' PVBOOT_SCRIPTS='%s' "
		 "PATH='%s':\"$PATH\"; "
		 "export FAKE_DIR PVBOOT_CACHE PVBOOT_APT_ETC PVBOOT_SCRIPTS PATH; unset FAKE_HANG; ",
		 dir, dir, dir, cache, dir, scripts, fakes(kernel()));
	return buf;
}

/* How many lines of @text have @what. */
static unsigned count(const char *text, const char *what)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* Nothing half made is left in @cache: no temporary file, no work directory. */
static void assert_clean(const char *cache)
{
	struct run r = run_sh("find '%s' -name '*.tmp.*' -o -name work -o -name '*.part'", cache);

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void assert_xen_whole(const char *cache)
{
	struct run r = run_sh("cat '%s/xen-hypervisor/xen-4.17'", cache);

	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "\177ELF stand-in");
	run_free(&r);
}

static void test_two_runs_at_once(void **state)
{
	const char *cache;
	struct run r, calls;

	(void)state;
	fakes(kernel());
	cache = scratch("cache-both");
	unlink(scratch("calls"));
	r = run_sh("%s"
		   "( '%s' run --kernel '%s' " ARGS " > '%s/o1' 2> '%s/e1'; echo $? > '%s/s1' ) & "
		   "( '%s' run --kernel '%s' " ARGS " > '%s/o2' 2> '%s/e2'; echo $? > '%s/s2' ) & "
		   "wait; cat '%s/s1' '%s/s2' '%s/e1' '%s/e2'",
		   env(cache), pvboot(), kernel(), scratch_dir(), scratch_dir(), scratch_dir(),
		   pvboot(), kernel(), scratch_dir(), scratch_dir(), scratch_dir(), scratch_dir(),
		   scratch_dir(), scratch_dir(), scratch_dir());
	assert_int_equal(r.status, 0);
	print_message("%s", r.out);
	/* Both succeed; one fetched and wrote, the other waited for it. */
	assert_true(!strncmp(r.out, "0\n0\n", 4));
	assert_int_equal(count(r.out, "fetching Xen: scripts/fetch-deb bookworm"), 1);
	assert_int_equal(count(r.out, "writing a 1117726-byte pattern ramdisk"), 1);
	assert_true(count(r.out, "waiting for another run to finish with") >= 1);
	run_free(&r);
	calls = run_sh("cat '%s'", scratch("calls"));
	assert_int_equal(count(calls.out, "_amd64.deb\n"), 1);
	assert_int_equal(count(calls.out, "dpkg -x"), 1);
	run_free(&calls);
	r = run_sh("grep -c 'ok: all 17 checks hold' '%s/o1' '%s/o2'", scratch_dir(),
		   scratch_dir());
	assert_non_null(strstr(r.out, "/o1:1\n"));
	assert_non_null(strstr(r.out, "/o2:1\n"));
	run_free(&r);
	assert_xen_whole(cache);
	assert_clean(cache);
}

/*
 * A run killed where @hang makes a stand-in hang (after it left half its
 * work), then the same run again: it must not trust what the first left.
 */
static void killed_then_again(const char *hang, const char *cache)
{
	struct run r;

	unlink(scratch("hung"));
	unlink(scratch("calls"));
	r = run_sh("%s FAKE_HANG=%s setsid '%s' run --kernel '%s' " ARGS " > /dev/null 2>&1 & "
		   "pid=$!; i=0; while [ ! -e '%s' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; "
		   "kill -KILL -$pid; wait $pid; [ -e '%s' ]",
		   env(cache), hang, pvboot(), kernel(), scratch("hung"), scratch("hung"));
	assert_int_equal(r.status, 0); /* it did hang where asked, and was killed there */
	run_free(&r);
	r = run_sh("%s '%s' run --kernel '%s' " ARGS, env(cache), pvboot(), kernel());
	if (r.status)
		fail_msg("the run after the kill failed (%d): %s", r.status, r.err);
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	/* It fetched again rather than take the half-made .deb or tree. */
	assert_non_null(strstr(r.err, "fetching Xen: scripts/fetch-deb bookworm"));
	run_free(&r);
	assert_xen_whole(cache);
	assert_clean(cache);
}

static void test_killed_in_download(void **state)
{
	(void)state;
	killed_then_again("download", scratch("cache-download"));
}

static void test_killed_in_unpack(void **state)
{
	(void)state;
	killed_then_again("unpack", scratch("cache-unpack"));
}

/*
 * What a run killed at any other point leaves (a half-gunzipped Xen, a
 * stamp's and a ramdisk's temporaries, a work directory with half a .deb)
 * is removed by the next run, which makes each thing whole.
 */
static void test_leftovers_removed(void **state)
{
	const char *cache;
	struct run r;

	(void)state;
	fakes(kernel());
	cache = scratch("cache-leftovers");
	r = run_sh("mkdir -p '%1$s/xen-hypervisor/work' '%1$s/ramdisks' && "
		   "echo half > '%1$s/xen-hypervisor/work/xen-hypervisor-4.17-amd64_4.17.7+13_amd64.deb' && "
		   "echo half > '%1$s/xen-hypervisor/xen-4.17.tmp.99999' && "
		   "echo half > '%1$s/xen-hypervisor/.pvboot-xen-4.17-done.tmp.99999' && "
		   "echo half > '%1$s/ramdisks/splitmix64-1117726.img.tmp.99999'",
		   cache);
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run_sh("%s '%s' run --kernel '%s' " ARGS, env(cache), pvboot(), kernel());
	if (r.status)
		fail_msg("the run failed (%d): %s", r.status, r.err);
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	run_free(&r);
	assert_xen_whole(cache);
	assert_clean(cache);
}

/*
 * A run killed while it writes a 1 GiB pattern ramdisk (the kill lands
 * once the temporary file has grown past 1 MiB): the next run writes it
 * whole, equal to one written in a fresh cache, and the run after that
 * takes it as it is.
 */
static void test_killed_in_ramdisk(void **state)
{
	const char *cache, *fresh, *img = "ramdisks/splitmix64-1073741824.img";
	struct run r;

	(void)state;
	fakes(kernel());
	cache = scratch("cache-ramdisk");
	fresh = scratch("cache-fresh");
	r = run_sh("%s setsid '%s' run --kernel '%s' --memory 4G --ramdisk-size 1G --mode null "
		   "> /dev/null 2>&1 & pid=$!; i=0; "
		   "while [ $i -lt 400 ]; do "
		   "  f=$(find '%s/ramdisks' -name '*.tmp.*' -size +1M 2>/dev/null); [ -n \"$f\" ] && break; "
		   "  sleep 0.02; i=$((i+1)); done; "
		   "kill -KILL -$pid; wait $pid; [ -n \"$f\" ] && [ ! -e '%s/%s' ]",
		   env(cache), pvboot(), kernel(), cache, cache, img);
	assert_int_equal(r.status, 0); /* killed mid-write: a temporary file, no ramdisk */
	run_free(&r);

	/* The arrangement of a 1 GiB ramdisk is not the played log's: the report fails, the cache holds. */
	r = run_sh("%s '%s' run --kernel '%s' --memory 4G --ramdisk-size 1G --mode null",
		   env(cache), pvboot(), kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "writing a 1073741824-byte pattern ramdisk"));
	run_free(&r);
	r = run_sh("%s '%s' run --kernel '%s' --memory 4G --ramdisk-size 1G --mode null",
		   env(fresh), pvboot(), kernel());
	run_free(&r);
	r = run_sh("cmp '%s/%s' '%s/%s' && stat -c %%s '%s/%s'", cache, img, fresh, img, cache,
		   img);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "1073741824\n");
	run_free(&r);
	r = run_sh("%s '%s' run --kernel '%s' --memory 4G --ramdisk-size 1G --mode null",
		   env(cache), pvboot(), kernel());
	assert_null(strstr(r.err, "writing a"));
	run_free(&r);
	assert_clean(cache);
	r = run_sh("rm -f '%s/%s' '%s/%s'", cache, img, fresh, img);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_runs_at_once),
		cmocka_unit_test(test_killed_in_download),
		cmocka_unit_test(test_killed_in_unpack),
		cmocka_unit_test(test_leftovers_removed),
		cmocka_unit_test(test_killed_in_ramdisk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
