/* SPDX-License-Identifier: BSD-3-Clause */
/* test_record.c: CSV/JSON renderings of a call record match DESIGN.md. */
#include <arpa/inet.h>

#include <errno.h>

#include "wt_record.h"
#include "wt_test.h"

static struct wt_callrec
sample_tcp4(void)
{
	struct wt_callrec r;
	memset(&r, 0, sizeof(r));
	r.seq = 7;
	r.call_id[0] = 0x0123456789abcdefull;
	r.call_id[1] = 0x0100000000000002ull;
	r.start_ns = 1700000000123456789ull;
	r.end_ns = 1700000001000000000ull;
	inet_pton(AF_INET, "10.0.0.2", r.addr_a);
	inet_pton(AF_INET, "10.0.0.1", r.addr_b);
	r.port_a = 80;
	r.port_b = 40000;
	r.proto = 6;
	r.family = 4;
	r.origin = WT_ORIGIN_B;
	r.end_reason = WT_END_IDLE;
	r.flags[0] = WT_TCP_SYN | WT_TCP_ACK | WT_TCP_FIN | WT_TCP_PSH;
	r.flags[1] = WT_TCP_SYN | WT_TCP_ACK | WT_TCP_FIN;
	r.seq_valid = WT_SEQ_VALID_A | WT_SEQ_VALID_B;
	memcpy(r.mac_a, "\x02\x00\x00\x00\x00\x02", 6);
	memcpy(r.mac_b, "\x02\x00\x00\x00\x00\x01", 6);
	r.d[0] = (struct wt_dirstats){
	        .pkts = 5, .bytes = 1000, .ip_bytes = 1200, .first_seq = 100, .last_seq = 1101};
	r.d[1] = (struct wt_dirstats){.pkts = 4,
	                              .bytes = 77,
	                              .ip_bytes = 237,
	                              .first_seq = 4000000000u,
	                              .last_seq = 4000000078u};
	/* version 2: a's 1000 bytes = 1010 seq - 30 missed + 20 retx; b one-sided ACKs */
	r.t[0] = (struct wt_tcpstats){
	        .seq_bytes = 1010, .acked_bytes = 990, .retx_bytes = 20, .missed_bytes = 30};
	r.t[1] = (struct wt_tcpstats){.seq_bytes = 77};
	r.tcp_valid = WT_TCP_VALID | WT_TCP_ACKED_A;
	return r;
}

static void
test_csv_tcp4(void)
{
	struct wt_callrec r = sample_tcp4();
	char buf[WT_CALLREC_LINE_MAX];
	int n = wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK(n > 0);
	CHECK_EQ_STR(buf,
	             "7,1700000000123456789,1700000001000000000,tcp,10.0.0.2,80,10.0.0.1,40000,b,,"
	             "02:00:00:00:00:02,5,1000,1200,FSPA,100,1101,"
	             "02:00:00:00:00:01,4,77,237,FSA,4000000000,4000000078,idle,"
	             "0123456789abcdef0100000000000002,"
	             "1010,990,20,30,77,,0,0,,,,\n");
}

/* A version 1 record (its version 2 bytes zero): the twelve new columns empty. */
static void
test_csv_v1(void)
{
	struct wt_callrec r = sample_tcp4();
	char buf[WT_CALLREC_LINE_MAX];
	memset((uint8_t *)&r + WT_CALLREC_V1_SIZE, 0, sizeof(r) - WT_CALLREC_V1_SIZE);
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK_EQ_STR(strchr(buf, 'i') /* from "idle" */,
	             "idle,0123456789abcdef0100000000000002,,,,,,,,,,,,\n");
}

/* Tunnels: the chain outer first, one id per level, GTP-U TEIDs of both
 * sides, the outer source addresses. */
static void
test_csv_tunnel(void)
{
	struct wt_callrec r = sample_tcp4();
	char buf[WT_CALLREC_LINE_MAX];

	r.tun_depth = 2;
	r.tun_type[0] = WT_TUNNEL_GENEVE;
	r.tun_type[1] = WT_TUNNEL_VXLAN;
	r.tun_idmask = 0x3;
	r.tun_id[0] = 10;
	r.tun_id[1] = 16777215;
	r.outer_family = 6;
	inet_pton(AF_INET6, "2001:db8::a", r.outer_a);
	inet_pton(AF_INET6, "2001:db8::b", r.outer_b);
	r.tun_flags = WT_TUN_OUTER_A | WT_TUN_OUTER_B;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK_EQ_STR(strstr(buf, ",1010,"), ",1010,990,20,30,77,,0,0,geneve/vxlan,10/16777215,"
	                                    "2001:db8::a,2001:db8::b\n");

	/* GRE without a key inside IPv4: no id at all; b never sent */
	r.tun_depth = 2;
	r.tun_type[0] = WT_TUNNEL_IPIP;
	r.tun_type[1] = WT_TUNNEL_GRE;
	r.tun_idmask = 0;
	r.outer_family = 4;
	inet_pton(AF_INET, "198.51.100.1", r.outer_a);
	r.tun_flags = WT_TUN_OUTER_A;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK_EQ_STR(strstr(buf, ",1010,"), ",1010,990,20,30,77,,0,0,ipip/gre,,198.51.100.1,\n");

	/* GTP-U: a's TEID and b's; one of them unknown */
	r.tun_depth = 1;
	r.tun_type[0] = WT_TUNNEL_GTPU;
	r.tun_idmask = 0x11;
	r.tun_id[0] = 0x12345678;
	r.tun_teid_b = 7;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK(strstr(buf, ",gtpu,305419896:7,198.51.100.1,\n") != NULL);
	r.tun_idmask = 0x10;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK(strstr(buf, ",gtpu,:7,198.51.100.1,\n") != NULL);
	/* ipip then vxlan: one entry per level */
	r.tun_depth = 2;
	r.tun_type[0] = WT_TUNNEL_IPIP;
	r.tun_type[1] = WT_TUNNEL_VXLAN;
	r.tun_idmask = 0x2;
	r.tun_id[1] = 42;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK(strstr(buf, ",ipip/vxlan,/42,198.51.100.1,\n") != NULL);

	/* a UDP record: the TCP columns stay empty, the tunnel ones do not */
	r.proto = 17;
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK(strstr(buf, ",,,,,,,,,ipip/vxlan,/42,198.51.100.1,\n") != NULL);
	CHECK(wt_callrec_format_json(buf, sizeof(buf), &r) > 0);
	CHECK(strstr(buf, "\"a_seq_bytes\":null,\"a_acked_bytes\":null") != NULL);
	CHECK(strstr(buf, "\"tunnel\":\"ipip/vxlan\",\"tunnel_id\":\"/42\","
	                  "\"outer_a_addr\":\"198.51.100.1\",\"outer_b_addr\":null}\n") != NULL);
}

