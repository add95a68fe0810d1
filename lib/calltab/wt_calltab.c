/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_calltab.c: call-record table: lookup pipeline, create, update, evict. */
#include <errno.h>
#include <string.h>

#include "calltab_priv.h"
#include "wt_mem.h"

/*
 * The index.
 *
 * Buckets of one cache line, 10 slots each (16-bit signature + record
 * number), 1.8 slots per record of capacity, so buckets are 56% full on
 * average when the table is full. A key lives in its home bucket (a
 * multiply-shift of the hash's high half, so any bucket count works) unless
 * that bucket was full when it was inserted; then in the next bucket with a
 * free slot, and every full bucket passed counts it in `ovf`, so a lookup
 * only walks on while `ovf` says something lives further. A lookup is thus
 * one cache line, one SIMD signature compare and, on a signature match, one
 * key compare in the record (already prefetched). Removal finds the entry by
 * its record number from the home bucket, which the hash of the record's
 * key gives (records do not store their hash: a canonical key hashes as its
 * packets do); nothing else is rehashed and nothing moves. Records never move either:
 * a record is addressed by its slot number for its whole life.
 */

#if defined(__SSE2__)
#include <emmintrin.h>

/* Slots of @b whose signature is @sig: bit 2*i set for slot i. */
static wt_always_inline uint32_t
bucket_match(const struct bucket *b, uint16_t sig)
{
	__m128i v = _mm_set1_epi16((short)sig);
	__m128i lo = _mm_load_si128((const __m128i *)(const void *)b->sig);
	__m128i hi = _mm_load_si128((const __m128i *)(const void *)(b->sig + 8));
	uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(lo, v)) |
	             (((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(hi, v)) & 0xfu) << 16);
	return m & 0x55555u;
}
#else
static wt_always_inline uint32_t
bucket_match(const struct bucket *b, uint16_t sig)
{
	uint32_t m = 0;
	for (unsigned int i = 0; i < BUCKET_SLOTS; i++)
		m |= (uint32_t)(b->sig[i] == sig) << (2 * i);
	return m;
}
#endif

static wt_always_inline uint32_t
next_bucket(const struct wt_calltab *t, uint32_t b)
{
	return ++b == t->nbuckets ? 0 : b;
}

/* Find the record of packet @p (hash halves @hh, @sig) starting at bucket
 * @b. @return its number with *dir set, or CREC_NONE. */
static wt_always_inline uint32_t
index_lookup(const struct wt_calltab *t, const struct wt_pkt *p, uint32_t b, uint16_t sig,
             unsigned int *dir)
{
	for (;;) {
		const struct bucket *bk = &t->index[b];
		for (uint32_t m = bucket_match(bk, sig); m != 0; m &= m - 1) {
			uint32_t idx = bk->rec[__builtin_ctz(m) >> 1] - 1;
			int d = wt_key_match(&t->recs[idx].key, p, t->vmask);
			if (wt_likely(d >= 0)) {
				*dir = (unsigned int)d;
				return idx;
			}
		}
		if (wt_likely(bk->ovf == 0))
			return CREC_NONE;
		b = next_bucket(t, b);
	}
}

static void
index_insert(struct wt_calltab *t, uint32_t hash_hi, uint16_t sig, uint32_t rec)
{
	uint32_t b = calltab_home(t, hash_hi);

	for (;;) {
		struct bucket *bk = &t->index[b];
		for (unsigned int i = 0; i < BUCKET_SLOTS; i++) {
			if (bk->rec[i] == 0) {
				bk->sig[i] = sig;
				bk->rec[i] = rec + 1;
				return;
			}
		}
		bk->ovf++; /* full: the entry lives further on */
		b = next_bucket(t, b);
	}
}

static void
index_remove(struct wt_calltab *t, uint32_t hash_hi, uint32_t rec)
{
	uint32_t b = calltab_home(t, hash_hi);

	for (;;) {
		struct bucket *bk = &t->index[b];
		for (unsigned int i = 0; i < BUCKET_SLOTS; i++) {
			if (bk->rec[i] == rec + 1) {
				bk->rec[i] = 0;
				bk->sig[i] = 0;
				return;
			}
		}
		bk->ovf--; /* it was counted here when it was inserted further on */
		b = next_bucket(t, b);
	}
}

