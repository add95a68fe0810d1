/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_calltab.h: the table of active call records owned by one RX lcore.
 *
 * One table per RX lcore, preallocated at start; nothing on the packet path
 * allocates, locks or logs. Records are created by the first packet of a
 * connection not yet represented, updated by every later one (HP patent,
 * Figures 5 and 6), completed by the activity-flag scan (Figure 7), evicted
 * when the table is full, and completed at shutdown. A completed record is
 * handed to the emit callback as a struct wt_callrec (seq still 0; the log
 * writer numbers it). With an active timeout, a call still running also
 * emits interim records (end_reason active) at scan passes, each with what
 * the call did since its previous record; all records of one call carry the
 * same call_id.
 *
 * Threading: every function here must be called by the owning lcore only,
 * except wt_calltab_scan_remote() (the scanner's, on another lcore: it only
 * reads, and the owner re-checks what it hands back), wt_calltab_get_stats()
 * and the getters of sizes and memory (any thread).
 */
#ifndef WT_CALLTAB_H
#define WT_CALLTAB_H

#include <stdint.h>

#include "wt_key.h"
#include "wt_mem.h"
#include "wt_parse.h"
#include "wt_record.h"

/* Longest active timeout (7 days): a part's age must fit in 31 bits of ms. */
#define WT_CALLTAB_MAX_ACTIVE_TIMEOUT_NS (7ull * 86400 * 1000000000)

/* Largest number of records one table can hold. */
#define WT_CALLTAB_MAX_CAPACITY (1u << 28)
/* Packets handled per wt_calltab_update_burst() call at most. */
#define WT_CALLTAB_BURST_MAX 64

struct wt_calltab;

/**
 * Called for each completed record, in completion order. The record is only
 * valid during the call. Must not call back into the table.
 */
typedef void (*wt_calltab_emit_fn)(void *ctx, const struct wt_callrec *rec);

struct wt_calltab_params {
	uint32_t capacity;       /* records, 16 .. WT_CALLTAB_MAX_CAPACITY */
	int socket;              /* NUMA node of the owning lcore, or WT_SOCKET_ANY */
	uint64_t hash_seed;      /* seed of the table hash (any value) */
	int vlan_in_key;         /* nonzero: VLAN id is part of the connection key */
	uint8_t lcore_index;     /* owner's index, the top byte of call_id[1] */
	uint64_t run_id;         /* call_id[0] */
	wt_calltab_emit_fn emit; /* required */
	void *emit_ctx;
	/* Interim records: a call whose current part is at least this old at a
	 * scan pass emits one (end_reason active) and goes on from zero.
	 * 0: never; else 1 ms .. WT_CALLTAB_MAX_ACTIVE_TIMEOUT_NS. */
	uint64_t active_timeout_ns;
};

/*
 * The table's counters, one list: _(field, stats-frame key, telemetry key,
 * meaning). NULL: not in that output. struct wt_calltab_stats and the
 * monitor's stats frame and telemetry (app/wiretally/stats.c) come from it,
 * so a counter cannot be in one and missing from, or named differently in,
 * another.
 */
#define WT_FOREACH_CALLTAB_STAT(_)                                                            \
	_(active, NULL, "active_records", "records in the table now")                         \
	_(created, "records.created", "created", "records created")                           \
	_(completed_idle, NULL, "completed_idle", "completed by the scan")                    \
	_(evicted, NULL, "evicted", "completed because the table was full")                   \
	_(completed_shutdown, NULL, "completed_shutdown",                                     \
	  "completed by wt_calltab_complete_all()")                                           \
	_(pkts, NULL, NULL, "packets accounted into records")                                 \
	_(scans, NULL, NULL, "completed scan passes (owner-run scans)")                       \
	_(expire_requests, "scan.requests", NULL, "remote scanner requests handled")          \
	_(expire_stale, "scan.stale", NULL, "... for a record completed or reused meanwhile") \
	_(expire_active, "scan.active_again", NULL,                                           \
	  "... for a record that saw a packet meanwhile")                                     \
	_(interim, NULL, "interim", "interim records emitted (end_reason active)")            \
	_(interim_declined, "scan.interim_declined", NULL,                                    \
	  "interim requests for a part empty or too young")                                   \
	/* TCP streams (record version 2; calltab_tcp.c) */                                   \
	_(tcp_acked_bytes, "tcp.acked_bytes", "tcp_acked_bytes",                              \
	  "acknowledged bytes in the records emitted")                                        \
	_(tcp_retx_bytes, "tcp.retx_bytes", "tcp_retx_bytes",                                 \
	  "retransmitted bytes in the records emitted")                                       \
	_(tcp_missed_bytes, "tcp.missed_bytes", "tcp_missed_bytes",                           \
	  "missed bytes in the records emitted")                                              \
	_(tcp_jump_held, "tcp.jump_held", "tcp_jump_held",                                    \
	  "positions more than 16 MiB beyond a stream, held")                                 \
	_(tcp_jump_confirmed, "tcp.jump_confirmed", NULL, "... confirmed by a second packet") \
	_(tcp_hole_untracked, "tcp.hole_untracked", "tcp_hole_untracked",                     \
	  "holes forgotten (list or pool full)")                                              \
	_(tcp_ext_full, "tcp.hole_pool_empty", NULL, "a stream found the hole pool empty")    \
	_(tcp_inconsistent, NULL, NULL, "a stream's figures did not add up (a bug; never)")   \
	/* Tunnels */                                                                         \
	_(tunnel_calls, "tunnel.calls", "tunnel_calls",                                       \
	  "records created for connections inside tunnels")                                   \
	_(tunnel_ctx_full, "tunnel.context_store_full", "tunnel_ctx_full",                    \
	  "... whose tunnel could not be described (store full)")

