/*
 * pvboot run from the outside, without QEMU: the whole check and report
 * path on recorded serial logs (--serial-log), the process handling with a
 * stand-in for qemu-system-x86_64 (its command line, the log it leaves, a
 * timeout, a crash, Ctrl-C), and bad usage.  Booting the real Xen is for
 * the real-boot tests.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <cmocka.h>

#include <pvboot/host.h>

#include "util/run.h"
#include "run_log.h"

#define FIXTURES "tests/cli/fixtures/"

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

/* ---- the kernel for the prediction, and the logs a run of it leaves ---- */

static const char *write_kernel(const char *name, uint64_t init_p2m)
{
	const char *path = scratch(name);

	minipv_write(path, init_p2m);
	return path;
}

static const char *kernel(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s", write_kernel("minipv.elf", 0));
	return path;
}

#define REVECTOR_ARGS "--memory 512M --ramdisk-size 1117726"

/* The log a real 512 MiB revector boot of kernel() with a pattern ramdisk leaves. */
static const char *revector_log(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s",
			 run_log_write(scratch("dom0-512M-revector.log"), kernel(), REVECTOR_ARGS,
				       "revector", 33));
	return path;
}

/* ---- the whole path on recorded logs ---- */

#define SIM_AGREES "simulation-agrees"
#define SIM_SAYS   "`pvboot simulate --builder xen-4.17-dom0`"

static void test_log_revector(void **state)
{
	struct run r = run_pvboot("run --serial-log '%s' --kernel '%s' " REVECTOR_ARGS,
				  revector_log(), kernel());

	(void)state;
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB dom0, revector, verify full =="));
	assert_non_null(
		strstr(r.out, "  Dom0 kernel     paddr 0x0 -> 0x8420                  agree\n"));
	assert_non_null(
		strstr(r.out, "  Phys-Mach map   ffffffff8011a000->ffffffff8021a000   agree\n"));
	assert_non_null(strstr(r.out, "hypervisor 1.13 s, kernel 0.22 s, total 1.36 s"));
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	run_free(&r);

	r = run_sh("'%s' run --serial-log '%s' --kernel '%s' " REVECTOR_ARGS
		   " --mode revector --format json | jq -r '[.ok, .mode, .arrangement.agree, "
		   ".qemu.exit_status, .qemu.kernel_code, .result.ramdisk_sum, .wall_seconds.hypervisor, "
		   ".wall_seconds.kernel, (.checks | length), (.checks | map(select(.ok | not)) | length)] "
		   "| map(tostring) | join(\" \")'",
		   pvboot(), revector_log(), kernel());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "true revector true 33 0x10 0xa8bc9d7dec4c3c25 1.13 0.22 17 0\n");
	run_free(&r);

	/* The simulated Xen printed the same PVBOOT-RESULT, every field of it. */
	r = run_sh("'%s' run --serial-log '%s' --kernel '%s' " REVECTOR_ARGS
		   " --format json | jq -r '. as $r | .checks[] | select(.name == \"" SIM_AGREES "\") "
		   "| [.ok, .detail == \"all \\($r.result | length) fields equal " SIM_SAYS "\", "
		   "$r.result_line == $r.simulated_result_line, ($r.result | length) > 0] "
		   "| map(tostring) | join(\" \")'",
		   pvboot(), revector_log(), kernel());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "true true true true\n");
	run_free(&r);

	/* Real and predicted segments in exactly the form pvboot layout prints. */
	r = run_sh("'%1$s' run --serial-log '%4$s' --kernel '%2$s' " REVECTOR_ARGS
		   " --format json | jq -c .arrangement.real.segments > '%3$s/real' && "
		   "'%1$s' run --serial-log '%4$s' --kernel '%2$s' " REVECTOR_ARGS
		   " --format json | jq -c .arrangement.predicted.segments > '%3$s/pred' && "
		   "'%1$s' layout --builder xen-4.17-dom0 --kernel '%2$s' " REVECTOR_ARGS
		   " --format json | jq -c .segments > '%3$s/layout' && "
		   "cmp '%3$s/real' '%3$s/layout' && cmp '%3$s/pred' '%3$s/layout'",
		   pvboot(), kernel(), scratch_dir(), revector_log());
	assert_int_equal(r.status, 0);
	run_free(&r);
}

