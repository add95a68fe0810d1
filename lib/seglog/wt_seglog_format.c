/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_format.c: segment header codec, frame cursor and file names. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "wt_crc32c.h"
#include "wt_seglog_format.h"
#include "wt_time.h"

static inline uint16_t
ld16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* CRC of a header block with its 4-byte CRC field taken as zero. */
static uint32_t
block_crc(const uint8_t *blk, size_t len, size_t crc_off)
{
	static const uint8_t zero[4];
	uint32_t c = wt_crc32c(0, blk, crc_off);
	c = wt_crc32c(c, zero, sizeof(zero));
	return wt_crc32c(c, blk + crc_off + 4, len - crc_off - 4);
}

static int
all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

void
wt_seg_header_encode(uint8_t *p, const struct wt_seg_header *h)
{
	uint8_t *c = p + WT_SEG_CREATE_OFF;

	memset(c, 0, WT_SEG_CREATE_LEN);
	memcpy(c + WT_SEG_H_MAGIC, WT_SEG_MAGIC, 8);
	st16(c + WT_SEG_H_MAJOR, h->major);
	st16(c + WT_SEG_H_MINOR, h->minor);
	st32(c + WT_SEG_H_HDR_SIZE, h->header_size);
	st64(c + WT_SEG_H_SEG_SIZE, h->segment_size);
	st64(c + WT_SEG_H_SEG_NO, h->segment_no);
	st64(c + WT_SEG_H_RUN_ID, h->run_id);
	st64(c + WT_SEG_H_CREATED_NS, h->created_ns);
	st64(c + WT_SEG_H_FIRST_SEQ, h->first_seq);
	st32(c + WT_SEG_H_CREATE_CRC, block_crc(c, WT_SEG_CREATE_LEN, WT_SEG_H_CREATE_CRC));
}

void
wt_seg_seal_encode(uint8_t *p, const struct wt_seg_header *h)
{
	uint8_t blk[WT_SEG_SEAL_LEN];
	const size_t crc_off = WT_SEG_S_CRC - WT_SEG_SEAL_OFF;

	/* Built aside and copied with the CRC last, so a reader racing with
	 * the seal sees either a bad CRC (= torn, treated as open) or the
	 * whole block. */
	memset(blk, 0, sizeof(blk));
	st32(blk + (WT_SEG_S_STATE - WT_SEG_SEAL_OFF), h->state);
	st64(blk + (WT_SEG_S_RECORDS - WT_SEG_SEAL_OFF), h->record_count);
	st64(blk + (WT_SEG_S_LAST_SEQ - WT_SEG_SEAL_OFF), h->last_seq);
	st64(blk + (WT_SEG_S_END_OFF - WT_SEG_SEAL_OFF), h->end_offset);
	st64(blk + (WT_SEG_S_FRAMES - WT_SEG_SEAL_OFF), h->frame_count);
	st64(blk + (WT_SEG_S_SEALED_NS - WT_SEG_SEAL_OFF), h->sealed_ns);
	uint32_t crc = block_crc(blk, sizeof(blk), crc_off);
	memcpy(p + WT_SEG_SEAL_OFF, blk, crc_off);
	memcpy(p + WT_SEG_S_CRC + 4, blk + crc_off + 4, sizeof(blk) - crc_off - 4);
	__atomic_store_n((uint32_t *)(void *)(p + WT_SEG_S_CRC), crc, __ATOMIC_RELEASE);
}

