/*
 * The guest a command works on: memory, kernel, ramdisk and builder, from
 * options, with every part the user leaves out taken from the seed's
 * 128 GiB guest (<pvboot/seed.h>, docs/builders.md section 8).  What a
 * builder does with the kernel's notes is the layout engine's
 * (pv_layout_drop_ignored, pv_builder_check_features); this file only
 * gathers the options.
 */
#include <stdlib.h>
#include <string.h>

#include <pvboot/seed.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>

#include "cli.h"

const struct opt guest_opts[] = {
	{"memory", "SIZE", O_MEMORY, "guest memory: 131072M, 128G, 1T, or bytes"},
	{"pages", "N", O_PAGES, "guest memory in 4 KiB pages"},
	{"kernel", "IMAGE", O_KERNEL, "a vmlinux or bzImage: its Xen notes give the rest"},
	{"kernel-start", "A", O_KSTART, "the kernel's virtual extent, instead of an image"},
	{"kernel-end", "A", O_KEND, ""},
	{"virt-base", "A", O_VIRT_BASE, "VIRT_BASE (default 0xffffffff80000000)"},
	{"entry", "A", O_ENTRY, "entry point (default: the kernel start)"},
	{"ramdisk", "FILE", O_RAMDISK, "a ramdisk, sized by the builder's own rule"},
	{"ramdisk-size", "BYTES", O_RAMDISK_SIZE, "a ramdisk of this length (0: none)"},
	{"init-p2m", "ADDR", O_INIT_P2M, "place the P2M list at ADDR (XEN_ELFNOTE_INIT_P2M)"},
	{"no-init-p2m", NULL, O_NO_INIT_P2M, "ignore the kernel's INIT_P2M note"},
	{"unmapped-ramdisk", NULL, O_UNMAPPED,
	 "pass the ramdisk unmapped (XEN_ELFNOTE_MOD_START_PFN)"},
	{"xen-version", "V", O_XEN_VERSION,
	 "the builders of Xen V: 4.14, 4.17 or 4.20; its domU builder\n"
	 "(libxc-V), or with --dom0 its dom0 builder (xen-V-dom0)"},
	{"dom0", NULL, O_DOM0, "the dom0 builder of --xen-version (default 4.17)"},
	{"builder", "NAME", O_BUILDER, "one builder by name (default libxc-4.2, the seed's;\nthe builders are listed below)"},
	{"virt-p2m-4tools", NULL, O_VIRT_P2M_4TOOLS,
	 "start_info says SIF_VIRT_P2M_4TOOLS: the tools read the\n"
	 "linear P2M list, so mode linear builds no 3-level tree"},
	{NULL, NULL, 0, NULL},
};

static const char guest_help_text[] =
	"Parts left out are the seed's: 128 GiB, kernel 0xffffffff81000000-0xffffffff81e43000,\n"
	"a 0x10784000-byte ramdisk.\n"
	"Builders (--builder NAME), and the releases each one models:\n";

void guest_help(FILE *f)
{
	fputs(guest_help_text, f);
	for (int b = 0; b < PV_BUILDER_NR; b++) {
		const struct pv_builder_info *info = pv_builder_info((enum pv_builder)b);

		const char *w = info->covers;
		int col = fprintf(f, "  %-15s", info->name);

		/* The phrase, word by word, wrapped under itself at 80 columns. */
		while (*w) {
			int n = (int)strcspn(w, " ");

			if (col > 17 && col + 1 + n > 80)
				col = fprintf(f, "\n%17s", "") - 1;
			col += fprintf(f, "%s%.*s", col > 17 ? " " : "", n, w);
			w += n + (w[n] == ' ');
		}
		fputc('\n', f);
	}
}

void guest_defaults(struct guest *g)
{
	*g = (struct guest){0};
	g->in.builder = PV_BUILDER_LIBXC_42;
	g->in.nr_pages = PV_SEED_NR_PAGES;
	g->in.virt_base = START_KERNEL_MAP;
	g->in.kstart = PV_SEED_KSTART;
	g->in.kend = PV_SEED_KEND;
	g->in.entry = PV_UNSET_ADDR;
	g->in.hypercall = PV_UNSET_ADDR;
	g->in.ramdisk_len = PV_SEED_RAMDISK_BYTES;
	g->in.p2m_base = PV_UNSET_ADDR;
	g->ramdisk_from_seed = true;
	g->kernel_from_seed = true;
	g->memory_from_seed = true;
}