struct wt_calltab *
wt_calltab_create(const struct wt_calltab_params *p)
{
	struct wt_calltab *t = NULL;

	if (p == NULL || p->emit == NULL || p->capacity < 16 ||
	    p->capacity > WT_CALLTAB_MAX_CAPACITY ||
	    p->active_timeout_ns > WT_CALLTAB_MAX_ACTIVE_TIMEOUT_NS ||
	    (p->active_timeout_ns > 0 && p->active_timeout_ns < 1000000)) {
		errno = EINVAL;
		return NULL;
	}
	t = wt_mem_alloc(sizeof(*t), p->socket);
	if (t == NULL)
		goto err;
	t->capacity = p->capacity;
	/* 1.8 index slots per record: 10-slot buckets, 5.6 records each when full */
	t->nbuckets = (uint32_t)(((uint64_t)p->capacity * 18 + 99) / 100);
	t->recs_bytes = (size_t)p->capacity * sizeof(struct crec);
	t->cold_bytes = (size_t)p->capacity * sizeof(struct crec_cold);
	t->index_bytes = (size_t)t->nbuckets * sizeof(struct bucket);
	/* Hole lists (256 bytes, 29 holes): one per direction with open holes
	 * or a held jump, given back when empty, one per 32 records; a stream
	 * that finds none is counted and loses only the hole's later fill
	 * (calltab_tcp.c). */
	t->n_ext = p->capacity / 32 < 64 ? 64 : p->capacity / 32;
	t->ext_bytes = (size_t)t->n_ext * sizeof(struct tcp_ext);
	/* Tunnel contexts: one per distinct tunnel (chain, ids, outer pair)
	 * with records in the table, one per 16 records; chain heads after
	 * them, a power of two at least as many. */
	t->n_ctx = p->capacity / 16 < 64 ? 64 : p->capacity / 16;
	t->ctx_mask = 1;
	while (t->ctx_mask < t->n_ctx)
		t->ctx_mask <<= 1;
	t->ctx_mask--;
	t->ctx_bytes = (size_t)t->n_ctx * sizeof(struct tun_ctx) +
	               (size_t)(t->ctx_mask + 1) * sizeof(uint32_t);
	t->recs = wt_mem_alloc(t->recs_bytes, p->socket);
	t->cold = wt_mem_alloc(t->cold_bytes, p->socket);
	t->index = wt_mem_alloc(t->index_bytes, p->socket);
	t->ext = wt_mem_alloc(t->ext_bytes, p->socket);
	t->ctx = wt_mem_alloc(t->ctx_bytes, p->socket);
	if (t->recs == NULL || t->cold == NULL || t->index == NULL || t->ext == NULL ||
	    t->ctx == NULL)
		goto err;
	for (uint32_t i = 0; i < t->n_ext; i++)
		t->ext[i].next_free = i + 2 <= t->n_ext ? i + 2 : 0;
	t->ext_free = 1;
	t->ctx_head = (uint32_t *)(void *)(t->ctx + t->n_ctx); /* zeroed: empty chains */
	for (uint32_t i = 0; i < t->n_ctx; i++)
		t->ctx[i].next = i + 2 <= t->n_ctx ? i + 2 : 0;
	t->ctx_free = 1;
	t->free_head = CREC_NONE;
	t->vlan_in_key = p->vlan_in_key;
	t->vmask = wt_key_vlan_mask(p->vlan_in_key);
	t->call_id_hi = p->run_id;
	t->call_id_lo_tag = (uint64_t)p->lcore_index << 56;
	t->active_ms = calltab_ms(p->active_timeout_ns);
	wt_key_seed_init(&t->seed, p->hash_seed);
	t->emit = p->emit;
	t->emit_ctx = p->emit_ctx;
	return t;
err:
	if (t != NULL) {
		int e = errno;
		wt_mem_free(t->recs, t->recs_bytes);
		wt_mem_free(t->cold, t->cold_bytes);
		wt_mem_free(t->index, t->index_bytes);
		wt_mem_free(t->ext, t->ext_bytes);
		wt_mem_free(t->ctx, t->ctx_bytes);
		wt_mem_free(t, sizeof(*t));
		errno = e;
	}
	return NULL;
}

void
wt_calltab_free(struct wt_calltab *t)
{
	if (t == NULL)
		return;
	wt_mem_free(t->recs, t->recs_bytes);
	wt_mem_free(t->cold, t->cold_bytes);
	wt_mem_free(t->index, t->index_bytes);
	wt_mem_free(t->ext, t->ext_bytes);
	wt_mem_free(t->ctx, t->ctx_bytes);
	wt_mem_free(t, sizeof(*t));
}

/* ---- tunnel contexts ---------------------------------------------------- */

/* The chain of @tun packed for crec_cold.chain. */
static uint16_t
tun_chain(const struct wt_tun *tun)
{
	uint32_t c = tun->depth;
	for (unsigned int i = 0; i < tun->depth; i++)
		c |= (uint32_t)(tun->type[i] & 7) << (3 + 3 * i);
	return (uint16_t)c;
}

/* The context of packet @p (tctx != 0), found or added: its index + 1, or
 * 0 when the store is full (counted). */
