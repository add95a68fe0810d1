/* SPDX-License-Identifier: BSD-3-Clause */
/* stitch.c: fragment assembly, the patent's process 73, offline over a whole log.
 *
 * How it works
 *   A connection idle longer than the completion scan interval is completed
 *   (end_reason idle) and its next packet makes a new record: one
 *   connection, several records ("fragments"). Interim records (end_reason
 *   active) split a long call the same way, under one call_id.
 *
 *   All records are kept, then sorted by connection key (proto, family,
 *   vlan, a and b endpoints: the canonical order makes both directions one
 *   key; for a connection inside tunnels also the chain, the VNIs and GRE
 *   keys and the outer addresses of both sides, as the monitor keys it) and,
 *   within a key, by start time (then seq). Walking a key's
 *   records in that order, each record either joins the chain built so far
 *   or starts a new one. The rules, in order (docs/READER.md, "Stitching"):
 *     R1  same call_id as the chain's last record: joins (interim records
 *         of one call always merge);
 *     R2  it starts before the chain ended: a new chain (overlap; e.g. the
 *         same capture logged twice);
 *     R3  the idle time from the chain's end to its start exceeds the gap
 *         (--stitch-gap): a new chain;
 *     TCP only:
 *     R4  it carries a SYN: a new connection, unless every side that sent
 *         a SYN in it either sent the same initial sequence number in the
 *         chain (a retransmitted SYN of the same handshake) or sent nothing
 *         in the chain, which has the other side's SYN (the late answer to
 *         it);
 *     R5  the chain is closed (FIN from both sides, or a RST) and it
 *         carries payload: a new connection (a payload-free record after
 *         the close is the close's last ACK or a retransmitted FIN);
 *     R6  per side with sequence numbers in both: its first_seq must be
 *         within WTR_STITCH_SEQ_WINDOW of the chain's last_seq (mod 2^32)
 *         on that side: 0 when every packet was seen, -1 for a keep-alive
 *         probe, below for a retransmission, above when the tap lost the
 *         packets in between;
 *     otherwise it joins.
 *   A merged record: seq, call_id, start_ns of the first fragment; origin of
 *   the first fragment that knows it;
 *   end_ns the latest end; end_reason of the last; packets and bytes
 *   summed; flags or-ed; per side first_seq of the first fragment with
 *   sequence numbers on that side, last_seq of the last one; MAC of the
 *   first fragment in which that side sent; tunnel fields of the first
 *   fragment, a GTP-U TEID from the first fragment that has it. TCP stream figures (record
 *   version 2): the parts of one call are summed (FORMAT.md 5.4); a fragment
 *   of another call whose stream starts below the chain's end on that side
 *   (each call numbers its stream from its own first byte: a retransmission
 *   or keep-alive after an idle split) has that overlap taken out of its
 *   seq_bytes and counted as retransmitted, so no byte of the stream counts
 *   twice; one that starts beyond it adds the space between the calls to
 *   seq_bytes and missed_bytes (no segment seen carried it); so the merged
 *   record's space runs from the first byte to the last, and bytes = seq -
 *   missed + retx still holds. Acknowledged bytes are summed (the ACK advance
 *   across an idle split is in neither call).
 *
 * Limits: every record is held in memory (304 bytes each, plus 16 of
 * index); a connection whose fragments are in different logs is only
 * stitched when the logs are read together.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stitch.h"

struct wtr_stitch {
	uint64_t gap_ns;
	struct wt_callrec *recs;
	size_t n, cap;
	struct wtr_stitch_stats st;
};

struct wtr_stitch *
wtr_stitch_create(uint64_t gap_ns)
{
	struct wtr_stitch *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->gap_ns = gap_ns;
	return s;
}

int
wtr_stitch_add(struct wtr_stitch *s, const struct wt_callrec *r)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		struct wt_callrec *nv = realloc(s->recs, ncap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		s->recs = nv;
		s->cap = ncap;
	}
	s->recs[s->n++] = *r;
	s->st.records_in++;
	return 0;
}

static int
cmp_u64(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

/* The tunnel part of the key (record version 2): the chain, the ids that
 * name a network (not GTP-U TEIDs: per direction), the outer addresses of
 * both sides. */
