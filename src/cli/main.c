/* pvboot: Xen PV boot layouts, P2M trees and the boot path, for real. */
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pvboot COMMAND [options]\n"
	"\n"
	"  layout    predict how a Xen domain builder lays out a PV guest\n"
	"  limits    the largest guest below each limit, per builder\n"
	"  inspect   a kernel image's format and Xen ELF notes\n"
	"  simulate  run the boot path on a simulated Xen\n"
	"  run       boot pvboot's PV kernel as dom0 under Xen 4.17 in QEMU\n"
	"  p2m-dump  read a simulated guest's P2M from its memory image, as Xen's tools do\n"
	"\n"
	"'pvboot COMMAND --help' describes a command's options.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{"layout", cmd_layout},
		{"limits", cmd_limits},
		{"inspect", cmd_inspect},
		{"simulate", cmd_simulate},
		{"run", cmd_run},
		{"p2m-dump", cmd_p2m_dump},
	};

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 2, argv + 2);
	fprintf(stderr,
		"pvboot: unknown command '%s' (layout, limits, inspect, simulate, run or p2m-dump; see pvboot --help)\n",
		argv[1]);
	return EXIT_USAGE;
}
