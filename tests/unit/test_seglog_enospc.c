/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_enospc.c: a full disk loses nothing: direct mode (-ENOSPC) and spool mode (archive
 * full). */
#include "seglog_testlib.h"

/* 260 KiB of tmpfs holds four 64 KiB segments and one page (tmpfs charges
 * file pages only); the fifth cannot be preallocated. */
static void
test_enospc(const char *dir)
{
	struct readout o;
	struct wt_callrec r;

	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	uint64_t n = append_n(w, 100000);
	CHECK_EQ_U64(n, 4 * PER_SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_segments_created(w), 4);
	make_rec(&r, n);
	r.seq = 0xdeadbeef;
	CHECK_EQ_U64(wt_seglog_append(w, &r), -ENOSPC);
	CHECK_EQ_U64(r.seq, 0xdeadbeef); /* not consumed */
	CHECK_EQ_U64(wt_seglog_next_seq(w), n);
	CHECK_EQ_U64(wt_seglog_append_stats(w, "a=1\n", 4), -ENOSPC);
	CHECK_EQ_STR(wt_seglog_current_path(w), ""); /* the full one is sealed */
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	/* No temporary file left behind by the failed creation. */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/.seg-00000000000000000005.wts.tmp", dir);
	CHECK(access(p, F_OK) != 0);
	seg_path(p, sizeof(p), dir, 5);
	CHECK(access(p, F_OK) != 0);

	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, n);
	CHECK_EQ_U64(count_expected(&o, 0), n);
	CHECK_EQ_U64(o.st.segments, 4);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);

	/* A writer can still be opened on the full disk; its first append
	 * fails the same way, and after room is made the log continues. */
	w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	CHECK_EQ_U64(append_n(w, 1), 0);
	seg_path(p, sizeof(p), dir, 1);
	CHECK(unlink(p) == 0); /* e.g. archived elsewhere */
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(wt_seglog_next_seq(w), n + 1);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
}

/* Move segment @segno from @from to @to (another file system): the
 * operator making room on the archive disk. */
