/*
 * Page-table walk, map and clear over a small fake machine whose "hypervisor"
 * applies or refuses each update, as mmu_update does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/pgtable.h>

#define FRAMES 64

struct machine {
	uint64_t mem[FRAMES][512];
	unsigned next_free;	/* frames handed out as tables */
	unsigned updates;
	long refuse_table;	/* an mfn whose updates are refused, or -1 */
	bool alloc_fails;
};

static const uint64_t *m_table(void *ctx, mfn_t m)
{
	struct machine *mc = ctx;

	return mfn_x(m) < FRAMES ? mc->mem[mfn_x(m)] : NULL;
}

static int m_update(void *ctx, mfn_t t, unsigned i, uint64_t v, struct pv_error *err)
{
	struct machine *mc = ctx;

	if ((long)mfn_x(t) == mc->refuse_table)
		return pv_fail(err, PV_ERR_RANGE, "mmu_update refused (-EINVAL)");
	assert_true(mfn_x(t) < FRAMES && i < 512);
	mc->mem[mfn_x(t)][i] = v;
	mc->updates++;
	return 0;
}

static mfn_t m_alloc(void *ctx, int level, struct pv_error *err)
{
	struct machine *mc = ctx;

	assert_true(level >= PT_L1 && level <= PT_L3);
	if (mc->alloc_fails || mc->next_free == FRAMES) {
		pv_fail(err, PV_ERR_NOMEM, "no page for an L%d table", level);
		return INVALID_MFN;
	}
	memset(mc->mem[mc->next_free], 0, 4096);
	return _mfn(mc->next_free++);
}

static struct machine *new_machine(void)
{
	struct machine *mc = calloc(1, sizeof(*mc));

	assert_non_null(mc);
	mc->next_free = 1; /* frame 0 is the root L4: MFN 0 is a frame like any other */
	mc->refuse_table = -1;
	return mc;
}

static struct pt_ops ops_of(struct machine *mc)
{
	return (struct pt_ops){m_table, m_update, m_alloc, mc};
}

static void test_index_split(void **state)
{
	uint64_t va = 0xffffffffa25c7123ULL;

	(void)state;
	assert_int_equal(pt_index(va, PT_L4), 511);
	assert_int_equal(pt_index(va, PT_L3), 510);
	assert_int_equal(pt_index(va, PT_L2), 274); /* 0xa25c7123 - 0x80000000 >> 21 */
	assert_int_equal(pt_index(va, PT_L1), 0x1c7);
	assert_int_equal(pt_index(0xffff880000000000ULL, PT_L4), 272);
	assert_int_equal(pt_span(PT_L2), 2ULL << 20);
	assert_true(va_canonical(0x00007fffffffffffULL));
	assert_true(va_canonical(0xffff800000000000ULL));
	assert_false(va_canonical(0x0000800000000000ULL));
	assert_false(va_canonical(0xfffe000000000000ULL));
}

static void test_map_walk_clear(void **state)
{
	struct machine *mc = new_machine();
	struct pt_ops ops = ops_of(mc);
	mfn_t root = _mfn(0);
	struct pt_walk w;
	struct pv_error err;

	(void)state;
	/* The first page of a region takes an L3, an L2 and an L1. */
	assert_int_equal(pt_map(&ops, root, 0xffffffffa0000000ULL, _mfn(1000), PT_PROT_L1, &err), 0);
	assert_int_equal(mc->next_free, 4);
	assert_int_equal(pt_walk(&ops, root, 0xffffffffa0000abcULL, &w, &err), PT_L1);
	assert_int_equal(mfn_x(w.frame), 1000);
	assert_int_equal(w.entry[PT_L1] & 0xfff, PT_PROT_L1);
	assert_int_equal(w.entry[PT_L2] & 0xfff, PT_PROT_UPPER);
	/* The next page shares every table; another GiB needs an L2 and an L1. */
	assert_int_equal(pt_map(&ops, root, 0xffffffffa0001000ULL, _mfn(1001), PT_PROT_L1, &err), 0);
	assert_int_equal(mc->next_free, 4);
	assert_int_equal(pt_map(&ops, root, 0xffffffffc0000000ULL, _mfn(7), PT_PROT_L1, &err), 0);
	assert_int_equal(mc->next_free, 6);
	/* Unmapped neighbours: the walk stops at the first missing level. */
	assert_int_equal(pt_walk(&ops, root, 0xffffffffa0200000ULL, &w, &err), 0);
	assert_int_equal(w.level, -PT_L2);
	assert_int_equal(pt_walk(&ops, root, 0xffff880000000000ULL, &w, &err), 0);
	assert_int_equal(w.level, -PT_L4);

	/* Clearing the PMD removes both pages under it; clearing nothing writes nothing. */
	assert_int_equal(pt_clear(&ops, root, 0xffffffffa0000000ULL, PT_L2, &err), 0);
	assert_int_equal(pt_walk(&ops, root, 0xffffffffa0001000ULL, &w, &err), 0);
	assert_int_equal(w.level, -PT_L2);
	{
		unsigned before = mc->updates;

		assert_int_equal(pt_clear(&ops, root, 0xffffffffa0000000ULL, PT_L2, &err), 0);
		assert_int_equal(pt_clear(&ops, root, 0xffff880000000000ULL, PT_L1, &err), 0);
		assert_int_equal(mc->updates, before);
	}
	assert_int_equal(pt_walk(&ops, root, 0xffffffffc0000000ULL, &w, &err), PT_L1);
	assert_int_equal(mfn_x(w.frame), 7);
	free(mc);
}

