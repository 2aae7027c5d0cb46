/*
 * The real-boot harness: boot a guest for real, Xen in qemu-system-x86_64
 * (TCG), read what the serial line says, and judge it against pvboot's
 * prediction (docs/harness.md).  Its steps, each a function here:
 *
 *   plan      the prediction, QEMU's size, the timeout   run_plan_guest()
 *   prepare   host memory, QEMU, the cache, Xen, the      run_prepare()
 *             ramdisk, and what the kind needs besides
 *   boot      QEMU started, its serial line read as it    run_boot()
 *             comes, progress through a callback
 *   replay    a recorded serial log read instead          run_replay()
 *   evaluate  a pure function from the parsed log to      run_evaluate()
 *             the checks
 *
 * What differs between kinds of guest (pvboot's kernel as dom0, as a domU
 * that xl create builds, ...) is one struct run_kind each, in one file,
 * as libxenguest's struct xc_dom_arch is one per guest type.
 *
 * The harness parses no options and writes nothing to stdout: errors are
 * values, progress goes to the caller's callback, and a kind's part of
 * the report is written to the FILE or JSON writer the caller gives.
 */
#ifndef PVBOOT_HARNESS_H
#define PVBOOT_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pvboot/boot.h>
#include <pvboot/error.h>
#include <pvboot/image.h>
#include <pvboot/json.h>
#include <pvboot/layout.h>
#include <pvboot/protocol.h>

struct run_kind;

/* Lines of text (malloc'd); @nomem says one was lost. */
struct run_lines {
	char **line;
	unsigned n, cap;
	bool nomem;
};
void run_lines_add(struct run_lines *l, const char *text);
void run_lines_free(struct run_lines *l);

/* ---- what the serial line says (read by the harness: serial.c) ---- */

/* Xen's PHYSICAL and VIRTUAL MEMORY ARRANGEMENT (docs/builders.md). */
struct run_arrangement {
	bool found;	    /* "VIRTUAL MEMORY ARRANGEMENT:" was printed */
	unsigned lines;	    /* what was printed: 1 << enum pv_seg, and serial.c's RUN_ARR_* */
	struct pv_layout l; /* segments, virt_base (TOTAL's start), si.entry */
	uint64_t paddr_start, paddr_end;
	uint64_t alloc_start, alloc_end, alloc_pages_left;
	uint64_t mramdisk_start, mramdisk_end;
	/* What Xen printed of the layout, as `pvboot layout --format log` predicts it. */
	char printed[16][96];
	unsigned nr_printed;
	char xen_version[32]; /* "4.14.6", from "Xen version ..." */
};

/* How QEMU ended. */
struct run_exit {
	bool known;	    /* false: no QEMU ran, and a recorded log does not say */
	bool exited;	    /* exited by itself: @status is its exit status */
	int status;	    /* exit status, or the signal that killed it */
	bool timed_out;	    /* killed at the timeout */
	double timeout;	    /* ... of this many seconds */
	bool crash_killed;  /* killed after Xen reported a crash */
	int interrupted;    /* the signal (SIGINT ...) that stopped pvboot, or 0 */
	double seconds;	    /* QEMU start to exit */
	uint64_t peak_rss;  /* QEMU's peak resident set (its ru_maxrss) in bytes; 0: unknown */
	char qemu_err[240]; /* QEMU's last line on its stderr */
};

struct run_serial {
	struct run_arrangement arr;
	int section;	 /* 0, or 1/2 inside the PHYSICAL/VIRTUAL arrangement */
	unsigned stages; /* 1 << serial.c's enum run_stage: the stages reached */
	/* When each stage was reached, seconds after QEMU started; -1: not, or unknown. */
	double t_xen, t_building, t_arrangement, t_kernel, t_result, t_last;
	unsigned lines, kernel_lines;
	char kernel_line[160]; /* the latest "pvboot:" line */
	bool have_result;      /* a PVBOOT-RESULT line was seen (the first counts) */
	bool result_parsed;    /* ... and it read (pv_result_parse) */
	char result_line[PV_RESULT_JSON_MAX];
	char result_error[PV_ERRMSG_MAX];
	struct pv_boot_result result;
	uint32_t result_fields; /* the fields it had: 1 << enum pv_result_field */
	char crash[240];	/* the Xen line that said it */
	bool crash_final;	/* Xen's last words were printed: stop now */
	struct run_exit logged; /* a recorded log's own "pvboot-run:" trailer */
	char logged_command[1024];
};

