/* SPDX-License-Identifier: BSD-3-Clause */
/* test_parse.c: the header parser on every encapsulation, drop reason, truncation and mutation.
 *
 * Every parse goes through parse_both(): the inline fast path (wt_parse) and
 * the full parser (wt_parse_full) must agree byte for byte. Frames are placed
 * so their last byte is the last readable byte before a PROT_NONE page: an
 * over-read crashes the test. The link wraps wt_parse_full (--wrap) so a test
 * can tell whether the fast path handled a frame by itself.
 */
#include <stdbool.h>

#include "frames.h"
#include "wt_parse.h"
#include "wt_test.h"

enum wt_drop __real_wt_parse_full(const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                                  struct wt_pkt *pkt);
enum wt_drop __wrap_wt_parse_full(const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                                  struct wt_pkt *pkt);

static unsigned long full_calls;

enum wt_drop
__wrap_wt_parse_full(const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct wt_pkt *pkt)
{
	full_calls++;
	return __real_wt_parse_full(frame, caplen, wirelen, pkt);
}

static struct guard G;
static unsigned long seen[WT_DROP_MAX];
static unsigned int disagreements;

/* Valid, wholly captured frames met by expect(): the truncation sweep and
 * the mutation test start from them. */
#define MAX_SAMPLES 160
static struct fb samples[MAX_SAMPLES];
static struct wt_pkt sample_pkt[MAX_SAMPLES];
static unsigned int nsamples;

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_PSH 0x08
#define TCP_FIN 0x01

static void
fail(const char *name, const char *what, uint64_t got, uint64_t want)
{
	wt_test_failures++;
	fprintf(stderr,
	        "%s: %s: got %" PRIu64 " (0x%" PRIx64 "), want %" PRIu64 " (0x%" PRIx64 ")\n", name,
	        what, got, got, want, want);
}

/* Both parsers on the same bytes; they must agree. */
static enum wt_drop
parse_both(const uint8_t *f, uint32_t caplen, uint32_t wirelen, struct wt_pkt *out)
{
	struct wt_pkt a, b;

	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0x5a, sizeof(b));
	enum wt_drop ra = wt_parse(f, caplen, wirelen, &a);
	enum wt_drop rb = __real_wt_parse_full(f, caplen, wirelen, &b);
	wt_test_checks++;
	if (ra != rb || (ra == WT_DROP_NONE && memcmp(&a, &b, WT_PKT_PARSED_LEN) != 0)) {
		wt_test_failures++;
		if (disagreements++ < 10)
			fprintf(stderr,
			        "fast path and full parser disagree: %s vs %s (caplen %u)\n",
			        wt_drop_name(ra), wt_drop_name(rb), caplen);
	}
	*out = b;
	return rb;
}

#define FIELD(x)                                           \
	do {                                               \
		wt_test_checks++;                          \
		if ((uint64_t)got->x != (uint64_t)want->x) \
			fail(name, #x, got->x, want->x);   \
	} while (0)
#define BYTES(x)                                                            \
	do {                                                                \
		wt_test_checks++;                                           \
		if (memcmp(got->x, want->x, sizeof(got->x)) != 0)           \
			fail(name, #x " bytes", got->x[sizeof(got->x) - 1], \
			     want->x[sizeof(want->x) - 1]);                 \
	} while (0)

static void
compare_pkt(const char *name, const struct wt_pkt *got, const struct wt_pkt *want)
{
	BYTES(src);
	BYTES(dst);
	FIELD(sport);
	FIELD(dport);
	FIELD(vlan);
	FIELD(proto);
	FIELD(family);
	FIELD(tcp_flags);
	FIELD(has_seq);
	FIELD(frag);
	FIELD(tunnel);
	FIELD(seq);
	FIELD(payload_len);
	FIELD(ip_len);
	FIELD(frag_id);
	FIELD(notes);
	FIELD(l3_off);
	FIELD(l4_off);
	FIELD(inner_off);
	BYTES(src_mac);
	BYTES(dst_mac);
}

/* Parse the first @caplen bytes of @f (wire length @wirelen); expect @want_r
 * and, when accounted, exactly @want. */
static void
expect_cap(const char *name, const struct fb *f, uint32_t caplen, uint32_t wirelen,
           enum wt_drop want_r, const struct wt_pkt *want)
{
	struct wt_pkt got;
	enum wt_drop r = parse_both(guard_place(&G, f->b, caplen), caplen, wirelen, &got);

	seen[r]++;
	wt_test_checks++;
	if (r != want_r) {
		wt_test_failures++;
		fprintf(stderr, "%s: got %s, want %s\n", name, wt_drop_name(r),
		        wt_drop_name(want_r));
		return;
	}
	if (r != WT_DROP_NONE)
		return;
	if (want != NULL)
		compare_pkt(name, &got, want);
	if (caplen == f->n && !(got.notes & WT_NOTE(TRUNCATED)) && nsamples < MAX_SAMPLES) {
		sample_pkt[nsamples] = got;
		samples[nsamples++] = *f;
	}
}

static void
expect(const char *name, const struct fb *f, const struct wt_pkt *want)
{
	expect_cap(name, f, f->n, WT_WIRELEN_UNKNOWN, WT_DROP_NONE, want);
}

static void
expect_drop(const char *name, const struct fb *f, enum wt_drop r)
{
	expect_cap(name, f, f->n, WT_WIRELEN_UNKNOWN, r, NULL);
}

/* Expected result templates: default addresses and MACs, offsets from l3. */
static struct wt_pkt
want4(unsigned int proto, unsigned int l3)
{
	struct wt_pkt w;
	memset(&w, 0, sizeof(w));
	memcpy(w.src, IP4_S, 4);
	memcpy(w.dst, IP4_D, 4);
	memcpy(w.src_mac, MAC_S, 6);
	memcpy(w.dst_mac, MAC_D, 6);
	w.family = 4;
	w.proto = (uint8_t)proto;
	w.l3_off = (uint16_t)l3;
	w.l4_off = (uint16_t)(l3 + 20);
	return w;
}

static struct wt_pkt
want6(unsigned int proto, unsigned int l3)
{
	struct wt_pkt w = want4(proto, l3);
	memcpy(w.src, IP6_S, 16);
	memcpy(w.dst, IP6_D, 16);
	w.family = 6;
	w.l4_off = (uint16_t)(l3 + 40);
	return w;
}

static void
set_tcp(struct wt_pkt *w, unsigned int sport, unsigned int dport, uint32_t seq, unsigned int flags)
{
	w->sport = (uint16_t)sport;
	w->dport = (uint16_t)dport;
	w->seq = seq;
	w->tcp_flags = (uint8_t)flags;
	w->has_seq = 1;
}

/* Did the fast path handle @f alone? */
static bool
fast_only(const struct fb *f)
{
	struct wt_pkt p;
	unsigned long before = full_calls;
	(void)wt_parse(guard_place(&G, f->b, f->n), f->n, f->n, &p);
	return full_calls == before;
}

/* ---- frames used by several tests ---------------------------------------- */

/* Ethernet + IPv4 + TCP (doff 5) + @pay payload bytes. */
static void
frame_tcp4(struct fb *f, unsigned int pay)
{
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 6);
	tcp(f, 40000, 80, 1000, TCP_SYN, 5);
	pad(f, pay, 0xa5);
	ip4_fix(f, ip);
}

/* Ethernet + IPv4 + UDP @sport -> @dport + @pay payload bytes. */
static void
frame_udp4(struct fb *f, unsigned int sport, unsigned int dport, unsigned int pay)
{
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 17);
	uint32_t u = udp(f, sport, dport);
	pad(f, pay, 0xa5);
	udp_fix(f, u);
	ip4_fix(f, ip);
}

/* ---- L2 ------------------------------------------------------------------ */

