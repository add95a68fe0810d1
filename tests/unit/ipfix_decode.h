/* SPDX-License-Identifier: BSD-3-Clause */
/* ipfix_decode.h: a small template-driven IPFIX decoder for tests (knows nothing of wiretally's
 * templates). */
#ifndef IPFIX_DECODE_H
#define IPFIX_DECODE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEC_MAX_TPL    8
#define DEC_MAX_FIELDS 64
#define DEC_MAX_RECS   4096

struct dec_field {
	uint32_t pen;
	uint16_t id, len;
};

struct dec_tpl {
	uint16_t tid, n;
	struct dec_field f[DEC_MAX_FIELDS];
};

/* One decoded data record: each field's bytes, looked up by (pen, id). */
struct dec_rec {
	uint16_t tid;
	uint16_t n;
	struct dec_field f[DEC_MAX_FIELDS];
	const uint8_t *val[DEC_MAX_FIELDS];
	uint32_t msg_seq; /* sequence number of its message */
};

struct dec_msg {
	uint16_t version, length;
	uint32_t export_time, seq, domain;
	unsigned int tpl_records, data_records;
};

struct decoder {
	struct dec_tpl tpl[DEC_MAX_TPL];
	unsigned int ntpl;
	struct dec_rec rec[DEC_MAX_RECS];
	unsigned int nrec;
	char err[256];
};

static inline uint64_t
dec_be(const uint8_t *p, unsigned int len)
{
	uint64_t v = 0;
	for (unsigned int i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static inline struct dec_tpl *
dec_find_tpl(struct decoder *d, uint16_t tid)
{
	for (unsigned int i = 0; i < d->ntpl; i++)
		if (d->tpl[i].tid == tid)
			return &d->tpl[i];
	return NULL;
}

/* Decode one message of @len bytes (the buffer must stay alive while the
 * records are looked at). @return 0, or -1 with d->err set. */
static inline int
dec_message(struct decoder *d, const uint8_t *b, size_t len, struct dec_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < 16) {
		snprintf(d->err, sizeof(d->err), "message shorter than its header");
		return -1;
	}
	m->version = (uint16_t)dec_be(b, 2);
	m->length = (uint16_t)dec_be(b + 2, 2);
	m->export_time = (uint32_t)dec_be(b + 4, 4);
	m->seq = (uint32_t)dec_be(b + 8, 4);
	m->domain = (uint32_t)dec_be(b + 12, 4);
	if (m->version != 10 || m->length != len) {
		snprintf(d->err, sizeof(d->err), "version %u length %u (buffer %zu)", m->version,
		         m->length, len);
		return -1;
	}
	size_t off = 16;
	while (off < len) {
		if (off + 4 > len) {
			snprintf(d->err, sizeof(d->err), "set header past the end");
			return -1;
		}
		uint16_t sid = (uint16_t)dec_be(b + off, 2),
		         slen = (uint16_t)dec_be(b + off + 2, 2);
		if (slen < 4 || off + slen > len) {
			snprintf(d->err, sizeof(d->err), "set %u length %u at %zu", sid, slen, off);
			return -1;
		}
		const uint8_t *p = b + off + 4, *end = b + off + slen;
		if (sid == 2) {
			while (end - p >= 4) {
				if (d->ntpl == DEC_MAX_TPL) {
					snprintf(d->err, sizeof(d->err), "too many templates");
					return -1;
				}
				struct dec_tpl t = {.tid = (uint16_t)dec_be(p, 2),
				                    .n = (uint16_t)dec_be(p + 2, 2)};
				p += 4;
				for (unsigned int i = 0; i < t.n; i++) {
					if (end - p < 4 || i >= DEC_MAX_FIELDS) {
						snprintf(d->err, sizeof(d->err), "template %u cut",
						         t.tid);
						return -1;
					}
					uint16_t id = (uint16_t)dec_be(p, 2);
					t.f[i].len = (uint16_t)dec_be(p + 2, 2);
					t.f[i].id = id & 0x7fff;
					p += 4;
					if (id & 0x8000) {
						t.f[i].pen = (uint32_t)dec_be(p, 4);
						p += 4;
					}
				}
				struct dec_tpl *old = dec_find_tpl(d, t.tid);
				if (old)
					*old = t;
				else
					d->tpl[d->ntpl++] = t;
				m->tpl_records++;
			}
		} else if (sid >= 256) {
			struct dec_tpl *t = dec_find_tpl(d, sid);
			if (t == NULL) {
				snprintf(d->err, sizeof(d->err), "data set %u before its template",
				         sid);
				return -1;
			}
			unsigned int rlen = 0;
			for (unsigned int i = 0; i < t->n; i++)
				rlen += t->f[i].len;
			while ((size_t)(end - p) >= rlen && rlen > 0) {
				if (d->nrec == DEC_MAX_RECS) {
					snprintf(d->err, sizeof(d->err), "too many records");
					return -1;
				}
				struct dec_rec *r = &d->rec[d->nrec++];
				r->tid = sid;
				r->n = t->n;
				r->msg_seq = m->seq;
				for (unsigned int i = 0; i < t->n; i++) {
					r->f[i] = t->f[i];
					r->val[i] = p;
					p += t->f[i].len;
				}
				m->data_records++;
			}
			if (p != end) {
				snprintf(d->err, sizeof(d->err), "padding of %zu bytes in set %u",
				         (size_t)(end - p), sid);
				return -1;
			}
		} else {
			snprintf(d->err, sizeof(d->err), "unexpected set id %u", sid);
			return -1;
		}
		off += slen;
	}
	return 0;
}

/* The value of (pen, id) in @r: its bytes and length, or NULL. */
static inline const uint8_t *
dec_get(const struct dec_rec *r, uint32_t pen, uint16_t id, uint16_t *len)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->f[i].pen == pen && r->f[i].id == id) {
			if (len)
				*len = r->f[i].len;
			return r->val[i];
		}
	return NULL;
}

/* Numeric value of (pen, id), or @missing. */
static inline uint64_t
dec_num(const struct dec_rec *r, uint32_t pen, uint16_t id, uint64_t missing)
{
	uint16_t len;
	const uint8_t *v = dec_get(r, pen, id, &len);
	return v ? dec_be(v, len) : missing;
}

#endif /* IPFIX_DECODE_H */
