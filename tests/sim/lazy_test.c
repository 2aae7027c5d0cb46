/*
 * The builder's list computed instead of stored (src/sim/machine.c,
 * sim_lazy_list): every load sees the list the builder would have written,
 * every store stays, chunks made from the computation go back to the host
 * when the ring is full, and a real fault still ends the process.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include <pvboot/sim_machine.h>

#define CHUNK_FRAMES 512ULL

/* A domain of @nr_pages whose list starts at pfn @list_pfn, made lazy. */
static void lazy_setup(struct sim *s, uint64_t nr_pages, uint64_t list_pfn, uint64_t window)
{
	struct pv_error err;
	uint64_t frames = (nr_pages + 511) / 512;

	assert_int_equal(sim_init(s, nr_pages, list_pfn + frames + 1, &err), 0);
	s->lazy_window = window;
	assert_int_equal(sim_lazy_list(s, sim_pfn_to_mfn(s, _pfn(list_pfn)), frames, &err), 0);
}

static const uint64_t *list_page(struct sim *s, uint64_t list_pfn, uint64_t k)
{
	return sim_frame(s, sim_pfn_to_mfn(s, _pfn(list_pfn + k)));
}

/* Every entry of the lazy part against the builder's assignment; how many were read. */
static uint64_t check_all(struct sim *s, uint64_t list_pfn, uint64_t written_pfn, uint64_t written)
{
	uint64_t checked = 0, frames = (s->nr_pages + 511) / 512;

	for (uint64_t k = 0; k < frames; k++) {
		const uint64_t *page = list_page(s, list_pfn, k);

		if (!sim_lazy(s, sim_pfn_to_mfn(s, _pfn(list_pfn + k))))
			continue;
		for (unsigned i = 0; i < 512; i++) {
			uint64_t pfn = k * 512 + i;
			uint64_t want = pfn == written_pfn ? written
				      : pfn < s->nr_pages  ? mfn_x(sim_pfn_to_mfn(s, _pfn(pfn)))
							   : 0;

			if (page[i] != want)
				fail_msg("pfn 0x%llx: 0x%llx, want 0x%llx", (unsigned long long)pfn,
					 (unsigned long long)page[i], (unsigned long long)want);
			checked++;
		}
	}
	return checked;
}

/*
 * 8 GiB and a bit: a 16 MiB list, so 7 whole chunks when it starts
 * mid-chunk, read through a ring of 2: chunks are made, dropped and made
 * again, always with the same entries; the ends are not lazy.
 */
static void test_reads(void **state)
{
	uint64_t nr_pages = (8ULL << 18) + 300, list_pfn = 1000;
	struct sim s;

	(void)state;
	lazy_setup(&s, nr_pages, list_pfn, 2);
	assert_int_equal(s.lazy_first % CHUNK_FRAMES, 0);
	assert_int_equal((s.lazy_end - s.lazy_first) / CHUNK_FRAMES, 7);
	assert_true(s.lazy_first > mfn_x(sim_pfn_to_mfn(&s, _pfn(list_pfn))));
	assert_false(sim_lazy(&s, sim_pfn_to_mfn(&s, _pfn(list_pfn))));

	assert_int_equal(check_all(&s, list_pfn, ~0ULL, 0), 7 * CHUNK_FRAMES * 512);
	assert_int_equal(s.lazy_made, 7);
	assert_int_equal(s.lazy_dropped, 5);
	assert_int_equal(check_all(&s, list_pfn, ~0ULL, 0), 7 * CHUNK_FRAMES * 512);
	assert_int_equal(s.lazy_made, 14);
	assert_int_equal(s.lazy_kept, 0);
	sim_fini(&s);
}

/* A store survives every chunk around it being dropped; the chunk is kept. */
static void test_write_kept(void **state)
{
	uint64_t nr_pages = 8ULL << 18, list_pfn = 512;
	struct sim s;
	uint64_t *page, pfn;

	(void)state;
	lazy_setup(&s, nr_pages, list_pfn, 2);
	/* A pfn in the third lazy chunk. */
	pfn = (s.lazy_first - mfn_x(sim_pfn_to_mfn(&s, _pfn(list_pfn))) + 2 * CHUNK_FRAMES + 7) * 512 + 9;
	page = (uint64_t *)list_page(&s, list_pfn, pfn / 512);
	page[pfn % 512] = 0x1234;
	assert_int_equal(s.lazy_kept, 1);
	check_all(&s, list_pfn, pfn, 0x1234);
	check_all(&s, list_pfn, pfn, 0x1234);
	assert_int_equal(s.lazy_kept, 1);
	assert_true(s.lazy_dropped > 0);

	/* A discarded page reads as zero from then on, whatever the ring does. */
	sim_discard(&s, sim_pfn_to_mfn(&s, _pfn(list_pfn + pfn / 512 + 512)));
	assert_int_equal(list_page(&s, list_pfn, pfn / 512 + 512)[3], 0);
	for (uint64_t m = s.lazy_first; m < s.lazy_end; m += CHUNK_FRAMES)
		assert_int_not_equal(*(volatile uint64_t *)sim_frame(&s, _mfn(m)), 0);
	assert_int_equal(list_page(&s, list_pfn, pfn / 512 + 512)[3], 0);
	assert_int_equal(s.lazy_kept, 2);
	sim_fini(&s);
}

/* What handled SIGSEGV before the simulator: a fault that is not the list's goes there. */
static void before(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	_exit(42);
}

/* A fault outside every lazy list still reaches the handler that was there before. */
static void test_real_fault(void **state)
{
	struct sigaction mine = {.sa_sigaction = before, .sa_flags = SA_SIGINFO}, framework, now;
	struct sim s;
	pid_t pid;
	int status;

	(void)state;
	sigemptyset(&mine.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &mine, &framework), 0);
	lazy_setup(&s, 8ULL << 18, 512, 2);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		volatile uint64_t *none =
			mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		/* A lazy chunk first, which is the simulator's, then a real fault. */
		if (*(volatile uint64_t *)sim_frame(&s, _mfn(s.lazy_first)) == 0)
			_exit(1);
		if (none != MAP_FAILED)
			*none = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	/* The last simulator gone, the handler before it is back. */
	sim_fini(&s);
	assert_int_equal(sigaction(SIGSEGV, &framework, &now), 0);
	assert_ptr_equal(now.sa_sigaction, before);
}

/* A list that has no whole chunk is written as before: nothing is lazy. */
static void test_small(void **state)
{
	struct sim s;
	struct pv_error err;

	(void)state;
	assert_int_equal(sim_init(&s, 4096, 4096, &err), 0);
	assert_int_equal(sim_lazy_list(&s, sim_pfn_to_mfn(&s, _pfn(100)), 8, &err), 0);
	assert_int_equal(s.lazy_end - s.lazy_first, 0);
	assert_false(sim_lazy(&s, sim_pfn_to_mfn(&s, _pfn(100))));
	/* Outside the domain's first run of frames: refused with a reason. */
	assert_int_equal(sim_lazy_list(&s, _mfn(1), 8, &err), -1);
	assert_non_null(strstr(err.msg, "initial run of frames"));
	sim_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_write_kept),
		cmocka_unit_test(test_real_fault),
		cmocka_unit_test(test_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
