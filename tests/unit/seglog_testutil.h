/* SPDX-License-Identifier: BSD-3-Clause */
/* seglog_testutil.h: deterministic, distinct call records for log segment tests. */
#ifndef SEGLOG_TESTUTIL_H
#define SEGLOG_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include "wt_record.h"

/* Record number @i: every field derived from @i, so two records differ and
 * a record read back can be compared byte for byte with make_rec(i). */
static inline void
make_rec(struct wt_callrec *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->seq = 0xdeadbeef; /* overwritten by the writer */
	r->call_id[0] = 0x1122334455667788ull;
	r->call_id[1] = (1ull << 56) | i;
	r->start_ns = 1700000000000000000ull + i * 1000;
	r->end_ns = r->start_ns + 500 + i;
	r->family = 4;
	r->addr_a[0] = 10;
	r->addr_a[1] = (uint8_t)(i >> 16);
	r->addr_a[2] = (uint8_t)(i >> 8);
	r->addr_a[3] = (uint8_t)i;
	r->addr_b[0] = 192;
	r->addr_b[1] = 168;
	r->addr_b[3] = 1;
	r->port_a = (uint16_t)(1024 + i % 60000);
	r->port_b = 443;
	r->proto = i % 3 == 2 ? 17 : 6;
	r->origin = (uint8_t)(i % 3);
	r->end_reason = (uint8_t)(1 + i % 4);
	r->flags[0] = r->proto == 6 ? 0x1b : 0;
	r->flags[1] = r->proto == 6 ? 0x13 : 0;
	r->seq_valid = r->proto == 6 ? 3 : 0;
	memcpy(r->mac_a, "\x02\x00\x00\x00\x00\x0a", 6);
	memcpy(r->mac_b, "\x02\x00\x00\x00\x00\x0b", 6);
	r->d[0].pkts = 3 + i;
	r->d[0].bytes = 100 * i;
	r->d[0].ip_bytes = 100 * i + 120;
	r->d[0].first_seq = (uint32_t)(i * 7);
	r->d[0].last_seq = (uint32_t)(i * 7 + 100 * i);
	r->d[1].pkts = 2 + i;
	r->d[1].bytes = 50 * i;
	r->d[1].ip_bytes = 50 * i + 80;
	r->d[1].first_seq = (uint32_t)(i * 11);
	r->d[1].last_seq = (uint32_t)(i * 11 + 50 * i);
	if (r->proto == 6) {
		/* record version 2: bytes = seq - missed + retx per side */
		r->t[0] = (struct wt_tcpstats){.seq_bytes = 100 * i + i % 5,
		                               .acked_bytes = 100 * i,
		                               .retx_bytes = i % 7,
		                               .missed_bytes = i % 5 + i % 7};
		r->t[1] = (struct wt_tcpstats){.seq_bytes = 50 * i, .acked_bytes = 50 * i};
		r->tcp_base[0] = (uint32_t)(i * 7 + 1);
		r->tcp_base[1] = (uint32_t)(i * 11 + 1);
		r->tcp_valid = WT_TCP_VALID | WT_TCP_ACKED_A | WT_TCP_ACKED_B | WT_TCP_BASE_A |
		               WT_TCP_BASE_B;
	}
	if (i % 4 == 1) {
		r->tun_depth = 2;
		r->tun_type[0] = WT_TUNNEL_GENEVE;
		r->tun_type[1] = WT_TUNNEL_VXLAN;
		r->tun_idmask = 3;
		r->tun_id[0] = (uint32_t)i & 0xffffff;
		r->tun_id[1] = 5000;
		r->outer_family = 4;
		r->tun_flags = WT_TUN_OUTER_A | WT_TUN_OUTER_B;
		memcpy(r->outer_a, "\xc6\x33\x64\x01", 4);
		memcpy(r->outer_b, "\xc6\x33\x64\x02", 4);
	}
}

#endif /* SEGLOG_TESTUTIL_H */