/*
 * The revector log with one field of its PVBOOT-RESULT changed by @sed:
 * pvboot run must fail and say @says (and @also_says when not NULL),
 * with @nr_failed of its 15 checks failing.
 */
static void expect_altered(const char *sed, unsigned nr_failed, const char *says,
			   const char *also_says)
{
	const char *log = scratch("altered.log");
	char failed[64];
	struct run r = run_sh("sed '%s' '%s' > '%s' && ! cmp -s '%s' '%s'", sed, revector_log(),
			      log, revector_log(), log);

	assert_int_equal(r.status, 0); /* the field was there, and it changed */
	run_free(&r);
	r = run_pvboot("run --serial-log '%s' --kernel '%s' " REVECTOR_ARGS, log, kernel());
	print_message("sed '%s' -> %d\n", sed, r.status);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "");
	snprintf(failed, sizeof(failed), "FAILED: %u of 17 checks\n", nr_failed);
	if (!strstr(r.out, failed) || !strstr(r.out, says) ||
	    (also_says && !strstr(r.out, also_says)))
		fail_msg("did not say '%s', '%s' and '%s':\n%s", failed, says,
			 also_says ? also_says : "", r.out);
	run_free(&r);
}

/* The value of @field in the revector log's PVBOOT-RESULT (a number). */
static unsigned long long result_field(const char *field)
{
	struct run r = run_sh("sed -n 's/^.*PVBOOT-RESULT .*\"%s\":\\([0-9]*\\).*$/\\1/p' '%s'",
			      field, revector_log());
	unsigned long long v;
	char *end;

	assert_int_equal(r.status, 0);
	v = strtoull(r.out, &end, 10);
	assert_true(end != r.out && !strcmp(end, "\n"));
	run_free(&r);
	return v;
}

/* A real PVBOOT-RESULT that differs from the simulated one in one field. */
static void test_log_simulation_differs(void **state)
{
	char says[300];

	(void)state;
	snprintf(says, sizeof(says),
		 "    " SIM_AGREES ": 1 fields differ from " SIM_SAYS
		 ", first pages_freed: real 999, simulated %llu\n",
		 result_field("pages_freed"));
	assert_int_not_equal(result_field("pages_freed"), 999);
	expect_altered("s/\"pages_freed\":[0-9]*/\"pages_freed\":999/", 1, says, NULL);

	/* A __ka PMD left behind fails ka-clean, and the simulation did not leave it. */
	assert_int_equal(result_field("ka_pmds_left"), 0);
	expect_altered("s/\"ka_pmds_left\":0/\"ka_pmds_left\":1/", 2,
		       "    ka-clean: 1 __ka PMDs left between the kernel and MODULES_END (xen_cleanhighmap)\n",
		       "    " SIM_AGREES ": 1 fields differ from " SIM_SAYS
		       ", first ka_pmds_left: real 1, simulated 0\n");
}

static const struct bad_log {
	const char *log; /* NULL: revector_log() */
	const char *args;
	const char *says;
} bad_logs[] = {
	{NULL, REVECTOR_ARGS " --assume-exit 35",
	 "kernel-status: the kernel wrote 0x11 (a failure), expected 0x10"},
	{NULL, "--memory 1G --ramdisk-size 1117726",
	 "p2m: Xen ffffffff8011a000->ffffffff8021a000, predicted ffffffff8011a000->ffffffff8031a000"},
	{NULL, "--memory 1G --ramdisk-size 1117726",
	 "nr-pages: nr_pages 131072, --memory is 262144 pages"},
	{NULL, "--memory 1G --ramdisk-size 1117726",
	 " fields differ from " SIM_SAYS ", first nr_pages: real 131072, simulated 262144"},
	{NULL, "--memory 512M --ramdisk-size 1117727",
	 "ramdisk: the kernel got 1117726 bytes of ramdisk, the builder hands 1117727 (the host's file: 1117727)"},
	{NULL, REVECTOR_ARGS " --mode no-revector",
	 "result-mode: mode \"revector\", asked for no-revector"},
	{NULL, REVECTOR_ARGS " --verify sample --mode null --assume-exit 1",
	 "qemu-exit: QEMU exited with status 1, not through the kernel's isa-debug-exit write"},
	{FIXTURES "xen-10.3-minipv-512M.log", REVECTOR_ARGS " --mode revector",
	 "qemu-exit: no QEMU exit status: the log does not say (give --assume-exit N)"},
	{FIXTURES "xen-10.3-minipv-512M.log", REVECTOR_ARGS " --mode revector",
	 "result-found: the kernel printed no PVBOOT-RESULT line"},
};

