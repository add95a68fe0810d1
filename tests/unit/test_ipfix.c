/* SPDX-License-Identifier: BSD-3-Clause */
/* test_ipfix.c: IPFIX encoder and exporter against an independent template-driven decoder. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipfix_decode.h"
#include "wt_ipfix.h"
#include "wt_ipfix_export.h"
#include "wt_test.h"

/* Element numbers written out here, from the IANA registry and RFC 5103,
 * not taken from wt_ipfix.h: a wrong number there fails these tests. */
#define REV 29305u
#define PEN 32473u /* RFC 5612 documentation PEN, docs/IPFIX.md */

static struct wt_callrec
rec_v4_tcp(uint64_t i)
{
	struct wt_callrec r;
	memset(&r, 0, sizeof(r));
	r.seq = 1000 + i;
	r.call_id[0] = 0x0123456789abcdefull;
	r.call_id[1] = 0x0100000000000000ull | i;
	r.start_ns = 1700000000123456789ull + i;
	r.end_ns = 1700000002987654321ull + i;
	inet_pton(AF_INET, "10.0.0.2", r.addr_a);
	inet_pton(AF_INET, "10.0.0.1", r.addr_b);
	r.port_a = 80;
	r.port_b = (uint16_t)(40000 + i);
	r.proto = WT_IPPROTO_TCP;
	r.family = 4;
	r.origin = WT_ORIGIN_B; /* b (10.0.0.1:4xxxx) sent the SYN */
	r.end_reason = WT_END_IDLE;
	r.flags[0] = WT_TCP_SYN | WT_TCP_ACK | WT_TCP_PSH;
	r.flags[1] = WT_TCP_SYN | WT_TCP_ACK;
	r.seq_valid = WT_SEQ_VALID_A | WT_SEQ_VALID_B;
	memcpy(r.mac_a, "\x02\x00\x00\x00\x00\x0a", 6);
	memcpy(r.mac_b, "\x02\x00\x00\x00\x00\x0b", 6);
	r.vlan = 42;
	r.d[0] = (struct wt_dirstats){.pkts = 5 + i,
	                              .bytes = 100000 + i,
	                              .ip_bytes = 5000000000ull + i,
	                              .first_seq = 100,
	                              .last_seq = 1101};
	r.d[1] = (struct wt_dirstats){.pkts = 4,
	                              .bytes = 77,
	                              .ip_bytes = 237,
	                              .first_seq = 4000000000u,
	                              .last_seq = 4000000078u};
	/* record version 2: a's stream (the responder) acknowledged by b; b's not */
	r.t[0] = (struct wt_tcpstats){.seq_bytes = 100100 + i,
	                              .acked_bytes = 99000 + i,
	                              .retx_bytes = 900,
	                              .missed_bytes = 1000};
	r.t[1] = (struct wt_tcpstats){.seq_bytes = 77, .retx_bytes = 0, .missed_bytes = 0};
	r.tcp_valid = WT_TCP_VALID | WT_TCP_ACKED_A;
	return r;
}

static struct wt_callrec
rec_v6_udp(void)
{
	struct wt_callrec r = rec_v4_tcp(3);
	memset(r.addr_a, 0, 16);
	memset(r.addr_b, 0, 16);
	inet_pton(AF_INET6, "2001:db8::2", r.addr_a);
	inet_pton(AF_INET6, "2001:db8::1", r.addr_b);
	r.family = 6;
	r.proto = WT_IPPROTO_UDP;
	r.origin = WT_ORIGIN_UNKNOWN;
	r.flags[0] = r.flags[1] = 0;
	r.seq_valid = 0;
	r.vlan = 0;
	r.end_reason = WT_END_SHUTDOWN;
	return r;
}

/* A GTP-U in VXLAN record (b originated): VNI 5000 at level 0, the TEIDs of
 * both directions at level 1, outer addresses of both sides. */
static struct wt_callrec
rec_tunnel(void)
{
	struct wt_callrec r = rec_v4_tcp(7);
	r.tun_depth = 2;
	r.tun_type[0] = WT_TUNNEL_VXLAN;
	r.tun_type[1] = WT_TUNNEL_GTPU;
	r.tun_idmask = 1 | 2 | (1 << 5);
	r.tun_id[0] = 5000;
	r.tun_id[1] = 0x11111111; /* a's packets */
	r.tun_teid_b = 0x22222222;
	r.outer_family = 6;
	r.tun_flags = WT_TUN_OUTER_A | WT_TUN_OUTER_B;
	inet_pton(AF_INET6, "2001:db8:ff::a", r.outer_a);
	inet_pton(AF_INET6, "2001:db8:ff::b", r.outer_b);
	return r;
}

