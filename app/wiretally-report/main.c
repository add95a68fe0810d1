/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally-report: the host agent's trace log as volume per connection, process, service,
 * NIC or client.
 *
 * How it works: every typed record of the trace log (docs/AGENT.md "Trace
 * log") is read in log order; an open record starts a connection (its
 * 4-tuple, namespace, owner), an owner record replaces its owner, the hot
 * records add to its five byte counts, a close record ends it. Then one line
 * per connection (DESIGN.md section 6, in open order), or per process,
 * service, NIC or client (--by). Records of a connection whose open record
 * the log does not have (written before the agent's first segment kept, or
 * lost) are counted and said, never guessed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wt_seglog.h"
#include "wta_events.h"

#define PROG "wiretally-report"

enum { BY_CONN, BY_PROCESS, BY_SERVICE, BY_NIC, BY_CLIENT };

struct conn {
	uint64_t id;
	uint64_t open_ns, close_ns; /* close 0: still open at the end of the log */
	struct wta_open o;          /* the last open/owner record */
	char cgroup[256];
	char ifname[16];
	uint64_t sent, received, indicated, retx, cancelled;
	int udp;
};

struct table {
	struct conn *c;
	size_t n, cap;
	size_t *slot; /* open addressing by id: index + 1 */
	size_t nslot;
};

static struct conn *
find(struct table *t, uint64_t id)
{
	if (t->nslot == 0)
		return NULL;
	for (size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (t->nslot - 1);;
	     i = (i + 1) & (t->nslot - 1)) {
		if (t->slot[i] == 0)
			return NULL;
		if (t->c[t->slot[i] - 1].id == id)
			return &t->c[t->slot[i] - 1];
	}
}

static struct conn *
add(struct table *t, uint64_t id)
{
	if (t->n + 1 > t->nslot / 2) {
		size_t ns = t->nslot ? t->nslot * 2 : 1024;
		size_t *slot = calloc(ns, sizeof(*slot));
		if (slot == NULL)
			return NULL;
		for (size_t k = 0; k < t->n; k++) {
			size_t i = (size_t)(t->c[k].id * 0x9e3779b97f4a7c15ull) & (ns - 1);
			while (slot[i] != 0)
				i = (i + 1) & (ns - 1);
			slot[i] = k + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->nslot = ns;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 1024;
		struct conn *c = realloc(t->c, nc * sizeof(*c));
		if (c == NULL)
			return NULL;
		t->c = c;
		t->cap = nc;
	}
	struct conn *c = &t->c[t->n];
	memset(c, 0, sizeof(*c));
	c->id = id;
	size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull) & (t->nslot - 1);
	while (t->slot[i] != 0)
		i = (i + 1) & (t->nslot - 1);
	t->slot[i] = ++t->n;
	return c;
}

/* Record payloads (after the seq): docs/AGENT.md. */
struct rec_hot {
	uint64_t seq, ts_ns, conn;
	uint32_t bytes, pid;
};

struct report {
	struct table t;
	uint64_t orphans; /* records of connections without an open record */
	uint64_t lost;    /* the agent's own count (stats frames) */
	int have_stats;
};

static void
on_stats(struct report *r, const char *text, size_t len)
{
	const char *key = "agent.lost=";
	for (const char *p = text; p < text + len;) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		if (l > strlen(key) && memcmp(p, key, strlen(key)) == 0) {
			r->lost += strtoull(p + strlen(key), NULL, 10);
			r->have_stats = 1;
		}
		p += l + 1;
	}
}

static void
on_record(struct report *r, const struct wt_seglog_frame *f)
{
	const uint8_t *p = f->payload;

	switch (f->type) {
	case WTA_EV_OPEN:
	case WTA_EV_OWNER: {
		struct wta_open o;
		if (f->len < 8 + sizeof(o))
			return;
		memcpy(&o, p + 8, sizeof(o));
		struct conn *c = find(&r->t, o.conn);
		if (c == NULL) {
			if (f->type == WTA_EV_OWNER) {
				r->orphans++;
				return;
			}
			c = add(&r->t, o.conn);
			if (c == NULL) {
				fprintf(stderr, PROG ": out of memory\n");
				exit(1);
			}
			c->open_ns = o.ts_ns;
			c->udp = o.proto == 17;
		}
		c->o = o;
		size_t n = f->len - 8 - sizeof(o);
		if (n >= sizeof(c->cgroup))
			n = sizeof(c->cgroup) - 1;
		memcpy(c->cgroup, p + 8 + sizeof(o), n);
		c->cgroup[n] = '\0';
		return;
	}
	case WTA_EV_CLOSE: {
		struct wta_close e;
		if (f->len < 8 + sizeof(e))
			return;
		memcpy(&e, p + 8, sizeof(e));
		struct conn *c = find(&r->t, e.conn);
		if (c == NULL) {
			r->orphans++;
			return;
		}
		c->close_ns = e.ts_ns;
		c->cancelled += e.cancelled;
		memcpy(c->ifname, e.ifname, sizeof(c->ifname));
		c->ifname[sizeof(c->ifname) - 1] = '\0';
		return;
	}
	default:
		break;
	}
	struct rec_hot h;
	if (f->type < WTA_EV_FIRST || f->type > WTA_EV_LAST || f->len < sizeof(h))
		return;
	memcpy(&h, p, sizeof(h));
	struct conn *c = find(&r->t, h.conn);
	if (c == NULL) {
		r->orphans++;
		return;
	}
	switch (f->type) {
	case WTA_EV_SEND:
	case WTA_EV_UDP_SEND:
		c->sent += h.bytes;
		break;
	case WTA_EV_RECV:
	case WTA_EV_UDP_RECV:
		c->received += h.bytes;
		break;
	case WTA_EV_IND:
		c->indicated += h.bytes;
		break;
	case WTA_EV_RETX:
		c->retx += h.bytes;
		break;
	default:
		break;
	}
}

