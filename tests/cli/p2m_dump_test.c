/*
 * pvboot simulate --dump and pvboot p2m-dump from the outside: images
 * written by the command and by the library, read back in text and JSON,
 * entries on request; then every kind of bad input (a missing file, bad
 * magic and version, truncation at many points, corrupt records, M2P and
 * end record, bad frame numbers, an odd generation, entries the M2P
 * contradicts, tree and list disagreeing) ends with one line naming it and
 * a non-zero status, never a crash; and a write that fails leaves no file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "core/p2m_dump_fixture.h"

/* One line on stderr, "pvboot: p2m-dump: " and @want in it, status @status. */
static void expect_error(const struct run *r, int status, const char *cmd, const char *want)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "pvboot: %s: ", cmd);
	if (r->status != status || strncmp(r->err, prefix, strlen(prefix)) ||
	    count_lines(r->err) != 1 || !strstr(r->err, want))
		fail_msg("status %d, stderr: %s(wanted %d and '%s')", r->status, r->err, status,
			 want);
}

static void copy_file(const char *from, const char *to)
{
	struct run r = run_sh("cp '%s' '%s'", from, to);

	assert_int_equal(r.status, 0);
	run_free(&r);
}

static void patch(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static void patch_u64(const char *path, uint64_t off, uint64_t v)
{
	patch(path, off, &v, sizeof(v));
}

static uint64_t file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_size;
}

/* A 4 GiB guest in @mode, booted here, its image at @path; the sim stays for the test. */
static void image_4g(enum pv_boot_mode mode, const char *path, struct sim *s)
{
	boot_ok(&guest_4g, mode, false, s);
	pv_memimage_close(dump_and_open(s, path));
}

/* simulate --dump, then p2m-dump: the summary, JSON, --pfn and --range against the builder. */
static void test_dump_and_read(void **state)
{
	const char *path = scratch_file("cli-4g.img");
	struct run r;
	struct sim s;
	char want[200];

	(void)state;
	r = run_pvboot("simulate --memory 4G --builder libxc-4.17 --ramdisk-size 1M --mode linear --dump '%s'",
		       path);
	assert_int_equal(r.status, 0);
	snprintf(want, sizeof(want), "pvboot: memory image %s: ", path);
	assert_non_null(strstr(r.out, want));
	run_free(&r);

	r = run_pvboot("p2m-dump '%s'", path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\nmax_pfn     1048576 (4 GiB of guest)\n"));
	assert_non_null(strstr(r.out, "\ngeneration  0 (1 read)\n"));
	assert_non_null(strstr(r.out, "\ntree        frame_list_list mfn 0x"));
	assert_non_null(strstr(r.out, "\nlist        p2m_cr3 0x"));
	assert_non_null(strstr(r.out, ", p2m_vaddr 0xffffc90000000000: read, "));
	assert_non_null(
		strstr(r.out, "\nentries     1048576 valid, 0 invalid, 0 identity, 0 foreign\n"));
	assert_non_null(strstr(r.out, "\nagree       tree and list agree on all 1048576 pfns\n"));
	assert_string_equal(r.err, "");
	run_free(&r);

	r = run_sh("'%s' p2m-dump '%s' --format json | jq -r '[.max_pfn, .tree.found, .list.found, .counts.valid, .counts.not_owned, .counts.m2p_other, .agree, .reads] | map(tostring) | join(\" \")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot", path);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "1048576 true true 1048576 0 0 true 1\n");
	run_free(&r);

	/* The same guest booted here: the entries are the builder's. */
	boot_ok(&guest_4g, PV_MODE_LINEAR, false, &s);
	for (int via = 0; via < 3; via++) {
		static const char *const name[] = {"tree", "list", "both"};
		char line[100];

		r = run_pvboot("p2m-dump '%s' --via %s --range 0x3fe-0x401", path, name[via]);
		assert_int_equal(r.status, 0);
		for (uint64_t pfn = 0x3fe; pfn <= 0x401; pfn++) {
			snprintf(line, sizeof(line), "\npfn %#llx -> %#llx valid\n",
				 (unsigned long long)pfn,
				 (unsigned long long)mfn_x(sim_pfn_to_mfn(&s, _pfn(pfn))));
			assert_non_null(strstr(r.out, line));
		}
		assert_int_equal(count_lines(strstr(r.out, "\npfn ") + 1), 4);
		run_free(&r);
	}
	r = run_sh("'%s' p2m-dump '%s' --pfn 1048575 --format json | jq -r '.entries[] | [.pfn, .entry, .kind] | map(tostring) | join(\" \")'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot", path);
	snprintf(want, sizeof(want), "1048575 %#llx valid\n",
		 (unsigned long long)mfn_x(sim_pfn_to_mfn(&s, _pfn(1048575))));
	assert_string_equal(r.out, want);
	run_free(&r);
	sim_fini(&s);
	unlink(path);
}

