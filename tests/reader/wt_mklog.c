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

/* wt_mklog DIR COUNT [SEGMENT_SIZE [crash|stats]]
 * Appends COUNT records made by make_rec(k), k counting on from the log's
 * next seq. "crash" exits without closing (the last segment stays
 * unsealed); "stats" appends a stats frame before closing. */
int
main(int argc, char **argv)
{
	char err[256];

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: wt_mklog DIR COUNT [SEGMENT_SIZE [crash|stats]]\n");
		return 1;
	}
	struct wt_seglog_conf conf = {
	        .dir = argv[1],
	        .segment_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
	        .run_id = 0x1122334455667788ull,
	};
	const char *mode = argc > 4 ? argv[4] : "";
	uint64_t n = strtoull(argv[2], NULL, 0);
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "wt_mklog: %s\n", err);
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct wt_callrec r;
		make_rec(&r, wt_seglog_next_seq(w));
		int rc = wt_seglog_append(w, &r);
		if (rc != 0) {
			fprintf(stderr, "wt_mklog: append: %s\n", strerror(-rc));
			return 1;
		}
	}
	if (strcmp(mode, "crash") == 0)
		_exit(0);
	if (strcmp(mode, "stats") == 0) {
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
