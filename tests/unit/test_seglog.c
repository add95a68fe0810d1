/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog.c: log segments: round trip, restarts, crashes, corruption, errors. */
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "seglog_testlib.h"
#include "wt_crc32c.h"

/* 1000 records in 64 KiB segments: 4 x 209 + 164, read back identical. */
static void
test_round_trip(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	struct stat sb;

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	CHECK_EQ_STR(wt_seglog_current_path(w), "");
	CHECK_EQ_U64(wt_seglog_next_seq(w), 0);
	struct wt_callrec r;
	for (uint64_t i = 0; i < 1000; i++) {
		make_rec(&r, i);
		CHECK_EQ_U64(wt_seglog_append(w, &r), 0);
		CHECK_EQ_U64(r.seq, i); /* the writer assigned it */
	}
	seg_path(p, sizeof(p), dir, 5);
	CHECK_EQ_STR(wt_seglog_current_path(w), p);
	CHECK_EQ_U64(wt_seglog_segments_created(w), 5);
	CHECK_EQ_U64(wt_seglog_records_appended(w), 1000);
	CHECK_EQ_U64(wt_seglog_flush(w), 0);
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	static const uint64_t counts[5] = {209, 209, 209, 209, 164},
	                      firsts[5] = {0, 209, 418, 627, 836};
	for (uint64_t s = 1; s <= 5; s++) {
		seg_path(p, sizeof(p), dir, s);
		CHECK(stat(p, &sb) == 0);
		CHECK_EQ_U64(sb.st_size, SMALL_SEG);
		struct wt_seg_header h = header_of(p);
		CHECK_EQ_U64(h.major, 1);
		CHECK_EQ_U64(h.minor, 2);
		CHECK_EQ_U64(h.header_size, 256);
		CHECK_EQ_U64(h.segment_no, s);
		CHECK_EQ_U64(h.run_id, 42);
		CHECK_EQ_U64(h.first_seq, firsts[s - 1]);
		CHECK_EQ_U64(h.state, WT_SEG_STATE_SEALED);
		CHECK_EQ_U64(h.record_count, counts[s - 1]);
		CHECK_EQ_U64(h.frame_count, counts[s - 1]);
		CHECK_EQ_U64(h.last_seq, firsts[s - 1] + counts[s - 1] - 1);
		CHECK_EQ_U64(h.end_offset, 256 + counts[s - 1] * FRAME_SPAN);
	}
	seg_path(p, sizeof(p), dir, 6);
	CHECK(stat(p, &sb) != 0);

	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1000);
	CHECK_EQ_U64(count_expected(&o, 0), 1000);
	CHECK_EQ_U64(o.st.segments, 5);
	CHECK_EQ_U64(o.st.records, 1000);
	CHECK_EQ_U64(o.st.first_seq, 0);
	CHECK_EQ_U64(o.st.last_seq, 999);
	CHECK_EQ_U64(o.st.problems + o.st.errors, 0);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);

	/* The same files given one by one, in order, read the same. */
	char ps[5][PATH_MAX];
	const char *files[5];
	for (int s = 0; s < 5; s++) {
		seg_path(ps[s], sizeof(ps[s]), dir, (uint64_t)s + 1);
		files[s] = ps[s];
	}
	read_paths(files, 5, &o);
	CHECK_EQ_U64(count_expected(&o, 0), 1000);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A child process appends @n records to @dir in 64 KiB segments and exits
 * without closing the writer, as a crash would. */
static void
crash_child(const char *dir, uint64_t n)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
		_exit(w != NULL && append_n(w, n) == n ? 0 : 1);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Default segment size: 64 MiB, preallocated. */
static void
test_default_size(void)
{
	char dir[64], p[PATH_MAX];
	struct stat sb;

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, 0, 1);
	seg_path(p, sizeof(p), dir, 1);
	CHECK(stat(p, &sb) == 0);
	CHECK_EQ_U64(sb.st_size, 64ull << 20);
	CHECK(sb.st_blocks * 512 >= (64ll << 20)); /* allocated, not sparse */
	tmpdir_remove(dir);
}

