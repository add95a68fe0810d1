#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check wiretally's call records against the external corpus (Zeek, nDPI, Argus)."""

import argparse
import concurrent.futures
import csv
import ipaddress
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DEVIATIONS = os.path.join(HERE, "DEVIATIONS.md")
SKIP = 77

TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58
PORTED = (TCP, UDP)  # wiretally keys every other IP protocol without ports
UNKNOWN = "unknown_transport"  # Zeek: an IP protocol other than TCP/UDP/ICMP, unnamed

# IP protocol names the three tools and wiretally print.
PROTO_NAMES = {
    "tcp": TCP, "udp": UDP, "icmp": ICMP, "icmp6": ICMP6, "ipv6-icmp": ICMP6,
    "sctp": 132, "gre": 47, "ipv6": 41, "ipencap": 4, "ipip": 4, "esp": 50,
    "ah": 51, "pri-enc": 99, "igmp": 2, "ospf": 89, "pim": 103, "vrrp": 112,
}
NON_IP = ("arp", "rarp", "llc", "lldp", "stp")  # Argus: > 255 is an ethertype
PROTO_PRINT = {TCP: "tcp", UDP: "udp", ICMP: "icmp", ICMP6: "icmp6", UNKNOWN: UNKNOWN}

# Per capture: the oracle that fits wiretally's semantics best (shown first in
# the table) and why. Every oracle is compared all the same; each difference
# must be listed in DEVIATIONS.md.
PRIMARY_ARGUS = {
    "ndpi-dns-fragmented": "fragments: Argus counts frames; nDPI drops later fragments",
}

# Tunnel captures: the chain wiretally names (the `tunnel` column) on the
# connections the oracle reports inside the tunnel (Zeek: tunnel_parents set;
# nDPI: every flow of the capture, it logs the inner flows only). Every other
# connection must name none.
TUNNEL_CHAINS = {
    "zeek-gre": "gre",
    "zeek-vxlan": "vxlan",
    "zeek-geneve-vxlan-trunc": "geneve/vxlan",
    "zeek-teredo": "teredo",
    "zeek-gtp-outer-frag": "gtpu",
    "ndpi-6in4tunnel": "ipip",
}

# Zeek history letters -> the TCP flag the packet carried (s: SYN, h: SYN+ACK).
ZEEK_FLAGS = {"s": "S", "h": "S", "f": "F", "r": "R"}
LOWER_DROP = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")
UPPER_DROP = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Oracles that cannot see what wiretally accounts in a capture: not compared.
NOT_APPLICABLE = {
    ("zeek-cisco-fabric-path", "argus"): "Argus does not decode FabricPath (0x8903): it counts "
    "only the plain copy of each packet (1 of 2) and logs the encapsulated copy as a non-IP flow",
}

# The second run of every capture: records split by a short completion scan
# must sum to the same connections as the default run.
SPLIT_INTERVAL = "0.001"

DEV_FIELDS = ("capture", "oracle", "connection", "field", "expected", "got", "class")


def die(msg, code=2):
    print("check_corpus: " + msg, file=sys.stderr)
    sys.exit(code)


# ---- addresses, endpoints, keys ---------------------------------------------


