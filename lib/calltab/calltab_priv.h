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

/*
 * An active call record: two cache lines. Line 0 holds what every lookup
 * and every packet touches (key, end time, activity flag, flags); line 1 the
 * per-direction counters. What is written only at creation or read only at
 * completion (start time, MACs) lives in a separate cold array so that the
 * record stays at 128 bytes.
 *
 * A record describes one *part* of a call: from its creation, or from the
 * interim record that ended the previous part, to now. An interim record
 * (wt_calltab.c, "Interim records") resets the counters, flags, seq-valid
 * and seen bits, start time and MACs; key, origin, incarnation (call_id) and
 * end time carry over.
 */
struct crec {
	/* line 0 */
	struct wt_key key;    /* key.family == 0: free slot */
	uint64_t end_ns;      /* last packet; for a free slot: next free index */
	uint64_t incarnation; /* creation number in this table: call_id[1] low bits */
	uint32_t cut_ms;      /* when this part began (creation, last interim record):
	                       * ms since the epoch mod 2^32; read by a remote scanner */
	uint8_t active;       /* activity flag: set by every packet, cleared by the scan */
	uint8_t meta;         /* origin + seq-valid + seen bits */
	uint8_t flags[2];     /* union of TCP flags sent by a, by b (in this part) */
	/* line 1 */
	struct wt_dirstats d[2];
} wt_cache_aligned;

_Static_assert(sizeof(struct crec) == 128, "a record is two cache lines");
_Static_assert(offsetof(struct crec, d) == 64, "counters start the second line");

struct crec_cold {
	uint64_t start_ns; /* first packet of this part */
	uint8_t mac[2][6]; /* source MAC of a's, b's first packet of this part */
} wt_packed;
_Static_assert(sizeof(struct crec_cold) == 20, "cold part of a record");

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
	size_t recs_bytes, cold_bytes, index_bytes;
	struct wt_calltab_stats st;
};

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
