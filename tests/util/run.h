/* Running the pvboot command from tests: its output, errors and status. */
#ifndef PVBOOT_TEST_RUN_H
#define PVBOOT_TEST_RUN_H

#include <stddef.h>

struct run {
	char *out;	/* stdout, NUL-terminated (malloc) */
	char *err;	/* stderr, NUL-terminated (malloc) */
	size_t out_len;
	int status;	/* exit status, or 128 + signal */
};

/* Run "$PVBOOT <args>" through sh; @args is a shell fragment. */
struct run run_pvboot(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run any shell command the same way. */
struct run run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void run_free(struct run *r);
/* Number of lines in @s. */
unsigned count_lines(const char *s);
/* The directory for test scratch files (created), under the build tree. */
const char *scratch_dir(void);

#endif
