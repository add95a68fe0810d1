/* SPDX-License-Identifier: BSD-3-Clause */
/* test_decap.c: connections inside tunnels: wt_decap() on every tunnel type,
 * nested, fragmented, cut and malformed; the tunnel context in the key and
 * the records (calltab).
 *
 * Frames are built byte by byte (frames.h) and placed against a PROT_NONE
 * page, so a read past the captured bytes crashes the test. Expected values
 * come from how each frame was built (offsets, lengths, ids), never from
 * the code under test.
 */
#include <stdbool.h>

#include "frames.h"
#include "wt_calltab.h"
#include "wt_parse.h"
#include "wt_test.h"

static struct guard G;
static struct wt_frag_table *FT;
static const uint64_t SEED = 0x1234567;

static const uint8_t MAC_I1[6] = {0x02, 0xaa, 0, 0, 0, 1};
static const uint8_t MAC_I2[6] = {0x02, 0xaa, 0, 0, 0, 2};
static const uint8_t O1[4] = {10, 1, 0, 1}, O2[4] = {10, 1, 0, 2}, O3[4] = {10, 1, 0, 3};
static const uint8_t C4[4] = {192, 168, 0, 1}, S4[4] = {192, 168, 0, 2};
static const uint8_t UE[4] = {172, 16, 0, 5}, NET[4] = {8, 8, 8, 8};
static const uint8_t C6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11};
static const uint8_t S6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};

/* ---- building ------------------------------------------------------------ */

/* Length fields set at the end: every header built here runs to the frame's
 * end, so the order does not matter. */
enum { FIX_IP4, FIX_IP6, FIX_UDP };
static struct {
	unsigned int n;
	uint8_t kind[16];
	uint32_t at[16];
} fixes;

static void
fix_later(unsigned int kind, uint32_t at)
{
	fixes.kind[fixes.n] = (uint8_t)kind;
	fixes.at[fixes.n++] = at;
}

static void
fix_all(struct fb *f)
{
	for (unsigned int i = 0; i < fixes.n; i++) {
		if (fixes.kind[i] == FIX_IP4)
			ip4_fix(f, fixes.at[i]);
		else if (fixes.kind[i] == FIX_IP6)
			ip6_fix(f, fixes.at[i]);
		else
			udp_fix(f, fixes.at[i]);
	}
	fixes.n = 0;
}

static void
start(struct fb *f)
{
	fixes.n = 0;
	eth(f, 0x0800);
}

static void
start6(struct fb *f)
{
	fixes.n = 0;
	eth(f, 0x86dd);
}

/* An inner Ethernet header (not the frame's first). */
static void
in_eth(struct fb *f, unsigned int et)
{
	putn(f, MAC_I2, 6);
	putn(f, MAC_I1, 6);
	put16(f, et);
}

/* An IP header with these addresses (@v6: IPv6), its length set at the end. */
static uint32_t
hdr_ip(struct fb *f, int v6, unsigned int proto, const uint8_t *s, const uint8_t *d)
{
	uint32_t at = v6 ? ip6(f, proto) : ip4(f, proto), alen = v6 ? 16 : 4;
	uint32_t off = at + (v6 ? 8 : 12);

	memcpy(f->b + off, s, alen);
	memcpy(f->b + off + alen, d, alen);
	fix_later(v6 ? FIX_IP6 : FIX_IP4, at);
	return at;
}

static uint32_t
hdr4(struct fb *f, unsigned int proto, const uint8_t s[4], const uint8_t d[4])
{
	return hdr_ip(f, 0, proto, s, d);
}

static uint32_t
hdr6(struct fb *f, unsigned int nh, const uint8_t s[16], const uint8_t d[16])
{
	return hdr_ip(f, 1, nh, s, d);
}

static void
hdr_udp(struct fb *f, unsigned int sport, unsigned int dport)
{
	fix_later(FIX_UDP, udp(f, sport, dport));
}

/* An IPv4 TCP segment (PSH ACK, seq 1000) with @pay payload bytes. */
static void
tcp4(struct fb *f, const uint8_t s[4], const uint8_t d[4], unsigned int sport, unsigned int dport,
     unsigned int pay)
{
	hdr4(f, 6, s, d);
	tcp(f, sport, dport, 1000, 0x18, 5);
	pad(f, pay, 0xa5);
}

static void
udp6(struct fb *f, const uint8_t s[16], const uint8_t d[16], unsigned int sport, unsigned int dport,
     unsigned int pay)
{
	hdr6(f, 17, s, d);
	hdr_udp(f, sport, dport);
	pad(f, pay, 0x5a);
}

static void
vxlan(struct fb *f, int i_flag, uint32_t vni)
{
	put8(f, i_flag ? 0x08 : 0);
	put8(f, 0);
	put16(f, 0);
	put32(f, vni << 8);
}

static void
geneve(struct fb *f, unsigned int proto, uint32_t vni, unsigned int opt_words)
{
	put8(f, opt_words);
	put8(f, 0);
	put16(f, proto);
	put32(f, vni << 8);
	pad(f, opt_words * 4, 0x03);
}

/* GTPv1-U G-PDU header (no optional fields). */
static void
gtpu(struct fb *f, uint32_t teid, unsigned int type)
{
	put8(f, 0x30);
	put8(f, type);
	put16(f, 0); /* length: not checked by the parser */
	put32(f, teid);
}

/* VXLAN frame: outer @os -> @od (UDP @sport -> 4789), VNI, inner TCP
 * @is:@ip -> @id:@dp with @pay bytes. */
static void
vxlan_tcp(struct fb *f, const uint8_t os[4], const uint8_t od[4], unsigned int sport, uint32_t vni,
          const uint8_t is[4], unsigned int ip, const uint8_t id[4], unsigned int dp,
          unsigned int pay)
{
	start(f);
	hdr4(f, 17, os, od);
	hdr_udp(f, sport, 4789);
	vxlan(f, 1, vni);
	in_eth(f, 0x0800);
	tcp4(f, is, id, ip, dp, pay);
	fix_all(f);
}

static void
gtpu_tcp(struct fb *f, const uint8_t os[4], const uint8_t od[4], uint32_t teid, const uint8_t is[4],
         unsigned int ip, const uint8_t id[4], unsigned int dp, unsigned int pay)
{
	start(f);
	hdr4(f, 17, os, od);
	hdr_udp(f, 2152, 2152);
	gtpu(f, teid, 0xff);
	tcp4(f, is, id, ip, dp, pay);
	fix_all(f);
}