/* What the decoded record must hold for @r, element by element. */
static void
check_record(const struct dec_rec *d, const struct wt_callrec *r)
{
	int f = r->origin == WT_ORIGIN_B ? 1 : 0; /* forward = initiator, else a */
	int b = 1 - f;
	const uint8_t *addr[2] = {r->addr_a, r->addr_b};
	const uint16_t port[2] = {r->port_a, r->port_b};
	const uint8_t *mac[2] = {r->mac_a, r->mac_b};
	uint16_t len = 0;
	const uint8_t *v;
	int tcp = r->proto == WT_IPPROTO_TCP;

	CHECK_EQ_U64(dec_num(d, 0, 152, 0), r->start_ns / 1000000);
	CHECK_EQ_U64(dec_num(d, 0, 153, 0), r->end_ns / 1000000);
	v = dec_get(d, 0, r->family == 6 ? 27 : 8, &len);
	CHECK(v && len == (r->family == 6 ? 16 : 4) && memcmp(v, addr[f], len) == 0);
	v = dec_get(d, 0, r->family == 6 ? 28 : 12, &len);
	CHECK(v && len == (r->family == 6 ? 16 : 4) && memcmp(v, addr[b], len) == 0);
	CHECK(dec_get(d, 0, r->family == 6 ? 8 : 27, NULL) == NULL);
	CHECK_EQ_U64(dec_num(d, 0, 7, 99999), port[f]);
	CHECK_EQ_U64(dec_num(d, 0, 11, 99999), port[b]);
	CHECK_EQ_U64(dec_num(d, 0, 4, 999), r->proto);
	CHECK_EQ_U64(dec_num(d, 0, 58, 99999), r->vlan);
	CHECK_EQ_U64(dec_num(d, 0, 239, 99), r->origin == WT_ORIGIN_UNKNOWN ? 0 : 1);
	v = dec_get(d, 0, 56, &len);
	CHECK(v && len == 6 && memcmp(v, mac[f], 6) == 0);
	v = dec_get(d, REV, 56, &len);
	CHECK(v && len == 6 && memcmp(v, mac[b], 6) == 0);
	CHECK_EQ_U64(dec_num(d, 0, 2, 0), r->d[f].pkts);
	CHECK_EQ_U64(dec_num(d, 0, 1, 0), r->d[f].ip_bytes);
	CHECK_EQ_U64(dec_num(d, REV, 2, 0), r->d[b].pkts);
	CHECK_EQ_U64(dec_num(d, REV, 1, 0), r->d[b].ip_bytes);
	dec_get(d, 0, 6, &len);
	CHECK(!tcp || len == 1); /* reduced-size tcpControlBits */
	dec_get(d, 0, 1, &len);
	CHECK_EQ_U64(len, 8); /* 64-bit counters */
	CHECK_EQ_U64(dec_num(d, PEN, 101, 0), r->d[f].bytes);
	CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 101, 0), r->d[b].bytes);
	CHECK_EQ_U64(dec_num(d, PEN, 105, 0), r->seq);
	v = dec_get(d, PEN, 106, &len);
	CHECK(v && len == 16 && dec_be(v, 8) == r->call_id[0] && dec_be(v + 8, 8) == r->call_id[1]);
	CHECK_EQ_U64(dec_num(d, PEN, 107, 99), r->end_reason);
	if (r->tun_depth == 0) {
		for (uint16_t id = 113; id <= 118; id++)
			CHECK(dec_get(d, PEN, id, NULL) == NULL);
	} else {
		/* the chain; VNIs and keys; the GTP-U TEID of each direction;
		 * each direction's tunnel endpoint (decoded by hand, by number) */
		v = dec_get(d, PEN, 113, &len);
		CHECK(v && len == 5 && v[0] == r->tun_depth && memcmp(v + 1, r->tun_type, 4) == 0);
		v = dec_get(d, PEN, 114, &len);
		CHECK(v && len == 16);
		uint64_t ids_valid = dec_num(d, PEN, 115, 999);
		for (int l = 0; v && l < 4; l++) {
			int net = l < r->tun_depth && r->tun_type[l] != WT_TUNNEL_GTPU &&
			          ((r->tun_idmask >> l) & 1);
			CHECK_EQ_U64(dec_be(v + 4 * l, 4), net ? r->tun_id[l] : 0);
			CHECK_EQ_U64((ids_valid >> l) & 1, (uint64_t)net);
		}
		uint32_t teid[2] = {r->tun_id[1], r->tun_teid_b}; /* GTP-U at level 1 here */
		int has[2] = {(r->tun_idmask >> 1) & 1, (r->tun_idmask >> 5) & 1};
		CHECK_EQ_U64(dec_num(d, PEN, 116, 1), has[f] ? teid[f] : 0);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 116, 1), has[b] ? teid[b] : 0);
		CHECK_EQ_U64((ids_valid >> 4) & 3, (uint64_t)(has[f] | has[b] << 1));
		CHECK_EQ_U64(dec_num(d, PEN, 117, 0), r->outer_family);
		const uint8_t *outer[2] = {r->outer_a, r->outer_b};
		v = dec_get(d, PEN, 118, &len);
		CHECK(v && len == 16 && memcmp(v, outer[f], 16) == 0);
		v = dec_get(d, PEN, 0x4000 | 118, &len);
		CHECK(v && len == 16 && memcmp(v, outer[b], 16) == 0);
	}
	if (tcp) {
		CHECK_EQ_U64(dec_num(d, 0, 6, 999), r->flags[f]);
		CHECK_EQ_U64(dec_num(d, REV, 6, 999), r->flags[b]);
		CHECK_EQ_U64(dec_num(d, PEN, 102, 1), r->d[f].first_seq);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 102, 1), r->d[b].first_seq);
		CHECK_EQ_U64(dec_num(d, PEN, 103, 1), r->d[f].last_seq);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 103, 1), r->d[b].last_seq);
		CHECK_EQ_U64(dec_num(d, PEN, 104, 99),
		             ((r->seq_valid >> f) & 1) | (((r->seq_valid >> b) & 1) << 1));
		/* record version 2: sequence space, acknowledged, retransmitted,
		 * missed per direction, and which are meaningful */
		const struct wt_tcpstats *tf = &r->t[f], *tb = &r->t[b];
		CHECK_EQ_U64(dec_num(d, PEN, 108, 1), tf->seq_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 108, 1), tb->seq_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 109, 1), tf->acked_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 109, 1), tb->acked_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 110, 1), tf->retx_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 110, 1), tb->retx_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 111, 1), tf->missed_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 0x4000 | 111, 1), tb->missed_bytes);
		CHECK_EQ_U64(dec_num(d, PEN, 112, 99),
		             (r->tcp_valid & WT_TCP_VALID ? 1u : 0u) |
		                     ((r->tcp_valid >> (1 + f)) & 1) << 1 |
		                     ((r->tcp_valid >> (1 + b)) & 1) << 2);
		dec_get(d, PEN, 109, &len);
		CHECK_EQ_U64(len, 8);
	} else {
		CHECK(dec_get(d, 0, 6, NULL) == NULL);
		CHECK(dec_get(d, PEN, 102, NULL) == NULL);
		CHECK(dec_get(d, PEN, 108, NULL) == NULL);
		CHECK(dec_get(d, PEN, 112, NULL) == NULL);
	}
}

