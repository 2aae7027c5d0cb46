/*
 * pvboot run's report, as text for people or as JSON (the shape is in
 * README.md), from the runs run_evaluate() has judged.  A domU run's own
 * part is in run_domu_report.c.
 */
#include <string.h>

#include <pvboot/x86.h>

#include "run.h"

void run_title(const struct run_plan *p, enum pv_boot_mode mode, char *buf, size_t size)
{
	char mem[32];

	snprintf(buf, size, "%s %s, %s", human_bytes(p->memory, mem, sizeof(mem)),
		 p->domu ? "domU" : "dom0", pv_boot_mode_name(mode));
}

/* Wall times: QEMU start to the first "pvboot:" line, from there to PVBOOT-RESULT, all. */
static void wall_times(const struct run_one *r, double *hv, double *kernel, double *total)
{
	const struct run_serial *s = &r->ser;

	*hv = s->t_kernel;
	*kernel = s->t_kernel >= 0 && s->t_result >= 0 ? s->t_result - s->t_kernel : -1;
	*total = r->cmd.argc ? r->exit.seconds : s->t_last;
}

/* ---- text ---- */

static void text_seconds(FILE *f, const char *what, double s, const char *sep)
{
	if (s >= 0)
		fprintf(f, "%s %.2f s%s", what, s, sep);
	else
		fprintf(f, "%s -%s", what, sep);
}

/* Xen's arrangement against the prediction, a row per line Xen prints. */
static void text_arrangement(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	struct run_row rows[RUN_NR_ROWS];

	if (!r->ser.arr.found)
		fprintf(f, "  arrangement     Xen printed none (predicted TOTAL %016llx->%016llx)\n",
			(unsigned long long)p->predicted.seg[PV_SEG_TOTAL].vstart,
			(unsigned long long)p->predicted.seg[PV_SEG_TOTAL].vend);
	else
		fprintf(f, "  %-15s %-36s %s\n", "arrangement", "Xen printed",
			"pvboot predicted (xen-4.17-dom0)");
	run_rows(p, &r->ser.arr, rows);
	for (int i = 0; r->ser.arr.found && i < RUN_NR_ROWS; i++) {
		char rs[64], ps[64];

		if (!rows[i].real.has && !rows[i].pred.has)
			continue;
		run_side_text(&rows[i], &rows[i].real, rs, sizeof(rs));
		run_side_text(&rows[i], &rows[i].pred, ps, sizeof(ps));
		if (!rows[i].differs)
			fprintf(f, "  %-15s %-36s %s\n", rows[i].label, rs,
				rows[i].real.has ? "agree" : "(not printed)");
		else
			fprintf(f, "  %-15s %-36s \xe2\x9c\x97 %s\n", rows[i].label, rs, ps);
	}
}

/* The kernel's PVBOOT-RESULT as key=value, or its last "pvboot:" line. */
static void text_result(FILE *f, const struct run_one *r)
{
	if (r->ser.have_result) {
		unsigned col = 15;

		fprintf(f, "\n  kernel result");
		for (unsigned i = 0; r->ser.result_parsed && i < r->ser.result.n; i++) {
			const struct run_jfield *fl = &r->ser.result.f[i];
			int n = (int)(strlen(fl->key) + strlen(fl->text) + 2 +
				      2 * (fl->type == RUN_JSTR));

			/* key=value, strings quoted, wrapped at 98 columns */

			if (col + n > 98) {
				fprintf(f, "\n               ");
				col = 15;
			}
			fprintf(f, fl->type == RUN_JSTR ? " %s=\"%s\"" : " %s=%s", fl->key, fl->text);
			col += (unsigned)n;
		}
		if (!r->ser.result_parsed)
			fprintf(f, " %s", r->ser.result_line);
		fputc('\n', f);
	} else if (r->ser.kernel_line[0]) {
		fprintf(f, "\n  kernel said   %s\n", r->ser.kernel_line);
	}
}

static void text_walls(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	double a, b, c, total;

	fprintf(f, "  wall time    ");
	if (p->domu) {
		run_domu_wall_times(r, &a, &b, &c, &total);
		text_seconds(f, " hypervisor+dom0", a, ",");
		text_seconds(f, " xl create", b, ",");
		text_seconds(f, " guest", c, ",");
	} else {
		wall_times(r, &a, &b, &total);
		text_seconds(f, " hypervisor", a, ",");
		text_seconds(f, " kernel", b, ",");
	}
	text_seconds(f, " total", total, "\n");
	/* What the host backed, against what plan_memory expected of it. */
	if (r->exit.peak_rss) {
		char a[32], b[32];

		fprintf(f, "  QEMU peak RSS %s (expected at most %s)\n",
			human_bytes(r->exit.peak_rss, a, sizeof(a)),
			human_bytes(p->host_need, b, sizeof(b)));
	}
}

