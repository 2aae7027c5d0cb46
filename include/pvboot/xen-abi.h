/*
 * Xen's public ABI headers (from Debian's libxen-dev), made usable in
 * freestanding code: they expect <stdint.h> to be in scope already.
 */
#ifndef PVBOOT_XEN_ABI_H
#define PVBOOT_XEN_ABI_H

#include <stdint.h>

#include <xen/xen.h>
#include <xen/elfnote.h>
#include <xen/features.h>

#endif