/* Geneve (VNI 7, two option words) -> Ethernet -> IPv4 -> VXLAN (VNI 9)
 * -> Ethernet -> IPv6 UDP (DNS, 30 bytes). */
static void
geneve_vxlan_dns(struct fb *f)
{
	start(f);
	hdr4(f, 17, O1, O2);
	hdr_udp(f, 50000, 6081);
	geneve(f, 0x6558, 7, 2);
	in_eth(f, 0x0800);
	hdr4(f, 17, C4, S4);
	hdr_udp(f, 51000, 4789);
	vxlan(f, 1, 9);
	in_eth(f, 0x86dd);
	udp6(f, C6, S6, 53000, 53, 30);
	fix_all(f);
}

/* GRE with checksum and key 0xdeadbeef, IPv4 TCP inside (@pay bytes). */
static void
gre_csum_key_tcp(struct fb *f, unsigned int pay)
{
	start(f);
	hdr4(f, 47, O1, O2);
	put16(f, 0xa000);
	put16(f, 0x0800);
	put32(f, 0x12340000);
	put32(f, 0xdeadbeef);
	tcp4(f, C4, S4, 1, 2, pay);
	fix_all(f);
}

/* IPv6 UDP (13 bytes) in IPv4 (protocol 41); @outer_proto 4: malformed. */
static void
ip6in4(struct fb *f, unsigned int outer_proto)
{
	start(f);
	hdr4(f, outer_proto, O1, O2);
	udp6(f, C6, S6, 1, 2, 13);
	fix_all(f);
}

/* Teredo to the server port: an IPv6 TCP SYN. */
static void
teredo_syn(struct fb *f)
{
	start(f);
	hdr4(f, 17, O1, O2);
	hdr_udp(f, 40000, 3544);
	hdr6(f, 6, C6, S6);
	tcp(f, 50000, 80, 1, 0x02, 5);
	fix_all(f);
}

/* @levels IPv4-in-IPv4 headers around a TCP segment of 3 bytes. */
static void
ipip_nested(struct fb *f, unsigned int levels)
{
	start(f);
	for (unsigned int i = 0; i < levels; i++)
		hdr4(f, 4, O1, O2);
	tcp4(f, C4, S4, 1, 2, 3);
	fix_all(f);
}

/* ---- running ------------------------------------------------------------- */

/* Parse the first @caplen bytes and decapsulate: the parse result, *k the
 * result of wt_decap() (-1: not called). */
static enum wt_drop
run(const struct fb *f, uint32_t caplen, struct wt_pkt *p, int *k)
{
	const uint8_t *b = guard_place(&G, f->b, caplen);
	enum wt_drop r = wt_parse(b, caplen, WT_WIRELEN_UNKNOWN, p);

	*k = -1;
	if (r == WT_DROP_NONE && p->tunnel != WT_TUNNEL_NONE)
		*k = wt_decap(b, caplen, WT_WIRELEN_UNKNOWN, p, SEED);
	return r;
}

/* Decapsulated without a problem: the inner packet. */
static struct wt_pkt
inner(const char *name, const struct fb *f)
{
	struct wt_pkt p;
	int k;
	enum wt_drop r = run(f, f->n, &p, &k);
	if (r != WT_DROP_NONE || k != 1) {
		wt_test_failures++;
		fprintf(stderr, "%s: parse %s, decap %d\n", name, wt_drop_name(r), k);
	}
	wt_test_checks++;
	return p;
}

/* Kept at the outer level with @note. */
static void
expect_kept(const char *name, const struct fb *f, uint32_t caplen, uint16_t note,
            unsigned int outer_proto)
{
	struct wt_pkt p;
	int k;
	enum wt_drop r = run(f, caplen, &p, &k);
	wt_test_checks++;
	if (r != WT_DROP_NONE || k != 0 || (p.notes & note) != note || p.tctx != 0 ||
	    p.proto != outer_proto || !(p.notes & WT_NOTE(TUNNEL_OUTER)) ||
	    (p.notes & WT_NOTE(TUNNEL_INNER))) {
		wt_test_failures++;
		fprintf(stderr, "%s: parse %s, decap %d, notes 0x%x (want 0x%x), proto %u\n", name,
		        wt_drop_name(r), k, p.notes, note, p.proto);
	}
}

static bool
addr4_is(const uint8_t *a, const uint8_t v[4])
{
	static const uint8_t zero[12];
	return memcmp(a, v, 4) == 0 && memcmp(a + 4, zero, 12) == 0;
}

/* ---- every tunnel type ----------------------------------------------------- */

