/* SPDX-License-Identifier: BSD-3-Clause */
/* rx.c: an RX lcore: RX burst -> parse -> owner lcore -> call-record table; completed records out.
 */
#include <time.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring_elem.h>

#include "monitor.h"
#include "wt_time.h"

/* Packets ahead whose data is prefetched while parsing. */
#define PREFETCH_AHEAD 4
/* Forwarded packets or requests taken from one ring at a time. */
#define DRAIN_BURST 32

uint64_t
wt_now_ns(void)
{
	return wt_real_ns();
}

static void
count_notes(struct wt_rx_stats *st, uint16_t notes)
{
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		if (notes & (1u << b))
			st->note_pkts[b]++;
}

/* ---- completed records: to the exporter, never dropped ---------------- */

/* Hand kept records to the export ring, oldest first. @return how many. */
static unsigned int
flush_kept(struct wt_rx *rx)
{
	if (rx->n_kept == 0)
		return 0;
	unsigned int n = rte_ring_sp_enqueue_burst_elem(rx->rec_out, rx->kept, sizeof(*rx->kept),
	                                                rx->n_kept, NULL);
	if (n > 0 && n < rx->n_kept)
		memmove(rx->kept, rx->kept + n, (rx->n_kept - n) * sizeof(*rx->kept));
	rx->n_kept -= n;
	rx->st.rec_out += n;
	return n;
}

/*
 * The table's emit callback. The record goes to this lcore's SPSC ring to
 * the exporter. When the ring is full the record is kept here (counted) and
 * sent later, in order; when the kept records fill up too, this lcore waits
 * for the exporter (it stops receiving, and the port counts what it cannot
 * take as missed): a completed record is never dropped. The exporter never
 * waits for an RX lcore, so the wait always ends.
 */
static void
emit_record(void *ctx, const struct wt_callrec *rec)
{
	struct wt_rx *rx = ctx;

	if (rx->n_kept == 0 &&
	    rte_ring_sp_enqueue_elem(rx->rec_out, (void *)(uintptr_t)rec, sizeof(*rec)) == 0) {
		rx->st.rec_out++;
		return;
	}
	if (rx->n_kept == rx->cap_kept) {
		rx->st.rec_stalls++;
		while (flush_kept(rx) == 0)
			rte_pause();
	}
	rx->kept[rx->n_kept++] = *rec;
	rx->st.rec_full++;
}

void
wt_rx_emit_setup(struct wt_calltab_params *tp, struct wt_rx *rx)
{
	tp->emit = emit_record;
	tp->emit_ctx = rx;
}

/* This lcore forwards nothing more: its own copy, and the flag the others read. */
static void
producing_done(struct wt_rx *rx)
{
	rx->producing_done = 1;
	__atomic_store_n(&rx->ctl->producing_done[rx->idx], 1, __ATOMIC_RELEASE);
}

/* ---- accounting, with the packet clock's scan boundaries -------------- */

/*
 * Capture files: the clock is the packets' own time and an owner runs the
 * completion scan of its table when a packet crosses a scan boundary, before
 * that packet is counted; the pass runs at the boundary's time, which also
 * times interim records (--active-timeout). Boundaries are first packet + k x interval, the
 * first packet being the whole input's (the reader publishes it), so every
 * owner scans at the same instants whatever the number of RX lcores, and a
 * record's fate depends only on its own connection's packets: the same
 * capture gives the same records for any --rx-cores. A jump over several
 * intervals runs two passes (the second completes everything idle across
 * the jump) and skips the rest.
 */
