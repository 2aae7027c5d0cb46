/*
 * ELF access for the image reader, through elfutils' libelf and gelf only:
 * headers, PT_LOAD extents, note scanning and the section lookups that
 * elf_xen_parse() needs.  The Xen-specific rules live in dominfo.c.
 *
 * Cf. xen/common/libelf/libelf-dominfo.c (elf_xen_parse,
 * elf_xen_parse_notes) and libelf-loader.c (elf_init, elf_parse_binary,
 * elf_parse_bsdsyms).  Upstream's libelf tolerates offsets past the end of
 * the image by reading zeros and marking the image "broken"; here every
 * offset and length taken from the file is checked first, and a note or
 * table that does not fit is an error.
 */
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

#include "image_internal.h"

/* libelf's ELF_MAX_TOTAL_NOTE_COUNT */
#define MAX_TOTAL_NOTES 65536

struct scan {
	Elf *elf;
	const uint8_t *image;
	size_t size;
	bool msb;	      /* ELFDATA2MSB: note values are big-endian */
	unsigned total_notes; /* every note seen, Xen's or not */
	unsigned xen_notes;   /* notes named "Xen" */
	uint64_t note_bytes;  /* bytes of note regions read so far */
	bool have_notes;      /* a note region was scanned (elf_note_start) */
};

bool pvi_is_elf(const uint8_t *buf, size_t len)
{
	return len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG);
}

/* Is [off, off + len) inside the file? */
static bool in_file(const struct scan *s, uint64_t off, uint64_t len)
{
	return off <= s->size && len <= s->size - off;
}

static int elf_error(struct pv_error *err, const char *what)
{
	return pv_fail(err, PV_ERR_FORMAT, "invalid ELF image: %s: %s", what, elf_errmsg(-1));
}

/*
 * A name of "Xen" (namesz 4 with its NUL; a namesz of 3 still matches when
 * the padding byte is NUL, as upstream's strcmp would).  The byte at
 * name[3] is inside the note: gelf_getnote has checked the padded name.
 */
static bool is_xen_name(const char *name, uint32_t namesz)
{
	return namesz >= 3 && !memcmp(name, "Xen", 4);
}

/*
 * Cf. elf_xen_parse_notes: walk the notes in [off, off + len) of the file,
 * handing those named "Xen" to dominfo.c.  @where names the region for
 * error messages ("PT_NOTE segment 2").
 */
static int scan_notes(struct scan *s, uint64_t off, uint64_t len, const char *where, unsigned index,
		      struct pv_image *img, struct pv_error *err)
{
	Elf_Data *data;
	size_t pos = 0;

	s->have_notes = true;
	if (!in_file(s, off, len))
		return pv_fail(err, PV_ERR_FORMAT,
			       "%s %u (offset %#lx, size %#lx) runs past the end of the file (%#zx bytes)",
			       where, index, (unsigned long)off, (unsigned long)len, s->size);
	if (len == 0)
		return 0;
	/*
	 * libelf copies a chunk it has to realign or byte-swap, and keeps it
	 * until elf_end: do not let many overlapping note headers multiply
	 * the image.  A real kernel reads its notes at most twice (segment,
	 * then sections).
	 */
	s->note_bytes += len;
	if (s->note_bytes > 4 * (uint64_t)s->size)
		return pv_fail(err, PV_ERR_NOTES,
			       "too many ELF notes (note segments and sections cover the file more than 4 times)");

	/*
	 * ELF_T_NHDR (not NHDR8) walks the notes with 4-byte alignment
	 * whatever the section's alignment, as upstream's elf_note_next does.
	 */
	data = elf_getdata_rawchunk(s->elf, (int64_t)off, len, ELF_T_NHDR);
	if (!data)
		return elf_error(err, "cannot read notes");

