/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_spool.c: spool mode: prepared spool files, the archiver thread, spool recovery.
 *
 * The archiver: how it works
 *   One thread per writer. In a loop it (1) syncs the header and name of a
 *   segment the writer just published on a disk file system, (2) keeps one
 *   spool file prepared in every free slot (create ".prep-K.tmp",
 *   fallocate the whole segment, which on hugetlbfs reserves the hugepages
 *   now, so a shortage is an error here and never a SIGBUS in the writer;
 *   map it), (3) archives the sealed spool segments in segment order:
 *     copy:  write header + frames (the used part) to "<dir>/.seg-N.wts.tmp",
 *            ftruncate to the segment size (the tail is a hole), fsync,
 *            rename to "seg-N.wts", fsync the directory, delete the spool
 *            file (its hugepages return to the pool);
 *     move:  (spool and archive on one disk file system) msync + fsync the
 *            spool file, rename it into the archive, fsync the directory;
 *     sync:  (a fallback segment, already in the archive) msync + fsync +
 *            fsync of the directory: the direct mode's seal, off the
 *            writer's thread.
 *   It then sleeps in poll() on the writer's eventfd. A failed step (disk
 *   full, I/O error) leaves the segment where it is, publishes one line
 *   naming the file and the errno (wt_seglog_writer_stats()), and is
 *   retried every retry_ms; later segments wait behind it, so the archive
 *   only ever grows in order. When the spool cannot allocate a file
 *   (hugepages exhausted), the archiver prepares the file in the archive
 *   directory instead: that segment is written there directly, and sealed
 *   by the "sync" step.
 *
 * Crash states (kill -9 at any point) and what the next open does
 *   - a ".prep-K.tmp" in the spool or the archive: never held a record
 *     (the writer writes records only after renaming it): deleted;
 *   - a ".seg-N.wts.tmp" in the archive: an unfinished copy (or creation);
 *     the spool still has the segment: deleted;
 *   - a sealed or unsealed "seg-N.wts" in the spool and none in the
 *     archive: an unsealed one is recovered (sealed "recovered" with the
 *     committed records found), then it is archived as above;
 *   - "seg-N.wts" in both: the crash came after the archive's rename; the
 *     archived copy was complete (synced before the rename) and the same
 *     creation block proves it is the same segment: the spool copy is
 *     deleted, so nothing is archived twice and no seq is duplicated.
 *   Until that open, `wiretally-read --spool SPOOL DIR` reads both places,
 *   each segment number once.
 *
 * Limits
 *   - The archive is as durable as the direct mode's segments once
 *     archived; what is still in a hugepage spool is lost by a power loss
 *     or a reboot (not by a crash of the process).
 *   - A roll renames the prepared file: in memory on hugetlbfs; on a disk
 *     file system (fallback, ordinary spool) a metadata operation that
 *     normally does not wait for the disk.
 *   - The writer never allocates: the archiver prepares every free slot
 *     before it starts a copy (fallocate zeroes the pages: about 5 ms per
 *     64 MiB on hugetlbfs here). A slot freed by an archived segment is
 *     ready a few ms later; an append in that window gets -EAGAIN.
 *   - Hugepages held: all spool_segments files, prepared or used, for the
 *     life of the writer (the spool's budget is allocated up front).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "wt_seglog_spool.h"
#include "wt_time.h"

/* Copies are written in pieces of this size, so that one write call does
 * not hold the file system for long. */
#define COPY_CHUNK (8u << 20)

#ifdef WT_TESTING
void (*wt_seglog_archive_hook)(enum wt_archive_point p, uint64_t segno);

static void
hook(enum wt_archive_point p, uint64_t segno)
{
	if (wt_seglog_archive_hook != NULL)
		wt_seglog_archive_hook(p, segno);
}

/* What wt_seglog_test_pause_archiver() asked for; the archiver says it saw it. */
static uint32_t
pause_wanted(struct wt_spool *sp, bool stop)
{
	uint32_t pause = stop ? 0 : __atomic_load_n(&sp->paused, __ATOMIC_ACQUIRE);
	__atomic_store_n(&sp->pause_seen, pause, __ATOMIC_RELEASE);
	return pause;
}
#else /* the production build: no hook, never paused */
#define hook(p, segno)         ((void)0)
#define pause_wanted(sp, stop) 0u
#endif

static const char *
errname(int e)
{
	const char *n = strerrorname_np(e);
	return n != NULL ? n : "?";
}

static void
kick(struct wt_spool *sp)
{
	uint64_t one = 1;

	/* Non-blocking eventfd: fails only if the counter would overflow,
	 * and then the archiver has a wake-up pending anyway. */
	if (write(sp->efd, &one, sizeof(one)) < 0)
		return;
}

static void
prep_name(char *buf, size_t len, unsigned int idx)
{
	snprintf(buf, len, WT_PREP_PREFIX "%u" WT_PREP_SUFFIX, idx);
}

/* ---- messages (archiver and open; read by wt_seglog_writer_stats) ----- */

static void __attribute__((format(printf, 3, 4), cold))
set_error(struct wt_spool *sp, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sp->msg_lock);
	sp->archive_errno = err;
	sp->err_prep = false;
	va_start(ap, fmt);
	vsnprintf(sp->archive_error, sizeof(sp->archive_error), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&sp->msg_lock);
	__atomic_fetch_add(&sp->c.archive_failures, 1, __ATOMIC_RELAXED);
}

