/*
 * The hypervisor's own PV dom0 builder, Xen 4.14 to 4.20, whose layout is
 * the same in all of them; only what they print differs (docs/builders.md
 * section 6; cf. dom0_construct_pv() in xen/arch/x86/pv/dom0_build.c).
 *
 * Xen lays the initial mapping out in one pass of virtual addresses:
 *
 *   v_start = virt_base
 *   kernel          [virt_kstart, virt_kend)        exact, not rounded
 *   initrd          pgup(kend) + initrd_len         unless MOD_START_PFN
 *   phys-mach map   pgup(...) + nr_pages * 8        unless INIT_P2M
 *   start info      pgup(...) + sizeof(start_info) + sizeof(dom0_vga_console_info)
 *   page tables     pgup(...) + nr_pt_pages pages
 *   boot stack      one page
 *   v_end           next 4 MiB boundary with >= 512 KiB to spare
 *
 * nr_pt_pages is the first count from 2 up that holds the tables the
 * mapping to v_end needs: the page-table pages are mapped too, so the two
 * depend on each other.  The mapping (less a mapped initrd) is then
 * allocated as one power-of-two chunk, at most 1 GiB.
 */
#include <pvboot/xen-abi.h>

#include <pvboot/x86.h>

#include "layout_priv.h"

/* Page-table pages to map [l, h) at level shift @s (Xen's NR() macro). */
static uint64_t nr_tables(uint64_t l, uint64_t h, unsigned s)
{
	uint64_t m = (1ULL << s) - 1;

	return (((h + m) & ~m) - (l & ~m)) >> s; /* wraps as Xen's does */
}

/* The largest chunk Xen 4.17 gives the initial mapping: 2^18 pages, 1 GiB (measured). */
#define DOM0_MAX_ORDER 18

/* get_order_from_bytes(): the smallest order with 2^order pages >= @bytes. */
static unsigned order_from_bytes(uint64_t bytes)
{
	uint64_t pages = pages_of(bytes);
	unsigned order = 0;

	while ((1ULL << order) < pages)
		order++;
	return order;
}

static void set_seg(struct pv_layout *out, enum pv_seg s, uint64_t vstart, uint64_t vend,
		    uint64_t virt_base, bool mapped)
{
	struct pv_segment *seg = &out->seg[s];

	seg->present = true;
	seg->mapped = mapped;
	seg->vstart = vstart;
	seg->vend = vend;
	seg->pfn =
		mapped ? (vstart - virt_base) >> PAGE_SHIFT : PV_UNSET_ADDR; /* Xen decides later */
	seg->pages = pages_of(vend - vstart);
}

/* Each step of the arrangement, checked: a wrap past 2^64 is an error. */
#define STEP(expr, what)                                                                           \
	do {                                                                                       \
		if (!(expr))                                                                       \
			return pv_fail(err, PV_ERR_ADDRESS_WRAP,                                   \
				       "dom0 %s runs past the top of the address space: the "      \
				       "initial mapping cannot hold it",                           \
				       what);                                                      \
	} while (0)

/*
 * What dom0_construct_pv() prints of the layout, in the release's own form
 * (docs/builders.md section 6.6): the kernel lines, then the virtual
 * arrangement.  The physical one, between them, is machine addresses and
 * is left out.  Before 4.16 the arrangement has all nine lines, an empty
 * (or, with MOD_START_PFN, zero) ramdisk and the shim's two rings, zero,
 * among them; from 4.16 those are left out.
 */
