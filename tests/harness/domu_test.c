/*
 * The host side of pvboot run --domu: the newc cpio writer (listed and
 * unpacked again by cpio(1)), the dom0's module file and its reuse, the
 * machine's size against the measured QEMU peaks (docs/real-xen.md section 11),
 * QEMU's command line; and whole runs with stand-ins for QEMU (playing a
 * recorded domU log) and for scripts/build-dom0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/harness/domu.h"
#include "util/run.h"
#include "cli/domu_log.h"


static const char *pvboot(void)
{
	return getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
}

/* A path in the scratch directory, good for the next three calls. */
static const char *scratch(const char *name)
{
	static char path[4][700];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", scratch_dir(), name);
	return p;
}

/* @n bytes of a counting pattern into @path; returns @path. */
static const char *write_file(const char *path, size_t n, unsigned seed)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 7 + seed) & 0xff), f);
	fclose(f);
	return path;
}

/* ---- the cpio writer ---- */

static void test_cpio_write(void **state)
{
	static const size_t sizes[] = {0, 1, 3, 4, 5000};
	char paths[5][700], names[5][40];
	struct run_cpio_entry e[5];
	struct pv_error err = {0};
	const char *archive = scratch("guest.cpio");
	uint64_t off = 0;
	struct stat st;
	struct run r;
	FILE *f;

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), i == 4 ? "guest/kernel.elf" : "guest/f%d", i);
		snprintf(paths[i], sizeof(paths[i]), "%s/cpio-in-%d", scratch_dir(), i);
		write_file(paths[i], sizes[i], (unsigned)i);
		e[i] = (struct run_cpio_entry){names[i], paths[i]};
	}
	f = fopen(archive, "wb");
	assert_non_null(f);
	assert_int_equal(run_cpio_write(f, &off, e, 5, &err), 0);
	fclose(f);
	assert_int_equal(stat(archive, &st), 0);
	assert_int_equal((uint64_t)st.st_size, off);
	assert_int_equal(off % 4, 0);

	r = run_sh("cpio -it < '%s'", archive);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "guest/f0\nguest/f1\nguest/f2\nguest/f3\nguest/kernel.elf\n");
	run_free(&r);
	r = run_sh("cd '%1$s' && rm -rf unpacked && mkdir unpacked && cd unpacked && cpio -id --quiet < ../guest.cpio && "
		   "for i in 0 1 2 3; do cmp ../cpio-in-$i guest/f$i || exit 1; done && "
		   "cmp ../cpio-in-4 guest/kernel.elf && stat -c '%%a %%s' guest/kernel.elf",
		   scratch_dir());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "644 5000\n");
	run_free(&r);

	/* A header must start 4-byte aligned; a file must exist. */
	f = fopen(archive, "wb");
	assert_non_null(f);
	off = 2;
	assert_int_equal(run_cpio_write(f, &off, e, 1, &err), -1);
	assert_string_equal(err.msg, "a newc archive must start 4-byte aligned");
	off = 0;
	e[0].path = "/nonexistent/kernel.elf";
	assert_int_equal(run_cpio_write(f, &off, e, 1, &err), -1);
	assert_string_equal(err.msg, "/nonexistent/kernel.elf: No such file or directory");
	fclose(f);
}

/* ---- the module file ---- */

