/*
 * The kind "domu" (pvboot run --domu): Xen boots a Linux dom0 that creates
 * pvboot's kernel as a domU with `xl -vvv create`, so the real libxenguest
 * lays it out.  Here: what the serial line says, the checks such a run
 * must pass, QEMU's size and command line, and the plan.
 *
 * scripts/dom0-init marks its output, one marker per line:
 *
 *   PVBOOT-DOM0-READY uptime=11.84            the toolstack is up
 *   PVBOOT-XL-CONFIG-BEGIN ... -END           the xl config
 *   PVBOOT-XL-BEGIN                           xl -vvv create's output:
 *     domainbuilder: detail: xc_dom_alloc_segment:   kernel       : 0xffffffff81000000 -> ...
 *     domainbuilder: detail: count_pgtables: 0x0000007fffffffff/39: ...
 *   PVBOOT-XL-END status=0 seconds=5.26
 *   PVBOOT-DOMU state=shutdown reason=poweroff seconds=1.58
 *   PVBOOT-GUEST-BEGIN ... -END               the domU's console: pvboot: lines, PVBOOT-RESULT
 *   PVBOOT-DOM0-DONE | PVBOOT-DOM0-ERROR <message>
 *
 * Of the builder's lines only those `pvboot layout --builder libxc-<release>
 * --format log` prints are kept (the same prefixes as in
 * src/core/layout_libxc.c), without "domainbuilder: detail: ", so that the
 * two compare line by line, byte for byte.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/x86.h>

#include "domu.h"

#define BUILDER_PREFIX "domainbuilder: detail: "

/* What the layout engine logs for libxenguest, and nothing else of the builder's. */
static const char *const builder_kinds[] = {
	"xc_dom_alloc_segment",
	"xc_dom_alloc_page",
	"count_pgtables",
	"xc_dom_build_image  :",
};

enum { SEC_NONE, SEC_CONFIG, SEC_XL, SEC_GUEST, SEC_DMESG };

/* ---- the serial log ---- */

void run_domu_init(struct run_domu *d)
{
	*d = (struct run_domu){0};
	d->t_linux = d->t_ready = d->t_xl_begin = d->t_xl_end = d->t_shutdown = d->t_guest_end =
		d->t_done = -1;
	d->xl_status = -1;
	d->xl_seconds = d->domu_seconds = -1;
}

void run_domu_free(struct run_domu *d)
{
	run_lines_free(&d->builder);
}

static bool is_builder_line(const char *text)
{
	if (strncmp(text, BUILDER_PREFIX, strlen(BUILDER_PREFIX)))
		return false;
	text += strlen(BUILDER_PREFIX);
	for (size_t i = 0; i < sizeof(builder_kinds) / sizeof(builder_kinds[0]); i++)
		if (!strncmp(text, builder_kinds[i], strlen(builder_kinds[i])))
			return true;
	return false;
}

static bool starts(const char *text, const char *marker)
{
	return !strncmp(text, marker, strlen(marker));
}

/* A line of xl's output, or of its config. */
static void xl_line(struct run_domu *d, const char *text)
{
	const char *m;

	if (d->section == SEC_CONFIG) {
		/* extra = "mode=... verify=...": the guest's command line, as the kernel reads it. */
		if (starts(text, "extra = \"") && (m = strchr(text + 9, '"'))) {
			char words[256];

			snprintf(words, sizeof(words), "%.*s", (int)(m - (text + 9)), text + 9);
			pv_args_defaults(&d->config);
			d->config_read = !pv_args_parse(words, &d->config, NULL);
		}
		return;
	}
	if (is_builder_line(text))
		run_lines_add(&d->builder, text + strlen(BUILDER_PREFIX));
	else if (!d->xl_error[0] && strstr(text, ": error: "))
		snprintf(d->xl_error, sizeof(d->xl_error), "%s", text);
}

