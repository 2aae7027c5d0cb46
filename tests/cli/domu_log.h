/*
 * A PV kernel image with the extent of pvboot's kernel, and the serial log
 * `pvboot run --domu` records when Xen boots the Linux dom0 and `xl -vvv
 * create` builds that kernel as a domU: what the domU run tests replay
 * (--serial-log) and what their stand-in for QEMU plays.  Include after
 * <cmocka.h>.
 */
#ifndef PVBOOT_TEST_DOMU_LOG_H
#define PVBOOT_TEST_DOMU_LOG_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/run.h"

/* pvboot's kernel (make's build/pvboot-kernel.elf) and the seed's extent. */
#define DOMU_KSTART	0xffffffff81000000ULL
#define DOMU_PLAIN_SIZE 0x1d000ULL
#define DOMU_SEED_SIZE	0xe43000ULL

static size_t domu_put(uint8_t *b, size_t at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[at + i] = (uint8_t)(v >> (8 * i));
	return at + (size_t)bytes;
}

static size_t domu_note(uint8_t *b, size_t at, uint32_t type, uint64_t v, const char *str)
{
	size_t len = str ? strlen(str) + 1 : 8;

	at = domu_put(b, at, 4, 4);
	at = domu_put(b, at, len, 4);
	at = domu_put(b, at, type, 4);
	memcpy(b + at, "Xen", 4);
	at += 4;
	if (str)
		memcpy(b + at, str, len);
	else
		domu_put(b, at, v, 8);
	return at + ((len + 3) & ~(size_t)3);
}

/*
 * Write to @path an ELF64 PV kernel of notes only, linked at
 * 0xffffffff81000000 (paddr 0x1000000) for @size bytes, VIRT_BASE
 * 0xffffffff80000000, as pvboot's kernel is, with an INIT_P2M note when
 * @init_p2m is not 0; returns @path.
 */
static const char *domu_kernel_write(const char *path, uint64_t size, uint64_t init_p2m)
{
	const uint64_t vb = 0xffffffff80000000ULL;
	static const uint8_t magic[] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	uint8_t b[1024] = {0}, n[512] = {0};
	size_t nlen = 0, at;
	FILE *f;

	nlen = domu_note(n, nlen, 5, 0, "xen-3.0");		  /* XEN_VERSION */
	nlen = domu_note(n, nlen, 8, 0, "generic");		  /* LOADER */
	nlen = domu_note(n, nlen, 3, vb, NULL);			  /* VIRT_BASE */
	nlen = domu_note(n, nlen, 4, 0, NULL);			  /* PADDR_OFFSET */
	nlen = domu_note(n, nlen, 1, DOMU_KSTART, NULL);	  /* ENTRY */
	nlen = domu_note(n, nlen, 2, DOMU_KSTART + 0x1000, NULL); /* HYPERCALL_PAGE */
	if (init_p2m)
		nlen = domu_note(n, nlen, 15, init_p2m, NULL); /* INIT_P2M */
	memcpy(b, magic, sizeof(magic));
	at = domu_put(b, 16, 2, 2);		   /* ET_EXEC */
	at = domu_put(b, at, 62, 2);		   /* EM_X86_64 */
	at = domu_put(b, at, 1, 4);		   /* EV_CURRENT */
	at = domu_put(b, at, DOMU_KSTART, 8);	   /* e_entry */
	at = domu_put(b, at, 64, 8);		   /* e_phoff */
	at = domu_put(b, at, 0, 8);		   /* e_shoff */
	at = domu_put(b, at, 0, 4);		   /* e_flags */
	at = domu_put(b, at, 64, 2);		   /* e_ehsize */
	at = domu_put(b, at, 56, 2);		   /* e_phentsize */
	at = domu_put(b, at, 2, 2);		   /* e_phnum */
	at = domu_put(b, at, 64, 2);		   /* e_shentsize */
	at = domu_put(b, at, 0, 4);		   /* e_shnum, e_shstrndx */
	at = domu_put(b, at, 1, 4);		   /* PT_LOAD */
	at = domu_put(b, at, 7, 4);		   /* RWX */
	at = domu_put(b, at, 0, 8);		   /* p_offset */
	at = domu_put(b, at, DOMU_KSTART, 8);	   /* p_vaddr */
	at = domu_put(b, at, DOMU_KSTART - vb, 8); /* p_paddr */
	at = domu_put(b, at, 0, 8);		   /* p_filesz */
	at = domu_put(b, at, size, 8);		   /* p_memsz */
	at = domu_put(b, at, 0x1000, 8);
	at = domu_put(b, at, 4, 4); /* PT_NOTE */
	at = domu_put(b, at, 4, 4);
	at = domu_put(b, at, 64 + 2 * 56, 8);
	at = domu_put(b, at, 0, 8);
	at = domu_put(b, at, 0, 8);
	at = domu_put(b, at, nlen, 8);
	at = domu_put(b, at, nlen, 8);
	at = domu_put(b, at, 4, 8);
	memcpy(b + at, n, nlen);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, at + nlen, f), at + nlen);
	fclose(f);
	return path;
}

/* How the domU run the log records went. */
enum domu_end {
	DOMU_POWEROFF, /* xl create worked, the domU powered off, the dom0 finished */
	DOMU_CRASH,    /* ... the domU crashed, after a PVBOOT-RESULT with an error */
	DOMU_XL_FAIL,  /* xl create failed with status 3: no domU, PVBOOT-DOM0-ERROR */
};