static void
test_eth_ipv4_tcp(void)
{
	struct fb f;
	struct wt_pkt w = want4(6, 14);

	frame_tcp4(&f, 100);
	set_tcp(&w, 40000, 80, 1000, TCP_SYN);
	w.payload_len = 100;
	w.ip_len = 140;
	expect("eth/ipv4/tcp", &f, &w);
	CHECK(fast_only(&f));

	/* Minimum frame: an ACK padded to 60 bytes; the padding is not payload. */
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6);
	tcp(&f, 80, 40000, 0x80000000u, TCP_ACK | TCP_FIN, 5);
	ip4_fix(&f, ip);
	pad(&f, 6, 0);
	w = want4(6, 14);
	set_tcp(&w, 80, 40000, 0x80000000u, TCP_ACK | TCP_FIN);
	w.ip_len = 40;
	expect("eth/ipv4/tcp padded", &f, &w);
	CHECK(fast_only(&f));
}

static void
test_vlan_ipv4_udp(void)
{
	struct fb f;
	eth(&f, 0x8100);
	tag(&f, 100, 0x0800);
	uint32_t ip = ip4(&f, 17);
	uint32_t u = udp(&f, 40001, 53);
	pad(&f, 30, 0xa5);
	udp_fix(&f, u);
	ip4_fix(&f, ip);

	struct wt_pkt w = want4(17, 18);
	w.sport = 40001;
	w.dport = 53;
	w.vlan = 100;
	w.payload_len = 30;
	w.ip_len = 58;
	expect("vlan/ipv4/udp", &f, &w);
	CHECK(fast_only(&f));

	/* UDP length shorter than the IP payload: the datagram ends first. */
	set16(&f, u + 4, 20);
	w.payload_len = 12;
	expect("vlan/ipv4/udp short udp length", &f, &w);
}

static void
test_qinq_and_9100(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x88a8);
	tag(&f, 200, 0x8100);
	tag(&f, 100, 0x0800);
	uint32_t ip = ip4(&f, 6);
	tcp(&f, 1234, 22, 7, TCP_PSH | TCP_ACK, 5);
	pad(&f, 10, 0xa5);
	ip4_fix(&f, ip);
	w = want4(6, 22);
	set_tcp(&w, 1234, 22, 7, TCP_PSH | TCP_ACK);
	w.vlan = 200; /* outermost */
	w.payload_len = 10;
	w.ip_len = 50;
	expect("qinq/ipv4/tcp", &f, &w);
	CHECK(!fast_only(&f));

	eth(&f, 0x9100);
	tag(&f, 300, 0x86dd);
	ip = ip6(&f, 6);
	tcp(&f, 443, 50000, 0xfffffff0u, TCP_PSH | TCP_ACK, 8);
	pad(&f, 50, 0xa5);
	ip6_fix(&f, ip);
	w = want6(6, 18);
	set_tcp(&w, 443, 50000, 0xfffffff0u, TCP_PSH | TCP_ACK);
	w.vlan = 300;
	w.payload_len = 50;
	w.ip_len = 122;
	expect("9100/ipv6/tcp", &f, &w);

	/* VID 0 (priority tag) outermost: the outermost VID is still 0. */
	eth(&f, 0x8100);
	tag(&f, 0, 0x8100);
	tag(&f, 55, 0x0800);
	ip = ip4(&f, 1);
	pad(&f, 8, 0);
	ip4_fix(&f, ip);
	w = want4(1, 22);
	w.payload_len = 8;
	w.ip_len = 28;
	expect("priority tag then vlan 55", &f, &w);
}

static void
test_fabricpath(void)
{
	struct fb f;
	f.n = 0;
	putn(&f, MAC_FP_D, 6);
	putn(&f, MAC_FP_S, 6);
	put16(&f, 0x8903);
	fabricpath(&f, 0x8100);
	tag(&f, 10, 0x0800);
	uint32_t ip = ip4(&f, 17);
	uint32_t u = udp(&f, 5000, 5001);
	pad(&f, 20, 0xa5);
	udp_fix(&f, u);
	ip4_fix(&f, ip);

	struct wt_pkt w = want4(17, 34); /* MACs: the inner (host) ones */
	w.sport = 5000;
	w.dport = 5001;
	w.vlan = 10;
	w.payload_len = 20;
	w.ip_len = 48;
	expect("fabricpath/vlan/ipv4/udp", &f, &w);

	expect_cap("fabricpath cut", &f, 14 + 15, WT_WIRELEN_UNKNOWN, WT_DROP_L2_TRUNC, NULL);
}

static void
test_mpls(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x8847);
	mpls(&f, 100, 0);
	mpls(&f, 200, 1);
	uint32_t ip = ip4(&f, 6);
	tcp(&f, 179, 40000, 99, TCP_ACK, 5);
	pad(&f, 19, 0xa5);
	ip4_fix(&f, ip);
	w = want4(6, 22);
	set_tcp(&w, 179, 40000, 99, TCP_ACK);
	w.payload_len = 19;
	w.ip_len = 59;
	expect("mpls2/ipv4/tcp", &f, &w);

	eth(&f, 0x8848);
	mpls(&f, 7, 1);
	ip = ip6(&f, 17);
	uint32_t u = udp(&f, 9, 10);
	udp_fix(&f, u);
	ip6_fix(&f, ip);
	w = want6(17, 18);
	w.sport = 9;
	w.dport = 10;
	w.ip_len = 48;
	expect("mpls multicast/ipv6/udp", &f, &w);

	/* Pseudowire: control word (nibble 0), then Ethernet. */
	eth(&f, 0x8847);
	mpls(&f, 5, 1);
	put32(&f, 0);
	pad(&f, 60, 0x45);
	expect_drop("mpls pseudowire", &f, WT_DROP_MPLS_NOT_IP);

	eth(&f, 0x8847);
	mpls(&f, 5, 0);
	put16(&f, 0);
	expect_drop("mpls label cut", &f, WT_DROP_L2_TRUNC);

	eth(&f, 0x8847);
	mpls(&f, 5, 1);
	expect_drop("mpls without payload", &f, WT_DROP_L2_TRUNC);
}

static void
test_pppoe(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x8864);
	uint32_t pp = pppoe(&f, 0x0021);
	uint32_t ip = ip4(&f, 17);
	uint32_t u = udp(&f, 68, 67);
	pad(&f, 100, 0xa5);
	udp_fix(&f, u);
	ip4_fix(&f, ip);
	pppoe_fix(&f, pp);
	w = want4(17, 22);
	w.sport = 68;
	w.dport = 67;
	w.payload_len = 100;
	w.ip_len = 128;
	expect("pppoe/ipv4/udp", &f, &w);

	eth(&f, 0x8864);
	pp = pppoe(&f, 0x0057);
	ip = ip6(&f, 6);
	tcp(&f, 50000, 443, 1, TCP_SYN, 5);
	ip6_fix(&f, ip);
	pppoe_fix(&f, pp);
	w = want6(6, 22);
	set_tcp(&w, 50000, 443, 1, TCP_SYN);
	w.ip_len = 60;
	expect("pppoe/ipv6/tcp", &f, &w);

	eth(&f, 0x8864);
	pp = pppoe(&f, 0xc021); /* LCP */
	pad(&f, 10, 1);
	pppoe_fix(&f, pp);
	expect_drop("pppoe lcp", &f, WT_DROP_PPP_NOT_IP);

	eth(&f, 0x8864);
	pp = pppoe(&f, 0x0021);
	f.b[pp + 1] = 0x09; /* a discovery code inside a session frame */
	pad(&f, 40, 0x45);
	expect_drop("pppoe bad code", &f, WT_DROP_PPP_NOT_IP);

	eth(&f, 0x8864);
	pad(&f, 7, 0x11);
	expect_drop("pppoe cut", &f, WT_DROP_L2_TRUNC);

	eth(&f, 0x8863); /* discovery */
	pad(&f, 40, 0x11);
	expect_drop("pppoe discovery", &f, WT_DROP_NOT_IP);
}

