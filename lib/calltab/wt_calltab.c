/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_calltab.c: call-record table: lookup pipeline, create, update, evict. */
#include <errno.h>
#include <string.h>

#include "calltab_priv.h"
#include "wt_mem.h"

/*
 * The index.
 *
 * An open-addressing array of 64-bit entries, (hash_hi << 32) | (record + 1),
 * with linear probing from the home slot (multiply-shift of hash_hi, so the
 * slot count need not be a power of two). It has 1.5 slots per record, so it
 * is at most 2/3 full and a probe ends within a cache line or two. Because
 * the home slot is a function of the stored hash_hi, removal can use
 * backward-shift deletion (no tombstones, probe lengths never degrade), and
 * the hash_hi comparison filters almost every non-matching entry before the
 * key in the record is read. The records themselves never move: a record is
 * addressed by its slot index for its whole life.
 */

static void
index_insert_at(struct wt_calltab *t, uint32_t pos, uint32_t hash_hi, uint32_t rec)
{
	t->index[pos] = ((uint64_t)hash_hi << 32) | (uint64_t)(rec + 1);
}

/* Remove the entry of record @rec (hash @hash_hi) with backward shift. */
static void
index_remove(struct wt_calltab *t, uint32_t hash_hi, uint32_t rec)
{
	const uint64_t want = ((uint64_t)hash_hi << 32) | (uint64_t)(rec + 1);
	uint32_t n = t->nslots;
	uint32_t i = calltab_home(t, hash_hi);

	while (t->index[i] != want) {
		if (++i == n)
			i = 0;
	}
	/* Shift later members of the cluster back over the hole when their
	 * home slot is not cyclically within (hole, j]. */
	uint32_t j = i;
	for (;;) {
		if (++j == n)
			j = 0;
		uint64_t e = t->index[j];
		if (e == 0)
			break;
		uint32_t home = calltab_home(t, (uint32_t)(e >> 32));
		int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			t->index[i] = e;
			i = j;
		}
	}
	t->index[i] = 0;
}