static void
test_vxlan(void)
{
	struct fb f;

	vxlan_tcp(&f, O1, O2, 50000, 0x123456, C4, 40000, S4, 80, 100);
	struct wt_pkt p = inner("vxlan", &f);
	CHECK(addr4_is(p.src, C4) && addr4_is(p.dst, S4));
	CHECK_EQ_U64(p.sport, 40000);
	CHECK_EQ_U64(p.dport, 80);
	CHECK_EQ_U64(p.proto, 6);
	CHECK_EQ_U64(p.family, 4);
	CHECK_EQ_U64(p.payload_len, 100);
	CHECK_EQ_U64(p.ip_len, 140);
	CHECK_EQ_U64(p.l3_off, 14 + 20 + 8 + 8 + 14);
	CHECK_EQ_U64(p.l4_off, 14 + 20 + 8 + 8 + 14 + 20);
	CHECK_EQ_U64(p.seq, 1000);
	CHECK_EQ_U64(p.tcp_flags, 0x18);
	CHECK_EQ_U64(p.has_seq, 1);
	CHECK_EQ_U64(p.tunnel, WT_TUNNEL_NONE);
	CHECK_EQ_U64(p.inner_off, 0);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER));
	CHECK(memcmp(p.src_mac, MAC_I1, 6) == 0 && memcmp(p.dst_mac, MAC_I2, 6) == 0);
	CHECK(p.tctx != 0);
	CHECK_EQ_U64(p.tun.depth, 1);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_VXLAN);
	CHECK_EQ_U64(p.tun.idmask, 1);
	CHECK_EQ_U64(p.tun.id[0], 0x123456);
	CHECK_EQ_U64(p.tun.outer_family, 4);
	CHECK(addr4_is(p.tun.outer[0], O1) && addr4_is(p.tun.outer[1], O2));
	CHECK_EQ_U64(p.tun.src_hi, 0);

	/* The reply: another UDP source port, the outer pair reversed: the
	 * same context, sent from the other outer address. */
	vxlan_tcp(&f, O2, O1, 61000, 0x123456, S4, 80, C4, 40000, 0);
	struct wt_pkt q = inner("vxlan reply", &f);
	CHECK_EQ_U64(q.tctx, p.tctx);
	CHECK_EQ_U64(q.tun.src_hi, 1);
	CHECK(addr4_is(q.tun.outer[0], O1) && addr4_is(q.tun.outer[1], O2));

	/* Another tenant (VNI), another tunnel (outer pair), no VNI: other contexts. */
	vxlan_tcp(&f, O1, O2, 50000, 0x123457, C4, 40000, S4, 80, 100);
	CHECK(inner("vxlan other vni", &f).tctx != p.tctx);
	vxlan_tcp(&f, O1, O3, 50000, 0x123456, C4, 40000, S4, 80, 100);
	CHECK(inner("vxlan other outer", &f).tctx != p.tctx);
	vxlan_tcp(&f, O1, O2, 50000, 0x123456, C4, 40000, S4, 80, 100);
	f.b[14 + 20 + 8] = 0; /* I flag clear: the VNI is not valid */
	struct wt_pkt n = inner("vxlan without I flag", &f);
	CHECK(n.tctx != p.tctx);
	CHECK_EQ_U64(n.tun.idmask, 0);
	CHECK_EQ_U64(n.tun.id[0], 0);

	/* The seed changes every context hash. */
	vxlan_tcp(&f, O1, O2, 50000, 0x123456, C4, 40000, S4, 80, 100);
	struct wt_pkt s;
	CHECK_EQ_U64(wt_parse(f.b, f.n, f.n, &s), WT_DROP_NONE);
	CHECK_EQ_U64(wt_decap(f.b, f.n, f.n, &s, SEED + 1), 1);
	CHECK(s.tctx != p.tctx && s.tctx != 0);

	/* VXLAN over IPv6, with a VLAN tag outside: the frame's VLAN is kept. */
	fixes.n = 0;
	eth(&f, 0x8100);
	tag(&f, 42, 0x86dd);
	hdr6(&f, 17, C6, S6);
	hdr_udp(&f, 50000, 4789);
	vxlan(&f, 1, 77);
	in_eth(&f, 0x0800);
	tcp4(&f, C4, S4, 40000, 80, 10);
	fix_all(&f);
	struct wt_pkt v = inner("vxlan over ipv6", &f);
	CHECK_EQ_U64(v.vlan, 42);
	CHECK_EQ_U64(v.tun.outer_family, 6);
	CHECK(memcmp(v.tun.outer[0], C6, 16) == 0 && memcmp(v.tun.outer[1], S6, 16) == 0);
	CHECK_EQ_U64(v.payload_len, 10);
	CHECK_EQ_U64(v.l3_off, 18 + 40 + 8 + 8 + 14);
}

static void
test_geneve_nested(void)
{
	struct fb f;

	geneve_vxlan_dns(&f);
	struct wt_pkt p = inner("geneve/vxlan", &f);
	CHECK_EQ_U64(p.tun.depth, 2);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_GENEVE);
	CHECK_EQ_U64(p.tun.type[1], WT_TUNNEL_VXLAN);
	CHECK_EQ_U64(p.tun.idmask, 3);
	CHECK_EQ_U64(p.tun.id[0], 7);
	CHECK_EQ_U64(p.tun.id[1], 9);
	CHECK(addr4_is(p.tun.outer[0], O1) && addr4_is(p.tun.outer[1], O2));
	CHECK_EQ_U64(p.family, 6);
	CHECK(memcmp(p.src, C6, 16) == 0 && memcmp(p.dst, S6, 16) == 0);
	CHECK_EQ_U64(p.proto, 17);
	CHECK_EQ_U64(p.sport, 53000);
	CHECK_EQ_U64(p.dport, 53);
	CHECK_EQ_U64(p.payload_len, 30);
	CHECK_EQ_U64(p.ip_len, 40 + 8 + 30);
	CHECK_EQ_U64(p.l3_off, 14 + 20 + 8 + 16 + 14 + 20 + 8 + 8 + 14);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER));

	/* Geneve carrying IPv4 directly (protocol type 0x0800): frame MACs. */
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 50000, 6081);
	geneve(&f, 0x0800, 5, 0);
	tcp4(&f, C4, S4, 1, 2, 3);
	fix_all(&f);
	p = inner("geneve ipv4", &f);
	CHECK_EQ_U64(p.payload_len, 3);
	CHECK(memcmp(p.src_mac, MAC_S, 6) == 0);
	CHECK_EQ_U64(p.tun.id[0], 5);
	/* ... protocol type 0x86dd with an IPv4 packet inside: malformed. */
	set16(&f, 14 + 20 + 8 + 2, 0x86dd);
	expect_kept("geneve ipv6 type, ipv4 inside", &f, f.n, WT_NOTE(TUNNEL_INNER_BAD), 17);
	/* ... an unknown protocol type: carries no IP packet. */
	set16(&f, 14 + 20 + 8 + 2, 0x88cc);
	expect_kept("geneve unknown type", &f, f.n, WT_NOTE(TUNNEL_INNER_NOT_IP), 17);
}

