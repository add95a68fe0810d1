/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally, the call-record monitor: main() as the list of its steps. */
#include "run.h"

static struct wt_pipeline pl;
static struct wt_port ports[WT_MAX_PORTS];

int
main(int argc, char **argv)
{
	static struct wt_run r = {.pl = &pl, .ports = ports};
	int rc;

	r.argc = argc;
	r.argv = argv;
	rc = wt_step_options(&r); /* startup.c */
	if (rc != 0 || r.done)
		return rc;
	rc = wt_step_eal(&r); /* eal.c */
	if (rc != 0)
		return rc;
	rc = wt_step_roles(&r); /* eal.c */
	if (rc == 0)
		rc = wt_step_ports(&r); /* ports.c */
	if (rc == 0)
		rc = wt_step_pipeline(&r); /* pipeline.c */
	if (rc == 0) {
		wt_step_say_setup(&r);       /* pipeline.c */
		rc = wt_step_launch(&r);     /* control.c */
		wt_step_run(&r);             /* control.c */
		rc = wt_step_finish(&r, rc); /* shutdown.c */
	}
	return wt_step_cleanup(&r, rc); /* shutdown.c */
}
