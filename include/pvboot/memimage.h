/*
 * Memory images of a simulated domain (pvboot simulate --dump FILE writes
 * them, src/sim/dump.c), their format and their reader (src/image/memimage.c),
 * which gives the frame source a P2M reader (include/pvboot/p2m_read.h) takes.
 * Host code.
 *
 * The image holds what a tool in dom0 can see of the domain: its
 * shared_info page, the M2P for its frames, and the contents of its frames.
 * Little-endian, every field 8-byte aligned:
 *
 *   header       64 bytes  struct pv_memimage_header: "PVBDUMP\0", version 1, ...
 *   shared_info  4096 bytes
 *   M2P          nr_m2p x struct pv_memimage_m2p (40 bytes), sorted by mfn
 *   records      struct pv_memimage_rec (16 bytes) + payload, sorted by mfn,
 *                frames never overlapping
 *   end          struct pv_memimage_rec {~0, MEMIMAGE_REC_END, 0}
 *                + struct pv_memimage_end
 *
 * An M2P run {mfn, pfn, count, repeat, stride} says: for r < repeat, the
 * frames mfn + r * count + i (i < count) are the domain's pfns
 * pfn + r * stride + i.  The simulated builder hands out 2 MiB extents in
 * reverse order, so repeat and a stride of -512 keep a 4 TiB domain's M2P
 * to three runs.  A frame no run covers is not the domain's.
 *
 * Records describe the domain's frames that hold data:
 *
 *   MEMIMAGE_REC_RAW    count frames from mfn, 4096 bytes each (count <= 64)
 *   MEMIMAGE_REC_ARITH  count frames from mfn whose 512 words are arithmetic:
 *                       word i of frame mfn + k = w0 + k * fstep + i * step
 *                       (mod 2^64); payload {w0, step, fstep}, 24 bytes
 *
 * The builder's P2M list (consecutive mfns per page) and the PTEs mapping
 * it (consecutive frames, step 4096) are arithmetic, which keeps a 4 TiB
 * domain's image small.  A frame of the domain without a record reads as
 * zeros.  There is no checksum: the P2M reader checks what it reads
 * against the M2P, as the tools check a live guest.
 */
#ifndef PVBOOT_MEMIMAGE_H
#define PVBOOT_MEMIMAGE_H

#include <stdint.h>

#include <pvboot/error.h>
#include <pvboot/p2m_read.h>

#define MEMIMAGE_MAGIC	   "PVBDUMP" /* and a NUL: 8 bytes */
#define MEMIMAGE_VERSION   1
#define MEMIMAGE_RAW_MAX   64 /* frames in one raw record */
#define MEMIMAGE_REC_RAW   1
#define MEMIMAGE_REC_ARITH 2
#define MEMIMAGE_REC_END   0xff

struct pv_memimage_header {
	char magic[8];
	uint32_t version;
	uint32_t header_bytes; /* 64: a reader skips what it does not know */
	uint64_t max_mfn;      /* the host's last machine frame */
	uint64_t shared_info_mfn;
	uint64_t nr_pages; /* the domain's: its pfns are 0 .. nr_pages - 1 */
	uint64_t nr_m2p;
	uint64_t reserved[2];
};

struct pv_memimage_m2p {
	uint64_t mfn, pfn, count, repeat;
	int64_t stride;
};

struct pv_memimage_rec {
	uint64_t mfn;
	uint32_t kind;
	uint32_t count;
};

struct pv_memimage_end {
	uint64_t nr_records; /* before the end record */
	uint64_t nr_frames;  /* frames they describe */
};

/*
 * Look @mfn up in the M2P runs @v[0 .. @n) (sorted by mfn, as in an image):
 * its pfn, ~0 if no run covers it; *@run (may be NULL) gets the frames left
 * from @mfn to the end of its slot.
 */
uint64_t pv_memimage_m2p_find(const struct pv_memimage_m2p *v, uint64_t n, uint64_t mfn,
			      uint64_t *run);

/* An image read back: header, M2P and an index of its records. */
struct pv_memimage {
	int fd;
	uint64_t file_bytes;
	struct pv_memimage_header h;
	uint64_t shared_info[512];
	struct pv_memimage_m2p *m2p;
	uint64_t nr_m2p;
	struct pv_memimage_index {
		uint64_t mfn, count, off; /* off: a raw record's first frame in the file */
		uint64_t w0, step, fstep;
		uint32_t kind;
	} * rec;
	uint64_t nr_rec, nr_frames;
};

/*
 * Open @path and check all of its structure (magic, version, sizes, M2P
 * runs, record order, kinds, that every frame is the domain's, the end
 * record, no trailing bytes).  -1 with @err (PV_ERR_IO, PV_ERR_FORMAT,
 * PV_ERR_NOMEM) naming the first problem and its offset; *@img is then NULL.
 */
int pv_memimage_open(const char *path, struct pv_memimage **img, struct pv_error *err);
void pv_memimage_close(struct pv_memimage *img); /* NULL: nothing */

/* The image's M2P: pfn of @mfn, ~0 if not the domain's; @run as in p2m_src. */
uint64_t pv_memimage_m2p(const struct pv_memimage *img, uint64_t mfn, uint64_t *run);

/* The frame source over an open image, for p2m_reader_begin and p2m_read. */
struct p2m_src pv_memimage_p2m_src(struct pv_memimage *img);

#endif
