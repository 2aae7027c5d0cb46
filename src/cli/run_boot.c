/*
 * One pvboot run: QEMU booted with its serial line read as it comes and
 * progress shown on stderr (one line per stage, or one line redrawn on a
 * terminal), every line kept in a timestamped log; or a log recorded that
 * way evaluated again (--serial-log).  A dom0 run's stages are Xen's and
 * the kernel's; a domU run's are the markers of scripts/dom0-init.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "run.h"

int run_data_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pvboot: run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_DATA;
}

/* ---- progress on stderr ---- */

struct live {
	struct run_one *r;
	bool domu;
	FILE *log;
	bool tty;
	char title[80];
	char stage[320];
	char qemu_err[240];
};

static void show(struct live *lv, double t, bool new_stage)
{
	struct winsize ws;
	char line[440];
	int cols = 80;

	snprintf(line, sizeof(line), "[%5.1f s] %s: %s", t, lv->title, lv->stage);
	if (!lv->tty) {
		if (new_stage)
			fprintf(stderr, "%s\n", line);
		return;
	}
	if (!ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 20)
		cols = ws.ws_col;
	if ((int)strlen(line) >= cols)
		line[cols - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
}

static void set_stage(struct live *lv, double t, const char *fmt, const char *arg)
{
	snprintf(lv->stage, sizeof(lv->stage), fmt, arg);
	show(lv, t, true);
}

static enum run_verdict dom0_line(struct live *lv, double t, const char *text)
{
	struct run_serial *s = &lv->r->ser;

	switch (run_serial_line(s, t, text)) {
	case RUN_STAGE_XEN:
		set_stage(lv, t, "%sXen booting", "");
		break;
	case RUN_STAGE_BUILDING:
		set_stage(lv, t, "%sXen building dom0 ...", "");
		break;
	case RUN_STAGE_ARRANGEMENT:
		set_stage(lv, t, "%sXen laid dom0 out (VIRTUAL MEMORY ARRANGEMENT)", "");
		break;
	case RUN_STAGE_KERNEL:
		set_stage(lv, t, "kernel started: %s", text);
		break;
	case RUN_STAGE_KERNEL_LINE:
		set_stage(lv, t, "%s", text);
		break;
	case RUN_STAGE_RESULT:
		set_stage(lv, t, "%sPVBOOT-RESULT", "");
		break;
	case RUN_STAGE_CRASH:
		set_stage(lv, t, "%s", s->crash);
		return s->crash_final ? RUN_STOP_NOW : RUN_STOP_SOON;
	default:
		break;
	}
	return RUN_GO_ON;
}

/* A domU run: the dom0's markers. */
static enum run_verdict domu_line(struct live *lv, double t, const char *text)
{
	struct run_domu *d = &lv->r->domu;
	char buf[300];

	switch (run_domu_line(d, &lv->r->ser, t, text)) {
	case RUN_DOMU_XEN:
		set_stage(lv, t, "%sXen booting", "");
		break;
	case RUN_DOMU_DOM0_BUILD:
		set_stage(lv, t, "%sXen building the Linux dom0", "");
		break;
	case RUN_DOMU_LINUX:
		set_stage(lv, t, "%sdom0 Linux booting", "");
		break;
	case RUN_DOMU_READY:
		set_stage(lv, t, "%sdom0 ready (xenstored, xenconsoled)", "");
		break;
	case RUN_DOMU_XL:
		set_stage(lv, t, "%sxl create running (libxenguest builds the domU)", "");
		break;
	case RUN_DOMU_XL_END:
		if (d->xl_status)
			snprintf(buf, sizeof(buf), "xl create failed with status %d", d->xl_status);
		else
			snprintf(buf, sizeof(buf), "domU running (xl create took %.2f s)",
				 d->xl_seconds);
		set_stage(lv, t, "%s", buf);
		break;
	case RUN_DOMU_SHUTDOWN:
		snprintf(buf, sizeof(buf), "domU %s (%s) after %.2f s", d->state, d->reason,
			 d->domu_seconds);
		set_stage(lv, t, "%s", buf);
		break;
	case RUN_DOMU_GUEST:
		set_stage(lv, t, "%sthe guest's console", "");
		break;
	case RUN_DOMU_KERNEL_LINE:
		set_stage(lv, t, "%s", text);
		break;
	case RUN_DOMU_RESULT:
		set_stage(lv, t, "%sguest result (PVBOOT-RESULT)", "");
		break;
	case RUN_DOMU_DONE:
		set_stage(lv, t, "%sdom0 done, powering off", "");
		break;
	case RUN_DOMU_ERROR:
		set_stage(lv, t, "dom0 error: %s", d->dom0_error);
		break;
	case RUN_DOMU_CRASH:
		set_stage(lv, t, "%s", lv->r->ser.crash);
		return lv->r->ser.crash_final ? RUN_STOP_NOW : RUN_STOP_SOON;
	default:
		break;
	}
	return RUN_GO_ON;
}

static enum run_verdict on_line(void *ctx, double t, const char *text, bool qemu_stderr)
{
	struct live *lv = ctx;

	if (qemu_stderr) {
		fprintf(lv->log, "[%7.3f] " RUN_LOG_TAG "qemu-stderr: %s\n", t, text);
		snprintf(lv->qemu_err, sizeof(lv->qemu_err), "%s", text);
		return RUN_GO_ON;
	}
	fprintf(lv->log, "[%7.3f] %s\n", t, text);
	return lv->domu ? domu_line(lv, t, text) : dom0_line(lv, t, text);
}

static void on_tick(void *ctx, double t)
{
	struct live *lv = ctx;

	if (lv->tty)
		show(lv, t, false);
}

/* ---- one run ---- */

/* QEMU's command line for @r, and the log's name. */
static int command(const struct run_plan *p, struct run_one *r, struct pv_error *err)
{
	struct run_qemu_in in = {
		.xen = p->xen,
		.kernel = p->kernel,
		.ramdisk = p->ramdisk ? p->ramdisk_path : NULL,
		.dom0_bytes = p->memory,
		.ramdisk_bytes = p->ramdisk_bytes,
		.ramdisk_sum = p->ramdisk_sum,
		.qemu_mib = p->qemu_mib,
		.mode = r->mode,
		.verify_full = p->verify_full,
	};
	struct run_domu_in din = {
		.xen = p->xen,
		.dom0_kernel = p->dom0_kernel,
		.modules = p->modules,
		.ramdisk = p->ramdisk,
		.ramdisk_sum = p->ramdisk_sum,
		.dom0_mib = p->dom0_mib,
		.domu_bytes = p->memory,
		.qemu_mib = p->qemu_mib,
		.domu_wait = p->domu_wait,
		.mode = r->mode,
		.verify_full = p->verify_full,
	};

	if (p->domu ? run_domu_cmdline(&din, &r->cmd, err) : run_qemu_cmdline(&in, &r->cmd, err))
		return -1;
	if (snprintf(r->log, sizeof(r->log), "%s/%s-%lluM-%s.log", p->logs,
		     p->domu ? "domu" : "dom0", (unsigned long long)(p->memory >> 20),
		     pv_boot_mode_name(r->mode)) >= (int)sizeof(r->log))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", p->logs);
	return 0;
}

int run_boot(const struct run_plan *p, struct run_one *r)
{
	struct live lv = {.r = r, .domu = p->domu, .tty = isatty(2)};
	struct run_stream s = {on_line, on_tick, &lv};
	struct pv_error err = {0};
	struct run_exit *e = &r->exit;
	int rc;

	if (command(p, r, &err))
		return cli_error("run", &err);
	lv.log = fopen(r->log, "w");
	if (!lv.log) {
		fprintf(stderr, "pvboot: run: %s: %s\n", r->log, strerror(errno));
		return EXIT_DATA;
	}
	setvbuf(lv.log, NULL, _IOLBF, 0);
	fprintf(lv.log, RUN_LOG_TAG "command:");
	for (unsigned i = 0; i < r->cmd.argc; i++)
		fprintf(lv.log, strchr(r->cmd.argv[i], ' ') ? " '%s'" : " %s", r->cmd.argv[i]);
	fputc('\n', lv.log);
	run_title(p, r->mode, lv.title, sizeof(lv.title));
	set_stage(&lv, 0, "QEMU started (%s)", human_bytes(p->qemu_mib << 20, (char[32]){0}, 32));

	rc = run_qemu(r->cmd.argv, p->timeout, &s, e, &err);
	e->timeout = p->timeout;
	snprintf(e->qemu_err, sizeof(e->qemu_err), "%s", lv.qemu_err);
	if (rc) {
		fclose(lv.log);
		return cli_error("run", &err);
	}
	if (e->interrupted)
		fprintf(lv.log, "[%7.3f] " RUN_LOG_TAG "interrupted by signal %d\n", e->seconds,
			e->interrupted);
	if (e->timed_out)
		fprintf(lv.log, "[%7.3f] " RUN_LOG_TAG "timed out after %.0f s, QEMU killed\n",
			e->seconds, p->timeout);
	if (e->crash_killed)
		fprintf(lv.log, "[%7.3f] " RUN_LOG_TAG "QEMU killed after Xen reported a crash\n",
			e->seconds);
	if (e->exited)
		fprintf(lv.log, "[%7.3f] " RUN_LOG_TAG "QEMU exited with status %d\n", e->seconds,
			e->status);
	else
		fprintf(lv.log, "[%7.3f] " RUN_LOG_TAG "QEMU killed by signal %d\n", e->seconds,
			e->status);
	fclose(lv.log);

	if (e->interrupted) {
		if (lv.tty)
			fputc('\n', stderr);
		fprintf(stderr, "pvboot: run: interrupted; QEMU killed (log: %s)\n", r->log);
		return 128 + e->interrupted;
	}
	if (e->timed_out)
		snprintf(lv.stage, sizeof(lv.stage), "timed out after %.0f s", p->timeout);
	else if (e->exited && p->domu && e->status == 0)
		snprintf(lv.stage, sizeof(lv.stage), "powered off (QEMU exited with status 0)");
	else if (e->exited)
		snprintf(lv.stage, sizeof(lv.stage), "QEMU exited with status %d", e->status);
	else
		snprintf(lv.stage, sizeof(lv.stage), "QEMU killed by signal %d", e->status);
	show(&lv, e->seconds, true);
	if (lv.tty)
		fputc('\n', stderr);
	return 0;
}

int run_replay(const struct run_plan *p, bool mode_given, struct run_one *r)
{
	FILE *f = fopen(p->serial_log, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "pvboot: run: %s: %s\n", p->serial_log, strerror(errno));
		return EXIT_DATA;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		double t;
		const char *text;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		text = run_split_time(line, &t);
		if (p->domu)
			run_domu_line(&r->domu, &r->ser, t, text);
		else
			run_serial_line(&r->ser, t, text);
	}
	free(line);
	fclose(f);
	snprintf(r->log, sizeof(r->log), "%s", p->serial_log);
	r->exit = r->ser.logged;
	if (p->assume_exit >= 0) {
		r->exit = (struct run_exit){.known = true, .exited = true, .status = p->assume_exit};
		snprintf(r->exit.qemu_err, sizeof(r->exit.qemu_err), "%s", r->ser.logged.qemu_err);
	}
	if (!mode_given) {
		const char *mode = run_json_str(&r->ser.result, "mode");

		/* A domU's xl config says it too, should the guest have printed nothing. */
		if (!mode && p->domu && r->domu.config_mode[0])
			mode = r->domu.config_mode;
		if (!mode || pv_boot_mode_parse(mode, &r->mode))
			return run_data_error("%s: no PVBOOT-RESULT line says the mode; give --mode",
					      p->serial_log);
	}
	return 0;
}
