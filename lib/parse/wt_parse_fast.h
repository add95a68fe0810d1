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
#ifdef __SSSE3__
#include <tmmintrin.h>
#endif

/* UDP ports that mark a tunnel (either source or destination). */
#define WT_PORT_VXLAN  4789
#define WT_PORT_GENEVE 6081
#define WT_PORT_GTPU   2152
#define WT_PORT_TEREDO 3544

/* A one-register Bloom filter of the tunnel ports, read straight from the
 * UDP header's first 32-bit word as loaded (no byte swap): bit (p & 0xfc) >> 2
 * of the mask is set for each tunnel port p (that is bits 10..15 of the
 * little-endian loaded 16-bit port). A clear bit means "certainly not a
 * tunnel port". Among ~60 common UDP services only HSRP (1985) and VXLAN-GPE
 * (4790) share a bit; a random port goes to the full parser with
 * probability 1/16. */
#define WT_PARSE_TUNNEL_BIT(port) (1ull << (((port)&0xfcu) >> 2))
#define WT_PARSE_TUNNEL_PORT_MASK                                                   \
	(WT_PARSE_TUNNEL_BIT(WT_PORT_VXLAN) | WT_PARSE_TUNNEL_BIT(WT_PORT_GENEVE) | \
	 WT_PARSE_TUNNEL_BIT(WT_PORT_GTPU) | WT_PARSE_TUNNEL_BIT(WT_PORT_TEREDO))

/* @raw: the UDP header's first 4 bytes loaded as a native (LE) 32-bit word. */
static wt_always_inline int
wt_parse_ports_maybe_tunnel(uint32_t raw)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* two tests, so each compiles to a bit test (shift, bt) */
	return ((WT_PARSE_TUNNEL_PORT_MASK >> ((raw >> 10) & 63)) & 1) ||
	       ((WT_PARSE_TUNNEL_PORT_MASK >> (raw >> 26)) & 1);
#else
	return ((WT_PARSE_TUNNEL_PORT_MASK >> ((raw >> 18) & 63)) |
	        (WT_PARSE_TUNNEL_PORT_MASK >> ((raw >> 2) & 63))) &
	       1;
#endif
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
#define WT_PARSE_BE16(v) ((uint16_t)((((v)&0xffu) << 8) | (((v) >> 8) & 0xffu)))
#else
#define WT_PARSE_BE16(v) ((uint16_t)(v))
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The fast path writes struct wt_pkt's first 96 bytes (WT_PKT_PARSED_LEN)
 * as little-endian 64-bit words and one 16-byte vector; this pins the
 * layout it assumes. */
#include <stddef.h>
_Static_assert(
        offsetof(struct wt_pkt, sport) == 32 && offsetof(struct wt_pkt, vlan) == 36 &&
                offsetof(struct wt_pkt, proto) == 38 && offsetof(struct wt_pkt, family) == 39 &&
                offsetof(struct wt_pkt, tctx) == 40 && offsetof(struct wt_pkt, tcp_flags) == 48 &&
                offsetof(struct wt_pkt, has_seq) == 49 && offsetof(struct wt_pkt, frag) == 50 &&
                offsetof(struct wt_pkt, tunnel) == 51 && offsetof(struct wt_pkt, seq) == 52 &&
                offsetof(struct wt_pkt, payload_len) == 56 &&
                offsetof(struct wt_pkt, ip_len) == 60 && offsetof(struct wt_pkt, frag_id) == 64 &&
                offsetof(struct wt_pkt, notes) == 68 && offsetof(struct wt_pkt, l3_off) == 70 &&
                offsetof(struct wt_pkt, l4_off) == 72 && offsetof(struct wt_pkt, inner_off) == 74 &&
                offsetof(struct wt_pkt, src_mac) == 76 && offsetof(struct wt_pkt, dst_mac) == 82 &&
                offsetof(struct wt_pkt, ack) == 88 && offsetof(struct wt_pkt, reserved) == 92 &&
                WT_PKT_PARSED_LEN == 96,
        "struct wt_pkt layout changed: update wt_parse_fast_store()");

