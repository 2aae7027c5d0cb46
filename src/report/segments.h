/* How the layout's renderings name and draw each segment (layout_out.c, layout_svg.c). */
#ifndef PVBOOT_REPORT_SEGMENTS_H
#define PVBOOT_REPORT_SEGMENTS_H

#include <pvboot/layout.h>

/*
 * A segment's name in JSON (the form `pvboot run` reports Xen's in too),
 * in the table and the picture, and in the SVG, with its colour there.
 * The ramdisk is named as its builder names it (pv_layout.ramdisk_name)
 * everywhere but in an SVG rectangle's title.
 */
struct seg_style {
	const char *json, *title, *svg, *colour;
};

extern const struct seg_style seg_styles[PV_SEG_NR];

/* @name (a field of seg_styles[s]), or the builder's own name for the ramdisk. */
static inline const char *seg_name(const struct pv_layout *l, enum pv_seg s, const char *name)
{
	return s == PV_SEG_RAMDISK ? l->ramdisk_name : name;
}

#endif
