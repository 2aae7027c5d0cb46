/*
 * pvboot inspect IMAGE: a kernel's format, its Xen ELF notes by number and
 * name, and the addresses a builder computes from them (libelf's
 * elf_xen_parse()).  Unlike Xen's readnotes it names notes 15 to 19 and
 * reads a bzImage directly.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/xen-abi.h>

#include "cli.h"

enum { O_FORMAT = 1, O_HELP };

/* The usage line says them all. */
static const struct opt inspect_opts[] = {
	{"format", "text|json", O_FORMAT, NULL},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

static const char inspect_help[] =
	"usage: pvboot inspect IMAGE [--format text|json]\n"
	"A kernel image's format, Xen ELF notes and computed addresses.\n";

static const char *notes_from(const struct pv_image *img)
{
	switch (img->notes_from) {
	case PV_NOTES_PHDR:
		return "PT_NOTE";
	case PV_NOTES_SHDR:
		return "SHT_NOTE";
	case PV_NOTES_GUEST_INFO:
		return "__xen_guest";
	default:
		return "none";
	}
}

static void features(char *buf, size_t size, uint32_t bits)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 32; i++) {
		const char *name = pv_feature_name(i);

		if (!(bits & (1U << i)))
			continue;
		if (name)
			n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "", name);
		else
			n += snprintf(buf + n, n < size ? size - n : 0, "%sbit%u", n ? "|" : "", i);
	}
	if (!n)
		snprintf(buf, size, "-");
}

static void note_value(char *buf, size_t size, const struct pv_note *n)
{
	size_t k = 0;

	switch (n->kind) {
	case PV_NOTE_STR:
		snprintf(buf, size, "\"%s\"", n->str);
		break;
	case PV_NOTE_NUM:
		snprintf(buf, size, "0x%llx (%u bytes)", (unsigned long long)n->num, n->descsz);
		break;
	case PV_NOTE_WORDS:
		buf[0] = '\0';
		for (unsigned i = 0; i < n->nwords && k < size; i++)
			k += snprintf(buf + k, size - k, "%s0x%llx", i ? " " : "",
				      (unsigned long long)n->words[i]);
		if (n->type == XEN_ELFNOTE_L1_MFN_VALID && n->nwords >= 2)
			snprintf(buf, size, "mask=0x%llx value=0x%llx",
				 (unsigned long long)n->words[0], (unsigned long long)n->words[1]);
		break;
	}
}

static void print_text(const char *path, const struct pv_image *img)
{
	const struct pv_dom_parms *p = &img->parms;
	char h[32], buf[600];

	printf("%s: ", path);
	if (img->format == PV_IMAGE_BZIMAGE)
		printf("bzImage, boot protocol %u.%02u, %s payload of %llu bytes at 0x%llx, ELF of %llu bytes\n",
		       img->bzimage_version >> 8, img->bzimage_version & 0xff,
		       pv_compression_name(img->compression), (unsigned long long)img->payload_length,
		       (unsigned long long)img->payload_offset, (unsigned long long)img->elf_size);
	else if (img->compression != PV_COMP_NONE)
		printf("ELF in a %s file of %llu bytes, ELF of %llu bytes\n",
		       pv_compression_name(img->compression), (unsigned long long)img->file_size,
		       (unsigned long long)img->elf_size);
	else
		printf("ELF, %llu bytes\n", (unsigned long long)img->file_size);
	printf("ELF%u, %s, e_entry 0x%llx, paddr 0x%llx -> 0x%llx\n", img->elf_class,
	       img->elf_machine == EM_X86_64 ? "x86-64"
	       : img->elf_machine == EM_386  ? "i386"
					     : "other machine",
	       (unsigned long long)img->e_entry, (unsigned long long)img->pstart,
	       (unsigned long long)img->pend);

	printf("\nXen notes (from %s):\n", notes_from(img));
	for (unsigned t = 0; t < PV_NOTE_NR; t++) {
		const struct pv_note *n = &img->notes[t];

		if (!n->present)
			continue;
		note_value(buf, sizeof(buf), n);
		printf("  %2u %-19s %s\n", t, pv_note_name(t), buf);
	}
	if (img->notes_from == PV_NOTES_GUEST_INFO)
		printf("  __xen_guest: \"%s\"\n", img->guest_info);

	printf("\ncomputed (as libelf's elf_xen_parse):\n");
	printf("  virt_base        0x%llx\n", (unsigned long long)p->virt_base);
	printf("  elf_paddr_offset 0x%llx\n", (unsigned long long)p->elf_paddr_offset);
	printf("  kernel           0x%llx -> 0x%llx (%s)\n", (unsigned long long)p->virt_kstart,
	       (unsigned long long)p->virt_kend,
	       human_bytes(p->virt_kend - p->virt_kstart, h, sizeof(h)));
	printf("  entry            0x%llx\n", (unsigned long long)p->virt_entry);
	if (p->virt_hypercall != PV_UNSET_ADDR)
		printf("  hypercall page   0x%llx\n", (unsigned long long)p->virt_hypercall);
	if (p->p2m_base != PV_UNSET_ADDR)
		printf("  INIT_P2M         0x%llx: the P2M list can live outside the kernel mapping\n",
		       (unsigned long long)p->p2m_base);
	printf("  ramdisk          %s\n", p->unmapped_initrd ? "may be passed unmapped (MOD_START_PFN)"
							     : "must be mapped after the kernel");
	features(buf, sizeof(buf), p->f_supported);
	printf("  features         supported %s", buf);
	features(buf, sizeof(buf), p->f_required);
	printf(", required %s\n", buf);
}

