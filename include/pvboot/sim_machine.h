/*
 * The simulated Xen's machine, for programs that drive a simulated domain
 * and look at it from outside, as the boot path's tests do: machine
 * memory, the hypervisor's page-type rules, a domain builder, and the
 * memory-image writer.  Host code; src/boot reaches it only through struct
 * pv_platform (sim_platform()), and the command through <pvboot/sim.h>,
 * one simulated boot from start to end.
 *
 * Machine memory is one host mapping reserved with MAP_NORESERVE: frame m
 * lives at mem + m * 4096 and costs host memory only once written, so a
 * 512 GiB guest costs about what its P2M list and page tables cost.
 *
 * The domain owns frames [dom_base, dom_base + nr_pages).  Its pfn -> mfn
 * assignment is computed, not stored: the first `contig` pfns (the builder's
 * initial region) map to one run of frames, as Xen's dom0 2^order chunk does;
 * the rest come in 2 MiB extents in reverse order, so that the P2M is not the
 * identity and a mix-up of pfn and mfn shows.  The M2P is the inverse.
 */
#ifndef PVBOOT_SIM_MACHINE_H
#define PVBOOT_SIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>
#include <pvboot/layout.h>
#include <pvboot/memimage.h>
#include <pvboot/p2m_read.h>
#include <pvboot/platform.h>
#include <pvboot/sim.h>

/* Page types, as Xen's PGT_*: a frame has one type at a time, with a count. */
enum sim_type {
	SIM_PGT_NONE = 0,
	SIM_PGT_L1 = 1,
	SIM_PGT_L2 = 2,
	SIM_PGT_L3 = 3,
	SIM_PGT_L4 = 4,
	SIM_PGT_WRITABLE = 5, /* mapped writable somewhere; count = writable mappings */
};

struct sim_frame {
	uint64_t mfn;	/* key; ~0 for an empty slot */
	uint32_t count; /* type references */
	uint8_t type;	/* enum sim_type */
	uint8_t pinned;
};

/* The frame-state table: an open-addressing hash holding frames with a type. */
struct sim_frames {
	struct sim_frame *slot;
	uint64_t cap; /* a power of two */
	uint64_t used;
};

struct sim {
	uint8_t *mem;	    /* machine memory, frame m at mem + m * 4096 */
	uint64_t nr_frames; /* machine frames in mem */
	uint64_t mem_bytes;

	/* The one domain. */
	uint64_t nr_pages;
	uint64_t dom_base;	  /* first machine frame the domain owns */
	uint64_t contig;	  /* pfns [0, contig) map to dom_base + pfn */
	uint64_t shared_info_mfn; /* Xen's page, which the guest may map */

	/*
	 * Frames [lazy_first, lazy_end) hold the builder's P2M list, computed
	 * from the assignment rather than stored: host memory behind them is
	 * made only while they are touched (machine.c).  Empty (0, 0) when
	 * the list is written out.  A pointer into them is good for user-space
	 * loads and stores only: never pass one to a system call.
	 */
	uint64_t lazy_first, lazy_end;
	uint64_t list_mfn;	 /* the list's first frame: what lazy frames are computed from */
	uint8_t *lazy_state;	 /* per 2 MiB chunk of the lazy range: enum in machine.c */
	uint64_t *lazy_ring;	 /* chunks made from the computation and not written since */
	uint64_t lazy_window;	 /* at most this many of them at a time (0: the default) */
	uint64_t lazy_ring_head, lazy_ring_len;
	uint64_t lazy_made, lazy_dropped, lazy_kept; /* chunks computed, given back, written */
	uint8_t *mem_map;			     /* what mmap gave: mem is aligned to 2 MiB in it */

	struct sim_frames frames;
	mfn_t cr3; /* the current L4; holds a type reference */

