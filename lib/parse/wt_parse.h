/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_parse.h: header parsing from an Ethernet frame to the transport header.
 *
 * No EAL dependency: the parser works on a byte array so it can be unit
 * tested and fuzzed alone. It never reads outside [frame, frame + caplen).
 *
 * Layers followed (outermost first):
 *   Ethernet II; 802.1Q / 802.1ad / 0x9100 tags at any depth up to
 *   WT_PARSE_MAX_L2 (the outermost VLAN id is kept); Cisco FabricPath
 *   (0x8903, inner Ethernet frame); MPLS label stacks (unicast/multicast,
 *   payload chosen by the IP version nibble); PPPoE session (PPP IPv4/IPv6);
 *   IPv4 with options; IPv6 with hop-by-hop, routing, fragment, destination
 *   options, AH and the other IANA extension headers (chain length bounded);
 *   TCP, UDP (ports, flags, sequence numbers); every other IP protocol is
 *   keyed without ports. Tunnels (GRE, VXLAN, Geneve, GTP-U, Teredo,
 *   IP-in-IP): wt_parse() describes the outer packet and marks the tunnel
 *   (pkt->tunnel, pkt->inner_off); wt_decap() then replaces it with the
 *   innermost connection's packet, tunnels within tunnels included.
 */
#ifndef WT_PARSE_H
#define WT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "wt_common.h"
#include "wt_counters.h"
#include "wt_mem.h"    /* WT_SOCKET_ANY for wt_frag_create() */
#include "wt_record.h" /* enum wt_tunnel */

/* Most VLAN tags + MPLS labels + FabricPath headers followed before giving up. */
#define WT_PARSE_MAX_L2 8
/* Most IPv6 extension headers followed before giving up. */
#define WT_PARSE_MAX_EXT 8

/* wirelen value when the frame's length on the wire is not known (a capture
 * file replayed through net_pcap keeps only the captured length): an IP
 * length beyond the captured bytes is then taken as a snaplen cut. */
#define WT_WIRELEN_UNKNOWN 0u

enum wt_frag {
	WT_FRAG_NONE = 0,  /* not a fragment */
	WT_FRAG_FIRST = 1, /* offset 0 with more fragments: carries the ports */
	WT_FRAG_LATER = 2, /* offset > 0: ports must come from the fragment table */
};

/*
 * The tunnels wt_decap() removed from around a packet (valid when the
 * packet's tctx is not 0). The outer addresses are the outermost IP
 * header's, as an unordered pair (the lower first) and which one sent
 * this packet, so both directions of a connection describe one context.
 */
struct wt_tun {
	uint8_t depth;                     /* tunnels removed, 1 .. WT_TUNNEL_MAX_DEPTH */
	uint8_t type[WT_TUNNEL_MAX_DEPTH]; /* enum wt_tunnel, outer first */
	uint8_t idmask;                    /* bit i: id[i] is level i's id */
	uint8_t outer_family;              /* 4 or 6 */
	uint8_t src_hi;                    /* 1: this packet's outer source is outer[1] */
	uint32_t id[WT_TUNNEL_MAX_DEPTH]; /* VXLAN/Geneve VNI, GRE key; GTP-U: this packet's TEID */
	uint8_t outer[2][16];             /* the outermost IP addresses, lower first */
	uint8_t reserved[8];
};
_Static_assert(sizeof(struct wt_tun) == 64, "wt_tun layout");

/* What the parser learned from one frame. Only the fields named for the
 * returned state are meaningful; see wt_parse(). The first 48 bytes have
 * the layout of a connection key (lib/key/wt_key.h). */