/* Close, reopen, append: numbering and seq continue; no gap. */
static void
test_reopen(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 1000);
	CHECK_EQ_STR(wt_seglog_recovered_path(w), "");
	CHECK_EQ_U64(append_n(w, 500), 500);
	seg_path(p, sizeof(p), dir, 8); /* 6, 7 and 8: 209 + 209 + 82 */
	CHECK_EQ_STR(wt_seglog_current_path(w), p);
	CHECK_EQ_U64(wt_seglog_segments_created(w), 3);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(header_of(p).first_seq, 1418);

	/* A reopen without any append adds nothing. */
	w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 1500);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	/* A writer with another segment size continues the same log. */
	write_log(dir, 2 * SMALL_SEG, 10);

	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1510);
	CHECK_EQ_U64(count_expected(&o, 0), 1510);
	CHECK_EQ_U64(o.st.segments, 9);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A child appends 500 records and _exits without closing: nothing is lost,
 * the reader reads the unsealed segment without complaint, and a reopen
 * recovers (seals) it and continues. */
static void
test_crash_exit(void)
{
	char dir[64], p[PATH_MAX];

	tmpdir_make(dir, sizeof(dir));
	crash_child(dir, 500);
	seg_path(p, sizeof(p), dir, 3);
	CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_OPEN);

	expect_clean_log(dir, 500);

	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	CHECK_EQ_STR(wt_seglog_recovered_path(w), p);
	CHECK_EQ_U64(wt_seglog_recovered_records(w), 82);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 500);
	struct wt_seg_header h = header_of(p);
	CHECK_EQ_U64(h.state, WT_SEG_STATE_RECOVERED);
	CHECK_EQ_U64(h.record_count, 82);
	CHECK_EQ_U64(h.last_seq, 499);
	CHECK_EQ_U64(h.end_offset, 256 + 82 * FRAME_SPAN);
	CHECK_EQ_U64(append_n(w, 10), 10);
	seg_path(p, sizeof(p), dir, 4);
	CHECK_EQ_STR(wt_seglog_current_path(w), p);
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	expect_clean_log(dir, 510);
	tmpdir_remove(dir);
}

/* SIGKILL mid-stream: every record whose append returned is read back.
 * The kill lands wherever the child is: mid-segment (the last segment is
 * then unsealed and recovered) or inside a roll (sealed, next one not yet
 * published); both must lose nothing. */
static void
crash_sigkill_at(uint64_t segsize, uint64_t threshold)
{
	const uint64_t per_seg = (segsize - 256) / FRAME_SPAN;
	char dir[64], p[PATH_MAX];
	struct readout o;
	int status;
	uint64_t *done =
	        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(done != MAP_FAILED);
	*done = 0;
	tmpdir_make(dir, sizeof(dir));
	pid_t pid = fork();
	if (pid == 0) {
		struct wt_seglog_writer *w = open_writer(dir, segsize);
		struct wt_callrec r;
		if (w == NULL)
			_exit(1);
		for (uint64_t i = 0; i < 10000000; i++) {
			make_rec(&r, i);
			if (wt_seglog_append(w, &r) != 0)
				_exit(1);
			__atomic_store_n(done, i + 1, __ATOMIC_RELEASE);
		}
		pause();
		_exit(0);
	}
	struct timespec ts = {0, 100000};
	for (int i = 0; i < 200000 && __atomic_load_n(done, __ATOMIC_ACQUIRE) < threshold; i++)
		nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	uint64_t committed = __atomic_load_n(done, __ATOMIC_ACQUIRE);
	CHECK(committed >= threshold);

	read_dir(dir, &o);
	/* The kill may land between the commit and the counter update. */
	CHECK(o.nrecs >= committed && o.nrecs <= committed + 1);
	CHECK_EQ_U64(count_expected(&o, 0), o.nrecs);
	CHECK_EQ_U64(o.nprobs, 0);
	uint64_t n = o.nrecs, segs = o.st.segments;
	readout_free(&o);
	seg_path(p, sizeof(p), dir, segs);
	int was_open = header_of(p).state == WT_SEG_STATE_OPEN;
	fprintf(stderr,
	        "  killed after %llu acknowledged appends, %llu records read, last "
	        "segment %llu %s\n",
	        (unsigned long long)committed, (unsigned long long)n, (unsigned long long)segs,
	        was_open ? "unsealed" : "sealed");

	struct wt_seglog_writer *w = open_writer(dir, segsize);
	CHECK(w != NULL);
	CHECK_EQ_U64(wt_seglog_next_seq(w), n);
	if (was_open) {
		CHECK_EQ_STR(wt_seglog_recovered_path(w), p);
		CHECK_EQ_U64(wt_seglog_recovered_records(w), n - (segs - 1) * per_seg);
		CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_RECOVERED);
	} else {
		CHECK_EQ_STR(wt_seglog_recovered_path(w), "");
	}
	CHECK_EQ_U64(append_n(w, 5), 5);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	expect_clean_log(dir, n + 5);
	munmap(done, 4096);
	tmpdir_remove(dir);
}