/* A tree-only guest (revector) and a guest past 512 GiB (list only): what is missing, and why. */
static void test_one_structure(void **state)
{
	const char *path = scratch_file("cli-one.img");
	struct run r;
	struct sim s;

	(void)state;
	image_4g(PV_MODE_REVECTOR, path, &s);
	sim_fini(&s);
	r = run_pvboot("p2m-dump '%s'", path);
	assert_int_equal(r.status, 0);
	assert_non_null(
		strstr(r.out,
		       "\nlist        no linear p2m list: p2m_cr3 is 0 (the guest publishes only the 3-level tree)\n"));
	assert_non_null(strstr(r.out, "\nagree       one structure read, nothing to compare\n"));
	run_free(&r);
	r = run_pvboot("p2m-dump '%s' --via list", path);
	expect_error(&r, 1, "p2m-dump", "no linear p2m list: p2m_cr3 is 0");
	run_free(&r);

	r = run_pvboot("simulate --memory 600G --builder xen-4.17-dom0 --init-p2m 0x8000000000 --unmapped-ramdisk --ramdisk-size 1M --mode linear --verify sample --dump '%s'",
		       path);
	assert_int_equal(r.status, 0);
	run_free(&r);
	r = run_pvboot("p2m-dump '%s'", path);
	assert_int_equal(r.status, 0);
	assert_non_null(
		strstr(r.out,
		       "\ntree        no p2m tree: frame_list_list is ~0 and max_pfn 0x95fffff too large for p2m tree (157286400 pfns; the 3-level tree holds 134217728, 512 GiB)"));
	assert_non_null(
		strstr(r.out, "\nentries     157286400 valid, 0 invalid, 0 identity, 0 foreign\n"));
	run_free(&r);
	r = run_pvboot("p2m-dump '%s' --via tree", path);
	expect_error(&r, 1, "p2m-dump",
		     "no p2m tree: frame_list_list is ~0 and max_pfn 0x95fffff too large for p2m tree");
	run_free(&r);
	unlink(path);
}

/* Bad usage: status 2 and one line. */
static void test_usage(void **state)
{
	static const struct {
		const char *args, *cmd, *want;
	} cases[] = {
		{"p2m-dump", "p2m-dump", "no image given"},
		{"p2m-dump F --via trees", "p2m-dump", "--via: unknown structure 'trees'"},
		{"p2m-dump F --format xml", "p2m-dump", "--format: unknown format 'xml'"},
		{"p2m-dump F --pfn 1 --range 1-2", "p2m-dump", "give --pfn or --range, not both"},
		{"p2m-dump F --range 5-3", "p2m-dump", "--range: 5-3 ends before it starts"},
		{"p2m-dump F --range 12", "p2m-dump", "--range: '12' is not A-B"},
		{"p2m-dump F --pfn x1", "p2m-dump", "--pfn: 'x1' is not a decimal number"},
		{"p2m-dump F G", "p2m-dump", "unexpected argument 'G'"},
		{"simulate --memory 1G --dump F", "simulate", "--dump: give one --mode"},
		{"simulate --memory 1G --mode linear --dump ''", "simulate", "--dump: no file name"},
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = run_pvboot("%s", cases[i].args);
		expect_error(&r, 2, cases[i].cmd, cases[i].want);
		run_free(&r);
	}
	r = run_pvboot("p2m-dump --help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: pvboot p2m-dump FILE [options]"));
	run_free(&r);
	r = run_pvboot("--help");
	assert_non_null(
		strstr(r.out, "  p2m-dump  read a simulated guest's P2M from its memory image"));
	run_free(&r);
}

