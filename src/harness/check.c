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
	if (!e->known || !e->exited || e->timed_out || e->crash_killed || e->interrupted)
		return -1;
	return pv_exit_code_from_status(e->status);
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

/* The result's fields (r->ser.result_fields has @f): otherwise the check fails, saying so. */
static bool has(struct run_one *r, const char *check_name, enum pv_result_field f)
{
	if (r->ser.result_fields & 1U << f)
		return true;
	run_check_add(r, check_name, false, "PVBOOT-RESULT has no %s", pv_result_key(f));
	return false;
}

static void check_module(const struct run_plan *p, struct run_one *r)
{
	const struct pv_boot_result *o = &r->ser.result;
	const char *ran = o->module_ran ? "true" : "false";
	bool must_fail = r->mode == PV_MODE_NO_REVECTOR && p->module_must_fail;

	if (!has(r, "module", PV_RF_MODULE_ALLOC) || !has(r, "module", PV_RF_MODULE_RAN))
		return;
	if (must_fail)
		run_check_add(r, "module",
			      !strncmp(o->module_alloc, "vmalloc: allocation failure", 27) &&
				      !o->module_ran,
			      "module_alloc \"%s\", module_ran %s; the mapping reaches MODULES_VADDR, so the module must fail with vmalloc's line",
			      o->module_alloc, ran);
	else
		run_check_add(r, "module", !strcmp(o->module_alloc, "ok") && o->module_ran,
			      "module_alloc \"%s\", module_ran %s; expected ok and true%s",
			      o->module_alloc, ran,
			      r->mode == PV_MODE_NO_REVECTOR
				      ? " (the mapping stays below MODULES_VADDR)"
				      : "");
}

static void check_ramdisk(const struct run_plan *p, struct run_one *r)
{
	const struct pv_boot_result *o = &r->ser.result;
	uint32_t have = r->ser.result_fields;

	if (!(have & 1U << PV_RF_RAMDISK_OK) || o->ramdisk_ok < 0) {
		run_check_add(r, "ramdisk", false, "PVBOOT-RESULT has no true/false ramdisk_ok");
		return;
	}
	if (have & 1U << PV_RF_RAMDISK_BYTES && o->ramdisk_bytes != p->ramdisk_handed) {
		run_check_add(r, "ramdisk", false,
			      "the kernel got %llu bytes of ramdisk, the builder hands %llu (the host's file: %llu)",
			      (unsigned long long)o->ramdisk_bytes,
			      (unsigned long long)p->ramdisk_handed,
			      (unsigned long long)p->ramdisk_bytes);
		return;
	}
	if (have & 1U << PV_RF_RAMDISK_SUM && o->ramdisk_sum != p->ramdisk_sum) {
		run_check_add(r, "ramdisk", false,
			      "the kernel's pvsum64 is 0x%016llx, the host's 0x%016llx",
			      (unsigned long long)o->ramdisk_sum, (unsigned long long)p->ramdisk_sum);
		return;
	}
	run_check_add(r, "ramdisk", o->ramdisk_ok, "ramdisk_ok %s (pvsum64 0x%016llx)",
		      o->ramdisk_ok ? "true" : "false", (unsigned long long)p->ramdisk_sum);
}