static void test_domu_modules(void **state)
{
	char cache[700], initrd[700], kernel[700], ramdisk[700], path[PATH_MAX], first[PATH_MAX];
	struct pv_error err = {0};
	struct stat st1, st2;
	bool reused;
	struct run r;

	(void)state;
	snprintf(cache, sizeof(cache), "%s", scratch("modules-cache"));
	snprintf(initrd, sizeof(initrd), "%s", write_file(scratch("dom0.cpio"), 1000, 9));
	snprintf(kernel, sizeof(kernel), "%s", write_file(scratch("kernel.elf"), 777, 1));
	snprintf(ramdisk, sizeof(ramdisk), "%s", write_file(scratch("ramdisk.img"), 4097, 2));

	assert_int_equal(run_domu_modules(cache, initrd, kernel, ramdisk, path, sizeof(path),
					  &reused, NULL, &err),
			 0);
	assert_false(reused);
	assert_non_null(strstr(path, "/modules-cache/domu/modules-kernel.elf-ramdisk.img-"));
	assert_non_null(strstr(path, ".cpio"));
	snprintf(first, sizeof(first), "%s", path);
	/* The dom0's archive, zeros to 1024, then the guest's: what Linux unpacks in turn. */
	r = run_sh("f='%1$s'; head -c 1000 \"$f\" | cmp - '%2$s' && "
		   "[ \"$(head -c 1024 \"$f\" | tail -c 24 | tr -d '\\0' | wc -c)\" = 0 ] && "
		   "[ $(($(stat -c %%s \"$f\") %% 512)) = 0 ] && tail -c +1025 \"$f\" | cpio -it",
		   path, initrd);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "guest/kernel.elf\nguest/ramdisk.img\n");
	run_free(&r);

	/* The same inputs again: the same file, untouched. */
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(run_domu_modules(cache, initrd, kernel, ramdisk, path, sizeof(path),
					  &reused, NULL, &err),
			 0);
	assert_true(reused);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);

	/* A kernel rebuilt to the same size: made again, as a new file; the first stays whole. */
	write_file(kernel, 777, 3);
	assert_int_equal(run_domu_modules(cache, initrd, kernel, ramdisk, path, sizeof(path),
					  &reused, NULL, &err),
			 0);
	assert_false(reused);
	assert_string_not_equal(path, first);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_not_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(stat(first, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	r = run_sh("tail -c +1025 '%s' | (cd '%s' && rm -rf x && mkdir x && cd x && cpio -id --quiet) && "
		   "cmp '%s' '%s/x/guest/kernel.elf'",
		   path, scratch_dir(), kernel, scratch_dir());
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* No ramdisk: a file of its own, with the kernel alone. */
	assert_int_equal(run_domu_modules(cache, initrd, kernel, NULL, path, sizeof(path), &reused,
					  NULL, &err),
			 0);
	assert_non_null(strstr(path, "/domu/modules-kernel.elf-none-"));
	r = run_sh("tail -c +1025 '%s' | cpio -it", path);
	assert_string_equal(r.out, "guest/kernel.elf\n");
	run_free(&r);

	assert_int_equal(run_domu_modules(cache, "/nonexistent/dom0.cpio", kernel, NULL, path,
					  sizeof(path), &reused, NULL, &err),
			 -1);
	assert_string_equal(err.msg, "dom0-initrd /nonexistent/dom0.cpio: No such file or directory");
}

/* ---- the machine's size ---- */

static void test_sizes(void **state)
{
	/*
	 * QEMU's peak RSS: domU, ramdisk, bytes; measured with pvboot's kernel
	 * (revector, every pfn verified), or in docs/real-xen.md section 11 with
	 * another guest.
	 */
	static const struct {
		uint64_t domu, ramdisk, peak;
		bool ours;
	} measured[] = {
		{512 * MiB, 0, 1180000000ULL, true},
		{128 * GiB, 0x10784000, 4690000000ULL, true},
		{384 * GiB, 0, 7990000000ULL, true},
		{512 * MiB, 0, 1300000000ULL, false},
		{128 * GiB, 0x10784000, 4100000000ULL, false},
		{256 * GiB, 0x10784000, 5400000000ULL, false},
		{512 * GiB, 0x10784000, 9300000000ULL, false},
	};

	(void)state;
	assert_int_equal(run_domu_dom0_mib(512 * MiB), 2048);
	assert_int_equal(run_domu_dom0_mib(256 * GiB), 2048);
	assert_int_equal(run_domu_dom0_mib(384 * GiB), 3072);
	/* dom0 + domU + modules, 10% and 512 MiB, in 256 MiB steps. */
	assert_int_equal(run_domu_qemu_mib(2048, 512 * MiB, 0), 3840);
	assert_int_equal(run_domu_qemu_mib(2048, 128 * GiB, 0x10784000), 147712);
	for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++) {
		uint64_t dom0 = run_domu_dom0_mib(measured[i].domu);
		uint64_t qemu = run_domu_qemu_mib(dom0, measured[i].domu, measured[i].ramdisk);
		uint64_t need = run_domu_host_need(qemu, measured[i].domu, measured[i].ramdisk);

		print_message("%llu GiB: QEMU %llu MiB, need %.2f GB, measured %.2f GB\n",
			      (unsigned long long)(measured[i].domu >> 30),
			      (unsigned long long)qemu, need / 1e9, measured[i].peak / 1e9);
		/* Enough for the domU, its dom0 and 10% of both. */
		assert_true(qemu * MiB >= (measured[i].domu + dom0 * MiB) * 11 / 10);
		/* At least what was measured, and for pvboot's kernel not a quarter more. */
		assert_true(need >= measured[i].peak);
		assert_true(!measured[i].ours || need <= measured[i].peak * 5 / 4);
	}
}

