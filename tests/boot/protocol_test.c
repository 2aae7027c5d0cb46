/*
 * The guest protocol (src/boot/protocol.c): the kernel's command line, its
 * exit codes and its PVBOOT-RESULT line, each written and read back by the
 * one piece of code the kernel and the harness share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/protocol.h>

/* A result with every field set to something a bug would not produce by chance. */
static struct pv_boot_result sample(void)
{
	struct pv_boot_result r = {
		.mode = PV_MODE_LINEAR,
		.nr_pages = 33554432,
		.p2m_leaves_copied = 65536,
		.ka_pmds_removed = 268,
		.ka_pmds_left = 1,
		.pfns_verified = 33554431,
		.mismatches = 2,
		.module_ok = false,
		.module_vaddr = 0xffffffffa0000000ULL,
		.module_ran = true,
		.ramdisk_bytes = 0x10784000,
		.ramdisk_sum = 0x0123456789abcdefULL,
		.ramdisk_ok = 0,
		.pages_allocated = 66061,
		.pages_freed = 65536,
		.pages_leaked = -3,
		.pages_double_freed = 5,
	};

	snprintf(r.module_alloc, sizeof(r.module_alloc),
		 "vmalloc: allocation failure, allocated 16384 of 20480 bytes");
	/* Quotes, a backslash, control bytes and UTF-8: all must survive the trip. */
	snprintf(r.error, sizeof(r.error), "a \"quoted\" C:\\path,\ttab\nline \xc3\xa9 \x01 end");
	return r;
}

static void assert_same_result(const struct pv_boot_result *a, const struct pv_boot_result *b)
{
	for (int f = 0; f < PV_RF_NR; f++) {
		char x[200], y[200];

		assert_int_equal(pv_result_value(a, (enum pv_result_field)f, x, sizeof(x)),
				 pv_result_value(b, (enum pv_result_field)f, y, sizeof(y)));
		assert_string_equal(x, y);
	}
}

static void test_result_round_trip(void **state)
{
	struct pv_boot_result r = sample(), back = {0};
	char line[PV_RESULT_JSON_MAX];
	struct pv_error err = {0};
	uint32_t which;

	(void)state;
	pv_result_format(&r, PV_RF_ALL, line, sizeof(line));
	assert_int_equal(pv_result_parse(line, &back, &which, &err), 0);
	assert_int_equal(which, PV_RF_ALL);
	assert_same_result(&r, &back);
	assert_int_equal(back.pages_leaked, -3);
	assert_int_equal(back.ramdisk_ok, 0);
	assert_string_equal(back.error, r.error);
	assert_false(back.module_ok); /* module_alloc is not "ok" */

	/* null, true, the largest numbers. */
	r.ramdisk_ok = -1;
	r.nr_pages = UINT64_MAX;
	r.pages_leaked = INT64_MIN;
	snprintf(r.module_alloc, sizeof(r.module_alloc), "ok");
	pv_result_format(&r, PV_RF_ALL, line, sizeof(line));
	assert_non_null(strstr(line, "\"ramdisk_ok\":null"));
	assert_int_equal(pv_result_parse(line, &back, &which, &err), 0);
	assert_same_result(&r, &back);
	assert_int_equal(back.ramdisk_ok, -1);
	assert_true(back.module_ok);
	assert_true(back.nr_pages == UINT64_MAX);
	assert_true(back.pages_leaked == INT64_MIN);
}

