/* Argument parsing and error reporting for the pvboot command. */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_error(const char *cmd, const struct pv_error *err)
{
	fprintf(stderr, "pvboot: %s: %s\n", cmd, err->msg);
	return pv_err_is_usage(err->code) ? EXIT_USAGE : EXIT_DATA;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pvboot: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int cli_nomem(const char *cmd)
{
	fprintf(stderr, "pvboot: %s: out of memory\n", cmd);
	return EXIT_DATA;
}

/* Decimal or 0x-hex, all of it, within 64 bits. */
int parse_u64(const char *what, const char *s, uint64_t *out, struct pv_error *err)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (!*p)
		return pv_fail(err, PV_ERR_USAGE, "%s: empty value", what);
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return pv_fail(err, PV_ERR_USAGE, "%s: '%s' has no digits", what, s);
	}
	for (; *p; p++) {
		unsigned d;

		if (isdigit((unsigned char)*p))
			d = *p - '0';
		else if (base == 16 && isxdigit((unsigned char)*p))
			d = tolower((unsigned char)*p) - 'a' + 10;
		else
			return pv_fail(err, PV_ERR_USAGE, "%s: '%s' is not a %s number", what, s,
				       base == 16 ? "hexadecimal" : "decimal");
		if (v > (UINT64_MAX - d) / base)
			return pv_fail(err, PV_ERR_RANGE, "%s: '%s' does not fit in 64 bits", what,
				       s);
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/*
 * A size: a number (decimal or 0x-hex) of bytes, or with a binary unit
 * K, M, G, T, P (optionally followed by "iB" or "B"): "131072M", "128G",
 * "1T", "0x10784000".
 */
int parse_size(const char *what, const char *s, uint64_t *bytes, struct pv_error *err)
{
	static const char units[] = "KMGTPE";
	char num[64];
	size_t n = strspn(s, "0123456789abcdefABCDEFxX");
	const char *unit = s + n;
	unsigned shift = 0;
	uint64_t v;

	/* "12G" parses the number "12"; a hex number keeps its letters. */
	if (!(n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))) {
		n = strspn(s, "0123456789");
		unit = s + n;
	}
	if (n == 0)
		return pv_fail(err, PV_ERR_USAGE, "%s: '%s' is not a size (try 128G or 131072M)",
			       what, s);
	if (n >= sizeof(num))
		return pv_fail(err, PV_ERR_RANGE, "%s: '%s' does not fit in 64 bits", what, s);
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(what, num, &v, err))
		return -1;
	if (*unit) {
		const char *u = strchr(units, toupper((unsigned char)*unit));
		const char *rest = unit + 1;

		if (!u && toupper((unsigned char)*unit) == 'B' && !unit[1]) {
			u = NULL;
			rest = unit + 1;
		} else if (!u) {
			return pv_fail(err, PV_ERR_USAGE,
				       "%s: '%s' has an unknown unit '%s' (use K, M, G, T, P or E)",
				       what, s, unit);
		} else {
			shift = 10 * (unsigned)(u - units + 1);
		}
		if (*rest && strcmp(rest, "iB") && strcmp(rest, "B") && strcmp(rest, "ib") &&
		    strcmp(rest, "b"))
			return pv_fail(err, PV_ERR_USAGE,
				       "%s: '%s' has an unknown unit '%s' (use K, M, G, T, P or E)",
				       what, s, unit);
	}
	if (shift && v > (UINT64_MAX >> shift))
		return pv_fail(err, PV_ERR_RANGE, "%s: '%s' does not fit in 64 bits", what, s);
	*bytes = v << shift;
	return 0;
}

int next_opt(int argc, char **argv, int *i, const struct opt *opts, const char **value,
	     const char **positional, struct pv_error *err)
{
	const char *arg, *eq;
	size_t len;

	*value = NULL;
	if (*i >= argc)
		return 0;
	arg = argv[(*i)++];
	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		if (positional && !*positional) {
			*positional = arg;
			return next_opt(argc, argv, i, opts, value, positional, err);
		}
		return pv_fail(err, PV_ERR_USAGE, "unexpected argument '%s'", arg);
	}
	arg += 2;
	eq = strchr(arg, '=');
	len = eq ? (size_t)(eq - arg) : strlen(arg);
	for (const struct opt *o = opts; o->name; o++) {
		if (strlen(o->name) != len || strncmp(o->name, arg, len) != 0)
			continue;
		if (!o->arg) {
			if (eq)
				return pv_fail(err, PV_ERR_USAGE, "--%s takes no value", o->name);
			return o->id;
		}
		if (eq) {
			*value = eq + 1;
		} else {
			if (*i >= argc)
				return pv_fail(err, PV_ERR_USAGE, "--%s needs a value", o->name);
			*value = argv[(*i)++];
		}
		return o->id;
	}
	return pv_fail(err, PV_ERR_USAGE, "unknown option '--%.*s'", (int)len, arg);
}

void opts_help(FILE *f, const struct opt *opts)
{
	for (const struct opt *o = opts; o->name; o++) {
		const char *h = o->help;
		char flag[64];

		if (!h)
			continue;
		snprintf(flag, sizeof(flag), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		if (!*h) {
			fprintf(f, "  %s\n", flag);
			continue;
		}
		fprintf(f, "  %-22s ", flag);
		for (size_t n = strcspn(h, "\n");; n = strcspn(h, "\n")) {
			fprintf(f, "%.*s\n", (int)n, h);
			if (!h[n])
				break;
			h += n + 1;
			fprintf(f, "%25s", "");
		}
	}
}

void cmd_help(const char *intro, const struct opt *opts, const char *outro)
{
	fputs(intro, stdout);
	opts_help(stdout, opts);
	if (outro)
		fputs(outro, stdout);
}

void opts_merge(struct opt *out, const struct opt *a, const struct opt *b)
{
	while (a->name)
		*out++ = *a++;
	while (b->name)
		*out++ = *b++;
	*out = (struct opt){0};
}