/* The log pvboot writes: "[%7.3f] text", and these trailer lines. */
#define RUN_LOG_TAG "pvboot-run: "

/* ---- the plan ---- */

/* The guest to boot, as the caller resolved it (pvboot run's options). */
struct run_guest {
	struct pv_layout_in in;	    /* in.builder: the kind's (run_kind_builder) */
	const struct pv_image *image; /* the kernel image, or NULL */
	const char *kernel;	    /* its file */
	const char *ramdisk;	    /* a ramdisk file, or NULL for the pattern of in.ramdisk_len */
};

struct run_plan {
	const struct run_kind *kind;
	const char *xen_release; /* "4.14", "4.17" (the default) or "4.20": Debian's hypervisor */
	struct run_guest g;
	struct pv_layout predicted;
	struct run_lines predicted_log; /* the builder's log lines, for kinds that compare them */
	bool module_must_fail;		/* the builder's mapping reaches MODULES_VADDR */
	uint64_t memory;		/* the guest's bytes */
	bool ramdisk;			/* a ramdisk is passed */
	uint64_t ramdisk_bytes, ramdisk_sum;
	/*
	 * What the guest is handed: start_info's mod_len bytes, the file and,
	 * where the builder rounds a module up to pages, zeros after it;
	 * ramdisk_sum is over these (run_prepare).
	 */
	uint64_t ramdisk_handed;
	char ramdisk_path[PATH_MAX]; /* "" when none was made (a replay) */
	char xen[PATH_MAX];
	char cache[PATH_MAX];
	char logs[PATH_MAX]; /* run-logs beside the cache */
	uint64_t qemu_mib;
	uint64_t host_need; /* what QEMU's RSS is expected to reach, in bytes */
	double timeout;
	bool verify_full;
	bool mfndump;		/* domU: the dom0 reads the downed domU's P2M with xen-mfndump */
	bool revector;		/* a run in mode revector: its kernel copies the P2M list */
	const char *serial_log; /* evaluate this recorded log instead of running QEMU */
	int assume_exit;	/* QEMU's exit status to assume for it, or -1 */
	void *priv;		/* the kind's own (run_kind.plan_size bytes) */
};

#define RUN_MAX_ARGS 48
struct run_cmdline {
	unsigned argc;
	char *argv[RUN_MAX_ARGS + 1]; /* into buf, NULL-terminated */
	char buf[4 * PATH_MAX + 2048];
};

struct run_check {
	const char *name;
	bool ok;
	char detail[320];
};
#define RUN_MAX_CHECKS 20

struct run_one {
	enum pv_boot_mode mode;
	struct run_cmdline cmd; /* argc 0 for a replay */
	char log[PATH_MAX];
	struct run_exit exit;
	struct run_serial ser;
	struct run_check check[RUN_MAX_CHECKS];
	unsigned nr_checks;
	bool agree; /* what the builder printed equals the prediction */
	/* The same guest on the simulated Xen (the caller's): its PVBOOT-RESULT, or why none. */
	bool sim_tried;
	char sim_line[PV_RESULT_JSON_MAX];
	char sim_error[256];
	bool ok;
	void *priv; /* the kind's own (run_kind.run_size bytes) */
};

/* A wall time of a run, as the report shows it. */
struct run_timing {
	const char *label; /* "hypervisor", in text */
	const char *key;   /* "hypervisor", in JSON */
	double seconds;	   /* -1: unknown */
};
#define RUN_MAX_TIMINGS 4

/* Progress: a line per stage, and notes (a file made, a step retried). */
struct run_progress {
	void (*stage)(void *ctx, double t, const char *text, bool new_stage);
	void (*note)(void *ctx, const char *text);
	void *ctx;
};

/* ---- kinds of guest ---- */

/* The kind called @name ("dom0", "domu"), or NULL. */
const struct run_kind *run_kind_find(const char *name);
/* The kinds' names, "dom0, domu", into @buf (cut short if it does not fit). */
void run_kind_names(char *buf, size_t size);
/* Which kind a recorded log is of, by its markers; @fallback if none says. */
const struct run_kind *run_kind_of_log(const char *path, const struct run_kind *fallback);
/*
 * Who lays this kind out under Xen @release ("4.14", "4.17", "4.20"): the
 * builder the prediction uses.  -1 with @err (PV_ERR_USAGE) for a release
 * pvboot does not boot.
 */
int run_kind_builder(const struct run_kind *k, const char *release, enum pv_builder *b,
		     struct pv_error *err);
