/* SPDX-License-Identifier: BSD-3-Clause */
/* stats.c: counters of all lcores: exit summary, stats frame, telemetry, progress line. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "monitor.h"
#include "stats.h"

void
wt_totals_get(const struct wt_pipeline *pl, struct wt_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		const struct wt_rx *rx = &pl->rx[i];
		/* every field of wt_rx_stats is a uint64_t counter */
		const uint64_t *src = (const uint64_t *)(const void *)&rx->st;
		uint64_t *dst = (uint64_t *)(void *)&t->rx;
		for (size_t k = 0; k < sizeof(rx->st) / sizeof(uint64_t); k++)
			dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
		struct wt_calltab_stats ts;
		struct wt_frag_stats fs;
		wt_calltab_get_stats(rx->tab, &ts);
		wt_frag_get_stats(rx->frag, &fs);
		/* every field of wt_calltab_stats is a uint64_t counter too */
		const uint64_t *tsrc = (const uint64_t *)(const void *)&ts;
		uint64_t *tdst = (uint64_t *)(void *)&t->tab;
		for (size_t k = 0; k < sizeof(ts) / sizeof(uint64_t); k++)
			tdst[k] += tsrc[k];
		t->frag.learned += fs.learned;
		t->frag.attributed += fs.attributed;
		t->frag.unattributed += fs.unattributed;
		t->frag.replaced += fs.replaced;
		t->frag.expired += fs.expired;
	}
}

#define PUT(...)                                                                \
	do {                                                                    \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (k_ > 0)                                                     \
			n += (size_t)k_;                                        \
	} while (0)

size_t
wt_stats_text(const struct wt_pipeline *pl, uint64_t run_id, char *buf, size_t len)
{
	struct wt_totals t;
	const struct wt_exporter *ex = &pl->ex;
	size_t n = 0;

	wt_totals_get(pl, &t);
	PUT("run_id=%016" PRIx64 "\nrx_cores=%u\nrun_ns=%" PRIu64 "\n", run_id, pl->cf.n_rx,
	    pl->run_ns);
#define PUT_STAT(f, frame, tel, what) \
	if ((frame) != NULL)          \
		PUT("%s=%" PRIu64 "\n", (const char *)(frame), st->f);
	{
		const struct wt_rx_stats *st = &t.rx;
		WT_FOREACH_RX_STAT(PUT_STAT)
	}
	{
		const struct wt_calltab_stats *st = &t.tab;
		WT_FOREACH_CALLTAB_STAT(PUT_STAT)
	}
	{
		const struct wt_exporter *st = ex;
		WT_FOREACH_EXPORT_STAT(PUT_STAT)
	}
#undef PUT_STAT
	for (unsigned int r = 1; r < WT_DROP_MAX; r++)
		PUT("drop.%s.pkts=%" PRIu64 "\ndrop.%s.bytes=%" PRIu64 "\n", wt_drop_name(r),
		    t.rx.drop_pkts[r], wt_drop_name(r), t.rx.drop_bytes[r]);
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		PUT("note.%s=%" PRIu64 "\n", wt_note_name(b), t.rx.note_pkts[b]);
	PUT("records.idle=%" PRIu64 "\nrecords.evicted=%" PRIu64 "\nrecords.shutdown=%" PRIu64
	    "\nrecords.interim=%" PRIu64 "\nrecords.unwritten=%" PRIu64 "\nlog.refused_ns=%" PRIu64
	    "\n",
	    ex->by_reason[WT_END_IDLE], ex->by_reason[WT_END_EVICTED],
	    ex->by_reason[WT_END_SHUTDOWN], ex->by_reason[WT_END_ACTIVE],
	    ex->n_backlog + ex->printed, wt_export_refused_ns(ex, wt_now_ns()));
	struct wt_seglog_stats ls;
	wt_seglog_writer_stats(ex->log, &ls);
	PUT("log.segments_created=%" PRIu64 "\nlog.segments_archived=%" PRIu64
	    "\nlog.spool_full_waits=%" PRIu64 "\nlog.fallback_segments=%" PRIu64
	    "\nlog.archive_failures=%" PRIu64 "\nlog.recovered_spool_segments=%" PRIu64
	    "\nlog.bytes_compressed=%" PRIu64 "\nlog.bytes_stored=%" PRIu64
	    "\nlog.compress_failures=%" PRIu64 "\n",
	    ls.segments_created, ls.segments_archived, ls.eagain, ls.fallback_segments,
	    ls.archive_failures, ls.recovered_spool, ls.bytes_raw, ls.bytes_stored,
	    ls.compress_failures);
	PUT("scan.passes=%" PRIu64 "\nactive_timeout_ns=%" PRIu64 "\n",
	    pl->cf.packet_clock ? t.tab.scans / (pl->cf.n_rx ? pl->cf.n_rx : 1) : pl->sc.passes,
	    pl->cf.active_timeout_ns);
	PUT("frag.learned=%" PRIu64 "\nfrag.attributed=%" PRIu64 "\nfrag.unattributed=%" PRIu64
	    "\nfrag.replaced=%" PRIu64 "\nfrag.expired=%" PRIu64 "\n",
	    t.frag.learned, t.frag.attributed, t.frag.unattributed, t.frag.replaced,
	    t.frag.expired);
	for (unsigned int i = 0; i < pl->n_ports; i++) {
		struct rte_eth_stats es;
		const struct wt_port *p = &pl->ports[i];
		if (rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		PUT("port.%u.ipackets=%" PRIu64 "\nport.%u.imissed=%" PRIu64
		    "\nport.%u.ierrors=%" PRIu64 "\nport.%u.rx_nombuf=%" PRIu64 "\n",
		    p->port_id, es.ipackets, p->port_id, es.imissed, p->port_id, es.ierrors,
		    p->port_id, es.rx_nombuf);
	}
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		const struct wt_rx *rx = &pl->rx[i];
		PUT("lcore.%u.rx=%u\nlcore.%u.rx_pkts=%" PRIu64 "\nlcore.%u.forwarded_in=%" PRIu64
		    "\n",
		    rx->lcore, i, rx->lcore, rx->st.rx_pkts, rx->lcore, rx->st.fwd_in);
	}
	return n < len ? n : len;
}

