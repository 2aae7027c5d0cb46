/*
 * pvboot layout: how a builder lays out a guest, as its own log, a table
 * with the seed's picture, JSON, or an SVG.
 */
#include <stdlib.h>
#include <string.h>

#include <pvboot/x86.h>

#include "cli.h"

enum { O_FORMAT = 1, O_HELP };

static const struct opt layout_opts[] = {
	{"format", "F", O_FORMAT, "log (the builder's own lines), table (default),\njson or svg"},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

static const char layout_help[] =
	"usage: pvboot layout [options]\n"
	"Predict how a Xen domain builder lays out a 64-bit PV guest.\n";

/* The builder's log lines, kept so every format can show them. */
struct log_lines {
	char **line;
	unsigned n, cap;
	bool echo; /* print as they come, as the builder does */
};

static void keep_line(void *ctx, const char *text)
{
	struct log_lines *ll = ctx;

	if (ll->echo)
		printf("%s\n", text);
	if (ll->n == ll->cap) {
		unsigned cap = ll->cap ? 2 * ll->cap : 32;
		char **p = realloc(ll->line, cap * sizeof(*p));

		if (!p)
			return;
		ll->line = p;
		ll->cap = cap;
	}
	ll->line[ll->n] = strdup(text);
	if (ll->line[ll->n])
		ll->n++;
}

static void free_lines(struct log_lines *ll)
{
	for (unsigned i = 0; i < ll->n; i++)
		free(ll->line[i]);
	free(ll->line);
}

int cmd_layout(int argc, char **argv)
{
	struct opt opts[32];
	struct guest g;
	struct layout_guest lg;
	struct pv_layout l;
	struct pv_error err = {0};
	struct log_lines ll = {0};
	const char *format = "table", *v;
	int i = 0, id, rc;

	opts_merge(opts, layout_opts, guest_opts);
	guest_defaults(&g);
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0)
			return cli_error("layout", &err);
		if (id == O_HELP) {
			cmd_help(layout_help, opts, NULL);
			guest_help(stdout);
			return 0;
		}
		if (id == O_FORMAT) {
			format = v;
			continue;
		}
		if (guest_option(&g, id, v, &err) < 0)
			return cli_error("layout", &err);
	}
	if (strcmp(format, "log") && strcmp(format, "table") && strcmp(format, "json") &&
	    strcmp(format, "svg"))
		return cli_usage_error("layout",
				       "--format: unknown format '%s' (log, table, json, svg)",
				       format);
	if (guest_resolve(&g, &err)) {
		guest_release(&g);
		return cli_error("layout", &err);
	}

	/* Notes go where people read: the table, the JSON, or stderr beside a log or SVG. */
	if (strcmp(format, "table") && strcmp(format, "json"))
		for (unsigned k = 0; k < g.nr_notes; k++)
			fprintf(stderr, "pvboot: layout: note: %s\n", g.notes[k]);
	lg = guest_report(&g);
	ll.echo = !strcmp(format, "log");
	rc = pv_layout_build(&g.in, &l, &(struct pv_log){keep_line, &ll}, &err);
	fflush(stdout);
	if (rc) {
		rc = cli_error("layout", &err);
	} else if (!strcmp(format, "json")) {
		struct json j;

		json_begin(&j, stdout);
		layout_json(&j, &lg, &l, (const char *const *)ll.line, ll.n);
		json_end(&j);
	} else if (!strcmp(format, "table")) {
		layout_table(stdout, &lg, &l);
		for (unsigned k = 0; k < g.nr_notes; k++)
			printf("\nnote: %s\n", g.notes[k]);
		layout_picture(stdout, &l);
		layout_warnings_text(stdout, &l);
	} else if (!strcmp(format, "svg")) {
		layout_svg(stdout, &g.in, &l);
	}
	free_lines(&ll);
	guest_release(&g);
	return rc;
}
