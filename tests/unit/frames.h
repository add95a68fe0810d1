/* SPDX-License-Identifier: BSD-3-Clause */
/* frames.h: byte-by-byte frame builders and guard-page buffers for parser tests. */
#ifndef WT_TEST_FRAMES_H
#define WT_TEST_FRAMES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wt_common.h"

#define FB_MAX 4096

/* A frame under construction. */
struct fb {
	uint8_t b[FB_MAX];
	uint32_t n;
};

/* Default MACs of the builders; FabricPath's outer MACs differ. */
static const uint8_t MAC_D[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0d};
static const uint8_t MAC_S[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x05};
static const uint8_t MAC_FP_D[6] = {0x02, 0xfa, 0xb1, 0x00, 0x00, 0x0d};
static const uint8_t MAC_FP_S[6] = {0x02, 0xfa, 0xb1, 0x00, 0x00, 0x05};
/* 10.0.0.1 -> 10.0.0.2 and 2001:db8::1 -> 2001:db8::2 */
static const uint8_t IP4_S[4] = {10, 0, 0, 1};
static const uint8_t IP4_D[4] = {10, 0, 0, 2};
static const uint8_t IP6_S[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t IP6_D[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static inline void
put8(struct fb *f, unsigned int v)
{
	if (f->n < FB_MAX)
		f->b[f->n++] = (uint8_t)v;
}

static inline void
put16(struct fb *f, unsigned int v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static inline void
put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static inline void
putn(struct fb *f, const uint8_t *p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		put8(f, p[i]);
}

/* n bytes of a recognisable pattern (never a header by accident: 0xa5...). */
static inline void
pad(struct fb *f, unsigned int n, unsigned int v)
{
	for (unsigned int i = 0; i < n; i++)
		put8(f, v);
}

static inline void
set16(struct fb *f, uint32_t at, unsigned int v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

/* Ethernet II header with the default MACs. */
static inline void
eth(struct fb *f, unsigned int ethertype)
{
	f->n = 0;
	putn(f, MAC_D, 6);
	putn(f, MAC_S, 6);
	put16(f, ethertype);
}

/* Rest of a VLAN tag (after its TPID): TCI (PCP 3 + VID) and next type. */
static inline void
tag(struct fb *f, unsigned int vid, unsigned int next)
{
	put16(f, 0x6000 | vid);
	put16(f, next);
}

/* FabricPath after its ethertype: FTag/TTL, inner Ethernet header. */
static inline void
fabricpath(struct fb *f, unsigned int next)
{
	put16(f, 0x0401);
	putn(f, MAC_D, 6);
	putn(f, MAC_S, 6);
	put16(f, next);
}

static inline void
mpls(struct fb *f, uint32_t label, int bos)
{
	put32(f, label << 12 | (bos ? 0x100u : 0) | 64);
}

/* PPPoE session header + PPP protocol; returns its offset (length fixed by pppoe_fix). */
static inline uint32_t
pppoe(struct fb *f, unsigned int ppp_proto)
{
	uint32_t at = f->n;
	put8(f, 0x11);
	put8(f, 0x00);
	put16(f, 0x1234);
	put16(f, 0);
	put16(f, ppp_proto);
	return at;
}

static inline void
pppoe_fix(struct fb *f, uint32_t at)
{
	set16(f, at + 4, f->n - at - 6);
}

/* IPv4 header, DF set, id 0x1234; @opt_words of NOP options. Returns its
 * offset; ip4_fix() sets the total length to the end of the frame. */
static inline uint32_t
ip4o(struct fb *f, unsigned int proto, unsigned int opt_words)
{
	uint32_t at = f->n;
	put8(f, 0x40 | (5 + opt_words));
	put8(f, 0);
	put16(f, 0);
	put16(f, 0x1234);
	put16(f, 0x4000);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, IP4_S, 4);
	putn(f, IP4_D, 4);
	pad(f, opt_words * 4, 0x01);
	return at;
}

static inline uint32_t
ip4(struct fb *f, unsigned int proto)
{
	return ip4o(f, proto, 0);
}

static inline void
ip4_fix(struct fb *f, uint32_t at)
{
	set16(f, at + 2, f->n - at);
}

/* IPv4 fragment field (flags + offset in 8-byte units) and id. */
static inline void
ip4_frag(struct fb *f, uint32_t at, int mf, unsigned int off8, unsigned int id)
{
	set16(f, at + 4, id);
	set16(f, at + 6, (mf ? 0x2000u : 0) | off8);
}

static inline uint32_t
ip6(struct fb *f, unsigned int nh)
{
	uint32_t at = f->n;
	put32(f, 0x60000000);
	put16(f, 0);
	put8(f, nh);
	put8(f, 64);
	putn(f, IP6_S, 16);
	putn(f, IP6_D, 16);
	return at;
}

static inline void
ip6_fix(struct fb *f, uint32_t at)
{
	set16(f, at + 4, f->n - at - 40);
}

/* Generic extension header of (len + 1) * 8 bytes, Pad1 filled. */
static inline void
ext6(struct fb *f, unsigned int nh, unsigned int len)
{
	put8(f, nh);
	put8(f, len);
	pad(f, (len + 1) * 8 - 2, 0);
}

static inline void
frag6(struct fb *f, unsigned int nh, unsigned int off_bytes, int m, uint32_t id)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, off_bytes | (m ? 1u : 0));
	put32(f, id);
}

/* Authentication header of (len + 2) * 4 bytes. */
static inline void
ah6(struct fb *f, unsigned int nh, unsigned int len)
{
	put8(f, nh);
	put8(f, len);
	put16(f, 0);
	put32(f, 0x100);
	put32(f, 1);
	pad(f, (len + 2) * 4 - 12, 0xee);
}

/* TCP header with @doff 32-bit words (options are NOPs). */
static inline void
tcp(struct fb *f, unsigned int sport, unsigned int dport, uint32_t seq, unsigned int flags,
    unsigned int doff)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, 0x01020304);
	put8(f, doff << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	if (doff > 5)
		pad(f, (doff - 5) * 4, 0x01);
}

static inline uint32_t
udp(struct fb *f, unsigned int sport, unsigned int dport)
{
	uint32_t at = f->n;
	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return at;
}

static inline void
udp_fix(struct fb *f, uint32_t at)
{
	set16(f, at + 4, f->n - at);
}

/* ---- guard-page buffer: a frame copied to end right before a PROT_NONE page */

struct guard {
	uint8_t *map;
	size_t page, len;
};

static inline int
guard_init(struct guard *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->len = WT_ALIGN_UP((size_t)FB_MAX, g->page) + g->page;
	g->map = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		return -1;
	return mprotect(g->map + g->len - g->page, g->page, PROT_NONE);
}

/* Copy @n bytes so that the last one is the last readable byte. */
static inline const uint8_t *
guard_place(struct guard *g, const uint8_t *p, uint32_t n)
{
	uint8_t *dst = g->map + g->len - g->page - n;
	memmove(dst, p, n);
	return dst;
}

#endif /* WT_TEST_FRAMES_H */
