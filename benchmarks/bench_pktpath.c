/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_pktpath.c: one core, 64-byte frames in memory: parse -> key -> table -> record.
 *
 * Usage: bench_pktpath [--conns N] [--pkts N] [--frames N] [--table wt|rte_hash]
 *
 * N random IPv4 TCP connections (distinct tuples, random direction per
 * frame) are laid out as 64-byte frames (60 bytes + FCS on the wire) in a
 * frame array in random connection order, so table accesses have no cache
 * locality. Each frame is a segment of an established connection at the top
 * of its sender's stream, acknowledging all of the peer's (a pure ACK: a
 * replay cannot advance sequence numbers, and a frame replayed with payload
 * would be a retransmission), so the TCP accounting of record version 2
 * takes its hit path on every frame, as in-order traffic does. Every connection is inserted first;
 * the timed run is the hit path. --table rte_hash runs the same path on DPDK's rte_hash (bulk
 * lookup, add on miss) as the peer baseline; it needs an EAL (started with
 * --no-huge). For instruction counts run under
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_timed
 * (benchmarks/run_pktpath.sh does both and prints the table).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "wt_calltab.h"
#include "wt_mem.h"
#include "wt_parse.h"

#define FRAME 64
#define BURST 32

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct conn {
	uint32_t a, b;
	uint16_t pa, pb;
	uint32_t sa, sb; /* the top of a's, b's stream */
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Ethernet + IPv4 (IHL 5) + TCP (20 bytes), padded to 60 bytes: a pure ACK
 * at the top of the sender's stream acknowledging the peer's. */
static void
make_frame(uint8_t *f, const struct conn *c, int rev)
{
	memset(f, 0, FRAME);
	f[0] = 0x02;
	f[5] = rev ? 1 : 2;
	f[6] = 0x02;
	f[11] = rev ? 2 : 1;
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 20);
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, rev ? c->b : c->a);
	put32(ip + 16, rev ? c->a : c->b);
	uint8_t *tcp = ip + 20;
	put16(tcp, rev ? c->pb : c->pa);
	put16(tcp + 2, rev ? c->pa : c->pb);
	put32(tcp + 4, rev ? c->sb : c->sa);
	put32(tcp + 8, rev ? c->sa : c->sb);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10; /* ACK */
}

static uint64_t emitted;

static void
count_emit(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	(void)r;
	emitted++;
}

/* ---- the rte_hash peer: the same path with DPDK's hash table ---- */

struct peer_rec {
	struct wt_dirstats d[2];
	uint64_t start_ns, end_ns;
	uint8_t flags[2], active, origin;
};

struct peer {
	struct rte_hash *h;
	struct peer_rec *recs;
	struct wt_key_seed seed;
};

static void
peer_burst(struct peer *pe, const struct wt_pkt *pkts, const uint64_t *ts, uint32_t n)
{
	struct wt_key keys[BURST];
	const void *kp[BURST];
	int32_t pos[BURST];
	uint8_t dir[BURST];

	for (uint32_t i = 0; i < n; i++) {
		dir[i] = (uint8_t)wt_key_from_pkt(&keys[i], &pkts[i], 1);
		kp[i] = &keys[i];
	}
	rte_hash_lookup_bulk(pe->h, kp, n, pos);
	for (uint32_t i = 0; i < n; i++)
		if (pos[i] >= 0)
			__builtin_prefetch(&pe->recs[pos[i]], 1, 3);
	for (uint32_t i = 0; i < n; i++) {
		int32_t p = pos[i];
		if (p < 0) {
			p = rte_hash_add_key(pe->h, &keys[i]);
			if (p < 0)
				continue;
			memset(&pe->recs[p], 0, sizeof(pe->recs[p]));
			pe->recs[p].start_ns = ts[i];
		}
		struct peer_rec *r = &pe->recs[p];
		struct wt_dirstats *d = &r->d[dir[i]];
		r->end_ns = ts[i];
		r->active = 1;
		r->flags[dir[i]] |= pkts[i].tcp_flags;
		if (d->pkts == 0)
			d->first_seq = pkts[i].seq;
		d->last_seq = pkts[i].seq + pkts[i].payload_len;
		d->pkts++;
		d->bytes += pkts[i].payload_len;
		d->ip_bytes += pkts[i].ip_len;
	}
}

