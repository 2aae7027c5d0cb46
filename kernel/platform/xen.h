/* struct pv_platform over the real hypervisor (kernel/platform/xen.c). */
#ifndef PVBOOT_KERNEL_PLATFORM_XEN_H
#define PVBOOT_KERNEL_PLATFORM_XEN_H

#include <pvboot/platform.h>

/*
 * Set up the platform for the domain @si describes: map shared_info (and a
 * domU's console ring), find the M2P's extent, remember the builder's L4.
 * Returns 0, or a negative Xen errno from the hypercall that failed (the
 * console works either way).
 */
int xen_platform_init(struct pv_platform *pf, start_info_t *si, uint64_t virt_base);

/* Text to the console: console_io as dom0, the PV console ring as a domU. */
void xen_console_write(const char *s, size_t n);
void xen_console_flush(void);

/* Is the domain the hardware domain (dom0)? */
bool xen_is_dom0(void);

#endif