static uint32_t
ctx_get(struct wt_calltab *t, const struct wt_pkt *p)
{
	uint32_t *head = &t->ctx_head[p->tctx & t->ctx_mask];

	for (uint32_t i = *head; i != 0; i = t->ctx[i - 1].next) {
		if (t->ctx[i - 1].tctx == p->tctx) {
			t->ctx[i - 1].refs++;
			return i;
		}
	}
	uint32_t i = t->ctx_free;
	if (i == 0) {
		t->st.tunnel_ctx_full++;
		return 0;
	}
	struct tun_ctx *x = &t->ctx[i - 1];
	t->ctx_free = x->next;
	x->tctx = p->tctx;
	x->refs = 1;
	x->tun = p->tun;
	x->tun.src_hi = 0;
	for (unsigned int l = 0; l < x->tun.depth && l < WT_TUNNEL_MAX_DEPTH; l++)
		if (x->tun.type[l] == WT_TUNNEL_GTPU) { /* per direction: in the record */
			x->tun.id[l] = 0;
			x->tun.idmask &= (uint8_t) ~(1u << l);
		}
	x->next = *head;
	*head = i;
	return i;
}

/* A record of context @i (index + 1; 0: none) is gone. */
static void
ctx_put(struct wt_calltab *t, uint32_t i)
{
	if (i == 0 || --t->ctx[i - 1].refs != 0)
		return;
	uint32_t *link = &t->ctx_head[t->ctx[i - 1].tctx & t->ctx_mask];
	while (*link != i)
		link = &t->ctx[*link - 1].next;
	*link = t->ctx[i - 1].next;
	t->ctx[i - 1].next = t->ctx_free;
	t->ctx_free = i;
}

/* The outermost GTP-U level of @tun with a TEID, or -1. */
static int
tun_gtpu_level(const struct wt_tun *tun)
{
	for (unsigned int l = 0; l < tun->depth && l < WT_TUNNEL_MAX_DEPTH; l++)
		if (tun->type[l] == WT_TUNNEL_GTPU)
			return (tun->idmask >> l) & 1 ? (int)l : -1;
	return -1;
}

/* The version 2 tunnel fields of record @idx. */
static void
emit_tunnel(const struct wt_calltab *t, uint32_t idx, struct wt_callrec *cr)
{
	const struct crec *r = &t->recs[idx];
	const struct crec_cold *c = &t->cold[idx];
	unsigned int depth = c->chain & 7;

	cr->tun_depth = (uint8_t)depth;
	for (unsigned int l = 0; l < depth; l++)
		cr->tun_type[l] = (uint8_t)((c->chain >> (3 + 3 * l)) & 7);
	/* GTP-U: the TEID of each direction (the outermost GTP-U level) */
	for (unsigned int l = 0; l < depth; l++) {
		if (cr->tun_type[l] != WT_TUNNEL_GTPU)
			continue;
		if (c->teid_set & 1) {
			cr->tun_id[l] = c->teid[0];
			cr->tun_idmask |= (uint8_t)(1u << l);
		}
		if (c->teid_set & 2) {
			cr->tun_teid_b = c->teid[1];
			cr->tun_idmask |= (uint8_t)(1u << (4 + l));
		}
		break;
	}
	if (c->tun == 0)
		return; /* the store was full: no ids, no outer addresses (tunnel_ctx_full) */
	const struct wt_tun *x = &t->ctx[c->tun - 1].tun;
	cr->outer_family = x->outer_family;
	for (unsigned int l = 0; l < depth; l++)
		if ((x->idmask >> l) & 1) {
			cr->tun_id[l] = x->id[l];
			cr->tun_idmask |= (uint8_t)(1u << l);
		}
	/* a's side of the tunnel: the source of a's packets, the destination
	 * of b's */
	unsigned int swap = (r->meta & CREC_OUTER_SWAP) != 0;
	memcpy(cr->outer_a, x->outer[swap], 16);
	memcpy(cr->outer_b, x->outer[swap ^ 1], 16);
	cr->tun_flags = WT_TUN_OUTER_A | WT_TUN_OUTER_B;
}

/* Build the exported form of record @idx into @out and hand it to the emit
 * callback. */
static void
emit_record(struct wt_calltab *t, uint32_t idx, uint8_t reason, struct wt_callrec *out)
{
	const struct crec *r = &t->recs[idx];
	const struct crec_cold *c = &t->cold[idx];
	struct wt_callrec cr;

	memset(&cr, 0, sizeof(cr));
	cr.call_id[0] = t->call_id_hi;
	cr.call_id[1] = t->call_id_lo_tag | c->incarnation;
	cr.start_ns = c->start_ns;
	cr.end_ns = r->end_ns;
	memcpy(cr.addr_a, r->key.addr_a, 16);
	memcpy(cr.addr_b, r->key.addr_b, 16);
	cr.port_a = r->key.port_a;
	cr.port_b = r->key.port_b;
	cr.vlan = r->key.vlan;
	cr.proto = r->key.proto;
	cr.family = r->key.family;
	cr.origin = r->meta & CREC_ORIGIN_MASK;
	cr.end_reason = reason;
	cr.flags[0] = r->flags[0];
	cr.flags[1] = r->flags[1];
	cr.seq_valid = (r->meta & CREC_SEQ_VALID_A ? WT_SEQ_VALID_A : 0) |
	               (r->meta & CREC_SEQ_VALID_B ? WT_SEQ_VALID_B : 0);
	memcpy(cr.mac_a, c->mac[0], 6);
	memcpy(cr.mac_b, c->mac[1], 6);
	cr.d[0] = r->d[0];
	cr.d[1] = r->d[1];
	calltab_tcp_emit(t, idx, &cr, reason != WT_END_ACTIVE);
	if (c->chain != 0)
		emit_tunnel(t, idx, &cr);
	t->emit(t->emit_ctx, &cr);
	if (out != NULL)
		*out = cr;
}

