/* SPDX-License-Identifier: BSD-3-Clause */
/* trace.c: the agent's trace log as a table of connections: open, owner, hot and close records.
 *
 * Every typed record (docs/AGENT.md "Trace log") is taken in log order: an
 * open record starts a connection (its 4-tuple, namespace, owner), an
 * owner record replaces its owner, the hot records add to its five byte
 * counts, a close record ends it. Records of a connection whose open
 * record the log does not have (written before the agent's first segment
 * kept, or lost) are counted, never guessed. Stats frames give the
 * agent's count of lost events.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* ---- the table --------------------------------------------------------- */

static size_t
home(uint64_t id, size_t nslot)
{
	return (size_t)(id * 0x9e3779b97f4a7c15ull) & (nslot - 1);
}

/* The slot holding @id, or nslot when absent. */
static size_t
slot_of(const struct table *t, uint64_t id)
{
	if (t->nslot == 0)
		return 0;
	for (size_t i = home(id, t->nslot);; i = (i + 1) & (t->nslot - 1)) {
		if (t->slot[i] == 0)
			return t->nslot;
		if (t->c[t->slot[i] - 1].id == id)
			return i;
	}
}

struct conn *
wtrp_find(struct table *t, uint64_t id)
{
	size_t i = slot_of(t, id);
	return i < t->nslot ? &t->c[t->slot[i] - 1] : NULL;
}

/* Connections the table first has room for (480 bytes each); it doubles
 * as they come. Small, so that a short trace costs a small allocation. */
#define FIRST_CONNS 64

static struct conn *
add(struct table *t, uint64_t id)
{
	if (t->n + 1 > t->nslot / 2) {
		size_t ns = t->nslot ? t->nslot * 2 : 2 * FIRST_CONNS;
		size_t *slot = calloc(ns, sizeof(*slot));
		if (slot == NULL)
			return NULL;
		for (size_t k = 0; k < t->n; k++) {
			size_t i = home(t->c[k].id, ns);
			while (slot[i] != 0)
				i = (i + 1) & (ns - 1);
			slot[i] = k + 1;
		}
		free(t->slot);
		t->slot = slot;
		t->nslot = ns;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : FIRST_CONNS;
		struct conn *c = realloc(t->c, nc * sizeof(*c));
		if (c == NULL)
			return NULL;
		t->c = c;
		t->cap = nc;
	}
	struct conn *c = &t->c[t->n];
	memset(c, 0, sizeof(*c));
	c->id = id;
	size_t i = home(id, t->nslot);
	while (t->slot[i] != 0)
		i = (i + 1) & (t->nslot - 1);
	t->slot[i] = ++t->n;
	return c;
}

void
wtrp_free(struct report *r)
{
	free(r->t.c);
	free(r->t.slot);
	memset(&r->t, 0, sizeof(r->t));
}

void
wtrp_remove(struct table *t, struct conn *c)
{
	size_t mask = t->nslot - 1, idx = (size_t)(c - t->c);
	size_t i = slot_of(t, c->id);

	/* backward-shift deletion: later entries of the probe run move up
	 * when the hole lies between their home slot and where they are */
	for (size_t j = (i + 1) & mask; t->slot[j] != 0; j = (j + 1) & mask) {
		size_t h = home(t->c[t->slot[j] - 1].id, t->nslot);
		if (((i - h) & mask) < ((j - h) & mask)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i] = 0;
	size_t last = t->n - 1;
	if (idx != last) {
		t->slot[slot_of(t, t->c[last].id)] = idx + 1;
		t->c[idx] = t->c[last];
	}
	t->n--;
}

/* ---- records ------------------------------------------------------------ */

static void
on_stats(struct report *r, const char *text, size_t len)
{
	const char *key = "agent.lost=";
	for (const char *p = text; p < text + len;) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		if (l > strlen(key) && memcmp(p, key, strlen(key)) == 0) {
			char num[24]; /* the payload is not NUL-terminated */
			size_t n = l - strlen(key) < sizeof(num) - 1 ? l - strlen(key)
			                                             : sizeof(num) - 1;
			memcpy(num, p + strlen(key), n);
			num[n] = '\0';
			r->lost += strtoull(num, NULL, 10);
			r->have_stats = 1;
		}
		p += l + 1;
	}
}

static struct conn *
on_open(struct report *r, const struct wt_seglog_frame *f)
{
	const uint8_t *p = f->payload;
	struct wta_open o;

	if (f->len < 8 + sizeof(o))
		return NULL;
	memcpy(&o, p + 8, sizeof(o));
	struct conn *c = wtrp_find(&r->t, o.conn);
	if (c == NULL) {
		if (f->type == WTA_EV_OWNER) {
			r->orphans++;
			return NULL;
		}
		c = add(&r->t, o.conn);
		if (c == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			exit(1);
		}
		c->open_ns = o.ts_ns;
		c->udp = o.proto == 17;
	}
	c->o = o;
	size_t n = f->len - 8 - sizeof(o);
	if (n >= sizeof(c->cgroup))
		n = sizeof(c->cgroup) - 1;
	memcpy(c->cgroup, p + 8 + sizeof(o), n);
	c->cgroup[n] = '\0';
	return c;
}

