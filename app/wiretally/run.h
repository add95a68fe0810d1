/* SPDX-License-Identifier: BSD-3-Clause */
/* run.h: one run of the monitor and the steps main() takes, in order, each in its own file. */
#ifndef WT_RUN_H
#define WT_RUN_H

#include <limits.h>
#include <stdint.h>

#include "monitor.h"
#include "options.h"

/* Exit codes */
#define EXIT_USAGE  1 /* bad option, config, input, output directory or lcore list */
#define EXIT_SETUP  2 /* EAL, port, memory or log could not be set up */
#define EXIT_OUTPUT 3 /* records could not all be written to the log */

/* What the steps share: the options, the pipeline, and what each step
 * found for the ones after it. */
struct wt_run {
	int argc;
	char **argv;
	struct wt_opts o;
	struct wt_pipeline *pl;
	struct wt_port *ports; /* WT_MAX_PORTS of them */
	unsigned int n_ports;
	int user_eal_argc; /* argv[1 .. user_eal_argc-1]: EAL options before "--" */
	int app_argc;
	char **app_argv;
	int done;          /* --help or --version: nothing else to do */
	int eal_up;        /* rte_eal_init() succeeded: clean up at exit */
	char rundir[4096]; /* the EAL runtime directory to remove at exit, "" none */
	const char *spool; /* the log's spool directory, NULL without */
	char spool_buf[PATH_MAX];
	char spool_why[256]; /* why there is no spool ("" when there is one or none asked) */
	uint64_t run_id;
	unsigned int main_lc;
	int launched; /* RX lcores started */
	int export_here, scan_here;
};

/* Each step returns 0 to go on, or an exit status. */

/* startup.c: options parsed, output directory, IPFIX URL, captures and
 * interfaces checked (nothing started yet). r->done after --help. */
int wt_step_options(struct wt_run *r);
/* eal.c: the EAL started with wiretally's arguments. */
int wt_step_eal(struct wt_run *r);
/* eal.c: RX lcores, the exporter's and the scanner's lcores. */
int wt_step_roles(struct wt_run *r);
/* ports.c: ports selected, set up with the symmetric RSS key; shard table. */
int wt_step_ports(struct wt_run *r);
/* pipeline.c: tables and rings of the RX lcores, the log, IPFIX, telemetry. */
int wt_step_pipeline(struct wt_run *r);
/* pipeline.c: the start-up lines (unless --quiet). */
void wt_step_say_setup(struct wt_run *r);
/* control.c: signal handlers, the roles launched on their lcores. */
int wt_step_launch(struct wt_run *r);
/* control.c: the control loop, until every record is exported. */
void wt_step_run(struct wt_run *r);
/* shutdown.c: counters stored in the log, summary, records not in the log. */
int wt_step_finish(struct wt_run *r, int rc);
/* shutdown.c: the log closed, lcores' resources, ports and the EAL released. */
int wt_step_cleanup(struct wt_run *r, int rc);

/* pipeline.c: free what wt_step_pipeline() allocated for the RX lcores. */
void wt_free_rx(struct wt_pipeline *pl);
/* eal.c: free 2 MiB hugepages exist (for the spool). */
int wt_hugepages_usable(void);

#endif /* WT_RUN_H */
