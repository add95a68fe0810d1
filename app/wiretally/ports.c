/* SPDX-License-Identifier: BSD-3-Clause */
/* ports.c: step 4, the ports: selected, described, configured with the symmetric RSS key; sharding.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_thash.h>

#include "run.h"

static int
port_selected(const struct wt_opts *o, uint16_t pid)
{
	if (o->n_ports == 0)
		return 1;
	for (unsigned int i = 0; i < o->n_ports; i++)
		if (o->ports[i] == pid)
			return 1;
	return 0;
}

/*
 * net_pcap's infinite_rx loads every packet of its files into mbufs of the
 * queue's pool: count them, so the pool can hold them. @return packets in
 * the rx_pcap= files of @args (0 when none can be read).
 */
static uint64_t
infinite_rx_packets(const char *args)
{
	uint64_t total = 0;
	for (const char *a = strstr(args, "rx_pcap="); a; a = strstr(a + 1, "rx_pcap=")) {
		char path[PATH_MAX];
		size_t n = strcspn(a + 8, ",");
		if (n >= sizeof(path))
			continue;
		memcpy(path, a + 8, n);
		path[n] = '\0';
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline(path, errbuf);
		if (p == NULL)
			continue;
		struct pcap_pkthdr *h;
		const u_char *d;
		while (pcap_next_ex(p, &h, &d) == 1)
			total++;
		pcap_close(p);
	}
	return total;
}

static void
describe_port(struct wt_port *p)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da = NULL;
	rte_eth_dev_get_name_by_port(p->port_id, p->name);
	if (rte_eth_dev_info_get(p->port_id, &info) == 0) {
		if (info.driver_name)
			snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
		if (info.device)
			da = rte_dev_devargs(info.device);
	}
	const char *args = da && da->args ? da->args : "";
	if (strcmp(p->driver, "net_pcap") == 0 && strstr(args, "rx_pcap=") != NULL) {
		p->is_file = 1;
		p->is_infinite = strstr(args, "infinite_rx=1") != NULL;
		if (p->is_infinite)
			p->preload = infinite_rx_packets(args);
	}
}

/* ---- ports, queues and RSS ---------------------------------------------- */

/* The symmetric RSS key (0x6D5A repeated) at the length the NIC wants. */
static void
symmetric_key(uint8_t *key, unsigned int len)
{
	for (unsigned int i = 0; i < len; i++)
		key[i] = wt_rss_key_symmetric[i % 2];
}

/*
 * Check a port's RSS the way traffic will use it: read back the key and the
 * redirection table the NIC really has, hash tuples in both directions
 * with that key (rte_softrss(), as the NIC does) and look them up in that
 * table: both directions must reach the same queue, the one wiretally's
 * software sharding would choose. @return 0 when symmetric, else -1 with
 * p->rss_note saying what differs.
 */
static int
check_rss(struct wt_port *p, const struct wt_pipeline *pl, uint16_t reta_size)
{
	uint8_t key[128];
	struct rte_eth_rss_conf rc = {.rss_key = key, .rss_key_len = sizeof(key)};
	struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE];

	if (rte_eth_dev_rss_hash_conf_get(p->port_id, &rc) != 0) {
		snprintf(p->rss_note, sizeof(p->rss_note), "cannot read the RSS key back");
		return -1;
	}
	memset(reta, 0, sizeof(reta));
	for (unsigned int g = 0; g < reta_size / RTE_ETH_RETA_GROUP_SIZE; g++)
		reta[g].mask = ~0ull;
	if (rte_eth_dev_rss_reta_query(p->port_id, reta, reta_size) != 0) {
		snprintf(p->rss_note, sizeof(p->rss_note),
		         "cannot read the redirection table back");
		return -1;
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 64; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t a = (uint32_t)(x >> 32), b = (uint32_t)x;
		uint16_t pa = (uint16_t)(x >> 17), pb = (uint16_t)(x >> 40);
		uint32_t fwd[3] = {a, b, (uint32_t)pa << 16 | pb};
		uint32_t rev[3] = {b, a, (uint32_t)pb << 16 | pa};
		uint32_t hf = rte_softrss(fwd, 3, key), hr = rte_softrss(rev, 3, key);
		unsigned int ef = hf & (reta_size - 1u), er = hr & (reta_size - 1u);
		uint16_t qf = reta[ef / RTE_ETH_RETA_GROUP_SIZE].reta[ef % RTE_ETH_RETA_GROUP_SIZE];
		uint16_t qr = reta[er / RTE_ETH_RETA_GROUP_SIZE].reta[er % RTE_ETH_RETA_GROUP_SIZE];
		if (qf != qr) {
			snprintf(
			        p->rss_note, sizeof(p->rss_note),
			        "not symmetric: the two directions of a connection reach queues %u "
			        "and %u (the NIC's key is not the one programmed)",
			        qf, qr);
			return -1;
		}
		if (qf != pl->cf.shard[hf & pl->cf.shard_mask]) {
			snprintf(p->rss_note, sizeof(p->rss_note),
			         "symmetric, but its queues differ from wiretally's sharding");
			return -1;
		}
	}
	snprintf(p->rss_note, sizeof(p->rss_note), "symmetric RSS checked (64 tuples, both ways)");
	return 0;
}

