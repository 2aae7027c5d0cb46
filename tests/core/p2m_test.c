/*
 * The P2M tree against a flat reference, under random sequences of sets,
 * identity ranges, a revector and lookups, at every boundary size; the tools'
 * tree read back frame by frame; and every allocation failing in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/p2m.h>

/* Host pages: the "machine frame" of a page is its address >> 12. */
struct host {
	long live;		/* pages allocated and not freed */
	long fail_at;		/* the n-th allocation fails (0: never) */
	long allocs;
	uint64_t *list;		/* the builder's list: its pages are not malloc'd one by one */
	uint64_t list_bytes;
	long list_freed;
};

static void *h_alloc(void *ctx)
{
	struct host *h = ctx;
	void *pg;

	if (h->fail_at && ++h->allocs == h->fail_at)
		return NULL;
	pg = aligned_alloc(4096, 4096);
	if (pg) {
		memset(pg, 0x5a, 4096); /* the tree must not rely on zeroed pages */
		h->live++;
	}
	return pg;
}

static void h_free(void *ctx, void *pg)
{
	struct host *h = ctx;
	char *c = pg, *l = (char *)h->list;

	if (h->list && c >= l && c < l + h->list_bytes) {
		h->list_freed++;
		return;
	}
	h->live--;
	free(pg);
}

