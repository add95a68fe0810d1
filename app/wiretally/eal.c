/* SPDX-License-Identifier: BSD-3-Clause */
/* eal.c: steps 2 and 3, the EAL (its arguments, its runtime directory) and the lcore roles. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "run.h"
#include "rundir.h"
#include "wt_mem.h"

int
wt_hugepages_usable(void)
{
	if (wt_mem_free_hugepages() < 64) /* 128 MiB: pool and ports */
		return 0;
	FILE *f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return 0;
	char line[512];
	int mounted = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " hugetlbfs ") != NULL)
			mounted = 1;
	fclose(f);
	return mounted;
}

/* CPUs this process may run on, in order. @return how many. */
static unsigned int
allowed_cpus(int *cpus, unsigned int max)
{
	cpu_set_t set;
	unsigned int n = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &set))
				cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	return n;
}

#define MAX_EAL_ARGS 256

struct eal_args {
	int argc;
	char *argv[MAX_EAL_ARGS];
};

static void eal_push(struct eal_args *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
eal_push(struct eal_args *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (a->argc < MAX_EAL_ARGS - 1) {
		a->argv[a->argc++] = strdup(buf);
		a->argv[a->argc] = NULL;
	}
}

/*
 * EAL arguments. With user EAL options ("wiretally [EAL] -- [opts]") they are
 * used as given, plus a vdev for each --pcap/--iface. Without, wiretally
 * chooses: lcore 0 (control, scanner, exporter) on the first allowed CPU and
 * one lcore per RX role on the next CPUs, wrapping around (on a 2-CPU
 * machine with --rx-cores 2 the second RX lcore shares the control lcore's
 * CPU; the control lcore sleeps when idle); its own file prefix (several
 * monitors can run); no PCI probing (PCI ports are given with EAL options);
 * hugepages when enough are free, else --no-huge; quiet EAL logs.
 */
static void
build_eal_args(struct eal_args *a, const struct wt_opts *o, int user_argc, char **user_argv)
{
	a->argc = 0;
	for (int i = 0; i < user_argc; i++)
		eal_push(a, "%s", user_argv[i]);
	if (user_argc <= 1) {
		int cpus[256];
		unsigned int ncpu = allowed_cpus(cpus, 256);
		char map[2048];
		int len = snprintf(map, sizeof(map), "0@%d", cpus[0]);
		/* main, then the RX lcores, then (when the CPUs are there and the
		 * roles are "auto") one lcore each for the exporter and the scanner */
		unsigned int n = (unsigned int)o->rx_cores;
		if (ncpu >= n + 3 && o->export_lcore == -2)
			n++;
		if (ncpu >= n + 2 && o->scan_lcore == -2)
			n++;
		for (unsigned int i = 1; i <= n && len < (int)sizeof(map) - 16; i++)
			len += snprintf(map + len, sizeof(map) - (size_t)len, ",%u@%d", i,
			                cpus[i % ncpu]);
		eal_push(a, "--lcores=%s", map);
		eal_push(a, "--file-prefix=wiretally-%d", (int)getpid());
		eal_push(a, "--no-pci");
		if (wt_hugepages_usable()) {
			eal_push(a, "--huge-unlink");
		} else {
			uint64_t pool_mb = (o->mbufs * 2560) >> 20;
			eal_push(a, "--no-huge");
			eal_push(a, "-m");
			eal_push(a, "%" PRIu64, 192 + pool_mb + 64 * o->rx_cores);
		}
		eal_push(a, "--log-level=lib.eal:warning");
		eal_push(a, "--log-level=lib.telemetry:error");
	}
	for (unsigned int i = 0; i < o->n_pcap; i++) {
		eal_push(a, "--vdev");
		eal_push(a, "net_pcap_wt%u,rx_pcap=%s", i, o->pcap[i]);
	}
	for (unsigned int i = 0; i < o->n_iface; i++) {
		eal_push(a, "--vdev");
		eal_push(a, "net_af_packet_wt%u,iface=%s,qpairs=%" PRIu64 ",framecnt=4096", i,
		         o->iface[i], o->rx_cores);
	}
}

/*
 * The spool directory. Explicit: as given. Auto: a directory on the
 * hugetlbfs mount named after the output directory's real path (so a
 * restart finds what a crash left there), when hugepages for all the spool
 * segments are free and the segment size is a multiple of 2 MiB; else no
 * spool, and @why says why. @return the directory, or NULL for none.
 */

int
wt_step_eal(struct wt_run *r)
{
	struct wt_opts *o = &r->o;

	struct eal_args ea;
	build_eal_args(&ea, o, r->user_eal_argc, r->argv);
	/* our own file prefix (wiretally-PID): the runtime directories of
	 * killed runs go now (rundir.c) */
	if (r->user_eal_argc <= 1) {
		wt_rundir_sweep();
		wt_rundir_path(r->rundir, sizeof(r->rundir), (int)getpid());
	}
	if (rte_eal_init(ea.argc, ea.argv) < 0) {
		WT_LOG(ERR, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		if (r->rundir[0] != '\0')
			wt_rundir_remove(r->rundir);
		return EXIT_SETUP;
	}
	r->eal_up = 1;
	/* the primary process owns its runtime directory (any prefix): gone
	 * at exit, after rte_eal_cleanup() */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		snprintf(r->rundir, sizeof(r->rundir), "%s", rte_eal_get_runtime_dir());
	else
		r->rundir[0] = '\0';
	rte_openlog_stream(stderr);
	wt_say_eal(1); /* messages through rte_log from now on */
	return 0;
}

int
wt_step_roles(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;

	/* Lcore roles: the main lcore controls, scans and exports; RX roles
	 * take the worker lcores in order. */
	pl->cf.n_rx = (unsigned int)o->rx_cores;
	pl->ports = r->ports;
	unsigned int workers[RTE_MAX_LCORE], nw = 0, lc;
	r->main_lc = rte_get_main_lcore();
	int want[2] = {o->export_lcore, o->scan_lcore};
	const char *role_opt[2] = {"--export-lcore", "--scan-lcore"};
	for (int k = 0; k < 2; k++) {
		if (want[k] >= 0 && !rte_lcore_is_enabled((unsigned int)want[k])) {
			WT_LOG(ERR, "%s %d: not an lcore of the EAL (see -l/--lcores)\n",
			       role_opt[k], want[k]);
			return EXIT_USAGE;
		}
		if (want[k] == (int)r->main_lc)
			want[k] = -1;
	}
	if (want[0] >= 0 && want[0] == want[1]) {
		WT_LOG(ERR,
		       "--export-lcore and --scan-lcore are both %d: give them "
		       "different lcores, or main\n",
		       want[0]);
		return EXIT_USAGE;
	}
	/* RX roles take the worker lcores in order, but those named for the
	 * exporter or the scanner; "auto" roles take what is left, else main. */
	RTE_LCORE_FOREACH_WORKER(lc)
	{
		if ((int)lc != want[0] && (int)lc != want[1])
			workers[nw++] = lc;
	}
	if (nw < pl->cf.n_rx) {
		WT_LOG(ERR,
		       "--rx-cores %u needs %u worker lcores besides the main lcore "
		       "(control, and the scanner and exporter unless they have their own); the "
		       "EAL has %u: give more with -l or --lcores (several lcores may share a "
		       "CPU, "
		       "e.g. --lcores 0@0,1@1,2@1)\n",
		       pl->cf.n_rx, pl->cf.n_rx, nw);
		return EXIT_USAGE;
	}
	for (unsigned int i = 0; i < pl->cf.n_rx; i++)
		pl->rx[i].lcore = workers[i];
	unsigned int next_free = pl->cf.n_rx;
	pl->ex.lcore = want[0] >= 0                      ? (unsigned int)want[0]
	               : want[0] == -2 && next_free < nw ? workers[next_free++]
	                                                 : r->main_lc;
	pl->sc.lcore = want[1] >= 0                      ? (unsigned int)want[1]
	               : want[1] == -2 && next_free < nw ? workers[next_free++]
	                                                 : r->main_lc;
	if (next_free < nw)
		WT_LOG(NOTICE, "%u worker lcores are not used\n", nw - next_free);
	return 0;
}
