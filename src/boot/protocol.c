/*
 * The guest protocol (include/pvboot/protocol.h, docs/harness.md): the
 * command line the harness gives pvboot's kernel, the code the kernel ends
 * with, and its PVBOOT-RESULT line, each written and read here and nowhere
 * else.  Freestanding, so the kernel formats what the harness parses with
 * the same table.
 */
#include <pvboot/fmt.h>
#include <pvboot/protocol.h>

/* ---- small string helpers (no libc here) ---- */

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* @s starts with "@key=": the value after it, else NULL. */
static const char *value_of(const char *s, const char *key)
{
	while (*key && *s == *key)
		s++, key++;
	return !*key && *s == '=' ? s + 1 : NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* "0x" and 1 to 16 hex digits, all of @s. */
static int parse_hex(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int digits = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (s += 2; *s; s++, digits++) {
		int d = hex_digit(*s);

		if (d < 0 || digits == 16)
			return -1;
		x = x << 4 | (unsigned)d;
	}
	*v = x;
	return digits ? 0 : -1;
}

/* ---- the command line ---- */

void pv_args_defaults(struct pv_guest_args *a)
{
	*a = (struct pv_guest_args){.mode = PV_MODE_REVECTOR, .verify_full = true};
}

size_t pv_args_format(const struct pv_guest_args *a, char *buf, size_t size)
{
	size_t n = pv_snprintf(buf, size, PV_ARG_MODE "=%s " PV_ARG_VERIFY "=%s",
			       pv_boot_mode_name(a->mode), a->verify_full ? "full" : "sample");

	if (a->ramdisk_sum_given)
		n += pv_snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0,
				 " " PV_ARG_RAMDISK_SUM "=0x%016llx",
				 (unsigned long long)a->ramdisk_sum);
	return n;
}

/* One word; -1 with @err (the first bad word wins) if it is not ours. */
static int apply_word(const char *word, struct pv_guest_args *a, struct pv_error *err)
{
	const char *v;

	if ((v = value_of(word, PV_ARG_MODE))) {
		if (pv_boot_mode_parse(v, &a->mode))
			return pv_fail(err, PV_ERR_USAGE,
				       "unknown mode '%s' (revector, no-revector, null or linear)", v);
	} else if ((v = value_of(word, PV_ARG_VERIFY))) {
		if (!str_eq(v, "full") && !str_eq(v, "sample"))
			return pv_fail(err, PV_ERR_USAGE, "unknown verify '%s' (full or sample)", v);
		a->verify_full = str_eq(v, "full");
	} else if ((v = value_of(word, PV_ARG_RAMDISK_SUM))) {
		a->ramdisk_sum_given = true;
		if (parse_hex(v, &a->ramdisk_sum))
			return pv_fail(err, PV_ERR_USAGE,
				       "ramdisk_sum '%s' is not a 64-bit hex number", v);
	} else {
		return pv_fail(err, PV_ERR_USAGE, "unknown option '%s'", word);
	}
	return 0;
}

int pv_args_parse(const char *line, struct pv_guest_args *a, struct pv_error *err)
{
	int rc = 0;

	while (*line) {
		char word[128];
		size_t n = 0;

		while (*line == ' ')
			line++;
		while (*line && *line != ' ') {
			if (n < sizeof(word) - 1)
				word[n++] = *line;
			line++;
		}
		word[n] = '\0';
		if (n && apply_word(word, a, rc ? NULL : err))
			rc = -1;
	}
	return rc;
}

/* ---- the exit code ---- */

enum pv_exit_code pv_exit_code_of(int rc, const struct pv_boot_result *res,
				  const struct pv_guest_args *a)
{
	if (rc || res->error[0] || res->mismatches || res->pages_leaked ||
	    res->pages_double_freed ||
	    (a->ramdisk_sum_given && a->mode != PV_MODE_NULL && res->ramdisk_ok != 1))
		return PV_EXIT_FAIL;
	if (a->mode != PV_MODE_NULL && !(res->module_ok && res->module_ran))
		return PV_EXIT_MODULE_FAILED;
	return PV_EXIT_PASS;
}

int pv_exit_code_from_status(int status)
{
	int code = status >> 1;

	if (!(status & 1))
		return -1;
	return code == PV_EXIT_PASS || code == PV_EXIT_FAIL || code == PV_EXIT_MODULE_FAILED
		       ? code
		       : -1;
}

