/* Shared between the layout engine's files; not part of the API. */
#ifndef PVBOOT_LAYOUT_PRIV_H
#define PVBOOT_LAYOUT_PRIV_H

#include <pvboot/layout.h>

void pv_logf(const struct pv_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int pv_layout_libxc(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		    struct pv_error *err);
int pv_layout_dom0(const struct pv_layout_in *in, struct pv_layout *out, const struct pv_log *log,
		   struct pv_error *err);

/* Round up to a page; false if that wraps past 2^64. */
static inline bool pgup(uint64_t x, uint64_t *out)
{
	if (x > ~0ULL - 0xfff)
		return false;
	*out = (x + 0xfff) & ~0xfffULL;
	return true;
}

static inline uint64_t pages_of(uint64_t bytes)
{
	return (bytes >> 12) + ((bytes & 0xfff) != 0);
}

#endif
