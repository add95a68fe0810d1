/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_spool.h: the spool (prepared segment files, the archiver thread, spool recovery), on
 * top of the segment files (internal).
 *
 * Not installed, not for other libraries. The spool knows segment files
 * (wt_seglog_segment.h) and its own configuration, not the writer: the
 * writer takes a prepared file at a roll (wt_spool_roll()), writes it, and
 * hands it back sealed (wt_spool_seal()); the archiver makes it durable.
 */
#ifndef WT_SEGLOG_SPOOL_H
#define WT_SEGLOG_SPOOL_H

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "wt_seglog.h"
#include "wt_seglog_segment.h"

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
	uint64_t bytes_stored; /* compressed archive files' bytes */
	uint64_t bytes_raw;    /* the header + frame bytes they hold */
};

struct wt_spool {
	struct wt_spool_slot *slots;
	unsigned int nslots;
	int dirfd;    /* the spool directory, flock'ed */
	int logdirfd; /* the log directory, the archive (not owned: the writer's) */
	char logdir[PATH_MAX - WT_SEG_NAME_LEN - 2];
	uint64_t segment_size;
	int efd;      /* eventfd: writer -> archiver wake-ups */
	bool huge;    /* the spool is on hugetlbfs */
	bool same_fs; /* spool and archive on one disk file system: archive = rename */
	unsigned int retry_ms;
	int compress_level; /* archive compressed (zstd level); 0: raw */
	pthread_t thread;
	bool thread_started;
	uint32_t stop; /* atomic: the writer is closing */
	int close_rc;  /* archiver's final status (read after join) */
	bool err_prep; /* archiver: the current error is from preparing */
#ifdef WT_TESTING
	uint32_t paused;     /* atomic, tests: wt_seglog_test_pause_archiver() (1 all, 2 jobs) */
	uint32_t pause_seen; /* atomic: the value the archiver acts on now */
#endif
	struct wt_spool_counters c;
	pthread_mutex_t msg_lock; /* the two messages and their errnos */
	int archive_errno;
	int fallback_errno;
	char archive_error[512];
	char fallback_msg[512];
	char path[PATH_MAX - WT_SEG_NAME_LEN - 2];
};

struct wt_spool_conf {
	const char *spool_dir;
	const char *log_dir; /* the archive; @logdirfd is it, open and locked */
	int logdirfd;
	uint64_t segment_size;
	unsigned int nslots;   /* 0: WT_SEGLOG_DEFAULT_SPOOL_SEGMENTS */
	unsigned int retry_ms; /* 0: WT_SEGLOG_DEFAULT_RETRY_MS */
	int compress_level;    /* archive compressed at this zstd level; 0: raw */
};

/* What opening the spool recovered from a crashed writer. */
struct wt_spool_recovery {
	uint64_t archived;   /* spool segments archived into the log directory */
	uint64_t duplicates; /* spool segments deleted: already archived */
	uint64_t records;    /* records of the unsealed one it sealed as recovered */
	char path[PATH_MAX]; /* where that one is now (in the archive), "" when none */
};

/* Lock the spool, then archive (or delete, when already archived) every
 * segment a crashed writer left there, sealing an open one as recovered, so
 * that the log directory's last segment is the log's. *@spp is set even on
 * failure (free it with wt_spool_free()). 0 or -errno and one line in @err. */
int wt_spool_open(struct wt_spool **spp, const struct wt_spool_conf *conf,
                  struct wt_spool_recovery *rec, char *err, size_t errlen);
/* Prepare the first file and start the archiver thread (@cpus: its CPUs,
 * NULL: inherited). */
int wt_spool_start(struct wt_spool *sp, const cpu_set_t *cpus, char *err, size_t errlen);
/* Writer's thread, at a roll: take a prepared file, write the creation
 * block @h into it and give it its segment name; *@slotp is the slot (its
 * base is the mapping), @path its path. -EAGAIN when none is ready (every
 * slot sealed, waiting for the archiver), or -errno from the rename. */
int wt_spool_roll(struct wt_spool *sp, const struct wt_seg_header *h, struct wt_spool_slot **slotp,
                  char *path, size_t pathlen);
/* Writer's thread: slot @s, whose seal block the writer wrote in memory
 * (frames end at @end_offset), goes to the archiver. */
void wt_spool_seal(struct wt_spool *sp, struct wt_spool_slot *s, uint64_t end_offset);
/* Stop the archiver (it archives every sealed segment first) and free the
 * spool. 0, or -errno of the first segment left in the spool. */
int wt_spool_close(struct wt_spool *sp);
/* Free without stopping a thread (none started, or already joined). */
void wt_spool_free(struct wt_spool *sp);
/* The archiver's counters and messages into @st. */
/* (the message lock is taken: not const) */
void wt_spool_stats(struct wt_spool *sp, struct wt_seglog_stats *st);
#ifdef WT_TESTING
/* Tests: wt_seglog_test_pause_archiver(). */
void wt_spool_pause(struct wt_spool *sp, int paused);
#endif

#endif /* WT_SEGLOG_SPOOL_H */