static void test_log_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_logs) / sizeof(bad_logs[0]); i++) {
		const char *log = bad_logs[i].log ? bad_logs[i].log : revector_log();
		struct run r = run_pvboot("run --kernel '%s' --serial-log '%s' %s", kernel(), log,
					  bad_logs[i].args);

		print_message("pvboot run --serial-log %s %s -> %d\n", log, bad_logs[i].args,
			      r.status);
		assert_int_equal(r.status, 1);
		assert_string_equal(r.err, "");
		if (!strstr(r.out, bad_logs[i].says))
			fail_msg("did not say '%s':\n%s", bad_logs[i].says, r.out);
		run_free(&r);

		/* In JSON too, and then stderr says why as well: one line, the first failed check. */
		r = run_pvboot("run --kernel '%s' --serial-log '%s' %s --format json", kernel(), log,
			       bad_logs[i].args);
		assert_int_equal(r.status, 1);
		assert_non_null(strstr(r.err, "pvboot: run: "));
		assert_non_null(strstr(r.err, ": FAILED "));
		assert_non_null(strchr(r.err, '\n'));
		assert_string_equal(strchr(r.err, '\n'), "\n"); /* one line */
		if (!strstr(r.out, "\"ok\": false"))
			fail_msg("the JSON does not say it failed:\n%s", r.out);
		run_free(&r);
	}
	/* A run whose checks hold says nothing on stderr. */
	{
		struct run r = run_pvboot("run --kernel '%s' --serial-log '%s' " REVECTOR_ARGS
					  " --format json",
					  kernel(), revector_log());

		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		run_free(&r);
	}
}

/*
 * Mode null: the exit status, the arrangement, and the null boot's result
 * against the simulated one.  Xen's own logs (docs/real-xen.md section 10) booted minipv,
 * which prints no PVBOOT-RESULT: their arrangement agrees, but the
 * simulation has nothing to compare with.
 */
static void test_log_null(void **state)
{
	const char *log =
		run_log_write(scratch("dom0-512M-null.log"), kernel(), REVECTOR_ARGS, "null", 33);
	struct run r =
		run_pvboot("run --kernel '%s' --serial-log '%s' " REVECTOR_ARGS, kernel(), log);

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB dom0, null, verify full =="));
	assert_non_null(strstr(r.out, "ok: all 7 checks hold"));
	run_free(&r);
	r = run_sh("'%s' run --kernel '%s' --serial-log '%s' " REVECTOR_ARGS " --format json | "
		   "jq -r '[.checks[] | .name] | join(\" \")'",
		   pvboot(), kernel(), log);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "qemu-exit kernel-status xen-version arrangement-found "
				   "arrangement-agrees arrangement-lines simulation-agrees\n");
	run_free(&r);

	r = run_pvboot("run --kernel '%s' --serial-log " FIXTURES
		       "xen-10.3-minipv-512M.log " REVECTOR_ARGS " --mode null --assume-exit 33",
		       kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(
		strstr(r.out, "  Dom0 kernel     paddr 0x0 -> 0x8420                  agree\n"));
	assert_non_null(strstr(r.out,
			       "  FAILED: 1 of 6 checks\n"
			       "    " SIM_AGREES ": no result from the real boot to compare\n"));
	run_free(&r);
	r = run_pvboot("run --kernel '%s' --serial-log " FIXTURES "xen-10.6-minipv-8G.log "
		       "--memory 8G --ramdisk-size 0x19111200 --mode null --assume-exit 33",
		       kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "  Init. ramdisk   ffffffff80009000->ffffffff9911a200   agree"));
	/* This recording starts at the Dom0 kernel line: its first line is not the prediction's. */
	assert_non_null(strstr(r.out,
			       "  FAILED: 2 of 6 checks\n"
			       "    arrangement-lines: 11 of 11 lines differ from the xen-4.17-dom0 "
			       "prediction; line 1: Xen ' Dom0 kernel: 64-bit, lsb, paddr 0 -> 0x8420', "
			       "predicted ' Xen  kernel: 64-bit, lsb'\n"
			       "    " SIM_AGREES ": no result from the real boot to compare\n"));
	run_free(&r);
	/* Without a PVBOOT-RESULT, the mode must be given. */
	r = run_pvboot("run --kernel '%s' --serial-log " FIXTURES
		       "xen-10.3-minipv-512M.log " REVECTOR_ARGS,
		       kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no PVBOOT-RESULT line says the mode; give --mode"));
	run_free(&r);
}