def addr(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def ep_sort(ep):
    return (ep[0].version, int(ep[0]), ep[1])


def ep_text(ep, ported=True):
    """1.2.3.4:80, [2001:db8::1]:80; without the port for port-less protocols."""
    a, port = ep
    if not ported:
        return str(a)
    return "%s:%d" % ("[%s]" % a if a.version == 6 else a, port)


def match_key(proto, ep1, ep2):
    """Direction-free key: protocol + the two endpoints in a fixed order."""
    return (proto,) + tuple(sorted((ep1, ep2), key=ep_sort))


def conn_text(proto, src, dst):
    name = PROTO_PRINT.get(proto, str(proto))
    ported = proto in PORTED
    return "%s %s>%s" % (name, ep_text(src, ported), ep_text(dst, ported))


def proto_of(text, is_v6):
    """Protocol number, UNKNOWN, or None for non-IP (ARP, LLC, ethertypes)."""
    t = text.strip().lower()
    if t == UNKNOWN:
        return UNKNOWN
    if t in NON_IP or (t.isdigit() and int(t) > 255):
        return None
    if t in PROTO_NAMES:
        p = PROTO_NAMES[t]
    elif t.isdigit():
        p = int(t)
    else:
        raise ValueError("unknown protocol name '%s' (add it to PROTO_NAMES or NON_IP)" % text)
    if p == ICMP and is_v6:  # Zeek prints "icmp" for ICMPv6 too
        p = ICMP6
    return p


def usec(text):
    """Seconds with up to 6 decimals -> integer microseconds, exactly."""
    sec, _, frac = text.partition(".")
    return int(sec) * 1000000 + int((frac + "000000")[:6])


def num(text):
    return None if text in ("-", "") else int(text)


# ---- wiretally run -------------------------------------------------------------

SUMMARY_LINE = re.compile(r"^  (\S[\w ]*?)\s+(\d+) pkts\s+(\d+) bytes(.*)$")


def count_frames(path):
    """(frames, captured bytes) of a pcap or pcapng file: an independent 'received'."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    elif magic == b"\x0a\x0d\x0d\x0a":
        return count_pcapng(data)
    else:
        raise ValueError("%s: not a pcap or pcapng file" % path)
    off, n, caplen = 24, 0, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        off += 16 + incl
        n += 1
        caplen += incl
    return n, caplen


def count_pcapng(data):
    off, n, caplen, endian = 0, 0, 0, "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from(endian + "I", data, off)[0]
        if btype == 0x0A0D0D0A:  # section header: its byte-order magic
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(endian + "I", data, off + 4)[0]
        if blen < 12:
            raise ValueError("pcapng block of length %d" % blen)
        if btype == 6:  # enhanced packet block: captured length at +20
            n += 1
            caplen += struct.unpack_from(endian + "I", data, off + 20)[0]
        elif btype == 3:  # simple packet block: original length, cut to the block
            n += 1
            caplen += min(struct.unpack_from(endian + "I", data, off + 8)[0], blen - 16)
        elif btype == 2:
            raise ValueError("obsolete pcapng packet block: not counted")
        off += blen
    return n, caplen


def parse_summary(text):
    """The exit summary: ordered (name, pkts, bytes, rest) lines and 'records hold'."""
    lines, hold, written = [], None, None
    for line in text.splitlines():
        m = SUMMARY_LINE.match(line)
        if m:
            lines.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4).strip()))
            continue
        m = re.match(r"^  records hold (\d+) pkts (.*)$", line)
        if m:
            hold = (int(m.group(1)), m.group(2))
        m = re.match(r"^  records: .*; (\d+) written", line)
        if m:
            written = int(m.group(1))
    return lines, hold, written


def check_summary(text, records, frames):
    """Failures in the exit summary's arithmetic and against the records."""
    fails = []
    lines, hold, written = parse_summary(text)
    by = OrderedDict((ln[0], ln) for ln in lines)
    for need in ("received", "in call records", "sum of the above"):
        if need not in by:
            return ["summary: no '%s' line" % need]
    parts = [ln for ln in lines if ln[0] not in ("received", "sum of the above")]
    sp, sb = sum(ln[1] for ln in parts), sum(ln[2] for ln in parts)
    _, rp, rb, _ = by["received"]
    _, tp, tb, tail = by["sum of the above"]
    if (sp, sb) != (tp, tb):
        fails.append("summary: lines add up to %d pkts %d bytes, 'sum of the above' says %d/%d"
                     % (sp, sb, tp, tb))
    if (tp, tb) != (rp, rb) or tail != "= received":
        fails.append("summary: sum %d pkts %d bytes != received %d/%d (%s)" % (tp, tb, rp, rb, tail))
    if (rp, rb) != frames:
        fails.append("summary: received %d pkts %d bytes, the capture holds %d frames of %d "
                     "captured bytes" % ((rp, rb) + frames))
    acct = by["in call records"][1]
    if hold is None:
        fails.append("summary: no 'records hold' line")
    elif hold[0] != acct or hold[1] != "= in call records":
        fails.append("summary: records hold %d pkts '%s', in call records %d" % (hold[0], hold[1], acct))
    got = sum(int(r["a_pkts"]) + int(r["b_pkts"]) for r in records)
    if got != acct:
        fails.append("records: a_pkts+b_pkts over %d records = %d, summary 'in call records' = %d"
                     % (len(records), got, acct))
    if written is not None and written != len(records):
        fails.append("records: summary says %d written, the reader printed %d" % (written, len(records)))
    for r in records:  # record version 2: the rules of DESIGN.md section 3
        if r["proto"] != "tcp":
            continue
        for x in ("a", "b"):
            b, sq, ms, rt = (int(r[x + k] or -1) for k in ("_bytes", "_seq_bytes", "_missed_bytes",
                                                          "_retx_bytes"))
            if min(sq, ms, rt) < 0 or b != sq - ms + rt:
                fails.append("record seq %s: %s_bytes %d != seq %d - missed %d + retx %d"
                             % (r["seq"], x, b, sq, ms, rt))
            if r[x + "_acked_bytes"] and r["end_reason"] != "active" and \
                    int(r[x + "_acked_bytes"]) > sq:
                fails.append("record seq %s: %s_acked_bytes %s > seq_bytes %d"
                             % (r["seq"], x, r[x + "_acked_bytes"], sq))
    seqs = sorted(int(r["seq"]) for r in records)
    if seqs != list(range(len(seqs))):
        fails.append("records: seq is not gap-free 0..%d" % (len(seqs) - 1))
    return fails


def run_wiretally(args, pcap, out, extra):
    """Run the monitor (exit summary on) and the reader: records, summary, failures."""
    os.makedirs(out)
    # A small table (the captures are small): parallel runs leave hugepages
    # for the EAL.
    mon = subprocess.run([args.wiretally, "--pcap", pcap, "-o", out, "--table-size", "65536"]
                         + extra,
                         capture_output=True, text=True, timeout=args.timeout)
    if mon.returncode != 0:
        return [], "", ["wiretally %s exited %d: %s"
                        % (" ".join(extra), mon.returncode, mon.stderr.strip()[-400:])]
    rd = subprocess.run([args.reader, out], capture_output=True, text=True, timeout=args.timeout)
    if rd.returncode != 0:
        return [], "", ["wiretally-read exited %d: %s" % (rd.returncode, rd.stderr.strip()[-400:])]
    return list(csv.DictReader(rd.stdout.splitlines())), mon.stderr, []


# ---- wiretally records -> connections ----------------------------------------


class Conn:
    """Per-direction sums of one connection (several records or oracle lines)."""

    def __init__(self, proto, src, dst):
        self.proto, self.src, self.dst = proto, src, dst  # src: shown first
        self.sent = {}  # endpoint -> [pkts, ip_bytes, payload]; None = unknown
        self.origins = []  # endpoints named as originator, in record order
        self.lines = 0
        self.vlans = set()
        self.payload_ok = True  # payload comparable (oracle side)
        self.syn_seen = False  # the oracle saw a SYN (Zeek history)
        self.inner = False  # the oracle marks it as inside a tunnel
        self.times = None  # (first, last) packet in microseconds
        self.flags = {}  # endpoint -> set of TCP flag letters (S, F, R) it sent
        self.seq = {}  # TCP: endpoint -> sequence-space bytes of its stream
        self.missed = None  # TCP: bytes missed in both streams (Zeek: one figure)
        self.tunnels = set()  # wiretally: the tunnel column of its records

    def add(self, ep, pkts, ip_bytes, payload):
        cur = self.sent.setdefault(ep, [0, 0, 0])
        for i, v in enumerate((pkts, ip_bytes, payload)):
            cur[i] = None if v is None or cur[i] is None else cur[i] + v

    def get(self, ep, i):
        return self.sent.get(ep, [0, 0, 0])[i]

    def add_tcp(self, ep, seq, missed):
        self.seq[ep] = self.seq.get(ep, 0) + seq
        self.missed = (self.missed or 0) + missed

    def merge(self, other):
        for ep, vals in other.sent.items():
            self.add(ep, *vals)
        for ep, v in other.seq.items():
            self.seq[ep] = self.seq.get(ep, 0) + v
        if other.missed is not None:
            self.missed = (self.missed or 0) + other.missed
        for ep, fl in other.flags.items():
            self.flags.setdefault(ep, set()).update(fl)
        if other.times:
            self.merge_times(other.times)
        self.tunnels |= other.tunnels
        self.origins += other.origins
        self.lines += other.lines

    def merge_times(self, t):
        if self.times:
            t = (min(t[0], self.times[0]), max(t[1], self.times[1]))
        self.times = t


def wt_conns(records):
    """wiretally's records summed per match key (idle splits and VLANs folded)."""
    conns, fails = {}, []
    for r in records:
        a, b = addr(r["a_addr"]), addr(r["b_addr"])
        proto = proto_of(r["proto"], a is not None and a.version == 6)
        if a is None or b is None or not isinstance(proto, int):
            fails.append("record seq %s: bad proto/address %s %s %s" %
                         (r["seq"], r["proto"], r["a_addr"], r["b_addr"]))
            continue
        ea, eb = (a, int(r["a_port"])), (b, int(r["b_port"]))
        if proto not in PORTED and (ea[1] or eb[1]):
            fails.append("record seq %s: %s keyed with ports" % (r["seq"], r["proto"]))
        if ep_sort(ea) < ep_sort(eb):
            fails.append("record seq %s: a %s is not the greater endpoint (b %s)" %
                         (r["seq"], ep_text(ea), ep_text(eb)))
        key = match_key(proto, ea, eb)
        c = conns.get(key)
        if c is None:
            c = conns[key] = Conn(proto, ea, eb)
        c.lines += 1
        c.vlans.add(r["vlan"])
        c.tunnels.add(r["tunnel"])
        t = (int(r["start_ns"]) // 1000, int(r["end_ns"]) // 1000)
        c.merge_times(t)
        for ep, fl in ((ea, r["a_flags"]), (eb, r["b_flags"])):
            c.flags.setdefault(ep, set()).update(set(fl) & set("SFR"))
        c.add(ea, int(r["a_pkts"]), int(r["a_ip_bytes"]), int(r["a_bytes"]))
        c.add(eb, int(r["b_pkts"]), int(r["b_ip_bytes"]), int(r["b_bytes"]))
        if proto == TCP:
            for ep, x in ((ea, "a"), (eb, "b")):
                c.add_tcp(ep, int(r[x + "_seq_bytes"]), int(r[x + "_missed_bytes"]))
        if r["origin"] in ("a", "b"):
            c.origins.append(ea if r["origin"] == "a" else eb)
    return conns, fails


# ---- oracle files -> connections ---------------------------------------------


def read_tsv(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            rows.append(line.rstrip("\n").split("\t"))
    return rows


def oracle_conns(path, tool):
    """The oracle's IP flows summed per wiretally match key; count of non-IP lines."""
    conns, non_ip = OrderedDict(), 0
    for f in read_tsv(path):
        sa, da = addr(f[1]), addr(f[3])
        proto = proto_of(f[0], sa is not None and sa.version == 6)
        if proto is None or sa is None or da is None:
            non_ip += 1
            continue
        ported = proto in PORTED
        src = (sa, int(f[2]) if ported else 0)
        dst = (da, int(f[4]) if ported else 0)
        c = Conn(proto, src, dst)
        c.lines = 1
        c.add(src, num(f[5]), num(f[6]), num(f[7]))
        c.add(dst, num(f[8]), num(f[9]), num(f[10]))
        c.origins.append(src)
        hist = f[11]
        if tool == "zeek":
            h = re.search(r"hist=([^;]*)", hist).group(1)
            missed = int(re.search(r"missed=(\d+)", hist).group(1))
            # Zeek: TCP payload from sequence numbers (differs with T/t/G/g or
            # missed bytes); ICMP payload without the ICMP header; unknown 0.
            c.payload_ok = (proto == UDP or (proto == TCP and missed == 0
                                             and not set(h) & set("TtGg")))
            c.syn_seen = proto == TCP and bool(set(h) & set("SsHh"))
            c.inner = not re.search(r"tunnel_parents=-?$", f[15])
            if proto == TCP:  # orig_bytes/resp_bytes are sequence space; missed_bytes both
                c.add_tcp(src, num(f[7]) or 0, missed)
                c.add_tcp(dst, num(f[10]) or 0, 0)
            if proto == TCP:  # history: upper case = originator, lower = responder
                for ep, letters in ((src, h.translate(LOWER_DROP)), (dst, h.translate(UPPER_DROP))):
                    c.flags[ep] = {ZEEK_FLAGS[x] for x in letters.lower() if x in ZEEK_FLAGS}
        elif tool == "argus":
            c.times = (usec(f[13]), usec(re.search(r"ltime=([\d.]+)", f[15]).group(1)))
        elif tool == "ndpi":
            m = re.search(r"vlan=(\d+)", hist)
            c.vlans.add(m.group(1) if m else "")
        key = match_key(proto, src, dst)
        if key in conns:
            conns[key].merge(c)
            conns[key].payload_ok &= c.payload_ok
            conns[key].syn_seen |= c.syn_seen
            conns[key].inner |= c.inner
        else:
            conns[key] = c
    return conns, non_ip


# ---- comparison --------------------------------------------------------------


def unknown_candidates(wt, key):
    """wiretally connections Zeek would log as unknown_transport for this pair."""
    return [k for k in wt if k[1:] == key[1:] and k[0] not in (TCP, UDP, ICMP, ICMP6)]


def compare(capture, oracle, oconns, wt):
    """Deviations (dicts) between one oracle and wiretally; stats."""
    devs, used = [], set()
    stats = Counter(expected=len(oconns))

    def dev(conn, field, exp, got):
        devs.append(dict(capture=capture, oracle=oracle, connection=conn, field=field,
                         expected=str(exp), got=str(got)))

    for key, oc in oconns.items():
        conn = conn_text(oc.proto, oc.src, oc.dst)
        if oc.proto == UNKNOWN:
            keys = unknown_candidates(wt, key)
            w = None
            if keys:
                w = Conn(UNKNOWN, oc.src, oc.dst)
                for k in keys:
                    w.merge(wt[k])
        else:
            keys = [key] if key in wt else []
            w = wt.get(key)
        if w is None:
            dev(conn, "record", "present", "absent")
            continue
        used.update(keys)
        stats["matched"] += 1
        n = len(devs)
        for side, ep in (("orig", oc.src), ("resp", oc.dst)):
            for i, field, ok in ((0, "pkts", True), (1, "ip_bytes", True),
                                 (2, "payload", oc.payload_ok)):
                exp = oc.get(ep, i)
                if exp is None or not ok:
                    continue
                got = w.get(ep, i)
                if got != exp:
                    dev(conn, "%s_%s" % (side, field), exp, got)
        if oc.missed is not None and w.missed is not None:  # Zeek TCP: sequence space
            for side, ep in (("orig", oc.src), ("resp", oc.dst)):
                if oc.seq.get(ep, 0) != w.seq.get(ep, 0):
                    dev(conn, side + "_seq_bytes", oc.seq.get(ep, 0), w.seq.get(ep, 0))
            if oc.missed != w.missed:
                dev(conn, "missed_bytes", oc.missed, w.missed)
        for side, ep in (("orig", oc.src), ("resp", oc.dst)):
            if ep in oc.flags:
                exp, got = "".join(sorted(oc.flags[ep])), "".join(sorted(w.flags.get(ep, ())))
                if got != exp:
                    dev(conn, side + "_flags", exp or "none", got or "none")
        if oc.times:
            for i, field in ((0, "start_us"), (1, "end_us")):
                if oc.times[i] != w.times[i]:
                    dev(conn, field, oc.times[i], w.times[i])
        if w.origins:
            got = w.origins[0]
            if oracle != "argus" or oc.proto == TCP:
                exp = oc.origins[0]
                if got != exp:
                    dev(conn, "origin", ep_text(exp), ep_text(got))
            if len(set(w.origins)) > 1:
                dev(conn, "origin", ep_text(got), "/".join(ep_text(e) for e in w.origins))
        elif oc.syn_seen:
            dev(conn, "origin", ep_text(oc.origins[0]), "unknown")
        if len(w.vlans) > 1:
            dev(conn, "vlan", "one", "/".join(sorted(w.vlans)))
        if len(devs) == n:
            stats["exact"] += 1
    for key, w in wt.items():
        if key not in used:
            dev(conn_text(w.proto, w.src, w.dst), "record", "absent", "present")
            stats["extra"] += 1
    return devs, stats


def tunnels_outer(records, summary_inner, summary_outer):
    """--tunnels outer (record version 1's behaviour): no record names a tunnel, and
    the packets the default run dropped as later fragments of a decapsulated
    first fragment are in the outer run's records."""
    fails = ["--tunnels outer: record seq %s names tunnel %s" % (r["seq"], r["tunnel"])
             for r in records if r["tunnel"] or r["outer_a_addr"] or r["outer_b_addr"]]
    inner = OrderedDict((ln[0], ln) for ln in parse_summary(summary_inner)[0])
    outer = OrderedDict((ln[0], ln) for ln in parse_summary(summary_outer)[0])
    later = inner.get("tunnel_frag_later", ("", 0, 0))[1]
    if outer["in call records"][1] != inner["in call records"][1] + later:
        fails.append("--tunnels outer: %d pkts in call records, the default run %d + %d "
                     "tunnel_frag_later" % (outer["in call records"][1],
                                            inner["in call records"][1], later))
    if "tunnel_frag_later" in outer:
        fails.append("--tunnels outer: tunnel_frag_later counted")
    if "tunnel_inner" in summary_outer or "calls inside tunnels" in summary_outer:
        fails.append("--tunnels outer: the summary reports inner packets")
    return fails


def tunnel_names(capture, oconns, wt):
    """Failures where a record does not name the tunnel its connection was in."""
    fails, chain = [], TUNNEL_CHAINS.get(capture)
    for key, w in wt.items():
        names = sorted(w.tunnels)
        if len(names) > 1 or (names[0] and names[0] != chain):
            fails.append("tunnel: %s names %s, the capture's tunnel is %s"
                         % (conn_text(w.proto, w.src, w.dst), "/".join(repr(n) for n in names),
                            chain or "none"))
    for oracle in ("zeek", "ndpi"):
        for key, oc in oconns.get(oracle, {}).items():
            w = wt.get(key)
            if w is None or oc.proto == UNKNOWN:
                continue
            inner = oc.inner if oracle == "zeek" else chain is not None
            want = chain if inner else ""
            if w.tunnels != {want}:
                fails.append("tunnel: %s: %s says %s, the records name %s"
                             % (conn_text(oc.proto, oc.src, oc.dst), oracle,
                                "inside " + chain if inner else "not tunnelled",
                                "/".join(sorted(repr(n) for n in w.tunnels))))
    return fails


# ---- DEVIATIONS.md -------------------------------------------------------------


def read_deviations(path):
    """Accepted deviations (from the ```tsv block) and the defined classes."""
    with open(path) as f:
        text = f.read()
    classes = {}
    for m in re.finditer(r"^\| `([\w-]+)` \| (\d+) \|", text, re.M):
        classes[m.group(1)] = int(m.group(2))
    block = re.search(r"^```tsv\n(.*?)^```", text, re.M | re.S)
    if not block:
        die("%s: no ```tsv block of accepted deviations" % path)
    accepted, problems = {}, []
    for i, line in enumerate(block.group(1).splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) < len(DEV_FIELDS):
            problems.append("%s: tsv line %d has %d fields, needs %d: %r"
                            % (path, i, len(f), len(DEV_FIELDS), line))
            continue
        row = dict(zip(DEV_FIELDS, f))
        if row["class"] not in classes:
            problems.append("%s: tsv line %d: class '%s' is not in the class table"
                            % (path, i, row["class"]))
        k = tuple(row[x] for x in DEV_FIELDS[:-1])
        if k in accepted:
            problems.append("%s: tsv line %d repeats %r" % (path, i, k))
        accepted[k] = row["class"]
    used = Counter(accepted.values())
    for cls, n in classes.items():
        if used[cls] != n:
            problems.append("%s: class '%s' says %d lines, the tsv block has %d"
                            % (path, cls, n, used[cls]))
    return accepted, problems


# ---- main ----------------------------------------------------------------------


def find_binary(given, rel):
    if given:
        return given
    for build in sorted(os.listdir(REPO)):
        p = os.path.join(REPO, build, rel)
        if build.startswith("build") and os.access(p, os.X_OK):
            return p
    return None


def split_invariance(wt, wt_split):
    """Failures where the idle-split run does not sum to the same connections."""
    fails = []
    for key in set(wt) | set(wt_split):
        c1, c2 = wt.get(key), wt_split.get(key)
        if (c1 is None or c2 is None or c1.sent != c2.sent or c1.times != c2.times
                or c1.origins[:1] != c2.origins[:1]):
            c = c1 or c2
            fails.append("--scan-interval %s: %s sums to %s, default run %s"
                         % (SPLIT_INTERVAL, conn_text(c.proto, c.src, c.dst),
                            c2 and (c2.sent, c2.times, c2.origins[:1]),
                            c1 and (c1.sent, c1.times, c1.origins[:1])))
    return fails


def check_capture(args, name, pcap, workdir):
    """Run, check and compare one capture; never raises (errors become failures)."""
    res = dict(name=name, fails=[], devs=[], stats=OrderedDict(), records=0, split_records=0)
    try:
        compare_capture(args, name, pcap, workdir, res)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        res["fails"].append("%s: %s" % (type(e).__name__, e))
    return res


def compare_capture(args, name, pcap, workdir, res):
    runs, summaries = {}, {}
    frames = count_frames(pcap)
    labels = [("default", []), ("split", ["--scan-interval", SPLIT_INTERVAL])]
    if name in TUNNEL_CHAINS:
        labels.append(("outer", ["--tunnels", "outer"]))
    for label, extra in labels:
        records, summary, fails = run_wiretally(args, pcap, os.path.join(workdir, name, label),
                                                extra)
        if fails:  # no records to compare
            res["fails"] += fails
            return
        res["fails"] += ["%s run: %s" % (label, f) for f in check_summary(summary, records, frames)]
        runs[label] = records
        summaries[label] = summary
    if "outer" in runs:
        res["fails"] += tunnels_outer(runs["outer"], summaries["default"], summaries["outer"])
    res["records"], res["split_records"] = len(runs["default"]), len(runs["split"])
    wt, wfails = wt_conns(runs["default"])
    wt_split, _ = wt_conns(runs["split"])
    res["fails"] += wfails + split_invariance(wt, wt_split)
    tool = name.split("-", 1)[0]
    files = OrderedDict([(tool, os.path.join(args.corpus, "expected", name + ".tsv")),
                         ("argus", os.path.join(args.corpus, "expected-argus",
                                                name + ".merged.tsv"))])
    if name in PRIMARY_ARGUS:
        files.move_to_end(tool)
    oconns = {}
    for oracle, path in files.items():
        if (name, oracle) in NOT_APPLICABLE:
            res["stats"][oracle] = None
            continue
        oconns[oracle], non_ip = oracle_conns(path, oracle)
        devs, stats = compare(name, oracle, oconns[oracle], wt)
        stats["non_ip"] = non_ip
        res["devs"] += devs
        res["stats"][oracle] = stats
    res["fails"] += tunnel_names(name, oconns, wt)


def main():
    ap = argparse.ArgumentParser(
        description="Run wiretally on every capture of the external corpus and compare its "
        "call records with the Zeek/nDPI baselines and Argus. Every difference must be "
        "listed in DEVIATIONS.md, and every listed one must still occur.",
        epilog="Exit status: 0 agreement, 1 failures, 2 usage, 77 corpus missing (skip).")
    ap.add_argument("--corpus", default=os.environ.get("WT_CORPUS"),
                    help="corpus directory [env WT_CORPUS, else <repo>/../shared/corpus]")
    ap.add_argument("--wiretally", help="the monitor binary [build*/app/wiretally/wiretally]")
    ap.add_argument("--reader", help="the reader binary [build*/app/wiretally-read/wiretally-read]")
    ap.add_argument("--deviations", default=DEFAULT_DEVIATIONS,
                    help="accepted deviations [%(default)s]")
    ap.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2),
                    help="monitor runs in parallel [%(default)s]")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per run [%(default)s]")
    ap.add_argument("--keep", metavar="DIR", help="keep the logs in DIR (new or empty)")
    ap.add_argument("--print-deviations", action="store_true",
                    help="print every deviation found as tsv lines (class '?') and exit 0")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each deviation")
    ap.add_argument("captures", nargs="*", help="capture names (default: all)")
    args = ap.parse_args()

    corpus = args.corpus or os.path.join(os.path.dirname(REPO), "shared", "corpus")
    args.corpus = corpus
    if not os.path.isdir(os.path.join(corpus, "pcaps")):
        msg = ("\n*** SKIPPED: the external corpus is not at %s: nothing was compared. "
               "Set WT_CORPUS or --corpus. ***\n" % corpus)
        print(msg)
        print(msg, file=sys.stderr)
        return SKIP
    args.wiretally = find_binary(args.wiretally, "app/wiretally/wiretally")
    args.reader = find_binary(args.reader, "app/wiretally-read/wiretally-read")
    if not args.wiretally or not args.reader:
        die("wiretally or wiretally-read not found: build them or give --wiretally/--reader")
    accepted, problems = read_deviations(args.deviations)

    pcaps = {}
    for fn in sorted(os.listdir(os.path.join(corpus, "pcaps"))):
        pcaps[os.path.splitext(fn)[0]] = os.path.join(corpus, "pcaps", fn)
    names = args.captures or list(pcaps)
    for n in names:
        if n not in pcaps:
            die("no capture '%s' in %s/pcaps" % (n, corpus))
        for rel in ("expected/%s.tsv", "expected-argus/%s.merged.tsv"):
            if not os.path.isfile(os.path.join(corpus, rel % n)):
                die("capture %s has no %s in %s" % (n, rel % n, corpus), 1)

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wt-corpus-") as tmp:
        workdir = args.keep or tmp
        os.makedirs(workdir, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda n: check_capture(args, n, pcaps[n], workdir), names))
    wall = time.monotonic() - t0

    if args.print_deviations:
        for r in results:
            for d in r["devs"]:
                print("\t".join(d.get(x, "?") for x in DEV_FIELDS))
        return 0
    return report(args, results, accepted, problems, names, wall)