static void log_arrangement(const struct pv_layout_in *in, const struct pv_layout *out,
			    const struct pv_log *log, uint64_t vinitrd_start, uint64_t vinitrd_end)
{
	const struct pv_builder_info *info = pv_builder_info(in->builder);
	const struct pv_segment *seg = out->seg;

	pv_logf(log, " Xen  kernel: 64-bit, lsb%s", info->compat32 ? ", compat32" : "");
	if (in->paddr_end)
		/* Xen's %#lx, as pv_snprintf's: "0" for zero, "0x..." otherwise. */
		pv_logf(log, " Dom0 kernel: 64-bit%s, lsb, paddr %#llx -> %#llx",
			info->pae_64 && in->pae_note ? ", PAE" : "",
			(unsigned long long)in->paddr_start, (unsigned long long)in->paddr_end);
	pv_logf(log, "VIRTUAL MEMORY ARRANGEMENT:");
	pv_logf(log, " Loaded kernel: %p->%p", (void *)in->kstart, (void *)in->kend);
	if (info->all_arrangement_lines || vinitrd_end > vinitrd_start)
		pv_logf(log, " Init. ramdisk: %p->%p", (void *)vinitrd_start, (void *)vinitrd_end);
	pv_logf(log, " Phys-Mach map: %p->%p", (void *)seg[PV_SEG_P2M].vstart,
		(void *)seg[PV_SEG_P2M].vend);
	pv_logf(log, " Start info:    %p->%p", (void *)seg[PV_SEG_START_INFO].vstart,
		(void *)seg[PV_SEG_START_INFO].vend);
	if (info->all_arrangement_lines) {
		pv_logf(log, " Xenstore ring: %p->%p", (void *)0, (void *)0);
		pv_logf(log, " Console ring:  %p->%p", (void *)0, (void *)0);
	}
	pv_logf(log, " Page tables:   %p->%p", (void *)seg[PV_SEG_PAGE_TABLES].vstart,
		(void *)seg[PV_SEG_PAGE_TABLES].vend);
	pv_logf(log, " Boot stack:    %p->%p", (void *)seg[PV_SEG_BOOT_STACK].vstart,
		(void *)seg[PV_SEG_BOOT_STACK].vend);
	pv_logf(log, " TOTAL:         %p->%p", (void *)seg[PV_SEG_TOTAL].vstart,
		(void *)seg[PV_SEG_TOTAL].vend);
	pv_logf(log, " ENTRY ADDRESS: %p", (void *)in->entry);
}