struct wt_pkt {
	uint8_t src[16]; /* source address, network order; IPv4 in bytes 0..3, rest 0 */
	uint8_t dst[16]; /* destination address, same form */
	uint16_t sport;  /* host order; 0 for protocols without ports */
	uint16_t dport;
	uint16_t vlan;        /* outermost VLAN id (12 bits); 0 = untagged */
	uint8_t proto;        /* transport protocol (after IPv6 extension headers) */
	uint8_t family;       /* 4 or 6 */
	uint64_t tctx;        /* tunnel context (wt_decap()), 0 = not decapsulated */
	uint8_t tcp_flags;    /* TCP flag byte; 0 for other protocols and later fragments */
	uint8_t has_seq;      /* 1 when seq holds a TCP sequence number */
	uint8_t frag;         /* enum wt_frag */
	uint8_t tunnel;       /* enum wt_tunnel of a tunnel this packet carries, else NONE */
	uint32_t seq;         /* TCP sequence number, host order */
	uint32_t payload_len; /* transport payload bytes carried by this packet */
	uint32_t ip_len;      /* IPv4 total length, or 40 + IPv6 payload length */
	uint32_t frag_id;     /* IPv4 identification or IPv6 fragment identification */
	uint16_t notes;       /* WT_NOTE() bits: truncated, ip_options, frag_*, tunnel_* */
	uint16_t l3_off;      /* offset of the IP header in the frame */
	uint16_t l4_off;      /* offset of the transport header (or fragment data) */
	uint16_t inner_off;   /* offset of the tunnelled packet, 0 = none */
	uint8_t src_mac[6];   /* source MAC of the innermost Ethernet header */
	uint8_t dst_mac[6];
	uint32_t ack;      /* TCP acknowledgement number, host order; 0 for other protocols */
	uint32_t reserved; /* 0 */
	struct wt_tun tun; /* wt_decap() only: valid when tctx != 0 (wt_parse() leaves it) */
};

_Static_assert(sizeof(struct wt_pkt) == 160, "wt_pkt has no padding: results compare with memcmp");
/* What wt_parse() fills: every byte before tun. */
#define WT_PKT_PARSED_LEN offsetof(struct wt_pkt, tun)

/**
 * Parse one frame.
 *
 * @param frame    first byte of the Ethernet header
 * @param caplen   bytes available at @frame (contiguous)
 * @param wirelen  length of the frame on the wire, or WT_WIRELEN_UNKNOWN.
 *                 When known (>= caplen), an IP length larger than the wire
 *                 frame is WT_DROP_IP_LEN_EXCEEDS_FRAME; an IP length larger
 *                 than the captured bytes but within the wire frame (or with
 *                 wirelen unknown) is a snaplen cut: the packet is accounted
 *                 from its header lengths and gets WT_NOTE(TRUNCATED).
 *                 A known wirelen below caplen is taken as caplen.
 * @param pkt      filled on return
 * @return WT_DROP_NONE when the packet is to be accounted: every field of
 *   @pkt is set, except that for pkt->frag == WT_FRAG_LATER the ports are 0
 *   until wt_frag_process() supplies them. Otherwise the drop reason; @pkt
 *   is then partially filled and must not be used.
 *
 * payload_len: TCP = IP payload - TCP header; UDP = UDP length - 8 (for a
 * first fragment: the fragment's data - 8); other protocols = IP payload
 * after the extension headers; later fragments = the fragment's data.
 * lib/parse/README.md has the complete rules, limits and drop order.
 *
 * wt_parse() is an inline fast path (wt_parse_fast.h) for the common case,
 * Ethernet [+ one 802.1Q tag] + IPv4 without options or fragmentation + TCP
 * or UDP (no tunnel port) wholly captured; anything else goes to
 * wt_parse_full(). Both give identical results (tests/unit/test_parse.c).
 *
 * Thread-safe (no state). Any lcore.
 */
static inline enum wt_drop wt_parse(const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                                    struct wt_pkt *pkt);

/**
 * The full parser, out of line: same contract as wt_parse() for every frame.
 * Call wt_parse() instead on the packet path; this one exists for the slow
 * cases and so tests and fuzzers can compare the two.
 * Thread-safe (no state). Any lcore.
 */
enum wt_drop wt_parse_full(const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                           struct wt_pkt *pkt);

