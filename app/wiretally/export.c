/* SPDX-License-Identifier: BSD-3-Clause */
/* export.c: the export role: completed records from every RX lcore's ring into the log. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring_elem.h>

#include "ipfix.h"
#include "monitor.h"

/*
 * Keep a record the log refused for good (disk full, I/O error): in memory,
 * printed as CSV on stderr at exit. The error is reported once and the
 * monitor stops receiving; the exporter keeps taking records from the rings
 * so that no RX lcore waits forever, and no record is lost.
 */
static void
keep_in_backlog(struct wt_exporter *ex, const struct wt_callrec *r)
{
	uint64_t pkts = r->d[0].pkts + r->d[1].pkts;

	if (ex->n_backlog == ex->cap_backlog) {
		uint64_t cap = ex->cap_backlog ? ex->cap_backlog * 2 : 1024;
		struct wt_callrec *b = realloc(ex->backlog, cap * sizeof(*b));
		if (b == NULL) {
			/* Last resort: print it now rather than drop it. */
			char line[WT_CALLREC_LINE_MAX];
			if (wt_callrec_format_csv(line, sizeof(line), r) > 0)
				fputs(line, stderr);
			ex->backlog_pkts += pkts;
			return;
		}
		ex->backlog = b;
		ex->cap_backlog = cap;
	}
	ex->backlog[ex->n_backlog++] = *r;
	ex->backlog_pkts += pkts;
}

/* How long the log may keep refusing records (its spool full of segments
 * the archive disk does not take) before the exporter gives up on it: while
 * running a minute (the RX lcores wait meanwhile and the ports count what
 * they cannot take as missed), at shutdown 5 s. Then the monitor stops:
 * records go to the backlog (printed at exit) and the spool keeps the
 * segments it holds for the next start. */
#define RUNNING_LOG_WAIT_NS  (60 * WT_NS_PER_SEC)
#define SHUTDOWN_LOG_WAIT_NS (5 * WT_NS_PER_SEC)

static void
give_up_on_log(struct wt_exporter *ex, int err)
{
	ex->error = err;
	__atomic_store_n(&ex->pl->fatal, 1, __ATOMIC_RELEASE);
	ex->pl->quit = 1;
}

/* @return 0 (handled) or -EAGAIN (the log asks to try again later). */
static int
append_one(struct wt_exporter *ex, struct wt_callrec *r)
{
	if (ex->error == 0) {
		int rc = wt_seglog_append(ex->log, r);
		if (rc == -EAGAIN) {
			uint64_t now = wt_now_ns();
			uint64_t limit = ex->pl->quit ? SHUTDOWN_LOG_WAIT_NS : RUNNING_LOG_WAIT_NS;
			if (ex->refused_since == 0) {
				ex->refused_since = now;
				ex->retries++; /* one more time the log made us wait */
			}
			if (now - ex->refused_since < limit)
				return -EAGAIN;
			struct wt_seglog_stats st;
			wt_seglog_writer_stats(ex->log, &st);
			WT_LOG(ERR,
			       "stopping: the log has refused records for %u s (its spool is full "
			       "of segments the archive does not take%s%s); the records of those "
			       "segments stay in the spool, the others are printed on stderr at "
			       "exit\n",
			       (unsigned int)(limit / WT_NS_PER_SEC), st.archive_errno ? ": " : "",
			       st.archive_errno ? strerror(st.archive_errno) : "");
			give_up_on_log(ex, st.archive_errno ? -st.archive_errno : -EAGAIN);
			rc = ex->error; /* fall through to the backlog */
		}
		if (rc == 0) {
			ex->refused_since = 0;
			ex->written++;
			ex->written_pkts += r->d[0].pkts + r->d[1].pkts;
			if (ex->ipfix != NULL) /* never waits: a full queue is counted */
				wt_ipfix_sender_offer(ex->ipfix, r);
			if (r->end_reason < WT_END_MAX)
				ex->by_reason[r->end_reason]++;
			return 0;
		}
		if (ex->error == 0) {
			const char *path = wt_seglog_current_path(ex->log);
			WT_LOG(ERR,
			       "cannot write call records to %s: %s; stopping, records not written "
			       "will be printed on stderr at exit\n",
			       path[0] ? path : "the log", strerror(-rc));
			give_up_on_log(ex, rc);
		}
	}
	if (r->end_reason < WT_END_MAX)
		ex->by_reason[r->end_reason]++;
	keep_in_backlog(ex, r);
	return 0;
}

