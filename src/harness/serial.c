/*
 * What the serial line of a pvboot run says, one line at a time: Xen's
 * banner and dom0 build, its PHYSICAL and VIRTUAL MEMORY ARRANGEMENT
 * (docs/builders.md section 6.6; examples: docs/real-xen.md section 10),
 * the kernel's "pvboot:" lines and its one "PVBOOT-RESULT {json}" line
 * (read by the guest protocol's pv_result_parse), and Xen's word that dom0
 * crashed.
 *
 * Xen prints the arrangement as
 *
 *   (XEN)  Dom0 kernel: 64-bit, lsb, paddr 0x1000000 -> 0x4a00000
 *   (XEN) PHYSICAL MEMORY ARRANGEMENT:
 *   (XEN)  Dom0 alloc.:   0000000130000000->0000000138000000 (491247 pages to be allocated)
 *   (XEN)  Init. ramdisk: 000000013feef000->000000013ffffe1e
 *   (XEN) VIRTUAL MEMORY ARRANGEMENT:
 *   (XEN)  Loaded kernel: ffffffff81000000->ffffffff84a00000
 *   (XEN)  Init. ramdisk: ...                  only when the ramdisk is mapped
 *   (XEN)  Phys-Mach map: 0000008000000000->0000008000400000
 *   (XEN)  Start info:    ffffffff84a00000->ffffffff84a004b8
 *   (XEN)  Page tables:   ffffffff84a01000->ffffffff84a2a000
 *   (XEN)  Boot stack:    ffffffff84a2a000->ffffffff84a2b000
 *   (XEN)  TOTAL:         ffffffff80000000->ffffffff84c00000
 *   (XEN)  ENTRY ADDRESS: ffffffff830791c0
 *
 * with %p (16 hex digits, no 0x); the segments go into a struct pv_layout
 * as the layout engine fills one, so the two compare field by field.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/x86.h>

#include "harness_priv.h"

/* ---- the serial log ---- */

void run_serial_init(struct run_serial *s)
{
	*s = (struct run_serial){0};
	s->t_xen = s->t_building = s->t_arrangement = s->t_kernel = s->t_result = s->t_last = -1;
	s->arr.l.builder = PV_BUILDER_XEN_417_DOM0;
	s->arr.l.ramdisk_name = "ramdisk";
}

const char *run_split_time(const char *line, double *t)
{
	const char *p = line + 1;
	char *end;
	double v;

	*t = -1;
	if (line[0] != '[')
		return line;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return line;
	v = strtod(p, &end);
	if (end[0] != ']' || end[1] != ' ')
		return line;
	*t = v;
	return end + 2;
}

/* "A->B" in hex (Xen's %p->%p). */
static bool parse_range(const char *p, uint64_t *a, uint64_t *b)
{
	char *end;

	while (*p == ' ')
		p++;
	if (!isxdigit((unsigned char)*p))
		return false;
	*a = strtoull(p, &end, 16);
	if (end[0] != '-' || end[1] != '>' || !isxdigit((unsigned char)end[2]))
		return false;
	*b = strtoull(end + 2, &end, 16);
	return true;
}

/* Where each segment lies relative to TOTAL, the initial mapping (as set_seg in layout_dom0.c). */
static void finish_layout(struct pv_layout *l)
{
	const struct pv_segment *total = &l->seg[PV_SEG_TOTAL];

	l->virt_base = total->vstart;
	l->mapping_end = total->vend;
	for (int i = 0; i < PV_SEG_NR; i++) {
		struct pv_segment *seg = &l->seg[i];

		if (!seg->present)
			continue;
		seg->mapped = seg->vstart >= total->vstart && seg->vend <= total->vend;
		seg->pfn = seg->mapped ? (seg->vstart - total->vstart) >> PAGE_SHIFT : PV_UNSET_ADDR;
		seg->pages = ((seg->vend - seg->vstart) >> PAGE_SHIFT) +
			     (((seg->vend - seg->vstart) & (PAGE_SIZE - 1)) != 0);
	}
	l->p2m_in_mapping = l->seg[PV_SEG_P2M].mapped;
}

/* One line of what the layout printed, kept as printed (after "(XEN) "). */
static void keep_printed(struct run_arrangement *a, const char *raw)
{
	if (a->nr_printed < sizeof(a->printed) / sizeof(a->printed[0]))
		snprintf(a->printed[a->nr_printed++], sizeof(a->printed[0]), "%s", raw);
}

