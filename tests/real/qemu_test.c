/*
 * The CPU pvboot run gives QEMU, against the real qemu-system-x86_64: for
 * RAM sizes on both sides of where TCG's 40 physical-address bits stop
 * sufficing (1009 and 1010 GiB, docs/real-xen.md section 4), QEMU is started
 * with the machine run_qemu_common() asks for and a kernel that does not
 * exist.  Past memory setup QEMU stops at the kernel; with too few bits it
 * stops before, saying "phys-bits too low".  Where pvboot adds phys-bits,
 * QEMU without them must refuse, so the default CPU is kept wherever it
 * works.  Nothing boots and no memory is touched (reserve=off).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/harness/harness_priv.h"
#include "util/run.h"

#define GiB_MIB 1024ULL

/* QEMU's verdict on @mib of RAM with @cpu (NULL: the one pvboot chooses). */
static struct run probe(uint64_t mib, const char *cpu)
{
	struct run_cmdline *c = calloc(1, sizeof(*c));
	struct pv_error err = {0};
	char sh[4096];
	size_t used = 0, n = 0;
	struct run r;

	assert_non_null(c);
	assert_int_equal(run_qemu_common(c, &used, &err, mib, 1, false), 0);
	assert_int_equal(run_cmd_add(c, &used, &err, "-S"), 0);
	assert_int_equal(run_cmd_add(c, &used, &err, "-kernel"), 0);
	assert_int_equal(run_cmd_add(c, &used, &err, "%s/no-such-kernel", scratch_dir()), 0);
	for (unsigned i = 0; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (cpu && i > 0 && !strcmp(c->argv[i - 1], "-cpu"))
			a = cpu;
		n += (size_t)snprintf(sh + n, sizeof(sh) - n, "'%s' ", a);
		assert_true(n < sizeof(sh));
	}
	free(c);
	r = run_sh("timeout 30 %s", sh);
	return r;
}

static void expect_starts(uint64_t mib, const char *cpu)
{
	struct run r = probe(mib, cpu);

	if (!strstr(r.err, "could not open kernel file"))
		fail_msg("%llu MiB, -cpu %s: QEMU did not reach the kernel: %s",
			 (unsigned long long)mib, cpu ? cpu : "(pvboot's)", r.err);
	run_free(&r);
}

static void expect_refused(uint64_t mib, const char *cpu)
{
	struct run r = probe(mib, cpu);

	if (!strstr(r.err, "phys-bits too low"))
		fail_msg("%llu MiB, -cpu %s: QEMU did not refuse: %s", (unsigned long long)mib, cpu,
			 r.err);
	run_free(&r);
}

static void test_phys_bits(void **state)
{
	static const struct {
		uint64_t mib;
		unsigned bits; /* what run_qemu_phys_bits says; 0: QEMU's default */
	} cases[] = {
		{1792, 0},
		{600 * GiB_MIB + 256, 0},
		{1009 * GiB_MIB, 0}, /* RAM ends at 1010 GiB, the PCI hole at 1012 */
		/* RAM's end rounds up to 1011 GiB: the hole passes 1012, RAM moves above 1 TiB. */
		{1009 * GiB_MIB + 256, 42},
		{1010 * GiB_MIB, 42},
		{1023 * GiB_MIB, 42},
		{1057024, 42}, /* the 1000 GiB dom0 */
		{3073 * GiB_MIB, 42},
		{3074 * GiB_MIB, 43}, /* RAM and hole end past 4 TiB */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char cpu[40];

		assert_int_equal(run_qemu_phys_bits(cases[i].mib), cases[i].bits);
		expect_starts(cases[i].mib, NULL);
		if (!cases[i].bits)
			continue;
		expect_refused(cases[i].mib, "max,-smap");
		snprintf(cpu, sizeof(cpu), "max,-smap,phys-bits=%u", cases[i].bits - 1);
		if (cases[i].bits > 42)
			expect_refused(cases[i].mib, cpu);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phys_bits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
