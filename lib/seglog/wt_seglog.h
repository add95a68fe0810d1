/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog.h: the crash-safe log of typed, sequenced records (fixed-size mmap segments).
 * The monitor's call records are one type, the host agent's events others;
 * every sequenced record gets the next number of one gap-free sequence.
 *
 * A log is a directory of segment files. Each segment is a fixed-size file,
 * preallocated on disk (so a full disk is an error at creation, never a
 * SIGBUS later), memory-mapped, with a versioned header and a sequence of
 * frames. A frame is committed by storing its header word last with release
 * order; a reader stops at the first uncommitted frame, so a live tail and an
 * offline reader are the same reader. Every frame carries a CRC-32C so a torn
 * or corrupted frame is detected. docs/FORMAT.md specifies the bytes.
 *
 * Spool mode (conf.spool_dir): segments are written in a spool directory,
 * normally on hugetlbfs (zero-copy for a local reader), and an archiver
 * thread owned by the writer persists each sealed one into the log
 * directory, so the writer's thread never waits for the disk; when the
 * archive falls behind, appends return -EAGAIN instead of dropping.
 *
 * No EAL dependency. A writer is owned by one thread (plus its archiver).
 */
#ifndef WT_SEGLOG_H
#define WT_SEGLOG_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "wt_record.h"

#define WT_SEGLOG_MIN_SEGMENT_SIZE     (64u << 10)  /* 64 KiB */
#define WT_SEGLOG_DEFAULT_SEGMENT_SIZE (64u << 20)  /* 64 MiB */
#define WT_SEGLOG_MAX_SEGMENT_SIZE     (1ull << 40) /* 1 TiB */

/* Frame types (docs/FORMAT.md). 3..15 are reserved; readers skip them. */
#define WT_SEGLOG_FRAME_RECORD 1 /* payload: struct wt_callrec (304 bytes; version 1: 168) */
#define WT_SEGLOG_FRAME_STATS  2 /* payload: UTF-8 "name=value\n" lines */
/* Typed records (format 1.2): types 16..127, each a producer's record type
 * (docs/FORMAT.md 5.7). The payload starts with the record's 64-bit seq
 * (little-endian), assigned by the writer from the same sequence as call
 * records; the rest is the producer's. */
#define WT_SEGLOG_FRAME_TYPED_FIRST 16u
#define WT_SEGLOG_FRAME_TYPED_LAST  127u

/** 1 when frames of @type carry a seq (call records and typed records). */
static inline int
wt_seglog_frame_sequenced(unsigned int type)
{
	return type == WT_SEGLOG_FRAME_RECORD ||
	       (type >= WT_SEGLOG_FRAME_TYPED_FIRST && type <= WT_SEGLOG_FRAME_TYPED_LAST);
}

/* Largest stats text: the frame length field has 24 bits (and the frame
 * must also fit in one segment). */
#define WT_SEGLOG_MAX_PAYLOAD ((1u << 24) - 1)

struct wt_seglog_writer;

/* Spool mode (docs/FORMAT.md section 10, lib/seglog/README.md). */
#define WT_SEGLOG_DEFAULT_SPOOL_SEGMENTS 4u
#define WT_SEGLOG_MIN_SPOOL_SEGMENTS     2u
#define WT_SEGLOG_MAX_SPOOL_SEGMENTS     64u
#define WT_SEGLOG_DEFAULT_RETRY_MS       1000u

