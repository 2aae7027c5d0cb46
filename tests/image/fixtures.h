/*
 * Shared helpers for the tests in tests/image: building and reading the
 * fixtures, and comparing what the image reader returns.  A header of
 * static functions, since each tests/image/NAME_test.c is its own binary.
 *
 * Include after <cmocka.h> and its prerequisites.
 */
#ifndef PVBOOT_TESTS_IMAGE_FIXTURES_H
#define PVBOOT_TESTS_IMAGE_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pvboot/image.h>

/* Where the tests may write: $PVBOOT_CACHE (set by the Makefile). */
static inline const char *cache_dir(void)
{
	const char *c = getenv("PVBOOT_CACHE");

	return c && *c ? c : "build/cache";
}

static inline const char *cache_path(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s", cache_dir(), name);
	return path;
}

static inline const char *fixture(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/fixtures/%s", cache_dir(), name);
	return path;
}

/* Build the fixtures (a few compressor runs; cheap enough to redo). */
static inline int build_fixtures(void **state)
{
	(void)state;
	if (system("sh tests/image/mkfixtures.sh >/dev/null") != 0) {
		fprintf(stderr, "tests/image/mkfixtures.sh failed\n");
		return -1;
	}
	return 0;
}

/* The whole file, in a malloc()ed buffer; fails the test if unreadable. */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;

	if (!f)
		fail_msg("cannot open %s", path);
	if (fstat(fileno(f), &st) < 0)
		fail_msg("cannot stat %s", path);
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

static inline void spew(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A failure the way callers rely on it: -1, a code, one line of text. */
static inline void assert_failed(int rc, const struct pv_error *err, enum pv_errcode code,
				 const char *needle)
{
	assert_int_equal(rc, -1);
	if (err->code != code)
		fail_msg("expected code %s, got %s: %s", pv_errcode_name(code),
			 pv_errcode_name(err->code), err->msg);
	assert_true(strlen(err->msg) > 0);
	assert_null(strchr(err->msg, '\n'));
	if (needle && !strstr(err->msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err->msg, needle);
}

static inline void assert_notes_equal(const struct pv_image *a, const struct pv_image *b)
{
	assert_int_equal(a->nr_xen_notes, b->nr_xen_notes);
	assert_int_equal(a->notes_from, b->notes_from);
	for (unsigned t = 0; t < PV_NOTE_NR; t++) {
		const struct pv_note *x = &a->notes[t], *y = &b->notes[t];

		assert_int_equal(x->present, y->present);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->descsz, y->descsz);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->num, y->num);
		assert_string_equal(x->str, y->str);
		assert_int_equal(x->nwords, y->nwords);
		assert_int_equal(x->word_size, y->word_size);
		for (unsigned i = 0; i < x->nwords; i++)
			assert_int_equal(x->words[i], y->words[i]);
	}
	assert_string_equal(a->guest_info, b->guest_info);
}

static inline void assert_parms_equal(const struct pv_dom_parms *a, const struct pv_dom_parms *b)
{
	assert_string_equal(a->loader, b->loader);
	assert_string_equal(a->guest_os, b->guest_os);
	assert_string_equal(a->guest_ver, b->guest_ver);
	assert_string_equal(a->xen_ver, b->xen_ver);
	assert_int_equal(a->pae, b->pae);
	assert_int_equal(a->bsd_symtab, b->bsd_symtab);
	assert_int_equal(a->unmapped_initrd, b->unmapped_initrd);
	assert_int_equal(a->f_supported, b->f_supported);
	assert_int_equal(a->f_required, b->f_required);
	assert_int_equal(a->virt_base, b->virt_base);
	assert_int_equal(a->elf_paddr_offset, b->elf_paddr_offset);
	assert_int_equal(a->virt_offset, b->virt_offset);
	assert_int_equal(a->virt_kstart, b->virt_kstart);
	assert_int_equal(a->virt_kend, b->virt_kend);
	assert_int_equal(a->virt_entry, b->virt_entry);
	assert_int_equal(a->virt_hypercall, b->virt_hypercall);
	assert_int_equal(a->virt_hv_start_low, b->virt_hv_start_low);
	assert_int_equal(a->p2m_base, b->p2m_base);
	assert_int_equal(a->phys_entry, b->phys_entry);
}

/* Everything the ELF inside two images determines must agree. */
static inline void assert_same_kernel(const struct pv_image *a, const struct pv_image *b)
{
	assert_int_equal(a->elf_size, b->elf_size);
	assert_int_equal(a->elf_class, b->elf_class);
	assert_int_equal(a->elf_machine, b->elf_machine);
	assert_int_equal(a->e_entry, b->e_entry);
	assert_int_equal(a->pstart, b->pstart);
	assert_int_equal(a->pend, b->pend);
	assert_notes_equal(a, b);
	assert_parms_equal(&a->parms, &b->parms);
}

/* The offset of the only occurrence of @needle in @buf; fails otherwise. */
static inline size_t find_once(const uint8_t *buf, size_t len, const void *needle, size_t n)
{
	const uint8_t *p = memmem(buf, len, needle, n), *q;

	if (!p)
		fail_msg("pattern not found");
	q = memmem(p + 1, len - (size_t)(p + 1 - buf), needle, n);
	if (q)
		fail_msg("pattern found twice");
	return (size_t)(p - buf);
}

#endif
