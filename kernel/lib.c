/*
 * What the compiler may call on its own in freestanding code: memcpy,
 * memmove, memset, memcmp.  Eight bytes at a time where both ends allow,
 * since revectoring a P2M copies up to 1 GiB and every byte is emulated
 * under TCG.
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;

	if (!(((uintptr_t)dst | (uintptr_t)src | n) & 7)) {
		size_t q = n / 8;

		asm volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q) : : "memory");
		return ret;
	}
	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;

	if (!(((uintptr_t)dst | n) & 7)) {
		uint64_t v = 0x0101010101010101ULL * (unsigned char)c;
		size_t q = n / 8;

		asm volatile("rep stosq" : "+D"(dst), "+c"(q) : "a"(v) : "memory");
		return ret;
	}
	asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}
