// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* wta.bpf.c: the host agent's BPF programs: TCP and UDP events with the owner captured at open.
 *
 * How it works (docs/AGENT.md has the whole design, DESIGN.md section 6 the
 * rules):
 *   - Per socket, state in a hash map keyed by the socket's address
 *     (tracepoint programs cannot use socket storage), created at open and
 *     deleted at close or destroy, so a reused address never inherits an
 *     owner.
 *   - The owner is taken in process context only: connect() (CLOSE ->
 *     SYN_SENT), listen() (CLOSE -> LISTEN, kept per (netns, port)), the
 *     first send or receive call of an accepted socket (the acceptor: an
 *     OWNER event when it differs from the listener's owner). Softirq
 *     programs (tcp_probe, sk_data_ready, retransmit, most state changes)
 *     copy the owner from the socket's state, never from `current`.
 *   - A send call (sock_send_length) queues {end sequence number, bytes} in
 *     a small FIFO of its socket; an incoming segment (tcp_probe, before
 *     the ACK is processed) whose ACK advances past snd_una completes the
 *     queued sends it covers: one SEND event each. ACKs outside ESTABLISHED
 *     do not pass tcp_probe: every state change and the close complete
 *     what snd_una covers then; what is left at close was never
 *     acknowledged (CLOSE.cancelled). Retransmissions never advance the ACK,
 *     so no byte is counted twice; they are counted apart (RETX).
 *   - Receive-indicate: the advance of rcv_nxt at sk_data_ready;
 *     receive-complete: sock_recv_length (not MSG_PEEK), with the reading
 *     thread.
 *   - UDP: every send and receive call, the owner being the first process
 *     that used the socket (an LRU map: no UDP close tracepoint).
 *   - Nothing is lost silently: every event the ring buffer could not take
 *     and every socket a full map could not track is counted (counters).
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#define READ_ONCE(x)     (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

#include "../wta_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET      2
#define AF_INET6     10
#define IPPROTO_TCP  6
#define IPPROTO_UDP  17
#define MSG_PEEK     2
#define RCV_SHUTDOWN 1
#define TCPHDR_FIN   0x01
#define TCPHDR_SYN   0x02
#define TCPHDR_ACK   0x10
#define TCP_ESTAB    1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE    7
#define TCP_LISTEN   10

/* Sends queued per socket until acknowledged; more are merged into the last. */
#define FIFO_N 8

/* Sizes the loader may change before loading (bpf_map__set_max_entries). */
#define CONN_MAX   65536
#define LISTEN_MAX 4096
#define UDP_MAX    65536

/*
 * The send FIFO is a single-producer, single-consumer ring: the producer
 * (a send call, process context, after the socket lock was released) owns
 * `tail` and the slot it fills; the consumers (tcp_probe in softirq, the
 * state changes: all under the socket lock, so one at a time) own `head`.
 * Neither ever writes the other's index, so a send completed on one CPU
 * while another queues a send loses nothing. A second producer at the same
 * instant (two threads sending on one socket) finds `resv` taken and adds
 * its bytes to the overflow, as does a send that finds the ring full: the
 * overflow (atomic) is completed once the ACK covers the last send added to
 * it. So the byte totals are always exact; only the split into events and
 * their timing can be coarser.
 */
struct conn_state {
	__u64 conn;
	struct wta_owner owner;
	__u32 fifo_end[FIFO_N]; /* write_seq after each queued send */
	__u32 fifo_bytes[FIFO_N];
	__u32 head, tail, resv; /* the ring: consumer index, producer index, reservation */
	__u32 over_end;         /* the end of the last send added to the overflow */
	__u64 over_bytes;       /* sends not in the ring, completed together */
	__u32 last_rcv_nxt;
	__u32 isn_local, isn_remote;
	__u8 role;
	__u8 confirmed; /* the owner is the process that uses the socket */
	__u8 opened;    /* the OPEN event was emitted */
	__u8 fin;       /* the peer's FIN was taken out of rcv_nxt's advance */
	__u8 reserved[4];
};

struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 reserved;
};

