/*
 * pvboot run: boot pvboot's own PV kernel as dom0 under the real Xen 4.17
 * hypervisor in qemu-system-x86_64 (TCG), and report what Xen laid out
 * against what pvboot predicted, and what the kernel's boot path found.
 *
 * As XTF's runner does: boot, read one machine-readable verdict (the
 * kernel's PVBOOT-RESULT line and its isa-debug-exit code), compare.
 * Without arguments: the seed's 128 GiB guest with its 0x10784000-byte
 * ramdisk, without the fix and then with it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvboot/x86.h>

#include "run.h"

enum { O_MODE = 1, O_VERIFY, O_TIMEOUT, O_FORMAT, O_XEN, O_SERIAL_LOG, O_ASSUME_EXIT, O_HELP };

static const struct opt run_opts[] = {
	{"mode", true, O_MODE},
	{"verify", true, O_VERIFY},
	{"timeout", true, O_TIMEOUT},
	{"format", true, O_FORMAT},
	{"xen", true, O_XEN},
	{"serial-log", true, O_SERIAL_LOG},
	{"assume-exit", true, O_ASSUME_EXIT},
	{"help", false, O_HELP},
	{NULL, false, 0},
};

/* The guest options pvboot run takes, parsed as pvboot layout parses them. */
static const char *const guest_names[] = {"memory", "kernel", "ramdisk", "ramdisk-size"};

static const char run_help[] =
	"usage: pvboot run [options]\n"
	"Boot pvboot's PV kernel as dom0 under Xen 4.17 in qemu-system-x86_64 (TCG), compare\n"
	"Xen's VIRTUAL MEMORY ARRANGEMENT with pvboot's prediction, and check the kernel's result.\n"
	"  --memory SIZE          dom0 memory: 131072M, 128G, 1T, or bytes (default 128G)\n"
	"  --ramdisk FILE         pass FILE as the ramdisk (multiboot module 1)\n"
	"  --ramdisk-size BYTES   a pattern ramdisk of this size (word i is splitmix64(size + i),\n"
	"                         little-endian), made once under the cache\n"
	"                         (default: 0x10784000 bytes, none when --memory is given)\n"
	"  --mode M               revector, no-revector or null (default: no-revector, then\n"
	"                         revector)\n"
	"  --verify full|sample   the kernel checks every pfn (default) or a sample\n"
	"  --timeout SECONDS      kill QEMU after this long (default 60 + 0.25 per GiB)\n"
	"  --format text|json     a summary (default), or JSON: one object per run, and\n"
	"                         {\"runs\": [...], \"ok\": ...} when two modes run\n"
	"  --kernel FILE          the PV kernel (default: pvboot-kernel.elf beside pvboot)\n"
	"  --xen FILE             the hypervisor (default: Debian's xen-hypervisor-4.17-amd64,\n"
	"                         fetched once into $PVBOOT_CACHE or <pvboot's directory>/cache)\n"
	"For testing, without QEMU:\n"
	"  --serial-log FILE      evaluate a recorded serial log instead of booting\n"
	"  --assume-exit N        QEMU's exit status to assume for it (default: the log's)\n"
	"Exit status: 0 when every check holds, 1 when one fails or a file or program is\n"
	"missing, 2 for bad usage, 130 when interrupted.\n";

/* A data problem: one line, status 1. */
static int data_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int data_error(const char *fmt, ...)
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

static enum run_verdict on_line(void *ctx, double t, const char *text, bool qemu_stderr)
{
	struct live *lv = ctx;
	struct run_serial *s = &lv->r->ser;

	if (qemu_stderr) {
		fprintf(lv->log, "[%7.3f] " RUN_LOG_TAG "qemu-stderr: %s\n", t, text);
		snprintf(lv->qemu_err, sizeof(lv->qemu_err), "%s", text);
		return RUN_GO_ON;
	}
	fprintf(lv->log, "[%7.3f] %s\n", t, text);
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

static void on_tick(void *ctx, double t)
{
	struct live *lv = ctx;

	if (lv->tty)
		show(lv, t, false);
}

/* ---- one run ---- */

/* Boot once under QEMU.  Returns 0, EXIT_DATA with a message, or 128 + signal when interrupted. */
static int boot(const struct run_plan *p, struct run_one *r)
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
	struct live lv = {.r = r, .tty = isatty(2)};
	struct run_stream s = {on_line, on_tick, &lv};
	struct pv_error err = {0};
	struct run_exit *e = &r->exit;
	int rc;