/* Every field at its longest, strings all control bytes: the buffer holds it whole. */
static void test_result_longest(void **state)
{
	struct pv_boot_result r = {.mode = PV_MODE_NO_REVECTOR, .ramdisk_ok = 0}, back = {0};
	char line[PV_RESULT_JSON_MAX];
	struct pv_error err = {0};
	uint32_t which;
	size_t n;

	(void)state;
	r.nr_pages = r.p2m_leaves_copied = r.ka_pmds_removed = r.ka_pmds_left = UINT64_MAX;
	r.pfns_verified = r.mismatches = r.module_vaddr = r.ramdisk_bytes = UINT64_MAX;
	r.ramdisk_sum = r.pages_allocated = r.pages_freed = r.pages_double_freed = UINT64_MAX;
	r.pages_leaked = INT64_MIN;
	r.module_ran = false;
	memset(r.module_alloc, 0x01, sizeof(r.module_alloc) - 1);
	memset(r.error, 0x1f, sizeof(r.error) - 1);
	n = pv_result_format(&r, PV_RF_ALL, line, sizeof(line));
	print_message("longest result line: %zu bytes of %d\n", n, PV_RESULT_JSON_MAX);
	assert_true(n < sizeof(line));
	assert_int_equal(strlen(line), n);
	assert_int_equal(pv_result_parse(line, &back, &which, &err), 0);
	assert_int_equal(which, PV_RF_ALL);
	assert_same_result(&r, &back);
	/* Cut short, it says how long it would have been. */
	assert_int_equal(pv_result_format(&r, PV_RF_ALL, line, 100), n);
}

/* The line as the kernel has always printed it: the harness's old logs still read. */
static void test_result_format_is_the_logs(void **state)
{
	struct pv_boot_result r = {.mode = PV_MODE_REVECTOR, .nr_pages = 131072, .ramdisk_ok = 1};
	char line[PV_RESULT_JSON_MAX];

	(void)state;
	snprintf(r.module_alloc, sizeof(r.module_alloc), "ok");
	r.module_vaddr = 0xffffffffa0000000ULL;
	r.module_ran = true;
	r.ramdisk_sum = 0xa8bc9d7dec4c3c25ULL;
	pv_result_format(&r, PV_RF_ALL, line, sizeof(line));
	assert_string_equal(
		line,
		"{\"mode\":\"revector\",\"nr_pages\":131072,\"p2m_leaves_copied\":0,\"ka_pmds_removed\":0,"
		"\"ka_pmds_left\":0,\"pfns_verified\":0,\"mismatches\":0,\"module_alloc\":\"ok\","
		"\"module_vaddr\":\"0xffffffffa0000000\",\"module_ran\":true,\"ramdisk_bytes\":0,"
		"\"ramdisk_sum\":\"0xa8bc9d7dec4c3c25\",\"ramdisk_ok\":true,\"pages_allocated\":0,"
		"\"pages_freed\":0,\"pages_leaked\":0,\"pages_double_freed\":0,\"error\":\"\"}");

	/* A fatal trap says only why. */
	snprintf(r.error, sizeof(r.error), "fatal exception 14 at rip 0xffffffff81000123");
	pv_result_format(&r, 1U << PV_RF_ERROR, line, sizeof(line));
	assert_string_equal(line, "{\"error\":\"fatal exception 14 at rip 0xffffffff81000123\"}");
}

static void test_result_partial(void **state)
{
	struct pv_boot_result r = {.nr_pages = 7};
	struct pv_error err = {0};
	uint32_t which;

	(void)state;
	assert_int_equal(pv_result_parse(" { \"error\" : \"x\" } ", &r, &which, &err), 0);
	assert_int_equal(which, 1U << PV_RF_ERROR);
	assert_string_equal(r.error, "x");
	assert_int_equal(r.nr_pages, 7); /* left as it was */
	assert_int_equal(pv_result_parse("{}", &r, &which, &err), 0);
	assert_int_equal(which, 0);
	assert_int_equal(pv_result_field_of("ka_pmds_left"), PV_RF_KA_PMDS_LEFT);
	assert_int_equal(pv_result_field_of("nope"), -1);
	assert_string_equal(pv_result_key(PV_RF_PAGES_DOUBLE_FREED), "pages_double_freed");
}