struct wt_seglog_conf {
	const char *dir;       /* existing, writable directory (the archive in spool mode) */
	uint64_t segment_size; /* bytes per segment file: 0 = WT_SEGLOG_DEFAULT_SEGMENT_SIZE,
	                        * else a multiple of 4096 in [MIN, MAX]_SEGMENT_SIZE; in a
	                        * spool on hugetlbfs also a multiple of its page size */
	uint64_t run_id;       /* identifies this monitor run (random), stored in headers */
	/* Spool mode. NULL: direct mode, segments are created, written and
	 * sealed (msync + fsync) in @dir by the writer's thread, as before.
	 * Else an existing directory, other than @dir, normally on hugetlbfs:
	 * segments are written there through the mapping and an archiver
	 * thread persists each sealed one into @dir (copy + fsync + rename;
	 * a rename after fsync when both are on one disk file system), so the
	 * writer's thread never waits for the disk. */
	const char *spool_dir;
	/* Spool files that exist at once: the one being written, the sealed
	 * ones waiting for the archiver, and every other one prepared ahead.
	 * 0 = WT_SEGLOG_DEFAULT_SPOOL_SEGMENTS; else in
	 * [MIN, MAX]_SPOOL_SEGMENTS. Hugepages held for the writer's life:
	 * this x segment_size. */
	unsigned int spool_segments;
	/* After a failed archive (disk full, I/O error) or a failed
	 * allocation, the archiver tries again after this many ms.
	 * 0 = WT_SEGLOG_DEFAULT_RETRY_MS. */
	unsigned int retry_ms;
	/* CPUs the archiver thread may run on; NULL = inherit the affinity of
	 * the thread calling wt_seglog_open(). In a DPDK application pass
	 * the control-plane CPUs, so that the archiver never shares a core
	 * with a polling lcore. */
	const cpu_set_t *archiver_cpus;
	/* Sealed segments in @dir are stored compressed (FORMAT.md 3.2) at
	 * this zstd level (1 .. 19, or -7 .. -1 for zstd's fast levels):
	 * by the archiver when it archives (spool mode), by the writer's
	 * thread right after the seal (direct mode). 0: stored raw. The
	 * spool's segments, the one being written and spool-mode fallback
	 * segments stay raw. */
	int compress_level;
};

/**
 * Open a log for appending.
 *
 * Scans @conf->dir for existing segments. The numbering and the record
 * sequence continue after the last segment found (so `seq` stays gap-free
 * across restarts); an unsealed segment left by a crash is validated, its
 * committed records kept, and it is sealed as recovered. The first new
 * segment is created lazily by the first append. The directory is locked
 * (flock) for the life of the writer: a second writer on it fails.
 *
 * Spool mode (@conf->spool_dir set): the spool directory is locked too.
 * Every segment a crashed writer left there is first recovered (sealed as
 * recovered when it was open) and archived into @conf->dir, or deleted when
 * its archived copy is already complete there (the crash came after the
 * archive's rename), so nothing is archived twice; leftover prepared files
 * are deleted. Then the first spool file is prepared (a failure there is
 * not fatal: it is in the stats and retried) and the archiver thread (named
 * "wt-archiver", all signals blocked) is started; it prepares the others.
 *
 * @param conf    directory, segment size, run id, spool (copied; not kept)
 * @param err     on failure, a one-line message naming the cause and path
 * @param errlen  size of @err (may be 0, then @err may be NULL)
 * @return the writer, or NULL with errno set: EINVAL (bad conf, spool_dir
 * = dir, segment size not a multiple of the spool's hugepage size), ENOENT /
 * ENOTDIR / EACCES (directory), EBUSY (another writer holds the directory
 * or the spool), EBADMSG (the last segment's header, or a spool segment's,
 * is corrupt: seq cannot be continued safely; move the file aside), ENOTSUP
 * (a newer major format version), EEXIST (a spool segment and an archived
 * segment of the same number differ), ENOSPC / EIO and others from
 * recovering or archiving a leftover spool segment (it stays in the spool;
 * nothing is lost), EAGAIN (thread creation), ENOMEM.
 * Threading: any thread; the writer then belongs to the thread that uses it.
 */
struct wt_seglog_writer *wt_seglog_open(const struct wt_seglog_conf *conf, char *err,
                                        size_t errlen);

