/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog.h: the crash-safe call-record log (fixed-size mmap segments).
 *
 * A log is a directory of segment files. Each segment is a fixed-size file,
 * preallocated on disk (so a full disk is an error at creation, never a
 * SIGBUS later), memory-mapped, with a versioned header and a sequence of
 * frames. A frame is committed by storing its header word last with release
 * order; a reader stops at the first uncommitted frame, so a live tail and an
 * offline reader are the same reader. Every frame carries a CRC-32C so a torn
 * or corrupted frame is detected. docs/FORMAT.md specifies the bytes.
 *
 * No EAL dependency. A writer is owned by one thread.
 */
#ifndef WT_SEGLOG_H
#define WT_SEGLOG_H

#include <stddef.h>
#include <stdint.h>

#include "wt_record.h"

#define WT_SEGLOG_MIN_SEGMENT_SIZE (64u << 10)     /* 64 KiB */
#define WT_SEGLOG_DEFAULT_SEGMENT_SIZE (64u << 20) /* 64 MiB */

struct wt_seglog_writer;

struct wt_seglog_conf {
	const char *dir;        /* existing, writable directory */
	uint64_t segment_size;  /* bytes per segment file, >= WT_SEGLOG_MIN_SEGMENT_SIZE */
	uint64_t run_id;        /* identifies this monitor run (random), stored in headers */
};

/**
 * Open a log for appending.
 *
 * Scans @conf->dir for existing segments. The numbering and the record
 * sequence continue after the last segment found (so `seq` stays gap-free
 * across restarts); an unsealed segment left by a crash is validated, its
 * committed records kept, and it is sealed as recovered. The first new
 * segment is created lazily by the first append.
 *
 * @param err     on failure, a one-line message naming the cause and path
 * @return the writer, or NULL with errno set.
 */
struct wt_seglog_writer *wt_seglog_open(const struct wt_seglog_conf *conf, char *err,
					size_t errlen);

/**
 * Append one completed call record: assigns rec->seq (the next number),
 * writes and commits the frame. Rolls over to a new segment when full.
 * @return 0, or -errno (e.g. -ENOSPC when the next segment cannot be
 * preallocated); on error nothing was written and rec->seq is unchanged, so
 * the caller still owns the record and may retry.
 */
int wt_seglog_append(struct wt_seglog_writer *w, struct wt_callrec *rec);

/**
 * Append a stats frame: UTF-8 text of "name=value\n" lines (the monitor's
 * counters at exit). @return 0 or -errno as wt_seglog_append().
 */
int wt_seglog_append_stats(struct wt_seglog_writer *w, const char *text, size_t len);

/** Start writeback of what was appended (msync MS_ASYNC). @return 0 or -errno. */
int wt_seglog_flush(struct wt_seglog_writer *w);

/**
 * Seal the current segment (header marked sealed, fsync of file and
 * directory) and free the writer. NULL is accepted.
 * @return 0 or -errno (the writer is freed either way).
 */
int wt_seglog_close(struct wt_seglog_writer *w);

/** Sequence number the next appended record will get. */
uint64_t wt_seglog_next_seq(const struct wt_seglog_writer *w);

/** Path of the segment being written, or "" before the first append. */
const char *wt_seglog_current_path(const struct wt_seglog_writer *w);

/** Segments created and records appended by this writer. */
uint64_t wt_seglog_segments_created(const struct wt_seglog_writer *w);
uint64_t wt_seglog_records_appended(const struct wt_seglog_writer *w);

#endif /* WT_SEGLOG_H */
