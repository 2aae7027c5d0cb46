/*
 * The simulated domain builder: make, in machine memory, the domain that a
 * pv_layout describes, as libxc's xc_dom_build_image()/setup_pgtables and
 * Xen's dom0_construct_pv() do: the P2M list, start_info, the initial page
 * tables with the builder's protections (page-table frames mapped read-only),
 * then the L4 pinned and loaded, which makes the hypervisor validate every
 * table (sim_mmuext).
 *
 * The kernel and the ramdisk are written when the caller gives their
 * contents (s->kernel, s->ramdisk_read); without, and for the padding,
 * their frames read as zero and cost nothing.  The list's bulk is computed,
 * not written (sim_lazy_list).
 */
#include <stdio.h>
#include <string.h>

#include <pvboot/pgtable.h>
#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

/* Where page-table pages come from while mapping one range. */
struct pool {
	bool by_level; /* libxc: one run of pfns per level; Xen: one run in walk order */
	uint64_t next[PT_L4 + 1];
	uint64_t end[PT_L4 + 1];
	uint64_t first_pt_pfn, end_pt_pfn; /* page-table pfns, mapped read-only */
};

struct build {
	struct sim *s;
	const struct pv_layout *l;
	struct pv_error *err;
	uint64_t prot_l1, prot_upper;
};

static uint64_t *page_of_pfn(struct sim *s, uint64_t pfn)
{
	return sim_frame(s, sim_pfn_to_mfn(s, _pfn(pfn)));
}

static int take(struct build *b, struct pool *p, int level, uint64_t *pfn)
{
	int k = p->by_level ? level : 0;

	if (p->next[k] >= p->end[k])
		return pv_fail(b->err, PV_ERR_RANGE,
			       "sim builder: out of L%d page-table pages (the layout counted fewer)",
			       level);
	*pfn = p->next[k]++;
	memset(page_of_pfn(b->s, *pfn), 0, 4096);
	return 0;
}

/*
 * Map [va, va_end) to pfns from @pfn on, taking tables from @pool as the
 * builders do: a new L1 when the L1 index wraps (or at the start), and with
 * it a new L2 and L3 when theirs wrap, in the order Xen's dom0 builder takes
 * them (L1, L2, L3); the L4 is @l4.
 */
static int map_range(struct build *b, struct pool *pool, uint64_t l4, uint64_t va, uint64_t va_end,
		     uint64_t pfn)
{
	struct sim *s = b->s;
	uint64_t *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = page_of_pfn(s, l4);
	bool first = true;

	for (; va < va_end; va += PAGE_SIZE, pfn++) {
		unsigned i1 = pt_index(va, PT_L1), i2 = pt_index(va, PT_L2);
		unsigned i3 = pt_index(va, PT_L3), i4 = pt_index(va, PT_L4);
		uint64_t prot = b->prot_l1, n1, n2, n3;

		if (first || i1 == 0) {
			if (take(b, pool, PT_L1, &n1))
				return -1;
			if (first || i2 == 0) {
				if (take(b, pool, PT_L2, &n2))
					return -1;
				if (first || i3 == 0) {
					if (take(b, pool, PT_L3, &n3))
						return -1;
					t3 = page_of_pfn(s, n3);
					t4[i4] = pte_make(sim_pfn_to_mfn(s, _pfn(n3)), b->prot_upper);
				}
				t2 = page_of_pfn(s, n2);
				t3[i3] = pte_make(sim_pfn_to_mfn(s, _pfn(n2)), b->prot_upper);
			}
			t1 = page_of_pfn(s, n1);
			t2[i2] = pte_make(sim_pfn_to_mfn(s, _pfn(n1)), b->prot_upper);
			first = false;
		}
		/* Page-table pages are mapped read-only (mark_pv_pt_pages_rdonly). */
		if (pfn >= pool->first_pt_pfn && pfn < pool->end_pt_pfn)
			prot &= ~_PAGE_RW;
		t1[i1] = pte_make(sim_pfn_to_mfn(s, _pfn(pfn)), prot);
	}
	return 0;
}

/*
 * The builder's list: one entry per pfn, a page at a time.  Its whole 2 MiB
 * chunks are not written but computed when the guest touches them
 * (sim_lazy_list), the same entries; only the pages at its two ends are.
 */
static int write_p2m(struct sim *s, uint64_t first_pfn, struct pv_error *err)
{
	uint64_t pages = (s->nr_pages + 511) / 512;

	/* The guest reads its list as one run: its frames must be in the contiguous head. */
	if (first_pfn + pages > s->contig)
		return pv_fail(err, PV_ERR_RANGE,
			       "sim builder: the P2M list's frames, pfns 0x%llx-0x%llx, are not in the one run of the first 0x%llx",
			       (unsigned long long)first_pfn,
			       (unsigned long long)(first_pfn + pages - 1),
			       (unsigned long long)s->contig);
	if (sim_lazy_list(s, sim_pfn_to_mfn(s, _pfn(first_pfn)), pages, err))
		return -1;
	for (uint64_t k = 0; k < pages; k++)
		if (!sim_lazy(s, sim_pfn_to_mfn(s, _pfn(first_pfn + k))))
			sim_list_page(s, k, page_of_pfn(s, first_pfn + k));
	return 0;
}

