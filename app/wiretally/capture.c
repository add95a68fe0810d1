/* SPDX-License-Identifier: BSD-3-Clause */
/* capture.c: --pcap inputs made safe for net_pcap: streams read once, captures cut inside a frame
 * said.
 *
 * net_pcap opens its rx_pcap file by name, once. A file can be opened
 * twice (here to check its link type, there to read it), a stream cannot:
 * a FIFO's second open() waits for a writer that is gone, standard input
 * has been read. So a stream ("-", a FIFO, a character device) is opened
 * here once; its header (pcap: 24 bytes; pcapng: the section header block
 * and the first interface description block) is read and checked for
 * Ethernet; then a thread writes that header and everything after it into
 * a pipe, and net_pcap opens the pipe's read end as /proc/self/fd/N. The
 * thread also walks the record (pcap) or block (pcapng) boundaries, so a
 * stream that ends inside a frame is said with the frame's offset; a file
 * is walked the same way before the run. libpcap stops at such a frame;
 * every frame before it is read and recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "say.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAPNG_SHB    0x0a0d0d0au
#define PCAPNG_BOM    0x1a2b3c4du
#define PCAPNG_IDB    1u
#define HEAD_MAX      (1u << 16)

static uint32_t
u32(const uint8_t *p, int swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static uint16_t
u16(const uint8_t *p, int swap)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return swap ? __builtin_bswap16(v) : v;
}

/* ---- boundaries -------------------------------------------------------------- */

static void
walk_init(struct wt_capwalk *w, int pcapng, int swap, uint64_t off)
{
	memset(w, 0, sizeof(*w));
	w->pcapng = pcapng;
	w->swap = swap;
	w->off = off;
	w->hlen = pcapng ? 8 : 16;
}

static void
walk_feed(struct wt_capwalk *w, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (w->have < w->hlen) {
			size_t take = w->hlen - w->have < n ? w->hlen - w->have : n;
			memcpy(w->hdr + w->have, p, take);
			w->have += (unsigned int)take;
			p += take;
			n -= take;
			w->off += take;
			if (w->have < w->hlen)
				return;
			w->start = w->off - w->hlen;
			w->size = w->pcapng ? u32(w->hdr + 4, w->swap)
			                    : 16ull + u32(w->hdr + 8, w->swap);
			if (w->size < w->hlen)
				w->size = w->hlen; /* damaged: libpcap stops here anyway */
			w->body = w->size - w->hlen;
		} else {
			size_t take = w->body < n ? (size_t)w->body : n;
			w->body -= take;
			p += take;
			n -= take;
			w->off += take;
		}
		if (w->have == w->hlen && w->body == 0) {
			w->frames++;
			w->have = 0;
		}
	}
}

/* Say where @name ends inside a frame, if it does. */
static void
walk_end(const struct wt_capwalk *w, const char *name)
{
	const char *what = w->pcapng ? "block" : "frame";

	if (w->have == 0)
		return;
	if (w->have < w->hlen)
		WT_LOG(ERR,
		       "capture %s ends inside the header of %s %" PRIu64 " at offset %" PRIu64
		       " (%u of %u bytes); the %" PRIu64 " %ss before it are read\n",
		       name, what, w->frames + 1, w->off - w->have, w->have, w->hlen, w->frames,
		       what);
	else
		WT_LOG(ERR,
		       "capture %s ends inside %s %" PRIu64 " at offset %" PRIu64 " (%" PRIu64
		       " of its %" PRIu64 " bytes); the %" PRIu64 " %ss before it are read\n",
		       name, what, w->frames + 1, w->start, w->size - w->body, w->size, w->frames,
		       what);
}

/* ---- the header ------------------------------------------------------------------ */

static ssize_t
read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Read the capture header of stream @fd into @head: its format, byte
 * order and link type. @return its length, or -1 (said). */
