/*
 * Guest virtual addresses through the domain's current page tables (cr3), as
 * the MMU translates them; the address split is drawn in pgtable.h.  The
 * tables are read straight from machine memory, as the hardware walker does.
 */
#include <pvboot/pgtable.h>
#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

static const uint64_t *frame_table(void *ctx, mfn_t mfn)
{
	return sim_frame(ctx, mfn);
}

/*
 * The machine frame that maps @va, or INVALID_MFN when there is no current
 * L4, an entry on the way is not present, @va is not canonical, or the walk
 * ends in a large page (Xen refuses _PAGE_PSE in a PV guest's tables, so
 * one could only have been written behind its back).
 */
mfn_t sim_va_mfn(struct sim *s, uint64_t va)
{
	struct pt_ops ops = {.table = frame_table, .ctx = s};
	struct pt_walk w;

	if (mfn_eq(s->cr3, INVALID_MFN))
		return INVALID_MFN;
	if (pt_walk(&ops, s->cr3, va, &w, NULL) != PT_L1 || !sim_frame(s, w.frame))
		return INVALID_MFN;
	return w.frame;
}

/*
 * The host address of the byte at @va, or NULL where sim_va_mfn() finds no
 * frame.  Good to the end of its 4 KiB page.  It does not look at _PAGE_RW:
 * the caller decides whether it may write there.
 */
void *sim_va_ptr(struct sim *s, uint64_t va)
{
	mfn_t m = sim_va_mfn(s, va);

	if (mfn_eq(m, INVALID_MFN))
		return NULL;
	return (uint8_t *)sim_frame(s, m) + (va & (PAGE_SIZE - 1));
}
