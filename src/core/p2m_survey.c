/*
 * A whole P2M read from outside (docs/p2m.md section 9,
 * include/pvboot/p2m_read.h): every entry through the tree, the list or both, each valid
 * frame checked against the M2P, the two ways compared pfn by pfn.  What a
 * dump tool reports about a domain, independent of where its frames come
 * from (a memory image, or a live domain's).
 */
#include <pvboot/p2m_read.h>

static void survey_restart(void *ctx)
{
	struct p2m_survey *s = ctx;

	s->counts = (struct p2m_counts){0};
	s->first_bad = ~0ULL;
	s->differ = 0;
}

/* The first pfn of a block whose entry the M2P contradicts, found only when the block has one. */
static void find_bad(struct p2m_survey *s, uint64_t pfn, const uint64_t *e, unsigned n)
{
	for (unsigned i = 0; i < n && s->first_bad == ~0ULL; i++) {
		struct p2m_counts one = {0};

		p2m_count_block(s->src, pfn + i, e + i, 1, &one);
		if (one.not_owned || one.m2p_other)
			s->first_bad = pfn + i;
	}
}

static int survey_block(void *ctx, uint64_t pfn, const uint64_t *tree, const uint64_t *list,
			unsigned n, struct pv_error *err)
{
	struct p2m_survey *s = ctx;
	const uint64_t *e = list ? list : tree;
	uint64_t bad = s->counts.not_owned + s->counts.m2p_other;

	(void)err;
	p2m_count_block(s->src, pfn, e, n, &s->counts);
	if (s->first_bad == ~0ULL && s->counts.not_owned + s->counts.m2p_other != bad)
		find_bad(s, pfn, e, n);
	for (unsigned i = 0; tree && list && i < n; i++) {
		if (tree[i] == list[i])
			continue;
		if (!s->differ++) {
			s->first_differ = pfn + i;
			s->first_tree = tree[i];
			s->first_list = list[i];
		}
	}
	return 0;
}

/*
 * Begin each way in @ways: keep those the domain publishes.  -1 with @err
 * when none can be read, or one asked for alone cannot, or one fails for
 * another reason than its absence.
 */
static int begin_ways(const struct p2m_src *src, unsigned ways, const struct p2m_arch *arch,
		      struct p2m_reader *rd, struct p2m_survey *s, struct pv_error *err)
{
	static const enum p2m_via via[2] = {P2M_VIA_TREE, P2M_VIA_LIST};
	unsigned found = 0;

	for (int k = 0; k < 2; k++) {
		s->r[k] = NULL;
		s->why[k] = (struct pv_error){0};
		if (!(ways & via[k]))
			continue;
		if (p2m_reader_begin(&rd[k], src, via[k], arch, &s->why[k]) == 0) {
			s->r[k] = &rd[k];
			found++;
		} else if (ways == via[k] || s->why[k].code != PV_ERR_UNSUPPORTED) {
			*err = s->why[k];
			return -1;
		}
	}
	if (!found)
		return pv_fail(err, PV_ERR_FORMAT, "no P2M to read: %s; %s", s->why[0].msg,
			       s->why[1].msg);
	return 0;
}

int p2m_survey(const struct p2m_src *src, unsigned ways, struct p2m_reader rd[2],
	       struct p2m_survey *s, struct pv_error *err)
{
	struct p2m_sink sink = {s, survey_restart, survey_block};

	*s = (struct p2m_survey){.src = src, .first_bad = ~0ULL};
	if (src->arch(src->ctx, &s->arch, err) || begin_ways(src, ways, &s->arch, rd, s, err))
		return -1;
	return p2m_read(src, s->r[0], s->r[1], 0, ~0ULL, &sink, &s->stats, err);
}