/*
 * Whether @k can boot a guest of @in at all (a domU's memory must be whole
 * MiB, say), before any file is looked at.  -1 with @err (PV_ERR_USAGE).
 */
int run_check_guest(const struct run_kind *k, const struct pv_layout_in *in, struct pv_error *err);
/* The kernel make builds beside pvboot for a --kernel-extent ("plain", "seed"), or NULL. */
const char *run_kernel_extent_file(const char *extent);
/*
 * The kernel a run of @k boots, into @path: @given, else the file @extent
 * names beside pvboot, else the kind's own for @seed_memory (no --memory
 * given) and @linear (mode linear only); checked to be a file that the kind
 * can pass to its guest with @ramdisk.  -1 with @err (PV_ERR_USAGE for
 * what the kind cannot pass).
 */
int run_kernel_path(const struct run_kind *k, const char *given, const char *extent,
		    bool seed_memory, bool linear, const char *ramdisk, char *path, size_t size,
		    struct pv_error *err);

/* ---- the steps ---- */

/* A plan for @kind with nothing resolved yet; run_plan_free releases it. */
int run_plan_init(struct run_plan *p, const struct run_kind *kind, struct pv_error *err);
void run_plan_free(struct run_plan *p);
/*
 * The ramdisk's length, QEMU's size, the timeout (unless set), and the
 * prediction with the builder's log lines.  -1 with @err: PV_ERR_USAGE for
 * a guest this kind cannot boot as asked, else the builder's refusal.
 */
int run_plan_guest(struct run_plan *p, struct pv_error *err);
/*
 * What a real boot needs besides: host memory (checked first), QEMU, the
 * cache and log directories, Xen (@xen, or Debian's fetched once), the
 * ramdisk file, and the kind's own (for a domU the Linux dom0 and the
 * module file).  -1 with @err.
 */
int run_prepare(struct run_plan *p, const char *xen, const struct run_progress *pr,
		struct pv_error *err);
/* For a replay: the ramdisk's pvsum64 (of the file, or of the pattern if @need_sum). */
int run_prepare_replay(struct run_plan *p, bool need_sum, struct pv_error *err);

/* A run of @mode, ready to boot or replay; run_one_free releases it. */
int run_one_init(const struct run_plan *p, struct run_one *r, enum pv_boot_mode mode,
		 struct pv_error *err);
void run_one_free(const struct run_plan *p, struct run_one *r);
/*
 * Boot once under QEMU, the serial log into <logs>/<kind>-<MiB>M-<mode>.log.
 * 0 when QEMU ran (r->exit says how it ended; interrupted: exit.interrupted),
 * -1 with @err when it could not.
 */
int run_boot(const struct run_plan *p, struct run_one *r, const struct run_progress *pr,
	     struct pv_error *err);
/*
 * Read p->serial_log instead; the mode from its PVBOOT-RESULT (or the
 * kind's own record of it) unless @mode_given.  -1 with @err.
 */
int run_replay(const struct run_plan *p, bool mode_given, struct run_one *r, struct pv_error *err);
/* Fill r->check, r->agree and r->ok from r->exit, r->ser and the kind's state. */
void run_evaluate(const struct run_plan *p, struct run_one *r);

/* ---- what the report takes from the kind ---- */

/* "128 GiB dom0, revector", "512 MiB domU, null" */
void run_title(const struct run_plan *p, enum pv_boot_mode mode, char *buf, size_t size);
/* "dom0" or "domU", as the report names the guest. */
const char *run_guest_name(const struct run_plan *p);
/* The run's wall times, into @t[RUN_MAX_TIMINGS], the total last.  Returns how many. */
unsigned run_timings(const struct run_plan *p, const struct run_one *r, struct run_timing *t);
/* The kernel's code from QEMU's exit status (code << 1) | 1, or -1 if it is not one. */
int run_kernel_code(const struct run_exit *e);
/* The kind's lines of the text report: what QEMU holds, the builder's print against the prediction. */
void run_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r);
void run_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r);
/* The kind's fields of the JSON report: in "qemu", then after it. */
void run_report_qemu_json(struct json *j, const struct run_plan *p, const struct run_one *r);
void run_report_json_fields(struct json *j, const struct run_plan *p, const struct run_one *r);
/* The side-by-side verdict row: its label, and each run's cell. */
const char *run_verdict_label(const struct run_plan *p);
void run_verdict_text(const struct run_plan *p, const struct run_one *r, char *buf, size_t size);

#endif