const char *pv_exit_code_meaning(int code)
{
	switch (code) {
	case PV_EXIT_PASS:
		return "done, module loaded and ran";
	case PV_EXIT_FAIL:
		return "a failure";
	case PV_EXIT_MODULE_FAILED:
		return "done, the module did not load";
	}
	return "not a code the kernel writes";
}

/* ---- the result line ---- */

/* How a field is kept in struct pv_boot_result and written in JSON. */
enum rkind {
	RK_MODE,    /* enum pv_boot_mode, as its name */
	RK_U64,	    /* a number */
	RK_I64,	    /* a number that may be negative */
	RK_HEX,	    /* a uint64_t as the string "0x..." */
	RK_HEX16,   /* the same with 16 digits */
	RK_BOOL,    /* bool */
	RK_TRISTATE, /* int: 1 true, 0 false, -1 null */
	RK_STRING,  /* char[] */
};

static const struct {
	const char *key;
	enum rkind kind;
	size_t offset, size;
} fields[PV_RF_NR] = {
#define F(id, key, kind, member)                                                                   \
	[id] = {key, kind, offsetof(struct pv_boot_result, member),                     \
		sizeof(((struct pv_boot_result *)0)->member)}
	F(PV_RF_MODE, "mode", RK_MODE, mode),
	F(PV_RF_NR_PAGES, "nr_pages", RK_U64, nr_pages),
	F(PV_RF_P2M_LEAVES_COPIED, "p2m_leaves_copied", RK_U64, p2m_leaves_copied),
	F(PV_RF_KA_PMDS_REMOVED, "ka_pmds_removed", RK_U64, ka_pmds_removed),
	F(PV_RF_KA_PMDS_LEFT, "ka_pmds_left", RK_U64, ka_pmds_left),
	F(PV_RF_PFNS_VERIFIED, "pfns_verified", RK_U64, pfns_verified),
	F(PV_RF_MISMATCHES, "mismatches", RK_U64, mismatches),
	F(PV_RF_MODULE_ALLOC, "module_alloc", RK_STRING, module_alloc),
	F(PV_RF_MODULE_VADDR, "module_vaddr", RK_HEX, module_vaddr),
	F(PV_RF_MODULE_RAN, "module_ran", RK_BOOL, module_ran),
	F(PV_RF_RAMDISK_BYTES, "ramdisk_bytes", RK_U64, ramdisk_bytes),
	F(PV_RF_RAMDISK_SUM, "ramdisk_sum", RK_HEX16, ramdisk_sum),
	F(PV_RF_RAMDISK_OK, "ramdisk_ok", RK_TRISTATE, ramdisk_ok),
	F(PV_RF_PAGES_ALLOCATED, "pages_allocated", RK_U64, pages_allocated),
	F(PV_RF_PAGES_FREED, "pages_freed", RK_U64, pages_freed),
	F(PV_RF_PAGES_LEAKED, "pages_leaked", RK_I64, pages_leaked),
	F(PV_RF_PAGES_DOUBLE_FREED, "pages_double_freed", RK_U64, pages_double_freed),
	F(PV_RF_ERROR, "error", RK_STRING, error),
#undef F
};

const char *pv_result_key(enum pv_result_field f)
{
	return (unsigned)f < PV_RF_NR ? fields[f].key : "?";
}

int pv_result_field_of(const char *key)
{
	for (int i = 0; i < PV_RF_NR; i++)
		if (str_eq(fields[i].key, key))
			return i;
	return -1;
}

static void *member(const struct pv_boot_result *r, enum pv_result_field f)
{
	return (char *)r + fields[f].offset;
}

enum pv_json_type pv_result_value(const struct pv_boot_result *r, enum pv_result_field f,
				  char *buf, size_t size)
{
	const void *m = member(r, f);

	switch (fields[f].kind) {
	case RK_MODE:
		pv_snprintf(buf, size, "%s", pv_boot_mode_name(r->mode));
		return PV_JSON_STRING;
	case RK_U64:
		pv_snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)m);
		return PV_JSON_NUMBER;
	case RK_I64:
		pv_snprintf(buf, size, "%lld", (long long)*(const int64_t *)m);
		return PV_JSON_NUMBER;
	case RK_HEX:
		pv_snprintf(buf, size, "0x%llx", (unsigned long long)*(const uint64_t *)m);
		return PV_JSON_STRING;
	case RK_HEX16:
		pv_snprintf(buf, size, "0x%016llx", (unsigned long long)*(const uint64_t *)m);
		return PV_JSON_STRING;
	case RK_BOOL:
		pv_snprintf(buf, size, "%s", *(const bool *)m ? "true" : "false");
		return PV_JSON_BOOL;
	case RK_TRISTATE:
		if (*(const int *)m < 0) {
			pv_snprintf(buf, size, "null");
			return PV_JSON_NULL;
		}
		pv_snprintf(buf, size, "%s", *(const int *)m ? "true" : "false");
		return PV_JSON_BOOL;
	case RK_STRING:
		pv_snprintf(buf, size, "%s", (const char *)m);
		return PV_JSON_STRING;
	}
	return PV_JSON_NULL;
}