struct run {
	struct wt_calltab *tab;
	struct peer *peer;
};

static uint64_t parse_drops;

static __attribute__((noinline)) void
run_frames(struct run *r, const uint8_t *frames, uint64_t nframes, uint64_t npkts)
{
	struct wt_pkt pkts[BURST];
	uint64_t ts[BURST];
	const uint8_t *fr = frames, *end = frames + nframes * FRAME;
	uint64_t now = 1700000000000000000ull;

	/* Frames are read in order (like an RX ring); the table accesses they
	 * cause are random. nframes is a multiple of BURST. */
	for (uint64_t done = 0; done < npkts; done += BURST) {
		uint32_t n = 0;
		if (fr == end)
			fr = frames;
		for (uint32_t i = 0; i < BURST; i++, fr += FRAME) {
			__builtin_prefetch(fr + 8 * FRAME);
			if (wt_parse(fr, 60, 60, &pkts[n]) != WT_DROP_NONE) {
				parse_drops++;
				continue;
			}
			ts[n++] = now;
		}
		now += 1000;
		if (r->tab)
			wt_calltab_update_burst(r->tab, pkts, ts, n);
		else
			peer_burst(r->peer, pkts, ts, n);
	}
}

/* The warm-up (every connection created once) and the timed hit path are
 * separate functions so that callgrind --toggle-collect=bench_timed counts
 * only the latter. */
static __attribute__((noinline)) void
bench_warm(struct run *r, const uint8_t *frames, uint64_t nframes)
{
	run_frames(r, frames, nframes, nframes);
}

