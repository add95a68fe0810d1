/* SPDX-License-Identifier: BSD-3-Clause */
/* rfc3339.h: times as the reader takes them (--since, --until) and prints them (--summary). */
#ifndef WTR_RFC3339_H
#define WTR_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/**
 * Parse a time: RFC 3339 / ISO 8601 ("2026-11-22T07:40:00Z",
 * "2026-11-22 08:40:00.25+01:00", "2026-11-22" = midnight UTC; a time of day
 * needs Z or an offset) or unix seconds with up to 9 decimals
 * ("1795324199.061766").
 * @return 0 with @ns the nanoseconds since the Unix epoch, or -1 with a
 * reason in @why.
 */
int wtr_time_parse(const char *s, uint64_t *ns, char *why, size_t whylen);

/** @ns as RFC 3339 UTC with nanoseconds ("2026-11-22T07:40:00.000000000Z") into @buf (>= 32). */
const char *wtr_time_str(uint64_t ns, char *buf, size_t len);

#endif /* WTR_RFC3339_H */
