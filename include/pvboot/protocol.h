/*
 * The guest protocol: what pvboot's kernel and the harness that boots it
 * say to each other, each word defined here once (docs/harness.md,
 * "The guest protocol").  Freestanding: the kernel, the simulation and the
 * harness all build it.
 *
 *   harness -> kernel   the command line: "mode=revector verify=full
 *                       ramdisk_sum=0x..." (a dom0's multiboot module
 *                       string, a domU's xl extra=)
 *   kernel -> harness   one line "PVBOOT-RESULT {json}" on the console,
 *                       and as dom0 a code written to QEMU's
 *                       isa-debug-exit port, which QEMU turns into its
 *                       exit status (code << 1) | 1
 */
#ifndef PVBOOT_PROTOCOL_H
#define PVBOOT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvboot/boot.h>
#include <pvboot/error.h>

/* ---- the command line ---- */

#define PV_ARG_MODE	   "mode"	 /* revector | no-revector | null | linear */
#define PV_ARG_VERIFY	   "verify"	 /* full | sample */
#define PV_ARG_RAMDISK_SUM "ramdisk_sum" /* 0x<hex>: pv_sum64 of the ramdisk, as the host computed it */

struct pv_guest_args {
	enum pv_boot_mode mode;
	bool verify_full;
	bool ramdisk_sum_given;
	uint64_t ramdisk_sum;
};

/* The defaults a kernel takes for words not given: revector, full. */
void pv_args_defaults(struct pv_guest_args *a);
/*
 * @a as command-line words into @buf: "mode=M verify=V", then
 * " ramdisk_sum=0x<16 hex digits>" when given.  Returns the length of the
 * whole text; it was cut short if that is >= @size.
 */
size_t pv_args_format(const struct pv_guest_args *a, char *buf, size_t size);
/*
 * Apply the space-separated words of @line to @a.  -1 with @err naming
 * the first word that is not one of the keys above with a valid value
 * (the rest are still applied); 0 when every word was.
 */
int pv_args_parse(const char *line, struct pv_guest_args *a, struct pv_error *err);

/* ---- the verdict as dom0: isa-debug-exit ---- */

#define PV_DEBUG_EXIT_PORT 0xf4
enum pv_exit_code {
	PV_EXIT_PASS = 0x10,	      /* every step ran, every check held, the module ran */
	PV_EXIT_FAIL = 0x11,	      /* a step failed, or a check did not hold */
	PV_EXIT_MODULE_FAILED = 0x12, /* every check held; the module did not load (the seed's bug) */
};
/* What QEMU exits with after the guest wrote @code to the port. */
#define PV_QEMU_STATUS(code) (((code) << 1) | 1)

/* The code a boot that returned @rc with @res (asked @a) ends with. */
enum pv_exit_code pv_exit_code_of(int rc, const struct pv_boot_result *res,
				  const struct pv_guest_args *a);
/* The code behind QEMU's exit @status, or -1 when the guest wrote none of ours. */
int pv_exit_code_from_status(int status);
/* "done, module loaded and ran", ... */
const char *pv_exit_code_meaning(int code);

/* ---- the result line ---- */

#define PV_RESULT_TAG "PVBOOT-RESULT "
/*
 * A buffer that always holds the JSON: every field at its longest, strings
 * all control bytes (six bytes each escaped); protocol_test formats that
 * and reads it back.
 */
#define PV_RESULT_JSON_MAX 2560

/* The fields of the result line, in the order they are written. */
enum pv_result_field {
	PV_RF_MODE,
	PV_RF_NR_PAGES,
	PV_RF_P2M_LEAVES_COPIED,
	PV_RF_KA_PMDS_REMOVED,
	PV_RF_KA_PMDS_LEFT,
	PV_RF_PFNS_VERIFIED,
	PV_RF_MISMATCHES,
	PV_RF_MODULE_ALLOC,
	PV_RF_MODULE_VADDR,
	PV_RF_MODULE_RAN,
	PV_RF_RAMDISK_BYTES,
	PV_RF_RAMDISK_SUM,
	PV_RF_RAMDISK_OK,
	PV_RF_PAGES_ALLOCATED,
	PV_RF_PAGES_FREED,
	PV_RF_PAGES_LEAKED,
	PV_RF_PAGES_DOUBLE_FREED,
	PV_RF_ERROR,
	PV_RF_NR
};
#define PV_RF_ALL ((1U << PV_RF_NR) - 1)

/* How a field's value is written in JSON. */
enum pv_json_type { PV_JSON_STRING, PV_JSON_NUMBER, PV_JSON_BOOL, PV_JSON_NULL };

/* The field's JSON key ("nr_pages"). */
const char *pv_result_key(enum pv_result_field f);
/* The field of @key, or -1. */
int pv_result_field_of(const char *key);
/*
 * The value of field @f of @r as text into @buf, a string unquoted and
 * unescaped, and its JSON type.  Returns the type.
 */
enum pv_json_type pv_result_value(const struct pv_boot_result *r, enum pv_result_field f,
				  char *buf, size_t size);
/*
 * The fields of @r in @fields (1 << enum pv_result_field) as one line of
 * JSON, without the tag, into @buf; PV_RESULT_JSON_MAX bytes always hold
 * it.  Returns the length of the whole line, as snprintf does.
 */
size_t pv_result_format(const struct pv_boot_result *r, uint32_t fields, char *buf, size_t size);
/*
 * Read a result line's JSON (without the tag): the fields it has into @r
 * (others left as they were) and their bits into @fields.  -1 with @err
 * saying where and why it stopped (not a flat object, an unknown key, a
 * key twice, or a value of the wrong type), and @fields 0: @r may hold
 * some of it, but no field counts.
 */
int pv_result_parse(const char *json, struct pv_boot_result *r, uint32_t *fields,
		    struct pv_error *err);

#endif