/* Emit record @idx with @reason, take it out of the index, free its slot.
 * The record does not keep its hash: the key gives it again (the table hash
 * of a canonical key equals that of its packets, wt_key.h). */
static void
complete_record(struct wt_calltab *t, uint32_t idx, uint8_t reason)
{
	struct crec *r = &t->recs[idx];

	emit_record(t, idx, reason, NULL);
	calltab_tcp_release(t, idx);
	ctx_put(t, t->cold[idx].tun);
	index_remove(t, (uint32_t)(wt_key_hash(&r->key, &t->seed) >> 32), idx);
	/* Free: family 0 marks it (read by a remote scanner); the other fields
	 * are rewritten by the next creation. */
	__atomic_store_n(&r->key.family, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->active, 0, __ATOMIC_RELAXED);
	r->end_ns = t->free_head;
	t->free_head = idx;
	t->st.active--;
	switch (reason) {
	case WT_END_IDLE:
		t->st.completed_idle++;
		break;
	case WT_END_EVICTED:
		t->st.evicted++;
		break;
	default:
		t->st.completed_shutdown++;
		break;
	}
}

/*
 * Eviction when the table is full: sample 8 consecutive slots from a moving
 * hand and complete the one whose last packet is oldest (an approximation of
 * LRU that costs nothing on the packet path and is deterministic, so the same
 * input gives the same records).
 */
static wt_noinline void
evict_one(struct wt_calltab *t)
{
	uint32_t best = CREC_NONE;
	uint64_t best_end = UINT64_MAX;

	for (int k = 0; k < 8; k++) {
		uint32_t s = t->evict_hand;
		if (++t->evict_hand >= t->hw)
			t->evict_hand = 0;
		const struct crec *r = &t->recs[s];
		if (r->key.family != 0 && r->end_ns < best_end) {
			best_end = r->end_ns;
			best = s;
		}
	}
	if (best == CREC_NONE) {
		/* Cannot happen when the table is full; kept for robustness. */
		for (uint32_t s = 0; s < t->hw; s++)
			if (t->recs[s].key.family != 0) {
				best = s;
				break;
			}
	}
	complete_record(t, best, WT_END_EVICTED);
}

static wt_always_inline uint32_t
alloc_slot(struct wt_calltab *t)
{
	uint32_t idx = t->free_head;

	if (idx != CREC_NONE) {
		t->free_head = (uint32_t)t->recs[idx].end_ns;
		return idx;
	}
	if (t->hw < t->capacity) {
		/* a remote scanner reads hw: the new slot's family is still 0 */
		__atomic_store_n(&t->hw, t->hw + 1, __ATOMIC_RELEASE);
		return t->hw - 1;
	}
	return CREC_NONE;
}

/* Origin from a packet with SYN set, as the patent decides it at creation:
 * SYN alone: the sender originated; SYN+ACK: the receiver did. */
static wt_always_inline uint8_t
origin_of(uint8_t tcp_flags, unsigned int dir)
{
	unsigned int sender_is_b = dir;
	unsigned int originator_is_b = (tcp_flags & WT_TCP_ACK) ? !sender_is_b : sender_is_b;
	return originator_is_b ? WT_ORIGIN_B : WT_ORIGIN_A;
}

/* First packet of a direction in this part, or first with a sequence
 * number; the very first packet of the part sets its start time (so the
 * packet path needs no test of its own for a part begun by an interim
 * record: that record cleared the seen bits). */
static wt_noinline void
update_first(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir,
             uint64_t ts)
{
	struct crec *r = &t->recs[idx];
	uint8_t seen = (uint8_t)(CREC_SEEN_A << dir), sv = (uint8_t)(CREC_SEQ_VALID_A << dir);

	if (!(r->meta & seen)) {
		if (!(r->meta & CREC_SEEN))
			t->cold[idx].start_ns = ts;
		r->meta |= seen;
		memcpy(t->cold[idx].mac[dir], p->src_mac, 6);
		if (p->tctx != 0) {
			/* the TEID of this side (GTP-U: one per direction) */
			int g = tun_gtpu_level(&p->tun);
			if (g >= 0) {
				t->cold[idx].teid[dir] = p->tun.id[g];
				t->cold[idx].teid_set |= (uint8_t)(1u << dir);
			}
		}
	}
	if (p->has_seq && !(r->meta & sv)) {
		r->meta |= sv;
		r->d[dir].first_seq = p->seq;
	}
}

