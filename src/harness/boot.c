/*
 * One run: QEMU booted with its serial line read as it comes, every line
 * kept in a timestamped log and handed to the kind, whose stages go to
 * the caller's progress callback; or a log recorded that way read again.
 * The log's trailer lines ("pvboot-run: ...") say how QEMU ended, so a
 * replay judges the run as the boot did (docs/harness.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness_priv.h"

struct live {
	const struct run_plan *p;
	struct run_one *r;
	const struct run_progress *pr;
	FILE *log;
	char qemu_err[240];
};

static void progress(const struct run_progress *pr, double t, const char *text, bool new_stage)
{
	if (pr && pr->stage)
		pr->stage(pr->ctx, t, text, new_stage);
}

static enum run_verdict on_line(void *ctx, double t, const char *text, bool qemu_stderr)
{
	struct live *lv = ctx;
	char stage[320] = "";
	enum run_verdict v;

	if (qemu_stderr) {
		fprintf(lv->log, "[%7.3f] " RUN_LOG_TAG "qemu-stderr: %s\n", t, text);
		snprintf(lv->qemu_err, sizeof(lv->qemu_err), "%s", text);
		return RUN_GO_ON;
	}
	fprintf(lv->log, "[%7.3f] %s\n", t, text);
	v = lv->p->kind->serial.line(lv->r, t, text, stage, sizeof(stage));
	if (stage[0])
		progress(lv->pr, t, stage, true);
	return v;
}

static void on_tick(void *ctx, double t)
{
	struct live *lv = ctx;

	progress(lv->pr, t, NULL, false);
}

/* How QEMU ended, as the log's trailer says it and a replay reads it back. */
static void log_ending(FILE *log, const struct run_exit *e)
{
	if (e->interrupted)
		fprintf(log, "[%7.3f] " RUN_LOG_TAG "interrupted by signal %d\n", e->seconds,
			e->interrupted);
	if (e->timed_out)
		fprintf(log, "[%7.3f] " RUN_LOG_TAG "timed out after %.0f s, QEMU killed\n",
			e->seconds, e->timeout);
	if (e->crash_killed)
		fprintf(log, "[%7.3f] " RUN_LOG_TAG "QEMU killed after Xen reported a crash\n",
			e->seconds);
	if (e->exited)
		fprintf(log, "[%7.3f] " RUN_LOG_TAG "QEMU exited with status %d\n", e->seconds,
			e->status);
	else
		fprintf(log, "[%7.3f] " RUN_LOG_TAG "QEMU killed by signal %d\n", e->seconds,
			e->status);
}

int run_boot(const struct run_plan *p, struct run_one *r, const struct run_progress *pr,
	     struct pv_error *err)
{
	struct live lv = {.p = p, .r = r, .pr = pr};
	struct run_stream s = {on_line, on_tick, &lv};
	struct run_exit *e = &r->exit;
	char stage[320], size[32], tmp[PATH_MAX + 32];
	int rc;

	if (p->kind->cmdline(p, r->mode, &r->cmd, err))
		return -1;
	if (snprintf(r->log, sizeof(r->log), "%s/%s-%lluM-%s.log", p->logs, p->kind->name,
		     (unsigned long long)(p->memory >> 20),
		     pv_boot_mode_name(r->mode)) >= (int)sizeof(r->log))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", p->logs);
	/*
	 * Written under a name of this run's own and renamed when QEMU has
	 * gone: two runs of one guest at once each leave a whole log.
	 */
	if (pv_tmp_name(r->log, tmp, sizeof(tmp), err))
		return -1;
	lv.log = fopen(tmp, "w");
	if (!lv.log)
		return pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	setvbuf(lv.log, NULL, _IOLBF, 0);
	fprintf(lv.log, RUN_LOG_TAG "command:");
	for (unsigned i = 0; i < r->cmd.argc; i++)
		fprintf(lv.log, strchr(r->cmd.argv[i], ' ') ? " '%s'" : " %s", r->cmd.argv[i]);
	fputc('\n', lv.log);
	snprintf(stage, sizeof(stage), "QEMU started (%s)",
		 human_bytes(p->qemu_mib << 20, size, sizeof(size)));
	progress(pr, 0, stage, true);

	rc = run_qemu(r->cmd.argv, p->timeout, &s, e, err);
	e->timeout = p->timeout;
	snprintf(e->qemu_err, sizeof(e->qemu_err), "%s", lv.qemu_err);
	if (!rc)
		log_ending(lv.log, e);
	if (fclose(lv.log) && !rc)
		rc = pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	if (rename(tmp, r->log) && !rc)
		rc = pv_fail(err, PV_ERR_IO, "rename %s: %s", tmp, strerror(errno));
	if (rc)
		return -1;
	if (e->interrupted)
		return 0;

	if (e->timed_out)
		snprintf(stage, sizeof(stage), "timed out after %.0f s", p->timeout);
	else if (e->exited && !p->kind->debug_exit && e->status == 0)
		snprintf(stage, sizeof(stage), "powered off (QEMU exited with status 0)");
	else if (e->exited)
		snprintf(stage, sizeof(stage), "QEMU exited with status %d", e->status);
	else
		snprintf(stage, sizeof(stage), "QEMU killed by signal %d", e->status);
	progress(pr, e->seconds, stage, true);
	return 0;
}

int run_replay(const struct run_plan *p, bool mode_given, struct run_one *r, struct pv_error *err)
{
	FILE *f = fopen(p->serial_log, "r");
	char *line = NULL, stage[320];
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return pv_fail(err, PV_ERR_IO, "%s: %s", p->serial_log, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		double t;
		const char *text;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		text = run_split_time(line, &t);
		p->kind->serial.line(r, t, text, stage, sizeof(stage));
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
		const char *mode = r->ser.result_fields & 1U << PV_RF_MODE
					   ? pv_boot_mode_name(r->ser.result.mode)
					   : NULL;

		/* The kind may record it too, should the guest have printed nothing. */
		if (!mode && p->kind->serial.logged_mode)
			mode = p->kind->serial.logged_mode(r);
		if (!mode && r->ser.have_result && !r->ser.result_parsed)
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: its PVBOOT-RESULT line does not read (%s); give --mode",
				       p->serial_log, r->ser.result_error);
		if (!mode || pv_boot_mode_parse(mode, &r->mode))
			return pv_fail(err, PV_ERR_FORMAT,
				       "%s: no PVBOOT-RESULT line says the mode; give --mode",
				       p->serial_log);
	}
	return 0;
}
