/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_frag.c: the fragment attribution table (first fragment's ports for later ones).
 *
 * How it works: open addressing over a power-of-two array; a key hashes to a
 * window of FRAG_WINDOW consecutive slots (wrapping). A lookup scans only that
 * window, so every operation costs at most FRAG_WINDOW key compares, whatever
 * an attacker sends. Slots are never deleted: an entry whose last use is more
 * than timeout_ns ago counts as empty (and is counted "expired" once, when a
 * probe finds it). A first fragment that finds its key refreshes it, else
 * takes the first empty slot, else replaces the least recently used entry of
 * the window (counted "replaced").
 *
 * Limits: a later fragment that arrives before its first fragment is not
 * attributed (the table does not hold fragments back). The hash is unseeded
 * on purpose, so a replayed capture attributes exactly as the live run did;
 * crafted fragment floods can then aim at one window, but all they achieve is
 * replacements, which are counted, and the cost per packet stays bounded.
 */
#include <errno.h>
#include <string.h>

#include "wt_mem.h"
#include "wt_parse.h"

/* Slots probed per key: one or two cache lines of entries. */
#define FRAG_WINDOW      4
#define FRAG_MIN_ENTRIES 16u
#define FRAG_MAX_ENTRIES (1u << 26)

struct frag_ent {
	uint8_t src[16];
	uint8_t dst[16];
	uint32_t id;
	uint8_t family; /* 0: never used */
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t decap; /* the first fragment was decapsulated (wt_frag_mark_decap()) */
	uint8_t pad;
	uint64_t last_ns;
	uint64_t tctx; /* tunnel context of an inner packet's fragments, else 0 */
};
_Static_assert(sizeof(struct frag_ent) == 64, "frag_ent layout");

struct wt_frag_table {
	uint32_t mask;
	uint64_t timeout_ns;
	size_t mem_size;
	struct wt_frag_stats st;
	struct frag_ent ent[] wt_cache_aligned;
};

/* 64x64 -> 128 multiply folded to 64 bits: a cheap, well-mixing step. */
static inline uint64_t
frag_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t
frag_hash(const struct wt_pkt *p)
{
	uint64_t k =
	        (((uint64_t)p->frag_id << 16) | ((uint64_t)p->proto << 8) | p->family) ^ p->tctx;
	uint64_t h = frag_mix(wt_load64(p->src) ^ 0x9e3779b97f4a7c15ull,
	                      wt_load64(p->dst) ^ 0xc2b2ae3d27d4eb4full);
	if (p->family == 6)
		h ^= frag_mix(wt_load64(p->src + 8) ^ 0x165667b19e3779f9ull,
		              wt_load64(p->dst + 8) ^ 0x27d4eb2f165667c5ull);
	return frag_mix(h ^ k, 0xff51afd7ed558ccdull);
}

static inline int
frag_match(const struct frag_ent *e, const struct wt_pkt *p)
{
	return e->family == p->family && e->proto == p->proto && e->id == p->frag_id &&
	       e->tctx == p->tctx && memcmp(e->src, p->src, 16) == 0 &&
	       memcmp(e->dst, p->dst, 16) == 0;
}

/* Live: used within the timeout. A clock that went back counts as age 0. */
static inline int
frag_live(const struct wt_frag_table *ft, const struct frag_ent *e, uint64_t now)
{
	return now <= e->last_ns || now - e->last_ns <= ft->timeout_ns;
}

struct wt_frag_table *
wt_frag_create(uint32_t entries, uint64_t timeout_ns, int socket)
{
	struct wt_frag_table *ft;
	uint32_t n = FRAG_MIN_ENTRIES;
	size_t size;

	if (entries == 0 || entries > FRAG_MAX_ENTRIES || timeout_ns == 0) {
		errno = EINVAL;
		return NULL;
	}
	while (n < entries)
		n <<= 1;
	size = sizeof(*ft) + (size_t)n * sizeof(struct frag_ent);
	ft = wt_mem_alloc(size, socket); /* zeroed: every slot unused */
	if (ft == NULL)
		return NULL;
	ft->mask = n - 1;
	ft->timeout_ns = timeout_ns;
	ft->mem_size = size;
	return ft;
}

void
wt_frag_free(struct wt_frag_table *ft)
{
	if (ft == NULL)
		return;
	wt_mem_free(ft, ft->mem_size);
}

enum wt_drop
wt_frag_process(struct wt_frag_table *ft, struct wt_pkt *pkt, uint64_t now_ns)
{
	uint32_t base = (uint32_t)frag_hash(pkt);
	struct frag_ent *found = NULL, *empty = NULL, *oldest = NULL;

	if (pkt->frag == WT_FRAG_NONE)
		return WT_DROP_NONE;
	for (unsigned int i = 0; i < FRAG_WINDOW; i++) {
		struct frag_ent *e = &ft->ent[(base + i) & ft->mask];
		if (e->family != 0 && !frag_live(ft, e, now_ns)) {
			e->family = 0; /* forget it, so it is counted once */
			ft->st.expired++;
		}
		if (e->family == 0) {
			if (empty == NULL)
				empty = e;
			continue;
		}
		if (frag_match(e, pkt)) {
			found = e;
			break;
		}
		if (oldest == NULL || e->last_ns < oldest->last_ns)
			oldest = e;
	}

	if (pkt->frag == WT_FRAG_LATER) {
		if (found == NULL) {
			ft->st.unattributed++;
			return WT_DROP_FRAG_UNATTRIBUTED;
		}
		if (now_ns > found->last_ns) /* a clock that went back does not age it */
			found->last_ns = now_ns;
		if (found->decap)
			return WT_DROP_TUNNEL_FRAG_LATER;
		pkt->sport = found->sport;
		pkt->dport = found->dport;
		pkt->notes |= WT_NOTE(FRAG_ATTRIBUTED);
		ft->st.attributed++;
		return WT_DROP_NONE;
	}

	/* FIRST: refresh, fill an empty slot, or replace the oldest. */
	if (found == NULL) {
		if (empty != NULL) {
			found = empty;
		} else {
			found = oldest;
			ft->st.replaced++;
		}
		memcpy(found->src, pkt->src, 16);
		memcpy(found->dst, pkt->dst, 16);
		found->id = pkt->frag_id;
		found->family = pkt->family;
		found->proto = pkt->proto;
		found->tctx = pkt->tctx;
		found->last_ns = now_ns;
	} else if (now_ns > found->last_ns) {
		found->last_ns = now_ns;
	}
	found->sport = pkt->sport;
	found->dport = pkt->dport;
	found->decap = 0;
	ft->st.learned++;
	return WT_DROP_NONE;
}

void
wt_frag_mark_decap(struct wt_frag_table *ft, const struct wt_pkt *first)
{
	uint32_t base = (uint32_t)frag_hash(first);

	for (unsigned int i = 0; i < FRAG_WINDOW; i++) {
		struct frag_ent *e = &ft->ent[(base + i) & ft->mask];
		if (e->family != 0 && frag_match(e, first)) {
			e->decap = 1;
			return;
		}
	}
}

void
wt_frag_get_stats(const struct wt_frag_table *ft, struct wt_frag_stats *st)
{
	*st = ft->st;
}
