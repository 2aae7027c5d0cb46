/*
 * Tests for bzImages (src/image/bzimage.c, decompress.c, blocks.c): the
 * fixture ELF wrapped in each compression Linux supports must read exactly
 * like the ELF itself, and every kind of broken header or payload must fail
 * cleanly with a one-line message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "image/fixtures.h"

#define SETUP_SECTS 3
#define PM_START ((SETUP_SECTS + 1) * 512) /* as tests/image/mkfixtures.sh */
#define PAYLOAD_SKIP 0x40

static const struct {
	const char *name;
	enum pv_compression comp;
} comps[] = {
	{ "gzip", PV_COMP_GZIP }, { "bzip2", PV_COMP_BZIP2 }, { "xz", PV_COMP_XZ },
	{ "lzma", PV_COMP_LZMA }, { "lzo", PV_COMP_LZO },     { "lz4", PV_COMP_LZ4 },
	{ "zstd", PV_COMP_ZSTD },
};
#define NR_COMPS (sizeof(comps) / sizeof(comps[0]))

static struct pv_image elf_img, img;
static struct pv_error err;

static uint8_t *bzimage(unsigned i, size_t *len)
{
	char name[64];

	snprintf(name, sizeof(name), "xen.%s.bzImage", comps[i].name);
	return slurp(fixture(name), len);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Each compression gives what the ELF gives, and the same ELF bytes. */
static void test_every_compression(void **state)
{
	size_t elf_len, len, out_len;
	uint8_t *elf = slurp(fixture("xen.elf"), &elf_len);

	(void)state;
	assert_int_equal(pv_image_read_mem(elf, elf_len, &elf_img, &err), 0);
	for (unsigned i = 0; i < NR_COMPS; i++) {
		uint8_t *buf = bzimage(i, &len);
		void *out;
		int rc = pv_image_read_mem(buf, len, &img, &err);

		if (rc)
			fail_msg("%s: %s", comps[i].name, err.msg);
		assert_int_equal(img.format, PV_IMAGE_BZIMAGE);
		assert_int_equal(img.compression, comps[i].comp);
		assert_int_equal(img.file_size, len);
		assert_int_equal(img.bzimage_version, 0x20f);
		assert_int_equal(img.payload_offset, PM_START + PAYLOAD_SKIP);
		/* The payload is followed by 0x100 bytes of "decompressor". */
		assert_int_equal(img.payload_length, len - PM_START - PAYLOAD_SKIP - 0x100);
		assert_int_equal(img.elf_size, elf_len);
		assert_same_kernel(&img, &elf_img);
		assert_int_equal(img.parms.virt_kstart, 0xffffffff81000000ull);
		assert_int_equal(img.parms.virt_kend, 0xffffffff81006000ull);

		assert_int_equal(pv_image_extract_elf(buf, len, &out, &out_len, &err), 0);
		assert_int_equal(out_len, elf_len);
		assert_memory_equal(out, elf, elf_len);
		free(out);

		/* The size trailer (gzip's ISIZE) is the ELF's size. */
		assert_int_equal(get32(buf + img.payload_offset + img.payload_length - 4),
				 elf_len);
		free(buf);
	}
	free(elf);
}

/* A whole-file gzip of the ELF (xc_dom_kernel_file gunzips those). */
static void test_gzipped_elf(void **state)
{
	char cmd[8192];
	size_t len, elf_len;
	uint8_t *buf, *elf = slurp(fixture("xen.elf"), &elf_len);

	(void)state;
	snprintf(cmd, sizeof(cmd), "cd '%s' && gzip -n -9 -c xen.elf > xen.elf.gz",
		 cache_path("fixtures"));
	assert_int_equal(system(cmd), 0);
	buf = slurp(cache_path("fixtures/xen.elf.gz"), &len);
	assert_int_equal(pv_image_read_mem(elf, elf_len, &elf_img, &err), 0);
	assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
	assert_int_equal(img.format, PV_IMAGE_ELF);
	assert_int_equal(img.compression, PV_COMP_GZIP);
	assert_same_kernel(&img, &elf_img);
	free(buf);
	free(elf);
}

static void expect_fail(const uint8_t *buf, size_t len, enum pv_errcode code, const char *needle)
{
	void *out = NULL;
	size_t out_len;

	memset(&err, 0, sizeof(err));
	assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, code, needle);
	assert_failed(pv_image_extract_elf(buf, len, &out, &out_len, &err), &err, code, needle);
	assert_null(out);
}

