/* SPDX-License-Identifier: BSD-3-Clause */
/* summary.h: --summary, totals of the records printed: per protocol, per end_reason, top talkers.
 */
#ifndef WTR_SUMMARY_H
#define WTR_SUMMARY_H

#include <stdio.h>

#include "wt_record.h"

struct wtr_summary;

/** A summary with the @top talkers. NULL when out of memory. */
struct wtr_summary *wtr_summary_create(unsigned int top);

/** Count @r. 0 or -ENOMEM. */
int wtr_summary_add(struct wtr_summary *s, const struct wt_callrec *r);

/** Print the summary as text (docs/READER.md, "Summary"). */
void wtr_summary_print(const struct wtr_summary *s, FILE *f);

void wtr_summary_free(struct wtr_summary *s);

#endif /* WTR_SUMMARY_H */
