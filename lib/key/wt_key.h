/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_key.h: the direction-independent connection identifier and its hashes.
 *
 * The canonical key puts the endpoint that is greater by (address, port)
 * first, as the HP patent does, so both directions of a connection give the
 * same key, the same table hash and the same RSS hash.
 *
 * Two hashes, for two jobs:
 *  - wt_key_hash() / wt_pkt_hash(): a seeded 64-bit hash of the connection,
 *    used to index the call-record table; symmetric by construction, so a
 *    packet is hashed without building its canonical key. Seeded per run so
 *    that an attacker who crafts tuples cannot aim them at one bucket.
 *  - wt_key_rss_hash(): the Toeplitz hash a NIC computes with the symmetric
 *    key 0x6D5A repeated (wt_rss_key_symmetric), bit-identical to
 *    rte_softrss(). It decides which RX lcore owns a connection, in hardware
 *    (RSS) or in software, and both must agree.
 *
 * Why not one hash: a Toeplitz key with a 16-bit period is linear and has the
 * same 32-bit window every 16 input bits, so its output is a function of the
 * XOR of all 16-bit input words: at most 65536 distinct values, whatever the
 * tuple. Good enough to pick one of a few queues, far too few to index a
 * table of a million records (and trivially collided on purpose).
 */
#ifndef WT_KEY_H
#define WT_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wt_common.h"
#include "wt_parse.h"

struct wt_key {
	uint8_t addr_a[16]; /* greater endpoint's address (network order, IPv4 in 0..3) */
	uint8_t addr_b[16];
	uint16_t port_a; /* host order */
	uint16_t port_b;
	uint16_t vlan; /* outermost VLAN id when VLAN is part of the key, else 0 */
	uint8_t proto;
	uint8_t family; /* 4 or 6; 0 marks an unused table slot */
	uint64_t tctx;  /* tunnel context (wt_decap()), 0: not inside a tunnel */
};
_Static_assert(sizeof(struct wt_key) == 48, "wt_key is six 64-bit words");

/* Seed of wt_key_hash(); wt_key_seed_init() fills it from a 64-bit value. */
struct wt_key_seed {
	uint64_t s[7];
};

/* 40-byte symmetric RSS key: 0x6D, 0x5A repeated. */
extern const uint8_t wt_rss_key_symmetric[40];

/** Derive the hash seed from @seed (any value; 0 is fine). */
void wt_key_seed_init(struct wt_key_seed *ks, uint64_t seed);

/**
 * Build the canonical key of @p.
 * @param vlan_in_key  nonzero: the VLAN id is part of the key
 * @return the direction of the packet: 0 when its source is endpoint a,
 *         1 when its source is endpoint b.
 */
static wt_always_inline unsigned int
wt_key_from_pkt(struct wt_key *k, const struct wt_pkt *p, int vlan_in_key)
{
	unsigned int dir;

	if (p->family == 4) {
		uint32_t s = wt_be32(p->src), d = wt_be32(p->dst);
		dir = s < d || (s == d && p->sport < p->dport);
	} else {
		uint64_t sh = __builtin_bswap64(wt_load64(p->src));
		uint64_t dh = __builtin_bswap64(wt_load64(p->dst));
		uint64_t sl = __builtin_bswap64(wt_load64(p->src + 8));
		uint64_t dl = __builtin_bswap64(wt_load64(p->dst + 8));
		dir = sh < dh || (sh == dh && (sl < dl || (sl == dl && p->sport < p->dport)));
	}
	const uint8_t *a = dir ? p->dst : p->src;
	const uint8_t *b = dir ? p->src : p->dst;
	memcpy(k->addr_a, a, 16);
	memcpy(k->addr_b, b, 16);
	k->port_a = dir ? p->dport : p->sport;
	k->port_b = dir ? p->sport : p->dport;
	k->vlan = vlan_in_key ? p->vlan : 0;
	k->proto = p->proto;
	k->family = p->family;
	k->tctx = p->tctx;
	return dir;
}