struct udp_state {
	__u64 conn;
	__u64 ino; /* the socket's inode: a freed socket's memory reused by another socket
	            * keeps the pointer (the key) but not the inode */
	__u32 pid;
	__u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CONN_MAX);
	__type(key, __u64);
	__type(value, struct conn_state);
} tcp_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LISTEN_MAX);
	__type(key, struct listen_key);
	__type(value, struct wta_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, UDP_MAX);
	__type(key, __u64);
	__type(value, struct udp_state);
} udp_socks SEC(".maps");

/*
 * One ring buffer per CPU (an array of maps the loader fills): a program
 * reserves in the ring of the CPU it runs on. One shared ring serialises
 * every event of the host on one spinlock and one producer position: with
 * a sender and a receiver on two CPUs that cost 330 ns per event here
 * (iperf3, 1 KiB writes), 50 ns without contention. The loader merges the
 * rings by time (main.c, "Merging the rings").
 */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* the number of possible CPUs: set by the loader */
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WTA_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} next_conn SEC(".maps");

/* A scratch state, too big for the BPF stack (per CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn_state);
} scratch SEC(".maps");

static __always_inline void
count(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &i);
	if (v)
		*v += 1;
}

static __always_inline __u64
new_conn_id(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&next_conn, &zero);
	return v ? __sync_fetch_and_add(v, 1) + 1 : 0;
}

/* The calling process (process context only). */
static __always_inline void
fill_owner(struct wta_owner *o)
{
	__u64 pt = bpf_get_current_pid_tgid();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	o->pid = pt >> 32;
	o->tid = (__u32)pt;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->reserved = 0;
	o->start_ns = BPF_CORE_READ(t, group_leader, start_time);
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline __u32
sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* --netns: trace only sockets of this network namespace (its inode; 0:
 * all). Set by the loader before the programs are loaded. */
const volatile __u32 only_netns = 0;

/* Whether @sk is traced at all (checked where a socket's state is
 * created, and before counting a call as untracked). */
static __always_inline int
traced(const struct sock *sk)
{
	return only_netns == 0 || sk_netns(sk) == only_netns;
}

/* seq a after b (mod 2^32), as TCP compares them */
static __always_inline int
after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/*
 * When to wake the agent. A wakeup per event (the default when the reader
 * is waiting) costs an irq_work, a self-IPI: on a VM a trap to the
 * hypervisor per event, 8 us here, which made an application's UDP calls 12
 * times slower. Asking the ring how full it is (BPF_RB_AVAIL_DATA) reads
 * the consumer's position, a cache line the agent writes on another CPU:
 * 85 ns per event here. So each CPU wakes the agent every (@wakeup_mask +
 * 1)-th event it stores (the loader sets it so that all CPUs together
 * wake it before the ring is an eighth full), by its own per-CPU count;
 * the agent also looks every WTA_POLL_MS by itself.
 */
const volatile __u64 wakeup_mask = 16383;

/* Reserve @size bytes in this CPU's ring; NULL (counted as lost) when it
 * is full. */
static __always_inline void *
reserve(__u64 size)
{
	__u32 cpu = bpf_get_smp_processor_id();
	void *rb = bpf_map_lookup_elem(&rings, &cpu);
	void *e = rb ? bpf_ringbuf_reserve(rb, size, 0) : 0;
	if (!e)
		count(WTA_CNT_RB_FULL);
	return e;
}

/* Submit @e (reserved from the ring) and count it. */
static __always_inline void
commit(void *e)
{
	__u32 i = WTA_CNT_EVENTS;
	__u64 *v = bpf_map_lookup_elem(&counters, &i);
	__u64 n = v ? ++*v : 0;

	bpf_ringbuf_submit(e, (n & wakeup_mask) == 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void
emit_hot(__u32 type, __u64 conn, __u32 bytes, __u32 pid, __u32 tid)
{
	struct wta_hot *e = reserve(sizeof(*e));
	if (!e)
		return;
	e->ts_ns = bpf_ktime_get_ns();
	e->conn = conn;
	e->bytes = bytes;
	e->pid = pid;
	e->type = type;
	e->tid = tid;
	commit(e);
}

/* Complete the queued sends that @una covers (the peer acknowledged every
 * byte before it): one SEND event each. Consumers only (socket lock). */
static __always_inline void
complete_sends(struct conn_state *s, __u32 una)
{
	__u32 h = s->head, t = READ_ONCE(s->tail);

	for (int i = 0; i < FIFO_N; i++) {
		if (h == t)
			break;
		__u32 k = h & (FIFO_N - 1);
		if (after(s->fifo_end[k], una))
			break;
		emit_hot(WTA_EV_SEND, s->conn, s->fifo_bytes[k], s->owner.pid, 0);
		h++;
	}
	WRITE_ONCE(s->head, h);
	if (READ_ONCE(s->over_bytes) != 0 && !after(READ_ONCE(s->over_end), una)) {
		__u64 b = __sync_lock_test_and_set(&s->over_bytes, 0);
		if (b != 0)
			emit_hot(WTA_EV_SEND, s->conn, (__u32)b, s->owner.pid, 0);
	}
}

/* Bytes queued and not acknowledged (at close: cancelled). */
static __always_inline __u64
queued_bytes(const struct conn_state *s)
{
	__u64 n = s->over_bytes;
	__u32 h = s->head, t = s->tail;

	for (int i = 0; i < FIFO_N; i++) {
		if (h == t)
			break;
		n += s->fifo_bytes[h & (FIFO_N - 1)];
		h++;
	}
	return n;
}

/* The OPEN (or OWNER) event of @s for socket @sk. */
static __always_inline void
emit_open(__u32 type, const struct conn_state *s, const struct sock *sk, __u8 proto)
{
	struct wta_open *e = reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->conn = s->conn;
	e->type = type;
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->proto = proto;
	e->role = s->role;
	e->netns = sk_netns(sk);
	e->ifindex = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->isn_local = s->isn_local;
	e->isn_remote = s->isn_remote;
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
	e->owner = s->owner;
	commit(e);
}

/* A new state in the scratch area (zeroed, a fresh id). */
static __always_inline struct conn_state *
new_state(__u8 role)
{
	__u32 zero = 0;
	struct conn_state *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	s->conn = new_conn_id();
	s->role = role;
	return s;
}

/* ---- TCP state changes ------------------------------------------------ */

SEC("tracepoint/sock/inet_sock_set_state")
int
wta_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)ctx->skaddr;
	const struct sock *sk = ctx->skaddr;
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	int old = ctx->oldstate, new = ctx->newstate;

	if (new == TCP_LISTEN) { /* listen(): process context */
		if (!traced(sk))
			return 0;
		struct listen_key lk = {.netns = sk_netns(sk), .port = ctx->sport};
		struct wta_owner o;
		fill_owner(&o);
		if (bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY) != 0)
			count(WTA_CNT_LISTEN_FULL);
		return 0;
	}
	if (old == TCP_LISTEN && new == TCP_CLOSE) {
		struct listen_key lk = {.netns = sk_netns(sk), .port = ctx->sport};
		bpf_map_delete_elem(&listeners, &lk);
		return 0;
	}
	if (old == TCP_CLOSE && new == TCP_SYN_SENT) { /* connect(): process context */
		if (!traced(sk))
			return 0;
		struct conn_state *s = new_state(WTA_ROLE_ACTIVE);
		if (!s)
			return 0;
		fill_owner(&s->owner);
		s->confirmed = 1;
		if (bpf_map_update_elem(&tcp_conns, &key, s, BPF_ANY) != 0)
			count(WTA_CNT_CONN_FULL);
		return 0;
	}
	if (new == TCP_ESTAB && old == TCP_SYN_RECV) {
		/* An accepted connection, in softirq: the listener's owner
		 * for now; the acceptor replaces it at its first call. */
		if (!traced(sk))
			return 0;
		struct conn_state *s = new_state(WTA_ROLE_PASSIVE);
		if (!s)
			return 0;
		struct listen_key lk = {.netns = sk_netns(sk), .port = ctx->sport};
		struct wta_owner *lo = bpf_map_lookup_elem(&listeners, &lk);
		if (lo)
			s->owner = *lo;
		s->isn_local = BPF_CORE_READ(tp, snd_una) - 1;
		s->isn_remote = BPF_CORE_READ(tp, rcv_nxt) - 1;
		s->last_rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
		s->opened = 1;
		if (bpf_map_update_elem(&tcp_conns, &key, s, BPF_ANY) != 0) {
			count(WTA_CNT_CONN_FULL);
			return 0;
		}
		emit_open(WTA_EV_OPEN, s, sk, IPPROTO_TCP);
		return 0;
	}
	struct conn_state *s = bpf_map_lookup_elem(&tcp_conns, &key);
	if (!s)
		return 0;
	if (new == TCP_ESTAB && old == TCP_SYN_SENT) {
		s->isn_local = BPF_CORE_READ(tp, snd_una) - 1;
		s->isn_remote = BPF_CORE_READ(tp, rcv_nxt) - 1;
		s->last_rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
		s->opened = 1;
		emit_open(WTA_EV_OPEN, s, sk, IPPROTO_TCP);
		return 0;
	}
	if (!s->opened) { /* never established (refused, timed out) */
		if (new == TCP_CLOSE)
			bpf_map_delete_elem(&tcp_conns, &key);
		return 0;
	}
	/* Out of ESTABLISHED, the ACKs no longer pass tcp_probe: complete
	 * what snd_una covers at every change. */
	complete_sends(s, BPF_CORE_READ(tp, snd_una));
	if (new != TCP_CLOSE)
		return 0;
	struct wta_close *e = reserve(sizeof(*e));
	if (e) {
		__u64 cancelled = queued_bytes(s);
		e->ts_ns = bpf_ktime_get_ns();
		e->conn = s->conn;
		e->type = WTA_EV_CLOSE;
		e->pid = s->owner.pid;
		e->cancelled = cancelled;
		e->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
		e->bytes_received = BPF_CORE_READ(tp, bytes_received);
		e->total_retrans = BPF_CORE_READ(tp, total_retrans);
		e->ifindex = BPF_CORE_READ(sk, sk_rx_dst_ifindex);
		__builtin_memset(e->ifname, 0, sizeof(e->ifname));
		struct dst_entry *dst = BPF_CORE_READ(sk, sk_rx_dst);
		if (dst)
			BPF_CORE_READ_STR_INTO(&e->ifname, dst, dev, name);
		commit(e);
	}
	bpf_map_delete_elem(&tcp_conns, &key);
	return 0;
}

