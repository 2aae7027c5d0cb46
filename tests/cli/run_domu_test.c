/*
 * pvboot run --domu on recorded logs (--serial-log), without QEMU: the
 * builder's lines against the libxc-4.17 prediction, the dom0's markers,
 * the domU's shutdown, the kernel's result against the simulated one, the
 * report in text and JSON; a builder line altered, a crashed domU, a
 * failed xl create; and bad usage.  The stand-in for QEMU and the dom0's
 * module are in run_domu_host_test.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/run.h"
#include "domu_log.h"

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

static const char *kernel(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s",
			 domu_kernel_write(scratch("domu-kernel.elf"), DOMU_PLAIN_SIZE, 0));
	return path;
}

static const char *seed_kernel(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s",
			 domu_kernel_write(scratch("domu-kernel-seed.elf"), DOMU_SEED_SIZE, 0));
	return path;
}

/* pvboot run drops the seed's ramdisk when --memory is given; layout and simulate keep it. */
#define ARGS_512M "--memory 512M"
#define GEN_512M  "--memory 512M --ramdisk-size 0"

/* The log of a 512 MiB revector domU that powered off. */
static const char *revector_log(void)
{
	static char path[700];

	if (!path[0])
		snprintf(path, sizeof(path), "%s",
			 domu_log_write(scratch("domu-512M-revector.log"), kernel(), GEN_512M,
					"revector", DOMU_POWEROFF));
	return path;
}

#define SIM_SAYS    "`pvboot simulate --builder libxc-4.17`"
#define LAYOUT_SAYS "`pvboot layout --builder libxc-4.17 --format log`"

static void test_log_revector(void **state)
{
	struct run r = run_pvboot("run --domu --serial-log '%s' --kernel '%s' " ARGS_512M,
				  revector_log(), kernel());

	(void)state;
	print_message("%s%s", r.out, r.err);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB domU, revector, verify full ==\n"));
	assert_non_null(strstr(r.out, "  xl create     status 0, 0.61 s in the dom0\n"
				      "  domU          shutdown (poweroff) 0.26 s after xl create\n"));
	assert_non_null(strstr(r.out, "  builder log   xl -vvv create, 12 lines, all equal the "
				      "libxc-4.17 prediction\n"
				      "    xc_dom_alloc_segment:   kernel       : 0xffffffff81000000 -> "
				      "0xffffffff8101d000  (pfn 0x1000 + 0x1d pages)\n"));
	assert_non_null(strstr(r.out, "hypervisor+dom0 10.90 s, xl create 0.70 s, guest 0.75 s, "
				      "total 13.16 s"));
	assert_non_null(strstr(r.out, "ok: all 15 checks hold"));
	run_free(&r);

	/* Without --domu: the markers say it is a domU's log; --kind domu says it too. */
	r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M " --format json",
		       revector_log(), kernel());
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run_pvboot("run --kind domu --serial-log '%s' --kernel '%s' " ARGS_512M, revector_log(),
		       kernel());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB domU, revector, verify full ==\n"));
	run_free(&r);
	/* Told it is a dom0's, it is judged as one: no arrangement in a domU's log. */
	r = run_pvboot("run --kind dom0 --serial-log '%s' --kernel '%s' " ARGS_512M, revector_log(),
		       kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "arrangement-found: Xen printed no VIRTUAL MEMORY ARRANGEMENT"));
	run_free(&r);

	r = run_sh("'%s' run --serial-log '%s' --kernel '%s' " ARGS_512M " --format json | "
		   "jq -r '[.ok, .guest, .mode, .builder_log.agree, "
		   "(.builder_log.real == .builder_log.predicted), (.builder_log.real | length), "
		   ".xl_status, .xl_create_seconds, .domu_shutdown.reason, .domu_shutdown.seconds, "
		   ".dom0.ready, .dom0.done, .qemu.exit_status, (.qemu | has(\"kernel_code\")), "
		   ".wall_seconds.hypervisor_dom0, .wall_seconds.xl_create, .wall_seconds.guest, "
		   ".wall_seconds.total, ([.checks[].name] | join(\",\"))] | map(tostring) | join(\" \")'",
		   pvboot(), revector_log(), kernel());
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "true domU revector true true 12 0 0.61 poweroff 0.26 true true "
				   "0 false 10.9 0.7 0.75 13.16 qemu-exit,dom0-done,xl-create,"
				   "builder-log-agrees,domu-shutdown,result-found,result-mode,no-error,"
				   "no-mismatches,nr-pages,all-verified,no-leaks,module,ka-clean,"
				   "simulation-agrees\n");
	run_free(&r);

	/* The predicted lines are `pvboot layout`'s own, and the checks name both. */
	r = run_sh("'%1$s' run --serial-log '%2$s' --kernel '%3$s' " ARGS_512M " --format json | "
		   "jq -r '.builder_log.predicted[]' > '%4$s/pred' && "
		   "'%1$s' layout --builder libxc-4.17 --kernel '%3$s' " GEN_512M
		   " --format log > '%4$s/layout' && cmp '%4$s/pred' '%4$s/layout' && "
		   "'%1$s' run --serial-log '%2$s' --kernel '%3$s' " ARGS_512M " --format json | "
		   "jq -r '.checks[] | select(.name == \"builder-log-agrees\" or "
		   ".name == \"simulation-agrees\") | .detail'",
		   pvboot(), revector_log(), kernel(), scratch_dir());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "all 12 lines equal " LAYOUT_SAYS "\n"));
	assert_non_null(strstr(r.out, " fields equal " SIM_SAYS "\n"));
	run_free(&r);
}