static void
test_not_ip(void)
{
	struct fb f;

	eth(&f, 0x0806);
	pad(&f, 46, 1);
	expect_drop("arp", &f, WT_DROP_NOT_IP);
	eth(&f, 0x88cc);
	pad(&f, 46, 2);
	expect_drop("lldp", &f, WT_DROP_NOT_IP);
	eth(&f, 0x0026); /* 802.3 length + LLC (STP) */
	put8(&f, 0x42);
	put8(&f, 0x42);
	put8(&f, 0x03);
	pad(&f, 43, 0);
	expect_drop("802.3 llc", &f, WT_DROP_NOT_IP);
	eth(&f, 0x05ff);
	pad(&f, 46, 0x45);
	expect_drop("802.3 length 0x5ff", &f, WT_DROP_NOT_IP);
}

static void
test_l2_trunc_and_depth(void)
{
	struct fb f;
	struct wt_pkt w;

	frame_tcp4(&f, 0);
	for (uint32_t c = 0; c < 14; c++)
		expect_cap("short ethernet", &f, c, WT_WIRELEN_UNKNOWN, WT_DROP_L2_TRUNC, NULL);

	eth(&f, 0x8100);
	put16(&f, 1);
	put8(&f, 0x08);
	expect_drop("vlan cut", &f, WT_DROP_L2_TRUNC);

	/* Eight tags are followed, a ninth is too deep. */
	eth(&f, 0x8100);
	for (unsigned int i = 1; i < 8; i++)
		tag(&f, i, i & 1 ? 0x88a8 : 0x8100);
	tag(&f, 8, 0x0800);
	uint32_t ip = ip4(&f, 6);
	tcp(&f, 1, 2, 3, TCP_SYN, 5);
	ip4_fix(&f, ip);
	w = want4(6, 14 + 8 * 4);
	set_tcp(&w, 1, 2, 3, TCP_SYN);
	w.vlan = 1;
	w.ip_len = 40;
	expect("8 vlan tags", &f, &w);

	eth(&f, 0x8100);
	for (unsigned int i = 1; i < 9; i++)
		tag(&f, i, 0x8100);
	tag(&f, 9, 0x0800);
	ip = ip4(&f, 6);
	tcp(&f, 1, 2, 3, TCP_SYN, 5);
	ip4_fix(&f, ip);
	expect_drop("9 vlan tags", &f, WT_DROP_L2_TOO_DEEP);

	eth(&f, 0x8847);
	for (unsigned int i = 0; i < 8; i++)
		mpls(&f, i, i == 7);
	ip = ip4(&f, 6);
	tcp(&f, 1, 2, 3, TCP_SYN, 5);
	ip4_fix(&f, ip);
	w.l3_off = 14 + 32;
	w.l4_off = 14 + 32 + 20;
	w.vlan = 0;
	expect("8 mpls labels", &f, &w);

	eth(&f, 0x8847);
	for (unsigned int i = 0; i < 9; i++)
		mpls(&f, i, i == 8);
	ip = ip4(&f, 6);
	tcp(&f, 1, 2, 3, TCP_SYN, 5);
	ip4_fix(&f, ip);
	expect_drop("9 mpls labels", &f, WT_DROP_L2_TOO_DEEP);

	/* The bound is on all L2 layers together. */
	eth(&f, 0x8903);
	fabricpath(&f, 0x8100);
	for (unsigned int i = 1; i < 4; i++)
		tag(&f, i, 0x8100);
	tag(&f, 4, 0x8847);
	for (unsigned int i = 0; i < 4; i++)
		mpls(&f, i, i == 3);
	ip = ip4(&f, 6);
	tcp(&f, 1, 2, 3, TCP_SYN, 5);
	ip4_fix(&f, ip);
	expect_drop("fabricpath + 4 tags + 4 labels", &f, WT_DROP_L2_TOO_DEEP);
}

/* ---- IPv4 ---------------------------------------------------------------- */

static void
test_ipv4_errors(void)
{
	struct fb f;
	struct wt_pkt w;

	frame_tcp4(&f, 20);
	expect_cap("ipv4 19 bytes", &f, 14 + 19, WT_WIRELEN_UNKNOWN, WT_DROP_L3_TRUNC, NULL);
	expect_cap("ipv4 0 bytes", &f, 14, WT_WIRELEN_UNKNOWN, WT_DROP_L3_TRUNC, NULL);

	frame_tcp4(&f, 20);
	f.b[14] = 0x65;
	expect_drop("ipv4 version 6", &f, WT_DROP_IP_BAD_VERSION);
	f.b[14] = 0x44;
	expect_drop("ipv4 ihl 4", &f, WT_DROP_IPV4_BAD_IHL);
	f.b[14] = 0x40;
	expect_drop("ipv4 ihl 0", &f, WT_DROP_IPV4_BAD_IHL);

	frame_tcp4(&f, 20);
	set16(&f, 16, 19);
	expect_drop("ipv4 total length 19", &f, WT_DROP_IP_BAD_LEN);

	/* IHL 6 but only 22 bytes of the header captured. */
	eth(&f, 0x0800);
	uint32_t ip = ip4o(&f, 6, 1);
	tcp(&f, 1, 2, 3, 0, 5);
	ip4_fix(&f, ip);
	expect_cap("ipv4 options cut", &f, 14 + 22, WT_WIRELEN_UNKNOWN, WT_DROP_L3_TRUNC, NULL);

	/* Options: IHL 7. */
	eth(&f, 0x0800);
	ip = ip4o(&f, 6, 2);
	tcp(&f, 1111, 2222, 5, TCP_ACK, 5);
	pad(&f, 3, 0xa5);
	ip4_fix(&f, ip);
	w = want4(6, 14);
	w.l4_off = 14 + 28;
	set_tcp(&w, 1111, 2222, 5, TCP_ACK);
	w.payload_len = 3;
	w.ip_len = 51;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv4 options", &f, &w);
	CHECK(!fast_only(&f));

	/* IPv4 header under the IPv6 ethertype. */
	frame_tcp4(&f, 20);
	set16(&f, 12, 0x86dd);
	expect_drop("ipv4 under 86dd", &f, WT_DROP_IP_BAD_VERSION);
}

/* A snaplen cut (length within the wire frame or wire length unknown)
 * against a bogus length (beyond the known wire frame). */
static void
test_snaplen_vs_bogus(void)
{
	struct fb f;
	struct wt_pkt w = want4(6, 14);

	frame_tcp4(&f, 1000);
	set_tcp(&w, 40000, 80, 1000, TCP_SYN);
	w.payload_len = 1000;
	w.ip_len = 1040;
	w.notes = WT_NOTE(TRUNCATED);
	expect_cap("snaplen 100, wirelen unknown", &f, 100, WT_WIRELEN_UNKNOWN, WT_DROP_NONE, &w);
	expect_cap("snaplen 100, wirelen 1054", &f, 100, 1054, WT_DROP_NONE, &w);
	expect_cap("snaplen 54, wirelen 1054", &f, 54, 1054, WT_DROP_NONE, &w);
	expect_cap("wire frame shorter than the IP length", &f, 100, 100,
	           WT_DROP_IP_LEN_EXCEEDS_FRAME, NULL);
	expect_cap("wire length 1053", &f, 1054, 1053, WT_DROP_NONE, NULL); /* < caplen: caplen */
	expect_cap("wire length below caplen", &f, 100, 90, WT_DROP_IP_LEN_EXCEEDS_FRAME, NULL);
	expect_cap("cut in the tcp header", &f, 14 + 20 + 19, 1054, WT_DROP_L4_TRUNC, NULL);

	/* A bogus total length on a minimum frame. */
	frame_tcp4(&f, 6);
	set16(&f, 16, 1500);
	expect_cap("bogus length, wire known", &f, f.n, f.n, WT_DROP_IP_LEN_EXCEEDS_FRAME, NULL);
	w.payload_len = 1460;
	w.ip_len = 1500;
	expect_cap("bogus length, wire unknown", &f, f.n, WT_WIRELEN_UNKNOWN, WT_DROP_NONE, &w);

	/* TCP options may be cut; the fixed 20 bytes are enough. */
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6);
	tcp(&f, 40000, 80, 1000, TCP_SYN, 15);
	pad(&f, 10, 0xa5);
	ip4_fix(&f, ip);
	w.payload_len = 10;
	w.ip_len = 90;
	expect_cap("tcp options cut", &f, 54, WT_WIRELEN_UNKNOWN, WT_DROP_NONE, &w);
}

