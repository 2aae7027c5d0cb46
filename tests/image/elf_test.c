/*
 * Tests for the ELF side of the image reader (src/image/elf.c and
 * dominfo.c) on the fixtures of tests/image/fixture.S: every note value,
 * the computed addresses, the three places notes can come from, and each
 * of libelf-dominfo.c's refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <gelf.h>
#include <xen/elfnote.h>
#include <xen/features.h>

#include "image/fixtures.h"

#define KSTART 0xffffffff81000000ull /* linked here, paddr 0x1000000 */
#define KEND 0xffffffff81006000ull   /* text 0x2000, data+notes, bss 0x3000 */
#define VIRT_BASE 0xffffffff80000000ull
#define HYPERCALL_PAGE 0xffffffff81001000ull
#define FEAT(f) (1u << XENFEAT_##f)

static struct pv_image img, img2;
static struct pv_error err;

static void read_ok(const char *name, struct pv_image *out)
{
	memset(&err, 0, sizeof(err));
	if (pv_image_read_file(fixture(name), out, &err))
		fail_msg("%s: %s", name, err.msg);
}

/*
 * The file offset of the descriptor of the Xen note @type in the first
 * PT_NOTE segment, found with gelf (independently of the code under test).
 */
static size_t note_desc_offset(uint8_t *buf, size_t len, uint32_t type)
{
	Elf *elf;
	size_t phnum, result = 0;

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_memory((char *)buf, len);
	assert_non_null(elf);
	assert_int_equal(elf_getphdrnum(elf, &phnum), 0);
	for (size_t i = 0; i < phnum && !result; i++) {
		GElf_Phdr ph;
		Elf_Data *d;
		size_t pos = 0, next, name_off, desc_off;
		GElf_Nhdr nh;

		assert_non_null(gelf_getphdr(elf, (int)i, &ph));
		if (ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		assert_non_null(d);
		while ((next = gelf_getnote(d, pos, &nh, &name_off, &desc_off)) != 0) {
			if (nh.n_type == type && !strcmp((char *)d->d_buf + name_off, "Xen")) {
				result = ph.p_offset + desc_off;
				break;
			}
			pos = next;
		}
	}
	elf_end(elf);
	if (!result)
		fail_msg("no Xen note %u", type);
	return result;
}

static void test_notes(void **state)
{
	const struct pv_note *n = img.notes;

	(void)state;
	read_ok("xen.elf", &img);
	assert_int_equal(img.format, PV_IMAGE_ELF);
	assert_int_equal(img.compression, PV_COMP_NONE);
	assert_int_equal(img.elf_class, 64);
	assert_int_equal(img.elf_machine, EM_X86_64);
	assert_int_equal(img.notes_from, PV_NOTES_PHDR);
	/* 20 notes named "Xen" (types 0..19 and 0x20), not the "pvboot" one. */
	assert_int_equal(img.nr_xen_notes, 20);

	assert_int_equal(n[XEN_ELFNOTE_INFO].kind, PV_NOTE_STR);
	assert_string_equal(n[XEN_ELFNOTE_INFO].str, "pvboot test fixture");
	assert_string_equal(n[XEN_ELFNOTE_GUEST_OS].str, "linux");
	assert_int_equal(n[XEN_ELFNOTE_GUEST_OS].descsz, 6);
	assert_string_equal(n[XEN_ELFNOTE_GUEST_VERSION].str, "2.6");
	assert_string_equal(n[XEN_ELFNOTE_XEN_VERSION].str, "xen-3.0");
	assert_string_equal(n[XEN_ELFNOTE_LOADER].str, "generic");
	assert_string_equal(n[XEN_ELFNOTE_PAE_MODE].str, "yes");
	assert_string_equal(n[XEN_ELFNOTE_FEATURES].str,
			    "!writable_page_tables|pae_pgdir_above_4gb|no_such_feature");
	assert_false(n[XEN_ELFNOTE_BSD_SYMTAB].present);

	assert_int_equal(n[XEN_ELFNOTE_ENTRY].kind, PV_NOTE_NUM);
	assert_int_equal(n[XEN_ELFNOTE_ENTRY].num, KSTART);
	assert_int_equal(n[XEN_ELFNOTE_ENTRY].descsz, 8);
	assert_int_equal(n[XEN_ELFNOTE_HYPERCALL_PAGE].num, HYPERCALL_PAGE);
	assert_int_equal(n[XEN_ELFNOTE_VIRT_BASE].num, VIRT_BASE);
	assert_int_equal(n[XEN_ELFNOTE_PADDR_OFFSET].num, 0);
	assert_true(n[XEN_ELFNOTE_PADDR_OFFSET].present);
	assert_int_equal(n[XEN_ELFNOTE_HV_START_LOW].num, 0xffff800000000000ull);
	assert_int_equal(n[XEN_ELFNOTE_SUSPEND_CANCEL].num, 1);
	assert_int_equal(n[XEN_ELFNOTE_SUSPEND_CANCEL].descsz, 4);
	assert_int_equal(n[XEN_ELFNOTE_INIT_P2M].num, 0x8000000000ull);
	assert_int_equal(n[XEN_ELFNOTE_MOD_START_PFN].num, 1);
	assert_int_equal(n[XEN_ELFNOTE_PHYS32_ENTRY].num, 0x1000040);

	/* 16 bytes: libelf's elf_note_numeric gives 0, the words are kept. */
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].kind, PV_NOTE_WORDS);
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].num, 0);
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].word_size, 8);
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].nwords, 2);
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].words[0], 1);
	assert_int_equal(n[XEN_ELFNOTE_L1_MFN_VALID].words[1], 1);

	assert_int_equal(n[XEN_ELFNOTE_SUPPORTED_FEATURES].kind, PV_NOTE_WORDS);
	assert_int_equal(n[XEN_ELFNOTE_SUPPORTED_FEATURES].word_size, 4);
	assert_int_equal(n[XEN_ELFNOTE_SUPPORTED_FEATURES].nwords, 1);
	assert_int_equal(n[XEN_ELFNOTE_SUPPORTED_FEATURES].words[0], 0x801);

	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].kind, PV_NOTE_WORDS);
	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].descsz, 12);
	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].nwords, 3);
	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].words[0], 0x200000);
	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].words[1], 0x1000000);
	assert_int_equal(n[PV_NOTE_PHYS32_RELOC].words[2], 0x3fffffff);

	for (unsigned t = 0; t < PV_NOTE_NR; t++) {
		if (t == XEN_ELFNOTE_BSD_SYMTAB)
			continue;
		assert_true(n[t].present);
		assert_int_equal(n[t].type, t);
	}
}

