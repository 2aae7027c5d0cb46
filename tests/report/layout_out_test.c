/*
 * The layout's renderings (src/report/layout_out.c, layout_svg.c) called
 * as a library, without the pvboot command: each names a segment in its
 * own spelling from the one table, the ramdisk as its builder does, and
 * shows what the caller says of the guest (the seed's parts, the notes).
 * tests/cli/layout_cli_test checks the same outputs through the command.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvboot/report.h>
#include <pvboot/seed.h>
#include <pvboot/x86.h>

/* The seed's 128 GiB guest, as @b lays it out. */
static void seed_layout(enum pv_builder b, struct pv_layout_in *in, struct pv_layout *l)
{
	struct pv_error err = {0};

	*in = (struct pv_layout_in){
		.builder = b,
		.nr_pages = PV_SEED_NR_PAGES,
		.virt_base = START_KERNEL_MAP,
		.kstart = PV_SEED_KSTART,
		.kend = PV_SEED_KEND,
		.entry = PV_SEED_KSTART,
		.hypercall = PV_UNSET_ADDR,
		.ramdisk_len = PV_SEED_RAMDISK_BYTES,
		.p2m_base = PV_UNSET_ADDR,
	};
	if (pv_layout_build(in, l, NULL, &err))
		fail_msg("%s", err.msg);
}

/* What one rendering writes, as a string (free it). */
#define RENDER(text, call)                                                                         \
	do {                                                                                       \
		size_t len_ = 0;                                                                   \
		FILE *f = open_memstream(&(text), &len_);                                          \
                                                                                                   \
		assert_non_null(f);                                                                \
		call;                                                                              \
		fclose(f);                                                                         \
	} while (0)

static void test_table_and_picture(void **state)
{
	struct pv_layout_in in;
	struct pv_layout l;
	struct layout_guest g = {.in = &in, .kernel_from_seed = true, .ramdisk_from_seed = true};
	char *text;

	(void)state;
	seed_layout(PV_BUILDER_LIBXC_42, &in, &l);
	RENDER(text, layout_table(f, &g, &l));
	assert_non_null(strstr(text, "(from the seed's 128 GiB guest: kernel ramdisk)\n"));
	assert_non_null(strstr(text, "\n  phys2mach (P2M)  0xffffffff925c7000 -> 0xffffffffa25c7000  "
				     "0x125c7    0x10000"));
	assert_non_null(strstr(text, "\n  ramdisk          0xffffffff81e43000"));
	free(text);

	g.kernel_from_seed = g.ramdisk_from_seed = false;
	RENDER(text, layout_table(f, &g, &l));
	assert_null(strstr(text, "from the seed's"));
	free(text);

	RENDER(text, layout_picture(f, &l));
	assert_non_null(strstr(text, "0xffffffffa0000000=#  <== MODULES_VADDR, inside the phys2mach "
				     "(P2M)\n"));
	assert_non_null(strstr(text, "|  phys2mach (P2M) starts\n"));
	free(text);

	RENDER(text, layout_warnings_text(f, &l));
	assert_non_null(strstr(text, "\nwarnings:\n  modules-vaddr-overlap: "));
	free(text);

	/* dom0: the TOTAL row, and a small guest below every limit. */
	seed_layout(PV_BUILDER_XEN_417_DOM0, &in, &l);
	RENDER(text, layout_table(f, &g, &l));
	assert_non_null(strstr(text, "\n  TOTAL            0xffffffff80000000"));
	free(text);
	in.nr_pages = 0x20000;
	in.ramdisk_len = 0;
	assert_int_equal(pv_layout_build(&in, &l, NULL, &(struct pv_error){0}), 0);
	RENDER(text, layout_warnings_text(f, &l));
	assert_string_equal(text,
			    "\nno warnings: this layout stays below every limit pvboot knows\n");
	free(text);
}

static void test_json(void **state)
{
	static const char *const notes[] = {"first note", "second note"};
	static const char *const log[] = {"line one"};
	struct pv_layout_in in;
	struct pv_layout l;
	struct layout_guest g = {.in = &in, .notes = notes, .nr_notes = 2};
	struct json j;
	char *text;

	(void)state;
	seed_layout(PV_BUILDER_LIBXC_417, &in, &l);
	RENDER(text, (json_begin(&j, f), layout_json(&j, &g, &l, log, 1), json_end(&j)));
	/* JSON's spelling, and libxc 4.17's name for the ramdisk. */
	assert_non_null(strstr(text, "\"name\": \"module0\""));
	assert_non_null(strstr(text, "\"name\": \"p2m\""));
	assert_non_null(strstr(text, "\"name\": \"page_tables\""));
	assert_non_null(strstr(text, "\"notes\": [\n    \"first note\",\n    \"second note\"\n  ]"));
	assert_non_null(strstr(text, "\"log\": [\n    \"line one\"\n  ]"));
	assert_non_null(strstr(text, "\"vstart\": \"0xffffffff81000000\""));
	free(text);
}

static void test_svg(void **state)
{
	struct pv_layout_in in;
	struct pv_layout l;
	char *text;

	(void)state;
	seed_layout(PV_BUILDER_LIBXC_417, &in, &l);
	RENDER(text, layout_svg(f, &in, &l));
	assert_int_equal(strncmp(text, "<svg ", 5), 0);
	assert_non_null(strstr(text, "kernel 0xffffffff81000000-0xffffffff81e43000</text>"));
	/* The SVG's spelling and colour; a label names the ramdisk as the builder does, a title does not. */
	assert_non_null(strstr(text, "fill='#e15759'><title>P2M list (phys2mach) 0x"));
	assert_non_null(strstr(text, "fill='#59a14f'><title>ramdisk 0x"));
	assert_non_null(strstr(text, "fill='#59a14f'>module0 0x"));
	assert_non_null(strstr(text, "</svg>\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_picture),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