/*
 * Mode linear: a log of a dom0 with INIT_P2M passes the same checks as
 * revector (ka-clean among them).  Without --kernel, a dom0 in mode linear
 * boots pvboot-kernel-initp2m.elf from beside pvboot, the others
 * pvboot-kernel.elf: a copy of pvboot in a directory of its own with
 * minipv kernels under those names shows which it took.
 */
static void test_log_linear(void **state)
{
	const char *k = write_kernel("minipv-initp2m.elf", 0x8000000000);
	const char *log = run_log_write(scratch("dom0-2G-linear.log"), k,
					"--memory 2G --ramdisk-size 1117726", "linear", 33);
	struct run r = run_pvboot("run --kernel '%s' --serial-log '%s' --memory 2G "
				  "--ramdisk-size 1117726",
				  k, log);

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 2 GiB dom0, linear, verify full =="));
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	run_free(&r);
	r = run_sh("'%s' run --kernel '%s' --serial-log '%s' --memory 2G --ramdisk-size 1117726 "
		   "--format json | jq -r '[.result.mode, .result.p2m_leaves_copied, "
		   "([.checks[] | .name] | join(\" \"))] | map(tostring) | join(\" \")'",
		   pvboot(), k, log);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "linear 0 qemu-exit kernel-status xen-version arrangement-found "
				   "arrangement-agrees arrangement-lines result-found result-mode no-error "
				   "no-mismatches nr-pages all-verified no-leaks ramdisk module "
				   "ka-clean simulation-agrees\n");
	run_free(&r);

	r = run_sh("mkdir -p '%1$s/bin' && cp '%2$s' '%1$s/bin/pvboot' && "
		   "cp '%3$s' '%1$s/bin/pvboot-kernel-initp2m.elf' && "
		   "cp '%4$s' '%1$s/bin/pvboot-kernel.elf' && "
		   "'%1$s/bin/pvboot' run --mode linear --serial-log '%5$s' --memory 2G "
		   "--ramdisk-size 1117726 --format json | jq -r '[.ok, .kernel] | join(\" \")'",
		   scratch_dir(), pvboot(), k, kernel(), log);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "true "));
	assert_non_null(strstr(r.out, "/bin/pvboot-kernel-initp2m.elf\n"));
	run_free(&r);
	/* Another mode takes the plain kernel, whose arrangement is not this log's. */
	r = run_sh("'%s/bin/pvboot' run --mode revector --serial-log '%s' --memory 2G "
		   "--ramdisk-size 1117726 --format json | jq -r .kernel",
		   scratch_dir(), log);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "/bin/pvboot-kernel.elf\n"));
	run_free(&r);
}

/*
 * The seed's 128 GiB dom0 without the fix: the builder's mapping reaches
 * MODULES_VADDR, so the module must fail and the kernel write 0x12 (QEMU
 * exits with 37).
 */
