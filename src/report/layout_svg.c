/*
 * pvboot layout --format svg: the kernel mapping's 2 GiB window from
 * virt_base to the top of the address space, drawn to scale, with every
 * segment, the end of the builder's mapping and the limits marked.
 */
#include <stdlib.h>
#include <string.h>

#include <pvboot/p2m.h>
#include <pvboot/report.h>
#include <pvboot/x86.h>

#include "segments.h"

#define W      1320
#define TOP    70
#define BAR_H  600
#define BAR_X  380
#define BAR_W  150
#define WINDOW (2ULL << 30) /* virt_base .. 2^64 for Linux */

static double y_of(const struct pv_layout *l, uint64_t va)
{
	uint64_t off = va - l->virt_base;

	if (va < l->virt_base)
		off = 0;
	if (off > WINDOW)
		off = WINDOW;
	return TOP + (double)off * BAR_H / (double)WINDOW;
}

/* A horizontal mark across the bar, labelled on the left. */
struct mark {
	double y;
	const char *colour, *label;
	uint64_t va;
	bool top;
};

static int mark_cmp(const void *pa, const void *pb)
{
	const struct mark *a = pa, *b = pb;

	return (a->y > b->y) - (a->y < b->y);
}

static void draw_marks(FILE *f, struct mark *m, int n)
{
	double label_y = 0;

	qsort(m, n, sizeof(*m), mark_cmp);
	for (int i = 0; i < n; i++) {
		label_y = m[i].y > label_y + 15 ? m[i].y : label_y + 15;
		fprintf(f,
			"<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='%s' stroke-width='2' stroke-dasharray='6,4'/>\n",
			BAR_X - 20, m[i].y, BAR_X + BAR_W + 20, m[i].y, m[i].colour);
		fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='%s'/>\n", BAR_X - 20,
			m[i].y, BAR_X - 30, label_y, m[i].colour);
		if (m[i].top)
			fprintf(f,
				"<text x='%d' y='%.1f' fill='%s' text-anchor='end'>%s  2^64</text>\n",
				BAR_X - 34, label_y + 4, m[i].colour, m[i].label);
		else
			fprintf(f,
				"<text x='%d' y='%.1f' fill='%s' text-anchor='end'>%s  %016llx</text>\n",
				BAR_X - 34, label_y + 4, m[i].colour, m[i].label,
				(unsigned long long)m[i].va);
	}
}

/* Text for SVG: escaped, and broken into lines of about @width characters. */
static void svg_text(FILE *f, double x, double y, const char *colour, const char *s, int width)
{
	int col = 0;

	fprintf(f, "<text x='%.0f' y='%.1f' fill='%s'><tspan x='%.0f'>", x, y, colour, x);
	for (const char *c = s; *c; c++, col++) {
		if (*c == ' ' && col > width) {
			fprintf(f, "</tspan><tspan x='%.0f' dy='15'>", x + 20);
			col = 0;
			continue;
		}
		if (*c == '<')
			fputs("&lt;", f);
		else if (*c == '&')
			fputs("&amp;", f);
		else if (*c == '>')
			fputs("&gt;", f);
		else
			fputc(*c, f);
	}
	fprintf(f, "</tspan></text>\n");
}

