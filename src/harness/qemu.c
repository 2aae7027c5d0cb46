/*
 * QEMU for pvboot run: how big the machine must be, its command line
 * (docs/real-xen.md sections 1, 4 and 5), and the process itself, whose
 * serial output is read line by line as it comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pvboot/x86.h>

#include "harness_priv.h"

/* QEMU's pc machine: RAM beyond 3.5 GiB keeps 3 GiB low, the rest goes above 4 GiB. */
uint64_t run_qemu_ram_top(uint64_t qemu_mib)
{
	uint64_t bytes = qemu_mib * MiB;

	return bytes >= 0xe0000000ULL ? bytes + GiB : bytes;
}

/*
 * The physical-address bits QEMU's CPU must have for @qemu_mib of RAM, or 0
 * when TCG's default of 40 (1 TiB) holds it.  QEMU 7.2's pc machine
 * (pc_memory_init) refuses to start, "phys-bits too low (40)", when the
 * highest address it uses is beyond them: RAM above 4 GiB, rounded up to
 * 1 GiB, then i440fx's 2 GiB 64-bit PCI hole.  And when that end reaches
 * AMD's HyperTransport hole at 1012 GiB with an AMD CPU model (TCG's max is
 * one), QEMU moves all RAM above 4 GiB up to start at 1 TiB.  So 1009 GiB
 * of RAM fits 40 bits and 256 MiB more needs 41.  A 1060 GiB machine
 * booted with 42 (docs/real-xen.md section 4): that is what a machine past
 * 40 bits gets, more only past 4 TiB.  tests/real/qemu_test.c holds the real QEMU to this.
 */
unsigned run_qemu_phys_bits(uint64_t qemu_mib)
{
	const uint64_t ht_start = 0xfd00000000ULL, hole64 = 2 * GiB, above_1t = 1ULL << 40;
	uint64_t top = run_qemu_ram_top(qemu_mib), end;
	unsigned bits = 42;

	end = ((top + GiB - 1) & ~(GiB - 1)) + hole64;
	if (end > ht_start && top > 4 * GiB)
		end = ((above_1t + (top - 4 * GiB) + GiB - 1) & ~(GiB - 1)) + hole64;
	if (end <= 1ULL << 40)
		return 0;
	while (end > 1ULL << bits)
		bits++;
	return bits;
}

int run_host_available(uint64_t *bytes, struct pv_error *err)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb;
	int rc = -1;

	if (!f)
		return pv_fail(err, PV_ERR_IO, "/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			*bytes = kb * 1024;
			rc = 0;
			break;
		}
	fclose(f);
	if (rc)
		pv_fail(err, PV_ERR_IO, "/proc/meminfo has no MemAvailable");
	return rc;
}

size_t run_escape_commas(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in; in++) {
		for (int k = *in == ',' ? 2 : 1; k > 0; k--, n++)
			if (n + 1 < size)
				out[n] = *in;
	}
	if (size)
		out[n < size ? n : size - 1] = '\0';
	return n;
}

