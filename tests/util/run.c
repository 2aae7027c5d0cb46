/* See run.h.  Output is captured through files in the scratch directory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

static char scratch[512];
static pid_t scratch_owner;

/*
 * The scratch directory goes when its test ends, in the process that made
 * it (a forked child's exit leaves it alone), unless PVBOOT_KEEP_SCRATCH is
 * set to look at it.
 */
static void remove_scratch(void)
{
	char cmd[600];

	if (getpid() != scratch_owner || getenv("PVBOOT_KEEP_SCRATCH"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	if (system(cmd))
		fprintf(stderr, "warning: could not remove %s\n", scratch);
}

const char *scratch_dir(void)
{
	if (!scratch[0]) {
		const char *cache = getenv("PVBOOT_CACHE");

		snprintf(scratch, sizeof(scratch), "%s/scratch-%d", cache ? cache : "build/cache",
			 (int)getpid());
		mkdir(cache ? cache : "build/cache", 0755);
		mkdir(scratch, 0755);
		scratch_owner = getpid();
		atexit(remove_scratch);
	}
	return scratch;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f) {
		for (;;) {
			if (n + 4096 + 1 > cap) {
				cap = cap ? 2 * cap : 65536;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			size_t got = fread(buf + n, 1, cap - n - 1, f);

			if (!got)
				break;
			n += got;
		}
		fclose(f);
	}
	if (!buf)
		buf = malloc(1);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static struct run vrun(const char *prefix, const char *fmt, va_list ap)
{
	struct run r = {0};
	char args[4096], cmd[8192], out[600], err[600];
	int st;

	vsnprintf(args, sizeof(args), fmt, ap);
	snprintf(out, sizeof(out), "%s/out", scratch_dir());
	snprintf(err, sizeof(err), "%s/err", scratch_dir());
	snprintf(cmd, sizeof(cmd), "{ %s%s ; } >'%s' 2>'%s' </dev/null", prefix, args, out, err);
	st = system(cmd);
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r.out = slurp(out, &r.out_len);
	r.err = slurp(err, NULL);
	return r;
}

struct run run_pvboot(const char *fmt, ...)
{
	char prefix[600];
	const char *bin = getenv("PVBOOT");
	struct run r;
	va_list ap;

	snprintf(prefix, sizeof(prefix), "'%s' ", bin ? bin : "build/pvboot");
	va_start(ap, fmt);
	r = vrun(prefix, fmt, ap);
	va_end(ap);
	return r;
}

struct run run_sh(const char *fmt, ...)
{
	struct run r;
	va_list ap;

	va_start(ap, fmt);
	r = vrun("", fmt, ap);
	va_end(ap);
	return r;
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}
