/*
 * Reports for people and machines: a layout as a table with the seed's
 * picture, as JSON or as an SVG (pvboot layout), and the runs the
 * real-boot harness judged, as text or JSON (pvboot run).  Host code: it
 * writes to a FILE or a JSON writer, and parses no options.
 */
#ifndef PVBOOT_REPORT_H
#define PVBOOT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <pvboot/harness.h>
#include <pvboot/json.h>
#include <pvboot/layout.h>

/*
 * What a layout's report shows of the guest beside the layout itself:
 * what the builder was asked for, which parts the user left out (the
 * seed's, said in one line of the table), and what the builder ignored
 * of what was asked, a sentence each (pv_ignored_message()).
 */
struct layout_guest {
	const struct pv_layout_in *in;
	bool memory_from_seed, kernel_from_seed, ramdisk_from_seed;
	const char *const *notes;
	unsigned nr_notes;
};

/* The layout as one JSON object, the builder's @log lines in it. */
void layout_json(struct json *j, const struct layout_guest *g, const struct pv_layout *l,
		 const char *const *log, unsigned nlog);
/* The segments, page tables, start_info and entry registers as a table. */
void layout_table(FILE *f, const struct layout_guest *g, const struct pv_layout *l);
/* The seed's two-column phys/__ka picture, with the limits a Linux guest runs into. */
void layout_picture(FILE *f, const struct pv_layout *l);
/* Every warning of @l in a line, or a line that says there is none. */
void layout_warnings_text(FILE *f, const struct pv_layout *l);
/* The kernel mapping's 2 GiB window drawn to scale; @in gives the kernel's extent. */
void layout_svg(FILE *f, const struct pv_layout_in *in, const struct pv_layout *l);

/* pvboot run's report of @n runs of plan @p, as run_evaluate() judged them. */
void run_report_text(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
void run_report_json(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);

#endif
