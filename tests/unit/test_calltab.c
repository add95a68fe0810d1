/* SPDX-License-Identifier: BSD-3-Clause */
/* test_calltab.c: call-record table: accounting, origin, scan, eviction, churn, interim records. */
#include <arpa/inet.h>

#include "wt_calltab.h"
#include "wt_test.h"

#define MAXREC 20000

static struct wt_callrec emitted[MAXREC];
static unsigned int n_emitted;

static void
collect(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	if (n_emitted < MAXREC)
		emitted[n_emitted] = *r;
	n_emitted++;
}

/* A table; @active_ns: the active timeout (0: no interim records). */
static struct wt_calltab *
make_tab_at(uint32_t cap, wt_calltab_emit_fn fn, uint64_t active_ns)
{
	struct wt_calltab_params p = {
	        .capacity = cap,
	        .socket = WT_SOCKET_ANY,
	        .hash_seed = 42,
	        .vlan_in_key = 1,
	        .lcore_index = 3,
	        .run_id = 0xabcdef,
	        .emit = fn,
	        .active_timeout_ns = active_ns,
	};
	n_emitted = 0;
	struct wt_calltab *t = wt_calltab_create(&p);
	CHECK(t != NULL);
	return t;
}

static struct wt_calltab *
make_tab_emit(uint32_t cap, wt_calltab_emit_fn fn)
{
	return make_tab_at(cap, fn, 0);
}

static struct wt_calltab *
make_tab(uint32_t cap)
{
	return make_tab_emit(cap, collect);
}

static struct wt_pkt
pkt4(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint8_t proto, uint8_t flags,
     uint32_t seq, uint32_t payload)
{
	struct wt_pkt p;
	memset(&p, 0, sizeof(p));
	inet_pton(AF_INET, src, p.src);
	inet_pton(AF_INET, dst, p.dst);
	p.sport = sport;
	p.dport = dport;
	p.proto = proto;
	p.family = 4;
	p.tcp_flags = flags;
	p.has_seq = proto == 6;
	p.seq = seq;
	p.payload_len = payload;
	p.ip_len = payload + 40;
	p.src_mac[5] = (uint8_t)(sport & 0xff);
	return p;
}

static void
feed(struct wt_calltab *t, struct wt_pkt *p, uint64_t ts)
{
	wt_calltab_update_burst(t, p, &ts, 1);
}

/* A full TCP exchange: SYN from the client, data both ways, FIN. */
static void
test_tcp_exchange(void)
{
	struct wt_calltab *t = make_tab(64);
	/* client 10.0.0.1:40000 -> server 10.0.0.2:80; a = server (greater address) */
	struct wt_pkt burst[6] = {
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_SYN, 1000, 0),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_SYN | WT_TCP_ACK, 5000, 0),
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_ACK | WT_TCP_PSH, 1001, 100),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_ACK | WT_TCP_PSH, 5001, 3000),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_ACK | WT_TCP_FIN, 8001, 0),
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_ACK | WT_TCP_FIN, 1101, 0),
	};
	uint64_t ts[6] = {100, 200, 300, 400, 500, 600};
	wt_calltab_update_burst(t, burst, ts, 6);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(n_emitted, 1);
	const struct wt_callrec *r = &emitted[0];
	char a[46];
	CHECK_EQ_STR(wt_addr_str(r->addr_a, 4, a), "10.0.0.2");
	CHECK_EQ_U64(r->port_a, 80);
	CHECK_EQ_U64(r->port_b, 40000);
	CHECK_EQ_U64(r->origin, WT_ORIGIN_B); /* the client, b, sent the SYN */
	CHECK_EQ_U64(r->start_ns, 100);
	CHECK_EQ_U64(r->end_ns, 600);
	CHECK_EQ_U64(r->end_reason, WT_END_SHUTDOWN);
	CHECK_EQ_U64(r->d[0].pkts, 3);
	CHECK_EQ_U64(r->d[0].bytes, 3000);
	CHECK_EQ_U64(r->d[0].ip_bytes, 3000 + 3 * 40);
	CHECK_EQ_U64(r->d[1].pkts, 3);
	CHECK_EQ_U64(r->d[1].bytes, 100);
	CHECK_EQ_U64(r->flags[0], WT_TCP_SYN | WT_TCP_ACK | WT_TCP_PSH | WT_TCP_FIN);
	CHECK_EQ_U64(r->flags[1], WT_TCP_SYN | WT_TCP_ACK | WT_TCP_PSH | WT_TCP_FIN);
	CHECK_EQ_U64(r->seq_valid, WT_SEQ_VALID_A | WT_SEQ_VALID_B);
	CHECK_EQ_U64(r->d[0].first_seq, 5000);
	CHECK_EQ_U64(r->d[0].last_seq, 8001);
	CHECK_EQ_U64(r->d[1].first_seq, 1000);
	CHECK_EQ_U64(r->d[1].last_seq, 1101);
	CHECK_EQ_U64(r->mac_a[5], 80);
	CHECK_EQ_U64(r->mac_b[5], 40000 & 0xff);
	CHECK_EQ_U64(r->call_id[0], 0xabcdef);
	CHECK_EQ_U64(r->call_id[1] >> 56, 3);
	wt_calltab_free(t);
}