static void
test_gre(void)
{
	struct fb f;

	/* Key only. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0x2000);
	put16(&f, 0x0800);
	put32(&f, 0xdeadbeef);
	hdr4(&f, 1, C4, S4);
	pad(&f, 64, 0x08);
	fix_all(&f);
	struct wt_pkt p = inner("gre key", &f);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_GRE);
	CHECK_EQ_U64(p.tun.idmask, 1);
	CHECK_EQ_U64(p.tun.id[0], 0xdeadbeef);
	CHECK_EQ_U64(p.proto, 1);
	CHECK_EQ_U64(p.payload_len, 64);
	CHECK_EQ_U64(p.ip_len, 84);
	CHECK(memcmp(p.src_mac, MAC_S, 6) == 0 && memcmp(p.dst_mac, MAC_D, 6) == 0);
	uint64_t keyed = p.tctx;

	/* Checksum and key: the key follows the checksum word. */
	gre_csum_key_tcp(&f, 30);
	p = inner("gre csum key", &f);
	CHECK_EQ_U64(p.tun.id[0], 0xdeadbeef);
	CHECK_EQ_U64(p.tctx, keyed);
	CHECK_EQ_U64(p.payload_len, 30);

	/* No key: no id, another context. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0);
	put16(&f, 0x86dd);
	udp6(&f, C6, S6, 5000, 6000, 12);
	fix_all(&f);
	p = inner("gre ipv6", &f);
	CHECK_EQ_U64(p.tun.idmask, 0);
	CHECK(p.tctx != keyed);
	CHECK_EQ_U64(p.family, 6);
	CHECK_EQ_U64(p.payload_len, 12);

	/* Transparent Ethernet bridging. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0x2000);
	put16(&f, 0x6558);
	put32(&f, 3);
	in_eth(&f, 0x0800);
	tcp4(&f, C4, S4, 1000, 2000, 7);
	fix_all(&f);
	p = inner("gre ethernet", &f);
	CHECK(memcmp(p.src_mac, MAC_I1, 6) == 0);
	CHECK_EQ_U64(p.payload_len, 7);
	CHECK_EQ_U64(p.tun.id[0], 3);

	/* MPLS over GRE. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0);
	put16(&f, 0x8847);
	mpls(&f, 100, 1);
	tcp4(&f, C4, S4, 1000, 2000, 9);
	fix_all(&f);
	p = inner("gre mpls", &f);
	CHECK_EQ_U64(p.payload_len, 9);
	CHECK_EQ_U64(p.l3_off, 14 + 20 + 4 + 4);

	/* Enhanced GRE (PPTP): key = payload length + call id; PPP inside. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0x3001);
	put16(&f, 0x880b);
	put16(&f, 0);
	put16(&f, 0x4242);
	put32(&f, 1);
	put16(&f, 0xff03);
	put16(&f, 0x0021);
	tcp4(&f, C4, S4, 1723, 2000, 5);
	fix_all(&f);
	p = inner("gre v1 ppp", &f);
	CHECK_EQ_U64(p.tun.id[0], 0x4242);
	CHECK_EQ_U64(p.payload_len, 5);
	CHECK_EQ_U64(p.l3_off, 14 + 20 + 12 + 4);

	/* ERSPAN (an unknown protocol type): kept, carries no IP packet. */
	start(&f);
	hdr4(&f, 47, O1, O2);
	put16(&f, 0x1000);
	put16(&f, 0x88be);
	put32(&f, 1);
	pad(&f, 60, 0x11);
	fix_all(&f);
	expect_kept("gre erspan", &f, f.n, WT_NOTE(TUNNEL_INNER_NOT_IP), 47);
}

static void
test_gtpu(void)
{
	struct fb f;

	gtpu_tcp(&f, O1, O2, 0x11111111, UE, 33000, NET, 443, 200);
	struct wt_pkt up = inner("gtp-u uplink", &f);
	CHECK(addr4_is(up.src, UE) && addr4_is(up.dst, NET));
	CHECK_EQ_U64(up.payload_len, 200);
	CHECK_EQ_U64(up.l3_off, 14 + 20 + 8 + 8);
	CHECK_EQ_U64(up.tun.type[0], WT_TUNNEL_GTPU);
	CHECK_EQ_U64(up.tun.idmask, 1);
	CHECK_EQ_U64(up.tun.id[0], 0x11111111);
	CHECK(memcmp(up.src_mac, MAC_S, 6) == 0);
	gtpu_tcp(&f, O2, O1, 0x22222222, NET, 443, UE, 33000, 0);
	struct wt_pkt down = inner("gtp-u downlink", &f);
	CHECK_EQ_U64(down.tun.id[0], 0x22222222);
	CHECK_EQ_U64(down.tctx, up.tctx); /* the TEIDs are not in the context */
	CHECK_EQ_U64(down.tun.src_hi, 1);

	/* Extension header (PDU session container) before the inner packet. */
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 2152, 2152);
	put8(&f, 0x34); /* E */
	put8(&f, 0xff);
	put16(&f, 0);
	put32(&f, 0x11111111);
	put16(&f, 0); /* sequence */
	put8(&f, 0);  /* N-PDU */
	put8(&f, 0x85);
	put8(&f, 1); /* 4 bytes, next type 0 */
	put8(&f, 0x10);
	put8(&f, 0x05);
	put8(&f, 0);
	tcp4(&f, UE, NET, 33000, 443, 20);
	fix_all(&f);
	struct wt_pkt e = inner("gtp-u extension", &f);
	CHECK_EQ_U64(e.l3_off, 14 + 20 + 8 + 16);
	CHECK_EQ_U64(e.tctx, up.tctx);

	/* Echo request: no inner packet. A G-PDU carrying no IP packet. */
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 2152, 2152);
	gtpu(&f, 0, 1);
	pad(&f, 4, 0);
	fix_all(&f);
	expect_kept("gtp-u echo", &f, f.n, WT_NOTE(TUNNEL_INNER_NOT_IP), 17);
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 2152, 2152);
	gtpu(&f, 5, 0xff);
	pad(&f, 40, 0x00);
	fix_all(&f);
	expect_kept("gtp-u not ip", &f, f.n, WT_NOTE(TUNNEL_INNER_NOT_IP), 17);
}