void
wt_summary_print(const struct wt_pipeline *pl)
{
	struct wt_totals t;
	const struct wt_exporter *ex = &pl->ex;
	uint64_t sum_p, sum_b;

	wt_totals_get(pl, &t);
	sum_p = t.rx.acct_pkts;
	sum_b = t.rx.acct_bytes;
	fprintf(stderr, "wiretally: summary\n");
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes", "received", t.rx.rx_pkts,
	        t.rx.rx_bytes);
	if (pl->run_ns > 0)
		fprintf(stderr, "  in %.3f s: %.3f Mpps, %.3f Gbps", (double)pl->run_ns / 1e9,
		        (double)t.rx.rx_pkts * 1e3 / (double)pl->run_ns,
		        (double)t.rx.rx_bytes * 8 / (double)pl->run_ns);
	fprintf(stderr, "\n");
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes\n", "in call records",
	        t.rx.acct_pkts, t.rx.acct_bytes);
	for (unsigned int r = 1; r < WT_DROP_MAX; r++) {
		sum_p += t.rx.drop_pkts[r];
		sum_b += t.rx.drop_bytes[r];
		if (t.rx.drop_pkts[r])
			fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes  (%s)\n",
			        wt_drop_name(r), t.rx.drop_pkts[r], t.rx.drop_bytes[r],
			        wt_drop_desc(r));
	}
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes  %s\n", "sum of the above",
	        sum_p, sum_b,
	        sum_p == t.rx.rx_pkts && sum_b == t.rx.rx_bytes ? "= received"
	                                                        : "!= received (BUG)");
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		if (t.rx.note_pkts[b])
			fprintf(stderr, "  note %-19s %14" PRIu64 " pkts  (%s)\n", wt_note_name(b),
			        t.rx.note_pkts[b], wt_note_desc(b));
	uint64_t rec_pkts = ex->written_pkts + ex->backlog_pkts + ex->printed_pkts;
	uint64_t unwritten = ex->n_backlog + ex->printed;
	uint64_t final = ex->by_reason[WT_END_IDLE] + ex->by_reason[WT_END_EVICTED] +
	                 ex->by_reason[WT_END_SHUTDOWN];
	fprintf(stderr,
	        "  records: %" PRIu64 " created, %" PRIu64 " idle, %" PRIu64 " evicted, %" PRIu64
	        " at shutdown",
	        t.tab.created, ex->by_reason[WT_END_IDLE], ex->by_reason[WT_END_EVICTED],
	        ex->by_reason[WT_END_SHUTDOWN]);
	if (pl->cf.active_timeout_ns || ex->by_reason[WT_END_ACTIVE])
		fprintf(stderr, ", %" PRIu64 " interim", ex->by_reason[WT_END_ACTIVE]);
	fprintf(stderr, "; %" PRIu64 " written", ex->written);
	if (ex->written)
		fprintf(stderr, " (seq up to %" PRIu64 ")", wt_seglog_next_seq(ex->log) - 1);
	fprintf(stderr, "\n  records hold %" PRIu64 " pkts %s\n", rec_pkts,
	        rec_pkts == t.rx.acct_pkts ? "= in call records" : "!= in call records (BUG)");
	/* Every created record ends in exactly one final record; interim
	 * records come on top. */
	uint64_t all = final + ex->by_reason[WT_END_ACTIVE];
	fprintf(stderr, "  final records %" PRIu64 " %s; final + interim %" PRIu64 " %s\n", final,
	        final == t.tab.created ? "= created" : "!= created (BUG)", all,
	        all == ex->written + unwritten ? "= written + unwritten"
	                                       : "!= written + unwritten (BUG)");
	fprintf(stderr,
	        "  TCP streams in the records: %" PRIu64 " bytes acknowledged, %" PRIu64
	        " retransmitted, %" PRIu64 " missed\n",
	        t.tab.tcp_acked_bytes, t.tab.tcp_retx_bytes, t.tab.tcp_missed_bytes);
	if (t.tab.tcp_jump_held || t.tab.tcp_hole_untracked)
		fprintf(stderr,
		        "  TCP sequence notes: %" PRIu64 " jumps beyond 16 MiB held (%" PRIu64
		        " confirmed), %" PRIu64 " holes not tracked (%" PRIu64
		        " times the hole pool was empty)\n",
		        t.tab.tcp_jump_held, t.tab.tcp_jump_confirmed, t.tab.tcp_hole_untracked,
		        t.tab.tcp_ext_full);
	if (t.tab.tunnel_calls) {
		fprintf(stderr, "  tunnels: %" PRIu64 " calls inside tunnels", t.tab.tunnel_calls);
		if (t.tab.tunnel_ctx_full)
			fprintf(stderr,
			        ", %" PRIu64 " of them without tunnel ids and outer addresses "
			        "(tunnel context store full)",
			        t.tab.tunnel_ctx_full);
		fprintf(stderr, "\n");
	}
	if (pl->cf.n_rx > 1)
		fprintf(stderr,
		        "  %u RX lcores: %" PRIu64
		        " packets forwarded to their owner lcore (%" PRIu64 " waits for room)\n",
		        pl->cf.n_rx, t.rx.fwd_out, t.rx.fwd_full);
	struct wt_seglog_stats ls;
	wt_seglog_writer_stats(ex->log, &ls);
	fprintf(stderr, "  log: %" PRIu64 " segments", ls.segments_created);
	if (ls.seals_async || ls.segments_archived)
		fprintf(stderr,
		        ", %" PRIu64 " archived from the spool (%" PRIu64 " MiB at %.0f MB/s)",
		        ls.segments_archived, ls.bytes_archived >> 20,
		        ls.archive_ns ? (double)ls.bytes_archived * 1e3 / (double)ls.archive_ns
		                      : 0.0);
	if (ls.fallback_segments)
		fprintf(stderr, ", %" PRIu64 " written directly (no hugepages)",
		        ls.fallback_segments);
	if (ls.archive_failures)
		fprintf(stderr, ", %" PRIu64 " archive failures", ls.archive_failures);
	if (ls.bytes_stored)
		fprintf(stderr,
		        ", %" PRIu64 " KiB of sealed segments stored as %" PRIu64
		        " KiB (zstd, %.1f bytes per record written)",
		        ls.bytes_raw >> 10, ls.bytes_stored >> 10,
		        ex->written ? (double)ls.bytes_stored / (double)ex->written : 0.0);
	if (ls.compress_failures)
		fprintf(stderr, ", %" PRIu64 " left raw (compression failed)",
		        ls.compress_failures);
	fprintf(stderr, "\n");
	if (t.rx.rec_full)
		fprintf(stderr,
		        "  export: %" PRIu64 " records waited for room in a ring (%" PRIu64
		        " stalls)\n",
		        t.rx.rec_full, t.rx.rec_stalls);
	if (ex->retries)
		fprintf(stderr,
		        "  the log refused records %" PRIu64 " times, for %.3f s in all: %" PRIu64
		        " records waited in memory (at most %" PRIu64 " at once), %" PRIu64
		        " of them written later, %" PRIu64 " printed on stderr\n",
		        ex->retries, (double)wt_export_refused_ns(ex, wt_now_ns()) / 1e9,
		        ex->waited, ex->backlog_peak, ex->waited - ex->n_backlog, unwritten);
	if (t.frag.learned || t.frag.unattributed)
		fprintf(stderr,
		        "  fragments: %" PRIu64 " first seen, %" PRIu64 " attributed, %" PRIu64
		        " unattributed\n",
		        t.frag.learned, t.frag.attributed, t.frag.unattributed);
	for (unsigned int i = 0; i < pl->n_ports; i++) {
		struct rte_eth_stats es;
		const struct wt_port *p = &pl->ports[i];
		if (rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		fprintf(stderr,
		        "  port %u %s: %" PRIu64 " received by the port, not received: %" PRIu64
		        " missed, %" PRIu64 " errors, %" PRIu64 " no mbuf\n",
		        p->port_id, p->name, es.ipackets, es.imissed, es.ierrors, es.rx_nombuf);
	}
}

