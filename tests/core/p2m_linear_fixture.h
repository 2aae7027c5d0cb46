/*
 * What the linear list's tests run against: a builder's list with every kind
 * of page, a reference that replays the history, and the list under test on
 * its host (p2m_linear_host.h) with checks that read it three ways: lookups,
 * the PTEs from outside (as p2m_cr3/p2m_vaddr readers do) and the tools'
 * tree from frame_list_list.  Static functions in a header, for
 * tests/core/p2m_linear_test.c only; include <cmocka.h> first.
 */
#ifndef PVBOOT_TESTS_P2M_LINEAR_FIXTURE_H
#define PVBOOT_TESTS_P2M_LINEAR_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/p2m_linear.h>

#include "p2m_linear_host.h"

#define PMD P2M_LINEAR_PMD_PFNS

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * The builder's list: scrambled MFNs, with holes (all-INVALID pages): block
 * 1, runs of 8 blocks (1 in 64), all of PMD 1; and block 3 all identity.  So
 * adopting meets every case.
 */
static bool hole_block(uint64_t b)
{
	return b == 1 || (((b >> 3) + 11) * 0x9e3779b97f4a7c15ULL >> 58) == 5 || b / 512 == 1;
}

static uint64_t orig(uint64_t pfn, uint64_t nr_entries)
{
	if (pfn >= nr_entries || hole_block(pfn / 512))
		return INVALID_P2M_ENTRY;
	if (pfn / 512 == 3)
		return IDENTITY_FRAME(pfn);
	return (pfn * 0x9e3779b97f4a7c15ULL >> 28) & 0xfffffffffULL;
}

static void fill_list(uint64_t *list, uint64_t nr_entries)
{
	for (uint64_t pfn = 0; pfn < nr_entries; pfn++)
		list[pfn] = orig(pfn, nr_entries);
	for (uint64_t pfn = nr_entries; pfn % 512; pfn++)
		list[pfn] = 0x1234; /* adopt must overwrite the tail */
}

/*
 * The reference: the builder's list, then every change in order, as a hash
 * of single pfns and a list of large identity ranges, each with its sequence
 * number; the latest wins.
 */
#define REF_CAP (1 << 20)

struct ref {
	struct ref_entry {
		uint64_t pfn, val, seq; /* seq 0: an empty slot */
	} * e;
	size_t n;
	struct range {
		uint64_t s, e, seq;
	} ranges[4096];
	size_t nr_ranges;
	uint64_t now, nr_entries;
};

static struct ref_entry *ref_slot(const struct ref *r, uint64_t pfn)
{
	size_t i = (pfn * 0x9e3779b97f4a7c15ULL) >> 44;

	while (r->e[i].seq && r->e[i].pfn != pfn)
		i = (i + 1) % REF_CAP;
	return &r->e[i];
}

static void ref_set(struct ref *r, uint64_t pfn, uint64_t val)
{
	struct ref_entry *x = ref_slot(r, pfn);

	if (!x->seq)
		assert_true(++r->n < REF_CAP / 2);
	*x = (struct ref_entry){pfn, val, ++r->now};
}

static void ref_identity(struct ref *r, uint64_t s, uint64_t e)
{
	if (e - s <= 4096) {
		for (uint64_t q = s; q < e; q++)
			ref_set(r, q, IDENTITY_FRAME(q));
		return;
	}
	assert_true(r->nr_ranges < 4096);
	r->ranges[r->nr_ranges++] = (struct range){s, e, ++r->now};
}

static uint64_t ref_get(const struct ref *r, uint64_t pfn)
{
	const struct ref_entry *x = ref_slot(r, pfn);
	uint64_t seq = x->seq, val = seq ? x->val : orig(pfn, r->nr_entries);

	for (size_t k = 0; k < r->nr_ranges; k++)
		if (r->ranges[k].seq > seq && pfn >= r->ranges[k].s && pfn < r->ranges[k].e)
			seq = r->ranges[k].seq, val = IDENTITY_FRAME(pfn);
	return val;
}

/* The list under test, its host and what it should answer. */
struct sut {
	struct lhost h;
	struct p2m_linear l;
	struct ref r;
	mfn_t fll;
	bool tree;
	uint64_t *list, list_pages;
};

static uint64_t decode(uint64_t raw, uint64_t pfn)
{
	return raw == P2M_LINEAR_IDENTITY ? IDENTITY_FRAME(pfn) : raw;
}

/* One pfn: the lookup, the PTE walk from outside and the tools' tree agree with the reference. */
static void check_pfn(struct sut *t, uint64_t pfn)
{
	uint64_t want = ref_get(&t->r, pfn), got = p2m_linear_get(&t->l, _pfn(pfn));

	if (got != want)
		fail_msg("pfn 0x%llx: the list says 0x%llx, the reference 0x%llx",
			 (unsigned long long)pfn, (unsigned long long)got, (unsigned long long)want);
	if (pfn >= t->l.max_pfn)
		return;
	if (decode(lh_walk(&t->h, pfn), pfn) != want)
		fail_msg("pfn 0x%llx: through the PTEs 0x%llx, the reference 0x%llx",
			 (unsigned long long)pfn, (unsigned long long)lh_walk(&t->h, pfn),
			 (unsigned long long)want);
	if (t->tree && decode(lh_tree_read(&t->h, t->fll, pfn), pfn) != want)
		fail_msg("pfn 0x%llx: the tools' tree says 0x%llx, the reference 0x%llx",
			 (unsigned long long)pfn,
			 (unsigned long long)lh_tree_read(&t->h, t->fll, pfn),
			 (unsigned long long)want);
}

