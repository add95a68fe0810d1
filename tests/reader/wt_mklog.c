/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_mklog.c: test helper that writes a log directory of known records for the CLI tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seglog_testutil.h"
#include "wt_seglog.h"

/* The columns of DESIGN.md section 3 (record version 2), and optionally two
 * more that no CSV shows: a_tcp_base, b_tcp_base (the streams' first bytes,
 * for the stitching tests). */
#define NCOLS      38
#define NCOLS_BASE 40

static int
fail(int line, const char *col, const char *val)
{
	fprintf(stderr, "wt_mklog: CSV line %d: bad %s '%s'\n", line, col, val);
	return -1;
}

static int
u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return s[0] == '\0' || *end != '\0' || errno ? -1 : 0;
}

static int
tcp_flags(const char *s, uint8_t *f)
{
	static const char letters[] = "FSRPAUEC";

	*f = 0;
	for (; *s; s++) {
		const char *p = strchr(letters, *s);
		if (p == NULL)
			return -1;
		*f |= (uint8_t)(1u << (p - letters));
	}
	return 0;
}

static int
mac(const char *s, uint8_t m[6])
{
	unsigned int b[6];

	memset(m, 0, 6);
	if (s[0] == '\0')
		return 0;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)b[i];
	return 0;
}

static int
word(const char *s, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

/* One side's columns (mac, pkts, bytes, ip_bytes, flags, first, last). */
static int
side(char **c, struct wt_callrec *r, int s, int line)
{
	struct wt_dirstats *d = &r->d[s];
	uint64_t first, last;

	if (mac(c[0], s ? r->mac_b : r->mac_a))
		return fail(line, "mac", c[0]);
	if (u64(c[1], &d->pkts) || u64(c[2], &d->bytes) || u64(c[3], &d->ip_bytes))
		return fail(line, "counter", c[1]);
	if (tcp_flags(c[4], &r->flags[s]))
		return fail(line, "flags", c[4]);
	if (c[5][0] == '\0' && c[6][0] == '\0')
		return 0;
	if (u64(c[5], &first) || u64(c[6], &last) || first > UINT32_MAX || last > UINT32_MAX)
		return fail(line, "first/last seq", c[5]);
	d->first_seq = (uint32_t)first;
	d->last_seq = (uint32_t)last;
	r->seq_valid |= (uint8_t)(s ? WT_SEQ_VALID_B : WT_SEQ_VALID_A);
	return 0;
}

/* The four TCP figures of one side (seq, acked, retx, missed): all empty, or
 * seq, retx and missed given (acked may be empty). */
static int
tcp_side(char **c, struct wt_callrec *r, int s, int line)
{
	struct wt_tcpstats *t = &r->t[s];

	if (c[0][0] == '\0' && c[1][0] == '\0' && c[2][0] == '\0' && c[3][0] == '\0')
		return 0;
	if (u64(c[0], &t->seq_bytes) || u64(c[2], &t->retx_bytes) || u64(c[3], &t->missed_bytes))
		return fail(line, "TCP figure", c[0]);
	r->tcp_valid |= WT_TCP_VALID;
	if (c[1][0] != '\0') {
		if (u64(c[1], &t->acked_bytes))
			return fail(line, "acked_bytes", c[1]);
		r->tcp_valid |= (uint8_t)(WT_TCP_ACKED_A << s);
	}
	return 0;
}

/* tunnel, tunnel_id, outer_a_addr, outer_b_addr. */
static int
tunnel_cols(char **c, struct wt_callrec *r, int line)
{
	static const char *const names[] = {"-",      "gre",  "ipip",  "vxlan",
	                                    "geneve", "gtpu", "teredo"};
	char *save = NULL, *ids = c[1];

	if (c[0][0] == '\0')
		return c[1][0] || c[2][0] || c[3][0] ? fail(line, "tunnel", c[1]) : 0;
	for (char *t = strtok_r(c[0], "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
		int k = word(t, names, 7);
		if (k < 1 || r->tun_depth == WT_TUNNEL_MAX_DEPTH)
			return fail(line, "tunnel", t);
		r->tun_type[r->tun_depth++] = (uint8_t)k;
	}
	for (unsigned int i = 0; ids[0] != '\0' && i < r->tun_depth; i++) {
		char *next = strchr(ids, '/'), *colon;
		uint64_t v;
		if (next != NULL)
			*next = '\0';
		if ((colon = strchr(ids, ':')) != NULL) {
			*colon = '\0';
			if (colon[1] != '\0') {
				if (u64(colon + 1, &v) || v > UINT32_MAX)
					return fail(line, "tunnel_id", colon + 1);
				r->tun_teid_b = (uint32_t)v;
				r->tun_idmask |= (uint8_t)(0x10u << i);
			}
		}
		if (ids[0] != '\0') {
			if (u64(ids, &v) || v > UINT32_MAX)
				return fail(line, "tunnel_id", ids);
			r->tun_id[i] = (uint32_t)v;
			r->tun_idmask |= (uint8_t)(1u << i);
		}
		if (next == NULL)
			break;
		ids = next + 1;
	}
	for (int i = 0; i < 2; i++) {
		if (c[2 + i][0] == '\0')
			continue;
		r->outer_family = strchr(c[2 + i], ':') ? 6 : 4;
		if (inet_pton(r->outer_family == 6 ? AF_INET6 : AF_INET, c[2 + i],
		              i ? r->outer_b : r->outer_a) != 1)
			return fail(line, "outer address", c[2 + i]);
		r->tun_flags |= i ? WT_TUN_OUTER_B : WT_TUN_OUTER_A;
	}
	return 0;
}

/* A CSV line of DESIGN.md section 3 (seq is ignored: the writer assigns it). */
static int
parse_csv(char *text, struct wt_callrec *r, int line)
{
	static const char *const origins[] = {"unknown", "a", "b"};
	static const char *const reasons[] = {"-", "idle", "active", "evicted", "shutdown"};
	char *c[NCOLS_BASE];
	uint64_t v;
	int n = 0;

	for (char *p = text;; p++) {
		if (n == NCOLS_BASE)
			return fail(line, "column count", text);
		c[n++] = p;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		*p = '\0';
	}
	if (n != NCOLS && n != NCOLS_BASE)
		return fail(line, "column count", c[0]);
	memset(r, 0, sizeof(*r));
	if (u64(c[1], &r->start_ns) || u64(c[2], &r->end_ns))
		return fail(line, "time", c[1]);
	static const char *const pnames[] = {"tcp", "udp", "icmp", "icmp6"};
	static const uint8_t pnums[] = {WT_IPPROTO_TCP, WT_IPPROTO_UDP, WT_IPPROTO_ICMP,
	                                WT_IPPROTO_ICMPV6};
	int p = word(c[3], pnames, 4);
	if (p >= 0)
		r->proto = pnums[p];
	else if (u64(c[3], &v) == 0 && v < 256)
		r->proto = (uint8_t)v;
	else
		return fail(line, "proto", c[3]);
	r->family = strchr(c[4], ':') ? 6 : 4;
	int af = r->family == 6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, c[4], r->addr_a) != 1 || inet_pton(af, c[6], r->addr_b) != 1)
		return fail(line, "address", c[4]);
	uint64_t pa, pb, vlan = 0;
	if (u64(c[5], &pa) || u64(c[7], &pb) || pa > 65535 || pb > 65535)
		return fail(line, "port", c[5]);
	r->port_a = (uint16_t)pa;
	r->port_b = (uint16_t)pb;
	int o = word(c[8], origins, 3);
	if (o < 0)
		return fail(line, "origin", c[8]);
	r->origin = (uint8_t)o;
	if (c[9][0] != '\0' && (u64(c[9], &vlan) || vlan > 4095))
		return fail(line, "vlan", c[9]);
	r->vlan = (uint16_t)vlan;
	if (side(c + 10, r, 0, line) || side(c + 17, r, 1, line))
		return -1;
	int e = word(c[24], reasons, 5);
	if (e < 1)
		return fail(line, "end_reason", c[24]);
	r->end_reason = (uint8_t)e;
	if (strlen(c[25]) != 32 ||
	    sscanf(c[25], "%16" SCNx64 "%16" SCNx64, &r->call_id[0], &r->call_id[1]) != 2)
		return fail(line, "call_id", c[25]);
	if (tcp_side(c + 26, r, 0, line) || tcp_side(c + 30, r, 1, line) ||
	    tunnel_cols(c + 34, r, line))
		return -1;
	for (int i = 0; n == NCOLS_BASE && i < 2; i++) {
		if (c[38 + i][0] == '\0')
			continue;
		if (u64(c[38 + i], &v) || v > UINT32_MAX)
			return fail(line, "tcp_base", c[38 + i]);
		r->tcp_base[i] = (uint32_t)v;
		r->tcp_valid |= (uint8_t)(WT_TCP_BASE_A << i);
	}
	return 0;
}

