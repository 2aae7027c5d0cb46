/*
 * pvboot simulate: lay a guest out, build it on the simulated Xen, and run
 * the boot path on it.  Without arguments: the seed's 128 GiB guest, without
 * the fix and with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/boot.h>
#include <pvboot/protocol.h>
#include <pvboot/sim.h>

#include "cli.h"

enum { O_MODE = 1, O_FAIL_ALLOC, O_FORMAT, O_VERIFY, O_DUMP, O_HELP };

static const struct opt sim_opts[] = {
	{"mode", "M", O_MODE,
	 "revector (Linux 3.7), no-revector (before it), null,\n"
	 "linear (Linux 3.19's linear P2M list, past 512 GiB too),\n"
	 "or both (the default: no-revector, then revector)"},
	{"fail-alloc", "N", O_FAIL_ALLOC, "make the boot path's N-th page allocation fail"},
	{"verify", "full|sample", O_VERIFY, "check every pfn (default) or a sample"},
	{"format", "text|json", O_FORMAT, "the steps and results (default), or one JSON object"},
	{"dump", "FILE", O_DUMP,
	 "after the boot, write a memory image of the domain for\n"
	 "pvboot p2m-dump (one --mode only)"},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

static const char sim_help[] =
	"usage: pvboot simulate [options]\n"
	"Build a guest on the simulated Xen and run the boot path on it.\n";

/* A failed boot's reason, one line on stderr. */
static void say_failure(const struct guest *g, const struct pv_boot_result *res)
{
	fprintf(stderr, "pvboot: simulate: %s guest of %llu MiB, mode %s: ",
		pv_builder_name(g->in.builder), (unsigned long long)(g->in.nr_pages >> 8),
		pv_boot_mode_name(res->mode));
	if (res->error[0])
		fprintf(stderr, "%s\n", res->error);
	else
		fprintf(stderr, "%llu pfns differ, %lld pages leaked, %llu freed twice\n",
			(unsigned long long)res->mismatches, (long long)res->pages_leaked,
			(unsigned long long)res->pages_double_freed);
}

static void print_json_one(struct json *j, const struct pv_sim_result *r, const char *dump)
{
	char line[PV_RESULT_JSON_MAX];

	json_obj(j, NULL);
	pv_result_format(&r->res, PV_RF_ALL, line, sizeof(line));
	json_str(j, "result_line", line);
	json_str(j, "mode", pv_boot_mode_name(r->res.mode));
	json_u64(j, "nr_pages", r->res.nr_pages);
	json_u64(j, "p2m_leaves_copied", r->res.p2m_leaves_copied);
	json_u64(j, "ka_pmds_removed", r->res.ka_pmds_removed);
	json_u64(j, "ka_pmds_left", r->res.ka_pmds_left);
	json_u64(j, "pfns_verified", r->res.pfns_verified);
	json_u64(j, "mismatches", r->res.mismatches);
	json_str(j, "module_alloc", r->res.module_alloc);
	json_hex(j, "module_vaddr", r->res.module_vaddr);
	json_u64(j, "pages_leaked", (uint64_t)r->res.pages_leaked);
	json_str(j, "error", r->res.error);
	if (dump) {
		json_obj(j, "dump");
		json_str(j, "path", dump);
		json_u64(j, "bytes", r->dump.bytes);
		json_u64(j, "records", r->dump.records);
		json_u64(j, "m2p_runs", r->dump.m2p_runs);
		json_u64(j, "raw_frames", r->dump.raw_frames);
		json_u64(j, "arith_frames", r->dump.arith_frames);
		json_u64(j, "zero_frames", r->dump.zero_frames);
		json_u64(j, "milliseconds", (uint64_t)(r->dump.seconds * 1000));
		json_obj_end(j);
	}
	json_obj_end(j);
}

