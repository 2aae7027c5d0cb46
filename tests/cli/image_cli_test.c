/*
 * pvboot inspect, layout --kernel and limits --kernel on real images: the
 * fixtures of tests/image and Debian's current kernel; and broken files,
 * which must give one line on stderr and status 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/run.h"

static char kernel[1024]; /* Debian's vmlinuz, from scripts/fetch-debian */

static const char *pvboot(void)
{
	return getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot";
}

static const char *fixtures(void)
{
	static char dir[600];

	snprintf(dir, sizeof(dir), "%s/fixtures",
		 getenv("PVBOOT_CACHE") ? getenv("PVBOOT_CACHE") : "build/cache");
	return dir;
}

static int setup(void **state)
{
	struct run r = run_sh("sh tests/image/mkfixtures.sh && scripts/fetch-debian");
	const char *k;

	(void)state;
	k = strstr(r.out, "kernel=");
	if (r.status || !k) {
		fprintf(stderr, "fixtures or the Debian download failed: %s\n", r.err);
		run_free(&r);
		return -1;
	}
	sscanf(k, "kernel=%1023s", kernel);
	run_free(&r);
	return 0;
}

static void test_inspect_fixture(void **state)
{
	struct run r;

	(void)state;
	r = run_pvboot("inspect '%s/xen.elf'", fixtures());
	assert_int_equal(r.status, 0);
	for (const char *want[] = {"15 INIT_P2M            0x8000000000",
				   "16 MOD_START_PFN       0x1",
				   "17 SUPPORTED_FEATURES  0x801",
				   "18 PHYS32_ENTRY        0x1000040",
				   "19 PHYS32_RELOC",
				   "kernel           0xffffffff81000000 -> 0xffffffff81006000",
				   NULL},
			*const *w = want;
	     *w; w++)
		if (!strstr(r.out, *w))
			fail_msg("inspect does not show '%s':\n%s", *w, r.out);
	run_free(&r);

	/* The same notes from every compressed form, in JSON. */
	for (const char *c[] = {"gzip", "bzip2", "xz", "lzma", "lzo", "lz4", "zstd", NULL},
			*const *comp = c;
	     *comp; comp++) {
		r = run_sh("'%s' inspect --format json '%s/xen.%s.bzImage' | jq -r '[.format, "
			   ".compression, ([.notes[].name] | join(\",\")), .parms.virt_kstart, "
			   ".parms.virt_kend, .parms.p2m_base] | join(\" \")'",
			   pvboot(), fixtures(), *comp);
		assert_int_equal(r.status, 0);
		{
			char want[512];

			snprintf(want, sizeof(want),
				 "bzImage %s INFO,ENTRY,HYPERCALL_PAGE,VIRT_BASE,PADDR_OFFSET,"
				 "XEN_VERSION,GUEST_OS,GUEST_VERSION,LOADER,PAE_MODE,FEATURES,"
				 "HV_START_LOW,L1_MFN_VALID,SUSPEND_CANCEL,INIT_P2M,MOD_START_PFN,"
				 "SUPPORTED_FEATURES,PHYS32_ENTRY,PHYS32_RELOC 0xffffffff81000000 "
				 "0xffffffff81006000 0x8000000000\n",
				 *comp);
			assert_string_equal(r.out, want);
		}
		run_free(&r);
	}
}

static void test_inspect_debian(void **state)
{
	struct run r;

	(void)state;
	r = run_sh("'%s' inspect --format json '%s' | jq -r '[.format, .compression, "
		   ".parms.guest_os, .parms.virt_base, .parms.virt_kstart, .parms.p2m_base, "
		   ".parms.unmapped_initrd] | map(tostring) | join(\" \")'",
		   pvboot(), kernel);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "bzImage xz linux 0xffffffff80000000 0xffffffff81000000 "
				   "0x8000000000 true\n");
	run_free(&r);
}

/*
 * Xen 4.17.7 built a dom0 from this Debian kernel
 * (docs/real-xen.md section 10, fixture xen-10.1-linux-2048M.log); the
 * arrangement pvboot predicts must start from the kernel's own extent.
 */
