/*
 * The layout engine: where a Xen domain builder puts a 64-bit PV guest's
 * kernel, ramdisk, P2M list, start info, page tables and boot stack, computed
 * byte for byte as the real builders do (docs/builders.md): libxc's domU
 * builder (the legacy one of Xen 3.1 ... 4.6, and libxenguest's of the
 * releases Debian ships) and the hypervisor's own dom0 builder of each of
 * those releases.  pv_builder_info() says which releases each one covers.
 *
 * Freestanding: pure 64-bit arithmetic, no libc.  The builder's debug log is
 * produced line by line through a caller-supplied sink, in the builder's own
 * printf formats.
 */
#ifndef PVBOOT_LAYOUT_H
#define PVBOOT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>

/* One model per builder whose layout or print differs (docs/builders.md section 1). */
enum pv_builder {
	PV_BUILDER_LIBXC_42,	 /* legacy libxc: the seed's builder */
	PV_BUILDER_LIBXC_414,	 /* libxenguest, segment ends rounded to pages */
	PV_BUILDER_LIBXC_417,	 /* libxenguest 4.17.5+: exact segment ends */
	PV_BUILDER_LIBXC_420,	 /* libxenguest 4.20: the initrd loaded as it is */
	PV_BUILDER_XEN_414_DOM0, /* dom0: nine arrangement lines, "compat32" */
	PV_BUILDER_XEN_417_DOM0, /* dom0: the arrangement without empty lines */
	PV_BUILDER_XEN_420_DOM0, /* dom0: as 4.17; PAE_MODE ignored for 64-bit */
	PV_BUILDER_NR
};

/* What tells the models apart, and what each one covers. */
struct pv_builder_info {
	const char *name;    /* "libxc-4.14", "xen-4.20-dom0", ... */
	const char *release; /* what --xen-version names: "4.14"; NULL for libxc-4.2 */
	const char *covers;  /* the point releases it models, in a phrase */
	bool dom0;	     /* the hypervisor's dom0 builder; else libxc's domU builder */
	bool legacy;	     /* libxc before 4.7: one bump pointer, pfn = offset */
	bool exact_ends;     /* a segment's printed end is start + size (4.17.5+, 4.18.3+) */
	bool gunzip_initrd;  /* libxc sizes a gzip initrd by its trailer (before 4.20) */
	bool all_arrangement_lines; /* dom0 prints all nine lines, empty or not (before 4.16) */
	bool compat32;		    /* " Xen  kernel: 64-bit, lsb, compat32" (before 4.15) */
	bool pae_64;		    /* a 64-bit kernel's PAE_MODE note shows (before 4.18) */
};

const struct pv_builder_info *pv_builder_info(enum pv_builder b); /* NULL if unknown */
const char *pv_builder_name(enum pv_builder b);			  /* "libxc-4.2", ... */
int pv_builder_parse(const char *name, enum pv_builder *b);	  /* 0 or -1 */
bool pv_builder_is_dom0(enum pv_builder b);

/* The Xen releases pvboot models by name ("4.14", "4.17", "4.20"), NULL-terminated. */
extern const char *const pv_xen_releases[];
#define PV_XEN_RELEASE_DEFAULT "4.17"

/* The domU (@dom0 false) or dom0 builder of Xen @release; 0, or -1 if none. */
int pv_builder_of_release(const char *release, bool dom0, enum pv_builder *b);

/* The most memory pvboot models: 2^34 pages, 64 TiB, Linux's MAXMEM on x86-64. */
#define PV_MAX_PAGES (1ULL << 34)

