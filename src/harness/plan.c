/*
 * The plan every run of one pvboot run shares, and the steps before a
 * boot: the prediction (by the kind's builder), the ramdisk, QEMU's size,
 * and what a real boot needs of the host: memory, QEMU, Xen, the
 * directory for the logs, and whatever the kind needs besides.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pvboot/pvsum.h>
#include <pvboot/x86.h>

#include "harness_priv.h"

void run_lines_add(struct run_lines *l, const char *text)
{
	char *copy;

	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 32;
		char **p = realloc(l->line, cap * sizeof(*p));

		if (!p) {
			l->nomem = true;
			return;
		}
		l->line = p;
		l->cap = cap;
	}
	copy = strdup(text);
	if (!copy) {
		l->nomem = true;
		return;
	}
	l->line[l->n++] = copy;
}

void run_lines_free(struct run_lines *l)
{
	for (unsigned i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	*l = (struct run_lines){0};
}

int run_plan_init(struct run_plan *p, const struct run_kind *kind, struct pv_error *err)
{
	*p = (struct run_plan){.kind = kind,
			       .xen_release = PV_XEN_RELEASE_DEFAULT,
			       .verify_full = true,
			       .assume_exit = -1};
	if (run_kind_builder(kind, p->xen_release, &p->g.in.builder, err))
		return -1;
	if (kind->plan_size && !(p->priv = calloc(1, kind->plan_size)))
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	return 0;
}

void run_plan_free(struct run_plan *p)
{
	run_lines_free(&p->predicted_log);
	free(p->priv);
	p->priv = NULL;
}

static void keep_line(void *ctx, const char *text)
{
	run_lines_add(ctx, text);
}

int run_plan_guest(struct run_plan *p, struct pv_error *err)
{
	struct pv_error why = {0};

	/* The release's builder of this kind, whatever the caller left in g.in. */
	if (run_kind_builder(p->kind, p->xen_release, &p->g.in.builder, err))
		return -1;
	p->memory = p->g.in.nr_pages * PAGE_SIZE;
	p->ramdisk = p->g.in.ramdisk_len > 0;
	p->ramdisk_bytes = p->g.in.ramdisk_len;
	if (run_check_guest(p->kind, &p->g.in, err) || p->kind->plan(p, err))
		return -1;
	run_lines_free(&p->predicted_log);
	if (pv_layout_build(&p->g.in, &p->predicted, &(struct pv_log){keep_line, &p->predicted_log},
			    &why))
		return pv_fail(err, PV_ERR_FORMAT, "%s would refuse this guest: %s",
			       p->kind->builder_who, why.msg);
	if (p->predicted_log.nomem)
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	p->module_must_fail =
		pv_layout_warnings(&p->predicted) & (1U << PV_WARN_MODULES_VADDR_OVERLAP);
	return 0;
}

void run_note(const struct run_progress *pr, const char *fmt, ...)
{
	char note[2 * PATH_MAX];
	va_list ap;

	if (!pr || !pr->note)
		return;
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	pr->note(pr->ctx, note);
}

static void say_waiting(void *ctx, const char *path)
{
	run_note(ctx, "waiting for another run to finish with %s", path);
}

int run_lock(const char *path, const struct run_progress *pr, struct pv_error *err)
{
	return pv_lock(path, pr && pr->note ? say_waiting : NULL, (void *)pr, err);
}

/* The logs go beside the cache: build/cache -> build/run-logs. */
static int plan_logs(struct run_plan *p, struct pv_error *err)
{
	char *slash;

	snprintf(p->logs, sizeof(p->logs), "%s", p->cache);
	for (size_t n = strlen(p->logs); n > 1 && p->logs[n - 1] == '/'; n--)
		p->logs[n - 1] = '\0';
	slash = strrchr(p->logs, '/');
	if (slash)
		snprintf(slash + 1, sizeof(p->logs) - (size_t)(slash + 1 - p->logs), "run-logs");
	else
		snprintf(p->logs, sizeof(p->logs), "run-logs");
	return pv_mkdirs(p->logs, err);
}

