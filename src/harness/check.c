/*
 * A run's verdict: the checks every kind of guest shares (how QEMU ended,
 * the kernel's PVBOOT-RESULT, the simulation's result against it), after
 * the kind's own.  Every check has a stable name (an interface, like the
 * layout warnings' codes) and a one-line detail; all of them must hold
 * for pvboot run to exit 0 (docs/harness.md).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/x86.h>

#include "harness_priv.h"

/* ---- the checks ---- */

void run_check_add(struct run_one *r, const char *name, bool ok, const char *fmt, ...)
{
	struct run_check *c;
	va_list ap;

	if (r->nr_checks == RUN_MAX_CHECKS)
		return;
	c = &r->check[r->nr_checks++];
	c->name = name;
	c->ok = ok;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (!ok)
		r->ok = false;
}
int run_kernel_code(const struct run_exit *e)
{
	int code = e->status >> 1;

	if (!e->known || !e->exited || e->timed_out || e->crash_killed || e->interrupted ||
	    !(e->status & 1))
		return -1;
	return code == RUN_CODE_OK || code == RUN_CODE_FAILED || code == RUN_CODE_MODULE_FAILED
		       ? code
		       : -1;
}

bool run_check_qemu_ended_badly(struct run_one *r)
{
	const struct run_exit *e = &r->exit;

	if (!e->known)
		run_check_add(r, "qemu-exit", false,
			      "no QEMU exit status: the log does not say (give --assume-exit N)");
	else if (e->interrupted)
		run_check_add(r, "qemu-exit", false, "interrupted by signal %d", e->interrupted);
	else if (e->timed_out)
		run_check_add(r, "qemu-exit", false, "timed out after %.0f s", e->timeout);
	else if (r->ser.crash[0])
		run_check_add(r, "qemu-exit", false, "Xen reported a crash: %s", r->ser.crash);
	else if (!e->exited)
		run_check_add(r, "qemu-exit", false, "QEMU was killed by signal %d", e->status);
	else
		return false;
	return true;
}
/* A field the checks need: its absence fails the check. */
static bool need_u64(struct run_one *r, const char *check_name, const char *key, uint64_t *v)
{
	if (run_json_u64(&r->ser.result, key, v))
		return true;
	run_check_add(r, check_name, false, "PVBOOT-RESULT has no number %s", key);
	return false;
}

static void check_module(const struct run_plan *p, struct run_one *r)
{
	const struct run_jobj *o = &r->ser.result;
	const char *alloc = run_json_str(o, "module_alloc");
	bool ran, have_ran = run_json_bool(o, "module_ran", &ran);
	bool must_fail = r->mode == PV_MODE_NO_REVECTOR && p->module_must_fail;

	if (!alloc || !have_ran) {
		run_check_add(r, "module", false, "PVBOOT-RESULT has no %s",
			      alloc ? "module_ran" : "module_alloc");
	} else if (must_fail) {
		run_check_add(r, "module", !strncmp(alloc, "vmalloc: allocation failure", 27) && !ran,
			      "module_alloc \"%s\", module_ran %s; the mapping reaches MODULES_VADDR, so the module must fail with vmalloc's line",
			      alloc, ran ? "true" : "false");
	} else {
		run_check_add(r, "module", !strcmp(alloc, "ok") && ran,
			      "module_alloc \"%s\", module_ran %s; expected ok and true%s", alloc,
			      ran ? "true" : "false",
			      r->mode == PV_MODE_NO_REVECTOR
				      ? " (the mapping stays below MODULES_VADDR)"
				      : "");
	}
}

static void check_ramdisk(const struct run_plan *p, struct run_one *r)
{
	const struct run_jobj *o = &r->ser.result;
	const char *sum = run_json_str(o, "ramdisk_sum");
	unsigned long long ksum = 0;
	uint64_t bytes;
	bool ok;

	if (!run_json_bool(o, "ramdisk_ok", &ok)) {
		run_check_add(r, "ramdisk", false, "PVBOOT-RESULT has no true/false ramdisk_ok");
		return;
	}
	if (run_json_u64(o, "ramdisk_bytes", &bytes) && bytes != p->ramdisk_bytes) {
		run_check_add(r, "ramdisk", false,
			      "the kernel got %llu bytes of ramdisk, the host gave %llu",
			      (unsigned long long)bytes, (unsigned long long)p->ramdisk_bytes);
		return;
	}
	if (sum && (sscanf(sum, "%llx", &ksum) != 1 || ksum != p->ramdisk_sum)) {
		run_check_add(r, "ramdisk", false, "the kernel's pvsum64 is %s, the host's 0x%016llx",
			      sum, (unsigned long long)p->ramdisk_sum);
		return;
	}
	run_check_add(r, "ramdisk", ok, "ramdisk_ok %s (pvsum64 0x%016llx)", ok ? "true" : "false",
		      (unsigned long long)p->ramdisk_sum);
}

