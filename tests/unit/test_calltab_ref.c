/* SPDX-License-Identifier: BSD-3-Clause */
/* test_calltab_ref.c: the call-record table against a plain model on DPDK's rte_hash.
 *
 * rte_hash is the correctness baseline: a random stream of IPv4/IPv6
 * TCP/UDP/ICMP packets, both directions, VLAN tags, SYNs and data, is
 * accounted by wt_calltab and by a straightforward model keyed by the
 * canonical key in an rte_hash. Phase 1 (table big enough, no scan): every
 * record equals the model's field by field. Phase 2 (table much smaller than
 * the connection count, random scans): per connection, the emitted records
 * add up to the model's totals. Suite 'eal' (needs an EAL, --no-huge).
 */
#include <unistd.h>

#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include "wt_calltab.h"
#include "wt_test.h"
#include "eal_testutil.h"

#define NCONN 20000

struct model {
	struct wt_dirstats d[2];
	uint64_t start, end;
	uint8_t flags[2], origin, seq_valid;
	uint8_t mac[2][6];
	uint64_t emitted_pkts[2], emitted_bytes[2], emitted_ip[2];
	uint8_t emitted_flags[2];
	int n_records;
};

static struct rte_hash *h;
static struct model models[NCONN];
static struct wt_pkt conns[NCONN][2]; /* [c][0] = one direction, [c][1] = reverse */
static int phase;
static int mismatches;

static uint64_t rs = 0x1234567;
static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static struct model *
model_of(const struct wt_key *k)
{
	void *data;
	if (rte_hash_lookup_data(h, k, &data) < 0)
		return NULL;
	return data;
}

static void
on_emit(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	struct wt_key k;
	memset(&k, 0, sizeof(k));
	memcpy(k.addr_a, r->addr_a, 16);
	memcpy(k.addr_b, r->addr_b, 16);
	k.port_a = r->port_a;
	k.port_b = r->port_b;
	k.vlan = r->vlan;
	k.proto = r->proto;
	k.family = r->family;
	struct model *m = model_of(&k);
	if (m == NULL) {
		mismatches++;
		return;
	}
	m->n_records++;
	for (int d = 0; d < 2; d++) {
		m->emitted_pkts[d] += r->d[d].pkts;
		m->emitted_bytes[d] += r->d[d].bytes;
		m->emitted_ip[d] += r->d[d].ip_bytes;
		m->emitted_flags[d] |= r->flags[d];
	}
	if (phase != 1)
		return;
	/* Phase 1: one record per connection, equal to the model. */
	int bad = r->start_ns != m->start || r->end_ns != m->end || r->origin != m->origin ||
	          r->seq_valid != m->seq_valid || memcmp(r->mac_a, m->mac[0], 6) != 0 ||
	          memcmp(r->mac_b, m->mac[1], 6) != 0;
	for (int d = 0; d < 2; d++)
		bad |= memcmp(&r->d[d], &m->d[d], sizeof(r->d[d])) != 0 ||
		       r->flags[d] != m->flags[d];
	if (bad && mismatches++ < 5)
		fprintf(stderr, "record mismatch for connection %ld\n", (long)(m - models));
}

/* The model's own rules, written plainly (DESIGN.md section 3). */
static void
model_update(const struct wt_pkt *p, uint64_t ts)
{
	struct wt_key k;
	unsigned int dir = wt_key_from_pkt(&k, p, 1);
	struct model *m = model_of(&k);
	struct wt_dirstats *d = &m->d[dir];
	if (m->d[0].pkts + m->d[1].pkts == 0)
		m->start = ts;
	if (ts > m->end)
		m->end = ts;
	if (d->pkts == 0)
		memcpy(m->mac[dir], p->src_mac, 6);
	if ((p->tcp_flags & WT_TCP_SYN) && m->origin == WT_ORIGIN_UNKNOWN) {
		int sender_a = dir == 0;
		int syn_ack = (p->tcp_flags & WT_TCP_ACK) != 0;
		m->origin = (sender_a != syn_ack) ? WT_ORIGIN_A : WT_ORIGIN_B;
	}
	if (p->has_seq) {
		if (!(m->seq_valid & (1u << dir))) {
			m->seq_valid |= (uint8_t)(1u << dir);
			d->first_seq = p->seq;
		}
		d->last_seq = p->seq + p->payload_len;
	}
	m->flags[dir] |= p->tcp_flags;
	d->pkts++;
	d->bytes += p->payload_len;
	d->ip_bytes += p->ip_len;
}

