/* SPDX-License-Identifier: BSD-3-Clause */
/* scanner.c: the scanner role: completion passes over every RX lcore's table (live clock). */
#include <rte_cycles.h>
#include <rte_ring_elem.h>

#include "monitor.h"

/* Slots visited per table per step: bounds one step's time. */
#define SCAN_SLICE 2048

/*
 * Every scan interval a pass visits every table, a slice at a time,
 * through wt_calltab_scan_remote(): set activity flags are cleared, and each
 * record whose flag was clear becomes a request (slot, generation) on the
 * owner's SPSC ring; the owner completes it if it is still the same record
 * and still idle. With an active timeout, a record whose flag was set and
 * whose current part is at least that old at the pass's start time becomes
 * an interim request (slot, generation, pass time) on the same ring. A full ring holds the requests
 * here (the pass waits for that table); none is dropped. With the packet clock (capture files) the
 * owners scan their own tables at packet-time boundaries instead, so this
 * role has nothing to do.
 */
static int
push_held(struct wt_scanner *sc, unsigned int j)
{
	uint32_t n = sc->n_held[j];
	if (n == 0)
		return 1;
	unsigned int sent = rte_ring_sp_enqueue_burst_elem(sc->req[j], sc->held[j],
	                                                   sizeof(sc->held[j][0]), n, NULL);
	if (sent > 0 && sent < n)
		memmove(sc->held[j], sc->held[j] + sent, (n - sent) * sizeof(sc->held[j][0]));
	sc->n_held[j] = n - sent;
	sc->requests += sent;
	if (sent < n)
		sc->ring_full++;
	return sent == n;
}

unsigned int
wt_scanner_poll(struct wt_scanner *sc)
{
	const struct wt_pipe_conf *cf = sc->cf;
	unsigned int work = 0;

	if (cf->packet_clock)
		return 0;
	if (!sc->in_pass) {
		uint64_t now = wt_now_ns();
		if (sc->next_ns == 0)
			sc->next_ns = now + cf->scan_interval_ns;
		if (now < sc->next_ns)
			return 0;
		/* The next pass is timed from the start of this one (Figure 7). */
		sc->next_ns = now + cf->scan_interval_ns;
		sc->pass_ns = now;
		sc->in_pass = 1;
		for (unsigned int j = 0; j < cf->n_rx; j++) {
			sc->cursor[j] = 0;
			sc->table_done[j] = 0;
		}
	}
	int all_done = 1;
	for (unsigned int j = 0; j < cf->n_rx; j++) {
		if (sc->table_done[j])
			continue;
		if (__atomic_load_n(&sc->ctl->rx_done[j], __ATOMIC_ACQUIRE)) {
			sc->table_done[j] = 1; /* shut down: nothing left to scan */
			continue;
		}
		if (!push_held(sc, j)) {
			all_done = 0;
			continue;
		}
		int pass_done = 0;
		uint32_t n = wt_calltab_scan_remote(sc->tab[j], &sc->cursor[j], SCAN_SLICE,
		                                    sc->pass_ns, sc->held[j], 64, &pass_done);
		sc->n_held[j] = n;
		work += SCAN_SLICE;
		if (push_held(sc, j) && pass_done)
			sc->table_done[j] = 1;
		else
			all_done = 0;
	}
	if (all_done) {
		sc->in_pass = 0;
		sc->passes++;
	}
	return work;
}

int
wt_scanner_main(void *arg)
{
	struct wt_scanner *sc = arg;

	while (!wt_ctl_rx_done(sc->ctl, sc->cf->n_rx))
		if (wt_scanner_poll(sc) == 0)
			rte_delay_us_sleep(100); /* a pass every interval: nothing to do */
	return 0;
}
