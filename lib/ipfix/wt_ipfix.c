/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_ipfix.c: IPFIX encoder: the eight biflow templates, data records, message framing. */
#include <errno.h>
#include <string.h>

#include "wt_ipfix.h"

const struct wt_ipfix_element_def wt_ipfix_elements[WT_IPFIX_EL_MAX] = {
#define WT_IPFIX_EL_DEF(e, pen, id, len, where, name) \
	[WT_IPFIX_EL_##e] = {pen, id, len, where, name},
        WT_IPFIX_FOREACH_ELEMENT(WT_IPFIX_EL_DEF)
#undef WT_IPFIX_EL_DEF
};

static int
tpl_is_tcp(uint16_t tid)
{
	return !((tid - WT_IPFIX_TPL_FIRST) & 1);
}

static int
tpl_is_v6(uint16_t tid)
{
	return ((tid - WT_IPFIX_TPL_FIRST) >> 1) & 1;
}

static int
tpl_is_tun(uint16_t tid)
{
	return ((tid - WT_IPFIX_TPL_FIRST) >> 2) & 1;
}

int
wt_ipfix_template_has(uint16_t tid, enum wt_ipfix_element e)
{
	switch (wt_ipfix_elements[e].where) {
	case WT_IPFIX_IN_TCP:
		return tpl_is_tcp(tid);
	case WT_IPFIX_IN_V4:
		return !tpl_is_v6(tid);
	case WT_IPFIX_IN_V6:
		return tpl_is_v6(tid);
	case WT_IPFIX_IN_TUN:
		return tpl_is_tun(tid);
	default:
		return 1;
	}
}

uint16_t
wt_ipfix_template_of(const struct wt_callrec *r)
{
	unsigned int k = (r->proto == WT_IPPROTO_TCP ? 0 : 1) | (r->family == 6 ? 2 : 0) |
	                 (r->tun_depth != 0 ? 4 : 0);
	return (uint16_t)(WT_IPFIX_TPL_FIRST + k);
}

size_t
wt_ipfix_record_len(uint16_t tid)
{
	size_t n = 0;
	for (int e = 0; e < WT_IPFIX_EL_MAX; e++)
		if (wt_ipfix_template_has(tid, (enum wt_ipfix_element)e))
			n += wt_ipfix_elements[e].len;
	return n;
}

/* Bytes of one template record: header, then 4 bytes per element and 4
 * more per enterprise-specific one. */
static size_t
template_record_len(uint16_t tid)
{
	size_t n = 4;
	for (int e = 0; e < WT_IPFIX_EL_MAX; e++)
		if (wt_ipfix_template_has(tid, (enum wt_ipfix_element)e))
			n += wt_ipfix_elements[e].pen ? 8 : 4;
	return n;
}

unsigned int
wt_ipfix_template_group(uint16_t tid)
{
	return tpl_is_tun(tid) ? WT_IPFIX_TPL_GROUP_TUN : WT_IPFIX_TPL_GROUP_PLAIN;
}

size_t
wt_ipfix_template_sets_len(unsigned int groups)
{
	size_t n = 0;
	for (unsigned int g = WT_IPFIX_TPL_GROUP_PLAIN; g <= WT_IPFIX_TPL_GROUP_TUN; g <<= 1) {
		if (!(groups & g))
			continue;
		n += WT_IPFIX_SET_HDR_LEN;
		for (uint16_t t = 0; t < WT_IPFIX_NTPL; t++) {
			uint16_t tid = (uint16_t)(WT_IPFIX_TPL_FIRST + t);
			if (wt_ipfix_template_group(tid) == g)
				n += template_record_len(tid);
		}
	}
	return n;
}

size_t
wt_ipfix_template_set_len(void)
{
	return wt_ipfix_template_sets_len(WT_IPFIX_TPL_GROUP_ALL);
}

uint8_t
wt_ipfix_flow_end_reason(const struct wt_callrec *r)
{
	switch (r->end_reason) {
	case WT_END_ACTIVE:
		return WT_IPFIX_END_ACTIVE;
	case WT_END_EVICTED:
		return WT_IPFIX_END_LACK;
	case WT_END_IDLE:
	case WT_END_SHUTDOWN:
		if (r->proto == WT_IPPROTO_TCP && (((r->flags[0] | r->flags[1]) & WT_TCP_RST) ||
		                                   ((r->flags[0] & r->flags[1]) & WT_TCP_FIN)))
			return WT_IPFIX_END_EOF;
		return r->end_reason == WT_END_IDLE ? WT_IPFIX_END_IDLE : WT_IPFIX_END_FORCED;
	default:
		return WT_IPFIX_END_FORCED;
	}
}

/* ---- big-endian writers ------------------------------------------------ */

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p = put16(p, (uint16_t)(v >> 16));
	return put16(p, (uint16_t)v);
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	p = put32(p, (uint32_t)(v >> 32));
	return put32(p, (uint32_t)v);
}