static int
tunnel_cmp(const struct wt_callrec *x, const struct wt_callrec *y)
{
	int c;

	if (x->tun_depth != y->tun_depth)
		return x->tun_depth < y->tun_depth ? -1 : 1;
	if (x->tun_depth == 0)
		return 0;
	if ((c = memcmp(x->tun_type, y->tun_type, sizeof(x->tun_type))) != 0)
		return c;
	for (unsigned int l = 0; l < x->tun_depth && l < WT_TUNNEL_MAX_DEPTH; l++) {
		if (x->tun_type[l] == WT_TUNNEL_GTPU)
			continue;
		if (((x->tun_idmask ^ y->tun_idmask) >> l) & 1)
			return (x->tun_idmask >> l) & 1 ? 1 : -1;
		if (((x->tun_idmask >> l) & 1) && x->tun_id[l] != y->tun_id[l])
			return x->tun_id[l] < y->tun_id[l] ? -1 : 1;
	}
	if (x->outer_family != y->outer_family)
		return x->outer_family < y->outer_family ? -1 : 1;
	if ((c = memcmp(x->outer_a, y->outer_a, 16)) != 0)
		return c;
	return memcmp(x->outer_b, y->outer_b, 16);
}

/* Connection key order: both directions of a connection have one key. */
static int
key_cmp(const struct wt_callrec *x, const struct wt_callrec *y)
{
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->vlan != y->vlan)
		return x->vlan < y->vlan ? -1 : 1;
	if ((c = memcmp(x->addr_a, y->addr_a, 16)) != 0)
		return c;
	if (x->port_a != y->port_a)
		return x->port_a < y->port_a ? -1 : 1;
	if ((c = memcmp(x->addr_b, y->addr_b, 16)) != 0)
		return c;
	if (x->port_b != y->port_b)
		return x->port_b < y->port_b ? -1 : 1;
	return tunnel_cmp(x, y);
}

/* Key, then start time, then seq, then position: a total order, so the
 * result does not depend on qsort. */
static int
order_cmp(const void *a, const void *b, void *arg)
{
	const struct wt_callrec *recs = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = key_cmp(&recs[i], &recs[j]);

	if (c == 0)
		c = cmp_u64(recs[i].start_ns, recs[j].start_ns);
	if (c == 0)
		c = cmp_u64(recs[i].seq, recs[j].seq);
	return c ? c : cmp_u64(i, j);
}

#define SIDE_BIT(s) ((s) == 0 ? WT_SEQ_VALID_A : WT_SEQ_VALID_B)

/* Does @n continue the chain @m (merged so far; @last_id the call_id of its
 * last fragment)? -1 when it does, else the reason why not. */
static int
decide(const struct wtr_stitch *s, const struct wt_callrec *m, const uint64_t last_id[2],
       const struct wt_callrec *n, bool *same_call)
{
	*same_call = n->call_id[0] == last_id[0] && n->call_id[1] == last_id[1];
	if (*same_call)
		return -1;
	if (n->start_ns < m->end_ns)
		return WTR_STITCH_OVERLAP;
	if (n->start_ns - m->end_ns > s->gap_ns)
		return WTR_STITCH_GAP;
	if (n->proto != WT_IPPROTO_TCP)
		return -1;
	for (int side = 0; side < 2; side++) {
		if (!(n->flags[side] & WT_TCP_SYN))
			continue;
		bool retransmitted = (m->seq_valid & n->seq_valid & SIDE_BIT(side)) &&
		                     m->d[side].first_seq == n->d[side].first_seq;
		bool answer = m->d[side].pkts == 0 && (m->flags[!side] & WT_TCP_SYN);
		if (!retransmitted && !answer)
			return WTR_STITCH_SYN;
	}
	uint8_t mf = m->flags[0] | m->flags[1];
	bool closed = ((m->flags[0] & m->flags[1]) & WT_TCP_FIN) || (mf & WT_TCP_RST);
	if (closed && n->d[0].bytes + n->d[1].bytes > 0)
		return WTR_STITCH_CLOSED;
	for (int side = 0; side < 2; side++) {
		if (!(m->seq_valid & n->seq_valid & SIDE_BIT(side)))
			continue;
		int64_t d = (int32_t)(n->d[side].first_seq - m->d[side].last_seq);
		if (d > (int64_t)WTR_STITCH_SEQ_WINDOW || d < -(int64_t)WTR_STITCH_SEQ_WINDOW)
			return WTR_STITCH_SEQ;
	}
	return -1;
}

