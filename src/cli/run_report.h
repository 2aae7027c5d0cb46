/* pvboot run's report (run_report.c): the runs the harness judged, as text or JSON. */
#ifndef PVBOOT_CLI_RUN_REPORT_H
#define PVBOOT_CLI_RUN_REPORT_H

#include <stdio.h>

#include <pvboot/harness.h>

void run_report_text(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
void run_report_json(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);

#endif
