/*
 * The harness's reading of a serial log (src/harness/serial.c) and its
 * evaluate step, in process and without QEMU: Xen's arrangement from the
 * verbatim logs in tests/cli/fixtures (docs/real-xen.md section 10), the same
 * arrangement from the layout engine, PVBOOT-RESULT lines, timestamps,
 * Xen's crash lines, and the checks of two runs (on the log a real run
 * would leave, made with pvboot layout and pvboot simulate).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/harness/harness_priv.h"
#include "harness/two_runs.h"

#define FIXTURES "tests/cli/fixtures/"

/* Read a recorded serial log into @s, line by line, as a replay does. */
static void feed_file(const char *path, struct run_serial *s)
{
	FILE *f = fopen(path, "r");
	char line[4096];

	if (!f)
		fail_msg("%s: cannot open (run the tests from the repository root)", path);
	run_serial_init(s);
	while (fgets(line, sizeof(line), f)) {
		const char *text;
		double t;

		line[strcspn(line, "\r\n")] = '\0';
		text = run_split_time(line, &t);
		run_serial_line(s, t, text);
	}
	fclose(f);
}
static void expect_seg(const struct run_serial *s, enum pv_seg seg, uint64_t lo, uint64_t hi)
{
	const struct pv_segment *g = &s->arr.l.seg[seg];

	assert_true(g->present);
	assert_int_equal(g->vstart, lo);
	assert_int_equal(g->vend, hi);
}

/* 10.1: Linux with INIT_P2M and MOD_START_PFN, with the wrapper's timestamps. */
static void test_fixture_linux(void **state)
{
	struct run_serial s;
	const struct pv_layout *l = &s.arr.l;

	(void)state;
	feed_file(FIXTURES "xen-10.1-linux-2048M.log", &s);
	assert_true(run_arrangement_complete(&s.arr));
	expect_seg(&s, PV_SEG_KERNEL, 0xffffffff81000000, 0xffffffff84a00000);
	assert_false(l->seg[PV_SEG_RAMDISK].present); /* unmapped: only the physical line */
	expect_seg(&s, PV_SEG_P2M, 0x8000000000, 0x8000400000);
	assert_false(l->seg[PV_SEG_P2M].mapped);
	assert_int_equal(l->seg[PV_SEG_P2M].pfn, PV_UNSET_ADDR);
	expect_seg(&s, PV_SEG_START_INFO, 0xffffffff84a00000, 0xffffffff84a004b8);
	assert_int_equal(l->seg[PV_SEG_START_INFO].pfn, 0x4a00);
	assert_int_equal(l->seg[PV_SEG_START_INFO].pages, 1);
	expect_seg(&s, PV_SEG_PAGE_TABLES, 0xffffffff84a01000, 0xffffffff84a2a000);
	assert_int_equal(l->seg[PV_SEG_PAGE_TABLES].pages, 0x29);
	expect_seg(&s, PV_SEG_BOOT_STACK, 0xffffffff84a2a000, 0xffffffff84a2b000);
	expect_seg(&s, PV_SEG_TOTAL, 0xffffffff80000000, 0xffffffff84c00000);
	assert_int_equal(l->virt_base, 0xffffffff80000000);
	assert_int_equal(l->si.entry, 0xffffffff830791c0);
	assert_int_equal(s.arr.paddr_start, 0x1000000);
	assert_int_equal(s.arr.paddr_end, 0x4a00000);
	assert_int_equal(s.arr.alloc_start, 0x130000000);
	assert_int_equal(s.arr.alloc_end, 0x138000000);
	assert_int_equal(s.arr.alloc_pages_left, 491247);
	assert_int_equal(s.arr.mramdisk_start, 0x13feef000);
	assert_int_equal(s.arr.mramdisk_end, 0x13ffffe1e);
	assert_true(s.t_xen > 0.152 && s.t_xen < 0.154);
	assert_true(s.t_building > 1.092 && s.t_building < 1.094);
	assert_true(s.t_arrangement > 3.334 && s.t_arrangement < 3.336);
	assert_true(s.t_last > 8.054 && s.t_last < 8.056);
	assert_int_equal(s.kernel_lines, 0);
	assert_false(s.have_result);
	assert_string_equal(s.crash, "");

	feed_file(FIXTURES "xen-10.2-linux-8G.log", &s);
	assert_true(run_arrangement_complete(&s.arr));
	expect_seg(&s, PV_SEG_P2M, 0x8000000000, 0x8001000000);
	assert_true(s.t_xen < 0); /* no banner, no timestamps */
}