/* Before anything starts: can the host back what QEMU will touch? */
static int plan_memory(const struct run_plan *p, struct pv_error *err)
{
	uint64_t avail, need = p->host_need;
	char a[32], b[32];

	if (run_host_available(&avail, err))
		return -1;
	if (need <= avail)
		return 0;
	return pv_fail(err, PV_ERR_NOMEM,
		       "this %s needs about %s of host memory for QEMU (%s), but only %s is available (MemAvailable)",
		       p->kind->guest, human_bytes(need, a, sizeof(a)), p->kind->host_need_what,
		       human_bytes(avail, b, sizeof(b)));
}

/*
 * The guest is handed start_info.mod_len bytes: the file, then, where the
 * builder rounds the module up to pages (libxenguest before 4.17.5 and
 * 4.18.3 for a mapped one, every release for MOD_START_PFN: docs/builders.md
 * section 5.7), the zeros of the last page.  The sum it must find is over
 * them: pv_sum64 goes on from the file's, whose last word is zero-padded.
 */
static void ramdisk_handed(struct run_plan *p)
{
	static const uint8_t zero[4096];
	uint64_t len = p->predicted.si.mod_len, at = (p->ramdisk_bytes + 7) & ~7ULL;

	p->ramdisk_handed = p->ramdisk_bytes;
	if (!p->ramdisk || len <= p->ramdisk_bytes)
		return;
	while (at < len) {
		uint64_t n = len - at < sizeof(zero) ? len - at : sizeof(zero);

		p->ramdisk_sum = pv_sum64(p->ramdisk_sum, zero, n);
		at += n;
	}
	p->ramdisk_handed = len;
}

int run_prepare(struct run_plan *p, const char *xen, const struct run_progress *pr,
		struct pv_error *err)
{
	if (plan_memory(p, err))
		return -1;
	if (!pv_on_path("qemu-system-x86_64"))
		return pv_fail(err, PV_ERR_IO,
			       "qemu-system-x86_64 not found (run scripts/deps, package qemu-system-x86)");
	if (run_cache_dir(p->cache, sizeof(p->cache), err) || plan_logs(p, err))
		return -1;
	if (xen) {
		if (!pv_is_file(xen))
			return pv_fail(err, PV_ERR_IO, "%s: no such file (--xen)", xen);
		snprintf(p->xen, sizeof(p->xen), "%s", xen);
	} else if (run_fetch_xen(p->cache, p->xen_release, p->xen, sizeof(p->xen), pr, err)) {
		return -1;
	}
	if (p->ramdisk && p->g.ramdisk) {
		snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk);
		if (run_file_sum(p->ramdisk_path, &p->ramdisk_sum, &p->ramdisk_bytes, err))
			return -1;
	} else if (p->ramdisk) {
		if (run_ramdisk_make(p->cache, p->ramdisk_bytes, p->ramdisk_path,
				     sizeof(p->ramdisk_path), &p->ramdisk_sum, pr, err))
			return -1;
	}
	ramdisk_handed(p);
	return p->kind->prepare ? p->kind->prepare(p, pr, err) : 0;
}

int run_prepare_replay(struct run_plan *p, bool need_sum, struct pv_error *err)
{
	if (p->ramdisk && p->g.ramdisk) {
		if (run_file_sum(p->g.ramdisk, &p->ramdisk_sum, &p->ramdisk_bytes, err))
			return -1;
		snprintf(p->ramdisk_path, sizeof(p->ramdisk_path), "%s", p->g.ramdisk);
	} else if (p->ramdisk && need_sum) {
		p->ramdisk_sum = pv_pattern_sum(p->ramdisk_bytes);
	}
	ramdisk_handed(p);
	return 0;
}

int run_one_init(const struct run_plan *p, struct run_one *r, enum pv_boot_mode mode,
		 struct pv_error *err)
{
	*r = (struct run_one){.mode = mode};
	run_serial_init(&r->ser);
	if (p->kind->run_size && !(r->priv = calloc(1, p->kind->run_size)))
		return pv_fail(err, PV_ERR_NOMEM, "out of memory");
	if (p->kind->run_init)
		p->kind->run_init(r);
	return 0;
}

void run_one_free(const struct run_plan *p, struct run_one *r)
{
	if (r->priv && p->kind->run_free)
		p->kind->run_free(r);
	free(r->priv);
	r->priv = NULL;
}
