/*
 * Frame numbers with their units in the type, as Xen's mfn_t: a pfn (guest
 * pseudo-physical frame) and an mfn (machine frame) are distinct structs, so
 * passing one where the other is meant does not compile.
 */
#ifndef PVBOOT_FRAME_H
#define PVBOOT_FRAME_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	uint64_t pfn;
} pfn_t;

typedef struct {
	uint64_t mfn;
} mfn_t;

static inline pfn_t _pfn(uint64_t v)
{
	return (pfn_t){v};
}

static inline mfn_t _mfn(uint64_t v)
{
	return (mfn_t){v};
}

static inline uint64_t pfn_x(pfn_t p)
{
	return p.pfn;
}

static inline uint64_t mfn_x(mfn_t m)
{
	return m.mfn;
}

/*
 * What a P2M entry holds (docs/p2m.md section 1): an MFN, or all ones for
 * "missing", with two flag bits on top.
 */
#define INVALID_P2M_ENTRY  (~0ULL)
#define FOREIGN_FRAME_BIT  (1ULL << 63)
#define IDENTITY_FRAME_BIT (1ULL << 62)
#define FOREIGN_FRAME(m)   ((m) | FOREIGN_FRAME_BIT)
#define IDENTITY_FRAME(m)  ((m) | IDENTITY_FRAME_BIT)

#define INVALID_MFN _mfn(~0ULL)

/* An address that was never given (libelf's UNSET_ADDR): INIT_P2M, HYPERCALL_PAGE ... */
#define PV_UNSET_ADDR (~(uint64_t)0)

static inline bool mfn_eq(mfn_t a, mfn_t b)
{
	return a.mfn == b.mfn;
}

#endif