static void test_parms(void **state)
{
	const struct pv_dom_parms *p = &img.parms;

	(void)state;
	read_ok("xen.elf", &img);
	assert_int_equal(img.e_entry, KSTART);
	assert_int_equal(img.pstart, 0x1000000);
	assert_int_equal(img.pend, 0x1006000);

	assert_string_equal(p->loader, "generic");
	assert_string_equal(p->guest_os, "linux");
	assert_string_equal(p->guest_ver, "2.6");
	assert_string_equal(p->xen_ver, "xen-3.0");
	assert_true(p->pae);
	assert_false(p->bsd_symtab);
	assert_true(p->unmapped_initrd);
	/* FEATURES (no_such_feature is optional, so ignored) | SUPPORTED_FEATURES */
	assert_int_equal(p->f_supported,
			 FEAT(writable_page_tables) | FEAT(pae_pgdir_above_4gb) | FEAT(dom0));
	assert_int_equal(p->f_required, FEAT(writable_page_tables));
	assert_int_equal(p->virt_base, VIRT_BASE);
	assert_int_equal(p->elf_paddr_offset, 0);
	assert_int_equal(p->virt_offset, VIRT_BASE);
	assert_int_equal(p->virt_kstart, KSTART);
	assert_int_equal(p->virt_kend, KEND);
	assert_int_equal(p->virt_entry, KSTART);
	assert_int_equal(p->virt_hypercall, HYPERCALL_PAGE);
	assert_int_equal(p->virt_hv_start_low, 0xffff800000000000ull);
	assert_int_equal(p->p2m_base, 0x8000000000ull);
	assert_int_equal(p->phys_entry, 0x1000040);
}

