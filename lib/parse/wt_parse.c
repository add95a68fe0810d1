/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_parse.c: the full header parser (every encapsulation, every drop reason).
 *
 * How it is built: one function per layer, each taking the frame, the offset
 * where its header starts and the packet being filled, and each returning the
 * drop reason or the result of the next layer. parse_eth() starts at an
 * Ethernet header, parse_ipv4()/parse_ipv6() at an IP header, so a later
 * decapsulation step can call them again at pkt->inner_off with a frame
 * narrowed to the outer payload (struct frame carries the limits).
 *
 * Bounds: every read is preceded by has(), which checks against the captured
 * length; offsets stay <= caplen, so the subtraction in has() cannot wrap.
 * Lengths from headers are compared as "remaining bytes" rather than as end
 * offsets, so a 32-bit jumbogram length cannot overflow an addition.
 *
 * Drop order: the first problem met walking the headers outermost first wins;
 * within one header, "not captured" is judged before the header's fields.
 */
#include <string.h>

#include "wt_parse.h"

/* Ethertypes. */
#define ET_IPV4       0x0800
#define ET_IPV6       0x86dd
#define ET_VLAN       0x8100
#define ET_QINQ       0x88a8
#define ET_VLAN_9100  0x9100
#define ET_FABRICPATH 0x8903
#define ET_MPLS_UC    0x8847
#define ET_MPLS_MC    0x8848
#define ET_PPPOE_SESS 0x8864

/* PPP protocols inside PPPoE session frames. */
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

/* IP protocol numbers. */
#define IPP_HOPOPT   0
#define IPP_IPIP     4
#define IPP_TCP      6
#define IPP_UDP      17
#define IPP_IPV6     41
#define IPP_ROUTING  43
#define IPP_FRAGMENT 44
#define IPP_GRE      47
#define IPP_AH       51
#define IPP_DSTOPTS  60
#define IPP_MOBILITY 135
#define IPP_HIP      139
#define IPP_SHIM6    140
#define IPP_EXP1     253
#define IPP_EXP2     254

#define IPV6_OPT_PAD1  0x00
#define IPV6_OPT_JUMBO 0xc2

/* Most GTP-U extension headers followed before the inner offset is given up. */
#define GTPU_MAX_EXT 8

/* The frame being parsed. A decapsulation step narrows caplen/wirelen to the
 * outer payload and parses the inner packet with the same functions. */
struct frame {
	const uint8_t *f;
	uint32_t caplen;  /* captured bytes at f */
	uint32_t wirelen; /* WT_WIRELEN_UNKNOWN or >= caplen */
};

/* n bytes at off are captured. Callers keep off <= caplen. */
static inline int
has(const struct frame *c, uint32_t off, uint32_t n)
{
	return off <= c->caplen && n <= c->caplen - off;
}

static enum wt_drop parse_ipv4(const struct frame *c, uint32_t l3, struct wt_pkt *p);
static enum wt_drop parse_ipv6(const struct frame *c, uint32_t l3, struct wt_pkt *p);

/* ---- L2 ------------------------------------------------------------------ */

/* MPLS label stack at off, then IP chosen by the payload's version nibble.
 * @layers: L2 layers already followed (VLAN tags, FabricPath, labels). */
static enum wt_drop
parse_mpls(const struct frame *c, uint32_t off, unsigned int layers, struct wt_pkt *p)
{
	for (;;) {
		if (++layers > WT_PARSE_MAX_L2)
			return WT_DROP_L2_TOO_DEEP;
		if (!has(c, off, 4))
			return WT_DROP_L2_TRUNC;
		int bos = c->f[off + 2] & 1;
		off += 4;
		if (bos)
			break;
	}
	/* Without one payload byte the frame cannot be told IP: still L2. */
	if (!has(c, off, 1))
		return WT_DROP_L2_TRUNC;
	switch (c->f[off] >> 4) {
	case 4:
		return parse_ipv4(c, off, p);
	case 6:
		return parse_ipv6(c, off, p);
	default:
		return WT_DROP_MPLS_NOT_IP;
	}
}

/* PPPoE session header (6 bytes) + PPP protocol (2 bytes) at off. */
static enum wt_drop
parse_pppoe(const struct frame *c, uint32_t off, struct wt_pkt *p)
{
	const uint8_t *h = c->f + off;

	if (!has(c, off, 8))
		return WT_DROP_L2_TRUNC;
	/* ver/type 1/1 and code 0 (session data); anything else is not a
	 * session frame we could take IP from. */
	if (h[0] != 0x11 || h[1] != 0x00)
		return WT_DROP_PPP_NOT_IP;
	switch (wt_be16(h + 6)) {
	case PPP_IPV4:
		return parse_ipv4(c, off + 8, p);
	case PPP_IPV6:
		return parse_ipv6(c, off + 8, p);
	default:
		return WT_DROP_PPP_NOT_IP;
	}
}