SEC("raw_tracepoint/tcp_destroy_sock")
int
wta_destroy(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	bpf_map_delete_elem(&tcp_conns, &key); /* normally gone at CLOSE already */
	return 0;
}

/* ---- TCP segments --------------------------------------------------------- */

/* The state of the socket a raw tracepoint's first argument is. */
static __always_inline struct conn_state *
raw_conn(const struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	return bpf_map_lookup_elem(&tcp_conns, &key);
}

/* The TCP control block of the skb a raw tracepoint's second argument is. */
static __always_inline void
raw_cb(const struct bpf_raw_tracepoint_args *ctx, struct tcp_skb_cb *cb)
{
	const struct sk_buff *skb = (const struct sk_buff *)ctx->args[1];
	bpf_probe_read_kernel(cb, sizeof(*cb), &skb->cb[0]);
}

/* Every incoming segment of an ESTABLISHED socket, before tcp_ack(): its
 * ACK completes the queued sends it covers. */
SEC("raw_tracepoint/tcp_probe")
int
wta_probe(struct bpf_raw_tracepoint_args *ctx)
{
	struct conn_state *s = raw_conn(ctx);
	if (!s || (READ_ONCE(s->head) == READ_ONCE(s->tail) && READ_ONCE(s->over_bytes) == 0))
		return 0;
	const struct tcp_sock *tp = (const struct tcp_sock *)ctx->args[0];
	struct tcp_skb_cb cb;
	raw_cb(ctx, &cb);
	if (!(cb.tcp_flags & TCPHDR_ACK))
		return 0;
	__u32 una = BPF_CORE_READ(tp, snd_una), nxt = BPF_CORE_READ(tp, snd_nxt);
	/* as tcp_ack() takes it: newer than snd_una, not beyond snd_nxt */
	if (!after(cb.ack_seq, una) || after(cb.ack_seq, nxt))
		return 0;
	complete_sends(s, cb.ack_seq);
	return 0;
}

