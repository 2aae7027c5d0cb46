/*
 * The P2M read from outside the guest (src/core/p2m_read.c) over simulated
 * guests and their memory images (src/sim/dump.c, src/image/memimage.c): 4 GiB with the tree
 * (revector) and with both structures (linear), 600 GiB and 4 TiB with the
 * list only; every pfn equal to the guest's own lookup and the builder's
 * assignment.  Then corrupted entries at each level, named in the error;
 * p2m_generation moving during a read (retried) and never holding, or odd
 * (reported); partial reads and the entry counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>

#include <pvboot/host.h>
#include <pvboot/p2m_linear.h>
#include <pvboot/pgtable.h>

#include "core/p2m_dump_fixture.h"

/*
 * A 4 GiB guest in mode revector publishes only the tree: read through it,
 * from the image and from the live domain, every pfn is the builder's (and
 * the guest verified its own tree against the same, pfn by pfn).
 */
static void test_4g_revector(void **state)
{
	const char *path = scratch_file("4g-revector.img");
	struct pv_memimage *img;
	struct p2m_src src, live;
	struct pv_error err;
	struct sim s;

	(void)state;
	boot_ok(&guest_4g, PV_MODE_REVECTOR, true, &s);
	img = dump_and_open(&s, path);
	src = pv_memimage_p2m_src(img);
	live = sim_p2m_src(&s);
	expect_every_pfn(&s, &src, P2M_VIA_TREE, false);
	expect_every_pfn(&s, &live, P2M_VIA_TREE, false);
	/* The same as the tree walked by hand (boot_fixture.h). */
	for (uint64_t pfn = 0; pfn < guest_4g.nr_pages; pfn += 4099)
		assert_int_equal(tools_read(&s, pfn), mfn_x(sim_pfn_to_mfn(&s, _pfn(pfn))));
	assert_int_equal(begin_via(&src, P2M_VIA_LIST, &err), -1);
	assert_string_equal(err.msg,
			    "no linear p2m list: p2m_cr3 is 0 (the guest publishes only the 3-level tree)");
	pv_memimage_close(img);
	unlink(path);
	sim_fini(&s);
}

/*
 * 4 GiB in mode linear publishes both: tree, list, the guest's own load at
 * P2M_LINEAR_VADDR + 8 * pfn and the builder agree on every pfn, from the
 * image and from the live domain.
 */
static void test_4g_linear(void **state)
{
	const char *path = scratch_file("4g-linear.img");
	struct pv_memimage *img;
	struct p2m_src src, live;
	struct sim s;

	(void)state;
	boot_ok(&guest_4g, PV_MODE_LINEAR, true, &s);
	img = dump_and_open(&s, path);
	src = pv_memimage_p2m_src(img);
	live = sim_p2m_src(&s);
	expect_every_pfn(&s, &src, P2M_VIA_TREE | P2M_VIA_LIST, true);
	expect_every_pfn(&s, &live, P2M_VIA_TREE | P2M_VIA_LIST, true);
	pv_memimage_close(img);
	unlink(path);
	sim_fini(&s);
}

/*
 * Past 512 GiB: no tree (frame_list_list ~0, and the reader says why in
 * libxenguest's words), the list answers for every pfn.
 */
static void big(const struct guest_case *g, const char *name)
{
	const char *path = scratch_file(name);
	struct pv_memimage *img;
	struct p2m_src src;
	struct pv_error err;
	struct sim s;
	char want[300];
	double t0 = pv_now(), t1, t2;

	boot_ok(g, PV_MODE_LINEAR, false, &s);
	t1 = pv_now();
	img = dump_and_open(&s, path);
	t2 = pv_now();
	src = pv_memimage_p2m_src(img);
	assert_int_equal(begin_via(&src, P2M_VIA_TREE, &err), -1);
	snprintf(want, sizeof(want),
		 "no p2m tree: frame_list_list is ~0 and max_pfn %#llx too large for p2m tree (%llu pfns; the 3-level tree holds 134217728, 512 GiB)",
		 (unsigned long long)(g->nr_pages - 1), (unsigned long long)g->nr_pages);
	assert_non_null(strstr(err.msg, want));
	expect_every_pfn(&s, &src, P2M_VIA_LIST, true);
	print_message("%s: boot %.2f s, image %llu bytes in %.2f s, %llu records; every pfn read and compared in %.2f s\n",
		      name, t1 - t0, (unsigned long long)img->file_bytes, t2 - t1,
		      (unsigned long long)img->nr_rec, pv_now() - t2);
	/* A few MiB, whatever the guest's size: the list and its PTEs are arithmetic. */
	assert_true(img->file_bytes < 8 << 20);
	pv_memimage_close(img);
	unlink(path);
	sim_fini(&s);
}

static void test_600g(void **state)
{
	(void)state;
	big(&guest_600g, "600g.img");
}