static void
clock_advance(struct wt_rx *rx, uint64_t t)
{
	const struct wt_pipe_conf *cf = rx->cf;
	struct wt_ctl *ctl = rx->ctl;

	if (rx->next_scan_ns == 0)
		rx->next_scan_ns =
		        __atomic_load_n(&ctl->t0, __ATOMIC_ACQUIRE) + cf->scan_interval_ns;
	for (unsigned int pass = 0; t >= rx->next_scan_ns; pass++) {
		if (pass == 2) {
			uint64_t skipped = (t - rx->next_scan_ns) / cf->scan_interval_ns + 1;
			rx->next_scan_ns += skipped * cf->scan_interval_ns;
			break;
		}
		wt_calltab_scan_pass(rx->tab, rx->next_scan_ns);
		rx->next_scan_ns += cf->scan_interval_ns;
	}
}

static void
account(struct wt_rx *rx, const struct wt_pkt *pkts, const uint64_t *ts, uint32_t n)
{
	if (!rx->cf->packet_clock) {
		wt_calltab_update_burst(rx->tab, pkts, ts, n);
		return;
	}
	if (rx->next_scan_ns == 0 && n > 0)
		clock_advance(rx, 0); /* sets the first boundary */
	uint32_t start = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (wt_unlikely(ts[i] >= rx->next_scan_ns)) {
			if (i > start)
				wt_calltab_update_burst(rx->tab, pkts + start, ts + start,
				                        i - start);
			clock_advance(rx, ts[i]);
			start = i;
		}
		if (ts[i] > rx->now_ns)
			rx->now_ns = ts[i];
	}
	if (n > start)
		wt_calltab_update_burst(rx->tab, pkts + start, ts + start, n - start);
}

/* ---- forwarding to the owner lcore ------------------------------------ */

/* Account the packets other lcores forwarded to this one. */
static unsigned int
drain_fwd_in(struct wt_rx *rx)
{
	struct wt_fwd_pkt buf[DRAIN_BURST];
	struct wt_pkt pkts[DRAIN_BURST];
	uint64_t ts[DRAIN_BURST];
	unsigned int total = 0;

	for (unsigned int j = 0; j < rx->cf->n_rx; j++) {
		struct rte_ring *r = rx->fwd_in[j];
		unsigned int n;
		if (r == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst_elem(r, buf, sizeof(buf[0]), DRAIN_BURST,
		                                           NULL)) > 0) {
			for (unsigned int i = 0; i < n; i++) {
				pkts[i] = buf[i].pkt;
				ts[i] = buf[i].ts;
			}
			account(rx, pkts, ts, n);
			rx->st.fwd_in += n;
			total += n;
		}
	}
	return total;
}

/*
 * Send @n packets to owner @j. A full ring is waited for, never dropped;
 * while waiting this lcore keeps taking what others forward to it, so two
 * lcores forwarding to each other cannot deadlock.
 */
static void
forward(struct wt_rx *rx, unsigned int j, const struct wt_fwd_pkt *f, unsigned int n)
{
	unsigned int sent = 0;
	int waited = 0;

	while (sent < n) {
		sent += rte_ring_sp_enqueue_burst_elem(rx->fwd_out[j], f + sent, sizeof(*f),
		                                       n - sent, NULL);
		if (sent < n) {
			waited = 1;
			drain_fwd_in(rx);
			rte_pause();
		}
	}
	rx->st.fwd_full += waited;
	rx->st.fwd_out += n;
}

/* ---- one burst of frames ---------------------------------------------- */

/*
 * --tunnels inner: replace tunnel packet @p by the innermost connection's
 * packet. An outer first fragment whose inner headers were taken marks its
 * datagram, so the later fragments are dropped by name (their bytes are in
 * the inner packet's lengths); an inner fragment goes through the fragment
 * table itself (keyed with its tunnel context).
 */