static void test_bad_header(void **state)
{
	size_t len;
	uint8_t *buf = bzimage(0, &len);

	(void)state;
	/* Too short for the setup header. */
	expect_fail(buf, 0x240, PV_ERR_FORMAT, "too small");
	/* Protocol 2.07 had no payload fields. */
	buf[0x206] = 0x07;
	expect_fail(buf, len, PV_ERR_FORMAT, "boot protocol too old (0207)");
	buf[0x206] = 0x0f;
	/* payload_length running past the end of the file, by one byte. */
	put32(buf + 0x24c, (uint32_t)(len - PM_START - PAYLOAD_SKIP + 1));
	expect_fail(buf, len, PV_ERR_FORMAT, "runs past the end of the file");
	/* ... and by 4 GiB - 1, which must not wrap. */
	put32(buf + 0x24c, 0xffffffff);
	expect_fail(buf, len, PV_ERR_FORMAT, "runs past the end of the file");
	/* payload_offset past the end. */
	put32(buf + 0x24c, 16);
	put32(buf + 0x248, 0xfffffff0);
	expect_fail(buf, len, PV_ERR_FORMAT, "past the end of the file");
	free(buf);
}

static void test_unknown_payload(void **state)
{
	size_t len;
	uint8_t *buf = bzimage(0, &len);

	(void)state;
	/* Not a magic any decompressor claims. */
	buf[PM_START + PAYLOAD_SKIP] = 0x42;
	buf[PM_START + PAYLOAD_SKIP + 1] = 0x00;
	expect_fail(buf, len, PV_ERR_FORMAT, "unknown compression format");
	/* An empty payload. */
	put32(buf + 0x24c, 0);
	expect_fail(buf, len, PV_ERR_FORMAT, "unknown compression format");
	free(buf);
}

/*
 * The size trailer lies, both ways.  Too small: the data does not fit.
 * Too large: the data ends early.  Neither may allocate what it claims.
 */
static void test_lying_trailer(void **state)
{
	(void)state;
	for (unsigned i = 1; i < NR_COMPS; i++) {
		size_t len;
		uint8_t *buf = bzimage(i, &len);
		uint8_t *trailer;
		uint32_t real;

		assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
		trailer = buf + img.payload_offset + img.payload_length - 4;
		real = get32(trailer);

		put32(trailer, real - 1);
		expect_fail(buf, len, PV_ERR_DECOMPRESS, "size field");
		put32(trailer, real + 4096);
		expect_fail(buf, len, PV_ERR_DECOMPRESS, "size field");
		/* 1 GiB: plausible by the 1 GiB cap, not for a 3 KiB payload. */
		put32(trailer, 1u << 30);
		expect_fail(buf, len, PV_ERR_DECOMPRESS, "implausible");
		/* Above max_kernel_size. */
		put32(trailer, 0xffffffff);
		expect_fail(buf, len, PV_ERR_DECOMPRESS, "kernel image too large");
		free(buf);
	}
}

/* gzip's ISIZE is checked by zlib itself. */
static void test_gzip_isize(void **state)
{
	size_t len;
	uint8_t *buf = bzimage(0, &len);
	uint8_t *isize;

	(void)state;
	assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
	isize = buf + img.payload_offset + img.payload_length - 4;
	put32(isize, get32(isize) + 16);
	expect_fail(buf, len, PV_ERR_DECOMPRESS, "gzip");
	put32(isize, get32(isize) - 32);
	expect_fail(buf, len, PV_ERR_DECOMPRESS, "gzip");
	free(buf);
}

