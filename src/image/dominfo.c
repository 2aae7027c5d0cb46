/*
 * What a Xen domain builder learns from a kernel's Xen notes or legacy
 * __xen_guest string, and the checks it makes before loading it.
 *
 * This is xen/common/libelf/libelf-dominfo.c (elf_xen_parse_note,
 * elf_xen_parse_features, elf_xen_parse_guest_info, elf_xen_note_check,
 * elf_xen_addr_calc_check) for PV guests (hvm == false), written against
 * buffers that elf.c has already bounds-checked.  Where libelf reads a
 * string until a NUL anywhere in the image, we stop at the end of the note
 * or section instead; for well-formed images the result is the same.
 */
#include <stdlib.h>
#include <string.h>

#include <elf.h>
#include <xen/elfnote.h>
#include <xen/features.h>

#include "image_internal.h"

_Static_assert(XEN_ELFNOTE_PHYS32_ENTRY + 1 == PV_NOTE_PHYS32_RELOC,
	       "PHYS32_RELOC follows PHYS32_ENTRY");
_Static_assert(PV_NOTE_PHYS32_RELOC + 1 == PV_NOTE_NR, "notes 0..19");

/* Cf. note_desc[] in elf_xen_parse_note, plus INFO and PHYS32_RELOC. */
static const struct {
	const char *name;
	enum pv_note_kind kind;
	unsigned word_size;
} note_desc[PV_NOTE_NR] = {
	[XEN_ELFNOTE_INFO] = {"INFO", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_ENTRY] = {"ENTRY", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_HYPERCALL_PAGE] = {"HYPERCALL_PAGE", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_VIRT_BASE] = {"VIRT_BASE", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_PADDR_OFFSET] = {"PADDR_OFFSET", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_XEN_VERSION] = {"XEN_VERSION", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_GUEST_OS] = {"GUEST_OS", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_GUEST_VERSION] = {"GUEST_VERSION", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_LOADER] = {"LOADER", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_PAE_MODE] = {"PAE_MODE", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_FEATURES] = {"FEATURES", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_BSD_SYMTAB] = {"BSD_SYMTAB", PV_NOTE_STR, 0},
	[XEN_ELFNOTE_HV_START_LOW] = {"HV_START_LOW", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_L1_MFN_VALID] = {"L1_MFN_VALID", PV_NOTE_WORDS, 8},
	[XEN_ELFNOTE_SUSPEND_CANCEL] = {"SUSPEND_CANCEL", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_INIT_P2M] = {"INIT_P2M", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_MOD_START_PFN] = {"MOD_START_PFN", PV_NOTE_NUM, 0},
	[XEN_ELFNOTE_SUPPORTED_FEATURES] = {"SUPPORTED_FEATURES", PV_NOTE_WORDS, 4},
	[XEN_ELFNOTE_PHYS32_ENTRY] = {"PHYS32_ENTRY", PV_NOTE_NUM, 0},
	/* Newer than Xen 4.17's elfnote.h: kept raw, as u32 words. */
	[PV_NOTE_PHYS32_RELOC] = {"PHYS32_RELOC", PV_NOTE_WORDS, 4},
};

const char *pv_note_name(uint32_t type)
{
	return type < PV_NOTE_NR ? note_desc[type].name : NULL;
}

void pvi_parms_init(struct pv_dom_parms *parms)
{
	/* Cf. the start of elf_xen_parse. */
	memset(parms, 0, sizeof(*parms));
	parms->virt_base = PV_UNSET_ADDR;
	parms->virt_entry = PV_UNSET_ADDR;
	parms->virt_hypercall = PV_UNSET_ADDR;
	parms->virt_hv_start_low = PV_UNSET_ADDR;
	parms->p2m_base = PV_UNSET_ADDR;
	parms->elf_paddr_offset = PV_UNSET_ADDR;
	parms->phys_entry = PV_UNSET_ADDR;
}