/* Modes null and no-revector at 512 MiB: the module loads, the mapping ends far below. */
static void test_log_null_and_no_revector(void **state)
{
	const char *log = domu_log_write(scratch("domu-512M-null.log"), kernel(), GEN_512M, "null",
					 DOMU_POWEROFF);
	struct run r = run_sh("'%s' run --serial-log '%s' --kernel '%s' " ARGS_512M
			      " --format json | jq -r '[.ok, .mode, ([.checks[].name] | join(\",\"))] "
			      "| map(tostring) | join(\" \")'",
			      pvboot(), log, kernel());

	(void)state;
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "true null qemu-exit,dom0-done,xl-create,builder-log-agrees,"
				   "domu-shutdown,simulation-agrees\n");
	run_free(&r);

	log = domu_log_write(scratch("domu-512M-no-revector.log"), kernel(), GEN_512M,
			     "no-revector", DOMU_POWEROFF);
	r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M, log, kernel());
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB domU, no-revector, verify full =="));
	assert_non_null(strstr(r.out, "ok: all 14 checks hold"));
	run_free(&r);
}

/*
 * The seed's guest: 131072 MiB, a kernel of the seed's extent, the seed's
 * ramdisk.  libxc-4.17 prints the seed's numbers, and without the fix the
 * module load fails as the seed says.
 */
