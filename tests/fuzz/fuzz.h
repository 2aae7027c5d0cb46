/*
 * What the libFuzzer targets share: a broken invariant traps (libFuzzer
 * reports it as a crash and saves the input), and an error must be a value,
 * a known code and one line of text.
 */
#ifndef PVBOOT_TEST_FUZZ_H
#define PVBOOT_TEST_FUZZ_H

#include <string.h>

#include <pvboot/error.h>

static inline void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static inline void check_error(const struct pv_error *err)
{
	check(err->code > PV_OK && err->code < PV_ERR_NR);
	check(err->msg[0] != '\0' && !strchr(err->msg, '\n'));
}

#endif