static void
test_origin(void)
{
	struct {
		uint8_t flags;
		int from_low; /* sender is the lower endpoint (b) */
		uint8_t want;
	} cases[] = {
	        {WT_TCP_SYN, 1, WT_ORIGIN_B},
	        {WT_TCP_SYN, 0, WT_ORIGIN_A},
	        {WT_TCP_SYN | WT_TCP_ACK, 1, WT_ORIGIN_A},
	        {WT_TCP_SYN | WT_TCP_ACK, 0, WT_ORIGIN_B},
	        {WT_TCP_ACK, 1, WT_ORIGIN_UNKNOWN},
	        {WT_TCP_ACK | WT_TCP_PSH, 0, WT_ORIGIN_UNKNOWN},
	};
	for (unsigned int i = 0; i < WT_ARRAY_SIZE(cases); i++) {
		struct wt_calltab *t = make_tab(16);
		struct wt_pkt p =
		        cases[i].from_low
		                ? pkt4("1.1.1.1", 1000, "2.2.2.2", 22, 6, cases[i].flags, 1, 0)
		                : pkt4("2.2.2.2", 22, "1.1.1.1", 1000, 6, cases[i].flags, 1, 0);
		feed(t, &p, 1);
		wt_calltab_complete_all(t, WT_END_SHUTDOWN);
		CHECK_EQ_U64(emitted[0].origin, cases[i].want);
		wt_calltab_free(t);
	}
	/* UDP: never a SYN, so unknown */
	struct wt_calltab *t = make_tab(16);
	struct wt_pkt u = pkt4("1.1.1.1", 53, "2.2.2.2", 5353, 17, 0, 0, 10);
	feed(t, &u, 1);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(emitted[0].origin, WT_ORIGIN_UNKNOWN);
	CHECK_EQ_U64(emitted[0].seq_valid, 0);
	wt_calltab_free(t);
	/* Mid-connection start, then a SYN on the same tuple: origin learned. */
	t = make_tab(16);
	struct wt_pkt m = pkt4("1.1.1.1", 1000, "2.2.2.2", 22, 6, WT_TCP_ACK, 1, 0);
	struct wt_pkt s = pkt4("2.2.2.2", 22, "1.1.1.1", 1000, 6, WT_TCP_SYN, 1, 0);
	feed(t, &m, 1);
	feed(t, &s, 2);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(emitted[0].origin, WT_ORIGIN_A);
	wt_calltab_free(t);
}

/* Figure 7: set -> reset -> complete over two scan intervals. */
static void
test_scan(void)
{
	struct wt_calltab *t = make_tab(64);
	struct wt_pkt p1 = pkt4("10.0.0.1", 1, "10.0.0.2", 2, 17, 0, 0, 5);
	struct wt_pkt p2 = pkt4("10.0.0.3", 1, "10.0.0.4", 2, 17, 0, 0, 5);
	feed(t, &p1, 10);
	feed(t, &p2, 10);
	wt_calltab_scan_pass(t, 0); /* both flags set: reset, nothing completes */
	CHECK_EQ_U64(n_emitted, 0);
	feed(t, &p2, 20);           /* p2 active again during the interval */
	wt_calltab_scan_pass(t, 0); /* p1 idle a whole interval: completes */
	CHECK_EQ_U64(n_emitted, 1);
	CHECK_EQ_U64(emitted[0].end_reason, WT_END_IDLE);
	CHECK_EQ_U64(emitted[0].addr_a[3], 2);
	wt_calltab_scan_pass(t, 0); /* p2 now idle for a whole interval */
	CHECK_EQ_U64(n_emitted, 2);
	CHECK_EQ_U64(emitted[1].addr_a[3], 4);
	CHECK_EQ_U64(emitted[1].d[0].pkts + emitted[1].d[1].pkts, 2);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.active, 0);
	CHECK_EQ_U64(st.completed_idle, 2);
	CHECK_EQ_U64(st.scans, 3);
	/* The connection comes back: a new record with a new call id. */
	feed(t, &p1, 30);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(n_emitted, 3);
	CHECK(emitted[2].call_id[1] != emitted[0].call_id[1]);
	/* Sliced scans visit every record exactly once per pass. */
	for (int i = 0; i < 40; i++) {
		struct wt_pkt q =
		        pkt4("10.1.0.1", (uint16_t)(1000 + i), "10.1.0.2", 9, 17, 0, 0, 1);
		feed(t, &q, 40);
	}
	int passes = 0;
	for (int k = 0; k < 100 && passes < 2; k++)
		passes += wt_calltab_scan(t, 7, 0);
	CHECK_EQ_U64(n_emitted, 3 + 40);
	wt_calltab_free(t);
}

/* Table full: the oldest of the sampled records is emitted as evicted, and
 * every packet is still accounted somewhere. */
/* The remote scanner protocol, one interleaving at a time: flags cleared,
 * requests for idle records, the owner's re-checks (active again, stale
 * generation after reuse). */