/* A marker line; RUN_DOMU_NONE if @text is none. */
static enum run_domu_stage marker(struct run_domu *d, double t, const char *text)
{
	if (starts(text, "PVBOOT-DOM0-READY")) {
		d->t_ready = t;
		return RUN_DOMU_READY;
	}
	if (starts(text, "PVBOOT-XL-CONFIG-BEGIN")) {
		d->section = SEC_CONFIG;
		return RUN_DOMU_NONE;
	}
	if (starts(text, "PVBOOT-XL-CONFIG-END") || starts(text, "PVBOOT-XL-DMESG-END")) {
		d->section = SEC_NONE;
		return RUN_DOMU_NONE;
	}
	if (starts(text, "PVBOOT-XL-DMESG-BEGIN")) {
		d->section = SEC_DMESG;
		return RUN_DOMU_NONE;
	}
	if (starts(text, "PVBOOT-XL-BEGIN")) {
		d->section = SEC_XL;
		d->t_xl_begin = t;
		return RUN_DOMU_XL;
	}
	if (starts(text, "PVBOOT-XL-END")) {
		d->section = SEC_NONE;
		d->t_xl_end = t;
		if (sscanf(text, "PVBOOT-XL-END status=%d seconds=%lf", &d->xl_status,
			   &d->xl_seconds) < 1)
			d->xl_status = 255; /* it ended, but does not say how */
		return RUN_DOMU_XL_END;
	}
	if (starts(text, "PVBOOT-DOMU ")) {
		d->t_shutdown = t;
		if (sscanf(text, "PVBOOT-DOMU state=%15s reason=%15s seconds=%lf", d->state,
			   d->reason, &d->domu_seconds) < 2)
			snprintf(d->state, sizeof(d->state), "?");
		return RUN_DOMU_SHUTDOWN;
	}
	if (starts(text, "PVBOOT-GUEST-BEGIN")) {
		d->section = SEC_GUEST;
		return RUN_DOMU_GUEST;
	}
	if (starts(text, "PVBOOT-GUEST-END")) {
		d->section = SEC_NONE;
		d->t_guest_end = t;
		return RUN_DOMU_NONE;
	}
	if (starts(text, "PVBOOT-MFNDUMP ")) {
		unsigned long long pfns = 0, valid = 0;

		d->mfndump_seen = true;
		if (sscanf(text, "PVBOOT-MFNDUMP status=%d size=%23s pfns=%llu valid=%llu",
			   &d->mfndump_status, d->mfndump_size, &pfns, &valid) < 4)
			d->mfndump_status = -1; /* it ran, but the line does not say how */
		d->mfndump_pfns = pfns;
		d->mfndump_valid = valid;
		return RUN_DOMU_NONE;
	}
	if (starts(text, "PVBOOT-DOM0-DONE")) {
		d->t_done = t;
		return RUN_DOMU_DONE;
	}
	if (starts(text, "PVBOOT-DOM0-ERROR")) {
		d->t_done = t;
		snprintf(d->dom0_error, sizeof(d->dom0_error), "%s",
			 text[17] == ' ' ? text + 18 : "(no message)");
		return RUN_DOMU_ERROR;
	}
	return RUN_DOMU_NONE;
}

enum run_domu_stage run_domu_line(struct run_domu *d, struct run_serial *s, double t, const char *text)
{
	enum run_domu_stage stage = RUN_DOMU_NONE;

	/* Xen's lines anywhere, pvboot's own trailer, and the guest's console. */
	if (strstr(text, "(XEN)") || starts(text, RUN_LOG_TAG) ||
	    (d->section == SEC_GUEST && !starts(text, "PVBOOT-GUEST-END"))) {
		switch (run_serial_line(s, t, text)) {
		case RUN_STAGE_XEN:
			stage = RUN_DOMU_XEN;
			break;
		case RUN_STAGE_BUILDING:
			stage = RUN_DOMU_DOM0_BUILD;
			break;
		case RUN_STAGE_KERNEL:
		case RUN_STAGE_KERNEL_LINE:
			stage = RUN_DOMU_KERNEL_LINE;
			break;
		case RUN_STAGE_RESULT:
			stage = RUN_DOMU_RESULT;
			break;
		case RUN_STAGE_CRASH:
			stage = RUN_DOMU_CRASH;
			break;
		default:
			break;
		}
	} else {
		s->lines++;
		if (t >= 0)
			s->t_last = t;
		stage = marker(d, t, text);
		if (stage == RUN_DOMU_NONE && (d->section == SEC_XL || d->section == SEC_CONFIG))
			xl_line(d, text);
		if (d->t_linux < 0 && strstr(text, "] Linux version ")) {
			d->t_linux = t;
			stage = RUN_DOMU_LINUX;
		}
	}
	if (stage != RUN_DOMU_NONE)
		d->seen |= 1U << stage;
	return stage;
}