/* ---- output ---------------------------------------------------------------- */

static void
addr_text(const struct wta_open *o, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(o->family == 10 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

/* CSV field: quoted when it holds a comma, quote or newline. */
static void
csv_str(const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *const conn_cols[] = {"conn_id",
                                        "proto",
                                        "netns",
                                        "local_addr",
                                        "local_port",
                                        "remote_addr",
                                        "remote_port",
                                        "ifname",
                                        "pid",
                                        "comm",
                                        "uid",
                                        "cgroup",
                                        "open_ns",
                                        "close_ns",
                                        "sent_bytes",
                                        "received_bytes",
                                        "indicated_bytes",
                                        "retransmitted_bytes",
                                        "cancelled_bytes"};
#define NCOLS (sizeof(conn_cols) / sizeof(conn_cols[0]))

static void
print_conn(const struct conn *c, int json)
{
	char la[64], ra[64], v[NCOLS][300];
	char comm[17];

	addr_text(&c->o, c->o.laddr, la, sizeof(la));
	addr_text(&c->o, c->o.raddr, ra, sizeof(ra));
	memcpy(comm, c->o.owner.comm, 16);
	comm[16] = '\0';
	snprintf(v[0], sizeof(v[0]), "%" PRIu64, c->id);
	snprintf(v[1], sizeof(v[1]), "%s", c->udp ? "udp" : "tcp");
	snprintf(v[2], sizeof(v[2]), "%u", c->o.netns);
	snprintf(v[3], sizeof(v[3]), "%s", la);
	snprintf(v[4], sizeof(v[4]), "%u", c->o.lport);
	snprintf(v[5], sizeof(v[5]), "%s", ra);
	snprintf(v[6], sizeof(v[6]), "%u", c->o.rport);
	snprintf(v[7], sizeof(v[7]), "%s", c->ifname);
	snprintf(v[8], sizeof(v[8]), "%u", c->o.owner.pid);
	snprintf(v[9], sizeof(v[9]), "%s", comm);
	snprintf(v[10], sizeof(v[10]), "%u", c->o.owner.uid);
	snprintf(v[11], sizeof(v[11]), "%s", c->cgroup);
	snprintf(v[12], sizeof(v[12]), "%" PRIu64, c->open_ns);
	if (c->close_ns)
		snprintf(v[13], sizeof(v[13]), "%" PRIu64, c->close_ns);
	else
		v[13][0] = '\0';
	snprintf(v[14], sizeof(v[14]), "%" PRIu64, c->sent);
	snprintf(v[15], sizeof(v[15]), "%" PRIu64, c->received);
	if (c->udp)
		v[16][0] = '\0'; /* UDP: no indicate */
	else
		snprintf(v[16], sizeof(v[16]), "%" PRIu64, c->indicated);
	snprintf(v[17], sizeof(v[17]), "%" PRIu64, c->retx);
	snprintf(v[18], sizeof(v[18]), "%" PRIu64, c->cancelled);
	if (json) {
		putchar('{');
		for (size_t i = 0; i < NCOLS; i++) {
			int num = i == 0 || i == 2 || i == 4 || i == 6 || i == 8 || i == 10 ||
			          (i >= 12 && v[i][0] != '\0');
			printf("%s\"%s\":", i ? "," : "", conn_cols[i]);
			if (v[i][0] == '\0' && (i == 13 || i == 16))
				fputs("null", stdout);
			else if (num)
				fputs(v[i], stdout);
			else
				json_str(v[i]);
		}
		puts("}");
		return;
	}
	for (size_t i = 0; i < NCOLS; i++) {
		if (i)
			putchar(',');
		csv_str(v[i]);
	}
	putchar('\n');
}

/* ---- totals (--by) ------------------------------------------------------- */

static const char *const by_names[] = {"", "process", "service", "nic", "client"};
static const char *const by_cols[] = {"", "pid,comm,uid,cgroup", "proto,local_port",
                                      "local_addr,ifname", "remote_addr"};

struct group {
	char key[400]; /* the leading columns, CSV-rendered: also the sort key */
	char json[600];
	uint64_t conns, sent, received, indicated, retx, cancelled;
};

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct group *)a)->key, ((const struct group *)b)->key);
}

