/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_common.h: compiler helpers shared by every wiretally library (no EAL). */
#ifndef WT_COMMON_H
#define WT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define WT_CACHE_LINE 64

#define wt_likely(x)     __builtin_expect(!!(x), 1)
#define wt_unlikely(x)   __builtin_expect(!!(x), 0)
#define wt_always_inline inline __attribute__((always_inline))
#define wt_noinline      __attribute__((noinline))
#define wt_cold          __attribute__((cold, noinline))
#define wt_aligned(a)    __attribute__((aligned(a)))
#define wt_cache_aligned wt_aligned(WT_CACHE_LINE)
#define wt_unused        __attribute__((unused))
#define wt_packed        __attribute__((packed))

#define WT_ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define WT_MIN(a, b)      ((a) < (b) ? (a) : (b))
#define WT_MAX(a, b)      ((a) > (b) ? (a) : (b))
#define WT_ALIGN_UP(v, a) (((v) + (a)-1) / (a) * (a))

/* Prefetch for a read or a write that will come within ~100 ns. */
#define wt_prefetch0(p)  __builtin_prefetch((p), 0, 3)
#define wt_prefetch_w(p) __builtin_prefetch((p), 1, 3)

#define WT_NS_PER_SEC 1000000000ull

/* Unaligned big-endian loads: header fields are read through these so the
 * parser never depends on frame alignment. */
static wt_always_inline uint16_t
wt_be16(const uint8_t *p)
{
	uint16_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return __builtin_bswap16(v);
}

static wt_always_inline uint32_t
wt_be32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
}

static wt_always_inline uint64_t
wt_load64(const void *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static wt_always_inline uint32_t
wt_load32(const void *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

#endif /* WT_COMMON_H */
