/*
 * Host plumbing shared by the command, the harness and the simulation
 * (src/util/host.c).  Host code only; errors are values.
 */
#ifndef PVBOOT_HOST_H
#define PVBOOT_HOST_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
