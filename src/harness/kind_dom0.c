/*
 * The kind "dom0": pvboot's PV kernel booted as dom0, which Xen's own
 * dom0 builder lays out (dom0_construct_pv) and prints as its PHYSICAL and
 * VIRTUAL MEMORY ARRANGEMENT.  The kernel's verdict is QEMU's exit status:
 * it writes a code to the isa-debug-exit port (docs/harness.md).
 *
 * The arrangement is compared with the prediction of the release's dom0
 * builder (xen-4.17-dom0 by default) field by field, with Xen's labels in
 * the text report and the names `pvboot layout --format json` uses in the
 * JSON one, and line for line with `pvboot layout --format log`.
 */
#include <string.h>

#include <pvboot/p2m.h>
#include <pvboot/x86.h>

#include "harness_priv.h"

/* ---- QEMU's size and command line ---- */

/*
 * QEMU's RAM in MiB for a dom0 of @dom0_bytes with a @ramdisk_bytes module.
 *
 * Xen gives dom0 min(dom0_mem, what is free), counting the modules as free
 * (they become dom0's pages: dom0_compute_nr_pages), so the machine must
 * hold dom0 and Xen's own needs besides: a 32-byte struct page_info per
 * 4 KiB of machine RAM (the frame table, 1/128) and an 8-byte M2P entry
 * per page (1/512), its heap and the kernel module.  dom0/32 covers the
 * per-page tables about three times over; 1 GiB covers the rest.  The
 * ramdisk is added once more as margin.  Rounded up to 256 MiB.
 */
uint64_t run_qemu_mib(uint64_t dom0_bytes, uint64_t ramdisk_bytes)
{
	uint64_t bytes = dom0_bytes + ramdisk_bytes + GiB + dom0_bytes / 32;

	bytes = (bytes + 256 * MiB - 1) & ~(256 * MiB - 1);
	return bytes / MiB;
}

/*
 * QEMU backs only what the guest touches (reserve=off, bootscrub=0;
 * docs/real-xen.md section 5.2): Xen's frame table (a 32-byte page_info per 4 KiB of machine RAM,
 * 1/128), 8 bytes per dom0 page twice (Xen's M2P entries and the
 * builder's P2M list), the ramdisk twice (QEMU keeps the multiboot modules
 * as a ROM blob besides guest RAM) and 512 MiB for QEMU and the rest.  A
 * kernel that copies the list (mode revector) adds it once more: the plan
 * counts that.  QEMU's peak RSS measured against this: 1000 GiB linear
 * 12.21 GiB of 12.47, 580 GiB linear 7.12 of 7.45, 128 GiB linear 1.64 of
 * 2.04.
 */
uint64_t run_host_need(uint64_t qemu_mib, uint64_t dom0_bytes, uint64_t ramdisk_bytes)
{
	return qemu_mib * MiB / 128 + 2 * (dom0_bytes / PAGE_SIZE * 8) + 2 * ramdisk_bytes +
	       512 * MiB;
}

/* Xen's dom0_mem wants a size with a unit: M when whole MiB, else K. */
static void xen_size(uint64_t bytes, char *buf, size_t size)
{
	if (bytes % MiB == 0)
		snprintf(buf, size, "%lluM", (unsigned long long)(bytes / MiB));
	else
		snprintf(buf, size, "%lluK", (unsigned long long)(bytes >> 10));
}

/*
 * Xen with the kernel and its command line as multiboot module 0 (Xen
 * drops its first word), the ramdisk as module 1, and the debug-exit port
 * the kernel's verdict comes through (docs/real-xen.md sections 2 and 6;
 * docs/harness.md section 3).
 */
int run_dom0_cmdline(const struct run_plan *p, enum pv_boot_mode mode, struct run_cmdline *c,
		     struct pv_error *err)
{
	struct pv_guest_args args = {mode, p->verify_full, p->ramdisk, p->ramdisk_sum};
	char kernel[2 * PATH_MAX + 2], ramdisk[2 * PATH_MAX + 2], mem[32], words[160];
	size_t used = 0;
	int rc = 0;

	c->argc = 0;
	c->argv[0] = NULL;
	if (run_escape_commas(p->g.kernel, kernel, sizeof(kernel)) >= sizeof(kernel) ||
	    (p->ramdisk &&
	     run_escape_commas(p->ramdisk_path, ramdisk, sizeof(ramdisk)) >= sizeof(ramdisk)))
		return pv_fail(err, PV_ERR_RANGE, "QEMU command line: a path is too long");
	xen_size(p->memory, mem, sizeof(mem));
	pv_args_format(&args, words, sizeof(words));

