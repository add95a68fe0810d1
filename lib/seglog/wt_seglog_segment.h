/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_segment.h: segment files: create, map, seal, recover (internal; the bottom layer).
 *
 * Not installed, not for other libraries. Layers, calls going one way:
 * segment files (this), the spool on top of them (wt_seglog_spool.h), the
 * writer on top of either (wt_seglog_writer.c).
 */
#ifndef WT_SEGLOG_SEGMENT_H
#define WT_SEGLOG_SEGMENT_H

#include <stdint.h>

#include "wt_seglog_format.h"

/* A segment mapped read-write for recovery, its header decoded and checked. */
struct wt_seg_mapped {
	int fd;
	uint8_t *base;
	uint64_t size;
	uint64_t segno; /* from the file name */
	struct wt_seg_header h;
};

/* Creation block of a new segment: number @segno, first seq @first_seq. */
void wt_seg_header_init(struct wt_seg_header *h, uint64_t segment_size, uint64_t segno,
                        uint64_t run_id, uint64_t first_seq);

/* Create file @name in @dirfd (replacing a leftover), preallocate @size
 * bytes (a full file system or hugepage pool fails here, never later as a
 * SIGBUS) and map them shared, read-write, with @mmap_flags added.
 * 0, or -errno with nothing left behind. */
int wt_seg_file_create(int dirfd, const char *name, uint64_t size, int mmap_flags, int *fdp,
                       uint8_t **basep);

/* Open and map segment @name of directory (@dirfd, @dir) and check its
 * header: it decodes and names its own number and file size. @what names
 * the file in messages ("last segment"). 0, or -errno and one line in @err:
 * EBADMSG (too short, corrupt or mismatched: move it aside), ENOTSUP (newer
 * major version), open/mmap errors. Release with wt_seg_unmap() either way. */
int wt_seg_map(int dirfd, const char *dir, const char *name, const char *what,
               struct wt_seg_mapped *m, char *err, size_t errlen);
void wt_seg_unmap(struct wt_seg_mapped *m);

/* Write the seal block of @h with @state, then make the whole segment
 * durable: msync of the mapping, fsync of the file, fsync of @dirfd (which
 * holds the rename of its creation). 0 or -errno. */
int wt_seg_seal_and_sync(int dirfd, int fd, uint8_t *base, uint64_t size, struct wt_seg_header *h,
                         uint32_t state);

/* Recover an unsealed segment (mapped at @base, @size bytes, header @h):
 * count its frames as a reader does and seal it as recovered (@h gets the
 * counts). 0 or -errno from sealing. */
int wt_seg_recover(int dirfd, int fd, uint8_t *base, uint64_t size, struct wt_seg_header *h);

/*
 * Compressed segments (FORMAT.md 3.2): a sealed segment may be stored as
 * one zstd frame holding its bytes [0, end_offset), with the frame's
 * content size set; the zero tail is not stored. Same file name.
 */

/* @p (@len bytes) starts like a zstd frame, not like a segment. */
int wt_seg_is_zstd(const void *p, size_t len);

/* A segment file mapped at *@basep (*@lenp bytes): when it is compressed,
 * put a private anonymous mapping of its decompressed bytes in its place
 * (release with munmap() as before) and unmap the file. @return 1 when it
 * did, 0 for a raw segment (left as it is), or -EBADMSG / -ENOMEM with the
 * reason in @why (the file unmapped, *@basep NULL). */
int wt_seg_unzstd(uint8_t **basep, size_t *lenp, char *why, size_t whylen);

/* The first @n bytes of the segment stored in @fd, compressed or not
 * (@n at most 4096). 0, or -errno / -EBADMSG. */
int wt_seg_read_head(int fd, void *buf, size_t n);

/* Write @base[0, @end) of a sealed segment as a compressed segment into
 * the new file @name of @dirfd (replaced if it exists), zstd level @level,
 * and fsync it. *@written: the file's size. 0, or -errno with nothing left
 * behind. */
int wt_seg_zstd_write(int dirfd, const char *name, const uint8_t *base, uint64_t end, int level,
                      uint64_t *written);

#endif /* WT_SEGLOG_SEGMENT_H */
