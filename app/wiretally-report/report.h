/* SPDX-License-Identifier: BSD-3-Clause */
/* report.h: wiretally-report's pieces: the connection table built from trace logs (trace.c), the
 * join with the tap's call records (join.c), the output helpers (main.c). */
#ifndef WTRP_REPORT_H
#define WTRP_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "wt_seglog.h"
#include "wta_events.h"

#define PROG "wiretally-report"

/* One connection (or UDP socket) of a trace log: its open record, its owner
 * (the last owner record), its five byte counts. */
struct conn {
	uint64_t id;
	uint64_t open_ns, close_ns; /* wall clock; close 0: still open at the end of the log */
	uint64_t last_ns;           /* the newest record's time (follow mode) */
	struct wta_open o;          /* the last open/owner record */
	char cgroup[256];
	char ifname[16];
	uint64_t sent, received, indicated, retx, cancelled;
	int udp;
};

/* Connections in open order, found by id (open addressing: index + 1). */
struct table {
	struct conn *c;
	size_t n, cap;
	size_t *slot;
	size_t nslot;
};

/* What reading trace logs found besides connections. */
struct report {
	struct table t;
	uint64_t orphans;   /* records of connections without an open record */
	uint64_t lost;      /* the agent's own count (stats frames) */
	uint64_t newest_ns; /* the newest record's time */
	int have_stats;
};

struct conn *wtrp_find(struct table *t, uint64_t id);

/** Free the table of @r. */
void wtrp_free(struct report *r);

/** Remove @c (a pointer into @t->c): the last connection takes its place. */
void wtrp_remove(struct table *t, struct conn *c);

/**
 * One frame of a trace log into @r: a typed record, or a stats frame.
 * @return the connection it touched (NULL: none, or a stats frame).
 */
struct conn *wtrp_frame(struct report *r, const struct wt_seglog_frame *f);

/**
 * Read every frame of the trace logs @paths into @r. Problems of the log go
 * to stderr; @worst takes the exit status they call for (1 unreadable,
 * 2 damaged). @return 0, or -1 when the log cannot be opened (said).
 */
int wtrp_load(struct report *r, const char *const *paths, size_t npaths, int *worst);

/** The reader's problem callback: one line on stderr, the worst class in *arg. */
void wtrp_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t off,
                  const char *msg);

/* Address family of an open record as 4 or 6; an IPv4-mapped IPv6 address
 * (a dual-stack socket) is IPv4, its 4 bytes moved first into @addr. */
int wtrp_family(const struct wta_open *o, const uint8_t in[16], uint8_t addr[16]);

/* Output helpers: a CSV field (quoted when needed), a JSON string. */
void wtrp_csv_str(const char *s);
void wtrp_json_str(const char *s);

/** The owner's command name as a string (@buf >= 17 bytes). */
const char *wtrp_comm(const struct conn *c, char *buf);

/** Warnings of the report on stderr (lost events, orphan records). */
void wtrp_say_incomplete(const struct report *r);

/* --join: the call records of the tap logs @tap (--since/--until on their
 * times) with each end's owner from @r; @slack_ns the tolerance of the
 * time match. @return the exit status. */
int wtrp_join(struct report *r, const char *const *tap, size_t ntap, int json, uint64_t since,
              uint64_t until, uint64_t slack_ns);

#endif /* WTRP_REPORT_H */
