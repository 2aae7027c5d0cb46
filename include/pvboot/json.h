/*
 * Host output helpers shared by the command and the real-boot harness: a
 * small streaming JSON writer (two-space indentation, keys in the order
 * written) and sizes for people.  Host code only: it writes to a FILE.
 */
#ifndef PVBOOT_JSON_H
#define PVBOOT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pvboot/layout.h>

struct json {
	FILE *f;
	int depth;
	bool first[32];
	bool pretty;
};

void json_begin(struct json *j, FILE *f);
void json_end(struct json *j);
void json_obj(struct json *j, const char *key); /* key NULL inside arrays */
void json_obj_end(struct json *j);
void json_arr(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *v);
void json_str_or_null(struct json *j, const char *key, const char *v); /* "" and NULL: null */
void json_u64(struct json *j, const char *key, uint64_t v);
void json_hex(struct json *j, const char *key, uint64_t v); /* "0x..." */
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/* A token as written, unquoted (a float, a negative count). */
void json_raw(struct json *j, const char *key, const char *raw);
/* Seconds with three decimals; null when negative (unknown). */
void json_seconds(struct json *j, const char *key, double s);
/* {"name", "vstart", "vend", "pfn", "pages", "mapped"}: one of layout's segments. */
void json_segment(struct json *j, const char *name, const struct pv_segment *seg);

/* Sizes for people: "128 GiB", "14.3 MiB". */
const char *human_bytes(uint64_t bytes, char *buf, size_t size);

#endif
