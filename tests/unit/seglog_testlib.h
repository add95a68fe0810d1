/* SPDX-License-Identifier: BSD-3-Clause */
/* seglog_testlib.h: temp directories, log writing and collecting reads for seglog tests. */
#ifndef SEGLOG_TESTLIB_H
#define SEGLOG_TESTLIB_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "seglog_testutil.h"
#include "wt_seglog.h"
#include "wt_seglog_format.h"
#include "wt_test.h"

#define SMALL_SEG WT_SEGLOG_MIN_SEGMENT_SIZE
/* A record frame: 8 + 304 bytes; records per 64 KiB segment: (65536 - 256) / 312 */
#define FRAME_SPAN    312u
#define PER_SMALL_SEG 209u
_Static_assert(FRAME_SPAN == 8 + sizeof(struct wt_callrec), "record frame size");

struct problem {
	enum wt_seglog_problem kind;
	uint64_t offset;
	char path[PATH_MAX];
	char msg[256];
};

/* Everything one read of a log returned. */
struct readout {
	struct wt_callrec *recs;
	size_t nrecs;
	struct problem probs[32];
	size_t nprobs;
	struct wt_seglog_read_stats st;
	char stats_text[256];
	int open_errno;
	char err[512];
};

static inline void
collect_problem(void *arg, enum wt_seglog_problem kind, const char *path, uint64_t off,
                const char *msg)
{
	struct readout *o = arg;

	if (o->nprobs == WT_ARRAY_SIZE(o->probs))
		return;
	fprintf(stderr, "  (reported) %s: %s: offset %llu: %s\n", wt_seglog_problem_name(kind),
	        path, (unsigned long long)off, msg);
	struct problem *p = &o->probs[o->nprobs++];
	p->kind = kind;
	p->offset = off;
	snprintf(p->path, sizeof(p->path), "%s", path);
	snprintf(p->msg, sizeof(p->msg), "%s", msg);
}

/* Read with @conf to the end; records and problems into @o (free with
 * readout_free). @conf's problem callback is set here. */
static inline void
read_with(struct wt_seglog_reader_conf conf, struct readout *o)
{
	struct wt_seglog_frame f;
	size_t cap = 0;

	memset(o, 0, sizeof(*o));
	conf.problem = collect_problem;
	conf.problem_arg = o;
	struct wt_seglog_reader *r = wt_seglog_reader_open(&conf, o->err, sizeof(o->err));
	if (r == NULL) {
		o->open_errno = errno;
		return;
	}
	while (wt_seglog_reader_next(r, &f) == 1) {
		if (f.type == WT_SEGLOG_FRAME_STATS) {
			size_t l = WT_MIN(f.len, sizeof(o->stats_text) - 1);
			memcpy(o->stats_text, f.payload, l);
			o->stats_text[l] = '\0';
		}
		if (f.type != WT_SEGLOG_FRAME_RECORD)
			continue;
		if (o->nrecs == cap) {
			cap = cap ? cap * 2 : 1024;
			o->recs = realloc(o->recs, cap * sizeof(*o->recs));
		}
		CHECK_EQ_U64(wt_seglog_frame_record(&f, &o->recs[o->nrecs]), 0);
		CHECK_EQ_U64(o->recs[o->nrecs].seq, f.seq);
		o->nrecs++;
	}
	o->st = *wt_seglog_reader_stats(r);
	wt_seglog_reader_close(r);
}

/* Read @n paths to the end. */
static inline void
read_paths(const char *const *paths, size_t n, struct readout *o)
{
	read_with((struct wt_seglog_reader_conf){.paths = paths, .npaths = n}, o);
}

static inline void
read_dir(const char *dir, struct readout *o)
{
	read_paths(&dir, 1, o);
}

static inline void
readout_free(struct readout *o)
{
	free(o->recs);
	o->recs = NULL;
}

/* The records read are make_rec(first + i) with seq first + i, byte for byte;
 * returns the number that matched. */
static inline size_t
count_expected(const struct readout *o, uint64_t first)
{
	size_t good = 0;
	struct wt_callrec want;

	for (size_t i = 0; i < o->nrecs; i++) {
		make_rec(&want, first + i);
		want.seq = first + i;
		if (memcmp(&want, &o->recs[i], sizeof(want)) == 0)
			good++;
	}
	return good;
}

/* Reading with @conf gives exactly the records 0..n-1 as append_n() wrote
 * them, and reports no problem. */
