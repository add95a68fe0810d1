/* SPDX-License-Identifier: BSD-3-Clause */
/* calltab_tcp.c: per-direction TCP stream accounting: sequence space, acknowledged,
 * retransmitted and missed bytes (record version 2), the slow paths.
 *
 * How it works. Each direction X of a TCP call keeps, in the record's third
 * cache line, `top` (one past the highest byte of X's stream known to exist:
 * the end of X's highest data segment, X's FIN, or the peer's cumulative
 * ACK), the peer's highest ACK, and two counters of the current part:
 * `acked` (the advance of that ACK) and `retx` (payload bytes not new). A
 * payload byte is new when it lies above `top` (the stream grows) or inside
 * a tracked hole (space below `top` no segment carried yet, which it now
 * fills); every other payload byte is retransmitted: a retransmission, a
 * duplicate, the overlap of a repacketized segment, a byte before the
 * stream's first byte. The in-order segment (sequence number = top) and the
 * ACK that advances within the known space are the hot path, inline in
 * wt_calltab.c; everything else comes here.
 *
 * The figures of a record follow from those: retransmitted = `retx`,
 * acknowledged = `acked`; sequence space and missed differ between interim
 * and final records so that the parts of a call add up to its one record
 * (FORMAT.md 5.4) while a hole that a later part fills is never counted
 * twice:
 *   - an interim record's seq_bytes are its new bytes (payload - retx) and
 *     its missed bytes 0: open holes and space proved only by ACKs or a FIN
 *     are carried to the final record, because they may still fill;
 *   - the final record's seq_bytes are top - acct, where acct is the
 *     stream's first byte plus the seq_bytes of the call's interim records,
 *     and its missed bytes are seq_bytes - new bytes: every byte of the
 *     stream's space that no segment carried.
 * So bytes = seq - missed + retx holds on every record by construction, and
 * sums over the parts equal the one record exactly. Missed bytes are
 * derived, not tracked: a hole forgotten (list or pool full, counted as
 * tcp_hole_untracked) is still missed if nothing fills it; only a segment
 * that fills it later is then counted as retransmitted instead of new.
 *
 * The stream's first byte is ISN + 1 when the SYN was seen, else the first
 * byte of the first segment with payload or FIN, or the peer's first ACK,
 * whichever comes first; a first ACK below it (data sent before the record
 * began, still unacknowledged) moves it back, within WT_TCP_JUMP_MAX.
 * Acknowledged bytes count from ISN + 1 (SYN seen) or the first ACK seen;
 * the ACK of a FIN is not a byte, and ACKs in RST segments are not used.
 *
 * Jumps. A position more than WT_TCP_JUMP_MAX (16 MiB) beyond `top` (a
 * forged or corrupted segment, or a long stretch the tap missed) is held,
 * not used: the segment's payload counts as retransmitted and an ACK there
 * advances nothing. A second packet (data of X or an ACK of the peer) within
 * WT_TCP_JUMP_MAX of the held position confirms it: the space up to it
 * becomes a hole (missed unless filled) and accounting goes on from there.
 * So one bad segment cannot add gigabytes; a real gap costs only the
 * figures of the one segment that revealed it. Positions are unwrapped
 * within 2^31 of `top`: a jump beyond 2 GiB reads as a segment from the
 * past (counted as retransmitted), the limit of every 32-bit sequence
 * tracker.
 */
#include <string.h>

#include "calltab_priv.h"

#define POS_BIAS (1ull << 32) /* the first position of a stream: its sequence number + 2^32 */

static inline uint64_t
pos_of(const struct tcp_dir *x, uint32_t seq)
{
	return x->top + (uint64_t)(int64_t)(int32_t)(seq - (uint32_t)x->top);
}

static void
set_base(struct wt_calltab *t, uint32_t idx, unsigned int dir, uint32_t seq)
{
	struct tcp_dir *x = &t->recs[idx].tcp[dir];
	struct crec_cold *c = &t->cold[idx];

	x->top = POS_BIAS + seq;
	c->base[dir] = x->top;
	c->acct[dir] = x->top;
	x->st |= TCPD_BASE;
}

/* ---- the hole list and the held jump (struct tcp_ext) ---- */

static inline struct tcp_ext *
ext_of(const struct wt_calltab *t, const struct tcp_dir *x)
{
	uint32_t e = x->st >> TCPD_EXT_SHIFT;
	return e ? &t->ext[e - 1] : NULL;
}

