/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_ipfix_export.c: the IPFIX exporting process: UDP, TCP (replay window, reconnect) and files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */

#include "wt_ipfix_export.h"
#include "wt_time.h"

#define NS_PER_MS       1000000ull
#define NS_PER_S        1000000000ull
#define SAY_EVERY_NS    (60 * NS_PER_S) /* repeated troubles: at most one line a minute */
#define CONNECT_WAIT_MS 1000            /* one connection attempt from add()/flush() */

/* A record taken on a TCP exporter, kept until the collector's TCP has
 * acknowledged the end of its message. */
struct replay_ent {
	struct wt_callrec rec;
	uint64_t end_off; /* stream offset just past its message; UINT64_MAX: message not
	                   * finished yet */
};

struct wt_ipfix_exporter {
	enum wt_ipfix_transport tr;
	char name[300];
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t domain;
	uint64_t refresh_ns;
	size_t max_msg;
	wt_ipfix_say_fn say;
	void *say_arg;

	/* the message being built */
	uint8_t *mbuf;
	struct wt_ipfix_msg m;
	int building;
	/* the finished message being sent */
	uint8_t *obuf;
	size_t olen, opos;
	uint32_t orecords;
	int otemplates;
	/* session */
	uint32_t seq; /* data records in the messages finished in this session */
	uint64_t last_tpl_ns;
	uint32_t msgs_since_tpl;
	unsigned int tpl_due;   /* template groups to send (WT_IPFIX_TPL_GROUP_*) */
	unsigned int tpl_known; /* template groups sent in this session */

	/* TCP */
	int connected;
	uint64_t stream_off; /* bytes of finished messages on this connection */
	struct replay_ent *ring;
	uint32_t cap, head, n; /* oldest at head */
	struct wt_callrec *resend;
	uint32_t n_resend, pos_resend;
	uint64_t next_connect_ns;
	uint32_t backoff_ms;
	uint64_t down_since_ns, said_down_ns, failures_since_said;
	/* UDP */
	uint64_t said_refused_ns, lost_since_said;

	struct wt_ipfix_exporter_stats st;
};

static void say(struct wt_ipfix_exporter *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
say(struct wt_ipfix_exporter *x, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (x->say == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	x->say(x->say_arg, line);
}

/* ---- URL ---------------------------------------------------------------- */

int
wt_ipfix_url_parse(const char *url, struct wt_ipfix_url *u, char *err, size_t errlen)
{
	const char *p;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "udp://", 6) == 0) {
		u->transport = WT_IPFIX_UDP;
	} else if (strncmp(url, "tcp://", 6) == 0) {
		u->transport = WT_IPFIX_TCP;
	} else {
		snprintf(err, errlen,
		         "IPFIX collector '%s': give udp://HOST:PORT or tcp://HOST:PORT (IPv6: "
		         "udp://[ADDR]:PORT)",
		         url);
		return -EINVAL;
	}
	p = url + 6;
	const char *port = NULL;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (end == NULL) {
			snprintf(err, errlen, "IPFIX collector '%s': no ']' after the IPv6 address",
			         url);
			return -EINVAL;
		}
		hl = (size_t)(end - p - 1);
		p++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			snprintf(err, errlen,
			         "IPFIX collector '%s': unexpected text after the address", url);
			return -EINVAL;
		}
	} else {
		const char *colon = strchr(p, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen,
			         "IPFIX collector '%s': an IPv6 address goes in brackets, e.g. "
			         "udp://[::1]:4739",
			         url);
			return -EINVAL;
		}
		hl = colon ? (size_t)(colon - p) : strlen(p);
		port = colon ? colon + 1 : NULL;
	}
	if (hl == 0 || hl >= sizeof(u->host)) {
		snprintf(err, errlen, "IPFIX collector '%s': %s host", url,
		         hl == 0 ? "no" : "too long a");
		return -EINVAL;
	}
	memcpy(u->host, p, hl);
	u->host[hl] = '\0';
	if (port == NULL) {
		snprintf(u->port, sizeof(u->port), "%s", WT_IPFIX_DEFAULT_PORT);
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long v = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || v == 0 || v > 65535) {
		snprintf(err, errlen, "IPFIX collector '%s': '%s' is not a port (1-65535)", url,
		         port);
		return -EINVAL;
	}
	snprintf(u->port, sizeof(u->port), "%lu", v);
	return 0;
}

