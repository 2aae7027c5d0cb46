/*
 * The linear P2M list, mapped for real in this process, against a flat
 * reference (p2m_linear_host.h, p2m_linear_fixture.h): random sets, identity
 * ranges and lookups at every boundary size; the same history on the tree
 * and the list through p2m_if; p2m_generation; adopting a builder's list;
 * the list read from outside, through its PTEs and through the tools' tree;
 * every allocation failing and every remap refused in turn.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <pvboot/p2m_if.h>

#include "p2m_linear_fixture.h"

/* One random step of a history over pfns below @span; big identity ranges now and then. */
struct op {
	enum { OP_SET, OP_IDENTITY, OP_GET } kind;
	uint64_t pfn, end, v;
};

static struct op random_op(uint64_t span)
{
	struct op o = {.pfn = rnd() % span};
	unsigned k = rnd() % 16;

	if (k < 10) {
		unsigned f = rnd() % 8;

		o.kind = OP_SET;
		o.v = rnd() & 0xffffffffffULL;
		o.v = f == 0 ? FOREIGN_FRAME(o.v) : f == 1 ? IDENTITY_FRAME(o.pfn) : o.v;
	} else if (k < 11) {
		o.kind = OP_IDENTITY;
		if (rnd() % 4) {
			o.end = o.pfn + rnd() % 1500;
		} else {
			o.pfn -= rnd() % 2 ? o.pfn % PMD : 0;
			o.end = o.pfn + rnd() % (3 * PMD);
		}
	} else if (k < 12) {
		o.kind = OP_SET;
		o.v = INVALID_P2M_ENTRY;
	} else {
		o.kind = OP_GET;
	}
	return o;
}

static void run_history(struct sut *t, int ops)
{
	uint64_t span = t->l.max_pfn + 2048;
	struct pv_error err;

	for (int i = 0; i < ops; i++) {
		struct op o = random_op(span);
		uint64_t end = o.end < t->l.max_pfn ? o.end : t->l.max_pfn;
		int rc;

		switch (o.kind) {
		case OP_SET:
			rc = p2m_linear_set(&t->l, _pfn(o.pfn), o.v, &err);
			if (o.pfn >= t->l.max_pfn && o.v != INVALID_P2M_ENTRY) {
				assert_int_equal(rc, -1);
				assert_int_equal(err.code, PV_ERR_RANGE);
				break;
			}
			assert_int_equal(rc, 0);
			if (o.pfn < t->l.max_pfn)
				ref_set(&t->r, o.pfn, o.v);
			break;
		case OP_IDENTITY:
			assert_int_equal(p2m_linear_set_identity(&t->l, _pfn(o.pfn), _pfn(o.end),
								 &err),
					 o.pfn < end ? end - o.pfn : 0);
			if (o.pfn < end)
				ref_identity(&t->r, o.pfn, end);
			break;
		case OP_GET:
			check_pfn(t, o.pfn);
			break;
		}
		assert_int_equal(t->h.generation, 2 * (uint64_t)t->h.remaps);
	}
}

/* Boundary sizes (pfns): block and PMD edges, 899 MiB, 128 GiB, the tools' tree's 512 GiB. */
static const struct size_case {
	const char *name;
	uint64_t max_pfn;
	bool adopt, indirect;
} sizes[] = {
	{"1 pfn", 1, true, false},
	{"511 pfns", 511, true, false},
	{"512 pfns", 512, true, false},
	{"513 pfns", 513, true, false},
	{"262143 pfns", PMD - 1, true, false},
	{"262144 pfns", PMD, true, false},
	{"262145 pfns", PMD + 1, true, false},
	{"899 MiB", 899ULL * 256, true, false},
	{"899 MiB, not direct", 899ULL * 256, true, true},
	{"128 GiB", 128ULL << 18, true, false},
	{"512 GiB - 4 KiB", P2M_MAX_PFN - 1, true, false},
	{"512 GiB", P2M_MAX_PFN, true, false},
	{"512 GiB + 4 KiB", P2M_MAX_PFN + 1, true, false},
	{"600 GiB, sparse", 600ULL << 18, false, false},
};