static uint8_t *
putn(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

/* ---- messages ----------------------------------------------------------- */

void
wt_ipfix_msg_begin(struct wt_ipfix_msg *m, uint8_t *buf, size_t cap)
{
	m->buf = buf;
	m->cap = cap > WT_IPFIX_MAX_MSG ? WT_IPFIX_MAX_MSG : cap;
	m->len = WT_IPFIX_HDR_LEN;
	m->set_off = 0;
	m->set_id = 0;
	m->records = 0;
	m->templates = 0;
}

static void
close_set(struct wt_ipfix_msg *m)
{
	if (m->set_off == 0)
		return;
	put16(m->buf + m->set_off, m->set_id);
	put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
	m->set_id = 0;
}

int
wt_ipfix_msg_add_template_sets(struct wt_ipfix_msg *m, unsigned int groups)
{
	if (m->len + wt_ipfix_template_sets_len(groups) > m->cap)
		return -ENOSPC;
	close_set(m);
	for (unsigned int g = WT_IPFIX_TPL_GROUP_PLAIN; g <= WT_IPFIX_TPL_GROUP_TUN; g <<= 1) {
		if (!(groups & g))
			continue;
		m->set_off = m->len;
		m->set_id = WT_IPFIX_TEMPLATE_SET_ID;
		uint8_t *p = m->buf + m->len + WT_IPFIX_SET_HDR_LEN;
		for (uint16_t t = 0; t < WT_IPFIX_NTPL; t++) {
			uint16_t tid = (uint16_t)(WT_IPFIX_TPL_FIRST + t);
			if (wt_ipfix_template_group(tid) != g)
				continue;
			uint8_t *count = p + 2;
			uint16_t n = 0;
			p = put16(p, tid);
			p += 2;
			for (int e = 0; e < WT_IPFIX_EL_MAX; e++) {
				const struct wt_ipfix_element_def *d = &wt_ipfix_elements[e];
				if (!wt_ipfix_template_has(tid, (enum wt_ipfix_element)e))
					continue;
				p = put16(p, (uint16_t)(d->id | (d->pen ? 0x8000u : 0)));
				p = put16(p, d->len);
				if (d->pen)
					p = put32(p, d->pen);
				n++;
			}
			put16(count, n);
			m->templates++;
		}
		m->len = (size_t)(p - m->buf);
		close_set(m);
	}
	return 0;
}

int
wt_ipfix_msg_add_templates(struct wt_ipfix_msg *m)
{
	return wt_ipfix_msg_add_template_sets(m, WT_IPFIX_TPL_GROUP_ALL);
}

static const uint8_t zero16[16];

/* Level @l of @r has a VNI or GRE key (not a GTP-U TEID). */
static int
tun_net_id(const struct wt_callrec *r, int l)
{
	return l < r->tun_depth && ((r->tun_idmask >> l) & 1) && r->tun_type[l] != WT_TUNNEL_GTPU;
}

/* The TEID of side @side's packets (0 = a) at the record's GTP-U level. */
static int
tun_teid(const struct wt_callrec *r, int side, uint32_t *teid)
{
	for (int l = 0; l < r->tun_depth && l < WT_TUNNEL_MAX_DEPTH; l++) {
		if (r->tun_type[l] != WT_TUNNEL_GTPU)
			continue;
		if (side == 0 && ((r->tun_idmask >> l) & 1)) {
			*teid = r->tun_id[l];
			return 1;
		}
		if (side == 1 && ((r->tun_idmask >> (4 + l)) & 1)) {
			*teid = r->tun_teid_b;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* The value of element @e for record @r, written at @p. fwd/rev: index of
 * the forward and reverse direction in r->d[] (0 = a, 1 = b). */
static uint8_t *
put_element(uint8_t *p, enum wt_ipfix_element e, const struct wt_callrec *r, int fwd)
{
	int rev = 1 - fwd;
	const uint8_t *addr[2] = {r->addr_a, r->addr_b};
	const uint16_t port[2] = {r->port_a, r->port_b};
	const uint8_t *mac[2] = {r->mac_a, r->mac_b};

	switch (e) {
	case WT_IPFIX_EL_START_MS:
		return put64(p, r->start_ns / 1000000u);
	case WT_IPFIX_EL_END_MS:
		return put64(p, r->end_ns / 1000000u);
	case WT_IPFIX_EL_SRC4:
		return putn(p, addr[fwd], 4);
	case WT_IPFIX_EL_DST4:
		return putn(p, addr[rev], 4);
	case WT_IPFIX_EL_SRC6:
		return putn(p, addr[fwd], 16);
	case WT_IPFIX_EL_DST6:
		return putn(p, addr[rev], 16);
	case WT_IPFIX_EL_SPORT:
		return put16(p, port[fwd]);
	case WT_IPFIX_EL_DPORT:
		return put16(p, port[rev]);
	case WT_IPFIX_EL_PROTO:
		*p = r->proto;
		return p + 1;
	case WT_IPFIX_EL_VLAN:
		return put16(p, r->vlan);
	case WT_IPFIX_EL_BIDIR:
		*p = r->origin == WT_ORIGIN_A || r->origin == WT_ORIGIN_B
		             ? WT_IPFIX_BIDIR_INITIATOR
		             : WT_IPFIX_BIDIR_ARBITRARY;
		return p + 1;
	case WT_IPFIX_EL_END_REASON:
		*p = wt_ipfix_flow_end_reason(r);
		return p + 1;
	case WT_IPFIX_EL_REV_SMAC:
		return putn(p, mac[rev], 6);
	case WT_IPFIX_EL_SMAC:
		return putn(p, mac[fwd], 6);
	case WT_IPFIX_EL_PKTS:
		return put64(p, r->d[fwd].pkts);
	case WT_IPFIX_EL_OCTETS:
		return put64(p, r->d[fwd].ip_bytes);
	case WT_IPFIX_EL_REV_PKTS:
		return put64(p, r->d[rev].pkts);
	case WT_IPFIX_EL_REV_OCTETS:
		return put64(p, r->d[rev].ip_bytes);
	case WT_IPFIX_EL_REV_FLAGS: /* 1 byte: reduced-size encoding */
		*p = r->flags[rev];
		return p + 1;
	case WT_IPFIX_EL_FLAGS:
		*p = r->flags[fwd];
		return p + 1;
	case WT_IPFIX_EL_PAYLOAD:
		return put64(p, r->d[fwd].bytes);
	case WT_IPFIX_EL_REV_PAYLOAD:
		return put64(p, r->d[rev].bytes);
	case WT_IPFIX_EL_SEQ_FIRST:
		return put32(p, r->d[fwd].first_seq);
	case WT_IPFIX_EL_REV_SEQ_FIRST:
		return put32(p, r->d[rev].first_seq);
	case WT_IPFIX_EL_SEQ_LAST:
		return put32(p, r->d[fwd].last_seq);
	case WT_IPFIX_EL_REV_SEQ_LAST:
		return put32(p, r->d[rev].last_seq);
	case WT_IPFIX_EL_SEQ_VALID:
		*p = (uint8_t)(((r->seq_valid >> fwd) & 1 ? WT_IPFIX_SEQ_VALID_FWD : 0) |
		               ((r->seq_valid >> rev) & 1 ? WT_IPFIX_SEQ_VALID_REV : 0));
		return p + 1;
	case WT_IPFIX_EL_REC_SEQ:
		return put64(p, r->seq);
	case WT_IPFIX_EL_CALL_ID:
		p = put64(p, r->call_id[0]);
		return put64(p, r->call_id[1]);
	case WT_IPFIX_EL_WT_END:
		*p = r->end_reason;
		return p + 1;
	case WT_IPFIX_EL_TCP_SEQ:
		return put64(p, r->t[fwd].seq_bytes);
	case WT_IPFIX_EL_REV_TCP_SEQ:
		return put64(p, r->t[rev].seq_bytes);
	case WT_IPFIX_EL_TCP_ACKED:
		return put64(p, r->t[fwd].acked_bytes);
	case WT_IPFIX_EL_REV_TCP_ACKED:
		return put64(p, r->t[rev].acked_bytes);
	case WT_IPFIX_EL_TCP_RETX:
		return put64(p, r->t[fwd].retx_bytes);
	case WT_IPFIX_EL_REV_TCP_RETX:
		return put64(p, r->t[rev].retx_bytes);
	case WT_IPFIX_EL_TCP_MISSED:
		return put64(p, r->t[fwd].missed_bytes);
	case WT_IPFIX_EL_REV_TCP_MISSED:
		return put64(p, r->t[rev].missed_bytes);
	case WT_IPFIX_EL_TCP_VALID:
		*p = (uint8_t)((r->tcp_valid & WT_TCP_VALID ? WT_IPFIX_TCP_VALID : 0) |
		               ((r->tcp_valid >> 1 >> fwd) & 1 ? WT_IPFIX_TCP_ACKED_FWD : 0) |
		               ((r->tcp_valid >> 1 >> rev) & 1 ? WT_IPFIX_TCP_ACKED_REV : 0));
		return p + 1;
	case WT_IPFIX_EL_TUN_CHAIN:
		*p = r->tun_depth;
		return putn(p + 1, r->tun_type, 4);
	case WT_IPFIX_EL_TUN_IDS:
		for (int l = 0; l < WT_TUNNEL_MAX_DEPTH; l++)
			p = put32(p, tun_net_id(r, l) ? r->tun_id[l] : 0);
		return p;
	case WT_IPFIX_EL_TUN_IDS_VALID: {
		uint8_t v = 0;
		for (int l = 0; l < WT_TUNNEL_MAX_DEPTH; l++)
			v |= (uint8_t)(tun_net_id(r, l) << l);
		uint32_t teid;
		v |= tun_teid(r, fwd, &teid) ? WT_IPFIX_TEID_FWD : 0;
		v |= tun_teid(r, rev, &teid) ? WT_IPFIX_TEID_REV : 0;
		*p = v;
		return p + 1;
	}
	case WT_IPFIX_EL_TEID:
	case WT_IPFIX_EL_REV_TEID: {
		uint32_t teid = 0;
		(void)tun_teid(r, e == WT_IPFIX_EL_TEID ? fwd : rev, &teid);
		return put32(p, teid);
	}
	case WT_IPFIX_EL_OUTER_FAMILY:
		*p = r->outer_family;
		return p + 1;
	case WT_IPFIX_EL_OUTER_SRC:
		return putn(p,
		            r->tun_flags & (1u << fwd) ? (fwd ? r->outer_b : r->outer_a) : zero16,
		            16);
	case WT_IPFIX_EL_REV_OUTER_SRC:
		return putn(p,
		            r->tun_flags & (1u << rev) ? (rev ? r->outer_b : r->outer_a) : zero16,
		            16);
	default:
		return p;
	}
}

int
wt_ipfix_msg_add_record(struct wt_ipfix_msg *m, const struct wt_callrec *r)
{
	uint16_t tid = wt_ipfix_template_of(r);
	size_t need = wt_ipfix_record_len(tid);

	if (m->set_off == 0 || m->set_id != tid)
		need += WT_IPFIX_SET_HDR_LEN;
	if (m->len + need > m->cap)
		return -ENOSPC;
	if (m->set_off == 0 || m->set_id != tid) {
		close_set(m);
		m->set_off = m->len;
		m->set_id = tid;
		m->len += WT_IPFIX_SET_HDR_LEN;
	}
	/* forward = the initiator when known, else a */
	int fwd = r->origin == WT_ORIGIN_B ? 1 : 0;
	uint8_t *p = m->buf + m->len;
	for (int e = 0; e < WT_IPFIX_EL_MAX; e++)
		if (wt_ipfix_template_has(tid, (enum wt_ipfix_element)e))
			p = put_element(p, (enum wt_ipfix_element)e, r, fwd);
	m->len = (size_t)(p - m->buf);
	m->records++;
	return 0;
}

size_t
wt_ipfix_msg_finish(struct wt_ipfix_msg *m, uint32_t domain, uint32_t seq, uint32_t export_time)
{
	close_set(m);
	uint8_t *p = m->buf;
	p = put16(p, WT_IPFIX_VERSION);
	p = put16(p, (uint16_t)m->len);
	p = put32(p, export_time);
	p = put32(p, seq);
	put32(p, domain);
	return m->len;
}
