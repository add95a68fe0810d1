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
	             "0123456789abcdef0100000000000002\n");
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
	                  "00000000000000000000000000000000\n");
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
	CHECK(strstr(buf, "\"call_id\":\"0123456789abcdef0100000000000002\"}\n") != NULL);
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
	CHECK(wt_callrec_format_csv(b, sizeof(b), NULL) == -ENOSPC);
}

WT_TEST_MAIN(WT_TEST(test_csv_tcp4), WT_TEST(test_csv_udp6_one_sided), WT_TEST(test_json),
             WT_TEST(test_names))