	if (run_qemu_cmdline(&in, &r->cmd, &err))
		return cli_error("run", &err);
	if (snprintf(r->log, sizeof(r->log), "%s/dom0-%lluM-%s.log", p->logs,
		     (unsigned long long)(p->memory >> 20),
		     pv_boot_mode_name(r->mode)) >= (int)sizeof(r->log))
		return data_error("%s: path too long", p->logs);
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
	else if (e->exited)
		snprintf(lv.stage, sizeof(lv.stage), "QEMU exited with status %d", e->status);
	else
		snprintf(lv.stage, sizeof(lv.stage), "QEMU killed by signal %d", e->status);
	show(&lv, e->seconds, true);
	if (lv.tty)
		fputc('\n', stderr);
	return 0;
}

/* Evaluate a recorded serial log instead (--serial-log).  0, or EXIT_DATA with a message. */
static int replay(const struct run_plan *p, bool mode_given, struct run_one *r)
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

		if (!mode || pv_boot_mode_parse(mode, &r->mode)) {
			fprintf(stderr,
				"pvboot: run: %s: no PVBOOT-RESULT line says the mode; give --mode\n",
				p->serial_log);
			return EXIT_DATA;
		}
	}
	return 0;
}

/* ---- the plan ---- */

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* The kernel, the prediction, the ramdisk's size: what every run shares. */
/*
 * The same inputs through `pvboot simulate`'s path, after QEMU has gone
 * (so both never hold memory at once): issue 4 asks that the two agree.
 */
static void simulate_too(const struct run_plan *p, struct run_one *r)
{
	struct pv_error err = {0};

	r->sim_tried = true;
	if (simulate_result_line(&p->g, r->mode, p->verify_full, r->sim_line, sizeof(r->sim_line),
				 &err))
		snprintf(r->sim_error, sizeof(r->sim_error), "%s", err.msg);
}

static int plan_guest(struct run_plan *p, struct pv_error *err)
{
	char dir[PATH_MAX];

	p->g.in.builder = PV_BUILDER_XEN_DOM0;
	p->g.builder_set = true;
	if (p->g.kernel_path) {
		snprintf(p->kernel, sizeof(p->kernel), "%s", p->g.kernel_path);
	} else {
		if (run_exe_dir(dir, sizeof(dir), err))
			return cli_error("run", err);
		if (snprintf(p->kernel, sizeof(p->kernel), "%s/pvboot-kernel.elf", dir) >=
		    (int)sizeof(p->kernel))
			return data_error("%s: path too long", dir);
	}
	p->g.kernel_path = p->kernel;
	if (strchr(p->kernel, ' '))
		return cli_usage_error("run",
				       "--kernel: '%s' has a space, which QEMU's multiboot module string cannot carry",
				       p->kernel);
	if (p->g.ramdisk_path && strchr(p->g.ramdisk_path, ' '))
		return cli_usage_error("run",
				       "--ramdisk: '%s' has a space, which QEMU's multiboot module string cannot carry",
				       p->g.ramdisk_path);
	if (!is_file(p->kernel))
		return data_error("%s: no such file (the PV kernel: build it with make, or give --kernel)",
				  p->kernel);
	/* The seed's ramdisk goes with the seed's memory only. */
	if (p->g.ramdisk_from_seed && !p->g.memory_from_seed)
		p->g.in.ramdisk_len = 0;
	if (guest_resolve(&p->g, err))
		return cli_error("run", err);
	p->memory = p->g.in.nr_pages * PAGE_SIZE;
	p->ramdisk = p->g.in.ramdisk_len > 0;
	p->ramdisk_bytes = p->g.in.ramdisk_len;
	if (pv_layout_build(&p->g.in, &p->predicted, NULL, err)) {
		fprintf(stderr, "pvboot: run: Xen's dom0 builder would refuse this guest: %s\n",
			err->msg);
		return EXIT_DATA;
	}
	p->module_must_fail =
		pv_layout_warnings(&p->predicted) & (1U << PV_WARN_MODULES_VADDR_OVERLAP);
	p->qemu_mib = run_qemu_mib(p->memory, p->ramdisk_bytes);
	if (p->timeout <= 0)
		p->timeout = 60 + 0.25 * (double)(p->memory >> 30);
	return 0;
}