static const char *arg_after(const struct run_cmdline *c, const char *opt)
{
	for (unsigned i = 0; i + 1 < c->argc; i++)
		if (!strcmp(c->argv[i], opt))
			return c->argv[i + 1];
	fail_msg("no %s", opt);
	return NULL;
}

static void test_domu_cmdline(void **state)
{
	struct run_domu_plan dp = {
		.dom0_mib = 2048,
		.domu_wait = 98,
		.dom0_kernel = "/c/dom0/vmlinuz",
		.modules = "/c/domu/modules-pvboot-kernel-seed.elf-a,b.img.cpio",
	};
	struct run_plan p = {
		.kind = &run_kind_domu,
		.ramdisk = true,
		.ramdisk_sum = 0x77775ca5bb826fecULL,
		.memory = 128 * GiB,
		.qemu_mib = 147456,
		.xen = "/c/xen-4.17",
		.verify_full = true,
		.priv = &dp,
	};
	struct run_cmdline *c = calloc(1, sizeof(*c));
	struct pv_error err = {0};

	(void)state;
	assert_int_equal(run_domu_cmdline(&p, PV_MODE_REVECTOR, c, &err), 0);
	assert_string_equal(c->argv[0], "qemu-system-x86_64");
	assert_null(c->argv[c->argc]);
	assert_string_equal(arg_after(c, "-cpu"), "max,-smap");
	assert_string_equal(arg_after(c, "-smp"), "2");
	assert_string_equal(arg_after(c, "-object"),
			    "memory-backend-ram,id=m0,size=147456M,reserve=off");
	assert_string_equal(arg_after(c, "-m"), "147456");
	assert_string_equal(arg_after(c, "-kernel"), "/c/xen-4.17");
	assert_string_equal(arg_after(c, "-append"),
			    "console=com1 com1=115200 dom0_mem=2048M,max:2048M bootscrub=0 loglvl=all guest_loglvl=all");
	assert_string_equal(arg_after(c, "-initrd"),
			    "/c/dom0/vmlinuz console=hvc0 earlyprintk=xen loglevel=4 pvboot.memory=131072 "
			    "pvboot.extra=\"mode=revector verify=full ramdisk_sum=0x77775ca5bb826fec\" "
			    "pvboot.ramdisk=/guest/ramdisk.img pvboot.timeout=98,"
			    "/c/domu/modules-pvboot-kernel-seed.elf-a,,b.img.cpio");
	for (unsigned i = 0; i < c->argc; i++)
		assert_string_not_equal(c->argv[i],
					"-device"); /* no isa-debug-exit: dom0 powers off */

	p.ramdisk = false;
	p.verify_full = false;
	p.memory = 512 * MiB;
	assert_int_equal(run_domu_cmdline(&p, PV_MODE_NULL, c, &err), 0);
	assert_non_null(strstr(arg_after(c, "-initrd"),
			       " pvboot.memory=512 pvboot.extra=\"mode=null verify=sample\" "
			       "pvboot.ramdisk=none pvboot.timeout=98,"));
	free(c);
}

/* ---- whole runs with stand-ins ---- */

#define RAMDISK_ARGS "--memory 512M --ramdisk-size 1117726"

