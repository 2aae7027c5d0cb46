/*
 * A PV kernel image of minipv's shape, and the serial log `pvboot run`
 * would record for it: what the run tests replay (--serial-log) and what
 * their stand-in for QEMU plays.  Include after <cmocka.h>.
 */
#ifndef PVBOOT_TEST_RUN_LOG_H
#define PVBOOT_TEST_RUN_LOG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/run.h"

static size_t minipv_put(uint8_t *b, size_t at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
	return at + (size_t)bytes;
}

static size_t minipv_note(uint8_t *b, size_t at, uint32_t type, uint64_t v, int bytes, const char *str)
{
	size_t len = str ? strlen(str) + 1 : (size_t)bytes;

	at = minipv_put(b, at, 4, 4);
	at = minipv_put(b, at, len, 4);
	at = minipv_put(b, at, type, 4);
	memcpy(b + at, "Xen", 4);
	at += 4;
	if (str)
		memcpy(b + at, str, len);
	else
		minipv_put(b, at, v, bytes);
	return at + ((len + 3) & ~(size_t)3);
}

/*
 * Xen's line for the image minipv_write makes, as Xen 4.17 prints it
 * (docs/real-xen.md section 10, fixture xen-10.3-minipv-512M.log:
 * "paddr %#lx -> %#lx"): the prediction's must be this one.
 */
#define MINIPV_XEN_KERNEL_LINE "(XEN)  Dom0 kernel: 64-bit, lsb, paddr 0 -> 0x8420"

/*
 * Write an ELF64 PV kernel of notes only to @path: linked at
 * 0xffffffff80000000, paddr 0 to 0x8420, so Xen's arrangement for it is
 * minipv's (docs/real-xen.md section 10, fixture xen-10.3-minipv-512M.log);
 * @init_p2m adds the INIT_P2M note when not 0.
 */
static void minipv_write(const char *path, uint64_t init_p2m)
{
	const uint64_t vb = 0xffffffff80000000;
	static const uint8_t magic[] = {0x7f, 'E', 'L', 'F', 2, 1, 1}; /* 64-bit, LE, v1 */
	uint8_t b[1024] = {0}, n[512] = {0};
	size_t nlen = 0, at;
	FILE *f;

	nlen = minipv_note(n, nlen, 5, 0, 0, "xen-3.0"); /* XEN_VERSION */
	nlen = minipv_note(n, nlen, 8, 0, 0, "generic"); /* LOADER */
	nlen = minipv_note(n, nlen, 3, vb, 8, NULL);	 /* VIRT_BASE */
	nlen = minipv_note(n, nlen, 4, 0, 8, NULL);	 /* PADDR_OFFSET */
	nlen = minipv_note(n, nlen, 1, vb, 8, NULL);	 /* ENTRY */
	if (init_p2m)
		nlen = minipv_note(n, nlen, 15, init_p2m, 8, NULL);
	memcpy(b, magic, sizeof(magic));
	at = minipv_put(b, 16, 2, 2);	   /* ET_EXEC */
	at = minipv_put(b, at, 62, 2);	   /* EM_X86_64 */
	at = minipv_put(b, at, 1, 4);	   /* EV_CURRENT */
	at = minipv_put(b, at, vb, 8);	   /* e_entry */
	at = minipv_put(b, at, 64, 8);	   /* e_phoff */
	at = minipv_put(b, at, 0, 8);	   /* e_shoff */
	at = minipv_put(b, at, 0, 4);	   /* e_flags */
	at = minipv_put(b, at, 64, 2);	   /* e_ehsize */
	at = minipv_put(b, at, 56, 2);	   /* e_phentsize */
	at = minipv_put(b, at, 2, 2);	   /* e_phnum */
	at = minipv_put(b, at, 64, 2);	   /* e_shentsize */
	at = minipv_put(b, at, 0, 4);	   /* e_shnum, e_shstrndx */
	at = minipv_put(b, at, 1, 4);	   /* PT_LOAD */
	at = minipv_put(b, at, 7, 4);	   /* RWX */
	at = minipv_put(b, at, 0, 8);	   /* p_offset */
	at = minipv_put(b, at, vb, 8);	   /* p_vaddr */
	at = minipv_put(b, at, 0, 8);	   /* p_paddr */
	at = minipv_put(b, at, 0, 8);	   /* p_filesz */
	at = minipv_put(b, at, 0x8420, 8); /* p_memsz */
	at = minipv_put(b, at, 0x1000, 8);
	at = minipv_put(b, at, 4, 4); /* PT_NOTE */
	at = minipv_put(b, at, 4, 4);
	at = minipv_put(b, at, 64 + 2 * 56, 8);
	at = minipv_put(b, at, 0, 8);
	at = minipv_put(b, at, 0, 8);
	at = minipv_put(b, at, nlen, 8);
	at = minipv_put(b, at, nlen, 8);
	at = minipv_put(b, at, 4, 8);
	memcpy(b + at, n, nlen);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, at + nlen, f), at + nlen);
	fclose(f);
}

