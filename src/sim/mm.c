/*
 * The hypervisor's page-table rules for the one simulated domain: a small
 * model of Xen's PV memory management (xen/arch/x86/mm.c), enough to refuse
 * what Xen refuses and to count what Xen counts.
 *
 * Every frame has one type at a time and a count of references to that type
 * (Xen's type_info; cf. _get_page_type and _put_page_type):
 *
 *   no state --get(T)--> T, count 1    a table type (L1..L4) first has its 512
 *                                      entries validated, all or nothing
 *   T, n     --get(T)--> T, n + 1
 *   T, n     --get(U)--> -EINVAL       while n > 0 the type cannot change
 *   T, 1     --put-----> no state      a table is devalidated: the references
 *                                      its entries held are dropped, recursively
 *
 * Who holds the references:
 *
 *   present L1 entry with _PAGE_RW  WRITABLE on the frame it maps
 *   present L2 / L3 / L4 entry      L1 / L2 / L3 on the table it points to
 *   a pin (MMUEXT_PIN_Ln_TABLE)     Ln on the pinned table
 *   cr3 (MMUEXT_NEW_BASEPTR)        L4 on the current root
 *
 * So a frame mapped writable anywhere cannot become a table, and a table
 * cannot be mapped writable: the read-only rule of docs/boot.md section 6.
 * Xen's general references (count_info) are left out: with one domain that
 * frees nothing they change no outcome.
 *
 * Errors are Xen's negative errno values, as the hypercall would return them.
 */
#include <stdlib.h>

#include <pvboot/pgtable.h>
#include <pvboot/x86.h>
#include <pvboot/xen-abi.h>
#include <xen/errno.h>

#include <pvboot/sim_machine.h>

/*
 * Flags Xen refuses in a present L2, L3 or L4 entry (base_disallow_mask,
 * from arch_init_memory): everything but P, RW, US, A, D, the available bits
 * and NX, i.e. PWT, PCD, PSE and GLOBAL.  PSE matters most: a PV guest has no
 * superpages.  At L1 every domain may set GLOBAL, and a domain with I/O
 * rights (dom0) the cache bits PWT, PCD and PAT (l1_disallow_mask); the
 * simulator allows them all, as for dom0, so no L1 flag is refused here.
 */
#define UPPER_DISALLOW (_PAGE_PWT | _PAGE_PCD | _PAGE_PSE | _PAGE_GLOBAL)

/* L4 slots 256..271 are Xen's (ROOT_PAGETABLE_FIRST/LAST_XEN_SLOT). */
#define XEN_L4_FIRST 256
#define XEN_L4_LAST  271

/* mmu_update takes its command from the low bits of the 8-byte-aligned ptr. */
#define MMU_CMD_MASK 7ULL

#define FRAME_EMPTY (~0ULL)
#define FRAMES_MIN  1024ULL /* slots in a new table; a power of two */

static bool xen_l4_slot(unsigned i)
{
	return i >= XEN_L4_FIRST && i <= XEN_L4_LAST;
}

static bool is_table(unsigned type)
{
	return type >= SIM_PGT_L1 && type <= SIM_PGT_L4;
}

/* ---- The frame-state table: open addressing, linear probing ------------ */

/* Fibonacci hashing: consecutive mfns land far apart. */
static uint64_t frame_home(uint64_t mfn, uint64_t cap)
{
	return (mfn * 0x9e3779b97f4a7c15ULL) >> (64 - __builtin_ctzll(cap));
}

/*
 * The state of @mfn, or NULL.  A pointer into the table: good until the next
 * insert or remove, which may move entries.
 */
static struct sim_frame *frame_find(const struct sim_frames *t, uint64_t mfn)
{
	uint64_t mask = t->cap - 1;

	if (!t->cap || mfn == FRAME_EMPTY)
		return NULL;
	for (uint64_t i = frame_home(mfn, t->cap);; i = (i + 1) & mask) {
		if (t->slot[i].mfn == mfn)
			return &t->slot[i];
		if (t->slot[i].mfn == FRAME_EMPTY)
			return NULL; /* the load stays at most 1/2: an empty slot exists */
	}
}

static struct sim_frame *frame_place(struct sim_frames *t, uint64_t mfn)
{
	uint64_t i = frame_home(mfn, t->cap), mask = t->cap - 1;

	while (t->slot[i].mfn != FRAME_EMPTY)
		i = (i + 1) & mask;
	t->slot[i] = (struct sim_frame){.mfn = mfn};
	t->used++;
	return &t->slot[i];
}

