/*
 * The host side of pvboot run, in process: QEMU's size, command line and
 * comma escaping (src/cli/run_qemu.c), the ramdisk (src/cli/run_ramdisk.c,
 * with pv_sum64 and pv_pattern from src/core/pvsum.c) on values computed
 * independently, in Python, and fetching Xen (src/cli/run_xen.c) with
 * stand-ins for apt-get, sudo and dpkg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <pvboot/pvsum.h>

#include "../../src/harness/harness_priv.h"
#include "util/run.h"

static const char *scratch(const char *name)
{
	static char path[700];

	snprintf(path, sizeof(path), "%s/%s", scratch_dir(), name);
	return path;
}

static void test_pvsum(void **state)
{
	uint8_t seq[100];

	(void)state;
	for (int i = 0; i < 100; i++)
		seq[i] = (uint8_t)i;
	assert_int_equal(pv_sum64(PV_SUM64_INIT, "", 0), 0xcbf29ce484222325ULL);
	assert_int_equal(pv_sum64(PV_SUM64_INIT, "abc", 3), 0xce81dc4cbae1e68cULL);
	assert_int_equal(pv_sum64(PV_SUM64_INIT, "\x01\x02\x03\x04\x05\x06\x07\x08", 8),
			 0x1b77512cb84b502cULL);
	assert_int_equal(pv_sum64(PV_SUM64_INIT, seq, 100), 0x49eeda006bfd851fULL);
	/* In pieces of whole words, then the rest. */
	assert_int_equal(pv_sum64(pv_sum64(PV_SUM64_INIT, seq, 64), seq + 64, 36),
			 0x49eeda006bfd851fULL);
	assert_int_equal(pv_sum64(PV_SUM64_INIT, seq + 1, 99),
			 pv_sum64(pv_sum64(PV_SUM64_INIT, seq + 1, 8), seq + 9, 91));
}

static void test_pattern_ramdisk(void **state)
{
	static const uint8_t want20[20] = {0x8c, 0x81, 0x16, 0x48, 0x90, 0x59, 0x22,
					   0x36, 0xc7, 0x25, 0xe8, 0xb7, 0x95, 0x0a,
					   0xca, 0x06, 0x0a, 0x0e, 0xd6, 0xd4};
	uint8_t buf[20];
	char path[PATH_MAX];
	struct pv_error err = {0};
	struct stat st1, st2;
	uint64_t sum = 0, bytes = 0;
	FILE *f;

	(void)state;
	assert_int_equal(pv_pattern_sum(20), 0xcc1a19979fc184caULL);
	assert_int_equal(pv_pattern_sum(4096), 0x491eb03c32cb0774ULL);
	assert_int_equal(pv_pattern_sum(0x110e1e), 0xa8bc9d7dec4c3c25ULL);

	/* Made once under the cache, with the pattern's bytes; then reused as it is. */
	if (run_ramdisk_make(scratch("cache"), 20, path, sizeof(path), &sum, NULL, &err))
		fail_msg("%s", err.msg);
	assert_non_null(strstr(path, "/cache/ramdisks/splitmix64-20.img"));
	assert_int_equal(sum, 0xcc1a19979fc184caULL);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, sizeof(buf), f), 20);
	fclose(f);
	assert_memory_equal(buf, want20, 20);
	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_size, 20);
	sum = 0;
	assert_int_equal(run_ramdisk_make(scratch("cache"), 20, path, sizeof(path), &sum, NULL, &err), 0);
	assert_int_equal(sum, 0xcc1a19979fc184caULL);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(run_file_sum(path, &sum, &bytes, &err), 0);
	assert_int_equal(bytes, 20);
	assert_int_equal(sum, 0xcc1a19979fc184caULL);
	assert_int_equal(run_file_sum(scratch("no-such-file"), &sum, &bytes, &err), -1);
	assert_int_equal(err.code, PV_ERR_IO);
}

/* ---- QEMU's size and command line ---- */

static void test_escape_commas(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"", ""}, {"a", "a"}, {"a,b", "a,,b"}, {",", ",,"}, {"x,,y,", "x,,,,y,,"},
	};
	char buf[32], small[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run_escape_commas(cases[i].in, buf, sizeof(buf)),
				 strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
	}
	/* Truncated, terminated, and the length it needed. */
	assert_int_equal(run_escape_commas("a,b,c", small, sizeof(small)), 7);
	assert_string_equal(small, "a,,");
}