int run_cmd_add(struct run_cmdline *c, size_t *used, struct pv_error *err, const char *fmt, ...)
{
	size_t room = sizeof(c->buf) - *used;
	va_list ap;
	int n;

	if (c->argc >= RUN_MAX_ARGS)
		return pv_fail(err, PV_ERR_RANGE, "QEMU command line: too many arguments");
	va_start(ap, fmt);
	n = vsnprintf(c->buf + *used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return pv_fail(err, PV_ERR_RANGE, "QEMU command line: too long");
	c->argv[c->argc++] = c->buf + *used;
	c->argv[c->argc] = NULL;
	*used += (size_t)n + 1;
	return 0;
}

/*
 * What every run's QEMU gets (docs/real-xen.md sections 1 and 3 to 6): TCG,
 * -cpu max without SMAP, @smp vCPUs, the serial line on stdout, no reboot,
 * and @qemu_mib of RAM in a backend that reserves nothing, so QEMU backs
 * only the pages the guest touches; with @debug_exit, the isa-debug-exit
 * port a dom0 reports its verdict through.  Returns what run_cmd_add does.
 */
int run_qemu_common(struct run_cmdline *c, size_t *used, struct pv_error *err, uint64_t qemu_mib,
		    unsigned smp, bool debug_exit)
{
	unsigned phys_bits = run_qemu_phys_bits(qemu_mib);
	int rc = 0;

	rc |= run_cmd_add(c, used, err, "qemu-system-x86_64");
	rc |= run_cmd_add(c, used, err, "-accel");
	rc |= run_cmd_add(c, used, err, "tcg");
	rc |= run_cmd_add(c, used, err, "-cpu");
	/*
	 * TCG's max CPU has 40 physical address bits: about 1 TiB of RAM needs more
	 * (docs/real-xen.md section 4).
	 */
	if (phys_bits)
		rc |= run_cmd_add(c, used, err, "max,-smap,phys-bits=%u", phys_bits);
	else
		rc |= run_cmd_add(c, used, err, "max,-smap");
	rc |= run_cmd_add(c, used, err, "-smp");
	rc |= run_cmd_add(c, used, err, "%u", smp);
	rc |= run_cmd_add(c, used, err, "-display");
	rc |= run_cmd_add(c, used, err, "none");
	rc |= run_cmd_add(c, used, err, "-no-reboot");
	rc |= run_cmd_add(c, used, err, "-monitor");
	rc |= run_cmd_add(c, used, err, "none");
	rc |= run_cmd_add(c, used, err, "-serial");
	rc |= run_cmd_add(c, used, err, "stdio");
	if (debug_exit) {
		rc |= run_cmd_add(c, used, err, "-device");
		rc |= run_cmd_add(c, used, err, "isa-debug-exit,iobase=%#x,iosize=0x04",
				  PV_DEBUG_EXIT_PORT);
	}
	/*
	 * reserve=off: QEMU backs only the pages the guest touches
	 * (docs/real-xen.md section 5.2).
	 */
	rc |= run_cmd_add(c, used, err, "-object");
	rc |= run_cmd_add(c, used, err, "memory-backend-ram,id=m0,size=%lluM,reserve=off",
			  (unsigned long long)qemu_mib);
	rc |= run_cmd_add(c, used, err, "-machine");
	rc |= run_cmd_add(c, used, err, "memory-backend=m0");
	rc |= run_cmd_add(c, used, err, "-m");
	rc |= run_cmd_add(c, used, err, "%llu", (unsigned long long)qemu_mib);
	return rc;
}
/* ---- the process ---- */

/* The QEMU process group, for the signal handler: killed at once on SIGINT. */
static volatile sig_atomic_t qemu_pgid;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	if (qemu_pgid > 0)
		kill(-(pid_t)qemu_pgid, SIGKILL);
	got_signal = sig;
}
/* Bytes of one stream not yet ended by a newline. */
struct linebuf {
	int fd;
	bool qemu_stderr;
	size_t n;
	char buf[8192];
};

static enum run_verdict emit(const struct linebuf *lb, const struct run_stream *s, double t,
			     const char *p, size_t len)
{
	char line[sizeof(lb->buf) + 1];
	size_t k = 0;

	for (size_t j = 0; j < len; j++)
		if (p[j] != '\r')
			line[k++] = p[j] ? p[j] : '?';
	line[k] = '\0';
	return s->line(s->ctx, t, line, lb->qemu_stderr);
}

/*
 * Hand every complete line to @s, and at the end of the stream (@eof) what
 * is left.  A line longer than the buffer is handed over in pieces.
 */
static enum run_verdict take_lines(struct linebuf *lb, const struct run_stream *s, double t, bool eof)
{
	enum run_verdict v = RUN_GO_ON, w;
	size_t start = 0;
	char *nl;

	while ((nl = memchr(lb->buf + start, '\n', lb->n - start))) {
		w = emit(lb, s, t, lb->buf + start, (size_t)(nl - (lb->buf + start)));
		v = w > v ? w : v;
		start = (size_t)(nl - lb->buf) + 1;
	}
	if (lb->n - start == sizeof(lb->buf) || (eof && lb->n > start)) {
		w = emit(lb, s, t, lb->buf + start, lb->n - start);
		v = w > v ? w : v;
		start = lb->n;
	}
	memmove(lb->buf, lb->buf + start, lb->n - start);
	lb->n -= start;
	return v;
}

/*
 * The child: its own process group, dying with pvboot, stdout and stderr to
 * the pipes, and pvboot's signal handlers gone before the signals it
 * blocked around fork() are let through.
 */
static void exec_qemu(char *const argv[], int out, int err, const sigset_t *mask)
{
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL); /* should it not have made its group yet */
}

