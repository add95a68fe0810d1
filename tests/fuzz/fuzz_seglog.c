/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_seglog.c: libFuzzer harness: the segment reader on damaged logs (headers, frames, seals,
 * several segments, follow mode).
 *
 * Input: byte 0 = mode. Bit 0 clear: the rest is written as segment files
 * as it is (split in two at a point bytes 1-2 choose when bit 2 is set).
 * Bit 0 set: the rest is a recipe, so that the fuzzer gets past the CRCs:
 * a header (segment number, first seq from the next bytes), then frames
 * (a type byte, a length byte, that many payload bytes; the frame CRC
 * computed), a seal (bit 3: sealed with what was written, or with counts
 * from the input), then up to 8 damages (an offset and a byte XORed in) from
 * the input's tail; bit 4: each built segment stored compressed (FORMAT.md
 * 3.2) after its damages, so the reader's path through decompression sees
 * the same damaged segments. Bit 1: read in follow mode (until it has
 * nothing new).
 * Invariants: the reader never reads past a file (ASan: files are mapped
 * exactly), counts agree (records and typed records <= frames), every
 * record frame it returns is at least a version 1 record, every problem
 * has a message, and a second read gives the same counts.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fuzz_require.h"

#include "wt_crc32c.h"
#include "wt_record.h"
#include "wt_seglog.h"
#include "wt_seglog_format.h"
#include "wt_seglog_segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEG_MAX (1u << 16)

static char dir[64];
static uint8_t seg[2][SEG_MAX];

