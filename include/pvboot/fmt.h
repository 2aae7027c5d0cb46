/*
 * A small freestanding formatter, so that src/core and the PV kernel can
 * print without libc.  It understands the subset of printf that Xen's and
 * libxc's log lines use:
 *
 *   %%  %c  %s  %.*s  %d %i %u %x %X %p
 *   flags '-' '0' '#', a width (digits or '*'), a precision for %s,
 *   length modifiers l, ll, z.
 *
 * %p prints 16 lower-case hex digits without "0x", as Xen's printk does on
 * x86-64.  Output is always NUL-terminated when size > 0; the return value is
 * the length the full output would have had, as snprintf's.
 */
#ifndef PVBOOT_FMT_H
#define PVBOOT_FMT_H

#include <stdarg.h>
#include <stddef.h>

size_t pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t pv_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
