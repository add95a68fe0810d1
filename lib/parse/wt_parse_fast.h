/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_parse_fast.h: INTERNAL, included by wt_parse.h: the inline fast path.
 *
 * Handles exactly one shape, the bulk of tap traffic: Ethernet II, at most
 * one 802.1Q tag, IPv4 with IHL 5, not a fragment, TCP or UDP, the whole IP
 * packet captured, no UDP tunnel port. Every check that fails, or any other
 * shape, hands the frame to wt_parse_full(), so the fast path only has to be
 * right on the frames it accepts and there give what wt_parse_full() gives
 * (tests/unit/test_parse.c compares the two on every sample and mutation).
 * Do not include directly.
 */
#ifndef WT_PARSE_FAST_H
#define WT_PARSE_FAST_H

#ifndef WT_PARSE_H
#error "include wt_parse.h, not wt_parse_fast.h"
#endif

#include <string.h>

/* UDP ports that mark a tunnel (either source or destination). */
#define WT_PORT_VXLAN 4789
#define WT_PORT_GENEVE 6081
#define WT_PORT_GTPU 2152
#define WT_PORT_TEREDO 3544

/* A one-register Bloom filter of the tunnel ports: a port whose bucket bit
 * is clear is certainly not a tunnel port. The multiplier puts the four
 * tunnel ports in four buckets and none of ~50 common UDP services (DNS,
 * NTP, SNMP, syslog, IKE, SIP, QUIC, mDNS, STUN, WireGuard...) in them;
 * a random port is sent to the full parser with probability 1/16. */
#define WT_PARSE_PORT_HASH(port) (((uint32_t)(port) * 0x6fb59771u) >> 26)
#define WT_PARSE_TUNNEL_PORT_MASK                                                  \
	((1ull << WT_PARSE_PORT_HASH(WT_PORT_VXLAN)) |                             \
	 (1ull << WT_PARSE_PORT_HASH(WT_PORT_GENEVE)) |                            \
	 (1ull << WT_PARSE_PORT_HASH(WT_PORT_GTPU)) |                              \
	 (1ull << WT_PARSE_PORT_HASH(WT_PORT_TEREDO)))

static wt_always_inline int
wt_parse_port_maybe_tunnel(uint16_t port)
{
	return (WT_PARSE_TUNNEL_PORT_MASK >> WT_PARSE_PORT_HASH(port)) & 1;
}

/* Raw 16-bit load, compared with WT_PARSE_BE16() constants. */
static wt_always_inline uint16_t
wt_parse_ld16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* Network-order constants, so loaded fields need no byte swap to compare. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WT_PARSE_BE16(v) ((uint16_t)((((v) & 0xffu) << 8) | (((v) >> 8) & 0xffu)))
#else
#define WT_PARSE_BE16(v) ((uint16_t)(v))
#endif

static inline enum wt_drop
wt_parse(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt)
{
	const uint8_t *ip, *l4;
	uint32_t l3 = 14, ip_len, payload, seq = 0;
	uint16_t vlan = 0, et;
	uint8_t proto, flags = 0, has_seq = 0;

	/* Tagged Ethernet + IPv4 + TCP header: every fixed field read below is
	 * captured. Shorter frames (a minimum frame is 60 bytes) go slow. */
	if (wt_unlikely(caplen < 18 + 20 + 20))
		goto slow;
	et = wt_parse_ld16(frame + 12);
	if (et == WT_PARSE_BE16(0x8100)) {
		vlan = wt_be16(frame + 14) & 0x0fff;
		et = wt_parse_ld16(frame + 16);
		l3 = 18;
	}
	ip = frame + l3;
	/* IPv4, IHL 5; no MF and offset 0 (DF and the reserved bit allowed). */
	if (wt_unlikely(et != WT_PARSE_BE16(0x0800) || ip[0] != 0x45 ||
			(wt_parse_ld16(ip + 6) & WT_PARSE_BE16(0x3fff)) != 0))
		goto slow;
	ip_len = wt_be16(ip + 2);
	/* Wholly captured: then it cannot exceed the wire frame either. */
	if (wt_unlikely(ip_len > caplen - l3))
		goto slow;
	proto = ip[9];
	l4 = ip + 20;
	if (proto == 6) {
		uint32_t doff = (uint32_t)(l4[12] >> 4) * 4;
		if (wt_unlikely(doff < 20 || ip_len < 20 + doff))
			goto slow;
		payload = ip_len - 20 - doff;
		seq = wt_be32(l4 + 4);
		flags = l4[13];
		has_seq = 1;
	} else if (proto == 17) {
		uint32_t ulen = wt_be16(l4 + 4);
		if (wt_unlikely(ulen < 8 || ulen + 20 > ip_len ||
				wt_parse_port_maybe_tunnel(wt_be16(l4)) |
					wt_parse_port_maybe_tunnel(wt_be16(l4 + 2))))
			goto slow;
		payload = ulen - 8;
	} else {
		goto slow;
	}

	/* Every field, in struct order (lets the compiler merge the stores). */
	uint64_t a;
	a = wt_load32(ip + 12);
	memcpy(pkt->src, &a, 8);
	memset(pkt->src + 8, 0, 8);
	a = wt_load32(ip + 16);
	memcpy(pkt->dst, &a, 8);
	memset(pkt->dst + 8, 0, 8);
	pkt->sport = wt_be16(l4);
	pkt->dport = wt_be16(l4 + 2);
	pkt->vlan = vlan;
	pkt->proto = proto;
	pkt->family = 4;
	pkt->tcp_flags = flags;
	pkt->has_seq = has_seq;
	pkt->frag = WT_FRAG_NONE;
	pkt->tunnel = WT_TUNNEL_NONE;
	pkt->seq = seq;
	pkt->payload_len = payload;
	pkt->ip_len = ip_len;
	pkt->frag_id = 0;
	pkt->notes = 0;
	pkt->l3_off = (uint16_t)l3;
	pkt->l4_off = (uint16_t)(l3 + 20);
	pkt->inner_off = 0;
	memcpy(pkt->src_mac, frame + 6, 6);
	memcpy(pkt->dst_mac, frame, 6);
	return WT_DROP_NONE;
slow:
	return wt_parse_full(frame, caplen, wirelen, pkt);
}

#endif /* WT_PARSE_FAST_H */
