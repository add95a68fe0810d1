/* SPDX-License-Identifier: BSD-3-Clause */
/* startup.c: step 1, the options and the inputs: parsed and checked before the EAL starts. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "run.h"
#include "wt_ipfix_export.h"

static int
check_output_dir(const char *dir)
{
	struct stat sb;
	if (stat(dir, &sb) != 0 && errno == ENOENT) {
		/* created with its missing parents, mode 0750 (less the umask) */
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s", dir);
		for (char *c = p + 1;; c++) {
			if (*c != '/' && *c != '\0')
				continue;
			char was = *c;
			*c = '\0';
			if (mkdir(p, 0750) != 0 && errno != EEXIST) {
				WT_LOG(ERR, "output directory %s: cannot create %s: %s\n", dir, p,
				       strerror(errno));
				return -1;
			}
			*c = was;
			if (was == '\0')
				break;
		}
		WT_LOG(INFO, "output directory %s created (mode 0750)\n", dir);
	}
	if (stat(dir, &sb) != 0) {
		WT_LOG(ERR, "output directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		WT_LOG(ERR, "output directory %s: not a directory\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		WT_LOG(ERR, "output directory %s: not writable: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
wt_step_options(struct wt_run *r)
{
	struct wt_opts *o = &r->o;
	char errbuf[512];

	/* A closed stderr (a pipe whose reader went away) or a telemetry client
	 * that hangs up must not kill the monitor: writes fail with EPIPE and
	 * the run, the log and the shutdown go on. */
	signal(SIGPIPE, SIG_IGN);
	r->user_eal_argc = 1;
	r->app_argc = r->argc;
	r->app_argv = r->argv;
	/* "wiretally [EAL options] -- [options]" or "wiretally [options]" */
	for (int i = 1; i < r->argc; i++) {
		if (strcmp(r->argv[i], "--") == 0) {
			r->user_eal_argc = i;
			r->app_argc = r->argc - i;
			r->app_argv =
			        r->argv + i; /* r->argv[i] ("--") stands in for the program name */
			break;
		}
	}
	if (wt_opts_parse(o, r->app_argc, r->app_argv) != 0)
		return EXIT_USAGE;
	wt_say_quiet(o->quiet);
	if (o->help) {
		wt_opts_usage("wiretally");
		r->done = 1;
		return 0;
	}
	if (o->version) {
		printf("wiretally %s\n", WT_VERSION);
		r->done = 1;
		return 0;
	}
	if (o->output == NULL) {
		WT_LOG(ERR, "no output directory: give -o DIR (or output = DIR in "
		            "the config file)\n");
		return EXIT_USAGE;
	}
	if (check_output_dir(o->output) != 0)
		return EXIT_USAGE;
	if (o->ipfix != NULL) {
		struct wt_ipfix_url u;
		if (wt_ipfix_url_parse(o->ipfix, &u, errbuf, sizeof(errbuf)) != 0) {
			WT_LOG(ERR, "--ipfix: %s\n", errbuf);
			return EXIT_USAGE;
		}
	}
	/* captures: checked for Ethernet; a stream (-, a FIFO) is read once,
	 * through a pipe net_pcap opens (capture.c) */
	static char pcap_dev[WT_MAX_INPUTS][PATH_MAX];
	for (unsigned int i = 0; i < o->n_pcap; i++) {
		if (wt_capture_prepare(o->pcap[i], pcap_dev[i], sizeof(pcap_dev[i])) != 0)
			return EXIT_USAGE;
		o->pcap[i] = pcap_dev[i];
	}
	for (unsigned int i = 0; i < o->n_iface; i++)
		if (if_nametoindex(o->iface[i]) == 0) {
			WT_LOG(ERR, "interface %s: %s\n", o->iface[i], strerror(errno));
			return EXIT_USAGE;
		}
	if (r->user_eal_argc <= 1 && o->n_pcap == 0 && o->n_iface == 0) {
		WT_LOG(ERR, "no input: give --pcap FILE, --iface NAME, or EAL "
		            "options with a device before '--' (see --help)\n");
		return EXIT_USAGE;
	}
	return 0;
}
