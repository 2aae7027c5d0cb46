/*
 * The kinds of guest the harness boots, and what the report asks of
 * them.  A new kind is its own file and one line in this table.
 */
#include <limits.h>
#include <string.h>

#include "harness_priv.h"

static const struct run_kind *const kinds[] = {
	&run_kind_dom0,
	&run_kind_domu,
};

#define NR_KINDS (sizeof(kinds) / sizeof(kinds[0]))

const struct run_kind *run_kind_find(const char *name)
{
	for (size_t i = 0; i < NR_KINDS; i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

const struct run_kind *run_kind_of_log(const char *path, const struct run_kind *fallback)
{
	FILE *f = fopen(path, "r");
	const struct run_kind *found = NULL;
	char line[512];

	if (!f)
		return fallback;
	while (!found && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < NR_KINDS && !found; i++)
			if (kinds[i]->serial.log_marker && kinds[i]->serial.log_marker(line))
				found = kinds[i];
	fclose(f);
	return found ? found : fallback;
}

void run_kind_names(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NR_KINDS && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", kinds[i]->name);
}

int run_kind_builder(const struct run_kind *k, const char *release, enum pv_builder *b,
		     struct pv_error *err)
{
	if (!run_xen_suite(release) || pv_builder_of_release(release, k->dom0_builder, b))
		return pv_fail(err, PV_ERR_USAGE, "pvboot boots Xen 4.14, 4.17 and 4.20, not '%s'",
			       release);
	return 0;
}

int run_check_guest(const struct run_kind *k, const struct pv_layout_in *in, struct pv_error *err)
{
	return k->check_guest ? k->check_guest(in, err) : 0;
}

/* --kernel-extent: the kernels make builds beside pvboot. */
static const struct {
	const char *name, *file;
} extents[] = {
	{"plain", "pvboot-kernel.elf"},
	{"seed", "pvboot-kernel-seed.elf"}, /* the seed's extent, include/pvboot/seed.h */
};

const char *run_kernel_extent_file(const char *extent)
{
	for (size_t i = 0; i < sizeof(extents) / sizeof(extents[0]); i++)
		if (!strcmp(extent, extents[i].name))
			return extents[i].file;
	return NULL;
}

int run_kernel_path(const struct run_kind *k, const char *given, const char *extent,
		    bool seed_memory, bool linear, const char *ramdisk, char *path, size_t size,
		    struct pv_error *err)
{
	const char *file = extent ? run_kernel_extent_file(extent) : NULL;
	char dir[PATH_MAX];

	if (given) {
		snprintf(path, size, "%s", given);
	} else {
		if (extent && !file)
			return pv_fail(err, PV_ERR_USAGE,
				       "--kernel-extent: unknown extent '%s' (plain, seed)", extent);
		if (!file)
			file = k->default_kernel(seed_memory, linear);
		if (pv_exe_dir(dir, sizeof(dir), err))
			return -1;
		if (snprintf(path, size, "%s/%s", dir, file) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	}
	if (k->check_files && k->check_files(path, ramdisk, err))
		return -1;
	if (!pv_is_file(path))
		return pv_fail(err, PV_ERR_IO,
			       "%s: no such file (the PV kernel: build it with make, or give --kernel)",
			       path);
	return 0;
}

void run_title(const struct run_plan *p, enum pv_boot_mode mode, char *buf, size_t size)
{
	char mem[32];

	snprintf(buf, size, "%s %s, %s", human_bytes(p->memory, mem, sizeof(mem)), p->kind->guest,
		 pv_boot_mode_name(mode));
}

const char *run_guest_name(const struct run_plan *p)
{
	return p->kind->guest;
}

unsigned run_timings(const struct run_plan *p, const struct run_one *r, struct run_timing *t)
{
	unsigned n = p->kind->report.timings(r, t);

	t[n++] = (struct run_timing){"total", "total", r->cmd.argc ? r->exit.seconds : r->ser.t_last};
	return n;
}

void run_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report.machine(f, p, r);
}

void run_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report.builder(f, p, r);
}

void run_report_qemu_json(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	if (p->kind->report.qemu_json)
		p->kind->report.qemu_json(j, p, r);
}

void run_report_json_fields(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report.json(j, p, r);
}

const char *run_verdict_label(const struct run_plan *p)
{
	return p->kind->report.verdict_label;
}

void run_verdict_text(const struct run_plan *p, const struct run_one *r, char *buf, size_t size)
{
	p->kind->report.verdict(r, buf, size);
}