/* ---- transports ---------------------------------------------------------- */

static void
test_tcp_udp_errors(void)
{
	struct fb f;

	frame_tcp4(&f, 20);
	f.b[46] = 0x40;
	expect_drop("tcp doff 4", &f, WT_DROP_TCP_BAD_DOFF);
	f.b[46] = 0xf0; /* 60 > 40 */
	expect_drop("tcp doff beyond ip payload", &f, WT_DROP_TCP_BAD_DOFF);

	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6);
	pad(&f, 12, 0);
	ip4_fix(&f, ip);
	pad(&f, 14, 0);
	expect_drop("ip payload 12 for tcp", &f, WT_DROP_IP_BAD_LEN);

	frame_udp4(&f, 1, 2, 30);
	set16(&f, 38, 7);
	expect_drop("udp length 7", &f, WT_DROP_UDP_BAD_LEN);
	set16(&f, 38, 39);
	expect_drop("udp length beyond ip payload", &f, WT_DROP_UDP_BAD_LEN);
	frame_udp4(&f, 1, 2, 30);
	expect_cap("udp header cut", &f, 14 + 20 + 7, WT_WIRELEN_UNKNOWN, WT_DROP_L4_TRUNC, NULL);

	eth(&f, 0x0800);
	ip = ip4(&f, 17);
	pad(&f, 4, 0);
	ip4_fix(&f, ip);
	pad(&f, 22, 0);
	expect_drop("ip payload 4 for udp", &f, WT_DROP_IP_BAD_LEN);
}

/* Protocols without ports: ports 0, payload = the whole IP payload. */
static void
test_portless(void)
{
	static const struct {
		const char *name;
		unsigned int family, proto, payload;
	} cases[] = {
	        {"icmp", 4, 1, 64},
	        {"sctp keyed without ports", 4, 132, 32},
	        {"icmpv6", 6, 58, 16},
	        {"esp", 6, 50, 64},
	};

	for (unsigned int i = 0; i < WT_ARRAY_SIZE(cases); i++) {
		struct fb f;
		struct wt_pkt w;
		unsigned int hl = cases[i].family == 4 ? 20 : 40;
		eth(&f, cases[i].family == 4 ? 0x0800 : 0x86dd);
		uint32_t ip =
		        cases[i].family == 4 ? ip4(&f, cases[i].proto) : ip6(&f, cases[i].proto);
		put16(&f, 5000); /* would be ports for TCP/UDP/SCTP */
		put16(&f, 5001);
		pad(&f, cases[i].payload - 4, 0xa5);
		if (cases[i].family == 4)
			ip4_fix(&f, ip);
		else
			ip6_fix(&f, ip);
		w = cases[i].family == 4 ? want4(cases[i].proto, 14) : want6(cases[i].proto, 14);
		w.payload_len = cases[i].payload;
		w.ip_len = hl + cases[i].payload;
		expect(cases[i].name, &f, &w);
	}
}

/* ---- IPv6 ---------------------------------------------------------------- */

static void
test_ipv6_ext(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x86dd);
	uint32_t ip = ip6(&f, 0);
	ext6(&f, 43, 0);
	ext6(&f, 60, 2);
	ext6(&f, 6, 0);
	tcp(&f, 2000, 3000, 42, TCP_SYN | TCP_ACK, 5);
	pad(&f, 7, 0xa5);
	ip6_fix(&f, ip);
	w = want6(6, 14);
	w.l4_off = 14 + 40 + 8 + 24 + 8;
	set_tcp(&w, 2000, 3000, 42, TCP_SYN | TCP_ACK);
	w.payload_len = 7;
	w.ip_len = 40 + 40 + 27;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv6 hbh/routing/dstopts/tcp", &f, &w);
	expect_cap("ipv6 ext cut", &f, 14 + 40 + 8 + 20, WT_WIRELEN_UNKNOWN, WT_DROP_IPV6_EXT_TRUNC,
	           NULL);
	expect_cap("ipv6 ext nh byte cut", &f, 14 + 40 + 1, WT_WIRELEN_UNKNOWN,
	           WT_DROP_IPV6_EXT_TRUNC, NULL);
	set16(&f, 18, 8 + 20);
	expect_drop("ipv6 ext beyond payload length", &f, WT_DROP_IPV6_EXT_TRUNC);

	eth(&f, 0x86dd);
	ip = ip6(&f, 51);
	ah6(&f, 17, 4);
	uint32_t u = udp(&f, 500, 500);
	pad(&f, 9, 0xa5);
	udp_fix(&f, u);
	ip6_fix(&f, ip);
	w = want6(17, 14);
	w.l4_off = 14 + 40 + 24;
	w.sport = 500;
	w.dport = 500;
	w.payload_len = 9;
	w.ip_len = 40 + 24 + 17;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv6 ah/udp", &f, &w);

	eth(&f, 0x86dd);
	ip = ip6(&f, 135);
	ext6(&f, 139, 1);
	ext6(&f, 140, 0);
	ext6(&f, 253, 0);
	ext6(&f, 59, 0);
	pad(&f, 5, 0xa5);
	ip6_fix(&f, ip);
	w = want6(59, 14);
	w.l4_off = 14 + 40 + 8 + 16 + 8 + 8;
	w.payload_len = 5;
	w.ip_len = 40 + 45;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv6 mobility/hip/shim6/exp/no-next", &f, &w);

	/* Hop-by-hop after another header: a loop in the making. */
	eth(&f, 0x86dd);
	ip = ip6(&f, 60);
	ext6(&f, 0, 0);
	ext6(&f, 60, 0);
	ext6(&f, 0, 0);
	ext6(&f, 6, 0);
	tcp(&f, 1, 2, 3, 0, 5);
	ip6_fix(&f, ip);
	expect_drop("ipv6 hbh not first", &f, WT_DROP_IPV6_EXT_CHAIN);

	/* Eight headers are followed, a ninth is too many. */
	for (unsigned int k = 8; k <= 9; k++) {
		eth(&f, 0x86dd);
		ip = ip6(&f, 60);
		for (unsigned int i = 1; i < k; i++)
			ext6(&f, 60, 0);
		ext6(&f, 17, 0);
		u = udp(&f, 7, 7);
		udp_fix(&f, u);
		ip6_fix(&f, ip);
		if (k == 8) {
			w = want6(17, 14);
			w.l4_off = (uint16_t)(14 + 40 + 8 * k);
			w.sport = 7;
			w.dport = 7;
			w.ip_len = 40 + 8 * k + 8;
			w.notes = WT_NOTE(IP_OPTIONS);
			expect("ipv6 8 ext headers", &f, &w);
		} else {
			expect_drop("ipv6 9 ext headers", &f, WT_DROP_IPV6_EXT_CHAIN);
		}
	}

	eth(&f, 0x86dd);
	ip = ip6(&f, 6);
	tcp(&f, 1, 2, 3, 0, 5);
	ip6_fix(&f, ip);
	expect_cap("ipv6 39 bytes", &f, 14 + 39, WT_WIRELEN_UNKNOWN, WT_DROP_L3_TRUNC, NULL);
	f.b[14] = 0x45;
	expect_drop("ipv6 version 4", &f, WT_DROP_IP_BAD_VERSION);
}

