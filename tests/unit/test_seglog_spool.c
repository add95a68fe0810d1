/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_spool.c: spool mode: archiver, back-pressure, crashes, reader merge (built twice:
 * tmpfs and hugetlbfs). */
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "seglog_testlib.h"

/*
 * Built twice:
 *   test_seglog_spool  the spool of the "copy" tests is on /dev/shm (tmpfs),
 *                      a file system other than /tmp's, so sealed segments
 *                      are copied into the archive exactly as from
 *                      hugetlbfs; the "move" tests put it in /tmp, beside
 *                      the archive, so they are renamed. 64 KiB segments.
 *   test_seglog_huge   (WT_TEST_HUGE) the same tests with the spool on
 *                      /dev/hugepages, 2 MiB segments; exits 77 when
 *                      hugetlbfs is not mounted there or has too few free
 *                      pages.
 * Which archiving applies is decided by the library from the devices; the
 * tests check it.
 */
#ifdef WT_TEST_HUGE
#define SPOOL_BASE "/dev/hugepages"
#define SEG        (2u << 20)
#else
#define SPOOL_BASE "/dev/shm"
#define SEG        SMALL_SEG
#endif
#define PER_SEG ((SEG - 256) / FRAME_SPAN) /* 370 or 11914 records */

static int
same_device(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev;
}

/* 27 full segments and one of 10 records. Every segment ends up sealed in
 * the archive, the spool is empty, and no seal ran on the writer's thread. */
static void
spool_round_trip(const char *spool_base)
{
	char dir[64], spool[64], p[PATH_MAX];
	struct readout o;
	struct stat sb;

	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), spool_base) == 0);
	const int copy = !same_device(dir, spool);
	const uint64_t n = 27 * PER_SEG + 10;
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 10);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(append_n_retry(w, n), n);
	seg_path(p, sizeof(p), spool, 28);
	CHECK_EQ_STR(wt_seglog_current_path(w), p);
	wait_archived(w);
	struct wt_seglog_stats st = stats_of(w);
	CHECK_EQ_U64(st.records_appended, n);
	CHECK_EQ_U64(st.segments_created, 28);
	CHECK_EQ_U64(st.segments_archived, 27);
	CHECK_EQ_U64(st.seals_async, 27);
	CHECK_EQ_U64(st.seals_sync, 0);
	CHECK_EQ_U64(st.bytes_archived, copy ? 27 * (256 + PER_SEG * FRAME_SPAN) : 0);
	CHECK_EQ_U64(st.archive_failures, 0);
	CHECK_EQ_U64(st.fallback_segments, 0);
	CHECK_EQ_STR(st.archive_error, "");
	fprintf(stderr, "  %s mode: %llu appends refused while the archiver caught up\n",
	        copy ? "copy" : "move", (unsigned long long)st.eagain);
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	CHECK_EQ_U64(count_entries(spool), 0);
	CHECK_EQ_U64(count_entries(dir), 28);
	for (uint64_t s = 1; s <= 28; s++) {
		seg_path(p, sizeof(p), dir, s);
		CHECK(stat(p, &sb) == 0);
		CHECK_EQ_U64(sb.st_size, SEG);
		struct wt_seg_header h = header_of(p);
		CHECK_EQ_U64(h.state, WT_SEG_STATE_SEALED);
		CHECK_EQ_U64(h.segment_no, s);
		CHECK_EQ_U64(h.first_seq, (s - 1) * PER_SEG);
		CHECK_EQ_U64(h.record_count, s < 28 ? PER_SEG : 10);
	}
	/* A copy holds the used part; the tail is a hole. */
	if (copy)
		CHECK(sb.st_blocks * 512 < SEG);
	expect_clean_log(dir, n);
	read_spool(spool, dir, &o); /* an empty spool adds nothing */
	CHECK_EQ_U64(o.nrecs, n);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(spool);
	tmpdir_remove(dir);
}

static void
test_spool_round_trip_copy(void)
{
	spool_round_trip(SPOOL_BASE);
}

#ifndef WT_TEST_HUGE
static void
test_spool_round_trip_move(void)
{
	spool_round_trip("/tmp");
}
#endif

