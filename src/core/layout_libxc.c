/*
 * libxc's PV domU builder, in its legacy (Xen 3.1 ... 4.6, "4.2") and its
 * modern (Xen 4.7 ... 4.20, libxenguest) form, whose releases differ only in
 * the printed end of a segment (pv_builder_info()):
 * docs/builders.md sections 4 and 5, cf. xc_dom_build_image(),
 * xc_dom_alloc_segment(), count_pgtables() and alloc_p2m_list_x86_64().
 *
 * The seed's 128 GiB guest, as the legacy builder lays it out:
 *
 *   __ka (virt_base 0xffffffff80000000)        pfn
 *   0xffffffff81000000  kernel                 0x1000  + 0xe43
 *   0xffffffff81e43000  ramdisk                0x1e43  + 0x10784
 *   0xffffffff925c7000  phys2mach (P2M)        0x125c7 + 0x10000
 *   0xffffffffa0000000  .... MODULES_VADDR: the P2M runs through it ....
 *   0xffffffffa25c7000  start info, xenstore, console
 *   0xffffffffa25ca000  page tables            0x225ca + 0x117
 *   0xffffffffa26e1000  boot stack
 *   0xffffffffa2800000  virt_pgtab_end: the initial mapping ends here
 *
 * Every pfn is the object's offset from virt_base; the whole region up to
 * virt_pgtab_end is mapped by the builder's page tables.
 *
 * The two forms differ in how they allocate (a virtual bump pointer against
 * a pfn allocator with padding), in how they count page tables, and in where
 * the modern one may put the ramdisk and the P2M (outside the mapping, with
 * MOD_START_PFN and INIT_P2M).  For a classic kernel both give the same
 * addresses; only the log differs.
 */
#include <pvboot/x86.h>

#include "layout_priv.h"

#define SIF_MOD_START_PFN_FLAG (1U << 3)

struct xc_lvl {
	uint64_t from, to, pfn, pgtables;
};

/* One mapping of the modern count_pgtables(): the kernel's, or the P2M's. */
struct xc_mapping {
	struct xc_lvl area;
	struct xc_lvl lvls[4]; /* [0] = L1 tables (bits 21) ... [3] = the L4 */
};

struct xcdom {
	const struct pv_layout_in *in;
	struct pv_layout *out;
	const struct pv_log *log;
	struct pv_error *err;
	bool modern;
	bool exact_ends;	/* xc_dom_alloc_segment() prints start + size (4.17.5+) */
	uint64_t total_pages; /* also p2m_size: no vNUMA holes here */
	uint64_t virt_alloc_end;
	uint64_t pfn_alloc_end; /* modern only */
	bool past_mapping;	/* modern: allocating after the padding */
	bool alloc_bootstack;
	struct xc_mapping maps[2];
	unsigned n_mappings;
};

#define VADDR_MASK_48 0xffffffffffffULL

static uint64_t bits_to_mask(unsigned bits)
{
	return (1ULL << bits) - 1;
}

static int wrap_error(struct xcdom *d, const char *name)
{
	return pv_fail(d->err, PV_ERR_ADDRESS_WRAP,
		       "segment %s runs past the top of the address space (virt_alloc_end 0x%llx): the initial mapping cannot hold it",
		       name, (unsigned long long)d->virt_alloc_end);
}

/* Advance virt_alloc_end; inside the mapping a wrap past 2^64 is an error. */
static int advance(struct xcdom *d, const char *name, uint64_t pages)
{
	uint64_t bytes = pages << PAGE_SHIFT;

	if (!d->past_mapping && (pages > (~0ULL >> PAGE_SHIFT) || bytes > ~0ULL - d->virt_alloc_end))
		return wrap_error(d, name);
	d->virt_alloc_end += bytes;
	return 0;
}

