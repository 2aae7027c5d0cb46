/* pvboot layout's JSON and table output, the seed's two-column picture, and the warnings. */
#include <stdlib.h>
#include <string.h>

#include <pvboot/p2m.h>
#include <pvboot/report.h>
#include <pvboot/x86.h>

#include "segments.h"

/* One row a segment for every rendering (segments.h). */
const struct seg_style seg_styles[PV_SEG_NR] = {
	[PV_SEG_KERNEL] = {"kernel", "kernel", "kernel", "#4e79a7"},
	[PV_SEG_RAMDISK] = {"ramdisk", "ramdisk", "ramdisk", "#59a14f"},
	[PV_SEG_P2M] = {"p2m", "phys2mach (P2M)", "P2M list (phys2mach)", "#e15759"},
	[PV_SEG_START_INFO] = {"start_info", "start info", "start info", "#f28e2b"},
	[PV_SEG_XENSTORE] = {"xenstore", "xenstore", "xenstore", "#f28e2b"},
	[PV_SEG_CONSOLE] = {"console", "console", "console", "#f28e2b"},
	[PV_SEG_PAGE_TABLES] = {"page_tables", "page tables", "page tables", "#b07aa1"},
	[PV_SEG_BOOT_STACK] = {"boot_stack", "boot stack", "boot stack", "#76b7b2"},
	[PV_SEG_TOTAL] = {"total", "TOTAL", "initial mapping", "#dddddd"},
};

static const char *seg_title(const struct pv_layout *l, enum pv_seg s)
{
	return seg_name(l, s, seg_styles[s].title);
}

void layout_json(struct json *j, const struct layout_guest *g, const struct pv_layout *l,
		 const char *const *log, unsigned nlog)
{
	unsigned w = pv_layout_warnings(l);
	char msg[512];

	json_obj(j, NULL);
	json_str(j, "builder", pv_builder_name(l->builder));
	json_u64(j, "nr_pages", l->nr_pages);
	json_u64(j, "memory_mib", l->nr_pages >> 8);
	json_hex(j, "virt_base", l->virt_base);
	json_obj(j, "kernel");
	json_hex(j, "vstart", g->in->kstart);
	json_hex(j, "vend", g->in->kend);
	json_hex(j, "entry", g->in->entry);
	if (g->in->p2m_base != PV_UNSET_ADDR)
		json_hex(j, "init_p2m", g->in->p2m_base);
	else
		json_null(j, "init_p2m");
	json_bool(j, "unmapped_ramdisk", g->in->unmapped_initrd);
	json_obj_end(j);
	json_u64(j, "ramdisk_bytes", g->in->ramdisk_len);

	json_arr(j, "segments");
	for (int s = 0; s < PV_SEG_NR; s++) {
		const struct pv_segment *seg = &l->seg[s];

		if (seg->present)
			json_segment(j, seg_name(l, (enum pv_seg)s, seg_styles[s].json), seg);
	}
	json_arr_end(j);

	json_obj(j, "page_tables");
	json_arr(j, "levels");
	for (int i = 0; i < 4; i++)
		json_u64(j, NULL, l->pgtables[i]);
	json_arr_end(j);
	json_u64(j, "total", l->nr_pgtables);
	if (pv_builder_is_dom0(l->builder))
		json_null(j, "passes");
	else
		json_u64(j, "passes", l->passes);
	if (l->p2m_pgtables[0] || l->p2m_pgtables[1] || l->p2m_pgtables[2] || l->p2m_pgtables[3]) {
		json_arr(j, "p2m_levels");
		for (int i = 0; i < 4; i++)
			json_u64(j, NULL, l->p2m_pgtables[i]);
		json_arr_end(j);
	}
	json_obj_end(j);

	json_hex(j, "virt_alloc_end", l->virt_alloc_end);
	json_hex(j, "virt_pgtab_end", l->mapping_end);

	json_obj(j, "start_info");
	json_hex(j, "address", l->si.start_info_va);
	json_u64(j, "nr_pages", l->si.nr_pages);
	json_hex(j, "flags", l->si.flags);
	json_hex(j, "pt_base", l->si.pt_base);
	json_u64(j, "nr_pt_frames", l->si.nr_pt_frames);
	json_hex(j, "mfn_list", l->si.mfn_list);
	json_hex(j, "mod_start", l->si.mod_start);
	json_u64(j, "mod_len", l->si.mod_len);
	if (l->si.first_p2m_pfn_known) {
		json_hex(j, "first_p2m_pfn", l->si.first_p2m_pfn);
		json_u64(j, "nr_p2m_frames", l->si.nr_p2m_frames);
	} else {
		json_null(j, "first_p2m_pfn");
		json_null(j, "nr_p2m_frames");
	}
	json_obj_end(j);

	json_obj(j, "registers");
	json_hex(j, "rip", l->si.entry);
	json_hex(j, "rsp", l->si.stack_top);
	json_hex(j, "rsi", l->si.start_info_va);
	json_obj_end(j);

	json_arr(j, "warnings");
	for (int i = 0; i < PV_WARN_NR; i++) {
		if (!(w & (1U << i)))
			continue;
		pv_warning_message((enum pv_warning)i, l, msg, sizeof(msg));
		json_obj(j, NULL);
		json_str(j, "code", pv_warning_code((enum pv_warning)i));
		json_str(j, "message", msg);
		json_obj_end(j);
	}
	json_arr_end(j);

	json_arr(j, "notes");
	for (unsigned i = 0; i < g->nr_notes; i++)
		json_str(j, NULL, g->notes[i]);
	json_arr_end(j);

	json_arr(j, "log");
	for (unsigned i = 0; i < nlog; i++)
		json_str(j, NULL, log[i]);
	json_arr_end(j);
	json_obj_end(j);
}

