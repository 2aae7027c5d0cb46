/*
 * The harness's own pieces (docs/harness.md), behind include/pvboot/harness.h:
 *
 *   plan.c         the plan and the steps: prepare, one run, replay
 *   boot.c         one boot under QEMU: the log, progress, the ending
 *   kinds.c        the table of kinds, and what asks a kind
 *   kind_dom0.c    pvboot's kernel as dom0, built by Xen
 *   kind_domu.c    pvboot's kernel as a domU, built by xl create in a Linux dom0
 *   domu_report.c  the domU kind's part of the report
 *   check.c        the checks every kind shares: QEMU's end, PVBOOT-RESULT, the simulation
 *   serial.c       what Xen and the kernel print
 *   qemu.c         QEMU's size, its command line, its process
 *   xen.c          the cache, helper processes, the hypervisor
 *   ramdisk.c      the pattern ramdisk and pvsum64 over a file
 *   dom0_image.c   the Linux dom0 (scripts/build-dom0)
 *   cpio.c         the guest's files as a newc archive after the dom0's initramfs
 */
#ifndef PVBOOT_HARNESS_PRIV_H
#define PVBOOT_HARNESS_PRIV_H

#include <pvboot/harness.h>
#include <pvboot/host.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- serial.c: what the serial line says ---- */

/* Lines of the arrangement besides the segments (bits above PV_SEG_NR). */
enum {
	RUN_ARR_ENTRY = 1U << 16,
	RUN_ARR_PADDR = 1U << 17,    /* "Dom0 kernel: ... paddr A -> B" */
	RUN_ARR_ALLOC = 1U << 18,    /* "Dom0 alloc.:" */
	RUN_ARR_MRAMDISK = 1U << 19, /* physical "Init. ramdisk:" */
};

/* Every line a dom0 build prints under VIRTUAL MEMORY ARRANGEMENT was seen. */
bool run_arrangement_complete(const struct run_arrangement *a);

/* Progress stages of Xen and pvboot's kernel, in order. */
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

void run_serial_init(struct run_serial *s);
/* Take one line (\r removed) seen @t seconds after QEMU started (-1: unknown). */
enum run_stage run_serial_line(struct run_serial *s, double t, const char *text);
/* "[  3.336] rest" -> rest, with @t = 3.336; a line without the prefix: itself, @t = -1. */
const char *run_split_time(const char *line, double *t);

/* What to do after a line. */
enum run_verdict { RUN_GO_ON, RUN_STOP_SOON, RUN_STOP_NOW };

/*
 * A kind of guest: everything in which one differs from another, as
 * libxenguest's struct xc_dom_arch is for a guest type.  A new kind is a
 * new file with one of these and a line in kinds.c's table.
 */
struct run_kind {
	const char *name;	 /* "dom0": run_kind_find, the log's name */
	const char *guest;	 /* "dom0", "domU": titles and the report */
	bool dom0_builder;	 /* who lays the guest out: the release's dom0 builder, else libxc's */
	const char *builder_who; /* "Xen's dom0 builder", in its refusal */
	/* What QEMU's memory goes to, in the message that refuses a host too small. */
	const char *host_need_what;
	/* The guest's verdict is QEMU's exit status (isa-debug-exit), not a power-off. */
	bool debug_exit;
	size_t plan_size, run_size; /* of p->priv and r->priv */

	const char *(*default_kernel)(bool seed_memory, bool linear);
	/* Whether the kind can boot a guest of @in at all, before any file is looked at; NULL: any. */
	int (*check_guest)(const struct pv_layout_in *in, struct pv_error *err);
	/* Whether the kind can pass these files to the guest at all; NULL: any. */
	int (*check_files)(const char *kernel, const char *ramdisk, struct pv_error *err);
	/* Before the prediction: the kind's limits on the guest, QEMU's size, the timeout. */
	int (*plan)(struct run_plan *p, struct pv_error *err);
	/* After Xen and the ramdisk: what else the kind needs on the host. */
	int (*prepare)(struct run_plan *p, const struct run_progress *pr, struct pv_error *err);
	int (*cmdline)(const struct run_plan *p, enum pv_boot_mode mode, struct run_cmdline *c,
		       struct pv_error *err);
	void (*run_init)(struct run_one *r);
	void (*run_free)(struct run_one *r);

