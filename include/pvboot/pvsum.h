/*
 * pv_sum64: the checksum the host and the guest both compute over a ramdisk
 * ("pvsum64"), freestanding.  FNV-1a's constants, a 64-bit word at a time:
 *
 *     h = PV_SUM64_INIT
 *     for each little-endian 64-bit word w (the last one zero-padded):
 *         h = (h ^ w) * 0x100000001b3  (mod 2^64)
 *
 * A word at a time because the guest sums hundreds of MiB under TCG.
 */
#ifndef PVBOOT_PVSUM_H
#define PVBOOT_PVSUM_H

#include <stddef.h>
#include <stdint.h>

#define PV_SUM64_INIT  0xcbf29ce484222325ULL
#define PV_SUM64_PRIME 0x100000001b3ULL

/*
 * Continue the sum @h over @bytes at @p.  Data may be fed in pieces, each
 * a multiple of 8 bytes except the last.
 */
uint64_t pv_sum64(uint64_t h, const void *p, size_t bytes);

#endif
