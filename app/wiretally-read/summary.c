/* SPDX-License-Identifier: BSD-3-Clause */
/* summary.c: --summary: record count, time span, totals per protocol and end_reason, top talkers.
 *
 * Every figure is a sum over the records that would have been printed
 * (after --stitch and the filters), so it can be recomputed from the CSV:
 *   packets = a_pkts + b_pkts, bytes = a_bytes + b_bytes (payload),
 *   ip_bytes = a_ip_bytes + b_ip_bytes;
 *   a talker is an address; for each record, the address of a is credited
 *   a_bytes sent and b_bytes received, the address of b the other way
 *   round (an address at both ends gets both); its packets likewise; its
 *   records count the records it is in, once each. Talkers are ranked by
 *   bytes sent + received, then by address.
 *   TCP (record version 2): delivered = a_acked_bytes + b_acked_bytes (an
 *   empty column counts 0), retx = a_retx_bytes + b_retx_bytes, retx% =
 *   100 x retx / the TCP payload bytes; a talker's delivered and retx are
 *   those of the stream it sent (a's figures for the address of a), its
 *   retx% against the TCP payload it sent. Records of version 1 add 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "summary.h"

struct totals {
	uint64_t records, pkts, bytes, ip_bytes;
	uint64_t tcp_bytes, delivered, retx; /* TCP records of version 2 */
};

struct talker {
	uint8_t family; /* 0: free slot */
	uint8_t addr[16];
	uint64_t sent, received, pkts, records;
	uint64_t tcp_sent, delivered, retx; /* of the TCP streams it sent */
};

struct wtr_summary {
	unsigned int top;
	struct totals all;
	struct totals proto[256];
	uint64_t reason[WT_END_MAX + 1]; /* [WT_END_MAX]: unknown values */
	uint64_t first_start, last_end;
	/* talkers: open addressing, linear probing, at most half full */
	struct talker *tab;
	size_t size, used;
};

struct wtr_summary *
wtr_summary_create(unsigned int top)
{
	struct wtr_summary *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->top = top;
	s->size = 1024;
	s->tab = calloc(s->size, sizeof(*s->tab));
	if (s->tab == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static size_t
addr_hash(uint8_t family, const uint8_t addr[16])
{
	uint64_t h = 0xcbf29ce484222325ull ^ family; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 29));
}

static struct talker *
slot(struct talker *tab, size_t size, uint8_t family, const uint8_t addr[16])
{
	size_t i = addr_hash(family, addr) & (size - 1);

	while (tab[i].family != 0 &&
	       (tab[i].family != family || memcmp(tab[i].addr, addr, 16) != 0))
		i = (i + 1) & (size - 1);
	return &tab[i];
}

static int
grow(struct wtr_summary *s)
{
	size_t nsize = s->size * 2;
	struct talker *nt = calloc(nsize, sizeof(*nt));

	if (nt == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->size; i++)
		if (s->tab[i].family != 0)
			*slot(nt, nsize, s->tab[i].family, s->tab[i].addr) = s->tab[i];
	free(s->tab);
	s->tab = nt;
	s->size = nsize;
	return 0;
}

static int
credit(struct wtr_summary *s, uint8_t family, const uint8_t addr[16], const struct wt_callrec *r,
       int side, bool count_record)
{
	if (2 * (s->used + 1) > s->size && grow(s) != 0)
		return -ENOMEM;
	struct talker *t = slot(s->tab, s->size, family, addr);
	if (t->family == 0) {
		t->family = family;
		memcpy(t->addr, addr, 16);
		s->used++;
	}
	t->sent += r->d[side].bytes;
	t->received += r->d[!side].bytes;
	t->pkts += r->d[0].pkts + r->d[1].pkts;
	t->records += count_record;
	if (r->proto == WT_IPPROTO_TCP && (r->tcp_valid & WT_TCP_VALID)) {
		t->tcp_sent += r->d[side].bytes;
		t->delivered += r->t[side].acked_bytes;
		t->retx += r->t[side].retx_bytes;
	}
	return 0;
}

int
wtr_summary_add(struct wtr_summary *s, const struct wt_callrec *r)
{
	struct totals *t[2] = {&s->all, &s->proto[r->proto]};

	for (int i = 0; i < 2; i++) {
		t[i]->records++;
		t[i]->pkts += r->d[0].pkts + r->d[1].pkts;
		t[i]->bytes += r->d[0].bytes + r->d[1].bytes;
		t[i]->ip_bytes += r->d[0].ip_bytes + r->d[1].ip_bytes;
		if (r->proto == WT_IPPROTO_TCP && (r->tcp_valid & WT_TCP_VALID)) {
			t[i]->tcp_bytes += r->d[0].bytes + r->d[1].bytes;
			t[i]->delivered += r->t[0].acked_bytes + r->t[1].acked_bytes;
			t[i]->retx += r->t[0].retx_bytes + r->t[1].retx_bytes;
		}
	}
	s->reason[r->end_reason < WT_END_MAX ? r->end_reason : WT_END_MAX]++;
	if (s->all.records == 1 || r->start_ns < s->first_start)
		s->first_start = r->start_ns;
	if (s->all.records == 1 || r->end_ns > s->last_end)
		s->last_end = r->end_ns;
	bool same = memcmp(r->addr_a, r->addr_b, 16) == 0;
	if (credit(s, r->family, r->addr_a, r, 0, true) != 0 ||
	    credit(s, r->family, r->addr_b, r, 1, !same) != 0)
		return -ENOMEM;
	return 0;
}

