#include "cli.h"
int cmd_limits(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return EXIT_USAGE;
}