/* The leading columns of @c's group under @by, as CSV and as JSON members. */
static void
group_key(const struct conn *c, int by, char *csv, size_t clen, char *js, size_t jlen)
{
	char a[64], comm[17];

	switch (by) {
	case BY_PROCESS:
		memcpy(comm, c->o.owner.comm, 16);
		comm[16] = '\0';
		/* one process = (pid, start time): a reused pid is another */
		snprintf(csv, clen, "%u,%s,%u,%s\t%" PRIu64, c->o.owner.pid, comm, c->o.owner.uid,
		         c->cgroup, (uint64_t)c->o.owner.start_ns);
		snprintf(js, jlen, "\"pid\":%u,\"comm\":\"%s\",\"uid\":%u,\"cgroup\":\"%s\"",
		         c->o.owner.pid, comm, c->o.owner.uid, c->cgroup);
		break;
	case BY_SERVICE:
		snprintf(csv, clen, "%s,%u", c->udp ? "udp" : "tcp", c->o.lport);
		snprintf(js, jlen, "\"proto\":\"%s\",\"local_port\":%u", c->udp ? "udp" : "tcp",
		         c->o.lport);
		break;
	case BY_NIC:
		addr_text(&c->o, c->o.laddr, a, sizeof(a));
		snprintf(csv, clen, "%s,%s", a, c->ifname);
		snprintf(js, jlen, "\"local_addr\":\"%s\",\"ifname\":\"%s\"", a, c->ifname);
		break;
	default:
		addr_text(&c->o, c->o.raddr, a, sizeof(a));
		snprintf(csv, clen, "%s", a);
		snprintf(js, jlen, "\"remote_addr\":\"%s\"", a);
		break;
	}
}

static void
print_groups(const struct table *t, int by, int json, uint64_t since, uint64_t until)
{
	struct group *g = calloc(t->n ? t->n : 1, sizeof(*g));
	size_t n = 0;

	if (g == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct conn *c = &t->c[i];
		uint64_t end = c->close_ns ? c->close_ns : UINT64_MAX;
		if (end < since || c->open_ns > until)
			continue;
		struct group *x = &g[n++];
		group_key(c, by, x->key, sizeof(x->key), x->json, sizeof(x->json));
		x->conns = 1;
		x->sent = c->sent;
		x->received = c->received;
		x->indicated = c->indicated;
		x->retx = c->retx;
		x->cancelled = c->cancelled;
	}
	qsort(g, n, sizeof(*g), by_key);
	if (!json)
		printf("%s,connections,sent_bytes,received_bytes,indicated_bytes,"
		       "retransmitted_bytes,cancelled_bytes\n",
		       by_cols[by]);
	for (size_t i = 0; i < n;) {
		struct group sum = g[i];
		size_t j = i + 1;
		for (; j < n && strcmp(g[j].key, g[i].key) == 0; j++) {
			sum.conns++;
			sum.sent += g[j].sent;
			sum.received += g[j].received;
			sum.indicated += g[j].indicated;
			sum.retx += g[j].retx;
			sum.cancelled += g[j].cancelled;
		}
		sum.key[strcspn(sum.key, "\t")] = '\0'; /* the start time only sorted */
		if (json)
			printf("{%s,\"connections\":%" PRIu64 ",\"sent_bytes\":%" PRIu64
			       ",\"received_bytes\":%" PRIu64 ",\"indicated_bytes\":%" PRIu64
			       ",\"retransmitted_bytes\":%" PRIu64 ",\"cancelled_bytes\":%" PRIu64
			       "}\n",
			       sum.json, sum.conns, sum.sent, sum.received, sum.indicated, sum.retx,
			       sum.cancelled);
		else
			printf("%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			       ",%" PRIu64 "\n",
			       sum.key, sum.conns, sum.sent, sum.received, sum.indicated, sum.retx,
			       sum.cancelled);
		i = j;
	}
	free(g);
}

