/* SPDX-License-Identifier: BSD-3-Clause */
/* rings.c: one BPF ring buffer per CPU, taken out with libbpf and merged by time into one stream.
 *
 * Merging the rings: each CPU's ring holds its events in the order they
 * were reserved, which on one CPU is the order they happened. Everything
 * the rings hold is copied into one queue per CPU; then the queue whose
 * first event is oldest gives it up, over and over (a k-way merge by the
 * events' bpf_ktime_get_ns() time), while every queue has an event, or
 * while the oldest is older than the watermark: the moment the rings were
 * read minus WTA_MERGE_GRACE_NS. An event not yet committed when the rings
 * were read was reserved by a program still running on its CPU (programs
 * run without preemption), so it is younger than that; it is merged in
 * the next round. Events of one connection from two CPUs (an OPEN in
 * connect(), a RECV on the other CPU) so reach the log in the order they
 * happened.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rings.h"
#include "wt_time.h"

#define WTA_MERGE_GRACE_NS 1000000ull

struct cpuq {
	struct wta_rings *r;
	uint8_t *buf; /* records: u32 length, u32 zero, event padded to 8 */
	size_t head, tail, cap;
	int fd;
};

struct wta_rings {
	struct ring_buffer *rb;
	struct cpuq *q;
	int ncpu;
	uint64_t held;
	int oom;
	wta_store_fn store;
	void *arg;
};

static int
on_event(void *ctx, void *data, size_t len)
{
	struct cpuq *q = ctx;
	size_t need = 8 + ((len + 7) & ~(size_t)7);

	if (len < 8)
		return 0;
	if (q->tail + need > q->cap) {
		if (q->head > 0) { /* compact */
			memmove(q->buf, q->buf + q->head, q->tail - q->head);
			q->tail -= q->head;
			q->head = 0;
		}
		if (q->tail + need > q->cap) {
			size_t nc = q->cap ? q->cap * 2 : 1 << 20;
			while (q->tail + need > nc)
				nc *= 2;
			uint8_t *b = realloc(q->buf, nc);
			if (b == NULL) {
				q->r->oom = 1;
				return -ENOMEM; /* stops this round; the event stays in the ring */
			}
			q->buf = b;
			q->cap = nc;
		}
	}
	uint32_t l32 = (uint32_t)len, zero = 0;
	memcpy(q->buf + q->tail, &l32, 4);
	memcpy(q->buf + q->tail + 4, &zero, 4);
	memcpy(q->buf + q->tail + 8, data, len);
	q->tail += need;
	q->r->held++;
	return 0;
}

struct wta_rings *
wta_rings_open(int ncpu, uint64_t size, wta_store_fn store, void *arg, char *err, size_t errlen)
{
	struct wta_rings *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->q = calloc((size_t)ncpu, sizeof(*r->q))) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(r);
		return NULL;
	}
	r->ncpu = ncpu;
	r->store = store;
	r->arg = arg;
	for (int i = 0; i < ncpu; i++)
		r->q[i].fd = -1;
	for (int i = 0; i < ncpu; i++) {
		struct cpuq *q = &r->q[i];
		char name[24];
		snprintf(name, sizeof(name), "wta_ring%u", (unsigned int)i % 100000u);
		q->r = r;
		q->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, name, 0, 0, (uint32_t)size, NULL);
		if (q->fd < 0) {
			snprintf(err, errlen,
			         "cannot create the ring buffer of CPU %d (%llu KiB): %s", i,
			         (unsigned long long)(size >> 10), strerror(errno));
			wta_rings_close(r);
			return NULL;
		}
	}
	return r;
}

int
wta_rings_template_fd(const struct wta_rings *r)
{
	return r->q[0].fd;
}

int
wta_rings_attach(struct wta_rings *r, int outer_fd, char *err, size_t errlen)
{
	for (int i = 0; i < r->ncpu; i++) {
		struct cpuq *q = &r->q[i];
		uint32_t key = (uint32_t)i;
		if (bpf_map_update_elem(outer_fd, &key, &q->fd, 0) != 0) {
			snprintf(err, errlen, "cannot give CPU %d its ring buffer: %s", i,
			         strerror(errno));
			return -1;
		}
		int rc = 0;
		if (r->rb == NULL)
			rc = (r->rb = ring_buffer__new(q->fd, on_event, q, NULL)) != NULL ? 0
			                                                                  : -errno;
		else
			rc = ring_buffer__add(r->rb, q->fd, on_event, q);
		if (rc != 0) {
			snprintf(err, errlen, "cannot open the ring buffer of CPU %d: %s", i,
			         strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static uint64_t
head_ts(const struct cpuq *q)
{
	uint64_t ts;
	memcpy(&ts, q->buf + q->head + 8, sizeof(ts));
	return ts;
}

/* Pass on the events older than @watermark, and any while every queue
 * holds one, oldest first. */
static void
merge(struct wta_rings *r, uint64_t watermark)
{
	for (;;) {
		struct cpuq *best = NULL;
		uint64_t bt = UINT64_MAX;
		int empty = 0;
		for (int i = 0; i < r->ncpu; i++) {
			struct cpuq *q = &r->q[i];
			if (q->head == q->tail) {
				empty = 1;
				continue;
			}
			uint64_t t = head_ts(q);
			if (best == NULL || t < bt) {
				best = q;
				bt = t;
			}
		}
		if (best == NULL || (empty && bt >= watermark))
			return;
		uint32_t len;
		memcpy(&len, best->buf + best->head, 4);
		r->store(r->arg, best->buf + best->head + 8, len);
		best->head += 8 + ((len + 7u) & ~7u);
		if (best->head == best->tail)
			best->head = best->tail = 0;
		r->held--;
	}
}

int
wta_rings_poll(struct wta_rings *r, int timeout_ms)
{
	int n = ring_buffer__poll(r->rb, timeout_ms);
	if (n < 0 && n != -EINTR && !r->oom)
		return n;
	/* the programs wake the agent rarely (wta.bpf.c, commit()): read
	 * every ring, woken or not */
	uint64_t now = wt_mono_ns();
	r->oom = 0;
	int m = ring_buffer__consume(r->rb);
	if (m < 0 && !r->oom)
		return m;
	merge(r, now - WTA_MERGE_GRACE_NS);
	return (n > 0 ? n : 0) + (m > 0 ? m : 0);
}

int
wta_rings_drain(struct wta_rings *r)
{
	r->oom = 0;
	int m = ring_buffer__consume(r->rb);
	merge(r, UINT64_MAX);
	return m < 0 && !r->oom ? m : 0;
}

uint64_t
wta_rings_held(const struct wta_rings *r)
{
	return r->held;
}

void
wta_rings_close(struct wta_rings *r)
{
	if (r == NULL)
		return;
	ring_buffer__free(r->rb);
	for (int i = 0; i < r->ncpu; i++) {
		free(r->q[i].buf);
		if (r->q[i].fd >= 0)
			close(r->q[i].fd);
	}
	free(r->q);
	free(r);
}
