/*
 * The Linux dom0 that a domU run boots under Xen to run the real toolstack
 * (docs/real-xen.md section 9): its kernel and initramfs, which
 * scripts/build-dom0 builds from Debian's packages into the cache the first
 * time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pvboot/x86.h>

#include "harness_priv.h"

/* "name=value" lines of @out into @kernel and @initrd. */
static void take_paths(char *out, char *kernel, char *initrd, size_t size)
{
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, "kernel=", 7))
			snprintf(kernel, size, "%s", line + 7);
		else if (!strncmp(line, "initrd=", 7))
			snprintf(initrd, size, "%s", line + 7);
	}
}

int run_dom0_image(const char *cache, const char *release, char *kernel, char *initrd,
		   size_t size, struct pv_error *err)
{
	const char *args[] = {release, NULL};
	char script[PATH_MAX], out[4 * PATH_MAX];
	struct stat st;

	if (run_script("build-dom0", args, cache, out, sizeof(out), script, err))
		return -1;
	kernel[0] = initrd[0] = '\0';
	take_paths(out, kernel, initrd, size);
	if (!kernel[0] || !initrd[0])
		return pv_fail(err, PV_ERR_FORMAT, "%s printed no %s= line", script,
			       kernel[0] ? "initrd" : "kernel");
	if (stat(kernel, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 kernel %s gave is not a file", kernel,
			       script);
	if (stat(initrd, &st) || !S_ISREG(st.st_mode))
		return pv_fail(err, PV_ERR_IO, "%s: the dom0 initrd %s gave is not a file", initrd,
			       script);
	return 0;
}
