/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_record.h: the completed call record, as exported and stored in segments.
 *
 * This struct is the payload of a record frame in a log segment (see
 * docs/FORMAT.md, which gives every offset): little-endian, fixed layout,
 * 304 bytes (record version 2; version 1 is its first 168). Its CSV and JSON renderings are the
 * contract of DESIGN.md section 3. Field meanings: a = the endpoint that is greater by (address,
 * port); d[0] counts what a sent, d[1] what b sent.
 */
#ifndef WT_RECORD_H
#define WT_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum wt_origin {
	WT_ORIGIN_UNKNOWN = 0,
	WT_ORIGIN_A = 1,
	WT_ORIGIN_B = 2,
};

enum wt_end_reason {
	WT_END_NONE = 0,     /* not completed (never stored) */
	WT_END_IDLE = 1,     /* completion scan: activity flag stayed clear */
	WT_END_ACTIVE = 2,   /* interim record of a call still running */
	WT_END_EVICTED = 3,  /* table full: completed to make room */
	WT_END_SHUTDOWN = 4, /* end of input or stop */
	WT_END_MAX
};

/* TCP flag bits, as in the TCP header byte 13. */
#define WT_TCP_FIN 0x01
#define WT_TCP_SYN 0x02
#define WT_TCP_RST 0x04
#define WT_TCP_PSH 0x08
#define WT_TCP_ACK 0x10
#define WT_TCP_URG 0x20
#define WT_TCP_ECE 0x40
#define WT_TCP_CWR 0x80

#define WT_IPPROTO_ICMP   1
#define WT_IPPROTO_TCP    6
#define WT_IPPROTO_UDP    17
#define WT_IPPROTO_ICMPV6 58

/* seq_valid bits */
#define WT_SEQ_VALID_A 0x01
#define WT_SEQ_VALID_B 0x02

/* tcp_valid bits (record version 2) */
#define WT_TCP_VALID   0x01 /* t[0], t[1] seq/retx/missed hold figures (a TCP record) */
#define WT_TCP_ACKED_A 0x02 /* t[0].acked_bytes meaningful: an ACK from b was seen */
#define WT_TCP_ACKED_B 0x04 /* t[1].acked_bytes meaningful: an ACK from a was seen */
#define WT_TCP_BASE_A  0x08 /* tcp_base[0] is a's first stream byte */
#define WT_TCP_BASE_B  0x10

/* Tunnels removed around a record's connection, outer first. */
#define WT_TUNNEL_MAX_DEPTH 4

/* tun_flags bits */
#define WT_TUN_OUTER_A 0x01 /* outer_a holds a's outermost source address */
#define WT_TUN_OUTER_B 0x02

/* Encapsulations the parser recognises (DESIGN.md section 3 names them). */
enum wt_tunnel {
	WT_TUNNEL_NONE = 0,
	WT_TUNNEL_GRE,    /* IP protocol 47 */
	WT_TUNNEL_IPIP,   /* IP protocol 4 (IPv4) or 41 (IPv6) inside IP */
	WT_TUNNEL_VXLAN,  /* UDP port 4789 */
	WT_TUNNEL_GENEVE, /* UDP port 6081 */
	WT_TUNNEL_GTPU,   /* UDP port 2152 */
	WT_TUNNEL_TEREDO, /* UDP port 3544 */
};

/* Per-direction figures: what one endpoint sent. */
struct wt_dirstats {
	uint64_t pkts;      /* packets (IP datagrams or fragments) */
	uint64_t bytes;     /* transport payload bytes (TCP/UDP payload; else IP payload) */
	uint64_t ip_bytes;  /* sum of IP total lengths */
	uint32_t first_seq; /* TCP: sequence number of the first segment seen */
	uint32_t last_seq;  /* TCP: last segment's sequence number + its payload length */
};

/* Per-direction figures of a TCP stream (record version 2; DESIGN.md
 * section 3, docs/FORMAT.md 5.1 and 5.5). For a record of a call with
 * interim records: what this part added (5.4). */
struct wt_tcpstats {
	uint64_t seq_bytes;    /* sequence space from the first byte to the highest known */
	uint64_t acked_bytes;  /* advance of the peer's cumulative ACK over this stream */
	uint64_t retx_bytes;   /* payload over sequence space already seen */
	uint64_t missed_bytes; /* sequence space no seen segment carried */
};