static void text_checks(FILE *f, const struct run_one *r)
{
	unsigned failed = 0;

	for (unsigned i = 0; i < r->nr_checks; i++)
		failed += !r->check[i].ok;
	if (!failed) {
		fprintf(f, "\n  ok: all %u checks hold\n", r->nr_checks);
		return;
	}
	fprintf(f, "\n  FAILED: %u of %u checks\n", failed, r->nr_checks);
	for (unsigned i = 0; i < r->nr_checks; i++)
		if (!r->check[i].ok)
			fprintf(f, "    %s: %s\n", r->check[i].name, r->check[i].detail);
}

static void text_one(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	char title[80], a[32];

	run_title(p, r->mode, title, sizeof(title));
	fprintf(f, "== pvboot run: %s, verify %s ==\n", title, p->verify_full ? "full" : "sample");
	if (p->ramdisk)
		fprintf(f, "  ramdisk   %s (%llu bytes, pvsum64 0x%016llx)\n",
			p->ramdisk_path[0] ? p->ramdisk_path : "pattern",
			(unsigned long long)p->ramdisk_bytes, (unsigned long long)p->ramdisk_sum);
	if (r->cmd.argc && p->domu)
		fprintf(f, "  QEMU      %llu MiB (%s) for Xen, a %llu MiB dom0 and the domU\n",
			(unsigned long long)p->qemu_mib, human_bytes(p->qemu_mib << 20, a, sizeof(a)),
			(unsigned long long)p->dom0_mib);
	else if (r->cmd.argc)
		fprintf(f, "  QEMU      %llu MiB (%s) for the dom0 and Xen\n",
			(unsigned long long)p->qemu_mib,
			human_bytes(p->qemu_mib << 20, a, sizeof(a)));
	if (p->modules[0])
		fprintf(f, "  dom0      %s\n            %s\n", p->dom0_kernel, p->modules);
	fprintf(f, "  log       %s\n\n", r->log);

	if (p->domu)
		run_domu_text(f, p, r);
	else
		text_arrangement(f, p, r);
	text_result(f, r);
	text_walls(f, p, r);
	text_checks(f, r);
}

/* Two runs' main figures next to each other, as pvboot simulate shows them. */
static void text_side_by_side(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n)
{
	static const char *const keys[] = {"module_alloc", "ka_pmds_left", "p2m_leaves_copied",
					   "pages_leaked"};

	fprintf(f, "\nside by side:      ");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, " %-20s", pv_boot_mode_name(r[i].mode));
	fprintf(f, "\n  %-17s", p->domu ? "domU shutdown" : "exit status");
	for (unsigned i = 0; i < n; i++) {
		char s[40] = "-";

		if (p->domu && r[i].domu.state[0])
			snprintf(s, sizeof(s), "%s", r[i].domu.reason);
		else if (!p->domu && r[i].exit.known && r[i].exit.exited)
			snprintf(s, sizeof(s), "%d (0x%x)", r[i].exit.status, r[i].exit.status >> 1);
		fprintf(f, " %-20s", s);
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		fprintf(f, "\n  %-17s", keys[k]);
		for (unsigned i = 0; i < n; i++) {
			const struct run_jfield *fl = run_json_find(&r[i].ser.result, keys[k]);
			const char *v = fl ? fl->text : "-";

			if (fl && !strcmp(keys[k], "module_alloc"))
				v = strcmp(fl->text, "ok") ? "FAILED" : "ok";
			fprintf(f, " %-20s", v);
		}
	}
	fprintf(f, "\n  checks           ");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, " %-20s", r[i].ok ? "ok" : "FAILED");
	fputc('\n', f);
}

void run_report_text(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i)
			fputc('\n', f);
		text_one(f, p, &r[i]);
	}
	if (n > 1)
		text_side_by_side(f, p, r, n);
}

/* ---- JSON ---- */

/*
 * A number as written (a float, a negative count).  json.c writes no raw
 * tokens, so this does what its item() does, then the token.
 */
static void json_raw(struct json *j, const char *key, const char *raw)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->f);
		if (j->pretty) {
			fputc('\n', j->f);
			for (int i = 0; i < j->depth; i++)
				fputs("  ", j->f);
		}
	}
	j->first[j->depth] = false;
	if (key)
		fprintf(j->f, "\"%s\": ", key); /* our keys are plain names */
	fputs(raw, j->f);
}

void run_json_seconds(struct json *j, const char *key, double s)
{
	char buf[32];

	if (s < 0) {
		json_null(j, key);
		return;
	}
	snprintf(buf, sizeof(buf), "%.3f", s);
	json_raw(j, key, buf);
}

