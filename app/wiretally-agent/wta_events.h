/* SPDX-License-Identifier: BSD-3-Clause */
/* wta_events.h: the host agent's events as its BPF programs produce them (shared with the loader).
 *
 * Included by the BPF programs (after vmlinux.h) and by the loader (after
 * <linux/types.h>): fixed-size fields only. The loader turns each event
 * into a typed record of the trace log (docs/FORMAT.md 5.7, docs/AGENT.md
 * "Trace log"), the frame type being the event type.
 */
#ifndef WTA_EVENTS_H
#define WTA_EVENTS_H

/* Event types = the trace log's record types (16..127). */
#define WTA_EV_OPEN     16 /* struct wta_open: a connection (or UDP socket) and its owner */
#define WTA_EV_OWNER    17 /* struct wta_open: the owner changed (the accepting process) */
#define WTA_EV_SEND     18 /* hot: bytes of a send whose last byte the peer acknowledged */
#define WTA_EV_RETX     19 /* hot: bytes TCP sent again */
#define WTA_EV_IND      20 /* hot: receive-indicate, in-order bytes reached the socket */
#define WTA_EV_RECV     21 /* hot: receive-complete, bytes a receive call copied out */
#define WTA_EV_CLOSE    22 /* struct wta_close */
#define WTA_EV_UDP_SEND 23 /* hot: a UDP send call's bytes */
#define WTA_EV_UDP_RECV 24 /* hot: a UDP receive call's bytes */
#define WTA_EV_FIRST    WTA_EV_OPEN
#define WTA_EV_LAST     WTA_EV_UDP_RECV

/* Every event starts with these 20 bytes (the type at offset 16). */
struct wta_head {
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 conn;  /* the connection's id (its open event) */
	__u32 type;  /* WTA_EV_* */
};

/* A hot event, 32 bytes in the ring buffer. */
struct wta_hot {
	__u64 ts_ns;
	__u64 conn;
	__u32 type;
	__u32 bytes;
	__u32 pid; /* the owner (SEND, RETX, IND) or the calling process (RECV, UDP) */
	__u32 tid; /* the calling thread (RECV, UDP_*); 0 in softirq events */
};

/* A hot event as a record of the trace log (docs/FORMAT.md 5.8): the seq
 * the log assigns first, then ts (wall clock), conn, bytes, pid; 32 bytes.
 * Written by the loader, read by wiretally-report. */
struct wta_rec_hot {
	__u64 seq, ts_ns, conn;
	__u32 bytes, pid;
};

/* Connection roles (struct wta_open.role). */
#define WTA_ROLE_ACTIVE  1 /* TCP, connect() */
#define WTA_ROLE_PASSIVE 2 /* TCP, accepted: the listener's owner until the acceptor shows */
#define WTA_ROLE_UDP     3

/* The owner of a connection: a process, identified by (pid, start time). */
struct wta_owner {
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 uid;
	__u32 reserved;
	__u64 start_ns;  /* the process's start time (boot clock) */
	__u64 cgroup_id; /* cgroup v2 id */
	char comm[16];
};

/* OPEN and OWNER events. Addresses in network order (IPv4 in the first 4
 * bytes); ports in host order; ISNs: the first sequence number each side
 * sent (TCP; 0 for UDP). */
struct wta_open {
	__u64 ts_ns;
	__u64 conn;
	__u32 type;
	__u8 family; /* 2 AF_INET, 10 AF_INET6 */
	__u8 proto;  /* 6, 17 */
	__u8 role;   /* WTA_ROLE_* */
	__u8 reserved;
	__u32 netns; /* network namespace inode */
	__u32 ifindex;
	__u16 lport, rport;
	__u32 isn_local, isn_remote;
	__u8 laddr[16], raddr[16];
	struct wta_owner owner;
};

/* CLOSE: the end of a TCP connection; for a UDP socket (no close
 * tracepoint) written by the loader at exit for each socket still in the
 * map (pid: its owner; the byte fields 0; ifname empty). */
struct wta_close {
	__u64 ts_ns;
	__u64 conn;
	__u32 type;
	__u32 pid;                         /* the owner */
	__u64 cancelled;                   /* bytes sent by the application, never acknowledged */
	__u64 bytes_acked, bytes_received; /* the kernel's own counters at close (tcp_sock) */
	__u32 total_retrans;
	__u32 ifindex;   /* the interface its last segments came in on (0: unknown) */
	char ifname[16]; /* its name (in the socket's network namespace) */
};

/* The agent reads the ring at least this often (ms); the programs wake it
 * earlier only when it may be an eighth full (wta.bpf.c, commit()). */
#define WTA_POLL_MS 50

/* Kernel-side counters (a per-CPU array indexed by these). Every event or
 * state the programs could not store is one of them. */
#define WTA_CNT_RB_FULL     0 /* events lost: the ring buffer was full */
#define WTA_CNT_CONN_FULL   1 /* connections not tracked: the connection map was full */
#define WTA_CNT_UNTRACKED   2 /* events of sockets the agent did not see open */
#define WTA_CNT_FIFO_MERGED 3 /* sends merged into the previous one (send FIFO full) */
#define WTA_CNT_LISTEN_FULL 4 /* listeners not tracked: the listener map was full */
#define WTA_CNT_UDP_REUSED  5 /* UDP entries replaced: the socket's memory is another socket's */
#define WTA_CNT_EVENTS      6 /* events stored in the ring buffer */
#define WTA_CNT_UDP_OPENED                                              \
	7 /* UDP sockets entered in the LRU map (the loader derives the \
	   * evicted ones: opened - reused - still there at exit) */
#define WTA_CNT_MAX 8

#endif /* WTA_EVENTS_H */