static void
jumbo_hbh(struct fb *f, unsigned int nh, uint32_t jlen)
{
	put8(f, nh);
	put8(f, 0);
	put8(f, 0xc2);
	put8(f, 4);
	put32(f, jlen);
}

static void
test_ipv6_jumbo(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x86dd);
	ip6(&f, 0);
	jumbo_hbh(&f, 17, 70000);
	uint32_t u = udp(&f, 4000, 4001); /* length 0: the IP payload */
	pad(&f, 100, 0xa5);
	(void)u;
	w = want6(17, 14);
	w.l4_off = 14 + 48;
	w.sport = 4000;
	w.dport = 4001;
	w.payload_len = 70000 - 8 - 8;
	w.ip_len = 70040;
	w.notes = WT_NOTE(IP_OPTIONS) | WT_NOTE(TRUNCATED);
	expect("ipv6 jumbogram udp", &f, &w);
	expect_cap("ipv6 jumbogram beyond the wire", &f, f.n, f.n, WT_DROP_IP_LEN_EXCEEDS_FRAME,
	           NULL);

	eth(&f, 0x86dd);
	ip6(&f, 0);
	jumbo_hbh(&f, 17, 65535);
	udp(&f, 4000, 4001);
	expect_drop("ipv6 jumbo length 65535", &f, WT_DROP_IP_BAD_LEN);

	/* Payload length 0 and no Jumbo option: the header is outside the payload. */
	eth(&f, 0x86dd);
	ip6(&f, 0);
	ext6(&f, 17, 0);
	udp(&f, 4000, 4001);
	expect_drop("ipv6 plen 0 without jumbo", &f, WT_DROP_IPV6_EXT_TRUNC);

	/* UDP length 0 outside a jumbogram is bad. */
	eth(&f, 0x86dd);
	uint32_t ip = ip6(&f, 17);
	udp(&f, 4000, 4001);
	pad(&f, 4, 0);
	ip6_fix(&f, ip);
	expect_drop("udp length 0", &f, WT_DROP_UDP_BAD_LEN);
}

/* ---- fragments ----------------------------------------------------------- */

static void
test_frag_ipv4(void)
{
	struct fb f;
	struct wt_pkt w;

	frame_tcp4(&f, 100);
	ip4_frag(&f, 14, 1, 0, 0xbeef);
	w = want4(6, 14);
	set_tcp(&w, 40000, 80, 1000, TCP_SYN);
	w.frag = WT_FRAG_FIRST;
	w.frag_id = 0xbeef;
	w.payload_len = 100;
	w.ip_len = 140;
	w.notes = WT_NOTE(FRAG_FIRST);
	expect("ipv4 first fragment tcp", &f, &w);
	CHECK(!fast_only(&f));

	frame_udp4(&f, 3000, 3001, 64);
	set16(&f, 38, 1000); /* the whole datagram's UDP length */
	ip4_frag(&f, 14, 1, 0, 7);
	w = want4(17, 14);
	w.sport = 3000;
	w.dport = 3001;
	w.frag = WT_FRAG_FIRST;
	w.frag_id = 7;
	w.payload_len = 64;
	w.ip_len = 92;
	w.notes = WT_NOTE(FRAG_FIRST);
	expect("ipv4 first fragment udp", &f, &w);

	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6);
	pad(&f, 16, 0);
	ip4_fix(&f, ip);
	ip4_frag(&f, ip, 1, 0, 1);
	pad(&f, 10, 0);
	expect_drop("ipv4 first fragment of 16 bytes (tcp)", &f, WT_DROP_FRAG_BAD);

	frame_tcp4(&f, 20);
	f.b[46] = 0xf0;
	ip4_frag(&f, 14, 1, 0, 1);
	expect_drop("ipv4 first fragment shorter than doff", &f, WT_DROP_FRAG_BAD);

	eth(&f, 0x0800);
	ip = ip4(&f, 17);
	pad(&f, 4, 0);
	ip4_fix(&f, ip);
	ip4_frag(&f, ip, 1, 0, 1);
	pad(&f, 22, 0);
	expect_drop("ipv4 first fragment of 4 bytes (udp)", &f, WT_DROP_FRAG_BAD);

	frame_tcp4(&f, 80); /* 100 bytes of data from offset 1480 */
	ip4_frag(&f, 14, 0, 185, 0xbeef);
	w = want4(6, 14);
	w.frag = WT_FRAG_LATER;
	w.frag_id = 0xbeef;
	w.payload_len = 100;
	w.ip_len = 120;
	expect("ipv4 later fragment", &f, &w);
	CHECK(!fast_only(&f));
	expect_cap("ipv4 later fragment, header only", &f, 34, WT_WIRELEN_UNKNOWN, WT_DROP_NONE,
	           NULL);

	ip4_frag(&f, 14, 1, 8180, 1); /* 65440 + 100 > 65535 */
	expect_drop("ipv4 fragment past 65535", &f, WT_DROP_FRAG_BAD);
	ip4_frag(&f, 14, 1, 8179, 1); /* 65432 + 100 = 65532 */
	expect_cap("ipv4 fragment at the limit", &f, f.n, WT_WIRELEN_UNKNOWN, WT_DROP_NONE, NULL);
}

static void
test_frag_ipv6(void)
{
	struct fb f;
	struct wt_pkt w;

	eth(&f, 0x86dd);
	uint32_t ip = ip6(&f, 44);
	frag6(&f, 17, 0, 1, 0xdeadbeef);
	uint32_t u = udp(&f, 6000, 6001);
	set16(&f, u + 4, 3000);
	pad(&f, 1224, 0xa5);
	ip6_fix(&f, ip);
	w = want6(17, 14);
	w.l4_off = 14 + 48;
	w.sport = 6000;
	w.dport = 6001;
	w.frag = WT_FRAG_FIRST;
	w.frag_id = 0xdeadbeef;
	w.payload_len = 1224;
	w.ip_len = 40 + 8 + 8 + 1224;
	w.notes = WT_NOTE(IP_OPTIONS) | WT_NOTE(FRAG_FIRST);
	expect("ipv6 first fragment udp", &f, &w);

	eth(&f, 0x86dd);
	ip = ip6(&f, 60);
	ext6(&f, 44, 0);
	frag6(&f, 6, 1232, 1, 0x01020304);
	pad(&f, 200, 0xa5);
	ip6_fix(&f, ip);
	w = want6(6, 14);
	w.l4_off = 14 + 40 + 8 + 8;
	w.frag = WT_FRAG_LATER;
	w.frag_id = 0x01020304;
	w.payload_len = 200;
	w.ip_len = 40 + 16 + 200;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv6 later fragment", &f, &w);

	eth(&f, 0x86dd);
	ip = ip6(&f, 44);
	frag6(&f, 6, 65528, 0, 9);
	pad(&f, 16, 0);
	ip6_fix(&f, ip);
	expect_drop("ipv6 fragment past 65535", &f, WT_DROP_FRAG_BAD);

	/* Atomic fragment (offset 0, M 0): not a fragment (RFC 6946). */
	eth(&f, 0x86dd);
	ip = ip6(&f, 44);
	frag6(&f, 6, 0, 0, 77);
	tcp(&f, 80, 1025, 5, TCP_ACK, 5);
	ip6_fix(&f, ip);
	w = want6(6, 14);
	w.l4_off = 14 + 48;
	set_tcp(&w, 80, 1025, 5, TCP_ACK);
	w.ip_len = 40 + 28;
	w.notes = WT_NOTE(IP_OPTIONS);
	expect("ipv6 atomic fragment", &f, &w);

	eth(&f, 0x86dd);
	ip = ip6(&f, 44);
	frag6(&f, 44, 0, 1, 77);
	frag6(&f, 6, 0, 1, 78);
	tcp(&f, 80, 1025, 5, TCP_ACK, 5);
	ip6_fix(&f, ip);
	expect_drop("ipv6 two fragment headers", &f, WT_DROP_FRAG_BAD);

	eth(&f, 0x86dd);
	ip = ip6(&f, 44);
	frag6(&f, 6, 0, 1, 77);
	pad(&f, 8, 0);
	ip6_fix(&f, ip);
	expect_drop("ipv6 first fragment too short for tcp", &f, WT_DROP_FRAG_BAD);
}