int pv_layout_dom0(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		   struct pv_error *err)
{
	const uint64_t si_size = sizeof(struct start_info) + sizeof(struct dom0_vga_console_info);
	uint64_t v_start = in->virt_base, v_end = 0;
	uint64_t vinitrd_start = 0, vinitrd_end = 0;
	uint64_t vphysmap_start, vphysmap_end, vstartinfo_start, vpt_start;
	uint64_t vpt_end = 0, vstack_end = 0, nr_pt_pages, count, p2m_bytes;
	bool init_p2m = in->p2m_base != PV_UNSET_ADDR;
	unsigned order;

	out->ramdisk_name = "ramdisk";
	p2m_bytes = in->nr_pages * 8; /* nr_pages < 2^40 */

	if (in->unmapped_initrd) {
		STEP(pgup(in->kend, &vphysmap_start), "kernel");
	} else {
		STEP(pgup(in->kend, &vinitrd_start), "kernel");
		STEP(in->ramdisk_len <= ~0ULL - vinitrd_start, "initrd");
		vinitrd_end = vinitrd_start + in->ramdisk_len;
		STEP(pgup(vinitrd_end, &vphysmap_start), "initrd");
	}
	vphysmap_end = vphysmap_start;
	if (!init_p2m) {
		STEP(p2m_bytes <= ~0ULL - vphysmap_start, "phys-mach map");
		vphysmap_end += p2m_bytes;
	}
	STEP(pgup(vphysmap_end, &vstartinfo_start), "phys-mach map");
	STEP(si_size <= ~0ULL - vstartinfo_start, "start info");
	STEP(pgup(vstartinfo_start + si_size, &vpt_start), "start info");

	for (nr_pt_pages = 2;; nr_pt_pages++) {
		uint64_t need;

		STEP(vpt_start <= ~0ULL - ((nr_pt_pages + 1) << PAGE_SHIFT), "page tables");
		vpt_end = vpt_start + (nr_pt_pages << PAGE_SHIFT);
		vstack_end = vpt_end + PAGE_SIZE;
		/* 2^64 itself cannot be v_end: the mapping would wrap. */
		STEP(vstack_end <= 0xffffffffffc00000ULL, "boot stack");
		v_end = (vstack_end + (1ULL << 22) - 1) & ~((1ULL << 22) - 1);
		if (v_end - vstack_end < (512ULL << 10)) {
			STEP(v_end <= 0xffffffffff800000ULL, "512 KiB of padding");
			v_end += 1ULL << 22;
		}
		need = 1 + nr_tables(v_start, v_end, 39) + nr_tables(v_start, v_end, 30) +
		       nr_tables(v_start, v_end, 21);
		if (need <= nr_pt_pages) {
			out->pgtables[0] = 1;
			out->pgtables[1] = nr_tables(v_start, v_end, 39);
			out->pgtables[2] = nr_tables(v_start, v_end, 30);
			out->pgtables[3] = nr_tables(v_start, v_end, 21);
			break;
		}
	}
	out->passes = 0; /* a search from 2 up, not libxc's fixed point */
	out->nr_pgtables = nr_pt_pages;

	count = v_end - v_start;
	if (vinitrd_start)
		count -= (in->ramdisk_len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	order = order_from_bytes(count);
	if (order >= 63 || (1ULL << order) + pages_of(in->ramdisk_len) > in->nr_pages)
		return pv_fail(err, PV_ERR_DOM0_TOO_SMALL,
			       "Domain 0 allocation is too small for kernel image (needs 2^%u + 0x%llx pages, has 0x%llx)",
			       order, (unsigned long long)pages_of(in->ramdisk_len),
			       (unsigned long long)in->nr_pages);
	/*
	 * Xen takes the initial mapping as one chunk of 2^order pages
	 * (alloc_domheap_pages) and panics when it gets none.  Measured with
	 * Debian's Xen 4.17 under QEMU: order 18 (1 GiB) is granted, order 19
	 * is refused whatever the host's RAM (520, 650 and 1000 GiB tried), so a
	 * dom0 whose P2M list lies in the mapping stops at about 502.5 GiB.  It
	 * is x86's MAX_ORDER, 2 * PAGETABLE_ORDER, in 4.14, 4.17 and 4.20 alike.
	 */
	if (order > DOM0_MAX_ORDER)
		return pv_fail(err, PV_ERR_DOM0_NO_RAM,
			       "Not enough RAM for domain 0 allocation (the initial mapping needs one chunk of 2^%u pages; Xen grants 2^%u at most: give the kernel XEN_ELFNOTE_INIT_P2M)",
			       order, DOM0_MAX_ORDER);

	/* Xen prints the arrangement with the INIT_P2M address, then checks it. */
	if (init_p2m) {
		vphysmap_start = in->p2m_base;
		STEP(p2m_bytes <= ~0ULL - vphysmap_start, "INIT_P2M list");
		vphysmap_end = vphysmap_start + p2m_bytes;
	}
	set_seg(out, PV_SEG_KERNEL, in->kstart, in->kend, v_start, true);
	if (vinitrd_end > vinitrd_start)
		set_seg(out, PV_SEG_RAMDISK, vinitrd_start, vinitrd_end, v_start, true);
	set_seg(out, PV_SEG_P2M, vphysmap_start, vphysmap_end, v_start, !init_p2m);
	set_seg(out, PV_SEG_START_INFO, vstartinfo_start, vstartinfo_start + si_size, v_start, true);
	set_seg(out, PV_SEG_PAGE_TABLES, vpt_start, vpt_end, v_start, true);
	set_seg(out, PV_SEG_BOOT_STACK, vpt_end, vstack_end, v_start, true);
	set_seg(out, PV_SEG_TOTAL, v_start, v_end, v_start, true);
	out->p2m_in_mapping = !init_p2m;
	out->virt_alloc_end = vstack_end;
	out->mapping_end = v_end;
	out->dom0_chunk = 1ULL << order;

	log_arrangement(in, out, log, vinitrd_start, vinitrd_end);

	if (v_start < HYPERVISOR_VIRT_END && v_end > HYPERVISOR_VIRT_START)
		return pv_fail(err, PV_ERR_OVERLAP, "DOM0 image overlaps with Xen private area.");
	if (in->hypercall != PV_UNSET_ADDR && (in->hypercall < v_start || in->hypercall >= v_end))
		return pv_fail(err, PV_ERR_OVERLAP, "Invalid HYPERCALL_PAGE field in ELF notes.");

	if (init_p2m && vphysmap_end > v_start && vphysmap_start < v_end)
		return pv_fail(err, PV_ERR_OVERLAP,
			       "the INIT_P2M list 0x%llx-0x%llx overlaps the initial mapping",
			       (unsigned long long)vphysmap_start, (unsigned long long)vphysmap_end);

	out->si.nr_pages = in->nr_pages;
	out->si.flags = SIF_PRIVILEGED | SIF_INITDOMAIN;
	if (!vinitrd_start && in->ramdisk_len)
		out->si.flags |= SIF_MOD_START_PFN;
	out->si.pt_base = vpt_start;
	out->si.nr_pt_frames = nr_pt_pages;
	out->si.mfn_list = vphysmap_start;
	if (in->ramdisk_len) {
		/* An unmapped initrd follows the first 2^order chunk (d->tot_pages). */
		out->si.mod_start = vinitrd_start ? vinitrd_start : (1ULL << order);
		out->si.mod_len = in->ramdisk_len;
	}
	out->si.first_p2m_pfn_known = false;
	out->si.entry = in->entry;
	out->si.start_info_va = vstartinfo_start;
	out->si.stack_top = vstack_end;
	return 0;
}