/* What a real boot needs besides: QEMU, host memory, Xen, the ramdisk file, the log directory. */
static int plan_host(struct run_plan *p, const char *xen, struct pv_error *err)
{
	uint64_t avail, need = run_host_need(p->qemu_mib, p->memory, p->ramdisk_bytes);
	char a[32], b[32], *slash;

	if (run_host_available(&avail, err))
		return cli_error("run", err);
	if (need > avail)
		return data_error("this dom0 needs about %s of host memory for QEMU (Xen's frame table, the P2M list twice, the ramdisk), but only %s is available (MemAvailable)",
				  human_bytes(need, a, sizeof(a)), human_bytes(avail, b, sizeof(b)));
	if (!run_on_path("qemu-system-x86_64"))
		return data_error(
			"qemu-system-x86_64 not found (run scripts/deps, package qemu-system-x86)");
	if (run_cache_dir(p->cache, sizeof(p->cache), err))
		return cli_error("run", err);
	/* The logs go beside the cache: build/cache -> build/run-logs. */
	snprintf(p->logs, sizeof(p->logs), "%s", p->cache);
	for (size_t n = strlen(p->logs); n > 1 && p->logs[n - 1] == '/'; n--)
		p->logs[n - 1] = '\0';
	slash = strrchr(p->logs, '/');
	if (slash)
		snprintf(slash + 1, sizeof(p->logs) - (size_t)(slash + 1 - p->logs), "run-logs");
	else
		snprintf(p->logs, sizeof(p->logs), "run-logs");
	if (run_mkdirs(p->logs, err))
		return cli_error("run", err);
	if (xen) {
		if (!is_file(xen))
			return data_error("%s: no such file (--xen)", xen);
		snprintf(p->xen, sizeof(p->xen), "%s", xen);
	} else if (run_fetch_xen(p->cache, p->xen, sizeof(p->xen), err)) {
		return cli_error("run", err);
	}
	if (p->ramdisk && p->g.ramdisk_path) {
		snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk_path);
		if (run_file_sum(p->ramdisk_path, &p->ramdisk_sum, &p->ramdisk_bytes, err))
			return cli_error("run", err);
	} else if (p->ramdisk) {
		if (run_ramdisk_make(p->cache, p->ramdisk_bytes, p->ramdisk_path,
				     sizeof(p->ramdisk_path), &p->ramdisk_sum, err))
			return cli_error("run", err);
		if (strchr(p->ramdisk_path, ' '))
			return data_error("%s: the cache path has a space, which QEMU's multiboot module string cannot carry",
					  p->ramdisk_path);
	}
	return 0;
}

/* The option table: ours, then the guest options we take. */
static void make_opts(struct opt *opts, int *ramdisk_id, int *ramdisk_size_id)
{
	unsigned n = 0;

	for (const struct opt *o = run_opts; o->name; o++)
		opts[n++] = *o;
	for (const struct opt *o = guest_opts; o->name; o++)
		for (size_t k = 0; k < sizeof(guest_names) / sizeof(guest_names[0]); k++)
			if (!strcmp(o->name, guest_names[k]))
				opts[n++] = *o;
	opts[n] = (struct opt){0};
	for (unsigned i = 0; i < n; i++) {
		if (!strcmp(opts[i].name, "ramdisk"))
			*ramdisk_id = opts[i].id;
		if (!strcmp(opts[i].name, "ramdisk-size"))
			*ramdisk_size_id = opts[i].id;
	}
}

