/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_ringgen.c: a paced packet source for the monitor's net_ring port: what a NIC would deliver
 * at a given rate, and what it would miss.
 *
 * Usage: bench_ringgen [EAL options] -- --ring NAME --pcap FILE [--ring NAME --pcap FILE ...]
 *                      --rate MPPS --duration SEC [--pool wt_mbufs]
 *
 * Runs as a DPDK secondary process of a monitor started with
 * `--vdev net_ring0` (same --file-prefix, no --huge-unlink): it looks up the
 * monitor's mbuf pool and the RX ring of each queue (net_ring names them
 * ETH_RXTX<q>_<port name>, 1024 entries, like a NIC's descriptor ring),
 * loads each capture into memory and sends its frames round and round,
 * paced by the TSC at --rate million packets per second in total (shared
 * between the rings in proportion to their captures' sizes). A burst the
 * ring has no room for is dropped and counted, as a NIC counts imissed
 * when the RX lcore does not keep up. When this process itself falls
 * behind its schedule by more than two bursts (it was descheduled), the
 * backlog is skipped and counted as "behind", not as loss: the offered
 * rate is then lower than asked, and is printed. It never sends more than
 * two bursts ahead of the steady schedule, so the ring sees no burst a NIC
 * at that rate would not deliver.
 *
 * Prints one line: offered=N enqueued=N missed=N behind=N seconds=S
 * offered_mpps=X (then per ring: ring.<name>.offered/enqueued/missed).
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#define MAX_RINGS 16
#define BURST     32
#define SLOT      128 /* bytes per stored frame: 64-byte profile frames fit */
/* Packets this process may be late by before it skips them: a NIC at line
 * rate never bursts above it, so a late generator must not either. */
#define CATCH_UP (2 * BURST)

struct src {
	const char *ring_name, *pcap;
	struct rte_ring *ring;
	uint8_t *frames; /* n x SLOT */
	uint16_t *len;
	uint64_t n, pos;
	double share;
	uint64_t offered, enqueued, missed;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
load(struct src *s)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t cap = 1024;
	pcap_t *p = pcap_open_offline(s->pcap, err);
	if (p == NULL) {
		fprintf(stderr, "bench_ringgen: %s: %s\n", s->pcap, err);
		return -1;
	}
	s->frames = malloc(cap * SLOT);
	s->len = malloc(cap * sizeof(*s->len));
	while (s->frames != NULL && s->len != NULL && pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen > SLOT) {
			fprintf(stderr,
			        "bench_ringgen: %s: a frame of %u bytes; this generator sends "
			        "frames "
			        "of up to %d bytes (the 64-byte profile)\n",
			        s->pcap, h->caplen, SLOT);
			pcap_close(p);
			return -1;
		}
		if (s->n == cap) {
			cap *= 2;
			s->frames = realloc(s->frames, cap * SLOT);
			s->len = realloc(s->len, cap * sizeof(*s->len));
			if (s->frames == NULL || s->len == NULL)
				break;
		}
		memcpy(s->frames + s->n * SLOT, d, h->caplen);
		s->len[s->n++] = (uint16_t)h->caplen;
	}
	pcap_close(p);
	if (s->frames == NULL || s->len == NULL) {
		fprintf(stderr, "bench_ringgen: %s: out of memory\n", s->pcap);
		return -1;
	}
	if (s->n == 0) {
		fprintf(stderr, "bench_ringgen: %s: no packets\n", s->pcap);
		return -1;
	}
	return 0;
}

/* Send one burst from @s. @return packets offered. */
static unsigned int
send_burst(struct src *s, struct rte_mempool *mp)
{
	struct rte_mbuf *m[BURST];
	if (rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
		/* the pool is empty: the monitor holds every mbuf; a NIC would miss */
		s->offered += BURST;
		s->missed += BURST;
		return BURST;
	}
	for (unsigned int i = 0; i < BURST; i++) {
		uint16_t l = s->len[s->pos];
		memcpy(rte_pktmbuf_mtod(m[i], void *), s->frames + s->pos * SLOT, SLOT);
		m[i]->data_len = l;
		m[i]->pkt_len = l;
		if (++s->pos == s->n)
			s->pos = 0;
	}
	unsigned int n = rte_ring_sp_enqueue_burst(s->ring, (void **)m, BURST, NULL);
	if (n < BURST)
		rte_pktmbuf_free_bulk(m + n, BURST - n);
	s->offered += BURST;
	s->enqueued += n;
	s->missed += BURST - n;
	return BURST;
}