static void test_log_seed(void **state)
{
	const char *log = domu_log_write(scratch("domu-seed-no-revector.log"), seed_kernel(), "",
					 "no-revector", DOMU_POWEROFF);
	struct run r = run_pvboot("run --serial-log '%s' --kernel '%s'", log, seed_kernel());

	(void)state;
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "== pvboot run: 128 GiB domU, no-revector, verify full =="));
	assert_non_null(strstr(r.out, "pattern (276316160 bytes, pvsum64 0x77775ca5bb826fec)"));
	assert_non_null(strstr(r.out,
			       "\n    xc_dom_alloc_segment:   kernel       : 0xffffffff81000000 "
			       "-> 0xffffffff81e43000  (pfn 0x1000 + 0xe43 pages)\n"
			       "    xc_dom_alloc_segment:   module0      : 0xffffffff81e43000 "
			       "-> 0xffffffff925c7000  (pfn 0x1e43 + 0x10784 pages)\n"
			       "    xc_dom_alloc_segment:   phys2mach    : 0xffffffff925c7000 "
			       "-> 0xffffffffa25c7000  (pfn 0x125c7 + 0x10000 pages)\n"));
	assert_non_null(strstr(r.out, "module_alloc=\"vmalloc: allocation failure, allocated 16384 "
				      "of 20480 bytes\""));
	assert_non_null(strstr(r.out, "ok: all 15 checks hold")); /* with the ramdisk's */
	run_free(&r);

	/* The module's check knows it must fail: a module that loads is wrong here. */
	r = run_sh("sed 's/\"module_alloc\":\"vmalloc[^\"]*\",\\(.*\\)\"module_ran\":false/"
		   "\"module_alloc\":\"ok\",\\1\"module_ran\":true/' '%s' > '%s' && "
		   "'%s' run --serial-log '%s' --kernel '%s'",
		   log, scratch("seed-loads.log"), pvboot(), scratch("seed-loads.log"),
		   seed_kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "    module: module_alloc \"ok\", module_ran true; the mapping "
				      "reaches MODULES_VADDR, so the module must fail"));
	run_free(&r);
}

/*
 * The revector log with @sed applied: pvboot run must fail with
 * @nr_failed of @nr_checks checks failing, and say @says.
 */
static void expect_altered(const char *sed, unsigned nr_failed, unsigned nr_checks, const char *says)
{
	const char *log = scratch("altered.log");
	char failed[64];
	struct run r = run_sh("sed '%s' '%s' > '%s' && ! cmp -s '%s' '%s'", sed, revector_log(),
			      log, revector_log(), log);

	assert_int_equal(r.status, 0); /* it was there, and it changed */
	run_free(&r);
	r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M, log, kernel());
	print_message("sed '%s' -> %d\n", sed, r.status);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "");
	snprintf(failed, sizeof(failed), "FAILED: %u of %u checks\n", nr_failed, nr_checks);
	if (!strstr(r.out, failed) || !strstr(r.out, says))
		fail_msg("did not say '%s' and '%s':\n%s", failed, says, r.out);
	run_free(&r);
}

/*
 * --mfndump: the dom0's PVBOOT-MFNDUMP line, added to the revector log, is
 * judged (tools-read-p2m); a read that missed pfns, or no line at all,
 * fails it, and without --mfndump the check is not made.
 */
static void test_log_mfndump(void **state)
{
	static const struct {
		const char *line;
		int status;
		const char *says;
	} cases[] = {
		{"PVBOOT-MFNDUMP status=0 size=131072 pfns=131072 valid=131072 seconds=3.10", 0,
		 "tools-read-p2m: xen-mfndump dump-p2m (Xen 4.17's) exited 0, P2M size 131072, "
		 "131072 pfns, 131072 with a frame; the guest has 131072"},
		{"PVBOOT-MFNDUMP status=1 size=none pfns=0 valid=0 seconds=0.20", 1,
		 "tools-read-p2m: xen-mfndump dump-p2m (Xen 4.17's) exited 1, P2M size none, 0 pfns"},
		{"PVBOOT-MFNDUMP status=0 size=131072 pfns=131072 valid=131071 seconds=3.10", 1,
		 "131071 with a frame"},
		{NULL, 1, "tools-read-p2m: the dom0 printed no PVBOOT-MFNDUMP line"},
	};
	const char *log = scratch("mfndump.log");
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].line)
			r = run_sh("sed 's/^\\(\\[[^]]*\\] \\)PVBOOT-DOM0-DONE/\\1%s\\n&/' '%s' > '%s'",
				   cases[i].line, revector_log(), log);
		else
			r = run_sh("cp '%s' '%s'", revector_log(), log);
		assert_int_equal(r.status, 0);
		run_free(&r);
		r = run_sh("'%s' run --serial-log '%s' --kernel '%s' --mfndump " ARGS_512M
			   " --format json > '%s.json'; echo $?; jq -r '.ok, (.checks[] | "
			   "select(.name == \"tools-read-p2m\") | .name + \": \" + .detail)' '%s.json'",
			   pvboot(), log, kernel(), log, log);
		print_message("%s -> %s", cases[i].line ? cases[i].line : "(none)", r.out);
		assert_int_equal(atoi(r.out), cases[i].status);
		assert_non_null(strstr(r.out, cases[i].status ? "\nfalse\n" : "\ntrue\n"));
		if (!strstr(r.out, cases[i].says))
			fail_msg("did not say '%s':\n%s", cases[i].says, r.out);
		run_free(&r);
		/* Without --mfndump the line is there but nothing judges it. */
		r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M, log, kernel());
		assert_int_equal(r.status, 0);
		assert_null(strstr(r.out, "tools-read-p2m"));
		run_free(&r);
	}
}