static void test_4t(void **state)
{
	(void)state;
	big(&guest_4t, "4t.img");
}

/* The error a whole read through @via of @s's image ends with. */
static const char *read_error(struct sim *s, enum p2m_via via)
{
	static struct pv_error err;
	const char *path = scratch_file("corrupt.img");
	struct pv_memimage *img = dump_and_open(s, path);
	struct p2m_src src = pv_memimage_p2m_src(img);
	struct p2m_reader *r = calloc(1, sizeof(*r));
	struct expect x = {.s = s};
	struct p2m_sink sink = {&x, expect_restart, expect_block};
	struct p2m_read_stats st;

	assert_non_null(r);
	if (p2m_read(&src, via == P2M_VIA_TREE ? r : NULL, via == P2M_VIA_LIST ? r : NULL, 0, ~0ULL,
		     &sink, &st, &err) == 0)
		fail_msg("the read went through");
	free(r);
	pv_memimage_close(img);
	unlink(path);
	return err.msg;
}

static const shared_info_t *shared(struct sim *s)
{
	return sim_frame(s, _mfn(s->shared_info_mfn));
}

/*
 * The tools' tree with a bad frame number in its frame_list_list and in a
 * frame list (mid page): the read stops naming level, index and value.
 */
static void test_corrupt_tree(void **state)
{
	struct sim s;
	uint64_t *fll, *mid, keep, fll_mfn, mid_mfn;
	char want[300];

	(void)state;
	boot_ok(&guest_4g, PV_MODE_LINEAR, false, &s);
	fll_mfn = shared(&s)->arch.pfn_to_mfn_frame_list_list;
	fll = sim_frame(&s, _mfn(fll_mfn));
	mid_mfn = fll[0];
	mid = sim_frame(&s, _mfn(mid_mfn));

	keep = mid[17];
	mid[17] = 0x123; /* below the domain: Xen's */
	snprintf(want, sizeof(want),
		 "Bad mfn 0x123 at index 17 in p2m frame list (level 2, mfn %#llx; p2m_frame_list[17], pfns 0x2200-0x23ff): not the domain's frame (no M2P entry)",
		 (unsigned long long)mid_mfn);
	assert_string_equal(read_error(&s, P2M_VIA_TREE), want);
	mid[17] = 0;
	assert_non_null(strstr(read_error(&s, P2M_VIA_TREE),
			       "Bad mfn 0 at index 17 in p2m frame list (level 2"));
	mid[17] = fll_mfn; /* the top again: a cycle */
	assert_non_null(
		strstr(read_error(&s, P2M_VIA_TREE), "a table already on this path (a cycle)"));
	mid[17] = keep;

	keep = fll[1];
	fll[1] = s.nr_frames + 5;
	snprintf(want, sizeof(want),
		 "Bad mfn %#llx at index 1 (of 4) in p2m frame list list (level 3, mfn %#llx): beyond the host's last machine frame",
		 (unsigned long long)(s.nr_frames + 5), (unsigned long long)fll_mfn);
	assert_string_equal(read_error(&s, P2M_VIA_TREE), want);
	fll[1] = keep;
	/* The list is untouched: it still reads. */
	{
		const char *path = scratch_file("fine.img");
		struct pv_memimage *img = dump_and_open(&s, path);
		struct p2m_src src = pv_memimage_p2m_src(img);

		expect_every_pfn(&s, &src, P2M_VIA_TREE | P2M_VIA_LIST, false);
		pv_memimage_close(img);
		unlink(path);
	}
	sim_fini(&s);
}

/* The table at @level (4..1) on the walk to @va from the guest's p2m_cr3. */
static uint64_t *table_at(struct sim *s, uint64_t va, int level, uint64_t *mfn)
{
	uint64_t m = shared(s)->arch.p2m_cr3 >> PAGE_SHIFT;

	for (int l = PT_L4; l > level; l--)
		m = mfn_x(pte_mfn(((uint64_t *)sim_frame(s, _mfn(m)))[pt_index(va, l)]));
	*mfn = m;
	return sim_frame(s, _mfn(m));
}

/*
 * The list's page tables with a bad PTE (a frame not the domain's, mfn 0,
 * a PMD not present, a 2 MiB page, an L3 entry pointing back at the L4),
 * and max_pfn below the list's own pages: each named.
 */
