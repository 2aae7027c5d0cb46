/*
 * The image reader on a real kernel: Debian's current amd64 bzImage, and
 * the vmlinux extracted from it, checked against what Linux's xen-head.S
 * emits and, note by note, against Xen 4.17's own readnotes tool.
 *
 * scripts/fetch-debian downloads both packages (once; they are cached under
 * $PVBOOT_CACHE/debian).  This test does not skip: if they cannot be
 * fetched, it fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <xen/elfnote.h>

#include "image/fixtures.h"

static char kernel[4096], readnotes[4096], vmlinux[4096];
static struct pv_image bz, elf;
static struct pv_error err;

static int fetch(void **state)
{
	char line[4096];
	FILE *p;

	(void)state;
	p = popen("sh scripts/fetch-debian", "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "kernel=", 7))
			snprintf(kernel, sizeof(kernel), "%s", line + 7);
		if (!strncmp(line, "readnotes=", 10))
			snprintf(readnotes, sizeof(readnotes), "%s", line + 10);
	}
	if (pclose(p) != 0 || !kernel[0] || !readnotes[0]) {
		fprintf(stderr, "scripts/fetch-debian failed\n");
		return -1;
	}
	return build_fixtures(state);
}

static void test_bzimage(void **state)
{
	(void)state;
	if (pv_image_read_file(kernel, &bz, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(bz.format, PV_IMAGE_BZIMAGE);
	assert_int_not_equal(bz.compression, PV_COMP_NONE);
	assert_true(bz.bzimage_version >= 0x208);
	assert_true(bz.payload_offset + bz.payload_length <= bz.file_size);
	assert_true(bz.elf_size > bz.payload_length);
	assert_int_equal(bz.elf_class, 64);
	assert_int_equal(bz.notes_from, PV_NOTES_PHDR);

	/* What arch/x86/xen/xen-head.S puts there. */
	assert_string_equal(bz.notes[XEN_ELFNOTE_GUEST_OS].str, "linux");
	assert_string_equal(bz.notes[XEN_ELFNOTE_XEN_VERSION].str, "xen-3.0");
	assert_string_equal(bz.notes[XEN_ELFNOTE_LOADER].str, "generic");
	assert_string_equal(bz.notes[XEN_ELFNOTE_PAE_MODE].str, "yes");
	assert_int_equal(bz.notes[XEN_ELFNOTE_VIRT_BASE].num, 0xffffffff80000000ull);
	assert_int_equal(bz.notes[XEN_ELFNOTE_INIT_P2M].num, 0x8000000000ull);
	assert_int_equal(bz.notes[XEN_ELFNOTE_MOD_START_PFN].num, 1);
	assert_true(bz.notes[XEN_ELFNOTE_PADDR_OFFSET].present);
	assert_int_equal(bz.notes[XEN_ELFNOTE_PADDR_OFFSET].num, 0);
	assert_int_equal(bz.notes[XEN_ELFNOTE_L1_MFN_VALID].nwords, 2);

	assert_string_equal(bz.parms.guest_os, "linux");
	assert_string_equal(bz.parms.xen_ver, "xen-3.0");
	assert_string_equal(bz.parms.loader, "generic");
	assert_true(bz.parms.pae);
	assert_true(bz.parms.unmapped_initrd);
	assert_int_equal(bz.parms.virt_base, 0xffffffff80000000ull);
	assert_int_equal(bz.parms.elf_paddr_offset, 0);
	assert_int_equal(bz.parms.p2m_base, 0x8000000000ull);
	assert_int_equal(bz.parms.virt_kstart, 0xffffffff81000000ull);
	assert_true(bz.parms.virt_kend > bz.parms.virt_kstart);
	assert_true(bz.parms.virt_entry >= bz.parms.virt_kstart &&
		    bz.parms.virt_entry < bz.parms.virt_kend);
}

