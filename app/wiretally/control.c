/* SPDX-License-Identifier: BSD-3-Clause */
/* control.c: steps 6 and 7, the roles launched on their lcores, and the control loop until every
 * record is exported. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "ipfix.h"
#include "run.h"
#include "stats.h"

static volatile sig_atomic_t force_quit;
static volatile sig_atomic_t hup_seen;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_seen = 1;
	else
		force_quit = 1;
}

/*
 * SIGHUP reloads nothing: every option is read once at start (tables, rings
 * and lcores are sized from them). Say so, and whether the config file
 * changed since start, so that an operator who expected a reload knows a
 * restart is needed.
 */
static void
say_no_reload(const char *config, const struct timespec *mtime_at_start)
{
	struct stat sb;
	const char *what = "";
	if (config != NULL && config[0] != '\0') {
		if (stat(config, &sb) != 0)
			what = " (the config file cannot be read now)";
		else if (sb.st_mtim.tv_sec != mtime_at_start->tv_sec ||
		         sb.st_mtim.tv_nsec != mtime_at_start->tv_nsec)
			what = " (the config file changed since start)";
		else
			what = " (the config file is unchanged since start)";
	}
	WT_LOG(NOTICE,
	       "SIGHUP: nothing is reloaded; restart wiretally to apply a changed "
	       "configuration%s\n",
	       what);
}

int
wt_step_launch(struct wt_run *r)
{
	struct wt_pipeline *pl = r->pl;
	int rc = 0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	for (unsigned int i = 0; i < pl->cf.n_rx; i++) {
		int e = rte_eal_remote_launch(wt_rx_main, &pl->rx[i], pl->rx[i].lcore);
		if (e != 0) {
			WT_LOG(ERR, "cannot start RX lcore %u: %s\n", pl->rx[i].lcore,
			       rte_strerror(-e));
			wt_ctl_stop(&pl->ctl);
			rc = EXIT_SETUP;
			break;
		}
		r->launched++;
	}

	/* The exporter and the scanner on their own lcores, when they have one. */
	r->export_here = pl->ex.lcore == r->main_lc;
	r->scan_here = pl->sc.lcore == r->main_lc;
	if (!r->export_here && r->launched == (int)pl->cf.n_rx &&
	    rte_eal_remote_launch(wt_export_main, &pl->ex, pl->ex.lcore) != 0) {
		WT_LOG(WARNING,
		       "cannot start the exporter on lcore %u: on the main lcore instead\n",
		       pl->ex.lcore);
		r->export_here = 1;
	}
	if (!r->scan_here && !pl->cf.packet_clock &&
	    rte_eal_remote_launch(wt_scanner_main, &pl->sc, pl->sc.lcore) != 0) {
		WT_LOG(WARNING, "cannot start the scanner on lcore %u: on the main lcore instead\n",
		       pl->sc.lcore);
		r->scan_here = 1;
	}
	/* RX lcores that could not start count as done, so the others finish. */
	for (unsigned int i = (unsigned int)r->launched; i < pl->cf.n_rx; i++) {
		__atomic_store_n(&pl->ctl.producing_done[i], 1, __ATOMIC_RELEASE);
		__atomic_store_n(&pl->ctl.rx_done[i], 1, __ATOMIC_RELEASE);
	}
	return rc;
}

void
wt_step_run(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;
	struct timespec config_mtime = {0, 0};
	struct stat config_st;
	if (o->config != NULL && o->config[0] != '\0' && stat(o->config, &config_st) == 0)
		config_mtime = config_st.st_mtim;

	/* The control loop: stop, progress, and the roles left on this lcore. */
	struct wt_progress pg = {.enabled = !o->quiet &&
	                                    (o->progress == 1 || (o->progress == -1 && isatty(2)))};
	uint64_t t_start = wt_now_ns();
	uint64_t t_stop = o->duration > 0 ? t_start + (uint64_t)(o->duration * 1e9) : UINT64_MAX;
	for (;;) {
		if (force_quit || (t_stop != UINT64_MAX && wt_now_ns() >= t_stop))
			wt_ctl_stop(&pl->ctl);
		if (hup_seen) {
			hup_seen = 0;
			say_no_reload(o->config, &config_mtime);
		}
		unsigned int work = 0;
		if (r->export_here)
			work += wt_export_step(&pl->ex);
		if (r->scan_here)
			work += wt_scanner_poll(&pl->sc);
		wt_progress_tick(&pg, pl, wt_now_ns(), 0);
		if (wt_ctl_rx_done(&pl->ctl, pl->cf.n_rx) &&
		    (r->export_here ? wt_export_drained(&pl->ex)
		                    : __atomic_load_n(&pl->ex.done, __ATOMIC_ACQUIRE)))
			break;
		if (work == 0)
			rte_delay_us_sleep(50); /* idle: leave the CPU to a co-located lcore */
	}
	rte_eal_mp_wait_lcore();
	pl->run_ns = wt_now_ns() - t_start;
	/* the IPFIX sender sends what is left; an unreachable collector is
	 * given up after 5 s without progress (counted, in the summary) */
	wt_ipfix_sender_stop(pl->ex.ipfix, 5.0);
	wt_progress_tick(&pg, pl, wt_now_ns(), 1);
}