/* Double the table (or make the first one).  -ENOMEM leaves it as it was. */
static int frames_grow(struct sim_frames *t)
{
	struct sim_frames n = {.cap = t->cap ? t->cap * 2 : FRAMES_MIN};

	n.slot = malloc(n.cap * sizeof(*n.slot));
	if (!n.slot)
		return -XEN_ENOMEM;
	for (uint64_t i = 0; i < n.cap; i++)
		n.slot[i].mfn = FRAME_EMPTY;
	for (uint64_t i = 0; i < t->cap; i++)
		if (t->slot[i].mfn != FRAME_EMPTY)
			*frame_place(&n, t->slot[i].mfn) = t->slot[i];
	free(t->slot);
	*t = n;
	return 0;
}

/* A new, zeroed state for @mfn (which has none), or NULL when out of memory. */
static struct sim_frame *frame_insert(struct sim_frames *t, uint64_t mfn)
{
	if ((t->used + 1) * 2 > t->cap && frames_grow(t))
		return NULL;
	return frame_place(t, mfn);
}

/* Is @k in the cyclic range (@i, @j]? */
static bool cyclic_within(uint64_t i, uint64_t k, uint64_t j)
{
	return i <= j ? (i < k && k <= j) : (i < k || k <= j);
}

/*
 * Forget @f.  Backward-shift deletion: entries after the hole that may live
 * there move up, so no tombstones are needed and lookups stay short.
 */
static void frame_remove(struct sim_frames *t, struct sim_frame *f)
{
	uint64_t mask = t->cap - 1, hole = (uint64_t)(f - t->slot), j = hole;

	t->slot[hole].mfn = FRAME_EMPTY;
	t->used--;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slot[j].mfn == FRAME_EMPTY)
			return;
		if (cyclic_within(hole, frame_home(t->slot[j].mfn, t->cap), j))
			continue;
		t->slot[hole] = t->slot[j];
		t->slot[j].mfn = FRAME_EMPTY;
		hole = j;
	}
}

const struct sim_frame *sim_frame_state(const struct sim *s, mfn_t mfn)
{
	return frame_find(&s->frames, mfn_x(mfn));
}

/* ---- Types and their references ----------------------------------------- */

static int get_type(struct sim *s, uint64_t mfn, unsigned type);
static void put_type(struct sim *s, uint64_t mfn);

/*
 * Take the reference a present entry at @level holds (cf. get_page_from_l1e,
 * get_page_from_l2e..l4e).  0, or a negative errno with nothing taken.
 *
 * L1: the frame must be the domain's, or the shared_info page Xen shares
 * with it.  Xen answers -EPERM for a frame outside RAM (MMIO, which an
 * unprivileged domain may not map) and -EBUSY for RAM it cannot take (owned
 * by someone else, or of a type that cannot become writable: could_not_pin).
 * L2..L4: Xen answers -EINVAL for bad flags, a frame that is not the
 * domain's, and a type conflict; deeper failures come up unchanged.
 */
static int get_entry(struct sim *s, int level, uint64_t e)
{
	mfn_t m = pte_mfn(e);
	int rc;

	if (!pte_present(e))
		return 0;
	if (level == PT_L1) {
		if (!sim_owns(s, m) && mfn_x(m) != s->shared_info_mfn)
			return mfn_x(m) < s->nr_frames ? -XEN_EBUSY : -XEN_EPERM;
		if (!(e & _PAGE_RW))
			return 0; /* read-only mappings take no type */
		rc = get_type(s, mfn_x(m), SIM_PGT_WRITABLE);
		return rc == -XEN_EINVAL ? -XEN_EBUSY : rc;
	}
	if ((e & UPPER_DISALLOW) || !sim_owns(s, m))
		return -XEN_EINVAL;
	return get_type(s, mfn_x(m), (unsigned)(level - 1));
}

/* Drop what get_entry() took for @e (cf. put_page_from_l1e..l4e). */
static void put_entry(struct sim *s, int level, uint64_t e)
{
	if (!pte_present(e))
		return;
	if (level == PT_L1 && !(e & _PAGE_RW))
		return;
	put_type(s, mfn_x(pte_mfn(e)));
}

/*
 * Validate the table in @mfn as @level: take every entry's reference, or on
 * the first failure give back those already taken and return its errno
 * (cf. promote_l1_table..promote_l4_table).
 *
 * Xen's own L4 slots: Xen skips them and writes its entries there.  The
 * simulator has nothing to write, so it requires them to be zero and
 * refuses the table otherwise (-EINVAL); guest code that passes here also
 * passes on Xen.
 */
