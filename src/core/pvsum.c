/* pvsum64, see <pvboot/pvsum.h>. */
#include <pvboot/pvsum.h>

/* The little-endian word at @p, whatever the alignment. */
static uint64_t le64(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

uint64_t pv_sum64(uint64_t h, const void *p, size_t bytes)
{
	const unsigned char *q = p;

	for (; bytes >= 8; bytes -= 8, q += 8)
		h = (h ^ le64(q, 8)) * PV_SUM64_PRIME;
	if (bytes)
		h = (h ^ le64(q, bytes)) * PV_SUM64_PRIME;
	return h;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void pv_pattern(uint64_t seed, uint64_t offset, void *buf, size_t bytes)
{
	uint8_t *b = buf;
	uint64_t i = offset / 8;

	while (bytes) {
		uint64_t w = splitmix64(seed + i++);
		size_t n = bytes < 8 ? bytes : 8;

		for (size_t k = 0; k < n; k++, w >>= 8)
			*b++ = (uint8_t)w;
		bytes -= n;
	}
}

uint64_t pv_pattern_sum(uint64_t bytes)
{
	uint64_t h = PV_SUM64_INIT, words = bytes / 8;
	unsigned tail = bytes % 8;

	for (uint64_t i = 0; i < words; i++)
		h = (h ^ splitmix64(bytes + i)) * PV_SUM64_PRIME;
	/* pv_pattern writes the last word's low bytes; pv_sum64 pads them with zeros. */
	if (tail)
		h = (h ^ (splitmix64(bytes + words) & ((1ULL << (8 * tail)) - 1))) * PV_SUM64_PRIME;
	return h;
}
