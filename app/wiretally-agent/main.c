/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally-agent: loads the BPF programs, turns their events into a trace log, counts
 * loss.
 *
 * How it works: the programs (bpf/wta.bpf.c) attach to tracepoints and put
 * events into one BPF ring buffer; this loop takes them out, turns each into
 * a typed record of the trace log (lib/seglog, docs/FORMAT.md 5.7, the
 * layouts in docs/AGENT.md) and appends it. Times become wall-clock ns; an
 * open event gets its cgroup's path. At SIGINT/SIGTERM or --duration the
 * ring is drained, the kernel's counters (events the ring could not take,
 * sockets a full map could not track) and the loop's own (records the log
 * could not take) are stored in a stats frame and printed, and the log is
 * sealed. A kill -9 loses what was still in the ring, nothing written.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/types.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "wt_seglog.h"
#include "logq.h"
#include "rings.h"
#include "wta.skel.h"
#include "wta_events.h"
#include "wt_time.h"

#define PROG "wiretally-agent"

/* ---- options ------------------------------------------------------------ */

struct opts {
	const char *output;
	const char *config;
	double duration;   /* 0: until a signal */
	uint64_t ring;     /* ring buffer bytes */
	uint64_t seg_size; /* segment bytes */
	uint32_t netns;    /* --netns: the namespace's inode; 0 = all */
	int quiet;
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: " PROG " -o DIR [--duration SEC] [--config FILE] [-q]\n"
	        "Trace every TCP and UDP socket of the host (all network namespaces) with eBPF on\n"
	        "tracepoints into a trace log in DIR until SIGINT/SIGTERM or --duration, then "
	        "print\n"
	        "a summary whose line starting with \"lost\" gives the events lost "
	        "(docs/AGENT.md).\n"
	        "  -o, --output DIR       trace log directory (must exist; required)\n"
	        "      --duration SEC     stop after SEC seconds (0: at SIGINT/SIGTERM; default "
	        "0)\n"
	        "  -c, --config FILE      read options from FILE's [wiretally-agent] section\n"
	        "                         (keys: output, duration, ring-size, segment-size,\n"
	        "                         netns, quiet); the command line wins\n"
	        "      --ring-size BYTES  the BPF ring buffer of each CPU (a power of 2, 64K..1G,\n"
	        "                         K/M/G suffixes; default 4M)\n"
	        "      --segment-size BYTES  trace log segment size (default 64M)\n"
	        "      --netns PATH       trace only the sockets of one network namespace\n"
	        "                         (/run/netns/NAME, /proc/PID/ns/net; default: all)\n"
	        "  -q, --quiet            no start-up line and no summary\n"
	        "  -h, --help             this help\n"
	        "  -V, --version          the version\n"
	        "Needs root, a kernel with BTF and the tracepoints sock:inet_sock_set_state,\n"
	        "sock:sock_send_length, sock:sock_recv_length, sock:sk_data_ready, tcp:tcp_probe,\n"
	        "tcp:tcp_retransmit_skb, tcp:tcp_destroy_sock (Linux 6.3 and later).\n");
}