	rc |= run_qemu_common(c, &used, err, p->qemu_mib, 1, true);
	rc |= run_cmd_add(c, &used, err, "-kernel");
	rc |= run_cmd_add(c, &used, err, "%s", p->xen);
	rc |= run_cmd_add(c, &used, err, "-append");
	rc |= run_cmd_add(c, &used, err,
			  "console=com1 com1=115200 dom0_mem=%s,max:%s dom0_max_vcpus=1 bootscrub=0 loglvl=all guest_loglvl=all",
			  mem, mem);
	rc |= run_cmd_add(c, &used, err, "-initrd");
	rc |= run_cmd_add(c, &used, err, "%s %s%s%s", kernel, words, p->ramdisk ? "," : "",
			  p->ramdisk ? ramdisk : "");
	return rc ? -1 : 0;
}

/* ---- the arrangement against the prediction ---- */

enum { ROW_PADDR = -2, ROW_ENTRY = -1 };
#define NR_ROWS 9
struct side {
	bool has;
	uint64_t lo, hi; /* the range; the entry address in lo */
};
struct row {
	int seg; /* enum pv_seg, or ROW_* */
	const char *label, *name;
	struct side real, pred;
	bool differs;
};

/* The rows the arrangement is compared by, in Xen's order and with its labels. */
static const struct {
	int seg; /* enum pv_seg, or ROW_* */
	const char *label, *name;
} row_def[NR_ROWS] = {
	{ROW_PADDR, "Dom0 kernel", "kernel_paddr"},
	{PV_SEG_KERNEL, "Loaded kernel", "kernel"},
	{PV_SEG_RAMDISK, "Init. ramdisk", "ramdisk"},
	{PV_SEG_P2M, "Phys-Mach map", "p2m"},
	{PV_SEG_START_INFO, "Start info", "start_info"},
	{PV_SEG_PAGE_TABLES, "Page tables", "page_tables"},
	{PV_SEG_BOOT_STACK, "Boot stack", "boot_stack"},
	{PV_SEG_TOTAL, "TOTAL", "total"},
	{ROW_ENTRY, "ENTRY ADDRESS", "entry"},
};

static void rows_fill(const struct run_plan *p, const struct run_arrangement *a, struct row *rows)
{
	const struct pv_layout *l = &p->predicted;

	for (int i = 0; i < NR_ROWS; i++) {
		struct row *r = &rows[i];
		int s = row_def[i].seg;

		*r = (struct row){.seg = s, .label = row_def[i].label, .name = row_def[i].name};
		if (s == ROW_PADDR) {
			r->real = (struct side){a->lines & RUN_ARR_PADDR, a->paddr_start,
						    a->paddr_end};
			if (p->g.image)
				r->pred = (struct side){true, p->g.image->pstart,
							    p->g.image->pend};
		} else if (s == ROW_ENTRY) {
			r->real = (struct side){a->lines & RUN_ARR_ENTRY, a->l.si.entry, 0};
			r->pred = (struct side){true, l->si.entry, 0};
		} else {
			const struct pv_segment *x = &a->l.seg[s], *y = &l->seg[s];

			r->real = (struct side){x->present, x->vstart, x->vend};
			r->pred = (struct side){y->present, y->vstart, y->vend};
		}
		/*
		 * Xen always prints the paddr line, but a log cut down to the
		 * arrangement may not have it, and a plan without a kernel image
		 * cannot predict it: it counts only when both sides have it.
		 */
		if (s == ROW_PADDR && (!r->real.has || !r->pred.has))
			r->differs = false;
		else
			r->differs = r->real.has != r->pred.has ||
				     (r->real.has &&
				      (r->real.lo != r->pred.lo || r->real.hi != r->pred.hi));
	}
}

static void side_text(const struct row *row, const struct side *s, char *buf, size_t size)
{
	if (!s->has)
		snprintf(buf, size, "-");
	else if (row->seg == ROW_ENTRY)
		snprintf(buf, size, "%016llx", (unsigned long long)s->lo);
	else if (row->seg == ROW_PADDR)
		snprintf(buf, size, "paddr 0x%llx -> 0x%llx", (unsigned long long)s->lo,
			 (unsigned long long)s->hi);
	else
		snprintf(buf, size, "%016llx->%016llx", (unsigned long long)s->lo,
			 (unsigned long long)s->hi);
}