static void test_log_seed_no_revector(void **state)
{
	const char *log =
		run_log_write(scratch("seed-no-revector.log"), kernel(), "", "no-revector", 37);
	struct run r = run_pvboot("run --kernel '%s' --serial-log '%s'", kernel(), log);

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 128 GiB dom0, no-revector, verify full =="));
	assert_non_null(strstr(r.out, "pattern (276316160 bytes, pvsum64 0x77775ca5bb826fec)"));
	assert_non_null(strstr(r.out, "ok: all 16 checks hold"));
	run_free(&r);
	r = run_pvboot("run --kernel '%s' --serial-log '%s' --assume-exit 33", kernel(), log);
	assert_int_equal(r.status, 1);
	assert_non_null(
		strstr(r.out,
		       "kernel-status: the kernel wrote 0x10 (done, module loaded and ran), expected 0x12"));
	run_free(&r);
}

/* ---- QEMU's process, with a stand-in that plays a log ---- */

/*
 * A qemu-system-x86_64 that records its arguments and its pid, and does
 * $FAKE_QEMU_MODE; "ok" plays revector_log() without pvboot run's stamps.
 */
static const char *fake_qemu(void)
{
	static char dir[700];
	char path[800];
	FILE *f;

	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s", scratch("bin"));
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/qemu-system-x86_64", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"printf '%%s\\n' \"$@\" > \"$FAKE_QEMU_DIR/args\"\n"
		"echo $$ > \"$FAKE_QEMU_DIR/pid\"\n"
		"play() { sed -e 's/^\\[[^]]*\\] //' -e '/^pvboot-run: /d' '%s'; }\n"
		"case $FAKE_QEMU_MODE in\n"
		"ok) play; exit 33 ;;\n"
		"orphan) sleep 100 & play; exit 33 ;;\n"
		"hang) echo '(XEN) Xen version 4.17.7 (stand-in)'; sleep 100 ;;\n"
		"crash) echo '(XEN) *** Building a PV Dom0 ***'\n"
		"       echo '(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.'; sleep 100 ;;\n"
		"err) echo \"qemu-system-x86_64: cannot set up guest memory 'm0'\" >&2; exit 1 ;;\n"
		"esac\n",
		revector_log());
	fclose(f);
	chmod(path, 0755);
	f = fopen(scratch("xen-4.17"), "w");
	assert_non_null(f);
	fclose(f);
	return dir;
}

/* pvboot run with the stand-in; @pre and @post go around it in the shell. */
static struct run run_fake(const char *mode, const char *pre, const char *args, const char *post)
{
	return run_sh("FAKE_QEMU_DIR='%1$s' FAKE_QEMU_MODE=%2$s PVBOOT_CACHE='%1$s/cache' "
		      "PATH='%3$s':\"$PATH\"; export FAKE_QEMU_DIR FAKE_QEMU_MODE PVBOOT_CACHE PATH; "
		      "%4$s '%5$s' run --kernel '%6$s' --xen '%1$s/xen-4.17' %7$s %8$s",
		      scratch_dir(), mode, fake_qemu(), pre, pvboot(), kernel(), args, post);
}

static bool fake_alive(void)
{
	struct run r = run_sh("kill -0 $(cat '%s/pid') 2>/dev/null", scratch_dir());
	bool alive = r.status == 0;

	run_free(&r);
	return alive;
}

