/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix.h: the monitor's IPFIX sender: records written to the log, also to a collector, off the
 * exporter lcore.
 *
 * How it works: the exporter lcore, after a record is in the log, offers a
 * copy to a single-producer/single-consumer ring (one rte_ring enqueue, no
 * system call, never a wait). A sender thread on the control CPUs takes
 * records from the ring and hands them to lib/ipfix's exporting process
 * (UDP or TCP), which may wait for the collector as long as it needs: the
 * log never waits for it. When the ring is full (collector down or slower
 * than the traffic for longer than the ring lasts), the exporter stops
 * offering: that record and every later one reach the sender through the
 * log itself, which the sender then follows (a wt_seglog follow-mode reader
 * on the output directory and the spool, from the first record the ring
 * did not take), so a full ring loses nothing (counted: queue_full, the
 * records read back: from_log). Over TCP, what waits in the ring and what
 * the collector did not acknowledge before a broken connection is sent after
 * the reconnect. docs/ARCHITECTURE.md, "IPFIX sender".
 */
#ifndef WT_MONITOR_IPFIX_H
#define WT_MONITOR_IPFIX_H

#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>

#include "wt_record.h"

struct wt_ipfix_sender;

struct wt_ipfix_sender_conf {
	const char *url;          /* udp:// or tcp:// collector */
	uint32_t domain;          /* observation domain id */
	double template_refresh;  /* UDP template re-send interval, s */
	uint32_t queue;           /* ring capacity, records */
	const rte_cpuset_t *cpus; /* where the sender thread runs (the control CPUs) */
	const char *log_dir;      /* the log (output directory), read back after a full ring */
	const char *spool_dir;    /* and its spool, or NULL */
};

/* Counters: the sender thread's, plus the exporter's offers. */
struct wt_ipfix_sender_stats {
	uint64_t offered;    /* records written to the log and offered */
	uint64_t queue_full; /* offered when the ring was full, or after: read from the log */
	uint64_t full_first_seq, full_last_seq; /* seq range of those (when queue_full) */
	uint64_t from_log;                      /* records the sender read back from the log */
	uint64_t queued;                        /* in the ring now */
	uint64_t queue_max;                     /* most records the ring held */
	uint64_t sent, resent, lost, pending;
	uint64_t messages, bytes, template_sends;
	uint64_t connects, connect_failures, disconnects;
	uint64_t unsent_at_exit; /* in the ring or pending when the sender gave up */
	int connected;
};

/**
 * Check the URL, resolve the collector, create the ring, start the thread
 * (named "wt-ipfix", every signal blocked). Call after rte_eal_init().
 * @return the sender, or NULL with @err naming the cause (bad URL, unknown
 * host, no memory for the ring, thread creation).
 */
struct wt_ipfix_sender *wt_ipfix_sender_start(const struct wt_ipfix_sender_conf *conf, char *err,
                                              size_t errlen);

/**
 * Offer one record written to the log. Exporter lcore only (the single
 * producer). Never blocks: from the first record the ring does not take,
 * the sender reads the records from the log instead (queue_full).
 */
void wt_ipfix_sender_offer(struct wt_ipfix_sender *s, const struct wt_callrec *r);

/**
 * After the last offer (and before the log is closed): let the sender send
 * what is left, from the ring and from the log (giving up when it made no
 * progress for @stall_s seconds: collector unreachable), stop and join the
 * thread. Control thread.
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
