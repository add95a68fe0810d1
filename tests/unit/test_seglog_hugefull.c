/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_hugefull.c: spool on a hugetlbfs limited to two hugepages: the writer falls back to
 * the archive directory, loses nothing. */
#include <linux/magic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "seglog_testlib.h"

#define SEG     (2u << 20)
#define PER_SEG ((SEG - 256) / FRAME_SPAN) /* 6720 */

/*
 * Four spool slots but two hugepages: two slots get spool files, the other
 * two files in the archive directory (said once, in fallback_msg). With
 * archiving held, segments 1-2 are in the spool and 3-4 in the archive,
 * read together in order; released, everything ends up in the archive and
 * later segments use the spool again as hugepages come back.
 */
static void
test_hugepages_exhausted(const char *spool)
{
	char dir[64], want[1024], p[PATH_MAX];

	tmpdir_make(dir, sizeof(dir));
	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 20);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	wt_seglog_test_pause_archiver(w, 2); /* prepares, does not archive */
	CHECK_EQ_U64(fill_spool(w, 4, 0), 4 * PER_SEG);
	struct wt_seglog_stats st = stats_of(w);
	CHECK_EQ_U64(st.fallback_segments, 2);
	CHECK_EQ_U64(st.fallback_errno, ENOSPC);
	snprintf(want, sizeof(want),
	         "spool %s: cannot allocate a 2097152-byte segment file: No space left on device "
	         "(ENOSPC), hugepages exhausted; writing segments directly to %s until the spool "
	         "can allocate again",
	         spool, dir);
	CHECK_EQ_STR(st.fallback_msg, want);
	CHECK_EQ_STR(st.archive_error, ""); /* the fallback worked: no error */
	CHECK(seg_exists(spool, 1) && seg_exists(spool, 2));
	CHECK(seg_exists(dir, 3) && seg_exists(dir, 4));
	CHECK(!seg_exists(dir, 1) && !seg_exists(spool, 3));
	seg_path(p, sizeof(p), dir, 4);
	CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_SEALED);
	expect_clean_spool(spool, dir, 4 * PER_SEG);

	wt_seglog_test_pause_archiver(w, 0);
	wait_archived(w);
	st = stats_of(w);
	CHECK_EQ_U64(st.segments_archived, 2); /* 1 and 2; 3 and 4 were synced */
	CHECK_EQ_U64(st.seals_async, 4);
	CHECK_EQ_U64(st.seals_sync, 0);
	CHECK_EQ_U64(append_n_retry(w, 6 * PER_SEG), 6 * PER_SEG);
	st = stats_of(w);
	fprintf(stderr, "  %llu of %llu segments fell back to the archive directory\n",
	        (unsigned long long)st.fallback_segments, (unsigned long long)st.segments_created);
	CHECK(st.fallback_segments >= 2 && st.fallback_segments < st.segments_created);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(count_entries(spool), 0);
	CHECK_EQ_U64(count_entries(dir), st.segments_created); /* no prepared file left */
	expect_clean_log(dir, 10 * PER_SEG);
	tmpdir_remove(dir);
}

/*
 * kill -9 while writing a fallback segment: segments 1-2 sealed in the
 * spool (not archived), 3 sealed in the archive (maybe not synced), 4 open
 * in the archive. Everything is readable; a restart archives 1-2 first,
 * then recovers 4 in place, and the log continues.
 */
static void
test_crash_in_fallback(const char *spool)
{
	char dir[64], p[PATH_MAX];
	const uint64_t n = 3 * PER_SEG + 100;
	volatile uint32_t *ready =
	        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;

	CHECK(ready != MAP_FAILED);
	tmpdir_make(dir, sizeof(dir));
	pid_t pid = fork();
	if (pid == 0) {
		struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 20);
		if (w == NULL)
			_exit(1);
		wt_seglog_test_pause_archiver(w, 2);
		if (append_n_retry(w, n) != n)
			_exit(1);
		*ready = 1;
		for (;;)
			pause();
	}
	for (int i = 0; i < 30000 && !*ready && waitpid(pid, &status, WNOHANG) == 0; i++)
		sleep_ms(1);
	CHECK(*ready);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);

	CHECK(seg_exists(spool, 1) && seg_exists(spool, 2));
	CHECK(seg_exists(dir, 3) && seg_exists(dir, 4));
	seg_path(p, sizeof(p), dir, 4);
	CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_OPEN);
	expect_clean_spool(spool, dir, n);

	struct wt_seglog_writer *w = open_spool_writer(dir, spool, SEG, 4, 20);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_EQ_U64(stats_of(w).recovered_spool, 2);
	CHECK_EQ_STR(wt_seglog_recovered_path(w), p);
	CHECK_EQ_U64(wt_seglog_recovered_records(w), 100);
	CHECK_EQ_U64(header_of(p).state, WT_SEG_STATE_RECOVERED);
	CHECK_EQ_U64(wt_seglog_next_seq(w), n);
	CHECK_EQ_U64(append_n_retry(w, 10), 10);
	CHECK_EQ_U64(wt_seglog_close(w), 0);
	CHECK_EQ_U64(count_entries(spool), 0);
	expect_clean_log(dir, n + 10);
	munmap((void *)(uintptr_t)ready, 4096);
	tmpdir_remove(dir);
}

int
main(void)
{
	char spool[64];
	struct statfs fs;

	if (statfs("/dev/hugepages", &fs) != 0 || fs.f_type != HUGETLBFS_MAGIC) {
		fprintf(stderr, "SKIPPED: no hugetlbfs on /dev/hugepages (hugepage exhaustion NOT "
		                "tested)\n");
		return 77;
	}
	int rc = mount_small(spool, sizeof(spool), "hugetlbfs", "size=4M,pagesize=2M",
	                     "hugepage exhaustion");
	if (rc != 0)
		return rc;
	static void (*const tests[])(const char *) = {test_hugepages_exhausted,
	                                              test_crash_in_fallback};
	static const char *const names[] = {"test_hugepages_exhausted", "test_crash_in_fallback"};
	for (size_t i = 0; i < WT_ARRAY_SIZE(tests); i++) {
		int failed = wt_test_failures;
		tests[i](spool);
		printf("%s %s\n", wt_test_failures == failed ? "ok  " : "FAIL", names[i]);
	}
	unmount_small(spool);
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	return wt_test_failures ? 1 : 0;
}
