/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_seglog.c: append and read rate of log segments, append latency, archiver throughput. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wt_seglog.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Latency buckets: < 1 us, < 10 us, < 100 us, < 1 ms, < 10 ms, more. */
#define NBUCKET 6
static const char *const bucket_name[NBUCKET] = {"<1us", "<10us", "<100us",
                                                 "<1ms", "<10ms", ">=10ms"};

static int
bucket(uint64_t ns)
{
	int b = 0;

	for (uint64_t lim = 1000; b < NBUCKET - 1 && ns >= lim; lim *= 10)
		b++;
	return b;
}

/*
 * bench_seglog DIR [RECORDS [SEGMENT_SIZE [SPOOL_DIR [SPOOL_SEGMENTS]]]]
 * DIR (and SPOOL_DIR) should be empty. Every call to wt_seglog_append() is
 * timed (two clock_gettime calls, ~40 ns, are included in the rate): the
 * latency of one call is what the export lcore cannot avoid. A call
 * refused with -EAGAIN (spool full: the archive disk is slower than this
 * loop) is retried after 20 us (an export lcore would poll its rings
 * meanwhile, on its own core; spinning here would take the CPU from the
 * archiver on a small machine); the time from the first try to the success
 * is reported apart, as back-pressure stall.
 */
int
main(int argc, char **argv)
{
	char err[512];
	struct wt_callrec r;
	struct wt_seglog_frame f;
	struct wt_seglog_stats st;
	uint64_t hist[2][NBUCKET] = {{0}}, worst[2] = {0}, refused = 0, stall = 0, stall_worst = 0;

	if (argc < 2 || argc > 6) {
		fprintf(stderr, "usage: bench_seglog DIR [RECORDS [SEGMENT_SIZE [SPOOL_DIR "
		                "[SPOOL_SEGMENTS]]]]\n");
		return 1;
	}
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 10000000;
	struct wt_seglog_conf conf = {
	        .dir = argv[1],
	        .segment_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
	        .run_id = 1,
	        .spool_dir = argc > 4 ? argv[4] : NULL,
	        .spool_segments = argc > 5 ? (unsigned int)strtoul(argv[5], NULL, 0) : 0,
	};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "bench_seglog: %s\n", err);
		return 1;
	}
	uint64_t seg_size = conf.segment_size ? conf.segment_size : WT_SEGLOG_DEFAULT_SEGMENT_SIZE;
	const uint64_t per_seg = (seg_size - 256) / 176;
	memset(&r, 0, sizeof(r));
	r.proto = 6;
	r.family = 4;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		r.start_ns = i;
		r.d[0].pkts = i;
		uint64_t first = now_ns(), a = first, d;
		int rc;
		/* Calls that rolled (or were refused at a roll) apart from the others. */
		int roll = i % per_seg == 0;
		for (;;) {
			rc = wt_seglog_append(w, &r);
			uint64_t b = now_ns();
			d = b - a;
			hist[roll][bucket(d)]++;
			if (d > worst[roll])
				worst[roll] = d;
			if (rc != -EAGAIN)
				break;
			refused++;
			roll = 1;
			nanosleep(&(struct timespec){0, 20000}, NULL);
			a = now_ns();
		}
		if (a != first) {
			stall += a + d - first;
			if (a + d - first > stall_worst)
				stall_worst = a + d - first;
		}
		if (rc != 0) {
			fprintf(stderr, "bench_seglog: append %" PRIu64 ": %s\n", i, strerror(-rc));
			return 1;
		}
	}
	uint64_t t1 = now_ns();
	wt_seglog_writer_stats(w, &st);
	uint64_t segs = st.segments_created;
	int rc = wt_seglog_close(w);
	uint64_t t2 = now_ns();
	if (rc != 0) {
		fprintf(stderr, "bench_seglog: close: %s\n", strerror(-rc));
		return 1;
	}
	double secs = (double)(t1 - t0) * 1e-9;
	printf("mode: %s%s\n", conf.spool_dir ? "spool " : "direct",
	       conf.spool_dir ? conf.spool_dir : "");
	printf("append: %" PRIu64 " records in %.3f s = %.2f M records/s (%.1f ns/record), "
	       "%" PRIu64 " segments of %" PRIu64 " bytes, close %.3f s\n",
	       n, secs, (double)n / secs / 1e6, secs * 1e9 / (double)n, segs, seg_size,
	       (double)(t2 - t1) * 1e-9);
	for (int roll = 0; roll < 2; roll++) {
		printf("call latency %-9s worst %8.1f us;", roll ? "(rolls)" : "(others)",
		       (double)worst[roll] / 1e3);
		for (int b = 0; b < NBUCKET; b++)
			printf(" %s %" PRIu64, bucket_name[b], hist[roll][b]);
		printf("\n");
	}
	if (conf.spool_dir) {
		printf("back-pressure: %" PRIu64 " calls refused (-EAGAIN, retried), stall %.3f s "
		       "in total, worst %.1f ms\n",
		       refused, (double)stall * 1e-9, (double)stall_worst * 1e-6);
		printf("spool: %" PRIu64 " fallback segments; seals on the writer's thread %" PRIu64
		       ", by the archiver %" PRIu64 " (before close)\n",
		       st.fallback_segments, st.seals_sync, st.seals_async);
		if (st.bytes_archived)
			printf("archiver: %.0f MB/s while archiving (%" PRIu64
			       " MB copied and synced in %.3f s)\n",
			       (double)st.bytes_archived * 1e3 / (double)st.archive_ns,
			       st.bytes_archived >> 20, (double)st.archive_ns * 1e-9);
		else
			printf("archiver: %" PRIu64 " segments synced and moved in %.3f s\n",
			       st.segments_archived, (double)st.archive_ns * 1e-9);
	} else {
		printf("direct: seals on the writer's thread %" PRIu64 "\n", st.seals_sync);
	}
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
	t0 = now_ns();
	while (wt_seglog_reader_next(rd, &f) == 1)
		got += wt_seglog_frame_record(&f, &r) == 0;
	t1 = now_ns();
	secs = (double)(t1 - t0) * 1e-9;
	const struct wt_seglog_read_stats *rst = wt_seglog_reader_stats(rd);
	printf("read: %" PRIu64 " records in %.3f s = %.2f M records/s, %" PRIu64
	       " problems (page cache warm)\n",
	       got, secs, (double)got / secs / 1e6, rst->problems + rst->errors);
	wt_seglog_reader_close(rd);
	return got == n && rst->problems + rst->errors == 0 ? 0 : 1;
}
