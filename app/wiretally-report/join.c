/* SPDX-License-Identifier: BSD-3-Clause */
/* join.c: --join: the tap's call records, each end with the owner the agent captured for it.
 *
 * How a call record of the tap finds its ends (docs/AGENT.md "Join"):
 * every connection of the trace logs is indexed by its local endpoint
 * (protocol, family, address, port; an IPv4-mapped IPv6 address as IPv4).
 * For end a of a record, the candidates are the connections whose local
 * endpoint is a and whose remote endpoint is b (a UDP socket that is not
 * connected, or bound to the wildcard address, matches any), whose life
 * [open - slack, close + slack] overlaps the record's [start, end], and,
 * for TCP, whose initial sequence numbers agree with the tap's: where the
 * tap saw a side's SYN its stream base is that side's ISN + 1 exactly;
 * where it did not (the tap started mid-connection) the base lies in the
 * 2^31 bytes after it. The namespace tells apart two connections of the
 * same 4-tuple in two namespaces (containers with the same addresses); the
 * ISNs and the time decide which one the tap saw. When several candidates
 * remain and they name different owners, the end stays empty and is
 * counted as ambiguous: an owner is never guessed.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "wt_record.h"

struct ep {
	uint8_t proto, family;
	uint16_t port;
	uint8_t addr[16];
	uint32_t conn; /* index into the table */
};

#define EP_KEY offsetof(struct ep, conn)

static int
ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, EP_KEY);
}

struct join {
	struct report *r;
	struct ep *ep;
	size_t nep;
	uint64_t slack_ns;
	/* counts */
	uint64_t records, both, one, none, ambiguous, other_proto;
};

static int
remote_ok(const struct conn *c, int family, const uint8_t addr[16], uint16_t port)
{
	uint8_t ra[16];
	int rf = wtrp_family(&c->o, c->o.raddr, ra);
	static const uint8_t zero[16];

	if (c->udp && c->o.rport == 0 && memcmp(ra, zero, 16) == 0)
		return 1; /* an unconnected UDP socket */
	return rf == family && c->o.rport == port && memcmp(ra, addr, 16) == 0;
}

/* The tap's stream base of @side against the agent's ISN of that side. */
static int
isn_ok(const struct wt_callrec *rec, int side, uint32_t isn)
{
	if (!(rec->tcp_valid & (side == 0 ? WT_TCP_BASE_A : WT_TCP_BASE_B)))
		return 1; /* the tap knows no stream start */
	uint32_t base = rec->tcp_base[side];
	if (rec->flags[side] & WT_TCP_SYN)
		return base == isn + 1;
	return base - (isn + 1) < 0x80000000u;
}

static int
candidate(const struct join *j, const struct conn *c, const struct wt_callrec *rec, int side)
{
	const int other = !side;
	const uint8_t *oaddr = other ? rec->addr_b : rec->addr_a;
	const uint16_t oport = other ? rec->port_b : rec->port_a;

	if (!remote_ok(c, rec->family, oaddr, oport))
		return 0;
	uint64_t lo = c->open_ns > j->slack_ns ? c->open_ns - j->slack_ns : 0;
	uint64_t hi = c->close_ns ? c->close_ns + j->slack_ns : UINT64_MAX;
	if (rec->end_ns < lo || rec->start_ns > hi)
		return 0;
	if (c->udp)
		return 1;
	return isn_ok(rec, side, c->o.isn_local) && isn_ok(rec, other, c->o.isn_remote);
}