static wt_noinline enum wt_drop
decap(struct wt_rx *rx, struct rte_mbuf *mb, struct wt_pkt *p, uint64_t t, int is_file)
{
	struct wt_pkt first;
	int outer_first = p->frag == WT_FRAG_FIRST;

	if (outer_first)
		first = *p;
	if (!wt_decap(rte_pktmbuf_mtod(mb, const uint8_t *), rte_pktmbuf_data_len(mb),
	              is_file ? WT_WIRELEN_UNKNOWN : rte_pktmbuf_pkt_len(mb), p,
	              rx->cf->tunnel_seed))
		return WT_DROP_NONE;
	if (outer_first)
		wt_frag_mark_decap(rx->frag, &first);
	if (p->frag != WT_FRAG_NONE)
		return wt_frag_process(rx->frag, p, t > rx->now_ns ? t : rx->now_ns);
	return WT_DROP_NONE;
}

static void
process_mbufs(struct wt_rx *rx, struct rte_mbuf **m, uint16_t nb, int is_file)
{
	const struct wt_pipe_conf *cf = rx->cf;
	struct wt_pkt pkts[WT_CALLTAB_BURST_MAX];
	uint64_t ts[WT_CALLTAB_BURST_MAX];
	static __thread struct wt_fwd_pkt fwd[WT_MAX_RX][WT_CALLTAB_BURST_MAX];
	uint8_t nfwd[WT_MAX_RX];
	struct wt_rx_stats *st = &rx->st;
	uint64_t sys_ts = cf->packet_clock ? 0 : wt_now_ns();
	unsigned int n_rx = cf->n_rx;
	uint32_t n = 0;

	if (n_rx > 1)
		memset(nfwd, 0, n_rx);
	for (uint16_t i = 0; i < nb && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(m[i], void *));

	for (uint16_t i = 0; i < nb; i++) {
		struct rte_mbuf *mb = m[i];
		if (i + PREFETCH_AHEAD < nb)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + PREFETCH_AHEAD], void *));
		uint32_t len = rte_pktmbuf_pkt_len(mb);
		uint64_t t = sys_ts;
		if (cf->packet_clock) {
			t = rx->now_ns;
			if (cf->ts_offset >= 0 && (mb->ol_flags & cf->ts_flag))
				t = *RTE_MBUF_DYNFIELD(mb, cf->ts_offset, uint64_t *) * 1000u;
			if (t > rx->read_max_ns)
				rx->read_max_ns = t;
		}

		st->rx_pkts++;
		st->rx_bytes += len;
		struct wt_pkt *p = &pkts[n];
		enum wt_drop r =
		        wt_parse(rte_pktmbuf_mtod(mb, const uint8_t *), rte_pktmbuf_data_len(mb),
		                 is_file ? WT_WIRELEN_UNKNOWN : len, p);
		if (r == WT_DROP_NONE && wt_unlikely(p->frag != WT_FRAG_NONE))
			r = wt_frag_process(rx->frag, p, t > rx->now_ns ? t : rx->now_ns);
		if (r == WT_DROP_NONE && wt_unlikely(p->tunnel != WT_TUNNEL_NONE) &&
		    cf->tunnels_inner)
			r = decap(rx, mb, p, t, is_file);
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
		unsigned int owner = n_rx > 1 ? wt_owner_of(cf, p) : rx->idx;
		if (wt_likely(owner == rx->idx)) {
			ts[n++] = t;
		} else {
			struct wt_fwd_pkt *f = &fwd[owner][nfwd[owner]++];
			f->pkt = *p;
			f->ts = t;
		}
	}
	account(rx, pkts, ts, n);
	if (n_rx > 1)
		for (unsigned int j = 0; j < n_rx; j++)
			if (nfwd[j])
				forward(rx, j, fwd[j], nfwd[j]);
}

/* ---- reading the ports ------------------------------------------------ */

/* An empty poll of a capture file is its end, unless the pool ran dry. */
static int
file_ended(struct wt_rxq *q)
{
	struct rte_eth_stats es;
	if (rte_eth_stats_get(q->port->port_id, &es) != 0 || es.rx_nombuf == q->last_nombuf)
		return 1;
	q->last_nombuf = es.rx_nombuf;
	return 0;
}

