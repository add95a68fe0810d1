/* SPDX-License-Identifier: BSD-3-Clause */
/* rundir.c: no EAL runtime directory left behind.
 *
 * The EAL keeps its shared configuration in a runtime directory named
 * after the file prefix (config, hugepage_info, the memseg fbarrays: about
 * 1.8 MB; on most systems /run is memory) and never removes it. The
 * monitor, a primary process, removes its directory after
 * rte_eal_cleanup() (whatever the prefix: secondaries cannot outlive their
 * primary). Without EAL options each run has its own prefix
 * (wiretally-PID), and at start the directories of such runs that were
 * killed (their PID is gone) are removed too; other prefixes are never
 * swept.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rundir.h"

#define PREFIX "wiretally-"

static void
base_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0)
		snprintf(buf, len, "/var/run/dpdk");
	else
		snprintf(buf, len, "%s/dpdk", xdg != NULL ? xdg : "/tmp");
}

void
wt_rundir_path(char *buf, size_t len, int pid)
{
	char base[4096];

	base_dir(base, sizeof(base));
	snprintf(buf, len, "%s/" PREFIX "%d", base, pid);
}

int
wt_rundir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	int left = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : 1;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char p[8192];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) != 0)
			left++;
	}
	closedir(d);
	if (rmdir(dir) != 0 && errno != ENOENT)
		left++;
	return left;
}

int
wt_rundir_sweep(void)
{
	char base[4096];
	int n = 0;

	base_dir(base, sizeof(base));
	DIR *d = opendir(base);
	if (d == NULL)
		return 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0)
			continue;
		char *end;
		long pid = strtol(e->d_name + strlen(PREFIX), &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive (or not ours to ask): leave it */
		char p[8192];
		snprintf(p, sizeof(p), "%s/%s", base, e->d_name);
		if (wt_rundir_remove(p) == 0)
			n++;
	}
	closedir(d);
	return n;
}