static int validate_table(struct sim *s, uint64_t mfn, int level)
{
	const uint64_t *t = sim_frame(s, _mfn(mfn));
	unsigned i;
	int rc = 0;

	if (!t)
		return -XEN_EINVAL;
	for (i = 0; i < PT_ENTRIES; i++) {
		if (level == PT_L4 && xen_l4_slot(i))
			rc = t[i] ? -XEN_EINVAL : 0;
		else
			rc = get_entry(s, level, t[i]);
		if (rc)
			break;
	}
	if (rc)
		while (i-- > 0)
			put_entry(s, level, t[i]); /* Xen's slots were zero: no-ops */
	return rc;
}

/* Drop the references of every entry (cf. demote_l1_table..demote_l4_table). */
static void devalidate_table(struct sim *s, uint64_t mfn, int level)
{
	const uint64_t *t = sim_frame(s, _mfn(mfn));

	for (unsigned i = 0; t && i < PT_ENTRIES; i++)
		if (!(level == PT_L4 && xen_l4_slot(i)))
			put_entry(s, level, t[i]);
}

/*
 * Take a @type reference on @mfn (cf. _get_page_type).  The first reference
 * to a table validates it; while validating, the frame already carries its
 * new type, so a table that reaches itself at another level, or maps itself
 * writable, conflicts, as in Xen.  0, -EINVAL (type conflict or count
 * overflow), a validation errno, or -ENOMEM; on failure nothing changed.
 * The caller checks ownership.
 */
static int get_type(struct sim *s, uint64_t mfn, unsigned type)
{
	struct sim_frame *f = frame_find(&s->frames, mfn);
	int rc;

	if (f) {
		if (f->type != type || f->count == UINT32_MAX)
			return -XEN_EINVAL;
		f->count++;
		return 0;
	}
	f = frame_insert(&s->frames, mfn);
	if (!f)
		return -XEN_ENOMEM;
	f->type = (uint8_t)type;
	f->count = 1;
	if (!is_table(type))
		return 0;
	rc = validate_table(s, mfn, (int)type);
	if (rc) /* validation may have moved entries: look again */
		frame_remove(&s->frames, frame_find(&s->frames, mfn));
	return rc;
}

/*
 * Drop one reference on @mfn (cf. _put_page_type).  The last one devalidates
 * a table and forgets the frame's state: a frame without references has no
 * type, whatever it had (Xen keeps the old type with count 0, which behaves
 * the same).  A frame with no state is left alone: that happens only if a
 * table was changed behind the hypervisor's back.
 */
static void put_type(struct sim *s, uint64_t mfn)
{
	struct sim_frame *f = frame_find(&s->frames, mfn);
	unsigned type;

	if (!f)
		return;
	if (f->count > 1) {
		f->count--;
		return;
	}
	type = f->type;
	if (is_table(type))
		devalidate_table(s, mfn, (int)type);
	frame_remove(&s->frames, frame_find(&s->frames, mfn));
}

/* ---- The hypercalls ------------------------------------------------------ */

static int counted(struct sim *s, int rc)
{
	s->hypercalls++;
	if (rc)
		s->refused++;
	return rc;
}

/*
 * Set entry @index of the validated @level table in @table to @val
 * (cf. mod_l1_entry..mod_l4_entry): take the new entry's reference first, so
 * a refused value changes nothing, then store, then drop the old one.
 */
static int mod_entry(struct sim *s, mfn_t table, int level, unsigned index, uint64_t val)
{
	uint64_t *t = sim_frame(s, table), old = t[index];
	int rc;

	if (level == PT_L4 && xen_l4_slot(index))
		return -XEN_EINVAL; /* "L4 update in Xen-private area" */
	rc = get_entry(s, level, val);
	if (rc)
		return rc;
	t[index] = val;
	put_entry(s, level, old);
	return 0;
}

/*
 * One MMU_NORMAL_PT_UPDATE request (cf. do_mmu_update): the 8-byte entry at
 * machine address @ptr (low 3 bits: the command) becomes @val.  In a frame
 * that is a validated table the value is checked as an entry of that level;
 * in any other frame of the domain it is plain data, as Xen writes it after
 * taking a writable type for the moment.  -EINVAL for a frame not the
 * domain's; -ENOSYS for the other commands (MMU_MACHPHYS_UPDATE,
 * MMU_PT_UPDATE_PRESERVE_AD ...), which the simulator does not model.
 */
static int mmu_update(struct sim *s, uint64_t ptr, uint64_t val)
{
	mfn_t m = _mfn(ptr >> PAGE_SHIFT);
	unsigned index = (unsigned)(ptr & (PAGE_SIZE - 1)) / sizeof(uint64_t);
	const struct sim_frame *f;

	if ((ptr & MMU_CMD_MASK) != MMU_NORMAL_PT_UPDATE)
		return -XEN_ENOSYS;
	if (!sim_owns(s, m))
		return -XEN_EINVAL; /* "Could not get page for normal update" */
	f = frame_find(&s->frames, mfn_x(m));
	if (f && is_table(f->type))
		return mod_entry(s, m, f->type, index, val);
	((uint64_t *)sim_frame(s, m))[index] = val;
	return 0;
}