static void run_size(const struct size_case *c)
{
	struct sut t;
	struct pv_error err;
	int rc;

	rng_state = 0x12345678 ^ c->max_pfn;
	sut_init(&t, c->max_pfn, c->adopt ? c->max_pfn : 0, c->indirect);
	if (c->adopt)
		sut_adopt(&t, c->max_pfn);
	rc = p2m_linear_build_mfn_tree(&t.l, &t.fll, &err);
	t.tree = c->max_pfn <= P2M_MAX_PFN;
	assert_int_equal(rc, t.tree ? 0 : -1);
	if (!t.tree) {
		assert_int_equal(err.code, PV_ERR_RANGE);
		assert_int_equal(mfn_x(t.fll), mfn_x(INVALID_MFN));
	}
	check_all(&t);
	for (int round = 0; round < 2; round++) {
		run_history(&t, 3000);
		check_all(&t);
	}
	sut_fini(&t);
}

static void test_property_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		print_message("%s\n", sizes[i].name);
		run_size(&sizes[i]);
	}
}

/* A leaf as 512 entries, NULL spelled out. */
static void leaf_entries(const struct p2m_if *i, uint64_t block, uint64_t out[512])
{
	const uint64_t *leaf = p2m_if_leaf(i, _pfn(block * 512));

	for (uint64_t k = 0; k < 512; k++)
		out[k] = leaf ? leaf[k] : IDENTITY_FRAME(block * 512 + k);
}

static void compare(const struct p2m_if *a, const struct p2m_if *b, uint64_t pfn)
{
	if (p2m_if_get(a, _pfn(pfn)) != p2m_if_get(b, _pfn(pfn)))
		fail_msg("pfn 0x%llx: %s says 0x%llx, %s 0x%llx", (unsigned long long)pfn, a->name,
			 (unsigned long long)p2m_if_get(a, _pfn(pfn)), b->name,
			 (unsigned long long)p2m_if_get(b, _pfn(pfn)));
}

static void compare_leaf(const struct p2m_if *a, const struct p2m_if *b, uint64_t block)
{
	uint64_t x[512], y[512];

	leaf_entries(a, block, x);
	leaf_entries(b, block, y);
	for (uint64_t k = 0; k < 512 && block * 512 + k < a->max_pfn; k++)
		assert_int_equal(x[k], y[k]);
}