/* ---- rte_telemetry ----------------------------------------------------- */

static const struct wt_pipeline *tel_pl;

#define TEL_STAT(f, frame, tel, what) \
	if ((tel) != NULL)            \
		rte_tel_data_add_dict_u64(d, (const char *)(tel), st->f);

static void
tel_add_rx(struct rte_tel_data *d, const struct wt_rx_stats *st)
{
	WT_FOREACH_RX_STAT(TEL_STAT)
	uint64_t drops = 0;
	for (unsigned int r = 1; r < WT_DROP_MAX; r++)
		drops += st->drop_pkts[r];
	rte_tel_data_add_dict_u64(d, "dropped_pkts", drops);
}

static void
tel_add_tab(struct rte_tel_data *d, const struct wt_calltab_stats *st)
{
	WT_FOREACH_CALLTAB_STAT(TEL_STAT)
}

/* /wiretally/stats: totals of every lcore, the log and the ports. */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct wt_pipeline *pl = tel_pl;
	struct wt_totals t;
	wt_totals_get(pl, &t);
	rte_tel_data_start_dict(d);
	tel_add_rx(d, &t.rx);
	tel_add_tab(d, &t.tab);
	for (unsigned int r = 1; r < WT_DROP_MAX; r++) {
		char name[64];
		snprintf(name, sizeof(name), "drop_%s", wt_drop_name(r));
		rte_tel_data_add_dict_u64(d, name, t.rx.drop_pkts[r]);
	}
	uint64_t imissed = 0, nombuf = 0, ierrors = 0;
	for (unsigned int i = 0; i < pl->n_ports; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(pl->ports[i].port_id, &es) == 0) {
			imissed += es.imissed;
			nombuf += es.rx_nombuf;
			ierrors += es.ierrors;
		}
	}
	rte_tel_data_add_dict_u64(d, "port_imissed", imissed);
	rte_tel_data_add_dict_u64(d, "port_rx_nombuf", nombuf);
	rte_tel_data_add_dict_u64(d, "port_ierrors", ierrors);
	{
		const struct wt_exporter *st = &pl->ex;
		WT_FOREACH_EXPORT_STAT(TEL_STAT)
	}
	rte_tel_data_add_dict_u64(d, "records_unwritten", pl->ex.n_backlog + pl->ex.printed);
	rte_tel_data_add_dict_u64(d, "records_waiting", pl->ex.n_backlog);
	rte_tel_data_add_dict_u64(d, "segments_written",
	                          pl->ex.log ? wt_seglog_segments_created(pl->ex.log) : 0);
	rte_tel_data_add_dict_u64(d, "scan_passes", pl->sc.passes);
	return 0;
}
#undef TEL_STAT

