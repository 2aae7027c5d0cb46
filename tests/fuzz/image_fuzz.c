/*
 * libFuzzer target for the kernel-image reader: any bytes given to
 * pv_image_read_mem must come back as a clean success or a clean failure.
 * ASan and UBSan catch over-reads and overflows; the checks below catch
 * results that would break the callers' assumptions.  A broken invariant
 * traps, which libFuzzer reports as a crash with the input saved.
 *
 * Built by the Makefile (fuzz, fuzz-run) with clang -fsanitize=fuzzer,
 * address,undefined; run by tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pvboot/image.h>

#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pv_image img;
	struct pv_error err = { 0 };
	const struct pv_dom_parms *p = &img.parms;

	if (pv_image_read_mem(data, size, &img, &err)) {
		check_error(&err);
		return 0;
	}

	/* What elf_xen_addr_calc_check guarantees the builders. */
	check(img.elf_class == 64);
	check(p->virt_kstart <= p->virt_kend);
	check(p->virt_entry >= p->virt_kstart && p->virt_entry <= p->virt_kend);
	check(p->virt_base <= p->virt_kstart);
	check(p->p2m_base == PV_UNSET_ADDR || p->p2m_base < p->virt_kstart ||
	      p->p2m_base >= p->virt_kend);
	check(img.elf_size <= (1u << 30));
	for (unsigned t = 0; t < PV_NOTE_NR; t++) {
		const struct pv_note *n = &img.notes[t];

		check(!n->present || n->type == t);
		check(memchr(n->str, '\0', sizeof(n->str)) != NULL);
		check(n->nwords <= PV_NOTE_WORDS_MAX);
	}
	return 0;
}
