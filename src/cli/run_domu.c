/*
 * pvboot run --domu: what the serial line says when Xen boots a Linux
 * dom0 that creates pvboot's kernel as a domU with `xl -vvv create`, and
 * the checks such a run must pass.
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
 * Of the builder's lines only those `pvboot layout --builder libxc-4.17
 * --format log` prints are kept (the same prefixes as in
 * src/core/layout_libxc.c), without "domainbuilder: detail: ", so that the
 * two compare line by line, byte for byte.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

#define BUILDER_PREFIX "domainbuilder: detail: "

/* What the layout engine logs for libxc-4.17, and nothing else of the builder's. */
static const char *const builder_kinds[] = {
	"xc_dom_alloc_segment",
	"xc_dom_alloc_page",
	"count_pgtables",
	"xc_dom_build_image  :",
};

enum { SEC_NONE, SEC_CONFIG, SEC_XL, SEC_GUEST, SEC_DMESG };

/* ---- lines ---- */

void run_lines_add(struct run_lines *l, const char *text)
{
	char *copy;

	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 32;
		char **p = realloc(l->line, cap * sizeof(*p));

		if (!p) {
			l->nomem = true;
			return;
		}
		l->line = p;
		l->cap = cap;
	}
	copy = strdup(text);
	if (!copy) {
		l->nomem = true;
		return;
	}
	l->line[l->n++] = copy;
}

void run_lines_free(struct run_lines *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	*l = (struct run_lines){0};
}

static void keep_line(void *ctx, const char *text)
{
	run_lines_add(ctx, text);
}

int run_domu_predict(const struct pv_layout_in *in, struct pv_layout *l, struct run_lines *log,
		     struct pv_error *err)
{
	if (pv_layout_build(in, l, &(struct pv_log){keep_line, log}, err))
		return -1;
	if (log->nomem)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	return 0;
}

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
		if (starts(text, "extra = \"") && (m = strstr(text, "mode=")))
			snprintf(d->config_mode, sizeof(d->config_mode), "%.*s",
				 (int)strcspn(m + 5, " \""), m + 5);
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

	if (!run_check_qemu_ended_badly(r))
		run_check_add(r, "qemu-exit", e->status == 0, "QEMU exited with status %d%s%s%s",
			      e->status,
			      e->status ? ", expected 0 (the dom0 powers the machine off)"
					: ": the dom0 powered off",
			      e->status && e->qemu_err[0] ? ": " : "", e->status ? e->qemu_err : "");

	if (r->domu.seen & 1U << RUN_DOMU_DONE)
		run_check_add(r, "dom0-done", true, "the dom0's /init ran to PVBOOT-DOM0-DONE");
	else if (r->domu.dom0_error[0])
		run_check_add(r, "dom0-done", false, "the dom0 failed: %s", r->domu.dom0_error);
	else
		run_check_add(r, "dom0-done", false, "the dom0 never printed PVBOOT-DOM0-DONE%s",
			      r->domu.seen & 1U << RUN_DOMU_READY ? "" : " (nor PVBOOT-DOM0-READY)");
}

static void check_xl(struct run_one *r)
{
	const struct run_domu *d = &r->domu;

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
	const struct run_lines *real = &r->domu.builder, *pred = &p->predicted_log;
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
	const struct run_domu *d = &r->domu;

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

void run_domu_evaluate(const struct run_plan *p, struct run_one *r)
{
	check_qemu(r);
	check_xl(r);
	check_builder_log(p, r);
	check_shutdown(r);
	/* Mode null takes over and stops: its shutdown and the builder's log are all. */
	if (r->mode != PV_MODE_NULL)
		run_check_result(p, r);
	if (r->sim_tried)
		run_check_simulation(p, r);
}
