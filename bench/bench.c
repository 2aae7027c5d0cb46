/*
 * make bench: the speed targets, measured side by side in one run and
 * printed as ratios.  Not a test: nothing here passes or fails.
 *
 *   P2M lookups     the 3-level tree and the linear list (mapped for real
 *                   through tests/core/p2m_linear_host.h) against a flat
 *                   array, sequential and random, over a 128 GiB guest's
 *                   33,554,432 pfns
 *   revector        p2m_revector against memcpy of the same 256 MiB
 *   simulated boot  pvboot simulate of 128 GiB and 512 GiB guests (revector)
 *                   and 4 and 16 TiB (linear, the list computed): wall
 *                   time, and peak memory against the P2M list's size
 *   real boot       pvboot run, dom0: null against revector at 8 and 128 GiB,
 *                   null against linear at 580 GiB (about 2 minutes), the
 *                   1000 GiB linear dom0 once (about 65 s, 12.2 GiB of host
 *                   memory); a domU through xl create at three sizes
 *
 * Usage: bench PVBOOT  (the pvboot binary, for the boots)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvboot/host.h>
#include <pvboot/p2m.h>
#include <pvboot/p2m_linear.h>

#include "../tests/core/p2m_linear_host.h"

#define NR_PFNS	       (128ULL << 18) /* 128 GiB */
#define RANDOM_LOOKUPS (8ULL << 20)

/*
 * Tree pages come from an arena touched beforehand, as memcpy's destination
 * is: both sides then measure copying, not the host's page faults.
 */
static char *arena;
static uint64_t arena_next, arena_pages;

static void arena_reset(uint64_t pages)
{
	free(arena);
	arena = aligned_alloc(4096, pages * 4096);
	if (!arena) {
		perror("bench: arena");
		exit(1);
	}
	memset(arena, 0, pages * 4096);
	arena_next = 0;
	arena_pages = pages;
}

static void *h_alloc(void *ctx)
{
	(void)ctx;
	return arena_next < arena_pages ? arena + 4096 * arena_next++ : NULL;
}

static void h_free(void *ctx, void *pg)
{
	(void)ctx;
	(void)pg; /* arena pages and the builder's list go back all at once */
}

static mfn_t h_mfn(void *ctx, const void *pg)
{
	(void)ctx;
	return _mfn((uintptr_t)pg >> 12);
}

/* The builder's list the bench uses: pfn i on frame 0x100000 + (i ^ 0x5a5). */
static uint64_t list_entry(uint64_t pfn)
{
	return 0x100000 + (pfn ^ 0x5a5);
}

static void fill_list(uint64_t *l)
{
	for (uint64_t i = 0; i < NR_PFNS; i++)
		l[i] = list_entry(i);
}

static uint64_t *make_list(void)
{
	uint64_t *l = aligned_alloc(4096, NR_PFNS * 8);

	if (!l) {
		perror("bench: list");
		exit(1);
	}
	fill_list(l);
	return l;
}