/* ---- tunnels ------------------------------------------------------------- */

static void
expect_tunnel(const char *name, const struct fb *f, uint32_t caplen, enum wt_tunnel t,
              unsigned int inner)
{
	struct wt_pkt got;
	enum wt_drop r =
	        parse_both(guard_place(&G, f->b, caplen), caplen, WT_WIRELEN_UNKNOWN, &got);

	seen[r]++;
	if (r != WT_DROP_NONE) {
		fail(name, "drop", r, WT_DROP_NONE);
		return;
	}
	if (got.tunnel != t)
		fail(name, "tunnel", got.tunnel, t);
	if (got.inner_off != inner)
		fail(name, "inner_off", got.inner_off, inner);
	if (!(got.notes & WT_NOTE(TUNNEL_OUTER)))
		fail(name, "tunnel_outer note", got.notes, WT_NOTE(TUNNEL_OUTER));
	wt_test_checks += 3;
	if (caplen == f->n && !(got.notes & WT_NOTE(TRUNCATED)) && nsamples < MAX_SAMPLES) {
		sample_pkt[nsamples] = got;
		samples[nsamples++] = *f;
	}
}

static void
gre_frame(struct fb *f, unsigned int flags, unsigned int extra_words)
{
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 47);
	put16(f, flags);
	put16(f, 0x0800);
	pad(f, extra_words * 4, 0x11);
	uint32_t in = ip4(f, 17);
	pad(f, 8, 0);
	ip4_fix(f, in);
	ip4_fix(f, ip);
}

/* UDP tunnel frame: @hdr tunnel header bytes after UDP, then an inner packet. */
static void
udp_tunnel_frame(struct fb *f, unsigned int sport, unsigned int dport, const uint8_t *hdr,
                 unsigned int hlen, unsigned int inner_first)
{
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 17);
	uint32_t u = udp(f, sport, dport);
	putn(f, hdr, hlen);
	put8(f, inner_first);
	pad(f, 39, 0);
	udp_fix(f, u);
	ip4_fix(f, ip);
}

static void
test_tunnels(void)
{
	struct fb f;
	struct wt_pkt w;

	gre_frame(&f, 0x0000, 0);
	w = want4(47, 14);
	w.tunnel = WT_TUNNEL_GRE;
	w.inner_off = 38;
	w.payload_len = 4 + 28;
	w.ip_len = 20 + 32;
	w.notes = WT_NOTE(TUNNEL_OUTER);
	expect("gre v0", &f, &w);
	gre_frame(&f, 0xb000, 3); /* C, K, S */
	expect_tunnel("gre v0 csum/key/seq", &f, f.n, WT_TUNNEL_GRE, 50);
	expect_tunnel("gre header cut", &f, 34 + 15, WT_TUNNEL_GRE, 0);
	gre_frame(&f, 0x3081, 3); /* v1: K, S, A */
	expect_tunnel("gre v1 seq/ack", &f, f.n, WT_TUNNEL_GRE, 50);
	gre_frame(&f, 0x2001, 1); /* v1: K only */
	expect_tunnel("gre v1", &f, f.n, WT_TUNNEL_GRE, 42);
	gre_frame(&f, 0x4000, 1); /* v0 routing: not decapsulated */
	expect_tunnel("gre routing", &f, f.n, WT_TUNNEL_GRE, 0);
	gre_frame(&f, 0x0001, 1); /* v1 without K */
	expect_tunnel("gre v1 without key", &f, f.n, WT_TUNNEL_GRE, 0);
	gre_frame(&f, 0x0002, 0);
	expect_tunnel("gre v2", &f, f.n, WT_TUNNEL_GRE, 0);

	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 4);
	uint32_t in = ip4(&f, 1);
	pad(&f, 8, 0);
	ip4_fix(&f, in);
	ip4_fix(&f, ip);
	expect_tunnel("ipip", &f, f.n, WT_TUNNEL_IPIP, 34);
	eth(&f, 0x86dd);
	ip = ip6(&f, 41);
	in = ip6(&f, 59);
	ip6_fix(&f, in);
	ip6_fix(&f, ip);
	expect_tunnel("ip6ip6", &f, f.n, WT_TUNNEL_IPIP, 54);
	/* An empty IP-in-IP payload has no inner packet. */
	eth(&f, 0x0800);
	ip = ip4(&f, 41);
	ip4_fix(&f, ip);
	pad(&f, 26, 0);
	expect_tunnel("ipip empty", &f, f.n, WT_TUNNEL_IPIP, 0);

	static const uint8_t vxlan[8] = {0x08, 0, 0, 0, 0, 0, 0x64, 0};
	udp_tunnel_frame(&f, 51000, 4789, vxlan, 8, 0x02);
	w = want4(17, 14);
	w.sport = 51000;
	w.dport = 4789;
	w.tunnel = WT_TUNNEL_VXLAN;
	w.inner_off = 50;
	w.payload_len = 8 + 40;
	w.ip_len = 20 + 8 + 48;
	w.notes = WT_NOTE(TUNNEL_OUTER);
	expect("vxlan", &f, &w);
	udp_tunnel_frame(&f, 4789, 51000, vxlan, 8, 0x02);
	expect_tunnel("vxlan by source port", &f, f.n, WT_TUNNEL_VXLAN, 50);
	udp_tunnel_frame(&f, 51000, 4789, vxlan, 8, 0x02);
	expect_tunnel("vxlan header cut", &f, 34 + 8 + 7, WT_TUNNEL_VXLAN, 0);
	set16(&f, 38, 16); /* UDP length: the VXLAN header and nothing else */
	expect_tunnel("vxlan without inner frame", &f, f.n, WT_TUNNEL_VXLAN, 0);

	static const uint8_t geneve[16] = {0x02, 0,    0x65, 0x58, 0, 0, 1, 0,
	                                   0x01, 0x02, 0x80, 0x01, 0, 0, 0, 0};
	udp_tunnel_frame(&f, 51000, 6081, geneve, 16, 0x02);
	expect_tunnel("geneve with options", &f, f.n, WT_TUNNEL_GENEVE, 58);
	expect_tunnel("geneve options cut", &f, 34 + 8 + 12, WT_TUNNEL_GENEVE, 0);
	udp_tunnel_frame(&f, 51000, 6081, geneve, 8, 0x02);
	f.b[42] = 0x40; /* version 1 */
	expect_tunnel("geneve version 1", &f, f.n, WT_TUNNEL_GENEVE, 0);

	static const uint8_t gtp[8] = {0x30, 0xff, 0, 40, 0, 0, 0, 1};
	udp_tunnel_frame(&f, 2152, 2152, gtp, 8, 0x45);
	expect_tunnel("gtp-u", &f, f.n, WT_TUNNEL_GTPU, 50);
	static const uint8_t gtp_s[12] = {0x32, 0xff, 0, 44, 0, 0, 0, 1, 0, 5, 0, 0};
	udp_tunnel_frame(&f, 40000, 2152, gtp_s, 12, 0x45);
	expect_tunnel("gtp-u with sequence", &f, f.n, WT_TUNNEL_GTPU, 54);
	static const uint8_t gtp_e[20] = {0x34, 0xff, 0, 52,   0,    0,    0, 1, 0, 0,
	                                  0,    0x85, 1, 0x10, 0x09, 0x40, 2, 0, 0, 0};
	/* one PDU session container (4 bytes, next 0x40), one 8-byte header */
	uint8_t gtp_e2[24];
	memcpy(gtp_e2, gtp_e, 20);
	memset(gtp_e2 + 20, 0, 4);
	udp_tunnel_frame(&f, 40000, 2152, gtp_e2, 24, 0x45);
	expect_tunnel("gtp-u with extension headers", &f, f.n, WT_TUNNEL_GTPU, 66);
	udp_tunnel_frame(&f, 40000, 2152, gtp_e2, 24, 0x45);
	f.b[54] = 0; /* extension length 0 */
	expect_tunnel("gtp-u bad extension", &f, f.n, WT_TUNNEL_GTPU, 0);
	static const uint8_t gtp_echo[12] = {0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0};
	udp_tunnel_frame(&f, 40000, 2152, gtp_echo, 12, 0x45);
	expect_tunnel("gtp-u echo", &f, f.n, WT_TUNNEL_GTPU, 0);

	udp_tunnel_frame(&f, 3544, 40000, NULL, 0, 0x60);
	expect_tunnel("teredo", &f, f.n, WT_TUNNEL_TEREDO, 42);
	static const uint8_t origin[8] = {0, 0, 0xf2, 0x27, 0xbf, 0xff, 0xff, 0xfe};
	udp_tunnel_frame(&f, 40000, 3544, origin, 8, 0x60);
	expect_tunnel("teredo origin", &f, f.n, WT_TUNNEL_TEREDO, 50);
	uint8_t auth[23] = {0, 1, 2, 0, 0xaa, 0xbb}; /* id 2 bytes, no auth */
	memcpy(auth + 15, origin, 8);
	udp_tunnel_frame(&f, 40000, 3544, auth, 23, 0x60);
	expect_tunnel("teredo auth + origin", &f, f.n, WT_TUNNEL_TEREDO, 65);
	udp_tunnel_frame(&f, 40000, 3544, NULL, 0, 0x45);
	expect_tunnel("teredo, not ipv6", &f, f.n, WT_TUNNEL_TEREDO, 0);

	/* A first fragment of a tunnel keeps its inner offset (wt_decap() may
	 * take the inner headers from it). */
	udp_tunnel_frame(&f, 51000, 4789, vxlan, 8, 0x02);
	ip4_frag(&f, 14, 1, 0, 3);
	expect_tunnel("vxlan first fragment", &f, f.n, WT_TUNNEL_VXLAN, 50);
}

