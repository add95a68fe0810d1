/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_follow.c: the reader's follow mode (a live tail) against a writer in the same test.
 */
#include <signal.h>
#include <sys/wait.h>

#include "seglog_testlib.h"

/* A follower: a follow-mode reader and everything it returned so far. */
struct follower {
	struct wt_seglog_reader *r;
	struct readout o; /* records, problems, last stats text */
	uint64_t frames;
};

static void
follower_open_from(struct follower *fl, const char *dir, const char *spool, uint64_t from_segment)
{
	memset(fl, 0, sizeof(*fl));
	struct wt_seglog_reader_conf conf = {.paths = &dir,
	                                     .npaths = 1,
	                                     .spool_dir = spool,
	                                     .follow = 1,
	                                     .follow_from_segment = from_segment,
	                                     .problem = collect_problem,
	                                     .problem_arg = &fl->o};
	fl->r = wt_seglog_reader_open(&conf, fl->o.err, sizeof(fl->o.err));
	CHECK(fl->r != NULL);
	if (fl->r == NULL)
		fprintf(stderr, "follow open: %s\n", fl->o.err);
}

static void
follower_open(struct follower *fl, const char *dir, const char *spool)
{
	follower_open_from(fl, dir, spool, 0);
}

/* Read until the reader says "nothing more now"; @return the records read. */
static uint64_t
follower_drain(struct follower *fl)
{
	struct wt_seglog_frame f;
	uint64_t before = fl->o.nrecs;
	size_t cap = fl->o.nrecs;

	if (fl->r == NULL)
		return 0;
	while (wt_seglog_reader_next(fl->r, &f) == 1) {
		fl->frames++;
		if (f.type == WT_SEGLOG_FRAME_STATS) {
			size_t l = WT_MIN(f.len, sizeof(fl->o.stats_text) - 1);
			memcpy(fl->o.stats_text, f.payload, l);
			fl->o.stats_text[l] = '\0';
			continue;
		}
		if (fl->o.nrecs >= cap) {
			cap = cap ? cap * 2 : 1024;
			fl->o.recs = realloc(fl->o.recs, cap * sizeof(*fl->o.recs));
		}
		CHECK_EQ_U64(wt_seglog_frame_record(&f, &fl->o.recs[fl->o.nrecs]), 0);
		fl->o.nrecs++;
	}
	fl->o.st = *wt_seglog_reader_stats(fl->r);
	return fl->o.nrecs - before;
}

static void
follower_close(struct follower *fl)
{
	wt_seglog_reader_close(fl->r);
	readout_free(&fl->o);
}

/* Direct mode: records appear as they are committed, across segment rolls,
 * restarts, a stats frame; "log closed" only after stats + seal. */
static void
test_follow_direct(void)
{
	char dir[64];
	struct follower fl;

	tmpdir_make(dir, sizeof(dir));
	follower_open(&fl, dir, NULL); /* empty directory: fine in follow mode */
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK(!wt_seglog_reader_log_closed(fl.r));

	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(follower_drain(&fl), 0); /* opened, no segment yet */
	CHECK_EQ_U64(append_n(w, 10), 10);
	CHECK_EQ_U64(follower_drain(&fl), 10);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(follower_drain(&fl), 1);
	/* across two rolls: 11 + 500 records fill segment 1 (209), 2, part of 3 */
	CHECK_EQ_U64(append_n(w, 500), 500);
	CHECK_EQ_U64(follower_drain(&fl), 500);
	CHECK(!wt_seglog_reader_log_closed(fl.r));
	static const char text[] = "rx_packets=1\n";
	CHECK_EQ_U64(wt_seglog_append_stats(w, text, sizeof(text) - 1), 0);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_STR(fl.o.stats_text, text);
	CHECK(!wt_seglog_reader_log_closed(fl.r)); /* stats, but not sealed yet */
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK(wt_seglog_reader_log_closed(fl.r));

	/* a restart continues the log in segment 4 */
	w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK(wt_seglog_reader_log_closed(fl.r)); /* no new segment yet */
	CHECK_EQ_U64(append_n(w, 5), 5);
	CHECK_EQ_U64(follower_drain(&fl), 5);
	CHECK(!wt_seglog_reader_log_closed(fl.r));
	CHECK_EQ_U64(wt_seglog_close(w), 0); /* sealed without a stats frame */
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK(!wt_seglog_reader_log_closed(fl.r));

	CHECK_EQ_U64(fl.o.nrecs, 516);
	CHECK_EQ_U64(count_expected(&fl.o, 0), 516);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	CHECK_EQ_U64(fl.o.st.segments, 4);
	CHECK_EQ_U64(fl.o.st.problems + fl.o.st.errors, 0);
	follower_close(&fl);
	expect_clean_log(dir, 516);
	tmpdir_remove(dir);
}

