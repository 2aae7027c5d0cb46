/*
 * The kind "domu" (kind_domu.c, domu_report.c): pvboot's kernel as a
 * domU that `xl -vvv create` builds in a Linux dom0 under Xen.
 */
#ifndef PVBOOT_HARNESS_DOMU_H
#define PVBOOT_HARNESS_DOMU_H

#include "harness_priv.h"

/* Progress stages of a domU run: the markers of scripts/dom0-init (docs/harness.md). */
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

/* A domU run's markers and builder log (r->priv). */
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
	struct pv_guest_args config; /* the xl config's extra=, the guest's command line */
	bool config_read;	     /* ... was there and read */
	char xl_error[240];	  /* xl's first "...: error: ..." line */
	char dom0_error[240];	  /* PVBOOT-DOM0-ERROR's message */
	struct run_lines builder; /* the builder's lines, without "domainbuilder: detail: " */
	/* PVBOOT-MFNDUMP: the release's xen-mfndump read the domU's P2M (run_plan.mfndump). */
	bool mfndump_seen;
	int mfndump_status;
	char mfndump_size[24]; /* as printed: a number, or "none" */
	uint64_t mfndump_pfns, mfndump_valid;
};

/* What a domU plan holds besides (p->priv). */
struct run_domu_plan {
	uint64_t dom0_mib;
	unsigned domu_wait; /* seconds the dom0 waits for the domU to shut down */
	char dom0_kernel[PATH_MAX], dom0_initrd[PATH_MAX];
	char modules[PATH_MAX]; /* the dom0's initramfs with the guest's archive */
};

static inline struct run_domu *run_domu_of(const struct run_one *r)
{
	return r->priv;
}

static inline struct run_domu_plan *run_domu_plan_of(const struct run_plan *p)
{
	return p->priv;
}

void run_domu_init(struct run_domu *d);
void run_domu_free(struct run_domu *d);
/*
 * Take one line (\r removed) seen @t seconds after QEMU started (-1:
 * unknown).  Xen's lines, pvboot's trailer and the guest's console also go
 * to run_serial_line(@s).
 */
enum run_domu_stage run_domu_line(struct run_domu *d, struct run_serial *s, double t,
				  const char *text);

/* The dom0's memory in MiB for a domU of @domu_bytes. */
uint64_t run_domu_dom0_mib(uint64_t domu_bytes);
/* QEMU's RAM in MiB for the dom0, the domU and its ramdisk, and Xen. */
uint64_t run_domu_qemu_mib(uint64_t dom0_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes);
/* What QEMU's RSS is expected to reach, in bytes. */
uint64_t run_domu_host_need(uint64_t qemu_mib, uint64_t domu_bytes, uint64_t ramdisk_bytes);
/* QEMU's command line for a domU run.  -1 with @err if it does not fit. */
int run_domu_cmdline(const struct run_plan *p, enum pv_boot_mode mode, struct run_cmdline *c,
		     struct pv_error *err);

/* domu_report.c: the kind's part of the report. */
unsigned run_domu_timings(const struct run_one *r, struct run_timing *t);
void run_domu_report_machine(FILE *f, const struct run_plan *p, const struct run_one *r);
void run_domu_report_builder(FILE *f, const struct run_plan *p, const struct run_one *r);
void run_domu_report_json(struct json *j, const struct run_plan *p, const struct run_one *r);
void run_domu_verdict(const struct run_one *r, char *buf, size_t size);

#endif
