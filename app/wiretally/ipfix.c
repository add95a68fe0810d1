/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix.c: the monitor's IPFIX sender thread and the exporter's ring to it. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ring_elem.h>
#include <rte_telemetry.h>

#include "ipfix.h"
#include "monitor.h"
#include "wt_ipfix_export.h"
#include "wt_seglog.h"
#include "wt_time.h"

#define BATCH        64
#define SAY_EVERY_NS (60 * WT_NS_PER_SEC)
#define WAIT_MS      50

struct wt_ipfix_sender {
	struct rte_ring *ring;
	struct wt_ipfix_exporter *x;
	pthread_t thread;
	int started;
	double stall_s;
	int stop; /* atomic: the exporter offers no more; send what is left */
	char url[300];
	char log_dir[4096], spool_dir[4096];
	/* written by the exporter lcore only (read racily for display) */
	uint64_t offered, queue_full, full_first_seq, full_last_seq, queue_max;
	uint64_t last_seq; /* of the last record offered (atomic) */
	int diverted;      /* atomic, release after full_first_seq: the ring is no longer fed */
	/* published by the sender thread under lock */
	pthread_mutex_t lock;
	struct wt_ipfix_exporter_stats xst;
	uint64_t unsent_at_exit;
	/* sender thread only */
	uint64_t said_full, said_full_ns;
	struct wt_seglog_reader *log; /* after the ring filled: the log, followed */
	uint64_t log_next_seq;        /* next seq wanted from the log */
	int log_failed;               /* the log could not be opened (said) */
	int log_seq_set;              /* log_next_seq is meaningful */
	uint64_t from_log;            /* atomic: records read back from the log */
};

static void
say(void *arg, const char *line)
{
	(void)arg;
	WT_LOG(WARNING, "%s\n", line);
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

/* The queue overflowed since the last look: say so, at most once a minute. */
static void
report_full(struct wt_ipfix_sender *s)
{
	uint64_t full = __atomic_load_n(&s->queue_full, __ATOMIC_RELAXED);
	uint64_t now = wt_now_ns();

	if (full == s->said_full || (s->said_full_ns && now - s->said_full_ns < SAY_EVERY_NS))
		return;
	WT_LOG(WARNING,
	       "IPFIX: the queue to %s is full (%u records): from seq %" PRIu64
	       " on, records are read back from the log and sent from there (%" PRIu64
	       " so far, up to seq %" PRIu64 ")\n",
	       s->url, rte_ring_get_capacity(s->ring),
	       __atomic_load_n(&s->full_first_seq, __ATOMIC_RELAXED), full,
	       __atomic_load_n(&s->full_last_seq, __ATOMIC_RELAXED));
	s->said_full = full;
	s->said_full_ns = now;
}

static uint64_t
mono_s(void)
{
	return wt_mono_ns() / WT_NS_PER_SEC;
}

/*
 * After the ring filled: the next records from the log, from
 * full_first_seq on, into @batch (at most BATCH). The log is followed: a
 * record the exporter wrote after the last call is found by the next one.
 * @return the number of records, 0 when nothing new is committed yet.
 */
static unsigned int
read_log(struct wt_ipfix_sender *s, struct wt_callrec *batch)
{
	if (s->log == NULL) {
		if (s->log_failed)
			return 0;
		const char *paths[1] = {s->log_dir};
		struct wt_seglog_reader_conf rc = {
		        .paths = paths,
		        .npaths = 1,
		        .spool_dir = s->spool_dir[0] ? s->spool_dir : NULL,
		        .follow = 1,
		};
		char err[512];
		s->log = wt_seglog_reader_open(&rc, err, sizeof(err));
		if (s->log == NULL) {
			WT_LOG(ERR,
			       "IPFIX: cannot read the log back after the queue filled: %s; "
			       "records "
			       "from seq %" PRIu64 " on are not sent over IPFIX\n",
			       err, s->log_next_seq);
			s->log_failed = 1;
			return 0;
		}
	}
	struct wt_seglog_frame f;
	unsigned int n = 0;
	while (n < BATCH && wt_seglog_reader_next(s->log, &f) == 1) {
		if (f.type != WT_SEGLOG_FRAME_RECORD || f.seq < s->log_next_seq ||
		    wt_seglog_frame_record(&f, &batch[n]) != 0)
			continue;
		s->log_next_seq = f.seq + 1;
		n++;
	}
	if (n)
		__atomic_store_n(&s->from_log, s->from_log + n, __ATOMIC_RELAXED);
	return n;
}

/* Every record offered is in the ring or was read from the log. */
static int
log_caught_up(const struct wt_ipfix_sender *s)
{
	if (!__atomic_load_n(&s->diverted, __ATOMIC_ACQUIRE))
		return 1;
	return s->log_failed || s->log_next_seq > __atomic_load_n(&s->last_seq, __ATOMIC_ACQUIRE);
}

static void *
sender_main(void *arg)
{
	struct wt_ipfix_sender *s = arg;
	struct wt_callrec batch[BATCH];
	unsigned int n = 0, pos = 0;
	uint64_t last_progress = mono_s();
	int polled_log = 0; /* this round looked for records in the log */

	for (;;) {
		int stopping = __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
		int rc = 0;
		if (pos == n) {
			n = rte_ring_sc_dequeue_burst_elem(s->ring, batch, sizeof(batch[0]), BATCH,
			                                   NULL);
			pos = 0;
			/* the ring is empty for good once it filled: the rest from the log */
			if (n == 0 && __atomic_load_n(&s->diverted, __ATOMIC_ACQUIRE)) {
				if (!s->log_seq_set) {
					s->log_next_seq = __atomic_load_n(&s->full_first_seq,
					                                  __ATOMIC_RELAXED);
					s->log_seq_set = 1;
				}
				n = read_log(s, batch);
				polled_log = 1;
			}
		}
		while (pos < n && (rc = wt_ipfix_exporter_add(s->x, &batch[pos])) == 0) {
			pos++;
			last_progress = mono_s();
		}
		/* nothing more waiting: let the message being built go out */
		if (rc == 0 && pos == n && rte_ring_empty(s->ring)) {
			struct wt_ipfix_exporter_stats before;
			wt_ipfix_exporter_stats(s->x, &before);
			rc = wt_ipfix_exporter_flush(s->x);
			if (rc == 0 && before.records_pending)
				last_progress = mono_s();
			if (rc == 0 && stopping && log_caught_up(s))
				break;
		}
		publish(s);
		report_full(s);
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
			/* idle: the ring is polled every millisecond, the log (which
			 * lists its directories again) every 20 */
			usleep(polled_log ? 20000 : 1000);
		polled_log = 0;
	}
	struct wt_ipfix_exporter_stats st;
	wt_ipfix_exporter_stats(s->x, &st);
	pthread_mutex_lock(&s->lock);
	s->xst = st;
	s->unsent_at_exit = (n - pos) + rte_ring_count(s->ring) + st.records_pending;
	/* after a full ring: what the log did not give back in time */
	uint64_t last = __atomic_load_n(&s->last_seq, __ATOMIC_ACQUIRE);
	uint64_t next = s->log_seq_set ? s->log_next_seq
	                               : __atomic_load_n(&s->full_first_seq, __ATOMIC_RELAXED);
	if (__atomic_load_n(&s->diverted, __ATOMIC_ACQUIRE) && next <= last)
		s->unsent_at_exit += last + 1 - next;
	pthread_mutex_unlock(&s->lock);
	wt_seglog_reader_close(s->log);
	s->log = NULL;
	return NULL;
}

struct wt_ipfix_sender *
wt_ipfix_sender_start(const struct wt_ipfix_sender_conf *conf, char *err, size_t errlen)
{
	struct wt_ipfix_sender *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "IPFIX: %s", strerror(ENOMEM));
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->url, sizeof(s->url), "%s", conf->url);
	if (conf->log_dir != NULL)
		snprintf(s->log_dir, sizeof(s->log_dir), "%s", conf->log_dir);
	if (conf->spool_dir != NULL)
		snprintf(s->spool_dir, sizeof(s->spool_dir), "%s", conf->spool_dir);
	if (!s->log_dir[0])
		s->log_failed = 1; /* nothing to read back: a full ring loses records */
	struct wt_ipfix_exporter_conf xc = {
	        .url = conf->url,
	        .domain = conf->domain,
	        .template_refresh = conf->template_refresh,
	        .say = say,
	};
	s->x = wt_ipfix_exporter_open(&xc, err, errlen);
	if (s->x == NULL)
		goto fail;
	s->ring = rte_ring_create_elem("wt_ipfix", sizeof(struct wt_callrec), conf->queue,
	                               (int)rte_socket_id(),
	                               RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (s->ring == NULL) {
		snprintf(err, errlen, "IPFIX: cannot create a queue of %" PRIu32 " records: %s",
		         conf->queue, rte_strerror(rte_errno));
		goto fail;
	}
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;
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
	return NULL;
}

