/* SPDX-License-Identifier: BSD-3-Clause */
/* logq.h: wiretally-agent's log writer thread, fed through a queue of chunks, so that a segment
 * roll never stops the ring reader. */
#ifndef WTA_LOGQ_H
#define WTA_LOGQ_H

#include <stddef.h>
#include <stdint.h>

#include "wt_seglog.h"

struct wta_logq;

struct wta_logq_stats {
	uint64_t written;    /* records the log took */
	uint64_t lost;       /* records it could not take (disk full, I/O error) or the queue
	                      * could not hold (over its limit) */
	uint64_t held_max;   /* most bytes waiting at once */
	uint64_t queue_full; /* of lost: refused because the queue was at its limit */
};

/**
 * Start the writer thread on @log (it owns the log until wta_logq_stop()).
 * At most @max_bytes wait in the queue (records past that are counted as
 * lost). @return the queue, or NULL with a reason in @err.
 */
struct wta_logq *wta_logq_start(struct wt_seglog_writer *log, uint64_t max_bytes, char *err,
                                size_t errlen);

/** Queue one typed record (@len bytes, its first 8 the seq to fill).
 * Only the thread that reads the rings. */
void wta_logq_put(struct wta_logq *q, unsigned int type, const void *rec, size_t len);

/** Hand what was queued to the writer now (after each round of reading). */
void wta_logq_flush(struct wta_logq *q);

/** Write everything queued, stop the thread, free the queue; @st its
 * counters. The log belongs to the caller again. */
void wta_logq_stop(struct wta_logq *q, struct wta_logq_stats *st);

#endif /* WTA_LOGQ_H */
