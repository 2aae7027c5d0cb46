/* The pvboot command: what its subcommands share. */
#ifndef PVBOOT_CLI_H
#define PVBOOT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pvboot/boot.h>
#include <pvboot/error.h>
#include <pvboot/image.h>
#include <pvboot/json.h>
#include <pvboot/layout.h>
#include <pvboot/report.h>
#include <pvboot/sim.h>

/* Exit statuses: 1 for bad data (images, layouts), 2 for bad usage. */
#define EXIT_DATA  1
#define EXIT_USAGE 2

/* Print "pvboot: <cmd>: <msg>" on stderr and return the exit status. */
int cli_error(const char *cmd, const struct pv_error *err);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "pvboot: <cmd>: out of memory" on stderr; returns EXIT_DATA. */
int cli_nomem(const char *cmd);

/* Parsers: 0 on success, else -1 with @err set (PV_ERR_USAGE or PV_ERR_RANGE). */
int parse_u64(const char *what, const char *s, uint64_t *out, struct pv_error *err);
int parse_size(const char *what, const char *s, uint64_t *bytes, struct pv_error *err);

/*
 * A command's option, for a small getopt_long-like loop over "--name
 * value" and "--flag" options, and for its --help: the name without "--",
 * the value's name in the help (NULL: a flag, which takes no value), the
 * id next_opt() returns, and the help (NULL: not listed; "": the option
 * alone; a '\n' starts a line under the first).  A table ends with a NULL
 * name.
 */
struct opt {
	const char *name;
	const char *arg;
	int id;
	const char *help;
};
/*
 * Take the next option from argv[*i].  Returns its id, 0 at the end, or -1
 * with @err set for an unknown option, a missing value, or a stray argument
 * (when @positional is NULL).  Accepts "--name=value" too.
 */
int next_opt(int argc, char **argv, int *i, const struct opt *opts, const char **value,
	     const char **positional, struct pv_error *err);
/* The listed options of @opts as --help shows them: "  --name ARG", the help from column 26. */
void opts_help(FILE *f, const struct opt *opts);
/* A command's --help on stdout: @intro, its options (@opts), then @outro (NULL: none). */
void cmd_help(const char *intro, const struct opt *opts, const char *outro);

/* The guest a command lays out: memory, kernel, ramdisk, builder. */
struct guest {
	struct pv_layout_in in;
	const char *kernel_path; /* NULL: an extent given by addresses */
	struct pv_image *image;	 /* the parsed kernel, when kernel_path */
	const char *ramdisk_path;
	bool ramdisk_from_seed; /* no ramdisk option: the seed's */
	bool kernel_from_seed;
	bool memory_from_seed;
	bool no_init_p2m;
	bool builder_set;
	const char *release; /* --xen-version: "4.14", "4.17" or "4.20"; NULL if not given */
	bool dom0;	     /* --dom0: the release's dom0 builder */
	bool extent_set; /* --kernel-start/--kernel-end/--virt-base/--entry given */
	/* What the chosen builder ignores of what was asked, said to the user. */
	const char *notes[PV_IGNORED_NR];
	unsigned nr_notes;
};

/* Options every guest-taking command accepts; ids from 100 up, the commands' own below. */
enum {
	O_MEMORY = 100,
	O_PAGES,
	O_KERNEL,
	O_VIRT_BASE,
	O_KSTART,
	O_KEND,
	O_ENTRY,
	O_RAMDISK,
	O_RAMDISK_SIZE,
	O_INIT_P2M,
	O_NO_INIT_P2M,
	O_UNMAPPED,
	O_BUILDER,
	O_XEN_VERSION,
	O_DOM0,
	O_VIRT_P2M_4TOOLS,
};
extern const struct opt guest_opts[];
void guest_defaults(struct guest *g);
/* Consume one guest option; returns 1 if @id was a guest option, 0 if not, -1 on error. */
int guest_option(struct guest *g, int id, const char *value, struct pv_error *err);
/* Read files, apply the builder's rules; fills g->in.  -1 with @err. */
int guest_resolve(struct guest *g, struct pv_error *err);
void guest_release(struct guest *g);
/* What the simulation (<pvboot/sim.h>) needs of @g: its layout input and its files. */
struct pv_sim_guest guest_sim(const struct guest *g);
/* What a layout's report (<pvboot/report.h>) shows of @g beside the layout. */
struct layout_guest guest_report(const struct guest *g);
/* What layout, limits and simulate say after the guest options in their --help. */
/* What --help says after the guest options: the seed's defaults, the builders. */
void guest_help(FILE *f);

/* Merge option tables: @a then @b into @out (room for both plus end). */
void opts_merge(struct opt *out, const struct opt *a, const struct opt *b);

int cmd_layout(int argc, char **argv);
int cmd_limits(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_p2m_dump(int argc, char **argv);

#endif