static void
test_remote_scan(void)
{
	struct wt_calltab *t = make_tab(16);
	struct wt_pkt a = pkt4("10.0.0.1", 1, "10.0.0.2", 2, 17, 0, 0, 1);
	struct wt_pkt b = pkt4("10.0.0.3", 1, "10.0.0.4", 2, 17, 0, 0, 1);
	struct wt_pkt c = pkt4("10.0.0.5", 1, "10.0.0.6", 2, 17, 0, 0, 1);
	struct wt_calltab_expire req[16];
	uint32_t cursor = 0;
	int done = 0;

	feed(t, &a, 1);
	feed(t, &b, 1);
	feed(t, &c, 1);
	/* pass 1: every flag set -> cleared, no request */
	CHECK_EQ_U64(wt_calltab_scan_remote(t, &cursor, 100, 0, req, 16, &done), 0);
	CHECK(done == 1 && cursor == 0);
	feed(t, &b, 2); /* b active during the interval */
	/* pass 2, in two slices: requests for a and c only */
	uint32_t n = wt_calltab_scan_remote(t, &cursor, 1, 0, req, 16, &done);
	CHECK(n == 1 && done == 0 && cursor == 1);
	n += wt_calltab_scan_remote(t, &cursor, 100, 0, req + n, 16 - n, &done);
	CHECK_EQ_U64(n, 2);
	CHECK(done == 1);
	/* c gets a packet before its request is handled: not completed */
	feed(t, &c, 3);
	CHECK_EQ_U64(wt_calltab_expire(t, &req[0]), 1); /* a */
	CHECK_EQ_U64(wt_calltab_expire(t, &req[1]), 0); /* c active again */
	CHECK_EQ_U64(n_emitted, 1);
	CHECK_EQ_U64(emitted[0].addr_a[3], 2);
	CHECK_EQ_U64(emitted[0].end_reason, WT_END_IDLE);
	/* a's slot is reused by a new connection: a's old request is stale */
	struct wt_pkt d = pkt4("10.0.0.7", 1, "10.0.0.8", 2, 17, 0, 0, 1);
	feed(t, &d, 4);
	CHECK_EQ_U64(wt_calltab_expire(t, &req[0]), 0);
	/* a request for a free slot, and one past the high-water mark */
	struct wt_calltab_expire bogus = {.idx = 15, .gen = 0};
	CHECK_EQ_U64(wt_calltab_expire(t, &bogus), 0);
	/* max_out stops the cursor where it was */
	cursor = 0;
	wt_calltab_scan_remote(t, &cursor, 100, 0, req, 16, &done); /* clear all */
	n = wt_calltab_scan_remote(t, &cursor, 100, 0, req, 1, &done);
	CHECK(n == 1 && done == 0 && cursor == 1);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.expire_requests, 4);
	CHECK_EQ_U64(st.expire_stale, 2);
	CHECK_EQ_U64(st.expire_active, 1);
	CHECK_EQ_U64(st.completed_idle, 1);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(n_emitted, 1 + 3);
	wt_calltab_free(t);
}

static void
test_evict(void)
{
	struct wt_calltab *t = make_tab(16);
	uint64_t total = 0;
	for (int i = 0; i < 16; i++) {
		struct wt_pkt p =
		        pkt4("10.0.0.1", (uint16_t)(100 + i), "10.0.0.2", 80, 6, WT_TCP_ACK, 1, 10);
		feed(t, &p, 1000 + (uint64_t)i);
		total++;
	}
	CHECK_EQ_U64(n_emitted, 0);
	/* refresh all but port 103, which becomes the oldest */
	for (int i = 0; i < 16; i++) {
		if (i == 3)
			continue;
		struct wt_pkt p =
		        pkt4("10.0.0.1", (uint16_t)(100 + i), "10.0.0.2", 80, 6, WT_TCP_ACK, 1, 10);
		feed(t, &p, 2000 + (uint64_t)i);
		total++;
	}
	struct wt_pkt n = pkt4("10.0.0.9", 9, "10.0.0.2", 80, 6, WT_TCP_SYN, 1, 0);
	feed(t, &n, 3000);
	total++;
	CHECK_EQ_U64(n_emitted, 1);
	CHECK_EQ_U64(emitted[0].end_reason, WT_END_EVICTED);
	CHECK_EQ_U64(emitted[0].port_b, 103);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.evicted, 1);
	CHECK_EQ_U64(st.active, 16);
	/* A flood of one-packet connections through a full table. */
	for (int i = 0; i < 5000; i++) {
		struct wt_pkt p =
		        pkt4("10.2.0.1", (uint16_t)i, "10.2.0.2", 80, 6, WT_TCP_SYN, 1, 0);
		feed(t, &p, 4000 + (uint64_t)i);
		total++;
	}
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	uint64_t sum = 0;
	for (unsigned int i = 0; i < n_emitted; i++)
		sum += emitted[i].d[0].pkts + emitted[i].d[1].pkts;
	CHECK_EQ_U64(sum, total);
	CHECK_EQ_U64(n_emitted, 16 + 5001);
	wt_calltab_free(t);
}

