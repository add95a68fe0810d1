/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix_out.h: wiretally-read's IPFIX output: an RFC 5655 file on stdout or a UDP/TCP collector. */
#ifndef WT_READ_IPFIX_OUT_H
#define WT_READ_IPFIX_OUT_H

#include <stdint.h>

#include "wt_record.h"

/* Long options of the reader that belong to IPFIX (getopt_long values). */
#define IPFIX_OUT_DEFAULT_DOMAIN 1

#define IPFIX_OPT_URL     0x4900
#define IPFIX_OPT_DOMAIN  0x4901
#define IPFIX_OPT_REFRESH 0x4902
#define IPFIX_OPT_RATE    0x4903

/* clang-format off */
#define IPFIX_OUT_LONGOPTS \
	{"ipfix", required_argument, NULL, IPFIX_OPT_URL}, \
	{"ipfix-domain", required_argument, NULL, IPFIX_OPT_DOMAIN}, \
	{"ipfix-template-refresh", required_argument, NULL, IPFIX_OPT_REFRESH}, \
	{"ipfix-rate", required_argument, NULL, IPFIX_OPT_RATE}
/* clang-format on */

/* The --help lines of those options and of --format ipfix. */
#define IPFIX_OUT_HELP                                                                          \
	"  --ipfix URL            send the records to an IPFIX collector instead of printing\n" \
	"                         them: udp://HOST:PORT or tcp://HOST:PORT (IPv6:\n"            \
	"                         udp://[ADDR]:PORT); one line on stderr says what was sent\n"  \
	"                         (not with -q, unless something was not sent)\n"               \
	"  --ipfix-domain N       IPFIX observation domain id (default 1)\n"                    \
	"  --ipfix-template-refresh SEC\n"                                                      \
	"                         UDP: send the templates again every SEC seconds (default\n"   \
	"                         60; also every 1000 messages)\n"                              \
	"  --ipfix-rate N         send at most N records a second (default 0: as fast as\n"     \
	"                         the collector takes them; UDP collectors may need it)\n"      \
	"  Records as IPFIX biflows: docs/IPFIX.md. --format ipfix without --ipfix writes\n"    \
	"  an IPFIX file (RFC 5655) on stdout, which must not be a terminal.\n"

struct ipfix_out_conf {
	int file;        /* --format ipfix */
	const char *url; /* --ipfix */
	uint32_t domain;
	double refresh;
	uint64_t rate; /* records per second, 0 = no limit */
	int quiet;
};

/** Apply one of the options above. @return 0, or -1 after printing why. */
int ipfix_out_option(struct ipfix_out_conf *c, int opt, const char *arg);

/** Is IPFIX output asked for (--format ipfix or --ipfix)? */
int ipfix_out_wanted(const struct ipfix_out_conf *c);

struct ipfix_out;

/** Open the output (for TCP: connect now). NULL after printing why. */
struct ipfix_out *ipfix_out_open(const struct ipfix_out_conf *c);

/** Send or write one record. @return 0, or -1 after printing why (stop). */
int ipfix_out_record(struct ipfix_out *o, const struct wt_callrec *r);

/** Send what is left, print the summary line (unless quiet), free.
 * @return 0 when every record went out, -1 after printing what did not. */
int ipfix_out_close(struct ipfix_out *o);

#endif /* WT_READ_IPFIX_OUT_H */
