/*
 * The boot allocator's spare pages (src/boot/alloc.c), on a platform of
 * its own: NR_PAGES host pages seen at __va, no hypervisor.  The pages
 * start PROT_NONE, so giving one back, which must not touch it while the
 * range table has room, would end the test with SIGSEGV.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "../../src/boot/boot_priv.h"

#define NR_PAGES 4096ULL

static uint8_t *mem;

static void *fake_va_ptr(void *ctx, uint64_t va)
{
	(void)ctx;
	if (va < PAGE_OFFSET || va >= PAGE_OFFSET + NR_PAGES * PAGE_SIZE)
		return NULL;
	return mem + (va - PAGE_OFFSET);
}

static const struct pv_platform fake = {.va_ptr = fake_va_ptr};
static const struct pv_boot_opts opts = {.virt_base = START_KERNEL_MAP};

/* A boot whose __va maps all of [0, NR_PAGES) and whose fresh pages start at @main. */
static void setup(struct boot *b, uint64_t main)
{
	mem = mmap(NULL, NR_PAGES * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	*b = (struct boot){.pf = &fake, .o = &opts, .nr_pages = NR_PAGES};
	b->va_ready = true;
	b->ident_end_pfn = NR_PAGES;
	b->main_base = b->main_next = main;
	b->va_end_pfn = NR_PAGES;
	b->free_head = ~0ULL;
}

static void teardown(void)
{
	munmap(mem, NR_PAGES * PAGE_SIZE);
}

/* Take @n pages and check each is one of [lo, hi) and none comes twice. */
static void take_back(struct boot *b, uint64_t n, uint64_t lo, uint64_t hi)
{
	uint8_t *seen = calloc(NR_PAGES, 1);

	assert_non_null(seen);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = boot_alloc_page(b, false);

		assert_true(pfn >= lo && pfn < hi);
		assert_int_equal(seen[pfn]++, 0);
	}
	free(seen);
}

/* Freed in an order that merges from both sides: one range, every page back once, none touched. */
static void test_merge(void **state)
{
	struct boot b;
	uint64_t x = 12345;
	uint64_t order[1024];

	(void)state;
	setup(&b, 2048);
	for (uint64_t i = 0; i < 1024; i++)
		order[i] = 1024 + i;
	for (uint64_t i = 1023; i > 0; i--) { /* a shuffle: gaps open and close */
		uint64_t j, t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = x % (i + 1);
		t = order[i], order[i] = order[j], order[j] = t;
	}
	for (uint64_t i = 0; i < 1024; i++)
		boot_free(&b, order[i]);
	assert_int_equal(b.nr_spare, 1);
	assert_int_equal(b.spare[0].start, 1024);
	assert_int_equal(b.spare[0].end, 2048);
	assert_int_equal(b.double_frees, 0);
	assert_int_equal(b.free_head, ~0ULL);
	take_back(&b, 1024, 1024, 2048);
	assert_int_equal(b.nr_spare, 0);
	/* Then fresh pages again. */
	mprotect(mem + 2048 * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE);
	assert_int_equal(boot_alloc_page(&b, true), 2048);
	teardown();
}

/* A page given back twice, freed or donated, counts once as a double free and comes back once. */
static void test_double(void **state)
{
	struct boot b;

	(void)state;
	setup(&b, 2048);
	boot_free(&b, 100);
	boot_free(&b, 101);
	boot_free(&b, 100);
	boot_donate(&b, 101);
	boot_donate(&b, 300);
	boot_free(&b, 300);
	assert_int_equal(b.double_frees, 3);
	assert_int_equal(b.nr_spare, 2);
	take_back(&b, 3, 100, 301);
	assert_int_equal(boot_alloc_page(&b, false), 2048);
	teardown();
}

/*
 * Past BOOT_SPARE_RANGES ranges, pages go on the overflow list (these are
 * touched, so made accessible); double frees there are caught by the mark,
 * and every page still comes back once.
 */
static void test_overflow(void **state)
{
	struct boot b;
	uint64_t n = BOOT_SPARE_RANGES + 100;

	(void)state;
	setup(&b, 2048);
	mprotect(mem, 2048 * PAGE_SIZE, PROT_READ | PROT_WRITE);
	for (uint64_t i = 0; i < n; i++) /* every other page: a range each */
		boot_free(&b, 2 * i);
	assert_int_equal(b.nr_spare, BOOT_SPARE_RANGES);
	assert_int_not_equal(b.free_head, ~0ULL);
	boot_free(&b, 2 * (n - 1)); /* listed */
	boot_free(&b, 0);	    /* in a range */
	assert_int_equal(b.double_frees, 2);
	take_back(&b, n, 0, 2 * n);
	assert_int_equal(b.free_head, ~0ULL);
	assert_int_equal(boot_alloc_page(&b, false), 2048);
	teardown();
}

/* A page outside every map may be given back, but is not handed out until reachable. */
static void test_unreachable(void **state)
{
	struct boot b;

	(void)state;
	setup(&b, 2048);
	b.ident_end_pfn = 1024;
	b.main_base = b.main_next = 3000;
	boot_donate(&b, 2000); /* between the builder's L1s and our own map */
	boot_free(&b, 500);
	assert_int_equal(boot_alloc_page(&b, false), 500);
	assert_int_equal(boot_alloc_page(&b, false), 3000);
	assert_int_equal(b.nr_spare, 1);
	teardown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