void run_check_result(const struct run_plan *p, struct run_one *r)
{
	const struct run_jobj *o = &r->ser.result;
	const char *mode = run_json_str(o, "mode"), *error = run_json_str(o, "error");
	uint64_t nr_pages, verified, mismatches, double_freed, left;
	int64_t leaked;

	if (!r->ser.have_result) {
		run_check_add(r, "result-found", false, "the kernel printed no PVBOOT-RESULT line");
		return;
	}
	if (!r->ser.result_parsed) {
		run_check_add(r, "result-found", false,
			      "PVBOOT-RESULT is not a flat JSON object: %s", r->ser.result_error);
		return;
	}
	run_check_add(r, "result-found", true, "PVBOOT-RESULT with %u fields", o->n);
	run_check_add(r, "result-mode", mode && !strcmp(mode, pv_boot_mode_name(r->mode)),
		      "mode \"%s\", asked for %s", mode ? mode : "(none)",
		      pv_boot_mode_name(r->mode));
	run_check_add(r, "no-error", error && !error[0], "error \"%s\"", error ? error : "(none)");
	if (need_u64(r, "no-mismatches", "mismatches", &mismatches))
		run_check_add(r, "no-mismatches", mismatches == 0, "%llu pfns differ",
			      (unsigned long long)mismatches);
	if (need_u64(r, "nr-pages", "nr_pages", &nr_pages)) {
		run_check_add(r, "nr-pages", nr_pages == p->memory / PAGE_SIZE,
			      "nr_pages %llu, --memory is %llu pages", (unsigned long long)nr_pages,
			      (unsigned long long)(p->memory / PAGE_SIZE));
		if (p->verify_full && need_u64(r, "all-verified", "pfns_verified", &verified))
			run_check_add(r, "all-verified", verified == nr_pages,
				      "%llu of %llu pfns verified", (unsigned long long)verified,
				      (unsigned long long)nr_pages);
	}
	if (!run_json_i64(o, "pages_leaked", &leaked))
		run_check_add(r, "no-leaks", false, "PVBOOT-RESULT has no number pages_leaked");
	else if (need_u64(r, "no-leaks", "pages_double_freed", &double_freed))
		run_check_add(r, "no-leaks", leaked == 0 && double_freed == 0,
			      "%lld pages leaked, %llu freed twice", (long long)leaked,
			      (unsigned long long)double_freed);
	if (p->ramdisk)
		check_ramdisk(p, r);
	check_module(p, r);
	if ((r->mode == PV_MODE_REVECTOR || r->mode == PV_MODE_LINEAR) &&
	    need_u64(r, "ka-clean", "ka_pmds_left", &left))
		run_check_add(r, "ka-clean", left == 0,
			      "%llu __ka PMDs left between the kernel and MODULES_END (xen_cleanhighmap)",
			      (unsigned long long)left);
}

void run_check_simulation(const struct run_plan *p, struct run_one *r)
{
	const char *builder = pv_builder_name(p->g.in.builder);
	struct run_jobj *sim = malloc(sizeof(*sim));
	struct pv_error err;
	unsigned differ = 0;
	char first[160] = "";

	if (!sim) {
		run_check_add(r, "simulation-agrees", false, "out of memory");
		return;
	}
	if (r->sim_error[0] || !r->sim_line[0]) {
		run_check_add(r, "simulation-agrees", false, "the simulation did not run: %s",
			      r->sim_error[0] ? r->sim_error : "no result");
	} else if (!r->ser.result_parsed) {
		run_check_add(r, "simulation-agrees", false,
			      "no result from the real boot to compare");
	} else if (run_json_parse(r->sim_line, sim, &err)) {
		run_check_add(r, "simulation-agrees", false,
			      "the simulated result does not parse: %s", err.msg);
	} else {
		const struct run_jobj *real = &r->ser.result;

		for (unsigned i = 0; i < sim->n; i++) {
			const struct run_jfield *f = run_json_find(real, sim->f[i].key);

			if (f && f->type == sim->f[i].type && !strcmp(f->text, sim->f[i].text))
				continue;
			if (!differ++)
				snprintf(first, sizeof(first), "%.40s: real %.50s, simulated %.50s",
					 sim->f[i].key, f ? f->text : "(missing)", sim->f[i].text);
		}
		/* And what the real line has that the simulation does not. */
		for (unsigned i = 0; i < real->n; i++) {
			if (run_json_find(sim, real->f[i].key))
				continue;
			if (!differ++)
				snprintf(first, sizeof(first),
					 "%.40s: real %.50s, simulated (missing)", real->f[i].key,
					 real->f[i].text);
		}
		if (differ)
			run_check_add(r, "simulation-agrees", false,
				      "%u fields differ from `pvboot simulate --builder %s`, first %s",
				      differ, builder, first);
		else
			run_check_add(r, "simulation-agrees", true,
				      "all %u fields equal `pvboot simulate --builder %s`", sim->n,
				      builder);
	}
	free(sim);
}

void run_evaluate(const struct run_plan *p, struct run_one *r)
{
	r->nr_checks = 0;
	r->ok = true;
	p->kind->checks(p, r);
	/* Mode null takes over and stops: QEMU's end and the builder's print are all. */
	if (r->mode != PV_MODE_NULL)
		run_check_result(p, r);
	if (r->sim_tried)
		run_check_simulation(p, r);
}