static void
decode_seal(const uint8_t *p, struct wt_seg_header *h)
{
	const uint8_t *s = p + WT_SEG_SEAL_OFF;
	uint32_t crc = __atomic_load_n((const uint32_t *)(const void *)(p + WT_SEG_S_CRC),
	                               __ATOMIC_ACQUIRE);

	h->sealed = false;
	h->seal_torn = false;
	h->state = WT_SEG_STATE_OPEN;
	if (all_zero(s, WT_SEG_SEAL_LEN))
		return;
	if (crc != block_crc(s, WT_SEG_SEAL_LEN, WT_SEG_S_CRC - WT_SEG_SEAL_OFF)) {
		h->seal_torn = true;
		return;
	}
	h->state = wt_load32(p + WT_SEG_S_STATE);
	h->record_count = wt_load64(p + WT_SEG_S_RECORDS);
	h->last_seq = wt_load64(p + WT_SEG_S_LAST_SEQ);
	h->end_offset = wt_load64(p + WT_SEG_S_END_OFF);
	h->frame_count = wt_load64(p + WT_SEG_S_FRAMES);
	h->sealed_ns = wt_load64(p + WT_SEG_S_SEALED_NS);
	h->sealed = h->state != WT_SEG_STATE_OPEN;
}

enum wt_seg_hdr_status
wt_seg_header_decode(const uint8_t *p, uint64_t avail, struct wt_seg_header *h, char *why,
                     size_t whylen)
{
	memset(h, 0, sizeof(*h));
	if (avail < 8 || memcmp(p + WT_SEG_H_MAGIC, WT_SEG_MAGIC, 8) != 0) {
		wt_seg_seterr(why, whylen, "not a wiretally segment (bad magic)");
		return avail < 8 ? WT_SEG_HDR_SHORT : WT_SEG_HDR_BAD_MAGIC;
	}
	if (avail < WT_SEG_HEADER_SIZE) {
		wt_seg_seterr(why, whylen,
		              "file too short for a segment header (%" PRIu64 " bytes)", avail);
		return WT_SEG_HDR_SHORT;
	}
	h->major = ld16(p + WT_SEG_H_MAJOR);
	h->minor = ld16(p + WT_SEG_H_MINOR);
	/* The version is checked before the CRC: a newer major version may
	 * compute it differently, and "cannot read version 2" is the useful
	 * message. */
	if (h->major != WT_SEG_MAJOR) {
		wt_seg_seterr(why, whylen,
		              "segment format version %u.%u not supported (this reader reads %u.x)",
		              h->major, h->minor, WT_SEG_MAJOR);
		return WT_SEG_HDR_UNSUPPORTED;
	}
	uint32_t crc = wt_load32(p + WT_SEG_H_CREATE_CRC);
	uint32_t want = block_crc(p, WT_SEG_CREATE_LEN, WT_SEG_H_CREATE_CRC);
	if (crc != want) {
		wt_seg_seterr(why, whylen,
		              "segment header corrupt (CRC 0x%08" PRIx32 ", computed 0x%08" PRIx32
		              ")",
		              crc, want);
		return WT_SEG_HDR_BAD_CRC;
	}
	h->header_size = wt_load32(p + WT_SEG_H_HDR_SIZE);
	h->segment_size = wt_load64(p + WT_SEG_H_SEG_SIZE);
	h->segment_no = wt_load64(p + WT_SEG_H_SEG_NO);
	h->run_id = wt_load64(p + WT_SEG_H_RUN_ID);
	h->created_ns = wt_load64(p + WT_SEG_H_CREATED_NS);
	h->first_seq = wt_load64(p + WT_SEG_H_FIRST_SEQ);
	if (h->header_size < WT_SEG_HEADER_SIZE || h->header_size % WT_FRAME_ALIGN ||
	    h->segment_size < WT_SEGLOG_MIN_SEGMENT_SIZE ||
	    h->segment_size > WT_SEGLOG_MAX_SEGMENT_SIZE || h->header_size >= h->segment_size ||
	    h->header_size > avail) {
		wt_seg_seterr(why, whylen,
		              "segment header impossible (header_size %" PRIu32
		              ", segment_size %" PRIu64 ")",
		              h->header_size, h->segment_size);
		return WT_SEG_HDR_BAD_FIELD;
	}
	decode_seal(p, h);
	return WT_SEG_HDR_OK;
}