static mfn_t h_mfn(void *ctx, const void *pg)
{
	(void)ctx;
	return _mfn((uintptr_t)pg >> 12);
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The builder's MFN for a pfn: scrambled, but computable, so no reference copy is needed. */
static uint64_t orig_mfn(uint64_t pfn)
{
	return (pfn * 0x9e3779b97f4a7c15ULL >> 20) & 0xfffffffffULL;
}

/* A sparse record of what tests changed over the computed original: an open-addressing hash. */
struct ref {
	uint64_t *pfn, *val;
	size_t n, cap; /* cap is a power of two */
	uint64_t max_pfn;
};

#define EMPTY (~0ULL)

static size_t slot(const struct ref *r, uint64_t pfn)
{
	size_t i = (pfn * 0x9e3779b97f4a7c15ULL) & (r->cap - 1);

	while (r->pfn[i] != EMPTY && r->pfn[i] != pfn)
		i = (i + 1) & (r->cap - 1);
	return i;
}

static void ref_set(struct ref *r, uint64_t pfn, uint64_t val)
{
	size_t i;

	if (2 * (r->n + 1) > r->cap) {
		struct ref old = *r;

		r->cap = old.cap ? 2 * old.cap : 4096;
		r->pfn = malloc(r->cap * sizeof(*r->pfn));
		r->val = malloc(r->cap * sizeof(*r->val));
		assert_non_null(r->pfn);
		assert_non_null(r->val);
		memset(r->pfn, 0xff, r->cap * sizeof(*r->pfn));
		r->n = 0;
		for (size_t k = 0; k < old.cap; k++)
			if (old.pfn[k] != EMPTY)
				ref_set(r, old.pfn[k], old.val[k]);
		free(old.pfn);
		free(old.val);
	}
	i = slot(r, pfn);
	if (r->pfn[i] == EMPTY)
		r->n++;
	r->pfn[i] = pfn;
	r->val[i] = val;
}

static uint64_t ref_get(const struct ref *r, uint64_t pfn)
{
	if (r->cap) {
		size_t i = slot(r, pfn);

		if (r->pfn[i] == pfn)
			return r->val[i];
	}
	return pfn < r->max_pfn ? orig_mfn(pfn) : INVALID_P2M_ENTRY;
}

static struct p2m_ops host_ops(struct host *h)
{
	return (struct p2m_ops){h_alloc, h_free, h_mfn, h};
}

static uint64_t *make_list(struct host *h, uint64_t max_pfn)
{
	uint64_t entries = (max_pfn + 511) / 512 * 512;
	uint64_t *list = aligned_alloc(4096, entries * 8);

	assert_non_null(list);
	for (uint64_t pfn = 0; pfn < entries; pfn++)
		list[pfn] = pfn < max_pfn ? orig_mfn(pfn) : 0x1234; /* a tail graft must overwrite */
	h->list = list;
	h->list_bytes = entries * 8;
	return list;
}

/* Read a pfn the way the tools do: frame_list_list -> mid_mfn -> leaf, by MFN. */
static uint64_t tools_get(mfn_t fll, uint64_t pfn)
{
	const uint64_t *top = (const uint64_t *)(uintptr_t)(mfn_x(fll) << 12);
	const uint64_t *mid = (const uint64_t *)(uintptr_t)(top[pfn >> 18] << 12);
	const uint64_t *leaf = (const uint64_t *)(uintptr_t)(mid[(pfn >> 9) & 511] << 12);

	return leaf[pfn & 511];
}

static void check_all(const struct p2m *p, const struct ref *r, uint64_t upto, mfn_t fll,
		      bool tools)
{
	for (uint64_t pfn = 0; pfn < upto; pfn++) {
		uint64_t want = ref_get(r, pfn), got = p2m_get(p, _pfn(pfn));

		if (got != want)
			fail_msg("pfn 0x%llx: tree says 0x%llx, reference 0x%llx",
				 (unsigned long long)pfn, (unsigned long long)got,
				 (unsigned long long)want);
		/* The tools see identity leaves as missing (their contents are INVALID). */
		if (tools && !(want != INVALID_P2M_ENTRY && (want & IDENTITY_FRAME_BIT)) &&
		    pfn < p->max_pfn && tools_get(fll, pfn) != want)
			fail_msg("pfn 0x%llx: the tools' tree says 0x%llx, reference 0x%llx",
				 (unsigned long long)pfn, (unsigned long long)tools_get(fll, pfn),
				 (unsigned long long)want);
	}
}

/* The tree holds every page still live; destroying it gives back all of them. */
static void teardown(struct p2m *p, struct host *h, uint64_t *list, struct ref *r)
{
	assert_int_equal(h->live, (long)p->pages);
	p2m_destroy(p);
	assert_int_equal(h->live, 0);
	free(list);
	free(r->pfn);
	free(r->val);
}

/* Boundary sizes (pfns): leaf and mid edges, 899 MiB, 128 GiB, 512 GiB - 4 KiB. */
static const uint64_t sizes[] = {
	1, 511, 512, 513, 1023, 1024, 262143, 262144, 262145,
	899ULL * 256, 128ULL << 18, (512ULL << 18) - 1,
};

static void run_size(uint64_t max_pfn)
{
	struct host h = {0};
	struct p2m p;
	struct p2m_ops ops = host_ops(&h);
	struct pv_error err;
	struct ref r = {.max_pfn = max_pfn};
	struct p2m_revector_stats st;
	uint64_t *list = make_list(&h, max_pfn);
	uint64_t span = max_pfn + 2048, full = max_pfn <= (1ULL << 22) ? span : 0;
	mfn_t fll;

	rng_state = 0x12345678 ^ max_pfn;
	assert_int_equal(p2m_init(&p, &ops, max_pfn, &err), 0);
	assert_int_equal(p2m_graft(&p, list, &err), 0);
	for (uint64_t pfn = max_pfn; pfn % 512; pfn++)
		assert_int_equal(list[pfn], INVALID_P2M_ENTRY);
	assert_int_equal(p2m_build_mfn_tree(&p, &fll, &err), 0);

	for (int round = 0; round < 2; round++) {
		for (int op = 0; op < 3000; op++) {
			uint64_t pfn = rnd() % span, v = rnd() & 0xffffffffffULL;
			unsigned kind = rnd() % 16;

			if (kind < 10) {
				assert_int_equal(p2m_set(&p, _pfn(pfn), v, &err), 0);
				ref_set(&r, pfn, v);
			} else if (kind < 11) {
				uint64_t len = rnd() % 1500, e = pfn + len;

				assert_true(p2m_set_identity(&p, _pfn(pfn), _pfn(e), &err) >= 0);
				for (uint64_t q = pfn; q < e; q++)
					ref_set(&r, q, IDENTITY_FRAME(q));
			} else if (kind < 12) {
				assert_int_equal(p2m_set(&p, _pfn(pfn), INVALID_P2M_ENTRY, &err), 0);
				ref_set(&r, pfn, INVALID_P2M_ENTRY);
			} else {
				assert_int_equal(p2m_get(&p, _pfn(pfn)), ref_get(&r, pfn));
			}
		}
		/* Every pfn where that is affordable; a sample of the largest. */
		if (full)
			check_all(&p, &r, full, fll, true);
		for (int i = 0; i < 20000; i++) {
			uint64_t pfn = rnd() % span;

			assert_int_equal(p2m_get(&p, _pfn(pfn)), ref_get(&r, pfn));
		}
		for (size_t i = 0; i < r.cap; i++)
			if (r.pfn[i] != EMPTY)
				assert_int_equal(p2m_get(&p, _pfn(r.pfn[i])), r.val[i]);

		if (round == 0) {
			uint64_t in = p2m_leaves_in(&p, list, h.list_bytes);

			assert_int_equal(p2m_revector(&p, list, h.list_bytes, &st, &err), 0);
			assert_int_equal(st.leaves_copied, in);
			assert_int_equal(st.old_pages_freed, h.list_bytes / 4096);
			assert_int_equal(h.list_freed, h.list_bytes / 4096);
			assert_int_equal(p2m_leaves_in(&p, list, h.list_bytes), 0);
			/* The old list is poisoned: all ones, never zero (MFN 0 is a frame). */
			for (uint64_t i = 0; i < h.list_bytes / 8; i += 97)
				assert_int_equal(list[i], INVALID_P2M_ENTRY);
			/* frame_list_list did not move; a rebuild keeps it. */
			{
				mfn_t again;

				assert_int_equal(p2m_build_mfn_tree(&p, &again, &err), 0);
				assert_int_equal(mfn_x(again), mfn_x(fll));
			}
		}
	}
	check_all(&p, &r, full ? full : 4096, fll, true);
	teardown(&p, &h, list, &r);
}

static void test_property_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		print_message("max_pfn %llu\n", (unsigned long long)sizes[i]);
		run_size(sizes[i]);
	}
}