void run_check_result(const struct run_plan *p, struct run_one *r)
{
	const struct pv_boot_result *o = &r->ser.result;

	if (!r->ser.have_result) {
		run_check_add(r, "result-found", false, "the kernel printed no PVBOOT-RESULT line");
		return;
	}
	if (!r->ser.result_parsed) {
		run_check_add(r, "result-found", false, "PVBOOT-RESULT does not read: %s",
			      r->ser.result_error);
		return;
	}
	run_check_add(r, "result-found", true, "PVBOOT-RESULT with %u fields",
		      (unsigned)__builtin_popcount(r->ser.result_fields));
	if (has(r, "result-mode", PV_RF_MODE))
		run_check_add(r, "result-mode", o->mode == r->mode, "mode \"%s\", asked for %s",
			      pv_boot_mode_name(o->mode), pv_boot_mode_name(r->mode));
	if (has(r, "no-error", PV_RF_ERROR))
		run_check_add(r, "no-error", !o->error[0], "error \"%s\"", o->error);
	if (has(r, "no-mismatches", PV_RF_MISMATCHES))
		run_check_add(r, "no-mismatches", o->mismatches == 0, "%llu pfns differ",
			      (unsigned long long)o->mismatches);
	if (has(r, "nr-pages", PV_RF_NR_PAGES)) {
		run_check_add(r, "nr-pages", o->nr_pages == p->memory / PAGE_SIZE,
			      "nr_pages %llu, --memory is %llu pages", (unsigned long long)o->nr_pages,
			      (unsigned long long)(p->memory / PAGE_SIZE));
		if (p->verify_full && has(r, "all-verified", PV_RF_PFNS_VERIFIED))
			run_check_add(r, "all-verified", o->pfns_verified == o->nr_pages,
				      "%llu of %llu pfns verified",
				      (unsigned long long)o->pfns_verified,
				      (unsigned long long)o->nr_pages);
	}
	if (has(r, "no-leaks", PV_RF_PAGES_LEAKED) && has(r, "no-leaks", PV_RF_PAGES_DOUBLE_FREED))
		run_check_add(r, "no-leaks", o->pages_leaked == 0 && o->pages_double_freed == 0,
			      "%lld pages leaked, %llu freed twice", (long long)o->pages_leaked,
			      (unsigned long long)o->pages_double_freed);
	if (p->ramdisk)
		check_ramdisk(p, r);
	check_module(p, r);
	if ((r->mode == PV_MODE_REVECTOR || r->mode == PV_MODE_LINEAR) &&
	    has(r, "ka-clean", PV_RF_KA_PMDS_LEFT))
		run_check_add(r, "ka-clean", o->ka_pmds_left == 0,
			      "%llu __ka PMDs left between the kernel and MODULES_END (xen_cleanhighmap)",
			      (unsigned long long)o->ka_pmds_left);
}

/* Field @f of a result, or "(missing)". */
static const char *field_text(const struct pv_boot_result *res, uint32_t have,
			      enum pv_result_field f, char *buf, size_t size)
{
	if (!(have & 1U << f))
		return "(missing)";
	pv_result_value(res, f, buf, size);
	return buf;
}

void run_check_simulation(const struct run_plan *p, struct run_one *r)
{
	const char *builder = pv_builder_name(p->g.in.builder);
	struct pv_boot_result sim = {0};
	struct pv_error err = {0};
	uint32_t sim_have = 0, real_have = r->ser.result_fields;
	unsigned differ = 0;
	char first[160] = "";

	if (r->sim_error[0] || !r->sim_line[0]) {
		run_check_add(r, "simulation-agrees", false, "the simulation did not run: %s",
			      r->sim_error[0] ? r->sim_error : "no result");
		return;
	}
	if (!r->ser.result_parsed) {
		run_check_add(r, "simulation-agrees", false,
			      "no result from the real boot to compare");
		return;
	}
	if (pv_result_parse(r->sim_line, &sim, &sim_have, &err)) {
		run_check_add(r, "simulation-agrees", false,
			      "the simulated result does not parse: %s", err.msg);
		return;
	}
	for (int f = 0; f < PV_RF_NR; f++) {
		char a[sizeof(sim.error)], b[sizeof(sim.error)];
		const char *real_text, *sim_text;

		if (!((sim_have | real_have) & 1U << f))
			continue;
		real_text = field_text(&r->ser.result, real_have, (enum pv_result_field)f, a,
				       sizeof(a));
		sim_text = field_text(&sim, sim_have, (enum pv_result_field)f, b, sizeof(b));
		if (!strcmp(real_text, sim_text) && (sim_have & real_have & 1U << f))
			continue;
		if (!differ++)
			snprintf(first, sizeof(first), "%.40s: real %.50s, simulated %.50s",
				 pv_result_key((enum pv_result_field)f), real_text, sim_text);
	}
	if (differ)
		run_check_add(r, "simulation-agrees", false,
			      "%u fields differ from `pvboot simulate --builder %s`, first %s", differ,
			      builder, first);
	else
		run_check_add(r, "simulation-agrees", true,
			      "all %u fields equal `pvboot simulate --builder %s`",
			      (unsigned)__builtin_popcount(sim_have), builder);
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