static int
setup_port(struct wt_port *p, struct wt_pipeline *pl, struct rte_mempool *pool,
           const struct wt_opts *o)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint8_t key[128];
	uint16_t nb_rxd = (uint16_t)o->rx_desc, nb_txd = 64;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		goto fail;
	/* A capture file is one queue (read by one lcore, merged by time);
	 * anything else gets one queue per RX lcore when it has them. */
	p->nb_rxq = 1;
	if (!(p->is_file && !p->is_infinite))
		p->nb_rxq = (uint16_t)RTE_MIN((unsigned int)pl->cf.n_rx,
		                              (unsigned int)info.max_rx_queues);
	if (p->nb_rxq == 0)
		p->nb_rxq = 1;
	uint64_t hf =
	        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
	if (p->nb_rxq > 1 && hf != 0) {
		unsigned int klen = info.hash_key_size ? info.hash_key_size : 40;
		if (klen > sizeof(key))
			klen = sizeof(key);
		symmetric_key(key, klen);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)klen;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
		p->rss = 1;
	} else if (p->nb_rxq > 1) {
		snprintf(
		        p->rss_note, sizeof(p->rss_note),
		        "no RSS: the driver spreads packets itself; wiretally forwards each to its "
		        "owner lcore");
	}
	rc = rte_eth_dev_configure(p->port_id, p->nb_rxq, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	int sock = rte_eth_dev_socket_id(p->port_id);
	if (sock < 0)
		sock = (int)rte_socket_id();
	for (uint16_t q = 0; rc == 0 && q < p->nb_rxq; q++)
		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, (unsigned int)sock, NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, (unsigned int)sock, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		goto fail;
	(void)rte_eth_promiscuous_enable(p->port_id); /* taps: every frame, not just ours */
	if (p->rss) {
		/* The redirection table: entry e -> the owner wiretally's software
		 * sharding gives hashes ending in e, so hardware and software agree. */
		uint16_t rs = info.reta_size;
		struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE];
		memset(reta, 0, sizeof(reta));
		if (rs >= RTE_ETH_RETA_GROUP_SIZE && rs <= 512) {
			for (unsigned int e = 0; e < rs; e++) {
				reta[e / RTE_ETH_RETA_GROUP_SIZE].mask |=
				        1ull << (e % RTE_ETH_RETA_GROUP_SIZE);
				reta[e / RTE_ETH_RETA_GROUP_SIZE]
				        .reta[e % RTE_ETH_RETA_GROUP_SIZE] =
				        pl->cf.shard[e & pl->cf.shard_mask];
			}
			rc = rte_eth_dev_rss_reta_update(p->port_id, reta, rs);
		} else {
			rc = -ENOTSUP;
		}
		if (rc != 0 || check_rss(p, pl, rs) != 0) {
			if (rc != 0)
				snprintf(p->rss_note, sizeof(p->rss_note),
				         "redirection table not programmable (%s)",
				         rte_strerror(-rc));
			WT_LOG(WARNING,
			       "port %u (%s): RSS %s; both directions of a connection may reach "
			       "different queues: wiretally forwards every packet to its owner "
			       "lcore "
			       "(records stay whole; it costs throughput)\n",
			       p->port_id, p->name, p->rss_note);
			p->rss = 0;
		}
	}
	return 0;
fail:
	WT_LOG(ERR, "port %u (%s): cannot be configured with %u RX queues: %s\n", p->port_id,
	       p->name, p->nb_rxq, rte_strerror(-rc));
	return -1;
}