	/*
	 * The ramdisk's contents, if the caller has them: fill @n bytes from
	 * byte @offset (a multiple of 4096).  NULL: its frames read as zero.
	 */
	int (*ramdisk_read)(void *ctx, uint64_t offset, void *buf, size_t n);
	void *ramdisk_ctx;
	/*
	 * The kernel as loaded (pv_image_load_file): @kernel_len bytes for the
	 * kernel segment, from its first byte.  NULL: its frames read as zero.
	 */
	const uint8_t *kernel;
	uint64_t kernel_len;

	/* The vCPU at entry, as the builder sets it (vcpu_x86_64). */
	uint64_t rip, rsp, rsi; /* rsi: start_info's address */

	/* Counters for tests and reports. */
	uint64_t hypercalls, refused;
	char console[8192]; /* what the guest wrote, last part */
	size_t console_len;
	bool echo_console; /* also write it to stdout as it comes */
	bool shut_down;
	unsigned shutdown_reason;
};

/* machine.c: memory and the pfn <-> mfn assignment. */
int sim_init(struct sim *s, uint64_t nr_pages, uint64_t contig, struct pv_error *err);
void sim_fini(struct sim *s);
mfn_t sim_pfn_to_mfn(const struct sim *s, pfn_t pfn); /* the builder's assignment */
uint64_t sim_m2p(const struct sim *s, mfn_t mfn);     /* ~0 if not the domain's */
bool sim_owns(const struct sim *s, mfn_t mfn);
void *sim_frame(const struct sim *s, mfn_t mfn); /* host view; NULL beyond memory */
/* Give a frame's host memory back (contents become zero), as after a free. */
void sim_discard(struct sim *s, mfn_t mfn);
/*
 * The builder's list in frames [list, list + nr_frames): from now on its
 * whole 2 MiB chunks are computed when touched instead of stored (they
 * read as the list the builder writes); the frames at the two ends, in
 * chunks shared with other data, are left for the caller to write.
 */
int sim_lazy_list(struct sim *s, mfn_t list, uint64_t nr_frames, struct pv_error *err);
bool sim_lazy(const struct sim *s, mfn_t mfn); /* in the computed part of the list */
/* Page @k of the builder's list: its 512 entries (0 past the last pfn) into @page. */
void sim_list_page(const struct sim *s, uint64_t k, uint64_t *page);

/* mm.c: the hypervisor's page-table rules (Xen's get_page_type and friends). */
int sim_mmu_update(struct sim *s, uint64_t ptr, uint64_t val);
int sim_mmuext(struct sim *s, unsigned cmd, mfn_t mfn);
int sim_update_va_mapping(struct sim *s, uint64_t va, uint64_t pte);
/* The frame state, or NULL if the frame has no type. */
const struct sim_frame *sim_frame_state(const struct sim *s, mfn_t mfn);

/* walk.c: guest virtual addresses through the current tables. */
void *sim_va_ptr(struct sim *s, uint64_t va);
mfn_t sim_va_mfn(struct sim *s, uint64_t va); /* INVALID_MFN if unmapped */

/* builder.c: build the domain a layout describes, as that builder does. */
int sim_build(struct sim *s, const struct pv_layout *l, struct pv_error *err);
/* Pages the builder places for @l: give sim_init this as its contiguous head. */
uint64_t sim_builder_pages(const struct pv_layout *l);

/* platform.c */
struct pv_platform sim_platform(struct sim *s);

/* ---- dump.c, p2m_src.c: the memory image and the frame source ---- */

/*
 * Write the image of @s's domain to @path, through @path.tmp renamed at
 * the end: on any error (ENOSPC, EFBIG, ...) -1 with @err naming it, and
 * neither file left.  Reads machine memory with loads only (the lazy
 * list above), so its frames are made and dropped as the guest's are.
 */
int sim_dump(struct sim *s, const char *path, struct pv_sim_dump_stats *st, struct pv_error *err);

/* p2m_src.c: the frame source over @s's live domain. */
struct p2m_src sim_p2m_src(struct sim *s);

#endif