static void
test_crash_sigkill(void)
{
	/* Small segments: the kill mostly lands inside a roll (fsync time);
	 * 4 MiB segments: mostly between two appends of one segment. */
	crash_sigkill_at(SMALL_SEG, 1000);
	crash_sigkill_at(SMALL_SEG, 7777);
	crash_sigkill_at(4u << 20, 30000);
	crash_sigkill_at(4u << 20, 100000);
}

/* Torn last record of a sealed segment: its word zeroed (as if never
 * committed) is caught by the seal; its payload damaged, by the CRC; its
 * commit bit cleared, as a bad word. All earlier records are returned. */
static void
test_torn_last_sealed(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	uint8_t saved[FRAME_SPAN];
	static const uint8_t zero[4];
	const uint64_t last = 256 + 163 * FRAME_SPAN; /* frame of seq 999 in segment 5 */

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 5);
	peek(p, last, saved, sizeof(saved));

	poke(p, last, zero, 4);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(count_expected(&o, 0), 999);
	CHECK_EQ_U64(o.nprobs, 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_SEAL), 1);
	CHECK_EQ_STR(o.probs[0].path, p);
	CHECK_EQ_U64(o.probs[0].offset, last);
	readout_free(&o);

	poke(p, last, saved, sizeof(saved));
	flip(p, last + 8 + 100);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(count_expected(&o, 0), 999);
	CHECK_EQ_U64(o.nprobs, 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_FRAME), 1);
	CHECK_EQ_U64(o.probs[0].offset, last);
	readout_free(&o);

	poke(p, last, saved, sizeof(saved));
	uint8_t hi = saved[3] & 0x7f; /* commit bit off */
	poke(p, last + 3, &hi, 1);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_FRAME), 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_SEAL), 1);
	CHECK_EQ_U64(o.probs[0].offset, last);
	readout_free(&o);

	poke(p, last, saved, sizeof(saved));
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1000);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* Torn last record of an unsealed segment (crash): a damaged payload is
 * reported; a zero word is "not committed" and ends the segment silently
 * (docs/FORMAT.md: indistinguishable from a frame being written); recovery
 * keeps exactly the records before it. */
static void
test_torn_last_unsealed(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	static const uint8_t zero[4];
	const uint64_t last = 256 + 81 * FRAME_SPAN; /* seq 499 in segment 3 */

	tmpdir_make(dir, sizeof(dir));
	crash_child(dir, 500);
	seg_path(p, sizeof(p), dir, 3);

	flip(p, last + 8 + 20);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 499);
	CHECK_EQ_U64(count_expected(&o, 0), 499);
	CHECK_EQ_U64(o.nprobs, 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_FRAME), 1);
	CHECK_EQ_U64(o.probs[0].offset, last);
	readout_free(&o);

	poke(p, last, zero, 4);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 499);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);

	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_recovered_records(w), 81);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 499);
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	expect_clean_log(dir, 500);
	tmpdir_remove(dir);
}

/* The middle one of three segments has a corrupt header: it is skipped and
 * reported, the seq gap it leaves is reported, the others are read. */
static void
test_corrupt_header_middle(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 2);
	flip(p, WT_SEG_H_FIRST_SEQ);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 791);
	CHECK_EQ_U64(count_expected(&o, 0), 209);
	CHECK_EQ_U64(o.recs[209].seq, 418);
	CHECK_EQ_U64(o.st.segments, 4);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_U64(o.probs[0].kind, WT_SEGLOG_PROBLEM_HEADER);
	CHECK_EQ_STR(o.probs[0].path, p);
	CHECK_EQ_U64(o.probs[0].offset, 0);
	CHECK(strstr(o.probs[0].msg, "segment header corrupt") != NULL);
	CHECK_EQ_U64(o.probs[1].kind, WT_SEGLOG_PROBLEM_SEQ_GAP);
	CHECK_EQ_U64(o.probs[1].offset, 256);
	CHECK_EQ_STR(o.probs[1].msg, "seq gap: expected 209, found 418 (209 records missing)");
	readout_free(&o);

	/* The writer refuses to continue after a corrupt last header. */
	seg_path(p, sizeof(p), dir, 5);
	flip(p, WT_SEG_H_RUN_ID);
	char err[256];
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = SMALL_SEG};
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EBADMSG);
	CHECK(strstr(err, p) != NULL);
	tmpdir_remove(dir);
}

/* A segment whose seal block is zeroed, not the last: reported (file, the
 * seal block's offset), every record still read; the last segment open
 * (a crash) is not a problem. */