static void tree(struct p2m *p, uint64_t **list)
{
	struct p2m_ops ops = {h_alloc, h_free, h_mfn, list};
	struct pv_error err;
	mfn_t fll;

	if (p2m_init(p, &ops, NR_PFNS, &err) || p2m_graft(p, *list, &err) ||
	    p2m_build_mfn_tree(p, &fll, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
}

static volatile uint64_t sink;

/*
 * The linear list over the same builder's list, adopted in place: its pages
 * are memfd frames mapped one after another at the array, 4 KiB pages as in
 * a guest (and as the flat array's, with THP off or "madvise").
 */
static void linear(struct lhost *h, struct p2m_linear *l)
{
	struct p2m_linear_ops ops;
	struct p2m_linear_adopt_stats st;
	struct pv_error err;
	uint64_t *list;
	mfn_t fll;

	lh_init(h, NR_PFNS / 512 + 4096, NR_PFNS, false);
	ops = lh_ops(h);
	list = lh_builder_list(h, NR_PFNS);
	fill_list(list);
	if (p2m_linear_init(l, &ops, h->va, NR_PFNS, &h->generation, &err) ||
	    p2m_linear_adopt(l, list, NR_PFNS, &st, &err) ||
	    p2m_linear_build_mfn_tree(l, &fll, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
}

static void lookups(void)
{
	uint64_t *list = make_list(), *flat = make_list(), *idx, sum;
	struct p2m p;
	struct p2m_revector_stats st;
	struct pv_error err;
	double t, flat_seq, tree_seq, flat_rnd, tree_rnd, lin_seq, lin_rnd;
	uint64_t x = 88172645463325252ULL;
	struct lhost h;
	struct p2m_linear l;

	arena_reset(NR_PFNS / 512 + 2048);
	tree(&p, &list);
	linear(&h, &l);
	/* Lookups go through the tree's own leaves, as after boot. */
	if (p2m_revector(&p, list, NR_PFNS * 8, &st, &err)) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
	idx = malloc(RANDOM_LOOKUPS * sizeof(*idx));
	for (uint64_t i = 0; i < RANDOM_LOOKUPS; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		idx[i] = x % NR_PFNS;
	}

	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < NR_PFNS; i++)
		sum += flat[i];
	flat_seq = (pv_now() - t) / NR_PFNS * 1e9, sink = sum;
	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < NR_PFNS; i++)
		sum += p2m_get(&p, _pfn(i));
	tree_seq = (pv_now() - t) / NR_PFNS * 1e9, sink = sum;
	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < RANDOM_LOOKUPS; i++)
		sum += flat[idx[i]];
	flat_rnd = (pv_now() - t) / RANDOM_LOOKUPS * 1e9, sink = sum;
	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < RANDOM_LOOKUPS; i++)
		sum += p2m_get(&p, _pfn(idx[i]));
	tree_rnd = (pv_now() - t) / RANDOM_LOOKUPS * 1e9, sink = sum;
	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < NR_PFNS; i++)
		sum += p2m_linear_get(&l, _pfn(i));
	lin_seq = (pv_now() - t) / NR_PFNS * 1e9, sink = sum;
	t = pv_now(), sum = 0;
	for (uint64_t i = 0; i < RANDOM_LOOKUPS; i++)
		sum += p2m_linear_get(&l, _pfn(idx[i]));
	lin_rnd = (pv_now() - t) / RANDOM_LOOKUPS * 1e9, sink = sum;

	printf("P2M lookup, 128 GiB guest     flat array   3-level tree   tree/flat   target\n");
	printf("  sequential (ns/lookup)      %10.2f   %12.2f   %8.2fx\n", flat_seq, tree_seq,
	       tree_seq / flat_seq);
	printf("  random (ns/lookup)          %10.2f   %12.2f   %8.2fx   <= 2.00x\n", flat_rnd,
	       tree_rnd, tree_rnd / flat_rnd);
	printf("\nP2M lookup, 128 GiB guest     flat array    linear list   linear/flat target\n");
	printf("  sequential (ns/lookup)      %10.2f   %12.2f   %8.2fx\n", flat_seq, lin_seq,
	       lin_seq / flat_seq);
	printf("  random (ns/lookup)          %10.2f   %12.2f   %8.2fx   <= 1.20x\n", flat_rnd,
	       lin_rnd, lin_rnd / flat_rnd);
	p2m_linear_destroy(&l);
	lh_fini(&h);
	free(idx);
	free(flat);
	free(list);
}

/*
 * Revector against memcpy of the same 256 MiB, alternating, the best of
 * five each: this machine's memory bandwidth varies from run to run.  Each
 * revector gets a fresh list and tree; the arena's pages stay touched.
 */
