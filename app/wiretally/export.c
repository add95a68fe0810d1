/* SPDX-License-Identifier: BSD-3-Clause */
/* export.c: the export role: completed records from every RX lcore's ring into the log. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring_elem.h>

#include "ipfix.h"
#include "monitor.h"

/*
 * When the log refuses records (disk full, I/O error, a spool full of
 * segments the archive disk does not take): how it works
 *   Receiving goes on. The exporter keeps taking records from the rings;
 *   the ones the log refuses wait in memory, oldest first (the backlog, at
 *   most --log-backlog records), and every later record queues behind
 *   them, so the log keeps completion order. The log is offered the oldest
 *   one again every RETRY_*_NS; once it takes it the backlog is written out
 *   and the refusal is over. A record that finds the backlog full is
 *   printed as CSV on stderr at once (never dropped). At exit the backlog
 *   is offered to the log for WT_EXPORT_EXIT_WAIT_NS more, and what is left
 *   is printed the same way. Each record is in exactly one place: the log,
 *   or stderr; the counters say how many went where.
 */
#define RETRY_AGAIN_NS  (1000 * 1000ull)       /* spool full: a slot frees any time */
#define RETRY_ERROR_NS  (100 * 1000 * 1000ull) /* disk full, I/O error */
#define SAY_AGAIN_AFTER WT_NS_PER_SEC          /* a spool refusal this long is said */
#define DRAIN_PER_STEP  4096u                  /* backlog records written per step */

static uint64_t
pkts_of(const struct wt_callrec *r)
{
	return r->d[0].pkts + r->d[1].pkts;
}

/* The last resort: one record as CSV on stderr (the header once per run). */
static void
print_record(struct wt_exporter *ex, const struct wt_callrec *r)
{
	char line[WT_CALLREC_LINE_MAX];

	if (!ex->csv_header_said) {
		fprintf(stderr, "%s\n", wt_callrec_csv_header);
		ex->csv_header_said = 1;
	}
	if (wt_callrec_format_csv(line, sizeof(line), r) > 0)
		fputs(line, stderr);
	ex->printed++;
	ex->printed_pkts += pkts_of(r);
}

static const char *
log_name(const struct wt_exporter *ex)
{
	const char *path = wt_seglog_current_path(ex->log);
	return path[0] ? path : ex->dir;
}

/* Say why the log refuses records (once per refusal). */
static void
say_refusal(struct wt_exporter *ex)
{
	if (ex->error == -EAGAIN) {
		struct wt_seglog_stats st;
		wt_seglog_writer_stats(ex->log, &st);
		WT_LOG(ERR,
		       "the log's spool is full of segments the archive does not take%s%s; "
		       "receiving goes on: completed records wait in memory (up to %" PRIu64
		       ") until the log takes them again\n",
		       st.archive_errno ? ": " : "",
		       st.archive_errno ? strerror(st.archive_errno) : "", ex->max_backlog);
	} else {
		WT_LOG(ERR,
		       "cannot write call records to %s: %s; receiving goes on: completed "
		       "records wait in memory (up to %" PRIu64
		       ") until the log takes them again\n",
		       log_name(ex), strerror(-ex->error), ex->max_backlog);
	}
	ex->refusal_said = 1;
}

static void
note_refused(struct wt_exporter *ex, int rc, uint64_t now)
{
	ex->error = rc;
	if (ex->refused_since == 0) {
		ex->refused_since = now;
		ex->retries++;
		ex->refusal_said = 0;
		ex->overflow_said = 0;
	}
	ex->next_retry_ns = now + (rc == -EAGAIN ? RETRY_AGAIN_NS : RETRY_ERROR_NS);
	if (!ex->refusal_said && (rc != -EAGAIN || now - ex->refused_since >= SAY_AGAIN_AFTER))
		say_refusal(ex);
}

static void
note_written(struct wt_exporter *ex, struct wt_callrec *r)
{
	ex->written++;
	ex->written_pkts += pkts_of(r);
	if (ex->ipfix != NULL) /* two stores: the sender reads it from the log */
		wt_ipfix_sender_written(ex->ipfix, r->seq);
}

/* Grow the backlog ring (keeping its order). @return 0, or -1 at the bound
 * or out of memory. */
static int
grow_backlog(struct wt_exporter *ex)
{
	uint64_t cap = ex->cap_backlog ? ex->cap_backlog * 2 : 1024;

	if (cap > ex->max_backlog)
		cap = ex->max_backlog;
	if (cap <= ex->cap_backlog)
		return -1;
	struct wt_callrec *b = malloc(cap * sizeof(*b));
	if (b == NULL)
		return -1;
	uint64_t first = ex->cap_backlog - ex->bl_head; /* from head to the end */
	if (first > ex->n_backlog)
		first = ex->n_backlog;
	if (ex->n_backlog > 0) {
		memcpy(b, ex->backlog + ex->bl_head, first * sizeof(*b));
		memcpy(b + first, ex->backlog, (ex->n_backlog - first) * sizeof(*b));
	}
	free(ex->backlog);
	ex->backlog = b;
	ex->cap_backlog = cap;
	ex->bl_head = 0;
	return 0;
}