static void
test_zeroed_seal_middle(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	uint8_t zero[64] = {0};

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 2);
	poke(p, WT_SEG_SEAL_OFF, zero, sizeof(zero));
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1000);
	CHECK_EQ_U64(count_expected(&o, 0), 1000);
	CHECK_EQ_U64(o.nprobs, 1);
	CHECK_EQ_U64(o.probs[0].kind, WT_SEGLOG_PROBLEM_SEAL);
	CHECK_EQ_STR(o.probs[0].path, p);
	CHECK_EQ_U64(o.probs[0].offset, WT_SEG_SEAL_OFF);
	CHECK_EQ_STR(o.probs[0].msg, "segment 2 is not sealed (seal block empty) but a later "
	                             "segment exists: its seal was lost; read up to its first "
	                             "empty frame (offset 65464)");
	readout_free(&o);

	/* the same seal zeroed in the last segment: an open segment, as after
	 * a crash; nothing to report */
	tmpdir_remove(dir);
	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 5);
	poke(p, WT_SEG_SEAL_OFF, zero, sizeof(zero));
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1000);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A bad CRC in the middle of a segment skips that frame only. */
static void
test_corrupt_crc_middle(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	const uint64_t off = 256 + 100 * FRAME_SPAN; /* seq 100 */

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 1);
	flip(p, off + 4); /* the stored CRC itself */
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(count_expected(&o, 0), 100);
	CHECK_EQ_U64(o.recs[100].seq, 101);
	CHECK_EQ_U64(o.recs[998].seq, 999);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_U64(o.probs[0].kind, WT_SEGLOG_PROBLEM_FRAME);
	CHECK_EQ_U64(o.probs[0].offset, off);
	CHECK_EQ_STR(o.probs[0].msg, "frame CRC mismatch (type 1, length 304); frame skipped");
	CHECK_EQ_U64(o.probs[1].kind, WT_SEGLOG_PROBLEM_SEQ_GAP);
	CHECK_EQ_U64(o.probs[1].offset, off + FRAME_SPAN);
	readout_free(&o);

	/* A damaged length: the CRC fails, the skip lands inside the next
	 * frame (seq 101), whose low seq bytes are a garbage word; the reader
	 * resynchronises at seq 102. */
	flip(p, off + 4);      /* repair */
	uint8_t len_lo = 0x31; /* length 305 */
	poke(p, off, &len_lo, 1);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 998);
	CHECK_EQ_U64(o.recs[100].seq, 102);
	CHECK_EQ_U64(o.nprobs, 3);
	CHECK_EQ_U64(o.probs[0].kind, WT_SEGLOG_PROBLEM_FRAME);
	CHECK_EQ_U64(o.probs[1].kind, WT_SEGLOG_PROBLEM_FRAME);
	CHECK_EQ_U64(o.probs[1].offset, off + 320);
	CHECK_EQ_STR(o.probs[1].msg, "bad frame header word 0x00000065 (torn or corrupt); 304 "
	                             "bytes skipped to the next good frame at offset 32080");
	CHECK_EQ_U64(o.probs[2].kind, WT_SEGLOG_PROBLEM_SEQ_GAP);
	CHECK_EQ_STR(o.probs[2].msg, "seq gap: expected 100, found 102 (2 records missing)");
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A garbage or zeroed word in the middle of a sealed segment: the reader
 * resynchronises at the next frame; only that record is lost. */
static void
test_bad_word_middle(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	const uint64_t off = 256 + 100 * FRAME_SPAN; /* seq 100 */
	uint8_t saved[4];
	static const uint8_t zero[4];

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 1);
	peek(p, off, saved, 4);
	uint8_t hi = saved[3] & 0x7f; /* commit bit off */
	poke(p, off + 3, &hi, 1);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(count_expected(&o, 0), 100);
	CHECK_EQ_U64(o.recs[100].seq, 101);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_STR(o.probs[0].msg, "bad frame header word 0x01000130 (torn or corrupt); 312 "
	                             "bytes skipped to the next good frame at offset 31768");
	CHECK_EQ_U64(o.probs[1].kind, WT_SEGLOG_PROBLEM_SEQ_GAP);
	readout_free(&o);

	poke(p, off, zero, 4);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 999);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_U64(o.probs[0].offset, off);
	CHECK_EQ_STR(o.probs[0].msg, "zero frame word before the sealed end offset 65464; 312 "
	                             "bytes skipped to the next good frame at offset 31768");
	CHECK_EQ_U64(o.probs[1].kind, WT_SEGLOG_PROBLEM_SEQ_GAP);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* Recovery steps over a damaged frame too: the recovered seal covers the
 * records after it, and the reader agrees with the seal. */