static uint64_t read_uint(const uint8_t *p, unsigned size, bool msb)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[msb ? size - 1 - i : i] << (8 * i);
	return v;
}

/* Cf. elf_note_numeric: only 1, 2, 4 and 8 byte descriptors have a value. */
static uint64_t note_numeric(const uint8_t *desc, uint32_t descsz, bool msb)
{
	switch (descsz) {
	case 1:
	case 2:
	case 4:
	case 8:
		return read_uint(desc, descsz, msb);
	default:
		return 0;
	}
}

/* Cf. elf_note_numeric_array. */
static uint64_t note_numeric_array(const uint8_t *desc, uint32_t descsz, unsigned unitsz,
				   unsigned idx, bool msb)
{
	if (descsz % unitsz || idx >= descsz / unitsz)
		return 0;
	return read_uint(desc + (size_t)idx * unitsz, unitsz, msb);
}

/* Copy at most @len bytes of @s, stopping at a NUL, truncating to @size. */
static void copy_str(char *dst, size_t size, const void *s, size_t len)
{
	const char *end = memchr(s, '\0', len);
	size_t n = end ? (size_t)(end - (const char *)s) : len;

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static const char *const feature_names[] = {
	[XENFEAT_writable_page_tables] = "writable_page_tables",
	[XENFEAT_writable_descriptor_tables] = "writable_descriptor_tables",
	[XENFEAT_auto_translated_physmap] = "auto_translated_physmap",
	[XENFEAT_supervisor_mode_kernel] = "supervisor_mode_kernel",
	[XENFEAT_pae_pgdir_above_4gb] = "pae_pgdir_above_4gb",
	[XENFEAT_hvm_callback_vector] = "hvm_callback_vector",
	[XENFEAT_dom0] = "dom0",
};
#define NR_FEATURES (sizeof(feature_names) / sizeof(feature_names[0]))

const char *pv_feature_name(unsigned bit)
{
	return bit < NR_FEATURES ? feature_names[bit] : NULL;
}

/*
 * Cf. elf_xen_parse_features: '|'-separated names, '!' marks a required
 * one.  A required feature Xen does not know is an error (returns -1 with
 * the offending token in @bad); an unknown optional one is ignored.  Tokens
 * longer than 63 bytes are cut into 63-byte pieces, as upstream does.  The
 * string ends at a NUL or after @len bytes.
 */
static int parse_features(const char *s, size_t len, uint32_t *supported, uint32_t *required,
			  char bad[64])
{
	char feature[64];
	size_t pos, n;
	unsigned i;

	for (pos = 0; pos < len && s[pos] != '\0'; pos += n) {
		memset(feature, 0, sizeof(feature));
		for (n = 0;; n++) {
			if (n >= sizeof(feature) - 1)
				break;
			if (pos + n >= len || s[pos + n] == '\0')
				break;
			if (s[pos + n] == '|') {
				n++;
				break;
			}
			feature[n] = s[pos + n];
		}

		for (i = 0; i < NR_FEATURES; i++) {
			if (!feature_names[i])
				continue;
			if (feature[0] == '!') {
				if (!strcmp(feature + 1, feature_names[i])) {
					*supported |= 1u << i;
					if (required)
						*required |= 1u << i;
					break;
				}
			} else if (!strcmp(feature, feature_names[i])) {
				*supported |= 1u << i;
				break;
			}
		}
		if (i == NR_FEATURES && required && feature[0] == '!') {
			memcpy(bad, feature, sizeof(feature));
			return -1;
		}
	}
	return 0;
}

/*
 * One note named "Xen" (cf. elf_xen_parse_note).  Types 0..19 are recorded
 * in img->notes; the types libelf knows also set img->parms.  A FEATURES note
 * requiring an unknown feature fails with PV_ERR_NOTES.
 */
int pvi_xen_note(struct pv_image *img, uint32_t type, const uint8_t *desc, uint32_t descsz,
		 bool msb, struct pv_error *err)
{
	struct pv_dom_parms *parms = &img->parms;
	struct pv_note *note;
	char bad[64];
	uint64_t val;

	img->nr_xen_notes++;
	if (type >= PV_NOTE_NR)
		return 0; /* "ELF: note: unknown" */

	note = &img->notes[type];
	memset(note, 0, sizeof(*note));
	note->present = true;
	note->type = type;
	note->descsz = descsz;
	note->kind = note_desc[type].kind;
	if (note->kind == PV_NOTE_STR) {
		copy_str(note->str, sizeof(note->str), desc, descsz);
	} else {
		note->num = note_numeric(desc, descsz, msb);
	}
	if (note->kind == PV_NOTE_WORDS) {
		note->word_size = note_desc[type].word_size;
		note->nwords = descsz / note->word_size;
		if (note->nwords > PV_NOTE_WORDS_MAX)
			note->nwords = PV_NOTE_WORDS_MAX;
		for (unsigned i = 0; i < note->nwords; i++)
			note->words[i] =
				read_uint(desc + (size_t)i * note->word_size, note->word_size, msb);
	}
	val = note->num;

	switch (type) {
	case XEN_ELFNOTE_LOADER:
		copy_str(parms->loader, sizeof(parms->loader), desc, descsz);
		break;
	case XEN_ELFNOTE_GUEST_OS:
		copy_str(parms->guest_os, sizeof(parms->guest_os), desc, descsz);
		break;
	case XEN_ELFNOTE_GUEST_VERSION:
		copy_str(parms->guest_ver, sizeof(parms->guest_ver), desc, descsz);
		break;
	case XEN_ELFNOTE_XEN_VERSION:
		copy_str(parms->xen_ver, sizeof(parms->xen_ver), desc, descsz);
		break;
	case XEN_ELFNOTE_PAE_MODE:
		/* "yes" is XEN_PAE_EXTCR3; "bimodal" anywhere is XEN_PAE_BIMODAL. */
		if (!strcmp(note->str, "yes") || strstr(note->str, "bimodal"))
			parms->pae = true;
		break;
	case XEN_ELFNOTE_BSD_SYMTAB:
		if (!strcmp(note->str, "yes"))
			parms->bsd_symtab = true;
		break;
	case XEN_ELFNOTE_VIRT_BASE:
		parms->virt_base = val;
		break;
	case XEN_ELFNOTE_ENTRY:
		parms->virt_entry = val;
		break;
	case XEN_ELFNOTE_INIT_P2M:
		parms->p2m_base = val;
		break;
	case XEN_ELFNOTE_MOD_START_PFN:
		parms->unmapped_initrd = val != 0;
		break;
	case XEN_ELFNOTE_PADDR_OFFSET:
		parms->elf_paddr_offset = val;
		break;
	case XEN_ELFNOTE_HYPERCALL_PAGE:
		parms->virt_hypercall = val;
		break;
	case XEN_ELFNOTE_HV_START_LOW:
		parms->virt_hv_start_low = val;
		break;
	case XEN_ELFNOTE_FEATURES:
		if (parse_features((const char *)desc, descsz, &parms->f_supported,
				   &parms->f_required, bad))
			return pv_fail(err, PV_ERR_NOTES,
				       "FEATURES note requires '%s', a feature Xen does not know",
				       bad + 1);
		break;
	case XEN_ELFNOTE_SUPPORTED_FEATURES:
		/* XENFEAT_NR_SUBMAPS is 1: only the first u32 counts. */
		parms->f_supported |= (uint32_t)note_numeric_array(desc, descsz, 4, 0, msb);
		break;
	case XEN_ELFNOTE_PHYS32_ENTRY:
		parms->phys_entry = val;
		break;
	}
	return 0;
}

/* One byte of the __xen_guest string; past its end reads as NUL. */
static unsigned char at(const uint8_t *s, size_t len, size_t i)
{
	return i < len ? s[i] : 0;
}

/*
 * The legacy "NAME=VALUE,NAME=VALUE" string (cf. elf_xen_parse_guest_info):
 * names are cut at 31 bytes, values at 127, values are read with base-0
 * strtoull, and HYPERCALL_PAGE is a page number.  Upstream's caller ignores
 * this function's result, so a required feature Xen does not know only
 * stops the parsing here; it is not an error.
 */
void pvi_xen_guest_info(struct pv_image *img, const uint8_t *s, size_t len)
{
	struct pv_dom_parms *parms = &img->parms;
	char name[32], value[128], bad[64];
	size_t h = 0, n;

	copy_str(img->guest_info, sizeof(img->guest_info), s, len);

	while (at(s, len, h)) {
		memset(name, 0, sizeof(name));
		memset(value, 0, sizeof(value));
		for (n = 0;; n++, h++) {
			if (n >= sizeof(name) - 1)
				break;
			if (at(s, len, h) == '\0')
				break;
			if (at(s, len, h) == ',') {
				h++;
				break;
			}
			if (at(s, len, h) == '=') {
				h++;
				for (n = 0;; n++, h++) {
					if (n >= sizeof(value) - 1)
						break;
					if (at(s, len, h) == '\0')
						break;
					if (at(s, len, h) == ',') {
						h++;
						break;
					}
					value[n] = (char)at(s, len, h);
				}
				break;
			}
			name[n] = (char)at(s, len, h);
		}

		if (!strcmp(name, "LOADER"))
			copy_str(parms->loader, sizeof(parms->loader), value, sizeof(value));
		if (!strcmp(name, "GUEST_OS"))
			copy_str(parms->guest_os, sizeof(parms->guest_os), value, sizeof(value));
		if (!strcmp(name, "GUEST_VER"))
			copy_str(parms->guest_ver, sizeof(parms->guest_ver), value, sizeof(value));
		if (!strcmp(name, "XEN_VER"))
			copy_str(parms->xen_ver, sizeof(parms->xen_ver), value, sizeof(value));
		if (!strcmp(name, "PAE")) {
			/* "yes[extended-cr3]" is EXTCR3, any other "yes..." is YES */
			if (!strncmp(value, "yes", 3))
				parms->pae = true;
		}
		if (!strcmp(name, "BSD_SYMTAB"))
			parms->bsd_symtab = true;

		if (!strcmp(name, "VIRT_BASE"))
			parms->virt_base = strtoull(value, NULL, 0);
		if (!strcmp(name, "VIRT_ENTRY"))
			parms->virt_entry = strtoull(value, NULL, 0);
		if (!strcmp(name, "ELF_PADDR_OFFSET"))
			parms->elf_paddr_offset = strtoull(value, NULL, 0);
		if (!strcmp(name, "HYPERCALL_PAGE"))
			parms->virt_hypercall = strtoull(value, NULL, 0) << 12;

		if (!strcmp(name, "FEATURES") &&
		    parse_features(value, sizeof(value), &parms->f_supported, &parms->f_required, bad))
			break;
	}

	if (parms->virt_base != PV_UNSET_ADDR && parms->virt_hypercall != PV_UNSET_ADDR)
		parms->virt_hypercall += parms->virt_base;
}

/*
 * Cf. elf_xen_note_check for a PV guest.  @have_notes is libelf's
 * "elf_note_start is valid": some PT_NOTE segment or SHT_NOTE section was
 * scanned, even if it held no Xen note.
 */
int pvi_xen_note_check(struct pv_image *img, bool have_notes, bool have_guest_info,
		       struct pv_error *err)
{
	const struct pv_dom_parms *parms = &img->parms;

	if (!have_notes && !have_guest_info) {
		if (img->elf_machine == EM_386 || img->elf_machine == EM_X86_64)
			return pv_fail(err, PV_ERR_NOTES,
				       "ERROR: Not a Xen-ELF image: No ELF notes or '__xen_guest' section found");
		return 0;
	}

	if (img->elf_machine == EM_ARM)
		return 0; /* "ELF: Not bothering with notes on ARM" */

	if ((parms->loader[0] == '\0' || strncmp(parms->loader, "generic", 7)) &&
	    (parms->guest_os[0] == '\0' || strncmp(parms->guest_os, "linux", 5)))
		return pv_fail(err, PV_ERR_NOTES,
			       "ERROR: Will only load images built for the generic loader or Linux images (Not '%s' and '%s') or with PHYS32_ENTRY set",
			       parms->loader, parms->guest_os);

	if (parms->xen_ver[0] == '\0' || strncmp(parms->xen_ver, "xen-3.0", 7))
		return pv_fail(err, PV_ERR_NOTES,
			       "ERROR: Xen will only load images built for Xen v3.0 (Not '%s')",
			       parms->xen_ver);
	return 0;
}

/*
 * Cf. elf_xen_addr_calc_check for a PV guest: fill in the defaults, compute
 * the kernel's virtual range from the ELF's physical one, and check it.
 * img->pstart/pend must be set; @bsd_symtab_pend is elf_parse_bsdsyms'
 * result (0 if there is no symbol table to load).  Arithmetic wraps modulo
 * 2^64 exactly as upstream's does.
 */
int pvi_xen_addr_calc_check(struct pv_image *img, bool have_notes, uint64_t bsd_symtab_pend,
			    struct pv_error *err)
{
	struct pv_dom_parms *parms = &img->parms;

	if (parms->elf_paddr_offset != PV_UNSET_ADDR && parms->virt_base == PV_UNSET_ADDR)
		return pv_fail(err, PV_ERR_NOTES, "ERROR: ELF_PADDR_OFFSET set, VIRT_BASE unset");

	if (parms->virt_base == PV_UNSET_ADDR)
		parms->virt_base = 0; /* "ELF: VIRT_BASE unset, using 0" */

	/*
	 * The legacy __xen_guest string defaults the offset to virt_base, as
	 * kernels of that era set p_paddr to the virtual address; ELF notes
	 * default it to 0.
	 */
	if (parms->elf_paddr_offset == PV_UNSET_ADDR)
		parms->elf_paddr_offset = have_notes ? 0 : parms->virt_base;

	parms->virt_offset = parms->virt_base - parms->elf_paddr_offset;
	parms->virt_kstart = img->pstart + parms->virt_offset;
	parms->virt_kend = img->pend + parms->virt_offset;

	if (parms->virt_entry == PV_UNSET_ADDR)
		parms->virt_entry = img->e_entry;

	if (parms->bsd_symtab && bsd_symtab_pend)
		parms->virt_kend = bsd_symtab_pend + parms->virt_offset;

	if (parms->virt_kstart > parms->virt_kend || parms->virt_entry < parms->virt_kstart ||
	    parms->virt_entry > parms->virt_kend || parms->virt_base > parms->virt_kstart)
		return pv_fail(err, PV_ERR_ELF_BOUNDS,
			       "ERROR: ELF start or entries are out of bounds (virt_base %#lx, kernel %#lx-%#lx, entry %#lx)",
			       (unsigned long)parms->virt_base, (unsigned long)parms->virt_kstart,
			       (unsigned long)parms->virt_kend, (unsigned long)parms->virt_entry);

	if (parms->p2m_base != PV_UNSET_ADDR && parms->p2m_base >= parms->virt_kstart &&
	    parms->p2m_base < parms->virt_kend)
		return pv_fail(err, PV_ERR_ELF_BOUNDS,
			       "ERROR: P->M table base is out of bounds (INIT_P2M %#lx inside the kernel %#lx-%#lx)",
			       (unsigned long)parms->p2m_base, (unsigned long)parms->virt_kstart,
			       (unsigned long)parms->virt_kend);
	return 0;
}