/* Every reason the parser can return was produced by some frame above. */
static void
test_all_drop_reasons_seen(void)
{
	for (unsigned int r = 1; r < WT_DROP_MAX; r++) {
		if (r == WT_DROP_FRAG_UNATTRIBUTED || r == WT_DROP_TUNNEL_FRAG_LATER)
			continue; /* the fragment table's, see test_frag.c, test_decap.c */
		wt_test_checks++;
		if (seen[r] == 0) {
			wt_test_failures++;
			fprintf(stderr, "no test frame produced %s\n", wt_drop_name(r));
		}
	}
	CHECK_EQ_U64(seen[WT_DROP_FRAG_UNATTRIBUTED], 0);
	CHECK(nsamples >= 40);
	printf("  %u valid sample frames\n", nsamples);
}

/* With WT_WRITE_CORPUS=DIR, write the samples as a seed corpus for
 * tests/fuzz/fuzz_parse (first byte 1: wire length = captured length). */
static void
test_write_corpus(void)
{
	const char *dir = getenv("WT_WRITE_CORPUS");
	char path[4096];

	if (dir == NULL)
		return;
	for (unsigned int s = 0; s < nsamples; s++) {
		snprintf(path, sizeof(path), "%s/sample%03u", dir, s);
		FILE *fp = fopen(path, "wb");
		CHECK(fp != NULL);
		if (fp == NULL)
			return;
		fputc(1, fp);
		CHECK_EQ_U64(fwrite(samples[s].b, 1, samples[s].n, fp), samples[s].n);
		fclose(fp);
	}
	printf("  %u samples written to %s\n", nsamples, dir);
}

/* ---- truncation sweep ---------------------------------------------------- */

static bool
is_cut_reason(enum wt_drop r)
{
	return r == WT_DROP_L2_TRUNC || r == WT_DROP_L3_TRUNC || r == WT_DROP_IPV6_EXT_TRUNC ||
	       r == WT_DROP_L4_TRUNC;
}

/* A snaplen cut never changes what is accounted, only whether it is. */
static void
check_cut(unsigned int s, uint32_t caplen, const struct wt_pkt *got)
{
	struct wt_pkt ref = sample_pkt[s], g = *got;
	bool cut = (uint64_t)g.l3_off + g.ip_len > caplen;

	wt_test_checks++;
	if (cut != !!(g.notes & WT_NOTE(TRUNCATED)) ||
	    (g.inner_off != 0 && g.inner_off != ref.inner_off)) {
		wt_test_failures++;
		fprintf(stderr, "sample %u caplen %u: truncated note or inner_off wrong\n", s,
		        caplen);
	}
	g.notes &= (uint16_t)~WT_NOTE(TRUNCATED);
	g.inner_off = ref.inner_off;
	wt_test_checks++;
	if (memcmp(&g, &ref, WT_PKT_PARSED_LEN) != 0) {
		wt_test_failures++;
		fprintf(stderr, "sample %u caplen %u: accounted differently from the whole frame\n",
		        s, caplen);
	}
}

static void
test_truncation_sweep(void)
{
	unsigned long parses = 0, accounted = 0;

	for (unsigned int s = 0; s < nsamples; s++) {
		const struct fb *f = &samples[s];
		for (uint32_t caplen = 0; caplen <= f->n; caplen++) {
			struct wt_pkt a, b;
			const uint8_t *p = guard_place(&G, f->b, caplen);
			enum wt_drop ra = parse_both(p, caplen, WT_WIRELEN_UNKNOWN, &a);
			enum wt_drop rb = parse_both(p, caplen, f->n, &b);
			parses += 2;
			wt_test_checks += 2;
			if (ra != rb ||
			    (ra == WT_DROP_NONE && memcmp(&a, &b, WT_PKT_PARSED_LEN) != 0)) {
				wt_test_failures++;
				fprintf(stderr, "sample %u caplen %u: wirelen changes the result\n",
				        s, caplen);
			}
			if (caplen < 14 && ra != WT_DROP_L2_TRUNC) {
				wt_test_failures++;
				fprintf(stderr, "sample %u caplen %u: %s\n", s, caplen,
				        wt_drop_name(ra));
			}
			if (ra == WT_DROP_NONE) {
				accounted++;
				check_cut(s, caplen, &a);
			} else if (!is_cut_reason(ra)) {
				wt_test_failures++;
				fprintf(stderr, "sample %u caplen %u: cut frame gives %s\n", s,
				        caplen, wt_drop_name(ra));
			}
		}
		CHECK_EQ_U64(wt_parse(guard_place(&G, f->b, f->n), f->n, f->n, &(struct wt_pkt){0}),
		             WT_DROP_NONE);
	}
	printf("  %lu parses, %lu accounted\n", parses, accounted);
}