void layout_table(FILE *f, const struct layout_guest *g, const struct pv_layout *l)
{
	char a[32], b[32];

	fprintf(f, "%s layout of a %s PV guest (%llu MiB, 0x%llx pages), virt_base 0x%llx\n",
		pv_builder_name(l->builder), human_bytes(l->nr_pages << PAGE_SHIFT, a, sizeof(a)),
		(unsigned long long)(l->nr_pages >> 8), (unsigned long long)l->nr_pages,
		(unsigned long long)l->virt_base);
	if (g->memory_from_seed || g->kernel_from_seed || g->ramdisk_from_seed)
		fprintf(f, "(from the seed's 128 GiB guest:%s%s%s)\n",
			g->memory_from_seed ? " memory" : "", g->kernel_from_seed ? " kernel" : "",
			g->ramdisk_from_seed ? " ramdisk" : "");
	fprintf(f, "\n  %-16s %-18s    %-18s  %-10s %-10s %s\n", "segment", "vstart", "vend", "pfn",
		"pages", "size");
	for (int s = 0; s < PV_SEG_NR; s++) {
		const struct pv_segment *seg = &l->seg[s];

		if (!seg->present)
			continue;
		if (seg->pfn == PV_UNSET_ADDR)
			snprintf(a, sizeof(a), "-");
		else
			snprintf(a, sizeof(a), "0x%llx", (unsigned long long)seg->pfn);
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)seg->pages);
		fprintf(f, "  %-16s 0x%016llx -> 0x%016llx  %-10s %-10s %s%s\n",
			seg_title(l, (enum pv_seg)s), (unsigned long long)seg->vstart,
			(unsigned long long)seg->vend, s == PV_SEG_TOTAL ? "" : a, b,
			human_bytes(seg->vend - seg->vstart, (char[32]){0}, 32),
			seg->mapped || s == PV_SEG_TOTAL ? "" : "  (not mapped)");
	}
	fprintf(f, "\n  page tables     L4 %llu + L3 %llu + L2 %llu + L1 %llu = %llu (0x%llx)",
		(unsigned long long)l->pgtables[0], (unsigned long long)l->pgtables[1],
		(unsigned long long)l->pgtables[2], (unsigned long long)l->pgtables[3],
		(unsigned long long)l->nr_pgtables, (unsigned long long)l->nr_pgtables);
	if (pv_builder_is_dom0(l->builder))
		fprintf(f, ", the first count from 2 that holds them\n");
	else
		fprintf(f, ", %u pass%s of the count\n", l->passes, l->passes == 1 ? "" : "es");
	if (l->p2m_pgtables[1] || l->p2m_pgtables[2] || l->p2m_pgtables[3])
		fprintf(f, "  P2M mapping     L3 %llu + L2 %llu + L1 %llu more tables\n",
			(unsigned long long)l->p2m_pgtables[1],
			(unsigned long long)l->p2m_pgtables[2],
			(unsigned long long)l->p2m_pgtables[3]);
	fprintf(f, "  initial mapping 0x%016llx -> 0x%016llx (%s)\n",
		(unsigned long long)l->virt_base, (unsigned long long)l->mapping_end,
		human_bytes(l->mapping_end - l->virt_base, a, sizeof(a)));
	fprintf(f,
		"\n  start_info      nr_pages 0x%llx  flags 0x%x  pt_base 0x%llx  nr_pt_frames 0x%llx\n",
		(unsigned long long)l->si.nr_pages, l->si.flags, (unsigned long long)l->si.pt_base,
		(unsigned long long)l->si.nr_pt_frames);
	fprintf(f, "                  mfn_list 0x%llx  mod_start 0x%llx  mod_len 0x%llx\n",
		(unsigned long long)l->si.mfn_list, (unsigned long long)l->si.mod_start,
		(unsigned long long)l->si.mod_len);
	if (l->si.first_p2m_pfn_known && l->si.nr_p2m_frames)
		fprintf(f, "                  first_p2m_pfn 0x%llx  nr_p2m_frames 0x%llx\n",
			(unsigned long long)l->si.first_p2m_pfn,
			(unsigned long long)l->si.nr_p2m_frames);
	fprintf(f, "  entry           rip 0x%llx  rsp 0x%llx  rsi 0x%llx\n",
		(unsigned long long)l->si.entry, (unsigned long long)l->si.stack_top,
		(unsigned long long)l->si.start_info_va);
}