static void print_json(const char *path, const struct pv_image *img)
{
	const struct pv_dom_parms *p = &img->parms;
	struct json j;
	char buf[600];

	json_begin(&j, stdout);
	json_obj(&j, NULL);
	json_str(&j, "file", path);
	json_str(&j, "format", img->format == PV_IMAGE_BZIMAGE ? "bzImage" : "elf");
	json_str(&j, "compression", pv_compression_name(img->compression));
	json_u64(&j, "file_size", img->file_size);
	json_u64(&j, "elf_size", img->elf_size);
	json_u64(&j, "elf_class", img->elf_class);
	json_u64(&j, "machine", img->elf_machine);
	json_hex(&j, "e_entry", img->e_entry);
	json_hex(&j, "pstart", img->pstart);
	json_hex(&j, "pend", img->pend);
	json_str(&j, "notes_from", notes_from(img));
	json_arr(&j, "notes");
	for (unsigned t = 0; t < PV_NOTE_NR; t++) {
		const struct pv_note *n = &img->notes[t];

		if (!n->present)
			continue;
		json_obj(&j, NULL);
		json_u64(&j, "type", t);
		json_str(&j, "name", pv_note_name(t));
		json_u64(&j, "descsz", n->descsz);
		if (n->kind == PV_NOTE_STR) {
			json_str(&j, "value", n->str);
		} else if (n->kind == PV_NOTE_NUM) {
			json_hex(&j, "value", n->num);
		} else {
			json_arr(&j, "value");
			for (unsigned i = 0; i < n->nwords; i++)
				json_hex(&j, NULL, n->words[i]);
			json_arr_end(&j);
		}
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (img->notes_from == PV_NOTES_GUEST_INFO)
		json_str(&j, "guest_info", img->guest_info);
	else
		json_null(&j, "guest_info");

	json_obj(&j, "parms");
	json_str(&j, "loader", p->loader);
	json_str(&j, "guest_os", p->guest_os);
	json_str(&j, "guest_version", p->guest_ver);
	json_str(&j, "xen_version", p->xen_ver);
	json_bool(&j, "pae", p->pae);
	json_hex(&j, "virt_base", p->virt_base);
	json_hex(&j, "elf_paddr_offset", p->elf_paddr_offset);
	json_hex(&j, "virt_kstart", p->virt_kstart);
	json_hex(&j, "virt_kend", p->virt_kend);
	json_hex(&j, "virt_entry", p->virt_entry);
#define ADDR_OR_NULL(key, v) ((v) == PV_UNSET_ADDR ? json_null(&j, key) : json_hex(&j, key, v))
	ADDR_OR_NULL("virt_hypercall", p->virt_hypercall);
	ADDR_OR_NULL("virt_hv_start_low", p->virt_hv_start_low);
	ADDR_OR_NULL("p2m_base", p->p2m_base);
	ADDR_OR_NULL("phys_entry", p->phys_entry);
	json_bool(&j, "unmapped_initrd", p->unmapped_initrd);
	features(buf, sizeof(buf), p->f_supported);
	json_str(&j, "features_supported", buf);
	features(buf, sizeof(buf), p->f_required);
	json_str(&j, "features_required", buf);
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

int cmd_inspect(int argc, char **argv)
{
	struct pv_error err = {0};
	struct pv_image *img;
	const char *path = NULL, *format = "text", *v;
	int i = 0, id;

	while ((id = next_opt(argc, argv, &i, inspect_opts, &v, &path, &err)) != 0) {
		if (id < 0)
			return cli_error("inspect", &err);
		if (id == O_HELP) {
			cmd_help(inspect_help, inspect_opts, NULL);
			return 0;
		}
		format = v;
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage_error("inspect", "--format: unknown format '%s' (text, json)",
				       format);
	if (!path)
		return cli_usage_error("inspect", "which image? usage: pvboot inspect IMAGE");
	img = calloc(1, sizeof(*img));
	if (!img)
		return cli_nomem("inspect");
	if (pv_image_read_file(path, img, &err)) {
		free(img);
		return cli_error("inspect", &err);
	}
	if (!strcmp(format, "json"))
		print_json(path, img);
	else
		print_text(path, img);
	free(img);
	return 0;
}
