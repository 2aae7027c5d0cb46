/*
 * pvboot p2m-dump FILE: a simulated domain's P2M read from its memory image
 * (pvboot simulate --dump) the way Xen's save/restore tools read a live
 * guest's: through pfn_to_mfn_frame_list_list, through p2m_cr3/p2m_vaddr,
 * or both and compared (include/pvboot/p2m_read.h).  It shows, from outside
 * the guest, that what the guest published is right.
 */
#include <stdlib.h>
#include <string.h>

#include <pvboot/memimage.h>
#include <pvboot/p2m_read.h>

#include "cli.h"

enum { O_VIA = 1, O_FORMAT, O_PFN, O_RANGE, O_HELP };

static const struct opt dump_opts[] = {
	{"via", "tree|list|both", O_VIA,
	 "the 3-level tree (pfn_to_mfn_frame_list_list), the linear\n"
	 "list (p2m_cr3/p2m_vaddr), or both, compared (default: both,\n"
	 "that is, whichever the guest publishes)"},
	{"format", "text|json", O_FORMAT, "a summary (default), or one JSON object"},
	{"pfn", "N", O_PFN, "also print pfn N's entry"},
	{"range", "A-B", O_RANGE, "also print the entries of pfns A to B, both included"},
	{"help", NULL, O_HELP, NULL},
	{NULL, NULL, 0, NULL},
};

static const char dump_help[] =
	"usage: pvboot p2m-dump FILE [options]\n"
	"Read the P2M of a simulated domain from its memory image (pvboot simulate --dump FILE)\n"
	"as Xen's save/restore tools read a guest's: every frame number checked against the M2P.\n";

static const char dump_exit_help[] =
	"Exit status: 0 the P2M reads and agrees with itself and the M2P, 1 it does not\n"
	"(or the image is bad), 2 bad usage.\n";

/* Entries asked for, printed as they come (an image's generation cannot move). */
struct show {
	struct json *j; /* NULL: text */
	bool both;
};

static int show_block(void *ctx, uint64_t pfn, const uint64_t *tree, const uint64_t *list,
		      unsigned n, struct pv_error *err)
{
	struct show *s = ctx;

	(void)err;
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = list ? list[i] : tree[i];
		bool differ = tree && list && tree[i] != list[i];

		if (s->j) {
			json_obj(s->j, NULL);
			json_u64(s->j, "pfn", pfn + i);
			json_hex(s->j, "entry", e);
			json_str(s->j, "kind", p2m_entry_kind(e));
			if (differ)
				json_hex(s->j, "tree_entry", tree[i]);
			json_obj_end(s->j);
		} else {
			printf("pfn %#llx -> %#llx %s%s", (unsigned long long)(pfn + i),
			       (unsigned long long)e, p2m_entry_kind(e), differ ? " (tree: " : "\n");
			if (differ)
				printf("%#llx)\n", (unsigned long long)tree[i]);
		}
	}
	return 0;
}

/* "A-B", both included, A <= B. */
static int parse_range(const char *v, uint64_t *a, uint64_t *b, struct pv_error *err)
{
	const char *dash = strchr(v, '-');
	char first[64];

	if (!dash || (size_t)(dash - v) >= sizeof(first))
		return pv_fail(err, PV_ERR_USAGE, "--range: '%s' is not A-B", v);
	memcpy(first, v, (size_t)(dash - v));
	first[dash - v] = '\0';
	if (parse_u64("--range", first, a, err) || parse_u64("--range", dash + 1, b, err))
		return -1;
	if (*a > *b)
		return pv_fail(err, PV_ERR_USAGE, "--range: %s ends before it starts", v);
	return 0;
}

struct args {
	const char *path;
	unsigned via; /* P2M_VIA_TREE | P2M_VIA_LIST */
	bool json;
	bool show;
	uint64_t first, last;
};

