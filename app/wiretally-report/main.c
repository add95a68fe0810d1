/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally-report: the host agent's trace log as volume per connection, process, service,
 * NIC or client; the tap's call records with their owners (--join); a live tail (--follow).
 *
 * How it works: trace.c turns the trace log's records into a table of
 * connections (open, owner, five byte counts, close); this file prints one
 * line per connection (DESIGN.md section 6, in open order) or per process,
 * service, NIC or client (--by); join.c gives each end of the tap's call
 * records its owner. --follow reads the log while the agent writes it and
 * prints each connection a second after its close record (later records of
 * it still count), the ones still open when it is stopped last.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "follow.h"
#include "report.h"
#include "wt_time.h"

enum { BY_CONN, BY_PROCESS, BY_SERVICE, BY_NIC, BY_CLIENT };

/* --follow: a closed connection is printed once the log is this far past
 * its close record (or the wall clock, when the log is quiet). */
#define FOLLOW_LINGER_NS 1000000000ull

static void
addr_text(const struct wta_open *o, const uint8_t *a, char *buf, size_t len)
{
	if (inet_ntop(o->family == 10 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
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
	wtrp_comm(c, comm);
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
				wtrp_json_str(v[i]);
		}
		puts("}");
		return;
	}
	for (size_t i = 0; i < NCOLS; i++) {
		if (i)
			putchar(',');
		wtrp_csv_str(v[i]);
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
		wtrp_comm(c, comm);
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
	        "usage: " PROG " [--by process|service|nic|client] [--format csv|json]\n"
	        "       [--since T] [--until T] [--follow] DIR...\n"
	        "       " PROG
	        " --join AGENTDIR [--join AGENTDIR...] [--slack SEC] [--format ...]\n"
	        "       [--since T] [--until T] TAPDIR...\n"
	        "Volume per connection from wiretally-agent's trace logs (docs/AGENT.md):\n"
	        "conn_id,proto,netns,local_addr,local_port,remote_addr,remote_port,ifname,pid,"
	        "comm,\n"
	        "uid,cgroup,open_ns,close_ns,sent_bytes,received_bytes,indicated_bytes,\n"
	        "retransmitted_bytes,cancelled_bytes\n"
	        "      --by WHAT          totals instead: per process (pid,comm,uid,cgroup), "
	        "service\n"
	        "                         (proto,local_port), nic (local_addr,ifname) or client\n"
	        "                         (remote_addr), then connections and the five byte\n"
	        "                         columns\n"
	        "      --join AGENTDIR    print the call records of the monitor's logs TAPDIR\n"
	        "                         (wiretally-read's columns) with a_pid,a_comm,a_cgroup,\n"
	        "                         b_pid,b_comm,b_cgroup: each end's owner from the trace\n"
	        "                         log AGENTDIR (repeat for agents on several hosts),\n"
	        "                         matched by 4-tuple, initial sequence numbers and time\n"
	        "      --slack SEC        --join: how far the tap's times may lie outside a\n"
	        "                         connection's open..close (default 2; clock skew)\n"
	        "      --follow           read the trace log DIR while the agent writes it: each\n"
	        "                         connection 1 s after it closed, the open ones at\n"
	        "                         SIGINT/SIGTERM\n"
	        "      --format csv|json  output (default csv, with a header line)\n"
	        "      --since T, --until T  connections (call records with --join) active at\n"
	        "                         some time in [T, T] (ns since the epoch, or seconds\n"
	        "                         with a fraction)\n"
	        "  -h, --help             this help\n"
	        "Exit status: 0, 1 (a log could not be read), 2 (usage or damaged log).\n");
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
print_header(void)
{
	for (size_t i = 0; i < NCOLS; i++)
		printf("%s%s", i ? "," : "", conn_cols[i]);
	putchar('\n');
}

static int
in_range(const struct conn *c, uint64_t since, uint64_t until)
{
	uint64_t end = c->close_ns ? c->close_ns : UINT64_MAX;
	return end >= since && c->open_ns <= until;
}

/* ---- --follow ------------------------------------------------------------- */

struct closed_q { /* ids of closed connections, in close order */
	uint64_t *id;
	size_t head, n, cap;
};

static void
q_push(struct closed_q *q, uint64_t id)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 256;
		uint64_t *x = malloc(nc * sizeof(*x));
		if (x == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(1);
		}
		for (size_t i = 0; i < q->n; i++)
			x[i] = q->id[(q->head + i) % q->cap];
		free(q->id);
		q->id = x;
		q->head = 0;
		q->cap = nc;
	}
	q->id[(q->head + q->n++) % q->cap] = id;
}

/* Print and forget the connections closed at least FOLLOW_LINGER_NS
 * before @now_ns. */
static void
q_drain(struct closed_q *q, struct report *r, uint64_t now_ns, int json, uint64_t since,
        uint64_t until)
{
	while (q->n > 0) {
		struct conn *c = wtrp_find(&r->t, q->id[q->head]);
		if (c != NULL && c->close_ns + FOLLOW_LINGER_NS > now_ns)
			return;
		q->head = (q->head + 1) % q->cap;
		q->n--;
		if (c == NULL)
			continue;
		if (in_range(c, since, until))
			print_conn(c, json);
		wtrp_remove(&r->t, c);
	}
}

