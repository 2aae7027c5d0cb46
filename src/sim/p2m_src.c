/*
 * The frame source a P2M reader (include/pvboot/p2m_read.h) takes, over a
 * live simulated domain: what a tool in dom0 sees of it (shared_info, the
 * M2P, the domain's frames), as an image read back gives it for a domain
 * that is gone (pv_memimage_p2m_src).
 */
#include <string.h>

#include <pvboot/sim_machine.h>
#include <pvboot/x86.h>

static int sim_arch(void *ctx, struct p2m_arch *a, struct pv_error *err)
{
	const struct sim *s = ctx;
	const volatile shared_info_t *sh = sim_frame(s, _mfn(s->shared_info_mfn));

	(void)err;
	*a = (struct p2m_arch){sh->arch.max_pfn, sh->arch.pfn_to_mfn_frame_list_list,
			       sh->arch.p2m_cr3, sh->arch.p2m_vaddr, sh->arch.p2m_generation};
	return 0;
}

static uint64_t sim_m2p_run(void *ctx, mfn_t mfn, uint64_t *run)
{
	uint64_t p = sim_m2p(ctx, mfn);

	if (run)
		*run = 1;
	return p;
}

static int sim_read_frame(void *ctx, mfn_t mfn, uint64_t *page, struct pv_error *err)
{
	const struct sim *s = ctx;

	if (!sim_owns(s, mfn))
		return pv_fail(err, PV_ERR_FORMAT, "mfn %#llx is not the domain's",
			       (unsigned long long)mfn_x(mfn));
	memcpy(page, sim_frame(s, mfn), PAGE_SIZE);
	return 0;
}

struct p2m_src sim_p2m_src(struct sim *s)
{
	return (struct p2m_src){
		.ctx = s,
		.max_mfn = s->nr_frames - 1,
		.arch = sim_arch,
		.m2p = sim_m2p_run,
		.frame = sim_read_frame,
	};
}
