/* SPDX-License-Identifier: BSD-3-Clause */
/* stitch.h: fragment assembly (--stitch): records of one connection split by the completion scan,
 * merged. */
#ifndef WTR_STITCH_H
#define WTR_STITCH_H

#include <stdint.h>
#include <stdio.h>

#include "wt_record.h"

/* Largest sequence number jump between two fragments of one connection,
 * per direction, either way (docs/READER.md, rule R6). */
#define WTR_STITCH_SEQ_WINDOW (1u << 20)

/* Why two consecutive records of the same endpoints were not merged. */
enum wtr_stitch_reason {
	WTR_STITCH_OVERLAP = 0, /* the later starts before the earlier ended */
	WTR_STITCH_GAP,         /* idle between them longer than the gap */
	WTR_STITCH_SYN,         /* the later has a SYN of a new handshake */
	WTR_STITCH_CLOSED,      /* the earlier was closed, the later carries payload */
	WTR_STITCH_SEQ,         /* sequence numbers do not continue */
	WTR_STITCH_NREASONS
};

struct wtr_stitch_stats {
	uint64_t records_in;
	uint64_t records_out;
	uint64_t fragments_merged; /* input records now part of a merged record */
	uint64_t merged_records;   /* output records made of two or more */
	uint64_t same_call;        /* merges of records with the same call_id */
	uint64_t refused[WTR_STITCH_NREASONS];
	uint64_t incomplete; /* TCP output records that still look like fragments */
};

struct wtr_stitch;

/** @gap_ns: longest idle time between two fragments. NULL when out of memory. */
struct wtr_stitch *wtr_stitch_create(uint64_t gap_ns);

/** Keep @r (records are held until wtr_stitch_finish()). 0 or -ENOMEM. */
int wtr_stitch_add(struct wtr_stitch *s, const struct wt_callrec *r);

typedef int (*wtr_stitch_emit_fn)(void *arg, const struct wt_callrec *r);

/**
 * Merge the records added, and pass every resulting record to @emit, in
 * the order they were added, a merged one at the place of its first
 * fragment. Stops at the first @emit that returns non-zero.
 * @return 0, -ENOMEM, or what @emit returned.
 */
int wtr_stitch_finish(struct wtr_stitch *s, wtr_stitch_emit_fn emit, void *arg);

const struct wtr_stitch_stats *wtr_stitch_stats(const struct wtr_stitch *s);

/** One line of counts (for stderr). */
void wtr_stitch_print(const struct wtr_stitch *s, FILE *f);

void wtr_stitch_free(struct wtr_stitch *s);

#endif /* WTR_STITCH_H */
