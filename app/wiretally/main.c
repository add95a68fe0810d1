/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally, the call-record monitor: set-up, main loop, shutdown, summary. */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>

#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "monitor.h"
#include "options.h"

RTE_LOG_REGISTER(wt_logtype, wiretally, INFO);

/* Exit codes */
#define EXIT_USAGE  1 /* bad option, config, input or output directory */
#define EXIT_SETUP  2 /* EAL, port, memory or log could not be set up */
#define EXIT_OUTPUT 3 /* records could not all be written to the log */

static volatile sig_atomic_t force_quit;

static void
on_signal(int sig)
{
	(void)sig;
	force_quit = 1;
}

/* ---- the output: completed records go to the log ---------------------- */

/*
 * Called by the table for every completed record. A record the log refuses
 * (disk full, I/O error) is kept in memory, the error is reported once and
 * the monitor stops reading packets; at exit the kept records are printed
 * as CSV on stderr, so no record is lost even then.
 */
static void
emit_record(void *ctx, const struct wt_callrec *rec)
{
	struct wt_output *out = ctx;
	struct wt_callrec r = *rec;
	uint64_t pkts = r.d[0].pkts + r.d[1].pkts;

	if (r.end_reason < WT_END_MAX)
		out->by_reason[r.end_reason]++;
	if (out->error == 0) {
		int rc = wt_seglog_append(out->log, &r);
		if (rc == 0) {
			out->written++;
			out->written_pkts += pkts;
			return;
		}
		out->error = rc;
		WT_LOG(ERR,
		       "cannot write call records to %s: %s; stopping, records not "
		       "written will be printed on stderr at exit\n",
		       wt_seglog_current_path(out->log)[0] ? wt_seglog_current_path(out->log)
		                                           : "the log",
		       strerror(-rc));
		force_quit = 1;
	}
	if (out->n_backlog == out->cap_backlog) {
		uint64_t cap = out->cap_backlog ? out->cap_backlog * 2 : 1024;
		struct wt_callrec *b = realloc(out->backlog, cap * sizeof(*b));
		if (b == NULL) {
			/* Last resort: print it now rather than drop it. */
			char line[WT_CALLREC_LINE_MAX];
			if (wt_callrec_format_csv(line, sizeof(line), &r) > 0)
				fputs(line, stderr);
			out->backlog_pkts += pkts;
			return;
		}
		out->backlog = b;
		out->cap_backlog = cap;
	}
	out->backlog[out->n_backlog++] = r;
	out->backlog_pkts += pkts;
}

/* ---- set-up helpers ----------------------------------------------------- */