/* The same history on the tree and the list, through p2m_if: the same answers. */
static void test_tree_and_linear_agree(void **state)
{
	static const uint64_t sz[] = {1000, PMD + 1, 3 * PMD + 1000, 899ULL * 256, 128ULL << 18};

	(void)state;
	for (size_t n = 0; n < sizeof(sz) / sizeof(sz[0]); n++) {
		uint64_t max_pfn = sz[n], *tlist;
		struct lhost th; /* the tree's pages, and its own copy of the builder's list */
		struct p2m_ops tops = {lh_alloc, lh_free, lh_virt_to_mfn, &th};
		struct p2m p;
		struct sut t;
		struct pv_error err;
		struct p2m_if tree, lin;
		mfn_t fll;

		print_message("%llu pfns\n", (unsigned long long)max_pfn);
		rng_state = 0xfeedULL + max_pfn;
		lh_init(&th, max_pfn / 512 + (1 << 16), 1, false);
		tlist = lh_builder_list(&th, max_pfn);
		fill_list(tlist, max_pfn);
		sut_init(&t, max_pfn, max_pfn, false);
		sut_adopt(&t, max_pfn);
		assert_int_equal(p2m_init(&p, &tops, max_pfn, &err), 0);
		assert_int_equal(p2m_graft(&p, tlist, &err), 0);
		tree = p2m_if_tree(&p), lin = p2m_if_linear(&t.l);
		assert_int_equal(tree.build_mfn_tree(tree.impl, &fll, &err), 0);
		assert_int_equal(lin.build_mfn_tree(lin.impl, &fll, &err), 0);
		assert_int_equal(tree.max_pfn, lin.max_pfn);

		for (int i = 0; i < 6000; i++) {
			struct op o = random_op(max_pfn);

			/* Past max_pfn the tree still stores and the list does not: stay below. */
			o.end = o.end < max_pfn ? o.end : max_pfn;
			if (o.kind == OP_SET) {
				assert_int_equal(p2m_if_set(&tree, _pfn(o.pfn), o.v, &err), 0);
				assert_int_equal(p2m_if_set(&lin, _pfn(o.pfn), o.v, &err), 0);
			} else if (o.kind == OP_IDENTITY) {
				int64_t a =
					p2m_if_set_identity(&tree, _pfn(o.pfn), _pfn(o.end), &err);

				assert_true(a >= 0);
				assert_int_equal(p2m_if_set_identity(&lin, _pfn(o.pfn), _pfn(o.end),
								     &err),
						 a);
			}
			compare(&tree, &lin, o.pfn);
			compare(&tree, &lin, rnd() % (max_pfn + 1024));
			assert_int_equal(mfn_x(p2m_if_pfn_to_mfn(&tree, _pfn(o.pfn))),
					 mfn_x(p2m_if_pfn_to_mfn(&lin, _pfn(o.pfn))));
		}
		for (uint64_t pfn = 0; pfn<max_pfn + 1024; pfn += max_pfn>(1 << 22) ? 7 : 1)
			compare(&tree, &lin, pfn);
		for (uint64_t b = 0; b * 512 < max_pfn; b += max_pfn > (1 << 22) ? 61 : 1)
			compare_leaf(&tree, &lin, b);
		p2m_destroy(&p);
		assert_int_equal(th.live, 0);
		lh_fini(&th);
		sut_fini(&t);
	}
}

/* p2m_generation: even at rest, odd during each remap, up by two per remap, unchanged without. */
static void test_generation(void **state)
{
	struct sut t;
	struct pv_error err;
	uint64_t g;
	long r;

	(void)state;
	sut_init(&t, 3 * PMD, 0, false);
	assert_int_equal(t.h.remaps, 3); /* every PMD to p2m_missing_pte */
	assert_int_equal(t.h.generation, 6);
	assert_int_equal(p2m_linear_build_mfn_tree(&t.l, &t.fll, &err), 0);
	t.tree = true;

	/* A hole: a private PTE page, then a private page; two remaps. */
	g = t.h.generation, r = t.h.remaps;
	assert_int_equal(p2m_linear_set(&t.l, _pfn(PMD + 5), 42, &err), 0);
	assert_int_equal(t.h.remaps - r, 2);
	assert_int_equal(t.h.generation, g + 4);
	assert_int_equal(t.h.gen_at_remap, g + 3);
	ref_set(&t.r, PMD + 5, 42);
	/* The same page again, and what a hole already means: no remap. */
	g = t.h.generation;
	assert_int_equal(p2m_linear_set(&t.l, _pfn(PMD + 6), 43, &err), 0);
	assert_int_equal(p2m_linear_set(&t.l, _pfn(2 * PMD + 6), INVALID_P2M_ENTRY, &err), 0);
	assert_int_equal(t.h.generation, g);
	ref_set(&t.r, PMD + 6, 43);
	/* A whole GiB 1:1: one PMD relinked. */
	g = t.h.generation;
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(2 * PMD), _pfn(3 * PMD), &err), PMD);
	assert_int_equal(t.h.generation, g + 2);
	assert_int_equal(t.h.gen_at_remap % 2, 1);
	ref_identity(&t.r, 2 * PMD, 3 * PMD);
	check_all(&t);
	sut_fini(&t);
}