int run_qemu(char *const argv[], double timeout, const struct run_stream *s, struct run_exit *ex,
	     struct pv_error *err)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_signal}, old[3];
	struct linebuf lb[2] = {{.fd = -1}, {.fd = -1, .qemu_stderr = true}};
	int out[2], errp[2], st = 0;
	double t0, t = 0, stop_at = -1;
	sigset_t block, saved;
	bool killed = false, reaped = false;
	struct rusage ru = {0};
	pid_t pid;

	*ex = (struct run_exit){.known = true};
	if (pipe2(out, O_CLOEXEC))
		return pv_fail(err, PV_ERR_IO, "pipe: %s", strerror(errno));
	if (pipe2(errp, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return pv_fail(err, PV_ERR_IO, "pipe: %s", strerror(errno));
	}
	/* No SA_RESTART: a signal ends poll() at once. */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (int i = 0; i < 3; i++) {
		sigaction(sigs[i], &sa, &old[i]);
		sigaddset(&block, sigs[i]);
	}
	got_signal = 0;
	sigprocmask(SIG_BLOCK, &block, &saved);
	t0 = pv_now();
	pid = fork();
	if (pid == 0)
		exec_qemu(argv, out[1], errp[1], &saved);
	if (pid > 0) {
		setpgid(pid, pid); /* as the child does: whichever runs first */
		qemu_pgid = pid;
	}
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(out[1]);
	close(errp[1]);
	if (pid < 0) {
		close(out[0]);
		close(errp[0]);
		for (int i = 0; i < 3; i++)
			sigaction(sigs[i], &old[i], NULL);
		return pv_fail(err, PV_ERR_IO, "fork: %s", strerror(errno));
	}
	lb[0].fd = out[0];
	lb[1].fd = errp[0];

	while ((lb[0].fd >= 0 || lb[1].fd >= 0) && !got_signal) {
		struct pollfd pfd[2];
		double left;
		int wait_ms;

		t = pv_now() - t0;
		if (t >= timeout) {
			ex->timed_out = true;
			break;
		}
		if (stop_at >= 0 && t >= stop_at) {
			ex->crash_killed = true;
			break;
		}
		left = (stop_at >= 0 && stop_at < timeout ? stop_at : timeout) - t;
		wait_ms = left < 0.2 ? (int)(left * 1000) + 1 : 200;
		for (int i = 0; i < 2; i++)
			pfd[i] = (struct pollfd){.fd = lb[i].fd, .events = POLLIN};
		if (poll(pfd, 2, wait_ms) < 0 && errno != EINTR)
			break;
		t = pv_now() - t0;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			enum run_verdict v;

			if (lb[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(lb[i].fd, lb[i].buf + lb[i].n, sizeof(lb[i].buf) - lb[i].n);
			if (n < 0 && errno == EINTR)
				continue;
			if (n > 0)
				lb[i].n += (size_t)n;
			v = take_lines(&lb[i], s, t, n <= 0);
			if (n <= 0) {
				close(lb[i].fd);
				lb[i].fd = -1;
			}
			if (v == RUN_STOP_NOW && stop_at < 0)
				stop_at = t;
			else if (v == RUN_STOP_SOON && stop_at < 0)
				stop_at = t + 1.0; /* Xen's next lines say why */
		}
		if (s->tick)
			s->tick(s->ctx, t);
		/* QEMU gone: what it left in its group would hold the pipes open. */
		if (!reaped && wait4(pid, &st, WNOHANG, &ru) == pid) {
			reaped = true;
			qemu_pgid = 0;
			kill(-pid, SIGKILL);
		}
	}
	/* Lines cut short by the end hold what QEMU said last. */
	for (int i = 0; i < 2; i++)
		if (lb[i].fd >= 0)
			take_lines(&lb[i], s, t, true);
	if (!reaped && (ex->timed_out || ex->crash_killed || got_signal)) {
		kill_group(pid);
		killed = true;
	}
	/* The pipes are closed: QEMU is on its way out.  Give it until the timeout. */
	while (!reaped) {
		pid_t w = wait4(pid, &st, killed ? 0 : WNOHANG, &ru);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			st = 0;
			break;
		}
		if (w == 0 && (got_signal || pv_now() - t0 >= timeout)) {
			ex->timed_out = !got_signal;
			kill_group(pid);
			killed = true;
		} else if (w == 0) {
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		}
	}
	qemu_pgid = 0;
	for (int i = 0; i < 2; i++)
		if (lb[i].fd >= 0)
			close(lb[i].fd);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	ex->seconds = pv_now() - t0;
	/* As the kernel kept it for the child we reaped (0 when it was not reaped). */
	ex->peak_rss = (uint64_t)ru.ru_maxrss * 1024;
	ex->interrupted = got_signal;
	ex->exited = WIFEXITED(st);
	ex->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	return 0;
}