static void
test_one_message(void)
{
	uint8_t buf[4096];
	struct wt_ipfix_msg m;
	struct wt_callrec r1 = rec_v4_tcp(1), r2 = rec_v6_udp(), r3 = rec_tunnel();
	static struct decoder d;
	struct dec_msg dm;

	memset(&d, 0, sizeof(d));
	wt_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(wt_ipfix_msg_add_templates(&m) == 0);
	CHECK(wt_ipfix_msg_add_record(&m, &r1) == 0);
	CHECK(wt_ipfix_msg_add_record(&m, &r2) == 0);
	CHECK(wt_ipfix_msg_add_record(&m, &r1) == 0);
	CHECK(wt_ipfix_msg_add_record(&m, &r3) == 0);
	size_t len = wt_ipfix_msg_finish(&m, 77, 12345, 1700000100);
	CHECK(len == m.len && len <= sizeof(buf));
	CHECK(dec_message(&d, buf, len, &dm) == 0);
	if (d.err[0])
		fprintf(stderr, "decoder: %s\n", d.err);
	CHECK_EQ_U64(dm.version, 10);
	CHECK_EQ_U64(dm.domain, 77);
	CHECK_EQ_U64(dm.seq, 12345);
	CHECK_EQ_U64(dm.export_time, 1700000100);
	CHECK_EQ_U64(dm.tpl_records, 8);
	CHECK_EQ_U64(dm.data_records, 4);
	CHECK_EQ_U64(d.nrec, 4);
	if (d.nrec == 4) {
		check_record(&d.rec[0], &r1);
		check_record(&d.rec[1], &r2);
		check_record(&d.rec[2], &r1);
		check_record(&d.rec[3], &r3);
		CHECK(d.rec[0].tid != d.rec[1].tid);
		CHECK_EQ_U64(d.rec[3].tid, 260); /* IPv4, TCP, tunnelled */
	}
	/* the two template sets each fit the smallest UDP message with a record */
	CHECK(16 + wt_ipfix_template_sets_len(WT_IPFIX_TPL_GROUP_PLAIN) + 4 +
	              wt_ipfix_record_len(WT_IPFIX_TPL_V6_TCP) <=
	      WT_IPFIX_MIN_UDP_MSG);
	CHECK(16 + wt_ipfix_template_sets_len(WT_IPFIX_TPL_GROUP_TUN) + 4 +
	              wt_ipfix_record_len(WT_IPFIX_TPL_V6_TCP_TUN) <=
	      WT_IPFIX_MIN_UDP_MSG);
	/* every record length is what the library says */
	for (uint16_t t = WT_IPFIX_TPL_FIRST; t < WT_IPFIX_TPL_FIRST + WT_IPFIX_NTPL; t++) {
		struct dec_tpl *dt = dec_find_tpl(&d, t);
		CHECK(dt != NULL);
		size_t n = 0;
		for (unsigned int i = 0; dt && i < dt->n; i++)
			n += dt->f[i].len;
		CHECK_EQ_U64(n, wt_ipfix_record_len(t));
	}
}