/* ---- the checks ---- */

static void check_qemu(struct run_one *r)
{
	const struct run_exit *e = &r->exit;
	const struct run_domu *d = run_domu_of(r);

	if (!run_check_qemu_ended_badly(r))
		run_check_add(r, "qemu-exit", e->status == 0, "QEMU exited with status %d%s%s%s",
			      e->status,
			      e->status ? ", expected 0 (the dom0 powers the machine off)"
					: ": the dom0 powered off",
			      e->status && e->qemu_err[0] ? ": " : "", e->status ? e->qemu_err : "");

	if (d->seen & 1U << RUN_DOMU_DONE)
		run_check_add(r, "dom0-done", true, "the dom0's /init ran to PVBOOT-DOM0-DONE");
	else if (d->dom0_error[0])
		run_check_add(r, "dom0-done", false, "the dom0 failed: %s", d->dom0_error);
	else
		run_check_add(r, "dom0-done", false, "the dom0 never printed PVBOOT-DOM0-DONE%s",
			      d->seen & 1U << RUN_DOMU_READY ? "" : " (nor PVBOOT-DOM0-READY)");
}

static void check_xl(struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);

	if (d->xl_status < 0)
		run_check_add(r, "xl-create", false, "%s",
			      d->seen & 1U << RUN_DOMU_XL
				      ? "xl create did not finish (no PVBOOT-XL-END)"
				      : "xl create did not run (no PVBOOT-XL-BEGIN)");
	else if (d->xl_status)
		run_check_add(r, "xl-create", false, "xl create exited with status %d%s%s",
			      d->xl_status, d->xl_error[0] ? ": " : "", d->xl_error);
	else
		run_check_add(r, "xl-create", true, "xl create exited with status 0 after %.2f s",
			      d->xl_seconds);
}

static void check_builder_log(const struct run_plan *p, struct run_one *r)
{
	const struct run_lines *real = &run_domu_of(r)->builder, *pred = &p->predicted_log;
	unsigned n = real->n > pred->n ? real->n : pred->n, i;

	r->agree = false;
	if (!real->n) {
		run_check_add(r, "builder-log-agrees", false,
			      "xl printed no builder lines (" BUILDER_PREFIX "xc_dom_*)");
		return;
	}
	for (i = 0; i < n; i++)
		if (i >= real->n || i >= pred->n || strcmp(real->line[i], pred->line[i]))
			break;
	r->agree = i == n;
	if (r->agree)
		run_check_add(r, "builder-log-agrees", true,
			      "all %u lines equal `pvboot layout --builder %s --format log`", n,
			      pv_builder_name(p->g.in.builder));
	else
		run_check_add(r, "builder-log-agrees", false,
			      "line %u of %u (xl) and %u (predicted) differs: xl \"%.140s\", predicted \"%.140s\"",
			      i + 1, real->n, pred->n, i < real->n ? real->line[i] : "(none)",
			      i < pred->n ? pred->line[i] : "(none)");
}

static void check_shutdown(struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);

	if (!(d->seen & 1U << RUN_DOMU_SHUTDOWN))
		run_check_add(r, "domu-shutdown", false,
			      "no PVBOOT-DOMU line: the dom0 did not wait for the domU");
	else if (!strcmp(d->state, "shutdown") && !strcmp(d->reason, "poweroff"))
		run_check_add(r, "domu-shutdown", true,
			      "the domU powered off %.2f s after xl create", d->domu_seconds);
	else if (!strcmp(d->reason, "crash"))
		run_check_add(r, "domu-shutdown", false,
			      "the domU crashed (SHUTDOWN_crash: its kernel reported a failure)");
	else if (!strcmp(d->reason, "timeout"))
		run_check_add(r, "domu-shutdown", false,
			      "the domU was still running %.0f s after xl create", d->domu_seconds);
	else
		run_check_add(r, "domu-shutdown", false, "the domU's state is %s, reason %s",
			      d->state, d->reason[0] ? d->reason : "(none)");
}