/**
 * Append one completed call record: assigns rec->seq (the next number),
 * writes and commits the frame. Rolls over to a new segment when full (the
 * full one is sealed first).
 * @return 0, or -errno: -ENOSPC when the next segment cannot be
 * preallocated, -EIO (or another errno) from sealing, creating or mapping a
 * segment. Spool mode only: -EAGAIN when every spool segment is sealed and
 * waiting for the archiver (the archive disk is slower than the traffic, or
 * full, see wt_seglog_writer_stats()): try again later. On any error no
 * frame was written and rec->seq is unchanged (the sequence number is not
 * consumed), so the caller still owns the record and may retry later.
 * Threading: only the writer's owner thread. No allocation, no system call
 * except at a segment roll. In spool mode a roll does no disk I/O: a seal
 * block and a header written in memory, a rename of a prepared file, an
 * eventfd write.
 */
int wt_seglog_append(struct wt_seglog_writer *w, struct wt_callrec *rec);

/**
 * Append one typed record of @type (WT_SEGLOG_FRAME_TYPED_FIRST ..
 * _LAST): the @len bytes at @payload (at least 8) are written with their
 * first 8 bytes replaced by the record's seq, the next number of the log's
 * one sequence (shared with call records), which is also stored in *@seq
 * (may be NULL). @payload itself is not changed.
 * @return 0, -EINVAL (another type, @len < 8), -EMSGSIZE (@len over
 * WT_SEGLOG_MAX_PAYLOAD or one segment), or the errors of
 * wt_seglog_append(), with the same guarantee: on error nothing was written
 * and no number consumed. Owner thread only; no allocation.
 */
int wt_seglog_append_typed(struct wt_seglog_writer *w, unsigned int type, const void *payload,
                           size_t len, uint64_t *seq);

/**
 * Append a stats frame: UTF-8 text of "name=value\n" lines (the monitor's
 * counters at exit).
 * @return 0 or -errno as wt_seglog_append(), and -EMSGSIZE when @len exceeds
 * WT_SEGLOG_MAX_PAYLOAD or what one segment can hold, -EAGAIN in spool mode
 * as wt_seglog_append(). Owner thread only.
 */
int wt_seglog_append_stats(struct wt_seglog_writer *w, const char *text, size_t len);

/**
 * Start writeback of what was appended since the last flush (msync
 * MS_ASYNC). Not needed for crash safety against a process crash (the
 * mapping is in the page cache); it narrows the window of a power loss.
 * In spool mode on hugetlbfs it does nothing (the spool is memory; what
 * is durable is what the archiver archived).
 * @return 0 or -errno from msync. Owner thread only.
 */
int wt_seglog_flush(struct wt_seglog_writer *w);

/**
 * Seal the current segment (header marked sealed, msync + fsync of the file
 * and of the directory) and free the writer. NULL is accepted.
 * Spool mode: the current segment is sealed and handed to the archiver,
 * which then archives every sealed spool segment, in order, making one more
 * attempt at once for a segment whose archiving failed before; the thread
 * is joined and the prepared spool files are deleted. A segment that still
 * cannot be archived (disk full) stays in the spool, readable with
 * `wiretally-read --spool`, and is archived by the next wt_seglog_open().
 * @return 0 or -errno (the writer is freed either way): in spool mode the
 * error of the first segment left in the spool (-ENOSPC, -EIO, ...).
 * Owner thread only.
 */
int wt_seglog_close(struct wt_seglog_writer *w);

/** Sequence number the next appended record will get. Owner thread only. */
uint64_t wt_seglog_next_seq(const struct wt_seglog_writer *w);

/** Number the next segment created will get: right after wt_seglog_open(),
 * the first segment that can hold a record this writer appends (a reader
 * following only this writer's records starts there:
 * wt_seglog_reader_conf.follow_from_segment). Owner thread only. */
uint64_t wt_seglog_next_segment_no(const struct wt_seglog_writer *w);

/** Path of the segment being written, or "" before the first append. */
const char *wt_seglog_current_path(const struct wt_seglog_writer *w);