/* The builder's pages become the array without a copy; holes go back. */
static void test_adopt(void **state)
{
	const uint64_t max_pfn = 3 * PMD + 1000, nr = max_pfn - 300;
	struct p2m_linear_adopt_stats st;
	struct pv_error err;
	struct sut t;
	uint64_t *list;

	(void)state;
	sut_init(&t, max_pfn, nr, false);
	list = t.list;
	assert_int_equal(p2m_linear_adopt(&t.l, list + 1, nr, &st, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	assert_int_equal(p2m_linear_adopt(&t.l, list, max_pfn + 1, &st, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	st = sut_adopt(&t, nr);
	assert_int_equal(st.pte_pages, 3); /* PMDs 0, 2 and 3: PMD 1 is all holes */
	for (uint64_t pfn = nr; pfn % 512; pfn++)
		assert_int_equal(list[pfn], INVALID_P2M_ENTRY);
	/* Each kept page is the builder's frame, mapped where its pfns are. */
	for (uint64_t b = 0; b * 512 < nr; b++) {
		uint64_t pte = ((uint64_t *)lh_frame(&t.h, t.h.pmd_table[b / 512]))[b % 512];
		uint64_t frame = mfn_x(pte_mfn(pte)) - LH_MFN_BASE;

		assert_int_equal(list_page_mapped(&t, b), !hole_block(b) && b != 3);
		if (hole_block(b))
			assert_int_equal(frame, mfn_x(t.l.missing_mfn) - LH_MFN_BASE);
	}
	/* PMD 1 is all holes: it keeps p2m_missing_pte. */
	assert_int_equal(t.h.pmd_table[1], lh_ptr_frame(&t.h, t.l.missing_pte));
	/* A store lands in the builder's own frame. */
	assert_int_equal(p2m_linear_set(&t.l, _pfn(7), 0xabc, &err), 0);
	assert_int_equal(list[7], 0xabc);
	ref_set(&t.r, 7, 0xabc);
	check_all(&t);
	/* Only into an empty list, before the tools' tree. */
	assert_int_equal(p2m_linear_adopt(&t.l, list, nr, &st, &err), -1);
	assert_int_equal(err.code, PV_ERR_USAGE);
	sut_fini(&t);
}

/* Bounds, the sentinel, identity semantics, and the tools' tree above 512 GiB. */
static void test_bounds(void **state)
{
	struct p2m_linear l;
	struct pv_error err;
	struct sut t;
	mfn_t fll, again;

	(void)state;
	sut_init(&t, 2000, 0, false);
	{
		struct p2m_linear_ops ops = lh_ops(&t.h);

		assert_int_equal(p2m_linear_init(&l, &ops, t.h.va, 0, NULL, &err), -1);
		assert_int_equal(err.code, PV_ERR_RANGE);
		assert_int_equal(p2m_linear_init(&l, &ops, t.h.va, P2M_LINEAR_MAX_PFN + 1, NULL, &err),
				 -1);
		assert_int_equal(p2m_linear_init(&l, &ops, t.h.va + 4096, 5, NULL, &err), -1);
		assert_int_equal(p2m_linear_init(&l, &ops, 0x0000800000000000ULL, 5, NULL, &err), -1);
		assert_int_equal(t.h.live, (long)t.l.pages);
	}
	assert_int_equal(p2m_linear_get(&t.l, _pfn(1999)), INVALID_P2M_ENTRY);
	assert_int_equal(p2m_linear_get(&t.l, _pfn(2000)), INVALID_P2M_ENTRY);
	assert_int_equal(p2m_linear_set(&t.l, _pfn(2000), INVALID_P2M_ENTRY, &err), 0);
	assert_int_equal(p2m_linear_set(&t.l, _pfn(2000), 5, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	assert_int_equal(p2m_linear_set(&t.l, _pfn(3), P2M_LINEAR_IDENTITY, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	/* Identity by page, one compare: pfn by pfn, and a real MFN keeps the other 511. */
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(512), _pfn(1024), &err), 512);
	assert_null(p2m_linear_leaf(&t.l, _pfn(600)));
	assert_int_equal(p2m_linear_get(&t.l, _pfn(700)), IDENTITY_FRAME(700ULL));
	assert_int_equal(mfn_x(p2m_linear_pfn_to_mfn(&t.l, _pfn(700))), 700);
	assert_int_equal(mfn_x(p2m_linear_pfn_to_mfn(&t.l, _pfn(100))), mfn_x(INVALID_MFN));
	assert_int_equal(p2m_linear_set(&t.l, _pfn(530), 99, &err), 0);
	assert_int_equal(p2m_linear_get(&t.l, _pfn(530)), 99);
	assert_int_equal(p2m_linear_get(&t.l, _pfn(531)), IDENTITY_FRAME(531ULL));
	assert_non_null(p2m_linear_leaf(&t.l, _pfn(600)));
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(1900), _pfn(5000), &err), 100);
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(3000), _pfn(5000), &err), 0);
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(10), _pfn(10), &err), 0);
	/* The tools' tree: a rebuild (resume) keeps frame_list_list. */
	assert_int_equal(p2m_linear_build_mfn_tree(&t.l, &fll, &err), 0);
	assert_int_equal(p2m_linear_build_mfn_tree(&t.l, &again, &err), 0);
	assert_int_equal(mfn_x(fll), mfn_x(again));
	sut_fini(&t);

	/* Above 512 GiB there is no tree: ~0, and the error says why. */
	sut_init(&t, P2M_MAX_PFN + 1, 0, false);
	assert_int_equal(p2m_linear_build_mfn_tree(&t.l, &fll, &err), -1);
	assert_int_equal(err.code, PV_ERR_RANGE);
	assert_int_equal(mfn_x(fll), ~0ULL);
	assert_non_null(strstr(err.msg, "too large for p2m tree"));
	sut_fini(&t);
}

