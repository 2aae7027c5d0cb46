/*
 * Host plumbing shared by the command, the harness and the simulation:
 * where pvboot runs from, directories, files, programs on $PATH, a child
 * process, and a monotonic clock.  Host code only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pvboot/host.h>


int pv_exe_dir(char *buf, size_t size, struct pv_error *err)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n < 0)
		return pv_fail(err, PV_ERR_IO, "/proc/self/exe: %s", strerror(errno));
	if ((size_t)n >= size - 1)
		return pv_fail(err, PV_ERR_IO, "/proc/self/exe: path too long");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return pv_fail(err, PV_ERR_IO, "/proc/self/exe: '%s' has no directory", buf);
	*slash = '\0';
	if (!buf[0])
		snprintf(buf, size, "/");
	return 0;
}

int pv_mkdirs(const char *path, struct pv_error *err)
{
	char p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return pv_fail(err, PV_ERR_IO, "%s: path too long", path);
	for (char *s = p + 1;; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return pv_fail(err, PV_ERR_IO, "cannot create %s: %s", p, strerror(errno));
		if (end)
			return 0;
		*s = '/';
	}
}

/* The absolute path of @prog found in $PATH, into @buf; false if none. */
static bool which(const char *prog, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat st;

		if (n)
			snprintf(file, sizeof(file), "%.*s/%s", (int)n, path, prog);
		else
			snprintf(file, sizeof(file), "./%s", prog); /* an empty entry is "." */
		if (!stat(file, &st) && S_ISREG(st.st_mode) && !access(file, X_OK) &&
		    size >= PATH_MAX && realpath(file, buf))
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}


bool pv_on_path(const char *prog)
{
	char buf[PATH_MAX];

	return which(prog, buf, sizeof(buf));
}

int pv_command(char *const argv[], const char *cwd, struct pv_error *err)
{
	char prog[PATH_MAX];
	int st;
	pid_t pid;

	/* Looked up here: a relative $PATH entry means nothing after the chdir. */
	if (!which(argv[0], prog, sizeof(prog)))
		return pv_fail(err, PV_ERR_IO, "%s not found", argv[0]);
	pid = fork();
	if (pid < 0)
		return pv_fail(err, PV_ERR_IO, "fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(2, 1); /* keep our stdout for the report */
		if (cwd && chdir(cwd)) {
			fprintf(stderr, "pvboot: cd %s: %s\n", cwd, strerror(errno));
			_exit(127);
		}
		execv(prog, argv);
		fprintf(stderr, "pvboot: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return pv_fail(err, PV_ERR_IO, "waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}


bool pv_is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}


double pv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}


int pv_lock(const char *path, void (*waiting)(void *ctx, const char *path), void *ctx,
	    struct pv_error *err)
{
	/* Read-only: flock needs no more, and a lock file another user made still opens. */
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return pv_fail(err, PV_ERR_IO, "%s: %s", path, strerror(errno));
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	if (errno == EWOULDBLOCK && waiting)
		waiting(ctx, path);
	while (flock(fd, LOCK_EX))
		if (errno != EINTR) {
			pv_fail(err, PV_ERR_IO, "lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
	return fd;
}

void pv_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor drops the flock */
}

int pv_tmp_name(const char *path, char *tmp, size_t size, struct pv_error *err)
{
	if (snprintf(tmp, size, "%s.tmp.%d", path, (int)getpid()) >= (int)size)
		return pv_fail(err, PV_ERR_IO, "%s: path too long", path);
	return 0;
}

void pv_remove_tmp(const char *path)
{
	char dir[PATH_MAX], prefix[PATH_MAX + 8];
	const char *slash = strrchr(path, '/');
	struct dirent *e;
	size_t n;
	DIR *d;

	if (!slash || snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >=
			      (int)sizeof(dir))
		return;
	n = (size_t)snprintf(prefix, sizeof(prefix), "%s.tmp.", slash + 1);
	d = opendir(dir[0] ? dir : "/");
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, n)) {
			char f[2 * PATH_MAX + 2];

			snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
			unlink(f);
		}
	closedir(d);
}

int pv_tmp_commit(FILE *f, const char *tmp, const char *path, int rc, struct pv_error *err)
{
	if (fclose(f) && !rc)
		rc = pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path))
		rc = pv_fail(err, PV_ERR_IO, "rename %s: %s", tmp, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc ? -1 : 0;
}

int pv_write_atomic(const char *path, const char *text, struct pv_error *err)
{
	char tmp[PATH_MAX + 32];
	FILE *f;
	int rc = 0;

	if (pv_tmp_name(path, tmp, sizeof(tmp), err))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	if (fputs(text, f) == EOF || fflush(f) || fsync(fileno(f)))
		rc = pv_fail(err, PV_ERR_IO, "%s: %s", tmp, strerror(errno));
	return pv_tmp_commit(f, tmp, path, rc, err);
}