/* Candidates among the connections bound to @addr:@port. */
static void
scan(const struct join *j, const struct ep *key, const struct wt_callrec *rec, int side,
     const struct conn **best, int *n, int *differ)
{
	size_t lo = 0, hi = j->nep;
	while (lo < hi) { /* the first entry not below @key */
		size_t mid = lo + (hi - lo) / 2;
		if (ep_cmp(&j->ep[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < j->nep && ep_cmp(&j->ep[i], key) == 0; i++) {
		const struct conn *c = &j->r->t.c[j->ep[i].conn];
		if (!candidate(j, c, rec, side))
			continue;
		if (*best != NULL && ((*best)->o.owner.pid != c->o.owner.pid ||
		                      (*best)->o.owner.start_ns != c->o.owner.start_ns))
			*differ = 1;
		if (*best == NULL)
			*best = c;
		++*n;
	}
}

/* The owner of end @side of @rec: NULL when the agent did not see it, or
 * when it is ambiguous (then *ambiguous is set). */
static const struct conn *
owner_of(const struct join *j, const struct wt_callrec *rec, int side, int *ambiguous)
{
	struct ep key;
	const struct conn *best = NULL;
	int n = 0, differ = 0;

	memset(&key, 0, sizeof(key));
	key.proto = rec->proto;
	key.family = rec->family;
	key.port = side ? rec->port_b : rec->port_a;
	memcpy(key.addr, side ? rec->addr_b : rec->addr_a, 16);
	scan(j, &key, rec, side, &best, &n, &differ);
	if (rec->proto == WT_IPPROTO_UDP) { /* sockets bound to the wildcard address */
		memset(key.addr, 0, 16);
		scan(j, &key, rec, side, &best, &n, &differ);
	}
	if (differ) {
		*ambiguous = 1;
		return NULL;
	}
	return best;
}

static void
put_owner(const struct conn *c, int json, const char *name)
{
	char comm[17];

	if (json) {
		if (c == NULL) {
			printf(",\"%s_pid\":null,\"%s_comm\":null,\"%s_cgroup\":null", name, name,
			       name);
			return;
		}
		printf(",\"%s_pid\":%u,\"%s_comm\":", name, c->o.owner.pid, name);
		wtrp_json_str(wtrp_comm(c, comm));
		printf(",\"%s_cgroup\":", name);
		wtrp_json_str(c->cgroup);
		return;
	}
	if (c == NULL) {
		fputs(",,,", stdout);
		return;
	}
	printf(",%u,", c->o.owner.pid);
	wtrp_csv_str(wtrp_comm(c, comm));
	putchar(',');
	wtrp_csv_str(c->cgroup);
}

static void
join_record(struct join *j, const struct wt_callrec *rec, int json)
{
	char line[WT_CALLREC_LINE_MAX];
	const struct conn *own[2] = {NULL, NULL};
	int amb[2] = {0, 0};

	j->records++;
	if (rec->proto == WT_IPPROTO_TCP || rec->proto == WT_IPPROTO_UDP) {
		own[0] = owner_of(j, rec, 0, &amb[0]);
		own[1] = owner_of(j, rec, 1, &amb[1]);
	} else {
		j->other_proto++;
	}
	j->ambiguous += (uint64_t)(amb[0] + amb[1]);
	int found = (own[0] != NULL) + (own[1] != NULL);
	if (found == 2)
		j->both++;
	else if (found == 1)
		j->one++;
	else
		j->none++;

	int len = json ? wt_callrec_format_json(line, sizeof(line), rec)
	               : wt_callrec_format_csv(line, sizeof(line), rec);
	if (len <= 1)
		return;
	line[len - 1] = '\0'; /* the newline */
	if (json)
		line[len - 2] = '\0'; /* the closing brace */
	fputs(line, stdout);
	put_owner(own[0], json, "a");
	put_owner(own[1], json, "b");
	puts(json ? "}" : "");
}

static int
index_conns(struct join *j)
{
	const struct table *t = &j->r->t;

	j->ep = calloc(t->n ? t->n : 1, sizeof(*j->ep));
	if (j->ep == NULL)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		const struct conn *c = &t->c[i];
		struct ep *e = &j->ep[j->nep++];
		e->proto = c->udp ? WT_IPPROTO_UDP : WT_IPPROTO_TCP;
		e->family = (uint8_t)wtrp_family(&c->o, c->o.laddr, e->addr);
		e->port = c->o.lport;
		e->conn = (uint32_t)i;
	}
	qsort(j->ep, j->nep, sizeof(*j->ep), ep_cmp);
	return 0;
}

int
wtrp_join(struct report *r, const char *const *tap, size_t ntap, int json, uint64_t since,
          uint64_t until, uint64_t slack_ns)
{
	struct join j = {.r = r, .slack_ns = slack_ns};
	int worst = 0;
	char err[512];

	if (index_conns(&j) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	struct wt_seglog_reader_conf rc = {
	        .paths = tap, .npaths = ntap, .problem = wtrp_problem, .problem_arg = &worst};
	struct wt_seglog_reader *rd = wt_seglog_reader_open(&rc, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		free(j.ep);
		return 1;
	}
	if (!json)
		printf("%s,a_pid,a_comm,a_cgroup,b_pid,b_comm,b_cgroup\n", wt_callrec_csv_header);
	struct wt_seglog_frame f;
	struct wt_callrec rec;
	while (wt_seglog_reader_next(rd, &f) == 1) {
		if (wt_seglog_frame_record(&f, &rec) != 0)
			continue;
		if (rec.end_ns < since || rec.start_ns > until)
			continue;
		join_record(&j, &rec, json);
	}
	uint64_t typed = wt_seglog_reader_stats(rd)->typed_records;
	wt_seglog_reader_close(rd);
	free(j.ep);
	fflush(stdout);
	if (j.records == 0 && typed != 0)
		fprintf(stderr,
		        PROG ": --join: %s holds no call records but %" PRIu64
		             " typed records: is it a trace log? (--join AGENTDIR TAPDIR)\n",
		        tap[0], typed);
	fprintf(stderr,
	        PROG ": join: %" PRIu64 " call records: %" PRIu64 " with both owners, %" PRIu64
	             " with one, %" PRIu64 " with none (%" PRIu64 " not TCP or UDP); %" PRIu64
	             " ends ambiguous (left empty)\n",
	        j.records, j.both, j.one, j.none, j.other_proto, j.ambiguous);
	return worst;
}
