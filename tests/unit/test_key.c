/* SPDX-License-Identifier: BSD-3-Clause */
/* test_key.c: canonical key symmetry, VLAN in key, RSS hash = rte_softrss(), hash spread.
 *
 * The RSS part needs DPDK's header-only rte_softrss() (no EAL); built
 * without DPDK (WT_TEST_HAVE_DPDK undefined) that part reports a skip and
 * the program exits 77 after the other parts pass.
 */
#include <stdbool.h>

#include "wt_key.h"
#include "wt_test.h"

#ifdef WT_TEST_HAVE_DPDK
#include <rte_thash.h>
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	/* splitmix64 with a fixed start: the same tuples on every run. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
rand_bytes(uint8_t *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)rng();
}

/* A random parsed packet. Addresses and ports are often equal or share a
 * prefix, so every branch of the comparison is taken. */
static struct wt_pkt
rand_pkt(int family)
{
	struct wt_pkt p;
	unsigned int alen = family == 4 ? 4 : 16;
	uint64_t r = rng();

	memset(&p, 0, sizeof(p));
	p.family = (uint8_t)family;
	rand_bytes(p.src, alen);
	switch (r % 8) {
	case 0: /* equal addresses */
		memcpy(p.dst, p.src, alen);
		break;
	case 1: /* all but the last byte equal */
		memcpy(p.dst, p.src, alen);
		p.dst[alen - 1] = (uint8_t)rng();
		break;
	case 2: /* same first half (the IPv6 compare's high word) */
		memcpy(p.dst, p.src, alen);
		rand_bytes(p.dst + alen / 2, alen / 2);
		break;
	default:
		rand_bytes(p.dst, alen);
		break;
	}
	p.proto = (r >> 8) & 1 ? 6 : 17;
	p.sport = (uint16_t)rng();
	p.dport = (r >> 9) % 4 == 0 ? p.sport : (uint16_t)rng();
	if ((r >> 12) % 16 == 0) { /* portless */
		p.proto = family == 4 ? 1 : 58;
		p.sport = p.dport = 0;
	}
	p.vlan = (uint16_t)(rng() & 0xfff);
	return p;
}