static ssize_t
read_header(int fd, const char *name, uint8_t *head, int *pcapng, int *swap, int *link)
{
	ssize_t n = read_full(fd, head, 24);
	if (n < 0) {
		WT_LOG(ERR, "capture %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (n < 12) {
		WT_LOG(ERR, "capture %s: ends after %zd bytes, before its header\n", name, n);
		return -1;
	}
	uint32_t m = u32(head, 0);
	if (m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS || __builtin_bswap32(m) == PCAP_MAGIC_US ||
	    __builtin_bswap32(m) == PCAP_MAGIC_NS) {
		*pcapng = 0;
		*swap = m != PCAP_MAGIC_US && m != PCAP_MAGIC_NS;
		if (n < 24) {
			WT_LOG(ERR, "capture %s: header cut after %zd bytes\n", name, n);
			return -1;
		}
		*link = (int)(u32(head + 20, *swap) & 0x03ffffff);
		return 24;
	}
	if (m != PCAPNG_SHB) {
		WT_LOG(ERR, "capture %s: not a pcap or pcapng capture (magic 0x%08x)\n", name, m);
		return -1;
	}
	*pcapng = 1;
	*swap = u32(head + 8, 0) != PCAPNG_BOM;
	uint32_t shb = u32(head + 4, *swap);
	if (shb < 28 || shb % 4 || shb > HEAD_MAX / 2 || (size_t)n > shb) {
		WT_LOG(ERR, "capture %s: bad pcapng section header length %u\n", name, shb);
		return -1;
	}
	if (read_full(fd, head + n, shb - (size_t)n + 8) != (ssize_t)(shb - (size_t)n + 8)) {
		WT_LOG(ERR, "capture %s: ends inside its pcapng header\n", name);
		return -1;
	}
	uint32_t type = u32(head + shb, *swap), idb = u32(head + shb + 4, *swap);
	if (type != PCAPNG_IDB || idb < 20 || idb % 4 || shb + idb > HEAD_MAX) {
		WT_LOG(ERR,
		       "capture %s: the pcapng section does not start with an "
		       "interface "
		       "description block\n",
		       name);
		return -1;
	}
	if (read_full(fd, head + shb + 8, idb - 8) != (ssize_t)(idb - 8)) {
		WT_LOG(ERR, "capture %s: ends inside its pcapng header\n", name);
		return -1;
	}
	*link = u16(head + shb + 8, *swap);
	return (ssize_t)(shb + idb);
}

/* ---- streams ------------------------------------------------------------------------- */

struct forward {
	int in, out;
	uint8_t head[HEAD_MAX];
	size_t headlen;
	struct wt_capwalk w;
	char name[256];
};

static int
write_full(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *
forward(void *arg)
{
	struct forward *f = arg;
	static uint8_t buf[1 << 16];

	if (write_full(f->out, f->head, f->headlen) == 0) {
		for (;;) {
			ssize_t r = read(f->in, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				WT_LOG(ERR, "capture %s: read error: %s\n", f->name,
				       strerror(errno));
				break;
			}
			if (r == 0) {
				walk_end(&f->w, f->name);
				break;
			}
			walk_feed(&f->w, buf, (size_t)r);
			if (write_full(f->out, buf, (size_t)r) != 0)
				break; /* the monitor stopped reading (a stop) */
		}
	}
	close(f->out);
	if (f->in != 0)
		close(f->in);
	free(f);
	return NULL;
}

static int
prepare_stream(const char *path, char *dev, size_t devlen)
{
	const char *name = strcmp(path, "-") == 0 ? "- (standard input)" : path;
	struct forward *f = calloc(1, sizeof(*f));
	int pfd[2] = {-1, -1}, pcapng, swap, link;

	if (f == NULL) {
		WT_LOG(ERR, "out of memory\n");
		return -1;
	}
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->in = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (f->in < 0) {
		WT_LOG(ERR, "capture %s: %s\n", name, strerror(errno));
		free(f);
		return -1;
	}
	ssize_t hl = read_header(f->in, name, f->head, &pcapng, &swap, &link);
	if (hl < 0)
		goto fail;
	if (link != DLT_EN10MB) { /* the file's LINKTYPE_ value (1 is Ethernet) */
		WT_LOG(ERR,
		       "capture %s: link type %d is not Ethernet; "
		       "wiretally reads Ethernet (LINKTYPE_ETHERNET, 1) captures\n",
		       name, link);
		goto fail;
	}
	f->headlen = (size_t)hl;
	walk_init(&f->w, pcapng, swap, pcapng ? 0 : 24);
	if (pcapng)
		walk_feed(&f->w, f->head, f->headlen);
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		WT_LOG(ERR, "capture %s: pipe: %s\n", name, strerror(errno));
		goto fail;
	}
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	f->out = pfd[1];
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* EPIPE, not SIGPIPE, at a stop */
	pthread_t t;
	int rc = pthread_create(&t, NULL, forward, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		WT_LOG(ERR, "capture %s: cannot start its reader: %s\n", name, strerror(rc));
		goto fail;
	}
	pthread_detach(t);
	snprintf(dev, devlen, "/proc/self/fd/%d", pfd[0]);
	return 0;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (f->in > 0)
		close(f->in);
	free(f);
	return -1;
}

/* ---- files ---------------------------------------------------------------------------- */

static int
prepare_file(const char *path, char *dev, size_t devlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		WT_LOG(ERR, "capture %s: %s\n", path, errbuf);
		return -1;
	}
	int dlt = pcap_datalink(p);
	pcap_close(p);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		WT_LOG(ERR,
		       "capture %s: link type %s (%d) is not Ethernet; "
		       "wiretally reads Ethernet (DLT_EN10MB) captures\n",
		       path, name ? name : "?", dlt);
		return -1;
	}
	snprintf(dev, devlen, "%s", path);
	/* a last frame cut short: said now (libpcap stops there quietly) */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size < 24) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	uint8_t *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	uint32_t magic = u32(m, 0);
	int pcapng = magic == PCAPNG_SHB;
	int swap = pcapng ? u32(m + 8, 0) != PCAPNG_BOM
	                  : magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS;
	struct wt_capwalk w;
	walk_init(&w, pcapng, swap, pcapng ? 0 : 24);
	walk_feed(&w, m + (pcapng ? 0 : 24), (size_t)sb.st_size - (pcapng ? 0 : 24));
	walk_end(&w, path);
	munmap(m, (size_t)sb.st_size);
	return 0;
}

int
wt_capture_prepare(const char *path, char *dev, size_t devlen)
{
	struct stat sb;

	if (strcmp(path, "-") == 0)
		return prepare_stream(path, dev, devlen);
	if (stat(path, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode)))
		return prepare_stream(path, dev, devlen);
	return prepare_file(path, dev, devlen);
}