static void
test_origin_and_v6(void)
{
	static struct decoder d;
	struct dec_msg dm;
	uint8_t buf[4096];
	struct wt_ipfix_msg m;
	struct wt_callrec rs[4];

	rs[0] = rec_v4_tcp(5);
	rs[0].origin = WT_ORIGIN_A;
	rs[1] = rec_v4_tcp(6);
	rs[1].origin = WT_ORIGIN_UNKNOWN;
	rs[1].seq_valid = WT_SEQ_VALID_B; /* a sent no TCP header */
	rs[2] = rec_v6_udp();
	rs[2].origin = WT_ORIGIN_B;
	rs[3] = rec_v6_udp();
	rs[3].proto = WT_IPPROTO_TCP;
	rs[3].flags[0] = WT_TCP_RST;
	rs[3].seq_valid = 3;
	memset(&d, 0, sizeof(d));
	wt_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(wt_ipfix_msg_add_templates(&m) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(wt_ipfix_msg_add_record(&m, &rs[i]) == 0);
	size_t len = wt_ipfix_msg_finish(&m, 1, 0, 0);
	CHECK(dec_message(&d, buf, len, &dm) == 0);
	CHECK_EQ_U64(d.nrec, 4);
	for (unsigned int i = 0; i < d.nrec && i < 4; i++)
		check_record(&d.rec[i], &rs[i]);
	if (d.nrec == 4)
		CHECK_EQ_U64(dec_num(&d.rec[3], 0, 136, 0), 3); /* RST: endOfFlowDetected */
}

static void
test_end_reason(void)
{
	struct wt_callrec r = rec_v4_tcp(0);
	r.end_reason = WT_END_IDLE;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 1);
	r.flags[0] |= WT_TCP_FIN; /* FIN from one end only */
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 1);
	r.flags[1] |= WT_TCP_FIN;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 3);
	r.end_reason = WT_END_SHUTDOWN;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 3);
	r.flags[0] = r.flags[1] = WT_TCP_SYN;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 4);
	r.flags[1] = WT_TCP_RST;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 3);
	r.end_reason = WT_END_ACTIVE;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 2);
	r.end_reason = WT_END_EVICTED;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&r), 5);
	struct wt_callrec u = rec_v6_udp();
	u.flags[0] = u.flags[1] = WT_TCP_FIN; /* not TCP: flags mean nothing */
	u.end_reason = WT_END_IDLE;
	CHECK_EQ_U64(wt_ipfix_flow_end_reason(&u), 1);
}

static void
test_full_message(void)
{
	uint8_t buf[1400];
	struct wt_ipfix_msg m;
	struct wt_callrec r = rec_v4_tcp(9);
	unsigned int n = 0;

	wt_ipfix_msg_begin(&m, buf, sizeof(buf));
	CHECK(wt_ipfix_msg_add_templates(&m) == -ENOSPC); /* both sets: over 1400 */
	CHECK_EQ_U64(m.len, 16);
	CHECK(wt_ipfix_msg_add_template_sets(&m, WT_IPFIX_TPL_GROUP_PLAIN) == 0);
	while (wt_ipfix_msg_add_record(&m, &r) == 0)
		n++;
	CHECK(n > 0);
	size_t before = m.len;
	CHECK(wt_ipfix_msg_add_record(&m, &r) == -ENOSPC);
	CHECK_EQ_U64(m.len, before);
	CHECK(m.len + wt_ipfix_record_len(WT_IPFIX_TPL_V4_TCP) > sizeof(buf));
	static struct decoder d;
	struct dec_msg dm;
	memset(&d, 0, sizeof(d));
	size_t len = wt_ipfix_msg_finish(&m, 1, 0, 0);
	CHECK(dec_message(&d, buf, len, &dm) == 0);
	CHECK_EQ_U64(d.nrec, n);
	/* the templates alone do not fit a tiny buffer */
	uint8_t small[256];
	wt_ipfix_msg_begin(&m, small, sizeof(small));
	CHECK(wt_ipfix_msg_add_templates(&m) == -ENOSPC);
	CHECK_EQ_U64(m.len, 16);
}