static inline void
expect_clean_read(struct wt_seglog_reader_conf conf, uint64_t n)
{
	struct readout o;

	read_with(conf, &o);
	CHECK_EQ_U64(o.nrecs, n);
	CHECK_EQ_U64(count_expected(&o, 0), n);
	CHECK_EQ_U64(o.nprobs, 0);
	CHECK_EQ_U64(o.st.problems + o.st.errors, 0);
	readout_free(&o);
}

/* @dir holds exactly the records 0..n-1, and reading it reports no problem. */
static inline void
expect_clean_log(const char *dir, uint64_t n)
{
	expect_clean_read((struct wt_seglog_reader_conf){.paths = &dir, .npaths = 1}, n);
}

/* The same for archive @dir read together with @spool. */
static inline void
expect_clean_spool(const char *spool, const char *dir, uint64_t n)
{
	expect_clean_read(
	        (struct wt_seglog_reader_conf){.paths = &dir, .npaths = 1, .spool_dir = spool}, n);
}

static inline void
tmpdir_make(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/wt-seglog-test-XXXXXX");
	if (mkdtemp(buf) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

/* Remove a flat directory and its files. */
static inline void
tmpdir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline struct wt_seglog_writer *
open_writer(const char *dir, uint64_t segsize)
{
	char err[256];
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = segsize, .run_id = 42};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));

	if (w == NULL)
		fprintf(stderr, "wt_seglog_open: %s\n", err);
	return w;
}

/* Append @n records make_rec(next seq); returns how many succeeded. */
static inline uint64_t
append_n(struct wt_seglog_writer *w, uint64_t n)
{
	struct wt_callrec r;

	for (uint64_t i = 0; i < n; i++) {
		make_rec(&r, wt_seglog_next_seq(w));
		if (wt_seglog_append(w, &r) != 0)
			return i;
	}
	return n;
}

static inline void
write_log(const char *dir, uint64_t segsize, uint64_t n)
{
	struct wt_seglog_writer *w = open_writer(dir, segsize);

	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(append_n(w, n), n);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
}

static inline void
seg_path(char *buf, size_t len, const char *dir, uint64_t segno)
{
	char name[WT_SEG_NAME_LEN + 1];

	wt_seg_name_make(name, sizeof(name), segno);
	snprintf(buf, len, "%s/%s", dir, name);
}

static inline void
poke(const char *path, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd >= 0);
	CHECK_EQ_U64(pwrite(fd, bytes, len, (off_t)off), len);
	close(fd);
}

static inline void
peek(const char *path, uint64_t off, void *bytes, size_t len)
{
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK_EQ_U64(pread(fd, bytes, len, (off_t)off), len);
	close(fd);
}

/* Flip one bit of the byte at @off. */
static inline void
flip(const char *path, uint64_t off)
{
	uint8_t b;

	peek(path, off, &b, 1);
	b ^= 0x10;
	poke(path, off, &b, 1);
}

static inline struct wt_seg_header
header_of(const char *path)
{
	uint8_t buf[WT_SEG_HEADER_SIZE];
	struct wt_seg_header h;
	char why[160];

	peek(path, 0, buf, sizeof(buf));
	CHECK_EQ_U64(wt_seg_header_decode(buf, sizeof(buf), &h, why, sizeof(why)), WT_SEG_HDR_OK);
	return h;
}

/* ---- spool mode ------------------------------------------------------- */

/* A temporary directory under @base ("/tmp", "/dev/shm", "/dev/hugepages");
 * 0, or -1 when it cannot be made there. */
static inline int
tmpdir_make_in(char *buf, size_t len, const char *base)
{
	snprintf(buf, len, "%s/wt-seglog-test-XXXXXX", base);
	return mkdtemp(buf) != NULL ? 0 : -1;
}

static inline struct wt_seglog_writer *
open_spool_writer(const char *dir, const char *spool, uint64_t segsize, unsigned int nslots,
                  unsigned int retry_ms)
{
	char err[512];
	struct wt_seglog_conf conf = {.dir = dir,
	                              .segment_size = segsize,
	                              .run_id = 42,
	                              .spool_dir = spool,
	                              .spool_segments = nslots,
	                              .retry_ms = retry_ms};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));

	if (w == NULL)
		fprintf(stderr, "wt_seglog_open: %s\n", err);
	return w;
}