/* Without a PT_NOTE segment the same notes come from SHT_NOTE sections. */
static void test_section_notes(void **state)
{
	(void)state;
	read_ok("xen.elf", &img);
	read_ok("shdr.elf", &img2);
	assert_int_equal(img2.notes_from, PV_NOTES_SHDR);
	img2.notes_from = PV_NOTES_PHDR;
	img2.elf_size = img.elf_size;
	assert_same_kernel(&img, &img2);
}

/*
 * The legacy string: PADDR_OFFSET defaults to virt_base (the fixture is
 * linked with p_paddr == vaddr, as such kernels were), HYPERCALL_PAGE is a
 * page number, and an unknown required feature only stops the parse
 * (elf_xen_parse ignores elf_xen_parse_guest_info's result).
 */
static void test_legacy_guest_info(void **state)
{
	const struct pv_dom_parms *p = &img.parms;

	(void)state;
	read_ok("legacy.elf", &img);
	assert_int_equal(img.notes_from, PV_NOTES_GUEST_INFO);
	assert_int_equal(img.nr_xen_notes, 0);
	assert_non_null(strstr(img.guest_info, "GUEST_OS=linux,GUEST_VER=2.6,"));
	assert_string_equal(p->guest_os, "linux");
	assert_string_equal(p->guest_ver, "2.6");
	assert_string_equal(p->xen_ver, "xen-3.0");
	assert_string_equal(p->loader, "generic");
	assert_true(p->pae);
	assert_int_equal(p->virt_base, VIRT_BASE);
	assert_int_equal(p->elf_paddr_offset, VIRT_BASE);
	assert_int_equal(p->virt_offset, 0);
	assert_int_equal(img.pstart, KSTART);
	assert_int_equal(p->virt_kstart, KSTART);
	assert_int_equal(p->virt_kend, KEND);
	assert_int_equal(p->virt_entry, KSTART);
	assert_int_equal(p->virt_hypercall, HYPERCALL_PAGE);
	assert_int_equal(p->f_supported, FEAT(writable_page_tables) |
						 FEAT(pae_pgdir_above_4gb) |
						 FEAT(supervisor_mode_kernel));
	assert_int_equal(p->f_required, FEAT(pae_pgdir_above_4gb));
	assert_int_equal(p->p2m_base, PV_UNSET_ADDR);
	assert_int_equal(p->virt_hv_start_low, PV_UNSET_ADDR);
	assert_int_equal(p->phys_entry, PV_UNSET_ADDR);
}

/*
 * BSD_SYMTAB "yes": virt_kend grows by elf_parse_bsdsyms' size (4.17):
 * u32 + ELF header + 3 section headers, then symtab and strtab, each
 * rounded to 8, after the 8-rounded end.  Sizes read here with gelf.
 */
static void test_bsd_symtab(void **state)
{
	uint64_t symtab = 0, strtab = 0, sz;
	size_t len, shstrndx;
	uint8_t *buf = slurp(fixture("bsdsyms.elf"), &len);
	Elf *elf;
	Elf_Scn *scn = NULL;

	(void)state;
	elf = elf_memory((char *)buf, len);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (sh.sh_type == SHT_SYMTAB)
			symtab = sh.sh_size;
		if (!strcmp(elf_strptr(elf, shstrndx, sh.sh_name), ".strtab"))
			strtab = sh.sh_size;
	}
	elf_end(elf);
	assert_true(symtab > 0 && strtab > 0);

	assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
	assert_true(img.parms.bsd_symtab);
	assert_string_equal(img.notes[XEN_ELFNOTE_BSD_SYMTAB].str, "yes");
	sz = 4 + 4 + 64 + 3 * 64;
	sz = (sz + 7) & ~7ull;
	sz = (sz + symtab + 7) & ~7ull;
	sz = (sz + strtab + 7) & ~7ull;
	assert_int_equal(img.parms.virt_kend, KEND + sz);
	assert_int_equal(img.parms.virt_kstart, KSTART);
	free(buf);
}

