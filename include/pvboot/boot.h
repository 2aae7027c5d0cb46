/*
 * The boot path: what a 64-bit PV guest does with the domain the builder
 * made, in the order of Linux 3.7 (docs/boot.md section 4), written once
 * against struct pv_platform so that it runs on the simulated Xen and in
 * pvboot's own PV kernel.
 *
 *   take over     read start_info, find the builder's mapping (its PMDs)
 *   page tables   own L4/L3/L2 for __ka and a direct map __va, sharing the
 *                 builder's L1s; pin, switch cr3, unpin and recycle the
 *                 builder's L4/L3/L2
 *   P2M tree      graft the builder's flat list (leaves point into it),
 *                 build the tools' tree, publish frame_list_list and max_pfn
 *   or P2M list   (mode "linear", Linux 3.19): a linear list at
 *                 P2M_LINEAR_VADDR adopts the builder's list in place;
 *                 publish p2m_cr3, p2m_vaddr, max_pfn, and frame_list_list
 *                 up to 512 GiB (~0 above)
 *   cleanup_highmap   __ka PMDs below the kernel and between it and the list
 *   revector      copy the leaves into direct-mapped pages, poison and free
 *                 the old list (mode "revector" only)
 *   cleanhighmap  every non-kernel __ka PMD from the list to the end of the
 *                 builder's mapping, and module space (modes "revector" and
 *                 "linear")
 *   module load   first fit in MODULES_VADDR..MODULES_END, 16 KiB and a
 *                 guard page, failing as vmalloc does on a stale PTE; its
 *                 code is called where it was mapped
 *   ramdisk       its checksum through the direct map, against the host's
 *   verify        every pfn against the builder's list and the M2P; no __ka
 *                 PMD between the kernel and MODULES_END; no page leaked
 *
 * The outcome is one line, "PVBOOT-RESULT {json}", on the console.
 */
#ifndef PVBOOT_BOOT_H
#define PVBOOT_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/platform.h>

enum pv_boot_mode {
	PV_MODE_REVECTOR,    /* Linux 3.7: copy the P2M, clean __ka */
	PV_MODE_NO_REVECTOR, /* before 3.7: leave it, and fail to load a module */
	PV_MODE_NULL,	     /* take over and stop: what the hypervisor alone costs */
	PV_MODE_LINEAR,	     /* Linux 3.19: the linear P2M list, past 512 GiB too */
	PV_MODE_NR
};

struct pv_boot_opts {
	enum pv_boot_mode mode;
	uint64_t virt_base;		   /* __START_KERNEL_map the guest is linked at */
	uint64_t kernel_start, kernel_end; /* the guest's own image, never unmapped */
	uint64_t fail_alloc;		   /* make the n-th page allocation fail (0: never) */
	/*
	 * Fault injection: called before each page allocation of the boot path
	 * with its number n (1, 2, ...: the count fail_alloc and
	 * pages_allocated use, __va page tables included); nonzero makes that
	 * allocation fail as fail_alloc does.  NULL: not called.  The fork
	 * checkpoints of tests/boot/fault_test.c are taken here.
	 */
	int (*alloc_hook)(void *ctx, uint64_t n);
	void *alloc_hook_ctx;
	bool verify_full;	/* every pfn, or a sample */
	bool skip_cleanhighmap; /* a broken boot on purpose: the test that must fail */
	bool ramdisk_sum_given; /* the host's pv_sum64 of the ramdisk ... */
	uint64_t ramdisk_sum;	/* ... to compare with what the guest reads */
	/*
	 * Do not read the ramdisk back at the end (ramdisk_ok -1): for a test
	 * that guards its frames itself, as tests/boot/fault_test.c's children
	 * do, where reading 263 MiB would be most of a run's cost.
	 */
	bool skip_ramdisk_read;
};

struct pv_boot_result {
	enum pv_boot_mode mode;
	uint64_t nr_pages;
	uint64_t p2m_leaves_copied;
	uint64_t ka_pmds_removed;
	uint64_t pfns_verified, mismatches;
	bool module_ok;
	char module_alloc[96]; /* "ok" or vmalloc's failure line */
	uint64_t module_vaddr;
	bool module_ran; /* its code ran at module_vaddr and returned the right value */
	uint64_t ramdisk_bytes;
	uint64_t ramdisk_sum; /* pv_sum64 of the ramdisk as the guest reads it at the end */
	int ramdisk_ok;	      /* 1 equal to the host's, 0 not, -1 nothing to compare */
	int64_t pages_leaked;
	uint64_t pages_allocated, pages_freed, pages_double_freed;
	uint64_t ka_pmds_left; /* non-kernel __ka PMDs up to MODULES_END at the end */
	char error[160];       /* why the boot stopped early, or "" */
};

/*
 * Run the boot path on @pf.  Returns 0 when every step ran (the result says
 * whether the module loaded and the checks held), -1 when a step failed
 * (result.error says which and why).  Either way it prints the
 * PVBOOT-RESULT line.
 */
int pv_boot(const struct pv_platform *pf, const struct pv_boot_opts *opts,
	    struct pv_boot_result *res);

/* The result line is the guest protocol's: <pvboot/protocol.h>, pv_result_format(). */

const char *pv_boot_mode_name(enum pv_boot_mode m);
int pv_boot_mode_parse(const char *s, enum pv_boot_mode *m);

#endif
