/* SPDX-License-Identifier: BSD-3-Clause */
/* test_seglog_enospc.c: a full disk fails segment creation with -ENOSPC and loses nothing. */
#include <sys/mount.h>

#include "seglog_testlib.h"

/* 256 KiB of tmpfs holds exactly four 64 KiB segments (tmpfs charges file
 * pages only); the fifth cannot be preallocated. */
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

int
main(void)
{
	char dir[64];

	if (geteuid() != 0) {
		fprintf(stderr, "SKIPPED: test_seglog_enospc needs root to mount a small tmpfs "
		                "(disk-full behaviour NOT tested)\n");
		return 77;
	}
	tmpdir_make(dir, sizeof(dir));
	if (mount("wt-seglog-enospc", dir, "tmpfs", 0, "size=256k") != 0) {
		fprintf(stderr,
		        "SKIPPED: cannot mount tmpfs on %s: %s (disk-full behaviour NOT "
		        "tested)\n",
		        dir, strerror(errno));
		rmdir(dir);
		return 77;
	}
	test_enospc(dir);
	tmpdir_remove(dir); /* empties the tmpfs; rmdir fails while mounted */
	if (umount(dir) != 0)
		fprintf(stderr, "umount %s: %s\n", dir, strerror(errno));
	rmdir(dir);
	printf("%s test_enospc\n%d checks, %d failed\n", wt_test_failures ? "FAIL" : "ok  ",
	       wt_test_checks, wt_test_failures);
	return wt_test_failures ? 1 : 0;
}