static int expected_code(const struct run_plan *p, enum pv_boot_mode mode)
{
	if (mode == PV_MODE_NO_REVECTOR && p->module_must_fail)
		return PV_EXIT_MODULE_FAILED;
	return PV_EXIT_PASS;
}

static void check_qemu(const struct run_plan *p, struct run_one *r)
{
	const struct run_exit *e = &r->exit;
	int code = run_kernel_code(e), want = expected_code(p, r->mode);

	if (run_check_qemu_ended_badly(r))
		;
	else if (code < 0)
		run_check_add(r, "qemu-exit", false,
			      "QEMU exited with status %d, not through the kernel's isa-debug-exit write%s%s",
			      e->status, e->qemu_err[0] ? ": " : "", e->qemu_err);
	else
		run_check_add(r, "qemu-exit", true,
			      "QEMU exited with status %d: the kernel wrote 0x%x", e->status, code);

	if (code < 0)
		run_check_add(r, "kernel-status", false,
			      "no status from the kernel, expected 0x%x (%s)", want,
			      pv_exit_code_meaning(want));
	else
		run_check_add(r, "kernel-status", code == want,
			      "the kernel wrote 0x%x (%s), expected 0x%x", code, pv_exit_code_meaning(code),
			      want);
}

static void check_arrangement(const struct run_plan *p, struct run_one *r)
{
	const struct run_arrangement *a = &r->ser.arr;
	struct row rows[NR_ROWS];
	char diff[sizeof(r->check[0].detail)] = "";
	size_t used = 0;

	r->agree = false;
	if (!a->found) {
		run_check_add(r, "arrangement-found", false,
			      "Xen printed no VIRTUAL MEMORY ARRANGEMENT");
		run_check_add(r, "arrangement-agrees", false, "nothing to compare");
		return;
	}
	run_check_add(r, "arrangement-found", run_arrangement_complete(a),
		      run_arrangement_complete(a) ? "Xen printed the arrangement"
						  : "Xen's arrangement is incomplete");
	rows_fill(p, a, rows);
	for (int i = 0; i < NR_ROWS; i++) {
		char rs[64], ps[64];

		if (!rows[i].differs)
			continue;
		side_text(&rows[i], &rows[i].real, rs, sizeof(rs));
		side_text(&rows[i], &rows[i].pred, ps, sizeof(ps));
		if (used < sizeof(diff))
			used += (size_t)snprintf(diff + used, sizeof(diff) - used,
						 "%s%s: Xen %s, predicted %s", used ? "; " : "",
						 rows[i].name, rs, ps);
	}
	r->agree = !used && run_arrangement_complete(a);
	if (used)
		run_check_add(r, "arrangement-agrees", false, "%s", diff);
	else
		run_check_add(r, "arrangement-agrees", true, "every field equals the %s prediction",
			      pv_builder_name(p->g.in.builder));
}

/*
 * What Xen printed of the layout, line for line and byte for byte, against
 * `pvboot layout --format log` for the release's dom0 builder: the kernel
 * lines and the VIRTUAL MEMORY ARRANGEMENT, in that release's form
 * (docs/builders.md section 6.6).
 */
static void check_printed(const struct run_plan *p, struct run_one *r)
{
	const struct run_arrangement *a = &r->ser.arr;
	const struct run_lines *pred = &p->predicted_log;
	unsigned n = a->nr_printed > pred->n ? a->nr_printed : pred->n, differ = 0, first = n;

	for (unsigned i = 0; i < n; i++) {
		const char *x = i < a->nr_printed ? a->printed[i] : NULL;
		const char *y = i < pred->n ? pred->line[i] : NULL;

		if (!x || !y || strcmp(x, y)) {
			differ++;
			if (first == n)
				first = i;
		}
	}
	if (!differ)
		run_check_add(r, "arrangement-lines", a->nr_printed > 0,
			      "all %u lines equal `pvboot layout --builder %s --format log`",
			      a->nr_printed, pv_builder_name(p->g.in.builder));
	else
		run_check_add(r, "arrangement-lines", false,
			      "%u of %u lines differ from the %s prediction; line %u: Xen '%s', predicted '%s'",
			      differ, n, pv_builder_name(p->g.in.builder), first + 1,
			      first < a->nr_printed ? a->printed[first] : "(none)",
			      first < pred->n ? pred->line[first] : "(none)");
}

/*
 * The Xen that booted is the release the prediction is of; a recording
 * that starts after Xen's banner has nothing to check.
 */
