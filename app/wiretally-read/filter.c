/* SPDX-License-Identifier: BSD-3-Clause */
/* filter.c: parsing of the filter options, and the record match (times: rfc3339.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "options.h"

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