/*
 * TCP stream accounting, the hot path (calltab_tcp.c has how it works and
 * the slow paths): a segment at the top of its stream without SYN, FIN or
 * RST moves the top by its payload; an ACK that advances within the known
 * space adds its advance to the peer stream's acknowledged bytes.
 */
/* Anything but a plain segment with an ACK (a SYN, FIN or RST, or no ACK). */
static wt_noinline void
update_tcp_other(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir)
{
	calltab_tcp_data(t, idx, p, dir);
	if ((p->tcp_flags & (WT_TCP_ACK | WT_TCP_RST)) == WT_TCP_ACK)
		calltab_tcp_ack(t, idx, dir ^ 1, p->ack);
}

static wt_always_inline void
update_tcp(struct wt_calltab *t, uint32_t idx, struct crec *r, const struct wt_pkt *p,
           unsigned int dir)
{
	struct tcp_dir *x = &r->tcp[dir];
	/* the line is 64-byte aligned: the other direction is 32 bytes away */
	struct tcp_dir *y = (struct tcp_dir *)((uintptr_t)x ^ sizeof(*x));

	if (wt_unlikely((p->tcp_flags & (WT_TCP_SYN | WT_TCP_FIN | WT_TCP_RST | WT_TCP_ACK)) !=
	                WT_TCP_ACK)) {
		update_tcp_other(t, idx, p, dir);
		return;
	}
	/* in order: the stream's base known, the segment at its top */
	if (wt_likely((x->st & TCPD_BASE) && (uint32_t)x->top == p->seq))
		x->top += p->payload_len;
	/* wholly below the top of a stream without holes: a retransmission or
	 * duplicate (what calltab_tcp_data() would count, without the call) */
	else if ((x->st & (TCPD_BASE | ~((1u << TCPD_EXT_SHIFT) - 1))) == TCPD_BASE &&
	         (int32_t)(p->seq + p->payload_len - (uint32_t)x->top) <= 0)
		x->retx += p->payload_len;
	else
		calltab_tcp_data(t, idx, p, dir);
	/* the same ACK again (a data segment, a duplicate ACK), or an advance
	 * within the known space */
	int32_t adv = (int32_t)(p->ack - y->ack);
	if (wt_likely(y->st & TCPD_ACKSEEN)) {
		if (wt_likely(adv <= 0))
			return;
		if (wt_likely((int32_t)(p->ack - (uint32_t)y->top) <= 0)) {
			y->acked += (uint32_t)adv;
			y->ack = p->ack;
			return;
		}
	}
	calltab_tcp_ack(t, idx, dir ^ 1, p->ack);
}

static wt_always_inline void
update_record(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir,
              uint64_t ts)
{
	struct crec *r = &t->recs[idx];
	struct wt_dirstats *d = &r->d[dir];
	uint8_t flags = p->tcp_flags;
	/* meta bits this packet needs set: seen, and seq-valid if it has one */
	uint8_t want = (uint8_t)((CREC_SEEN_A | (p->has_seq ? CREC_SEQ_VALID_A : 0)) << dir);

	if (wt_unlikely((r->meta & want) != want))
		update_first(t, idx, p, dir, ts);
	r->end_ns = ts > r->end_ns ? ts : r->end_ns;
	__atomic_store_n(&r->active, 1, __ATOMIC_RELAXED); /* a scanner clears it */
	r->flags[dir] |= flags;
	if (wt_unlikely(flags & WT_TCP_SYN) && (r->meta & CREC_ORIGIN_MASK) == 0)
		r->meta |= origin_of(flags, dir);
	d->pkts++;
	d->bytes += p->payload_len;
	d->ip_bytes += p->ip_len;
	if (p->has_seq) {
		d->last_seq = p->seq + p->payload_len;
		update_tcp(t, idx, r, p, dir);
	} else if (wt_unlikely(p->proto == WT_IPPROTO_TCP)) {
		r->tcp[dir].retx += p->payload_len; /* a later fragment: not placed */
	}
}

/* Create a record for @key, the key of packet @p sent by side @dir (hash
 * halves @hash_hi and @sig). */