static int
parse_size(const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -1;
	switch (*end) {
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'G':
		n <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* One option (long name without dashes) = value; @where names it in errors. */
static int
apply(struct opts *o, const char *key, const char *val, const char *where)
{
	char *end;
	if (strcmp(key, "output") == 0) {
		o->output = strdup(val);
	} else if (strcmp(key, "duration") == 0) {
		errno = 0;
		o->duration = strtod(val, &end);
		if (errno || end == val || *end || o->duration < 0 || o->duration > 31536000) {
			fprintf(stderr,
			        PROG
			        ": %s: duration '%s' is not a number of seconds (0 to 31536000)\n",
			        where, val);
			return -1;
		}
	} else if (strcmp(key, "ring-size") == 0) {
		if (parse_size(val, &o->ring) != 0 || o->ring < (64u << 10) ||
		    o->ring > (1u << 30) || (o->ring & (o->ring - 1)) != 0) {
			fprintf(stderr,
			        PROG ": %s: ring-size '%s' is not a power of 2 from 64K to 1G\n",
			        where, val);
			return -1;
		}
	} else if (strcmp(key, "segment-size") == 0) {
		if (parse_size(val, &o->seg_size) != 0 ||
		    o->seg_size < WT_SEGLOG_MIN_SEGMENT_SIZE || o->seg_size % 4096 != 0) {
			fprintf(stderr,
			        PROG ": %s: segment-size '%s' is not a multiple of 4096 of at "
			             "least 64K\n",
			        where, val);
			return -1;
		}
	} else if (strcmp(key, "netns") == 0) {
		struct stat st;
		if (stat(val, &st) != 0) {
			fprintf(stderr, PROG ": %s: netns '%s': %s\n", where, val, strerror(errno));
			return -1;
		}
		if (st.st_ino == 0 || st.st_ino > UINT32_MAX) {
			fprintf(stderr, PROG ": %s: netns '%s' is not a network namespace file\n",
			        where, val);
			return -1;
		}
		o->netns = (uint32_t)st.st_ino;
	} else if (strcmp(key, "quiet") == 0) {
		o->quiet =
		        strcmp(val, "0") != 0 && strcmp(val, "off") != 0 && strcmp(val, "no") != 0;
	} else {
		fprintf(stderr, PROG ": %s: unknown option '%s' (see --help)\n", where, key);
		return -1;
	}
	return 0;
}

/* The [wiretally-agent] section of an INI file; keys given on the command
 * line (@cli) are left as they are. */
static int
read_config(struct opts *o, const char *path, const char *const *cli)
{
	FILE *f = fopen(path, "r");
	char line[1024], where[1200];
	int in = 0, n = 0;

	if (f == NULL) {
		fprintf(stderr, PROG ": --config %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		char *s = line + strspn(line, " \t");
		s[strcspn(s, "\r\n")] = '\0';
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			in = strcmp(s, "[wiretally-agent]") == 0;
			continue;
		}
		if (!in)
			continue;
		char *eq = strchr(s, '=');
		snprintf(where, sizeof(where), "config %s line %d", path, n);
		if (eq == NULL) {
			fprintf(stderr, PROG ": %s: expected key = value\n", where);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		char *k = s, *v = eq + 1;
		k[strcspn(k, " \t")] = '\0';
		v += strspn(v, " \t");
		v[strcspn(v, " \t")] = '\0';
		int given = 0;
		for (const char *const *c = cli; *c != NULL; c++)
			given |= strcmp(*c, k) == 0;
		if (!given && apply(o, k, v, where) != 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {{"output", required_argument, 0, 'o'},
	                                   {"duration", required_argument, 0, 'd'},
	                                   {"config", required_argument, 0, 'c'},
	                                   {"ring-size", required_argument, 0, 'r'},
	                                   {"segment-size", required_argument, 0, 's'},
	                                   {"netns", required_argument, 0, 'n'},
	                                   {"quiet", no_argument, 0, 'q'},
	                                   {"help", no_argument, 0, 'h'},
	                                   {"version", no_argument, 0, 'V'},
	                                   {0, 0, 0, 0}};
	const char *cli[10] = {0};
	int ncli = 0, c;

	memset(o, 0, sizeof(*o));
	o->ring = 4u << 20;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:c:qhV", lo, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 'o':
			key = "output";
			break;
		case 'd':
			key = "duration";
			break;
		case 'r':
			key = "ring-size";
			break;
		case 's':
			key = "segment-size";
			break;
		case 'n':
			key = "netns";
			break;
		case 'q':
			o->quiet = 1;
			cli[ncli++] = "quiet";
			continue;
		case 'c':
			o->config = optarg;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " %s\n", WT_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, PROG ": option %s needs a value (see --help)\n",
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option %s (see --help)\n",
			        argv[optind - 1]);
			return -1;
		}
		char where[64];
		snprintf(where, sizeof(where), "--%s", key);
		if (apply(o, key, optarg, where) != 0)
			return -1;
		if (ncli < 9)
			cli[ncli++] = key;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return -1;
	}
	if (o->config != NULL && read_config(o, o->config, cli) != 0)
		return -1;
	if (o->output == NULL) {
		fprintf(stderr, PROG ": no trace log directory: give -o DIR (see --help)\n");
		return -1;
	}
	return 0;
}

/* ---- the kernel side ------------------------------------------------------- */

static char bpf_last_msg[512];

static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(bpf_last_msg, sizeof(bpf_last_msg), fmt, ap);
	bpf_last_msg[strcspn(bpf_last_msg, "\n")] = '\0';
	return 0;
}

static const char *const tracepoints[] = {
        "sock/inet_sock_set_state", "sock/sock_send_length", "sock/sock_recv_length",
        "sock/sk_data_ready",       "tcp/tcp_probe",         "tcp/tcp_retransmit_skb",
        "tcp/tcp_destroy_sock",
};

/* Root, BTF, tracefs (mounted here when it is not) and every tracepoint:
 * one line naming what is missing. */
static int
preflight(void)
{
	char path[256];
	struct stat st;

	if (geteuid() != 0) {
		fprintf(stderr, PROG ": needs root (to load and attach BPF programs); uid %u\n",
		        (unsigned int)geteuid());
		return -1;
	}
	if (stat("/sys/kernel/btf/vmlinux", &st) != 0) {
		fprintf(stderr,
		        PROG ": the kernel has no BTF (/sys/kernel/btf/vmlinux: %s): "
		             "CONFIG_DEBUG_INFO_BTF is needed\n",
		        strerror(errno));
		return -1;
	}
	if (stat("/sys/kernel/tracing/events", &st) != 0 &&
	    mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0) {
		fprintf(stderr,
		        PROG ": tracefs is not mounted at /sys/kernel/tracing and cannot be "
		             "mounted there: %s\n",
		        strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s", tracepoints[i]);
		if (stat(path, &st) != 0) {
			fprintf(stderr, PROG ": the kernel lacks the tracepoint %s (%s)\n",
			        tracepoints[i], path);
			return -1;
		}
	}
	return 0;
}

/* ---- cgroup paths --------------------------------------------------------- */

/* cgroup v2 id -> path: the id is the kernfs inode number of the cgroup's
 * directory. A small cache filled by walking /sys/fs/cgroup on a miss (at
 * most once a second: a cgroup gone before its first event stays unnamed). */
#define CG_SLOTS 4096
static struct {
	uint64_t id;
	char *path;
} cg_cache[CG_SLOTS];
static time_t cg_walked;

static void
cg_put(uint64_t id, const char *path)
{
	for (unsigned int i = 0; i < CG_SLOTS; i++) {
		unsigned int k = (unsigned int)((id + i) % CG_SLOTS);
		if (cg_cache[k].path == NULL || cg_cache[k].id == id) {
			if (cg_cache[k].path == NULL)
				cg_cache[k].path = strdup(path);
			cg_cache[k].id = id;
			return;
		}
	}
}

static int
cg_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D) {
		const char *rel = path + strlen("/sys/fs/cgroup");
		cg_put((uint64_t)st->st_ino, *rel ? rel : "/");
	}
	return 0;
}

