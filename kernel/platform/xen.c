/*
 * struct pv_platform for pvboot's PV kernel: the boot path's requests go to
 * the hypervisor as they are, one hypercall each, and every result goes
 * back to the boot path, which checks it.
 *
 * Pointers are the guest's own virtual addresses.  Whether one is mapped is
 * asked of the MMU itself: probe_read (entry.S) reads a byte and the
 * page-fault entry turns a fault on that one load into "no".
 */
#include <pvboot/pgtable.h>
#include <pvboot/x86.h>

#include <xen/errno.h>
#include <xen/io/console.h>

#include "../hypercall.h"
#include "xen.h"

int probe_read(const volatile void *p);

static struct {
	start_info_t *si;
	uint64_t virt_base;
	mfn_t cr3;	      /* MMUEXT_NEW_BASEPTR is the only way it changes */
	uint64_t m2p_entries; /* machine_to_phys_mapping[0 .. m2p_entries) is mapped */
	bool dom0;
	struct xencons_interface *ring; /* a domU's console */
	evtchn_port_t ring_port;
} xp;

/* Pages whose mapping is replaced by a frame of Xen's (shared_info, console ring). */
static uint8_t shared_info_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t console_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define PROT_RW (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_NX)

bool xen_is_dom0(void)
{
	return xp.dom0;
}