int cmd_simulate(int argc, char **argv)
{
	struct opt opts[40];
	struct guest g;
	struct pv_error err = {0};
	enum pv_boot_mode modes[2] = {PV_MODE_NO_REVECTOR, PV_MODE_REVECTOR};
	unsigned nmodes = 2;
	uint64_t fail_alloc = 0;
	bool json = false, verify_full = true;
	const char *dump = NULL;
	struct pv_sim_result *runs;
	struct pv_sim_guest sg;
	const char *v;
	int i = 0, id, rc = 0;

	opts_merge(opts, sim_opts, guest_opts);
	guest_defaults(&g);
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0)
			return cli_error("simulate", &err);
		switch (id) {
		case O_HELP:
			cmd_help(sim_help, opts, NULL);
			guest_help(stdout);
			return 0;
		case O_MODE:
			if (!strcmp(v, "both")) {
				nmodes = 2;
			} else if (pv_boot_mode_parse(v, &modes[0])) {
				return cli_usage_error("simulate",
						       "--mode: unknown mode '%s' (revector, no-revector, null, linear, both)",
						       v);
			} else {
				nmodes = 1;
			}
			break;
		case O_FAIL_ALLOC:
			if (parse_u64("--fail-alloc", v, &fail_alloc, &err))
				return cli_error("simulate", &err);
			break;
		case O_FORMAT:
			if (strcmp(v, "text") && strcmp(v, "json"))
				return cli_usage_error("simulate",
						       "--format: unknown format '%s' (text, json)",
						       v);
			json = !strcmp(v, "json");
			break;
		case O_DUMP:
			if (!*v)
				return cli_usage_error("simulate", "--dump: no file name");
			dump = v;
			break;
		case O_VERIFY:
			if (strcmp(v, "full") && strcmp(v, "sample"))
				return cli_usage_error("simulate",
						       "--verify: '%s' is neither full nor sample",
						       v);
			verify_full = !strcmp(v, "full");
			break;
		default:
			if (guest_option(&g, id, v, &err) < 0)
				return cli_error("simulate", &err);
		}
	}
	if (dump && nmodes != 1)
		return cli_usage_error("simulate",
				       "--dump: give one --mode (the image is of one boot)");
	if (guest_resolve(&g, &err)) {
		guest_release(&g);
		return cli_error("simulate", &err);
	}
	sg = guest_sim(&g);
	runs = calloc(nmodes, sizeof(*runs));
	if (!runs) {
		guest_release(&g);
		return cli_nomem("simulate");
	}
	for (unsigned m = 0; m < nmodes && !rc; m++) {
		struct pv_sim_opts o = {modes[m], fail_alloc, verify_full, !json, dump};

		if (!json)
			printf("== %s guest of %llu MiB, mode %s ==\n", pv_builder_name(g.in.builder),
			       (unsigned long long)(g.in.nr_pages >> 8), pv_boot_mode_name(modes[m]));
		fflush(stdout);
		if (pv_sim_run(&sg, &o, &runs[m], &err))
			rc = cli_error("simulate", &err);
		else if (!json && dump)
			printf("   (%.2f s)\npvboot: memory image %s: %llu bytes, %llu records (%llu raw frames, %llu arithmetic), %llu M2P runs, written in %.2f s\n\n",
			       runs[m].seconds, dump, (unsigned long long)runs[m].dump.bytes,
			       (unsigned long long)runs[m].dump.records,
			       (unsigned long long)runs[m].dump.raw_frames,
			       (unsigned long long)runs[m].dump.arith_frames,
			       (unsigned long long)runs[m].dump.m2p_runs, runs[m].dump.seconds);
		else if (!json)
			printf("   (%.2f s)\n\n", runs[m].seconds);
	}
	if (!rc && json) {
		struct json j;

		json_begin(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "builder", pv_builder_name(g.in.builder));
		json_u64(&j, "nr_pages", g.in.nr_pages);
		json_arr(&j, "runs");
		for (unsigned m = 0; m < nmodes; m++)
			print_json_one(&j, &runs[m], dump);
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	if (!rc && !json && nmodes == 2)
		printf("side by side:  %-14s %s\n  module load   %-14s %s\n  __ka PMDs left %-13llu %llu\n",
		       pv_boot_mode_name(runs[0].res.mode), pv_boot_mode_name(runs[1].res.mode),
		       runs[0].res.module_ok ? "ok" : "FAILED",
		       runs[1].res.module_ok ? "ok" : "FAILED",
		       (unsigned long long)runs[0].res.ka_pmds_left,
		       (unsigned long long)runs[1].res.ka_pmds_left);
	for (unsigned m = 0; m < nmodes && !rc; m++)
		if (pv_exit_code_of(runs[m].rc, &runs[m].res,
				    &(struct pv_guest_args){.mode = modes[m]}) == PV_EXIT_FAIL) {
			/* The text says why on stdout; with JSON, stderr says it too. */
			if (json)
				say_failure(&g, &runs[m].res);
			rc = EXIT_DATA;
		}
	free(runs);
	guest_release(&g);
	return rc;
}
