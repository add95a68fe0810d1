/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_segment.c: segment files: create, map, seal, recover (the layer under the spool and the
 * writer).
 *
 * Not installed. Nothing here knows a writer or a spool: a segment is a
 * directory, a file and its mapping. The spool (wt_seglog_spool.c) and the
 * writer (wt_seglog_writer.c) are built on these functions; calls go one
 * way: writer -> spool -> segment, writer -> segment.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt_seglog_segment.h"

int
wt_seg_seal_and_sync(int dirfd, int fd, uint8_t *base, uint64_t size, struct wt_seg_header *h,
                     uint32_t state)
{
	h->state = state;
	h->sealed_ns = wt_seg_now_ns();
	wt_seg_seal_encode(base, h);
	if (msync(base, size, MS_SYNC) != 0 || fsync(fd) != 0 || fsync(dirfd) != 0)
		return -errno;
	return 0;
}

void
wt_seg_header_init(struct wt_seg_header *h, uint64_t segment_size, uint64_t segno, uint64_t run_id,
                   uint64_t first_seq)
{
	memset(h, 0, sizeof(*h));
	h->major = WT_SEG_MAJOR;
	h->minor = WT_SEG_MINOR;
	h->header_size = WT_SEG_HEADER_SIZE;
	h->segment_size = segment_size;
	h->segment_no = segno;
	h->run_id = run_id;
	h->created_ns = wt_seg_now_ns();
	h->first_seq = first_seq;
}

int
wt_seg_file_create(int dirfd, const char *name, uint64_t size, int mmap_flags, int *fdp,
                   uint8_t **basep)
{
	void *base;
	int rc;

	unlinkat(dirfd, name, 0);
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* posix_fallocate returns the error number instead of setting errno. */
	rc = posix_fallocate(fd, 0, (off_t)size);
	if (rc != 0) {
		rc = -rc;
		goto err;
	}
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | mmap_flags, fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto err;
	}
	*fdp = fd;
	*basep = base;
	return 0;
err:
	close(fd);
	unlinkat(dirfd, name, 0);
	return rc;
}

/*
 * Recovery of an unsealed last segment: how it works
 *   The segment is scanned exactly as a reader scans it: frames up to the
 *   first zero word (never written), stepping over damaged frames (a power
 *   loss can tear them) to the next good one. Every committed record is
 *   kept where it is; nothing is rewritten
 *   or truncated, so recovery cannot lose a record a reader could have read.
 *   The seal block then records state "recovered", the records and last seq
 *   found and the end offset, and the file and directory are synced.
 *   Writing resumes in a new segment: next seq = last seq found + 1 (or the
 *   header's first_seq when the segment holds no record).
 */
int
wt_seg_recover(int dirfd, int fd, uint8_t *base, uint64_t size, struct wt_seg_header *h)
{
	struct wt_seg_cursor c = {
	        .base = base, .limit = WT_MIN(size, h->segment_size), .off = h->header_size};
	struct wt_seg_frame f;
	enum wt_seg_step st;
	uint64_t seq;

	h->record_count = 0;
	h->frame_count = 0;
	h->last_seq = 0;
	while ((st = wt_seg_cursor_next(&c, &f)) != WT_SEG_STEP_END) {
		/* As the reader does: a bad CRC is skipped by its length, a
		 * bad word by resynchronising at the next good frame. */
		if (st == WT_SEG_STEP_BAD_WORD && !wt_seg_cursor_resync(&c, c.off + 8, c.limit))
			break;
		if (st != WT_SEG_STEP_FRAME)
			continue;
		h->frame_count++;
		if (!wt_seglog_frame_sequenced(f.type) ||
		    f.len < (f.type == WT_SEGLOG_FRAME_RECORD ? WT_CALLREC_V1_SIZE : sizeof(seq)))
			continue;
		memcpy(&seq, f.payload, sizeof(seq)); /* the first field of every sequenced frame */
		if (h->record_count == 0 || seq > h->last_seq)
			h->last_seq = seq;
		h->record_count++;
	}
	h->end_offset = c.off;
	return wt_seg_seal_and_sync(dirfd, fd, base, size, h, WT_SEG_STATE_RECOVERED);
}

int
wt_seg_map(int dirfd, const char *dir, const char *name, const char *what, struct wt_seg_mapped *m,
           char *err, size_t errlen)
{
	struct stat st;
	char why[160];
	int rc;

	m->base = MAP_FAILED;
	m->size = 0;
	m->segno = 0;
	wt_seg_name_parse(name, &m->segno);
	m->fd = openat(dirfd, name, O_RDWR | O_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st) != 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s/%s: cannot open %s: %s", dir, name, what,
		              strerror(-rc));
		return rc;
	}
	if (st.st_size < (off_t)WT_SEG_HEADER_SIZE) {
		wt_seg_seterr(err, errlen, "%s/%s: %s too short (%jd bytes); move it aside", dir,
		              name, what, (intmax_t)st.st_size);
		return -EBADMSG;
	}
	m->size = (uint64_t)st.st_size;
	m->base = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s/%s: cannot map %s: %s", dir, name, what,
		              strerror(-rc));
		return rc;
	}
	/* A compressed one is sealed, so only read: its decompressed bytes
	 * stand in for the file. */
	size_t len = (size_t)m->size;
	rc = wt_seg_unzstd(&m->base, &len, why, sizeof(why));
	bool compressed = rc > 0;
	if (rc != 0) {
		close(m->fd);
		m->fd = -1;
	}
	if (rc < 0) {
		m->base = MAP_FAILED;
		wt_seg_seterr(err, errlen, "%s/%s: %s; cannot continue the log: move it aside", dir,
		              name, why);
		return -EBADMSG;
	}
	m->size = len;
	switch (wt_seg_header_decode(m->base, m->size, &m->h, why, sizeof(why))) {
	case WT_SEG_HDR_OK:
		break;
	case WT_SEG_HDR_UNSUPPORTED:
		wt_seg_seterr(err, errlen, "%s/%s: %s", dir, name, why);
		return -ENOTSUP;
	default:
		/* Without a trustworthy header the seq cannot be continued
		 * without risking duplicates: an operator decides. */
		wt_seg_seterr(err, errlen, "%s/%s: %s; cannot continue the log: move it aside", dir,
		              name, why);
		return -EBADMSG;
	}
	if (m->h.segment_no != m->segno || (compressed ? !m->h.sealed || m->h.end_offset != m->size
	                                               : m->h.segment_size != m->size)) {
		wt_seg_seterr(err, errlen,
		              "%s/%s: header says segment %" PRIu64 " of %" PRIu64
		              " bytes; move it aside",
		              dir, name, m->h.segment_no, m->h.segment_size);
		return -EBADMSG;
	}
	return 0;
}

void
wt_seg_unmap(struct wt_seg_mapped *m)
{
	if (m->base != MAP_FAILED)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = MAP_FAILED;
	m->fd = -1;
}
