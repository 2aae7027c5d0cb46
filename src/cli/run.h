/*
 * pvboot run: boot pvboot's PV kernel as dom0 under the real Xen 4.17
 * hypervisor inside qemu-system-x86_64 (TCG), read what Xen and the kernel
 * print on the serial line, and compare it with the layout engine's
 * prediction (real-xen.md sections 2, 3, 8 and 10).  The pieces:
 *
 *   cmd_run.c      options, the plan, one run per mode, progress
 *   run_xen.c      the cache directory, helper processes, the hypervisor
 *   run_ramdisk.c  the pattern ramdisk and pvsum64 over a file
 *   run_qemu.c     QEMU's size and command line, its process and serial
 *   run_parse.c    what the serial log says: Xen's arrangement, PVBOOT-RESULT
 *   run_check.c    the arrangement against the prediction, and the checks
 *   run_report.c   the report as text or JSON
 */
#ifndef PVBOOT_CLI_RUN_H
#define PVBOOT_CLI_RUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/boot.h>
#include <pvboot/layout.h>

#include "cli.h"

/* QEMU exits with (value << 1) | 1 for a byte written to isa-debug-exit (section 8). */
#define RUN_CODE_OK	       0x10 /* boot path done, checks held, module loaded and ran */
#define RUN_CODE_FAILED	       0x11 /* anything failed */
#define RUN_CODE_MODULE_FAILED 0x12 /* boot path done, checks held, module did not load */
#define RUN_QEMU_STATUS(code)  (((code) << 1) | 1)

/* ---- run_xen.c: the cache, helper processes, the hypervisor ---- */

/* The directory of the running executable, from /proc/self/exe.  -1 with @err. */
int run_exe_dir(char *buf, size_t size, struct pv_error *err);
/* $PVBOOT_CACHE, else <directory of the pvboot executable>/cache (created). */
int run_cache_dir(char *buf, size_t size, struct pv_error *err);
/* mkdir -p; 0, or -1 with @err (PV_ERR_IO). */
int run_mkdirs(const char *path, struct pv_error *err);
/* Whether @prog is an executable file in a directory of $PATH. */
bool run_on_path(const char *prog);
/*
 * Run @argv (looked up in $PATH) in @cwd with stdin from /dev/null and its
 * stdout on our stderr, and wait.  Returns its exit status (128 + signal if
 * killed), or -1 with @err when it could not be started.
 */
int run_command(char *const argv[], const char *cwd, struct pv_error *err);
/*
 * The hypervisor, <cache>/xen-hypervisor/xen-4.17: the first time, Debian's
 * xen-hypervisor-4.17-amd64 is fetched with apt-get download, unpacked with
 * dpkg -x and its boot/xen-4.17-amd64.gz gunzipped (section 2); a stamp file
 * marks it done.  Fills @path; -1 with @err (PV_ERR_IO) on any failure.
 */
int run_fetch_xen(const char *cache, char *path, size_t size, struct pv_error *err);

/* ---- run_ramdisk.c: the pattern ramdisk ---- */

/* pvsum64 of the pattern ramdisk of @bytes bytes (pv_pattern seeded with @bytes), unwritten. */
uint64_t run_pattern_sum(uint64_t bytes);
/*
 * The pattern ramdisk of @bytes bytes as a file, <cache>/ramdisks/splitmix64-<bytes>.img,
 * made the first time (written to a temporary name, then renamed), reused
 * when a file of that name has the size.  Fills @path and @sum.
 */
int run_ramdisk_make(const char *cache, uint64_t bytes, char *path, size_t size, uint64_t *sum,
		     struct pv_error *err);
/* pvsum64 and length of a file.  -1 with @err (PV_ERR_IO). */
int run_file_sum(const char *path, uint64_t *sum, uint64_t *bytes, struct pv_error *err);

/* ---- run_qemu.c: QEMU's size, command line and process ---- */

uint64_t run_qemu_mib(uint64_t dom0_bytes, uint64_t ramdisk_bytes);
/* QEMU's pc machine puts RAM above 3 GiB at 4 GiB: where guest RAM ends. */
uint64_t run_qemu_ram_top(uint64_t qemu_mib);
/* What QEMU's RSS is expected to reach, in bytes. */
uint64_t run_host_need(uint64_t qemu_mib, uint64_t dom0_bytes, uint64_t ramdisk_bytes);
/* MemAvailable from /proc/meminfo, in bytes; -1 with @err. */
int run_host_available(uint64_t *bytes, struct pv_error *err);
/*
 * @in with every ',' doubled, as a multiboot module string needs (section
 * 2), into @out.  Returns the length of the full result; it was truncated
 * if that is >= @size.
 */
size_t run_escape_commas(const char *in, char *out, size_t size);

