/* SPDX-License-Identifier: BSD-3-Clause */
/* follow.h: --follow, tailing a log being written: polling, flushing, stopping on a signal.
 * Shared by wiretally-read (the monitor's log) and wiretally-report (the agent's trace log). */
#ifndef WTR_FOLLOW_H
#define WTR_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "wt_seglog.h"

/* How often the log is looked at when everything written was read. */
#define WTR_FOLLOW_POLL_MS 100u
/* Longest time a record read waits in the output buffer. */
#define WTR_FOLLOW_FLUSH_MS 200u

struct wtr_follow {
	const char *prog;   /* who says it on stderr ("wiretally-read") */
	const char *writer; /* what writes the log ("the monitor") */
	bool said_closed;   /* "the monitor closed the log" said, not reopened since */
	char stats_path[4096];
	uint64_t stats_offset;
	uint64_t last_flush_ns;
};

/** SIGINT and SIGTERM stop the follower (handlers without SA_RESTART). */
void wtr_follow_signals(void);

/** true once SIGINT or SIGTERM arrived. */
bool wtr_follow_stopped(void);

/** Note a stats frame (the monitor's last frame before it closes the log). */
void wtr_follow_stats_frame(struct wtr_follow *fw, const struct wt_seglog_frame *f);

/** true when output read since the last flush has waited long enough. */
bool wtr_follow_flush_due(struct wtr_follow *fw);

/**
 * Everything written so far was read (and the output flushed): say once on
 * stderr when the writer closed the log, then wait WTR_FOLLOW_POLL_MS (less
 * when a signal comes).
 */
void wtr_follow_idle(struct wtr_follow *fw, const struct wt_seglog_reader *r, bool quiet);

#endif /* WTR_FOLLOW_H */