/* Holes are read-only: writing through the array into one faults. */
static void test_shared_pages_read_only(void **state)
{
	struct pv_error err;
	struct sut t;
	int status[2];

	(void)state;
	sut_init(&t, 4096, 0, false);
	assert_int_equal(p2m_linear_set(&t.l, _pfn(5), 1, &err), 0);
	assert_int_equal(p2m_linear_set_identity(&t.l, _pfn(1024), _pfn(2048), &err), 1024);
	for (int k = 0; k < 2; k++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 2);
			signal(SIGSEGV, SIG_DFL); /* cmocka's handler would carry on testing */
			/* k == 0: a private page (fine); k == 1: the shared identity page. */
			((volatile uint64_t *)t.l.array)[k ? 1500 : 6] = 7;
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status[k], 0), pid);
	}
	assert_true(WIFEXITED(status[0]) && WEXITSTATUS(status[0]) == 0);
	assert_true(WIFSIGNALED(status[1]) || (WIFEXITED(status[1]) && WEXITSTATUS(status[1])));
	sut_fini(&t);
}

/*
 * A sequence that meets every allocation and remap: adopt, the tools' tree,
 * a whole GiB 1:1 then a store into it, identity ranges with partial ends,
 * stores past the builder's list.
 */
#define FI_MAX	(5 * PMD + 1000)
#define FI_LIST (3 * PMD + 1000)

static const struct step {
	enum { S_ADOPT, S_TREE, S_SET, S_IDENTITY } kind;
	uint64_t a, b;
} steps[] = {
	{S_ADOPT, 0, 0},
	{S_TREE, 0, 0},
	{S_IDENTITY, PMD, 2 * PMD},		      /* a whole missing GiB: identity_pte */
	{S_SET, PMD + 77, 0x1234},		      /* private PTE page, mid, page */
	{S_IDENTITY, 5000, 9000},		      /* partial blocks in the builder's pages */
	{S_IDENTITY, 2 * PMD - 300, 2 * PMD + 700},   /* across two private PMDs */
	{S_SET, 3 * PMD + 999, 5},		      /* the list's last block */
	{S_SET, 4 * PMD + 5, 7},		      /* past the list: a missing GiB */
	{S_IDENTITY, 4 * PMD + 1024, 4 * PMD + 4700}, /* whole missing blocks, a partial end */
	{S_SET, 4 * PMD + 2000, INVALID_P2M_ENTRY},   /* an identity page made private */
	{S_IDENTITY, 5 * PMD + 100, 7 * PMD},	      /* a partial missing GiB, past max_pfn */
	{S_IDENTITY, FI_LIST + 1024, FI_LIST + 3000}, /* past the list in an adopted GiB */
};