/** Segments created and records appended by this writer. */
uint64_t wt_seglog_segments_created(const struct wt_seglog_writer *w);
uint64_t wt_seglog_records_appended(const struct wt_seglog_writer *w);

/**
 * What wt_seglog_open() recovered: the path of the unsealed segment it
 * found and sealed as recovered ("" when there was none), and the number of
 * committed records it kept there. For the monitor's start-up log line.
 * In spool mode the path is where the segment is now (in the archive).
 */
const char *wt_seglog_recovered_path(const struct wt_seglog_writer *w);
uint64_t wt_seglog_recovered_records(const struct wt_seglog_writer *w);

/**
 * The spool directory a monitor uses for log directory @dir with
 * `--spool auto`: on the first hugetlbfs mount in /proc/mounts,
 * "wiretally-" and 16 hex digits of the FNV-1a 64 hash of @dir's real
 * path. The same for every run on @dir (a restart finds what a crash left
 * there), and computable by a reader (`wiretally-read --follow`). The
 * directory may not exist.
 * @return 0 with the path in @buf, -ENOENT when no hugetlbfs is mounted,
 * -ENAMETOOLONG when @len is too small. Thread-safe.
 */
int wt_seglog_spool_auto_dir(const char *dir, char *buf, size_t len);

/* The file in a log directory that names its spool: a writer in spool mode
 * writes it at open (the spool's real path and a newline). */
#define WT_SEGLOG_SPOOL_NOTE ".wiretally-spool"

/**
 * The spool of the log in @dir: the one its writer noted there
 * (WT_SEGLOG_SPOOL_NOTE), else the automatic one
 * (wt_seglog_spool_auto_dir()), into @buf.
 * @return 0 when that directory exists, -ENOENT when there is none (or it
 * is gone), -ENAMETOOLONG. Thread-safe.
 */
int wt_seglog_spool_of(const char *dir, char *buf, size_t len);

/** Note @spool_dir in the log directory @dirfd (WT_SEGLOG_SPOOL_NOTE),
 * replaced atomically. @return 0 or -errno. Used by the writer. */
int wt_seglog_spool_note(int dirfd, const char *spool_dir);

/** Writer and archiver counters and status (wt_seglog_writer_stats()). */
struct wt_seglog_stats {
	/* The writer's thread. */
	uint64_t records_appended;
	uint64_t segments_created; /* spool + direct, by this writer */
	uint64_t eagain;           /* appends refused with -EAGAIN: spool full */
	uint64_t seals_sync;       /* seals whose msync/fsync ran on the writer's thread
	                            * (direct mode; 0 in spool mode) */
	/* The archiver thread (spool mode; 0 in direct mode). */
	uint64_t seals_async;        /* seals made durable by the archiver: segments
	                              * archived + fallback segments synced */
	uint64_t segments_archived;  /* spool segments now in the archive (copied or moved) */
	uint64_t bytes_archived;     /* bytes copied (header + frames; the tail is a hole) */
	uint64_t bytes_stored;       /* compressed segments: their files' bytes (both modes) */
	uint64_t bytes_raw;          /* ... and the header + frame bytes they hold */
	uint64_t compress_failures;  /* segments left raw: compressing them failed */
	uint64_t archive_ns;         /* time spent archiving: bytes_archived / archive_ns
	                              * is the archiver's throughput */
	uint64_t archive_failures;   /* failed attempts to archive, sync or allocate; each
	                              * is retried every retry_ms */
	uint64_t fallback_segments;  /* segments written directly in the archive directory
	                              * because no spool file could be allocated */
	uint64_t recovered_spool;    /* spool segments of a crashed writer archived by open */
	uint64_t duplicates_dropped; /* spool segments open deleted: already archived */
	unsigned int spool_waiting;  /* sealed segments waiting for the archiver now */
	int archive_errno;           /* errno of the current failure; 0 after a success */
	int fallback_errno;          /* errno of the first failed spool allocation; 0 never */
	/* One line each, "" when none: the current archiving failure (which
	 * file, which errno, what happens), and the first fallback from the
	 * spool to the archive directory (hugepages exhausted). */
	char archive_error[512];
	char fallback_msg[512];
};

