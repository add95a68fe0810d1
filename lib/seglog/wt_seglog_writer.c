/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_writer.c: appends frames to mmap'ed segments; rolls, seals, recovers.
 *
 * Commit protocol: how it works
 *   A frame is [word | crc | payload | pad]. Segments are fresh preallocated
 *   files, so every byte past the last frame is zero. To append, the writer
 *   writes the payload and the CRC into the mapping, then stores the word
 *   (commit bit | type | length) with a release store. A reader loads the
 *   word with an acquire load: zero means "nothing here yet" and ends the
 *   segment; a nonzero word guarantees that the CRC and the payload stored
 *   before it are visible too. So a reader, in this process or another
 *   (MAP_SHARED: both see the same page-cache pages), never sees a
 *   half-written frame, and a live tail and an offline reader are one reader.
 *   `seq` is assigned here, +1 per record, only once the frame is certain to
 *   fit, so a failed append consumes no number.
 *
 * Limits
 *   - A process crash (kill -9, abort) loses nothing committed: the stores
 *     are in the page cache, which the kernel writes back. A power loss or
 *     kernel crash loses what was not yet written back; the disk may even
 *     hold a word without its payload. The CRC turns that into a reported,
 *     skipped frame; wt_seglog_flush() (msync MS_ASYNC) and the seal (msync
 *     MS_SYNC + fsync) bound the window.
 *   - One writer per directory (flock on the directory); the writer object
 *     belongs to one thread. Readers need no lock.
 *   - The first touch of each page of a new segment takes a page fault on
 *     the writer's thread (one per 23 records with 4 KiB pages).
 *
 * Segment life (direct mode): created under a temporary name, preallocated,
 * header written and synced, then renamed to its final name and the
 * directory synced, so a file with a segment name always has a complete
 * header. Sealed when full or at close: seal block written, msync + fsync
 * of the file and fsync of the directory, on the writer's thread. A segment
 * is never written again after its seal.
 *
 * Spool mode: the roll and the seal go to wt_seglog_spool.c (a prepared
 * spool file is taken, the seal is written in memory and the file handed
 * to the archiver thread); the append path below is the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wt_crc32c.h"
#include "wt_seglog_segment.h"
#include "wt_seglog_spool.h"

struct wt_seglog_writer {
	/* current segment (base == NULL: none; the next append creates one) */
	uint8_t *base;
	uint64_t off;     /* next frame */
	uint64_t limit;   /* segment size */
	uint64_t flushed; /* bytes [0, flushed) already passed to msync */
	uint64_t next_seq;
	struct wt_seg_header seg; /* counts of the current segment */
	int fd;                   /* direct mode only; a spool slot keeps its own */
	int dirfd;
	struct wt_spool *spool;    /* NULL: direct mode */
	struct wt_spool_slot *cur; /* spool mode: the slot being written */
	/* configuration and totals */
	uint64_t segment_size;
	uint64_t run_id;
	uint64_t next_segno;
	uint64_t segments_created;
	uint64_t records_appended;
	uint64_t recovered_records;
	uint64_t recovered_spool;
	uint64_t duplicates_dropped;
	uint64_t eagain;
	uint64_t seals_sync;
	uint64_t fallback_segments;
	uint64_t bytes_stored, bytes_raw, compress_failures;
	int compress_level;
	char dir[PATH_MAX - WT_SEG_NAME_LEN - 2]; /* so that dir/name always fits */
	char path[PATH_MAX];
	char recovered_path[PATH_MAX];
};

static void
unmap_segment(struct wt_seglog_writer *w)
{
	if (w->base != NULL)
		munmap(w->base, w->limit);
	if (w->fd >= 0)
		close(w->fd);
	w->base = NULL;
	w->fd = -1;
	w->path[0] = '\0';
}

/* Store the sealed, synced current segment compressed: written under a
 * temporary name, synced, renamed over the raw file, directory synced. A
 * failure leaves the raw segment (complete and valid) and is counted. */
