/* SPDX-License-Identifier: BSD-3-Clause */
/* shutdown.c: step 8, the end: counters stored in the log, the summary, records not in the log,
 * then everything released. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>

#include "ipfix.h"
#include "rundir.h"
#include "run.h"
#include "stats.h"

int
wt_step_finish(struct wt_run *r, int rc)
{
	struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;

	/* Every record is completed and exported: store the counters, seal. */
	static char stext[65536];
	size_t slen = wt_stats_text(pl, r->run_id, stext, sizeof(stext));
	if (pl->ex.ipfix != NULL)
		slen += wt_ipfix_sender_stats_text(pl->ex.ipfix, stext + slen,
		                                   sizeof(stext) - slen);
	if (pl->ex.n_backlog == 0) {
		int e = wt_seglog_append_stats(pl->ex.log, stext, slen);
		if (e != 0)
			WT_LOG(WARNING, "cannot store the exit counters in the log: %s\n",
			       strerror(-e));
	}
	if (!o->quiet)
		wt_summary_print(pl);
	if (!o->quiet && pl->ex.ipfix != NULL)
		wt_ipfix_sender_summary(pl->ex.ipfix, stderr);
	for (unsigned int i = 0; i < r->n_ports; i++) {
		struct rte_eth_stats es;
		if (r->ports[i].is_file && rte_eth_stats_get(r->ports[i].port_id, &es) == 0 &&
		    es.ierrors > 0)
			WT_LOG(ERR,
			       "port %u %s: the capture file ended with a read error "
			       "(truncated or corrupt) after %" PRIu64 " packets; the records "
			       "hold everything read before it\n",
			       r->ports[i].port_id, r->ports[i].name, es.ipackets);
	}
	if (wt_export_finish(&pl->ex) > 0) {
		WT_LOG(ERR,
		       "%" PRIu64 " call records are not in the log: they were printed "
		       "on stderr as CSV (after the line that starts with seq,start_ns)\n",
		       pl->ex.printed);
		rc = EXIT_OUTPUT;
	}
	return rc;
}

int
wt_step_cleanup(struct wt_run *r, int rc)
{
	const struct wt_opts *o = &r->o;
	struct wt_pipeline *pl = r->pl;

	if (pl->ex.log != NULL) {
		wt_export_report_log(&pl->ex);
		int e = wt_seglog_close(pl->ex.log);
		if (e == 0 && r->spool == r->spool_buf)
			(void)rmdir(r->spool_buf); /* a spool we made: gone when empty */
		if (e != 0) {
			if (r->spool)
				WT_LOG(ERR,
				       "archiving the last segments into %s failed: "
				       "%s; "
				       "they stay in the spool %s (read them with: wiretally-read "
				       "--spool %s %s); the next start archives them\n",
				       o->output, strerror(-e), r->spool, r->spool, o->output);
			else
				WT_LOG(ERR, "sealing the last segment in %s failed: %s\n",
				       o->output, strerror(-e));
			if (rc == 0)
				rc = EXIT_OUTPUT;
		}
	}
	free(pl->ex.backlog);
	wt_ipfix_sender_free(pl->ex.ipfix);
	wt_free_rx(pl);
	if (r->eal_up) {
		for (unsigned int i = 0; i < r->n_ports; i++) {
			rte_eth_dev_stop(r->ports[i].port_id);
			rte_eth_dev_close(r->ports[i].port_id);
		}
		wt_say_eal(0);
		rte_eal_cleanup();
		if (r->rundir[0] != '\0' && wt_rundir_remove(r->rundir) != 0)
			WT_LOG(ERR, "could not remove the EAL runtime directory %s\n", r->rundir);
	}
	return rc;
}