static int
follow(struct report *r, const char *dir, int json, uint64_t since, uint64_t until)
{
	int worst = 0;
	char err[512];
	const char *paths[1] = {dir};
	struct wt_seglog_reader_conf rc = {.paths = paths,
	                                   .npaths = 1,
	                                   .problem = wtrp_problem,
	                                   .problem_arg = &worst,
	                                   .follow = 1};
	struct wt_seglog_reader *rd = wt_seglog_reader_open(&rc, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	struct wtr_follow fw = {.prog = PROG, .writer = "the agent"};
	struct closed_q q = {0};
	struct wt_seglog_frame f;

	wtr_follow_signals();
	if (!json)
		print_header();
	for (;;) {
		while (!wtr_follow_stopped() && wt_seglog_reader_next(rd, &f) == 1) {
			if (f.type == WT_SEGLOG_FRAME_STATS)
				wtr_follow_stats_frame(&fw, &f);
			struct conn *c = wtrp_frame(r, &f);
			if (c != NULL && f.type == WTA_EV_CLOSE)
				q_push(&q, c->id);
			q_drain(&q, r, r->newest_ns, json, since, until);
			if (wtr_follow_flush_due(&fw))
				fflush(stdout);
		}
		if (wtr_follow_stopped())
			break;
		q_drain(&q, r, wt_real_ns(), json, since, until);
		fflush(stdout);
		wtr_follow_idle(&fw, rd, 0);
	}
	wt_seglog_reader_close(rd);
	q_drain(&q, r, UINT64_MAX, json, since, until);
	qsort(r->t.c, r->t.n, sizeof(*r->t.c), by_open);
	for (size_t i = 0; i < r->t.n; i++) /* still open */
		if (in_range(&r->t.c[i], since, until))
			print_conn(&r->t.c[i], json);
	fflush(stdout);
	free(q.id);
	return worst;
}

#define MAX_JOIN 64

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"format", required_argument, 0, 'f'},
	                                   {"by", required_argument, 0, 'b'},
	                                   {"since", required_argument, 0, 's'},
	                                   {"until", required_argument, 0, 'u'},
	                                   {"join", required_argument, 0, 'j'},
	                                   {"slack", required_argument, 0, 'k'},
	                                   {"follow", no_argument, 0, 'F'},
	                                   {"help", no_argument, 0, 'h'},
	                                   {0, 0, 0, 0}};
	int json = 0, c, worst = 0, by = BY_CONN, follow_mode = 0;
	uint64_t since = 0, until = UINT64_MAX, slack_ns = 2000000000ull;
	const char *join[MAX_JOIN];
	size_t njoin = 0;

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
		case 'j':
			if (njoin == MAX_JOIN) {
				fprintf(stderr, PROG ": --join: at most %d trace logs\n", MAX_JOIN);
				return 2;
			}
			join[njoin++] = optarg;
			break;
		case 'k': {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || end == optarg || *end || d < 0 || d > 86400) {
				fprintf(stderr,
				        PROG ": --slack: '%s' is not a number of seconds (0 to "
				             "86400)\n",
				        optarg);
				return 2;
			}
			slack_ns = (uint64_t)(d * 1e9);
			break;
		}
		case 'F':
			follow_mode = 1;
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
		fprintf(stderr, njoin ? PROG ": --join: no tap log directory given (see --help)\n"
		                      : PROG ": no trace log directory given (see --help)\n");
		return 2;
	}
	if (njoin && by != BY_CONN) {
		fprintf(stderr, PROG ": --join and --by cannot be combined (--by totals a trace "
		                     "log; --join prints call records)\n");
		return 2;
	}
	if (follow_mode && (njoin || by != BY_CONN || argc - optind != 1)) {
		fprintf(stderr, PROG ": --follow prints the connections of one trace log as they "
		                     "close: not with --by, --join or several directories\n");
		return 2;
	}

	struct report r;
	memset(&r, 0, sizeof(r));
	if (follow_mode) {
		worst = follow(&r, argv[optind], json, since, until);
		wtrp_say_incomplete(&r);
		wtrp_free(&r);
		return worst;
	}
	if (njoin) {
		for (size_t k = 0; k < njoin; k++)
			if (wtrp_load(&r, &join[k], 1, &worst) != 0) {
				wtrp_free(&r);
				return 1;
			}
		int rc = wtrp_join(&r, (const char *const *)argv + optind, (size_t)(argc - optind),
		                   json, since, until, slack_ns);
		wtrp_say_incomplete(&r);
		wtrp_free(&r);
		return rc > worst ? rc : worst;
	}
	if (wtrp_load(&r, (const char *const *)argv + optind, (size_t)(argc - optind), &worst) !=
	    0) {
		wtrp_free(&r);
		return 1;
	}
	qsort(r.t.c, r.t.n, sizeof(*r.t.c), by_open);
	if (by != BY_CONN) {
		print_groups(&r.t, by, json, since, until);
	} else {
		if (!json)
			print_header();
		for (size_t i = 0; i < r.t.n; i++)
			if (in_range(&r.t.c[i], since, until))
				print_conn(&r.t.c[i], json);
	}
	wtrp_say_incomplete(&r);
	wtrp_free(&r);
	return worst;
}