static void
move_segment(const char *from, const char *to, uint64_t segno)
{
	static uint8_t buf[SMALL_SEG];
	char a[PATH_MAX], b[PATH_MAX];

	seg_path(a, sizeof(a), from, segno);
	seg_path(b, sizeof(b), to, segno);
	int in = open(a, O_RDONLY), out = open(b, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(in >= 0 && out >= 0);
	CHECK_EQ_U64(read(in, buf, sizeof(buf)), SMALL_SEG);
	CHECK_EQ_U64(write(out, buf, sizeof(buf)), SMALL_SEG);
	close(in);
	close(out);
	CHECK(unlink(a) == 0);
}

/* Wait (liveness bound 30 s) until @archived segments are archived and
 * @waiting wait in the spool. */
static void
wait_state(struct wt_seglog_writer *w, uint64_t archived, unsigned int waiting)
{
	struct wt_seglog_stats st;

	for (int i = 0; i < 30000; i++) {
		st = stats_of(w);
		if (st.segments_archived == archived && st.spool_waiting == waiting)
			break;
		sleep_ms(1);
	}
	CHECK_EQ_U64(st.segments_archived, archived);
	CHECK_EQ_U64(st.spool_waiting, waiting);
}

/*
 * Spool mode with the archive on the same 260 KiB tmpfs (four segments and
 * the spool note):
 * the fifth cannot be archived; the archiver reports it (file, errno) and
 * retries, the writer fills the spool and then returns -EAGAIN; nothing is
 * lost at any point: every record is in the spool or the archive, read
 * together. Room made, the archiver resumes by itself; a close on the full
 * disk leaves the rest in the spool, a reopen archives it.
 */
static void
test_archive_full(const char *dir)
{
	char spool[64], moved[64], want[1024], err[1024];
	const char *both[2] = {moved, dir};
	struct wt_seglog_stats st;
	struct readout o;

	tmpdir_make(spool, sizeof(spool));
	tmpdir_make(moved, sizeof(moved));
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SMALL_SEG, 4, 20);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	/* Segments 1-4 archived, 5 fails, 6-8 sealed behind it. */
	CHECK_EQ_U64(fill_spool(w, 4, ENOSPC), 8 * PER_SMALL_SEG);
	st = stats_of(w);
	CHECK_EQ_U64(st.segments_archived, 4);
	CHECK_EQ_U64(st.archive_errno, ENOSPC);
	CHECK(st.archive_failures >= 1);
	snprintf(want, sizeof(want),
	         "cannot archive segment 5: %s/.seg-00000000000000000005.wts.tmp: write: No space "
	         "left on device (ENOSPC); it stays in %s, retrying every 20 ms",
	         dir, spool);
	CHECK_EQ_STR(st.archive_error, want);
	CHECK_EQ_U64(count_entries(dir), 4);   /* no .tmp left behind */
	CHECK_EQ_U64(count_entries(spool), 4); /* segments 5-8 */
	CHECK(seg_exists(spool, 5) && seg_exists(spool, 8));
	expect_clean_spool(spool, dir, 8 * PER_SMALL_SEG);

	/* Room for one: the archiver's retry archives segment 5 (6 fails),
	 * and the writer takes one more segment. */
	move_segment(dir, moved, 1);
	wait_state(w, 5, 3);
	CHECK_EQ_U64(fill_spool(w, 4, ENOSPC), PER_SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 9 * PER_SMALL_SEG);

	/* Close on the full disk: one more try, then segments 6-9 stay. */
	CHECK_EQ_U64(wt_seglog_close(w), -ENOSPC);
	CHECK_EQ_U64(count_entries(spool), 4);
	expect_clean_read(
	        (struct wt_seglog_reader_conf){.paths = both, .npaths = 2, .spool_dir = spool},
	        9 * PER_SMALL_SEG);

	/* Reopen on the full disk: refused, the spool untouched. */
	struct wt_seglog_conf conf = {.dir = dir,
	                              .segment_size = SMALL_SEG,
	                              .spool_dir = spool,
	                              .spool_segments = 4,
	                              .retry_ms = 20};
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, ENOSPC);
	snprintf(want, sizeof(want),
	         "cannot archive spool segment %s/seg-00000000000000000006.wts left by the last "
	         "run: %s/.seg-00000000000000000006.wts.tmp: write: No space left on device "
	         "(ENOSPC); it stays in the spool (wiretally-read --spool reads it)",
	         spool, dir);
	CHECK_EQ_STR(err, want);
	CHECK_EQ_U64(count_entries(spool), 4);
	CHECK_EQ_U64(count_entries(dir), 4);

	/* Room for four: the reopen archives 6-9; the log continues. */
	for (uint64_t s = 2; s <= 5; s++)
		move_segment(dir, moved, s);
	w = open_spool_writer(dir, spool, SMALL_SEG, 4, 20);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(stats_of(w).recovered_spool, 4);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 9 * PER_SMALL_SEG);
	move_segment(dir, moved, 6);
	move_segment(dir, moved, 7);
	CHECK_EQ_U64(append_n_retry(w, 100), 100);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(count_entries(spool), 0);
	read_paths(both, 2, &o);
	CHECK_EQ_U64(o.nrecs, 9 * PER_SMALL_SEG + 100);
	CHECK_EQ_U64(count_expected(&o, 0), 9 * PER_SMALL_SEG + 100);
	CHECK_EQ_U64(o.st.segments, 10);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(moved);
	tmpdir_remove(spool);
}

int
main(void)
{
	static void (*const tests[])(const char *) = {test_enospc, test_archive_full};
	static const char *const names[] = {"test_enospc", "test_archive_full"};
	char dir[64];
	/* four 64 KiB segments, and one page for the note a spool writer
	 * leaves in the archive (WT_SEGLOG_SPOOL_NOTE) */
	int rc = mount_small(dir, sizeof(dir), "tmpfs", "size=260k", "disk-full behaviour");

	if (rc != 0)
		return rc;
	for (size_t i = 0; i < WT_ARRAY_SIZE(tests); i++) {
		int failed = wt_test_failures;
		tests[i](dir);
		tmpdir_remove(dir); /* empties the tmpfs for the next test */
		printf("%s %s\n", wt_test_failures == failed ? "ok  " : "FAIL", names[i]);
	}
	unmount_small(dir);
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	return wt_test_failures ? 1 : 0;
}
