/*
 * What "clean" means, as a property (docs/boot.md section 4, step 6): after
 * mode revector or mode linear, __ka maps nothing but the kernel's own
 * PMDs and the module, for random guests: memory, ramdisk, kernel extent,
 * builder, INIT_P2M and the unmapped initrd drawn at random.  The guest's
 * ka_pmds_left must say 0, and a walk of its tables from outside must agree.
 *
 * The seed is printed; PVBOOT_TEST_SEED=N repeats a run, and
 * PVBOOT_KA_CASES=N sets how many guests it draws (default 2000; the
 * sanitizer run of make check draws 250).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/boot_fixture.h"

#define DEFAULT_CASES 2000

static uint64_t rng;

/* splitmix64: every draw from one 64-bit state, so a seed repeats a run. */
static uint64_t draw(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [lo, hi], spread evenly over its powers of two. */
static uint64_t draw_log(uint64_t lo, uint64_t hi)
{
	unsigned blo = 63 - __builtin_clzll(lo), bhi = 63 - __builtin_clzll(hi);
	unsigned bits = blo + (unsigned)(draw() % (bhi - blo + 1));
	uint64_t v = (1ULL << bits) | (draw() & ((1ULL << bits) - 1));

	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	v = strtoull(s, &end, 0);
	if (*end)
		fail_msg("%s=%s is not a number", name, s);
	return v;
}

/* One random guest: 32 MiB to 32 GiB, any ramdisk up to 300 MiB, any kernel. */
static void draw_case(struct guest_case *g, enum pv_boot_mode *mode)
{
	bool modern;

	g->builder = (enum pv_builder)(draw() % PV_BUILDER_NR);
	modern = g->builder != PV_BUILDER_LIBXC_42;
	g->nr_pages = draw_log(8192, 8ULL << 20);
	g->ramdisk = draw() % 4 ? draw_log(1, 300ULL << 20) : 0;
	/* Linux's _text sits on a 2 MiB boundary (CONFIG_PHYSICAL_ALIGN); its end anywhere. */
	extra.kstart = START_KERNEL_MAP + (1 + draw() % 16) * PMD_SIZE;
	extra.kend = extra.kstart + draw_log(64 << 10, 48ULL << 20);
	*mode = draw() % 2 ? PV_MODE_LINEAR : PV_MODE_REVECTOR;
	g->p2m_base = modern && *mode == PV_MODE_LINEAR && draw() % 2 ? LINUX_INIT_P2M
								      : PV_UNSET_ADDR;
	g->unmapped = modern && draw() % 2;
}

/* The first __ka address that is mapped and neither the kernel's nor the module's. */
static uint64_t stray_ka(struct sim *s)
{
	uint64_t kend = (kernel_end() + PMD_SIZE - 1) & ~(PMD_SIZE - 1);

	for (uint64_t va = START_KERNEL_MAP; va < START_KERNEL_MAP + PUD_SIZE; va += PMD_SIZE) {
		if (va >= kernel_start() && va < kend)
			continue;
		if (va == MODULES_VADDR)
			continue;
		if (!mfn_eq(sim_va_mfn(s, va), INVALID_MFN))
			return va;
	}
	/* The rest of module space, under L3 slot 511. */
	if (!mfn_eq(sim_va_mfn(s, START_KERNEL_MAP + PUD_SIZE), INVALID_MFN))
		return START_KERNEL_MAP + PUD_SIZE;
	return 0;
}

static void test_ka_clean_property(void **state)
{
	uint64_t seed = env_u64("PVBOOT_TEST_SEED", (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	uint64_t cases = env_u64("PVBOOT_KA_CASES", DEFAULT_CASES), refused = 0;

	(void)state;
	rng = seed;
	print_message("seed %llu (repeat with PVBOOT_TEST_SEED=%llu), %llu guests\n",
		      (unsigned long long)seed, (unsigned long long)seed,
		      (unsigned long long)cases);
	for (uint64_t i = 0; i < cases; i++) {
		struct guest_case g = {0};
		enum pv_boot_mode mode;
		struct pv_boot_opts o;
		struct pv_boot_result r;
		struct pv_platform pf;
		struct pv_error err;
		struct sim s;
		uint64_t stray;

		draw_case(&g, &mode);
		o = boot_opts(mode, 0, false);
		if (try_build_one(&g, &s, &pf, &err)) {
			/* A builder may refuse a guest; only for its own reasons. */
			if (pv_err_is_usage(err.code))
				fail_msg("case %llu: bad input, not a refusal: %s",
					 (unsigned long long)i, err.msg);
			refused++;
			continue;
		}
		if (pv_boot(&pf, &o, &r) || r.error[0] || !r.module_ran ||
		    r.module_vaddr != MODULES_VADDR || r.ka_pmds_left || r.mismatches ||
		    r.pages_leaked || (stray = stray_ka(&s)))
			fail_msg("seed %llu, case %llu: %s, %llu pages, ramdisk %llu%s, kernel 0x%llx-0x%llx, "
				 "mode %s, INIT_P2M %s: ka_pmds_left %llu, first stray __ka PMD 0x%llx, "
				 "module %s, error '%s'\n%s",
				 (unsigned long long)seed, (unsigned long long)i,
				 pv_builder_name(g.builder), (unsigned long long)g.nr_pages,
				 (unsigned long long)g.ramdisk, g.unmapped ? " (unmapped)" : "",
				 (unsigned long long)extra.kstart, (unsigned long long)extra.kend,
				 pv_boot_mode_name(mode), g.p2m_base == PV_UNSET_ADDR ? "no" : "yes",
				 (unsigned long long)r.ka_pmds_left,
				 (unsigned long long)stray_ka(&s), r.module_alloc, r.error,
				 s.console);
		sim_fini(&s);
	}
	print_message("%llu guests booted clean, %llu refused by their builder\n",
		      (unsigned long long)(cases - refused), (unsigned long long)refused);
	/* The draw must mostly give guests that boot, or it tests nothing. */
	assert_true(refused * 10 <= cases);
}

/*
 * The guests that found the two faults, fixed: with every builder, the
 * padding's PMD past the page tables (64 GiB with 1 MiB of ramdisk, 16 GiB
 * with 12,345,678 bytes); and a 347 MiB dom0 whose INIT_P2M list the
 * simulated builder put past the guest's last pfn, where the boot's first
 * read of the list crashed.
 */
static void test_found_cases(void **state)
{
	static const struct {
		uint64_t pages, ramdisk;
		enum pv_boot_mode mode;
		bool init_p2m;
	} found[] = {
		{64ULL << 18, 1 << 20, PV_MODE_REVECTOR, false},
		{16ULL << 18, 12345678, PV_MODE_REVECTOR, false},
		{88974, 131187738, PV_MODE_LINEAR, true},
	};

	(void)state;
	extra = (struct boot_extra){0};
	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
		for (int b = 0; b < PV_BUILDER_NR; b++) {
			struct guest_case g = {(enum pv_builder)b, found[i].pages, found[i].ramdisk,
					       PV_UNSET_ADDR, false};
			struct pv_boot_result r;
			struct sim s;

			if (found[i].init_p2m && b != PV_BUILDER_LIBXC_42)
				g.p2m_base = LINUX_INIT_P2M;
			assert_int_equal(boot_one(&g, found[i].mode, 0, false, &s, &r), 0);
			if (r.ka_pmds_left || stray_ka(&s) || !r.module_ran || r.error[0])
				fail_msg("%s, %llu pages: %s", pv_builder_name(g.builder),
					 (unsigned long long)g.nr_pages, s.console);
			sim_fini(&s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found_cases),
		cmocka_unit_test(test_ka_clean_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