static int
check_output_dir(const char *dir)
{
	struct stat sb;
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

/* A capture file must open and hold Ethernet frames (net_pcap assumes so). */
static int
check_capture(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		fprintf(stderr, "wiretally: capture %s: %s\n", path, errbuf);
		return -1;
	}
	int dlt = pcap_datalink(p);
	pcap_close(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		fprintf(stderr,
		        "wiretally: capture %s: link type %s (%d) is not Ethernet; "
		        "wiretally reads Ethernet (DLT_EN10MB) captures\n",
		        path, name ? name : "?", dlt);
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

static int
first_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
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
 * chooses: one lcore, its own file prefix (several monitors can run), no PCI
 * probing, hugepages when enough are free else --no-huge, quiet EAL logs.
 */
static void
build_eal_args(struct eal_args *a, const struct wt_opts *o, int user_argc, char **user_argv)
{
	a->argc = 0;
	for (int i = 0; i < user_argc; i++)
		eal_push(a, "%s", user_argv[i]);
	if (user_argc <= 1) {
		eal_push(a, "-l");
		eal_push(a, "%d", first_cpu());
		eal_push(a, "--file-prefix=wiretally-%d", (int)getpid());
		eal_push(a, "--no-pci"); /* PCI ports are given with EAL options */
		if (hugepages_usable()) {
			eal_push(a, "--huge-unlink");
		} else {
			uint64_t pool_mb = (o->mbufs * 2560) >> 20;
			eal_push(a, "--no-huge");
			eal_push(a, "-m");
			eal_push(a, "%" PRIu64, 128 + pool_mb);
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
		eal_push(a, "net_af_packet_wt%u,iface=%s,qpairs=1,framecnt=4096", i, o->iface[i]);
	}
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
	}
}

static int
setup_port(struct wt_port *p, struct rte_mempool *pool, const struct wt_opts *o)
{
	struct rte_eth_conf conf;
	uint16_t nb_rxd = (uint16_t)o->rx_desc, nb_txd = 64;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(
		        p->port_id, 0, nb_rxd,
		        (unsigned int)rte_eth_dev_socket_id(p->port_id) ==
		                        (unsigned int)SOCKET_ID_ANY
		                ? rte_socket_id()
		                : (unsigned int)rte_eth_dev_socket_id(p->port_id),
		        NULL, pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(p->port_id, 0, nb_txd, rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(p->port_id);
	if (rc != 0) {
		fprintf(stderr, "wiretally: port %u (%s): cannot be configured: %s\n", p->port_id,
		        p->name, rte_strerror(-rc));
		return -1;
	}
	(void)rte_eth_promiscuous_enable(p->port_id); /* taps: every frame, not just ours */
	return 0;
}

/* ---- summary ------------------------------------------------------------ */

struct summary_ctx {
	const struct wt_worker *w;
	const struct wt_output *out;
	const struct wt_calltab_stats *ts;
	const struct wt_frag_stats *fs;
	uint64_t run_id;
};

/* "name=value" lines of every counter (stored in the log at exit). */
static size_t
stats_text(const struct summary_ctx *c, char *buf, size_t len)
{
	const struct wt_rx_stats *st = &c->w->st;
	size_t n = 0;
#define PUT(...)                                                               \
	do {                                                                   \
		int k = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__); \
		if (k > 0)                                                     \
			n += (size_t)k;                                        \
	} while (0)
	PUT("run_id=%016" PRIx64 "\n", c->run_id);
	PUT("rx_pkts=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n", st->rx_pkts, st->rx_bytes);
	PUT("accounted_pkts=%" PRIu64 "\naccounted_bytes=%" PRIu64 "\n", st->acct_pkts,
	    st->acct_bytes);
	for (unsigned int r = 1; r < WT_DROP_MAX; r++)
		PUT("drop.%s.pkts=%" PRIu64 "\ndrop.%s.bytes=%" PRIu64 "\n", wt_drop_name(r),
		    st->drop_pkts[r], wt_drop_name(r), st->drop_bytes[r]);
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		PUT("note.%s=%" PRIu64 "\n", wt_note_name(b), st->note_pkts[b]);
	PUT("note.vlan_restored=%" PRIu64 "\n", st->vlan_restored);
	PUT("records.created=%" PRIu64 "\nrecords.idle=%" PRIu64 "\nrecords.evicted=%" PRIu64
	    "\nrecords.shutdown=%" PRIu64 "\nrecords.written=%" PRIu64
	    "\nrecords.unwritten=%" PRIu64 "\n",
	    c->ts->created, c->out->by_reason[WT_END_IDLE], c->out->by_reason[WT_END_EVICTED],
	    c->out->by_reason[WT_END_SHUTDOWN], c->out->written, c->out->n_backlog);
	PUT("frag.learned=%" PRIu64 "\nfrag.attributed=%" PRIu64 "\nfrag.unattributed=%" PRIu64
	    "\nfrag.replaced=%" PRIu64 "\nfrag.expired=%" PRIu64 "\n",
	    c->fs->learned, c->fs->attributed, c->fs->unattributed, c->fs->replaced,
	    c->fs->expired);
	for (unsigned int i = 0; i < c->w->n_ports; i++) {
		struct rte_eth_stats es;
		const struct wt_port *p = &c->w->ports[i];
		if (rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		PUT("port.%u.ipackets=%" PRIu64 "\nport.%u.imissed=%" PRIu64
		    "\nport.%u.ierrors=%" PRIu64 "\nport.%u.rx_nombuf=%" PRIu64 "\n",
		    p->port_id, es.ipackets, p->port_id, es.imissed, p->port_id, es.ierrors,
		    p->port_id, es.rx_nombuf);
	}
#undef PUT
	return n < len ? n : len;
}

static void
print_summary(const struct summary_ctx *c)
{
	const struct wt_rx_stats *st = &c->w->st;
	uint64_t sum_p = st->acct_pkts, sum_b = st->acct_bytes;

	fprintf(stderr, "wiretally: summary\n");
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes\n", "received", st->rx_pkts,
	        st->rx_bytes);
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes\n", "in call records",
	        st->acct_pkts, st->acct_bytes);
	for (unsigned int r = 1; r < WT_DROP_MAX; r++) {
		sum_p += st->drop_pkts[r];
		sum_b += st->drop_bytes[r];
		if (st->drop_pkts[r])
			fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes  (%s)\n",
			        wt_drop_name(r), st->drop_pkts[r], st->drop_bytes[r],
			        wt_drop_desc(r));
	}
	fprintf(stderr, "  %-24s %14" PRIu64 " pkts %16" PRIu64 " bytes  %s\n", "sum of the above",
	        sum_p, sum_b,
	        sum_p == st->rx_pkts && sum_b == st->rx_bytes ? "= received" : "!= received (BUG)");
	for (unsigned int b = 0; b < WT_NOTE_MAX; b++)
		if (st->note_pkts[b])
			fprintf(stderr, "  note %-19s %14" PRIu64 " pkts  (%s)\n", wt_note_name(b),
			        st->note_pkts[b], wt_note_desc(b));
	uint64_t rec_pkts = c->out->written_pkts + c->out->backlog_pkts;
	fprintf(stderr,
	        "  records: %" PRIu64 " created, %" PRIu64 " idle, %" PRIu64 " evicted, %" PRIu64
	        " at shutdown; %" PRIu64 " written",
	        c->ts->created, c->out->by_reason[WT_END_IDLE], c->out->by_reason[WT_END_EVICTED],
	        c->out->by_reason[WT_END_SHUTDOWN], c->out->written);
	if (c->out->written)
		fprintf(stderr, " (seq up to %" PRIu64 ")", wt_seglog_next_seq(c->out->log) - 1);
	fprintf(stderr, "\n  records hold %" PRIu64 " pkts %s\n", rec_pkts,
	        rec_pkts == st->acct_pkts ? "= in call records" : "!= in call records (BUG)");
	if (c->fs->learned || c->fs->unattributed)
		fprintf(stderr,
		        "  fragments: %" PRIu64 " first seen, %" PRIu64 " attributed, %" PRIu64
		        " unattributed\n",
		        c->fs->learned, c->fs->attributed, c->fs->unattributed);
	for (unsigned int i = 0; i < c->w->n_ports; i++) {
		struct rte_eth_stats es;
		const struct wt_port *p = &c->w->ports[i];
		if (rte_eth_stats_get(p->port_id, &es) != 0)
			continue;
		fprintf(stderr,
		        "  port %u %s: %" PRIu64 " received by the port, not received: %" PRIu64
		        " missed, %" PRIu64 " errors, %" PRIu64 " no mbuf\n",
		        p->port_id, p->name, es.ipackets, es.imissed, es.ierrors, es.rx_nombuf);
	}
}

/* ---- main --------------------------------------------------------------- */

int
main(int argc, char **argv)
{
	struct wt_opts o;
	int user_eal_argc = 1, app_argc = argc, rc = 0;
	char **app_argv = argv;
	char errbuf[512];

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
	if (check_output_dir(o.output) != 0)
		return EXIT_USAGE;
	for (unsigned int i = 0; i < o.n_pcap; i++)
		if (check_capture(o.pcap[i]) != 0)
			return EXIT_USAGE;
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
	if (rte_eal_init(ea.argc, ea.argv) < 0) {
		fprintf(stderr, "wiretally: EAL initialisation failed: %s\n",
		        rte_strerror(rte_errno));
		return EXIT_SETUP;
	}
	rte_openlog_stream(stderr);

	/* Ports */
	static struct wt_port ports[WT_MAX_PORTS];
	unsigned int n_ports = 0;
	uint16_t pid;
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (!port_selected(&o, pid) || n_ports == WT_MAX_PORTS)
			continue;
		ports[n_ports].port_id = pid;
		describe_port(&ports[n_ports]);
		n_ports++;
	}
	for (unsigned int i = 0; i < o.n_ports; i++)
		if (!rte_eth_dev_is_valid_port(o.ports[i])) {
			fprintf(stderr, "wiretally: --port %u: no such port (%u ports available)\n",
			        o.ports[i], rte_eth_dev_count_avail());
			rc = EXIT_USAGE;
			goto out_eal;
		}
	if (n_ports == 0) {
		fprintf(stderr, "wiretally: no ports to read from (no device found by the EAL)\n");
		rc = EXIT_USAGE;
		goto out_eal;
	}

	struct rte_mempool *pool =
	        rte_pktmbuf_pool_create("wt_mbufs", (unsigned int)o.mbufs, 256, 0,
	                                RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "wiretally: cannot create a pool of %" PRIu64 " mbufs: %s\n",
		        o.mbufs, rte_strerror(rte_errno));
		rc = EXIT_SETUP;
		goto out_eal;
	}
	for (unsigned int i = 0; i < n_ports; i++)
		if (setup_port(&ports[i], pool, &o) != 0) {
			rc = EXIT_SETUP;
			goto out_eal;
		}

	/* The worker: one table on this lcore. */
	static struct wt_worker w;
	static struct wt_output out;
	uint64_t run_id = 0;
	if (getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id))
		run_id = wt_now_ns() ^ ((uint64_t)getpid() << 32);
	uint64_t seed = o.hash_seed;
	if (!o.hash_seed_set && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = run_id * 0x9e3779b97f4a7c15ull;

	struct wt_seglog_conf lc = {
	        .dir = o.output, .segment_size = o.segment_size, .run_id = run_id};
	out.log = wt_seglog_open(&lc, errbuf, sizeof(errbuf));
	if (out.log == NULL) {
		fprintf(stderr, "wiretally: %s\n", errbuf);
		rc = EXIT_USAGE;
		goto out_eal;
	}
	int socket = (int)rte_socket_id();
	struct wt_calltab_params tp = {
	        .capacity = (uint32_t)o.table_size,
	        .socket = socket,
	        .hash_seed = seed,
	        .vlan_in_key = o.vlan_key,
	        .lcore_index = 0,
	        .run_id = run_id,
	        .emit = emit_record,
	        .emit_ctx = &out,
	};
	w.tab = wt_calltab_create(&tp);
	if (w.tab == NULL) {
		fprintf(stderr, "wiretally: cannot allocate a table of %" PRIu64 " records: %s\n",
		        o.table_size, strerror(errno));
		rc = EXIT_SETUP;
		goto out_log;
	}
	w.frag = wt_frag_create((uint32_t)o.frag_table_size, (uint64_t)(o.frag_timeout * 1e9),
	                        socket);
	if (w.frag == NULL) {
		fprintf(stderr,
		        "wiretally: cannot allocate a fragment table of %" PRIu64 " entries: %s\n",
		        o.frag_table_size, strerror(errno));
		rc = EXIT_SETUP;
		goto out_tab;
	}
	w.ports = ports;
	w.n_ports = n_ports;
	w.out = &out;
	w.burst = (uint16_t)o.burst;
	w.scan_interval_ns = (uint64_t)(o.scan_interval * 1e9);
	w.packet_clock = 1;
	for (unsigned int i = 0; i < n_ports; i++)
		if (!ports[i].is_file || ports[i].is_infinite)
			w.packet_clock = 0;
	w.ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int ts_bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	w.ts_flag = ts_bit >= 0 ? 1ull << ts_bit : 0;
	if (w.ts_flag == 0)
		w.ts_offset = -1;

	if (!o.quiet) {
		for (unsigned int i = 0; i < n_ports; i++)
			fprintf(stderr, "wiretally: port %u: %s (%s%s)\n", ports[i].port_id,
			        ports[i].name, ports[i].driver,
			        ports[i].is_file ? ", capture file" : "");
		fprintf(stderr,
		        "wiretally: table: %u records, %.1f bytes per record (records, cold data "
		        "and index), %.1f MiB\n",
		        wt_calltab_capacity(w.tab), wt_calltab_bytes_per_record(w.tab),
		        (double)wt_calltab_memory(w.tab) / (1 << 20));
		fprintf(stderr,
		        "wiretally: clock: %s; completion scan every %g s; VLAN %s the key\n",
		        w.packet_clock ? "packet timestamps" : "system time", o.scan_interval,
		        o.vlan_key ? "in" : "not in");
		fprintf(stderr,
		        "wiretally: writing to %s (segments of %" PRIu64
		        " bytes), run id %016" PRIx64 ", next seq %" PRIu64 "\n",
		        o.output, o.segment_size, run_id, wt_seglog_next_seq(out.log));
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!force_quit) {
		unsigned int got = wt_worker_poll(&w);
		if (w.packet_clock) {
			unsigned int live = 0;
			for (unsigned int i = 0; i < n_ports; i++)
				live += !ports[i].eof;
			if (live == 0)
				break;
		} else {
			wt_worker_scan_tick(&w);
			if (got == 0)
				rte_pause();
		}
	}

	/* Shutdown: every active record is completed and written. */
	wt_calltab_complete_all(w.tab, WT_END_SHUTDOWN);
	struct wt_calltab_stats ts;
	struct wt_frag_stats fs;
	wt_calltab_get_stats(w.tab, &ts);
	wt_frag_get_stats(w.frag, &fs);
	struct summary_ctx sc = {.w = &w, .out = &out, .ts = &ts, .fs = &fs, .run_id = run_id};
	static char stext[16384];
	size_t slen = stats_text(&sc, stext, sizeof(stext));
	if (out.error == 0) {
		int e = wt_seglog_append_stats(out.log, stext, slen);
		if (e != 0)
			WT_LOG(WARNING, "cannot store the exit counters in the log: %s\n",
			       strerror(-e));
	}
	if (!o.quiet)
		print_summary(&sc);
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
	if (out.n_backlog > 0) {
		char line[WT_CALLREC_LINE_MAX];
		fprintf(stderr,
		        "wiretally: %" PRIu64 " call records could not be written to %s (%s); "
		        "here they are as CSV:\n%s\n",
		        out.n_backlog, o.output, strerror(-out.error), wt_callrec_csv_header);
		for (uint64_t i = 0; i < out.n_backlog; i++)
			if (wt_callrec_format_csv(line, sizeof(line), &out.backlog[i]) > 0)
				fputs(line, stderr);
		rc = EXIT_OUTPUT;
	}
	wt_frag_free(w.frag);
out_tab:
	wt_calltab_free(w.tab);
out_log:
	if (out.log != NULL) {
		int e = wt_seglog_close(out.log);
		if (e != 0) {
			fprintf(stderr, "wiretally: sealing the last segment in %s failed: %s\n",
			        o.output, strerror(-e));
			if (rc == 0)
				rc = EXIT_OUTPUT;
		}
	}
	free(out.backlog);
out_eal:
	for (unsigned int i = 0; i < n_ports; i++) {
		rte_eth_dev_stop(ports[i].port_id);
		rte_eth_dev_close(ports[i].port_id);
	}
	rte_eal_cleanup();
	return rc;
}
