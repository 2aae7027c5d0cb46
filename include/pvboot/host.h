/*
 * Host plumbing shared by the command, the harness and the simulation
 * (src/util/host.c).  Host code only; errors are values.
 */
#ifndef PVBOOT_HOST_H
#define PVBOOT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <pvboot/error.h>

/* The directory of the running executable, from /proc/self/exe.  -1 with @err. */
int pv_exe_dir(char *buf, size_t size, struct pv_error *err);
/* mkdir -p; 0, or -1 with @err (PV_ERR_IO). */
int pv_mkdirs(const char *path, struct pv_error *err);
/* Whether @path is a regular file. */
bool pv_is_file(const char *path);
/* Whether @prog is an executable file in a directory of $PATH. */
bool pv_on_path(const char *prog);
/*
 * Run @argv (looked up in $PATH) in @cwd with stdin from /dev/null and its
 * stdout on our stderr, and wait.  Returns its exit status (128 + signal if
 * killed), or -1 with @err when it could not be started.
 */
int pv_command(char *const argv[], const char *cwd, struct pv_error *err);
/* Seconds on the monotonic clock. */
double pv_now(void);

/*
 * The cache's rules (docs/harness.md, "The cache"): whatever a run makes
 * there is made under an exclusive lock, written to a temporary name and
 * renamed into place when whole, and its stamp, if any, written last; so a
 * run killed at any point leaves nothing a later run trusts, and two runs
 * at once make it once.
 */

/*
 * Take an exclusive flock on @path (created if need be) and return its
 * descriptor; when another process holds it, call @waiting (may be NULL)
 * once and wait.  -1 with @err.  The lock goes with pv_unlock() or the
 * process.
 */
int pv_lock(const char *path, void (*waiting)(void *ctx, const char *path), void *ctx,
	    struct pv_error *err);
void pv_unlock(int fd);
/* The temporary name for @path: "@path.tmp.<pid>".  -1 with @err if it does not fit. */
int pv_tmp_name(const char *path, char *tmp, size_t size, struct pv_error *err);
/* Remove the files "@path.tmp.*" that killed runs left (hold @path's lock). */
void pv_remove_tmp(const char *path);
/*
 * End @f, written as @tmp for @path: close it and, when the writing went
 * well (@rc 0), rename it into place; otherwise, or when the close or the
 * rename fails, remove it.  0, or -1 with @err (already set when @rc is -1).
 */
int pv_tmp_commit(FILE *f, const char *tmp, const char *path, int rc, struct pv_error *err);
/* @text into @path through a temporary file, fsync and rename.  -1 with @err. */
int pv_write_atomic(const char *path, const char *text, struct pv_error *err);

#endif