static void
put_file(int k, const uint8_t *p, size_t n)
{
	char path[128], name[40];
	wt_seg_name_make(name, sizeof(name), (uint64_t)k + 1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* Segment file @k as a compressed segment of @p's @n bytes (FORMAT.md
 * 3.2: one zstd frame with its content size; written here without the
 * writer's fsync, which would slow the fuzzer down a hundredfold). */
static void
put_zstd(int k, const uint8_t *p, size_t n)
{
	static uint8_t z[SEG_MAX + 1024];
	size_t zn = ZSTD_compress(z, sizeof(z), p, n, 1);
	if (ZSTD_isError(zn))
		abort();
	put_file(k, z, zn);
}

static void
clear_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

static void
remove_dir(void)
{
	clear_dir();
	rmdir(dir);
}

/* Build one segment from the recipe at *@p; @return its size. */
static size_t
build(uint8_t *out, const uint8_t **p, const uint8_t *end, uint64_t segno, int mode)
{
	struct wt_seg_header h;
	uint64_t first = *p < end ? **p : 0;
	wt_seg_header_init(&h, SEG_MAX, segno, 7, first);
	memset(out, 0, SEG_MAX);
	wt_seg_header_encode(out, &h);
	uint64_t off = WT_SEG_HEADER_SIZE, frames = 0, records = 0, last = 0;
	int nframes = *p < end ? (*(*p)++ & 31) : 0;
	for (int i = 0; i < nframes && *p + 2 <= end; i++) {
		unsigned int type = (*p)[0] & 0x7f;
		uint32_t len = (*p)[1];
		*p += 2;
		if (type == WT_SEGLOG_FRAME_RECORD)
			len = (*p)[-1] & 1 ? WT_CALLREC_V1_SIZE : sizeof(struct wt_callrec);
		if (off + wt_frame_span(len) > SEG_MAX)
			break;
		uint8_t *f = out + off;
		for (uint32_t k = 0; k < len; k++)
			f[8 + k] = *p < end ? *(*p)++ : (uint8_t)k;
		if (type == WT_SEGLOG_FRAME_RECORD || type >= WT_SEGLOG_FRAME_TYPED_FIRST) {
			uint64_t seq = first + records; /* gap-free unless damaged below */
			if (len >= 8)
				memcpy(f + 8, &seq, 8);
			records++;
			last = seq;
		}
		uint32_t word = wt_frame_word(type ? type : 1, len);
		uint32_t crc = wt_crc32c(wt_crc32c(0, &word, 4), f + 8, len);
		memcpy(f, &word, 4);
		memcpy(f + 4, &crc, 4);
		off += wt_frame_span(len);
		frames++;
	}
	if (mode & 8) {
		h.state = WT_SEG_STATE_SEALED;
		h.record_count = records;
		h.last_seq = last;
		h.end_offset = off;
		h.frame_count = frames;
		if (*p + 2 <= end) { /* counts that may disagree */
			h.record_count += (*p)[0] & 3;
			h.end_offset -= ((*p)[1] & 3) * 8;
			*p += 2;
		}
		wt_seg_seal_encode(out, &h);
	}
	return *p < end && (**p & 1) ? (size_t)off : SEG_MAX; /* a partial copy, or whole */
}

static void
on_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t off, const char *msg)
{
	(void)arg;
	(void)p;
	(void)off;
	REQUIRE(path != NULL && msg != NULL && msg[0] != '\0' && strchr(msg, '\n') == NULL);
}

static void
read_all(int follow, struct wt_seglog_read_stats *out)
{
	const char *paths[1] = {dir};
	char err[256];
	struct wt_seglog_reader_conf rc = {
	        .paths = paths, .npaths = 1, .follow = follow, .problem = on_problem};
	struct wt_seglog_reader *r = wt_seglog_reader_open(&rc, err, sizeof(err));
	if (r == NULL) {
		REQUIRE(err[0] != '\0');
		memset(out, 0, sizeof(*out));
		return;
	}
	struct wt_seglog_frame f;
	struct wt_callrec rec;
	while (wt_seglog_reader_next(r, &f) == 1) {
		if (f.type == WT_SEGLOG_FRAME_RECORD)
			REQUIRE(wt_seglog_frame_record(&f, &rec) == 0 &&
			        f.len >= WT_CALLREC_V1_SIZE);
		REQUIRE(f.payload != NULL || f.len == 0);
	}
	*out = *wt_seglog_reader_stats(r);
	REQUIRE(out->records + out->typed_records + out->stats_frames + out->unknown_frames <=
	        out->frames);
	wt_seglog_reader_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		/* a directory per process, in memory where there is a tmpfs:
		 * every input writes and reads one or two files */
		struct stat st;
		const char *base =
		        stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(dir), "%s/wt-fuzz-seglog-%d", base, (int)getpid());
		mkdir(dir, 0700);
		atexit(remove_dir);
	}
	if (size < 1)
		return 0;
	int mode = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	clear_dir();
	if (!(mode & 1)) {
		size_t n = (size_t)(end - p), cut = n;
		if ((mode & 4) && n >= 2) {
			cut = (((size_t)p[0] << 8) | p[1]) % (n + 1);
			p += 2;
			n -= 2;
			cut = cut > n ? n : cut;
		}
		put_file(0, p, cut);
		if (mode & 4)
			put_file(1, p + cut, n - cut);
	} else {
		int nseg = mode & 4 ? 2 : 1;
		size_t len[2] = {0, 0};
		for (int k = 0; k < nseg; k++)
			len[k] = build(seg[k], &p, end, (uint64_t)k + 1, mode);
		for (int i = 0; i < 8 && p + 3 <= end; i++, p += 3) { /* damages */
			int k = p[0] & (nseg - 1);
			size_t at = (((size_t)p[0] << 8) | p[1]) % (len[k] ? len[k] : 1);
			seg[k][at] ^= p[2];
		}
		for (int k = 0; k < nseg; k++) {
			if (mode & 16)
				put_zstd(k, seg[k], len[k]);
			else
				put_file(k, seg[k], len[k]);
		}
	}
	struct wt_seglog_read_stats a, b;
	read_all((mode & 2) != 0, &a);
	read_all((mode & 2) != 0, &b);
	REQUIRE(a.frames == b.frames && a.records == b.records && a.problems == b.problems);
	return 0;
}