/*
 * The image's own structure broken every way, and cut at many points:
 * one line naming the problem, status 1 (2 for a pfn past max_pfn).
 */
static void test_bad_images(void **state)
{
	const char *good = scratch_file("good.img"), *bad = scratch_file("bad.img");
	struct pv_memimage *img;
	struct pv_error err;
	struct run r;
	struct sim s;
	uint64_t size, rec0, m2p0, g = 9;

	(void)state;
	image_4g(PV_MODE_LINEAR, good, &s);
	sim_fini(&s);
	assert_int_equal(pv_memimage_open(good, &img, &err), 0);
	m2p0 = sizeof(struct pv_memimage_header) + PAGE_SIZE;
	rec0 = m2p0 + img->nr_m2p * sizeof(struct pv_memimage_m2p);
	pv_memimage_close(img);
	size = file_size(good);

	r = run_pvboot("p2m-dump '%s/none.img'", scratch_dir());
	expect_error(&r, 1, "p2m-dump", "none.img: No such file or directory");
	run_free(&r);
	r = run_pvboot("p2m-dump '%s'", scratch_dir());
	expect_error(&r, 1, "p2m-dump", ": not a regular file");
	run_free(&r);
	r = run_pvboot("p2m-dump '%s' --pfn 0x100000", good);
	expect_error(&r, 2, "p2m-dump", "pfn 0x100000 is past max_pfn: the P2M has 0x100000 pfns");
	run_free(&r);

	static const struct {
		uint64_t off, value;
		const char *want;
	} patches[] = {
		{0, 0x4e4f4d4544425650ULL, "not a pvboot memory image (bad magic"},
		{8, 2 | (64ULL << 32), "memory image version 2; this pvboot reads version 1"},
		{8, 1 | (12ULL << 32), "corrupt header: header_bytes 12"},
		{16, 1ULL << 45, "corrupt header: max_mfn 0x200000000000"},
		{40, 1ULL << 40, "M2P runs do not fit in the file's"},
		{1, 0, "bad magic"},
	};
	for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		copy_file(good, bad);
		patch_u64(bad, patches[i].off, patches[i].value);
		r = run_pvboot("p2m-dump '%s'", bad);
		expect_error(&r, 1, "p2m-dump", patches[i].want);
		run_free(&r);
	}

	/* The M2P, records and end record (offsets from the format in memimage.h). */
	static const struct {
		int where; /* 0: M2P run 0, 1: record 0, 2: end record */
		uint64_t off, value;
		const char *want;
	} fields[] = {
		{0, 16, 0, "corrupt M2P run 0 (mfn"},
		{0, 0, 0x7fffffffff, "corrupt M2P run 0 (mfn 0x7fffffffff"},
		{0, 8, 0x7fffffffff, "its pfns leave the domain's 1048576"},
		{1, 8, 7 | (1ULL << 32), "corrupt record 0 at offset"},
		{1, 8, MEMIMAGE_REC_RAW | (65ULL << 32), ": mfn 0x"},
		{1, 0, 5, "are not all the domain's by the image's M2P"},
		{2, 16, 1, "corrupt end record: it counts 1 records"},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t base = fields[i].where == 0   ? m2p0
				: fields[i].where == 1 ? rec0
						       : size - 32;

		copy_file(good, bad);
		patch_u64(bad, base + fields[i].off, fields[i].value);
		r = run_pvboot("p2m-dump '%s'", bad);
		expect_error(&r, 1, "p2m-dump", fields[i].want);
		run_free(&r);
	}

	/* A run of 2^63.8 x 2^63.8 frames: refused, not multiplied past 128 bits (found by dump_fuzz). */
	copy_file(good, bad);
	patch_u64(bad, m2p0 + 16, 0xd7e220e00000007fULL);
	patch_u64(bad, m2p0 + 24, 0xd7e220e00000007fULL);
	r = run_pvboot("p2m-dump '%s'", bad);
	expect_error(&r, 1, "p2m-dump", "corrupt M2P run 0 (mfn");
	run_free(&r);

	/* Trailing bytes, and an odd generation. */
	copy_file(good, bad);
	patch_u64(bad, size, 0);
	r = run_pvboot("p2m-dump '%s'", bad);
	expect_error(&r, 1, "p2m-dump", "corrupt: 8 bytes after the end record");
	run_free(&r);
	copy_file(good, bad);
	patch_u64(bad,
		  sizeof(struct pv_memimage_header) + offsetof(shared_info_t, arch.p2m_generation),
		  g);
	r = run_pvboot("p2m-dump '%s'", bad);
	expect_error(&r, 1, "p2m-dump", "p2m_generation 0x9 is odd on each of 8 tries");
	run_free(&r);

	/* Cut anywhere: the header, shared_info, the M2P, inside records, the end record. */
	for (uint64_t cut = 0; cut < size;
	     cut = cut < rec0 + 64 ? cut + 13 * 8 + 1 : cut + size / 37) {
		struct run t = run_sh("head -c %llu '%s' > '%s'", (unsigned long long)cut, good, bad);

		run_free(&t);
		r = run_pvboot("p2m-dump '%s'", bad);
		expect_error(&r, 1, "p2m-dump", cut < 64 ? "less than a header" : "truncated");
		run_free(&r);
	}
	r = run_sh("head -c %llu '%s' > '%s'", (unsigned long long)(size - 1), good, bad);
	run_free(&r);
	r = run_pvboot("p2m-dump '%s'", bad);
	expect_error(&r, 1, "p2m-dump", "truncated: the file ends at");
	run_free(&r);
	unlink(good);
	unlink(bad);
}

