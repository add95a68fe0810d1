/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix.c: the monitor's IPFIX sender thread, which follows the log. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include "ipfix.h"
#include "monitor.h"
#include "wt_ipfix_export.h"
#include "wt_record.h"
#include "wt_seglog.h"
#include "wt_time.h"

#define BATCH   64
#define WAIT_MS 50
#define IDLE_US 1000 /* caught up with the exporter: look again this much later */

struct wt_ipfix_sender {
	struct wt_ipfix_exporter *x;
	pthread_t thread;
	int started;
	double stall_s;
	int stop; /* atomic: the exporter writes no more; send what is left */
	char url[300];
	char log_dir[4096], spool_dir[4096];
	uint64_t first_seq, first_segment; /* of this run's records in the log */
	/* written by the exporter lcore (atomic stores, read by any thread) */
	uint64_t offered;  /* records this run wrote to the log */
	uint64_t last_seq; /* seq of the last of them (release: it is committed) */
	/* published by the sender thread under lock */
	pthread_mutex_t lock;
	struct wt_ipfix_exporter_stats xst;
	uint64_t unsent_at_exit;
	/* sender thread only, next_seq and behind_max also read for display */
	struct wt_seglog_reader *log; /* the log, followed from first_segment */
	uint64_t next_seq;            /* next seq wanted from the log (atomic) */
	uint64_t behind_max;          /* most records written and not yet read (atomic) */
	int log_failed;               /* the log could not be opened (said) */
};

static void
say(void *arg, const char *line)
{
	(void)arg;
	WT_LOG(WARNING, "%s\n", line);
}

/* A damaged frame in the log being followed: its record is not sent. */
static void
say_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t offset, const char *msg)
{
	(void)arg;
	WT_LOG(ERR, "IPFIX: reading the log: %s (%s) at %s offset %" PRIu64 "\n", msg,
	       wt_seglog_problem_name(p), path, offset);
}

static void
publish(struct wt_ipfix_sender *s)
{
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(s->x, &st);
	pthread_mutex_lock(&s->lock);
	s->xst = st;
	pthread_mutex_unlock(&s->lock);
}

static uint64_t
mono_s(void)
{
	return wt_mono_ns() / WT_NS_PER_SEC;
}

/* Records written to the log and not yet read by the sender. */
static uint64_t
behind(const struct wt_ipfix_sender *s)
{
	if (__atomic_load_n(&s->offered, __ATOMIC_ACQUIRE) == 0)
		return 0;
	uint64_t last = __atomic_load_n(&s->last_seq, __ATOMIC_ACQUIRE);
	uint64_t next = __atomic_load_n(&s->next_seq, __ATOMIC_RELAXED);
	return next <= last ? last + 1 - next : 0;
}

/*
 * The next records of this run from the log into @batch (at most BATCH),
 * read only when the exporter says some are written: the follow-mode
 * reader lists the directories at its live end, so it is not polled idle.
 * @return the number of records, 0 when none is waiting.
 */
