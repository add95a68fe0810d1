/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_ipfix_export.h: an IPFIX exporting process: call records to a UDP or TCP collector or a file.
 *
 * Transports (RFC 7011 section 10):
 *  - udp://HOST:PORT: one message per datagram, at most udp_max_msg bytes
 *    (default 1400, under a 1500-byte path MTU with IPv6 and UDP headers),
 *    the templates in the first message and again every template_refresh
 *    seconds and every WT_IPFIX_REFRESH_MSGS messages, and in the next
 *    message after the kernel refused one (the collector may have
 *    restarted). A message the kernel refuses (ICMP port unreachable,
 *    buffer full for longer than a moment) is lost: its records are
 *    counted in records_lost.
 *  - tcp://HOST:PORT: one connection, templates once per connection,
 *    messages up to WT_IPFIX_TCP_MSG bytes. Connecting is retried with a
 *    back-off from 1 s to 30 s while the collector is unreachable; records
 *    wait meanwhile. Every record stays in a replay window until the
 *    collector's TCP has acknowledged the bytes of its message
 *    (TCP_INFO tcpi_bytes_acked); when the connection breaks, the records
 *    not acknowledged are sent again on the next connection, so a collector
 *    restart loses nothing (a record may arrive twice when the connection
 *    broke after the collector received it but before its
 *    acknowledgement arrived; wtRecordSeq tells duplicates apart). A full
 *    window (the collector does not keep up) makes add() answer -EAGAIN.
 *  - a file descriptor (RFC 5655 IPFIX file): the templates, then data,
 *    messages up to 64 KiB, written with write(2).
 * HOST is a name, an IPv4 address or an IPv6 address in brackets
 * (udp://[::1]:4739); it is resolved once, at open, with getaddrinfo().
 *
 * An exporter is used by one thread. Nothing here blocks: add() and
 * flush() return -EAGAIN when they cannot go on now, and wait() sleeps
 * until it is worth trying again.
 */
#ifndef WT_IPFIX_EXPORT_H
#define WT_IPFIX_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wt_ipfix.h"

#define WT_IPFIX_DEFAULT_UDP_MSG   1400u
#define WT_IPFIX_MIN_UDP_MSG       1300u /* a template set and a record fit */
#define WT_IPFIX_TCP_MSG           16384u
#define WT_IPFIX_FILE_MSG          65535u
#define WT_IPFIX_DEFAULT_REFRESH_S 60.0
#define WT_IPFIX_REFRESH_MSGS      1000u /* UDP: templates at least every this many messages */
#define WT_IPFIX_DEFAULT_DOMAIN    1u
#define WT_IPFIX_DEFAULT_PORT      "4739" /* IANA port of IPFIX */
#define WT_IPFIX_REPLAY_RECORDS    16384u /* TCP replay window, records */
#define WT_IPFIX_BACKOFF_MIN_MS    1000u
#define WT_IPFIX_BACKOFF_MAX_MS    30000u

enum wt_ipfix_transport {
	WT_IPFIX_UDP = 1,
	WT_IPFIX_TCP,
	WT_IPFIX_FILE,
};

/** A collector URL taken apart. */
struct wt_ipfix_url {
	enum wt_ipfix_transport transport; /* UDP or TCP */
	char host[256];                    /* without brackets */
	char port[16];                     /* digits */
};

/**
 * Parse "udp://HOST:PORT" or "tcp://HOST:PORT" (":PORT" may be left out:
 * 4739). @return 0, or -EINVAL with @err naming what is wrong.
 */
int wt_ipfix_url_parse(const char *url, struct wt_ipfix_url *u, char *err, size_t errlen);

/** Operator messages (collector unreachable, back again, refusing). One
 * line, no newline. Called on the exporter's thread. */
typedef void (*wt_ipfix_say_fn)(void *arg, const char *line);

struct wt_ipfix_exporter_conf {
	const char *url;             /* udp:// or tcp:// URL; NULL: write to @fd */
	int fd;                      /* file mode: where messages are written */
	uint32_t domain;             /* observation domain id (RFC 7011 section 3.1) */
	double template_refresh;     /* UDP: seconds; 0 = WT_IPFIX_DEFAULT_REFRESH_S */
	unsigned int udp_max_msg;    /* UDP: bytes per message; 0 = default; raised to
	                              * WT_IPFIX_MIN_UDP_MSG */
	unsigned int replay_records; /* TCP: replay window; 0 = WT_IPFIX_REPLAY_RECORDS */
	wt_ipfix_say_fn say;         /* NULL: silent */
	void *say_arg;
};

struct wt_ipfix_exporter;

/**
 * Create an exporter: parse the URL, resolve the host, create the socket
 * (UDP: connected to the collector; TCP: not connected yet).
 * @return the exporter, or NULL with @err naming the cause and errno set:
 * EINVAL (bad URL, unknown host, no address of a usable family), a socket
 * or connect errno (UDP), ENOMEM.
 */
struct wt_ipfix_exporter *wt_ipfix_exporter_open(const struct wt_ipfix_exporter_conf *conf,
                                                 char *err, size_t errlen);

/**
 * TCP: try to connect now (blocking up to @timeout_ms); nothing is said
 * through conf.say (the caller reports). UDP and files: nothing.
 * @return 0 (connected, or connecting is not needed), or -errno
 * (ECONNREFUSED, ETIMEDOUT, ...). Later attempts are made by add() and
 * flush() themselves, with the back-off.
 */
int wt_ipfix_exporter_connect(struct wt_ipfix_exporter *x, int timeout_ms);

/**
 * Take one record. It is encoded into the message being built, which is
 * sent when full (or by flush()).
 * @return 0 (taken), -EAGAIN (not taken: the previous message is still
 * being sent, the TCP replay window is full, or the collector is not
 * connected; call wait() then try again), or another -errno for good
 * (file mode: the write error; the record was not taken).
 */
int wt_ipfix_exporter_add(struct wt_ipfix_exporter *x, const struct wt_callrec *r);

/**
 * Send the message being built and everything waiting.
 * @return 0 when nothing is left to send, -EAGAIN when something still
 * waits (wait() and call again), another -errno for good (file mode).
 */
int wt_ipfix_exporter_flush(struct wt_ipfix_exporter *x);

/** Sleep until add()/flush() may make progress (socket writable, TCP
 * back-off over), at most @timeout_ms. */
void wt_ipfix_exporter_wait(struct wt_ipfix_exporter *x, int timeout_ms);

struct wt_ipfix_exporter_stats {
	uint64_t records_taken;   /* add() returned 0 */
	uint64_t records_sent;    /* in messages handed whole to the kernel or the file
	                           * (a record sent again after a reconnect counts twice) */
	uint64_t records_resent;  /* TCP: sent again, not acknowledged before a break */
	uint64_t records_lost;    /* UDP: in messages the kernel refused */
	uint64_t records_pending; /* taken, not sent yet (message being built, output,
	                           * waiting to be sent again) */
	uint64_t messages_sent;
	uint64_t bytes_sent;
	uint64_t template_sends; /* messages that carried the templates */
	uint64_t connects;       /* TCP connections made */
	uint64_t connect_failures;
	uint64_t disconnects; /* TCP connections that broke */
	int connected;        /* TCP: now; UDP/file: 1 */
	int last_errno;       /* of the last failure, 0 = none */
};

/** Counters and state. Owner thread. */
void wt_ipfix_exporter_stats(const struct wt_ipfix_exporter *x, struct wt_ipfix_exporter_stats *st);

/** The URL (or "-" for a file), for messages. */
const char *wt_ipfix_exporter_name(const struct wt_ipfix_exporter *x);

/** Close the socket and free; records not sent are dropped (flush()
 * first). NULL is accepted. The file descriptor of file mode is not closed. */
void wt_ipfix_exporter_close(struct wt_ipfix_exporter *x);

#endif /* WT_IPFIX_EXPORT_H */
