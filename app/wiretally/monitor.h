/* SPDX-License-Identifier: BSD-3-Clause */
/* monitor.h: the monitor's lcore roles (RX, scanner, exporter, control) and what they share. */
#ifndef WT_MONITOR_H
#define WT_MONITOR_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "say.h"
#include "wt_calltab.h"
#include "wt_counters.h"
#include "wt_parse.h"
#include "wt_seglog.h"

#define WT_MAX_PORTS   64
#define WT_MAX_RX      32  /* RX lcores */
#define WT_MAX_RXQ     64  /* (port, queue) pairs one RX lcore polls */
#define WT_SHARD_TABLE 512 /* entries of the software RETA */

/* Per RX lcore packet counters. Every packet an RX lcore receives is counted
 * there in acct_* or in exactly one drop reason; a packet forwarded to its
 * owner lcore is counted by the receiver, not again by the owner.
 * One list: _(field, stats-frame key, telemetry key, meaning), NULL: not
 * in that output; the struct, the stats frame and telemetry come from it
 * (stats.c). The drops and notes are wt_counters.h's lists. */
#define WT_FOREACH_RX_STAT(_)                                                         \
	_(rx_pkts, "rx_pkts", "rx_pkts", "packets received")                          \
	_(rx_bytes, "rx_bytes", "rx_bytes", "bytes received (frame lengths)")         \
	_(acct_pkts, "accounted_pkts", "accounted_pkts", "packets in call records")   \
	_(acct_bytes, "accounted_bytes", "accounted_bytes", "their bytes")            \
	_(vlan_restored, "note.vlan_restored", NULL,                                  \
	  "VLAN id taken from mbuf metadata (tag stripped by the port)")              \
	_(fwd_out, "forwarded", "forwarded_out", "packets sent to their owner lcore") \
	_(fwd_in, NULL, "forwarded_in", "packets received from other lcores")         \
	_(fwd_full, "forward_ring_full", "forward_ring_full",                         \
	  "bursts that waited because a forwarding ring was full")                    \
	_(rec_out, NULL, "records_out", "completed records handed to the exporter")   \
	_(rec_full, "records.export_ring_full", "export_ring_full",                   \
	  "records kept because the export ring was full")                            \
	_(rec_stalls, "records.export_stalls", "export_stalls",                       \
	  "waits because the kept records filled up too")                             \
	_(expire_in, NULL, "scan_requests", "scanner requests taken")

struct wt_rx_stats {
#define WT_RX_STAT_FIELD(f, frame, tel, what) uint64_t f;
	WT_FOREACH_RX_STAT(WT_RX_STAT_FIELD)
#undef WT_RX_STAT_FIELD
	uint64_t drop_pkts[WT_DROP_MAX];
	uint64_t drop_bytes[WT_DROP_MAX];
	uint64_t note_pkts[WT_NOTE_MAX];
} __rte_cache_aligned;

struct wt_port {
	uint16_t port_id;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[32];
	uint16_t nb_rxq;
	int is_file;        /* replays a capture file: packet timestamps, end of input */
	int is_infinite;    /* net_pcap infinite_rx: never ends */
	uint64_t preload;   /* infinite_rx: packets the PMD keeps in mbufs */
	int rss;            /* RSS configured with the symmetric key */
	char rss_note[160]; /* why not, or what the check found */
};

/* A packet forwarded to the lcore that owns its connection: parsed already. */
struct wt_fwd_pkt {
	struct wt_pkt pkt;
	uint64_t ts;
};

struct wt_rxq {
	struct wt_port *port;
	uint16_t queue;
	uint16_t nb; /* packets left in buf (file merge) */
	uint16_t pos;
	int eof;
	uint64_t last_nombuf;
	struct rte_mbuf *buf[64];
};

struct wt_ipfix_sender;

/*
 * What the roles share, in two narrow parts; each role holds pointers to
 * these and to its own rings, never the whole pipeline.
 *
 * struct wt_pipe_conf: set while the pipeline is built, read-only once the
 * lcores run (plain loads).
 */
struct wt_pipe_conf {
	unsigned int n_rx;
	uint16_t burst;
	int packet_clock; /* capture files only: time = packet timestamps */
	int ts_offset;    /* mbuf dynfield of the RX timestamp, or -1 */
	uint64_t ts_flag;
	uint64_t scan_interval_ns;
	uint64_t active_timeout_ns;    /* interim records (--active-timeout), 0: none */
	int tunnels_inner;             /* --tunnels inner: decapsulate (wt_decap()) */
	uint64_t tunnel_seed;          /* seed of the tunnel context hash (all RX lcores) */
	uint8_t shard[WT_SHARD_TABLE]; /* RSS hash -> owner RX index */
	uint32_t shard_mask;
	uint32_t kept_max; /* completed records an RX lcore keeps when the ring is full */
};

