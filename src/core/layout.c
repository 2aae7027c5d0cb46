/*
 * The layout engine's front: input checks, the choice of builder, and the
 * warnings that say what a laid-out guest will run into.
 *
 * The seed's picture of a 128 GiB guest (legacy libxc), and the limits the
 * warnings test:
 *
 *    phys         __ka                 what
 *   /--------\   /------------------\
 *   | 0      |   | ffffffff80000000 |  virt_base
 *   | 16MB   |   | ffffffff81000000 |  kernel
 *   | 30MB   |   | ffffffff81e43000 |  ramdisk
 *   | 293MB  |   | ffffffff925c7000 |  P2M
 *   |        |   | ffffffffa0000000 |  <- MODULES_VADDR   (modules-vaddr-overlap,
 *   | 549MB  |   | ffffffffa25c7000 |  start info ...        p2m-in-kernel-mapping)
 *   | 550MB  |   | ffffffffa2800000 |  end of the initial mapping
 *   |        |   | ffffffffc0000000 |  <- 1 GiB: one L2   (initial-mapping-over-1g,
 *   |        |   | 1_0000000000000000  <- 2 GiB: 2^64       needs-init-p2m)
 *   \--------/   \------------------/
 *
 * Past 512 GiB (2^27 pfns) the 3-level P2M tree cannot describe the guest
 * (p2m-tree-limit).
 */
#include <stdarg.h>

#include <pvboot/fmt.h>
#include <pvboot/p2m.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>

#include "layout_priv.h"

/* What tells the models apart (struct pv_builder_info's flags). */
enum {
	DOM0 = 1 << 0,
	LEGACY = 1 << 1,
	EXACT_ENDS = 1 << 2,
	GUNZIP = 1 << 3,
	ALL_LINES = 1 << 4,
	COMPAT32 = 1 << 5,
	PAE_64 = 1 << 6,
};

#define BUILDER(nm, rel, f, cov)                                                                   \
	{                                                                                          \
		.name = nm, .release = rel, .covers = cov, .dom0 = !!((f) & DOM0),                 \
		.legacy = !!((f) & LEGACY), .exact_ends = !!((f) & EXACT_ENDS),                    \
		.gunzip_initrd = !!((f) & GUNZIP), .all_arrangement_lines = !!((f) & ALL_LINES),   \
		.compat32 = !!((f) & COMPAT32), .pae_64 = !!((f) & PAE_64)                         \
	}

/* docs/builders.md section 1 says what each model covers and why it is one. */
static const struct pv_builder_info builders[PV_BUILDER_NR] = {
	[PV_BUILDER_LIBXC_42] = BUILDER("libxc-4.2", NULL, LEGACY | GUNZIP,
					"libxc's legacy domU builder, Xen 3.1 to 4.6: the seed's, 2012"),
	[PV_BUILDER_LIBXC_414] = BUILDER("libxc-4.14", "4.14", GUNZIP,
					 "libxenguest of Xen 4.14 (Debian 11: 4.14.6-1), as 4.11 to "
					 "4.17.4 and 4.18.0 to 4.18.2: segment ends rounded up to pages"),
	[PV_BUILDER_LIBXC_417] = BUILDER("libxc-4.17", "4.17", EXACT_ENDS | GUNZIP,
					 "libxenguest of Xen 4.17.5 to 4.17.7 (Debian 12: 4.17.5+72, "
					 "4.17.7+13), as 4.18.3 to 4.19: 4.17.5 made segment ends exact"),
	[PV_BUILDER_LIBXC_420] = BUILDER("libxc-4.20", "4.20", EXACT_ENDS,
					 "libxenguest of Xen 4.20 (Debian 13: 4.20.4+63): from 4.20.0 a "
					 "gzip initrd is loaded as it is, not unpacked"),
	[PV_BUILDER_XEN_414_DOM0] = BUILDER("xen-4.14-dom0", "4.14", DOM0 | ALL_LINES | COMPAT32 | PAE_64,
					    "the dom0 builder of Xen 4.14.0 to 4.14.6 (Debian 11: "
					    "4.14.6-1): nine arrangement lines, empty ones too, and "
					    "\"compat32\""),
	[PV_BUILDER_XEN_417_DOM0] = BUILDER("xen-4.17-dom0", "4.17", DOM0 | PAE_64,
					    "the dom0 builder of Xen 4.16 to 4.17.7 (Debian 12: "
					    "4.17.7+13): 4.16.0 left the empty arrangement lines out"),
	[PV_BUILDER_XEN_420_DOM0] = BUILDER("xen-4.20-dom0", "4.20", DOM0,
					    "the dom0 builder of Xen 4.18 to 4.20.4 (Debian 13: "
					    "4.20.4+63): 4.18.0 ignores a 64-bit kernel's PAE_MODE note"),
};

const char *const pv_xen_releases[] = {"4.14", "4.17", "4.20", NULL};

const struct pv_builder_info *pv_builder_info(enum pv_builder b)
{
	return (unsigned)b < PV_BUILDER_NR ? &builders[b] : NULL;
}