static void log_segment(struct xcdom *d, const char *name, const struct pv_segment *s)
{
	pv_logf(d->log, "%-20s:   %-12s : 0x%llx -> 0x%llx  (pfn 0x%llx + 0x%llx pages)",
		"xc_dom_alloc_segment", name, (unsigned long long)s->vstart,
		(unsigned long long)s->vend, (unsigned long long)s->pfn,
		(unsigned long long)s->pages);
}

static void log_page(struct xcdom *d, const char *name, uint64_t vstart, uint64_t pfn)
{
	pv_logf(d->log, "%-20s:   %-12s : 0x%llx (pfn 0x%llx)", "xc_dom_alloc_page", name,
		(unsigned long long)vstart, (unsigned long long)pfn);
}

/* Modern xc_dom_chk_alloc_pages(): the pfn allocator's bounds check. */
static int chk_alloc_pages(struct xcdom *d, const char *name, uint64_t pages)
{
	if (pages > d->total_pages || d->pfn_alloc_end > d->total_pages ||
	    pages > d->total_pages - d->pfn_alloc_end)
		return pv_fail(d->err, PV_ERR_SEGMENT_TOO_LARGE,
			       "xc_dom_chk_alloc_pages: segment %s too large (0x%llx > 0x%llx - 0x%llx pages)",
			       name, (unsigned long long)pages, (unsigned long long)d->total_pages,
			       (unsigned long long)d->pfn_alloc_end);
	d->pfn_alloc_end += pages;
	return advance(d, name, pages);
}

/* Modern xc_dom_alloc_pad(): skip to @boundary, counting the pages as used. */
static int alloc_pad(struct xcdom *d, uint64_t boundary)
{
	if (boundary & (PAGE_SIZE - 1))
		return pv_fail(d->err, PV_ERR_SEGMENT_ALIGN,
			       "xc_dom_alloc_pad: segment boundary isn't page aligned (0x%llx)",
			       (unsigned long long)boundary);
	if (boundary < d->virt_alloc_end)
		return pv_fail(d->err, PV_ERR_SEGMENT_ALIGN,
			       "xc_dom_alloc_pad: segment boundary too low (0x%llx < 0x%llx)",
			       (unsigned long long)boundary, (unsigned long long)d->virt_alloc_end);
	return chk_alloc_pages(d, "padding", (boundary - d->virt_alloc_end) >> PAGE_SHIFT);
}

/*
 * xc_dom_alloc_segment(): place @size bytes at @start (0: the next free
 * address).  Legacy: the pfn is the offset from virt_base and the range is
 * checked only when it is mapped (xc_dom_pfn_to_ptr).  Modern: the pfn comes
 * from the pfn allocator, and the printed end is the exact end, vstart +
 * size, from 4.17.5 on (measured on 4.17.7), the end rounded up to a page
 * before (docs/builders.md sections 5.6 and 5.7).
 */
static int alloc_segment(struct xcdom *d, struct pv_segment *seg, const char *name, uint64_t start,
			 uint64_t size)
{
	uint64_t pages = pages_of(size);

	if (d->modern) {
		if (start && alloc_pad(d, start))
			return -1;
		start = d->virt_alloc_end;
		seg->pfn = d->pfn_alloc_end;
		seg->pages = pages;
		if (chk_alloc_pages(d, name, pages))
			return -1;
		seg->vstart = start;
		seg->vend = d->exact_ends ? start + size : d->virt_alloc_end;
		seg->present = true;
		seg->mapped = !d->past_mapping;
		log_segment(d, name, seg);
		return 0;
	}

	if (!start)
		start = d->virt_alloc_end;
	if (start & (PAGE_SIZE - 1))
		return pv_fail(d->err, PV_ERR_SEGMENT_ALIGN,
			       "xc_dom_alloc_segment: segment start isn't page aligned (0x%llx)",
			       (unsigned long long)start);
	if (start < d->virt_alloc_end)
		return pv_fail(d->err, PV_ERR_SEGMENT_ALIGN,
			       "xc_dom_alloc_segment: segment start too low (0x%llx < 0x%llx)",
			       (unsigned long long)start, (unsigned long long)d->virt_alloc_end);
	d->virt_alloc_end = start;
	if (advance(d, name, pages))
		return -1;
	seg->vstart = start;
	seg->vend = d->virt_alloc_end;
	seg->pfn = (start - d->in->virt_base) >> PAGE_SHIFT;
	seg->pages = pages;
	seg->present = true;
	seg->mapped = true;
	log_segment(d, name, seg);
	if (seg->pfn > d->total_pages || pages > d->total_pages || seg->pfn > d->total_pages - pages)
		return pv_fail(d->err, PV_ERR_PFN_RANGE,
			       "xc_dom_pfn_to_ptr: pfn out of range (0x%llx > 0x%llx) for %s",
			       (unsigned long long)(seg->pfn + pages),
			       (unsigned long long)d->total_pages, name);
	return 0;
}