/*
 * One "(XEN)" line: @x after the prefix and its spaces, @raw after the
 * prefix and one space (the layout's lines keep their leading space).
 */
static void xen_line(struct run_serial *s, const char *x, const char *raw)
{
	static const struct {
		const char *label;
		enum pv_seg seg;
	} vlines[] = {
		{"Loaded kernel:", PV_SEG_KERNEL},
		{"Init. ramdisk:", PV_SEG_RAMDISK},
		{"Phys-Mach map:", PV_SEG_P2M},
		{"Start info:", PV_SEG_START_INFO},
		{"Xenstore ring:", PV_SEG_XENSTORE},
		{"Console ring:", PV_SEG_CONSOLE},
		{"Page tables:", PV_SEG_PAGE_TABLES},
		{"Boot stack:", PV_SEG_BOOT_STACK},
		{"TOTAL:", PV_SEG_TOTAL},
	};
	struct run_arrangement *a = &s->arr;
	uint64_t lo, hi;
	const char *p;

	if (a->found && s->section != 2)
		return; /* one dom0 build: the first */
	if (!strncmp(x, "Xen  kernel:", 12)) {
		a->nr_printed = 0;
		keep_printed(a, raw);
		return;
	}
	if (!strncmp(x, "PHYSICAL MEMORY ARRANGEMENT:", 28)) {
		s->section = 1;
		return;
	}
	if (!strncmp(x, "VIRTUAL MEMORY ARRANGEMENT:", 27)) {
		s->section = 2;
		a->found = true;
		keep_printed(a, raw);
		return;
	}
	if (!strncmp(x, "Dom0 kernel:", 12) && (p = strstr(x, "paddr "))) {
		char *end;

		keep_printed(a, raw);
		a->paddr_start = strtoull(p + 6, &end, 0);
		if (!strncmp(end, " -> ", 4)) {
			a->paddr_end = strtoull(end + 4, &end, 0);
			a->lines |= RUN_ARR_PADDR;
		}
		return;
	}
	if (s->section == 1) {
		if (!strncmp(x, "Dom0 alloc.:", 12) && parse_range(x + 12, &lo, &hi)) {
			a->alloc_start = lo;
			a->alloc_end = hi;
			p = strchr(x, '(');
			a->alloc_pages_left = p ? strtoull(p + 1, NULL, 10) : 0;
			a->lines |= RUN_ARR_ALLOC;
		} else if (!strncmp(x, "Init. ramdisk:", 14) && parse_range(x + 14, &lo, &hi)) {
			a->mramdisk_start = lo;
			a->mramdisk_end = hi;
			a->lines |= RUN_ARR_MRAMDISK;
		}
		return;
	}
	if (s->section != 2)
		return;
	keep_printed(a, raw);
	if (!strncmp(x, "ENTRY ADDRESS:", 14)) {
		a->l.si.entry = strtoull(x + 14, NULL, 16);
		a->lines |= RUN_ARR_ENTRY;
		s->section = 0;
		return;
	}
	for (size_t i = 0; i < sizeof(vlines) / sizeof(vlines[0]); i++) {
		size_t n = strlen(vlines[i].label);
		struct pv_segment *seg = &a->l.seg[vlines[i].seg];

		if (strncmp(x, vlines[i].label, n) || !parse_range(x + n, &lo, &hi))
			continue;
		/* Before 4.16 an empty ramdisk, and the shim's rings, print as a..a or 0..0. */
		if (lo == hi)
			return;
		seg->present = true;
		seg->vstart = lo;
		seg->vend = hi;
		a->lines |= 1U << vlines[i].seg;
		if (vlines[i].seg == PV_SEG_TOTAL)
			finish_layout(&a->l);
		return;
	}
	s->section = 0; /* anything else ends the block */
}

bool run_arrangement_complete(const struct run_arrangement *a)
{
	const unsigned need = 1U << PV_SEG_KERNEL | 1U << PV_SEG_P2M | 1U << PV_SEG_START_INFO |
			      1U << PV_SEG_PAGE_TABLES | 1U << PV_SEG_BOOT_STACK |
			      1U << PV_SEG_TOTAL | RUN_ARR_ENTRY;

	return a->found && (a->lines & need) == need;
}