static int
talker_cmp(const void *a, const void *b)
{
	const struct talker *x = a, *y = b;
	uint64_t tx = x->sent + x->received, ty = y->sent + y->received;

	if (tx != ty)
		return tx > ty ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

/* 100 x retx / bytes with two decimals, "-" without TCP bytes. */
static const char *
ratio_str(uint64_t retx, uint64_t bytes, char buf[16])
{
	if (bytes == 0)
		return "-";
	snprintf(buf, 16, "%.2f", 100.0 * (double)retx / (double)bytes);
	return buf;
}

static void
print_totals(FILE *f, const char *name, const struct totals *t, int tcp)
{
	char d[24] = "-", x[24] = "-", pc[16];

	if (tcp) {
		snprintf(d, sizeof(d), "%" PRIu64, t->delivered);
		snprintf(x, sizeof(x), "%" PRIu64, t->retx);
	}
	fprintf(f, "  %-8s %12" PRIu64 " %14" PRIu64 " %18" PRIu64 " %18" PRIu64 " %18s %14s %7s\n",
	        name, t->records, t->pkts, t->bytes, t->ip_bytes, d, x,
	        ratio_str(t->retx, t->tcp_bytes, pc));
}

void
wtr_summary_print(const struct wtr_summary *s, FILE *f)
{
	char a[48], b[48], pn[4];

	fprintf(f, "records: %" PRIu64 "\n", s->all.records);
	if (s->all.records)
		fprintf(f, "time span: %s .. %s (%.6f s)\n",
		        wtr_time_str(s->first_start, a, sizeof(a)),
		        wtr_time_str(s->last_end, b, sizeof(b)),
		        (double)(s->last_end - s->first_start) / 1e9);
	fprintf(f, "\nper protocol:\n  %-8s %12s %14s %18s %18s %18s %14s %7s\n", "proto",
	        "records", "packets", "bytes", "ip_bytes", "delivered", "retx_bytes", "retx%");
	for (int p = 0; p < 256; p++)
		if (s->proto[p].records)
			print_totals(f, wt_proto_name((uint8_t)p, pn), &s->proto[p],
			             p == WT_IPPROTO_TCP);
	print_totals(f, "total", &s->all, s->proto[WT_IPPROTO_TCP].records != 0);
	fprintf(f, "\nper end_reason:\n");
	for (int i = WT_END_IDLE; i < WT_END_MAX; i++)
		fprintf(f, "  %-8s %12" PRIu64 "\n", wt_end_reason_name((uint8_t)i), s->reason[i]);
	if (s->reason[WT_END_NONE] + s->reason[WT_END_MAX])
		fprintf(f, "  %-8s %12" PRIu64 "\n", "?",
		        s->reason[WT_END_NONE] + s->reason[WT_END_MAX]);

	/* top talkers: the used slots, sorted */
	struct talker *v = malloc((s->used ? s->used : 1) * sizeof(*v));
	size_t n = 0;
	if (v == NULL) {
		fprintf(f, "\ntop talkers: out of memory\n");
		return;
	}
	for (size_t i = 0; i < s->size; i++)
		if (s->tab[i].family != 0)
			v[n++] = s->tab[i];
	qsort(v, n, sizeof(*v), talker_cmp);
	size_t shown = n < s->top ? n : s->top;
	fprintf(f, "\ntop %zu talkers of %zu, by payload bytes sent + received:\n", shown, n);
	fprintf(f, "  %4s  %-39s %18s %18s %18s %18s %14s %7s %14s %12s\n", "rank", "address",
	        "bytes", "sent", "received", "delivered", "retx_bytes", "retx%", "packets",
	        "records");
	for (size_t i = 0; i < shown; i++) {
		char pc[16];
		fprintf(f,
		        "  %4zu  %-39s %18" PRIu64 " %18" PRIu64 " %18" PRIu64 " %18" PRIu64
		        " %14" PRIu64 " %7s %14" PRIu64 " %12" PRIu64 "\n",
		        i + 1, wt_addr_str(v[i].addr, v[i].family, a), v[i].sent + v[i].received,
		        v[i].sent, v[i].received, v[i].delivered, v[i].retx,
		        ratio_str(v[i].retx, v[i].tcp_sent, pc), v[i].pkts, v[i].records);
	}
	free(v);
}

void
wtr_summary_free(struct wtr_summary *s)
{
	if (s == NULL)
		return;
	free(s->tab);
	free(s);
}