/* The segments as pvboot layout --format json prints them. */
static void json_arrangement(struct json *j, const char *key, const struct pv_layout *l,
			     bool has_entry, const struct run_row *rows, const struct run_side *paddr)
{
	json_obj(j, key);
	json_arr(j, "segments");
	for (int i = 0; i < RUN_NR_ROWS; i++) {
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

static void json_result(struct json *j, const struct run_serial *s)
{
	if (!s->result_parsed) {
		json_null(j, "result");
		return;
	}
	json_obj(j, "result");
	for (unsigned i = 0; i < s->result.n; i++) {
		const struct run_jfield *f = &s->result.f[i];
		uint64_t v;

		if (f->type == RUN_JSTR)
			json_str(j, f->key, f->text);
		else if (f->type == RUN_JNUM && run_json_u64(&s->result, f->key, &v))
			json_u64(j, f->key, v);
		else
			json_raw(j, f->key, f->text);
	}
	json_obj_end(j);
}

static void json_one(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	const struct run_arrangement *a = &r->ser.arr;
	struct run_row rows[RUN_NR_ROWS];
	double hv, kernel, guest, total;
	int code = run_kernel_code(&r->exit);
	char sum[24];

	json_obj(j, NULL);
	json_str(j, "guest", p->domu ? "domU" : "dom0");
	json_u64(j, "memory", p->memory);
	json_u64(j, "memory_mib", p->memory >> 20);
	json_u64(j, "nr_pages", p->memory / PAGE_SIZE);
	json_str(j, "mode", pv_boot_mode_name(r->mode));
	json_str(j, "verify", p->verify_full ? "full" : "sample");
	json_str(j, "kernel", p->kernel);
	if (p->ramdisk) {
		json_obj(j, "ramdisk");
		if (p->ramdisk_path[0])
			json_str(j, "path", p->ramdisk_path);
		else
			json_null(j, "path");
		json_u64(j, "bytes", p->ramdisk_bytes);
		/* 16 digits, as the kernel prints its ramdisk_sum. */
		snprintf(sum, sizeof(sum), "0x%016llx", (unsigned long long)p->ramdisk_sum);
		json_str(j, "pvsum64", sum);
		json_obj_end(j);
	} else {
		json_null(j, "ramdisk");
	}

	json_obj(j, "qemu");
	if (r->cmd.argc) {
		json_arr(j, "command");
		for (unsigned i = 0; i < r->cmd.argc; i++)
			json_str(j, NULL, r->cmd.argv[i]);
		json_arr_end(j);
		json_u64(j, "memory_mib", p->qemu_mib);
		json_u64(j, "expected_rss", p->host_need);
	} else {
		json_null(j, "command");
		json_null(j, "memory_mib");
		json_null(j, "expected_rss");
	}
	if (r->exit.peak_rss)
		json_u64(j, "peak_rss", r->exit.peak_rss);
	else
		json_null(j, "peak_rss");
	if (r->exit.known && r->exit.exited)
		json_u64(j, "exit_status", (uint64_t)r->exit.status);
	else
		json_null(j, "exit_status");
	if (code >= 0 && !p->domu)
		json_hex(j, "kernel_code", (uint64_t)code);
	else if (!p->domu)
		json_null(j, "kernel_code");
	json_bool(j, "timed_out", r->exit.timed_out);
	if (r->ser.crash[0])
		json_str(j, "crash", r->ser.crash);
	else
		json_null(j, "crash");
	json_obj_end(j);

	if (p->domu) {
		run_domu_json(j, p, r);
	} else {
		json_obj(j, "arrangement");
		run_rows(p, a, rows);
		if (a->found)
			json_arrangement(j, "real", &a->l, a->lines & RUN_ARR_ENTRY, rows,
					 &rows[0].real);
		else
			json_null(j, "real");
		json_arrangement(j, "predicted", &p->predicted, true, rows, &rows[0].pred);
		json_bool(j, "agree", r->agree);
		json_obj_end(j);
	}

	json_result(j, &r->ser);
	if (r->ser.have_result)
		json_str(j, "result_line", r->ser.result_line);
	else
		json_null(j, "result_line");

	if (r->sim_line[0])
		json_str(j, "simulated_result_line", r->sim_line);
	else
		json_null(j, "simulated_result_line");

	json_obj(j, "wall_seconds");
	if (p->domu) {
		run_domu_wall_times(r, &hv, &kernel, &guest, &total);
		run_json_seconds(j, "hypervisor_dom0", hv);
		run_json_seconds(j, "xl_create", kernel);
		run_json_seconds(j, "guest", guest);
	} else {
		wall_times(r, &hv, &kernel, &total);
		run_json_seconds(j, "hypervisor", hv);
		run_json_seconds(j, "kernel", kernel);
	}
	run_json_seconds(j, "total", total);
	json_obj_end(j);

	json_arr(j, "checks");
	for (unsigned i = 0; i < r->nr_checks; i++) {
		json_obj(j, NULL);
		json_str(j, "name", r->check[i].name);
		json_bool(j, "ok", r->check[i].ok);
		json_str(j, "detail", r->check[i].detail);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_bool(j, "ok", r->ok);
	json_str(j, "log", r->log);
	json_obj_end(j);
}

void run_report_json(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n)
{
	struct json j;
	bool ok = true;

	json_begin(&j, f);
	if (n == 1) {
		json_one(&j, p, &r[0]);
	} else {
		json_obj(&j, NULL);
		json_arr(&j, "runs");
		for (unsigned i = 0; i < n; i++) {
			json_one(&j, p, &r[i]);
			ok = ok && r[i].ok;
		}
		json_arr_end(&j);
		json_bool(&j, "ok", ok);
		json_obj_end(&j);
	}
	json_end(&j);
}