/*
 * Back-pressure: with the archiver held, three spool slots take exactly
 * three segments; the next append returns -EAGAIN and consumes nothing.
 * Everything is readable meanwhile (spool + empty archive); released, the
 * archiver catches up and appending resumes with the next seq.
 */
static void
test_spool_backpressure(void)
{
	char dir[64], spool[64];
	struct wt_callrec r;

	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), SPOOL_BASE) == 0);
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 3, 10);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	wt_seglog_test_pause_archiver(w, 2); /* prepares, does not archive */
	CHECK_EQ_U64(fill_spool(w, 3, 0), 3 * PER_SEG);
	make_rec(&r, 3 * PER_SEG);
	r.seq = 0xdeadbeef;
	uint64_t refused = stats_of(w).eagain;
	CHECK_EQ_U64(wt_seglog_append(w, &r), -EAGAIN);
	CHECK_EQ_U64(r.seq, 0xdeadbeef);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 3 * PER_SEG);
	CHECK_EQ_U64(wt_seglog_append_stats(w, "a=1\n", 4), -EAGAIN);
	CHECK_EQ_STR(wt_seglog_current_path(w), "");
	struct wt_seglog_stats st = stats_of(w);
	CHECK_EQ_U64(st.eagain, refused + 2);
	CHECK_EQ_U64(st.spool_waiting, 3);
	CHECK_EQ_U64(st.segments_archived, 0);
	CHECK_EQ_U64(count_entries(dir), 0);
	CHECK_EQ_STR(st.fallback_msg, "");

	expect_clean_spool(spool, dir, 3 * PER_SEG);

	wt_seglog_test_pause_archiver(w, 0);
	wait_archived(w);
	CHECK_EQ_U64(stats_of(w).segments_archived, 3);
	CHECK_EQ_U64(append_n_retry(w, 1000), 1000);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(count_entries(spool), 0);
	expect_clean_log(dir, 3 * PER_SEG + 1000);
	tmpdir_remove(spool);
	tmpdir_remove(dir);
}

/* ---- crashes ------------------------------------------------------------ */

enum crash_at {
	AT_MID_SEGMENT, /* everything sealed is archived; segment 3 open */
	AT_AFTER_ROLL,  /* segment 1 sealed, not archived; segment 2 has one record */
	AT_TMP_WRITTEN, /* segment 2's copy written under .tmp, not renamed */
	AT_RENAMED,     /* segment 2 archived (renamed), spool copy not deleted */
	AT_RANDOM,      /* wherever the writer and the archiver are after N appends */
};

static const char *const crash_names[] = {"mid-segment", "right after a roll",
                                          "archive copy written, not renamed",
                                          "archive renamed, spool copy not deleted", "random"};

struct crash_shared {
	uint64_t done;  /* appends acknowledged by the child */
	uint32_t ready; /* the child reached its crash state and waits */
};

static enum wt_archive_point hook_point;
static uint64_t hook_segno;

/* In the child's archiver thread: die at the chosen step. */
static void
hook_kill(enum wt_archive_point p, uint64_t segno)
{
	if (p == hook_point && segno == hook_segno)
		raise(SIGKILL);
}

/* In the child's archiver thread: never archive segment hook_segno or later. */
static void
hook_block(enum wt_archive_point p, uint64_t segno)
{
	if (p == WT_ARCHIVE_BEFORE && segno >= hook_segno)
		for (;;)
			pause();
}

