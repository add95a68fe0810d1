/* SPDX-License-Identifier: BSD-3-Clause */
/* logq.c: the agent's records go to the trace log on a thread of their own, through a queue of 1
 * MiB chunks.
 *
 * Why: a segment roll seals the full segment (msync and fsync of 64 MiB)
 * and preallocates the next one. On the ring reader's thread that stopped
 * the reading for long enough to fill the rings: about 1 event in 100 lost
 * in a 1.4 M events/s flood here. Now the reader fills a chunk and hands it
 * over (a mutex, a condition variable, once per chunk or per round of
 * reading); the writer thread appends the chunk's records and returns the
 * chunk to a free list. A queue over its limit counts what it refuses as
 * lost, as the log does what it cannot take.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logq.h"

#define CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t used; /* bytes of records: u32 type, u32 length, the record padded to 8 */
	uint8_t data[CHUNK];
};

struct wta_logq {
	struct wt_seglog_writer *log;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk *ready, **ready_tail; /* for the writer, in order */
	struct chunk *spare;               /* written, for reuse */
	struct chunk *cur;                 /* the reader's, being filled */
	uint64_t held, max_bytes;          /* bytes in chunks handed over and not written */
	int stopping;
	/* counters: the reader's side (queue_full) and the writer's */
	uint64_t queue_full, written, log_lost, held_max;
	int log_errno;
	time_t last_flush_s; /* the writer's last msync, CLOCK_MONOTONIC seconds */
};

static void
write_chunk(struct wta_logq *q, const struct chunk *c)
{
	for (size_t off = 0; off < c->used;) {
		uint32_t type, len;
		memcpy(&type, c->data + off, 4);
		memcpy(&len, c->data + off + 4, 4);
		int rc = wt_seglog_append_typed(q->log, type, c->data + off + 8, len, NULL);
		if (rc == 0) {
			q->written++;
		} else {
			q->log_lost++;
			if (q->log_errno != -rc) {
				q->log_errno = -rc;
				fprintf(stderr,
				        "wiretally-agent: the trace log cannot take events: %s "
				        "(%s); "
				        "counted as lost\n",
				        strerror(-rc), wt_seglog_current_path(q->log));
			}
		}
		off += 8 + ((len + 7u) & ~7u);
	}
	/* Start writeback at most once a second: each msync write-protects
	 * the pages it cleans (a TLB shootdown to every CPU of the process,
	 * then a fault at the next write); per chunk that was a third of the
	 * agent's time in a flood. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ts.tv_sec != q->last_flush_s) {
		q->last_flush_s = ts.tv_sec;
		wt_seglog_flush(q->log);
	}
}

static void *
writer(void *arg)
{
	struct wta_logq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->ready == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		struct chunk *c = q->ready;
		if (c == NULL)
			break; /* stopping, and everything written */
		q->ready = c->next;
		if (q->ready == NULL)
			q->ready_tail = &q->ready;
		pthread_mutex_unlock(&q->mu);
		write_chunk(q, c);
		pthread_mutex_lock(&q->mu);
		q->held -= c->used;
		c->used = 0;
		c->next = q->spare;
		q->spare = c;
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct wta_logq *
wta_logq_start(struct wt_seglog_writer *log, uint64_t max_bytes, char *err, size_t errlen)
{
	struct wta_logq *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->log = log;
	q->max_bytes = max_bytes;
	q->ready_tail = &q->ready;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	/* the writer takes no signal: SIGINT and SIGTERM stop the reader */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&q->thread, NULL, writer, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the log writer thread: %s", strerror(rc));
		free(q);
		return NULL;
	}
	pthread_setname_np(q->thread, "wta-writer");
	return q;
}

/* Hand the current chunk over (the lock held). */
static void
hand_over(struct wta_logq *q)
{
	struct chunk *c = q->cur;
	if (c == NULL || c->used == 0)
		return;
	q->cur = NULL;
	c->next = NULL;
	*q->ready_tail = c;
	q->ready_tail = &c->next;
	q->held += c->used;
	if (q->held > q->held_max)
		q->held_max = q->held;
	pthread_cond_signal(&q->cv);
}

void
wta_logq_flush(struct wta_logq *q)
{
	if (q->cur == NULL || q->cur->used == 0)
		return;
	pthread_mutex_lock(&q->mu);
	hand_over(q);
	pthread_mutex_unlock(&q->mu);
}

void
wta_logq_put(struct wta_logq *q, unsigned int type, const void *rec, size_t len)
{
	size_t need = 8 + ((len + 7) & ~(size_t)7);

	if (q->cur != NULL && q->cur->used + need > CHUNK) {
		pthread_mutex_lock(&q->mu);
		hand_over(q);
		pthread_mutex_unlock(&q->mu);
	}
	if (q->cur == NULL) {
		pthread_mutex_lock(&q->mu);
		if (q->held + CHUNK <= q->max_bytes) {
			q->cur = q->spare;
			if (q->cur != NULL)
				q->spare = q->cur->next;
		}
		uint64_t held = q->held;
		pthread_mutex_unlock(&q->mu);
		if (q->cur == NULL && held + CHUNK <= q->max_bytes)
			q->cur = malloc(sizeof(*q->cur));
		if (q->cur == NULL) {
			q->queue_full++;
			return;
		}
		q->cur->used = 0;
	}
	uint32_t t32 = type, l32 = (uint32_t)len;
	uint8_t *p = q->cur->data + q->cur->used;
	memcpy(p, &t32, 4);
	memcpy(p + 4, &l32, 4);
	memcpy(p + 8, rec, len);
	q->cur->used += need;
}

void
wta_logq_stop(struct wta_logq *q, struct wta_logq_stats *st)
{
	pthread_mutex_lock(&q->mu);
	hand_over(q);
	q->stopping = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	st->written = q->written;
	st->lost = q->log_lost + q->queue_full;
	st->queue_full = q->queue_full;
	st->held_max = q->held_max;
	free(q->cur);
	while (q->spare != NULL) {
		struct chunk *c = q->spare;
		q->spare = c->next;
		free(c);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}