/* A domU run: the dom0's markers. */
static enum run_verdict domu_line(struct run_one *r, double t, const char *text, char *stage,
				  size_t size)
{
	struct run_domu *d = run_domu_of(r);

	switch (run_domu_line(d, &r->ser, t, text)) {
	case RUN_DOMU_XEN:
		snprintf(stage, size, "Xen booting");
		break;
	case RUN_DOMU_DOM0_BUILD:
		snprintf(stage, size, "Xen building the Linux dom0");
		break;
	case RUN_DOMU_LINUX:
		snprintf(stage, size, "dom0 Linux booting");
		break;
	case RUN_DOMU_READY:
		snprintf(stage, size, "dom0 ready (xenstored, xenconsoled)");
		break;
	case RUN_DOMU_XL:
		snprintf(stage, size, "xl create running (libxenguest builds the domU)");
		break;
	case RUN_DOMU_XL_END:
		if (d->xl_status)
			snprintf(stage, size, "xl create failed with status %d", d->xl_status);
		else
			snprintf(stage, size, "domU running (xl create took %.2f s)", d->xl_seconds);
		break;
	case RUN_DOMU_SHUTDOWN:
		snprintf(stage, size, "domU %s (%s) after %.2f s", d->state, d->reason,
			 d->domu_seconds);
		break;
	case RUN_DOMU_GUEST:
		snprintf(stage, size, "the guest's console");
		break;
	case RUN_DOMU_KERNEL_LINE:
		snprintf(stage, size, "%s", text);
		break;
	case RUN_DOMU_RESULT:
		snprintf(stage, size, "guest result (PVBOOT-RESULT)");
		break;
	case RUN_DOMU_DONE:
		snprintf(stage, size, "dom0 done, powering off");
		break;
	case RUN_DOMU_ERROR:
		snprintf(stage, size, "dom0 error: %s", d->dom0_error);
		break;
	case RUN_DOMU_CRASH:
		snprintf(stage, size, "%s", r->ser.crash);
		return r->ser.crash_final ? RUN_STOP_NOW : RUN_STOP_SOON;
	default:
		break;
	}
	return RUN_GO_ON;
}

/*
 * With run_plan.mfndump: the release's own tools read the downed domU's
 * P2M, as xl dump-core and save do, every pfn with a frame (before 4.16
 * only through the 3-level tree: docs/builders.md section 1.2).
 */
static void check_mfndump(const struct run_plan *p, struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);
	uint64_t pages = p->memory / PAGE_SIZE;

	if (!p->mfndump)
		return;
	if (!d->mfndump_seen)
		run_check_add(r, "tools-read-p2m", false, "the dom0 printed no PVBOOT-MFNDUMP line");
	else
		run_check_add(r, "tools-read-p2m",
			      d->mfndump_status == 0 && d->mfndump_pfns == pages &&
				      d->mfndump_valid == pages,
			      "xen-mfndump dump-p2m (Xen %s's) exited %d, P2M size %s, %llu pfns, %llu with a frame; the guest has %llu",
			      p->xen_release, d->mfndump_status, d->mfndump_size,
			      (unsigned long long)d->mfndump_pfns, (unsigned long long)d->mfndump_valid,
			      (unsigned long long)pages);
}

static void domu_checks(const struct run_plan *p, struct run_one *r)
{
	check_qemu(r);
	check_xl(r);
	check_builder_log(p, r);
	check_shutdown(r);
	check_mfndump(p, r);
}

/* ---- the plan ---- */

/*
 * 2048 MiB (docs/real-xen.md sections 1 and 9.2), and more for the largest guests (their P2M,
 * xl's buffers).
 */
uint64_t run_domu_dom0_mib(uint64_t domu_bytes)
{
	return domu_bytes > 256 * GiB ? 3072 : 2048;
}