static __attribute__((noinline)) void
bench_timed(struct run *r, const uint8_t *frames, uint64_t nframes, uint64_t npkts)
{
	run_frames(r, frames, nframes, npkts);
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	uint64_t nconns = 100000, npkts = 50000000, nframes = 0;
	const char *table = "wt";
	static const struct option lo[] = {{"conns", required_argument, NULL, 'c'},
	                                   {"pkts", required_argument, NULL, 'n'},
	                                   {"frames", required_argument, NULL, 'f'},
	                                   {"table", required_argument, NULL, 't'},
	                                   {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:n:f:t:", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			nconns = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			npkts = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			nframes = strtoull(optarg, NULL, 0);
			break;
		case 't':
			table = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: %s [--conns N] [--pkts N] [--frames N] "
			        "[--table wt|rte_hash]\n",
			        argv[0]);
			return 1;
		}
	}
	if (nconns < 16 || nconns > (1u << 24)) {
		fprintf(stderr, "bench_pktpath: --conns must be 16..16M\n");
		return 1;
	}
	if (nframes == 0)
		nframes = nconns * 4 > (1u << 22) ? nconns * 4 : (1u << 22);
	nframes = (nframes + BURST - 1) / BURST * BURST;

	struct conn *conns = malloc(nconns * sizeof(*conns));
	uint8_t *frames = aligned_alloc(64, nframes * FRAME);
	if (conns == NULL || frames == NULL) {
		fprintf(stderr, "bench_pktpath: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < nconns; i++) {
		conns[i].a = 0x0a000000u | (uint32_t)i; /* distinct by construction */
		conns[i].b = 0xac100000u | (uint32_t)(rnd() & 0xfffff);
		conns[i].pa = (uint16_t)(1024 + rnd() % 60000);
		conns[i].pb = (uint16_t)(1 + rnd() % 1023);
		conns[i].sa = (uint32_t)rnd();
		conns[i].sb = (uint32_t)rnd();
	}
	/* warm-up frames: every connection once, then random frames */
	/* warm-up: every connection, a frame of each direction (each side's
	 * stream is then known: a pure ACK alone opens no byte of it) */
	uint64_t nwarm = (2 * nconns + BURST - 1) / BURST * BURST;
	uint8_t *warm = aligned_alloc(64, nwarm * FRAME);
	for (uint64_t i = 0; i < nwarm; i++)
		make_frame(warm + i * FRAME, &conns[(i / 2) % nconns], (int)(i & 1));
	for (uint64_t i = 0; i < nframes; i++)
		make_frame(frames + i * FRAME, &conns[rnd() % nconns], (int)(rnd() & 1));

	struct run r = {0};
	struct peer pe;
	double bpr = 0;
	if (strcmp(table, "wt") == 0) {
		struct wt_calltab_params p = {.capacity = (uint32_t)nconns,
		                              .socket = WT_SOCKET_ANY,
		                              .hash_seed = 1,
		                              .vlan_in_key = 1,
		                              .run_id = 1,
		                              .emit = count_emit};
		r.tab = wt_calltab_create(&p);
		if (r.tab == NULL) {
			perror("wt_calltab_create");
			return 1;
		}
		bpr = wt_calltab_bytes_per_record(r.tab);
	} else if (strcmp(table, "rte_hash") == 0) {
		/* Hugepages when at least 600 MiB are free (like the monitor's
		 * table), else 4 KiB pages: say which in the output. */
		int huge = wt_mem_free_hugepages() >= 300;
		char *eal[] = {argv[0],
		               "--no-pci",
		               "--no-telemetry",
		               "--log-level=lib.eal:error",
		               "--file-prefix=bench-pktpath",
		               huge ? "--huge-unlink" : "--no-huge",
		               "-m",
		               huge ? "600" : "4096",
		               NULL};
		fprintf(stderr, "bench_pktpath: rte_hash on %s pages\n", huge ? "2 MiB" : "4 KiB");
		if (rte_eal_init(8, eal) < 0) {
			fprintf(stderr, "bench_pktpath: EAL init failed\n");
			return 1;
		}
		struct rte_hash_parameters hp = {.name = "bench",
		                                 .entries = (uint32_t)(nconns + nconns / 4),
		                                 .key_len = sizeof(struct wt_key),
		                                 .hash_func = rte_hash_crc,
		                                 .hash_func_init_val = 0,
		                                 .socket_id = 0};
		struct rte_malloc_socket_stats m0, m1;
		rte_malloc_get_socket_stats(0, &m0);
		pe.h = rte_hash_create(&hp);
		rte_malloc_get_socket_stats(0, &m1);
		size_t recs_bytes = (hp.entries + 64) * sizeof(*pe.recs);
		pe.recs = wt_mem_alloc(recs_bytes, WT_SOCKET_ANY);
		if (pe.h == NULL || pe.recs == NULL) {
			fprintf(stderr, "bench_pktpath: rte_hash_create failed\n");
			return 1;
		}
		r.peer = &pe;
		/* the hash's own memory (buckets, key store) plus the records */
		bpr = (double)(m1.heap_allocsz_bytes - m0.heap_allocsz_bytes + recs_bytes) / nconns;
	} else {
		fprintf(stderr, "bench_pktpath: --table wt or rte_hash\n");
		return 1;
	}

	bench_warm(&r, warm, nwarm);
	free(warm);

	double t0 = now_s();
	uint64_t c0 = __rdtsc();
	bench_timed(&r, frames, nframes, npkts);
	uint64_t c1 = __rdtsc();
	double t1 = now_s();

	double secs = t1 - t0;
	double tsc_hz = (double)(c1 - c0) / secs;
	printf("table=%s conns=%" PRIu64 " pkts=%" PRIu64 " secs=%.3f Mpps=%.2f ns/pkt=%.2f "
	       "tsc_cycles/pkt=%.1f tsc_GHz=%.2f bytes/record=%.1f emitted=%" PRIu64
	       " parse_drops=%" PRIu64 "\n",
	       table, nconns, npkts, secs, (double)npkts / secs / 1e6, secs * 1e9 / (double)npkts,
	       (double)(c1 - c0) / (double)npkts, tsc_hz / 1e9, bpr, emitted, parse_drops);
	if (r.tab) {
		struct wt_calltab_stats st;
		wt_calltab_get_stats(r.tab, &st);
		if (st.active != nconns || emitted != 0) {
			fprintf(stderr,
			        "bench_pktpath: expected %" PRIu64 " active records, got %" PRIu64
			        " (emitted %" PRIu64 ")\n",
			        nconns, st.active, emitted);
			return 1;
		}
		wt_calltab_free(r.tab);
	}
	free(frames);
	free(conns);
	return 0;
}