/* Ethernet II header at off, then tags, FabricPath, MPLS, PPPoE, IP. */
static enum wt_drop
parse_eth(const struct frame *c, uint32_t off, struct wt_pkt *p)
{
	const uint8_t *f = c->f;
	unsigned int layers = 0;
	int tagged = 0;
	uint16_t et;

	if (!has(c, off, 14))
		return WT_DROP_L2_TRUNC;
	memcpy(p->dst_mac, f + off, 6);
	memcpy(p->src_mac, f + off + 6, 6);
	et = wt_be16(f + off + 12);
	off += 14;
	for (;;) {
		switch (et) {
		case ET_IPV4:
			return parse_ipv4(c, off, p);
		case ET_IPV6:
			return parse_ipv6(c, off, p);
		case ET_VLAN:
		case ET_QINQ:
		case ET_VLAN_9100:
			if (++layers > WT_PARSE_MAX_L2)
				return WT_DROP_L2_TOO_DEEP;
			if (!has(c, off, 4))
				return WT_DROP_L2_TRUNC;
			if (!tagged) {
				/* Outermost tag: the one the tap port's VLAN config names. */
				p->vlan = wt_be16(f + off) & 0x0fff;
				tagged = 1;
			}
			et = wt_be16(f + off + 2);
			off += 4;
			break;
		case ET_FABRICPATH:
			/* FTag/TTL (2 bytes), then the original Ethernet header:
			 * its MACs are the hosts', so they replace the outer ones. */
			if (++layers > WT_PARSE_MAX_L2)
				return WT_DROP_L2_TOO_DEEP;
			if (!has(c, off, 16))
				return WT_DROP_L2_TRUNC;
			memcpy(p->dst_mac, f + off + 2, 6);
			memcpy(p->src_mac, f + off + 8, 6);
			et = wt_be16(f + off + 14);
			off += 16;
			break;
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			return parse_mpls(c, off, layers, p);
		case ET_PPPOE_SESS:
			return parse_pppoe(c, off, p);
		default:
			/* 802.3 lengths (< 0x0600), ARP, LLDP, PPPoE discovery... */
			return WT_DROP_NOT_IP;
		}
	}
}

/* ---- L3 helpers ---------------------------------------------------------- */

/* The IP length against the frame: a bogus length or a snaplen cut. */
static inline enum wt_drop
check_frame_len(const struct frame *c, uint32_t l3, uint32_t ip_len, struct wt_pkt *p)
{
	if (c->wirelen != WT_WIRELEN_UNKNOWN && ip_len > c->wirelen - l3)
		return WT_DROP_IP_LEN_EXCEEDS_FRAME;
	if (ip_len > c->caplen - l3)
		p->notes |= WT_NOTE(TRUNCATED);
	return WT_DROP_NONE;
}

/* A non-first fragment: no transport header, its data counts as payload.
 * @off8: fragment offset in bytes; @data: fragment data length. */
static enum wt_drop
frag_later(uint32_t l4, uint32_t data, uint32_t off8, struct wt_pkt *p)
{
	/* A reassembled datagram cannot pass 65535 bytes (RFC 791, RFC 8200).
	 * off8 <= 65528; @data may be a jumbogram's 32-bit length. */
	if (data > 65535 - off8)
		return WT_DROP_FRAG_BAD;
	p->frag = WT_FRAG_LATER;
	p->l4_off = (uint16_t)l4;
	p->payload_len = data;
	return WT_DROP_NONE;
}

/* ---- tunnels --------------------------------------------------------------
 * Each returns the offset of the inner packet, or 0 when the tunnel header is
 * not wholly captured, is malformed or carries no inner packet. @c is already
 * narrowed to the tunnel's payload (min of captured and IP/UDP length). */

/* GRE (RFC 2784/2890 version 0, RFC 2637 version 1) header at off. */
static uint32_t
gre_inner(const struct frame *c, uint32_t off)
{
	uint32_t len;

	if (!has(c, off, 4))
		return 0;
	uint16_t fl = wt_be16(c->f + off);
	switch (fl & 0x7) {
	case 0:
		/* The RFC 1701 routing bit adds a variable source route list
		 * that nobody sends any more: not decapsulated. */
		if (fl & 0x4000)
			return 0;
		len = 4 + ((fl & 0x8000) ? 4 : 0) + ((fl & 0x2000) ? 4 : 0) +
		      ((fl & 0x1000) ? 4 : 0);
		break;
	case 1:
		/* Enhanced GRE (PPTP): key (length + call id) always present,
		 * no checksum or routing; optional sequence and ack numbers. */
		if (!(fl & 0x2000) || (fl & 0xc000))
			return 0;
		len = 8 + ((fl & 0x1000) ? 4 : 0) + ((fl & 0x0080) ? 4 : 0);
		break;
	default:
		return 0;
	}
	return has(c, off, len) ? off + len : 0;
}