/*
 * What the guest published, broken before the dump: a frame list entry
 * (named), an entry of its list that the M2P contradicts, a frame list
 * that makes the tree disagree with the list.
 */
static void test_bad_p2m(void **state)
{
	const char *path = scratch_file("p2m.img");
	const shared_info_t *sh;
	uint64_t *fll, *mid, *entry, keep, m5, m6;
	struct run r;
	struct sim s;
	char want[300];

	(void)state;
	boot_ok(&guest_4g, PV_MODE_LINEAR, false, &s);
	sh = sim_frame(&s, _mfn(s.shared_info_mfn));
	fll = sim_frame(&s, _mfn(sh->arch.pfn_to_mfn_frame_list_list));
	mid = sim_frame(&s, _mfn(fll[0]));

	keep = mid[17];
	mid[17] = 0x123;
	pv_memimage_close(dump_and_open(&s, path));
	r = run_pvboot("p2m-dump '%s'", path);
	snprintf(want, sizeof(want),
		 "Bad mfn 0x123 at index 17 in p2m frame list (level 2, mfn %#llx; p2m_frame_list[17], pfns 0x2200-0x23ff): not the domain's frame (no M2P entry)",
		 (unsigned long long)fll[0]);
	expect_error(&r, 1, "p2m-dump", want);
	run_free(&r);
	r = run_pvboot("p2m-dump '%s' --via list", path); /* the list is fine */
	assert_int_equal(r.status, 0);
	run_free(&r);

	/* Leaf 1 of the tree is leaf 0 again: 512 pfns disagree with the list. */
	mid[17] = keep;
	keep = mid[1];
	mid[1] = mid[0];
	assert_int_equal(tools_read(&s, 0x200), mfn_x(sim_pfn_to_mfn(&s, _pfn(0))));
	pv_memimage_close(dump_and_open(&s, path));
	r = run_pvboot("p2m-dump '%s'", path);
	expect_error(&r, 1, "p2m-dump", "tree and list differ at 512 pfns, the first 0x200");
	snprintf(want, sizeof(want),
		 "\nagree       NO: tree and list differ at 512 pfns, the first 0x200: tree %#llx, list %#llx\n",
		 (unsigned long long)mfn_x(sim_pfn_to_mfn(&s, _pfn(0))),
		 (unsigned long long)mfn_x(sim_pfn_to_mfn(&s, _pfn(0x200))));
	assert_non_null(strstr(r.out, want));
	run_free(&r);
	mid[1] = keep;

	/* pfn 5 says pfn 6's frame: the M2P names pfn 6 for it. */
	entry = sim_va_ptr(&s, P2M_LINEAR_VADDR + 5 * 8);
	m5 = entry[0];
	m6 = entry[1];
	entry[0] = m6;
	pv_memimage_close(dump_and_open(&s, path));
	r = run_pvboot("p2m-dump '%s'", path);
	expect_error(&r, 1, "p2m-dump", "1 entries contradict the M2P, the first at pfn 0x5");
	assert_non_null(
		strstr(r.out,
		       "\nm2p         0 entries name frames that are not the domain's, 1 frames the M2P gives another pfn; the first at pfn 0x5\n"));
	run_free(&r);
	entry[0] = 0x123;
	pv_memimage_close(dump_and_open(&s, path));
	r = run_pvboot("p2m-dump '%s' --via list --pfn 5", path);
	expect_error(&r, 1, "p2m-dump", "1 entries contradict the M2P, the first at pfn 0x5");
	assert_non_null(
		strstr(r.out,
		       "\nm2p         1 entries name frames that are not the domain's, 0 frames"));
	assert_non_null(strstr(r.out, "\npfn 0x5 -> 0x123 valid\n"));
	run_free(&r);
	entry[0] = m5;
	sim_fini(&s);
	unlink(path);
}