const char *pv_builder_name(enum pv_builder b)
{
	return (unsigned)b < PV_BUILDER_NR ? builders[b].name : "unknown";
}

bool pv_builder_is_dom0(enum pv_builder b)
{
	return (unsigned)b < PV_BUILDER_NR && builders[b].dom0;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int pv_builder_parse(const char *name, enum pv_builder *b)
{
	for (int i = 0; i < PV_BUILDER_NR; i++) {
		if (str_eq(name, builders[i].name)) {
			*b = (enum pv_builder)i;
			return 0;
		}
	}
	return -1;
}

int pv_builder_of_release(const char *release, bool dom0, enum pv_builder *b)
{
	for (int i = 0; i < PV_BUILDER_NR; i++) {
		if (builders[i].release && builders[i].dom0 == dom0 &&
		    str_eq(release, builders[i].release)) {
			*b = (enum pv_builder)i;
			return 0;
		}
	}
	return -1;
}

static const char *const ignored_messages[PV_IGNORED_NR] = {
	[PV_IGNORED_INIT_P2M] = "libxc-4.2 has no INIT_P2M: the P2M list goes into the kernel mapping",
	[PV_IGNORED_MOD_START_PFN] = "libxc-4.2 has no MOD_START_PFN: the ramdisk is mapped",
	[PV_IGNORED_INIT_P2M_HIGH] =
		"libxc drops an INIT_P2M address that is not below virt_base: the P2M list goes into the kernel mapping",
};

const char *pv_ignored_message(enum pv_ignored i)
{
	return (unsigned)i < PV_IGNORED_NR ? ignored_messages[i] : "unknown";
}

unsigned pv_layout_drop_ignored(struct pv_layout_in *in)
{
	bool asked_p2m = in->p2m_base != PV_UNSET_ADDR;
	unsigned dropped = 0;

	if ((unsigned)in->builder >= PV_BUILDER_NR)
		return 0; /* pv_layout_build() says so */
	/* libxc 4.2 predates MOD_START_PFN and INIT_P2M in the domU builder. */
	if (builders[in->builder].legacy) {
		if (asked_p2m)
			dropped |= 1U << PV_IGNORED_INIT_P2M;
		if (in->unmapped_initrd && in->ramdisk_len)
			dropped |= 1U << PV_IGNORED_MOD_START_PFN;
		in->unmapped_initrd = false;
		in->p2m_base = PV_UNSET_ADDR;
	}
	/* xc_dom_build_image() drops an INIT_P2M address it cannot use. */
	if (!builders[in->builder].legacy && !builders[in->builder].dom0 && asked_p2m &&
	    in->p2m_base >= in->virt_base) {
		dropped |= 1U << PV_IGNORED_INIT_P2M_HIGH;
		in->p2m_base = PV_UNSET_ADDR;
	}
	return dropped;
}

int pv_builder_check_features(enum pv_builder b, uint32_t f_supported, uint32_t f_required,
			      bool supported_note, struct pv_error *err)
{
	if (!pv_builder_is_dom0(b) && (f_required & (1U << XENFEAT_dom0)))
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "Kernel does not support unprivileged (DomU) operation");
	if (pv_builder_is_dom0(b) && supported_note && !(f_supported & (1U << XENFEAT_dom0)))
		return pv_fail(err, PV_ERR_UNSUPPORTED, "Kernel does not support Dom0 operation");
	return 0;
}

void pv_logf(const struct pv_log *log, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!log || !log->line)
		return;
	va_start(ap, fmt);
	pv_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log->line(log->ctx, line);
}

static int check_input(const struct pv_layout_in *in, struct pv_error *err)
{
	if ((unsigned)in->builder >= PV_BUILDER_NR)
		return pv_fail(err, PV_ERR_USAGE, "unknown builder %d", (int)in->builder);
	if (in->nr_pages == 0)
		return pv_fail(err, PV_ERR_RANGE, "a guest needs at least one page of memory");
	if (in->nr_pages > PV_MAX_PAGES)
		return pv_fail(err, PV_ERR_RANGE,
			       "0x%llx pages is more than 64 TiB, the most an x86-64 guest can address",
			       (unsigned long long)in->nr_pages);
	/* The checks of libelf's elf_xen_addr_calc_check(). */
	if (in->kstart > in->kend || in->entry < in->kstart || in->entry > in->kend ||
	    in->virt_base > in->kstart)
		return pv_fail(err, PV_ERR_ELF_BOUNDS,
			       "ELF start or entries are out of bounds (virt_base 0x%llx, kernel 0x%llx-0x%llx, entry 0x%llx)",
			       (unsigned long long)in->virt_base, (unsigned long long)in->kstart,
			       (unsigned long long)in->kend, (unsigned long long)in->entry);
	if (in->p2m_base != PV_UNSET_ADDR && in->p2m_base >= in->kstart && in->p2m_base < in->kend)
		return pv_fail(err, PV_ERR_ELF_BOUNDS, "P->M table base is out of bounds (0x%llx)",
			       (unsigned long long)in->p2m_base);
	return 0;
}