/*
 * Write to @path the serial log `pvboot run` records when @kernel (made by
 * minipv_write) boots as dom0 with @guest (pvboot's guest options, say
 * "--memory 512M --ramdisk-size 1117726") in @mode and QEMU exits with
 * @status, as a real run would leave it in build/run-logs:
 *
 *   Xen's banner and its lines for the build, the kernel lines and the
 *     VIRTUAL MEMORY ARRANGEMENT as `pvboot layout --builder xen-4.17-dom0
 *     --format log` prints them, the PHYSICAL heading between them;
 *   the kernel's "pvboot:" lines and its PVBOOT-RESULT, as
 *     `pvboot simulate --builder xen-4.17-dom0` prints them;
 *   pvboot run's "[  t.ttt] " stamps and its last line, "pvboot-run: QEMU
 *     exited with status N".
 *
 * The stamps are fixed: Xen starts at 0.152 s and builds dom0 at 1.080 s,
 * the kernel's first line is at 1.130 s and its result at 1.350 s, QEMU
 * exits at 1.361 s.  Returns @path.
 */
static const char *run_log_write(const char *path, const char *kernel, const char *guest,
				 const char *mode, int status)
{
	const char *pvboot = getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
	struct run r =
		run_sh("'%1$s' layout --builder xen-4.17-dom0 --kernel '%2$s' %3$s --format log "
		       "> '%5$s.layout' && "
		       "'%1$s' simulate --builder xen-4.17-dom0 --kernel '%2$s' %3$s --mode %4$s "
		       "> '%5$s.sim' && "
		       "{ echo '(XEN) Xen version 4.17.7 (Debian 4.17.7+13-g2445b30a44-0+deb12u1) "
		       "(pkg-xen-devel@lists.alioth.debian.org) (x86_64-linux-gnu-gcc (Debian "
		       "12.2.0-14+deb12u1) 12.2.0) debug=n Wed Nov  4 16:52:28 UTC 2026' && "
		       "echo '(XEN) *** Building a PV Dom0 ***' && "
		       "sed -n '1,2s/^/(XEN) /p' '%5$s.layout' && "
		       "echo '(XEN) PHYSICAL MEMORY ARRANGEMENT:' && "
		       "sed '1,2d; s/^/(XEN) /' '%5$s.layout' && "
		       "echo '(XEN) Dom0 has maximum 1 VCPUs' && "
		       "echo '(XEN) Freed 656kB init memory' && "
		       "grep -e '^pvboot: ' -e '^PVBOOT-RESULT ' '%5$s.sim'; } | "
		       "awk -v status=%6$d 'BEGIN { t = 0.152 } "
		       "/^\\(XEN\\) \\*\\*\\* Building a PV Dom0/ { t = 1.080 } "
		       "/^pvboot: / && !k++ { t = 1.130 } "
		       "/^PVBOOT-RESULT / { t = 1.350 } "
		       "{ printf \"[%%7.3f] %%s\\n\", t, $0 } "
		       "END { printf \"[%%7.3f] pvboot-run: QEMU exited with status %%d\\n\", 1.361, status }' "
		       "> '%5$s' && "
		       "grep -q 'VIRTUAL MEMORY ARRANGEMENT' '%5$s' && grep -q PVBOOT-RESULT '%5$s' && "
		       "grep -qF '] " MINIPV_XEN_KERNEL_LINE "' '%5$s' && "
		       "rm '%5$s.layout' '%5$s.sim'",
		       pvboot, kernel, guest, mode, path, status);

	if (r.status)
		fail_msg("cannot make %s: %s", path, r.err);
	run_free(&r);
	return path;
}

#endif