/* Only the archiver writes the messages' errnos (and open, before it
 * starts), so it reads them without the lock. */
static void
clear_error(struct wt_spool *sp)
{
	sp->err_prep = false;
	if (sp->archive_errno == 0)
		return;
	pthread_mutex_lock(&sp->msg_lock);
	sp->archive_errno = 0;
	sp->archive_error[0] = '\0';
	pthread_mutex_unlock(&sp->msg_lock);
}

/* ---- preparing spool files ------------------------------------------- */

/*
 * A zero-filled, fully allocated, mapped file ".prep-K.tmp" for slot @s in
 * the spool, or in the archive directory when @in_dir. 0 or -errno; on
 * failure nothing is left behind.
 */
static int
prepare_file(struct wt_spool *sp, struct wt_spool_slot *s, bool in_dir)
{
	int dfd = in_dir ? sp->logdirfd : sp->dirfd;
	char name[32];
	uint8_t *base;
	int fd;

	prep_name(name, sizeof(name), s->idx);
	/* On hugetlbfs fallocate reserves and zeroes the pages; map them all
	 * now, so the writer never takes a page fault. On a disk file system
	 * populating would dirty (and later write back) the whole file. */
	int rc = wt_seg_file_create(dfd, name, sp->segment_size,
	                            sp->huge && !in_dir ? MAP_POPULATE : 0, &fd, &base);
	if (rc != 0)
		return rc;
	/* A file in the archive is made durable empty now, so that its
	 * publication later only has a header page and a rename to sync. */
	if (in_dir && (fsync(fd) != 0 || fsync(dfd) != 0)) {
		rc = -errno;
		munmap(base, sp->segment_size);
		close(fd);
		unlinkat(dfd, name, 0);
		return rc;
	}
	s->fd = fd;
	s->base = base;
	s->in_dir = in_dir;
	return 0;
}

/* The archiver's preparation: the spool, else (hugepages exhausted) the
 * archive directory, said once in fallback_msg. */
static int
prepare_slot(struct wt_spool *sp, struct wt_spool_slot *s)
{
	int rc = prepare_file(sp, s, false);

	if (rc == 0)
		return 0;
	int rc2 = prepare_file(sp, s, true);
	pthread_mutex_lock(&sp->msg_lock);
	if (sp->fallback_errno == 0) {
		sp->fallback_errno = -rc;
		wt_seg_seterr(
		        sp->fallback_msg, sizeof(sp->fallback_msg),
		        "spool %s: cannot allocate a %" PRIu64
		        "-byte segment file: %s (%s)%s; writing segments directly to %s until "
		        "the spool can allocate again",
		        sp->path, sp->segment_size, strerror(-rc), errname(-rc),
		        sp->huge ? ", hugepages exhausted" : "", sp->logdir);
	}
	pthread_mutex_unlock(&sp->msg_lock);
	if (rc2 != 0) {
		set_error(sp, -rc2,
		          "cannot allocate a segment file: spool %s: %s (%s), and %s: %s (%s); "
		          "retrying every %u ms",
		          sp->path, strerror(-rc), errname(-rc), sp->logdir, strerror(-rc2),
		          errname(-rc2), sp->retry_ms);
		sp->err_prep = true;
	}
	return rc2;
}

static void
release_file(struct wt_spool *sp, struct wt_spool_slot *s)
{
	if (s->base != NULL)
		munmap(s->base, sp->segment_size);
	if (s->fd >= 0)
		close(s->fd);
	s->base = NULL;
	s->fd = -1;
}

/* ---- the writer's side (owner thread) -------------------------------- */