/* Geneve (RFC 8926) header at off. */
static uint32_t
geneve_inner(const struct frame *c, uint32_t off)
{
	if (!has(c, off, 8) || (c->f[off] >> 6) != 0)
		return 0;
	uint32_t len = 8 + (c->f[off] & 0x3fu) * 4;
	return has(c, off, len) ? off + len : 0;
}

/* GTPv1-U (3GPP TS 29.281) header at off; only G-PDUs carry a packet. */
static uint32_t
gtpu_inner(const struct frame *c, uint32_t off)
{
	const uint8_t *f = c->f;

	if (!has(c, off, 8))
		return 0;
	/* version 1, protocol type GTP (not GTP'), message G-PDU */
	if ((f[off] & 0xf0) != 0x30 || f[off + 1] != 0xff)
		return 0;
	if (!(f[off] & 0x07))
		return off + 8;
	/* Any of E, S, PN: sequence number, N-PDU number, next extension type. */
	if (!has(c, off, 12))
		return 0;
	uint8_t next = (f[off] & 0x04) ? f[off + 11] : 0;
	uint32_t pos = off + 12;
	for (unsigned int n = 0; next != 0; n++) {
		/* length in 4-byte units, next type in the last byte */
		if (n == GTPU_MAX_EXT || !has(c, pos, 1) || f[pos] == 0)
			return 0;
		uint32_t elen = f[pos] * 4u;
		if (!has(c, pos, elen))
			return 0;
		next = f[pos + elen - 1];
		pos += elen;
	}
	return pos;
}

/* Teredo (RFC 4380) after the UDP header at off: optional authentication
 * and origin indication, then an IPv6 header. */
static uint32_t
teredo_inner(const struct frame *c, uint32_t off)
{
	const uint8_t *f = c->f;

	if (has(c, off, 2) && f[off] == 0 && f[off + 1] == 1) {
		if (!has(c, off, 4))
			return 0;
		/* indicator, id len, auth len, id, auth, nonce (8), confirmation (1) */
		uint32_t len = 4u + f[off + 2] + f[off + 3] + 8 + 1;
		if (!has(c, off, len))
			return 0;
		off += len;
	}
	if (has(c, off, 2) && f[off] == 0 && f[off + 1] == 0) {
		if (!has(c, off, 8))
			return 0;
		off += 8;
	}
	return has(c, off, 1) && (f[off] >> 4) == 6 ? off : 0;
}

/* Inner offset of a UDP tunnel; @l4 is the UDP header, @ulen its length. */
static uint32_t
udp_tunnel_inner(const struct frame *c, enum wt_tunnel t, uint32_t l4, uint32_t ulen)
{
	/* Narrowed to the datagram: has() then also means "inside the UDP length". */
	struct frame in = *c;
	if (ulen < in.caplen - l4)
		in.caplen = l4 + ulen;
	uint32_t h = l4 + 8, inner;

	switch (t) {
	case WT_TUNNEL_VXLAN:
		inner = has(&in, h, 8) ? h + 8 : 0;
		break;
	case WT_TUNNEL_GENEVE:
		inner = geneve_inner(&in, h);
		break;
	case WT_TUNNEL_GTPU:
		inner = gtpu_inner(&in, h);
		break;
	default:
		inner = teredo_inner(&in, h);
		break;
	}
	/* The inner packet must have at least one byte inside the datagram. */
	return inner != 0 && inner - l4 < ulen ? inner : 0;
}

/* Teredo between a client and a relay or peer, on ports other than the
 * server's 3544 (RFC 4380 5.2: the client's mapped port): the datagram is
 * exactly one IPv6 packet with an address in the Teredo prefix 2001::/32 on
 * either side. (Zeek recognises these by content too.) */
static int
teredo_by_content(const struct frame *c, uint32_t l4, uint32_t ulen)
{
	const uint8_t *h = c->f + l4 + 8;

	if (ulen < 48 || !has(c, l4 + 8, 40) || (h[0] >> 4) != 6 || wt_be16(h + 4) + 48u != ulen)
		return 0;
	return wt_be32(h + 8) == 0x20010000u || wt_be32(h + 24) == 0x20010000u;
}

/* Tunnel type of a UDP port (destination checked first by the caller). */
static inline enum wt_tunnel
udp_port_tunnel(uint16_t port)
{
	switch (port) {
	case WT_PORT_VXLAN:
		return WT_TUNNEL_VXLAN;
	case WT_PORT_GENEVE:
		return WT_TUNNEL_GENEVE;
	case WT_PORT_GTPU:
		return WT_TUNNEL_GTPU;
	case WT_PORT_TEREDO:
		return WT_TUNNEL_TEREDO;
	default:
		return WT_TUNNEL_NONE;
	}
}

/* Mark a tunnel. A first fragment keeps its inner offset: wt_decap() may
 * take the inner headers from it (later fragments never reach here). */