static wt_always_inline void
wt_parse_st64(struct wt_pkt *pkt, size_t off, uint64_t w)
{
	__builtin_memcpy((uint8_t *)pkt + off, &w, sizeof(w));
}
#endif

/* Write every field wt_parse() fills (WT_PKT_PARSED_LEN bytes) for an
 * accepted frame. @w48 holds tcp_flags, has_seq, frag = tunnel = 0 and
 * seq, as laid out at offset 48; @raw_ports
 * the transport header's first 4 bytes as loaded. */
static wt_always_inline void
wt_parse_fast_store(struct wt_pkt *pkt, const uint8_t *frame, const uint8_t *ip, const uint32_t l3,
                    uint16_t vlan, uint8_t proto, uint32_t raw_ports, uint64_t w48,
                    uint32_t payload, uint32_t ip_len, uint32_t ack)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t ports = __builtin_bswap32(raw_ports); /* sport << 16 | dport */

#ifdef __SSSE3__
	/* Addresses: a 32-bit load zero-extends into a 16-byte store. */
	_mm_storeu_si128((__m128i *)(void *)pkt->src, _mm_cvtsi32_si128((int)wt_load32(ip + 12)));
	_mm_storeu_si128((__m128i *)(void *)pkt->dst, _mm_cvtsi32_si128((int)wt_load32(ip + 16)));
#else
	wt_parse_st64(pkt, 0, wt_load32(ip + 12)); /* IPv4 source, zero padded */
	wt_parse_st64(pkt, 8, 0);
	wt_parse_st64(pkt, 16, wt_load32(ip + 16));
	wt_parse_st64(pkt, 24, 0);
#endif
	wt_parse_st64(pkt, 32,
	              (ports >> 16 | ports << 16) | (uint64_t)vlan << 32 | (uint64_t)proto << 48 |
	                      4ull << 56);
	wt_parse_st64(pkt, 40, 0); /* tctx: not decapsulated */
	wt_parse_st64(pkt, 48, w48);
	wt_parse_st64(pkt, 56, payload | (uint64_t)ip_len << 32);
	wt_parse_st64(pkt, 64, (uint64_t)l3 << 48); /* frag_id 0, notes 0 */
	wt_parse_st64(pkt, 88, ack);                /* reserved 0 */
#ifdef __SSSE3__
	/* Bytes 72..87: l4_off, inner_off = 0, src MAC, dst MAC: one shuffle of
	 * the frame's first 16 bytes (0x80 lanes become 0), then l4_off. */
	const __m128i mac_order =
	        _mm_setr_epi8(-128, -128, -128, -128, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5);
	__m128i m =
	        _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)frame), mac_order);
	m = _mm_or_si128(m, _mm_cvtsi32_si128((int)(l3 + 20)));
	_mm_storeu_si128((__m128i *)(void *)&pkt->l4_off, m);
#else
	uint64_t a = wt_load64(frame);                       /* dst MAC, src MAC bytes 0-1 */
	uint64_t b = wt_load64(frame + 4);                   /* dst MAC bytes 4-5, src MAC */
	wt_parse_st64(pkt, 72, (l3 + 20) | (b >> 16) << 32); /* inner_off 0 */
	wt_parse_st64(pkt, 80, b >> 48 | a << 16);
#endif
#else
	const uint8_t *l4 = ip + 20;
	(void)raw_ports;
	memcpy(pkt->src, ip + 12, 4);
	memset(pkt->src + 4, 0, 12);
	memcpy(pkt->dst, ip + 16, 4);
	memset(pkt->dst + 4, 0, 12);
	pkt->sport = wt_be16(l4);
	pkt->dport = wt_be16(l4 + 2);
	pkt->vlan = vlan;
	pkt->proto = proto;
	pkt->family = 4;
	pkt->tctx = 0;
	pkt->tcp_flags = (uint8_t)w48;
	pkt->has_seq = (uint8_t)(w48 >> 8);
	pkt->frag = WT_FRAG_NONE;
	pkt->tunnel = WT_TUNNEL_NONE;
	pkt->seq = (uint32_t)(w48 >> 32);
	pkt->payload_len = payload;
	pkt->ip_len = ip_len;
	pkt->frag_id = 0;
	pkt->notes = 0;
	pkt->l3_off = (uint16_t)l3;
	pkt->l4_off = (uint16_t)(l3 + 20);
	pkt->inner_off = 0;
	memcpy(pkt->src_mac, frame + 6, 6);
	memcpy(pkt->dst_mac, frame, 6);
	pkt->ack = ack;
	pkt->reserved = 0;
