/*
 * Simulated guests, their memory images, and the check that a P2M read from
 * outside (p2m_read.h) answers for every pfn what the builder assigned and
 * what the guest itself loads.  Static functions in a header, for
 * tests/core/p2m_read_test.c and tests/cli/p2m_dump_test.c.  Include after
 * <cmocka.h>.
 */
#ifndef PVBOOT_TESTS_P2M_DUMP_FIXTURE_H
#define PVBOOT_TESTS_P2M_DUMP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvboot/memimage.h>
#include <pvboot/p2m_read.h>
#include <pvboot/sim_machine.h>
#include "boot/boot_fixture.h"
#include "util/run.h"

/* The guests of the tests: 4 GiB, and 600 GiB and 4 TiB, past the 3-level tree's 512 GiB. */
static const struct guest_case guest_4g = {PV_BUILDER_LIBXC_417, 1ULL << 20, 1 << 20, PV_UNSET_ADDR,
					   false};
static const struct guest_case guest_600g = {PV_BUILDER_XEN_417_DOM0, 600ULL << 18, 1 << 20,
					     LINUX_INIT_P2M, true};
static const struct guest_case guest_4t = {PV_BUILDER_XEN_417_DOM0, 4ULL << 28, 1 << 20, LINUX_INIT_P2M,
					   true};

/* scratch_dir()/@name: a file the test makes and removes. */
static const char *scratch_file(const char *name)
{
	static char path[4][600];
	static unsigned next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", scratch_dir(), name);
	return p;
}

/* Boot @g in @mode (every pfn verified inside the guest when @full). */
static void boot_ok(const struct guest_case *g, enum pv_boot_mode mode, bool full, struct sim *s)
{
	struct pv_boot_result r;

	if (boot_one(g, mode, 0, full, s, &r) || r.mismatches || r.error[0])
		fail_msg("boot: %s", s->console);
	if (full && r.pfns_verified != g->nr_pages)
		fail_msg("the guest verified %llu of %llu pfns",
			 (unsigned long long)r.pfns_verified, (unsigned long long)g->nr_pages);
}

/* Write @s's image to @path and open it. */
static struct pv_memimage *dump_and_open(struct sim *s, const char *path)
{
	struct pv_sim_dump_stats st;
	struct pv_memimage *img;
	struct pv_error err;

	if (sim_dump(s, path, &st, &err))
		fail_msg("dump: %s", err.msg);
	if (pv_memimage_open(path, &img, &err))
		fail_msg("open: %s", err.msg);
	return img;
}

/* The sink that checks every pfn: tree == list == guest load == builder. */
struct expect {
	struct sim *s;
	bool guest_list; /* the guest's own lookup: its linear list at P2M_LINEAR_VADDR */
	uint64_t pfns, restarts;
	uint64_t want[P2M_PER_PAGE]; /* the builder's, for the block at hand */
};

static void expect_restart(void *ctx)
{
	struct expect *x = ctx;

	x->restarts++;
	x->pfns = 0;
}

static int expect_block(void *ctx, uint64_t pfn, const uint64_t *tree, const uint64_t *list,
			unsigned n, struct pv_error *err)
{
	struct expect *x = ctx;
	const uint64_t *guest = NULL;

	(void)err;
	if (x->pfns != pfn)
		fail_msg("block at pfn 0x%llx after 0x%llx pfns", (unsigned long long)pfn,
			 (unsigned long long)x->pfns);
	/* One page of the array per block: one walk of the guest's tables. */
	if (x->guest_list && !(guest = sim_va_ptr(x->s, P2M_LINEAR_VADDR + pfn * 8)))
		fail_msg("pfn 0x%llx: the guest's list is not mapped", (unsigned long long)pfn);
	for (unsigned i = 0; i < n; i++)
		x->want[i] = mfn_x(sim_pfn_to_mfn(x->s, _pfn(pfn + i)));
	if ((tree && memcmp(tree, x->want, n * 8)) || (list && memcmp(list, x->want, n * 8)) ||
	    (guest && memcmp(guest, x->want, n * 8))) {
		for (unsigned i = 0; i < n; i++)
			if ((tree && tree[i] != x->want[i]) || (list && list[i] != x->want[i]) ||
			    (guest && guest[i] != x->want[i]))
				fail_msg("pfn 0x%llx: tree 0x%llx, list 0x%llx, guest 0x%llx, builder 0x%llx",
					 (unsigned long long)(pfn + i),
					 (unsigned long long)(tree ? tree[i] : 0),
					 (unsigned long long)(list ? list[i] : 0),
					 (unsigned long long)(guest ? guest[i] : 0),
					 (unsigned long long)x->want[i]);
	}
	x->pfns += n;
	return 0;
}

/* Read every pfn of @src through @vias and check each as expect_block does. */
__attribute__((unused)) static void expect_every_pfn(struct sim *s, const struct p2m_src *src,
						     unsigned vias, bool guest_list)
{
	struct p2m_reader *rd = calloc(2, sizeof(*rd));
	struct expect x = {.s = s, .guest_list = guest_list};
	struct p2m_sink sink = {&x, expect_restart, expect_block};
	struct p2m_read_stats st;
	struct pv_error err;

	assert_non_null(rd);
	if (p2m_read(src, vias & P2M_VIA_TREE ? &rd[0] : NULL, vias & P2M_VIA_LIST ? &rd[1] : NULL,
		     0, ~0ULL, &sink, &st, &err))
		fail_msg("read: %s", err.msg);
	assert_int_equal(x.pfns, s->nr_pages);
	assert_int_equal(st.nr_pfns, s->nr_pages);
	assert_int_equal(st.tries, 1);
	assert_int_equal(x.restarts, 0);
	free(rd);
}

/* Begin reading @src via @via: 0, or -1 with the reader's message in @msg. */
__attribute__((unused)) static int begin_via(const struct p2m_src *src, enum p2m_via via,
					     struct pv_error *err)
{
	struct p2m_reader *r = calloc(1, sizeof(*r));
	struct p2m_arch a;
	int rc;

	assert_non_null(r);
	assert_int_equal(src->arch(src->ctx, &a, err), 0);
	rc = p2m_reader_begin(r, src, via, &a, err);
	free(r);
	return rc;
}

#endif