int
main(int argc, char **argv)
{
	struct src src[MAX_RINGS];
	unsigned int ns = 0, np = 0;
	double rate = 0, duration = 0;
	const char *pool_name = "wt_mbufs";

	memset(src, 0, sizeof(src));
	int r = rte_eal_init(argc, argv);
	if (r < 0) {
		fprintf(stderr,
		        "bench_ringgen: EAL: %s (start it as a secondary process of the "
		        "monitor: --proc-type=secondary --file-prefix PREFIX)\n",
		        rte_strerror(rte_errno));
		return 2;
	}
	argc -= r;
	argv += r;
	static const struct option lo[] = {{"ring", required_argument, NULL, 'r'},
	                                   {"pcap", required_argument, NULL, 'p'},
	                                   {"rate", required_argument, NULL, 'R'},
	                                   {"duration", required_argument, NULL, 'd'},
	                                   {"pool", required_argument, NULL, 'P'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (ns == MAX_RINGS) {
				fprintf(stderr, "bench_ringgen: at most %d rings\n", MAX_RINGS);
				return 1;
			}
			src[ns++].ring_name = optarg;
			break;
		case 'p':
			if (np == MAX_RINGS) {
				fprintf(stderr, "bench_ringgen: at most %d captures\n", MAX_RINGS);
				return 1;
			}
			src[np++].pcap = optarg;
			break;
		case 'R':
			rate = atof(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'P':
			pool_name = optarg;
			break;
		case 'h':
			printf("usage: bench_ringgen [EAL options] -- --ring NAME --pcap FILE "
			       "[...] "
			       "--rate MPPS --duration SEC [--pool NAME]\n");
			return 0;
		default:
			return 1;
		}
	}
	if (ns == 0 || ns != np || rate <= 0 || duration <= 0) {
		fprintf(stderr, "bench_ringgen: give --ring and --pcap in pairs, --rate MPPS and "
		                "--duration SEC (see the file's header)\n");
		return 1;
	}
	struct rte_mempool *mp = rte_mempool_lookup(pool_name);
	if (mp == NULL) {
		fprintf(stderr, "bench_ringgen: no mbuf pool %s in the primary process\n",
		        pool_name);
		return 2;
	}
	uint64_t total = 0;
	for (unsigned int i = 0; i < ns; i++) {
		src[i].ring = rte_ring_lookup(src[i].ring_name);
		if (src[i].ring == NULL) {
			fprintf(stderr, "bench_ringgen: no ring %s in the primary process\n",
			        src[i].ring_name);
			return 2;
		}
		if (load(&src[i]) != 0)
			return 1;
		total += src[i].n;
	}
	for (unsigned int i = 0; i < ns; i++)
		src[i].share = (double)src[i].n / (double)total;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	/* Pacing: ring i is owed rate x share_i x elapsed packets; send whole
	 * bursts while it is owed one. */
	const double hz = (double)rte_get_tsc_hz();
	const double per_tick = rate * 1e6 / hz;
	const uint64_t t0 = rte_get_tsc_cycles();
	const uint64_t t_end = t0 + (uint64_t)(duration * hz);
	double due_base[MAX_RINGS] = {0};
	uint64_t sent[MAX_RINGS] = {0}, behind = 0, now;
	while (!stop && (now = rte_get_tsc_cycles()) < t_end) {
		double el = (double)(now - t0) * per_tick;
		for (unsigned int i = 0; i < ns; i++) {
			double due = el * src[i].share - due_base[i];
			if (due - (double)sent[i] > CATCH_UP) {
				/* descheduled: skip the backlog rather than burst it */
				uint64_t skip = (uint64_t)(due - (double)sent[i]) - BURST;
				behind += skip;
				due_base[i] += (double)skip;
				due -= (double)skip;
			}
			while ((double)sent[i] + BURST <= due)
				sent[i] += send_burst(&src[i], mp);
		}
	}
	double secs = (double)(rte_get_tsc_cycles() - t0) / hz;
	uint64_t off = 0, enq = 0, mis = 0;
	for (unsigned int i = 0; i < ns; i++) {
		off += src[i].offered;
		enq += src[i].enqueued;
		mis += src[i].missed;
	}
	printf("offered=%" PRIu64 " enqueued=%" PRIu64 " missed=%" PRIu64 " behind=%" PRIu64
	       " seconds=%.3f offered_mpps=%.3f",
	       off, enq, mis, behind, secs, (double)off / secs / 1e6);
	for (unsigned int i = 0; i < ns; i++)
		printf(" ring.%s.offered=%" PRIu64 " ring.%s.enqueued=%" PRIu64
		       " ring.%s.missed=%" PRIu64,
		       src[i].ring_name, src[i].offered, src[i].ring_name, src[i].enqueued,
		       src[i].ring_name, src[i].missed);
	printf("\n");
	rte_eal_cleanup();
	return 0;
}