/* Churn against a simple reference: random packets over a small key space,
 * random scans; the emitted records plus a final flush must equal the
 * reference sums per connection, for every connection. */
static uint64_t rng = 88172645463325252ull;
static uint64_t
xs(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

enum { CONNS = 3000, PKTS = 400000 };
static uint64_t got_pkts[CONNS][2], got_bytes[CONNS][2];
static int churn_bad_key;

static void
churn_sum(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	uint32_t c = ((uint32_t)r->addr_a[1] << 8) | r->addr_a[2];
	if (c >= CONNS || r->addr_a[3] != 2 || r->port_b != 1024 + c) {
		churn_bad_key++;
		return;
	}
	for (int d = 0; d < 2; d++) {
		got_pkts[c][d] += r->d[d].pkts;
		got_bytes[c][d] += r->d[d].bytes;
	}
	n_emitted++;
}

static void
test_churn(void)
{
	static uint64_t ref_pkts[CONNS][2], ref_bytes[CONNS][2];
	/* smaller than the key space: evictions */
	struct wt_calltab *t = make_tab_emit(1024, churn_sum);
	memset(ref_pkts, 0, sizeof(ref_pkts));
	memset(ref_bytes, 0, sizeof(ref_bytes));
	struct wt_pkt burst[32];
	uint64_t ts[32];
	for (int done = 0; done < PKTS;) {
		uint32_t n = WT_MIN(1 + (uint32_t)(xs() % 32), (uint32_t)(PKTS - done));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t c = (uint32_t)(xs() % CONNS);
			int rev = (int)(xs() & 1);
			char a[16], b[16];
			snprintf(a, sizeof(a), "10.%u.%u.1", c >> 8, c & 0xff);
			snprintf(b, sizeof(b), "10.%u.%u.2", c >> 8, c & 0xff);
			uint32_t len = (uint32_t)(xs() % 1400);
			burst[i] =
			        rev ? pkt4(b, 80, a, (uint16_t)(1024 + c), 6, WT_TCP_ACK, 7, len)
			            : pkt4(a, (uint16_t)(1024 + c), b, 80, 6, WT_TCP_ACK, 7, len);
			ts[i] = (uint64_t)done + i;
			/* a = "10.x.y.2" side (greater address) */
			ref_pkts[c][rev ? 0 : 1]++;
			ref_bytes[c][rev ? 0 : 1] += len;
		}
		wt_calltab_update_burst(t, burst, ts, n);
		done += (int)n;
		if (xs() % 50 == 0)
			wt_calltab_scan(t, (uint32_t)(xs() % 700), 0);
	}
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	CHECK_EQ_U64(churn_bad_key, 0);
	int bad = 0;
	for (int c = 0; c < CONNS; c++)
		for (int d = 0; d < 2; d++)
			bad += got_pkts[c][d] != ref_pkts[c][d] ||
			       got_bytes[c][d] != ref_bytes[c][d];
	CHECK_EQ_U64(bad, 0);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.pkts, PKTS);
	CHECK_EQ_U64(st.created, st.evicted + st.completed_idle + st.completed_shutdown);
	CHECK_EQ_U64(n_emitted, st.created);
	CHECK(st.evicted > 0);
	wt_calltab_free(t);
}

/* ---- interim records (active timeout) ---------------------------------- */

#define MS 1000000ull

/*
 * The documented merge rule (docs/FORMAT.md, "Interim records"): fold part
 * @r into @m, the merge of the call's earlier parts (@first: @r is the
 * first part). Sum the counters, union the flags, first_seq of the first
 * part where the side has one, last_seq of the last such part, start of the
 * first, end of the last, MAC of the first part where the side sent, origin
 * and end_reason of the last.
 */
static void
merge_part(struct wt_callrec *m, const struct wt_callrec *r, int first)
{
	if (first) {
		*m = *r;
		return;
	}
	for (int i = 0; i < 2; i++) {
		uint8_t bit = (uint8_t)(1u << i);
		if (m->d[i].pkts == 0 && r->d[i].pkts > 0)
			memcpy(i ? m->mac_b : m->mac_a, i ? r->mac_b : r->mac_a, 6);
		m->d[i].pkts += r->d[i].pkts;
		m->d[i].bytes += r->d[i].bytes;
		m->d[i].ip_bytes += r->d[i].ip_bytes;
		m->flags[i] |= r->flags[i];
		if (r->seq_valid & bit) {
			if (!(m->seq_valid & bit))
				m->d[i].first_seq = r->d[i].first_seq;
			m->d[i].last_seq = r->d[i].last_seq;
			m->seq_valid |= bit;
		}
		/* record version 2 (FORMAT.md 5.4): sums; the stream's first byte
		 * of the last part that has one */
		m->t[i].seq_bytes += r->t[i].seq_bytes;
		m->t[i].acked_bytes += r->t[i].acked_bytes;
		m->t[i].retx_bytes += r->t[i].retx_bytes;
		m->t[i].missed_bytes += r->t[i].missed_bytes;
		uint8_t base = (uint8_t)(WT_TCP_BASE_A << i);
		if (r->tcp_valid & base)
			m->tcp_base[i] = r->tcp_base[i];
	}
	m->tcp_valid |= r->tcp_valid;
	m->end_ns = r->end_ns;
	m->origin = r->origin;
	m->end_reason = r->end_reason;
}

