/*
 * One simulated boot, start to end (include/pvboot/sim.h): the layout, a
 * fresh simulated Xen with the builder's domain on it, the boot path, and
 * the memory image after it.  What `pvboot simulate` runs, and what
 * `pvboot run` compares a real boot with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/host.h>
#include <pvboot/protocol.h>
#include <pvboot/pvsum.h>
#include <pvboot/sim.h>
#include <pvboot/sim_machine.h>

/*
 * The ramdisk's contents: the file's bytes when it gave one the builder
 * loads as it is, else pv_pattern seeded by the length (pv_sim_guest).
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

static int ramdisk_open(const struct pv_sim_guest *g, struct ramdisk_src *r, struct pv_error *err)
{
	r->f = NULL;
	r->len = g->in->ramdisk_len;
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

int pv_sim_run(const struct pv_sim_guest *g, const struct pv_sim_opts *opts,
	       struct pv_sim_result *out, struct pv_error *err)
{
	const struct pv_layout_in *in = g->in;
	struct sim s;
	struct pv_platform pf;
	struct pv_boot_opts o = {
		.mode = opts->mode,
		.virt_base = in->virt_base,
		.kernel_start = in->kstart,
		.kernel_end = in->kend,
		.fail_alloc = opts->fail_alloc,
		.verify_full = opts->verify_full,
	};
	double t0 = pv_now();
	struct ramdisk_src rd;
	uint64_t mapped;
	uint8_t *kernel = NULL;
	int rc;

	if (pv_layout_build(in, &out->layout, NULL, err))
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
	if (sim_init(&s, in->nr_pages, mapped, err)) {
		if (rd.f)
			fclose(rd.f);
		return -1;
	}
	s.echo_console = opts->echo_console;
	/* The kernel's own bytes, when an image gave its extent. */
	if (g->kernel && in->kstart == g->kernel->parms.virt_kstart &&
	    in->kend == g->kernel->parms.virt_kend &&
	    pv_image_load_file(g->kernel_path, g->kernel, &kernel, &s.kernel_len, err)) {
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
	out->seconds = pv_now() - t0;
	snprintf(out->console, sizeof(out->console), "%s", s.console);
	if (opts->dump_path && sim_dump(&s, opts->dump_path, &out->dump, err)) {
		sim_fini(&s);
		return -1;
	}
	sim_fini(&s);
	return 0;
}

int pv_sim_result_line(const struct pv_sim_guest *g, enum pv_boot_mode mode, bool verify_full,
		       char *line, size_t size, struct pv_error *err)
{
	struct pv_sim_opts o = {.mode = mode, .verify_full = verify_full};
	struct pv_sim_result *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	rc = pv_sim_run(g, &o, r, err);
	if (!rc)
		pv_result_format(&r->res, PV_RF_ALL, line, size);
	free(r);
	return rc;
}