#endif
}

/* IPv4 header at the constant offset @l3 (14 or 18: inlined twice, so the
 * offsets fold into the instructions). caplen >= l3 + 40 is checked. */
static wt_always_inline enum wt_drop
wt_parse_fast_ipv4(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt,
                   const uint32_t l3, uint16_t vlan)
{
	const uint8_t *ip = frame + l3, *l4 = ip + 20;
	uint32_t ip_len, payload, raw_ports, ack;
	uint64_t w48;
	uint8_t proto;

	/* IPv4, IHL 5; no MF and offset 0 (DF and the reserved bit allowed). */
	if (wt_unlikely(ip[0] != 0x45 || (wt_parse_ld16(ip + 6) & WT_PARSE_BE16(0x3fff)) != 0))
		goto slow;
	ip_len = wt_be16(ip + 2);
	/* Wholly captured: then it cannot exceed the wire frame either. */
	if (wt_unlikely(ip_len > caplen - l3))
		goto slow;
	proto = ip[9];
	raw_ports = wt_load32(l4);
	if (proto == 6) {
		uint32_t doff = (uint32_t)(l4[12] & 0xf0) >> 2;
		if (wt_unlikely(doff < 20 || ip_len < 20 + doff))
			goto slow;
		payload = ip_len - 20 - doff;
		/* tcp_flags, has_seq = 1, frag = tunnel = 0, seq */
		w48 = l4[13] | 1u << 8 | (uint64_t)wt_be32(l4 + 4) << 32;
		ack = wt_be32(l4 + 8);
	} else if (proto == 17) {
		uint32_t ulen = wt_be16(l4 + 4);
		if (wt_unlikely(ulen < 8 || ulen + 20 > ip_len ||
		                wt_parse_ports_maybe_tunnel(raw_ports)))
			goto slow;
		/* Maybe Teredo on another port (an IPv6 header of exactly the
		 * datagram's length): the full parser decides. */
		if (wt_unlikely(ulen >= 48 && (l4[8] & 0xf0) == 0x60 &&
		                wt_be16(l4 + 12) + 48u == ulen))
			goto slow;
		payload = ulen - 8;
		w48 = 0;
		ack = 0;
	} else {
		goto slow;
	}
	wt_parse_fast_store(pkt, frame, ip, l3, vlan, proto, raw_ports, w48, payload, ip_len, ack);
	return WT_DROP_NONE;
slow:
	return wt_parse_full(frame, caplen, wirelen, pkt);
}

static inline enum wt_drop
wt_parse(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt)
{
	/* Tagged Ethernet + IPv4 + TCP header: every fixed field the fast path
	 * reads is captured. Shorter frames (a minimum frame is 60) go slow. */
	if (wt_likely(caplen >= 18 + 20 + 20)) {
		uint16_t et = wt_parse_ld16(frame + 12);
		if (et == WT_PARSE_BE16(0x0800))
			return wt_parse_fast_ipv4(frame, caplen, wirelen, pkt, 14, 0);
		if (et == WT_PARSE_BE16(0x8100) &&
		    wt_parse_ld16(frame + 16) == WT_PARSE_BE16(0x0800))
			return wt_parse_fast_ipv4(frame, caplen, wirelen, pkt, 18,
			                          wt_be16(frame + 14) & 0x0fff);
	}
	return wt_parse_full(frame, caplen, wirelen, pkt);
}

#endif /* WT_PARSE_FAST_H */