static const char *
cg_path(uint64_t id)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < CG_SLOTS; i++) {
			unsigned int k = (unsigned int)((id + i) % CG_SLOTS);
			if (cg_cache[k].path == NULL)
				break;
			if (cg_cache[k].id == id)
				return cg_cache[k].path;
		}
		time_t now = time(NULL);
		if (pass == 1 || now == cg_walked)
			break;
		cg_walked = now;
		nftw("/sys/fs/cgroup", cg_visit, 16, FTW_PHYS | FTW_MOUNT);
	}
	return "";
}

/* ---- events to records ----------------------------------------------------- */

struct agent {
	struct wt_seglog_writer *log;
	int64_t mono_to_real; /* add to a bpf_ktime_get_ns() time */
	uint64_t events[WTA_EV_LAST + 1];
	uint64_t bytes[WTA_EV_LAST + 1];
	struct wta_logq *q; /* to the log's writer thread */
	uint64_t log_lost;  /* events the log could not take (disk full, I/O error, queue full) */
	char log_err[256];
};

/* Record layouts in the log (docs/AGENT.md "Trace log"): the seq first
 * (the hot one: struct wta_rec_hot, wta_events.h). */
struct rec_open {
	uint64_t seq;
	struct wta_open e;     /* ts_ns in wall-clock ns */
	char cgroup_path[256]; /* NUL-terminated; the record ends after the NUL */
};

