/* SPDX-License-Identifier: BSD-3-Clause */
/* filter.c: parsing of the filter options and times, and the record match. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "options.h"

#define NS_PER_S UINT64_C(1000000000)

static const char *const kind_opt[] = {
        [WTR_FILTER_SINCE] = "--since", [WTR_FILTER_UNTIL] = "--until",
        [WTR_FILTER_PROTO] = "--proto", [WTR_FILTER_HOST] = "--host",
        [WTR_FILTER_PORT] = "--port",   [WTR_FILTER_NET] = "--net",
        [WTR_FILTER_SEQ] = "--seq",
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/* ---- times ------------------------------------------------------------ */

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
			seterr(why, len, "more than 9 decimals (nanoseconds are the finest)");
			return -1;
		}
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	}
	if (n == 0) {
		seterr(why, len, "no digit after the decimal point");
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
			seterr(why, len, "too far in the future");
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
		seterr(why, len,
		       "not a time: give RFC 3339 (2026-11-22T07:40:00Z, "
		       "2026-11-22T08:40:00.5+01:00, 2026-11-22) or unix seconds (1795324800.5)");
		return -1;
	}
	if (secs > (UINT64_MAX - frac) / NS_PER_S) {
		seterr(why, len, "too far in the future");
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
		seterr(why, len, "month %" PRId64 " out of range (01-12)", mo);
	else if (d < 1 || d > days_in_month(y, (unsigned int)mo))
		seterr(why, len, "day %" PRId64 " out of range for %04" PRId64 "-%02" PRId64, d, y,
		       mo);
	else if (h > 23)
		seterr(why, len, "hour %" PRId64 " out of range (00-23)", h);
	else if (mi > 59)
		seterr(why, len, "minute %" PRId64 " out of range (00-59)", mi);
	else if (sec > 60)
		seterr(why, len, "second %" PRId64 " out of range (00-60)", sec);
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
		seterr(why, len, "no time zone: add Z (UTC) or an offset such as +01:00");
		return -1;
	}
	if (p[0] != '+' && p[0] != '-') {
		seterr(why, len, "unexpected '%s' after the time (Z or an offset such as +01:00)",
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
		seterr(why, len, "bad time zone offset '%s' (such as +01:00 or -0530)", p);
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
		seterr(why, len, "a date is YYYY-MM-DD");
		return -1;
	}
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ') {
			seterr(why, len,
			       "a date and a time are joined by T (2026-11-22T07:40:00Z)");
			return -1;
		}
		p++;
		if ((h = digits(&p, 2)) < 0 || *p++ != ':' || (mi = digits(&p, 2)) < 0) {
			seterr(why, len, "a time of day is HH:MM[:SS[.fraction]]");
			return -1;
		}
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0) {
				seterr(why, len, "seconds are two digits");
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
		seterr(why, len, "before 1970-01-01T00:00:00Z");
		return -1;
	}
	if ((uint64_t)t > (UINT64_MAX - frac) / NS_PER_S) {
		seterr(why, len, "too far in the future");
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

/* ---- values ----------------------------------------------------------- */

/* Decimal number in [0, max], nothing else. */
static int
number(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end != '\0' || *v > max ? -1 : 0;
}

static int
parse_proto(const char *s, uint8_t *proto, char *why, size_t len)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {{"tcp", WT_IPPROTO_TCP},
	             {"udp", WT_IPPROTO_UDP},
	             {"icmp", WT_IPPROTO_ICMP},
	             {"icmp6", WT_IPPROTO_ICMPV6}};
	unsigned long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*proto = names[i].proto;
			return 0;
		}
	if (number(s, 255, &v) != 0) {
		seterr(why, len, "not a protocol (tcp, udp, icmp, icmp6, or a number 0-255)");
		return -1;
	}
	*proto = (uint8_t)v;
	return 0;
}

static int
parse_addr(const char *s, struct wtr_net *n)
{
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = 4;
		n->len = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->addr) == 1) {
		n->family = 6;
		n->len = 128;
		return 0;
	}
	return -1;
}

/* ADDR/LEN; host bits are cleared (10.1.2.3/8 is 10.0.0.0/8). */
static int
parse_net(const char *s, struct wtr_net *n, char *why, size_t len)
{
	char a[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	unsigned long plen;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(a)) {
		seterr(why, len,
		       "not a network: give ADDRESS/PREFIX-LENGTH (10.0.0.0/8, 2001:db8::/32)");
		return -1;
	}
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	if (parse_addr(a, n) != 0) {
		seterr(why, len, "'%s' is not an IPv4 or IPv6 address", a);
		return -1;
	}
	if (number(slash + 1, n->len, &plen) != 0) {
		seterr(why, len, "prefix length '%s' is not a number 0-%u", slash + 1, n->len);
		return -1;
	}
	n->len = (uint8_t)plen;
	for (unsigned int bit = n->len; bit < 128; bit++)
		n->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

/* N, N-M (M >= N) or N- (to the end): record seqs, decimal. */
static int
parse_seq(const char *s, struct wtr_seqrange *r, char *why, size_t len)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		goto bad;
	errno = 0;
	r->first = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	if (*end == '\0') {
		r->last = r->first;
		return 0;
	}
	if (*end != '-')
		goto bad;
	s = end + 1;
	if (*s == '\0') {
		r->last = UINT64_MAX;
		return 0;
	}
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	r->last = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		goto bad;
	if (r->last < r->first) {
		seterr(why, len, "the range ends before it starts");
		return -1;
	}
	return 0;
bad:
	seterr(why, len, "not a record seq N, a range N-M, or N- (from N on)");
	return -1;
}