struct run_qemu_in {
	const char *xen, *kernel;
	const char *ramdisk; /* NULL: none */
	uint64_t dom0_bytes, ramdisk_bytes, ramdisk_sum;
	uint64_t qemu_mib;
	enum pv_boot_mode mode;
	bool verify_full;
};

#define RUN_MAX_ARGS 48
struct run_cmdline {
	unsigned argc;
	char *argv[RUN_MAX_ARGS + 1]; /* into buf, NULL-terminated */
	char buf[4 * PATH_MAX + 2048];
};

/* QEMU's command line for @in (sections 3.2, 3.4, 13).  -1 with @err if it does not fit. */
int run_qemu_cmdline(const struct run_qemu_in *in, struct run_cmdline *c, struct pv_error *err);

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
	char qemu_err[240]; /* QEMU's last line on its stderr */
};

/* What to do after a line. */
enum run_verdict { RUN_GO_ON, RUN_STOP_SOON, RUN_STOP_NOW };

struct run_stream {
	/* A line (\r removed), @t seconds after QEMU started; @qemu_stderr: QEMU's own. */
	enum run_verdict (*line)(void *ctx, double t, const char *text, bool qemu_stderr);
	void (*tick)(void *ctx, double t); /* a few times a second */
	void *ctx;
};

/*
 * Start QEMU with @argv in a process group of its own, stream its output
 * line by line to @s, and wait for it to exit, at most @timeout seconds.
 * QEMU is killed at the timeout, soon after a line @s calls fatal, and when
 * SIGINT, SIGTERM or SIGHUP reaches pvboot (ex->interrupted says which); it
 * dies with pvboot in any case (PR_SET_PDEATHSIG).  Returns 0 with @ex
 * filled, or -1 with @err when QEMU could not be started.
 */
int run_qemu(char *const argv[], double timeout, const struct run_stream *s, struct run_exit *ex,
	     struct pv_error *err);

/* ---- run_parse.c: what the serial log says ---- */

/* A flat JSON object: string, number, true/false/null values, plain keys. */
enum run_jtype { RUN_JSTR, RUN_JNUM, RUN_JBOOL, RUN_JNULL };
struct run_jfield {
	char key[48];
	enum run_jtype type;
	char text[256]; /* the string, the number as written, "true", "false" or "null" */
};
#define RUN_JFIELDS 48
struct run_jobj {
	unsigned n;
	struct run_jfield f[RUN_JFIELDS];
};

/* Parse "{...}" at @s (spaces around it allowed).  -1 with @err saying where it stopped. */
int run_json_parse(const char *s, struct run_jobj *o, struct pv_error *err);
const struct run_jfield *run_json_find(const struct run_jobj *o, const char *key);
/* The value of @key if it has that type; false if missing or of another type. */
bool run_json_u64(const struct run_jobj *o, const char *key, uint64_t *v);
bool run_json_i64(const struct run_jobj *o, const char *key, int64_t *v);
bool run_json_bool(const struct run_jobj *o, const char *key, bool *v);
const char *run_json_str(const struct run_jobj *o, const char *key); /* NULL if not */

/* Lines of the arrangement besides the segments (bits above PV_SEG_NR). */
enum {
	RUN_ARR_ENTRY = 1U << 16,
	RUN_ARR_PADDR = 1U << 17,    /* "Dom0 kernel: ... paddr A -> B" */
	RUN_ARR_ALLOC = 1U << 18,    /* "Dom0 alloc.:" */
	RUN_ARR_MRAMDISK = 1U << 19, /* physical "Init. ramdisk:" */
};

/* Xen's PHYSICAL and VIRTUAL MEMORY ARRANGEMENT (section 10). */
struct run_arrangement {
	bool found;	    /* "VIRTUAL MEMORY ARRANGEMENT:" was printed */
	unsigned lines;	    /* what was printed: 1 << enum pv_seg, RUN_ARR_* */
	struct pv_layout l; /* segments, virt_base (TOTAL's start), si.entry */
	uint64_t paddr_start, paddr_end;
	uint64_t alloc_start, alloc_end, alloc_pages_left;
	uint64_t mramdisk_start, mramdisk_end;
};

/* Every line a dom0 build prints under VIRTUAL MEMORY ARRANGEMENT was seen. */
bool run_arrangement_complete(const struct run_arrangement *a);

/* Progress stages, in order. */
enum run_stage {
	RUN_STAGE_NONE,
	RUN_STAGE_XEN,	       /* "Xen version" */
	RUN_STAGE_BUILDING,    /* "*** Building a PV Dom0 ***" */
	RUN_STAGE_ARRANGEMENT, /* "VIRTUAL MEMORY ARRANGEMENT" */
	RUN_STAGE_KERNEL,      /* the first "pvboot:" line */
	RUN_STAGE_KERNEL_LINE, /* a later one */
	RUN_STAGE_RESULT,      /* PVBOOT-RESULT */
	RUN_STAGE_CRASH,       /* Xen says dom0 crashed, or panics */
};

