/* SPDX-License-Identifier: BSD-3-Clause */
/* monitor.h: state shared by the monitor's control plane and its RX loop. */
#ifndef WT_MONITOR_H
#define WT_MONITOR_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "wt_calltab.h"
#include "wt_counters.h"
#include "wt_parse.h"
#include "wt_seglog.h"

extern int wt_logtype;
#define WT_LOG(level, ...) rte_log(RTE_LOG_##level, wt_logtype, "wiretally: " __VA_ARGS__)

#define WT_MAX_PORTS 64

/* Per-lcore packet counters: every received packet is counted in
 * acct_* or in exactly one drop reason. */
struct wt_rx_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t acct_pkts, acct_bytes;
	uint64_t drop_pkts[WT_DROP_MAX];
	uint64_t drop_bytes[WT_DROP_MAX];
	uint64_t note_pkts[WT_NOTE_MAX];
	uint64_t vlan_restored; /* VLAN id taken from mbuf metadata (tag stripped by the port) */
} __rte_cache_aligned;

struct wt_port {
	uint16_t port_id;
	char name[RTE_ETH_NAME_MAX_LEN];
	char driver[32];
	int is_file;          /* replays a capture file: packet timestamps, end of input */
	int is_infinite;      /* net_pcap infinite_rx: never ends */
	int eof;              /* a file port that has delivered its last packet */
	uint64_t last_nombuf; /* rx_nombuf seen at the last empty poll */
};

/* Where completed records go: the log, or a backlog when the log fails. */
struct wt_output {
	struct wt_seglog_writer *log;
	int error;                  /* first -errno of the log, 0 = fine */
	uint64_t written;           /* records appended */
	uint64_t written_pkts;      /* packets in the records appended */
	struct wt_callrec *backlog; /* records that could not be written */
	uint64_t n_backlog, cap_backlog;
	uint64_t backlog_pkts;
	uint64_t by_reason[WT_END_MAX];
};

/* One RX lcore's world. In this first version the main lcore is the only
 * RX lcore and also runs the scan and the output. */
struct wt_worker {
	struct wt_port *ports;
	unsigned int n_ports;
	struct wt_calltab *tab;
	struct wt_frag_table *frag;
	struct wt_output *out;
	uint16_t burst;
	int packet_clock; /* 1: time = packet timestamps (capture files only) */
	int ts_offset;    /* mbuf dynfield of the RX timestamp, or -1 */
	uint64_t ts_flag; /* ol_flags bit saying the timestamp is set */
	uint64_t now_ns;  /* monitor clock: latest packet time or system time */
	uint64_t scan_interval_ns;
	uint64_t next_scan_ns; /* 0 until the first packet */
	int scan_running;      /* live: a sliced scan pass is in progress */
	struct wt_rx_stats st;
};

/** Poll every port once and account what arrived. @return packets received. */
unsigned int wt_worker_poll(struct wt_worker *w);

/** Live clock: run scan work that is due. */
void wt_worker_scan_tick(struct wt_worker *w);

/** Wall-clock time in ns since the epoch. */
uint64_t wt_now_ns(void);

#endif /* WT_MONITOR_H */