def oracle_cells(oracle, st):
    if st is None:
        return [oracle, "n/a", "-", "-"]
    return [oracle, "%d/%d" % (st["matched"], st["expected"]), st["exact"], st["extra"]]


def report(args, results, accepted, problems, names, wall):
    """Per-capture table, totals, failures; exit status."""
    by_name = {r["name"]: r for r in results}
    seen, classes, tot = set(), Counter(), Counter()
    for r in results:
        r["acc"] = 0
        for d in r["devs"]:
            k = tuple(d[x] for x in DEV_FIELDS[:-1])
            seen.add(k)
            if k in accepted:
                classes[accepted[k]] += 1
                r["acc"] += 1
            else:
                r["fails"].append("deviation not in DEVIATIONS.md: " + "\t".join(k))
            if args.verbose:
                print("  dev " + "\t".join(k) + ("" if k in accepted else "   <- NOT LISTED"))
    for k in accepted:  # stale entries, for captures that were compared
        if k[0] in by_name and by_name[k[0]]["stats"] and k not in seen:
            by_name[k[0]]["fails"].append("listed deviation no longer occurs: " + "\t".join(k))

    cols = "%-25s %-6s %9s %5s %5s | %-6s %9s %5s %5s | %4s %5s %4s %4s"
    print(cols % ("capture", "oracle", "match/exp", "exact", "extra", "2nd", "match/exp",
                  "exact", "extra", "recs", "split", "acc", "FAIL"))
    for r in results:
        cells = []
        for oracle, st in r["stats"].items():
            cells += oracle_cells(oracle, st)
            for f in ("matched", "expected", "exact"):
                tot[f] += st[f] if st else 0
        cells += ["-"] * (8 - len(cells))
        print(cols % tuple([r["name"]] + cells + [r["records"], r["split_records"], r["acc"],
                                                  len(r["fails"])]))
        tot["records"] += r["records"]
        tot["acc"] += r["acc"]
    nfail = sum(len(r["fails"]) for r in results) + len(problems)
    print("TOTAL: %d captures, %d records; oracle connections matched %d/%d, exact %d; "
          "deviations accepted %d; failures %d; %.1f s"
          % (len(results), tot["records"], tot["matched"], tot["expected"], tot["exact"],
             tot["acc"], nfail, wall))
    print("(oracle = the one that fits wiretally's level; match = oracle connections found, "
          "exact = no deviation at all, extra = wiretally connections the oracle lacks, "
          "split = records with --scan-interval %s, acc = accepted deviations)" % SPLIT_INTERVAL)
    for (cap, oracle), why in NOT_APPLICABLE.items():
        if cap in by_name:
            print("n/a: %s %s: %s" % (cap, oracle, why))
    if classes:
        print("accepted deviations by class: " +
              ", ".join("%s %d" % c for c in sorted(classes.items())))
    for r in results:
        for f in r["fails"]:
            print("FAIL %s: %s" % (r["name"], f))
    for p in problems:
        print("FAIL " + p)
    bad = sum(1 for r in results if r["fails"])
    print("corpus: %d passed, %d failed" % (len(results) - bad, bad + (1 if problems else 0)))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