/* ---- open / close --------------------------------------------------------- */

static int
resolve(struct wt_ipfix_exporter *x, const struct wt_ipfix_url *u, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = u->transport == WT_IPFIX_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	int rc = getaddrinfo(u->host, u->port, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides ::1 on a host without a global IPv6
		 * address: try again without it. */
		hints.ai_flags = 0;
		rc = getaddrinfo(u->host, u->port, &hints, &res);
	}
	if (rc != 0) {
		snprintf(err, errlen, "IPFIX collector %s: cannot resolve '%s': %s", x->name,
		         u->host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
	x->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
make_socket(struct wt_ipfix_exporter *x, int type)
{
	int fd = socket(x->addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (type == SOCK_DGRAM) {
		int sz = 1 << 20; /* absorb bursts of messages */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	} else {
		int one = 1; /* a message goes out when it is complete */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

struct wt_ipfix_exporter *
wt_ipfix_exporter_open(const struct wt_ipfix_exporter_conf *conf, char *err, size_t errlen)
{
	struct wt_ipfix_exporter *x = calloc(1, sizeof(*x));
	struct wt_ipfix_url u;
	char dummy[8];
	int e = ENOMEM; /* errno of the failure */

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (x == NULL) {
		snprintf(err, errlen, "IPFIX exporter: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	x->fd = -1;
	x->domain = conf->domain;
	x->refresh_ns = (uint64_t)((conf->template_refresh > 0 ? conf->template_refresh
	                                                       : WT_IPFIX_DEFAULT_REFRESH_S) *
	                           1e9);
	x->say = conf->say;
	x->say_arg = conf->say_arg;
	/* the tunnel templates only once a tunnelled record comes */
	x->tpl_due = WT_IPFIX_TPL_GROUP_PLAIN;
	if (conf->url == NULL) {
		x->tr = WT_IPFIX_FILE;
		x->fd = conf->fd;
		x->max_msg = WT_IPFIX_FILE_MSG;
		snprintf(x->name, sizeof(x->name), "-");
	} else {
		e = EINVAL;
		if (wt_ipfix_url_parse(conf->url, &u, err, errlen) != 0)
			goto fail;
		x->tr = u.transport;
		snprintf(x->name, sizeof(x->name), "%s", conf->url);
		int rc = resolve(x, &u, err, errlen);
		if (rc != 0) {
			e = -rc;
			goto fail;
		}
		if (x->tr == WT_IPFIX_UDP) {
			x->max_msg =
			        conf->udp_max_msg ? conf->udp_max_msg : WT_IPFIX_DEFAULT_UDP_MSG;
			if (x->max_msg < WT_IPFIX_MIN_UDP_MSG)
				x->max_msg = WT_IPFIX_MIN_UDP_MSG;
			x->fd = make_socket(x, SOCK_DGRAM);
			if (x->fd < 0 ||
			    connect(x->fd, (struct sockaddr *)&x->addr, x->addrlen) != 0) {
				e = x->fd < 0 ? -x->fd : errno;
				snprintf(err, errlen, "IPFIX collector %s: socket: %s", x->name,
				         strerror(e));
				goto fail;
			}
		} else {
			x->max_msg = WT_IPFIX_TCP_MSG;
			x->cap = conf->replay_records ? conf->replay_records
			                              : WT_IPFIX_REPLAY_RECORDS;
			x->ring = calloc(x->cap, sizeof(*x->ring));
			x->resend = calloc(x->cap, sizeof(*x->resend));
			if (x->ring == NULL || x->resend == NULL) {
				e = ENOMEM;
				snprintf(err, errlen, "IPFIX exporter: %s", strerror(ENOMEM));
				goto fail;
			}
		}
	}
	x->mbuf = malloc(x->max_msg);
	x->obuf = malloc(x->max_msg);
	if (x->mbuf == NULL || x->obuf == NULL) {
		e = ENOMEM;
		snprintf(err, errlen, "IPFIX exporter: %s", strerror(ENOMEM));
		goto fail;
	}
	x->st.connected = x->tr != WT_IPFIX_TCP;
	return x;
fail:
	if (x->tr != WT_IPFIX_FILE && x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	wt_ipfix_exporter_close(x);
	errno = e;
	return NULL;
}

void
wt_ipfix_exporter_close(struct wt_ipfix_exporter *x)
{
	if (x == NULL)
		return;
	if (x->tr != WT_IPFIX_FILE && x->fd >= 0)
		close(x->fd);
	free(x->ring);
	free(x->resend);
	free(x->mbuf);
	free(x->obuf);
	free(x);
}

const char *
wt_ipfix_exporter_name(const struct wt_ipfix_exporter *x)
{
	return x->name;
}

void
wt_ipfix_exporter_stats(const struct wt_ipfix_exporter *x, struct wt_ipfix_exporter_stats *st)
{
	*st = x->st;
	st->records_pending = (x->building ? x->m.records : 0) +
	                      (x->opos < x->olen ? x->orecords : 0) + (x->n_resend - x->pos_resend);
	st->connected = x->tr == WT_IPFIX_TCP ? x->connected : 1;
}

/* ---- TCP: replay window, connect, disconnect -------------------------------- */

static struct replay_ent *
ring_at(struct wt_ipfix_exporter *x, uint32_t i)
{
	return &x->ring[(x->head + i) % x->cap];
}

/* Bytes of this connection the collector's TCP has acknowledged. Linux
 * counts the SYN in tcpi_bytes_acked (1 after the handshake): not data. */
static uint64_t
bytes_acked(const struct wt_ipfix_exporter *x)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (x->fd < 0 || getsockopt(x->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(ti.tcpi_bytes_acked))
		return 0;
	return ti.tcpi_bytes_acked > 0 ? ti.tcpi_bytes_acked - 1 : 0;
}

/* Forget the records whose whole message the collector acknowledged. */
static void
trim_acked(struct wt_ipfix_exporter *x)
{
	uint64_t acked = bytes_acked(x);
	while (x->n > 0 && ring_at(x, 0)->end_off <= acked) {
		x->head = (x->head + 1) % x->cap;
		x->n--;
	}
}

/* The connection broke: what was not acknowledged is sent again on the
 * next one, before anything new, in the original order. */
static void
tcp_disconnect(struct wt_ipfix_exporter *x, int err)
{
	trim_acked(x);
	close(x->fd);
	x->fd = -1;
	x->connected = 0;
	x->st.disconnects++;
	x->st.last_errno = err;
	/* not acknowledged, then not yet sent again */
	uint32_t left = x->n_resend - x->pos_resend;
	memmove(x->resend + x->n, x->resend + x->pos_resend, left * sizeof(*x->resend));
	for (uint32_t i = 0; i < x->n; i++)
		x->resend[i] = ring_at(x, i)->rec;
	x->n_resend = x->n + left;
	x->pos_resend = 0;
	x->head = x->n = 0;
	x->building = 0;
	x->olen = x->opos = 0;
	x->down_since_ns = wt_mono_ns();
	x->said_down_ns = x->down_since_ns;
	x->failures_since_said = 0;
	x->backoff_ms = 0;
	x->next_connect_ns = x->down_since_ns; /* once more at once */
	say(x,
	    "IPFIX collector %s: connection lost (%s); %" PRIu32
	    " records not acknowledged by it will be sent again after reconnecting",
	    x->name, strerror(err), x->n_resend);
}

static void
connect_failed(struct wt_ipfix_exporter *x, int err)
{
	uint64_t now = wt_mono_ns();

	x->st.connect_failures++;
	x->backoff_ms = x->backoff_ms == 0 ? WT_IPFIX_BACKOFF_MIN_MS : x->backoff_ms * 2;
	if (x->backoff_ms > WT_IPFIX_BACKOFF_MAX_MS)
		x->backoff_ms = WT_IPFIX_BACKOFF_MAX_MS;
	x->next_connect_ns = now + x->backoff_ms * NS_PER_MS;
	x->failures_since_said++;
	if (x->down_since_ns == 0) {
		x->down_since_ns = now;
		x->said_down_ns = now;
		x->failures_since_said = 0;
		say(x,
		    "IPFIX collector %s unreachable: %s; records wait, retrying (every %u s at "
		    "most)",
		    x->name, strerror(err), WT_IPFIX_BACKOFF_MAX_MS / 1000);
	} else if (now - x->said_down_ns >= SAY_EVERY_NS) {
		say(x,
		    "IPFIX collector %s still unreachable after %.0f s: %s (%" PRIu64
		    " attempts since the last message)",
		    x->name, (double)(now - x->down_since_ns) / 1e9, strerror(err),
		    x->failures_since_said);
		x->said_down_ns = now;
		x->failures_since_said = 0;
	}
}

/* One connection attempt. @return 0 or the errno. */
static int
tcp_try_connect(struct wt_ipfix_exporter *x, int timeout_ms)
{
	int fd = make_socket(x, SOCK_STREAM);
	if (fd < 0)
		return -fd;
	int err = 0;
	if (connect(fd, (struct sockaddr *)&x->addr, x->addrlen) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int pr = poll(&p, 1, timeout_ms);
			socklen_t l = sizeof(err);
			if (pr == 0)
				err = ETIMEDOUT;
			else if (pr < 0)
				err = errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0)
				err = errno;
		}
	}
	if (err != 0) {
		close(fd);
		x->st.last_errno = err;
		return err;
	}
	x->fd = fd;
	x->connected = 1;
	x->st.connects++;
	x->stream_off = 0;
	x->seq = 0; /* a new transport session */
	x->tpl_due = WT_IPFIX_TPL_GROUP_PLAIN;
	x->tpl_known = 0;
	x->backoff_ms = 0;
	if (x->down_since_ns != 0 && x->n_resend > x->pos_resend)
		say(x,
		    "IPFIX collector %s reachable again after %.1f s; %" PRIu32
		    " records to send again first",
		    x->name, (double)(wt_mono_ns() - x->down_since_ns) / 1e9,
		    x->n_resend - x->pos_resend);
	else if (x->down_since_ns != 0)
		say(x, "IPFIX collector %s reachable after %.1f s", x->name,
		    (double)(wt_mono_ns() - x->down_since_ns) / 1e9);
	x->down_since_ns = 0;
	return 0;
}

int
wt_ipfix_exporter_connect(struct wt_ipfix_exporter *x, int timeout_ms)
{
	if (x->tr != WT_IPFIX_TCP || x->connected)
		return 0;
	int err = tcp_try_connect(x, timeout_ms);
	if (err != 0)
		x->st.connect_failures++;
	return -err;
}

/* ---- messages ------------------------------------------------------------- */

/* Add the template sets due that fit the message being built, group @first
 * first (over UDP the two groups may take two messages). */
static void
add_due_templates(struct wt_ipfix_exporter *x, unsigned int first)
{
	unsigned int order[3] = {first, WT_IPFIX_TPL_GROUP_PLAIN, WT_IPFIX_TPL_GROUP_TUN};
	for (unsigned int i = 0; i < 3; i++) {
		unsigned int g = order[i];
		if (!(x->tpl_due & g) || wt_ipfix_msg_add_template_sets(&x->m, g) != 0)
			continue;
		x->tpl_due &= ~g;
		x->tpl_known |= g;
		x->last_tpl_ns = wt_mono_ns();
		x->msgs_since_tpl = 0;
	}
}

/* Start a message; @need: the template group of the record it is for (0:
 * none), whose set goes first when due. */
static void
begin_msg(struct wt_ipfix_exporter *x, unsigned int need)
{
	uint64_t now = wt_mono_ns();

	wt_ipfix_msg_begin(&x->m, x->mbuf, x->max_msg);
	if (x->tr == WT_IPFIX_UDP &&
	    (now - x->last_tpl_ns >= x->refresh_ns || x->msgs_since_tpl >= WT_IPFIX_REFRESH_MSGS))
		x->tpl_due |= WT_IPFIX_TPL_GROUP_PLAIN | x->tpl_known;
	add_due_templates(x, need); /* one set and a record fit: WT_IPFIX_MIN_UDP_MSG */
	x->building = 1;
}

/* Finish the message being built and make it the one being sent (the
 * output must be free). */
static void
finish_msg(struct wt_ipfix_exporter *x)
{
	size_t len = wt_ipfix_msg_finish(&x->m, x->domain, x->seq, (uint32_t)time(NULL));

	x->seq += x->m.records;
	uint8_t *t = x->obuf;
	x->obuf = x->mbuf;
	x->mbuf = t;
	x->olen = len;
	x->opos = 0;
	x->orecords = x->m.records;
	x->otemplates = x->m.templates > 0;
	x->msgs_since_tpl++;
	x->building = 0;
	if (x->tr == WT_IPFIX_TCP) {
		x->stream_off += len;
		for (uint32_t i = x->n; i > 0 && ring_at(x, i - 1)->end_off == UINT64_MAX; i--)
			ring_at(x, i - 1)->end_off = x->stream_off;
	}
}

/* Send the message in the output. @return 0 when the output is free,
 * -EAGAIN when it is not (yet), or a file write error. */
static int
send_out(struct wt_ipfix_exporter *x)
{
	uint64_t now;

	while (x->opos < x->olen) {
		ssize_t k;
		if (x->tr == WT_IPFIX_FILE)
			k = write(x->fd, x->obuf + x->opos, x->olen - x->opos);
		else
			k = send(x->fd, x->obuf + x->opos, x->olen - x->opos,
			         MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			x->opos += (size_t)k;
			continue;
		}
		int err = k == 0 ? EIO : errno;
		if (err == EINTR)
			continue;
		if (err == EAGAIN || err == EWOULDBLOCK)
			return -EAGAIN;
		x->st.last_errno = err;
		switch (x->tr) {
		case WT_IPFIX_FILE:
			return -err;
		case WT_IPFIX_TCP:
			tcp_disconnect(x, err);
			return -EAGAIN;
		default: /* UDP: this message is lost; templates again next time */
			x->st.records_lost += x->orecords;
			x->lost_since_said += x->orecords;
			x->olen = x->opos = 0;
			x->tpl_due = WT_IPFIX_TPL_GROUP_PLAIN | x->tpl_known;
			now = wt_mono_ns();
			if (x->said_refused_ns == 0 || now - x->said_refused_ns >= SAY_EVERY_NS) {
				say(x,
				    "IPFIX collector %s: a message could not be sent (%s%s); "
				    "%" PRIu64 " records lost%s",
				    x->name, strerror(err),
				    err == ECONNREFUSED ? ": nothing listens there?" : "",
				    x->lost_since_said,
				    x->said_refused_ns ? " since the last message" : "");
				x->said_refused_ns = now;
				x->lost_since_said = 0;
			}
			return 0;
		}
	}
	if (x->olen > 0) {
		x->st.messages_sent++;
		x->st.bytes_sent += x->olen;
		x->st.records_sent += x->orecords;
		x->st.template_sends += (uint64_t)x->otemplates;
	}
	x->olen = x->opos = 0;
	return 0;
}

/* Put one record into the message being built (finishing and sending the
 * previous one when it is full). @return 0 or -EAGAIN (not taken). */
static int
put_record(struct wt_ipfix_exporter *x, const struct wt_callrec *r)
{
	if (x->tr == WT_IPFIX_TCP) {
		if (x->n == x->cap)
			trim_acked(x);
		if (x->n == x->cap) {
			/* the collector is behind: let what is built go out */
			if (x->building && x->olen == 0)
				finish_msg(x);
			return -EAGAIN;
		}
	}
	/* A record goes after its template set in the session: add the set
	 * here, or start a message that begins with it. */
	unsigned int g = wt_ipfix_template_group(wt_ipfix_template_of(r));
	if (!(x->tpl_known & g))
		x->tpl_due |= g;
	if (!x->building)
		begin_msg(x, g);
	else if (x->tpl_due & g)
		add_due_templates(x, g);
	if ((x->tpl_due & g) || wt_ipfix_msg_add_record(&x->m, r) != 0) {
		if (x->olen > 0)
			return -EAGAIN;
		finish_msg(x);
		int rc = send_out(x);
		if (rc != 0 && rc != -EAGAIN)
			return rc;
		if (x->tr == WT_IPFIX_TCP && !x->connected)
			return -EAGAIN; /* the send broke the connection */
		begin_msg(x, g);
		if (wt_ipfix_msg_add_record(&x->m, r) != 0)
			return -EMSGSIZE; /* cannot happen: a record fits an empty message */
	}
	if (x->tr == WT_IPFIX_TCP) {
		struct replay_ent *e = ring_at(x, x->n);
		e->rec = *r;
		e->end_off = UINT64_MAX;
		x->n++;
		if (x->n > x->cap / 2 && (x->n & 63) == 0) /* one getsockopt per 64 records */
			trim_acked(x);
	}
	return 0;
}

/* Send what waits before anything new: the output, a TCP connection, the
 * records to send again. @return 0 when free to take new records. */
static int
catch_up(struct wt_ipfix_exporter *x)
{
	int rc = send_out(x);
	if (rc != 0)
		return rc;
	if (x->tr != WT_IPFIX_TCP)
		return 0;
	if (!x->connected) {
		if (wt_mono_ns() < x->next_connect_ns)
			return -EAGAIN;
		int err = tcp_try_connect(x, CONNECT_WAIT_MS);
		if (err != 0) {
			connect_failed(x, err);
			return -EAGAIN;
		}
	}
	while (x->pos_resend < x->n_resend) {
		rc = put_record(x, &x->resend[x->pos_resend]);
		if (rc != 0)
			return rc;
		x->pos_resend++;
		x->st.records_resent++;
	}
	x->n_resend = x->pos_resend = 0;
	return 0;
}

int
wt_ipfix_exporter_add(struct wt_ipfix_exporter *x, const struct wt_callrec *r)
{
	int rc = catch_up(x);
	if (rc == 0)
		rc = put_record(x, r);
	if (rc == 0)
		x->st.records_taken++;
	return rc;
}

int
wt_ipfix_exporter_flush(struct wt_ipfix_exporter *x)
{
	int rc = catch_up(x);
	if (rc != 0)
		return rc;
	if (x->building && (x->m.records > 0 || x->m.templates > 0)) {
		finish_msg(x);
		rc = send_out(x);
		if (rc != 0)
			return rc;
		if (x->tr == WT_IPFIX_TCP && !x->connected)
			return -EAGAIN;
	}
	return 0;
}

void
wt_ipfix_exporter_wait(struct wt_ipfix_exporter *x, int timeout_ms)
{
	if (x->opos < x->olen && x->fd >= 0) { /* a socket, or a pipe that was full */
		struct pollfd p = {.fd = x->fd, .events = POLLOUT};
		(void)poll(&p, 1, timeout_ms);
		return;
	}
	uint64_t wait_ns = (uint64_t)timeout_ms * NS_PER_MS;
	if (x->tr == WT_IPFIX_TCP && !x->connected) {
		uint64_t now = wt_mono_ns();
		uint64_t until = x->next_connect_ns > now ? x->next_connect_ns - now : 0;
		if (until < wait_ns)
			wait_ns = until;
	} else if (x->tr == WT_IPFIX_TCP && x->n == x->cap) {
		if (wait_ns > 5 * NS_PER_MS) /* acknowledgements come back */
			wait_ns = 5 * NS_PER_MS;
	} else {
		return;
	}
	struct timespec ts = {.tv_sec = (time_t)(wait_ns / NS_PER_S),
	                      .tv_nsec = (long)(wait_ns % NS_PER_S)};
	nanosleep(&ts, NULL);
}