	/* The serial line, as it comes (boot) or from a log (replay). */
	struct {
		/* A line only this kind's logs have. */
		bool (*log_marker)(const char *text);
		/*
		 * Take one line (\r removed) seen @t seconds after QEMU started (-1:
		 * unknown); a new stage's description into @stage (else "").
		 */
		enum run_verdict (*line)(struct run_one *r, double t, const char *text, char *stage,
					 size_t size);
		/* The mode a log records other than in PVBOOT-RESULT, or NULL. */
		const char *(*logged_mode)(const struct run_one *r);
	} serial;

	/* Evaluate: the kind's own checks, before the shared ones on PVBOOT-RESULT. */
	void (*checks)(const struct run_plan *p, struct run_one *r);

	/* The kind's part of the report (<pvboot/report.h>), through kinds.c. */
	struct {
		/* Wall times but the total, into @t; how many. */
		unsigned (*timings)(const struct run_one *r, struct run_timing *t);
		void (*machine)(FILE *f, const struct run_plan *p, const struct run_one *r);
		void (*builder)(FILE *f, const struct run_plan *p, const struct run_one *r);
		/* NULL: nothing of the kind's own in the "qemu" object. */
		void (*qemu_json)(struct json *j, const struct run_plan *p, const struct run_one *r);
		void (*json)(struct json *j, const struct run_plan *p, const struct run_one *r);
		const char *verdict_label;
		void (*verdict)(const struct run_one *r, char *buf, size_t size);
	} report;
};

extern const struct run_kind run_kind_dom0, run_kind_domu;

/* ---- xen.c: the cache and the hypervisor ---- */

/* $PVBOOT_CACHE, else <directory of the pvboot executable>/cache (created). */
int run_cache_dir(char *buf, size_t size, struct pv_error *err);
/*
 * The hypervisor of Xen @release ("4.14", "4.17", "4.20"),
 * <cache>/xen-hypervisor/xen-<release>: the first time, Debian's
 * xen-hypervisor-<release>-amd64 of that release's suite is fetched
 * (scripts/fetch-deb), unpacked with dpkg -x and its
 * boot/xen-<release>-amd64.gz gunzipped (docs/real-xen.md sections 2 and
 * 8), all under the directory's lock and in a work directory; the file,
 * then a stamp, renamed into place mark it done.  Fills @path; -1 with @err.
 */
int run_fetch_xen(const char *cache, const char *release, char *path, size_t size,
		  const struct run_progress *pr, struct pv_error *err);
/* Debian's suite of Xen @release: bullseye, bookworm, trixie; NULL if none. */
const char *run_xen_suite(const char *release);
/*
 * Run scripts/@name (in $PVBOOT_SCRIPTS, else <pvboot's directory>/../scripts)
 * with @args (NULL-terminated, or NULL) and PVBOOT_CACHE=@cache; its stdout
 * into @out, its path into @script (PATH_MAX bytes).  0, or -1 with @err
 * when it is missing or fails.
 */
int run_script(const char *name, const char *const *args, const char *cache, char *out,
	       size_t size, char *script, struct pv_error *err);