static wt_always_inline uint64_t
wt_key_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The table hash is symmetric by construction, so a packet is hashed without
 * building its canonical key and the hash of the canonical key (a, b) equals
 * that of either direction.
 *  - IPv4: each endpoint (address, port) is one 48-bit number; the smaller
 *    and the larger (in any fixed order) go into two words, with protocol and family in the top
 *    16 bits of one and the VLAN id in the other: one 64x64->128-bit
 *    multiplication of the two words, each XORed with a seed word, folded.
 *  - IPv6: each endpoint is mixed on its own (one multiplication of its two
 *    address words plus the port times a seed word) and the two are added,
 *    then folded with protocol, family and VLAN by a last multiplication.
 * The tunnel context (itself a seeded hash of something symmetric) is
 * XORed into the first multiplication's operand.
 * Limits: not cryptographic; an attacker who does not know the seed cannot
 * aim tuples at one bucket.
 */
static wt_always_inline uint64_t
wt_endpoint_mix6(const uint8_t *addr, uint16_t port, const struct wt_key_seed *ks)
{
	return wt_key_mix(wt_load64(addr) ^ ks->s[2], wt_load64(addr + 8) ^ ks->s[3]) +
	       (uint64_t)port * ks->s[4];
}

/* Hash from the first 48 bytes of a wt_key or wt_pkt (same layout, asserted
 * below), the VLAN bits masked by @vmask (wt_key_vlan_mask()). */
static wt_always_inline uint64_t
wt_key_hash_words(const uint8_t *w, uint64_t vmask, const struct wt_key_seed *ks)
{
	uint64_t tail = wt_load64(w + 32) & vmask; /* port_a port_b vlan proto family */
	uint64_t tctx = wt_load64(w + 40);

	if (wt_likely((tail >> 56) == 4)) {
		/* Any fixed order of the two endpoints will do (not necessarily
		 * the numeric one): the address as loaded, then the port. */
		uint64_t x = (uint64_t)wt_load32(w) << 16 | (uint16_t)tail;
		uint64_t y = (uint64_t)wt_load32(w + 16) << 16 | (uint16_t)(tail >> 16);
		uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
		return wt_key_mix((lo | (tail >> 48) << 48) ^ ks->s[0] ^ tctx,
		                  (hi | (tail >> 32) << 48) ^ ks->s[1]);
	}
	uint64_t e = wt_endpoint_mix6(w, (uint16_t)tail, ks) +
	             wt_endpoint_mix6(w + 16, (uint16_t)(tail >> 16), ks);
	return wt_key_mix(e ^ ks->s[5] ^ tctx, (tail >> 32) ^ ks->s[6]);
}

/** Mask of the 64-bit key tail word: keeps or clears the VLAN id. */
static wt_always_inline uint64_t
wt_key_vlan_mask(int vlan_in_key)
{
	return vlan_in_key ? ~0ull : ~(0xffffull << 32);
}

/** Seeded 64-bit hash of a canonical key. */
static wt_always_inline uint64_t
wt_key_hash(const struct wt_key *k, const struct wt_key_seed *ks)
{
	return wt_key_hash_words((const uint8_t *)k, ~0ull, ks);
}

/**
 * The same hash straight from a parsed packet, equal to
 * wt_key_hash(wt_key_from_pkt(p)) for either direction of the connection.
 * @param vmask  wt_key_vlan_mask(vlan_in_key)
 */
static wt_always_inline uint64_t
wt_pkt_hash(const struct wt_pkt *p, uint64_t vmask, const struct wt_key_seed *ks)
{
	return wt_key_hash_words((const uint8_t *)p, vmask, ks);
}

/** Full key comparison: 1 when equal. */
static wt_always_inline int
wt_key_equal(const struct wt_key *x, const struct wt_key *y)
{
	const uint8_t *a = (const uint8_t *)x, *b = (const uint8_t *)y;
	uint64_t d =
	        (wt_load64(a) ^ wt_load64(b)) | (wt_load64(a + 8) ^ wt_load64(b + 8)) |
	        (wt_load64(a + 16) ^ wt_load64(b + 16)) | (wt_load64(a + 24) ^ wt_load64(b + 24)) |
	        (wt_load64(a + 32) ^ wt_load64(b + 32)) | (wt_load64(a + 40) ^ wt_load64(b + 40));
	return d == 0;
}