/* A block through p2m_linear_leaf: its entries, or NULL where every entry is identity. */
static void check_leaf(struct sut *t, uint64_t block)
{
	const uint64_t *leaf = p2m_linear_leaf(&t->l, _pfn(block * 512));

	for (uint64_t i = 0, pfn = block * 512; i < 512 && pfn < t->l.max_pfn; i++, pfn++)
		assert_int_equal(leaf ? leaf[i] : IDENTITY_FRAME(pfn), ref_get(&t->r, pfn));
	if (leaf)
		for (uint64_t pfn = t->l.max_pfn; pfn % 512 && pfn / 512 == block; pfn++)
			assert_int_equal(leaf[pfn % 512], INVALID_P2M_ENTRY);
}

/* Every pfn up to @full pfns, else a sample and every pfn the history named. */
static void check_some(struct sut *t, uint64_t full)
{
	uint64_t span = t->l.max_pfn + 2048;

	assert_int_equal(t->h.generation % 2, 0);
	assert_int_equal(t->h.generation, 2 * (uint64_t)t->h.remaps);
	if (span <= full) {
		for (uint64_t pfn = 0; pfn < span; pfn++)
			check_pfn(t, pfn);
		for (uint64_t b = 0; b * 512 < t->l.max_pfn; b++)
			check_leaf(t, b);
		return;
	}
	for (int i = 0; i < 100000; i++)
		check_pfn(t, rnd() % span);
	for (int i = 0; i < 200; i++)
		check_leaf(t, rnd() % ((t->l.max_pfn + 511) / 512));
	for (size_t i = 0; i < REF_CAP; i++)
		if (t->r.e[i].seq)
			check_pfn(t, t->r.e[i].pfn);
	for (size_t k = 0; k < t->r.nr_ranges; k++)
		for (int d = -1; d <= 1; d++) {
			check_pfn(t, t->r.ranges[k].s + d);
			check_pfn(t, t->r.ranges[k].e + d);
		}
}

static void check_all(struct sut *t)
{
	check_some(t, 1ULL << 21);
}

/* A host, the reference, and a builder's list of @list_entries entries if not 0. */
static void sut_host(struct sut *t, uint64_t max_pfn, uint64_t list_entries, bool indirect)
{
	memset(t, 0, sizeof(*t));
	t->list_pages = (list_entries + 511) / 512;
	lh_init(&t->h, t->list_pages + (1 << 16) + 4096, max_pfn, indirect);
	t->r.e = calloc(REF_CAP, sizeof(*t->r.e));
	assert_non_null(t->r.e);
	if (list_entries) {
		t->list = lh_builder_list(&t->h, list_entries);
		fill_list(t->list, list_entries);
	}
}

/* ... and an empty list on it. */
static void sut_init(struct sut *t, uint64_t max_pfn, uint64_t list_entries, bool indirect)
{
	struct p2m_linear_ops ops;
	struct pv_error err;

	sut_host(t, max_pfn, list_entries, indirect);
	ops = lh_ops(&t->h);
	assert_int_equal(p2m_linear_init(&t->l, &ops, t->h.va, max_pfn, &t->h.generation, &err), 0);
}

static struct p2m_linear_adopt_stats sut_adopt(struct sut *t, uint64_t nr_entries)
{
	struct p2m_linear_adopt_stats st;
	struct pv_error err;
	uint64_t freed = 0;

	assert_int_equal(p2m_linear_adopt(&t->l, t->list, nr_entries, &st, &err), 0);
	t->r.nr_entries = nr_entries;
	for (uint64_t b = 0; b < t->list_pages; b++)
		freed += (hole_block(b) || (b == 3 && (b + 1) * 512 <= nr_entries)) ||
			 b * 512 >= nr_entries;
	assert_int_equal(st.pages_freed, freed);
	assert_int_equal(st.pages_mapped + st.pages_freed, t->list_pages);
	assert_int_equal(t->h.builder, (long)st.pages_mapped);
	return st;
}

/* Is the builder's page for @block (still the builder's) mapped in the array, at its place? */
static bool list_page_mapped(struct sut *t, uint64_t b)
{
	uint64_t tf = t->h.pmd_table[b / 512], f = lh_ptr_frame(&t->h, t->list + b * 512);

	if (tf == LH_NONE || t->h.state[f] != LH_BUILDER)
		return false;
	return mfn_x(pte_mfn(((uint64_t *)lh_frame(&t->h, tf))[b % 512])) - LH_MFN_BASE == f;
}

/* Every page back: the list's own, and exactly the builder's pages mapped in the array. */
static void sut_fini(struct sut *t)
{
	long builder_left = t->h.builder;

	for (uint64_t b = 0; b < t->list_pages; b++)
		builder_left -= list_page_mapped(t, b);
	assert_int_equal(t->h.live, (long)t->l.pages);
	p2m_linear_destroy(&t->l);
	assert_int_equal(t->h.live, 0);
	assert_int_equal(t->h.builder, builder_left);
	lh_fini(&t->h);
	free(t->r.e);
}

#endif