/* Append @s to @buf at *@n as a JSON string: quotes, backslashes and control bytes escaped. */
static void put_json_string(char *buf, size_t size, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[8];

	*n += pv_snprintf(*n < size ? buf + *n : NULL, *n < size ? size - *n : 0, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pv_snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20)
			pv_snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		else
			pv_snprintf(esc, sizeof(esc), "%c", c);
		*n += pv_snprintf(*n < size ? buf + *n : NULL, *n < size ? size - *n : 0, "%s",
				  esc);
	}
	*n += pv_snprintf(*n < size ? buf + *n : NULL, *n < size ? size - *n : 0, "\"");
}

size_t pv_result_format(const struct pv_boot_result *r, uint32_t which, char *buf, size_t size)
{
	char value[sizeof(r->error) + 8];
	size_t n = pv_snprintf(buf, size, "{");
	bool first = true;

	for (int f = 0; f < PV_RF_NR; f++) {
		if (!(which & 1U << f))
			continue;
		n += pv_snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, "%s\"%s\":",
				 first ? "" : ",", fields[f].key);
		first = false;
		if (pv_result_value(r, (enum pv_result_field)f, value, sizeof(value)) ==
		    PV_JSON_STRING)
			put_json_string(buf, size, &n, value);
		else
			n += pv_snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, "%s",
					 value);
	}
	n += pv_snprintf(n < size ? buf + n : NULL, n < size ? size - n : 0, "}");
	return n;
}

/* ---- reading it back ---- */

struct reader {
	const char *start, *p;
	struct pv_error *err;
};

static int rd_fail(struct reader *rd, const char *what)
{
	return pv_fail(rd->err, PV_ERR_FORMAT, "%s at column %d", what,
		       (int)(rd->p - rd->start) + 1);
}

static void skip_space(struct reader *rd)
{
	while (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n' || *rd->p == '\r')
		rd->p++;
}

/* Append the UTF-8 of code point @c (below 0x10000) to @out; its length. */
static size_t put_utf8(unsigned c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | c >> 12);
	out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[2] = (char)(0x80 | (c & 0x3f));
	return 3;
}

/* A JSON string into @out (@size bytes with its NUL). */
static int read_string(struct reader *rd, char *out, size_t size)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	size_t n = 0;

	if (*rd->p != '"')
		return rd_fail(rd, "expected a string");
	for (rd->p++; *rd->p != '"'; rd->p++) {
		unsigned char c = (unsigned char)*rd->p;
		char buf[4] = {(char)c};
		size_t len = 1;

		if (c == '\0')
			return rd_fail(rd, "unterminated string");
		if (c < 0x20)
			return rd_fail(rd, "control character in a string");
		if (c == '\\' && rd->p[1] == 'u') {
			unsigned v = 0;

			for (int i = 2; i <= 5; i++) {
				int d = hex_digit(rd->p[i]);

				if (d < 0)
					return rd_fail(rd, "bad \\u escape");
				v = v << 4 | (unsigned)d;
			}
			rd->p += 5;
			len = put_utf8(v, buf);
		} else if (c == '\\') {
			const char *e = esc;

			rd->p++;
			while (*e && *e != *rd->p)
				e += 2;
			if (!*e || !*rd->p)
				return rd_fail(rd, "bad escape");
			buf[0] = e[1];
		}
		if (n + len >= size)
			return rd_fail(rd, "string too long");
		for (size_t i = 0; i < len; i++)
			out[n++] = buf[i];
	}
	rd->p++;
	out[n] = '\0';
	return 0;
}