int pv_layout_build(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		    struct pv_error *err)
{
	*out = (struct pv_layout){0};
	out->builder = in->builder;
	out->nr_pages = in->nr_pages;
	out->virt_base = in->virt_base;
	if (check_input(in, err))
		return -1;
	if ((pv_builder_is_dom0(in->builder) ? pv_layout_dom0(in, out, log, err)
					      : pv_layout_libxc(in, out, log, err)))
		return -1;
	/* The tools this guest will meet walk the linear list (Xen 4.6+). */
	if (in->virt_p2m_4tools)
		out->si.flags |= SIF_VIRT_P2M_4TOOLS;
	return 0;
}

static const char *const warning_codes[PV_WARN_NR] = {
	[PV_WARN_MODULES_VADDR_OVERLAP] = "modules-vaddr-overlap",
	[PV_WARN_P2M_IN_KERNEL_MAPPING] = "p2m-in-kernel-mapping",
	[PV_WARN_INITIAL_MAPPING_OVER_1G] = "initial-mapping-over-1g",
	[PV_WARN_P2M_TREE_LIMIT] = "p2m-tree-limit",
	[PV_WARN_NEEDS_INIT_P2M] = "needs-init-p2m",
};

const char *pv_warning_code(enum pv_warning w)
{
	return (unsigned)w < PV_WARN_NR ? warning_codes[w] : "unknown";
}

/* Only Linux's layout (virt_base = __START_KERNEL_map) has these limits. */
static bool linux_layout(const struct pv_layout *l)
{
	return l->virt_base == START_KERNEL_MAP;
}

unsigned pv_layout_warnings(const struct pv_layout *l)
{
	const struct pv_segment *p2m = &l->seg[PV_SEG_P2M];
	unsigned w = 0;

	if (linux_layout(l)) {
		if (l->mapping_end > MODULES_VADDR)
			w |= 1U << PV_WARN_MODULES_VADDR_OVERLAP;
		if (l->p2m_in_mapping && p2m->vend > MODULES_VADDR)
			w |= 1U << PV_WARN_P2M_IN_KERNEL_MAPPING;
		if (l->mapping_end > INITIAL_MAPPING_LIMIT_1G) {
			w |= 1U << PV_WARN_INITIAL_MAPPING_OVER_1G;
			/* INIT_P2M helps when the rest would fit without the list. */
			if (l->p2m_in_mapping &&
			    l->mapping_end - (p2m->vend - p2m->vstart) <= INITIAL_MAPPING_LIMIT_1G)
				w |= 1U << PV_WARN_NEEDS_INIT_P2M;
		}
	}
	if (l->nr_pages > P2M_MAX_PFN)
		w |= 1U << PV_WARN_P2M_TREE_LIMIT;
	return w;
}

void pv_warning_message(enum pv_warning w, const struct pv_layout *l, char *buf, unsigned size)
{
	const struct pv_segment *p2m = &l->seg[PV_SEG_P2M];
	unsigned long long end = l->mapping_end;

	switch (w) {
	case PV_WARN_MODULES_VADDR_OVERLAP:
		pv_snprintf(buf, size,
			    "the initial mapping ends at 0x%llx, 0x%llx bytes past MODULES_VADDR 0x%llx: a kernel that does not clear those PMDs (before Linux 3.7) cannot load modules",
			    end, end - MODULES_VADDR, MODULES_VADDR);
		break;
	case PV_WARN_P2M_IN_KERNEL_MAPPING:
		pv_snprintf(buf, size,
			    "the P2M list 0x%llx-0x%llx lies in the kernel mapping and reaches past MODULES_VADDR: the guest must copy it out (xen_revector_p2m_tree) before module space is usable",
			    (unsigned long long)p2m->vstart, (unsigned long long)p2m->vend);
		break;
	case PV_WARN_INITIAL_MAPPING_OVER_1G:
		pv_snprintf(buf, size,
			    "the initial mapping ends at 0x%llx, past 0x%llx: more than the 1 GiB (one L2) that Linux takes over from the builder",
			    end, INITIAL_MAPPING_LIMIT_1G);
		break;
	case PV_WARN_P2M_TREE_LIMIT:
		pv_snprintf(buf, size,
			    "0x%llx pages is more than the 0x%llx pfns (512 GiB) a 3-level P2M tree describes: the guest needs the linear P2M list, and tools that read pfn_to_mfn_frame_list_list cannot see all of it",
			    (unsigned long long)l->nr_pages, P2M_MAX_PFN);
		break;
	case PV_WARN_NEEDS_INIT_P2M:
		pv_snprintf(buf, size,
			    "the P2M list makes the initial mapping bigger than 1 GiB: this guest size needs a kernel with XEN_ELFNOTE_INIT_P2M and a builder that honours it (libxc 4.7+ or the hypervisor)");
		break;
	default:
		pv_snprintf(buf, size, "unknown warning %d", (int)w);
	}
}