/*
 * 10.3 and 10.6, minipv with a mapped module: parsed, they equal the
 * engine's, field by field and line for line (10.6 was recorded from its
 * " Dom0 kernel:" line on).
 */
static void test_fixture_minipv_equals_prediction(void **state)
{
	static const struct {
		const char *file;
		uint64_t nr_pages, ramdisk;
		unsigned cut; /* lines of the prediction before the recording starts */
	} cases[] = {
		{FIXTURES "xen-10.3-minipv-512M.log", 0x20000, 0x110e1e, 0},
		{FIXTURES "xen-10.6-minipv-8G.log", 0x200000, 0x19111200, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_serial s;
		struct pv_layout want;

		print_message("%s\n", cases[i].file);
		struct run_lines lines = {0};

		feed_file(cases[i].file, &s);
		predict(cases[i].nr_pages, cases[i].ramdisk, &want, &lines);
		/* What Xen 4.17 printed, line for line, is the prediction's log. */
		assert_int_equal(s.arr.nr_printed + cases[i].cut, lines.n);
		for (unsigned k = 0; k < s.arr.nr_printed; k++)
			assert_string_equal(s.arr.printed[k], lines.line[k + cases[i].cut]);
		run_lines_free(&lines);
		assert_true(run_arrangement_complete(&s.arr));
		for (int k = 0; k < PV_SEG_NR; k++) {
			const struct pv_segment *a = &s.arr.l.seg[k], *b = &want.seg[k];

			assert_int_equal(a->present, b->present);
			if (!a->present)
				continue;
			assert_int_equal(a->vstart, b->vstart);
			assert_int_equal(a->vend, b->vend);
			assert_int_equal(a->mapped, b->mapped);
			assert_int_equal(a->pfn, b->pfn);
			assert_int_equal(a->pages, b->pages);
		}
		assert_int_equal(s.arr.l.si.entry, want.si.entry);
		assert_int_equal(s.arr.l.mapping_end, want.mapping_end);
		assert_int_equal(s.arr.paddr_start, 0);
		assert_int_equal(s.arr.paddr_end, 0x8420);
		/* minipv's own lines are not pvboot's, and "halted" is no crash. */
		assert_int_equal(s.kernel_lines, 0);
		assert_string_equal(s.crash, "");
	}
}

/*
 * Each release's own print, recorded by booting Debian's Xen 4.14.6-1 and
 * 4.20.4+63 with pvboot's kernel as a 4 GiB dom0 and a 12,345,678-byte
 * ramdisk: parsed, every line equals that release's prediction, and the
 * other release's prediction differs (docs/builders.md section 6.8).
 */
static void test_fixture_releases(void **state)
{
	static const struct {
		const char *file, *version;
		enum pv_builder builder, other;
		unsigned lines;
	} cases[] = {
		{FIXTURES "xen-4.14-pvboot-4G.log", "4.14.6", PV_BUILDER_XEN_414_DOM0,
		 PV_BUILDER_XEN_417_DOM0, 13},
		{FIXTURES "xen-4.20-pvboot-4G.log", "4.20.5-pre", PV_BUILDER_XEN_420_DOM0,
		 PV_BUILDER_XEN_414_DOM0, 11},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int other = 0; other < 2; other++) {
			struct pv_layout_in in = {
				.builder = other ? cases[i].other : cases[i].builder,
				.nr_pages = 1ULL << 20,
				.virt_base = 0xffffffff80000000,
				.kstart = 0xffffffff81000000,
				.kend = 0xffffffff81027000,
				.entry = 0xffffffff81000000,
				.hypercall = PV_UNSET_ADDR,
				.ramdisk_len = 12345678,
				.p2m_base = PV_UNSET_ADDR,
				.paddr_start = 0x1000000,
				.paddr_end = 0x1027000,
			};
			struct run_lines lines = {0};
			struct run_serial s;
			struct pv_layout l;
			struct pv_error err = {0};
			bool same;

			print_message("%s against %s\n", cases[i].file, pv_builder_name(in.builder));
			feed_file(cases[i].file, &s);
			assert_string_equal(s.arr.xen_version, cases[i].version);
			assert_true(run_arrangement_complete(&s.arr));
			assert_int_equal(s.arr.nr_printed, cases[i].lines);
			if (pv_layout_build(&in, &l, &(struct pv_log){keep_predicted, &lines}, &err))
				fail_msg("%s", err.msg);
			same = s.arr.nr_printed == lines.n;
			for (unsigned k = 0; same && k < lines.n; k++)
				same = !strcmp(s.arr.printed[k], lines.line[k]);
			if (same == (bool)other)
				fail_msg("%s %s %s's prediction", cases[i].file,
					 other ? "equals" : "differs from", pv_builder_name(in.builder));
			/* Field by field the releases agree: only the print differs. */
			assert_int_equal(s.arr.l.seg[PV_SEG_TOTAL].vend, l.mapping_end);
			assert_int_equal(s.arr.l.seg[PV_SEG_PAGE_TABLES].vstart, l.si.pt_base);
			assert_false(s.arr.l.seg[PV_SEG_XENSTORE].present);
			run_lines_free(&lines);
		}
	}
}