static void write_start_info(struct build *b)
{
	const struct pv_layout *l = b->l;
	struct sim *s = b->s;
	start_info_t *si = (start_info_t *)page_of_pfn(s, l->seg[PV_SEG_START_INFO].pfn);

	memset(si, 0, 4096);
	snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64");
	si->nr_pages = l->si.nr_pages;
	si->shared_info = s->shared_info_mfn << PAGE_SHIFT;
	si->flags = l->si.flags;
	si->pt_base = l->si.pt_base;
	si->nr_pt_frames = l->si.nr_pt_frames;
	si->mfn_list = l->si.mfn_list;
	si->mod_start = l->si.mod_start;
	si->mod_len = l->si.mod_len;
	si->first_p2m_pfn = l->si.first_p2m_pfn;
	si->nr_p2m_frames = l->si.nr_p2m_frames;
	if (pv_builder_is_dom0(l->builder)) {
		si->console.dom0.info_off = sizeof(start_info_t);
		si->console.dom0.info_size = sizeof(struct dom0_vga_console_info);
	} else {
		si->store_mfn = mfn_x(sim_pfn_to_mfn(s, _pfn(l->seg[PV_SEG_XENSTORE].pfn)));
		si->store_evtchn = 1;
		si->console.domU.mfn = mfn_x(sim_pfn_to_mfn(s, _pfn(l->seg[PV_SEG_CONSOLE].pfn)));
		si->console.domU.evtchn = 2;
	}
}

/*
 * Xen's dom0 builder puts an INIT_P2M list after the first 2^order chunk
 * and the initrd.  The chunk is the layout's (docs/builders.md section 6):
 * the mapping less a mapped initrd, rounded up to a power of two.
 */