/* Live: poll each queue once. @return packets received. */
static unsigned int
poll_queues(struct wt_rx *rx)
{
	struct rte_mbuf *m[WT_CALLTAB_BURST_MAX];
	unsigned int total = 0;

	for (unsigned int i = 0; i < rx->nq; i++) {
		struct wt_rxq *q = &rx->q[i];
		uint16_t nb = rte_eth_rx_burst(q->port->port_id, q->queue, m, rx->cf->burst);
		if (nb == 0)
			continue;
		process_mbufs(rx, m, nb, q->port->is_file);
		rte_pktmbuf_free_bulk(m, nb);
		total += nb;
	}
	return total;
}

static uint64_t
mbuf_ts(const struct wt_pipe_conf *cf, const struct rte_mbuf *mb)
{
	if (cf->ts_offset >= 0 && (mb->ol_flags & cf->ts_flag))
		return *RTE_MBUF_DYNFIELD(mb, cf->ts_offset, const uint64_t *) * 1000u;
	return 0;
}

/* Every file port is at its end and empty: the input is over. */
static void
reader_check_end(struct wt_rx *rx)
{
	struct wt_ctl *ctl = rx->ctl;
	int all_eof = 1;

	for (unsigned int i = 0; i < rx->nq; i++)
		all_eof &= rx->q[i].eof && rx->q[i].pos == rx->q[i].nb;
	if (all_eof) {
		__atomic_store_n(&ctl->last_ts, rx->read_max_ns, __ATOMIC_RELAXED);
		__atomic_store_n(&ctl->input_done, 1, __ATOMIC_RELEASE);
		producing_done(rx);
	}
}

/* Refill @q when it is used up. @return 0, or -1 when the pool ran dry
 * (the file is not at its end: retry later, order matters). */
static int
reader_refill(struct wt_rx *rx, struct wt_rxq *q)
{
	if (q->pos < q->nb || q->eof)
		return 0;
	q->nb = rte_eth_rx_burst(q->port->port_id, q->queue, q->buf, rx->cf->burst);
	q->pos = 0;
	if (q->nb == 0) {
		if (!file_ended(q))
			return -1;
		q->eof = 1;
	}
	return 0;
}

/*
 * The reader (capture files): every file port is read by this lcore and
 * the files are merged by packet time, as a tap's two directions would
 * have interleaved on the wire; packets then go to their owners in that
 * order. One file needs no merge: its bursts go through whole.
 * @return packets read; sets producing_done at the end of input.
 */
static unsigned int
reader_poll(struct wt_rx *rx)
{
	const struct wt_pipe_conf *cf = rx->cf;
	struct wt_ctl *ctl = rx->ctl;
	struct rte_mbuf *m[WT_CALLTAB_BURST_MAX];
	uint16_t n = 0;

	if (rx->nq == 1) {
		struct wt_rxq *q = &rx->q[0];
		if (reader_refill(rx, q) != 0)
			return 0;
		if (q->pos < q->nb) {
			n = (uint16_t)(q->nb - q->pos);
			struct rte_mbuf **b = q->buf + q->pos;
			if (rx->st.rx_pkts == 0 && __atomic_load_n(&ctl->t0, __ATOMIC_RELAXED) == 0)
				__atomic_store_n(&ctl->t0, mbuf_ts(cf, b[0]), __ATOMIC_RELEASE);
			q->pos = q->nb;
			process_mbufs(rx, b, n, 1);
			rte_pktmbuf_free_bulk(b, n);
			return n;
		}
		reader_check_end(rx);
		return 0;
	}
	while (n < cf->burst) {
		struct wt_rxq *best = NULL;
		uint64_t best_ts = 0;
		int starved = 0;
		for (unsigned int i = 0; i < rx->nq; i++) {
			struct wt_rxq *q = &rx->q[i];
			if (reader_refill(rx, q) != 0)
				starved = 1;
			if (q->pos < q->nb) {
				uint64_t t = mbuf_ts(cf, q->buf[q->pos]);
				if (best == NULL || t < best_ts) {
					best = q;
					best_ts = t;
				}
			}
		}
		if (best == NULL || starved)
			break;
		if (n == 0 && rx->st.rx_pkts == 0 &&
		    __atomic_load_n(&ctl->t0, __ATOMIC_RELAXED) == 0)
			__atomic_store_n(&ctl->t0, best_ts, __ATOMIC_RELEASE);
		m[n++] = best->buf[best->pos++];
	}
	if (n > 0) {
		process_mbufs(rx, m, n, 1);
		rte_pktmbuf_free_bulk(m, n);
		return n;
	}
	reader_check_end(rx);
	return 0;
}

