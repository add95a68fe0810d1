/* SPDX-License-Identifier: BSD-3-Clause */
/* calltab_priv.h: layout of the call-record table (private to lib/calltab). */
#ifndef CALLTAB_PRIV_H
#define CALLTAB_PRIV_H

#include <stddef.h>

#include "wt_calltab.h"

/* meta bits of struct crec */
#define CREC_ORIGIN_MASK 0x03 /* enum wt_origin */
#define CREC_SEQ_VALID_A 0x04 /* d[0].first_seq set */
#define CREC_SEQ_VALID_B 0x08 /* d[1].first_seq set */
#define CREC_SEEN_A      0x10 /* a has sent a packet in this part: its MAC is set */
#define CREC_SEEN_B      0x20
#define CREC_SEEN        (CREC_SEEN_A | CREC_SEEN_B)
#define CREC_OUTER_SWAP  0x40 /* tunnelled: a's outer address is the context's outer[1] */

/*
 * TCP stream state of one direction (calltab_tcp.c has how it works).
 * Positions are the stream's sequence numbers unwrapped to 64 bits: the
 * first one is its 32-bit value + 2^32, and every later one is placed
 * within 2^31 of `top`, so arithmetic on them is exact across wraparound.
 */
struct tcp_dir {
	uint64_t top;   /* one past the highest byte known to exist; 0: base not known yet */
	uint64_t acked; /* this part: advance of the peer's cumulative ACK */
	uint64_t retx;  /* this part: payload over space already seen (or not placed) */
	uint32_t ack;   /* the peer's highest cumulative ACK of this stream (TCPD_ACKBASE) */
	uint32_t st;    /* TCPD_* bits, and the index + 1 of the stream's tcp_ext (0: none) */
};
_Static_assert(sizeof(struct tcp_dir) == 32, "two directions in a cache line");

#define TCPD_BASE      0x01 /* top (and the cold base) are set */
#define TCPD_ACKBASE   0x02 /* ack is set (by the SYN, or the peer's first ACK) */
#define TCPD_ACKSEEN   0x04 /* an ACK from the peer was seen: acked is meaningful */
#define TCPD_SYN       0x08 /* the base is ISN + 1 */
#define TCPD_FIN       0x10 /* the stream's FIN was seen at top */
#define TCPD_EXT_SHIFT 8

/* Holes tracked per direction (tcp_ext); more are forgotten, lowest first. */
#define TCP_EXT_HOLES 29

/* Sequence space beyond which a position is held until a second packet
 * confirms it (calltab_tcp.c, "Jumps"). */
#define WT_TCP_JUMP_MAX (16u << 20)

/*
 * Holes and a held jump of one direction, from a per-table pool, taken when
 * the stream first needs one and given back when it is empty again. A hole
 * bound is stored as a signed 32-bit offset from `ref` (a position), so a
 * list holds 29 holes in four cache lines; holes more than 2 GiB below a new
 * one (which no segment can fill any more: it would read as from the past)
 * are forgotten when the list is rebased.
 */
struct tcp_ext {
	uint64_t ref; /* position the hole offsets count from */
	union {
		uint64_t jump_pos;  /* a held position beyond top + WT_TCP_JUMP_MAX */
		uint32_t next_free; /* on the free list: index + 1 of the next, 0: last */
	};
	uint32_t jump_len; /* payload of the held data segment */
	uint8_t nholes;
	uint8_t jump; /* 0: none; TCPX_JUMP_* */
	uint8_t reserved[2];
	int32_t lo[TCP_EXT_HOLES]; /* holes [ref + lo, ref + hi): space no seen segment */
	int32_t hi[TCP_EXT_HOLES]; /* carried, sorted */
};
_Static_assert(sizeof(struct tcp_ext) == 256, "four cache lines");

#define TCPX_JUMP_DATA 1 /* held position from a data segment (its start) */
#define TCPX_JUMP_ACK  2 /* from the peer's ACK */
#define TCPX_JUMP_FIN  4 /* the held data segment carried a FIN */

