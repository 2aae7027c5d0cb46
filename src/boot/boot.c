/*
 * pv_boot(): the boot sequence of include/pvboot/boot.h, step by step, with
 * Linux 3.7's function for each step named where it runs.
 */
#include <stdarg.h>

#include <pvboot/p2m_if.h>
#include <pvboot/protocol.h>
#include <pvboot/pvsum.h>

#include "boot_priv.h"

static const char *const mode_names[] = {
	[PV_MODE_REVECTOR] = "revector",
	[PV_MODE_NO_REVECTOR] = "no-revector",
	[PV_MODE_NULL] = "null",
	[PV_MODE_LINEAR] = "linear",
};

const char *pv_boot_mode_name(enum pv_boot_mode m)
{
	return (unsigned)m < PV_MODE_NR ? mode_names[m] : "unknown";
}

int pv_boot_mode_parse(const char *s, enum pv_boot_mode *m)
{
	for (unsigned i = 0; i < PV_MODE_NR; i++) {
		const char *a = s, *n = mode_names[i];

		while (*a && *a == *n)
			a++, n++;
		if (!*a && !*n) {
			*m = (enum pv_boot_mode)i;
			return 0;
		}
	}
	return -1;
}

void boot_say(struct boot *b, const char *fmt, ...)
{
	char line[PV_RESULT_JSON_MAX + 32]; /* the longest: PVBOOT-RESULT and its JSON */
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = pv_vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	b->pf->console(b->pf->ctx, line, n);
}

/*
 * A checksum over (pfn, entry): each term is entry + 1 times an odd number
 * that depends on the pfn, so changing any one entry changes the sum.
 */
#define HASH_SEED 0x5ca1ab1eULL

static uint64_t mix(uint64_t h, uint64_t pfn, uint64_t e)
{
	return h + (e + 1) * (2 * pfn + 1);
}

/* Steps 2 and 3: the tree over the builder's list, and the tools' tree published. */
static int build_p2m(struct boot *b)
{
	struct p2m_ops ops = boot_p2m_ops(b);
	uint64_t *list = b->pf->va_ptr(b->pf->ctx, b->list_va);
	mfn_t fll;

	if (!list)
		return BOOT_FAIL(b, "the builder's P2M list at 0x%llx is not mapped",
				 (unsigned long long)b->list_va);
	/* cf. xen_build_dynamic_phys_to_machine */
	if (p2m_init(&b->p2m, &ops, b->nr_pages, &b->err) || p2m_graft(&b->p2m, list, &b->err))
		return -1;
	b->grafted = true;
	/* cf. xen_build_mfn_list_list, xen_setup_mfn_list_list */
	if (p2m_build_mfn_tree(&b->p2m, &fll, &b->err))
		return -1;
	b->pf->shared_info->arch.pfn_to_mfn_frame_list_list = mfn_x(fll);
	b->pf->shared_info->arch.max_pfn = b->nr_pages;
	boot_say(b,
		 "pvboot: P2M tree over the builder's list, %llu pages of tree, frame_list_list mfn 0x%llx",
		 (unsigned long long)b->p2m.pages, (unsigned long long)mfn_x(fll));
	return 0;
}

/* Steps 5 and 6 (revector mode): copy the list out, then clear __ka behind it. */
static int revector(struct boot *b)
{
	struct pv_boot_result *res = b->res;
	struct p2m_revector_stats st;
	uint64_t *list = b->pf->va_ptr(b->pf->ctx, b->list_va);

	/* cf. xen_revector_p2m_tree, then the 0xff fill and memblock_free */
	if (p2m_revector(&b->p2m, list, b->list_bytes, &st, &b->err))
		return -1;
	res->p2m_leaves_copied = st.leaves_copied;
	boot_say(b, "pvboot: revectored %llu leaves, %llu pages of the old list given back",
		 (unsigned long long)st.leaves_copied, (unsigned long long)st.old_pages_freed);
	return boot_clean_highmap(b);
}

/*
 * What verify=sample looks at: SAMPLE_LEAVES leaves (512 pfns each) spread
 * evenly over the P2M, and the last one, every pfn in them.  Leaf @j of
 * them, for j = 0 .. SAMPLE_LEAVES; neighbours coincide in small guests.
 */
#define SAMPLE_LEAVES 128

static uint64_t sample_leaf(const struct boot *b, unsigned j)
{
	uint64_t leaves = (b->nr_pages + P2M_PER_PAGE - 1) / P2M_PER_PAGE;

	return j == SAMPLE_LEAVES ? leaves - 1 : j * leaves / SAMPLE_LEAVES;
}

/* The builder's list in the sampled leaves, as it came: what the end compares with. */
static uint64_t hash_sample(const struct boot *b, const uint64_t *list)
{
	uint64_t hash = HASH_SEED, last = ~0ULL;

	for (unsigned j = 0; j <= SAMPLE_LEAVES; j++) {
		uint64_t leaf = sample_leaf(b, j);

		for (uint64_t pfn = leaf * P2M_PER_PAGE;
		     leaf != last && pfn < (leaf + 1) * P2M_PER_PAGE && pfn < b->nr_pages; pfn++)
			hash = mix(hash, pfn, list[pfn]);
		last = leaf;
	}
	return hash;
}

