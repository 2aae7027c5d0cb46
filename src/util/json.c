/* A small streaming JSON writer: two-space indentation, keys in order. */
#include <pvboot/json.h>

void json_begin(struct json *j, FILE *f)
{
	*j = (struct json){.f = f, .pretty = true};
	j->first[0] = true;
}

void json_end(struct json *j)
{
	fputc('\n', j->f);
}

static void newline(struct json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c); /* bytes of notes are not always UTF-8 */
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Comma, line break, and the key if there is one. */
static void item(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (!j->first[j->depth])
			fputc(',', j->f);
		newline(j);
	}
	j->first[j->depth] = false;
	if (key) {
		put_string(j->f, key);
		fputs(": ", j->f);
	}
}

static void open_scope(struct json *j, const char *key, char c)
{
	item(j, key);
	fputc(c, j->f);
	j->depth++;
	j->first[j->depth] = true;
}

static void close_scope(struct json *j, char c)
{
	bool empty = j->first[j->depth];

	j->depth--;
	if (!empty)
		newline(j);
	fputc(c, j->f);
}

void json_obj(struct json *j, const char *key)
{
	open_scope(j, key, '{');
}

void json_obj_end(struct json *j)
{
	close_scope(j, '}');
}

void json_arr(struct json *j, const char *key)
{
	open_scope(j, key, '[');
}

void json_arr_end(struct json *j)
{
	close_scope(j, ']');
}

void json_str(struct json *j, const char *key, const char *v)
{
	item(j, key);
	put_string(j->f, v);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	item(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_hex(struct json *j, const char *key, uint64_t v)
{
	item(j, key);
	fprintf(j->f, "\"0x%llx\"", (unsigned long long)v);
}

void json_bool(struct json *j, const char *key, bool v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	item(j, key);
	fputs("null", j->f);
}

void json_raw(struct json *j, const char *key, const char *raw)
{
	item(j, key);
	fputs(raw, j->f);
}

void json_seconds(struct json *j, const char *key, double s)
{
	char buf[32];

	if (s < 0) {
		json_null(j, key);
		return;
	}
	snprintf(buf, sizeof(buf), "%.3f", s);
	json_raw(j, key, buf);
}

void json_str_or_null(struct json *j, const char *key, const char *v)
{
	if (v && v[0])
		json_str(j, key, v);
	else
		json_null(j, key);
}

void json_segment(struct json *j, const char *name, const struct pv_segment *seg)
{
	json_obj(j, NULL);
	json_str(j, "name", name);
	json_hex(j, "vstart", seg->vstart);
	json_hex(j, "vend", seg->vend);
	if (seg->pfn == PV_UNSET_ADDR)
		json_null(j, "pfn");
	else
		json_hex(j, "pfn", seg->pfn);
	json_u64(j, "pages", seg->pages);
	json_bool(j, "mapped", seg->mapped);
	json_obj_end(j);
}

const char *human_bytes(uint64_t bytes, char *buf, size_t size)
{
	static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	else if (v == (double)(uint64_t)v)
		snprintf(buf, size, "%llu %s", (unsigned long long)v, unit[u]);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
	return buf;
}
