/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_seglog.c: append and read rate of log segments (records per second, bytes per record). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wt_seglog.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* bench_seglog DIR [RECORDS [SEGMENT_SIZE]]: DIR should be empty. */
int
main(int argc, char **argv)
{
	char err[256];
	struct wt_callrec r;
	struct wt_seglog_frame f;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: bench_seglog DIR [RECORDS [SEGMENT_SIZE]]\n");
		return 1;
	}
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000;
	struct wt_seglog_conf conf = {
	        .dir = argv[1],
	        .segment_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
	        .run_id = 1,
	};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "bench_seglog: %s\n", err);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	r.proto = 6;
	r.family = 4;
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		r.start_ns = i;
		r.d[0].pkts = i;
		int rc = wt_seglog_append(w, &r);
		if (rc != 0) {
			fprintf(stderr, "bench_seglog: append %" PRIu64 ": %s\n", i, strerror(-rc));
			return 1;
		}
	}
	double t1 = now_s();
	uint64_t segs = wt_seglog_segments_created(w);
	int rc = wt_seglog_close(w);
	double t2 = now_s();
	if (rc != 0) {
		fprintf(stderr, "bench_seglog: close: %s\n", strerror(-rc));
		return 1;
	}
	uint64_t seg_size = conf.segment_size ? conf.segment_size : WT_SEGLOG_DEFAULT_SEGMENT_SIZE;
	printf("append: %" PRIu64 " records in %.3f s = %.2f M records/s (%.1f ns/record), "
	       "%" PRIu64 " segments of %" PRIu64 " bytes, close %.3f s\n",
	       n, t1 - t0, (double)n / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n, segs, seg_size,
	       t2 - t1);
	printf("disk: 176 bytes per record frame; %.1f bytes per record including segment headers "
	       "and the unused tail of the last segment\n",
	       (double)(segs * seg_size) / (double)n);

	const char *paths[1] = {argv[1]};
	struct wt_seglog_reader_conf rconf = {.paths = paths, .npaths = 1};
	struct wt_seglog_reader *rd = wt_seglog_reader_open(&rconf, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, "bench_seglog: %s\n", err);
		return 1;
	}
	uint64_t got = 0;
	t0 = now_s();
	while (wt_seglog_reader_next(rd, &f) == 1)
		got += wt_seglog_frame_record(&f, &r) == 0;
	t1 = now_s();
	const struct wt_seglog_read_stats *st = wt_seglog_reader_stats(rd);
	printf("read: %" PRIu64 " records in %.3f s = %.2f M records/s, %" PRIu64
	       " problems (page cache warm)\n",
	       got, t1 - t0, (double)got / (t1 - t0) / 1e6, st->problems + st->errors);
	wt_seglog_reader_close(rd);
	return got == n && st->problems + st->errors == 0 ? 0 : 1;
}