static struct tcp_ext *
ext_get(struct wt_calltab *t, struct tcp_dir *x)
{
	struct tcp_ext *e = ext_of(t, x);
	uint32_t i = t->ext_free;

	if (e != NULL)
		return e;
	if (i == 0) {
		t->st.tcp_ext_full++;
		return NULL;
	}
	e = &t->ext[i - 1];
	t->ext_free = e->next_free;
	memset(e, 0, sizeof(*e));
	x->st = (x->st & ((1u << TCPD_EXT_SHIFT) - 1)) | i << TCPD_EXT_SHIFT;
	return e;
}

static void
ext_put(struct wt_calltab *t, struct tcp_dir *x)
{
	uint32_t i = x->st >> TCPD_EXT_SHIFT;

	if (i == 0)
		return;
	t->ext[i - 1].next_free = t->ext_free;
	t->ext_free = i;
	x->st &= (1u << TCPD_EXT_SHIFT) - 1;
}

static void
ext_put_if_empty(struct wt_calltab *t, struct tcp_dir *x)
{
	const struct tcp_ext *e = ext_of(t, x);

	if (e != NULL && e->nholes == 0 && e->jump == 0)
		ext_put(t, x);
}

static inline uint64_t
hole_lo(const struct tcp_ext *e, unsigned int i)
{
	return e->ref + (uint64_t)(int64_t)e->lo[i];
}

static inline uint64_t
hole_hi(const struct tcp_ext *e, unsigned int i)
{
	return e->ref + (uint64_t)(int64_t)e->hi[i];
}

/* Set hole @i to [lo, hi): both within 2^31 of ref (the callers keep them). */
static inline void
hole_set(struct tcp_ext *e, unsigned int i, uint64_t lo, uint64_t hi)
{
	e->lo[i] = (int32_t)(int64_t)(lo - e->ref);
	e->hi[i] = (int32_t)(int64_t)(hi - e->ref);
}

static void
hole_remove(struct tcp_ext *e, unsigned int i)
{
	for (unsigned int j = i + 1; j < e->nholes; j++) {
		e->lo[j - 1] = e->lo[j];
		e->hi[j - 1] = e->hi[j];
	}
	e->nholes--;
}

/* Count from @ref: holes that would lie more than 2^31 below it are
 * forgotten (no segment can fill them any more). */
static void
hole_rebase(struct wt_calltab *t, struct tcp_ext *e, uint64_t ref)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < e->nholes; i++) {
		uint64_t lo = hole_lo(e, i), hi = hole_hi(e, i);
		if (ref - lo >= (1ull << 31)) {
			t->st.tcp_hole_untracked++;
			continue;
		}
		e->lo[n] = (int32_t)(int64_t)(lo - ref);
		e->hi[n] = (int32_t)(int64_t)(hi - ref);
		n++;
	}
	e->nholes = (uint8_t)n;
	e->ref = ref;
}

/* Insert [lo, hi) (disjoint from the others) in order, joined with a hole
 * it touches (an ACK running ahead of the data extends the space step by
 * step: one hole, not one per ACK); the lowest hole is forgotten when the
 * list is full. A hole is at most 2^31 long (a jump's hole beyond that is
 * forgotten at once: it reads as the past anyway). */
static void
hole_insert(struct wt_calltab *t, struct tcp_ext *e, uint64_t lo, uint64_t hi)
{
	unsigned int i;

	if (hi - lo >= (1ull << 31)) {
		t->st.tcp_hole_untracked++;
		return;
	}
	if (e->nholes == 0)
		e->ref = lo;
	else if (hi - e->ref >= (1ull << 31))
		hole_rebase(t, e, lo);
	for (i = 0; i < e->nholes; i++) {
		if (hole_hi(e, i) == lo) {
			hole_set(e, i, hole_lo(e, i), hi);
			if (i + 1 < e->nholes && hole_lo(e, i + 1) == hi) {
				hole_set(e, i, hole_lo(e, i), hole_hi(e, i + 1));
				hole_remove(e, i + 1);
			}
			return;
		}
		if (hole_lo(e, i) == hi) {
			hole_set(e, i, lo, hole_hi(e, i));
			return;
		}
	}
	if (e->nholes == TCP_EXT_HOLES) {
		t->st.tcp_hole_untracked++;
		if (lo < hole_lo(e, 0))
			return; /* the new one is the lowest */
		hole_remove(e, 0);
	}
	for (i = e->nholes; i > 0 && hole_lo(e, i - 1) > lo; i--) {
		e->lo[i] = e->lo[i - 1];
		e->hi[i] = e->hi[i - 1];
	}
	e->nholes++;
	hole_set(e, i, lo, hi);
}

static void
add_hole(struct wt_calltab *t, struct tcp_dir *x, uint64_t lo, uint64_t hi)
{
	if (lo >= hi)
		return;
	struct tcp_ext *e = ext_get(t, x);
	if (e == NULL) {
		t->st.tcp_hole_untracked++;
		return;
	}
	hole_insert(t, e, lo, hi);
}