static void
crash_child_run(const char *dir, const char *spool, enum crash_at at, struct crash_shared *sh)
{
	struct wt_callrec r;
	uint64_t stop_at = UINT64_MAX;

	if (at == AT_AFTER_ROLL) {
		hook_segno = 1;
		wt_seglog_archive_hook = hook_block;
		stop_at = PER_SEG + 1;
	} else if (at == AT_TMP_WRITTEN || at == AT_RENAMED) {
		hook_point = at == AT_TMP_WRITTEN ? WT_ARCHIVE_TMP_WRITTEN : WT_ARCHIVE_RENAMED;
		hook_segno = 2;
		wt_seglog_archive_hook = hook_kill;
	} else if (at == AT_MID_SEGMENT) {
		stop_at = 2 * PER_SEG + 185;
	}
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 10);
	if (w == NULL)
		_exit(1);
	for (uint64_t i = 0; i < stop_at && i < 10000000;) {
		make_rec(&r, i);
		int rc = wt_seglog_append(w, &r);
		if (rc == -EAGAIN) {
			sleep_ms(1);
			continue;
		}
		if (rc != 0)
			_exit(1);
		__atomic_store_n(&sh->done, ++i, __ATOMIC_RELEASE);
	}
	if (at == AT_MID_SEGMENT)
		wait_archived(w);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static void
crash_at(const char *spool_base, enum crash_at at, uint64_t threshold)
{
	char dir[64], spool[64], p[PATH_MAX];
	struct readout o;
	int status;
	struct crash_shared *sh =
	        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), spool_base) == 0);
	pid_t pid = fork();
	if (pid == 0)
		crash_child_run(dir, spool, at, sh);
	for (int i = 0; i < 300000; i++) {
		if (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) ||
		    (at == AT_RANDOM &&
		     __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE) >= threshold) ||
		    waitpid(pid, &status, WNOHANG) == pid)
			break;
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL); /* (already dead when its hook killed it) */
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	uint64_t acked = __atomic_load_n(&sh->done, __ATOMIC_ACQUIRE);

	/* (a) Before any restart, spool + archive hold every committed
	 * record exactly once (the kill may land between a commit and the
	 * child's counter update: one more). */
	read_spool(spool, dir, &o);
	const uint64_t n = o.nrecs;
	CHECK(n >= acked && n <= acked + 1);
	if (at == AT_MID_SEGMENT || at == AT_AFTER_ROLL)
		CHECK_EQ_U64(n, acked);
	CHECK_EQ_U64(count_expected(&o, 0), n);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	fprintf(stderr, "  killed (%s, spool on %s): %llu acknowledged, %llu records read\n",
	        crash_names[at], spool_base, (unsigned long long)acked, (unsigned long long)n);
	switch (at) {
	case AT_MID_SEGMENT:
		CHECK(seg_exists(dir, 1) && seg_exists(dir, 2) && !seg_exists(dir, 3));
		CHECK(seg_exists(spool, 3));
		seg_path(p, sizeof(p), spool, 3);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_OPEN);
		break;
	case AT_AFTER_ROLL:
		CHECK_EQ_U64(count_entries(dir), 0);
		seg_path(p, sizeof(p), spool, 1);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_SEALED);
		seg_path(p, sizeof(p), spool, 2);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_OPEN);
		break;
	case AT_TMP_WRITTEN:
		CHECK(exists(dir, ".seg-00000000000000000002.wts.tmp"));
		CHECK(!seg_exists(dir, 2) && seg_exists(spool, 2));
		break;
	case AT_RENAMED:
		CHECK(seg_exists(dir, 2) && seg_exists(spool, 2));
		break;
	case AT_RANDOM:
		break;
	}
	/* Without the spool the archive alone may lack the newest records,
	 * never has a duplicate. */
	read_dir(dir, &o);
	CHECK(o.nrecs <= n);
	CHECK_EQ_U64(count_expected(&o, 0), o.nrecs);
	readout_free(&o);

	/* (b) A restart archives everything, once, and continues the seq. */
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 10);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(wt_seglog_next_seq(w), n);
	struct wt_seglog_stats st = stats_of(w);
	if (at == AT_MID_SEGMENT) {
		CHECK_EQ_U64(st.recovered_spool, 1);
		seg_path(p, sizeof(p), dir, 3);
		CHECK_EQ_STR(wt_seglog_recovered_path(w), p);
		CHECK_EQ_U64(wt_seglog_recovered_records(w), 185);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_RECOVERED);
	} else if (at == AT_AFTER_ROLL) {
		CHECK_EQ_U64(st.recovered_spool, 2);
		CHECK_EQ_U64(wt_seglog_recovered_records(w), 1);
		seg_path(p, sizeof(p), dir, 1);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_SEALED);
	} else if (at == AT_RENAMED) {
		CHECK_EQ_U64(st.duplicates_dropped, 1);
	} else if (at == AT_TMP_WRITTEN) {
		CHECK(!exists(dir, ".seg-00000000000000000002.wts.tmp"));
		CHECK_EQ_U64(st.duplicates_dropped, 0);
	}
	CHECK_EQ_U64(append_n_retry(w, 5), 5);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(count_entries(spool), 0);
	expect_clean_log(dir, n + 5);
	munmap(sh, 4096);
	tmpdir_remove(spool);
	tmpdir_remove(dir);
}