/* One TCP call cut twice by the owner's scan (capture-file mode), then
 * completed idle with an empty last part; the parts' figures by hand, and
 * their merge equals the one record of a table without interim records. */
static void
test_interim_parts(void)
{
	struct wt_pkt p[7] = {
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_SYN, 1000, 0),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_SYN | WT_TCP_ACK, 5000, 0),
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_ACK | WT_TCP_PSH, 1001, 100),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_ACK | WT_TCP_PSH, 5001, 3000),
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_ACK, 1101, 0),
	        pkt4("10.0.0.2", 80, "10.0.0.1", 40000, 6, WT_TCP_ACK | WT_TCP_FIN, 8001, 0),
	        pkt4("10.0.0.1", 40000, "10.0.0.2", 80, 6, WT_TCP_ACK | WT_TCP_FIN, 1101, 0),
	};
	uint64_t ts[7] = {1 * MS, 2 * MS, 3 * MS, 6 * MS, 12 * MS, 17 * MS, 22 * MS};
	/* scan passes after packet k: at 5 ms after p[2], 10 after p[3], ... */
	struct {
		int after;
		uint64_t at;
	} passes[] = {{2, 5 * MS},  {3, 10 * MS}, {4, 15 * MS},
	              {5, 20 * MS}, {6, 25 * MS}, {6, 30 * MS}};
	struct wt_callrec single;
	for (int run = 0; run < 2; run++) { /* run 0: reference, no interim records */
		struct wt_calltab *t = make_tab_at(64, collect, run ? 10 * MS : 0);
		unsigned int k = 0;
		for (int i = 0; i < 7; i++) {
			feed(t, &p[i], ts[i]);
			for (; k < WT_ARRAY_SIZE(passes) && passes[k].after == i; k++)
				wt_calltab_scan_pass(t, passes[k].at);
		}
		struct wt_calltab_stats st;
		wt_calltab_get_stats(t, &st);
		CHECK_EQ_U64(st.created, 1);
		CHECK_EQ_U64(st.completed_idle, 1);
		CHECK_EQ_U64(st.active, 0);
		if (run == 0) {
			CHECK_EQ_U64(n_emitted, 1);
			CHECK_EQ_U64(st.interim, 0);
			single = emitted[0];
			wt_calltab_free(t);
			continue;
		}
		CHECK_EQ_U64(st.interim, 2);
		CHECK_EQ_U64(n_emitted, 3);
		const struct wt_callrec *r1 = &emitted[0], *r2 = &emitted[1], *f = &emitted[2];
		/* part 1: 1 .. 12 ms, cut at the 15 ms pass (14 ms old) */
		CHECK_EQ_U64(r1->end_reason, WT_END_ACTIVE);
		CHECK_EQ_U64(r1->start_ns, 1 * MS);
		CHECK_EQ_U64(r1->end_ns, 12 * MS);
		CHECK_EQ_U64(r1->origin, WT_ORIGIN_B);
		CHECK_EQ_U64(r1->d[0].pkts, 2);
		CHECK_EQ_U64(r1->d[0].bytes, 3000);
		CHECK_EQ_U64(r1->d[0].ip_bytes, 3000 + 2 * 40);
		CHECK_EQ_U64(r1->flags[0], WT_TCP_SYN | WT_TCP_ACK | WT_TCP_PSH);
		CHECK_EQ_U64(r1->d[0].first_seq, 5000);
		CHECK_EQ_U64(r1->d[0].last_seq, 8001);
		CHECK_EQ_U64(r1->d[1].pkts, 3);
		CHECK_EQ_U64(r1->d[1].bytes, 100);
		CHECK_EQ_U64(r1->d[1].first_seq, 1000);
		CHECK_EQ_U64(r1->d[1].last_seq, 1101);
		CHECK_EQ_U64(r1->seq_valid, WT_SEQ_VALID_A | WT_SEQ_VALID_B);
		CHECK_EQ_U64(r1->mac_a[5], 80);
		/* part 2: from the first packet after the cut (17 ms) to 22 ms, cut
		 * at the 25 ms pass: 10 ms after the previous cut */
		CHECK_EQ_U64(r2->end_reason, WT_END_ACTIVE);
		CHECK_EQ_U64(r2->start_ns, 17 * MS);
		CHECK_EQ_U64(r2->end_ns, 22 * MS);
		CHECK_EQ_U64(r2->origin, WT_ORIGIN_B); /* carried over: no SYN in this part */
		CHECK_EQ_U64(r2->d[0].pkts, 1);
		CHECK_EQ_U64(r2->d[0].bytes, 0);
		CHECK_EQ_U64(r2->d[0].ip_bytes, 40);
		CHECK_EQ_U64(r2->flags[0], WT_TCP_ACK | WT_TCP_FIN); /* this part's union only */
		CHECK_EQ_U64(r2->d[0].first_seq, 8001);
		CHECK_EQ_U64(r2->d[1].pkts, 1);
		CHECK_EQ_U64(r2->d[1].first_seq, 1101);
		CHECK_EQ_U64(r2->d[1].last_seq, 1101);
		CHECK_EQ_U64(r2->mac_b[5], 40000 & 0xff);
		/* the final record: no packet since the cut, completed idle at 30 ms
		 * (no empty interim record at 30 ms) */
		CHECK_EQ_U64(f->end_reason, WT_END_IDLE);
		CHECK_EQ_U64(f->start_ns, 22 * MS);
		CHECK_EQ_U64(f->end_ns, 22 * MS);
		CHECK_EQ_U64(f->d[0].pkts + f->d[1].pkts, 0);
		CHECK_EQ_U64(f->d[0].ip_bytes + f->d[1].ip_bytes, 0);
		CHECK_EQ_U64(f->flags[0] | f->flags[1] | f->seq_valid, 0);
		CHECK_EQ_U64(f->origin, WT_ORIGIN_B);
		/* one call: one call id */
		for (int i = 0; i < 3; i++) {
			CHECK_EQ_U64(emitted[i].call_id[0], single.call_id[0]);
			CHECK_EQ_U64(emitted[i].call_id[1], single.call_id[1]);
		}
		struct wt_callrec m;
		for (int i = 0; i < 3; i++)
			merge_part(&m, &emitted[i], i == 0);
		CHECK(memcmp(&m, &single, sizeof(m)) == 0);
		wt_calltab_free(t);
	}
}

