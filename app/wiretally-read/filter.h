/* SPDX-License-Identifier: BSD-3-Clause */
/* filter.h: which records wiretally-read prints (--since, --until, --proto, --host, --port, --net,
 * --seq). */
#ifndef WTR_FILTER_H
#define WTR_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rfc3339.h"

#include "wt_record.h"

/* An address or a network of one family (4 or 6); for an address len is
 * the full length (32 or 128). addr is in network order, IPv4 in bytes 0-3,
 * the rest zero, as in struct wt_callrec. */
struct wtr_net {
	uint8_t family;
	uint8_t len;
	uint8_t addr[16];
};

/*
 * The matching rule (docs/READER.md, "Filters"): every kind of filter given
 * must match (AND); several values of one kind match when any of them does
 * (OR). A record matches
 *   --since T   when end_ns >= T,
 *   --until T   when start_ns < T (so its [start_ns, end_ns] overlaps
 *               [since, until)),
 *   --proto P   when its protocol is P,
 *   --host A    when a_addr or b_addr is A,
 *   --port N    when a_port or b_port is N (0 for protocols without ports),
 *   --net C     when a_addr or b_addr is in the network C,
 *   --seq R     when its seq is in the range R (N, N-M or N-).
 */
struct wtr_filter {
	bool have_since, have_until;
	uint64_t since_ns, until_ns;
	bool any_proto;
	bool proto[256];
	struct wtr_net *hosts; /* len = full length */
	size_t nhosts;
	uint16_t *ports;
	size_t nports;
	struct wtr_net *nets;
	size_t nnets;
	struct wtr_seqrange {
		uint64_t first, last;
	} * seqs;
	size_t nseqs;
};

/* Which filter option a value is for. */
enum wtr_filter_kind {
	WTR_FILTER_SINCE,
	WTR_FILTER_UNTIL,
	WTR_FILTER_PROTO,
	WTR_FILTER_HOST,
	WTR_FILTER_PORT,
	WTR_FILTER_NET,
	WTR_FILTER_SEQ,
};

/**
 * Add @value of option @kind to @f.
 * @return 0, or -1 after a one-line message on stderr naming the option and
 * the value ("wiretally-read: --port '70000': ...").
 */
int wtr_filter_add(struct wtr_filter *f, enum wtr_filter_kind kind, const char *value);

/** Checks across options (--since after --until); 0 or -1 after a message. */
int wtr_filter_finish(const struct wtr_filter *f);

/** true when no filter was given (every record matches). */
bool wtr_filter_empty(const struct wtr_filter *f);

/** true when @r passes every filter of @f. */
bool wtr_filter_match(const struct wtr_filter *f, const struct wt_callrec *r);

void wtr_filter_free(struct wtr_filter *f);

#endif /* WTR_FILTER_H */