/* A follower of one writer's records (the monitor's IPFIX sender): it
 * starts at wt_seglog_next_segment_no() of a writer that continues an
 * earlier run's log, never opens the earlier segments, and reads exactly
 * the new writer's records, across a roll. */
static void
test_follow_from_segment(void)
{
	char dir[64];
	struct follower fl;

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(append_n(w, 300), 300); /* segments 1 and 2 */
	CHECK_EQ_U64(wt_seglog_next_segment_no(w), 3);
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	w = open_writer(dir, SMALL_SEG);
	uint64_t first_seq = wt_seglog_next_seq(w), first_seg = wt_seglog_next_segment_no(w);
	CHECK_EQ_U64(first_seq, 300);
	CHECK_EQ_U64(first_seg, 3);
	follower_open_from(&fl, dir, NULL, first_seg);
	CHECK_EQ_U64(follower_drain(&fl), 0); /* the earlier run is not read */
	CHECK_EQ_U64(fl.o.st.segments, 0);
	CHECK_EQ_U64(append_n(w, 250), 250); /* segment 3, into 4 */
	CHECK_EQ_U64(follower_drain(&fl), 250);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_U64(fl.o.nrecs, 250);
	CHECK_EQ_U64(fl.o.recs[0].seq, first_seq);
	CHECK_EQ_U64(fl.o.recs[249].seq, first_seq + 249);
	CHECK_EQ_U64(fl.o.st.segments, 2);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	follower_close(&fl);
	tmpdir_remove(dir);
}

/* A writer killed in the middle of a segment: the follower waits at the
 * live end; the next writer recovers the segment (sealed as recovered) and
 * continues in the next one, which the follower then reads. */
static void
test_follow_crash(void)
{
	char dir[64];
	struct follower fl;

	tmpdir_make(dir, sizeof(dir));
	follower_open(&fl, dir, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
		_exit(w != NULL && append_n(w, 300) == 300 ? 0 : 1);
	}
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_EQ_U64(follower_drain(&fl), 300);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	write_log(dir, SMALL_SEG, 100); /* recovers segment 2, writes segment 3 */
	CHECK_EQ_U64(follower_drain(&fl), 100);
	CHECK_EQ_U64(count_expected(&fl.o, 0), 400);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	char p[PATH_MAX];
	seg_path(p, sizeof(p), dir, 2);
	CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_RECOVERED);
	follower_close(&fl);
	tmpdir_remove(dir);
}

/* Spool mode: the follower reads the spool's open segment and goes on
 * while the archiver copies sealed segments away and deletes them from the
 * spool; every record once, in order. */
