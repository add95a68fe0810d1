/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_mem.c: hugepage/THP-backed, NUMA-bound, prefaulted allocations. */
#include <errno.h>
#include <numa.h>
#include <string.h>
#include <sys/mman.h>

#include "wt_mem.h"

#define HUGE_2M (2u << 20)

/* Stored in front of the mapping so wt_mem_free() knows how it was made. */
struct mem_hdr {
	size_t map_len;
	int huge;
};

static size_t
round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

void *
wt_mem_alloc(size_t size, int socket)
{
	size_t len;
	void *p;
	int huge = 1;

	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* One extra 2 MiB unit carries the header and keeps the payload aligned. */
	len = round_up(size, HUGE_2M) + HUGE_2M;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		huge = 0;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		(void)madvise(p, len, MADV_HUGEPAGE);
	}
	if (socket >= 0 && numa_available() >= 0 && socket <= numa_max_node())
		numa_tonode_memory(p, len, socket);
	/* Prefault. With MAP_HUGETLB|MAP_NORESERVE a hugepage shortage would
	 * only show as SIGBUS on first touch; MADV_POPULATE_WRITE reports it as
	 * an error instead, and we fall back to normal pages. */
	if (huge) {
		if (madvise(p, len, MADV_POPULATE_WRITE) != 0) {
			/* Not enough hugepages (or old kernel): fall back to normal pages. */
			munmap(p, len);
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			         0);
			if (p == MAP_FAILED)
				return NULL;
			huge = 0;
			(void)madvise(p, len, MADV_HUGEPAGE);
			if (socket >= 0 && numa_available() >= 0 && socket <= numa_max_node())
				numa_tonode_memory(p, len, socket);
		}
	}
	if (!huge && madvise(p, len, MADV_POPULATE_WRITE) != 0)
		memset(p, 0, len); /* kernels before 5.14: touch every page */

	struct mem_hdr *h = p;
	h->map_len = len;
	h->huge = huge;
	return (char *)p + HUGE_2M;
}

void
wt_mem_free(void *p, size_t size)
{
	(void)size;
	if (p == NULL)
		return;
	struct mem_hdr *h = (void *)((char *)p - HUGE_2M); /* 2 MiB aligned */
	munmap(h, h->map_len);
}