SEC("raw_tracepoint/tcp_retransmit_skb")
int
wta_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	struct conn_state *s = raw_conn(ctx);
	if (!s)
		return 0;
	struct tcp_skb_cb cb;
	raw_cb(ctx, &cb);
	__u32 len = cb.end_seq - cb.seq;
	len -= (cb.tcp_flags & TCPHDR_SYN) ? 1 : 0;
	len -= (cb.tcp_flags & TCPHDR_FIN) ? 1 : 0;
	if ((__s32)len > 0)
		emit_hot(WTA_EV_RETX, s->conn, len, s->owner.pid, 0);
	return 0;
}

/* In-order data reached the socket: the advance of rcv_nxt. */
SEC("raw_tracepoint/sk_data_ready")
int
wta_data_ready(struct bpf_raw_tracepoint_args *ctx)
{
	struct conn_state *s = raw_conn(ctx);
	if (!s)
		return 0;
	const struct tcp_sock *tp = (const struct tcp_sock *)ctx->args[0];
	__u32 nxt = BPF_CORE_READ(tp, rcv_nxt);
	__u32 delta = nxt - s->last_rcv_nxt;
	if ((__s32)delta <= 0)
		return 0;
	s->last_rcv_nxt = nxt;
	/* The peer's FIN takes a sequence number, not a byte: tcp_fin()
	 * sets RCV_SHUTDOWN before the socket is woken. (A shutdown(SHUT_RD)
	 * sets it too: then the first byte after it is not counted.) */
	if (!s->fin && (BPF_CORE_READ(&tp->inet_conn.icsk_inet.sk, sk_shutdown) & RCV_SHUTDOWN)) {
		s->fin = 1;
		delta--;
	}
	if (delta > 0)
		emit_hot(WTA_EV_IND, s->conn, delta, s->owner.pid, 0);
	return 0;
}

