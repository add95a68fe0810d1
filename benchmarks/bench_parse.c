/* SPDX-License-Identifier: BSD-3-Clause */
/* bench_parse.c: ns and instructions per wt_parse() call on a few in-memory frames.
 *
 * Usage: bench_parse [FRAME [ITERATIONS]], FRAME one of tcp4, vlan_udp4,
 * vlan_tcp6, vxlan_tcp4, gtpu_tcp4, all (default). The tunnel frames are
 * parsed and decapsulated (wt_decap(), as --tunnels inner does): their
 * wrapper is decap_one. Instructions: run under
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out bench_parse tcp4 1000000
 *   callgrind_annotate --inclusive=yes cg.out | grep parse_one
 * and divide parse_one's inclusive Ir by the iterations (the noinline
 * wrapper adds its call, return and a few moves).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frames.h"
#include "wt_parse.h"

struct sample {
	const char *name;
	struct fb f;
	int tunnel; /* parse and decapsulate */
};

/* The parse under test, out of line so a profiler can count it alone. */
__attribute__((noinline)) static enum wt_drop
parse_one(const uint8_t *frame, uint32_t len, struct wt_pkt *p)
{
	return wt_parse(frame, len, len, p);
}

/* Parse and decapsulate a tunnel packet, out of line too. */
__attribute__((noinline)) static enum wt_drop
decap_one(const uint8_t *frame, uint32_t len, struct wt_pkt *p)
{
	enum wt_drop r = wt_parse(frame, len, len, p);
	if (r == WT_DROP_NONE && p->tunnel != WT_TUNNEL_NONE)
		(void)wt_decap(frame, len, len, p, 1);
	return r;
}

static void
build(struct sample *s)
{
	struct fb *f = &s->f;
	uint32_t ip, u;

	if (strcmp(s->name, "tcp4") == 0) {
		eth(f, 0x0800);
		ip = ip4(f, 6);
		tcp(f, 40000, 80, 1000, 0x10, 5);
		pad(f, 6, 0);
		ip4_fix(f, ip);
	} else if (strcmp(s->name, "vlan_udp4") == 0) {
		eth(f, 0x8100);
		tag(f, 100, 0x0800);
		ip = ip4(f, 17);
		u = udp(f, 40001, 53);
		pad(f, 30, 0);
		udp_fix(f, u);
		ip4_fix(f, ip);
	} else if (strcmp(s->name, "vxlan_tcp4") == 0 || strcmp(s->name, "gtpu_tcp4") == 0) {
		int vx = s->name[0] == 'v';
		uint32_t ip2;
		eth(f, 0x0800);
		ip = ip4(f, 17);
		u = udp(f, 50000, vx ? 4789 : 2152);
		put32(f, vx ? 0x08000000u : 0x30ff0000u); /* VXLAN I flag / GTP-U G-PDU */
		put32(f, vx ? 42u << 8 : 0x11111111u);    /* VNI / TEID */
		if (vx) {                                 /* the inner Ethernet header */
			static const uint8_t m[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
			putn(f, m, 12);
			put16(f, 0x0800);
		}
		ip2 = ip4(f, 6);
		tcp(f, 40000, 80, 1000, 0x10, 5);
		pad(f, 6, 0);
		ip4_fix(f, ip2);
		udp_fix(f, u);
		ip4_fix(f, ip);
		s->tunnel = 1;
	} else {
		eth(f, 0x8100);
		tag(f, 100, 0x86dd);
		ip = ip6(f, 6);
		tcp(f, 40000, 443, 1000, 0x18, 8);
		pad(f, 100, 0);
		ip6_fix(f, ip);
	}
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	unsigned long iters = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000000ul;
	static struct sample samples[] = {
	        {"tcp4"}, {"vlan_udp4"}, {"vlan_tcp6"}, {"vxlan_tcp4"}, {"gtpu_tcp4"}};
	struct wt_pkt p;
	uint64_t sink = 0;

	for (size_t i = 0; i < WT_ARRAY_SIZE(samples); i++) {
		struct sample *s = &samples[i];
		if (strcmp(which, "all") != 0 && strcmp(which, s->name) != 0)
			continue;
		build(s);
		enum wt_drop (*fn)(const uint8_t *, uint32_t, struct wt_pkt *) =
		        s->tunnel ? decap_one : parse_one;
		if (fn(s->f.b, s->f.n, &p) != WT_DROP_NONE || (s->tunnel && p.tctx == 0)) {
			fprintf(stderr, "%s: not accounted\n", s->name);
			return 1;
		}
		double t0 = now_s();
		for (unsigned long n = 0; n < iters; n++) {
			fn(s->f.b, s->f.n, &p);
			sink += p.payload_len;
			__asm__ volatile("" ::: "memory"); /* keep every call */
		}
		double t = now_s() - t0;
		printf("%-10s %6.2f ns/frame  %6.1f Mpps (one core)\n", s->name, t * 1e9 / iters,
		       iters / t / 1e6);
	}
	return sink == 42; /* keep the loop */
}
