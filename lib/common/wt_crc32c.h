/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_crc32c.h: CRC-32C (Castagnoli), the checksum of log segment frames. */
#ifndef WT_CRC32C_H
#define WT_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/**
 * CRC-32C of @len bytes at @buf, continuing from @crc (0 to start).
 * Standard parameters (reflected, init/xorout 0xffffffff): the CRC-32C of
 * "123456789" is 0xe3069283. Uses SSE4.2 when built for it. Thread-safe.
 */
uint32_t wt_crc32c(uint32_t crc, const void *buf, size_t len);

#endif /* WT_CRC32C_H */