void layout_svg(FILE *f, const struct pv_layout_in *in, const struct pv_layout *l)
{
	unsigned w = pv_layout_warnings(l);
	double label_y = TOP - 20, y0, y1;
	char h[32], msg[512];
	int outside = 0, n_warn = 0;

	for (int i = 0; i < PV_WARN_NR; i++)
		n_warn += !!(w & (1U << i));
	fprintf(f,
		"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='monospace' font-size='12'>\n",
		W, TOP + BAR_H + 120 + 36 * n_warn);
	fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
	fprintf(f,
		"<text x='10' y='22' font-size='16' font-weight='bold'>%s: %s PV guest, 0x%llx pages</text>\n",
		pv_builder_name(l->builder), human_bytes(l->nr_pages << PAGE_SHIFT, h, sizeof(h)),
		(unsigned long long)l->nr_pages);
	fprintf(f,
		"<text x='10' y='42'>the 2 GiB from virt_base 0x%llx to the top of the address space, to scale; kernel 0x%llx-0x%llx</text>\n",
		(unsigned long long)l->virt_base, (unsigned long long)in->kstart,
		(unsigned long long)in->kend);

	/* The window, then the builder's mapping, then each segment. */
	fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='#f7f7f7' stroke='#888'/>\n",
		BAR_X, TOP, BAR_W, BAR_H);
	y1 = y_of(l, l->mapping_end);
	fprintf(f, "<rect x='%d' y='%d' width='%d' height='%.1f' fill='#e8eef7'/>\n", BAR_X, TOP,
		BAR_W, y1 - TOP);
	for (int s = 0; s < PV_SEG_TOTAL; s++) {
		const struct pv_segment *seg = &l->seg[s];

		if (!seg->present)
			continue;
		if (!seg->mapped) {
			fprintf(f,
				"<text x='%d' y='%d' fill='%s'>outside the mapping: %s 0x%llx-0x%llx (%s)</text>\n",
				10, TOP + BAR_H + 40 + 16 * outside++, seg_styles[s].colour,
				seg_name(l, (enum pv_seg)s, seg_styles[s].svg),
				(unsigned long long)seg->vstart, (unsigned long long)seg->vend,
				human_bytes(seg->vend - seg->vstart, h, sizeof(h)));
			continue;
		}
		y0 = y_of(l, seg->vstart);
		y1 = y_of(l, seg->vend);
		fprintf(f,
			"<rect x='%d' y='%.1f' width='%d' height='%.1f' fill='%s'><title>%s 0x%llx-0x%llx</title></rect>\n",
			BAR_X, y0, BAR_W, y1 - y0 < 1 ? 1 : y1 - y0, seg_styles[s].colour,
			seg_styles[s].svg, (unsigned long long)seg->vstart,
			(unsigned long long)seg->vend);
		/* Labels go right of the bar, pushed down so they never overlap. */
		label_y = (y0 + y1) / 2 > label_y + 15 ? (y0 + y1) / 2 : label_y + 15;
		fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#999'/>\n",
			BAR_X + BAR_W, (y0 + y1) / 2, BAR_X + BAR_W + 200, label_y);
		fprintf(f, "<text x='%d' y='%.1f' fill='%s'>%s 0x%llx-0x%llx (%s)</text>\n",
			BAR_X + BAR_W + 204, label_y + 4, seg_styles[s].colour,
			seg_name(l, (enum pv_seg)s, seg_styles[s].svg),
			(unsigned long long)seg->vstart, (unsigned long long)seg->vend,
			human_bytes(seg->vend - seg->vstart, h, sizeof(h)));
	}

	{
		struct mark m[5];
		int n = 0;
		uint64_t tree = l->seg[PV_SEG_P2M].vstart + P2M_MAX_PFN * 8;

		m[n++] = (struct mark){y_of(l, l->mapping_end), "#1f4e99",
				       "end of the initial mapping", l->mapping_end, false};
		if (l->virt_base == START_KERNEL_MAP) {
			m[n++] = (struct mark){y_of(l, MODULES_VADDR), "#c00000", "MODULES_VADDR",
					       MODULES_VADDR, false};
			m[n++] = (struct mark){y_of(l, INITIAL_MAPPING_LIMIT_1G), "#d07000",
					       "1 GiB: the one L2 Linux grafts",
					       INITIAL_MAPPING_LIMIT_1G, false};
			m[n++] = (struct mark){TOP + BAR_H, "#555555",
					       "2 GiB: top of the address space", 0, true};
			if (l->p2m_in_mapping && tree - l->virt_base <= WINDOW)
				m[n++] = (struct mark){y_of(l, tree), "#7030a0",
						       "P2M tree limit (pfn 2^27)", tree, false};
		}
		draw_marks(f, m, n);
	}

	y0 = TOP + BAR_H + 50 + 16 * outside;
	for (int i = 0; i < PV_WARN_NR; i++) {
		char line[600];

		if (!(w & (1U << i)))
			continue;
		pv_warning_message((enum pv_warning)i, l, msg, sizeof(msg));
		snprintf(line, sizeof(line), "%s: %s", pv_warning_code((enum pv_warning)i), msg);
		svg_text(f, 10, y0, "#c00000", line, 150);
		y0 += 36;
	}
	fprintf(f, "</svg>\n");
}
