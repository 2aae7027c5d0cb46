/*
 * A tiny PV "kernel" whose only purpose is to carry Xen ELF notes for the
 * image tests (tests/image/mkfixtures.sh assembles and links it).  The
 * notes mirror Linux's arch/x86/xen/xen-head.S; the values are the ones
 * tests/image/image_test.c expects.
 *
 * Variants, chosen with -D:
 *   LEGACY        no notes, only a __xen_guest string (pre-3.0.4 kernels)
 *   NO_NOTES      neither notes nor __xen_guest
 *   NO_XEN_VERSION  every note but XEN_VERSION
 *   BSD_SYMTAB    adds BSD_SYMTAB "yes" (the loader then appends symbols)
 *   BAD_DESCSZ    one note's descsz runs past the end of the notes
 *   BAD_NAMESZ    one note's namesz is 0xffffffff
 *   BITS32        a 32-bit (i386) image, assembled with --32
 *   MANY_NOTES    65537 more (empty, unnamed) notes: past libelf's limit
 */

#ifdef BITS32
#define WORD .long
#define VIRT_BASE 0xc0000000
#else
#define WORD .quad
#define VIRT_BASE 0xffffffff80000000
#endif

/* As Linux's include/linux/elfnote.h, without its headers. */
#define ELFNOTE(name, type, desc)			\
	.pushsection .note.name, "a", @note;		\
	.balign 4;					\
	.long 2f - 1f;		/* namesz */		\
	.long 4484f - 3f;	/* descsz */		\
	.long type;					\
1:	.asciz #name;					\
2:	.balign 4;					\
3:	desc;						\
4484:	.balign 4;					\
	.popsection

	.text
	.globl startup_xen
startup_xen:
	cld
1:	hlt
	jmp 1b

	.balign 0x1000
	.globl hypercall_page
hypercall_page:
	.fill 0x1000, 1, 0xcc

	.data
	.globl fixture_data
fixture_data:
	.long 0x12345678

	.bss
	.balign 0x1000
	.skip 0x3000

#if defined(LEGACY)
	.section __xen_guest, ""
	.ascii "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,"
	.ascii "VIRT_BASE=0xffffffff80000000,VIRT_ENTRY=0xffffffff81000000,"
	.ascii "HYPERCALL_PAGE=0x1001,LOADER=generic,PAE=yes[extended-cr3],"
	.asciz "FEATURES=writable_page_tables|!pae_pgdir_above_4gb|supervisor_mode_kernel"
#elif !defined(NO_NOTES)

	/* Not named "Xen": must be ignored (as type 1 it would be ENTRY). */
	.pushsection .note.pvboot, "a", @note
	.balign 4
	.long 7, 8, 1
	.asciz "pvboot"
	.balign 4
	.quad 0xdeadbeef
	.popsection

	ELFNOTE(Xen, 0, .asciz "pvboot test fixture")		/* INFO */
	ELFNOTE(Xen, 6, .asciz "linux")				/* GUEST_OS */
	ELFNOTE(Xen, 7, .asciz "2.6")				/* GUEST_VERSION */
#ifndef NO_XEN_VERSION
	ELFNOTE(Xen, 5, .asciz "xen-3.0")			/* XEN_VERSION */
#endif
	ELFNOTE(Xen, 3, WORD VIRT_BASE)				/* VIRT_BASE */
	ELFNOTE(Xen, 15, .quad 0x8000000000)			/* INIT_P2M */
	ELFNOTE(Xen, 1, WORD startup_xen)			/* ENTRY */
	ELFNOTE(Xen, 2, WORD hypercall_page)			/* HYPERCALL_PAGE */
	ELFNOTE(Xen, 10, .asciz "!writable_page_tables|pae_pgdir_above_4gb|no_such_feature")
	/* (1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_dom0) */
	ELFNOTE(Xen, 17, .long 0x801)				/* SUPPORTED_FEATURES */
	ELFNOTE(Xen, 9, .asciz "yes")				/* PAE_MODE */
	ELFNOTE(Xen, 13, .quad 1; .quad 1)			/* L1_MFN_VALID */
	ELFNOTE(Xen, 16, .long 1)				/* MOD_START_PFN */
	ELFNOTE(Xen, 12, .quad 0xffff800000000000)		/* HV_START_LOW */
	ELFNOTE(Xen, 4, WORD 0)					/* PADDR_OFFSET */
	ELFNOTE(Xen, 8, .asciz "generic")			/* LOADER */
	ELFNOTE(Xen, 14, .long 1)				/* SUSPEND_CANCEL */
	ELFNOTE(Xen, 18, .long 0x1000040)			/* PHYS32_ENTRY */
	ELFNOTE(Xen, 19, .long 0x200000; .long 0x1000000; .long 0x3fffffff) /* PHYS32_RELOC */
	ELFNOTE(Xen, 0x20, .long 0x55)				/* unknown type */
#ifdef BSD_SYMTAB
	ELFNOTE(Xen, 11, .asciz "yes")				/* BSD_SYMTAB */
#endif

#if defined(MANY_NOTES)
	.pushsection .note.many, "a", @note
	.balign 4
	.rept 65537
	.long 0, 0, 0
	.endr
	.popsection
#elif defined(BAD_DESCSZ)
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 4, 0xfffffff0, 7
	.asciz "Xen"
	.popsection
#elif defined(BAD_NAMESZ)
	.pushsection .note.Xen, "a", @note
	.balign 4
	.long 0xffffffff, 4, 7
	.asciz "Xen"
	.popsection
#endif
#endif

	.section .note.GNU-stack, "", @progbits