static void
test_follow_spool(void)
{
	char dir[64], spool[64];
	struct follower fl;

	tmpdir_make(dir, sizeof(dir));
	CHECK(tmpdir_make_in(spool, sizeof(spool), "/dev/shm") == 0);
	follower_open(&fl, dir, spool);
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SMALL_SEG, 3, 10);
	CHECK(w != NULL);
	uint64_t total = 0;
	for (int round = 0; round < 12 && w != NULL; round++) {
		uint64_t n = 97 + 61 * (uint64_t)round; /* rolls at varying points */
		CHECK_EQ_U64(append_n_retry(w, n), n);
		total += n;
		CHECK_EQ_U64(follower_drain(&fl), n);
		if (round % 3 == 2)
			wait_archived(w); /* the segments just read move to the archive */
	}
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_U64(fl.o.nrecs, total);
	CHECK_EQ_U64(count_expected(&fl.o, 0), total);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	follower_close(&fl);

	/* A follower started now reads it all from the archive (the spool is
	 * empty), and one on a spool that does not exist too. */
	follower_open(&fl, dir, spool);
	CHECK_EQ_U64(follower_drain(&fl), total);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	follower_close(&fl);
	rmdir(spool); /* a spool that does not exist (yet): empty */
	follower_open(&fl, dir, spool);
	CHECK_EQ_U64(follower_drain(&fl), total);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	/* the writer creates it and writes there: followed */
	CHECK(mkdir(spool, 0700) == 0);
	w = open_spool_writer(dir, spool, SMALL_SEG, 3, 10);
	CHECK(w != NULL);
	CHECK_EQ_U64(append_n_retry(w, 5), 5);
	CHECK_EQ_U64(follower_drain(&fl), 5);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_U64(count_expected(&fl.o, 0), total + 5);
	CHECK_EQ_U64(fl.o.nprobs, 0);
	follower_close(&fl);
	rmdir(spool);
	tmpdir_remove(dir);
}

/* A torn seal on a segment followed by another: reported once, records of
 * both read; a torn seal on the last segment: waited on (it may be being
 * written). */
static void
test_follow_torn_seal(void)
{
	char dir[64], p[PATH_MAX];
	struct follower fl;
	static const uint8_t junk[4] = {1, 2, 3, 4};

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 400); /* segments 1 (370) and 2 (30), sealed */
	seg_path(p, sizeof(p), dir, 1);
	poke(p, WT_SEG_S_CRC, junk, sizeof(junk));
	seg_path(p, sizeof(p), dir, 2);
	poke(p, WT_SEG_S_CRC, junk, sizeof(junk));
	follower_open(&fl, dir, NULL);
	CHECK_EQ_U64(follower_drain(&fl), 400);
	CHECK_EQ_U64(fl.o.nprobs, 1);
	CHECK_EQ_U64(nprob(&fl.o, WT_SEGLOG_PROBLEM_SEAL), 1);
	seg_path(p, sizeof(p), dir, 1);
	CHECK(fl.o.nprobs == 1 && strcmp(fl.o.probs[0].path, p) == 0 &&
	      fl.o.probs[0].offset == WT_SEG_S_STATE &&
	      strstr(fl.o.probs[0].msg, "segment 1 is not sealed (seal block corrupt) but a "
	                                "later segment exists") != NULL);
	CHECK_EQ_U64(follower_drain(&fl), 0);
	CHECK_EQ_U64(fl.o.nprobs, 1); /* segment 2: the live end, nothing to say */
	CHECK_EQ_U64(count_expected(&fl.o, 0), 400);
	follower_close(&fl);
	tmpdir_remove(dir);
}

static void
test_follow_args(void)
{
	char dir[64], err[256], p[PATH_MAX];

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 3);
	seg_path(p, sizeof(p), dir, 1);
	const char *two[] = {dir, dir};
	struct wt_seglog_reader_conf conf = {.paths = two, .npaths = 2, .follow = 1};
	CHECK(wt_seglog_reader_open(&conf, err, sizeof(err)) == NULL && errno == EINVAL);
	CHECK_EQ_STR(err, "follow mode reads one directory (2 paths given)");
	const char *file[] = {p};
	conf = (struct wt_seglog_reader_conf){.paths = file, .npaths = 1, .follow = 1};
	CHECK(wt_seglog_reader_open(&conf, err, sizeof(err)) == NULL && errno == EINVAL);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s: follow mode needs a directory", p);
	CHECK_EQ_STR(err, want);
	tmpdir_remove(dir);
	const char *gone[] = {dir};
	conf = (struct wt_seglog_reader_conf){.paths = gone, .npaths = 1, .follow = 1};
	CHECK(wt_seglog_reader_open(&conf, err, sizeof(err)) == NULL && errno == ENOENT);
}

WT_TEST_MAIN(WT_TEST(test_follow_direct), WT_TEST(test_follow_from_segment),
             WT_TEST(test_follow_crash), WT_TEST(test_follow_spool), WT_TEST(test_follow_torn_seal),
             WT_TEST(test_follow_args))