static void test_layout_debian_kernel(void **state)
{
	struct run k, r;
	char kstart[32], kend[32], entry[32], line[256];

	(void)state;
	k = run_sh("'%s' inspect --format json '%s' | jq -r '.parms | [.virt_kstart, .virt_kend, "
		   ".virt_entry] | join(\" \")'",
		   pvboot(), kernel);
	assert_int_equal(k.status, 0);
	assert_int_equal(sscanf(k.out, "0x%31s 0x%31s 0x%31s", kstart, kend, entry), 3);
	run_free(&k);

	r = run_pvboot("layout --kernel '%s' --builder xen-4.17-dom0 --memory 2048M "
		       "--ramdisk-size 0x110e1e --format log",
		       kernel);
	assert_int_equal(r.status, 0);
	snprintf(line, sizeof(line), " Loaded kernel: %s->%s\n", kstart, kend);
	assert_non_null(strstr(r.out, line));
	snprintf(line, sizeof(line), " ENTRY ADDRESS: %s\n", entry);
	assert_non_null(strstr(r.out, line));
	assert_non_null(strstr(r.out, " Phys-Mach map: 0000008000000000->0000008000400000\n"));
	assert_null(strstr(r.out, "Init. ramdisk")); /* MOD_START_PFN: not mapped */
	if (!strcmp(kend, "ffffffff84a00000"))
		/* The very kernel of the measurement: every line as Xen printed it. */
		assert_non_null(strstr(r.out, " Start info:    ffffffff84a00000->ffffffff84a004b8\n"
					      " Page tables:   ffffffff84a01000->ffffffff84a2a000\n"
					      " Boot stack:    ffffffff84a2a000->ffffffff84a2b000\n"
					      " TOTAL:         ffffffff80000000->ffffffff84c00000\n"));
	run_free(&r);

	/* libxenguest honours INIT_P2M and MOD_START_PFN; libxc 4.2 knew neither. */
	r = run_sh("'%s' layout --kernel '%s' --builder libxc-4.17 --format json | jq -r "
		   "'[(.segments[] | select(.name==\"p2m\" or .name==\"module0\") | .name + \"=\" + "
		   "(.mapped | tostring)), (.warnings | map(.code) | join(\",\"))] | join(\" \")'",
		   pvboot(), kernel);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "module0=false p2m=false \n");
	run_free(&r);
	r = run_sh("'%s' layout --kernel '%s' --builder libxc-4.2 --format json | jq -r "
		   "'[.warnings[].code] | join(\",\")'",
		   pvboot(), kernel);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "modules-vaddr-overlap,p2m-in-kernel-mapping\n");
	run_free(&r);

	r = run_sh("'%s' limits --kernel '%s' --format json | jq -r '.builders[] | [.builder, "
		   "(.limits[] | select(.code==\"modules-vaddr-overlap\") | .status)] | join(\" \")'",
		   pvboot(), kernel);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "libxc-4.2 reached\nlibxc-4.17 never\nxen-4.17-dom0 never\n");
	run_free(&r);
}

/* A gzip ramdisk: libxc sizes it ISIZE + 16 (4.2), at least the file (4.17); Xen as it is. */
static void test_gzip_ramdisk(void **state)
{
	struct run r;
	char f[700];

	(void)state;
	snprintf(f, sizeof(f), "%s/initrd.gz", scratch_dir());
	r = run_sh("yes pvboot-initrd | head -c 1048576 | gzip -n -9 > '%s'", f);
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run_sh("isize=$(tail -c 4 '%s' | od -An -tu4 | tr -d ' '); size=$(stat -c %%s '%s'); "
		   "for b in libxc-4.2 libxc-4.17 xen-4.17-dom0; do "
		   "'%s' layout --builder $b --ramdisk '%s' --format json | jq -r .ramdisk_bytes; done; "
		   "echo $((isize + 16)) $size",
		   f, f, pvboot(), f);
	assert_int_equal(r.status, 0);
	{
		unsigned long long b42, b417, bx, want, size;

		assert_int_equal(sscanf(r.out, "%llu %llu %llu %llu %llu", &b42, &b417, &bx, &want,
					&size),
				 5);
		assert_int_equal(b42, want);
		assert_int_equal(b417, want > size ? want : size);
		assert_int_equal(bx, size);
		assert_true(want != size);
	}
	run_free(&r);
}

static void test_bad_files(void **state)
{
	static const char *const bad[] = {"baddesc.elf", "badname.elf", "nonotes.elf",
					  "noversion.elf", "xen32.elf", "manynotes.elf", NULL};
	struct run r;

	(void)state;
	r = run_sh("head -c 200 '%s/xen.elf' > '%s/trunc.elf' && "
		   "head -c 1500 '%s/xen.xz.bzImage' > '%s/trunc.bzImage' && "
		   "head -c 65536 /dev/urandom > '%s/random.bin' && : > '%s/empty' && "
		   "echo 'not a kernel' > '%s/text'",
		   fixtures(), scratch_dir(), fixtures(), scratch_dir(), scratch_dir(), scratch_dir(),
		   scratch_dir());
	assert_int_equal(r.status, 0);
	run_free(&r);
	for (const char *const *b = bad; *b; b++) {
		r = run_sh("test -s '%s/%s'", fixtures(), *b);
		assert_int_equal(r.status, 0); /* a missing file would prove nothing */
		run_free(&r);
		r = run_pvboot("inspect '%s/%s'", fixtures(), *b);
		print_message("%s -> %d %s", *b, r.status, r.err);
		assert_int_equal(r.status, 1);
		assert_int_equal(count_lines(r.err), 1);
		assert_non_null(strstr(r.err, *b));
		assert_string_equal(r.out, "");
		run_free(&r);
		r = run_pvboot("layout --kernel '%s/%s'", fixtures(), *b);
		assert_int_equal(r.status, 1);
		assert_int_equal(count_lines(r.err), 1);
		run_free(&r);
	}
	for (const char *t[] = {"trunc.elf", "trunc.bzImage", "random.bin", "empty", "text", NULL},
			*const *b = t;
	     *b; b++) {
		r = run_pvboot("inspect '%s/%s'", scratch_dir(), *b);
		print_message("%s -> %d %s", *b, r.status, r.err);
		assert_int_equal(r.status, 1);
		assert_int_equal(count_lines(r.err), 1);
		run_free(&r);
	}
	r = run_pvboot("layout --ramdisk '%s/empty'", scratch_dir());
	assert_int_equal(r.status, 1);
	assert_int_equal(count_lines(r.err), 1);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect_fixture),
		cmocka_unit_test(test_inspect_debian),
		cmocka_unit_test(test_layout_debian_kernel),
		cmocka_unit_test(test_gzip_ramdisk),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