/* One leaf's pfns through the guest's P2M, against the M2P; summed into @hash. */
static void verify_leaf(struct boot *b, const struct p2m_if *p2m, const uint64_t *list,
			uint64_t base, uint64_t *hash)
{
	struct pv_boot_result *res = b->res;
	const uint64_t *leaf = list ? list + base : p2m_if_leaf(p2m, _pfn(base));
	uint64_t n = b->nr_pages - base < P2M_PER_PAGE ? b->nr_pages - base : P2M_PER_PAGE;

	for (uint64_t k = 0, pfn = base; k < n; k++, pfn++) {
		uint64_t e = leaf ? leaf[k] : IDENTITY_FRAME(pfn);

		*hash = mix(*hash, pfn, e);
		res->pfns_verified++;
		if (e == INVALID_P2M_ENTRY || b->pf->m2p(b->pf->ctx, _mfn(e)) != pfn)
			res->mismatches++;
	}
}

/*
 * Step 8: every pfn (or the sampled leaves) through the guest's P2M,
 * against the M2P, and for the sample also every entry against the
 * builder's list (by hash): checked in full, "M2P[entry] == pfn" for all
 * pfns leaves nothing for a hash to find.  Until the graft succeeded the
 * guest's P2M is still the builder's list, so a boot that stopped early is
 * checked too: no mapping may have been lost on the way.
 */
static void verify_p2m(struct boot *b)
{
	struct pv_boot_result *res = b->res;
	struct p2m_if p2m = b->grafted ? p2m_if_tree(&b->p2m) : p2m_if_linear(&b->lin);
	const uint64_t *list = b->grafted || b->linear ? NULL : b->pf->va_ptr(b->pf->ctx, b->list_va);
	uint64_t hash = HASH_SEED, last = ~0ULL;

	if (b->o->verify_full) {
		/* A leaf (512 pfns) at a time: one lookup per leaf, not per pfn. */
		for (uint64_t base = 0; base < b->nr_pages; base += P2M_PER_PAGE)
			verify_leaf(b, &p2m, list, base, &hash);
		return;
	}
	for (unsigned j = 0; j <= SAMPLE_LEAVES; j++) {
		uint64_t leaf = sample_leaf(b, j);

		if (leaf != last)
			verify_leaf(b, &p2m, list, leaf * P2M_PER_PAGE, &hash);
		last = leaf;
	}
	if (hash != b->hash_before && res->mismatches == 0)
		res->mismatches = 1; /* some entry differs from the builder's list */
}

/*
 * The ramdisk as the guest reads it now, through the direct map once it
 * exists: pv_sum64 over its mod_len bytes, compared with the host's sum.
 * Every step before this one ran, so a page the boot path handed out or
 * unmapped by mistake shows here.
 */
static void check_ramdisk(struct boot *b)
{
	const start_info_t *si = b->si;
	struct pv_boot_result *res = b->res;
	uint64_t pfn, left = si->mod_len, h = PV_SUM64_INIT;

	res->ramdisk_ok = -1;
	if (!b->list_ok || b->o->mode == PV_MODE_NULL || b->o->skip_ramdisk_read ||
	    !si->mod_start || !si->mod_len)
		return;
	pfn = si->flags & SIF_MOD_START_PFN ? si->mod_start
					    : (si->mod_start - b->o->virt_base) / PAGE_SIZE;
	res->ramdisk_bytes = si->mod_len;
	for (; left; pfn++) {
		uint64_t n = left < PAGE_SIZE ? left : PAGE_SIZE;
		const void *page = boot_ptr(b, pfn);

		/* An unmapped module (MOD_START_PFN): map it into __va as Linux's direct map has it. */
		if (!page && b->va_ready) {
			struct pt_ops ops = boot_pt_ops(b);
			uint64_t va = PAGE_OFFSET + pfn * PAGE_SIZE;

			if (pt_map(&ops, b->l4, va, boot_mfn(b, pfn),
				   _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX, &b->err)) {
				res->ramdisk_ok = 0;
				return;
			}
			page = b->pf->va_ptr(b->pf->ctx, va);
		}
		if (!page) {
			BOOT_FAIL(b, "ramdisk page pfn 0x%llx is not mapped",
				  (unsigned long long)pfn);
			res->ramdisk_ok = 0;
			return;
		}
		h = pv_sum64(h, page, n);
		left -= n;
	}
	res->ramdisk_sum = h;
	if (b->o->ramdisk_sum_given)
		res->ramdisk_ok = h == b->o->ramdisk_sum;
}

