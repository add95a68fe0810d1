/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_time.h: the clocks every part reads, in nanoseconds: one helper instead of a copy per file. */
#ifndef WT_TIME_H
#define WT_TIME_H

#include <stdint.h>
#include <time.h>

#include "wt_common.h"

/** Clock @c (CLOCK_REALTIME, CLOCK_MONOTONIC, ...) in ns. */
static inline uint64_t
wt_clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * WT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/** Nanoseconds since the Unix epoch (wall clock: record and file times). */
static inline uint64_t
wt_real_ns(void)
{
	return wt_clock_ns(CLOCK_REALTIME);
}

/** Monotonic nanoseconds (intervals, timeouts, pacing). */
static inline uint64_t
wt_mono_ns(void)
{
	return wt_clock_ns(CLOCK_MONOTONIC);
}

#endif /* WT_TIME_H */
