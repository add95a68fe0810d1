/* SPDX-License-Identifier: BSD-3-Clause */
/* test_frag.c: the fragment attribution table: learn, attribute, expire, replace. */
#include <errno.h>

#include "frames.h"
#include "wt_parse.h"
#include "wt_test.h"

#define SEC WT_NS_PER_SEC

/* A parsed fragment as wt_parse() would give it. */
static struct wt_pkt
frag_pkt(int family, enum wt_frag kind, uint32_t id, uint16_t sport, uint16_t dport)
{
	struct wt_pkt p;
	memset(&p, 0, sizeof(p));
	p.family = (uint8_t)family;
	if (family == 4) {
		memcpy(p.src, IP4_S, 4);
		memcpy(p.dst, IP4_D, 4);
	} else {
		memcpy(p.src, IP6_S, 16);
		memcpy(p.dst, IP6_D, 16);
	}
	p.proto = 17;
	p.frag = (uint8_t)kind;
	p.frag_id = id;
	if (kind == WT_FRAG_FIRST) {
		p.sport = sport;
		p.dport = dport;
		p.notes = WT_NOTE(FRAG_FIRST);
	}
	return p;
}

static struct wt_frag_stats
stats(const struct wt_frag_table *ft)
{
	struct wt_frag_stats st;
	wt_frag_get_stats(ft, &st);
	return st;
}

static void
test_create_errors(void)
{
	errno = 0;
	CHECK(wt_frag_create(0, SEC, WT_SOCKET_ANY) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	errno = 0;
	CHECK(wt_frag_create(16, 0, WT_SOCKET_ANY) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	errno = 0;
	CHECK(wt_frag_create(UINT32_MAX, SEC, WT_SOCKET_ANY) == NULL);
	CHECK_EQ_U64(errno, EINVAL);
	wt_frag_free(NULL);
}

/* Real frames through the parser: the first fragment's ports reach the later one. */
static void
test_first_then_later_from_frames(void)
{
	struct wt_frag_table *ft = wt_frag_create(1024, 30 * SEC, WT_SOCKET_ANY);
	struct fb f;
	struct wt_pkt first, later;

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 17);
	uint32_t u = udp(&f, 5353, 40000);
	set16(&f, u + 4, 3008);
	pad(&f, 1472, 0xa5);
	ip4_fix(&f, ip);
	ip4_frag(&f, ip, 1, 0, 0x4242);
	CHECK_EQ_U64(wt_parse(f.b, f.n, f.n, &first), WT_DROP_NONE);
	CHECK_EQ_U64(first.frag, WT_FRAG_FIRST);

	eth(&f, 0x0800);
	ip = ip4(&f, 17);
	pad(&f, 1480, 0xa5);
	ip4_fix(&f, ip);
	ip4_frag(&f, ip, 1, 185, 0x4242);
	CHECK_EQ_U64(wt_parse(f.b, f.n, f.n, &later), WT_DROP_NONE);
	CHECK_EQ_U64(later.frag, WT_FRAG_LATER);
	CHECK_EQ_U64(later.sport, 0);

	CHECK_EQ_U64(wt_frag_process(ft, &first, 1 * SEC), WT_DROP_NONE);
	CHECK_EQ_U64(wt_frag_process(ft, &later, 2 * SEC), WT_DROP_NONE);
	CHECK_EQ_U64(later.sport, 5353);
	CHECK_EQ_U64(later.dport, 40000);
	CHECK_EQ_U64(later.notes, WT_NOTE(FRAG_ATTRIBUTED));
	CHECK_EQ_U64(later.payload_len, 1480);

	/* A fragment of another datagram (other id) is not attributed. */
	struct wt_pkt other = later;
	other.sport = other.dport = 0;
	other.notes = 0;
	other.frag_id = 0x4243;
	CHECK_EQ_U64(wt_frag_process(ft, &other, 2 * SEC), WT_DROP_FRAG_UNATTRIBUTED);
	CHECK_EQ_U64(other.sport, 0);
	CHECK_EQ_U64(other.notes, 0);

	/* Not a fragment: untouched, not counted. */
	struct wt_pkt whole = first;
	whole.frag = WT_FRAG_NONE;
	CHECK_EQ_U64(wt_frag_process(ft, &whole, 2 * SEC), WT_DROP_NONE);

	struct wt_frag_stats st = stats(ft);
	CHECK_EQ_U64(st.learned, 1);
	CHECK_EQ_U64(st.attributed, 1);
	CHECK_EQ_U64(st.unattributed, 1);
	CHECK_EQ_U64(st.replaced, 0);
	CHECK_EQ_U64(st.expired, 0);
	wt_frag_free(ft);
}

static void
test_later_without_first(void)
{
	struct wt_frag_table *ft = wt_frag_create(16, SEC, WT_SOCKET_ANY);
	struct wt_pkt p = frag_pkt(4, WT_FRAG_LATER, 1, 0, 0);

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	CHECK_EQ_U64(wt_frag_process(ft, &p, 0), WT_DROP_FRAG_UNATTRIBUTED);
	CHECK_EQ_U64(wt_frag_process(ft, &p, 0), WT_DROP_FRAG_UNATTRIBUTED);
	CHECK_EQ_U64(stats(ft).unattributed, 2);
	CHECK_EQ_U64(stats(ft).learned, 0);
	wt_frag_free(ft);
}

/* A second first fragment of the same key refreshes the ports. */
static void
test_refresh(void)
{
	struct wt_frag_table *ft = wt_frag_create(16, SEC, WT_SOCKET_ANY);
	struct wt_pkt a = frag_pkt(4, WT_FRAG_FIRST, 9, 1000, 2000);
	struct wt_pkt b = frag_pkt(4, WT_FRAG_FIRST, 9, 1001, 2001);
	struct wt_pkt l = frag_pkt(4, WT_FRAG_LATER, 9, 0, 0);

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	CHECK_EQ_U64(wt_frag_process(ft, &a, 10), WT_DROP_NONE);
	CHECK_EQ_U64(wt_frag_process(ft, &b, 20), WT_DROP_NONE);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 30), WT_DROP_NONE);
	CHECK_EQ_U64(l.sport, 1001);
	CHECK_EQ_U64(l.dport, 2001);
	CHECK_EQ_U64(stats(ft).learned, 2);
	CHECK_EQ_U64(stats(ft).replaced, 0);
	wt_frag_free(ft);
}