struct wt_callrec {
	uint64_t seq;        /* gap-free record number, assigned by the log writer */
	uint64_t call_id[2]; /* [0] monitor run id, [1] (lcore << 56) | incarnation */
	uint64_t start_ns;   /* first packet, ns since the Unix epoch */
	uint64_t end_ns;     /* last packet */
	uint8_t addr_a[16];  /* network order; IPv4 uses bytes 0..3, rest zero */
	uint8_t addr_b[16];
	uint16_t port_a; /* host order; 0 for protocols without ports */
	uint16_t port_b;
	uint16_t vlan;      /* outermost VLAN id, 0 = untagged or not keyed */
	uint8_t proto;      /* IP protocol number */
	uint8_t family;     /* 4 or 6 */
	uint8_t origin;     /* enum wt_origin */
	uint8_t end_reason; /* enum wt_end_reason */
	uint8_t flags[2];   /* union of TCP flags sent by a, by b */
	uint8_t seq_valid;  /* WT_SEQ_VALID_A/B: first/last_seq meaningful */
	uint8_t mac_a[6];   /* source MAC of a's first packet */
	uint8_t mac_b[6];
	uint8_t reserved[5]; /* zero */
	struct wt_dirstats d[2];
	/* ---- record version 2 (offset 168) ---- */
	struct wt_tcpstats t[2]; /* a's stream, b's stream */
	uint32_t tcp_base[2];    /* first byte of a's, b's stream (ISN + 1 or first seen) */
	uint8_t tcp_valid;       /* WT_TCP_VALID, WT_TCP_ACKED_A/B, WT_TCP_BASE_A/B */
	uint8_t tun_depth;       /* tunnels removed, 0 .. WT_TUNNEL_MAX_DEPTH */
	uint8_t tun_type[WT_TUNNEL_MAX_DEPTH]; /* enum wt_tunnel of each, outer first */
	uint8_t tun_idmask;   /* bit i: tun_id[i] holds level i's id (a's TEID for GTP-U);
	                       * bit 4 + i: tun_teid_b holds level i's b TEID */
	uint8_t outer_family; /* 4 or 6: family of outer_a, outer_b; 0 = none */
	uint32_t tun_id[WT_TUNNEL_MAX_DEPTH]; /* VXLAN/Geneve VNI, GRE key, GTP-U TEID of a */
	uint32_t tun_teid_b;                  /* GTP-U: TEID of the packets b sent */
	uint32_t tun_flags;                   /* WT_TUN_OUTER_A/B */
	uint8_t outer_a[16];                  /* outermost source address of a's packets (tunnel) */
	uint8_t outer_b[16];                  /* ... of b's packets */
};

_Static_assert(sizeof(struct wt_dirstats) == 32, "wt_dirstats layout");
_Static_assert(offsetof(struct wt_callrec, addr_a) == 40, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, port_a) == 72, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, origin) == 80, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, mac_a) == 85, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, d) == 104, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, t) == 168, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, tcp_valid) == 240, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, tun_id) == 248, "wt_callrec layout");
_Static_assert(offsetof(struct wt_callrec, outer_a) == 272, "wt_callrec layout");
_Static_assert(sizeof(struct wt_callrec) == 304, "wt_callrec layout");

/* Payload bytes of a version 1 record (the first fields of struct wt_callrec). */
#define WT_CALLREC_V1_SIZE 168

/* Longest CSV or JSON line wt_callrec_format_*() can produce, with newline. */
#define WT_CALLREC_LINE_MAX 2048

/** The CSV header line of DESIGN.md section 3, without a newline. */
extern const char wt_callrec_csv_header[];

/**
 * Render @r as one CSV line (newline included) into @buf.
 * @return the length written (excluding the NUL), or -ENOSPC when @len is
 * below WT_CALLREC_LINE_MAX. Thread-safe.
 */
int wt_callrec_format_csv(char *buf, size_t len, const struct wt_callrec *r);

/** Same as wt_callrec_format_csv() but as one JSON object per line. */
int wt_callrec_format_json(char *buf, size_t len, const struct wt_callrec *r);

/** "tcp", "udp", "icmp", "icmp6", or the protocol number, into @buf (>= 4 bytes). */
const char *wt_proto_name(uint8_t proto, char buf[4]);

/** "a", "b" or "unknown". */
const char *wt_origin_name(uint8_t origin);

/** "idle", "active", "evicted", "shutdown", or "?" */
const char *wt_end_reason_name(uint8_t reason);

/** "gre", "ipip", "vxlan", "geneve", "gtpu", "teredo", or "?" */
const char *wt_tunnel_name(uint8_t type);

/** TCP flags as letters in the order FSRPAUEC into @buf (>= 9 bytes). */
const char *wt_tcp_flags_str(uint8_t flags, char buf[9]);

/** Address of a record endpoint (@family 4 or 6) as text into @buf (>= 46). */
const char *wt_addr_str(const uint8_t addr[16], uint8_t family, char buf[46]);

/** call_id as 32 lowercase hex digits into @buf (>= 33 bytes). */
const char *wt_call_id_str(const uint64_t id[2], char buf[33]);

#endif /* WT_RECORD_H */
