/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_record.c: CSV and JSON renderings of a completed call record. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "wt_record.h"

const char wt_callrec_csv_header[] =
        "seq,start_ns,end_ns,proto,a_addr,a_port,b_addr,b_port,origin,vlan,"
        "a_mac,a_pkts,a_bytes,a_ip_bytes,a_flags,a_first_seq,a_last_seq,"
        "b_mac,b_pkts,b_bytes,b_ip_bytes,b_flags,b_first_seq,b_last_seq,end_reason,"
        "call_id,"
        "a_seq_bytes,a_acked_bytes,a_retx_bytes,a_missed_bytes,"
        "b_seq_bytes,b_acked_bytes,b_retx_bytes,b_missed_bytes,"
        "tunnel,tunnel_id,outer_a_addr,outer_b_addr";

const char *
wt_proto_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case WT_IPPROTO_TCP:
		return "tcp";
	case WT_IPPROTO_UDP:
		return "udp";
	case WT_IPPROTO_ICMP:
		return "icmp";
	case WT_IPPROTO_ICMPV6:
		return "icmp6";
	default:
		snprintf(buf, 4, "%u", proto);
		return buf;
	}
}

const char *
wt_origin_name(uint8_t origin)
{
	switch (origin) {
	case WT_ORIGIN_A:
		return "a";
	case WT_ORIGIN_B:
		return "b";
	default:
		return "unknown";
	}
}

const char *
wt_end_reason_name(uint8_t reason)
{
	static const char *const names[WT_END_MAX] = {
	        [WT_END_NONE] = "none",         [WT_END_IDLE] = "idle",
	        [WT_END_ACTIVE] = "active",     [WT_END_EVICTED] = "evicted",
	        [WT_END_SHUTDOWN] = "shutdown",
	};
	return reason < WT_END_MAX ? names[reason] : "?";
}

const char *
wt_tunnel_name(uint8_t type)
{
	switch (type) {
	case WT_TUNNEL_GRE:
		return "gre";
	case WT_TUNNEL_IPIP:
		return "ipip";
	case WT_TUNNEL_VXLAN:
		return "vxlan";
	case WT_TUNNEL_GENEVE:
		return "geneve";
	case WT_TUNNEL_GTPU:
		return "gtpu";
	case WT_TUNNEL_TEREDO:
		return "teredo";
	default:
		return "?";
	}
}

const char *
wt_tcp_flags_str(uint8_t flags, char buf[9])
{
	static const char letters[8] = {'F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'};
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (flags & (1u << i))
			buf[n++] = letters[i];
	buf[n] = '\0';
	return buf;
}

const char *
wt_addr_str(const uint8_t addr[16], uint8_t family, char buf[46])
{
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, 46) == NULL)
		strcpy(buf, "?");
	return buf;
}

const char *
wt_call_id_str(const uint64_t id[2], char buf[33])
{
	snprintf(buf, 33, "%016" PRIx64 "%016" PRIx64, id[0], id[1]);
	return buf;
}