static void
test_timeout(void)
{
	const uint64_t to = 5 * SEC;
	struct wt_frag_table *ft = wt_frag_create(64, to, WT_SOCKET_ANY);
	struct wt_pkt first = frag_pkt(4, WT_FRAG_FIRST, 77, 53, 5353), l;

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	CHECK_EQ_U64(wt_frag_process(ft, &first, 100 * SEC), WT_DROP_NONE);
	/* Exactly the timeout after the last use: still live; the use refreshes it. */
	l = frag_pkt(4, WT_FRAG_LATER, 77, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 100 * SEC + to), WT_DROP_NONE);
	CHECK_EQ_U64(l.sport, 53);
	l = frag_pkt(4, WT_FRAG_LATER, 77, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 100 * SEC + 2 * to), WT_DROP_NONE);
	/* A clock that goes back (merged captures) does not expire anything. */
	l = frag_pkt(4, WT_FRAG_LATER, 77, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 50 * SEC), WT_DROP_NONE);
	CHECK_EQ_U64(stats(ft).expired, 0);
	/* One nanosecond past: forgotten, counted expired once. */
	l = frag_pkt(4, WT_FRAG_LATER, 77, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 100 * SEC + 3 * to + 1), WT_DROP_FRAG_UNATTRIBUTED);
	CHECK_EQ_U64(l.sport, 0);
	l = frag_pkt(4, WT_FRAG_LATER, 77, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 100 * SEC + 3 * to + 2), WT_DROP_FRAG_UNATTRIBUTED);
	struct wt_frag_stats st = stats(ft);
	CHECK_EQ_U64(st.expired, 1);
	CHECK_EQ_U64(st.unattributed, 2);
	CHECK_EQ_U64(st.attributed, 3);
	/* The slot is free again for a new datagram. */
	first.frag_id = 78;
	CHECK_EQ_U64(wt_frag_process(ft, &first, 200 * SEC), WT_DROP_NONE);
	CHECK_EQ_U64(stats(ft).replaced, 0);
	wt_frag_free(ft);
}

/* More live datagrams than slots: replacements are counted, the table never
 * holds more than its capacity, and the newest entries survive. */
