/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_auto.c: where a monitor's automatic spool is, so that its readers find it too. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wt_seglog.h"

int
wt_seglog_spool_auto_dir(const char *dir, char *buf, size_t len)
{
	char mount[512] = "", real[PATH_MAX];
	FILE *f = fopen("/proc/mounts", "r");

	if (f != NULL) {
		char dev[256], mdir[512], type[64];
		while (fscanf(f, "%255s %511s %63s %*[^\n]", dev, mdir, type) == 3)
			if (strcmp(type, "hugetlbfs") == 0 && mount[0] == '\0')
				snprintf(mount, sizeof(mount), "%s", mdir);
		fclose(f);
	}
	if (mount[0] == '\0')
		return -ENOENT;
	if (realpath(dir, real) == NULL)
		snprintf(real, sizeof(real), "%s", dir);
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the path */
	for (const char *c = real; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
	int n = snprintf(buf, len, "%s/wiretally-%016" PRIx64, mount, h);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