static void test_no_notes(void **state)
{
	int rc;

	(void)state;
	rc = pv_image_read_file(fixture("nonotes.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES,
		      "ERROR: Not a Xen-ELF image: No ELF notes or '__xen_guest' section found");
	assert_non_null(strstr(err.msg, "nonotes.elf: "));
}

static void test_no_xen_version(void **state)
{
	int rc;

	(void)state;
	rc = pv_image_read_file(fixture("noversion.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES,
		      "Xen will only load images built for Xen v3.0 (Not '')");
}

static void test_32bit(void **state)
{
	int rc;

	(void)state;
	rc = pv_image_read_file(fixture("xen32.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_UNSUPPORTED, "32-bit");
	assert_int_equal(img.elf_class, 32);
	assert_int_equal(img.elf_machine, EM_386);
	/* The notes were read (4-byte words) before the image was refused. */
	assert_int_equal(img.notes[XEN_ELFNOTE_VIRT_BASE].num, 0xc0000000);
	assert_int_equal(img.notes[XEN_ELFNOTE_VIRT_BASE].descsz, 4);
}

static void test_bad_note_sizes(void **state)
{
	int rc;

	(void)state;
	rc = pv_image_read_file(fixture("baddesc.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES, "malformed ELF note");
	rc = pv_image_read_file(fixture("badname.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES, "malformed ELF note");
}

/* libelf's ELF_MAX_TOTAL_NOTE_COUNT: 65536 notes, counted across regions. */
static void test_too_many_notes(void **state)
{
	int rc;

	(void)state;
	rc = pv_image_read_file(fixture("manynotes.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES, "too many ELF notes (more than 65536)");
	/* 200 PT_NOTE segments over the same 20 notes: bounded by bytes, not count. */
	rc = pv_image_read_file(fixture("overlap.elf"), &img, &err);
	assert_failed(rc, &err, PV_ERR_NOTES, "more than 4 times");
}

/* Patch one note of xen.elf in memory, then expect @code and @needle. */
static void expect_patched(uint32_t type, const void *val, size_t n, enum pv_errcode code,
			   const char *needle)
{
	size_t len;
	uint8_t *buf = slurp(fixture("xen.elf"), &len);

	memcpy(buf + note_desc_offset(buf, len, type), val, n);
	if (code == PV_OK) {
		assert_int_equal(pv_image_read_mem(buf, len, &img, &err), 0);
	} else {
		assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, code, needle);
	}
	free(buf);
}

static void test_refusals(void **state)
{
	uint64_t v;

	(void)state;
	/* LOADER "generic" alone is enough ... */
	expect_patched(XEN_ELFNOTE_GUEST_OS, "plan9", 6, PV_OK, NULL);
	assert_string_equal(img.parms.guest_os, "plan9");
	expect_patched(XEN_ELFNOTE_LOADER, "netbsd", 7, PV_OK, NULL);
	assert_string_equal(img.parms.loader, "netbsd");
	/* ... as is GUEST_OS "linux" alone; neither is not. */
	{
		size_t len;
		uint8_t *buf = slurp(fixture("xen.elf"), &len);

		memcpy(buf + note_desc_offset(buf, len, XEN_ELFNOTE_LOADER), "netbsd", 7);
		memcpy(buf + note_desc_offset(buf, len, XEN_ELFNOTE_GUEST_OS), "plan9", 6);
		assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, PV_ERR_NOTES,
			      "ERROR: Will only load images built for the generic loader or Linux images (Not 'netbsd' and 'plan9')");
		free(buf);
	}
	expect_patched(XEN_ELFNOTE_XEN_VERSION, "xen-2.0", 8, PV_ERR_NOTES,
		       "Xen will only load images built for Xen v3.0 (Not 'xen-2.0')");
	/* An unknown *required* feature is an error; unknown optional ones are not. */
	{
		size_t len, off;
		uint8_t *buf = slurp(fixture("xen.elf"), &len);

		off = find_once(buf, len, "|no_such_feature", 16);
		memcpy(buf + off, "|!o_such_feature", 16);
		assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, PV_ERR_NOTES,
			      "o_such_feature");
		free(buf);
	}
	v = KEND + 0x1000;
	expect_patched(XEN_ELFNOTE_ENTRY, &v, 8, PV_ERR_ELF_BOUNDS,
		       "ELF start or entries are out of bounds");
	v = KSTART + 0x1000; /* VIRT_BASE above the kernel start */
	expect_patched(XEN_ELFNOTE_VIRT_BASE, &v, 8, PV_ERR_ELF_BOUNDS,
		       "ELF start or entries are out of bounds");
	v = KSTART + 0x2000;
	expect_patched(XEN_ELFNOTE_INIT_P2M, &v, 8, PV_ERR_ELF_BOUNDS,
		       "P->M table base is out of bounds");
	v = KEND; /* just past the kernel: fine */
	expect_patched(XEN_ELFNOTE_INIT_P2M, &v, 8, PV_OK, NULL);
	assert_int_equal(img.parms.p2m_base, KEND);
}

/* PADDR_OFFSET without VIRT_BASE: turn the VIRT_BASE note into type 0x21. */
static void test_paddr_offset_without_virt_base(void **state)
{
	size_t len, off;
	uint8_t *buf = slurp(fixture("xen.elf"), &len);
	uint32_t type = 0x21;

	(void)state;
	off = note_desc_offset(buf, len, XEN_ELFNOTE_VIRT_BASE);
	/* The type word is 4 bytes before the 4-byte name "Xen\0". */
	memcpy(buf + off - 8, &type, 4);
	assert_failed(pv_image_read_mem(buf, len, &img, &err), &err, PV_ERR_NOTES,
		      "ERROR: ELF_PADDR_OFFSET set, VIRT_BASE unset");
	free(buf);
}

static void test_names(void **state)
{
	static const char *const names[PV_NOTE_NR] = {
		"INFO", "ENTRY", "HYPERCALL_PAGE", "VIRT_BASE", "PADDR_OFFSET", "XEN_VERSION",
		"GUEST_OS", "GUEST_VERSION", "LOADER", "PAE_MODE", "FEATURES", "BSD_SYMTAB",
		"HV_START_LOW", "L1_MFN_VALID", "SUSPEND_CANCEL", "INIT_P2M", "MOD_START_PFN",
		"SUPPORTED_FEATURES", "PHYS32_ENTRY", "PHYS32_RELOC",
	};

	(void)state;
	for (unsigned t = 0; t < PV_NOTE_NR; t++)
		assert_string_equal(pv_note_name(t), names[t]);
	assert_null(pv_note_name(PV_NOTE_NR));
	assert_null(pv_note_name(0x1000001));
	assert_int_equal(XEN_ELFNOTE_PHYS32_ENTRY, 18);
	assert_string_equal(pv_compression_name(PV_COMP_NONE), "none");
	assert_string_equal(pv_compression_name(PV_COMP_GZIP), "gzip");
	assert_string_equal(pv_compression_name(PV_COMP_BZIP2), "bzip2");
	assert_string_equal(pv_compression_name(PV_COMP_XZ), "xz");
	assert_string_equal(pv_compression_name(PV_COMP_LZMA), "lzma");
	assert_string_equal(pv_compression_name(PV_COMP_LZO), "lzo");
	assert_string_equal(pv_compression_name(PV_COMP_LZ4), "lz4");
	assert_string_equal(pv_compression_name(PV_COMP_ZSTD), "zstd");
}

/* A plain ELF "extracts" to an identical copy. */
static void test_extract_plain(void **state)
{
	size_t len, elf_len;
	uint8_t *buf = slurp(fixture("xen.elf"), &len);
	void *elf;

	(void)state;
	assert_int_equal(pv_image_extract_elf(buf, len, &elf, &elf_len, &err), 0);
	assert_int_equal(elf_len, len);
	assert_memory_equal(elf, buf, len);
	free(elf);
	free(buf);
}

/*
 * The kernel as a builder loads it: each PT_LOAD's file bytes where its
 * p_paddr + virt_offset puts them in [virt_kstart, virt_kend), zero in
 * between and past p_filesz (checked against gelf's own reading of the
 * program headers); a bzImage of the same ELF loads the same bytes; a
 * file cut inside a segment is refused with the segment named.
 */
static void test_load(void **state)
{
	size_t len, phnum;
	uint8_t *buf = slurp(fixture("xen.elf"), &len), *k, *kz, *want;
	uint64_t klen, kzlen, loaded = 0;
	struct pv_image bz;
	Elf *e;

	(void)state;
	assert_int_equal(pv_image_read_file(fixture("xen.elf"), &img, &err), 0);
	assert_int_equal(pv_image_load_file(fixture("xen.elf"), &img, &k, &klen, &err), 0);
	assert_int_equal(klen, img.parms.virt_kend - img.parms.virt_kstart);

	want = calloc(1, klen);
	assert_non_null(want);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory((char *)buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(e, (int)i, &ph));
		if (ph.p_type != PT_LOAD)
			continue;
		memcpy(want + ph.p_paddr + img.parms.virt_offset - img.parms.virt_kstart,
		       buf + ph.p_offset, ph.p_filesz);
		loaded += ph.p_filesz;
	}
	elf_end(e);
	assert_true(loaded > 0);
	assert_memory_equal(k, want, klen);

	assert_int_equal(pv_image_read_file(fixture("xen.xz.bzImage"), &bz, &err), 0);
	assert_int_equal(pv_image_load_file(fixture("xen.xz.bzImage"), &bz, &kz, &kzlen, &err), 0);
	assert_int_equal(kzlen, klen);
	assert_memory_equal(kz, k, klen);

	/* The first PT_LOAD claims more file bytes than the file has: refused, named. */
	{
		uint64_t phoff, filesz = len;
		uint16_t phentsize, n;
		FILE *f;

		memcpy(&phoff, buf + 0x20, 8);
		memcpy(&phentsize, buf + 0x36, 2);
		memcpy(&n, buf + 0x38, 2);
		for (uint16_t i = 0; i < n; i++) {
			uint32_t type;

			memcpy(&type, buf + phoff + i * phentsize, 4);
			if (type == PT_LOAD) {
				memcpy(buf + phoff + i * phentsize + 0x20, &filesz, 8);
				break;
			}
		}
		f = fopen(cache_path("badload.elf"), "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(pv_image_read_file(cache_path("badload.elf"), &bz, &err), 0);
		assert_int_equal(pv_image_load_file(cache_path("badload.elf"), &bz, &kz, &kzlen, &err), -1);
		assert_int_equal(err.code, PV_ERR_ELF_BOUNDS);
		assert_non_null(strstr(err.msg, "badload.elf: ELF: PT_LOAD 0 "));
		assert_non_null(strstr(err.msg, "is outside the file or the kernel's extent"));
	}
	free(kz);
	kz = NULL;
	free(want);
	free(k);
	free(kz);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_parms),
		cmocka_unit_test(test_section_notes),
		cmocka_unit_test(test_legacy_guest_info),
		cmocka_unit_test(test_bsd_symtab),
		cmocka_unit_test(test_no_notes),
		cmocka_unit_test(test_no_xen_version),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_bad_note_sizes),
		cmocka_unit_test(test_too_many_notes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_paddr_offset_without_virt_base),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_extract_plain),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, build_fixtures, NULL);
}