/* xc_dom_alloc_page(): one page at the next free address; returns its pfn. */
static int alloc_page(struct xcdom *d, enum pv_seg slot, const char *name)
{
	struct pv_segment *seg = &d->out->seg[slot];
	uint64_t start = d->virt_alloc_end;
	uint64_t pfn;

	if (d->modern) {
		pfn = d->pfn_alloc_end;
		if (chk_alloc_pages(d, name, 1))
			return -1;
	} else {
		pfn = (start - d->in->virt_base) >> PAGE_SHIFT;
		if (advance(d, name, 1))
			return -1;
	}
	seg->present = true;
	seg->mapped = true;
	seg->vstart = start;
	seg->vend = start + PAGE_SIZE;
	seg->pfn = pfn;
	seg->pages = 1;
	log_page(d, name, start, pfn);
	if (!d->modern && pfn >= d->total_pages)
		return pv_fail(d->err, PV_ERR_PFN_RANGE,
			       "xc_dom_pfn_to_ptr: pfn out of range (0x%llx > 0x%llx) for %s",
			       (unsigned long long)(pfn + 1), (unsigned long long)d->total_pages,
			       name);
	return 0;
}

/* Legacy nr_page_tables(): tables needed at one level, logged. */
static uint64_t nr_page_tables(struct xcdom *d, uint64_t start, uint64_t end, unsigned bits)
{
	uint64_t mask = bits_to_mask(bits);
	uint64_t tables;

	start &= ~mask;
	end |= mask; /* libxc's round_up: the last byte of the block */
	tables = ((end - start) >> bits) + 1;
	pv_logf(d->log, "nr_page_tables: 0x%016llx/%u: 0x%016llx -> 0x%016llx, %llu table(s)",
		(unsigned long long)mask, bits, (unsigned long long)start, (unsigned long long)end,
		(unsigned long long)tables);
	return tables;
}

/*
 * The first 4 MiB boundary strictly above virt_alloc_end + @pages pages,
 * minus one, as libxc's round_up(x, bits_to_mask(22)).  Fails when that
 * boundary would be 2^64 or beyond: the mapping cannot end there.
 */
static int try_end(struct xcdom *d, uint64_t pages, uint64_t *try_virt_end)
{
	uint64_t bytes = pages << PAGE_SHIFT;

	if (bytes > ~0ULL - d->virt_alloc_end ||
	    ((d->virt_alloc_end + bytes) | bits_to_mask(22)) == ~0ULL)
		return pv_fail(d->err, PV_ERR_ADDRESS_WRAP,
			       "the initial mapping would run past the top of the address space (0x%llx + 0x%llx pages)",
			       (unsigned long long)d->virt_alloc_end, (unsigned long long)pages);
	*try_virt_end = (d->virt_alloc_end + bytes) | bits_to_mask(22);
	return 0;
}

/*
 * Legacy count_pgtables(): the fixed point over 48/39/30/21 bits
 * (docs/builders.md section 4.5).
 */
