/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_zstd.c: compressed segments (FORMAT.md 3.2): written in direct and spool mode, read
 * back byte for byte, resumed after, damage found. */
#include <sys/wait.h>

#include "seglog_testlib.h"

static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

static struct wt_seglog_writer *
open_zstd(const char *dir, const char *spool, int level)
{
	char err[512];
	struct wt_seglog_conf conf = {.dir = dir,
	                              .segment_size = SMALL_SEG,
	                              .run_id = 42,
	                              .spool_dir = spool,
	                              .retry_ms = 10,
	                              .compress_level = level};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));

	if (w == NULL)
		fprintf(stderr, "wt_seglog_open: %s\n", err);
	return w;
}

static uint64_t
file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int
is_compressed(const char *path)
{
	uint8_t m[4] = {0};
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = pread(fd, m, sizeof(m), 0);
	close(fd);
	return n == 4 && memcmp(m, zstd_magic, 4) == 0;
}

/* `zstd -d` of a compressed segment gives the segment's bytes [0, end_offset)
 * (an independent decoder: the zstd command). @return its length or -1. */
static long
zstd_cli_length(const char *path)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "zstd -dcq '%s' | wc -c", path);
	FILE *p = popen(cmd, "r");
	long n = -1;
	if (p == NULL)
		return -1;
	if (fscanf(p, "%ld", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* Direct mode: every sealed segment is stored compressed, the reader gives
 * every record byte for byte, `zstd -d` agrees with the seal, and a writer
 * reopened on the directory continues after a compressed last segment. */
static void
test_direct(const char *dir)
{
	char p[PATH_MAX];
	const uint64_t n = 5 * PER_SMALL_SEG + 17; /* 6 segments, the last partly used */
	struct wt_seglog_writer *w = open_zstd(dir, NULL, 1);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(append_n(w, n), n);
	CHECK_EQ_U64(wt_seglog_close(w), 0);

	uint64_t stored = 0;
	for (uint64_t s = 1; s <= 6; s++) {
		seg_path(p, sizeof(p), dir, s);
		CHECK_EQ_U64(is_compressed(p), 1);
		stored += file_size(p);
		uint64_t frames = s < 6 ? PER_SMALL_SEG : 17 + 0; /* records only */
		long len = zstd_cli_length(p);
		/* the seal's end offset: header + frames (+ a stats frame: none here) */
		CHECK_EQ_U64((uint64_t)len, WT_SEG_HEADER_SIZE + frames * FRAME_SPAN);
	}
	/* make_rec's records are alike: far under the 312 bytes of a frame */
	CHECK(stored < n * 128);
	fprintf(stderr,
	        "  direct: %llu records in %llu bytes of compressed segments (%.1f per "
	        "record)\n",
	        (unsigned long long)n, (unsigned long long)stored, (double)stored / (double)n);
	struct readout o;
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, n);
	CHECK_EQ_U64(count_expected(&o, 0), n);
	CHECK_EQ_U64(o.st.segments, 6);
	CHECK_EQ_U64(o.st.compressed, 6);
	CHECK_EQ_U64(o.nprobs, 0);
	readout_free(&o);

	/* Resume: numbering and seq continue after the compressed last one. */
	w = open_zstd(dir, NULL, 1);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(wt_seglog_next_seq(w), n);
	CHECK_EQ_U64(append_n(w, 10), 10);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	seg_path(p, sizeof(p), dir, 7);
	CHECK_EQ_U64(is_compressed(p), 1);
	expect_clean_log(dir, n + 10);
}

/* Damage: a flipped byte inside a compressed segment (zstd's checksum finds
 * it) and a truncated one are each reported with their file; every record
 * of the other segments is still read. */
static void
test_damage(const char *dir)
{
	char p2[PATH_MAX], p4[PATH_MAX];
	const uint64_t n = 5 * PER_SMALL_SEG;
	struct wt_seglog_writer *w = open_zstd(dir, NULL, 3);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(append_n(w, n), n);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	seg_path(p2, sizeof(p2), dir, 2);
	seg_path(p4, sizeof(p4), dir, 4);
	flip(p2, file_size(p2) / 2);
	CHECK(truncate(p4, (off_t)(file_size(p4) - 9)) == 0);

	struct readout o;
	read_dir(dir, &o);
	CHECK_EQ_U64(o.nrecs, n - 2 * PER_SMALL_SEG);
	CHECK_EQ_U64(o.nprobs >= 2, 1);
	int said2 = 0, said4 = 0;
	for (size_t i = 0; i < o.nprobs; i++) {
		said2 |= strcmp(o.probs[i].path, p2) == 0 && strstr(o.probs[i].msg, "compressed");
		said4 |= strcmp(o.probs[i].path, p4) == 0 && strstr(o.probs[i].msg, "compressed");
	}
	CHECK(said2);
	CHECK(said4);
	/* records 0..208 (segment 1), then segment 3, then segment 5 */
	CHECK_EQ_U64(o.recs[0].seq, 0);
	CHECK_EQ_U64(o.recs[PER_SMALL_SEG].seq, 2 * PER_SMALL_SEG);
	CHECK_EQ_U64(o.recs[2 * PER_SMALL_SEG].seq, 4 * PER_SMALL_SEG);
	readout_free(&o);

	/* A writer does not continue after a damaged last segment it cannot
	 * read: it says so (an operator moves it aside). */
	char p5[PATH_MAX], err[512];
	seg_path(p5, sizeof(p5), dir, 5);
	CHECK(truncate(p5, 100) == 0);
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = SMALL_SEG, .compress_level = 1};
	w = wt_seglog_open(&conf, err, sizeof(err));
	CHECK(w == NULL);
	CHECK(strstr(err, "seg-00000000000000000005.wts") != NULL &&
	      strstr(err, "move it aside") != NULL);
	wt_seglog_close(w);
}

