/*
 * Errors are values: a code that programs test and a one-line message that
 * people read.  Library code fills a struct pv_error and returns a negative
 * value; it never exits or aborts on bad input.
 *
 * Where Xen or Linux already words an error, the message uses that wording
 * (for example "not enough memory for initial mapping"), so users can search
 * for it.
 */
#ifndef PVBOOT_ERROR_H
#define PVBOOT_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum pv_errcode {
	PV_OK = 0,

	/* Bad usage: the caller asked for something that makes no sense. */
	PV_ERR_USAGE, /* an option or argument is malformed */
	PV_ERR_RANGE, /* a size or address is out of the accepted range */

	/* The domain builders' own failures (bad data for the layout). */
	PV_ERR_INITIAL_MAPPING,	  /* "not enough memory for initial mapping" */
	PV_ERR_SEGMENT_TOO_LARGE, /* "segment %s too large" */
	PV_ERR_PFN_RANGE,	  /* legacy: "pfn out of range" */
	PV_ERR_SEGMENT_ALIGN,	  /* "segment start isn't page aligned" / "too low" */
	PV_ERR_DOM0_TOO_SMALL,	  /* "Domain 0 allocation is too small for kernel image" */
	PV_ERR_DOM0_NO_RAM,	  /* "Not enough RAM for domain 0 allocation" */
	PV_ERR_ADDRESS_WRAP,	  /* the initial mapping runs past the top of the address space */
	PV_ERR_OVERLAP,		  /* kernel / INIT_P2M or mapping overlap */

	/* Kernel images. */
	PV_ERR_IO,	    /* a file could not be read */
	PV_ERR_FORMAT,	    /* not an ELF or bzImage, or truncated */
	PV_ERR_NOTES,	    /* Xen notes missing or malformed */
	PV_ERR_ELF_BOUNDS,  /* libelf's address checks failed */
	PV_ERR_DECOMPRESS,  /* a payload did not decompress */
	PV_ERR_UNSUPPORTED, /* a valid image pvboot cannot use (e.g. 32-bit PV) */

	PV_ERR_NOMEM, /* host memory allocation failed */
	PV_ERR_NR
};

#define PV_ERRMSG_MAX 240

struct pv_error {
	enum pv_errcode code;
	char msg[PV_ERRMSG_MAX];
};

/* Fill @err (if not NULL) and return -1, printf-style (see fmt.h). */
int pv_fail(struct pv_error *err, enum pv_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stable machine name of a code, for JSON ("initial-mapping", ...). */
const char *pv_errcode_name(enum pv_errcode code);

/* True for errors caused by how the tool was called rather than by data. */
static inline bool pv_err_is_usage(enum pv_errcode code)
{
	return code == PV_ERR_USAGE || code == PV_ERR_RANGE;
}

#endif
