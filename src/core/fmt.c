/*
 * Freestanding printf subset; see include/pvboot/fmt.h for what it accepts.
 * Unknown conversions are copied through literally, so a bad format string
 * shows up in the output instead of reading a wrong argument.
 */
#include <stdbool.h>
#include <stdint.h>

#include <pvboot/fmt.h>

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters the full output would need */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static size_t str_len(const char *s, int max)
{
	size_t n = 0;

	while ((max < 0 || n < (size_t)max) && s[n])
		n++;
	return n;
}

struct spec {
	bool left, zero, alt;
	int width;
	int prec; /* -1: none */
};

static void emit_num(struct out *o, const struct spec *sp, uint64_t v, unsigned base, bool upper,
		     bool neg)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, prefix = 0, total;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);

	/* '#' adds 0x only to non-zero values, as C's printf does. */
	if (sp->alt && base == 16 && !(n == 1 && tmp[0] == '0'))
		prefix = 2;
	total = n + prefix + (neg ? 1 : 0);

	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - total);
	if (neg)
		put(o, '-');
	if (prefix) {
		put(o, '0');
		put(o, upper ? 'X' : 'x');
	}
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - total);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

size_t pv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	while (*fmt) {
		const char *start = fmt;
		struct spec sp = {false, false, false, 0, -1};
		int lng = 0;
		bool zsize = false;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else if (*fmt == '#')
				sp.alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			sp.width = va_arg(ap, int);
			if (sp.width < 0) {
				sp.left = true;
				sp.width = -sp.width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				sp.prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		if (*fmt == 'z') {
			zsize = true;
			fmt++;
		}

		switch (*fmt) {
		case '%':
			put(&o, '%');
			break;
		case 'c':
			pad(&o, ' ', sp.left ? 0 : sp.width - 1);
			put(&o, (char)va_arg(ap, int));
			pad(&o, ' ', sp.left ? sp.width - 1 : 0);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			n = str_len(s, sp.prec);
			if (!sp.left)
				pad(&o, ' ', sp.width - (int)n);
			for (size_t i = 0; i < n; i++)
				put(&o, s[i]);
			if (sp.left)
				pad(&o, ' ', sp.width - (int)n);
			break;
		}
		case 'd':
		case 'i': {
			int64_t v;

			if (zsize)
				v = (int64_t)va_arg(ap, ptrdiff_t);
			else if (lng)
				v = lng > 1 ? va_arg(ap, long long) : va_arg(ap, long);
			else
				v = va_arg(ap, int);
			emit_num(&o, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v;

			if (zsize)
				v = va_arg(ap, size_t);
			else if (lng)
				v = lng > 1 ? va_arg(ap, unsigned long long)
					    : va_arg(ap, unsigned long);
			else
				v = va_arg(ap, unsigned int);
			emit_num(&o, &sp, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', false);
			break;
		}
		case 'p': {
			struct spec ps = {false, true, false, 16, -1};

			emit_num(&o, &ps, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		}
		default:
			/* Not ours: copy the conversion through as written. */
			while (start <= fmt && *start)
				put(&o, *start++);
			if (!*fmt)
				continue;
			break;
		}
		fmt++;
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len;
}

size_t pv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = pv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
