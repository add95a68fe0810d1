/* SPDX-License-Identifier: BSD-3-Clause */
/* rx.c: the packet path: RX burst -> parse -> fragments -> call-record table. */
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "monitor.h"

/* Slots the live scan visits per poll: bounds the pause it adds to RX. */
#define SCAN_SLICE 4096
/* Packets ahead whose data is prefetched while parsing. */
#define PREFETCH_AHEAD 4

uint64_t
wt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * WT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void
count_notes(struct wt_rx_stats *st, uint16_t notes)
{
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		if (notes & (1u << b))
			st->note_pkts[b]++;
}

/*
 * Capture files: the clock is the packets' own time and the scan runs when
 * it crosses a scan boundary, before the packet that crossed it is counted,
 * so the records do not depend on burst sizes or on how fast the file is
 * read. A jump over several intervals runs two passes (the second one
 * completes everything that was idle across the jump) and skips the rest:
 * they would scan an empty table, once per interval, which for a timestamp
 * jump of years is millions of passes over the table's high-water mark.
 */
static void
packet_clock_advance(struct wt_worker *w, uint64_t t)
{
	if (w->next_scan_ns == 0)
		w->next_scan_ns = t + w->scan_interval_ns;
	for (unsigned int pass = 0; t >= w->next_scan_ns; pass++) {
		if (pass == 2) {
			uint64_t skipped = (t - w->next_scan_ns) / w->scan_interval_ns + 1;
			w->next_scan_ns += skipped * w->scan_interval_ns;
			break;
		}
		wt_calltab_scan_pass(w->tab);
		w->next_scan_ns += w->scan_interval_ns;
	}
}

static void
process_burst(struct wt_worker *w, const struct wt_port *port, struct rte_mbuf **m, uint16_t nb)
{
	struct wt_pkt pkts[WT_CALLTAB_BURST_MAX];
	uint64_t ts[WT_CALLTAB_BURST_MAX];
	struct wt_rx_stats *st = &w->st;
	uint64_t sys_ts = w->packet_clock ? 0 : wt_now_ns();
	uint32_t n = 0;

	for (uint16_t i = 0; i < nb && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *mb = m[i];
		if (i + PREFETCH_AHEAD < nb)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + PREFETCH_AHEAD], void *));
		uint32_t len = rte_pktmbuf_pkt_len(mb);
		uint32_t wirelen = port->is_file ? WT_WIRELEN_UNKNOWN : len;
		uint64_t t = sys_ts;
		if (w->packet_clock) {
			t = w->now_ns;
			if (w->ts_offset >= 0 && (mb->ol_flags & w->ts_flag))
				t = *RTE_MBUF_DYNFIELD(mb, w->ts_offset, uint64_t *) * 1000u;
		}

		st->rx_pkts++;
		st->rx_bytes += len;
		struct wt_pkt *p = &pkts[n];
		enum wt_drop r = wt_parse(rte_pktmbuf_mtod(mb, const uint8_t *),
		                          rte_pktmbuf_data_len(mb), wirelen, p);
		if (r == WT_DROP_NONE && wt_unlikely(p->frag != WT_FRAG_NONE))
			r = wt_frag_process(w->frag, p, t > w->now_ns ? t : w->now_ns);
		if (wt_unlikely(r != WT_DROP_NONE)) {
			st->drop_pkts[r]++;
			st->drop_bytes[r] += len;
			continue;
		}
		/* A port that strips the outermost tag into metadata. */
		if (wt_unlikely(mb->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)) {
			p->vlan = mb->vlan_tci & 0xfff;
			st->vlan_restored++;
		}
		if (wt_unlikely(p->notes))
			count_notes(st, p->notes);
		st->acct_pkts++;
		st->acct_bytes += len;
		if (w->packet_clock) {
			if (wt_unlikely(t >= w->next_scan_ns)) {
				/* Account what came before the boundary first. */
				if (n > 0) {
					wt_calltab_update_burst(w->tab, pkts, ts, n);
					pkts[0] = *p;
					p = &pkts[0];
					n = 0;
				}
				packet_clock_advance(w, t);
			}
			if (t > w->now_ns)
				w->now_ns = t;
		}
		ts[n] = t;
		n++;
	}
	if (n > 0)
		wt_calltab_update_burst(w->tab, pkts, ts, n);
}

unsigned int
wt_worker_poll(struct wt_worker *w)
{
	struct rte_mbuf *m[WT_CALLTAB_BURST_MAX];
	unsigned int total = 0;

	for (unsigned int i = 0; i < w->n_ports; i++) {
		struct wt_port *port = &w->ports[i];
		if (port->eof)
			continue;
		uint16_t nb = rte_eth_rx_burst(port->port_id, 0, m, w->burst);
		if (nb == 0) {
			/* A capture file never makes us wait: an empty poll is its
			 * end, unless the pool ran dry (then it is retried). */
			if (port->is_file && !port->is_infinite) {
				struct rte_eth_stats es;
				if (rte_eth_stats_get(port->port_id, &es) != 0 ||
				    es.rx_nombuf == port->last_nombuf)
					port->eof = 1;
				else
					port->last_nombuf = es.rx_nombuf;
			}
			continue;
		}
		process_burst(w, port, m, nb);
		rte_pktmbuf_free_bulk(m, nb);
		total += nb;
	}
	return total;
}

void
wt_worker_scan_tick(struct wt_worker *w)
{
	if (w->packet_clock)
		return;
	uint64_t now = wt_now_ns();
	w->now_ns = now;
	if (w->next_scan_ns == 0)
		w->next_scan_ns = now + w->scan_interval_ns;
	if (!w->scan_running && now >= w->next_scan_ns) {
		w->scan_running = 1;
		/* The timer restarts when a pass starts (Figure 7, step 109). */
		w->next_scan_ns = now + w->scan_interval_ns;
	}
	if (w->scan_running && wt_calltab_scan(w->tab, SCAN_SLICE))
		w->scan_running = 0;
}