static void test_log_builder_differs(void **state)
{
	(void)state;
	/* One number of one line: both sides of the first differing line are named. */
	expect_altered("/phys2mach/s/+ 0x100 pages/+ 0x101 pages/", 1, 15,
		       "    builder-log-agrees: line 2 of 12 (xl) and 12 (predicted) differs: "
		       "xl \"xc_dom_alloc_segment:   phys2mach    : 0xffffffff8101d000 -> "
		       "0xffffffff8111d000  (pfn 0x101d + 0x101 pages)\", predicted "
		       "\"xc_dom_alloc_segment:   phys2mach    : 0xffffffff8101d000 -> "
		       "0xffffffff8111d000  (pfn 0x101d + 0x100 pages)\"\n");
	/* One space: byte for byte. */
	expect_altered("/count_pgtables: 0x000000003fffffff/s/, 1 table/,  1 table/", 1, 15,
		       "builder-log-agrees: line 7 of 12 (xl) and 12 (predicted) differs");
	/* A line missing, and one too many. */
	expect_altered("/virt_pgtab_end/d", 1, 15,
		       "builder-log-agrees: line 12 of 11 (xl) and 12 (predicted) differs: xl "
		       "\"(none)\", predicted \"xc_dom_build_image  : virt_pgtab_end : "
		       "0xffffffff81400000\"");
	expect_altered("/virt_pgtab_end/p", 1, 15,
		       "builder-log-agrees: line 13 of 13 (xl) and 12 (predicted) differs: xl "
		       "\"xc_dom_build_image  : virt_pgtab_end : 0xffffffff81400000\", predicted "
		       "\"(none)\"");
	/* The text report marks the line and shows the prediction under it. */
	expect_altered("/phys2mach/s/+ 0x100 pages/+ 0x101 pages/", 1, 15,
		       "  builder log   xl -vvv create, 12 lines; the libxc-4.17 prediction, 12 "
		       "lines: 1 differ\n");
	expect_altered("/phys2mach/s/+ 0x100 pages/+ 0x101 pages/", 1, 15,
		       "  \xe2\x9c\x97 xl:        xc_dom_alloc_segment:   phys2mach    : "
		       "0xffffffff8101d000 -> 0xffffffff8111d000  (pfn 0x101d + 0x101 pages)\n"
		       "    predicted: xc_dom_alloc_segment:   phys2mach    : 0xffffffff8101d000 -> "
		       "0xffffffff8111d000  (pfn 0x101d + 0x100 pages)\n");
	/* Lines of the builder's that pvboot layout does not print are no part of it. */
	{
		const char *log = scratch("other-lines.log");
		struct run r =
			run_sh("sed 's/domU mapping: pfn 0x1000+0x1d/domU mapping: pfn 0x7/' "
			       "'%s' > '%s' && '%s' run --serial-log '%s' --kernel '%s' " ARGS_512M,
			       revector_log(), log, pvboot(), log, kernel());

		assert_int_equal(r.status, 0);
		run_free(&r);
	}
}