static int
by_open(const void *a, const void *b)
{
	const struct conn *x = a, *y = b;
	if (x->open_ns != y->open_ns)
		return x->open_ns < y->open_ns ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: " PROG
	        " [--by process|service|nic|client] [--format csv|json] [--since T]\n"
	        "       [--until T] DIR...\n"
	        "Volume per connection from wiretally-agent's trace logs (docs/AGENT.md):\n"
	        "conn_id,proto,netns,local_addr,local_port,remote_addr,remote_port,ifname,pid,comm,"
	        "\n"
	        "uid,cgroup,open_ns,close_ns,sent_bytes,received_bytes,indicated_bytes,\n"
	        "retransmitted_bytes,cancelled_bytes\n"
	        "      --by WHAT          totals instead: per process (pid,comm,uid,cgroup), "
	        "service\n"
	        "                         (proto,local_port), nic (local_addr,ifname) or client\n"
	        "                         (remote_addr), then connections and the five byte\n"
	        "                         columns\n"
	        "      --format csv|json  output (default csv, with a header line)\n"
	        "      --since T, --until T  connections open at some time in [T, T] (ns since\n"
	        "                         the epoch, or seconds with a fraction)\n"
	        "  -h, --help             this help\n"
	        "Exit status: 0, 1 (a trace log could not be read), 2 (usage or damaged log).\n");
}

static int
parse_time(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || d < 0)
		return -1;
	*out = d < 1e12 ? (uint64_t)(d * 1e9) : (uint64_t)d;
	return 0;
}

static void
on_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t off, const char *msg)
{
	int *worst = arg;
	fprintf(stderr, PROG ": %s: offset %" PRIu64 ": %s\n", path, off, msg);
	int cls = p == WT_SEGLOG_PROBLEM_IO || p == WT_SEGLOG_PROBLEM_VERSION ? 1 : 2;
	if (cls > *worst)
		*worst = cls;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	        {"format", required_argument, 0, 'f'}, {"by", required_argument, 0, 'b'},
	        {"since", required_argument, 0, 's'},  {"until", required_argument, 0, 'u'},
	        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
	int json = 0, c, worst = 0, by = BY_CONN;
	uint64_t since = 0, until = UINT64_MAX;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "csv") && strcmp(optarg, "json")) {
				fprintf(stderr, PROG ": --format: '%s' is not csv or json\n",
				        optarg);
				return 2;
			}
			json = optarg[0] == 'j';
			break;
		case 'b':
			for (int k = BY_PROCESS; k <= BY_CLIENT; k++)
				if (strcmp(optarg, by_names[k]) == 0)
					by = k;
			if (by == BY_CONN) {
				fprintf(stderr,
				        PROG
				        ": --by: '%s' is not process, service, nic or client\n",
				        optarg);
				return 2;
			}
			break;
		case 's':
		case 'u':
			if (parse_time(optarg, c == 's' ? &since : &until) != 0) {
				fprintf(stderr,
				        PROG
				        ": --%s: '%s' is not a time (ns or s since the epoch)\n",
				        c == 's' ? "since" : "until", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, PROG ": option %s needs a value (see --help)\n",
			        argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option %s (see --help)\n",
			        argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no trace log directory given (see --help)\n");
		return 2;
	}
	struct report r;
	memset(&r, 0, sizeof(r));
	char err[512];
	struct wt_seglog_reader_conf rc = {.paths = (const char *const *)argv + optind,
	                                   .npaths = (size_t)(argc - optind),
	                                   .problem = on_problem,
	                                   .problem_arg = &worst};
	struct wt_seglog_reader *rd = wt_seglog_reader_open(&rc, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	struct wt_seglog_frame f;
	while (wt_seglog_reader_next(rd, &f) == 1) {
		if (f.type == WT_SEGLOG_FRAME_STATS)
			on_stats(&r, f.payload, f.len);
		else
			on_record(&r, &f);
	}
	wt_seglog_reader_close(rd);

	qsort(r.t.c, r.t.n, sizeof(*r.t.c), by_open);
	if (by != BY_CONN) {
		print_groups(&r.t, by, json, since, until);
		goto said;
	}
	if (!json) {
		for (size_t i = 0; i < NCOLS; i++)
			printf("%s%s", i ? "," : "", conn_cols[i]);
		putchar('\n');
	}
	for (size_t i = 0; i < r.t.n; i++) {
		const struct conn *x = &r.t.c[i];
		uint64_t end = x->close_ns ? x->close_ns : UINT64_MAX;
		if (end < since || x->open_ns > until)
			continue;
		print_conn(x, json);
	}
said:
	if (r.lost)
		fprintf(stderr,
		        PROG ": the agent lost %" PRIu64 " events (its ring buffer or its log was "
		             "full): these totals are incomplete\n",
		        r.lost);
	if (r.orphans)
		fprintf(stderr,
		        PROG ": %" PRIu64
		             " records of connections whose open record the log does not "
		             "have (not counted)\n",
		        r.orphans);
	return worst;
}