static wt_cold void
compress_current(struct wt_seglog_writer *w)
{
	char name[WT_SEG_NAME_LEN + 1], tmp[WT_SEG_NAME_LEN + 8];
	uint64_t stored = 0;

	wt_seg_name_make(name, sizeof(name), w->seg.segment_no);
	snprintf(tmp, sizeof(tmp), ".%s" WT_SEG_TMP_SUFFIX, name);
	if (wt_seg_zstd_write(w->dirfd, tmp, w->base, w->off, w->compress_level, &stored) != 0) {
		w->compress_failures++;
		return;
	}
	if (renameat(w->dirfd, tmp, w->dirfd, name) != 0 || fsync(w->dirfd) != 0) {
		unlinkat(w->dirfd, tmp, 0);
		w->compress_failures++;
		return;
	}
	w->bytes_stored += stored;
	w->bytes_raw += w->off;
}

/* Seal the current segment. On failure it stays current (a retry seals
 * again: sealing is idempotent). */
static int
seal_current(struct wt_seglog_writer *w)
{
	w->seg.end_offset = w->off;
	int rc = wt_seg_seal_and_sync(w->dirfd, w->fd, w->base, w->limit, &w->seg,
	                              WT_SEG_STATE_SEALED);
	w->seals_sync++;
	if (rc == 0) {
		if (w->compress_level != 0)
			compress_current(w);
		unmap_segment(w);
	}
	return rc;
}

/* Create, preallocate, map and publish segment w->next_segno. */
static wt_cold int
create_segment(struct wt_seglog_writer *w)
{
	char name[WT_SEG_NAME_LEN + 1], tmp[WT_SEG_NAME_LEN + 8];
	uint8_t *base;
	int fd, rc;

	wt_seg_name_make(name, sizeof(name), w->next_segno);
	snprintf(tmp, sizeof(tmp), ".%s" WT_SEG_TMP_SUFFIX, name);
	/* A leftover of a crash during an earlier creation of this segment
	 * was never published, so it holds no record: replaced. */
	rc = wt_seg_file_create(w->dirfd, tmp, w->segment_size, 0, &fd, &base);
	if (rc != 0)
		return rc;
	wt_seg_header_init(&w->seg, w->segment_size, w->next_segno, w->run_id, w->next_seq);
	wt_seg_header_encode(base, &w->seg);
	if (msync(base, WT_SEG_HEADER_SIZE, MS_SYNC) != 0 || fsync(fd) != 0) {
		rc = -errno;
		goto err;
	}
	if (renameat2(w->dirfd, tmp, w->dirfd, name, RENAME_NOREPLACE) != 0) {
		rc = -errno;
		goto err;
	}
	if (fsync(w->dirfd) != 0) {
		/* The segment is published but maybe not durable: keep it (it
		 * holds no record yet) and report the error. */
		rc = -errno;
		munmap(base, w->segment_size);
		close(fd);
		w->next_segno++;
		return rc;
	}
	w->base = base;
	w->fd = fd;
	w->limit = w->segment_size;
	w->off = WT_SEG_HEADER_SIZE;
	w->flushed = 0;
	snprintf(w->path, sizeof(w->path), "%s/%s", w->dir, name);
	w->next_segno++;
	w->segments_created++;
	return 0;

err:
	munmap(base, w->segment_size);
	close(fd);
	unlinkat(w->dirfd, tmp, 0);
	return rc;
}

/* Spool mode: the seal block in memory, the file to the archiver. */
static void
spool_seal(struct wt_seglog_writer *w)
{
	w->seg.end_offset = w->off;
	w->seg.state = WT_SEG_STATE_SEALED;
	w->seg.sealed_ns = wt_seg_now_ns();
	wt_seg_seal_encode(w->base, &w->seg);
	wt_spool_seal(w->spool, w->cur, w->off);
	w->base = NULL;
	w->cur = NULL;
	w->path[0] = '\0';
}

/* Spool mode: a prepared file becomes segment w->next_segno (-EAGAIN when
 * none is ready). */
static int
spool_roll(struct wt_seglog_writer *w)
{
	struct wt_seg_header h;

	wt_seg_header_init(&h, w->segment_size, w->next_segno, w->run_id, w->next_seq);
	int rc = wt_spool_roll(w->spool, &h, &w->cur, w->path, sizeof(w->path));
	if (rc != 0) {
		w->eagain += rc == -EAGAIN;
		return rc;
	}
	w->seg = h;
	w->base = w->cur->base;
	w->limit = w->segment_size;
	w->off = WT_SEG_HEADER_SIZE;
	w->flushed = 0;
	w->next_segno++;
	w->segments_created++;
	if (w->cur->in_dir)
		w->fallback_segments++;
	return 0;
}

