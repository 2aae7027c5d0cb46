/*
 * x86-64 4-level page tables as a PV guest sees them (freestanding).
 *
 * A 48-bit virtual address, sign-extended to 64:
 *
 *   63      48 47     39 38     30 29     21 20     12 11          0
 *  +----------+---------+---------+---------+---------+-------------+
 *  | sign ext | L4 idx  | L3 idx  | L2 idx  | L1 idx  | page offset |
 *  +----------+---------+---------+---------+---------+-------------+
 *                PGD       PUD       PMD       PTE
 *              512 GiB    1 GiB     2 MiB     4 KiB    per entry
 *
 * Entries hold machine frame numbers.  A PV guest's tables are read-only to
 * it: every write is a request (mmu_update) that the hypervisor checks and
 * may refuse, so this code never stores into a table itself.  It reads
 * tables and asks the platform to write, through struct pt_ops.
 */
#ifndef PVBOOT_PGTABLE_H
#define PVBOOT_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/frame.h>

#define PT_ENTRIES 512
#define PT_L1	   1 /* PTE: maps a 4 KiB page */
#define PT_L2	   2 /* PMD: an L1, or a 2 MiB page with _PAGE_PSE */
#define PT_L3	   3 /* PUD */
#define PT_L4	   4 /* PGD */

#define _PAGE_PRESENT  0x001ULL
#define _PAGE_RW       0x002ULL
#define _PAGE_USER     0x004ULL
#define _PAGE_PWT      0x008ULL
#define _PAGE_PCD      0x010ULL
#define _PAGE_ACCESSED 0x020ULL
#define _PAGE_DIRTY    0x040ULL
#define _PAGE_PSE      0x080ULL
#define _PAGE_GLOBAL   0x100ULL
#define _PAGE_NX       (1ULL << 63)
#define PTE_MFN_MASK   0x000ffffffffff000ULL

/* What libxc's builder writes (docs/builders.md section 4.6). */
#define PT_PROT_L1    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define PT_PROT_UPPER (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER)

static inline unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/* Bytes one entry at @level maps: 4 KiB, 2 MiB, 1 GiB, 512 GiB. */
static inline uint64_t pt_span(int level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

static inline bool pte_present(uint64_t e)
{
	return e & _PAGE_PRESENT;
}

static inline mfn_t pte_mfn(uint64_t e)
{
	return _mfn((e & PTE_MFN_MASK) >> 12);
}

static inline uint64_t pte_make(mfn_t m, uint64_t flags)
{
	return (mfn_x(m) << 12) | flags;
}

/* Addresses with bits 63..48 equal to bit 47. */
static inline bool va_canonical(uint64_t va)
{
	uint64_t top = va >> 47;

	return top == 0 || top == 0x1ffff;
}

struct pt_ops {
	/* A read-only view of the table page in machine frame @mfn, or NULL. */
	const uint64_t *(*table)(void *ctx, mfn_t mfn);
	/*
	 * Ask to set entry @index of the table in @mfn to @val (as
	 * MMU_NORMAL_PT_UPDATE).  0, or -1 with @err when refused.
	 */
	int (*update)(void *ctx, mfn_t table, unsigned index, uint64_t val, struct pv_error *err);
	/*
	 * A fresh zeroed page usable as a page table at @level (the platform
	 * makes it read-only wherever it is mapped), or INVALID_MFN with @err.
	 */
	mfn_t (*alloc_table)(void *ctx, int level, struct pv_error *err);
	void *ctx;
};

/* Where a walk for one address ended. */
struct pt_walk {
	mfn_t table[PT_L4 + 1];	   /* table[l]: the level-l table the walk read */
	uint64_t entry[PT_L4 + 1]; /* entry[l]: what it found there */
	int level;   /* the level that mapped the address (1, or 2/3 for a large page), or
		      * the level of the first non-present entry, as a negative number */
	mfn_t frame; /* the 4 KiB machine frame of @va, when mapped */
};

/*
 * Walk from @root (an L4) to @va.  Returns the level that maps it (1 for a
 * 4 KiB page, 2 or 3 for a large one), 0 when an entry on the way is not
 * present, -1 with @err when a table cannot be read or @va is not canonical.
 */
int pt_walk(const struct pt_ops *ops, mfn_t root, uint64_t va, struct pt_walk *w,
	    struct pv_error *err);

/*
 * Map the 4 KiB page @va to @frame with @flags (an L1 entry), making any
 * missing L3, L2 or L1 table through ops->alloc_table with PT_PROT_UPPER.
 * Fails (PV_ERR_OVERLAP) if a large page already covers @va.
 */
int pt_map(const struct pt_ops *ops, mfn_t root, uint64_t va, mfn_t frame, uint64_t flags,
	   struct pv_error *err);

/*
 * Set the level-@at entry for @va (aligned to what that entry spans) to
 * @entry, making missing upper tables as pt_map does.  At L1 it overwrites
 * what is there, as pt_map; at L2 and L3 (linking a table filled
 * beforehand) the entry must be empty (PV_ERR_OVERLAP otherwise).
 */
int pt_set(const struct pt_ops *ops, mfn_t root, uint64_t va, int at, uint64_t entry,
	   struct pv_error *err);

/* Clear the entry at @level that maps @va, if present.  0 when there was none. */
int pt_clear(const struct pt_ops *ops, mfn_t root, uint64_t va, int level, struct pv_error *err);

#endif