static void
test_url(void)
{
	struct wt_ipfix_url u;
	char err[256];

	CHECK(wt_ipfix_url_parse("udp://127.0.0.1:4739", &u, err, sizeof(err)) == 0);
	CHECK(u.transport == WT_IPFIX_UDP);
	CHECK_EQ_STR(u.host, "127.0.0.1");
	CHECK_EQ_STR(u.port, "4739");
	CHECK(wt_ipfix_url_parse("tcp://[::1]:9995", &u, err, sizeof(err)) == 0);
	CHECK(u.transport == WT_IPFIX_TCP);
	CHECK_EQ_STR(u.host, "::1");
	CHECK_EQ_STR(u.port, "9995");
	CHECK(wt_ipfix_url_parse("tcp://collector.example", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.port, "4739");
	CHECK(wt_ipfix_url_parse("udp://[2001:db8::1]", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.host, "2001:db8::1");
	static const char *const bad[] = {
	        "sctp://h:1", "udp://",         "udp://:4739", "udp://h:0",    "udp://h:65536",
	        "udp://h:x",  "udp://::1:4739", "udp://[::1",  "udp://[::1]x", "h:4739",
	};
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(wt_ipfix_url_parse(bad[i], &u, err, sizeof(err)) == -EINVAL);
		CHECK(strstr(err, bad[i]) != NULL); /* the message names the URL */
	}
}

/* Decode a stream of messages (file or TCP): message by message, checking
 * that every sequence number counts the data records before it. */
static size_t
dec_stream(struct decoder *d, const uint8_t *b, size_t len, unsigned int *msgs,
           unsigned int *tpl_msgs)
{
	size_t off = 0;
	uint32_t expect_seq = 0;
	*msgs = *tpl_msgs = 0;
	while (off + 16 <= len) {
		size_t ml = (size_t)dec_be(b + off + 2, 2);
		struct dec_msg dm;
		if (ml < 16 || off + ml > len)
			break;
		if (dec_message(d, b + off, ml, &dm) != 0) {
			fprintf(stderr, "decoder: %s\n", d->err);
			CHECK(0);
			break;
		}
		CHECK_EQ_U64(dm.seq, expect_seq);
		expect_seq += dm.data_records;
		(*msgs)++;
		*tpl_msgs += dm.tpl_records > 0;
		off += ml;
	}
	return off;
}

static void
test_file_export(void)
{
	char path[] = "/tmp/wt-ipfix-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	struct wt_ipfix_exporter_conf c = {.fd = fd, .domain = 9};
	char err[256];
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	if (x == NULL)
		return;
	enum { N = 2000 };
	for (unsigned int i = 0; i < N; i++) {
		struct wt_callrec r = i % 3 ? rec_v4_tcp(i) : rec_v6_udp();
		r.seq = i;
		CHECK(wt_ipfix_exporter_add(x, &r) == 0);
	}
	CHECK(wt_ipfix_exporter_flush(x) == 0);
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(x, &st);
	CHECK_EQ_U64(st.records_taken, N);
	CHECK_EQ_U64(st.records_sent, N);
	CHECK_EQ_U64(st.records_pending, 0);
	CHECK_EQ_U64(st.template_sends, 1);
	wt_ipfix_exporter_close(x);
	off_t size = lseek(fd, 0, SEEK_END);
	CHECK_EQ_U64(size, st.bytes_sent);
	uint8_t *b = malloc((size_t)size);
	CHECK(pread(fd, b, (size_t)size, 0) == size);
	close(fd);
	static struct decoder d;
	memset(&d, 0, sizeof(d));
	unsigned int msgs, tpl_msgs;
	CHECK_EQ_U64(dec_stream(&d, b, (size_t)size, &msgs, &tpl_msgs), size);
	CHECK_EQ_U64(msgs, st.messages_sent);
	CHECK_EQ_U64(tpl_msgs, 1); /* RFC 5655: templates once, first */
	CHECK_EQ_U64(d.nrec, N);
	for (unsigned int i = 0; i < d.nrec; i++) {
		struct wt_callrec r = i % 3 ? rec_v4_tcp(i) : rec_v6_udp();
		r.seq = i;
		check_record(&d.rec[i], &r);
	}
	free(b);
	/* a write error is returned, not hidden */
	int p[2];
	CHECK(pipe(p) == 0);
	close(p[0]);
	c.fd = p[1];
	x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	struct wt_callrec r = rec_v4_tcp(1);
	signal(SIGPIPE, SIG_IGN);
	int rc = 0;
	for (int i = 0; i < 1000 && rc == 0; i++)
		rc = wt_ipfix_exporter_add(x, &r);
	if (rc == 0)
		rc = wt_ipfix_exporter_flush(x);
	CHECK_EQ_U64(-rc, EPIPE);
	wt_ipfix_exporter_close(x);
	close(p[1]);
}

/* A UDP collector socket on @family's loopback; its port in @url. */
static int
udp_collector(int family, char *url, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	}
	int fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) != 0)
		return -1;
	int sz = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (family == AF_INET6)
		snprintf(url, len, "udp://[::1]:%u",
		         ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	else
		snprintf(url, len, "udp://127.0.0.1:%u",
		         ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return fd;
}

static void
udp_case(int family)
{
	char url[64], err[256];
	int cfd = udp_collector(family, url, sizeof(url));
	if (cfd < 0) {
		fprintf(stderr, "skipping UDP over %s: no loopback\n",
		        family == AF_INET6 ? "IPv6" : "IPv4");
		return;
	}
	struct wt_ipfix_exporter_conf c = {.url = url, .domain = 5};
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	if (x == NULL) {
		fprintf(stderr, "%s\n", err);
		close(cfd);
		return;
	}
	enum { N = 300 };
	for (unsigned int i = 0; i < N; i++) {
		struct wt_callrec r = i % 2 ? rec_v4_tcp(i) : rec_v6_udp();
		r.seq = i;
		CHECK(wt_ipfix_exporter_add(x, &r) == 0);
	}
	CHECK(wt_ipfix_exporter_flush(x) == 0);
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(x, &st);
	static struct decoder d;
	memset(&d, 0, sizeof(d));
	static uint8_t bufs[512][2048];
	unsigned int msgs = 0, tpl_msgs = 0;
	uint32_t expect_seq = 0;
	struct pollfd p = {.fd = cfd, .events = POLLIN};
	while (msgs < 512 && poll(&p, 1, 200) == 1) {
		ssize_t k = recv(cfd, bufs[msgs], sizeof(bufs[0]), 0);
		CHECK(k > 0 && k <= 1400);
		struct dec_msg dm;
		CHECK(dec_message(&d, bufs[msgs], (size_t)k, &dm) == 0);
		CHECK_EQ_U64(dm.seq, expect_seq);
		CHECK_EQ_U64(dm.domain, 5);
		expect_seq += dm.data_records;
		tpl_msgs += dm.tpl_records > 0;
		msgs++;
	}
	CHECK_EQ_U64(msgs, st.messages_sent);
	CHECK_EQ_U64(tpl_msgs, 1); /* well within the refresh interval */
	CHECK_EQ_U64(d.nrec, N);
	for (unsigned int i = 0; i < d.nrec; i++) {
		struct wt_callrec r = i % 2 ? rec_v4_tcp(i) : rec_v6_udp();
		r.seq = i;
		check_record(&d.rec[i], &r);
	}
	/* nobody listens: the loss is counted and said */
	close(cfd);
	unsigned int said_before = 0;
	for (unsigned int i = 0; i < 50; i++) {
		struct wt_callrec r = rec_v4_tcp(i);
		(void)wt_ipfix_exporter_add(x, &r);
		(void)wt_ipfix_exporter_flush(x);
	}
	wt_ipfix_exporter_stats(x, &st);
	CHECK(st.records_lost > 0);
	CHECK(st.records_lost < 50);
	CHECK_EQ_U64(st.last_errno, ECONNREFUSED);
	(void)said_before;
	wt_ipfix_exporter_close(x);
}

static void
test_udp_export(void)
{
	udp_case(AF_INET);
	udp_case(AF_INET6);
}

/* Tunnelled records over UDP: their template set (too big to share a
 * 1400-byte message with the plain one) comes when the first of them does,
 * always before it, and every record decodes. */
static void
test_udp_tunnel_templates(void)
{
	char url[64], err[256];
	int cfd = udp_collector(AF_INET, url, sizeof(url));
	CHECK(cfd >= 0);
	struct wt_ipfix_exporter_conf c = {.url = url};
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	if (x == NULL)
		return;
	enum { N = 120 };
	struct wt_callrec rs[N];
	for (unsigned int i = 0; i < N; i++) {
		/* a tunnelled record first (its set before the plain one), then
		 * plain ones only, then both */
		rs[i] = i == 0 || (i >= 40 && i % 3 == 0) ? rec_tunnel()
		        : i < 40                          ? rec_v4_tcp(i)
		                                          : rec_v6_udp();
		rs[i].seq = i;
		CHECK(wt_ipfix_exporter_add(x, &rs[i]) == 0);
	}
	CHECK(wt_ipfix_exporter_flush(x) == 0);
	static struct decoder d;
	memset(&d, 0, sizeof(d));
	static uint8_t bufs[64][2048]; /* decoded values point into them */
	unsigned int msgs = 0, tpl_msgs = 0;
	struct pollfd p = {.fd = cfd, .events = POLLIN};
	while (msgs < 64 && poll(&p, 1, 200) == 1) {
		ssize_t k = recv(cfd, bufs[msgs], sizeof(bufs[0]), 0);
		struct dec_msg dm;
		CHECK(k > 0 && k <= 1400);
		CHECK(k > 0 && dec_message(&d, bufs[msgs], (size_t)k, &dm) == 0);
		if (d.err[0]) {
			fprintf(stderr, "decoder: %s\n", d.err);
			d.err[0] = 0;
		}
		tpl_msgs += dm.tpl_records > 0;
		msgs++;
	}
	CHECK_EQ_U64(tpl_msgs, 2); /* the tunnel set with record 0, the plain set at 1 */
	CHECK_EQ_U64(d.nrec, N);
	for (unsigned int i = 0; i < d.nrec && i < N; i++)
		check_record(&d.rec[i], &rs[i]);
	wt_ipfix_exporter_close(x);
	close(cfd);
}

static void
test_udp_template_refresh(void)
{
	char url[64], err[256];
	int cfd = udp_collector(AF_INET, url, sizeof(url));
	CHECK(cfd >= 0);
	struct wt_ipfix_exporter_conf c = {.url = url, .template_refresh = 0.2};
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	if (x == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		struct wt_callrec r = rec_v4_tcp((uint64_t)i);
		CHECK(wt_ipfix_exporter_add(x, &r) == 0);
		CHECK(wt_ipfix_exporter_flush(x) == 0);
		usleep(120000);
	}
	/* messages 1 and 3 (0 s, 0.24 s) carry templates, 2 and 4 do not */
	static struct decoder d;
	memset(&d, 0, sizeof(d));
	uint8_t buf[2048];
	int with[4] = {0};
	for (int i = 0; i < 4; i++) {
		ssize_t k = recv(cfd, buf, sizeof(buf), MSG_DONTWAIT);
		struct dec_msg dm;
		CHECK(k > 0 && dec_message(&d, buf, (size_t)k, &dm) == 0);
		with[i] = dm.tpl_records > 0;
	}
	CHECK(with[0] && !with[1] && with[2] && !with[3]);
	wt_ipfix_exporter_close(x);
	close(cfd);
}

/* TCP: a collector that drops the connection in the middle; every record
 * arrives (again, possibly twice), nothing is lost. */
static int
tcp_listener(char *url, size_t len)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(s4);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s4, sl) != 0 || listen(fd, 4) != 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&s4, &sl);
	snprintf(url, len, "tcp://127.0.0.1:%u", ntohs(s4.sin_port));
	return fd;
}