/* A note on @pr's note callback, printf-style; nothing when @pr has none. */
void run_note(const struct run_progress *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* pv_lock() on @path, saying on @pr that it waits for another run. */
int run_lock(const char *path, const struct run_progress *pr, struct pv_error *err);

/* ---- ramdisk.c: the pattern ramdisk ---- */

/*
 * The pattern ramdisk of @bytes bytes as a file, <cache>/ramdisks/splitmix64-<bytes>.img,
 * made the first time under its lock (written to a temporary name, then
 * renamed), reused when a file of that name has the size.  Fills @path and
 * @sum.
 */
int run_ramdisk_make(const char *cache, uint64_t bytes, char *path, size_t size, uint64_t *sum,
		     const struct run_progress *pr, struct pv_error *err);
/* pvsum64 and length of a file.  -1 with @err (PV_ERR_IO). */
int run_file_sum(const char *path, uint64_t *sum, uint64_t *bytes, struct pv_error *err);

/* ---- qemu.c: QEMU's size, command line and process ---- */

/* QEMU's pc machine puts RAM above 3 GiB at 4 GiB: where guest RAM ends. */
uint64_t run_qemu_ram_top(uint64_t qemu_mib);
/* The phys-bits QEMU's CPU needs for @qemu_mib of RAM; 0: its default (40) will do. */
unsigned run_qemu_phys_bits(uint64_t qemu_mib);
/* MemAvailable from /proc/meminfo, in bytes; -1 with @err. */
int run_host_available(uint64_t *bytes, struct pv_error *err);
/*
 * @in with every ',' doubled, as a multiboot module string needs
 * (docs/real-xen.md section 2), into @out.  Returns the length of the full
 * result; it was truncated if that is >= @size.
 */
size_t run_escape_commas(const char *in, char *out, size_t size);
/* The arguments every QEMU of pvboot's gets (TCG, CPU, serial, RAM backend), at @c's end. */
int run_qemu_common(struct run_cmdline *c, size_t *used, struct pv_error *err, uint64_t qemu_mib,
		    unsigned smp, bool debug_exit);
/* Append one argument to @c, printf-style; @used counts c->buf.  -1 with @err if it does not fit. */
int run_cmd_add(struct run_cmdline *c, size_t *used, struct pv_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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

/* ---- kind_dom0.c: the sizes of a dom0 run, and its command line ---- */

/* QEMU's RAM in MiB for a dom0 of @dom0_bytes with a @ramdisk_bytes module. */
uint64_t run_qemu_mib(uint64_t dom0_bytes, uint64_t ramdisk_bytes);
/* What QEMU's RSS is expected to reach, in bytes. */
uint64_t run_host_need(uint64_t qemu_mib, uint64_t dom0_bytes, uint64_t ramdisk_bytes);
int run_dom0_cmdline(const struct run_plan *p, enum pv_boot_mode mode, struct run_cmdline *c,
		     struct pv_error *err);

/* ---- check.c: the checks every kind shares ---- */

/* Add a check; a failed one fails the run. */
void run_check_add(struct run_one *r, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * The qemu-exit check's failures common to every kind (no status, signal,
 * timeout, a crash Xen printed, QEMU killed): true when it added one,
 * false when QEMU exited by itself and the kind judges the status.
 */
bool run_check_qemu_ended_badly(struct run_one *r);
/* The PVBOOT-RESULT checks. */
void run_check_result(const struct run_plan *p, struct run_one *r);
/* The real result against the simulation's. */
void run_check_simulation(const struct run_plan *p, struct run_one *r);

/* ---- dom0_image.c: the Linux dom0 for a domU run ---- */

/*
 * The dom0's kernel and initramfs for Xen @release: runs `scripts/build-dom0
 * @release` ($PVBOOT_SCRIPTS, else <pvboot's directory>/../scripts) with
 * PVBOOT_CACHE=@cache, which builds them from the release's Debian suite the
 * first time and prints "kernel=PATH" and "initrd=PATH".
 * -1 with @err when the script is missing, fails, or names no files.
 */
int run_dom0_image(const char *cache, const char *release, char *kernel, char *initrd,
		   size_t size, struct pv_error *err);

/* ---- cpio.c: the guest's archive ---- */

/* The guest's files in the dom0 (scripts/dom0-init looks for them there). */
#define RUN_GUEST_KERNEL  "guest/kernel.elf"
#define RUN_GUEST_RAMDISK "guest/ramdisk.img"

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
 * or none when NULL), as <cache>/domu/modules-<kernel>-<ramdisk>-<id>.cpio,
 * where <id> is the pvsum64 of what it is made of (each file's path, size
 * and mtime, and the kernel's pvsum64).  Made under its lock through a
 * temporary file and rename, its stamp last; reused (@reused) when the
 * stamp is there.  Fills @path; -1 with @err.
 */
int run_domu_modules(const char *cache, const char *dom0_initrd, const char *kernel,
		     const char *ramdisk, char *path, size_t size, bool *reused,
		     const struct run_progress *pr, struct pv_error *err);

#endif
