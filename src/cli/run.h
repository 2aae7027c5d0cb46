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
 *   run_boot.c     one run: QEMU with progress on stderr, or a recorded log
 *
 * and for a domU built by the real toolstack in a Linux dom0 (--domu,
 * real-xen.md section 12):
 *
 *   run_dom0.c     the dom0 image (scripts/build-dom0), QEMU's size and command line
 *   run_cpio.c     the guest's files as a newc archive after the dom0's initramfs
 *   run_domu.c     the serial markers, the builder's log, the domU's checks
 *   run_domu_report.c  the domU's part of the report
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
/* The phys-bits QEMU's CPU needs for @qemu_mib of RAM; 0: its default (40) will do. */
unsigned run_qemu_phys_bits(uint64_t qemu_mib);
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
/* The arguments every QEMU of pvboot's gets (TCG, CPU, serial, RAM backend), at @c's end. */
int run_qemu_common(struct run_cmdline *c, size_t *used, struct pv_error *err, uint64_t qemu_mib,
		    unsigned smp, bool debug_exit);
/* Append one argument to @c, printf-style; @used counts c->buf.  -1 with @err if it does not fit. */
int run_cmd_add(struct run_cmdline *c, size_t *used, struct pv_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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
	char result_line[PV_BOOT_RESULT_JSON_MAX];
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

/* ---- run_dom0.c: the Linux dom0 for a domU run ---- */

/*
 * The dom0's kernel and initramfs: runs scripts/build-dom0 ($PVBOOT_SCRIPTS,
 * else <pvboot's directory>/../scripts) with PVBOOT_CACHE=@cache, which
 * builds them the first time and prints "kernel=PATH" and "initrd=PATH".
 * -1 with @err when the script is missing, fails, or names no files.
 */
int run_dom0_image(const char *cache, char *kernel, char *initrd, size_t size, struct pv_error *err);
/* The dom0's memory in MiB for a domU of @domu_bytes. */
uint64_t run_domu_dom0_mib(uint64_t domu_bytes);
/* QEMU's RAM in MiB for the dom0, the domU and its ramdisk, and Xen. */
uint64_t run_domu_qemu_mib(uint64_t dom0_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes);
/* What QEMU's RSS is expected to reach, in bytes. */
uint64_t run_domu_host_need(uint64_t qemu_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes);

/* The guest's files in the dom0 (scripts/dom0-init looks for them there). */
#define RUN_GUEST_KERNEL  "guest/kernel.elf"
#define RUN_GUEST_RAMDISK "guest/ramdisk.img"

struct run_domu_in {
	const char *xen, *dom0_kernel;
	const char *modules; /* the dom0's initramfs with the guest's archive after it */
	bool ramdisk;	     /* the archive has RUN_GUEST_RAMDISK */
	uint64_t ramdisk_sum;
	uint64_t dom0_mib, domu_bytes, qemu_mib;
	unsigned domu_wait; /* seconds the dom0 waits for the domU to shut down */
	enum pv_boot_mode mode;
	bool verify_full;
};
/* QEMU's command line for a domU run.  -1 with @err if it does not fit. */
int run_domu_cmdline(const struct run_domu_in *in, struct run_cmdline *c, struct pv_error *err);

/* ---- run_cpio.c: the guest's archive ---- */

struct run_cpio_entry {
	const char *name; /* in the archive */
	const char *path; /* on the host */
};
/*
 * Append a newc cpio archive of @n regular files (mode 0644, mtime 0) and
 * its TRAILER!!! to @out, which is at byte @*off (a multiple of 4);
 * @*off is advanced.  -1 with @err (a file over 4 GiB - 1 does not fit).
 */
int run_cpio_write(FILE *out, uint64_t *off, const struct run_cpio_entry *e, unsigned n,
		   struct pv_error *err);
/*
 * The dom0's module: @dom0_initrd, zeros to a 512-byte block, and an
 * archive of RUN_GUEST_KERNEL (@kernel) and RUN_GUEST_RAMDISK (@ramdisk,
 * or none when NULL), as <cache>/domu/modules-<kernel>-<ramdisk>.cpio.
 * Written through a temporary file and rename; reused (@reused) when a
 * stamp beside it says it was made of the same files (path, size, mtime,
 * and the kernel's pvsum64).  Fills @path; -1 with @err.
 */
int run_domu_modules(const char *cache, const char *dom0_initrd, const char *kernel,
		     const char *ramdisk, char *path, size_t size, bool *reused,
		     struct pv_error *err);

/* ---- run_domu.c: a domU run's serial log ---- */

/* Lines of text (malloc'd); @nomem says one was lost. */
struct run_lines {
	char **line;
	unsigned n, cap;
	bool nomem;
};
void run_lines_add(struct run_lines *l, const char *text);
void run_lines_free(struct run_lines *l);

/* Lay out @in and keep the builder's log lines in @log.  -1 with @err. */
int run_domu_predict(const struct pv_layout_in *in, struct pv_layout *l, struct run_lines *log,
		     struct pv_error *err);

/* Progress stages of a domU run. */
enum run_domu_stage {
	RUN_DOMU_NONE,
	RUN_DOMU_XEN,	      /* "Xen version" */
	RUN_DOMU_DOM0_BUILD,  /* Xen builds the Linux dom0 */
	RUN_DOMU_LINUX,	      /* "Linux version" */
	RUN_DOMU_READY,	      /* PVBOOT-DOM0-READY */
	RUN_DOMU_XL,	      /* PVBOOT-XL-BEGIN */
	RUN_DOMU_XL_END,      /* PVBOOT-XL-END */
	RUN_DOMU_SHUTDOWN,    /* PVBOOT-DOMU */
	RUN_DOMU_GUEST,	      /* PVBOOT-GUEST-BEGIN */
	RUN_DOMU_KERNEL_LINE, /* a "pvboot:" line of the guest's console */
	RUN_DOMU_RESULT,      /* its PVBOOT-RESULT */
	RUN_DOMU_DONE,	      /* PVBOOT-DOM0-DONE */
	RUN_DOMU_ERROR,	      /* PVBOOT-DOM0-ERROR */
	RUN_DOMU_CRASH,	      /* Xen says dom0 crashed, or panics */
};

struct run_domu {
	int section;   /* which marked block the lines are in */
	unsigned seen; /* 1 << enum run_domu_stage */
	/* When each marker came, seconds after QEMU started; -1: not, or unknown. */
	double t_linux, t_ready, t_xl_begin, t_xl_end, t_shutdown, t_guest_end, t_done;
	int xl_status;	   /* PVBOOT-XL-END's, or -1 */
	double xl_seconds; /* xl create's wall time as the dom0 measured it, or -1 */
	char state[16];	   /* PVBOOT-DOMU's state= and reason= */
	char reason[16];
	double domu_seconds;	  /* from xl create's end to the shutdown, or -1 */
	char config_mode[16];	  /* mode= in the xl config's extra= */
	char xl_error[240];	  /* xl's first "...: error: ..." line */
	char dom0_error[240];	  /* PVBOOT-DOM0-ERROR's message */
	struct run_lines builder; /* the builder's lines, without "domainbuilder: detail: " */
};

void run_domu_init(struct run_domu *d);
void run_domu_free(struct run_domu *d);
/*
 * Take one line (\r removed) seen @t seconds after QEMU started (-1:
 * unknown).  Xen's lines, pvboot's trailer and the guest's console also go
 * to run_serial_line(@s).
 */
enum run_domu_stage run_domu_line(struct run_domu *d, struct run_serial *s, double t,
				  const char *text);

/* ---- the plan and one run (cmd_run.c, run_boot.c, run_report.c) ---- */

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
	uint64_t host_need; /* what QEMU's RSS is expected to reach, in bytes */
	double timeout;
	bool verify_full;
	bool json;
	const char *serial_log;	   /* evaluate this recorded log instead of running QEMU */
	int assume_exit;	   /* QEMU's exit status to assume for it, or -1 */
	const char *kernel_extent; /* --kernel-extent, or NULL */
	bool linear;		   /* --mode linear: a dom0 takes the INIT_P2M kernel */
	bool revector;		   /* a run in mode revector: its kernel copies the P2M list */
	/* --domu: libxc-4.17 builds the guest in a Linux dom0 (g.in.builder). */
	bool domu;
	struct run_lines predicted_log; /* `pvboot layout --format log` for it */
	uint64_t dom0_mib;
	unsigned domu_wait; /* seconds the dom0 waits for the domU */
	char dom0_kernel[PATH_MAX], dom0_initrd[PATH_MAX];
	char modules[PATH_MAX]; /* the dom0's initramfs with the guest's archive */
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
	char sim_line[PV_BOOT_RESULT_JSON_MAX];
	char sim_error[256];
	struct run_domu domu; /* a domU run's markers and builder log */
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
/*
 * The qemu-exit check's failures common to dom0 and domU runs (no status,
 * signal, timeout, a crash Xen printed, QEMU killed): true when it added
 * one, false when QEMU exited by itself and the caller judges the status.
 */
bool run_check_qemu_ended_badly(struct run_one *r);
void run_evaluate(const struct run_plan *p, struct run_one *r);
/* The checks' pieces: add one; the PVBOOT-RESULT checks; the simulation's. */
void run_check_add(struct run_one *r, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void run_check_result(const struct run_plan *p, struct run_one *r);
void run_check_simulation(const struct run_plan *p, struct run_one *r);
/* A domU run's checks (run_domu.c): in place of the dom0 ones. */
void run_domu_evaluate(const struct run_plan *p, struct run_one *r);
void run_report_text(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
void run_report_json(FILE *f, const struct run_plan *p, const struct run_one *r, unsigned n);
/* ---- run_plan.c: what the runs share ---- */

/* The file make builds for --kernel-extent @name ("plain", "seed").  -1 if none. */
int run_kernel_extent(const char *name, const char **file);
/*
 * The kernel, its prediction (and for a domU the builder's log lines), the
 * ramdisk's length, QEMU's size, the timeout.  0, or an exit status after
 * a message.
 */
int run_plan_guest(struct run_plan *p);
/*
 * What a real boot needs besides: host memory (checked first), QEMU, the
 * cache and log directories, Xen, the ramdisk file, for a domU the dom0
 * and the module file.  0, or an exit status after a message.
 */
int run_plan_host(struct run_plan *p, const char *xen);
/* For --serial-log: the ramdisk's pvsum64 (of the file, or of the pattern if @need_sum). */
int run_plan_replay(struct run_plan *p, bool need_sum);
/* Whether the log at @path is of a domU run (scripts/dom0-init's markers). */
bool run_log_is_domu(const char *path);
/*
 * The same guest through `pvboot simulate`'s path, after QEMU has gone (so
 * both never hold memory at once): its PVBOOT-RESULT into r->sim_line.
 */
void run_simulate(const struct run_plan *p, struct run_one *r);

/* ---- run_boot.c: one run ---- */

/* A data problem: "pvboot: run: ..." on stderr, one line; returns EXIT_DATA. */
int run_data_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Boot once under QEMU, progress on stderr, the serial log into
 * <logs>/<dom0|domu>-<MiB>M-<mode>.log.  Returns 0, EXIT_DATA with a
 * message, or 128 + signal when interrupted.
 */
int run_boot(const struct run_plan *p, struct run_one *r);
/*
 * Read p->serial_log instead; the mode from its PVBOOT-RESULT (or a domU's
 * xl config) unless @mode_given.  0, or EXIT_DATA with a message.
 */
int run_replay(const struct run_plan *p, bool mode_given, struct run_one *r);

/* A seconds value with three decimals, null when negative (unknown). */
void run_json_seconds(struct json *j, const char *key, double s);
/* A domU run's part of the report (run_domu_report.c). */
void run_domu_text(FILE *f, const struct run_plan *p, const struct run_one *r);
void run_domu_json(struct json *j, const struct run_plan *p, const struct run_one *r);
/* Seconds to PVBOOT-DOM0-READY, of xl create, from its end to PVBOOT-GUEST-END, all; -1: unknown. */
void run_domu_wall_times(const struct run_one *r, double *dom0, double *xl, double *guest,
			 double *total);
/* "128 GiB dom0, revector", "512 MiB domU, null" */
void run_title(const struct run_plan *p, enum pv_boot_mode mode, char *buf, size_t size);

#endif