/* An IPv4 packet from fixed values (for known-answer vectors). */
static struct wt_pkt
pkt4(unsigned int proto, const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport)
{
	struct wt_pkt p;
	memset(&p, 0, sizeof(p));
	p.family = 4;
	p.proto = (uint8_t)proto;
	memcpy(p.src, src, 4);
	memcpy(p.dst, dst, 4);
	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct wt_pkt
reversed(const struct wt_pkt *p)
{
	struct wt_pkt r = *p;
	memcpy(r.src, p->dst, 16);
	memcpy(r.dst, p->src, 16);
	r.sport = p->dport;
	r.dport = p->sport;
	return r;
}

/* The slow, obvious comparison: <0, 0, >0 for src endpoint vs dst endpoint,
 * addresses as big-endian numbers, then ports. */
static int
endpoint_cmp(const struct wt_pkt *p)
{
	int c = memcmp(p->src, p->dst, p->family == 4 ? 4 : 16);
	if (c != 0)
		return c;
	return (int)p->sport - (int)p->dport;
}

static unsigned int shown;

static void
sym_fail(const char *what, uint64_t i)
{
	wt_test_failures++;
	if (shown++ < 10)
		fprintf(stderr, "tuple %" PRIu64 ": %s\n", i, what);
}

static void
test_symmetry(void)
{
	struct wt_key_seed ks;
	const uint64_t n = 1200000;
	uint64_t identical = 0;

	wt_key_seed_init(&ks, 12345);
	for (uint64_t i = 0; i < n; i++) {
		struct wt_pkt p = rand_pkt(i & 1 ? 6 : 4), q = reversed(&p);
		struct wt_key k1, k2;
		unsigned int d1 = wt_key_from_pkt(&k1, &p, 1);
		unsigned int d2 = wt_key_from_pkt(&k2, &q, 1);
		int c = endpoint_cmp(&p);

		wt_test_checks += 6;
		if (memcmp(&k1, &k2, sizeof(k1)) != 0)
			sym_fail("keys of the two directions differ", i);
		if (wt_key_hash(&k1, &ks) != wt_key_hash(&k2, &ks))
			sym_fail("hashes of the two directions differ", i);
		if (c == 0) {
			identical++;
			if (d1 != 0 || d2 != 0)
				sym_fail("identical endpoints: dir not 0", i);
		} else if (d1 + d2 != 1) {
			sym_fail("dir values not opposite", i);
		}
		/* a is the greater endpoint; dir 0 when the source is a. */
		if (d1 != (c < 0))
			sym_fail("dir disagrees with the slow comparison", i);
		const struct wt_pkt *g = c >= 0 ? &p : &q; /* g's source is the greater */
		if (memcmp(k1.addr_a, g->src, 16) != 0 || memcmp(k1.addr_b, g->dst, 16) != 0 ||
		    k1.port_a != g->sport || k1.port_b != g->dport)
			sym_fail("a is not the greater endpoint", i);
		if (k1.proto != p.proto || k1.family != p.family || k1.vlan != p.vlan)
			sym_fail("proto/family/vlan not copied", i);
	}
	printf("  %" PRIu64 " tuples, %" PRIu64 " with identical endpoints\n", n, identical);
	CHECK(identical > 1000);
}

/* The packet-side hash and match the table uses on the hit path agree with
 * the canonical key: same hash both ways, match says which side sent it,
 * and a packet of a different connection never matches. */
static void
test_pkt_hash_and_match(void)
{
	struct wt_key_seed ks;
	wt_key_seed_init(&ks, 12345);
	for (uint64_t i = 0; i < 400000; i++) {
		struct wt_pkt p = rand_pkt(i & 1 ? 4 : 6);
		struct wt_pkt r = reversed(&p);
		for (int vk = 0; vk < 2; vk++) {
			uint64_t vm = wt_key_vlan_mask(vk);
			struct wt_key k;
			unsigned int dir = wt_key_from_pkt(&k, &p, vk);
			uint64_t hk = wt_key_hash(&k, &ks);
			if (wt_pkt_hash(&p, vm, &ks) != hk || wt_pkt_hash(&r, vm, &ks) != hk)
				sym_fail("wt_pkt_hash differs from wt_key_hash", i);
			int mp = wt_key_match(&k, &p, vm), mr = wt_key_match(&k, &r, vm);
			if (mp != (int)dir)
				sym_fail(
				        "wt_key_match gives another direction than wt_key_from_pkt",
				        i);
			if (endpoint_cmp(&p) != 0 && mr != (int)!dir)
				sym_fail("wt_key_match of the reverse packet is not the other side",
				         i);
			if (endpoint_cmp(&p) == 0 && mr != 0)
				sym_fail("identical endpoints must match as sent by a", i);
			/* one field changed: never the same connection */
			struct wt_pkt q = p;
			switch (i % 5) {
			case 0:
				q.src[q.family == 4 ? 3 : 15] ^= 1;
				break;
			case 1:
				q.sport ^= 0x100;
				break;
			case 2:
				q.proto = q.proto == 6 ? 17 : 6;
				break;
			case 3:
				q.family = q.family == 4 ? 6 : 4;
				break;
			default:
				q.vlan ^= 1;
				break;
			}
			int expect_match = (i % 5 == 4) && !vk; /* VLAN ignored when not keyed */
			int mq = wt_key_match(&k, &q, vm);
			wt_test_checks++;
			if ((mq >= 0) != expect_match && (q.sport != q.dport || i % 5 != 1))
				sym_fail("a packet of another connection matched", i);
		}
	}
}

static void
test_vlan_in_key(void)
{
	struct wt_key_seed ks;
	struct wt_pkt p = rand_pkt(4), q = p;
	struct wt_key a, b;

	wt_key_seed_init(&ks, 1);
	p.vlan = 100;
	q.vlan = 200;
	wt_key_from_pkt(&a, &p, 1);
	wt_key_from_pkt(&b, &q, 1);
	CHECK_EQ_U64(a.vlan, 100);
	CHECK_EQ_U64(b.vlan, 200);
	CHECK(!wt_key_equal(&a, &b));
	CHECK(wt_key_hash(&a, &ks) != wt_key_hash(&b, &ks));

	wt_key_from_pkt(&a, &p, 0);
	wt_key_from_pkt(&b, &q, 0);
	CHECK_EQ_U64(a.vlan, 0);
	CHECK(wt_key_equal(&a, &b));
	CHECK_EQ_U64(wt_key_hash(&a, &ks), wt_key_hash(&b, &ks));
	/* The RSS hash never sees the VLAN. */
	CHECK_EQ_U64(wt_pkt_rss_hash(&p), wt_pkt_rss_hash(&q));
}

#ifdef WT_TEST_HAVE_DPDK
/* rte_softrss() over the tuple in the order a NIC feeds Toeplitz: addresses
 * as host-order 32-bit words, then sport << 16 | dport (4-tuple only). */
static uint32_t
softrss(const struct wt_pkt *p, bool ports, const uint32_t *key)
{
	uint32_t t[9];
	unsigned int n = 0, words = p->family == 4 ? 1 : 4;

	for (unsigned int i = 0; i < words; i++)
		t[n++] = wt_be32(p->src + 4 * i);
	for (unsigned int i = 0; i < words; i++)
		t[n++] = wt_be32(p->dst + 4 * i);
	if (ports)
		t[n++] = (uint32_t)p->sport << 16 | p->dport;
	return rte_softrss(t, n, (const uint8_t *)key);
}
#endif

static void
test_rss_equals_softrss(void)
{
#ifdef WT_TEST_HAVE_DPDK
	/* rte_softrss() reads the key as 32-bit words: give it an aligned copy. */
	uint32_t key[10];
	unsigned long mismatches = 0, n = 200000;

	memcpy(key, wt_rss_key_symmetric, sizeof(key));
	for (unsigned long i = 0; i < n; i++) {
		struct wt_pkt p = rand_pkt(i & 1 ? 6 : 4), q = reversed(&p);
		bool ports = p.proto == 6 || p.proto == 17;
		struct wt_key k;
		uint32_t want = softrss(&p, ports, key);

		wt_key_from_pkt(&k, &p, 0);
		wt_test_checks += 4;
		if (wt_pkt_rss_hash(&p) != want || wt_pkt_rss_hash(&q) != want ||
		    wt_key_rss_hash(&k) != want || softrss(&q, ports, key) != want) {
			wt_test_failures++;
			if (mismatches++ < 5)
				fprintf(stderr,
				        "tuple %lu (family %u proto %u): rss %08x, softrss %08x\n",
				        i, p.family, p.proto, wt_pkt_rss_hash(&p), want);
		}
	}
	/* A fixed vector, so a change in both implementations would still show. */
	struct wt_pkt p = pkt4(6, (const uint8_t[]){66, 9, 149, 187},
	                       (const uint8_t[]){161, 142, 100, 80}, 2794, 1766);
	CHECK_EQ_U64(softrss(&p, true, key), 0x9fcc9fccu);
	CHECK_EQ_U64(wt_pkt_rss_hash(&p), 0x9fcc9fccu);
	/* (16-bit-periodic key: the two halves of the hash are always equal) */
	printf("  %lu tuples (both directions) match rte_softrss()\n", n);
#else
	printf("  skipped: built without DPDK headers\n");
#endif
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t
sort_unique(uint32_t *v, size_t n)
{
	size_t u = 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || v[u - 1] != v[i])
			v[u++] = v[i];
	return u;
}

static void
test_hash_distribution(void)
{
	struct wt_key_seed ks;
	const uint32_t nb = 1u << 20, n = 1u << 20;
	uint8_t *load = calloc(nb, 1);
	uint32_t *rss = malloc(n * sizeof(*rss));
	unsigned int max = 0;
	uint32_t empty = 0;

	CHECK(load != NULL && rss != NULL);
	if (load == NULL || rss == NULL)
		goto out;
	wt_key_seed_init(&ks, 99);
	for (uint32_t i = 0; i < n; i++) {
		struct wt_pkt p;
		struct wt_key k;
		memset(&p, 0, sizeof(p));
		p.family = 4;
		p.proto = 6;
		rand_bytes(p.src, 4);
		rand_bytes(p.dst, 4);
		p.sport = (uint16_t)rng();
		p.dport = (uint16_t)rng();
		wt_key_from_pkt(&k, &p, 0);
		uint8_t *l = &load[wt_key_hash(&k, &ks) & (nb - 1)];
		if (*l < 255)
			(*l)++;
		rss[i] = wt_pkt_rss_hash(&p);
	}
	for (uint32_t b = 0; b < nb; b++) {
		max = WT_MAX(max, load[b]);
		empty += load[b] == 0;
	}
	/* 2^20 keys in 2^20 buckets: ~e^-1 empty, max load ~9 for a random hash. */
	printf("  wt_key_hash: 2^20 tuples, 2^20 buckets: max load %u, empty %u (ideal %.0f)\n",
	       max, empty, nb * 0.36788);
	CHECK(max <= 12);
	CHECK(empty > 383000 && empty < 388500);

	/* Toeplitz with the 16-bit-periodic key: at most 65536 distinct values. */
	size_t distinct = sort_unique(rss, n);
	printf("  wt_pkt_rss_hash: %zu distinct values over 2^20 random tuples\n", distinct);
	CHECK(distinct <= 65536);

	/* Tuples whose 16-bit words XOR to the same value collide in RSS, and
	 * not in the table hash: a.b.c.d -> c.d.a.b swaps the two words. */
	struct wt_key kx, ky;
	struct wt_pkt x = pkt4(17, (const uint8_t[]){10, 1, 2, 3},
	                       (const uint8_t[]){192, 168, 7, 9}, 1000, 53);
	struct wt_pkt y = pkt4(17, (const uint8_t[]){2, 3, 10, 1},
	                       (const uint8_t[]){192, 168, 7, 9}, 53, 1000);
	CHECK_EQ_U64(wt_pkt_rss_hash(&x), wt_pkt_rss_hash(&y));
	wt_key_from_pkt(&kx, &x, 0);
	wt_key_from_pkt(&ky, &y, 0);
	CHECK(!wt_key_equal(&kx, &ky));
	CHECK(wt_key_hash(&kx, &ks) != wt_key_hash(&ky, &ks));
out:
	free(load);
	free(rss);
}

/* Different seeds give different table hashes for the same key. */
static void
test_seed(void)
{
	struct wt_key_seed a, b;
	struct wt_pkt p = rand_pkt(6);
	struct wt_key k;

	wt_key_seed_init(&a, 1);
	wt_key_seed_init(&b, 2);
	wt_key_from_pkt(&k, &p, 0);
	CHECK(wt_key_hash(&k, &a) != wt_key_hash(&k, &b));
	for (unsigned int i = 0; i < WT_ARRAY_SIZE(a.s); i++)
		CHECK(a.s[i] & 1);
}

#ifdef WT_TEST_HAVE_DPDK
#define SKIPPED 0
#else
#define SKIPPED 1
#endif

int
main(void)
{
	static const struct wt_test_case cases[] = {
	        WT_TEST(test_symmetry),           WT_TEST(test_vlan_in_key),
	        WT_TEST(test_pkt_hash_and_match), WT_TEST(test_rss_equals_softrss),
	        WT_TEST(test_hash_distribution),  WT_TEST(test_seed),
	};
	for (size_t i = 0; i < WT_ARRAY_SIZE(cases); i++) {
		int before = wt_test_failures;
		cases[i].fn();
		printf("%s %s\n", wt_test_failures == before ? "ok  " : "FAIL", cases[i].name);
	}
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	if (wt_test_failures)
		return 1;
	return SKIPPED ? 77 : 0;
}
