/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix_out.c: wiretally-read's IPFIX output: an RFC 5655 file on stdout or a UDP/TCP collector. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipfix_out.h"
#include "wt_ipfix_export.h"

#define PROG "wiretally-read"

/* How long a collector may take no record before the reader gives up. */
#define STALL_LIMIT_S   30
#define CONNECT_WAIT_MS 5000

struct ipfix_out {
	struct wt_ipfix_exporter *x;
	const struct ipfix_out_conf *c;
	time_t last_progress;
	uint64_t stopped_seq; /* first record not taken, when stopped_at_record */
	int stopped_at_record;
	int failed;
	struct timespec t0; /* --ipfix-rate: when the first record went */
	uint64_t taken;
};

int
ipfix_out_option(struct ipfix_out_conf *c, int opt, const char *arg)
{
	char *end;
	errno = 0;
	switch (opt) {
	case IPFIX_OPT_URL: {
		struct wt_ipfix_url u;
		char err[512];
		if (wt_ipfix_url_parse(arg, &u, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": --ipfix: %s\n", err);
			return -1;
		}
		c->url = arg;
		return 0;
	}
	case IPFIX_OPT_DOMAIN: {
		unsigned long long v = strtoull(arg, &end, 0);
		if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v > UINT32_MAX) {
			fprintf(stderr,
			        PROG ": --ipfix-domain: '%s' is not a whole number between 0 and "
			             "4294967295\n",
			        arg);
			return -1;
		}
		c->domain = (uint32_t)v;
		return 0;
	}
	case IPFIX_OPT_RATE: {
		unsigned long long v = strtoull(arg, &end, 10);
		if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v > 1000000000) {
			fprintf(stderr,
			        PROG ": --ipfix-rate: '%s' is not a number of records a second "
			             "between 0 and 1000000000\n",
			        arg);
			return -1;
		}
		c->rate = v;
		return 0;
	}
	case IPFIX_OPT_REFRESH: {
		double v = strtod(arg, &end);
		if (end == arg || *end != '\0' || errno != 0 || !(v >= 0.1 && v <= 86400)) {
			fprintf(stderr,
			        PROG ": --ipfix-template-refresh: '%s' is not a number of seconds "
			             "between 0.1 and 86400\n",
			        arg);
			return -1;
		}
		c->refresh = v;
		return 0;
	}
	default:
		return -1;
	}
}

int
ipfix_out_wanted(const struct ipfix_out_conf *c)
{
	return c->file || c->url != NULL;
}

static void
say(void *arg, const char *line)
{
	const struct ipfix_out_conf *c = arg;
	if (!c->quiet)
		fprintf(stderr, PROG ": %s\n", line);
}

struct ipfix_out *
ipfix_out_open(const struct ipfix_out_conf *c)
{
	char err[512];
	struct ipfix_out *o = calloc(1, sizeof(*o));

	if (o == NULL) {
		fprintf(stderr, PROG ": %s\n", strerror(ENOMEM));
		return NULL;
	}
	if (c->url == NULL && isatty(STDOUT_FILENO)) {
		fprintf(stderr,
		        PROG ": standard output is a terminal: --format ipfix writes "
		             "a binary IPFIX file; redirect it to a file or a pipe (or send "
		             "to a collector with --ipfix URL)\n");
		free(o);
		return NULL;
	}
	struct wt_ipfix_exporter_conf xc = {
	        .url = c->url,
	        .fd = STDOUT_FILENO,
	        .domain = c->domain,
	        .template_refresh = c->refresh,
	        .say = say,
	        .say_arg = (void *)c,
	};
	o->c = c;
	o->x = wt_ipfix_exporter_open(&xc, err, sizeof(err));
	if (o->x == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		free(o);
		return NULL;
	}
	int rc = wt_ipfix_exporter_connect(o->x, CONNECT_WAIT_MS);
	if (rc != 0) {
		fprintf(stderr, PROG ": IPFIX collector %s: cannot connect: %s\n", c->url,
		        strerror(-rc));
		wt_ipfix_exporter_close(o->x);
		free(o);
		return NULL;
	}
	o->last_progress = time(NULL);
	return o;
}