static void
mac_str(const uint8_t m[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Text of every column, empty where DESIGN.md says the value is absent. */
struct cols {
	char proto[4], a_addr[46], b_addr[46], vlan[8];
	char mac[2][18], flags[2][9], first[2][12], last[2][12];
	char call_id[33];
	const char *proto_s;
	/* record version 2 */
	char tcp[2][4][24]; /* seq, acked, retx, missed of a's, b's stream */
	char tunnel[WT_TUNNEL_MAX_DEPTH * 8], tunnel_id[WT_TUNNEL_MAX_DEPTH * 24];
	char outer[2][46];
};

static void
u64_col(char *buf, size_t len, int present, uint64_t v)
{
	if (present)
		snprintf(buf, len, "%" PRIu64, v);
	else
		buf[0] = '\0';
}

/* tunnel: the chain outer first, joined by '/'; tunnel_id: one entry per
 * level in the same order (empty for a level without an id), GTP-U as
 * "a_teid:b_teid"; empty when no level has an id. */
static void
make_tunnel_cols(const struct wt_callrec *r, struct cols *c)
{
	size_t tl = 0, il = 0;
	unsigned int depth = r->tun_depth <= WT_TUNNEL_MAX_DEPTH ? r->tun_depth : 0;

	c->tunnel[0] = c->tunnel_id[0] = '\0';
	for (unsigned int i = 0; i < depth; i++) {
		tl += (size_t)snprintf(c->tunnel + tl, sizeof(c->tunnel) - tl, "%s%s", i ? "/" : "",
		                       wt_tunnel_name(r->tun_type[i]));
		char id[24] = "";
		int has_a = (r->tun_idmask >> i) & 1, has_b = (r->tun_idmask >> (4 + i)) & 1;
		if (r->tun_type[i] == WT_TUNNEL_GTPU && (has_a || has_b)) {
			char x[12] = "", y[12] = "";
			if (has_a)
				snprintf(x, sizeof(x), "%" PRIu32, r->tun_id[i]);
			if (has_b)
				snprintf(y, sizeof(y), "%" PRIu32, r->tun_teid_b);
			snprintf(id, sizeof(id), "%s:%s", x, y);
		} else if (has_a) {
			snprintf(id, sizeof(id), "%" PRIu32, r->tun_id[i]);
		}
		il += (size_t)snprintf(c->tunnel_id + il, sizeof(c->tunnel_id) - il, "%s%s",
		                       i ? "/" : "", id);
	}
	if ((r->tun_idmask & 0xff) == 0)
		c->tunnel_id[0] = '\0';
	for (int i = 0; i < 2; i++) {
		if (depth > 0 && (r->tun_flags & (i == 0 ? WT_TUN_OUTER_A : WT_TUN_OUTER_B)))
			wt_addr_str(i == 0 ? r->outer_a : r->outer_b, r->outer_family, c->outer[i]);
		else
			c->outer[i][0] = '\0';
	}
}

static void
make_cols(const struct wt_callrec *r, struct cols *c)
{
	int tcp = r->proto == WT_IPPROTO_TCP;

	c->proto_s = wt_proto_name(r->proto, c->proto);
	wt_addr_str(r->addr_a, r->family, c->a_addr);
	wt_addr_str(r->addr_b, r->family, c->b_addr);
	if (r->vlan)
		snprintf(c->vlan, sizeof(c->vlan), "%u", r->vlan);
	else
		c->vlan[0] = '\0';
	for (int i = 0; i < 2; i++) {
		const uint8_t *m = i == 0 ? r->mac_a : r->mac_b;
		if (r->d[i].pkts)
			mac_str(m, c->mac[i]);
		else
			c->mac[i][0] = '\0';
		if (tcp)
			wt_tcp_flags_str(r->flags[i], c->flags[i]);
		else
			c->flags[i][0] = '\0';
		if (tcp && (r->seq_valid & (1u << i))) {
			snprintf(c->first[i], sizeof(c->first[i]), "%" PRIu32, r->d[i].first_seq);
			snprintf(c->last[i], sizeof(c->last[i]), "%" PRIu32, r->d[i].last_seq);
		} else {
			c->first[i][0] = '\0';
			c->last[i][0] = '\0';
		}
	}
	wt_call_id_str(r->call_id, c->call_id);
	int tv = tcp && (r->tcp_valid & WT_TCP_VALID);
	for (int i = 0; i < 2; i++) {
		const struct wt_tcpstats *t = &r->t[i];
		int acked = tv && (r->tcp_valid & (i == 0 ? WT_TCP_ACKED_A : WT_TCP_ACKED_B));
		u64_col(c->tcp[i][0], sizeof(c->tcp[i][0]), tv, t->seq_bytes);
		u64_col(c->tcp[i][1], sizeof(c->tcp[i][1]), acked, t->acked_bytes);
		u64_col(c->tcp[i][2], sizeof(c->tcp[i][2]), tv, t->retx_bytes);
		u64_col(c->tcp[i][3], sizeof(c->tcp[i][3]), tv, t->missed_bytes);
	}
	make_tunnel_cols(r, c);
}

static int
finish(int n, size_t len)
{
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int
wt_callrec_format_csv(char *buf, size_t len, const struct wt_callrec *r)
{
	struct cols c;

	if (len < WT_CALLREC_LINE_MAX)
		return -ENOSPC;
	make_cols(r, &c);
	int n = snprintf(buf, len,
	                 "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s,%u,%s,%u,%s,%s,"
	                 "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s,%s,"
	                 "%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s,%s,%s,%s,%s,"
	                 "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
	                 r->seq, r->start_ns, r->end_ns, c.proto_s, c.a_addr, r->port_a, c.b_addr,
	                 r->port_b, wt_origin_name(r->origin), c.vlan, c.mac[0], r->d[0].pkts,
	                 r->d[0].bytes, r->d[0].ip_bytes, c.flags[0], c.first[0], c.last[0],
	                 c.mac[1], r->d[1].pkts, r->d[1].bytes, r->d[1].ip_bytes, c.flags[1],
	                 c.first[1], c.last[1], wt_end_reason_name(r->end_reason), c.call_id,
	                 c.tcp[0][0], c.tcp[0][1], c.tcp[0][2], c.tcp[0][3], c.tcp[1][0],
	                 c.tcp[1][1], c.tcp[1][2], c.tcp[1][3], c.tunnel, c.tunnel_id, c.outer[0],
	                 c.outer[1]);
	return finish(n, len);
}

/* JSON: absent values are null; strings are quoted; numbers are bare. */
static const char *
jstr(const char *s, char *tmp, size_t tlen)
{
	if (s[0] == '\0')
		return "null";
	snprintf(tmp, tlen, "\"%s\"", s);
	return tmp;
}

/* TCP flags are a string even when empty; other protocols have none. */
static const char *
jflags(const struct wt_callrec *r, const char *s, char *tmp, size_t tlen)
{
	if (r->proto != WT_IPPROTO_TCP)
		return "null";
	snprintf(tmp, tlen, "\"%s\"", s);
	return tmp;
}

static const char *
jnum(const char *s)
{
	return s[0] == '\0' ? "null" : s;
}

int
wt_callrec_format_json(char *buf, size_t len, const struct wt_callrec *r)
{
	struct cols c;
	char m0[24], m1[24], f0[16], f1[16], tn[WT_TUNNEL_MAX_DEPTH * 8 + 2],
	        ti[WT_TUNNEL_MAX_DEPTH * 24 + 2], o0[48], o1[48];

	if (len < WT_CALLREC_LINE_MAX)
		return -ENOSPC;
	make_cols(r, &c);
	int n = snprintf(
	        buf, len,
	        "{\"seq\":%" PRIu64 ",\"start_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64
	        ",\"proto\":\"%s\",\"a_addr\":\"%s\",\"a_port\":%u,\"b_addr\":\"%s\",\"b_port\":%u"
	        ",\"origin\":\"%s\",\"vlan\":%s"
	        ",\"a_mac\":%s,\"a_pkts\":%" PRIu64 ",\"a_bytes\":%" PRIu64
	        ",\"a_ip_bytes\":%" PRIu64 ",\"a_flags\":%s,\"a_first_seq\":%s,\"a_last_seq\":%s"
	        ",\"b_mac\":%s,\"b_pkts\":%" PRIu64 ",\"b_bytes\":%" PRIu64
	        ",\"b_ip_bytes\":%" PRIu64 ",\"b_flags\":%s,\"b_first_seq\":%s,\"b_last_seq\":%s"
	        ",\"end_reason\":\"%s\",\"call_id\":\"%s\""
	        ",\"a_seq_bytes\":%s,\"a_acked_bytes\":%s,\"a_retx_bytes\":%s,\"a_missed_bytes\":%s"
	        ",\"b_seq_bytes\":%s,\"b_acked_bytes\":%s,\"b_retx_bytes\":%s,\"b_missed_bytes\":%s"
	        ",\"tunnel\":%s,\"tunnel_id\":%s,\"outer_a_addr\":%s,\"outer_b_addr\":%s}\n",
	        r->seq, r->start_ns, r->end_ns, c.proto_s, c.a_addr, r->port_a, c.b_addr, r->port_b,
	        wt_origin_name(r->origin), jnum(c.vlan), jstr(c.mac[0], m0, sizeof(m0)),
	        r->d[0].pkts, r->d[0].bytes, r->d[0].ip_bytes,
	        jflags(r, c.flags[0], f0, sizeof(f0)), jnum(c.first[0]), jnum(c.last[0]),
	        jstr(c.mac[1], m1, sizeof(m1)), r->d[1].pkts, r->d[1].bytes, r->d[1].ip_bytes,
	        jflags(r, c.flags[1], f1, sizeof(f1)), jnum(c.first[1]), jnum(c.last[1]),
	        wt_end_reason_name(r->end_reason), c.call_id, jnum(c.tcp[0][0]), jnum(c.tcp[0][1]),
	        jnum(c.tcp[0][2]), jnum(c.tcp[0][3]), jnum(c.tcp[1][0]), jnum(c.tcp[1][1]),
	        jnum(c.tcp[1][2]), jnum(c.tcp[1][3]), jstr(c.tunnel, tn, sizeof(tn)),
	        jstr(c.tunnel_id, ti, sizeof(ti)), jstr(c.outer[0], o0, sizeof(o0)),
	        jstr(c.outer[1], o1, sizeof(o1)));
	return finish(n, len);
}