/*
 * An active call record: three cache lines. Line 0 holds what every lookup
 * and every packet touches (key, end time, activity flag, flags); line 1 the
 * per-direction counters; line 2 the TCP stream state (touched by TCP
 * packets only). What is written only at creation or read only at
 * completion (creation number, start time, MACs, the streams' bases, the
 * tunnel) lives in a separate cold array.
 *
 * A record describes one *part* of a call: from its creation, or from the
 * interim record that ended the previous part, to now. An interim record
 * (wt_calltab.c, "Interim records") resets the counters, flags, seq-valid
 * and seen bits, start time and MACs; key, origin, incarnation (call_id) and
 * end time carry over.
 */
struct crec {
	/* line 0 */
	struct wt_key key; /* key.family == 0: free slot */
	uint64_t end_ns;   /* last packet; for a free slot: next free index */
	uint32_t cut_ms;   /* when this part began (creation, last interim record):
	                    * ms since the epoch mod 2^32; read by a remote scanner */
	uint8_t active;    /* activity flag: set by every packet, cleared by the scan */
	uint8_t meta;      /* origin + seq-valid + seen + outer side bits */
	uint8_t flags[2];  /* union of TCP flags sent by a, by b (in this part) */
	/* line 1 */
	struct wt_dirstats d[2];
	/* line 2 */
	struct tcp_dir tcp[2];
} wt_cache_aligned;

_Static_assert(sizeof(struct crec) == 192, "a record is three cache lines");
_Static_assert(offsetof(struct crec, d) == 64, "counters start the second line");
_Static_assert(offsetof(struct crec, tcp) == 128, "TCP state is the third line");
_Static_assert(sizeof(struct tcp_dir) == 32, "the other direction: x ^ 32 (wt_calltab.c)");

struct crec_cold {
	uint64_t incarnation; /* creation number in this table: call_id[1] low bits;
	                       * read by a remote scanner as the record's generation */
	uint64_t start_ns;    /* first packet of this part */
	uint64_t base[2];     /* TCP: first byte of a's, b's stream (unwrapped position) */
	uint64_t acct[2];     /* TCP: base + the seq_bytes of the call's interim records */
	uint8_t mac[2][6];    /* source MAC of a's, b's first packet of this part */
	uint32_t tun;         /* tunnelled: index + 1 of its context (struct tun_ctx), 0: none */
	uint32_t teid[2];     /* GTP-U: TEID of a's, b's packets (the outermost GTP-U level) */
	uint16_t chain;       /* tunnelled: depth | type[i] << (3 + 3 i), kept even when
	                       * the context store was full (tun 0); 0: not tunnelled */
	uint8_t teid_set;     /* bit 0: teid[0] is known, bit 1: teid[1] */
	uint8_t reserved[5];
};
_Static_assert(sizeof(struct crec_cold) == 80, "cold part of a record: aligned, so the "
                                               "incarnation is read atomically");

/*
 * A tunnel context: what the records of the connections inside one tunnel
 * share (the chain, the ids that name a network, the outer address pair),
 * kept once per table and counted by reference. Found by the packets'
 * tctx (a seeded hash of exactly that), chained from a power-of-two head
 * array. Direction-dependent parts (GTP-U TEIDs, which outer address sent)
 * live in the record.
 */
struct tun_ctx {
	uint64_t tctx;
	uint32_t refs;     /* records pointing here; 0: on the free list */
	uint32_t next;     /* index + 1 of the next in the chain or free list, 0: end */
	struct wt_tun tun; /* src_hi 0; GTP-U levels without an id */
};
_Static_assert(sizeof(struct tun_ctx) == 80, "tunnel context");

#define CREC_NONE UINT32_MAX

