/*
 * The project's scripts, run from the harness: scripts/build-dom0 (the
 * Linux dom0 of a domU run) and scripts/fetch-deb (a Debian package of any
 * suite, through the host's mirror).  Each prints "name=value" lines on
 * stdout and says on stderr what it does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness_priv.h"

/* $PVBOOT_SCRIPTS/@name, else <pvboot's directory>/../scripts/@name. */
static int find_script(const char *name, char *path, size_t size, struct pv_error *err)
{
	const char *env = getenv("PVBOOT_SCRIPTS");
	char dir[PATH_MAX];

	if (env && *env) {
		if (snprintf(path, size, "%s/%s", env, name) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "PVBOOT_SCRIPTS: path too long");
	} else {
		if (pv_exe_dir(dir, sizeof(dir), err))
			return -1;
		if (snprintf(path, size, "%s/../scripts/%s", dir, name) >= (int)size)
			return pv_fail(err, PV_ERR_IO, "%s: path too long", dir);
	}
	if (access(path, R_OK))
		return pv_fail(err, PV_ERR_IO,
			       "%s: %s (one of pvboot's scripts; set PVBOOT_SCRIPTS to their directory)",
			       path, strerror(errno));
	return 0;
}

/*
 * Run `sh SCRIPT @args...` with PVBOOT_CACHE=@cache, its stderr on ours,
 * its stdout into @out.  Returns its exit status, or -1 with @err when it
 * could not run.
 */
static int spawn(const char *script, const char *const *args, const char *cache, char *out,
		 size_t size, struct pv_error *err)
{
	const char *argv[16] = {"sh", script};
	size_t n = 0, argc = 2;
	int fd[2], st;
	pid_t pid;

	for (; args && *args && argc < 15; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	if (pipe2(fd, O_CLOEXEC))
		return pv_fail(err, PV_ERR_IO, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(fd[1], 1) < 0 ||
		    setenv("PVBOOT_CACHE", cache, 1))
			_exit(127);
		execvp("sh", (char *const *)argv);
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

int run_script(const char *name, const char *const *args, const char *cache, char *out,
	       size_t size, char *script, struct pv_error *err)
{
	int status;

	if (find_script(name, script, PATH_MAX, err))
		return -1;
	status = spawn(script, args, cache, out, size, err);
	if (status < 0)
		return -1;
	if (status)
		return pv_fail(err, PV_ERR_IO, "%s failed with status %d", script, status);
	return 0;
}