struct rec_close {
	uint64_t seq;
	struct wta_close e;
};

/* Records may wait for the log writer thread up to this many bytes (a
 * segment roll's fsync; 256 MiB = about 5 s of a 1 M events/s flood). */
#define WTA_LOGQ_MAX (256ull << 20)

static void
append(struct agent *a, unsigned int type, const void *rec, size_t len)
{
	wta_logq_put(a->q, type, rec, len);
}

/* One event, in time order (rings.c), into the trace log. */
static void
store(void *ctx, const void *data, size_t len)
{
	struct agent *a = ctx;
	const struct wta_head *h = data;

	if (len < sizeof(*h) || h->type < WTA_EV_FIRST || h->type > WTA_EV_LAST)
		return;
	a->events[h->type]++;
	uint64_t ts = h->ts_ns + (uint64_t)a->mono_to_real;
	switch (h->type) {
	case WTA_EV_OPEN:
	case WTA_EV_OWNER: {
		struct rec_open r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.e, data, sizeof(r.e));
		r.e.ts_ns = ts;
		snprintf(r.cgroup_path, sizeof(r.cgroup_path), "%s", cg_path(r.e.owner.cgroup_id));
		append(a, h->type, &r,
		       offsetof(struct rec_open, cgroup_path) + strlen(r.cgroup_path) + 1);
		break;
	}
	case WTA_EV_CLOSE: {
		struct rec_close r = {.e = *(const struct wta_close *)data};
		r.e.ts_ns = ts;
		a->bytes[h->type] += r.e.cancelled;
		append(a, h->type, &r, sizeof(r));
		break;
	}
	default: {
		const struct wta_hot *e = data;
		struct wta_rec_hot r = {
		        .ts_ns = ts, .conn = e->conn, .bytes = e->bytes, .pid = e->pid};
		a->bytes[h->type] += e->bytes;
		append(a, h->type, &r, sizeof(r));
		break;
	}
	}
}

static const char *const ev_names[WTA_EV_LAST + 1] = {
        [WTA_EV_OPEN] = "open",
        [WTA_EV_OWNER] = "owner",
        [WTA_EV_SEND] = "send",
        [WTA_EV_RETX] = "retransmit",
        [WTA_EV_IND] = "indicate",
        [WTA_EV_RECV] = "receive",
        [WTA_EV_CLOSE] = "close",
        [WTA_EV_UDP_SEND] = "udp_send",
        [WTA_EV_UDP_RECV] = "udp_receive",
};

static void
read_counters(struct wta *skel, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*v));

	for (uint32_t i = 0; i < WTA_CNT_MAX; i++) {
		out[i] = 0;
		if (v != NULL && bpf_map__lookup_elem(skel->maps.counters, &i, sizeof(i), v,
		                                      sizeof(*v) * (size_t)ncpu, 0) == 0)
			for (int c = 0; c < ncpu; c++)
				out[i] += v[c];
	}
	free(v);
}

/* A CLOSE record for every UDP socket still in the map (there is no UDP
 * close tracepoint); @return how many. */