static wt_noinline uint32_t
create_record(struct wt_calltab *t, const struct wt_key *key, const struct wt_pkt *p,
              unsigned int dir, uint32_t hash_hi, uint16_t sig, uint64_t ts)
{
	uint32_t idx = alloc_slot(t);

	if (wt_unlikely(idx == CREC_NONE)) {
		evict_one(t);
		idx = alloc_slot(t); /* the slot evict_one() just freed */
	}
	struct crec *r = &t->recs[idx];
	/* The fields a remote scanner reads (family, incarnation, active,
	 * cut_ms) are atomic stores; the family last, as it marks the slot used.
	 * The start time is set by the first update (update_first()). */
	memcpy(&r->key, key, offsetof(struct wt_key, family));
	r->key.tctx = key->tctx;
	r->end_ns = ts;
	__atomic_store_n(&t->cold[idx].incarnation, t->next_incarnation++ & ((1ull << 56) - 1),
	                 __ATOMIC_RELAXED);
	__atomic_store_n(&r->cut_ms, calltab_ms(ts), __ATOMIC_RELAXED);
	__atomic_store_n(&r->active, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&r->key.family, key->family, __ATOMIC_RELEASE);
	r->meta = 0;
	r->flags[0] = r->flags[1] = 0;
	memset(r->d, 0, sizeof(r->d));
	memset(r->tcp, 0, sizeof(r->tcp));
	memset(t->cold[idx].mac, 0, sizeof(t->cold[idx].mac));
	t->cold[idx].tun = 0;
	t->cold[idx].chain = 0;
	t->cold[idx].teid[0] = t->cold[idx].teid[1] = 0;
	t->cold[idx].teid_set = 0;
	if (p->tctx != 0) {
		t->cold[idx].chain = tun_chain(&p->tun);
		t->cold[idx].tun = ctx_get(t, p);
		/* a's side: this packet's outer source when a sent it */
		if (p->tun.src_hi == (dir == 0))
			r->meta |= CREC_OUTER_SWAP;
		t->st.tunnel_calls++;
	}
	index_insert(t, hash_hi, sig, idx);
	t->st.created++;
	t->st.active++;
	return idx;
}

/* The packet's candidate record was not it: walk the index, or create. */
static wt_noinline uint32_t
resolve_slow(struct wt_calltab *t, const struct wt_pkt *p, uint32_t hash_hi, uint16_t sig,
             uint64_t ts, int *dir)
{
	unsigned int d = 0;
	uint32_t idx = index_lookup(t, p, calltab_home(t, hash_hi), sig, &d);

	if (idx == CREC_NONE) {
		struct wt_key key;
		d = wt_key_from_pkt(&key, p, t->vlan_in_key);
		idx = create_record(t, &key, p, d, hash_hi, sig, ts);
	}
	*dir = (int)d;
	return idx;
}

void
wt_calltab_update_burst(struct wt_calltab *t, const struct wt_pkt *pkts, const uint64_t *ts,
                        uint32_t n)
{
	uint32_t hh[WT_CALLTAB_BURST_MAX];
	uint16_t sig[WT_CALLTAB_BURST_MAX];
	uint32_t cand[WT_CALLTAB_BURST_MAX]; /* record with the first signature match */
	const struct bucket *index = t->index;
	uint64_t mods;
	uint32_t i;

	if (n > WT_CALLTAB_BURST_MAX)
		n = WT_CALLTAB_BURST_MAX;

	/* Stage 1: hash each packet (symmetric, no canonical key needed) and
	 * prefetch its home bucket. */
	for (i = 0; i < n; i++) {
		uint64_t h = wt_pkt_hash(&pkts[i], t->vmask, &t->seed);
		hh[i] = (uint32_t)(h >> 32);
		sig[i] = calltab_sig((uint32_t)h);
		wt_prefetch0(&index[calltab_home(t, hh[i])]);
	}

	/* Stage 2: the first signature match in the home bucket is the likely
	 * record: prefetch both of its lines. */
	for (i = 0; i < n; i++) {
		const struct bucket *bk = &index[calltab_home(t, hh[i])];
		uint32_t m = bucket_match(bk, sig[i]);
		cand[i] = CREC_NONE;
		if (wt_likely(m != 0)) {
			cand[i] = bk->rec[__builtin_ctz(m) >> 1] - 1;
			const struct crec *r = &t->recs[cand[i]];
			wt_prefetch_w(r);
			wt_prefetch_w(&r->d[0]);
			wt_prefetch_w(&r->tcp[0]);
		}
	}

	/* Stage 3: confirm with the full key, else look further or create
	 * (out of line); update. A candidate is only trusted while nothing was
	 * created in this burst (a creation may evict). */
	mods = t->st.created;
	for (i = 0; i < n; i++) {
		const struct wt_pkt *p = &pkts[i];
		uint32_t idx = cand[i];
		int d = -1;
		if (wt_likely(idx != CREC_NONE && t->st.created == mods))
			d = wt_key_match(&t->recs[idx].key, p, t->vmask);
		if (wt_unlikely(d < 0))
			idx = resolve_slow(t, p, hh[i], sig[i], ts[i], &d);
		update_record(t, idx, p, (unsigned int)d, ts[i]);
	}
	t->st.pkts += n;
}