/* ---- send and receive calls (process context) ------------------------------ */

/* The first call on an accepted socket names its owner. */
static __always_inline void
confirm_owner(struct conn_state *s, const struct sock *sk)
{
	if (s->confirmed)
		return;
	s->confirmed = 1;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid == s->owner.pid)
		return;
	fill_owner(&s->owner);
	emit_open(WTA_EV_OWNER, s, sk, IPPROTO_TCP);
}

/* The inode number of @sk's socket (0: none). A struct socket is the first
 * member of a struct socket_alloc, whose inode follows it: two reads, not
 * the four of sk_socket->file->f_inode->i_ino (35 ns per call here). */
static __always_inline __u64
sk_ino(const struct sock *sk)
{
	const struct socket_alloc *sa = (const void *)BPF_CORE_READ(sk, sk_socket);
	return sa ? BPF_CORE_READ(sa, vfs_inode.i_ino) : 0;
}

/* UDP: the socket's state, created at its first call (the owner). */
static __always_inline struct udp_state *
udp_sock(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	__u64 ino = sk_ino(sk);
	struct udp_state *u = bpf_map_lookup_elem(&udp_socks, &key);
	if (u && u->ino == ino)
		return u;
	if (u)
		count(WTA_CNT_UDP_REUSED); /* the old socket is gone: a new one */
	if (!traced(sk)) {
		if (u)
			bpf_map_delete_elem(&udp_socks, &key);
		return 0;
	}
	struct conn_state *s = new_state(WTA_ROLE_UDP);
	if (!s)
		return 0;
	fill_owner(&s->owner);
	struct udp_state nu = {.conn = s->conn, .ino = ino, .pid = s->owner.pid};
	if (bpf_map_update_elem(&udp_socks, &key, &nu, BPF_ANY) != 0) {
		count(WTA_CNT_CONN_FULL);
		return 0;
	}
	count(WTA_CNT_UDP_OPENED);
	emit_open(WTA_EV_OPEN, s, sk, IPPROTO_UDP);
	return bpf_map_lookup_elem(&udp_socks, &key);
}