static int count_pgtables_legacy(struct xcdom *d, uint64_t *virt_pgtab_end)
{
	static const unsigned bits[4] = {48, 39, 30, 21};
	uint64_t extra = (d->alloc_bootstack ? 1 : 0) + 128; /* 512 KiB slack */
	uint64_t pages = extra, try_virt_end = 0, total = 0;
	uint64_t vbase = d->in->virt_base;

	for (;;) {
		if (try_end(d, pages, &try_virt_end))
			return -1;
		if ((try_virt_end - vbase) >> PAGE_SHIFT > d->total_pages)
			return pv_fail(d->err, PV_ERR_INITIAL_MAPPING,
				       "count_pgtables: not enough memory for initial mapping (%#llx > %#llx)",
				       (unsigned long long)((try_virt_end - vbase) >> PAGE_SHIFT),
				       (unsigned long long)d->total_pages);
		total = 0;
		for (int l = 0; l < 4; l++) {
			d->out->pgtables[l] = nr_page_tables(d, vbase, try_virt_end, bits[l]);
			total += d->out->pgtables[l];
		}
		d->out->passes++;
		pages = total + extra;
		if (d->virt_alloc_end + (pages << PAGE_SHIFT) <= try_virt_end + 1)
			break;
	}
	d->out->nr_pgtables = total;
	*virt_pgtab_end = try_virt_end + 1;
	return 0;
}

/*
 * Modern count_pgtables(): tables for one more mapping [from, to], whose
 * tables will start at @pfn.  The L4 is counted once, for the first mapping,
 * and not logged; levels an earlier mapping already covers cost nothing.
 */
static int count_pgtables(struct xcdom *d, uint64_t from, uint64_t to, uint64_t pfn)
{
	struct xc_mapping *map = &d->maps[d->n_mappings];
	uint64_t pfn_end = pfn + ((to - from) >> PAGE_SHIFT);

	if (pfn_end >= d->total_pages)
		return pv_fail(d->err, PV_ERR_INITIAL_MAPPING,
			       "count_pgtables: not enough memory for initial mapping (%#llx > %#llx)",
			       (unsigned long long)pfn_end, (unsigned long long)d->total_pages);
	for (unsigned m = 0; m < d->n_mappings; m++)
		if (from < d->maps[m].area.to && to > d->maps[m].area.from)
			return pv_fail(d->err, PV_ERR_OVERLAP,
				       "count_pgtables: overlapping mappings");

	*map = (struct xc_mapping){0};
	map->area.from = from & VADDR_MASK_48;
	map->area.to = to & VADDR_MASK_48;

	for (int l = 3; l >= 0; l--) {
		struct xc_lvl *lv = &map->lvls[l];
		unsigned bits;
		uint64_t mask;

		lv->pfn = d->pfn_alloc_end + map->area.pgtables;
		if (l == 3) {
			if (d->n_mappings == 0) {
				lv->to = VADDR_MASK_48;
				lv->pgtables = 1;
				map->area.pgtables++;
			}
			continue;
		}
		bits = PAGE_SHIFT + (l + 1) * 9;
		mask = bits_to_mask(bits);
		lv->from = map->area.from & ~mask;
		lv->to = map->area.to | mask;
		for (unsigned m = 0; m < d->n_mappings; m++) {
			const struct xc_lvl *cmp = &d->maps[m].lvls[l];

			if (cmp->from == cmp->to)
				continue;
			if (lv->from >= cmp->from && lv->to <= cmp->to) {
				lv->from = lv->to = 0;
				break;
			}
			if (lv->from >= cmp->from && lv->from <= cmp->to)
				lv->from = cmp->to + 1;
			if (lv->to >= cmp->from && lv->to <= cmp->to)
				lv->to = cmp->from - 1;
		}
		if (lv->from < lv->to)
			lv->pgtables = ((lv->to - lv->from) >> bits) + 1;
		pv_logf(d->log, "count_pgtables: 0x%016llx/%u: 0x%016llx -> 0x%016llx, %llu table(s)",
			(unsigned long long)mask, bits, (unsigned long long)lv->from,
			(unsigned long long)lv->to, (unsigned long long)lv->pgtables);
		map->area.pgtables += lv->pgtables;
	}
	return 0;
}