/* The bytes of [pos, end) that lie in tracked holes: taken out of the
 * holes, returned as new. */
static uint64_t
fill_holes(struct wt_calltab *t, struct tcp_dir *x, uint64_t pos, uint64_t end)
{
	struct tcp_ext *e = ext_of(t, x);
	uint64_t fresh = 0;
	unsigned int i = 0;

	if (e == NULL)
		return 0;
	while (i < e->nholes) {
		uint64_t lo = hole_lo(e, i), hi = hole_hi(e, i);
		if (hi <= pos || lo >= end) {
			i++;
			continue;
		}
		uint64_t a = lo > pos ? lo : pos, b = hi < end ? hi : end;
		fresh += b - a;
		if (a > lo && b < hi) {
			/* a segment inside the hole: two holes remain */
			hole_set(e, i, lo, a);
			if (e->nholes == TCP_EXT_HOLES) {
				t->st.tcp_hole_untracked++;
				if (i == 0) {
					hole_set(e, 0, b, hi);
					i++;
					continue;
				}
				hole_remove(e, 0);
				i--;
			}
			hole_insert(t, e, b, hi);
			i += 2;
		} else if (a > lo) {
			hole_set(e, i++, lo, a);
		} else if (b < hi) {
			hole_set(e, i++, b, hi);
		} else {
			hole_remove(e, i);
		}
	}
	ext_put_if_empty(t, x);
	return fresh;
}

/*
 * A position @pos more than WT_TCP_JUMP_MAX beyond top: confirm a held one
 * within reach (@return 1: top has moved up to it, go on with @pos) or hold
 * this one instead (@return 0: do not use @pos). @len, @fin: the data
 * segment at @pos (0 for an ACK).
 */
static int
jump_check(struct wt_calltab *t, struct tcp_dir *x, uint64_t pos, uint32_t len, int fin)
{
	struct tcp_ext *e = ext_get(t, x);

	if (e == NULL) {
		t->st.tcp_jump_held++;
		return 0;
	}
	if (e->jump != 0) {
		uint64_t jp = e->jump_pos;
		uint64_t d = jp > pos ? jp - pos : pos - jp;
		if (d <= WT_TCP_JUMP_MAX) {
			uint64_t jend = jp + e->jump_len;
			int jfin = e->jump & TCPX_JUMP_FIN;
			e->jump = 0;
			t->st.tcp_jump_confirmed++;
			/* The held segment's payload stays counted as retransmitted;
			 * its space is known to exist (missed unless filled later). */
			add_hole(t, x, x->top, jp);
			x->top = jend;
			if (jfin)
				x->st |= TCPD_FIN;
			ext_put_if_empty(t, x);
			return 1;
		}
	}
	e->jump = (uint8_t)(TCPX_JUMP_DATA | (fin ? TCPX_JUMP_FIN : 0));
	e->jump_pos = pos;
	e->jump_len = len;
	t->st.tcp_jump_held++;
	return 0;
}

/* Place payload [pos, pos + len) (len may be 0: a FIN) in the stream. */
static void
place(struct wt_calltab *t, struct tcp_dir *x, uint64_t pos, uint32_t len)
{
	uint64_t end = pos + len, fresh = 0;

	if (end > x->top) {
		uint64_t lo = pos > x->top ? pos : x->top;
		add_hole(t, x, x->top, pos);
		fresh = end - lo;
		x->top = end;
		end = lo;
	}
	if (pos < end)
		fresh += fill_holes(t, x, pos, end);
	x->retx += len - fresh;
}

void
calltab_tcp_data(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir)
{
	struct tcp_dir *x = &t->recs[idx].tcp[dir];
	uint8_t fl = p->tcp_flags;
	uint32_t len = p->payload_len, seq = p->seq;
	int fin = (fl & WT_TCP_FIN) != 0;

	if (fl & WT_TCP_SYN) {
		seq++; /* the SYN takes one sequence number; data follows it */
		if (!(x->st & TCPD_BASE)) {
			set_base(t, idx, dir, seq);
			x->st |= TCPD_SYN;
			if (!(x->st & TCPD_ACKBASE)) {
				x->ack = seq;
				x->st |= TCPD_ACKBASE;
			}
		}
	}
	if (!(x->st & TCPD_BASE)) {
		if (len == 0 && !fin)
			return; /* a pure ACK or keep-alive: not a byte of the stream */
		set_base(t, idx, dir, seq);
	}
	uint64_t pos = pos_of(x, seq);
	if (pos > x->top + WT_TCP_JUMP_MAX && !jump_check(t, x, pos, len, fin)) {
		x->retx += len;
		return;
	}
	if (len > 0 || (fin && pos > x->top))
		place(t, x, pos, len);
	if (fin && pos + len == x->top)
		x->st |= TCPD_FIN;
}