int cmd_run(int argc, char **argv)
{
	struct opt opts[24];
	struct run_plan *p = calloc(1, sizeof(*p));
	struct run_one *runs = NULL;
	struct pv_error err = {0};
	enum pv_boot_mode modes[2] = {PV_MODE_NO_REVECTOR, PV_MODE_REVECTOR};
	unsigned nmodes = 2;
	bool mode_given = false;
	int ramdisk_id = -1, ramdisk_size_id = -1, nr_ramdisk_opts = 0, i = 0, id, rc = 0;
	const char *v, *xen = NULL;
	uint64_t x;

	if (!p)
		return cli_usage_error("run", "out of memory");
	make_opts(opts, &ramdisk_id, &ramdisk_size_id);
	guest_defaults(&p->g);
	p->verify_full = true;
	p->assume_exit = -1;
	while ((id = next_opt(argc, argv, &i, opts, &v, NULL, &err)) != 0) {
		if (id < 0) {
			rc = cli_error("run", &err);
			goto out;
		}
		switch (id) {
		case O_HELP:
			fputs(run_help, stdout);
			goto out;
		case O_MODE:
			if (pv_boot_mode_parse(v, &modes[0])) {
				rc = cli_usage_error("run",
						     "--mode: unknown mode '%s' (revector, no-revector, null)",
						     v);
				goto out;
			}
			nmodes = 1;
			mode_given = true;
			break;
		case O_VERIFY:
			if (strcmp(v, "full") && strcmp(v, "sample")) {
				rc = cli_usage_error("run",
						     "--verify: '%s' is neither full nor sample", v);
				goto out;
			}
			p->verify_full = !strcmp(v, "full");
			break;
		case O_TIMEOUT:
			if (parse_u64("--timeout", v, &x, &err)) {
				rc = cli_error("run", &err);
				goto out;
			}
			if (x == 0 || x > 1000000) {
				rc = cli_usage_error("run",
						     "--timeout: %s is not 1 to 1000000 seconds", v);
				goto out;
			}
			p->timeout = (double)x;
			break;
		case O_FORMAT:
			if (strcmp(v, "text") && strcmp(v, "json")) {
				rc = cli_usage_error("run",
						     "--format: unknown format '%s' (text, json)", v);
				goto out;
			}
			p->json = !strcmp(v, "json");
			break;
		case O_XEN:
			xen = v;
			break;
		case O_SERIAL_LOG:
			p->serial_log = v;
			break;
		case O_ASSUME_EXIT:
			if (parse_u64("--assume-exit", v, &x, &err)) {
				rc = cli_error("run", &err);
				goto out;
			}
			if (x > 255) {
				rc = cli_usage_error("run",
						     "--assume-exit: %s is not an exit status (0 to 255)",
						     v);
				goto out;
			}
			p->assume_exit = (int)x;
			break;
		default:
			if (id == ramdisk_id || id == ramdisk_size_id)
				nr_ramdisk_opts++;
			if (guest_option(&p->g, id, v, &err) < 0) {
				rc = cli_error("run", &err);
				goto out;
			}
		}
	}
	if (nr_ramdisk_opts > 1) {
		rc = cli_usage_error("run", "give one of --ramdisk and --ramdisk-size");
		goto out;
	}
	if (p->assume_exit >= 0 && !p->serial_log) {
		rc = cli_usage_error("run", "--assume-exit goes with --serial-log");
		goto out;
	}
	if (p->serial_log && nmodes == 2)
		nmodes = 1; /* a log is of one run: its PVBOOT-RESULT says which */

	rc = plan_guest(p, &err);
	if (rc)
		goto out;
	if (p->serial_log) {
		if (p->ramdisk && p->g.ramdisk_path) {
			if (run_file_sum(p->g.ramdisk_path, &p->ramdisk_sum, &p->ramdisk_bytes, &err)) {
				rc = cli_error("run", &err);
				goto out;
			}
			snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk_path);
		} else if (p->ramdisk && !(mode_given && modes[0] == PV_MODE_NULL)) {
			/* Only the checks of a boot with a result need it. */
			p->ramdisk_sum = run_pattern_sum(p->ramdisk_bytes);
		}
	} else if ((rc = plan_host(p, xen, &err)) != 0) {
		goto out;
	}

	runs = calloc(nmodes, sizeof(*runs));
	if (!runs) {
		rc = cli_usage_error("run", "out of memory");
		goto out;
	}
	for (unsigned m = 0; m < nmodes && !rc; m++) {
		runs[m].mode = modes[m];
		run_serial_init(&runs[m].ser);
		rc = p->serial_log ? replay(p, mode_given, &runs[m]) : boot(p, &runs[m]);
		if (!rc)
			simulate_too(p, &runs[m]);
		if (!rc)
			run_evaluate(p, &runs[m]);
	}
	if (!rc) {
		if (p->json)
			run_report_json(stdout, p, runs, nmodes);
		else
			run_report_text(stdout, p, runs, nmodes);
		for (unsigned m = 0; m < nmodes; m++)
			if (!runs[m].ok)
				rc = EXIT_DATA;
	}
out:
	free(runs);
	guest_release(&p->g);
	free(p);
	return rc;
}
