/* SPDX-License-Identifier: BSD-3-Clause */
/* pipeline.c: step 5, the pipeline: tables and rings of the RX lcores, the log, IPFIX, telemetry;
 * what was set up is said. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring_elem.h>

#include "ipfix.h"
#include "run.h"
#include "stats.h"
#include "wt_mem.h"

static uint64_t
new_run_id(void)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = wt_now_ns() ^ ((uint64_t)getpid() << 32);
	return (wt_now_ns() / 1000000u) << 22 | (rnd & ((1u << 22) - 1));
}

static struct rte_ring *
make_ring(const char *what, unsigned int a, unsigned int b, unsigned int esize, unsigned int count,
          int socket)
{
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "wt_%s_%u_%u", what, a, b);
	struct rte_ring *r = rte_ring_create_elem(name, esize, rte_align32pow2(count), socket,
	                                          RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL)
		WT_LOG(ERR, "cannot create ring %s (%u x %u bytes): %s\n", name,
		       rte_align32pow2(count), esize, rte_strerror(rte_errno));
	return r;
}

static int
setup_rx(struct wt_pipeline *pl, const struct wt_opts *o, uint64_t run_id, uint64_t seed)
{
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		int socket = (int)rte_lcore_to_socket_id(rx->lcore);
		rx->cf = &pl->cf;
		rx->ctl = &pl->ctl;
		rx->idx = i;
		rx->socket = socket;
		rx->cap_kept = (uint32_t)o->record_ring;
		rx->kept =
		        rte_malloc_socket("wt_kept", rx->cap_kept * sizeof(*rx->kept), 64, socket);
		rx->rec_out = make_ring("rec", i, 0, sizeof(struct wt_callrec),
		                        (unsigned int)o->record_ring, socket);
		rx->req_in = make_ring("req", i, 0, sizeof(struct wt_calltab_expire), 4096, socket);
		if (rx->kept == NULL || rx->rec_out == NULL || rx->req_in == NULL) {
			if (rx->kept == NULL)
				WT_LOG(ERR, "cannot allocate %u kept records\n", rx->cap_kept);
			return -1;
		}
	}
	/* forwarding rings i -> j, on the consumer's socket */
	for (unsigned int i = 0; i < pl->cf.n_rx && pl->cf.n_rx > 1; i++)
		for (unsigned int j = 0; j < pl->cf.n_rx; j++) {
			if (i == j)
				continue;
			struct rte_ring *r =
			        make_ring("fwd", i, j, sizeof(struct wt_fwd_pkt),
			                  (unsigned int)o->forward_ring, pl->rx[j].socket);
			if (r == NULL)
				return -1;
			pl->rx[i].fwd_out[j] = r;
			pl->rx[j].fwd_in[i] = r;
		}
	/* The tables last: they take what hugepages are free and fall back to
	 * ordinary pages, the rings above cannot. */
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		int socket = rx->socket;
		struct wt_calltab_params tp = {.capacity = (uint32_t)o->table_size,
		                               .socket = socket,
		                               .hash_seed = seed,
		                               .vlan_in_key = o->vlan_key,
		                               .lcore_index = (uint8_t)i,
		                               .run_id = run_id,
		                               .active_timeout_ns = pl->cf.active_timeout_ns};
		wt_rx_emit_setup(&tp, rx);
		rx->tab = wt_calltab_create(&tp);
		if (rx->tab == NULL) {
			WT_LOG(ERR,
			       "RX lcore %u: cannot allocate a table of %" PRIu64
			       " records (%.1f GiB) on socket %d: %s\n",
			       rx->lcore, o->table_size, (double)o->table_size * 297 / (1 << 30),
			       socket, strerror(errno));
			return -1;
		}
		rx->frag = wt_frag_create((uint32_t)o->frag_table_size,
		                          (uint64_t)(o->frag_timeout * 1e9), socket);
		if (rx->frag == NULL) {
			WT_LOG(ERR, "RX lcore %u: cannot allocate a fragment table: %s\n",
			       rx->lcore, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void
wt_free_rx(struct wt_pipeline *pl)
{
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		wt_calltab_free(rx->tab);
		wt_frag_free(rx->frag);
		rte_free(rx->kept);
		rte_ring_free(rx->rec_out);
		rte_ring_free(rx->req_in);
		for (unsigned int j = 0; j < pl->cf.n_rx; j++)
			rte_ring_free(rx->fwd_out[j]);
	}
}

/* Queues to RX lcores. Capture files (packet clock): every file to the
 * reader, RX 0. Otherwise queue q of a port goes to RX (q + offset) % N,
 * the offset spreading single-queue ports over the lcores. */
static int
assign_queues(struct wt_pipeline *pl)
{
	unsigned int offset = 0;
	for (unsigned int i = 0; i < pl->n_ports; i++) {
		struct wt_port *p = &pl->ports[i];
		for (uint16_t q = 0; q < p->nb_rxq; q++) {
			unsigned int r = pl->cf.packet_clock ? 0 : (q + offset) % pl->cf.n_rx;
			struct wt_rx *rx = &pl->rx[r];
			if (rx->nq == WT_MAX_RXQ) {
				WT_LOG(ERR, "more than %d queues for RX lcore %u\n", WT_MAX_RXQ,
				       rx->lcore);
				return -1;
			}
			rx->q[rx->nq].port = p;
			rx->q[rx->nq].queue = q;
			rx->nq++;
		}
		if (p->nb_rxq == 1)
			offset++;
	}
	pl->rx[0].reader = pl->cf.packet_clock;
	return 0;
}

static const char *
choose_spool(const struct wt_opts *o, char *buf, size_t len, char *why, size_t wlen)
{
	why[0] = '\0';
	if (o->spool != NULL)
		return o->spool[0] ? o->spool : NULL;
	int e = wt_seglog_spool_auto_dir(o->output, buf, len);
	if (e != 0) {
		snprintf(why, wlen, e == -ENOENT ? "no hugetlbfs mounted" : "spool path too long");
		return NULL;
	}
	if (o->segment_size % (2u << 20) != 0) {
		snprintf(why, wlen, "segment size is not a multiple of 2 MiB");
		return NULL;
	}
	unsigned long freep = wt_mem_free_hugepages();
	uint64_t need = o->spool_segments * o->segment_size;
	if ((uint64_t)freep * (2u << 20) < need) {
		snprintf(why, wlen,
		         "not enough free hugepages (%" PRIu64 " MiB needed, %lu MiB free)",
		         need >> 20, freep * 2);
		return NULL;
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
		snprintf(why, wlen, "cannot create the spool directory: %s", strerror(errno));
		return NULL;
	}
	return buf;
}

int
wt_step_pipeline(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;
	char errbuf[512];

	/* Run id, hash seed, the log, the RX lcores' tables and rings. */
	r->run_id = new_run_id();
	uint64_t seed = o->hash_seed;
	if (!o->hash_seed_set && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = r->run_id * 0x9e3779b97f4a7c15ull;
	pl->ex.dir = o->output;
	pl->ex.max_backlog = o->log_backlog;
	pl->cf.tunnels_inner = o->tunnels_inner;
	pl->cf.tunnel_seed = seed ^ 0x5bd1e9955bd1e995ull;
	if (setup_rx(pl, o, r->run_id, seed) != 0 || assign_queues(pl) != 0)
		return EXIT_SETUP;
	/* each role gets what it uses: the exporter the record rings, the
	 * scanner the tables and their request rings */
	pl->ex.ctl = &pl->ctl;
	pl->ex.n_in = pl->cf.n_rx;
	pl->sc.cf = &pl->cf;
	pl->sc.ctl = &pl->ctl;
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		pl->ex.rec_in[i] = pl->rx[i].rec_out;
		pl->sc.tab[i] = pl->rx[i].tab;
		pl->sc.req[i] = pl->rx[i].req_in;
	}
	/* The log, after the tables so that they get the hugepages first. */
	r->spool = choose_spool(o, r->spool_buf, sizeof(r->spool_buf), r->spool_why,
	                        sizeof(r->spool_why));
	rte_cpuset_t ctl_cpus = rte_lcore_cpuset(rte_get_main_lcore());
	struct wt_seglog_conf lc_conf = {.dir = o->output,
	                                 .segment_size = o->segment_size,
	                                 .run_id = r->run_id,
	                                 .spool_dir = r->spool,
	                                 .spool_segments = (unsigned int)o->spool_segments,
	                                 .archiver_cpus = &ctl_cpus,
	                                 .compress_level = o->compress_level};
	pl->ex.log = wt_seglog_open(&lc_conf, errbuf, sizeof(errbuf));
	if (pl->ex.log == NULL) {
		WT_LOG(ERR, "%s\n", errbuf);
		return EXIT_USAGE;
	}
	if (wt_telemetry_init(pl) != 0)
		WT_LOG(WARNING, "telemetry commands /wiretally/* could not be registered\n");
	if (o->ipfix != NULL) {
		struct wt_ipfix_sender_conf ic = {.url = o->ipfix,
		                                  .domain = (uint32_t)o->ipfix_domain,
		                                  .template_refresh = o->ipfix_template_refresh,
		                                  .cpus = &ctl_cpus,
		                                  .log_dir = o->output,
		                                  .spool_dir = r->spool,
		                                  .first_seq = wt_seglog_next_seq(pl->ex.log),
		                                  .first_segment =
		                                          wt_seglog_next_segment_no(pl->ex.log)};
		pl->ex.ipfix = wt_ipfix_sender_start(&ic, errbuf, sizeof(errbuf));
		if (pl->ex.ipfix == NULL) {
			WT_LOG(ERR, "%s\n", errbuf);
			return EXIT_USAGE;
		}
		if (wt_ipfix_sender_telemetry(pl->ex.ipfix) != 0)
			WT_LOG(WARNING,
			       "telemetry command /wiretally/ipfix could not be registered\n");
	}
	return 0;
}

void
wt_step_say_setup(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;

	for (unsigned int i = 0; i < r->n_ports; i++)
		WT_LOG(INFO, "port %u: %s (%s%s), %u RX queue%s%s%s\n", r->ports[i].port_id,
		       r->ports[i].name, r->ports[i].driver,
		       r->ports[i].is_file ? ", capture file" : "", r->ports[i].nb_rxq,
		       r->ports[i].nb_rxq == 1 ? "" : "s", r->ports[i].rss_note[0] ? "; " : "",
		       r->ports[i].rss_note);
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		char qs[256] = "";
		int len = 0;
		for (unsigned int k = 0; k < pl->rx[i].nq && len < 200; k++)
			len += snprintf(qs + len, sizeof(qs) - (size_t)len, "%s%u:%u", k ? " " : "",
			                pl->rx[i].q[k].port->port_id, pl->rx[i].q[k].queue);
		WT_LOG(INFO, "RX %u on lcore %u (socket %d): %s%s\n", i, pl->rx[i].lcore,
		       pl->rx[i].socket, qs[0] ? "port:queue " : "",
		       qs[0] ? qs : "packets forwarded by the reader");
	}
	unsigned int huge = 0;
	for (unsigned int i = 0; i < pl->cf.n_rx; i++)
		huge += wt_calltab_on_hugepages(pl->rx[i].tab);
	WT_LOG(INFO,
	       "table: %u records per RX lcore, %.1f bytes per record "
	       "(records, "
	       "cold data and index), %.1f MiB in all, %s\n",
	       wt_calltab_capacity(pl->rx[0].tab), wt_calltab_bytes_per_record(pl->rx[0].tab),
	       (double)wt_calltab_memory(pl->rx[0].tab) * pl->cf.n_rx / (1 << 20),
	       huge == pl->cf.n_rx ? "on 2 MiB hugepages"
	       : huge == 0         ? "on normal pages (not enough free hugepages: more TLB misses)"
	                           : "partly on normal pages (hugepages ran out)");
	char interim[96] = "no interim records";
	if (pl->cf.active_timeout_ns)
		snprintf(interim, sizeof(interim), "interim records of calls running %g s",
		         (double)pl->cf.active_timeout_ns / 1e9);
	WT_LOG(INFO,
	       "clock: %s; completion scan every %g s (%s); %s; VLAN %s the "
	       "key\n",
	       pl->cf.packet_clock ? "packet timestamps" : "system time", o->scan_interval,
	       pl->cf.packet_clock ? "by each table's owner, at packet time" : "by the scanner",
	       interim, o->vlan_key ? "in" : "not in");
	WT_LOG(INFO,
	       "control on lcore %u, exporter on lcore %u, scanner on lcore "
	       "%u%s\n",
	       r->main_lc, pl->ex.lcore, pl->sc.lcore,
	       pl->cf.packet_clock ? " (idle: the tables' owners scan at packet time)" : "");
	struct wt_seglog_stats ls;
	char mode[PATH_MAX + 300];
	wt_seglog_writer_stats(pl->ex.log, &ls);
	if (ls.recovered_spool)
		WT_LOG(INFO,
		       "recovered %" PRIu64 " segments a previous run left in "
		       "the spool\n",
		       ls.recovered_spool);
	if (wt_seglog_recovered_path(pl->ex.log)[0] != '\0')
		WT_LOG(INFO,
		       "recovered the unsealed segment %s a previous run left "
		       "(%" PRIu64 " records kept; sealed as recovered)\n",
		       wt_seglog_recovered_path(pl->ex.log),
		       wt_seglog_recovered_records(pl->ex.log));
	if (r->spool)
		snprintf(mode, sizeof(mode),
		         "through the spool %s (%" PRIu64 " segments; archived with fsync)",
		         r->spool, o->spool_segments);
	else
		snprintf(mode, sizeof(mode), "directly%s%s%s",
		         r->spool_why[0] ? " (no spool: " : "", r->spool_why,
		         r->spool_why[0] ? ")" : "");
	char zs[48] = "";
	if (o->compress_level != 0)
		snprintf(zs, sizeof(zs), ", stored zstd-compressed (level %d) once sealed",
		         o->compress_level);
	WT_LOG(INFO,
	       "writing to %s (segments of %" PRIu64 " %s%s) %s, run id %016" PRIx64
	       ", next seq %" PRIu64 "\n",
	       o->output,
	       o->segment_size % (1u << 20) == 0 ? o->segment_size >> 20 : o->segment_size >> 10,
	       o->segment_size % (1u << 20) == 0 ? "MiB" : "KiB", zs, mode, r->run_id,
	       wt_seglog_next_seq(pl->ex.log));
	if (o->ipfix_queue_given)
		WT_LOG(WARNING, "--ipfix-queue is no longer used: the IPFIX "
		                "sender reads every record from the log\n");
	if (o->ipfix != NULL)
		WT_LOG(INFO,
		       "IPFIX: every record written is also sent to %s "
		       "(observation domain %" PRIu64 "), read from the log\n",
		       o->ipfix, o->ipfix_domain);
}
