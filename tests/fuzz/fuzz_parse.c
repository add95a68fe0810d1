/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_parse.c: libFuzzer harness: wt_parse() vs wt_parse_full(), result invariants, fragment
 * table.
 *
 * Input: byte 0 chooses the wire length (unknown, = caplen, caplen + n, or
 * below caplen), the rest is the frame. libFuzzer hands over an exactly sized
 * heap buffer, so AddressSanitizer catches any read past caplen. Any
 * disagreement or broken invariant aborts, which libFuzzer reports as a crash.
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true. Seed corpus: run the
 * unit test with WT_WRITE_CORPUS=DIR (writes the valid sample frames);
 * lib/parse/README.md has the commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_require.h"

#include "wt_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wt_frag_table *ft;
static uint64_t clock_ns;

static void
check(const struct wt_pkt *p, uint32_t caplen, uint32_t wirelen)
{
	static const uint8_t zero[12];
	uint64_t ip_end = (uint64_t)p->l3_off + p->ip_len;
	int truncated = !!(p->notes & WT_NOTE(TRUNCATED));

	REQUIRE(p->family == 4 || p->family == 6);
	if (p->family == 4)
		REQUIRE(memcmp(p->src + 4, zero, 12) == 0 && memcmp(p->dst + 4, zero, 12) == 0);
	REQUIRE(p->payload_len <= p->ip_len);
	REQUIRE(p->l3_off >= 14 && p->l3_off < p->l4_off && p->l4_off <= ip_end);
	REQUIRE(p->l3_off + (p->family == 4 ? 20u : 40u) <= caplen);
	REQUIRE(truncated == (ip_end > caplen));
	if (!truncated)
		REQUIRE(p->l4_off <= caplen);
	if (wirelen != WT_WIRELEN_UNKNOWN)
		REQUIRE(ip_end <= (wirelen > caplen ? wirelen : caplen));
	REQUIRE(p->vlan <= 0x0fff && p->frag <= WT_FRAG_LATER && p->tunnel <= WT_TUNNEL_TEREDO);
	REQUIRE((p->frag == WT_FRAG_FIRST) == !!(p->notes & WT_NOTE(FRAG_FIRST)));
	REQUIRE(p->has_seq == (p->proto == 6 && p->frag != WT_FRAG_LATER));
	if ((p->proto != 6 && p->proto != 17) || p->frag == WT_FRAG_LATER)
		REQUIRE(p->sport == 0 && p->dport == 0 && p->tcp_flags == 0);
	REQUIRE((p->tunnel != WT_TUNNEL_NONE) == !!(p->notes & WT_NOTE(TUNNEL_OUTER)));
	if (p->inner_off != 0)
		REQUIRE(p->frag != WT_FRAG_LATER && p->inner_off >= p->l4_off &&
		        p->inner_off < ip_end && p->inner_off <= caplen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wt_pkt a, b;

	if (size < 1 || size > 65536)
		return 0;
	if (ft == NULL)
		ft = wt_frag_create(64, 1000000, WT_SOCKET_ANY);

	const uint8_t *frame = data + 1;
	uint32_t caplen = (uint32_t)size - 1, wirelen;
	switch (data[0] & 3) {
	case 0:
		wirelen = WT_WIRELEN_UNKNOWN;
		break;
	case 1:
		wirelen = caplen;
		break;
	case 2:
		wirelen = caplen + (data[0] >> 2) * 64u;
		break;
	default:
		wirelen = caplen > (data[0] >> 2) ? caplen - (data[0] >> 2) : 1;
		break;
	}

	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	enum wt_drop ra = wt_parse(frame, caplen, wirelen, &a);
	enum wt_drop rb = wt_parse_full(frame, caplen, wirelen, &b);
	REQUIRE(ra == rb);
	REQUIRE(ra < WT_DROP_MAX && ra != WT_DROP_FRAG_UNATTRIBUTED);
	if (ra != WT_DROP_NONE)
		return 0;
	REQUIRE(memcmp(&a, &b, WT_PKT_PARSED_LEN) == 0);
	check(&a, caplen, wirelen);
	if (a.tunnel != WT_TUNNEL_NONE) {
		/* Decapsulation reads only inside the frame and the outer payload. */
		struct wt_pkt d = a;
		if (wt_decap(frame, caplen, wirelen, &d, 1)) {
			uint64_t end = (uint64_t)d.l3_off + d.ip_len;
			REQUIRE(d.tctx != 0 && d.tun.depth >= 1 &&
			        d.tun.depth <= WT_TUNNEL_MAX_DEPTH);
			REQUIRE((d.notes & WT_NOTE(TUNNEL_INNER)) &&
			        !(a.notes & WT_NOTE(TUNNEL_INNER)));
			REQUIRE(d.family == 4 || d.family == 6);
			REQUIRE(d.payload_len <= d.ip_len && d.l3_off > a.l4_off - 1 &&
			        d.l3_off < d.l4_off && d.l4_off <= end);
			REQUIRE(d.l3_off + (d.family == 4 ? 20u : 40u) <= caplen);
			REQUIRE(end <= (uint64_t)a.l3_off + a.ip_len ||
			        (d.notes & WT_NOTE(TUNNEL_FRAG)));
		} else {
			REQUIRE(memcmp(&d, &a, 48) == 0 && d.tctx == 0);
		}
	}
	if (a.frag != WT_FRAG_NONE && ft != NULL) {
		enum wt_drop r = wt_frag_process(ft, &a, clock_ns += 1000);
		REQUIRE(r == WT_DROP_NONE ||
		        (a.frag == WT_FRAG_LATER && r == WT_DROP_FRAG_UNATTRIBUTED));
	}
	return 0;
}