static void check_xen_version(const struct run_plan *p, struct run_one *r)
{
	const char *v = r->ser.arr.xen_version;
	size_t n = strlen(p->xen_release);

	if (v[0])
		run_check_add(r, "xen-version", !strncmp(v, p->xen_release, n) && v[n] == '.',
			      "Xen %s booted; the prediction is Xen %s's%s", v, p->xen_release,
			      !strncmp(v, p->xen_release, n) && v[n] == '.'
				      ? ""
				      : " (give --xen-version to match)");
}

static void dom0_checks(const struct run_plan *p, struct run_one *r)
{
	check_qemu(p, r);
	check_xen_version(p, r);
	check_arrangement(p, r);
	check_printed(p, r);
}

static enum run_verdict dom0_line(struct run_one *r, double t, const char *text, char *stage,
				  size_t size)
{
	struct run_serial *s = &r->ser;

	switch (run_serial_line(s, t, text)) {
	case RUN_STAGE_XEN:
		snprintf(stage, size, "Xen booting");
		break;
	case RUN_STAGE_BUILDING:
		snprintf(stage, size, "Xen building dom0 ...");
		break;
	case RUN_STAGE_ARRANGEMENT:
		snprintf(stage, size, "Xen laid dom0 out (VIRTUAL MEMORY ARRANGEMENT)");
		break;
	case RUN_STAGE_KERNEL:
		snprintf(stage, size, "kernel started: %s", text);
		break;
	case RUN_STAGE_KERNEL_LINE:
		snprintf(stage, size, "%s", text);
		break;
	case RUN_STAGE_RESULT:
		snprintf(stage, size, "PVBOOT-RESULT");
		break;
	case RUN_STAGE_CRASH:
		snprintf(stage, size, "%s", s->crash);
		return s->crash_final ? RUN_STOP_NOW : RUN_STOP_SOON;
	default:
		break;
	}
	return RUN_GO_ON;
}

/* Wall times: QEMU start to the first "pvboot:" line, from there to PVBOOT-RESULT. */
static unsigned dom0_timings(const struct run_one *r, struct run_timing *t)
{
	const struct run_serial *s = &r->ser;

	t[0] = (struct run_timing){"hypervisor", "hypervisor", s->t_kernel};
	t[1] = (struct run_timing){"kernel", "kernel",
				   s->t_kernel >= 0 && s->t_result >= 0 ? s->t_result - s->t_kernel
									: -1};
	return 2;
}

/* Xen's arrangement against the prediction, a row per line Xen prints. */
static void dom0_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	struct row rows[NR_ROWS];

	if (!r->ser.arr.found)
		fprintf(f, "  arrangement     Xen printed none (predicted TOTAL %016llx->%016llx)\n",
			(unsigned long long)p->predicted.seg[PV_SEG_TOTAL].vstart,
			(unsigned long long)p->predicted.seg[PV_SEG_TOTAL].vend);
	else
		fprintf(f, "  %-15s %-36s pvboot predicted (%s)\n", "arrangement", "Xen printed",
			pv_builder_name(p->g.in.builder));
	rows_fill(p, &r->ser.arr, rows);
	for (int i = 0; r->ser.arr.found && i < NR_ROWS; i++) {
		char rs[64], ps[64];

		if (!rows[i].real.has && !rows[i].pred.has)
			continue;
		side_text(&rows[i], &rows[i].real, rs, sizeof(rs));
		side_text(&rows[i], &rows[i].pred, ps, sizeof(ps));
		if (!rows[i].differs)
			fprintf(f, "  %-15s %-36s %s\n", rows[i].label, rs,
				rows[i].real.has ? "agree" : "(not printed)");
		else
			fprintf(f, "  %-15s %-36s \xe2\x9c\x97 %s\n", rows[i].label, rs, ps);
	}
}

/* The segments as pvboot layout --format json prints them. */
static void json_arrangement(struct json *j, const char *key, const struct pv_layout *l,
			     bool has_entry, const struct row *rows, const struct side *paddr)
{
	json_obj(j, key);
	json_arr(j, "segments");
	for (int i = 0; i < NR_ROWS; i++) {
		const struct pv_segment *seg;

		if (rows[i].seg < 0 || !l->seg[rows[i].seg].present)
			continue;
		seg = &l->seg[rows[i].seg];
		json_segment(j, rows[i].name, seg);
	}
	json_arr_end(j);
	if (has_entry)
		json_hex(j, "entry", l->si.entry);
	else
		json_null(j, "entry");
	if (paddr->has) {
		json_obj(j, "kernel_paddr");
		json_hex(j, "start", paddr->lo);
		json_hex(j, "end", paddr->hi);
		json_obj_end(j);
	} else {
		json_null(j, "kernel_paddr");
	}
	json_obj_end(j);
}