/* Spool mode, spool and archive on one file system (where an uncompressed
 * archive is a rename): the archiver stores compressed copies; spool and
 * archive read together give every record once, before and after. */
static void
test_spool(const char *dir)
{
	char spool[128], arch[128];
	snprintf(spool, sizeof(spool), "%.64s/spool", dir);
	snprintf(arch, sizeof(arch), "%.64s/log", dir);
	CHECK(mkdir(spool, 0755) == 0 && mkdir(arch, 0755) == 0);
	const uint64_t n = 6 * PER_SMALL_SEG + 5;
	struct wt_seglog_writer *w = open_zstd(arch, spool, 1);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(append_n_retry(w, n), n);
	wait_archived(w);
	expect_clean_spool(spool, arch, n); /* while running: some archived, some spooled */
	struct wt_seglog_stats st = stats_of(w);
	CHECK(st.bytes_stored > 0 && st.bytes_stored * 4 < st.bytes_raw);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	char p[PATH_MAX];
	for (uint64_t s = 1; s <= 7; s++) {
		seg_path(p, sizeof(p), arch, s);
		CHECK_EQ_U64(is_compressed(p), 1);
	}
	CHECK_EQ_U64(count_entries(spool), 0);
	expect_clean_log(arch, n);
	tmpdir_remove(spool);
	tmpdir_remove(arch);
}

int
main(void)
{
	static void (*const tests[])(const char *) = {test_direct, test_damage, test_spool};
	static const char *const names[] = {"test_direct", "test_damage", "test_spool"};

	if (system("zstd --version >/dev/null 2>&1") != 0) {
		printf("SKIP seglog-zstd: the zstd command is not installed\n");
		return 77;
	}
	for (size_t i = 0; i < WT_ARRAY_SIZE(tests); i++) {
		char dir[64];
		int failed = wt_test_failures;
		tmpdir_make(dir, sizeof(dir));
		tests[i](dir);
		tmpdir_remove(dir);
		printf("%s %s\n", wt_test_failures == failed ? "ok  " : "FAIL", names[i]);
	}
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	return wt_test_failures ? 1 : 0;
}