static void
make_conns(void)
{
	struct rte_hash_parameters hp = {.name = "ref",
	                                 .entries = NCONN * 2,
	                                 .key_len = sizeof(struct wt_key),
	                                 .hash_func = rte_jhash,
	                                 .socket_id = 0};
	h = rte_hash_create(&hp);
	CHECK(h != NULL);
	for (int c = 0; c < NCONN; c++) {
		struct wt_pkt *p = &conns[c][0];
		memset(p, 0, sizeof(*p));
		int kind = (int)(rnd() % 10);
		p->family = kind < 7 ? 4 : 6;
		p->proto = kind < 5 ? 6 : kind < 9 ? 17 : (p->family == 4 ? 1 : 58);
		if (p->family == 4) {
			uint32_t s = (uint32_t)rnd(), d = (uint32_t)rnd();
			if (c % 97 == 0)
				d = s; /* same address both sides: ports decide */
			memcpy(p->src, &s, 4);
			memcpy(p->dst, &d, 4);
		} else {
			for (int i = 0; i < 16; i++) {
				p->src[i] = (uint8_t)rnd();
				p->dst[i] = (uint8_t)rnd();
			}
		}
		if (p->proto == 6 || p->proto == 17) {
			p->sport = (uint16_t)rnd();
			p->dport = (uint16_t)rnd();
		}
		p->vlan = (c % 5 == 0) ? (uint16_t)(rnd() % 4095 + 1) : 0;
		p->src_mac[5] = 1;
		conns[c][1] = *p;
		struct wt_pkt *q = &conns[c][1];
		memcpy(q->src, p->dst, 16);
		memcpy(q->dst, p->src, 16);
		q->sport = p->dport;
		q->dport = p->sport;
		q->src_mac[5] = 2;
		struct wt_key k;
		wt_key_from_pkt(&k, p, 1);
		if (model_of(&k) == NULL)
			CHECK(rte_hash_add_key_data(h, &k, &models[c]) == 0);
	}
}

static void
run(uint32_t capacity, int scans, uint64_t npkts)
{
	struct wt_calltab_params tp = {.capacity = capacity,
	                               .socket = WT_SOCKET_ANY,
	                               .hash_seed = rnd(),
	                               .vlan_in_key = 1,
	                               .emit = on_emit};
	struct wt_calltab *t = wt_calltab_create(&tp);
	CHECK(t != NULL);
	memset(models, 0, sizeof(models));
	struct wt_pkt burst[32];
	uint64_t ts[32], now = 1000;
	for (uint64_t done = 0; done < npkts;) {
		uint32_t n = 1 + (uint32_t)(rnd() % 32);
		if (n > npkts - done)
			n = (uint32_t)(npkts - done);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t c = (uint32_t)(rnd() % NCONN);
			struct wt_pkt p = conns[c][rnd() & 1];
			if (p.proto == 6) {
				static const uint8_t fl[] = {WT_TCP_SYN,
				                             WT_TCP_SYN | WT_TCP_ACK,
				                             WT_TCP_ACK,
				                             WT_TCP_ACK | WT_TCP_PSH,
				                             WT_TCP_ACK | WT_TCP_FIN,
				                             WT_TCP_RST};
				p.tcp_flags = fl[rnd() % 6];
				p.has_seq = (rnd() % 50) != 0; /* a few later fragments */
				p.seq = (uint32_t)rnd();
			}
			p.payload_len = (uint32_t)(rnd() % 1500);
			p.ip_len = p.payload_len + 40;
			burst[i] = p;
			ts[i] = now + (rnd() % 3); /* timestamps may step back a little */
			model_update(&p, ts[i]);
		}
		now += 5;
		wt_calltab_update_burst(t, burst, ts, n);
		done += n;
		if (scans && rnd() % 100 == 0)
			wt_calltab_scan(t, (uint32_t)(rnd() % 5000), 0);
	}
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	int bad = 0;
	for (int c = 0; c < NCONN; c++) {
		struct model *m = &models[c];
		for (int d = 0; d < 2; d++)
			bad += m->emitted_pkts[d] != m->d[d].pkts ||
			       m->emitted_bytes[d] != m->d[d].bytes ||
			       m->emitted_ip[d] != m->d[d].ip_bytes ||
			       m->emitted_flags[d] != m->flags[d];
		if (phase == 1 && m->d[0].pkts + m->d[1].pkts > 0)
			bad += m->n_records != 1;
	}
	CHECK_EQ_U64(bad, 0);
	CHECK_EQ_U64(mismatches, 0);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.pkts, npkts);
	if (phase == 2)
		CHECK(st.evicted > 0 && st.completed_idle > 0);
	wt_calltab_free(t);
}

static void
test_exact(void)
{
	phase = 1;
	run(NCONN, 0, 1000000);
}

static void
test_churn_totals(void)
{
	phase = 2;
	run(2048, 1, 1000000);
}

int
main(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=wt-test-ref-%d", (int)getpid());
	char *eal[] = {
	        "test_calltab_ref",          "--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
	        "--log-level=lib.eal:error", prefix,      NULL};
	if (rte_eal_init(8, eal) < 0) {
		fprintf(stderr, "FAIL: the EAL did not start (--no-huge -m 256)\n");
		return 1;
	}
	make_conns();
	test_exact();
	printf("%s exact\n", wt_test_failures ? "FAIL" : "ok  ");
	int before = wt_test_failures;
	test_churn_totals();
	printf("%s churn_totals\n", wt_test_failures != before ? "FAIL" : "ok  ");
	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	rte_hash_free(h);
	wt_test_eal_cleanup();
	return wt_test_failures ? 1 : 0;
}