static unsigned int
read_log(struct wt_ipfix_sender *s, struct wt_callrec *batch)
{
	uint64_t waiting = behind(s);
	if (waiting == 0 || s->log_failed)
		return 0;
	if (waiting > s->behind_max)
		__atomic_store_n(&s->behind_max, waiting, __ATOMIC_RELAXED);
	if (s->log == NULL) {
		const char *paths[1] = {s->log_dir};
		struct wt_seglog_reader_conf rc = {
		        .paths = paths,
		        .npaths = 1,
		        .spool_dir = s->spool_dir[0] ? s->spool_dir : NULL,
		        .follow = 1,
		        .follow_from_segment = s->first_segment,
		        .problem = say_problem,
		};
		char err[512];
		s->log = wt_seglog_reader_open(&rc, err, sizeof(err));
		if (s->log == NULL) {
			WT_LOG(ERR,
			       "IPFIX: cannot read the log: %s; no record is sent over IPFIX "
			       "(they are in the log: wiretally-read --ipfix URL --seq %" PRIu64
			       "- sends them)\n",
			       err, s->first_seq);
			s->log_failed = 1;
			return 0;
		}
	}
	struct wt_seglog_frame f;
	unsigned int n = 0;
	while (n < BATCH && wt_seglog_reader_next(s->log, &f) == 1) {
		if (f.type != WT_SEGLOG_FRAME_RECORD || f.seq < s->next_seq ||
		    wt_seglog_frame_record(&f, &batch[n]) != 0)
			continue;
		__atomic_store_n(&s->next_seq, f.seq + 1, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

static void *
sender_main(void *arg)
{
	struct wt_ipfix_sender *s = arg;
	struct wt_callrec batch[BATCH];
	unsigned int n = 0, pos = 0;
	uint64_t last_progress = mono_s();

	for (;;) {
		int stopping = __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
		int rc = 0;
		if (pos == n) {
			n = read_log(s, batch);
			pos = 0;
		}
		while (pos < n && (rc = wt_ipfix_exporter_add(s->x, &batch[pos])) == 0) {
			pos++;
			last_progress = mono_s();
		}
		/* nothing more to read now (all of it, or the log does not have
		 * it yet): let the message being built go out */
		int caught_up = behind(s) == 0 || s->log_failed;
		if (rc == 0 && pos == n && (caught_up || n == 0)) {
			struct wt_ipfix_exporter_stats before;
			wt_ipfix_exporter_stats(s->x, &before);
			rc = wt_ipfix_exporter_flush(s->x);
			if (rc == 0 && before.records_pending)
				last_progress = mono_s();
			if (rc == 0 && stopping && caught_up)
				break;
		}
		publish(s);
		if (rc != 0 && rc != -EAGAIN) {
			WT_LOG(ERR, "IPFIX: %s: %s; no more records are sent over IPFIX\n", s->url,
			       strerror(-rc));
			break;
		}
		if (stopping && mono_s() - last_progress >= (uint64_t)s->stall_s)
			break;
		if (rc == -EAGAIN)
			wt_ipfix_exporter_wait(s->x, WAIT_MS);
		else if (n == 0)
			usleep(IDLE_US);
	}
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(s->x, &st);
	pthread_mutex_lock(&s->lock);
	s->xst = st;
	/* read and not handed over, not read, handed over and not sent */
	s->unsent_at_exit = (n - pos) + behind(s) + st.records_pending;
	pthread_mutex_unlock(&s->lock);
	wt_seglog_reader_close(s->log);
	s->log = NULL;
	return NULL;
}

struct wt_ipfix_sender *
wt_ipfix_sender_start(const struct wt_ipfix_sender_conf *conf, char *err, size_t errlen)
{
	struct wt_ipfix_sender *s = calloc(1, sizeof(*s));
	int rc;
	if (s == NULL) {
		snprintf(err, errlen, "IPFIX: %s", strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->url, sizeof(s->url), "%s", conf->url);
	snprintf(s->log_dir, sizeof(s->log_dir), "%s", conf->log_dir);
	if (conf->spool_dir != NULL)
		snprintf(s->spool_dir, sizeof(s->spool_dir), "%s", conf->spool_dir);
	s->first_seq = conf->first_seq;
	s->first_segment = conf->first_segment;
	s->next_seq = conf->first_seq;
	struct wt_ipfix_exporter_conf xc = {
	        .url = conf->url,
	        .domain = conf->domain,
	        .template_refresh = conf->template_refresh,
	        .say = say,
	};
	s->x = wt_ipfix_exporter_open(&xc, err, errlen);
	if (s->x == NULL) {
		rc = errno;
		goto fail;
	}
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_attr_init(&attr);
	if (conf->cpus != NULL)
		(void)pthread_attr_setaffinity_np(&attr, sizeof(*conf->cpus), conf->cpus);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, &attr, sender_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(err, errlen, "IPFIX: cannot start the sender thread: %s", strerror(rc));
		goto fail;
	}
	s->started = 1;
	pthread_setname_np(s->thread, "wt-ipfix");
	return s;
fail:
	wt_ipfix_sender_free(s);
	errno = rc;
	return NULL;
}

void
wt_ipfix_sender_written(struct wt_ipfix_sender *s, uint64_t seq)
{
	__atomic_store_n(&s->last_seq, seq, __ATOMIC_RELAXED);
	__atomic_store_n(&s->offered, s->offered + 1, __ATOMIC_RELEASE);
}

void
wt_ipfix_sender_stop(struct wt_ipfix_sender *s, double stall_s)
{
	if (s == NULL || !s->started)
		return;
	s->stall_s = stall_s;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

void
wt_ipfix_sender_stats(const struct wt_ipfix_sender *s, struct wt_ipfix_sender_stats *st)
{
	struct wt_ipfix_sender *m = (struct wt_ipfix_sender *)(uintptr_t)s;
	memset(st, 0, sizeof(*st));
	st->offered = __atomic_load_n(&s->offered, __ATOMIC_ACQUIRE);
	st->behind = behind(s);
	st->behind_max = __atomic_load_n(&s->behind_max, __ATOMIC_RELAXED);
	pthread_mutex_lock(&m->lock);
	st->sent = s->xst.records_sent;
	st->resent = s->xst.records_resent;
	st->lost = s->xst.records_lost;
	st->pending = s->xst.records_pending;
	st->messages = s->xst.messages_sent;
	st->bytes = s->xst.bytes_sent;
	st->template_sends = s->xst.template_sends;
	st->connects = s->xst.connects;
	st->connect_failures = s->xst.connect_failures;
	st->disconnects = s->xst.disconnects;
	st->connected = s->xst.connected;
	st->unsent_at_exit = s->unsent_at_exit;
	pthread_mutex_unlock(&m->lock);
}

/* _(name, field): every counter, for the stats frame and telemetry. */
#define WT_IPFIX_FOREACH_COUNTER(_)               \
	_(records_offered, offered)               \
	_(records_sent, sent)                     \
	_(records_resent, resent)                 \
	_(records_lost, lost)                     \
	_(records_unsent_at_exit, unsent_at_exit) \
	_(records_behind, behind)                 \
	_(records_behind_max, behind_max)         \
	_(messages, messages)                     \
	_(bytes, bytes)                           \
	_(template_sends, template_sends)         \
	_(connects, connects)                     \
	_(connect_failures, connect_failures)     \
	_(disconnects, disconnects)

size_t
wt_ipfix_sender_stats_text(const struct wt_ipfix_sender *s, char *buf, size_t len)
{
	struct wt_ipfix_sender_stats st;
	size_t n = 0;

	wt_ipfix_sender_stats(s, &st);
#define PUT_COUNTER(name, field)                                                                   \
	do {                                                                                       \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, "ipfix." #name "=%" PRIu64 "\n", \
		                  st.field);                                                       \
		if (k_ > 0)                                                                        \
			n += (size_t)k_;                                                           \
	} while (0);
	WT_IPFIX_FOREACH_COUNTER(PUT_COUNTER)
#undef PUT_COUNTER
	return n < len ? n : len;
}

void
wt_ipfix_sender_summary(const struct wt_ipfix_sender *s, FILE *f)
{
	struct wt_ipfix_sender_stats st;

	wt_ipfix_sender_stats(s, &st);
	fprintf(f,
	        "  ipfix: %" PRIu64 " records to %s: %" PRIu64 " sent in %" PRIu64
	        " messages (%" PRIu64 " bytes)",
	        st.offered, s->url, st.sent - st.resent, st.messages, st.bytes);
	if (st.resent)
		fprintf(f, ", %" PRIu64 " sent again after a broken connection", st.resent);
	fprintf(f, "\n");
	uint64_t not_sent = st.lost + st.unsent_at_exit;
	if (not_sent == 0 && st.connect_failures == 0)
		return;
	fprintf(f,
	        "  ipfix: %" PRIu64 " not sent (%" PRIu64 " refused by the kernel, %" PRIu64
	        " left at exit); %" PRIu64 " connections, %" PRIu64 " broken, %" PRIu64
	        " failed attempts; they are in the log (wiretally-read --ipfix URL --seq sends "
	        "them)\n",
	        not_sent, st.lost, st.unsent_at_exit, st.connects, st.disconnects,
	        st.connect_failures);
}

static const struct wt_ipfix_sender *tel_sender;

static int
tel_ipfix(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct wt_ipfix_sender_stats st;

	(void)cmd;
	(void)params;
	wt_ipfix_sender_stats(tel_sender, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "collector", tel_sender->url);
	rte_tel_data_add_dict_u64(d, "connected", (uint64_t)st.connected);
#define ADD_COUNTER(name, field) rte_tel_data_add_dict_u64(d, #name, st.field);
	WT_IPFIX_FOREACH_COUNTER(ADD_COUNTER)
#undef ADD_COUNTER
	return 0;
}

int
wt_ipfix_sender_telemetry(const struct wt_ipfix_sender *s)
{
	tel_sender = s;
	return rte_telemetry_register_cmd("/wiretally/ipfix", tel_ipfix,
	                                  "wiretally IPFIX sender: collector, records offered, "
	                                  "sent, not sent and why. No parameters");
}

void
wt_ipfix_sender_free(struct wt_ipfix_sender *s)
{
	if (s == NULL)
		return;
	wt_ipfix_sender_stop(s, 0);
	wt_ipfix_exporter_close(s->x);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