static void revector_speed(void)
{
	uint64_t *list = make_list(), *dst = aligned_alloc(4096, NR_PFNS * 8);
	struct p2m p;
	struct p2m_revector_stats st;
	struct pv_error err;
	double t, copy = 1e9, rev = 1e9;

	arena_reset(NR_PFNS / 512 + 2048);
	memset(dst, 0, NR_PFNS * 8);
	for (int k = 0; k < 5; k++) {
		t = pv_now();
		memcpy(dst, list, NR_PFNS * 8);
		t = pv_now() - t;
		copy = t < copy ? t : copy;
		sink = dst[NR_PFNS - 1];

		fill_list(list);
		arena_next = 0;
		tree(&p, &list);
		t = pv_now();
		if (p2m_revector(&p, list, NR_PFNS * 8, &st, &err)) {
			fprintf(stderr, "bench: %s\n", err.msg);
			exit(1);
		}
		t = pv_now() - t;
		rev = t < rev ? t : rev;
		if (st.leaves_copied != NR_PFNS / 512 || p2m_get(&p, _pfn(NR_PFNS - 1)) !=
		    list_entry(NR_PFNS - 1)) {
			fprintf(stderr, "bench: the revector copied %" PRIu64 " leaves, not %llu\n",
				st.leaves_copied, NR_PFNS / 512);
			exit(1);
		}
		p2m_destroy(&p);
	}
	printf("\nrevector 256 MiB (best of 5)  memcpy       p2m_revector   throughput  target\n");
	printf("  seconds                     %10.3f   %12.3f   %8.2fx   >= 0.80x\n", copy, rev,
	       copy / rev);
	free(dst);
	free(list);
}

/* Run pvboot simulate in a child: wall time and its peak RSS. */
static void boot(const char *pvboot, const char *what, const char *args, double p2m_mib)
{
	char cmd[1024];
	struct rusage ru;
	double t = pv_now();
	pid_t pid;
	int status;

	/* A --mode in @args comes later and wins. */
	snprintf(cmd, sizeof(cmd), "exec '%s' simulate --mode revector %s --format json >/dev/null",
		 pvboot, args);
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
		perror("bench: simulate");
		return;
	}
	t = pv_now() - t;
	printf("  %-26s %7.2f s %s  %8.0f MiB   %6.2fx of %5.0f MiB\n", what, t,
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok    " : "FAILED",
	       ru.ru_maxrss / 1024.0, ru.ru_maxrss / 1024.0 / p2m_mib, p2m_mib);
}

/*
 * One real boot through `pvboot run`: its wall times (QEMU start to the
 * kernel's first line, then to its result), QEMU's peak RSS against what
 * pvboot expected of it, and whether every check held.  The report goes
 * through a scratch file so that a refusal (pvboot's own message on
 * stderr, such as too little MemAvailable) can be shown instead.
 */
struct real_boot {
	double total, kernel;
	double peak_gib, expected_gib;
	bool ok;
	char mode[16];	  /* --mode's, as the args say */
	char failed[100]; /* the checks that failed, comma-separated */
	char error[200];  /* pvboot's last "pvboot: run:" line when no report came */
};

static struct real_boot real_boot(const char *pvboot, const char *args)
{
	struct real_boot rb = {.total = -1, .kernel = -1};
	const char *cache = getenv("PVBOOT_CACHE");
	char tmpl[512], cmd[4096], ok[16] = "", line[256];
	uint64_t peak = 0, expected = 0;
	int fd;
	FILE *f;

	/* The report goes to a scratch file in the project's cache (make sets PVBOOT_CACHE). */
	cache = cache && *cache ? cache : "build/cache";
	mkdir(cache, 0755);
	snprintf(tmpl, sizeof(tmpl), "%s/scratch-bench-XXXXXX", cache);
	fd = mkstemp(tmpl);