struct wt_calltab *
wt_calltab_create(const struct wt_calltab_params *p)
{
	struct wt_calltab *t = NULL;

	if (p == NULL || p->emit == NULL || p->capacity < 16 ||
	    p->capacity > WT_CALLTAB_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	t = wt_mem_alloc(sizeof(*t), p->socket);
	if (t == NULL)
		goto err;
	t->capacity = p->capacity;
	/* 1.5 slots per record, a whole number of 8-entry cache lines */
	t->nslots = (uint32_t)(((uint64_t)p->capacity * 3 / 2) & ~7ull);
	t->recs_bytes = (size_t)p->capacity * sizeof(struct crec);
	t->cold_bytes = (size_t)p->capacity * sizeof(struct crec_cold);
	t->index_bytes = (size_t)t->nslots * sizeof(uint64_t);
	t->recs = wt_mem_alloc(t->recs_bytes, p->socket);
	t->cold = wt_mem_alloc(t->cold_bytes, p->socket);
	t->index = wt_mem_alloc(t->index_bytes, p->socket);
	if (t->recs == NULL || t->cold == NULL || t->index == NULL)
		goto err;
	t->free_head = CREC_NONE;
	t->vlan_in_key = p->vlan_in_key;
	t->call_id_hi = p->run_id;
	t->call_id_lo_tag = (uint64_t)p->lcore_index << 56;
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
	wt_mem_free(t, sizeof(*t));
}

/* Build the exported form of record @idx and hand it to the emit callback. */
static void
emit_record(struct wt_calltab *t, uint32_t idx, uint8_t reason)
{
	const struct crec *r = &t->recs[idx];
	const struct crec_cold *c = &t->cold[idx];
	struct wt_callrec cr;

	memset(&cr, 0, sizeof(cr));
	cr.call_id[0] = t->call_id_hi;
	cr.call_id[1] = t->call_id_lo_tag | r->incarnation;
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
	t->emit(t->emit_ctx, &cr);
}

/* Emit record @idx with @reason, take it out of the index, free its slot. */
static void
complete_record(struct wt_calltab *t, uint32_t idx, uint8_t reason)
{
	struct crec *r = &t->recs[idx];

	emit_record(t, idx, reason);
	index_remove(t, r->hash_hi, idx);
	memset(r, 0, sizeof(*r));
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
	if (t->hw < t->capacity)
		return t->hw++;
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

static wt_always_inline void
update_record(struct wt_calltab *t, uint32_t idx, const struct wt_pkt *p, unsigned int dir,
	      uint64_t ts)
{
	struct crec *r = &t->recs[idx];
	struct wt_dirstats *d = &r->d[dir];

	if (wt_unlikely(d->pkts == 0))
		memcpy(t->cold[idx].mac[dir], p->src_mac, 6);
	if (ts > r->end_ns)
		r->end_ns = ts;
	r->active = 1;
	r->flags[dir] |= p->tcp_flags;
	if (wt_unlikely((p->tcp_flags & WT_TCP_SYN) && (r->meta & CREC_ORIGIN_MASK) == 0))
		r->meta |= origin_of(p->tcp_flags, dir);
	if (p->has_seq) {
		uint8_t sv = dir ? CREC_SEQ_VALID_B : CREC_SEQ_VALID_A;
		if (wt_unlikely(!(r->meta & sv))) {
			r->meta |= sv;
			d->first_seq = p->seq;
		}
		d->last_seq = p->seq + p->payload_len;
	}
	d->pkts++;
	d->bytes += p->payload_len;
	d->ip_bytes += p->ip_len;
}

/* Create a record for @key at index slot @pos (found empty by the probe). */
static wt_noinline uint32_t
create_record(struct wt_calltab *t, const struct wt_key *key, uint32_t hash_hi, uint32_t pos,
	      uint64_t ts)
{
	uint32_t idx = alloc_slot(t);

	if (wt_unlikely(idx == CREC_NONE)) {
		evict_one(t);
		idx = alloc_slot(t); /* the slot evict_one() just freed */
		/* The removal may have shifted entries: find the empty slot again. */
		pos = calltab_home(t, hash_hi);
		while (t->index[pos] != 0)
			if (++pos == t->nslots)
				pos = 0;
	}
	struct crec *r = &t->recs[idx];
	r->key = *key;
	r->end_ns = ts;
	r->incarnation = t->next_incarnation++ & ((1ull << 56) - 1);
	r->hash_hi = hash_hi;
	r->active = 0;
	r->meta = 0;
	r->flags[0] = r->flags[1] = 0;
	memset(r->d, 0, sizeof(r->d));
	t->cold[idx].start_ns = ts;
	memset(t->cold[idx].mac, 0, sizeof(t->cold[idx].mac));
	index_insert_at(t, pos, hash_hi, idx);
	t->st.created++;
	t->st.active++;
	return idx;
}

void
wt_calltab_update_burst(struct wt_calltab *t, const struct wt_pkt *pkts, const uint64_t *ts,
			uint32_t n)
{
	struct wt_key keys[WT_CALLTAB_BURST_MAX];
	uint32_t hh[WT_CALLTAB_BURST_MAX];
	uint8_t dirs[WT_CALLTAB_BURST_MAX];
	const uint64_t *index = t->index;
	uint32_t i;

	if (n > WT_CALLTAB_BURST_MAX)
		n = WT_CALLTAB_BURST_MAX;

	/* Stage 1: canonical keys and hashes; prefetch each home index line. */
	for (i = 0; i < n; i++) {
		dirs[i] = (uint8_t)wt_key_from_pkt(&keys[i], &pkts[i], t->vlan_in_key);
		hh[i] = (uint32_t)(wt_key_hash(&keys[i], &t->seed) >> 32);
		wt_prefetch0(&index[calltab_home(t, hh[i])]);
	}

	/* Stage 2: first index entry with a matching hash: prefetch its record. */
	for (i = 0; i < n; i++) {
		uint32_t pos = calltab_home(t, hh[i]);
		uint64_t e;
		while ((e = index[pos]) != 0) {
			if ((uint32_t)(e >> 32) == hh[i]) {
				const struct crec *r = &t->recs[(uint32_t)e - 1];
				wt_prefetch_w(r);
				wt_prefetch_w(&r->d[0]);
				break;
			}
			if (++pos == t->nslots)
				pos = 0;
		}
	}

	/* Stage 3: resolve against the full key, create if missing, update.
	 * The probe is repeated (its lines are cached now) because a creation
	 * or eviction earlier in this burst may have changed the index. */
	for (i = 0; i < n; i++) {
		uint32_t pos = calltab_home(t, hh[i]);
		uint32_t idx;
		uint64_t e;
		for (;;) {
			e = index[pos];
			if (e == 0) {
				idx = create_record(t, &keys[i], hh[i], pos, ts[i]);
				break;
			}
			if ((uint32_t)(e >> 32) == hh[i] &&
			    wt_key_equal(&t->recs[(uint32_t)e - 1].key, &keys[i])) {
				idx = (uint32_t)e - 1;
				break;
			}
			if (++pos == t->nslots)
				pos = 0;
		}
		update_record(t, idx, &pkts[i], dirs[i], ts[i]);
	}
	t->st.pkts += n;
}

int
wt_calltab_scan(struct wt_calltab *t, uint32_t budget)
{
	while (budget-- > 0 && t->scan_cursor < t->hw) {
		uint32_t idx = t->scan_cursor++;
		struct crec *r = &t->recs[idx];
		if (r->key.family == 0)
			continue;
		if (r->active) {
			r->active = 0;
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

void
wt_calltab_scan_pass(struct wt_calltab *t)
{
	while (!wt_calltab_scan(t, UINT32_MAX))
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
	*st = t->st;
}

uint32_t
wt_calltab_capacity(const struct wt_calltab *t)
{
	return t->capacity;
}

double
wt_calltab_bytes_per_record(const struct wt_calltab *t)
{
	return (double)(t->recs_bytes + t->cold_bytes + t->index_bytes) / t->capacity;
}

uint64_t
wt_calltab_memory(const struct wt_calltab *t)
{
	return t->recs_bytes + t->cold_bytes + t->index_bytes + sizeof(*t);
}