/*
 * struct wt_ctl: the control flags. Each is written by one role and read
 * by others, with __atomic only (release when set, acquire when read).
 */
struct wt_ctl {
	uint32_t quit;                 /* control -> RX: stop polling ports (signal, --duration,
	                                * an RX lcore not started) */
	int input_done;                /* reader RX -> all (packet clock): every file read */
	uint64_t t0;                   /* reader RX -> all (packet clock): first packet time */
	uint64_t last_ts;              /* reader RX -> all (packet clock): latest packet time,
	                                * published before input_done */
	int producing_done[WT_MAX_RX]; /* RX j -> RX: it forwards nothing more */
	int rx_done[WT_MAX_RX];        /* RX j -> exporter, scanner, control: every record
	                                * completed and handed to the exporter */
};

/** Tell every RX lcore to stop polling its ports (any thread). */
static inline void
wt_ctl_stop(struct wt_ctl *c)
{
	__atomic_store_n(&c->quit, 1, __ATOMIC_RELEASE);
}

/** wt_ctl_stop() was called. */
static inline int
wt_ctl_stopping(const struct wt_ctl *c)
{
	return __atomic_load_n(&c->quit, __ATOMIC_ACQUIRE) != 0;
}

/** Every one of the @n_rx RX lcores is done. */
static inline int
wt_ctl_rx_done(const struct wt_ctl *c, unsigned int n_rx)
{
	for (unsigned int i = 0; i < n_rx; i++)
		if (!__atomic_load_n(&c->rx_done[i], __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* One RX lcore: its queues, its table, its rings. */
struct wt_rx {
	const struct wt_pipe_conf *cf;
	struct wt_ctl *ctl;
	unsigned int idx; /* 0 .. n_rx-1 */
	unsigned int lcore;
	int socket;
	struct wt_calltab *tab;
	struct wt_frag_table *frag;
	struct wt_rxq q[WT_MAX_RXQ];
	unsigned int nq;
	int reader;                          /* packet clock: reads and merges every file port */
	struct rte_ring *fwd_out[WT_MAX_RX]; /* to owner j (NULL for itself) */
	struct rte_ring *fwd_in[WT_MAX_RX];  /* from lcore j */
	struct rte_ring *req_in;             /* expire requests from the scanner */
	struct rte_ring *rec_out;            /* completed records to the exporter */
	struct wt_callrec *kept;             /* completed records the export ring had no room for */
	uint32_t n_kept, cap_kept;
	uint64_t now_ns;       /* packet clock: latest packet time this lcore accounted */
	uint64_t read_max_ns;  /* packet clock, reader: latest time of any packet read */
	uint64_t next_scan_ns; /* packet clock: next scan boundary (0 until known) */
	int producing_done;    /* own copy of ctl->producing_done[idx] */
	struct wt_rx_stats st;
};

/* The exporter's counters, one list as WT_FOREACH_RX_STAT. The records not
 * in the log (records.unwritten, records_unwritten) are the ones waiting
 * plus the ones printed: stats.c adds them. */
#define WT_FOREACH_EXPORT_STAT(_)                                                                 \
	_(written, "records.written", "records_written", "records appended to the log")           \
	_(written_pkts, NULL, NULL, "packets in them")                                            \
	_(retries, "records.log_retries", "log_retries", "times the log began to refuse records") \
	_(waited, "records.waited_for_log", "records_waited_for_log",                             \
	  "records that waited in memory for the log")                                            \
	_(backlog_peak, "records.waiting_peak", "records_waiting_peak",                           \
	  "most records waiting at once")                                                         \
	_(printed, "records.printed", "records_printed",                                          \
	  "records printed as CSV on stderr: not in the log")                                     \
	_(printed_pkts, NULL, NULL, "packets in them")

struct wt_exporter {
	struct wt_ctl *ctl;
	unsigned int n_in;                  /* RX lcores */
	struct rte_ring *rec_in[WT_MAX_RX]; /* their completed records */
	struct wt_seglog_writer *log;
	const char *dir; /* the log directory, for messages */
	int error;       /* -errno the log last refused a record with; 0 = it takes them */
#define WT_EXPORT_STAT_FIELD(f, frame, tel, what) uint64_t f;
	WT_FOREACH_EXPORT_STAT(WT_EXPORT_STAT_FIELD)
#undef WT_EXPORT_STAT_FIELD
	/* Records the log refused, waiting in memory, oldest first: a ring of
	 * cap_backlog slots (grown on demand up to max_backlog). */
	struct wt_callrec *backlog;
	uint64_t bl_head, n_backlog, cap_backlog, max_backlog;
	uint64_t backlog_pkts;  /* packets in the records waiting */
	int csv_header_said;    /* the CSV header is on stderr already */
	int refusal_said;       /* this refusal was reported */
	int overflow_said;      /* this refusal filled the backlog (reported) */
	int gave_up;            /* at exit: the log did not take the backlog in time */
	uint64_t refused_since; /* when the log began to refuse records; 0 = it takes them */
	uint64_t refused_ns;    /* time the log refused records, ended refusals */
	uint64_t next_retry_ns; /* next attempt to write the backlog */
	uint64_t final_since;   /* all else done, the backlog still waits: since when */
	uint64_t by_reason[WT_END_MAX];
	struct wt_callrec hold[64]; /* a burst taken from a ring */
	unsigned int hold_from;     /* ring read first in the next step */
	uint64_t said_failures;     /* archive failures already reported */
	uint64_t said_ns, next_report_ns;
	int fallback_said;
	struct wt_ipfix_sender *ipfix; /* told the seq of each record written; NULL = none */
	unsigned int lcore;            /* where it runs (the main lcore or its own) */
	int done;                      /* atomic; on its own lcore: everything exported */
};

struct wt_scanner {
	const struct wt_pipe_conf *cf;
	struct wt_ctl *ctl;
	struct wt_calltab *tab[WT_MAX_RX]; /* the RX lcores' tables (scanned remotely) */
	struct rte_ring *req[WT_MAX_RX];   /* and their rings of expiry requests */
	unsigned int lcore;                /* where it runs (the main lcore or its own) */
	uint64_t next_ns;                  /* start of the next pass (system clock) */
	uint64_t pass_ns; /* start of the current pass: its time for interim records */
	int in_pass;
	uint32_t cursor[WT_MAX_RX];
	int table_done[WT_MAX_RX];
	struct wt_calltab_expire held[WT_MAX_RX][64]; /* requests waiting for ring room */
	uint32_t n_held[WT_MAX_RX];
	uint64_t passes, requests, ring_full;
};

/* The whole pipeline: built by pipeline.c, run and read by the control
 * role (control.c, stats.c, shutdown.c). */
struct wt_pipeline {
	struct wt_pipe_conf cf;
	struct wt_ctl ctl;
	struct wt_rx rx[WT_MAX_RX];
	struct wt_exporter ex;
	struct wt_scanner sc;
	struct wt_port *ports;
	unsigned int n_ports;
	uint64_t run_ns; /* from the start of the RX lcores to the end of export */
};

/** Lcore main function of an RX lcore (arg: struct wt_rx *). */
int wt_rx_main(void *arg);

/** Set the table's emit callback to @rx's path to the exporter. */
void wt_rx_emit_setup(struct wt_calltab_params *tp, struct wt_rx *rx);

/** One export step: drain the RX lcores' record rings into the log.
 * @return records handled (0: idle). */
unsigned int wt_export_poll(struct wt_exporter *ex);

/** wt_export_poll() and, once a second, report the archiver's troubles. */
unsigned int wt_export_step(struct wt_exporter *ex);

/** Say archive failures (at once, then once a minute) and the fallback off
 * hugepages (once). The log's owner thread only. */
void wt_export_report_log(struct wt_exporter *ex);

/** Every record ring is empty, nothing is held and no record waits for the
 * log (or, at exit, the log has refused the ones waiting for
 * WT_EXPORT_EXIT_WAIT_NS: they are left for wt_export_finish()). Call it
 * only once every RX lcore is done. */
int wt_export_drained(struct wt_exporter *ex);

/** At exit, after the export: print the records still waiting for the log
 * as CSV on stderr, with one line saying how many and why.
 * @return records that are not in the log (printed now or earlier). */
uint64_t wt_export_finish(struct wt_exporter *ex);

/** Time the log has refused records, up to @now. */
uint64_t wt_export_refused_ns(const struct wt_exporter *ex, uint64_t now);

/* How long the exporter keeps offering the waiting records to the log once
 * everything else is done, before wt_export_finish() prints them. */
#define WT_EXPORT_EXIT_WAIT_NS (5 * WT_NS_PER_SEC)

/** Lcore main function of the exporter on its own lcore (arg: the exporter). */
int wt_export_main(void *arg);

/** One scanner step (live clock): @return slots visited (0: idle). */
unsigned int wt_scanner_poll(struct wt_scanner *sc);

/** Lcore main function of the scanner on its own lcore (arg: the scanner). */
int wt_scanner_main(void *arg);

/** Wall-clock time in ns since the epoch. */
uint64_t wt_now_ns(void);

/** Owner RX index of a parsed packet (the symmetric RSS hash via the shard table). */
static inline unsigned int wt_owner_of(const struct wt_pipe_conf *cf, const struct wt_pkt *p);

#include "wt_key.h"

static inline unsigned int
wt_owner_of(const struct wt_pipe_conf *cf, const struct wt_pkt *p)
{
	return cf->shard[wt_pkt_rss_hash(p) & cf->shard_mask];
}

#endif /* WT_MONITOR_H */