/* A send or receive call on @ctx's socket: a UDP one is counted here
 * (@udp_type); for a TCP one, the socket's state (its owner confirmed), or
 * NULL when the agent did not see it open (counted). */
static __always_inline struct conn_state *
call_state(const struct trace_event_raw_sock_msg_length *ctx, __u32 udp_type)
{
	const struct sock *sk = ctx->sk;
	__u64 pt = bpf_get_current_pid_tgid();

	if (ctx->protocol == IPPROTO_UDP) {
		struct udp_state *u = udp_sock(sk);
		if (u)
			emit_hot(udp_type, u->conn, ctx->ret, pt >> 32, (__u32)pt);
		return 0;
	}
	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	struct conn_state *s = bpf_map_lookup_elem(&tcp_conns, &key);
	if (!s) {
		if (traced(sk))
			count(WTA_CNT_UNTRACKED);
		return 0;
	}
	confirm_owner(s, sk);
	return s;
}

SEC("tracepoint/sock/sock_send_length")
int
wta_send(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->ret <= 0 || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 0;
	struct conn_state *s = call_state(ctx, WTA_EV_UDP_SEND);
	if (!s)
		return 0;
	__u32 end = BPF_CORE_READ((const struct tcp_sock *)ctx->sk, write_seq);
	__u32 t = READ_ONCE(s->tail);
	if (__sync_val_compare_and_swap(&s->resv, t, t + 1) == t) {
		if (t - READ_ONCE(s->head) < FIFO_N) {
			s->fifo_end[t & (FIFO_N - 1)] = end;
			s->fifo_bytes[t & (FIFO_N - 1)] = ctx->ret;
			__sync_fetch_and_add(&s->tail, 1); /* publish: the slot before the index */
			return 0;
		}
		WRITE_ONCE(s->resv, t); /* full */
	}
	/* the ring is full, or another send is being queued this instant */
	__sync_fetch_and_add(&s->over_bytes, ctx->ret);
	WRITE_ONCE(s->over_end, end);
	count(WTA_CNT_FIFO_MERGED);
	return 0;
}

SEC("tracepoint/sock/sock_recv_length")
int
wta_recv(struct trace_event_raw_sock_msg_length *ctx)
{
	if (ctx->ret <= 0 || (ctx->flags & MSG_PEEK) ||
	    (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 0;
	struct conn_state *s = call_state(ctx, WTA_EV_UDP_RECV);
	if (s) {
		__u64 pt = bpf_get_current_pid_tgid();
		emit_hot(WTA_EV_RECV, s->conn, ctx->ret, pt >> 32, (__u32)pt);
	}
	return 0;
}