void
wt_spool_seal(struct wt_spool *sp, struct wt_spool_slot *s, uint64_t end_offset)
{
	/* The seal block is in memory only; making it durable is the
	 * archiver's job. */
	s->end_offset = end_offset;
	__atomic_store_n(&s->state, WT_SLOT_SEALED, __ATOMIC_RELEASE);
	kick(sp);
}

/* Take a prepared file as segment h->segment_no. -EAGAIN when none is
 * ready: every slot is sealed and waiting for the archiver (or, briefly, the
 * archiver is preparing the slot it just freed). */
int
wt_spool_roll(struct wt_spool *sp, const struct wt_seg_header *h, struct wt_spool_slot **slotp,
              char *path, size_t pathlen)
{
	struct wt_spool_slot *s = NULL;
	char tmp[32], name[WT_SEG_NAME_LEN + 1];

	for (unsigned int i = 0; i < sp->nslots && s == NULL; i++)
		if (__atomic_load_n(&sp->slots[i].state, __ATOMIC_ACQUIRE) == WT_SLOT_READY)
			s = &sp->slots[i];
	if (s == NULL) {
		/* No wake-up needed: the archiver is busy with the sealed
		 * segments, or waiting for a retry. No system call either. */
		return -EAGAIN;
	}
	int dfd = s->in_dir ? sp->logdirfd : sp->dirfd;
	prep_name(tmp, sizeof(tmp), s->idx);
	wt_seg_name_make(name, sizeof(name), h->segment_no);
	wt_seg_header_encode(s->base, h);
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) != 0) {
		int rc = -errno;
		memset(s->base, 0, WT_SEG_HEADER_SIZE); /* a blank prepared file again */
		__atomic_store_n(&s->state, WT_SLOT_READY, __ATOMIC_RELEASE);
		return rc;
	}
	s->segno = h->segment_no;
	s->end_offset = 0;
	__atomic_store_n(&s->state, WT_SLOT_CURRENT, __ATOMIC_RELAXED);
	/* On a disk file system the header and the new name are synced by
	 * the archiver, soon, off this thread. */
	if (!sp->huge || s->in_dir)
		__atomic_store_n(&s->publish, 1, __ATOMIC_RELEASE);
	kick(sp); /* and it prepares the next file */
	*slotp = s;
	snprintf(path, pathlen, "%s/%s", s->in_dir ? sp->logdir : sp->path, name);
	return 0;
}

/* ---- archiving (archiver thread; also open's recovery) --------------- */

/* The archived copy @name in the archive is the same segment as the spool's
 * (@base): the same creation block and the same seal block (so the same
 * end offset and counts), sealed. Only then may the spool copy go. */
