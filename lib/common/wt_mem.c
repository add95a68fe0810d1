/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_mem.c: hugepage/THP-backed, NUMA-bound, prefaulted allocations. */
#include <errno.h>
#include <numa.h>
#include <stdio.h>
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

/*
 * Touch every page now. MADV_POPULATE_WRITE (Linux 5.14) reports a shortage
 * as an error; on older kernels (EINVAL) the pages are touched by hand.
 * @return 0, or -1 with errno ENOMEM.
 */
static int
populate(void *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == EINVAL) {
		memset(p, 0, len);
		return 0;
	}
	errno = ENOMEM; /* EFAULT/ENOMEM: the memory is not there */
	return -1;
}

static void
bind_node(void *p, size_t len, int socket)
{
	if (socket >= 0 && numa_available() >= 0 && socket <= numa_max_node())
		numa_tonode_memory(p, len, socket);
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
	if (p != MAP_FAILED) {
		bind_node(p, len, socket);
		if (populate(p, len) != 0) {
			/* Not enough hugepages: normal pages instead. */
			munmap(p, len);
			p = MAP_FAILED;
		}
	}
	if (p == MAP_FAILED) {
		huge = 0;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			errno = ENOMEM;
			return NULL;
		}
		(void)madvise(p, len, MADV_HUGEPAGE); /* transparent hugepages, if allowed */
		bind_node(p, len, socket);
		if (populate(p, len) != 0) {
			munmap(p, len);
			return NULL;
		}
	}
	struct mem_hdr *h = p;
	h->map_len = len;
	h->huge = huge;
	return (char *)p + HUGE_2M;
}

int
wt_mem_is_huge(const void *p)
{
	const struct mem_hdr *h = (const void *)((const char *)p - HUGE_2M);
	return h->huge;
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

unsigned long
wt_mem_free_hugepages(void)
{
	unsigned long n = 0;
	FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}