struct pv_layout_in {
	enum pv_builder builder;
	uint64_t nr_pages;     /* guest RAM in 4 KiB pages (libxc: total_pages) */
	uint64_t virt_base;    /* VIRT_BASE */
	uint64_t kstart, kend; /* virt_kstart, virt_kend from the ELF loader */
	uint64_t entry;	       /* virt_entry */
	uint64_t hypercall;    /* virt_hypercall, or PV_UNSET_ADDR */
	uint64_t ramdisk_len;  /* bytes as this builder sizes it; 0: none */
	uint64_t p2m_base;     /* INIT_P2M note, or PV_UNSET_ADDR */
	bool unmapped_initrd;  /* MOD_START_PFN note */
	bool virt_p2m_4tools;  /* start_info says SIF_VIRT_P2M_4TOOLS (no builder of ours does) */
	/* Only printed (dom0): the kernel's PAE_MODE note, its physical extent (0-0: unknown). */
	bool pae_note;
	uint64_t paddr_start, paddr_end;
};

/*
 * What a builder makes of the kernel's requests for its layout: the
 * INIT_P2M address and MOD_START_PFN (a ramdisk passed unmapped).  libxc
 * before 4.7 knows neither in its domU builder; libxc 4.7+ drops an INIT_P2M
 * address that is not below virt_base (xc_dom_build_image()); the dom0
 * builder honours both.
 *
 * pv_layout_drop_ignored() clears in @in what @in->builder ignores and
 * returns the set of what it cleared that the user should hear of (bits of
 * enum pv_ignored): MOD_START_PFN without a ramdisk is cleared silently, as
 * there is nothing to map.  pv_ignored_message() says one in a line.
 */
enum pv_ignored {
	PV_IGNORED_INIT_P2M,	  /* libxc-4.2 has no INIT_P2M */
	PV_IGNORED_MOD_START_PFN, /* libxc-4.2 has no MOD_START_PFN */
	PV_IGNORED_INIT_P2M_HIGH, /* libxenguest: the address is not below virt_base */
	PV_IGNORED_NR
};

unsigned pv_layout_drop_ignored(struct pv_layout_in *in);
const char *pv_ignored_message(enum pv_ignored i);

/*
 * The feature checks a builder makes of the kernel's notes, cf.
 * xc_dom_parse_elf_kernel() (domU builders) and dom0_construct_pv(): a domU
 * builder refuses a kernel that requires XENFEAT_dom0, the dom0 builder one
 * whose SUPPORTED_FEATURES note (@supported_note: the kernel has one) lacks
 * it.  0, or -1 with PV_ERR_UNSUPPORTED in Xen's words.
 */
int pv_builder_check_features(enum pv_builder b, uint32_t f_supported, uint32_t f_required,
			      bool supported_note, struct pv_error *err);

/* Segment slots, in the order the JSON and table show them. */
enum pv_seg {
	PV_SEG_KERNEL,
	PV_SEG_RAMDISK,
	PV_SEG_P2M,
	PV_SEG_START_INFO,
	PV_SEG_XENSTORE,
	PV_SEG_CONSOLE,
	PV_SEG_PAGE_TABLES,
	PV_SEG_BOOT_STACK,
	PV_SEG_TOTAL, /* dom0 only: the whole initial mapping */
	PV_SEG_NR
};

struct pv_segment {
	bool present;
	bool mapped;	       /* inside the initial (kernel) mapping */
	uint64_t vstart, vend; /* as the builder reports them */
	uint64_t pfn, pages;   /* first pfn and size in pages */
};

/* The start_info fields a layout decides (machine frames are not predicted). */
struct pv_start_info {
	uint64_t nr_pages;
	uint32_t flags; /* SIF_*, without the host's PM bits */
	uint64_t pt_base, nr_pt_frames;
	uint64_t mfn_list;
	uint64_t mod_start, mod_len;
	uint64_t first_p2m_pfn, nr_p2m_frames;
	bool first_p2m_pfn_known; /* dom0: depends on Xen's allocation order */
	uint64_t start_info_va;	  /* rsi at entry */
	uint64_t stack_top;	  /* rsp at entry */
	uint64_t entry;		  /* rip at entry */
};

