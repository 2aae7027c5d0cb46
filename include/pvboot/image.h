/*
 * Kernel images as the Xen domain builders read them (host only).
 *
 * An image is an ELF file (vmlinux, or a small PV kernel) or a Linux bzImage
 * whose payload is a compressed ELF.  Reading one gives what libelf's
 * elf_xen_parse() gives a builder: every Xen ELF note, the legacy
 * __xen_guest string, and the computed addresses (virt_kstart, virt_kend,
 * virt_entry ...) after the checks of elf_xen_addr_calc_check().
 *
 * Cf. xen/common/libelf/libelf-dominfo.c and
 * tools/libs/guest/xg_dom_bzimageloader.c.
 */
#ifndef PVBOOT_IMAGE_H
#define PVBOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>
#include <pvboot/layout.h>

/* Note numbers 0..19 (Xen 4.17's elfnote.h stops at 18, PHYS32_ENTRY). */
#define PV_NOTE_PHYS32_RELOC 19
#define PV_NOTE_NR	     20

enum pv_image_format {
	PV_IMAGE_ELF,
	PV_IMAGE_BZIMAGE,
};

enum pv_compression {
	PV_COMP_NONE,
	PV_COMP_GZIP,
	PV_COMP_BZIP2,
	PV_COMP_XZ,
	PV_COMP_LZMA,
	PV_COMP_LZO,
	PV_COMP_LZ4,
	PV_COMP_ZSTD,
};

/* How a note's descriptor is read (cf. note_desc[] in libelf-dominfo.c). */
enum pv_note_kind {
	PV_NOTE_STR,   /* NUL-terminated string */
	PV_NOTE_NUM,   /* one number of 1, 2, 4 or 8 bytes */
	PV_NOTE_WORDS, /* an array of numbers (L1_MFN_VALID, SUPPORTED_FEATURES) */
};

#define PV_NOTE_STR_MAX	  256
#define PV_NOTE_WORDS_MAX 16

struct pv_note {
	bool present;
	uint32_t type;
	uint32_t descsz;
	enum pv_note_kind kind;
	uint64_t num;			   /* PV_NOTE_NUM: value; 0 for sizes libelf rejects */
	char str[PV_NOTE_STR_MAX];	   /* PV_NOTE_STR: the string, truncated */
	uint64_t words[PV_NOTE_WORDS_MAX]; /* PV_NOTE_WORDS: the elements */
	unsigned nwords;
	unsigned word_size; /* bytes per element: 8 for L1_MFN_VALID, 4 for features */
};

/* libelf's struct elf_dom_parms, the part a builder uses. */
struct pv_dom_parms {
	char loader[32], guest_os[32], guest_ver[32], xen_ver[32];
	bool pae; /* PAE_MODE "yes" (or bimodal) */
	bool bsd_symtab;
	bool unmapped_initrd; /* MOD_START_PFN != 0 */
	uint32_t f_supported; /* XENFEAT_* bits, submap 0 */
	uint32_t f_required;
	uint64_t virt_base;
	uint64_t elf_paddr_offset;
	uint64_t virt_offset;
	uint64_t virt_kstart, virt_kend;
	uint64_t virt_entry;
	uint64_t virt_hypercall;    /* PV_UNSET_ADDR if none */
	uint64_t virt_hv_start_low; /* PV_UNSET_ADDR if none */
	uint64_t p2m_base;	    /* INIT_P2M, PV_UNSET_ADDR if none */
	uint64_t phys_entry;	    /* PHYS32_ENTRY, PV_UNSET_ADDR if none */
};

struct pv_image {
	enum pv_image_format format;
	enum pv_compression compression; /* PV_COMP_NONE for a plain ELF */
	uint64_t file_size;		 /* bytes of the file as given */
	uint64_t elf_size;		 /* bytes of the (decompressed) ELF */
	uint16_t bzimage_version;	 /* boot protocol, e.g. 0x20f */
	uint64_t payload_offset, payload_length;

	unsigned elf_class;   /* 32 or 64 */
	unsigned elf_machine; /* EM_X86_64 ... */
	uint64_t e_entry;
	uint64_t pstart, pend; /* min p_paddr, max p_paddr + p_memsz of PT_LOAD */

	enum { PV_NOTES_NONE, PV_NOTES_PHDR, PV_NOTES_SHDR, PV_NOTES_GUEST_INFO } notes_from;
	struct pv_note notes[PV_NOTE_NR];
	unsigned nr_xen_notes; /* Xen notes seen, known or not */
	char guest_info[512];  /* the legacy __xen_guest string, if used */

	struct pv_dom_parms parms;
};

/*
 * Read a kernel image from a file or from memory.  On success fills @img
 * and returns 0.  On failure returns -1 with @err set: PV_ERR_IO (cannot
 * read), PV_ERR_FORMAT (not ELF/bzImage, truncated, lengths past the end),
 * PV_ERR_DECOMPRESS, PV_ERR_NOTES (no Xen notes, wrong LOADER/GUEST_OS or
 * XEN_VERSION, unknown required feature), PV_ERR_ELF_BOUNDS (libelf's
 * "ELF start or entries are out of bounds", "P->M table base is out of
 * bounds"), PV_ERR_UNSUPPORTED (not a 64-bit x86 image).  Never aborts.
 */
int pv_image_read_file(const char *path, struct pv_image *img, struct pv_error *err);
int pv_image_read_mem(const void *buf, size_t len, struct pv_image *img, struct pv_error *err);

/*
 * The decompressed ELF inside a bzImage (or a copy of a plain ELF), in a
 * buffer from malloc() that the caller frees.
 */
int pv_image_extract_elf(const void *buf, size_t len, void **elf, size_t *elf_len,
			 struct pv_error *err);

/*
 * The kernel as a domain builder loads it (elf_load_binary): the bytes of
 * [img->parms.virt_kstart, virt_kend), each loadable segment's file bytes
 * where its p_paddr puts them and zero around them (bss), in a buffer from
 * malloc() that the caller frees.  @img is what pv_image_read_file() read
 * from the same @path.
 */
int pv_image_load_file(const char *path, const struct pv_image *img, uint8_t **kernel,
		       uint64_t *len, struct pv_error *err);

const char *pv_compression_name(enum pv_compression c);
const char *pv_note_name(uint32_t type);   /* "GUEST_OS", ...; NULL if unknown */
const char *pv_feature_name(unsigned bit); /* XENFEAT_* name as libelf knows it, or NULL */

/*
 * The ramdisk length a domain builder uses for a file.  libxc before 4.20
 * gunzips a gzip ramdisk and sizes it as ISIZE + 16 (xc_dom_check_gzip)
 * when that is at most 1 GiB; from 4.11 it takes the larger of that and
 * the file size.  libxenguest 4.20 loads the file as it is, as the
 * hypervisor does; libxc maps no file over 1 GiB (docs/builders.md
 * section 3.5).
 */
enum pv_ramdisk_rule {
	PV_RAMDISK_LIBXC_42,  /* xc_dom_ramdisk_load */
	PV_RAMDISK_LIBXC_417, /* xc_dom_build_module, 4.11 to 4.19 */
	PV_RAMDISK_LIBXC_420, /* xc_dom_build_module, 4.20: the file's size */
	PV_RAMDISK_RAW,	      /* the hypervisor's dom0 builder */
};
int pv_ramdisk_length(const char *path, enum pv_ramdisk_rule rule, uint64_t *len,
		      struct pv_error *err);
/* The rule builder @b sizes a ramdisk by. */
enum pv_ramdisk_rule pv_ramdisk_rule_of(enum pv_builder b);

#endif