static inline void
sleep_ms(unsigned int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Append @n records make_rec(next seq), retrying while the spool is full
 * (-EAGAIN: the archiver is behind). Returns how many succeeded (stops at
 * another error, or when the spool stays full for 30 s). */
static inline uint64_t
append_n_retry(struct wt_seglog_writer *w, uint64_t n)
{
	struct wt_callrec r;
	unsigned int waited = 0;

	for (uint64_t i = 0; i < n;) {
		make_rec(&r, wt_seglog_next_seq(w));
		int rc = wt_seglog_append(w, &r);
		if (rc == -EAGAIN && waited < 30000) {
			sleep_ms(1);
			waited++;
			continue;
		}
		if (rc != 0)
			return i;
		waited = 0;
		i++;
	}
	return n;
}

static inline struct wt_seglog_stats
stats_of(const struct wt_seglog_writer *w)
{
	struct wt_seglog_stats st;

	wt_seglog_writer_stats(w, &st);
	return st;
}

/* Append records (make_rec, next seq) until the spool is full: an append
 * refused with -EAGAIN while all @nslots spool segments are sealed and
 * waiting for the archiver (and, when @want_errno is not 0, the archiver
 * reports that error). A refusal before that (the archiver is still
 * catching up) is retried (at most 30 s). Returns the number appended. */
static inline uint64_t
fill_spool(struct wt_seglog_writer *w, unsigned int nslots, int want_errno)
{
	struct wt_callrec r;
	uint64_t n = 0;

	for (int waited = 0; waited < 30000;) {
		make_rec(&r, wt_seglog_next_seq(w));
		int rc = wt_seglog_append(w, &r);
		if (rc == 0) {
			n++;
			waited = 0;
			continue;
		}
		struct wt_seglog_stats st = stats_of(w);
		if (rc != -EAGAIN || (st.spool_waiting == nslots &&
		                      (want_errno == 0 || st.archive_errno == want_errno)))
			break;
		sleep_ms(1);
		waited++;
	}
	return n;
}

/* Wait (at most 30 s: a liveness bound, not a timing check) until the
 * archiver has nothing sealed waiting. */
static inline void
wait_archived(struct wt_seglog_writer *w)
{
	for (int i = 0; i < 30000 && stats_of(w).spool_waiting != 0; i++)
		sleep_ms(1);
	CHECK_EQ_U64(stats_of(w).spool_waiting, 0);
}

/* Read archive @dir together with @spool (the merge of wiretally-read --spool). */
static inline void
read_spool(const char *spool, const char *dir, struct readout *o)
{
	read_with((struct wt_seglog_reader_conf){.paths = &dir, .npaths = 1, .spool_dir = spool},
	          o);
}

/* Entries of a directory, "." and ".." aside, and the note naming a log's
 * spool (WT_SEGLOG_SPOOL_NOTE) (-1: cannot open). */
static inline int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		     strcmp(de->d_name, WT_SEGLOG_SPOOL_NOTE) != 0;
	closedir(d);
	return n;
}

static inline int
exists(const char *dir, const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

static inline int
seg_exists(const char *dir, uint64_t segno)
{
	char p[PATH_MAX];

	seg_path(p, sizeof(p), dir, segno);
	return access(p, F_OK) == 0;
}

/* Number of problems of @kind in @o. */
static inline size_t
nprob(const struct readout *o, enum wt_seglog_problem kind)
{
	size_t n = 0;

	for (size_t i = 0; i < o->nprobs; i++)
		n += o->probs[i].kind == kind;
	return n;
}

/* Mount a small @fstype (@opts) on a new temporary directory for a test of
 * @what; 0, or 77 (skip) with the reason on stderr. Needs <sys/mount.h>. */
static inline int
mount_small(char *dir, size_t len, const char *fstype, const char *opts, const char *what)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: needs root to mount a small %s (%s NOT tested)\n", fstype,
		        what);
		return 77;
	}
	tmpdir_make(dir, len);
	if (mount("wt-seglog-test", dir, fstype, 0, opts) != 0) {
		fprintf(stderr, "SKIPPED: cannot mount %s (%s) on %s: %s (%s NOT tested)\n", fstype,
		        opts, dir, strerror(errno), what);
		rmdir(dir);
		return 77;
	}
	return 0;
}

static inline void
unmount_small(const char *dir)
{
	tmpdir_remove(dir); /* empties it; its rmdir fails while mounted */
	if (umount(dir) != 0)
		fprintf(stderr, "umount %s: %s\n", dir, strerror(errno));
	rmdir(dir);
}

#endif /* SEGLOG_TESTLIB_H */
