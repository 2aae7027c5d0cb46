/* The seed's guest and its log, for tests (docs/builders.md section 8). */
#ifndef PVBOOT_TEST_SEED_H
#define PVBOOT_TEST_SEED_H

/* The 14 layout lines of the 2012 posting, unwrapped. */
static const char *const seed_log[] = {
	"xc_dom_alloc_segment:   kernel       : 0xffffffff81000000 -> 0xffffffff81e43000  (pfn 0x1000 + 0xe43 pages)",
	"xc_dom_alloc_segment:   ramdisk      : 0xffffffff81e43000 -> 0xffffffff925c7000  (pfn 0x1e43 + 0x10784 pages)",
	"xc_dom_alloc_segment:   phys2mach    : 0xffffffff925c7000 -> 0xffffffffa25c7000  (pfn 0x125c7 + 0x10000 pages)",
	"xc_dom_alloc_page   :   start info   : 0xffffffffa25c7000 (pfn 0x225c7)",
	"xc_dom_alloc_page   :   xenstore     : 0xffffffffa25c8000 (pfn 0x225c8)",
	"xc_dom_alloc_page   :   console      : 0xffffffffa25c9000 (pfn 0x225c9)",
	"nr_page_tables: 0x0000ffffffffffff/48: 0xffff000000000000 -> 0xffffffffffffffff, 1 table(s)",
	"nr_page_tables: 0x0000007fffffffff/39: 0xffffff8000000000 -> 0xffffffffffffffff, 1 table(s)",
	"nr_page_tables: 0x000000003fffffff/30: 0xffffffff80000000 -> 0xffffffffbfffffff, 1 table(s)",
	"nr_page_tables: 0x00000000001fffff/21: 0xffffffff80000000 -> 0xffffffffa27fffff, 276 table(s)",
	"xc_dom_alloc_segment:   page tables  : 0xffffffffa25ca000 -> 0xffffffffa26e1000  (pfn 0x225ca + 0x117 pages)",
	"xc_dom_alloc_page   :   boot stack   : 0xffffffffa26e1000 (pfn 0x226e1)",
	"xc_dom_build_image  : virt_alloc_end : 0xffffffffa26e2000",
	"xc_dom_build_image  : virt_pgtab_end : 0xffffffffa2800000",
};

#endif