/* The TCP figures of fragment @n into the chain @m (DESIGN.md section 3;
 * the retransmission rule across calls above). */
static void
merge_tcp(struct wt_callrec *m, const struct wt_callrec *n, bool same_call)
{
	if (!(n->tcp_valid & WT_TCP_VALID))
		return;
	if (!(m->tcp_valid & WT_TCP_VALID)) {
		memcpy(m->t, n->t, sizeof(m->t));
		memcpy(m->tcp_base, n->tcp_base, sizeof(m->tcp_base));
		m->tcp_valid = n->tcp_valid;
		return;
	}
	for (int side = 0; side < 2; side++) {
		struct wt_tcpstats *mt = &m->t[side];
		const struct wt_tcpstats *nt = &n->t[side];
		uint8_t base = (uint8_t)(WT_TCP_BASE_A << side);
		uint64_t overlap = 0, gap = 0;
		if (!same_call && (m->tcp_valid & n->tcp_valid & base)) {
			uint32_t chain_end = m->tcp_base[side] + (uint32_t)mt->seq_bytes;
			int32_t d = (int32_t)(n->tcp_base[side] - chain_end);
			if (d < 0)
				overlap = (uint64_t) - (int64_t)d < nt->seq_bytes
				                  ? (uint64_t) - (int64_t)d
				                  : nt->seq_bytes;
			else
				gap = (uint64_t)d; /* bytes between the calls no segment carried */
		}
		mt->seq_bytes += nt->seq_bytes - overlap + gap;
		mt->retx_bytes += nt->retx_bytes + overlap;
		mt->missed_bytes += nt->missed_bytes + gap;
		mt->acked_bytes += nt->acked_bytes;
		if ((n->tcp_valid & base) && (same_call || !(m->tcp_valid & base)))
			m->tcp_base[side] = n->tcp_base[side];
	}
	m->tcp_valid |= n->tcp_valid;
}

static void
merge_into(struct wt_callrec *m, const struct wt_callrec *n, bool same_call)
{
	if (n->end_ns > m->end_ns)
		m->end_ns = n->end_ns;
	m->end_reason = n->end_reason;
	/* a call whose SYN came after its first part learns its origin later */
	if (m->origin == WT_ORIGIN_UNKNOWN)
		m->origin = n->origin;
	for (int side = 0; side < 2; side++) {
		struct wt_dirstats *md = &m->d[side];
		const struct wt_dirstats *nd = &n->d[side];
		uint8_t *mac = side == 0 ? m->mac_a : m->mac_b;
		if (md->pkts == 0 && nd->pkts > 0)
			memcpy(mac, side == 0 ? n->mac_a : n->mac_b, 6);
		md->pkts += nd->pkts;
		md->bytes += nd->bytes;
		md->ip_bytes += nd->ip_bytes;
		m->flags[side] |= n->flags[side];
		if (n->seq_valid & SIDE_BIT(side)) {
			if (!(m->seq_valid & SIDE_BIT(side)))
				md->first_seq = nd->first_seq;
			md->last_seq = nd->last_seq;
		}
	}
	m->seq_valid |= n->seq_valid;
	merge_tcp(m, n, same_call);
	/* GTP-U TEIDs a side's first packets brought in a later fragment */
	for (unsigned int l = 0; l < m->tun_depth && l < WT_TUNNEL_MAX_DEPTH; l++) {
		if (m->tun_type[l] != WT_TUNNEL_GTPU)
			continue;
		uint8_t a = (uint8_t)(1u << l), b = (uint8_t)(1u << (4 + l));
		if (!(m->tun_idmask & a) && (n->tun_idmask & a)) {
			m->tun_id[l] = n->tun_id[l];
			m->tun_idmask |= a;
		}
		if (!(m->tun_idmask & b) && (n->tun_idmask & b)) {
			m->tun_teid_b = n->tun_teid_b;
			m->tun_idmask |= b;
		}
		break;
	}
}