static void
backlog_push(struct wt_exporter *ex, const struct wt_callrec *r)
{
	if (ex->n_backlog == ex->cap_backlog && grow_backlog(ex) != 0) {
		if (!ex->overflow_said) {
			WT_LOG(ERR,
			       "%" PRIu64 " records wait for the log, as many as it can hold%s: "
			       "further ones are printed on stderr as CSV until the log takes "
			       "records again\n",
			       ex->n_backlog,
			       ex->n_backlog < ex->max_backlog ? " (out of memory)"
			                                       : " (--log-backlog)");
			ex->overflow_said = 1;
		}
		print_record(ex, r);
		return;
	}
	ex->backlog[(ex->bl_head + ex->n_backlog) % ex->cap_backlog] = *r;
	ex->n_backlog++;
	ex->backlog_pkts += pkts_of(r);
	ex->waited++;
	if (ex->n_backlog > ex->backlog_peak)
		ex->backlog_peak = ex->n_backlog;
}

/* The log took a record again and none waits. */
static void
end_refusal(struct wt_exporter *ex, uint64_t now)
{
	uint64_t took = now - ex->refused_since;

	if (ex->refusal_said)
		WT_LOG(NOTICE,
		       "the log takes records again after %.1f s; every record that waited is "
		       "written%s\n",
		       (double)took / 1e9,
		       ex->overflow_said ? " (the ones printed on stderr are not)" : "");
	ex->refused_ns += took;
	ex->refused_since = 0;
	ex->error = 0;
}

/* The oldest waiting record is written or printed: off the backlog. */
static void
backlog_pop(struct wt_exporter *ex)
{
	ex->backlog_pkts -= pkts_of(&ex->backlog[ex->bl_head]);
	ex->bl_head = (ex->bl_head + 1) % ex->cap_backlog;
	ex->n_backlog--;
}

/* Offer the waiting records to the log, oldest first, at most @max. */
static unsigned int
drain_backlog(struct wt_exporter *ex, uint64_t now, unsigned int max)
{
	unsigned int n = 0;

	while (ex->n_backlog > 0 && n < max) {
		struct wt_callrec *r = &ex->backlog[ex->bl_head];
		int rc = wt_seglog_append(ex->log, r);
		if (rc != 0) {
			note_refused(ex, rc, now);
			return n;
		}
		note_written(ex, r);
		backlog_pop(ex);
		n++;
	}
	if (ex->n_backlog == 0 && ex->refused_since != 0)
		end_refusal(ex, now);
	return n;
}

/* One record from a ring: to the log, or behind the ones waiting. */
static void
export_one(struct wt_exporter *ex, struct wt_callrec *r)
{
	if (r->end_reason < WT_END_MAX)
		ex->by_reason[r->end_reason]++;
	if (ex->n_backlog == 0) {
		int rc = wt_seglog_append(ex->log, r);
		if (wt_likely(rc == 0)) {
			note_written(ex, r);
			if (wt_unlikely(ex->refused_since != 0))
				end_refusal(ex, wt_now_ns());
			return;
		}
		note_refused(ex, rc, wt_now_ns());
	}
	backlog_push(ex, r);
}

unsigned int
wt_export_poll(struct wt_exporter *ex)
{
	unsigned int handled = 0, start = ex->hold_from;

	if (ex->n_backlog > 0) {
		uint64_t now = wt_now_ns();
		if (now >= ex->next_retry_ns)
			handled += drain_backlog(ex, now, DRAIN_PER_STEP);
	}
	ex->hold_from = (start + 1) % ex->n_in; /* fair: a different ring first each time */
	for (unsigned int k = 0; k < ex->n_in; k++) {
		unsigned int j = (start + k) % ex->n_in;
		unsigned int n = rte_ring_sc_dequeue_burst_elem(
		        ex->rec_in[j], ex->hold, sizeof(ex->hold[0]), RTE_DIM(ex->hold), NULL);
		for (unsigned int i = 0; i < n; i++)
			export_one(ex, &ex->hold[i]);
		handled += n;
	}
	return handled;
}

uint64_t
wt_export_refused_ns(const struct wt_exporter *ex, uint64_t now)
{
	return ex->refused_ns + (ex->refused_since ? now - ex->refused_since : 0);
}

uint64_t
wt_export_finish(struct wt_exporter *ex)
{
	if (ex->n_backlog > 0) {
		WT_LOG(ERR,
		       "%" PRIu64 " call records could not be written to %s (%s): "
		       "they follow as CSV\n",
		       ex->n_backlog, ex->dir, strerror(-ex->error));
		while (ex->n_backlog > 0) {
			print_record(ex, &ex->backlog[ex->bl_head]);
			backlog_pop(ex);
		}
	}
	fflush(stderr);
	return ex->printed;
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
wt_export_drained(struct wt_exporter *ex)
{
	for (unsigned int i = 0; i < ex->n_in; i++)
		if (!rte_ring_empty(ex->rec_in[i]))
			return 0;
	if (ex->n_backlog == 0 || ex->gave_up)
		return 1;
	/* Only the waiting records are left: a last chance for the log. */
	uint64_t now = wt_now_ns();
	if (ex->final_since == 0)
		ex->final_since = now;
	if (now - ex->final_since < WT_EXPORT_EXIT_WAIT_NS)
		return 0;
	ex->gave_up = 1;
	return 1;
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
		if (wt_ctl_rx_done(ex->ctl, ex->n_in) && wt_export_drained(ex))
			break;
		if (n == 0)
			rte_pause();
	}
	wt_export_report_log(ex);
	__atomic_store_n(&ex->done, 1, __ATOMIC_RELEASE);
	return 0;
}