static void test_result_bad(void **state)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{"", "expected '{' at column 1"},
		{"[1]", "expected '{' at column 1"},
		{"{\"nr_pages\":1", "expected ',' or '}' at column 14"},
		{"{\"nr_pages\":1,}", "expected a string at column 15"},
		{"{\"bogus\":1}", "unknown field at column 9"},
		{"{\"nr_pages\":1,\"nr_pages\":2}", "a field twice at column 25"},
		{"{\"nr_pages\":\"1\"}", "expected a number at column 13"},
		{"{\"nr_pages\":-1}", "a negative count at column 13"},
		{"{\"nr_pages\":1.5}", "expected a whole number at column 14"},
		{"{\"nr_pages\":01}", "leading zero in a number at column 13"},
		{"{\"nr_pages\":18446744073709551616}", "number out of range at column 32"},
		{"{\"pages_leaked\":9223372036854775808}", "number out of range at column 36"},
		{"{\"mode\":\"sideways\"}", "unknown mode at column 19"},
		{"{\"module_ran\":null}", "expected true or false at column 15"},
		{"{\"ramdisk_ok\":1}", "expected true, false or null at column 15"},
		{"{\"module_vaddr\":\"ffff\"}", "expected a \"0x...\" string at column 23"},
		{"{\"error\":\"a\\qb\"}", "bad escape at column 13"},
		{"{\"error\":\"\\u00g0\"}", "bad \\u escape at column 11"},
		{"{\"error\":\"x}", "unterminated string at column 13"},
		{"{\"error\":\"x\"} tail", "text after the object at column 15"},
		{"{\"error\":{}}", "expected a string at column 10"},
	};
	char long_error[400];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pv_boot_result r = {0};
		struct pv_error err = {0};
		uint32_t which;

		which = 1;
		if (pv_result_parse(bad[i].json, &r, &which, &err) != -1)
			fail_msg("'%s' parsed", bad[i].json);
		assert_int_equal(which, 0); /* what it read before it stopped does not count */
		assert_int_equal(err.code, PV_ERR_FORMAT);
		assert_string_equal(err.msg, bad[i].why);
	}
	/* A string longer than the field holds is refused, not cut. */
	memset(long_error, 'x', sizeof(long_error));
	memcpy(long_error, "{\"error\":\"", 10);
	memcpy(long_error + sizeof(long_error) - 3, "\"}", 3);
	{
		struct pv_boot_result r;
		struct pv_error err = {0};
		uint32_t which;

		assert_int_equal(pv_result_parse(long_error, &r, &which, &err), -1);
		assert_non_null(strstr(err.msg, "string too long"));
	}
}

static void test_args_round_trip(void **state)
{
	struct pv_guest_args a, back;
	struct pv_error err = {0};
	char line[128];

	(void)state;
	for (int m = 0; m < PV_MODE_NR; m++)
		for (int v = 0; v < 2; v++)
			for (int s = 0; s < 2; s++) {
				a = (struct pv_guest_args){(enum pv_boot_mode)m, v, s,
							   s ? 0xfedcba9876543210ULL : 0};
				assert_true(pv_args_format(&a, line, sizeof(line)) < sizeof(line));
				pv_args_defaults(&back);
				assert_int_equal(pv_args_parse(line, &back, &err), 0);
				assert_int_equal(back.mode, a.mode);
				assert_int_equal(back.verify_full, a.verify_full);
				assert_int_equal(back.ramdisk_sum_given, a.ramdisk_sum_given);
				assert_true(back.ramdisk_sum == a.ramdisk_sum);
			}
	a = (struct pv_guest_args){PV_MODE_NO_REVECTOR, true, true, 0xa8bc9d7dec4c3c25ULL};
	pv_args_format(&a, line, sizeof(line));
	assert_string_equal(line, "mode=no-revector verify=full ramdisk_sum=0xa8bc9d7dec4c3c25");
	/* Cut short, it says how long it would have been. */
	assert_int_equal(pv_args_format(&a, line, 10), strlen("mode=no-revector verify=full ramdisk_sum=0xa8bc9d7dec4c3c25"));
	assert_string_equal(line, "mode=no-r");

	pv_args_defaults(&back);
	assert_int_equal(back.mode, PV_MODE_REVECTOR);
	assert_true(back.verify_full);
	assert_int_equal(pv_args_parse("  ", &back, &err), 0);
}