static uint64_t
close_udp(struct agent *a, struct wta *skel)
{
	struct bpf_map *m = skel->maps.udp_socks;
	uint64_t key, next, n = 0, now = wt_real_ns();
	struct {
		uint64_t conn, ino;
		uint32_t pid, reserved;
	} v;
	int more = bpf_map__get_next_key(m, NULL, &next, sizeof(next)) == 0;

	while (more) {
		key = next;
		more = bpf_map__get_next_key(m, &key, &next, sizeof(next)) == 0;
		if (bpf_map__lookup_elem(m, &key, sizeof(key), &v, sizeof(v), 0) != 0)
			continue;
		struct rec_close r;
		memset(&r, 0, sizeof(r));
		r.e.ts_ns = now;
		r.e.conn = v.conn;
		r.e.type = WTA_EV_CLOSE;
		r.e.pid = v.pid;
		append(a, WTA_EV_CLOSE, &r, sizeof(r));
		n++;
	}
	return n;
}

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct agent a;
	char err[512];
	int rc = 1;
	struct wta_rings *rings = NULL;

	if (parse_opts(&o, argc, argv) != 0)
		return 2;
	if (preflight() != 0)
		return 3;
	memset(&a, 0, sizeof(a));
	libbpf_set_print(libbpf_print);

	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, PROG ": cannot tell the number of CPUs: %s\n", strerror(-ncpu));
		return 3;
	}
	struct wta *skel = wta__open();
	if (skel == NULL) {
		fprintf(stderr, PROG ": cannot open the BPF object: %s\n", bpf_last_msg);
		return 3;
	}
	rings = wta_rings_open(ncpu, o.ring, store, &a, err, sizeof(err));
	if (rings == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.rings, (uint32_t)ncpu);
	bpf_map__set_inner_map_fd(skel->maps.rings, wta_rings_template_fd(rings));
	skel->rodata->only_netns = o.netns;
	/* every CPU wakes the agent after its (mask + 1)-th event: before an
	 * eighth of its ring holds events (48 bytes each at most) */
	uint64_t per_cpu = o.ring / 8 / 48, mask = 1;
	while (mask * 2 <= per_cpu)
		mask *= 2;
	skel->rodata->wakeup_mask = mask - 1;
	if (wta__load(skel) != 0) {
		fprintf(stderr, PROG ": cannot load the BPF programs and maps: %s\n", bpf_last_msg);
		goto out;
	}
	/* Connection ids unique across runs on one log: start from the time. */
	uint32_t zero = 0;
	uint64_t first_id = wt_real_ns() / 1000u * 1000u;
	bpf_map__update_elem(skel->maps.next_conn, &zero, sizeof(zero), &first_id, sizeof(first_id),
	                     0);
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj)
	{
		if (bpf_program__attach(prog) == NULL) {
			fprintf(stderr, PROG ": cannot attach %s (%s): %s\n",
			        bpf_program__name(prog), bpf_program__section_name(prog),
			        bpf_last_msg);
			goto out;
		}
	}
	uint64_t run_id;
	if (getrandom(&run_id, sizeof(run_id), 0) != sizeof(run_id))
		run_id = wt_real_ns();
	struct wt_seglog_conf lc = {.dir = o.output, .segment_size = o.seg_size, .run_id = run_id};
	a.log = wt_seglog_open(&lc, err, sizeof(err));
	if (a.log == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	if (wta_rings_attach(rings, bpf_map__fd(skel->maps.rings), err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	a.q = wta_logq_start(a.log, WTA_LOGQ_MAX, err, sizeof(err));
	if (a.q == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!o.quiet)
		fprintf(stderr,
		        PROG ": tracing TCP and UDP into %s (ring %" PRIu64
		             " KiB); next seq %" PRIu64 "\n",
		        o.output, o.ring >> 10, wt_seglog_next_seq(a.log));
	uint64_t t0 = wt_mono_ns();
	while (!stop) {
		a.mono_to_real = (int64_t)(wt_real_ns() - wt_mono_ns());
		int n = wta_rings_poll(rings, WTA_POLL_MS);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, PROG ": ring buffer: %s\n", strerror(-n));
			break;
		}
		if (o.duration > 0 && (double)(wt_mono_ns() - t0) / 1e9 >= o.duration)
			break;
		if (n > 0)
			wta_logq_flush(a.q);
	}
	/* Detach first (no new events), then take what is left. */
	wta__detach(skel);
	wta_rings_drain(rings);

	uint64_t cnt[WTA_CNT_MAX];
	read_counters(skel, cnt);
	uint64_t udp_left = close_udp(&a, skel);
	struct wta_logq_stats lq;
	wta_logq_stop(a.q, &lq);
	a.q = NULL;
	a.log_lost = lq.lost;
	uint64_t udp_evicted = cnt[WTA_CNT_UDP_OPENED] - cnt[WTA_CNT_UDP_REUSED] - udp_left;
	uint64_t lost = cnt[WTA_CNT_RB_FULL] + a.log_lost;
	char stats[2048];
	int len = 0;
	for (unsigned int t = WTA_EV_FIRST; t <= WTA_EV_LAST; t++)
		len += snprintf(stats + len, sizeof(stats) - (size_t)len,
		                "agent.events.%s=%" PRIu64 "\nagent.bytes.%s=%" PRIu64 "\n",
		                ev_names[t], a.events[t], ev_names[t], a.bytes[t]);
	len += snprintf(stats + len, sizeof(stats) - (size_t)len,
	                "agent.lost=%" PRIu64 "\nagent.lost.ring_full=%" PRIu64
	                "\nagent.lost.log=%" PRIu64 "\nagent.untracked_calls=%" PRIu64
	                "\nagent.conn_map_full=%" PRIu64 "\nagent.listen_map_full=%" PRIu64
	                "\nagent.sends_merged=%" PRIu64 "\nagent.kernel_events=%" PRIu64
	                "\nagent.udp_opened=%" PRIu64 "\nagent.udp_reused=%" PRIu64
	                "\nagent.udp_evicted=%" PRIu64 "\nagent.netns=%" PRIu32 "\n",
	                lost, cnt[WTA_CNT_RB_FULL], a.log_lost, cnt[WTA_CNT_UNTRACKED],
	                cnt[WTA_CNT_CONN_FULL], cnt[WTA_CNT_LISTEN_FULL], cnt[WTA_CNT_FIFO_MERGED],
	                cnt[WTA_CNT_EVENTS], cnt[WTA_CNT_UDP_OPENED], cnt[WTA_CNT_UDP_REUSED],
	                udp_evicted, o.netns);
	if (wt_seglog_append_stats(a.log, stats, (size_t)len) != 0)
		fprintf(stderr, PROG ": cannot store the counters in the trace log\n");
	int crc = wt_seglog_close(a.log);
	a.log = NULL;
	if (crc != 0)
		fprintf(stderr, PROG ": closing the trace log: %s\n", strerror(-crc));
	if (!o.quiet) {
		fprintf(stderr, PROG ": summary\n");
		for (unsigned int t = WTA_EV_FIRST; t <= WTA_EV_LAST; t++)
			fprintf(stderr, "  %-12s %12" PRIu64 " events %16" PRIu64 " bytes\n",
			        ev_names[t], a.events[t], a.bytes[t]);
		fprintf(stderr,
		        "lost %" PRIu64 " events (%" PRIu64
		        " the ring buffer could not take, %" PRIu64 " the log could not take)%s\n",
		        lost, cnt[WTA_CNT_RB_FULL], a.log_lost,
		        lost ? ": the reports of this period are incomplete" : "");
		fprintf(stderr,
		        "  not tracked: %" PRIu64
		        " calls on sockets opened before the agent, %" PRIu64
		        " connections (map full), %" PRIu64 " listeners (map full); %" PRIu64
		        " sends merged (queue full)\n",
		        cnt[WTA_CNT_UNTRACKED], cnt[WTA_CNT_CONN_FULL], cnt[WTA_CNT_LISTEN_FULL],
		        cnt[WTA_CNT_FIFO_MERGED]);
		fprintf(stderr,
		        "  UDP sockets: %" PRIu64 " seen, %" PRIu64 " closed at exit, %" PRIu64
		        " left the map idle (LRU), %" PRIu64 " replaced (memory reused)\n",
		        cnt[WTA_CNT_UDP_OPENED], udp_left, udp_evicted, cnt[WTA_CNT_UDP_REUSED]);
	}
	rc = crc == 0 ? 0 : 1;
out:
	if (a.q != NULL) {
		struct wta_logq_stats ignored;
		wta_logq_stop(a.q, &ignored);
	}
	wta_rings_close(rings);
	if (a.log != NULL)
		wt_seglog_close(a.log);
	wta__destroy(skel);
	return rc;
}