static void test_split_time(void **state)
{
	static const struct {
		const char *line, *rest;
		double t;
	} cases[] = {
		{"[  0.153] (XEN) Xen version", "(XEN) Xen version", 0.153},
		{"[123.000] pvboot: x", "pvboot: x", 123.0},
		{"[  7.619] [    3.885271] Run /init", "[    3.885271] Run /init", 7.619},
		{"(XEN) no time", "(XEN) no time", -1},
		{"[x] y", "[x] y", -1},
		{"[ 1.5]y", "[ 1.5]y", -1},
		{"", "", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double t;
		const char *rest = run_split_time(cases[i].line, &t);

		assert_string_equal(rest, cases[i].rest);
		assert_true(t > cases[i].t - 1e-9 && t < cases[i].t + 1e-9);
	}
}

/* Crash lines: dom0's crash ends the run at once, a panic after its reason. */
static void test_crash_lines(void **state)
{
	struct run_serial s;

	(void)state;
	run_serial_init(&s);
	assert_int_equal(run_serial_line(&s, 1, "(XEN) Xen version 4.17.7 (Debian)"), RUN_STAGE_XEN);
	assert_int_equal(run_serial_line(&s, 2, "(XEN) *** Building a PV Dom0 ***"),
			 RUN_STAGE_BUILDING);
	assert_int_equal(run_serial_line(&s, 3, "pvboot: kernel 0x1-0x2"), RUN_STAGE_KERNEL);
	assert_int_equal(run_serial_line(&s, 4, "pvboot: more"), RUN_STAGE_KERNEL_LINE);
	assert_int_equal(run_serial_line(&s, 5,
					 "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds."),
			 RUN_STAGE_CRASH);
	assert_true(s.crash_final);
	assert_string_equal(s.crash, "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.");
	assert_string_equal(s.kernel_line, "pvboot: more");
	assert_true(s.t_kernel == 3);

	run_serial_init(&s);
	assert_int_equal(run_serial_line(&s, 1, "(XEN) Panic on CPU 0:"), RUN_STAGE_CRASH);
	assert_false(s.crash_final);
	assert_int_equal(run_serial_line(&s, 1, "(XEN) Could not set up DOM0 guest OS"),
			 RUN_STAGE_NONE);
	assert_int_equal(run_serial_line(&s, 1, "(XEN) Reboot in five seconds..."), RUN_STAGE_CRASH);
	assert_true(s.crash_final);
	assert_string_equal(s.crash, "(XEN) Panic on CPU 0:");

	/* A recorded log's trailer says how QEMU ended. */
	run_serial_init(&s);
	run_serial_line(&s, 9, RUN_LOG_TAG "timed out after 92 s, QEMU killed");
	run_serial_line(&s, 9, RUN_LOG_TAG "QEMU killed by signal 9");
	assert_true(s.logged.known && s.logged.timed_out && !s.logged.exited);
	assert_int_equal(s.logged.status, 9);
	assert_true(s.logged.timeout == 92);
	run_serial_init(&s);
	run_serial_line(&s, 9, RUN_LOG_TAG "qemu-stderr: qemu-system-x86_64: bad");
	run_serial_line(&s, 9, RUN_LOG_TAG "QEMU exited with status 1");
	assert_true(s.logged.known && s.logged.exited);
	assert_int_equal(s.logged.status, 1);
	assert_string_equal(s.logged.qemu_err, "qemu-system-x86_64: bad");
}

/* The serial reader keeps the first PVBOOT-RESULT, and says why one does not read. */
static void test_result_lines(void **state)
{
	struct run_serial s;

	(void)state;
	run_serial_init(&s);
	run_serial_line(&s, 1.5, "(d0) pvboot: noise PVBOOT-RESULT {\"nr_pages\":7,}");
	assert_true(s.have_result);
	assert_false(s.result_parsed);
	assert_string_equal(s.result_error, "expected a string at column 15");
	assert_string_equal(s.result_line, "{\"nr_pages\":7,}");
	/* A second line does not replace the first. */
	run_serial_line(&s, 2.0, "PVBOOT-RESULT {\"nr_pages\":8}");
	assert_false(s.result_parsed);
	assert_true(s.t_result == 1.5);

	run_serial_init(&s);
	run_serial_line(&s, -1, "PVBOOT-RESULT {\"error\":\"fatal exception 14 at rip 0x1\"}");
	assert_true(s.result_parsed);
	assert_int_equal(s.result_fields, 1U << PV_RF_ERROR);
	assert_string_equal(s.result.error, "fatal exception 14 at rip 0x1");
}

/* The line pvboot simulate prints is the line the real kernel prints: the parser reads it. */
static void test_json_of_simulate(void **state)
{
	struct run r = run_pvboot("simulate --builder xen-4.17-dom0 --memory 1G --ramdisk-size 4096 "
				  "--mode revector");
	struct run_serial s;
	char *line, *save = NULL;
	(void)state;
	assert_int_equal(r.status, 0);
	run_serial_init(&s);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		run_serial_line(&s, -1, line);
	assert_true(s.have_result);
	if (!s.result_parsed)
		fail_msg("%s: %s", s.result_line, s.result_error);
	assert_int_equal(s.result_fields, PV_RF_ALL);
	assert_int_equal(s.result.mode, PV_MODE_REVECTOR);
	assert_int_equal(s.result.nr_pages, 262144);
	assert_int_equal(s.result.pfns_verified, 262144);
	assert_string_equal(s.result.module_alloc, "ok");
	assert_true(s.result.module_ok);
	assert_true(s.result.module_ran);
	assert_int_equal(s.result.ramdisk_ok, 1);
	/* pvboot run's pattern ramdisk of 4096 bytes, as Python computes it. */
	assert_true(s.result.ramdisk_sum == 0x491eb03c32cb0774ULL);
	assert_string_equal(s.result.error, "");
	assert_true(s.kernel_lines > 3);
	run_free(&r);
}

/*
 * evaluate is a pure function of the parsed log: two runs of one plan on
 * the log of a 512 MiB revector boot, no QEMU.  The run asked for
 * no-revector fails on the mode its result names, and only there.
 */
static void test_evaluate_two_runs(void **state)
{
	struct run_plan *p = calloc(1, sizeof(*p));
	struct run_one *runs = calloc(2, sizeof(*runs));
	unsigned failed = 0;

	(void)state;
	assert_non_null(p);
	assert_non_null(runs);
	two_runs_evaluated(p, runs);
	assert_false(runs[0].ok);
	assert_true(runs[0].agree);
	for (unsigned i = 0; i < runs[0].nr_checks; i++)
		if (!runs[0].check[i].ok) {
			failed++;
			assert_string_equal(runs[0].check[i].name, "result-mode");
			assert_string_equal(runs[0].check[i].detail,
					    "mode \"revector\", asked for no-revector");
		}
	assert_int_equal(failed, 1);
	assert_true(runs[1].ok);
	assert_true(runs[1].agree);
	assert_int_equal(runs[1].nr_checks, 16); /* no simulation-agrees: none was run */
	/* The same again gives the same: nothing but the log and the plan goes in. */
	run_evaluate(p, &runs[1]);
	assert_true(runs[1].ok);
	assert_int_equal(runs[1].nr_checks, 16); /* no simulation-agrees: none was run */
	two_runs_free(p, runs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_linux),
		cmocka_unit_test(test_fixture_minipv_equals_prediction),
		cmocka_unit_test(test_fixture_releases),
		cmocka_unit_test(test_split_time),
		cmocka_unit_test(test_crash_lines),
		cmocka_unit_test(test_result_lines),
		cmocka_unit_test(test_json_of_simulate),
		cmocka_unit_test(test_evaluate_two_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
