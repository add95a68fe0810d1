/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_priv.h: internal layout of the writer and its spool, shared by the append path and the
 * archiver.
 *
 * Not installed, not for other libraries. wt_seglog_writer.c owns the
 * append path and the direct mode; wt_seglog_spool.c owns the spool slots,
 * the archiver thread and the spool recovery.
 */
#ifndef WT_SEGLOG_PRIV_H
#define WT_SEGLOG_PRIV_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "wt_seglog_format.h"

/*
 * Spool slots: how it works
 *   A slot is one spool file (or, after a hugepage shortage, one file
 *   prepared in the archive directory instead). Its state word says who
 *   owns it; only the owner touches the other fields, and ownership passes
 *   with a release store of the state that the new owner reads with an
 *   acquire load, so everything written before the handoff (the file's
 *   mapping, the records, the seal block) is visible to the new owner:
 *
 *     EMPTY --(archiver)--> PREPARING --(archiver: file allocated)--> READY
 *     READY --(writer, at a roll)--> CURRENT --(writer: seal)--> SEALED
 *     SEALED --(archiver: archived or synced, file released)--> EMPTY
 *
 *   The writer never waits for the archiver: at a roll it takes any READY
 *   slot; with none, every slot is sealed (or was freed a moment ago and
 *   is being prepared), and the append returns -EAGAIN (nothing written).
 *   The archiver prepares every EMPTY slot, then archives SEALED slots in
 *   segment order. The writer wakes it with an eventfd write; the
 *   archiver sleeps in poll() on that eventfd (with a timeout while a
 *   retry is pending). No lock is taken on the writer's side.
 *
 * Limits
 *   - Hugepages used: spool_segments x segment_size at most.
 *   - Power loss loses what is in the spool and not yet archived (hugetlbfs
 *     is memory): at most spool_segments segments.
 */
enum wt_slot_state {
	WT_SLOT_EMPTY = 0,
	WT_SLOT_PREPARING,
	WT_SLOT_READY,
	WT_SLOT_CURRENT,
	WT_SLOT_SEALED,
};

struct wt_spool_slot {
	uint32_t state;   /* enum wt_slot_state, atomic */
	uint32_t publish; /* atomic: 1 = the writer published a segment on a disk
	                   * file system; the archiver syncs its header and name */
	/* Set by the preparer before READY. */
	int fd;
	uint8_t *base;
	bool in_dir; /* the file is in the archive directory (hugepage fallback) */
	/* Set by the writer at a roll and a seal. */
	uint64_t segno;
	uint64_t end_offset;
	unsigned int idx;
};

/* Archiver counters: written by the archiver only, read by the writer's
 * thread, so relaxed atomics. */
struct wt_spool_counters {
	uint64_t seals_async;
	uint64_t segments_archived;
	uint64_t bytes_archived;
	uint64_t archive_ns;
	uint64_t archive_failures;
	uint64_t fallback_segments;
};

struct wt_spool {
	struct wt_spool_slot *slots;
	unsigned int nslots;
	int dirfd;    /* the spool directory, flock'ed */
	int logdirfd; /* the writer's log directory (not owned) */
	uint64_t segment_size;
	int efd;      /* eventfd: writer -> archiver wake-ups */
	bool huge;    /* the spool is on hugetlbfs */
	bool same_fs; /* spool and archive on one disk file system: archive = rename */
	unsigned int retry_ms;
	pthread_t thread;
	bool thread_started;
	uint32_t stop;       /* atomic: the writer is closing */
	int close_rc;        /* archiver's final status (read after join) */
	bool err_prep;       /* archiver: the current error is from preparing */
	uint32_t paused;     /* atomic, tests: wt_seglog_test_pause_archiver() (1 all, 2 jobs) */
	uint32_t pause_seen; /* atomic: the value the archiver acts on now */
	struct wt_spool_counters c;
	pthread_mutex_t msg_lock; /* the two messages and their errnos */
	int archive_errno;
	int fallback_errno;
	char archive_error[512];
	char fallback_msg[512];
	char path[PATH_MAX - WT_SEG_NAME_LEN - 2];
};

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
	char dir[PATH_MAX - WT_SEG_NAME_LEN - 2]; /* so that dir/name always fits */
	char path[PATH_MAX];
	char recovered_path[PATH_MAX];
};

/* A segment mapped read-write for recovery, its header decoded and checked. */
struct wt_seg_mapped {
	int fd;
	uint8_t *base;
	uint64_t size;
	uint64_t segno; /* from the file name */
	struct wt_seg_header h;
};

/* wt_seglog_writer.c */
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
int wt_seg_seal_and_sync(int dirfd, int fd, uint8_t *base, uint64_t size, struct wt_seg_header *h,
                         uint32_t state);
int wt_seg_recover(struct wt_seglog_writer *w, const char *dir, int dirfd, const char *name,
                   struct wt_seg_header *h, int fd, uint8_t *base, uint64_t size);
void wt_seg_header_init(struct wt_seglog_writer *w, struct wt_seg_header *h);

/* wt_seglog_spool.c */
int wt_spool_open(struct wt_seglog_writer *w, const struct wt_seglog_conf *conf, char *err,
                  size_t errlen);
int wt_spool_start(struct wt_seglog_writer *w, const struct wt_seglog_conf *conf, char *err,
                   size_t errlen);
void wt_spool_seal(struct wt_seglog_writer *w);
int wt_spool_roll(struct wt_seglog_writer *w);
int wt_spool_close(struct wt_seglog_writer *w);
void wt_spool_free(struct wt_spool *sp);
void wt_spool_stats(const struct wt_seglog_writer *w, struct wt_seglog_stats *st);

#endif /* WT_SEGLOG_PRIV_H */