/**
 * Fill @st. The monitor prints archive_error when archive_failures grows and
 * fallback_msg once when fallback_segments leaves 0.
 * Threading: the writer's owner thread (the archiver's fields are read
 * atomically, the messages under the archiver's message lock).
 */
void wt_seglog_writer_stats(const struct wt_seglog_writer *w, struct wt_seglog_stats *st);

/*
 * Reader.
 *
 * Reads segment files in order and yields their committed frames; checks
 * every CRC, the sealed headers' counts and the gap-free `seq` of records
 * across all segments it reads. Problems are reported through a callback,
 * one call per problem, and reading goes on: the rules (which frame or
 * segment is skipped) are in docs/FORMAT.md, "Reading". An unsealed segment
 * (writer running or crashed) is read up to its last committed frame
 * without complaint, so the same reader serves a live log.
 */
struct wt_seglog_reader;

enum wt_seglog_problem {
	/* Class "error" (wiretally-read exits 1): data could not be read. */
	WT_SEGLOG_PROBLEM_IO = 1,  /* open/stat/mmap of a segment failed */
	WT_SEGLOG_PROBLEM_VERSION, /* segment of a newer major format version */
	/* Class "data" (wiretally-read exits 2): the log is damaged. */
	WT_SEGLOG_PROBLEM_HEADER,  /* segment header corrupt: segment skipped */
	WT_SEGLOG_PROBLEM_FRAME,   /* frame corrupt (bad CRC, bad word, too short) */
	WT_SEGLOG_PROBLEM_SEAL,    /* sealed header disagrees with the frames found */
	WT_SEGLOG_PROBLEM_SEQ_GAP, /* records missing before this one */
	WT_SEGLOG_PROBLEM_SEQ_DUP, /* seq not above the previous one */
	WT_SEGLOG_PROBLEM_SEGNO,   /* segment numbers not consecutive */
};

/** "io", "version", "header", "frame", "seal", "seq-gap", "seq-dup", "segno". */
const char *wt_seglog_problem_name(enum wt_seglog_problem p);

/**
 * Problem callback: @path the segment file, @offset the byte offset in it
 * where the problem is (0 for a whole-file problem), @msg one line without
 * a newline. Called from wt_seglog_reader_next() on the caller's thread.
 */
typedef void (*wt_seglog_problem_fn)(void *arg, enum wt_seglog_problem p, const char *path,
                                     uint64_t offset, const char *msg);

struct wt_seglog_reader_conf {
	const char *const *paths;     /* directories (all their segments) or segment files */
	size_t npaths;                /* read in this order, concatenated */
	wt_seglog_problem_fn problem; /* NULL: problems are only counted */
	void *problem_arg;
	/* A writer's spool directory, read together with @paths: the segments
	 * of both are read in segment-number order, and a number present in
	 * @paths (the archive) is read from there, not from the spool, so a
	 * segment archived but not yet deleted from the spool (or archived
	 * while this reader runs) is read once. @paths must then be
	 * directories or files with segment names. NULL: no spool. */
	const char *spool_dir;
	/* Follow mode (a live tail): @paths is one directory, which may hold
	 * no segment yet. wt_seglog_reader_next() returns 0 when it has read
	 * everything written so far; a later call reads on from there: new
	 * frames of the open segment, the segments created since (the
	 * directory and the spool are listed again). An open segment is left
	 * only once its writer sealed it. The spool directory may not exist
	 * (yet): it then holds nothing. See "Follow mode: how it works" in
	 * wt_seglog_reader.c. 0: read what exists, once. */
	int follow;
	/* Follow mode: segments numbered below this one are never read (not
	 * even opened), so a reader of one writer's records does not pass over
	 * the segments of earlier runs. 0: from the first segment. */
	uint64_t follow_from_segment;
};

