/* struct pv_error helpers; see include/pvboot/error.h. */
#include <stdarg.h>

#include <pvboot/error.h>
#include <pvboot/fmt.h>

int pv_fail(struct pv_error *err, enum pv_errcode code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	pv_vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *const errcode_names[PV_ERR_NR] = {
	[PV_OK] = "ok",
	[PV_ERR_USAGE] = "usage",
	[PV_ERR_RANGE] = "range",
	[PV_ERR_INITIAL_MAPPING] = "initial-mapping",
	[PV_ERR_SEGMENT_TOO_LARGE] = "segment-too-large",
	[PV_ERR_PFN_RANGE] = "pfn-out-of-range",
	[PV_ERR_SEGMENT_ALIGN] = "segment-alignment",
	[PV_ERR_DOM0_TOO_SMALL] = "dom0-allocation-too-small",
	[PV_ERR_DOM0_NO_RAM] = "dom0-allocation-failed",
	[PV_ERR_ADDRESS_WRAP] = "address-space-wrap",
	[PV_ERR_OVERLAP] = "overlap",
	[PV_ERR_IO] = "io",
	[PV_ERR_FORMAT] = "format",
	[PV_ERR_NOTES] = "notes",
	[PV_ERR_ELF_BOUNDS] = "elf-bounds",
	[PV_ERR_DECOMPRESS] = "decompress",
	[PV_ERR_UNSUPPORTED] = "unsupported",
	[PV_ERR_NOMEM] = "nomem",
};

const char *pv_errcode_name(enum pv_errcode code)
{
	if ((unsigned)code >= PV_ERR_NR || !errcode_names[code])
		return "unknown";
	return errcode_names[code];
}
