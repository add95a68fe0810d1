/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix.h: the monitor's IPFIX sender: records written to the log, also to a collector, off the
 * exporter lcore.
 *
 * How it works: the log is the only source. After a record is in the log,
 * the exporter lcore publishes its seq (two stores, no system call, never a
 * wait). A sender thread on the control CPUs follows the log from the
 * first segment and the first seq of this run (a wt_seglog follow-mode
 * reader on the output directory and the spool, opened at the first
 * record) and hands the records to lib/ipfix's exporting process (UDP or
 * TCP), which may wait for the collector as long as it needs: the log
 * never waits for it, and however far behind the collector falls the
 * records are read when it takes them again (counted: behind, behind_max).
 * Over TCP, what the collector did not acknowledge before a broken
 * connection is sent after the reconnect. docs/ARCHITECTURE.md, "IPFIX
 * sender".
 */
#ifndef WT_MONITOR_IPFIX_H
#define WT_MONITOR_IPFIX_H

#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>

struct wt_ipfix_sender;

struct wt_ipfix_sender_conf {
	const char *url;          /* udp:// or tcp:// collector */
	uint32_t domain;          /* observation domain id */
	double template_refresh;  /* UDP template re-send interval, s */
	const rte_cpuset_t *cpus; /* where the sender thread runs (the control CPUs) */
	const char *log_dir;      /* the log (output directory), followed */
	const char *spool_dir;    /* and its spool, or NULL */
	uint64_t first_seq;       /* seq of this run's first record (wt_seglog_next_seq) */
	uint64_t first_segment;   /* its segment, at the latest (wt_seglog_next_segment_no) */
};

/* Counters: the sender thread's, plus the exporter's. */
struct wt_ipfix_sender_stats {
	uint64_t offered;    /* records this run wrote to the log (each is to be sent) */
	uint64_t behind;     /* written to the log, not yet read by the sender */
	uint64_t behind_max; /* the most seen */
	uint64_t sent, resent, lost, pending;
	uint64_t messages, bytes, template_sends;
	uint64_t connects, connect_failures, disconnects;
	uint64_t unsent_at_exit; /* not read from the log, or pending, when the sender gave up */
	int connected;
};

/**
 * Check the URL, resolve the collector, start the thread (named
 * "wt-ipfix", every signal blocked). Call after wt_seglog_open().
 * @return the sender, or NULL with @err naming the cause and errno set
 * (as wt_ipfix_exporter_open(): EINVAL bad URL or unknown host, ...; or
 * the error of thread creation).
 */
struct wt_ipfix_sender *wt_ipfix_sender_start(const struct wt_ipfix_sender_conf *conf, char *err,
                                              size_t errlen);

/**
 * The log took the record numbered @seq (committed: wt_seglog_append()
 * returned 0). Exporter lcore only, in seq order. Never blocks.
 */
void wt_ipfix_sender_written(struct wt_ipfix_sender *s, uint64_t seq);

/**
 * After the last record is written (and before the log is closed): let the
 * sender send what is left in the log (giving up when it made no progress
 * for @stall_s seconds: collector unreachable), stop and join the thread.
 * Control thread.
 */
void wt_ipfix_sender_stop(struct wt_ipfix_sender *s, double stall_s);

/** Counters (any thread; exact after stop). */
void wt_ipfix_sender_stats(const struct wt_ipfix_sender *s, struct wt_ipfix_sender_stats *st);

/** "ipfix.name=value\n" lines for the log's stats frame. @return length. */
size_t wt_ipfix_sender_stats_text(const struct wt_ipfix_sender *s, char *buf, size_t len);

/** The exit-summary lines. */
void wt_ipfix_sender_summary(const struct wt_ipfix_sender *s, FILE *f);

/** Register /wiretally/ipfix with rte_telemetry. @return 0 or -errno. */
int wt_ipfix_sender_telemetry(const struct wt_ipfix_sender *s);

/** Free (after stop); NULL is accepted. */
void wt_ipfix_sender_free(struct wt_ipfix_sender *s);

#endif /* WT_MONITOR_IPFIX_H */