/* /wiretally/lcores: one dictionary per RX lcore, keyed by its lcore id. */
static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const struct wt_pipeline *pl = tel_pl;
	rte_tel_data_start_dict(d);
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		const struct wt_rx *rx = &pl->rx[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (c == NULL)
			return -ENOMEM;
		struct wt_calltab_stats ts;
		wt_calltab_get_stats(rx->tab, &ts);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "rx_index", i);
		rte_tel_data_add_dict_u64(c, "socket", (uint64_t)rx->socket);
		rte_tel_data_add_dict_u64(c, "queues", rx->nq);
		tel_add_rx(c, &rx->st);
		tel_add_tab(c, &ts);
		char name[32];
		snprintf(name, sizeof(name), "lcore_%u", rx->lcore);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	return 0;
}

int
wt_telemetry_init(const struct wt_pipeline *pl)
{
	tel_pl = pl;
	int rc = rte_telemetry_register_cmd("/wiretally/stats", tel_stats,
	                                    "wiretally totals: packets, bytes, drops by reason, "
	                                    "records, ports. No parameters");
	if (rc == 0)
		rc = rte_telemetry_register_cmd("/wiretally/lcores", tel_lcores,
		                                "wiretally per RX lcore counters. No parameters");
	return rc;
}

/* ---- progress line ------------------------------------------------------ */

