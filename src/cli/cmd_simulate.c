/*
 * pvboot simulate: lay a guest out, build it on the simulated Xen, and run
 * the boot path on it.  Without arguments: the seed's 128 GiB guest, without
 * the fix and with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pvboot/boot.h>
#include <pvboot/pvsum.h>

#include "../sim/dump.h"
#include "../sim/sim.h"
#include "cli.h"

enum { O_MODE = 1, O_FAIL_ALLOC, O_FORMAT, O_VERIFY, O_DUMP, O_HELP };

static const struct opt sim_opts[] = {
	{"mode", true, O_MODE},	    {"fail-alloc", true, O_FAIL_ALLOC},
	{"format", true, O_FORMAT}, {"verify", true, O_VERIFY},
	{"dump", true, O_DUMP},	    {"help", false, O_HELP},
	{NULL, false, 0},
};

static const char sim_help[] =
	"usage: pvboot simulate [options]\n"
	"Build a guest on the simulated Xen and run the boot path on it.\n"
	"  --mode M               revector (Linux 3.7), no-revector (before it), null,\n"
	"                         linear (Linux 3.19's linear P2M list, past 512 GiB too),\n"
	"                         or both (the default: no-revector, then revector)\n"
	"  --fail-alloc N         make the boot path's N-th page allocation fail\n"
	"  --verify full|sample   check every pfn (default) or a sample\n"
	"  --format text|json     the steps and results (default), or one JSON object\n"
	"  --dump FILE            after the boot, write a memory image of the domain for\n"
	"                         pvboot p2m-dump (one --mode only)\n";

struct run_one {
	struct pv_boot_result res;
	struct pv_layout layout;
	double seconds;
	int rc;
	char console[8192];
	struct dump_stats dump;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The ramdisk's contents: the file's bytes when --ramdisk gave one the
 * builder loads as it is, else what `pvboot run --ramdisk-size` writes
 * (pv_pattern seeded by the length), so both boot the same bytes.
 */
struct ramdisk_src {
	FILE *f;
	uint64_t len;
};

/*
 * Bytes from @off; past the ramdisk's length (a builder that rounds mod_len
 * up to a page) they are zero, as in the frames a real builder loads.
 */
static int ramdisk_read(void *ctx, uint64_t off, void *buf, size_t n)
{
	struct ramdisk_src *r = ctx;
	size_t have = off >= r->len ? 0 : r->len - off < n ? (size_t)(r->len - off) : n;

	memset((uint8_t *)buf + have, 0, n - have);
	if (!have)
		return 0;
	if (!r->f) {
		pv_pattern(r->len, off, buf, have);
		return 0;
	}
	return fseeko(r->f, (off_t)off, SEEK_SET) || fread(buf, 1, have, r->f) != have ? -1 : 0;
}

static int ramdisk_open(const struct guest *g, struct ramdisk_src *r, struct pv_error *err)
{
	r->f = NULL;
	r->len = g->in.ramdisk_len;
	if (!g->ramdisk_path || !r->len)
		return 0;
	r->f = fopen(g->ramdisk_path, "rb");
	if (!r->f)
		return pv_fail(err, PV_ERR_IO, "%s: cannot open the ramdisk", g->ramdisk_path);
	if (fseeko(r->f, 0, SEEK_END) || (uint64_t)ftello(r->f) != r->len) {
		/* The builder unpacks it first: its bytes are not the file's. */
		fclose(r->f);
		r->f = NULL;
		r->len = 0;
	}
	return 0;
}

/* pv_sum64 over the @bytes the guest is told of (mod_len), as the host sees them. */
static int ramdisk_sum(struct ramdisk_src *r, uint64_t bytes, uint64_t *sum)
{
	static uint8_t buf[1 << 16];
	uint64_t h = PV_SUM64_INIT;

	for (uint64_t off = 0; off < bytes; off += sizeof(buf)) {
		size_t n = bytes - off < sizeof(buf) ? bytes - off : sizeof(buf);

		if (ramdisk_read(r, off, buf, n))
			return -1;
		h = pv_sum64(h, buf, n);
	}
	*sum = h;
	return 0;
}

