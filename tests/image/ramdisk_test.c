/*
 * Tests for pv_ramdisk_length (src/image/ramdisk.c): the three sizing
 * rules on a gzip ramdisk, a raw one, and the edge cases of
 * xc_dom_check_gzip, as a table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <unistd.h>

#include "image/fixtures.h"

static struct pv_error err;

static uint64_t length(const char *path, enum pv_ramdisk_rule rule)
{
	uint64_t len = 0;

	memset(&err, 0, sizeof(err));
	if (pv_ramdisk_length(path, rule, &len, &err))
		fail_msg("%s: %s", path, err.msg);
	return len;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A real gzip file: 1 MiB of text compresses to a few KiB. */
static void test_gzip_ramdisk(void **state)
{
	char cmd[8192], path[4096];
	struct stat st;
	uint64_t unzip = 1024 * 1024 + 16;

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && yes pvboot-initrd | head -c 1048576 | gzip -n -9 > initrd.gz",
		 cache_path("fixtures"));
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s", cache_path("fixtures/initrd.gz"));
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_size < unzip);

	assert_int_equal(length(path, PV_RAMDISK_LIBXC_42), unzip);
	assert_int_equal(length(path, PV_RAMDISK_LIBXC_417), unzip);
	/* 4.20 loads the file as it is, as the hypervisor does. */
	assert_int_equal(length(path, PV_RAMDISK_LIBXC_420), (uint64_t)st.st_size);
	assert_int_equal(length(path, PV_RAMDISK_RAW), (uint64_t)st.st_size);
	/* Which builder sizes by which rule. */
	assert_int_equal(pv_ramdisk_rule_of(PV_BUILDER_LIBXC_42), PV_RAMDISK_LIBXC_42);
	assert_int_equal(pv_ramdisk_rule_of(PV_BUILDER_LIBXC_414), PV_RAMDISK_LIBXC_417);
	assert_int_equal(pv_ramdisk_rule_of(PV_BUILDER_LIBXC_417), PV_RAMDISK_LIBXC_417);
	assert_int_equal(pv_ramdisk_rule_of(PV_BUILDER_LIBXC_420), PV_RAMDISK_LIBXC_420);
	for (int b = PV_BUILDER_XEN_414_DOM0; b <= PV_BUILDER_XEN_420_DOM0; b++)
		assert_int_equal(pv_ramdisk_rule_of((enum pv_builder)b), PV_RAMDISK_RAW);
}

/*
 * Synthetic files: { bytes, ISIZE to write at the end (or -1), expected
 * length under 4.2, 4.17 and raw }.
 */
static void test_rules_table(void **state)
{
	static const struct {
		const char *what;
		size_t size;
		bool magic;
		int64_t isize;
		uint64_t v42, v417, raw;
	} cases[] = {
		{ "not gzip", 100, false, 7, 100, 100, 100 },
		{ "gzip, small ISIZE", 100, true, 10, 26, 100, 100 },
		{ "gzip, large ISIZE", 100, true, 5000, 5016, 5016, 100 },
		{ "gzip, ISIZE 0", 100, true, 0, 16, 100, 100 },
		{ "gzip, ISIZE 1 GiB: ISIZE + 16 is over the 1 GiB limit", 100, true, 1 << 30, 100, 100, 100 },
		{ "gzip, ISIZE + 16 exactly 1 GiB", 100, true, (1 << 30) - 16, 1 << 30, 1 << 30, 100 },
		/* Above XC_DOM_DECOMPRESS_MAX: "looks insane", not gzip. */
		{ "gzip, ISIZE 1 GiB + 1", 100, true, (1 << 30) + 1, 100, 100, 100 },
		{ "gzip, ISIZE 4 GiB - 1", 100, true, 0xffffffff, 100, 100, 100 },
		/* Shorter than 6 bytes: not gzip even with the magic. */
		{ "5 bytes with magic", 5, true, -1, 5, 5, 5 },
		{ "6 bytes with magic", 6, true, 0x100, 0x110, 0x110, 6 },
		{ "1 byte", 1, false, -1, 1, 1, 1 },
	};
	const char *path = cache_path("fixtures/ramdisk.bin");

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[128];

		memset(buf, 0xab, sizeof(buf));
		if (cases[i].magic) {
			buf[0] = 0x1f;
			buf[1] = 0x8b;
		}
		if (cases[i].isize >= 0)
			put32(buf + cases[i].size - 4, (uint32_t)cases[i].isize);
		spew(path, buf, cases[i].size);
		if (length(path, PV_RAMDISK_LIBXC_42) != cases[i].v42 ||
		    length(path, PV_RAMDISK_LIBXC_417) != cases[i].v417 ||
		    length(path, PV_RAMDISK_RAW) != cases[i].raw)
			fail_msg("%s: got %lu/%lu/%lu", cases[i].what,
				 (unsigned long)length(path, PV_RAMDISK_LIBXC_42),
				 (unsigned long)length(path, PV_RAMDISK_LIBXC_417),
				 (unsigned long)length(path, PV_RAMDISK_RAW));
	}
}

static void test_errors(void **state)
{
	uint64_t len = 42;
	const char *empty = cache_path("fixtures/ramdisk.empty");

	(void)state;
	spew(empty, "", 0);
	assert_failed(pv_ramdisk_length(empty, PV_RAMDISK_LIBXC_417, &len, &err), &err,
		      PV_ERR_FORMAT, "empty");
	assert_non_null(strstr(err.msg, "ramdisk.empty"));
	assert_failed(pv_ramdisk_length(cache_path("fixtures/no-such-ramdisk"), PV_RAMDISK_RAW,
					&len, &err),
		      &err, PV_ERR_IO, "no-such-ramdisk");
	assert_failed(pv_ramdisk_length(cache_path("fixtures"), PV_RAMDISK_RAW, &len, &err), &err,
		      PV_ERR_IO, "not a regular file");
	assert_int_equal(len, 42);
}

/* A file over 1 GiB: libxc will not map it; the hypervisor takes it as it is. */
static void test_over_1g(void **state)
{
	const char *big = cache_path("fixtures/ramdisk.big");
	char cmd[16384];
	uint64_t len = 42;

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -f '%s' && truncate -s %llu '%s'", big,
		 (1ULL << 30) + 1, big); /* sparse: no disk space used */
	assert_int_equal(system(cmd), 0);
	assert_failed(pv_ramdisk_length(big, PV_RAMDISK_LIBXC_42, &len, &err), &err,
		      PV_ERR_SEGMENT_TOO_LARGE, "too large");
	assert_failed(pv_ramdisk_length(big, PV_RAMDISK_LIBXC_417, &len, &err), &err,
		      PV_ERR_SEGMENT_TOO_LARGE, "too large");
	assert_failed(pv_ramdisk_length(big, PV_RAMDISK_LIBXC_420, &len, &err), &err,
		      PV_ERR_SEGMENT_TOO_LARGE, "too large");
	assert_int_equal(pv_ramdisk_length(big, PV_RAMDISK_RAW, &len, &err), 0);
	assert_int_equal(len, (1ULL << 30) + 1);
	unlink(big);
}

static int make_dir(void **state)
{
	char cmd[8192];

	(void)state;
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", cache_path("fixtures"));
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip_ramdisk),
		cmocka_unit_test(test_rules_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_over_1g),
	};

	return cmocka_run_group_tests(tests, make_dir, NULL);
}