static void
set_tunnel(struct wt_pkt *p, enum wt_tunnel t, uint32_t inner)
{
	p->tunnel = (uint8_t)t;
	p->notes |= WT_NOTE(TUNNEL_OUTER);
	p->inner_off = (uint16_t)inner;
}

/* ---- L4 ------------------------------------------------------------------ */

/* Transport header at l4 with @pay bytes of IP payload (after extension
 * headers). p->proto and p->frag (NONE or FIRST) are set. @jumbo: IPv6
 * jumbogram, where a UDP length of 0 means "the IP payload" (RFC 2675). */
static enum wt_drop
parse_l4(const struct frame *c, uint32_t l4, uint32_t pay, int jumbo, struct wt_pkt *p)
{
	const uint8_t *h = c->f + l4;
	/* A first fragment too short for the transport header is a fragment
	 * problem; a whole datagram too short is an IP length problem. */
	enum wt_drop short_len = p->frag ? WT_DROP_FRAG_BAD : WT_DROP_IP_BAD_LEN;

	p->l4_off = (uint16_t)l4;
	switch (p->proto) {
	case IPP_TCP: {
		if (pay < 20)
			return short_len;
		if (!has(c, l4, 20))
			return WT_DROP_L4_TRUNC;
		uint32_t doff = (h[12] >> 4) * 4u;
		if (doff < 20)
			return WT_DROP_TCP_BAD_DOFF;
		if (doff > pay)
			return p->frag ? WT_DROP_FRAG_BAD : WT_DROP_TCP_BAD_DOFF;
		p->sport = wt_be16(h);
		p->dport = wt_be16(h + 2);
		p->seq = wt_be32(h + 4);
		p->ack = wt_be32(h + 8);
		p->tcp_flags = h[13];
		p->has_seq = 1;
		p->payload_len = pay - doff;
		return WT_DROP_NONE;
	}
	case IPP_UDP: {
		if (pay < 8)
			return short_len;
		if (!has(c, l4, 8))
			return WT_DROP_L4_TRUNC;
		uint32_t ulen = pay;
		if (p->frag == WT_FRAG_NONE) {
			/* A first fragment's UDP length covers the whole datagram. */
			ulen = wt_be16(h + 4);
			if (ulen == 0 && jumbo)
				ulen = pay;
			if (ulen < 8 || ulen > pay)
				return WT_DROP_UDP_BAD_LEN;
		}
		p->sport = wt_be16(h);
		p->dport = wt_be16(h + 2);
		p->payload_len = ulen - 8;
		enum wt_tunnel t = udp_port_tunnel(p->dport);
		if (t == WT_TUNNEL_NONE)
			t = udp_port_tunnel(p->sport);
		if (t != WT_TUNNEL_NONE)
			set_tunnel(p, t, udp_tunnel_inner(c, t, l4, ulen));
		else if (teredo_by_content(c, l4, ulen))
			set_tunnel(p, WT_TUNNEL_TEREDO, l4 + 8);
		return WT_DROP_NONE;
	}
	case IPP_GRE: {
		struct frame in = *c;
		if (pay < in.caplen - l4)
			in.caplen = l4 + pay;
		uint32_t inner = gre_inner(&in, l4);
		set_tunnel(p, WT_TUNNEL_GRE, inner != 0 && inner - l4 < pay ? inner : 0);
		p->payload_len = pay;
		return WT_DROP_NONE;
	}
	case IPP_IPIP:
	case IPP_IPV6:
		set_tunnel(p, WT_TUNNEL_IPIP, pay > 0 ? l4 : 0);
		p->payload_len = pay;
		return WT_DROP_NONE;
	default:
		p->payload_len = pay;
		return WT_DROP_NONE;
	}
}

/* ---- IPv4 ---------------------------------------------------------------- */

static enum wt_drop
parse_ipv4(const struct frame *c, uint32_t l3, struct wt_pkt *p)
{
	const uint8_t *ip = c->f + l3;

	if (!has(c, l3, 20))
		return WT_DROP_L3_TRUNC;
	if ((ip[0] >> 4) != 4)
		return WT_DROP_IP_BAD_VERSION;
	uint32_t hl = (ip[0] & 0x0fu) * 4;
	if (hl < 20)
		return WT_DROP_IPV4_BAD_IHL;
	if (!has(c, l3, hl))
		return WT_DROP_L3_TRUNC;
	uint32_t ip_len = wt_be16(ip + 2);
	if (ip_len < hl)
		return WT_DROP_IP_BAD_LEN;

	p->family = 4;
	p->l3_off = (uint16_t)l3;
	p->ip_len = ip_len;
	p->proto = ip[9];
	memcpy(p->src, ip + 12, 4);
	memcpy(p->dst, ip + 16, 4);
	if (hl > 20)
		p->notes |= WT_NOTE(IP_OPTIONS);
	enum wt_drop r = check_frame_len(c, l3, ip_len, p);
	if (r != WT_DROP_NONE)
		return r;

	uint16_t fo = wt_be16(ip + 6);
	if (fo & 0x3fff) { /* MF or a fragment offset */
		p->frag_id = wt_be16(ip + 4);
		if (fo & 0x1fff)
			return frag_later(l3 + hl, ip_len - hl, (fo & 0x1fffu) * 8, p);
		p->frag = WT_FRAG_FIRST;
		p->notes |= WT_NOTE(FRAG_FIRST);
	}
	return parse_l4(c, l3 + hl, ip_len - hl, 0, p);
}