/* Make room for a frame of @span bytes: roll to a new segment if needed. */
static wt_cold int
make_room(struct wt_seglog_writer *w, uint64_t span)
{
	int rc;

	if (span > w->segment_size - WT_SEG_HEADER_SIZE)
		return -EMSGSIZE;
	if (w->spool != NULL) {
		if (w->base != NULL) {
			if (span <= w->limit - w->off)
				return 0;
			spool_seal(w);
		}
		return spool_roll(w);
	}
	if (w->base != NULL) {
		if (span <= w->limit - w->off)
			return 0;
		rc = seal_current(w);
		if (rc != 0)
			return rc;
	}
	return create_segment(w);
}

/* Write and commit one frame. A sequenced one (@seq_at >= 0: the offset of
 * its seq) is copied with its seq replaced by @seq, a call record's padding
 * zeroed too, so the caller's bytes are left untouched. */
static wt_always_inline int
put_frame(struct wt_seglog_writer *w, unsigned int type, const void *payload, uint32_t len,
          int seq_at, uint64_t seq)
{
	uint64_t span = wt_frame_span(len);

	if (wt_unlikely(w->base == NULL || span > w->limit - w->off)) {
		int rc = make_room(w, span);
		if (rc != 0)
			return rc;
	}
	uint8_t *f = w->base + w->off;
	uint8_t *p = f + WT_FRAME_HDR_SIZE;
	uint32_t word = wt_frame_word(type, len);

	memcpy(p, payload, len);
	if (seq_at >= 0) {
		memcpy(p + seq_at, &seq, sizeof(seq));
		if (type == WT_SEGLOG_FRAME_RECORD)
			memset(p + WT_REC_PAD_OFF, 0, WT_REC_PAD_LEN);
	}
	if (span - WT_FRAME_HDR_SIZE > len)
		memset(p + len, 0, span - WT_FRAME_HDR_SIZE - len);
	uint32_t crc = wt_crc32c(wt_crc32c(0, &word, sizeof(word)), p, len);
	memcpy(f + 4, &crc, sizeof(crc));
	/* Commit: everything above becomes visible no later than the word. */
	__atomic_store_n((uint32_t *)(void *)f, word, __ATOMIC_RELEASE);
	w->off += span;
	w->seg.frame_count++;
	return 0;
}

int
wt_seglog_append(struct wt_seglog_writer *w, struct wt_callrec *rec)
{
	uint64_t seq = w->next_seq;
	int rc = put_frame(w, WT_SEGLOG_FRAME_RECORD, rec, sizeof(*rec),
	                   (int)offsetof(struct wt_callrec, seq), seq);

	if (wt_unlikely(rc != 0))
		return rc;
	rec->seq = seq;
	w->next_seq = seq + 1;
	w->seg.record_count++;
	w->seg.last_seq = seq;
	w->records_appended++;
	return 0;
}

int
wt_seglog_append_typed(struct wt_seglog_writer *w, unsigned int type, const void *payload,
                       size_t len, uint64_t *seqp)
{
	if (type < WT_SEGLOG_FRAME_TYPED_FIRST || type > WT_SEGLOG_FRAME_TYPED_LAST ||
	    len < sizeof(uint64_t))
		return -EINVAL;
	if (len > WT_SEGLOG_MAX_PAYLOAD)
		return -EMSGSIZE;
	uint64_t seq = w->next_seq;
	int rc = put_frame(w, type, payload, (uint32_t)len, 0, seq);
	if (wt_unlikely(rc != 0))
		return rc;
	if (seqp != NULL)
		*seqp = seq;
	w->next_seq = seq + 1;
	w->seg.record_count++;
	w->seg.last_seq = seq;
	w->records_appended++;
	return 0;
}

