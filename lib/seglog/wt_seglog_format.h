/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_seglog_format.h: internal on-disk layout of log segments (docs/FORMAT.md).
 *
 * Shared by the writer and the reader, and by white-box tests; not installed
 * and not for other libraries. Every constant here is specified in
 * docs/FORMAT.md: change both together, and bump the format version as the
 * rules there say.
 */
#ifndef WT_SEGLOG_FORMAT_H
#define WT_SEGLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wt_common.h"
#include "wt_seglog.h"

/* The format is little-endian and the code stores native integers. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "wt_seglog stores native integers: little-endian hosts only");

/* File names: "seg-" + 20 decimal digits (segment number) + ".wts". Zero
 * padding makes lexical order numeric order. A segment is built under the
 * temporary name "." + final name + ".tmp" and renamed when complete. */
#define WT_SEG_NAME_PREFIX "seg-"
#define WT_SEG_NAME_SUFFIX ".wts"
#define WT_SEG_NAME_DIGITS 20
#define WT_SEG_NAME_LEN    28 /* 4 + 20 + 4 */
#define WT_SEG_TMP_SUFFIX  ".tmp"

/* Header: creation block [0, 128), seal block [128, 192), reserved up to
 * header_size (256 in version 1.0); frames start at header_size. */
#define WT_SEG_MAGIC       "WTSEGLOG"
#define WT_SEG_MAJOR       1
#define WT_SEG_MINOR       2
#define WT_SEG_HEADER_SIZE 256u
#define WT_SEG_CREATE_OFF  0u
#define WT_SEG_CREATE_LEN  128u
#define WT_SEG_SEAL_OFF    128u
#define WT_SEG_SEAL_LEN    64u

/* Creation block field offsets */
#define WT_SEG_H_MAGIC      0  /* 8 bytes */
#define WT_SEG_H_MAJOR      8  /* u16 */
#define WT_SEG_H_MINOR      10 /* u16 */
#define WT_SEG_H_HDR_SIZE   12 /* u32 */
#define WT_SEG_H_CREATE_CRC 16 /* u32 */
#define WT_SEG_H_FLAGS      20 /* u32, zero */
#define WT_SEG_H_SEG_SIZE   24 /* u64 */
#define WT_SEG_H_SEG_NO     32 /* u64 */
#define WT_SEG_H_RUN_ID     40 /* u64 */
#define WT_SEG_H_CREATED_NS 48 /* u64 */
#define WT_SEG_H_FIRST_SEQ  56 /* u64 */

/* Seal block field offsets (absolute) */
#define WT_SEG_S_STATE     128 /* u32 */
#define WT_SEG_S_CRC       132 /* u32 */
#define WT_SEG_S_RECORDS   136 /* u64 */
#define WT_SEG_S_LAST_SEQ  144 /* u64 */
#define WT_SEG_S_END_OFF   152 /* u64 */
#define WT_SEG_S_FRAMES    160 /* u64 */
#define WT_SEG_S_SEALED_NS 168 /* u64 */

/* Segment states (seal block). An all-zero seal block is an open segment. */
#define WT_SEG_STATE_OPEN      0
#define WT_SEG_STATE_SEALED    1
#define WT_SEG_STATE_RECOVERED 2

/* Frame: u32 word | u32 crc | payload | zero padding to 8 bytes.
 * word = commit (bit 31) | type (bits 24..30) | payload length (bits 0..23).
 * crc = CRC-32C over the 4 word bytes as stored, then the payload. */
#define WT_FRAME_HDR_SIZE    8u
#define WT_FRAME_ALIGN       8u
#define WT_FRAME_COMMIT      0x80000000u
#define WT_FRAME_TYPE_SHIFT  24
#define WT_FRAME_TYPE_MASK   0x7fu
#define WT_FRAME_LEN_MASK    0x00ffffffu
#define WT_FRAME_MAX_PAYLOAD WT_FRAME_LEN_MASK

/* Record payload: struct wt_callrec has 2 bytes of implicit padding before
 * d[]; the writer stores them as zero so the bytes on disk are determined
 * by the field values alone. */
#define WT_REC_PAD_OFF (offsetof(struct wt_callrec, reserved) + 5)
#define WT_REC_PAD_LEN (offsetof(struct wt_callrec, d) - WT_REC_PAD_OFF)
_Static_assert(WT_REC_PAD_OFF == 102 && WT_REC_PAD_LEN == 2, "wt_callrec padding");

static inline uint32_t
wt_frame_word(unsigned int type, uint32_t len)
{
	return WT_FRAME_COMMIT | ((uint32_t)type << WT_FRAME_TYPE_SHIFT) | len;
}

static inline uint64_t
wt_frame_span(uint32_t len)
{
	return WT_FRAME_HDR_SIZE + WT_ALIGN_UP((uint64_t)len, WT_FRAME_ALIGN);
}

/* Decoded segment header. */
struct wt_seg_header {
	uint16_t major, minor;
	uint32_t header_size;
	uint64_t segment_size;
	uint64_t segment_no;
	uint64_t run_id;
	uint64_t created_ns;
	uint64_t first_seq;
	/* seal block; valid only when sealed is true */
	bool sealed;    /* seal block present with a good CRC */
	bool seal_torn; /* seal block not zero but its CRC is wrong */
	uint32_t state; /* WT_SEG_STATE_*; OPEN when !sealed */
	uint64_t record_count;
	uint64_t last_seq;
	uint64_t end_offset;
	uint64_t frame_count;
	uint64_t sealed_ns;
};