/* Damage in the middle of the compressed data, and a cut-off payload. */
static void test_corrupt_payload(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR_COMPS; i++) {
		size_t len;
		uint8_t *buf = bzimage(i, &len);
		uint8_t *p, *copy;
		size_t plen, off;

		assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
		p = buf + img.payload_offset;
		plen = img.payload_length;

		/*
		 * Overwrite a stretch in the middle.  The LZ4 legacy frame has
		 * no checksum, so damaged literals would go unnoticed (as in
		 * Xen); damage its first block's length instead.
		 */
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, buf, len);
		if (comps[i].comp == PV_COMP_LZ4)
			put32(copy + img.payload_offset + 4, 0x7ffffff0);
		else
			for (off = plen / 2 - 8; off < plen / 2 + 8; off++)
				copy[img.payload_offset + off] ^= 0x5a;
		memset(&err, 0, sizeof(err));
		if (pv_image_read_mem(copy, len, &img, &err) == 0)
			fail_msg("%s: corrupt payload was accepted", comps[i].name);
		assert_null(strchr(err.msg, '\n'));
		assert_true(err.code == PV_ERR_DECOMPRESS || err.code == PV_ERR_FORMAT ||
			    err.code == PV_ERR_NOTES);

		/* Cut the payload in half, keeping its (now wrong) trailer. */
		memcpy(copy, buf, len);
		put32(copy + 0x24c, (uint32_t)(plen / 2 + 4));
		memcpy(copy + (p - buf) + plen / 2, p + plen - 4, 4);
		expect_fail(copy, len, PV_ERR_DECOMPRESS, NULL);
		free(copy);
		free(buf);
	}
}

/*
 * Make fixtures/NAME.bzImage around the payload the shell command @payload
 * writes to stdout (run in the fixtures directory), and read it.
 */
static uint8_t *wrap_payload(const char *payload, const char *name, size_t *len)
{
	char cmd[16384], path[256];

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && { %s; } > %s.payload && "
		 "python3 -c 'import struct,sys; p=open(sys.argv[1],\"rb\").read(); "
		 "h=bytearray(1024); h[0x1f1]=1; h[0x202:0x206]=b\"HdrS\"; "
		 "struct.pack_into(\"<H\", h, 0x206, 0x20f); "
		 "struct.pack_into(\"<II\", h, 0x248, 0, len(p)); "
		 "sys.stdout.buffer.write(bytes(h)+p)' %s.payload > %s.bzImage",
		 cache_path("fixtures"), payload, name, name, name);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "fixtures/%s.bzImage", name);
	return slurp(cache_path(path), len);
}

/* A payload that decompresses fine but is not an ELF. */
static void test_payload_not_elf(void **state)
{
	size_t len;
	uint8_t *buf;

	(void)state;
	buf = wrap_payload("printf 'not an ELF at all' | xz --check=crc32; printf '\\021\\000\\000\\000'",
			   "text", &len);
	expect_fail(buf, len, PV_ERR_FORMAT, "xz payload does not decompress to an ELF image");
	free(buf);
}

/*
 * A decompression bomb with an honest size trailer: 64 MiB of zeros in a
 * few KiB of xz.  Refused before any output is produced, since no kernel
 * compresses better than 1032:1.
 */
static void test_bomb(void **state)
{
	size_t len;
	uint8_t *buf;

	(void)state;
	buf = wrap_payload("head -c 67108864 /dev/zero | xz --check=crc32; printf '\\000\\000\\000\\004'",
			   "bomb", &len);
	assert_true(len < 64 * 1024);
	expect_fail(buf, len, PV_ERR_DECOMPRESS, "implausible");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_compression),
		cmocka_unit_test(test_gzipped_elf),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_unknown_payload),
		cmocka_unit_test(test_lying_trailer),
		cmocka_unit_test(test_gzip_isize),
		cmocka_unit_test(test_corrupt_payload),
		cmocka_unit_test(test_payload_not_elf),
		cmocka_unit_test(test_bomb),
	};

	return cmocka_run_group_tests(tests, build_fixtures, NULL);
}