/* GTP-U datagrams fragmented at the outer IPv4 layer. */
static void
test_gtpu_outer_fragments(void)
{
	struct fb whole, f1, f2;
	struct wt_pkt p;
	int k;
	uint64_t now = 1000;

	/* Inner TCP with 1400 payload bytes; the outer IP payload is 8 + 8 +
	 * 40 + 1400 = 1456 bytes, cut at 1000 (a multiple of 8). */
	gtpu_tcp(&whole, O1, O2, 0x11111111, UE, 33000, NET, 443, 1400);
	const uint32_t l3 = 14, cut = 1000, id = 0x4242;
	f1.n = 0;
	putn(&f1, whole.b, l3 + 20 + cut);
	set16(&f1, l3 + 2, 20 + cut);
	ip4_frag(&f1, l3, 1, 0, id);
	f2.n = 0;
	putn(&f2, whole.b, l3 + 20);
	putn(&f2, whole.b + l3 + 20 + cut, whole.n - (l3 + 20 + cut));
	set16(&f2, l3 + 2, f2.n - l3);
	ip4_frag(&f2, l3, 0, cut / 8, id);

	/* wt_frag_process() comes first, as in the monitor */
	CHECK_EQ_U64(wt_parse(guard_place(&G, f1.b, f1.n), f1.n, f1.n, &p), WT_DROP_NONE);
	CHECK_EQ_U64(p.frag, WT_FRAG_FIRST);
	struct wt_pkt first = p;
	CHECK_EQ_U64(wt_frag_process(FT, &p, now), WT_DROP_NONE);
	const uint8_t *b = guard_place(&G, f1.b, f1.n);
	CHECK_EQ_U64(wt_decap(b, f1.n, f1.n, &p, SEED), 1);
	/* the whole inner packet, from its own header */
	CHECK_EQ_U64(p.payload_len, 1400);
	CHECK_EQ_U64(p.ip_len, 1440);
	CHECK_EQ_U64(p.frag, WT_FRAG_NONE);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER) | WT_NOTE(TUNNEL_FRAG));
	CHECK_EQ_U64(p.tun.id[0], 0x11111111);
	CHECK(addr4_is(p.src, UE));
	wt_frag_mark_decap(FT, &first);
	CHECK_EQ_U64(run(&f2, f2.n, &p, &k), WT_DROP_NONE);
	CHECK_EQ_U64(p.frag, WT_FRAG_LATER);
	CHECK_EQ_U64(wt_frag_process(FT, &p, now + 1), WT_DROP_TUNNEL_FRAG_LATER);

	/* Cut by the capture inside the inner packet's payload: still the inner
	 * packet, now noted as truncated as well. */
	CHECK_EQ_U64(wt_parse(guard_place(&G, f1.b, 200), 200, WT_WIRELEN_UNKNOWN, &p),
	             WT_DROP_NONE);
	CHECK_EQ_U64(p.frag, WT_FRAG_FIRST);
	CHECK_EQ_U64(wt_decap(guard_place(&G, f1.b, 200), 200, WT_WIRELEN_UNKNOWN, &p, SEED), 1);
	CHECK_EQ_U64(p.payload_len, 1400);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER) | WT_NOTE(TUNNEL_FRAG) | WT_NOTE(TRUNCATED));

	/* A first fragment that ends inside the inner TCP header: kept at the
	 * outer level; its later fragment is attributed to that outer packet. */
	const uint32_t cut2 = 40; /* UDP 8 + GTP 8 + inner IPv4 20 + 4 bytes of TCP */
	f1.n = 0;
	putn(&f1, whole.b, l3 + 20 + cut2);
	set16(&f1, l3 + 2, 20 + cut2);
	ip4_frag(&f1, l3, 1, 0, id + 1);
	f2.n = 0;
	putn(&f2, whole.b, l3 + 20);
	putn(&f2, whole.b + l3 + 20 + cut2, whole.n - (l3 + 20 + cut2));
	set16(&f2, l3 + 2, f2.n - l3);
	ip4_frag(&f2, l3, 0, cut2 / 8, id + 1);
	CHECK_EQ_U64(wt_parse(guard_place(&G, f1.b, f1.n), f1.n, f1.n, &p), WT_DROP_NONE);
	CHECK_EQ_U64(wt_frag_process(FT, &p, now + 2), WT_DROP_NONE);
	CHECK_EQ_U64(wt_decap(guard_place(&G, f1.b, f1.n), f1.n, f1.n, &p, SEED), 0);
	CHECK(p.notes & WT_NOTE(TUNNEL_INNER_TRUNC));
	CHECK_EQ_U64(p.proto, 17);
	CHECK_EQ_U64(run(&f2, f2.n, &p, &k), WT_DROP_NONE);
	CHECK_EQ_U64(wt_frag_process(FT, &p, now + 3), WT_DROP_NONE);
	CHECK_EQ_U64(p.sport, 2152);
	CHECK(p.notes & WT_NOTE(FRAG_ATTRIBUTED));
}

static void
test_ip_in_ip_and_teredo(void)
{
	struct fb f;
	struct wt_pkt p;

	start(&f); /* IPv4 in IPv4 */
	hdr4(&f, 4, O1, O2);
	tcp4(&f, C4, S4, 1, 2, 11);
	fix_all(&f);
	p = inner("4in4", &f);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_IPIP);
	CHECK_EQ_U64(p.tun.idmask, 0);
	CHECK_EQ_U64(p.payload_len, 11);
	CHECK_EQ_U64(p.l3_off, 34);

	ip6in4(&f, 41);
	p = inner("6in4", &f);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_IPIP);
	CHECK_EQ_U64(p.family, 6);
	CHECK_EQ_U64(p.tun.outer_family, 4);
	CHECK_EQ_U64(p.payload_len, 13);

	start6(&f); /* IPv6 in IPv6, IPv4 in IPv6 */
	hdr6(&f, 41, S6, C6);
	udp6(&f, S6, C6, 3, 4, 5);
	fix_all(&f);
	p = inner("6in6", &f);
	CHECK_EQ_U64(p.tun.outer_family, 6);
	CHECK_EQ_U64(p.tun.src_hi, 1);
	CHECK_EQ_U64(p.payload_len, 5);
	start6(&f);
	hdr6(&f, 4, C6, S6);
	tcp4(&f, C4, S4, 1, 2, 0);
	fix_all(&f);
	p = inner("4in6", &f);
	CHECK_EQ_U64(p.family, 4);
	CHECK_EQ_U64(p.l3_off, 54);

	ip6in4(&f, 4); /* protocol 4 with an IPv6 packet inside */
	expect_kept("ipip protocol 4, ipv6 inside", &f, f.n, WT_NOTE(TUNNEL_INNER_BAD), 4);

	teredo_syn(&f);
	p = inner("teredo", &f);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_TEREDO);
	CHECK_EQ_U64(p.family, 6);
	CHECK_EQ_U64(p.proto, 6);
	CHECK_EQ_U64(p.tcp_flags, 0x02);
	CHECK_EQ_U64(p.l3_off, 14 + 20 + 8);

	/* Teredo between a client and a relay (no port 3544): recognised by
	 * content, an IPv6 packet filling the datagram with a 2001::/32
	 * address; not without the prefix, nor with another length. */
	static const uint8_t TEREDO6[16] = {0x20, 0x01, 0,    0,    0x41, 0x37, 0x9e, 0x50,
	                                    0x80, 0,    0xf1, 0x2a, 0xb9, 0xc8, 0x28, 0x15};
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 3797, 32900);
	hdr6(&f, 6, TEREDO6, S6);
	tcp(&f, 1286, 80, 1, 0x18, 5);
	pad(&f, 33, 0x77);
	fix_all(&f);
	p = inner("teredo by content", &f);
	CHECK_EQ_U64(p.tun.type[0], WT_TUNNEL_TEREDO);
	CHECK_EQ_U64(p.sport, 1286);
	CHECK_EQ_U64(p.payload_len, 33);
	struct fb g = f;
	g.b[14 + 20 + 8 + 8] = 0x30; /* no Teredo address on either side */
	struct wt_pkt q;
	CHECK_EQ_U64(wt_parse(g.b, g.n, g.n, &q), WT_DROP_NONE);
	CHECK_EQ_U64(q.tunnel, WT_TUNNEL_NONE);
	CHECK_EQ_U64(q.payload_len, 40 + 20 + 33);
	g = f;
	put8(&g, 0); /* one byte more than the IPv6 packet */
	set16(&g, 14 + 2, g.n - 14);
	set16(&g, 14 + 20 + 4, g.n - 14 - 20);
	CHECK_EQ_U64(wt_parse(g.b, g.n, g.n, &q), WT_DROP_NONE);
	CHECK_EQ_U64(q.tunnel, WT_TUNNEL_NONE);
}