static void test_qemu_process(void **state)
{
	struct run r;
	double t0;

	(void)state;
	/* A boot: its command line, its log, and the same verdict from the log afterwards. */
	r = run_fake("ok", "", REVECTOR_ARGS " --mode revector", "");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	assert_non_null(strstr(r.out, "  QEMU      1792 MiB (1.8 GiB) for the dom0 and Xen"));
	assert_non_null(strstr(r.err, "512 MiB dom0, revector: QEMU started (1.8 GiB)\n"));
	assert_non_null(strstr(r.err, "512 MiB dom0, revector: Xen building dom0 ...\n"));
	assert_non_null(strstr(r.err, "512 MiB dom0, revector: QEMU exited with status 33\n"));
	run_free(&r);
	r = run_sh("grep -x -A1 -- -initrd '%s/args' | tail -n 1", scratch_dir());
	assert_non_null(strstr(r.out, " mode=revector verify=full ramdisk_sum=0xa8bc9d7dec4c3c25,"));
	assert_non_null(strstr(r.out, "/cache/ramdisks/splitmix64-1117726.img\n"));
	run_free(&r);
	r = run_pvboot("run --serial-log '%s/run-logs/dom0-512M-revector.log' --kernel '%s' " REVECTOR_ARGS,
		       scratch_dir(), kernel());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "ok: all 17 checks hold"));
	run_free(&r);

	/* QEMU's exit ends the run even when something it left holds the serial pipe. */
	t0 = pv_now();
	r = run_fake("orphan", "", REVECTOR_ARGS " --mode revector --timeout 30", "");
	assert_true(pv_now() - t0 < 10);
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* Killed at the timeout, and gone. */
	t0 = pv_now();
	r = run_fake("hang", "", REVECTOR_ARGS " --mode revector --timeout 1", "");
	assert_true(pv_now() - t0 < 10);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "qemu-exit: timed out after 1 s"));
	assert_false(fake_alive());
	run_free(&r);

	/* Killed as soon as Xen says dom0 crashed, not 5 s later. */
	t0 = pv_now();
	r = run_fake("crash", "", REVECTOR_ARGS " --mode revector --format json",
		     "| jq -r .checks[0].detail");
	assert_true(pv_now() - t0 < 4);
	assert_string_equal(r.out,
			    "Xen reported a crash: (XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.\n");
	assert_false(fake_alive());
	run_free(&r);

	/* QEMU's own complaint is in the report. */
	r = run_fake("err", "", REVECTOR_ARGS " --mode revector", "");
	assert_int_equal(r.status, 1);
	assert_non_null(
		strstr(r.out,
		       "QEMU exited with status 1, not through the kernel's isa-debug-exit write: qemu-system-x86_64: cannot set up guest memory 'm0'"));
	run_free(&r);

	/* Ctrl-C: QEMU is killed and pvboot exits 130. */
	r = run_fake("hang", "", REVECTOR_ARGS " --mode revector --timeout 60",
		     "& p=$!; sleep 1; kill -INT $p; wait $p; echo status $?");
	assert_non_null(strstr(r.out, "status 130"));
	assert_non_null(strstr(r.err, "pvboot: run: interrupted; QEMU killed"));
	assert_false(fake_alive());
	run_free(&r);

	r = run_sh("rm -r '%s/cache/ramdisks'", scratch_dir()); /* a MiB a run otherwise */
	run_free(&r);
}

/* ---- bad usage and missing things ---- */

static const struct bad {
	const char *args;
	const char *says;
} bad[] = {
	{"run --mode sideways",
	 "--mode: unknown mode 'sideways' (revector, no-revector, null, linear)"},
	{"run --mode", "--mode needs a value"},
	{"run --verify some", "--verify: 'some' is neither full nor sample"},
	{"run --format xml", "--format: unknown format 'xml' (text, json)"},
	{"run --timeout 0", "--timeout: 0 is not 1 to 1000000 seconds"},
	{"run --timeout soon", "--timeout: 'soon' is not a decimal number"},
	{"run --memory 0", "--memory: a guest needs at least one 4 KiB page"},
	{"run --memory 12Q", "--memory: '12Q' has an unknown unit 'Q'"},
	{"run --memory 1000", "--memory: 1000 is not a whole number of 4 KiB pages"},
	{"run --ramdisk x --ramdisk-size 1M", "give one of --ramdisk and --ramdisk-size"},
	{"run --assume-exit 33", "--assume-exit goes with --serial-log"},
	{"run --mfndump --memory 1G", "--mfndump goes with --domu: a dom0 reads a domU's P2M"},
	{"run --xen-version 4.19", "--xen-version: pvboot models Xen 4.14, 4.17 and 4.20, not '4.19'"},
	{"run --serial-log x --assume-exit 300", "--assume-exit: 300 is not an exit status"},
	{"run --builder libxc-4.2", "unknown option '--builder'"},
	{"run sideways", "unexpected argument 'sideways'"},
	{"run --kernel 'a b.elf'", "--kernel: 'a b.elf' has a space"},
	{"run --kind dom1", "--kind: unknown kind 'dom1' (dom0, domu)"},
	{"run --kind", "--kind needs a value"},
	{"run --kind dom0 --domu", "give one kind of guest (--kind, --domu)"},
};