static int parse(int argc, char **argv, struct args *a)
{
	struct pv_error err = {0};
	const char *v;
	bool pfn = false, range = false;
	int i = 0, id;

	*a = (struct args){.via = P2M_VIA_TREE | P2M_VIA_LIST};
	while ((id = next_opt(argc, argv, &i, dump_opts, &v, &a->path, &err)) != 0) {
		if (id < 0)
			return cli_error("p2m-dump", &err);
		switch (id) {
		case O_HELP:
			cmd_help(dump_help, dump_opts, dump_exit_help);
			return -1;
		case O_VIA:
			if (!strcmp(v, "tree"))
				a->via = P2M_VIA_TREE;
			else if (!strcmp(v, "list"))
				a->via = P2M_VIA_LIST;
			else if (!strcmp(v, "both"))
				a->via = P2M_VIA_TREE | P2M_VIA_LIST;
			else
				return cli_usage_error("p2m-dump",
						       "--via: unknown structure '%s' (tree, list, both)",
						       v);
			break;
		case O_FORMAT:
			if (strcmp(v, "text") && strcmp(v, "json"))
				return cli_usage_error("p2m-dump",
						       "--format: unknown format '%s' (text, json)",
						       v);
			a->json = !strcmp(v, "json");
			break;
		case O_PFN:
			if (parse_u64("--pfn", v, &a->first, &err))
				return cli_error("p2m-dump", &err);
			a->last = a->first;
			pfn = true;
			break;
		case O_RANGE:
			if (parse_range(v, &a->first, &a->last, &err))
				return cli_error("p2m-dump", &err);
			range = true;
			break;
		}
	}
	if (pfn && range)
		return cli_usage_error("p2m-dump", "give --pfn or --range, not both");
	if (!a->path)
		return cli_usage_error("p2m-dump",
				       "no image given (pvboot p2m-dump FILE; pvboot simulate --dump FILE writes one)");
	a->show = pfn || range;
	return 0;
}

static const char *const way_name[2] = {"tree", "list"};

static void summary_text(const struct args *a, const struct pv_memimage *img,
			 const struct p2m_survey *t)
{
	const struct p2m_arch *arch = &t->arch;
	const struct p2m_read_stats *st = &t->stats;

	char size[32];

	printf("image       %s: version %u, %llu bytes, %llu records of %llu frames, %llu M2P runs, max mfn %#llx\n",
	       a->path, img->h.version, (unsigned long long)img->file_bytes,
	       (unsigned long long)img->nr_rec, (unsigned long long)img->nr_frames,
	       (unsigned long long)img->nr_m2p, (unsigned long long)img->h.max_mfn);
	printf("max_pfn     %llu (%s of guest)\n", (unsigned long long)arch->max_pfn,
	       human_bytes(arch->max_pfn * 4096, size, sizeof(size)));
	printf("generation  %llu (%u %s)\n", (unsigned long long)st->generation, st->tries,
	       st->tries == 1 ? "read" : "reads");
	for (int k = 0; k < 2; k++) {
		if (t->r[k] && k == 0)
			printf("tree        frame_list_list mfn %#llx: read, %llu frames\n",
			       (unsigned long long)arch->frame_list_list,
			       (unsigned long long)t->r[k]->frames_read);
		else if (t->r[k])
			printf("list        p2m_cr3 %#llx, p2m_vaddr %#llx: read, %llu frames\n",
			       (unsigned long long)arch->p2m_cr3, (unsigned long long)arch->p2m_vaddr,
			       (unsigned long long)t->r[k]->frames_read);
		else
			printf("%-11s %s\n", way_name[k], t->why[k].code ? t->why[k].msg : "not read");
	}
	printf("entries     %llu valid, %llu invalid, %llu identity, %llu foreign\n",
	       (unsigned long long)t->counts.valid, (unsigned long long)t->counts.invalid,
	       (unsigned long long)t->counts.identity, (unsigned long long)t->counts.foreign);
	if (t->counts.not_owned || t->counts.m2p_other)
		printf("m2p         %llu entries name frames that are not the domain's, %llu frames the M2P gives another pfn; the first at pfn %#llx\n",
		       (unsigned long long)t->counts.not_owned,
		       (unsigned long long)t->counts.m2p_other, (unsigned long long)t->first_bad);
	else
		printf("m2p         every valid entry's frame is the domain's and its M2P entry names the same pfn\n");
	if (!t->r[0] || !t->r[1])
		printf("agree       one structure read, nothing to compare\n");
	else if (!t->differ)
		printf("agree       tree and list agree on all %llu pfns\n",
		       (unsigned long long)arch->max_pfn);
	else
		printf("agree       NO: tree and list differ at %llu pfns, the first %#llx: tree %#llx, list %#llx\n",
		       (unsigned long long)t->differ, (unsigned long long)t->first_differ,
		       (unsigned long long)t->first_tree, (unsigned long long)t->first_list);
}