static void test_corrupt_list(void **state)
{
	const uint64_t va = P2M_LINEAR_VADDR;
	struct sim s;
	uint64_t *l1, *l2, *l3, *l4, keep, l1m, l2m, l3m, l4m;
	char want[400];
	shared_info_t *sh;

	(void)state;
	boot_ok(&guest_4g, PV_MODE_LINEAR, false, &s);
	sh = sim_frame(&s, _mfn(s.shared_info_mfn));
	l1 = table_at(&s, va, PT_L1, &l1m);
	l2 = table_at(&s, va, PT_L2, &l2m);
	l3 = table_at(&s, va, PT_L3, &l3m);
	l4 = table_at(&s, va, PT_L4, &l4m);

	keep = l1[5];
	l1[5] = pte_make(_mfn(0x123), P2M_LINEAR_PTE_RO);
	snprintf(want, sizeof(want),
		 "Bad mfn 0x123 during page table walk for vaddr 0xffffc90000005000 at level 1 of p2m list (table mfn %#llx, index 5, entry %#llx): not the domain's frame (no M2P entry)",
		 (unsigned long long)l1m, (unsigned long long)l1[5]);
	assert_string_equal(read_error(&s, P2M_VIA_LIST), want);
	l1[5] = pte_make(_mfn(0), P2M_LINEAR_PTE_RO);
	assert_non_null(strstr(read_error(&s, P2M_VIA_LIST), "at level 1 of p2m list (table mfn"));
	assert_non_null(strstr(read_error(&s, P2M_VIA_LIST), "): mfn 0 is no guest's frame"));
	l1[5] = keep;

	keep = l2[1];
	l2[1] = 0;
	snprintf(want, sizeof(want),
		 "p2m list: nothing mapped at vaddr 0xffffc90000200000: entry 1 of the level 2 table (mfn %#llx) is 0, not present",
		 (unsigned long long)l2m);
	assert_string_equal(read_error(&s, P2M_VIA_LIST), want);
	l2[1] = keep | _PAGE_PSE;
	assert_non_null(
		strstr(read_error(&s, P2M_VIA_LIST),
		       "a 2 MiB page (_PAGE_PSE) for vaddr 0xffffc90000200000: PV guests map their P2M list with 4 KiB pages"));
	l2[1] = keep;

	keep = l4[pt_index(va, PT_L4)];
	l4[pt_index(va, PT_L4)] = keep | _PAGE_PSE;
	assert_non_null(
		strstr(read_error(&s, P2M_VIA_LIST),
		       "with _PAGE_PSE set, a bit x86 reserves in an L4 entry (vaddr 0xffffc90000000000)"));
	l4[pt_index(va, PT_L4)] = keep;

	keep = l3[pt_index(va, PT_L3)];
	l3[pt_index(va, PT_L3)] = pte_make(_mfn(l4m), PT_PROT_UPPER);
	snprintf(want, sizeof(want),
		 "at level 3 of p2m list (table mfn %#llx, index 0, entry %#llx): a table already on this path (a cycle)",
		 (unsigned long long)l3m, (unsigned long long)pte_make(_mfn(l4m), PT_PROT_UPPER));
	assert_non_null(strstr(read_error(&s, P2M_VIA_LIST), want));
	l3[pt_index(va, PT_L3)] = keep;

	/* The list's pages lie past pfn 0x1000 (after the kernel): not P2M frames then. */
	keep = sh->arch.max_pfn;
	sh->arch.max_pfn = 0x1000;
	assert_non_null(strstr(read_error(&s, P2M_VIA_LIST), "): its M2P pfn is at or past max_pfn"));
	sh->arch.max_pfn = keep;

	keep = sh->arch.p2m_cr3;
	sh->arch.p2m_cr3 = 0x5000; /* mfn 5 */
	assert_string_equal(read_error(&s, P2M_VIA_LIST),
			    "Bad p2m_cr3 value 0x5000 (mfn 0x5): not the domain's frame (no M2P entry)");
	sh->arch.p2m_cr3 = keep;
	keep = sh->arch.p2m_vaddr;
	sh->arch.p2m_vaddr = 0xffff800000000000ULL; /* Xen's */
	assert_non_null(strstr(read_error(&s, P2M_VIA_LIST),
			       "Bad virtual p2m address range 0xffff800000000000-0xffff8000007fffff"));
	sh->arch.p2m_vaddr = keep;
	sim_fini(&s);
}

/* A source over another that moves p2m_generation, or fails a frame once. */
struct flaky {
	const struct p2m_src *inner;
	uint64_t gen;
	int bump_arch;	  /* bump on this many more arch reads; -1: on every one */
	uint64_t frames;  /* frames read so far */
	uint64_t bump_at; /* bump when this frame is read (1, 2, ...; 0: never) */
	uint64_t fail_at; /* make the read of this frame fail */
	bool odd;
};

static int flaky_arch(void *ctx, struct p2m_arch *a, struct pv_error *err)
{
	struct flaky *f = ctx;

	if (f->inner->arch(f->inner->ctx, a, err))
		return -1;
	a->p2m_generation = f->gen | f->odd;
	if (f->bump_arch) {
		f->gen += 2;
		if (f->bump_arch > 0)
			f->bump_arch--;
	}
	return 0;
}