/* A decimal integer, within 64 bits: -?(0|[1-9][0-9]*). */
static int read_integer(struct reader *rd, bool allow_negative, int64_t *sv, uint64_t *uv)
{
	bool negative = *rd->p == '-';
	uint64_t x = 0;

	if (negative) {
		if (!allow_negative)
			return rd_fail(rd, "a negative count");
		rd->p++;
	}
	if (*rd->p < '0' || *rd->p > '9')
		return rd_fail(rd, "expected a number");
	if (*rd->p == '0' && rd->p[1] >= '0' && rd->p[1] <= '9')
		return rd_fail(rd, "leading zero in a number");
	for (; *rd->p >= '0' && *rd->p <= '9'; rd->p++) {
		unsigned d = (unsigned)(*rd->p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return rd_fail(rd, "number out of range");
		x = x * 10 + d;
	}
	if (*rd->p == '.' || *rd->p == 'e' || *rd->p == 'E')
		return rd_fail(rd, "expected a whole number");
	if (allow_negative && x > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return rd_fail(rd, "number out of range");
	*uv = x;
	*sv = negative ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

/* @word ("true", ...) at the reader: consumed and true, else false. */
static bool read_word(struct reader *rd, const char *word)
{
	size_t n = str_len(word);

	for (size_t i = 0; i < n; i++)
		if (rd->p[i] != word[i])
			return false;
	rd->p += n;
	return true;
}

/* The value of field @f into @r. */
static int read_value(struct reader *rd, struct pv_boot_result *r, enum pv_result_field f)
{
	void *m = member(r, f);
	char text[sizeof(r->error)];
	uint64_t u = 0;
	int64_t s = 0;
	bool t;

	switch (fields[f].kind) {
	case RK_MODE:
		if (read_string(rd, text, sizeof(text)))
			return -1;
		if (pv_boot_mode_parse(text, &r->mode))
			return rd_fail(rd, "unknown mode");
		return 0;
	case RK_U64:
	case RK_I64:
		if (read_integer(rd, fields[f].kind == RK_I64, &s, &u))
			return -1;
		if (fields[f].kind == RK_I64)
			*(int64_t *)m = s;
		else
			*(uint64_t *)m = u;
		return 0;
	case RK_HEX:
	case RK_HEX16:
		if (read_string(rd, text, sizeof(text)))
			return -1;
		if (parse_hex(text, (uint64_t *)m))
			return rd_fail(rd, "expected a \"0x...\" string");
		return 0;
	case RK_TRISTATE:
		if (read_word(rd, "null")) {
			*(int *)m = -1;
			return 0;
		}
		if ((t = read_word(rd, "true")) || read_word(rd, "false")) {
			*(int *)m = t;
			return 0;
		}
		return rd_fail(rd, "expected true, false or null");
	case RK_BOOL:
		if ((t = read_word(rd, "true")) || read_word(rd, "false")) {
			*(bool *)m = t;
			return 0;
		}
		return rd_fail(rd, "expected true or false");
	case RK_STRING:
		return read_string(rd, (char *)m, fields[f].size);
	}
	return rd_fail(rd, "unknown field kind");
}

static int parse_object(const char *json, struct pv_boot_result *r, uint32_t *which,
			struct pv_error *err);

int pv_result_parse(const char *json, struct pv_boot_result *r, uint32_t *which,
		    struct pv_error *err)
{
	/* A line that does not read gives no field, whatever it read before it stopped. */
	if (parse_object(json, r, which, err)) {
		*which = 0;
		return -1;
	}
	return 0;
}

static int parse_object(const char *json, struct pv_boot_result *r, uint32_t *which,
			struct pv_error *err)
{
	struct reader rd = {.start = json, .p = json, .err = err};
	char key[48];

	*which = 0;
	skip_space(&rd);
	if (*rd.p != '{')
		return rd_fail(&rd, "expected '{'");
	rd.p++;
	skip_space(&rd);
	while (*rd.p != '}') {
		int f;

		if (*which) {
			if (*rd.p != ',')
				return rd_fail(&rd, "expected ',' or '}'");
			rd.p++;
			skip_space(&rd);
		}
		if (read_string(&rd, key, sizeof(key)))
			return -1;
		f = pv_result_field_of(key);
		if (f < 0)
			return rd_fail(&rd, "unknown field");
		if (*which & 1U << f)
			return rd_fail(&rd, "a field twice");
		skip_space(&rd);
		if (*rd.p != ':')
			return rd_fail(&rd, "expected ':'");
		rd.p++;
		skip_space(&rd);
		if (read_value(&rd, r, (enum pv_result_field)f))
			return -1;
		*which |= 1U << f;
		skip_space(&rd);
	}
	rd.p++;
	skip_space(&rd);
	if (*rd.p)
		return rd_fail(&rd, "text after the object");
	/* Not a field of its own: the module loaded exactly when module_alloc says "ok". */
	if (*which & 1U << PV_RF_MODULE_ALLOC)
		r->module_ok = str_eq(r->module_alloc, "ok");
	return 0;
}