static void
test_depth_and_damage(void)
{
	struct fb f;
	struct wt_pkt p;
	int k;

	/* Four IP-in-IP levels: all removed. Five: the fourth inner level is
	 * kept (still a tunnel packet), noted. */
	for (unsigned int levels = 4; levels <= 5; levels++) {
		ipip_nested(&f, levels);
		CHECK_EQ_U64(run(&f, f.n, &p, &k), WT_DROP_NONE);
		CHECK_EQ_U64(k, 1);
		CHECK_EQ_U64(p.tun.depth, 4);
		if (levels == 4) {
			CHECK_EQ_U64(p.proto, 6);
			CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER));
		} else {
			CHECK_EQ_U64(p.proto, 4);
			CHECK_EQ_U64(p.tunnel, WT_TUNNEL_IPIP);
			CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER) | WT_NOTE(TUNNEL_OUTER) |
			                              WT_NOTE(TUNNEL_TOO_DEEP));
			CHECK_EQ_U64(p.l3_off, 14 + 4 * 20);
		}
	}

	/* The inner IPv4 length beyond the tunnel's payload: malformed. */
	vxlan_tcp(&f, O1, O2, 50000, 1, C4, 1, S4, 2, 100);
	const uint32_t in_l3 = 14 + 20 + 8 + 8 + 14;
	set16(&f, in_l3 + 2, 141);
	expect_kept("inner length beyond the tunnel", &f, f.n, WT_NOTE(TUNNEL_INNER_BAD), 17);
	/* An inner length shorter than the payload (padding inside): fine. */
	set16(&f, in_l3 + 2, 100);
	CHECK_EQ_U64(inner("inner shorter", &f).payload_len, 60);

	/* Cut by the capture: inside the inner IP header -> kept; after the
	 * inner TCP header -> the inner packet, truncated, from its headers. */
	vxlan_tcp(&f, O1, O2, 50000, 1, C4, 1, S4, 2, 100);
	expect_kept("cut in the inner ip header", &f, in_l3 + 10, WT_NOTE(TUNNEL_INNER_TRUNC), 17);
	expect_kept("cut in the vxlan header", &f, 14 + 20 + 8 + 4, WT_NOTE(TUNNEL_INNER_TRUNC),
	            17);
	CHECK_EQ_U64(run(&f, in_l3 + 40 + 5, &p, &k), WT_DROP_NONE);
	CHECK_EQ_U64(k, 1);
	CHECK_EQ_U64(p.payload_len, 100);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER) | WT_NOTE(TRUNCATED));

	/* ARP inside VXLAN. */
	start(&f);
	hdr4(&f, 17, O1, O2);
	hdr_udp(&f, 50000, 4789);
	vxlan(&f, 1, 1);
	in_eth(&f, 0x0806);
	pad(&f, 28, 0);
	fix_all(&f);
	expect_kept("arp in vxlan", &f, f.n, WT_NOTE(TUNNEL_INNER_NOT_IP), 17);

	/* Outer IPv4 options are kept as a note of the inner packet. */
	fixes.n = 0;
	eth(&f, 0x0800);
	fix_later(FIX_IP4, ip4o(&f, 4, 2));
	tcp4(&f, C4, S4, 1, 2, 3);
	fix_all(&f);
	p = inner("outer options", &f);
	CHECK_EQ_U64(p.notes, WT_NOTE(TUNNEL_INNER) | WT_NOTE(IP_OPTIONS));
}

/* ---- every cut and mutation of the samples --------------------------------- */

#define NSAMPLES 12
static struct fb samples[NSAMPLES];
static unsigned int nsamples;

static void
add_sample(const struct fb *f)
{
	if (nsamples < NSAMPLES)
		samples[nsamples++] = *f;
}

static void
build_samples(void)
{
	struct fb f;

	vxlan_tcp(&f, O1, O2, 50000, 0x123456, C4, 40000, S4, 80, 100);
	add_sample(&f);
	gtpu_tcp(&f, O1, O2, 0x11111111, UE, 33000, NET, 443, 60);
	add_sample(&f);
	geneve_vxlan_dns(&f);
	add_sample(&f);
	gre_csum_key_tcp(&f, 30);
	add_sample(&f);
	ip6in4(&f, 41);
	add_sample(&f);
	teredo_syn(&f);
	add_sample(&f);
	ipip_nested(&f, 5);
	add_sample(&f);
}