/* The kernel reported a failure: SHUTDOWN_crash, and its result says why. */
static void test_log_crash(void **state)
{
	const char *log = domu_log_write(scratch("domu-crash.log"), kernel(), GEN_512M, "revector",
					 DOMU_CRASH);
	struct run r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M, log, kernel());

	(void)state;
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "  domU          shutdown (crash) 0.26 s after xl create\n"));
	assert_non_null(strstr(r.out,
			       "  FAILED: 3 of 15 checks\n"
			       "    domu-shutdown: the domU crashed (SHUTDOWN_crash: its kernel "
			       "reported a failure)\n"
			       "    no-error: error \"verify: pfn 0x42 maps mfn 0x0\"\n"
			       "    simulation-agrees: 1 fields differ from " SIM_SAYS
			       ", first error: real verify: pfn 0x42 maps mfn 0x0, simulated \n"));
	run_free(&r);
}

/* xl create failed: no domU, no builder lines past the failure, the dom0 says so. */
static void test_log_xl_failure(void **state)
{
	const char *log = domu_log_write(scratch("domu-xl-fail.log"), kernel(), GEN_512M,
					 "revector", DOMU_XL_FAIL);
	struct run r = run_pvboot("run --serial-log '%s' --kernel '%s' " ARGS_512M, log, kernel());

	(void)state;
	assert_int_equal(r.status, 1);
	/* No PVBOOT-RESULT: the xl config said the mode. */
	assert_non_null(strstr(r.out, "== pvboot run: 512 MiB domU, revector, verify full =="));
	assert_non_null(strstr(r.out, "  xl create     status 3, 0.40 s in the dom0: libxl: error: "
				      "libxl_dom.c:593:libxl__build_dom: xc_dom_build_image failed: "
				      "Out of memory\n"));
	assert_non_null(strstr(r.out, "  dom0 error    xl create failed (status 3)\n"));
	assert_non_null(strstr(r.out,
			       "    dom0-done: the dom0 failed: xl create failed (status 3)\n"
			       "    xl-create: xl create exited with status 3: libxl: error: "));
	assert_non_null(strstr(r.out,
			       "    domu-shutdown: no PVBOOT-DOMU line: the dom0 did not wait "
			       "for the domU\n"
			       "    result-found: the kernel printed no PVBOOT-RESULT line\n"));
	run_free(&r);

	/* No marker of the dom0 at all, and a QEMU that did not exit 0. */
	r = run_pvboot("run --domu --serial-log tests/cli/fixtures/xen-10.3-minipv-512M.log "
		       "--kernel '%s' " ARGS_512M " --mode revector --assume-exit 1",
		       kernel());
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.out, "    qemu-exit: QEMU exited with status 1, expected 0 (the dom0 "
				      "powers the machine off)\n"
				      "    dom0-done: the dom0 never printed PVBOOT-DOM0-DONE (nor "
				      "PVBOOT-DOM0-READY)\n"
				      "    xl-create: xl create did not run (no PVBOOT-XL-BEGIN)\n"
				      "    builder-log-agrees: xl printed no builder lines "
				      "(domainbuilder: detail: xc_dom_*)\n"));
	run_free(&r);
}

static const struct bad {
	const char *args;
	const char *says;
} bad[] = {
	{"run --domu --memory 1000K", "--memory: a domU's memory must be whole MiB (xl's memory=)"},
	{"run --domu --kernel-extent huge", "--kernel-extent: unknown extent 'huge' (plain, seed)"},
	{"run --domu --kernel-extent", "--kernel-extent needs a value"},
	{"run --domu --kernel x.elf --kernel-extent seed", "give one of --kernel and --kernel-extent"},
	{"run --domu=yes", "--domu"},
	{"run --domu --mode flat", "--mode: unknown mode 'flat'"},
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_revector),
		cmocka_unit_test(test_log_null_and_no_revector),
		cmocka_unit_test(test_log_seed),
		cmocka_unit_test(test_log_builder_differs),
		cmocka_unit_test(test_log_mfndump),
		cmocka_unit_test(test_log_crash),
		cmocka_unit_test(test_log_xl_failure),
		cmocka_unit_test(test_bad_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