static void
said(void *arg, const char *line)
{
	(*(int *)arg)++;
	fprintf(stderr, "  (said: %s)\n", line);
}

static void
tcp_reconnect_case(unsigned int window)
{
	char url[64], err[256];
	int lfd = tcp_listener(url, sizeof(url));
	CHECK(lfd >= 0);
	int lines = 0;
	struct wt_ipfix_exporter_conf c = {
	        .url = url, .say = said, .say_arg = &lines, .replay_records = window};
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	if (x == NULL)
		return;
	CHECK(wt_ipfix_exporter_connect(x, 1000) == 0);
	enum { N = 3000 };
	static uint8_t stream[2][N * 200];
	size_t got[2] = {0, 0};
	int cfd = -1, conn = 0;
	unsigned int next = 0;
	for (int loop = 0; loop < 20000 && (next < N || wt_ipfix_exporter_flush(x) != 0); loop++) {
		if (next < N) {
			struct wt_callrec r = rec_v4_tcp(next);
			r.seq = next;
			if (wt_ipfix_exporter_add(x, &r) == 0)
				next++;
			else
				wt_ipfix_exporter_wait(x, 5);
		}
		if (cfd < 0 && conn < 2) {
			cfd = accept(lfd, NULL, NULL);
			if (cfd >= 0)
				fcntl(cfd, F_SETFL, O_NONBLOCK);
		}
		if (cfd >= 0) {
			ssize_t k = recv(cfd, stream[conn] + got[conn],
			                 sizeof(stream[0]) - got[conn], 0);
			if (k > 0)
				got[conn] += (size_t)k;
			/* the first collector goes away after 100 KB, abruptly (RST) */
			if (conn == 0 && got[0] > 100000) {
				struct linger lg = {.l_onoff = 1, .l_linger = 0};
				setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
				close(cfd);
				cfd = -1;
				conn = 1;
			}
		}
	}
	CHECK_EQ_U64(next, N);
	for (int i = 0; i < 200 && cfd >= 0; i++) { /* drain */
		ssize_t k = recv(cfd, stream[1] + got[1], sizeof(stream[0]) - got[1], 0);
		if (k > 0)
			got[1] += (size_t)k;
		else
			usleep(5000);
	}
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(x, &st);
	CHECK_EQ_U64(st.connects, 2);
	CHECK_EQ_U64(st.disconnects, 1);
	CHECK_EQ_U64(st.records_pending, 0);
	CHECK(lines >= 2); /* lost, reachable again */
	/* each connection: a stream of whole messages, templates first */
	static uint8_t seen[N];
	unsigned int dup = 0;
	memset(seen, 0, sizeof(seen));
	for (int k = 0; k < 2; k++) {
		static struct decoder d;
		memset(&d, 0, sizeof(d));
		unsigned int msgs, tpl_msgs;
		size_t used = dec_stream(&d, stream[k], got[k], &msgs, &tpl_msgs);
		CHECK_EQ_U64(tpl_msgs, 1);
		if (k == 1)
			CHECK_EQ_U64(used, got[1]);
		for (unsigned int i = 0; i < d.nrec; i++) {
			uint64_t s = dec_num(&d.rec[i], PEN, 105, N);
			CHECK(s < N);
			if (s < N) {
				dup += seen[s];
				seen[s] = 1;
				struct wt_callrec r = rec_v4_tcp(s);
				r.seq = s;
				check_record(&d.rec[i], &r);
			}
		}
	}
	unsigned int missing = 0;
	for (unsigned int i = 0; i < N; i++)
		missing += !seen[i];
	CHECK_EQ_U64(missing, 0);
	printf("  tcp reconnect, window %u: %zu + %zu bytes, %" PRIu64
	       " records sent again, %u duplicates\n",
	       window, got[0], got[1], st.records_resent, dup);
	if (window)
		CHECK(st.records_resent <= window);
	close(cfd);
	wt_ipfix_exporter_close(x);
	close(lfd);
}

