/*
 * Hostile input for the image reader: nothing, truncations at every
 * length, random bytes, overflowing note sizes, damaged headers.  Each must
 * come back as -1 with a code and a one-line message (or, for damage that
 * does not matter, as a successful read) and never crash or over-read; the
 * sanitizer build of this test is what checks the latter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image/fixtures.h"

static struct pv_image img;
static struct pv_error err;

/* xorshift64*: reproducible pseudo-random bytes. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* Any result is fine but a crash; a failure must be well-formed. */
static void read_anything(const uint8_t *buf, size_t len)
{
	void *elf = NULL;
	size_t elf_len;

	memset(&err, 0, sizeof(err));
	if (pv_image_read_mem(buf, len, &img, &err)) {
		assert_true(err.code > PV_OK && err.code < PV_ERR_NR);
		assert_true(strlen(err.msg) > 0);
		assert_null(strchr(err.msg, '\n'));
	}
	if (pv_image_extract_elf(buf, len, &elf, &elf_len, &err) == 0)
		free(elf);
	else
		assert_null(strchr(err.msg, '\n'));
}

static void test_empty(void **state)
{
	static const uint8_t nothing[1];

	(void)state;
	assert_failed(pv_image_read_mem(nothing, 0, &img, &err), &err, PV_ERR_FORMAT, "empty");
	spew(cache_path("fixtures/empty"), nothing, 0);
	assert_failed(pv_image_read_file(cache_path("fixtures/empty"), &img, &err), &err,
		      PV_ERR_FORMAT, "empty");
	assert_non_null(strstr(err.msg, "fixtures/empty"));
}

static void test_unreadable(void **state)
{
	(void)state;
	assert_failed(pv_image_read_file(cache_path("fixtures/no-such-file"), &img, &err), &err,
		      PV_ERR_IO, "No such file or directory");
	assert_non_null(strstr(err.msg, "no-such-file"));
	assert_failed(pv_image_read_file(cache_path("fixtures"), &img, &err), &err, PV_ERR_IO,
		      "not a regular file");
}

/* Every proper prefix of the ELF is refused (its section headers are last). */
static void test_truncated_elf(void **state)
{
	size_t len;
	uint8_t *buf = slurp(fixture("xen.elf"), &len);

	(void)state;
	for (size_t n = 0; n < len; n++) {
		/* A fresh copy of exactly n bytes, so ASan sees any over-read. */
		uint8_t *cut = malloc(n ? n : 1);

		assert_non_null(cut);
		memcpy(cut, buf, n);
		memset(&err, 0, sizeof(err));
		assert_int_equal(pv_image_read_mem(cut, n, &img, &err), -1);
		assert_true(err.code == PV_ERR_FORMAT || err.code == PV_ERR_NOTES);
		assert_null(strchr(err.msg, '\n'));
		free(cut);
	}
	free(buf);
}

/* Every prefix of a bzImage: short header, payload past the end ... */
static void test_truncated_bzimage(void **state)
{
	size_t len;
	uint8_t *buf = slurp(fixture("xen.xz.bzImage"), &len);

	(void)state;
	for (size_t n = 0; n + 0x100 < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		assert_non_null(cut);
		memcpy(cut, buf, n);
		memset(&err, 0, sizeof(err));
		assert_int_equal(pv_image_read_mem(cut, n, &img, &err), -1);
		assert_true(err.code == PV_ERR_FORMAT);
		assert_null(strchr(err.msg, '\n'));
		free(cut);
	}
	free(buf);
}

static void test_random_bytes(void **state)
{
	uint8_t *buf = malloc(8192);

	(void)state;
	assert_non_null(buf);
	for (int i = 0; i < 3000; i++) {
		size_t len = next_random() % 8192;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)next_random();
		/* Some with the magics that steer the reader deeper. */
		if (i % 3 == 1 && len >= 64)
			memcpy(buf, "\177ELF\002\001\001", 7);
		if (i % 3 == 2 && len >= 0x260) {
			memcpy(buf + 0x202, "HdrS\x0f\x02", 6);
			buf[0x1f1] = 0;
			memset(buf + 0x248, 0, 4);
			buf[0x24c] = (uint8_t)(len - 512);
			buf[0x24d] = (uint8_t)((len - 512) >> 8);
			memset(buf + 0x24e, 0, 2);
			memcpy(buf + 512, (i & 4) ? "\3757zXZ\0\0\0\0" : "\x89LZO\0\r\n\032\n", 9);
		}
		read_anything(buf, len);
		if (len >= 64 && i % 3 == 1)
			assert_int_equal(pv_image_read_mem(buf, len, &img, &err), -1);
	}
	free(buf);
}

/* Random damage to every kind of fixture. */
static void test_mutations(void **state)
{
	static const char *const names[] = {
		"xen.elf",	    "shdr.elf",		"legacy.elf",	   "xen.gzip.bzImage",
		"xen.bzip2.bzImage", "xen.xz.bzImage",	"xen.lzma.bzImage", "xen.lzo.bzImage",
		"xen.lz4.bzImage",  "xen.zstd.bzImage",
	};

	(void)state;
	for (unsigned f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		size_t len;
		uint8_t *orig = slurp(fixture(names[f]), &len);
		uint8_t *buf = malloc(len);

		assert_non_null(buf);
		for (int i = 0; i < 300; i++) {
			memcpy(buf, orig, len);
			for (int k = 1 + (int)(next_random() % 8); k > 0; k--) {
				size_t at = next_random() % len;

				/* Bias towards the headers, where the lengths are. */
				if (next_random() & 1)
					at %= 0x300;
				buf[at] = (uint8_t)next_random();
			}
			read_anything(buf, len);
		}
		free(buf);
		free(orig);
	}
}

/* Note sizes near 2^32 must not wrap into something that looks valid. */
static void test_note_size_overflow(void **state)
{
	static const uint32_t sizes[][2] = {
		{ 0xffffffff, 6 },	   { 0xfffffffc, 6 }, { 4, 0xffffffff },
		{ 4, 0xfffffffd },	   { 0xfffffffd, 0xfffffffd }, { 4, 0x7fffffff },
		{ 0x80000000, 0x80000000 },
	};
	size_t len, desc;
	uint8_t *orig = slurp(fixture("xen.elf"), &len);
	uint8_t *buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	desc = find_once(orig, len, "linux\0\0\0\x04\0\0\0", 12); /* GUEST_OS, then the next namesz */
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memcpy(buf, orig, len);
		/* namesz, descsz, type, "Xen\0", then the descriptor. */
		memcpy(buf + desc - 16, &sizes[i][0], 4);
		memcpy(buf + desc - 12, &sizes[i][1], 4);
		assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, PV_ERR_NOTES,
			      "malformed ELF note");
	}
	free(buf);
	free(orig);
}

/* Control characters from the image do not reach the message. */
static void test_message_is_one_line(void **state)
{
	size_t len, off;
	uint8_t *buf = slurp(fixture("xen.elf"), &len);

	(void)state;
	off = find_once(buf, len, "xen-3.0", 8);
	memcpy(buf + off, "x\nen\r3\t", 8);
	assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, PV_ERR_NOTES,
		      "(Not 'x?en?3?')");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_truncated_elf),
		cmocka_unit_test(test_truncated_bzimage),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_note_size_overflow),
		cmocka_unit_test(test_message_is_one_line),
	};

	return cmocka_run_group_tests(tests, build_fixtures, NULL);
}