unsigned int
wt_export_poll(struct wt_exporter *ex)
{
	struct wt_pipeline *pl = ex->pl;
	unsigned int handled = 0, start = ex->hold_from;

	ex->hold_from = (start + 1) % pl->n_rx; /* fair: a different ring first each time */
	for (unsigned int k = 0; k < pl->n_rx; k++) {
		/* Finish the records taken earlier before taking more. */
		while (ex->pos_hold < ex->n_hold) {
			if (append_one(ex, &ex->hold[ex->pos_hold]) == -EAGAIN)
				return handled;
			ex->pos_hold++;
			handled++;
		}
		unsigned int j = (start + k) % pl->n_rx;
		unsigned int n = rte_ring_sc_dequeue_burst_elem(
		        pl->rx[j].rec_out, ex->hold, sizeof(ex->hold[0]), RTE_DIM(ex->hold), NULL);
		if (n > 0) {
			ex->n_hold = n;
			ex->pos_hold = 0;
		}
	}
	while (ex->pos_hold < ex->n_hold) {
		if (append_one(ex, &ex->hold[ex->pos_hold]) == -EAGAIN)
			return handled;
		ex->pos_hold++;
		handled++;
	}
	return handled;
}

/* An archive failure is said at once, then at most once a minute; the
 * fallback off hugepages once. Owner thread of the log (the exporter). */
#define LOG_REPORT_EVERY_NS (60 * WT_NS_PER_SEC)

void
wt_export_report_log(struct wt_exporter *ex)
{
	struct wt_seglog_stats st;
	uint64_t now = wt_now_ns();

	wt_seglog_writer_stats(ex->log, &st);
	if (st.archive_failures > ex->said_failures && st.archive_error[0] &&
	    (ex->said_ns == 0 || now - ex->said_ns >= LOG_REPORT_EVERY_NS)) {
		if (ex->said_failures)
			WT_LOG(ERR, "%s (%" PRIu64 " failed attempts so far)\n", st.archive_error,
			       st.archive_failures);
		else
			WT_LOG(ERR, "%s\n", st.archive_error);
		ex->said_failures = st.archive_failures;
		ex->said_ns = now;
	}
	if (st.fallback_segments > 0 && !ex->fallback_said && st.fallback_msg[0]) {
		WT_LOG(WARNING, "%s\n", st.fallback_msg);
		ex->fallback_said = 1;
	}
}

int
wt_pipeline_rx_done(const struct wt_pipeline *pl)
{
	for (unsigned int i = 0; i < pl->n_rx; i++)
		if (!__atomic_load_n(&pl->rx[i].done, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

int
wt_export_drained(const struct wt_exporter *ex)
{
	const struct wt_pipeline *pl = ex->pl;
	for (unsigned int i = 0; i < pl->n_rx; i++)
		if (!rte_ring_empty(pl->rx[i].rec_out))
			return 0;
	return ex->pos_hold == ex->n_hold;
}

/* One export step plus the once-a-second look at the archiver. */
unsigned int
wt_export_step(struct wt_exporter *ex)
{
	unsigned int n = wt_export_poll(ex);
	uint64_t now = wt_now_ns();
	if (now >= ex->next_report_ns) {
		wt_export_report_log(ex);
		ex->next_report_ns = now + WT_NS_PER_SEC;
	}
	return n;
}

int
wt_export_main(void *arg)
{
	struct wt_exporter *ex = arg;

	for (;;) {
		unsigned int n = wt_export_step(ex);
		if (wt_pipeline_rx_done(ex->pl) && wt_export_drained(ex))
			break;
		if (n == 0)
			rte_pause();
	}
	wt_export_report_log(ex);
	__atomic_store_n(&ex->done, 1, __ATOMIC_RELEASE);
	return 0;
}
