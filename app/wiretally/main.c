/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally, the call-record monitor: set-up, lcore roles, control loop, shutdown. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_ring_elem.h>
#include <rte_thash.h>

#include "capture.h"
#include "ipfix.h"
#include "monitor.h"
#include "options.h"
#include "rundir.h"
#include "stats.h"
#include "wt_ipfix_export.h"

RTE_LOG_REGISTER(wt_logtype, wiretally, INFO);

/* Exit codes */
#define EXIT_USAGE  1 /* bad option, config, input, output directory or lcore list */
#define EXIT_SETUP  2 /* EAL, port, memory or log could not be set up */
#define EXIT_OUTPUT 3 /* records could not all be written to the log */

static volatile sig_atomic_t force_quit;
static volatile sig_atomic_t hup_seen;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_seen = 1;
	else
		force_quit = 1;
}

/*
 * SIGHUP reloads nothing: every option is read once at start (tables, rings
 * and lcores are sized from them). Say so, and whether the config file
 * changed since start, so that an operator who expected a reload knows a
 * restart is needed.
 */
static void
say_no_reload(const char *config, const struct timespec *mtime_at_start)
{
	struct stat sb;
	const char *what = "";
	if (config != NULL && config[0] != '\0') {
		if (stat(config, &sb) != 0)
			what = " (the config file cannot be read now)";
		else if (sb.st_mtim.tv_sec != mtime_at_start->tv_sec ||
		         sb.st_mtim.tv_nsec != mtime_at_start->tv_nsec)
			what = " (the config file changed since start)";
		else
			what = " (the config file is unchanged since start)";
	}
	fprintf(stderr,
	        "wiretally: SIGHUP: nothing is reloaded; restart wiretally to apply a changed "
	        "configuration%s\n",
	        what);
}

/* ---- set-up helpers ----------------------------------------------------- */

static int
check_output_dir(const char *dir, int quiet)
{
	struct stat sb;
	if (stat(dir, &sb) != 0 && errno == ENOENT) {
		/* created with its missing parents, mode 0750 (less the umask) */
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s", dir);
		for (char *c = p + 1;; c++) {
			if (*c != '/' && *c != '\0')
				continue;
			char was = *c;
			*c = '\0';
			if (mkdir(p, 0750) != 0 && errno != EEXIST) {
				fprintf(stderr,
				        "wiretally: output directory %s: cannot create %s: %s\n",
				        dir, p, strerror(errno));
				return -1;
			}
			*c = was;
			if (was == '\0')
				break;
		}
		if (!quiet)
			fprintf(stderr, "wiretally: output directory %s created (mode 0750)\n",
			        dir);
	}
	if (stat(dir, &sb) != 0) {
		fprintf(stderr, "wiretally: output directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "wiretally: output directory %s: not a directory\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "wiretally: output directory %s: not writable: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	return 0;
}

static int
hugepages_usable(void)
{
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	unsigned long freep = 0;
	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &freep) != 1)
		freep = 0;
	fclose(f);
	if (freep < 64) /* 128 MiB: pool and ports */
		return 0;
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return 0;
	char line[512];
	int mounted = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs ") != NULL)
			mounted = 1;
	fclose(f);
	return mounted;
}

/* CPUs this process may run on, in order. @return how many. */
static unsigned int
allowed_cpus(int *cpus, unsigned int max)
{
	cpu_set_t set;
	unsigned int n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	return n;
}

#define MAX_EAL_ARGS 256

struct eal_args {
	int argc;
	char *argv[MAX_EAL_ARGS];
};

