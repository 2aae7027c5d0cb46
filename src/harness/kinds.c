/*
 * The kinds of guest the harness boots, and what the report asks of
 * them.  A new kind is its own file and one line in this table.
 */
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
			if (kinds[i]->log_marker && kinds[i]->log_marker(line))
				found = kinds[i];
	fclose(f);
	return found ? found : fallback;
}

const char *run_kind_name(const struct run_kind *k)
{
	return k->name;
}

enum pv_builder run_kind_builder(const struct run_kind *k)
{
	return k->builder;
}

const char *run_kind_default_kernel(const struct run_kind *k, bool seed_memory, bool linear)
{
	return k->default_kernel(seed_memory, linear);
}

int run_kind_check_files(const struct run_kind *k, const char *kernel, const char *ramdisk,
			 struct pv_error *err)
{
	return k->check_files ? k->check_files(kernel, ramdisk, err) : 0;
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
	unsigned n = p->kind->timings(r, t);

	t[n++] = (struct run_timing){"total", "total", r->cmd.argc ? r->exit.seconds : r->ser.t_last};
	return n;
}

void run_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report_machine(f, p, r);
}

void run_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report_builder(f, p, r);
}

void run_report_qemu_json(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	if (p->kind->report_qemu_json)
		p->kind->report_qemu_json(j, p, r);
}

void run_report_json_fields(struct json *j, const struct run_plan *p, const struct run_one *r)
{
	p->kind->report_json(j, p, r);
}

const char *run_verdict_label(const struct run_plan *p)
{
	return p->kind->verdict_label;
}

void run_verdict_text(const struct run_plan *p, const struct run_one *r, char *buf, size_t size)
{
	p->kind->verdict(r, buf, size);
}