/* A TCP record that still looks like a fragment: its start (SYN) is
 * missing, or the scan or the table ended it before a close. */
static bool
looks_incomplete(const struct wt_callrec *r)
{
	uint8_t f = r->flags[0] | r->flags[1];
	bool closed = ((r->flags[0] & r->flags[1]) & WT_TCP_FIN) || (f & WT_TCP_RST);

	if (r->proto != WT_IPPROTO_TCP)
		return false;
	return !(f & WT_TCP_SYN) ||
	       (!closed && (r->end_reason == WT_END_IDLE || r->end_reason == WT_END_EVICTED));
}

int
wtr_stitch_finish(struct wtr_stitch *s, wtr_stitch_emit_fn emit, void *arg)
{
	size_t *idx = malloc((s->n ? s->n : 1) * sizeof(*idx));
	uint32_t *parts = calloc(s->n ? s->n : 1, sizeof(*parts)); /* 0: merged away */
	int rc = 0;

	if (idx == NULL || parts == NULL) {
		free(idx);
		free(parts);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++)
		idx[i] = i;
	qsort_r(idx, s->n, sizeof(*idx), order_cmp, s->recs);
	size_t head = 0;
	uint64_t last_id[2] = {0, 0};
	for (size_t k = 0; k < s->n; k++) {
		size_t i = idx[k];
		struct wt_callrec *r = &s->recs[i];
		bool same_call = false;
		int why = -2; /* first of its key */
		if (k > 0 && key_cmp(&s->recs[head], r) == 0)
			why = decide(s, &s->recs[head], last_id, r, &same_call);
		if (why == -1) {
			merge_into(&s->recs[head], r, same_call);
			parts[head]++;
			s->st.same_call += same_call;
		} else {
			if (why >= 0)
				s->st.refused[why]++;
			head = i;
			parts[head] = 1;
		}
		last_id[0] = r->call_id[0];
		last_id[1] = r->call_id[1];
	}
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		if (parts[i] == 0)
			continue;
		s->st.records_out++;
		if (parts[i] > 1) {
			s->st.merged_records++;
			s->st.fragments_merged += parts[i];
		}
		s->st.incomplete += looks_incomplete(&s->recs[i]);
		rc = emit(arg, &s->recs[i]);
	}
	free(idx);
	free(parts);
	return rc;
}

const struct wtr_stitch_stats *
wtr_stitch_stats(const struct wtr_stitch *s)
{
	return &s->st;
}

void
wtr_stitch_print(const struct wtr_stitch *s, FILE *f)
{
	const struct wtr_stitch_stats *st = &s->st;

	fprintf(f,
	        "wiretally-read: stitch: %" PRIu64 " records in, %" PRIu64 " out: %" PRIu64
	        " fragments merged into %" PRIu64 " records (%" PRIu64
	        " merges by call_id); not merged, of the same endpoints: %" PRIu64
	        " overlapping, %" PRIu64 " after a gap over %.9g s, %" PRIu64 " new SYN, %" PRIu64
	        " payload after the close, %" PRIu64 " sequence jump; %" PRIu64
	        " TCP records left that look like fragments (no SYN, or ended idle or evicted "
	        "before a close)\n",
	        st->records_in, st->records_out, st->fragments_merged, st->merged_records,
	        st->same_call, st->refused[WTR_STITCH_OVERLAP], st->refused[WTR_STITCH_GAP],
	        (double)s->gap_ns / 1e9, st->refused[WTR_STITCH_SYN],
	        st->refused[WTR_STITCH_CLOSED], st->refused[WTR_STITCH_SEQ], st->incomplete);
}

void
wtr_stitch_free(struct wtr_stitch *s)
{
	if (s == NULL)
		return;
	free(s->recs);
	free(s);
}