int sim_mmu_update(struct sim *s, uint64_t ptr, uint64_t val)
{
	return counted(s, mmu_update(s, ptr, val));
}

/* Pin @mfn as a @level table (cf. MMUEXT_PIN_Ln_TABLE in do_mmuext_op). */
static int pin(struct sim *s, mfn_t mfn, int level)
{
	const struct sim_frame *f = frame_find(&s->frames, mfn_x(mfn));
	int rc;

	if (!sim_owns(s, mfn) || (f && f->pinned))
		return -XEN_EINVAL; /* "mfn ... already pinned" */
	rc = get_type(s, mfn_x(mfn), (unsigned)level);
	if (rc)
		return rc;
	frame_find(&s->frames, mfn_x(mfn))->pinned = 1;
	return 0;
}

/* MMUEXT_UNPIN_TABLE: drop the pin's reference, which may devalidate. */
static int unpin(struct sim *s, mfn_t mfn)
{
	struct sim_frame *f = frame_find(&s->frames, mfn_x(mfn));

	if (!sim_owns(s, mfn) || !f || !f->pinned)
		return -XEN_EINVAL; /* "mfn ... not pinned" */
	f->pinned = 0;
	put_type(s, mfn_x(mfn));
	return 0;
}

/*
 * MMUEXT_NEW_BASEPTR (cf. new_guest_cr3): take an L4 reference on the new
 * root, validating it if nothing holds it yet, then drop the old root's,
 * which devalidates the old tree if nothing else held it.  Loading the
 * current root again changes nothing.
 */
static int new_baseptr(struct sim *s, mfn_t mfn)
{
	mfn_t old = s->cr3;
	int rc;

	if (mfn_eq(mfn, old))
		return 0;
	if (!sim_owns(s, mfn))
		return -XEN_EINVAL;
	rc = get_type(s, mfn_x(mfn), SIM_PGT_L4);
	if (rc)
		return rc;
	s->cr3 = mfn;
	if (!mfn_eq(old, INVALID_MFN))
		put_type(s, mfn_x(old));
	return 0;
}

/*
 * One mmuext_op (cf. do_mmuext_op).  The TLB flushes succeed and do nothing:
 * the simulator has no TLB, every lookup walks the tables.  Other commands
 * are not modelled: -ENOSYS, Xen's answer to a command it does not know.
 */
static int mmuext(struct sim *s, unsigned cmd, mfn_t mfn)
{
	switch (cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		return pin(s, mfn, (int)(cmd - MMUEXT_PIN_L1_TABLE) + PT_L1);
	case MMUEXT_UNPIN_TABLE:
		return unpin(s, mfn);
	case MMUEXT_NEW_BASEPTR:
		return new_baseptr(s, mfn);
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_TLB_FLUSH_ALL:
	case MMUEXT_INVLPG_ALL:
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

int sim_mmuext(struct sim *s, unsigned cmd, mfn_t mfn)
{
	return counted(s, mmuext(s, cmd, mfn));
}

static const uint64_t *frame_table(void *ctx, mfn_t mfn)
{
	return sim_frame(ctx, mfn);
}

/*
 * update_va_mapping (cf. __do_update_va_mapping and map_guest_l1e): find the
 * L1 entry for @va through the current tables and update it as mmu_update
 * would.  Every level above must be present (no large pages), and the L1
 * must be a validated L1 table; else -EINVAL.  The flush flags (UVMF_*) do
 * not matter without a TLB.
 */
static int update_va_mapping(struct sim *s, uint64_t va, uint64_t pte)
{
	struct pt_ops ops = {.table = frame_table, .ctx = s};
	const struct sim_frame *f;
	struct pt_walk w;
	int found;

	if (mfn_eq(s->cr3, INVALID_MFN))
		return -XEN_EINVAL;
	found = pt_walk(&ops, s->cr3, va, &w, NULL);
	if (found != PT_L1 && !(found == 0 && w.level == -PT_L1))
		return -XEN_EINVAL;
	f = frame_find(&s->frames, mfn_x(w.table[PT_L1]));
	if (!f || f->type != SIM_PGT_L1)
		return -XEN_EINVAL;
	return mod_entry(s, w.table[PT_L1], PT_L1, pt_index(va, PT_L1), pte);
}

int sim_update_va_mapping(struct sim *s, uint64_t va, uint64_t pte)
{
	return counted(s, update_va_mapping(s, va, pte));
}