/*
 * Interim records.
 *
 * A call longer than the active timeout is written in parts: at a scan pass,
 * a record that was active in the last interval and whose current part began
 * at least the timeout before the pass emits an interim record (end_reason
 * active) and stays in the table, starting the next part: counters, TCP
 * flags, seq-valid and seen bits and MACs reset, so the next part's start
 * time, MACs and first sequence numbers are those of its own first packets
 * (update_first(), already on the packet path for a record's first packets:
 * no test is added per packet). Key, origin, end time and incarnation carry
 * over, so every part has the same call_id. The part's age is measured from
 * cut_ms: the creation time, then the time of the pass that cut the previous
 * part, so with a timeout of k scan intervals a running call is cut every k
 * passes exactly after its first cut. A part without packets is never emitted as an interim
 * record: the call completes idle at the next pass instead (its final record
 * then has no packets, and start = end = the call's last packet).
 *
 * Merging the parts (sum the counters, union the flags, first_seq of the
 * first part where that side has one, last_seq of the last such part, start
 * of the first, end of the last, MAC of the first part where that side sent)
 * gives exactly the record the call would have had without interim records.
 * Ages are compared in signed 32-bit ms (valid up to 24 days: the timeout is
 * at most 7 days and a part is cut or completed within two passes of it);
 * a part begun after the pass time (live: created during the pass) is young.
 */
static wt_always_inline int
interim_due(const struct wt_calltab *t, const struct crec *r, uint32_t now_ms)
{
	return t->active_ms != 0 && (int32_t)(now_ms - r->cut_ms) >= (int32_t)t->active_ms;
}

static void
emit_interim(struct wt_calltab *t, uint32_t idx, uint32_t now_ms)
{
	struct crec *r = &t->recs[idx];
	struct crec_cold *c = &t->cold[idx];
	struct wt_callrec cr;

	emit_record(t, idx, WT_END_ACTIVE, &cr);
	calltab_tcp_cut(t, idx, &cr);
	memset(r->d, 0, sizeof(r->d));
	r->flags[0] = r->flags[1] = 0;
	r->meta &= CREC_ORIGIN_MASK | CREC_OUTER_SWAP;
	c->start_ns = r->end_ns; /* the next part's first packet sets it */
	memset(c->mac, 0, sizeof(c->mac));
	__atomic_store_n(&r->cut_ms, now_ms, __ATOMIC_RELAXED);
	t->st.interim++;
}

int
wt_calltab_scan(struct wt_calltab *t, uint32_t budget, uint64_t now_ns)
{
	uint32_t now_ms = calltab_ms(now_ns);

	while (budget-- > 0 && t->scan_cursor < t->hw) {
		uint32_t idx = t->scan_cursor++;
		struct crec *r = &t->recs[idx];
		if (r->key.family == 0)
			continue;
		if (__atomic_load_n(&r->active, __ATOMIC_RELAXED)) {
			__atomic_store_n(&r->active, 0, __ATOMIC_RELAXED);
			if (interim_due(t, r, now_ms) && (r->meta & CREC_SEEN))
				emit_interim(t, idx, now_ms);
		} else {
			complete_record(t, idx, WT_END_IDLE);
		}
	}
	if (t->scan_cursor >= t->hw) {
		t->scan_cursor = 0;
		t->st.scans++;
		return 1;
	}
	return 0;
}

/*
 * The remote completion scan (a scanner lcore, not the owner).
 *
 * How it works. The scanner walks the owner's records without taking the
 * table: for each used slot it reads the record's generation (its creation
 * number) and its activity flag. A set flag is cleared (an atomic exchange,
 * so a packet that sets it at the same moment is either seen now or keeps
 * the flag set for the next pass). A clear flag means no packet since the
 * previous pass: the scanner emits a request (slot, generation); it never
 * completes or writes anything else. The owner takes the requests from an
 * SPSC ring and completes the record only if the slot still holds the same
 * generation (it was not completed, evicted or reused meanwhile) and the
 * flag is still clear (no packet arrived after the scanner looked).
 *
 * Why it is race-free. Only the owner creates, updates, completes or frees
 * records; the scanner's reads are hints that the owner re-validates with
 * its own, unraced view. The flag is the only field both write: the owner
 * sets it, the scanner clears it with an atomic exchange; a clear that
 * races with a set either loses to it (the record stays active) or wins
 * (the packet was within the interval being closed, and the record needs a
 * whole further interval without packets to be completed). A generation
 * read just before the slot is reused makes a stale request the owner
 * ignores; a flag cleared on the new occupant costs it at most one interval
 * of activity credit, and it is still only completed after a whole interval
 * without packets. Limits: requests lost (a full ring) only delay a
 * completion to a later pass.
 *
 * Interim requests follow the same pattern: for a record whose flag was set,
 * the scanner reads cut_ms (an atomic 32-bit load; the owner stores it
 * atomically at creation and at each interim record) and, when the part
 * looks old enough at the pass time, sends (slot, generation, pass time).
 * The owner re-checks with its own view: same generation, packets in the
 * part, and age at the pass time from its current cut_ms. So a request read
 * from a stale cut_ms (the previous pass's interim not yet applied) is
 * declined, two interim records never cover one part, and a part is cut
 * between two packets on the owner: every packet is in exactly one part.
 */