void
wt_ipfix_sender_offer(struct wt_ipfix_sender *s, const struct wt_callrec *r)
{
	__atomic_store_n(&s->offered, s->offered + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->last_seq, r->seq, __ATOMIC_RELEASE);
	if (s->diverted ||
	    rte_ring_sp_enqueue_elem(s->ring, (void *)(uintptr_t)r, sizeof(*r)) != 0) {
		if (s->queue_full == 0)
			__atomic_store_n(&s->full_first_seq, r->seq, __ATOMIC_RELAXED);
		__atomic_store_n(&s->full_last_seq, r->seq, __ATOMIC_RELAXED);
		__atomic_store_n(&s->queue_full, s->queue_full + 1, __ATOMIC_RELAXED);
		/* from here on the sender reads the log: nothing more in the ring */
		__atomic_store_n(&s->diverted, 1, __ATOMIC_RELEASE);
		return;
	}
	unsigned int depth = rte_ring_count(s->ring);
	if (depth > s->queue_max)
		__atomic_store_n(&s->queue_max, depth, __ATOMIC_RELAXED);
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
	st->offered = __atomic_load_n(&s->offered, __ATOMIC_RELAXED);
	st->queue_full = __atomic_load_n(&s->queue_full, __ATOMIC_RELAXED);
	st->full_first_seq = __atomic_load_n(&s->full_first_seq, __ATOMIC_RELAXED);
	st->full_last_seq = __atomic_load_n(&s->full_last_seq, __ATOMIC_RELAXED);
	st->queue_max = __atomic_load_n(&s->queue_max, __ATOMIC_RELAXED);
	st->from_log = __atomic_load_n(&s->from_log, __ATOMIC_RELAXED);
	st->queued = rte_ring_count(s->ring);
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
	_(records_queue_full, queue_full)         \
	_(records_from_log, from_log)             \
	_(records_lost, lost)                     \
	_(records_unsent_at_exit, unsent_at_exit) \
	_(queued, queued)                         \
	_(queue_max, queue_max)                   \
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
	if (st.queue_full)
		fprintf(f,
		        "  ipfix: the queue filled at seq %" PRIu64 ": %" PRIu64
		        " records (to seq %" PRIu64 ") went through the log, %" PRIu64
		        " read back from it\n",
		        st.full_first_seq, st.queue_full, st.full_last_seq, st.from_log);
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
	rte_ring_free(s->ring);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