/*
 * A dump that cannot be written (no directory; the file size limit, as a
 * full disk) says so in one line, and leaves neither the file nor its
 * .tmp; an older image of the same name stays as it was.
 */
static void test_write_errors(void **state)
{
	const char *path = scratch_file("w.img"), *old = scratch_file("old.img");
	char tmp[700];
	struct run r;
	struct stat sb;

	(void)state;
	r = run_pvboot("simulate --memory 1G --mode linear --ramdisk-size 1M --dump '%s/no/such/dir.img'",
		       scratch_dir());
	expect_error(&r, 1, "simulate", "/no/such/dir.img.tmp: No such file or directory");
	run_free(&r);

	r = run_pvboot("simulate --memory 1G --mode linear --ramdisk-size 1M --dump '%s'", path);
	assert_int_equal(r.status, 0);
	run_free(&r);
	copy_file(path, old);
	r = run_sh("trap '' XFSZ; ulimit -f 100; exec '%s' simulate --memory 1G --mode linear --ramdisk-size 1M --dump '%s'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot", path);
	snprintf(tmp, sizeof(tmp), "cannot write %s.tmp: File too large", path);
	expect_error(&r, 1, "simulate", tmp);
	run_free(&r);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(stat(tmp, &sb), -1);
	r = run_sh("cmp '%s' '%s'", path, old);
	assert_int_equal(r.status, 0);
	run_free(&r);
	unlink(path);
	r = run_sh("trap '' XFSZ; ulimit -f 100; exec '%s' simulate --memory 1G --mode linear --ramdisk-size 1M --dump '%s'",
		   getenv("PVBOOT") ? getenv("PVBOOT") : "build/pvboot", path);
	assert_int_equal(r.status, 1);
	run_free(&r);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(stat(tmp, &sb), -1);
	unlink(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_and_read), cmocka_unit_test(test_one_structure),
		cmocka_unit_test(test_usage),	      cmocka_unit_test(test_bad_images),
		cmocka_unit_test(test_bad_p2m),	      cmocka_unit_test(test_write_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
