/* The two backends behind struct p2m_if; see include/pvboot/p2m_if.h. */
#include <pvboot/p2m_if.h>

static uint64_t tree_get(const void *impl, pfn_t pfn)
{
	return p2m_get(impl, pfn);
}

static int tree_set(void *impl, pfn_t pfn, uint64_t entry, struct pv_error *err)
{
	return p2m_set(impl, pfn, entry, err);
}

static int64_t tree_set_identity(void *impl, pfn_t s, pfn_t e, struct pv_error *err)
{
	return p2m_set_identity(impl, s, e, err);
}

static const uint64_t *tree_leaf(const void *impl, pfn_t pfn)
{
	return p2m_leaf(impl, pfn);
}

static int tree_build(void *impl, mfn_t *frame_list_list, struct pv_error *err)
{
	return p2m_build_mfn_tree(impl, frame_list_list, err);
}

struct p2m_if p2m_if_tree(struct p2m *p)
{
	return (struct p2m_if){
		.name = "tree",
		.impl = p,
		.get = tree_get,
		.set = tree_set,
		.set_identity = tree_set_identity,
		.leaf = tree_leaf,
		.build_mfn_tree = tree_build,
		.max_pfn = p->max_pfn,
	};
}

static uint64_t linear_get(const void *impl, pfn_t pfn)
{
	return p2m_linear_get(impl, pfn);
}

static int linear_set(void *impl, pfn_t pfn, uint64_t entry, struct pv_error *err)
{
	return p2m_linear_set(impl, pfn, entry, err);
}

static int64_t linear_set_identity(void *impl, pfn_t s, pfn_t e, struct pv_error *err)
{
	return p2m_linear_set_identity(impl, s, e, err);
}

static const uint64_t *linear_leaf(const void *impl, pfn_t pfn)
{
	return p2m_linear_leaf(impl, pfn);
}

static int linear_build(void *impl, mfn_t *frame_list_list, struct pv_error *err)
{
	return p2m_linear_build_mfn_tree(impl, frame_list_list, err);
}

struct p2m_if p2m_if_linear(struct p2m_linear *l)
{
	return (struct p2m_if){
		.name = "linear",
		.impl = l,
		.get = linear_get,
		.set = linear_set,
		.set_identity = linear_set_identity,
		.leaf = linear_leaf,
		.build_mfn_tree = linear_build,
		.max_pfn = l->max_pfn,
	};
}