/*
 * An index bucket: one cache line with 10 slots, each a 16-bit signature of
 * the hash and the record number + 1 (0 = empty slot). `ovf` counts the
 * entries that belong to this bucket or an earlier one but had to be stored
 * after it because the buckets were full: a lookup goes on to the next
 * bucket only while it is nonzero.
 */
#define BUCKET_SLOTS 10

struct bucket {
	uint16_t sig[BUCKET_SLOTS];
	uint16_t ovf;
	uint16_t reserved;
	uint32_t rec[BUCKET_SLOTS];
} wt_cache_aligned;
_Static_assert(sizeof(struct bucket) == 64, "a bucket is one cache line");

struct wt_calltab {
	struct crec *recs;      /* capacity records */
	struct crec_cold *cold; /* capacity entries */
	struct bucket *index;   /* nbuckets buckets */
	uint32_t nbuckets;
	uint32_t capacity;
	uint32_t hw;          /* slots [0, hw) have been used at least once */
	uint32_t free_head;   /* first free slot below hw, or CREC_NONE */
	uint32_t evict_hand;  /* where the next eviction sample starts */
	uint32_t scan_cursor; /* next slot the completion scan visits */
	int vlan_in_key;
	uint64_t vmask; /* wt_key_vlan_mask(vlan_in_key) */
	uint64_t next_incarnation;
	uint32_t active_ms;      /* interim records after this long (ms), 0: never */
	uint64_t call_id_hi;     /* call_id[0] */
	uint64_t call_id_lo_tag; /* lcore index << 56 */
	struct wt_key_seed seed;
	wt_calltab_emit_fn emit;
	void *emit_ctx;
	size_t recs_bytes, cold_bytes, index_bytes, ext_bytes;
	struct tcp_ext *ext; /* n_ext entries */
	uint32_t n_ext;
	uint32_t ext_free;   /* index + 1 of the first free entry, 0: none */
	struct tun_ctx *ctx; /* n_ctx tunnel contexts */
	uint32_t *ctx_head;  /* ctx_mask + 1 chain heads (index + 1, 0: empty) */
	uint32_t n_ctx, ctx_mask;
	uint32_t ctx_free; /* index + 1 of the first free context, 0: none */
	size_t ctx_bytes;
	struct wt_calltab_stats st;
};

/* ---- TCP streams (calltab_tcp.c) ---- */

/* Slow path of a TCP segment (anything but in-order data or a pure ACK at
 * the top): its payload, SYN and FIN for the sender's stream @x. */
void calltab_tcp_data(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir);
/* Slow path of an ACK of stream @dir (the receiver of the data acks it). */
void calltab_tcp_ack(struct wt_calltab *t, uint32_t idx, unsigned int dir, uint32_t ack);
/* Fill the version 2 TCP fields of @cr for record @idx; @final: not an
 * interim record. */
void calltab_tcp_emit(struct wt_calltab *t, uint32_t idx, struct wt_callrec *cr, int final);
/* After an interim record: start the next part. */
void calltab_tcp_cut(struct wt_calltab *t, uint32_t idx, const struct wt_callrec *cr);
/* The record is being freed: give its holes back. */
void calltab_tcp_release(struct wt_calltab *t, uint32_t idx);

/* A time as crec.cut_ms counts it: ms since the epoch, mod 2^32. */
static wt_always_inline uint32_t
calltab_ms(uint64_t ns)
{
	return (uint32_t)(ns / 1000000u);
}

/* Home bucket of a hash: multiply-shift range reduction (any bucket count). */
static wt_always_inline uint32_t
calltab_home(const struct wt_calltab *t, uint32_t hash_hi)
{
	return (uint32_t)(((uint64_t)hash_hi * t->nbuckets) >> 32);
}

/* 16-bit signature from the low hash bits; never 0, the signature of an
 * empty slot. */
static wt_always_inline uint16_t
calltab_sig(uint32_t hash_hi)
{
	uint16_t s = (uint16_t)hash_hi;
	return s ? s : 1;
}

#endif /* CALLTAB_PRIV_H */
