/*
 * The memory-image writer (format: <pvboot/memimage.h>) and the frame
 * source over a live simulated domain, which a P2M reader takes as it takes
 * an image read back (pv_memimage_p2m_src).
 */
#ifndef PVBOOT_SIM_DUMP_H
#define PVBOOT_SIM_DUMP_H

#include <pvboot/error.h>
#include <pvboot/memimage.h>
#include <pvboot/p2m_read.h>
#include <pvboot/sim.h>

#include "sim.h"

/*
 * Write the image of @s's domain to @path, through @path.tmp renamed at
 * the end: on any error (ENOSPC, EFBIG, ...) -1 with @err naming it, and
 * neither file left.  Reads machine memory with loads only (sim.h: the
 * lazy list), so its frames are made and dropped as the guest's are.
 */
int sim_dump(struct sim *s, const char *path, struct pv_sim_dump_stats *st, struct pv_error *err);

/* p2m_src.c: the frame source over @s's live domain. */
struct p2m_src sim_p2m_src(struct sim *s);

#endif