static void
test_tcp_reconnect(void)
{
	tcp_reconnect_case(0);   /* the default window: never full here */
	tcp_reconnect_case(128); /* a small one: full all the time, add() waits for acks */
}

static void
test_tcp_unreachable(void)
{
	char url[64], err[256];
	int lfd = tcp_listener(url, sizeof(url));
	close(lfd); /* nobody listens there now */
	int lines = 0;
	struct wt_ipfix_exporter_conf c = {.url = url, .say = said, .say_arg = &lines};
	struct wt_ipfix_exporter *x = wt_ipfix_exporter_open(&c, err, sizeof(err));
	CHECK(x != NULL);
	CHECK_EQ_U64(-wt_ipfix_exporter_connect(x, 1000), ECONNREFUSED);
	struct wt_callrec r = rec_v4_tcp(0);
	CHECK(wt_ipfix_exporter_add(x, &r) == -EAGAIN);
	CHECK(wt_ipfix_exporter_add(x, &r) == -EAGAIN); /* back-off: no second attempt yet */
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(x, &st);
	CHECK_EQ_U64(st.connect_failures, 2);
	CHECK_EQ_U64(st.records_taken, 0);
	CHECK_EQ_U64(lines, 1);
	wt_ipfix_exporter_close(x);
	/* a host that does not resolve is an error at open, naming it */
	c.url = "udp://no-such-host.invalid:4739";
	errno = 0;
	CHECK(wt_ipfix_exporter_open(&c, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	CHECK(strstr(err, "no-such-host.invalid") != NULL);
	/* a bad URL too: NULL, errno and the message */
	c.url = "udp:/x";
	errno = 0;
	CHECK(wt_ipfix_exporter_open(&c, err, sizeof(err)) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	CHECK(strstr(err, "udp:/x") != NULL);
}

WT_TEST_MAIN(WT_TEST(test_one_message), WT_TEST(test_origin_and_v6), WT_TEST(test_end_reason),
             WT_TEST(test_full_message), WT_TEST(test_url), WT_TEST(test_file_export),
             WT_TEST(test_udp_export), WT_TEST(test_udp_tunnel_templates),
             WT_TEST(test_udp_template_refresh), WT_TEST(test_tcp_reconnect),
             WT_TEST(test_tcp_unreachable))