/*
 * QEMU's RAM in MiB: the dom0, the domU, the modules Xen loads (the dom0's
 * initramfs, about 160 MB, and the guest's files), plus about 10% for Xen
 * itself (its frame table is 1/128 of RAM, the M2P 1/512) and 512 MiB.
 * Rounded up to 256 MiB.  With reserve=off only what is touched costs.
 */
uint64_t run_domu_qemu_mib(uint64_t dom0_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes)
{
	uint64_t bytes = dom0_mib * MiB + domu_bytes + ramdisk_bytes + 256 * MiB;

	bytes += bytes / 10 + 512 * MiB;
	bytes = (bytes + 256 * MiB - 1) & ~(256 * MiB - 1);
	return bytes / MiB;
}

/*
 * What QEMU's RSS is expected to reach, in bytes: 1.3 GiB for QEMU, Xen
 * and the dom0 Linux with its tools; the ramdisk five times (QEMU's copy
 * of the module, the module in RAM, the dom0's unpacked initramfs, xl's
 * buffer, the domU); Xen's frame table (1/128 of RAM); and 32 bytes per
 * domU page (its M2P entry, the builder's P2M entry, the guest's copy of
 * it and its L1 entry in __va).  Measured here with pvboot's kernel,
 * revector, every pfn verified: 1.18 GB at 512 MiB, 4.69 GB at 128 GiB
 * with the seed's ramdisk, 7.99 GB at 384 GiB; this says 1.43, 5.06 and
 * 8.19 GB.  The domU is never destroyed
 * (on_poweroff="preserve"), or Xen's scrubbing would touch all of it.
 */
uint64_t run_domu_host_need(uint64_t qemu_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes)
{
	return 1331 * MiB + 5 * ramdisk_bytes + qemu_mib * MiB / 128 + domu_bytes / 128;
}

/* ---- QEMU's command line ---- */

int run_domu_cmdline(const struct run_plan *p, enum pv_boot_mode mode, struct run_cmdline *c,
		     struct pv_error *err)
{
	const struct run_domu_plan *dp = run_domu_plan_of(p);
	struct pv_guest_args args = {mode, p->verify_full, p->ramdisk, p->ramdisk_sum};
	char kernel[2 * PATH_MAX + 2], modules[2 * PATH_MAX + 2], words[160];
	size_t used = 0;
	int rc = 0;

	c->argc = 0;
	c->argv[0] = NULL;
	if (run_escape_commas(dp->dom0_kernel, kernel, sizeof(kernel)) >= sizeof(kernel) ||
	    run_escape_commas(dp->modules, modules, sizeof(modules)) >= sizeof(modules))
		return pv_fail(err, PV_ERR_RANGE, "QEMU command line: a path is too long");
	pv_args_format(&args, words, sizeof(words));

	/* Two vCPUs for the dom0 Linux (the domU has one); no debug-exit: the dom0 powers off. */
	rc |= run_qemu_common(c, &used, err, p->qemu_mib, 2, false);
	rc |= run_cmd_add(c, &used, err, "-kernel");
	rc |= run_cmd_add(c, &used, err, "%s", p->xen);
	rc |= run_cmd_add(c, &used, err, "-append");
	rc |= run_cmd_add(c, &used, err,
			  "console=com1 com1=115200 dom0_mem=%lluM,max:%lluM bootscrub=0 loglvl=all guest_loglvl=all",
			  (unsigned long long)dp->dom0_mib, (unsigned long long)dp->dom0_mib);
	rc |= run_cmd_add(c, &used, err, "-initrd");
	/* scripts/dom0-init reads the pvboot.* parameters; loglevel=4 keeps its sections clean. */
	rc |= run_cmd_add(c, &used, err,
			  "%s console=hvc0 earlyprintk=xen loglevel=4 pvboot.memory=%llu pvboot.extra=\"%s\" pvboot.ramdisk=%s pvboot.timeout=%u%s,%s",
			  kernel, (unsigned long long)(p->memory / MiB), words,
			  p->ramdisk ? "/" RUN_GUEST_RAMDISK : "none", dp->domu_wait,
			  p->mfndump ? " pvboot.mfndump=1" : "", modules);
	return rc ? -1 : 0;
}