static uint64_t flaky_m2p(void *ctx, mfn_t mfn, uint64_t *run)
{
	struct flaky *f = ctx;

	return f->inner->m2p(f->inner->ctx, mfn, run);
}

static int flaky_frame(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err)
{
	struct flaky *f = ctx;

	if (++f->frames == f->bump_at)
		f->gen += 2;
	if (f->frames == f->fail_at)
		return pv_fail(err, PV_ERR_FORMAT, "the frame went away");
	return f->inner->frame(f->inner->ctx, mfn, page, err);
}

/* Read all of @f through the list; the read's error or "" and its stats. */
static const char *flaky_read(struct sim *s, struct flaky *f, struct p2m_read_stats *st,
			      uint64_t *restarts)
{
	static struct pv_error err;
	struct p2m_src src = {f, f->inner->max_mfn, flaky_arch, flaky_m2p, flaky_frame};
	struct p2m_reader *r = calloc(1, sizeof(*r));
	struct expect x = {.s = s};
	struct p2m_sink sink = {&x, expect_restart, expect_block};
	int rc;

	assert_non_null(r);
	rc = p2m_read(&src, NULL, r, 0, ~0ULL, &sink, st, &err);
	free(r);
	*restarts = x.restarts;
	if (rc)
		return err.msg;
	assert_int_equal(x.pfns, s->nr_pages);
	return "";
}

/*
 * p2m_generation moves between the two reads of shared_info, or in the
 * middle of the walk, or while a frame goes bad: the read starts again and
 * then holds.  When it never holds, or stays odd, the reader gives up after
 * P2M_READ_TRIES reads with the reason.
 */
static void test_generation(void **state)
{
	const char *path = scratch_file("gen.img");
	struct p2m_read_stats st;
	struct pv_memimage *img;
	struct p2m_src inner;
	uint64_t restarts;
	struct sim s;

	(void)state;
	boot_ok(&guest_4g, PV_MODE_LINEAR, false, &s);
	img = dump_and_open(&s, path);
	inner = pv_memimage_p2m_src(img);

	struct flaky once = {.inner = &inner, .bump_arch = 1};
	assert_string_equal(flaky_read(&s, &once, &st, &restarts), "");
	assert_int_equal(st.tries, 2);
	assert_int_equal(st.generation, 2);
	assert_int_equal(restarts, 1);

	struct flaky mid = {.inner = &inner, .bump_at = 700};
	assert_string_equal(flaky_read(&s, &mid, &st, &restarts), "");
	assert_int_equal(st.tries, 2);
	assert_int_equal(restarts, 1);

	struct flaky gone = {.inner = &inner, .bump_at = 300, .fail_at = 300};
	assert_string_equal(flaky_read(&s, &gone, &st, &restarts), "");
	assert_int_equal(st.tries, 2);

	/* A frame that goes bad while the generation holds is an error at once. */
	struct flaky bad = {.inner = &inner, .fail_at = 300};
	assert_non_null(strstr(flaky_read(&s, &bad, &st, &restarts), ": the frame went away"));
	assert_int_equal(restarts, 0);

	struct flaky always = {.inner = &inner, .bump_arch = -1};
	assert_string_equal(flaky_read(&s, &always, &st, &restarts),
			    "p2m generation count changed (0x1c -> 0x1e) during each of 8 reads: the guest keeps remapping its P2M list");
	assert_int_equal(restarts, P2M_READ_TRIES - 1);

	struct flaky odd = {.inner = &inner, .gen = 6, .odd = true};
	assert_string_equal(flaky_read(&s, &odd, &st, &restarts),
			    "p2m_generation 0x7 is odd on each of 8 tries: the guest is in the middle of remapping its P2M list");
	pv_memimage_close(img);

	/* An odd generation written in an image: reported the same way. */
	int fd = open(path, O_WRONLY);
	uint64_t g = 9;
	struct pv_error err;

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &g, 8,
				sizeof(struct pv_memimage_header) +
					offsetof(shared_info_t, arch.p2m_generation)),
			 8);
	close(fd);
	assert_int_equal(pv_memimage_open(path, &img, &err), 0);
	inner = pv_memimage_p2m_src(img);
	struct flaky plain = {.inner = &inner, .gen = 8, .odd = true};
	assert_string_equal(flaky_read(&s, &plain, &st, &restarts),
			    "p2m_generation 0x9 is odd on each of 8 tries: the guest is in the middle of remapping its P2M list");
	pv_memimage_close(img);
	unlink(path);
	sim_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4g_revector),  cmocka_unit_test(test_4g_linear),
		cmocka_unit_test(test_600g),	     cmocka_unit_test(test_4t),
		cmocka_unit_test(test_corrupt_tree), cmocka_unit_test(test_corrupt_list),
		cmocka_unit_test(test_generation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
