/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_mklog.c: test helper that writes a log directory of known records for the CLI tests. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seglog_testutil.h"
#include "wt_seglog.h"

/* wt_mklog DIR COUNT [SEGMENT_SIZE [MODE[,MODE...]]]
 * Appends COUNT records made by make_rec(k), k counting on from the log's
 * next seq. MODE "crash" exits without closing (the last segment stays
 * unsealed, a spool keeps what was not archived yet); "stats" appends a
 * stats frame before closing; "spool=SPOOL" writes in spool mode with the
 * spool directory SPOOL (appends refused while the archiver catches up are
 * retried). */
int
main(int argc, char **argv)
{
	char err[512], modes[512] = "";

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: wt_mklog DIR COUNT [SEGMENT_SIZE [MODE[,MODE...]]]\n");
		return 1;
	}
	if (argc > 4)
		snprintf(modes, sizeof(modes), "%s", argv[4]);
	int crash = 0, stats = 0;
	const char *spool = NULL;
	for (char *save = NULL, *m = strtok_r(modes, ",", &save); m != NULL;
	     m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, "crash") == 0)
			crash = 1;
		else if (strcmp(m, "stats") == 0)
			stats = 1;
		else if (strncmp(m, "spool=", 6) == 0)
			spool = m + 6;
	}
	struct wt_seglog_conf conf = {
	        .dir = argv[1],
	        .segment_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
	        .run_id = 0x1122334455667788ull,
	        .spool_dir = spool,
	};
	uint64_t n = strtoull(argv[2], NULL, 0);
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "wt_mklog: %s\n", err);
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct wt_callrec r;
		make_rec(&r, wt_seglog_next_seq(w));
		int rc;
		while ((rc = wt_seglog_append(w, &r)) == -EAGAIN)
			usleep(1000);
		if (rc != 0) {
			fprintf(stderr, "wt_mklog: append: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (crash)
		_exit(0);
	if (stats) {
		static const char text[] = "rx_packets=12345\nnot_ip=7\nrecords=42\n";
		if (wt_seglog_append_stats(w, text, sizeof(text) - 1) != 0)
			return 1;
	}
	int rc = wt_seglog_close(w);
	if (rc != 0) {
		fprintf(stderr, "wt_mklog: close: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