int
wt_seglog_append_frame(struct wt_seglog_writer *w, unsigned int type, const void *payload,
                       size_t len)
{
	if (type == 0 || type > WT_FRAME_TYPE_MASK || wt_seglog_frame_sequenced(type))
		return -EINVAL;
	if (len > WT_SEGLOG_MAX_PAYLOAD)
		return -EMSGSIZE;
	return put_frame(w, type, payload, (uint32_t)len, -1, 0);
}

int
wt_seglog_append_stats(struct wt_seglog_writer *w, const char *text, size_t len)
{
	return wt_seglog_append_frame(w, WT_SEGLOG_FRAME_STATS, text, len);
}

int
wt_seglog_flush(struct wt_seglog_writer *w)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t from;

	if (w->base == NULL || w->off <= w->flushed)
		return 0;
	from = w->flushed / (uint64_t)pg * (uint64_t)pg;
	if (msync(w->base + from, w->off - from, MS_ASYNC) != 0)
		return -errno;
	w->flushed = w->off;
	return 0;
}

int
wt_seglog_close(struct wt_seglog_writer *w)
{
	int rc = 0;

	if (w == NULL)
		return 0;
	if (w->spool != NULL) {
		if (w->base != NULL)
			spool_seal(w);
		rc = wt_spool_close(w->spool);
		w->spool = NULL;
	} else if (w->base != NULL) {
		rc = seal_current(w);
		unmap_segment(w);
	}
	if (w->dirfd >= 0)
		close(w->dirfd); /* also releases the flock */
	free(w);
	return rc;
}

uint64_t
wt_seglog_next_seq(const struct wt_seglog_writer *w)
{
	return w->next_seq;
}

uint64_t
wt_seglog_next_segment_no(const struct wt_seglog_writer *w)
{
	return w->next_segno;
}

const char *
wt_seglog_current_path(const struct wt_seglog_writer *w)
{
	return w->path;
}

uint64_t
wt_seglog_segments_created(const struct wt_seglog_writer *w)
{
	return w->segments_created;
}

uint64_t
wt_seglog_records_appended(const struct wt_seglog_writer *w)
{
	return w->records_appended;
}

const char *
wt_seglog_recovered_path(const struct wt_seglog_writer *w)
{
	return w->recovered_path;
}

uint64_t
wt_seglog_recovered_records(const struct wt_seglog_writer *w)
{
	return w->recovered_records;
}

void
wt_seglog_writer_stats(const struct wt_seglog_writer *w, struct wt_seglog_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->records_appended = w->records_appended;
	st->segments_created = w->segments_created;
	st->eagain = w->eagain;
	st->seals_sync = w->seals_sync;
	st->recovered_spool = w->recovered_spool;
	st->duplicates_dropped = w->duplicates_dropped;
	st->fallback_segments = w->fallback_segments;
	if (w->spool != NULL)
		wt_spool_stats(w->spool, st);
	st->bytes_stored += w->bytes_stored;
	st->bytes_raw += w->bytes_raw;
	st->compress_failures += w->compress_failures;
}

/* Continue numbering after the last segment of the directory. */
static wt_cold int
resume_after(struct wt_seglog_writer *w, const char *name, char *err, size_t errlen)
{
	struct wt_seg_mapped m;
	int rc = wt_seg_map(w->dirfd, w->dir, name, "last segment", &m, err, errlen);

	if (rc == 0 && !m.h.sealed) {
		rc = wt_seg_recover(w->dirfd, m.fd, m.base, m.size, &m.h);
		if (rc != 0) {
			wt_seg_seterr(err, errlen, "%s/%s: cannot seal recovered segment: %s",
			              w->dir, name, strerror(-rc));
		} else {
			snprintf(w->recovered_path, sizeof(w->recovered_path), "%s/%.28s", w->dir,
			         name);
			w->recovered_records = m.h.record_count;
		}
	}
	if (rc == 0) {
		w->next_seq =
		        m.h.record_count ? WT_MAX(m.h.last_seq + 1, m.h.first_seq) : m.h.first_seq;
		w->next_segno = m.segno + 1;
	}
	wt_seg_unmap(&m);
	return rc;
}

