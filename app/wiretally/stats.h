/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.h: the monitor's counters across lcores: summary, stats frame, telemetry, progress. */
#ifndef WT_STATS_H
#define WT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "monitor.h"

struct wt_totals {
	struct wt_rx_stats rx;
	struct wt_calltab_stats tab;
	struct wt_frag_stats frag;
};

/** Sum of every RX lcore's counters (racy reads while running: for display). */
void wt_totals_get(const struct wt_pipeline *pl, struct wt_totals *t);

/** "name=value\n" lines of every counter, for the log's stats frame. */
size_t wt_stats_text(const struct wt_pipeline *pl, uint64_t run_id, char *buf, size_t len);

/** The exit summary on stderr: received = in records + each drop reason. */
void wt_summary_print(const struct wt_pipeline *pl);

/** Register /wiretally/stats and /wiretally/lcores. @return 0 or -errno. */
int wt_telemetry_init(const struct wt_pipeline *pl);

struct wt_progress {
	int enabled;
	uint64_t last_ns, last_pkts, last_bytes;
};

/** Print the one-line progress display on stderr, once a second (or @final). */
void wt_progress_tick(struct wt_progress *pg, const struct wt_pipeline *pl, uint64_t now_ns,
                      int final);

#endif /* WT_STATS_H */
