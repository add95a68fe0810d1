/* SPDX-License-Identifier: BSD-3-Clause */
/* test_report.c: wiretally-report's --join and --follow on trace and tap logs written here record
 * by record.
 *
 * The logs are written with lib/seglog's writer exactly as the agent and the
 * monitor write them, so every expected owner and byte count is known by
 * construction:
 *  - join: one 4-tuple in two namespaces at once (only the ISNs tell them
 *    apart), the same 4-tuple reused later (only the time does), a record
 *    whose ISNs match nobody, a tap that started mid-connection (the stream
 *    base after the ISN; once unambiguous, once ambiguous: left empty and
 *    counted), an unconnected UDP socket on the wildcard address, an
 *    IPv4-mapped IPv6 socket, ICMP, CSV quoting and JSON;
 *  - follow: the report started before the log exists; each connection
 *    printed once, after its close, with its bytes (3000 connections, so
 *    connections leave the table while others are added); records after a
 *    close still count; the ones open at SIGTERM printed last with an empty
 *    close_ns; the agent closing the log said.
 * $WIRETALLY_REPORT names the binary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wt_record.h"
#include "wt_seglog.h"
#include "wt_test.h"
#include "wta_events.h"

#define T0 1800000000000000000ull /* 2027-01-15, wall clock ns */
#define S  1000000000ull

static char tmpdir[64];

/* ---- writing the logs ---------------------------------------------------- */

static struct wt_seglog_writer *
writer(const char *dir)
{
	char err[256];
	struct wt_seglog_conf conf = {.dir = dir, .segment_size = 1 << 20, .run_id = 7};
	struct wt_seglog_writer *w = wt_seglog_open(&conf, err, sizeof(err));
	if (w == NULL)
		fprintf(stderr, "wt_seglog_open %s: %s\n", dir, err);
	return w;
}

struct ep {
	int family; /* 4, 6, or 0x46: IPv4-mapped in an AF_INET6 socket */
	const char *addr;
	uint16_t port;
};

static void
put_addr(uint8_t out[16], const struct ep *e)
{
	memset(out, 0, 16);
	if (e->family == 6) {
		inet_pton(AF_INET6, e->addr, out);
	} else if (e->family == 0x46) {
		out[10] = out[11] = 0xff;
		inet_pton(AF_INET, e->addr, out + 12);
	} else if (e->addr != NULL) {
		inet_pton(AF_INET, e->addr, out);
	}
}

struct owner {
	uint32_t pid;
	uint64_t start;
	const char *comm, *cgroup;
};

static void
put_open(struct wt_seglog_writer *w, uint64_t conn, int proto, struct ep l, struct ep r,
         uint32_t isn_l, uint32_t isn_r, uint32_t netns, struct owner o, uint64_t ts)
{
	struct {
		uint64_t seq;
		struct wta_open e;
		char cg[128];
	} rec;
	memset(&rec, 0, sizeof(rec));
	rec.e.ts_ns = ts;
	rec.e.conn = conn;
	rec.e.type = WTA_EV_OPEN;
	rec.e.family = l.family == 4 ? 2 : 10;
	rec.e.proto = (uint8_t)proto;
	rec.e.role = proto == 17 ? WTA_ROLE_UDP : WTA_ROLE_ACTIVE;
	rec.e.netns = netns;
	rec.e.lport = l.port;
	rec.e.rport = r.port;
	rec.e.isn_local = isn_l;
	rec.e.isn_remote = isn_r;
	put_addr(rec.e.laddr, &l);
	r.family = l.family;
	put_addr(rec.e.raddr, &r);
	rec.e.owner.pid = rec.e.owner.tid = o.pid;
	rec.e.owner.start_ns = o.start;
	snprintf(rec.e.owner.comm, sizeof(rec.e.owner.comm), "%s", o.comm);
	snprintf(rec.cg, sizeof(rec.cg), "%s", o.cgroup);
	CHECK(wt_seglog_append_typed(w, WTA_EV_OPEN, &rec,
	                             offsetof(__typeof__(rec), cg) + strlen(rec.cg) + 1,
	                             NULL) == 0);
}