static void test_qemu_size(void **state)
{
	static const struct {
		uint64_t dom0, ramdisk, mib;
		bool phys_bits_42;
	} cases[] = {
		{128ULL << 30, 0x10784000, 136704, false}, /* the seed's guest */
		{512ULL << 20, 0, 1792, false},
		{8ULL << 30, 0x19111200, 9984, false},
		/* docs/real-xen.md section 4: 1000 GiB needs more than 40 bits. */
		{1000ULL << 30, 0, 1057024, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t mib = run_qemu_mib(cases[i].dom0, cases[i].ramdisk);

		assert_int_equal(mib, cases[i].mib);
		assert_int_equal(mib % 256, 0);
		assert_int_equal(run_qemu_ram_top(mib) >= (1ULL << 40), cases[i].phys_bits_42);
	}
	assert_int_equal(run_qemu_ram_top(1792), 1792ULL << 20);
	assert_int_equal(run_qemu_ram_top(4096), 5ULL << 30);
	/* QEMU's RSS at 1000 GiB: 12.5 GiB by the estimate, 12.7 GB measured. */
	assert_int_equal(run_host_need(1057024, 1000ULL << 30, 0), 13390315520ULL);
}

static const char *arg_after(const struct run_cmdline *c, const char *opt)
{
	for (unsigned i = 0; i + 1 < c->argc; i++)
		if (!strcmp(c->argv[i], opt))
			return c->argv[i + 1];
	fail_msg("no %s", opt);
	return NULL;
}

static void test_qemu_cmdline(void **state)
{
	struct run_plan p = {
		.kind = &run_kind_dom0,
		.g.kernel = "/k,1/pvboot-kernel.elf",
		.ramdisk = true,
		.ramdisk_path = "/r,d.img",
		.memory = 512ULL << 20,
		.ramdisk_bytes = 0x110e1e,
		.ramdisk_sum = 0xa8bc9d7dec4c3c25ULL,
		.qemu_mib = 1792,
		.xen = "/c/xen-4.17",
		.verify_full = true,
	};
	struct run_cmdline *c = calloc(1, sizeof(*c));
	struct pv_error err = {0};

	(void)state;
	assert_int_equal(run_dom0_cmdline(&p, PV_MODE_NO_REVECTOR, c, &err), 0);
	assert_string_equal(c->argv[0], "qemu-system-x86_64");
	assert_null(c->argv[c->argc]);
	assert_string_equal(arg_after(c, "-accel"), "tcg");
	assert_string_equal(arg_after(c, "-cpu"), "max,-smap");
	assert_string_equal(arg_after(c, "-smp"), "1");
	assert_string_equal(arg_after(c, "-serial"), "stdio");
	assert_string_equal(arg_after(c, "-device"), "isa-debug-exit,iobase=0xf4,iosize=0x04");
	assert_string_equal(arg_after(c, "-object"),
			    "memory-backend-ram,id=m0,size=1792M,reserve=off");
	assert_string_equal(arg_after(c, "-machine"), "memory-backend=m0");
	assert_string_equal(arg_after(c, "-m"), "1792");
	assert_string_equal(arg_after(c, "-kernel"), "/c/xen-4.17");
	assert_string_equal(arg_after(c, "-append"),
			    "console=com1 com1=115200 dom0_mem=512M,max:512M dom0_max_vcpus=1 bootscrub=0 loglvl=all guest_loglvl=all");
	assert_string_equal(arg_after(c, "-initrd"),
			    "/k,,1/pvboot-kernel.elf mode=no-revector verify=full ramdisk_sum=0xa8bc9d7dec4c3c25,/r,,d.img");

	/* No ramdisk, sampled, a size Xen gets in KiB, and 1000 GiB of machine. */
	p.ramdisk = false;
	p.verify_full = false;
	p.memory = (1000ULL << 30) + 4096;
	p.qemu_mib = run_qemu_mib(p.memory, 0);
	assert_int_equal(run_dom0_cmdline(&p, PV_MODE_NULL, c, &err), 0);
	assert_string_equal(arg_after(c, "-cpu"), "max,-smap,phys-bits=42");
	assert_string_equal(arg_after(c, "-initrd"),
			    "/k,,1/pvboot-kernel.elf mode=null verify=sample");
	assert_non_null(strstr(arg_after(c, "-append"), " dom0_mem=1048576004K,max:1048576004K "));
	free(c);
}

/* ---- fetching Xen ---- */

/*
 * Stand-ins: scripts/fetch-deb (through PVBOOT_SCRIPTS) makes an empty .deb
 * in the cache and names it, or fails with FAKE_FETCH_FAILS; dpkg, first in
 * $PATH, unpacks a gzipped "ELF" of the release the .deb's name says.
 */
static void fake_tools(const char *bin, const char *scripts)
{
	static const struct {
		const char *name, *body;
	} tools[] = {
		{"fetch-deb", "echo \"fetch-deb $*\" >> \"$FAKE_DIR/calls\"\n"
			      "[ -z \"$FAKE_FETCH_FAILS\" ] || exit 3\n"
			      "mkdir -p \"$PVBOOT_CACHE/debian-archive/debs\"\n"
			      "deb=$PVBOOT_CACHE/debian-archive/debs/$2_1.0_amd64.deb\n"
			      ": > \"$deb\"\n"
			      "echo \"$2=$deb\"\n"},
		{"dpkg", "echo \"dpkg $*\" >> \"$FAKE_DIR/calls\"\n"
			 "r=${2##*/xen-hypervisor-}; r=${r%%%%-amd64_*}\n"
			 "mkdir -p \"$3/boot\" && printf '\\177ELF %%s' \"$r\" | gzip > "
			 "\"$3/boot/xen-$r-amd64.gz\"\n"},
	};
	char path[PATH_MAX + 64];

	mkdir(bin, 0755);
	mkdir(scripts, 0755);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", i ? bin : scripts, tools[i].name);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "#!/bin/sh\n");
		fprintf(f, tools[i].body);
		fclose(f);
		chmod(path, 0755);
	}
}