/* After a refused adoption: entries up to the first PMD with entries that is not linked. */
static uint64_t adopted_upto(struct sut *t)
{
	for (uint64_t p = 0; p * PMD < FI_LIST; p++) {
		bool holes = true;

		for (uint64_t b = p * 512; b < p * 512 + 512 && b < t->list_pages; b++)
			holes = holes && hole_block(b);
		if (!holes && t->h.pmd_table[p] == lh_ptr_frame(&t->h, t->l.missing_pte))
			return p * PMD;
	}
	return FI_LIST;
}

/* Run the steps under @fail_at / @refuse_at; 1 if one of them failed, 0 if all completed. */
static int fault_run(long fail_at, long refuse_at)
{
	struct sut t;
	struct p2m_linear_ops ops;
	struct pv_error err;
	struct p2m_linear_adopt_stats st;
	int rc = 0;

	sut_host(&t, FI_MAX, FI_LIST, false);
	t.h.fail_at = fail_at, t.h.refuse_at = refuse_at;
	ops = lh_ops(&t.h);
	if (p2m_linear_init(&t.l, &ops, t.h.va, FI_MAX, &t.h.generation, &err)) {
		assert_int_equal(err.code, fail_at ? PV_ERR_NOMEM : PV_ERR_RANGE);
		sut_fini(&t);
		return 1;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !rc; i++) {
		const struct step *s = &steps[i];

		switch (s->kind) {
		case S_ADOPT:
			rc = p2m_linear_adopt(&t.l, t.list, FI_LIST, &st, &err);
			if (rc) /* no page given back */
				assert_int_equal(t.h.builder, (long)t.list_pages);
			/* A refused PMD: the PMDs before it answer from the list. */
			t.r.nr_entries = rc == 0 ? FI_LIST : refuse_at ? adopted_upto(&t) : 0;
			break;
		case S_TREE:
			rc = p2m_linear_build_mfn_tree(&t.l, &t.fll, &err);
			t.tree = rc == 0;
			break;
		case S_SET:
			rc = p2m_linear_set(&t.l, _pfn(s->a), s->b, &err);
			if (!rc)
				ref_set(&t.r, s->a, s->b);
			break;
		case S_IDENTITY:
			rc = p2m_linear_set_identity(&t.l, _pfn(s->a), _pfn(s->b), &err) < 0;
			if (!rc)
				ref_identity(&t.r, s->a, s->b < FI_MAX ? s->b : FI_MAX);
			/* A refused remap may leave part of the range done: read it back. */
			if (rc && refuse_at)
				for (uint64_t q = s->a; q < s->b && q < FI_MAX; q++)
					ref_set(&t.r, q, p2m_linear_get(&t.l, _pfn(q)));
			break;
		}
		if (rc)
			assert_int_equal(err.code, fail_at ? PV_ERR_NOMEM : PV_ERR_RANGE);
	}
	/* A sample, and every pfn near where a step began or ended. */
	check_some(&t, 0);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (uint64_t d = 1024; d < 3072; d++) {
			if (steps[i].a + d >= 2048)
				check_pfn(&t, steps[i].a + d - 2048);
			if (steps[i].kind == S_IDENTITY)
				check_pfn(&t, steps[i].b + d - 2048);
		}
	sut_fini(&t);
	return rc;
}

static void test_fault_injection(void **state)
{
	int failed = 0, refused = 0;

	(void)state;
	for (long n = 1; fault_run(n, 0); n++)
		failed++;
	for (long n = 1; fault_run(0, n); n++)
		refused++;
	print_message("%d allocation points and %d remaps failed cleanly\n", failed, refused);
	assert_true(failed > 15);
	assert_true(refused > 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_shared_pages_read_only),
		cmocka_unit_test(test_fault_injection),
		cmocka_unit_test(test_tree_and_linear_agree),
		cmocka_unit_test(test_property_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