static void dom0_report_json(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	const struct run_arrangement *a = &r->ser.arr;
	struct row rows[NR_ROWS];

	json_obj(j, "arrangement");
	rows_fill(p, a, rows);
	if (a->found)
		json_arrangement(j, "real", &a->l, a->lines & RUN_ARR_ENTRY, rows, &rows[0].real);
	else
		json_null(j, "real");
	json_arrangement(j, "predicted", &p->predicted, true, rows, &rows[0].pred);
	json_bool(j, "agree", r->agree);
	json_obj_end(j);
}

static void dom0_report_qemu_json(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	int code = run_kernel_code(&r->exit);

	(void)p;
	if (code >= 0)
		json_hex(j, "kernel_code", (uint64_t)code);
	else
		json_null(j, "kernel_code");
}

static void dom0_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	char a[32];

	if (r->cmd.argc)
		fprintf(f, "  QEMU      %llu MiB (%s) for the dom0 and Xen\n",
			(unsigned long long)p->qemu_mib,
			human_bytes(p->qemu_mib << 20, a, sizeof(a)));
}

static void dom0_verdict(const struct run_one *r, char *buf, size_t size)
{
	if (r->exit.known && r->exit.exited)
		snprintf(buf, size, "%d (0x%x)", r->exit.status, r->exit.status >> 1);
}

/* ---- the plan ---- */

/*
 * pvboot-kernel.elf, or for mode linear the one with the INIT_P2M note,
 * so that Xen puts the list outside __ka and guests above 512 GiB fit the
 * initial mapping.
 */
static const char *dom0_default_kernel(bool seed_memory, bool linear)
{
	(void)seed_memory;
	return linear ? "pvboot-kernel-initp2m.elf" : "pvboot-kernel.elf";
}

/* A dom0's kernel and ramdisk are multiboot modules: their strings cannot carry a space. */
static int no_space(const char *path, const char *what, struct pv_error *err)
{
	if (path && strchr(path, ' '))
		return pv_fail(err, PV_ERR_USAGE,
			       "%s: '%s' has a space, which QEMU's multiboot module string cannot carry",
			       what, path);
	return 0;
}

static int dom0_check_files(const char *kernel, const char *ramdisk, struct pv_error *err)
{
	return no_space(kernel, "--kernel", err) || no_space(ramdisk, "--ramdisk", err) ? -1 : 0;
}

static int dom0_plan(struct run_plan *p, struct pv_error *err)
{
	if (dom0_check_files(p->g.kernel, p->g.ramdisk, err))
		return -1;
	p->qemu_mib = run_qemu_mib(p->memory, p->ramdisk_bytes);
	p->host_need = run_host_need(p->qemu_mib, p->memory, p->ramdisk_bytes);
	/* Mode revector copies every leaf of a list the tree holds (450 GiB: 6.43 GiB peak). */
	if (p->revector && p->g.in.nr_pages <= P2M_MAX_PFN)
		p->host_need += p->g.in.nr_pages * 8;
	if (p->timeout <= 0)
		p->timeout = 60 + 0.25 * (double)(p->memory >> 30);
	return 0;
}

static int dom0_prepare(struct run_plan *p, const struct run_progress *pr, struct pv_error *err)
{
	(void)pr;
	if (p->ramdisk && !p->g.ramdisk && strchr(p->ramdisk_path, ' '))
		return pv_fail(err, PV_ERR_IO,
			       "%s: the cache path has a space, which QEMU's multiboot module string cannot carry",
			       p->ramdisk_path);
	return 0;
}

const struct run_kind run_kind_dom0 = {
	.name = "dom0",
	.guest = "dom0",
	.dom0_builder = true,
	.builder_who = "Xen's dom0 builder",
	.host_need_what = "Xen's frame table and M2P, the P2M list, copied in mode revector, the ramdisk",
	.debug_exit = true,
	.default_kernel = dom0_default_kernel,
	.check_files = dom0_check_files,
	.plan = dom0_plan,
	.prepare = dom0_prepare,
	.cmdline = run_dom0_cmdline,
	.serial = {.line = dom0_line},
	.checks = dom0_checks,
	.report = {
		.timings = dom0_timings,
		.machine = dom0_report_machine,
		.builder = dom0_report_builder,
		.qemu_json = dom0_report_qemu_json,
		.json = dom0_report_json,
		.verdict_label = "exit status",
		.verdict = dom0_verdict,
	},
};
