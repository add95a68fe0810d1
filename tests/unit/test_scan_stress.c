/* SPDX-License-Identifier: BSD-3-Clause */
/* test_scan_stress.c: RX owner and remote scanner run concurrently; nothing is completed twice or
 * lost.
 *
 * The owner (a worker lcore) accounts packets of 3,000 UDP connections that
 * go active and idle at random, and handles the scanner's expire requests
 * from an SPSC rte_ring; the scanner (the main lcore) runs completion passes
 * over the owner's table every 300 us for about 1.5 s (thousands of scan
 * intervals), clearing flags and sending requests; with an active timeout
 * of 1 ms (about 3 passes) connections that stay busy are also cut into
 * interim records. Afterwards, per connection: the records' packets and
 * bytes add up to what was sent (none lost, none counted twice), their time
 * ranges (packet times) follow each other without overlap (no packet went
 * into a record after it was completed or cut), every call has its own call
 * id, its interim records come before its one final record and none is
 * empty, and the races were taken (requests for records that became active
 * again, idle completions, interim records; the owner declining interim
 * requests read from a stale cut time is printed, not required: it depends
 * on how far the owner lags behind the scanner).
 * Suite 'eal': needs an EAL with two lcores (--no-huge).
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "wt_calltab.h"
#include "wt_test.h"
#include "eal_testutil.h"

#define CONNS       3000
#define MAX_CREATED (1u << 24)

static struct wt_calltab *tab;
static struct rte_ring *req_ring;
static uint64_t sent_pkts[CONNS], sent_bytes[CONNS];
static volatile int scanner_stop, owner_done;
static uint64_t owner_pkts;

/* Checked as records come out (on the owner): a connection's records are
 * completed in time order, since the next one can only be created once the
 * previous one has left the table. */
static uint64_t got_pkts[CONNS], got_bytes[CONNS], last_end[CONNS];
static uint8_t *id_seen; /* per creation number: 1 interim record seen, 2 final */
static uint64_t n_seen, n_final, bad_conn, overlap, dup_id, id_range, empty_interim;

static uint64_t
mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void
on_emit(void *ctx, const struct wt_callrec *r)
{
	(void)ctx;
	uint32_t c = ((uint32_t)r->addr_a[2] << 8) | r->addr_a[3];
	uint64_t inc = r->call_id[1] & ((1ull << 56) - 1);
	n_seen++;
	if (c >= CONNS) {
		bad_conn++;
		return;
	}
	uint64_t pkts = r->d[0].pkts + r->d[1].pkts;
	got_pkts[c] += pkts;
	got_bytes[c] += r->d[0].bytes + r->d[1].bytes;
	/* a packet counted in a record after its successor began; an empty
	 * final part has start = end = the last packet of the call */
	if (pkts > 0 && r->start_ns <= last_end[c])
		overlap++;
	last_end[c] = r->end_ns;
	int interim = r->end_reason == WT_END_ACTIVE;
	empty_interim += interim && pkts == 0;
	n_final += !interim;
	if (inc >= MAX_CREATED)
		id_range++;
	else if (id_seen[inc] == 2)
		dup_id++; /* a record of a call after its final record */
	else
		id_seen[inc] = interim ? 1 : 2;
}

static struct wt_pkt
conn_pkt(uint32_t c, int rev, uint32_t len)
{
	struct wt_pkt p;
	memset(&p, 0, sizeof(p));
	uint8_t a[4] = {10, 9, (uint8_t)(c >> 8), (uint8_t)c}; /* the greater address */
	uint8_t b[4] = {10, 8, (uint8_t)(c >> 8), (uint8_t)c};
	memcpy(rev ? p.src : p.dst, a, 4);
	memcpy(rev ? p.dst : p.src, b, 4);
	p.sport = rev ? 53 : 4000;
	p.dport = rev ? 4000 : 53;
	p.proto = 17;
	p.family = 4;
	p.payload_len = len;
	p.ip_len = len + 28;
	return p;
}

static uint64_t rs = 0x2545f4914f6cdd1dull;
static uint64_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void
drain_requests(void)
{
	struct wt_calltab_expire req[64];
	unsigned int n;
	while ((n = rte_ring_sc_dequeue_burst_elem(req_ring, req, sizeof(req[0]), 64, NULL)) > 0)
		for (unsigned int i = 0; i < n; i++)
			wt_calltab_expire(tab, &req[i]);
}

/* The owner: traffic in waves. Each connection has a "next active" point in
 * owner iterations; idle gaps are random, from very short to many scan
 * intervals, so requests race with packets all the time. */
static int
owner_main(void *arg)
{
	(void)arg;
	static uint64_t wake[CONNS];
	uint64_t iter = 0, ts = 1;
	for (uint32_t c = 0; c < CONNS; c++)
		wake[c] = rnd() % 2000;
	while (!scanner_stop) {
		struct wt_pkt burst[16];
		uint64_t t[16];
		uint32_t n = 0;
		for (int k = 0; k < 64 && n < 16; k++) {
			uint32_t c = (uint32_t)(rnd() % CONNS);
			if (wake[c] > iter)
				continue;
			uint32_t len = (uint32_t)(rnd() % 1000);
			burst[n] = conn_pkt(c, (int)(rnd() & 1), len);
			uint64_t clk = mono_ns();
			ts = clk > ts ? clk : ts + 1; /* the scanner's clock, strictly rising */
			t[n] = ts;
			sent_pkts[c]++;
			sent_bytes[c] += len;
			n++;
			/* mostly short gaps, sometimes long ones */
			uint64_t r = rnd() % 100;
			wake[c] = iter + (r < 80 ? r : r < 97 ? 2000 + rnd() % 20000 : 100000);
		}
		if (n)
			wt_calltab_update_burst(tab, burst, t, n);
		owner_pkts += n;
		drain_requests();
		iter++;
	}
	/* The scanner has stopped: handle what it sent, then shut down. */
	drain_requests();
	wt_calltab_complete_all(tab, WT_END_SHUTDOWN);
	__atomic_store_n(&owner_done, 1, __ATOMIC_RELEASE);
	return 0;
}

