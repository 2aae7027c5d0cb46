/*
 * The simulated Xen as its users see it (src/sim): lay a guest out, build it
 * as the builder would, run the boot path on it, and report.  Host code.
 * The simulation's own machinery (machine memory, page types, the builder,
 * the memory-image writer) is src/sim's private sim.h and dump.h.
 */
#ifndef PVBOOT_SIM_H
#define PVBOOT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/boot.h>
#include <pvboot/error.h>
#include <pvboot/image.h>
#include <pvboot/layout.h>

/* The guest to simulate. */
struct pv_sim_guest {
	const struct pv_layout_in *in; /* what pv_layout_build lays out */
	/*
	 * The ramdisk's bytes: this file's when the builder loads it as it is
	 * (its size is in->ramdisk_len), else what `pvboot run --ramdisk-size`
	 * writes (pv_pattern seeded by the length).  NULL: the pattern.
	 */
	const char *ramdisk_path;
	/*
	 * The kernel's own bytes, when @kernel (what pv_image_read_file read
	 * from @kernel_path) gave in's extent.  NULL: its frames read as zero.
	 */
	const char *kernel_path;
	const struct pv_image *kernel;
};

struct pv_sim_opts {
	enum pv_boot_mode mode;
	uint64_t fail_alloc;   /* pv_boot_opts.fail_alloc: 0 none */
	bool verify_full;      /* check every pfn, not a sample */
	bool echo_console;     /* write what the guest prints to stdout as it comes */
	const char *dump_path; /* after the boot, the memory image (memimage.h) here */
};

/* What the memory-image writer wrote. */
struct pv_sim_dump_stats {
	uint64_t bytes, records, m2p_runs;
	uint64_t raw_frames, arith_frames, zero_frames; /* frames read, by what they held */
	double seconds;
};

struct pv_sim_result {
	struct pv_boot_result res;
	struct pv_layout layout;
	int rc;		    /* pv_boot()'s */
	double seconds;	    /* build and boot */
	char console[8192]; /* what the guest wrote, last part */
	struct pv_sim_dump_stats dump;
};

/*
 * Lay @g out, build it on a fresh simulated Xen, boot it as @o says, and,
 * with o->dump_path, write the domain's memory image.  0 with @out filled
 * (whether or not the boot itself succeeded: out->rc and out->res say), or
 * -1 with @err when the guest cannot be laid out or built, a file cannot
 * be read, or the image cannot be written.
 */
int pv_sim_run(const struct pv_sim_guest *g, const struct pv_sim_opts *o, struct pv_sim_result *out,
	       struct pv_error *err);

/*
 * Boot @g in @mode: its PVBOOT-RESULT JSON (without the prefix) in @line,
 * as `pvboot simulate` prints it.  -1 with @err when the guest cannot be
 * built (PV_ERR_NOMEM when no result fits in memory).
 */
int pv_sim_result_line(const struct pv_sim_guest *g, enum pv_boot_mode mode, bool verify_full,
		       char *line, size_t size, struct pv_error *err);

#endif