static void test_args_bad(void **state)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
		{"mode=sideways", "unknown mode 'sideways' (revector, no-revector, null or linear)"},
		{"verify=most", "unknown verify 'most' (full or sample)"},
		{"ramdisk_sum=abc", "ramdisk_sum 'abc' is not a 64-bit hex number"},
		{"ramdisk_sum=0x", "ramdisk_sum '0x' is not a 64-bit hex number"},
		{"ramdisk_sum=0x10000000000000000", "ramdisk_sum '0x10000000000000000' is not a 64-bit hex number"},
		{"quiet", "unknown option 'quiet'"},
		{"modes=null", "unknown option 'modes=null'"},
		/* The first bad word is named; the good ones still apply. */
		{"verify=sample bogus mode=null also", "unknown option 'bogus'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pv_guest_args a;
		struct pv_error err = {0};

		pv_args_defaults(&a);
		assert_int_equal(pv_args_parse(bad[i].line, &a, &err), -1);
		assert_int_equal(err.code, PV_ERR_USAGE);
		assert_string_equal(err.msg, bad[i].why);
		if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
			assert_int_equal(a.mode, PV_MODE_NULL);
			assert_false(a.verify_full);
		}
	}
}

static void test_exit_codes(void **state)
{
	struct pv_boot_result r = {.module_ok = true, .module_ran = true, .ramdisk_ok = 1};
	struct pv_guest_args a;

	(void)state;
	pv_args_defaults(&a);
	a.ramdisk_sum_given = true;
	assert_int_equal(pv_exit_code_of(0, &r, &a), PV_EXIT_PASS);
	assert_int_equal(pv_exit_code_of(-1, &r, &a), PV_EXIT_FAIL);
	r.ramdisk_ok = 0;
	assert_int_equal(pv_exit_code_of(0, &r, &a), PV_EXIT_FAIL);
	a.mode = PV_MODE_NULL; /* mode null reads no ramdisk and loads no module */
	r.module_ok = false;
	assert_int_equal(pv_exit_code_of(0, &r, &a), PV_EXIT_PASS);
	a.mode = PV_MODE_NO_REVECTOR;
	r.ramdisk_ok = 1;
	assert_int_equal(pv_exit_code_of(0, &r, &a), PV_EXIT_MODULE_FAILED);
	r.pages_leaked = -1;
	assert_int_equal(pv_exit_code_of(0, &r, &a), PV_EXIT_FAIL);

	for (int code = 0; code < 0x80; code++) {
		int known = code == PV_EXIT_PASS || code == PV_EXIT_FAIL ||
			    code == PV_EXIT_MODULE_FAILED;

		assert_int_equal(pv_exit_code_from_status(PV_QEMU_STATUS(code)), known ? code : -1);
		assert_int_equal(pv_exit_code_from_status(code << 1), -1); /* not through the port */
	}
	assert_int_equal(PV_QEMU_STATUS(PV_EXIT_PASS), 33);
	assert_string_equal(pv_exit_code_meaning(PV_EXIT_MODULE_FAILED),
			    "done, the module did not load");
	assert_string_equal(pv_exit_code_meaning(3), "not a code the kernel writes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_round_trip), cmocka_unit_test(test_result_format_is_the_logs),
		cmocka_unit_test(test_result_longest),	  cmocka_unit_test(test_result_partial),	  cmocka_unit_test(test_result_bad),
		cmocka_unit_test(test_args_round_trip),	  cmocka_unit_test(test_args_bad),
		cmocka_unit_test(test_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
