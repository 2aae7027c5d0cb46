/*
 * The Xen ELF notes (docs/real-xen.md section 7.1,
 * docs/builders.md sections 3.2 and 3.3; xen/include/public/elfnote.h).
 * Each note: namesz, descsz, type, "Xen\0", then the descriptor, all 4-byte
 * aligned.  Addresses are 8-byte values, SUPPORTED_FEATURES 4 bytes.
 */
#include <xen/elfnote.h>
#include <xen/features.h>

#define VIRT_BASE 0xffffffff80000000

	.macro xen_note type, desc_start, desc_end
	.balign	4
	.long	4
	.long	\desc_end - \desc_start
	.long	\type
	.asciz	"Xen"
	.balign	4
	.endm

	.section .note.Xen, "a", @note

	.macro note_str type, str
	xen_note \type, 1f, 2f
1:	.asciz	"\str"
2:	.balign	4
	.endm

	.macro note_quad type, val
	xen_note \type, 1f, 2f
1:	.quad	\val
2:
	.endm

	.macro note_long type, val
	xen_note \type, 1f, 2f
1:	.long	\val
2:
	.endm

	note_str  XEN_ELFNOTE_GUEST_OS, "pvboot"
	note_str  XEN_ELFNOTE_GUEST_VERSION, "0.4"
	note_str  XEN_ELFNOTE_XEN_VERSION, "xen-3.0"
	note_str  XEN_ELFNOTE_LOADER, "generic"
	note_quad XEN_ELFNOTE_VIRT_BASE, VIRT_BASE
	note_quad XEN_ELFNOTE_PADDR_OFFSET, 0
	note_quad XEN_ELFNOTE_ENTRY, _start
	note_quad XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page
	/* As Linux: a dom0-capable 64-bit kernel that needs no writable page tables. */
	note_str  XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb"
	note_long XEN_ELFNOTE_SUPPORTED_FEATURES, (1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_dom0)

#ifdef PVBOOT_INIT_P2M
	/*
	 * build/pvboot-kernel-initp2m.elf: the builder maps the P2M list at
	 * 512 GiB (PGD slot 1, Linux's value) instead of inside __ka, and
	 * passes the ramdisk unmapped, its first pfn in mod_start.
	 */
	note_quad XEN_ELFNOTE_INIT_P2M, 0x8000000000
	note_long XEN_ELFNOTE_MOD_START_PFN, 1
#endif

	.section .note.GNU-stack, "", @progbits