static void summary_json(struct json *j, const struct args *a, const struct pv_memimage *img,
			 const struct p2m_survey *t)
{
	const struct p2m_arch *arch = &t->arch;
	const struct p2m_read_stats *st = &t->stats;

	json_str(j, "file", a->path);
	json_u64(j, "version", img->h.version);
	json_u64(j, "bytes", img->file_bytes);
	json_u64(j, "records", img->nr_rec);
	json_u64(j, "m2p_runs", img->nr_m2p);
	json_hex(j, "max_mfn", img->h.max_mfn);
	json_u64(j, "max_pfn", arch->max_pfn);
	json_u64(j, "generation", st->generation);
	json_u64(j, "reads", st->tries);
	for (int k = 0; k < 2; k++) {
		json_obj(j, way_name[k]);
		json_bool(j, "found", t->r[k] != NULL);
		if (t->r[k] && k == 0) {
			json_hex(j, "frame_list_list", arch->frame_list_list);
		} else if (t->r[k]) {
			json_hex(j, "p2m_cr3", arch->p2m_cr3);
			json_hex(j, "p2m_vaddr", arch->p2m_vaddr);
		}
		if (t->r[k])
			json_u64(j, "frames_read", t->r[k]->frames_read);
		else
			json_str(j, "why", t->why[k].code ? t->why[k].msg : "not read");
		json_obj_end(j);
	}
	json_obj(j, "counts");
	json_u64(j, "valid", t->counts.valid);
	json_u64(j, "invalid", t->counts.invalid);
	json_u64(j, "identity", t->counts.identity);
	json_u64(j, "foreign", t->counts.foreign);
	json_u64(j, "not_owned", t->counts.not_owned);
	json_u64(j, "m2p_other", t->counts.m2p_other);
	json_obj_end(j);
	if (!t->r[0] || !t->r[1]) {
		json_null(j, "agree");
	} else {
		json_bool(j, "agree", !t->differ);
		json_u64(j, "differ", t->differ);
		if (t->differ) {
			json_obj(j, "first_difference");
			json_u64(j, "pfn", t->first_differ);
			json_hex(j, "tree", t->first_tree);
			json_hex(j, "list", t->first_list);
			json_obj_end(j);
		}
	}
}

static int p2m_dump(const struct args *a, struct pv_memimage *img, struct p2m_reader *rd)
{
	struct p2m_src src = pv_memimage_p2m_src(img);
	struct p2m_survey t;
	struct pv_error err = {0};
	struct json j;
	struct show show = {NULL, false};
	int rc = 0;

	/* A pfn past the end is a usage error, before the whole read. */
	if (src.arch(src.ctx, &t.arch, &err))
		return cli_error("p2m-dump", &err);
	if (a->show && a->last >= t.arch.max_pfn)
		return cli_usage_error("p2m-dump",
				       "pfn %#llx is past max_pfn: the P2M has %#llx pfns",
				       (unsigned long long)a->last, (unsigned long long)t.arch.max_pfn);
	if (p2m_survey(&src, a->via, rd, &t, &err))
		return cli_error("p2m-dump", &err);
	if (a->json) {
		json_begin(&j, stdout);
		json_obj(&j, NULL);
		summary_json(&j, a, img, &t);
		show.j = &j;
	} else {
		summary_text(a, img, &t);
	}
	if (a->show) {
		struct p2m_sink out = {&show, NULL, show_block};
		struct p2m_read_stats st2;

		if (a->json)
			json_arr(&j, "entries");
		if (p2m_read(&src, t.r[0], t.r[1], a->first, a->last + 1, &out, &st2, &err))
			rc = cli_error("p2m-dump", &err);
		if (a->json)
			json_arr_end(&j);
	}
	if (a->json) {
		json_obj_end(&j);
		json_end(&j);
	}
	if (rc)
		return rc;
	if (t.differ) {
		fprintf(stderr,
			"pvboot: p2m-dump: tree and list differ at %llu pfns, the first %#llx\n",
			(unsigned long long)t.differ, (unsigned long long)t.first_differ);
		return EXIT_DATA;
	}
	if (t.counts.not_owned || t.counts.m2p_other) {
		fprintf(stderr,
			"pvboot: p2m-dump: %llu entries contradict the M2P, the first at pfn %#llx\n",
			(unsigned long long)(t.counts.not_owned + t.counts.m2p_other),
			(unsigned long long)t.first_bad);
		return EXIT_DATA;
	}
	return 0;
}

int cmd_p2m_dump(int argc, char **argv)
{
	struct args a;
	struct pv_memimage *img;
	struct p2m_reader *rd;
	struct pv_error err = {0};
	int rc = parse(argc, argv, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (pv_memimage_open(a.path, &img, &err))
		return cli_error("p2m-dump", &err);
	rd = calloc(2, sizeof(*rd));
	if (!rd) {
		pv_memimage_close(img);
		return cli_nomem("p2m-dump");
	}
	rc = p2m_dump(&a, img, rd);
	free(rd);
	pv_memimage_close(img);
	return rc;
}