/* The seed's guest (no --memory) boots the kernel of the seed's extent, so xl prints the seed's numbers. */
static const char *domu_default_kernel(bool seed_memory, bool linear)
{
	(void)linear;
	return seed_memory ? "pvboot-kernel-seed.elf" : "pvboot-kernel.elf";
}

static bool domu_log_marker(const char *text)
{
	return strstr(text, "PVBOOT-XL-BEGIN") || strstr(text, "PVBOOT-DOM0-READY");
}

static int domu_check_guest(const struct pv_layout_in *in, struct pv_error *err)
{
	if (in->nr_pages % 256)
		return pv_fail(err, PV_ERR_USAGE,
			       "--memory: a domU's memory must be whole MiB (xl's memory=)");
	return 0;
}

static int domu_plan(struct run_plan *p, struct pv_error *err)
{
	struct run_domu_plan *dp = run_domu_plan_of(p);

	(void)err;
	/*
	 * The dom0 Linux boots in about 10 s; xl create takes 26 s at 512 GiB
	 * (docs/real-xen.md section 11).
	 */
	dp->dom0_mib = run_domu_dom0_mib(p->memory);
	p->qemu_mib = run_domu_qemu_mib(dp->dom0_mib, p->memory, p->ramdisk_bytes);
	p->host_need = run_domu_host_need(p->qemu_mib, p->memory, p->ramdisk_bytes);
	if (p->timeout <= 0)
		p->timeout = 120 + 0.3 * (double)(p->memory >> 30);
	dp->domu_wait = p->timeout / 2 >= 5 ? (unsigned)(p->timeout / 2) : 5;
	return 0;
}

/* The Linux dom0 and the module with the guest's files. */
static int domu_prepare(struct run_plan *p, const struct run_progress *pr, struct pv_error *err)
{
	struct run_domu_plan *dp = run_domu_plan_of(p);
	bool reused;

	if (run_dom0_image(p->cache, p->xen_release, dp->dom0_kernel, dp->dom0_initrd, sizeof(dp->dom0_kernel),
			   err))
		return -1;
	if (run_domu_modules(p->cache, dp->dom0_initrd, p->g.kernel,
			     p->ramdisk ? p->ramdisk_path : NULL, dp->modules, sizeof(dp->modules),
			     &reused, pr, err))
		return -1;
	if (!reused)
		run_note(pr, "the guest's files appended to the dom0's initramfs: %s", dp->modules);
	if (strchr(dp->dom0_kernel, ' ') || strchr(dp->modules, ' '))
		return pv_fail(err, PV_ERR_IO,
			       "%s: the path has a space, which QEMU's multiboot module string cannot carry",
			       strchr(dp->modules, ' ') ? dp->modules : dp->dom0_kernel);
	return 0;
}

static void domu_run_init(struct run_one *r)
{
	run_domu_init(run_domu_of(r));
}

static void domu_run_free(struct run_one *r)
{
	run_domu_free(run_domu_of(r));
}

static const char *domu_logged_mode(const struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);

	return d->config_read ? pv_boot_mode_name(d->config.mode) : NULL;
}

const struct run_kind run_kind_domu = {
	.name = "domu",
	.guest = "domU",
	.dom0_builder = false,
	.builder_who = "libxenguest's domain builder",
	.host_need_what = "the dom0, Xen's frame table, the M2P and P2M entries, the ramdisk",
	.debug_exit = false,
	.plan_size = sizeof(struct run_domu_plan),
	.run_size = sizeof(struct run_domu),
	.default_kernel = domu_default_kernel,
	.check_guest = domu_check_guest,
	.plan = domu_plan,
	.prepare = domu_prepare,
	.cmdline = run_domu_cmdline,
	.run_init = domu_run_init,
	.run_free = domu_run_free,
	.serial = {
		.log_marker = domu_log_marker,
		.line = domu_line,
		.logged_mode = domu_logged_mode,
	},
	.checks = domu_checks,
	.report = {
		.timings = run_domu_timings,
		.machine = run_domu_report_machine,
		.builder = run_domu_report_builder,
		.json = run_domu_report_json,
		.verdict_label = "domU shutdown",
		.verdict = run_domu_verdict,
	},
};
