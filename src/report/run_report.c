/*
 * pvboot run's report, as text for people or as JSON (the shape is in
 * README.md), from the runs run_evaluate() has judged.  What differs by
 * kind of guest (the machine, the builder's print against the
 * prediction, the wall times) the harness's kind writes.
 */
#include <string.h>

#include <pvboot/report.h>
#include <pvboot/x86.h>

/* ---- text ---- */

static void text_seconds(FILE *f, const char *what, double s, const char *sep)
{
	if (s >= 0)
		fprintf(f, "%s %.2f s%s", what, s, sep);
	else
		fprintf(f, "%s -%s", what, sep);
}

/* The kernel's PVBOOT-RESULT as key=value, or its last "pvboot:" line. */
static void text_result(FILE *f, const struct run_one *r)
{
	if (r->ser.have_result) {
		unsigned col = 15;

		fprintf(f, "\n  kernel result");
		for (int i = 0; r->ser.result_parsed && i < PV_RF_NR; i++) {
			const char *key = pv_result_key((enum pv_result_field)i);
			char text[200];
			bool str;
			int n;

			if (!(r->ser.result_fields & 1U << i))
				continue;
			str = pv_result_value(&r->ser.result, (enum pv_result_field)i, text,
					      sizeof(text)) == PV_JSON_STRING;
			n = (int)(strlen(key) + strlen(text) + 2 + 2 * str);
			/* key=value, strings quoted, wrapped at 98 columns */
			if (col + n > 98) {
				fprintf(f, "\n               ");
				col = 15;
			}
			fprintf(f, str ? " %s=\"%s\"" : " %s=%s", key, text);
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
	struct run_timing t[RUN_MAX_TIMINGS];
	unsigned n = run_timings(p, r, t);

	fprintf(f, "  wall time    ");
	for (unsigned i = 0; i < n; i++) {
		char label[40];

		snprintf(label, sizeof(label), " %s", t[i].label);
		text_seconds(f, label, t[i].seconds, i + 1 < n ? "," : "\n");
	}
	/* What the host backed, against what the plan expected of it. */
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
	char title[80];

	run_title(p, r->mode, title, sizeof(title));
	fprintf(f, "== pvboot run: %s, verify %s ==\n", title, p->verify_full ? "full" : "sample");
	if (p->ramdisk && p->ramdisk_handed != p->ramdisk_bytes)
		fprintf(f, "  ramdisk   %s (%llu bytes, handed as %llu, pvsum64 0x%016llx)\n",
			p->ramdisk_path[0] ? p->ramdisk_path : "pattern",
			(unsigned long long)p->ramdisk_bytes, (unsigned long long)p->ramdisk_handed,
			(unsigned long long)p->ramdisk_sum);
	else if (p->ramdisk)
		fprintf(f, "  ramdisk   %s (%llu bytes, pvsum64 0x%016llx)\n",
			p->ramdisk_path[0] ? p->ramdisk_path : "pattern",
			(unsigned long long)p->ramdisk_bytes, (unsigned long long)p->ramdisk_sum);
	fprintf(f, "  xen       %s %s%s%s\n", p->xen_release, p->xen[0] ? p->xen : "(not fetched)",
		r->ser.arr.xen_version[0] ? ", booted " : "", r->ser.arr.xen_version);
	run_report_machine(f, p, r);
	fprintf(f, "  log       %s\n\n", r->log);
	run_report_builder(f, p, r);
	text_result(f, r);
	text_walls(f, p, r);
	text_checks(f, r);
}

/* Two runs' main figures next to each other, as pvboot simulate shows them. */
static void text_side_by_side(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n)
{
	static const enum pv_result_field keys[] = {PV_RF_MODULE_ALLOC, PV_RF_KA_PMDS_LEFT,
						    PV_RF_P2M_LEAVES_COPIED, PV_RF_PAGES_LEAKED};

	fprintf(f, "\nside by side:      ");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, " %-20s", pv_boot_mode_name(r[i].mode));
	fprintf(f, "\n  %-17s", run_verdict_label(p));
	for (unsigned i = 0; i < n; i++) {
		char s[40] = "-";

		run_verdict_text(p, &r[i], s, sizeof(s));
		fprintf(f, " %-20s", s);
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		fprintf(f, "\n  %-17s", pv_result_key(keys[k]));
		for (unsigned i = 0; i < n; i++) {
			char v[200] = "-";

			if (r[i].ser.result_fields & 1U << keys[k])
				pv_result_value(&r[i].ser.result, keys[k], v, sizeof(v));
			if (keys[k] == PV_RF_MODULE_ALLOC && strcmp(v, "-"))
				snprintf(v, sizeof(v), "%s", strcmp(v, "ok") ? "FAILED" : "ok");
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

static void json_result(struct json *j, const struct run_serial *s)
{
	if (!s->result_parsed) {
		json_null(j, "result");
		return;
	}
	json_obj(j, "result");
	for (int i = 0; i < PV_RF_NR; i++) {
		const char *key = pv_result_key((enum pv_result_field)i);
		char text[200];

		if (!(s->result_fields & 1U << i))
			continue;
		if (pv_result_value(&s->result, (enum pv_result_field)i, text, sizeof(text)) ==
		    PV_JSON_STRING)
			json_str(j, key, text);
		else
			json_raw(j, key, text);
	}
	json_obj_end(j);
}

static void json_one(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	struct run_timing t[RUN_MAX_TIMINGS];
	unsigned nt = run_timings(p, r, t);
	char sum[24];

	json_obj(j, NULL);
	json_str(j, "guest", run_guest_name(p));
	json_u64(j, "memory", p->memory);
	json_u64(j, "memory_mib", p->memory >> 20);
	json_u64(j, "nr_pages", p->memory / PAGE_SIZE);
	json_str(j, "mode", pv_boot_mode_name(r->mode));
	json_str(j, "verify", p->verify_full ? "full" : "sample");
	json_str(j, "kernel", p->g.kernel);
	json_obj(j, "xen");
	json_str(j, "release", p->xen_release);
	json_str_or_null(j, "file", p->xen[0] ? p->xen : NULL);
	json_str_or_null(j, "version", r->ser.arr.xen_version[0] ? r->ser.arr.xen_version : NULL);
	json_obj_end(j);
	if (p->ramdisk) {
		json_obj(j, "ramdisk");
		if (p->ramdisk_path[0])
			json_str(j, "path", p->ramdisk_path);
		else
			json_null(j, "path");
		json_u64(j, "bytes", p->ramdisk_bytes);
		/* mod_len: more than the file where the builder rounds it up to pages. */
		json_u64(j, "handed_bytes", p->ramdisk_handed);
		/* 16 digits, as the kernel prints its ramdisk_sum: over the bytes handed. */
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
	run_report_qemu_json(j, p, r);
	json_bool(j, "timed_out", r->exit.timed_out);
	if (r->ser.crash[0])
		json_str(j, "crash", r->ser.crash);
	else
		json_null(j, "crash");
	json_obj_end(j);

	run_report_json_fields(j, p, r);

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
	for (unsigned i = 0; i < nt; i++)
		json_seconds(j, t[i].key, t[i].seconds);
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