/* ---- decapsulation ---------------------------------------------------------
 *
 * wt_decap() takes a packet wt_parse() accepted with pkt->tunnel set and
 * parses what it carries, level after level (at most WT_TUNNEL_MAX_DEPTH):
 * VXLAN (inner Ethernet), Geneve (Ethernet, IPv4 or IPv6 by its protocol
 * type), GRE (IPv4, IPv6, Ethernet 0x6558, MPLS), GTP-U G-PDUs (IPv4 or
 * IPv6), IP in IP (protocol 4 or 41), Teredo (IPv6). Each inner packet is
 * parsed with the same functions as a frame, on a frame narrowed to the
 * outer payload: nothing beyond it and nothing beyond caplen is read, and
 * an inner IP length beyond the outer payload is malformed.
 *
 * On success pkt describes the innermost packet (addresses, ports,
 * lengths, TCP fields; the MACs of the innermost Ethernet header, else the
 * frame's; the frame's outermost VLAN), pkt->tun the tunnels, pkt->tctx a
 * 64-bit keyed hash (seed) of the context that, with the inner 5-tuple,
 * names the connection: the chain, the VNI or GRE key of each level, the
 * outer address pair (TEIDs are per direction, not in it); notes gain
 * tunnel_inner and lose tunnel_outer. A first fragment of a tunnelled
 * packet is decapsulated when it holds the inner headers (note
 * tunnel_frag: the inner packet is counted with it; its later fragments
 * are dropped as tunnel_frag_later through the fragment table).
 *
 * When an inner packet cannot be used (not captured far enough, not IP,
 * malformed), pkt is left at the deepest level that parsed (a tunnel packet
 * accounted at its own level, as --tunnels outer would) with a note naming
 * why: tunnel_inner_trunc, tunnel_inner_not_ip, tunnel_inner_bad; a chain
 * deeper than WT_TUNNEL_MAX_DEPTH stops there (tunnel_too_deep).
 * @return 1 when pkt is now an inner packet, 0 when it stays as it was.
 * Thread-safe (no state). Any lcore.
 */
int wt_decap(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt,
             uint64_t seed);

/* ---- fragment attribution ------------------------------------------------
 *
 * A small bounded table maps (family, src, dst, proto, IP id) of a datagram
 * whose first fragment was seen to its ports, so that later fragments are
 * counted in the same call record. Entries expire after a timeout; when the
 * table is full the oldest entry in the probe window is replaced (counted).
 * Owned by one lcore; not thread-safe.
 */
struct wt_frag_table;

struct wt_frag_stats {
	uint64_t learned;      /* first fragments entered */
	uint64_t attributed;   /* later fragments given ports */
	uint64_t unattributed; /* later fragments with no entry */
	uint64_t replaced;     /* live entries overwritten because the table was full */
	uint64_t expired;      /* entries found past their timeout */
};

/**
 * Create a fragment table.
 * @param entries     capacity (rounded up to a power of two, >= 16)
 * @param timeout_ns  an entry is forgotten this long after its last use
 * @param socket      NUMA node or WT_SOCKET_ANY
 * @return the table, or NULL with errno set (EINVAL, ENOMEM).
 */
struct wt_frag_table *wt_frag_create(uint32_t entries, uint64_t timeout_ns, int socket);

/** Free a table; NULL is accepted. */
void wt_frag_free(struct wt_frag_table *ft);

/**
 * Process a parsed fragment (pkt->frag != WT_FRAG_NONE).
 * FIRST: remember its ports; returns WT_DROP_NONE.
 * LATER: fill pkt->sport/dport from the table and set WT_NOTE(FRAG_ATTRIBUTED),
 * returning WT_DROP_NONE; or WT_DROP_TUNNEL_FRAG_LATER when its first
 * fragment was decapsulated (wt_frag_mark_decap()); or
 * WT_DROP_FRAG_UNATTRIBUTED.
 * @param now_ns  the monitor clock (packet time for capture files)
 */
enum wt_drop wt_frag_process(struct wt_frag_table *ft, struct wt_pkt *pkt, uint64_t now_ns);

/**
 * The first fragment @first (as wt_frag_process() saw it, before
 * wt_decap()) was decapsulated: its inner packet is counted with it, so
 * the later fragments are dropped as WT_DROP_TUNNEL_FRAG_LATER.
 */
void wt_frag_mark_decap(struct wt_frag_table *ft, const struct wt_pkt *first);

/** Copy the table's counters into @st. */
void wt_frag_get_stats(const struct wt_frag_table *ft, struct wt_frag_stats *st);

#include "wt_parse_fast.h"

#endif /* WT_PARSE_H */
