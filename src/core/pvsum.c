/* pv_sum64; see include/pvboot/pvsum.h. */
#include <pvboot/pvsum.h>

uint64_t pv_sum64(uint64_t h, const void *p, size_t bytes)
{
	const uint8_t *b = p;
	size_t words = bytes / 8;

	for (size_t i = 0; i < words; i++, b += 8) {
		uint64_t w = 0;

		for (int k = 7; k >= 0; k--)
			w = w << 8 | b[k];
		h = (h ^ w) * PV_SUM64_PRIME;
	}
	if (bytes % 8) {
		uint64_t w = 0;

		for (int k = (int)(bytes % 8) - 1; k >= 0; k--)
			w = w << 8 | b[k];
		h = (h ^ w) * PV_SUM64_PRIME;
	}
	return h;
}