static int set_pages(struct guest *g, uint64_t pages, const char *what, struct pv_error *err)
{
	if (pages == 0)
		return pv_fail(err, PV_ERR_RANGE, "%s: a guest needs at least one 4 KiB page", what);
	if (pages > PV_MAX_PAGES)
		return pv_fail(err, PV_ERR_RANGE,
			       "%s: more than 64 TiB, the most an x86-64 PV guest can address", what);
	g->in.nr_pages = pages;
	g->memory_from_seed = false;
	return 0;
}

int guest_option(struct guest *g, int id, const char *v, struct pv_error *err)
{
	uint64_t x;

	switch (id) {
	case O_MEMORY:
		if (parse_size("--memory", v, &x, err))
			return -1;
		if (x && (x & (PAGE_SIZE - 1)))
			return pv_fail(err, PV_ERR_RANGE,
				       "--memory: %s is not a whole number of 4 KiB pages", v);
		return set_pages(g, x >> PAGE_SHIFT, "--memory", err) ? -1 : 1;
	case O_PAGES:
		if (parse_u64("--pages", v, &x, err))
			return -1;
		return set_pages(g, x, "--pages", err) ? -1 : 1;
	case O_KERNEL:
		g->kernel_path = v;
		g->kernel_from_seed = false;
		return 1;
	case O_VIRT_BASE:
		g->extent_set = true;
		return parse_u64("--virt-base", v, &g->in.virt_base, err) ? -1 : 1;
	case O_KSTART:
		g->kernel_from_seed = false;
		g->extent_set = true;
		return parse_u64("--kernel-start", v, &g->in.kstart, err) ? -1 : 1;
	case O_KEND:
		g->kernel_from_seed = false;
		g->extent_set = true;
		return parse_u64("--kernel-end", v, &g->in.kend, err) ? -1 : 1;
	case O_ENTRY:
		g->extent_set = true;
		return parse_u64("--entry", v, &g->in.entry, err) ? -1 : 1;
	case O_RAMDISK:
		g->ramdisk_path = v;
		g->ramdisk_from_seed = false;
		return 1;
	case O_RAMDISK_SIZE:
		g->ramdisk_from_seed = false;
		g->ramdisk_path = NULL;
		return parse_size("--ramdisk-size", v, &g->in.ramdisk_len, err) ? -1 : 1;
	case O_INIT_P2M:
		if (parse_u64("--init-p2m", v, &g->in.p2m_base, err))
			return -1;
		if (g->in.p2m_base & (PAGE_SIZE - 1))
			return pv_fail(err, PV_ERR_RANGE, "--init-p2m: 0x%llx is not page aligned",
				       (unsigned long long)g->in.p2m_base);
		return 1;
	case O_NO_INIT_P2M:
		g->no_init_p2m = true;
		return 1;
	case O_UNMAPPED:
		g->in.unmapped_initrd = true;
		return 1;
	case O_VIRT_P2M_4TOOLS:
		g->in.virt_p2m_4tools = true;
		return 1;
	case O_BUILDER:
		if (pv_builder_parse(v, &g->in.builder))
			return pv_fail(err, PV_ERR_USAGE,
				       "--builder: unknown builder '%s' (libxc-4.2, libxc-4.14, libxc-4.17, libxc-4.20, xen-4.14-dom0, xen-4.17-dom0 or xen-4.20-dom0)",
				       v);
		g->builder_set = true;
		return 1;
	case O_XEN_VERSION: {
		enum pv_builder b;

		if (pv_builder_of_release(v, false, &b))
			return pv_fail(err, PV_ERR_USAGE,
				       "--xen-version: pvboot models Xen 4.14, 4.17 and 4.20, not '%s'", v);
		g->release = v;
		return 1;
	}
	case O_DOM0:
		g->dom0 = true;
		return 1;
	}
	return 0;
}

/* An error about the kernel image: its path in front, as the image reader's. */
static int kernel_error(const struct guest *g, struct pv_error *err)
{
	char msg[PV_ERRMSG_MAX];

	memcpy(msg, err->msg, sizeof(msg));
	return pv_fail(err, err->code, "%s: %s", g->kernel_path, msg);
}