/*
 * Write to @path the log `pvboot run --domu` records when @kernel boots as
 * a domU with @guest (pvboot's guest options, say "--memory 512M") in
 * @mode, ending as @end says:
 *
 *   Xen's banner and its dom0 build, the dom0 Linux's first line;
 *   scripts/dom0-init's markers, the xl config, and xl's output with the
 *     builder's lines as `pvboot layout --builder libxc-4.17 --format log`
 *     prints them behind "domainbuilder: detail: ", among other lines of
 *     the builder's that pvboot must skip;
 *   the guest's console: "pvboot:" lines and PVBOOT-RESULT as `pvboot
 *     simulate --builder libxc-4.17` prints them;
 *   pvboot run's "[  t.ttt] " stamps and "pvboot-run: QEMU exited with status 0".
 *
 * The stamps are fixed: Xen at 0.600 s, the dom0 build at 2.200, Linux at
 * 4.800, DOM0-READY and XL-BEGIN at 10.900, XL-END at 11.600, DOMU at
 * 11.800, the guest's console from 12.300, GUEST-END at 12.350, the
 * dom0's last word at 12.400, QEMU's exit at 13.160.  Returns @path.
 */
static const char *domu_log_write(const char *path, const char *kernel, const char *guest,
				  const char *mode, enum domu_end end)
{
	const char *pvboot = getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
	static const char *const xl_end[] = {
		[DOMU_POWEROFF] = "echo 'PVBOOT-XL-END status=0 seconds=0.61' && "
				  "echo 'PVBOOT-DOMU state=shutdown reason=poweroff seconds=0.26' && "
				  "echo PVBOOT-GUEST-BEGIN && "
				  "grep -e '^pvboot: ' -e '^PVBOOT-RESULT ' \"$L.sim\" && "
				  "echo PVBOOT-GUEST-END && echo PVBOOT-DOM0-DONE",
		[DOMU_CRASH] = "echo 'PVBOOT-XL-END status=0 seconds=0.61' && "
			       "echo 'PVBOOT-DOMU state=shutdown reason=crash seconds=0.26' && "
			       "echo PVBOOT-GUEST-BEGIN && "
			       "grep -e '^pvboot: ' -e '^PVBOOT-RESULT ' \"$L.sim\" | "
			       "sed 's/\"error\":\"\"/\"error\":\"verify: pfn 0x42 maps mfn 0x0\"/' && "
			       "echo PVBOOT-GUEST-END && echo PVBOOT-DOM0-DONE",
		[DOMU_XL_FAIL] =
			"echo 'libxl: error: libxl_dom.c:593:libxl__build_dom: xc_dom_build_image failed: Out of memory' && "
			"echo 'PVBOOT-XL-END status=3 seconds=0.40' && "
			"echo 'PVBOOT-DOM0-ERROR xl create failed (status 3)'",
	};
	struct run r =
		run_sh("L='%5$s'; "
		       "'%1$s' layout --builder libxc-4.17 --kernel '%2$s' %3$s --format log > \"$L.layout\" && "
		       "'%1$s' simulate --builder libxc-4.17 --kernel '%2$s' %3$s --mode %4$s > \"$L.sim\" && "
		       "{ echo '(XEN) Xen version 4.17.7 (Debian 4.17.7+13-g2445b30a44-0+deb12u1) "
		       "(pkg-xen-devel@lists.alioth.debian.org) debug=n Wed Nov  4 16:52:28 UTC 2026' && "
		       "echo '(XEN) *** Building a PV Dom0 ***' && "
		       "echo '[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)' && "
		       "echo 'PVBOOT-DOM0-READY uptime=10.52' && "
		       "echo PVBOOT-XL-CONFIG-BEGIN && echo 'name = \"pvboot\"' && echo 'type = \"pv\"' && "
		       "echo 'kernel = \"/guest/kernel.elf\"' && echo 'extra = \"mode=%4$s verify=full\"' && "
		       "echo 'on_poweroff = \"preserve\"' && echo PVBOOT-XL-CONFIG-END && "
		       "echo PVBOOT-XL-BEGIN && echo 'Parsing config from /run/pvboot/xl.cfg' && "
		       "echo 'domainbuilder: detail: xc_dom_build_image: called' && "
		       "sed -e 's/^/domainbuilder: detail: /' "
		       "-e '/xc_dom_alloc_segment/i domainbuilder: detail: xc_dom_pfn_to_ptr_retcount: domU mapping: pfn 0x1000+0x1d at 0x7fc4b1bd4000' "
		       "\"$L.layout\" && "
		       "echo 'domainbuilder: detail: xc_dom_release: called' && %6$s && "
		       "echo '(XEN) Preparing system for ACPI S5 state.'; } | "
		       "awk 'BEGIN { t = 0.600 } "
		       "/^\\(XEN\\) \\*\\*\\* Building/ { t = 2.200 } /Linux version/ { t = 4.800 } "
		       "/^PVBOOT-DOM0-READY/ { t = 10.900 } /^PVBOOT-XL-END/ { t = 11.600 } "
		       "/^PVBOOT-DOMU/ { t = 11.800 } /^PVBOOT-GUEST-BEGIN/ { t = 12.300 } "
		       "/^PVBOOT-GUEST-END/ { t = 12.350 } /^PVBOOT-DOM0-(DONE|ERROR)/ { t = 12.400 } "
		       "{ printf \"[%%7.3f] %%s\\n\", t, $0 } "
		       "END { printf \"[%%7.3f] pvboot-run: QEMU exited with status 0\\n\", 13.160 }' > \"$L\" && "
		       "grep -q PVBOOT-XL-END \"$L\" && rm \"$L.layout\" \"$L.sim\"",
		       pvboot, kernel, guest, mode, path, xl_end[end]);

	if (r.status)
		fail_msg("cannot make %s: %s", path, r.err);
	run_free(&r);
	return path;
}

#endif
