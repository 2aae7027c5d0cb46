/*
 * pv_layout_limits(): bisection over the guest's size.
 *
 * Below some size a builder refuses the guest (not enough memory for the
 * initial mapping, a segment too large); above another the initial mapping
 * runs off the top of the address space.  In between, every warning's
 * condition is monotonic in the size: the P2M list, and with it the mapping,
 * only grows.  So "fails or warns" is false below some size and true from
 * it on, and bisection finds the edge in about 25 layouts instead of one per
 * size.
 */
#include <pvboot/layout.h>

/* Errors that mean "the guest is too small for this kernel". */
static bool too_small(enum pv_errcode code)
{
	return code == PV_ERR_INITIAL_MAPPING || code == PV_ERR_SEGMENT_TOO_LARGE ||
	       code == PV_ERR_PFN_RANGE || code == PV_ERR_DOM0_TOO_SMALL;
}

struct probe {
	struct pv_layout_in in;
	struct pv_limits *out;
	struct pv_layout l;
	struct pv_error err;
};

/* Lay out @steps * step pages; returns 0, or the error code. */
static enum pv_errcode try(struct probe *p, uint64_t pages)
{
	p->in.nr_pages = pages;
	p->out->layouts++;
	if (pv_layout_build(&p->in, &p->l, NULL, &p->err))
		return p->err.code;
	return PV_OK;
}

/* The first k in [lo, hi] with pred(k), or hi + 1 if none; pred is monotonic. */
static uint64_t first_true(struct probe *p, uint64_t lo, uint64_t hi, uint64_t step,
			   bool (*pred)(struct probe *, uint64_t, int), int arg)
{
	uint64_t a = lo, b = hi + 1;

	while (a < b) {
		uint64_t mid = a + (b - a) / 2;

		if (pred(p, mid * step, arg))
			b = mid;
		else
			a = mid + 1;
	}
	return a;
}

static bool builds_or_too_big(struct probe *p, uint64_t pages, int unused)
{
	enum pv_errcode e = try(p, pages);

	(void)unused;
	return !too_small(e);
}

static bool fails(struct probe *p, uint64_t pages, int unused)
{
	(void)unused;
	return try(p, pages) != PV_OK;
}

static bool fails_or_warns(struct probe *p, uint64_t pages, int w)
{
	if (try(p, pages) != PV_OK)
		return true;
	return pv_layout_warnings(&p->l) & (1U << w);
}

int pv_layout_limits(const struct pv_layout_in *in, uint64_t step, struct pv_limits *out,
		     struct pv_error *err)
{
	struct probe p = {.in = *in, .out = out};
	uint64_t max = PV_MAX_PAGES / step, first, bad;

	*out = (struct pv_limits){0};
	if (step == 0 || step > PV_MAX_PAGES)
		return pv_fail(err, PV_ERR_RANGE, "limits: a step of %llu pages makes no sense",
			       (unsigned long long)step);

	first = first_true(&p, 1, max, step, builds_or_too_big, 0);
	if (first > max || try(&p, first * step) != PV_OK) {
		if (first > max)
			try(&p, max * step);
		*err = p.err;
		return -1;
	}
	out->smallest = first * step;

	bad = first_true(&p, first, max, step, fails, 0);
	out->largest = (bad - 1) * step;
	out->largest_is_max = bad > max;
	if (!out->largest_is_max)
		try(&p, bad * step), out->too_large = p.err;

	for (int w = 0; w < PV_WARN_NR; w++) {
		struct pv_limit *lim = &out->limit[w];

		bad = first_true(&p, first, max, step, fails_or_warns, w);
		lim->always = bad == first;
		lim->never = bad > max;
		lim->largest = (bad - 1) * step;
		lim->builder_first = !lim->never && try(&p, bad * step) != PV_OK;
	}
	return 0;
}