static void
put_hot(struct wt_seglog_writer *w, unsigned int type, uint64_t conn, uint32_t bytes, uint64_t ts)
{
	struct {
		uint64_t seq, ts_ns, conn;
		uint32_t bytes, pid;
	} rec = {0, ts, conn, bytes, 1};
	CHECK(wt_seglog_append_typed(w, type, &rec, sizeof(rec), NULL) == 0);
}

static void
put_close(struct wt_seglog_writer *w, uint64_t conn, uint64_t cancelled, uint64_t ts)
{
	struct {
		uint64_t seq;
		struct wta_close e;
	} rec;
	memset(&rec, 0, sizeof(rec));
	rec.e.ts_ns = ts;
	rec.e.conn = conn;
	rec.e.type = WTA_EV_CLOSE;
	rec.e.cancelled = cancelled;
	snprintf(rec.e.ifname, sizeof(rec.e.ifname), "veth0");
	CHECK(wt_seglog_append_typed(w, WTA_EV_CLOSE, &rec, sizeof(rec), NULL) == 0);
}

/* A tap call record: a and b as given (the caller orders them), TCP with
 * the SYN of each side seen or not, stream bases. */
static void
put_call(struct wt_seglog_writer *w, int proto, struct ep a, struct ep b, uint64_t start,
         uint64_t end, int syn, uint32_t base_a, uint32_t base_b)
{
	struct wt_callrec rec;
	memset(&rec, 0, sizeof(rec));
	rec.call_id[0] = 1;
	rec.call_id[1] = start;
	rec.start_ns = start;
	rec.end_ns = end;
	rec.family = (uint8_t)(a.family == 6 ? 6 : 4);
	a.family = b.family = rec.family;
	put_addr(rec.addr_a, &a);
	put_addr(rec.addr_b, &b);
	rec.port_a = a.port;
	rec.port_b = b.port;
	rec.proto = (uint8_t)proto;
	rec.origin = WT_ORIGIN_B;
	rec.end_reason = WT_END_IDLE;
	rec.d[0].pkts = rec.d[1].pkts = 1;
	if (proto == 6) {
		rec.flags[0] = rec.flags[1] = (uint8_t)(WT_TCP_ACK | (syn ? WT_TCP_SYN : 0));
		rec.tcp_base[0] = base_a;
		rec.tcp_base[1] = base_b;
		rec.tcp_valid = WT_TCP_VALID | WT_TCP_BASE_A | WT_TCP_BASE_B;
	}
	CHECK(wt_seglog_append(w, &rec) == 0);
}

/* ---- running the report --------------------------------------------------- */

static const char *
report_bin(void)
{
	const char *p = getenv("WIRETALLY_REPORT");
	return p ? p : "wiretally-report";
}

