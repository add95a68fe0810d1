/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_counters.h: the one list of packet drop reasons and notes.
 *
 * Every received packet ends in exactly one place: in a call record
 * ("accounted") or in exactly one drop reason below. Notes annotate accounted
 * packets (a packet may carry several) and are not part of that sum.
 * Telemetry, the exit summary, the stored stats frame and docs/FORMAT.md all
 * take their names from these lists, so they cannot drift apart.
 */
#ifndef WT_COUNTERS_H
#define WT_COUNTERS_H

/* _(ENUM, name, description) */
#define WT_FOREACH_DROP(_)                                                                        \
	_(NOT_IP, not_ip, "not IPv4/IPv6 (ARP, LLDP, STP/LLC, PPPoE discovery, other types)")     \
	_(L2_TRUNC, l2_truncated, "frame ends inside an Ethernet, VLAN, MPLS or PPPoE header")    \
	_(L2_TOO_DEEP, l2_too_deep, "more VLAN tags or MPLS labels than the parser follows")      \
	_(MPLS_NOT_IP, mpls_not_ip, "MPLS payload is neither IPv4 nor IPv6 (pseudowire...)")      \
	_(PPP_NOT_IP, ppp_not_ip, "PPPoE session frame with a non-IP PPP protocol (LCP...)")      \
	_(IP_BAD_VERSION, ip_bad_version, "IP version field disagrees with the ethertype")        \
	_(L3_TRUNC, l3_truncated, "capture ends inside the IP header")                            \
	_(IPV4_BAD_IHL, ipv4_bad_ihl, "IPv4 header length below 20 bytes")                        \
	_(IP_BAD_LEN, ip_bad_len, "IP length smaller than the headers it must contain")           \
	_(IP_LEN_EXCEEDS_FRAME, ip_len_exceeds_frame, "IP length beyond the frame on the wire")   \
	_(IPV6_EXT_TRUNC, ipv6_ext_truncated,                                                     \
	  "IPv6 extension header beyond the captured bytes or the payload length")                \
	_(IPV6_EXT_CHAIN, ipv6_ext_chain,                                                         \
	  "IPv6 extension chain too long, or hop-by-hop not first (loop)")                        \
	_(L4_TRUNC, l4_truncated, "capture ends inside the TCP/UDP header (ports unknown)")       \
	_(TCP_BAD_DOFF, tcp_bad_doff, "TCP data offset below 20 bytes or beyond the IP payload")  \
	_(UDP_BAD_LEN, udp_bad_len, "UDP length below 8 or beyond the IP payload")                \
	_(FRAG_BAD, frag_bad, "IP fragment with impossible offset/length or too short for ports") \
	_(FRAG_UNATTRIBUTED, frag_unattributed,                                                   \
	  "non-first IP fragment whose first fragment was not seen")                              \
	_(TUNNEL_FRAG_LATER, tunnel_frag_later,                                                   \
	  "non-first fragment of a tunnel packet whose inner packet its first fragment counted")

#define WT_FOREACH_NOTE(_)                                                                   \
	_(TRUNCATED, truncated, "snaplen-cut frame accounted from its IP header lengths")    \
	_(IP_OPTIONS, ip_options, "IPv4 options or IPv6 extension headers skipped")          \
	_(FRAG_FIRST, frag_first, "first fragment of a fragmented datagram (ports learned)") \
	_(FRAG_ATTRIBUTED, frag_attributed,                                                  \
	  "non-first fragment attributed via the fragment table")                            \
	_(TUNNEL_OUTER, tunnel_outer,                                                        \
	  "tunnel packet (GRE, VXLAN, Geneve, GTP-U, IP-in-IP, Teredo) accounted at the "    \
	  "outer level")                                                                     \
	_(TUNNEL_INNER, tunnel_inner, "inner packet of a tunnel, accounted in its own call") \
	_(TUNNEL_FRAG, tunnel_frag,                                                          \
	  "inner packet taken from a tunnel packet's first fragment (later ones dropped)")   \
	_(TUNNEL_INNER_TRUNC, tunnel_inner_truncated,                                        \
	  "tunnel packet kept at its own level: capture ends inside the inner headers")      \
	_(TUNNEL_INNER_NOT_IP, tunnel_inner_not_ip,                                          \
	  "tunnel packet kept at its own level: it carries no IP packet (ARP, GTP-U "        \
	  "signalling, an unknown or malformed tunnel header)")                              \
	_(TUNNEL_INNER_BAD, tunnel_inner_bad,                                                \
	  "tunnel packet kept at its own level: the inner packet's headers are malformed")   \
	_(TUNNEL_TOO_DEEP, tunnel_too_deep,                                                  \
	  "tunnels nested deeper than 4: kept at the fourth inner level")

enum wt_drop {
	WT_DROP_NONE = 0, /* accounted: the packet is in a call record */
#define WT_DROP_ENUM(e, n, d) WT_DROP_##e,
	WT_FOREACH_DROP(WT_DROP_ENUM)
#undef WT_DROP_ENUM
	        WT_DROP_MAX
};

enum wt_note_bit {
#define WT_NOTE_ENUM(e, n, d) WT_NOTE_BIT_##e,
	WT_FOREACH_NOTE(WT_NOTE_ENUM)
#undef WT_NOTE_ENUM
	        WT_NOTE_MAX
};

#define WT_NOTE(e) (1u << WT_NOTE_BIT_##e)

/* Name and description of a drop reason / note; "?" when out of range. */
const char *wt_drop_name(unsigned int reason);
const char *wt_drop_desc(unsigned int reason);
const char *wt_note_name(unsigned int bit);
const char *wt_note_desc(unsigned int bit);

#endif /* WT_COUNTERS_H */