static int
append(struct wt_seglog_writer *w, struct wt_callrec *r, int trace)
{
	int rc;

	while ((rc = wt_seglog_append(w, r)) == -EAGAIN)
		usleep(1000);
	if (rc != 0) {
		fprintf(stderr, "wt_mklog: append: %s\n", strerror(-rc));
		return -1;
	}
	if (trace) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%" PRIu64 " %" PRIu64 "\n", r->seq,
		       (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
		fflush(stdout);
	}
	return 0;
}

/* wt_mklog DIR COUNT [SEGMENT_SIZE [MODE[,MODE...]]]
 * Appends COUNT records made by make_rec(k), k counting on from the log's
 * next seq. MODE "crash" exits without closing (the last segment stays
 * unsealed, a spool keeps what was not archived yet); "stats" appends a
 * stats frame before closing; "spool=SPOOL" writes in spool mode with the
 * spool directory SPOOL (appends refused while the archiver catches up are
 * retried); "csv=FILE" appends the records of FILE instead (CSV lines of
 * DESIGN.md section 3, a header line allowed, seq ignored; COUNT is then
 * ignored); "pace=MS" waits MS milliseconds before each record; "trace"
 * prints "SEQ TIME_NS" on stdout (flushed) once each record is committed. */
int
main(int argc, char **argv)
{
	char err[512], modes[512] = "";

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: wt_mklog DIR COUNT [SEGMENT_SIZE [MODE[,MODE...]]]\n");
		return 1;
	}
	if (argc > 4)
		snprintf(modes, sizeof(modes), "%s", argv[4]);
	int crash = 0, stats = 0, trace = 0;
	unsigned int pace_ms = 0;
	const char *spool = NULL, *csv = NULL;
	for (char *save = NULL, *m = strtok_r(modes, ",", &save); m != NULL;
	     m = strtok_r(NULL, ",", &save)) {
		if (strcmp(m, "crash") == 0)
			crash = 1;
		else if (strcmp(m, "stats") == 0)
			stats = 1;
		else if (strcmp(m, "trace") == 0)
			trace = 1;
		else if (strncmp(m, "spool=", 6) == 0)
			spool = m + 6;
		else if (strncmp(m, "csv=", 4) == 0)
			csv = m + 4;
		else if (strncmp(m, "pace=", 5) == 0)
			pace_ms = (unsigned int)strtoul(m + 5, NULL, 10);
	}
	struct wt_seglog_conf conf = {
	        .dir = argv[1],
	        .segment_size = argc > 3 ? strtoull(argv[3], NULL, 0) : 0,
	        .run_id = 0x1122334455667788ull,
	        .spool_dir = spool,
	};
	uint64_t n = strtoull(argv[2], NULL, 0);
	FILE *in = NULL;
	if (csv != NULL && (in = fopen(csv, "r")) == NULL) {
		fprintf(stderr, "wt_mklog: %s: %s\n", csv, strerror(errno));
		return 1;
	}
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, "wt_mklog: %s\n", err);
		return 1;
	}
	char text[2048];
	for (uint64_t i = 0, line = 1; in != NULL || i < n; i++, line++) {
		struct wt_callrec r;
		if (in != NULL) {
			if (fgets(text, sizeof(text), in) == NULL)
				break;
			text[strcspn(text, "\r\n")] = '\0';
			if (strncmp(text, "seq,", 4) == 0 || text[0] == '\0')
				continue;
			if (parse_csv(text, &r, (int)line) != 0)
				return 1;
		} else {
			make_rec(&r, wt_seglog_next_seq(w));
		}
		if (pace_ms)
			usleep(pace_ms * 1000u);
		if (append(w, &r, trace) != 0)
			return 1;
	}
	if (crash)
		_exit(0);
	if (stats) {
		static const char stext[] = "rx_packets=12345\nnot_ip=7\nrecords=42\n";
		if (wt_seglog_append_stats(w, stext, sizeof(stext) - 1) != 0)
			return 1;
	}
	int rc = wt_seglog_close(w);
	if (rc != 0) {
		fprintf(stderr, "wt_mklog: close: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