static void
test_spool_crash(void)
{
	crash_at(SPOOL_BASE, AT_MID_SEGMENT, 0);
	crash_at(SPOOL_BASE, AT_AFTER_ROLL, 0);
	crash_at(SPOOL_BASE, AT_TMP_WRITTEN, 0);
	crash_at(SPOOL_BASE, AT_RENAMED, 0);
	crash_at(SPOOL_BASE, AT_RANDOM, 8 * PER_SEG + 37);
	crash_at(SPOOL_BASE, AT_RANDOM, 54 * PER_SEG + 3);
#ifndef WT_TEST_HUGE
	/* move mode: the archive rename is the only step */
	crash_at("/tmp", AT_MID_SEGMENT, 0);
	crash_at("/tmp", AT_AFTER_ROLL, 0);
	crash_at("/tmp", AT_RANDOM, 14 * PER_SEG + 68);
#endif
}

/* ---- the writer's thread never seals --------------------------------- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Many rolls: every seal is made durable by the archiver, none by the
 * writer's thread. The append rate, the worst append latency and the
 * archiver's throughput are printed (not checked: the machine is shared).
 */
static void
test_spool_never_blocks(void)
{
	char dir[64], spool[64];
	struct wt_callrec r;
	const uint64_t seg = WT_MAX(SEG, 1u << 20), n = 30 * ((seg - 256) / FRAME_SPAN);
	uint64_t worst = 0, slow = 0, refused = 0;

	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), SPOOL_BASE) == 0);
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, seg, 8, 10);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n;) {
		make_rec(&r, i);
		uint64_t a = now_ns();
		int rc = wt_seglog_append(w, &r);
		uint64_t d = now_ns() - a;
		if (rc == -EAGAIN) {
			refused++;
			sleep_ms(1);
			continue;
		}
		CHECK_EQ_U64(rc, 0);
		worst = WT_MAX(worst, d);
		slow += d > 100000;
		i++;
	}
	uint64_t t1 = now_ns();
	wait_archived(w);
	struct wt_seglog_stats st = stats_of(w);
	CHECK_EQ_U64(st.segments_created, 30);
	CHECK_EQ_U64(st.seals_sync, 0);
	CHECK_EQ_U64(st.seals_async, 29);
	CHECK_EQ_U64(st.segments_archived, 29);
	fprintf(stderr,
	        "  %llu appends, 29 rolls, %.0f ns/append, worst %llu ns, %llu over 100 us, "
	        "%llu refused (spool full), archiver %.0f MB/s\n",
	        (unsigned long long)n, (double)(t1 - t0) / (double)n, (unsigned long long)worst,
	        (unsigned long long)slow, (unsigned long long)refused,
	        st.archive_ns ? (double)st.bytes_archived * 1e3 / (double)st.archive_ns : 0.0);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	expect_clean_log(dir, n);
	tmpdir_remove(spool);
	tmpdir_remove(dir);
}

#ifndef WT_TEST_HUGE
/* ---- mixed modes, reader merge, errors -------------------------------- */

/* A log written in direct mode is continued in spool mode and back. */
static void
test_spool_mode_switch(void)
{
	char dir[64], spool[64];

	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), SPOOL_BASE) == 0);
	write_log(dir, SMALL_SEG, 500);
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SMALL_SEG, 2, 10);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(wt_seglog_next_seq(w), 500);
	CHECK_EQ_U64(append_n_retry(w, 500), 500);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(append_n(w, 100), 100);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	expect_clean_log(dir, 1100);
	CHECK_EQ_U64(count_entries(spool), 0);
	tmpdir_remove(spool);
	tmpdir_remove(dir);
}

