/*
 * The seed's guest: the 128 GiB PV guest of the 2012 posting whose builder
 * log pvboot reproduces (docs/builders.md section 8), built by libxc 4.2.
 * Every part of a guest a user leaves out is the seed's.
 *
 *   memory   0x2000000 pages of 4 KiB            131072 MiB
 *   kernel   0xffffffff81000000-0xffffffff81e43000  pfn 0x1000 + 0xe43
 *   ramdisk  0x10784000 bytes                    pfn 0x1e43 + 0x10784
 *
 * Freestanding: constants only.
 */
#ifndef PVBOOT_SEED_H
#define PVBOOT_SEED_H

#define PV_SEED_NR_PAGES      0x2000000ULL	    /* 128 GiB of 4 KiB pages */
#define PV_SEED_KSTART	      0xffffffff81000000ULL /* virt_kstart: __ka + 16 MiB */
#define PV_SEED_KEND	      0xffffffff81e43000ULL /* virt_kend */
#define PV_SEED_RAMDISK_BYTES 0x10784000ULL	    /* 0x10784 pages */

#endif
