/*
 * The Linux dom0 that a domU run boots under Xen to run the real toolstack
 * (docs/real-xen.md section 9): its kernel and initramfs, which
 * scripts/build-dom0 builds from Debian's packages into the cache the first
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvboot/x86.h>

#include "harness_priv.h"

/* $PVBOOT_SCRIPTS/build-dom0, else <pvboot's directory>/../scripts/build-dom0. */
static int find_script(char *path, size_t size, struct pv_error *err)
{
	const char *env = getenv("PVBOOT_SCRIPTS");
	char dir[PATH_MAX];

	if (env && *env) {
		if (snprintf(path, size, "%s/build-dom0", env) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "PVBOOT_SCRIPTS: path too long");
	} else {
		if (pv_exe_dir(dir, sizeof(dir), err))
			return -1;
		if (snprintf(path, size, "%s/../scripts/build-dom0", dir) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	}
	if (access(path, R_OK))
		return pv_fail(err, PV_ERR_IO,
			       "%s: %s (the script that builds the Linux dom0; set PVBOOT_SCRIPTS to its directory)",
			       path, strerror(errno));
	return 0;
}

/* "name=value" lines of @out into @kernel and @initrd. */
static void take_paths(char *out, char *kernel, char *initrd, size_t size)
{
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "kernel=", 7))
			snprintf(kernel, size, "%s", line + 7);
		else if (!strncmp(line, "initrd=", 7))
			snprintf(initrd, size, "%s", line + 7);
	}
}

/*
 * Run `sh SCRIPT` with PVBOOT_CACHE=@cache, its stderr on ours (it says
 * what it builds), its stdout into @out.  Returns its exit status, or -1
 * with @err when it could not run.
 */
static int run_script(const char *script, const char *cache, char *out, size_t size,
		      struct pv_error *err)
{
	size_t n = 0;
	int fd[2], st;
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC))
		return pv_fail(err, PV_ERR_IO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(fd[1], 1) < 0 ||
		    setenv("PVBOOT_CACHE", cache, 1))
			_exit(127);
		execlp("sh", "sh", script, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if (pid < 0) {
		close(fd[0]);
		return pv_fail(err, PV_ERR_IO, "fork: %s", strerror(errno));
	}
	for (;;) {
		ssize_t got = read(fd[0], out + n, size - 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n == size - 1) { /* more than paths: keep reading, keep the start */
			char sink[4096];

			while (read(fd[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[n] = '\0';
	close(fd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return pv_fail(err, PV_ERR_IO, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int run_dom0_image(const char *cache, char *kernel, char *initrd, size_t size, struct pv_error *err)
{
	char script[PATH_MAX], out[4 * PATH_MAX];
	struct stat st;
	int status;

	if (find_script(script, sizeof(script), err))
		return -1;
	status = run_script(script, cache, out, sizeof(out), err);
	if (status < 0)
		return -1;
	if (status)
		return pv_fail(err, PV_ERR_IO, "%s failed with status %d", script, status);
	kernel[0] = initrd[0] = '\0';
	take_paths(out, kernel, initrd, size);
	if (!kernel[0] || !initrd[0])
		return pv_fail(err, PV_ERR_FORMAT, "%s printed no %s= line", script,
			       kernel[0] ? "initrd" : "kernel");
	if (stat(kernel, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 kernel %s gave is not a file", kernel,
			       script);
	if (stat(initrd, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 initrd %s gave is not a file", initrd,
			       script);
	return 0;
}
