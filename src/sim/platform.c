/*
 * struct pv_platform over the simulated Xen: each call does what the
 * hypercall would, with the hypervisor's checks (mm.c).
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pvboot/sim_machine.h>

static void console(void *ctx, const char *str, size_t n)
{
	struct sim *s = ctx;

	if (s->echo_console) {
		fwrite(str, 1, n, stdout);
		fflush(stdout);
	}
	/* Keep the last part: enough for a test to read the result line. */
	if (n >= sizeof(s->console)) {
		str += n - (sizeof(s->console) - 1);
		n = sizeof(s->console) - 1;
	}
	if (s->console_len + n >= sizeof(s->console)) {
		size_t drop = s->console_len + n - (sizeof(s->console) - 1);

		memmove(s->console, s->console + drop, s->console_len - drop);
		s->console_len -= drop;
	}
	memcpy(s->console + s->console_len, str, n);
	s->console_len += n;
	s->console[s->console_len] = '\0';
}

static void *va_ptr(void *ctx, uint64_t va)
{
	return sim_va_ptr(ctx, va);
}

static mfn_t ptr_mfn(void *ctx, const void *ptr)
{
	struct sim *s = ctx;
	const uint8_t *p = ptr;

	if (p < s->mem || p >= s->mem + s->mem_bytes)
		return INVALID_MFN;
	return _mfn((uint64_t)(p - s->mem) >> 12);
}

static uint64_t m2p(void *ctx, mfn_t mfn)
{
	return sim_m2p(ctx, mfn);
}

static int mmu_update(void *ctx, uint64_t ptr, uint64_t val)
{
	return sim_mmu_update(ctx, ptr, val);
}

static int mmuext(void *ctx, unsigned cmd, mfn_t mfn)
{
	return sim_mmuext(ctx, cmd, mfn);
}

static int update_va_mapping(void *ctx, uint64_t va, uint64_t pte)
{
	return sim_update_va_mapping(ctx, va, pte);
}

static void discard(void *ctx, mfn_t mfn)
{
	sim_discard(ctx, mfn);
}

/*
 * Run guest code: the page at @va, copied to an executable page of the
 * host, called there; the code is position independent, so what it
 * returns relative to where it ran is moved back to @va.  ~0 if the page
 * is not mapped or the host refuses an executable page.
 */
static uint64_t call(void *ctx, uint64_t va, uint64_t arg)
{
	const uint8_t *text = sim_va_ptr(ctx, va & ~0xfffULL);
	uint8_t *page;
	uint64_t ret;

	if (!text)
		return ~0ULL;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return ~0ULL;
	memcpy(page, text, 4096);
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC)) {
		munmap(page, 4096);
		return ~0ULL;
	}
	ret = ((uint64_t(*)(uint64_t))(uintptr_t)(page + (va & 0xfff)))(arg);
	munmap(page, 4096);
	return ret - (uint64_t)(uintptr_t)page + (va & ~0xfffULL);
}

static mfn_t read_cr3(void *ctx)
{
	return ((struct sim *)ctx)->cr3;
}

static void shutdown(void *ctx, unsigned reason)
{
	struct sim *s = ctx;

	s->shut_down = true;
	s->shutdown_reason = reason;
}

struct pv_platform sim_platform(struct sim *s)
{
	return (struct pv_platform){
		.ctx = s,
		/* What rsi points at, through the builder's mapping. */
		.start_info = sim_va_ptr(s, s->rsi),
		.shared_info = sim_frame(s, _mfn(s->shared_info_mfn)),
		.console = console,
		.va_ptr = va_ptr,
		.ptr_mfn = ptr_mfn,
		.m2p = m2p,
		.mmu_update = mmu_update,
		.mmuext = mmuext,
		.update_va_mapping = update_va_mapping,
		.discard = discard,
		.read_cr3 = read_cr3,
		.call = call,
		.shutdown = shutdown,
		/* Guest addresses are not the host's: the linear P2M is read through va_ptr. */
		.va_direct = false,
	};
}
