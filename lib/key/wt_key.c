/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_key.c: hash seeding and the symmetric Toeplitz (RSS) hash. */
#include "wt_key.h"

const uint8_t wt_rss_key_symmetric[40] = {
        0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
        0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
        0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
wt_key_seed_init(struct wt_key_seed *ks, uint64_t seed)
{
	for (unsigned int i = 0; i < WT_ARRAY_SIZE(ks->s); i++)
		ks->s[i] = splitmix64(&seed) | 1; /* odd: never a zero multiplier */
}

/*
 * How the symmetric Toeplitz hash is computed here.
 *
 * Toeplitz XORs, for every set input bit i (MSB first), the 32-bit window of
 * the key starting at bit i. With a key of period 16 bits the window at bit i
 * equals the window at bit (i mod 16), so the result is F(x), where x is the
 * XOR of all 16-bit big-endian input words and F XORs window(j) for each set
 * bit j of x. F is precomputed as two 256-entry tables (high and low byte).
 * Limits: exact only for inputs up to 36 bytes (the key is 40 bytes), which
 * covers IPv6 src + dst + ports.
 */
static uint32_t rss_hi[256], rss_lo[256];
static int rss_ready;

static uint32_t
rss_window(unsigned int j)
{
	/* Key bits as a stream: 0x6d5a repeated. 48 bits hold any window j < 16. */
	uint64_t stream = 0x6d5a6d5a6d5aull;
	return (uint32_t)(stream >> (16 - j));
}

static void
rss_init(void)
{
	for (unsigned int v = 0; v < 256; v++) {
		uint32_t hi = 0, lo = 0;
		for (unsigned int b = 0; b < 8; b++) {
			if (v & (0x80u >> b)) {
				hi ^= rss_window(b);
				lo ^= rss_window(8 + b);
			}
		}
		rss_hi[v] = hi;
		rss_lo[v] = lo;
	}
	__atomic_store_n(&rss_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t
rss_fold(const uint8_t *a, const uint8_t *b, unsigned int alen, uint16_t pa, uint16_t pb)
{
	uint16_t x = pa ^ pb;

	if (!__atomic_load_n(&rss_ready, __ATOMIC_ACQUIRE))
		rss_init(); /* idempotent */
	for (unsigned int i = 0; i < alen; i += 2)
		x ^= wt_be16(a + i) ^ wt_be16(b + i);
	return rss_hi[x >> 8] ^ rss_lo[x & 0xff];
}

uint32_t
wt_key_rss_hash(const struct wt_key *k)
{
	return rss_fold(k->addr_a, k->addr_b, k->family == 6 ? 16 : 4, k->port_a, k->port_b);
}

uint32_t
wt_pkt_rss_hash(const struct wt_pkt *p)
{
	return rss_fold(p->src, p->dst, p->family == 6 ? 16 : 4, p->sport, p->dport);
}