void
wt_progress_tick(struct wt_progress *pg, const struct wt_pipeline *pl, uint64_t now_ns, int final)
{
	if (!pg->enabled)
		return;
	if (!final && now_ns < pg->last_ns + WT_NS_PER_SEC)
		return;
	struct wt_totals t;
	wt_totals_get(pl, &t);
	uint64_t drops = 0, missed = 0;
	for (unsigned int r = 1; r < WT_DROP_MAX; r++)
		drops += t.rx.drop_pkts[r];
	for (unsigned int i = 0; i < pl->n_ports; i++) {
		struct rte_eth_stats es;
		if (rte_eth_stats_get(pl->ports[i].port_id, &es) == 0)
			missed += es.imissed + es.rx_nombuf;
	}
	if (pg->last_ns != 0) {
		double dt = (double)(now_ns - pg->last_ns) / 1e9;
		double mpps = (double)(t.rx.rx_pkts - pg->last_pkts) / dt / 1e6;
		double gbps = (double)(t.rx.rx_bytes - pg->last_bytes) * 8 / dt / 1e9;
		fprintf(stderr,
		        "\rwiretally: %8.3f Mpps %7.3f Gbps | active %10" PRIu64
		        " | records %12" PRIu64 " | drops %" PRIu64 " | missed %" PRIu64 "   %s",
		        mpps, gbps, t.tab.active, pl->ex.written, drops, missed, final ? "\n" : "");
	}
	pg->last_ns = now_ns;
	pg->last_pkts = t.rx.rx_pkts;
	pg->last_bytes = t.rx.rx_bytes;
}