	if (strstr(args, "--mode "))
		sscanf(strstr(args, "--mode ") + 7, "%15s", rb.mode);
	if (fd < 0) {
		perror("bench: mkstemp");
		return rb;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "'%s' run %s --format json 2>'%s.err' >'%s'; "
		 "jq -r '\"\\(.wall_seconds.total // -1) \\(.wall_seconds.kernel // -1) "
		 "\\(.qemu.peak_rss // 0) \\(.qemu.expected_rss // 0) \\(.ok) "
		 "\\([.checks[] | select(.ok | not) | .name] | join(\",\") | "
		 "if . == \"\" then \"-\" else . end)\"' '%s' 2>/dev/null",
		 pvboot, args, tmpl, tmpl, tmpl);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%lf %lf %" SCNu64 " %" SCNu64 " %15s %99s", &rb.total, &rb.kernel,
			 &peak, &expected, ok, rb.failed) != 6)
		rb.total = rb.kernel = -1;
	if (f)
		pclose(f);
	rb.ok = !strcmp(ok, "true");
	rb.peak_gib = peak / (double)(1ULL << 30);
	rb.expected_gib = expected / (double)(1ULL << 30);
	snprintf(cmd, sizeof(cmd), "%s.err", tmpl);
	f = rb.total < 0 ? fopen(cmd, "r") : NULL;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "pvboot: run: ", 13))
			snprintf(rb.error, sizeof(rb.error), "%.*s", (int)strcspn(line + 13, "\n"),
				 line + 13);
	if (f)
		fclose(f);
	unlink(cmd);
	unlink(tmpl);
	return rb;
}

/*
 * The faster of two runs: the first boot after another's exit is often
 * seconds slower.  Failed checks of either are kept.
 */
static struct real_boot best(struct real_boot a, struct real_boot b)
{
	struct real_boot bad = !a.ok ? a : b;

	if (a.total < 0 || (b.total >= 0 && b.total < a.total))
		a = b;
	if (!bad.ok) {
		a.ok = false;
		snprintf(a.failed, sizeof(a.failed), "%s", bad.failed);
	}
	return a;
}

/* "", or "  (<mode> FAILED: <checks>)" for a boot that failed. */
static const char *failed(const struct real_boot *b, char *buf, size_t size)
{
	if (b->ok)
		return "";
	snprintf(buf, size, "  (%s FAILED: %s)", b->mode, b->failed[0] ? b->failed : "no report");
	return buf;
}

/*
 * null against @mode at one size, side by side, alternating, best of two
 * each: what the boot path costs on top of Xen building the domain.
 */
static void real_pair(const char *pvboot, const char *what, const char *args, const char *mode,
		      const char *target)
{
	char an[512], ar[512], fn[140], fr[140];
	struct real_boot n, r;

	snprintf(an, sizeof(an), "%s --mode null", args);
	snprintf(ar, sizeof(ar), "%s --mode %s", args, mode);
	n = real_boot(pvboot, an);
	r = real_boot(pvboot, ar);
	n = best(n, real_boot(pvboot, an));
	r = best(r, real_boot(pvboot, ar));
	printf("  %-18s %7.2f s (%5.2f)  %7.2f s (%5.2f)  %6.2fx  %s%s%s\n", what, n.total,
	       n.kernel, r.total, r.kernel, n.total > 0 ? r.total / n.total : 0, target,
	       failed(&n, fn, sizeof(fn)), failed(&r, fr, sizeof(fr)));
	if (n.error[0] || r.error[0])
		printf("  %18s pvboot run: %s\n", "", n.error[0] ? n.error : r.error);
}

/*
 * Past the 3-level tree, with the INIT_P2M kernel in both modes (without
 * INIT_P2M, Xen 4.17 cannot allocate a 580 GiB dom0's initial mapping):
 * mode linear adopts the builder's list and verifies every pfn.  Then the
 * documented 1000 GiB boot, once: its wall, and QEMU's peak RSS.
 */
static void real_linear(const char *pvboot)
{
	char dir[600], args[800];
	const char *slash = strrchr(pvboot, '/');
	char fn[140];
	struct real_boot b;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - pvboot) : 1, slash ? pvboot : ".");
	snprintf(args, sizeof(args), "--memory 580G --kernel '%s/pvboot-kernel-initp2m.elf'", dir);
	printf("  wall (kernel part)  null                linear              linear/null\n");
	real_pair(pvboot, "580 GiB INIT_P2M", args, "linear", "");

	b = real_boot(pvboot, "--memory 1000G --mode linear");
	printf("  %-18s", "1000 GiB linear");
	if (b.total < 0)
		printf(" did not run: %s\n", b.error[0] ? b.error : "no report");
	else
		printf(" %7.2f s (%5.2f)  QEMU peak RSS %.2f GiB, expected %.2f GiB%s\n", b.total,
		       b.kernel, b.peak_gib, b.expected_gib, failed(&b, fn, sizeof(fn)));
}

