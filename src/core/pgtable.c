/*
 * Walking and editing x86-64 page tables through a platform that owns the
 * writes; the address split is drawn in include/pvboot/pgtable.h.
 * Cf. xv6's walk() and mappages(), and Linux's pud/pmd/pte_alloc_kernel.
 */
#include <pvboot/pgtable.h>

static const uint64_t *read_table(const struct pt_ops *ops, mfn_t m, int level, struct pv_error *err)
{
	const uint64_t *t = ops->table(ops->ctx, m);

	if (!t)
		pv_fail(err, PV_ERR_RANGE, "page tables: cannot read the L%d table in mfn 0x%llx",
			level, (unsigned long long)mfn_x(m));
	return t;
}

int pt_walk(const struct pt_ops *ops, mfn_t root, uint64_t va, struct pt_walk *w, struct pv_error *err)
{
	mfn_t m = root;

	*w = (struct pt_walk){.frame = INVALID_MFN};
	if (!va_canonical(va))
		return pv_fail(err, PV_ERR_RANGE, "page tables: 0x%llx is not a canonical address",
			       (unsigned long long)va);
	for (int level = PT_L4; level >= PT_L1; level--) {
		const uint64_t *t = read_table(ops, m, level, err);
		uint64_t e;

		if (!t)
			return -1;
		e = t[pt_index(va, level)];
		w->table[level] = m;
		w->entry[level] = e;
		if (!pte_present(e)) {
			w->level = -level;
			return 0;
		}
		/* A large page at L3 (1 GiB) or L2 (2 MiB) ends the walk. */
		if (level == PT_L1 || ((level == PT_L2 || level == PT_L3) && (e & _PAGE_PSE))) {
			uint64_t in_page = (va & (pt_span(level) - 1)) >> 12;

			w->level = level;
			w->frame = _mfn(mfn_x(pte_mfn(e)) + in_page);
			return level;
		}
		m = pte_mfn(e);
	}
	return 0; /* not reached: L1 always ends the walk */
}

int pt_map(const struct pt_ops *ops, mfn_t root, uint64_t va, mfn_t frame, uint64_t flags,
	   struct pv_error *err)
{
	return pt_set(ops, root, va, PT_L1, pte_make(frame, flags), err);
}

int pt_set(const struct pt_ops *ops, mfn_t root, uint64_t va, int at, uint64_t entry,
	   struct pv_error *err)
{
	mfn_t m = root;

	if (!va_canonical(va) || (va & (pt_span(at) - 1)) || at < PT_L1 || at > PT_L3)
		return pv_fail(err, PV_ERR_RANGE, "page tables: cannot map 0x%llx at L%d",
			       (unsigned long long)va, at);
	for (int level = PT_L4; level > at; level--) {
		const uint64_t *t = read_table(ops, m, level, err);
		unsigned i = pt_index(va, level);
		uint64_t e;

		if (!t)
			return -1;
		e = t[i];
		if (pte_present(e) && (e & _PAGE_PSE) && level != PT_L4)
			return pv_fail(err, PV_ERR_OVERLAP,
				       "page tables: 0x%llx lies in a large page at L%d",
				       (unsigned long long)va, level);
		if (!pte_present(e)) {
			mfn_t fresh = ops->alloc_table(ops->ctx, level - 1, err);

			if (mfn_eq(fresh, INVALID_MFN))
				return -1;
			e = pte_make(fresh, PT_PROT_UPPER);
			if (ops->update(ops->ctx, m, i, e, err))
				return -1;
		}
		m = pte_mfn(e);
	}
	if (at > PT_L1) {
		const uint64_t *t = read_table(ops, m, at, err);

		if (!t)
			return -1;
		if (pte_present(t[pt_index(va, at)]))
			return pv_fail(err, PV_ERR_OVERLAP,
				       "page tables: the L%d entry for 0x%llx is already present",
				       at, (unsigned long long)va);
	}
	return ops->update(ops->ctx, m, pt_index(va, at), entry, err);
}

int pt_clear(const struct pt_ops *ops, mfn_t root, uint64_t va, int level, struct pv_error *err)
{
	struct pt_walk w;
	int found = pt_walk(ops, root, va, &w, err);

	if (found < 0)
		return -1;
	/* The walk read tables from L4 down to here; nothing below exists. */
	if (level < (found > 0 ? found : -w.level))
		return 0;
	if (!pte_present(w.entry[level]))
		return 0;
	return ops->update(ops->ctx, w.table[level], pt_index(va, level), 0, err);
}