static void test_large_pages(void **state)
{
	struct machine *mc = new_machine();
	struct pt_ops ops = ops_of(mc);
	mfn_t root = _mfn(0);
	struct pt_walk w;
	struct pv_error err;

	(void)state;
	/* Build down to an L2, then put a 2 MiB page in it by hand. */
	assert_int_equal(pt_map(&ops, root, 0x8000000000ULL, _mfn(50), PT_PROT_L1, &err), 0);
	assert_int_equal(pt_walk(&ops, root, 0x8000000000ULL, &w, &err), PT_L1);
	assert_int_equal(m_update(mc, w.table[PT_L2], 1, pte_make(_mfn(0x200), PT_PROT_UPPER | _PAGE_PSE),
				  &err),
			 0);
	assert_int_equal(pt_walk(&ops, root, 0x8000200000ULL + 0x5000, &w, &err), PT_L2);
	assert_int_equal(mfn_x(w.frame), 0x205);
	assert_int_equal(pt_map(&ops, root, 0x8000201000ULL, _mfn(9), PT_PROT_L1, &err), -1);
	assert_int_equal(err.code, PV_ERR_OVERLAP);
	/* Clearing at L1 inside a large page touches nothing; at L2 removes it. */
	assert_int_equal(pt_clear(&ops, root, 0x8000201000ULL, PT_L1, &err), 0);
	assert_int_equal(pt_walk(&ops, root, 0x8000201000ULL, &w, &err), PT_L2);
	assert_int_equal(pt_clear(&ops, root, 0x8000201000ULL, PT_L2, &err), 0);
	assert_int_equal(pt_walk(&ops, root, 0x8000201000ULL, &w, &err), 0);
	free(mc);
}

static void test_errors(void **state)
{
	struct machine *mc = new_machine();
	struct pt_ops ops = ops_of(mc);
	mfn_t root = _mfn(0);
	struct pt_walk w;
	struct pv_error err;

	(void)state;
	assert_int_equal(pt_walk(&ops, root, 0x0000800000000000ULL, &w, &err), -1);
	assert_int_equal(pt_map(&ops, root, 0xffffffffa0000010ULL, _mfn(1), PT_PROT_L1, &err), -1);
	/* A refused update comes back as an error, and nothing is written. */
	mc->refuse_table = 0;
	assert_int_equal(pt_map(&ops, root, 0xffffffffa0000000ULL, _mfn(1), PT_PROT_L1, &err), -1);
	assert_non_null(strstr(err.msg, "refused"));
	assert_int_equal(mc->updates, 0);
	mc->refuse_table = -1;
	/* So is an allocation failure. */
	mc->alloc_fails = true;
	assert_int_equal(pt_map(&ops, root, 0xffffffffa0000000ULL, _mfn(1), PT_PROT_L1, &err), -1);
	assert_int_equal(err.code, PV_ERR_NOMEM);
	/* A table that cannot be read (an mfn beyond the machine). */
	mc->alloc_fails = false;
	assert_int_equal(m_update(mc, root, 511, pte_make(_mfn(FRAMES + 5), PT_PROT_UPPER), &err), 0);
	assert_int_equal(pt_walk(&ops, root, 0xffffffffa0000000ULL, &w, &err), -1);
	assert_non_null(strstr(err.msg, "cannot read"));
	free(mc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_split),
		cmocka_unit_test(test_map_walk_clear),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