enum wt_seg_step
wt_seg_cursor_next(struct wt_seg_cursor *c, struct wt_seg_frame *f)
{
	uint64_t off = c->off;

	if (off + WT_FRAME_HDR_SIZE > c->limit)
		return WT_SEG_STEP_END;
	/* Acquire pairs with the writer's release store of the word: the CRC
	 * and payload written before it are visible once the word is. */
	uint32_t word =
	        __atomic_load_n((const uint32_t *)(const void *)(c->base + off), __ATOMIC_ACQUIRE);
	if (word == 0)
		return WT_SEG_STEP_END;
	f->offset = off;
	f->word = word;
	f->type = (word >> WT_FRAME_TYPE_SHIFT) & WT_FRAME_TYPE_MASK;
	f->len = word & WT_FRAME_LEN_MASK;
	f->payload = c->base + off + WT_FRAME_HDR_SIZE;
	if (!(word & WT_FRAME_COMMIT) || f->type == 0 || wt_frame_span(f->len) > c->limit - off)
		return WT_SEG_STEP_BAD_WORD;
	c->off = off + wt_frame_span(f->len);
	uint32_t crc = wt_load32(c->base + off + 4);
	uint32_t got = wt_crc32c(wt_crc32c(0, &word, 4), f->payload, f->len);
	return crc == got ? WT_SEG_STEP_FRAME : WT_SEG_STEP_BAD_CRC;
}

int
wt_seg_cursor_resync(struct wt_seg_cursor *c, uint64_t from, uint64_t until)
{
	struct wt_seg_cursor probe = *c;
	struct wt_seg_frame f;

	until = WT_MIN(until, c->limit);
	for (uint64_t off = WT_ALIGN_UP(from, WT_FRAME_ALIGN); off + WT_FRAME_HDR_SIZE <= until;
	     off += WT_FRAME_ALIGN) {
		if (wt_load32(c->base + off) == 0)
			continue; /* fast path over zeroed areas */
		probe.off = off;
		if (wt_seg_cursor_next(&probe, &f) == WT_SEG_STEP_FRAME) {
			c->off = off;
			return 1;
		}
	}
	return 0;
}

int
wt_seg_name_parse(const char *name, uint64_t *segno)
{
	uint64_t v = 0;

	if (strlen(name) != WT_SEG_NAME_LEN ||
	    memcmp(name, WT_SEG_NAME_PREFIX, strlen(WT_SEG_NAME_PREFIX)) != 0 ||
	    strcmp(name + WT_SEG_NAME_LEN - strlen(WT_SEG_NAME_SUFFIX), WT_SEG_NAME_SUFFIX) != 0)
		return 0;
	for (size_t i = strlen(WT_SEG_NAME_PREFIX);
	     i < strlen(WT_SEG_NAME_PREFIX) + WT_SEG_NAME_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		uint64_t d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*segno = v;
	return 1;
}

void
wt_seg_name_make(char *buf, size_t len, uint64_t segno)
{
	snprintf(buf, len, WT_SEG_NAME_PREFIX "%020" PRIu64 WT_SEG_NAME_SUFFIX, segno);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
wt_seg_names_free(char **names, int n)
{
	if (names == NULL)
		return;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
wt_seg_list(int dirfd, char ***names)
{
	char **v = NULL;
	int n = 0, cap = 0, rc;
	uint64_t segno;
	struct dirent *de;
	int fd = dup(dirfd);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rewinddir(d);
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!wt_seg_name_parse(de->d_name, &segno))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, (size_t)cap * sizeof(*v));
			if (nv == NULL)
				goto err_nomem;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (v[n] == NULL)
			goto err_nomem;
		n++;
	}
	rc = errno ? -errno : 0;
	closedir(d);
	if (rc) {
		wt_seg_names_free(v, n);
		return rc;
	}
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), name_cmp);
	*names = v;
	return n;

err_nomem:
	closedir(d);
	wt_seg_names_free(v, n);
	return -ENOMEM;
}

void
wt_seg_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t
wt_seg_now_ns(void)
{
	return wt_real_ns();
}
