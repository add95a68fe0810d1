/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_zstd.c: compressed segments: a sealed segment stored as one zstd frame (FORMAT.md 3.2).
 *
 * Why the whole segment in one frame: a reader needs the segment whole
 * anyway (it checks the seal against what it read), zstd's window keeps the
 * repeats between records, and a standard frame lets an operator run
 * `zstd -d` on any archived segment. The frame's content size is set, so a
 * reader knows the size to allocate before decompressing; it is checked
 * against the segment header inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include "wt_seglog_segment.h"

#define OUT_CHUNK (1u << 20) /* compressed bytes written at a time */

int
wt_seg_is_zstd(const void *p, size_t len)
{
	static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd}; /* ZSTD_MAGICNUMBER, LE */
	return len >= 4 && memcmp(p, magic, 4) == 0;
}

static int
zstd_load(const void *src, size_t len, uint8_t **outp, size_t *lenp, char *why, size_t whylen)
{
	unsigned long long n = ZSTD_getFrameContentSize(src, len);

	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN ||
	    n < WT_SEG_HEADER_SIZE || n > WT_SEGLOG_MAX_SEGMENT_SIZE || n % 8 != 0) {
		wt_seg_seterr(why, whylen, "compressed segment: bad zstd frame header");
		return -EBADMSG;
	}
	uint8_t *out =
	        mmap(NULL, (size_t)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		wt_seg_seterr(why, whylen, "compressed segment: cannot map %llu bytes: %s", n,
		              strerror(errno));
		return -ENOMEM;
	}
	size_t got = ZSTD_decompress(out, (size_t)n, src, len);
	if (ZSTD_isError(got) || got != n) {
		wt_seg_seterr(why, whylen, "compressed segment: %s",
		              ZSTD_isError(got) ? ZSTD_getErrorName(got) : "shorter than it says");
		munmap(out, (size_t)n);
		return -EBADMSG;
	}
	*outp = out;
	*lenp = (size_t)n;
	return 0;
}

int
wt_seg_unzstd(uint8_t **basep, size_t *lenp, char *why, size_t whylen)
{
	uint8_t *raw;
	size_t raw_len;

	if (!wt_seg_is_zstd(*basep, *lenp))
		return 0;
	int rc = zstd_load(*basep, *lenp, &raw, &raw_len, why, whylen);
	munmap(*basep, *lenp);
	*basep = rc == 0 ? raw : NULL;
	*lenp = rc == 0 ? raw_len : 0;
	return rc == 0 ? 1 : rc;
}

int
wt_seg_read_head(int fd, void *buf, size_t n)
{
	uint8_t in[8192];
	ssize_t got = pread(fd, in, sizeof(in), 0);

	if (got < 0)
		return -errno;
	if (!wt_seg_is_zstd(in, (size_t)got)) {
		if ((size_t)got < n)
			return -EBADMSG;
		memcpy(buf, in, n);
		return 0;
	}
	/* A compressed segment: decompress only as far as @n bytes. */
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (ds == NULL)
		return -ENOMEM;
	ZSTD_inBuffer ib = {in, (size_t)got, 0};
	ZSTD_outBuffer ob = {buf, n, 0};
	off_t pos = got;
	int rc = 0;
	while (ob.pos < n) {
		if (ib.pos == ib.size) {
			got = pread(fd, in, sizeof(in), pos);
			if (got <= 0) {
				rc = got < 0 ? -errno : -EBADMSG;
				break;
			}
			pos += got;
			ib.size = (size_t)got;
			ib.pos = 0;
		}
		size_t r = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(r) || (r == 0 && ob.pos < n)) {
			rc = -EBADMSG;
			break;
		}
	}
	ZSTD_freeDStream(ds);
	return rc;
}

int
wt_seg_zstd_write(int dirfd, const char *name, const uint8_t *base, uint64_t end, int level,
                  uint64_t *written)
{
	int rc = 0;
	uint64_t total = 0;
	uint8_t *out = malloc(OUT_CHUNK);
	ZSTD_CCtx *cc = ZSTD_createCCtx();

	unlinkat(dirfd, name, 0);
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || out == NULL || cc == NULL) {
		rc = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cc, end))) {
		rc = -EINVAL;
		goto out;
	}
	ZSTD_inBuffer ib = {base, (size_t)end, 0};
	for (;;) {
		ZSTD_outBuffer ob = {out, OUT_CHUNK, 0};
		size_t left = ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
		if (ZSTD_isError(left)) {
			rc = -EINVAL;
			goto out;
		}
		for (size_t off = 0; off < ob.pos;) {
			ssize_t n = write(fd, out + off, ob.pos - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = n == 0 ? -EIO : -errno;
				goto out;
			}
			off += (size_t)n;
		}
		total += ob.pos;
		if (left == 0)
			break;
	}
	if (fsync(fd) != 0)
		rc = -errno;
out:
	if (fd >= 0) {
		close(fd);
		if (rc != 0)
			unlinkat(dirfd, name, 0);
	}
	ZSTD_freeCCtx(cc);
	free(out);
	if (rc == 0)
		*written = total;
	return rc;
}
