/* The two backends behind struct p2m_if; see include/pvboot/p2m_if.h. */
#include <pvboot/p2m_if.h>

/*
 * A backend's constructor, p2m_if_<NAME>(), and its five adapters from
 * struct p2m_if's void * to the backend's own type: each only calls the
 * backend's function of that name.
 */
#define P2M_IF_BACKEND(NAME, TYPE, GET, SET, SET_IDENTITY, LEAF, BUILD_MFN_TREE)                   \
	static uint64_t NAME##_get(const void *impl, pfn_t pfn)                                    \
	{                                                                                          \
		return GET(impl, pfn);                                                             \
	}                                                                                          \
	static int NAME##_set(void *impl, pfn_t pfn, uint64_t entry, struct pv_error *err)         \
	{                                                                                          \
		return SET(impl, pfn, entry, err);                                                 \
	}                                                                                          \
	static int64_t NAME##_set_identity(void *impl, pfn_t s, pfn_t e, struct pv_error *err)     \
	{                                                                                          \
		return SET_IDENTITY(impl, s, e, err);                                              \
	}                                                                                          \
	static const uint64_t *NAME##_leaf(const void *impl, pfn_t pfn)                            \
	{                                                                                          \
		return LEAF(impl, pfn);                                                            \
	}                                                                                          \
	static int NAME##_build(void *impl, mfn_t *frame_list_list, struct pv_error *err)          \
	{                                                                                          \
		return BUILD_MFN_TREE(impl, frame_list_list, err);                                 \
	}                                                                                          \
	struct p2m_if p2m_if_##NAME(TYPE *b)                                                       \
	{                                                                                          \
		return (struct p2m_if){                                                            \
			.name = #NAME,                                                             \
			.impl = b,                                                                 \
			.get = NAME##_get,                                                         \
			.set = NAME##_set,                                                         \
			.set_identity = NAME##_set_identity,                                       \
			.leaf = NAME##_leaf,                                                       \
			.build_mfn_tree = NAME##_build,                                            \
			.max_pfn = b->max_pfn,                                                     \
		};                                                                                 \
	}

P2M_IF_BACKEND(tree, struct p2m, p2m_get, p2m_set, p2m_set_identity, p2m_leaf, p2m_build_mfn_tree)
P2M_IF_BACKEND(linear, struct p2m_linear, p2m_linear_get, p2m_linear_set, p2m_linear_set_identity,
	       p2m_linear_leaf, p2m_linear_build_mfn_tree)