static void finish(struct boot *b)
{
	struct pv_boot_result *res = b->res;
	char line[PV_RESULT_JSON_MAX];
	uint64_t live, expected;

	check_ramdisk(b);
	live = b->allocs - b->frees;
	expected = b->p2m.pages + b->lin.pages + b->own_tables + (res->module_ok ? 4 : 0);
	res->pages_allocated = b->allocs;
	res->pages_freed = b->frees;
	res->pages_leaked = (int64_t)live - (int64_t)expected;
	res->pages_double_freed = b->double_frees;
	/* Mode null takes over and stops: nothing to verify, what it costs is Xen's. */
	if (b->list_ok && b->o->mode != PV_MODE_NULL &&
	    (b->grafted || b->linear || b->pf->va_ptr(b->pf->ctx, b->list_va)))
		verify_p2m(b);
	if (b->va_ready && !b->ka_counted)
		res->ka_pmds_left = boot_ka_pmds_left(b);
	if (b->err.code != PV_OK)
		pv_snprintf(res->error, sizeof(res->error), "%s", b->err.msg);
	pv_result_format(res, PV_RF_ALL, line, sizeof(line));
	boot_say(b, PV_RESULT_TAG "%s", line);
}

int pv_boot(const struct pv_platform *pf, const struct pv_boot_opts *o, struct pv_boot_result *res)
{
	struct boot b = {.pf = pf, .o = o, .res = res};
	int rc = -1;

	*res = (struct pv_boot_result){.mode = o->mode};
	pv_snprintf(res->module_alloc, sizeof(res->module_alloc), "not tried");
	b.si = pf->start_info;
	if (!b.si || b.si->magic[0] != 'x' || b.si->magic[4] != '3') {
		BOOT_FAIL(&b, "no start_info from the domain builder");
		goto out;
	}
	b.nr_pages = b.si->nr_pages;
	res->nr_pages = b.nr_pages;
	b.list_va = b.si->mfn_list;
	b.list_bytes = (b.nr_pages * 8 + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	b.pt_pfn = (b.si->pt_base - o->virt_base) / PAGE_SIZE;
	b.nr_pt = b.si->nr_pt_frames;
	/* What a sampled check at the end compares with: the builder's list as it came. */
	{
		const uint64_t *list = pf->va_ptr(pf->ctx, b.list_va);

		if (!list) {
			BOOT_FAIL(&b, "the builder's P2M list at 0x%llx is not mapped",
				  (unsigned long long)b.list_va);
			goto out;
		}
		b.list_ok = true;
		b.list_pfn = pf->m2p(pf->ctx, pf->ptr_mfn(pf->ctx, list));
		if (!o->verify_full)
			b.hash_before = hash_sample(&b, list);
	}
	boot_say(&b, "pvboot: %s boot, %llu pages, P2M list at 0x%llx, page tables at 0x%llx (%llu)",
		 pv_boot_mode_name(o->mode), (unsigned long long)b.nr_pages,
		 (unsigned long long)b.list_va, (unsigned long long)b.si->pt_base,
		 (unsigned long long)b.nr_pt);

	/* Step 1: our own page tables (cf. xen_setup_kernel_pagetable). */
	if (boot_take_over_tables(&b))
		goto out;
	boot_say(&b, "pvboot: own page tables loaded; the builder's mapping ended at 0x%llx",
		 (unsigned long long)b.map_end);
	if (o->mode == PV_MODE_NULL) {
		rc = 0;
		goto out;
	}
	if (o->mode != PV_MODE_LINEAR && b.nr_pages > P2M_MAX_PFN) {
		BOOT_FAIL(&b,
			  "%llu pages do not fit the 3-level P2M tree (512 GiB at most): mode %s cannot boot this guest",
			  (unsigned long long)b.nr_pages, pv_boot_mode_name(o->mode));
		goto out;
	}
	if (o->mode == PV_MODE_LINEAR ? boot_linear(&b) : build_p2m(&b))
		goto out;

	/*
	 * Step 4: cleanup_highmap, below the kernel and from its end to the
	 * list's first pfn, which is max_pfn_mapped (xen_setup_kernel_pagetable):
	 * the list's __ka address, or for a list at INIT_P2M the first of the
	 * frames behind it, in pfn space after the kernel and the ramdisk.
	 */
	res->ka_pmds_removed += boot_clean_ka(&b, o->virt_base,
					      o->virt_base + b.list_pfn * PAGE_SIZE, true);
	if (b.err.code != PV_OK)
		goto out;
	if (o->mode == PV_MODE_REVECTOR && revector(&b))
		goto out;
	/* The list is reached through the array now: its __ka PMDs can go too. */
	if (o->mode == PV_MODE_LINEAR && boot_clean_highmap(&b))
		goto out;
	/* Before the module maps anything there: what the builder left in __ka. */
	res->ka_pmds_left = boot_ka_pmds_left(&b);
	b.ka_counted = true;
	boot_say(&b, "pvboot: __ka: %llu PMDs removed, %llu left between the kernel and MODULES_END",
		 (unsigned long long)res->ka_pmds_removed, (unsigned long long)res->ka_pmds_left);

	/* Step 7: the first module (cf. module_alloc -> __vmalloc_node_range). */
	if (boot_load_module(&b))
		goto out;
	boot_say(&b, "pvboot: module_alloc at 0x%llx: %s", (unsigned long long)res->module_vaddr,
		 res->module_alloc);
	rc = 0;
out:
	finish(&b);
	return rc;
}