/* ---- mutation ------------------------------------------------------------ */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t
rng(void)
{
	/* xorshift64*: fixed seed, the same frames on every run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned int invariant_failures;

static void
inv(bool ok, const char *what, uint64_t iter)
{
	wt_test_checks++;
	if (!ok) {
		wt_test_failures++;
		if (invariant_failures++ < 20)
			fprintf(stderr, "mutation %" PRIu64 ": invariant failed: %s\n", iter, what);
	}
}

static void
check_invariants(const struct wt_pkt *p, uint32_t caplen, uint32_t wirelen, uint64_t it)
{
	static const uint8_t zero[12];
	uint64_t ip_end = (uint64_t)p->l3_off + p->ip_len; /* a jumbogram may pass 2^32 */
	bool truncated = p->notes & WT_NOTE(TRUNCATED);

	inv(p->family == 4 || p->family == 6, "family 4 or 6", it);
	if (p->family == 4)
		inv(memcmp(p->src + 4, zero, 12) == 0 && memcmp(p->dst + 4, zero, 12) == 0,
		    "ipv4 address bytes 4..15 zero", it);
	inv(p->payload_len <= p->ip_len, "payload_len <= ip_len", it);
	inv(p->l3_off >= 14 && p->l3_off < p->l4_off, "14 <= l3_off < l4_off", it);
	inv(p->l4_off <= ip_end, "l4_off within the ip length", it);
	inv(p->l3_off + (p->family == 4 ? 20u : 40u) <= caplen, "ip header captured", it);
	inv(truncated == (ip_end > caplen), "truncated iff the ip packet is cut", it);
	if (!truncated)
		inv(p->l4_off <= caplen, "l4_off <= caplen", it);
	if (wirelen != WT_WIRELEN_UNKNOWN)
		inv(ip_end <= WT_MAX(wirelen, caplen), "ip length within the wire frame", it);
	inv(p->vlan <= 0x0fff, "vlan 12 bits", it);
	inv(p->frag <= WT_FRAG_LATER, "frag value", it);
	inv((p->frag == WT_FRAG_FIRST) == !!(p->notes & WT_NOTE(FRAG_FIRST)), "frag_first note",
	    it);
	inv(!(p->notes & WT_NOTE(FRAG_ATTRIBUTED)) && p->notes < (1u << WT_NOTE_MAX),
	    "notes the parser may set", it);
	if (p->frag == WT_FRAG_NONE)
		inv(p->frag_id == 0, "frag_id 0 for non-fragments", it);
	bool ports = (p->proto == 6 || p->proto == 17) && p->frag != WT_FRAG_LATER;
	if (!ports)
		inv(p->sport == 0 && p->dport == 0, "ports only for tcp/udp", it);
	inv(p->has_seq == (p->proto == 6 && p->frag != WT_FRAG_LATER), "has_seq iff tcp", it);
	if (!p->has_seq)
		inv(p->tcp_flags == 0 && p->seq == 0, "flags/seq only for tcp", it);
	if (ports)
		inv(p->l4_off + (p->proto == 6 ? 20u : 8u) <= caplen, "transport header captured",
		    it);
	if (p->proto == 6 && p->frag == WT_FRAG_NONE)
		inv(p->payload_len + 20 <= ip_end - p->l4_off, "tcp payload after the header", it);
	inv((p->tunnel != WT_TUNNEL_NONE) == !!(p->notes & WT_NOTE(TUNNEL_OUTER)), "tunnel note",
	    it);
	inv(p->tunnel <= WT_TUNNEL_TEREDO, "tunnel value", it);
	if (p->inner_off != 0)
		inv(p->tunnel != WT_TUNNEL_NONE && p->frag != WT_FRAG_LATER &&
		            p->inner_off >= p->l4_off && p->inner_off < ip_end &&
		            p->inner_off <= caplen,
		    "inner_off inside the packet", it);
}

static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x11, 0x21,
                                      0x2b, 0x2c, 0x32, 0x33, 0x3b, 0x3c, 0x40, 0x44, 0x45,
                                      0x46, 0x4f, 0x57, 0x60, 0x81, 0x86, 0x87, 0x88, 0x89,
                                      0x8e, 0x91, 0xa8, 0xc2, 0xdd, 0xf0, 0xff};

static void
mutate(struct fb *f)
{
	unsigned int k = 1 + rng() % 4;

	for (unsigned int i = 0; i < k && f->n > 0; i++) {
		uint64_t r = rng();
		/* Most damage goes to the headers (first 128 bytes). */
		uint32_t at = (uint32_t)((r >> 8) % (r & 1 ? f->n : WT_MIN(f->n, 128u)));
		switch ((r >> 4) % 6) {
		case 0:
			f->b[at] = (uint8_t)(r >> 40);
			break;
		case 1:
			f->b[at] ^= (uint8_t)(1u << ((r >> 40) & 7));
			break;
		case 2:
		case 3:
			f->b[at] = interesting[(r >> 40) % sizeof(interesting)];
			break;
		case 4: /* a 16-bit length or type field */
			if (at + 1 < f->n)
				set16(f, at,
				      (r >> 40) & 1 ? (unsigned int)(r >> 44) & 0xffff
				                    : (unsigned int)(r >> 44) & 0x3f);
			break;
		default: /* grow with random bytes */
			while (f->n < FB_MAX && (rng() & 7))
				f->b[f->n++] = (uint8_t)rng();
			break;
		}
	}
}

static void
test_mutations(void)
{
	static struct fb f;
	unsigned long accounted = 0, by_reason[WT_DROP_MAX] = {0};
	const uint64_t iterations = 400000;

	for (uint64_t it = 0; it < iterations && nsamples > 0; it++) {
		f = samples[rng() % nsamples];
		mutate(&f);
		uint64_t r = rng();
		uint32_t caplen = r & 1 ? f.n : (uint32_t)((r >> 1) % (f.n + 1));
		uint32_t wirelen;
		switch ((r >> 32) % 4) {
		case 0:
			wirelen = WT_WIRELEN_UNKNOWN;
			break;
		case 1:
			wirelen = f.n;
			break;
		case 2:
			wirelen = caplen + (uint32_t)((r >> 40) % 2000);
			break;
		default:
			wirelen = (uint32_t)((r >> 40) % (caplen + 1)); /* below caplen */
			break;
		}
		struct wt_pkt p;
		enum wt_drop d = parse_both(guard_place(&G, f.b, caplen), caplen, wirelen, &p);
		inv(d < WT_DROP_MAX && d != WT_DROP_FRAG_UNATTRIBUTED, "reason from the parser",
		    it);
		if (d < WT_DROP_MAX)
			by_reason[d]++;
		if (d == WT_DROP_NONE) {
			accounted++;
			check_invariants(&p, caplen, wirelen, it);
		}
	}
	printf("  %" PRIu64 " mutated frames, %lu accounted; drops:", iterations, accounted);
	for (unsigned int r = 1; r < WT_DROP_MAX; r++)
		if (by_reason[r])
			printf(" %s=%lu", wt_drop_name(r), by_reason[r]);
	printf("\n");
	CHECK(accounted > iterations / 10);
}

static void
test_setup(void)
{
	CHECK(guard_init(&G) == 0);
}

WT_TEST_MAIN(WT_TEST(test_setup), WT_TEST(test_eth_ipv4_tcp), WT_TEST(test_vlan_ipv4_udp),
             WT_TEST(test_qinq_and_9100), WT_TEST(test_fabricpath), WT_TEST(test_mpls),
             WT_TEST(test_pppoe), WT_TEST(test_not_ip), WT_TEST(test_l2_trunc_and_depth),
             WT_TEST(test_ipv4_errors), WT_TEST(test_snaplen_vs_bogus),
             WT_TEST(test_tcp_udp_errors), WT_TEST(test_portless), WT_TEST(test_ipv6_ext),
             WT_TEST(test_ipv6_jumbo), WT_TEST(test_frag_ipv4), WT_TEST(test_frag_ipv6),
             WT_TEST(test_tunnels), WT_TEST(test_all_drop_reasons_seen), WT_TEST(test_write_corpus),
             WT_TEST(test_truncation_sweep), WT_TEST(test_mutations))
