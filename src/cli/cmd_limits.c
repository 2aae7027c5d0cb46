/*
 * pvboot limits: for a kernel and ramdisk, the largest guest (in MiB, the
 * unit xl's memory= takes) that each builder lays out below each limit.
 */
#include <string.h>

#include "cli.h"

enum { O_FORMAT = 1, O_HELP };

static const struct opt limits_opts[] = {
	{"format", "F", O_FORMAT, "table (default) or json"},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

static const char limits_help[] =
	"usage: pvboot limits [options]\n"
	"The largest guest, per builder, that stays below each limit, found by bisection\n"
	"in steps of 1 MiB.  Builders: --builder's, --xen-version's two (--xen-version all:\n"
	"every release's), or by default libxc-4.2 (the seed's) and Xen 4.17's two.\n";

#define STEP_PAGES 256 /* 1 MiB */

static void cell(char *buf, size_t size, const struct pv_limits *lim, int w)
{
	const struct pv_limit *l = &lim->limit[w];
	char h[32];

	if (l->never)
		snprintf(buf, size, "never (to 64 TiB)");
	else if (l->builder_first)
		snprintf(buf, size, "not reached");
	else if (l->always)
		snprintf(buf, size, "always");
	else
		snprintf(buf, size, "%llu MiB (%s)", (unsigned long long)(l->largest >> 8),
			 human_bytes(l->largest << 12, h, sizeof(h)));
}

static void json_limits(struct json *j, const struct pv_limits *lim)
{
	json_u64(j, "smallest_mib", lim->smallest >> 8);
	json_u64(j, "largest_mib", lim->largest >> 8);
	if (lim->largest_is_max)
		json_null(j, "largest_fails_with");
	else
		json_str(j, "largest_fails_with", lim->too_large.msg);
	json_arr(j, "limits");
	for (int w = 0; w < PV_WARN_NR; w++) {
		const struct pv_limit *l = &lim->limit[w];

		json_obj(j, NULL);
		json_str(j, "code", pv_warning_code((enum pv_warning)w));
		if (l->never || l->builder_first || l->always) {
			json_null(j, "largest_mib");
			json_null(j, "largest_pages");
			json_str(j, "status",
				 l->never    ? "never"
				 : l->always ? "always"
					     : "not-reached");
		} else {
			json_u64(j, "largest_mib", l->largest >> 8);
			json_u64(j, "largest_pages", l->largest);
			json_str(j, "status", "reached");
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_u64(j, "layouts_computed", lim->layouts);
}

/* Which builders the table shows (limits_help says so). */
static int pick_builders(struct guest *g, bool all_releases, bool wanted[PV_BUILDER_NR],
			 struct pv_error *err)
{
	enum pv_builder b;

	if (all_releases && (g->release || g->builder_set))
		return pv_fail(err, PV_ERR_USAGE,
			       "--xen-version all: give no other --xen-version or --builder");
	if (all_releases) {
		for (int k = 0; k < PV_BUILDER_NR; k++)
			wanted[k] = pv_builder_info((enum pv_builder)k)->release != NULL &&
				    (!g->dom0 || pv_builder_is_dom0((enum pv_builder)k));
		return 0;
	}
	if (g->builder_set || g->dom0) {
		/* One builder, checked against --xen-version as every command does. */
		struct guest one = *g;

		one.image = NULL;
		one.kernel_path = NULL;
		one.ramdisk_path = NULL;
		if (guest_resolve(&one, err))
			return -1;
		wanted[one.in.builder] = true;
		return 0;
	}
	if (!g->release)
		wanted[PV_BUILDER_LIBXC_42] = true;
	for (int dom0 = 0; dom0 < 2; dom0++) {
		if (pv_builder_of_release(g->release ? g->release : PV_XEN_RELEASE_DEFAULT, dom0, &b))
			return pv_fail(err, PV_ERR_USAGE, "no builders of Xen %s", g->release);
		wanted[b] = true;
	}
	return 0;
}

/* One table: the limits (rows) of the builders in @cols (columns). */
static void table(const struct pv_limits *lim, const uint64_t *ramdisk,
		  const bool cols[PV_BUILDER_NR])
{
	printf("  %-26s", "limit");
	for (int b = 0; b < PV_BUILDER_NR; b++)
		if (cols[b])
			printf(" %-28s", pv_builder_name((enum pv_builder)b));
	printf("\n  %-26s", "(ramdisk as it sizes it)");
	for (int b = 0; b < PV_BUILDER_NR; b++)
		if (cols[b])
			printf(" 0x%-26llx", (unsigned long long)ramdisk[b]);
	printf("\n");
	for (int w = 0; w < PV_WARN_NR; w++) {
		printf("  %-26s", pv_warning_code((enum pv_warning)w));
		for (int b = 0; b < PV_BUILDER_NR; b++) {
			char c[64];

			if (!cols[b])
				continue;
			cell(c, sizeof(c), &lim[b], w);
			printf(" %-28s", c);
		}
		printf("\n");
	}
	for (int r = 0; r < 2; r++) {
		printf("  %-26s", r ? "largest that builds" : "smallest that builds");
		for (int b = 0; b < PV_BUILDER_NR; b++) {
			char c[64], h[32];
			uint64_t pages = r ? lim[b].largest : lim[b].smallest;

			if (!cols[b])
				continue;
			snprintf(c, sizeof(c), "%llu MiB (%s)", (unsigned long long)(pages >> 8),
				 human_bytes(pages << 12, h, sizeof(h)));
			printf(" %-28s", c);
		}
		printf("\n");
	}
}

int cmd_limits(int argc, char **argv)
{
	struct opt opts[32];
	struct guest g;
	struct pv_error err = {0};
	struct pv_limits lim[PV_BUILDER_NR];
	uint64_t ramdisk[PV_BUILDER_NR] = {0};
	struct pv_layout_in shown;
	bool wanted[PV_BUILDER_NR] = {false}, json = false, all_releases = false;
	const char *v;
	int i = 0, id, rc = 0;

	opts_merge(opts, limits_opts, guest_opts);
	guest_defaults(&g);
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0)
			return cli_error("limits", &err);
		if (id == O_HELP) {
			cmd_help(limits_help, opts, NULL);
			guest_help(stdout);
			return 0;
		}
		if (id == O_FORMAT) {
			if (strcmp(v, "table") && strcmp(v, "json"))
				return cli_usage_error("limits",
						       "--format: unknown format '%s' (table, json)",
						       v);
			json = !strcmp(v, "json");
			continue;
		}
		if (id == O_XEN_VERSION && !strcmp(v, "all")) {
			all_releases = true;
			continue;
		}
		if (guest_option(&g, id, v, &err) < 0)
			return cli_error("limits", &err);
		if (!g.memory_from_seed)
			return cli_usage_error("limits",
					       "--memory and --pages make no sense here: limits searches over the guest's size");
	}
	if (pick_builders(&g, all_releases, wanted, &err))
		return cli_error("limits", &err);

	for (int b = 0; b < PV_BUILDER_NR && !rc; b++) {
		struct guest gb = g;

		if (!wanted[b])
			continue;
		gb.in.builder = (enum pv_builder)b;
		gb.builder_set = true;
		gb.release = NULL;
		gb.dom0 = false;
		gb.image = NULL;
		if (guest_resolve(&gb, &err) || pv_layout_limits(&gb.in, STEP_PAGES, &lim[b], &err))
			rc = cli_error("limits", &err);
		shown = gb.in; /* for the heading: the kernel as read */
		ramdisk[b] = gb.in.ramdisk_len;
		guest_release(&gb);
	}
	if (rc)
		return rc;

	if (json) {
		struct json j;

		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_hex(&j, "kernel_start", shown.kstart);
		json_hex(&j, "kernel_end", shown.kend);
		json_u64(&j, "ramdisk_bytes", shown.ramdisk_len);
		json_u64(&j, "step_pages", STEP_PAGES);
		json_arr(&j, "builders");
		for (int b = 0; b < PV_BUILDER_NR; b++) {
			if (!wanted[b])
				continue;
			json_obj(&j, NULL);
			json_str(&j, "builder", pv_builder_name((enum pv_builder)b));
			json_u64(&j, "ramdisk_bytes", ramdisk[b]);
			json_limits(&j, &lim[b]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
		return 0;
	}

	printf("largest guest below each limit, kernel 0x%llx-0x%llx\n\n",
	       (unsigned long long)shown.kstart, (unsigned long long)shown.kend);
	/* Three builders a table, so that a line stays within 120 columns. */
	for (int first = 0, shown_n = 0; first < PV_BUILDER_NR; first++) {
		bool in_table[PV_BUILDER_NR] = {false};
		int n = 0;

		for (int b = first; b < PV_BUILDER_NR && n < 3; b++)
			if (wanted[b]) {
				in_table[b] = true;
				n++;
				first = b;
			}
		if (!n)
			break;
		if (shown_n++)
			printf("\n");
		table(lim, ramdisk, in_table);
	}
	for (int b = 0; b < PV_BUILDER_NR; b++)
		if (wanted[b] && !lim[b].largest_is_max)
			printf("\n  %s, one MiB more: %s", pv_builder_name((enum pv_builder)b),
			       lim[b].too_large.msg);
	printf("\n");
	return 0;
}