static void
copy_file(const char *from, const char *to)
{
	static char buf[SMALL_SEG];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CHECK(in >= 0 && out >= 0);
	ssize_t n = read(in, buf, sizeof(buf));
	CHECK(n > 0 && write(out, buf, (size_t)n) == n);
	close(in);
	close(out);
}

/*
 * The reader's merge: archive {1, 2}, spool {2, 3} reads 1, 2 (the
 * archive's), 3, without a duplicate; a spool copy that differs from the
 * archived one stops the writer (EEXIST) instead of guessing.
 */
static void
test_spool_reader_merge(void)
{
	char dir[64], spool[64], other[64], a[PATH_MAX], b[PATH_MAX], err[512];
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	tmpdir_make(other, sizeof(other));
	CHECK(tmpdir_make_in(spool, sizeof(spool), SPOOL_BASE) == 0);
	write_log(dir, SMALL_SEG, 600); /* segments of 209, 209, 182 records */
	for (uint64_t s = 2; s <= 3; s++) {
		seg_path(a, sizeof(a), dir, s);
		seg_path(b, sizeof(b), spool, s);
		copy_file(a, b);
	}
	seg_path(a, sizeof(a), dir, 3);
	CHECK(unlink(a) == 0);
	read_spool(spool, dir, &o);
	CHECK_EQ_U64(o.nrecs, 600);
	CHECK_EQ_U64(count_expected(&o, 0), 600);
	CHECK_EQ_U64(o.st.segments, 3);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	/* The archive alone lacks segment 3; without the merge both copies
	 * of segment 2 would be read. */
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 418);
	readout_free(&o);
	/* An empty archive with a spool is fine; neither holding a segment is not. */
	read_spool(spool, other, &o);
	CHECK_EQ_U64(o.nrecs, 391); /* seq 209..599: a reader starts where the log does */
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	read_spool(other, other, &o);
	CHECK_EQ_U64(o.open_errno, ENOENT);
	CHECK(strstr(o.err, "no segments found") != NULL);
	read_spool("/nonexistent/wt-spool", dir, &o);
	CHECK_EQ_U64(o.open_errno, ENOENT);
	CHECK(strstr(o.err, "/nonexistent/wt-spool: cannot access") != NULL);

	/* A writer opening this spool: segment 2 is already archived (same
	 * segment): dropped; segment 3 is archived. */
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SMALL_SEG, 2, 10);
	CHECK(w != NULL);
	if (w != NULL) {
		struct wt_seglog_stats st = stats_of(w);
		CHECK_EQ_U64(st.duplicates_dropped, 1);
		CHECK_EQ_U64(st.recovered_spool, 1);
		CHECK_EQ_U64(wt_seglog_next_seq(w), 600);
		CHECK_EQ_U64(wt_seglog_close(w), 0);
	}
	expect_clean_log(dir, 600);

	/* Segment 2 of another log in the spool: same number, other segment. */
	write_log(other, SMALL_SEG, 400);
	seg_path(a, sizeof(a), other, 2);
	seg_path(b, sizeof(b), spool, 2);
	copy_file(a, b);
	struct wt_seglog_conf conf = {
	        .dir = dir, .segment_size = SMALL_SEG, .spool_dir = spool, .spool_segments = 2};
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EEXIST);
	CHECK(strstr(err, "and the two differ") != NULL);
	CHECK(seg_exists(spool, 2)); /* nothing deleted */
	tmpdir_remove(spool);
	tmpdir_remove(other);
	tmpdir_remove(dir);
}