struct conn *
wtrp_frame(struct report *r, const struct wt_seglog_frame *f)
{
	struct conn *c;

	if (f->type == WT_SEGLOG_FRAME_STATS) {
		on_stats(r, f->payload, f->len);
		return NULL;
	}
	if (f->type == WTA_EV_OPEN || f->type == WTA_EV_OWNER) {
		c = on_open(r, f);
		if (c != NULL && c->o.ts_ns > r->newest_ns)
			r->newest_ns = c->o.ts_ns;
		if (c != NULL)
			c->last_ns = c->o.ts_ns;
		return c;
	}
	if (f->type == WTA_EV_CLOSE) {
		struct wta_close e;
		if (f->len < 8 + sizeof(e))
			return NULL;
		memcpy(&e, (const uint8_t *)f->payload + 8, sizeof(e));
		if (e.ts_ns > r->newest_ns)
			r->newest_ns = e.ts_ns;
		c = wtrp_find(&r->t, e.conn);
		if (c == NULL) {
			r->orphans++;
			return NULL;
		}
		c->close_ns = c->last_ns = e.ts_ns;
		c->cancelled += e.cancelled;
		memcpy(c->ifname, e.ifname, sizeof(c->ifname));
		c->ifname[sizeof(c->ifname) - 1] = '\0';
		return c;
	}
	struct wta_rec_hot h;
	if (f->type < WTA_EV_FIRST || f->type > WTA_EV_LAST || f->len < sizeof(h))
		return NULL;
	memcpy(&h, f->payload, sizeof(h));
	if (h.ts_ns > r->newest_ns)
		r->newest_ns = h.ts_ns;
	c = wtrp_find(&r->t, h.conn);
	if (c == NULL) {
		r->orphans++;
		return NULL;
	}
	c->last_ns = h.ts_ns;
	switch (f->type) {
	case WTA_EV_SEND:
	case WTA_EV_UDP_SEND:
		c->sent += h.bytes;
		break;
	case WTA_EV_RECV:
	case WTA_EV_UDP_RECV:
		c->received += h.bytes;
		break;
	case WTA_EV_IND:
		c->indicated += h.bytes;
		break;
	case WTA_EV_RETX:
		c->retx += h.bytes;
		break;
	default:
		break;
	}
	return c;
}

void
wtrp_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t off, const char *msg)
{
	int *worst = arg;
	fprintf(stderr, PROG ": %s: offset %" PRIu64 ": %s\n", path, off, msg);
	int cls = p == WT_SEGLOG_PROBLEM_IO || p == WT_SEGLOG_PROBLEM_VERSION ? 1 : 2;
	if (cls > *worst)
		*worst = cls;
}

int
wtrp_load(struct report *r, const char *const *paths, size_t npaths, int *worst)
{
	char err[512];
	struct wt_seglog_reader_conf rc = {
	        .paths = paths, .npaths = npaths, .problem = wtrp_problem, .problem_arg = worst};
	struct wt_seglog_reader *rd = wt_seglog_reader_open(&rc, err, sizeof(err));
	if (rd == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	struct wt_seglog_frame f;
	while (wt_seglog_reader_next(rd, &f) == 1)
		wtrp_frame(r, &f);
	wt_seglog_reader_close(rd);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

int
wtrp_family(const struct wta_open *o, const uint8_t in[16], uint8_t addr[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(addr, 0, 16);
	if (o->family != 10) {
		memcpy(addr, in, 4);
		return 4;
	}
	if (memcmp(in, mapped, sizeof(mapped)) == 0) {
		memcpy(addr, in + 12, 4);
		return 4;
	}
	memcpy(addr, in, 16);
	return 6;
}

void
wtrp_csv_str(const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

void
wtrp_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

const char *
wtrp_comm(const struct conn *c, char *buf)
{
	memcpy(buf, c->o.owner.comm, 16);
	buf[16] = '\0';
	return buf;
}

void
wtrp_say_incomplete(const struct report *r)
{
	if (r->lost)
		fprintf(stderr,
		        PROG ": the agent lost %" PRIu64 " events (its ring buffer or its log was "
		             "full): these totals are incomplete\n",
		        r->lost);
	if (r->orphans)
		fprintf(stderr,
		        PROG ": %" PRIu64
		             " records of connections whose open record the log does not "
		             "have (not counted)\n",
		        r->orphans);
}
