/*
 * What the boot path (src/boot) needs from where it runs: a simulated Xen on
 * the host (src/sim) or the real hypervisor (kernel/platform).  The boot path
 * is freestanding and knows nothing else of its platform.
 *
 * Addresses.  The boot path thinks in guest virtual addresses (uint64_t
 * vaddr: __ka 0xffffffff80000000 + pfn, __va 0xffff880000000000 + pfn,
 * MODULES_VADDR ...) and in machine frames (mfn_t) for page-table entries.
 * To touch memory it asks for a pointer: va_ptr() turns a mapped vaddr into
 * something it can dereference.  In the PV kernel that is the address itself;
 * in the simulator it is the host memory behind the frame the guest's
 * current page tables map there, or NULL when they map nothing, which is
 * what a real guest would take as a page fault.  A pointer is good for the
 * rest of its 4 KiB page, and across pages only where the platform says so
 * (the builder's initial mapping is one run of frames on both).
 *
 * Every hypervisor call returns 0 or a negative Xen errno (-EINVAL, -EPERM
 * ...), exactly as the hypercall would; the boot path checks every one.
 */
#ifndef PVBOOT_PLATFORM_H
#define PVBOOT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/frame.h>
#include <pvboot/xen-abi.h>

struct pv_platform {
	void *ctx;

	/* The start_info page the domain builder handed over (rsi at entry). */
	start_info_t *start_info;
	/* The shared_info page, mapped (for arch.pfn_to_mfn_frame_list_list, max_pfn). */
	shared_info_t *shared_info;

	/* Write text to the console (dom0: console_io; domU: the PV console ring). */
	void (*console)(void *ctx, const char *s, size_t n);

	/* A pointer to guest virtual address @va, or NULL if nothing is mapped there. */
	void *(*va_ptr)(void *ctx, uint64_t va);

	/* The machine frame behind a pointer that va_ptr() gave (virt_to_mfn). */
	mfn_t (*ptr_mfn)(void *ctx, const void *ptr);

	/* machine_to_phys_mapping[@mfn], from Xen's read-only M2P; ~0 for none. */
	uint64_t (*m2p)(void *ctx, mfn_t mfn);

	/*
	 * HYPERVISOR_mmu_update with one MMU_NORMAL_PT_UPDATE request: set the
	 * 8-byte entry at machine address @ptr (table mfn << 12 | index * 8).
	 */
	int (*mmu_update)(void *ctx, uint64_t ptr, uint64_t val);

	/* HYPERVISOR_mmuext_op: MMUEXT_PIN_L1_TABLE ... MMUEXT_UNPIN_TABLE, MMUEXT_NEW_BASEPTR. */
	int (*mmuext)(void *ctx, unsigned cmd, mfn_t mfn);

	/* HYPERVISOR_update_va_mapping(@va, @pte, UVMF_INVLPG | UVMF_LOCAL). */
	int (*update_va_mapping)(void *ctx, uint64_t va, uint64_t pte);

	/*
	 * Optional (NULL on real Xen): the guest no longer needs @mfn's
	 * contents.  The simulator lets the host take the memory back.
	 */
	void (*discard)(void *ctx, mfn_t mfn);

	/* The machine frame of the current L4 (cr3). */
	mfn_t (*read_cr3)(void *ctx);

	/*
	 * Run the code at guest vaddr @va as uint64_t f(uint64_t @arg) and
	 * return what it returns.  The code is position independent; what it
	 * computes from its own address is translated back to @va.
	 */
	uint64_t (*call)(void *ctx, uint64_t va, uint64_t arg);

	/* End the domain: SCHEDOP_shutdown with @reason (SHUTDOWN_poweroff, _crash). */
	void (*shutdown)(void *ctx, unsigned reason);

	/*
	 * va_ptr(va) == va for every mapped va: the boot path runs in the
	 * guest's own address space (the PV kernel), so a structure it maps
	 * (the linear P2M list) can be read with plain loads.  False in the
	 * simulator, where guest addresses are not the host's.
	 */
	bool va_direct;
};

#endif