/* The software RETA: hash -> owner RX index. It only uses the hash bits
 * every RSS port's redirection table uses, so NICs with tables of
 * different sizes and software sharding all agree. */
static void
init_shard_table(struct wt_pipeline *pl, uint32_t reta_min)
{
	pl->cf.shard_mask = WT_SHARD_TABLE - 1;
	for (unsigned int e = 0; e < WT_SHARD_TABLE; e++)
		pl->cf.shard[e] = (uint8_t)((e & (reta_min - 1)) % pl->cf.n_rx);
}

/*
 * The run id, call_id[0] of every record of this run (docs/FORMAT.md): the
 * start time in ms since the epoch (42 bits, until the year 2109) above 22
 * random bits. Two starts on one machine differ in their milliseconds (a
 * start takes far longer), so a restart never reuses a run id and call_ids
 * never collide across restarts, while the clock does not step back; two
 * monitors started in the same millisecond elsewhere collide with
 * probability 2^-22.
 */

int
wt_step_ports(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;

	/* Ports */
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (!port_selected(o, pid) || r->n_ports == WT_MAX_PORTS)
			continue;
		r->ports[r->n_ports].port_id = pid;
		describe_port(&r->ports[r->n_ports]);
		r->n_ports++;
	}
	pl->n_ports = r->n_ports;
	for (unsigned int i = 0; i < o->n_ports; i++)
		if (!rte_eth_dev_is_valid_port(o->ports[i])) {
			WT_LOG(ERR, "--port %u: no such port (%u ports available)\n", o->ports[i],
			       rte_eth_dev_count_avail());
			return EXIT_USAGE;
		}
	if (r->n_ports == 0) {
		WT_LOG(ERR, "no ports to read from (no device found by the EAL)\n");
		return EXIT_USAGE;
	}
	pl->cf.packet_clock = 1;
	for (unsigned int i = 0; i < r->n_ports; i++)
		if (!r->ports[i].is_file || r->ports[i].is_infinite)
			pl->cf.packet_clock = 0;
	/* Sharding: the smallest redirection table of any multi-queue RSS port
	 * bounds the hash bits used (512 when there is none). */
	uint32_t reta_min = WT_SHARD_TABLE;
	for (unsigned int i = 0; i < r->n_ports; i++) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(r->ports[i].port_id, &info) == 0 && info.reta_size >= 64 &&
		    info.max_rx_queues > 1 && pl->cf.n_rx > 1 && !r->ports[i].is_file)
			reta_min = RTE_MIN(reta_min, (uint32_t)rte_align32prevpow2(info.reta_size));
	}
	init_shard_table(pl, reta_min);

	uint64_t nq_total = 0;
	for (unsigned int i = 0; i < r->n_ports; i++)
		nq_total += r->ports[i].is_file && !r->ports[i].is_infinite ? 1 : pl->cf.n_rx;
	uint64_t mbufs = RTE_MAX(o->mbufs, nq_total * o->rx_desc + 2048 * pl->cf.n_rx);
	for (unsigned int i = 0; i < r->n_ports; i++)
		mbufs += r->ports[i].preload; /* net_pcap infinite_rx keeps its files in mbufs */
	struct rte_mempool *pool =
	        rte_pktmbuf_pool_create("wt_mbufs", (unsigned int)mbufs, 256, 0,
	                                RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		WT_LOG(ERR, "cannot create a pool of %" PRIu64 " mbufs: %s\n", mbufs,
		       rte_strerror(rte_errno));
		return EXIT_SETUP;
	}
	pl->cf.burst = (uint16_t)o->burst;
	pl->cf.scan_interval_ns = (uint64_t)(o->scan_interval * 1e9);
	pl->cf.active_timeout_ns =
	        (uint64_t)(wt_opts_active_timeout(o, pl->cf.packet_clock) * 1e9 + 0.5);
	for (unsigned int i = 0; i < r->n_ports; i++)
		if (setup_port(&r->ports[i], pl, pool, o) != 0)
			return EXIT_SETUP;
	pl->cf.ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int ts_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	pl->cf.ts_flag = ts_bit >= 0 ? 1ull << ts_bit : 0;
	if (pl->cf.ts_flag == 0)
		pl->cf.ts_offset = -1;
	return 0;
}