void
calltab_tcp_ack(struct wt_calltab *t, uint32_t idx, unsigned int dir, uint32_t ack)
{
	struct tcp_dir *x = &t->recs[idx].tcp[dir];
	struct crec_cold *c = &t->cold[idx];

	if (!(x->st & TCPD_BASE)) {
		/* Nothing of the stream seen yet: it starts at this ACK. */
		set_base(t, idx, dir, ack);
		x->ack = ack;
		x->st |= TCPD_ACKBASE | TCPD_ACKSEEN;
		return;
	}
	uint64_t q = pos_of(x, ack);
	if (!(x->st & TCPD_ACKBASE)) {
		/* The first ACK of a stream whose first byte came from its data. */
		if (q < c->base[dir]) {
			uint64_t back = c->base[dir] - q;
			if (back <= WT_TCP_JUMP_MAX) {
				/* sent before the record began and still unacknowledged */
				add_hole(t, x, q, c->base[dir]);
				c->base[dir] = q;
				c->acct[dir] -= back;
			} else {
				q = c->base[dir];
			}
		} else if ((x->st & TCPD_FIN) && q == x->top + 1) {
			q = x->top; /* the ACK of the FIN: not a byte */
		} else if (q > x->top + WT_TCP_JUMP_MAX && !jump_check(t, x, q, 0, 0)) {
			return; /* held: no baseline from it */
		}
		if (q > x->top) {
			add_hole(t, x, x->top, q);
			x->top = q;
		}
		x->ack = (uint32_t)q;
		x->st |= TCPD_ACKBASE | TCPD_ACKSEEN;
		return;
	}
	x->st |= TCPD_ACKSEEN;
	if ((int32_t)(ack - x->ack) <= 0)
		return; /* not an advance */
	if ((x->st & TCPD_FIN) && q == x->top + 1)
		q = x->top; /* the ACK of the FIN: not a byte */
	if (q > x->top) {
		if (q > x->top + WT_TCP_JUMP_MAX && !jump_check(t, x, q, 0, 0))
			return; /* held: no advance */
		if (q > x->top) {
			add_hole(t, x, x->top, q);
			x->top = q;
		}
	}
	x->acked += (uint32_t)((uint32_t)q - x->ack);
	x->ack = (uint32_t)q;
}

void
calltab_tcp_emit(struct wt_calltab *t, uint32_t idx, struct wt_callrec *cr, int final)
{
	const struct crec *r = &t->recs[idx];
	const struct crec_cold *c = &t->cold[idx];

	if (r->key.proto != WT_IPPROTO_TCP)
		return;
	cr->tcp_valid = WT_TCP_VALID;
	for (unsigned int dir = 0; dir < 2; dir++) {
		const struct tcp_dir *x = &r->tcp[dir];
		struct wt_tcpstats *ts = &cr->t[dir];
		uint64_t fresh = r->d[dir].bytes - x->retx;
		uint64_t space = fresh;
		if (final && (x->st & TCPD_BASE)) {
			space = x->top - c->acct[dir];
			if (space < fresh) {
				t->st.tcp_inconsistent++; /* never: tests assert it */
				space = fresh;
			}
		}
		ts->seq_bytes = space;
		ts->acked_bytes = x->acked;
		ts->retx_bytes = x->retx;
		ts->missed_bytes = space - fresh;
		if (x->st & TCPD_ACKSEEN)
			cr->tcp_valid |= (uint8_t)(WT_TCP_ACKED_A << dir);
		if (x->st & TCPD_BASE) {
			cr->tcp_base[dir] = (uint32_t)c->base[dir];
			cr->tcp_valid |= (uint8_t)(WT_TCP_BASE_A << dir);
		}
		t->st.tcp_acked_bytes += ts->acked_bytes;
		t->st.tcp_retx_bytes += ts->retx_bytes;
		t->st.tcp_missed_bytes += ts->missed_bytes;
	}
}

void
calltab_tcp_cut(struct wt_calltab *t, uint32_t idx, const struct wt_callrec *cr)
{
	struct crec *r = &t->recs[idx];

	for (unsigned int dir = 0; dir < 2; dir++) {
		t->cold[idx].acct[dir] += cr->t[dir].seq_bytes;
		r->tcp[dir].acked = 0;
		r->tcp[dir].retx = 0;
	}
}

void
calltab_tcp_release(struct wt_calltab *t, uint32_t idx)
{
	ext_put(t, &t->recs[idx].tcp[0]);
	ext_put(t, &t->recs[idx].tcp[1]);
}