int
main(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=wt-scan-stress-%d", (int)getpid());
	/* two lcores; on a one-CPU machine both on CPU 0 */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *eal[] = {"test_scan_stress",
	               "--no-huge",
	               "-m",
	               "256",
	               "--no-pci",
	               "--no-telemetry",
	               "--log-level=lib.eal:error",
	               prefix,
	               "--lcores",
	               ncpu >= 2 ? "0@0,1@1" : "0@0,1@0",
	               NULL};
	if (rte_eal_init(10, eal) < 0) {
		fprintf(stderr, "FAIL: the EAL did not start (--no-huge, two lcores)\n");
		return 1;
	}
	id_seen = calloc(MAX_CREATED, 1);
	struct wt_calltab_params tp = {.capacity = 4096,
	                               .socket = WT_SOCKET_ANY,
	                               .hash_seed = 7,
	                               .vlan_in_key = 1,
	                               .emit = on_emit,
	                               .active_timeout_ns = 1000000};
	tab = wt_calltab_create(&tp);
	req_ring = rte_ring_create_elem("stress_req", sizeof(struct wt_calltab_expire), 1024,
	                                SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CHECK(id_seen != NULL && tab != NULL && req_ring != NULL);
	unsigned int worker = rte_get_next_lcore(-1, 1, 0);
	CHECK(worker != RTE_MAX_LCORE);
	rte_eal_remote_launch(owner_main, NULL, worker);

	/* The scanner: a pass every 300 us, in slices of 256 slots. */
	uint64_t hz = rte_get_timer_hz(), t0 = rte_get_timer_cycles();
	uint64_t interval = hz * 300 / 1000000, next = t0 + interval, end = t0 + hz * 3 / 2;
	uint64_t passes = 0, sent_req = 0, ring_full = 0;
	uint32_t cursor = 0;
	uint64_t pass_ns = 0;
	int in_pass = 0;
	while (rte_get_timer_cycles() < end) {
		uint64_t now = rte_get_timer_cycles();
		if (!in_pass && now >= next) {
			in_pass = 1;
			next = now + interval;
			pass_ns = mono_ns();
		}
		if (!in_pass) {
			rte_pause();
			continue;
		}
		struct wt_calltab_expire req[64];
		int done;
		uint32_t n = wt_calltab_scan_remote(tab, &cursor, 256, pass_ns, req, 64, &done);
		uint32_t off = 0;
		while (off < n) { /* never lose a request: wait for room */
			off += rte_ring_sp_enqueue_burst_elem(req_ring, req + off, sizeof(req[0]),
			                                      n - off, NULL);
			if (off < n) {
				ring_full++;
				rte_pause();
			}
		}
		sent_req += n;
		if (done) {
			passes++;
			in_pass = 0;
		}
	}
	scanner_stop = 1;
	rte_eal_wait_lcore(worker);
	CHECK(__atomic_load_n(&owner_done, __ATOMIC_ACQUIRE) == 1);

	struct wt_calltab_stats st;
	wt_calltab_get_stats(tab, &st);
	printf("  %" PRIu64 " packets, %" PRIu64 " scan passes, %" PRIu64 " requests (%" PRIu64
	       " ring-full waits), %" PRIu64 " records: %" PRIu64 " idle, %" PRIu64
	       " shutdown, %" PRIu64 " interim; requests stale %" PRIu64 ", active again %" PRIu64
	       ", interim declined %" PRIu64 "\n",
	       owner_pkts, passes, sent_req, ring_full, n_seen, st.completed_idle,
	       st.completed_shutdown, st.interim, st.expire_stale, st.expire_active,
	       st.interim_declined);
	CHECK(passes >= 1000);                      /* many scan intervals */
	CHECK_EQ_U64(st.expire_requests, sent_req); /* every request reached the owner */
	CHECK(st.completed_idle >= 1000);           /* the scanner did complete records */
	CHECK(st.expire_active > 0);                /* the active-again race was taken */
	CHECK(st.interim >= 1000);                  /* busy calls were cut */
	CHECK_EQ_U64(st.created, n_final);          /* each call completed exactly once */
	CHECK_EQ_U64(st.completed_idle + st.completed_shutdown + st.evicted, n_final);
	CHECK_EQ_U64(st.interim + n_final, n_seen);
	CHECK_EQ_U64(empty_interim, 0);
	CHECK_EQ_U64(st.pkts, owner_pkts);
	CHECK_EQ_U64(bad_conn, 0);
	CHECK_EQ_U64(overlap, 0);
	CHECK_EQ_U64(dup_id, 0);
	CHECK_EQ_U64(id_range, 0);
	uint64_t wrong = 0;
	for (uint32_t c = 0; c < CONNS; c++)
		wrong += got_pkts[c] != sent_pkts[c] || got_bytes[c] != sent_bytes[c];
	CHECK_EQ_U64(wrong, 0);

	printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);
	free(id_seen);
	wt_calltab_free(tab);
	rte_ring_free(req_ring);
	wt_test_eal_cleanup();
	return wt_test_failures ? 1 : 0;
}