/* A qemu-system-x86_64 that records its arguments and plays $FAKE_QEMU_LOG, and a build-dom0. */
static const char *fakes(void)
{
	static char dir[700];
	char path[800];
	FILE *f;

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s", scratch("domu-bin"));
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/qemu-system-x86_64", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"printf '%%s\\n' \"$@\" > \"$FAKE_DIR/args\"\n"
		"case $FAKE_QEMU_MODE in\n"
		"ok) sed -e 's/^\\[[^]]*\\] //' -e '/^pvboot-run: /d' \"$FAKE_QEMU_LOG\"; exit 0 ;;\n"
		"crash) echo '(XEN) Xen version 4.17.7 (stand-in)'\n"
		"       echo '(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.'; sleep 100 ;;\n"
		"esac\n");
	fclose(f);
	chmod(path, 0755);
	snprintf(path, sizeof(path), "%s/build-dom0", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "echo \"cache $PVBOOT_CACHE\" > \"$FAKE_DIR/build-dom0.called\"\n"
		   "case $FAKE_DOM0 in\n"
		   "fail) exit 3 ;;\n"
		   "nokernel) echo \"initrd=$FAKE_DIR/dom0.cpio\"; exit 0 ;;\n"
		   "esac\n"
		   "echo 'build-dom0: up to date' >&2\n"
		   "echo \"kernel=$FAKE_DIR/vmlinuz\"\n"
		   "echo \"initrd=$FAKE_DIR/dom0.cpio\"\n");
	fclose(f);
	write_file(scratch("domu-bin/vmlinuz"), 100, 4);
	write_file(scratch("domu-bin/dom0.cpio"), 1000, 5);
	write_file(scratch("domu-bin/xen-4.17"), 10, 6);
	return dir;
}

/* pvboot run --domu with the stand-ins; @env and @post go around it in the shell. */
static struct run run_fake(const char *env, const char *args, const char *post)
{
	return run_sh("FAKE_DIR='%1$s' PVBOOT_SCRIPTS='%1$s' PVBOOT_CACHE='%2$s/cache' "
		      "PATH='%1$s':\"$PATH\" %3$s '%4$s' run --domu --xen '%1$s/xen-4.17' %5$s %6$s",
		      fakes(), scratch_dir(), env, pvboot(), args, post);
}

static const char *fake_kernel(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s",
			 domu_kernel_write(scratch("domu-kernel.elf"), DOMU_PLAIN_SIZE, 0));
	return path;
}

/* A boot: QEMU's command line, the module it gets, the log, the same verdict from the log. */
static void test_fake_run(void **state)
{
	char env[1000], args[1000];
	struct run r;

	(void)state;
	snprintf(env, sizeof(env), "FAKE_QEMU_MODE=ok FAKE_QEMU_LOG='%s'",
		 domu_log_write(scratch("play.log"), fake_kernel(), RAMDISK_ARGS, "revector",
				DOMU_POWEROFF));
	snprintf(args, sizeof(args), "--kernel '%s' " RAMDISK_ARGS " --mode revector", fake_kernel());
	r = run_fake(env, args, "");
	print_message("%s", r.err);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ok: all 16 checks hold"));
	assert_non_null(
		strstr(r.out,
		       "  QEMU      3840 MiB (3.8 GiB) for Xen, a 2048 MiB dom0 and the domU\n"));
	assert_non_null(strstr(r.err, "build-dom0: up to date\n"));
	assert_non_null(strstr(r.err, "pvboot: run: the guest's files appended to the dom0's "
				      "initramfs: "));
	assert_non_null(strstr(r.err, "512 MiB domU, revector: QEMU started (3.8 GiB)\n"));
	assert_non_null(strstr(r.err, "512 MiB domU, revector: dom0 Linux booting\n"));
	assert_non_null(
		strstr(r.err, "512 MiB domU, revector: dom0 ready (xenstored, xenconsoled)\n"));
	assert_non_null(strstr(r.err, "512 MiB domU, revector: xl create running"));
	assert_non_null(
		strstr(r.err, "512 MiB domU, revector: domU running (xl create took 0.61 s)\n"));
	assert_non_null(
		strstr(r.err, "512 MiB domU, revector: domU shutdown (poweroff) after 0.26 s\n"));
	assert_non_null(strstr(r.err, "512 MiB domU, revector: guest result (PVBOOT-RESULT)\n"));
	assert_non_null(
		strstr(r.err, "512 MiB domU, revector: powered off (QEMU exited with status 0)\n"));
	run_free(&r);

	/* build-dom0 ran with pvboot's cache; QEMU got the dom0 and the module. */
	r = run_sh("cat '%1$s/build-dom0.called' && grep -x -A1 -- -smp '%1$s/args' | tail -n 1 && "
		   "grep -x -A1 -- -initrd '%1$s/args' | tail -n 1",
		   fakes());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "/cache\n2\n"));
	assert_non_null(strstr(r.out,
			       "/domu-bin/vmlinuz console=hvc0 earlyprintk=xen loglevel=4 "
			       "pvboot.memory=512 pvboot.extra=\"mode=revector verify=full "
			       "ramdisk_sum=0xa8bc9d7dec4c3c25\" pvboot.ramdisk=/guest/ramdisk.img "
			       "pvboot.timeout=60,"));
	assert_non_null(
		strstr(r.out, "/cache/domu/modules-domu-kernel.elf-splitmix64-1117726.img-"));
	run_free(&r);
	r = run_sh("tail -c +1025 '%s'/cache/domu/modules-domu-kernel.elf-splitmix64-1117726.img-*.cpio "
		   "| cpio -it",
		   scratch_dir());
	assert_string_equal(r.out, "guest/kernel.elf\nguest/ramdisk.img\n");
	run_free(&r);

	/* The log pvboot wrote says the same; the second run reuses the module. */
	r = run_pvboot("run --serial-log '%s/run-logs/domu-512M-revector.log' --kernel '%s' " RAMDISK_ARGS,
		       scratch_dir(), fake_kernel());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ok: all 16 checks hold"));
	run_free(&r);
	r = run_fake(env, args, "");
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.err, "appended"));
	run_free(&r);

	/* Xen says the dom0 crashed: QEMU is killed at once, and the report says why. */
	r = run_fake("FAKE_QEMU_MODE=crash", args, "--format json | jq -r '.checks[0:2][].detail'");
	assert_string_equal(r.out,
			    "Xen reported a crash: (XEN) Hardware Dom0 crashed: rebooting "
			    "machine in 5 seconds.\n"
			    "the dom0 never printed PVBOOT-DOM0-DONE (nor PVBOOT-DOM0-READY)\n");
	run_free(&r);
}