/* wt_pkt keeps sport, dport, vlan, proto and family at the offsets the key
 * keeps port_a, port_b, vlan, proto and family, so one 64-bit load of each
 * compares them all (little-endian: the forward direction is that word, the
 * reverse direction swaps its two low 16-bit halves); the tunnel context
 * follows in both. */
_Static_assert(offsetof(struct wt_pkt, src) == offsetof(struct wt_key, addr_a) &&
                       offsetof(struct wt_pkt, dst) == offsetof(struct wt_key, addr_b) &&
                       offsetof(struct wt_pkt, sport) == offsetof(struct wt_key, port_a) &&
                       offsetof(struct wt_pkt, dport) == offsetof(struct wt_key, port_b) &&
                       offsetof(struct wt_pkt, vlan) == offsetof(struct wt_key, vlan) &&
                       offsetof(struct wt_pkt, proto) == offsetof(struct wt_key, proto) &&
                       offsetof(struct wt_pkt, family) == offsetof(struct wt_key, family) &&
                       offsetof(struct wt_pkt, tctx) == offsetof(struct wt_key, tctx),
               "wt_pkt and wt_key share the layout of their first 48 bytes");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "wt_key_match() assumes a little-endian CPU"
#endif

/**
 * Does packet @p belong to the connection of canonical key @k?
 * @param vmask  wt_key_vlan_mask(vlan_in_key)
 * @return 0 when it does and was sent by a, 1 when sent by b, -1 when not.
 * (Identical endpoints match as "sent by a", as wt_key_from_pkt() says.)
 */
static wt_always_inline int
wt_key_match(const struct wt_key *k, const struct wt_pkt *p, uint64_t vmask)
{
	const uint8_t *kb = (const uint8_t *)k, *pb = (const uint8_t *)p;
	uint64_t kt = wt_load64(kb + 32);
	uint64_t pf = wt_load64(pb + 32) & vmask;
	/* the tunnel context differs: no match either way */
	uint64_t dt = wt_load64(kb + 40) ^ wt_load64(pb + 40);

	if (p->family == 4) {
		uint32_t ka = wt_load32(kb), kb4 = wt_load32(kb + 16);
		uint32_t s = wt_load32(pb), d = wt_load32(pb + 16);
		if (((uint64_t)((ka ^ s) | (kb4 ^ d)) | (kt ^ pf) | dt) == 0)
			return 0;
		uint64_t pr =
		        (pf & ~0xffffffffull) | (uint32_t)((uint32_t)pf << 16 | (uint32_t)pf >> 16);
		if (((uint64_t)((ka ^ d) | (kb4 ^ s)) | (kt ^ pr) | dt) == 0)
			return 1;
		return -1;
	}
	uint64_t a0 = wt_load64(kb), a1 = wt_load64(kb + 8);
	uint64_t b0 = wt_load64(kb + 16), b1 = wt_load64(kb + 24);
	uint64_t s0 = wt_load64(pb), s1 = wt_load64(pb + 8);
	uint64_t d0 = wt_load64(pb + 16), d1 = wt_load64(pb + 24);
	if (((a0 ^ s0) | (a1 ^ s1) | (b0 ^ d0) | (b1 ^ d1) | (kt ^ pf) | dt) == 0)
		return 0;
	uint64_t pr = (pf & ~0xffffffffull) | (uint32_t)((uint32_t)pf << 16 | (uint32_t)pf >> 16);
	if (((a0 ^ d0) | (a1 ^ d1) | (b0 ^ s0) | (b1 ^ s1) | (kt ^ pr) | dt) == 0)
		return 1;
	return -1;
}

/**
 * Symmetric Toeplitz hash of the key's addresses and ports with
 * wt_rss_key_symmetric, equal to what a NIC programmed with that key reports
 * (rte_softrss() over src, dst, sport, dport for TCP/UDP/SCTP, over src, dst
 * otherwise: the key holds port 0 for portless protocols, which folds to the
 * same value). The VLAN id is not hashed, as NICs do not.
 */
uint32_t wt_key_rss_hash(const struct wt_key *k);

/** The same hash computed from a parsed packet (no canonical key needed). */
uint32_t wt_pkt_rss_hash(const struct wt_pkt *p);

#endif /* WT_KEY_H */