static void test_bounds(void **state)
{
	struct host h = {0};
	struct p2m_ops ops = host_ops(&h);
	struct p2m p;
	struct pv_error err;

	(void)state;
	assert_int_equal(p2m_init(&p, &ops, 0, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	assert_int_equal(p2m_init(&p, &ops, P2M_MAX_PFN + 1, &err), -1);
	assert_int_equal(p2m_init(&p, &ops, P2M_MAX_PFN, &err), 0);
	/* Beyond the tree: nothing stored, INVALID read back. */
	assert_int_equal(p2m_get(&p, _pfn(P2M_MAX_PFN)), INVALID_P2M_ENTRY);
	assert_false(p2m_set_noalloc(&p, _pfn(P2M_MAX_PFN), 5));
	assert_int_equal(p2m_set(&p, _pfn(P2M_MAX_PFN - 1), 7, &err), 0);
	assert_int_equal(p2m_pfn_to_mfn(&p, _pfn(P2M_MAX_PFN - 1)).mfn, 7);
	/* The identity page answers by pointer, pfn by pfn. */
	assert_int_equal(p2m_set_identity(&p, _pfn(1024), _pfn(2048), &err), 1024);
	assert_int_equal(p2m_get(&p, _pfn(1500)), IDENTITY_FRAME(1500ULL));
	assert_int_equal(p2m_pfn_to_mfn(&p, _pfn(1500)).mfn, 1500);
	assert_int_equal(p2m_pfn_to_mfn(&p, _pfn(3000)).mfn, INVALID_MFN.mfn);
	/* A real MFN inside an identity leaf keeps the other 511 identity entries. */
	assert_int_equal(p2m_set(&p, _pfn(1030), 99, &err), 0);
	assert_int_equal(p2m_get(&p, _pfn(1030)), 99);
	assert_int_equal(p2m_get(&p, _pfn(1031)), IDENTITY_FRAME(1031ULL));
	p2m_destroy(&p);
	assert_int_equal(h.live, 0);
}

/*
 * Every allocation of a graft, an mfn-tree build and a revector fails in
 * turn: each either completes or fails cleanly, every lookup answers as
 * before, and no page is leaked.
 */
static void test_fault_injection(void **state)
{
	const uint64_t max_pfn = 3 * 262144 + 1000; /* 3 GiB + a partial leaf */
	int completed = 0, failed = 0;

	(void)state;
	for (long fail = 1;; fail++) {
		struct host h = {.fail_at = fail};
		struct p2m_ops ops = host_ops(&h);
		struct p2m p;
		struct pv_error err;
		struct p2m_revector_stats st;
		struct ref r = {.max_pfn = max_pfn};
		uint64_t *list = make_list(&h, max_pfn);
		mfn_t fll;
		int rc;

		rc = p2m_init(&p, &ops, max_pfn, &err);
		if (rc == 0 && (rc = p2m_graft(&p, list, &err)) != 0)
			r.max_pfn = 0; /* nothing grafted: every pfn still missing */
		if (rc == 0)
			rc = p2m_build_mfn_tree(&p, &fll, &err);
		if (rc == 0) {
			rc = p2m_set_identity(&p, _pfn(5000), _pfn(9000), &err) < 0 ? -1 : 0;
			/* On failure part of the range may be identity already: re-read it. */
			for (uint64_t q = 5000; q < 9000; q++)
				ref_set(&r, q, p2m_get(&p, _pfn(q)));
		}
		if (rc == 0) {
			rc = p2m_revector(&p, list, h.list_bytes, &st, &err);
			if (rc)
				assert_int_equal(h.list_freed, 0);
		}
		if (rc)
			assert_int_equal(err.code, PV_ERR_NOMEM);
		if (p.top)
			check_all(&p, &r, max_pfn + 512, fll, false);
		teardown(&p, &h, list, &r);
		if (rc == 0) {
			completed++;
			break;
		}
		failed++;
	}
	print_message("%d allocation points failed cleanly\n", failed);
	assert_true(failed > 10);
	assert_int_equal(completed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_property_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