struct pv_layout {
	enum pv_builder builder;
	uint64_t nr_pages;
	uint64_t virt_base;
	const char *ramdisk_name; /* "ramdisk" (4.2) or "module0" (libxenguest) */
	struct pv_segment seg[PV_SEG_NR];

	/* Page tables of the kernel mapping, by level: [0] = L4 ... [3] = L1. */
	uint64_t pgtables[4];
	uint64_t nr_pgtables;
	/* Page tables of the INIT_P2M mapping (libxenguest), same order. */
	uint64_t p2m_pgtables[4];
	unsigned passes; /* fixed-point passes of the count */

	uint64_t virt_alloc_end; /* libxc; dom0: end of the boot stack */
	uint64_t mapping_end;	 /* virt_pgtab_end (libxc) or v_end (dom0) */
	uint64_t dom0_chunk;	 /* dom0: pages of the first allocation, 2^order */
	bool p2m_in_mapping;	 /* the P2M lies inside the kernel mapping */

	struct pv_start_info si;
};

/* One line of builder log, without a newline. */
struct pv_log {
	void (*line)(void *ctx, const char *text);
	void *ctx;
};

/*
 * Lay out a guest as @in->builder does.  Returns 0 and fills @out, or -1
 * with @err set to the builder's own error (PV_ERR_INITIAL_MAPPING,
 * PV_ERR_SEGMENT_TOO_LARGE, PV_ERR_PFN_RANGE, PV_ERR_DOM0_TOO_SMALL ...)
 * or PV_ERR_ADDRESS_WRAP when the mapping would run past 2^64.  The log lines
 * printed before a failure are still delivered, as the real builder prints
 * them.  @log may be NULL.
 */
int pv_layout_build(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		    struct pv_error *err);

/* Warnings: what a laid-out guest will run into.  Codes are an interface. */
enum pv_warning {
	PV_WARN_MODULES_VADDR_OVERLAP,	 /* mapping reaches past MODULES_VADDR */
	PV_WARN_P2M_IN_KERNEL_MAPPING,	 /* the P2M itself reaches past MODULES_VADDR */
	PV_WARN_INITIAL_MAPPING_OVER_1G, /* more than the one L2 Linux grafts */
	PV_WARN_P2M_TREE_LIMIT,		 /* more pfns than a 3-level tree holds */
	PV_WARN_NEEDS_INIT_P2M,		 /* P2M in the mapping and mapping over 1 GiB */
	PV_WARN_NR
};

const char *pv_warning_code(enum pv_warning w); /* "modules-vaddr-overlap", ... */

/* A bit set of enum pv_warning. */
unsigned pv_layout_warnings(const struct pv_layout *l);

/* The warning's sentence for @l, into @buf (one line). */
void pv_warning_message(enum pv_warning w, const struct pv_layout *l, char *buf, unsigned size);

/*
 * Limits: for a guest (everything but its size fixed), the largest size, in
 * steps of @step pages, that stays below each warning's limit.  Found by
 * bisection: every limit is monotonic in the guest's size.
 */
struct pv_limit {
	bool never;	    /* no size up to PV_MAX_PAGES reaches it */
	bool always;	    /* even the smallest guest that builds reaches it */
	bool builder_first; /* the builder refuses the guest before it is reached */
	uint64_t largest;   /* pages: the largest size below the limit */
};

struct pv_limits {
	uint64_t smallest;	   /* pages: the smallest guest that builds */
	uint64_t largest;	   /* pages: the largest guest that builds */
	bool largest_is_max;	   /* ... and that is PV_MAX_PAGES */
	struct pv_error too_large; /* why the next size up fails */
	struct pv_limit limit[PV_WARN_NR];
	unsigned layouts; /* layouts computed: the search's cost */
};

int pv_layout_limits(const struct pv_layout_in *in, uint64_t step, struct pv_limits *out,
		     struct pv_error *err);

#endif