/* @path's bytes as a string. */
static void read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
}

static void test_fetch_xen(void **state)
{
	char dir[PATH_MAX], bin[PATH_MAX + 16], scripts[PATH_MAX + 16], cache[700];
	char xen[2 * PATH_MAX], buf[64] = "";
	char *old_path;
	struct pv_error err = {0};
	struct run r;

	(void)state;
	/* Absolute: the tools run in the download directory. */
	assert_non_null(realpath(scratch_dir(), dir));
	snprintf(bin, sizeof(bin), "%s/fake-bin", dir);
	snprintf(scripts, sizeof(scripts), "%s/fake-scripts", dir);
	fake_tools(bin, scripts);
	old_path = strdup(getenv("PATH"));
	snprintf(xen, sizeof(xen), "%s:%s", bin, old_path);
	setenv("PATH", xen, 1);
	setenv("FAKE_DIR", dir, 1);
	setenv("PVBOOT_SCRIPTS", scripts, 1);

	/* Each release from its suite: fetch-deb, dpkg -x, gunzip; a file each. */
	snprintf(cache, sizeof(cache), "%s", scratch("xen-cache"));
	for (int i = 0; i < 2; i++) {
		const char *release = i ? "4.14" : "4.17";
		char want[64];

		if (run_fetch_xen(cache, release, xen, sizeof(xen), NULL, &err))
			fail_msg("%s", err.msg);
		snprintf(want, sizeof(want), "/xen-cache/xen-hypervisor/xen-%s", release);
		assert_non_null(strstr(xen, want));
		read_small(xen, buf, sizeof(buf));
		snprintf(want, sizeof(want), "\177ELF %s", release);
		assert_string_equal(buf, want);
	}
	r = run_sh("sed 's|[^ ]*/||' '%s/calls'", scratch_dir());
	assert_string_equal(r.out, "fetch-deb bookworm xen-hypervisor-4.17-amd64\n"
				   "dpkg -x xen-hypervisor-4.17-amd64_1.0_amd64.deb root\n"
				   "fetch-deb bullseye xen-hypervisor-4.14-amd64\n"
				   "dpkg -x xen-hypervisor-4.14-amd64_1.0_amd64.deb root\n");
	run_free(&r);
	/* The stamp names the .deb, which stays beside Xen for scripts/build-dom0. */
	snprintf(xen, sizeof(xen), "%s/xen-hypervisor/.pvboot-xen-4.14-done", cache);
	read_small(xen, buf, sizeof(buf));
	assert_string_equal(buf, "xen-hypervisor-4.14-amd64_1.0_amd64.deb\n");
	snprintf(xen, sizeof(xen), "%s/xen-hypervisor/xen-hypervisor-4.14-amd64_1.0_amd64.deb",
		 cache);
	assert_int_equal(access(xen, R_OK), 0);
	/* Once: the second time nothing runs. */
	if (run_fetch_xen(cache, "4.17", xen, sizeof(xen), NULL, &err))
		fail_msg("%s", err.msg);
	r = run_sh("wc -l < '%s/calls'", scratch_dir());
	assert_string_equal(r.out, "4\n");
	run_free(&r);

	/* The mirror cannot give it: one line that says which script failed. */
	setenv("FAKE_FETCH_FAILS", "1", 1);
	assert_int_equal(run_fetch_xen(cache, "4.20", xen, sizeof(xen), NULL, &err), -1);
	assert_int_equal(err.code, PV_ERR_IO);
	assert_non_null(strstr(err.msg, "/fake-scripts/fetch-deb failed with status 3"));
	unsetenv("FAKE_FETCH_FAILS");
	/* A release pvboot does not boot. */
	assert_int_equal(run_fetch_xen(cache, "4.19", xen, sizeof(xen), NULL, &err), -1);
	assert_int_equal(err.code, PV_ERR_USAGE);
	assert_string_equal(err.msg, "pvboot boots Xen 4.14, 4.17 and 4.20, not 4.19");
	unsetenv("PVBOOT_SCRIPTS");
	setenv("PATH", old_path, 1);
	free(old_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvsum),	      cmocka_unit_test(test_pattern_ramdisk),
		cmocka_unit_test(test_escape_commas), cmocka_unit_test(test_qemu_size),
		cmocka_unit_test(test_qemu_cmdline),  cmocka_unit_test(test_fetch_xen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