static void
test_csv_udp6_one_sided(void)
{
	struct wt_callrec r;
	char buf[WT_CALLREC_LINE_MAX];
	memset(&r, 0, sizeof(r));
	inet_pton(AF_INET6, "2001:db8::2", r.addr_a);
	inet_pton(AF_INET6, "2001:db8::1", r.addr_b);
	r.port_a = 53;
	r.port_b = 5353;
	r.proto = 17;
	r.family = 6;
	r.vlan = 100;
	r.end_reason = WT_END_SHUTDOWN;
	r.d[1] = (struct wt_dirstats){.pkts = 1, .bytes = 30, .ip_bytes = 78};
	memcpy(r.mac_b, "\xaa\xbb\xcc\xdd\xee\xff", 6);
	wt_callrec_format_csv(buf, sizeof(buf), &r);
	CHECK_EQ_STR(buf, "0,0,0,udp,2001:db8::2,53,2001:db8::1,5353,unknown,100,"
	                  ",0,0,0,,,,aa:bb:cc:dd:ee:ff,1,30,78,,,,shutdown,"
	                  "00000000000000000000000000000000,,,,,,,,,,,,\n");
}

static void
test_json(void)
{
	struct wt_callrec r = sample_tcp4();
	char buf[WT_CALLREC_LINE_MAX];
	r.d[1].pkts = 0;
	r.seq_valid = WT_SEQ_VALID_A;
	r.flags[1] = 0;
	CHECK(wt_callrec_format_json(buf, sizeof(buf), &r) > 0);
	CHECK(strstr(buf, "\"a_flags\":\"FSPA\"") != NULL);
	CHECK(strstr(buf, "\"b_flags\":\"\"") != NULL);
	CHECK(strstr(buf, "\"b_mac\":null") != NULL);
	CHECK(strstr(buf, "\"b_first_seq\":null") != NULL);
	CHECK(strstr(buf, "\"vlan\":null") != NULL);
	CHECK(strstr(buf, "\"origin\":\"b\"") != NULL);
	CHECK(strstr(buf,
	             "\"call_id\":\"0123456789abcdef0100000000000002\","
	             "\"a_seq_bytes\":1010,\"a_acked_bytes\":990,\"a_retx_bytes\":20,"
	             "\"a_missed_bytes\":30,\"b_seq_bytes\":77,\"b_acked_bytes\":null,"
	             "\"b_retx_bytes\":0,\"b_missed_bytes\":0,\"tunnel\":null,"
	             "\"tunnel_id\":null,\"outer_a_addr\":null,\"outer_b_addr\":null}\n") != NULL);
}

static void
test_names(void)
{
	char b[9], p[4];
	CHECK_EQ_STR(wt_tcp_flags_str(0xff, b), "FSRPAUEC");
	CHECK_EQ_STR(wt_tcp_flags_str(0, b), "");
	CHECK_EQ_STR(wt_proto_name(1, p), "icmp");
	CHECK_EQ_STR(wt_proto_name(58, p), "icmp6");
	CHECK_EQ_STR(wt_proto_name(132, p), "132");
	CHECK_EQ_STR(wt_end_reason_name(WT_END_EVICTED), "evicted");
	CHECK_EQ_STR(wt_end_reason_name(WT_END_ACTIVE), "active");
	CHECK_EQ_STR(wt_tunnel_name(WT_TUNNEL_GTPU), "gtpu");
	CHECK_EQ_STR(wt_tunnel_name(WT_TUNNEL_IPIP), "ipip");
	CHECK_EQ_STR(wt_tunnel_name(99), "?");
	CHECK(wt_callrec_format_csv(b, sizeof(b), NULL) == -ENOSPC);
}

WT_TEST_MAIN(WT_TEST(test_csv_tcp4), WT_TEST(test_csv_v1), WT_TEST(test_csv_tunnel),
             WT_TEST(test_csv_udp6_one_sided), WT_TEST(test_json), WT_TEST(test_names))