struct run_serial {
	struct run_arrangement arr;
	int section;	 /* 0, or 1/2 inside the PHYSICAL/VIRTUAL arrangement */
	unsigned stages; /* 1 << enum run_stage: the stages reached */
	/* When each stage was reached, seconds after QEMU started; -1: not, or unknown. */
	double t_xen, t_building, t_arrangement, t_kernel, t_result, t_last;
	unsigned lines, kernel_lines;
	char kernel_line[160]; /* the latest "pvboot:" line */
	bool have_result;      /* a PVBOOT-RESULT line was seen (the first counts) */
	bool result_parsed;
	char result_line[1024];
	char result_error[PV_ERRMSG_MAX];
	struct run_jobj result;
	char crash[240];	/* the Xen line that said it */
	bool crash_final;	/* Xen's last words were printed: stop now */
	struct run_exit logged; /* a recorded log's own "pvboot-run:" trailer */
	char logged_command[1024];
};

void run_serial_init(struct run_serial *s);
/* Take one line (\r removed) seen @t seconds after QEMU started (-1: unknown). */
enum run_stage run_serial_line(struct run_serial *s, double t, const char *text);
/* "[  3.336] rest" -> rest, with @t = 3.336; a line without the prefix: itself, @t = -1. */
const char *run_split_time(const char *line, double *t);

/* The log pvboot writes: "[%7.3f] text", and these trailer lines. */
#define RUN_LOG_TAG "pvboot-run: "

/* ---- the plan and one run (cmd_run.c, run_report.c) ---- */

struct run_plan {
	struct guest g; /* kernel image, memory and ramdisk length; xen-4.17-dom0 */
	struct pv_layout predicted;
	bool module_must_fail; /* the builder's mapping reaches MODULES_VADDR */
	uint64_t memory;       /* dom0 bytes */
	bool ramdisk;	       /* a ramdisk is passed */
	uint64_t ramdisk_bytes, ramdisk_sum;
	char ramdisk_path[PATH_MAX]; /* "" when none was made (--serial-log) */
	char kernel[PATH_MAX];
	char xen[PATH_MAX];
	char cache[PATH_MAX];
	char logs[PATH_MAX]; /* run-logs beside the cache */
	uint64_t qemu_mib;
	double timeout;
	bool verify_full;
	bool json;
	const char *serial_log; /* evaluate this recorded log instead of running QEMU */
	int assume_exit;	/* QEMU's exit status to assume for it, or -1 */
};

struct run_check {
	const char *name;
	bool ok;
	char detail[320];
};
#define RUN_MAX_CHECKS 20

struct run_one {
	enum pv_boot_mode mode;
	struct run_cmdline cmd; /* argc 0 with --serial-log */
	char log[PATH_MAX];
	struct run_exit exit;
	struct run_serial ser;
	struct run_check check[RUN_MAX_CHECKS];
	unsigned nr_checks;
	bool agree; /* arrangement found and equal to the prediction */
	/* The same guest on the simulated Xen: its PVBOOT-RESULT, or why there is none. */
	bool sim_tried;
	char sim_line[1024];
	char sim_error[256];
	bool ok;
};

/* The arrangement compared line by line (run_check.c), with Xen's labels and JSON's names. */
enum { RUN_ROW_PADDR = -2, RUN_ROW_ENTRY = -1 };
#define RUN_NR_ROWS 9
struct run_side {
	bool has;
	uint64_t lo, hi; /* the range; the entry address in lo */
};
struct run_row {
	int seg; /* enum pv_seg, or RUN_ROW_* */
	const char *label, *name;
	struct run_side real, pred;
	bool differs;
};
/* Xen's arrangement @a against @p's prediction, into @rows[RUN_NR_ROWS]. */
void run_rows(const struct run_plan *p, const struct run_arrangement *a, struct run_row *rows);
/* One side of a row as Xen prints it, "-" when absent. */
void run_side_text(const struct run_row *row, const struct run_side *s, char *buf, size_t size);
/* The kernel's code from QEMU's exit status (code << 1) | 1, or -1 if it is not one. */
int run_kernel_code(const struct run_exit *e);
/* Fill r->check, r->agree and r->ok from r->exit and r->ser (run_check.c). */
void run_evaluate(const struct run_plan *p, struct run_one *r);
void run_report_text(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
void run_report_json(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
/* "128 GiB dom0, revector" */
void run_title(const struct run_plan *p, enum pv_boot_mode mode, char *buf, size_t size);

#endif