	while (pos < data->d_size) {
		GElf_Nhdr nhdr;
		size_t name_off, desc_off, next;

		if (s->total_notes >= MAX_TOTAL_NOTES)
			return pv_fail(err, PV_ERR_NOTES, "too many ELF notes (more than %u)",
				       MAX_TOTAL_NOTES);
		s->total_notes++;

		next = gelf_getnote(data, pos, &nhdr, &name_off, &desc_off);
		if (next == 0)
			return pv_fail(err, PV_ERR_NOTES,
				       "malformed ELF note at offset %#zx of %s %u: its header, namesz or descsz runs past the end",
				       pos, where, index);

		if (is_xen_name((const char *)data->d_buf + name_off, nhdr.n_namesz)) {
			int rc = pvi_xen_note(img, nhdr.n_type,
					      (const uint8_t *)data->d_buf + desc_off,
					      nhdr.n_descsz, s->msb, err);
			if (rc)
				return rc;
			s->xen_notes++;
		}
		pos = next;
	}
	return 0;
}

/* Cf. elf_xen_parse: PT_NOTE segments first. */
static int scan_phdr_notes(struct scan *s, size_t phnum, struct pv_image *img, struct pv_error *err)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;
		int rc;

		if (!gelf_getphdr(s->elf, (int)i, &phdr))
			return elf_error(err, "cannot read program header");
		if (phdr.p_type != PT_NOTE)
			continue;
		/* Some versions of binutils do not set p_offset for notes. */
		if (phdr.p_offset == 0)
			continue;
		rc = scan_notes(s, phdr.p_offset, phdr.p_filesz, "PT_NOTE segment", (unsigned)i,
				img, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* ... then SHT_NOTE sections if no segment held a Xen note. */
static int scan_shdr_notes(struct scan *s, size_t shnum, struct pv_image *img, struct pv_error *err)
{
	for (size_t i = 1; i < shnum; i++) {
		Elf_Scn *scn = elf_getscn(s->elf, i);
		GElf_Shdr shdr;
		int rc;

		if (!scn || !gelf_getshdr(scn, &shdr))
			return elf_error(err, "cannot read section header");
		if (shdr.sh_type != SHT_NOTE)
			continue;
		rc = scan_notes(s, shdr.sh_offset, shdr.sh_size, "SHT_NOTE section", (unsigned)i,
				img, err);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * The first section called @name (cf. elf_shdr_by_name), its contents in
 * @data and @len.  Returns 1 if found, 0 if not, -1 on error.
 */
static int find_section(struct scan *s, size_t shnum, const char *name, const uint8_t **data,
			size_t *len, struct pv_error *err)
{
	size_t shstrndx;

	if (elf_getshdrstrndx(s->elf, &shstrndx))
		return 0; /* no section names: upstream's name is "unknown" */

	for (size_t i = 0; i < shnum; i++) {
		Elf_Scn *scn = elf_getscn(s->elf, i);
		GElf_Shdr shdr;
		const char *sname;

		if (!scn || !gelf_getshdr(scn, &shdr))
			return elf_error(err, "cannot read section header");
		sname = elf_strptr(s->elf, shstrndx, shdr.sh_name);
		if (!sname || strcmp(sname, name))
			continue;
		if (shdr.sh_type == SHT_NOBITS) {
			*data = s->image;
			*len = 0;
			return 1;
		}
		if (!in_file(s, shdr.sh_offset, shdr.sh_size))
			return pv_fail(err, PV_ERR_FORMAT,
				       "section %s (offset %#lx, size %#lx) runs past the end of the file (%#zx bytes)",
				       name, (unsigned long)shdr.sh_offset,
				       (unsigned long)shdr.sh_size, s->size);
		*data = s->image + shdr.sh_offset;
		*len = shdr.sh_size;
		return 1;
	}
	return 0;
}

/*
 * Cf. elf_parse_binary: the lowest p_paddr and highest p_paddr + p_memsz of
 * the loadable segments (PT_LOAD with any of R, W, X), not page-rounded.
 * With none, pstart > pend and the address checks fail later, as upstream.
 */
static int parse_binary(struct scan *s, size_t phnum, struct pv_image *img, struct pv_error *err)
{
	uint64_t low = ~(uint64_t)0, high = 0;

	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(s->elf, (int)i, &phdr))
			return elf_error(err, "cannot read program header");
		if (phdr.p_type != PT_LOAD || !(phdr.p_flags & (PF_R | PF_W | PF_X)))
			continue;
		if (low > phdr.p_paddr)
			low = phdr.p_paddr;
		if (high < phdr.p_paddr + phdr.p_memsz)
			high = phdr.p_paddr + phdr.p_memsz;
	}
	img->pstart = low;
	img->pend = high;
	return 0;
}

static uint64_t round_up(const struct pv_image *img, uint64_t addr)
{
	uint64_t r = img->elf_class == 64 ? 7 : 3;

	return (addr + r) & ~r;
}

/*
 * Cf. elf_init's symbol-table search and elf_parse_bsdsyms (Xen 4.8 and
 * later, as in 4.17): where the symbol table a BSD_SYMTAB kernel asks for
 * would end, when loaded after @pend as a 4-byte size, an ELF header, three
 * section headers, the symtab and its strtab, each rounded to the ELF class
 * alignment.  0 if there is no usable symbol table (upstream marks the image
 * broken and leaves virt_kend alone).
 */
static uint64_t bsdsyms_end(struct scan *s, size_t shnum, const struct pv_image *img)
{
	const uint64_t ehdr_size = 64; /* elf_ehdr, a union of both classes */
	const uint64_t shdr_size = img->elf_class == 64 ? 64 : 40;
	GElf_Shdr symtab, strtab;
	Elf_Scn *scn;
	size_t i;
	uint64_t sz;

	for (i = 1; i < shnum; i++) {
		scn = elf_getscn(s->elf, i);
		if (!scn || !gelf_getshdr(scn, &symtab))
			return 0;
		if (symtab.sh_type != SHT_SYMTAB)
			continue;
		if (symtab.sh_link == SHN_UNDEF || symtab.sh_link >= shnum)
			return 0;
		break;
	}
	if (i >= shnum)
		return 0;
	scn = elf_getscn(s->elf, symtab.sh_link);
	if (!scn || !gelf_getshdr(scn, &strtab) || strtab.sh_type != SHT_STRTAB)
		return 0;

	/* sizeof(uint32_t) + offsetof(struct elf_sym_header, elf_header.section) */
	sz = 4 + (4 + ehdr_size) + 3 * shdr_size;
	sz = round_up(img, sz);
	sz = round_up(img, sz + symtab.sh_size);
	sz = round_up(img, sz + strtab.sh_size);
	return round_up(img, img->pend) + sz;
}

/*
 * Cf. elf_init's sanity checks: the header tables must lie inside the file,
 * and their entries must have the size libelf will read them with.  The
 * counts are the header's own (libelf's only go past 0xffff through the
 * extended numbering in section 0), since elfutils quietly reports no
 * sections at all when the table lies outside the image.
 */
static int check_tables(struct scan *s, const GElf_Ehdr *ehdr, size_t phnum, size_t shnum,
			struct pv_error *err)
{
	size_t phent = gelf_fsize(s->elf, ELF_T_PHDR, 1, EV_CURRENT);
	size_t shent = gelf_fsize(s->elf, ELF_T_SHDR, 1, EV_CURRENT);
	uint64_t e_phnum = ehdr->e_phnum == PN_XNUM ? phnum : ehdr->e_phnum;
	uint64_t e_shnum = ehdr->e_shnum ? ehdr->e_shnum : shnum;

	if (e_phnum && ehdr->e_phentsize != phent)
		return pv_fail(err, PV_ERR_FORMAT, "invalid ELF image: e_phentsize %u, expected %zu",
			       ehdr->e_phentsize, phent);
	if (e_shnum && ehdr->e_shentsize != shent)
		return pv_fail(err, PV_ERR_FORMAT, "invalid ELF image: e_shentsize %u, expected %zu",
			       ehdr->e_shentsize, shent);
	if (!in_file(s, ehdr->e_phoff, e_phnum * phent))
		return pv_fail(err, PV_ERR_FORMAT,
			       "ELF: phdr overflow (%lu headers at offset %#lx, file is %#zx bytes)",
			       (unsigned long)e_phnum, (unsigned long)ehdr->e_phoff, s->size);
	if (!in_file(s, ehdr->e_shoff, e_shnum * shent))
		return pv_fail(err, PV_ERR_FORMAT,
			       "ELF: shdr overflow (%lu headers at offset %#lx, file is %#zx bytes)",
			       (unsigned long)e_shnum, (unsigned long)ehdr->e_shoff, s->size);
	if (e_phnum != phnum || e_shnum != shnum)
		return pv_fail(err, PV_ERR_FORMAT,
			       "invalid ELF image: libelf sees %zu program and %zu section headers, the header says %lu and %lu",
			       phnum, shnum, (unsigned long)e_phnum, (unsigned long)e_shnum);
	return 0;
}

static int check_machine(const struct pv_image *img, struct pv_error *err)
{
	if (img->elf_class == 64 && img->elf_machine == EM_X86_64)
		return 0;
	/*
	 * xc_dom_guest_type would call this xen-3.0-x86_32p; Debian builds
	 * Xen without CONFIG_PV32, so no such guest can boot.
	 */
	if (img->elf_machine == EM_386)
		return pv_fail(err, PV_ERR_UNSUPPORTED,
			       "32-bit x86 PV kernel (xen-3.0-x86_32p): only 64-bit PV kernels are supported");
	return pv_fail(err, PV_ERR_UNSUPPORTED,
		       "ELF machine %u, class %u: not a 64-bit x86 (EM_X86_64) PV kernel",
		       img->elf_machine, img->elf_class);
}

/*
 * Cf. elf_xen_parse (PV) followed by xc_dom_guest_type: fills the ELF fields
 * of @img, every Xen note, the parms, and checks them.  @elf must stay
 * valid (and is not modified by us) until this returns.
 */
int pvi_elf_parse(uint8_t *elf, size_t len, struct pv_image *img, struct pv_error *err)
{
	struct scan s = {.image = elf, .size = len};
	const uint8_t *guest_info = NULL;
	size_t phnum, shnum, guest_info_len = 0;
	bool have_guest_info = false;
	GElf_Ehdr ehdr;
	int rc = -1, found;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return pv_fail(err, PV_ERR_FORMAT, "libelf is out of date");
	if (!pvi_is_elf(elf, len))
		return pv_fail(err, PV_ERR_FORMAT, "not an ELF image (no ELF magic)");

	s.elf = elf_memory((char *)elf, len);
	if (!s.elf)
		return elf_error(err, "elf_memory");
	if (elf_kind(s.elf) != ELF_K_ELF || !gelf_getehdr(s.elf, &ehdr)) {
		elf_error(err, "cannot read the ELF header");
		goto out;
	}
	img->elf_class = gelf_getclass(s.elf) == ELFCLASS64 ? 64 : 32;
	img->elf_machine = ehdr.e_machine;
	img->e_entry = ehdr.e_entry;
	img->elf_size = len;
	s.msb = ehdr.e_ident[EI_DATA] == ELFDATA2MSB;

	if (elf_getphdrnum(s.elf, &phnum) || elf_getshdrnum(s.elf, &shnum)) {
		elf_error(err, "cannot count the headers");
		goto out;
	}
	if (check_tables(&s, &ehdr, phnum, shnum, err) || parse_binary(&s, phnum, img, err))
		goto out;

	pvi_parms_init(&img->parms);
	if (scan_phdr_notes(&s, phnum, img, err))
		goto out;
	img->notes_from = s.xen_notes ? PV_NOTES_PHDR : PV_NOTES_NONE;

	if (s.xen_notes == 0) {
		if (scan_shdr_notes(&s, shnum, img, err))
			goto out;
		if (s.xen_notes)
			img->notes_from = PV_NOTES_SHDR; /* "using notes from SHT_NOTE section" */
	}

	if (s.xen_notes == 0) {
		found = find_section(&s, shnum, "__xen_guest", &guest_info, &guest_info_len, err);
		if (found < 0)
			goto out;
		if (found) {
			have_guest_info = true;
			s.have_notes = false; /* elf_note_start = ELF_INVALID_PTRVAL */
			img->notes_from = PV_NOTES_GUEST_INFO;
			pvi_xen_guest_info(img, guest_info, guest_info_len);
		}
	}

	if (pvi_xen_note_check(img, s.have_notes, have_guest_info, err) ||
	    pvi_xen_addr_calc_check(img, s.have_notes,
				    img->parms.bsd_symtab ? bsdsyms_end(&s, shnum, img) : 0, err) ||
	    check_machine(img, err))
		goto out;
	rc = 0;
out:
	elf_end(s.elf);
	return rc;
}

/*
 * Cf. elf_load_binary: every loadable segment's file bytes at its p_paddr
 * + virt_offset, zero for the rest of its p_memsz, into a buffer that is
 * [virt_kstart, virt_kend) of the kernel's mapping.  The BSD symbol table
 * that some images ask for past the end is not loaded: it stays zero.
 */
int pvi_elf_load(uint8_t *elf, size_t len, const struct pv_image *img, uint8_t **out,
		 uint64_t *out_len, struct pv_error *err)
{
	const struct pv_dom_parms *p = &img->parms;
	uint64_t size = p->virt_kend - p->virt_kstart;
	size_t phnum;
	uint8_t *buf;
	Elf *e;
	int rc = -1;

	if (p->virt_kend < p->virt_kstart || size > (1ULL << 32))
		return pv_fail(err, PV_ERR_ELF_BOUNDS, "ELF: a %llu-byte kernel extent is not loadable",
			       (unsigned long long)size);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return elf_error(err, "elf_version");
	e = elf_memory((char *)elf, len);
	if (!e)
		return elf_error(err, "elf_memory");
	buf = calloc(1, size ? size : 1);
	if (!buf) {
		elf_end(e);
		return pv_fail(err, PV_ERR_NOMEM, "ELF: no memory for a %llu-byte kernel",
			       (unsigned long long)size);
	}
	if (elf_getphdrnum(e, &phnum)) {
		elf_error(err, "cannot count program headers");
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		uint64_t at;

		if (!gelf_getphdr(e, (int)i, &ph)) {
			elf_error(err, "cannot read program header");
			goto out;
		}
		if (ph.p_type != PT_LOAD || !(ph.p_flags & (PF_R | PF_W | PF_X)))
			continue;
		at = ph.p_paddr + p->virt_offset - p->virt_kstart;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len || ph.p_filesz > len - ph.p_offset ||
		    ph.p_paddr + p->virt_offset < p->virt_kstart || at > size ||
		    ph.p_memsz > size - at) {
			pv_fail(err, PV_ERR_ELF_BOUNDS,
				"ELF: PT_LOAD %zu (offset %#llx, %#llx of %#llx bytes at paddr %#llx) is outside the file or the kernel's extent",
				i, (unsigned long long)ph.p_offset, (unsigned long long)ph.p_filesz,
				(unsigned long long)ph.p_memsz, (unsigned long long)ph.p_paddr);
			goto out;
		}
		memcpy(buf + at, elf + ph.p_offset, ph.p_filesz);
	}
	*out = buf;
	*out_len = size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	elf_end(e);
	return rc;
}