struct wt_seglog_writer *
wt_seglog_open(const struct wt_seglog_conf *conf, char *err, size_t errlen)
{
	struct wt_seglog_writer *w = NULL;
	char **names = NULL;
	int n = 0, rc;

	if (conf == NULL || conf->dir == NULL || conf->dir[0] == '\0' ||
	    strlen(conf->dir) >= sizeof(w->dir)) {
		rc = -EINVAL;
		wt_seg_seterr(err, errlen, "seglog: no log directory given (or path too long)");
		goto err;
	}
	uint64_t size = conf->segment_size ? conf->segment_size : WT_SEGLOG_DEFAULT_SEGMENT_SIZE;
	if (size < WT_SEGLOG_MIN_SEGMENT_SIZE || size > WT_SEGLOG_MAX_SEGMENT_SIZE ||
	    size % 4096 != 0 || size > SIZE_MAX) {
		rc = -EINVAL;
		wt_seg_seterr(err, errlen,
		              "seglog: segment size %" PRIu64
		              " invalid (a multiple of 4096 from %u to "
		              "%llu)",
		              size, WT_SEGLOG_MIN_SEGMENT_SIZE, WT_SEGLOG_MAX_SEGMENT_SIZE);
		goto err;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rc = -ENOMEM;
		wt_seg_seterr(err, errlen, "seglog: out of memory");
		goto err;
	}
	w->fd = -1;
	w->dirfd = -1;
	w->segment_size = size;
	w->compress_level = conf->compress_level;
	w->run_id = conf->run_id;
	w->next_segno = 1;
	snprintf(w->dir, sizeof(w->dir), "%s", conf->dir);
	w->dirfd = open(conf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot open log directory: %s", conf->dir,
		              strerror(-rc));
		goto err;
	}
	if (flock(w->dirfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		wt_seg_seterr(err, errlen,
		              "%s: log directory is in use by another writer (flock: %s)",
		              conf->dir, strerror(errno));
		goto err;
	}
	/* Spool mode: lock the spool and move whatever a crashed writer left
	 * there into the directory first, so that the directory's last
	 * segment below is the log's last segment. */
	if (conf->spool_dir != NULL) {
		struct wt_spool_conf sc = {.spool_dir = conf->spool_dir,
		                           .log_dir = w->dir,
		                           .logdirfd = w->dirfd,
		                           .segment_size = w->segment_size,
		                           .nslots = conf->spool_segments,
		                           .retry_ms = conf->retry_ms,
		                           .compress_level = conf->compress_level};
		struct wt_spool_recovery rec;
		rc = wt_spool_open(&w->spool, &sc, &rec, err, errlen);
		w->recovered_spool = rec.archived;
		w->duplicates_dropped = rec.duplicates;
		if (rec.path[0] != '\0') {
			snprintf(w->recovered_path, sizeof(w->recovered_path), "%s", rec.path);
			w->recovered_records = rec.records;
		}
		if (rc != 0)
			goto err;
		/* so that a reader of the directory finds the spool after a crash
		 * (wt_seglog_spool_of); without it, only --spool does */
		wt_seglog_spool_note(w->dirfd, conf->spool_dir);
	}
	n = wt_seg_list(w->dirfd, &names);
	if (n < 0) {
		rc = n;
		n = 0;
		wt_seg_seterr(err, errlen, "%s: cannot list log directory: %s", conf->dir,
		              strerror(-rc));
		goto err;
	}
	if (n > 0) {
		rc = resume_after(w, names[n - 1], err, errlen);
		if (rc != 0)
			goto err;
	}
	wt_seg_names_free(names, n);
	names = NULL;
	n = 0;
	if (w->spool != NULL) {
		rc = wt_spool_start(w->spool, conf->archiver_cpus, err, errlen);
		if (rc != 0)
			goto err;
	}
	return w;

err:
	wt_seg_names_free(names, n);
	if (w != NULL) {
		wt_spool_free(w->spool);
		if (w->dirfd >= 0)
			close(w->dirfd);
	}
	free(w);
	errno = -rc;
	return NULL;
}

#ifdef WT_TESTING
void
wt_seglog_test_pause_archiver(struct wt_seglog_writer *w, int paused)
{
	if (w->spool != NULL)
		wt_spool_pause(w->spool, paused);
}
#endif