/* What a cut may change: the truncated note and whether it decapsulates. */
static void
test_cuts(void)
{
	unsigned long decapped = 0, kept = 0;

	for (unsigned int s = 0; s < nsamples; s++) {
		const struct fb *f = &samples[s];
		struct wt_pkt whole, p;
		int kw, k;
		CHECK_EQ_U64(run(f, f->n, &whole, &kw), WT_DROP_NONE);
		CHECK_EQ_U64(kw, 1);
		for (uint32_t caplen = 0; caplen < f->n; caplen++) {
			enum wt_drop r = run(f, caplen, &p, &k);
			if (r != WT_DROP_NONE || k < 0)
				continue;
			wt_test_checks++;
			if (k == 1 && (p.notes & WT_NOTE(TUNNEL_INNER_TRUNC))) {
				/* cut inside a deeper level: kept at the last whole one */
				decapped++;
				if (p.tun.depth >= whole.tun.depth || p.tctx == 0) {
					wt_test_failures++;
					fprintf(stderr, "sample %u caplen %u: partial depth %u\n",
					        s, caplen, p.tun.depth);
				}
			} else if (k == 1) {
				decapped++;
				uint16_t n = p.notes & (uint16_t)~WT_NOTE(TRUNCATED);
				if (memcmp(&p, &whole, 48) != 0 ||
				    p.payload_len != whole.payload_len ||
				    p.ip_len != whole.ip_len || p.l3_off != whole.l3_off ||
				    memcmp(&p.tun, &whole.tun, sizeof(p.tun)) != 0 ||
				    n != whole.notes || !(p.notes & WT_NOTE(TRUNCATED))) {
					wt_test_failures++;
					fprintf(stderr,
					        "sample %u caplen %u: decapsulated differently\n",
					        s, caplen);
				}
			} else {
				kept++;
				if (!(p.notes & WT_NOTE(TUNNEL_INNER_TRUNC)) || p.tctx != 0) {
					wt_test_failures++;
					fprintf(stderr, "sample %u caplen %u: kept, notes 0x%x\n",
					        s, caplen, p.notes);
				}
			}
		}
	}
	printf("  cuts: %lu decapsulated, %lu kept at the outer level\n", decapped, kept);
	CHECK(decapped > 100 && kept > 100);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random damage to the headers: whatever comes out is bounded by the frame
 * (the guard page) and consistent. */
static void
test_mutations(void)
{
	unsigned long n_decap = 0, n_kept = 0, bad = 0;
	struct fb f;

	for (unsigned int it = 0; it < 300000; it++) {
		f = samples[it % nsamples];
		unsigned int k = 1 + (unsigned int)(rng() % 4);
		for (unsigned int i = 0; i < k; i++) {
			uint64_t r = rng();
			uint32_t at = (uint32_t)((r >> 8) % WT_MIN(f.n, 160u));
			f.b[at] = (r & 1) ? (uint8_t)(r >> 40)
			                  : (uint8_t)(f.b[at] ^ (1u << ((r >> 40) & 7)));
		}
		uint32_t caplen = (rng() & 3) ? f.n : (uint32_t)(rng() % (f.n + 1));
		struct wt_pkt p, o;
		int dk;
		const uint8_t *b = guard_place(&G, f.b, caplen);
		if (wt_parse(b, caplen, WT_WIRELEN_UNKNOWN, &o) != WT_DROP_NONE ||
		    o.tunnel == WT_TUNNEL_NONE)
			continue;
		p = o;
		dk = wt_decap(b, caplen, WT_WIRELEN_UNKNOWN, &p, SEED);
		if (dk) {
			n_decap++;
			uint64_t end = (uint64_t)p.l3_off + p.ip_len;
			bool ok = p.tctx != 0 && p.tun.depth >= 1 && p.tun.depth <= 4 &&
			          (p.notes & WT_NOTE(TUNNEL_INNER)) &&
			          (p.family == 4 || p.family == 6) && p.payload_len <= p.ip_len &&
			          p.l3_off >= o.l4_off && p.l3_off < p.l4_off && p.l4_off <= end &&
			          p.l3_off + (p.family == 4 ? 20u : 40u) <= caplen &&
			          ((p.notes & WT_NOTE(TUNNEL_FRAG)) ||
			           (end <= (uint64_t)o.l3_off + o.ip_len &&
			            (end > caplen) == !!(p.notes & WT_NOTE(TRUNCATED))));
			if (p.proto == 6 && p.frag != WT_FRAG_LATER)
				ok = ok && p.has_seq && p.l4_off + 20u <= caplen;
			if (!ok && bad++ < 5)
				fprintf(stderr, "mutation %u: inner packet inconsistent\n", it);
		} else {
			n_kept++;
			if (memcmp(&p, &o, 48) != 0 || p.l3_off != o.l3_off ||
			    !(p.notes &
			      (WT_NOTE(TUNNEL_INNER_TRUNC) | WT_NOTE(TUNNEL_INNER_NOT_IP) |
			       WT_NOTE(TUNNEL_INNER_BAD)))) {
				if (bad++ < 5)
					fprintf(stderr,
					        "mutation %u: kept packet changed or unnoted\n",
					        it);
			}
		}
	}
	printf("  mutations: %lu decapsulated, %lu kept\n", n_decap, n_kept);
	wt_test_checks++;
	wt_test_failures += bad != 0;
	CHECK(n_decap > 10000 && n_kept > 10000);
}

/* ---- the records ----------------------------------------------------------- */

#define MAXREC 512
static struct wt_callrec recs[MAXREC];
static unsigned int nrecs;

static void
collect(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	if (nrecs < MAXREC)
		recs[nrecs] = *r;
	nrecs++;
}

static struct wt_calltab *
table(uint32_t cap)
{
	struct wt_calltab_params tp = {
	        .capacity = cap,
	        .socket = WT_SOCKET_ANY,
	        .hash_seed = 7,
	        .vlan_in_key = 1,
	        .run_id = 1,
	        .emit = collect,
	};
	nrecs = 0;
	return wt_calltab_create(&tp);
}

static void
account(struct wt_calltab *t, const struct fb *f, uint64_t ts)
{
	struct wt_pkt p = inner("account", f);
	wt_calltab_update_burst(t, &p, &ts, 1);
}

static const struct wt_callrec *
find(const uint8_t a[4], uint32_t id0)
{
	for (unsigned int i = 0; i < nrecs && i < MAXREC; i++)
		if (addr4_is(recs[i].addr_a, a) && recs[i].tun_id[0] == id0)
			return &recs[i];
	return NULL;
}

static void
test_records(void)
{
	struct wt_calltab *t = table(1024);
	struct fb f;
	CHECK(t != NULL);
	if (t == NULL)
		return;

	/* Two tenants, the same inner 5-tuple, the same VTEPs: two calls. */
	vxlan_tcp(&f, O1, O2, 50000, 100, S4, 80, C4, 40000, 10);
	account(t, &f, 1000);
	vxlan_tcp(&f, O2, O1, 50001, 100, C4, 40000, S4, 80, 20);
	account(t, &f, 2000);
	vxlan_tcp(&f, O1, O2, 50000, 200, S4, 80, C4, 40000, 30);
	account(t, &f, 3000);
	/* Only b (192.168.0.1) sends, from the outer address O2. */
	vxlan_tcp(&f, O2, O1, 50002, 300, C4, 40000, S4, 80, 5);
	account(t, &f, 3500);
	/* GTP-U: uplink and downlink, two TEIDs, one call. */
	gtpu_tcp(&f, O1, O3, 0x11111111, UE, 33000, NET, 443, 40);
	account(t, &f, 4000);
	gtpu_tcp(&f, O3, O1, 0x22222222, NET, 443, UE, 33000, 50);
	account(t, &f, 5000);
	/* Not tunnelled: the same 5-tuple as the VXLAN calls, a third call. */
	fixes.n = 0;
	eth(&f, 0x0800);
	tcp4(&f, S4, C4, 80, 40000, 60);
	fix_all(&f);
	struct wt_pkt plain;
	uint64_t ts = 6000;
	CHECK_EQ_U64(wt_parse(f.b, f.n, f.n, &plain), WT_DROP_NONE);
	wt_calltab_update_burst(t, &plain, &ts, 1);

	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(nrecs, 5);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.tunnel_calls, 4);
	CHECK_EQ_U64(st.tunnel_ctx_full, 0);

	/* a = the greater endpoint: 192.168.0.2:80 (S4) */
	const struct wt_callrec *v1 = find(S4, 100), *v2 = find(S4, 200);
	CHECK(v1 != NULL && v2 != NULL);
	if (v1 != NULL && v2 != NULL) {
		CHECK_EQ_U64(v1->tun_depth, 1);
		CHECK_EQ_U64(v1->tun_type[0], WT_TUNNEL_VXLAN);
		CHECK_EQ_U64(v1->tun_idmask, 1);
		CHECK_EQ_U64(v1->outer_family, 4);
		CHECK_EQ_U64(v1->tun_flags, WT_TUN_OUTER_A | WT_TUN_OUTER_B);
		CHECK(addr4_is(v1->outer_a, O1) && addr4_is(v1->outer_b, O2));
		CHECK_EQ_U64(v1->d[0].bytes, 10);
		CHECK_EQ_U64(v1->d[1].bytes, 20);
		CHECK_EQ_U64(v2->d[0].bytes, 30);
		/* b sent nothing: its side of the tunnel is where a's packets went */
		CHECK_EQ_U64(v2->d[1].pkts, 0);
		CHECK_EQ_U64(v2->tun_flags, WT_TUN_OUTER_A | WT_TUN_OUTER_B);
		CHECK(addr4_is(v2->outer_a, O1) && addr4_is(v2->outer_b, O2));
		CHECK(v1->call_id[1] != v2->call_id[1]);
	}
	const struct wt_callrec *v3 = find(S4, 300);
	CHECK(v3 != NULL);
	if (v3 != NULL) {
		CHECK_EQ_U64(v3->d[0].pkts, 0);
		CHECK_EQ_U64(v3->d[1].bytes, 5);
		CHECK(addr4_is(v3->outer_a, O1) && addr4_is(v3->outer_b, O2));
	}
	/* a = 172.16.0.5 (the UE: greater than 8.8.8.8) */
	const struct wt_callrec *g = NULL;
	for (unsigned int i = 0; i < nrecs; i++)
		if (recs[i].tun_depth == 1 && recs[i].tun_type[0] == WT_TUNNEL_GTPU)
			g = &recs[i];
	CHECK(g != NULL);
	if (g != NULL) {
		CHECK(addr4_is(g->addr_a, UE));
		CHECK_EQ_U64(g->tun_id[0], 0x11111111);
		CHECK_EQ_U64(g->tun_teid_b, 0x22222222);
		CHECK_EQ_U64(g->tun_idmask, 1 | 1 << 4);
		CHECK(addr4_is(g->outer_a, O1) && addr4_is(g->outer_b, O3));
		CHECK_EQ_U64(g->d[0].bytes, 40);
		CHECK_EQ_U64(g->d[1].bytes, 50);
	}
	unsigned int plain_recs = 0;
	for (unsigned int i = 0; i < nrecs; i++)
		if (recs[i].tun_depth == 0) {
			plain_recs++;
			CHECK_EQ_U64(recs[i].d[0].bytes, 60);
			CHECK_EQ_U64(recs[i].outer_family, 0);
			CHECK_EQ_U64(recs[i].tun_flags, 0);
		}
	CHECK_EQ_U64(plain_recs, 1);
	wt_calltab_free(t);
}