enum wt_seg_hdr_status {
	WT_SEG_HDR_OK = 0,
	WT_SEG_HDR_SHORT,       /* fewer bytes than a header */
	WT_SEG_HDR_BAD_MAGIC,   /* not a segment */
	WT_SEG_HDR_BAD_CRC,     /* creation block corrupt */
	WT_SEG_HDR_BAD_FIELD,   /* CRC good but a field impossible */
	WT_SEG_HDR_UNSUPPORTED, /* newer major version */
};

/**
 * Decode and check the header at @p (@avail readable bytes). On failure a
 * one-line reason is put in @why. Never reads past @avail. Thread-safe.
 */
enum wt_seg_hdr_status wt_seg_header_decode(const uint8_t *p, uint64_t avail,
                                            struct wt_seg_header *h, char *why, size_t whylen);

/** Write the creation block of @h at @p (the seal block is left zero). */
void wt_seg_header_encode(uint8_t *p, const struct wt_seg_header *h);

/** Write the seal block of @h (state and counts) at @p, CRC stored last. */
void wt_seg_seal_encode(uint8_t *p, const struct wt_seg_header *h);

/* A cursor over the frames of one mapped segment. */
struct wt_seg_cursor {
	const uint8_t *base;
	uint64_t limit; /* bytes that may be read: min(file size, segment_size) */
	uint64_t off;   /* next frame */
};

struct wt_seg_frame {
	uint64_t offset;
	uint32_t word;
	unsigned int type;
	uint32_t len;
	const uint8_t *payload;
};

enum wt_seg_step {
	WT_SEG_STEP_FRAME,   /* a committed frame with a good CRC; cursor advanced */
	WT_SEG_STEP_END,     /* zero word (not yet written) or no room left */
	WT_SEG_STEP_BAD_CRC, /* sane word, wrong CRC; cursor advanced past it */
	WT_SEG_STEP_BAD_WORD /* word without commit bit, type 0 or impossible length: stop */
};

/**
 * Read the frame at the cursor. The word is loaded with acquire order, so
 * a frame whose word is seen is seen whole (see the commit protocol in
 * wt_seglog_writer.c). @f is filled for FRAME, BAD_CRC and BAD_WORD.
 */
enum wt_seg_step wt_seg_cursor_next(struct wt_seg_cursor *c, struct wt_seg_frame *f);

/**
 * Resynchronise after a bad word: find the first 8-aligned offset in
 * [@from, @until) that holds a committed frame with a good CRC (fitting in
 * the segment), and move the cursor there. A false match needs a 32-bit
 * CRC collision on top of a plausible word. @return 1 when found, else 0
 * (cursor unchanged).
 */
int wt_seg_cursor_resync(struct wt_seg_cursor *c, uint64_t from, uint64_t until);

/** 1 when @name is a segment file name; its number in @segno. */
int wt_seg_name_parse(const char *name, uint64_t *segno);

/** Segment file name of @segno into @buf (>= WT_SEG_NAME_LEN + 1). */
void wt_seg_name_make(char *buf, size_t len, uint64_t segno);

/**
 * Segment file names in directory @dirfd, sorted (= segment order).
 * @return the count and a malloc'ed array of malloc'ed names in @names (free
 * with wt_seg_names_free), or -errno.
 */
int wt_seg_list(int dirfd, char ***names);
void wt_seg_names_free(char **names, int n);

/** printf into @err (@errlen bytes; nothing when NULL or 0). */
void wt_seg_seterr(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4), cold));

/** Nanoseconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t wt_seg_now_ns(void);

/* Internal: append a frame of any type (tests use it to write frames of
 * future types). Same contract as wt_seglog_append_stats(). */
int wt_seglog_append_frame(struct wt_seglog_writer *w, unsigned int type, const void *payload,
                           size_t len);

/* Points of the archiver's crash protocol (wt_seglog_archive_hook). */
enum wt_archive_point {
	WT_ARCHIVE_BEFORE,      /* about to archive (nothing done yet) */
	WT_ARCHIVE_TMP_WRITTEN, /* copy written and synced under the .tmp name */
	WT_ARCHIVE_RENAMED,     /* renamed to its segment name, spool copy still there */
	WT_ARCHIVE_DONE,        /* spool copy deleted */
};
#ifdef WT_TESTING
/* Tests only: these exist in the test build of the library
 * (seglog_test_dep, compiled with WT_TESTING), not in the one the programs
 * link. The archiver calls this hook (when set, before wt_seglog_open())
 * at each step of archiving segment @segno, so a test can kill the process
 * at an exact point of the crash protocol, or hold the archiver there. */
extern void (*wt_seglog_archive_hook)(enum wt_archive_point p, uint64_t segno);

/* Tests only: stop the archiver's work (1: preparing and archiving; 2:
 * archiving only) or restart it (0); returns once the archiver acts on it
 * (a step already under way finishes first); closing the writer restarts
 * it. */
void wt_seglog_test_pause_archiver(struct wt_seglog_writer *w, int paused);
#endif

/* Names of the files a spool-mode writer prepares ahead of a roll:
 * ".prep-" + slot number + ".tmp", in the spool directory (or in the log
 * directory after a hugepage shortage). They never hold a record. */
#define WT_PREP_PREFIX ".prep-"
#define WT_PREP_SUFFIX ".tmp"

#endif /* WT_SEGLOG_FORMAT_H */
