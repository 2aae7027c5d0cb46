/*
 * pvboot's PV kernel: entry, the hypercall page, exception entry and the
 * probe that lets the platform ask "is this address mapped?".
 *
 * Xen starts a 64-bit PV kernel in ring 3 (cs = FLAT_KERNEL_CS64) with
 * events masked, rsi = start_info and rsp = the builder's one-page boot
 * stack (docs/real-xen.md section 7.3).  That stack sits in the builder's
 * mapping after the page tables, which the boot path takes apart, so the
 * kernel moves to a stack of its own in .bss before running any C.
 */
#include <xen/xen.h>

#define STACK_SIZE (64 * 1024)

	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cld
	leaq	stack_top(%rip), %rsp
	movq	%rsi, %rdi		/* kernel_main(start_info) */
	call	kernel_main
1:	hlt				/* ring 3: traps, and Xen kills us: never reached */
	jmp	1b

/* Filled by Xen at build time: 128 stubs of 32 bytes (docs/real-xen.md section 7.4). */
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill	4096, 1, 0xcc

/*
 * probe_read(p): 1 if the byte at p can be read, 0 if reading it faults.
 * The page-fault entry below knows the address of the load and resumes a
 * faulting probe at probe_fault.
 */
	.text
	.globl probe_read
probe_read:
	movl	$1, %eax
	.globl probe_load
probe_load:
	movb	(%rdi), %cl
	ret
	.globl probe_fault
probe_fault:
	xorl	%eax, %eax
	ret

/*
 * Exception entry.  Xen bounces an exception to the guest kernel with
 * rcx and r11 pushed above the hardware frame:
 *     rcx, r11, [error code], rip, cs, rflags, rsp, ss
 * A page fault on probe_load returns to probe_fault with HYPERVISOR_iret
 * (whose stub pushes rax, r11, rcx above flags, rip, cs, rflags, rsp, ss).
 * Anything else is fatal: trap_fatal(vector, frame, has_error_code) prints it and ends the
 * domain.
 */
	.globl page_fault_entry
page_fault_entry:
	movq	(%rsp), %rcx
	movq	8(%rsp), %r11
	pushq	%rax
	leaq	probe_load(%rip), %rax
	cmpq	%rax, 32(%rsp)		/* rax, rcx, r11, error code, rip */
	jne	2f
	leaq	probe_fault(%rip), %rax
	movq	%rax, 32(%rsp)
	popq	%rax
	addq	$24, %rsp		/* drop rcx, r11 and the error code */
	pushq	$0			/* flags: not in a syscall */
	jmp	hypercall_page + __HYPERVISOR_iret * 32
2:	popq	%rax
	movq	$14, %rdi
	movq	%rsp, %rsi
	movl	$1, %edx
	jmp	trap_fatal_entry

	.macro trap_noerr vec
	.globl trap_entry_\vec
trap_entry_\vec:
	movq	$\vec, %rdi
	movq	%rsp, %rsi
	xorl	%edx, %edx		/* no error code in this frame */
	jmp	trap_fatal_entry
	.endm

	.macro trap_err vec
	.globl trap_entry_\vec
trap_entry_\vec:
	movq	$\vec, %rdi
	movq	%rsp, %rsi
	movl	$1, %edx
	jmp	trap_fatal_entry
	.endm

	trap_noerr 0
	trap_noerr 1
	trap_noerr 3
	trap_noerr 4
	trap_noerr 5
	trap_noerr 6
	trap_noerr 7
	trap_err 8
	trap_err 10
	trap_err 11
	trap_err 12
	trap_err 13
	trap_noerr 16
	trap_err 17
	trap_noerr 18
	trap_noerr 19

/* rdi = vector, rsi = the frame as Xen built it, edx = has an error code; never returns. */
trap_fatal_entry:
	andq	$~15, %rsp
	call	trap_fatal
3:	jmp	3b

	.bss
	.balign 4096
stack:
	.skip	STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