static void
test_recover_over_bad_word(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	const uint64_t off = 256 + 32 * FRAME_SPAN; /* seq 450 in segment 3 */
	uint8_t garbage[4] = {0x11, 0x22, 0x33, 0x44};

	tmpdir_make(dir, sizeof(dir));
	crash_child(dir, 500);
	seg_path(p, sizeof(p), dir, 3);
	poke(p, off, garbage, 4);
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_recovered_records(w), 81);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 500);
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	struct wt_seg_header h = header_of(p);
	CHECK_EQ_U64(h.end_offset, 256 + 82 * FRAME_SPAN);
	CHECK_EQ_U64(h.last_seq, 499);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 500);
	CHECK_EQ_U64(o.recs[450].seq, 451);
	CHECK_EQ_U64(o.recs[499].seq, 500);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_FRAME), 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_SEQ_GAP), 1);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A deleted middle segment: seq gap and numbering gap. */
static void
test_seq_gap(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 1000);
	seg_path(p, sizeof(p), dir, 2);
	CHECK(unlink(p) == 0);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 791);
	CHECK_EQ_U64(o.nprobs, 2);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_SEGNO), 1);
	CHECK_EQ_U64(nprob(&o, WT_SEGLOG_PROBLEM_SEQ_GAP), 1);
	readout_free(&o);

	/* Same directory given twice: every record a duplicate. */
	const char *twice[2] = {dir, dir};
	read_paths(twice, 2, &o);
	CHECK_EQ_U64(o.nrecs, 1582);
	CHECK_EQ_U64(o.st.problems, 2 + 1 + 209 + 1 + 582); /* pass 1: segno, gap; pass 2 */
	CHECK_EQ_U64(o.probs[2].kind, WT_SEGLOG_PROBLEM_SEGNO);
	CHECK_EQ_STR(o.probs[2].msg, "segment number 1 follows segment 5");
	CHECK_EQ_U64(o.probs[3].kind, WT_SEGLOG_PROBLEM_SEQ_DUP);
	CHECK_EQ_STR(o.probs[3].msg, "seq duplicate or out of order: expected 1000, found 0");
	readout_free(&o);
	tmpdir_remove(dir);
}

/* Stats frames and frames of unknown future types. */
static void
test_stats_and_unknown(void)
{
	char dir[64], p[PATH_MAX];
	struct readout o;
	static const char text[] = "rx_packets=10\nnot_ip=2\n";

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(wt_seglog_append_frame(w, 9, "future bytes!", 13), 0);
	CHECK_EQ_U64(wt_seglog_append_stats(w, text, strlen(text)), 0);
	CHECK_EQ_U64(append_n(w, 1), 1);
	CHECK_EQ_U64(wt_seglog_append_frame(w, 0, "x", 1), -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_frame(w, WT_SEGLOG_FRAME_RECORD, "x", 1), -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_frame(w, 16, "x", 1), -EINVAL); /* typed: sequenced */
	CHECK_EQ_U64(wt_seglog_append_stats(w, text, SMALL_SEG), -EMSGSIZE);
	CHECK_EQ_U64(wt_seglog_append_stats(w, text, 1u << 24), -EMSGSIZE);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 2);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	seg_path(p, sizeof(p), dir, 1);
	struct wt_seg_header h = header_of(p);
	CHECK_EQ_U64(h.frame_count, 4);
	CHECK_EQ_U64(h.record_count, 2);
	/* 312 + (8 + 16) + (8 + 24) + 312 */
	CHECK_EQ_U64(h.end_offset, 256 + 312 + 24 + 32 + 312);

	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 2);
	CHECK_EQ_U64(count_expected(&o, 0), 2);
	CHECK_EQ_U64(o.st.frames, 4);
	CHECK_EQ_U64(o.st.unknown_frames, 1);
	CHECK_EQ_U64(o.st.stats_frames, 1);
	CHECK_EQ_STR(o.stats_text, text);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* Typed records (format 1.2): one gap-free sequence with the call records,
 * their bytes after the seq kept, read back with their seq; counted in the
 * seal; recovered after a crash; a restart continues the sequence. */
struct ev {
	uint64_t seq;
	uint32_t kind, n;
	uint8_t data[40];
};

