/* SPDX-License-Identifier: BSD-3-Clause */
/* capture.h: capture inputs before net_pcap sees them: streams (--pcap -, a FIFO) read once through
 * a pipe, and captures that end inside a frame. */
#ifndef WT_CAPTURE_H
#define WT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* Walks the record (pcap) or block (pcapng) boundaries of a capture fed in
 * pieces, to tell where it ends inside a frame. */
struct wt_capwalk {
	int pcapng, swap;
	uint64_t off;      /* bytes fed */
	uint64_t frames;   /* records (pcap) or blocks (pcapng) complete */
	uint8_t hdr[16];   /* the record or block header being read */
	unsigned int have; /* of it */
	unsigned int hlen; /* its size: 16 (pcap) or 8 (pcapng) */
	uint64_t body;     /* bytes of the current record's body still to come */
	uint64_t start;    /* offset of the current record */
	uint64_t size;     /* its full size, header included */
};

/**
 * Check @path (a capture file, a FIFO, or "-" for standard input): it must
 * open and hold Ethernet frames. A stream is opened once, its header read
 * and checked here, and a thread forwards it, header first, into a pipe
 * whose path (/proc/self/fd/N) goes into @dev for net_pcap, watching where
 * it ends; a file is walked here for a last frame cut short. Both say on
 * stderr where a capture ends inside a frame (the frames before it are
 * read). @return 0 (@dev filled), or -1 with a one-line error said.
 */
int wt_capture_prepare(const char *path, char *dev, size_t devlen);

#endif /* WT_CAPTURE_H */