/* A domU's console: fill out[], publish out_prod, kick the event channel. */
static void ring_write(const char *s, size_t n)
{
	struct xencons_interface *r = xp.ring;

	while (n) {
		XENCONS_RING_IDX cons = r->out_cons, prod = r->out_prod;
		size_t room = sizeof(r->out) - (prod - cons);

		__sync_synchronize();
		if (!room) {
			hyp_evtchn_send(xp.ring_port);
			_hypercall3(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
			continue;
		}
		for (; room && n; room--, n--, s++)
			r->out[MASK_XENCONS_IDX(prod++, r->out)] = *s;
		__sync_synchronize();
		r->out_prod = prod;
		hyp_evtchn_send(xp.ring_port);
	}
}

void xen_console_flush(void)
{
	struct xencons_interface *r = xp.ring;

	if (!r)
		return;
	while (r->out_cons != r->out_prod) {
		hyp_evtchn_send(xp.ring_port);
		_hypercall3(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
	}
}

void xen_console_write(const char *s, size_t n)
{
	if (xp.ring) {
		ring_write(s, n);
		return;
	}
	while (n) {
		unsigned chunk = n > 1024 ? 1024 : (unsigned)n;

		hyp_console_write(s, chunk);
		s += chunk;
		n -= chunk;
	}
}

static void console(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	xen_console_write(s, n);
}

static void *va_ptr(void *ctx, uint64_t va)
{
	(void)ctx;
	if (!va_canonical(va) || !probe_read((const volatile void *)va))
		return 0;
	return (void *)va;
}

static uint64_t m2p(void *ctx, mfn_t mfn)
{
	(void)ctx;
	if (mfn_x(mfn) >= xp.m2p_entries)
		return ~0ULL;
	return ((const volatile uint64_t *)MACH2PHYS_VIRT_START)[mfn_x(mfn)];
}

/*
 * Windows onto table pages that neither map reaches: the tables Xen made
 * for an INIT_P2M list (setup_pv_physmap) have pfns past the initial
 * mapping and past what the boot path puts in __va.  A window is a page of
 * our own .bss remapped read-only onto the table's frame (a PV guest may
 * map its page tables read-only); the last few stay, since a walk over the
 * list meets the same L3 and L2 again and again.
 */
#define NR_WINDOWS 4
static uint8_t window_page[NR_WINDOWS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct {
	mfn_t mfn[NR_WINDOWS]; /* what each window shows; INVALID_MFN before use */
	bool used;
	unsigned next; /* the window to take next, round robin */
} windows;

static const uint64_t *window_find(mfn_t mfn)
{
	for (unsigned i = 0; windows.used && i < NR_WINDOWS; i++)
		if (mfn_eq(windows.mfn[i], mfn))
			return (const uint64_t *)window_page[i];
	return 0;
}

static const uint64_t *window_open(mfn_t mfn)
{
	unsigned i = windows.next;
	uint64_t pte = (mfn_x(mfn) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_NX;

	if (!windows.used) {
		for (unsigned k = 0; k < NR_WINDOWS; k++)
			windows.mfn[k] = INVALID_MFN;
		windows.used = true;
	}
	if (hyp_update_va_mapping((uint64_t)window_page[i], pte, UVMF_INVLPG | UVMF_LOCAL))
		return 0;
	windows.mfn[i] = mfn;
	windows.next = (i + 1) % NR_WINDOWS;
	return (const uint64_t *)window_page[i];
}

/*
 * A table page for the walk below: a window already open on it, the direct
 * map if it is there yet, the builder's mapping (where all of its own
 * tables are), or a new window.
 */
static const uint64_t *walk_table(void *ctx, mfn_t mfn)
{
	uint64_t pfn = m2p(ctx, mfn);
	const uint64_t *p = window_find(mfn);

	if (p)
		return p;
	if (pfn >= xp.si->nr_pages)
		return 0;
	p = va_ptr(ctx, PAGE_OFFSET + pfn * PAGE_SIZE);
	if (!p)
		p = va_ptr(ctx, xp.virt_base + pfn * PAGE_SIZE);
	return p ? p : window_open(mfn);
}

/* virt_to_mfn: a walk of the tables the CPU is using now. */
static mfn_t ptr_mfn(void *ctx, const void *ptr)
{
	struct pt_ops ops = {.table = walk_table, .ctx = ctx};
	struct pv_error err;
	struct pt_walk w;
	uint64_t va = (uint64_t)ptr;
	int level = pt_walk(&ops, xp.cr3, va, &w, &err);

	return level > 0 ? w.frame : INVALID_MFN;
}

static int mmu_update(void *ctx, uint64_t ptr, uint64_t val)
{
	mmu_update_t req = {.ptr = ptr | MMU_NORMAL_PT_UPDATE, .val = val};
	unsigned done = 0;
	int rc;

	(void)ctx;
	rc = hyp_mmu_update(&req, 1, &done);
	return rc ? rc : done == 1 ? 0 : -XEN_EINVAL;
}

static int mmuext(void *ctx, unsigned cmd, mfn_t mfn)
{
	struct mmuext_op op = {.cmd = cmd};
	unsigned done = 0;
	int rc;

	(void)ctx;
	op.arg1.mfn = mfn_x(mfn);
	rc = hyp_mmuext_op(&op, 1, &done);
	if (!rc && done != 1)
		rc = -XEN_EINVAL;
	if (!rc && cmd == MMUEXT_NEW_BASEPTR)
		xp.cr3 = mfn;
	return rc;
}

static int update_va_mapping(void *ctx, uint64_t va, uint64_t pte)
{
	(void)ctx;
	return hyp_update_va_mapping(va, pte, UVMF_INVLPG | UVMF_LOCAL);
}

static mfn_t read_cr3(void *ctx)
{
	(void)ctx;
	return xp.cr3;
}

static void shutdown(void *ctx, unsigned reason)
{
	(void)ctx;
	xen_console_flush();
	hyp_sched_shutdown(reason);
}

/* The module's code runs where it was mapped: a plain call. */
static uint64_t call(void *ctx, uint64_t va, uint64_t arg)
{
	uint64_t (*fn)(uint64_t) = (uint64_t(*)(uint64_t))va;

	(void)ctx;
	return fn(arg);
}

/* Replace the mapping of one of our own pages by Xen's frame @maddr. */
static int map_xen_page(void *page, uint64_t maddr)
{
	return hyp_update_va_mapping((uint64_t)page, (maddr & ~(PAGE_SIZE - 1)) | PROT_RW,
				     UVMF_INVLPG | UVMF_LOCAL);
}

int xen_platform_init(struct pv_platform *pf, start_info_t *si, uint64_t virt_base)
{
	struct xen_machphys_mapping mapping;
	const uint64_t *list = (const uint64_t *)si->mfn_list;
	uint64_t pt_pfn = (si->pt_base - virt_base) / PAGE_SIZE;
	int rc;

	xp.si = si;
	xp.virt_base = virt_base;
	xp.dom0 = si->flags & SIF_INITDOMAIN;
	/* The builder's L4 is the first page of its tables (64-bit PV). */
	xp.cr3 = _mfn(list[pt_pfn]);
	if (!xp.dom0) {
		rc = map_xen_page(console_page, (uint64_t)si->console.domU.mfn << PAGE_SHIFT);
		if (rc)
			return rc;
		xp.ring = (struct xencons_interface *)console_page;
		xp.ring_port = si->console.domU.evtchn;
	}
	rc = (int)hyp_memory_op(XENMEM_machphys_mapping, &mapping);
	if (rc)
		return rc;
	xp.m2p_entries = mapping.max_mfn + 1;
	rc = map_xen_page(shared_info_page, si->shared_info);
	if (rc)
		return rc;

	*pf = (struct pv_platform){
		.start_info = si,
		.shared_info = (shared_info_t *)shared_info_page,
		.console = console,
		.va_ptr = va_ptr,
		.ptr_mfn = ptr_mfn,
		.m2p = m2p,
		.mmu_update = mmu_update,
		.mmuext = mmuext,
		.update_va_mapping = update_va_mapping,
		.read_cr3 = read_cr3,
		.shutdown = shutdown,
		.call = call,
		/* We run in the guest's address space: the linear P2M is read with plain loads. */
		.va_direct = true,
	};
	return 0;
}