/* One `pvboot run --domu`: xl create's own time, the guest's, and whether all held. */
struct domu_boot {
	double xl, guest, total;
	bool ok;
};

static struct domu_boot domu_boot(const char *pvboot, const char *args)
{
	struct domu_boot d = {-1, -1, -1, false};
	char cmd[1024], ok[16] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "'%s' run --domu %s --format json 2>/dev/null | jq -r '\"\\(.xl_create_seconds) "
		 "\\(.wall_seconds.guest) \\(.wall_seconds.total) \\(.ok)\"'",
		 pvboot, args);
	f = popen(cmd, "r");
	if (!f || fscanf(f, "%lf %lf %lf %15s", &d.xl, &d.guest, &d.total, ok) != 4)
		d.xl = d.guest = d.total = -1;
	if (f)
		pclose(f);
	d.ok = !strcmp(ok, "true");
	return d;
}

/*
 * The real toolstack: xl create's time as the domU grows (mostly Xen
 * populating its memory), and the domU's boot path against null.
 */
static void domu_bench(const char *pvboot)
{
	static const char *const sizes[] = {"512M", "32G", "128G"};
	struct domu_boot n = {0}, r;
	char args[256];

	printf("\nreal domU, xl -vvv create in a Debian dom0 (libxenguest 4.17)\n");
	printf("  domU        xl create   guest (null)   whole run\n");
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(args, sizeof(args), "--memory %s --mode null", sizes[i]);
		n = domu_boot(pvboot, args);
		printf("  %-10s %8.2f s   %8.2f s   %8.2f s%s\n", sizes[i], n.xl, n.guest, n.total,
		       n.ok ? "" : "  (FAILED its checks)");
	}
	r = domu_boot(pvboot, "--memory 128G --mode revector");
	printf("  128G guest: null %.2f s, revector %.2f s: boot path %.2f s, %.2fx%s\n", n.guest,
	       r.guest, r.guest - n.guest, n.guest > 0 ? r.guest / n.guest : 0,
	       r.ok ? "" : "  (revector FAILED its checks)");
}

int main(int argc, char **argv)
{
	lookups();
	revector_speed();
	if (argc > 1) {
		printf("\nsimulated boot (revector)    wall     result   peak RSS    peak/P2M list (target: 512 GiB < 5 s, < 1.5x)\n");
		boot(argv[1], "128 GiB, libxc-4.2", "", 256);
		boot(argv[1], "512 GiB, libxc-4.17 INIT_P2M",
		     "--memory 512G --builder libxc-4.17 --init-p2m 0x8000000000 --unmapped-ramdisk",
		     1024);
		boot(argv[1], "512 GiB, dom0 INIT_P2M",
		     "--memory 512G --builder xen-4.17-dom0 --init-p2m 0x8000000000 --unmapped-ramdisk",
		     1024);
		printf("\nsimulated boot (linear)      wall     result   peak RSS    peak/P2M list (target: 16 TiB < 30 s, < 4 GiB)\n");
		boot(argv[1], "4 TiB, dom0 INIT_P2M",
		     "--mode linear --verify sample --memory 4T --builder xen-4.17-dom0 "
		     "--init-p2m 0x8000000000 --unmapped-ramdisk",
		     8192);
		boot(argv[1], "16 TiB, dom0 INIT_P2M",
		     "--mode linear --verify sample --memory 16T --builder xen-4.17-dom0 "
		     "--init-p2m 0x8000000000 --unmapped-ramdisk",
		     32768);
		printf("\nreal boot, dom0 under Xen 4.17 in QEMU (TCG)\n");
		printf("  wall (kernel part)  null                revector            revector/null\n");
		real_pair(argv[1], "8 GiB", "--memory 8G", "revector", "");
		real_pair(argv[1], "128 GiB", "--memory 128G", "revector", "<= 1.10x");
		real_linear(argv[1]);
		domu_bench(argv[1]);
	}
	return 0;
}