struct wt_calltab_stats {
#define WT_CALLTAB_STAT_FIELD(f, frame, tel, what) uint64_t f;
	WT_FOREACH_CALLTAB_STAT(WT_CALLTAB_STAT_FIELD)
#undef WT_CALLTAB_STAT_FIELD
};

/**
 * Create a table.
 * @return the table, or NULL with errno set: EINVAL (bad capacity, no emit,
 * active timeout out of range), ENOMEM.
 */
struct wt_calltab *wt_calltab_create(const struct wt_calltab_params *p);

/** Free a table without emitting its records; NULL is accepted. */
void wt_calltab_free(struct wt_calltab *t);

/**
 * Account a burst of parsed packets (each accepted by wt_parse() and, for
 * fragments, wt_frag_process()). Looks up all keys with a prefetch pipeline,
 * creates missing records (evicting when full: the victim is emitted with
 * end_reason evicted) and updates them.
 * @param pkts  @n packets, n <= WT_CALLTAB_BURST_MAX
 * @param ts    timestamp of each packet, ns since the epoch
 */
void wt_calltab_update_burst(struct wt_calltab *t, const struct wt_pkt *pkts, const uint64_t *ts,
                             uint32_t n);

/**
 * Completion scan (Figure 7) over at most @budget slots from a saved cursor:
 * records whose activity flag is clear are completed (end_reason idle) and
 * removed; the flag of the others is cleared, and those whose current part
 * is at least the active timeout old at @now_ns emit an interim record
 * (unless the part is empty). Call repeatedly; a pass ends when the cursor
 * wraps.
 * @param now_ns  the time of the pass (capture files: the scan boundary)
 * @return 1 when this call finished a pass, else 0.
 */
int wt_calltab_scan(struct wt_calltab *t, uint32_t budget, uint64_t now_ns);

/*
 * The completion scan run by another lcore (the scanner): it reads and clears
 * activity flags and asks the owner to complete idle records or to emit
 * interim records of long ones; only the owner completes or emits. How it
 * works and why it is race-free: wt_calltab.c and docs/ARCHITECTURE.md.
 */
#define WT_CALLTAB_REQ_IDLE    0 /* complete the record if it is still idle */
#define WT_CALLTAB_REQ_INTERIM 1 /* emit an interim record if the part is old enough */

struct wt_calltab_expire {
	uint32_t idx;        /* record slot */
	uint8_t op;          /* WT_CALLTAB_REQ_* */
	uint8_t reserved[3]; /* 0 */
	uint64_t gen;        /* the record's creation number when the scanner saw it */
	uint64_t now_ns;     /* the time of the scanner's pass */
};

/**
 * Scanner side: visit up to @budget slots from *@cursor, clearing set
 * activity flags; write a WT_CALLTAB_REQ_IDLE request for each record whose
 * flag was clear, and (active timeout set) a WT_CALLTAB_REQ_INTERIM request
 * for each record whose flag was set and whose current part began at least
 * the active timeout before @now_ns; at most @max_out requests (the cursor
 * stops there).
 * @param now_ns     the time of this pass (the same for all its slices)
 * @param pass_done  set to 1 when the cursor wrapped (a pass ended)
 * @return requests written to @out.
 * Threading: one scanner per table, any lcore but the owner; concurrent with
 * the owner's packet path. Does not modify anything but activity flags.
 */
uint32_t wt_calltab_scan_remote(struct wt_calltab *t, uint32_t *cursor, uint32_t budget,
                                uint64_t now_ns, struct wt_calltab_expire *out, uint32_t max_out,
                                int *pass_done);

/**
 * Owner side: act on a scanner request if it is still the same record
 * (generation). WT_CALLTAB_REQ_IDLE: complete it (end_reason idle) if its
 * flag is still clear. WT_CALLTAB_REQ_INTERIM: emit an interim record
 * (end_reason active) if the part holds packets and began at least the
 * active timeout before the request's now_ns, and start the next part.
 * @return 1 when done, 0 when the request was stale, the record active
 * again, or the part empty or too young.
 * Threading: the owner only.
 */
int wt_calltab_expire(struct wt_calltab *t, const struct wt_calltab_expire *req);

/** Run one whole scan pass at @now_ns (capture files: the clock is the packets'). */
void wt_calltab_scan_pass(struct wt_calltab *t, uint64_t now_ns);

/** Complete every record with @reason (WT_END_SHUTDOWN at exit), in slot order. */
void wt_calltab_complete_all(struct wt_calltab *t, uint8_t reason);

/** Copy the counters. Any thread (telemetry, the progress line): each
 * counter is read whole, not all of them at one instant. */
void wt_calltab_get_stats(const struct wt_calltab *t, struct wt_calltab_stats *st);

/** Capacity in records. */
uint32_t wt_calltab_capacity(const struct wt_calltab *t);

/**
 * Memory the table uses per record of capacity (records, cold data, the
 * index and the TCP hole pool), in bytes, for the start-up message and the
 * benchmarks.
 */
double wt_calltab_bytes_per_record(const struct wt_calltab *t);

/** 1 when the records are on hugepages (else normal pages: none were free). */
int wt_calltab_on_hugepages(const struct wt_calltab *t);

/** Bytes the table allocated in total. */
uint64_t wt_calltab_memory(const struct wt_calltab *t);

#endif /* WT_CALLTAB_H */