static int simulate(const struct guest *g, enum pv_boot_mode mode, uint64_t fail_alloc,
		    bool verify_full, bool echo, const char *dump, struct run_one *out,
		    struct pv_error *err)
{
	struct sim s;
	struct pv_platform pf;
	struct pv_boot_opts o = {
		.mode = mode,
		.virt_base = g->in.virt_base,
		.kernel_start = g->in.kstart,
		.kernel_end = g->in.kend,
		.fail_alloc = fail_alloc,
		.verify_full = verify_full,
	};
	double t0 = now();
	struct ramdisk_src rd;
	uint64_t mapped;
	uint8_t *kernel = NULL;
	int rc;

	if (pv_layout_build(&g->in, &out->layout, NULL, err))
		return -1;
	mapped = sim_builder_pages(&out->layout);
	if (ramdisk_open(g, &rd, err))
		return -1;
	if (rd.len) {
		if (ramdisk_sum(&rd, out->layout.si.mod_len, &o.ramdisk_sum)) {
			fclose(rd.f);
			return pv_fail(err, PV_ERR_IO, "%s: cannot read the ramdisk",
				       g->ramdisk_path);
		}
		o.ramdisk_sum_given = true;
	}
	if (sim_init(&s, g->in.nr_pages, mapped, err)) {
		if (rd.f)
			fclose(rd.f);
		return -1;
	}
	s.echo_console = echo;
	/* The kernel's own bytes, when an image gave its extent. */
	if (g->image && g->in.kstart == g->image->parms.virt_kstart &&
	    g->in.kend == g->image->parms.virt_kend &&
	    pv_image_load_file(g->kernel_path, g->image, &kernel, &s.kernel_len, err)) {
		sim_fini(&s);
		if (rd.f)
			fclose(rd.f);
		return -1;
	}
	s.kernel = kernel;
	if (rd.len) {
		s.ramdisk_read = ramdisk_read;
		s.ramdisk_ctx = &rd;
	}
	rc = sim_build(&s, &out->layout, err);
	free(kernel);
	s.kernel = NULL;
	if (rd.f)
		fclose(rd.f);
	if (rc) {
		sim_fini(&s);
		return -1;
	}
	pf = sim_platform(&s);
	out->rc = pv_boot(&pf, &o, &out->res);
	out->seconds = now() - t0;
	snprintf(out->console, sizeof(out->console), "%s", s.console);
	if (dump && sim_dump(&s, dump, &out->dump, err)) {
		sim_fini(&s);
		return -1;
	}
	sim_fini(&s);
	return 0;
}

int simulate_result_line(const struct guest *g, enum pv_boot_mode mode, bool verify_full,
			 char *line, size_t size, struct pv_error *err)
{
	struct run_one *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	rc = simulate(g, mode, 0, verify_full, false, NULL, r, err);
	if (!rc)
		pv_boot_result_json(&r->res, line, (unsigned)size);
	free(r);
	return rc;
}

static void print_json_one(struct json *j, const struct run_one *r, const char *dump)
{
	char line[PV_BOOT_RESULT_JSON_MAX];

	json_obj(j, NULL);
	pv_boot_result_json(&r->res, line, sizeof(line));
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
	struct run_one *runs;
	const char *v;
	int i = 0, id, rc = 0;

	opts_merge(opts, sim_opts, guest_opts);
	guest_defaults(&g);
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0)
			return cli_error("simulate", &err);
		switch (id) {
		case O_HELP:
			printf("%s%s", sim_help, guest_help);
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
	runs = calloc(nmodes, sizeof(*runs));
	if (!runs)
		return cli_usage_error("simulate", "out of memory");
	for (unsigned m = 0; m < nmodes && !rc; m++) {
		if (!json)
			printf("== %s guest of %llu MiB, mode %s ==\n", pv_builder_name(g.in.builder),
			       (unsigned long long)(g.in.nr_pages >> 8), pv_boot_mode_name(modes[m]));
		fflush(stdout);
		if (simulate(&g, modes[m], fail_alloc, verify_full, !json, dump, &runs[m], &err))
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
		if (runs[m].rc || runs[m].res.mismatches || runs[m].res.pages_leaked ||
		    runs[m].res.pages_double_freed)
			rc = EXIT_DATA;
	free(runs);
	guest_release(&g);
	return rc;
}