/* Bad spool configurations and a second writer on the same spool. */
static void
test_spool_errors(void)
{
	char dir[64], dir2[64], spool[64], err[512];

	tmpdir_make(dir, sizeof(dir));
	tmpdir_make(dir2, sizeof(dir2));
	CHECK(tmpdir_make_in(spool, sizeof(spool), SPOOL_BASE) == 0);
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = SMALL_SEG, .spool_dir = dir};
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	CHECK(strstr(err, "must not be the log directory") != NULL);
	conf.spool_dir = spool;
	conf.spool_segments = 1;
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	CHECK_EQ_STR(err, "seglog: spool segments 1 invalid (2 to 64)");
	conf.spool_segments = 0;
	conf.spool_dir = "/nonexistent/wt-spool";
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	CHECK_EQ_STR(err, "/nonexistent/wt-spool: cannot open spool directory: No such file or "
	                  "directory");

	conf.spool_dir = spool;
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	CHECK(w != NULL);
	CHECK(count_entries(spool) >= 1); /* the file prepared for the first append, at least */
	struct wt_seglog_conf conf2 = conf;
	conf2.dir = dir2;
	CHECK(wt_seglog_open(&conf2, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EBUSY);
	CHECK(strstr(err, "spool directory is in use by another writer") != NULL);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	/* Nothing appended: nothing archived, nothing left. */
	CHECK_EQ_U64(count_entries(spool), 0);
	CHECK_EQ_U64(count_entries(dir), 0);
	tmpdir_remove(spool);
	tmpdir_remove(dir2);
	tmpdir_remove(dir);
}
#endif /* !WT_TEST_HUGE */

static const struct wt_test_case cases[] = {
        WT_TEST(test_spool_round_trip_copy), WT_TEST(test_spool_backpressure),
        WT_TEST(test_spool_crash),           WT_TEST(test_spool_never_blocks),
#ifndef WT_TEST_HUGE
        WT_TEST(test_spool_round_trip_move), WT_TEST(test_spool_mode_switch),
        WT_TEST(test_spool_reader_merge),    WT_TEST(test_spool_errors),
#endif
};

#ifdef WT_TEST_HUGE
/* Hugepages free and not reserved (HugePages_Free - HugePages_Rsvd). */
static long
free_hugepages(void)
{
	char line[128];
	long fr = -1, rsvd = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "HugePages_Free: %ld", &fr);
		sscanf(line, "HugePages_Rsvd: %ld", &rsvd);
	}
	fclose(f);
	return fr < 0 ? -1 : fr - rsvd;
}

/* Mappings of this process on the spool's file system: a spool file the
 * writer forgot to unmap keeps its hugepages even once deleted. (Other
 * processes use hugepages too, so the pool's free count cannot tell.) */
static int
spool_mappings(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, SPOOL_BASE "/wt-seglog-test-") != NULL;
	fclose(f);
	return n;
}
#endif

int
main(void)
{
#ifdef WT_TEST_HUGE
	struct statfs fs;
	long before = free_hugepages();
	char probe[64];

	if (statfs(SPOOL_BASE, &fs) != 0 || fs.f_type != HUGETLBFS_MAGIC ||
	    fs.f_bsize != (long)SEG) {
		fprintf(stderr, "SKIPPED: no hugetlbfs with 2 MiB pages mounted on " SPOOL_BASE
		                ": spool mode on hugepages NOT tested\n");
		return 77;
	}
	if (before < 16) {
		fprintf(stderr,
		        "SKIPPED: %ld free hugepages (16 needed): spool mode on hugepages "
		        "NOT tested\n",
		        before);
		return 77;
	}
	if (tmpdir_make_in(probe, sizeof(probe), SPOOL_BASE) != 0) {
		fprintf(stderr,
		        "SKIPPED: cannot create a directory in " SPOOL_BASE
		        " (%s): spool mode on hugepages NOT tested\n",
		        strerror(errno));
		return 77;
	}
	rmdir(probe);
#endif
	for (size_t i = 0; i < WT_ARRAY_SIZE(cases); i++) {
		int failed = wt_test_failures;
		cases[i].fn();
		printf("%s %s\n", wt_test_failures == failed ? "ok  " : "FAIL", cases[i].name);
	}
#ifdef WT_TEST_HUGE
	/* Every spool file was unmapped (and the spools are empty). */
	CHECK_EQ_U64(spool_mappings(), 0);
#endif
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	return wt_test_failures ? 1 : 0;
}