/* The remote scanner's interim requests and the owner's re-checks: old and
 * active -> interim; young (created after the pass began) -> none; idle ->
 * idle request; a duplicate or an empty part -> declined; a reused slot ->
 * stale. */
static void
test_interim_remote(void)
{
	struct wt_calltab *t = make_tab_at(16, collect, 10 * MS);
	struct wt_pkt x = pkt4("10.0.0.1", 1, "10.0.0.2", 2, 17, 0, 0, 10);
	struct wt_pkt y = pkt4("10.0.0.3", 1, "10.0.0.4", 2, 17, 0, 0, 20);
	struct wt_pkt z = pkt4("10.0.0.5", 1, "10.0.0.6", 2, 17, 0, 0, 30);
	struct wt_calltab_expire req[16];
	uint32_t cursor = 0;
	int done = 0;

	feed(t, &x, 1 * MS);
	feed(t, &z, 1 * MS);
	feed(t, &y, 14 * MS); /* begins after the second pass's time (12 ms) */
	CHECK_EQ_U64(wt_calltab_scan_remote(t, &cursor, 100, 5 * MS, req, 16, &done), 0);
	feed(t, &x, 6 * MS);
	feed(t, &y, 15 * MS);
	uint32_t n = wt_calltab_scan_remote(t, &cursor, 100, 12 * MS, req, 16, &done);
	CHECK_EQ_U64(n, 2);
	CHECK(done == 1);
	CHECK_EQ_U64(req[0].op, WT_CALLTAB_REQ_INTERIM); /* x: 11 ms old, active */
	CHECK_EQ_U64(req[0].now_ns, 12 * MS);
	CHECK_EQ_U64(req[1].op, WT_CALLTAB_REQ_IDLE); /* z */
	struct wt_calltab_expire dup = req[0];
	feed(t, &x, 13 * MS); /* a packet after the scanner looked: in the cut part */
	CHECK_EQ_U64(wt_calltab_expire(t, &req[0]), 1);
	CHECK_EQ_U64(n_emitted, 1);
	CHECK_EQ_U64(emitted[0].end_reason, WT_END_ACTIVE);
	CHECK_EQ_U64(emitted[0].d[1].pkts + emitted[0].d[0].pkts, 3);
	CHECK_EQ_U64(emitted[0].start_ns, 1 * MS);
	CHECK_EQ_U64(emitted[0].end_ns, 13 * MS);
	CHECK_EQ_U64(wt_calltab_expire(t, &dup), 0);    /* the same part twice: declined */
	CHECK_EQ_U64(wt_calltab_expire(t, &req[1]), 1); /* z completes idle */
	CHECK_EQ_U64(n_emitted, 2);
	CHECK_EQ_U64(emitted[1].end_reason, WT_END_IDLE);
	/* x's flag is set (13 ms) but its new part is empty: declined, no empty
	 * interim record */
	feed(t, &y, 20 * MS);
	n = wt_calltab_scan_remote(t, &cursor, 100, 25 * MS, req, 16, &done);
	CHECK_EQ_U64(n, 2); /* x interim (13 ms after its cut), y interim (11 ms old) */
	CHECK_EQ_U64(req[0].op, WT_CALLTAB_REQ_INTERIM);
	CHECK_EQ_U64(req[1].op, WT_CALLTAB_REQ_INTERIM);
	CHECK_EQ_U64(wt_calltab_expire(t, &req[0]), 0);
	CHECK_EQ_U64(wt_calltab_expire(t, &req[1]), 1);
	CHECK_EQ_U64(n_emitted, 3);
	CHECK_EQ_U64(emitted[2].d[0].bytes + emitted[2].d[1].bytes, 60); /* 14, 15, 20 ms */
	CHECK_EQ_U64(emitted[2].start_ns, 14 * MS);
	/* next pass: x idle since its cut -> completes with an empty final part */
	n = wt_calltab_scan_remote(t, &cursor, 100, 37 * MS, req, 16, &done);
	CHECK_EQ_U64(n, 2);
	struct wt_calltab_expire old_x = req[0];
	old_x.op = WT_CALLTAB_REQ_INTERIM;
	CHECK_EQ_U64(wt_calltab_expire(t, &req[0]), 1);
	CHECK_EQ_U64(emitted[3].end_reason, WT_END_IDLE);
	CHECK_EQ_U64(emitted[3].d[0].pkts + emitted[3].d[1].pkts, 0);
	CHECK_EQ_U64(emitted[3].start_ns, 13 * MS);
	CHECK_EQ_U64(emitted[3].call_id[1], emitted[0].call_id[1]);
	/* x's slot is reused: an interim request for x is stale */
	struct wt_pkt w = pkt4("10.0.0.7", 1, "10.0.0.8", 2, 17, 0, 0, 1);
	feed(t, &w, 38 * MS);
	CHECK_EQ_U64(wt_calltab_expire(t, &old_x), 0);
	struct wt_calltab_stats st;
	wt_calltab_get_stats(t, &st);
	CHECK_EQ_U64(st.interim, 2);
	CHECK_EQ_U64(st.interim_declined, 2);
	CHECK_EQ_U64(st.expire_stale, 1);
	wt_calltab_complete_all(t, WT_END_SHUTDOWN);
	wt_calltab_free(t);
}