static void
test_typed_records(void)
{
	char dir[64], p[PATH_MAX];
	struct wt_seglog_frame f;
	uint64_t seq = 99;

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	struct ev e = {.seq = 12345};
	CHECK_EQ_U64(wt_seglog_append_typed(w, 15, &e, sizeof(e), &seq), -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_typed(w, 128, &e, sizeof(e), &seq), -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_typed(w, WT_SEGLOG_FRAME_RECORD, &e, sizeof(e), &seq),
	             -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_typed(w, 20, &e, 7, &seq), -EINVAL);
	CHECK_EQ_U64(wt_seglog_append_typed(w, 20, &e, SMALL_SEG, &seq), -EMSGSIZE);
	CHECK_EQ_U64(seq, 99);
	CHECK_EQ_U64(wt_seglog_next_seq(w), 0);
	/* 3 call records, then 1000 typed records of two types (every 10th a
	 * call record), spanning segments */
	CHECK_EQ_U64(append_n(w, 3), 3);
	uint64_t calls = 3, typed = 0;
	for (uint32_t i = 0; i < 1000; i++) {
		if (i % 10 == 9) {
			struct wt_callrec r;
			make_rec(&r, 0);
			CHECK_EQ_U64(wt_seglog_append(w, &r), 0);
			calls++;
			continue;
		}
		e.seq = 777; /* replaced by the writer, not in the caller's copy */
		e.kind = 20 + i % 2;
		e.n = i;
		memset(e.data, (int)(i & 0xff), sizeof(e.data));
		CHECK_EQ_U64(wt_seglog_append_typed(w, 20 + i % 2, &e, 8 + 8 + i % 41, &seq), 0);
		CHECK_EQ_U64(seq, calls + typed);
		CHECK_EQ_U64(e.seq, 777);
		typed++;
	}
	CHECK_EQ_U64(wt_seglog_next_seq(w), calls + typed);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	seg_path(p, sizeof(p), dir, 1);
	struct wt_seg_header h = header_of(p);
	CHECK_EQ_U64(h.minor, 2);

	/* read back: seq, type, length and bytes of every typed record */
	const char *paths[1] = {dir};
	struct wt_seglog_reader_conf conf = {.paths = paths, .npaths = 1};
	char err[256];
	struct wt_seglog_reader *r = wt_seglog_reader_open(&conf, err, sizeof(err));
	CHECK(r != NULL);
	uint64_t next = 0, bad = 0, nt = 0;
	uint32_t i = 0;
	while (r != NULL && wt_seglog_reader_next(r, &f) == 1) {
		bad += f.seq != next++;
		if (f.type == WT_SEGLOG_FRAME_RECORD) {
			if (next > 4)
				i++; /* a call record took the place of typed record i */
			continue;
		}
		struct ev got;
		memset(&got, 0, sizeof(got));
		memcpy(&got, f.payload, f.len < sizeof(got) ? f.len : sizeof(got));
		bad += f.type != 20 + i % 2 || f.len != 8 + 8 + i % 41 || got.seq != f.seq ||
		       got.n != i || got.kind != 20 + i % 2;
		for (uint32_t k = 0; k + 16 < f.len; k++)
			bad += got.data[k] != (uint8_t)i;
		nt++;
		i++;
	}
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(nt, typed);
	if (r != NULL) {
		const struct wt_seglog_read_stats *st = wt_seglog_reader_stats(r);
		CHECK_EQ_U64(st->typed_records, typed);
		CHECK_EQ_U64(st->records, calls);
		CHECK_EQ_U64(st->last_seq, calls + typed - 1);
		CHECK_EQ_U64(st->problems, 0); /* the seals count the typed records */
	}
	wt_seglog_reader_close(r);

	/* a crash with typed records in the open segment: recovered, counted */
	pid_t pid = fork();
	if (pid == 0) {
		struct wt_seglog_writer *cw = open_writer(dir, SMALL_SEG);
		for (uint32_t k = 0; cw != NULL && k < 50; k++)
			if (wt_seglog_append_typed(cw, 30, &e, sizeof(e), NULL) != 0)
				_exit(1);
		_exit(cw != NULL ? 0 : 1); /* no close: the segment stays open */
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	w = open_writer(dir, SMALL_SEG);
	CHECK(w != NULL);
	CHECK_EQ_U64(wt_seglog_recovered_records(w), 50);
	CHECK_EQ_U64(wt_seglog_next_seq(w), calls + typed + 50);
	CHECK_EQ_U64(wt_seglog_append_typed(w, 31, &e, sizeof(e), &seq), 0);
	CHECK_EQ_U64(seq, calls + typed + 50);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	struct readout o;
	read_dir(dir, &o);
	CHECK_EQ_U64(o.st.typed_records, typed + 51);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A segment of a newer major version: a read error, not damage; the
 * writer will not continue such a log. */
static void
test_newer_version(void)
{
	char dir[64], p[PATH_MAX], err[256];
	struct readout o;
	uint16_t major = 2;

	tmpdir_make(dir, sizeof(dir));
	write_log(dir, SMALL_SEG, 400);
	seg_path(p, sizeof(p), dir, 2);
	poke(p, WT_SEG_H_MAJOR, &major, 2);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 209);
	CHECK_EQ_U64(o.st.errors, 1);
	CHECK_EQ_U64(o.st.problems, 0);
	CHECK_EQ_U64(o.probs[0].kind, WT_SEGLOG_PROBLEM_VERSION);
	CHECK_EQ_STR(o.probs[0].msg,
	             "segment format version 2.2 not supported (this reader reads 1.x)");
	readout_free(&o);
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = SMALL_SEG};
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, ENOTSUP);
	tmpdir_remove(dir);
}