/* Modern alloc_pgtables_pv(): the same 4 MiB fixed point, new counting. */
static int alloc_pgtables_modern(struct xcdom *d, uint64_t *virt_pgtab_end)
{
	uint64_t extra = (d->alloc_bootstack ? 1 : 0) + 128;
	uint64_t pages = extra, try_virt_end = 0;
	struct xc_mapping *map = &d->maps[d->n_mappings];

	for (;;) {
		if (try_end(d, pages, &try_virt_end))
			return -1;
		if (count_pgtables(d, d->in->virt_base, try_virt_end, 0))
			return -1;
		d->out->passes++;
		pages = map->area.pgtables + extra;
		if (d->virt_alloc_end + (pages << PAGE_SHIFT) <= try_virt_end + 1)
			break;
	}
	d->n_mappings++;
	for (int l = 0; l < 4; l++)
		d->out->pgtables[l] = map->lvls[3 - l].pgtables;
	d->out->nr_pgtables = map->area.pgtables;
	*virt_pgtab_end = try_virt_end + 1;
	return 0;
}

/* Modern alloc_p2m_list_x86_64() for INIT_P2M: the list and its own tables. */
static int alloc_p2m_init_p2m(struct xcdom *d, uint64_t p2m_bytes)
{
	struct xc_mapping *map = &d->maps[d->n_mappings];
	struct pv_layout *out = d->out;
	uint64_t from = d->in->p2m_base;
	uint64_t to = from + p2m_bytes - 1;

	if (to < from)
		return pv_fail(d->err, PV_ERR_ADDRESS_WRAP,
			       "the INIT_P2M list at 0x%llx runs past the top of the address space",
			       (unsigned long long)from);
	if (count_pgtables(d, from, to, d->pfn_alloc_end))
		return -1;
	d->n_mappings++;
	for (int l = 0; l < 4; l++)
		out->p2m_pgtables[l] = map->lvls[3 - l].pgtables;
	if (alloc_segment(d, &out->seg[PV_SEG_P2M], "phys2mach", 0,
			  p2m_bytes + (map->area.pgtables << PAGE_SHIFT)))
		return -1;
	/* The log shows the pfn-space address; the guest sees p2m_base. */
	out->si.first_p2m_pfn = out->seg[PV_SEG_P2M].pfn;
	out->si.nr_p2m_frames = out->seg[PV_SEG_P2M].pages;
	out->seg[PV_SEG_P2M].vstart = from;
	out->seg[PV_SEG_P2M].vend = from + p2m_bytes;
	out->seg[PV_SEG_P2M].mapped = false;
	return 0;
}