/* ---- IPv6 ---------------------------------------------------------------- */

/* Jumbo Payload option (RFC 2675) in the hop-by-hop header at off, which
 * is captured whole (@hl bytes). Returns its length, or 0 when absent. */
static uint32_t
ipv6_jumbo_len(const uint8_t *hbh, uint32_t hl)
{
	uint32_t i = 2;

	while (i < hl) {
		if (hbh[i] == IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (hl - i < 2 || hbh[i + 1] > hl - i - 2)
			return 0; /* option runs past the header: malformed */
		if (hbh[i] == IPV6_OPT_JUMBO && hbh[i + 1] == 4)
			return wt_be32(hbh + i + 2);
		i += 2u + hbh[i + 1];
	}
	return 0;
}

/* Length of extension header @nh whose second byte is @len_field, or 0 when
 * @nh is not an extension header (the transport or "no next header"). */
static inline uint32_t
ipv6_ext_len(uint8_t nh, uint8_t len_field)
{
	switch (nh) {
	case IPP_HOPOPT:
	case IPP_ROUTING:
	case IPP_DSTOPTS:
	case IPP_MOBILITY:
	case IPP_HIP:
	case IPP_SHIM6:
	case IPP_EXP1:
	case IPP_EXP2:
		return (len_field + 1u) * 8;
	case IPP_FRAGMENT:
		return 8;
	case IPP_AH:
		return (len_field + 2u) * 4;
	default:
		return 0;
	}
}

static enum wt_drop
parse_ipv6(const struct frame *c, uint32_t l3, struct wt_pkt *p)
{
	const uint8_t *f = c->f, *ip = f + l3;

	if (!has(c, l3, 40))
		return WT_DROP_L3_TRUNC;
	if ((ip[0] >> 4) != 6)
		return WT_DROP_IP_BAD_VERSION;

	uint32_t ip_len = 40u + wt_be16(ip + 4);
	uint8_t nh = ip[6];
	int jumbo = 0;

	p->family = 6;
	p->l3_off = (uint16_t)l3;
	memcpy(p->src, ip + 8, 16);
	memcpy(p->dst, ip + 24, 16);

	if (ip_len == 40 && nh == IPP_HOPOPT && has(c, l3 + 40, 2)) {
		/* Payload length 0 with a hop-by-hop header: maybe a jumbogram. */
		uint32_t hl = (f[l3 + 41] + 1u) * 8;
		if (!has(c, l3 + 40, hl))
			return WT_DROP_IPV6_EXT_TRUNC;
		uint32_t jl = ipv6_jumbo_len(f + l3 + 40, hl);
		if (jl != 0) {
			/* RFC 2675: only for lengths a normal header cannot carry;
			 * the bound keeps 40 + length in 32 bits. */
			if (jl <= 65535 || jl > UINT32_MAX - 40)
				return WT_DROP_IP_BAD_LEN;
			ip_len = 40 + jl;
			jumbo = 1;
		}
	}
	p->ip_len = ip_len;
	enum wt_drop r = check_frame_len(c, l3, ip_len, p);
	if (r != WT_DROP_NONE)
		return r;

	/* Extension chain. rem = payload bytes from pos to the payload end. */
	uint32_t pos = l3 + 40, rem = ip_len - 40;
	for (unsigned int n = 0; ipv6_ext_len(nh, 0) != 0; n++) {
		/* Hop-by-hop only right after the fixed header (RFC 8200 4.1):
		 * elsewhere it is a crafted loop. */
		if ((nh == IPP_HOPOPT && n != 0) || n == WT_PARSE_MAX_EXT)
			return WT_DROP_IPV6_EXT_CHAIN;
		if (!has(c, pos, 2) || rem < 2)
			return WT_DROP_IPV6_EXT_TRUNC;
		uint32_t hl = ipv6_ext_len(nh, f[pos + 1]);
		if (!has(c, pos, hl) || rem < hl)
			return WT_DROP_IPV6_EXT_TRUNC;
		p->notes |= WT_NOTE(IP_OPTIONS);
		if (nh == IPP_FRAGMENT) {
			uint16_t fo = wt_be16(f + pos + 2);
			uint32_t off8 = fo & 0xfff8u;
			if (off8 != 0 || (fo & 1)) { /* not an atomic fragment (RFC 6946) */
				if (p->frag != WT_FRAG_NONE)
					return WT_DROP_FRAG_BAD; /* two fragment headers */
				p->frag_id = wt_be32(f + pos + 4);
				if (off8 != 0) {
					p->proto = f[pos];
					return frag_later(pos + 8, rem - 8, off8, p);
				}
				if (rem - 8 > 65535)
					return WT_DROP_FRAG_BAD;
				p->frag = WT_FRAG_FIRST;
				p->notes |= WT_NOTE(FRAG_FIRST);
			}
		}
		nh = f[pos];
		pos += hl;
		rem -= hl;
	}
	/* 59 (no next header), ESP and every other protocol end the chain. */
	p->proto = nh;
	return parse_l4(c, pos, rem, jumbo, p);
}

/* ---- entry --------------------------------------------------------------- */

enum wt_drop
wt_parse_full(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt)
{
	struct frame c = {
	        .f = frame,
	        .caplen = caplen,
	        .wirelen = wirelen != WT_WIRELEN_UNKNOWN && wirelen < caplen ? caplen : wirelen,
	};

	memset(pkt, 0, WT_PKT_PARSED_LEN); /* pkt->tun is wt_decap()'s */
	return parse_eth(&c, 0, pkt);
}

/* ---- decapsulation --------------------------------------------------------
 *
 * One level at a time: the tunnel header of the current packet gives the
 * level's id and what it carries; the inner packet is parsed on a frame
 * narrowed to the tunnel's payload (struct frame, offsets from the inner
 * packet's start, rebased to the real frame afterwards). Limits, absolute
 * in the frame: `cap_end` the captured bytes the level may read, `wire_end`
 * where its payload ends on the wire (UINT32_MAX: unknown, in a first
 * fragment of a GRE or IP-in-IP packet).
 */

/* What a tunnel carries: INNER_IP by the version nibble (GTP-U). */
enum inner_kind { INNER_ETH, INNER_IPV4, INNER_IPV6, INNER_IP, INNER_MPLS, INNER_PPP, INNER_NONE };

/* How the tunnel of @p (parsed at absolute offsets in @f) continues: what
 * it carries (*kind) and its id (*id, *has_id). */
static void
tunnel_header(const uint8_t *f, const struct wt_pkt *p, enum inner_kind *kind, uint32_t *id,
              int *has_id)
{
	const uint8_t *h = f + p->l4_off;

	*has_id = 0;
	*kind = INNER_IP;
	switch ((enum wt_tunnel)p->tunnel) {
	case WT_TUNNEL_IPIP:
		*kind = p->proto == IPP_IPIP ? INNER_IPV4 : INNER_IPV6;
		break;
	case WT_TUNNEL_TEREDO:
		*kind = INNER_IPV6;
		break;
	case WT_TUNNEL_VXLAN: /* flags (I: VNI valid), reserved, VNI, reserved */
		*kind = INNER_ETH;
		if (h[8] & 0x08) {
			*id = wt_be32(h + 12) >> 8;
			*has_id = 1;
		}
		break;
	case WT_TUNNEL_GENEVE: /* ver/optlen, flags, protocol type, VNI */
		*id = wt_be32(h + 12) >> 8;
		*has_id = 1;
		switch (wt_be16(h + 10)) {
		case 0x6558:
			*kind = INNER_ETH;
			break;
		case ET_IPV4:
			*kind = INNER_IPV4;
			break;
		case ET_IPV6:
			*kind = INNER_IPV6;
			break;
		default:
			*kind = INNER_NONE;
		}
		break;
	case WT_TUNNEL_GTPU: /* flags, type, length, TEID */
		*id = wt_be32(h + 12);
		*has_id = 1;
		break;
	case WT_TUNNEL_GRE: {
		uint16_t fl = wt_be16(h), pt = wt_be16(h + 2);
		if ((fl & 0x7) == 1) { /* enhanced GRE (PPTP): key = length, call id */
			*id = wt_be16(h + 6);
			*has_id = 1;
			*kind = pt == 0x880b ? INNER_PPP : INNER_NONE;
			break;
		}
		if (fl & 0x2000) { /* key, after the checksum word */
			*id = wt_be32(h + ((fl & 0x8000) ? 8 : 4));
			*has_id = 1;
		}
		switch (pt) {
		case ET_IPV4:
			*kind = INNER_IPV4;
			break;
		case ET_IPV6:
			*kind = INNER_IPV6;
			break;
		case 0x6558: /* transparent Ethernet bridging */
			*kind = INNER_ETH;
			break;
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			*kind = INNER_MPLS;
			break;
		default:
			*kind = INNER_NONE;
		}
		break;
	}
	default:
		break;
	}
}

/* PPP in enhanced GRE: optional address/control, protocol (1 or 2 bytes). */
static enum wt_drop
parse_ppp(const struct frame *c, struct wt_pkt *p)
{
	uint32_t off = 0;
	uint16_t proto;

	if (has(c, 0, 2) && c->f[0] == 0xff && c->f[1] == 0x03)
		off = 2;
	if (!has(c, off, 1))
		return WT_DROP_L2_TRUNC;
	if (c->f[off] & 1) { /* protocol field compressed to one byte */
		proto = c->f[off];
		off += 1;
	} else {
		if (!has(c, off, 2))
			return WT_DROP_L2_TRUNC;
		proto = wt_be16(c->f + off);
		off += 2;
	}
	switch (proto) {
	case PPP_IPV4:
		return parse_ipv4(c, off, p);
	case PPP_IPV6:
		return parse_ipv6(c, off, p);
	default:
		return WT_DROP_PPP_NOT_IP;
	}
}

/* The note of a failed inner parse. */
static uint16_t
decap_fail_note(enum wt_drop r)
{
	switch (r) {
	case WT_DROP_L2_TRUNC:
	case WT_DROP_L3_TRUNC:
	case WT_DROP_L4_TRUNC:
	case WT_DROP_IPV6_EXT_TRUNC:
		return WT_NOTE(TUNNEL_INNER_TRUNC);
	case WT_DROP_NOT_IP:
	case WT_DROP_MPLS_NOT_IP:
	case WT_DROP_PPP_NOT_IP:
		return WT_NOTE(TUNNEL_INNER_NOT_IP);
	default:
		return WT_NOTE(TUNNEL_INNER_BAD);
	}
}

static inline uint64_t
decap_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The tunnel context hash: chain, ids (GTP-U TEIDs excluded: they differ
 * per direction), outer family and address pair. Never 0. */
static uint64_t
decap_ctx_hash(const struct wt_tun *t, uint32_t ctx_idmask, uint64_t seed)
{
	uint64_t w0 = (uint64_t)t->depth | (uint64_t)wt_load32(t->type) << 8 |
	              (uint64_t)t->outer_family << 40 | (uint64_t)ctx_idmask << 48;
	uint64_t w1 = (uint64_t)((ctx_idmask & 1) ? t->id[0] : 0) |
	              (uint64_t)((ctx_idmask & 2) ? t->id[1] : 0) << 32;
	uint64_t w2 = (uint64_t)((ctx_idmask & 4) ? t->id[2] : 0) |
	              (uint64_t)((ctx_idmask & 8) ? t->id[3] : 0) << 32;
	uint64_t h = decap_mix(w0 ^ seed, w1 ^ 0x9e3779b97f4a7c15ull);
	h = decap_mix(h ^ w2, wt_load64(t->outer[0]) ^ 0xc2b2ae3d27d4eb4full);
	h = decap_mix(h ^ wt_load64(t->outer[0] + 8),
	              wt_load64(t->outer[1]) ^ 0x165667b19e3779f9ull);
	h = decap_mix(h ^ wt_load64(t->outer[1] + 8), seed ^ 0x27d4eb2f165667c5ull);
	return h != 0 ? h : 1;
}

int
wt_decap(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt, uint64_t seed)
{
	/* The level being removed and the one parsed from it, rotating over
	 * pkt (the outer packet, written only at the end) and two buffers. */
	struct wt_pkt buf[2], *cur = pkt, *in = &buf[0], *spare = &buf[1];
	struct wt_tun tun;
	uint32_t cap_end = caplen, ctx_idmask = 0;
	uint16_t outer_notes = pkt->notes & WT_NOTE(IP_OPTIONS);
	uint16_t vlan = pkt->vlan;

	(void)wirelen; /* wt_parse() checked the outer lengths against it */
	if (pkt->tunnel == WT_TUNNEL_NONE || pkt->frag == WT_FRAG_LATER)
		return 0;
	memset(&tun, 0, sizeof(tun));
	tun.outer_family = pkt->family;
	uint64_t sh = __builtin_bswap64(wt_load64(pkt->src)),
	         dh = __builtin_bswap64(wt_load64(pkt->dst));
	uint64_t sl = __builtin_bswap64(wt_load64(pkt->src + 8)),
	         dl = __builtin_bswap64(wt_load64(pkt->dst + 8));
	tun.src_hi = sh > dh || (sh == dh && sl > dl);
	memcpy(tun.outer[0], tun.src_hi ? pkt->dst : pkt->src, 16);
	memcpy(tun.outer[1], tun.src_hi ? pkt->src : pkt->dst, 16);

	while (cur->tunnel != WT_TUNNEL_NONE) {
		uint32_t l3 = cur->l3_off, l4 = cur->l4_off, start = cur->inner_off;
		uint32_t pkt_end, wire_end;
		uint16_t note = 0;

		/* Where this packet ends: in the frame, and of its tunnel payload on
		 * the wire. A first fragment ends at its own IP length; its UDP
		 * length still tells where the whole datagram's payload ends. */
		/* (an IPv6 packet's length counts its 40-byte header: up to 65575
		 * without a jumbogram; only a sum past 32 bits is "unbounded") */
		uint64_t ip_end = (uint64_t)l3 + cur->ip_len;
		pkt_end = ip_end > UINT32_MAX ? UINT32_MAX : (uint32_t)ip_end;
		if (cur->proto == IPP_UDP) {
			wire_end = l4 + wt_be16(frame + l4 + 4);
			if (wire_end < pkt_end)
				pkt_end = wire_end;
		} else {
			wire_end = cur->frag == WT_FRAG_FIRST ? UINT32_MAX : pkt_end;
		}
		if (pkt_end < cap_end)
			cap_end = pkt_end;

		if (tun.depth == WT_TUNNEL_MAX_DEPTH) {
			note = WT_NOTE(TUNNEL_TOO_DEEP);
		} else if (start == 0 || start >= cap_end) {
			/* No inner packet: the capture cut the tunnel header, or
			 * the header carries none (GTP-U signalling, a routing or
			 * unknown GRE header, a malformed one). */
			note = cap_end < pkt_end ? WT_NOTE(TUNNEL_INNER_TRUNC)
			                         : WT_NOTE(TUNNEL_INNER_NOT_IP);
		}
		if (note != 0) {
			cur->notes |= note;
			break;
		}

		enum inner_kind kind;
		uint32_t id = 0;
		int has_id;
		tunnel_header(frame, cur, &kind, &id, &has_id);

		struct frame c = {
		        .f = frame + start,
		        .caplen = cap_end - start,
		        .wirelen = wire_end == UINT32_MAX ? WT_WIRELEN_UNKNOWN : wire_end - start,
		};
		enum wt_drop r;
		memset(in, 0, WT_PKT_PARSED_LEN);
		memcpy(in->src_mac, cur->src_mac, 6);
		memcpy(in->dst_mac, cur->dst_mac, 6);
		switch (kind) {
		case INNER_ETH:
			r = parse_eth(&c, 0, in);
			break;
		case INNER_MPLS:
			r = parse_mpls(&c, 0, 0, in);
			break;
		case INNER_PPP:
			r = parse_ppp(&c, in);
			break;
		case INNER_IPV4:
			r = parse_ipv4(&c, 0, in);
			break;
		case INNER_IPV6:
			r = parse_ipv6(&c, 0, in);
			break;
		case INNER_IP:
			if (!has(&c, 0, 1))
				r = WT_DROP_L3_TRUNC;
			else if ((c.f[0] >> 4) == 4)
				r = parse_ipv4(&c, 0, in);
			else if ((c.f[0] >> 4) == 6)
				r = parse_ipv6(&c, 0, in);
			else
				r = WT_DROP_NOT_IP;
			break;
		default:
			r = WT_DROP_NOT_IP;
			break;
		}
		/* Offsets back in the frame; they fit (the frame's offsets do). */
		if (r == WT_DROP_NONE && start + c.caplen > 0xffffu)
			r = WT_DROP_IP_BAD_LEN;
		if (r != WT_DROP_NONE) {
			cur->notes |= decap_fail_note(r);
			break;
		}
		in->l3_off = (uint16_t)(in->l3_off + start);
		in->l4_off = (uint16_t)(in->l4_off + start);
		if (in->inner_off != 0)
			in->inner_off = (uint16_t)(in->inner_off + start);
		in->vlan = vlan;

		/* The level is removed. */
		tun.type[tun.depth] = cur->tunnel;
		if (has_id) {
			tun.id[tun.depth] = id;
			tun.idmask |= (uint8_t)(1u << tun.depth);
			if (cur->tunnel != WT_TUNNEL_GTPU)
				ctx_idmask |= 1u << tun.depth;
		}
		tun.depth++;
		if (cur->frag == WT_FRAG_FIRST) {
			/* Only the outermost packet may be a first fragment: the
			 * inner packet is cut by fragmentation, not by the capture,
			 * when the fragment was captured whole. */
			outer_notes |= WT_NOTE(TUNNEL_FRAG);
			if (cap_end == pkt_end)
				in->notes &= (uint16_t)~WT_NOTE(TRUNCATED);
		}
		in->notes |= outer_notes | WT_NOTE(TUNNEL_INNER);
		outer_notes = in->notes & (WT_NOTE(IP_OPTIONS) | WT_NOTE(TUNNEL_FRAG));
		struct wt_pkt *done = cur;
		cur = in;
		in = done == pkt ? spare : done;
		/* An inner fragment is accounted where it is (its later fragments
		 * find it through the fragment table); it is not decapsulated. */
		if (cur->frag != WT_FRAG_NONE)
			break;
	}
	if (tun.depth == 0)
		return 0; /* cur is pkt: only a note was added */
	cur->tctx = decap_ctx_hash(&tun, ctx_idmask, seed);
	memcpy(pkt, cur, WT_PKT_PARSED_LEN);
	pkt->tun = tun;
	return 1;
}