/* Churn with interim records: random TCP packets over more connections than
 * the table holds (evictions), random partial scans; the same input through
 * a table without interim records is the reference. Per call (call_id):
 * parts come in time order, every interim part holds packets, exactly one
 * final record ends the call, and the merge of the parts equals the
 * reference's record bit for bit. */
#define ICALLS (1u << 17)
static struct wt_callrec *merged, *refrec;
static uint8_t *parts_state; /* per call: 1 interim seen, 2 final seen */
static uint64_t churn_interim, bad_order, empty_interim, after_final, byte_rule;

static uint32_t
call_index(const struct wt_callrec *r)
{
	return (uint32_t)(r->call_id[1] & (ICALLS - 1));
}

static void
collect_part(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	uint32_t c = call_index(r);
	if (parts_state[c] == 2)
		after_final++;
	if (parts_state[c] && r->start_ns < merged[c].end_ns)
		bad_order++;
	for (int i = 0; i < 2; i++) /* bytes = seq - missed + retx on every record */
		byte_rule += r->d[i].bytes !=
		             r->t[i].seq_bytes - r->t[i].missed_bytes + r->t[i].retx_bytes;
	merge_part(&merged[c], r, parts_state[c] == 0);
	if (r->end_reason == WT_END_ACTIVE) {
		churn_interim++;
		empty_interim += r->d[0].pkts + r->d[1].pkts == 0;
		parts_state[c] = 1;
	} else {
		parts_state[c] = 2;
	}
}

static void
collect_ref(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	refrec[call_index(r)] = *r;
	n_emitted++;
}