/** One frame, valid until the next wt_seglog_reader_next() or _close(). */
struct wt_seglog_frame {
	unsigned int type;   /* WT_SEGLOG_FRAME_*, or a future type */
	uint32_t len;        /* payload bytes */
	const void *payload; /* into the read-only mapping of the segment */
	const char *path;    /* segment file */
	uint64_t offset;     /* of the frame in the file */
	uint64_t segment_no;
	uint64_t seq; /* sequenced frames (call and typed records): the seq; else 0 */
};

struct wt_seglog_read_stats {
	uint64_t segments;       /* segment files whose header could be read */
	uint64_t compressed;     /* of the segment files, compressed ones (FORMAT.md 3.2) */
	uint64_t frames;         /* good frames of every type */
	uint64_t records;        /* good record frames (call records) */
	uint64_t typed_records;  /* good typed record frames (types 16..127) */
	uint64_t stats_frames;   /* good stats frames */
	uint64_t unknown_frames; /* good frames of types this reader does not know */
	uint64_t first_seq;      /* first and last seq of the call and typed records;
	                          * meaningful when records + typed_records > 0 */
	uint64_t last_seq;
	uint64_t problems; /* data problems reported (class "data") */
	uint64_t errors;   /* read errors reported (class "error") */
};

/**
 * Open a reader over @conf->paths. Every path is checked now: a directory
 * must hold at least one segment file (seg-*.wts), a file must start with
 * the segment magic. With a spool directory, a directory may be empty as
 * long as the spool and the paths together hold a segment. Nothing is
 * reported through the callback here.
 * @param err     on failure, a one-line message naming the problem and path
 * @return the reader, or NULL with errno: ENOENT (path missing, or a
 * directory without segments), EACCES and other open/stat errors, EBADMSG
 * (a file that is not a wiretally segment), EINVAL (no paths, a path
 * that is neither a file nor a directory, or with a spool a file without a
 * segment name), ENOMEM.
 * Threading: a reader is used by one thread at a time; any number of readers
 * may read a log while its writer appends (in this or another process).
 */
struct wt_seglog_reader *wt_seglog_reader_open(const struct wt_seglog_reader_conf *conf, char *err,
                                               size_t errlen);

/**
 * Next good frame, in file order (segments in name order within a
 * directory, paths in the order given). Reports problems on the way.
 * @return 1 with @f filled, 0 at the end of the last segment (follow mode:
 * at the end of what is written so far; call again later).
 */
int wt_seglog_reader_next(struct wt_seglog_reader *r, struct wt_seglog_frame *f);

/**
 * 1 when the last wt_seglog_reader_next() returned 0, and the last segment
 * it read was sealed by its writer right after a stats frame: the writer
 * closed the log (the monitor stores its counters, then seals, at exit).
 * A writer started again on the directory continues in a new segment, and
 * then this is 0 again once that segment is read.
 */
int wt_seglog_reader_log_closed(const struct wt_seglog_reader *r);

/** Counters so far (complete after _next() returned 0). */
const struct wt_seglog_read_stats *wt_seglog_reader_stats(const struct wt_seglog_reader *r);

/** Close a reader; NULL is accepted. */
void wt_seglog_reader_close(struct wt_seglog_reader *r);

/**
 * Copy the record of a record frame into @rec. A version 1 record (168
 * bytes) gets its version 2 fields zeroed (they render empty); payload
 * bytes beyond struct wt_callrec, which a future minor version may add,
 * are ignored.
 * @return 0, or -EINVAL when @f is not a record frame of at least 168 bytes.
 */
int wt_seglog_frame_record(const struct wt_seglog_frame *f, struct wt_callrec *rec);

#endif /* WT_SEGLOG_H */