/* Bad configurations, a second writer, reader open errors. */
static void
test_errors(void)
{
	char dir[64], p[PATH_MAX], err[256];
	struct wt_seglog_conf conf = {.segment_size = 1000};
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	conf.dir = dir;
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	conf.segment_size = SMALL_SEG + 8;
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	conf.segment_size = SMALL_SEG;
	conf.dir = "/nonexistent/wt-seglog";
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, ENOENT);
	CHECK_EQ_STR(err, "/nonexistent/wt-seglog: cannot open log directory: No such file or "
	                  "directory");
	CHECK(wt_seglog_open(NULL, NULL, 0) == NULL);
	CHECK_EQ_U64(errno, EINVAL);

	conf.dir = dir;
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	CHECK(w != NULL);
	CHECK(wt_seglog_open(&conf, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EBUSY);
	CHECK(strstr(err, "in use by another writer") != NULL);
	CHECK_EQ_U64(wt_seglog_flush(w), 0); /* nothing to flush yet */
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(wt_seglog_close(NULL), 0);
	wt_seglog_reader_close(NULL);

	/* Reader: empty directory, missing path, not a segment, no path. */
	read_dir(dir, &o);
	CHECK_EQ_U64(o.open_errno, ENOENT);
	CHECK(strstr(o.err, "no segments found") != NULL);
	read_dir("/nonexistent/wt-seglog", &o);
	CHECK_EQ_U64(o.open_errno, ENOENT);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	CHECK(write(fd, "hello, world\n", 13) == 13);
	close(fd);
	const char *one = p;
	read_paths(&one, 1, &o);
	CHECK_EQ_U64(o.open_errno, EBADMSG);
	CHECK(strstr(o.err, "not a wiretally segment") != NULL);
	read_paths(NULL, 0, &o);
	CHECK_EQ_U64(o.open_errno, EINVAL);
	unlink(p);

	/* A crash during creation leaves a temporary file: it is not a
	 * segment to readers, and the next creation replaces it. */
	write_log(dir, SMALL_SEG, 1);
	snprintf(p, sizeof(p), "%s/.seg-00000000000000000002.wts.tmp", dir);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	close(fd);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 1);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	write_log(dir, SMALL_SEG, 1);
	CHECK(access(p, F_OK) != 0);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 2);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);
	tmpdir_remove(dir);
}

/* A reader in the same process as a live writer sees every committed
 * record of the open segment. */
static void
test_live_read(void)
{
	char dir[64];
	struct readout o;

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(append_n(w, 400), 400);
	expect_clean_log(dir, 400);
	CHECK_EQ_U64(append_n(w, 1), 1);
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, 401);
	readout_free(&o);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	tmpdir_remove(dir);
}

/* The record frame of docs/FORMAT.md's worked example, byte for byte. */
static const char example_hex[] = "30010081e5a7ec0c0000000000000000" /* 0000 */
                                  "efcdab89674523010200000000000001" /* 0010 */
                                  "15cd853dfe9c971700cac471fe9c9717" /* 0020 */
                                  "0a000002000000000000000000000000" /* 0030 */
                                  "0a000001000000000000000000000000" /* 0040 */
                                  "5000409c0000060402011b1303020000" /* 0050 */
                                  "00000202000000000100000000000000" /* 0060 */
                                  "0500000000000000e803000000000000" /* 0070 */
                                  "b004000000000000640000004d040000" /* 0080 */
                                  "04000000000000004d00000000000000" /* 0090 */
                                  "ed0000000000000000286bee4e286bee" /* 00a0 */
                                  "e803000000000000e803000000000000" /* 00b0 */
                                  "00000000000000000000000000000000" /* 00c0 */
                                  "4d000000000000004d00000000000000" /* 00d0 */
                                  "00000000000000000000000000000000" /* 00e0 */
                                  "6500000001286bee1f00000000000000" /* 00f0 */
                                  "00000000000000000000000000000000" /* 0100 */
                                  "00000000000000000000000000000000" /* 0110 */
                                  "00000000000000000000000000000000" /* 0120 */
                                  "0000000000000000" /* 0130 */;