/* scripts/build-dom0 missing, failing or saying nothing useful; a guest too big for the host. */
static void test_fake_failures(void **state)
{
	char args[1000];
	struct run r;

	(void)state;
	snprintf(args, sizeof(args), "--kernel '%s' --memory 512M", fake_kernel());
	r = run_sh("PVBOOT_SCRIPTS=/nonexistent PVBOOT_CACHE='%s/cache' PATH='%s':\"$PATH\" "
		   "'%s' run --domu --xen '%s/xen-4.17' %s",
		   scratch_dir(), fakes(), pvboot(), fakes(), args);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "pvboot: run: /nonexistent/build-dom0: No such file or directory "
				   "(one of pvboot's scripts; set PVBOOT_SCRIPTS to their directory)\n");
	run_free(&r);

	r = run_fake("FAKE_DOM0=fail", args, "");
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "pvboot: run: "));
	assert_non_null(strstr(r.err, "/domu-bin/build-dom0 failed with status 3\n"));
	run_free(&r);

	r = run_fake("FAKE_DOM0=nokernel", args, "");
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "/domu-bin/build-dom0 printed no kernel= line\n"));
	run_free(&r);

	/* 64 TiB: about 1 TB of host memory, refused before anything starts (an INIT_P2M kernel). */
	snprintf(args, sizeof(args), "--kernel '%s' --memory 64T",
		 domu_kernel_write(scratch("init-p2m.elf"), DOMU_PLAIN_SIZE, 0x8000000000ULL));
	r = run_fake("", args, "");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_int_equal(count_lines(r.err), 1);
	assert_non_null(strstr(r.err, "pvboot: run: this domU needs about "));
	assert_non_null(strstr(r.err, "of host memory for QEMU (the dom0, Xen's frame table, the M2P "
				      "and P2M entries, the ramdisk), but only "));
	run_free(&r);

	r = run_sh("rm -r '%s/cache/ramdisks' '%s/cache/domu'", scratch_dir(), scratch_dir());
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio_write), cmocka_unit_test(test_domu_modules),
		cmocka_unit_test(test_sizes),	   cmocka_unit_test(test_domu_cmdline),
		cmocka_unit_test(test_fake_run),   cmocka_unit_test(test_fake_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
