/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_mem.h: large, prefaulted, NUMA-placed allocations for per-lcore tables.
 *
 * Tables live outside the DPDK heap so that they need neither hugepages nor a
 * matching EAL -m, and so the libraries that use them can be tested without
 * an EAL. Memory comes from 2 MiB hugepages when the kernel has them reserved,
 * else from normal pages with transparent hugepages requested, and is bound
 * to a NUMA node when one is given.
 */
#ifndef WT_MEM_H
#define WT_MEM_H

#include <stddef.h>

#define WT_SOCKET_ANY (-1)

/**
 * Allocate @size bytes of zeroed memory, touched now so that no page fault
 * happens later on the packet path.
 *
 * @param size    bytes (rounded up to the page size internally)
 * @param socket  NUMA node to place it on, or WT_SOCKET_ANY
 * @return the memory, or NULL with errno set (ENOMEM, EINVAL).
 * Any thread may call it; not for the packet path.
 */
void *wt_mem_alloc(size_t size, int socket);

/** 1 when @p (from wt_mem_alloc()) is on hugepages, 0 on normal pages. */
int wt_mem_is_huge(const void *p);

/** Free memory from wt_mem_alloc(); NULL is accepted. @size as allocated. */
void wt_mem_free(void *p, size_t size);

/** 2 MiB hugepages free in the kernel's pool now (0 when it cannot be read). */
unsigned long wt_mem_free_hugepages(void);

#endif /* WT_MEM_H */
