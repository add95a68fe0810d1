/* SPDX-License-Identifier: BSD-3-Clause */
/* follow.c: --follow: the poll loop's pieces (signals, flush timing, "log closed" notice).
 *
 * The reader (lib/seglog, follow mode) returns 0 when it has read every
 * committed frame; the follower then flushes its output, says once when
 * the monitor closed the log (its last segment sealed right after its stats
 * frame) and sleeps WTR_FOLLOW_POLL_MS before asking again. While records
 * keep coming the output is flushed at least every WTR_FOLLOW_FLUSH_MS, so a
 * pipe sees a record at most about 0.2 s after it was committed (plus the
 * time to read it). SIGINT and SIGTERM interrupt the sleep; the caller
 * flushes and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "follow.h"
#include "wt_time.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

void
wtr_follow_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
wtr_follow_stopped(void)
{
	return stop != 0;
}

void
wtr_follow_stats_frame(struct wtr_follow *fw, const struct wt_seglog_frame *f)
{
	snprintf(fw->stats_path, sizeof(fw->stats_path), "%s", f->path);
	fw->stats_offset = f->offset;
}

bool
wtr_follow_flush_due(struct wtr_follow *fw)
{
	uint64_t t = wt_mono_ns();

	if (fw->last_flush_ns == 0)
		fw->last_flush_ns = t;
	if (t - fw->last_flush_ns < WTR_FOLLOW_FLUSH_MS * 1000000ull)
		return false;
	fw->last_flush_ns = t;
	return true;
}

void
wtr_follow_idle(struct wtr_follow *fw, const struct wt_seglog_reader *r, bool quiet)
{
	bool closed = wt_seglog_reader_log_closed(r);

	if (closed && !fw->said_closed && !quiet)
		fprintf(stderr,
		        "%s: %s closed the log (its counters at %s offset %llu, segment sealed); "
		        "still following: a restart continues the log\n",
		        fw->prog, fw->writer, fw->stats_path, (unsigned long long)fw->stats_offset);
	fw->said_closed = closed;
	fw->last_flush_ns = wt_mono_ns();
	if (stop)
		return;
	struct timespec ts = {0, (long)WTR_FOLLOW_POLL_MS * 1000000L};
	nanosleep(&ts, NULL); /* a signal ends it early */
}
