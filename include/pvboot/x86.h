/*
 * x86-64 address-space constants of a Linux 3.7 PV guest and of Xen, with
 * their meaning in the name (docs/boot.md section 1).
 */
#ifndef PVBOOT_X86_H
#define PVBOOT_X86_H

#define PAGE_SHIFT     12
#define PAGE_SIZE      (1ULL << PAGE_SHIFT)
#define PMD_SHIFT      21
#define PMD_SIZE       (1ULL << PMD_SHIFT) /* 2 MiB */
#define PUD_SHIFT      30
#define PUD_SIZE       (1ULL << PUD_SHIFT) /* 1 GiB */
#define PGDIR_SHIFT    39
#define PGDIR_SIZE     (1ULL << PGDIR_SHIFT) /* 512 GiB */
#define PTRS_PER_TABLE 512

#define START_KERNEL_MAP  0xffffffff80000000ULL /* __ka, virt_base of Linux */
#define PHYSICAL_START	  0x1000000ULL		/* _text = __ka + 16 MiB */
#define KERNEL_IMAGE_SIZE 0x20000000ULL		/* 512 MiB */
#define MODULES_VADDR	  (START_KERNEL_MAP + KERNEL_IMAGE_SIZE)
#define MODULES_END	  0xffffffffff000000ULL
#define PAGE_OFFSET	  0xffff880000000000ULL /* __va, the direct map */

/* Xen's own part (HYPERVISOR_VIRT_START/END) comes from <pvboot/xen-abi.h>. */

/*
 * What Linux can take of the builder's initial mapping without INIT_P2M:
 * the one L2 it grafts (level2_kernel_pgt, 1 GiB from __ka), and in theory
 * L3 slots 510 and 511 (2 GiB, to the top of the address space).
 */
#define INITIAL_MAPPING_LIMIT_1G (START_KERNEL_MAP + PUD_SIZE)

/* The 3-level P2M tree's 512 GiB of pfns is P2M_MAX_PFN, in <pvboot/p2m.h>. */

/* The INIT_P2M address Linux asks for: PUD_SIZE * PTRS_PER_PUD. */
#define LINUX_INIT_P2M 0x8000000000ULL

/*
 * Where mode linear puts its linear P2M list (p2m_vaddr): Linux 3.x's
 * VMALLOC_START, the vmalloc area where 3.19's xen_rebuild_p2m_list takes
 * the array (vm_area_register_early).  L4 slot 402, far from Xen's
 * (256..271), __va (272..) and __ka (511); the largest list pvboot makes
 * (256 TiB of guest) is a 512 GiB array, one L4 slot.
 */
#define P2M_LINEAR_VADDR 0xffffc90000000000ULL

#endif