static bool
archived_copy_matches(struct wt_spool *sp, const char *name, const uint8_t *base)
{
	uint8_t hdr[WT_SEG_HEADER_SIZE];
	struct wt_seg_header h;
	char why[160];
	bool same = false;
	int fd = openat(sp->logdirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (wt_seg_read_head(fd, hdr, sizeof(hdr)) == 0 &&
	    wt_seg_header_decode(hdr, sizeof(hdr), &h, why, sizeof(why)) == WT_SEG_HDR_OK &&
	    h.sealed && memcmp(hdr, base, WT_SEG_SEAL_OFF + WT_SEG_SEAL_LEN) == 0)
		same = true;
	close(fd);
	return same;
}

/*
 * Copy a sealed segment (@base, @end bytes used of @size) into the archive
 * as seg-@segno: temporary name, fsync, rename, fsync of the directory.
 * Idempotent: when seg-N already exists in the archive and is this very
 * segment (same header blocks), an earlier attempt renamed it and only the
 * directory sync is left; a different file of that name is an error
 * (EEXIST), never a reason to drop the spool copy.
 * 0 or -errno with @why = "path: step".
 */
static int
copy_to_archive(struct wt_spool *sp, const uint8_t *base, uint64_t end, uint64_t size,
                uint64_t segno, uint64_t *copied, char *why, size_t whylen)
{
	char name[WT_SEG_NAME_LEN + 1], tmp[WT_SEG_NAME_LEN + 8];
	const char *step;
	uint64_t off = 0;
	int fd = -1, rc;

	wt_seg_name_make(name, sizeof(name), segno);
	snprintf(tmp, sizeof(tmp), ".%s" WT_SEG_TMP_SUFFIX, name);
	if (faccessat(sp->logdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (archived_copy_matches(sp, name, base))
			goto sync_dir;
		wt_seg_seterr(why, whylen, "%s/%s: exists and is another segment", sp->logdir,
		              name);
		return -EEXIST;
	}
	if (sp->compress_level != 0) {
		uint64_t stored = 0;
		step = "compress";
		rc = wt_seg_zstd_write(sp->logdirfd, tmp, base, end, sp->compress_level, &stored);
		if (rc != 0) {
			errno = -rc;
			goto fail;
		}
		__atomic_fetch_add(&sp->c.bytes_stored, stored, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sp->c.bytes_raw, end, __ATOMIC_RELAXED);
		goto written;
	}
	step = "create";
	fd = openat(sp->logdirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	step = "write";
	while (off < end) {
		ssize_t n = pwrite(fd, base + off, WT_MIN(end - off, COPY_CHUNK), (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (uint64_t)n;
	}
	step = "truncate";
	if (ftruncate(fd, (off_t)size) != 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0)
		goto fail;
	close(fd);
	fd = -1;
written:
	*copied = end;
	hook(WT_ARCHIVE_TMP_WRITTEN, segno);
	step = "rename";
	if (renameat2(sp->logdirfd, tmp, sp->logdirfd, name, RENAME_NOREPLACE) != 0)
		goto fail;
	hook(WT_ARCHIVE_RENAMED, segno);
sync_dir:
	if (fsync(sp->logdirfd) != 0) {
		rc = -errno;
		wt_seg_seterr(why, whylen, "%s: fsync", sp->logdir);
		return rc;
	}
	return 0;
fail:
	rc = -errno;
	wt_seg_seterr(why, whylen, "%s/%s: %s", sp->logdir, tmp, step);
	if (fd >= 0)
		close(fd);
	unlinkat(sp->logdirfd, tmp, 0);
	return rc;
}

/* Spool and archive on one disk file system: sync the spool file and
 * rename it into the archive. Idempotent like the copy. */
static int
move_to_archive(struct wt_spool *sp, int fd, uint8_t *base, uint64_t size, uint64_t segno,
                char *why, size_t whylen)
{
	char name[WT_SEG_NAME_LEN + 1];

	wt_seg_name_make(name, sizeof(name), segno);
	if (msync(base, size, MS_SYNC) != 0 || fsync(fd) != 0) {
		int rc = -errno;
		wt_seg_seterr(why, whylen, "%s/%s: sync", sp->path, name);
		return rc;
	}
	if (renameat2(sp->dirfd, name, sp->logdirfd, name, RENAME_NOREPLACE) != 0 &&
	    !(errno == ENOENT && faccessat(sp->logdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)) {
		int rc = -errno;
		wt_seg_seterr(why, whylen, "%s/%s: rename into %s", sp->path, name, sp->logdir);
		return rc;
	}
	hook(WT_ARCHIVE_RENAMED, segno);
	if (fsync(sp->logdirfd) != 0) {
		int rc = -errno;
		wt_seg_seterr(why, whylen, "%s: fsync", sp->logdir);
		return rc;
	}
	return 0;
}

/*
 * Persist one sealed spool segment (@fd, @base) into the archive. On
 * success the spool file is gone (deleted after a copy, renamed by a move);
 * the caller still unmaps and closes it.
 */
static int
archive_segment(struct wt_spool *sp, int fd, uint8_t *base, uint64_t end, uint64_t size,
                uint64_t segno, uint64_t *copied, char *why, size_t whylen)
{
	char name[WT_SEG_NAME_LEN + 1];
	int rc;

	*copied = 0;
	if (sp->same_fs && sp->compress_level == 0)
		return move_to_archive(sp, fd, base, size, segno, why, whylen);
	rc = copy_to_archive(sp, base, end, size, segno, copied, why, whylen);
	if (rc != 0)
		return rc;
	/* A spool copy that cannot be deleted is harmless: the next open
	 * finds the complete archived copy and deletes it. */
	wt_seg_name_make(name, sizeof(name), segno);
	unlinkat(sp->dirfd, name, 0);
	return 0;
}

/* Sync the header and name of a segment the writer just published on a
 * disk file system. A failure is reported; the seal syncs it again. */
static void
publish_syncs(struct wt_spool *sp)
{

	for (unsigned int i = 0; i < sp->nslots; i++) {
		struct wt_spool_slot *s = &sp->slots[i];
		if (__atomic_load_n(&s->publish, __ATOMIC_ACQUIRE) == 0 ||
		    __atomic_exchange_n(&s->publish, 0, __ATOMIC_ACQ_REL) == 0)
			continue;
		if (fsync(s->fd) != 0 || fsync(s->in_dir ? sp->logdirfd : sp->dirfd) != 0) {
			int e = errno;
			set_error(sp, e,
			          "segment %" PRIu64
			          ": cannot sync its header and name in %s: %s (%s)",
			          s->segno, s->in_dir ? sp->logdir : sp->path, strerror(e),
			          errname(e));
		}
	}
}

/* Archive (or, for a fallback segment, sync) the sealed slot @s, then free it. */
static int
do_job(struct wt_spool *sp, struct wt_spool_slot *s)
{
	char why[PATH_MAX + 64];
	uint64_t t0 = wt_mono_ns(), copied = 0;
	int rc;

	/* The writer set publish before it sealed: nothing to publish now,
	 * the steps below sync everything. */
	__atomic_store_n(&s->publish, 0, __ATOMIC_RELAXED);
	hook(WT_ARCHIVE_BEFORE, s->segno);
	if (s->in_dir) {
		rc = 0;
		if (msync(s->base, sp->segment_size, MS_SYNC) != 0 || fsync(s->fd) != 0 ||
		    fsync(sp->logdirfd) != 0) {
			rc = -errno;
			wt_seg_seterr(why, sizeof(why), "%s/seg-%020" PRIu64 ".wts: sync",
			              sp->logdir, s->segno);
		}
	} else {
		rc = archive_segment(sp, s->fd, s->base, s->end_offset, sp->segment_size, s->segno,
		                     &copied, why, sizeof(why));
	}
	if (rc != 0) {
		set_error(sp, -rc,
		          "cannot archive segment %" PRIu64 ": %s: %s (%s); it stays in %s, "
		          "retrying every %u ms",
		          s->segno, why, strerror(-rc), errname(-rc),
		          s->in_dir ? sp->logdir : sp->path, sp->retry_ms);
		return rc;
	}
	release_file(sp, s);
	if (!s->in_dir)
		hook(WT_ARCHIVE_DONE, s->segno);
	__atomic_fetch_add(&sp->c.seals_async, 1, __ATOMIC_RELAXED);
	if (!s->in_dir)
		__atomic_fetch_add(&sp->c.segments_archived, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sp->c.bytes_archived, copied, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sp->c.archive_ns, wt_mono_ns() - t0, __ATOMIC_RELAXED);
	clear_error(sp);
	__atomic_store_n(&s->state, WT_SLOT_EMPTY, __ATOMIC_RELEASE);
	return 0;
}

static struct wt_spool_slot *
oldest_sealed(struct wt_spool *sp)
{
	struct wt_spool_slot *best = NULL;

	for (unsigned int i = 0; i < sp->nslots; i++) {
		struct wt_spool_slot *s = &sp->slots[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == WT_SLOT_SEALED &&
		    (best == NULL || s->segno < best->segno))
			best = s;
	}
	return best;
}

/* A free slot to prepare (only the archiver takes EMPTY slots). */
static struct wt_spool_slot *
claim_empty(struct wt_spool *sp)
{
	for (unsigned int i = 0; i < sp->nslots; i++)
		if (__atomic_load_n(&sp->slots[i].state, __ATOMIC_ACQUIRE) == WT_SLOT_EMPTY) {
			__atomic_store_n(&sp->slots[i].state, WT_SLOT_PREPARING, __ATOMIC_RELAXED);
			return &sp->slots[i];
		}
	return NULL;
}

static void *
archiver_main(void *arg)
{
	struct wt_spool *sp = arg;
	const uint64_t retry_ns = (uint64_t)sp->retry_ms * 1000000u;
	uint64_t prep_retry_at = 0, arch_retry_at = 0;

	for (;;) {
		bool stop = __atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE);
		uint32_t pause = pause_wanted(sp, stop);
		bool paused = pause == 1, hold_jobs = pause != 0;
		uint64_t now = wt_mono_ns();
		bool progress = false;

		if (!paused) {
			publish_syncs(sp);
			/* Every free slot is prepared before any (long) copy
			 * starts, so the writer finds a file ready at each roll
			 * while the spool has room. */
			struct wt_spool_slot *s;
			while (!stop && now >= prep_retry_at && (s = claim_empty(sp)) != NULL) {
				if (prepare_slot(sp, s) != 0) {
					__atomic_store_n(&s->state, WT_SLOT_EMPTY,
					                 __ATOMIC_RELEASE);
					prep_retry_at = now + retry_ns;
					break;
				}
				__atomic_store_n(&s->state, WT_SLOT_READY, __ATOMIC_RELEASE);
				if (sp->err_prep)
					clear_error(sp);
			}
			/* At close, one more attempt at once for a failing
			 * segment; if it fails again, it stays in the spool. */
			s = hold_jobs ? NULL : oldest_sealed(sp);
			if (s != NULL && (stop || now >= arch_retry_at)) {
				int rc = do_job(sp, s);
				if (rc == 0) {
					progress = true;
				} else if (stop) {
					sp->close_rc = rc;
					break;
				} else {
					arch_retry_at = now + retry_ns;
				}
			} else if (s == NULL && stop) {
				break;
			}
		}
		if (progress)
			continue;
		int timeout = -1;
		uint64_t next = UINT64_MAX;
		if (!paused && prep_retry_at > now)
			next = prep_retry_at;
		if (!paused && arch_retry_at > now && oldest_sealed(sp) != NULL)
			next = WT_MIN(next, arch_retry_at);
		if (next != UINT64_MAX)
			timeout = (int)WT_MIN((next - now + 999999) / 1000000, 60000u);
		struct pollfd pfd = {.fd = sp->efd, .events = POLLIN};
		uint64_t v;
		if (poll(&pfd, 1, timeout) > 0 && read(sp->efd, &v, sizeof(v)) < 0)
			continue; /* EAGAIN: another wake-up consumed it */
	}
	return NULL;
}

/* ---- open: lock, recover, start; close ------------------------------- */

/* Delete the files that never hold a record: prepared files, and in the
 * archive unfinished copies / creations (".seg-N.wts.tmp"). */
static int
remove_leftovers(int dirfd, bool tmp_segments)
{
	struct dirent *de;
	int n = 0, fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		size_t l = strlen(nm), ls = strlen(WT_SEG_TMP_SUFFIX);
		uint64_t segno;
		char base[WT_SEG_NAME_LEN + 1];
		bool prep = strncmp(nm, WT_PREP_PREFIX, strlen(WT_PREP_PREFIX)) == 0 &&
		            l > strlen(WT_PREP_SUFFIX) &&
		            strcmp(nm + l - strlen(WT_PREP_SUFFIX), WT_PREP_SUFFIX) == 0;
		bool tmp = false;
		if (tmp_segments && nm[0] == '.' && l == WT_SEG_NAME_LEN + 1 + ls &&
		    strcmp(nm + l - ls, WT_SEG_TMP_SUFFIX) == 0) {
			memcpy(base, nm + 1, WT_SEG_NAME_LEN);
			base[WT_SEG_NAME_LEN] = '\0';
			tmp = wt_seg_name_parse(base, &segno);
		}
		if ((prep || tmp) && unlinkat(dirfd, nm, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* One segment left in the spool by a crashed writer: recover and archive
 * it, or delete it when the archive already has it. */
static wt_cold int
recover_one(struct wt_spool *sp, const char *name, struct wt_spool_recovery *rec, char *err,
            size_t errlen)
{
	struct wt_seg_mapped m;
	char why[PATH_MAX + 64];
	uint64_t copied;
	int rc = wt_seg_map(sp->dirfd, sp->path, name, "spool segment", &m, err, errlen);

	if (rc != 0)
		goto out;
	if (faccessat(sp->logdirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!archived_copy_matches(sp, name, m.base)) {
			rc = -EEXIST;
			wt_seg_seterr(
			        err, errlen,
			        "%s/%s: also in %s, and the two differ (creation block or seal); "
			        "move one aside",
			        sp->path, name, sp->logdir);
			goto out;
		}
		/* The crash came after the archive's rename. */
		unlinkat(sp->dirfd, name, 0);
		rec->duplicates++;
		goto out;
	}
	if (!m.h.sealed) {
		rc = wt_seg_recover(sp->dirfd, m.fd, m.base, m.size, &m.h);
		if (rc != 0) {
			wt_seg_seterr(err, errlen, "%s/%s: cannot seal recovered spool segment: %s",
			              sp->path, name, strerror(-rc));
			goto out;
		}
		snprintf(rec->path, sizeof(rec->path), "%s/%.28s", sp->logdir, name);
		rec->records = m.h.record_count;
	}
	rc = archive_segment(sp, m.fd, m.base, WT_MIN(m.h.end_offset, m.size), m.size, m.segno,
	                     &copied, why, sizeof(why));
	if (rc != 0) {
		wt_seg_seterr(
		        err, errlen,
		        "cannot archive spool segment %s/%s left by the last run: %s: %s (%s); "
		        "it stays in the spool (wiretally-read --spool reads it)",
		        sp->path, name, why, strerror(-rc), errname(-rc));
		goto out;
	}
	rec->archived++;
out:
	wt_seg_unmap(&m);
	return rc;
}

int
wt_spool_open(struct wt_spool **spp, const struct wt_spool_conf *conf,
              struct wt_spool_recovery *rec, char *err, size_t errlen)
{
	const char *dir = conf->spool_dir;
	unsigned int nslots = conf->nslots ? conf->nslots : WT_SEGLOG_DEFAULT_SPOOL_SEGMENTS;
	struct stat ds, ss;
	struct statfs fs;
	struct wt_spool *sp;
	char **names = NULL;
	int n = 0, rc;

	*spp = NULL;
	memset(rec, 0, sizeof(*rec));
	if (dir[0] == '\0' || strlen(dir) >= sizeof(sp->path) ||
	    strlen(conf->log_dir) >= sizeof(sp->logdir)) {
		wt_seg_seterr(err, errlen, "seglog: spool directory name empty or too long");
		return -EINVAL;
	}
	if (nslots < WT_SEGLOG_MIN_SPOOL_SEGMENTS || nslots > WT_SEGLOG_MAX_SPOOL_SEGMENTS) {
		wt_seg_seterr(err, errlen, "seglog: spool segments %u invalid (%u to %u)", nslots,
		              WT_SEGLOG_MIN_SPOOL_SEGMENTS, WT_SEGLOG_MAX_SPOOL_SEGMENTS);
		return -EINVAL;
	}
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL || (sp->slots = calloc(nslots, sizeof(*sp->slots))) == NULL) {
		free(sp);
		wt_seg_seterr(err, errlen, "seglog: out of memory");
		return -ENOMEM;
	}
	*spp = sp;
	sp->nslots = nslots;
	for (unsigned int i = 0; i < nslots; i++) {
		sp->slots[i].idx = i;
		sp->slots[i].fd = -1;
	}
	sp->efd = -1;
	sp->dirfd = -1;
	sp->logdirfd = conf->logdirfd;
	snprintf(sp->logdir, sizeof(sp->logdir), "%s", conf->log_dir);
	sp->segment_size = conf->segment_size;
	sp->retry_ms = conf->retry_ms ? conf->retry_ms : WT_SEGLOG_DEFAULT_RETRY_MS;
	sp->compress_level = conf->compress_level;
	pthread_mutex_init(&sp->msg_lock, NULL);
	snprintf(sp->path, sizeof(sp->path), "%s", dir);
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot open spool directory: %s", dir,
		              strerror(-rc));
		return rc;
	}
	if (fstat(sp->dirfd, &ss) != 0 || fstat(sp->logdirfd, &ds) != 0 ||
	    fstatfs(sp->dirfd, &fs) != 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: cannot stat spool directory: %s", dir,
		              strerror(-rc));
		return rc;
	}
	if (ss.st_dev == ds.st_dev && ss.st_ino == ds.st_ino) {
		wt_seg_seterr(err, errlen, "%s: the spool directory must not be the log directory",
		              dir);
		return -EINVAL;
	}
	/* Two writers must not share a spool: its files are per writer. */
	if (flock(sp->dirfd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		wt_seg_seterr(err, errlen,
		              "%s: spool directory is in use by another writer (flock: %s)", dir,
		              strerror(errno));
		return rc;
	}
	sp->huge = fs.f_type == HUGETLBFS_MAGIC;
	sp->same_fs = !sp->huge && ss.st_dev == ds.st_dev;
	if (sp->huge && sp->segment_size % (uint64_t)fs.f_bsize != 0) {
		wt_seg_seterr(err, errlen,
		              "%s: segment size %" PRIu64
		              " is not a multiple of the hugepage size %ld of this spool",
		              dir, sp->segment_size, (long)fs.f_bsize);
		return -EINVAL;
	}
	sp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sp->efd < 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "seglog: eventfd: %s", strerror(-rc));
		return rc;
	}

	/* Recovery: whatever a crashed writer left, before anything new. */
	remove_leftovers(sp->dirfd, false);
	remove_leftovers(sp->logdirfd, true);
	n = wt_seg_list(sp->dirfd, &names);
	if (n < 0) {
		rc = n;
		wt_seg_seterr(err, errlen, "%s: cannot list spool directory: %s", dir,
		              strerror(-rc));
		return rc;
	}
	rc = 0;
	for (int i = 0; i < n && rc == 0; i++)
		rc = recover_one(sp, names[i], rec, err, errlen);
	wt_seg_names_free(names, n);
	/* Fallback segments a crashed writer sealed in memory may not have
	 * been synced by its archiver: make the whole archive durable. */
	if (rc == 0 && syncfs(sp->logdirfd) != 0) {
		rc = -errno;
		wt_seg_seterr(err, errlen, "%s: syncfs: %s", sp->logdir, strerror(-rc));
	}
	return rc;
}

int
wt_spool_start(struct wt_spool *sp, const cpu_set_t *cpus, char *err, size_t errlen)
{
	struct wt_spool_slot *s = &sp->slots[0];
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	/* The first segment's file, so the first append does not allocate.
	 * A failure is not fatal: it is in the stats, and retried. */
	if (prepare_slot(sp, s) == 0)
		__atomic_store_n(&s->state, WT_SLOT_READY, __ATOMIC_RELEASE);
	pthread_attr_init(&attr);
	if (cpus != NULL) {
		rc = pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), cpus);
		if (rc != 0) {
			pthread_attr_destroy(&attr);
			wt_seg_seterr(err, errlen, "seglog: archiver CPU set: %s", strerror(rc));
			return -rc;
		}
	}
	/* Signals go to the application's threads, never to the archiver. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&sp->thread, &attr, archiver_main, sp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		wt_seg_seterr(err, errlen, "seglog: cannot start the archiver thread: %s",
		              strerror(rc));
		return -rc;
	}
	pthread_setname_np(sp->thread, "wt-archiver");
	sp->thread_started = true;
	return 0;
}

int
wt_spool_close(struct wt_spool *sp)
{
	int rc = 0;

	if (sp->thread_started) {
		__atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
		kick(sp);
		pthread_join(sp->thread, NULL);
		sp->thread_started = false;
		rc = sp->close_rc;
	}
	wt_spool_free(sp);
	return rc;
}

/* Free the spool (the archiver has stopped): prepared files are deleted,
 * sealed ones the archiver could not archive stay in the spool. */
void
wt_spool_free(struct wt_spool *sp)
{
	if (sp == NULL)
		return;
	for (unsigned int i = 0; i < sp->nslots; i++) {
		struct wt_spool_slot *s = &sp->slots[i];
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (s->base == NULL)
			continue;
		if (st == WT_SLOT_READY) {
			char name[32];
			prep_name(name, sizeof(name), s->idx);
			/* in_dir files live in the log directory, whose fd the
			 * writer still holds: the caller closes it after. */
			unlinkat(s->in_dir ? sp->logdirfd : sp->dirfd, name, 0);
		}
		munmap(s->base, sp->segment_size);
		close(s->fd);
	}
	if (sp->efd >= 0)
		close(sp->efd);
	if (sp->dirfd >= 0)
		close(sp->dirfd); /* releases the flock */
	pthread_mutex_destroy(&sp->msg_lock);
	free(sp->slots);
	free(sp);
}

void
wt_spool_stats(struct wt_spool *sp, struct wt_seglog_stats *st)
{

	st->seals_async = __atomic_load_n(&sp->c.seals_async, __ATOMIC_RELAXED);
	st->segments_archived = __atomic_load_n(&sp->c.segments_archived, __ATOMIC_RELAXED);
	st->bytes_archived = __atomic_load_n(&sp->c.bytes_archived, __ATOMIC_RELAXED);
	st->archive_ns = __atomic_load_n(&sp->c.archive_ns, __ATOMIC_RELAXED);
	st->archive_failures = __atomic_load_n(&sp->c.archive_failures, __ATOMIC_RELAXED);
	st->bytes_stored = __atomic_load_n(&sp->c.bytes_stored, __ATOMIC_RELAXED);
	st->bytes_raw = __atomic_load_n(&sp->c.bytes_raw, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < sp->nslots; i++)
		st->spool_waiting +=
		        __atomic_load_n(&sp->slots[i].state, __ATOMIC_ACQUIRE) == WT_SLOT_SEALED;
	pthread_mutex_lock(&sp->msg_lock);
	st->archive_errno = sp->archive_errno;
	st->fallback_errno = sp->fallback_errno;
	snprintf(st->archive_error, sizeof(st->archive_error), "%s", sp->archive_error);
	snprintf(st->fallback_msg, sizeof(st->fallback_msg), "%s", sp->fallback_msg);
	pthread_mutex_unlock(&sp->msg_lock);
}

#ifdef WT_TESTING
void
wt_spool_pause(struct wt_spool *sp, int paused)
{
	__atomic_store_n(&sp->paused, (uint32_t)paused, __ATOMIC_RELEASE);
	kick(sp);
	/* Synchronous: once the archiver has seen it at the top of its loop,
	 * no step decided before the call is still to come. */
	for (int i = 0;
	     i < 10000 && __atomic_load_n(&sp->pause_seen, __ATOMIC_ACQUIRE) != (uint32_t)paused;
	     i++)
		usleep(1000);
}
#endif