static void
test_interim_churn(void)
{
	merged = calloc(ICALLS, sizeof(*merged));
	refrec = calloc(ICALLS, sizeof(*refrec));
	parts_state = calloc(ICALLS, 1);
	CHECK(merged && refrec && parts_state);
	struct wt_calltab *ti = make_tab_at(1024, collect_part, 5 * MS);
	struct wt_calltab *tr = make_tab_at(1024, collect_ref, 0);
	struct wt_pkt burst[32];
	uint64_t ts[32], now = 0;
	enum { KEYS = 1500, NPKTS = 300000 };
	for (int done = 0; done < NPKTS;) {
		uint32_t n = WT_MIN(1 + (uint32_t)(xs() % 32), (uint32_t)(NPKTS - done));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t c = (uint32_t)(xs() % KEYS);
			char a[16], b[16];
			snprintf(a, sizeof(a), "10.%u.%u.1", c >> 8, c & 0xff);
			snprintf(b, sizeof(b), "10.%u.%u.2", c >> 8, c & 0xff);
			uint8_t fl = (uint8_t)(xs() % 8 == 0 ? WT_TCP_SYN : WT_TCP_ACK);
			/* sequence numbers near a per-connection base, so segments
			 * follow, overlap, leave holes and fill them; sometimes far */
			uint32_t len = (uint32_t)(xs() % 1400);
			uint32_t seq = c * 7919u + (uint32_t)(xs() % 20000);
			if (xs() % 50 == 0)
				seq = (uint32_t)xs();
			if (xs() % 16 == 0)
				fl |= WT_TCP_FIN;
			burst[i] = xs() & 1 ? pkt4(b, 80, a, (uint16_t)(1024 + c), 6, fl, seq, len)
			                    : pkt4(a, (uint16_t)(1024 + c), b, 80, 6, fl, seq, len);
			burst[i].ack = c * 7919u + (uint32_t)(xs() % 20000);
			now += 1000 + xs() % 3000; /* 1..4 us apart */
			ts[i] = now;
		}
		wt_calltab_update_burst(ti, burst, ts, n);
		wt_calltab_update_burst(tr, burst, ts, n);
		done += (int)n;
		if (xs() % 40 == 0) {
			uint32_t budget = (uint32_t)(xs() % 900);
			wt_calltab_scan(ti, budget, now);
			wt_calltab_scan(tr, budget, now);
		}
	}
	wt_calltab_complete_all(ti, WT_END_SHUTDOWN);
	wt_calltab_complete_all(tr, WT_END_SHUTDOWN);
	struct wt_calltab_stats si, sr;
	wt_calltab_get_stats(ti, &si);
	wt_calltab_get_stats(tr, &sr);
	CHECK(sr.created < ICALLS);
	CHECK_EQ_U64(si.created, sr.created);
	CHECK_EQ_U64(n_emitted, sr.created);
	CHECK(si.interim > 1000 && si.evicted > 0 && si.completed_idle > 0);
	CHECK_EQ_U64(churn_interim, si.interim);
	CHECK_EQ_U64(si.evicted, sr.evicted);
	CHECK_EQ_U64(si.completed_idle, sr.completed_idle);
	CHECK_EQ_U64(bad_order, 0);
	CHECK_EQ_U64(empty_interim, 0);
	CHECK_EQ_U64(after_final, 0);
	CHECK_EQ_U64(byte_rule, 0);
	CHECK_EQ_U64(si.tcp_inconsistent, 0);
	CHECK_EQ_U64(sr.tcp_inconsistent, 0);
	CHECK(si.tcp_jump_held > 0 && si.tcp_retx_bytes > 0 && si.tcp_missed_bytes > 0);
	CHECK_EQ_U64(si.tcp_retx_bytes, sr.tcp_retx_bytes);
	CHECK_EQ_U64(si.tcp_missed_bytes, sr.tcp_missed_bytes);
	CHECK_EQ_U64(si.tcp_acked_bytes, sr.tcp_acked_bytes);
	uint64_t unfinished = 0, differ = 0, acked_rule = 0;
	for (uint32_t c = 0; c < sr.created; c++) {
		unfinished += parts_state[c] != 2;
		differ += memcmp(&merged[c], &refrec[c], sizeof(merged[c])) != 0;
		for (int i = 0; i < 2; i++)
			acked_rule += refrec[c].t[i].acked_bytes > refrec[c].t[i].seq_bytes;
	}
	CHECK_EQ_U64(acked_rule, 0);
	CHECK_EQ_U64(unfinished, 0);
	CHECK_EQ_U64(differ, 0);
	printf("  interim churn: %" PRIu64 " calls, %" PRIu64 " interim records, %" PRIu64
	       " evicted, %" PRIu64 " idle\n",
	       sr.created, si.interim, si.evicted, si.completed_idle);
	wt_calltab_free(ti);
	wt_calltab_free(tr);
	free(merged);
	free(refrec);
	free(parts_state);
}

static void
test_params(void)
{
	struct wt_calltab_params p = {.capacity = 8, .emit = collect};
	CHECK(wt_calltab_create(&p) == NULL);
	p.capacity = 1024;
	p.emit = NULL;
	CHECK(wt_calltab_create(&p) == NULL);
	struct wt_calltab *t = make_tab(1000);
	double bpr = wt_calltab_bytes_per_record(t);
	/* record 192 + cold 80 + 180 buckets of 64 + 64 hole lists of 256 (the
	 * minimum) + 64 tunnel contexts of 80 and 64 chain heads of 4 */
	CHECK(bpr == 192.0 + 80.0 + (180 * 64 + 64 * 256 + 64 * 80 + 64 * 4) / 1000.0);
	wt_calltab_free(t);
	wt_calltab_free(NULL);
	/* active timeout: 1 ms .. 7 days, or 0 */
	p.emit = collect;
	p.active_timeout_ns = MS / 2;
	CHECK(wt_calltab_create(&p) == NULL);
	p.active_timeout_ns = WT_CALLTAB_MAX_ACTIVE_TIMEOUT_NS + 1;
	CHECK(wt_calltab_create(&p) == NULL);
	p.active_timeout_ns = WT_CALLTAB_MAX_ACTIVE_TIMEOUT_NS;
	t = wt_calltab_create(&p);
	CHECK(t != NULL);
	wt_calltab_free(t);
}

WT_TEST_MAIN(WT_TEST(test_tcp_exchange), WT_TEST(test_origin), WT_TEST(test_scan),
             WT_TEST(test_remote_scan), WT_TEST(test_evict), WT_TEST(test_churn),
             WT_TEST(test_interim_parts), WT_TEST(test_interim_remote), WT_TEST(test_interim_churn),
             WT_TEST(test_params))