static int build(struct xcdom *d)
{
	const struct pv_layout_in *in = d->in;
	struct pv_layout *out = d->out;
	uint64_t p2m_bytes = in->nr_pages * 8; /* nr_pages < 2^40: no overflow */
	uint64_t virt_pgtab_end = 0;
	bool init_p2m = false, unmapped_initrd = false;
	struct pv_segment *rd = &out->seg[PV_SEG_RAMDISK];

	/* XC_DOM_DECOMPRESS_MAX: libxc loads no module over 1 GiB (xc_dom_build_module). */
	if (in->ramdisk_len > (1ULL << 30))
		return pv_fail(d->err, PV_ERR_SEGMENT_TOO_LARGE,
			       d->modern ? "module 0 image too large (0x%llx bytes, at most 1 GiB)"
					 : "ramdisk image too large (0x%llx bytes, at most 1 GiB)",
			       (unsigned long long)in->ramdisk_len);
	if (d->modern) {
		/* xc_dom_build_image() drops an unusable INIT_P2M address. */
		init_p2m = in->p2m_base != PV_UNSET_ADDR && in->p2m_base < in->virt_base &&
			   !(in->p2m_base & (PAGE_SIZE - 1));
		unmapped_initrd = in->unmapped_initrd;
		d->virt_alloc_end = in->virt_base;
	}

	if (alloc_segment(d, &out->seg[PV_SEG_KERNEL], "kernel", in->kstart, in->kend - in->kstart))
		return -1;

	if (in->ramdisk_len && !unmapped_initrd) {
		if (alloc_segment(d, rd, out->ramdisk_name, 0, in->ramdisk_len))
			return -1;
		out->si.mod_start = rd->vstart;
		out->si.mod_len = rd->vend - rd->vstart;
	}

	if (!init_p2m) {
		if (!pgup(p2m_bytes, &p2m_bytes))
			return wrap_error(d, "phys2mach");
		if (alloc_segment(d, &out->seg[PV_SEG_P2M], "phys2mach", 0, p2m_bytes))
			return -1;
		out->p2m_in_mapping = true;
	}

	/* alloc_magic_pages */
	if (alloc_page(d, PV_SEG_START_INFO, "start info") ||
	    alloc_page(d, PV_SEG_XENSTORE, "xenstore") || alloc_page(d, PV_SEG_CONSOLE, "console"))
		return -1;
	d->alloc_bootstack = true;

	if (d->modern ? alloc_pgtables_modern(d, &virt_pgtab_end)
		      : count_pgtables_legacy(d, &virt_pgtab_end))
		return -1;
	if (alloc_segment(d, &out->seg[PV_SEG_PAGE_TABLES], "page tables", 0,
			  out->nr_pgtables << PAGE_SHIFT))
		return -1;
	if (alloc_page(d, PV_SEG_BOOT_STACK, "boot stack"))
		return -1;

	out->virt_alloc_end = d->virt_alloc_end;
	out->mapping_end = virt_pgtab_end;
	pv_logf(d->log, "%-20s: virt_alloc_end : 0x%llx", "xc_dom_build_image",
		(unsigned long long)d->virt_alloc_end);
	pv_logf(d->log, "%-20s: virt_pgtab_end : 0x%llx", "xc_dom_build_image",
		(unsigned long long)virt_pgtab_end);

	if (d->modern) {
		/* Everything the initial page tables map must be populated. */
		if (alloc_pad(d, virt_pgtab_end))
			return -1;
		d->past_mapping = true;
		if (in->ramdisk_len && unmapped_initrd) {
			if (alloc_segment(d, rd, out->ramdisk_name, 0, in->ramdisk_len))
				return -1;
			rd->mapped = false;
			out->si.flags |= SIF_MOD_START_PFN_FLAG;
			out->si.mod_start = rd->pfn;
			out->si.mod_len = rd->pages << PAGE_SHIFT;
		}
		if (init_p2m) {
			if (!pgup(p2m_bytes, &p2m_bytes))
				return wrap_error(d, "phys2mach");
			if (alloc_p2m_init_p2m(d, p2m_bytes))
				return -1;
		}
	}

	out->si.nr_pages = in->nr_pages;
	out->si.pt_base = out->seg[PV_SEG_PAGE_TABLES].vstart;
	out->si.nr_pt_frames = out->nr_pgtables;
	out->si.mfn_list = out->seg[PV_SEG_P2M].vstart;
	out->si.first_p2m_pfn_known = true;
	out->si.entry = in->entry;
	out->si.start_info_va = in->virt_base + (out->seg[PV_SEG_START_INFO].pfn << PAGE_SHIFT);
	out->si.stack_top = in->virt_base + ((out->seg[PV_SEG_BOOT_STACK].pfn + 1) << PAGE_SHIFT);
	return 0;
}

int pv_layout_libxc(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		    struct pv_error *err)
{
	struct xcdom d = {
		.in = in,
		.out = out,
		.log = log,
		.err = err,
		.modern = !pv_builder_info(in->builder)->legacy,
		.exact_ends = pv_builder_info(in->builder)->exact_ends,
		.total_pages = in->nr_pages,
	};

	out->ramdisk_name = d.modern ? "module0" : "ramdisk";
	return build(&d);
}