/* The context store: one per 16 records (at least 64). Full, a record
 * keeps its chain and says no more; contexts come back when unused. */
static void
test_context_store(void)
{
	struct wt_calltab *t = table(2048); /* 128 contexts */
	struct fb f;
	CHECK(t != NULL);
	if (t == NULL)
		return;
	for (unsigned int round = 0; round < 2; round++) {
		nrecs = 0;
		for (unsigned int i = 0; i < 200; i++) {
			uint8_t od[4] = {10, 9, (uint8_t)(i >> 8), (uint8_t)i};
			vxlan_tcp(&f, O1, od, 50000, 5, C4, 40000, S4, 80, 1);
			account(t, &f, 1000 + i);
			/* a second call in the same tunnel shares its context */
			vxlan_tcp(&f, O1, od, 50000, 5, C4, 40001, S4, 80, 1);
			account(t, &f, 1000 + i);
		}
		wt_calltab_complete_all(t, WT_END_SHUTDOWN);
		CHECK_EQ_U64(nrecs, 400);
		unsigned int described = 0, bare = 0;
		for (unsigned int i = 0; i < nrecs && i < MAXREC; i++) {
			const struct wt_callrec *r = &recs[i];
			CHECK_EQ_U64(r->tun_depth, 1);
			CHECK_EQ_U64(r->tun_type[0], WT_TUNNEL_VXLAN);
			if (r->outer_family == 4) {
				described++;
				CHECK_EQ_U64(r->tun_id[0], 5);
			} else {
				bare++;
				CHECK_EQ_U64(r->tun_idmask, 0);
				CHECK_EQ_U64(r->tun_flags, 0);
			}
		}
		/* 128 tunnels described (both of their calls), 72 not */
		CHECK_EQ_U64(described, 256);
		CHECK_EQ_U64(bare, 144);
		struct wt_calltab_stats st;
		wt_calltab_get_stats(t, &st);
		CHECK_EQ_U64(st.tunnel_ctx_full, 144 * (round + 1));
		CHECK_EQ_U64(st.tunnel_calls, 400 * (round + 1));
	}
	wt_calltab_free(t);
}

static void
setup(void)
{
	CHECK(guard_init(&G) == 0);
	FT = wt_frag_create(64, 1000000000ull, WT_SOCKET_ANY);
	CHECK(FT != NULL);
	build_samples();
	CHECK_EQ_U64(nsamples, 7);
}

WT_TEST_MAIN(WT_TEST(setup), WT_TEST(test_vxlan), WT_TEST(test_geneve_nested), WT_TEST(test_gre),
             WT_TEST(test_gtpu), WT_TEST(test_gtpu_outer_fragments),
             WT_TEST(test_ip_in_ip_and_teredo), WT_TEST(test_depth_and_damage), WT_TEST(test_cuts),
             WT_TEST(test_mutations), WT_TEST(test_records), WT_TEST(test_context_store))