static void test_bad_usage(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r = run_pvboot("%s", bad[i].args);

		print_message("pvboot %s -> %d: %s", bad[i].args, r.status, r.err);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.out, "");
		assert_int_equal(count_lines(r.err), 1);
		assert_true(!strncmp(r.err, "pvboot: run: ", 13));
		if (!strstr(r.err, bad[i].says))
			fail_msg("'pvboot %s' did not say '%s': %s", bad[i].args, bad[i].says, r.err);
		run_free(&r);
	}
}

static void expect_data_error(struct run *r, const char *says, const char *or_says)
{
	print_message("-> %d: %s", r->status, r->err);
	assert_int_equal(r->status, 1);
	assert_string_equal(r->out, "");
	assert_int_equal(count_lines(r->err), 1);
	if (!strstr(r->err, says) && !(or_says && strstr(r->err, or_says)))
		fail_msg("did not say '%s': %s", says, r->err);
	run_free(r);
}

static void test_missing(void **state)
{
	struct run r;
	char says[800];

	(void)state;
	r = run_pvboot("run --kernel /nonexistent/pvboot-kernel.elf --serial-log '%s'",
		       revector_log());
	expect_data_error(&r,
			  "/nonexistent/pvboot-kernel.elf: no such file (the PV kernel: build it with make, or give --kernel)",
			  NULL);
	r = run_pvboot("run --kernel '%1$s' --serial-log '%1$s'", revector_log());
	snprintf(says, sizeof(says), "%s: not a kernel image", revector_log());
	expect_data_error(&r, says, NULL);
	r = run_pvboot("run --kernel '%s' --serial-log /nonexistent.log --mode null", kernel());
	expect_data_error(&r, "/nonexistent.log: No such file or directory", NULL);
	r = run_sh("PATH=/nonexistent '%s' run --kernel '%s' --memory 512M --xen /nonexistent",
		   pvboot(), kernel());
	expect_data_error(&r,
			  "pvboot: run: qemu-system-x86_64 not found (run scripts/deps, package qemu-system-x86)",
			  NULL);
	r = run_fake("ok", "", "--memory 512M --xen /nonexistent/xen", "");
	expect_data_error(&r, "/nonexistent/xen: no such file (--xen)", NULL);
	/* 64 TiB: about 785 GiB for QEMU (an INIT_P2M kernel, or the list would wrap 2^64). */
	r = run_sh("PATH=/nonexistent '%s' run --kernel '%s' --memory 64T", pvboot(),
		   write_kernel("init-p2m.elf", 0x8000000000));
	expect_data_error(&r, "this dom0 needs about", "qemu-system-x86_64 not found");
	/* A log whose result line does not read, and no --mode: it says why, not just "no line". */
	r = run_sh("printf '(XEN) Xen version 4.17\\nPVBOOT-RESULT {\"mode\":\"revector\",}\\n' > '%1$s' && "
		   "'%2$s' run --kernel '%3$s' --serial-log '%1$s' --memory 512M",
		   scratch("bad-result.log"), pvboot(), kernel());
	expect_data_error(&r, "its PVBOOT-RESULT line does not read (expected a string at column 20); give --mode",
			  NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_revector), cmocka_unit_test(test_log_simulation_differs),
		cmocka_unit_test(test_log_failures), cmocka_unit_test(test_log_null),
		cmocka_unit_test(test_log_linear),   cmocka_unit_test(test_log_seed_no_revector),
		cmocka_unit_test(test_qemu_process), cmocka_unit_test(test_bad_usage),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