/* pvboot's own lines in a log it wrote: how QEMU ended. */
static void trailer_line(struct run_serial *s, const char *x)
{
	struct run_exit *e = &s->logged;
	int v;

	if (!strncmp(x, "command: ", 9)) {
		snprintf(s->logged_command, sizeof(s->logged_command), "%s", x + 9);
	} else if (sscanf(x, "QEMU exited with status %d", &v) == 1) {
		e->known = e->exited = true;
		e->status = v;
	} else if (sscanf(x, "QEMU killed by signal %d", &v) == 1) {
		e->known = true;
		e->exited = false;
		e->status = v;
	} else if (sscanf(x, "timed out after %lf s", &e->timeout) == 1) {
		e->known = e->timed_out = true;
	} else if (!strncmp(x, "QEMU killed after Xen reported a crash", 38)) {
		e->known = e->crash_killed = true;
	} else if (sscanf(x, "interrupted by signal %d", &v) == 1) {
		e->known = true;
		e->interrupted = v;
	} else if (!strncmp(x, "qemu-stderr: ", 13)) {
		snprintf(e->qemu_err, sizeof(e->qemu_err), "%s", x + 13);
	}
}

static void result_line(struct run_serial *s, double t, const char *json)
{
	struct pv_error err = {0};

	s->have_result = true;
	s->t_result = t;
	snprintf(s->result_line, sizeof(s->result_line), "%s", json);
	if (pv_result_parse(json, &s->result, &s->result_fields, &err))
		snprintf(s->result_error, sizeof(s->result_error), "%s", err.msg);
	else
		s->result_parsed = true;
}

enum run_stage run_serial_line(struct run_serial *s, double t, const char *text)
{
	const char *x = strstr(text, "(XEN)"), *r, *raw;

	s->lines++;
	if (t >= 0)
		s->t_last = t;
	if (!strncmp(text, RUN_LOG_TAG, strlen(RUN_LOG_TAG))) {
		trailer_line(s, text + strlen(RUN_LOG_TAG));
		return RUN_STAGE_NONE;
	}
	if (x) {
		enum run_stage stage = RUN_STAGE_NONE;

		x += 5;
		if ((strstr(x, "Hardware Dom0 crashed") || strstr(x, "Panic on CPU")) &&
		    !s->crash[0]) {
			snprintf(s->crash, sizeof(s->crash), "%s", text);
			stage = RUN_STAGE_CRASH;
		}
		/* Xen's last words: "rebooting machine in 5 seconds." or "Reboot in five seconds...". */
		if (s->crash[0] && (strstr(x, "rebooting machine") || strstr(x, "Reboot in five"))) {
			s->crash_final = true;
			stage = RUN_STAGE_CRASH;
		}
		raw = *x == ' ' ? x + 1 : x;
		while (*x == ' ')
			x++;
		if (!strncmp(x, "Xen version ", 12) && !(s->stages & 1U << RUN_STAGE_XEN)) {
			s->t_xen = t;
			stage = RUN_STAGE_XEN;
			snprintf(s->arr.xen_version, sizeof(s->arr.xen_version), "%.*s",
				 (int)strcspn(x + 12, " "), x + 12);
		} else if (strstr(x, "*** Building a PV Dom0 ***") &&
			   !(s->stages & 1U << RUN_STAGE_BUILDING)) {
			s->t_building = t;
			stage = RUN_STAGE_BUILDING;
		}
		xen_line(s, x, raw);
		if (s->arr.found && !(s->stages & 1U << RUN_STAGE_ARRANGEMENT)) {
			s->t_arrangement = t;
			stage = RUN_STAGE_ARRANGEMENT;
		}
		s->stages |= 1U << stage;
		return stage;
	}
	if ((r = strstr(text, PV_RESULT_TAG)) && !s->have_result) {
		result_line(s, t, r + strlen(PV_RESULT_TAG));
		s->stages |= 1U << RUN_STAGE_RESULT;
		return RUN_STAGE_RESULT;
	}
	if (!strncmp(text, "pvboot:", 7)) {
		snprintf(s->kernel_line, sizeof(s->kernel_line), "%s", text);
		if (s->kernel_lines++ == 0) {
			s->t_kernel = t;
			s->stages |= 1U << RUN_STAGE_KERNEL;
			return RUN_STAGE_KERNEL;
		}
		return RUN_STAGE_KERNEL_LINE;
	}
	return RUN_STAGE_NONE;
}
