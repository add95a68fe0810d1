/* SPDX-License-Identifier: BSD-3-Clause */
/* rfc3339.c: times as the reader takes them (RFC 3339, ISO 8601 dates, Unix seconds) and prints
 * them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rfc3339.h"

#define NS_PER_S UINT64_C(1000000000)

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned int yoe = (unsigned int)(y - era * 400);
	const unsigned int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned int
days_in_month(int64_t y, unsigned int m)
{
	static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dm[m - 1] + (m == 2 && leap);
}

/* Exactly @n decimal digits at *@p; advances. -1 when not. */
static int64_t
digits(const char **p, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/* Decimals after the point at *@p (1 to 9 digits) as nanoseconds. */
static int
fraction(const char **p, uint64_t *ns, char *why, size_t len)
{
	uint64_t v = 0;
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > 9) {
			snprintf(why, len, "more than 9 decimals (nanoseconds are the finest)");
			return -1;
		}
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	}
	if (n == 0) {
		snprintf(why, len, "no digit after the decimal point");
		return -1;
	}
	for (; n < 9; n++)
		v *= 10;
	*ns = v;
	return 0;
}

static int
unix_time(const char *s, uint64_t *ns, char *why, size_t len)
{
	uint64_t secs = 0, frac = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (secs > UINT64_MAX / NS_PER_S) {
			snprintf(why, len, "too far in the future");
			return -1;
		}
		secs = secs * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (fraction(&p, &frac, why, len) != 0)
			return -1;
	}
	if (*p != '\0' || p == s || s[0] == '.') {
		snprintf(why, len,
		         "not a time: give RFC 3339 (2026-11-22T07:40:00Z, "
		         "2026-11-22T08:40:00.5+01:00, 2026-11-22) or unix seconds (1795324800.5)");
		return -1;
	}
	if (secs > (UINT64_MAX - frac) / NS_PER_S) {
		snprintf(why, len, "too far in the future");
		return -1;
	}
	*ns = secs * NS_PER_S + frac;
	return 0;
}

/* Range checks of a calendar time; 0 or -1 with @why. */
static int
check_fields(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t sec, char *why,
             size_t len)
{
	if (mo < 1 || mo > 12)
		snprintf(why, len, "month %" PRId64 " out of range (01-12)", mo);
	else if (d < 1 || d > days_in_month(y, (unsigned int)mo))
		snprintf(why, len, "day %" PRId64 " out of range for %04" PRId64 "-%02" PRId64, d,
		         y, mo);
	else if (h > 23)
		snprintf(why, len, "hour %" PRId64 " out of range (00-23)", h);
	else if (mi > 59)
		snprintf(why, len, "minute %" PRId64 " out of range (00-59)", mi);
	else if (sec > 60)
		snprintf(why, len, "second %" PRId64 " out of range (00-60)", sec);
	else
		return 0;
	return -1;
}

/* Zone at *@p: Z, or +HH:MM, +HHMM, +HH (or -); its offset east of UTC in
 * seconds. */
static int
zone(const char *p, int64_t *off, char *why, size_t len)
{
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (p[0] == '\0') {
		snprintf(why, len, "no time zone: add Z (UTC) or an offset such as +01:00");
		return -1;
	}
	if (p[0] != '+' && p[0] != '-') {
		snprintf(why, len, "unexpected '%s' after the time (Z or an offset such as +01:00)",
		         p);
		return -1;
	}
	int sign = p[0] == '-' ? -1 : 1;
	const char *q = p + 1;
	int64_t hh = digits(&q, 2), mm = 0;
	if (hh >= 0 && *q == ':')
		q++;
	if (hh >= 0 && *q != '\0')
		mm = digits(&q, 2);
	if (hh < 0 || mm < 0 || *q != '\0' || hh > 23 || mm > 59) {
		snprintf(why, len, "bad time zone offset '%s' (such as +01:00 or -0530)", p);
		return -1;
	}
	*off = sign * (hh * 3600 + mm * 60);
	return 0;
}

int
wtr_time_parse(const char *s, uint64_t *ns, char *why, size_t len)
{
	const char *p = s;
	int64_t y = digits(&p, 4), mo = -1, d = -1, h = 0, mi = 0, sec = 0, off = 0;
	uint64_t frac = 0;

	if (y < 0 || *p != '-')
		return unix_time(s, ns, why, len);
	p++;
	if ((mo = digits(&p, 2)) < 0 || *p++ != '-' || (d = digits(&p, 2)) < 0) {
		snprintf(why, len, "a date is YYYY-MM-DD");
		return -1;
	}
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ') {
			snprintf(why, len,
			         "a date and a time are joined by T (2026-11-22T07:40:00Z)");
			return -1;
		}
		p++;
		if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0) {
			snprintf(why, len, "a time of day is HH:MM[:SS[.fraction]]");
			return -1;
		}
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0) {
				snprintf(why, len, "seconds are two digits");
				return -1;
			}
			if ((*p == '.' || *p == ',') && (p++, fraction(&p, &frac, why, len) != 0))
				return -1;
		}
		if (zone(p, &off, why, len) != 0)
			return -1;
	}
	if (check_fields(y, mo, d, h, mi, sec, why, len) != 0)
		return -1;
	int64_t t = days_from_civil(y, (unsigned int)mo, (unsigned int)d) * 86400 + h * 3600 +
	            mi * 60 + sec - off;
	if (t < 0) {
		snprintf(why, len, "before 1970-01-01T00:00:00Z");
		return -1;
	}
	if ((uint64_t)t > (UINT64_MAX - frac) / NS_PER_S) {
		snprintf(why, len, "too far in the future");
		return -1;
	}
	*ns = (uint64_t)t * NS_PER_S + frac;
	return 0;
}

const char *
wtr_time_str(uint64_t ns, char *buf, size_t len)
{
	int64_t days = (int64_t)(ns / NS_PER_S / 86400);
	uint64_t sod = ns / NS_PER_S % 86400;
	/* civil_from_days (H. Hinnant) */
	int64_t z = days + 719468, era = z / 146097;
	unsigned int doe = (unsigned int)(z - era * 146097);
	unsigned int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned int mp = (5 * doy + 2) / 153;
	unsigned int d = doy - (153 * mp + 2) / 5 + 1;
	unsigned int m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	snprintf(buf, len, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%09" PRIu64 "Z", y, m, d,
	         (unsigned int)(sod / 3600), (unsigned int)(sod / 60 % 60),
	         (unsigned int)(sod % 60), (uint64_t)(ns % NS_PER_S));
	return buf;
}