/* Run the report with @args; its stdout into @out, its stderr into @err. */
static int
run_report(const char *const *args, char *out, size_t outlen, char *err, size_t errlen)
{
	char ofile[128], efile[128];
	snprintf(ofile, sizeof(ofile), "%s/out", tmpdir);
	snprintf(efile, sizeof(efile), "%s/err", tmpdir);
	pid_t pid = fork();
	if (pid == 0) {
		const char *argv[16] = {report_bin()};
		for (int i = 0; args[i]; i++)
			argv[i + 1] = args[i];
		int o = open(ofile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(efile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *f = fopen(ofile, "r");
	size_t n = f ? fread(out, 1, outlen - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	f = fopen(efile, "r");
	n = f ? fread(err, 1, errlen - 1, f) : 0;
	err[n] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The last six comma-separated columns of line @k (1 = the first record;
 * 0 = the header) of @out into @cols. */
static int
owners(const char *out, int k, char cols[6][64])
{
	const char *p = out;
	for (int i = 0; i < k && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (p == NULL || *p == '\0')
		return -1;
	const char *e = strchr(p, '\n');
	size_t len = e ? (size_t)(e - p) : strlen(p);
	char line[4096];
	if (len >= sizeof(line))
		return -1;
	memcpy(line, p, len);
	line[len] = '\0';
	/* the owner columns hold no commas here except a quoted cgroup */
	char *end = line + len;
	for (int c = 5; c >= 0; c--) {
		char *q = end - 1, *start;
		if (end > line && end[-1] == '"') {
			q = end - 2;
			while (q > line && *q != '"')
				q--;
			start = q;
			q--;
		} else {
			while (q >= line && *q != ',')
				q--;
			start = q + 1;
		}
		snprintf(cols[c], 64, "%.*s", (int)(end - start), start);
		end = q < line ? line : q;
		if (*end == ',')
			*end = '\0';
	}
	return 0;
}

#define CHECK_OWNERS(out, k, ap, ac, ag, bp, bc, bg)                                     \
	do {                                                                             \
		char _c[6][64];                                                          \
		CHECK(owners(out, k, _c) == 0);                                          \
		const char *_want[6] = {ap, ac, ag, bp, bc, bg};                         \
		for (int _i = 0; _i < 6; _i++) {                                         \
			if (strcmp(_c[_i], _want[_i]) != 0)                              \
				fprintf(stderr, "record %d, owner column %d:\n", k, _i); \
			CHECK_EQ_STR(_c[_i], _want[_i]);                                 \
		}                                                                        \
	} while (0)

/* ---- join ------------------------------------------------------------------- */

static void
test_join(void)
{
	char agent[96], tap[96];
	snprintf(agent, sizeof(agent), "%s/agent", tmpdir);
	snprintf(tap, sizeof(tap), "%s/tap", tmpdir);
	CHECK(mkdir(agent, 0700) == 0 && mkdir(tap, 0700) == 0);

	struct ep cli = {4, "10.0.0.1", 40000}, srv = {4, "10.0.0.2", 80};
	struct owner curl = {100, 11, "curl", "/user.slice/a"};
	struct owner nginx = {200, 22, "nginx", "/system.slice/nginx.service"};
	struct owner curl2 = {300, 33, "curl", "/machine/c2"}, nginx2 = {400, 44, "nginx", "/c,2"};
	struct owner late = {500, 55, "wget", ""}, dns = {600, 66, "unbound", "/dns"};
	struct owner mid = {700, 77, "ssh", "/s"}, mapped = {800, 88, "java", "/j"};

	struct wt_seglog_writer *w = writer(agent);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	/* 1, 2: one connection, both ends, namespaces 1 and 2 */
	put_open(w, 1, 6, cli, srv, 1000, 5000, 1, curl, T0 + 1 * S);
	put_open(w, 2, 6, srv, cli, 5000, 1000, 2, nginx, T0 + 1 * S);
	/* 3, 4: the same 4-tuple at the same time in two other namespaces */
	put_open(w, 3, 6, cli, srv, 7000, 9000, 3, curl2, T0 + 1 * S);
	put_open(w, 4, 6, srv, cli, 9000, 7000, 4, nginx2, T0 + 1 * S);
	put_hot(w, WTA_EV_SEND, 1, 100, T0 + 2 * S);
	put_close(w, 1, 0, T0 + 5 * S);
	put_close(w, 2, 0, T0 + 5 * S);
	put_close(w, 3, 0, T0 + 5 * S);
	put_close(w, 4, 0, T0 + 5 * S);
	/* 5: the client's 4-tuple again, 100 s later, with conn 1's ISNs */
	put_open(w, 5, 6, cli, srv, 1000, 5000, 1, late, T0 + 100 * S);
	put_close(w, 5, 0, T0 + 101 * S);
	/* 6: a client that the tap sees mid-connection */
	struct ep mcli = {6, "fd00::1", 50000}, msrv = {6, "fd00::2", 22};
	put_open(w, 6, 6, mcli, msrv, 0xfffffff0u, 3, 5, mid, T0 + 1 * S);
	/* 7: UDP on the wildcard address, not connected */
	put_open(w, 7, 17, (struct ep){4, NULL, 53}, (struct ep){4, NULL, 0}, 0, 0, 1, dns,
	         T0 + 1 * S);
	/* 8: an IPv4 connection on a dual-stack IPv6 socket */
	put_open(w, 8, 6, (struct ep){0x46, "10.0.0.2", 8080}, (struct ep){0x46, "10.0.0.1", 41000},
	         42, 43, 1, mapped, T0 + 1 * S);
	CHECK(wt_seglog_append_stats(w, "agent.lost=0\n", 13) == 0);
	CHECK(wt_seglog_close(w) == 0);

	w = writer(tap);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	/* a = the greater end (10.0.0.2:80) */
	put_call(w, 6, srv, cli, T0 + 1 * S, T0 + 4 * S, 1, 5001, 1001);     /* 1: conns 2, 1 */
	put_call(w, 6, srv, cli, T0 + 1 * S, T0 + 4 * S, 1, 9001, 7001);     /* 2: conns 4, 3 */
	put_call(w, 6, srv, cli, T0 + 100 * S, T0 + 101 * S, 1, 5001, 1001); /* 3: conn 5 */
	put_call(w, 6, srv, cli, T0 + 1 * S, T0 + 4 * S, 1, 1234, 1001); /* 4: ISN of a unknown */
	put_call(w, 6, srv, cli, T0 + 2 * S, T0 + 4 * S, 0, 9500, 7500); /* 5: mid, ambiguous */
	put_call(w, 6, msrv, mcli, T0 + 2 * S, T0 + 3 * S, 0, 100, 20);  /* 6: mid, conn 6 */
	put_call(w, 17, (struct ep){4, "10.0.0.9", 53}, (struct ep){4, "10.0.0.1", 5353}, T0 + S,
	         T0 + 2 * S, 0, 0, 0); /* 7: udp */
	put_call(w, 6, (struct ep){4, "10.0.0.2", 8080}, (struct ep){4, "10.0.0.1", 41000}, T0 + S,
	         T0 + 2 * S, 1, 43, 44);                                   /* 8: mapped */
	put_call(w, 1, srv, cli, T0 + S, T0 + 2 * S, 0, 0, 0);             /* 9: ICMP */
	put_call(w, 6, srv, cli, T0 + 50 * S, T0 + 51 * S, 1, 5001, 1001); /* 10: between */
	CHECK(wt_seglog_close(w) == 0);

	static char out[65536], err[4096];
	const char *args[] = {"--join", agent, tap, NULL};
	CHECK_EQ_U64(run_report(args, out, sizeof(out), err, sizeof(err)), 0);
	printf("%s%s", out, err);
	CHECK(strstr(out, ",a_pid,a_comm,a_cgroup,b_pid,b_comm,b_cgroup\n") != NULL);
	CHECK(strncmp(out, wt_callrec_csv_header, strlen(wt_callrec_csv_header)) == 0);
	CHECK_OWNERS(out, 1, "200", "nginx", "/system.slice/nginx.service", "100", "curl",
	             "/user.slice/a");
	CHECK_OWNERS(out, 2, "400", "nginx", "\"/c,2\"", "300", "curl", "/machine/c2");
	CHECK_OWNERS(out, 3, "", "", "", "500", "wget", "");
	CHECK_OWNERS(out, 4, "", "", "", "", "", "");
	CHECK_OWNERS(out, 5, "", "", "", "", "", "");
	CHECK_OWNERS(out, 6, "", "", "", "700", "ssh", "/s");
	CHECK_OWNERS(out, 7, "600", "unbound", "/dns", "", "", "");
	CHECK_OWNERS(out, 8, "800", "java", "/j", "", "", "");
	CHECK_OWNERS(out, 9, "", "", "", "", "", "");
	CHECK_OWNERS(out, 10, "", "", "", "", "", "");
	/* record 4: a's ISN matches nobody; b's fits conns 1 and 3 by ISN?
	 * no: 1001 is conn 1's (isn 1000) only, but conn 1's remote ISN
	 * (5000) disagrees with a's base 1234, so nothing */
	CHECK(strstr(err, "join: 10 call records: 2 with both owners, 4 with one, 4 with none (1 "
	                  "not TCP or UDP); 2 ends ambiguous (left empty)") != NULL);

	const char *jargs[] = {"--join",  agent,        "--format", "json",
	                       "--until", "1800000010", tap,        NULL};
	CHECK_EQ_U64(run_report(jargs, out, sizeof(out), err, sizeof(err)), 0);
	CHECK(strstr(out, "\"a_pid\":200,\"a_comm\":\"nginx\",\"a_cgroup\":\"/system.slice/"
	                  "nginx.service\",\"b_pid\":100,\"b_comm\":\"curl\",\"b_cgroup\":\"/user."
	                  "slice/a\"}\n") != NULL);
	CHECK(strstr(out, "\"a_pid\":null,\"a_comm\":null,\"a_cgroup\":null,\"b_pid\":500") ==
	      NULL); /* record 3 is after --until */
	CHECK(strstr(err, "join: 8 call records:") != NULL);

	/* bad uses: named, exit 2 */
	const char *bad1[] = {"--join", agent, NULL};
	CHECK_EQ_U64(run_report(bad1, out, sizeof(out), err, sizeof(err)), 2);
	CHECK(strstr(err, "no tap log directory") != NULL);
	const char *bad2[] = {"--join", agent, "--by", "process", tap, NULL};
	CHECK_EQ_U64(run_report(bad2, out, sizeof(out), err, sizeof(err)), 2);
	CHECK(strstr(err, "--join and --by cannot be combined") != NULL);
	const char *bad3[] = {"--join", agent, "--slack", "x", tap, NULL};
	CHECK_EQ_U64(run_report(bad3, out, sizeof(out), err, sizeof(err)), 2);
	CHECK(strstr(err, "--slack: 'x'") != NULL);
	/* the directories swapped: said */
	const char *swapped[] = {"--join", tap, agent, NULL};
	CHECK_EQ_U64(run_report(swapped, out, sizeof(out), err, sizeof(err)), 0);
	CHECK(strstr(err, "holds no call records but") != NULL);
}

/* ---- follow ----------------------------------------------------------------- */

#define NFOLLOW 3000

struct follower {
	pid_t pid;
	int fd;
	char buf[1 << 20];
	size_t len;
};

static void
start_follower(struct follower *f, const char *dir)
{
	int p[2];
	CHECK(pipe(p) == 0);
	f->pid = fork();
	if (f->pid == 0) {
		char efile[128];
		snprintf(efile, sizeof(efile), "%s/follow.err", tmpdir);
		int e = open(efile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(p[1], 1);
		dup2(e, 2);
		close(p[0]);
		execl(report_bin(), report_bin(), "--follow", dir, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f->fd = p[0];
	f->len = 0;
}

/* Read what the follower printed until @want appears or @ms pass. */
static int
wait_for(struct follower *f, const char *want, int ms)
{
	for (int waited = 0; waited <= ms; waited += 20) {
		f->buf[f->len] = '\0';
		if (strstr(f->buf, want) != NULL)
			return 1;
		struct pollfd pf = {f->fd, POLLIN, 0};
		if (poll(&pf, 1, 20) == 1) {
			ssize_t n = read(f->fd, f->buf + f->len, sizeof(f->buf) - 1 - f->len);
			if (n <= 0)
				return strstr(f->buf, want) != NULL;
			f->len += (size_t)n;
		}
	}
	f->buf[f->len] = '\0';
	return strstr(f->buf, want) != NULL;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * S + (uint64_t)ts.tv_nsec;
}

static void
test_follow(void)
{
	char dir[96];
	snprintf(dir, sizeof(dir), "%s/live", tmpdir);
	CHECK(mkdir(dir, 0700) == 0);
	static struct follower f;
	start_follower(&f, dir); /* before the log has a segment */
	usleep(300000);

	struct wt_seglog_writer *w = writer(dir);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	uint64_t t = now_ns();
	struct ep l = {4, "10.1.0.1", 0}, r = {4, "10.1.0.2", 443};
	struct owner o = {4242, 1, "client", "/f"};
	/* conn 1: open, bytes, close now: printed about 1 s later */
	l.port = 1;
	put_open(w, 1, 6, l, r, 1, 2, 9, o, t);
	put_hot(w, WTA_EV_SEND, 1, 1000, t);
	put_hot(w, WTA_EV_RECV, 1, 2000, t);
	put_close(w, 1, 5, t);
	/* conn 2: stays open */
	l.port = 2;
	put_open(w, 2, 6, l, r, 1, 2, 9, o, t);
	put_hot(w, WTA_EV_IND, 2, 77, t);
	CHECK(wt_seglog_flush(w) == 0);
	CHECK(wait_for(&f, "\n1,tcp,9,10.1.0.1,1,10.1.0.2,443,veth0,4242,client,0,/f,", 5000));
	CHECK(strstr(f.buf, ",1000,2000,0,0,5\n") != NULL);
	CHECK(strstr(f.buf, "\n2,tcp") == NULL);

	/* a late record of conn 1 inside its linger would count; conns 10..:
	 * opened and closed 1 ms apart in log time, 3 s in the past, so the
	 * table both grows and shrinks while they are read */
	uint64_t base = t - 3 * S;
	for (uint64_t i = 0; i < NFOLLOW; i++) {
		uint64_t id = 10 + i;
		l.port = (uint16_t)(1000 + i);
		put_open(w, id, 6, l, r, 1, 2, 9, o, base + i * 1000000);
		put_hot(w, WTA_EV_SEND, id, (uint32_t)(i + 1), base + i * 1000000);
		if (i % 10 != 9) /* every tenth stays open */
			put_close(w, id, 0, base + (i + 2) * 1000000);
	}
	CHECK(wt_seglog_flush(w) == 0);
	char last[64];
	snprintf(last, sizeof(last), "\n%d,tcp", 10 + NFOLLOW - 2);
	CHECK(wait_for(&f, last, 10000));
	CHECK(wt_seglog_append_stats(w, "agent.lost=3\n", 13) == 0);
	CHECK(wt_seglog_close(w) == 0);
	char efile[128], etext[4096] = "";
	snprintf(efile, sizeof(efile), "%s/follow.err", tmpdir);
	for (int i = 0; i < 100 && strstr(etext, "closed the log") == NULL; i++) {
		usleep(50000);
		FILE *ef = fopen(efile, "r");
		if (ef) {
			etext[fread(etext, 1, sizeof(etext) - 1, ef)] = '\0';
			fclose(ef);
		}
	}
	CHECK(strstr(etext, "wiretally-report: the agent closed the log") != NULL);
	kill(f.pid, SIGTERM);
	CHECK(wait_for(&f, "\n2,tcp", 5000));
	wait_for(&f, "never", 300); /* the rest */
	int st = 0;
	waitpid(f.pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	FILE *ef = fopen(efile, "r");
	if (ef) {
		etext[fread(etext, 1, sizeof(etext) - 1, ef)] = '\0';
		fclose(ef);
	}
	CHECK(strstr(etext, "lost 3 events") != NULL);

	/* every connection exactly once, with its bytes; the open ones last */
	static uint8_t seen[10 + NFOLLOW];
	int lines = 0, open_seen = 0, bad = 0;
	char *save = NULL;
	for (char *line = strtok_r(f.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "conn_id,", 8) == 0)
			continue;
		lines++;
		unsigned long long id = strtoull(line, NULL, 10);
		const char *close_ns = line;
		for (int c = 0; c < 13 && close_ns; c++) {
			close_ns = strchr(close_ns, ',');
			if (close_ns)
				close_ns++;
		}
		if (id >= 10 + NFOLLOW || close_ns == NULL) {
			bad++;
			continue;
		}
		seen[id]++;
		int is_open = *close_ns == ',';
		if (is_open)
			open_seen++;
		else if (open_seen)
			bad++; /* a closed one after the open ones */
		if (id >= 10) {
			char want[64];
			snprintf(want, sizeof(want), ",%llu,0,0,0,0", id - 10 + 1);
			if (strstr(line, want) == NULL || is_open != ((id - 10) % 10 == 9))
				bad++;
		}
	}
	CHECK_EQ_U64(lines, 2 + NFOLLOW);
	CHECK_EQ_U64(open_seen, 1 + NFOLLOW / 10);
	CHECK_EQ_U64(bad, 0);
	int dup = 0;
	for (int i = 0; i < 10 + NFOLLOW; i++)
		if ((i == 1 || i == 2 || i >= 10) ? seen[i] != 1 : seen[i] != 0)
			dup++;
	CHECK_EQ_U64(dup, 0);
	close(f.fd);

	/* follow with --by: named */
	static char out[4096], err[4096];
	const char *bad1[] = {"--follow", "--by", "process", dir, NULL};
	CHECK_EQ_U64(run_report(bad1, out, sizeof(out), err, sizeof(err)), 2);
	CHECK(strstr(err, "--follow prints the connections of one trace log") != NULL);
}

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wt-test-report-XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
cleanup(void)
{
	if (wt_test_failures == 0) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	} else {
		fprintf(stderr, "files kept in %s\n", tmpdir);
	}
}

WT_TEST_MAIN(WT_TEST(setup), WT_TEST(test_join), WT_TEST(test_follow), WT_TEST(cleanup))