/* The exporter could not go on for STALL_LIMIT_S, or failed for good. */
static int
give_up(struct ipfix_out *o, int rc)
{
	struct wt_ipfix_exporter_stats st;

	wt_ipfix_exporter_stats(o->x, &st);
	if (rc == -EAGAIN)
		fprintf(stderr, PROG ": IPFIX collector %s took nothing for %d s (%s); stopping\n",
		        wt_ipfix_exporter_name(o->x), STALL_LIMIT_S,
		        st.last_errno ? strerror(st.last_errno) : "not reading");
	else if (o->c->url == NULL)
		fprintf(stderr, PROG ": write error on standard output: %s\n", strerror(-rc));
	else
		fprintf(stderr, PROG ": IPFIX collector %s: %s\n", wt_ipfix_exporter_name(o->x),
		        strerror(-rc));
	o->failed = 1;
	return -1;
}

/* Call @step until it stops saying -EAGAIN, waiting in between. */
static int
retry(struct ipfix_out *o, int (*step)(struct ipfix_out *, const struct wt_callrec *),
      const struct wt_callrec *r)
{
	int rc;
	while ((rc = step(o, r)) == -EAGAIN) {
		if (time(NULL) - o->last_progress >= STALL_LIMIT_S)
			return give_up(o, rc);
		wt_ipfix_exporter_wait(o->x, 100);
	}
	if (rc != 0)
		return give_up(o, rc);
	o->last_progress = time(NULL);
	return 0;
}

static int
step_add(struct ipfix_out *o, const struct wt_callrec *r)
{
	return wt_ipfix_exporter_add(o->x, r);
}

static int
step_flush(struct ipfix_out *o, const struct wt_callrec *r)
{
	(void)r;
	return wt_ipfix_exporter_flush(o->x);
}

/* --ipfix-rate: sleep until the records taken so far are due. */
static void
pace(struct ipfix_out *o)
{
	struct timespec now;

	if (o->c->rate == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (o->taken == 0)
		o->t0 = now;
	o->taken++;
	double due = (double)o->taken / (double)o->c->rate;
	double elapsed = (double)(now.tv_sec - o->t0.tv_sec) + (now.tv_nsec - o->t0.tv_nsec) / 1e9;
	if (due > elapsed + 0.001) {
		double d = due - elapsed;
		struct timespec ts = {.tv_sec = (time_t)d,
		                      .tv_nsec = (long)((d - (time_t)d) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

int
ipfix_out_record(struct ipfix_out *o, const struct wt_callrec *r)
{
	if (o->failed)
		return -1;
	pace(o);
	if (retry(o, step_add, r) != 0) {
		o->stopped_seq = r->seq;
		o->stopped_at_record = 1;
		return -1;
	}
	return 0;
}

int
ipfix_out_close(struct ipfix_out *o)
{
	struct wt_ipfix_exporter_stats st;
	int rc = o->failed ? -1 : retry(o, step_flush, NULL);

	wt_ipfix_exporter_stats(o->x, &st);
	const char *name = o->c->url ? o->c->url : "standard output";
	if (!o->c->quiet || rc != 0 || st.records_lost)
		fprintf(stderr,
		        PROG ": IPFIX: %" PRIu64 " records in %" PRIu64 " messages (%" PRIu64
		             " bytes, templates in %" PRIu64 ") %s %s, observation domain %" PRIu32
		             "\n",
		        st.records_sent, st.messages_sent, st.bytes_sent, st.template_sends,
		        o->c->url ? "sent to" : "written to", name, o->c->domain);
	if (st.records_resent)
		fprintf(stderr,
		        PROG ": IPFIX: %" PRIu64 " of them sent twice: after a broken connection "
		             "(not acknowledged before; wtRecordSeq tells the copies apart)\n",
		        st.records_resent);
	if (st.records_lost) {
		fprintf(stderr,
		        PROG ": IPFIX: %" PRIu64 " records lost: the kernel refused their messages "
		             "(%s)\n",
		        st.records_lost, strerror(st.last_errno));
		rc = -1;
	}
	if (st.records_pending) {
		fprintf(stderr, PROG ": IPFIX: %" PRIu64 " records taken were not sent\n",
		        st.records_pending);
		rc = -1;
	}
	if (o->stopped_at_record)
		fprintf(stderr,
		        PROG ": IPFIX: stopped at the record of seq %" PRIu64
		             ": it and the records after it were not sent\n",
		        o->stopped_seq);
	wt_ipfix_exporter_close(o->x);
	free(o);
	return rc;
}
