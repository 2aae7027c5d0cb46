/*
 * Two runs of one plan, replayed from one recorded log and judged without
 * QEMU, through the harness's public API only: the fixture of tests/harness/serial_test
 * (the checks) and tests/report/run_report_test (the report of them).
 */
#ifndef PVBOOT_TEST_TWO_RUNS_H
#define PVBOOT_TEST_TWO_RUNS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/harness.h>

#include "cli/run_log.h"
#include "util/run.h"

static void keep_predicted(void *ctx, const char *text)
{
	run_lines_add(ctx, text);
}

/*
 * What the layout engine says for a minipv-like kernel (no INIT_P2M, no
 * MOD_START_PFN), and the lines it prints.
 */
static void predict(uint64_t nr_pages, uint64_t ramdisk_len, struct pv_layout *out,
		    struct run_lines *lines)
{
	struct pv_layout_in in = {
		.builder = PV_BUILDER_XEN_417_DOM0,
		.nr_pages = nr_pages,
		.virt_base = 0xffffffff80000000,
		.kstart = 0xffffffff80000000,
		.kend = 0xffffffff80008420,
		.entry = 0xffffffff80000000,
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = ramdisk_len,
		.p2m_base = PV_UNSET_ADDR,
		.paddr_end = 0x8420,
	};
	struct pv_error err = {0};

	if (pv_layout_build(&in, out, &(struct pv_log){keep_predicted, lines}, &err))
		fail_msg("%s", err.msg);
}

/*
 * A 512 MiB dom0 plan with the pattern ramdisk, and its two runs (modes
 * no-revector and revector) evaluated on the log a real revector boot of
 * minipv leaves: the first fails result-mode, the second holds.
 */
static void two_runs_evaluated(struct run_plan *p, struct run_one *runs)
{
	static char log[600];
	char kernel[600];
	struct pv_error err = {0};

	snprintf(kernel, sizeof(kernel), "%s/minipv.elf", scratch_dir());
	snprintf(log, sizeof(log), "%s/dom0-512M-revector.log", scratch_dir());
	minipv_write(kernel, 0);
	run_log_write(log, kernel, "--memory 512M --ramdisk-size 1117726", "revector", 33);
	if (run_plan_init(p, run_kind_find("dom0"), &err))
		fail_msg("%s", err.msg);
	p->memory = 512ULL << 20;
	p->ramdisk = true;
	p->ramdisk_bytes = 0x110e1e;
	p->ramdisk_handed = 0x110e1e; /* the dom0 builder hands the file as it is */
	p->ramdisk_sum = 0xa8bc9d7dec4c3c25ULL;
	p->timeout = 60;
	p->g.kernel = "k.elf";
	p->serial_log = log;
	predict(0x20000, 0x110e1e, &p->predicted, &p->predicted_log);
	for (int m = 0; m < 2; m++) {
		if (run_one_init(p, &runs[m], m ? PV_MODE_REVECTOR : PV_MODE_NO_REVECTOR, &err) ||
		    run_replay(p, true, &runs[m], &err))
			fail_msg("%s", err.msg);
		snprintf(runs[m].log, sizeof(runs[m].log), "x.log");
		run_evaluate(p, &runs[m]);
	}
}

/* Release the plan and the two runs, which the test calloc'd. */
static void two_runs_free(struct run_plan *p, struct run_one *runs)
{
	for (int m = 0; m < 2; m++)
		run_one_free(p, &runs[m]);
	run_plan_free(p);
	free(runs);
	free(p);
}

#endif