/* Append @item to the array *@arrp of *@n elements of @size bytes.
 * @return 0, or -1 out of memory (the array unchanged). */
static int
append(void *arrp, size_t *n, size_t size, const void *item)
{
	void *v;
	memcpy(&v, arrp, sizeof(v));
	char *nv = realloc(v, (*n + 1) * size);
	if (nv == NULL)
		return -1;
	memcpy(nv + *n * size, item, size);
	(*n)++;
	memcpy(arrp, &nv, sizeof(nv));
	return 0;
}

int
wtr_filter_add(struct wtr_filter *f, enum wtr_filter_kind kind, const char *value)
{
	char why[200] = "";
	struct wtr_net n;
	unsigned long port;
	uint8_t proto;
	int rc = 0;

	switch (kind) {
	case WTR_FILTER_SINCE:
	case WTR_FILTER_UNTIL: {
		bool *have = kind == WTR_FILTER_SINCE ? &f->have_since : &f->have_until;
		if (*have) {
			seterr(why, sizeof(why), "given twice");
			rc = -1;
			break;
		}
		rc = wtr_time_parse(value, kind == WTR_FILTER_SINCE ? &f->since_ns : &f->until_ns,
		                    why, sizeof(why));
		*have = rc == 0;
		break;
	}
	case WTR_FILTER_PROTO:
		rc = parse_proto(value, &proto, why, sizeof(why));
		if (rc == 0)
			f->any_proto = f->proto[proto] = true;
		break;
	case WTR_FILTER_HOST:
		rc = parse_addr(value, &n);
		if (rc == 0)
			rc = append(&f->hosts, &f->nhosts, sizeof(n), &n);
		else
			seterr(why, sizeof(why), "not an IPv4 or IPv6 address");
		break;
	case WTR_FILTER_PORT:
		rc = number(value, 65535, &port);
		if (rc == 0) {
			uint16_t p = (uint16_t)port;
			rc = append(&f->ports, &f->nports, sizeof(p), &p);
		} else {
			seterr(why, sizeof(why), "not a port number 0-65535");
		}
		break;
	case WTR_FILTER_NET:
		rc = parse_net(value, &n, why, sizeof(why));
		if (rc == 0)
			rc = append(&f->nets, &f->nnets, sizeof(n), &n);
		break;
	case WTR_FILTER_SEQ: {
		struct wtr_seqrange sr;
		rc = parse_seq(value, &sr, why, sizeof(why));
		if (rc == 0)
			rc = append(&f->seqs, &f->nseqs, sizeof(sr), &sr);
		break;
	}
	}
	if (rc != 0 && why[0] == '\0')
		seterr(why, sizeof(why), "%s", strerror(ENOMEM)); /* append() */
	if (rc != 0)
		fprintf(stderr, PROG ": %s '%s': %s\n", kind_opt[kind], value, why);
	return rc;
}

int
wtr_filter_finish(const struct wtr_filter *f)
{
	char a[40], b[40];

	if (f->have_since && f->have_until && f->since_ns >= f->until_ns) {
		fprintf(stderr, PROG ": --since %s is not before --until %s: no record can match\n",
		        wtr_time_str(f->since_ns, a, sizeof(a)),
		        wtr_time_str(f->until_ns, b, sizeof(b)));
		return -1;
	}
	return 0;
}

bool
wtr_filter_empty(const struct wtr_filter *f)
{
	return !f->have_since && !f->have_until && !f->any_proto && f->nhosts == 0 &&
	       f->nports == 0 && f->nnets == 0 && f->nseqs == 0;
}

/* @addr (of @family) is in @n. */
static bool
in_net(const struct wtr_net *n, uint8_t family, const uint8_t addr[16])
{
	unsigned int full = n->len / 8, rest = n->len % 8;

	if (n->family != family || memcmp(n->addr, addr, full) != 0)
		return false;
	return rest == 0 || ((n->addr[full] ^ addr[full]) & (0xff00u >> rest)) == 0;
}

static bool
any_net(const struct wtr_net *v, size_t n, const struct wt_callrec *r)
{
	for (size_t i = 0; i < n; i++)
		if (in_net(&v[i], r->family, r->addr_a) || in_net(&v[i], r->family, r->addr_b))
			return true;
	return false;
}

bool
wtr_filter_match(const struct wtr_filter *f, const struct wt_callrec *r)
{
	if (f->have_since && r->end_ns < f->since_ns)
		return false;
	if (f->have_until && r->start_ns >= f->until_ns)
		return false;
	if (f->any_proto && !f->proto[r->proto])
		return false;
	if (f->nhosts && !any_net(f->hosts, f->nhosts, r))
		return false;
	if (f->nnets && !any_net(f->nets, f->nnets, r))
		return false;
	if (f->nports) {
		size_t i = 0;
		while (i < f->nports && f->ports[i] != r->port_a && f->ports[i] != r->port_b)
			i++;
		if (i == f->nports)
			return false;
	}
	if (f->nseqs) {
		size_t i = 0;
		while (i < f->nseqs && (r->seq < f->seqs[i].first || r->seq > f->seqs[i].last))
			i++;
		if (i == f->nseqs)
			return false;
	}
	return true;
}

void
wtr_filter_free(struct wtr_filter *f)
{
	free(f->hosts);
	free(f->ports);
	free(f->nets);
	free(f->seqs);
	memset(f, 0, sizeof(*f));
}
