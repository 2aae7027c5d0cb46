/*
 * A domU run's part of pvboot run's report: the dom0, xl create, the
 * builder's log against the prediction, the domU's shutdown and the wall
 * times between the dom0's markers.  The rest (the ramdisk, QEMU, the
 * kernel's result, the checks) is what a dom0 run reports.
 */
#include <string.h>

#include "domu.h"

/*
 * Wall times from the markers: QEMU start to PVBOOT-DOM0-READY (Xen and
 * the dom0 Linux), PVBOOT-XL-BEGIN to -END, PVBOOT-XL-END to
 * PVBOOT-GUEST-END (the guest ran, shut down, its console was printed),
 * (the total is the harness's).
 */
unsigned run_domu_timings(const struct run_one *r, struct run_timing *t)
{
	const struct run_domu *d = run_domu_of(r);

	t[0] = (struct run_timing){"hypervisor+dom0", "hypervisor_dom0", d->t_ready};
	t[1] = (struct run_timing){"xl create", "xl_create",
				   d->t_xl_begin >= 0 && d->t_xl_end >= 0
					   ? d->t_xl_end - d->t_xl_begin
					   : -1};
	t[2] = (struct run_timing){"guest", "guest",
				   d->t_xl_end >= 0 && d->t_guest_end >= 0
					   ? d->t_guest_end - d->t_xl_end
					   : -1};
	return 3;
}

/* ---- text ---- */

static void text_builder_log(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	const struct run_lines *real = &run_domu_of(r)->builder, *pred = &p->predicted_log;
	const char *builder = pv_builder_name(p->g.in.builder);
	unsigned n = real->n > pred->n ? real->n : pred->n, differ = 0;

	for (unsigned i = 0; i < n; i++)
		differ += i >= real->n || i >= pred->n || strcmp(real->line[i], pred->line[i]);
	if (!real->n) {
		fprintf(f, "  builder log   xl printed none; the %s prediction:\n", builder);
		for (unsigned i = 0; i < pred->n; i++)
			fprintf(f, "    %s\n", pred->line[i]);
		return;
	}
	if (!differ)
		fprintf(f, "  builder log   xl -vvv create, %u lines, all equal the %s prediction\n",
			real->n, builder);
	else
		fprintf(f,
			"  builder log   xl -vvv create, %u lines; the %s prediction, %u lines: %u differ\n",
			real->n, builder, pred->n, differ);
	for (unsigned i = 0; i < n; i++) {
		if (i < real->n && i < pred->n && !strcmp(real->line[i], pred->line[i])) {
			fprintf(f, "    %s\n", real->line[i]);
			continue;
		}
		fprintf(f, "  \xe2\x9c\x97 xl:        %s\n", i < real->n ? real->line[i] : "(none)");
		fprintf(f, "    predicted: %s\n", i < pred->n ? pred->line[i] : "(none)");
	}
}

void run_domu_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);

	if (d->xl_status < 0)
		fprintf(f, "  xl create     %s\n",
			d->seen & 1U << RUN_DOMU_XL ? "did not finish" : "did not run");
	else
		fprintf(f, "  xl create     status %d, %.2f s in the dom0%s%s\n", d->xl_status,
			d->xl_seconds, d->xl_error[0] ? ": " : "", d->xl_error);
	if (d->seen & 1U << RUN_DOMU_SHUTDOWN)
		fprintf(f, "  domU          %s (%s) %.2f s after xl create\n", d->state, d->reason,
			d->domu_seconds);
	if (d->dom0_error[0])
		fprintf(f, "  dom0 error    %s\n", d->dom0_error);
	fputc('\n', f);
	text_builder_log(f, p, r);
}

/* ---- JSON ---- */

static void json_lines(struct json *j, const char *key, const struct run_lines *l)
{
	json_arr(j, key);
	for (unsigned i = 0; i < l->n; i++)
		json_str(j, NULL, l->line[i]);
	json_arr_end(j);
}

void run_domu_report_json(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	const struct run_domu *d = run_domu_of(r);
	const struct run_domu_plan *dp = run_domu_plan_of(p);

	json_obj(j, "dom0");
	json_str_or_null(j, "kernel", dp->dom0_kernel);
	json_str_or_null(j, "initrd", dp->dom0_initrd);
	json_str_or_null(j, "modules", dp->modules);
	json_u64(j, "memory_mib", dp->dom0_mib);
	json_bool(j, "ready", d->seen & 1U << RUN_DOMU_READY);
	json_bool(j, "done", d->seen & 1U << RUN_DOMU_DONE);
	json_str_or_null(j, "error", d->dom0_error);
	json_obj_end(j);

	if (d->xl_status >= 0)
		json_u64(j, "xl_status", (uint64_t)d->xl_status);
	else
		json_null(j, "xl_status");
	json_seconds(j, "xl_create_seconds", d->xl_seconds);
	json_str_or_null(j, "xl_error", d->xl_error);

	if (d->seen & 1U << RUN_DOMU_SHUTDOWN) {
		json_obj(j, "domu_shutdown");
		json_str(j, "state", d->state);
		json_str(j, "reason", d->reason);
		json_seconds(j, "seconds", d->domu_seconds);
		json_obj_end(j);
	} else {
		json_null(j, "domu_shutdown");
	}

	json_obj(j, "builder_log");
	json_lines(j, "real", &d->builder);
	json_lines(j, "predicted", &p->predicted_log);
	json_bool(j, "agree", r->agree);
	json_obj_end(j);
}

void run_domu_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	const struct run_domu_plan *dp = run_domu_plan_of(p);
	char a[32];

	if (r->cmd.argc)
		fprintf(f, "  QEMU      %llu MiB (%s) for Xen, a %llu MiB dom0 and the domU\n",
			(unsigned long long)p->qemu_mib, human_bytes(p->qemu_mib << 20, a, sizeof(a)),
			(unsigned long long)dp->dom0_mib);
	if (dp->modules[0])
		fprintf(f, "  dom0      %s\n            %s\n", dp->dom0_kernel, dp->modules);
}

void run_domu_verdict(const struct run_one *r, char *buf, size_t size)
{
	const struct run_domu *d = run_domu_of(r);

	if (d->state[0])
		snprintf(buf, size, "%s", d->reason);
}