uint32_t
wt_calltab_scan_remote(struct wt_calltab *t, uint32_t *cursor, uint32_t budget, uint64_t now_ns,
                       struct wt_calltab_expire *out, uint32_t max_out, int *pass_done)
{
	uint32_t hw = __atomic_load_n(&t->hw, __ATOMIC_ACQUIRE);
	uint32_t i = *cursor, n = 0, now_ms = calltab_ms(now_ns);

	*pass_done = 0;
	while (budget > 0 && i < hw && n < max_out) {
		struct crec *r = &t->recs[i];
		budget--;
		if (__atomic_load_n(&r->key.family, __ATOMIC_ACQUIRE) != 0) {
			uint64_t gen = __atomic_load_n(&t->cold[i].incarnation, __ATOMIC_RELAXED);
			int op = -1;
			if (__atomic_load_n(&r->active, __ATOMIC_RELAXED)) {
				(void)__atomic_exchange_n(&r->active, 0, __ATOMIC_RELAXED);
				uint32_t cut = __atomic_load_n(&r->cut_ms, __ATOMIC_RELAXED);
				if (t->active_ms != 0 &&
				    (int32_t)(now_ms - cut) >= (int32_t)t->active_ms)
					op = WT_CALLTAB_REQ_INTERIM;
			} else {
				op = WT_CALLTAB_REQ_IDLE;
			}
			if (op >= 0) {
				memset(&out[n], 0, sizeof(out[n]));
				out[n].idx = i;
				out[n].op = (uint8_t)op;
				out[n].gen = gen;
				out[n].now_ns = now_ns;
				n++;
			}
		}
		i++;
	}
	if (i >= hw) {
		i = 0;
		*pass_done = 1;
	}
	*cursor = i;
	return n;
}

int
wt_calltab_expire(struct wt_calltab *t, const struct wt_calltab_expire *req)
{
	t->st.expire_requests++;
	if (req->idx >= t->hw) {
		t->st.expire_stale++;
		return 0;
	}
	struct crec *r = &t->recs[req->idx];
	if (r->key.family == 0 || t->cold[req->idx].incarnation != req->gen) {
		t->st.expire_stale++;
		return 0;
	}
	if (req->op == WT_CALLTAB_REQ_INTERIM) {
		uint32_t now_ms = calltab_ms(req->now_ns);
		if (!interim_due(t, r, now_ms) || !(r->meta & CREC_SEEN)) {
			t->st.interim_declined++; /* empty, or cut since the scanner looked */
			return 0;
		}
		emit_interim(t, req->idx, now_ms);
		return 1;
	}
	if (__atomic_load_n(&r->active, __ATOMIC_RELAXED)) {
		t->st.expire_active++; /* a packet came after the scanner looked */
		return 0;
	}
	complete_record(t, req->idx, WT_END_IDLE);
	return 1;
}

void
wt_calltab_scan_pass(struct wt_calltab *t, uint64_t now_ns)
{
	while (!wt_calltab_scan(t, UINT32_MAX, now_ns))
		;
}

void
wt_calltab_complete_all(struct wt_calltab *t, uint8_t reason)
{
	for (uint32_t idx = 0; idx < t->hw; idx++) {
		if (t->recs[idx].key.family == 0)
			continue;
		complete_record(t, idx, reason);
	}
}

void
wt_calltab_get_stats(const struct wt_calltab *t, struct wt_calltab_stats *st)
{
	/* any thread: each counter loaded whole (the owner only adds to them) */
	_Static_assert(sizeof(*st) % sizeof(uint64_t) == 0, "counters are uint64_t");
	const uint64_t *src = (const uint64_t *)(const void *)&t->st;
	uint64_t *dst = (uint64_t *)(void *)st;
	for (size_t k = 0; k < sizeof(*st) / sizeof(uint64_t); k++)
		dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
}

uint32_t
wt_calltab_capacity(const struct wt_calltab *t)
{
	return t->capacity;
}

double
wt_calltab_bytes_per_record(const struct wt_calltab *t)
{
	return (double)(t->recs_bytes + t->cold_bytes + t->index_bytes + t->ext_bytes +
	                t->ctx_bytes) /
	       t->capacity;
}

int
wt_calltab_on_hugepages(const struct wt_calltab *t)
{
	return wt_mem_is_huge(t->recs);
}

uint64_t
wt_calltab_memory(const struct wt_calltab *t)
{
	return t->recs_bytes + t->cold_bytes + t->index_bytes + t->ext_bytes + t->ctx_bytes +
	       sizeof(*t);
}
