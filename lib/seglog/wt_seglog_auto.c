/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_auto.c: where a log's spool is (the automatic one, or the one its writer noted in the
 * log), so that its readers find it too. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

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

int
wt_seglog_spool_note(int dirfd, const char *spool_dir)
{
	char real[PATH_MAX], text[PATH_MAX + 2];

	if (realpath(spool_dir, real) == NULL)
		return -errno;
	int n = snprintf(text, sizeof(text), "%s\n", real);
	int fd = openat(dirfd, WT_SEGLOG_SPOOL_NOTE ".tmp",
	                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int rc = write(fd, text, (size_t)n) == n && fsync(fd) == 0 ? 0 : -EIO;
	close(fd);
	if (rc == 0 &&
	    renameat(dirfd, WT_SEGLOG_SPOOL_NOTE ".tmp", dirfd, WT_SEGLOG_SPOOL_NOTE) != 0)
		rc = -errno;
	if (rc != 0)
		unlinkat(dirfd, WT_SEGLOG_SPOOL_NOTE ".tmp", 0);
	return rc;
}

int
wt_seglog_spool_of(const char *dir, char *buf, size_t len)
{
	char note[PATH_MAX + 32];
	struct stat sb;

	snprintf(note, sizeof(note), "%s/%s", dir, WT_SEGLOG_SPOOL_NOTE);
	FILE *f = fopen(note, "r");
	if (f != NULL) {
		char line[PATH_MAX + 2] = "";
		int ok = fgets(line, sizeof(line), f) != NULL;
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (ok && line[0] == '/' && strlen(line) < len) {
			snprintf(buf, len, "%s", line);
			return stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -ENOENT;
		}
	}
	int rc = wt_seglog_spool_auto_dir(dir, buf, len);
	if (rc != 0)
		return rc;
	return stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -ENOENT;
}