/* Take the scanner's expire requests. */
static unsigned int
drain_requests(struct wt_rx *rx)
{
	struct wt_calltab_expire req[DRAIN_BURST];
	unsigned int n, total = 0;

	if (rx->req_in == NULL)
		return 0;
	while ((n = rte_ring_sc_dequeue_burst_elem(rx->req_in, req, sizeof(req[0]), DRAIN_BURST,
	                                           NULL)) > 0) {
		for (unsigned int i = 0; i < n; i++)
			wt_calltab_expire(rx->tab, &req[i]);
		rx->st.expire_in += n;
		total += n;
	}
	return total;
}

/* Every lcore that forwards to this one has stopped, and its rings are empty. */
static int
inputs_finished(struct wt_rx *rx)
{
	const struct wt_pipe_conf *cf = rx->cf;
	struct wt_ctl *ctl = rx->ctl;
	for (unsigned int j = 0; j < cf->n_rx; j++)
		if (!__atomic_load_n(&ctl->producing_done[j], __ATOMIC_ACQUIRE))
			return 0;
	for (unsigned int j = 0; j < cf->n_rx; j++)
		if (rx->fwd_in[j] != NULL && !rte_ring_empty(rx->fwd_in[j]))
			return 0;
	return 1;
}

/*
 * Shutdown, in order: an lcore stops reading its ports (end of input, a
 * signal, --duration), says it will forward nothing more, keeps
 * accounting what others forward until they have all said so and its
 * rings are empty, then completes every record (end_reason shutdown) and
 * hands every completed record to the exporter before it says it is done.
 */
int
wt_rx_main(void *arg)
{
	struct wt_rx *rx = arg;
	const struct wt_pipe_conf *cf = rx->cf;
	struct wt_ctl *ctl = rx->ctl;

	if (cf->packet_clock && !rx->reader)
		producing_done(rx);
	for (;;) {
		if (!rx->producing_done) {
			if (wt_ctl_stopping(rx->ctl))
				producing_done(rx);
			else if (rx->reader)
				reader_poll(rx);
			else
				poll_queues(rx);
		}
		drain_fwd_in(rx);
		drain_requests(rx);
		flush_kept(rx);
		if (rx->producing_done && inputs_finished(rx)) {
			drain_fwd_in(rx);
			if (cf->packet_clock &&
			    __atomic_load_n(&ctl->input_done, __ATOMIC_ACQUIRE)) {
				/* scans up to the last packet of the whole input */
				uint64_t last = __atomic_load_n(&ctl->last_ts, __ATOMIC_RELAXED);
				if (rx->next_scan_ns != 0 ||
				    __atomic_load_n(&ctl->t0, __ATOMIC_ACQUIRE))
					clock_advance(rx, last);
			}
			wt_calltab_complete_all(rx->tab, WT_END_SHUTDOWN);
			while (rx->n_kept > 0)
				if (flush_kept(rx) == 0)
					rte_pause();
			__atomic_store_n(&rx->ctl->rx_done[rx->idx], 1, __ATOMIC_RELEASE);
			return 0;
		}
	}
}
