/*
 * Page helpers the P2M tree (p2m.c) and the linear list (p2m_linear.c)
 * share: pages taken from and given back through the caller's struct
 * p2m_ops, counted, pages filled with one value, chains of spare pages,
 * and the error when pages run out.  Not part of the API.
 */
#ifndef PVBOOT_CORE_P2M_PAGE_H
#define PVBOOT_CORE_P2M_PAGE_H

#include <pvboot/p2m.h>
#include <pvboot/x86.h>

/* A page from @ops (not zeroed), counted in *@held; NULL when memory runs out. */
static inline void *p2m_page_alloc(const struct p2m_ops *ops, uint64_t *held)
{
	void *pg = ops->alloc_page(ops->ctx);

	if (pg)
		(*held)++;
	return pg;
}

/* Give @pg back through @ops and uncount it; NULL is nothing to give. */
static inline void p2m_page_free(const struct p2m_ops *ops, uint64_t *held, void *pg)
{
	if (!pg)
		return;
	ops->free_page(ops->ctx, pg);
	(*held)--;
}

/* The machine frame behind @page (virt_to_mfn). */
static inline mfn_t p2m_page_mfn(const struct p2m_ops *ops, const void *page)
{
	return ops->virt_to_mfn(ops->ctx, page);
}

/* @v in each of a page's P2M_PER_PAGE entries. */
static inline void p2m_page_fill(uint64_t *page, uint64_t v)
{
	for (unsigned i = 0; i < P2M_PER_PAGE; i++)
		page[i] = v;
}

/* @v in each of a page of pointers (the tree's mid and top pages). */
static inline void p2m_page_fill_ptr(void **page, void *v)
{
	for (unsigned i = 0; i < P2M_PER_PAGE; i++)
		page[i] = v;
}

/*
 * A chain of spare pages, linked through their first word while they wait,
 * so that taking all of an operation's pages up front costs no memory
 * beyond the pages themselves (the all-or-nothing of p2m_revector and of
 * every change to the linear list).
 */
static inline void p2m_chain_push(void **chain, void *page)
{
	*(void **)page = *chain;
	*chain = page;
}

/* The chain's first page; the chain must not be empty. */
static inline void *p2m_chain_pop(void **chain)
{
	void *page = *chain;

	*chain = *(void **)page;
	return page;
}

/* Running out of pages, in the one wording both use. */
static inline int p2m_nomem(struct pv_error *err, const char *what)
{
	return pv_fail(err, PV_ERR_NOMEM, "p2m: out of memory for %s", what);
}

#endif