static void eal_push(struct eal_args *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
eal_push(struct eal_args *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (a->argc < MAX_EAL_ARGS - 1) {
		a->argv[a->argc++] = strdup(buf);
		a->argv[a->argc] = NULL;
	}
}

/*
 * EAL arguments. With user EAL options ("wiretally [EAL] -- [opts]") they are
 * used as given, plus a vdev for each --pcap/--iface. Without, wiretally
 * chooses: lcore 0 (control, scanner, exporter) on the first allowed CPU and
 * one lcore per RX role on the next CPUs, wrapping around (on a 2-CPU
 * machine with --rx-cores 2 the second RX lcore shares the control lcore's
 * CPU; the control lcore sleeps when idle); its own file prefix (several
 * monitors can run); no PCI probing (PCI ports are given with EAL options);
 * hugepages when enough are free, else --no-huge; quiet EAL logs.
 */
static void
build_eal_args(struct eal_args *a, const struct wt_opts *o, int user_argc, char **user_argv)
{
	a->argc = 0;
	for (int i = 0; i < user_argc; i++)
		eal_push(a, "%s", user_argv[i]);
	if (user_argc <= 1) {
		int cpus[256];
		unsigned int ncpu = allowed_cpus(cpus, 256);
		char map[2048];
		int len = snprintf(map, sizeof(map), "0@%d", cpus[0]);
		/* main, then the RX lcores, then (when the CPUs are there and the
		 * roles are "auto") one lcore each for the exporter and the scanner */
		unsigned int n = (unsigned int)o->rx_cores;
		if (ncpu >= n + 3 && o->export_lcore == -2)
			n++;
		if (ncpu >= n + 2 && o->scan_lcore == -2)
			n++;
		for (unsigned int i = 1; i <= n && len < (int)sizeof(map) - 16; i++)
			len += snprintf(map + len, sizeof(map) - (size_t)len, ",%u@%d", i,
			                cpus[i % ncpu]);
		eal_push(a, "--lcores=%s", map);
		eal_push(a, "--file-prefix=wiretally-%d", (int)getpid());
		eal_push(a, "--no-pci");
		if (hugepages_usable()) {
			eal_push(a, "--huge-unlink");
		} else {
			uint64_t pool_mb = (o->mbufs * 2560) >> 20;
			/* the IPFIX sender's queue: an exact-size ring has the next
			 * power of two above the count */
			uint64_t ipfix_slots = rte_align64pow2(o->ipfix_queue + 1);
			uint64_t ipfix_mb =
			        o->ipfix ? ((ipfix_slots * sizeof(struct wt_callrec)) >> 20) + 1
			                 : 0;
			eal_push(a, "--no-huge");
			eal_push(a, "-m");
			eal_push(a, "%" PRIu64, 192 + pool_mb + 64 * o->rx_cores + ipfix_mb);
		}
		eal_push(a, "--log-level=lib.eal:warning");
		eal_push(a, "--log-level=lib.telemetry:error");
	}
	for (unsigned int i = 0; i < o->n_pcap; i++) {
		eal_push(a, "--vdev");
		eal_push(a, "net_pcap_wt%u,rx_pcap=%s", i, o->pcap[i]);
	}
	for (unsigned int i = 0; i < o->n_iface; i++) {
		eal_push(a, "--vdev");
		eal_push(a, "net_af_packet_wt%u,iface=%s,qpairs=%" PRIu64 ",framecnt=4096", i,
		         o->iface[i], o->rx_cores);
	}
}

/*
 * The spool directory. Explicit: as given. Auto: a directory on the
 * hugetlbfs mount named after the output directory's real path (so a
 * restart finds what a crash left there), when hugepages for all the spool
 * segments are free and the segment size is a multiple of 2 MiB; else no
 * spool, and @why says why. @return the directory, or NULL for none.
 */
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
	unsigned long freep = 0;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	if (f != NULL) {
		if (fscanf(f, "%lu", &freep) != 1)
			freep = 0;
		fclose(f);
	}
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
		if (qf != pl->shard[hf & pl->shard_mask]) {
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
		p->nb_rxq =
		        (uint16_t)RTE_MIN((unsigned int)pl->n_rx, (unsigned int)info.max_rx_queues);
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
				        pl->shard[e & pl->shard_mask];
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
	fprintf(stderr, "wiretally: port %u (%s): cannot be configured with %u RX queues: %s\n",
	        p->port_id, p->name, p->nb_rxq, rte_strerror(-rc));
	return -1;
}

/* The software RETA: hash -> owner RX index. It only uses the hash bits
 * every RSS port's redirection table uses, so NICs with tables of
 * different sizes and software sharding all agree. */
static void
init_shard_table(struct wt_pipeline *pl, uint32_t reta_min)
{
	pl->shard_mask = WT_SHARD_TABLE - 1;
	for (unsigned int e = 0; e < WT_SHARD_TABLE; e++)
		pl->shard[e] = (uint8_t)((e & (reta_min - 1)) % pl->n_rx);
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
static uint64_t
new_run_id(void)
{
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = wt_now_ns() ^ ((uint64_t)getpid() << 32);
	return (wt_now_ns() / 1000000u) << 22 | (rnd & ((1u << 22) - 1));
}

/* ---- per RX lcore resources ----------------------------------------------- */

static struct rte_ring *
make_ring(const char *what, unsigned int a, unsigned int b, unsigned int esize, unsigned int count,
          int socket)
{
	char name[RTE_RING_NAMESIZE];
	snprintf(name, sizeof(name), "wt_%s_%u_%u", what, a, b);
	struct rte_ring *r = rte_ring_create_elem(name, esize, rte_align32pow2(count), socket,
	                                          RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r == NULL)
		fprintf(stderr, "wiretally: cannot create ring %s (%u x %u bytes): %s\n", name,
		        rte_align32pow2(count), esize, rte_strerror(rte_errno));
	return r;
}

static int
setup_rx(struct wt_pipeline *pl, const struct wt_opts *o, uint64_t run_id, uint64_t seed)
{
	for (unsigned int i = 0; i < pl->n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		int socket = (int)rte_lcore_to_socket_id(rx->lcore);
		rx->pl = pl;
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
				fprintf(stderr, "wiretally: cannot allocate %u kept records\n",
				        rx->cap_kept);
			return -1;
		}
	}
	/* forwarding rings i -> j, on the consumer's socket */
	for (unsigned int i = 0; i < pl->n_rx && pl->n_rx > 1; i++)
		for (unsigned int j = 0; j < pl->n_rx; j++) {
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
	for (unsigned int i = 0; i < pl->n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		int socket = rx->socket;
		struct wt_calltab_params tp = {.capacity = (uint32_t)o->table_size,
		                               .socket = socket,
		                               .hash_seed = seed,
		                               .vlan_in_key = o->vlan_key,
		                               .lcore_index = (uint8_t)i,
		                               .run_id = run_id,
		                               .active_timeout_ns = pl->active_timeout_ns};
		wt_rx_emit_setup(&tp, rx);
		rx->tab = wt_calltab_create(&tp);
		if (rx->tab == NULL) {
			fprintf(stderr,
			        "wiretally: RX lcore %u: cannot allocate a table of %" PRIu64
			        " records (%.1f GiB) on socket %d: %s\n",
			        rx->lcore, o->table_size, (double)o->table_size * 297 / (1 << 30),
			        socket, strerror(errno));
			return -1;
		}
		rx->frag = wt_frag_create((uint32_t)o->frag_table_size,
		                          (uint64_t)(o->frag_timeout * 1e9), socket);
		if (rx->frag == NULL) {
			fprintf(stderr,
			        "wiretally: RX lcore %u: cannot allocate a fragment table: %s\n",
			        rx->lcore, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
free_rx(struct wt_pipeline *pl)
{
	for (unsigned int i = 0; i < pl->n_rx; i++) {
		struct wt_rx *rx = &pl->rx[i];
		wt_calltab_free(rx->tab);
		wt_frag_free(rx->frag);
		rte_free(rx->kept);
		rte_ring_free(rx->rec_out);
		rte_ring_free(rx->req_in);
		for (unsigned int j = 0; j < pl->n_rx; j++)
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
			unsigned int r = pl->packet_clock ? 0 : (q + offset) % pl->n_rx;
			struct wt_rx *rx = &pl->rx[r];
			if (rx->nq == WT_MAX_RXQ) {
				fprintf(stderr, "wiretally: more than %d queues for RX lcore %u\n",
				        WT_MAX_RXQ, rx->lcore);
				return -1;
			}
			rx->q[rx->nq].port = p;
			rx->q[rx->nq].queue = q;
			rx->nq++;
		}
		if (p->nb_rxq == 1)
			offset++;
	}
	pl->rx[0].reader = pl->packet_clock;
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

static struct wt_pipeline pl;
static struct wt_port ports[WT_MAX_PORTS];

int
main(int argc, char **argv)
{
	struct wt_opts o;
	int user_eal_argc = 1, app_argc = argc, rc = 0;
	char **app_argv = argv;
	char errbuf[512];
	unsigned int n_ports = 0;
	int eal_up = 0, launched = 0;
	char rundir[4096] = "";
	const char *spool = NULL;
	char spool_buf[PATH_MAX], spool_why[256] = "";

	/* "wiretally [EAL options] -- [options]" or "wiretally [options]" */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			user_eal_argc = i;
			app_argc = argc - i;
			app_argv = argv + i; /* argv[i] ("--") stands in for the program name */
			break;
		}
	}
	if (wt_opts_parse(&o, app_argc, app_argv) != 0)
		return EXIT_USAGE;
	if (o.help) {
		wt_opts_usage("wiretally");
		return 0;
	}
	if (o.version) {
		printf("wiretally %s\n", WT_VERSION);
		return 0;
	}
	if (o.output == NULL) {
		fprintf(stderr, "wiretally: no output directory: give -o DIR (or output = DIR in "
		                "the config file)\n");
		return EXIT_USAGE;
	}
	if (check_output_dir(o.output, o.quiet) != 0)
		return EXIT_USAGE;
	if (o.ipfix != NULL) {
		struct wt_ipfix_url u;
		if (wt_ipfix_url_parse(o.ipfix, &u, errbuf, sizeof(errbuf)) != 0) {
			fprintf(stderr, "wiretally: --ipfix: %s\n", errbuf);
			return EXIT_USAGE;
		}
	}
	/* captures: checked for Ethernet; a stream (-, a FIFO) is read once,
	 * through a pipe net_pcap opens (capture.c) */
	static char pcap_dev[WT_MAX_INPUTS][PATH_MAX];
	for (unsigned int i = 0; i < o.n_pcap; i++) {
		if (wt_capture_prepare(o.pcap[i], pcap_dev[i], sizeof(pcap_dev[i])) != 0)
			return EXIT_USAGE;
		o.pcap[i] = pcap_dev[i];
	}
	for (unsigned int i = 0; i < o.n_iface; i++)
		if (if_nametoindex(o.iface[i]) == 0) {
			fprintf(stderr, "wiretally: interface %s: %s\n", o.iface[i],
			        strerror(errno));
			return EXIT_USAGE;
		}
	if (user_eal_argc <= 1 && o.n_pcap == 0 && o.n_iface == 0) {
		fprintf(stderr, "wiretally: no input: give --pcap FILE, --iface NAME, or EAL "
		                "options with a device before '--' (see --help)\n");
		return EXIT_USAGE;
	}

	struct eal_args ea;
	build_eal_args(&ea, &o, user_eal_argc, argv);
	/* our own file prefix (wiretally-PID): the runtime directories of
	 * killed runs go now (rundir.c) */
	if (user_eal_argc <= 1) {
		wt_rundir_sweep();
		wt_rundir_path(rundir, sizeof(rundir), (int)getpid());
	}
	if (rte_eal_init(ea.argc, ea.argv) < 0) {
		fprintf(stderr, "wiretally: EAL initialisation failed: %s\n",
		        rte_strerror(rte_errno));
		if (rundir[0] != '\0')
			wt_rundir_remove(rundir);
		return EXIT_SETUP;
	}
	eal_up = 1;
	/* the primary process owns its runtime directory (any prefix): gone
	 * at exit, after rte_eal_cleanup() */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	else
		rundir[0] = '\0';
	rte_openlog_stream(stderr);

	/* Lcore roles: the main lcore controls, scans and exports; RX roles
	 * take the worker lcores in order. */
	pl.n_rx = (unsigned int)o.rx_cores;
	pl.ports = ports;
	unsigned int main_lc = rte_get_main_lcore(), workers[RTE_MAX_LCORE], nw = 0, lc;
	int want[2] = {o.export_lcore, o.scan_lcore};
	const char *role_opt[2] = {"--export-lcore", "--scan-lcore"};
	for (int r = 0; r < 2; r++) {
		if (want[r] >= 0 && !rte_lcore_is_enabled((unsigned int)want[r])) {
			fprintf(stderr,
			        "wiretally: %s %d: not an lcore of the EAL (see -l/--lcores)\n",
			        role_opt[r], want[r]);
			rc = EXIT_USAGE;
			goto out;
		}
		if (want[r] == (int)main_lc)
			want[r] = -1;
	}
	if (want[0] >= 0 && want[0] == want[1]) {
		fprintf(stderr,
		        "wiretally: --export-lcore and --scan-lcore are both %d: give them "
		        "different lcores, or main\n",
		        want[0]);
		rc = EXIT_USAGE;
		goto out;
	}
	/* RX roles take the worker lcores in order, but those named for the
	 * exporter or the scanner; "auto" roles take what is left, else main. */
	RTE_LCORE_FOREACH_WORKER(lc)
	{
		if ((int)lc != want[0] && (int)lc != want[1])
			workers[nw++] = lc;
	}
	if (nw < pl.n_rx) {
		fprintf(stderr,
		        "wiretally: --rx-cores %u needs %u worker lcores besides the main lcore "
		        "(control, and the scanner and exporter unless they have their own); the "
		        "EAL has %u: give more with -l or --lcores (several lcores may share a "
		        "CPU, "
		        "e.g. --lcores 0@0,1@1,2@1)\n",
		        pl.n_rx, pl.n_rx, nw);
		rc = EXIT_USAGE;
		goto out;
	}
	for (unsigned int i = 0; i < pl.n_rx; i++)
		pl.rx[i].lcore = workers[i];
	unsigned int next_free = pl.n_rx;
	pl.ex.lcore = want[0] >= 0                      ? (unsigned int)want[0]
	              : want[0] == -2 && next_free < nw ? workers[next_free++]
	                                                : main_lc;
	pl.sc.lcore = want[1] >= 0                      ? (unsigned int)want[1]
	              : want[1] == -2 && next_free < nw ? workers[next_free++]
	                                                : main_lc;
	if (next_free < nw)
		WT_LOG(NOTICE, "%u worker lcores are not used\n", nw - next_free);

	/* Ports */
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (!port_selected(&o, pid) || n_ports == WT_MAX_PORTS)
			continue;
		ports[n_ports].port_id = pid;
		describe_port(&ports[n_ports]);
		n_ports++;
	}
	pl.n_ports = n_ports;
	for (unsigned int i = 0; i < o.n_ports; i++)
		if (!rte_eth_dev_is_valid_port(o.ports[i])) {
			fprintf(stderr, "wiretally: --port %u: no such port (%u ports available)\n",
			        o.ports[i], rte_eth_dev_count_avail());
			rc = EXIT_USAGE;
			goto out;
		}
	if (n_ports == 0) {
		fprintf(stderr, "wiretally: no ports to read from (no device found by the EAL)\n");
		rc = EXIT_USAGE;
		goto out;
	}
	pl.packet_clock = 1;
	for (unsigned int i = 0; i < n_ports; i++)
		if (!ports[i].is_file || ports[i].is_infinite)
			pl.packet_clock = 0;
	/* Sharding: the smallest redirection table of any multi-queue RSS port
	 * bounds the hash bits used (512 when there is none). */
	uint32_t reta_min = WT_SHARD_TABLE;
	for (unsigned int i = 0; i < n_ports; i++) {
		struct rte_eth_dev_info info;
		if (rte_eth_dev_info_get(ports[i].port_id, &info) == 0 && info.reta_size >= 64 &&
		    info.max_rx_queues > 1 && pl.n_rx > 1 && !ports[i].is_file)
			reta_min = RTE_MIN(reta_min, (uint32_t)rte_align32prevpow2(info.reta_size));
	}
	init_shard_table(&pl, reta_min);

	uint64_t nq_total = 0;
	for (unsigned int i = 0; i < n_ports; i++)
		nq_total += ports[i].is_file && !ports[i].is_infinite ? 1 : pl.n_rx;
	uint64_t mbufs = RTE_MAX(o.mbufs, nq_total * o.rx_desc + 2048 * pl.n_rx);
	for (unsigned int i = 0; i < n_ports; i++)
		mbufs += ports[i].preload; /* net_pcap infinite_rx keeps its files in mbufs */
	struct rte_mempool *pool =
	        rte_pktmbuf_pool_create("wt_mbufs", (unsigned int)mbufs, 256, 0,
	                                RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "wiretally: cannot create a pool of %" PRIu64 " mbufs: %s\n", mbufs,
		        rte_strerror(rte_errno));
		rc = EXIT_SETUP;
		goto out;
	}
	pl.burst = (uint16_t)o.burst;
	pl.scan_interval_ns = (uint64_t)(o.scan_interval * 1e9);
	pl.active_timeout_ns = (uint64_t)(wt_opts_active_timeout(&o, pl.packet_clock) * 1e9 + 0.5);
	for (unsigned int i = 0; i < n_ports; i++)
		if (setup_port(&ports[i], &pl, pool, &o) != 0) {
			rc = EXIT_SETUP;
			goto out;
		}
	pl.ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int ts_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	pl.ts_flag = ts_bit >= 0 ? 1ull << ts_bit : 0;
	if (pl.ts_flag == 0)
		pl.ts_offset = -1;

	/* Run id, hash seed, the log, the RX lcores' tables and rings. */
	uint64_t run_id = new_run_id();
	uint64_t seed = o.hash_seed;
	if (!o.hash_seed_set && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = run_id * 0x9e3779b97f4a7c15ull;
	pl.ex.pl = &pl;
	pl.ex.dir = o.output;
	pl.ex.max_backlog = o.log_backlog;
	pl.sc.pl = &pl;
	pl.tunnels_inner = o.tunnels_inner;
	pl.tunnel_seed = seed ^ 0x5bd1e9955bd1e995ull;
	if (setup_rx(&pl, &o, run_id, seed) != 0 || assign_queues(&pl) != 0) {
		rc = EXIT_SETUP;
		goto out;
	}
	/* The log, after the tables so that they get the hugepages first. */
	spool = choose_spool(&o, spool_buf, sizeof(spool_buf), spool_why, sizeof(spool_why));
	rte_cpuset_t ctl_cpus = rte_lcore_cpuset(rte_get_main_lcore());
	struct wt_seglog_conf lc_conf = {.dir = o.output,
	                                 .segment_size = o.segment_size,
	                                 .run_id = run_id,
	                                 .spool_dir = spool,
	                                 .spool_segments = (unsigned int)o.spool_segments,
	                                 .archiver_cpus = &ctl_cpus,
	                                 .compress_level = o.compress_level};
	pl.ex.log = wt_seglog_open(&lc_conf, errbuf, sizeof(errbuf));
	if (pl.ex.log == NULL) {
		fprintf(stderr, "wiretally: %s\n", errbuf);
		rc = EXIT_USAGE;
		goto out;
	}
	if (wt_telemetry_init(&pl) != 0)
		WT_LOG(WARNING, "telemetry commands /wiretally/* could not be registered\n");
	if (o.ipfix != NULL) {
		struct wt_ipfix_sender_conf ic = {.url = o.ipfix,
		                                  .domain = (uint32_t)o.ipfix_domain,
		                                  .template_refresh = o.ipfix_template_refresh,
		                                  .queue = (uint32_t)o.ipfix_queue,
		                                  .cpus = &ctl_cpus,
		                                  .log_dir = o.output,
		                                  .spool_dir = spool};
		pl.ex.ipfix = wt_ipfix_sender_start(&ic, errbuf, sizeof(errbuf));
		if (pl.ex.ipfix == NULL) {
			fprintf(stderr, "wiretally: %s\n", errbuf);
			rc = EXIT_USAGE;
			goto out;
		}
		if (wt_ipfix_sender_telemetry(pl.ex.ipfix) != 0)
			WT_LOG(WARNING,
			       "telemetry command /wiretally/ipfix could not be registered\n");
	}

	if (!o.quiet) {
		for (unsigned int i = 0; i < n_ports; i++)
			fprintf(stderr, "wiretally: port %u: %s (%s%s), %u RX queue%s%s%s\n",
			        ports[i].port_id, ports[i].name, ports[i].driver,
			        ports[i].is_file ? ", capture file" : "", ports[i].nb_rxq,
			        ports[i].nb_rxq == 1 ? "" : "s", ports[i].rss_note[0] ? "; " : "",
			        ports[i].rss_note);
		for (unsigned int i = 0; i < pl.n_rx; i++) {
			char qs[256] = "";
			int len = 0;
			for (unsigned int k = 0; k < pl.rx[i].nq && len < 200; k++)
				len += snprintf(qs + len, sizeof(qs) - (size_t)len, "%s%u:%u",
				                k ? " " : "", pl.rx[i].q[k].port->port_id,
				                pl.rx[i].q[k].queue);
			fprintf(stderr, "wiretally: RX %u on lcore %u (socket %d): %s%s\n", i,
			        pl.rx[i].lcore, pl.rx[i].socket, qs[0] ? "port:queue " : "",
			        qs[0] ? qs : "packets forwarded by the reader");
		}
		unsigned int huge = 0;
		for (unsigned int i = 0; i < pl.n_rx; i++)
			huge += wt_calltab_on_hugepages(pl.rx[i].tab);
		fprintf(stderr,
		        "wiretally: table: %u records per RX lcore, %.1f bytes per record "
		        "(records, "
		        "cold data and index), %.1f MiB in all, %s\n",
		        wt_calltab_capacity(pl.rx[0].tab),
		        wt_calltab_bytes_per_record(pl.rx[0].tab),
		        (double)wt_calltab_memory(pl.rx[0].tab) * pl.n_rx / (1 << 20),
		        huge == pl.n_rx ? "on 2 MiB hugepages"
		        : huge == 0 ? "on normal pages (not enough free hugepages: more TLB misses)"
		                    : "partly on normal pages (hugepages ran out)");
		char interim[96] = "no interim records";
		if (pl.active_timeout_ns)
			snprintf(interim, sizeof(interim), "interim records of calls running %g s",
			         (double)pl.active_timeout_ns / 1e9);
		fprintf(stderr,
		        "wiretally: clock: %s; completion scan every %g s (%s); %s; VLAN %s the "
		        "key\n",
		        pl.packet_clock ? "packet timestamps" : "system time", o.scan_interval,
		        pl.packet_clock ? "by each table's owner, at packet time"
		                        : "by the scanner",
		        interim, o.vlan_key ? "in" : "not in");
		fprintf(stderr,
		        "wiretally: control on lcore %u, exporter on lcore %u, scanner on lcore "
		        "%u%s\n",
		        main_lc, pl.ex.lcore, pl.sc.lcore,
		        pl.packet_clock ? " (idle: the tables' owners scan at packet time)" : "");
		struct wt_seglog_stats ls;
		char mode[PATH_MAX + 300];
		wt_seglog_writer_stats(pl.ex.log, &ls);
		if (ls.recovered_spool)
			fprintf(stderr,
			        "wiretally: recovered %" PRIu64 " segments a previous run left in "
			        "the spool\n",
			        ls.recovered_spool);
		if (wt_seglog_recovered_path(pl.ex.log)[0] != '\0')
			fprintf(stderr,
			        "wiretally: recovered the unsealed segment %s a previous run left "
			        "(%" PRIu64 " records kept; sealed as recovered)\n",
			        wt_seglog_recovered_path(pl.ex.log),
			        wt_seglog_recovered_records(pl.ex.log));
		if (spool)
			snprintf(mode, sizeof(mode),
			         "through the spool %s (%" PRIu64 " segments; archived with fsync)",
			         spool, o.spool_segments);
		else
			snprintf(mode, sizeof(mode), "directly%s%s%s",
			         spool_why[0] ? " (no spool: " : "", spool_why,
			         spool_why[0] ? ")" : "");
		char zs[48] = "";
		if (o.compress_level != 0)
			snprintf(zs, sizeof(zs), ", stored zstd-compressed (level %d) once sealed",
			         o.compress_level);
		fprintf(stderr,
		        "wiretally: writing to %s (segments of %" PRIu64
		        " %s%s) %s, run id %016" PRIx64 ", next seq %" PRIu64 "\n",
		        o.output,
		        o.segment_size % (1u << 20) == 0 ? o.segment_size >> 20
		                                         : o.segment_size >> 10,
		        o.segment_size % (1u << 20) == 0 ? "MiB" : "KiB", zs, mode, run_id,
		        wt_seglog_next_seq(pl.ex.log));
		if (o.ipfix != NULL)
			fprintf(stderr,
			        "wiretally: IPFIX: every record written is also sent to %s "
			        "(observation domain %" PRIu64 ", queue of %" PRIu64 " records)\n",
			        o.ipfix, o.ipfix_domain, o.ipfix_queue);
	}

	struct timespec config_mtime = {0, 0};
	struct stat config_st;
	if (o.config != NULL && o.config[0] != '\0' && stat(o.config, &config_st) == 0)
		config_mtime = config_st.st_mtim;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	for (unsigned int i = 0; i < pl.n_rx; i++) {
		int e = rte_eal_remote_launch(wt_rx_main, &pl.rx[i], pl.rx[i].lcore);
		if (e != 0) {
			fprintf(stderr, "wiretally: cannot start RX lcore %u: %s\n", pl.rx[i].lcore,
			        rte_strerror(-e));
			pl.quit = 1;
			rc = EXIT_SETUP;
			break;
		}
		launched++;
	}

	/* The exporter and the scanner on their own lcores, when they have one. */
	int export_here = pl.ex.lcore == main_lc, scan_here = pl.sc.lcore == main_lc;
	if (!export_here && launched == (int)pl.n_rx &&
	    rte_eal_remote_launch(wt_export_main, &pl.ex, pl.ex.lcore) != 0) {
		WT_LOG(WARNING,
		       "cannot start the exporter on lcore %u: on the main lcore instead\n",
		       pl.ex.lcore);
		export_here = 1;
	}
	if (!scan_here && !pl.packet_clock &&
	    rte_eal_remote_launch(wt_scanner_main, &pl.sc, pl.sc.lcore) != 0) {
		WT_LOG(WARNING, "cannot start the scanner on lcore %u: on the main lcore instead\n",
		       pl.sc.lcore);
		scan_here = 1;
	}
	/* RX lcores that could not start count as done, so the others finish. */
	for (unsigned int i = (unsigned int)launched; i < pl.n_rx; i++) {
		__atomic_store_n(&pl.rx[i].producing_done, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&pl.rx[i].done, 1, __ATOMIC_RELEASE);
	}

	/* The control loop: stop, progress, and the roles left on this lcore. */
	struct wt_progress pg = {.enabled = !o.quiet &&
	                                    (o.progress == 1 || (o.progress == -1 && isatty(2)))};
	uint64_t t_start = wt_now_ns();
	uint64_t t_stop = o.duration > 0 ? t_start + (uint64_t)(o.duration * 1e9) : UINT64_MAX;
	for (;;) {
		if (force_quit || (t_stop != UINT64_MAX && wt_now_ns() >= t_stop))
			pl.quit = 1;
		if (hup_seen) {
			hup_seen = 0;
			say_no_reload(o.config, &config_mtime);
		}
		unsigned int work = 0;
		if (export_here)
			work += wt_export_step(&pl.ex);
		if (scan_here)
			work += wt_scanner_poll(&pl.sc);
		wt_progress_tick(&pg, &pl, wt_now_ns(), 0);
		if (wt_pipeline_rx_done(&pl) &&
		    (export_here ? wt_export_drained(&pl.ex)
		                 : __atomic_load_n(&pl.ex.done, __ATOMIC_ACQUIRE)))
			break;
		if (work == 0)
			rte_delay_us_sleep(50); /* idle: leave the CPU to a co-located lcore */
	}
	rte_eal_mp_wait_lcore();
	pl.run_ns = wt_now_ns() - t_start;
	/* the IPFIX sender sends what is left; an unreachable collector is
	 * given up after 5 s without progress (counted, in the summary) */
	wt_ipfix_sender_stop(pl.ex.ipfix, 5.0);
	wt_progress_tick(&pg, &pl, wt_now_ns(), 1);

	/* Every record is completed and exported: store the counters, seal. */
	static char stext[65536];
	size_t slen = wt_stats_text(&pl, run_id, stext, sizeof(stext));
	if (pl.ex.ipfix != NULL)
		slen += wt_ipfix_sender_stats_text(pl.ex.ipfix, stext + slen, sizeof(stext) - slen);
	if (pl.ex.n_backlog == 0) {
		int e = wt_seglog_append_stats(pl.ex.log, stext, slen);
		if (e != 0)
			WT_LOG(WARNING, "cannot store the exit counters in the log: %s\n",
			       strerror(-e));
	}
	if (!o.quiet)
		wt_summary_print(&pl);
	if (!o.quiet && pl.ex.ipfix != NULL)
		wt_ipfix_sender_summary(pl.ex.ipfix, stderr);
	for (unsigned int i = 0; i < n_ports; i++) {
		struct rte_eth_stats es;
		if (ports[i].is_file && rte_eth_stats_get(ports[i].port_id, &es) == 0 &&
		    es.ierrors > 0)
			fprintf(stderr,
			        "wiretally: port %u %s: the capture file ended with a read error "
			        "(truncated or corrupt) after %" PRIu64 " packets; the records "
			        "hold everything read before it\n",
			        ports[i].port_id, ports[i].name, es.ipackets);
	}
	if (wt_export_finish(&pl.ex) > 0) {
		fprintf(stderr,
		        "wiretally: %" PRIu64 " call records are not in the log: they were printed "
		        "on stderr as CSV (after the line that starts with seq,start_ns)\n",
		        pl.ex.printed);
		rc = EXIT_OUTPUT;
	}
out:
	if (pl.ex.log != NULL) {
		wt_export_report_log(&pl.ex);
		int e = wt_seglog_close(pl.ex.log);
		if (e == 0 && spool == spool_buf)
			(void)rmdir(spool_buf); /* a spool we made: gone when empty */
		if (e != 0) {
			if (spool)
				fprintf(stderr,
				        "wiretally: archiving the last segments into %s failed: "
				        "%s; "
				        "they stay in the spool %s (read them with: wiretally-read "
				        "--spool %s %s); the next start archives them\n",
				        o.output, strerror(-e), spool, spool, o.output);
			else
				fprintf(stderr,
				        "wiretally: sealing the last segment in %s failed: %s\n",
				        o.output, strerror(-e));
			if (rc == 0)
				rc = EXIT_OUTPUT;
		}
	}
	free(pl.ex.backlog);
	wt_ipfix_sender_free(pl.ex.ipfix);
	free_rx(&pl);
	if (eal_up) {
		for (unsigned int i = 0; i < n_ports; i++) {
			rte_eth_dev_stop(ports[i].port_id);
			rte_eth_dev_close(ports[i].port_id);
		}
		rte_eal_cleanup();
		if (rundir[0] != '\0' && wt_rundir_remove(rundir) != 0)
			fprintf(stderr,
			        "wiretally: could not remove the EAL runtime directory %s\n",
			        rundir);
	}
	return rc;
}
