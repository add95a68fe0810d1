/* SPDX-License-Identifier: BSD-3-Clause */
/* eal_testutil.h: unit tests that start the EAL leave no runtime directory behind. */
#ifndef EAL_TESTUTIL_H
#define EAL_TESTUTIL_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* rte_eal_cleanup(), then remove the runtime directory (/run/dpdk/PREFIX:
 * its config, fbarray and socket files), which DPDK 22.11 leaves. */
static inline void
wt_test_eal_cleanup(void)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	int fd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && e->d_name[1] != '.'))
			(void)unlinkat(fd, e->d_name, 0);
	closedir(d);
	(void)rmdir(dir);
}

#endif /* EAL_TESTUTIL_H */