static void
test_format_example(void)
{
	char dir[64], p[PATH_MAX], hex[2 * FRAME_SPAN + 1];
	uint8_t frame[FRAME_SPAN];
	struct wt_callrec r;

	memset(&r, 0, sizeof(r));
	r.call_id[0] = 0x0123456789abcdefull;
	r.call_id[1] = 0x0100000000000002ull;
	r.start_ns = 1700000000123456789ull;
	r.end_ns = 1700000001000000000ull;
	memcpy(r.addr_a, "\x0a\x00\x00\x02", 4);
	memcpy(r.addr_b, "\x0a\x00\x00\x01", 4);
	r.port_a = 80;
	r.port_b = 40000;
	r.proto = 6;
	r.family = 4;
	r.origin = WT_ORIGIN_B;
	r.end_reason = WT_END_IDLE;
	r.flags[0] = WT_TCP_SYN | WT_TCP_ACK | WT_TCP_FIN | WT_TCP_PSH;
	r.flags[1] = WT_TCP_SYN | WT_TCP_ACK | WT_TCP_FIN;
	r.seq_valid = WT_SEQ_VALID_A | WT_SEQ_VALID_B;
	memcpy(r.mac_a, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(r.mac_b, "\x02\x00\x00\x00\x00\x01", 6);
	r.d[0] = (struct wt_dirstats){
	        .pkts = 5, .bytes = 1000, .ip_bytes = 1200, .first_seq = 100, .last_seq = 1101};
	r.d[1] = (struct wt_dirstats){.pkts = 4,
	                              .bytes = 77,
	                              .ip_bytes = 237,
	                              .first_seq = 4000000000u,
	                              .last_seq = 4000000078u};
	r.t[0] = (struct wt_tcpstats){.seq_bytes = 1000, .acked_bytes = 1000};
	r.t[1] = (struct wt_tcpstats){.seq_bytes = 77, .acked_bytes = 77};
	r.tcp_base[0] = 101;
	r.tcp_base[1] = 4000000001u;
	r.tcp_valid =
	        WT_TCP_VALID | WT_TCP_ACKED_A | WT_TCP_ACKED_B | WT_TCP_BASE_A | WT_TCP_BASE_B;

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_writer(dir, SMALL_SEG);
	CHECK_EQ_U64(wt_seglog_append(w, &r), 0);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	seg_path(p, sizeof(p), dir, 1);
	peek(p, 256, frame, sizeof(frame));
	for (size_t i = 0; i < sizeof(frame); i++)
		snprintf(hex + 2 * i, 3, "%02x", frame[i]);
	CHECK_EQ_STR(hex, example_hex);
	tmpdir_remove(dir);
}

/* The frames' CRC is the standard CRC-32C: its check value (FORMAT.md's
 * preamble), whole and continued across two calls, and of nothing. */
static void
test_crc_check_value(void)
{
	CHECK_EQ_U64(wt_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ_U64(wt_crc32c(wt_crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	CHECK_EQ_U64(wt_crc32c(0, "", 0), 0);
}

WT_TEST_MAIN(WT_TEST(test_crc_check_value), WT_TEST(test_round_trip), WT_TEST(test_default_size),
             WT_TEST(test_reopen), WT_TEST(test_crash_exit), WT_TEST(test_crash_sigkill),
             WT_TEST(test_torn_last_sealed), WT_TEST(test_torn_last_unsealed),
             WT_TEST(test_corrupt_header_middle), WT_TEST(test_zeroed_seal_middle),
             WT_TEST(test_corrupt_crc_middle), WT_TEST(test_bad_word_middle),
             WT_TEST(test_recover_over_bad_word), WT_TEST(test_seq_gap),
             WT_TEST(test_stats_and_unknown), WT_TEST(test_typed_records),
             WT_TEST(test_newer_version), WT_TEST(test_errors), WT_TEST(test_live_read),
             WT_TEST(test_format_example))