/* One row of the picture: an address in the kernel mapping and what is there. */
struct row {
	uint64_t va;
	bool top;   /* 2^64, which a uint64_t cannot hold */
	bool limit; /* a limit line rather than a segment edge */
	char what[80];
};

static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->top != b->top)
		return a->top ? 1 : -1;
	if (a->va != b->va)
		return a->va < b->va ? -1 : 1;
	return (int)a->limit - (int)b->limit;
}

static void add_row(struct row *r, unsigned *n, uint64_t va, bool limit, const char *what)
{
	r[*n] = (struct row){.va = va, .limit = limit};
	snprintf(r[*n].what, sizeof(r[*n].what), "%s", what);
	(*n)++;
}

/*
 * The seed's two-column picture: physical offset (pfn space) and __ka
 * address of every boundary, with the limits a Linux guest runs into.
 */
void layout_picture(FILE *f, const struct pv_layout *l)
{
	struct row r[32];
	unsigned n = 0;
	char what[80], mib[24];
	const struct pv_segment *p2m = &l->seg[PV_SEG_P2M];

	add_row(r, &n, l->virt_base, false, "virt_base");
	for (int s = 0; s < PV_SEG_NR; s++) {
		const struct pv_segment *seg = &l->seg[s];

		if (!seg->present || !seg->mapped || s == PV_SEG_TOTAL)
			continue;
		snprintf(what, sizeof(what), "%s starts", seg_title(l, (enum pv_seg)s));
		add_row(r, &n, seg->vstart, false, what);
	}
	add_row(r, &n, l->mapping_end, false, "end of the initial mapping");
	if (l->virt_base == START_KERNEL_MAP) {
		add_row(r, &n, MODULES_VADDR, true, "MODULES_VADDR");
		add_row(r, &n, INITIAL_MAPPING_LIMIT_1G, true, "1 GiB: the one L2 Linux grafts");
		r[n] = (struct row){.top = true, .limit = true};
		snprintf(r[n++].what, sizeof(r[0].what), "2 GiB: top of the address space");
	}
	if (l->p2m_in_mapping && p2m->vstart + P2M_MAX_PFN * 8 > p2m->vstart)
		add_row(r, &n, p2m->vstart + P2M_MAX_PFN * 8, true,
			"P2M tree limit: pfn 2^27 (512 GiB) would be here");
	qsort(r, n, sizeof(r[0]), row_cmp);

	fprintf(f, "\n    phys         __ka\n");
	fprintf(f, "  /----------\\  /--------------------\\\n");
	for (unsigned i = 0; i < n; i++) {
		const char *inside = NULL;
		char addr[24];

		if (r[i].top) {
			snprintf(mib, sizeof(mib), "%s", "2048MB");
			snprintf(addr, sizeof(addr), "%-18s", "2^64");
		} else {
			snprintf(mib, sizeof(mib), "%lluMB",
				 (unsigned long long)((r[i].va - l->virt_base) >> 20));
			snprintf(addr, sizeof(addr), "0x%016llx", (unsigned long long)r[i].va);
		}
		for (int s = 0; r[i].limit && !r[i].top && s < PV_SEG_TOTAL; s++) {
			const struct pv_segment *seg = &l->seg[s];

			if (seg->present && seg->mapped && seg->vstart <= r[i].va &&
			    r[i].va < seg->vend)
				inside = seg_title(l, (enum pv_seg)s);
		}
		if (r[i].limit)
			fprintf(f, "  #=%-8s=#  #=%s=#  <== %s%s%s\n", mib, addr, r[i].what,
				inside ? ", inside the " : "", inside ? inside : "");
		else
			fprintf(f, "  | %-8s |  | %s |  %s\n", mib, addr, r[i].what);
	}
	fprintf(f, "  \\----------/  \\--------------------/\n");
	if (!l->p2m_in_mapping)
		fprintf(f, "  the P2M list is mapped outside, at 0x%llx-0x%llx (INIT_P2M)\n",
			(unsigned long long)p2m->vstart, (unsigned long long)p2m->vend);
}

void layout_warnings_text(FILE *f, const struct pv_layout *l)
{
	unsigned w = pv_layout_warnings(l);
	char msg[512];

	if (!w) {
		fprintf(f, "\nno warnings: this layout stays below every limit pvboot knows\n");
		return;
	}
	fprintf(f, "\nwarnings:\n");
	for (int i = 0; i < PV_WARN_NR; i++) {
		if (!(w & (1U << i)))
			continue;
		pv_warning_message((enum pv_warning)i, l, msg, sizeof(msg));
		fprintf(f, "  %s: %s\n", pv_warning_code((enum pv_warning)i), msg);
	}
}