static void
test_full_table(void)
{
	/* 10 rounds up to the minimum capacity, 16. */
	struct wt_frag_table *ft = wt_frag_create(10, 1000 * SEC, WT_SOCKET_ANY);
	const uint32_t n = 64;

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct wt_pkt p = frag_pkt(4, WT_FRAG_FIRST, i, (uint16_t)(1000 + i), 80);
		CHECK_EQ_U64(wt_frag_process(ft, &p, (i + 1) * SEC), WT_DROP_NONE);
	}
	struct wt_frag_stats st = stats(ft);
	CHECK_EQ_U64(st.learned, n);
	CHECK(st.replaced >= n - 16);

	/* Entries still held: exactly those not replaced, at most the capacity. */
	uint32_t live = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct wt_pkt l = frag_pkt(4, WT_FRAG_LATER, i, 0, 0);
		if (wt_frag_process(ft, &l, (n + 1) * SEC) == WT_DROP_NONE) {
			live++;
			CHECK_EQ_U64(l.sport, 1000 + i); /* never another datagram's ports */
		} else if (i >= n - 3) {
			/* Evicted only as the oldest of a full window of 4: the three
			 * newest cannot be. */
			CHECK(0);
		}
	}
	CHECK_EQ_U64(live, n - st.replaced);
	CHECK(live <= 16);
	CHECK_EQ_U64(stats(ft).expired, 0);
	wt_frag_free(ft);
}

/* IPv6: 32-bit identifications, and every key field tells datagrams apart. */
static void
test_ipv6_and_key_fields(void)
{
	struct wt_frag_table *ft = wt_frag_create(4096, 60 * SEC, WT_SOCKET_ANY);
	struct wt_pkt p, l;

	CHECK(ft != NULL);
	if (ft == NULL)
		return;
	p = frag_pkt(6, WT_FRAG_FIRST, 0x00010001, 1, 2);
	CHECK_EQ_U64(wt_frag_process(ft, &p, 1), WT_DROP_NONE);
	p = frag_pkt(6, WT_FRAG_FIRST, 0x00020001, 3, 4);
	CHECK_EQ_U64(wt_frag_process(ft, &p, 1), WT_DROP_NONE);
	p = frag_pkt(4, WT_FRAG_FIRST, 0x0001, 5, 6);
	CHECK_EQ_U64(wt_frag_process(ft, &p, 1), WT_DROP_NONE);

	l = frag_pkt(6, WT_FRAG_LATER, 0x00010001, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_NONE);
	CHECK_EQ_U64(l.sport, 1);
	l = frag_pkt(6, WT_FRAG_LATER, 0x00020001, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_NONE);
	CHECK_EQ_U64(l.sport, 3);
	l = frag_pkt(4, WT_FRAG_LATER, 0x0001, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_NONE);
	CHECK_EQ_U64(l.sport, 5);

	/* Same id, other family / protocol / source / destination: a miss. */
	l = frag_pkt(4, WT_FRAG_LATER, 0x00010001, 0, 0);
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_FRAG_UNATTRIBUTED);
	l = frag_pkt(6, WT_FRAG_LATER, 0x00010001, 0, 0);
	l.proto = 6;
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_FRAG_UNATTRIBUTED);
	l = frag_pkt(6, WT_FRAG_LATER, 0x00010001, 0, 0);
	l.src[15] = 9;
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_FRAG_UNATTRIBUTED);
	l = frag_pkt(6, WT_FRAG_LATER, 0x00010001, 0, 0);
	l.dst[0] = 0xfe;
	CHECK_EQ_U64(wt_frag_process(ft, &l, 2), WT_DROP_FRAG_UNATTRIBUTED);

	struct wt_frag_stats st = stats(ft);
	CHECK_EQ_U64(st.learned, 3);
	CHECK_EQ_U64(st.attributed, 3);
	CHECK_EQ_U64(st.unattributed, 4);
	wt_frag_free(ft);
}

WT_TEST_MAIN(WT_TEST(test_create_errors), WT_TEST(test_first_then_later_from_frames),
             WT_TEST(test_later_without_first), WT_TEST(test_refresh), WT_TEST(test_timeout),
             WT_TEST(test_full_table), WT_TEST(test_ipv6_and_key_fields))