static int apply_image(struct guest *g, struct pv_error *err)
{
	const struct pv_dom_parms *p;

	g->image = calloc(1, sizeof(*g->image));
	if (!g->image)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	if (pv_image_read_file(g->kernel_path, g->image, err))
		return -1;
	p = &g->image->parms;

	if (pv_builder_check_features(g->in.builder, p->f_supported, p->f_required,
				      g->image->notes[XEN_ELFNOTE_SUPPORTED_FEATURES].present, err))
		return kernel_error(g, err);

	g->in.virt_base = p->virt_base;
	g->in.kstart = p->virt_kstart;
	g->in.kend = p->virt_kend;
	if (g->in.entry == PV_UNSET_ADDR)
		g->in.entry = p->virt_entry;
	g->in.hypercall = p->virt_hypercall;
	if (g->in.p2m_base == PV_UNSET_ADDR)
		g->in.p2m_base = p->p2m_base;
	if (p->unmapped_initrd)
		g->in.unmapped_initrd = true;
	/* Only printed: the dom0 builder's " Dom0 kernel:" line. */
	g->in.pae_note = p->pae;
	g->in.paddr_start = g->image->pstart;
	g->in.paddr_end = g->image->pend;
	return 0;
}

/*
 * --xen-version and --dom0 name a builder as --builder does; given with
 * --builder, they must name the same one.
 */
static int pick_builder(struct guest *g, struct pv_error *err)
{
	const char *release = g->release ? g->release : PV_XEN_RELEASE_DEFAULT;
	enum pv_builder b;

	if (!g->release && !g->dom0)
		return 0;
	if (pv_builder_of_release(release, g->dom0, &b))
		return pv_fail(err, PV_ERR_USAGE, "--xen-version: no builder of Xen %s", release);
	if (g->builder_set && g->in.builder != b)
		return pv_fail(err, PV_ERR_USAGE,
			       "--builder %s is not Xen %s's %s builder, %s: give one or the other",
			       pv_builder_name(g->in.builder), release, g->dom0 ? "dom0" : "domU",
			       pv_builder_name(b));
	g->in.builder = b;
	return 0;
}

int guest_resolve(struct guest *g, struct pv_error *err)
{
	unsigned ignored;

	g->nr_notes = 0;
	if (pick_builder(g, err))
		return -1;
	if (g->kernel_path && g->extent_set)
		return pv_fail(err, PV_ERR_USAGE,
			       "--kernel gives the kernel's extent and entry: drop --kernel-start, --kernel-end, --virt-base and --entry, or drop --kernel");
	if (g->kernel_path && apply_image(g, err))
		return -1;
	if (g->in.entry == PV_UNSET_ADDR)
		g->in.entry = g->in.kstart;
	if (g->no_init_p2m)
		g->in.p2m_base = PV_UNSET_ADDR;
	ignored = pv_layout_drop_ignored(&g->in);
	for (unsigned i = 0; i < PV_IGNORED_NR; i++)
		if (ignored & (1U << i))
			g->notes[g->nr_notes++] = pv_ignored_message((enum pv_ignored)i);
	if (!g->kernel_path) {
		if (g->in.kstart > g->in.kend)
			return pv_fail(err, PV_ERR_RANGE,
				       "--kernel-start 0x%llx is above --kernel-end 0x%llx",
				       (unsigned long long)g->in.kstart,
				       (unsigned long long)g->in.kend);
		if (g->in.kstart < g->in.virt_base)
			return pv_fail(err, PV_ERR_RANGE,
				       "the kernel range starts at 0x%llx, below virt_base 0x%llx",
				       (unsigned long long)g->in.kstart,
				       (unsigned long long)g->in.virt_base);
		if (g->in.entry < g->in.kstart || g->in.entry > g->in.kend)
			return pv_fail(err, PV_ERR_RANGE,
				       "--entry 0x%llx is outside the kernel 0x%llx-0x%llx",
				       (unsigned long long)g->in.entry,
				       (unsigned long long)g->in.kstart,
				       (unsigned long long)g->in.kend);
	}
	if (g->ramdisk_path && pv_ramdisk_length(g->ramdisk_path, pv_ramdisk_rule_of(g->in.builder),
						 &g->in.ramdisk_len, err))
		return -1;
	return 0;
}

void guest_release(struct guest *g)
{
	free(g->image);
	g->image = NULL;
}

struct pv_sim_guest guest_sim(const struct guest *g)
{
	return (struct pv_sim_guest){&g->in, g->ramdisk_path, g->kernel_path, g->image};
}

struct layout_guest guest_report(const struct guest *g)
{
	return (struct layout_guest){
		.in = &g->in,
		.memory_from_seed = g->memory_from_seed,
		.kernel_from_seed = g->kernel_from_seed,
		.ramdisk_from_seed = g->ramdisk_from_seed,
		.notes = g->notes,
		.nr_notes = g->nr_notes,
	};
}
