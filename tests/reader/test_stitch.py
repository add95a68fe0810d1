#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test_stitch.py: wiretally-read --stitch on connections made of packets here, split into fragments, against the whole connection's record.
"""Usage: test_stitch.py WIRETALLY_READ WT_MKLOG

Each connection is a list of packets (time, sender, TCP flags, sequence
number, payload and IP length) built here. A record is computed from a
set of packets the way DESIGN.md defines the columns; a connection cut at
idle times gives its fragments (one record each), the whole packet list
gives what --stitch must print for it. The fragments of all connections go
into one log in completion order (seq), across several segments.
Connections that the rules of docs/READER.md keep apart (new SYN, gap,
payload after a close, sequence jump, overlap, other VLAN) are checked to
stay apart, with the counts on stderr.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

S = 10**9
T0 = 1795305600 * S
check = rlib.Checker()
MAC = {"a": "02:00:00:00:00:0a", "b": "02:00:00:00:00:0b"}


class Conn:
    """A connection between a (the greater endpoint) and b, as packets."""

    def __init__(self, proto="tcp", a=("10.0.0.2", 80), b=("10.0.0.1", 40000), vlan="",
                 isn=(1000, 4000000000)):
        self.proto, self.a, self.b, self.vlan = proto, a, b, vlan
        self.nxt = {"a": isn[0], "b": isn[1]}
        self.pkts = []  # (t, side, flags, seq, plen, iplen)

    def send(self, t, side, flags="A", n=0, seq=None):
        s = self.nxt[side] if seq is None else seq
        hdr = 40 if self.proto == "tcp" else 28
        self.pkts.append((t, side, flags, s % 2**32, n, hdr + n))
        consumed = n + ("S" in flags) + ("F" in flags)
        if seq is None:
            self.nxt[side] = (s + consumed) % 2**32
        return self

    def handshake(self, t, client="b"):
        server = "a" if client == "b" else "b"
        return self.send(t, client, "S").send(t + 1000, server, "SA").send(t + 2000, client)

    def exchange(self, t, client="b", req=100, resp=1000):
        server = "a" if client == "b" else "b"
        self.send(t, client, "PA", req).send(t + 10**5, server, "A")
        return self.send(t + 2 * 10**5, server, "PA", resp).send(t + 3 * 10**5, client, "A")

    def close(self, t, first="b"):
        other = "a" if first == "b" else "b"
        self.send(t, first, "FA").send(t + 1000, other, "FA").send(t + 2000, first, "A")
        return self


def record(c, pkts, end_reason, call_id):
    """The record of packets pkts of connection c (DESIGN.md section 3)."""
    r = rlib.rec(proto=c.proto, a_addr=c.a[0], a_port=c.a[1], b_addr=c.b[0], b_port=c.b[1],
                 vlan=c.vlan, start_ns=min(p[0] for p in pkts), end_ns=max(p[0] for p in pkts),
                 end_reason=end_reason, call_id="%032x" % call_id)
    syn = [p for p in pkts if "S" in p[2]]
    r["origin"] = "unknown"
    if syn:
        r["origin"] = syn[0][1] if "A" not in syn[0][2] else ("b" if syn[0][1] == "a" else "a")
    for side in "ab":
        ps = [p for p in pkts if p[1] == side]
        r[side + "_mac"] = MAC[side] if ps else ""
        r[side + "_pkts"] = str(len(ps))
        r[side + "_bytes"] = str(sum(p[4] for p in ps))
        r[side + "_ip_bytes"] = str(sum(p[5] for p in ps))
        tcp = c.proto == "tcp" and ps
        r[side + "_flags"] = rlib.flags_str(
            rlib.flags_bits("".join(p[2] for p in ps))) if c.proto == "tcp" else ""
        r[side + "_first_seq"] = str(ps[0][3]) if tcp else ""
        r[side + "_last_seq"] = str((ps[-1][3] + ps[-1][4]) % 2**32) if tcp else ""
    return r


class Log:
    """Records of several connections, in completion order."""

    def __init__(self):
        self.rows = []       # (completion time, record)
        self.expected = []   # (id of first fragment's record, expected record)
        self.next_id = 1

    def fragments(self, c, cuts, reasons=None, same_call=1, expect_whole=True):
        """Split c's packets before each time in cuts; return their records. The
        first same_call records share a call_id (interim records of one call)."""
        groups, cur = [], []
        bounds = list(cuts) + [None]
        for p in sorted(c.pkts):
            while bounds[0] is not None and p[0] >= bounds[0]:
                groups.append(cur)
                cur = []
                bounds.pop(0)
            cur.append(p)
        groups.append(cur)
        groups = [g for g in groups if g]
        reasons = reasons or ["idle"] * (len(groups) - 1) + ["shutdown"]
        recs = []
        first_id = self.next_id
        for k, (g, why) in enumerate(zip(groups, reasons)):
            cid = first_id if k < same_call else self.next_id
            self.next_id += 1
            r = record(c, g, why, cid)
            recs.append(r)
            self.rows.append((int(r["end_ns"]) + S, len(self.rows), r))
        if expect_whole:
            whole = record(c, c.pkts, recs[-1]["end_reason"], first_id)
            whole["origin"] = recs[0]["origin"]
            self.expected.append((recs[0], whole))
        else:
            self.expected += [(r, dict(r)) for r in recs]
        return recs

    def write(self, t, d, seg=65536):
        ordered = [r for _, _, r in sorted(self.rows, key=lambda x: (x[0], x[1]))]
        for i, r in enumerate(ordered):
            r["seq"] = str(i)
        t.write(d, ordered, seg=seg)
        out = []
        for first, want in self.expected:
            w = dict(want)
            w["seq"] = first["seq"]
            out.append(w)
        return sorted(out, key=lambda r: int(r["seq"])), ordered


def stitched(t, d, *args):
    rc, out, err = t.run("--stitch", *args, d)
    return rc, rlib.parse_csv(out), err


def diff(got, want):
    lines = []
    for g, w in zip(got, want):
        if g != w:
            lines.append("seq %s: %s" % (w["seq"], {k: (g[k], w[k]) for k in w if g[k] != w[k]}))
    if len(got) != len(want):
        lines.append("%d records, expected %d" % (len(got), len(want)))
    return "\n".join(lines[:6])


def totals(recs):
    return [sum(int(r[k]) for r in recs) for k in ("a_pkts", "b_pkts", "a_bytes", "b_bytes",
                                                  "a_ip_bytes", "b_ip_bytes")]


def case_merges(t, tmp):
    """Connections that must come back whole, among others in one log."""
    log = Log()
    # the patent's example: SYN ACK PSH / ACK PSH / ACK PSH FIN
    c = Conn().handshake(T0).exchange(T0 + S)
    c.exchange(T0 + 400 * S).exchange(T0 + 900 * S).close(T0 + 901 * S)
    log.fragments(c, [T0 + 300 * S, T0 + 800 * S])
    # keep-alive HTTP over IPv6, split twice, the server's port below the client's
    c = Conn(a=("2001:db8::20", 45000), b=("2001:db8::10", 443))
    c.handshake(T0 + 5 * S, client="a").exchange(T0 + 6 * S, client="a", req=517, resp=4711)
    c.exchange(T0 + 200 * S, client="a", req=77, resp=12345)
    c.exchange(T0 + 600 * S, client="a", req=1, resp=0).close(T0 + 601 * S, first="b")
    log.fragments(c, [T0 + 100 * S, T0 + 500 * S])
    # a keep-alive probe (seq one below) starts the second fragment
    c = Conn(a=("10.0.0.9", 22), b=("10.0.0.3", 50000)).handshake(T0 + 10 * S)
    c.exchange(T0 + 11 * S)
    c.send(T0 + 3000 * S, "b", "A", 0, seq=c.nxt["b"] - 1).send(T0 + 3000 * S + 10**6, "a")
    c.exchange(T0 + 3100 * S).close(T0 + 3101 * S)
    log.fragments(c, [T0 + 2999 * S], reasons=["idle", "idle"])
    # packets the tap lost between the fragments (sequence 1000 ahead)
    c = Conn(a=("10.0.0.9", 8080), b=("10.0.0.3", 50001)).handshake(T0 + 20 * S)
    c.exchange(T0 + 21 * S)
    c.nxt["b"] += 1000
    c.exchange(T0 + 400 * S).close(T0 + 401 * S)
    log.fragments(c, [T0 + 300 * S])
    # a retransmitted SYN (same ISN) after the server stayed silent
    c = Conn(a=("10.0.0.9", 25), b=("10.0.0.3", 50002))
    c.send(T0 + 30 * S, "b", "S")
    c.send(T0 + 300 * S, "b", "S", seq=c.nxt["b"] - 1).send(T0 + 300 * S + 1000, "a", "SA")
    c.send(T0 + 300 * S + 2000, "b").exchange(T0 + 301 * S).close(T0 + 302 * S)
    log.fragments(c, [T0 + 200 * S])
    # the close's last ACK alone after a split, no payload
    c = Conn(a=("10.0.0.9", 110), b=("10.0.0.3", 50003)).handshake(T0 + 40 * S)
    c.exchange(T0 + 41 * S)
    c.send(T0 + 42 * S, "b", "FA").send(T0 + 42 * S + 1000, "a", "FA")
    c.send(T0 + 500 * S, "b", "A")
    log.fragments(c, [T0 + 400 * S])
    # interim records of one call (same call_id), then a split by the scan
    c = Conn(a=("10.0.0.9", 5060), b=("10.0.0.3", 50004)).handshake(T0 + 50 * S)
    for k in range(6):
        c.exchange(T0 + (51 + 60 * k) * S)
    c.exchange(T0 + 2000 * S).close(T0 + 2001 * S)
    log.fragments(c, [T0 + 100 * S, T0 + 200 * S, T0 + 1900 * S], same_call=3,
                  reasons=["active", "active", "idle", "shutdown"])
    # UDP, split by the scan, 40 minutes apart
    c = Conn(proto="udp", a=("192.0.2.53", 53), b=("192.0.2.1", 33333))
    c.send(T0 + 60 * S, "b", "", 40).send(T0 + 60 * S + 10**6, "a", "", 200)
    c.send(T0 + 2460 * S, "b", "", 41).send(T0 + 2460 * S + 10**6, "a", "", 201)
    log.fragments(c, [T0 + 1000 * S])
    # a connection with one record only, and one with a VLAN split once
    log.fragments(Conn(a=("10.0.0.9", 80), b=("10.0.0.3", 50005))
                  .handshake(T0 + 70 * S).exchange(T0 + 71 * S).close(T0 + 72 * S), [])
    c = Conn(a=("10.0.0.9", 80), b=("10.0.0.3", 50005), vlan=7).handshake(T0 + 70 * S)
    c.exchange(T0 + 500 * S).close(T0 + 501 * S)
    log.fragments(c, [T0 + 300 * S])
    # many short connections in between, so fragments are in other segments
    for k in range(500):
        log.fragments(Conn(a=("10.0.1.%d" % (k % 200 + 1), 80), b=("10.0.2.1", 20000 + k))
                      .handshake(T0 + k * S).exchange(T0 + k * S + S // 2)
                      .close(T0 + k * S + S), [])
    want, ordered = log.write(t, os.path.join(tmp, "merge"), seg=65536)
    rc, got, err = stitched(t, os.path.join(tmp, "merge"))
    check(rc == 0, "merges: exit 0 (%d)" % rc)
    check(got == want, "merges: every connection whole:\n%s" % diff(got, want))
    check(totals(got) == totals(ordered), "merges: packets and bytes conserved")
    n_in, n_out = len(ordered), len(want)
    check(err == "wiretally-read: stitch: %d records in, %d out: 22 fragments merged into 9 "
          "records (2 merges by call_id); not merged, of the same endpoints: 0 overlapping, "
          "0 after a gap over 3600 s, 0 new SYN, 0 payload after the close, 0 sequence "
          "jump; 0 TCP records left that look like fragments (no SYN, or ended idle or "
          "evicted before a close)\n" % (n_in, n_out), "merges: counts line: %r" % err)
    check(len(set(r["seq"] for r in ordered)) > 370, "merges: the log spans several segments")
    # the same log cut into other segments (and once more): the same output
    d2 = os.path.join(tmp, "merge2")
    t.write(d2, ordered, seg=131072)
    rc, got2, _ = stitched(t, d2)
    check(got2 == got, "merges: the same with other segment boundaries")
    rc, got3, _ = stitched(t, os.path.join(tmp, "merge"))
    check(got3 == got, "merges: deterministic")
    # without --stitch: the fragments as they are
    rc, out, _ = t.run(os.path.join(tmp, "merge"))
    check(rlib.parse_csv(out) == ordered, "without --stitch: every fragment as written")
    # filters select stitched records: a window that holds only the keep-alive
    # connection's last fragment still prints the whole connection
    rc, got, _ = stitched(t, os.path.join(tmp, "merge"), "--since",
                          str(T0 // S + 3050), "--until", str(T0 // S + 3200), "-q")
    check([r["a_port"] for r in got] == ["22"] and int(got[0]["start_ns"]) < T0 + 20 * S,
          "a time window selects the stitched record whole: %s" % [r["a_port"] for r in got])
    # -q: no counts line
    rc, _, err = stitched(t, os.path.join(tmp, "merge"), "-q")
    check(rc == 0 and err == "", "-q: no counts line: %r" % err)
    return want


def case_apart(t, tmp):
    """Records of the same endpoints that the rules keep apart."""
    log = Log()
    # port reuse: a second connection with a new SYN and a new ISN, itself split
    c = Conn(isn=(1000, 2000)).handshake(T0).exchange(T0 + S).close(T0 + 2 * S)
    log.fragments(c, [])
    c = Conn(isn=(77777, 88888)).handshake(T0 + 10 * S).exchange(T0 + 11 * S)
    c.exchange(T0 + 400 * S).close(T0 + 401 * S)
    log.fragments(c, [T0 + 300 * S])
    # a gap longer than --stitch-gap 600 (but within the default 3600)
    c = Conn(a=("10.0.0.2", 81)).handshake(T0).exchange(T0 + S)
    c.exchange(T0 + 1000 * S).close(T0 + 1001 * S)
    gap_recs = log.fragments(c, [T0 + 500 * S], expect_whole=False)
    # a sequence jump (2^21): another connection whose SYN the tap missed
    c = Conn(a=("10.0.0.2", 82)).handshake(T0).exchange(T0 + S)
    c.nxt["a"] += 2**21
    c.exchange(T0 + 400 * S).close(T0 + 401 * S)
    log.fragments(c, [T0 + 300 * S], expect_whole=False)
    # payload after a close (FIN both ways), no SYN
    c = Conn(a=("10.0.0.2", 83)).handshake(T0).exchange(T0 + S).close(T0 + 2 * S)
    c.exchange(T0 + 400 * S)
    log.fragments(c, [T0 + 300 * S], reasons=["idle", "idle"], expect_whole=False)
    # payload after a RST
    c = Conn(a=("10.0.0.2", 84)).handshake(T0).exchange(T0 + S).send(T0 + 2 * S, "a", "R")
    c.exchange(T0 + 400 * S)
    log.fragments(c, [T0 + 300 * S], reasons=["idle", "idle"], expect_whole=False)
    # the same record twice (a capture logged twice): overlapping
    c = Conn(a=("10.0.0.2", 85)).handshake(T0).exchange(T0 + S).close(T0 + 2 * S)
    log.fragments(c, [], expect_whole=False)
    log.fragments(c, [], expect_whole=False)
    # UDP two hours apart: over the default gap
    c = Conn(proto="udp", a=("192.0.2.53", 53), b=("192.0.2.1", 33333))
    c.send(T0, "b", "", 40).send(T0 + 7200 * S, "b", "", 40)
    log.fragments(c, [T0 + 3600 * S], expect_whole=False)
    # a fragment whose start the log does not have (no SYN), alone
    c = Conn(a=("10.0.0.2", 86)).exchange(T0 + 5 * S).close(T0 + 6 * S)
    log.fragments(c, [], expect_whole=False)
    want, ordered = log.write(t, os.path.join(tmp, "apart"))
    rc, got, err = stitched(t, os.path.join(tmp, "apart"), "--stitch-gap", "600")
    check(rc == 0 and got == want, "apart: as expected:\n%s" % diff(got, want))
    check(err == "wiretally-read: stitch: %d records in, %d out: 2 fragments merged into 1 "
          "records (0 merges by call_id); not merged, of the same endpoints: 1 overlapping, "
          "2 after a gap over 600 s, 1 new SYN, 2 payload after the close, 1 sequence jump; "
          "7 TCP records left that look like fragments (no SYN, or ended idle or evicted "
          "before a close)\n" % (len(ordered), len(want)), "apart: counts line: %r" % err)
    # with the default gap (3600 s) the 1000 s gap is bridged
    rc, got, err = stitched(t, os.path.join(tmp, "apart"))
    merged = [r for r in got if r["a_port"] == "81"]
    check(len(merged) == 1 and merged[0]["a_bytes"] == str(
        int(gap_recs[0]["a_bytes"]) + int(gap_recs[1]["a_bytes"])) and
          merged[0]["seq"] == gap_recs[0]["seq"], "default gap: merged: %s" % merged)
    check("1 after a gap over 3600 s" in err, "default gap: the UDP pair only: %r" % err)
    rc, got, err = stitched(t, os.path.join(tmp, "apart"), "--stitch-gap", "0")
    check(rc == 0 and "after a gap over 0 s" in err, "--stitch-gap 0: %r" % err)


def case_tcp_figures(t, tmp):
    """Record version 2 across fragments (docs/READER.md, "Stitching"): the
    parts of one call sum; a later call's stream that starts below the
    chain's end (a byte re-sent after an idle split) has the overlap taken
    from its seq_bytes and counted as retransmitted; one that starts beyond
    it (the tap missed bytes in between) adds that space as missed."""
    def tcp(i, call, start, **kw):
        r = rlib.rec(seq=i, call_id="%032x" % call, start_ns=T0 + start * S,
                     end_ns=T0 + start * S + 1000, a_flags="A", b_flags="A", end_reason="idle")
        r.update({k: str(v) for k, v in kw.items()})
        return r
    rows = [
        # call 1: a sends 1000 bytes from 1001, all acknowledged
        tcp(0, 1, 0, a_bytes=1000, a_seq_bytes=1000, a_acked_bytes=1000, a_retx_bytes=0,
            a_missed_bytes=0, b_seq_bytes=0, b_acked_bytes=0, b_retx_bytes=0, b_missed_bytes=0,
            a_tcp_base=1001, b_tcp_base=7),
        # call 2, after an idle split: re-sends byte 2000, then 500 new
        tcp(1, 2, 200, a_bytes=501, a_seq_bytes=501, a_acked_bytes=500, a_retx_bytes=0,
            a_missed_bytes=0, b_seq_bytes=0, b_acked_bytes="", b_retx_bytes=0, b_missed_bytes=0,
            a_tcp_base=2000, b_tcp_base=7),
        # call 3: an interim part and its final part; the tap missed 100 bytes before it
        tcp(2, 3, 400, a_bytes=300, a_seq_bytes=300, a_acked_bytes=300, a_retx_bytes=0,
            a_missed_bytes=0, b_seq_bytes=0, b_acked_bytes=0, b_retx_bytes=0, b_missed_bytes=0,
            a_tcp_base=2601, b_tcp_base=7, end_reason="active"),
        tcp(3, 3, 401, a_bytes=50, a_seq_bytes=70, a_acked_bytes=70, a_retx_bytes=10,
            a_missed_bytes=30, b_seq_bytes=0, b_acked_bytes=0, b_retx_bytes=0,
            b_missed_bytes=0, a_tcp_base=2601, b_tcp_base=7),
    ]
    d = os.path.join(tmp, "tcpfig")
    t.write(d, rows)
    rc, got, err = stitched(t, d)
    check(rc == 0 and len(got) == 1, "TCP figures: one connection (%d, %r)" % (rc, err))
    if got:
        g = got[0]
        # seq: 1000 + (501 - 1 re-sent) + 100 the tap missed + 300 + 70
        want = dict(a_bytes="1851", a_seq_bytes="1970", a_acked_bytes="1870", a_retx_bytes="11",
                    a_missed_bytes="130", b_seq_bytes="0", b_acked_bytes="0", b_retx_bytes="0",
                    b_missed_bytes="0")
        check({k: g[k] for k in want} == want, "TCP figures stitched: %r" %
              {k: (g[k], want[k]) for k in want if g[k] != want[k]})
        check(int(g["a_bytes"]) == int(g["a_seq_bytes"]) - int(g["a_missed_bytes"]) +
              int(g["a_retx_bytes"]), "stitched: bytes = seq - missed + retx")
    # without --stitch: each as written
    rc, out, _ = t.run(d)
    check([r["a_seq_bytes"] for r in rlib.parse_csv(out)] == ["1000", "501", "300", "70"],
          "TCP figures: fragments as written")


def case_tunnels(t, tmp):
    """The same inner 5-tuple in two tunnels (another VNI, another outer
    address) and outside any: never stitched together; the idle-split
    fragments of one tunnelled connection are, and a GTP-U TEID the first
    fragment lacks comes from the next."""
    def frag(i, start, tunnel="", tunnel_id="", outer=("", ""), pkts=(1, 1)):
        return rlib.rec(seq=i, call_id="%032x" % (100 + i), start_ns=T0 + start * S,
                        end_ns=T0 + start * S + 1000, end_reason="idle", a_pkts=pkts[0],
                        b_pkts=pkts[1], b_mac="" if pkts[1] == 0 else "02:00:00:00:00:01",
                        tunnel=tunnel, tunnel_id=tunnel_id, outer_a_addr=outer[0],
                        outer_b_addr=outer[1])
    o1, o2 = ("10.200.0.2", "10.200.0.1"), ("10.200.0.9", "10.200.0.1")
    # one after the other, so that without the tunnel in the key they would
    # all chain into one connection
    rows = [frag(0, 0, "vxlan", "100", o1), frag(1, 1, "vxlan", "200", o1),
            frag(2, 2, "vxlan", "100", o2), frag(3, 3),
            frag(4, 300, "vxlan", "100", o1), frag(5, 301, "vxlan", "200", o1),
            frag(6, 302, "vxlan", "100", o2), frag(7, 303),
            frag(8, 0, "gtpu", "7:", o1, (1, 0)), frag(9, 300, "gtpu", "7:9", o1)]
    d = os.path.join(tmp, "tunnels")
    t.write(d, rows)
    rc, got, err = stitched(t, d)
    byid = {(r["tunnel"], r["tunnel_id"], r["outer_a_addr"]): r for r in got}
    check(rc == 0 and len(got) == 5, "tunnels: 10 fragments stitch into 5 connections (%d)"
          % len(got))
    for key in (("vxlan", "100", o1[0]), ("vxlan", "200", o1[0]), ("vxlan", "100", o2[0]),
                ("", "", "")):
        r = byid.get(key)
        check(r is not None and r["a_pkts"] == "2" and r["b_pkts"] == "2",
              "tunnels: %s: both fragments, only they (%s)" % (key, r and r["a_pkts"]))
    g = byid.get(("gtpu", "7:9", o1[0]))
    check(g is not None and g["a_pkts"] == "2" and g["b_pkts"] == "1",
          "tunnels: GTP-U fragments merged, b's TEID from the second (%s)" %
          sorted(byid))


def all_cases(t, tmp):
    case_merges(t, tmp)
    case_apart(t, tmp)
    case_tcp_figures(t, tmp)
    case_tunnels(t, tmp)


if __name__ == "__main__":
    sys.exit(rlib.run_tests("wt-stitch-", all_cases, check))
