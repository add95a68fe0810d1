#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test_select.py: wiretally-read's filters (--since/--until/--proto/--host/--port/--net/--seq) and --summary against Python's own computation.
"""Usage: test_select.py WIRETALLY_READ WT_MKLOG

A log of 900 varied records (IPv4 and IPv6, five protocols, times spread
over 20 minutes) is written with wt_mklog from rows made here. Every filter
case is evaluated here with the documented rule (docs/READER.md, "Filters";
Python's ipaddress and datetime, no code shared with the reader) and the
reader must print exactly those records. --summary must equal the sums
recomputed from the CSV the reader prints with the same filters. Bad values
give one line naming the option and the value, exit 1.
"""
import datetime
import ipaddress
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

T0 = 1795305600 * 10**9  # 2026-11-22T00:00:00Z
check = rlib.Checker()

NETS4 = ["10.1.%d.%d", "10.2.%d.%d", "192.168.%d.%d"]
NETS6 = ["2001:db8:1::%x:%x", "2001:db8:2::%x:%x", "fe80::%x:%x"]


def endpoint(rng, family):
    pat = rng.choice(NETS4 if family == 4 else NETS6)
    return ipaddress.ip_address(pat % (rng.randrange(0, 4), rng.randrange(1, 6)))


def make_rows(n):
    rng = random.Random(7)
    rng2 = random.Random(11)  # the version 2 columns: rng's sequence stays as it was
    rows = []
    for i in range(n):
        family = rng.choice([4, 4, 6])
        proto = rng.choice(["tcp", "tcp", "udp", "47"] + (["icmp6"] if family == 6 else ["icmp"]))
        x, y = endpoint(rng, family), endpoint(rng, family)
        ported = proto in ("tcp", "udp")
        px = rng.choice([80, 443, 53, 12345, rng.randrange(1024, 65536)]) if ported else 0
        py = rng.choice([80, 53, rng.randrange(1024, 65536)]) if ported else 0
        # a = the endpoint greater by (address, port)
        (a, pa), (b, pb) = sorted([(x, px), (y, py)], key=lambda e: (e[0].packed, e[1]),
                                  reverse=True)
        start = T0 + rng.randrange(0, 1200 * 10**9)
        end = start + rng.choice([0, rng.randrange(0, 100 * 10**9)])
        tcp = proto == "tcp"
        r = rlib.rec(start_ns=start, end_ns=end, proto=proto, a_addr=a, a_port=pa, b_addr=b,
                     b_port=pb, origin=rng.choice(["a", "b", "unknown"]),
                     vlan=rng.choice(["", "", 7]),
                     a_pkts=rng.randrange(1, 50), a_bytes=rng.randrange(0, 10**6),
                     a_ip_bytes=rng.randrange(0, 10**6),
                     a_flags=rlib.flags_str(rng.randrange(256)) if tcp else "",
                     a_first_seq=rng.randrange(2**32) if tcp else "",
                     a_last_seq=rng.randrange(2**32) if tcp else "",
                     b_pkts=rng.randrange(0, 50), b_bytes=rng.randrange(0, 10**6),
                     b_ip_bytes=rng.randrange(0, 10**6),
                     b_flags=rlib.flags_str(rng.randrange(256)) if tcp else "",
                     end_reason=rng.choice(["idle", "active", "evicted", "shutdown"]),
                     call_id="%032x" % (i + 1))
        if r["b_pkts"] == "0":
            r["b_mac"] = ""
            r["b_bytes"] = r["b_ip_bytes"] = "0"
            r["b_flags"] = ""
        elif tcp:
            r["b_first_seq"], r["b_last_seq"] = str(rng.randrange(2**32)), str(rng.randrange(2**32))
        if tcp and rng2.randrange(10):  # record version 2 (else a version 1 TCP record)
            for x in "ab":
                b = int(r[x + "_bytes"])
                retx, missed = rng2.randrange(0, b // 4 + 1), rng2.randrange(0, 5000)
                sq = b - retx + missed  # bytes = seq - missed + retx
                r[x + "_seq_bytes"], r[x + "_retx_bytes"] = str(sq), str(retx)
                r[x + "_missed_bytes"] = str(missed)
                r[x + "_acked_bytes"] = str(rng2.randrange(0, sq + 1)) if rng2.randrange(4) else ""
        if rng2.randrange(6) == 0:
            r["tunnel"], r["tunnel_id"] = rng2.choice([("gre", "7"), ("vxlan", "5000"),
                                                      ("geneve/vxlan", "10/20"), ("ipip", ""),
                                                      ("gtpu", "100:200"), ("teredo", "")])
            r["outer_a_addr"], r["outer_b_addr"] = "198.51.100.1", rng2.choice(["198.51.100.2", ""])
        rows.append(r)
    for i, r in enumerate(rows):
        r["seq"] = str(i)
    return rows


def rfc3339(ns, offset_min=0, sep="T"):
    """ns as RFC 3339 in the zone offset_min east of UTC (Python's datetime)."""
    tz = datetime.timezone(datetime.timedelta(minutes=offset_min))
    dt = datetime.datetime.fromtimestamp(ns // 10**9, tz)
    frac = ("." + ("%09d" % (ns % 10**9))) if ns % 10**9 else ""
    z = "Z" if offset_min == 0 else dt.strftime("%z")[:3] + ":" + dt.strftime("%z")[3:]
    return dt.strftime("%Y-%m-%d" + sep + "%H:%M:%S") + frac + z


def matches(r, since=None, until=None, protos=(), hosts=(), ports=(), nets=(), seqs=()):
    """The documented rule, evaluated independently."""
    if seqs and not any(lo <= int(r["seq"]) <= hi for lo, hi in seqs):
        return False
    if since is not None and int(r["end_ns"]) < since:
        return False
    if until is not None and int(r["start_ns"]) >= until:
        return False
    if protos and r["proto"] not in protos:
        return False
    ends = [ipaddress.ip_address(r["a_addr"]), ipaddress.ip_address(r["b_addr"])]
    if hosts and not any(e == ipaddress.ip_address(h) for e in ends for h in hosts):
        return False
    if ports and not any(int(r[k]) == p for k in ("a_port", "b_port") for p in ports):
        return False
    if nets and not any(e in ipaddress.ip_network(n, strict=False) for e in ends for n in nets
                        if e.version == ipaddress.ip_network(n, strict=False).version):
        return False
    return True


def seqs(out):
    return [int(l.split(",", 1)[0]) for l in out.splitlines()]


def case_filters(t, d, rows):
    s_end = int(rows[100]["end_ns"])      # inclusive bound
    u_start = int(rows[200]["start_ns"])  # exclusive bound
    cases = [
        (["--since", str(s_end // 10**9) + "." + "%09d" % (s_end % 10**9)], dict(since=s_end)),
        (["--since", rfc3339(s_end)], dict(since=s_end)),
        (["--since", rfc3339(s_end, 120)], dict(since=s_end)),
        (["--since", rfc3339(s_end, -330, " ")], dict(since=s_end)),
        (["--until", rfc3339(u_start)], dict(until=u_start)),
        (["--until", rfc3339(u_start).replace("T", "t").replace("Z", "z")], dict(until=u_start)),
        (["--since", rfc3339(s_end), "--until", rfc3339(u_start, 60)],
         dict(since=s_end, until=u_start)),
        (["--since", "2026-11-22", "--until", "2026-11-22T00:05:00+00:00"],
         dict(since=T0, until=T0 + 300 * 10**9)),
        (["--until", "1795305630.5"], dict(until=T0 + 305 * 10**8)),
        (["--since", "2026-11-22T00:10Z"], dict(since=T0 + 600 * 10**9)),
        (["--proto", "tcp"], dict(protos=("tcp",))),
        (["--proto", "udp", "--proto", "47"], dict(protos=("udp", "47"))),
        (["--proto", "icmp6"], dict(protos=("icmp6",))),
        (["--proto", "6"], dict(protos=("tcp",))),
        (["--proto", "1"], dict(protos=("icmp",))),
        (["--host", rows[5]["a_addr"]], dict(hosts=(rows[5]["a_addr"],))),
        (["--host", "10.1.2.3", "--host", "2001:db8:1:0:0:0:1:2"],
         dict(hosts=("10.1.2.3", "2001:db8:1::1:2"))),
        (["--port", "80"], dict(ports=(80,))),
        (["--port", "80", "--port", "53"], dict(ports=(80, 53))),
        (["--port", "0"], dict(ports=(0,))),
        (["--net", "10.1.0.0/16"], dict(nets=("10.1.0.0/16",))),
        (["--net", "10.1.2.3/16"], dict(nets=("10.1.0.0/16",))),
        (["--net", "2001:db8::/32"], dict(nets=("2001:db8::/32",))),
        (["--net", "2001:db8:2::/48", "--net", "192.168.0.0/23"],
         dict(nets=("2001:db8:2::/48", "192.168.0.0/23"))),
        (["--net", "0.0.0.0/0"], dict(nets=("0.0.0.0/0",))),
        (["--net", "::/0"], dict(nets=("::/0",))),
        (["--net", "10.1.1.0/25"], dict(nets=("10.1.1.0/25",))),
        (["--proto", "tcp", "--net", "10.0.0.0/8", "--port", "443", "--since", rfc3339(T0 + 300 * 10**9)],
         dict(protos=("tcp",), nets=("10.0.0.0/8",), ports=(443,), since=T0 + 300 * 10**9)),
        (["--host", "10.1.1.1", "--net", "192.168.0.0/16"],
         dict(hosts=("10.1.1.1",), nets=("192.168.0.0/16",))),
        (["--seq", "7"], dict(seqs=((7, 7),))),
        (["--seq", "10-19", "--seq", "40-"], dict(seqs=((10, 19), (40, 2**64 - 1)))),
        (["--seq", "0-99", "--proto", "udp"], dict(seqs=((0, 99),), protos=("udp",))),
    ]
    for args, rule in cases:
        want = [int(r["seq"]) for r in rows if matches(r, **rule)]
        rc, out, err = t.run("-H", *args, d)
        got = seqs(out)
        check(rc == 0 and err == "", "%s: exit 0, quiet (%d %r)" % (args, rc, err))
        check(got == want, "%s: %d records, expected %d (first differences %s)" %
              (args, len(got), len(want), sorted(set(got) ^ set(want))[:5]))
        check(0 < len(want) < len(rows) or args[:2] in (["--net", "0.0.0.0/0"], ["--net", "::/0"]),
              "%s: the case selects some records but not all (%d)" % (args, len(want)))
    # the bounds are exact: the record ending at --since and the one starting at --until
    rc, out, _ = t.run("-H", "--since", rfc3339(s_end), "--until", rfc3339(s_end + 1), d)
    check(100 in seqs(out), "--since equal to end_ns matches")
    rc, out, _ = t.run("-H", "--until", rfc3339(u_start), d)
    check(200 not in seqs(out), "--until equal to start_ns does not match")
    rc, out, _ = t.run("-H", "--until", rfc3339(u_start + 1), d)
    check(200 in seqs(out), "--until one ns after start_ns matches")
    # JSON: the same records
    rc, out, _ = t.run("--format", "json", "--proto", "udp", d)
    want = [int(r["seq"]) for r in rows if r["proto"] == "udp"]
    check([json.loads(l)["seq"] for l in out.splitlines()] == want, "JSON with --proto udp")
    # --check sees everything whatever the filters
    rc, out, _ = t.run("--check", "--proto", "udp", d)
    check(rc == 0 and "records=%d " % len(rows) in out, "--check ignores the filters: %r" % out)
    # the header stays when nothing matches
    rc, out, _ = t.run("--host", "203.0.113.9", d)
    check(rc == 0 and out == rlib.CSV_HEADER + "\n", "no match: header only")


def case_errors(t, d):
    bad = [
        (["--since", "yesterday"], "--since 'yesterday': not a time: give RFC 3339"),
        (["--until", "2026-02-30T00:00:00Z"],
         "--until '2026-02-30T00:00:00Z': day 30 out of range for 2026-02"),
        (["--since", "2026-11-22T07:40:00"],
         "--since '2026-11-22T07:40:00': no time zone: add Z (UTC) or an offset such as +01:00"),
        (["--since", "2026-11-22T25:00:00Z"], "--since '2026-11-22T25:00:00Z': hour 25 out of range"),
        (["--since", "2026-11-22T07:40:00+1:00"], "bad time zone offset '+1:00'"),
        (["--since", "1.1234567891"], "--since '1.1234567891': more than 9 decimals"),
        (["--since", "1969-12-31T23:59:59Z"], "before 1970-01-01T00:00:00Z"),
        (["--since", "99999999999999"], "--since '99999999999999': too far in the future"),
        (["--since", "1", "--since", "2"], "--since '2': given twice"),
        (["--proto", "foo"], "--proto 'foo': not a protocol (tcp, udp, icmp, icmp6, or a number 0-255)"),
        (["--proto", "256"], "--proto '256': not a protocol"),
        (["--port", "65536"], "--port '65536': not a port number 0-65535"),
        (["--port", "-1"], "--port '-1': not a port number 0-65535"),
        (["--port", "8o"], "--port '8o': not a port number 0-65535"),
        (["--seq", "5-2"], "--seq '5-2': the range ends before it starts"),
        (["--seq", "x"], "--seq 'x': not a record seq N, a range N-M, or N- (from N on)"),
        (["--seq", "1-2-3"], "--seq '1-2-3': not a record seq N"),
        (["--host", "10.0.0.256"], "--host '10.0.0.256': not an IPv4 or IPv6 address"),
        (["--net", "10.0.0.0"], "--net '10.0.0.0': not a network: give ADDRESS/PREFIX-LENGTH"),
        (["--net", "10.0.0.0/33"], "--net '10.0.0.0/33': prefix length '33' is not a number 0-32"),
        (["--net", "fe80::/129"], "prefix length '129' is not a number 0-128"),
        (["--net", "foo/8"], "--net 'foo/8': 'foo' is not an IPv4 or IPv6 address"),
        (["--since", "2026-11-22T00:00:01Z", "--until", "2026-11-22T00:00:01Z"],
         "--since 2026-11-22T00:00:01.000000000Z is not before --until "
         "2026-11-22T00:00:01.000000000Z: no record can match"),
        (["--top", "0", "--summary"], "--top '0': not a number 1-1000000"),
        (["--top", "3"], "--top needs --summary (see --help)"),
        (["--stitch-gap", "-1", "--stitch"], "--stitch-gap '-1': not a number of seconds"),
        (["--stitch-gap", "5"], "--stitch-gap needs --stitch (see --help)"),
        (["--summary", "--check"], "--summary and --check exclude each other"),
        (["--summary", "--stats"], "--summary and --stats exclude each other"),
        (["--follow", "--stitch"], "--follow cannot be combined with --stitch"),
        (["--follow", "--summary"], "--follow cannot be combined with --summary"),
        (["--follow", "--check"], "--follow cannot be combined with --check"),
        (["--follow", d], "--follow reads one DIR (see --help)"),
    ]
    for args, msg in bad:
        rc, out, err = t.run(*args, d)
        check(rc == 1 and out == "", "%s: exit 1 and no output (%d)" % (args, rc))
        check(err.startswith("wiretally-read: ") and msg in err and err.count("\n") == 1,
              "%s: one line naming it: %r" % (args, err))
    f = os.path.join(d, "seg-%020d.wts" % 1)
    rc, out, err = t.run("--follow", f)
    check(rc == 1 and err == "wiretally-read: %s: follow mode needs a directory\n" % f,
          "--follow FILE: %r" % err)


# ---- summary ---------------------------------------------------------------

def expected_summary(recs, top):
    """The summary text computed from CSV records (docs/READER.md, "Summary")."""
    def n(v):
        return int(v) if v else 0

    def tot(rs):
        v2 = [r for r in rs if r["proto"] == "tcp" and r["a_seq_bytes"] != ""]
        tcp_bytes = sum(int(r["a_bytes"]) + int(r["b_bytes"]) for r in v2)
        retx = sum(n(r["a_retx_bytes"]) + n(r["b_retx_bytes"]) for r in v2)
        tcp = any(r["proto"] == "tcp" for r in rs)
        return (len(rs), sum(int(r["a_pkts"]) + int(r["b_pkts"]) for r in rs),
                sum(int(r["a_bytes"]) + int(r["b_bytes"]) for r in rs),
                sum(int(r["a_ip_bytes"]) + int(r["b_ip_bytes"]) for r in rs),
                sum(n(r["a_acked_bytes"]) + n(r["b_acked_bytes"]) for r in v2) if tcp else "-",
                retx if tcp else "-", "%.2f" % (100.0 * retx / tcp_bytes) if tcp_bytes else "-")
    pnum = {"icmp": 1, "tcp": 6, "udp": 17, "icmp6": 58}
    protos = sorted({r["proto"] for r in recs}, key=lambda p: pnum[p] if p in pnum else int(p))
    talkers = {}
    for r in recs:
        for side, other in (("a", "b"), ("b", "a")):
            ip = ipaddress.ip_address(r[side + "_addr"])
            t = talkers.setdefault(ip, [0, 0, 0, 0, 0, 0, 0])
            t[0] += int(r[side + "_bytes"])
            t[1] += int(r[other + "_bytes"])
            t[2] += int(r["a_pkts"]) + int(r["b_pkts"])
            if r["proto"] == "tcp" and r["a_seq_bytes"] != "":
                t[4] += int(r[side + "_bytes"])
                t[5] += n(r[side + "_acked_bytes"])
                t[6] += n(r[side + "_retx_bytes"])
        ips = {ipaddress.ip_address(r["a_addr"]), ipaddress.ip_address(r["b_addr"])}
        for ip in ips:
            talkers[ip][3] += 1
    ranked = sorted(talkers.items(),
                    key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0].version, kv[0].packed))
    return dict(records=len(recs),
                span=(min(int(r["start_ns"]) for r in recs), max(int(r["end_ns"]) for r in recs))
                if recs else None,
                protos=[(p,) + tot([r for r in recs if r["proto"] == p]) for p in protos],
                total=tot(recs),
                reasons=[(w, sum(r["end_reason"] == w for r in recs))
                         for w in ("idle", "active", "evicted", "shutdown")],
                ntalkers=len(ranked),
                talkers=[(i + 1, str(ip), v[0] + v[1], v[0], v[1], v[5], v[6],
                          "%.2f" % (100.0 * v[6] / v[4]) if v[4] else "-", v[2], v[3])
                         for i, (ip, v) in enumerate(ranked[:top])])


def parse_summary(text):
    """The reader's summary text back into numbers."""
    lines = text.splitlines()
    s = dict(protos=[], reasons=[], talkers=[], span=None)
    section = None
    for l in lines:
        if l.startswith("records: "):
            s["records"] = int(l.split()[1])
        elif l.startswith("time span: "):
            m = re.match(r"time span: (\S+) \.\. (\S+) \(", l)
            s["span"] = (m.group(1), m.group(2))
        elif l.startswith("per protocol:"):
            section = "p"
        elif l.startswith("per end_reason:"):
            section = "r"
        elif l.startswith("top "):
            m = re.match(r"top (\d+) talkers of (\d+), by payload bytes sent \+ received:", l)
            s["shown"], s["ntalkers"] = int(m.group(1)), int(m.group(2))
            section = "t"
        elif l.strip() == "" or l.split()[0] in ("proto", "rank"):
            continue
        elif section == "p":
            f = l.split()
            row = (f[0],) + tuple(int(x) for x in f[1:5]) + tuple(
                int(x) if x.isdigit() else x for x in f[5:7]) + (f[7],)
            if f[0] == "total":
                s["total"] = row[1:]
            else:
                s["protos"].append(row)
        elif section == "r":
            s["reasons"].append((l.split()[0], int(l.split()[1])))
        elif section == "t":
            f = l.split()
            s["talkers"].append((int(f[0]), f[1]) + tuple(int(x) for x in f[2:7]) + (f[7],) +
                                tuple(int(x) for x in f[8:]))
    return s


def rfc_utc(ns):
    return datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S") + ".%09dZ" % (ns % 10**9)


def case_summary(t, d, rows):
    for args, top in (([], 10), (["--top", "3"], 3), (["--proto", "tcp", "--top", "25"], 25),
                      (["--net", "2001:db8::/32", "--since", "2026-11-22T00:10:00Z"], 10),
                      (["--host", "203.0.113.9"], 10)):
        filters = [a for i, a in enumerate(args) if not (a == "--top" or (i and args[i - 1] == "--top"))]
        rc, csv_out, _ = t.run(*filters, d)
        recs = rlib.parse_csv(csv_out)
        rc, out, err = t.run("--summary", *args, d)
        check(rc == 0 and err == "", "--summary %s: exit 0, quiet: %d %r" % (args, rc, err))
        got, want = parse_summary(out), expected_summary(recs, top)
        check(got["records"] == want["records"], "%s: records %s vs %s" %
              (args, got["records"], want["records"]))
        if want["span"]:
            check(got["span"] == (rfc_utc(want["span"][0]), rfc_utc(want["span"][1])),
                  "%s: time span %s vs %s" % (args, got["span"], want["span"]))
        else:
            check(got["span"] is None, "%s: no time span without records" % args)
        check(got["protos"] == want["protos"], "%s: per protocol %s vs %s" %
              (args, got["protos"], want["protos"]))
        check(got.get("total") == want["total"], "%s: totals %s vs %s" %
              (args, got.get("total"), want["total"]))
        check(got["reasons"] == want["reasons"], "%s: end reasons %s vs %s" %
              (args, got["reasons"], want["reasons"]))
        check(got["ntalkers"] == want["ntalkers"] and got["talkers"] == want["talkers"],
              "%s: talkers\n%s\nvs\n%s" % (args, got["talkers"], want["talkers"]))
        check(got["shown"] == min(top, want["ntalkers"]), "%s: shown talkers" % args)
    check(len(expected_summary(rows, 10)["protos"]) == 5, "the log has 5 protocols")


def case_damage(t, tmp, rows):
    """A truncated middle segment: the good records before the cut and in the
    other segments are printed, the problem names the file and offset, exit 2."""
    d = os.path.join(tmp, "trunc")
    t.write(d, rows[:800])  # 209 per 64 KiB segment: segments 1 to 4
    seg2 = os.path.join(d, "seg-%020d.wts" % 2)
    cut = 256 + 100 * 312 + 50  # inside the frame of the 101st record of segment 2
    os.truncate(seg2, cut)
    rc, out, err = t.run("-H", d)
    want = list(range(209)) + list(range(209, 309)) + list(range(418, 800))
    check(rc == 2, "truncated segment: exit 2 (got %d)" % rc)
    check(seqs(out) == want, "truncated segment: every good record printed (%d)" % len(seqs(out)))
    lines = err.splitlines()
    check(("wiretally-read: %s: offset 0: header says segment size 65536 but the file has %d "
           "bytes" % (seg2, cut)) in lines, "truncation named with file and offset: %r" % err)
    check(("wiretally-read: %s: offset %d: segment truncated: the file ends at byte %d, inside "
           "the frame of 312 bytes at offset %d; rest of segment lost"
           % (seg2, 256 + 100 * 312, cut, 256 + 100 * 312)) in lines,
          "where reading stopped, with its offset: %r" % err)
    check(("wiretally-read: %s: offset 256: seq gap: expected 309, found 418 (109 records "
           "missing)" % os.path.join(d, "seg-%020d.wts" % 3)) in lines, "the gap: %r" % err)
    # a segment cut inside its header
    os.truncate(seg2, 100)
    rc, out, err = t.run("-H", d)
    check(rc == 2 and seqs(out) == list(range(209)) + list(range(418, 800)),
          "segment cut in its header: exit 2, the others printed")
    check("wiretally-read: %s: offset 0: file too short for a segment (100 bytes)" % seg2 in err,
          "header cut: %r" % err)


def all_cases(t, tmp):
    rows = make_rows(900)
    d = os.path.join(tmp, "log")
    t.write(d, rows)
    rc, out, _ = t.run(d)
    check(rc == 0 and rlib.parse_csv(out) == rows, "the log holds the rows as given")
    case_filters(t, d, rows)
    case_errors(t, d)
    case_summary(t, d, rows)
    case_damage(t, tmp, rows)


if __name__ == "__main__":
    sys.exit(rlib.run_tests("wt-select-", all_cases, check))
