/*
 * pvsum64: the checksum pvboot's host side and its PV kernel both compute
 * over a ramdisk, so that "the module arrived intact" is one comparison.
 *
 * FNV-1a with 64-bit little-endian words instead of bytes:
 *
 *   h = PV_SUM64_INIT
 *   for each word w (the last partial word zero-padded):
 *           h = (h ^ w) * PV_SUM64_PRIME   (mod 2^64)
 *
 * Words, not bytes, so that summing a few hundred MiB under TCG stays
 * cheap.  Freestanding: only <stdint.h> and <stddef.h>.
 */
#ifndef PVBOOT_PVSUM_H
#define PVBOOT_PVSUM_H

#include <stddef.h>
#include <stdint.h>

#define PV_SUM64_INIT  0xcbf29ce484222325ULL /* FNV-1a's 64-bit offset basis */
#define PV_SUM64_PRIME 0x100000001b3ULL	     /* FNV's 64-bit prime */

/*
 * Continue the sum @h over @bytes bytes at @p (any alignment) and return it.
 * Start with PV_SUM64_INIT.  A buffer may be summed in pieces: every piece
 * but the last must be a multiple of 8 bytes long, because a partial word
 * is zero-padded and ends the sum.
 */
uint64_t pv_sum64(uint64_t h, const void *p, size_t bytes);

/*
 * The contents pvboot gives a ramdisk it makes from a size alone (`pvboot
 * run --ramdisk-size`, `pvboot simulate`): 64-bit little-endian word i is
 * splitmix64(@seed + i), so any part can be made on its own.  Fills
 * @bytes at byte @offset of the ramdisk (@offset a multiple of 8).
 */
void pv_pattern(uint64_t seed, uint64_t offset, void *buf, size_t bytes);

/*
 * pv_sum64 over the whole pattern ramdisk of @bytes bytes (pv_pattern
 * seeded with @bytes): what the guest should find in a ramdisk pvboot made
 * from a size.  Computed word by word, without a buffer.
 */
uint64_t pv_pattern_sum(uint64_t bytes);

#endif