/* Extract the vmlinux, write it to the cache, read it back: same kernel. */
static void test_vmlinux(void **state)
{
	size_t len, elf_len;
	uint8_t *buf = slurp(kernel, &len);
	const char *base = strrchr(kernel, '/');
	void *out;

	(void)state;
	assert_int_equal(pv_image_extract_elf(buf, len, &out, &elf_len, &err), 0);
	free(buf);
	assert_int_equal(elf_len, bz.elf_size);
	snprintf(vmlinux, sizeof(vmlinux), "%s", cache_path("debian/vmlinux"));
	if (base && !strncmp(base, "/vmlinuz", 8))
		snprintf(vmlinux, sizeof(vmlinux), "%s%s", cache_path("debian/vmlinux"), base + 8);
	spew(vmlinux, out, elf_len);
	free(out);

	if (pv_image_read_file(vmlinux, &elf, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(elf.format, PV_IMAGE_ELF);
	assert_int_equal(elf.compression, PV_COMP_NONE);
	assert_int_equal(elf.file_size, elf_len);
	assert_same_kernel(&bz, &elf);
}

/* pvboot's note @t, as readnotes prints it, must match @value. */
static void check_line(const struct pv_image *img, const char *line, unsigned *checked)
{
	const char *colon = strchr(line, ':');
	unsigned long long v, mask, val;
	unsigned type, bytes;
	char name[64], *end;
	int n = 0;

	if (sscanf(line, "unknown note type %x", &type) == 1) {
		/* readnotes does not decode it; pvboot must at least have it. */
		if (type < PV_NOTE_NR && !img->notes[type].present)
			fail_msg("readnotes saw note %#x, pvboot did not", type);
		++*checked;
		return;
	}
	if (!colon || (size_t)(colon - line) >= sizeof(name))
		fail_msg("unexpected readnotes line: %s", line);
	memcpy(name, line, (size_t)(colon - line));
	name[colon - line] = '\0';
	if (!strcmp(name, "__xen_guest")) {
		assert_string_equal(img->guest_info, colon + 2);
		return;
	}
	for (type = 0; type < PV_NOTE_NR; type++)
		if (!strcmp(pv_note_name(type), name))
			break;
	if (type == PV_NOTE_NR)
		fail_msg("readnotes printed a note pvboot cannot name: %s", line);
	if (!img->notes[type].present)
		fail_msg("readnotes saw %s, pvboot did not", name);

	if (sscanf(colon + 1, " mask=%llx value=%llx", &mask, &val) == 2) {
		assert_int_equal(type, XEN_ELFNOTE_L1_MFN_VALID);
		assert_true(img->notes[type].nwords >= 2);
		assert_int_equal(img->notes[type].words[0], mask);
		assert_int_equal(img->notes[type].words[1], val);
	} else if ((v = strtoull(colon + 1, &end, 0), end != colon + 1) &&
		   sscanf(end, " (%u bytes)%n", &bytes, &n) == 1 && end[n] == '\0') {
		assert_int_equal(img->notes[type].num, v);
		assert_int_equal(img->notes[type].descsz, bytes);
	} else {
		assert_int_equal(img->notes[type].kind, PV_NOTE_STR);
		if (strcmp(img->notes[type].str, colon + 2))
			fail_msg("%s: readnotes says \"%s\", pvboot \"%s\"", name, colon + 2,
				 img->notes[type].str);
	}
	++*checked;
}

/* Run readnotes on @path; every line must agree with @img. */
static void compare_with_readnotes(const char *path, const struct pv_image *img)
{
	char cmd[16384], line[1024];
	unsigned checked = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "'%s' '%s' 2>/dev/null", readnotes, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "warning:", 8))
			fail_msg("readnotes: %s", line);
		check_line(img, line, &checked);
	}
	if (pclose(p) != 0)
		fail_msg("readnotes %s failed", path);
	/* One line per Xen note, all of them in the PT_NOTE segment. */
	assert_int_equal(checked, img->nr_xen_notes);
}

static void test_readnotes_debian(void **state)
{
	(void)state;
	assert_true(vmlinux[0]);
	compare_with_readnotes(vmlinux, &elf);
	assert_true(elf.nr_xen_notes >= 14);
}

static void test_readnotes_fixture(void **state)
{
	struct pv_image img;

	(void)state;
	if (pv_image_read_file(fixture("xen.elf"), &img, &err))
		fail_msg("%s", err.msg);
	compare_with_readnotes(fixture("xen.elf"), &img);
	assert_int_equal(img.nr_xen_notes, 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bzimage),
		cmocka_unit_test(test_vmlinux),
		cmocka_unit_test(test_readnotes_debian),
		cmocka_unit_test(test_readnotes_fixture),
	};

	return cmocka_run_group_tests(tests, fetch, NULL);
}