static uint64_t dom0_p2m_pfn(const struct pv_layout *l)
{
	return l->dom0_chunk + (l->si.mod_len + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Tables enough to map @data pages with 4 KiB entries: L1s, and an L2 and L3 per GiB. */
static uint64_t p2m_table_pages(uint64_t data)
{
	return 4 * ((data + 511) / 512 + 2);
}

uint64_t sim_builder_pages(const struct pv_layout *l)
{
	uint64_t end = (l->mapping_end - l->virt_base) / PAGE_SIZE;
	const struct pv_segment *rd = &l->seg[PV_SEG_RAMDISK], *p2m = &l->seg[PV_SEG_P2M];
	uint64_t data = (l->nr_pages * 8 + PAGE_SIZE - 1) / PAGE_SIZE;

	if (rd->present && !rd->mapped && rd->pfn + rd->pages > end)
		end = rd->pfn + rd->pages;
	if ((l->si.flags & SIF_MOD_START_PFN) && l->si.mod_start + rd->pages > end)
		end = l->si.mod_start + (l->si.mod_len + PAGE_SIZE - 1) / PAGE_SIZE;
	if (!l->p2m_in_mapping) {
		uint64_t first = pv_builder_is_dom0(l->builder) ? dom0_p2m_pfn(l) : p2m->pfn;

		if (first + data + p2m_table_pages(data) > end)
			end = first + data + p2m_table_pages(data);
	}
	return end < l->nr_pages ? end : l->nr_pages;
}

/* The kernel's bytes into its frames (elf_load_binary), from its first pfn on. */
static int write_kernel(struct sim *s, const struct pv_layout *l, struct pv_error *err)
{
	const struct pv_segment *k = &l->seg[PV_SEG_KERNEL];
	uint64_t off = k->vstart % PAGE_SIZE; /* virt_kstart: the segment starts there */

	if (!s->kernel)
		return 0;
	if (!k->present || off + s->kernel_len > k->pages * PAGE_SIZE)
		return pv_fail(err, PV_ERR_RANGE,
			       "sim builder: %llu bytes of kernel do not fit its %llu-page segment",
			       (unsigned long long)s->kernel_len, (unsigned long long)k->pages);
	for (uint64_t done = 0; done < s->kernel_len;) {
		uint64_t at = off + done, n = PAGE_SIZE - at % PAGE_SIZE;
		uint8_t *page = (uint8_t *)page_of_pfn(s, k->pfn + at / PAGE_SIZE);

		if (n > s->kernel_len - done)
			n = s->kernel_len - done;
		memcpy(page + at % PAGE_SIZE, s->kernel + done, n);
		done += n;
	}
	return 0;
}

/* The ramdisk's bytes into its frames: mapped in place, or from mod_start's pfn. */
static int write_ramdisk(struct sim *s, const struct pv_layout *l, struct pv_error *err)
{
	const struct pv_segment *rd = &l->seg[PV_SEG_RAMDISK];
	uint64_t pfn = l->si.flags & SIF_MOD_START_PFN ? l->si.mod_start : rd->pfn;

	if (!s->ramdisk_read || !l->si.mod_len)
		return 0;
	if (!(l->si.flags & SIF_MOD_START_PFN) && !rd->present)
		return pv_fail(err, PV_ERR_RANGE, "sim builder: the layout has no ramdisk segment");
	for (uint64_t off = 0; off < l->si.mod_len; off += PAGE_SIZE, pfn++) {
		uint64_t n = l->si.mod_len - off < PAGE_SIZE ? l->si.mod_len - off : PAGE_SIZE;
		uint8_t *page = (uint8_t *)page_of_pfn(s, pfn);

		if (!page || s->ramdisk_read(s->ramdisk_ctx, off, page, n))
			return pv_fail(err, PV_ERR_IO,
				       "sim builder: cannot write the ramdisk at byte %llu",
				       (unsigned long long)off);
	}
	return 0;
}

int sim_build(struct sim *s, const struct pv_layout *l, struct pv_error *err)
{
	struct build b = {.s = s, .l = l, .err = err};
	const struct pv_segment *pt = &l->seg[PV_SEG_PAGE_TABLES], *p2m = &l->seg[PV_SEG_P2M];
	struct pool kp = {.first_pt_pfn = pt->pfn, .end_pt_pfn = pt->pfn + pt->pages};
	uint64_t l4 = pt->pfn, p2m_data = (l->nr_pages * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t p2m_pfn = p2m->pfn;
	mfn_t l4_mfn;
	int rc;

	if (l->nr_pages != s->nr_pages)
		return pv_fail(err, PV_ERR_USAGE,
			       "sim builder: layout and machine disagree on the size");

	if (pv_builder_is_dom0(l->builder)) {
		/* L4 first, then one run in the order the walk asks (Xen's mpt_alloc). */
		b.prot_l1 = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER;
		b.prot_upper = PT_PROT_UPPER;
		kp.next[0] = pt->pfn + 1;
		kp.end[0] = pt->pfn + pt->pages;
		/* Xen's setup_pv_physmap takes the list's frames after the initial ones. */
		if (!l->p2m_in_mapping)
			p2m_pfn = dom0_p2m_pfn(l);
	} else {
		uint64_t n = pt->pfn + 1;

		b.prot_l1 = PT_PROT_L1;
		b.prot_upper = PT_PROT_UPPER;
		kp.by_level = true;
		for (int level = PT_L3; level >= PT_L1; level--) {
			kp.next[level] = n;
			n += l->pgtables[PT_L4 - level];
			kp.end[level] = n;
		}
	}

	if (write_kernel(s, l, err))
		return -1;
	memset(page_of_pfn(s, l4), 0, 4096);
	if (map_range(&b, &kp, l4, l->virt_base, l->mapping_end, 0))
		return -1;

	if (write_p2m(s, p2m_pfn, err))
		return -1;
	if (!l->p2m_in_mapping) {
		/*
		 * The list is mapped at INIT_P2M by its own tables, after its data:
		 * libxc puts them by level (L3, L2, L1s; alloc_p2m_list_x86_64), Xen
		 * takes them as it goes.
		 */
		uint64_t base = p2m_pfn + p2m_data;
		struct pool pp = {.next = {base}, .end = {base + p2m_table_pages(p2m_data)}};

		if (!pv_builder_is_dom0(l->builder)) {
			pp.by_level = true;
			for (int level = PT_L3; level >= PT_L1; level--) {
				pp.next[level] = base;
				base += l->p2m_pgtables[PT_L4 - level];
				pp.end[level] = base;
			}
		}
		if (map_range(&b, &pp, l4, p2m->vstart, p2m->vstart + p2m_data * PAGE_SIZE, p2m_pfn))
			return -1;
	}
	write_start_info(&b);
	if (write_ramdisk(s, l, err))
		return -1;
	if (pv_builder_is_dom0(l->builder) && !l->p2m_in_mapping) {
		/* Xen says where setup_pv_physmap put the list and its tables. */
		start_info_t *si = (start_info_t *)page_of_pfn(s, l->seg[PV_SEG_START_INFO].pfn);

		si->first_p2m_pfn = p2m_pfn;
		si->nr_p2m_frames = p2m_data + p2m_table_pages(p2m_data);
	}
	memset(sim_frame(s, _mfn(s->shared_info_mfn)), 0, 4096);
	s->rip = l->si.entry;
	s->rsp = l->si.stack_top;
	s->rsi = l->si.start_info_va;

	/* bootlate: pin the L4 and load it; the hypervisor validates the whole tree. */
	l4_mfn = sim_pfn_to_mfn(s, _pfn(l4));
	rc = sim_mmuext(s, MMUEXT_PIN_L4_TABLE, l4_mfn);
	if (rc == 0)
		rc = sim_mmuext(s, MMUEXT_NEW_BASEPTR, l4_mfn);
	if (rc)
		return pv_fail(err, PV_ERR_RANGE,
			       "sim builder: the hypervisor refused the initial page tables (%d)",
			       rc);
	return 0;
}
